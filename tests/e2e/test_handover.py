#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_handover: a phone moves mid-call without signalling (DESIGN.md §4).

Issue 3's handover test, in namespaces it creates (rtpb_e2e).  A call is
set up with U/L (A at 192.0.2.10, B at 198.51.100.20 behind the router);
both phones stream 20 ms RTP (B half a period after A, so that the
counts taken at the switch do not depend on which of two packets sent at
the same moment comes first) and send an RTCP SR every 200 ms.  After
MOVE_AT packets phone A continues from its second address 192.0.2.11 and
another port (Topology.add_phone_a_alt()), with no signalling, its RTCP
socket moving along (new port + 1).  Phone A keeps its old socket open and
reports apart what still reached it after the move: those are the packets
a real phone, whose old address is gone, would lose.

Two cases, each its own call on the same relay:
  same_ssrc  A keeps SSRC and sequence numbers.  The relay takes the new
             address on its first packet (--probation-ssrc 1) and forwards
             it: A->B loses nothing (0 dropped in probation); at most 1 of
             B's packets goes to the old address after the move.
  new_ssrc   A restarts with a new SSRC and a random sequence start.  The
             relay drops 9 packets and takes the new address on the 10th
             (--probation-rtp 10), which it forwards: A->B loses exactly 9;
             the return stream reaches A's new address only once A sent 10
             packets from it (at most 11: one more on its way), and at
             most 11 of B's packets go to the old address meanwhile.
In both, the relay may drop the first RTP and the first RTCP packet it
sends to A's new address while it resolves it (ARP: the address was never
signalled, so nothing resolved it before; drop_neigh_pending): at most 1
each, counted exactly.

Asserted per case, exactly (sent = received + lost, each loss accounted
for by a relay counter):
  - A->B: B received N - dropped packets, all intact, once; dropped = the
    relay's latch drops = the count in control's log line; with a new
    SSRC, the first of it B got is the 10th A sent;
  - B->A: B's packets reached A (old or new socket) intact and once, but
    the relay's drop_neigh_pending (at most 1 RTP, 1 RTCP); the return
    stream switched once and in order (first sequence on the new socket
    = last on the old one + 1 + lost); what reached the old address after
    the move is within the bound above; the return stream did not move
    before the candidate won (A had sent 1, resp. 10, packets from the
    new address when B's first reached it);
  - B sees only the relay (its port from U) as source, A only the relay
    (its port from L) on both sockets, RTCP likewise (port + 1);
  - RTCP follows the handover (DESIGN.md §4.6): B's SRs reach A's new
    port + 1, and every SR of either phone is relayed (but a neighbour
    drop);
  - the relay: handovers +1, relayed = every packet the phones received;
    control logs one handover line for the call (old and new address,
    dropped count), 'I' counts one more handover, 'Q' the call's relayed
    and dropped RTP packets;
  - no mbuf leaked, nothing left behind.

Usage (root): test_handover.py --build BUILD_DIR
"""

import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

N_PKTS = 200            # per phone, 20 ms apart: 4 s
MOVE_AT = 80            # A's packets 0..79 from the old socket
INTERVAL_MS = 20
RTCP_MS = 200
PROBATION_RTP = 10      # the dataplane's default --probation-rtp
SSRC_A, SSRC_B, SSRC_A2 = 'a0a0a0a0', 'b0b0b0b0', 'c0c0c0c0'


def stats(prefix):
    return e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)


def run_case(topo, prefix, ctl, name, new_ssrc, a_port, b_port):
    cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)  # noqa: E731
    call_id = 'handover-%s' % name
    relay = e2e.RELAY_IP
    e2e.log('=== case %s: A moves %s SSRC' % (name, 'to a new' if new_ssrc else 'keeping its'))
    p0, addr0, _ = e2e.parse_ul_reply(cmd('U %s %s %d a;1' % (call_id, e2e.PHONE_A_IP, a_port)))
    p1, addr1, _ = e2e.parse_ul_reply(cmd('L %s %s %d a;1 b;1' % (call_id, e2e.PHONE_B_IP, b_port)))
    check(addr0 == relay and addr1 == relay, 'U/L name the relay %s: ports %d, %d' % (relay, p0, p1))

    dropped = PROBATION_RTP - 1 if new_ssrc else 0
    bound_old = PROBATION_RTP + 1 if new_ssrc else 1
    new_bind = e2e.hostport(e2e.PHONE_A_IP2, a_port + 2)
    a_extra = ['--rtcp', '--rtcp-interval-ms', str(RTCP_MS),
               '--move-after', str(MOVE_AT), '--move-bind', new_bind]
    start_seq2 = None
    if new_ssrc:
        start_seq2 = random.randrange(65536)
        a_extra += ['--move-ssrc', SSRC_A2, '--move-start-seq', str(start_seq2)]
    b_extra = ['--rtcp', '--rtcp-interval-ms', str(RTCP_MS)]

    s0 = stats(prefix)
    h0 = e2e.info_handovers(cmd('I'))
    mark = ctl.log_mark()
    a, b = e2e.Call(topo, e2e.hostport(relay, p1), e2e.hostport(relay, p0), N_PKTS,
                    INTERVAL_MS, 'ho_' + name, start_delay_ms=1000, a_port=a_port,
                    b_port=b_port, ssrcs=(SSRC_A, SSRC_B), linger_ms=1000,
                    a_extra=a_extra, b_extra=b_extra, b_lag_ms=INTERVAL_MS / 2).results()
    s1 = stats(prefix)
    d = e2e.stats_delta(s0, s1)
    mv = a['move']
    old, new = mv['old'], mv['new']
    e2e.log('phone A: sent %d (old %d, new %d), received %d (old before move %d, old after move '
            '%d, new %d, new had sent %s when the first arrived), rtcp sent %d received %d '
            '(new %d)' % (a['sent'], old['rtp_sent'], new['rtp_sent'], a['received'],
                          old['before_move'], old['after_move'], new['received'],
                          new['sent_before_first_rx'], a['rtcp_sent'], a['rtcp_received'],
                          new['rtcp_received']))
    e2e.log('phone B: sent %d, received %d valid %d lost %d, per ssrc %s, rtcp sent %d received %d'
            % (b['sent'], b['received'], b['received_valid'], b['lost'], b['per_ssrc'],
               b['rtcp_sent'], b['rtcp_received']))
    e2e.log('relay: %s' % d)

    # What the phones sent.
    expect(a['sent'] == N_PKTS and b['sent'] == N_PKTS and not a['send_errors']
           and not b['send_errors'], 'both phones sent %d' % N_PKTS)
    expect(mv['done'] and old['rtp_sent'] == MOVE_AT and new['rtp_sent'] == N_PKTS - MOVE_AT,
           'A sent %d from %s, then %d from %s' % (MOVE_AT, old['bind'], N_PKTS - MOVE_AT,
                                                     new['bind']))

    # A -> B: exactly the packets dropped in probation are missing.
    want_b = N_PKTS - dropped
    expect(b['received'] == want_b and b['received_valid'] == want_b and b['duplicates'] == 0
           and b['invalid'] == 0,
           'A->B: B received %d = %d sent - %d dropped in probation, intact, once (got %d, %d '
           'valid)' % (want_b, N_PKTS, dropped, b['received'], b['received_valid']))
    if new_ssrc:
        po, pn = b['per_ssrc'].get(SSRC_A, {}), b['per_ssrc'].get(SSRC_A2, {})
        expect(po.get('unique') == MOVE_AT and po.get('lost') == 0,
               'A->B: all %d packets of the old SSRC arrived: %s' % (MOVE_AT, po))
        first = (start_seq2 + dropped) & 0xffff
        expect(pn.get('unique') == N_PKTS - MOVE_AT - dropped and pn.get('lost') == 0
               and pn.get('min_ext_seq') is not None and pn['min_ext_seq'] & 0xffff == first,
               'A->B: of the new SSRC (seq from %d), the first %d were dropped and the %dth '
               '(seq %d) onwards all arrived: %s' % (start_seq2, dropped, dropped + 1, first, pn))
    else:
        expect(b['peer_ssrcs'] == [SSRC_A] and b['lost'] == 0,
               'A->B: one SSRC, no sequence gap across the move')
    expect(b['sources'] == {e2e.hostport(relay, p0): want_b},
           'B saw only the relay %s as source: %r' % (e2e.hostport(relay, p0), b['sources']))

    # B -> A: everything reached A, old or new socket, but what the relay
    # dropped while it resolved A's new address (ARP): at most the first
    # RTP and the first RTCP packet to it.
    lost_ba = N_PKTS - a['received']
    lost_rtcp = b['rtcp_sent'] - a['rtcp_received']
    neigh = d.get('drop_neigh_pending', 0)
    expect(a['received_valid'] == a['received'] and a['duplicates'] == 0 and a['invalid'] == 0,
           'B->A: what reached A is intact and came once')
    expect(0 <= lost_ba <= 1 and 0 <= lost_rtcp <= 1 and lost_ba + lost_rtcp == neigh
           and a['lost'] == lost_ba,
           'B->A: sent %d = received %d (old socket %d, new %d) + lost %d; RTCP sent %d = '
           'received %d + lost %d; the losses are the relay\'s drop_neigh_pending +%d (at most '
           'the first RTP and RTCP packet to the new address, while it resolves it)'
           % (N_PKTS, a['received'], old['received'], new['received'], lost_ba, b['rtcp_sent'],
              a['rtcp_received'], lost_rtcp, neigh))
    expect(new['received'] > 0 and new['first_seq'] == (old['last_seq'] + 1 + lost_ba) & 0xffff,
           'B->A: the return stream switched once, in order (last seq on the old socket %s, '
           'first on the new %s)' % (old['last_seq'], new['first_seq']))
    expect(old['after_move'] <= bound_old,
           'B->A: %d of B\'s packets went to A\'s old address after the move (the loss of a '
           'phone whose old address is gone), at most %d' % (old['after_move'], bound_old))
    # The return stream moves when the candidate wins: with A's 1st (same
    # SSRC) or 10th (new SSRC) packet from the new address.  That many, or
    # one more (B's next packet was on its way), had left A when B's first
    # reached the new address; one more again if the relay dropped that one
    # while resolving the address.  The lower bound is the security
    # property: the return stream never moves before the candidate won.
    k = new['sent_before_first_rx']
    wins_at = PROBATION_RTP if new_ssrc else 1
    expect(k is not None and wins_at <= k <= wins_at + 1 + lost_ba,
           'B->A: the return stream reached A\'s new address when A had sent %s packets from '
           'it: not before the %d%s that won, at most %d' % (
               k, wins_at, {1: 'st'}.get(wins_at, 'th'), wins_at + 1 + lost_ba))
    rp1 = e2e.hostport(relay, p1)
    expect(set(old['sources']) <= {rp1} and set(new['sources']) == {rp1},
           'A saw only the relay %s as source, on both sockets: %r %r'
           % (rp1, old['sources'], new['sources']))

    # RTCP: relayed both ways, and B's follows A to its new port + 1.
    rp0c, rp1c = e2e.hostport(relay, p0 + 1), e2e.hostport(relay, p1 + 1)
    expect(b['rtcp_received'] == a['rtcp_sent'] and b['rtcp_sources'] == {rp0c: a['rtcp_sent']},
           'RTCP A->B: all %d SRs (old %d, new %d) relayed from %s: %r'
           % (a['rtcp_sent'], old['rtcp_sent'], new['rtcp_sent'], rp0c, b['rtcp_sources']))
    expect(a['rtcp_received'] + lost_rtcp == b['rtcp_sent'],
           'RTCP B->A: %d SRs = %d relayed (old socket %d, new %d) + %d lost above'
           % (b['rtcp_sent'], a['rtcp_received'], old['rtcp_received'], new['rtcp_received'],
              lost_rtcp))
    expect(new['rtcp_received'] > 0 and set(new['rtcp_sources']) == {rp1c}
           and set(old['rtcp_sources']) <= {rp1c},
           'RTCP follows the handover: %d of B\'s SRs reached A\'s new port + 1 from %s'
           % (new['rtcp_received'], rp1c))

    # The relay's counters, control's log line, I and Q.
    expect(d.get('handovers', 0) == 1,
           'relay: handovers +1 (delta %s; stats has handovers: %s)'
           % (d.get('handovers', 0), 'handovers' in s1))
    expect(e2e.latch_drops(d) == dropped,
           'relay: latch drops +%d (the packets dropped in probation)' % e2e.latch_drops(d))
    relayed = b['received'] + a['received'] + a['rtcp_received'] + b['rtcp_received']
    expect(d.get('relayed', 0) == relayed,
           'relay: relayed +%d = every packet the phones received (got %d)'
           % (relayed, d.get('relayed', 0)))
    old_a = e2e.hostport(e2e.PHONE_A_IP, a_port)
    try:
        ctl.wait_for_log(r'\[%s\] leg \d+ (RTCP )?handover from' % re.escape(call_id), timeout=3,
                         since=mark)
    except e2e.E2EError:
        pass
    lines = e2e.handover_lines(ctl, call_id)
    for ln in lines:
        e2e.log('control: %s' % ln['line'])
    expect(len(lines) == 1 and not lines[0]['rtcp'] and lines[0]['old'] == old_a
           and lines[0]['new'] == new_bind and lines[0]['dropped'] == dropped,
           'control logged one handover for %s: from %s to %s, %d dropped in probation: %s'
           % (call_id, old_a, new_bind, dropped, [ln['line'] for ln in lines]))
    info = cmd('I')
    h1 = e2e.info_handovers(info)
    expect(h0 is not None and h1 is not None and h1 - h0 == 1,
           "I counts one more handover (%s -> %s): %r" % (h0, h1, info))
    q = cmd('Q %s a;1 b;1' % call_id).split()
    rtp_relayed = a['received'] + b['received']
    expect(len(q) == 5 and int(q[3]) == rtp_relayed and int(q[4]) == dropped + lost_ba,
           "Q: the call relayed %d RTP packets and dropped %d (%d in probation, %d resolving "
           "A's new address): %r" % (rtp_relayed, dropped + lost_ba, dropped, lost_ba,
                                     ' '.join(q)))
    check(cmd('D %s a' % call_id) == '0', 'D deletes the call')


def body(build, prefix):
    with e2e.Topology() as topo:
        topo.add_phone_a_alt()
        dp, ctl = e2e.start_relay(topo, build, prefix)
        run_case(topo, prefix, ctl, 'same_ssrc', False, 4000, 6000)
        run_case(topo, prefix, ctl, 'new_ssrc', True, 4100, 6100)
        check('active sessions: 0' in e2e.rtpproxy_cmd(topo.relay, 'I'), 'no session left')
        e2e.stop_relay(dp, ctl)
        names = list(topo.ns.values())
    check(not [n for n in names if e2e.netns_exists(n)], 'every namespace is gone')


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
