#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run.sh: build fuzz_ctl with clang (libFuzzer + ASan + UBSan + LSan) and
# run it for a bounded time; fails on any crash, leak, UB report, timeout,
# OOM or broken invariant (tests/fuzz/fuzz_ctl.c). The meson test
# 'fuzz_ctl' (suite 'fuzz') calls it; it can be run by hand the same way.
#
# Usage: tests/fuzz/run.sh BUILD_DIR [libFuzzer option ...]
#   e.g. tests/fuzz/run.sh build -max_total_time=600
#        tests/fuzz/run.sh build build/tests/fuzz/artifacts/crash-<sha1>
#        (a file or directory argument is run once: reproduce a crash;
#        with FUZZ_CTL_ECHO=1 the replies are printed too)
#        tests/fuzz/run.sh build --coverage
#        (no fuzzing: line coverage of the control sources by the seeds
#        and the corpus, with clang's source-based coverage)
# Environment: FUZZ_TIME (seconds, default 60), CC_FUZZ (default clang),
# FUZZ_CTL_STRICT_LOG=1 (also fail on a control byte in a log line).
# Needs clang and libclang-rt-14-dev (deploy/install-deps.sh), python3.
#
# The build is separate from the gcc meson build and redone every run
# (a few seconds), so it always has the current sources: the control
# sources are those meson compiles into ctl_core, the fakes those it
# links into test_ctl_cmd_parse (both read from meson's introspection,
# BUILD_DIR/meson-info/intro-targets.json), with ctl_core's -I/-D/-std.
# Everything it writes is under BUILD_DIR/tests/fuzz/: the binary, seeds/
# (regenerated from tests/data/cmd_parse.input), corpus/ (what libFuzzer
# found, kept between runs), artifacts/ (crash-*, leak-*, timeout-*,
# oom-*: each a reproducer) and fuzz_ctl.log.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [libFuzzer option ...]}" && pwd)
shift
out=$build/tests/fuzz
cc=${CC_FUZZ:-clang}
fuzz_time=${FUZZ_TIME:-60}
intro=$build/meson-info/intro-targets.json

die() {
	echo "run.sh: error: $*" >&2
	exit 1
}

command -v "$cc" >/dev/null || die "$cc not found (deploy/install-deps.sh installs clang)"
[ -f "$intro" ] || die "$intro missing: not a meson build dir?"
mkdir -p "$out/corpus" "$out/artifacts"

# Sources and flags of a meson target, from the introspection file:
#   target_info NAME sources|flags
target_info() {
	python3 - "$intro" "$1" "$2" <<'EOF'
import json, sys
intro, name, what = sys.argv[1:]
for t in json.load(open(intro)):
    if t['name'] != name:
        continue
    for ts in t['target_sources']:
        if what == 'sources':
            for s in ts['sources'] + ts.get('generated_sources', []):
                print(s)
        else:
            for p in ts['parameters']:
                if p.startswith(('-I', '-D', '-std=')):
                    print(p)
    sys.exit(0)
sys.exit('target %s not found' % name)
EOF
}

mapfile -t ctl_srcs < <(target_info ctl_core sources)
mapfile -t ctl_flags < <(target_info ctl_core flags)
# test_ctl_cmd_parse's sources but its own file: the fakes control links with
mapfile -t fakes < <(target_info test_ctl_cmd_parse sources | grep -v '/test_ctl_cmd_parse\.c$')
[ "${#ctl_srcs[@]}" -gt 0 ] || die "no sources for ctl_core in $intro"
[ "${#fakes[@]}" -gt 0 ] || die "no fakes for test_ctl_cmd_parse in $intro"

# build_fuzzer OUTPUT CFLAG...: the target, control and the fakes
build_fuzzer() {
	local exe=$1

	shift
	echo "run.sh: $cc: ${ctl_srcs[*]##*/} ${fakes[*]##*/} fuzz_ctl.c"
	"$cc" -g -fno-omit-frame-pointer "$@" -Wall -Wextra \
		"${ctl_flags[@]}" -I"$src/tests" \
		"${ctl_srcs[@]}" "${fakes[@]}" "$src/tests/fuzz/fuzz_ctl.c" \
		$(pkg-config --cflags --libs glib-2.0 libxxhash) -lm \
		-o "$exe.new" || die "build failed"
	mv -f "$exe.new" "$exe"
}

python3 "$src/tests/fuzz/gen_seeds.py" "$src/tests/data/cmd_parse.input" \
	"$out/seeds"

if [ "${1:-}" = --coverage ]; then
	build_fuzzer "$out/fuzz_ctl_cov" -O0 -fsanitize=fuzzer \
		-fprofile-instr-generate -fcoverage-mapping
	rm -f "$out"/cov-*.profraw
	LLVM_PROFILE_FILE="$out/cov-%p.profraw" "$out/fuzz_ctl_cov" -runs=0 \
		-artifact_prefix="$out/artifacts/" \
		"$out/corpus" "$out/seeds" >"$out/fuzz_ctl_cov.log" 2>&1 ||
		die "coverage run failed, see $out/fuzz_ctl_cov.log"
	llvm-profdata merge -sparse "$out"/cov-*.profraw -o "$out/cov.profdata"
	llvm-cov report "$out/fuzz_ctl_cov" -instr-profile="$out/cov.profdata" \
		"${ctl_srcs[@]}"
	echo "run.sh: per line: llvm-cov show $out/fuzz_ctl_cov" \
		"-instr-profile=$out/cov.profdata FILE.c"
	exit 0
fi

# -fno-sanitize-recover: a UB report aborts, so it is a crash to libFuzzer
build_fuzzer "$out/fuzz_ctl" -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all

# GLib 2.74's slice allocator hides leaks from LSan
export G_SLICE=always-malloc G_DEBUG=gc-friendly
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# a file or directory argument: run those inputs once (reproduce)
for a in "$@"; do
	if [ -e "$a" ]; then
		exec "$out/fuzz_ctl" -rss_limit_mb=2048 -timeout=5 "$@"
	fi
done

log=$out/fuzz_ctl.log
echo "run.sh: fuzzing for ${fuzz_time} s, log in $log"
touch "$out/.started"
set +e
"$out/fuzz_ctl" \
	-max_total_time="$fuzz_time" -timeout=5 -rss_limit_mb=2048 \
	-max_len=16384 -print_final_stats=1 \
	-dict="$src/tests/fuzz/ctl.dict" -artifact_prefix="$out/artifacts/" \
	"$@" "$out/corpus" "$out/seeds" >"$log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ] ||
	grep -aqE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant broken' "$log"; then
	# the report and its stack: from the first sign of trouble on
	sed -n '/==[0-9]*==ERROR\|runtime error:\|invariant broken\|ERROR: libFuzzer\|ALARM: working on the last Unit/,$p' \
		"$log" | head -n 150
	echo "run.sh: FAILED (exit $rc), whole log: $log; reproduce with:" >&2
	find "$out/artifacts" -type f -newer "$out/.started" |
		sed "s|^|  tests/fuzz/run.sh $build |" >&2
	exit 1
fi
# coverage at start and end, and the final stats
grep -aE 'INITED|DONE' "$log" || true
grep -aE '^stat::' "$log" || true
grep -aqE '^stat::number_of_executed_units: *[1-9]' "$log" ||
	die "no input was run"
echo "run.sh: ok"
