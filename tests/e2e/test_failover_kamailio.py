#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_failover_kamailio: the active/standby pair behind a real Kamailio,
calls placed by sipp; Redis down for a while, then the active relay dies
mid-call (issue 21 item 4, docs/RELIABILITY.md "Active and standby").

In namespaces this test creates (KamFailoverTopology: test_failover's
FailoverTopology plus the SIP proxy):

    relays   A ('rl') and B ('r2') as in test_failover (both serve
             192.0.2.1, keepalived VRRP on the management bridge br1,
             control address the virtual address 203.0.113.100), IPv4
    redis    redis-server on br1 203.0.113.1 ('sw'), stopped by PID
    proxy    Kamailio 5.6 in 'px' running deploy/kamailio/kamailio.cfg:
             SIP on 192.0.2.5 (a port of the media bridge), its
             rtpproxy_sock "udp:203.0.113.100:22222" (the VRRP address)
             reached over px eth1 203.0.113.4/24 on br1; rtpproxy_tout 1,
             rtpproxy_retr 5 (the config's single-relay defaults)
    UACs     sipp in phone A's namespace (192.0.2.10), one per batch, SIP
             ports 5060/5070/5080, RTP 16000/16100/16200
    UAS      sipp in phone B's namespace (198.51.100.20, behind the
             router), answers every call, RTP 26000
Each side of a call plays N_PKTS packets of 20 ms PCMU (its own pcap).

Steps and what is asserted:
  1. A becomes master (keepalived), Kamailio probes the relay at the
     virtual address. UAC 1 places N1 calls: all on A.
  2. Redis dies (SIGKILL) mid-call; UAC 2 places N2 more calls while it
     is down. Every command Kamailio sends while Redis is down is
     answered within REPLY_BOUND_S (the reply times are FIGURE lines); A's
     I says 'redis: down' and counts drops; the media of UAC 1's calls
     keeps flowing: every packet sent meanwhile arrives (the longest
     silences, received and sent, are FIGURE lines: on a loaded host a
     stalled worker shows as a silence without a loss, Redis or not).
     redis-server starts again (empty): within RESYNC_BOUND_S, A's index
     in Redis holds exactly its live sessions, N1 + N2, each with its
     record (the resync time is a FIGURE line).
  3. A dies: keepalived, dataplane and control SIGKILLed. B restores the
     N1 + N2 sessions from Redis (including the calls set up while Redis
     was down, with their latched peers), and every call's media resumes
     through B within FAILOVER_BOUND_S per direction (gap and packets lost
     per call and direction are FIGURE lines).
  4. UAC 3 places a new call after the failover: U and L answered (by B:
     A is dead), media both ways. Every sipp call completes (0 dropped);
     the BYE-time D of every call goes to the virtual address after the
     kill and is answered '0' (so by B, which ends with no session).

Usage (root): test_failover_kamailio.py --build BUILD_DIR
"""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
import rtpb_sip as sip  # noqa: E402
import test_failover as fo  # noqa: E402
import test_scaleout as so  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

PX_MG_IP = '203.0.113.4'        # Kamailio's address on the management bridge
N1, N2, N3 = 3, 2, 1            # calls before Redis dies, while down, after failover
BATCHES = ((N1, 5060, 16000), (N2, 5070, 16100), (N3, 5080, 16200))
N_PKTS = 1000                   # 20 s of media per side and call
HOLD_MS = N_PKTS * sip.PTIME_MS + 1000
SIPP_TIMEOUT_S = 90
UAC_SSRC, UAC_SEQ0 = 0x5ca10001, 1000
UAS_SSRC, UAS_SEQ0 = 0x5ca10002, 40000
REDIS_DOWN_S = 3.0              # Redis dead at least this long
REPLY_BOUND_S = 0.1             # each command's reply while Redis is down
RESYNC_BOUND_S = 10.0           # reconnect back-off (5 s at most), a loaded start, resync
FAILOVER_BOUND_S = 1.0
# what a receiving tap must see of a call: the taps are Python threads
# reading every frame of their interface, and on a loaded host they drop
# frames (their socket's buffer overflows: 600-750 of 1000 seen at load
# 11 on 2 CPUs while the senders' taps saw all); losses are judged in the
# windows above, packet by packet, not from totals
MIN_SEEN = 0.5


class KamFailoverTopology(fo.FailoverTopology):
    """FailoverTopology plus the SIP proxy 'px': eth0 on the media bridge
    (rtpb_sip.SipTopology's SIP side) and eth1 PX_MG_IP on the management
    bridge br1, where the relays' control address (the VRRP one) lives."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.ns['px'] = self.tag + 'px'
        self.proxy = self.ns['px']

    def _build(self):
        super()._build()
        sip.SipTopology._build_sip_port(self)
        self._veth('sw', 's_px1', 'px', 'eth1')
        self._ip('sw', 'link', 'set', 's_px1', 'master', 'br1')
        for ns, dev in (('sw', 's_px1'), ('px', 'eth1')):
            self._tx_off(ns, dev)
            self._ip(ns, 'link', 'set', dev, 'up')
        self._ip('px', 'addr', 'add', '%s/%d' % (PX_MG_IP, fo.MG_PREFIX), 'dev', 'eth1')


def redis_cli(topo, *args):
    return e2e.run([e2e.IP, 'netns', 'exec', topo.switch, 'redis-cli', '-h', fo.MG_IP,
                    '-p', str(fo.REDIS_PORT)] + list(args), check=False).stdout.split()


def redis_matches(topo, rid, n):
    """Redis holds exactly n sessions under rid: its index has n members,
    each with its record.  @return (ok, index members)."""
    idx = redis_cli(topo, 'SMEMBERS', 'rtpb:%s:idx' % rid)
    ok = len(idx) == n and all(
        redis_cli(topo, 'EXISTS', 'rtpb:%s:s:%s' % (rid, s)) == ['1'] for s in idx)
    return ok, idx


def longest_gap(arrivals, lo, hi):
    """The longest silence between consecutive arrivals ([(t, seq)]) with
    the earlier one in [lo, hi): (gap s, before, after) or None."""
    best = None
    for i in range(len(arrivals) - 1):
        if lo <= arrivals[i][0] < hi:
            g = arrivals[i + 1][0] - arrivals[i][0]
            if best is None or g > best[0]:
                best = (g, arrivals[i], arrivals[i + 1])
    return best


def failover_gap(sent, got, t_kill):
    """A direction's failover, from two RtpTap entries (sent: the
    sender's side, got: the receiver's): the packets sent within 3 s
    from 0.3 s before t_kill on that never arrived.  @return (gap s
    between the sending of the last packet before them and of the first
    after them, (t, seq) of that last one, (t, seq) of that first one,
    packets lost) or None if none was lost or either end is missing."""
    arr = [e for e in sent.get('arrivals', []) if t_kill - 0.3 <= e[0] < t_kill + 3.0]
    miss = [i for i, (_, q) in enumerate(arr) if q not in got['seqs']]
    if not miss or miss[0] == 0 or miss[-1] + 1 >= len(arr):
        return None
    before, after = arr[miss[0] - 1], arr[miss[-1] + 1]
    return (after[0] - before[0], before, after, len(miss))


def body(build, prefix):
    sip.preflight()
    t_start = time.monotonic()
    d = e2e.logdir()
    build = os.path.abspath(build)
    ctl_bin = os.path.join(build, 'tools', 'rtpb-ctl')
    script = os.path.abspath(os.path.join(sip.REPO, 'deploy', 'ha', 'rtpb-ha-notify'))
    prefixes = {'A': prefix, 'B': e2e.unique_prefix()}
    n_old = N1 + N2
    with KamFailoverTopology() as topo:
        redis = fo.start_redis(topo, d)
        relays = fo.start_pair(topo, build, prefixes, d, False)
        a, b = relays['A'], relays['B']
        local = lambda n, c: e2e.rtpproxy_cmd(relays[n]['ns'], c)
        kas = fo.start_vrrp(topo, relays, d, ctl_bin, script)
        time.sleep(0.5)
        check(local('A', 'HA') == 'active' and local('B', 'HA') == 'standby',
              'A active, B standby')
        uac_pcap = os.path.join(d, 'uac_pcmu.pcap')
        uas_pcap = os.path.join(d, 'uas_pcmu.pcap')
        payload = sip.write_rtp_pcap(uac_pcap, N_PKTS, UAC_SSRC, UAC_SEQ0)
        sip.write_rtp_pcap(uas_pcap, N_PKTS, UAS_SSRC, UAS_SEQ0, payload=payload)
        uac_scn = sip.uac_scenario(uac_pcap, HOLD_MS)
        uacs = []
        with sip.CtlTap(topo.proxy, 'eth1', fo.VIP) as ctap, \
                sip.RtpTap(topo.phone_a, 'eth0', sip.UAC_IP, BATCHES[0][2], e2e.RELAY_IP,
                           payload) as tap1, \
                sip.RtpTap(topo.phone_a, 'eth0', sip.UAC_IP, BATCHES[1][2], e2e.RELAY_IP,
                           payload) as tap2, \
                sip.RtpTap(topo.phone_a, 'eth0', sip.UAC_IP, BATCHES[2][2], e2e.RELAY_IP,
                           payload) as tap3, \
                sip.RtpTap(topo.phone_b, 'eth0', sip.UAS_IP, sip.UAS_MEDIA_PORT, e2e.RELAY_IP,
                           payload) as uas_tap:
            uac_taps = (tap1, tap2, tap3)
            kam = sip.Kamailio(topo, 'px', 'udp:%s:%d' % (sip.PROXY_IP, sip.SIP_PORT),
                               'udp:%s:%d' % (fo.VIP, fo.CTL_PORT), children=4)
            sip.wait_udp_listen(topo, 'px', sip.PROXY_IP, sip.SIP_PORT, 20)
            sip.wait_probe(ctap, 20)
            uas = sip.Sipp(topo, 'pb', 'uas', sip.uas_scenario(uas_pcap), sip.UAS_IP,
                           sip.UAS_MEDIA_PORT, N1 + N2 + N3, timeout_s=SIPP_TIMEOUT_S)
            sip.wait_udp_listen(topo, 'pb', sip.UAS_IP, sip.SIP_PORT, 10)

            def place(k):
                n, port, media = BATCHES[k]
                uacs.append(sip.Sipp(topo, 'pa', 'uac%d' % (k + 1), uac_scn, sip.UAC_IP, media,
                                     n, target='%s:%d' % (sip.UAS_IP, sip.SIP_PORT),
                                     rsa='%s:%d' % (sip.PROXY_IP, sip.SIP_PORT), rate=5,
                                     limit=n, timeout_s=SIPP_TIMEOUT_S, port=port))

            # -- 1. calls on A -------------------------------------------------
            place(0)
            so.wait_sessions([lambda c: local('A', c)], N1, 15)
            time.sleep(1.5)
            check('redis: connected' in local('A', 'I'), 'A is connected to Redis')

            # -- 2. Redis down ---------------------------------------------------
            drops0 = int(local('A', 'G nredis_drops'))
            resyncs0 = int(local('A', 'G nredis_resyncs'))
            t_rdown = time.monotonic()
            redis.signal(signal.SIGKILL)
            redis.wait(timeout=5)
            place(1)
            so.wait_sessions([lambda c: local('A', c)], n_old, 15)
            time.sleep(max(0.0, t_rdown + REDIS_DOWN_S - time.monotonic()))
            info_down = local('A', 'I')
            drops = int(local('A', 'G nredis_drops')) - drops0
            e2e.log('A while Redis is down: %s; drops +%d'
                    % (re.search(r'redis: [^\n]*', info_down).group(0), drops))
            check('redis: down' in info_down and drops > 0,
                  "A's I says 'redis: down' and drops grew (+%d)" % drops)
            t_rup = time.monotonic()
            redis = fo.start_redis(topo, d)
            deadline = t_rup + RESYNC_BOUND_S + 5
            while True:
                ok, idx = redis_matches(topo, 'relayA', n_old)
                if ok or time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            t_resync = time.monotonic() - t_rup
            resyncs = int(local('A', 'G nredis_resyncs')) - resyncs0
            e2e.log('FIGURE redis down %.1f s: Redis held A\'s %d live sessions %.2f s after it '
                    'came back (resyncs +%d)' % (t_rup - t_rdown, n_old, t_resync, resyncs))
            check(ok and t_resync < RESYNC_BOUND_S and resyncs >= 1,
                  "Redis caught up with A's %d live sessions within %.0f s (%.2f s, index %r)"
                  % (n_old, RESYNC_BOUND_S, t_resync, idx))
            check(e2e.parse_info(local('A', 'I')).get('active sessions') == n_old,
                  'A holds the %d calls' % n_old)
            time.sleep(1.0)

            # -- 3. A dies --------------------------------------------------------
            mark = b['ctl'].log_mark()
            t_kill = time.monotonic()
            t_kill_wall = fo.kill_relay(kas['A'], a)
            m = fo.wait_restored(b['ctl'], mark, n_old)
            t_active = t_kill + (e2e.ctl_log_time(m.group(1), t_kill_wall) - t_kill_wall)
            e2e.log('FIGURE failover (Kamailio): B active %.0f ms after the kill (restore of '
                    '%d sessions in %s ms)' % (1000 * (t_active - t_kill), n_old, m.group(6)))
            check(local('B', 'HA') == 'active', 'B active')
            b_idx = redis_cli(topo, 'SCARD', 'rtpb:relayB:idx')
            check(b_idx == [str(n_old)], "B wrote the %d calls under its own id (%r)"
                  % (n_old, b_idx))
            time.sleep(2.0)

            # -- 4. a new call --------------------------------------------------------
            place(2)
            rcs = [u.wait(SIPP_TIMEOUT_S + 15) for u in uacs]
            rc_uas = uas.wait(SIPP_TIMEOUT_S + 15)
            for tap in uac_taps + (uas_tap, ctap):
                tap.stop()
            exs = ctap.exchanges()
            snaps = [t.snapshot() for t in uac_taps]
            s_out, s_in = uas_tap.snapshot()
        info_b = e2e.parse_info(local('B', 'I'))

        # -- sipp: 0 calls dropped -------------------------------------------------
        for k, (u, rc) in enumerate(zip(uacs, rcs)):
            so.check_sipp(u.name, u, rc, BATCHES[k][0])
        so.check_sipp('uas', uas, rc_uas, N1 + N2 + N3)

        # -- reply times while Redis was down ----------------------------------------
        down = [x for x in exs if t_rdown <= x['t'] < t_rup]
        dts = [x['t_reply'] - x['t'] for x in down if 't_reply' in x]
        e2e.log('FIGURE redis down: %d commands from Kamailio answered in max %.1f ms, mean '
                '%.1f ms: %s' % (len(dts), 1000 * max(dts or [0]),
                                 1000 * sum(dts) / max(1, len(dts)),
                                 ['%s %.1f' % (x['cmd'].split()[0], 1000 * (x['t_reply'] - x['t']))
                                  for x in down if 't_reply' in x]))
        check(len(down) >= 2 * N2 and len(dts) == len(down)
              and all(x['sends'] == 1 for x in down) and max(dts) < REPLY_BOUND_S,
              'every command while Redis was down (%d, the U and L of %d calls at least) '
              'answered at once, within %.0f ms' % (len(down), N2, 1000 * REPLY_BOUND_S))

        # -- media per call ---------------------------------------------------------
        by_cid = sip.call_commands(exs)
        gaps, losses, down_gaps = [], [], []
        for k, u in enumerate(uacs):
            a_out, a_in = snaps[k]
            for cid in so.invite_call_ids(u):
                leg = so.call_legs(cid, [by_cid])
                if not expect(leg is not None, '%s: U and L answered' % cid):
                    continue
                if k == 2:
                    check(leg['u']['t'] > t_kill, '%s: set up after the kill (through B)' % cid)
                ao, ui, uo, ai = so.media(leg, a_out, a_in, s_out, s_in)
                expect(ao['n'] == N_PKTS and uo['n'] == N_PKTS and ui['dups'] == 0
                       and ai['dups'] == 0, '%s: both sides sent %d packets, none came twice '
                       '(%d, %d; dups %d, %d)' % (cid, N_PKTS, ao['n'], uo['n'], ui['dups'],
                                                  ai['dups']))
                for name, sent, got in (('UAC->UAS', ao, ui), ('UAS->UAC', uo, ai)):
                    arr = got.get('arrivals', [])
                    if k == 2:
                        expect(got['n'] >= MIN_SEEN * N_PKTS,
                               '%s %s (new call through B): %d of %d'
                               % (cid, name, got['n'], N_PKTS))
                        continue
                    if k == 0:
                        # what the sender's tap saw leave while Redis was
                        # down all arrived; the longest silences on both
                        # sides (the taps are threads of a loaded host)
                        out = [q for t, q in sent.get('arrivals', []) if t_rdown <= t < t_rup]
                        lost_down = sorted(set(out) - got['seqs'])
                        g_in = longest_gap(arr, t_rdown, t_rup)
                        g_out = longest_gap(sent.get('arrivals', []), t_rdown, t_rup)
                        down_gaps.append(g_in[0] if g_in else 0)
                        e2e.log('FIGURE redis down %s %s: %d packets sent, %d lost; longest '
                                'silence %.0f ms received, %.0f ms sent'
                                % (cid, name, len(out), len(lost_down),
                                   1000 * (g_in[0] if g_in else -1),
                                   1000 * (g_out[0] if g_out else -1)))
                        check(len(out) >= 0.5 * (t_rup - t_rdown) / (sip.PTIME_MS / 1000.0)
                              and not lost_down,
                              '%s %s: media flowed while Redis was down: all of the %d packets '
                              'sent meanwhile arrived (lost %s)' % (cid, name, len(out),
                                                                     lost_down[:10]))
                    # the failover, by sequence numbers: the packets sent from just
                    # before the kill on that never arrived (A dead, B not yet
                    # announced), timed by the sender's tap (a starved reader
                    # on the receiving side would hide a silence)
                    g = failover_gap(sent, got, t_kill)
                    if not expect(g is not None and g[2][0] > t_active - 0.1,
                                  '%s %s: media lost after the kill, then through B (%r, B '
                                  'active %.0f ms after the kill)'
                                  % (cid, name, g and (round(1000 * (g[1][0] - t_kill)),
                                                       round(1000 * (g[2][0] - t_kill)), g[3]),
                                     1000 * (t_active - t_kill))):
                        continue
                    lost = g[3]
                    gaps.append(g[0])
                    losses.append(lost)
                    e2e.log('FIGURE failover (Kamailio) %s %s: %.0f ms from the last packet '
                            'through A to the first through B (as sent; the first sent %.0f ms '
                            'after B active), %d packets lost (%d received of %d)'
                            % (cid, name, 1000 * g[0], 1000 * (g[2][0] - t_active), lost,
                               got['n'], N_PKTS))
                    expect(g[0] < FAILOVER_BOUND_S, '%s %s: media back within %.1f s (%.0f ms)'
                          % (cid, name, FAILOVER_BOUND_S, 1000 * g[0]))
                # the BYE's D: after the kill, to the virtual address, '0'
                dd = [(x['t'] > t_kill, x['replies'][:1]) for x in by_cid[cid]['D']]
                check(dd == [(True, ['0'])], '%s: its D (at BYE) answered 0 by B: %r'
                      % (cid, dd))
        check(len(gaps) == 2 * n_old, 'the failover measured on all %d calls' % n_old)
        e2e.log('FIGURE failover (Kamailio): gap max %.0f ms, mean %.0f ms; packets lost per '
                'call and direction max %d, mean %.1f (%d calls)'
                % (1000 * max(gaps), 1000 * sum(gaps) / len(gaps), max(losses),
                   sum(losses) / len(losses), n_old))
        check(info_b.get('active sessions') == 0, 'B has no session after the BYEs (%r)'
              % info_b)

        kam.proc.stop(timeout=10)
        fo.stop_survivor(kas['B'], b, redis)
        names = list(topo.ns.values())
    e2e.cleanup_dpdk_prefix(prefixes['B'])
    check(not [n for n in names if e2e.netns_exists(n)], 'every namespace is gone')
    e2e.log('test took %.1f s' % (time.monotonic() - t_start))


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
