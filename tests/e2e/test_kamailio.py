#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_kamailio: real SIP software drives the relay (issue 4).

In namespaces this test creates (rtpb_e2e, rtpb_sip.SipTopology):

    UAC   sipp, phone A's namespace, 192.0.2.10 (SIP 5060, RTP 16000)
    UAS   sipp, phone B's namespace, 198.51.100.20 behind the router
          (SIP 5060, RTP 26000)
    proxy Kamailio 5.6 (Debian's), 192.0.2.5:5060, running
          deploy/kamailio/kamailio.cfg: rtpproxy_manage() on INVITE, on
          the 200 OK and on BYE, $rtpstat (a Q) logged before each D; its
          rtpproxy module talks to control at udp:203.0.113.2:22222 over a
          private control link
    relay rtpbypass-dataplane on net_af_xdp (192.0.2.1/24) and
          rtpbypass-control, as rtpb_e2e.start_relay() starts them

The UAC places N_CALLS calls through Kamailio to the UAS (RATE per second,
all at once at most); after the ACK each side plays a pcap this test
writes, N_PKTS packets of 20 ms PCMU (G.711 u-law, PT 0, 1 kHz tone) with
sipp's play_pcap_audio, to the address and port of the SDP it received;
the UAC hangs up HOLD_MS after the ACK.  Taps (AF_PACKET sockets) in the
UAC's and UAS's namespaces count every RTP frame each side sends to and
receives from the relay; another on Kamailio's control link records every
rtpproxy command it sends and every reply.

Asserted:
  - Kamailio's probe of the relay: V -> 20040107, VF 20050322 -> 1; every
    command it sent got a reply, none an error, none needed a retransmit;
    per call it sent one U (the UAC's address and RTP port), one L (the
    UAS's), one Q and one D;
  - sipp: both exit 0, N_CALLS successful calls and 0 failed on each side;
  - SDP: the INVITE the UAS received and the 200 OK the UAC received name
    the relay (c=IN IP4 192.0.2.1) and the port control gave in the U
    (to the UAS) and the L (to the UAC) reply of that call;
  - RTP in all four directions: each side sent its N_PKTS packets of each
    call to the relay port of the SDP it got (UAC -> relay, UAS -> relay);
    in every call both streams reached the other side from that port,
    intact (RTP v2 PCMU, the sender's SSRC, the tone, valid checksums),
    never twice (relay -> UAS, relay -> UAC), and over all calls at least
    99 % of each; no RTP went to or came from anywhere else;
  - every packet not delivered is one the relay counted as dropped, and
    none was dropped as no_stream or no_peer: a session control confirmed
    to Kamailio is in the dataplane before a phone can use it (it fails
    while control replies to U/L before the dataplane applied them: sipp
    starts sending within a millisecond of the 200 OK);
  - counters: the relay's 'relayed' and the sum of its per-lcore counters
    (/rtpbypass/lcore) and control's I 'packets transmitted' grew by
    exactly the packets the two sides received; each call's Q (Kamailio's
    $rtpstat at BYE, logged and seen on the wire) has nrelayed = what the
    two sides received of that call and npkts_ina + npkts_ino between that
    and what they sent; I 'packets received' grew by the sum of those;
  - the BYE's D leaves nothing: I shows 0 active sessions and 0 streams,
    and N_CALLS more sessions created;
  - no mbuf leaked; every process, namespace and DPDK file is gone.

Usage (root): test_kamailio.py --build BUILD_DIR
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
import rtpb_sip as sip  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

N_CALLS = 20
N_PKTS = 150                    # 3 s of 20 ms packets per side and call
RATE = 10                       # calls per second
HOLD_MS = N_PKTS * sip.PTIME_MS + 1000   # ACK -> BYE: the pcap, then 1 s
MIN_DELIVERED = 0.99
UAC_SSRC, UAC_SEQ0 = 0x0a0c0001, 1000
UAS_SSRC, UAS_SEQ0 = 0x0a5e0002, 40000
SIPP_TIMEOUT_S = 45             # sipp's own -timeout


def stats(prefix):
    return e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)


def lcore_stats(prefix, n_workers):
    """/rtpbypass/lcore,<i> for every lcore index 0..n_workers."""
    return [e2e.telemetry(prefix, '/rtpbypass/lcore,%d' % i, unwrap=True)
            for i in range(n_workers + 1)]


def lost_packets(sent, got, seq0):
    """' (missing: packet indexes ...)' for the packets of sent (a tap
    entry) that got lacks, '' if none."""
    lost = sorted((q - seq0) & 0xffff for q in sent['seqs'] - got['seqs'])
    return ' (missing: packet %s)' % ', '.join(map(str, lost[:10])) if lost else ''


def body(build, prefix):
    sip.preflight()
    t_start = time.monotonic()
    relay = e2e.RELAY_IP
    d = e2e.logdir()
    with sip.SipTopology() as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix, extra_ctl=[
            '-s', 'udp:%s:%d' % (sip.RELAY_CTL_IP, sip.CTL_PORT)])
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)  # noqa: E731
        info0 = e2e.parse_info(cmd('I'))
        check(info0.get('active sessions') == 0, 'control starts with no session: %r' % info0)

        # The media both sides play.
        uac_pcap = os.path.join(d, 'uac_pcmu.pcap')
        uas_pcap = os.path.join(d, 'uas_pcmu.pcap')
        payload = sip.write_rtp_pcap(uac_pcap, N_PKTS, UAC_SSRC, UAC_SEQ0)
        sip.write_rtp_pcap(uas_pcap, N_PKTS, UAS_SSRC, UAS_SEQ0, payload=payload)
        pk = sip.read_rtp_pcap(uac_pcap)
        check(len(pk) == N_PKTS and pk[-1][0] == (N_PKTS - 1) * sip.PTIME_MS * 1000,
              'pcaps written: %d PCMU packets, 20 ms apart, per side' % N_PKTS)

        # Kamailio, once control listens on the control link.
        sip.wait_udp_listen(topo, 'rl', sip.RELAY_CTL_IP, sip.CTL_PORT, 10)
        with sip.call_taps(topo, relay, payload) as (ctl_tap, uac_tap, uas_tap):
            kam = sip.Kamailio(topo, 'px', 'udp:%s:%d' % (sip.PROXY_IP, sip.SIP_PORT),
                               'udp:%s:%d' % (sip.RELAY_CTL_IP, sip.CTL_PORT))
            sip.wait_udp_listen(topo, 'px', sip.PROXY_IP, sip.SIP_PORT, 20)
            probe = sip.wait_probe(ctl_tap, 20)
            for line in sip.short(probe):
                e2e.log('kamailio probe: %s' % line)

            s0 = stats(prefix)
            nw = s0['n_workers']
            l0 = lcore_stats(prefix, nw)
            t_calls = time.monotonic()
            uac, uas, rc_uac, rc_uas = sip.place_calls(topo, uac_pcap, uas_pcap, N_CALLS,
                                                       HOLD_MS, RATE, SIPP_TIMEOUT_S)
            t_calls = time.monotonic() - t_calls
            for tap in (uac_tap, uas_tap, ctl_tap):
                tap.stop()
            exchanges = ctl_tap.exchanges()
            uac_out, uac_in = uac_tap.snapshot()
            uas_out, uas_in = uas_tap.snapshot()
        s1 = stats(prefix)
        l1 = lcore_stats(prefix, nw)
        info1 = e2e.parse_info(cmd('I'))
        e2e.log('calls took %.1f s' % t_calls)

        # -- sipp --------------------------------------------------------
        st_uac, st_uas = uac.stats(), uas.stats()
        for name, st in (('uac', st_uac), ('uas', st_uas)):
            e2e.log('sipp %s: successful %s failed %s retransmissions %s' % (
                name, st.get('SuccessfulCall(C)'), st.get('FailedCall(C)'),
                st.get('Retransmissions(C)')))
        expect(rc_uac == 0 and rc_uas == 0, 'sipp UAC and UAS exit 0 (%s, %s)%s' % (
            rc_uac, rc_uas, '' if rc_uac == rc_uas == 0 else
            ': errors UAC %r UAS %r' % (uac.errors()[-800:], uas.errors()[-800:])))
        check(st_uac.get('SuccessfulCall(C)') == str(N_CALLS)
              and st_uac.get('FailedCall(C)') == '0'
              and st_uas.get('SuccessfulCall(C)') == str(N_CALLS)
              and st_uas.get('FailedCall(C)') == '0',
              'sipp: %d calls completed, 0 failed, on both sides' % N_CALLS)

        # -- the rtpproxy protocol as Kamailio spoke it ---------------------
        for line in sip.short(exchanges, limit=8):
            e2e.log('kamailio -> control: %s' % line)
        no_reply = [ex for ex in exchanges if not ex['replies']]
        errors = [ex for ex in exchanges if ex['replies'] and ex['replies'][0].startswith('E')]
        retrans = [ex for ex in exchanges if ex['sends'] > 1]
        expect(not no_reply, 'every command Kamailio sent got a reply: %s' % sip.short(no_reply))
        expect(not errors, 'no command Kamailio sent got an error: %s' % sip.short(errors))
        expect(not retrans, 'no command needed a retransmission: %s' % sip.short(retrans))
        by_cmd = {}
        for ex in exchanges:
            by_cmd.setdefault(ex['cmd'].split()[0] if ex['cmd'].split() else '', []).append(ex)
        e2e.log('commands: %s' % ', '.join('%s x%d' % (k, len(v))
                                           for k, v in sorted(by_cmd.items())))
        v = [ex for ex in exchanges if ex['cmd'].strip() == 'V']
        vf = [ex for ex in exchanges if ex['cmd'].strip() == 'VF 20050322']
        expect(v and all(ex['replies'][:1] == ['20040107'] for ex in v)
               and vf and all(ex['replies'][:1] == ['1'] for ex in vf),
               'probe: V -> 20040107, VF 20050322 -> 1')
        calls = sip.call_commands(exchanges)

        # -- per call: commands, SDP, RTP --------------------------------
        invites = {}
        for m in uac.messages():
            if m['dir'] == 'sent' and m['first'].startswith('INVITE '):
                invites.setdefault(m['headers'].get('call-id'), m)
        uas_got = {m['headers'].get('call-id'): m for m in uas.messages()
                   if m['dir'] == 'received' and m['first'].startswith('INVITE ')}
        uac_got = {}
        for m in uac.messages():
            if m['dir'] == 'received' and m['first'].startswith('SIP/2.0 200') \
                    and 'INVITE' in m['headers'].get('cseq', '') and m['body']:
                uac_got.setdefault(m['headers'].get('call-id'), m)
        check(len(invites) == N_CALLS, 'the UAC sent %d INVITEs (%d)' % (N_CALLS, len(invites)))

        ports_used = set()
        tot = dict(uac_sent=0, uas_got=0, uas_sent=0, uac_got=0)
        worst = 1.0
        short_calls = []
        q_sum = dict(ina_ino=0, nrelayed=0)
        rtpstat = kam.rtpstat_lines()
        for cid in sorted(invites):
            c = calls.get(cid, {'U': [], 'L': [], 'Q': [], 'D': []})
            good = expect(len(c['U']) == 1 and len(c['L']) == 1 and len(c['Q']) == 1
                          and len(c['D']) == 1,
                          '%s: Kamailio sent one U, L, Q and D (%d, %d, %d, %d)'
                          % (cid, len(c['U']), len(c['L']), len(c['Q']), len(c['D'])))
            if not good:
                continue
            u, l_, q, dd = c['U'][0], c['L'][0], c['Q'][0], c['D'][0]
            mu, ml = sip.UL_RE.match(u['cmd']), sip.UL_RE.match(l_['cmd'])
            expect(mu and mu.group(4) == sip.UAC_IP and int(mu.group(5)) == sip.UAC_MEDIA_PORT
                   and ml and ml.group(4) == sip.UAS_IP
                   and int(ml.group(5)) == sip.UAS_MEDIA_PORT,
                   '%s: U names the UAC %s:%d, L the UAS %s:%d: %r, %r'
                   % (cid, sip.UAC_IP, sip.UAC_MEDIA_PORT, sip.UAS_IP, sip.UAS_MEDIA_PORT,
                      u['cmd'], l_['cmd']))
            try:
                p0, a0, _ = e2e.parse_ul_reply(u['replies'][0])
                p1, a1, _ = e2e.parse_ul_reply(l_['replies'][0])
            except (e2e.E2EError, IndexError) as ex:
                expect(False, '%s: U/L replies are ports: %s' % (cid, ex))
                continue
            expect(a0 == relay and a1 == relay and p0 != p1,
                   '%s: U -> %d %s, L -> %d %s' % (cid, p0, a0, p1, a1))
            ports_used.update((p0, p1))
            # What each side got in the SDP.
            sdp_uas = sip.parse_sdp(uas_got[cid]['body']) if cid in uas_got else None
            sdp_uac = sip.parse_sdp(uac_got[cid]['body']) if cid in uac_got else None
            expect(sdp_uas and sdp_uas['media'] and sdp_uas['media'][0]['c'] == ('IN', 'IP4', relay)
                   and sdp_uas['media'][0]['port'] == p0,
                   '%s: the UAS got an offer naming the relay %s:%d: %s'
                   % (cid, relay, p0, sdp_uas and sdp_uas['media']))
            expect(sdp_uac and sdp_uac['media'] and sdp_uac['media'][0]['c'] == ('IN', 'IP4', relay)
                   and sdp_uac['media'][0]['port'] == p1,
                   '%s: the UAC got an answer naming the relay %s:%d: %s'
                   % (cid, relay, p1, sdp_uac and sdp_uac['media']))
            # RTP: UAC -> relay p1 -> (from p0) UAS, UAS -> relay p0 -> (from p1) UAC.
            e = dict(n=0, seqs=set(), dups=0, ssrcs={}, bad=0)
            ao, ui = uac_out.get(p1, e), uas_in.get(p0, e)
            uo, ai = uas_out.get(p0, e), uac_in.get(p1, e)
            tot['uac_sent'] += ao['n']
            tot['uas_got'] += ui['n']
            tot['uas_sent'] += uo['n']
            tot['uac_got'] += ai['n']
            r1 = ui['n'] / ao['n'] if ao['n'] else 0.0
            r2 = ai['n'] / uo['n'] if uo['n'] else 0.0
            worst = min(worst, r1, r2)
            expect(ao['n'] == N_PKTS and uo['n'] == N_PKTS and ao['bad'] == 0 and uo['bad'] == 0,
                   '%s: UAC -> relay:%d %d packets, UAS -> relay:%d %d packets (of %d each)'
                   % (cid, p1, ao['n'], p0, uo['n'], N_PKTS))
            expect(ui['n'] > 0 and ui['bad'] == 0 and ui['dups'] == 0
                   and set(ui['ssrcs']) == {UAC_SSRC} and ui['seqs'] <= ao['seqs'],
                   '%s: relay:%d -> UAS %d of the UAC\'s %d (%.1f %%), intact, once%s'
                   % (cid, p0, ui['n'], ao['n'], 100 * r1, lost_packets(ao, ui, UAC_SEQ0)))
            expect(ai['n'] > 0 and ai['bad'] == 0 and ai['dups'] == 0
                   and set(ai['ssrcs']) == {UAS_SSRC} and ai['seqs'] <= uo['seqs'],
                   '%s: relay:%d -> UAC %d of the UAS\'s %d (%.1f %%), intact, once%s'
                   % (cid, p1, ai['n'], uo['n'], 100 * r2, lost_packets(uo, ai, UAS_SEQ0)))
            if (ui['n'] < ao['n'] or ai['n'] < uo['n']) and ao['n'] and uo['n']:
                # When the lost ones left, next to control's L reply.
                short_calls.append('%s: lost UAC->UAS%s, UAS->UAC%s; first packets sent at '
                                   'UAC %s, UAS %s ms after the L reply' % (
                                       cid, lost_packets(ao, ui, UAC_SEQ0) or ' none',
                                       lost_packets(uo, ai, UAS_SEQ0) or ' none',
                                       ['%+.1f' % (1000 * (x - l_['t_reply']))
                                        for x in ao['first_ts']],
                                       ['%+.1f' % (1000 * (x - l_['t_reply']))
                                        for x in uo['first_ts']]))
            # Q: Kamailio's $rtpstat before the D, on the wire and in its log.
            qr = q['replies'][0] if q['replies'] else ''
            expect(rtpstat.get(cid) == qr,
                   '%s: Kamailio logged $rtpstat = the Q reply %r (%r)'
                   % (cid, qr, rtpstat.get(cid)))
            qv = qr.split()
            if expect(len(qv) == 5 and all(x.lstrip('-').isdigit() for x in qv),
                      '%s: %r -> %r is a 5-number Q reply' % (cid, q['cmd'], qr)):
                ttl, ina, ino, nrel, ndrop = (int(x) for x in qv)
                got, sent = ui['n'] + ai['n'], ao['n'] + uo['n']
                expect(nrel == got and got <= ina + ino <= sent,
                       '%s: Q nrelayed %d = the %d packets the sides received; npkts_ina %d '
                       '+ npkts_ino %d within [%d, %d sent]' % (cid, nrel, got, ina, ino, got,
                                                                sent))
                q_sum['ina_ino'] += ina + ino
                q_sum['nrelayed'] += nrel
            expect(dd['replies'][:1] == ['0'], '%s: %r -> %r' % (cid, dd['cmd'], dd['replies']))

        stray = {'uac out': set(uac_out) - ports_used, 'uac in': set(uac_in) - ports_used,
                 'uas out': set(uas_out) - ports_used, 'uas in': set(uas_in) - ports_used}
        expect(not any(stray.values()) and uac_tap.stray == 0 and uas_tap.stray == 0
               and not uac_tap.truncated and not uas_tap.truncated,
               'no RTP to or from any other relay port or endpoint port: %r' % stray)
        got = tot['uas_got'] + tot['uac_got']
        sent = tot['uac_sent'] + tot['uas_sent']
        e2e.log('RTP over %d calls: UAC -> relay %d, relay -> UAS %d (%.2f %%), UAS -> relay '
                '%d, relay -> UAC %d (%.2f %%); worst call direction %.1f %%'
                % (N_CALLS, tot['uac_sent'], tot['uas_got'],
                   100.0 * tot['uas_got'] / max(1, tot['uac_sent']), tot['uas_sent'],
                   tot['uac_got'], 100.0 * tot['uac_got'] / max(1, tot['uas_sent']),
                   100 * worst))
        for line in short_calls:
            e2e.log(line)
        expect(tot['uac_sent'] == N_CALLS * N_PKTS and tot['uas_sent'] == N_CALLS * N_PKTS,
               'RTP UAC -> relay and UAS -> relay: each side sent its %d packets to the relay'
               ' ports of the SDP it got' % (N_CALLS * N_PKTS))
        expect(tot['uas_got'] >= MIN_DELIVERED * tot['uac_sent']
               and tot['uac_got'] >= MIN_DELIVERED * tot['uas_sent'],
               'RTP relay -> UAS and relay -> UAC: at least %.0f %% delivered each way (%d of '
               '%d, %d of %d)' % (100 * MIN_DELIVERED, tot['uas_got'], tot['uac_sent'],
                                  tot['uac_got'], tot['uas_sent']))

        # -- the relay's and control's counters ----------------------------
        dlt = e2e.stats_delta(s0, s1)
        e2e.log('relay: %s' % dlt)
        lc = [e2e.stats_delta(a, b) for a, b in zip(l0, l1)]
        e2e.log('relay per lcore: %s' % lc)
        lc_relayed = sum(x.get('relayed', 0) for x in lc)
        expect(dlt.get('relayed', 0) == got and lc_relayed == got,
               "relay: relayed +%d, per-lcore sum +%d = the %d packets the sides received"
               % (dlt.get('relayed', 0), lc_relayed, got))
        expect(dlt.get('rx_pkts', 0) >= sent and sum(x.get('rx_pkts', 0) for x in lc)
               == dlt.get('rx_pkts', 0),
               'relay: rx_pkts +%d (at least the %d RTP packets sent to it), per lcore %s'
               % (dlt.get('rx_pkts', 0), sent, [x.get('rx_pkts', 0) for x in lc]))
        # Every RTP packet not delivered is one the relay counted as dropped
        # (ARP/NDP drops aside: the sides sent nothing else to it).
        drops = {k: v for k, v in dlt.items() if k.startswith('drop_')
                 and not k.startswith(('drop_arp', 'drop_nd'))}
        expect(sum(drops.values()) == sent - got,
               'relay: the %d packets not delivered are the %d it counted as dropped: %s'
               % (sent - got, sum(drops.values()), drops))
        # A session control confirmed to Kamailio (the U/L reply) must be in
        # the dataplane before a phone can use it: rtpproxy binds the socket
        # and pre-fills the peer before it replies.  Packets a side sends as
        # soon as it has the SDP are dropped as no_stream (the new leg's port
        # is not in the flow table yet) or no_peer (the other leg has no
        # out stream yet) when the dataplane applies control's messages
        # after the phones' first packets arrive.
        racy = {k: drops.get(k, 0) for k in ('drop_no_stream', 'drop_no_peer')}
        expect(not any(racy.values()),
               'relay: no packet of a session control had confirmed was dropped for want of '
               'it in the dataplane (%s)%s' % (racy, '' if not any(racy.values()) else
                                               ': the U/L reply came before the dataplane '
                                               'applied it; see the first packets above'))
        di = {k: info1.get(k, 0) - info0.get(k, 0) for k in info1}
        e2e.log('control I: %r (delta %r)' % (info1, di))
        expect(di.get('packets transmitted') == got,
               "I: packets transmitted +%d = the %d packets the sides received"
               % (di.get('packets transmitted', -1), got))
        expect(di.get('packets received') == q_sum['ina_ino'] and q_sum['nrelayed'] == got,
               "I: packets received +%d = the calls' Q npkts_ina + npkts_ino (%d); Q nrelayed "
               "sum %d" % (di.get('packets received', -1), q_sum['ina_ino'], q_sum['nrelayed']))
        check(info1.get('active sessions') == 0 and info1.get('active streams') == 0
              and di.get('sessions created') == N_CALLS,
              "after the BYEs' D: I shows 0 active sessions, 0 streams, %d sessions created"
              % N_CALLS)

        # -- Kamailio's log ---------------------------------------------------
        klog = kam.log()
        bad = [ln for ln in klog.splitlines()
               if re.search(r'\b(ERROR|CRITICAL|ALERT)\b', ln) and 'rtpproxy' in ln.lower()]
        expect(not bad, "Kamailio logged no rtpproxy error: %s" % bad[:5])

        kam.proc.stop(timeout=10)
        e2e.stop_relay(dp, ctl)
        names = list(topo.ns.values())
    check(not [n for n in names if e2e.netns_exists(n)], 'every namespace is gone')
    e2e.log('test took %.1f s' % (time.monotonic() - t_start))


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
