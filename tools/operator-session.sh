#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# operator-session.sh: an operator's session with the Debian package, for
# real, on a host whose PID 1 is not systemd (issue 18's closing note).
#
# It boots a Debian 12 container with systemd as its PID 1
# (systemd-nspawn --boot, on a rootfs debootstrap makes from the host's
# Debian mirror) and does in it what an operator does on a relay host:
#   - apt-get install ./rtpbypass_*.deb (built here as tests/pkg/test_deb.sh
#     builds it: dpkg-buildpackage -us -uc -b -nc on a copy of the source);
#   - edits /etc/default/rtpbypass-{dataplane,control}, systemctl start both
#     units (Type=notify: start returns once READY=1), systemctl status;
#   - Kamailio (Debian's, the package's example config) and Prometheus
#     (Debian's, scraping control's --metrics on loopback) as services;
#   - a call placed by sipp from a test namespace on the host through
#     Kamailio, its media through the relay, captured meanwhile with
#     dpdk-dumpcap; tshark finds its RTP in the pcapng;
#   - journalctl shows control's per-call quality line at the BYE, the
#     Prometheus HTTP API answers for the call's counters;
#   - systemctl reload (SIGHUP drain: a fresh control), the watchdog
#     (a stopped control is killed and restarted by systemd), systemctl
#     stop leaves no hugepage file.
# Every step prints the command as the operator types it and its output
# (trimmed), then ok/FAIL: that output is docs/OPERATOR-SESSION.md's
# transcript.
#
# The container: machine name rtpbops<PID>; its own network namespace
# (ip netns rtpbops<PID>r) holding eth1, the media NIC (net_af_xdp, relay
# address 192.0.2.1), and eth0 (Kamailio's 203.0.113.5), veths to the
# phones' namespace (rtpbops<PID>p: media 192.0.2.10 and .20, SIP
# 203.0.113.10 and .20); a private hugetlbfs and a private bpffs bound on
# its /dev/hugepages and /sys/fs/bpf, so nothing it does meets another
# DPDK process or BPF pin of this host; the capabilities the units need
# (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_IPC_LOCK, on top of nspawn's).
# The host keeps at least 256 free 2 MB hugepages (nr_hugepages only ever
# raised, as deploy/hugepages.sh does).
#
# Cache (--work, default /var/tmp/rtpb-opsession): the debootstrapped base
# (base-rootfs.tar, made once: minutes), the package build tree (pkg/).
# Each run copies the base to run-<PID>/rootfs and removes it at the end
# (--keep keeps it). Bounded: every step has a timeout, the whole session
# --timeout minutes (default 40). Cleanup stops the container (poweroff,
# then its nspawn by PID), the processes it started by PID, deletes its
# namespaces by name and unmounts its mounts.
#
# Usage (root): tools/operator-session.sh [--work DIR] [--deb FILE]
#               [--keep] [--refresh-rootfs] [--timeout MIN]
# Needs: debootstrap, systemd-container (systemd-nspawn), dpkg-dev,
# debhelper and the package's build dependencies (deploy/install-deps.sh),
# sipp and python3 on the host. DPDK runs only inside the container, under
# flock /tmp/rtpb-dpdk.lock (shared with the test suites).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=/var/tmp/rtpb-opsession
deb=
keep=
refresh=
timeout_min=40
lock=/tmp/rtpb-dpdk.lock
while [ $# -gt 0 ]; do
	case $1 in
	--work) work=$2; shift 2 ;;
	--deb) deb=$(realpath "$2"); shift 2 ;;
	--keep) keep=1; shift ;;
	--refresh-rootfs) refresh=1; shift ;;
	--timeout) timeout_min=$2; shift 2 ;;
	-h | --help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown option $1 (--help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
for t in debootstrap systemd-nspawn dpkg-buildpackage sipp python3 ip nsenter flock; do
	command -v "$t" >/dev/null || { echo "$t not found" >&2; exit 1; }
done

machine=rtpbops$$
nsr=${machine}r            # the container's network namespace
nsp=${machine}p            # the phones' (the test host's)
mkdir -p "$work"
work=$(cd "$work" && pwd)
run=$work/run-$$
root=$run/rootfs
mkdir -p "$run"
nspawn_pid=
leader=
watchdog_pid=
lock_pid=
pids=()
failed=
t_start=$(date +%s)

# ---------------------------------------------------------------------------
# Output: the transcript.

section() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
note() { printf '     %s\n' "$*"; }
fail() {
	printf 'FAIL %s\n' "$*"
	failed=1
	exit 1
}
# trim FILE N: FILE's lines, the first and last N/2 of them if longer than N
trim() {
	local n
	n=$(wc -l <"$1")
	if [ "$n" -le "$2" ]; then
		sed 's/^/  /' "$1"
	else
		head -n $(($2 / 2)) "$1" | sed 's/^/  /'
		printf '  [... %d lines ...]\n' $((n - $2 / 2 * 2))
		tail -n $(($2 / 2)) "$1" | sed 's/^/  /'
	fi
}

# in_ct CMD...: CMD in the booted container (all its namespaces, its root),
# with a clean environment as a root login would have.
in_ct() {
	nsenter -t "$leader" -a -- /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 \
		COLUMNS=160 "$@"
}
# op [-t SEC] [-k LINES] 'COMMAND': the operator types COMMAND in the
# container's root shell (bash -c, cwd /root); printed with its output
# (trimmed to LINES), which stays in $out; returns its exit status.
out=
op() {
	local t=60 k=24 rc=0
	while :; do
		case $1 in
		-t) t=$2; shift 2 ;;
		-k) k=$2; shift 2 ;;
		*) break ;;
		esac
	done
	printf 'root@%s:~# %s\n' "$machine" "$1"
	timeout -k 5 "$t" nsenter -t "$leader" -a -- /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 \
		COLUMNS=160 bash -c "cd /root && $1" >"$run/op.out" 2>&1 || rc=$?
	# dpkg's progress ('(Reading database ... 5%' and CR) as its last line
	sed -i -e 's/\r/\n/g' "$run/op.out"
	sed -i -e '/^(Reading database \.\.\. [0-9]*%*$/d' "$run/op.out"
	[ -s "$run/op.out" ] && [ "$(tail -c 1 "$run/op.out" | od -An -c | tr -d ' ')" != '\n' ] && echo >>"$run/op.out"
	[ "$k" -gt 0 ] && trim "$run/op.out" "$k"
	out=$(cat "$run/op.out")
	[ $rc -eq 0 ] || printf '  (exit status %d)\n' $rc
	return $rc
}
# show_host 'COMMAND': print a command run on the host (the phones'
# namespace) as the transcript shows it; the caller runs it.
show_host() {
	printf 'host# %s\n' "$1"
}

# ---------------------------------------------------------------------------
# Cleanup: by PID, machine name, namespace name, mount point.

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$watchdog_pid" ] && kill "$watchdog_pid" 2>/dev/null
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		# an orderly shutdown first (systemd stops the units), then nspawn
		# by PID: SIGTERM makes it send SIGRTMIN+3 (poweroff) to the
		# container's systemd; SIGKILL ends its PID namespace
		[ -n "$leader" ] && kill -0 "$leader" 2>/dev/null &&
			timeout 5 nsenter -t "$leader" -a systemctl --no-block poweroff >/dev/null 2>&1
		for _ in $(seq 1 300); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			[ "$_" -eq 200 ] && kill -TERM "$nspawn_pid" 2>/dev/null
			sleep 0.1
		done
		kill -KILL "$nspawn_pid" 2>/dev/null
		wait "$nspawn_pid" 2>/dev/null
	fi
	[ -n "$lock_pid" ] && kill "$lock_pid" 2>/dev/null
	ip netns del "$nsr" 2>/dev/null
	ip netns del "$nsp" 2>/dev/null
	if mountpoint -q "$run/hugepages"; then
		n=$(find "$run/hugepages" -type f | wc -l)
		[ "$n" -eq 0 ] || echo "cleanup: $n hugepage file(s) left in the container's hugetlbfs, removed"
		umount "$run/hugepages"
	fi
	mountpoint -q "$run/bpffs" && umount "$run/bpffs"
	if [ -n "$keep" ]; then
		echo "kept $run"
	else
		rm -rf --one-file-system "$run"
	fi
	if [ -n "$failed" ] || [ $rc -ne 0 ]; then
		echo "operator session FAILED after $(($(date +%s) - t_start)) s"
		exit 1
	fi
	echo "operator session done in $(($(date +%s) - t_start)) s"
	exit 0
}
trap cleanup EXIT
trap 'printf "FAIL line %d: %s\n" "$LINENO" "$BASH_COMMAND"; failed=1' ERR
trap 'fail "interrupted"' INT
trap 'fail "timed out (--timeout $timeout_min min)"' TERM
# the whole session is bounded
(sleep $((timeout_min * 60)) && kill -TERM $$) &
watchdog_pid=$!

# ---------------------------------------------------------------------------
section "1. the package: dpkg-buildpackage -us -uc -b -nc (tests/pkg/test_deb.sh, RTPB_DEB_BUILD_ONLY=1)"
if [ -z "$deb" ]; then
	# its copy of the source and build tree: $work/pkg
	RTPB_DEB_BUILD_ONLY=1 timeout 1800 nice -n 10 "$src/tests/pkg/test_deb.sh" "$src" "$work" ||
		fail "dpkg-buildpackage (log: $work/pkg/build.log)"
	deb=$(ls "$work"/pkg/rtpbypass_*_amd64.deb)
else
	ok "given: $deb"
fi
debname=$(basename "$deb")

# ---------------------------------------------------------------------------
section "2. a Debian 12 rootfs (debootstrap from the host's apt mirror), the tools installed in it"
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
	awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit} /^deb / && $3 ~ /\/debian\/?$/ && $4 == "bookworm" {print $3; exit}' || true)
[ -n "$mirror" ] || fail "no Debian mirror in /etc/apt/sources.list*"
base=$work/base-rootfs.tar
if [ -n "$refresh" ] || [ ! -s "$base" ]; then
	rm -rf "$work/base"
	t0=$(date +%s)
	timeout 1800 nice -n 10 debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates \
		bookworm "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log"; fail "debootstrap bookworm from $mirror"; }
	tar -C "$work/base" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$work/base"
	ok "debootstrap --variant=minbase bookworm $mirror: $(($(date +%s) - t0)) s"
else
	ok "debootstrapped base from the cache: $base ($(date -r "$base" '+%F %T'))"
fi
mkdir -p "$root"
tar -C "$root" -xpf "$base"
echo "$machine" >"$root/etc/hostname"
# the relay's dependencies (the package's Depends) and the operator's
# tools come from the mirror now, while the container can reach it (the
# host's network, not booted): the booted container has only its test
# links, so apt-get install ./rtpbypass*.deb there resolves offline.
deps=$(dpkg-deb -f "$deb" Depends Recommends | tr ',' '\n' | sed 's/[(|].*//; s/^[A-Za-z-]*: //; s/^ *//; s/ *$//' |
	grep -v '^$' | tr '\n' ' ')
pkgs="kamailio prometheus tshark sip-tester curl python3 $deps"
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
t0=$(date +%s)
# shellcheck disable=SC2086
timeout 1500 nice -n 10 systemd-nspawn -q --register=no --keep-unit -D "$root" --pipe \
	env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -q && \
	echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections && \
	apt-get install -y -q --no-install-recommends $pkgs && \
	apt-get install -y -q --no-install-recommends --download-only dpdk-dev && \
	systemctl disable kamailio.service prometheus.service" >"$run/provision.log" 2>&1 ||
	{ tail -30 "$run/provision.log"; fail "apt-get install in the rootfs"; }
ok "installed in the rootfs ($(($(date +%s) - t0)) s): kamailio prometheus tshark sip-tester curl python3, and the package's Depends/Recommends: $deps; dpdk-dev (dpdk-dumpcap) downloaded, for the operator to install"
cp "$deb" "$root/root/"

# ---------------------------------------------------------------------------
section "3. the container: systemd as PID 1, its own network namespace, hugepages, bpffs"
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
if [ "$(cat $hp/free_hugepages)" -lt 256 ]; then
	want=$(($(cat $hp/nr_hugepages) + 256 - $(cat $hp/free_hugepages)))
	echo "$want" >$hp/nr_hugepages
	note "host nr_hugepages raised to $(cat $hp/nr_hugepages)"
fi
ok "host 2 MB hugepages: total $(cat $hp/nr_hugepages), free $(cat $hp/free_hugepages)"
mkdir -p "$run/hugepages" "$run/bpffs"
mount -t hugetlbfs -o pagesize=2M nodev "$run/hugepages"
mount -t bpf bpf "$run/bpffs"

ip netns add "$nsr"
ip netns add "$nsp"
# eth1: the media NIC (AF_XDP), eth0: the kernel's, for Kamailio's SIP
ip -n "$nsr" link add eth1 type veth peer name m0 netns "$nsp"
ip -n "$nsr" link add eth0 type veth peer name s0 netns "$nsp"
ip -n "$nsr" link set lo up
ip -n "$nsr" link set eth1 up
ip -n "$nsr" addr add 203.0.113.5/24 dev eth0
ip -n "$nsr" link set eth0 up
ip netns exec "$nsr" ethtool -K eth1 tx off >/dev/null
ip netns exec "$nsp" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$nsp" ethtool -K m0 tx off >/dev/null
ip -n "$nsp" link set lo up
ip -n "$nsp" addr add 192.0.2.10/24 dev m0
ip -n "$nsp" addr add 192.0.2.20/24 dev m0
ip -n "$nsp" addr add 203.0.113.10/24 dev s0
ip -n "$nsp" addr add 203.0.113.20/24 dev s0
ip -n "$nsp" link set m0 up
ip -n "$nsp" link set s0 up
ok "namespaces $nsr (container: eth1 media NIC, eth0 203.0.113.5) and $nsp (phones: 192.0.2.10, .20 on m0; 203.0.113.10, .20 on s0)"

# DPDK runs in the container from here to its poweroff: the shared lock,
# held by a process of ours for at most the session's bound
exec 9>"$lock"
note "waiting for $lock (shared with the DPDK test suites)"
flock -w 600 9 || fail "$lock busy for 10 min"
t_lock=$(date +%s)

echo "systemd-nspawn --boot -D $root --machine $machine --network-namespace-path=/run/netns/$nsr \\"
echo "    --bind=$run/hugepages:/dev/hugepages --bind=$run/bpffs:/sys/fs/bpf \\"
echo "    --capability=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN,CAP_IPC_LOCK --system-call-filter='bpf perf_event_open'"
systemd-nspawn --boot -D "$root" --machine "$machine" --register=no --keep-unit -q \
	--network-namespace-path="/run/netns/$nsr" \
	--bind="$run/hugepages:/dev/hugepages" --bind="$run/bpffs:/sys/fs/bpf" \
	--capability=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN,CAP_IPC_LOCK \
	--system-call-filter='bpf perf_event_open' \
	--console=passive >"$run/console.log" 2>&1 9>&- &
nspawn_pid=$!
for _ in $(seq 1 300); do
	for p in $(pgrep -P "$nspawn_pid" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && leader=$p
	done
	[ -n "$leader" ] && break
	kill -0 "$nspawn_pid" 2>/dev/null || { cat "$run/console.log"; fail "systemd-nspawn exited"; }
	sleep 0.1
done
[ -n "$leader" ] || fail "no systemd in the container after 30 s"
state=
for _ in $(seq 1 120); do
	state=$(in_ct systemctl is-system-running 2>/dev/null || true)
	case $state in running | degraded) break ;; esac
	sleep 0.5
done
case $state in running | degraded) ;; *) fail "the container's systemd: '$state' after 60 s" ;; esac
ok "booted: PID 1 of $machine is systemd (host PID $leader), system $state"
op -k 6 'ps -p 1 -o pid,comm; systemd --version | head -1' || fail "ps"
if [ "$state" != running ]; then
	op 'systemctl --failed --no-legend' || true
	op -k 6 'journalctl -b -u dpdk --no-pager -o cat | tail -4' || true
fi

# ---------------------------------------------------------------------------
section "4. install the package"
op -t 120 -k 16 "apt-get install -y ./$debname" || fail "apt-get install ./$debname"
op -k 12 'dpkg -L rtpbypass | grep -E "bin/|\.service|default/|\.bpf\.o"; id rtpbypass' ||
	fail "the package's files"

section "5. configure: /etc/default (hugepages, metrics), then start both units"
# the example's NIC (eth1), relay address 192.0.2.1/24 and control socket
# are this container's; 64 pages are plenty for one worker and keep the
# unit's own check (half of them free) clear of the other DPDK users of
# this host's pool
op -k 0 "sed -i 's/^RTPB_HUGEPAGES=.*/RTPB_HUGEPAGES=64/' /etc/default/rtpbypass-dataplane" || fail sed
op -k 0 "sed -i 's|^RTPB_CTL_ARGS=.*|& --metrics 127.0.0.1:9476|' /etc/default/rtpbypass-control" || fail sed
op -k 8 'grep -h "^RTPB" /etc/default/rtpbypass-dataplane /etc/default/rtpbypass-control' || fail grep
op -k 0 'systemctl daemon-reload' || fail "daemon-reload"
t0=$(date +%s%N)
op -t 90 'systemctl start rtpbypass-dataplane rtpbypass-control' ||
	{ op -k 40 'journalctl -b --no-pager -n 40 -u rtpbypass-dataplane -u rtpbypass-control' || true
	  fail "systemctl start"; }
ms=$((($(date +%s%N) - t0) / 1000000))
op -k 0 'rtpb-ctl V' || fail "rtpb-ctl V right after systemctl start"
[ "$out" = 20040107 ] || fail "rtpb-ctl V: '$out'"
ok "systemctl start returned in $ms ms (Type=notify: after READY=1 of both); rtpb-ctl V right after: $out"
op -k 40 'systemctl status --no-pager -n 6 rtpbypass-dataplane rtpbypass-control' || fail "systemctl status"
op -k 4 'systemctl show -p Type,WatchdogUSec,NotifyAccess,ActiveState,SubState rtpbypass-dataplane rtpbypass-control' ||
	fail "systemctl show"
grep -c '^Type=notify' <<<"$out" | grep -qx 2 || fail "both units Type=notify"
grep -c '^ActiveState=active' <<<"$out" | grep -qx 2 || fail "both units active"
ok "both units active, Type=notify, WatchdogUSec=10s"
# each line once, with its priority (journalctl -p)
op -k 6 "journalctl -u rtpbypass-dataplane -o cat --no-pager | sort | uniq -c | sort -rn | head -3" || true
op -k 6 "journalctl -u rtpbypass-dataplane -p notice -o cat --no-pager | tail -3" || true

# ---------------------------------------------------------------------------
section "6. Kamailio (the package's example config) and Prometheus (scraping control's --metrics)"
op -k 0 'cp /usr/share/doc/rtpbypass/examples/kamailio/kamailio.cfg /etc/kamailio/kamailio.cfg' || fail cp
op -k 0 "sed -i 's/^#!define SIP_LISTEN .*/#!define SIP_LISTEN udp:203.0.113.5:5060/' /etc/kamailio/kamailio.cfg" ||
	fail sed
op -k 0 'mkdir -p /etc/systemd/system/kamailio.service.d && printf "[Unit]\nAfter=rtpbypass-control.service\nWants=rtpbypass-control.service\n" >/etc/systemd/system/kamailio.service.d/rtpbypass.conf' ||
	fail "drop-in"
op -k 6 'kamailio -c -f /etc/kamailio/kamailio.cfg 2>&1 | tail -2' || fail "kamailio -c"
cat >"$root/etc/prometheus/prometheus.yml" <<'YML'
# rtpbypass-control's --metrics (deploy/README.md, "Metrics")
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: rtpbypass
    static_configs:
      - targets: ["127.0.0.1:9476"]
YML
op -k 10 'cat /etc/prometheus/prometheus.yml' || fail cat
op -k 0 "sed -i 's|^ARGS=.*|ARGS=\"--web.listen-address=127.0.0.1:9090\"|' /etc/default/prometheus" || fail sed
op -k 0 'systemctl daemon-reload && systemctl start kamailio prometheus' ||
	{ op -k 30 'journalctl -b --no-pager -n 30 -u kamailio -u prometheus' || true; fail "start kamailio prometheus"; }
op -k 4 'systemctl is-active kamailio prometheus' || fail "kamailio, prometheus active"
for _ in $(seq 1 60); do
	in_ct curl -sf 'http://127.0.0.1:9090/api/v1/query?query=up' 2>/dev/null | grep -q '"value":\[[0-9.]*,"1"\]' && break
	sleep 0.5
done
op -k 4 "curl -s 'http://127.0.0.1:9090/api/v1/query?query=up'" || fail "Prometheus query"
grep -q '"value":\[[0-9.]*,"1"\]' <<<"$out" || fail "Prometheus does not see control's /metrics up"
ok "Prometheus scrapes rtpbypass-control: up = 1"
op -k 4 "journalctl -b -u kamailio --no-pager -o cat | tail -3" || true

# ---------------------------------------------------------------------------
section "7. a call: sipp (host, namespace $nsp) -> Kamailio -> sipp, media through the relay, captured"
# phones: the project's sipp scenarios and G.711 pcaps (tests/e2e/rtpb_sip.py);
# A's pcap lacks every tenth packet (seq 1009, 1019, ...) so that the
# quality line has losses to report; 250 packets of 20 ms each way
sipdir=$run/phones
mkdir -p "$sipdir"
PYTHONPATH=$src/tests/e2e python3 - "$sipdir" <<'PY' || fail "phones' scenarios"
import os, struct, sys
import rtpb_sip as sip
d = sys.argv[1]
n = 250
sip.write_rtp_pcap(os.path.join(d, 'a_full.pcap'), n, 0x0a0c0001, 1000)
sip.write_rtp_pcap(os.path.join(d, 'b.pcap'), n, 0x0a5e0002, 40000)
with open(os.path.join(d, 'a_full.pcap'), 'rb') as f:
    data = f.read()
out, off, k = [data[:24]], 24, 0
while off < len(data):
    caplen = struct.unpack_from('<I', data, off + 8)[0]
    rec = data[off:off + 16 + caplen]
    if k % 10 != 9:
        out.append(rec)
    off += 16 + caplen
    k += 1
with open(os.path.join(d, 'a.pcap'), 'wb') as f:
    f.write(b''.join(out))
hold = n * sip.PTIME_MS + 1500
open(os.path.join(d, 'uac.xml'), 'w').write(sip.uac_scenario(os.path.join(d, 'a.pcap'), hold))
open(os.path.join(d, 'uas.xml'), 'w').write(sip.uas_scenario(os.path.join(d, 'b.pcap')))
PY
op -t 240 -k 6 'apt-get install -y --no-install-recommends dpdk-dev' || fail "apt-get install dpdk-dev"
# dpdk-dev brings every DPDK driver into EAL's PMD directory; dpdk-dumpcap
# loads them all, the running dataplane loaded the three it had: a
# secondary process must see the primary's tail queues ('EAL: Cannot
# initialize tailq: RTE_REORDER'), so the dataplane is restarted (control
# stays, re-attaches and replays its sessions; deploy/README.md, "Capturing a call")
op -t 90 -k 0 'systemctl restart rtpbypass-dataplane' || fail "systemctl restart rtpbypass-dataplane"
for _ in $(seq 1 40); do
	[ "$(in_ct journalctl -u rtpbypass-control -o cat --no-pager | grep -c "dataplane 'rtpbypass' attached")" -ge 2 ] && break
	sleep 0.25
done
op -k 4 "journalctl -u rtpbypass-control -o cat --no-pager | grep -E 'dataplane.*(attached|gone|restarted|lost)' | tail -3" ||
	fail "control did not re-attach to the restarted dataplane"
# the capture, in the container, as an operator runs it in a second
# shell: stopped after the call (SIGTERM; Ctrl-C in a terminal; a
# background job of a script ignores SIGINT), bounded anyway
printf 'root@%s:~# %s\n' "$machine" "dpdk-dumpcap --file-prefix rtpbypass -i net_af_xdp0 -a duration:120 -w /root/call.pcapng &"
in_ct bash -c 'cd /root && stdbuf -oL dpdk-dumpcap --file-prefix rtpbypass -i net_af_xdp0 -a duration:120 -w /root/call.pcapng &
	echo $! >/run/dumpcap.pid; wait' >"$run/dumpcap.log" 2>&1 &
dump_pid=$!
pids+=("$dump_pid")
for _ in $(seq 1 50); do
	grep -q 'Capturing on' "$run/dumpcap.log" && break
	sleep 0.2
done
grep -q 'Capturing on' "$run/dumpcap.log" || { cat "$run/dumpcap.log"; fail "dpdk-dumpcap does not capture"; }
sipp_common="-nostdin -timeout 40s -timeout_error -m 1 -trace_err"
show_host "ip netns exec $nsp sipp -sf uas.xml -i 203.0.113.20 -mi 192.0.2.20 -mp 26000 $sipp_common &"
(cd "$sipdir" && exec ip netns exec "$nsp" sipp -sf uas.xml -i 203.0.113.20 -mi 192.0.2.20 -mp 26000 \
	$sipp_common -error_file uas_err.log >uas.log 2>&1) &
uas_pid=$!
pids+=("$uas_pid")
sleep 1
show_host "ip netns exec $nsp sipp -sf uac.xml -i 203.0.113.10 -mi 192.0.2.10 -mp 16000 -rsa 203.0.113.5:5060 -s rtpb 203.0.113.20:5060 $sipp_common"
t0=$(date +%s)
rc=0
(cd "$sipdir" && timeout 60 ip netns exec "$nsp" sipp -sf uac.xml -i 203.0.113.10 -mi 192.0.2.10 -mp 16000 \
	-rsa 203.0.113.5:5060 -s rtpb 203.0.113.20:5060 $sipp_common -error_file uac_err.log >uac.log 2>&1) || rc=$?
rc_uas=0
timeout 20 tail --pid="$uas_pid" -f /dev/null || true
wait "$uas_pid" || rc_uas=$?
[ $rc -eq 0 ] && [ $rc_uas -eq 0 ] ||
	{ tail -5 "$sipdir"/*err.log 2>/dev/null; op -k 30 'journalctl -b --no-pager -n 30 -u kamailio' || true
	  fail "sipp: UAC exit $rc, UAS exit $rc_uas"; }
ok "sipp: 1 call placed and answered through Kamailio (UAC and UAS exit 0), $(($(date +%s) - t0)) s"
sleep 1
op -k 0 'kill $(cat /run/dumpcap.pid)   # or Ctrl-C in its shell' || true
timeout 10 tail --pid="$dump_pid" -f /dev/null || true
wait "$dump_pid" || true
grep -q 'Packets captured' "$run/dumpcap.log" || { tail -5 "$run/dumpcap.log"; fail "dpdk-dumpcap"; }
grep -vE '^Packets captured' "$run/dumpcap.log" | sed 's/^/  /'

# ---------------------------------------------------------------------------
section "8. the call's quality in the journal"
op -k 10 "journalctl -u kamailio --no-pager -o cat | grep -E 'media anchored|rtpstat'" ||
	fail "Kamailio's log of the call"
op -k 10 "journalctl -u rtpbypass-control -p info --no-pager -o short-iso | grep -E 'quality:'" ||
	fail "no quality line in control's journal"
q=$out
# Kamailio's $rtpstat is a Q: ttl, packets from A, from B, relayed, dropped
q_relayed=$(grep -o 'reply=\[[0-9]* [0-9]* [0-9]* [0-9]*' <<<"$(in_ct journalctl -u kamailio -o cat --no-pager)" |
	tail -1 | awk '{print $4}')
# A sent 225 of seq 1000..1249 (not 1009, 1019, ..., 1249): 24 lost below
# its highest (RFC 3550 A.3), more if the host dropped some; B sent 250
# leg0's port is U's reply, given to the callee: it receives B's stream;
# leg1's (L's reply, given to the caller) A's
la=$(grep -Eo 'leg1: pkts=[0-9]+ lost=[0-9]+' <<<"$q" | head -1)
lb=$(grep -Eo 'leg0: pkts=[0-9]+ lost=[0-9]+' <<<"$q" | head -1)
[ -n "$la" ] && awk -F'[= ]' '{exit !($3 <= 225 && $3 > 0 && $5 >= 24)}' <<<"$la" ||
	fail "the quality line does not show phone A's stream with 24 or more lost: '$la'"
[ -n "$lb" ] && [ "$(awk -F'[= ]' '{print $3}' <<<"$lb")" -gt 0 ] || fail "the quality line shows no packet of phone B"
ok "control's quality line at the BYE: phone A's stream ($la; its pcap lacks every tenth: 24), phone B's ($lb; 250 sent)"
case $lb in *" lost=0") ;; *) note "phone B's stream lost packets before the relay: this host was busy (the worker and the phones share 2 CPUs)" ;; esac
op -k 6 "journalctl -u rtpbypass-control -p warning --no-pager -o cat | tail -5" || true

# ---------------------------------------------------------------------------
section "9. the call in Prometheus"
sleep 2
op -k 4 "curl -s 'http://127.0.0.1:9090/api/v1/query?query=rtpbypass_sessions_completed_total'" ||
	fail "Prometheus query"
grep -q '"value":\[[0-9.]*,"1"\]' <<<"$out" || fail "Prometheus: rtpbypass_sessions_completed_total is not 1"
op -k 4 "curl -s 'http://127.0.0.1:9090/api/v1/query?query=rtpbypass_relayed_packets_total'" ||
	fail "Prometheus query"
relayed=$(grep -o '"value":\[[0-9.]*,"[0-9]*"\]' <<<"$out" | sed 's/.*,"\([0-9]*\)"\]/\1/')
[ -n "$relayed" ] && [ "$relayed" = "$q_relayed" ] ||
	fail "Prometheus: relayed packets '$relayed', the call's Q (Kamailio's \$rtpstat) '$q_relayed'"
op -k 4 "curl -s 'http://127.0.0.1:9090/api/v1/query?query=rtpbypass_call_loss_ratio_count'" ||
	fail "Prometheus query"
ok "Prometheus answers: 1 session completed, $relayed packets relayed (the call's Q at the BYE: $q_relayed)"

# ---------------------------------------------------------------------------
section "10. the capture: tshark finds the call's RTP in the pcapng"
op -k 6 'ls -l /root/call.pcapng && capinfos -c /root/call.pcapng' || fail "no capture file"
op -k 12 "tshark -r /root/call.pcapng -d udp.port==35000-65000,rtp -q -z rtp,streams" ||
	fail "tshark"
n=$(in_ct tshark -r /root/call.pcapng -d 'udp.port==35000-65000,rtp' -Y 'rtp.ssrc == 0x0a0c0001 || rtp.ssrc == 0x0a5e0002' 2>/dev/null | wc -l)
# each relayed RTP packet crosses the port twice (in, then out)
[ "$n" -ge $((2 * relayed * 9 / 10)) ] || fail "tshark found $n RTP frames of the call ($relayed relayed)"
ok "tshark: $n RTP frames of the call's two SSRCs (in and out of the relay)"

# ---------------------------------------------------------------------------
# new_control OLD_PID TRIES: the MainPID of an active rtpbypass-control
# other than OLD_PID, polled TRIES times 0.25 s apart (OLD_PID if none)
new_control() {
	local p st
	for _ in $(seq 1 "$2"); do
		p=$(in_ct systemctl show -p MainPID --value rtpbypass-control)
		st=$(in_ct systemctl is-active rtpbypass-control || true)
		if [ "$st" = active ] && [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$1" ]; then
			echo "$p"
			return
		fi
		sleep 0.25
	done
	echo "$1"
}

section "11. systemctl reload (SIGHUP: drain the calls in progress, then a fresh control), the watchdog"
op -k 2 'systemctl show -p MainPID --value rtpbypass-control' || fail show
pid0=$out
op -k 2 'rtpb-ctl U drain-demo 192.0.2.10 4000 fa   # a call in progress' || fail "U"
op -k 0 'systemctl reload rtpbypass-control' || fail "systemctl reload"
op -k 4 'systemctl show -p ActiveState,MainPID,StatusText rtpbypass-control' || fail show
grep -q 'StatusText=draining' <<<"$out" || fail "control is not draining after reload"
op -k 2 'rtpb-ctl U new-call 192.0.2.10 4002 fb; true   # a new call: refused' || true
grep -q 'E99' <<<"$out" || fail "a new call during the drain: '$out', not E99"
op -k 2 'rtpb-ctl D drain-demo fa   # its BYE' || fail "D"
pid1=$(new_control "$pid0" 40)
op -k 8 "journalctl -u rtpbypass-control --no-pager -o short-iso | grep -E 'drain|SIGHUP|Reload|Started|exit|Scheduled' | tail -6" || true
[ "$pid1" != "$pid0" ] || fail "after reload: no new control (MainPID $pid0)"
op -k 0 'rtpb-ctl V' || fail "rtpb-ctl V after reload"
ok "reload: control $pid0 drained (E99 to a new call), exited at the last call's D; systemd started control $pid1 (active, answers V)"
op -k 0 "kill -STOP $pid1" || fail "kill -STOP"
note "control stopped (SIGSTOP): its loop no longer sends WATCHDOG=1; WatchdogSec=10"
pid2=$(new_control "$pid1" 100)
op -k 8 "journalctl -u rtpbypass-control --no-pager -o short-iso | grep -iE 'watchdog|Scheduled restart|Started' | tail -4" ||
	fail "no watchdog line in the journal"
grep -qi 'watchdog timeout' <<<"$out" || fail "systemd did not report a watchdog timeout"
[ "$pid2" != "$pid1" ] || fail "after the watchdog: no new control (MainPID $pid1)"
ok "watchdog: systemd killed the hung control $pid1 and started $pid2"

# ---------------------------------------------------------------------------
section "12. systemctl stop: nothing left in /dev/hugepages"
op -k 4 'ls /dev/hugepages | wc -l' || fail ls
op -t 60 -k 0 'systemctl stop rtpbypass-control rtpbypass-dataplane' || fail "systemctl stop"
op -k 8 "journalctl -u rtpbypass-dataplane --no-pager -o cat | tail -4" || true
op -k 4 'ls -A /dev/hugepages | wc -l; systemctl is-active rtpbypass-dataplane rtpbypass-control' || true
left=$(find "$run/hugepages" -type f | wc -l)
[ "$left" -eq 0 ] || fail "$left hugepage file(s) left after systemctl stop"
ok "systemctl stop: both inactive, 0 hugepage files left"

section "13. poweroff"
op -k 0 'systemctl --no-block poweroff' || true
for _ in $(seq 1 300); do
	kill -0 "$nspawn_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$nspawn_pid" 2>/dev/null && fail "the container did not power off in 30 s"
wait "$nspawn_pid" || true
nspawn_pid=
flock -u 9
ok "container powered off (DPDK lock held $(($(date +%s) - t_lock)) s)"
