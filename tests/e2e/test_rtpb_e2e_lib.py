#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Self-test of the e2e library (rtpb_e2e.py) and the phone (rtpb_phone.py).

Needs root (network namespaces) but not the relay binaries.  It checks:
  - the phone's RTP/RTCP encoding, payload check and sequence accounting;
  - the phone moving to a second socket mid-call (same SSRC, new SSRC),
    and the attacker mode: every pattern sent, and, recomputed from what
    arrived, no run a relay's probation could count past the burst;
  - Topology: namespaces, addresses, IPv6 off, 'tx off' on every veth end;
  - phone A <-> phone B through the router (no relay), 50 packets each way,
    all intact, with valid checksums as captured on the bridge;
  - Proc (PID is the program's, wait_for_log, stop by PID), rtpproxy_cmd
    (against a stub responder that drops the first try), telemetry
    (against a stub SEQPACKET server), unique_prefix/cleanup_dpdk_prefix;
  - optionally, with dpdk-testpmd installed and hugepages free, a real
    DPDK net_af_xdp port on rl0 (rx counters read over telemetry);
  - every namespace is gone afterwards.

Usage: sudo python3 tests/e2e/test_rtpb_e2e_lib.py [-v] [--no-dpdk] [-k=NAME]...
Exit status 0 if every check passed, 1 otherwise; the last line reads
'N passed, N failed'.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rtpb_e2e as e2e          # noqa: E402
import rtpb_phone as phone      # noqa: E402

PHONE = os.path.join(HERE, 'rtpb_phone.py')
PY = sys.executable or 'python3'
VERBOSE = '-v' in sys.argv

_results = []


def check(cond, what):
    """Record one check; raise AssertionError if it failed."""
    _results.append((bool(cond), what))
    if VERBOSE or not cond:
        print('%s: %s' % ('ok' if cond else 'FAIL', what), flush=True)
    if not cond:
        e2e.keep_logs()
        raise AssertionError(what)


def case(fn):
    """Run one test function; an exception counts as one failure."""
    print('== %s' % fn.__name__, flush=True)
    try:
        fn()
    except AssertionError:
        pass
    except Exception:                   # noqa: BLE001
        traceback.print_exc()
        _results.append((False, '%s raised' % fn.__name__))
        e2e.keep_logs()


# ---------------------------------------------------------------------------
# Pure functions: no root, no namespace.

def test_phone_encoding():
    pkt = phone.build_rtp(0xdeadbeef, 7, 65535, 1120, 8, 160, marker=True)
    check(len(pkt) == 12 + 160, 'RTP packet size 172')
    check(pkt[0] == 0x80 and pkt[1] == 0x88, 'V=2, M=1, PT=8')
    r = phone.parse_rtp(pkt)
    check(r['seq'] == 65535 and r['ts'] == 1120 and r['ssrc'] == 0xdeadbeef,
          'header fields parsed back')
    check(r['payload_ok'] and r['header_ok'] and r['idx'] == 7,
          'payload verifies')
    bad = bytearray(pkt)
    bad[100] ^= 1
    check(not phone.parse_rtp(bytes(bad))['payload_ok'],
          'one flipped payload bit is detected')
    bad = bytearray(pkt)
    bad[3] ^= 1                       # RTP seq no longer matches payload
    r = phone.parse_rtp(bytes(bad))
    check(r['payload_ok'] and not r['header_ok'],
          'header/payload mismatch is detected')
    check(phone.parse_rtp(b'\x00' * 20) is None, 'V=0 is not RTP')
    sr = phone.build_rtcp_sr(1, 2, 3, 4, now=0.0)
    check(len(sr) == 28 and sr[1] == 200 and sr[2:4] == b'\x00\x06',
          'RTCP SR: 28 bytes, PT 200, length 6')

    t = phone.SeqTracker()
    for s in (65534, 65535, 0, 2, 2, 1, 3):   # wrap, gap filled late, dup
        t.add(s, True)
    check(t.lost == 0 and t.duplicates == 1 and t.reordered == 1,
          'seq tracker across wrap: lost 0, dup 1, reordered 1 (%s)'
          % t.as_dict())
    t = phone.SeqTracker()
    for s in (10, 11, 14):
        t.add(s, True)
    check(t.lost == 2, 'seq tracker counts a gap of 2')


def test_phone_loopback():
    """One phone talking to itself on 127.0.0.1: counts, RTCP, wrap."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    a = '127.0.0.1:%d' % port
    t0 = time.monotonic()
    cp = subprocess.run([PY, PHONE, '--bind', a, '--to', a, '--count', '30',
                         '--interval-ms', '5', '--linger-ms', '200',
                         '--start-seq', '65520', '--ssrc', 'abcdef01',
                         '--rtcp', '--rtcp-interval-ms', '50'],
                        capture_output=True, text=True, timeout=20)
    check(cp.returncode == 0, 'phone exit 0 (%s)' % cp.stderr.strip())
    r = json.loads(cp.stdout)
    check(r['sent'] == 30 and r['received_valid'] == 30 and r['lost'] == 0
          and r['duplicates'] == 0, 'loopback: 30 sent, 30 valid, no loss '
          '(%s)' % {k: r[k] for k in ('sent', 'received_valid', 'lost')})
    check(r['first_seq'] == 65520 and r['last_seq'] == (65520 + 29) % 65536,
          'sequence wraps: first 65520, last 13')
    check(r['sources'] == {a: 30}, 'one source')
    check(r['peer_ssrcs'] == ['abcdef01'], 'peer ssrc seen')
    check(r['rtcp_sent'] >= 3 and r['rtcp_received'] == r['rtcp_sent'],
          'RTCP SRs sent and received (%d/%d)'
          % (r['rtcp_sent'], r['rtcp_received']))
    dt = time.monotonic() - t0
    check(dt < 5, 'loopback run bounded (%.2fs)' % dt)


def _free_udp_ports(n, host='127.0.0.1'):
    """n distinct UDP ports free right now on host (bounded: 10*n tries)."""
    ports = []
    for _ in range(10 * n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, 0))
        p = s.getsockname()[1]
        s.close()
        if p not in ports and p + 1 not in ports and p - 1 not in ports:
            ports.append(p)
        if len(ports) == n:
            break
    return ports


def test_phone_move_loopback():
    """A phone talking to itself that moves to a second socket mid-call:
    same SSRC, then a new SSRC; counts per socket."""
    pa, pb = _free_udp_ports(2)
    a, b = '127.0.0.1:%d' % pa, '127.0.0.1:%d' % pb
    for extra, ssrcs in (([], ['abcdef01']),
                         (['--move-ssrc', '12345678', '--move-start-seq', '65530'],
                          ['12345678', 'abcdef01'])):
        cp = subprocess.run([PY, PHONE, '--bind', a, '--to', a, '--count', '40',
                             '--interval-ms', '5', '--linger-ms', '200',
                             '--ssrc', 'abcdef01', '--move-after', '15',
                             '--move-bind', b, '--move-to', b, '--rtcp',
                             '--rtcp-interval-ms', '20'] + extra,
                            capture_output=True, text=True, timeout=20)
        check(cp.returncode == 0, 'moving phone exit 0 (%s)' % cp.stderr.strip())
        r = json.loads(cp.stdout)
        m = r['move']
        check(r['sent'] == 40 and r['received_valid'] == 40 and r['lost'] == 0,
              'move %s: 40 sent, 40 valid, none lost' % (extra or 'same SSRC'))
        check(m['done'] and m['old']['rtp_sent'] == 15 and m['new']['rtp_sent'] == 25
              and m['old']['received'] == 15 and m['new']['received'] == 25
              and r['sources'] == {a: 15, b: 25},
              'move: 15 from and to the old socket, 25 from and to the new one')
        check(r['peer_ssrcs'] == ssrcs, 'move: SSRCs %s' % r['peer_ssrcs'])
        if extra:
            t = r['per_ssrc']['12345678']
            check(t['min_ext_seq'] == 65530 and t['unique'] == 25 and t['lost'] == 0,
                  'move: the new SSRC starts at the given sequence, wraps, none lost')
        check(m['new']['rtcp_sent'] > 0 and m['new']['rtcp_received'] == m['new']['rtcp_sent'],
              'move: RTCP from the new port + 1 once RTP arrived there')


def test_attacker_loopback():
    """The attacker mode against two local sockets: every pattern sent,
    and, recomputed from what arrived, no run of one SSRC with increasing
    sequence numbers (the relay's candidate count) longer than the burst."""
    import rtpb_phone as ph
    pt, pa = _free_udp_ports(2)
    sinks = []
    for port in (pt, pa):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.bind(('127.0.0.1', port))
        s.settimeout(0.3)
        sinks.append(s)
    try:
        cp = subprocess.run([PY, PHONE, '--bind', '127.0.0.1:0', '--attack',
                             '127.0.0.1:%d,127.0.0.1:%d' % (pt, pa),
                             '--attack-ssrc', 'a0a0a0a0,b0b0b0b0',
                             '--attack-duration-ms', '300', '--attack-tick-ms', '3',
                             '--attack-burst', '9', '--linger-ms', '100',
                             '--attack-seed', '7'],
                            capture_output=True, text=True, timeout=20)
        check(cp.returncode == 0, 'attacker exit 0 (%s)' % cp.stderr.strip())
        r = json.loads(cp.stdout)
        for s, real in zip(sinks, (0xa0a0a0a0, 0xb0b0b0b0)):
            got, run, max_run, last, real_seqs = 0, 0, 0, None, []
            for _ in range(100000):
                try:
                    data = s.recv(2048)
                except socket.timeout:
                    break
                got += 1
                p = ph.parse_rtp(data)
                if p is None or not p['attack']:
                    continue
                key = (p['ssrc'], p['seq'])
                if last and last[0] == key[0] and 0 < (key[1] - last[1]) & 0xffff < 3000:
                    run += 1
                else:
                    run = 1
                max_run = max(max_run, run)
                last = key
                if p['ssrc'] == real:
                    real_seqs.append(p['seq'])
            tgt = r['per_target']['127.0.0.1:%d' % s.getsockname()[1]]
            check(got == tgt['sent'] and got > 0 and min(tgt['by_pattern'].values()) > 0,
                  'attacker: %d packets arrived = sent, every pattern' % got)
            check(max_run <= 9 and tgt['max_run'] == max_run,
                  'attacker: longest run %d <= burst 9 (it says %d)' % (max_run, tgt['max_run']))
            check(real_seqs and all(20000 <= q <= 60000 for q in real_seqs),
                  'attacker: with the real SSRC, only wrong sequence numbers (%d)'
                  % len(real_seqs))
        check(r['received'] == 0 and r['send_errors'] == 0, 'attacker: nothing came back')
    finally:
        for s in sinks:
            s.close()


def test_stub_telemetry():
    """telemetry() against a stub SEQPACKET server speaking DPDK's v2."""
    d = e2e.logdir()
    path = os.path.join(d, 'dpdk_telemetry.v2')
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(5)
    got = {}

    def serve():
        c, _ = srv.accept()
        with c:
            c.send(json.dumps({'version': 'DPDK 22.11.0', 'pid': os.getpid(),
                               'max_output_len': 16384}).encode())
            c.settimeout(5)
            got['cmd'] = c.recv(1024).decode()
            c.send(json.dumps({'/rtpbypass/stats': {'rx': 5,
                                                    'drop': {'x': 1}}})
                   .encode())

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        r = e2e.telemetry('unused', '/rtpbypass/stats', path=path)
        th.join(5)
    finally:
        srv.close()
        os.unlink(path)
    check(got.get('cmd') == '/rtpbypass/stats', 'command sent verbatim')
    check(r == {'/rtpbypass/stats': {'rx': 5, 'drop': {'x': 1}}},
          'reply parsed: %s' % r)
    try:
        e2e.telemetry('rtpb-no-such-prefix', '/')
        check(False, 'missing socket raises')
    except e2e.E2EError as e:
        check('connect' in str(e), 'missing socket raises E2EError')


def test_prefix_cleanup():
    pfx = e2e.unique_prefix()
    pfx2 = e2e.unique_prefix()
    check(pfx != pfx2 and not pfx2.startswith(pfx) and
          not pfx.startswith(pfx2), 'prefixes are prefix-free: %s %s'
          % (pfx, pfx2))
    rd = e2e.dpdk_runtime_dir(pfx)
    os.makedirs(rd)
    open(os.path.join(rd, 'config'), 'w').close()
    made = [os.path.join(rd, 'fbarray_memseg-2048k-0-0')]
    open(made[0], 'w').close()
    hp_ok = os.path.isdir(e2e.HUGEPAGE_DIR)
    if hp_ok:
        for n in ('%smap_0' % pfx, 'rtpbypass_%s_pool' % pfx):
            made.append(os.path.join(e2e.HUGEPAGE_DIR, n))
            open(made[-1], 'w').close()
    other = os.path.join(rd + '_x')          # not ours: must survive
    os.makedirs(other)
    try:
        removed = e2e.cleanup_dpdk_prefix(pfx)
        check(not os.path.exists(rd), 'runtime dir removed')
        check(all(not os.path.exists(p) for p in made),
              'hugepage and rtpbypass_ files removed (%d paths)'
              % len(removed))
        check(os.path.isdir(other), 'a different prefix is untouched')
    finally:
        os.rmdir(other)
    e2e.cleanup_dpdk_prefix(pfx2)            # nothing there: fine


# ---------------------------------------------------------------------------
# In namespaces.

STUB_RTPPROXY = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 22222))
print('listening', flush=True)
seen = set()
s.settimeout(0.5)
end = time.monotonic() + 20
while time.monotonic() < end:
    try:
        data, src = s.recvfrom(4096)
    except socket.timeout:
        continue
    cookie, _, cmd = data.decode().partition(' ')
    if cookie not in seen:          # drop the first try: the client resends
        seen.add(cookie)
        continue
    reply = '20040107' if cmd.strip() == 'V' else 'E1'
    s.sendto(('%s %s\n' % (cookie, reply)).encode(), src)
'''


def run_phones(topo, count=50, interval_ms=20, rtcp=False):
    """Phone A and phone B talking directly through the router."""
    d = e2e.logdir()
    ja, jb = os.path.join(d, 'pa.json'), os.path.join(d, 'pb.json')
    a_addr = '%s:30000' % e2e.PHONE_A_IP
    b_addr = '%s:40000' % e2e.PHONE_B_IP
    start_file = os.path.join(d, 'phones.T0')
    common = ['--count', str(count), '--interval-ms', str(interval_ms),
              '--linger-ms', '500', '--expect', str(count),
              '--start-file', start_file, '--start-at', '0']
    if rtcp:
        common += ['--rtcp', '--rtcp-interval-ms', '200']
    pb = topo.proc('pb', [PY, PHONE, '--bind', b_addr, '--to', a_addr,
                          '--ssrc', 'bbbb0002', '--start-seq', '40000',
                          '--json', jb] + common, name='phone_b')
    pa = topo.proc('pa', [PY, PHONE, '--bind', a_addr, '--to', b_addr,
                          '--ssrc', 'aaaa0001', '--start-seq', '65500',
                          '--json', ja] + common, name='phone_a')
    # both bound before either sends (a fixed start time lost the first
    # packets of a phone that bound late on a loaded machine)
    e2e.start_when_bound([pa, pb], start_file, lead_s=0.2, timeout_s=10)
    limit = count * interval_ms / 1000.0 + 15
    check(pa.wait(limit) == 0, 'phone A exit 0')
    check(pb.wait(limit) == 0, 'phone B exit 0')
    with open(ja) as f:
        ra = json.load(f)
    with open(jb) as f:
        rb = json.load(f)
    return ra, rb, a_addr, b_addr


def test_topology_and_phones():
    with e2e.Topology(attacker=True) as topo:
        names = list(topo.ns.values())
        check(all(e2e.netns_exists(n) for n in names),
              'namespaces exist: %s' % ' '.join(names))
        out = topo.run('rl', ['ip', '-j', 'addr', 'show', 'dev', 'rl0']).stdout
        info = json.loads(out)[0]
        check(info['operstate'] in ('UP', 'LOWERLAYERDOWN', 'UNKNOWN')
              and 'UP' in info['flags'], 'rl0 is up')
        check(info.get('addr_info', []) == [], 'rl0 has no address at all')
        check(topo.relay_mac and len(topo.relay_mac) == 17, 'relay MAC known')
        # tx checksum offload off on every veth end
        ends = [('sw', 's_rl'), ('sw', 's_pa'), ('sw', 's_gw'),
                ('sw', 's_at'), ('rl', 'rl0'), ('pa', 'eth0'),
                ('gw', 'eth0'), ('gw', 'eth1'), ('pb', 'eth0'),
                ('at', 'eth0')]
        for ns, dev in ends:
            k = topo.run(ns, ['ethtool', '-k', dev]).stdout
            check('tx-checksumming: off' in k, 'tx off on %s/%s' % (ns, dev))
        v6 = topo.run('sw', ['sysctl', '-n',
                             'net.ipv6.conf.br0.disable_ipv6']).stdout
        check(v6.strip() == '1', 'IPv6 off on br0')
        fw = topo.run('gw', ['sysctl', '-n', 'net.ipv4.ip_forward']).stdout
        check(fw.strip() == '1', 'router forwards')
        topo.add_phone_a_alt()
        out = topo.run('pa', ['ip', '-4', '-br', 'addr', 'show', 'eth0']
                       ).stdout
        check(e2e.PHONE_A_IP2 + '/24' in out, 'second address on phone A')

        # Proc: the PID is the program's (ip netns exec execs it).
        sl = topo.proc('pa', ['sleep', '30'], name='sleeper')
        time.sleep(0.2)
        with open('/proc/%d/comm' % sl.pid) as f:
            check(f.read().strip() == 'sleep', 'Proc PID is the program')
        check(os.readlink('/proc/%d/ns/net' % sl.pid)
              != os.readlink('/proc/self/ns/net'), 'Proc runs in the netns')
        ns_sl = topo.proc('pa', ['sleep', '30'], name='nsenter_sleeper',
                          ns_mode='nsenter')
        time.sleep(0.2)
        with open('/proc/%d/comm' % ns_sl.pid) as f:
            check(f.read().strip() == 'sleep', 'nsenter Proc PID is the '
                  'program')
        check(os.readlink('/proc/%d/ns/net' % ns_sl.pid)
              == os.readlink('/proc/%d/ns/net' % sl.pid)
              and os.readlink('/proc/%d/ns/mnt' % ns_sl.pid)
              == os.readlink('/proc/self/ns/mnt'),
              'nsenter mode: same netns, root mount namespace')
        ns_sl.stop()
        t0 = time.monotonic()
        rc = sl.stop(timeout=3)
        check(rc == -15 and time.monotonic() - t0 < 2,
              'stop: SIGTERM by PID (rc %s)' % rc)
        stubborn = topo.proc('pa', ['sh', '-c', 'trap "" TERM; echo up; '
                                    'while :; do sleep 0.1; done'],
                             name='stubborn')
        stubborn.wait_for_log(r'^up$', timeout=5)
        rc = stubborn.stop(timeout=0.5)
        check(rc == -9, 'stop: SIGKILL after the timeout (rc %s)' % rc)
        try:
            topo.proc('pa', ['sh', '-c', 'echo bye; exit 3'], name='quick'
                      ).wait_for_log(r'never', timeout=5)
            check(False, 'wait_for_log on an exited process raises')
        except e2e.E2ETimeout:
            check(False, 'exited process detected before the timeout')
        except e2e.E2EError as ex:
            check('exited (rc 3)' in str(ex) and 'bye' in str(ex),
                  'wait_for_log: early error with the log tail')

        # rtpproxy_cmd against a stub in the relay namespace (lo only).
        stub = topo.proc('rl', [PY, '-c', STUB_RTPPROXY], name='stub_rtpp')
        stub.wait_for_log(r'listening', timeout=5)
        rep = e2e.rtpproxy_cmd(topo.relay, 'V', timeout=0.3, retries=3)
        check(rep == '20040107', "rtpproxy_cmd 'V' -> %r (after a resend)"
              % rep)
        try:
            e2e.rtpproxy_cmd(topo.relay, 'V', timeout=0.2, retries=1)
            check(False, 'no reply raises')
        except e2e.E2ETimeout:
            check(True, 'no reply within the tries: E2ETimeout')
        try:
            e2e.rtpproxy_cmd(topo.phone_a, 'V', timeout=0.1, retries=2)
            check(False, 'other namespace has no stub')
        except e2e.E2ETimeout:
            check(True, 'rtpproxy_cmd really runs in the given namespace')
        stub.stop()

        # Phones through the router, capturing on the bridge.
        cap_pa = e2e.Capture(topo.switch, 's_pa')
        cap_rl = e2e.Capture(topo.switch, 's_rl')
        try:
            ra, rb, a_addr, b_addr = run_phones(topo, count=50, rtcp=True)
            frames = cap_pa.frames(timeout=0.3)
            rl_frames = cap_rl.frames(timeout=0.1)
        finally:
            cap_pa.close()
            cap_rl.close()
        for who, r, peer in (('A', ra, b_addr), ('B', rb, a_addr)):
            check(r['sent'] == 50 and r['send_errors'] == 0,
                  'phone %s sent 50' % who)
            check(r['received'] == 50 and r['received_valid'] == 50,
                  'phone %s got 50, all intact (%d/%d)'
                  % (who, r['received'], r['received_valid']))
            check(r['lost'] == 0 and r['duplicates'] == 0
                  and r['invalid'] == 0, 'phone %s: no loss, no dup' % who)
            check(r['sources'] == {peer: 50},
                  'phone %s: all from %s (%s)' % (who, peer, r['sources']))
            check(r['rtcp_received'] >= 1, 'phone %s got RTCP' % who)
            check(not r['timed_out'], 'phone %s ended in time' % who)
        check(ra['peer_ssrcs'] == ['bbbb0002']
              and rb['peer_ssrcs'] == ['aaaa0001'], 'peer SSRCs')
        check(rb['first_seq'] == 65500 and rb['last_seq'] == 13,
              'B saw A\'s seq 65500 .. wrap .. 13')
        udp = [e2e.parse_udp(f) for f, _ in frames]
        udp = [u for u in udp if u and u['dport'] in (30000, 30001,
                                                       40000, 40001)]
        check(len(udp) >= 100, 'captured the RTP on the bridge (%d)'
              % len(udp))
        bad = [u for u in udp if not (u['ip_ok'] and u['udp_ok'])]
        check(not bad, 'every captured UDP checksum is complete '
              '(tx off works): %d bad' % len(bad))
        # The bridge learned both MACs: unicast RTP is not flooded to rl0.
        leaked = [f for f, _ in rl_frames if e2e.parse_udp(f)]
        check(len(leaked) <= 2, 'RTP between phones not flooded to the '
              'relay port (%d)' % len(leaked))
    check(not any(e2e.netns_exists(n) for n in names),
          'every namespace gone after the Topology')
    check(not set(names) & set(e2e.netns_list()), "'ip netns list' agrees")


def test_cleanup_on_exception():
    """__exit__ on an exception still removes everything, Procs too."""
    names = []
    pid = None
    try:
        with e2e.Topology() as topo:
            names = list(topo.ns.values())
            # A process the library did not start, left in a namespace:
            p = topo.exec('pb', ['sleep', '30'])
            pid = p.pid
            # 'ip netns exec' enters the namespace after the fork: wait
            # (bounded) until it did, or 'ip netns pids' cannot see it.
            me = os.readlink('/proc/self/ns/net')
            for _ in range(200):
                try:
                    if os.readlink('/proc/%d/ns/net' % pid) != me:
                        break
                except OSError:
                    break
                time.sleep(0.01)
            raise RuntimeError('boom')
    except RuntimeError:
        pass
    p.wait(5)                     # reap: it was killed by PID
    check(p.returncode is not None, 'stray process in a namespace stopped')
    check(names and not any(e2e.netns_exists(n) for n in names),
          'namespaces gone after an exception')
    check(pid is not None, 'stray pid known')


def test_sigterm_cleanup():
    """A test script killed with SIGTERM removes its namespaces."""
    script = r'''
import sys, time
sys.path.insert(0, %r)
import rtpb_e2e as e2e
with e2e.Topology() as t:
    t.proc('pa', ['sleep', '60'], name='s')
    print(' '.join(t.ns.values()), flush=True)
    time.sleep(30)
''' % HERE
    p = subprocess.Popen([PY, '-c', script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = ''
        deadline = time.monotonic() + 15
        while not line and time.monotonic() < deadline:
            line = p.stdout.readline().strip()
        names = line.split()
        check(len(names) == 5 and all(e2e.netns_exists(n) for n in names),
              'child built a topology')
        p.terminate()
        rc = p.wait(15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    check(rc == 128 + 15, 'child exited via SystemExit(143) (rc %s)' % rc)
    check(not any(e2e.netns_exists(n) for n in names),
          'SIGTERM: namespaces removed')


def test_dpdk_af_xdp():
    """A real DPDK primary with net_af_xdp on rl0 (skipped if unavailable):
    frames phone A sends to the relay address reach it; the telemetry
    socket answers; the prefix is cleaned up."""
    testpmd = '/usr/bin/dpdk-testpmd'
    free = int(open('/sys/kernel/mm/hugepages/hugepages-2048kB/'
                    'free_hugepages').read())
    if '--no-dpdk' in sys.argv or not os.access(testpmd, os.X_OK):
        print('skip: no dpdk-testpmd or --no-dpdk')
        return
    huge = ['-m', '128'] if free >= 80 else ['--no-huge', '-m', '256']
    pfx = e2e.unique_prefix()
    with e2e.Topology() as topo:
        tp = topo.proc('rl', [testpmd, '-l', '0,1', '--file-prefix', pfx,
                              '--no-pci', '--vdev',
                              'net_af_xdp0,iface=rl0,start_queue=0,'
                              'queue_count=1'] + huge +
                       ['--', '--forward-mode=rxonly', '--stats-period',
                        '1'], name='testpmd')
        tp.wait_for_log(r'Press enter to exit|Port statistics', timeout=30)
        topo.set_neigh('pa', e2e.RELAY_IP, topo.relay_mac)
        ra = e2e.PHONE_A_IP + ':30000'
        cp = topo.run('pa', [PY, PHONE, '--bind', ra, '--to',
                             e2e.RELAY_IP + ':20000', '--count', '20',
                             '--interval-ms', '5', '--linger-ms', '100'],
                      timeout=30)
        check(json.loads(cp.stdout)['sent'] == 20, 'phone sent 20 to relay')
        st = None
        for _ in range(20):
            st = e2e.telemetry(pfx, '/ethdev/stats,0', unwrap=True)
            if st and st.get('ipackets', 0) >= 20:
                break
            time.sleep(0.1)
        check(st and st.get('ipackets', 0) >= 20,
              'DPDK af_xdp port counted the frames (ipackets %s)'
              % (st or {}).get('ipackets'))
        check(e2e.dpdk_prefix_in_use(pfx), 'prefix in use while running')
        try:
            e2e.cleanup_dpdk_prefix(pfx)
            check(False, 'cleanup refuses while in use')
        except e2e.E2EError:
            check(True, 'cleanup refuses a live prefix')
        rc = tp.stop(timeout=10)
        check(rc is not None, 'testpmd stopped (rc %s)' % rc)
    e2e.cleanup_dpdk_prefix(pfx)
    check(not os.path.exists(e2e.dpdk_runtime_dir(pfx)),
          'prefix cleaned after testpmd')


def main():
    if os.geteuid() != 0:
        print('needs root (network namespaces)')
        return 1
    e2e.install_signal_handlers()
    before = set(e2e.netns_list())
    only = [a[3:] for a in sys.argv[1:] if a.startswith('-k=')]
    for fn in (test_phone_encoding, test_phone_loopback, test_phone_move_loopback,
               test_attacker_loopback, test_stub_telemetry,
               test_prefix_cleanup, test_topology_and_phones,
               test_cleanup_on_exception, test_sigterm_cleanup,
               test_dpdk_af_xdp):
        if only and not any(k in fn.__name__ for k in only):
            continue
        case(fn)
    e2e.cleanup_all()
    after = set(e2e.netns_list())
    mine = [n for n in after - before if n.startswith('rtpb%d' % os.getpid())]
    _results.append((not mine, 'no namespace of this run left: %s' % mine))
    passed = sum(1 for ok, _ in _results if ok)
    failed = len(_results) - passed
    for ok, what in _results:
        if not ok:
            print('FAILED: %s' % what)
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
