#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The demo, from a fresh Debian 12 machine, as root: install, build,
# hugepages, then one call through the relay (tools/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/prepare.sh
exec python3 tools/demo.py --build build "$@"
