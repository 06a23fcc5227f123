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
the RTP header: received_valid counts those.  Packets whose payload starts
with 'ATCK' (the attacker mode's marker) are counted in attack_marked.

Output JSON (--json FILE, '-' for stdout):
    sent, received, received_valid, invalid, header_mismatch, lost,
    duplicates, reordered, sources {"ip:port": n}, first_seq, last_seq,
    peer_ssrcs ["%08x"], per_ssrc {...}, send_errors, rtcp_sent,
    rtcp_received, rtcp_sources, attack_marked, duration_s, timed_out,
    move (null unless --move-after), ...
lost = sum over peer SSRCs of (highest - lowest extended seq + 1 - unique).

--rtcp: also send a minimal RTCP SR (PT 200, RFC 3550 §6.4.1) every
--rtcp-interval-ms from port+1 to the peer's port+1, and count RTCP received.

Moving mid-call (a handover without signalling, as a phone going from
Wi-Fi to LTE): --move-after N --move-bind ADDR [--move-to ADDR] sends
packets 0..N-1 from --bind and packets N.. from a second socket bound to
ADDR (another local address and/or port, possibly IPv6 with --move-to an
IPv6 relay address), which it keeps receiving on (it is bound, and
received on, from the start).  --move-when-file PATH delays the move
until PATH exists and takes the destination from it (a test writes it
after a re-offer gave the relay's new address).  By default it keeps
the SSRC and the sequence numbers (a real handover); --move-ssrc HEX
switches to a new SSRC with a new sequence start (--move-start-seq, random
by default).  The old socket stays open: what still arrives there after
the move is reported apart (move.old.after_move), so a test tells packets
the relay sent to the old address from packets it lost.  With --rtcp the
RTCP socket moves too (new port + 1); the new one sends its first SR only
once RTP arrived on the new socket (the relay switched), so that RTCP from
the new address never counts in the RTP stream's probation
(--move-rtcp-now sends at once).  move.new.sent_before_first_rx is how
many packets the new socket had sent when the first packet reached it.

Attacker mode (--attack TARGET[,TARGET...], RTP Bleed): from --bind it
sends bursts of RTP at the targets every --attack-tick-ms for
--attack-duration-ms (at most --attack-max-pkts packets), rotating four
patterns per tick and target, each a burst of --attack-burst packets:
    spray        a random SSRC per packet, random sequence numbers;
    ssrc_burst   the target's real SSRC (--attack-ssrc, as if sniffed) with
                 consecutive "wrong" sequence numbers (--attack-seq-range,
                 far from the real ones): a burst continues by itself;
    fixed_random a sustained stream with one attacker SSRC per target
                 over the whole attack, random sequence numbers;
    ssrc_random  the real SSRC, random wrong sequence numbers.
Between bursts, and inside the random patterns, a packet never continues
the previous one to the same target (same SSRC and sequence 1..2999
ahead), so from the relay's point of view (DESIGN.md §4: a candidate needs
consecutive packets with one SSRC and increasing sequence numbers) the
longest run the attacker ever builds is --attack-burst packets, whatever
the timing; per_target.max_run reports it.  The payload starts with
'ATCK'.  Everything that comes back is counted (received, sources).
JSON: mode 'attack', sent, send_errors, per_target {addr: {sent, max_run,
by_pattern}}, received, sources, duration_s, timed_out.

Exit status: 0 when it ran (whatever it received), 2 on bad arguments or
socket errors at bind.  It prints 'READY <ip:port>' on stderr once bound.
"""

import argparse
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

MAGIC = b'RTPB'
ATTACK_MAGIC = b'ATCK'
PL_HDR = struct.Struct('!4sIIHH')       # magic, ssrc, idx, seq, size
RTP_HDR = struct.Struct('!BBHII')       # v/p/x/cc, m/pt, seq, ts, ssrc
TS_STEP = 160                           # 20 ms of 8 kHz audio
NTP_EPOCH_OFFSET = 2208988800           # 1900 -> 1970, RFC 868
MAX_DROPOUT = 3000                      # RFC 3550 A.1

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
            payload_ok (payload intact), header_ok (payload ssrc/seq
            equal the header's) and attack (the attacker's marker).
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
             payload_ok=False, header_ok=False, idx=None,
             attack=pl[:4] == ATTACK_MAGIC)
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


def _count(d, key):
    d[key] = d.get(key, 0) + 1


class Endpoint:
    """One local RTP socket of a phone (and its RTCP socket at port + 1),
    with what arrived on it.  A phone has one, or two when it moves."""

    def __init__(self, name, fam, bind, to, rtcp):
        self.name = name
        self.fam = fam
        self.to = to
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(bind)
        self.bind = self.sock.getsockname()[:2]
        self.rtcp = None
        if rtcp:
            self.rtcp = socket.socket(fam, socket.SOCK_DGRAM)
            self.rtcp.bind((self.bind[0], self.bind[1] + 1))
        self.rtp_sent = self.rtcp_sent = 0
        self.received = self.valid = 0
        self.after_move = self.after_move_valid = 0
        self.sources = {}
        self.first_seq = self.last_seq = None
        self.first_seq_after_move = self.last_seq_after_move = None
        self.rtcp_received = 0
        self.rtcp_sources = {}
        self.sent_before_first_rx = None    # new endpoint: see the doc

    def close(self):
        self.sock.close()
        if self.rtcp:
            self.rtcp.close()

    def as_dict(self):
        d = dict(bind=fmt_addr(self.bind), to=fmt_addr(self.to) if self.to else None,
                 rtp_sent=self.rtp_sent, rtcp_sent=self.rtcp_sent,
                 received=self.received, received_valid=self.valid,
                 sources=self.sources, first_seq=self.first_seq,
                 last_seq=self.last_seq, rtcp_received=self.rtcp_received,
                 rtcp_sources=self.rtcp_sources)
        if self.name == 'old':
            # what still reached the old address after the move
            d.update(before_move=self.received - self.after_move,
                     after_move=self.after_move,
                     after_move_valid=self.after_move_valid,
                     first_seq_after_move=self.first_seq_after_move,
                     last_seq_after_move=self.last_seq_after_move)
        else:
            d.update(sent_before_first_rx=self.sent_before_first_rx)
        return d


class Phone:
    """One phone run; see the module doc.  run() returns the result dict."""

    def __init__(self, a):
        self.a = a
        self.fam, bind = parse_addr(a.bind)
        fam2, to = parse_addr(a.to)
        if fam2 != self.fam:
            raise ValueError('--bind and --to families differ')
        self.ssrc = int(a.ssrc, 16) & 0xffffffff
        self.old = Endpoint('old', self.fam, bind, to, a.rtcp)
        self.eps = [self.old]
        self.new = None
        self.new_ssrc = self.ssrc
        self.new_start_seq = None
        if a.move_after:
            mfam, mbind = parse_addr(a.move_bind)
            mto = parse_addr(a.move_to)[1] if a.move_to else to
            if a.move_to and parse_addr(a.move_to)[0] != mfam:
                raise ValueError('--move-bind and --move-to families differ')
            if a.move_when_file and not a.move_to:
                mto = None          # read from the file at the move
            elif not a.move_to and mfam != self.fam:
                raise ValueError('--move-bind of another family needs '
                                 '--move-to or --move-when-file')
            self.new = Endpoint('new', mfam, mbind, mto, a.rtcp)
            self.eps.append(self.new)
            if a.move_ssrc:
                self.new_ssrc = int(a.move_ssrc, 16) & 0xffffffff
                self.new_start_seq = (a.move_start_seq if a.move_start_seq
                                      is not None else
                                      random.randrange(65536)) & 0xffff
        # kept for callers that used them
        self.sock = self.old.sock
        self.bind = self.old.bind
        self.to = self.old.to
        self.rtcp = self.old.rtcp
        self.moved = False
        self.sent = self.send_errors = self.octets = 0
        self.received = self.valid = self.invalid = self.mismatch = 0
        self.attack_marked = 0
        self.sources = {}
        self.trackers = {}
        self.first_seq = self.last_seq = None
        self.rtcp_sent = self.rtcp_received = 0
        self.rtcp_sources = {}
        self.valid_after_last_send = 0
        self.stop_flag = False

    def _cur(self):
        """The endpoint sending now."""
        return self.new if self.moved else self.old

    def _move_ready(self):
        """True once the move may happen: at once, or with
        --move-when-file once that file exists (its content, if any, is
        the new destination)."""
        path = self.a.move_when_file
        if not path:
            return True
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            return False
        if text:
            fam, to = parse_addr(text)
            if fam != self.new.fam:
                raise ValueError('%s: %s is not of the family of --move-bind'
                                 % (path, text))
            self.new.to = to
        return self.new.to is not None

    def _send_rtp(self, i):
        a = self.a
        if self.new is not None and not self.moved and i >= a.move_after \
                and self._move_ready():
            # Whatever already waits on the old socket arrived before the
            # move: count it so, then switch.
            for ep in self.eps:
                self._recv_rtp(ep)
            self.moved = True
        ep = self._cur()
        if self.moved and self.new_start_seq is not None:
            ssrc = self.new_ssrc
            seq = (self.new_start_seq + i - a.move_after) & 0xffff
            marker = i == a.move_after
        else:
            ssrc = self.ssrc
            seq = (a.start_seq + i) & 0xffff
            marker = i == 0
        ts = (a.start_ts + i * TS_STEP) & 0xffffffff
        pkt = build_rtp(ssrc, i, seq, ts, a.pt, a.payload_size, marker=marker)
        try:
            ep.sock.sendto(pkt, ep.to)
            self.sent += 1
            ep.rtp_sent += 1
            self.octets += a.payload_size
        except OSError:
            self.send_errors += 1

    def _send_rtcp(self):
        ep = self._cur()
        if ep is self.new and ep.received == 0 and not self.a.move_rtcp_now:
            return                  # wait until the relay switched
        ssrc = self.new_ssrc if ep is self.new else self.ssrc
        ts = (self.a.start_ts + self.sent * TS_STEP) & 0xffffffff
        sr = build_rtcp_sr(ssrc, ts, self.sent, self.octets)
        try:
            ep.rtcp.sendto(sr, (ep.to[0], ep.to[1] + 1))
            self.rtcp_sent += 1
            ep.rtcp_sent += 1
        except OSError:
            self.send_errors += 1

    def _recv_rtp(self, ep, max_reads=256):
        """Drain ep's RTP socket (bounded: max_reads datagrams per call)."""
        for _ in range(max_reads):
            try:
                data, src = ep.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            key = fmt_addr(src)
            _count(self.sources, key)
            _count(ep.sources, key)
            self.received += 1
            ep.received += 1
            if ep is self.new and ep.sent_before_first_rx is None:
                ep.sent_before_first_rx = ep.rtp_sent
            after = self.moved and ep is self.old
            if after:
                ep.after_move += 1
            r = parse_rtp(data)
            if r is None:
                self.invalid += 1
                continue
            if r['attack']:
                self.attack_marked += 1
            ok = r['payload_ok'] and r['header_ok']
            if r['payload_ok'] and not r['header_ok']:
                self.mismatch += 1
            if not r['payload_ok']:
                self.invalid += 1
            if ok:
                self.valid += 1
                ep.valid += 1
                if after:
                    ep.after_move_valid += 1
                if self.sent >= self.a.count:
                    self.valid_after_last_send += 1
            if self.first_seq is None:
                self.first_seq = r['seq']
            self.last_seq = r['seq']
            if ep.first_seq is None:
                ep.first_seq = r['seq']
            ep.last_seq = r['seq']
            if after:
                if ep.first_seq_after_move is None:
                    ep.first_seq_after_move = r['seq']
                ep.last_seq_after_move = r['seq']
            t = self.trackers.setdefault(r['ssrc'], SeqTracker())
            t.add(r['seq'], ok)

    def _recv_rtcp(self, ep, max_reads=64):
        for _ in range(max_reads):
            try:
                data, src = ep.rtcp.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            self.rtcp_received += 1
            ep.rtcp_received += 1
            key = fmt_addr(src)
            _count(self.rtcp_sources, key)
            _count(ep.rtcp_sources, key)

    def run(self):
        a = self.a
        print('READY %s' % fmt_addr(self.old.bind), file=sys.stderr,
              flush=True)
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
        sel = selectors.DefaultSelector()
        for ep in self.eps:
            ep.sock.setblocking(False)
            sel.register(ep.sock, selectors.EVENT_READ, (ep, 'rtp'))
            if ep.rtcp:
                ep.rtcp.setblocking(False)
                sel.register(ep.rtcp, selectors.EVENT_READ, (ep, 'rtcp'))
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
            # Send what is due; never more than a burst of 8 if late.  What
            # arrived before this send slot is read first, so that counts
            # taken at reception (sent_before_first_rx, after_move) do not
            # depend on the order of this loop.
            if self.sent < a.count and now >= t0 + self.sent * interval:
                for ep in self.eps:
                    self._recv_rtp(ep)
            burst = 0
            while self.sent < a.count and burst < 8 and \
                    now >= t0 + self.sent * interval:
                self._send_rtp(self.sent)
                burst += 1
                last_send = now
            if self.sent >= a.count and last_send is None:
                last_send = now     # count 0: linger from now
            if a.rtcp and now >= next_rtcp and \
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
            if a.rtcp:
                nxt = min(nxt, next_rtcp)
            wait = max(0.0, min(nxt - time.monotonic(), 0.5))
            for key, _ in sel.select(wait):
                ep, kind = key.data
                if kind == 'rtp':
                    self._recv_rtp(ep)
                else:
                    self._recv_rtcp(ep)
        else:
            timed_out = True
        # Last drain: datagrams already queued count.
        for ep in self.eps:
            self._recv_rtp(ep)
            if ep.rtcp:
                self._recv_rtcp(ep)
        sel.close()
        lost = sum(t.lost for t in self.trackers.values())
        dups = sum(t.duplicates for t in self.trackers.values())
        reord = sum(t.reordered for t in self.trackers.values())
        move = None
        if self.new is not None:
            move = dict(after=a.move_after, done=self.moved,
                        ssrc='%08x' % self.new_ssrc,
                        new_ssrc=self.new_start_seq is not None,
                        start_seq=(self.new_start_seq
                                   if self.new_start_seq is not None
                                   else (a.start_seq + a.move_after) & 0xffff),
                        old=self.old.as_dict(), new=self.new.as_dict())
        return dict(
            bind=fmt_addr(self.old.bind), to=fmt_addr(self.old.to),
            ssrc='%08x' % self.ssrc, count=a.count, start_seq=a.start_seq,
            payload_size=a.payload_size, pt=a.pt, interval_ms=a.interval_ms,
            sent=self.sent, send_errors=self.send_errors,
            received=self.received, received_valid=self.valid,
            invalid=self.invalid, header_mismatch=self.mismatch,
            attack_marked=self.attack_marked,
            lost=lost, duplicates=dups, reordered=reord,
            sources=self.sources, first_seq=self.first_seq,
            last_seq=self.last_seq,
            peer_ssrcs=sorted('%08x' % s for s in self.trackers),
            per_ssrc={'%08x' % s: t.as_dict()
                      for s, t in sorted(self.trackers.items())},
            rtcp_sent=self.rtcp_sent, rtcp_received=self.rtcp_received,
            rtcp_sources=self.rtcp_sources, move=move,
            duration_s=round(time.monotonic() - t_start, 3),
            timed_out=timed_out, stopped_by_signal=self.stop_flag)


# ---------------------------------------------------------------------------
# Attacker mode.

ATTACK_PATTERNS = ('spray', 'ssrc_burst', 'fixed_random', 'ssrc_random')


class _Target:
    """One attacked relay port and what the relay's candidate counter can
    have seen of us there (worst case: no real packet in between)."""

    def __init__(self, addr, ssrc, rng):
        self.addr = addr
        self.real_ssrc = ssrc           # None if not given
        self.fixed_ssrc = None          # the sustained stream's SSRC
        self.last_ssrc = None
        self.last_seq = None
        self.run = 0
        self.max_run = 0
        self.sent = 0
        self.by_pattern = {p: 0 for p in ATTACK_PATTERNS}
        self.rng = rng

    def chains(self, ssrc, seq):
        """True if (ssrc, seq) would continue our last packet here."""
        if self.last_ssrc is None or ssrc != self.last_ssrc:
            return False
        d = (seq - self.last_seq) & 0xffff
        return 0 < d < MAX_DROPOUT

    def note(self, ssrc, seq):
        self.run = self.run + 1 if self.chains(ssrc, seq) else 1
        self.max_run = max(self.max_run, self.run)
        self.last_ssrc, self.last_seq = ssrc, seq


class Attacker:
    """A blind RTP Bleed attacker; see the module doc."""

    def __init__(self, a):
        self.a = a
        self.fam, self.bind = parse_addr(a.bind)
        lo, _, hi = a.attack_seq_range.partition(':')
        self.seq_lo, self.seq_hi = int(lo), int(hi)
        if not 0 <= self.seq_lo < self.seq_hi - a.attack_burst <= 65535:
            raise ValueError('bad --attack-seq-range %s'
                             % a.attack_seq_range)
        self.rng = random.Random(a.attack_seed)
        ssrcs = [s for s in (a.attack_ssrc or '').split(',') if s]
        self.targets = []
        for k, t in enumerate(x for x in a.attack.split(',') if x):
            fam, addr = parse_addr(t)
            if fam != self.fam:
                raise ValueError('target %s: not the family of --bind' % t)
            ssrc = int(ssrcs[k], 16) & 0xffffffff if k < len(ssrcs) else None
            self.targets.append(_Target(addr, ssrc, self.rng))
        if not self.targets:
            raise ValueError('--attack needs a target')
        self.avoid = {t.real_ssrc for t in self.targets if t.real_ssrc}
        for t in self.targets:
            t.fixed_ssrc = self._random_ssrc()
            self.avoid.add(t.fixed_ssrc)
        self.sock = socket.socket(self.fam, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(self.bind)
        self.bind = self.sock.getsockname()[:2]
        self.sent = self.send_errors = 0
        self.received = 0
        self.sources = {}
        self.stop_flag = False

    def _random_ssrc(self):
        for _ in range(100):
            s = self.rng.getrandbits(32)
            if s not in self.avoid and s != 0:
                return s
        raise RuntimeError('no free SSRC')   # 2^-3200: never

    def _wrong_seq(self, t, ssrc, room=1):
        """A sequence number in the wrong range that does not continue the
        last packet to t (room: the burst length that must fit after)."""
        seq = self.seq_lo
        for _ in range(100):
            seq = self.rng.randrange(self.seq_lo, self.seq_hi - room + 1)
            if not t.chains(ssrc, seq):
                return seq
        # delta 0 never continues a run; last_seq is in the range
        return t.last_seq if t.last_seq is not None else seq

    def _send(self, t, pattern, ssrc, seq, k):
        payload = (ATTACK_MAGIC + struct.pack('!IIHH', ssrc, k & 0xffffffff,
                                              seq, self.a.payload_size)
                   + bytes(max(0, self.a.payload_size - 16)))
        pkt = RTP_HDR.pack(0x80, self.a.pt, seq, self.rng.getrandbits(32),
                           ssrc) + payload
        try:
            self.sock.sendto(pkt, t.addr)
        except OSError:
            self.send_errors += 1
            return
        t.note(ssrc, seq)
        t.sent += 1
        t.by_pattern[pattern] += 1
        self.sent += 1

    def _burst(self, t, pattern, n):
        """n packets of pattern to t (fewer if the pattern needs the real
        SSRC and none was given: then it falls back to spray)."""
        if pattern in ('ssrc_burst', 'ssrc_random') and t.real_ssrc is None:
            pattern = 'spray'
        if pattern == 'ssrc_burst':
            seq = self._wrong_seq(t, t.real_ssrc, room=n)
            for k in range(n):
                self._send(t, pattern, t.real_ssrc, (seq + k) & 0xffff,
                           self.sent)
            return
        for _ in range(n):
            if pattern == 'spray':
                ssrc = self._random_ssrc()
            elif pattern == 'fixed_random':
                ssrc = t.fixed_ssrc
            else:
                ssrc = t.real_ssrc
            self._send(t, pattern, ssrc, self._wrong_seq(t, ssrc), self.sent)

    def _recv(self, max_reads=256):
        for _ in range(max_reads):
            try:
                data, src = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            self.received += 1
            _count(self.sources, fmt_addr(src))

    def run(self):
        a = self.a
        print('READY %s' % fmt_addr(self.bind), file=sys.stderr, flush=True)
        delay = (a.start_at - time.time()) if a.start_at \
            else a.start_delay_ms / 1000.0
        t_start = time.monotonic()
        hard_deadline = t_start + a.timeout_s
        t0 = t_start + min(max(delay, 0.0), a.timeout_s)
        t_end = t0 + a.attack_duration_ms / 1000.0
        tick = a.attack_tick_ms / 1000.0
        self.sock.setblocking(False)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        n_tick = 0
        t_stopped = None            # when sending ended
        linger = a.linger_ms / 1000.0
        timed_out = False
        max_iter = 1000 + int(a.timeout_s * 2000) + \
            4 * int(a.attack_duration_ms / a.attack_tick_ms + 1)
        for _ in range(max_iter):
            now = time.monotonic()
            if now >= hard_deadline:
                timed_out = True
                break
            if self.stop_flag:
                break
            sending = now < t_end and self.sent < a.attack_max_pkts
            if sending and now >= t0 + n_tick * tick:
                pattern = ATTACK_PATTERNS[n_tick % len(ATTACK_PATTERNS)]
                for t in self.targets:
                    n = min(a.attack_burst, a.attack_max_pkts - self.sent)
                    if n > 0:
                        self._burst(t, pattern, n)
                # late: skip the ticks missed, never catch up in a flood
                n_tick = max(n_tick + 1, int((now - t0) / tick))
                continue
            if not sending:
                if t_stopped is None:
                    t_stopped = now
                if now >= t_stopped + linger:
                    break
                nxt = t_stopped + linger
            else:
                nxt = t0 + n_tick * tick
            wait = max(0.0, min(nxt - time.monotonic(), 0.5))
            for _k, _ev in sel.select(wait):
                self._recv()
        else:
            timed_out = True
        self._recv()
        sel.close()
        return dict(
            mode='attack', bind=fmt_addr(self.bind), sent=self.sent,
            send_errors=self.send_errors, ticks=n_tick,
            burst=a.attack_burst,
            per_target={fmt_addr(t.addr): dict(
                sent=t.sent, max_run=t.max_run, by_pattern=t.by_pattern,
                real_ssrc=('%08x' % t.real_ssrc) if t.real_ssrc else None,
                fixed_ssrc='%08x' % t.fixed_ssrc)
                for t in self.targets},
            received=self.received, sources=self.sources,
            duration_s=round(time.monotonic() - t_start, 3),
            timed_out=timed_out, stopped_by_signal=self.stop_flag)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description='RTP test phone (symmetric RTP)')
    ap.add_argument('--bind', required=True, help='IP:PORT or [IP6]:PORT')
    ap.add_argument('--to', help='IP:PORT or [IP6]:PORT (not with --attack)')
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
    g = ap.add_argument_group('moving mid-call (handover)')
    g.add_argument('--move-after', type=int, default=0,
                   help='send packets N.. from --move-bind (0: never move)')
    g.add_argument('--move-bind', help='IP:PORT or [IP6]:PORT after the move')
    g.add_argument('--move-to', help='destination after the move '
                                     '(default: --to)')
    g.add_argument('--move-ssrc', help='hex: a new SSRC after the move '
                                       '(default: keep SSRC and sequence)')
    g.add_argument('--move-start-seq', type=int, default=None,
                   help='first sequence number with --move-ssrc '
                        '(default: random)')
    g.add_argument('--move-when-file', metavar='PATH',
                   help='move at the first packet >= --move-after sent once '
                        'PATH exists; its content, if any, is the new '
                        'destination (as --move-to)')
    g.add_argument('--move-rtcp-now', action='store_true',
                   help='send RTCP from the new socket at once, not only '
                        'after RTP arrived there')
    g = ap.add_argument_group('attacker mode')
    g.add_argument('--attack', help='TARGET[,TARGET...]: attack these '
                                    'relay ports instead of phoning')
    g.add_argument('--attack-ssrc', help='hex[,hex...]: the real SSRC sent '
                                         'to each target (as if sniffed)')
    g.add_argument('--attack-seq-range', default='20000:60000',
                   help='LO:HI wrong sequence numbers (default 20000:60000)')
    g.add_argument('--attack-burst', type=int, default=9,
                   help='packets per target and tick (default 9)')
    g.add_argument('--attack-tick-ms', type=float, default=7.0)
    g.add_argument('--attack-duration-ms', type=float, default=2000.0)
    g.add_argument('--attack-max-pkts', type=int, default=20000)
    g.add_argument('--attack-seed', type=int, default=None)
    ap.add_argument('--json', default='-', help="output file, '-' stdout")
    a = ap.parse_args(argv)
    if not a.attack and not a.to:
        ap.error('--to is required (or --attack)')
    if a.count < 0 or a.count > 10_000_000:
        ap.error('--count out of range')
    if a.interval_ms < 0 or a.rtcp_interval_ms <= 0:
        ap.error('intervals must be positive')
    if not 16 <= a.payload_size <= 65000:
        ap.error('--payload-size must be 16..65000')
    if not 0 <= a.pt <= 127:
        ap.error('--pt must be 0..127')
    if a.move_after < 0 or a.move_after > a.count:
        ap.error('--move-after must be 0..count')
    if a.move_after and not a.move_bind:
        ap.error('--move-after needs --move-bind')
    if a.attack and not (1 <= a.attack_burst <= 1000 and
                         a.attack_tick_ms > 0 and
                         0 < a.attack_duration_ms <= 600000 and
                         0 <= a.attack_max_pkts <= 10_000_000):
        ap.error('attack parameters out of range')
    if a.timeout_s is None:
        delay = max(a.start_delay_ms / 1e3,
                    (a.start_at - time.time()) if a.start_at else 0)
        send_ms = a.attack_duration_ms if a.attack \
            else a.count * a.interval_ms
        a.timeout_s = (send_ms + a.linger_ms) / 1e3 + max(delay, 0) + 10.0
    return a


def main(argv=None):
    a = parse_args(argv)
    try:
        phone = Attacker(a) if a.attack else Phone(a)
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
