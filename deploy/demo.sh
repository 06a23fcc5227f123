#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The demo, from a fresh Debian 12 machine, as root: install, build,
# hugepages, then one call through the relay (tools/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
deploy/hugepages.sh 512
if [ ! -f build/build.ninja ]; then
	meson setup build
fi
meson compile -C build
exec python3 tools/demo.py --build build "$@"
