#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_dtmf: DTMF catching and "&& S tos=" through the relay (issue 17
items 4 and 5, docs/DTMF.md).

In namespaces this test creates (rtpb_e2e): the relay, control with
-n unix:<a socket this test listens on>, and two phones that are python
sockets in the phone namespaces, sending RTP built here.
  - U (phone A, armed with the notify socket) with "&& M3:1 <tag A> 101",
    L (phone B) with "&& M3:1 <tag B> 101 h": catch both parties'
    telephone-events, hide B's;
  - each phone sends audio (PT 0) at 20 ms, with IP TOS 0x20 of its own;
    A presses 1 and #, B presses 9: RFC 4733 packets (PT 101), a start
    (marker bit), updates, the end three times, all of one event with the
    event's timestamp;
  - the notify listener receives exactly rtpproxy's catch_dtmf lines,
    "<tag> <digit> <volume> <duration> <side>" (side 0 for the caller A,
    1 for B), one per key press, in order, and nothing else;
  - B receives every packet of A's, DTMF included; A receives B's audio
    but none of B's DTMF packets (hidden), counted as dtmf_hidden drops;
  - before "S tos=", each phone receives the other's TOS (0x20), the relay
    leaves it; after "Q ... && S tos=184" (A's leg) and "Q ... && S
    tos=46" (B's leg), A's received packets carry 184 and B's 46 (read
    with IP_RECVTOS: the receiving kernel checked the rewritten IPv4
    header checksum, or it would have dropped them).

Every wait is bounded; processes are stopped by PID (rtpb_e2e.Proc).

Usage (root): test_dtmf.py --build BUILD_DIR
"""

import os
import select
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtpb_e2e as e2e  # noqa: E402

A_PORT = 4000
B_PORT = 6000
CALL = 'dtmf-1'
PT_AUDIO = 0
PT_DTMF = 101
PHONE_TOS = 0x20
TOS_A = 184       # EF, to phone A (U's leg)
TOS_B = 46        # to phone B (L's leg)
TAG_A = 'Phone%20A%3A%201%2C%23'   # URL-encoded: "Phone A: 1,#"
TAG_B = 'Phone+B'                 # '+' is a space too
VOLUME = 10

check = e2e.check


class Phone:
    """A phone: a UDP socket in its namespace, sending RTP to the relay
    and reading what arrives with its TOS."""

    def __init__(self, topo, ns, ip, port, ssrc):
        self.sock = topo.socket(ns)
        self.sock.setsockopt(socket.SOL_IP, socket.IP_TOS, PHONE_TOS)
        self.sock.setsockopt(socket.SOL_IP, socket.IP_RECVTOS, 1)
        self.sock.bind((ip, port))
        self.sock.setblocking(False)
        self.ssrc = ssrc
        self.seq = 1000
        self.ts = 160000
        self.to = None
        self.got = []     # (payload type, TOS, payload) received

    def rtp(self, pt, payload, marker=False, ts=None):
        self.seq = (self.seq + 1) & 0xffff
        hdr = struct.pack('!BBHII', 0x80, pt | (0x80 if marker else 0), self.seq,
                          self.ts if ts is None else ts, self.ssrc)
        self.sock.sendto(hdr + payload, self.to)

    def audio(self):
        self.ts += 160
        self.rtp(PT_AUDIO, bytes([0xd5]) * 160)

    def drain(self):
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(2048, socket.CMSG_SPACE(4))
            except BlockingIOError:
                return
            tos = None
            for level, kind, val in anc:
                if level == socket.SOL_IP and kind == socket.IP_TOS:
                    tos = val[0]
            if len(data) >= 12:
                self.got.append((data[1] & 0x7f, tos, data))

    def close(self):
        self.sock.close()


def press(phone, other, event, n_updates=4):
    """One key press as RFC 4733 §2.5 sends it, 20 ms apart: start with
    the marker bit, updates, then the end packet three times, all with the
    event's start timestamp; the other phone's audio goes on meanwhile.
    @return the final duration (timestamp units)."""
    phone.ts += 160
    ts = phone.ts
    dur = 0
    for i in range(1 + n_updates):
        dur += 160
        phone.rtp(PT_DTMF, struct.pack('!BBH', event, VOLUME, dur), marker=(i == 0), ts=ts)
        other.audio()
        time.sleep(0.02)
    dur += 160
    for _ in range(3):
        phone.rtp(PT_DTMF, struct.pack('!BBH', event, 0x80 | VOLUME, dur), ts=ts)
        other.audio()
        time.sleep(0.02)
    phone.ts = ts + dur
    return dur


def talk(a, b, n):
    for _ in range(n):
        a.audio()
        b.audio()
        time.sleep(0.02)
    time.sleep(0.1)
    a.drain()
    b.drain()


def read_lines(conn, want, timeout):
    """Lines from the notify connection until want lines or timeout."""
    buf = b''
    end = time.monotonic() + timeout
    while buf.count(b'\n') < want and time.monotonic() < end:
        r, _, _ = select.select([conn], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors='replace').splitlines(), buf


def body(build, prefix):
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix='rtpb-dtmf-')
    path = os.path.join(tmp, 'notify.sock')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    try:
        with e2e.Topology() as topo:
            dp, ctl = e2e.start_relay(topo, build, prefix,
                                      extra_ctl=['-n', 'unix:' + path])
            cmd = lambda c: e2e.rtpproxy_cmd(topo.relay, c)
            check(cmd('VF 20251015') == '1' and cmd('VF 20230205') == '1',
                  'VF: S tos= and catch_dtmf (with h) are 1')

            r_u = cmd('U %s %s %d fa unix:%s dtag && M3:1 %s %d'
                      % (CALL, e2e.PHONE_A_IP, A_PORT, path, TAG_A, PT_DTMF))
            r_l = cmd('L %s %s %d fa tb && M3:1 %s %d h'
                      % (CALL, e2e.PHONE_B_IP, B_PORT, TAG_B, PT_DTMF))
            p0, _, _ = e2e.parse_ul_reply(r_u)
            p1, _, _ = e2e.parse_ul_reply(r_l)
            check(r_u == '%d %s' % (p0, e2e.RELAY_IP) and r_l == '%d %s' % (p1, e2e.RELAY_IP),
                  'U and L with catch_dtmf answer their ports alone (%r, %r)' % (r_u, r_l))

            a = Phone(topo, 'pa', e2e.PHONE_A_IP, A_PORT, 0x11111111)
            b = Phone(topo, 'pb', e2e.PHONE_B_IP, B_PORT, 0x22222222)
            a.to = (e2e.RELAY_IP, p1)   # A sends to the port from L
            b.to = (e2e.RELAY_IP, p0)   # B to the port from U
            try:
                # latch both, then the TOS the phones gave stays
                talk(a, b, 10)
                check(len(a.got) >= 8 and len(b.got) >= 8,
                      'both phones receive audio (%d, %d)' % (len(a.got), len(b.got)))
                check({t for _, t, _ in a.got} == {PHONE_TOS} and
                      {t for _, t, _ in b.got} == {PHONE_TOS},
                      'without S tos= the phones TOS 0x%02x passes (%r, %r)'
                      % (PHONE_TOS, {t for _, t, _ in a.got}, {t for _, t, _ in b.got}))

                # S tos= per leg, through Q's sub-commands (no re-signalling)
                for tags, tos in (('fa tb', TOS_A), ('tb fa', TOS_B)):
                    r = cmd('Q %s %s && S tos=%d' % (CALL, tags, tos))
                    check(not r.startswith('E'), 'Q %s && S tos=%d: %r' % (tags, tos, r))
                a.got.clear()
                b.got.clear()
                talk(a, b, 5)

                conn = None
                d1 = press(a, b, 1)
                a.drain()
                b.drain()
                d2 = press(a, b, 11, n_updates=6)
                d3 = press(b, a, 9, n_updates=2)
                talk(a, b, 5)

                listener.settimeout(5.0)
                try:
                    conn, _ = listener.accept()
                except socket.timeout:
                    check(False, 'control connected to the notify socket')
                lines, raw = read_lines(conn, 4, 3.0)
                want = ['Phone A: 1,# 1 %d %d 0' % (VOLUME, d1),
                        'Phone A: 1,# # %d %d 0' % (VOLUME, d2),
                        'Phone B 9 %d %d 1' % (VOLUME, d3)]
                e2e.log('notify socket got %r' % raw)
                check(lines == want, 'the notify socket got exactly %r (got %r)'
                      % (want, lines))
                conn.close()

                a_dtmf = [p for p in a.got if p[0] == PT_DTMF]
                b_dtmf = [p for p in b.got if p[0] == PT_DTMF]
                a_audio = [p for p in a.got if p[0] == PT_AUDIO]
                b_audio = [p for p in b.got if p[0] == PT_AUDIO]
                check(len(b_dtmf) == (1 + 4 + 3) + (1 + 6 + 3),
                      'B received all of A\'s %d DTMF packets (%d)'
                      % ((1 + 4 + 3) + (1 + 6 + 3), len(b_dtmf)))
                check(len(a_dtmf) == 0, 'A received none of B\'s hidden DTMF packets (%d)'
                      % len(a_dtmf))
                check(len(a_audio) >= 5 + (1 + 4 + 3) + (1 + 6 + 3) + 5 and len(b_audio) >= 5 + 5,
                      'the audio went on (%d, %d)' % (len(a_audio), len(b_audio)))
                tos_a = {t for _, t, _ in a.got}
                tos_b = {t for _, t, _ in b.got}
                check(tos_a == {TOS_A}, 'A receives TOS %d after S tos= (%r)' % (TOS_A, tos_a))
                check(tos_b == {TOS_B}, 'B receives TOS %d after S tos= (%r)' % (TOS_B, tos_b))
                st = e2e.telemetry(prefix, '/rtpbypass/stats', unwrap=True)
                check(st.get('drop_dtmf_hidden') == 1 + 2 + 3,
                      'the relay counted B\'s %d hidden packets (%r)'
                      % (1 + 2 + 3, st.get('drop_dtmf_hidden')))
            finally:
                a.close()
                b.close()
            check(cmd('D %s fa' % CALL) == '0', 'D deletes the call')
            check(ctl.running, 'control still runs')
            dp.stop(timeout=10)
            ctl.stop(timeout=10)
    finally:
        listener.close()
        try:
            os.unlink(path)
            os.rmdir(tmp)
        except OSError:
            pass
    e2e.log('done in %.1fs' % (time.monotonic() - t0))


if __name__ == '__main__':
    sys.exit(e2e.run_test(body, description=__doc__))
