#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen_pkt_seeds.py: the fuzz_pkt seed corpus (tests/fuzz/fuzz_pkt.c).

Usage: gen_pkt_seeds.py OUTDIR

OUTDIR is emptied, then gets one file per scenario below: a
configuration byte, then records of (sel, dt, length, frame), in
fuzz_pkt's input format. The frames are well formed (checksums right)
unless a scenario says otherwise: RTP, RTCP SR+SDES, STUN, DTLS over
IPv4 and IPv6 UDP, with VLAN tags, IPv4 options, no UDP checksum and
Ethernet padding; the latch's paths (learning, a new SSRC on probation,
the SSRC continued, the CNAME proof, the revert, the budget); ARP and
NDP for the relay addresses. The addresses are those fuzz_pkt_latch.c
and fuzz_pkt_slow.c set up.
"""
import os
import struct
import sys

# the RFC 1071 checksum of the e2e tests' frame builder
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'e2e'))
from rtpb_flood import csum  # noqa: E402

RELAY_MAC = bytes([2, 0, 0, 0, 0, 1])
PHONE_MAC = bytes([2, 0, 0, 0, 0, 0x10])
KNOWN_MAC = bytes([2, 0, 0, 0, 0, 0x20])
RELAY4 = bytes([192, 0, 2, 1])
A4 = bytes([198, 51, 100, 10])          # leg A's phone
X4 = bytes([203, 0, 113, 50])           # a third host
KNOWN4 = bytes([192, 0, 2, 20])         # a known neighbour
NEW4 = bytes([192, 0, 2, 30])           # an on-link host


def v6(net, host):
    """2001:db8:NET::HOST."""
    return bytes([0x20, 0x01, 0x0d, 0xb8, 0, net] + [0] * 9 + [host])


RELAY6 = v6(0x0a, 1)
B6 = v6(0x0b, 0x20)                     # leg B's phone
X6 = v6(0x0d, 0x50)                     # a third host
KNOWN6 = v6(0x0a, 0x20)
NEW6 = v6(0x0a, 0x30)
B_SSRC = 0x0b0b0b0b
B_CNAME = b'b@fuzz.example'
GOOD, UNKNOWN, BAD, NONE = 0, 4, 8, 12  # sel bits 2-3


def eth(payload, etype, tags=(), src=PHONE_MAC, dst=RELAY_MAC, pad=0):
    """Ethernet frame, with 802.1Q tags (the first 802.1ad if two)."""
    hdr = dst + src
    for i, tci in enumerate(tags):
        tpid = 0x88a8 if i == 0 and len(tags) == 2 else 0x8100
        hdr += struct.pack('!HH', tpid, tci)
    return hdr + struct.pack('!H', etype) + payload + b'\0' * pad


def udp(src, dst, sport, dport, payload, zero_csum=False, options=b'', tos=0xb8):
    """IPv4 or IPv6 (by address length) UDP, in an Ethernet payload."""
    ulen = 8 + len(payload)
    if len(src) == 4:
        pseudo = src + dst + struct.pack('!BBH', 0, 17, ulen)
    else:
        pseudo = src + dst + struct.pack('!IxxxB', ulen, 17)
    u = struct.pack('!HHHH', sport, dport, ulen, 0) + payload
    ck = 0 if zero_csum else (csum(pseudo + u) or 0xffff)
    u = u[:6] + struct.pack('!H', ck) + u[8:]
    if len(src) == 16:
        ip = struct.pack('!IHBB', 6 << 28 | tos << 20 | 0x1234, ulen, 17, 64)
        return ip + src + dst + u, 0x86dd
    ihl = 5 + len(options) // 4
    ip = struct.pack('!BBHHHBBH', 0x40 | ihl, tos, ihl * 4 + ulen, 0x4242,
                     0x4000, 64, 17, 0) + src + dst + options
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return ip + u, 0x0800


def frame(src, dst, sport, dport, payload, tags=(), pad=0, **kw):
    """An Ethernet frame of one UDP datagram."""
    l3, et = udp(src, dst, sport, dport, payload, **kw)
    return eth(l3, et, tags=tags, pad=pad)


def rtp(seq, ts, ssrc, pt=0, n=160):
    """RTP (RFC 3550 5.1), n bytes of G.711 payload."""
    return struct.pack('!BBHII', 0x80, pt, seq & 0xffff, ts & 0xffffffff,
                       ssrc) + (bytes(range(256)) * 8)[:n]


def sdes(ssrc, items):
    """SDES packet with one chunk of items [(type, text)] (RFC 3550 6.5)."""
    chunk = struct.pack('!I', ssrc)
    for t, text in items:
        chunk += bytes([t, len(text)]) + text
    chunk += b'\0'
    chunk += b'\0' * (-len(chunk) % 4)
    return struct.pack('!BBH', 0x81, 202, len(chunk) // 4) + chunk


def rtcp(ssrc, cname=B_CNAME, extra=()):
    """RTCP compound: SR, no report blocks, then SDES CNAME (RFC 3550 6.4.1)."""
    sr = struct.pack('!BBHIIIIII', 0x80, 200, 6, ssrc, 0xe0000000, 0, 160,
                     10, 1600)
    return sr + sdes(ssrc, [(1, cname)] + list(extra))


STUN = struct.pack('!HHI', 0x0001, 0, 0x2112a442) + bytes(12)
DTLS = bytes([22, 0xfe, 0xfd]) + bytes(10)


def arp(op, sha, sip, tha, tip, src=None):
    """ARP over Ethernet (RFC 826)."""
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + sip + tha + tip
    return eth(body, 0x0806, src=src or sha,
               dst=b'\xff' * 6 if op == 1 else RELAY_MAC)


def nd(typ, src, dst, target, opt_type=None, mac=PHONE_MAC, flags=0, hop=255):
    """ICMPv6 NS or NA (RFC 4861 4.3, 4.4) with one link-layer option."""
    body = struct.pack('!BBHB3x', typ, 0, 0, flags) + target
    if opt_type is not None:
        body += bytes([opt_type, 1]) + mac
    pseudo = src + dst + struct.pack('!IxxxB', len(body), 58)
    body = body[:2] + struct.pack('!H', csum(pseudo + body)) + body[4:]
    ip = struct.pack('!IHBB', 6 << 28, len(body), 58, hop) + src + dst
    edst = (b'\x33\x33' + dst[12:]) if dst[0] == 0xff else RELAY_MAC
    return eth(ip + body, 0x86dd, src=mac, dst=edst)


def snm(ip):
    """Solicited-node multicast address (RFC 4291 2.7.1)."""
    return bytes([0xff, 2] + [0] * 9 + [1, 0xff]) + ip[13:]


def rec(f, stream=0, dt=20, ol=GOOD, op=0, to=0):
    """One record: sel, dt, length, frame."""
    sel = stream | ol | op << 4 | to << 6
    return struct.pack('!BBH', sel, dt, len(f)) + f


def a_rtp(seq, **kw):
    """Leg A's RTP, IPv4, to stream 0."""
    return frame(A4, RELAY4, 4000, 35000, rtp(seq, seq * 160, 0xa0a0a0a0), **kw)


def to_b(src, sport, payload, port=35002):
    """A datagram to leg B's relay socket."""
    return frame(src, RELAY6, sport, port, payload)


def scenarios():
    """name -> input bytes."""
    s = {}
    s['rtp4-learn'] = bytes([0]) + b''.join(rec(a_rtp(i)) for i in range(3))
    s['rtp4-signalled'] = bytes([0x20]) + rec(a_rtp(1)) + rec(a_rtp(2), to=3)
    s['rtcp4-sdes'] = bytes([0x20]) + rec(a_rtp(1)) + rec(
        frame(A4, RELAY4, 4001, 35001, rtcp(0xa0a0a0a0, b'a@fuzz.example')), stream=1)
    s['stun-dtls'] = bytes([0]) + rec(frame(A4, RELAY4, 4000, 35000, STUN)) + \
        rec(frame(A4, RELAY4, 4000, 35000, DTLS)) + rec(a_rtp(7))
    s['rtp6-peer'] = bytes([0]) + b''.join(
        rec(to_b(B6, 6000, rtp(0x1235 + i, 0x1000 + 160 * i, B_SSRC)), stream=2)
        for i in range(3))
    s['rtcp6-mux'] = bytes([0x40]) + rec(to_b(B6, 6000, rtcp(B_SSRC)), stream=2)
    # a new SSRC from a third host, 10 packets at media pace: probation
    s['probation'] = bytes([0]) + rec(a_rtp(1), dt=0) + b''.join(
        rec(to_b(X6, 5000, rtp(100 + i, 160 * i, 0x5555)), stream=2,
            dt=0 if i == 0 else 20) for i in range(11))
    s['probation-3-burst'] = bytes([4]) + b''.join(
        rec(to_b(X6, 5000, rtp(100 + i, 160 * i, 0x5555)), stream=2, dt=1)
        for i in range(8))
    # B's SSRC and sequence continued from elsewhere, then B wins back
    s['ssrc-revert'] = bytes([0]) + \
        rec(to_b(X6, 5000, rtp(0x1235, 0x1100, B_SSRC)), stream=2, dt=0) + \
        rec(to_b(X6, 5000, rtp(0x1236, 0x1200, B_SSRC)), stream=2) + \
        rec(to_b(B6, 6000, rtp(0x1237, 0x1300, B_SSRC)), stream=2, dt=40) + \
        rec(to_b(X6, 5000, rtp(0x1238, 0x1400, B_SSRC)), stream=2)
    # the leg's CNAME from elsewhere (RTCP stream), then its RTP follows
    s['cname'] = bytes([0]) + \
        rec(to_b(X6, 5001, rtcp(B_SSRC), port=35003), stream=3, dt=100) + \
        rec(to_b(X6, 5000, rtp(1, 160, 0x7777)), stream=2) + \
        rec(to_b(B6, 6001, rtcp(B_SSRC), port=35003), stream=3, dt=200)
    s['cname-wrong'] = bytes([0]) + \
        rec(to_b(X6, 5001, rtcp(B_SSRC, b'b@fuzz.examplf'), port=35003), stream=3) + \
        rec(to_b(X6, 5001, rtcp(0x9999), port=35003), stream=3)
    s['budget'] = bytes([0]) + b''.join(
        rec(to_b(X6, 5000 + i, rtp(i, i, 0x4444 + i)), stream=2, dt=0)
        for i in range(8))
    s['reoffer-restore'] = bytes([0x20]) + rec(a_rtp(1), op=1) + \
        rec(a_rtp(2), op=2) + rec(a_rtp(3), op=3) + rec(a_rtp(4), dt=200)
    s['asymmetric'] = bytes([0x30]) + rec(a_rtp(1)) + \
        rec(frame(X4, RELAY4, 4000, 35000, rtp(1, 1, 1)))
    s['strict'] = bytes([0x03]) + b''.join(
        rec(to_b(X6, 5000, rtp(100 + i, 160 * i, 0x5555)), stream=2)
        for i in range(11))
    s['tick-wrap'] = bytes([0x08]) + b''.join(
        rec(to_b(B6, 6001, rtcp(B_SSRC), port=35003), stream=3, dt=200)
        for i in range(4)) + rec(to_b(X6, 5000, rtp(9, 9, 9)), stream=2)
    # SDES: several chunks, items before CNAME, a compound of 8 packets,
    # lengths past the end
    many = rtcp(B_SSRC, extra=[(2, b'name'), (6, b'tool')])
    chunks = struct.pack('!BBHI', 0x80, 200, 1, B_SSRC) + struct.pack(
        '!BBH', 0x82, 202, 8) + struct.pack('!I', 1) + bytes([2, 3]) + b'abc' + \
        b'\0' * 3 + struct.pack('!I', B_SSRC) + bytes([1, len(B_CNAME)]) + \
        B_CNAME + b'\0' * 2
    eight = b''.join(struct.pack('!BBHI', 0x80, 201, 1, B_SSRC) for _ in range(8))
    bad = rtcp(B_SSRC)[:-4] + b'\xff\xff\xff\xff'
    trunc = bytearray(rtcp(B_SSRC))
    trunc[28 + 13] = 200
    s['sdes-shapes'] = bytes([0]) + b''.join(
        rec(to_b(X6, 5001, p, port=35003), stream=3, dt=0)
        for p in (many, chunks, eight + rtcp(B_SSRC), bad, bytes(trunc),
                  rtcp(B_SSRC)[:31]))
    # receiver reports (dp_rtpa_rtcp_rr(), which fuzz_pkt asks about
    # B_SSRC): an RR with a block about another SSRC then B_SSRC, an SR
    # with one block, each followed by SDES
    def block(ssrc, frac, cum, jitter):
        return struct.pack('!IIIIII', ssrc, frac << 24 | (cum & 0xffffff),
                           0x1beef, jitter, 0, 0)
    rr = struct.pack('!BBHI', 0x82, 201, 13, B_SSRC) + \
        block(0xa0a0a0a0, 1, 2, 3) + block(B_SSRC, 25, -3, 77)
    sr_rb = struct.pack('!BBHIIIIII', 0x81, 200, 12, B_SSRC, 0xe0000000, 0,
                        160, 10, 1600) + block(B_SSRC, 255, 0x7fffff, 123456)
    s['rtcp-rr-blocks'] = bytes([0]) + b''.join(
        rec(to_b(B6, 6001, p + sdes(B_SSRC, [(1, B_CNAME)]), port=35003),
            stream=3, dt=200)
        for p in (rr, sr_rb))
    # frames for the parser and the rewrite
    s['vlan-qinq'] = bytes([0x20]) + rec(a_rtp(1, tags=(100,))) + \
        rec(a_rtp(2, tags=(200, 100)), to=2) + \
        rec(a_rtp(3, tags=(5, 6, 7)), to=1)
    s['ipv4-options-zero-csum'] = bytes([0x20]) + \
        rec(a_rtp(1, options=b'\x01' * 4), to=2) + \
        rec(a_rtp(2, zero_csum=True), to=1) + \
        rec(a_rtp(3, zero_csum=True), to=2) + \
        rec(a_rtp(4, options=b'\x01' * 40, zero_csum=True), to=2)
    s['padding-bridge'] = bytes([0]) + rec(a_rtp(1, pad=30), to=2) + \
        rec(to_b(B6, 6000, rtp(0x1235, 1, B_SSRC)) + b'\0' * 20, stream=2, to=1)
    s['too-big'] = bytes([0]) + rec(
        frame(A4, RELAY4, 4000, 35000, rtp(1, 1, 1, n=1450)), to=2)
    s['csum-flags'] = bytes([0]) + rec(a_rtp(1), ol=UNKNOWN) + \
        rec(a_rtp(2), ol=BAD) + rec(a_rtp(3), ol=NONE)
    bad_ip = bytearray(a_rtp(4))
    bad_ip[24] ^= 0xff
    s['csum-wrong'] = bytes([0]) + rec(bytes(bad_ip), ol=UNKNOWN) + \
        rec(bytes(bad_ip), ol=GOOD) + rec(bytes(bad_ip), to=2)
    frag = bytearray(a_rtp(5))
    frag[20] = 0x20
    s['not-udp'] = bytes([0]) + rec(bytes(frag)) + rec(
        eth(struct.pack('!IHBB', 6 << 28, 8, 0, 64) + B6 + RELAY6 + bytes(8), 0x86dd)) + \
        rec(eth(bytes(40), 0x88cc)) + rec(a_rtp(6)[:40])
    # ARP and NDP
    s['arp'] = bytes([0]) + \
        rec(arp(1, KNOWN_MAC, KNOWN4, bytes(6), RELAY4), stream=1) + \
        rec(arp(1, PHONE_MAC, NEW4, bytes(6), RELAY4)) + \
        rec(arp(2, PHONE_MAC, NEW4, RELAY_MAC, RELAY4)) + \
        rec(arp(1, PHONE_MAC, A4, bytes(6), RELAY4)) + \
        rec(arp(1, PHONE_MAC, NEW4, bytes(6), RELAY4, src=KNOWN_MAC)) + \
        rec(arp(1, PHONE_MAC, NEW4, bytes(6), bytes([192, 0, 2, 99])))
    s['ndp'] = bytes([0]) + \
        rec(nd(135, NEW6, snm(RELAY6), RELAY6, 1)) + \
        rec(nd(135, NEW6, RELAY6, RELAY6)) + \
        rec(nd(135, bytes(16), snm(RELAY6), RELAY6)) + \
        rec(nd(136, KNOWN6, RELAY6, KNOWN6, 2, KNOWN_MAC, 0x60), stream=1) + \
        rec(nd(136, KNOWN6, RELAY6, KNOWN6, 2, PHONE_MAC, 0x40)) + \
        rec(nd(136, KNOWN6, RELAY6, KNOWN6, None, KNOWN_MAC, 0x60)) + \
        rec(nd(135, B6, snm(RELAY6), RELAY6, 1)) + \
        rec(nd(135, NEW6, snm(RELAY6), RELAY6, 1, hop=64))
    return s


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: gen_pkt_seeds.py OUTDIR')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.unlink(os.path.join(out, name))
    s = scenarios()
    for name, data in s.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    print('gen_pkt_seeds.py: %d scenarios -> %s' % (len(s), out))


if __name__ == '__main__':
    main()
