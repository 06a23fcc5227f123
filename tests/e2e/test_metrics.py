#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_metrics: control's Prometheus endpoint, scraped during a call.

Issue 18 item 2, in namespaces this test creates (rtpb_e2e): the relay
(dataplane and control with --metrics 127.0.0.1:PORT, the relay
namespace's own loopback); a call set up with U/L between phone A and
phone B, each sending N RTP packets.

Asserts, scraping http://127.0.0.1:PORT/metrics from the relay namespace:
  - before the call rtpbypass_sessions is 0; after U/L it is 1 and
    rtpbypass_streams 2; during the call rtpbypass_relayed_packets_total
    grows from one scrape to the next (the text is rendered each second);
  - `promtool check metrics` (Debian's prometheus package) finds nothing
    to say about a live scrape, and every drop reason of rtpb_shm.h is
    there as rtpbypass_dropped_packets_total{reason=...};
  - another path answers 404, a POST 405, and control keeps serving;
  - a real Prometheus server (its binary, a temp config scraping the
    endpoint every second, its TSDB in a temp dir, --web.listen-address
    on 127.0.0.1 in the relay namespace) answers
    /api/v1/query?query=rtpbypass_sessions with 1 during the call, shows
    relayed packets, and 0 once D deleted the session.

Every wait is bounded; processes are stopped by PID (rtpb_e2e.Proc).

Usage (root): test_metrics.py --build BUILD_DIR
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402

N_PKTS = 400          # 8 s at 20 ms: the call outlasts Prometheus's start
A_PORT = 4000
B_PORT = 6000
DROP_REASONS = ('truncated', 'not_peer', 'no_stream', 'neigh_pending', 'pace')

check = e2e.check


def free_port(topo):
    """A TCP port free on the relay namespace's 127.0.0.1."""
    s = topo.socket('rl', socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def http(topo, port, path, method='GET', timeout=5.0):
    """One HTTP/1.0 request to 127.0.0.1:port in the relay namespace.
    @return (status, body as text)."""
    s = topo.socket('rl', socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(('127.0.0.1', port))
        body = b'x=1' if method == 'POST' else b''
        s.sendall(('%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n'
                   % (method, path, len(body))).encode() + body)
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, rest = data.partition(b'\r\n\r\n')
    status = int(head.split(b' ', 2)[1])
    return status, rest.decode('utf-8', 'replace')


def value(text, name, labels=''):
    """The sample name{labels} in an exposition text, or None."""
    m = re.search(r'^%s%s (\S+)$' % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


def scrape(topo, port):
    status, text = http(topo, port, '/metrics')
    if status != 200:
        raise e2e.CheckFailed('/metrics answered %d' % status)
    return text


def wait_scrape(topo, port, name, want, timeout=5.0):
    """Scrape until name's value is want (rendered once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        text = scrape(topo, port)
        v = value(text, name)
        if v == want or time.monotonic() >= deadline:
            return text, v
        time.sleep(0.2)


def prom_query(topo, port, query):
    """Prometheus's instant query: the first sample's value, or None."""
    status, body = http(topo, port, '/api/v1/query?query=' + urllib.parse.quote(query))
    if status != 200:
        return None
    res = json.loads(body)
    r = res.get('data', {}).get('result', [])
    return float(r[0]['value'][1]) if res.get('status') == 'success' and r else None


def wait_prom(topo, port, query, pred, timeout):
    """Query until pred(value) (bounded); @return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = prom_query(topo, port, query)
        if (v is not None and pred(v)) or time.monotonic() >= deadline:
            return v
        time.sleep(0.25)


def start_prometheus(topo, metrics_port):
    """A Prometheus server in the relay namespace scraping the endpoint
    every second; its config and TSDB in the run's temp dir.
    @return (Proc, its HTTP port)."""
    d = os.path.join(e2e.logdir(), 'prometheus')
    os.makedirs(os.path.join(d, 'data'))
    cfg = os.path.join(d, 'prometheus.yml')
    with open(cfg, 'w') as f:
        f.write('global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
                'scrape_configs:\n  - job_name: rtpbypass\n'
                '    scrape_interval: 1s\n    scrape_timeout: 1s\n'
                '    static_configs:\n      - targets: ["127.0.0.1:%d"]\n' % metrics_port)
    port = free_port(topo)
    p = topo.proc('rl', ['prometheus', '--config.file', cfg,
                         '--storage.tsdb.path', os.path.join(d, 'data'),
                         '--web.listen-address', '127.0.0.1:%d' % port,
                         '--log.level', 'info'], name='prometheus', cwd=d)
    p.wait_for_log(r'Server is ready to receive web requests', timeout=30)
    return p, port


def body(build, prefix):
    for tool in ('promtool', 'prometheus'):
        if shutil.which(tool) is None:
            raise e2e.E2EError('%s not found (deploy/install-deps.sh: prometheus)' % tool)
    t0 = time.monotonic()
    with e2e.Topology() as topo:
        mport = free_port(topo)
        dp, ctl = e2e.start_relay(topo, build, prefix,
                                  extra_ctl=['--metrics', '127.0.0.1:%d' % mport])
        ctl.wait_for_log(r'metrics: http://127\.0\.0\.1:%d/metrics' % mport, timeout=5)
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)

        text, v = wait_scrape(topo, mport, 'rtpbypass_dataplane_up', 1)
        check(v == 1, 'rtpbypass_dataplane_up is 1 once control is attached')
        check(value(text, 'rtpbypass_sessions') == 0, 'rtpbypass_sessions is 0 before the call')

        st, body = http(topo, mport, '/nope')
        check(st == 404, 'another path answers 404 (got %d)' % st)
        st, body = http(topo, mport, '/metrics', method='POST')
        check(st == 405, 'a POST answers 405 (got %d)' % st)

        prom, pport = start_prometheus(topo, mport)
        e2e.log('prometheus up after %.1fs' % (time.monotonic() - t0))

        p0, _, _ = e2e.parse_ul_reply(cmd('U met-1 %s %d fa' % (e2e.PHONE_A_IP, A_PORT)))
        p1, _, _ = e2e.parse_ul_reply(cmd('L met-1 %s %d fa tb' % (e2e.PHONE_B_IP, B_PORT)))
        call = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        N_PKTS, 20, 'metrics', a_port=A_PORT, b_port=B_PORT,
                        start_delay_ms=500)

        text, v = wait_scrape(topo, mport, 'rtpbypass_sessions', 1)
        check(v == 1, 'rtpbypass_sessions is 1 after U/L')
        check(value(text, 'rtpbypass_streams') == 2, 'rtpbypass_streams is 2')

        # two scrapes 2.5 s apart, both during the call
        time.sleep(1.5)
        first = scrape(topo, mport)
        time.sleep(2.5)
        second = scrape(topo, mport)
        r1 = value(first, 'rtpbypass_relayed_packets_total')
        r2 = value(second, 'rtpbypass_relayed_packets_total')
        e2e.log('relayed packets: %s then %s' % (r1, r2))
        check(r1 is not None and r2 is not None and r2 > r1 > 0,
              'rtpbypass_relayed_packets_total grows during the call')
        check((value(second, 'rtpbypass_worker_cycles_total', '{worker="0"}') or 0) > 0,
              'worker 0 has cycles')
        for reason in DROP_REASONS:
            check(value(second, 'rtpbypass_dropped_packets_total',
                        '{reason="%s"}' % reason) is not None,
                  'rtpbypass_dropped_packets_total{reason="%s"} is exported' % reason)
        path = os.path.join(e2e.logdir(), 'scrape.txt')
        with open(path, 'w') as f:
            f.write(second)
        pt = subprocess.run(['promtool', 'check', 'metrics'], input=second,
                            capture_output=True, text=True, timeout=30)
        e2e.log('promtool check metrics: exit %d %s%s' % (pt.returncode, pt.stdout, pt.stderr))
        check(pt.returncode == 0 and pt.stdout.strip() == '' and pt.stderr.strip() == '',
              'promtool check metrics finds nothing in a live scrape (%s)' % path)

        v = wait_prom(topo, pport, 'rtpbypass_sessions', lambda x: x == 1, 15)
        check(v == 1, 'Prometheus: rtpbypass_sessions is 1 during the call (got %s)' % v)
        v = wait_prom(topo, pport, 'up{job="rtpbypass"}', lambda x: x == 1, 5)
        check(v == 1, 'Prometheus: the relay target is up')
        v = wait_prom(topo, pport, 'rtpbypass_relayed_packets_total', lambda x: x > 0, 5)
        check(v is not None and v > 0,
              'Prometheus: rtpbypass_relayed_packets_total > 0 (%s)' % v)

        a, b = call.results()
        check(a['received_valid'] == N_PKTS and b['received_valid'] == N_PKTS,
              'the call lost nothing (A %d, B %d of %d)'
              % (a['received_valid'], b['received_valid'], N_PKTS))
        check(cmd('D met-1 fa') == '0', 'D deletes the call')
        v = wait_prom(topo, pport, 'rtpbypass_sessions', lambda x: x == 0, 10)
        check(v == 0, 'Prometheus: rtpbypass_sessions is 0 after D (got %s)' % v)
        check(ctl.running, 'control still runs')

        prom.stop(timeout=10)
        dp.stop(timeout=10)
        ctl.stop(timeout=10)
    e2e.log('done in %.1fs' % (time.monotonic() - t0))


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__))
