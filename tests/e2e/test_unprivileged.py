#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_unprivileged: control runs as an unprivileged user (issue 16 item 7).

In namespaces this test creates (rtpb_e2e): the dataplane (root, as it
must be: hugepages, AF_XDP) with --shm-group nogroup, and control with
rtpproxy's -u nobody:nogroup: it binds its socket as root, then drops to
nobody and attaches to the dataplane's shared memory through the group.

Asserts: control says it runs as nobody and attached; its process has
uid and gid 65534 and no capability left (CapEff 0); a call set up with
U/L relays 100 RTP packets each way; the shared memory file is mode 0660,
group nogroup. Then again with the XDP prefilter in front (its maps in a
private bpffs): control keeps CAP_BPF and nothing else (CapEff 1 << 39),
which kernels before 6.5 require for each session's map updates when
unprivileged_bpf_disabled is set (newer ones do not: it costs nothing
there); the call relays through XDP as before.

Usage (root): test_unprivileged.py --build BUILD_DIR
"""

import grp
import os
import pwd
import re
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402
from rtpb_e2e import check  # noqa: E402

N_PKTS = 100
A_PORT = 4000
B_PORT = 6000


def proc_status(pid):
    """Uid, Gid and CapEff lines of /proc/PID/status, as a dict."""
    res = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('Uid', 'Gid', 'CapEff'):
                res[k] = v.split()
    return res


def run(build, prefix, user, group, uid, gid, prefilter):
    """One relay, control as user:group, a call; with or without the prefilter."""
    what = 'with the prefilter' if prefilter else 'without the prefilter'
    with e2e.Topology() as topo:
        dp, ctl = e2e.start_relay(topo, build, prefix, prefilter=prefilter,
                                  extra_dp=['--shm-group', group],
                                  extra_ctl=['-u', '%s:%s' % (user, group)])
        out, err = ctl.output()
        check(re.search(r'running as %s\S* \(uid %d, gid %d\)' % (user, uid, gid), out + err)
              is not None, "%s: control dropped to %s:%s and attached" % (what, user, group))
        st = proc_status(ctl.pid)
        caps = (1 << 39) if prefilter else 0
        check(st['Uid'][:2] == [str(uid)] * 2 and st['Gid'][:2] == [str(gid)] * 2
              and int(st['CapEff'][0], 16) == caps,
              "%s: control's process: uid %s, gid %s, CapEff %s (want %x)"
              % (what, st['Uid'][0], st['Gid'][0], st['CapEff'][0], caps))
        link = '/var/run/dpdk/%s/rtpb_shm' % prefix
        s = os.stat(link)
        check(stat.S_IMODE(s.st_mode) == 0o660 and s.st_gid == gid,
              "%s: the shared memory is 0660, group %s" % (what, group))
        cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)
        p0, _, _ = e2e.parse_ul_reply(cmd('U unpriv-1 %s %d fa' % (e2e.PHONE_A_IP, A_PORT)))
        p1, _, _ = e2e.parse_ul_reply(cmd('L unpriv-1 %s %d fa tb' % (e2e.PHONE_B_IP, B_PORT)))
        a, b = e2e.Call(topo, '%s:%d' % (e2e.RELAY_IP, p1), '%s:%d' % (e2e.RELAY_IP, p0),
                        N_PKTS, 10, 'unpriv', a_port=A_PORT, b_port=B_PORT).results()
        check(a['received_valid'] == N_PKTS and b['received_valid'] == N_PKTS,
              "%s: a call set up by the unprivileged control relays (A %d, B %d of %d)"
              % (what, a['received_valid'], b['received_valid'], N_PKTS))
        if prefilter:
            check(int(cmd('G npf_redirect')) >= 2 * N_PKTS,
                  "%s: its packets went through XDP (G npf_redirect)" % what)
        check(cmd('D unpriv-1 fa') == '0', "%s: D deletes the call" % what)
        ctl.stop(timeout=10)
        dp.stop(timeout=10)


def body(build, prefix):
    """Control as nobody:nogroup, without and then with the prefilter."""
    user, group = 'nobody', 'nogroup'
    uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
    for prefilter, pfx in ((False, prefix), (True, e2e.unique_prefix())):
        run(build, pfx, user, group, uid, gid, prefilter)
        e2e.cleanup_dpdk_prefix(pfx)


def main():
    return e2e.run_test(body)


if __name__ == '__main__':
    sys.exit(main())
