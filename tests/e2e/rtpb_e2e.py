# SPDX-License-Identifier: BSD-3-Clause
"""rtpb_e2e: end-to-end test helpers for rtpbypass (Python 3 stdlib only).

What this module owns: the throw-away network namespaces an e2e test runs
in, the processes it starts, and the DPDK run-time files those processes
leave behind.  Everything it creates carries a per-run tag and is removed
at exit, also on an exception, SIGINT, SIGTERM or SIGHUP.  Needs root.

Topology (see Topology):

    <tag>pa  phone A   eth0 192.0.2.10/24 (+192.0.2.11 on demand) --+
    <tag>at  attacker  eth0 192.0.2.66/24 (optional) ---------------+
    <tag>rl  relay     rl0  (no kernel IP: 192.0.2.1 is in DPDK) ---+-- <tag>sw br0
    <tag>gw  router    eth0 192.0.2.254/24 -------------------------+
                       eth1 198.51.100.254/24 --- <tag>pb phone B eth0 198.51.100.20/24

Public API, in the order a test uses it:

    with Topology(attacker=False) as topo:         # builds, and tears down
        p = topo.proc('rl', [dataplane, ...], name='dp')     # a Proc in ns rl
        p.wait_for_log(r'ready', timeout=10)
        reply = rtpproxy_cmd(topo.relay, 'V')       # -> '20040107'
        stats = telemetry(prefix, '/rtpbypass/stats')
    # every namespace is gone here, every Proc stopped

    prefix = unique_prefix(); ...; cleanup_dpdk_prefix(prefix)

Helpers: ns_exec() / ns_run() run a command in a namespace; ns_socket()
makes a socket inside a namespace from this process; Capture reads frames
from an interface (AF_PACKET) and l4_checksum_ok() checks them.

The relay and calls: start_relay() / stop_relay() (ipv6=True adds the
relay's IPv6 address); Call (phones A and B, any rtpb_phone.py option,
e.g. a mid-call move); PhoneRun (one rtpb_phone.py, a phone or the
attacker); parse_ul_reply(), handover_lines() (control's log),
info_handovers() ('I'), stats_delta() (telemetry).  Tests: run_test()
is their main(); check() asserts and stops, expect() asserts and goes on.

Command line (for manual use):
    rtpb_e2e.py --cmd NS HOST:PORT 'COMMAND'   one rtpproxy command
    rtpb_e2e.py --telemetry PREFIX /CMD         one telemetry query
    rtpb_e2e.py --list-stale | --cleanup-stale  namespaces of dead runs

Every wait in this module is bounded by a timeout; every loop by a count.
"""

import atexit
import ctypes
import errno
import fcntl
import glob
import itertools
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

# ---------------------------------------------------------------------------
# Addresses: documentation ranges only (RFC 5737).  The relay address lives
# in the DPDK process, never on a kernel interface.
RELAY_IP = '192.0.2.1'
PHONE_A_IP = '192.0.2.10'
PHONE_A_IP2 = '192.0.2.11'
ATTACKER_IP = '192.0.2.66'
ROUTER_IP_A = '192.0.2.254'
ROUTER_IP_B = '198.51.100.254'
PHONE_B_IP = '198.51.100.20'
PREFIX_LEN = 24
# IPv6 (RFC 3849), used only with Topology(ipv6=True).
RELAY_IP6 = '2001:db8:a::1'
PHONE_A_IP6 = '2001:db8:a::10'
ROUTER_IP6_A = '2001:db8:a::fe'
ROUTER_IP6_B = '2001:db8:b::fe'
PHONE_B_IP6 = '2001:db8:b::20'
PREFIX6_LEN = 64

RELAY_IFACE = 'rl0'
RTPPROXY_SOCK = ('127.0.0.1', 22222)

IP = shutil.which('ip') or '/usr/sbin/ip'
ETHTOOL = shutil.which('ethtool') or '/usr/sbin/ethtool'
SYSCTL = shutil.which('sysctl') or '/usr/sbin/sysctl'
NETNS_DIR = '/run/netns'
HUGEPAGE_DIR = '/dev/hugepages'

_CMD_TIMEOUT = 15.0     # seconds, for any setup command (ip, ethtool, ...)


class E2EError(Exception):
    """A setup step, a process or a check of this module failed."""


class E2ETimeout(E2EError, TimeoutError):
    """A bounded wait ran out."""


def log(msg):
    """One line on stderr, prefixed, flushed (tests interleave with procs)."""
    sys.stderr.write('[rtpb_e2e %.3f] %s\n' % (time.monotonic(), msg))
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Cleanup registry: everything created is registered here, and removed by
# cleanup_all() at exit (atexit) and on SIGINT/SIGTERM/SIGHUP (the handler
# raises SystemExit, so try/finally blocks and __exit__ run first).

class _Registry:
    """Live objects to clean up, removed in order procs, prefixes, topos."""

    def __init__(self):
        self.lock = threading.RLock()
        self.procs = []         # Proc
        self.prefixes = []      # DPDK file prefixes
        self.topos = []         # Topology
        self.logdir = None
        self.keep_logs = os.environ.get('RTPB_E2E_KEEP_LOGS') == '1'


_REG = _Registry()
_SIGNALS_INSTALLED = False


def _on_signal(signum, frame):
    """Turn a termination signal into SystemExit so finally blocks run."""
    # Ignore repeats while unwinding, so cleanup is not interrupted twice.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def install_signal_handlers():
    """Install SIGINT/SIGTERM/SIGHUP handlers once (main thread only).

    A handler already set by the caller (not SIG_DFL, nor Python's default
    SIGINT handler) is left alone.  Called by Topology, Proc, unique_prefix.
    """
    global _SIGNALS_INSTALLED
    if _SIGNALS_INSTALLED:
        return
    if threading.current_thread() is not threading.main_thread():
        return
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        cur = signal.getsignal(s)
        if cur in (signal.SIG_DFL, signal.default_int_handler, None):
            signal.signal(s, _on_signal)
    _SIGNALS_INSTALLED = True
    atexit.register(cleanup_all)


def cleanup_all():
    """Stop every Proc, remove every DPDK prefix and Topology still alive.

    Idempotent; runs at exit.  Errors are logged, never raised, so that one
    failed step does not keep the others from running.
    """
    with _REG.lock:
        procs = list(reversed(_REG.procs))
        prefixes = list(_REG.prefixes)
        topos = list(reversed(_REG.topos))
    for p in procs:
        try:
            p.stop()
        except Exception as e:       # noqa: BLE001 - keep cleaning up
            log('cleanup: stopping %s: %s' % (p, e))
    for pfx in prefixes:
        try:
            cleanup_dpdk_prefix(pfx)
        except Exception as e:       # noqa: BLE001
            log('cleanup: prefix %s: %s' % (pfx, e))
    for t in topos:
        try:
            t.destroy()
        except Exception as e:       # noqa: BLE001
            log('cleanup: topology %s: %s' % (t.tag, e))
    with _REG.lock:
        logdir, keep = _REG.logdir, _REG.keep_logs
        if logdir and not keep:
            shutil.rmtree(logdir, ignore_errors=True)
            _REG.logdir = None
    if logdir and keep and not getattr(_REG, 'told', False):
        _REG.told = True
        log('logs kept in %s' % logdir)


def logdir():
    """The per-run temp dir holding process logs (created on first use).

    Removed at exit unless keep_logs() was called or RTPB_E2E_KEEP_LOGS=1.
    """
    with _REG.lock:
        if _REG.logdir is None:
            _REG.logdir = tempfile.mkdtemp(prefix='rtpb-e2e-%d-' % os.getpid())
        return _REG.logdir


def keep_logs(keep=True):
    """Keep the log dir after exit (call it when a test fails)."""
    _REG.keep_logs = keep


# ---------------------------------------------------------------------------
# Running commands, in the root namespace or in a named one.

def run(argv, timeout=_CMD_TIMEOUT, check=True, **kw):
    """Run argv to completion (bounded by timeout), capture its output.

    @return subprocess.CompletedProcess (text mode)
    @raise E2EError naming the command and its stderr if check and rc != 0,
           E2ETimeout if it runs past timeout seconds.
    """
    try:
        cp = subprocess.run(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        raise E2ETimeout('%s: timed out after %.1fs'
                         % (' '.join(argv), timeout)) from e
    except OSError as e:
        raise E2EError('%s: %s' % (' '.join(argv), e)) from e
    if check and cp.returncode != 0:
        raise E2EError('%s: exit %d: %s' % (' '.join(argv), cp.returncode,
                                            cp.stderr.strip()))
    return cp


NSENTER = shutil.which('nsenter') or '/usr/bin/nsenter'


def ns_argv(ns, argv, mode='ip'):
    """argv prefixed to run inside namespace ns (None: root namespace).

    mode 'ip': 'ip netns exec NS' (the default).  It also enters a private
      mount namespace and mounts a fresh /sys for NS, so /sys/class/net
      shows NS's interfaces, but whatever was mounted under /sys in the
      root (bpffs on /sys/fs/bpf, cgroup2) is gone: BPF pinning fails and
      libxdp falls back to loading without its dispatcher.
    mode 'nsenter': 'nsenter --net=/run/netns/NS --' enters only the
      network namespace: /sys (and /sys/fs/bpf, shared with the root and
      with every other process) stays the root's.  Use it for processes
      that pin or look up BPF objects.
    mode 'join:PID': 'nsenter -t PID -m -n --' enters the network and mount
      namespaces of process PID, e.g. a Topology.bpffs_holder() that has a
      private bpffs on /sys/fs/bpf: the processes that join it (the
      dataplane, whose net_af_xdp PMD loads the prefilter and pins its
      maps, and control) share those pins and nobody else sees them.
    Both exec the program: the child's PID is the program's own PID, so
    signals sent to it reach the program directly.
    """
    if ns is None:
        return list(argv)
    if mode.startswith('join:'):
        return [NSENTER, '-t', str(int(mode[5:])), '-m', '-n', '--'] + list(argv)
    if mode == 'ip':
        return [IP, 'netns', 'exec', ns] + list(argv)
    if mode == 'nsenter':
        return [NSENTER, '--net=' + os.path.join(NETNS_DIR, ns), '--'] \
            + list(argv)
    raise ValueError('ns mode %r' % mode)


def ns_exec(ns, argv, **popen_kwargs):
    """Start argv inside namespace ns; return the subprocess.Popen.

    The caller owns the process (wait/stop it); prefer Proc for anything
    long-running, as Proc is stopped at exit.  stdin defaults to DEVNULL.
    """
    popen_kwargs.setdefault('stdin', subprocess.DEVNULL)
    return subprocess.Popen(ns_argv(ns, argv), **popen_kwargs)


def ns_run(ns, argv, timeout=_CMD_TIMEOUT, check=True, **kw):
    """run() argv inside namespace ns; see run()."""
    return run(ns_argv(ns, argv), timeout=timeout, check=check, **kw)


_libc = None
_CLONE_NEWNET = 0x40000000


def _setns(fd, nstype):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, nstype) != 0:
        e = ctypes.get_errno()
        raise OSError(e, 'setns: %s' % os.strerror(e))


def ns_socket(ns, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0):
    """Create a socket inside namespace ns (None: here) and return it.

    The network namespace is a per-thread attribute: a short-lived thread
    enters /run/netns/<ns> with setns(2), creates the socket and exits.  The
    socket stays in that namespace for its whole life, and this process's
    threads never change namespace.  Needs CAP_SYS_ADMIN.
    """
    if ns is None:
        return socket.socket(family, type, proto)
    result = {}

    def body():
        try:
            fd = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY)
            try:
                _setns(fd, _CLONE_NEWNET)
            finally:
                os.close(fd)
            result['sock'] = socket.socket(family, type, proto)
        except BaseException as e:   # noqa: BLE001 - handed to the caller
            result['err'] = e

    t = threading.Thread(target=body, name='ns_socket:%s' % ns, daemon=True)
    t.start()
    t.join(5.0)
    if t.is_alive():
        raise E2ETimeout('ns_socket(%s): thread did not finish' % ns)
    if 'err' in result:
        raise E2EError('ns_socket(%s): %s' % (ns, result['err']))
    return result['sock']


def netns_exists(ns):
    return os.path.exists(os.path.join(NETNS_DIR, ns))


def netns_list():
    """Names of the named network namespaces (as 'ip netns list')."""
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------------------
# Processes.

_proc_seq = itertools.count(1)
_PR_SET_PDEATHSIG = 1


def _pdeathsig_term():
    """preexec_fn: the child gets SIGTERM if this process dies first.

    So a test runner killed with SIGKILL does not leave a dataplane behind.
    (Set on the thread that forks: start Procs from the main thread.)
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Proc:
    """A process started (optionally inside a netns) with logs to files.

    stdout goes to <logdir>/<name>.out, stderr to <logdir>/<name>.err.
    ns_mode: how to enter ns, 'ip' or 'nsenter' (see ns_argv()).
    Every Proc is registered and stopped at exit.  Stopping is always by
    PID: SIGTERM, then SIGKILL after the timeout.

        p = Proc(['rtpbypass-control', ...], ns=topo.relay, name='ctl')
        p.wait_for_log(r'listening on .*:22222', timeout=10)
        rc = p.stop(timeout=5)
    """

    def __init__(self, argv, ns=None, name=None, env=None, cwd=None,
                 stdin=subprocess.DEVNULL, ns_mode='ip'):
        install_signal_handlers()
        self.argv = list(argv)
        self.ns = ns
        base = name or os.path.basename(self.argv[0])
        self.name = '%s.%d' % (re.sub(r'[^A-Za-z0-9_.-]', '_', base),
                               next(_proc_seq))
        d = logdir()
        self.out_path = os.path.join(d, self.name + '.out')
        self.err_path = os.path.join(d, self.name + '.err')
        out = open(self.out_path, 'wb')
        err = open(self.err_path, 'wb')
        try:
            self.popen = subprocess.Popen(
                ns_argv(ns, self.argv, ns_mode), stdin=stdin, stdout=out, stderr=err,
                env=env, cwd=cwd, preexec_fn=_pdeathsig_term)
        finally:
            out.close()
            err.close()
        self.pid = self.popen.pid
        with _REG.lock:
            _REG.procs.append(self)
        log('started %s pid %d%s: %s' % (self.name, self.pid,
                                         ' in ' + ns if ns else '',
                                         _show_argv(self.argv)))

    def __repr__(self):
        return 'Proc(%s pid=%d)' % (self.name, self.pid)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def poll(self):
        """Exit status, or None while running."""
        return self.popen.poll()

    @property
    def running(self):
        return self.popen.poll() is None

    def output(self):
        """(stdout, stderr) logged so far, as text."""
        return (_read_text(self.out_path), _read_text(self.err_path))

    def log_mark(self):
        """Current log sizes; pass as since= to wait_for_log()."""
        return (_size(self.out_path), _size(self.err_path))

    def tail(self, nlines=20):
        """Last lines of both logs, for error messages."""
        out, err = self.output()
        lines = (out.splitlines()[-nlines:] + ['--- stderr ---']
                 + err.splitlines()[-nlines:])
        return '\n'.join(lines)

    def wait_for_log(self, regex, timeout=10.0, since=None, stream='both'):
        """Wait until regex matches the stdout or stderr log.

        since: a log_mark() value, to look only at what came after it.
        stream: 'out', 'err' or 'both'.
        @return the re.Match
        @raise E2ETimeout after timeout seconds, E2EError if the process
               exited without the match; both carry the log tail.
        """
        pat = re.compile(regex, re.M)
        since = since or (0, 0)
        deadline = time.monotonic() + timeout
        paths = []
        if stream in ('out', 'both'):
            paths.append((self.out_path, since[0]))
        if stream in ('err', 'both'):
            paths.append((self.err_path, since[1]))
        while True:
            exited = self.popen.poll() is not None
            for path, off in paths:
                m = pat.search(_read_text(path, off))
                if m:
                    return m
            if exited:
                raise E2EError('%s exited (rc %s) before logging /%s/:\n%s'
                               % (self.name, self.popen.returncode, regex,
                                  self.tail()))
            if time.monotonic() >= deadline:
                raise E2ETimeout('%s: no /%s/ in logs after %.1fs:\n%s'
                                 % (self.name, regex, timeout, self.tail()))
            time.sleep(0.02)

    def wait(self, timeout=10.0):
        """Wait for exit; @return the exit status; E2ETimeout if still up."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired as e:
            raise E2ETimeout('%s: still running after %.1fs'
                             % (self.name, timeout)) from e

    def signal(self, signum):
        """Send signum to this process (by PID) if it still runs."""
        if self.popen.poll() is None:
            os.kill(self.pid, signum)

    def stop(self, timeout=5.0):
        """SIGTERM, then SIGKILL after timeout; by PID.  Idempotent.

        @return the exit status (negative: killed by that signal).
        """
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log('%s pid %d ignored SIGTERM for %.1fs: SIGKILL'
                    % (self.name, self.pid, timeout))
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(10.0)
        with _REG.lock:
            if self in _REG.procs:
                _REG.procs.remove(self)
        return self.popen.returncode


def _show_argv(argv):
    """argv for a log line: long or multi-line arguments shortened."""
    out = []
    for a in argv:
        a = a.replace('\n', ' ')
        out.append(a if len(a) <= 80 else a[:60] + '...')
    return ' '.join(out)


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _read_text(path, offset=0):
    try:
        with open(path, 'rb') as f:
            f.seek(offset)
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


# ---------------------------------------------------------------------------
# Topology.

_topo_seq = itertools.count(0)
_NS_ROLES = ('sw', 'rl', 'pa', 'gw', 'pb', 'at')
_TAG_RE = re.compile(r'^rtpb(\d+)([a-z]+)(%s)$' % '|'.join(_NS_ROLES))


def _tag_letters(n):
    """0 -> 'a', 25 -> 'z', 26 -> 'ba': a digit-free per-process counter."""
    s = ''
    while True:
        s = chr(ord('a') + n % 26) + s
        n //= 26
        if n == 0:
            return s


class Topology:
    """The e2e network: a bridge, the relay, two phones, a router.

    Namespaces are '<tag><role>' with tag 'rtpb<pid><letters>' and role in
    sw (bridge), rl (relay), pa (phone A), gw (router), pb (phone B), at
    (attacker, only with attacker=True).  Attributes: .tag, .ns (role ->
    name), .switch .relay .phone_a .router .phone_b .attacker (names),
    .relay_iface ('rl0'), .relay_mac.

    Interfaces are created directly in their namespaces (veth peer netns),
    never in the root namespace, so parallel runs cannot collide there.
    The bridge side of each veth is s_<role> in the sw namespace.

    Every veth end gets 'ethtool -K IF tx off': without it the kernel leaves
    UDP checksums CHECKSUM_PARTIAL on veth, and what the AF_XDP reader sees
    on rl0 carries a wrong (pseudo-header only) checksum.

    IPv6 is disabled in every namespace unless ipv6=True, which keeps it on
    the phones, the router and the attacker (addresses from 2001:db8::/32,
    no DAD) and forwards it on the router; the bridge and the relay veth
    always have IPv6 off (no RS/DAD/MLD noise from the kernel on rl0).

        with Topology() as topo:
            topo.run('pa', ['ping', '-c1', ROUTER_IP_A])
    """

    def __init__(self, attacker=False, ipv6=False, relay_queues=1, tag=None):
        self.tag = tag or 'rtpb%d%s' % (os.getpid(),
                                        _tag_letters(next(_topo_seq)))
        roles = [r for r in _NS_ROLES if r != 'at' or attacker]
        self.ns = {r: self.tag + r for r in roles}
        self.switch = self.ns['sw']
        self.relay = self.ns['rl']
        self.phone_a = self.ns['pa']
        self.router = self.ns['gw']
        self.phone_b = self.ns['pb']
        self.attacker = self.ns.get('at')
        self.relay_iface = RELAY_IFACE
        self.relay_mac = None
        self.ipv6 = ipv6
        self.relay_queues = relay_queues
        self.procs = []
        self._created = []
        self._destroyed = False

    # -- context manager ---------------------------------------------------
    def __enter__(self):
        install_signal_handlers()
        with _REG.lock:
            _REG.topos.append(self)
        try:
            self._build()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False

    # -- helpers -----------------------------------------------------------
    def _name(self, ns):
        """Accept a role ('pa') or a full namespace name."""
        return self.ns.get(ns, ns)

    def run(self, ns, argv, timeout=_CMD_TIMEOUT, check=True):
        """ns_run() in this topology; ns is a role or a full name."""
        return ns_run(self._name(ns), argv, timeout=timeout, check=check)

    def exec(self, ns, argv, **popen_kwargs):
        """ns_exec() in this topology; ns is a role or a full name."""
        return ns_exec(self._name(ns), argv, **popen_kwargs)

    def proc(self, ns, argv, name=None, **kw):
        """Start a Proc in ns, stopped by destroy() before the ns goes."""
        p = Proc(argv, ns=self._name(ns), name=name, **kw)
        self.procs.append(p)
        return p

    def bpffs_holder(self, ns):
        """Start a process in ns with a private mount namespace, a fresh
        /sys for ns and a private bpffs on /sys/fs/bpf; it sleeps until
        destroy(). Processes started with ns_mode='join:%d' % holder.pid
        share its network namespace and its bpffs.
        @return the holder Proc (its pins vanish with it)."""
        script = ('mount -t bpf bpf /sys/fs/bpf || exit 1; echo bpffs-ready; '
                  'exec sleep 3600')
        h = self.proc(ns, ['/bin/sh', '-c', script], name='bpffs')
        h.wait_for_log(r'bpffs-ready', timeout=5)
        return h

    def socket(self, ns, family=socket.AF_INET, type=socket.SOCK_DGRAM,
               proto=0):
        """ns_socket() in this topology."""
        return ns_socket(self._name(ns), family, type, proto)

    def _ip(self, ns, *args):
        return run([IP, '-n', self._name(ns)] + list(args))

    def _sysctl(self, ns, *settings):
        ns_run(self._name(ns), [SYSCTL, '-q', '-w'] + list(settings))

    def _tx_off(self, ns, dev):
        ns_run(self._name(ns), [ETHTOOL, '-K', dev, 'tx', 'off'])

    def mac(self, ns, dev):
        """MAC address of dev in ns, e.g. '02:..'."""
        out = self._ip(ns, '-j', 'link', 'show', 'dev', dev).stdout
        return json.loads(out)[0]['address']

    def add_address(self, ns, dev, cidr):
        """Add an address (e.g. '192.0.2.11/24') to dev in ns."""
        self._ip(ns, 'addr', 'add', cidr, 'dev', dev)

    def del_address(self, ns, dev, cidr):
        self._ip(ns, 'addr', 'del', cidr, 'dev', dev)

    def add_phone_a_alt(self):
        """Give phone A its second address 192.0.2.11/24 (handover)."""
        self.add_address('pa', 'eth0', '%s/%d' % (PHONE_A_IP2, PREFIX_LEN))

    def set_neigh(self, ns, ip, mac, dev='eth0'):
        """Static neighbour entry (e.g. the relay address -> relay_mac)."""
        self._ip(ns, 'neigh', 'replace', ip, 'lladdr', mac, 'dev', dev,
                 'nud', 'permanent')

    # -- build -------------------------------------------------------------
    def _veth(self, ns_a, name_a, ns_b, name_b, queues=None):
        """A veth pair created inside ns_a with its peer put in ns_b."""
        args = ['link', 'add', name_a]
        if queues:
            args += ['numtxqueues', str(queues), 'numrxqueues', str(queues)]
        args += ['type', 'veth', 'peer', 'name', name_b]
        if queues:
            args += ['numtxqueues', str(queues), 'numrxqueues', str(queues)]
        args += ['netns', self._name(ns_b)]
        self._ip(ns_a, *args)

    def _build(self):
        log('topology %s: building %s' % (self.tag, ' '.join(self.ns.values())))
        for role, name in self.ns.items():
            if netns_exists(name):
                raise E2EError('namespace %s exists already' % name)
            run([IP, 'netns', 'add', name])
            self._created.append(name)
        # IPv6 off before any interface exists, so no interface ever sends
        # RS/DAD/MLD (the relay's AF_XDP socket would see them).
        for role in self.ns:
            v6 = self.ipv6 and role not in ('sw', 'rl')
            val = '0' if v6 else '1'
            self._sysctl(role, 'net.ipv6.conf.all.disable_ipv6=' + val,
                         'net.ipv6.conf.default.disable_ipv6=' + val)
            if v6:
                self._sysctl(role, 'net.ipv6.conf.all.accept_dad=0',
                             'net.ipv6.conf.default.accept_dad=0')
            self._ip(role, 'link', 'set', 'lo', 'up')

        # Bridge: STP off (the default), so ports forward at once.
        self._ip('sw', 'link', 'add', 'br0', 'type', 'bridge', 'stp_state',
                 '0', 'mcast_snooping', '0')
        ports = [('rl', RELAY_IFACE), ('pa', 'eth0'), ('gw', 'eth0')]
        if self.attacker:
            ports.append(('at', 'eth0'))
        for role, dev in ports:
            sport = 's_' + role
            self._veth('sw', sport, role, dev,
                       self.relay_queues if role == 'rl' and
                       self.relay_queues > 1 else None)
            self._ip('sw', 'link', 'set', sport, 'master', 'br0')
            self._tx_off('sw', sport)
            self._tx_off(role, dev)
            self._ip('sw', 'link', 'set', sport, 'up')
            self._ip(role, 'link', 'set', dev, 'up')
        self._ip('sw', 'link', 'set', 'br0', 'up')
        # Router <-> phone B: a direct veth.
        self._veth('gw', 'eth1', 'pb', 'eth0')
        self._tx_off('gw', 'eth1')
        self._tx_off('pb', 'eth0')
        self._ip('gw', 'link', 'set', 'eth1', 'up')
        self._ip('pb', 'link', 'set', 'eth0', 'up')

        # Addresses and routes.  rl0 gets none: DPDK owns it.
        p = '/%d' % PREFIX_LEN
        self._ip('pa', 'addr', 'add', PHONE_A_IP + p, 'dev', 'eth0')
        self._ip('pa', 'route', 'add', 'default', 'via', ROUTER_IP_A)
        self._ip('gw', 'addr', 'add', ROUTER_IP_A + p, 'dev', 'eth0')
        self._ip('gw', 'addr', 'add', ROUTER_IP_B + p, 'dev', 'eth1')
        self._sysctl('gw', 'net.ipv4.ip_forward=1')
        self._ip('pb', 'addr', 'add', PHONE_B_IP + p, 'dev', 'eth0')
        self._ip('pb', 'route', 'add', 'default', 'via', ROUTER_IP_B)
        if self.attacker:
            self._ip('at', 'addr', 'add', ATTACKER_IP + p, 'dev', 'eth0')
            self._ip('at', 'route', 'add', 'default', 'via', ROUTER_IP_A)
        if self.ipv6:
            q = '/%d' % PREFIX6_LEN
            self._ip('pa', 'addr', 'add', PHONE_A_IP6 + q, 'dev', 'eth0',
                     'nodad')
            self._ip('pa', '-6', 'route', 'add', 'default', 'via',
                     ROUTER_IP6_A)
            self._ip('gw', 'addr', 'add', ROUTER_IP6_A + q, 'dev', 'eth0',
                     'nodad')
            self._ip('gw', 'addr', 'add', ROUTER_IP6_B + q, 'dev', 'eth1',
                     'nodad')
            self._sysctl('gw', 'net.ipv6.conf.all.forwarding=1')
            self._ip('pb', 'addr', 'add', PHONE_B_IP6 + q, 'dev', 'eth0',
                     'nodad')
            self._ip('pb', '-6', 'route', 'add', 'default', 'via',
                     ROUTER_IP6_B)
        self.relay_mac = self.mac('rl', RELAY_IFACE)
        log('topology %s: up (relay iface %s mac %s)'
            % (self.tag, RELAY_IFACE, self.relay_mac))

    # -- teardown ----------------------------------------------------------
    def destroy(self):
        """Stop this topology's Procs, kill what else runs in its
        namespaces (by PID), delete every namespace and check they are gone.
        Idempotent.  @raise E2EError if a namespace survives."""
        if self._destroyed:
            return
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:   # noqa: BLE001
                log('topology %s: stopping %s: %s' % (self.tag, p, e))
        left = []
        for name in reversed(self._created):
            if not netns_exists(name):
                continue
            self._kill_ns_pids(name)
            cp = run([IP, 'netns', 'del', name], check=False)
            if cp.returncode != 0:
                log('ip netns del %s: %s' % (name, cp.stderr.strip()))
        for name in self._created:
            if netns_exists(name) or name in netns_list():
                left.append(name)
        self._destroyed = True
        with _REG.lock:
            if self in _REG.topos:
                _REG.topos.remove(self)
        if left:
            raise E2EError('namespaces left behind: %s' % ' '.join(left))
        log('topology %s: removed' % self.tag)

    @staticmethod
    def _kill_ns_pids(name, timeout=3.0):
        """SIGTERM then SIGKILL the processes still in namespace name.

        They can only be ours (the name is unique to this run); a process
        left in a namespace keeps it, and its veths, alive after 'ip netns
        del'.  Stopped by PID, never by name.
        """
        cp = run([IP, 'netns', 'pids', name], check=False)
        pids = [int(x) for x in cp.stdout.split() if x.isdigit()]
        pids = [p for p in pids if p != os.getpid()]
        if not pids:
            return
        log('namespace %s: still has pids %s, stopping them' % (name, pids))
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                pids = [p for p in pids if _pid_alive(p)]
                if not pids:
                    return
                time.sleep(0.05)


def _pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


def stale_namespaces():
    """Namespaces named by this module whose creating process is dead
    (e.g. a run killed with SIGKILL)."""
    out = []
    for name in netns_list():
        m = _TAG_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            out.append(name)
    return out


def cleanup_stale():
    """Delete stale_namespaces(); @return their names."""
    names = stale_namespaces()
    for name in names:
        Topology._kill_ns_pids(name)
        run([IP, 'netns', 'del', name], check=False)
    return names


# ---------------------------------------------------------------------------
# Frame capture and checksum checks (to see what the relay's AF_XDP socket,
# or a phone, really gets on the wire).

ETH_P_ALL = 0x0003


class Capture:
    """Capture frames on dev inside ns with an AF_PACKET socket.

        with Capture(topo.switch, 's_rl') as cap:
            ... traffic ...
            frames = cap.frames(timeout=0.5)

    Frames sent by the kernel on a veth are captured as handed to the
    driver, so a CHECKSUM_PARTIAL UDP frame shows its partial checksum here,
    as it would to an AF_XDP reader on the peer.  Bounded: at most
    max_frames frames are kept.
    """

    def __init__(self, ns, dev, max_frames=10000):
        self.sock = ns_socket(ns, socket.AF_PACKET, socket.SOCK_RAW,
                              socket.htons(ETH_P_ALL))
        self.sock.bind((dev, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.max_frames = max_frames
        self._frames = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self.sock.close()

    def frames(self, timeout=0.2):
        """All frames captured so far, reading until timeout s of silence.

        @return list of (bytes, pkttype); pkttype as in sockaddr_ll
                (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing).
        """
        self.sock.settimeout(timeout)
        while len(self._frames) < self.max_frames:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                break
            self._frames.append((data, addr[2]))
        return list(self._frames)


def _csum(data):
    """RFC 1071 Internet checksum of data (one's complement sum, folded)."""
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def parse_udp(frame):
    """Parse an Ethernet/IPv4/UDP or Ethernet/IPv6/UDP frame.

    @return dict(src, dst, sport, dport, payload, ip_ok, udp_ok) or None if
            the frame is not UDP.  ip_ok: IPv4 header checksum valid (True
            for IPv6); udp_ok: UDP checksum valid (RFC 768; zero means none
            on IPv4 and counts as valid there, RFC 8200 §8.1 forbids it on
            IPv6).
    """
    if len(frame) < 14:
        return None
    etype = struct.unpack('!H', frame[12:14])[0]
    off = 14
    if etype == 0x8100 and len(frame) >= 18:      # one VLAN tag
        etype = struct.unpack('!H', frame[16:18])[0]
        off = 18
    if etype == 0x0800:
        if len(frame) < off + 20:
            return None
        ihl = (frame[off] & 0xf) * 4
        ip = frame[off:off + ihl]
        if ip[9] != 17 or len(ip) < 20:
            return None
        tot = struct.unpack('!H', ip[2:4])[0]
        src, dst = socket.inet_ntop(socket.AF_INET, ip[12:16]), \
            socket.inet_ntop(socket.AF_INET, ip[16:20])
        udp = frame[off + ihl:off + tot]
        pseudo = ip[12:20] + struct.pack('!BBH', 0, 17, len(udp))
        ip_ok = _csum(ip) == 0
        v4 = True
    elif etype == 0x86dd:
        if len(frame) < off + 40 or frame[off + 6] != 17:
            return None             # extension headers: not handled
        plen = struct.unpack('!H', frame[off + 4:off + 6])[0]
        src = socket.inet_ntop(socket.AF_INET6, frame[off + 8:off + 24])
        dst = socket.inet_ntop(socket.AF_INET6, frame[off + 24:off + 40])
        udp = frame[off + 40:off + 40 + plen]
        pseudo = frame[off + 8:off + 40] + struct.pack('!IxxxB', len(udp), 17)
        ip_ok = True
        v4 = False
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen, ucs = struct.unpack('!HHHH', udp[:8])
    if ucs == 0:
        udp_ok = v4
    else:
        udp_ok = _csum(pseudo + udp) == 0
    return dict(src=src, dst=dst, sport=sport, dport=dport,
                payload=udp[8:ulen], ip_ok=ip_ok, udp_ok=udp_ok)


def l4_checksum_ok(frame):
    """True if frame is not UDP, or is UDP with valid IP and UDP checksums."""
    p = parse_udp(frame)
    return p is None or (p['ip_ok'] and p['udp_ok'])


# ---------------------------------------------------------------------------
# rtpproxy control protocol over UDP.

_cookie_seq = itertools.count(1)


def _parse_hostport(s):
    """'127.0.0.1:22222' or '[::1]:22222' -> (host, port)."""
    if s.startswith('['):
        host, _, port = s[1:].partition(']:')
    else:
        host, _, port = s.rpartition(':')
    return host, int(port)


def rtpproxy_cmd(ns, cmd, sock=RTPPROXY_SOCK, timeout=1.0, retries=3):
    """Send one rtpproxy command over UDP from inside namespace ns.

    The datagram is '<cookie> <cmd>' with a unique cookie '<pid>_<n>'; the
    same datagram is resent after each timeout (up to retries sends in
    all), as rtpproxy clients do, so a relay must answer a repeat from its
    cookie cache.  Replies that carry another cookie are ignored.

    ns: namespace name (None: this one); sock: (host, port) of the control
    socket; timeout: seconds per try.
    @return the reply text without the cookie and trailing newline,
            e.g. '20040107', '0', '35000', 'E8'.
    @raise E2ETimeout if no matching reply after all tries.
    """
    cookie = '%d_%d' % (os.getpid(), next(_cookie_seq))
    fam = socket.AF_INET6 if ':' in sock[0] else socket.AF_INET
    s = ns_socket(ns, fam, socket.SOCK_DGRAM)
    try:
        s.bind(('::' if fam == socket.AF_INET6 else '0.0.0.0', 0))
        msg = ('%s %s' % (cookie, cmd)).encode()
        prefix = (cookie + ' ').encode()
        for attempt in range(max(1, retries)):
            s.sendto(msg, sock)
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    data, _ = s.recvfrom(65535)
                except socket.timeout:
                    break
                if data.startswith(prefix):
                    return data[len(prefix):].decode(
                        'utf-8', 'replace').rstrip('\r\n')
        raise E2ETimeout('rtpproxy_cmd(%s, %r) to %s:%d: no reply after %d '
                         'tries of %.2fs' % (ns, cmd, sock[0], sock[1],
                                             max(1, retries), timeout))
    finally:
        s.close()


# ---------------------------------------------------------------------------
# DPDK: file prefixes and telemetry.

_prefix_seq = itertools.count(1)


def dpdk_runtime_dir(prefix=''):
    """/var/run/dpdk/<prefix>, as EAL and dpdk-telemetry.py compute it
    (RUNTIME_DIRECTORY overrides /var/run; non-root uses XDG_RUNTIME_DIR)."""
    run_dir = os.environ.get('RUNTIME_DIRECTORY')
    if not run_dir:
        if os.getuid() == 0:
            run_dir = '/var/run'
        else:
            run_dir = os.environ.get('XDG_RUNTIME_DIR', '/tmp')
    return os.path.join(run_dir, 'dpdk', prefix)


def unique_prefix():
    """A DPDK --file-prefix unique to this run: 'rtpb<pid>n<k>p'.

    The trailing letter makes the set prefix-free ('...n1p' is not the
    start of '...n12p'), so globbing '<prefix>*' never touches the files of
    another prefix.  Registered: cleanup_dpdk_prefix() runs at exit.
    """
    install_signal_handlers()
    pfx = 'rtpb%dn%dp' % (os.getpid(), next(_prefix_seq))
    with _REG.lock:
        _REG.prefixes.append(pfx)
    return pfx


def q_counts(cmd, call, ftag, ttag):
    """Q's values for a call: (ttl, npkts_ina, npkts_ino, nrelayed,
    ndropped); cmd sends a command and returns the reply."""
    r = cmd('Q %s %s %s' % (call, ftag, ttag))
    m = re.fullmatch(r'(-?\d+) (\d+) (\d+) (\d+) (\d+)', r)
    check(m is not None, 'Q answers five values: %r' % r)
    return tuple(int(x) for x in m.groups())


def journal_path(prefix):
    """The session journal (--journal) of the control of prefix: in the
    temp dir, named after the unique prefix, removed with the prefix's
    files at exit (cleanup_dpdk_prefix()); a control started again on the
    same prefix finds its predecessor's journal."""
    return os.path.join(tempfile.gettempdir(), 'rtpb_%s.journal' % prefix)


def neigh_path(prefix):
    """The dataplane's kept neighbours (--neigh-file) for prefix: in the
    temp dir like journal_path(), so a dataplane started again on the
    same prefix finds what its predecessor resolved."""
    return os.path.join(tempfile.gettempdir(), 'rtpb_%s.neigh' % prefix)


def _prefix_files(prefix):
    pats = [os.path.join(HUGEPAGE_DIR, glob.escape(prefix) + '*'),
            os.path.join(HUGEPAGE_DIR, 'rtpbypass_' + glob.escape(prefix) + '*'),
            # the dataplane's shared memory: <ring-prefix>_<prefix>_shm
            os.path.join(HUGEPAGE_DIR, 'rtpb_' + glob.escape(prefix) + '_shm'),
            os.path.join('/dev/shm', 'rtpb_' + glob.escape(prefix) + '_shm'),
            # control's session journal (journal_path()), and one moved aside
            glob.escape(journal_path(prefix)) + '*',
            # the dataplane's kept neighbours (neigh_path())
            glob.escape(neigh_path(prefix))]
    files = []
    for p in pats:
        files.extend(glob.glob(p))
    d = dpdk_runtime_dir(prefix)
    if os.path.lexists(d):
        files.append(d)
    return sorted(set(files))


def dpdk_prefix_in_use(prefix):
    """True if a live DPDK primary holds this prefix.

    The primary keeps a write lock on /var/run/dpdk/<prefix>/config for
    its whole life; we probe it with a non-blocking lock.
    """
    cfg = os.path.join(dpdk_runtime_dir(prefix), 'config')
    try:
        fd = os.open(cfg, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return True
        raise
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def cleanup_dpdk_prefix(prefix, force=False):
    """Remove what DPDK processes of prefix left: /var/run/dpdk/<prefix>,
    /dev/hugepages/<prefix>* and /dev/hugepages/rtpbypass_<prefix>*.

    Stop the processes first: it refuses (E2EError) while a primary still
    holds the prefix, unless force=True.  Idempotent.
    @return the paths removed.  @raise E2EError if any remain.
    """
    if not prefix or '/' in prefix or prefix in ('.', '..'):
        raise E2EError('bad DPDK prefix %r' % prefix)
    if not force and dpdk_prefix_in_use(prefix):
        raise E2EError('DPDK prefix %s still in use by a live process'
                       % prefix)
    removed = _prefix_files(prefix)
    for path in removed:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            pass
    left = _prefix_files(prefix)
    with _REG.lock:
        if prefix in _REG.prefixes:
            _REG.prefixes.remove(prefix)
    if left:
        raise E2EError('DPDK prefix %s: left behind: %s'
                       % (prefix, ' '.join(left)))
    return removed


def telemetry_path(prefix, instance=None):
    """Path of the telemetry v2 socket of prefix (instance: the ':N'
    suffix DPDK adds for processes after the first, if any)."""
    p = os.path.join(dpdk_runtime_dir(prefix), 'dpdk_telemetry.v2')
    if instance:
        p += ':%d' % instance
    return p


def telemetry(prefix, cmd, timeout=2.0, path=None, unwrap=False):
    """Query the DPDK telemetry v2 socket of prefix with cmd.

    Protocol (as /usr/bin/dpdk-telemetry.py): connect an AF_UNIX
    SOCK_SEQPACKET socket; read the JSON greeting (version, pid,
    max_output_len); send cmd, e.g. '/rtpbypass/stats' or
    '/ethdev/stats,0'; read one JSON reply of at most max_output_len bytes.

    path: socket path overriding the one of prefix (tests).
    @return the parsed reply, e.g. {'/rtpbypass/stats': {...}}; with
            unwrap=True the value under cmd's name (None if the command is
            unknown: DPDK answers {cmd: null}).
    @raise E2EError if the socket is missing or the reply is not JSON,
           E2ETimeout on timeout.
    """
    path = path or telemetry_path(prefix)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.settimeout(timeout)
        try:
            s.connect(path)
        except OSError as e:
            raise E2EError('telemetry %s: connect: %s' % (path, e)) from e
        try:
            hello = json.loads(s.recv(1024).decode())
            max_len = int(hello.get('max_output_len', 16384))
            s.send(cmd.encode())
            raw = s.recv(max(max_len, 1024))
        except socket.timeout as e:
            raise E2ETimeout('telemetry %s: %s: timeout' % (path, cmd)) from e
        try:
            reply = json.loads(raw.decode())
        except ValueError as e:
            raise E2EError('telemetry %s: %s: bad JSON: %r'
                           % (path, cmd, raw[:200])) from e
    finally:
        s.close()
    if unwrap:
        name = cmd.split(',', 1)[0]
        return reply.get(name)
    return reply



def mbufs_in_use(topo, prefix, pool='rtpb_mbufs'):
    """How many mbufs of the dataplane's pool are in use (not in the pool
    nor in a per-lcore cache), and the pool's size, read by a DPDK
    secondary process (dpdk-proc-info --show-mempool) in the relay
    namespace: DPDK 22.11's telemetry /mempool/info has no counts. The
    dataplane must run without --huge-unlink (start_relay(huge_unlink=
    False)): a secondary maps the primary's hugepage files.
    @return (in_use, size)
    @raise E2EError if proc-info fails or prints no count."""
    cp = topo.run('rl', ['dpdk-proc-info', '--no-pci', '--file-prefix', prefix, '--',
                         '--show-mempool=%s' % pool], timeout=20, check=False)
    m = re.search(r'Count: avail \((\d+)\), in use \((\d+)\)', cp.stdout)
    if m is None:
        raise E2EError('dpdk-proc-info --show-mempool=%s: no count (exit %d): %s'
                       % (pool, cp.returncode, (cp.stdout + cp.stderr)[-300:]))
    avail, used = int(m.group(1)), int(m.group(2))
    return used, avail + used

# ---------------------------------------------------------------------------
# Command line.

def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description='rtpbypass e2e helpers')
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--cmd', nargs=3, metavar=('NS', 'HOST:PORT', 'COMMAND'),
                   help="send one rtpproxy command from NS ('-' for here)")
    g.add_argument('--telemetry', nargs=2, metavar=('PREFIX', 'CMD'))
    g.add_argument('--list-stale', action='store_true')
    g.add_argument('--cleanup-stale', action='store_true')
    ap.add_argument('--timeout', type=float, default=1.0)
    ap.add_argument('--retries', type=int, default=3)
    a = ap.parse_args(argv)
    try:
        if a.cmd:
            ns = None if a.cmd[0] == '-' else a.cmd[0]
            print(rtpproxy_cmd(ns, a.cmd[2], _parse_hostport(a.cmd[1]),
                               a.timeout, a.retries))
        elif a.telemetry:
            print(json.dumps(telemetry(*a.telemetry, timeout=a.timeout),
                             indent=1))
        elif a.list_stale:
            print('\n'.join(stale_namespaces()))
        else:
            for n in cleanup_stale():
                print('deleted', n)
    except E2EError as e:
        print('rtpb_e2e: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())


# ---------------------------------------------------------------------------
# The relay under test.

def start_relay(topo, build, prefix, ctl_port=22222, extra_ctl=(),
                extra_dp=(), ipv6=False, prefilter=False, workers=1, vdev=None,
                huge_unlink=True, ns='rl', addr=RELAY_IP, lcores=None,
                ports=(35000, 35999)):
    """Start rtpbypass-dataplane (start_dataplane(): extra_dp, ipv6,
    workers, vdev, huge_unlink) and rtpbypass-control (udp:127.0.0.1:ctl_port,
    ports 35000-35999) in the relay namespace, and wait until control has
    attached.
    extra_ctl: more options for control; ipv6: control gets -6 RELAY_IP6.
    prefilter: the net_af_xdp PMD loads the XDP prefilter
      (BUILD/bpf/prefilter.bpf.o, devarg xdp_prog=) and control keeps its
      maps (--prefilter); both run in the network and mount namespaces of a
      Topology.bpffs_holder(), whose private bpffs holds the pins.
    huge_unlink: EAL --huge-unlink (no hugepage file outlives a killed
      dataplane); False for a DPDK secondary such as dpdk-dumpcap, which
      maps the primary's hugepage files.
    ns, addr, lcores, ports: another relay host (start_dataplane(),
      start_control()), e.g. a second relay namespace with its own address.
    @return (dataplane Proc, control Proc).
    """
    ctl_bin = os.path.join(os.path.abspath(build), 'control', 'rtpbypass-control')
    if not os.access(ctl_bin, os.X_OK):
        raise E2EError('missing binary %s (build first)' % ctl_bin)
    mode, pf_ctl = 'ip', []
    if prefilter:
        topo.pf_holder = topo.bpffs_holder('rl')
        mode = 'join:%d' % topo.pf_holder.pid
        pf_ctl = ['--prefilter']
    dp = start_dataplane(topo, build, prefix, extra_dp, ipv6, prefilter, workers, vdev,
                         huge_unlink, ns=ns, addr=addr, lcores=lcores)
    ctl = start_control(topo, build, prefix, ctl_port, extra_ctl, ipv6,
                        ns_mode=mode, pf_ctl=pf_ctl, ns=ns, addr=addr, ports=ports)
    return dp, ctl


def start_dataplane(topo, build, prefix, extra_dp=(), ipv6=False,
                    prefilter=False, workers=1, vdev=None, huge_unlink=True,
                    ns='rl', addr=RELAY_IP, lcores=None):
    """Start rtpbypass-dataplane in the relay namespace (net_af_xdp on the
    relay's veth, one queue per worker, relay address RELAY_IP/24, gateway
    ROUTER_IP_A) and wait until it is ready; also to start one again after
    one died (chaos tests).
    workers: worker lcores; the main lcore runs on CPU 0, the workers on
      the other CPUs in turn (on 2 CPUs, two workers share CPU 1). A veth
      has one combined channel: net_af_xdp takes one queue there, so more
      workers need another vdev.
    vdev: the port instead of net_af_xdp, e.g. 'net_null0,no-rx=1' (no
      media: for what needs control and the workers only).
    ipv6: also RELAY_IP6/64 (--addr); extra_dp: more options.
    prefilter: with the XDP prefilter (start_relay(), which makes the
      Topology's bpffs holder first).
    huge_unlink: EAL --huge-unlink (no hugepage file outlives a killed
      dataplane); False for a DPDK secondary such as dpdk-dumpcap, which
      maps the primary's hugepage files.
    ns, addr: the relay namespace (its port is topo.relay_iface there) and
      the relay address (/PREFIX_LEN), for a second relay host.
    lcores: EAL's lcore option instead of the one workers implies, e.g.
      ['--lcores', '0@0,1@1'] (two dataplanes on one machine).
    @return its Proc.
    """
    build = os.path.abspath(build)   # nsenter -m may not keep the cwd
    dp_bin = os.path.join(build, 'dataplane', 'rtpbypass-dataplane')
    if not os.access(dp_bin, os.X_OK):
        raise E2EError('missing binary %s (build first)' % dp_bin)
    v6_dp = ['--addr', '%s/%d' % (RELAY_IP6, PREFIX6_LEN)] if ipv6 else []
    mode, xdp = 'ip', ''
    if prefilter:
        obj = os.path.join(build, 'bpf', 'prefilter.bpf.o')
        if not os.access(obj, os.R_OK):
            raise E2EError('missing %s (build first)' % obj)
        mode = 'join:%d' % topo.pf_holder.pid
        xdp = ',xdp_prog=' + obj
        extra_dp = ['--bpf-pin-root', '/sys/fs/bpf'] + list(extra_dp)
    if lcores:
        lcores = list(lcores)
    elif workers == 1:
        lcores = ['-l', '0-1']
    else:
        ncpu = max(2, os.cpu_count() or 2)
        lcores = ['--lcores', ','.join(['0@0'] + ['%d@%d' % (w, 1 + (w - 1) % (ncpu - 1))
                                                 for w in range(1, workers + 1)])]
    vdev = vdev or ('net_af_xdp0,iface=%s,start_queue=0,queue_count=%d%s'
                    % (topo.relay_iface, workers, xdp))
    dp = topo.proc(ns, [dp_bin, '--no-pci', '--file-prefix', prefix] +
                   (['--huge-unlink'] if huge_unlink else []) + lcores + ['--log-level', 'rtpb.dp:info', '--vdev', vdev,
                             '--', '--addr', '%s/%d' % (addr, PREFIX_LEN)] + v6_dp +
                   ['--gateway', ROUTER_IP_A, '--max-streams', '4096',
                    '--neigh-file', neigh_path(prefix)] + list(extra_dp),
                   name='dataplane', ns_mode=mode)
    dp.wait_for_log(r'ready: %d worker' % workers, timeout=30)
    return dp


def start_control(topo, build, prefix, ctl_port=22222, extra_ctl=(), ipv6=False,
                  ns_mode='ip', pf_ctl=(), ns='rl', addr=RELAY_IP, ports=(35000, 35999)):
    """Start rtpbypass-control as start_relay() does (udp:127.0.0.1:ctl_port,
    addr (RELAY_IP), with ipv6 RELAY_IP6 too, media ports ports (35000-35999),
    extra_ctl) in the relay namespace ns, and wait until it has attached to
    the dataplane of prefix; also to start a control again after one was
    stopped.
    @return its Proc.
    """
    ctl_bin = os.path.join(os.path.abspath(build), 'control', 'rtpbypass-control')
    v6_ctl = ['-6', RELAY_IP6] if ipv6 else []
    ctl = topo.proc(ns, [ctl_bin, '-f', '-F', '-s', 'udp:127.0.0.1:%d' % ctl_port,
                         '-l', addr] + v6_ctl + ['-m', str(ports[0]), '-M', str(ports[1]),
                                                 '--file-prefix', prefix,
                                                 '--journal', journal_path(prefix)] +
                    list(pf_ctl) + list(extra_ctl), name='control', ns_mode=ns_mode)
    ctl.wait_for_log(r'dataplane .* attached', timeout=15)
    return ctl


def ctl_log_time(hms, near):
    """Control's log stamp 'HH:MM:SS.mmm' (local time) as a wall-clock
    time, on the day of wall-clock time near."""
    h, m, sec = hms.split(':')
    lt = time.localtime(near)
    day = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, lt.tm_isdst))
    t = day + int(h) * 3600 + int(m) * 60 + float(sec)
    return t + 86400 * round((near - t) / 86400)


def parse_ul_reply(reply):
    """A U/L reply '<port>[ <addr>[ 6]]' -> (port, addr or None, ipv6).
    @raise E2EError if it is not one (an error 'E<n>', or '0')."""
    m = re.fullmatch(r'(\d+)(?: (\S+)( 6)?)?', reply.strip())
    if m is None or int(m.group(1)) == 0:
        raise E2EError('not a U/L port reply: %r' % reply)
    addr = m.group(2)
    return int(m.group(1)), addr, bool(m.group(3)) or (addr is not None and ':' in addr)


def hostport(ip, port):
    """'ip:port', or '[ip6]:port' (as the phone and control print them)."""
    return '[%s]:%d' % (ip, port) if ':' in ip else '%s:%d' % (ip, port)


# The dataplane's drop reasons for packets the latch refused (DESIGN.md §4):
# another source than the peer, in probation or refused (rtpb_shm.h).
LATCH_DROPS = ('drop_not_peer', 'drop_peer_alive', 'drop_refused', 'drop_budget',
               'drop_pace')


def latch_drops(d):
    """Packets the latch dropped, whatever the reason, in a stats (delta) dict."""
    return sum(d.get(k, 0) for k in LATCH_DROPS)


def stats_delta(s0, s1):
    """Telemetry counters that changed between two /rtpbypass/stats."""
    return {k: s1[k] - s0.get(k, 0) for k in s1
            if isinstance(s1[k], int) and s1[k] != s0.get(k, 0)}


_HANDOVER_RE = (r'\[%s\] leg (\d+) (RTCP )?handover from (\S+) to (\S+) \(([^)]*)\), '
                r'(\d+) packets? dropped in probation')


def handover_lines(ctl, call_id):
    """Control's handover log lines for call_id (DESIGN.md §4.6), RTP and
    RTCP: a list of dicts leg, rtcp, old, new ('ip:port' / '[ip6]:port'),
    why (the text in parentheses), dropped, line."""
    out, err = ctl.output()
    pat = re.compile(_HANDOVER_RE % re.escape(call_id))
    res = []
    for line in (out + '\n' + err).splitlines():
        m = pat.search(line)
        if m:
            res.append(dict(leg=int(m.group(1)), rtcp=bool(m.group(2)), old=m.group(3),
                            new=m.group(4), why=m.group(5), dropped=int(m.group(6)),
                            line=line.strip()))
    return res


def parse_info(reply):
    """An I reply -> {'sessions created': n, 'active sessions': n, ...}."""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r'^([a-z ]+):\s*(-?\d+)\s*$', reply, re.M)}


def info_handovers(reply):
    """The handover count in an 'I' reply, or None if it shows none."""
    m = re.search(r'handovers?:\s*(\d+)', reply)
    return int(m.group(1)) if m else None


class CheckFailed(E2EError):
    """An assertion of a test failed (check())."""


_expect_failed = []


def check(cond, what):
    """Assert cond: log 'ok: what', or raise CheckFailed(what)."""
    if not cond:
        raise CheckFailed(what)
    log('ok: ' + what)


def expect(cond, what):
    """Like check(), but a failure is logged and recorded, and the test
    goes on (run_test() fails at the end): for independent assertions, so
    one run shows every one that fails.  @return cond."""
    if cond:
        log('ok: ' + what)
    else:
        log('FAILED: ' + what)
        _expect_failed.append(what)
    return bool(cond)


def run_test(body, argv=None, description=None):
    """The main() of an e2e test: parse --build, make a DPDK prefix, call
    body(build, prefix), then check that no DPDK file of the prefix is
    left.  On a failure the logs are kept and named.
    @return the exit status: 0 if body returned, 1 if it failed."""
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('--build', required=True, help='meson build directory')
    args = ap.parse_args(argv)
    install_signal_handlers()
    prefix = unique_prefix()
    try:
        body(args.build, prefix)
        cleanup_dpdk_prefix(prefix)
        check(not os.path.exists(dpdk_runtime_dir(prefix)), 'no DPDK runtime files left')
        if _expect_failed:
            raise CheckFailed('%d check(s) failed:\n  %s'
                              % (len(_expect_failed), '\n  '.join(_expect_failed)))
    except E2EError as e:
        print('FAIL: %s' % e, file=sys.stderr)
        keep_logs()
        print('logs kept in %s' % logdir(), file=sys.stderr)
        return 1
    return 0


def pinned_maps(topo):
    """Names in the bpffs of the relay's bpffs_holder (start_relay with
    prefilter=True), e.g. ['pf_addrs', ...]; bpffs' own files left out."""
    holder = getattr(topo, 'pf_holder', None)
    if holder is None:
        return []
    out = run(ns_argv(topo.relay, ['ls', '/sys/fs/bpf'], 'join:%d' % holder.pid)).stdout
    return sorted(n for n in out.split() if not n.endswith('.debug'))


def stop_relay(dp, ctl):
    """Stop control then the dataplane; check the dataplane's mbuf count
    at stop equals the one after start (no mbuf leaked)."""
    ctl.stop(timeout=10)
    dp.stop(timeout=15)
    out = '\n'.join(dp.output())
    m1 = re.search(r'mbufs in use after start: (\d+)', out)
    m2 = re.search(r'mbufs in use at stop: (\d+)', out)
    check(m1 is not None and m2 is not None and m1.group(1) == m2.group(1),
          'no mbuf leaked (in use after start %s, at stop %s)'
          % (m1 and m1.group(1), m2 and m2.group(1)))


PHONE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'rtpb_phone.py')


class PhoneRun:
    """One rtpb_phone.py process (a phone, or with --attack an attacker) in
    namespace ns of topo, writing its JSON to the log dir; result() waits
    for it (bounded) and returns the parsed JSON."""

    def __init__(self, topo, ns, name, args, timeout_s):
        self.out = os.path.join(logdir(), '%s.json' % name)
        self.timeout_s = timeout_s
        self.proc = topo.proc(ns, [sys.executable, PHONE_SCRIPT] + list(args) +
                              ['--timeout-s', str(timeout_s), '--json', self.out],
                              name=name)

    @property
    def name(self):
        return self.proc.name

    def result(self):
        rc = self.proc.wait(timeout=self.timeout_s + 30)
        if rc != 0:
            raise E2EError('%s exited %s: %s' % (self.proc.name, rc, self.proc.tail()))
        with open(self.out) as f:
            return json.load(f)


def start_when_bound(procs, start_file, t0=None, not_before=None, lead_s=0.2,
                     timeout_s=60.0):
    """Wait until every process of procs (Proc: rtpb_phone.py runs given
    --start-file) is bound, i.e. has said READY on stderr, then write T0
    (wall-clock seconds) into start_file, atomically (a temp file
    renamed): they all start from it, so none sends before its peer
    listens.  T0 is t0 when given, as is (also in the past: processes
    timed from an earlier T0), else now + lead_s, and no earlier than
    not_before.  The wait is bounded by timeout_s and ends early when a
    waiting process exits.
    @return T0
    @raise CheckFailed naming the processes not bound."""
    deadline = time.monotonic() + timeout_s
    waiting = list(procs)
    for _ in range(int(timeout_s * 100) + 1):
        waiting = [p for p in waiting if 'READY' not in p.output()[1]]
        if not waiting or time.monotonic() >= deadline or \
                any(p.poll() is not None for p in waiting):
            break
        time.sleep(0.01)
    check(not waiting, 'every process is bound before T0 (%d of %d waiting: %s)'
          % (len(waiting), len(procs), [p.name for p in waiting][:5]))
    if t0 is None:
        t0 = time.time() + lead_s
        if not_before is not None:
            t0 = max(t0, not_before)
    with open(start_file + '.tmp', 'w') as f:
        f.write('%.6f\n' % t0)
    os.replace(start_file + '.tmp', start_file)
    return t0


class Call:
    """Phone A (PHONE_A_IP:a_port) and phone B (PHONE_B_IP:b_port) each
    streaming count RTP packets every interval_ms to the relay socket they
    were given (a_to, b_to: 'ip:port'), started together start_delay_ms
    from now (or at wall-clock time start_at), B b_lag_ms after A (to set
    the phase of the two streams).  a_extra, b_extra: more rtpb_phone.py
    options (--rtcp, --move-after ...).  results() waits and returns
    (a, b), the phones' JSON.
    """

    _starts = itertools.count()

    def __init__(self, topo, a_to, b_to, count, interval_ms=20, tag='call',
                 start_delay_ms=1500, a_port=4000, b_port=6000,
                 ssrcs=('a0a0a0a0', 'b0b0b0b0'), linger_ms=1500,
                 a_extra=(), b_extra=(), start_at=None, a_bind=None, b_bind=None,
                 b_lag_ms=0):
        self.runs = []
        timeout_s = int(count * interval_ms / 1000) + 30
        if start_at is None:
            start_at = time.time() + start_delay_ms / 1000.0
        # Both phones bind, say READY and wait for T0 in start_file
        # (rtpb_phone.py --start-file; --start-at is then an offset from
        # T0), so that on a loaded machine neither sends before the other
        # listens: T0 is start_at, or later if a phone was slow to start.
        # Not when a caller gives absolute times of its own (--time-base,
        # --observe-t0), which --start-file would read as offsets.
        absolute = any(o in ('--time-base', '--observe-t0')
                       for o in list(a_extra) + list(b_extra))
        start_file = None if absolute else \
            os.path.join(logdir(), '%s.%d.T0' % (tag, next(Call._starts)))
        for role, bind, to, ssrc, extra, lag in (
                ('pa', a_bind or '%s:%d' % (PHONE_A_IP, a_port), a_to, ssrcs[0], a_extra, 0),
                ('pb', b_bind or '%s:%d' % (PHONE_B_IP, b_port), b_to, ssrcs[1], b_extra,
                 b_lag_ms)):
            self.runs.append(PhoneRun(
                topo, role, '%s_%s' % (tag, role),
                ['--bind', bind, '--to', to, '--count', str(count),
                 '--interval-ms', str(interval_ms), '--ssrc', ssrc,
                 '--linger-ms', str(linger_ms)] +
                (['--start-file', start_file, '--start-at', '%.3f' % (lag / 1000.0)]
                 if start_file else ['--start-at', '%.3f' % (start_at + lag / 1000.0)]) +
                list(extra),
                timeout_s))
        self.t0 = start_at
        if start_file is None:
            return
        t0 = start_when_bound([r.proc for r in self.runs], start_file,
                              not_before=start_at)
        if t0 > start_at + 0.05:
            log('%s: phones ready late, start moved by %.0f ms'
                % (tag, (t0 - start_at) * 1e3))
        self.t0 = t0

    def results(self):
        return tuple(r.result() for r in self.runs)
