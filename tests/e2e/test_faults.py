#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_faults: faults lose no call (issue 16), with real processes in
namespaces this test creates (rtpb_e2e).

1. The dataplane is killed (SIGKILL) mid-call and stays dead for longer
   than control's -T, then starts again: the call (older than -T) is
   kept, no session times out (G nsess_timeout 0, no timeout line, so no
   notification), control replays it, its RTP flows again, and Q's
   counters never go back (they go on from what the dead dataplane
   counted). Killed and started again at once mid-call: the media comes
   back, in each direction, within RESTART_GAP_BOUND_S of the new
   dataplane's ready line (the phones log every arrival; the gap is
   printed as FIGURE lines, the target is 100 ms), the session is kept,
   no timeout line, Q monotonic, and the new dataplane drops nothing as
   neigh_pending (it restored its predecessor's neighbours, --neigh-file).
2. With two workers (on net_null: a veth gives net_af_xdp one queue),
   one worker thread is stopped (ptrace: SIGSTOP would stop the whole
   process): control and the dataplane's main lcore report it within a
   second (log, I, G, telemetry), and commands keep answering without
   waiting for it; it is reported again when it runs.
3. --max-sessions: the U past the limit gets E98 (rtpproxy's
   ECODE_OVERLOAD), counted in G nsess_refused_max.

Prints the figures: dataplane gap and media loss, Q before and after,
time to report the stalled worker, command round trips while stalled.

Usage (root): test_faults.py --build BUILD_DIR
"""

import ctypes
import os
import re
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

TTL_S = 3
MAX_SESSIONS = 8
INTERVAL_MS = 20
A_PORT = 4000
B_PORT = 6000
# media back after a dataplane restart, from its ready line: the target
# is 0.1 s, the bound has room for a loaded 2-CPU machine (1b below)
RESTART_GAP_BOUND_S = 0.3
# phones start this long after they are spawned: on a loaded 2-CPU
# machine a Python phone can take more than 0.5 s to bind, and what is
# relayed to it before is lost (the relay sent it: its opackets count it)
PHONE_START_MS = 1500

# ptrace(2) requests (linux/ptrace.h) and waitpid's __WALL
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                         ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long


def ptrace(req, tid):
    if _libc.ptrace(req, tid, None, None) != 0:
        err = ctypes.get_errno()
        raise e2e.E2EError('ptrace(%#x, %d): %s' % (req, tid, os.strerror(err)))


class ThreadStop:
    """Stop one thread of another process, and only that one (a signal
    would stop the whole thread group): PTRACE_SEIZE + PTRACE_INTERRUPT,
    released by PTRACE_DETACH."""

    def __init__(self, tid):
        self.tid = tid
        ptrace(PTRACE_SEIZE, tid)
        ptrace(PTRACE_INTERRUPT, tid)
        os.waitpid(tid, WALL)   # it is stopped once this returns

    def release(self):
        if self.tid is not None:
            ptrace(PTRACE_DETACH, self.tid)
            self.tid = None


def worker_tid(pid, lcore):
    """The thread of EAL lcore `lcore` in process pid (DPDK 22.11 names
    it 'rte-worker-N', older ones 'lcore-worker-N')."""
    want = ('rte-worker-%d' % lcore, 'lcore-worker-%d' % lcore)
    names = []
    for t in os.listdir('/proc/%d/task' % pid):
        with open('/proc/%d/task/%s/comm' % (pid, t)) as f:
            names.append(f.read().strip())
        if names[-1] in want:
            return int(t)
    raise e2e.E2EError('no thread %s in pid %d: %s' % (want[0], pid, names))


q_counts = e2e.q_counts


def body(build, prefix):
    with e2e.Topology() as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix, extra_ctl=['-T', str(TTL_S)])
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)

        # --- 1. the dataplane dies mid-call --------------------------------
        p0, _, _ = e2e.parse_ul_reply(cmd('U chaos-1 %s %d fa' % (e2e.PHONE_A_IP, A_PORT)))
        p1, _, _ = e2e.parse_ul_reply(cmd('L chaos-1 %s %d fa tb' % (e2e.PHONE_B_IP, B_PORT)))
        n1 = 100
        a, b = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        n1, INTERVAL_MS, 'before', a_port=A_PORT, b_port=B_PORT,
                        start_delay_ms=PHONE_START_MS).results()
        # (a first packet or few may wait for ARP: neigh_pending)
        check(a['received_valid'] >= n1 - 10 and b['received_valid'] >= n1 - 10,
              'before the crash: A got %d, B got %d of %d'
              % (a['received_valid'], b['received_valid'], n1))
        q_before = q_counts(cmd, 'chaos-1', 'fa', 'tb')
        e2e.log('Q before the crash: %r' % (q_before,))
        mark = ctl.log_mark()
        t_kill = time.monotonic()
        dp.signal(signal.SIGKILL)
        dp.wait(timeout=10)
        ctl.wait_for_log(r'dataplane lost: 1 sessions kept', timeout=5, since=mark)
        # dead for longer than -T: the call, older than -T, must stay
        time.sleep(TTL_S + 1.5)
        check('active sessions: 1' in cmd('I'),
              'no dataplane for %.1f s (-T %d): the session is kept'
              % (time.monotonic() - t_kill, TTL_S))
        q_dead = q_counts(cmd, 'chaos-1', 'fa', 'tb')
        check(q_dead[1:] == q_before[1:],
              "while detached Q keeps the dead dataplane's counts: %r" % (q_dead,))
        dp = e2e.start_dataplane(topo, build, prefix)
        m = ctl.wait_for_log(r'dataplane back after (\d+) ms without', timeout=10,
                             since=mark)
        gap_s = time.monotonic() - t_kill
        e2e.log('dataplane dead %.2f s in all; control: back after %s ms'
                % (gap_s, m.group(1)))
        q_after = q_counts(cmd, 'chaos-1', 'fa', 'tb')
        check(all(x >= y for x, y in zip(q_after[1:], q_before[1:])),
              'after the replay Q did not go back: %r -> %r' % (q_before, q_after))
        n2 = 150
        a, b = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        n2, INTERVAL_MS, 'after', a_port=A_PORT, b_port=B_PORT,
                        start_delay_ms=PHONE_START_MS).results()
        st = e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)
        e2e.log('after the restart: B got %d/%d, A got %d/%d; dataplane drops %s'
                % (b['received_valid'], n2, a['received_valid'], n2,
                   {k: v for k, v in st.items() if k.startswith('drop_') and v}))
        # the new dataplane has its predecessor's neighbours (--neigh-file):
        # nothing waits for ARP; the bound leaves room for phones slow to
        # start on a loaded machine (150/150 both ways in the last run)
        check(st.get('drop_neigh_pending', -1) == 0,
              'the restarted dataplane dropped nothing as neigh_pending (%s)'
              % st.get('drop_neigh_pending'))
        check(a['received_valid'] >= n2 - 25 and b['received_valid'] >= n2 - 25,
              'the replayed call relays again: A %d, B %d of %d'
              % (a['received_valid'], b['received_valid'], n2))
        q_end = q_counts(cmd, 'chaos-1', 'fa', 'tb')
        e2e.log('Q: before %r, dead %r, replayed %r, end %r'
                % (q_before, q_dead, q_after, q_end))
        check(q_end[1] >= q_before[1] + b['sent'] - 25 and q_end[3] > q_after[3],
              'Q goes on from the old counts: npkts_ina %d -> %d, nrelayed %d -> %d'
              % (q_before[1], q_end[1], q_before[3], q_end[3]))
        expect(cmd('G nsess_timeout') == '0', 'no session timed out (G nsess_timeout 0)')
        out, err = ctl.output()
        expect('session timeout' not in out + err,
               'no timeout line, so no timeout notification')

        # --- 1b. killed and started again at once, mid-call ----------------
        # Every arrival is logged (wall clock from t0): the gap per
        # direction is from the new dataplane's ready line (its realtime
        # stamp) to the first packet a phone gets after it.
        n3 = 300
        t0 = time.time() + PHONE_START_MS / 1000.0
        rxlog = ['--rx-log', '--time-base', '%.3f' % t0]
        call = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        n3, INTERVAL_MS, 'quick', a_port=A_PORT, b_port=B_PORT,
                        start_at=t0, a_extra=rxlog, b_extra=rxlog)
        time.sleep(PHONE_START_MS / 1000.0 + 2.0)   # 100 packets each way first
        q_kill = q_counts(cmd, 'chaos-1', 'fa', 'tb')
        mark = ctl.log_mark()
        t_kill = time.time()
        dp.signal(signal.SIGKILL)
        dp.wait(timeout=10)
        dp = e2e.start_dataplane(topo, build, prefix)
        t_ready = float(dp.wait_for_log(r'ready: .* realtime (\d+\.\d+)').group(1))
        ctl.wait_for_log(r'dataplane back after (\d+) ms without', timeout=10, since=mark)
        t_attach = e2e.ctl_log_time(
            ctl.wait_for_log(r"^(\S+) \S+: .*dataplane '[^']*' attached: pid",
                             since=mark).group(1), t_ready)
        t_replay = e2e.ctl_log_time(
            ctl.wait_for_log(r'^(\S+) \S+: .*dataplane back after',
                             since=mark).group(1), t_ready)
        q_replayed = q_counts(cmd, 'chaos-1', 'fa', 'tb')
        a, b = call.results()
        q_end = q_counts(cmd, 'chaos-1', 'fa', 'tb')
        check(all(x <= y <= z for x, y, z in zip(q_kill[1:], q_replayed[1:], q_end[1:])),
              'Q monotonic across the restart: %r -> %r -> %r' % (q_kill, q_replayed, q_end))
        check('active sessions: 1' in cmd('I'), 'the restart lost no session')
        out, err = ctl.output()
        check('session timeout' not in out + err, 'no timeout line, so no notification')
        st = e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)
        e2e.log('the new dataplane since its start: rx %d, relayed %d, drops %s'
                % (st['rx_pkts'], st['relayed'],
                   {k: v for k, v in st.items() if k.startswith('drop_') and v}))
        # the neighbours the dead dataplane resolved are kept (--neigh-file,
        # dataplane/dp_nkeep.h): the media held in RX during the replay
        # finds its next hops at once
        check(st.get('drop_neigh_pending', -1) == 0,
              'the new dataplane dropped nothing as neigh_pending (%s)'
              % st.get('drop_neigh_pending'))
        dm = dp.wait_for_log(r'neighbours kept in \S+: (\d+) restored', timeout=1)
        check(int(dm.group(1)) >= 2, 'the new dataplane restored the neighbours '
              'its predecessor resolved (%s)' % dm.group(1))
        lost = (n3 - a['received_valid'], n3 - b['received_valid'])
        gaps = {}
        for name, ph in (('B->A', a), ('A->B', b)):
            times = [t0 + e[0] / 1e3 for e in ph['rx_log'] if e[2] == 'rtp' and not e[6]]
            before = [t for t in times if t < t_kill]
            after = [t for t in times if t > t_ready]
            check(before and after, '%s: media before the kill and after the restart' % name)
            gaps[name] = (after[0] - t_ready, after[0] - before[-1])
        e2e.log('killed and restarted mid-call: new dataplane ready %.3f s after the kill; '
                'control attached %+.3f s, replayed %+.3f s from ready (its log, ms)'
                % (t_ready - t_kill, t_attach - t_ready, t_replay - t_ready))
        for name, (g_ready, g_all) in sorted(gaps.items()):
            e2e.log('FIGURE restart gap %s: %.0f ms after ready (%.0f ms silence in all)'
                    % (name, 1000 * g_ready, 1000 * g_all))
        e2e.log('lost A %d, B %d of %d (%.0f, %.0f ms of audio)'
                % (lost[0], lost[1], n3, lost[0] * INTERVAL_MS, lost[1] * INTERVAL_MS))
        # The target is 100 ms from ready (a packet every 20 ms, control
        # attaching within 10 ms, the dataplane holding RX until the
        # replay); the bound allows for the 2-CPU CI machine, where the
        # phones, control and the dataplane's two lcores share two CPUs
        # with other builds: a 100-200 ms scheduling delay of one of them
        # is ordinary there (see docs/RELIABILITY.md)
        for name, (g_ready, _) in gaps.items():
            check(g_ready < RESTART_GAP_BOUND_S,
                  '%s: media back %.0f ms after the new dataplane was ready (bound %.0f)'
                  % (name, 1000 * g_ready, 1000 * RESTART_GAP_BOUND_S))
        expect(cmd('G nsess_timeout') == '0', 'still no session timed out')
        check(cmd('X') == '0', 'X deletes every session')
        e2e.stop_relay(dp, ctl)

        # --- 2. one of two workers stalls ----------------------------------
        prefix2 = e2e.unique_prefix()
        dp, ctl = e2e.start_relay(topo, build, prefix2, workers=2,
                                  vdev='net_null0,no-rx=1',
                                  extra_ctl=['--max-sessions', str(MAX_SESSIONS)])
        stats = lambda: e2e.telemetry(prefix2, '/rtpbypass/stats', unwrap=True)
        s0 = stats()
        check(s0.get('worker_stalls') == 0, 'telemetry: no worker stall yet')
        tid = worker_tid(dp.pid, 2)   # lcore 2: worker 1
        mark = ctl.log_mark()
        dmark = dp.log_mark()
        t_stop = time.monotonic()
        stop = ThreadStop(tid)
        try:
            ctl.wait_for_log(r'dataplane worker 1 stalled: no loop for (\d+) ms',
                             timeout=5, since=mark)
            t_ctl = time.monotonic() - t_stop
            dp.wait_for_log(r'worker 1 \(lcore 2\) stalled', timeout=5, since=dmark)
            t_dp = time.monotonic() - t_stop
            e2e.log('stalled worker reported after %.0f ms by control, %.0f ms by '
                    'the dataplane' % (1000 * t_ctl, 1000 * t_dp))
            expect(t_ctl < 1.0, 'control reported the stalled worker within a second '
                   '(%.0f ms)' % (1000 * t_ctl))
            expect(t_dp < 1.0, 'the main lcore reported it within a second (%.0f ms)'
                   % (1000 * t_dp))
            info = cmd('I')
            check('dataplane workers stalled: 1' in info, 'I shows it: %r' % info)
            check(cmd('G nworkers_stalled nworker_stalls') == '1 1', 'G shows it')
            st = stats()
            check(st['workers_stalled'] == 1 and st['worker_stalls'] == 1,
                  'telemetry shows it (workers_stalled %d, worker_stalls %d)'
                  % (st['workers_stalled'], st['worker_stalls']))
            # commands on sessions of both workers keep answering at once
            rtts = []
            for i in range(5):
                t = time.monotonic()
                r = cmd('U stall-%d %s %d fs' % (i, e2e.PHONE_A_IP, A_PORT + 2 * i))
                e2e.parse_ul_reply(r)
                r = cmd('L stall-%d %s %d fs ts' % (i, e2e.PHONE_B_IP, B_PORT + 2 * i))
                e2e.parse_ul_reply(r)
                rtts.append((time.monotonic() - t) / 2)
            e2e.log('U/L round trips while a worker is stalled: median %.1f ms, '
                    'max %.1f ms' % (1000 * statistics.median(rtts), 1000 * max(rtts)))
            expect(statistics.median(rtts) < 0.015,
                   'commands do not wait for the stalled worker (median %.1f ms)'
                   % (1000 * statistics.median(rtts)))
        finally:
            stop.release()
        ctl.wait_for_log(r'dataplane worker 1 loops again', timeout=5, since=mark)
        check(cmd('G nworkers_stalled') == '0', 'once it runs, it is no longer stalled')

        # --- 3. --max-sessions ---------------------------------------------
        n = int(re.search(r'active sessions: (\d+)', cmd('I')).group(1))
        for i in range(n, MAX_SESSIONS):
            e2e.parse_ul_reply(cmd('U max-%d %s %d fm' % (i, e2e.PHONE_A_IP, A_PORT)))
        check(cmd('U max-over %s %d fm' % (e2e.PHONE_A_IP, A_PORT)) == 'E98',
              'the U past --max-sessions %d gets E98' % MAX_SESSIONS)
        check(cmd('G nsess_refused_max') == '1', 'G nsess_refused_max counts it')
        check(re.fullmatch(r'\d+ \S+', cmd('U stall-0 %s %d fs' % (e2e.PHONE_A_IP, A_PORT)))
              is not None, 'a U on an existing session is never refused')
        check(cmd('D max-%d fm' % n) == '0', 'D frees a place')
        e2e.parse_ul_reply(cmd('U max-over %s %d fm' % (e2e.PHONE_A_IP, A_PORT)))
        e2e.log('ok: then a new U is taken')
        check(cmd('X') == '0', 'X deletes every session')
        e2e.stop_relay(dp, ctl)
        e2e.cleanup_dpdk_prefix(prefix2)


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__))
