#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_redis: a relay's calls taken over from Redis (issue 21 item 2,
docs/REDIS.md), with real processes in namespaces this test creates
(rtpb_e2e) and a real redis-server.

1. redis-server in the relay namespace (127.0.0.1, a free port, a temp
   dir); relay 1 (dataplane + control --redis --redis-relay-id relay1).
   Two calls; the first carries media, each phone sending from a port
   other than the one signalled (so the relay only reaches it through
   its latched peer). Redis holds one key per session and the index.
2. Relay 1's control and dataplane are SIGKILLed. A fresh dataplane and
   a fresh control (another DPDK prefix, so another journal: nothing
   but Redis to restore from) start on the same addresses with
   --redis-restore-from relay1 --redis-relay-id relay2.
3. Q answers for both old calls; media flows again with no re-offer,
   through the latched peers: phone A is silent for the first half of
   the run and still gets B's packets (the relay sends to A's latched
   port, not its signalled one), phone B is silent for the second half
   and still gets A's. D ends both calls; relay1's keys are gone
   (taken), relay2's are deleted by the D's.

Figures: time from control's start to the restore's end, Redis writes
per call (G nredis_writes over a batch of U/L/D calls without media,
and the media call's latches), printed as FIGURE lines.

Usage (root): test_redis.py --build BUILD_DIR
"""

import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

INTERVAL_MS = 20
COUNT = 150             # 3 s of media per run
A_SIG, B_SIG = 4000, 6000     # signalled ports
A_REAL, B_REAL = 4100, 6100   # ports the phones really use
PREFIX = 'rtpbe2e'
PHONE_START_MS = 1500
N_CPU_CALLS = 500      # calls for the CPU figure


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_cli(topo, port, *args):
    """One redis-cli command in the relay namespace; its output lines."""
    out = topo.run('rl', ['redis-cli', '-h', '127.0.0.1', '-p', str(port)] +
                   list(args))
    text = out.stdout if hasattr(out, 'stdout') else out
    if isinstance(text, bytes):
        text = text.decode()
    return [l for l in text.splitlines() if l]


def redis_keys(topo, port, relay):
    return sorted(redis_cli(topo, port, 'KEYS', '%s:%s:*' % (PREFIX, relay)))


def ctl_opts(port, relay, restore=None):
    o = ['--redis', '127.0.0.1:%d' % port, '--redis-key-prefix', PREFIX,
         '--redis-relay-id', relay]
    if restore:
        o += ['--redis-restore-from', restore]
    return o


def g_value(cmd, name):
    r = cmd('G %s' % name)
    check(re.fullmatch(r'\d+', r) is not None, 'G %s: %r' % (name, r))
    return int(r)


def cpu_ns(pid):
    """CPU time of pid so far, ns (/proc/PID/schedstat)."""
    with open('/proc/%d/schedstat' % pid) as f:
        return int(f.read().split()[0])


def calls_cpu(cmd, pid, n, tag):
    """n calls (U, L, D) without media; control's CPU per call, us, its
    idle loop's share (measured for 1 s before) taken out."""
    c0, t0 = cpu_ns(pid), time.monotonic()
    time.sleep(1.0)
    idle = (cpu_ns(pid) - c0) / (time.monotonic() - t0)
    c0, t0 = cpu_ns(pid), time.monotonic()
    for i in range(n):
        e2e.parse_ul_reply(cmd('U %s-%d %s %d fw' % (tag, i, e2e.PHONE_A_IP, 5000 + 2 * (i % 500))))
        e2e.parse_ul_reply(cmd('L %s-%d %s %d fw tw' % (tag, i, e2e.PHONE_B_IP, 7000 + 2 * (i % 500))))
        r = cmd('D %s-%d fw tw' % (tag, i))
        if r != '0':
            raise e2e.E2EError('D %s-%d: %r' % (tag, i, r))
    time.sleep(0.3)   # the writes go out
    wall = time.monotonic() - t0
    return ((cpu_ns(pid) - c0) - idle * wall) / n / 1000.0, idle / 1e9 * 100


def body(build, prefix):
    rdir = tempfile.mkdtemp(prefix='rtpb-redis-')
    with e2e.Topology() as topo:
        port = free_port()
        redis = topo.proc('rl', ['redis-server', '--port', str(port), '--bind', '127.0.0.1',
                                 '--dir', rdir, '--save', '', '--appendonly', 'no',
                                 '--daemonize', 'no'], name='redis')
        redis.wait_for_log(r'Ready to accept connections', timeout=10)
        # --- control's CPU per call without Redis (the baseline) ----------
        dp, ctl = e2e.start_relay(topo, build, prefix, extra_ctl=[])
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)
        cpu_off, idle_off = calls_cpu(cmd, ctl.pid, N_CPU_CALLS, 'base')
        e2e.stop_relay(dp, ctl)
        e2e.cleanup_dpdk_prefix(prefix)
        dp, ctl = e2e.start_relay(topo, build, prefix, extra_ctl=ctl_opts(port, 'relay1'))
        ctl.wait_for_log(r'redis .*resync as .relay1.', timeout=5)
        w0 = g_value(cmd, 'nredis_writes')
        cpu_on, idle_on = calls_cpu(cmd, ctl.pid, N_CPU_CALLS, 'cost')
        w1 = g_value(cmd, 'nredis_writes')
        e2e.log('FIGURE control CPU per call (U, L, D; idle loop taken out): '
                '%.0f us without --redis, %.0f us with (%.1f writes per call); '
                'idle loop %.2f%% / %.2f%% of a CPU'
                % (cpu_off, cpu_on, (w1 - w0) / N_CPU_CALLS, idle_off, idle_on))

        # --- Redis writes per call, no media (U, L, D) ---------------------
        n_calls = 20
        w0 = g_value(cmd, 'nredis_writes')
        d0 = g_value(cmd, 'nredis_deletes')
        for i in range(n_calls):
            e2e.parse_ul_reply(cmd('U wpc-%d %s %d fw' % (i, e2e.PHONE_A_IP, 5000 + 2 * i)))
            e2e.parse_ul_reply(cmd('L wpc-%d %s %d fw tw' % (i, e2e.PHONE_B_IP, 7000 + 2 * i)))
            check(cmd('D wpc-%d fw tw' % i) == '0', 'D wpc-%d' % i)
        time.sleep(0.3)
        w1 = g_value(cmd, 'nredis_writes')
        d1 = g_value(cmd, 'nredis_deletes')
        e2e.log('FIGURE redis writes per call (U, L, D, no media): %.2f SET + %.2f DEL'
                % ((w1 - w0) / n_calls, (d1 - d0) / n_calls))
        check(redis_keys(topo, port, 'relay1') in ([], ['%s:relay1:meta' % PREFIX]),
              'after D every session key is gone: %r' % redis_keys(topo, port, 'relay1'))

        # --- 1. two calls, one with media through latched peers ------------
        p0, _, _ = e2e.parse_ul_reply(cmd('U ha-1 %s %d fa' % (e2e.PHONE_A_IP, A_SIG)))
        p1, _, _ = e2e.parse_ul_reply(cmd('L ha-1 %s %d fa tb' % (e2e.PHONE_B_IP, B_SIG)))
        q0, _, _ = e2e.parse_ul_reply(cmd('U ha-2 %s %d fc' % (e2e.PHONE_A_IP, A_SIG + 2)))
        e2e.parse_ul_reply(cmd('L ha-2 %s %d fc td' % (e2e.PHONE_B_IP, B_SIG + 2)))
        w_media0 = g_value(cmd, 'nredis_writes')
        a, b = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        COUNT, INTERVAL_MS, 'before', a_port=A_REAL, b_port=B_REAL,
                        start_delay_ms=PHONE_START_MS).results()
        check(a['received_valid'] >= COUNT - 10 and b['received_valid'] >= COUNT - 10,
              'relay 1: A got %d, B got %d of %d'
              % (a['received_valid'], b['received_valid'], COUNT))
        time.sleep(0.3)
        w_media1 = g_value(cmd, 'nredis_writes')
        e2e.log('FIGURE redis writes of the media call while it ran (latches): %d'
                % (w_media1 - w_media0))
        keys = redis_keys(topo, port, 'relay1')
        e2e.log('relay 1 keys: %r' % keys)
        check(len([k for k in keys if ':s:' in k]) == 2 and '%s:relay1:idx' % PREFIX in keys,
              'Redis holds the two sessions and the index: %r' % keys)
        info = cmd('I')
        check(re.search(r'redis: connected, writes \d+', info) is not None,
              'I shows the Redis line: %r' % info)

        # --- 2. relay 1 dies; a fresh one restores from Redis --------------
        ctl.signal(signal.SIGKILL)
        dp.signal(signal.SIGKILL)
        ctl.wait(timeout=10)
        dp.wait(timeout=10)
        e2e.cleanup_dpdk_prefix(prefix, force=True)
        prefix2 = e2e.unique_prefix()
        t_start = time.monotonic()
        dp, ctl = e2e.start_relay(topo, build, prefix2,
                                  extra_ctl=ctl_opts(port, 'relay2', restore='relay1'))
        m = ctl.wait_for_log(r"redis restore from 'relay1': (\d+) sessions found, "
                             r"(\d+) restored, \d+ already here, (\d+) dropped, in (\d+) ms",
                             timeout=5)
        t_attached = time.monotonic() - t_start
        e2e.log('FIGURE restore: %s sessions in %s ms; control started and attached '
                'in %.0f ms' % (m.group(2), m.group(4), 1000 * t_attached))
        check(m.group(1) == '2' and m.group(2) == '2' and m.group(3) == '0',
              'both sessions restored: %r' % m.group(0))
        check('active sessions: 2' in cmd('I'), 'the new control has both calls')

        # --- 3. Q, media through the latched peers, D ----------------------
        for call, ft, tt in (('ha-1', 'fa', 'tb'), ('ha-2', 'fc', 'td')):
            r = cmd('Q %s %s %s' % (call, ft, tt))
            check(re.fullmatch(r'-?\d+ \d+ \d+ \d+ \d+', r) is not None,
                  'Q %s on the new relay: %r' % (call, r))
        half = COUNT * INTERVAL_MS // 2
        a, b = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        COUNT, INTERVAL_MS, 'after', a_port=A_REAL, b_port=B_REAL,
                        start_delay_ms=PHONE_START_MS,
                        a_extra=['--rx-log', '--silence-at-ms', '0', '--silence-ms', str(half)],
                        b_extra=['--rx-log', '--silence-at-ms', str(half),
                                 '--silence-ms', str(half + 2000)]).results()
        a_early = [e for e in a['rx_log'] if e[2] == 'rtp' and e[0] < half - 200]
        b_late = [e for e in b['rx_log'] if e[2] == 'rtp' and e[0] > half + 200]
        e2e.log('after the takeover: A got %d (%d while A was silent), B got %d '
                '(%d while B was silent)' % (a['received_valid'], len(a_early),
                                             b['received_valid'], len(b_late)))
        check(len(a_early) >= (half - 200) // INTERVAL_MS - 10,
              'B->A reaches A at its latched port while A sends nothing: %d packets'
              % len(a_early))
        check(len(b_late) >= (COUNT * INTERVAL_MS - half - 200) // INTERVAL_MS - 10,
              'A->B reaches B at its latched port while B sends nothing: %d packets'
              % len(b_late))
        keys = redis_keys(topo, port, 'relay1')
        check(keys == [], "relay1's keys were taken over: %r" % keys)
        keys2 = [k for k in redis_keys(topo, port, 'relay2') if ':s:' in k]
        check(len(keys2) == 2, 'relay2 writes the two sessions: %r' % keys2)
        check(cmd('D ha-1 fa tb') == '0' and cmd('D ha-2 fc td') == '0',
              'D ends both old calls on the new relay')
        time.sleep(0.3)
        keys2 = [k for k in redis_keys(topo, port, 'relay2') if ':s:' in k]
        check(keys2 == [], 'their keys are deleted: %r' % keys2)
        expect(g_value(cmd, 'nredis_drops') == 0, 'no Redis write dropped')
        e2e.stop_relay(dp, ctl)
        e2e.cleanup_dpdk_prefix(prefix2)
        redis.stop()
    shutil.rmtree(rdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__))
