#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_hijack: a live phone keeps its stream (issue 15, DESIGN.md §4.9).

Every row of issue 15's table, end to end in namespaces this test creates
(rtpb_e2e: phone A 192.0.2.10 (+ .11, + 2001:db8:a::10), the attacker
192.0.2.66 on the relay's LAN, phone B 198.51.100.20 behind the router),
against the real dataplane on net_af_xdp, with the XDP prefilter in front
(--xdp 1) or without it (--xdp 0: the software path alone).

Phones (rtpb_phone.py) send 20 ms RTP and, every 1 s, RTCP as phones do:
SR (RR while silent) + SDES CNAME from port + 1; silences stop RTP while
RTCP goes on.  Attackers know the relay address and ports only (but the
observer, who also knows SSRC, sequence, pacing and CNAME); their packets
carry the 'ATCK' marker, so a phone counts exactly what was injected into
it, and each attacker counts what it received.  Times are ms after the
shared start T0 of the phase (all processes log on that axis): every
process is started, binds and waits (rtpb_phone.py --start-file); T0 is
picked once all are bound, so a slow spawn never makes a phone late.

Phase 1: all these calls at once on one relay (each its own call-id,
phones, ports and attacker sockets; the per-stream budgets are per stream,
so they do not interfere):

  talking     A and B talk 12 s; from 2 s to 10 s, at both legs' ports:
              paced RTP (fixed SSRC, and a new SSRC per packet), bursts of
              12 in 0.2 ms (fixed and random SSRC), RTCP SR+SDES (fixed
              and random SSRC, to port + 1), STUN and DTLS.
              Required: the attackers receive 0, the phones get 0 injected.
  dtx         A talks 2 s, DTX 10 s (RTCP goes on), talks 3 s; a paced
              new-SSRC attacker from 1 s into the silence to its end.
              Required: 0 received, 0 injected; A's first RTP after the
              silence reaches B.
  hold        A on hold 30 s (2 s to 32 s, RTCP goes on); a paced and a
              bursting attacker from 1 s into the hold to its end: 0, 0.
  onset       A talks 3 s, DTX 5 s, talks 4 s; a paced new-SSRC attacker
              from 2 s to 11 s, across the onset of the silence (where it
              may win provisionally: a move and a silence look alike).
              Required: if it won, A won back on its first RTP or RTCP
              packet sent after the attacker's first reception (+100 ms
              for packets in flight), and that attacker source received
              nothing after that for the rest of the call.  Figures: what
              leaked (packets, ms) and what was injected.
  observer    A and B talk 12 s; from 3 s to 9 s an observer injects, 10 ms
              after each of A's packets, A's SSRC with the next sequence
              number (observer_cname: and an RTCP SR + SDES with A's SSRC
              and CNAME before it).  Required: A wins back on its next
              packet (the observer's receptions end within 100 ms of
              A's first packet after them); the leaked share is printed.
  onset_nat, observer_nat, observer_cname_nat   the same with A behind NAT: its SDP names
              203.0.113.10, it sends from 192.0.2.10, so the relay latches
              it from packets and A never wins back as 'the signalled
              address': only the revert rule (and its refusal) can.
  window      A and B talk 14 s; at 3 s a re-offer (U and L again) opens
              a learning window; from 3.1 s to 12 s a third host sends STUN,
              DTLS, paced and bursting RTP at both ports.  Required: 0
              forwarded to either phone, 0 received.
  ssrc_move_talk     A moves to 192.0.2.11 keeping SSRC and sequence while
                     talking: at most 1 packet lost each way.
  ssrc_move_silence  A moves at the end of a 3 s silence, same SSRC: at
                     most 1 lost each way.
  newssrc_move_talk  A moves with a new SSRC while talking, its old address
                     goes quiet (RTP and RTCP): at most 12 lost each way
                     (9, more when a stalled sender bursts).
  newssrc_move_silence_cname    A moves in a silence (at 5 s of 3-7 s) with
                     a new SSRC, its new address sends RTCP with A's CNAME
                     at once; RTP resumes there at 7 s.  Required: B gets
                     the new SSRC from its first packet; times printed.
  newssrc_move_silence_overdue  the same, moved at 6.5 s, and no RTCP from
                     the new address before RTP reached it: the relay
                     follows once the old address's RTCP is overdue (about
                     two intervals after the last one).  Required: it
                     follows within 4 s of the resume; times printed.
  reoffer_v4  at 4 s, A re-offers from 192.0.2.11 (U, L) and moves there:
              at most 1 lost each way after the U.
  reoffer_v6  at 5 s, A re-offers over IPv6 (U6, L: a new IPv6 relay
              port) and moves there: at most 1 lost each way after the U.
  canary      a call nobody attacks or moves, for the whole phase: no
              assertion; its loss (figure longest_gap_ms) is the host's
              (a relay lcore stalled on a loaded 2-CPU machine), to read
              the other figures of the run with.

Phase 2 (it restarts the dataplane, so alone): a call talks; at 3 s the
dataplane is stopped and started again, control replays the call; once
RTP flows again both ways, a third host sends STUN, DTLS, paced and
bursting RTP for 8 s at both ports.  Required: 0 forwarded, 0 received.

One line per case: 'FIGURE case=<name> xdp=<0|1> key=value ...', and the
relay's drop counters per phase.  Every assertion is expect(): one run
shows every case that fails.

Usage (root): test_hijack.py --build BUILD_DIR [--xdp 0|1]
              [--cases NAME,...] [--no-replay]
"""

import argparse
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

IV = 20                 # ms between RTP packets
RTCP_MS = 1000          # RTCP interval of every phone
PKT_S = 1000 // IV      # packets per second
SLACK_MS = 100          # packets in flight when a stream switches back
ATT_IP = e2e.ATTACKER_IP
NAT_SIGNALLED = '203.0.113.10'  # A's SDP address in the NAT cases (RFC 5737)
RELAY = e2e.RELAY_IP
DROP_KEYS = ('drop_not_peer', 'drop_peer_alive', 'drop_refused', 'drop_budget',
             'drop_pace', 'drop_neigh_pending', 'drop_no_stream')

OPTS = None             # parsed options
T0 = '{T0}'             # the phase's start T0 in process arguments, see _rel()
FIGURES = []           # every FIGURE line, printed again at the end


def _rel(arg):
    """'{T0}' -> '0' and '{T0}+x' -> 'x': offsets from T0 (--start-file)."""
    if not arg.startswith(T0):
        return arg
    return '%.3f' % float(arg[len(T0) + 1:] or 0)


def figure(case, **kv):
    line = 'FIGURE case=%s xdp=%d %s' % (case, OPTS.xdp, ' '.join(
        '%s=%s' % (k, ('%.0f' % v) if isinstance(v, float) else v) for k, v in kv.items()))
    FIGURES.append(line)
    print(line, flush=True)
    e2e.log(line)


class Env:
    """The relay under test and what the cases share."""

    def __init__(self, topo, build, prefix):
        self.topo, self.build, self.prefix = topo, build, prefix
        self.dp = self.ctl = None
        self.next_port = 4000
        self.next_att = 5000

    def cmd(self, c):
        return e2e.rtpproxy_cmd(self.topo.relay, c)

    def ports(self):
        """A, B (and A's moved) local ports for the next call."""
        p = self.next_port
        self.next_port += 20
        return p, p + 2000

    def att_port(self):
        self.next_att += 2
        return self.next_att

    def stats(self):
        return e2e.telemetry(self.prefix, '/rtpbypass/stats', unwrap=True)


class Case:
    """One call of the table: set up with U/L; A sends to the relay port
    of leg A's stream (pa_to), B to leg B's (pb_to)."""

    def __init__(self, env, name, nat=False):
        self.env, self.name = env, name
        self.call = 'hj-%s' % name
        self.a_port, self.b_port = env.ports()
        # nat: A's SDP names another address than the one it sends from (a
        # phone behind NAT): the relay latches A from its packets, and never
        # takes A back as 'the signalled address'
        a_sig = (NAT_SIGNALLED, self.a_port) if nat else (e2e.PHONE_A_IP, self.a_port)
        self.u_cmd = 'U %s %s %d a;1' % (self.call, a_sig[0], a_sig[1])
        self.l_cmd = 'L %s %s %d a;1 b;1' % (self.call, e2e.PHONE_B_IP, self.b_port)
        r_u, r_l = env.cmd(self.u_cmd), env.cmd(self.l_cmd)
        self.p0, _, _ = e2e.parse_ul_reply(r_u)     # B sends here (leg B's stream)
        self.p1, _, _ = e2e.parse_ul_reply(r_l)     # A sends here (leg A's stream)
        self.pa_to = e2e.hostport(RELAY, self.p1)
        self.pb_to = e2e.hostport(RELAY, self.p0)
        self.runs = {}
        self.res = {}
        self.specs = []         # processes to launch(): (key, ns, args, start_s, run_s)
        self.at = []            # control actions: (s after T0, fn)
        if nat:
            # the processes may take longer to start than the learning
            # window lasts: open a new one just before T0, so that A
            # latches from its first packet as a phone behind NAT does
            self.at.append((-0.3, lambda: reoffer_same(self)))

    def phone(self, role, t0, count, ssrc, extra=(), run_s=None, bind=None, lag_ms=0):
        """Phone 'a' or 'b' of this call, from the phase's start (t0 is a
        placeholder here: launch() gives the real one)."""
        bind = bind or (e2e.hostport(e2e.PHONE_A_IP, self.a_port) if role == 'a'
                        else e2e.hostport(e2e.PHONE_B_IP, self.b_port))
        to = self.pa_to if role == 'a' else self.pb_to
        run_s = run_s if run_s is not None else count * IV / 1000.0
        args = ['--bind', bind, '--to', to, '--count', str(count), '--interval-ms', str(IV),
                '--ssrc', ssrc, '--linger-ms', '1500',
                '--start-at', T0 + ('+%.3f' % (lag_ms / 1e3) if lag_ms else ''),
                '--time-base', T0,
                '--rtcp', '--rtcp-interval-ms', str(RTCP_MS), '--rx-log', '--tx-log'] \
            + list(extra)
        self.specs.append((role, 'pa' if role == 'a' else 'pb', args, 0.0, run_s))

    def attacker(self, key, t0, start_s, dur_s, targets, mode, extra=()):
        args = ['--bind', e2e.hostport(ATT_IP, self.env.att_port()),
                '--attack', ','.join(targets), '--attack-mode', mode,
                '--start-at', T0 + '+%.3f' % start_s, '--time-base', T0,
                '--attack-duration-ms', str(int(dur_s * 1000)), '--linger-ms', '1000',
                '--attack-max-pkts', '200000', '--payload-size', '160'] + list(extra)
        self.specs.append((key, 'at', args, start_s, dur_s))

    def launch(self, start_file):
        """Start every process of this case; they bind, print READY and
        wait until start_file holds T0 (start())."""
        for key, ns, args, start_s, run_s in self.specs:
            args = [_rel(x) for x in args] + ['--start-file', start_file]
            self.runs[key] = e2e.PhoneRun(self.env.topo, ns, '%s_%s' % (self.name, key),
                                          args, start_s + run_s + 60)
        self.specs = []

    def results(self):
        for k, r in self.runs.items():
            try:
                self.res[k] = r.result()
            except e2e.E2EError as e:
                expect(False, '%s: %s: %s' % (self.name, k, e))
                self.res[k] = None
        return self.res

    def attackers(self):
        return {k: v for k, v in self.res.items() if k not in ('a', 'b') and v}

    def refused_lines(self):
        out, err = self.env.ctl.output()
        return [ln for ln in (out + err).splitlines()
                if '[%s]' % self.call in ln and 'refused' in ln.replace('not refused', '')]


# ---------------------------------------------------------------------------
# Helpers on the phones' JSON.

def lost_ab(a, b):
    """A->B: what A sent that B did not get (valid)."""
    return a['sent'] - b['received_valid']


def lost_ba_moving(a, b):
    """B->A for a phone that moved: never arrived, or arrived at the old
    address after the move (a phone whose old address is gone loses it)."""
    after = a['move']['old'].get('after_move_valid', 0) if a.get('move') else 0
    return b['sent'] - a['received_valid'] + after


def first_rx(p, pred):
    """The first rx_log entry of phone p matching pred, or None."""
    for e in p.get('rx_log') or []:
        if pred(e):
            return e
    return None


def next_tx_after(p, t_ms):
    """Time of the first packet (RTP or RTCP) phone p sent after t_ms."""
    ts = [e[0] for e in p.get('tx_log') or [] if e[0] > t_ms]
    return min(ts) if ts else None


def injected(*phones):
    return sum(p['attack_marked'] for p in phones if p)


def att_rx(case):
    return sum(v['received'] for v in case.attackers().values())


def att_sent(case):
    return sum(v['sent'] for v in case.attackers().values())


# ---------------------------------------------------------------------------
# Phase 1: the cases, set up (start) then checked (finish).

def start_talking(env, t0):
    c = Case(env, 'talking')
    c.phone('a', t0, 12 * PKT_S, 'a1000001')
    c.phone('b', t0, 12 * PKT_S, 'b1000001')
    both = [c.pa_to, c.pb_to]
    rtcp = [e2e.hostport(RELAY, c.p1 + 1), e2e.hostport(RELAY, c.p0 + 1)]
    c.attacker('paced_fixed', t0, 2, 8, both, 'paced', ['--attack-tick-ms', '20'])
    c.attacker('paced_random', t0, 2, 8, both, 'paced', ['--attack-tick-ms', '20',
                                                         '--attack-ssrc-mode', 'random'])
    c.attacker('burst_fixed', t0, 2, 8, both, 'burst', ['--attack-tick-ms', '100',
                                                        '--attack-burst', '12'])
    c.attacker('burst_random', t0, 2, 8, both, 'burst', ['--attack-tick-ms', '100',
                                                         '--attack-burst', '12',
                                                         '--attack-ssrc-mode', 'random'])
    c.attacker('rtcp_fixed', t0, 2, 8, rtcp, 'rtcp', ['--attack-tick-ms', '20',
                                                      '--attack-burst', '1'])
    c.attacker('rtcp_random', t0, 2, 8, rtcp, 'rtcp', ['--attack-tick-ms', '100',
                                                       '--attack-burst', '5',
                                                       '--attack-ssrc-mode', 'random'])
    c.attacker('stun', t0, 2, 8, both, 'stun', ['--attack-tick-ms', '50', '--attack-burst', '2'])
    c.attacker('dtls', t0, 2, 8, both, 'dtls', ['--attack-tick-ms', '50', '--attack-burst', '2'])
    return c, finish_zero


def finish_zero(c):
    """The attackers received nothing and nothing was injected."""
    r = c.results()
    a, b = r['a'], r['b']
    if not (a and b):
        return
    rx, inj = att_rx(c), injected(a, b)
    per = ' '.join('%s:%d/%d' % (k, v['received'], v['sent']) for k, v in c.attackers().items())
    expect(rx == 0, '%s: the attackers received 0 (%d; received/sent: %s)' % (c.name, rx, per))
    expect(inj == 0, '%s: 0 injected into the phones (A %d %s, B %d %s)'
           % (c.name, a['attack_marked'], a['attack_ssrcs'], b['attack_marked'],
              b['attack_ssrcs']))
    extra = {}
    if a.get('silences'):
        s = a['silences'][0]
        first = s['first_idx_after']
        got = first_rx(b, lambda e: e[2] == 'rtp' and e[5] == first) is not None
        extra['first_rtp_after_silence_ok'] = int(got)
        expect(got, '%s: A\'s first RTP after the silence (idx %s, seq %s) reached B'
               % (c.name, first, s['first_seq_after']))
    figure(c.name, attacker_rx=rx, injected=inj, attacker_sent=att_sent(c),
           a_lost=lost_ab(b, a), b_lost=lost_ab(a, b), **extra)


def start_dtx(env, t0):
    c = Case(env, 'dtx')
    # A: 2 s, silence 2-12 s, 3 s: 250 packets
    c.phone('a', t0, 5 * PKT_S, 'a1000002', ['--silence-at-ms', '2000',
                                            '--silence-ms', '10000'], run_s=15)
    c.phone('b', t0, 15 * PKT_S, 'b1000002')
    c.attacker('paced', t0, 3, 9, [c.pa_to], 'paced', ['--attack-tick-ms', '20'])
    return c, finish_zero


def start_hold(env, t0):
    c = Case(env, 'hold')
    hold = OPTS.hold_s
    c.phone('a', t0, 4 * PKT_S, 'a1000003', ['--silence-at-ms', '2000',
                                            '--silence-ms', str(hold * 1000)], run_s=4 + hold)
    c.phone('b', t0, int((4 + hold) * PKT_S), 'b1000003')
    c.attacker('paced', t0, 3, hold - 1, [c.pa_to], 'paced', ['--attack-tick-ms', '20'])
    c.attacker('burst', t0, 3, hold - 1, [c.pa_to], 'burst', ['--attack-tick-ms', '200',
                                                              '--attack-burst', '12'])
    return c, finish_zero


def start_onset(env, t0, nat=False):
    c = Case(env, 'onset_nat' if nat else 'onset', nat)
    # A: 3 s, silence 3-8 s, 4 s: 350 packets
    c.phone('a', t0, 7 * PKT_S, 'a100004%d' % nat, ['--silence-at-ms', '3000',
                                            '--silence-ms', '5000'], run_s=12)
    c.phone('b', t0, 12 * PKT_S, 'b100004%d' % nat)
    c.attacker('paced', t0, 2, 9, [c.pa_to], 'paced', ['--attack-tick-ms', '20'])
    return c, finish_winback


def finish_winback(c):
    """An attacker that won (provisionally, or as an observer) lost the
    stream at the phone's next packet (RTP or RTCP), and its source got
    nothing and injected nothing after that."""
    r = c.results()
    a, b = r['a'], r['b']
    att = r.get('paced') or r.get('observer')
    if not (a and b and att):
        return
    rx, inj = att['received'], injected(a, b)
    inj_at = [e[0] for e in b.get('rx_log') or [] if e[6]]     # attacker packets at B
    starts = [t for t in (att['first_rx_ms'], inj_at[0] if inj_at else None) if t is not None]
    kv = dict(attacker_rx=rx, injected=inj, attacker_sent=att['sent'])
    if not starts:
        expect(True, '%s: the attacker never won (received 0, injected 0)' % c.name)
        kv.update(won=0, hijack_ms=0)
    else:
        t_w = min(starts)       # it won by then
        back = next_tx_after(a, t_w)
        last = max([att['last_rx_ms'] or t_w] + inj_at)
        ok = back is not None and last <= back + SLACK_MS
        expect(ok, '%s: A won back on its first packet after the attacker won (first reception '
               'or injection at %.0f ms): A sent at %s ms; the attacker\'s last reception %s ms, '
               'its last packet at B %s ms (<= +%d)'
               % (c.name, t_w, back, att['last_rx_ms'], inj_at[-1] if inj_at else None,
                  SLACK_MS))
        refused = c.refused_lines()
        expect(refused, '%s: control logged the refused source with the call-id: %s'
               % (c.name, refused[:2]))
        lim = (back if back is not None else t_w) + SLACK_MS
        after = sum(1 for x in att['rx_log'] if x[0] > lim) + sum(1 for t in inj_at if t > lim)
        kv.update(won=1, hijack_ms=round(last - t_w),
                  winback_ms=round(back - t_w) if back is not None else None,
                  winback_ok=int(ok), after_winback=after,
                  refused_logged=int(bool(refused)))
    if c.name.startswith('observer'):
        dur_pkts = (att['last_tx_ms'] - att['first_tx_ms']) / IV + 1 \
            if att['first_tx_ms'] is not None else 0
        kv['leaked_share_pct'] = '%.2f' % (100.0 * rx / dur_pkts if dur_pkts else 0)
        kv['injected_share_pct'] = '%.2f' % (100.0 * b['attack_rtp'] / dur_pkts
                                             if dur_pkts else 0)
        kv['attack_pkts_b'] = round(dur_pkts)
    kv.update(a_lost=lost_ab(b, a), b_lost=lost_ab(a, b))
    figure(c.name, **kv)


def start_observer(env, t0, cname, nat=False):
    c = Case(env, ('observer_cname' if cname else 'observer') + ('_nat' if nat else ''), nat)
    ssrc, seq = 'a10000%d%d' % (5 + cname, nat), 1000
    c.phone('a', t0, 12 * PKT_S, ssrc, ['--start-seq', str(seq)])
    c.phone('b', t0, 12 * PKT_S, 'b10000%d%d' % (5 + cname, nat))
    extra = ['--attack-tick-ms', str(IV), '--observe-ssrc', ssrc, '--observe-seq', str(seq),
             '--observe-t0', T0, '--observe-interval-ms', str(IV)]
    if cname:
        extra += ['--observe-cname', 'phone@%s' % ssrc]
    # 10 ms after A's packets: A's next one is the phone's answer
    c.attacker('observer', t0, 3 + IV / 2000.0, 6, [c.pa_to], 'observer', extra)
    return c, finish_winback


def start_window(env, t0):
    c = Case(env, 'window')
    c.phone('a', t0, 14 * PKT_S, 'a1000007')
    c.phone('b', t0, 14 * PKT_S, 'b1000007')
    both = [c.pa_to, c.pb_to]
    for key, mode, extra in (('stun', 'stun', ['--attack-tick-ms', '50', '--attack-burst', '2']),
                             ('dtls', 'dtls', ['--attack-tick-ms', '50', '--attack-burst', '2']),
                             ('paced', 'paced', ['--attack-tick-ms', '20']),
                             ('burst', 'burst', ['--attack-tick-ms', '100',
                                                 '--attack-burst', '12'])):
        c.attacker(key, t0, 3.1, 8.9, both, mode, extra)
    c.at = [(3.0, lambda: reoffer_same(c))]
    return c, finish_zero


def reoffer_same(c):
    """U and L again, same addresses: a new learning window on both legs."""
    r_u, r_l = c.env.cmd(c.u_cmd), c.env.cmd(c.l_cmd)
    expect(e2e.parse_ul_reply(r_u)[0] == c.p0 and e2e.parse_ul_reply(r_l)[0] == c.p1,
           '%s: the re-offer keeps the ports (U %s, L %s)' % (c.name, r_u, r_l))


def start_move(env, t0, name, new_ssrc, silence):
    c = Case(env, name)
    move_bind = e2e.hostport(e2e.PHONE_A_IP2, c.a_port + 2)
    extra = ['--move-bind', move_bind]
    if silence:
        # 3 s, silence 3-6 s, 4 s; it moves at the first packet after
        extra += ['--silence-at-ms', '3000', '--silence-ms', '3000',
                  '--move-after', str(3 * PKT_S)]
        count, run_s = 7 * PKT_S, 10
    else:
        extra += ['--move-after', str(5 * PKT_S)]
        count, run_s = 10 * PKT_S, 10
    if new_ssrc:
        extra += ['--move-ssrc', 'c100000%d' % (8 if silence else 9), '--move-start-seq', '40000']
    c.phone('a', t0, count, 'a100000%d' % (8 if silence else 9), extra, run_s=run_s)
    # B half a period after A: what goes where at a switch does not depend
    # on which of two packets sent at the same moment comes first
    c.phone('b', t0, int(run_s * PKT_S), 'b100000%d' % (8 if silence else 9), lag_ms=IV / 2)
    # A new SSRC wins on its 10th packet at media pace (9 lost). A sender
    # the loaded host stalled sends its backlog in a burst, and packets
    # under 7 ms apart do not count (DESIGN.md 4.9 media pace): one or two
    # more are lost then, as the figures in docs/SECURITY.md say (10-11).
    c.max_lost = 12 if new_ssrc else 1
    return c, finish_move


def finish_move(c):
    r = c.results()
    a, b = r['a'], r['b']
    if not (a and b):
        return
    mv = a['move']
    lab, lba = lost_ab(a, b), lost_ba_moving(a, b)
    expect(mv['done'], '%s: A moved (%s)' % (c.name, mv['new']['bind']))
    expect(0 <= lab <= c.max_lost and 0 <= lba <= c.max_lost,
           '%s: at most %d lost each way: A->B %d, B->A %d (%d never came, %d reached the old '
           'address after the move)' % (c.name, c.max_lost, lab, lba,
                                        b['sent'] - a['received_valid'],
                                        mv['old'].get('after_move_valid', 0)))
    expect(a['attack_marked'] == 0 and b['attack_marked'] == 0, '%s: nothing foreign' % c.name)
    figure(c.name, lost_ab=lab, lost_ba=lba, handovers=len(e2e.handover_lines(c.env.ctl, c.call)))


def start_move_silence(env, t0, name, cname):
    c = Case(env, name)
    move_bind = e2e.hostport(e2e.PHONE_A_IP2, c.a_port + 2)
    move_at = 5000 if cname else 6500
    extra = ['--move-bind', move_bind, '--move-at-ms', str(move_at),
             '--move-ssrc', 'c10000%s' % ('10' if cname else '11'), '--move-start-seq', '50000',
             '--silence-at-ms', '3000', '--silence-ms', '4000']
    if cname:
        extra.append('--move-rtcp-now')
    # 3 s, silence 3-7 s, 4 s
    c.phone('a', t0, 7 * PKT_S, 'a10000%s' % ('10' if cname else '11'), extra, run_s=11)
    c.phone('b', t0, 11 * PKT_S, 'b10000%s' % ('10' if cname else '11'), lag_ms=IV / 2)
    c.cname = cname
    return c, finish_move_silence


def finish_move_silence(c):
    r = c.results()
    a, b = r['a'], r['b']
    if not (a and b):
        return
    mv = a['move']
    new_ssrc = mv['ssrc']
    t_rtp = mv['new']['first_rtp_tx_ms']            # RTP resumes, from the new address
    t_rtcp = mv['new']['first_rtcp_tx_ms']
    e = first_rx(b, lambda x: x[2] == 'rtp' and x[3] == new_ssrc)
    pn = b['per_ssrc'].get(new_ssrc, {})
    kv = dict(moved_at_ms=mv['t_ms'], first_new_rtcp_ms=t_rtcp, rtp_resumed_ms=t_rtp)
    if e is None or t_rtp is None:
        expect(False, '%s: the relay never followed A to its new address (B got no packet '
               'of SSRC %s)' % (c.name, new_ssrc))
        kv.update(followed=0)
    else:
        lost_new = ((pn['min_ext_seq'] or 0) - mv['start_seq']) & 0xffff
        follow_ms = e[0] - t_rtp
        kv.update(followed=1, follow_ms=round(follow_ms), lost_new_ab=lost_new,
                  b_rx_new_at_ms=e[0])
        if c.cname:
            expect(lost_new == 0, '%s: the relay followed at A\'s first RTP from the new '
                   'address (its RTCP with the CNAME came first): B got it from its first '
                   'packet (%d missing; %.0f ms after the resume)' % (c.name, lost_new, follow_ms))
        else:
            expect(follow_ms <= 4000, '%s: the relay followed once the old RTCP was overdue: '
                   '%.0f ms after the resume (<= 4000), %d packets lost'
                   % (c.name, follow_ms, lost_new))
    a_new = mv['new']['first_rx_ms']
    kv.update(a_new_first_rx_ms=a_new, ba_to_old_after_move=mv['old'].get('after_move', 0))
    expect(a['attack_marked'] == 0 and b['attack_marked'] == 0, '%s: nothing foreign' % c.name)
    figure(c.name, **kv)


def start_reoffer(env, t0, v6):
    c = Case(env, 'reoffer_v6' if v6 else 'reoffer_v4')
    move_file = os.path.join(e2e.logdir(), 'move_%s' % c.name)
    if v6:
        move_bind = e2e.hostport(e2e.PHONE_A_IP6, c.a_port + 2)
    else:
        move_bind = e2e.hostport(e2e.PHONE_A_IP2, c.a_port + 2)
    c.phone('a', t0, 10 * PKT_S, 'a1000012' if v6 else 'a1000013',
            ['--move-after', '1', '--move-bind', move_bind, '--move-when-file', move_file])
    c.phone('b', t0, 10 * PKT_S, 'b1000012' if v6 else 'b1000013', lag_ms=IV / 2)
    # 5 ms after one of A's send slots, so that A's next packet, 15 ms
    # later, is the first that may meet the re-offer
    at = (5.005 if v6 else 4.005)
    c.at = [(at, lambda: reoffer_move(c, v6, move_file))]
    c.move_file = move_file
    return c, finish_reoffer


def reoffer_move(c, v6, move_file):
    env = c.env

    def write(dest):
        with open(move_file + '.tmp', 'w') as f:
            f.write(dest)
        os.replace(move_file + '.tmp', move_file)
    if not v6:
        # the phone moves at its next packet; the re-offer names the new address
        write(c.pa_to)
        r_u = env.cmd('U %s %s %d a;1' % (c.call, e2e.PHONE_A_IP2, c.a_port + 2))
        r_l = env.cmd('L %s %s %d a;1 b;1' % (c.call, e2e.PHONE_B_IP, c.b_port))
        c.reoffer = (r_u, r_l)
        return
    r_u = env.cmd('U6 %s %s %d a;1' % (c.call, e2e.PHONE_A_IP6, c.a_port + 2))
    r_l = env.cmd('L %s %s %d a;1 b;1' % (c.call, e2e.PHONE_B_IP, c.b_port))
    c.reoffer = (r_u, r_l)
    try:
        port, addr, _ = e2e.parse_ul_reply(r_l)
    except e2e.E2EError:
        return
    if addr == e2e.RELAY_IP6:
        write(e2e.hostport(e2e.RELAY_IP6, port))


def finish_reoffer(c):
    r = c.results()
    a, b = r['a'], r['b']
    if not (a and b):
        return
    mv = a['move']
    lab, lba = lost_ab(a, b), lost_ba_moving(a, b)
    e2e.log('%s: re-offer replies %s' % (c.name, getattr(c, 'reoffer', None)))
    expect(mv['done'] and mv['new']['rtp_sent'] > 0, '%s: A moved to %s after the re-offer'
           % (c.name, mv['new']['bind']))
    expect(0 <= lab <= 1 and 0 <= lba <= 1,
           '%s: at most 1 lost each way after the U: A->B %d, B->A %d' % (c.name, lab, lba))
    figure(c.name, lost_ab=lab, lost_ba=lba)


# ---------------------------------------------------------------------------
# Phase 2: a third host in the learning window after a dataplane replay.

def restart_dataplane(env):
    """Stop the dataplane (SIGTERM) and start it again with the same
    arguments; control notices, re-attaches and replays its sessions."""
    dp = env.dp
    mark = env.ctl.log_mark()
    dp.stop(timeout=15)
    mode = 'join:%d' % env.topo.pf_holder.pid if OPTS.xdp else 'ip'
    env.dp = env.topo.proc('rl', dp.argv, name='dataplane', ns_mode=mode)
    env.dp.wait_for_log(r'ready: 1 worker', timeout=30)
    env.ctl.wait_for_log(r'dataplane attached: \d+ sessions replayed', timeout=20, since=mark)


class _Only:
    """A stand-in holding some runs of a case (for start())."""

    def __init__(self, runs):
        self.runs = runs


def phase_replay(env):
    c = Case(env, 'replay')
    c.phone('a', None, 18 * PKT_S, 'a1000020')
    c.phone('b', None, 18 * PKT_S, 'b1000020', lag_ms=IV / 2)
    start_file = os.path.join(e2e.logdir(), 'T0_replay')
    c.launch(start_file)
    t0 = start([c], start_file)
    time.sleep(max(0.0, t0 + 3 - time.time()))
    restart_dataplane(env)
    # RTP flows again on both legs (Q: packets in grow; bounded wait)
    q0 = env.cmd('Q %s a;1 b;1' % c.call).split()
    flowing = False
    deadline = time.monotonic() + 8
    for _ in range(400):
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
        q = env.cmd('Q %s a;1 b;1' % c.call).split()
        if len(q) == 5 and len(q0) == 5 and int(q[1]) > int(q0[1]) + 5 \
                and int(q[2]) > int(q0[2]) + 5:
            flowing = True
            break
    expect(flowing, 'replay: RTP flows both ways again after the dataplane restart')
    ts = time.time() - t0 + 1.0         # after they are bound (start())
    both = [c.pa_to, c.pb_to]
    for key, mode, extra in (('stun', 'stun', ['--attack-tick-ms', '50', '--attack-burst', '2']),
                             ('dtls', 'dtls', ['--attack-tick-ms', '50', '--attack-burst', '2']),
                             ('paced', 'paced', ['--attack-tick-ms', '20']),
                             ('burst', 'burst', ['--attack-tick-ms', '100',
                                                 '--attack-burst', '12'])):
        c.attacker(key, t0, ts, 8, both, mode, extra)
    att_file = os.path.join(e2e.logdir(), 'T0_replay_attack')
    runs0 = dict(c.runs)
    c.launch(att_file)
    # the attackers: the phones' T0, written once they are bound
    start([_Only({k: v for k, v in c.runs.items() if k not in runs0})], att_file, t0=t0)
    finish_zero(c)
    figure('replay_when', attack_from_ms=round(ts * 1000))
    env.cmd('D %s a' % c.call)


# ---------------------------------------------------------------------------

def start_canary(env, t0):
    """A call nobody attacks and nobody moves, for the whole phase: what it
    loses is the machine's (a stalled relay lcore on a loaded host), not a
    latch decision, and it tells how to read the other figures."""
    c = Case(env, 'canary')
    n = int((OPTS.hold_s + 4) * PKT_S)
    c.phone('a', t0, n, 'a1000030')
    c.phone('b', t0, n, 'b1000030', lag_ms=IV / 2)
    return c, finish_canary


def gaps(p, q):
    """Runs of q's packets that p never got: [[first idx, last idx], ...]."""
    seen = {e[5] for e in p.get('rx_log') or [] if e[2] == 'rtp' and not e[6]}
    runs = []
    for i in range(q['sent']):
        if i in seen:
            continue
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def finish_canary(c):
    r = c.results()
    a, b = r['a'], r['b']
    if not (a and b):
        return
    ab, ba = gaps(b, a), gaps(a, b)
    if ab or ba:
        e2e.log('canary: the relay lost packets of a call nobody touched (A->B at packets '
                '%s, B->A at %s, 20 ms each from T0): the host stalled it, and the other '
                'figures of this run may carry that loss' % (ab, ba))
    figure(c.name, lost_ab=lost_ab(a, b), lost_ba=lost_ab(b, a),
           longest_gap_ms=max([(y - x + 1) * IV for x, y in ab + ba] or [0]))


CASES = {
    'canary': start_canary,
    'talking': start_talking,
    'dtx': start_dtx,
    'hold': start_hold,
    'onset': start_onset,
    'onset_nat': lambda env, t0: start_onset(env, t0, True),
    'observer': lambda env, t0: start_observer(env, t0, False),
    'observer_cname': lambda env, t0: start_observer(env, t0, True),
    'observer_nat': lambda env, t0: start_observer(env, t0, False, True),
    'observer_cname_nat': lambda env, t0: start_observer(env, t0, True, True),
    'window': start_window,
    'ssrc_move_talk': lambda env, t0: start_move(env, t0, 'ssrc_move_talk', False, False),
    'ssrc_move_silence': lambda env, t0: start_move(env, t0, 'ssrc_move_silence', False, True),
    'newssrc_move_talk': lambda env, t0: start_move(env, t0, 'newssrc_move_talk', True, False),
    'newssrc_move_silence_cname':
        lambda env, t0: start_move_silence(env, t0, 'newssrc_move_silence_cname', True),
    'newssrc_move_silence_overdue':
        lambda env, t0: start_move_silence(env, t0, 'newssrc_move_silence_overdue', False),
    'reoffer_v4': lambda env, t0: start_reoffer(env, t0, False),
    'reoffer_v6': lambda env, t0: start_reoffer(env, t0, True),
}


def start(cases, start_file, margin=0.8, t0=None):
    """Every process of cases bound, then T0 (t0, or now + margin) in
    start_file (e2e.start_when_bound()). @return T0."""
    return e2e.start_when_bound([r.proc for c in cases for r in c.runs.values()],
                                start_file, t0=t0, lead_s=margin)


def phase_cases(env, names):
    started = [CASES[n](env, None) for n in names]
    start_file = os.path.join(e2e.logdir(), 'T0_phase1')
    t_launch = time.monotonic()
    for c, _ in started:
        c.launch(start_file)
    t0 = start([c for c, _ in started], start_file)
    e2e.log('phase 1: %d calls, %d processes, bound in %.1f s'
            % (len(started), sum(len(c.runs) for c, _ in started),
               time.monotonic() - t_launch))
    # the control actions at their times (bounded: one pass, in order)
    actions = sorted(((at, fn) for c, _ in started for at, fn in c.at), key=lambda x: x[0])
    for at, fn in actions:
        time.sleep(max(0.0, t0 + at - time.time()))
        fn()
    for c, fin in started:
        fin(c)
    for c, _ in started:
        env.cmd('D %s a' % c.call)


def bogus_signalled(env):
    """Addresses no phone can have are refused with an E-code (multicast,
    loopback, 0/8, the relay's own); 0.0.0.0 (hold, RFC 2543) is not."""
    codes = {}
    for i, addr in enumerate(('224.0.0.1', '239.1.2.3', '127.0.0.1', '0.1.2.3', RELAY,
                              '255.255.255.255')):
        codes[addr] = env.cmd('U hj-bogus-%d %s 4000 a;1' % (i, addr))
    hold = env.cmd('U hj-bogus-hold 0.0.0.0 4000 a;1')
    bad = {a: r for a, r in codes.items() if not re.fullmatch(r'E\d+', r)}
    expect(not bad, 'addresses no phone can have are refused with an E-code: %s' % codes)
    expect(re.fullmatch(r'\d+( \S+)?', hold) is not None,
           '0.0.0.0 (hold) is accepted: %r' % hold)
    env.cmd('D hj-bogus-hold a')
    for i in range(len(codes)):
        env.cmd('D hj-bogus-%d a' % i)
    figure('bogus_signalled', refused=len(codes) - len(bad), of=len(codes),
           codes=','.join(sorted(set(codes.values()))), hold_ok=int(not hold.startswith('E')))


def relay_figures(d):
    """The latch's drop reasons (always) and any other drop or handover
    counter that moved, from a stats delta."""
    kv = {k: d.get(k, 0) for k in DROP_KEYS + ('handovers', 'latches')}
    kv.update({k: v for k, v in d.items() if k.startswith('drop_') and k not in kv and v})
    return kv


def body(build, prefix):
    names = [n for n in (OPTS.cases.split(',') if OPTS.cases else CASES)]
    for n in names:
        if n not in CASES:
            raise e2e.E2EError('unknown case %s (known: %s)' % (n, ', '.join(CASES)))
    with e2e.Topology(attacker=True, ipv6=True) as topo:
        topo.add_phone_a_alt()
        env = Env(topo, build, prefix)
        env.dp, env.ctl = e2e.start_relay(topo, build, prefix, ipv6=True,
                                          prefilter=bool(OPTS.xdp),
                                          extra_dp=OPTS.dp_opt or ())
        bogus_signalled(env)
        t_start = time.monotonic()
        s0 = env.stats()
        phase_cases(env, names)
        s1 = env.stats()
        d = e2e.stats_delta(s0, s1)
        figure('phase1_relay', seconds=round(time.monotonic() - t_start),
               **relay_figures(d))
        if not OPTS.no_replay:
            t1 = time.monotonic()
            phase_replay(env)
            s2 = env.stats()
            d = e2e.stats_delta(s1, s2) if s2.get('rx_pkts', 0) >= s1.get('rx_pkts', 0) \
                else {k: v for k, v in s2.items() if isinstance(v, int)}
            figure('phase2_relay', seconds=round(time.monotonic() - t1), **relay_figures(d))
        check('active sessions: 0' in env.cmd('I'), 'no session left')
        e2e.stop_relay(env.dp, env.ctl)
        names = list(topo.ns.values())
    check(not [n for n in names if e2e.netns_exists(n)], 'every namespace is gone')
    print('\n'.join(FIGURES), flush=True)


def main():
    global OPTS
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument('--xdp', type=int, choices=(0, 1), default=1,
                    help='1: the XDP prefilter in front (default); 0: without')
    ap.add_argument('--cases', help='comma-separated case names (default: all)')
    ap.add_argument('--no-replay', action='store_true', help='skip phase 2')
    ap.add_argument('--hold-s', type=int, default=30, help='the hold case\'s silence, s')
    ap.add_argument('--dp-opt', action='append',
                    help='an extra dataplane option (e.g. --probation-cname-only)')
    OPTS, rest = ap.parse_known_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return e2e.run_test(body, rest, description=__doc__.split('\n')[0])


if __name__ == '__main__':
    sys.exit(main())
