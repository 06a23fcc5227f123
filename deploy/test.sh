#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The tests, from a fresh Debian 12 machine, as root: install what they
# need, reserve hugepages, build, run every suite (unit, bpf, fuzz, e2e,
# pkg, soak).
#
# Without arguments (what CI runs) it also builds the compiled unit tests
# again with ASan and UBSan in build-asan/ and runs them there,
# test_dp_worker (two worker lcores, hugepages) included: any sanitizer
# report fails (issue 16 item 8). With arguments, they go to meson test
# on build/ and the sanitizer pass is skipped (SANITIZE=1 forces it).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/prepare.sh
rc=0
meson test -C build --print-errorlogs --num-processes 2 "$@" || rc=$?

if [ $# -eq 0 ] || [ "${SANITIZE:-0}" = 1 ]; then
	# b_lundef=false: ASan's runtime is linked into the executables only.
	# The operator binaries are not built there (meson test builds what
	# the selected tests need).
	if [ ! -f build-asan/build.ninja ]; then
		meson setup build-asan -Db_sanitize=address,undefined \
			-Db_lundef=false -Dman=disabled >/dev/null
	fi
	# halt_on_error: the first report aborts the test (gcc's
	# -fsanitize=undefined would otherwise report and go on); LeakSanitizer
	# on (test_dp_worker ends with rte_eal_cleanup()).
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1 \
		meson test -C build-asan --print-errorlogs --num-processes 2 \
		--suite unit || rc=1
fi
exit $rc
