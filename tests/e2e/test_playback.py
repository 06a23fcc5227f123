#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_playback: Kamailio's rtpproxy_stream2uac(prompt, -1) plays a prompt to the caller (issue 17 item 3).

The topology, phones and proxy of test_kamailio (rtpb_sip.SipTopology),
with deploy/kamailio/kamailio.cfg under WITH_PLAYBACK: on the 200 OK the
proxy sends "P-1 callid hold session from;1 to;1" (stream2uac), and on
the caller's in-dialog INFO "S callid from;1 to;1" (stop_stream2uac).
Control runs with --prompt-dir PDIR, where rtpb-makeann made hold.0 and
hold.8 from a WAV the test writes (1 s of a rising tone: every 20 ms
packet carries other bytes).  The callee (UAS) sends its own RTP from
the ACK to the end; the caller (UAC) sends its own, waits PLAY_MS, sends
the INFO, waits AFTER_MS and hangs up.

Asserted:
  - P and S were sent and answered 0;
  - until S the caller receives the prompt: packets of one SSRC, PT 0,
    sequence numbers consecutive, the marker on the first, timestamps
    + 160 each, and their payloads, in order, are hold.0's bytes byte for
    byte, looping (1 s = 50 packets a pass);
  - they arrive 20 ms apart: mean spacing 20 +- 2 ms (behaviour, not
    speed; the mean and the 99th percentile are printed);
  - the callee's media does not reach the caller while the prompt plays
    (held, counted by the dataplane as drop reason held), and does again
    after S, while no prompt packet comes after it;
  - G: nplrs_created 1, nplrs_destroyed 1, npkts_played equal to the
    prompt packets the caller received, the dataplane's play_tx too, but
    for at most the first 2, which the dataplane may drop (play_nopeer)
    while it resolves the caller's MAC: the L that opens the caller's
    relay socket comes just before the P.

Usage (root): test_playback.py --build BUILD_DIR
"""

import math
import os
import struct
import subprocess
import sys
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
import rtpb_sip as sip  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

PLAY_MS = 3000                  # prompt time before the INFO (S)
AFTER_MS = 2000                 # callee's media after S, before the BYE
PROMPT_S = 1                    # prompt length: 50 packets of 20 ms
UAC_SSRC, UAC_SEQ0 = 0x0a0c0021, 3000
UAS_SSRC, UAS_SEQ0 = 0x0a5e0022, 40000
UAS_PKTS = (PLAY_MS + AFTER_MS + 2000) // sip.PTIME_MS
SIPP_TIMEOUT_S = 40


def uac_scenario(pcap):
    """The caller: rtpb_sip's UAC (INVITE, ACK, play pcap, BYE) with an
    in-dialog INFO PLAY_MS after the ACK (the proxy answers it and stops
    the prompt), its 200, and the BYE AFTER_MS later."""
    xml = sip.uac_scenario(pcap, PLAY_MS)
    i = xml.index('  <send retrans="500">', xml.index('<pause'))
    j = xml.index('</send>', i) + len('</send>')
    bye = xml[i:j]
    check('CSeq: 2 BYE' in bye, "rtpb_sip's UAC ends with a BYE of CSeq 2")
    info = bye.replace('BYE', 'INFO')
    return (xml[:i] + info + '\n  <recv response="200"/>\n  <pause milliseconds="%d"/>\n'
            % AFTER_MS + bye.replace('CSeq: 2 BYE', 'CSeq: 3 BYE') + xml[j:])


class RxTap(sip._Tap):
    """Every UDP datagram the relay sends to (ip, port): (t, sport,
    payload) in order of arrival (time.monotonic())."""

    def __init__(self, ns, dev, relay_ip, ip, port, **kw):
        self.relay_ip, self.ip, self.port = relay_ip, ip, port
        self.rx = []
        super().__init__(ns, dev, **kw)

    def on_frame(self, data, pkttype, t):
        u = e2e.parse_udp(data)
        if (u is None or pkttype == sip.PACKET_OUTGOING or u['src'] != self.relay_ip
                or u['dst'] != self.ip or u['dport'] != self.port):
            return
        self.rx.append((t, u['sport'], bytes(u['payload']), u['ip_ok'] and u['udp_ok']))

    def packets(self):
        with self._lock:
            return list(self.rx)


def write_prompt(pdir, build):
    """A 1 s 8000 Hz WAV of a tone rising 300..1500 Hz, through
    rtpb-makeann into pdir/hold.0 and hold.8. @return hold.0's bytes."""
    wav = os.path.join(pdir, 'hold.wav')
    n = 8000 * PROMPT_S
    with wave.open(wav, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        ph, frames = 0.0, bytearray()
        for i in range(n):
            ph += 2 * math.pi * (300 + 1200 * i / n) / 8000
            frames += struct.pack('<h', int(12000 * math.sin(ph)))
        w.writeframes(bytes(frames))
    tool = os.path.join(os.path.abspath(build), 'tools', 'rtpb-makeann')
    cp = subprocess.run([tool, wav, os.path.join(pdir, 'hold')], capture_output=True,
                        text=True, timeout=30)
    check(cp.returncode == 0, 'rtpb-makeann %s: exit %d %s' % (wav, cp.returncode,
                                                                cp.stderr[-300:]))
    os.unlink(wav)
    with open(os.path.join(pdir, 'hold.0'), 'rb') as f:
        data = f.read()
    check(len(data) == n and os.path.getsize(os.path.join(pdir, 'hold.8')) == n,
          'hold.0 and hold.8: %d bytes each (%d)' % (n, len(data)))
    return data


def percentile(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(math.ceil(q * len(s))) - 1)]


def dp_stat(prefix, key):
    """A dataplane counter summed over its lcores (/rtpbypass/stats:
    play_tx, ..., drop_held)."""
    return e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)[key]


def body(build, prefix):
    sip.preflight()
    relay = e2e.RELAY_IP
    d = e2e.logdir()
    pdir = os.path.join(d, 'prompts')
    os.makedirs(pdir, exist_ok=True)
    prompt = write_prompt(pdir, build)
    with sip.SipTopology() as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix, extra_ctl=[
            '-s', 'udp:%s:%d' % (sip.RELAY_CTL_IP, sip.CTL_PORT), '--prompt-dir', pdir])
        uac_pcap = os.path.join(d, 'uac_pcmu.pcap')
        uas_pcap = os.path.join(d, 'uas_pcmu.pcap')
        tone = sip.write_rtp_pcap(uac_pcap, PLAY_MS // sip.PTIME_MS, UAC_SSRC, UAC_SEQ0)
        sip.write_rtp_pcap(uas_pcap, UAS_PKTS, UAS_SSRC, UAS_SEQ0, payload=tone)
        sip.wait_udp_listen(topo, 'rl', sip.RELAY_CTL_IP, sip.CTL_PORT, 10)
        with sip.CtlTap(topo.proxy, 'eth1', sip.RELAY_CTL_IP) as ctl_tap, \
                RxTap(topo.phone_a, 'eth0', relay, sip.UAC_IP, sip.UAC_MEDIA_PORT) as rx:
            kam = sip.Kamailio(topo, 'px', 'udp:%s:%d' % (sip.PROXY_IP, sip.SIP_PORT),
                               'udp:%s:%d' % (sip.RELAY_CTL_IP, sip.CTL_PORT),
                               defines=[('WITH_PLAYBACK', '')])
            sip.wait_udp_listen(topo, 'px', sip.PROXY_IP, sip.SIP_PORT, 20)
            sip.wait_probe(ctl_tap, 20)
            uas = sip.Sipp(topo, 'pb', 'uas', sip.uas_scenario(uas_pcap), sip.UAS_IP,
                           sip.UAS_MEDIA_PORT, 1, timeout_s=SIPP_TIMEOUT_S)
            sip.wait_udp_listen(topo, 'pb', sip.UAS_IP, sip.SIP_PORT, 10)
            uac = sip.Sipp(topo, 'pa', 'uac', uac_scenario(uac_pcap), sip.UAC_IP,
                sip.UAC_MEDIA_PORT, 1, target='%s:%d' % (sip.UAS_IP, sip.SIP_PORT),
                rsa='%s:%d' % (sip.PROXY_IP, sip.SIP_PORT), rate=1, limit=1,
                timeout_s=SIPP_TIMEOUT_S)
            rc_uac = uac.wait(SIPP_TIMEOUT_S + 15)
            rc_uas = uas.wait(SIPP_TIMEOUT_S + 15)
            ctl_tap.stop()
            rx.stop()
            exchanges = ctl_tap.exchanges()
            pkts = rx.packets()
        check(rc_uac == 0 and rc_uas == 0, 'sipp UAC and UAS exit 0 (%s, %s)' % (rc_uac, rc_uas))

        # -- the protocol -------------------------------------------------
        calls = [ex for ex in exchanges if ex['cmd'][:1] in 'ULPSD']
        for line in sip.short(calls, limit=14):
            e2e.log('kamailio -> control: %s' % line)
        plays = [ex for ex in exchanges if ex['cmd'].split()[:1] == ['P-1']]
        stops = [ex for ex in exchanges if ex['cmd'].split()[:1] == ['S']]
        check(len(plays) == 1 and plays[0]['replies'][:1] == ['0'],
              'one P-1 (stream2uac), answered 0: %s' % sip.short(plays))
        check(plays[0]['cmd'].split()[2:4] == ['hold', 'session'],
              'P-1 callid hold session ... (%r)' % plays[0]['cmd'])
        check(len(stops) == 1 and stops[0]['replies'][:1] == ['0'],
              'one S (stop_stream2uac), answered 0: %s' % sip.short(stops))
        t_play, t_stop = plays[0]['t'], stops[0]['t_reply']

        # -- what the caller received --------------------------------------
        check(all(p[3] for p in pkts), 'every packet to the caller has good checksums')
        rtp = []
        for t, sport, pl, _ in pkts:
            if len(pl) < 12 or pl[0] != 0x80:
                continue
            seq, ts, ssrc = struct.unpack('!HII', pl[2:12])
            rtp.append(dict(t=t, sport=sport, m=pl[1] >> 7, pt=pl[1] & 0x7f, seq=seq,
                            ts=ts, ssrc=ssrc, payload=pl[12:]))
        callee = [p for p in rtp if p['ssrc'] == UAS_SSRC]
        played = [p for p in rtp if p['ssrc'] != UAS_SSRC]
        check(played, 'the caller received the prompt')
        ssrcs = {p['ssrc'] for p in played}
        check(len(ssrcs) == 1, 'the prompt has one SSRC (%s)' % [hex(s) for s in ssrcs])
        check(len({p['sport'] for p in rtp}) == 1,
              'prompt and callee media come from one relay port (%s)'
              % sorted({p['sport'] for p in rtp}))
        n = len(played)
        e2e.log('prompt: %d packets to the caller, SSRC %#x, first seq %d ts %d' % (
            n, played[0]['ssrc'], played[0]['seq'], played[0]['ts']))
        e2e.log('first prompt packets (ms after P, seq, marker): %s' % [
            ('%.1f' % ((p['t'] - t_play) * 1000), p['seq'], p['m']) for p in played[:4]])
        e2e.log('dataplane: play_tx %d, play_stale %d, play_nopeer %d, drops held %d, '
                'neigh_pending %d' % tuple(dp_stat(prefix, k) for k in (
                    'play_tx', 'play_stale', 'play_nopeer', 'drop_held',
                    'drop_neigh_pending')))
        check(all(p['pt'] == 0 for p in played), 'prompt packets are PCMU (PT 0)')
        # The L that opens the caller's relay socket comes just before the
        # P: the dataplane may not have resolved the caller's MAC yet when
        # the first packet is due. It drops it, counted as play_nopeer, as
        # it drops a relayed packet then (dp_nexthop.h); the prompt goes on.
        lost = dp_stat(prefix, 'play_nopeer')
        check(lost <= 2 and dp_stat(prefix, 'play_stale') == 0,
              'at most the first 2 prompt packets lost to next-hop resolution (%d)' % lost)
        check(played[0]['m'] == (1 if lost == 0 else 0) and all(p['m'] == 0 for p in played[1:]),
              'the marker bit on the first prompt packet only%s' % (
                  '' if lost == 0 else ' (lost: the first received has none)'))
        check(all((played[i]['seq'] - played[0]['seq']) & 0xffff == i for i in range(n)),
              'prompt sequence numbers consecutive, in order, none lost')
        check(all((played[i]['ts'] - played[0]['ts']) & 0xffffffff == 160 * i
                  for i in range(n)), 'prompt timestamps + 160 per packet')
        per_pass = len(prompt) // sip.SAMPLES
        bad = [i for i in range(n) if played[i]['payload'] !=
               prompt[((i + lost) % per_pass) * sip.SAMPLES:
                      ((i + lost) % per_pass + 1) * sip.SAMPLES]]
        check(not bad, 'prompt payloads are hold.0 byte for byte, looping every %d '
              'packets (%d differ, first %s)' % (per_pass, len(bad), bad[:3]))
        check(n > per_pass, 'the prompt looped (%d packets, %d a pass)' % (n, per_pass))

        # -- the spacing ---------------------------------------------------
        gaps = [(played[i]['t'] - played[i - 1]['t']) * 1000 for i in range(1, n)]
        mean = sum(gaps) / len(gaps)
        p99 = percentile(gaps, 0.99)
        e2e.log('prompt spacing: mean %.3f ms, p50 %.3f ms, p99 %.3f ms, min %.3f ms, '
                'max %.3f ms over %d gaps' % (mean, percentile(gaps, 0.5), p99, min(gaps),
                                             max(gaps), len(gaps)))
        check(abs(mean - 20.0) <= 2.0, 'mean spacing 20 +- 2 ms (%.3f)' % mean)
        span = (played[-1]['t'] - played[0]['t']) * 1000
        expect(abs(span - 20.0 * (n - 1)) <= 40.0,
               'the prompt keeps its grid: %d packets over %.1f ms' % (n, span))

        # -- hold and release ----------------------------------------------
        during = [p for p in callee if played[0]['t'] <= p['t'] <= t_stop]
        check(not during, 'no callee media reached the caller while the prompt '
              'played (%d packets)' % len(during))
        late = [p for p in played if p['t'] > t_stop + 0.1]
        check(not late, 'no prompt packet 100 ms after S (%d)' % len(late))
        after = [p for p in callee if p['t'] > t_stop]
        e2e.log('callee packets to the caller: %d before the prompt, %d after S' % (
            len([p for p in callee if p['t'] < played[0]['t']]), len(after)))
        check(len(after) >= (AFTER_MS // sip.PTIME_MS) // 2,
              'the callee media reaches the caller again after S (%d packets in %d ms)'
              % (len(after), AFTER_MS))
        check(all(p['payload'] == tone for p in after), 'callee payloads unchanged')
        held = dp_stat(prefix, 'drop_held')
        check(held >= (PLAY_MS // sip.PTIME_MS) // 2,
              "the dataplane held the callee's media (%d dropped as held)" % held)
        e2e.log('P at %.3f s, first prompt packet %.1f ms later' % (
            t_play, (played[0]['t'] - t_play) * 1000))

        # -- counters ------------------------------------------------------
        g = e2e.rtpproxy_cmd(topo.relay, 'G nplrs_created nplrs_destroyed npkts_played',
                             sock=(sip.RELAY_CTL_IP, sip.CTL_PORT))
        e2e.log('G nplrs_created nplrs_destroyed npkts_played -> %s' % g)
        vals = [int(x) for x in g.split()]
        check(vals[:2] == [1, 1], 'one player created and destroyed (%s)' % g)
        check(vals[2] == n + lost and dp_stat(prefix, 'play_tx') == n,
              'npkts_played the packets received and lost (%d + %d), play_tx those '
              'received' % (n, lost))
        kam.proc.stop(timeout=10)
        e2e.stop_relay(dp, ctl)


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
