#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_attack: a blind RTP Bleed attacker against a live call (DESIGN.md §4).

Issue 3's attack test, in namespaces it creates (rtpb_e2e, with the
attacker namespace 192.0.2.66 on the relay's LAN).  A call is set up with
U/L; phones A and B stream 20 ms RTP.  Once both relay streams have
latched their phone (Q shows packets in on both legs, so the learning
window can no longer be won), the attacker (rtpb_phone.py --attack) sends
bursts at both relay ports of the call every 7 ms, interleaved with the
phones' 20 ms packets, rotating four patterns of 9 packets per target:
random SSRC per packet; the real SSRC (as if sniffed) with consecutive
wrong sequence numbers; a sustained stream with one attacker SSRC and
random sequence numbers; the real SSRC with random wrong sequence
numbers.  A candidate needs 10 consecutive packets with one SSRC and
increasing sequence numbers (--probation-rtp 10) and the attacker never
builds a run longer than 9 (it reports max_run), whatever the timing;
with the real SSRC, its sequence numbers are outside the RFC 3550 A.1
window of the real ones, so the one-packet same-SSRC rule never applies.

Asserted:
  - the attacker receives nothing;
  - each phone receives exactly the other's packets, all of them, intact,
    from the relay only, and no attacker packet (SSRCs, 'ATCK' marker);
  - the relay: its latch drops (not_peer, pace, budget) = exactly the
    number of packets the attacker sent, no other drop, no handover,
    relayed = the phones' packets;
    'Q' counts the attacker's packets as the call's drops, 'I' no
    handover; control logs no handover and never names the attacker;
  - no mbuf leaked, nothing left behind.

Usage (root): test_attack.py --build BUILD_DIR
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

N_PKTS = 300            # per phone, 20 ms apart: 6 s
INTERVAL_MS = 20
PROBATION_RTP = 10      # the dataplane's default --probation-rtp
ATTACK_MS = 3000
ATTACK_TICK_MS = 7
ATTACK_BURST = PROBATION_RTP - 1
ATTACK_PORT = 5000
SSRC_A, SSRC_B = 'a0a0a0a0', 'b0b0b0b0'
CALL = 'attack-call-1'


def stats(prefix):
    return e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)


def body(build, prefix):
    with e2e.Topology(attacker=True) as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix)
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)  # noqa: E731
        relay = e2e.RELAY_IP
        p0, _, _ = e2e.parse_ul_reply(cmd('U %s %s 4000 a;1' % (CALL, e2e.PHONE_A_IP)))
        p1, _, _ = e2e.parse_ul_reply(cmd('L %s %s 6000 a;1 b;1' % (CALL, e2e.PHONE_B_IP)))
        e2e.log('call: A sends to %s, B to %s' % (e2e.hostport(relay, p1), e2e.hostport(relay, p0)))
        s0 = stats(prefix)
        h0 = e2e.info_handovers(cmd('I'))
        call = e2e.Call(topo, e2e.hostport(relay, p1), e2e.hostport(relay, p0), N_PKTS,
                        INTERVAL_MS, 'attacked', start_delay_ms=1000, ssrcs=(SSRC_A, SSRC_B),
                        linger_ms=1000)

        # Both streams latched to their phone: Q shows packets in on both
        # legs (bounded wait).  Only then may the attacker start.
        q = None
        deadline = time.monotonic() + 15
        for _ in range(1000):               # and at most 15-20 s
            if time.monotonic() >= deadline:
                break
            q = cmd('Q %s a;1 b;1' % CALL).split()
            if len(q) == 5 and int(q[1]) > 0 and int(q[2]) > 0:
                break
            time.sleep(0.05)
        check(q is not None and len(q) == 5 and int(q[1]) > 0 and int(q[2]) > 0,
              'both legs latched to their phone before the attack (Q %s)' % q)

        targets = '%s,%s' % (e2e.hostport(relay, p1), e2e.hostport(relay, p0))
        att = e2e.PhoneRun(topo, 'at', 'attacker', [
            '--bind', e2e.hostport(e2e.ATTACKER_IP, ATTACK_PORT), '--attack', targets,
            '--attack-ssrc', '%s,%s' % (SSRC_A, SSRC_B), '--attack-seq-range', '20000:60000',
            '--attack-burst', str(ATTACK_BURST), '--attack-tick-ms', str(ATTACK_TICK_MS),
            '--attack-duration-ms', str(ATTACK_MS), '--attack-max-pkts', '20000',
            '--linger-ms', '500'], timeout_s=ATTACK_MS / 1000 + 20)
        r = att.result()
        a, b = call.results()
        s1 = stats(prefix)
        d = e2e.stats_delta(s0, s1)
        e2e.log('attacker: sent %d (%s), received %d, %d ticks' % (
            r['sent'], ', '.join('%s: %d, max run %d, %s' % (t, v['sent'], v['max_run'],
                                                             v['by_pattern'])
                                 for t, v in r['per_target'].items()),
            r['received'], r['ticks']))
        for name, p in (('A', a), ('B', b)):
            e2e.log('phone %s: sent %d, received %d (valid %d, invalid %d, attack-marked %d), '
                    'ssrcs %s, sources %s' % (name, p['sent'], p['received'],
                                              p['received_valid'], p['invalid'],
                                              p['attack_marked'], p['peer_ssrcs'], p['sources']))
        e2e.log('relay: %s' % d)

        # The attacker did attack, with every pattern, and never built a
        # run a candidate could win with.
        pt = r['per_target']
        expect(set(pt) == {e2e.hostport(relay, p1), e2e.hostport(relay, p0)}
               and all(v['sent'] > 0 and min(v['by_pattern'].values()) > 0 for v in pt.values()),
               'the attacker sent every pattern at both relay ports (%d packets)' % r['sent'])
        expect(all(v['max_run'] < PROBATION_RTP for v in pt.values()),
               'its longest run of one SSRC with increasing sequence numbers is %d < %d'
               % (max(v['max_run'] for v in pt.values()), PROBATION_RTP))
        expect(r['received'] == 0, 'the attacker received nothing (%d from %s)'
               % (r['received'], r['sources']))

        # The phones: everything of the other phone, nothing of the attacker.
        expect(a['sent'] == N_PKTS and b['sent'] == N_PKTS, 'both phones sent %d' % N_PKTS)
        for name, p, other, port in (('A', a, SSRC_B, p1), ('B', b, SSRC_A, p0)):
            expect(p['received'] == N_PKTS and p['received_valid'] == N_PKTS and p['lost'] == 0
                   and p['duplicates'] == 0,
                   'phone %s received all %d packets of the other phone, intact, once'
                   % (name, N_PKTS))
            expect(p['attack_marked'] == 0 and p['invalid'] == 0 and p['header_mismatch'] == 0
                   and p['peer_ssrcs'] == [other],
                   'phone %s received no attacker packet (SSRCs %s)' % (name, p['peer_ssrcs']))
            expect(p['sources'] == {e2e.hostport(relay, port): N_PKTS},
                   'phone %s saw only the relay %s as source' % (name, e2e.hostport(relay, port)))

        # The relay's latch dropped every attacker packet (not_peer, pace,
        # budget), and nothing else.
        expect(e2e.latch_drops(d) == r['sent'],
               'relay: latch drops +%d = exactly the attacker\'s packets (%d): %s'
               % (e2e.latch_drops(d), r['sent'],
                  {k: d.get(k, 0) for k in e2e.LATCH_DROPS}))
        other = {k: v for k, v in d.items()
                 if k.startswith('drop_') and k not in e2e.LATCH_DROPS}
        expect(not other, 'relay: no other drop (%s)' % other)
        expect(d.get('handovers', 0) == 0 and 'handovers' in s1,
               'relay: no handover (handovers counter present: %s)' % ('handovers' in s1))
        expect(d.get('relayed', 0) == 2 * N_PKTS, 'relay: relayed +%d (the phones\' packets)'
               % (2 * N_PKTS))
        q = cmd('Q %s a;1 b;1' % CALL).split()
        expect(len(q) == 5 and int(q[3]) == 2 * N_PKTS and int(q[4]) == r['sent'],
               "Q: the call relayed %d and dropped the attacker's %d: %s"
               % (2 * N_PKTS, r['sent'], ' '.join(q)))
        h1 = e2e.info_handovers(cmd('I'))
        expect(h0 is not None and h1 == h0, 'I: no handover (%s -> %s)' % (h0, h1))
        out, err = ctl.output()
        expect(not e2e.handover_lines(ctl, CALL) and e2e.ATTACKER_IP not in out + err,
               'control logged no handover and never names the attacker %s' % e2e.ATTACKER_IP)
        check(cmd('D %s a' % CALL) == '0', 'D deletes the call')
        e2e.stop_relay(dp, ctl)
        names = list(topo.ns.values())
    check(not [n for n in names if e2e.netns_exists(n)], 'every namespace is gone')


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
