#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_capture: dpdk-dumpcap captures a call's RTP from the running dataplane.

Issue 18 item 3, in namespaces this test creates (rtpb_e2e): the relay
(net_af_xdp, 192.0.2.1) without --huge-unlink, so a DPDK secondary can map
its memory; a call set up with U/L between phone A (192.0.2.10) and phone
B (198.51.100.20); dpdk-dumpcap (Debian's dpdk package), started with the
dataplane's --file-prefix as deploy/README shows, writes a pcapng while
each phone sends N RTP packets.

Asserts: the phones get every packet (a capture costs no packet); tshark
(Debian's tshark) decodes the pcapng's UDP on the call's relay ports as
RTP and finds, per direction, the N packets the phone sent to the relay
(received by the port) and the N the relay sent on to the other phone
(transmitted), with the phones' SSRCs; dumpcap stops cleanly on SIGINT.

Usage (root): test_capture.py --build BUILD_DIR
"""

import os
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check  # noqa: E402

N_PKTS = 100
A_PORT = 4000
B_PORT = 6000
SSRC_A, SSRC_B = 'a0a0a0a0', 'b0b0b0b0'


def rtp_in_pcap(path, ports):
    """(src port, dst port, SSRC) of each RTP packet tshark finds in path,
    UDP on any of ports decoded as RTP."""
    argv = ['tshark', '-r', path, '-Y', 'rtp', '-T', 'fields',
            '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'rtp.ssrc']
    for p in ports:
        argv[3:3] = ['-d', 'udp.port==%d,rtp' % p]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout
    res = []
    for line in out.splitlines():
        f = line.split('\t')
        if len(f) == 3:
            res.append((int(f[0]), int(f[1]), int(f[2], 16)))
    return res


def body(build, prefix):
    """A call captured by dpdk-dumpcap from the running dataplane."""
    pcap = os.path.join(e2e.logdir(), 'call.pcapng')
    with e2e.Topology() as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix, huge_unlink=False)
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)
        p0, _, _ = e2e.parse_ul_reply(cmd('U cap-1 %s %d fa' % (e2e.PHONE_A_IP, A_PORT)))
        p1, _, _ = e2e.parse_ul_reply(cmd('L cap-1 %s %d fa tb' % (e2e.PHONE_B_IP, B_PORT)))
        # a secondary process of the dataplane's prefix (hugepages and
        # /var/run/dpdk are the root namespace's)
        dump = e2e.Proc(['dpdk-dumpcap', '--file-prefix', prefix, '-i', 'net_af_xdp0',
                         '-w', pcap], name='dumpcap')
        # its progress line (stderr; 'Capturing on' is on a buffered stdout)
        dump.wait_for_log(r'Packets captured', timeout=30)
        a, b = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        N_PKTS, 10, 'capture', a_port=A_PORT, b_port=B_PORT,
                        ssrcs=(SSRC_A, SSRC_B)).results()
        check(a['received_valid'] == N_PKTS and b['received_valid'] == N_PKTS,
              "the call lost nothing while captured (A %d, B %d of %d)"
              % (a['received_valid'], b['received_valid'], N_PKTS))
        dump.signal(signal.SIGINT)
        rc = dump.wait(timeout=15)
        out, err = dump.output()
        m = re.search(r'Packets captured: (\d+)', out + err)
        e2e.log('dumpcap: exit %s, %s' % (rc, m.group(0) if m else 'no count'))
        check(rc == 0, "dpdk-dumpcap stops on SIGINT with status 0 (got %s)" % rc)
        pkts = rtp_in_pcap(pcap, (p0, p1))
        sa, sb = int(SSRC_A, 16), int(SSRC_B, 16)
        a_in = sum(1 for s, d, x in pkts if x == sa and s == A_PORT and d == p1)
        a_out = sum(1 for s, d, x in pkts if x == sa and s == p0 and d == B_PORT)
        b_in = sum(1 for s, d, x in pkts if x == sb and s == B_PORT and d == p0)
        b_out = sum(1 for s, d, x in pkts if x == sb and s == p1 and d == A_PORT)
        e2e.log('RTP in the pcapng: A->relay %d, relay->B %d, B->relay %d, relay->A %d'
                % (a_in, a_out, b_in, b_out))
        check((a_in, a_out, b_in, b_out) == (N_PKTS,) * 4,
              "tshark finds each phone's %d RTP packets received and sent on "
              "by the relay in the capture" % N_PKTS)
        check(cmd('D cap-1 fa') == '0', "D deletes the call")
        dp.stop(timeout=10)
        ctl.stop(timeout=10)


def main():
    for tool in ('dpdk-dumpcap', 'tshark'):
        if shutil.which(tool) is None:
            raise SystemExit('%s not found (deploy/install-deps.sh)' % tool)
    return e2e.run_test(body)


if __name__ == '__main__':
    sys.exit(main())
