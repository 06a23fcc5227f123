#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_chaos: the chaos tests issue 16 item 9 asks for beyond
test_faults, with real processes in namespaces this test creates
(rtpb_e2e), control run with -T 3 and a timeout-notification target
(-n unix:SOCK, a listener of this test).

1. Control SIGKILLed and started again mid-call: the media loses not one
   packet (the restored session's streams are kept in the dataplane in
   place, G nstreams_kept 4); then the call's media stops, and the call
   times out once -T has passed: exactly one notification (its tag) to
   the notify socket its U named before the restart, one G nsess_timeout.
2. Kill both, start both (SIGKILL to the dataplane and control at once,
   then a new dataplane, then a new control). What survives: the journal
   file (control's sessions: call-id, tags, ports, latched peers, notify
   target, counters); the dataplane is new (nothing of it survives:
   streams, latches, neighbours). Shown: the new control restores the
   calls (G njournal_restored 2, nothing kept in place: the dataplane
   had no stream), the replay adds them with their latched peers and the
   media flows again (each phone hears only the relay socket it was
   given; the new dataplane restored the neighbours, 0 neigh_pending
   drops), Q on the old call answers and is monotonic from the replay on
   (what the dead dataplane counted since the last journal write is
   lost: no process held it), a re-offer gets the same port, and once its media stops it times out with exactly one
   notification. A second old call is ended with D.
3. The whole dataplane SIGSTOPped (for less than control's 10 s detach
   limit): control reports every worker stalled within a second (log, G
   nworkers_stalled), commands keep answering with bounded waits (no
   sync waits on a stopped worker); after SIGCONT it reports the worker
   looping again and relays a call.

Prints FIGURE lines: packets lost per direction in 1 and 2, the media
gap in 2, the time to report the stall, the command round trips in 3.

Usage (root): test_chaos.py --build BUILD_DIR
"""

import os
import signal
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check  # noqa: E402

TTL_S = 3
INTERVAL_MS = 20
A_PORT = 4000
B_PORT = 6000
PHONE_START_MS = 1500
# a stopped dataplane is detached by control after 10 s without a beat
STOP_S = 2.5


class NotifyListener:
    """A unix stream socket taking control's timeout notifications
    ("<tag>\\n" per timed-out session, ctl_notify.c): every line, with
    its arrival time (monotonic)."""

    def __init__(self, path):
        self.path = path
        self.lines = []
        self.lock = threading.Lock()
        self.stop = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _serve(self, c):
        buf = b''
        c.settimeout(0.2)
        while not self.stop:
            try:
                d = c.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not d:
                break
            buf += d
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                with self.lock:
                    self.lines.append((time.monotonic(), line.decode(errors='replace')))
        c.close()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def count(self, tag):
        with self.lock:
            return sum(1 for _, t in self.lines if t == tag)

    def first(self, tag):
        with self.lock:
            return next((at for at, t in self.lines if t == tag), None)

    def close(self):
        self.stop = True
        self.sock.close()
        self.thread.join(timeout=2)
        try:
            os.unlink(self.path)
        except OSError:
            pass


q_counts = e2e.q_counts


def wait_notified(listener, tag, timeout):
    """Wait for tag's first notification; @return its arrival time."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        at = listener.first(tag)
        if at is not None:
            return at
        time.sleep(0.05)
    raise e2e.CheckFailed('no timeout notification %r within %.0f s' % (tag, timeout))


def one_notification(listener, cmd, tag, media_end, what):
    """The call of tag times out once -T has passed since its media
    stopped (at media_end, monotonic): exactly one notification."""
    at = wait_notified(listener, tag, TTL_S + 5)
    after = at - media_end
    e2e.log('FIGURE %s: notification %.1f s after its media stopped (-T %d)'
            % (what, after, TTL_S))
    # the tick runs every second and the phones linger: -T - 1 .. -T + 3
    check(TTL_S - 1 <= after <= TTL_S + 3,
          '%s: timed out %.1f s after its media stopped (-T %d)' % (what, after, TTL_S))
    time.sleep(1.5)   # a second one would come with the next ticks
    check(listener.count(tag) == 1, '%s: exactly one notification (%d)'
          % (what, listener.count(tag)))


def body(build, prefix):
    npath = os.path.join(e2e.logdir(), 'notify.sock')
    listener = NotifyListener(npath)
    ctl_extra = ['-T', str(TTL_S), '-n', 'unix:' + npath]
    try:
        with e2e.Topology() as topo:
            dp, ctl = e2e.start_relay(topo, build, prefix, extra_ctl=ctl_extra)
            cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)
            relay = lambda p: '%s:%d' % (e2e.RELAY_IP, p)

            # --- 1. control restart, then the call's media stops --------
            p0, _, _ = e2e.parse_ul_reply(cmd('U chaos-n1 %s %d fn unix:%s tag-n1'
                                              % (e2e.PHONE_A_IP, A_PORT, npath)))
            p1, _, _ = e2e.parse_ul_reply(cmd('L chaos-n1 %s %d fn tn'
                                              % (e2e.PHONE_B_IP, B_PORT)))
            n1 = 200
            call = e2e.Call(topo, relay(p1), relay(p0), n1, INTERVAL_MS, 'ctlrestart',
                            a_port=A_PORT, b_port=B_PORT, start_delay_ms=PHONE_START_MS)
            time.sleep(PHONE_START_MS / 1000.0 + 1.5)   # ~75 packets each way
            ctl.signal(signal.SIGKILL)
            ctl.wait(timeout=10)
            ctl = e2e.start_control(topo, build, prefix, extra_ctl=ctl_extra)
            a, b = call.results()
            media_end = time.monotonic() - 1.5   # the phones linger 1.5 s
            lost = (n1 - a['received_valid'], n1 - b['received_valid'])
            e2e.log('FIGURE control restart mid-call: lost B->A %d, A->B %d of %d'
                    % (lost[0], lost[1], n1))
            check(lost == (0, 0), 'control restart: not one packet lost (A %d, B %d of %d)'
                  % (a['received_valid'], b['received_valid'], n1))
            check(cmd('G nstreams_kept njournal_restored') == '4 1',
                  'the 4 streams were kept in place, 1 session restored')
            one_notification(listener, cmd, 'tag-n1', media_end,
                             'after a control restart')
            check(cmd('G nsess_timeout') == '1', 'G nsess_timeout 1')
            check('active sessions: 0' in cmd('I'), 'the call is gone')

            # --- 2. kill both, start both ------------------------------
            r0, _, _ = e2e.parse_ul_reply(cmd('U chaos-2 %s %d f2 unix:%s tag-2'
                                              % (e2e.PHONE_A_IP, A_PORT, npath)))
            r1, _, _ = e2e.parse_ul_reply(cmd('L chaos-2 %s %d f2 t2'
                                              % (e2e.PHONE_B_IP, B_PORT)))
            n2 = 400
            t0 = time.time() + PHONE_START_MS / 1000.0
            rxlog = ['--rx-log', '--time-base', '%.3f' % t0]
            call = e2e.Call(topo, relay(r1), relay(r0), n2, INTERVAL_MS, 'bothrestart',
                            a_port=A_PORT, b_port=B_PORT, start_at=t0,
                            a_extra=rxlog, b_extra=rxlog)
            time.sleep(PHONE_START_MS / 1000.0 + 2.0)   # 100 packets each way
            # a second call, signalled only (no media: younger than -T)
            e2e.parse_ul_reply(cmd('U chaos-3 %s %d f3' % (e2e.PHONE_A_IP, A_PORT + 2)))
            q_kill = q_counts(cmd, 'chaos-2', 'f2', 't2')
            t_kill = time.time()
            dp.signal(signal.SIGKILL)
            ctl.signal(signal.SIGKILL)
            dp.wait(timeout=10)
            ctl.wait(timeout=10)
            check(os.path.exists(e2e.journal_path(prefix)), 'the journal file survives')
            dp = e2e.start_dataplane(topo, build, prefix)
            t_ready = float(dp.wait_for_log(r'ready: .* realtime (\d+\.\d+)').group(1))
            ctl = e2e.start_control(topo, build, prefix, extra_ctl=ctl_extra)
            check(cmd('G njournal_restored nstreams_kept') == '2 0',
                  'the new control restored both calls; the new dataplane had no '
                  'stream to keep: %s' % cmd('G njournal_restored nstreams_kept'))
            q_replayed = q_counts(cmd, 'chaos-2', 'f2', 't2')
            check(cmd('D chaos-3 f3') == '0', 'D finds the other old call')
            a, b = call.results()
            media_end = time.monotonic() - 1.5
            q_end = q_counts(cmd, 'chaos-2', 'f2', 't2')
            # What the dead dataplane counted since the session's last
            # journal write died with it (no process held it): Q answers,
            # from the journalled counts, and is monotonic from the replay on.
            e2e.log('FIGURE kill both: Q %r before, %r after the replay, %r at the end'
                    % (q_kill, q_replayed, q_end))
            check(all(y <= z for y, z in zip(q_replayed[1:], q_end[1:])),
                  'Q on the old call monotonic from the replay: %r -> %r'
                  % (q_replayed, q_end))
            check(q_end[1] - q_replayed[1] > 50 and q_end[2] - q_replayed[2] > 50,
                  'Q counts the media after the restart: %r -> %r' % (q_replayed, q_end))
            for name, ph, want in (('B->A', a, relay(r1)), ('A->B', b, relay(r0))):
                times = [t0 + e[0] / 1e3 for e in ph['rx_log'] if e[2] == 'rtp' and not e[6]]
                after = [t for t in times if t > t_ready]
                check(len(after) > 50, '%s: media flows after both restarts (%d packets)'
                      % (name, len(after)))
                check(set(ph['sources']) == {want},
                      '%s: only the relay socket it was given sent to it: %r'
                      % (name, ph['sources']))
                before = [t for t in times if t < t_kill]
                e2e.log('FIGURE kill both: %s media back %.0f ms after the new '
                        "dataplane's ready line (%.0f ms silence in all), %d of %d lost"
                        % (name, 1000 * (after[0] - t_ready),
                           1000 * (after[0] - before[-1]), n2 - ph['received_valid'], n2))
            # (a U without notify args disarms the notification, as in
            # rtpproxy: the re-offer names it again)
            st = e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)
            check(st.get('drop_neigh_pending', -1) == 0,
                  'the new dataplane had its neighbours at once (--neigh-file): '
                  '0 neigh_pending drops (%s)' % st.get('drop_neigh_pending'))
            r0b, _, _ = e2e.parse_ul_reply(cmd('U chaos-2 %s %d f2 t2 unix:%s tag-2'
                                               % (e2e.PHONE_A_IP, A_PORT, npath)))
            check(r0b == r0, 're-offer on the old call: the same port (%d, %d)' % (r0, r0b))
            one_notification(listener, cmd, 'tag-2', media_end, 'after kill both')
            check('active sessions: 0' in cmd('I'), 'no session left')

            # --- 3. the whole dataplane stopped --------------------------
            mark = ctl.log_mark()
            t_stop = time.monotonic()
            os.kill(dp.pid, signal.SIGSTOP)
            try:
                ctl.wait_for_log(r'dataplane worker 0 stalled: no loop for (\d+) ms',
                                 timeout=5, since=mark)
                t_rep = time.monotonic() - t_stop
                e2e.log('FIGURE dataplane stopped: control reported its worker stalled '
                        'after %.0f ms' % (1000 * t_rep))
                check(t_rep < 1.0, 'every worker reported stalled within a second '
                      '(%.0f ms)' % (1000 * t_rep))
                check(cmd('G nworkers_stalled') == '1', 'G nworkers_stalled 1 (of 1)')
                rtts = []
                for i in range(5):
                    t = time.monotonic()
                    r = cmd('U stop-%d %s %d fs' % (i, e2e.PHONE_A_IP, A_PORT + 2 * i))
                    e2e.parse_ul_reply(r)
                    r = cmd('L stop-%d %s %d fs ts' % (i, e2e.PHONE_B_IP, B_PORT + 2 * i))
                    e2e.parse_ul_reply(r)
                    rtts.append((time.monotonic() - t) / 2)
                    t = time.monotonic()
                    cmd('Q stop-%d fs ts' % i)
                    rtts.append(time.monotonic() - t)
                e2e.log('FIGURE commands while the dataplane is stopped: median %.1f ms, '
                        'max %.1f ms' % (1000 * statistics.median(rtts), 1000 * max(rtts)))
                check(max(rtts) < 0.5 and statistics.median(rtts) < 0.05,
                      'commands answer with bounded waits (median %.1f, max %.1f ms)'
                      % (1000 * statistics.median(rtts), 1000 * max(rtts)))
                left = STOP_S - (time.monotonic() - t_stop)
                if left > 0:
                    time.sleep(left)
            finally:
                os.kill(dp.pid, signal.SIGCONT)
            ctl.wait_for_log(r'dataplane worker 0 loops again', timeout=5, since=mark)
            check(cmd('G nworkers_stalled') == '0', 'SIGCONT: no worker stalled')
            out, err = ctl.output()
            check('dataplane lost' not in out[mark[0]:] + err[mark[1]:],
                  'control did not detach from the stopped dataplane')
            q0, _, _ = e2e.parse_ul_reply(cmd('U stop-0 %s %d fs' % (e2e.PHONE_A_IP, A_PORT)))
            q1, _, _ = e2e.parse_ul_reply(cmd('L stop-0 %s %d fs ts' % (e2e.PHONE_B_IP, B_PORT)))
            a, b = e2e.Call(topo, relay(q1), relay(q0), 100, INTERVAL_MS, 'aftercont',
                            a_port=A_PORT, b_port=B_PORT,
                            start_delay_ms=PHONE_START_MS).results()
            check(a['received_valid'] >= 95 and b['received_valid'] >= 95,
                  'after SIGCONT a call relays (A %d, B %d of 100)'
                  % (a['received_valid'], b['received_valid']))
            check(cmd('X') == '0', 'X deletes every session')
            e2e.stop_relay(dp, ctl)
    finally:
        listener.close()


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__))
