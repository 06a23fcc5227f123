#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_readme.sh: README's "Running it by hand" commands work when pasted
# (issue 18 item 6). The block that starts the dataplane and control, from
# its "rtpbypass-dataplane" line to "rtpb-ctl G", is taken from README.md
# and run as written by bash, where the README puts an operator:
#   - the files where 'meson install' puts them: this build installed to a
#     temporary DESTDIR whose usr/local is bind-mounted on /usr/local;
#   - a media NIC named eth1: a veth in a namespace of the test, whose peer
#     holds two phones, 192.0.2.10 and 192.0.2.11;
#   - hugetlbfs, bpffs, /run: private mounts of a mount namespace of the
#     test, so DPDK's default prefix 'rtpbypass', the prefilter's pins and
#     /var/run/rtpproxy.sock meet no other relay on this host.
# Then asserts: rtpb-ctl V answers 20040107 and a bare G lists every
# counter; a call set up with U and L relays 50 RTP packets from each
# phone to the other through the relay addresses and ports the replies
# gave; eth1 is all-multicast (IPv6 relay address); dpdk-dumpcap, run
# against the dataplane as deploy/README shows, captures the call's RTP
# (tshark finds its packets in the pcapng).
#
# With a third argument, a Debian package (tests/pkg/test_deb.sh passes
# the one it built), the files are the package's instead: it is installed
# with dpkg -i (and purged afterwards unless it was installed before),
# and the block's /usr/local/lib/rtpbypass is read as the package's
# /usr/lib/rtpbypass, its commands from /usr/bin.
#
# Usage: tests/pkg/test_readme.sh SRC_DIR BUILD_DIR [PACKAGE.deb]
set -euo pipefail

src=$(cd "${1:?usage: test_readme.sh SRC_DIR BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: test_readme.sh SRC_DIR BUILD_DIR}" && pwd)
tag=rtpbrd$$
nsr=${tag}r
nsp=${tag}p
deb=${3:-}
tmp=$(mktemp -d)
inner_pid=
deb_installed=
bindir=/usr/local/bin

fail() {
	echo "FAIL $*"
	if [ -f "$tmp/inner.log" ]; then
		echo "--- relay's shell (dataplane, control):"
		tail -40 "$tmp/inner.log"
	fi
	exit 1
}
cleanup() {
	set +e
	if [ -n "$inner_pid" ] && kill -0 "$inner_pid" 2>/dev/null; then
		touch "$tmp/stop"
		for _ in $(seq 1 100); do
			kill -0 "$inner_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$inner_pid" 2>/dev/null
	fi
	ip netns del "$nsr" 2>/dev/null
	ip netns del "$nsp" 2>/dev/null
	[ -n "$deb_installed" ] && dpkg -P rtpbypass >/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

# README's block, continuation lines joined as bash would read them
awk '/^## Running it by hand/{s=1; next} s && /^## /{exit} s' "$src/README.md" |
	sed -n '/^    rtpbypass-dataplane /,/^    rtpb-ctl G$/p' | sed 's/^    //' >"$tmp/readme.sh"
grep -q '^rtpbypass-control ' "$tmp/readme.sh" || fail "no control command in README's block"
echo "README's commands:"
sed 's/^/  | /' "$tmp/readme.sh"

if [ -z "$deb" ]; then
	DESTDIR=$tmp/inst meson install -C "$build" --no-rebuild --quiet >/dev/null ||
		fail "meson install --destdir"
	[ -d "$tmp/inst/usr/local/bin" ] || fail "the build's prefix is not /usr/local"
	bind_local="mount --bind $tmp/inst/usr/local /usr/local"
else
	if ! dpkg-query -W -f='${Status}' rtpbypass 2>/dev/null | grep -q 'ok installed'; then
		deb_installed=1
	fi
	dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i $deb"; }
	getent passwd rtpbypass >/dev/null || fail "the package created no rtpbypass user"
	echo "ok   dpkg -i $(basename "$deb") (system user rtpbypass for control's -u)"
	sed -i 's#/usr/local/lib/rtpbypass/#/usr/lib/rtpbypass/#g' "$tmp/readme.sh"
	bindir=/usr/bin
	bind_local=:
fi

ip netns add "$nsr"
ip netns add "$nsp"
ip -n "$nsr" link add eth1 type veth peer name eth0 netns "$nsp"
for ns in "$nsr" "$nsp"; do
	ip -n "$ns" link set lo up
	ip netns exec "$ns" ethtool -K "$( [ "$ns" = "$nsr" ] && echo eth1 || echo eth0)" tx off >/dev/null
done
ip netns exec "$nsp" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$nsp" addr add 192.0.2.10/24 dev eth0
ip -n "$nsp" addr add 192.0.2.11/24 dev eth0
ip -n "$nsr" link set eth1 up
ip -n "$nsp" link set eth0 up

# The relay's shell: private mounts, the installed files on /usr/local,
# README's lines, then wait for the stop file; its jobs are stopped with
# SIGTERM (control first, as systemd would).
cat >"$tmp/inner.sh" <<INNER
set -u
mount -t tmpfs tmpfs /run && mkdir -p /run/dpdk /run/kamailio
mount -t hugetlbfs nodev /dev/hugepages
mount -t bpf bpf /sys/fs/bpf
$bind_local
export PATH=$bindir:\$PATH
source "$tmp/readme.sh"
for _ in \$(seq 1 1200); do [ -e "$tmp/stop" ] && break; sleep 0.1; done
pids=(\$(jobs -p))
[ \${#pids[@]} -ge 2 ] && kill -TERM "\${pids[1]}"; sleep 1
kill -TERM "\${pids[@]}" 2>/dev/null
wait
INNER
ip netns exec "$nsr" unshare -m --propagation private bash "$tmp/inner.sh" >"$tmp/inner.log" 2>&1 &
inner_pid=$!
sleep 0.5
# the relay's namespaces: those of the shell's bash (unshare execs it)
in_relay() { nsenter -t "$inner_pid" -m -n -- "$@"; }

ok=
for _ in $(seq 1 60); do
	if in_relay "$bindir/rtpb-ctl" -t 200 -r 1 V 2>/dev/null | grep -qx 20040107; then
		ok=1
		break
	fi
	sleep 0.5
done
[ -n "$ok" ] || fail "rtpb-ctl V: no 20040107 in 30 s"
echo "ok   rtpb-ctl V: 20040107"
for _ in $(seq 1 50); do
	grep -q 'nsess_created=' "$tmp/inner.log" && break
	sleep 0.2
done
grep -q 'nsess_created=' "$tmp/inner.log" || fail "README's 'rtpb-ctl G' printed no counter"
echo "ok   rtpb-ctl G (in README's block): $(grep -o 'nsess_created=[0-9]*' "$tmp/inner.log" | head -1) ... $(grep -o 'npf_[a-z_]*=' "$tmp/inner.log" | wc -l) npf_ counters"

# the dataplane must be ready (control attached) before U
for _ in $(seq 1 60); do
	grep -q "dataplane 'rtpbypass' attached" "$tmp/inner.log" && break
	sleep 0.5
done
ctl() { in_relay "$bindir/rtpb-ctl" "$@"; }
ra=$(ctl U readme-call 192.0.2.10 4000 fa) || fail "U"
rb=$(ctl L readme-call 192.0.2.11 5000 fa tb) || fail "L"
echo "ok   U -> '$ra', L -> '$rb'"
pa=${ra%% *}
pb=${rb%% *}
case "$pa$pb" in *[!0-9]*|'') fail "U/L replies without ports: '$ra' '$rb'" ;; esac
ip -n "$nsr" link show eth1 | grep -q ALLMULTI || fail "eth1 not all-multicast (IPv6 relay address)"
echo "ok   eth1 all-multicast, set by the dataplane"

# capture the call while it runs (deploy/README's command, its prefix)
# (nsenter execs it: $! is dumpcap's pid, for the SIGINT that stops it)
nsenter -t "$inner_pid" -m -n -- dpdk-dumpcap --file-prefix rtpbypass -i net_af_xdp0 -w "$tmp/call.pcapng" \
	>"$tmp/dumpcap.log" 2>&1 &
dump_pid=$!
for _ in $(seq 1 50); do
	grep -q 'Packets captured' "$tmp/dumpcap.log" && break
	sleep 0.2
done

# Phones, as rtpproxy's U/L pair works: U's reply is the relay port the
# offer gives the callee, so B (192.0.2.11:5000) sends there; L's reply
# goes in the answer to the caller, so A (192.0.2.10:4000) sends to it.
# Each must get the other's 50.
cat >"$tmp/phones.py" <<'PY'
import socket, struct, sys, time
pa, pb = int(sys.argv[1]), int(sys.argv[2])
relay = "192.0.2.1"
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("192.0.2.10", 4000))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("192.0.2.11", 5000))
for s in (a, b):
    s.settimeout(0.02)
got = {"a": 0, "b": 0}
seqs = {"a": set(), "b": set()}
def rtp(ssrc, seq):
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, ssrc) + bytes(160)
def drain():
    for name, s in (("a", a), ("b", b)):
        while True:
            try:
                d = s.recv(2048)
                got[name] += 1
                seqs[name].add(struct.unpack("!H", d[2:4])[0])
            except socket.timeout:
                break
for seq in range(1, 51):
    a.sendto(rtp(0x11111111, seq), (relay, pb))
    b.sendto(rtp(0x22222222, seq), (relay, pa))
    drain()
end = time.monotonic() + 2
while time.monotonic() < end and (got["a"] < 50 or got["b"] < 50):
    drain()
print(len(seqs["a"]), len(seqs["b"]), got["a"], got["b"])
PY
read -r got_a got_b all_a all_b < <(ip netns exec "$nsp" python3 "$tmp/phones.py" "$pa" "$pb")
# the first packets may wait for ARP of the phones; most must pass
[ "$got_b" -ge 45 ] && [ "$got_a" -ge 45 ] ||
	fail "relayed: phone B got $got_b of A's 50, phone A got $got_a of B's 50"
echo "ok   call: phone B got $got_b of A's 50 RTP packets ($all_b datagrams), phone A $got_a of B's 50 ($all_a)"

sleep 1
kill -INT "$dump_pid" 2>/dev/null || true
wait "$dump_pid" 2>/dev/null || true
if command -v tshark >/dev/null; then
	n=$(tshark -r "$tmp/call.pcapng" -d "udp.port==$pa,rtp" -d "udp.port==$pb,rtp" \
		-Y 'rtp.ssrc == 0x11111111 || rtp.ssrc == 0x22222222' 2>/dev/null | wc -l)
	[ "$n" -ge 90 ] || { cat "$tmp/dumpcap.log"; ls -la "$tmp"; fail "dpdk-dumpcap: tshark found $n RTP packets of the call"; }
	echo "ok   dpdk-dumpcap --file-prefix rtpbypass: tshark finds $n RTP packets of the call in the pcapng"
fi
ctl D readme-call fa >/dev/null
touch "$tmp/stop"
wait "$inner_pid" || true
inner_pid=
grep -q 'mbufs in use after close' "$tmp/inner.log" || fail "the dataplane did not stop cleanly"
echo "ok   both stopped on SIGTERM"
