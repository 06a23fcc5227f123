#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_failover: an active/standby pair; the active relay dies mid-call and
the standby takes its calls over through Redis (issue 21 items 3-4,
docs/RELIABILITY.md "Active and standby").

In namespaces this test creates (a FailoverTopology: rtpb_e2e.Topology
plus a second relay host and a management bridge):

    relay A  namespace 'rl': a dataplane on rl0 (a port of the media
             bridge) with the relay addresses 192.0.2.1/24 and
             2001:db8:a::1/64, started
             --standby; a control with --redis, --redis-relay-id relayA,
             --ha standby, --ha-peer relayB; keepalived (VRRPv3, advert
             0.1 s, priority 150) on mg0 203.0.113.2/24, its notify script
             deploy/ha/rtpb-ha-notify talking to control's unix socket
    relay B  namespace 'r2': the same with the SAME relay addresses
             on its own rl0 port of the media bridge,
             relayB, --ha-peer relayA, keepalived priority 100 on mg0
             203.0.113.3/24
    mgmt     bridge br1 in 'sw', 203.0.113.1/24: redis-server (started
             here, stopped by PID) and the "proxy" that sends the
             rtpproxy commands to the control address 203.0.113.100, the
             VRRP virtual address (both controls bind it,
             net.ipv4.ip_nonlocal_bind=1; the master holds it)
    phones   the harness phones, A on the media bridge, B behind the
             router

Steps and what is asserted:
  1. Both relays start silent (HA standby); keepalived makes A master:
     A's control restores nothing (relayB has no session), its dataplane
     becomes active. B stays standby.
  2. N_CALLS calls are set up through the control address (U, L) and
     stream RTP both ways (a packet every 20 ms); the last one is IPv6
     (U6/L6: the phones' 2001:db8::/32 addresses to the relay's
     2001:db8:a::1, phone B's through the router 2001:db8:a::fe, the
     dataplanes' --gateway6). Redis holds A's sessions (relayA's index).
  3. Relay A dies: keepalived's VRRP process, keepalived, A's dataplane
     and A's control get SIGKILL (by PID) at once. B's keepalived becomes
     master after the master-down interval, its notify script runs
     "rtpb-ctl HA master", B's control restores relayA's N_CALLS sessions
     (latched peers included) and its dataplane announces 192.0.2.1.
     Every call's media resumes through B in both directions within 1 s
     of the last packet relayed by A (0 calls dropped); the gap and the
     packets lost per call and direction are printed as FIGURE lines.
     B's dataplane sent 3 rounds of gratuitous ARP (request and reply)
     and of unsolicited NAs. The relays know their next hops statically
     (--neigh), so no ARP/NS request of B's own re-points the hosts: the
     announcements alone must (without them the test fails).
  4. The proxy's later D for every call goes to the control address and
     succeeds on B ('0'); B then has no session. A new call set up after
     the failover works through B both ways.

Usage (root): test_failover.py --build BUILD_DIR
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check, expect  # noqa: E402

MG_IP = '203.0.113.1'          # br1 in 'sw': redis, the proxy's commands
VIP = '203.0.113.100'          # the control address, keepalived's
MG_PREFIX = 24
CTL_PORT = 22222
REDIS_PORT = 6379
# role, namespace role, management address, relay id, VRRP priority
RELAYS = (('A', 'rl', '203.0.113.2', 'relayA', 150),
          ('B', 'r2', '203.0.113.3', 'relayB', 100))
N_CALLS = 3                    # the last one on IPv6
INTERVAL_MS = 20
N_PKTS = 450                   # 9 s of media per direction
KILL_AFTER_S = 4.0             # after the phones' start
FAILOVER_BOUND_S = 1.0         # media back within this, per direction
# both dataplanes' workers busy-poll CPU 1, main lcores CPU 0 (as e2e_scaleout)
LCORES = ['--lcores', '0@0,1@1']


class FailoverTopology(e2e.Topology):
    """rtpb_e2e.Topology plus relay host 'r2' (its rl0 a port of the media
    bridge br0, like 'rl''s) and a management bridge br1 in 'sw'
    (203.0.113.1/24) with a port to mg0 in each relay namespace, where
    keepalived speaks VRRP and the controls listen."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.ns['r2'] = self.tag + 'r2'

    def _build(self):
        super()._build()
        # no kernel IPv6 on a relay host (its rl0 is the dataplane's)
        self._sysctl('r2', 'net.ipv6.conf.all.disable_ipv6=1',
                     'net.ipv6.conf.default.disable_ipv6=1')
        self._veth('sw', 's_r2', 'r2', self.relay_iface)
        self._ip('sw', 'link', 'set', 's_r2', 'master', 'br0')
        for ns, dev in (('sw', 's_r2'), ('r2', self.relay_iface)):
            self._tx_off(ns, dev)
            self._ip(ns, 'link', 'set', dev, 'up')
        self._ip('sw', 'link', 'add', 'br1', 'type', 'bridge', 'stp_state', '0')
        self._ip('sw', 'addr', 'add', '%s/%d' % (MG_IP, MG_PREFIX), 'dev', 'br1')
        self._ip('sw', 'link', 'set', 'br1', 'up')
        for _, role, ip, _, _ in RELAYS:
            sport = 's_m' + role
            self._veth('sw', sport, role, 'mg0')
            self._ip('sw', 'link', 'set', sport, 'master', 'br1')
            self._ip('sw', 'link', 'set', sport, 'up')
            self._ip(role, 'addr', 'add', '%s/%d' % (ip, MG_PREFIX), 'dev', 'mg0')
            self._ip(role, 'link', 'set', 'mg0', 'up')
            # the standby's control binds the control address before
            # keepalived gives it the address
            self._sysctl(role, 'net.ipv4.ip_nonlocal_bind=1')
        e2e.log('topology %s: second relay host %s, management bridge %s'
                % (self.tag, self.ns['r2'], MG_IP))


def keepalived_conf(path, name, prio, src, peer, notify):
    """One side of the pair: deploy/ha/keepalived.conf's instance, on mg0,
    without the control check (the test kills the whole relay)."""
    with open(path, 'w') as f:
        f.write('''global_defs {
	router_id %s
	script_user root
	# adverts on time on a busy host (a late one is a false failover)
	vrrp_rt_priority 50
	# state changes in order (deploy/ha/keepalived.conf)
	vrrp_notify_fifo %s
	vrrp_notify_fifo_script "%s -i rtpb -F"
}
vrrp_instance rtpb {
	state BACKUP
	interface mg0
	virtual_router_id 51
	priority %d
	version 3
	advert_int 0.1
	unicast_src_ip %s
	unicast_peer {
		%s
	}
	virtual_ipaddress {
		%s/%d dev mg0
	}
}
''' % (name, path + '.fifo', notify, prio, src, peer, VIP, MG_PREFIX))


def start_keepalived(topo, role, d, name, prio, src, peer, notify):
    conf = os.path.join(d, 'keepalived-%s.conf' % name)
    keepalived_conf(conf, name, prio, src, peer, notify)
    pids = {k: os.path.join(d, 'keepalived-%s.%s.pid' % (name, k)) for k in ('main', 'vrrp')}
    for p in pids.values():
        if os.path.exists(p):
            os.unlink(p)
    proc = topo.proc(role, ['keepalived', '-n', '-l', '-G', '-D', '-P', '-f', conf,
                            '-p', pids['main'], '-r', pids['vrrp'],
                            '-c', os.path.join(d, 'keepalived-%s.chk.pid' % name)],
                     name='keepalived-' + name)
    return proc, pids['vrrp']


def read_pid(path, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            time.sleep(0.05)
    raise e2e.E2EError('no pid in %s' % path)


def rx_times(ph, t0):
    """(wall time, packet index) of every valid RTP packet a phone got."""
    return [(t0 + e[0] / 1e3, e[5]) for e in ph['rx_log'] if e[2] == 'rtp' and not e[6]]


def start_pair(topo, build, prefixes, d, ipv6):
    """Both relays of RELAYS, silent (dataplane --standby, control --ha
    standby with --redis on MG_IP): {name: dict(role, ip, prio, dp, ctl,
    sock, ns)}.  Their control sockets: udp VIP:CTL_PORT (bound before
    the address is theirs) and a unix socket for the notify script."""
    relays = {}
    gw_mac, pa_mac = topo.mac('gw', 'eth0'), topo.mac('pa', 'eth0')
    static = []
    hops = [(e2e.ROUTER_IP_A, gw_mac), (e2e.PHONE_A_IP, pa_mac)]
    if ipv6:
        hops += [(e2e.ROUTER_IP6_A, gw_mac), (e2e.PHONE_A_IP6, pa_mac)]
    for ip, mac in hops:
        static += ['--neigh', '%s,%s' % (ip, mac)]
    for name, role, ip, rid, prio in RELAYS:
        peer = [r[3] for r in RELAYS if r[3] != rid][0]
        sock = os.path.join(d, 'ha-%s.sock' % name)
        # The next hops (phone A, the gateway) as static neighbours, as
        # if the standby knew them already: a takeover then sends no
        # ARP request of its own, whose broadcast would re-point every
        # host's entry for 192.0.2.1 as a gratuitous ARP does (RFC 826
        # merge); so here only the announcements re-point the hosts.
        extra = ['--standby'] + (['--gateway6', e2e.ROUTER_IP6_A] if ipv6 else [])
        dp = e2e.start_dataplane(topo, build, prefixes[name], ns=role, lcores=LCORES,
                                 ipv6=ipv6, extra_dp=extra + static)
        ctl = e2e.start_control(topo, build, prefixes[name], ns=role, ipv6=ipv6, extra_ctl=[
            '-s', 'udp:%s:%d' % (VIP, CTL_PORT), '-s', 'unix:' + sock,
            '--redis', '%s:%d' % (MG_IP, REDIS_PORT), '--redis-relay-id', rid,
            '--ha', 'standby', '--ha-peer', peer])
        relays[name] = {'role': role, 'ip': ip, 'prio': prio, 'dp': dp, 'ctl': ctl,
                        'sock': sock, 'ns': topo.ns[role]}
    return relays


def start_vrrp(topo, relays, d, ctl_bin, script):
    """keepalived on both relays, A first: A becomes master (its control
    restores nothing), B backup.  @return {name: (Proc, vrrp pid file)}."""
    kas = {}
    for n, other in (('A', 'B'), ('B', 'A')):
        r = relays[n]
        notify = '%s -c %s -s unix:%s' % (script, ctl_bin, r['sock'])
        mark = r['ctl'].log_mark()
        kas[n] = start_keepalived(topo, r['role'], d, n, r['prio'], r['ip'],
                                  relays[other]['ip'], notify)
        if n == 'A':
            m = r['ctl'].wait_for_log(r'HA: master: active.* (\d+) sessions restored',
                                      timeout=10, since=mark)
            check(m.group(1) == '0', 'A took the addresses with nothing to restore')
        else:
            kas[n][0].wait_for_log(r'Entering BACKUP STATE', timeout=10)
    return kas


def start_redis(topo, d):
    """redis-server on MG_IP:REDIS_PORT in 'sw', no persistence."""
    redis = topo.proc('sw', ['redis-server', '--bind', MG_IP, '--port', str(REDIS_PORT),
                             '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
                             '--dir', d], name='redis')
    redis.wait_for_log(r'Ready to accept connections', timeout=10)
    return redis


def kill_relay(ka, r):
    """Relay r dies as a box does: keepalived (ka, from start_vrrp()), its
    dataplane and control get SIGKILL.  @return the time of the kill
    (time.time())."""
    vrrp_pid = read_pid(ka[1])
    t_kill = time.time()
    # keepalived's VRRP child first frozen (its parent would respawn
    # it if it died first; if the parent died first, the child would
    # stop cleanly, sending a priority 0 advert: a dead box sends
    # nothing), then everything killed
    os.kill(vrrp_pid, signal.SIGSTOP)
    for p in (ka[0], r['dp'], r['ctl']):
        p.signal(signal.SIGKILL)
    os.kill(vrrp_pid, signal.SIGKILL)
    for p in (ka[0], r['dp'], r['ctl']):
        p.wait(timeout=10)
    return t_kill


def wait_restored(ctl, mark, n):
    """Wait (bounded) for ctl's takeover log line since mark and check it
    restored n sessions, none dropped.  @return the match (group 1 the
    time stamp)."""
    m = ctl.wait_for_log(r'^(\S+) \S+: HA: master: active.* (\d+) sessions restored '
                         r'\((\d+) found, (\d+) dropped, (\d+) already here\) in '
                         r'(\d+) ms', timeout=10, since=mark)
    check(m.group(2) == str(n) and m.group(4) == '0',
          "the standby restored the active's %d sessions: %s" % (n, m.group(0)))
    return m


def stop_survivor(ka, r, redis):
    """Stop by PID what a test leaves running: relay r's keepalived (ka,
    from start_vrrp()), dataplane and control, and redis."""
    ka[0].stop(timeout=5)
    e2e.stop_relay(r['dp'], r['ctl'])
    redis.stop(timeout=5)


def body(build, prefix):
    t_start = time.monotonic()
    d = e2e.logdir()
    build = os.path.abspath(build)
    ctl_bin = os.path.join(build, 'tools', 'rtpb-ctl')
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                          'deploy', 'ha', 'rtpb-ha-notify')
    script = os.path.abspath(script)
    prefixes = {'A': prefix, 'B': e2e.unique_prefix()}
    with FailoverTopology(ipv6=True) as topo:
        redis = start_redis(topo, d)
        relays = start_pair(topo, build, prefixes, d, True)
        local = lambda n, c: e2e.rtpproxy_cmd(relays[n]['ns'], c)
        proxy = lambda c: e2e.rtpproxy_cmd(topo.switch, c, sock=(VIP, CTL_PORT))

        # --- 1. both silent; keepalived makes A master ----------------------
        for n in relays:
            check(local(n, 'HA') == 'standby', 'relay %s starts standby' % n)
        kas = start_vrrp(topo, relays, d, ctl_bin, script)
        time.sleep(0.5)
        check(local('A', 'HA') == 'active' and local('B', 'HA') == 'standby',
              'A active, B standby')
        check(proxy('V') == '20040107', 'the control address answers (A)')

        # --- 2. calls through A ---------------------------------------------
        calls = []
        for i in range(N_CALLS):
            cid, a_port, b_port = 'fo-%d' % i, 4000 + 10 * i, 6000 + 10 * i
            v6 = i == N_CALLS - 1
            m6, ip_a, ip_b = ('6', e2e.PHONE_A_IP6, e2e.PHONE_B_IP6) if v6 else \
                ('', e2e.PHONE_A_IP, e2e.PHONE_B_IP)
            p0, addr0, _ = e2e.parse_ul_reply(proxy('U%s %s %s %d fa%d' % (m6, cid, ip_a,
                                                                            a_port, i)))
            p1, addr1, _ = e2e.parse_ul_reply(proxy('L%s %s %s %d fa%d tb%d' % (
                m6, cid, ip_b, b_port, i, i)))
            calls.append((cid, 'fa%d' % i, 'tb%d' % i, e2e.hostport(ip_a, a_port),
                          e2e.hostport(ip_b, b_port),
                          e2e.hostport(addr0 or e2e.RELAY_IP, p0),
                          e2e.hostport(addr1 or e2e.RELAY_IP, p1)))
        check(e2e.parse_info(local('A', 'I')).get('active sessions') == N_CALLS,
              'A holds the %d calls' % N_CALLS)
        running = []
        for i, (cid, ft, tt, a_bind, b_bind, to_b, to_a) in enumerate(calls):
            e2e.log('%s: A %s -> %s, B %s -> %s' % (cid, a_bind, to_a, b_bind, to_b))
            running.append(e2e.Call(topo, to_a, to_b, N_PKTS, INTERVAL_MS,
                                    cid, a_bind=a_bind, b_bind=b_bind,
                                    ssrcs=('a%07x' % i, 'b%07x' % i), start_delay_ms=2500,
                                    a_extra=['--rx-log'], b_extra=['--rx-log']))
        t0 = max(c.t0 for c in running)
        time.sleep(max(0.0, t0 + KILL_AFTER_S - time.time()))
        idx = e2e.run([e2e.IP, 'netns', 'exec', topo.switch, 'redis-cli', '-h', MG_IP,
                       '-p', str(REDIS_PORT), 'SCARD', 'rtpb:relayA:idx']).stdout.strip()
        check(idx == str(N_CALLS), "Redis holds A's %d sessions (SCARD %s)" % (N_CALLS, idx))

        # --- 3. A dies; B takes over -----------------------------------------
        a, b = relays['A'], relays['B']
        mark = b['ctl'].log_mark()
        t_kill = kill_relay(kas['A'], a)
        m = wait_restored(b['ctl'], mark, N_CALLS)
        # control's stamp: VRRP's master-down interval, keepalived's
        # notify, rtpb-ctl, the restore and the wait for the dataplane
        t_active = e2e.ctl_log_time(m.group(1), t_kill)
        e2e.log('FIGURE failover: B active %.0f ms after the kill (VRRP detection, notify, '
                'restore of %d sessions in %s ms)' % (1000 * (t_active - t_kill), N_CALLS,
                                                     m.group(6)))
        check(local('B', 'HA') == 'active', 'B active')
        results = [c.results() for c in running]
        gaps, losses = [], []
        for (cid, *_), c, (pa, pb) in zip(calls, running, results):
            for name, ph in (('B->A', pa), ('A->B', pb)):
                # the failover is the longest silence from just before the
                # kill on (packets A relayed may still arrive after it); what
                # follows it came through B (A is dead)
                rx = rx_times(ph, c.t0)
                k = [i for i in range(len(rx) - 1) if rx[i][0] >= t_kill - 0.2]
                check(k and rx[0][0] < t_kill, '%s %s: media before the kill and after it'
                      % (cid, name))
                i = max(k, key=lambda j: rx[j + 1][0] - rx[j][0])
                check(rx[i + 1][0] > t_active - 0.05,
                      '%s %s: media through B after the takeover (last packet %.0f ms '
                      'after the kill)' % (cid, name, 1000 * (rx[-1][0] - t_kill)))
                before, after = rx[:i + 1], rx[i + 1:]
                gap = after[0][0] - before[-1][0]
                lost = after[0][1] - before[-1][1] - 1
                gaps.append(gap)
                losses.append(lost)
                e2e.log('FIGURE failover %s %s: %.0f ms from the last packet through A to '
                        'the first through B (%.0f ms after B active), %d packets lost '
                        '(%d received of %d)' % (cid, name, 1000 * gap,
                                                 1000 * (after[0][0] - t_active), lost,
                                                 ph['received_valid'], N_PKTS))
                check(gap < FAILOVER_BOUND_S, '%s %s: media back within %.1f s (%.0f ms)'
                      % (cid, name, FAILOVER_BOUND_S, 1000 * gap))
                expect(ph['received_valid'] + lost >= N_PKTS - 10,
                       '%s %s: no loss but the failover gap (%d received, %d lost in it)'
                       % (cid, name, ph['received_valid'], lost))
        e2e.log('FIGURE failover: gap max %.0f ms, mean %.0f ms; packets lost per call '
                'and direction max %d, mean %.1f (%d calls)'
                % (1000 * max(gaps), 1000 * sum(gaps) / len(gaps), max(losses),
                   sum(losses) / len(losses), N_CALLS))
        st = e2e.telemetry(prefixes['B'], '/rtpbypass/stats', unwrap=True)
        e2e.log('B dataplane: relayed %d, ha_garps %d, ha_unsol_nas %d, drop_standby %d, '
                'arp_requests %d, nd_requests %d' % (
                    st['relayed'], st['ha_garps'], st['ha_unsol_nas'], st['drop_standby'],
                    st['arp_requests'], st['nd_requests']))
        check(st['ha_garps'] == 2 * 3 and st['ha_unsol_nas'] == 3,
              'B announced 192.0.2.1 and %s: 3 rounds of a gratuitous ARP request and reply '
              '(%d) and of an unsolicited NA (%d)' % (e2e.RELAY_IP6, st['ha_garps'],
                                                      st['ha_unsol_nas']))
        check(st['relayed'] > 0, 'B relayed the calls')

        # --- 4. the proxy's D on B; a new call -------------------------------
        for cid, ft, tt, *_ in calls:
            check(proxy('D %s %s %s' % (cid, ft, tt)) == '0', 'D %s succeeds on B' % cid)
        check(e2e.parse_info(local('B', 'I')).get('active sessions') == 0,
              'B has no session after the Ds')
        p0, _, _ = e2e.parse_ul_reply(proxy('U fo-new %s 4100 fn' % e2e.PHONE_A_IP))
        p1, _, _ = e2e.parse_ul_reply(proxy('L fo-new %s 6100 fn tn' % e2e.PHONE_B_IP))
        na, nb = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                          100, INTERVAL_MS, 'fo-new', a_port=4100, b_port=6100).results()
        check(na['received_valid'] >= 95 and nb['received_valid'] >= 95,
              'a new call through B: A got %d, B got %d of 100'
              % (na['received_valid'], nb['received_valid']))
        check(proxy('D fo-new fn tn') == '0', 'the new call ends on B')

        stop_survivor(kas['B'], b, redis)
        names = list(topo.ns.values())
    e2e.cleanup_dpdk_prefix(prefixes['B'])
    check(not [n for n in names if e2e.netns_exists(n)], 'every namespace is gone')
    e2e.log('test took %.1f s' % (time.monotonic() - t_start))


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__.split('\n')[0]))
