#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_relay: a call's RTP through the DPDK dataplane, set up over rtpproxy.

Issue 2's end-to-end test, in namespaces this test creates (rtpb_e2e):
phone A (192.0.2.10, on-link) and phone B (198.51.100.20, behind the
router 192.0.2.254) exchange 500 RTP packets each way through
rtpbypass-dataplane (net_af_xdp on the relay's veth, relay address
192.0.2.1/24, gateway 192.0.2.254) driven by rtpbypass-control.

Asserts: both directions arrive complete with payloads intact; each phone
sees the relay address and the port control returned as the only source;
'I' counts the session; packets to a port with no session are dropped and
counted (exactly); after 'D' nothing is forwarded; with the default
address's port pairs all taken, a call opens on the second relay address
(control --port-spill, 192.0.2.2) and its RTP flows through that address;
a call survives control being killed and started again (DESIGN.md §2):
its RTP keeps flowing with not one packet lost (the new control rebuilds
the session from its journal and keeps its streams in the dataplane in
place: G nstreams_kept), and D, Q and a re-offer work on it; no mbuf leaks; every process, namespace and DPDK file is
gone afterwards.

Usage (root): test_relay.py --build BUILD_DIR
"""

import argparse
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402

N_PKTS = 500
INTERVAL_MS = 10
A_PORT = 4000
B_PORT = 6000
NO_SESSION_PORT = 40000   # outside control's -m/-M range
N_STRAY = 20
RELAY_IP_B = '192.0.2.2'  # second relay address, for --port-spill
PAIRS = 500               # control's -m 35000 -M 35999, per address


Failed = e2e.CheckFailed
check = e2e.check


def stats(prefix):
    return e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', required=True, help='meson build directory')
    args = ap.parse_args()
    e2e.install_signal_handlers()
    prefix = e2e.unique_prefix()
    ok = False
    try:
        with e2e.Topology() as topo:
            ctl_extra = ['-l', 'b@' + RELAY_IP_B, '--port-spill']
            dp, ctl = e2e.start_relay(
                topo, args.build, prefix,
                extra_dp=['--addr', '%s/%d' % (RELAY_IP_B, e2e.PREFIX_LEN)],
                extra_ctl=ctl_extra)
            cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)

            check(cmd('V') == '20040107', "V answers 20040107")
            check(cmd('VF 20050322') == '1', "VF 20050322 is supported")

            # Offer from A, answer from B (Kamailio's U then L).
            r_u = cmd('U call-e2e-1 %s %d from1;1' % (e2e.PHONE_A_IP, A_PORT))
            m = re.fullmatch(r'(\d+) (\S+)', r_u)
            check(m is not None and m.group(2) == e2e.RELAY_IP, "U replies 'port %s': %r"
                  % (e2e.RELAY_IP, r_u))
            p0 = int(m.group(1))
            r_l = cmd('L call-e2e-1 %s %d from1;1 to1;1' % (e2e.PHONE_B_IP, B_PORT))
            m = re.fullmatch(r'(\d+) (\S+)', r_l)
            check(m is not None and m.group(2) == e2e.RELAY_IP, "L replies 'port %s': %r"
                  % (e2e.RELAY_IP, r_l))
            p1 = int(m.group(1))
            check(p0 % 2 == 0 and p1 % 2 == 0 and p0 != p1 and 35000 <= min(p0, p1)
                  and max(p0, p1) <= 35998, "ports %d, %d even, distinct, in range" % (p0, p1))
            info = cmd('I')
            check('active sessions: 1' in info, "I counts the session: %r" % info)

            # A sends to the port from L (P1), B to the port from U (P0).
            s0 = stats(prefix)
            call = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                            N_PKTS, INTERVAL_MS, 'call', a_port=A_PORT, b_port=B_PORT)
            # Meanwhile, stray packets to a port with no session.
            time.sleep(0.5)
            stray = topo.socket('pa')
            for i in range(N_STRAY):
                stray.sendto(b'\x80\x00' + bytes(170), (e2e.RELAY_IP, NO_SESSION_PORT))
            stray.close()
            a, b = call.results()
            s1 = stats(prefix)
            e2e.log('phone A: %s' % json.dumps({k: a[k] for k in ('sent', 'received', 'received_valid', 'lost', 'sources')}))
            e2e.log('phone B: %s' % json.dumps({k: b[k] for k in ('sent', 'received', 'received_valid', 'lost', 'sources')}))
            e2e.log('relay: %s' % json.dumps({k: s1[k] - s0[k] for k in s1 if isinstance(s1[k], int) and s1[k] != s0[k]}))

            check(a['sent'] == N_PKTS and b['sent'] == N_PKTS, "both phones sent %d" % N_PKTS)
            check(b['received_valid'] == N_PKTS and b['received'] == N_PKTS,
                  "B received all %d of A's packets intact (got %d valid)" % (N_PKTS, b['received_valid']))
            check(a['received_valid'] == N_PKTS and a['received'] == N_PKTS,
                  "A received all %d of B's packets intact (got %d valid)" % (N_PKTS, a['received_valid']))
            check(a['sources'] == {'%s:%d' % (e2e.RELAY_IP, p1): N_PKTS},
                  "A saw only the relay %s:%d as source: %r" % (e2e.RELAY_IP, p1, a['sources']))
            check(b['sources'] == {'%s:%d' % (e2e.RELAY_IP, p0): N_PKTS},
                  "B saw only the relay %s:%d as source: %r" % (e2e.RELAY_IP, p0, b['sources']))
            check(s1['drop_no_stream'] - s0['drop_no_stream'] == N_STRAY,
                  "the %d packets to a port with no session were dropped and counted" % N_STRAY)
            check(s1['relayed'] - s0['relayed'] == 2 * N_PKTS,
                  "the relay counted %d relayed packets" % (2 * N_PKTS))
            info = cmd('I')
            check(re.search(r'packets received: %d\b' % (2 * N_PKTS), info) is not None
                  and re.search(r'packets transmitted: %d\b' % (2 * N_PKTS), info) is not None,
                  "I reports the packets: %r" % info)

            # Delete the call: nothing is forwarded any more.
            check(cmd('D call-e2e-1 from1') == '0', "D deletes the call")
            check('active sessions: 0' in cmd('I'), "I shows no active session")
            time.sleep(0.2)
            s2 = stats(prefix)
            a, b = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                            50, INTERVAL_MS, 'after_d', 500, a_port=A_PORT,
                            b_port=B_PORT).results()
            s3 = stats(prefix)
            check(a['received'] == 0 and b['received'] == 0,
                  "after D, nothing reaches the phones (A %d, B %d)" % (a['received'], b['received']))
            check(s3['drop_no_stream'] - s2['drop_no_stream'] == 100,
                  "after D, their 100 packets are dropped as no-stream")
            check(cmd('D call-e2e-1 from1') == 'E50', "D again answers E50")

            # --port-spill: every pair of the default address taken (two
            # legs a call), the next call opens on the second address.
            for i in range(PAIRS // 2):
                for c in ('U fill-%d %s %d f' % (i, e2e.PHONE_A_IP, A_PORT),
                          'L fill-%d %s %d f t' % (i, e2e.PHONE_B_IP, B_PORT)):
                    r = cmd(c)
                    if e2e.parse_ul_reply(r)[1] != e2e.RELAY_IP:
                        raise Failed('%s: %r, not on %s' % (c, r, e2e.RELAY_IP))
            e2e.log('ok: %d calls took the %d pairs of %s' % (PAIRS // 2, PAIRS, e2e.RELAY_IP))
            q0, addr0, _ = e2e.parse_ul_reply(cmd('U call-e2e-2 %s %d from2;1'
                                                  % (e2e.PHONE_A_IP, A_PORT)))
            q1, addr1, _ = e2e.parse_ul_reply(cmd('L call-e2e-2 %s %d from2;1 to2;1'
                                                  % (e2e.PHONE_B_IP, B_PORT)))
            check(addr0 == RELAY_IP_B and addr1 == RELAY_IP_B,
                  "the next call's legs open on %s (%s, %s)" % (RELAY_IP_B, addr0, addr1))
            check(cmd('G nport_spills') == '2', "G nport_spills counts its 2 legs")
            a, b = e2e.Call(topo, '%s:%d' % (RELAY_IP_B, q1), '%s:%d' % (RELAY_IP_B, q0),
                            100, INTERVAL_MS, 'spill', a_port=A_PORT,
                            b_port=B_PORT).results()
            check(b['received_valid'] == 100 and a['received_valid'] == 100,
                  "its RTP flows both ways through %s (A %d, B %d of 100)"
                  % (RELAY_IP_B, a['received_valid'], b['received_valid']))
            check(a['sources'] == {'%s:%d' % (RELAY_IP_B, q1): 100}
                  and b['sources'] == {'%s:%d' % (RELAY_IP_B, q0): 100},
                  "each phone saw only %s as source: %r, %r"
                  % (RELAY_IP_B, a['sources'], b['sources']))
            check(cmd('X') == '0', "X deletes every session")

            # Control dies mid-call (SIGKILL: no goodbye) and a new one
            # starts: the call's RTP goes on through the dataplane, and the
            # new control rebuilds the session from its journal (issue 16
            # item 2): Q answers, not below its counts before the kill, a
            # re-offer gets the same port, D finds it.
            r0, _, _ = e2e.parse_ul_reply(cmd('U call-e2e-3 %s %d from3;1'
                                              % (e2e.PHONE_A_IP, A_PORT)))
            r1, _, _ = e2e.parse_ul_reply(cmd('L call-e2e-3 %s %d from3;1 to3;1'
                                              % (e2e.PHONE_B_IP, B_PORT)))
            call = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, r1), '%s:%d' % (e2e.RELAY_IP, r0),
                            300, INTERVAL_MS, 'restart', a_port=A_PORT, b_port=B_PORT,
                            start_delay_ms=500)
            time.sleep(1.5)   # 100 packets each way through the first control
            q_before = [int(v) for v in cmd('Q call-e2e-3 from3;1 to3;1').split()]
            ctl.signal(signal.SIGKILL)
            ctl.wait(timeout=10)
            ctl = e2e.start_control(topo, args.build, prefix, extra_ctl=ctl_extra + ['-T', '2'])
            a, b = call.results()
            # The replay keeps the restored session's streams in the
            # dataplane as they are (same id, socket, cookie: no DEL/ADD),
            # so not one packet is lost to the restart.
            print('control restart: lost A %d, B %d of 300'
                  % (300 - a['received_valid'], 300 - b['received_valid']), flush=True)
            check(a['received_valid'] == 300 and b['received_valid'] == 300,
                  "the call's RTP went on while control restarted, 0 lost "
                  "(A %d, B %d of 300)" % (a['received_valid'], b['received_valid']))
            check(cmd('G nadopted') == '0', "the call's 4 streams are its session's, no orphan")
            check(cmd('G nstreams_kept njournal_restored') == '4 1',
                  "its 4 streams were kept in place, 1 session restored: %s"
                  % cmd('G nstreams_kept njournal_restored'))
            q_after = cmd('Q call-e2e-3 from3;1 to3;1').split()
            check(len(q_after) == 5 and all(int(x) >= y for x, y in
                                            zip(q_after[1:], q_before[1:])),
                  "Q on the old call is monotonic: %r -> %r" % (q_before, q_after))
            r0b, _, _ = e2e.parse_ul_reply(cmd('U call-e2e-3 %s %d from3;1 to3;1'
                                               % (e2e.PHONE_A_IP, A_PORT)))
            check(r0b == r0, "a re-offer gets the same port (%d, %d)" % (r0, r0b))
            check(cmd('D call-e2e-3 from3') == '0', "D finds the old call")
            q0, _, _ = e2e.parse_ul_reply(cmd('U call-e2e-4 %s %d from4;1'
                                              % (e2e.PHONE_A_IP, A_PORT)))
            check(35000 <= q0 <= 35998, "the new control sets calls up: U -> %d" % q0)
            check(cmd('X') == '0', "X deletes every session")

            # Stop; the dataplane reports its mbufs.
            e2e.stop_relay(dp, ctl)
            names = list(topo.ns.values())
        left = [n for n in names if e2e.netns_exists(n)]
        check(not left, "every namespace is gone")
        e2e.cleanup_dpdk_prefix(prefix)
        check(not os.path.exists('/var/run/dpdk/%s' % prefix), "no DPDK runtime files left")
        ok = True
    except (Failed, e2e.E2EError) as e:
        print('FAIL: %s' % e, file=sys.stderr)
        e2e.keep_logs()
        print('logs kept in %s' % e2e.logdir(), file=sys.stderr)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
