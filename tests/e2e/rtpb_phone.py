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

--rtcp: also send RTCP every --rtcp-interval-ms from port+1 to the peer's
port+1 (--rtcp-mux: on the RTP socket to the RTP port, RFC 5761), as
phones send it: a compound packet (RFC 3550 §6.1) of an SR (PT 200) when
it sent RTP within the last two intervals, else an RR (PT 201), with one
report block about the SSRC it last heard, then an SDES (PT 202) with the
CNAME item (--cname, default 'phone@<ssrc>'; it stays across a move to a
new SSRC: RFC 3550 §6.5.1).  --rtcp-minimal sends the old bare 28-byte SR.
RTCP goes on during silences.  RTCP received (on port+1, or demultiplexed
on the RTP socket: second byte 192..223) is counted per sender SSRC
(rtcp_by_ssrc) and CNAME (rtcp_cnames), rtcp_malformed if not a
well-formed compound.

Silences (DTX, hold): --silence-at-ms T --silence-ms D (repeatable) stops
RTP at T ms after the start for D ms; RTCP goes on.  RTP resumes with the
next sequence number and a timestamp advanced by the silence (20 ms slots
inside a silence are skipped, not shifted), the marker bit set.  JSON
silences: [{at_ms, ms, last_idx_before, first_idx_after, first_seq_after}].

Logs (for timing): --tx-log and --rx-log record every packet sent /
received as [t_ms, endpoint 'old'|'new', kind, ssrc, seq, idx(, attack)],
t_ms from --time-base (default --start-at), so that the logs of several
processes started with one --start-at share a time axis.  Attacker
packets (the 'ATCK' marker: in the RTP payload, an RTCP SDES PRIV item,
a STUN SOFTWARE attribute, a DTLS record body) are counted apart:
attack_marked (all), attack_rtp, attack_rtcp, attack_other, attack_ssrcs;
attacker RTP never enters the per-SSRC trackers.  rx_kinds counts what
arrived by RFC 7983 class.

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
(--move-rtcp-now sends one at the move, then every interval).
--move-at-ms T moves at T ms after the start instead of at a packet (e.g.
inside a silence: RTP then resumes from the new socket); move.t_ms is
when it moved.  move.new.sent_before_first_rx is how
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

Attacker modes (--attack-mode, default 'rotate': the above), one kind of
traffic per process, from --start-at for --attack-duration-ms, a tick
every --attack-tick-ms:
    paced     one RTP packet per tick and target, like a phone: with
              --attack-ssrc-mode fixed one SSRC, sequence +1 and timestamp
              +160 per packet; random: a new SSRC every packet;
    burst     --attack-burst back-to-back RTP packets per tick (10 take
              about 0.2 ms), consecutive sequence numbers; fixed: one SSRC
              continuing across bursts; random: a new SSRC per burst;
    rtcp      --attack-burst compound SR + SDES (CNAME --attack-cname)
              per tick, attacker SSRC fixed or random;
    stun      STUN Binding Requests (first byte 0x00);
    dtls      DTLS handshake records (first byte 0x16);
    observer  someone who sees the other leg: it is told the phone's SSRC
              (--observe-ssrc), first sequence number and timestamp, the
              wall-clock time of its first packet (--observe-t0) and its
              pacing; each tick it predicts the phone's current sequence
              number (first + elapsed / interval) and injects the next one
              with the real SSRC; with --observe-cname also an RTCP SR +
              SDES with the real SSRC and CNAME to port + 1 before it.
JSON: attack_mode, sent, rtcp_sent, per_target {addr: {sent}}, received,
rx_kinds, sources, rx_ssrcs, rx_log [t_ms, source, kind, ssrc, seq, idx],
first_rx_ms, last_rx_ms, first_tx_ms, last_tx_ms (t_ms from --time-base).

--start-file PATH: bind, print READY, then wait until PATH holds the
shared start T0 (wall clock); --start-at, --time-base and --observe-t0 are
offsets from it.  A test starts every process, waits for all READYs, and
only then picks T0, so no process starts late however slowly they spawn.

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


RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_APP = 200, 201, 202, 203, 204
SDES_END, SDES_CNAME, SDES_PRIV = 0, 1, 8


def _ntp(now):
    ntp = now + NTP_EPOCH_OFFSET
    sec = int(ntp)
    return sec & 0xffffffff, int((ntp - sec) * (1 << 32)) & 0xffffffff


def build_report_block(ssrc, ext_max_seq, lost=0, jitter=0):
    """One RTCP reception report block (RFC 3550 6.4.1): 24 bytes."""
    cum = max(-0x800000, min(0x7fffff, lost)) & 0xffffff
    return struct.pack('!IIIIII', ssrc & 0xffffffff, cum, ext_max_seq & 0xffffffff,
                       jitter & 0xffffffff, 0, 0)


def build_rtcp_sr_rr(ssrc, sender, rtp_ts=0, packets=0, octets=0, blocks=(),
                     now=None):
    """An SR (sender, PT 200) or RR (PT 201) with the given report blocks."""
    blocks = list(blocks)[:31]
    body = b''.join(blocks)
    if sender:
        sec, frac = _ntp(time.time() if now is None else now)
        words = 6 + 6 * len(blocks)
        return struct.pack('!BBHIIIIII', 0x80 | len(blocks), RTCP_SR, words, ssrc,
                           sec, frac, rtp_ts & 0xffffffff, packets & 0xffffffff,
                           octets & 0xffffffff) + body
    words = 1 + 6 * len(blocks)
    return struct.pack('!BBHI', 0x80 | len(blocks), RTCP_RR, words, ssrc) + body


def build_rtcp_sdes(ssrc, cname, priv=None):
    """An SDES packet (RFC 3550 6.5) with one chunk: CNAME, optionally a
    PRIV item (6.5.8: prefix length, prefix, value) holding priv (bytes),
    then the END item and null padding to a 32-bit boundary."""
    c = cname.encode() if isinstance(cname, str) else cname
    items = bytes([SDES_CNAME, len(c)]) + c
    if priv is not None:
        pv = bytes([len(priv)]) + priv
        items += bytes([SDES_PRIV, len(pv)]) + pv
    chunk = struct.pack('!I', ssrc) + items
    chunk += bytes(4 - len(chunk) % 4)      # END + padding: 1..4 nulls
    return struct.pack('!BBH', 0x81, RTCP_SDES, len(chunk) // 4) + chunk


def build_rtcp_compound(ssrc, cname, sender, rtp_ts=0, packets=0, octets=0,
                        blocks=(), priv=None, now=None):
    """A compound RTCP packet as phones send it (RFC 3550 6.1): SR or RR
    first, then SDES with the CNAME."""
    return (build_rtcp_sr_rr(ssrc, sender, rtp_ts, packets, octets, blocks, now)
            + build_rtcp_sdes(ssrc, cname, priv))


def is_rtcp(data):
    """RFC 5761 4: version 2 and a second byte of 64..95 (PT 192..223)."""
    return len(data) >= 8 and data[0] >> 6 == 2 and 192 <= data[1] <= 223


def parse_rtcp(data):
    """Parse a (compound) RTCP packet defensively.
    @return dict(ok, types [pt...], ssrc (first packet's sender SSRC or
            None), cnames {ssrc: cname}, priv [bytes], attack)."""
    r = dict(ok=False, types=[], ssrc=None, cnames={}, priv=[], attack=False)
    off, n = 0, len(data)
    for _ in range(64):
        if off + 4 > n:
            break
        b0, pt, words = struct.unpack_from('!BBH', data, off)
        plen = 4 * (words + 1)
        if b0 >> 6 != 2 or off + plen > n:
            return r
        r['types'].append(pt)
        if r['ssrc'] is None and plen >= 8:
            r['ssrc'] = struct.unpack_from('!I', data, off + 4)[0]
        if pt == RTCP_SDES:
            p, end = off + 4, off + plen
            for _c in range(b0 & 0x1f):
                if p + 4 > end:
                    return r
                cssrc = struct.unpack_from('!I', data, p)[0]
                p += 4
                for _i in range(256):
                    if p >= end:
                        return r
                    it = data[p]
                    if it == SDES_END:
                        p = (p + 4) & ~3        # to the next 32-bit word
                        break
                    if p + 2 > end or p + 2 + data[p + 1] > end:
                        return r
                    val = data[p + 2:p + 2 + data[p + 1]]
                    if it == SDES_CNAME:
                        r['cnames'][cssrc] = val.decode('utf-8', 'replace')
                    elif it == SDES_PRIV:
                        r['priv'].append(val)
                        if ATTACK_MAGIC in val:
                            r['attack'] = True
                    p += 2 + data[p + 1]
        off += plen
        if off == n:
            r['ok'] = True
            break
    return r


def build_stun(tid, marker=True):
    """A STUN Binding Request (RFC 5389 6): 20-byte header (type 0x0001,
    magic cookie) and, with marker, a SOFTWARE attribute 'ATCK...'."""
    attrs = b''
    if marker:
        val = ATTACK_MAGIC + b'-rtpb'
        pad = (4 - len(val) % 4) % 4
        attrs = struct.pack('!HH', 0x8022, len(val)) + val + bytes(pad)
    return struct.pack('!HHI', 0x0001, len(attrs), 0x2112A442) + tid[:12] + attrs


def build_dtls(seq, marker=True):
    """A DTLS 1.2 handshake record (content type 22, RFC 6347 4.1) carrying
    a truncated ClientHello-like body (with the 'ATCK' marker)."""
    body = b'\x01' + bytes(11) + (ATTACK_MAGIC if marker else b'') + bytes(40)
    return (struct.pack('!BHH', 22, 0xfefd, 0) + (seq & 0xffffffffffff).to_bytes(6, 'big')
            + struct.pack('!H', len(body)) + body)


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
    """One local RTP socket of a phone (and its RTCP socket at port + 1,
    none with rtcp-mux), with what arrived on it.  A phone has one, or two
    when it moves."""

    def __init__(self, name, fam, bind, to, rtcp, mux=False):
        self.name = name
        self.fam = fam
        self.to = to
        self.mux = mux
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(bind)
        self.bind = self.sock.getsockname()[:2]
        self.rtcp = None
        if rtcp and not mux:
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
        self.attack_marked = 0
        self.first_rx_ms = self.first_rtcp_rx_ms = None
        self.first_rtcp_tx_ms = self.first_rtp_tx_ms = None
        self.sent_before_first_rx = None    # new endpoint: see the doc

    def rtcp_sock(self):
        return self.sock if self.mux else self.rtcp

    def rtcp_dest(self):
        return self.to if self.mux else (self.to[0], self.to[1] + 1)

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
                 rtcp_sources=self.rtcp_sources, attack_marked=self.attack_marked,
                 first_rx_ms=self.first_rx_ms, first_rtcp_rx_ms=self.first_rtcp_rx_ms,
                 first_rtp_tx_ms=self.first_rtp_tx_ms,
                 first_rtcp_tx_ms=self.first_rtcp_tx_ms)
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


LOG_CAP = 30000         # entries of --rx-log / --tx-log, at most


class Phone:
    """One phone run; see the module doc.  run() returns the result dict."""

    def __init__(self, a):
        self.a = a
        self.fam, bind = parse_addr(a.bind)
        fam2, to = parse_addr(a.to)
        if fam2 != self.fam:
            raise ValueError('--bind and --to families differ')
        self.ssrc = int(a.ssrc, 16) & 0xffffffff
        self.cname = a.cname or 'phone@%08x' % self.ssrc
        self.old = Endpoint('old', self.fam, bind, to, a.rtcp, a.rtcp_mux)
        self.eps = [self.old]
        self.new = None
        self.new_ssrc = self.ssrc
        self.new_start_seq = None
        if a.move_after or a.move_at_ms is not None:
            mfam, mbind = parse_addr(a.move_bind)
            mto = parse_addr(a.move_to)[1] if a.move_to else to
            if a.move_to and parse_addr(a.move_to)[0] != mfam:
                raise ValueError('--move-bind and --move-to families differ')
            if a.move_when_file and not a.move_to:
                mto = None          # read from the file at the move
            elif not a.move_to and mfam != self.fam:
                raise ValueError('--move-bind of another family needs '
                                 '--move-to or --move-when-file')
            self.new = Endpoint('new', mfam, mbind, mto, a.rtcp, a.rtcp_mux)
            self.eps.append(self.new)
            if a.move_ssrc:
                self.new_ssrc = int(a.move_ssrc, 16) & 0xffffffff
                self.new_start_seq = (a.move_start_seq if a.move_start_seq
                                      is not None else
                                      random.randrange(65536)) & 0xffff
        # silences: (start s, duration s), sorted
        self.silences = sorted((t / 1e3, d / 1e3) for t, d in
                               zip(a.silence_at_ms or [], a.silence_ms or []))
        self.silence_info = [dict(at_ms=t * 1e3, ms=d * 1e3, last_idx_before=None,
                                  first_idx_after=None, first_seq_after=None)
                             for t, d in self.silences]
        # kept for callers that used them
        self.sock = self.old.sock
        self.bind = self.old.bind
        self.to = self.old.to
        self.rtcp = self.old.rtcp
        self.moved = False
        self.move_idx = a.move_after
        self.move_ms = None
        self.slot = self._next_slot(0)
        self.sent = self.send_errors = self.octets = 0
        self.skipped = self.duplicated = 0
        self.skew = a.jitter_ms / 1e3
        self.received = self.valid = self.invalid = self.mismatch = 0
        self.attack_marked = self.attack_rtp = self.attack_rtcp = 0
        self.attack_other = 0
        self.attack_ssrcs = {}
        self.rx_kinds = {}
        self.sources = {}
        self.trackers = {}
        self.first_seq = self.last_seq = None
        self.rtcp_sent = self.rtcp_received = 0
        self.rtcp_sr_sent = self.rtcp_rr_sent = 0
        self.rtcp_sources = {}
        self.rtcp_by_ssrc = {}
        self.rtcp_cnames = {}
        self.rtcp_malformed = 0
        self.valid_after_last_send = 0
        self.last_rtp_tx = None
        self.next_rtcp = None
        self.t0 = None
        self.tbase = None
        self.rx_log = [] if a.rx_log else None
        self.tx_log = [] if a.tx_log else None
        self.stop_flag = False

    def _ms(self):
        """Now, in ms since the shared start (--start-at) or our own."""
        return round((time.time() - self.tbase) * 1e3, 2)

    def _in_silence(self, t):
        for k, (s, d) in enumerate(self.silences):
            if s <= t < s + d:
                return k
        return None

    def _next_slot(self, slot):
        """The first 20 ms slot >= slot outside every silence (bounded)."""
        iv = self.a.interval_ms / 1e3
        if iv <= 0:
            return slot
        for _ in range(len(self.silences) + 1):
            k = self._in_silence(slot * iv + 1e-9)
            if k is None:
                return slot
            s, d = self.silences[k]
            slot = max(slot + 1, int(-(-round((s + d) * 1e6) // round(iv * 1e6))))
        return slot

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

    def _do_move(self):
        # Whatever already waits on the old socket arrived before the
        # move: count it so, then switch.
        for ep in self.eps:
            self._recv_rtp(ep)
            if ep.rtcp:
                self._recv_rtcp(ep)
        self.moved = True
        if self.new_start_seq is not None:
            self.last_rtp_tx = None     # a new SSRC has sent nothing yet
        self.move_idx = self.sent
        self.move_ms = self._ms()
        if self.a.move_rtcp_now and self.a.rtcp:
            self.next_rtcp = time.monotonic()   # the new address's RTCP now

    def _due(self, t0, interval):
        """When the current slot is due: odd slots --jitter-ms late."""
        return t0 + self.slot * interval + (self.skew if self.slot % 2 else 0)

    def _send_rtp(self, i):
        a = self.a
        if self.new is not None and not self.moved and a.move_at_ms is None \
                and i >= a.move_after and self._move_ready():
            self._do_move()
        ep = self._cur()
        first_after_silence = False
        for k, info in enumerate(self.silence_info):
            if info['first_idx_after'] is None and \
                    self.slot * a.interval_ms / 1e3 >= self.silences[k][0]:
                info['first_idx_after'] = i
                info['last_idx_before'] = i - 1 if i > 0 else None
                first_after_silence = True
        if self.moved and self.new_start_seq is not None:
            ssrc = self.new_ssrc
            seq = (self.new_start_seq + i - self.move_idx) & 0xffff
            marker = i == self.move_idx
        else:
            ssrc = self.ssrc
            seq = (a.start_seq + i) & 0xffff
            marker = i == 0
        marker = marker or first_after_silence
        for info in self.silence_info:
            if info['first_idx_after'] == i:
                info['first_seq_after'] = seq
        ts = (a.start_ts + self.slot * TS_STEP) & 0xffffffff
        pkt = build_rtp(ssrc, i, seq, ts, a.pt, a.payload_size, marker=marker)
        if a.skip_every and i > 0 and i % a.skip_every == 0 and i < a.count - 1:
            # --skip-every: the sequence number is used, the packet never
            # sent (a loss the relay's RTP analysis must count)
            self.skipped += 1
            self.sent += 1
            self.slot = self._next_slot(self.slot + 1)
            return
        try:
            if a.dup_every and i % a.dup_every == a.dup_every // 2:
                ep.sock.sendto(pkt, ep.to)      # --dup-every: sent twice
                self.duplicated += 1
            ep.sock.sendto(pkt, ep.to)
            self.sent += 1
            ep.rtp_sent += 1
            self.octets += a.payload_size
            self.last_rtp_tx = time.monotonic()
            if ep.first_rtp_tx_ms is None:
                ep.first_rtp_tx_ms = self._ms()
            if self.tx_log is not None and len(self.tx_log) < LOG_CAP:
                self.tx_log.append([self._ms(), ep.name, 'rtp', '%08x' % ssrc, seq, i])
        except OSError:
            self.send_errors += 1
        self.slot = self._next_slot(self.slot + 1)

    def _report_blocks(self):
        """One report block about the SSRC we last heard (RFC 3550 6.4.1)."""
        if not self.trackers or self.last_rx_ssrc not in self.trackers:
            return []
        t = self.trackers[self.last_rx_ssrc]
        return [build_report_block(self.last_rx_ssrc, t.max_ext or 0, t.lost)]

    def _send_rtcp(self):
        a = self.a
        ep = self._cur()
        if ep is self.new and ep.received == 0 and not a.move_rtcp_now:
            return                  # wait until the relay switched
        ssrc = self.new_ssrc if ep is self.new else self.ssrc
        now = time.monotonic()
        if a.rtcp_minimal:
            ts = (a.start_ts + self.sent * TS_STEP) & 0xffffffff
            pkt = build_rtcp_sr(ssrc, ts, self.sent, self.octets)
            sender = True
        else:
            # a sender (SR) if it sent RTP within the last two reports
            # (RFC 3550 6.4), else a receiver (RR); then the SDES CNAME
            sender = self.last_rtp_tx is not None and \
                now - self.last_rtp_tx < 2 * a.rtcp_interval_ms / 1e3
            iv = a.interval_ms / 1e3
            el = max(0.0, now - self.t0)
            ts = (a.start_ts + (int(el / iv * TS_STEP) if iv > 0
                                else self.sent * TS_STEP)) & 0xffffffff
            pkt = build_rtcp_compound(ssrc, self.cname, sender, ts, self.sent,
                                      self.octets, self._report_blocks())
        try:
            ep.rtcp_sock().sendto(pkt, ep.rtcp_dest())
            self.rtcp_sent += 1
            ep.rtcp_sent += 1
            if sender:
                self.rtcp_sr_sent += 1
            else:
                self.rtcp_rr_sent += 1
            if ep.first_rtcp_tx_ms is None:
                ep.first_rtcp_tx_ms = self._ms()
            if self.tx_log is not None and len(self.tx_log) < LOG_CAP:
                self.tx_log.append([self._ms(), ep.name, 'sr' if sender else 'rr',
                                    '%08x' % ssrc, None, None])
        except OSError:
            self.send_errors += 1

    def _log_rx(self, ep, kind, ssrc=None, seq=None, idx=None, attack=False):
        if self.rx_log is not None and len(self.rx_log) < LOG_CAP:
            self.rx_log.append([self._ms(), ep.name, kind,
                                None if ssrc is None else '%08x' % ssrc, seq, idx,
                                1 if attack else 0])

    def _on_rtcp(self, ep, data, src):
        """An RTCP (or other) datagram on ep's RTCP socket, or RTCP on its
        RTP socket (rtcp-mux, RFC 5761 4)."""
        self.rtcp_received += 1
        ep.rtcp_received += 1
        if ep.first_rtcp_rx_ms is None:
            ep.first_rtcp_rx_ms = self._ms()
        key = fmt_addr(src)
        _count(self.rtcp_sources, key)
        _count(ep.rtcp_sources, key)
        if not is_rtcp(data):
            _count(self.rx_kinds, _kind(data))
            attack = ATTACK_MAGIC in data
            if attack:
                self.attack_marked += 1
                self.attack_other += 1
                ep.attack_marked += 1
            self._log_rx(ep, _kind(data), attack=attack)
            return
        r = parse_rtcp(data)
        _count(self.rx_kinds, 'rtcp')
        if not r['ok']:
            self.rtcp_malformed += 1
        if r['ssrc'] is not None:
            _count(self.rtcp_by_ssrc, '%08x' % r['ssrc'])
        for cn in r['cnames'].values():
            _count(self.rtcp_cnames, cn)
        attack = r['attack'] or ATTACK_MAGIC in data
        if attack:
            self.attack_marked += 1
            self.attack_rtcp += 1
            ep.attack_marked += 1
        self._log_rx(ep, 'rtcp', r['ssrc'], attack=attack)

    def _recv_rtp(self, ep, max_reads=256):
        """Drain ep's RTP socket (bounded: max_reads datagrams per call)."""
        for _ in range(max_reads):
            try:
                data, src = ep.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            if is_rtcp(data):
                self._on_rtcp(ep, data, src)
                continue
            key = fmt_addr(src)
            _count(self.sources, key)
            _count(ep.sources, key)
            self.received += 1
            ep.received += 1
            if ep.first_rx_ms is None:
                ep.first_rx_ms = self._ms()
            if ep is self.new and ep.sent_before_first_rx is None:
                ep.sent_before_first_rx = ep.rtp_sent
            after = self.moved and ep is self.old
            if after:
                ep.after_move += 1
            r = parse_rtp(data)
            if r is None:
                self.invalid += 1
                _count(self.rx_kinds, _kind(data))
                if ATTACK_MAGIC in data:
                    self.attack_marked += 1
                    self.attack_other += 1
                    ep.attack_marked += 1
                self._log_rx(ep, _kind(data), attack=ATTACK_MAGIC in data)
                continue
            _count(self.rx_kinds, 'rtp')
            ok = r['payload_ok'] and r['header_ok']
            if r['payload_ok'] and not r['header_ok']:
                self.mismatch += 1
            if not r['payload_ok']:
                self.invalid += 1
            if r['attack']:
                # the attacker's: counted apart, never in the trackers
                self.attack_marked += 1
                self.attack_rtp += 1
                ep.attack_marked += 1
                _count(self.attack_ssrcs, '%08x' % r['ssrc'])
                self._log_rx(ep, 'rtp', r['ssrc'], r['seq'], None, True)
                continue
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
            self.last_rx_ssrc = r['ssrc']
            self._log_rx(ep, 'rtp', r['ssrc'], r['seq'], r['idx'])

    def _recv_rtcp(self, ep, max_reads=64):
        for _ in range(max_reads):
            try:
                data, src = ep.rtcp.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            self._on_rtcp(ep, data, src)

    def run(self):
        a = self.a
        print('READY %s' % fmt_addr(self.old.bind), file=sys.stderr,
              flush=True)
        if not wait_start_file(a):
            self.stop_flag = True       # no start: report what we have
        # Optional synchronised start: all phones bound before any sends.
        if a.start_at:
            delay = a.start_at - time.time()
        else:
            delay = a.start_delay_ms / 1000.0
        t_start = time.monotonic()
        self.tbase = a.time_base or a.start_at or (time.time() + max(delay, 0.0))
        hard_deadline = t_start + a.timeout_s
        interval = a.interval_ms / 1000.0
        t0 = self.t0 = t_start + min(max(delay, 0.0), a.timeout_s)
        rtcp_iv = a.rtcp_interval_ms / 1000.0
        self.next_rtcp = t0
        self.last_rx_ssrc = None
        t_move = (t0 + a.move_at_ms / 1e3) if a.move_at_ms is not None else None
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
            # A move at a given time (--move-at-ms), e.g. in a silence.
            if t_move is not None and not self.moved and now >= t_move \
                    and self._move_ready():
                self._do_move()
            # Send what is due; never more than a burst of 8 if late.  What
            # arrived before this send slot is read first, so that counts
            # taken at reception (sent_before_first_rx, after_move) do not
            # depend on the order of this loop.
            if self.sent < a.count and now >= self._due(t0, interval):
                for ep in self.eps:
                    self._recv_rtp(ep)
            burst = 0
            while self.sent < a.count and burst < 8 and \
                    now >= self._due(t0, interval):
                self._send_rtp(self.sent)
                burst += 1
                last_send = now
            if self.sent >= a.count and last_send is None:
                last_send = now     # count 0: linger from now
            if a.rtcp and now >= self.next_rtcp and \
                    (self.sent < a.count or now < last_send + a.linger_ms / 1e3):
                self._send_rtcp()
                self.next_rtcp = max(self.next_rtcp + rtcp_iv, now)
            if self.sent >= a.count:
                if now >= last_send + a.linger_ms / 1000.0:
                    break
                if a.expect and self.valid >= a.expect:
                    break
            # Wait for input until the next event.
            nxt = hard_deadline
            if self.sent < a.count:
                nxt = min(nxt, self._due(t0, interval))
            else:
                nxt = min(nxt, last_send + a.linger_ms / 1000.0)
            if a.rtcp:
                nxt = min(nxt, self.next_rtcp)
            if t_move is not None and not self.moved:
                nxt = min(nxt, t_move)
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
            move = dict(after=self.move_idx, done=self.moved, t_ms=self.move_ms,
                        ssrc='%08x' % self.new_ssrc,
                        new_ssrc=self.new_start_seq is not None,
                        start_seq=(self.new_start_seq
                                   if self.new_start_seq is not None
                                   else (a.start_seq + self.move_idx) & 0xffff),
                        old=self.old.as_dict(), new=self.new.as_dict())
        return dict(
            bind=fmt_addr(self.old.bind), to=fmt_addr(self.old.to),
            ssrc='%08x' % self.ssrc, cname=self.cname, count=a.count,
            start_seq=a.start_seq,
            payload_size=a.payload_size, pt=a.pt, interval_ms=a.interval_ms,
            sent=self.sent, send_errors=self.send_errors,
            skipped=self.skipped, duplicated=self.duplicated,
            received=self.received, received_valid=self.valid,
            invalid=self.invalid, header_mismatch=self.mismatch,
            attack_marked=self.attack_marked, attack_rtp=self.attack_rtp,
            attack_rtcp=self.attack_rtcp, attack_other=self.attack_other,
            attack_ssrcs=self.attack_ssrcs, rx_kinds=self.rx_kinds,
            lost=lost, duplicates=dups, reordered=reord,
            sources=self.sources, first_seq=self.first_seq,
            last_seq=self.last_seq,
            peer_ssrcs=sorted('%08x' % s for s in self.trackers),
            per_ssrc={'%08x' % s: t.as_dict()
                      for s, t in sorted(self.trackers.items())},
            rtcp_sent=self.rtcp_sent, rtcp_received=self.rtcp_received,
            rtcp_sr_sent=self.rtcp_sr_sent, rtcp_rr_sent=self.rtcp_rr_sent,
            rtcp_sources=self.rtcp_sources, rtcp_by_ssrc=self.rtcp_by_ssrc,
            rtcp_cnames=self.rtcp_cnames, rtcp_malformed=self.rtcp_malformed,
            silences=self.silence_info, move=move,
            rx_log=self.rx_log, tx_log=self.tx_log,
            duration_s=round(time.monotonic() - t_start, 3),
            timed_out=timed_out, stopped_by_signal=self.stop_flag)


def _kind(data):
    """RFC 7983 class of a datagram's first byte."""
    if not data:
        return 'empty'
    b = data[0]
    if b <= 3:
        return 'stun'
    if 20 <= b <= 63:
        return 'dtls'
    if 128 <= b <= 191:
        return 'rtcp' if is_rtcp(data) else 'rtp'
    return 'other'


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


def attack_loop(att, on_tick, set_tbase=False):
    """The attacker modes' schedule: READY, wait for the start, then call
    on_tick(n_tick, now) every --attack-tick-ms for --attack-duration-ms
    (at most --attack-max-pkts sent; late ticks are skipped, never caught
    up in a flood), receiving in between, then linger. Bounded by
    --timeout-s and an iteration count. Returns (ticks, timed_out,
    t_start), t_start the monotonic time it began."""
    a = att.a
    print('READY %s' % fmt_addr(att.bind), file=sys.stderr, flush=True)
    if not wait_start_file(a):
        att.stop_flag = True        # no start: report what we have
    delay = (a.start_at - time.time()) if a.start_at \
        else a.start_delay_ms / 1000.0
    if set_tbase:
        att.tbase = a.time_base or a.start_at or (time.time() + max(delay, 0))
    t_start = time.monotonic()
    hard_deadline = t_start + a.timeout_s
    t0 = t_start + min(max(delay, 0.0), a.timeout_s)
    t_end = t0 + a.attack_duration_ms / 1000.0
    tick = a.attack_tick_ms / 1000.0
    att.sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(att.sock, selectors.EVENT_READ)
    n_tick = 0
    t_stopped = None                # when sending ended
    linger = a.linger_ms / 1000.0
    timed_out = False
    max_iter = 1000 + int(a.timeout_s * 2000) + \
        4 * int(a.attack_duration_ms / a.attack_tick_ms + 1)
    for _ in range(max_iter):
        now = time.monotonic()
        if now >= hard_deadline:
            timed_out = True
            break
        if att.stop_flag:
            break
        sending = now < t_end and att.sent < a.attack_max_pkts
        if sending and now >= t0 + n_tick * tick:
            on_tick(n_tick, now)
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
            att._recv()
    else:
        timed_out = True
    att._recv()
    sel.close()
    return n_tick, timed_out, t_start


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

        def on_tick(n_tick, now):
            pattern = ATTACK_PATTERNS[n_tick % len(ATTACK_PATTERNS)]
            for t in self.targets:
                n = min(a.attack_burst, a.attack_max_pkts - self.sent)
                if n > 0:
                    self._burst(t, pattern, n)

        n_tick, timed_out, t_start = attack_loop(self, on_tick)
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


# ---------------------------------------------------------------------------
# Attacker modes other than 'rotate' (--attack-mode): one kind of traffic
# per process, as RTP Bleed scanners and injectors send it.

ATTACK_MODES = ('rotate', 'paced', 'burst', 'rtcp', 'stun', 'dtls', 'observer')


class ModeAttacker:
    """An attacker of one --attack-mode (see the module doc)."""

    def __init__(self, a):
        self.a = a
        self.fam, self.bind = parse_addr(a.bind)
        self.rng = random.Random(a.attack_seed)
        self.targets = []
        for t in (x for x in a.attack.split(',') if x):
            fam, addr = parse_addr(t)
            if fam != self.fam:
                raise ValueError('target %s: not the family of --bind' % t)
            self.targets.append(dict(addr=addr, sent=0, ssrc=self._ssrc(),
                                     seq=self.rng.randrange(65536),
                                     ts=self.rng.getrandbits(32)))
        if not self.targets:
            raise ValueError('--attack needs a target')
        if a.attack_mode == 'observer' and a.observe_ssrc is None:
            raise ValueError('observer mode needs --observe-ssrc')
        self.sock = socket.socket(self.fam, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(self.bind)
        self.bind = self.sock.getsockname()[:2]
        self.sent = self.send_errors = self.rtcp_sent = 0
        self.received = 0
        self.rx_kinds = {}
        self.sources = {}
        self.rx_ssrcs = {}
        self.rx_log = []
        self.first_rx_ms = self.last_rx_ms = None
        self.first_tx_ms = self.last_tx_ms = None
        self.tbase = None
        self.stop_flag = False

    def _ms(self):
        return round((time.time() - self.tbase) * 1e3, 2)

    def _ssrc(self):
        for _ in range(100):
            s = self.rng.getrandbits(32)
            if s:
                return s
        return 1

    def _rtp(self, ssrc, seq, ts, k):
        payload = (ATTACK_MAGIC + struct.pack('!IIHH', ssrc, k & 0xffffffff,
                                              seq & 0xffff, self.a.payload_size)
                   + bytes(max(0, self.a.payload_size - 16)))
        return RTP_HDR.pack(0x80, self.a.pt, seq & 0xffff, ts & 0xffffffff,
                            ssrc) + payload

    def _sendto(self, pkt, addr, t, rtcp=False):
        try:
            self.sock.sendto(pkt, addr)
        except OSError:
            self.send_errors += 1
            return
        self.sent += 1
        t['sent'] += 1
        if rtcp:
            self.rtcp_sent += 1
        ms = self._ms()
        if self.first_tx_ms is None:
            self.first_tx_ms = ms
        self.last_tx_ms = ms

    def _tick(self, t, now):
        """What one tick sends to target t."""
        a = self.a
        mode = a.attack_mode
        fixed = a.attack_ssrc_mode == 'fixed'
        if mode in ('paced', 'burst'):
            n = 1 if mode == 'paced' else a.attack_burst
            if not fixed:
                t['ssrc'], t['seq'] = self._ssrc(), self.rng.randrange(65536)
                t['ts'] = self.rng.getrandbits(32)
            for _ in range(n):
                if self.sent >= a.attack_max_pkts:
                    return
                if not fixed and mode == 'paced':
                    t['ssrc'] = self._ssrc()
                self._sendto(self._rtp(t['ssrc'], t['seq'], t['ts'], self.sent),
                             t['addr'], t)
                t['seq'] = (t['seq'] + 1) & 0xffff
                t['ts'] = (t['ts'] + TS_STEP) & 0xffffffff
        elif mode == 'rtcp':
            if not fixed:
                t['ssrc'] = self._ssrc()
            for _ in range(a.attack_burst if a.attack_burst > 1 else 1):
                if self.sent >= a.attack_max_pkts:
                    return
                pkt = build_rtcp_compound(t['ssrc'], a.attack_cname, True, t['ts'],
                                          t['sent'], t['sent'] * 160, (),
                                          priv=ATTACK_MAGIC)
                self._sendto(pkt, t['addr'], t, rtcp=True)
        elif mode == 'stun':
            for _ in range(a.attack_burst):
                if self.sent >= a.attack_max_pkts:
                    return
                self._sendto(build_stun(self.rng.getrandbits(96).to_bytes(12, 'big')),
                             t['addr'], t)
        elif mode == 'dtls':
            for _ in range(a.attack_burst):
                if self.sent >= a.attack_max_pkts:
                    return
                self._sendto(build_dtls(t['sent']), t['addr'], t)
        elif mode == 'observer':
            # The phone's current sequence number, predicted from its start
            # and pacing; inject the next one with its SSRC.
            iv = a.observe_interval_ms / 1e3
            k = int((time.time() - a.observe_t0) / iv) if iv > 0 else 0
            seq = (a.observe_seq + k + 1) & 0xffff
            ts = (a.observe_ts + (k + 1) * TS_STEP) & 0xffffffff
            ssrc = int(a.observe_ssrc, 16) & 0xffffffff
            if a.observe_cname:
                pkt = build_rtcp_compound(ssrc, a.observe_cname, True, ts, k, k * 160,
                                          (), priv=ATTACK_MAGIC)
                host, port = t['addr'][0], t['addr'][1]
                self._sendto(pkt, (host, port + 1), t, rtcp=True)
            if self.sent < a.attack_max_pkts:
                self._sendto(self._rtp(ssrc, seq, ts, self.sent), t['addr'], t)

    def _recv(self, max_reads=256):
        for _ in range(max_reads):
            try:
                data, src = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            self.received += 1
            ms = self._ms()
            if self.first_rx_ms is None:
                self.first_rx_ms = ms
            self.last_rx_ms = ms
            key = fmt_addr(src)
            _count(self.sources, key)
            kind = _kind(data)
            _count(self.rx_kinds, kind)
            ssrc = seq = idx = None
            if kind == 'rtp':
                r = parse_rtp(data)
                if r is not None:
                    ssrc, seq, idx = r['ssrc'], r['seq'], r['idx']
            elif kind == 'rtcp':
                ssrc = parse_rtcp(data)['ssrc']
            if ssrc is not None:
                _count(self.rx_ssrcs, '%08x' % ssrc)
            if len(self.rx_log) < LOG_CAP:
                self.rx_log.append([ms, key, kind, None if ssrc is None else '%08x' % ssrc,
                                    seq, idx])

    def run(self):
        a = self.a
        def on_tick(n_tick, now):
            self._recv()
            for t in self.targets:
                self._tick(t, now)

        n_tick, timed_out, t_start = attack_loop(self, on_tick, set_tbase=True)
        return dict(
            mode='attack', attack_mode=a.attack_mode, ssrc_mode=a.attack_ssrc_mode,
            bind=fmt_addr(self.bind), sent=self.sent, rtcp_sent=self.rtcp_sent,
            send_errors=self.send_errors, ticks=n_tick, burst=a.attack_burst,
            per_target={fmt_addr(t['addr']): dict(sent=t['sent']) for t in self.targets},
            received=self.received, rx_kinds=self.rx_kinds, sources=self.sources,
            rx_ssrcs=self.rx_ssrcs, rx_log=self.rx_log,
            first_rx_ms=self.first_rx_ms, last_rx_ms=self.last_rx_ms,
            first_tx_ms=self.first_tx_ms, last_tx_ms=self.last_tx_ms,
            duration_s=round(time.monotonic() - t_start, 3),
            timed_out=timed_out, stopped_by_signal=self.stop_flag)


def wait_start_file(a):
    """--start-file: wait (bounded by --timeout-s) until the file holds the
    shared start T0 (a wall-clock time), then make --start-at, --time-base
    and --observe-t0, given as offsets from T0, absolute.
    @return False if the file never came."""
    if not a.start_file:
        return True
    deadline = time.monotonic() + a.timeout_s
    for _ in range(int(a.timeout_s * 100) + 2):
        try:
            with open(a.start_file) as f:
                text = f.read().strip()
        except OSError:
            text = ''
        if text:
            base = float(text)
            a.start_at = base + a.start_at
            a.time_base = base + a.time_base
            a.observe_t0 = base + a.observe_t0
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return False


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
    ap.add_argument('--skip-every', type=int, default=0, metavar='N',
                    help='never send packets N, 2N, ... (their sequence '
                         'numbers are lost; not the last packet); JSON skipped')
    ap.add_argument('--dup-every', type=int, default=0, metavar='N',
                    help='send packets N/2, N/2 + N, ... twice; JSON duplicated')
    ap.add_argument('--jitter-ms', type=float, default=0.0,
                    help='send odd slots this late (timestamps unchanged): '
                         'every packet\'s transit differs from the last by '
                         'this much, RFC 3550 A.8 jitter converges to it')
    ap.add_argument('--rtcp', action='store_true')
    ap.add_argument('--rtcp-interval-ms', type=float, default=1000.0)
    ap.add_argument('--cname', help='RTCP SDES CNAME (default phone@<ssrc>)')
    ap.add_argument('--rtcp-mux', action='store_true',
                    help='RTCP on the RTP port (RFC 5761), not port + 1')
    ap.add_argument('--rtcp-minimal', action='store_true',
                    help='a bare 28-byte SR, not SR/RR + SDES (the old RTCP)')
    ap.add_argument('--silence-at-ms', type=float, action='append',
                    help='RTP stops at this time after the start (DTX, hold); '
                         'RTCP goes on; repeat for several silences')
    ap.add_argument('--silence-ms', type=float, action='append',
                    help='how long the silence of the --silence-at-ms of the '
                         'same rank lasts')
    ap.add_argument('--start-file', metavar='PATH',
                    help='once bound (READY), wait until PATH holds the shared '
                         'start T0; --start-at, --time-base and --observe-t0 '
                         'are then offsets from it (s)')
    ap.add_argument('--time-base', type=float, default=0.0,
                    help='wall-clock time the *_ms times and logs count '
                         'from (default --start-at)')
    ap.add_argument('--rx-log', action='store_true',
                    help='log every datagram received (at most %d)' % LOG_CAP)
    ap.add_argument('--tx-log', action='store_true',
                    help='log every packet sent (at most %d)' % LOG_CAP)
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
                   help='send RTCP from the new socket at once (at the move), '
                        'not only after RTP arrived there')
    g.add_argument('--move-at-ms', type=float, default=None,
                   help='move at this time after the start (e.g. in a '
                        'silence), not at packet --move-after')
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
    g.add_argument('--attack-mode', choices=ATTACK_MODES, default='rotate',
                   help='rotate (the four patterns above), paced, burst, '
                        'rtcp, stun, dtls, observer')
    g.add_argument('--attack-ssrc-mode', choices=('fixed', 'random'),
                   default='fixed', help='paced/burst/rtcp: one SSRC per '
                   'target for the whole attack, or new ones')
    g.add_argument('--attack-cname', default='ATCK@attacker',
                   help='rtcp mode: the SDES CNAME')
    g.add_argument('--observe-ssrc', help='observer: the phone\'s SSRC (hex)')
    g.add_argument('--observe-seq', type=int, default=0,
                   help='observer: the phone\'s first sequence number')
    g.add_argument('--observe-ts', type=int, default=0,
                   help='observer: the phone\'s first RTP timestamp')
    g.add_argument('--observe-t0', type=float, default=0.0,
                   help='observer: wall-clock time of the phone\'s first packet')
    g.add_argument('--observe-interval-ms', type=float, default=20.0)
    g.add_argument('--observe-cname', help='observer: the phone\'s CNAME: '
                   'also send RTCP with its SSRC and CNAME to port + 1')
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
    if a.skip_every < 0 or a.dup_every < 0 or not 0 <= a.jitter_ms < a.interval_ms:
        ap.error('--skip-every, --dup-every >= 0; --jitter-ms 0..interval')
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
    if len(a.silence_at_ms or []) != len(a.silence_ms or []) or \
            any(x < 0 for x in (a.silence_at_ms or []) + (a.silence_ms or [])):
        ap.error('--silence-at-ms and --silence-ms go in pairs, >= 0')
    if a.move_at_ms is not None and not a.move_bind:
        ap.error('--move-at-ms needs --move-bind')
    if a.timeout_s is None:
        delay = max(a.start_delay_ms / 1e3,
                    (a.start_at - time.time()) if a.start_at else 0)
        send_ms = a.attack_duration_ms if a.attack \
            else a.count * a.interval_ms + sum(a.silence_ms or [])
        a.timeout_s = (send_ms + a.linger_ms) / 1e3 + max(delay, 0) + 10.0
    return a


def main(argv=None):
    a = parse_args(argv)
    try:
        if a.attack:
            phone = Attacker(a) if a.attack_mode == 'rotate' else ModeAttacker(a)
        else:
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
