#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_quality: the relay's RTP analysis through Q, the log and the metrics.

Issue 17 item 4 and issue 18 item 1, in namespaces this test creates
(rtpb_e2e): the relay (dataplane and control with --metrics), a call set
up with U/L between phone A and phone B, both sending RTCP (SR/RR with a
report block about what they receive, rtpb_phone.py --rtcp).
  - phone A never sends every SKIP-th packet (--skip-every) and sends every
    DUP-th twice (--dup-every): `Qv call from_tag to_tag npkts_ina
    rtpa_nsent rtpa_nrcvd rtpa_nlost rtpa_ndups ...` (rtpproxy's form),
    both tag orders: the names read the stream npkts_ina reads, and A's
    reports exactly what it skipped and duplicated;
  - phone B sends every other packet JITTER_MS late, timestamps paced at
    20 ms (--jitter-ms): each transit differs from the last by JITTER_MS,
    so RFC 3550 A.8's jitter of B's stream converges to it: rtpb_jitter_ms
    is within 1 ms of JITTER_MS, rtpa_jlast within 8 timestamp units of
    JITTER_MS * 8 (8 kHz);
  - D logs one quality line with both legs' figures (A's loss and dups, the
    RR count from B's reports about A);
  - the metrics' call-quality histograms count the call's two directions,
    and `promtool check metrics` finds nothing in the scrape.

Every wait is bounded; processes are stopped by PID (rtpb_e2e.Proc).

Usage (root): test_quality.py --build BUILD_DIR
"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from test_metrics import free_port, value, wait_scrape  # noqa: E402

N_PKTS = 200          # 4 s at 20 ms
SKIP = 10             # A skips packets 10, 20, ... 190: 19
DUP = 25              # A sends 12, 37, ... 187 twice: 8
JITTER_MS = 10.0      # B's odd packets this late
A_PORT = 4000
B_PORT = 6000
CALL = 'qual-1'

check = e2e.check


def qv(cmd, tags, names):
    """Qv CALL tags names: {name: value as text}."""
    r = cmd('Qv %s %s %s' % (CALL, tags, ' '.join(names)))
    out = dict(kv.split('=', 1) for kv in r.split())
    check(list(out) == list(names), 'Qv %s answers every name (%r)' % (tags, r))
    return out


def body(build, prefix):
    if shutil.which('promtool') is None:
        raise e2e.E2EError('promtool not found (deploy/install-deps.sh: prometheus)')
    t0 = time.monotonic()
    with e2e.Topology() as topo:
        mport = free_port(topo)
        dp, ctl = e2e.start_relay(topo, build, prefix,
                                  extra_ctl=['--metrics', '127.0.0.1:%d' % mport])
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)
        check(cmd('VF 20150420') == '1' and cmd('VF 20230205') == '1' and
              cmd('VF 20230424') == '1', 'VF: the rtpa_* capabilities are 1')

        p0, _, _ = e2e.parse_ul_reply(cmd('U %s %s %d fa' % (CALL, e2e.PHONE_A_IP, A_PORT)))
        p1, _, _ = e2e.parse_ul_reply(cmd('L %s %s %d fa tb' % (CALL, e2e.PHONE_B_IP, B_PORT)))
        call = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        N_PKTS, 20, 'quality', a_port=A_PORT, b_port=B_PORT,
                        start_delay_ms=500,
                        a_extra=['--rtcp', '--skip-every', str(SKIP),
                                 '--dup-every', str(DUP)],
                        b_extra=['--rtcp', '--jitter-ms', str(JITTER_MS)])
        a, b = call.results()
        e2e.log('A sent %d (skipped %d, duplicated %d), B received %d valid, '
                '%d duplicates' % (a['sent'], a['skipped'], a['duplicated'],
                                   b['received_valid'], b['duplicates']))
        check(a['skipped'] == (N_PKTS - 1) // SKIP and a['duplicated'] > 0,
              'phone A skipped and duplicated packets')

        names = ('npkts_ina', 'rtpa_nsent', 'rtpa_nrcvd', 'rtpa_nlost', 'rtpa_ndups',
                 'rtpa_perrs', 'rtpb_jitter_ms', 'rtpa_jlast', 'rtpb_rr_count')
        q1 = qv(cmd, 'fa tb', names)
        q2 = qv(cmd, 'tb fa', names)
        for q in (q1, q2):
            # the names read the stream npkts_ina reads (rtpproxy's idx):
            # every packet in is a distinct one or a duplicate
            check(int(q['rtpa_nrcvd']) + int(q['rtpa_ndups']) == int(q['npkts_ina']),
                  'Q: rtpa_* of the npkts_ina stream (%r)' % q)
        # A's stream is the one with the losses: the other checks say
        # whether its figures are exactly right
        qa, qb = (q1, q2) if int(q1['rtpa_nlost']) > 0 else (q2, q1)
        e2e.log('A: %r' % qa)
        e2e.log('B: %r' % qb)
        check(int(qa['rtpa_nsent']) == N_PKTS, 'A: rtpa_nsent is %d (%s)'
              % (N_PKTS, qa['rtpa_nsent']))
        check(int(qa['rtpa_nlost']) == a['skipped'],
              'A: rtpa_nlost is what phone A skipped (%s, %d)'
              % (qa['rtpa_nlost'], a['skipped']))
        check(int(qa['rtpa_ndups']) == a['duplicated'],
              'A: rtpa_ndups is what phone A duplicated (%s, %d)'
              % (qa['rtpa_ndups'], a['duplicated']))
        check(int(qa['rtpa_nrcvd']) == N_PKTS - a['skipped'], 'A: rtpa_nrcvd')
        check(int(qb['rtpa_nlost']) == 0 and int(qb['rtpa_ndups']) == 0 and
              int(qb['rtpa_nsent']) == N_PKTS, 'B: nothing lost or duplicated')
        check(int(qa['rtpa_perrs']) == 0 and int(qb['rtpa_perrs']) == 0, 'no perrs')
        jb = float(qb['rtpb_jitter_ms'])
        check(abs(jb - JITTER_MS) <= 1.0, 'B: jitter %.3f ms within 1 ms of %.1f'
              % (jb, JITTER_MS))
        check(abs(float(qb['rtpa_jlast']) - JITTER_MS * 8) <= 8,
              'B: rtpa_jlast %s ts units near %d' % (qb['rtpa_jlast'], JITTER_MS * 8))
        check(int(qa['rtpb_rr_count']) > 0 and int(qb['rtpb_rr_count']) > 0,
              'both streams got receiver reports from the other phone')

        check(cmd('D %s fa' % CALL) == '0', 'D deletes the call')
        ctl.wait_for_log(r'\[%s\] quality: .*pkts=%d lost=%d dups=%d reordered=0 '
                         r'jitter_ms=\S+ rr=[1-9]'
                         % (CALL, N_PKTS - a['skipped'], a['skipped'], a['duplicated']),
                         timeout=5)
        ctl.wait_for_log(r'\[%s\] quality: .*pkts=%d lost=0 dups=0 reordered=0 '
                         r'jitter_ms=(9|10|11)\.' % (CALL, N_PKTS), timeout=5)
        check(cmd('Gv rtpa_nlost rtpa_ndups') ==
              'rtpa_nlost=%d rtpa_ndups=%d' % (a['skipped'], a['duplicated']),
              'G: rtpa_* totals of the ended call')

        text, v = wait_scrape(topo, mport, 'rtpbypass_call_loss_ratio_count', 2)
        check(v == 2, 'rtpbypass_call_loss_ratio counts both directions (%s)' % v)
        check(value(text, 'rtpbypass_call_jitter_seconds_count') == 2,
              'rtpbypass_call_jitter_seconds counts both directions')
        # A's loss (19/200 = 9.5 %) is above 5 %, under 10 %
        check(value(text, 'rtpbypass_call_loss_ratio_bucket', '{le="0.05"}') == 1 and
              value(text, 'rtpbypass_call_loss_ratio_bucket', '{le="0.1"}') == 2,
              'loss buckets: B at 0, A in (0.05, 0.1]')
        check(value(text, 'rtpbypass_call_jitter_seconds_bucket', '{le="0.005"}') == 1 and
              value(text, 'rtpbypass_call_jitter_seconds_bucket', '{le="0.02"}') == 2,
              'jitter buckets: A under 5 ms, B (10 ms) under 20 ms')
        path = os.path.join(e2e.logdir(), 'scrape.txt')
        with open(path, 'w') as f:
            f.write(text)
        pt = subprocess.run(['promtool', 'check', 'metrics'], input=text,
                            capture_output=True, text=True, timeout=30)
        check(pt.returncode == 0 and pt.stdout.strip() == '' and pt.stderr.strip() == '',
              'promtool check metrics finds nothing (%s: %s%s)' % (path, pt.stdout, pt.stderr))
        check(ctl.running, 'control still runs')
        dp.stop(timeout=10)
        ctl.stop(timeout=10)
    e2e.log('done in %.1fs' % (time.monotonic() - t0))


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__))
