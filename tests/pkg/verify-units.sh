#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# verify-units.sh: the systemd units (deploy/systemd/*.service.in) pass
# 'systemd-analyze verify' and say what issue 18 asks of them: Type=notify,
# a watchdog, ordering after network-online.target, and for control an
# ExecReload that sends SIGHUP (its drain). The templates are filled in
# with a temporary directory holding the built binaries and hugepages.sh,
# so the check needs no installation.
#
# Usage: tests/pkg/verify-units.sh SRC_DIR BUILD_DIR
set -euo pipefail

src=${1:?usage: verify-units.sh SRC_DIR BUILD_DIR}
build=${2:?usage: verify-units.sh SRC_DIR BUILD_DIR}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/etc/default" "$tmp/units"
ln -s "$build/dataplane/rtpbypass-dataplane" "$build/control/rtpbypass-control" \
	"$src/deploy/hugepages.sh" "$tmp/bin/"
fill() {
	sed -e "s#@BINDIR@#$tmp/bin#g" -e "s#@LIBEXECDIR@#$tmp/bin#g" \
		-e "s#@SYSCONFDIR@#$tmp/etc#g" -e "s#@BPFDIR@#$build/bpf#g" "$1"
}
fill "$src/deploy/systemd/rtpbypass-dataplane.env.in" >"$tmp/etc/default/rtpbypass-dataplane"
cp "$src/deploy/systemd/rtpbypass-control.env" "$tmp/etc/default/rtpbypass-control"
for u in rtpbypass-dataplane rtpbypass-control; do
	fill "$src/deploy/systemd/$u.service.in" >"$tmp/units/$u.service"
done

fail=0
if ! out=$(systemd-analyze verify "$tmp/units/"*.service 2>&1) || [ -n "$out" ]; then
	echo "FAIL systemd-analyze verify:"
	echo "$out"
	fail=1
else
	echo "ok   systemd-analyze verify: no complaint"
fi
# What the units must say (one grep per line of issue 18 item 4).
want() { # unit, regex, what
	if grep -Eq "$2" "$tmp/units/$1.service"; then
		echo "ok   $1: $3"
	else
		echo "FAIL $1: $3 (no line matching '$2')"
		fail=1
	fi
}
for u in rtpbypass-dataplane rtpbypass-control; do
	want "$u" '^Type=notify$' "Type=notify"
	want "$u" '^WatchdogSec=[0-9]+' "WatchdogSec"
	want "$u" '^After=.*network-online\.target' "After=network-online.target"
	want "$u" '^Wants=.*network-online\.target' "Wants=network-online.target"
done
want rtpbypass-control '^ExecReload=.*kill -HUP \$MAINPID' "ExecReload sends SIGHUP (drain)"
want rtpbypass-control '^CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_BPF$' \
	"capabilities bounded to CAP_SETUID CAP_SETGID CAP_BPF"
grep -q -- '-u rtpbypass:rtpbypass' "$tmp/etc/default/rtpbypass-control" &&
	grep -q -- '--shm-group rtpbypass' "$tmp/etc/default/rtpbypass-dataplane" &&
	echo "ok   example env files: control -u rtpbypass:rtpbypass, dataplane --shm-group rtpbypass" ||
	{ echo "FAIL example env files: control not unprivileged"; fail=1; }
exit $fail
