#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen_seeds.py: the fuzz_ctl seed corpus, from the golden protocol file.

Usage: gen_seeds.py GOLDEN OUTDIR

GOLDEN is tests/data/cmd_parse.golden (its form in
tests/test_ctl_cmd_parse.c). fuzz_ctl's input language is that of its
steps (tests/fuzz/fuzz_ctl.c), so these are taken as they are, except:
comments, empty lines and the '<' replies are dropped, "> " is taken off
the commands ('>' alone is an empty command), and '~' commands become the
bytes they stand for ("\\0" is a NUL byte). OUTDIR is emptied, then gets:
  all        the whole file, after "!config inet4" (the golden test's
             start), so a run of it gives the golden file's replies;
  block-NN   each "# ---" section alone (stateful sequences);
  line-NNN   each command line alone (parser paths);
  extra-NN   the scenarios below, for what the golden file does not
             drive: partial ring pushes, prefilter failures, reconcile,
             latch reasons, TTL and cache expiry, draining, restarts.
"""
import os
import sys


EXTRA = [
    # forking (tests/data/fork.golden): C udp:, Cp, N, && C, a full ring,
    # a restart, the end of the tapped session
    """!config dual
U cf 198.51.100.30 5000 ff
L cf 198.51.100.31 6000 ff tf
Cp cf udp:198.51.100.9:7000 ff tf
C cf udp6:[2001:db8::9]:7000 tf ff
U tap 198.51.100.80 5000 fx tx && L 198.51.100.81 6000 && C cf ff tf
!dp ringfull
N cf ff tf
Cp cf udp:198.51.100.9:65534 ff
!dp ringok
!dp restart 2
D tap fx tx
Na cf ff tf
D cf ff""",
    # a push budget running out in the middle of U, L and family moves
    """!config dual pf
U call1 198.51.100.1 5000 f1
!dp budget 3
L call1 198.51.100.2 6000 f1 t1
U6 call1 2001:db8::1:1 5000 f1 t1
!dp budget 1
L6 call1 2001:db8::2 6000 f1 t1
!dp ringok
U call1 198.51.100.1 5000 f1 t1
!pf reconcile
D call1 f1 t1""",
    # the prefilter refusing an entry on create, open and move
    """!pf failadd 1
U call2 198.51.100.1 5000 f2
!pf failadd 0
L call2 198.51.100.2 6000 f2 t2
!pf failadd 2
U6 call2 2001:db8::5 5000 f2 t2
!pf failstats on
I
G npf_redirect
!pf reconcile""",
    # latch events of every reason, then a restart with another worker count
    """U call3 198.51.100.1 5000 f3
L call3 198.51.100.2 6000 f3 t3
!latch 0 198.51.100.2:6000 0
!latch 2 198.51.100.2:6001 1 198.51.100.2:6001
!latch 4 198.51.100.9:5000 2 198.51.100.1:5000 3
!latch 6 198.51.100.9:5001 3 198.51.100.1:5001 9
!latch 0 [2001:db8::9]:6000 4 198.51.100.2:6000
!latch 4 198.51.100.7:5000 5 198.51.100.9:5000
!pf reconcile
!dp restart 3
!latch 0 198.51.100.2:6000
Gv nlatches nhandovers nhandovers_dropped nrtcp_follows nreoffers
!dp restart 1
Q call3 f3 t3""",
    # TTL and reply cache expiry, packets keeping a session alive
    """@k1 U call4 198.51.100.1 5000 f4
@k2 L call4 198.51.100.2 6000 f4 t4
!rx 0 10
!wait 36
@k1 U call4 198.51.100.1 5000 f4
!wait 30
!rx 4 1
!wait 40
Q call4 f4 t4
!wait 61
Q call4 f4 t4
G nsess_timeout ncmds_rcvd_ndups""",
    # draining, load, a detached dataplane with sessions and deferred DELs
    """U call5 198.51.100.1 5000 f5
!dp ringfull
D call5 f5
!drain on
U call6 198.51.100.1 5000 f6
!dp detach
!dp ringok
L call5 198.51.100.2 6000 f5 t5
!load 0.25
Il
!drain off
!dp restart 2
X""",
    # timeout notifications (-n, %%CC_SELF%%), -W, bridge sides
    """!config bridge pf notify W=10
!src 198.51.100.9
Uie call7 192.0.2.7 5000 f7 t7 tcp:%%CC_SELF%%:9 tag7
U call8 192.0.2.8 5000 f8 t8 unix:/tmp/rtpb-n.sock tag%208
Lei call8 203.0.113.8 6000 f8 t8
!src 2001:db8::9
U call9 192.0.2.9 5000 f9 t9 tcp:%%CC_SELF%%:9 tag9
!wait 11
!wait 61
G nsess_timeout""",
    # sub-commands, labels and advertised addresses
    """U call10 198.51.100.10 5000 f10 t10 && L 198.51.100.11 6000 && S ttl=5
Ul{pub} call11 198.51.100.10 5000 f11
L6 call11 2001:db8::11 6000 f11 t11
Qv call10 f10 t10 ttl && S ttl=7
!wait 6
Q call10 f10 t10 && D
U call11 198.51.100.10 5000 f11 t11 && Dw""",
    # S tos= and catch_dtmf (docs/DTMF.md), its event through control
    """!config inet4 notify
U call12 198.51.100.12 5000 f12 unix:/tmp/rtpb-n.sock t%2012 && M3:1 A%20b 101 && S tos=184
L call12 198.51.100.13 6000 f12 t12 && M3:1 c+d 96 h && Sr tos=300
!dtmf 4 11 10 960
!dtmf 0 16 63 480
Q call12 t12 f12 && S tos=8 && M3:1 x 0
D call12 f12""",
    # the longest replies (G with 22 names, verbose) and a command over
    # the 8 KiB limit
    "Gv " + " ".join((["npkts_resizer_discard", "nhandovers_dropped",
                       "total_duration", "pps_in", "ncmds_rcvd_ndups"]
                      * 5)[:22])
    + "\n@long V " + "x" * 8200,
    # every port pair and stream id taken
    """!config inet4
U c1 198.51.100.1 5000 a
L c1 198.51.100.2 5000 a b
U c2 198.51.100.1 5000 a
L c2 198.51.100.2 5000 a b
U c3 198.51.100.1 5000 a
L c3 198.51.100.2 5000 a b
U c4 198.51.100.1 5000 a
L c4 198.51.100.2 5000 a b
U c5 198.51.100.1 5000 a
L c5 198.51.100.2 5000 a b
U c6 198.51.100.1 5000 a
L c6 198.51.100.2 5000 a b
U c7 198.51.100.1 5000 a
I
D c1 a
L c7 198.51.100.2 5000 a b""",
]


def line_bytes(line):
    """The bytes fuzz_ctl is given for one golden line, or None."""
    if line == '' or line[0] in '#<':
        return None
    if line.startswith('>'):
        line = line[2:] if line.startswith('> ') else line[1:]
    if line.startswith('~'):
        return line[1:].encode().replace(b'\\0', b'\0')
    return line.encode()


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: gen_seeds.py GOLDEN OUTDIR')
    with open(sys.argv[1], encoding='utf-8') as f:
        text = f.read()
    if text.endswith('\n'):
        text = text[:-1]  # the final newline ends the last line
    lines = text.split('\n')
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.unlink(os.path.join(out, name))

    def write(name, items):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(b'\n'.join(items))

    blocks, cur, cmds = [], [], []
    for line in lines:
        if line.startswith('# ---') and cur:
            blocks.append(cur)
            cur = []
        b = line_bytes(line)
        if b is None:
            continue
        cur.append(b)
        if not line.startswith('!'):
            cmds.append(b)
    if cur:
        blocks.append(cur)

    write('all', [b'!config inet4'] + [b for blk in blocks for b in blk])
    for i, blk in enumerate(blocks):
        write('block-%02d' % i, blk)
    for i, b in enumerate(cmds):
        write('line-%03d' % i, [b])
    for i, e in enumerate(EXTRA):
        write('extra-%02d' % i, [e.encode()])
    print('gen_seeds.py: %d blocks, %d command lines, %d scenarios -> %s'
          % (len(blocks), len(cmds), len(EXTRA), out))


if __name__ == '__main__':
    main()
