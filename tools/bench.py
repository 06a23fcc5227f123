#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench.py: issue 6's benchmarks of the rtpbypass relay, in one run.

What it measures (docs/PERFORMANCE.md explains the method and the
numbers it wrote there last):

  pcap   The link's limit and the relay on the same vdev, one process and
         one forwarding lcore each: dpdk-testpmd --forward-mode=io, then
         the relay, reading the same pcap of real RTP frames from
         net_pcap (rx_pcap=FILE,infinite_rx=1) and dropping what they
         send (net_pcap's TX with no tx_* devarg drops, as net_null does),
         at each session count (--sessions). testpmd runs before and
         after the relay. The relay's cycles/packet come from its worker
         lcore's own TSC accounting (busy_cycles / rx_pkts in
         /rtpbypass/lcore,0). testpmd is also run net_pcap -> net_null
         (two ports), the issue's setup, which the dataplane cannot
         mirror (one port for RX and TX).
         Sessions up to what control holds (a pool per relay address,
         16 addresses: 258 048) are set up through control, over as many
         addresses as they need (control --port-spill fills them in
         turn): a first dataplane (net_null) takes the U/L, rtpb-gen
         writes the pcap of those very streams, then the pcap dataplane
         starts on the same --file-prefix and control replays the
         sessions into it. Beyond that, rtpb-gen installs the same layout
         straight into the dataplane's rings (--layout --install):
         labelled "direct". Issue 19's figures per case: own cycles per
         packet (the relay's busy cycles per packet minus testpmd io's,
         same vdev, pcap and CPU seat), the latency inside the dataplane
         (the workers' sampled RX-to-TX histogram, dataplane/dp_lat.h:
         p50/p99/p99.9 at bucket resolution) at the maximum rate and at
         half of it (rtpb-gen over memif, at its maximum, then at half the
         relay's rate then: net_pcap cannot pace; --no-half-load skips it),
         and far cache lines per
         relayed packet (perf stat on the worker's CPU, if the CPU
         exposes a PMU event for it; else the report says so).
  workers  One worker lcore against two (issue 6: >= 1.8 x): the same
         sessions (installed directly) and frames, one pcap for one
         worker, one pcap per RX queue for two (rtpb-gen --pcap-queues 2:
         call c's frames on the queue of the worker owning its streams,
         as a NIC steering each relay port to its owner would), net_pcap
         -> net_null; each worker's counters sampled once a second. With
         two CPUs, worker 0 shares CPU 0 with the main lcore, so one
         worker is also run in that seat.
  memif  The relay and rtpb-gen in two processes over net_memif: calls
         set up through control at the natural rate, at the maximum
         rate, at half of the maximum (latency); the spread of the
         one-second samples is reported, never one number. Setup rate
         (U+L pairs/s) at several windows. The maximum rate again with
         --memif-big-sessions installed directly (the whole stream table
         is the working set, unlike the pcap runs).
  rtpengine  If --rtpengine BINARY is given (or found): not automated yet;
         the report says so.

Nothing here asserts on speed: it reports figures. Needs root (hugepages),
the build (rtpbypass-dataplane, rtpbypass-control, rtpb-gen), dpdk-testpmd,
and python3-matplotlib for the plot (without it, no PNG and the report
says so). Every process is stopped by PID, every DPDK file prefix
cleaned at exit (tests/e2e/rtpb_e2e.py's registry).

Usage (root):
  tools/bench.py --build build [--sessions 1000,100000,250000]
                 [--seconds 10] [--only pcap,workers,memif]
                 [--workers-sessions 1000,100000] [--out docs/PERFORMANCE.md]
                 [--json FILE] [--wait-quiet 600] [--quick]
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'e2e'))
import rtpb_e2e as e2e  # noqa: E402

RELAY_NET = '198.51.100.%d'
RELAY_PLEN = 24
GATEWAY = '198.51.100.254'       # rtpb-gen's --gw default
LAYOUT_PAIRS = 32256         # relay RTP ports per address, 1024..65534
# control: a pool of LAYOUT_PAIRS per relay address (-m 1024 -M 65535), 16
# addresses at most, filled in turn (--port-spill); two pairs per session
CTL_MAX_SESSIONS = 16 * (32256 // 2)
CLK_TCK = os.sysconf('SC_CLK_TCK')
PCAP_FRAMES = 6000           # the dataplane's default mbuf pool (14335, at least 8191) holds the whole pcap
PCAP_FRAMES_MAX = 524288     # pcap cases: one frame per RTP leg, up to this
PCAP_MBUF_SIZE = 512         # mbuf data room for big pcaps: headroom + a G.711 frame


# --feature: what every call's streams do besides relaying (pcap cases set
# up through control): rtpb-gen's options, control's, and the dataplane
# counters (/rtpbypass/lcore,0) that prove it ran. record: R for both
# parties (docs/RECORDING.md), control -r DIR; fork: C udp:FORK_TARGET for
# both parties (docs/FORKING.md), a documentation address behind the
# relay's gateway (the generator: the pcap's ARP request resolves it), the
# copies leave through the TX vdev, nothing listens; tos: U/L && S
# tos=TOS (docs/DTMF.md), checked on what the relay sends to a pcap file
# after the samples (tos_check()).
FEATURES = ('none', 'record', 'fork', 'tos')
FORK_TARGET = '203.0.113.9:40000'
TOS = 184                    # DSCP EF (46) << 2
FEATURE_CTRS = {'record': ('mirror_copies', 'mirror_drops'),
                'fork': ('fork_copies', 'fork_drops')}
REC_FILES_PER_CALL = 4       # R for both parties: .o/.a, .rtp and .rtcp each
REC_MAX_FILES = 4096         # control's bound of open recording files (CTL_REC_MAX_FILES)


def feature_gen_opts(feature):
    """rtpb-gen's options for a feature."""
    return {'none': [], 'record': ['--record'],
            'fork': ['--fork', 'udp:' + FORK_TARGET],
            'tos': ['--tos', str(TOS)]}[feature]


def feature_cmds(feature, sessions):
    """R or C commands rtpb-gen sends for a feature (both parties)."""
    return 2 * sessions if feature in ('record', 'fork') else 0


def pcap_frames_for(sessions):
    """RTP frames in a pcap case's file: one per RTP leg (2 per call), so
    every RTP stream of the table is touched, at least PCAP_FRAMES."""
    return min(PCAP_FRAMES_MAX, max(PCAP_FRAMES, 2 * sessions))


def mbuf_opts(frames):
    """Dataplane options for a pcap of frames frames: net_pcap's
    infinite_rx holds the whole file in the pool."""
    if frames <= PCAP_FRAMES:
        return []
    return ['--mbufs', str(frames + 16384), '--mbuf-size', str(PCAP_MBUF_SIZE)]
BEGIN = '<!-- bench.py: begin -->'
END = '<!-- bench.py: end -->'


def log(msg):
    sys.stderr.write('[bench %s] %s\n' % (time.strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# The machine.

def cpu_times():
    """{pid: (comm, utime + stime ticks)} of every process."""
    out = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                s = f.read()
        except OSError:
            continue
        r = s.rfind(')')
        comm = s[s.find('(') + 1:r]
        fields = s[r + 2:].split()
        out[int(d)] = (comm, int(fields[11]) + int(fields[12]))
    return out


def busy_processes(ours=(), seconds=1.0, threshold=10.0):
    """Processes other than ours using more than threshold % of a CPU."""
    hz = os.sysconf('SC_CLK_TCK')
    a = cpu_times()
    time.sleep(seconds)
    b = cpu_times()
    busy = []
    for pid, (comm, t) in b.items():
        if pid in ours or pid == os.getpid() or pid not in a:
            continue
        pct = 100.0 * (t - a[pid][1]) / hz / seconds
        if pct >= threshold:
            busy.append({'pid': pid, 'comm': comm, 'cpu_pct': round(pct)})
    return sorted(busy, key=lambda p: -p['cpu_pct'])


_KERNEL_HELPERS = ('ksoftirqd', 'kworker', 'rcu', 'migration', 'kdamond')


def others_during(snapshot, ours, threshold=10.0, new_too=False):
    """Processes not started by this run that used >= threshold % of a CPU
    since snapshot = (time.monotonic(), cpu_times()); kernel helpers
    (softirq threads, workers), busy with this run's own traffic, aside.
    new_too: also processes started since the snapshot (all their CPU time
    is in the window; every process this run started must be in ours)."""
    t0, a = snapshot
    dt = time.monotonic() - t0
    hz = os.sysconf('SC_CLK_TCK')
    out = []
    for pid, (comm, t) in cpu_times().items():
        if pid in ours or pid == os.getpid() or (pid not in a and not new_too) or \
                dt <= 0 or comm.startswith(_KERNEL_HELPERS):
            continue
        pct = 100.0 * (t - (a[pid][1] if pid in a else 0)) / hz / dt
        if pct >= threshold:
            out.append({'pid': pid, 'comm': comm, 'cpu_pct': round(pct)})
    return sorted(out, key=lambda p: -p['cpu_pct'])


def machine():
    info = {'kernel': platform.release(), 'cpus': os.cpu_count()}
    try:
        lscpu = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
        for key in ('Model name', 'Hypervisor vendor', 'L2 cache', 'L3 cache',
                    'CPU MHz', 'Thread(s) per core'):
            m = re.search(r'^%s:\s*(.+)$' % re.escape(key), lscpu, re.M)
            if m:
                info[re.sub(r'\W+', '_', key.lower()).strip('_')] = m.group(1).strip()
    except OSError:
        pass
    try:
        with open('/proc/cpuinfo') as f:
            info['hypervisor_flag'] = bool(re.search(r'^flags\s*:.*\bhypervisor\b', f.read(), re.M))
    except OSError:
        pass
    try:
        info['dpdk'] = subprocess.run(['pkg-config', '--modversion', 'libdpdk'],
                                      capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    with open('/proc/meminfo') as f:
        mi = f.read()
    for k in ('MemTotal', 'HugePages_Total', 'HugePages_Free', 'Hugepagesize'):
        m = re.search(r'^%s:\s*(\d+)' % k, mi, re.M)
        if m:
            info[k] = int(m.group(1))
    with open('/proc/loadavg') as f:
        info['loadavg'] = f.read().split()[:3]
    try:
        with open('/sys/devices/system/clocksource/clocksource0/current_clocksource') as f:
            info['clocksource'] = f.read().strip()
    except OSError:
        pass
    return info


def source_of(build):
    """What the binaries under build were built from: the commit (a
    '.bench-commit' file in an exported tree, else git), and whether the
    tree had uncommitted changes."""
    info = {'build': build}
    try:
        with open(os.path.join(build, 'meson-info', 'meson-info.json')) as f:
            src = json.load(f)['directories']['source']
    except (OSError, ValueError, KeyError):
        return info
    info['source'] = src
    mark = os.path.join(src, '.bench-commit')
    if os.path.exists(mark):
        with open(mark) as f:
            info['commit'] = f.read().strip()
        return info
    try:
        info['commit'] = subprocess.run(['git', '-C', src, 'rev-parse', '--short', 'HEAD'],
                                        capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(['git', '-C', src, 'status', '--porcelain', '--',
                                'dataplane', 'control', 'include', 'bpf'],
                               capture_output=True, text=True).stdout.strip()
        info['dirty'] = bool(dirty)
    except OSError:
        pass
    return info


def wait_quiet(limit_s):
    """Wait up to limit_s for no other process to use >= 10 % CPU."""
    end = time.monotonic() + limit_s
    while True:
        busy = busy_processes()
        if not busy or time.monotonic() >= end:
            return busy
        log('waiting for a quiet machine: %s' % ', '.join(
            '%s(%d) %d%%' % (p['comm'], p['pid'], p['cpu_pct']) for p in busy))
        time.sleep(10)


def median(v):
    return statistics.median(v) if v else 0.0


def spread(v):
    """{min, median, max, n} of one-second samples."""
    if not v:
        return {'min': 0, 'median': 0, 'max': 0, 'n': 0}
    return {'min': min(v), 'median': median(v), 'max': max(v), 'n': len(v)}


def gen_traffic(x):
    """rtpb-gen's traffic in run x, or None if it has none: (traffic,
    A>B, B>A, spread of the frames received per s, both ways, without
    the first second when there are more than two)."""
    if not x or 'traffic' not in x['gen']:
        return None
    t = x['gen']['traffic']
    ab, ba = t['a_to_b'], t['b_to_a']
    rx = [p + q for p, q in zip(ab['rx_fps']['samples'], ba['rx_fps']['samples'])]
    return t, ab, ba, spread(rx[1:] if len(rx) > 2 else rx)


def latency_us(d):
    """One direction's latency p50 / p99 / p99.9 in us."""
    lat = d['latency_ns']
    return '%.1f / %.1f / %.1f' % (lat['p50'] / 1e3, lat['p99'] / 1e3, lat['p999'] / 1e3)


# The dataplane's latency histogram (dataplane/dp_lat.h, include/rtpb_shm.h
# RTPB_FOREACH_LAT_BUCKET): lcore counter, lower and upper bound in ns (the
# last bucket has no upper bound).
LAT_BUCKETS = (('lat_lt_500ns', 0, 500), ('lat_lt_1us', 500, 1000),
               ('lat_lt_2us', 1000, 2000), ('lat_lt_4us', 2000, 4000),
               ('lat_lt_8us', 4000, 8000), ('lat_lt_12us', 8000, 12000),
               ('lat_lt_16us', 12000, 16000), ('lat_lt_20us', 16000, 20000),
               ('lat_lt_32us', 20000, 32000), ('lat_lt_64us', 32000, 64000),
               ('lat_lt_128us', 64000, 128000), ('lat_ge_128us', 128000, None))
LAT_QUANTILES = (('p50', 0.5), ('p99', 0.99), ('p999', 0.999))

# Far cache lines: the PMU events tried with perf stat on the worker's CPU,
# first found first (a VM may expose none: then the figure is not measurable).
FAR_EVENTS = ('mem_load_retired.l3_miss', 'LLC-load-misses', 'cache-misses')


def lat_summary(samples):
    """The in-dataplane latency of a run from its one-second samples
    (lcore_delta()'s 'lat'): the buckets summed, p50/p99/p99.9 estimated
    by linear interpolation inside the bucket the quantile falls in (so
    at bucket resolution: 500 ns .. 64 us wide; the bucket holding the
    largest sample ends at it), and the worker's largest
    sample since the dataplane started (lat_max_ns: a running maximum,
    settle time included). None if no sample was taken (an old dataplane
    without the counters, or no traffic)."""
    lat = [s['lat'] for s in samples if s.get('lat')]
    if not lat:
        return None
    counts = [sum(x.get(k, 0) for x in lat) for k, _, _ in LAT_BUCKETS]
    n = sum(counts)
    if n == 0:
        return None
    max_ns = max(s.get('lat_max_ns') or 0 for s in samples)
    out = {'samples': n, 'buckets': dict(zip([k for k, _, _ in LAT_BUCKETS], counts)),
           'max_us': max_ns / 1e3, 'resolution': 'bucket (interpolated)'}
    for name, q in LAT_QUANTILES:
        rank, cum = q * n, 0
        for (k, lo, hi), c in zip(LAT_BUCKETS, counts):
            if c and cum + c >= rank:
                # no sample lies above the largest: it bounds the open
                # bucket, and any bucket it falls in
                if hi is None or lo <= max_ns < hi:
                    hi = max(lo, max_ns)
                out[name + '_us'] = (lo + (hi - lo) * (rank - cum) / c) / 1e3
                out[name + '_open'] = k == 'lat_ge_128us'
                break
            cum += c
    return out


def lat_text(l):
    """p50 / p99 / p99.9 (max) in us of a lat_summary(), or '-'."""
    if not l:
        return '-'
    return '%.1f / %.1f / %.1f (%.0f)' % (l['p50_us'], l['p99_us'], l['p999_us'], l['max_us'])


def own_cycles(relay_cpp, testpmd_cpp, testpmd_runs=()):
    """The relay's own cycles per packet (issue 19's gate): its busy cycles
    per packet (median of its one-second samples) minus testpmd io's on
    the same vdevs, pcap and CPU seat in the same case (TSC Hz / median
    pps of testpmd's one-second samples: testpmd io on an infinite pcap
    is busy all the time, so that is its busy cycles per packet too).
    testpmd's own whole-run figure (--record-core-cycles, ramp-up and
    every disturbance included) is kept beside it as a cross-check.
    @return {own, testpmd, testpmd_whole_run}, or None without both."""
    if not relay_cpp or not testpmd_cpp:
        return None
    return {'own': relay_cpp - testpmd_cpp, 'testpmd': testpmd_cpp,
            'testpmd_whole_run': [t.get('cycles_per_pkt_whole_run') for t in testpmd_runs]}


# ---------------------------------------------------------------------------
# Processes.

class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.dp_bin = os.path.join(self.build, 'dataplane', 'rtpbypass-dataplane')
        self.ctl_bin = os.path.join(self.build, 'control', 'rtpbypass-control')
        self.gen_bin = os.path.join(self.build, 'tools', 'rtpb-gen', 'rtpb-gen')
        self.testpmd = shutil.which('dpdk-testpmd')
        try:
            hlp = subprocess.run([self.dp_bin, '--no-pci', '--no-huge', '-m', '64',
                                  '--file-prefix', 'rtpbhelp%d' % os.getpid(), '-l', '0',
                                  '--', '--help'], capture_output=True, text=True,
                                 timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            hlp = ''
        shutil.rmtree(e2e.dpdk_runtime_dir('rtpbhelp%d' % os.getpid()), ignore_errors=True)
        self.has_tx_port = '--tx-port' in hlp
        self.dir = e2e.logdir()
        self.seed = a.seed
        self.commands = []     # (what, argv) of every run, for the report
        self.pids = set()      # every process this run started
        for b in (self.dp_bin, self.ctl_bin, self.gen_bin):
            if not os.access(b, os.X_OK):
                raise SystemExit('bench: missing %s (build first: ninja -C %s)'
                                 % (b, a.build))

    def note_cmd(self, what, argv):
        self.commands.append((what, ' '.join(argv)))

    # -- dataplane / control -------------------------------------------------

    def dataplane(self, prefix, vdevs, n_addrs, max_streams, what, lcores='0-1', extra=()):
        """Start the dataplane; lcores is EAL's -l list, or an --lcores
        map when it has '@' (e.g. '0@0,1@0,2@1': two lcores on CPU 0)."""
        argv = [self.dp_bin, '--lcores' if '@' in lcores else '-l', lcores,
                '--no-pci', '--file-prefix', prefix, '--huge-unlink']
        for v in vdevs:
            argv += ['--vdev', v]
        argv += ['--']
        for i in range(n_addrs):
            argv += ['--addr', '%s/%d' % (RELAY_NET % (i + 1), RELAY_PLEN)]
        # the kept neighbours and the journal in the temp dir, removed with
        # the prefix (not the default /run/rtpbypass, where they stayed)
        argv += ['--gateway', GATEWAY, '--max-streams', str(max_streams),
                 '--neigh-file', e2e.neigh_path(prefix)] + list(extra)
        self.note_cmd(what, argv)
        p = e2e.Proc(argv, name='dataplane')
        self.pids.add(p.pid)
        p.wait_for_log(r'ready: \d+ worker', timeout=60)
        return p

    def control(self, prefix, port, n_addrs=1, extra=()):
        # off the worker's CPU (1), as a deployment pins it away from the
        # workers: sharing a CPU with a worker stalls the c2d ring's consumer
        argv = ['taskset', '-c', '0', self.ctl_bin, '-f', '-F', '-s',
                'udp:127.0.0.1:%d' % port, '-l', RELAY_NET % 1]
        for i in range(1, n_addrs):
            argv += ['-l', 'a%d@%s' % (i + 1, RELAY_NET % (i + 1))]
        argv += ['-m', '1024', '-M', '65535', '-T', '3600', '--file-prefix', prefix,
                 '--journal', e2e.journal_path(prefix), '--no-prefilter'] + list(extra)
        self.note_cmd('control', argv)
        p = e2e.Proc(argv, name='control')
        self.pids.add(p.pid)
        if '-d' not in extra:
            p.wait_for_log(r'dataplane .*attached', timeout=20)
        else:   # quieter log levels do not say it: a command answers
            e2e.rtpproxy_cmd(None, 'V', ('127.0.0.1', port), timeout=1, retries=10)
            time.sleep(1.5)   # control retries the attach every 0.5 s
        return p

    @staticmethod
    def stop(p, timeout=20):
        if p is not None:
            p.stop(timeout=timeout)

    @staticmethod
    def free_udp_port():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        return port

    # -- rtpb-gen --------------------------------------------------------------

    def gen(self, what, eal, opts, timeout=600, background=False):
        """Run rtpb-gen; @return its JSON summary (or the Popen if
        background: call gen_result() on it)."""
        prefix = e2e.unique_prefix()
        unlink = [] if '--no-huge' in eal else ['--huge-unlink']
        argv = [self.gen_bin] + eal + ['--file-prefix', prefix] + unlink + ['--'] + \
            opts + ['--json', '--seed', str(self.seed)]
        self.note_cmd(what, argv)
        out = os.path.join(self.dir, 'gen-%s.json' % prefix)
        err = os.path.join(self.dir, 'gen-%s.err' % prefix)
        log('%s: %s' % (what, ' '.join(argv)))
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(out, 'w'),
                             stderr=open(err, 'w'))
        p.bench = (out, err, prefix, timeout, what)
        self.pids.add(p.pid)
        if background:
            return p
        return self.gen_result(p)

    def gen_result(self, p):
        out, err, prefix, timeout, what = p.bench
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.terminate()
            p.wait(10)
            raise e2e.E2EError('%s: rtpb-gen still running after %ds' % (what, timeout))
        finally:
            try:
                e2e.cleanup_dpdk_prefix(prefix)
            except e2e.E2EError as ex:
                log('cleanup %s: %s' % (prefix, ex))
        text = open(out).read().strip()
        try:
            res = json.loads(text.splitlines()[-1]) if text else None
        except ValueError:
            res = None
        if res is None:
            raise e2e.E2EError('%s: rtpb-gen exit %s, no summary:\n%s' % (
                what, rc, open(err).read()[-3000:]))
        res['exit'] = rc
        return res

    # -- profile ---------------------------------------------------------------

    def perf_start(self, what):
        """--perf DIR: record the worker's CPU (1) with perf while the relay
        is sampled; perf_stop() writes DIR/WHAT.txt (perf report --stdio)."""
        if not self.a.perf:
            return None
        os.makedirs(self.a.perf, exist_ok=True)
        data = os.path.join(self.a.perf, what + '.data')
        p = subprocess.Popen(['perf', 'record', '-q', '-C', '1', '-o', data],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return (p, data, os.path.join(self.a.perf, what + '.txt'))

    def perf_stop(self, perf):
        if perf is None:
            return
        p, data, txt = perf
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
        with open(txt, 'w') as f:
            subprocess.run(['perf', 'report', '-i', data, '--stdio', '--no-children',
                            '--percent-limit', '0.5'], stdout=f,
                           stderr=subprocess.DEVNULL, check=False)

    # -- far cache lines (perf stat on the worker's CPU) -------------------

    def far_events(self):
        """The FAR_EVENTS perf counts on CPU 1 here (tried once, each alone
        for 0.2 s): [] when perf is missing or the VM exposes no PMU
        (perf prints <not supported>); the reasons are kept in
        self.far_note."""
        if hasattr(self, '_far_events'):
            return self._far_events
        self._far_events, why = [], []
        if shutil.which('perf') is None:
            why.append('perf not installed')
        else:
            for ev in FAR_EVENTS:
                try:
                    r = subprocess.run(['perf', 'stat', '-x', ',', '-e', ev, '-C', '1', '--',
                                        'sleep', '0.2'], capture_output=True, text=True,
                                       timeout=20)
                except (OSError, subprocess.SubprocessError) as ex:
                    why.append('%s: %s' % (ev, ex))
                    continue
                line = (r.stderr.strip().splitlines() or [''])[-1]
                if r.returncode == 0 and line.split(',')[0].strip().isdigit():
                    self._far_events.append(ev)
                elif '<not supported>' in r.stderr:
                    why.append('%s not supported' % ev)
                else:
                    why.append('%s unknown to perf' % ev)
        self.far_note = '; '.join(why)
        return self._far_events

    def far_start(self):
        """perf stat of far_events() on CPU 1 (the worker) until far_stop()."""
        evs = self.far_events()
        if not evs:
            return None
        out = os.path.join(self.dir, 'perf-stat-%d.csv' % len(self.commands))
        argv = ['perf', 'stat', '-x', ',', '-o', out, '-e', ','.join(evs), '-C', '1']
        self.note_cmd('perf stat on the worker\'s CPU (far lines)', argv)
        return (subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                out)

    def far_stop(self, perf, relayed):
        """Stop far_start()'s perf; @return {events: {event: count},
        per_pkt: {event: count / relayed}, relayed} or, if no event
        counts here, {note: why}."""
        if perf is None:
            return {'note': 'not measurable here: this machine exposes no hardware cache '
                            'event to perf (%s)' % (self.far_note or 'none tried')}
        p, out = perf
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
        ev = {}
        with open(out) as f:
            for line in f:
                c = line.strip().split(',')
                if len(c) >= 3 and c[0].strip().isdigit():
                    ev[c[2]] = int(c[0])
        os.unlink(out)
        if not ev:
            return {'note': 'perf stat counted nothing'}
        return {'events': ev, 'relayed': relayed,
                'per_pkt': {k: v / relayed for k, v in ev.items()} if relayed else {},
                'note': 'all of CPU 1 during the samples (the worker, and anything the '
                        'kernel ran there)'}

    # -- telemetry ---------------------------------------------------------

    @staticmethod
    def lcore(prefix, idx=0):
        """Worker idx's counters; a timeout, a refused connection or a
        reply cut short (the telemetry thread shares a CPU with a
        busy-polling worker, on a loaded machine) is tried again, three
        times in all."""
        for attempt in range(3):
            try:
                return e2e.telemetry(prefix, '/rtpbypass/lcore,%d' % idx, unwrap=True)
            except (e2e.E2EError, ValueError):   # E2ETimeout is an E2EError
                if attempt == 2:
                    raise
                time.sleep(0.2)
        return None

    def settle(self, prefix, timeout=120, workers=1):
        """Wait until frames stop hitting unknown streams and are relayed,
        on each of the first `workers` workers: every session is in (after
        control's replay or the install). @return worker 0's counters."""
        end = time.monotonic() + timeout
        prev = [self.lcore(prefix, w) for w in range(workers)]
        while time.monotonic() < end:
            time.sleep(1.0)
            cur = [self.lcore(prefix, w) for w in range(workers)]
            if all(c['drop_no_stream'] == p['drop_no_stream'] and c['relayed'] > p['relayed']
                   for p, c in zip(prev, cur)):
                return cur[0]
            prev = cur
        raise e2e.E2EError('%s: frames still dropped as no_stream after %ds'
                           % (prefix, timeout))

    @staticmethod
    def lcore_delta(prev, cur, dt):
        """One worker's rates between two reads of its counters dt s apart."""
        rx = cur['rx_pkts'] - prev['rx_pkts']
        rel = cur['relayed'] - prev['relayed']
        busy = cur['busy_cycles'] - prev['busy_cycles']
        tot = cur['total_cycles'] - prev['total_cycles']
        drops = {k[5:]: cur[k] - prev[k] for k in cur
                 if k.startswith('drop_') and cur[k] != prev[k]}
        feat = {k: cur.get(k, 0) - prev.get(k, 0)
                for ks in FEATURE_CTRS.values() for k in ks}
        feat['relayed'], feat['seconds'] = rel, dt
        lat = {k: cur[k] - prev[k] for k, _, _ in LAT_BUCKETS if k in cur}
        return {'lat': lat, 'lat_max_ns': cur.get('lat_max_ns'), 'feature_ctrs': feat, 'relayed_pps': rel / dt, 'rx_pps': rx / dt, 'tsc_hz': tot / dt,
                'busy_cycles_per_pkt': busy / rx if rx else None,
                'total_cycles_per_pkt': tot / rx if rx else None,
                'busy_ratio': busy / tot if tot else None,
                'handoff_out': cur.get('handoff_out', 0) - prev.get('handoff_out', 0),
                'drops': drops}

    def sample(self, prefix, seconds, stop_when=None):
        """One-second samples of worker 0: relayed/s, rx/s, cycles per
        packet (busy and total), drops."""
        out = []
        prev, tprev = self.lcore(prefix), time.monotonic()
        for _ in range(int(seconds)):
            time.sleep(1.0)
            cur, t = self.lcore(prefix), time.monotonic()
            out.append(self.lcore_delta(prev, cur, t - tprev))
            prev, tprev = cur, t
            if stop_when is not None and stop_when():
                break
        return out

    def sample_workers(self, prefix, seconds, workers):
        """One-second samples of every worker (each read with its own
        time): per worker what sample() gives, and the workers' sums of
        relayed/s and rx/s."""
        def read():
            return [(self.lcore(prefix, w), time.monotonic()) for w in range(workers)]
        out = []
        prev = read()
        for _ in range(int(seconds)):
            time.sleep(1.0)
            cur = read()
            ws = [self.lcore_delta(p, c, tc - tp) for (p, tp), (c, tc) in zip(prev, cur)]
            out.append({'relayed_pps': sum(w['relayed_pps'] for w in ws),
                        'rx_pps': sum(w['rx_pps'] for w in ws), 'workers': ws})
            prev = cur
        return out

    # -- testpmd ------------------------------------------------------------

    def testpmd_run(self, vdevs, topology, seconds, what, frames=PCAP_FRAMES,
                    lcores='0-1', cores=1):
        """testpmd io forwarding on vdevs for seconds: port 0's Rx-pps
        samples and the whole run's cycles per packet (summed over the
        forwarding lcores). cores: forwarding lcores, one RX and TX queue
        per port each (lcores: EAL --lcores, the main lcore first)."""
        prefix = e2e.unique_prefix()
        mbufs = ['--total-num-mbufs=16384'] if frames <= PCAP_FRAMES else \
            ['--total-num-mbufs=%d' % (frames + 16384), '--mbuf-size=%d' % PCAP_MBUF_SIZE]
        argv = [self.testpmd, '--lcores', lcores, '--no-pci', '--file-prefix', prefix,
                '--huge-unlink']
        for v in vdevs:
            argv += ['--vdev', v]
        argv += ['--', '--forward-mode=io', '--nb-cores=%d' % cores, '--auto-start',
                 '--stats-period', '1', '--record-core-cycles'] + mbufs + \
                ['--no-lsc-interrupt', '--port-topology=%s' % topology]
        if cores > 1:
            argv += ['--rxq=%d' % cores, '--txq=%d' % cores]
        self.note_cmd(what, argv)
        p = e2e.Proc(argv, name='testpmd', stdin=subprocess.PIPE)
        self.pids.add(p.pid)
        time.sleep(seconds + 2)
        self.stop(p, timeout=15)
        out = p.output()[0]
        e2e.cleanup_dpdk_prefix(prefix)
        # "Rx-pps:  N" per port per period; port 0 receives the pcap
        blocks = re.split(r'#+ NIC statistics for port (\d+)', out)
        pps = []
        for i in range(1, len(blocks) - 1, 2):
            if blocks[i] == '0':
                m = re.search(r'Rx-pps:\s+(\d+)', blocks[i + 1])
                if m:
                    pps.append(int(m.group(1)))
        pps = [x for x in pps if x > 0][2:]   # ramp-up: first two seconds
        m = re.search(r'CPU cycles/packet=([\d.]+)', out)
        return {'pps_samples': pps, 'pps': spread(pps),
                'cycles_per_pkt_whole_run': float(m.group(1)) if m else None}


# ---------------------------------------------------------------------------
# pcap: testpmd and the relay on the same frames.

def n_addrs_for(sessions):
    return max(1, math.ceil(2 * sessions / LAYOUT_PAIRS))


HUGEPAGES = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'


def hugepages_for(sessions):
    """2 MB hugepages a pcap case of sessions needs: twice the dataplane's
    shared tables (control, a DPDK secondary, keeps the stopped setup
    dataplane's pages mapped until it attaches to the pcap one), net_pcap's
    pool of the whole file, and 256 pages of margin. Records: 384 (the
    stream, its RTP analysis included: dataplane/dp_stream.h) + 32
    (counters) bytes per stream id."""
    shm = max_streams_for(sessions) * (384 + 32)
    frames = pcap_frames_for(sessions)
    pool = (frames + 16384) * (PCAP_MBUF_SIZE + 192) if frames > PCAP_FRAMES else 0
    return (2 * shm + pool) // (2 << 20) + 256


def raise_hugepages(want):
    """Raise nr_hugepages to want if lower, for this run (the Debian setup,
    deploy/prepare.sh, reserves 512: 1 000 and 100 000 sessions fit, 250 000
    do not). Returns the count to restore at exit, or None."""
    try:
        with open(HUGEPAGES) as f:
            have = int(f.read())
        if have >= want:
            return None
        with open(HUGEPAGES, 'w') as f:
            f.write('%d\n' % want)
        with open(HUGEPAGES) as f:
            got = int(f.read())
    except (OSError, ValueError) as ex:
        log('hugepages: cannot raise to %d: %s' % (want, ex))
        return None
    log('hugepages: %d -> %d for this run (%s), restored at exit' % (have, got, HUGEPAGES))
    return have


def restore_hugepages(have):
    if have is None:
        return
    try:
        with open(HUGEPAGES, 'w') as f:
            f.write('%d\n' % have)
        log('hugepages: back to %d' % have)
    except OSError as ex:
        log('hugepages: cannot restore %d: %s' % (have, ex))


def max_streams_for(sessions):
    return max(65536, 1 << math.ceil(math.log2(4 * sessions + 64)))


def before_case(b):
    """Others busy now (after waiting for them up to --wait-quiet)."""
    return wait_quiet(b.a.wait_quiet) if b.a.wait_quiet else busy_processes()


def least_noisy(b, what, noise, once, new_too=False):
    """Run once() until noise(result) is empty, at most 1 + --retries
    times; return the least noisy result, with the processes busy before
    it, what others used during it and every attempt's noise."""
    tries = []
    best = None
    for attempt in range(1 + b.a.retries):
        busy = before_case(b)
        snap = (time.monotonic(), cpu_times())
        try:
            res = once()
        except e2e.E2EError as ex:
            # a later attempt failing (a setup refused under load) does
            # not lose an earlier attempt's figures
            if best is None:
                raise
            log('%s: attempt failed (%s); keeping the earlier one' % (what, ex))
            tries.append('failed: %s' % str(ex)[:200])
            break
        res['busy_before'] = busy
        res['others_during'] = others_during(snap, b.pids, new_too=new_too)
        res['noise'] = noise(res)
        tries.append(res['noise'] or 'quiet')
        if best is None or len(res['noise']) < len(best['noise']):
            best = res
        if not res['noise']:
            break
        log('%s: noisy (%s)%s' % (what, '; '.join(res['noise']),
                                  '; again' if attempt < b.a.retries else ''))
    best['attempts'] = tries
    return best


def pcap_case(b, sessions, seconds, frames=None, direct=False, testpmd=True, feature='none'):
    """One pcap case, run again (up to --retries times) when other
    processes used a CPU meanwhile; every attempt's disturbance is kept.
    feature: what every call's streams do (FEATURES); not 'none' needs
    the setup through control."""
    if frames is None:
        frames = pcap_frames_for(sessions)
    what = '%d sessions' % sessions + ('' if feature == 'none' else ', ' + feature)
    res = least_noisy(b, what, noise_of,
                      lambda: pcap_case_once(b, sessions, seconds, frames, direct, testpmd,
                                             feature))
    if feature == 'none' and testpmd and not b.a.no_half_load:
        try:
            res['half'] = pcap_half_case(b, sessions, seconds)
        except (e2e.E2EError, OSError, subprocess.SubprocessError, KeyError) as ex:
            log('%s, half load: failed: %s' % (what, ex))
            res['half'] = {'error': str(ex)[:500]}
    return res


def pcap_half_case(b, sessions, seconds):
    """A pcap case's half load, for the latency inside the dataplane
    (issue 19: p99 at half load). net_pcap cannot pace its frames, so
    rtpb-gen drives the relay over net_memif, the same sessions installed
    directly (--layout --install), the relay's worker in the same seat
    (CPU 1), the generator on CPU 0: first as fast as it can (the
    relay's maximum on this link: memif costs the relay more per packet
    than net_pcap, so half the pcap maximum would load it fully), then
    at half of what was relayed (--pps), each on a fresh dataplane. The
    worker's busy share says what load it saw."""
    sock = os.path.join(b.dir, 'memif-half.sock')
    n_addrs = n_addrs_for(sessions)
    addrs = ','.join(RELAY_NET % (i + 1) for i in range(n_addrs))
    eal = ['-l', '0', '--no-pci', '--vdev', 'net_memif0,role=client,socket=%s' % sock]
    out = {}
    for key in ('max', 'half'):
        if key == 'max':
            rate = ['--rate', 'max']
        else:
            pps = 0.5 * out['max']['relay_pps']['median']
            if pps <= 0:
                raise e2e.E2EError('memif max rate: nothing relayed')
            out['offered_pps'] = pps
            rate = ['--pps', '%.0f' % pps]
        prefix = e2e.unique_prefix()
        dp = None
        try:
            dp = b.dataplane(prefix, ['net_memif0,role=server,socket=%s' % sock], n_addrs,
                             max_streams_for(sessions),
                             'dataplane on memif, %s (%d sessions)' % (key, sessions))
            p = b.gen('memif %s, %d sessions (direct)' % (key, sessions), eal,
                      ['--calls', str(sessions), '--layout', addrs, '--install', prefix,
                       '--duration', str(seconds), '--quiet'] + rate, background=True)
            rel = b.sample(prefix, 3600, stop_when=lambda: p.poll() is not None)
            g = b.gen_result(p)
        finally:
            b.stop(dp)
            if dp is not None:
                e2e.cleanup_dpdk_prefix(prefix)
        busy = relay_busy_samples(rel)
        out[key] = {'gen': g, 'relay': rel,
                    'relay_pps': spread([x['relayed_pps'] for x in busy]),
                    'busy_ratio': spread([x['busy_ratio'] for x in busy
                                          if x['busy_ratio'] is not None]),
                    'latency': lat_summary(busy)}
    # the half-load figures at the top level (report_latency())
    for k in ('relay', 'relay_pps', 'busy_ratio', 'latency', 'gen'):
        out[k] = out['half'].pop(k)
    out['max_over_memif'] = out.pop('max')
    del out['half']
    return out


def noise_of(res):
    """Why a case's samples cannot be trusted, if they cannot: other
    processes on the CPUs, or the host's (the vCPUs' speed jumps, as
    testpmd's samples show: the same work at half the rate)."""
    why = []
    if res.get('others_during'):
        why.append('others busy: ' + busy_text(res['others_during']))
    rel = [x['relayed_pps'] for x in res.get('relay', [])]
    if rel and min(rel) > 0 and max(rel) / min(rel) > 1.15:
        why.append('relay samples spread %.2fx' % (max(rel) / min(rel)))
    tb = res.get('testpmd_before', {}).get('pps', {}).get('median')
    ta = res.get('testpmd_after', {}).get('pps', {}).get('median')
    if tb and ta and max(tb, ta) / min(tb, ta) > 1.15:
        why.append('testpmd before/after %.1f/%.1f Mpps' % (tb / 1e6, ta / 1e6))
    tp = res.get('testpmd_before', {}).get('pps_samples', []) + \
        res.get('testpmd_after', {}).get('pps_samples', [])
    if tp and min(tp) > 0 and max(tp) / min(tp) > 1.25:
        why.append('testpmd samples spread %.2fx' % (max(tp) / min(tp)))
    tn = res.get('testpmd_pcap_to_null', {}).get('pps_samples', [])
    if tn and min(tn) > 0 and max(tn) / min(tn) > 1.25:
        why.append('testpmd pcap->null samples spread %.2fx' % (max(tn) / min(tn)))
    rn = [x['relayed_pps'] for x in res.get('relay_to_null', {}).get('relay', [])]
    if rn and min(rn) > 0 and max(rn) / min(rn) > 1.15:
        why.append('relay pcap->null samples spread %.2fx' % (max(rn) / min(rn)))
    return why


def feature_check(feature, smp, what):
    """The feature's counters summed over samples smp; raises when the
    feature did not run (no copy made nor dropped), so no figure is
    reported for a run that measured nothing but the plain relay."""
    keys = [k for ks in FEATURE_CTRS.values() for k in ks] + ['relayed', 'seconds']
    tot = {k: sum(x['feature_ctrs'].get(k, 0) for x in smp) for k in keys}
    rel = tot['relayed']
    if feature in FEATURE_CTRS:
        copies, drops = FEATURE_CTRS[feature]
        if tot[copies] + tot[drops] == 0:
            raise e2e.E2EError('%s: feature %s did not run: %s 0 (%s %d) over %d samples'
                               % (what, feature, copies, drops, tot[drops], len(smp)))
        tot['per_relayed'] = (tot[copies] + tot[drops]) / rel if rel else None
    return tot


def tos_check(b, prefix, ctl, vdev, n_addrs, ms, frames, what, limit=1 << 20):
    """--feature tos: the relay once more on the same pcap and sessions
    (control replays them), sending to a pcap file (net_pcap tx_pcap,
    --tx-port 1) until it holds `limit` bytes; every IPv4 frame in it
    must carry TOS. Not during the samples: writing the file costs.
    @return {frames, ipv4, marked}."""
    cap = os.path.join(b.dir, 'tos-%s.pcap' % prefix)
    mark = ctl.log_mark()
    dp = b.dataplane(prefix, [vdev, 'net_pcap1,tx_pcap=%s' % cap], n_addrs, ms,
                     'dataplane net_pcap -> pcap file (TOS check, %s)' % what,
                     extra=['--port', '0', '--tx-port', '1'] + mbuf_opts(frames))
    try:
        ctl.wait_for_log(r'(\d+) sessions replayed', timeout=120, since=mark)
        end = time.monotonic() + 30
        while time.monotonic() < end and \
                (not os.path.exists(cap) or os.path.getsize(cap) < limit):
            time.sleep(0.01)
    finally:
        b.stop(dp)
    with open(cap, 'rb') as f:
        data = f.read()
    os.unlink(cap)
    order = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    off, out = 24, {'frames': 0, 'ipv4': 0, 'marked': 0}
    while off + 16 <= len(data):
        incl = struct.unpack(order + 'I', data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        out['frames'] += 1
        if len(frame) >= 34 and frame[12:14] == b'\x08\x00':
            out['ipv4'] += 1
            out['marked'] += frame[15] == TOS
    if out['marked'] == 0 or out['marked'] != out['ipv4']:
        raise e2e.E2EError('%s: feature tos did not run: %d of the %d IPv4 frames the relay '
                           'sent (%d frames) have TOS %d'
                           % (what, out['marked'], out['ipv4'], out['frames'], TOS))
    return out


def dir_bytes(path):
    """Bytes in the files under path."""
    return sum(os.path.getsize(os.path.join(d, f))
               for d, _, fs in os.walk(path) for f in fs)


def pcap_case_once(b, sessions, seconds, frames, direct, testpmd, feature='none'):
    a = b.a
    res = {'sessions': sessions, 'feature': feature}
    pcap = os.path.join(b.dir, 'rtp-%d-%d.pcap' % (sessions, frames))
    prefix = e2e.unique_prefix()
    # a fork takes a port pair of its own per party: four per call
    n_addrs = n_addrs_for(2 * sessions if feature == 'fork' else sessions)
    ms = max_streams_for(sessions)
    res['relay_addrs'] = n_addrs
    res['max_streams'] = ms
    dp = ctl = None
    addrs = ','.join(RELAY_NET % (i + 1) for i in range(n_addrs))
    pcap_vdev = 'net_pcap0,rx_pcap=%s,infinite_rx=1' % pcap
    tag = '' if feature == 'none' else ', ' + feature
    rec_dir = None
    if feature == 'tos' and not (testpmd and b.has_tx_port):
        raise e2e.E2EError('feature tos: the check needs the dataplane\'s --tx-port')
    if feature != 'none' and (direct or sessions > CTL_MAX_SESSIONS):
        raise e2e.E2EError('feature %s: needs the setup through control (at most %d '
                           'sessions)' % (feature, CTL_MAX_SESSIONS))
    try:
        if sessions <= CTL_MAX_SESSIONS and not direct:
            res['setup'] = 'control'
            port = b.free_udp_port()
            dp = b.dataplane(prefix, ['net_null0,no-rx=1'], n_addrs, ms,
                             'dataplane for the setup (%d sessions%s)' % (sessions, tag))
            extra = ['--port-spill']
            if feature == 'record':
                rec_dir = os.path.join(b.dir, 'rec-%s' % prefix)
                os.makedirs(rec_dir)
                extra += ['-r', rec_dir]
            ctl = b.control(prefix, port, n_addrs, extra=extra)
            g = b.gen('setup and pcap (%d sessions%s)' % (sessions, tag),
                      ['-l', '0', '--no-pci', '--no-huge', '-m', '128'],
                      ['--calls', str(sessions), '--ctl', 'udp:127.0.0.1:%d' % port,
                       '--duration', '0', '--keep-sessions', '--write-pcap', pcap,
                       '--pcap-frames', str(frames), '--quiet'] + feature_gen_opts(feature))
            res['gen_setup'] = g.get('setup')
            if g['setup']['calls_ok'] != sessions:
                raise e2e.E2EError('setup: %d of %d calls: %s' % (
                    g['setup']['calls_ok'], sessions, g['setup']['first_error']))
            if g['setup'].get('feature_cmds', 0) != feature_cmds(feature, sessions):
                raise e2e.E2EError('setup: feature %s: %s of %d R/C commands answered 0 '
                                   '(rtpb-gen without --record/--fork?)' % (
                                       feature, g['setup'].get('feature_cmds'),
                                       feature_cmds(feature, sessions)))
            info = e2e.rtpproxy_cmd(None, 'I', ('127.0.0.1', port), timeout=5)
            res['info_before'] = info.splitlines()[:3]
            mark = ctl.log_mark()
            b.stop(dp)
            dp = b.dataplane(prefix, [pcap_vdev], n_addrs, ms,
                             'dataplane on the pcap (%d sessions, through control%s)'
                             % (sessions, tag), extra=mbuf_opts(frames))
            m = ctl.wait_for_log(r'(\d+) sessions replayed', timeout=120, since=mark)
            res['replayed'] = int(m.group(1))
        else:
            res['setup'] = 'direct'
            b.gen('pcap (%d sessions, layout)' % sessions,
                  ['-l', '0', '--no-pci', '--no-huge', '-m', '128'],
                  ['--calls', str(sessions), '--layout', addrs, '--duration', '0',
                   '--write-pcap', pcap, '--pcap-frames', str(frames), '--quiet'])
            dp = b.dataplane(prefix, [pcap_vdev], n_addrs, ms,
                             'dataplane on the pcap (%d sessions, direct)' % sessions,
                             extra=mbuf_opts(frames))
            g = b.gen('install (%d sessions)' % sessions,
                      ['-l', '0', '--no-pci', '--no-huge', '-m', '128'],
                      ['--calls', str(sessions), '--layout', addrs, '--install', prefix,
                       '--duration', '0', '--quiet'], timeout=300)
            res['install'] = g.get('install')
        res['pcap_frames'] = frames
        st = b.settle(prefix)
        res['latches'] = st['latches']
        perf = b.perf_start('relay-%d' % sessions + ('' if feature == 'none' else '-' + feature))
        far = b.far_start()
        res['relay'] = b.sample(prefix, seconds)
        res['far_lines'] = b.far_stop(far, sum(x['feature_ctrs']['relayed']
                                               for x in res['relay']))
        b.perf_stop(perf)
        res['latency'] = lat_summary(res['relay'])
        res['feature_counters'] = feature_check(feature, res['relay'],
                                                '%d sessions' % sessions)
        out = '\n'.join(dp.output())
        m = re.search(r'mbufs in use after start: (\d+)', out)
        res['mbufs_held_by_pmd'] = int(m.group(1)) if m else None
        if testpmd and b.has_tx_port:
            # the issue's link: net_pcap in, net_null out (--tx-port 1), the
            # same sessions (control replays them, or installed again)
            b.stop(dp)
            dp = None
            mark = ctl.log_mark() if ctl else None
            dp = b.dataplane(prefix, [pcap_vdev, 'net_null0,no-rx=1'], n_addrs, ms,
                             'dataplane net_pcap -> net_null (%d sessions, %s%s)'
                             % (sessions, res['setup'], tag),
                             extra=['--port', '0', '--tx-port', '1'] + mbuf_opts(frames))
            if ctl:
                ctl.wait_for_log(r'(\d+) sessions replayed', timeout=120, since=mark)
            else:
                b.gen('install (%d sessions, pcap -> null)' % sessions,
                      ['-l', '0', '--no-pci', '--no-huge', '-m', '128'],
                      ['--calls', str(sessions), '--layout', addrs, '--install', prefix,
                       '--duration', '0', '--quiet'], timeout=300)
            b.settle(prefix)
            smp = b.sample(prefix, seconds)
            res['relay_to_null'] = {
                'relay': smp, 'relay_pps': spread([x['relayed_pps'] for x in smp]),
                'relay_cycles_per_pkt': spread([x['busy_cycles_per_pkt'] for x in smp
                                                if x['busy_cycles_per_pkt']]),
                'latency': lat_summary(smp),
                'feature_counters': feature_check(feature, smp, '%d sessions, pcap -> null'
                                                  % sessions)}
        if feature == 'tos':
            b.stop(dp)
            dp = None
            res['tos_check'] = tos_check(b, prefix, ctl, pcap_vdev, n_addrs, ms, frames,
                                         '%d sessions' % sessions)
    finally:
        b.stop(ctl)
        b.stop(dp)
        e2e.cleanup_dpdk_prefix(prefix)
        if rec_dir:
            res['recorded_bytes'] = dir_bytes(rec_dir)
            shutil.rmtree(rec_dir, ignore_errors=True)
    rel = [s['relayed_pps'] for s in res['relay']]
    cpp = [s['busy_cycles_per_pkt'] for s in res['relay'] if s['busy_cycles_per_pkt']]
    res['relay_pps'] = spread(rel)
    res['relay_cycles_per_pkt'] = spread(cpp)
    if not testpmd:
        os.unlink(pcap)
        return res
    # the link's limit, before and after, on the same pcap and vdev
    tp = []
    for when in ('before', 'after'):
        t = b.testpmd_run([pcap_vdev], 'loop', seconds,
                          'testpmd io, same vdev (%s the relay, %d sessions)' % (when, sessions),
                          frames=frames)
        res['testpmd_%s' % when] = t
        tp += t['pps_samples']
    res['testpmd_pps'] = spread(tp)
    t = b.testpmd_run([pcap_vdev, 'net_null0,no-rx=1'], 'paired', seconds,
                      'testpmd io, net_pcap -> net_null (two ports, %d sessions)' % sessions,
                      frames=frames)
    res['testpmd_pcap_to_null'] = t
    hz = median([s['tsc_hz'] for s in res['relay']])
    res['tsc_hz'] = hz
    res['testpmd_cycles_per_pkt'] = hz / res['testpmd_pps']['median'] \
        if res['testpmd_pps']['median'] else None
    res['ratio'] = res['relay_pps']['median'] / res['testpmd_pps']['median'] \
        if res['testpmd_pps']['median'] else None
    # issue 19's gate: the relay's own cycles (testpmd's subtracted)
    res['own_cycles'] = own_cycles(res['relay_cycles_per_pkt']['median'],
                                   res['testpmd_cycles_per_pkt'],
                                   [res['testpmd_before'], res['testpmd_after']])
    rn = res.get('relay_to_null')
    if rn:
        t['cycles_per_pkt'] = hz / t['pps']['median'] if t['pps']['median'] else None
        rn['own_cycles'] = own_cycles(rn['relay_cycles_per_pkt']['median'],
                                      t['cycles_per_pkt'], [t])
    os.unlink(pcap)
    return res


# ---------------------------------------------------------------------------
# workers: one worker lcore against two, RSS emulated by one pcap per queue.

# (key, workers, EAL lcores, what): lcore 0 is the main lcore (asleep 500 us
# at a time), the others are the workers, worker w on RX/TX queue w. The
# machine has two CPUs and each of two workers needs one, so the main lcore
# shares CPU 0 with worker 0; 'one_cpu0' is one worker in that same seat.
# (key, workers, EAL lcores, what, pcap split: owner's queue or 5-tuple hash)
WORKER_RUNS = (
    ('one', 1, '0-1', 'one worker (CPU 1; main lcore on CPU 0)', 'owner'),
    ('one_cpu0', 1, '0@0,1@0', 'one worker on CPU 0, with the main lcore', 'owner'),
    ('two', 2, '0@0,1@0,2@1', 'two workers (CPU 0 with the main lcore, CPU 1)', 'owner'),
    ('two_rss', 2, '0@0,1@0,2@1', 'two workers, frames spread by a 5-tuple hash', 'flow'),
)


def workers_case(b, sessions, seconds, frames=PCAP_FRAMES):
    """One worker against two at one session count, run again (up to
    --retries times) when noisy; the least noisy attempt is kept."""
    return least_noisy(b, 'workers %d sessions' % sessions, workers_noise,
                       lambda: workers_case_once(b, sessions, seconds, frames), new_too=True)


def workers_noise(res):
    """Why a workers case's samples are suspect: others busy, a run's
    summed samples spread by more than 15 %, a worker of the two spending
    over 1.3 times the cycles per packet of one worker in the same seat
    (a CPU shared with a process the others check missed: one started and
    ended within the case), or hand-offs (the split is wrong: frames
    crossed workers)."""
    why = []
    if res.get('others_during'):
        why.append('others busy: ' + busy_text(res['others_during']))
    for key, _, _, _, _ in WORKER_RUNS:
        v = [x['relayed_pps'] for x in res.get(key, {}).get('samples', [])]
        if v and min(v) > 0 and max(v) / min(v) > 1.15:
            why.append('%s: samples spread %.2fx' % (key, max(v) / min(v)))
    c1 = res.get('one', {}).get('workers', [{}])[0].get('busy_cycles_per_pkt', {}).get('median')
    c0 = res.get('one_cpu0', {}).get('workers', [{}])[0].get('busy_cycles_per_pkt', {}).get('median')
    if c0 and c1 and max(c0, c1) / min(c0, c1) > 1.3:
        # the same work: one CPU ran slower (stolen by the host or another process)
        why.append('one worker: %.0f cycles/pkt on CPU 1, %.0f on CPU 0' % (c1, c0))
    two = res.get('two', {}).get('workers', [])
    for w, ref in ((0, 'one_cpu0'), (1, 'one')):   # worker 0 on CPU 0, 1 on CPU 1
        r = res.get(ref, {}).get('workers', [])
        if w < len(two) and r and r[0]['busy_cycles_per_pkt']['median']:
            x = two[w]['busy_cycles_per_pkt']['median'] / r[0]['busy_cycles_per_pkt']['median']
            if x > 1.3:
                why.append('two: worker %d at %.1fx the cycles/pkt of %s' % (w, x, ref))
    if res.get('two', {}).get('handoff_out'):
        why.append('two: %d hand-offs' % res['two']['handoff_out'])
    return why


def workers_case_once(b, sessions, seconds, frames):
    """Write the pcaps of a direct layout (one file; one per queue for two
    workers, rtpb-gen --pcap-queues 2: call c's frames on queue c % 2, the
    queue of the worker --install makes its owner) and run WORKER_RUNS on
    net_pcap -> net_null, the same sessions installed each time."""
    res = {'sessions': sessions, 'setup': 'direct', 'pcap_frames': frames}
    n_addrs = n_addrs_for(sessions)
    ms = max_streams_for(sessions)
    res['relay_addrs'] = n_addrs
    res['max_streams'] = ms
    addrs = ','.join(RELAY_NET % (i + 1) for i in range(n_addrs))
    gen_eal = ['-l', '0', '--no-pci', '--no-huge', '-m', '128']
    files = {}
    try:
        for nq, split in ((1, 'owner'), (2, 'owner'), (2, 'flow')):
            path = os.path.join(b.dir, 'workers-%d-%dq-%s.pcap' % (sessions, nq, split))
            files[nq, split] = [path] if nq == 1 else ['%s.q%d' % (path, q) for q in range(nq)]
            g = b.gen('pcap for %d queue(s), split by %s (%d sessions, layout)'
                      % (nq, split, sessions), gen_eal,
                      ['--calls', str(sessions), '--layout', addrs, '--duration', '0',
                       '--write-pcap', path, '--pcap-frames', str(frames),
                       '--pcap-queues', str(nq), '--pcap-split', split, '--quiet'])
            res['pcap_%dq' % nq + ('' if split == 'owner' else '_' + split)] = g.get('pcap')
        for key, nw, lcores, what, split in WORKER_RUNS:
            res[key] = workers_run(b, sessions, seconds, files[nw, split], nw, lcores, what,
                                   n_addrs, ms, addrs)
        if b.has_tx_port:
            res['link'] = workers_link(b, sessions, seconds, files, frames)
    finally:
        for paths in files.values():
            for f in paths:
                if os.path.exists(f):
                    os.unlink(f)
    one, two = res['one']['sum_pps']['median'], res['two']['sum_pps']['median']
    res['scaling'] = two / one if one else None
    one0 = res['one_cpu0']['sum_pps']['median']
    res['scaling_vs_cpu0'] = two / one0 if one0 else None
    rss = res['two_rss']['sum_pps']['median']
    res['scaling_rss'] = rss / one if one else None
    link = res.get('link')
    if link:
        # what the relay's own work costs: its busy cycles/pkt less the
        # link's (testpmd io on the same pcaps, lcores and queues)
        c1 = res['one']['workers'][0]['busy_cycles_per_pkt']['median']
        c2 = median([w['busy_cycles_per_pkt']['median'] for w in res['two']['workers']])
        t1, t2 = link['one']['cycles_per_pkt_whole_run'], link['two']['cycles_per_pkt_whole_run']
        if c1 and c2 and t1 and t2 and c1 > t1 and c2 > t2:
            res['own_cycles'] = {'one': c1 - t1, 'two': c2 - t2}
            res['own_scaling'] = 2 * (c1 - t1) / (c2 - t2)
    return res


def workers_link(b, sessions, seconds, files, frames):
    """The link's own scaling: testpmd io on the workers runs' vdevs
    (the one-queue pcap, then the two queue pcaps -> net_null), one
    forwarding lcore in worker 0's seat of 'one', then two in the seats of
    'two'."""
    out = {}
    for key, pcaps, lcores, cores in (('one', files[1, 'owner'], '0@0,1@1', 1),
                                      ('two', files[2, 'owner'], '0@0,1@0,2@1', 2)):
        vdev = 'net_pcap0,%s,infinite_rx=1' % ','.join('rx_pcap=%s' % f for f in pcaps)
        t = b.testpmd_run([vdev, 'net_null0,no-rx=1'], 'paired', seconds,
                          'testpmd io, %d forwarding lcore(s), %d queue(s), net_pcap -> '
                          'net_null (%d sessions)' % (cores, cores, sessions),
                          frames=frames, lcores=lcores, cores=cores)
        t['lcores'] = lcores
        out[key] = t
    one, two = out['one']['pps']['median'], out['two']['pps']['median']
    out['scaling'] = two / one if one and two else None
    return out


def workers_run(b, sessions, seconds, pcaps, n_workers, lcores, what, n_addrs, ms, addrs):
    """One dataplane on net_pcap (one rx_pcap per queue, infinite_rx; its
    TX drops) -> net_null (--tx-port 1, n_workers TX queues), sessions
    installed directly, every worker sampled once a second."""
    prefix = e2e.unique_prefix()
    vdevs = ['net_pcap0,%s,infinite_rx=1' % ','.join('rx_pcap=%s' % f for f in pcaps)]
    extra = []
    if b.has_tx_port:
        vdevs.append('net_null0,no-rx=1')
        extra = ['--port', '0', '--tx-port', '1']
    dp = None
    try:
        dp = b.dataplane(prefix, vdevs, n_addrs, ms, '%s, %d sessions, direct' % (what, sessions),
                         lcores=lcores, extra=extra)
        b.gen('install (%d sessions, %d worker(s))' % (sessions, n_workers),
              ['-l', '0', '--no-pci', '--no-huge', '-m', '128'],
              ['--calls', str(sessions), '--layout', addrs, '--install', prefix,
               '--duration', '0', '--quiet'], timeout=300)
        b.settle(prefix, workers=n_workers)
        smp = b.sample_workers(prefix, seconds, n_workers)
    finally:
        b.stop(dp)
        e2e.cleanup_dpdk_prefix(prefix)
    res = {'lcores': lcores, 'workers_n': n_workers, 'pcaps': len(pcaps),
           'tx_port': b.has_tx_port, 'samples': smp,
           'sum_pps': spread([x['relayed_pps'] for x in smp]),
           'handoff_out': sum(w['handoff_out'] for x in smp for w in x['workers']),
           'workers': []}
    for w in range(n_workers):
        ws = [x['workers'][w] for x in smp]
        res['workers'].append({
            'relayed_pps': spread([x['relayed_pps'] for x in ws]),
            'busy_cycles_per_pkt': spread([x['busy_cycles_per_pkt'] for x in ws
                                           if x['busy_cycles_per_pkt']]),
            'busy_ratio': spread([x['busy_ratio'] for x in ws if x['busy_ratio'] is not None]),
            'tsc_hz': median([x['tsc_hz'] for x in ws]),
            'handoff_out': sum(x['handoff_out'] for x in ws)})
    return res


# ---------------------------------------------------------------------------
# memif: relay and generator in two processes.

def memif_case(b, seconds, res):
    """Fills res as it goes, so a failure late keeps what ran."""
    a = b.a
    prefix = e2e.unique_prefix()
    sock = os.path.join(b.dir, 'memif.sock')
    port = b.free_udp_port()
    calls = a.memif_calls
    eal = ['-l', '0', '--no-pci', '--vdev', 'net_memif0,role=client,socket=%s' % sock]
    ctl_opt = ['--ctl', 'udp:127.0.0.1:%d' % port]
    dp = ctl = None
    try:
        dp = b.dataplane(prefix, ['net_memif0,role=server,socket=%s' % sock], 1, 65536,
                         'dataplane on memif (server)')
        ctl = b.control(prefix, port)

        def with_relay(what, opts):
            p = b.gen(what, eal, opts, background=True)
            rel = b.sample(prefix, 3600, stop_when=lambda: p.poll() is not None)
            g = b.gen_result(p)
            return g, rel

        g, rel = with_relay('memif natural rate', ['--calls', str(calls), '--duration',
                                                   str(seconds), '--quiet'] + ctl_opt)
        res['natural'] = {'gen': g, 'relay': rel}
        g, rel = with_relay('memif max rate', ['--calls', str(calls), '--rate', 'max',
                                               '--duration', str(seconds), '--quiet'] + ctl_opt)
        res['max'] = {'gen': g, 'relay': rel}
        t = g.get('traffic', {})
        rx = [x + y for x, y in zip(t.get('a_to_b', {}).get('rx_fps', {}).get('samples', []),
                                    t.get('b_to_a', {}).get('rx_fps', {}).get('samples', []))]
        res['max_rx_fps'] = spread(rx[1:] if len(rx) > 2 else rx)
        half = 0.5 * res['max_rx_fps']['median']
        if half > 0:
            g, rel = with_relay('memif half load', ['--calls', str(calls), '--pps', '%.0f' % half,
                                                    '--duration', str(seconds), '--quiet'] + ctl_opt)
            res['half'] = {'pps': half, 'gen': g, 'relay': rel}
        # session setup through control
        res['setup'] = []
        for w in a.setup_windows:
            t0 = proc_cpu_ticks(ctl.pid)
            g = b.gen('setup rate, window %d' % w, ['-l', '0', '--no-pci', '--no-huge', '-m', '128'],
                      ['--calls', str(a.setup_calls), '--duration', '0', '--ctl-window', str(w),
                       '--quiet'] + ctl_opt)
            res['setup'].append({'window': w, 'log': 'INFO', 'setup': g.get('setup'),
                                 'teardown': g.get('teardown'),
                                 'ctl_cpu_s': (proc_cpu_ticks(ctl.pid) - t0) / CLK_TCK})
        # the same without control's INFO line per session
        b.stop(ctl)
        ctl = None
        ctl = b.control(prefix, port, extra=['-d', 'WARN'])
        for w in a.setup_windows:
            t0 = proc_cpu_ticks(ctl.pid)
            g = b.gen('setup rate, window %d, control -d WARN' % w,
                      ['-l', '0', '--no-pci', '--no-huge', '-m', '128'],
                      ['--calls', str(a.setup_calls), '--duration', '0', '--ctl-window', str(w),
                       '--quiet'] + ctl_opt)
            res['setup'].append({'window': w, 'log': 'WARN', 'setup': g.get('setup'),
                                 'teardown': g.get('teardown'),
                                 'ctl_cpu_s': (proc_cpu_ticks(ctl.pid) - t0) / CLK_TCK})
    finally:
        b.stop(ctl)
        b.stop(dp)
        if dp is not None:
            e2e.cleanup_dpdk_prefix(prefix)

    # the floor: the same generator and link with testpmd io in the relay's
    # place (frames addressed to the peer phone, returned as they are)
    if b.testpmd:
        prefix = e2e.unique_prefix()
        argv = [b.testpmd, '-l', '0-1', '--no-pci', '--file-prefix', prefix, '--huge-unlink',
                '--vdev', 'net_memif0,role=server,socket=%s' % sock, '--',
                '--forward-mode=io', '--nb-cores=1', '--port-topology=loop', '--auto-start',
                '--no-lsc-interrupt', '--total-num-mbufs=16384', '--stats-period', '10']
        b.note_cmd('testpmd io as the memif peer (latency floor)', argv)
        tp = e2e.Proc(argv, name='testpmd', stdin=subprocess.PIPE)
        b.pids.add(tp.pid)
        try:
            time.sleep(2)
            res['baseline'] = {}
            rates = [('natural', 2 * calls * 1000 / 20)]
            if res.get('half'):
                rates.append(('half', res['half']['pps']))
            for key, pps in rates:
                g = b.gen('memif baseline %s (testpmd io)' % key, eal,
                          ['--calls', str(calls), '--baseline', '--pps', '%.0f' % pps,
                           '--duration', str(seconds), '--quiet'])
                res['baseline'][key] = {'pps': pps, 'gen': g}
        finally:
            tp.stop(timeout=15)
            e2e.cleanup_dpdk_prefix(prefix)

    # the whole table as working set: many sessions installed directly
    if a.memif_big_sessions:
        n = a.memif_big_sessions
        prefix = e2e.unique_prefix()
        n_addrs = n_addrs_for(n)
        addrs = ','.join(RELAY_NET % (i + 1) for i in range(n_addrs))
        dp = None
        try:
            dp = b.dataplane(prefix, ['net_memif0,role=server,socket=%s' % sock], n_addrs,
                             max_streams_for(n), 'dataplane on memif, %d sessions' % n)
            p = b.gen('memif max rate, %d sessions (direct)' % n, eal,
                      ['--calls', str(n), '--layout', addrs, '--install', prefix,
                       '--rate', 'max', '--duration', str(seconds), '--quiet'],
                      background=True)
            rel = b.sample(prefix, 3600, stop_when=lambda: p.poll() is not None)
            g = b.gen_result(p)
            res['big'] = {'sessions': n, 'gen': g, 'relay': rel}
        finally:
            b.stop(dp)
            if dp is not None:
                e2e.cleanup_dpdk_prefix(prefix)
    return res


# ---------------------------------------------------------------------------
# setup: control's CPU per call alone (--only setup), cheap to repeat.

def proc_cpu_ns(pid):
    """Time on a CPU of every thread of pid, ns (/proc/PID/task/TID/schedstat,
    the scheduler's sum of run time: utime + stime without the 10 ms ticks)."""
    total = 0
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/schedstat' % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def proc_ctx_switches(pid):
    """Voluntary and involuntary context switches of every thread of pid."""
    vol = invol = 0
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/status' % (pid, tid)) as f:
                for line in f:
                    if line.startswith('voluntary_ctxt_switches:'):
                        vol += int(line.split()[1])
                    elif line.startswith('nonvoluntary_ctxt_switches:'):
                        invol += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return vol, invol


def setup_case(b, seconds, res):
    """The memif run's session setup part alone: a dataplane on net_null,
    control at its default level then -d WARN, rtpb-gen --calls
    --setup-calls --duration 0 at each --setup-windows; control's CPU in
    ns. Fills res as it goes, so a failure late keeps what ran."""
    a = b.a
    prefix = e2e.unique_prefix()
    port = b.free_udp_port()
    dp = ctl = None
    res['runs'] = []
    try:
        dp = b.dataplane(prefix, ['net_null0,no-rx=1'], 1, max_streams_for(a.setup_calls),
                         'dataplane for the setup runs (net_null)')
        for level in ('INFO', 'WARN'):
            ctl = b.control(prefix, port, extra=[] if level == 'INFO' else ['-d', level])
            for w in a.setup_windows:
                t0, cs0 = proc_cpu_ns(ctl.pid), proc_ctx_switches(ctl.pid)
                g = b.gen('setup, window %d, control %s, generator on CPU %d'
                          % (w, level, a.setup_gen_cpu),
                          ['-l', str(a.setup_gen_cpu), '--no-pci', '--no-huge', '-m', '128'],
                          ['--calls', str(a.setup_calls), '--duration', '0', '--ctl-window',
                           str(w), '--quiet', '--ctl', 'udp:127.0.0.1:%d' % port])
                cpu_s = (proc_cpu_ns(ctl.pid) - t0) / 1e9
                cs = [x - y for x, y in zip(proc_ctx_switches(ctl.pid), cs0)]
                su = g.get('setup') or {}
                ok = su.get('calls_ok', 0)
                res['runs'].append({'window': w, 'log': level, 'gen_cpu': a.setup_gen_cpu,
                                    'setup': su,
                                    'teardown': g.get('teardown'), 'ctl_cpu_s': cpu_s,
                                    'ctl_us_per_call': cpu_s * 1e6 / ok if ok else None,
                                    'ctl_ctx_switches': cs})
                log('setup window %d, %s: %d of %d calls, %.0f U+L pairs/s, control %.1f us '
                    'CPU per call (U+L+D), %d + %d context switches (voluntary + not)'
                    % (w, level, ok, a.setup_calls, su.get('calls_per_s', 0),
                       cpu_s * 1e6 / ok if ok else 0, cs[0], cs[1]))
            b.stop(ctl)
            ctl = None
    finally:
        b.stop(ctl)
        b.stop(dp)
        if dp is not None:
            e2e.cleanup_dpdk_prefix(prefix)
    return res


# ---------------------------------------------------------------------------
# rtpengine, userspace (--table=-1): the same generator, over a veth pair.

def proc_cpu_ticks(pid):
    """utime + stime of every thread of pid, clock ticks."""
    total = 0
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rfind(')') + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def cpu_busy_ticks(cpu):
    """(busy, total) ticks of one CPU (/proc/stat 'cpuN' line): user,
    system, irq, softirq... everything but idle and iowait."""
    with open('/proc/stat') as f:
        for line in f:
            if line.startswith('cpu%d ' % cpu):
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + v[4]
                return sum(v) - idle, sum(v)
    return 0, 0


def rtpengine_case(b, seconds, res):
    """rtpengine in userspace mode in a namespace of its own, its thread(s)
    pinned to CPU 1, control over a second veth (its rtpproxy-compatible
    UDP protocol, --listen-udp), media over a veth whose host end is
    rtpb-gen's net_af_xdp port (CPU 0). Not loopback: the generator is a
    DPDK program, and a veth is the kernel path a socket relay sees."""
    binary = b.a.rtpengine or shutil.which('rtpengine')
    if not binary:
        res['skipped'] = 'no rtpengine binary (Debian: rtpengine-daemon)'
        return res
    tag = 'rbb%d' % (os.getpid() % 100000)
    ns, hv, nv, hc, nc = tag + 'ns', tag + 'h', tag + 'n', tag + 'c', tag + 'd'
    res['binary'] = binary
    ip = e2e.IP
    re_proc = None
    try:
        for argv in ([ip, 'netns', 'add', ns],
                     [ip, 'link', 'add', hv, 'type', 'veth', 'peer', 'name', nv, 'netns', ns],
                     [ip, 'link', 'add', hc, 'type', 'veth', 'peer', 'name', nc, 'netns', ns],
                     [ip, 'link', 'set', hv, 'up'],
                     [ip, 'addr', 'add', '203.0.113.1/30', 'dev', hc],
                     [ip, 'link', 'set', hc, 'up'],
                     [ip, '-n', ns, 'addr', 'add', '198.51.100.1/24', 'dev', nv],
                     [ip, '-n', ns, 'link', 'set', nv, 'up'],
                     [ip, '-n', ns, 'addr', 'add', '203.0.113.2/30', 'dev', nc],
                     [ip, '-n', ns, 'link', 'set', nc, 'up'],
                     [ip, '-n', ns, 'link', 'set', 'lo', 'up'],
                     [ip, '-n', ns, 'route', 'add', '198.18.0.0/15', 'via', GATEWAY],
                     # RPS: the kernel's receive work for rtpengine's sockets
                     # on rtpengine's CPU (1), not on the generator's
                     [ip, 'netns', 'exec', ns, 'sh', '-c',
                      'echo 2 > /sys/class/net/%s/queues/rx-0/rps_cpus' % nv]):
            e2e.run(argv)
        argv = [ip, 'netns', 'exec', ns, 'taskset', '-c', '1', binary, '--foreground',
                '--log-stderr', '--table=-1', '--interface=198.51.100.1',
                '--listen-udp=203.0.113.2:22222', '--port-min=1024', '--port-max=65535',
                '--num-threads=1', '--timeout=3600', '--log-level=4']
        b.note_cmd('rtpengine (userspace) in its namespace', argv)
        re_proc = e2e.Proc(argv, name='rtpengine')
        b.pids.add(re_proc.pid)
        time.sleep(2)
        if not re_proc.running:
            raise e2e.E2EError('rtpengine exited:\n' + re_proc.tail())
        eal = ['-l', '0', '--no-pci', '--vdev',
               'net_af_xdp0,iface=%s,start_queue=0,queue_count=1' % hv]
        ctl = ['--ctl', 'udp:203.0.113.2:22222']
        hz = os.sysconf('SC_CLK_TCK')

        def run(key, opts, secs):
            p = b.gen('rtpengine %s' % key, eal, opts + ctl + ['--duration', str(secs),
                                                              '--quiet'], background=True)
            samples = []
            prev = (proc_cpu_ticks(re_proc.pid), cpu_busy_ticks(1), time.monotonic())
            while p.poll() is None:
                time.sleep(1.0)
                cur = (proc_cpu_ticks(re_proc.pid), cpu_busy_ticks(1), time.monotonic())
                dt = cur[2] - prev[2]
                samples.append({'rtpengine_cpu': (cur[0] - prev[0]) / hz / dt,
                                'cpu1_busy': (cur[1][0] - prev[1][0]) /
                                max(1, cur[1][1] - prev[1][1])})
                prev = cur
            return {'gen': b.gen_result(p), 'cpu': samples}

        res['natural'] = run('natural', ['--calls', str(b.a.memif_calls)], seconds)
        # its capacity on one core: the offered rate stepped up until more
        # than 1 % is lost (a socket relay flooded beyond that only burns
        # its core on drops, so "max rate" measures nothing useful)
        res['steps'] = []
        for pps in b.a.rtpengine_steps:
            x = run('%d/s' % pps, ['--calls', str(b.a.memif_calls), '--pps', str(pps)],
                    max(5, seconds // 2))
            x['pps'] = pps
            res['steps'].append(x)
            t = x['gen'].get('traffic', {})
            sent = t.get('a_to_b', {}).get('sent', 0) + t.get('b_to_a', {}).get('sent', 0)
            lost = t.get('a_to_b', {}).get('lost', 0) + t.get('b_to_a', {}).get('lost', 0)
            if sent == 0 or lost > 0.01 * sent:
                break
    finally:
        if re_proc is not None:
            re_proc.stop(timeout=10)
        e2e.run([ip, 'netns', 'del', ns], check=False)
        e2e.run([ip, 'link', 'del', hc], check=False)
    return res


def memlat_case(b):
    """bench-memlat: the same 2 000 lines over growing spans (CPU 1)."""
    tool = os.path.join(b.build, 'tools', 'bench-memlat')
    out = []
    for pages in ('2m', '4k'):
        for mib in (2, 16, 64, 256):
            argv = ['taskset', '-c', '1', tool, str(mib << 20), '2000', pages]
            b.note_cmd('load latency', argv)
            cp = e2e.run(argv, timeout=60)
            m = re.search(r'([\d.]+) cycles per load', cp.stdout)
            out.append({'pages': pages, 'span_mib': mib, 'lines': 2000,
                        'cycles_per_load': float(m.group(1)) if m else None})
    return out


def relay_busy_samples(rel, frac=0.5):
    """The relay's samples while traffic ran (relayed >= frac of the max)."""
    peak = max([s['relayed_pps'] for s in rel] or [0])
    return [s for s in rel if peak > 0 and s['relayed_pps'] >= frac * peak]


# ---------------------------------------------------------------------------
# Report.

def feature_text(c):
    """A pcap case's feature counters, per second of the relay's samples
    (the pcap -> drop run), for the log and the report; '' for none."""
    f = c.get('feature', 'none')
    if f == 'none':
        return ''
    if f == 'tos':
        t = c.get('tos_check', {})
        return '; TOS %d on %d of the %d IPv4 frames the relay sent' % (
            TOS, t.get('marked', 0), t.get('ipv4', 0))
    fc = c.get('feature_counters', {})
    n = fc.get('seconds') or 1
    copies, drops = FEATURE_CTRS[f]
    return '; %s %.0f/s, %s %.0f/s (%.2f per relayed packet)' % (
        copies, fc.get(copies, 0) / n, drops, fc.get(drops, 0) / n, fc.get('per_relayed') or 0)


def fmt_m(pps):
    return '%.2f' % (pps / 1e6)


def busy_text(busy):
    return ', '.join('%s %d%%' % (p['comm'], p['cpu_pct']) for p in busy or []) or 'none'


def tsc_hz_of(results):
    """The TSC frequency the relay's lcore accounting ran at (total cycles
    per second of its samples), Hz."""
    hz = []
    for c in results.get('pcap', []):
        hz += [s['tsc_hz'] for s in c['relay']]
    for x in results.get('memif', {}).values():
        if isinstance(x, dict) and 'relay' in x:
            hz += [s['tsc_hz'] for s in x['relay']]
    if hz:
        return median(hz)
    with open('/proc/cpuinfo') as f:   # no relay ran: the nominal clock
        m = re.search(r'cpu MHz\s*:\s*([\d.]+)', f.read())
    return float(m.group(1)) * 1e6 if m else 0


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return 'matplotlib not available (Debian: python3-matplotlib); no plot'
    pc = [c for c in results.get('pcap', []) if c.get('feature', 'none') == 'none']
    if not pc:
        return 'no pcap results; no plot'
    xs = [c['sessions'] for c in pc]
    fig, ax1 = plt.subplots(figsize=(8, 4.5))
    ax1.set_xscale('log')
    ax1.set_xlabel('sessions (4 streams each)')
    ax1.set_ylabel('Mpps (median of 1 s samples; bars: min..max)')
    for key, label, col in (('relay_pps', 'relay', 'tab:blue'),
                            ('testpmd_pps', 'testpmd io (link limit)', 'tab:gray')):
        med = [c[key]['median'] / 1e6 for c in pc]
        lo = [(c[key]['median'] - c[key]['min']) / 1e6 for c in pc]
        hi = [(c[key]['max'] - c[key]['median']) / 1e6 for c in pc]
        ax1.errorbar(xs, med, yerr=[lo, hi], marker='o', capsize=4, label=label, color=col)
    ax1.set_ylim(bottom=0)
    ax2 = ax1.twinx()
    cpp = [c['relay_cycles_per_pkt']['median'] for c in pc]
    ax2.plot(xs, cpp, marker='s', linestyle='--', color='tab:red',
             label='relay cycles/packet (busy TSC / rx)')
    mem = results.get('memif', {})
    pts = []
    for key in ('max', 'big'):
        r = mem.get(key)
        if r:
            busy = relay_busy_samples(r['relay'])
            c = [s['busy_cycles_per_pkt'] for s in busy if s['busy_cycles_per_pkt']]
            n = r.get('sessions', results['args']['memif_calls'])
            if c:
                pts.append((n, median(c)))
    if pts:
        ax2.plot([p[0] for p in pts], [p[1] for p in pts], marker='^', linestyle=':',
                 color='tab:orange',
                 label='relay busy cycles/packet, memif max rate (generator-bound)')
    ax2.set_ylabel('cycles per packet')
    ax2.set_ylim(bottom=0)
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, loc='lower left', fontsize=8)
    ax1.set_title('rtpbypass, one worker lcore: pcap -> drop (net_pcap), %s' %
                  results['date'][:10])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return None


def report(results, out_md, png_rel):
    r = results
    L = []
    L.append(BEGIN)
    L.append('')
    src = r.get('source', {})
    L.append('Written by `tools/bench.py` on %s (%s s per measurement, seed %s), with the '
             'dataplane and control of commit %s%s.' % (
                 r['date'], r['args']['seconds'], r['args']['seed'], src.get('commit', '?'),
                 ' plus uncommitted changes' if src.get('dirty') else ''))
    L.append('')
    m = r['machine']
    hyp = m.get('hypervisor_vendor') or ('a virtual machine: CPU flag "hypervisor"'
                                         if m.get('hypervisor_flag') else 'bare metal')
    L.append('Machine: %s, %s CPUs (%s), kernel %s, DPDK %s, %s MB hugepages free '
             'of %s, load average %s.' % (
                 m.get('model_name', '?'), m.get('cpus'), hyp,
                 m.get('kernel'), m.get('dpdk'),
                 m.get('HugePages_Free', 0) * m.get('Hugepagesize', 0) // 1024,
                 m.get('HugePages_Total', 0) * m.get('Hugepagesize', 0) // 1024,
                 ' '.join(m.get('loadavg', []))))
    busy = r.get('busy_at_start', [])
    L.append('Other processes busy at the start (>= 10 %% of a CPU): %s.' % (
        ', '.join('%s %d%%' % (p['comm'], p['cpu_pct']) for p in busy) or 'none'))
    L.append('')
    pc = r.get('pcap', [])
    if pc:
        L.append('### pcap -> drop, one lcore (relay vs testpmd io on the same vdev)')
        L.append('')
        feats = any(c.get('feature', 'none') != 'none' for c in pc)
        L.append('| sessions | %sset up | RTP frames in the pcap | relay Mpps median [min..max] | '
                 'relay cycles/pkt median [min..max] | testpmd Mpps median [min..max] | '
                 'testpmd cycles/pkt (TSC Hz / pps; its own whole-run figure) | '
                 '**own cycles/pkt** | target | '
                 'relay / testpmd (figure) | noise | attempts |' % ('feature | ' if feats else ''))
        L.append('|---:|%s---|---:|---|---|---|---:|---:|---|---:|---|---:|'
                 % ('---|' if feats else ''))
        for c in pc:
            rp, cp, tp = c['relay_pps'], c['relay_cycles_per_pkt'], c['testpmd_pps']
            oc = c.get('own_cycles')
            tgt = '<= 45' if c['sessions'] <= 1000 else ('<= 75' if c['sessions'] >= 250000 else '')
            tb = [t.get('cycles_per_pkt_whole_run') for t in
                  (c.get('testpmd_before', {}), c.get('testpmd_after', {}))]
            tb = [x for x in tb if x]
            L.append('| %s | %s | %s | %s [%s..%s] | %.0f [%.0f..%.0f] | %s [%s..%s] | %s; %s | '
                     '%s | %s | %s | %s | %d |' % (
                '%d | %s' % (c['sessions'], c.get('feature', 'none')) if feats
                else '%d' % c['sessions'], c['setup'], c.get('pcap_frames', PCAP_FRAMES),
                fmt_m(rp['median']), fmt_m(rp['min']), fmt_m(rp['max']),
                cp['median'], cp['min'], cp['max'],
                fmt_m(tp['median']), fmt_m(tp['min']), fmt_m(tp['max']),
                '%.0f' % c['testpmd_cycles_per_pkt'] if c['testpmd_cycles_per_pkt'] else '-',
                '/'.join('%.0f' % x for x in tb) or '-',
                '**%.0f**' % oc['own'] if oc else '-', tgt,
                '%.2f' % c['ratio'] if c['ratio'] else '-',
                '; '.join(c.get('noise', [])) or 'quiet', len(c.get('attempts', [1]))))
        L.append('')
        L.append('own cycles/pkt (issue 19\'s gate): the relay\'s busy cycles per packet '
                 '(its worker\'s TSC accounting, median of the one-second samples) minus '
                 'testpmd io\'s cycles per packet (TSC Hz / median pps of its one-second samples '
                 'before and after the relay; io on an infinite pcap is always busy), on the same '
                 'vdev, pcap and CPU seat in the same case: what the relay adds over the link\'s '
                 'own RX+TX. testpmd\'s whole-run `--record-core-cycles` figures (before/after) '
                 'are a cross-check only: they include ramp-up and every disturbance. relay / '
                 'testpmd is kept as a figure, no longer a gate.')
        L.append('')
        L.append('noise: why a case\'s samples are suspect (other processes busy meanwhile, '
                 'or the host: the relay\'s samples spread, or testpmd before and after it '
                 'disagree); such a case is run again, up to %d times in all, and the least '
                 'noisy attempt is shown.' % (1 + r['args'].get('retries', 0)))
        L.append('')
        L.append('net_pcap -> net_null (two ports, the issue\'s setup; the relay with '
                 '`--tx-port 1`, the same sessions and pcap):')
        L.append('')
        L.append('| sessions | %srelay Mpps median [min..max] | relay cycles/pkt median | '
                 'testpmd Mpps median [min..max] | testpmd cycles/pkt (TSC Hz / pps) | '
                 'own cycles/pkt | relay / testpmd |'
                 % ('feature | ' if feats else ''))
        L.append('|---:|%s---|---:|---|---:|---:|---:|' % ('---|' if feats else ''))
        for c in pc:
            t = c.get('testpmd_pcap_to_null', {}).get('pps')
            rn = c.get('relay_to_null')
            if not t:
                continue
            tcw = c['testpmd_pcap_to_null'].get('cycles_per_pkt')
            oc = rn.get('own_cycles') if rn else None
            L.append('| %s | %s | %s | %s [%s..%s] | %s | %s | %s |' % (
                '%d | %s' % (c['sessions'], c.get('feature', 'none')) if feats
                else '%d' % c['sessions'],
                '%s [%s..%s]' % (fmt_m(rn['relay_pps']['median']), fmt_m(rn['relay_pps']['min']),
                                 fmt_m(rn['relay_pps']['max'])) if rn else 'not run',
                '%.0f' % rn['relay_cycles_per_pkt']['median'] if rn else '-',
                fmt_m(t['median']), fmt_m(t['min']), fmt_m(t['max']),
                '%.0f' % tcw if tcw else '-', '%.0f' % oc['own'] if oc else '-',
                '%.2f' % (rn['relay_pps']['median'] / t['median']) if rn and t['median'] else '-'))
        L.append('')
        L.append('Each pcap holds one RTP frame per RTP leg (two per call), at least %d '
                 '(at 1 000 sessions every RTP leg three times) and at most %d, so every RTP '
                 'stream of the table is touched once per pass over the file. net_pcap keeps '
                 'the whole file in the port\'s mbuf pool: above %d frames the relay and '
                 'testpmd get a pool that holds it (`--mbufs`, %d-byte mbufs).'
                 % (PCAP_FRAMES, PCAP_FRAMES_MAX, PCAP_FRAMES, PCAP_MBUF_SIZE))
        L.append('')
        if feats:
            report_features(L, pc)
        report_far_lines(L, pc)
    report_latency(L, r)
    ml = r.get('memlat')
    if ml:
        L.append('### Load latency against table span (bench-memlat, 2 000 random lines, CPU 1)')
        L.append('')
        L.append('| span | 2 MiB pages: cycles per load | 4 KiB pages: cycles per load |')
        L.append('|---:|---:|---:|')
        for mib in sorted({x['span_mib'] for x in ml}):
            v = {x['pages']: x['cycles_per_load'] for x in ml if x['span_mib'] == mib}
            L.append('| %d MiB | %s | %s |' % (mib, v.get('2m'), v.get('4k')))
        L.append('')
    ws = r.get('wset')
    if ws:
        L.append('### Table size against streams touched (relay alone, pcap -> drop, direct install)')
        L.append('')
        L.append('| sessions | streams in the table | relay addresses | RTP frames in the pcap '
                 '(= distinct streams touched) | relay Mpps median [min..max] | '
                 'cycles/pkt median [min..max] | noise |')
        L.append('|---:|---:|---:|---:|---|---|---|')
        for c in ws:
            rp, cp = c['relay_pps'], c['relay_cycles_per_pkt']
            L.append('| %d | %d | %d | %d | %s [%s..%s] | %.0f [%.0f..%.0f] | %s |' % (
                c['sessions'], 4 * c['sessions'], c['relay_addrs'], c['frames'],
                fmt_m(rp['median']), fmt_m(rp['min']), fmt_m(rp['max']),
                cp['median'], cp['min'], cp['max'],
                '; '.join(c.get('noise', [])) or 'quiet'))
        L.append('')
    if png_rel:
        L.append('![packets/s and cycles/packet against sessions](%s)' % png_rel)
        L.append('')
    elif r.get('plot_note'):
        L.append('Plot: %s.' % r['plot_note'])
        L.append('')
    wk = r.get('workers')
    if wk:
        report_workers(L, wk, r)
    mem = r.get('memif')
    if mem:
        L.append('### memif: relay and rtpb-gen in two processes')
        L.append('')
        L.append('Relay: lcores 0-1 (worker on CPU 1); rtpb-gen: lcore 0 (CPU 0, shared with '
                 'the relay\'s mostly sleeping main lcore and with control). Others busy '
                 'meanwhile (average over the phase): %s.'
                 % busy_text(mem.get('others_during', mem.get('busy_before'))))
        L.append('')
        L.append('| run | offered | received per s (A>B + B>A) median [min..max] | lost | '
                 'reordered | latency p50 / p99 / p99.9 us (A>B; B>A) | relay busy % | '
                 'relay busy cycles/pkt median |')
        L.append('|---|---|---|---:|---:|---|---:|---:|')
        for key, label in (('natural', 'natural rate (%d calls)' % r['args']['memif_calls']),
                           ('max', 'max rate (%d calls)' % r['args']['memif_calls']),
                           ('half', 'half of max (%d calls)' % r['args']['memif_calls']),
                           ('big', 'max rate (%s sessions, direct)' % (
                               mem.get('big', {}).get('sessions')))):
            x = mem.get(key)
            g = gen_traffic(x)
            if g is None:
                continue
            t, ab, ba, s = g
            busy = relay_busy_samples(x['relay'])
            cpp = [q['busy_cycles_per_pkt'] for q in busy if q['busy_cycles_per_pkt']]
            br = [q['busy_ratio'] for q in busy if q['busy_ratio'] is not None]
            off = 'max' if t['target_fps'] == 0 else '%.0f/s' % t['target_fps']
            L.append('| %s | %s | %s [%s..%s] | %d | %d | %s; %s | %s | %s |' % (
                label, off, '%.0f' % s['median'], '%.0f' % s['min'], '%.0f' % s['max'],
                ab['lost'] + ba['lost'], ab['reordered'] + ba['reordered'],
                latency_us(ab), latency_us(ba),
                '%.0f' % (100 * median(br)) if br else '-',
                ('%.0f' % median(cpp) if cpp else '-') +
                ('' if br and median(br) >= 0.95 else ' (not saturated)')))
        for key, label in (('natural', 'floor: testpmd io instead of the relay, natural rate'),
                           ('half', 'floor: testpmd io instead of the relay, half-load rate')):
            g = gen_traffic(mem.get('baseline', {}).get(key))
            if g is None:
                continue
            t, ab, ba, s_ = g
            L.append('| %s | %.0f/s | %.0f [%.0f..%.0f] | %d | %d | %s; %s | - | - |' % (
                label, t['target_fps'], s_['median'], s_['min'], s_['max'],
                ab['lost'] + ba['lost'], ab['reordered'] + ba['reordered'],
                latency_us(ab), latency_us(ba)))
        L.append('')
        L.append('Busy cycles per packet are the relay\'s cost only when it is saturated '
                 '(busy near 100 %); below that, each loop handles a few packets and the '
                 'figure mostly measures loop overhead.')
        L.append('')
        if mem.get('setup'):
            L.append('Session setup through control (rtpb-gen, %d calls, U then L per batch, '
                     'one UDP socket):' % r['args']['setup_calls'])
            L.append('')
            L.append('| window (commands in flight) | control log level | U+L pairs/s | ok | '
                     'failed | resends | first failure | D/s | control CPU per call (U+L+D) | '
                     'calls per control CPU second |')
            L.append('|---:|---|---:|---:|---:|---:|---|---:|---:|---:|')
            for s in mem['setup']:
                su, td = s['setup'], s.get('teardown') or {}
                cpu = s.get('ctl_cpu_s')
                per = cpu / su['calls_ok'] if cpu and su['calls_ok'] else None
                L.append('| %d | %s | %.0f | %d | %d | %d | %s | %.0f | %s | %s |' % (
                    s['window'], s.get('log', 'INFO'), su['calls_per_s'], su['calls_ok'],
                    su['calls_failed'], su['resends'], su['first_error'] or '-',
                    td.get('calls_per_s', 0),
                    '%.1f µs' % (per * 1e6) if per else '-',
                    '%.0f' % (1 / per) if per else '-'))
            L.append('')
            L.append('The generator and control share CPU 0 here (the worker has CPU 1), so '
                     'the pairs/s column is what one CPU does for both; the last column is '
                     'control\'s own capacity per core, from its CPU time (utime + stime, '
                     '10 ms ticks) over setup and teardown of every call.')
            L.append('')
    rte = r.get('rtpengine')
    if rte and 'skipped' in rte:
        L.append('rtpengine: not measured (%s).' % rte['skipped'])
        L.append('')
    elif rte:
        hz = tsc_hz_of(r)
        L.append('### rtpengine (userspace, `--table=-1`), the same generator over a veth')
        L.append('')
        L.append('rtpengine %s, one worker thread (`--num-threads=1`) pinned to CPU 1; '
                 'rtpb-gen on CPU 0 (net_af_xdp on the host end of the veth); RPS on '
                 'rtpengine\'s veth puts the kernel\'s receive work on CPU 1 too, so CPU 1 '
                 'is "rtpengine\'s core": its threads, its syscalls and the softirq work '
                 'for its packets (cycles/pkt = CPU 1 busy x TSC Hz / packets). '
                 'Others busy meanwhile (average over the phase): %s.'
                 % (rte['binary'], busy_text(rte.get('others_during', rte.get('busy_before')))))
        L.append('')
        L.append('| run | offered | received per s (A>B + B>A) median [min..max] | lost | '
                 'latency p50 / p99 / p99.9 us (A>B) | rtpengine threads CPU | CPU 1 busy | '
                 'cycles/pkt on CPU 1 |')
        L.append('|---|---|---|---:|---|---:|---:|---:|')
        runs = [('natural rate (%d calls)' % r['args']['memif_calls'], rte.get('natural'))]
        runs += [('%d/s offered (%d calls)' % (x['pps'], r['args']['memif_calls']), x)
                 for x in rte.get('steps', [])]
        for label, x in runs:
            g = gen_traffic(x)
            if g is None:
                continue
            t, ab, ba, sp = g
            act = [c for c in x['cpu'] if c['rtpengine_cpu'] > 0.02]
            cpu = [c['rtpengine_cpu'] for c in act]
            c1 = [c['cpu1_busy'] for c in act]
            cpp = (median(c1) * hz / sp['median']) if c1 and sp['median'] and hz else None
            L.append('| %s | %s | %.0f [%.0f..%.0f] | %d (%.2f %%) | %s | %s | %s | %s |' % (
                label, 'max' if t['target_fps'] == 0 else '%.0f/s' % t['target_fps'],
                sp['median'], sp['min'], sp['max'], ab['lost'] + ba['lost'],
                100.0 * (ab['lost'] + ba['lost']) / max(1, ab['sent'] + ba['sent']),
                latency_us(ab),
                '%.2f' % median(cpu) if cpu else '-',
                '%.0f %%' % (100 * median(c1)) if c1 else '-',
                '%.0f' % cpp if cpp else '-'))
        L.append('')
    for err in r.get('errors', []):
        L.append('**Failed:** `%s`' % err.splitlines()[0][:300])
        L.append('')
    # the raw numbers go to a file beside the report (docs/data/), not
    # into it: one JSON line of ~100 KB made the page unreadable
    raw_rel = os.path.join('data', 'bench-%s.json' % r['date'][:10])
    raw = os.path.join(os.path.dirname(os.path.abspath(out_md)), raw_rel)
    os.makedirs(os.path.dirname(raw), exist_ok=True)
    with open(raw, 'w') as f:
        f.write(json.dumps(strip_for_report(r), indent=None, separators=(',', ':')) + '\n')
    L.append('Raw numbers (JSON, every one-second sample): [`%s`](%s).'
             % (raw_rel, raw_rel))
    L.append('')
    L.append('<details><summary>Command lines</summary>')
    L.append('')
    L.append('```')
    for what, cmd in r['commands']:
        L.append('# ' + what)
        L.append(cmd)
    L.append('```')
    L.append('</details>')
    L.append('')
    L.append(END)
    block = '\n'.join(L)
    if os.path.exists(out_md):
        text = open(out_md).read()
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            text = text.rstrip('\n') + '\n\n' + block + '\n'
    else:
        text = '# Performance\n\n' + block + '\n'
    with open(out_md, 'w') as f:
        f.write(text)


def report_latency(L, r):
    """Issue 19: the time a burst spends inside the worker, RX burst to TX
    burst (dataplane/dp_lat.h), at the pcap cases' maximum rate and at
    half of it, and in the memif runs."""
    rows = []
    for c in r.get('pcap', []):
        if c.get('feature', 'none') != 'none':
            continue
        rows.append(('pcap -> drop, %d sessions, max rate' % c['sessions'],
                     '%s Mpps' % fmt_m(c['relay_pps']['median']), c.get('latency')))
        h = c.get('half')
        if h and 'error' in h:
            rows.append(('memif, %d sessions, half load' % c['sessions'],
                         'failed: %s' % h['error'][:100], None))
        elif h:
            m = h.get('max_over_memif')
            if m:
                rows.append(('memif, %d sessions, max rate' % c['sessions'],
                             '%s Mpps' % fmt_m(m['relay_pps']['median']), m.get('latency')))
            br = h['busy_ratio']['median'] if h['busy_ratio']['n'] else None
            rows.append(('memif, %d sessions, half load (offered %s Mpps)'
                         % (c['sessions'], fmt_m(h['offered_pps'])),
                         '%s Mpps%s' % (fmt_m(h['relay_pps']['median']),
                                        ', worker busy %.0f %%' % (100 * br) if br is not None
                                        else ''), h.get('latency')))
    mem = r.get('memif', {})
    for key, what in (('natural', 'memif, natural rate'), ('half', 'memif, half load'),
                      ('max', 'memif, max rate'), ('big', 'memif, max rate, big table')):
        x = mem.get(key)
        if x and x.get('relay'):
            busy = relay_busy_samples(x['relay'])
            rows.append(('%s (%d sessions)' % (what, x.get('sessions', r['args']['memif_calls'])),
                         '%s Mpps' % fmt_m(median([s['relayed_pps'] for s in busy] or [0])),
                         lat_summary(busy)))
    if not rows:
        return
    L.append('### Latency inside the dataplane (RX burst to TX burst, sampled)')
    L.append('')
    L.append('| run | relayed | bursts sampled | p50 / p99 / p99.9 us (max since start) | '
             'target |')
    L.append('|---|---|---:|---|---|')
    for what, load, lat in rows:
        L.append('| %s | %s | %s | %s | %s |' % (
            what, load, lat['samples'] if lat else '-', lat_text(lat),
            'p99 < 20 us' if 'half load' in what else ''))
    L.append('')
    L.append('From the worker\'s TSC right after `rte_eth_rx_burst()` returned to right after '
             'the burst\'s `rte_eth_tx_burst()` returned, every 64th loop that received '
             'packets (dataplane/dp_lat.h), counted in 12 buckets (500 ns .. 128 us). The '
             'percentiles are **bucket-resolution estimates**: linear interpolation inside the '
             'bucket the quantile falls in (a p99 in [16, 20) us is known to that bucket only). '
             'Max is the largest sample since the dataplane started, settle time included. '
             'Half load for the pcap cases: net_pcap cannot pace, so rtpb-gen drives the same '
             'sessions (installed directly) over memif, first at its maximum, then at half of '
             'what the relay relayed then; the worker\'s busy share says the load it saw.')
    L.append('')


def report_far_lines(L, pc):
    """Issue 19: far cache lines per relayed packet, from perf stat on the
    worker's CPU during each pcap case's samples, or why there is none."""
    cs = [c for c in pc if c.get('far_lines')]
    if not cs:
        return
    L.append('### Far cache lines per relayed packet (perf stat on the worker\'s CPU)')
    L.append('')
    for c in cs:
        f = c['far_lines']
        if f.get('per_pkt'):
            L.append('- %d sessions: %s (%s).' % (
                c['sessions'], ', '.join('%s %.2f' % (k, v) for k, v in f['per_pkt'].items()),
                f.get('note', '')))
        else:
            L.append('- %d sessions: %s.' % (c['sessions'], f.get('note', 'not measured')))
    L.append('')


def report_features(L, pc):
    """The optional stream features (--feature): each run's cost against
    the plain relay at the same sessions, and the counters that show the
    feature ran."""
    L.append('### Optional stream features (pcap -> drop, every stream with the feature)')
    L.append('')
    L.append('| sessions | feature | relay Mpps median | relay cycles/pkt median | '
             'cycles/pkt over none | feature counters (per second of the samples) | '
             'pcap -> null: relay cycles/pkt median |')
    L.append('|---:|---|---:|---:|---:|---|---:|')
    base = {c['sessions']: c['relay_cycles_per_pkt']['median'] for c in pc
            if c.get('feature', 'none') == 'none'}
    for c in pc:
        f = c.get('feature', 'none')
        cpp = c['relay_cycles_per_pkt']['median']
        b0 = base.get(c['sessions'])
        rn = c.get('relay_to_null')
        L.append('| %d | %s | %s | %.0f | %s | %s | %s |' % (
            c['sessions'], f, fmt_m(c['relay_pps']['median']), cpp,
            '%+.0f' % (cpp - b0) if b0 and f != 'none' else '-',
            feature_text(c).lstrip('; ') or '-',
            '%.0f' % rn['relay_cycles_per_pkt']['median'] if rn else '-'))
    L.append('')
    L.append('record: `R` for both parties of every call (control `-r` a temporary directory, '
             'rtpproxy\'s adhoc files); fork: `C callid udp:%s` for both parties (the copies '
             'leave through the TX vdev, nothing listens); tos: `U`/`L ... && S tos=%d`, '
             'checked after the samples on what the relay sends to a pcap file (the same '
             'sessions, net_pcap `tx_pcap`, about 1 MB of frames). A run '
             'whose feature counters are 0 fails and reports nothing.' % (FORK_TARGET, TOS))
    L.append('')


def report_workers(L, wk, r):
    """The "Two workers" section: one worker against two, the method for
    more cores."""
    L.append('### Two workers (net_pcap with one RX queue per worker -> net_null)')
    L.append('')
    L.append('The same sessions (installed directly, `rtpb-gen --layout --install`: call c\'s '
             'streams owned by worker c %% n) and the same %d RTP frames: one pcap for one '
             'worker; for two, `rtpb-gen --pcap-queues 2` splits them into one pcap per RX '
             'queue (`net_pcap0,rx_pcap=F.q0,rx_pcap=F.q1,infinite_rx=1`: two RX queues, and '
             'net_pcap gives one dropping TX queue per RX queue), call c\'s frames on queue '
             'c %% 2, the queue of the worker owning its streams: a NIC whose RSS steers each '
             'relay port to its owner\'s queue, so no frame needs a hand-off. Relayed frames '
             'leave on net_null (`--tx-port 1`, one TX queue per worker). This machine has two '
             'CPUs and each worker needs one, so with two workers the main lcore (asleep 500 us '
             'at a time, handling the pcaps\' ARP requests) shares CPU 0 with worker 0 '
             '(`--lcores 0@0,1@0,2@1`); "one worker on CPU 0" is one worker in that same seat. '
             'Figures: relayed frames per second, median [min..max] of one-second samples, '
             'each worker read from its own `/rtpbypass/lcore,W`; cycles/pkt = busy_cycles / '
             'rx_pkts of that worker.' % wk[0].get('pcap_frames', PCAP_FRAMES))
    L.append('')
    L.append('| sessions | run | EAL lcores | relayed Mpps (sum) median [min..max] | per worker '
             'Mpps median | per worker busy cycles/pkt median | per worker busy % | '
             'hand-offs | two / one | noise |')
    L.append('|---:|---|---|---|---|---|---|---:|---:|---|')
    labels = {'one': 'one worker (CPU 1)', 'one_cpu0': 'one worker on CPU 0 (with the main lcore)',
              'two': 'two workers (CPU 0, CPU 1), frames on the owner\'s queue',
              'two_rss': 'two workers, frames spread by 5-tuple RSS (hand-offs)'}
    for c in wk:
        for key, _, _, _, _ in WORKER_RUNS:
            x = c.get(key)
            if not x:
                continue
            sp = x['sum_pps']
            ratio = ''
            if key == 'two' and c.get('scaling'):
                ratio = '**%.2f** (%.2f against one on CPU 0)' % (
                    c['scaling'], c.get('scaling_vs_cpu0') or 0)
            elif key == 'two_rss' and c.get('scaling_rss'):
                ratio = '%.2f' % c['scaling_rss']
            L.append('| %d | %s | `%s` | %s [%s..%s] | %s | %s | %s | %d | %s | %s |' % (
                c['sessions'], labels.get(key, key), x['lcores'],
                fmt_m(sp['median']), fmt_m(sp['min']), fmt_m(sp['max']),
                ' + '.join(fmt_m(w['relayed_pps']['median']) for w in x['workers']),
                ' / '.join('%.0f' % w['busy_cycles_per_pkt']['median'] for w in x['workers']),
                ' / '.join('%.0f' % (100 * w['busy_ratio']['median']) for w in x['workers']),
                x['handoff_out'], ratio,
                ('; '.join(c.get('noise', [])) or 'quiet') if key == 'two' else ''))
    L.append('')
    L.append('two / one: the median of the two workers\' summed samples over the median of '
             'one worker\'s (target: >= 1.8). noise: other processes busy meanwhile, a run\'s '
             'samples spread by more than 15 %%, one worker spending over 1.3 times the '
             'cycles/pkt on one CPU as on the other, a worker of the two over 1.3 times the '
             'cycles/pkt of one worker in the same seat (its CPU was shared: by the host or a '
             'process the check missed), or hand-offs; such a case is run again, up to '
             '%d times in all, the least noisy attempt shown.' % (1 + r['args'].get('retries', 0)))
    L.append('')
    links = [c for c in wk if c.get('link')]
    if links:
        L.append('**The link\'s own scaling.** testpmd io forwarding on the same vdevs and '
                 'pcaps (one queue, one forwarding lcore in the seat of "one worker"; two '
                 'queues, two forwarding lcores in the seats of "two workers"), run after the '
                 'relay: what net_pcap -> net_null itself gives a second core. cycles/pkt: '
                 'testpmd\'s `--record-core-cycles` over the run (both lcores\' cycles over '
                 'all packets). "Relay\'s own" is the relay\'s busy cycles/pkt less the '
                 'link\'s in the same seats (one worker; the median of the two workers), and '
                 'its scaling 2 x own(one) / own(two): an estimate that takes the two costs as '
                 'adding up.')
        L.append('')
        L.append('| sessions | testpmd 1 lcore Mpps median [min..max] | cycles/pkt | '
                 'testpmd 2 lcores Mpps median [min..max] | cycles/pkt | link two / one | '
                 'relay two / one | relay\'s own cycles/pkt (one, two) | relay\'s own '
                 'two / one |')
        L.append('|---:|---|---:|---|---:|---:|---:|---|---:|')
        for c in links:
            lk = c['link']
            own = c.get('own_cycles')
            L.append('| %d | %s [%s..%s] | %s | %s [%s..%s] | %s | %s | %s | %s | %s |' % (
                c['sessions'],
                fmt_m(lk['one']['pps']['median']), fmt_m(lk['one']['pps']['min']),
                fmt_m(lk['one']['pps']['max']),
                '%.0f' % lk['one']['cycles_per_pkt_whole_run']
                if lk['one']['cycles_per_pkt_whole_run'] else '-',
                fmt_m(lk['two']['pps']['median']), fmt_m(lk['two']['pps']['min']),
                fmt_m(lk['two']['pps']['max']),
                '%.0f' % lk['two']['cycles_per_pkt_whole_run']
                if lk['two']['cycles_per_pkt_whole_run'] else '-',
                '%.2f' % lk['scaling'] if lk.get('scaling') else '-',
                '%.2f' % c['scaling'] if c.get('scaling') else '-',
                '%.0f, %.0f' % (own['one'], own['two']) if own else '-',
                '%.2f' % c['own_scaling'] if c.get('own_scaling') else '-'))
        L.append('')
    L.append('**More cores.** One RX queue per worker (the dataplane configures as many RX and '
             'TX queues as workers, worker w on queue w). For no frame to take the hand-off '
             'ring, the NIC must put every frame for a relay port on the queue of the worker '
             'that owns the port: RSS on the destination address and port only '
             '(`RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_DST_ONLY`), so a relay port always '
             'lands on one queue whatever the peer, and control choosing the ports of a session '
             'among those that land on its worker. The dataplane does that where the PMD offers '
             'those bits (`dp_steer.c`: its key, a RETA it fills, both published in the shared '
             'memory for control, `include/rtpb_steer.h`); RTP then arrives as in the rows '
             '"frames on the owner\'s queue". A PMD without them keeps the 5-tuple, and control '
             'picks owners round robin, blind to the hash: with n workers a frame lands on its '
             'owner\'s queue with probability 1/n, and (n-1)/n of the frames take a hand-off '
             'ring (`handoff_out`: one more ring enqueue and dequeue each, and the frame\'s lines '
             'moving between the cores). The rows "frames spread by 5-tuple RSS" measure that: '
             'the same frames split over the two queues by the Toeplitz hash of their 5-tuple '
             '(`rtpb-gen --pcap-split flow`, the usual default key, a round-robin RETA). '
             'Measuring more workers needs a CPU per worker and one pcap per queue '
             '(`rtpb-gen --pcap-queues N`, `--install` on an N-worker dataplane); it was not '
             'measured here (two CPUs).')
    L.append('')


def strip_for_report(r):
    """The results without the bulky per-run echoes."""
    r = json.loads(json.dumps(r))
    r.pop('commands', None)
    return r


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--sessions', default='1000,100000,250000',
                    help='session counts of the pcap runs (default 1000,100000,250000)')
    ap.add_argument('--seconds', type=int, default=10, help='seconds per measurement')
    ap.add_argument('--only', default='pcap,wset,memlat,workers,memif,rtpengine',
                    help='any of pcap, wset, memlat, workers, memif, rtpengine, setup '
                    '(comma-separated; default all but setup); setup: control\'s CPU per call '
                    'alone (the memif run\'s setup part, net_null dataplane); wset: the relay alone, all sessions installed directly, at '
                    '--wset sessions:frames pairs (table size against streams touched); '
                    'workers: one worker lcore against two on a two-queue net_pcap, at '
                    '--workers-sessions (about 2 minutes)')
    ap.add_argument('--feature', default='none',
                    help='pcap runs: what every call\'s streams do besides relaying, one run '
                    'per feature and session count (comma-separated): none (default), record '
                    '(R for both parties, control -r TMPDIR), fork (C udp:%s for both parties), '
                    'tos (U/L && S tos=%d); a run whose feature counters stay 0 fails'
                    % (FORK_TARGET, TOS))
    ap.add_argument('--workers-sessions', default='1000,100000',
                    help='session counts of the workers runs (default 1000,100000)')
    ap.add_argument('--wset', default='1000:2000,3000:6000,100000:2000,100000:6000,'
                    '250000:2000,250000:6000')
    ap.add_argument('--rtpengine', help='rtpengine binary (default: rtpengine in PATH)')
    ap.add_argument('--rtpengine-steps', default='25000,50000,75000,100000,150000,200000,300000',
                    help='offered rates (frames/s) stepped up until rtpengine loses > 1 %%')
    ap.add_argument('--memif-calls', type=int, default=1000)
    ap.add_argument('--memif-big-sessions', type=int, default=250000,
                    help='sessions of the memif max-rate run installed directly (0: skip)')
    ap.add_argument('--setup-calls', type=int, default=10000)
    ap.add_argument('--setup-windows', default='1,16,64')
    ap.add_argument('--setup-gen-cpu', type=int, default=0, choices=(0, 1),
                    help='--only setup: the CPU rtpb-gen runs on; control is on 0 '
                    '(0: the two share it, as before, and every reply batch '
                    'switches between them; 1: beside the dataplane worker, so '
                    "control's CPU time is its own work)")
    ap.add_argument('--seed', type=int, default=6)
    ap.add_argument('--perf', metavar='DIR',
                    help='record the relay worker with perf during the pcap samples '
                         '(DIR/relay-SESSIONS.txt)')
    ap.add_argument('--out', default=os.path.join(ROOT, 'docs', 'PERFORMANCE.md'))
    ap.add_argument('--png', default=os.path.join(ROOT, 'docs', 'performance-sessions.png'))
    ap.add_argument('--json', help='also write the raw results there')
    ap.add_argument('--retries', type=int, default=2,
                    help='run a pcap case again when other processes used a CPU during it')
    ap.add_argument('--wait-quiet', type=int, default=0,
                    help='wait up to this many seconds for other busy processes to end')
    ap.add_argument('--no-half-load', action='store_true',
                    help='pcap runs: skip the half-load run over memif that measures the '
                    'latency inside the dataplane at half the relay\'s maximum')
    ap.add_argument('--quick', action='store_true',
                    help='3 s per measurement, 1000 and 20000 sessions, small memif runs')
    ap.add_argument('--no-report', action='store_true', help='print the JSON only')
    ap.add_argument('--report-only', metavar='JSON',
                    help='measure nothing: write the report and plot of a --json file')
    a = ap.parse_args()
    if a.report_only:
        with open(a.report_only) as f:
            results = json.load(f)
        png_rel = None
        if results.get('pcap'):
            note = plot(results, a.png)
            if note is None:
                png_rel = os.path.relpath(a.png, os.path.dirname(os.path.abspath(a.out)))
            results['plot_note'] = note
        report(results, a.out, png_rel)
        log('wrote %s from %s' % (a.out, a.report_only))
        return 0
    if a.quick:
        a.seconds = 3
        a.sessions = '1000,20000'
        a.memif_big_sessions = 20000
        a.setup_calls = 2000
        a.wset = '1000:2000,20000:2000'
        a.workers_sessions = '1000,20000'
        a.rtpengine_steps = '25000,50000,100000'
    a.sessions = [int(x) for x in a.sessions.split(',') if x]
    a.setup_windows = [int(x) for x in a.setup_windows.split(',') if x]
    a.rtpengine_steps = [int(x) for x in a.rtpengine_steps.split(',') if x]
    a.wset = [tuple(int(y) for y in x.split(':')) for x in a.wset.split(',') if x]
    a.workers_sessions = [int(x) for x in a.workers_sessions.split(',') if x]
    a.feature = [x for x in a.feature.split(',') if x]
    bad = [x for x in a.feature if x not in FEATURES]
    if bad or not a.feature:
        raise SystemExit('bench: --feature %s: want some of %s' % (','.join(bad), ', '.join(FEATURES)))
    if 'record' in a.feature and max(a.sessions) * REC_FILES_PER_CALL > REC_MAX_FILES:
        raise SystemExit('bench: --feature record: %d files per call, control opens at most '
                         '%d: at most %d sessions' % (REC_FILES_PER_CALL, REC_MAX_FILES,
                                                      REC_MAX_FILES // REC_FILES_PER_CALL))
    only = set(a.only.split(','))
    for path in (a.out, a.png, a.json):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if os.geteuid() != 0:
        raise SystemExit('bench: run as root (hugepages)')
    e2e.install_signal_handlers()
    big = ([n for n in a.sessions if 'pcap' in only] +
           [n for n, _ in a.wset if 'wset' in only] +
           [n for n in a.workers_sessions if 'workers' in only] +
           ([a.memif_big_sessions] if 'memif' in only else []))
    hp_restore = raise_hugepages(max(hugepages_for(n) for n in big)) if big else None
    b = Bench(a)
    if not b.testpmd and 'pcap' in only:
        raise SystemExit('bench: dpdk-testpmd not found (Debian: dpdk-dev)')
    results = {'date': datetime.datetime.now().isoformat(timespec='seconds'),
               'args': {k: v for k, v in vars(a).items()}, 'machine': machine(),
               'source': source_of(b.build)}
    results['busy_at_start'] = busy_processes()
    if results['busy_at_start']:
        log('other busy processes: %s (figures will be noisy)' % results['busy_at_start'])
    def phase(name, fn):
        """Run one phase; a failure is recorded and the others still run."""
        try:
            return fn()
        except (e2e.E2EError, OSError, subprocess.SubprocessError, KeyError,
                ValueError) as ex:
            log('%s failed: %s' % (name, ex))
            results.setdefault('errors', []).append('%s: %s' % (name, str(ex)[:2000]))
            return None

    def series(key, items, names, run, done):
        """results[key]: one phase run(item) per item; names(item) gives its
        log line and phase name, done(item, result) logs what came back."""
        results[key] = []
        for item in items:
            line, name = names(item)
            log(line)
            c = phase(name, lambda: run(item))
            if c is None:
                continue
            results[key].append(c)
            done(item, c)

    def pcap_done(nf, c):
        n, feature = nf
        log('pcap %d%s: relay %.2f Mpps, %.0f cycles/pkt (own %s); testpmd %.2f Mpps; '
            'ratio %.2f; latency p50/p99/p99.9 (max) us: %s, half load %s%s'
            % (n, '' if feature == 'none' else ' ' + feature,
               c['relay_pps']['median'] / 1e6, c['relay_cycles_per_pkt']['median'],
               '%.0f' % c['own_cycles']['own'] if c.get('own_cycles') else '-',
               c['testpmd_pps']['median'] / 1e6, c['ratio'] or 0,
               lat_text(c.get('latency')), lat_text(c.get('half', {}).get('latency')),
               feature_text(c)))

    def wset_done(nf, c):
        c['frames'] = nf[1]
        log('  %.0f cycles/pkt' % c['relay_cycles_per_pkt']['median'])

    def workers_done(n, c):
        log('workers %d: one %.2f Mpps, one on CPU 0 %.2f, two %.2f (%s); '
            'two / one %.2f' % (
                n, c['one']['sum_pps']['median'] / 1e6,
                c['one_cpu0']['sum_pps']['median'] / 1e6,
                c['two']['sum_pps']['median'] / 1e6,
                ' + '.join('%.2f' % (w['relayed_pps']['median'] / 1e6)
                           for w in c['two']['workers']),
                c['scaling'] or 0))
        if c.get('link'):
            log('workers %d: link (testpmd io) one %.2f Mpps, two %.2f, two / one '
                '%.2f; relay\'s own work two / one %.2f' % (
                    n, c['link']['one']['pps']['median'] / 1e6,
                    c['link']['two']['pps']['median'] / 1e6,
                    c['link']['scaling'] or 0, c.get('own_scaling') or 0))

    def peer(key, run):
        """results[key]: a peer's phase run(b, seconds, results[key]), with
        the processes busy before it and what others used during it."""
        log(key)
        results[key] = {'busy_before': before_case(b)}
        snap = (time.monotonic(), cpu_times())
        phase(key, lambda: run(b, a.seconds, results[key]))
        results[key]['others_during'] = others_during(snap, b.pids)

    try:
        if 'pcap' in only:
            # each session count with each feature in turn: the runs to compare
            # are neighbours in time
            def pcap_names(nf):
                n, f = nf
                tag = '' if f == 'none' else ' ' + f
                return ('pcap: %d sessions%s' % (n, tag), 'pcap %d%s' % (n, tag))
            series('pcap', [(n, f) for n in a.sessions for f in a.feature], pcap_names,
                   lambda nf: pcap_case(b, nf[0], a.seconds, feature=nf[1]), pcap_done)
        if 'wset' in only:
            # what drives the cost: the table's size or the streams touched
            series('wset', a.wset,
                   lambda nf: ('working set: %d sessions, %d frames' % tuple(nf),
                               'wset %d:%d' % tuple(nf)),
                   lambda nf: pcap_case(b, nf[0], a.seconds, frames=nf[1], direct=True,
                                        testpmd=False),
                   wset_done)
        if 'memlat' in only:
            results['memlat'] = phase('memlat', lambda: memlat_case(b))
        if 'workers' in only:
            # issue 6: two workers >= 1.8 x one, RSS emulated by a pcap per queue
            series('workers', a.workers_sessions,
                   lambda n: ('workers: %d sessions' % n, 'workers %d' % n),
                   lambda n: workers_case(b, n, a.seconds), workers_done)
        if 'memif' in only:
            peer('memif', memif_case)
        if 'rtpengine' in only:
            peer('rtpengine', rtpengine_case)
        if 'setup' in only:
            peer('setup', setup_case)
    finally:
        restore_hugepages(hp_restore)
        results['busy_at_end'] = busy_processes()
        results['commands'] = b.commands
        if a.json:
            with open(a.json, 'w') as f:
                json.dump(results, f, indent=1)
    if a.no_report:
        print(json.dumps(results, indent=1))
        return 0
    png_rel = None
    if 'pcap' in results:
        note = plot(results, a.png)
        if note is None:
            png_rel = os.path.relpath(a.png, os.path.dirname(os.path.abspath(a.out)))
        results['plot_note'] = note
    report(results, a.out, png_rel)
    log('wrote %s%s' % (a.out, ' and ' + a.png if png_rel else ''))
    # a feature run that failed (its counters 0, its setup short) is no
    # figure: say so in the exit status too
    failed = [e for e in results.get('errors', []) if e.startswith('pcap ')]
    if failed and a.feature != ['none']:
        log('failed: %s' % '; '.join(e.splitlines()[0][:200] for e in failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
