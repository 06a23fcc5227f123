#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# hugepages.sh: prepare the host for the DPDK dataplane.
#   - reserve NR 2 MB hugepages (default 512); only ever raises
#     /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages, never lowers it,
#     so pages used by other DPDK processes are never taken away;
#   - mount hugetlbfs on /dev/hugepages if it is not a mountpoint;
#   - mount bpffs on /sys/fs/bpf if it is not mounted (control pins maps there);
#   - verify at least NR pages exist in total and are free, else fail.
#
# Idempotent: running it again changes nothing.
#
# Usage (as root):  deploy/hugepages.sh [NR_2MB_PAGES]
# Exit status: 0 on success; non-zero with a message naming what failed.
set -euo pipefail

NR=${1:-512}
HP_DIR=/sys/kernel/mm/hugepages/hugepages-2048kB
HP_MNT=/dev/hugepages
BPF_MNT=/sys/fs/bpf

die() {
	echo "hugepages.sh: error: $*" >&2
	exit 1
}

case "$NR" in
'' | *[!0-9]*) die "NR_2MB_PAGES must be a non-negative integer, got '$NR'" ;;
esac
[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -d "$HP_DIR" ] || die "$HP_DIR missing: kernel without 2 MB hugepage support?"

# Is $1 a mountpoint of filesystem type $2?  (util-linux mountpoint may be
# absent, so read /proc/mounts: field 2 is the target, field 3 the type.)
is_mounted() {
	awk -v t="$1" -v f="$2" '$2 == t && $3 == f { found = 1 } END { exit !found }' \
		/proc/mounts
}

# 1. Reserve pages: raise only.
cur=$(cat "$HP_DIR/nr_hugepages")
if [ "$cur" -lt "$NR" ]; then
	echo "hugepages.sh: raising nr_hugepages $cur -> $NR"
	echo "$NR" >"$HP_DIR/nr_hugepages" ||
		die "cannot write $NR to $HP_DIR/nr_hugepages"
else
	echo "hugepages.sh: nr_hugepages is $cur (>= $NR), left as is"
fi

# 2. hugetlbfs on /dev/hugepages.
mkdir -p "$HP_MNT" || die "mkdir -p $HP_MNT failed"
if is_mounted "$HP_MNT" hugetlbfs; then
	echo "hugepages.sh: hugetlbfs already mounted on $HP_MNT"
else
	mount -t hugetlbfs -o pagesize=2M nodev "$HP_MNT" ||
		die "mount -t hugetlbfs on $HP_MNT failed"
	echo "hugepages.sh: mounted hugetlbfs on $HP_MNT"
fi

# 3. bpffs on /sys/fs/bpf.
if is_mounted "$BPF_MNT" bpf; then
	echo "hugepages.sh: bpffs already mounted on $BPF_MNT"
else
	mkdir -p "$BPF_MNT" || die "mkdir -p $BPF_MNT failed"
	mount -t bpf bpf "$BPF_MNT" || die "mount -t bpf on $BPF_MNT failed"
	echo "hugepages.sh: mounted bpffs on $BPF_MNT"
fi

# 4. Verify.  The kernel may grant fewer pages than asked when memory is
# fragmented; and pages already in use by another DPDK process are not free.
total=$(cat "$HP_DIR/nr_hugepages")
free=$(cat "$HP_DIR/free_hugepages")
if [ "$total" -lt "$NR" ]; then
	die "only $total of $NR 2 MB hugepages could be reserved (memory fragmented or too small?)"
fi
# Half of them free is enough for a test run (a dataplane takes ~100 MB);
# less means another DPDK process or leftover files hold them.
if [ "$free" -lt $((NR / 2)) ]; then
	die "only $free of $total 2 MB hugepages are free, at least $((NR / 2)) needed (in use by another process? leftover files in $HP_MNT?)"
fi
echo "hugepages.sh: ok: 2 MB hugepages total=$total free=$free (requested $NR)"
