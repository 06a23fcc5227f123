#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""demo: one call through rtpbypass, on this machine, in throw-away namespaces.

Builds the topology of tests/e2e/rtpb_e2e.py (phone A 192.0.2.10 on the
relay's LAN, phone B 198.51.100.20 behind a router), starts the dataplane
on net_af_xdp over the relay's veth and control on udp:127.0.0.1:22222
(inside the relay namespace), sets up a call the way Kamailio does (U for
the offer, L for the answer), streams 20 ms RTP both ways, and half-way
through moves phone A to its second address 192.0.2.11 and another port
without any signalling (a handover, as from Wi-Fi to LTE; same SSRC and
sequence numbers, so the relay takes the new address on its first packet,
DESIGN.md §4).  It prints control's handover log line, what each phone
sent and received (phone A: before and after its move), the relay's
counters, deletes the call (D) and tears everything down.

Usage (root): demo.py --build BUILD_DIR [--seconds N] [--no-handover]
"""

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))
import rtpb_e2e as e2e  # noqa: E402


def say(msg):
    print(msg, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(HERE, '..', 'build'))
    ap.add_argument('--seconds', type=int, default=5)
    ap.add_argument('--no-handover', action='store_true',
                    help='phone A stays on its first address')
    args = ap.parse_args()
    count = max(args.seconds, 2) * 50
    move_at = count // 2
    e2e.install_signal_handlers()
    prefix = e2e.unique_prefix()
    with e2e.Topology() as topo:
        say('topology: phone A %s, phone B %s via router %s, relay %s (DPDK, net_af_xdp on %s)'
            % (e2e.PHONE_A_IP, e2e.PHONE_B_IP, e2e.ROUTER_IP_A, e2e.RELAY_IP, topo.relay_iface))
        topo.add_phone_a_alt()
        dp, ctl = e2e.start_relay(topo, args.build, prefix)
        say('dataplane pid %d and control pid %d running' % (dp.pid, ctl.pid))

        def cmd(c):
            r = e2e.rtpproxy_cmd(topo.relay, c)
            say('  rtpproxy> %-52s < %s' % (c, r.replace('\n', ' | ')))
            return r

        cmd('V')
        u = cmd('U demo-call-1 %s 4000 alice-tag;1' % e2e.PHONE_A_IP)
        lk = cmd('L demo-call-1 %s 6000 alice-tag;1 bob-tag;1' % e2e.PHONE_B_IP)
        p0 = int(re.match(r'\d+', u).group(0))
        p1 = int(re.match(r'\d+', lk).group(0))
        say('phone A sends to %s:%d (from L), phone B to %s:%d (from U); %d packets of 20 ms each way'
            % (e2e.RELAY_IP, p1, e2e.RELAY_IP, p0, count))
        a_new = '%s:4002' % e2e.PHONE_A_IP2
        a_extra = []
        if not args.no_handover:
            a_extra = ['--move-after', str(move_at), '--move-bind', a_new]
            say('after %d packets phone A moves to %s, without signalling, keeping its SSRC and '
                'sequence numbers' % (move_at, a_new))
        call = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0), count,
                        20, 'demo', 1000, ssrcs=('a11ce000', '0b0b0000'), linger_ms=1000,
                        a_extra=a_extra)
        a, b = call.results()
        for ln in e2e.handover_lines(ctl, 'demo-call-1'):
            say('control: %s' % ln['line'])
        for name, r in (('A', a), ('B', b)):
            say('phone %s: sent %d, received %d (%d intact), lost %d, source(s) seen: %s'
                % (name, r['sent'], r['received'], r['received_valid'], r['lost'],
                   ', '.join('%s (%d)' % kv for kv in r['sources'].items()) or 'none'))
        if a['move']:
            for k, what in (('old', 'before the move'), ('new', 'after the move')):
                ep = a['move'][k]
                say('  phone A %s: %s sent %d, received %d'
                    % (what, ep['bind'], ep['rtp_sent'], ep['received']))
            say('  phone A: %d of B\'s packets still went to the old address after the move'
                % a['move']['old']['after_move'])
        st = e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)
        say('relay counters: rx %d, tx %d, relayed %d, ARP replies %d, ARP requests %d, latches %d, '
            'handovers %s' % (st['rx_pkts'], st['tx_pkts'], st['relayed'], st['arp_replies'],
                              st['arp_requests'], st['latches'], st.get('handovers', 'n/a')))
        drops = {k[5:]: v for k, v in st.items() if k.startswith('drop_') and v}
        say('relay drops: %s' % (', '.join('%s %d' % kv for kv in drops.items()) or 'none'))
        cmd('I')
        cmd('D demo-call-1 alice-tag')
        cmd('I')
        ctl.stop(timeout=10)
        dp.stop(timeout=15)
        say('stopped; tearing the namespaces down')
    e2e.cleanup_dpdk_prefix(prefix)
    say('done: nothing left behind')
    return 0


if __name__ == '__main__':
    sys.exit(main())
