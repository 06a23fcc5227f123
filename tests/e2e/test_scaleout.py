#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_scaleout: one Kamailio spreads calls over two relays by weight and
drops a dead one (issue 21 item 1, DESIGN.md section 7).

In namespaces this test creates (rtpb_sip.SipTopology(relays=2)):

    UAC A  sipp, phone A's namespace, 192.0.2.10 (SIP 5060, RTP 16000):
           the calls placed while both relays live
    UAC B  sipp, phone A's namespace, 192.0.2.11 (SIP 5060, RTP 16000):
           the calls placed after relay 1 died
    UAS A  sipp, phone B's namespace, 198.51.100.20 behind the router (SIP
           5060, RTP 26000): answers UAC A's calls
    UAS B  the same for UAC B's calls (SIP 5062, RTP 26100), so that a relay
           port reused by a later call never mixes two calls in a tap
    proxy  Kamailio 5.6, 192.0.2.5:5060, running deploy/kamailio/kamailio.cfg
           with WITH_SCALEOUT: rtpproxy_sock is the set
           "udp:203.0.113.2:22222=2 udp:203.0.113.3:22222=1",
           rtpproxy_tout 1, rtpproxy_retr 2, rtpproxy_disable_tout 20
    relay 1  its own namespace (host): a dataplane on its own veth with
           192.0.2.1, a control (media ports 35000-35499) on the control link
           203.0.113.2
    relay 2  another namespace: a dataplane with 192.0.2.2, a control (ports
           35500-35999) on 203.0.113.3
    Both dataplanes' worker lcores busy-poll CPU 1 (their main lcores, which
    sleep between ticks, CPU 0): CPU 0 is left to Kamailio, sipp, the two
    controls and this test's taps.

How the module picks (Kamailio's select_rtpp_node(), rtpb_sip.rtpp_select()):
the sum of the Call-ID's bytes, & 0xff, modulo the sum of the enabled
relays' weights (3), walking the list: 0 and 1 -> relay 1, 2 -> relay 2.
sipp's Call-IDs are '<call number>-<pid>@<ip>': calls 1..9 have sums that
follow each other (+1), 9 -> 10 adds 40 (= +1 modulo 3), so modulo 3 the
sums step by one from call to call, except where the & 0xff wraps (256 is
1 modulo 3: one value repeats).  N_A = 12 calls span less than 256, so
they wrap at most once: the sequence of picks is the cycle (1, 1, 2) over
at most two runs, each run of L calls giving relay 1 floor(2L/3) or
ceil(2L/3) of them; so relay 1 gets 8 of the 12 calls, 7 or 9 when a wrap
splits the cycle, and relay 2 the rest (4, 5 or 3).  The test also
predicts each call's relay from its Call-ID and checks the module sent its
U, L, Q and D there.

Steps and what is asserted:
  1. UAC A places N_A calls (RATE_A per second), each playing N_PKTS
     packets of 20 ms PCMU each way, hanging up HOLD_MS after its ACK.
     Once every call is set up: each control's I 'sessions created' grew
     by the calls predicted for it (8 +/- 1 on relay 1, the rest on relay
     2), each call's U and L went to its predicted relay and were answered
     by it, and each side's SDP names that relay's address and port.
  2. Relay 1's control and dataplane get SIGKILL (by PID) mid-call.
     Relay 2's calls go on untouched: of their media sent from 1 s before
     the kill to 3 s after it, both ways, no packet is lost (the figure
     the test reports; over the whole call, at least 99 % arrive and none
     twice: a loaded machine may lose a packet elsewhere in a call);
     relay 1's calls had media before and lose the rest (the kill took
     effect); every call's SIP completes all the same, and their BYE's D
     goes to relay 2 (the set picks it once relay 1 is disabled), which
     answers E50 (no such session).
  3. UAC B places N_B new calls right after the kill: all succeed, all
     their U and L are answered by relay 2 and their SDP names relay 2;
     the module found relay 1 dead (Kamailio logs that it disabled
     udp:203.0.113.2:22222, and no other relay: the first command sent
     to it after the kill draws an ICMP port unreachable from its host,
     and the module's connected socket fails the next try at once); no
     command to relay 1 got a reply after the kill; the new calls' media
     arrive (>= 99 % each way, none towards relay 1's address).
  4. At the end relay 2's I shows 0 active sessions and its telemetry's
     'relayed' grew by exactly the packets its calls delivered; relay 2's
     dataplane leaked no mbuf; every namespace and DPDK file is gone.

Usage (root): test_scaleout.py --build BUILD_DIR
"""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
import rtpb_sip as sip  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

WEIGHTS = (2, 1)                # relay 1, relay 2, in rtpproxy_sock order
N_A = 12                        # calls while both relays live
N_B = 6                         # calls after relay 1 died
RATE_A, RATE_B = 6, 3           # calls per second
N_PKTS = 400                    # 8 s of 20 ms packets per side and call
HOLD_MS = N_PKTS * sip.PTIME_MS + 1000
MEDIA_BEFORE_KILL_S = 1.5       # every call has had this much media
MIN_DELIVERED = 0.99            # of a call's packets, each way
KILL_WINDOW_S = (1.0, 3.0)      # before and after the kill: no packet lost
UAS_B_SIP_PORT, UAS_B_MEDIA_PORT = 5062, 26100
SIPP_TIMEOUT_S = 60
UAC_SSRC, UAC_SEQ0 = 0x5ca10001, 1000
UAS_SSRC, UAS_SEQ0 = 0x5ca10002, 40000
# Each relay host: namespace role, relay address, control link address,
# media ports (disjoint, so a port names its relay).
RELAYS = (('rl', e2e.RELAY_IP, sip.RELAY_CTL_IP, (35000, 35499)),
          ('r2', sip.RELAY2_IP, sip.RELAY2_CTL_IP, (35500, 35999)))
# Both workers on CPU 1, both main lcores on CPU 0 (start_dataplane()
# places a second worker on 2 CPUs the same way).
LCORES = ['--lcores', '0@0,1@1']
DEAD = 0                        # the relay killed: relay 1, weight 2
LIVE = 1


def relay_of_port(port):
    """The relay index whose control hands out port, or None."""
    for i, r in enumerate(RELAYS):
        if r[3][0] <= port <= r[3][1]:
            return i
    return None


def wait_sessions(cmds, want, timeout):
    """Wait (bounded) until the relays' I 'active sessions' sum to want;
    @return the I replies, parsed."""
    deadline = time.monotonic() + timeout
    while True:
        infos = [e2e.parse_info(c('I')) for c in cmds]
        if sum(i.get('active sessions', 0) for i in infos) >= want:
            return infos
        if time.monotonic() >= deadline:
            raise e2e.E2ETimeout('%d active sessions on the relays after %.0fs, want %d: %r'
                                 % (sum(i.get('active sessions', 0) for i in infos),
                                    timeout, want, infos))
        time.sleep(0.1)


def call_legs(cid, cmds_by_relay):
    """One call's commands on the relay links: (relay index of its answered
    U, U exchange, L exchange, relay port towards the UAS (U's reply),
    towards the UAC (L's reply)), from the first relay whose U was
    answered; None if none was."""
    for i, calls in enumerate(cmds_by_relay):
        c = calls.get(cid)
        if not c or not c['U'] or not c['L']:
            continue
        u, l_ = c['U'][0], c['L'][0]
        if not u['replies'] or not l_['replies']:
            continue
        try:
            p0, a0, _ = e2e.parse_ul_reply(u['replies'][0])
            p1, a1, _ = e2e.parse_ul_reply(l_['replies'][0])
        except e2e.E2EError:
            return None
        return dict(relay=i, u=u, l=l_, p0=p0, p1=p1, a0=a0, a1=a1)
    return None


def sdp_by_call(uac, uas):
    """{call-id: (the SDP the UAS got in the INVITE, the SDP the UAC got in
    the 200)}, parsed."""
    res = {}
    for m in uas.messages():
        if m['dir'] == 'received' and m['first'].startswith('INVITE ') and m['body']:
            res.setdefault(m['headers'].get('call-id'), [None, None])[0] = \
                sip.parse_sdp(m['body'])
    for m in uac.messages():
        if m['dir'] == 'received' and m['first'].startswith('SIP/2.0 200') \
                and 'INVITE' in m['headers'].get('cseq', '') and m['body']:
            res.setdefault(m['headers'].get('call-id'), [None, None])[1] = \
                sip.parse_sdp(m['body'])
    return res


def invite_call_ids(uac):
    return sorted({m['headers'].get('call-id') for m in uac.messages()
                   if m['dir'] == 'sent' and m['first'].startswith('INVITE ')})


def media(leg, uac_out, uac_in, uas_out, uas_in):
    """A call's four directions from the taps: (UAC sent, UAS got, UAS
    sent, UAC got), each a tap entry (n, seqs, dups, ...)."""
    e = dict(n=0, seqs=set(), dups=0, ssrcs={}, bad=0, first_ts=[])
    return (uac_out.get(leg['p1'], e), uas_in.get(leg['p0'], e),
            uas_out.get(leg['p0'], e), uac_in.get(leg['p1'], e))


def lost_near(sent, got, seq0, t_kill):
    """Packet indexes of sent (a tap entry) that got lacks: (all of them,
    those sent within KILL_WINDOW_S of t_kill).  Packet k left about
    k * PTIME_MS after the first one the sender's tap saw (sipp plays the
    pcap at its pace)."""
    lost = sorted((q - seq0) & 0xffff for q in sent['seqs'] - got['seqs'])
    if not sent['first_ts']:
        return lost, lost
    t0, pt = sent['first_ts'][0], sip.PTIME_MS / 1000.0
    lo = (t_kill - KILL_WINDOW_S[0] - t0) / pt
    hi = (t_kill + KILL_WINDOW_S[1] - t0) / pt
    return lost, [k for k in lost if lo <= k <= hi]


def check_sipp(name, sp, rc, n):
    st = sp.stats()
    e2e.log('sipp %s: successful %s failed %s retransmissions %s' % (
        name, st.get('SuccessfulCall(C)'), st.get('FailedCall(C)'),
        st.get('Retransmissions(C)')))
    expect(rc == 0 and st.get('SuccessfulCall(C)') == str(n) and st.get('FailedCall(C)') == '0',
           'sipp %s: exit 0, %d calls completed, 0 failed (exit %s)%s' % (
               name, n, rc, '' if rc == 0 else ': %r' % sp.errors()[-600:]))


def body(build, prefix):
    sip.preflight()
    t_start = time.monotonic()
    d = e2e.logdir()
    prefixes = (prefix, e2e.unique_prefix())
    relay_ips = tuple(r[1] for r in RELAYS)
    with sip.SipTopology(relays=2) as topo:
        topo.add_phone_a_alt()
        procs = []
        for (role, ip, ctl_ip, ports), pfx in zip(RELAYS, prefixes):
            procs.append(e2e.start_relay(topo, build, pfx, ns=role, addr=ip, lcores=LCORES,
                                         ports=ports,
                                         extra_ctl=['-s', 'udp:%s:%d' % (ctl_ip, sip.CTL_PORT)]))
        cmds = [(lambda c, ns=topo.ns[r[0]]: e2e.rtpproxy_cmd(ns, c)) for r in RELAYS]
        info0 = [e2e.parse_info(c('I')) for c in cmds]
        check(all(i.get('active sessions') == 0 for i in info0),
              'both controls start with no session: %r' % info0)

        uac_pcap = os.path.join(d, 'uac_pcmu.pcap')
        uas_pcap = os.path.join(d, 'uas_pcmu.pcap')
        payload = sip.write_rtp_pcap(uac_pcap, N_PKTS, UAC_SSRC, UAC_SEQ0)
        sip.write_rtp_pcap(uas_pcap, N_PKTS, UAS_SSRC, UAS_SEQ0, payload=payload)

        for r in RELAYS:
            sip.wait_udp_listen(topo, r[0], r[2], sip.CTL_PORT, 10)
        rset = ' '.join('udp:%s:%d=%d' % (r[2], sip.CTL_PORT, w) for r, w in zip(RELAYS, WEIGHTS))
        with sip.CtlTap(topo.proxy, 'eth1', RELAYS[0][2]) as tap1, \
                sip.CtlTap(topo.proxy, 'eth2', RELAYS[1][2]) as tap2, \
                sip.RtpTap(topo.phone_a, 'eth0', sip.UAC_IP, sip.UAC_MEDIA_PORT, relay_ips,
                           payload) as uac_a_tap, \
                sip.RtpTap(topo.phone_a, 'eth0', e2e.PHONE_A_IP2, sip.UAC_MEDIA_PORT,
                           relay_ips, payload) as uac_b_tap, \
                sip.RtpTap(topo.phone_b, 'eth0', sip.UAS_IP, sip.UAS_MEDIA_PORT, relay_ips,
                           payload) as uas_a_tap, \
                sip.RtpTap(topo.phone_b, 'eth0', sip.UAS_IP, UAS_B_MEDIA_PORT, relay_ips,
                           payload) as uas_b_tap:
            ctl_taps = (tap1, tap2)
            kam = sip.Kamailio(topo, 'px', 'udp:%s:%d' % (sip.PROXY_IP, sip.SIP_PORT),
                               'udp:%s:%d' % (RELAYS[0][2], sip.CTL_PORT), children=4,
                               defines=[('WITH_SCALEOUT', ''),
                                        ('RTPPROXY_SET', '"%s"' % rset)])
            sip.wait_udp_listen(topo, 'px', sip.PROXY_IP, sip.SIP_PORT, 20)
            for tap in ctl_taps:
                sip.wait_probe(tap, 20)
            e2e.log("kamailio probed both relays of the set %r" % rset)
            s0 = e2e.telemetry(prefixes[LIVE], '/rtpbypass/stats', unwrap=True)

            # -- 1. calls spread over both relays ---------------------------
            uas_scn = sip.uas_scenario(uas_pcap)
            uas_a = sip.Sipp(topo, 'pb', 'uas_a', uas_scn, sip.UAS_IP, sip.UAS_MEDIA_PORT, N_A,
                             timeout_s=SIPP_TIMEOUT_S)
            uas_b = sip.Sipp(topo, 'pb', 'uas_b', uas_scn, sip.UAS_IP, UAS_B_MEDIA_PORT, N_B,
                             timeout_s=SIPP_TIMEOUT_S, port=UAS_B_SIP_PORT)
            for port in (sip.SIP_PORT, UAS_B_SIP_PORT):
                sip.wait_udp_listen(topo, 'pb', sip.UAS_IP, port, 10)
            uac_scn = sip.uac_scenario(uac_pcap, HOLD_MS)
            uac_a = sip.Sipp(topo, 'pa', 'uac_a', uac_scn, sip.UAC_IP, sip.UAC_MEDIA_PORT, N_A,
                             target='%s:%d' % (sip.UAS_IP, sip.SIP_PORT),
                             rsa='%s:%d' % (sip.PROXY_IP, sip.SIP_PORT), rate=RATE_A,
                             limit=N_A, timeout_s=SIPP_TIMEOUT_S)
            info1 = wait_sessions(cmds, N_A, 15)
            time.sleep(MEDIA_BEFORE_KILL_S)
            created = [info1[i].get('sessions created', 0) - info0[i].get('sessions created', 0)
                       for i in range(2)]

            # -- 2. relay 1 dies --------------------------------------------
            dead_dp, dead_ctl = procs[DEAD]
            t_kill = time.monotonic()
            dead_dp.signal(signal.SIGKILL)
            dead_ctl.signal(signal.SIGKILL)
            rc_dead = (dead_dp.wait(5), dead_ctl.wait(5))
            e2e.log('relay %d: dataplane pid %d and control pid %d killed (%s)'
                    % (DEAD + 1, dead_dp.pid, dead_ctl.pid, rc_dead))
            n_dead_cmds = len(ctl_taps[DEAD].exchanges())

            # -- 3. new calls --------------------------------------------------
            uac_b = sip.Sipp(topo, 'pa', 'uac_b', uac_scn, e2e.PHONE_A_IP2, sip.UAC_MEDIA_PORT,
                             N_B, target='%s:%d' % (sip.UAS_IP, UAS_B_SIP_PORT),
                             rsa='%s:%d' % (sip.PROXY_IP, sip.SIP_PORT), rate=RATE_B,
                             limit=N_B, timeout_s=SIPP_TIMEOUT_S)
            rc_a = uac_a.wait(SIPP_TIMEOUT_S + 15)
            rc_b = uac_b.wait(SIPP_TIMEOUT_S + 15)
            rc_uas = (uas_a.wait(SIPP_TIMEOUT_S + 15), uas_b.wait(SIPP_TIMEOUT_S + 15))
            t_calls = time.monotonic() - t_kill
            for tap in (uac_a_tap, uac_b_tap, uas_a_tap, uas_b_tap) + ctl_taps:
                tap.stop()
            exs = [tap.exchanges() for tap in ctl_taps]
            a_out, a_in = uac_a_tap.snapshot()
            b_out, b_in = uac_b_tap.snapshot()
            s_out, s_in = uas_a_tap.snapshot()
            sb_out, sb_in = uas_b_tap.snapshot()
        s1 = e2e.telemetry(prefixes[LIVE], '/rtpbypass/stats', unwrap=True)
        info_end = e2e.parse_info(cmds[LIVE]('I'))
        e2e.log('calls after the kill took %.1f s more' % t_calls)

        # -- sipp ---------------------------------------------------------------
        check_sipp('uac_a', uac_a, rc_a, N_A)
        check_sipp('uac_b', uac_b, rc_b, N_B)
        check_sipp('uas_a', uas_a, rc_uas[0], N_A)
        check_sipp('uas_b', uas_b, rc_uas[1], N_B)
        by_relay = [sip.call_commands(x) for x in exs]
        sdps_a = sdp_by_call(uac_a, uas_a)
        sdps_b = sdp_by_call(uac_b, uas_b)

        # -- 1. the spread --------------------------------------------------------
        cids_a = invite_call_ids(uac_a)
        check(len(cids_a) == N_A, 'UAC A sent %d INVITEs (%d)' % (N_A, len(cids_a)))
        predicted = {cid: sip.rtpp_select(cid, WEIGHTS) for cid in cids_a}
        want = [sum(1 for v in predicted.values() if v == i) for i in range(2)]
        e2e.log('predicted from the Call-IDs (module hash, weights %s): %d on relay 1, %d on '
                'relay 2; sums %s' % ('/'.join(map(str, WEIGHTS)), want[0], want[1],
                                     [sum(c.encode()) & 0xff for c in cids_a]))
        e2e.log('measured (I sessions created): relay 1 %d, relay 2 %d (ratio %.2f : 1)'
                % (created[0], created[1], created[0] / max(1, created[1])))
        expect(created == want,
               'each control created the sessions the module hash predicts: relay 1 %d, '
               'relay 2 %d (%r)' % (want[0], want[1], created))
        ideal = N_A * WEIGHTS[0] / sum(WEIGHTS)
        expect(abs(created[0] - ideal) <= 1 and sum(created) == N_A,
               'relay 1 got %d of %d calls, 2:1 within one call (%.0f +/- 1; the hash steps '
               'by one modulo 3 per call, one wrap at 256 at most)'
               % (created[0], N_A, ideal))
        legs = {}
        for cid in cids_a:
            leg = call_legs(cid, by_relay)
            legs[cid] = leg
            if not expect(leg is not None and leg['relay'] == predicted[cid],
                          '%s: U and L answered by relay %s, the predicted %d'
                          % (cid, leg and leg['relay'] + 1, predicted[cid] + 1)):
                continue
            ip = RELAYS[leg['relay']][1]
            sd = sdps_a.get(cid, [None, None])
            expect(leg['a0'] == ip and leg['a1'] == ip and relay_of_port(leg['p0']) == leg['relay']
                   and relay_of_port(leg['p1']) == leg['relay']
                   and sd[0] and sd[0]['media'] and sd[0]['media'][0]['c'] == ('IN', 'IP4', ip)
                   and sd[0]['media'][0]['port'] == leg['p0']
                   and sd[1] and sd[1]['media'] and sd[1]['media'][0]['c'] == ('IN', 'IP4', ip)
                   and sd[1]['media'][0]['port'] == leg['p1'],
                   '%s: UAS offered %s:%d, UAC answered %s:%d (relay %d)'
                   % (cid, ip, leg['p0'], ip, leg['p1'], leg['relay'] + 1))

        # -- 2. the survivor's calls, untouched -------------------------------------
        lost_live = [0, 0]      # whole calls, within the kill window
        for cid in cids_a:
            leg = legs.get(cid)
            if leg is None:
                continue
            ao, ui, uo, ai = media(leg, a_out, a_in, s_out, s_in)
            if leg['relay'] == LIVE:
                l1, w1 = lost_near(ao, ui, UAC_SEQ0, t_kill)
                l2, w2 = lost_near(uo, ai, UAS_SEQ0, t_kill)
                lost_live[0] += len(l1) + len(l2)
                lost_live[1] += len(w1) + len(w2)
                expect(ao['n'] == N_PKTS and uo['n'] == N_PKTS
                       and ui['n'] >= MIN_DELIVERED * N_PKTS
                       and ai['n'] >= MIN_DELIVERED * N_PKTS and not w1 and not w2
                       and ui['dups'] == 0 and ai['dups'] == 0
                       and ui['bad'] == 0 and ai['bad'] == 0
                       and set(ui['ssrcs']) == {UAC_SSRC} and set(ai['ssrcs']) == {UAS_SSRC},
                       '%s on relay %d: UAC -> UAS %d of %d, UAS -> UAC %d of %d, intact, once; '
                       'none lost from %.0f s before the other relay\'s death to %.0f s after '
                       '(lost: packets %s and %s)'
                       % (cid, LIVE + 1, ui['n'], ao['n'], ai['n'], uo['n'], KILL_WINDOW_S[0],
                          KILL_WINDOW_S[1], l1[:10], l2[:10]))
            else:
                expect(0 < ui['n'] < N_PKTS and 0 < ai['n'] < N_PKTS,
                       '%s on relay %d: media until the kill, none after (%d and %d of %d '
                       'each way)' % (cid, DEAD + 1, ui['n'], ai['n'], N_PKTS))
                # Its BYE's D: the set picks the survivor once relay 1 is
                # disabled (by this call's Q at the latest), which has no
                # such session.
                late = by_relay[LIVE].get(cid, {})
                dd = [x['replies'][:1] for x in late.get('D', [])]
                expect(dd == [['E50']], '%s: its D went to relay %d, which answered E50 (no '
                       'such session): %r (its Q went to relay %s)'
                       % (cid, LIVE + 1, dd, ' and '.join(str(i + 1) for i in range(2)
                                                          if by_relay[i].get(cid, {}).get('Q'))))
        e2e.log('calls on the surviving relay %d: %d packets lost when relay %d died (from %.0f s '
                'before to %.0f s after), %d over the whole calls'
                % (LIVE + 1, lost_live[1], DEAD + 1, KILL_WINDOW_S[0], KILL_WINDOW_S[1],
                   lost_live[0]))

        # -- 3. the new calls -----------------------------------------------------
        cids_b = invite_call_ids(uac_b)
        check(len(cids_b) == N_B, 'UAC B sent %d INVITEs (%d)' % (N_B, len(cids_b)))
        dead_exs = exs[DEAD][n_dead_cmds:]
        answered = [x for x in dead_exs if x['replies']]
        expect(not answered, 'no command to the dead relay got a reply after the kill: %s'
               % sip.short(answered))
        found_dead = sorted({x['cmd'].split()[1].split(';')[0] for x in dead_exs
                             if len(x['cmd'].split()) > 1})
        e2e.log('commands the module sent to the dead relay after the kill: %d, of calls %s: %s'
                % (len(dead_exs), found_dead, ['%+.2fs %s' % (x['t'] - t_kill, x['cmd'][:40])
                                                for x in dead_exs]))
        got = sent = 0
        for cid in cids_b:
            leg = call_legs(cid, by_relay)
            sd = sdps_b.get(cid, [None, None])
            ip = RELAYS[LIVE][1]
            if not expect(leg is not None and leg['relay'] == LIVE
                          and sd[0] and sd[0]['media'][0]['c'] == ('IN', 'IP4', ip)
                          and sd[0]['media'][0]['port'] == leg['p0']
                          and sd[1] and sd[1]['media'][0]['c'] == ('IN', 'IP4', ip)
                          and sd[1]['media'][0]['port'] == leg['p1'],
                          '%s (new, hash -> relay %d): U and L answered by relay %d, SDPs name '
                          '%s' % (cid, sip.rtpp_select(cid, WEIGHTS) + 1, LIVE + 1, ip)):
                continue
            ao, ui, uo, ai = media(leg, b_out, b_in, sb_out, sb_in)
            got += ui['n'] + ai['n']
            sent += ao['n'] + uo['n']
            expect(ao['n'] == N_PKTS and uo['n'] == N_PKTS
                   and ui['n'] >= MIN_DELIVERED * N_PKTS
                   and ai['n'] >= MIN_DELIVERED * N_PKTS
                   and ui['dups'] == 0 and ai['dups'] == 0,
                   '%s: media both ways through relay %d (%d and %d of %d)'
                   % (cid, LIVE + 1, ui['n'], ai['n'], N_PKTS))
        to_dead = sum(v['n'] for p, v in b_out.items() if relay_of_port(p) == DEAD)
        expect(to_dead == 0, 'no new call sent media towards relay %d (%d packets)'
               % (DEAD + 1, to_dead))
        klog = kam.log()
        disabled = set(re.findall(r'proxy <(\S+)> does not respond, disable it', klog))
        expect(disabled == {'udp:%s:%d' % (RELAYS[DEAD][2], sip.CTL_PORT)},
               'Kamailio disabled the dead relay and no other: %r' % sorted(disabled))
        e2e.log('new calls: %d of %d packets delivered through relay %d' % (got, sent, LIVE + 1))

        # -- 4. the survivor at the end --------------------------------------------
        dlt = e2e.stats_delta(s0, s1)
        delivered = 0
        for cid in cids_a + cids_b:
            leg = legs.get(cid) or call_legs(cid, by_relay)
            if leg and leg['relay'] == LIVE:
                taps = (a_out, a_in, s_out, s_in) if cid in cids_a else (b_out, b_in, sb_out, sb_in)
                _, ui, _, ai = media(leg, *taps)
                delivered += ui['n'] + ai['n']
        e2e.log('relay %d telemetry: %s' % (LIVE + 1, dlt))
        expect(dlt.get('relayed', 0) == delivered,
               'relay %d relayed +%d = the %d packets its calls delivered'
               % (LIVE + 1, dlt.get('relayed', 0), delivered))
        expect(info_end.get('active sessions') == 0,
               'relay %d: 0 active sessions after the BYEs (%r)' % (LIVE + 1, info_end))

        kam.proc.stop(timeout=10)
        e2e.stop_relay(*procs[LIVE])
        names = list(topo.ns.values())
    e2e.cleanup_dpdk_prefix(prefixes[LIVE])
    check(not [n for n in names if e2e.netns_exists(n)], 'every namespace is gone')
    e2e.log('test took %.1f s' % (time.monotonic() - t_start))


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
