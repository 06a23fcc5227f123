#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The tests, from a fresh Debian 12 machine, as root: install what they
# need, reserve hugepages, build, run every suite (unit, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/prepare.sh
meson test -C build --print-errorlogs --num-processes 2 "$@"
