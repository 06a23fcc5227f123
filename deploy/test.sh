#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The tests, from a fresh Debian 12 machine, as root: install what they
# need, reserve hugepages, build, run every suite (unit, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
deploy/hugepages.sh 512
if [ ! -f build/build.ninja ]; then
	meson setup build
fi
meson compile -C build
meson test -C build --print-errorlogs --num-processes 2 "$@"
