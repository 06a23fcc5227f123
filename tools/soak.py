#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""soak: hours of churn through the relay, sampled for drift (issue 16
item 10). A benchmark, not a timed test; its 2-minute form (--check) is
the meson test soak_short.

In namespaces it creates (tests/e2e/rtpb_e2e.py: a bridge, the relay,
phone A, a router, phone B), with the dataplane on net_af_xdp and control
as the e2e tests start them, for --minutes:

  - new calls at --cps per second, each a U/L offer/answer and two phones
    (tests/e2e/rtpb_phone.py) sending RTP at the natural rate, 50 packets
    a second each way (20 ms), for --call-s seconds, then a D;
  - random restarts, on average one every --restart-every seconds
    (exponential intervals): the dataplane and control in turn (the first
    drawn at random) are killed (SIGKILL) and started again, mid-call;
  - every --sample-s seconds: mbufs in use (dpdk-proc-info
    --show-mempool: not in the pool nor a per-lcore cache), the dataplane's
    hugepage memory mapped (hugetlb in /proc/PID/smaps), sessions
    (I "active sessions" and G norphans), streams, and the RSS of both
    processes (/proc/PID/status VmRSS).

Writes, in --out-dir: soak.csv (every sample), soak.png (matplotlib,
Debian python3-matplotlib; skipped without it) and soak.md (a table of
the samples, at most --table-rows of them, and the run's figures).

After the churn it lets the calls end and checks for drift (--check
makes a failure the exit status): sessions back to 0, mbufs in use back
to the dataplane's baseline (+- --mbuf-margin), every port back in the
pool (as many sessions can be created as before the churn: control's
port range is probed by creating sessions until it refuses, then X),
RSS of the processes' last generation grown by less than
--max-rss-growth-mb since their first sample, hugetlb memory unchanged
within a generation, and the dataplane's own check at stop (mbufs in use
at stop == after start).

Usage (root, hugepages; one DPDK user at a time: flock /tmp/rtpb-dpdk.lock):
  tools/soak.py --build build [--minutes 60] [--cps 1] [--call-s 20]
                [--restart-every 300] [--out-dir DIR] [--check]
"""

import argparse
import csv
import os
import random
import re
import signal
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'e2e'))
import rtpb_e2e as e2e  # noqa: E402

INTERVAL_MS = 20
CTL_PORTS = (35000, 35999)   # what rtpb_e2e.start_control gives control
COLUMNS = ['t_s', 'calls_active', 'sessions', 'orphans', 'streams',
           'mbufs_in_use', 'mbuf_pool', 'dp_hugetlb_mb', 'dp_rss_mb',
           'ctl_rss_mb', 'dp_gen', 'ctl_gen', 'event']


def proc_kb(pid, field):
    """A 'Field:   N kB' line of /proc/PID/status, in kB (0 if gone)."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def hugetlb_kb(pid):
    """Hugepage memory mapped by pid (Shared_ + Private_Hugetlb of every
    mapping in /proc/PID/smaps), in kB."""
    kb = 0
    try:
        with open('/proc/%d/smaps' % pid) as f:
            for line in f:
                if line.startswith(('Shared_Hugetlb:', 'Private_Hugetlb:')):
                    kb += int(line.split()[1])
    except OSError:
        pass
    return kb


class Soak:
    """The relay, the calls in progress and the samples of one run."""

    def __init__(self, a, topo, prefix):
        self.a, self.topo, self.prefix = a, topo, prefix
        self.rng = random.Random(a.seed)
        self.extra_ctl = ['-T', str(a.ttl)]
        # no --huge-unlink: dpdk-proc-info (a secondary) reads the mbuf pool
        self.dp, self.ctl = e2e.start_relay(topo, a.build, prefix, extra_ctl=self.extra_ctl,
                                            huge_unlink=False)
        self.dp_gen = self.ctl_gen = 1
        self.t0 = time.monotonic()
        self.calls = []          # (call_id, Call, end time)
        self.n_calls = 0
        self.rows = []
        self.events = []
        self.failed_setup = 0
        self.d_errors = 0
        self.sent = self.received = 0
        self.mbuf_base = None
        self.next_kind = None

    def cmd(self, c):
        return e2e.rtpproxy_cmd(self.topo.relay, c)

    def now(self):
        return time.monotonic() - self.t0

    def event(self, what):
        e2e.log('soak: %.1f s: %s' % (self.now(), what))
        self.events.append((round(self.now(), 1), what))

    def mbufs(self):
        return e2e.mbufs_in_use(self.topo, self.prefix)

    def sessions(self):
        info = self.cmd('I')
        act = int(re.search(r'active sessions: (\d+)', info).group(1))
        streams = int(re.search(r'active streams: (\d+)', info).group(1))
        orphans = int(self.cmd('G norphans'))
        return act, orphans, streams

    def sample(self, event=''):
        row = {'t_s': round(self.now(), 1), 'calls_active': len(self.calls),
               'dp_gen': self.dp_gen, 'ctl_gen': self.ctl_gen, 'event': event}
        try:
            row['sessions'], row['orphans'], row['streams'] = self.sessions()
        except (e2e.E2EError, AttributeError, ValueError):
            row['sessions'] = row['orphans'] = row['streams'] = ''
        try:
            row['mbufs_in_use'], row['mbuf_pool'] = self.mbufs()
        except e2e.E2EError:
            row['mbufs_in_use'] = row['mbuf_pool'] = ''
        row['dp_hugetlb_mb'] = round(hugetlb_kb(self.dp.pid) / 1024, 1)
        row['dp_rss_mb'] = round(proc_kb(self.dp.pid, 'VmRSS') / 1024, 1)
        row['ctl_rss_mb'] = round(proc_kb(self.ctl.pid, 'VmRSS') / 1024, 1)
        self.rows.append(row)
        return row

    def new_call(self):
        i = self.n_calls
        self.n_calls += 1
        cid = 'soak-%d' % i
        a_port = 10000 + 2 * (i % 2000)
        b_port = 20000 + 2 * (i % 2000)
        try:
            p0, _, _ = e2e.parse_ul_reply(self.cmd('U %s %s %d fa%d' % (
                cid, e2e.PHONE_A_IP, a_port, i)))
            p1, _, _ = e2e.parse_ul_reply(self.cmd('L %s %s %d fa%d tb%d' % (
                cid, e2e.PHONE_B_IP, b_port, i, i)))
        except e2e.E2EError as e:
            self.failed_setup += 1
            e2e.log('soak: call %s not set up: %s' % (cid, e))
            return
        n = int(self.a.call_s * 1000 / INTERVAL_MS)
        call = e2e.Call(self.topo, '%s:%d' % (e2e.RELAY_IP, p1),
                        '%s:%d' % (e2e.RELAY_IP, p0), n, INTERVAL_MS, cid,
                        start_delay_ms=200, a_port=a_port, b_port=b_port,
                        linger_ms=300, ssrcs=('%08x' % (0xa0000000 + i), '%08x' % (0xb0000000 + i)))
        self.calls.append((cid, i, call))

    def reap(self, wait=False):
        """D every call whose phones are done; their packet counts."""
        left = []
        for cid, i, call in self.calls:
            if not wait and any(r.proc.poll() is None for r in call.runs):
                left.append((cid, i, call))
                continue
            for r in call.results():
                self.sent += r['sent']
                self.received += r['received_valid']
            try:
                if self.cmd('D %s fa%d tb%d' % (cid, i, i)) != '0':
                    self.d_errors += 1
            except e2e.E2EError:
                self.d_errors += 1
        self.calls = left

    def restart(self):
        # the two kinds in turn, the first one drawn at random
        if self.next_kind is None:
            self.next_kind = self.rng.choice(('dataplane', 'control'))
        kind, self.next_kind = self.next_kind, ('control' if self.next_kind == 'dataplane'
                                                 else 'dataplane')
        if kind == 'dataplane':
            self.event('dataplane killed (SIGKILL) and started again')
            self.dp.signal(signal.SIGKILL)
            self.dp.wait(timeout=10)
            self.dp = e2e.start_dataplane(self.topo, self.a.build, self.prefix,
                                          huge_unlink=False)
            self.dp_gen += 1
            self.ctl.wait_for_log(r'dataplane back after', timeout=10)
        else:
            self.event('control killed (SIGKILL) and started again')
            self.ctl.signal(signal.SIGKILL)
            self.ctl.wait(timeout=10)
            self.ctl = e2e.start_control(self.topo, self.a.build, self.prefix,
                                         extra_ctl=self.extra_ctl)
            self.ctl_gen += 1

    def port_capacity(self, label):
        """How many sessions fit in control's port range at once: U with
        fresh call-ids until control refuses one (range exhausted), then
        the sessions alive at that moment (from I), then X deletes all.

        Counting replies alone over-counts when the probe outlasts -T: a
        session without media that times out during the probe returns its
        ports, so a slow probe (a loaded machine) sees more than the range
        holds.  Every figure of the probe is logged as an event."""
        n, first, last, refusal = 0, None, None, None
        t = time.monotonic()
        for i in range(CTL_PORTS[1] - CTL_PORTS[0] + 2):
            try:
                r = self.cmd('U probe-%d %s %d fp' % (i, e2e.PHONE_A_IP, 9000))
            except e2e.E2EError as e:
                refusal = 'no reply (%s)' % e
                break
            if not re.fullmatch(r'\d+( \S+)?', r) or r.startswith('0'):
                refusal = r
                break
            first = first or r
            last = r
            n += 1
        act = self.sessions()[0]
        self.event('%s probe: %d U answered with a port (first %s, last %s), then %s; '
                   '%d sessions alive at the refusal; %.1f s'
                   % (label, n, first, last, refusal, act, time.monotonic() - t))
        self.cmd('X')
        return act
    def run(self):
        a = self.a
        time.sleep(1.0)
        self.capacity0 = self.port_capacity('start')
        self.event('port range holds %d sessions' % self.capacity0)
        self.mbuf_base = self.mbufs()[0]
        self.sample('start')
        end = self.t0 + a.minutes * 60
        next_call = next_sample = time.monotonic()
        next_restart = (time.monotonic() + self.rng.expovariate(1.0 / a.restart_every)
                        if a.restart_every > 0 else float('inf'))
        while time.monotonic() < end:
            t = time.monotonic()
            if t >= next_call:
                self.new_call()
                next_call += 1.0 / a.cps
            if t >= next_restart:
                self.restart()
                self.sample('restart')
                next_restart = time.monotonic() + self.rng.expovariate(1.0 / a.restart_every)
            if t >= next_sample:
                self.reap()
                self.sample()
                next_sample += a.sample_s
            time.sleep(max(0.0, min(next_call, next_sample, next_restart, end)
                           - time.monotonic()))
        self.event('churn over: %d calls started' % self.n_calls)
        self.reap(wait=True)
        # orphans (sessions adopted after a control restart) go after -T idle
        deadline = time.monotonic() + a.ttl + 15
        while time.monotonic() < deadline:
            act, orphans, _ = self.sessions()
            if act == 0 and orphans == 0:
                break
            time.sleep(1.0)
        time.sleep(2.0)
        return self.sample('end')

    def checks(self, last):
        a, bad = self.a, []

        def check(cond, what):
            e2e.log('%s: %s' % ('ok' if cond else 'DRIFT', what))
            if not cond:
                bad.append(what)
        check(last['sessions'] == 0 and last['orphans'] == 0,
              'sessions back to 0 (%s, orphans %s)' % (last['sessions'], last['orphans']))
        base = self.gen_first('dp_gen', last['dp_gen'], 'mbufs_in_use')
        check(last['mbufs_in_use'] != '' and abs(last['mbufs_in_use'] - base) <= a.mbuf_margin,
              'mbufs in use %s, back to the baseline %s +- %d'
              % (last['mbufs_in_use'], base, a.mbuf_margin))
        cap = self.port_capacity('end')
        check(cap == self.capacity0, 'every port back in the pool (%d sessions fit, %d before)'
              % (cap, self.capacity0))
        for who, col, gen in (('dataplane', 'dp_rss_mb', 'dp_gen'),
                              ('control', 'ctl_rss_mb', 'ctl_gen')):
            first = self.gen_first(gen, last[gen], col, skip_s=a.warmup_s)
            check(last[col] - first < a.max_rss_growth_mb,
                  '%s RSS %.1f MB, grown %.1f MB since its first sample (bound %d MB)'
                  % (who, last[col], last[col] - first, a.max_rss_growth_mb))
        first = self.gen_first('dp_gen', last['dp_gen'], 'dp_hugetlb_mb')
        check(last['dp_hugetlb_mb'] - first <= 4,
              "dataplane's hugepage memory %.1f MB, %.1f MB at its start"
              % (last['dp_hugetlb_mb'], first))
        return bad

    def gen_first(self, gen_col, gen, col, skip_s=0.0):
        """The first sample of col in generation gen of a process (after
        skip_s seconds of it, if it lived that long)."""
        rows = [r for r in self.rows if r[gen_col] == gen and r[col] != '']
        later = [r for r in rows if r['t_s'] >= rows[0]['t_s'] + skip_s]
        return (later or rows)[0][col]


def write_csv(path, rows):
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(r)


def plot(path, rows, events):
    """The samples over time, four panels; None, or why there is no plot."""
    try:
        import matplotlib
    except ImportError:
        # Debian's python3-matplotlib, for a python3 that is not Debian's
        sys.path.append('/usr/lib/python3/dist-packages')
        try:
            import matplotlib
        except ImportError:
            return 'matplotlib not available (Debian: python3-matplotlib); no plot'
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    t = [r['t_s'] / 60 for r in rows]

    def col(c):
        return [r[c] if r[c] != '' else float('nan') for r in rows]
    fig, ax = plt.subplots(4, 1, figsize=(9, 10), sharex=True)
    ax[0].plot(t, col('calls_active'), label='calls in progress')
    ax[0].plot(t, col('sessions'), label='sessions')
    ax[0].plot(t, col('orphans'), label='orphans (adopted)')
    ax[0].plot(t, col('streams'), label='streams (2 ports each)')
    ax[1].plot(t, col('mbufs_in_use'), label='mbufs in use')
    ax[2].plot(t, col('dp_rss_mb'), label='dataplane RSS (MB)')
    ax[2].plot(t, col('ctl_rss_mb'), label='control RSS (MB)')
    ax[3].plot(t, col('dp_hugetlb_mb'), label='dataplane hugepage memory (MB)')
    for a in ax:
        for ts, what in events:
            if 'killed' in what:
                a.axvline(ts / 60, color='red' if 'dataplane' in what else 'grey',
                          alpha=0.3, linewidth=0.8)
        a.legend(loc='upper left', fontsize=8)
        a.grid(alpha=0.3)
    ax[0].set_title('soak: churn with restarts (red: dataplane, grey: control killed)')
    ax[-1].set_xlabel('minutes')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return None


def write_md(path, s, bad, png_note, png_name):
    a = s.a
    rows = s.rows
    step = max(1, -(-len(rows) // a.table_rows))
    pick = rows[::step]
    if pick[-1] is not rows[-1]:
        pick.append(rows[-1])
    L = ['# Soak run', '',
         '%s: %g min, %g new calls/s of %g s each (RTP 50 packets/s each way), '
         'a restart every %g s on average (%d dataplane, %d control), samples every %g s.'
         % (time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), a.minutes, a.cps, a.call_s,
            a.restart_every, s.dp_gen - 1, s.ctl_gen - 1, a.sample_s),
         '%d calls started (%d not set up), %d D answered with an error (calls whose '
         'ids a restarted control no longer had); RTP: %d sent, %d received (%.2f %% lost, '
         'restarts included).'
         % (s.n_calls, s.failed_setup, s.d_errors, s.sent, s.received,
            100.0 * (s.sent - s.received) / max(1, s.sent)), '',
         'Drift checks: ' + ('all passed.' if not bad else 'FAILED: ' + '; '.join(bad)), '']
    if png_note is None:
        L += ['![soak](%s)' % png_name, '']
    else:
        L += [png_note, '']
    L.append('| ' + ' | '.join(COLUMNS) + ' |')
    L.append('|' + '---|' * len(COLUMNS))
    for r in pick:
        L.append('| ' + ' | '.join(str(r.get(c, '')) for c in COLUMNS) + ' |')
    L += ['', 'Events:', '']
    L += ['- %.1f s: %s' % e for e in s.events]
    with open(path, 'w') as f:
        f.write('\n'.join(L) + '\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', required=True, help='meson build directory')
    ap.add_argument('--minutes', type=float, default=60)
    ap.add_argument('--cps', type=float, default=1.0, help='new calls per second')
    ap.add_argument('--call-s', type=float, default=20, help='seconds of RTP per call')
    ap.add_argument('--restart-every', type=float, default=300,
                    help='mean seconds between restarts (0: none)')
    ap.add_argument('--sample-s', type=float, default=5)
    ap.add_argument('--ttl', type=int, default=10, help="control's -T")
    ap.add_argument('--seed', type=int, default=10)
    ap.add_argument('--out-dir', default='soak-out')
    ap.add_argument('--table-rows', type=int, default=25)
    ap.add_argument('--mbuf-margin', type=int, default=256)
    ap.add_argument('--max-rss-growth-mb', type=int, default=16)
    ap.add_argument('--warmup-s', type=float, default=20,
                    help='RSS growth is counted from this long into a process generation')
    ap.add_argument('--check', action='store_true', help='exit 1 on drift')
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit('soak: run as root (namespaces, hugepages)')
    os.makedirs(a.out_dir, exist_ok=True)
    e2e.install_signal_handlers()
    prefix = e2e.unique_prefix()
    bad = ['did not finish']
    s = None
    try:
        with e2e.Topology() as topo:
            s = Soak(a, topo, prefix)
            last = s.run()
            bad = s.checks(last)
            s.cmd('X')
            e2e.stop_relay(s.dp, s.ctl)   # checks mbufs at stop == after start
    except e2e.E2EError as e:
        print('soak: FAILED: %s' % e, file=sys.stderr)
        e2e.keep_logs()
        print('logs kept in %s' % e2e.logdir(), file=sys.stderr)
        bad = [str(e)]
    finally:
        e2e.cleanup_dpdk_prefix(prefix)
    if s is not None and s.rows:
        write_csv(os.path.join(a.out_dir, 'soak.csv'), s.rows)
        note = plot(os.path.join(a.out_dir, 'soak.png'), s.rows, s.events)
        write_md(os.path.join(a.out_dir, 'soak.md'), s, bad, note, 'soak.png')
        print('soak: wrote soak.csv, soak.md%s in %s'
              % ('' if note else ', soak.png', a.out_dir))
    if bad:
        print('soak: drift or failure: %s' % '; '.join(bad), file=sys.stderr)
        if a.check:
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
