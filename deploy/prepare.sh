#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What the demo and the tests need first, as root on Debian 12: the
# packages, 2 MB hugepages (and bpffs), and a build in build/.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
deploy/hugepages.sh 512
if [ ! -f build/build.ninja ]; then
	meson setup build
fi
meson compile -C build
