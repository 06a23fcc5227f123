#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_fork: C udp:host:port forks a party's media to a listener (issue 17 item 2).

The network of test_relay (rtpb_e2e.Topology) with its spare host as the
listener: its own namespace, 192.0.2.66 on the relay's link (a
documentation address), two UDP sockets, on 7000 (RTP) and 7001 (RTCP).
Phone A (the caller: its U and from-tag) and phone B stream RTP, A also
RTCP, through rtpbypass; 'Cp CALL udp:192.0.2.66:7000 FROM_TAG' forks
A's party, as rtpproxy's remote recording does (docs/FORKING.md).

Asserted:
  - Cp answers "<port> 192.0.2.1", an even port in control's range, other
    than the call's two;
  - the listener receives every RTP packet phone A sent (as many, each
    sequence number once), payload and RTP header intact (rtpb_phone's
    check), all from 192.0.2.1:<port>; and every RTCP packet A sent, on
    7001, from <port> + 1; nothing of phone B's;
  - phone B still receives every packet of A's, phone A every one of B's;
  - the dataplane counts as many fork copies as the listener received,
    and no fork drop;
  - after 'N' the listener receives nothing of a second stream, which B
    still receives; 'N' again answers E50;
  - "U tap ... && L ... && C CALL" (rtpproxy 3.2's SRS spy) with the
    listener's ports 7100 and 7102 as the tap session's parties: A's
    packets reach 7100 from the socket of the L's reply, B's reach 7102
    from the U's, all of them intact; after 'D tap' nothing;
  - a fork again, then 'D': nothing reaches the listener afterwards;
  - no mbuf leaked.

Usage (root): test_fork.py --build BUILD_DIR
"""

import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
import rtpb_phone  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

LISTENER_IP = e2e.ATTACKER_IP       # 192.0.2.66, the topology's spare host
LISTENER_PORT = 7000
TAP_PORT_U, TAP_PORT_L = 7100, 7102  # the "&& C" session's two parties
A_PORT, B_PORT = 4000, 6000
N_PKTS = 300
INTERVAL_MS = 10
SSRC_A, SSRC_B = 0xa0a0a0a0, 0xb0b0b0b0


class Listener:
    """UDP sockets on LISTENER_IP:port and port + 1, for each port of
    ports, in the listener's namespace, read by a thread until stop():
    every datagram with its source, per port."""

    def __init__(self, topo, ports):
        self.got = {q: [] for p in ports for q in (p, p + 1)}
        self.socks = []
        for p in self.got:
            s = topo.socket('at')
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((LISTENER_IP, p))
            s.settimeout(0.05)
            self.socks.append((p, s))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, name='listener', daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            for p, s in self.socks:
                try:
                    while True:
                        data, src = s.recvfrom(65535)
                        with self._lock:
                            self.got[p].append((src, data))
                except (socket.timeout, BlockingIOError):
                    pass

    def take(self):
        """What arrived since the last take(), per port."""
        with self._lock:
            out = {p: list(v) for p, v in self.got.items()}
            for v in self.got.values():
                v.clear()
        return out

    def stop(self):
        self._stop.set()
        self._t.join(5)
        for _, s in self.socks:
            s.close()


def body(build, prefix):
    relay = e2e.RELAY_IP
    with e2e.Topology(attacker=True) as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix)
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)  # noqa: E731
        stats = lambda: e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)  # noqa: E731
        check(cmd('VF 20071218') == '1' and cmd('VF 20250523') == '1',
              'VF 20071218 (forking) and 20250523 (Cp) answer 1')
        p0, _, _ = e2e.parse_ul_reply(cmd('U fork-1 %s %d fa;1' % (e2e.PHONE_A_IP, A_PORT)))
        p1, _, _ = e2e.parse_ul_reply(cmd('L fork-1 %s %d fa;1 tb;1'
                                          % (e2e.PHONE_B_IP, B_PORT)))
        listener = Listener(topo, (LISTENER_PORT, TAP_PORT_U, TAP_PORT_L))

        def nothing_forked(tag, what):
            """50 packets each way; the listener must get none of them."""
            e2e.Call(topo, e2e.hostport(relay, p1), e2e.hostport(relay, p0),
                     50, INTERVAL_MS, tag, a_port=A_PORT, b_port=B_PORT).results()
            time.sleep(0.3)
            expect(not any(listener.take().values()), what)

        try:
            r = cmd('Cp fork-1 udp:%s:%d fa;1' % (LISTENER_IP, LISTENER_PORT))
            m = re.fullmatch(r'(\d+) (\S+)', r)
            check(m is not None and m.group(2) == relay,
                  "Cp replies '<port> %s': %r" % (relay, r))
            fp = int(m.group(1))
            check(fp % 2 == 0 and 35000 <= fp <= 35998 and fp not in (p0, p1),
                  'the fork socket %d: even, in range, not the call\'s (%d, %d)' % (fp, p0, p1))
            s0 = stats()
            # A sends to the port of L (p1), B to the port of U (p0)
            call = e2e.Call(topo, e2e.hostport(relay, p1), e2e.hostport(relay, p0),
                            N_PKTS, INTERVAL_MS, 'fork', a_port=A_PORT, b_port=B_PORT,
                            ssrcs=('%08x' % SSRC_A, '%08x' % SSRC_B),
                            a_extra=['--rtcp', '--rtcp-interval-ms', '500'])
            a, b = call.results()
            time.sleep(0.3)
            got = listener.take()
            s1 = stats()
            rtp, rtcp = got[LISTENER_PORT], got[LISTENER_PORT + 1]
            e2e.log('phone A sent %d RTP, %d RTCP; the listener got %d RTP, %d RTCP' % (
                a['sent'], a['rtcp_sent'], len(rtp), len(rtcp)))
            check(b['received_valid'] == N_PKTS and a['received_valid'] == N_PKTS,
                  'the call is relayed whole both ways (B %d, A %d of %d)'
                  % (b['received_valid'], a['received_valid'], N_PKTS))
            parsed = [rtpb_phone.parse_rtp(d) for _, d in rtp]
            expect(len(rtp) == a['sent'] == N_PKTS,
                   'the listener received every RTP packet A sent (%d of %d)'
                   % (len(rtp), a['sent']))
            expect(all(p is not None and p['payload_ok'] and p['header_ok']
                       and p['ssrc'] == SSRC_A for p in parsed),
                   "every copy is A's packet, RTP header and payload intact")
            expect(len({p['seq'] for p in parsed if p is not None}) == len(rtp),
                   'each sequence number once')
            expect({src for src, _ in rtp} == {(relay, fp)},
                   'the RTP copies come from the fork socket %s:%d (%s)'
                   % (relay, fp, {src for src, _ in rtp}))
            expect(a['rtcp_sent'] > 0 and len(rtcp) == a['rtcp_sent'],
                   'the listener received every RTCP packet A sent on port + 1 (%d of %d)'
                   % (len(rtcp), a['rtcp_sent']))
            expect({src for src, _ in rtcp} <= {(relay, fp + 1)},
                   'the RTCP copies come from %s:%d' % (relay, fp + 1))
            copies = s1['fork_copies'] - s0['fork_copies']
            e2e.log('fork_copies %d fork_drops %d' % (copies, s1['fork_drops']))
            expect(copies == len(rtp) + len(rtcp) and s1['fork_drops'] == 0,
                   'the dataplane counted the copies the listener got, no drop')

            # N: no more copies; the call goes on
            check(cmd('N fork-1 fa;1') == '0', 'N stops the fork')
            check(cmd('N fork-1 fa;1') == 'E50', 'N again: E50, nothing to stop')
            a, b = e2e.Call(topo, e2e.hostport(relay, p1), e2e.hostport(relay, p0),
                            100, INTERVAL_MS, 'after_n', a_port=A_PORT,
                            b_port=B_PORT).results()
            time.sleep(0.3)
            got = listener.take()
            expect(b['received_valid'] == 100, 'after N, B receives A (%d of 100)'
                   % b['received_valid'])
            expect(not got[LISTENER_PORT] and not got[LISTENER_PORT + 1],
                   'after N the listener receives nothing (%d, %d)'
                   % (len(got[LISTENER_PORT]), len(got[LISTENER_PORT + 1])))

            # "U ... && L ... && C" (rtpproxy's SRS spy): a session whose
            # two parties are the listener's ports 7100 (the U's) and 7102
            # (the L's) gets both of the call's streams: A's from the
            # socket of the L's reply to 7100, B's from the U's to 7102
            r = cmd('U tap %s %d sx sy && L %s %d && C fork-1 fa;1 tb;1' % (
                LISTENER_IP, TAP_PORT_U, LISTENER_IP, TAP_PORT_L))
            m = re.fullmatch(r'(\d+) (\S+) && (\d+) (\S+)', r)
            check(m is not None, "U && L && C replies the two ports, the C nothing: %r" % r)
            tu, tl = int(m.group(1)), int(m.group(3))
            a, b = e2e.Call(topo, e2e.hostport(relay, p1), e2e.hostport(relay, p0),
                            100, INTERVAL_MS, 'tap', a_port=A_PORT, b_port=B_PORT,
                            ssrcs=('%08x' % SSRC_A, '%08x' % SSRC_B)).results()
            time.sleep(0.3)
            got = listener.take()
            for port, src, ssrc, sent, who in ((TAP_PORT_U, tl, SSRC_A, a['sent'], 'A'),
                                               (TAP_PORT_L, tu, SSRC_B, b['sent'], 'B')):
                parsed = [rtpb_phone.parse_rtp(d) for _, d in got[port]]
                expect(len(parsed) == sent == 100
                       and all(p is not None and p['payload_ok'] and p['ssrc'] == ssrc
                               for p in parsed)
                       and {s for s, _ in got[port]} == {(relay, src)},
                       "&& C: %s's %d packets reach %d intact from %s:%d (%d)"
                       % (who, sent, port, relay, src, len(parsed)))
            expect(not got[LISTENER_PORT] and b['received_valid'] == 100
                   and a['received_valid'] == 100,
                   '&& C: the call still relayed whole, nothing to the stopped fork')
            check(cmd('D tap sx') == '0', 'D ends the tap session')
            nothing_forked('after_tap', 'after the tap session ends, nothing is forked')

            # a fork again, then D: nothing after it
            r = cmd('C fork-1 udp:%s:%d fa;1' % (LISTENER_IP, LISTENER_PORT))
            check(r == '0', 'C forks again: %r' % r)
            check(cmd('D fork-1 fa;1') == '0', 'D deletes the call')
            nothing_forked('after_d', 'after D the listener receives nothing')
        finally:
            listener.stop()
        e2e.stop_relay(dp, ctl)


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
