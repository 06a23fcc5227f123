#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""rtpb_phone: a test "phone" sending and receiving RTP on one UDP socket.

Run it inside a namespace (ip netns exec NS python3 rtpb_phone.py ...).  It
binds --bind, sends --count RTP packets (RFC 3550 §5.1 fixed header: V=2,
no padding/extension/CSRC, PT, sequence +1, timestamp +160, SSRC) to --to
every --interval-ms, paced on monotonic deadlines (no cumulative sleep
drift), and meanwhile receives on the same socket (symmetric RTP, as a
latching relay expects).  It stops when all are sent and --linger-ms has
passed since the last send (or as soon as --expect valid packets arrived
after the last send), and in any case at --timeout-s.

Payload (--payload-size bytes, at least 16), all big-endian:
    0  'RTPB' magic          8  packet index (0..count-1)
    4  SSRC (as in header)   12 RTP sequence (as in header), 14 payload size
    16.. pattern byte k = (seed + 13*k) & 0xff, seed = (ssrc ^ idx*0x9E3779B1) & 0xff
so the receiver checks, per packet, that the payload is intact and matches
the RTP header: received_valid counts those.

Output JSON (--json FILE, '-' for stdout):
    sent, received, received_valid, invalid, header_mismatch, lost,
    duplicates, reordered, sources {"ip:port": n}, first_seq, last_seq,
    peer_ssrcs ["%08x"], per_ssrc {...}, send_errors, rtcp_sent,
    rtcp_received, rtcp_sources, duration_s, timed_out, ...
lost = sum over peer SSRCs of (highest - lowest extended seq + 1 - unique).

--rtcp: also send a minimal RTCP SR (PT 200, RFC 3550 §6.4.1) every
--rtcp-interval-ms from port+1 to the peer's port+1, and count RTCP received.

Exit status: 0 when it ran (whatever it received), 2 on bad arguments or
socket errors at bind.  It prints 'READY <ip:port>' on stderr once bound.
"""

import argparse
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

MAGIC = b'RTPB'
PL_HDR = struct.Struct('!4sIIHH')       # magic, ssrc, idx, seq, size
RTP_HDR = struct.Struct('!BBHII')       # v/p/x/cc, m/pt, seq, ts, ssrc
TS_STEP = 160                           # 20 ms of 8 kHz audio
NTP_EPOCH_OFFSET = 2208988800           # 1900 -> 1970, RFC 868

_patterns = {}


def _pattern(seed, size):
    """Pattern bytes 16..size-1 for seed (cached: 256 seeds at most)."""
    key = (seed, size)
    p = _patterns.get(key)
    if p is None:
        p = bytes((seed + 13 * k) & 0xff for k in range(PL_HDR.size, size))
        _patterns[key] = p
    return p


def _seed(ssrc, idx):
    return (ssrc ^ (idx * 0x9E3779B1)) & 0xff


def build_payload(ssrc, idx, seq, size):
    """The payload of packet idx (see the module doc)."""
    if size < PL_HDR.size:
        raise ValueError('payload size %d < %d' % (size, PL_HDR.size))
    return (PL_HDR.pack(MAGIC, ssrc, idx & 0xffffffff, seq & 0xffff, size)
            + _pattern(_seed(ssrc, idx), size))


def build_rtp(ssrc, idx, seq, ts, pt, size, marker=False):
    """One RTP packet: 12-byte header (RFC 3550 §5.1) + payload."""
    b1 = (0x80 if marker else 0) | (pt & 0x7f)
    return (RTP_HDR.pack(0x80, b1, seq & 0xffff, ts & 0xffffffff, ssrc)
            + build_payload(ssrc, idx, seq, size))


def parse_rtp(data):
    """Parse and check one packet.

    @return None if not RTP version 2, else a dict with seq, ts, ssrc, pt,
            payload_ok (payload intact) and header_ok (payload ssrc/seq
            equal the header's).
    """
    if len(data) < RTP_HDR.size:
        return None
    b0, b1, seq, ts, ssrc = RTP_HDR.unpack_from(data)
    if b0 >> 6 != 2:
        return None
    off = RTP_HDR.size + 4 * (b0 & 0x0f)            # CSRCs
    if b0 & 0x10:                                   # header extension
        if len(data) < off + 4:
            return None
        off += 4 + 4 * struct.unpack_from('!H', data, off + 2)[0]
    end = len(data)
    if b0 & 0x20:                                   # padding
        end -= data[-1] if data[-1] else end
    pl = data[off:end] if off <= end else b''
    r = dict(seq=seq, ts=ts, ssrc=ssrc, pt=b1 & 0x7f, marker=bool(b1 & 0x80),
             payload_ok=False, header_ok=False, idx=None)
    if len(pl) >= PL_HDR.size:
        magic, pssrc, idx, pseq, size = PL_HDR.unpack_from(pl)
        if magic == MAGIC and size == len(pl):
            r['idx'] = idx
            r['payload_ok'] = pl[PL_HDR.size:] == _pattern(_seed(pssrc, idx),
                                                          size)
            r['header_ok'] = pssrc == ssrc and pseq == seq
    return r


def build_rtcp_sr(ssrc, rtp_ts, packets, octets, now=None):
    """A minimal RTCP SR, no report blocks (RFC 3550 §6.4.1): 28 bytes."""
    now = time.time() if now is None else now
    ntp = now + NTP_EPOCH_OFFSET
    sec = int(ntp)
    frac = int((ntp - sec) * (1 << 32)) & 0xffffffff
    return struct.pack('!BBHIIIIII', 0x80, 200, 6, ssrc, sec & 0xffffffff,
                       frac, rtp_ts & 0xffffffff, packets & 0xffffffff,
                       octets & 0xffffffff)


class SeqTracker:
    """Per-SSRC receive accounting on extended sequence numbers.

    Extension: the 16-bit seq is placed nearest to the highest extended seq
    seen (a jump of at most +-32767), as RFC 3550 A.1 does for wraps.
    """

    def __init__(self):
        self.max_ext = None
        self.min_ext = None
        self.seen = set()
        self.received = 0
        self.valid = 0
        self.duplicates = 0
        self.reordered = 0

    def extend(self, seq):
        if self.max_ext is None:
            return seq
        base = self.max_ext & 0xffff
        delta = ((seq - base + 0x8000) & 0xffff) - 0x8000
        return self.max_ext + delta

    def add(self, seq, valid):
        ext = self.extend(seq)
        self.received += 1
        if valid:
            self.valid += 1
        if ext in self.seen:
            self.duplicates += 1
            return ext
        if self.max_ext is not None and ext < self.max_ext:
            self.reordered += 1
        self.seen.add(ext)
        self.max_ext = ext if self.max_ext is None else max(self.max_ext, ext)
        self.min_ext = ext if self.min_ext is None else min(self.min_ext, ext)
        return ext

    @property
    def lost(self):
        if self.max_ext is None:
            return 0
        return self.max_ext - self.min_ext + 1 - len(self.seen)

    def as_dict(self):
        return dict(received=self.received, valid=self.valid,
                    unique=len(self.seen), lost=self.lost,
                    duplicates=self.duplicates, reordered=self.reordered,
                    min_ext_seq=self.min_ext, max_ext_seq=self.max_ext)


def parse_addr(s):
    """'192.0.2.10:4000' or '[2001:db8::1]:4000' -> (family, (host, port))."""
    if s.startswith('['):
        host, sep, port = s[1:].partition(']:')
        if not sep:
            raise ValueError('bad address %r' % s)
        return socket.AF_INET6, (host, int(port))
    host, sep, port = s.rpartition(':')
    if not sep or ':' in host:
        raise ValueError('bad address %r (IPv6 needs [addr]:port)' % s)
    return socket.AF_INET, (host, int(port))


def fmt_addr(addr):
    host, port = addr[0], addr[1]
    return '[%s]:%d' % (host, port) if ':' in host else '%s:%d' % (host, port)


class Phone:
    """One phone run; see the module doc.  run() returns the result dict."""

    def __init__(self, a):
        self.a = a
        self.fam, self.bind = parse_addr(a.bind)
        fam2, self.to = parse_addr(a.to)
        if fam2 != self.fam:
            raise ValueError('--bind and --to families differ')
        self.ssrc = int(a.ssrc, 16) & 0xffffffff
        self.sock = socket.socket(self.fam, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(self.bind)
        self.bind = self.sock.getsockname()[:2]
        self.rtcp = None
        if a.rtcp:
            self.rtcp = socket.socket(self.fam, socket.SOCK_DGRAM)
            self.rtcp.bind((self.bind[0], self.bind[1] + 1))
        self.sent = self.send_errors = self.octets = 0
        self.received = self.valid = self.invalid = self.mismatch = 0
        self.sources = {}
        self.trackers = {}
        self.first_seq = self.last_seq = None
        self.rtcp_sent = self.rtcp_received = 0
        self.rtcp_sources = {}
        self.valid_after_last_send = 0
        self.stop_flag = False

    def _send_rtp(self, i):
        a = self.a
        seq = (a.start_seq + i) & 0xffff
        ts = (a.start_ts + i * TS_STEP) & 0xffffffff
        pkt = build_rtp(self.ssrc, i, seq, ts, a.pt, a.payload_size,
                        marker=(i == 0))
        try:
            self.sock.sendto(pkt, self.to)
            self.sent += 1
            self.octets += a.payload_size
        except OSError:
            self.send_errors += 1

    def _send_rtcp(self):
        ts = (self.a.start_ts + self.sent * TS_STEP) & 0xffffffff
        sr = build_rtcp_sr(self.ssrc, ts, self.sent, self.octets)
        try:
            self.rtcp.sendto(sr, (self.to[0], self.to[1] + 1))
            self.rtcp_sent += 1
        except OSError:
            self.send_errors += 1

    def _recv_rtp(self, max_reads=256):
        """Drain the RTP socket (bounded: max_reads datagrams per call)."""
        for _ in range(max_reads):
            try:
                data, src = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            key = fmt_addr(src)
            self.sources[key] = self.sources.get(key, 0) + 1
            self.received += 1
            r = parse_rtp(data)
            if r is None:
                self.invalid += 1
                continue
            ok = r['payload_ok'] and r['header_ok']
            if r['payload_ok'] and not r['header_ok']:
                self.mismatch += 1
            if not r['payload_ok']:
                self.invalid += 1
            if ok:
                self.valid += 1
                if self.sent >= self.a.count:
                    self.valid_after_last_send += 1
            if self.first_seq is None:
                self.first_seq = r['seq']
            self.last_seq = r['seq']
            t = self.trackers.setdefault(r['ssrc'], SeqTracker())
            t.add(r['seq'], ok)

    def _recv_rtcp(self, max_reads=64):
        for _ in range(max_reads):
            try:
                data, src = self.rtcp.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            self.rtcp_received += 1
            key = fmt_addr(src)
            self.rtcp_sources[key] = self.rtcp_sources.get(key, 0) + 1

    def run(self):
        a = self.a
        print('READY %s' % fmt_addr(self.bind), file=sys.stderr, flush=True)
        # Optional synchronised start: all phones bound before any sends.
        if a.start_at:
            delay = a.start_at - time.time()
        else:
            delay = a.start_delay_ms / 1000.0
        t_start = time.monotonic()
        hard_deadline = t_start + a.timeout_s
        interval = a.interval_ms / 1000.0
        t0 = t_start + min(max(delay, 0.0), a.timeout_s)
        rtcp_iv = a.rtcp_interval_ms / 1000.0
        next_rtcp = t0
        last_send = None
        self.sock.setblocking(False)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ, 'rtp')
        if self.rtcp:
            self.rtcp.setblocking(False)
            sel.register(self.rtcp, selectors.EVENT_READ, 'rtcp')
        timed_out = False
        # Bounded: each iteration sends, receives, or sleeps until the next
        # deadline; the hard deadline ends it in any case.
        max_iter = 1000 + 20 * (a.count + 1) + int(a.timeout_s * 2000)
        for _ in range(max_iter):
            now = time.monotonic()
            if now >= hard_deadline:
                timed_out = self.sent < a.count
                break
            if self.stop_flag:
                break
            # Send what is due; never more than a burst of 8 if late.
            burst = 0
            while self.sent < a.count and burst < 8 and \
                    now >= t0 + self.sent * interval:
                self._send_rtp(self.sent)
                burst += 1
                last_send = now
            if self.sent >= a.count and last_send is None:
                last_send = now     # count 0: linger from now
            if self.rtcp and now >= next_rtcp and \
                    (self.sent < a.count or now < last_send + a.linger_ms / 1e3):
                self._send_rtcp()
                next_rtcp = max(next_rtcp + rtcp_iv, now)
            if self.sent >= a.count:
                if now >= last_send + a.linger_ms / 1000.0:
                    break
                if a.expect and self.valid >= a.expect:
                    break
            # Wait for input until the next event.
            nxt = hard_deadline
            if self.sent < a.count:
                nxt = min(nxt, t0 + self.sent * interval)
            else:
                nxt = min(nxt, last_send + a.linger_ms / 1000.0)
            if self.rtcp:
                nxt = min(nxt, next_rtcp)
            wait = max(0.0, min(nxt - time.monotonic(), 0.5))
            for key, _ in sel.select(wait):
                if key.data == 'rtp':
                    self._recv_rtp()
                else:
                    self._recv_rtcp()
        else:
            timed_out = True
        # Last drain: datagrams already queued count.
        self._recv_rtp()
        if self.rtcp:
            self._recv_rtcp()
        sel.close()
        lost = sum(t.lost for t in self.trackers.values())
        dups = sum(t.duplicates for t in self.trackers.values())
        reord = sum(t.reordered for t in self.trackers.values())
        return dict(
            bind=fmt_addr(self.bind), to=fmt_addr(self.to),
            ssrc='%08x' % self.ssrc, count=a.count, start_seq=a.start_seq,
            payload_size=a.payload_size, pt=a.pt, interval_ms=a.interval_ms,
            sent=self.sent, send_errors=self.send_errors,
            received=self.received, received_valid=self.valid,
            invalid=self.invalid, header_mismatch=self.mismatch,
            lost=lost, duplicates=dups, reordered=reord,
            sources=self.sources, first_seq=self.first_seq,
            last_seq=self.last_seq,
            peer_ssrcs=sorted('%08x' % s for s in self.trackers),
            per_ssrc={'%08x' % s: t.as_dict()
                      for s, t in sorted(self.trackers.items())},
            rtcp_sent=self.rtcp_sent, rtcp_received=self.rtcp_received,
            rtcp_sources=self.rtcp_sources,
            duration_s=round(time.monotonic() - t_start, 3),
            timed_out=timed_out, stopped_by_signal=self.stop_flag)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description='RTP test phone (symmetric RTP)')
    ap.add_argument('--bind', required=True, help='IP:PORT or [IP6]:PORT')
    ap.add_argument('--to', required=True, help='IP:PORT or [IP6]:PORT')
    ap.add_argument('--count', type=int, default=50)
    ap.add_argument('--interval-ms', type=float, default=20.0)
    ap.add_argument('--ssrc', default='0x11111111', help='hex')
    ap.add_argument('--payload-size', type=int, default=160)
    ap.add_argument('--pt', type=int, default=0)
    ap.add_argument('--start-seq', type=int, default=0)
    ap.add_argument('--start-ts', type=int, default=0)
    ap.add_argument('--linger-ms', type=float, default=1000.0)
    ap.add_argument('--expect', type=int, default=0,
                    help='stop lingering once this many valid packets came')
    ap.add_argument('--start-delay-ms', type=float, default=0.0)
    ap.add_argument('--start-at', type=float, default=0.0,
                    help='wall-clock time (time.time()) of the first send')
    ap.add_argument('--timeout-s', type=float, default=None,
                    help='hard limit on the whole run '
                         '(default: send time + delay + linger + 10 s)')
    ap.add_argument('--rtcp', action='store_true')
    ap.add_argument('--rtcp-interval-ms', type=float, default=1000.0)
    ap.add_argument('--json', default='-', help="output file, '-' stdout")
    a = ap.parse_args(argv)
    if a.count < 0 or a.count > 10_000_000:
        ap.error('--count out of range')
    if a.interval_ms < 0 or a.rtcp_interval_ms <= 0:
        ap.error('intervals must be positive')
    if not 16 <= a.payload_size <= 65000:
        ap.error('--payload-size must be 16..65000')
    if not 0 <= a.pt <= 127:
        ap.error('--pt must be 0..127')
    if a.timeout_s is None:
        delay = max(a.start_delay_ms / 1e3,
                    (a.start_at - time.time()) if a.start_at else 0)
        a.timeout_s = (a.count * a.interval_ms + a.linger_ms) / 1e3 \
            + max(delay, 0) + 10.0
    return a


def main(argv=None):
    a = parse_args(argv)
    try:
        phone = Phone(a)
    except (OSError, ValueError) as e:
        print('rtpb_phone: %s' % e, file=sys.stderr)
        return 2

    def on_signal(signum, frame):
        phone.stop_flag = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    res = phone.run()
    text = json.dumps(res, indent=1, sort_keys=True)
    if a.json == '-':
        print(text, flush=True)
    else:
        tmp = a.json + '.tmp%d' % os.getpid()
        with open(tmp, 'w') as f:
            f.write(text + '\n')
        os.replace(tmp, a.json)     # readers never see half a file
    return 0


if __name__ == '__main__':
    sys.exit(main())
