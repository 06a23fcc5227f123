#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# check-cli.sh: every operator binary answers --version with the project
# version and --help with its usage, status 0 (issue 18 item 6); the
# dataplane does both before EAL starts, on either side of "--" (no
# "EAL:" line in its output).
#
# Usage: tests/pkg/check-cli.sh BUILD_DIR VERSION
set -euo pipefail

build=${1:?usage: check-cli.sh BUILD_DIR VERSION}
version=${2:?usage: check-cli.sh BUILD_DIR VERSION}
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

for b in dataplane/rtpbypass-dataplane control/rtpbypass-control tools/rtpb-ctl \
	tools/rtpb-pfstat tools/rtpb-makeann; do
	name=$(basename "$b")
	if out=$(timeout 10 "$build/$b" --version 2>&1) && grep -q "^$name $version" <<<"$out"; then
		ok "$name --version: $out"
	else
		bad "$name --version: '$out'"
	fi
	if out=$(timeout 10 "$build/$b" --help 2>&1) && grep -qi 'usage' <<<"$out"; then
		ok "$name --help: $(wc -l <<<"$out") lines"
	else
		bad "$name --help: '$(head -3 <<<"$out")'"
	fi
done
dp=$build/dataplane/rtpbypass-dataplane
for argv in "--help" "-l 0-1 --no-pci -- --help" "-l 0-1 -- --addr 192.0.2.1/24 --version"; do
	# shellcheck disable=SC2086
	if out=$(timeout 10 "$dp" $argv 2>&1) && ! grep -q '^EAL:' <<<"$out"; then
		ok "rtpbypass-dataplane $argv: answered without EAL"
	else
		bad "rtpbypass-dataplane $argv: EAL started or failed: '$(head -3 <<<"$out")'"
	fi
done
exit $fail
