#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_recording: Kamailio's start_recording() records calls (issue 17 item 1).

The topology, phones and proxy of test_kamailio (rtpb_sip.SipTopology),
with deploy/kamailio/kamailio.cfg under WITH_RECORDING: start_recording()
on the INVITE (R callid from_tag to_tag: the caller's media, ".o") and on
the 200 OK (R callid to_tag from_tag: the callee's, ".a"), as
docs/RECORDING.md says a script records both directions.  Control runs
with -r RECDIR -S SPOOL -P (pcap files, written in the spool, moved at
the end).

Asserted:
  - every command Kamailio sent got a reply, none an error, and R was sent
    twice per call;
  - after the BYEs the spool is empty and RECDIR holds, per call,
    "<call-id>=<from-tag>.o.rtp" and ".a.rtp" (and their empty ".rtcp",
    the phones send no RTCP) in pcap format;
  - tshark reads each file; the .o.rtp file holds exactly the packets the
    UAC sent to the relay in that call (same count, source the UAC's media
    address, destination the relay port it sent to, RTP sequence numbers
    the UAC's), the .a.rtp file exactly the UAS's;
  - the dataplane counted as many mirror copies as the files hold and no
    mirror drop.

Usage (root): test_recording.py --build BUILD_DIR
"""

import glob
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
import rtpb_sip as sip  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

N_CALLS = 2
N_PKTS = 100                    # 2 s of 20 ms packets per side and call
RATE = 2
HOLD_MS = N_PKTS * sip.PTIME_MS + 1000
UAC_SSRC, UAC_SEQ0 = 0x0a0c0011, 2000
UAS_SSRC, UAS_SEQ0 = 0x0a5e0012, 30000
SIPP_TIMEOUT_S = 30


def tshark_fields(path):
    """[(src, srcport, dst, dstport, rtp seq or None)] of a pcap file."""
    out = subprocess.run(['tshark', '-r', path, '-d', 'udp.port==1-65535,rtp',
                          '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport',
                          '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'rtp.seq'],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, 'tshark reads %s%s' % (
        os.path.basename(path), '' if out.returncode == 0 else ': ' + out.stderr[-300:]))
    rows = []
    for ln in out.stdout.splitlines():
        f = ln.split('\t')
        if len(f) < 5:
            continue
        rows.append((f[0], int(f[1]), f[2], int(f[3]), int(f[4]) if f[4] else None))
    return rows


def lcore_sum(prefix, key):
    """key summed over the workers' /rtpbypass/lcore,<i>."""
    n = e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)['n_workers']
    return sum(e2e.telemetry(prefix, '/rtpbypass/lcore,%d' % i, unwrap=True)[key]
               for i in range(n))


def wait_empty(path, timeout_s):
    """True once directory path is empty (bounded)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if not os.listdir(path):
            return True
        time.sleep(0.1)
    return not os.listdir(path)


def body(build, prefix):
    sip.preflight()
    relay = e2e.RELAY_IP
    d = e2e.logdir()
    recdir, spool = os.path.join(d, 'rec'), os.path.join(d, 'spool')
    os.makedirs(recdir, exist_ok=True)
    os.makedirs(spool, exist_ok=True)
    with sip.SipTopology() as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix, extra_ctl=[
            '-s', 'udp:%s:%d' % (sip.RELAY_CTL_IP, sip.CTL_PORT),
            '-r', recdir, '-S', spool, '-P'])
        uac_pcap = os.path.join(d, 'uac_pcmu.pcap')
        uas_pcap = os.path.join(d, 'uas_pcmu.pcap')
        payload = sip.write_rtp_pcap(uac_pcap, N_PKTS, UAC_SSRC, UAC_SEQ0)
        sip.write_rtp_pcap(uas_pcap, N_PKTS, UAS_SSRC, UAS_SEQ0, payload=payload)
        sip.wait_udp_listen(topo, 'rl', sip.RELAY_CTL_IP, sip.CTL_PORT, 10)
        copies0 = lcore_sum(prefix, 'mirror_copies')
        with sip.call_taps(topo, relay, payload) as (ctl_tap, uac_tap, uas_tap):
            kam = sip.Kamailio(topo, 'px', 'udp:%s:%d' % (sip.PROXY_IP, sip.SIP_PORT),
                         'udp:%s:%d' % (sip.RELAY_CTL_IP, sip.CTL_PORT),
                         defines=[('WITH_RECORDING', '')])
            sip.wait_udp_listen(topo, 'px', sip.PROXY_IP, sip.SIP_PORT, 20)
            sip.wait_probe(ctl_tap, 20)
            uac, uas, rc_uac, rc_uas = sip.place_calls(topo, uac_pcap, uas_pcap, N_CALLS,
                                                       HOLD_MS, RATE, SIPP_TIMEOUT_S)
            for tap in (uac_tap, uas_tap, ctl_tap):
                tap.stop()
            exchanges = ctl_tap.exchanges()
            uac_out, _ = uac_tap.snapshot()
            uas_out, _ = uas_tap.snapshot()
        check(rc_uac == 0 and rc_uas == 0, 'sipp UAC and UAS exit 0 (%s, %s)' % (rc_uac, rc_uas))

        # -- the protocol -------------------------------------------------
        for line in sip.short(exchanges, limit=12):
            e2e.log('kamailio -> control: %s' % line)
        errors = [ex for ex in exchanges if not ex['replies'] or ex['replies'][0].startswith('E')]
        expect(not errors, 'every command got a reply, none an error: %s' % sip.short(errors))
        recs = [ex for ex in exchanges if ex['cmd'].split()[:1] == ['R']]
        expect(len(recs) == 2 * N_CALLS, 'R sent twice per call (%d)' % len(recs))
        vf = [ex for ex in exchanges if ex['cmd'].strip() == 'VF 20200226']
        for ex in vf:
            e2e.log('VF 20200226 -> %s' % ex['replies'])

        # -- the files ----------------------------------------------------
        check(wait_empty(spool, 5), 'spool empty after the BYEs (%s)' % os.listdir(spool))
        files = sorted(os.listdir(recdir))
        e2e.log('recordings: %s' % files)
        o_files = glob.glob(os.path.join(recdir, '*.o.rtp'))
        a_files = glob.glob(os.path.join(recdir, '*.a.rtp'))
        check(len(o_files) == N_CALLS and len(a_files) == N_CALLS
              and len(glob.glob(os.path.join(recdir, '*.rtcp'))) == 2 * N_CALLS,
              'per call a .o.rtp, an .a.rtp and two .rtcp files (%s)' % files)
        total = 0
        for kind, paths, ip, port, sent, seq0 in (
                ('o', o_files, sip.UAC_IP, sip.UAC_MEDIA_PORT, uac_out, UAC_SEQ0),
                ('a', a_files, sip.UAS_IP, sip.UAS_MEDIA_PORT, uas_out, UAS_SEQ0)):
            seen_ports = set()
            for path in paths:
                rows = tshark_fields(path)
                total += len(rows)
                dports = {r[3] for r in rows}
                check(len(dports) == 1, '%s: one relay port (%s)' % (os.path.basename(path),
                                                                     dports))
                rport = dports.pop()
                seen_ports.add(rport)
                want = sent.get(rport, {}).get('n', -1)
                check(len(rows) == want,
                      '%s: %d packets, as many as %s:%d sent to relay port %d (%d)' % (
                          os.path.basename(path), len(rows), ip, port, rport, want))
                check(all(r[0] == ip and r[1] == port and r[2] == relay for r in rows),
                      '%s: every packet from %s:%d to %s' % (os.path.basename(path), ip,
                                                             port, relay))
                seqs = sorted(r[4] for r in rows if r[4] is not None)
                check(len(seqs) == len(rows) and seqs[0] == seq0
                      and seqs == list(range(seq0, seq0 + len(seqs))),
                      '%s: RTP sequence numbers %d.. as sent' % (os.path.basename(path), seq0))
            check(seen_ports == set(sent.keys()),
                  '.%s files cover every relay port the phone sent to (%s / %s)' % (
                      kind, sorted(seen_ports), sorted(sent.keys())))
        for path in glob.glob(os.path.join(recdir, '*.rtcp')):
            check(tshark_fields(path) == [], '%s: a pcap without packets (no RTCP sent)'
                  % os.path.basename(path))
        copies = lcore_sum(prefix, 'mirror_copies') - copies0
        drops = lcore_sum(prefix, 'mirror_drops')
        e2e.log('mirror_copies %d mirror_drops %d, packets in the files %d' % (
            copies, drops, total))
        check(copies == total and drops == 0,
              'the dataplane copied exactly what the files hold, dropped none')
        kam.proc.stop(timeout=10)
        e2e.stop_relay(dp, ctl)


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
