#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_handover_ipv6: a phone re-offers over IPv6 mid-call (DESIGN.md §4.8).

Issue 3's IPv6 handover test, in namespaces it creates (rtpb_e2e,
Topology(ipv6=True): phone A also has 2001:db8:a::10 on the relay's link,
the relay 2001:db8:a::1 in DPDK next to 192.0.2.1, phone B stays IPv4).

A call is set up with both legs IPv4 (U/L) and both phones stream 20 ms
RTP and 200 ms RTCP.  Once the relay has relayed a good part of it (Q),
phone A re-offers as after a re-INVITE from a phone that moved to IPv6:
'U6' with A's IPv6 address, then B's re-answer 'L' (B unchanged).  Control
moves leg A to an IPv6 socket at once (its old IPv4 streams go): the
reply of U6 is leg B's port, unchanged and IPv4 (it goes to B), and the
reply of L, which goes to A, names the relay's IPv6 address and leg A's
new port ('<port> 2001:db8:a::1 6').  The test then tells phone A (a
file, --move-when-file) to continue from [2001:db8:a::10] to that address
at its next packet, same SSRC and sequence; its IPv6 socket is open from
the start, and receives B's packets from the re-offer on.

Asserted (exact counts, with the packets in flight during the switch):
  - A->B: B received every packet A sent but those that reached the
    relay's old IPv4 socket after the re-offer deleted it: exactly the
    relay's drop_no_stream (RTP and RTCP), at most 2 RTP packets: the test
    writes the file right after the L reply and A switches at its next
    20 ms send slot, so one packet, plus one for scheduling jitter;
  - B->A: A received (old IPv4 socket + new IPv6 socket) every packet B
    sent but those the relay dropped while it resolved A's IPv6 address
    (NDP, drop_neigh_pending): at most the first RTP and RTCP packet;
    the return stream switched once and in order;
  - A sees only the relay's IPv4 port (before) and the relay's IPv6
    address and new port (after) as sources, B only the relay's IPv4
    port; RTCP likewise (port + 1), and relayed in both directions;
  - the relay resolved A's IPv6 address (NDP), and dropped nothing else
    but the phones' kernels' ICMPv6 (not UDP); a re-offer is no handover
    (handovers +0, I unchanged); control logs the leg's move to IPv6;
    'Q' counts the call's RTP packets;
  - no mbuf leaked, nothing left behind.

Usage (root): test_handover_ipv6.py --build BUILD_DIR
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

N_PKTS = 250            # per phone, 20 ms apart: 5 s
REOFFER_AFTER = 75      # packets relayed on each leg before the re-offer
INTERVAL_MS = 20
RTCP_MS = 200
A_PORT, B_PORT = 4000, 6000
SSRC_A, SSRC_B = 'a0a0a0a0', 'b0b0b0b0'
CALL = 'handover-ipv6'
MAX_LOST_AB = 2         # see the module doc
MAX_LOST_BA = 1


def stats(prefix):
    return e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)


def body(build, prefix):
    with e2e.Topology(ipv6=True) as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix, ipv6=True)
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)  # noqa: E731
        relay, relay6 = e2e.RELAY_IP, e2e.RELAY_IP6
        p0, addr0, v6_0 = e2e.parse_ul_reply(cmd('U %s %s %d a;1' % (CALL, e2e.PHONE_A_IP,
                                                                      A_PORT)))
        p1, addr1, v6_1 = e2e.parse_ul_reply(cmd('L %s %s %d a;1 b;1' % (CALL, e2e.PHONE_B_IP,
                                                                          B_PORT)))
        check(addr0 == relay and addr1 == relay and not v6_0 and not v6_1,
              'U/L of an IPv4 call name the relay %s: ports %d, %d' % (relay, p0, p1))
        move_file = os.path.join(e2e.logdir(), 'move_a')
        a_new = e2e.hostport(e2e.PHONE_A_IP6, A_PORT)
        rtcp = ['--rtcp', '--rtcp-interval-ms', str(RTCP_MS)]
        s0 = stats(prefix)
        h0 = e2e.info_handovers(cmd('I'))
        mark = ctl.log_mark()
        call = e2e.Call(topo, e2e.hostport(relay, p1), e2e.hostport(relay, p0), N_PKTS,
                        INTERVAL_MS, 'v6', start_delay_ms=1000, a_port=A_PORT, b_port=B_PORT,
                        ssrcs=(SSRC_A, SSRC_B), linger_ms=1000,
                        a_extra=rtcp + ['--move-after', '1', '--move-bind', a_new,
                                        '--move-when-file', move_file],
                        b_extra=rtcp, b_lag_ms=INTERVAL_MS / 2)

        # Mid-call (Q: packets in on both legs; bounded wait), the re-offer.
        q = None
        deadline = time.monotonic() + 20
        for _ in range(1000):               # and at most 15-20 s
            if time.monotonic() >= deadline:
                break
            q = cmd('Q %s a;1 b;1' % CALL).split()
            if len(q) == 5 and min(int(q[1]), int(q[2])) >= REOFFER_AFTER:
                break
            time.sleep(0.05)
        check(q is not None and len(q) == 5 and min(int(q[1]), int(q[2])) >= REOFFER_AFTER,
              'the IPv4 call runs: %s packets in on the legs (Q %s)' % (q[1:3], ' '.join(q)))
        r_u = cmd('U6 %s %s %d a;1' % (CALL, e2e.PHONE_A_IP6, A_PORT))
        r_l = cmd('L %s %s %d a;1 b;1' % (CALL, e2e.PHONE_B_IP, B_PORT))
        try:
            u_port, u_addr, u_v6 = e2e.parse_ul_reply(r_u)
            l_port, l_addr, l_v6 = e2e.parse_ul_reply(r_l)
        except e2e.E2EError:
            u_port = l_port = None
        if l_port is not None and l_addr == relay6:
            with open(move_file + '.tmp', 'w') as f:
                f.write(e2e.hostport(relay6, l_port))
            os.replace(move_file + '.tmp', move_file)
        e2e.log('re-offer: U6 -> %r, L -> %r' % (r_u, r_l))
        check(u_port == p0 and u_addr == relay and not u_v6,
              "U6 (A's re-offer) replies leg B's port, unchanged and IPv4 (it goes to B): %r"
              % r_u)
        check(l_addr == relay6 and l_v6 and r_l.endswith(' 6') and l_port % 2 == 0
              and 35000 <= l_port <= 35998,
              "L (B's re-answer, to A) names the relay's IPv6 address %s and an even port: %r"
              % (relay6, r_l))
        a, b = call.results()
        s1 = stats(prefix)
        d = e2e.stats_delta(s0, s1)
        mv = a['move']
        old, new = mv['old'], mv['new']
        e2e.log('phone A: sent %d (IPv4 %d, IPv6 %d), received %d (IPv4 %d, IPv6 %d), rtcp sent '
                '%d (IPv4 %d, IPv6 %d) received %d (IPv4 %d, IPv6 %d)'
                % (a['sent'], old['rtp_sent'], new['rtp_sent'], a['received'], old['received'],
                   new['received'], a['rtcp_sent'], old['rtcp_sent'], new['rtcp_sent'],
                   a['rtcp_received'], old['rtcp_received'], new['rtcp_received']))
        e2e.log('phone B: sent %d, received %d (valid %d, lost %d), rtcp sent %d received %d, '
                'sources %s' % (b['sent'], b['received'], b['received_valid'], b['lost'],
                                b['rtcp_sent'], b['rtcp_received'], b['sources']))
        e2e.log('relay: %s' % d)

        rp0, rp0c = e2e.hostport(relay, p0), e2e.hostport(relay, p0 + 1)
        rp1, rp1c = e2e.hostport(relay, p1), e2e.hostport(relay, p1 + 1)
        rp6, rp6c = e2e.hostport(relay6, l_port), e2e.hostport(relay6, l_port + 1)
        expect(a['sent'] == N_PKTS and b['sent'] == N_PKTS and mv['done']
               and old['rtp_sent'] + new['rtp_sent'] == N_PKTS and new['rtp_sent'] > 0,
               'both phones sent %d; A %d over IPv4, then %d over IPv6 to %s'
               % (N_PKTS, old['rtp_sent'], new['rtp_sent'], rp6))

        # A -> B: all but A's IPv4 packets that reached the deleted socket.
        lost_ab = a['sent'] - b['received']
        lost_ab_rtcp = a['rtcp_sent'] - b['rtcp_received']
        no_stream = d.get('drop_no_stream', 0)
        expect(b['received_valid'] == b['received'] and b['duplicates'] == 0
               and b['invalid'] == 0 and b['peer_ssrcs'] == [SSRC_A],
               'A->B: what reached B is intact, once, of A\'s SSRC')
        expect(0 <= lost_ab <= MAX_LOST_AB and lost_ab_rtcp >= 0
               and lost_ab + lost_ab_rtcp == no_stream and b['lost'] == lost_ab,
               'A->B: sent %d = received %d + lost %d (at most %d in flight); RTCP sent %d = '
               'received %d + lost %d; the losses are the relay\'s drop_no_stream +%d (A\'s '
               'IPv4 packets after the re-offer)' % (a['sent'], b['received'], lost_ab,
                                                     MAX_LOST_AB, a['rtcp_sent'],
                                                     b['rtcp_received'], lost_ab_rtcp, no_stream))
        expect(b['sources'] == {rp0: b['received']}
               and set(b['rtcp_sources']) <= {rp0c} and b['rtcp_received'] > 0,
               'B saw only the relay %s (RTCP %s) as source, before and after' % (rp0, rp0c))

        # B -> A: all but what the relay dropped resolving A's IPv6 address.
        lost_ba = b['sent'] - a['received']
        lost_ba_rtcp = b['rtcp_sent'] - a['rtcp_received']
        neigh = d.get('drop_neigh_pending', 0)
        expect(a['received_valid'] == a['received'] and a['duplicates'] == 0
               and a['invalid'] == 0 and a['peer_ssrcs'] == [SSRC_B],
               'B->A: what reached A is intact, once, of B\'s SSRC')
        expect(0 <= lost_ba <= MAX_LOST_BA and 0 <= lost_ba_rtcp <= 1
               and lost_ba + lost_ba_rtcp == neigh and a['lost'] == lost_ba,
               'B->A: sent %d = received %d (IPv4 %d, IPv6 %d) + lost %d; RTCP sent %d = '
               'received %d + lost %d; the losses are the relay\'s drop_neigh_pending +%d '
               '(the first packets to A\'s IPv6 address, while NDP resolves it)'
               % (b['sent'], a['received'], old['received'], new['received'], lost_ba,
                  b['rtcp_sent'], a['rtcp_received'], lost_ba_rtcp, neigh))
        expect(new['received'] > 0 and old['received'] > 0 and new['first_seq'] is not None
               and new['first_seq'] == (old['last_seq'] + 1 + lost_ba) & 0xffff,
               'B->A: the return stream switched to IPv6 once, in order (last seq over IPv4 %s, '
               'first over IPv6 %s)' % (old['last_seq'], new['first_seq']))
        expect(set(old['sources']) == {rp1} and set(new['sources']) == {rp6}
               and set(old['rtcp_sources']) <= {rp1c} and set(new['rtcp_sources']) == {rp6c},
               'A saw only the relay: %s (RTCP %s) over IPv4, %s (RTCP %s) over IPv6: %r %r'
               % (rp1, rp1c, rp6, rp6c, old['sources'], new['sources']))

        # The relay and control.
        # (A may never send the relay an NS: the relay's own NS for A gave
        # A its link-layer address, RFC 4861 7.2.3.)
        expect(d.get('nd_requests', 0) >= 1,
               'relay: resolved %s over NDP (nd_requests +%d, nd_replies +%d)'
               % (e2e.PHONE_A_IP6, d.get('nd_requests', 0), d.get('nd_replies', 0)))
        # The phones' kernels send ICMPv6 (MLD reports with a hop-by-hop
        # header, RS) on the relay's link: not UDP, dropped and counted.
        noise = ('drop_not_udp', 'drop_ipv6_ext')
        other = {k: v for k, v in d.items() if k.startswith('drop_')
                 and k not in ('drop_no_stream', 'drop_neigh_pending') + noise}
        expect(not other, 'relay: no other drop (%s; ICMPv6 noise %s)'
               % (other, {k: d[k] for k in noise if k in d}))
        relayed = a['received'] + b['received'] + a['rtcp_received'] + b['rtcp_received']
        expect(d.get('relayed', 0) == relayed,
               'relay: relayed +%d = every packet the phones received (got %d)'
               % (relayed, d.get('relayed', 0)))
        expect(d.get('handovers', 0) == 0 and not e2e.handover_lines(ctl, CALL),
               'a re-offer is no handover: handovers +0, no handover line')
        h1 = e2e.info_handovers(cmd('I'))
        expect(h0 is not None and h1 == h0, 'I: no handover (%s -> %s)' % (h0, h1))
        out, err = ctl.output()
        moved = re.findall(r'\[%s\] leg (\d) moved from IPv4 port %d to IPv6 port %d'
                           % (re.escape(CALL), p1, l_port), out + err)
        expect(len(moved) == 1, 'control logged leg A\'s move from IPv4 port %d to IPv6 port '
               '%d: %r' % (p1, l_port, moved))
        # Q counts the call's current streams: leg A's IPv4 one is gone, so
        # B's packets (all of them, on leg B's stream) and A's over IPv6.
        q = cmd('Q %s a;1 b;1' % CALL).split()
        rtp = a['received'] + new['rtp_sent']
        expect(len(q) == 5 and int(q[3]) == rtp,
               'Q: the call\'s current streams relayed %d RTP packets: B\'s %d and A\'s %d over '
               'IPv6 (%s)' % (rtp, a['received'], new['rtp_sent'], ' '.join(q)))
        expect('active sessions: 1' in cmd('I'), 'I: one active session')
        check(cmd('D %s a' % CALL) == '0', 'D deletes the call')
        e2e.stop_relay(dp, ctl)
        names = list(topo.ns.values())
    check(not [n for n in names if e2e.netns_exists(n)], 'every namespace is gone')


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
