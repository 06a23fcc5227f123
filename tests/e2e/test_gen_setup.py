#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""rtpb-gen against a control whose port range cannot hold every call it
is asked for (issue 18 item 8: control's default range held 6 808 of
10 000 calls, and rtpb-gen still wrote a pcap for Pktgen to replay).

A real dataplane (net_null, no media) and control with -m 35000 -M 35015:
eight RTP/RTCP port pairs, four calls (two pairs each). Then rtpb-gen
(--no-pci --no-huge, setup and pcap only, as tools/README.md's Pktgen
steps run it) in the relay's namespace:
  - 3 calls, --keep-sessions --write-pcap: exit 0, the pcap holds the ARP
    request and one frame per leg, control keeps the 3 sessions, and
    --delete-only removes them (the harness can tell success);
  - 10 calls, same options: exit 1; stderr says how many calls control
    set up and names -m 1024 -M 65535 and --port-spill; no pcap file; and
    the sessions control holds (8: U then L per batch, the first 8 U's
    took the 8 pairs and every L failed) are deleted despite
    --keep-sessions (control's I: 0 active sessions);
  - --fork and --tos (bench.py --feature): every C and S sub-command
    answered, exit 0; --record against a control without -r: every R
    fails, exit 1, no pcap, the calls deleted.
Usage: test_gen_setup.py --build BUILD_DIR
"""
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check  # noqa: E402

CTL_PORT = 22222
PORTS = (35000, 35015)      # 8 port pairs: 4 calls


def pcap_frames(path):
    """Frames in a classic pcap file (rtpb-gen's gen_pcap.c format)."""
    with open(path, 'rb') as f:
        data = f.read()
    check(len(data) >= 24 and data[:4] in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4'),
          '%s is a pcap file' % path)
    end = '<' if data[:4] == b'\xd4\xc3\xb2\xa1' else '>'
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack(end + 'I', data[off + 8:off + 12])[0]
        off += 16 + incl
        n += 1
    return n


def active_sessions():
    info = e2e.parse_info(e2e.rtpproxy_cmd(TOPO.relay, 'I',
                                          sock=('127.0.0.1', CTL_PORT)))
    return info.get('active sessions')


def gen(build, calls, pcap, name, extra=()):
    """rtpb-gen in the relay's namespace: setup (and pcap) only. @return
    (exit status, stderr)."""
    argv = [os.path.join(os.path.abspath(build), 'tools', 'rtpb-gen', 'rtpb-gen'),
            '-l', '0', '--no-pci', '--no-huge', '-m', '128',
            '--file-prefix', e2e.unique_prefix(), '--',
            '--calls', str(calls), '--ctl', 'udp:127.0.0.1:%d' % CTL_PORT,
            '--call-prefix', name, '--ctl-retries', '2', '--quiet'] + list(extra)
    if pcap is not None:
        argv += ['--duration', '0', '--keep-sessions', '--write-pcap', pcap]
    p = TOPO.proc('rl', argv, name='gen_' + name)
    rc = p.wait(120)
    return rc, p.output()[1]


def body(build, prefix):
    global TOPO
    with e2e.Topology() as topo:
        TOPO = topo
        dp, ctl = e2e.start_relay(topo, build, prefix, ctl_port=CTL_PORT,
                                  vdev='net_null0,no-rx=1', ports=PORTS)
        pcap = os.path.join(e2e.logdir(), 'ok.pcap')
        rc, err = gen(build, 3, pcap, 'genok')
        check(rc == 0, '3 calls within the range: rtpb-gen exit 0 (%s; %s)'
              % (rc, err.strip()[-300:]))
        n = pcap_frames(pcap)
        check(n == 1 + 2 * 3, 'the pcap holds the ARP request and one frame per '
              'leg: %d frames' % n)
        check(active_sessions() == 3, '--keep-sessions left the 3 calls in control')
        rc, err = gen(build, 3, None, 'genok', ['--delete-only'])
        check(rc == 0 and active_sessions() == 0,
              '--delete-only removed them (exit %s)' % rc)

        # the optional features (tools/bench.py --feature): fork and tos
        # answered 0 (a fork takes a pair per party: 2 calls fill the 8)
        pcap = os.path.join(e2e.logdir(), 'feat.pcap')
        rc, err = gen(build, 2, pcap, 'genfeat',
                      ['--fork', 'udp:203.0.113.9:40000', '--tos', '184'])
        check(rc == 0 and os.path.exists(pcap) and active_sessions() == 2,
              '--fork and --tos: every C and S answered, exit 0 (%s; %s)'
              % (rc, err.strip()[-300:]))
        rc, err = gen(build, 2, None, 'genfeat', ['--delete-only'])
        check(rc == 0 and active_sessions() == 0, 'deleted (exit %s)' % rc)
        # R without control's -r fails: the calls do not count as set up
        pcap = os.path.join(e2e.logdir(), 'rec.pcap')
        rc, err = gen(build, 3, pcap, 'genrec', ['--record'])
        check(rc == 1 and 'R answered' in err and not os.path.exists(pcap),
              '--record against a control without -r: exit 1, no pcap (%s; %s)'
              % (rc, err.strip()[-300:]))
        check(active_sessions() == 0, 'and the calls are deleted')

        pcap = os.path.join(e2e.logdir(), 'short.pcap')
        rc, err = gen(build, 10, pcap, 'genshort')
        check(rc == 1, '10 calls, room for 4: rtpb-gen exit 1 (%s)' % rc)
        # U then L per batch: the 8 pairs go to the first 8 U's, every L
        # then fails; the 8 half-set-up sessions are control's all the same
        m = re.search(r'control set up (\d+) of the 10 calls', err)
        check(m is not None and int(m.group(1)) < 4,
              'it says how many calls control set up: %r' % err.strip()[-400:])
        check('deleting the 8 sessions' in err,
              'it deletes every session control holds, half-set-up ones too')
        check('-m 1024 -M 65535' in err and '--port-spill' in err,
              'it names the options that make room')
        check(not os.path.exists(pcap), 'no pcap written for calls that are '
              'not set up')
        check(active_sessions() == 0, 'the 4 calls it did set up are deleted, '
              '--keep-sessions or not')
        e2e.stop_relay(dp, ctl)


TOPO = None

if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__))
