#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# install-deps.sh: install the Debian 12 packages rtpbypass needs to build,
# run and test (DPDK 22.11, libbpf 1.1, libxdp, cmocka, clang/llvm for BPF,
# meson/ninja, and the tools the e2e tests call: ip, ethtool, sysctl, modprobe,
# and Kamailio and sipp for the interop test, tests/e2e/test_kamailio.py;
# scdoc for the man pages, libsystemd-dev for sd_notify, debhelper and
# lintian for the package test (tests/pkg/), tshark for the capture test,
# libmicrohttpd-dev for control's --metrics endpoint and prometheus (its
# promtool and server) for the metrics tests), libsndfile1-dev for
# rtpb-makeann (playback prompts from WAV) and its test; libhiredis-dev
# for control's --redis session store and redis-server for its tests;
# keepalived, whose VRRP decides which relay of an HA pair is active:
# deploy/ha/, tests/e2e/test_failover.py).
#
# Kamailio's package ships a service that would start a SIP proxy on port
# 5060, Prometheus's one a server on port 9090, and redis-server's one a
# store on port 6379: when this script
# installs them, it keeps them from starting (a
# policy-rc.d for the length of the install, unless one exists) and
# disables them afterwards; the tests run their own Kamailio, Prometheus
# and redis-server.  One that was installed before is left as it is.
#
# Idempotent: when every package is already installed it does nothing (no
# apt-get update, no network) and exits 0 within a second.  Otherwise it runs
# 'apt-get update' once and installs the exact list without recommends.
#
# Usage (as root):  deploy/install-deps.sh
# Exit status: 0 on success; non-zero with a message naming what failed.
set -euo pipefail

# Every name below was checked with 'apt-cache policy NAME' on Debian 12
# (bookworm); all exist there under these exact names. libclang-rt-14-dev
# (libFuzzer and the sanitizer runtimes for tests/fuzz/) is only a
# Recommends of clang-14, which --no-install-recommends skips.
PACKAGES=(
	dpdk dpdk-dev libdpdk-dev
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev libpcap-dev
	libcmocka-dev libglib2.0-dev libxxhash-dev
	clang llvm bpftool
	libclang-rt-14-dev
	meson ninja-build pkg-config gcc
	iproute2 ethtool python3 procps kmod
	python3-matplotlib
	kamailio sip-tester
	scdoc libsystemd-dev
	debhelper lintian fakeroot dpkg-dev
	tshark
	libmicrohttpd-dev prometheus
	libsndfile1-dev
	libhiredis-dev redis-server
	keepalived
)
# Packages whose own service must not run (start, or start at boot) when
# this script installs them.
NO_SERVICE=(kamailio prometheus redis-server keepalived)

die() {
	echo "install-deps.sh: error: $*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	die "must run as root (apt-get install needs it)"
fi
command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: not a Debian system?"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: not a Debian system?"

# Print the packages of $@ that are not fully installed.
missing_packages() {
	local p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		if [ "$status" != "install ok installed" ]; then
			echo "$p"
		fi
	done
}

mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps.sh: all ${#PACKAGES[@]} packages already installed, nothing to do"
	exit 0
fi

echo "install-deps.sh: missing: ${missing[*]}"
echo "install-deps.sh: running apt-get update"
apt-get update || die "apt-get update failed"

# Services of packages about to be installed must not start: invoke-rc.d
# asks /usr/sbin/policy-rc.d, and 101 means "not allowed".  One already
# there (containers have one) is left alone; ours goes at exit.
POLICY_RC=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY_RC" ]; then
	printf '#!/bin/sh\n# rtpbypass install-deps.sh: no service starts during the install\nexit 101\n' \
		>"$POLICY_RC" || die "cannot write $POLICY_RC"
	chmod 755 "$POLICY_RC"
	trap 'rm -f "$POLICY_RC"' EXIT
fi

echo "install-deps.sh: installing ${#PACKAGES[@]} packages (${#missing[@]} missing)"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"${PACKAGES[@]}" || die "apt-get install failed for: ${missing[*]}"

# The services of what was just installed: disabled (not started at boot)
# and stopped if something started them anyway.
for svc in "${NO_SERVICE[@]}"; do
	case " ${missing[*]} " in
	*" $svc "*) ;;
	*) continue ;;
	esac
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable "$svc.service" >/dev/null 2>&1 ||
			echo "install-deps.sh: warning: systemctl disable $svc.service failed" >&2
		if [ -d /run/systemd/system ]; then
			systemctl stop "$svc.service" >/dev/null 2>&1 || true
		fi
	elif command -v update-rc.d >/dev/null 2>&1; then
		update-rc.d "$svc" disable >/dev/null 2>&1 || true
	fi
	echo "install-deps.sh: $svc's own service disabled (the tests run their own)"
done

mapfile -t still < <(missing_packages "${PACKAGES[@]}")
if [ "${#still[@]}" -ne 0 ]; then
	die "still not installed after apt-get install: ${still[*]}"
fi
echo "install-deps.sh: done, all ${#PACKAGES[@]} packages installed"
