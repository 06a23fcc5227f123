#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# install-deps.sh: install the Debian 12 packages rtpbypass needs to build,
# run and test (DPDK 22.11, libbpf 1.1, libxdp, cmocka, clang/llvm for BPF,
# meson/ninja, and the tools the e2e tests call: ip, ethtool, sysctl, modprobe).
#
# Idempotent: when every package is already installed it does nothing (no
# apt-get update, no network) and exits 0 within a second.  Otherwise it runs
# 'apt-get update' once and installs the exact list without recommends.
#
# Usage (as root):  deploy/install-deps.sh
# Exit status: 0 on success; non-zero with a message naming what failed.
set -euo pipefail

# Every name below was checked with 'apt-cache policy NAME' on Debian 12
# (bookworm); all exist there under these exact names.
PACKAGES=(
	dpdk dpdk-dev libdpdk-dev
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev libpcap-dev
	libcmocka-dev libglib2.0-dev
	clang llvm bpftool
	meson ninja-build pkg-config gcc
	iproute2 ethtool python3 procps kmod
)

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

echo "install-deps.sh: installing ${#PACKAGES[@]} packages (${#missing[@]} missing)"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"${PACKAGES[@]}" || die "apt-get install failed for: ${missing[*]}"

mapfile -t still < <(missing_packages "${PACKAGES[@]}")
if [ "${#still[@]}" -ne 0 ]; then
	die "still not installed after apt-get install: ${still[*]}"
fi
echo "install-deps.sh: done, all ${#PACKAGES[@]} packages installed"
