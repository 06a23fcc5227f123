# SPDX-License-Identifier: BSD-3-Clause
"""rtpb_sip: helpers for the interop test with real SIP software
(test_kamailio.py): Kamailio driving rtpbypass over the rtpproxy protocol,
sipp placing the calls and playing G.711 RTP.  Python 3 stdlib only; built
on rtpb_e2e (namespaces, Proc, cleanup).

What it provides:

  SipTopology       rtpb_e2e.Topology plus a SIP proxy namespace 'px':
                    eth0 192.0.2.5/24 on the bridge (the phones' link,
                    default route via the router), eth1 203.0.113.1/24 on a
                    private link to the relay namespace (ctl0 203.0.113.2/24),
                    where control's rtpproxy socket listens for Kamailio;
                    with relays=2 a second relay host 'r2' (scale-out).
  rtpp_select()     the relay the rtpproxy module picks for a call-id in a
                    weighted set (Kamailio's select_rtpp_node()).
  write_rtp_pcap()  a pcap (Ethernet/IPv4/UDP/RTP) of 20 ms PCMU (G.711
                    u-law, PT 0) packets, for sipp's play_pcap_audio.
  uac_scenario(), uas_scenario(), Sipp
                    sipp scenarios (INVITE with SDP, 200 with SDP, ACK,
                    play the pcap, BYE) and a runner that parses sipp's
                    statistics and message trace (the SDP each side got).
  kamailio_cfg(), Kamailio
                    deploy/kamailio/kamailio.cfg with the test's addresses
                    prepended as #!define lines (the very file an operator
                    deploys), its config check and the running proxy.
  RtpTap            counts RTP frames an endpoint sends and receives, per
                    relay socket, from an AF_PACKET socket in its namespace
                    (a thread; what sipp does not count).
  CtlTap            records every rtpproxy command Kamailio sends and every
                    reply, from the wire of the proxy's control link.
  parse_sdp()       c= and m= of an SDP body.
  wait_udp_listen(), wait_probe(), call_commands()
                    a bound socket, the module's V/VF probe, Kamailio's
                    commands per call (from a CtlTap).

Addresses are from the documentation ranges (RFC 5737).  Every wait is
bounded by a timeout, every loop by a count; processes are stopped by PID
(rtpb_e2e.Proc).
"""

import contextlib
import math
import os
import re
import shutil
import socket
import struct
import threading
import time

import rtpb_e2e as e2e

# ---------------------------------------------------------------------------
# Addresses and ports.
PROXY_IP = '192.0.2.5'          # Kamailio's SIP address, on the phones' link
PROXY_CTL_IP = '203.0.113.1'    # Kamailio's end of the control link
RELAY_CTL_IP = '203.0.113.2'    # control's rtpproxy socket for Kamailio
RELAY2_CTL_IP = '203.0.113.3'   # the second relay's (SipTopology(relays=2))
RELAY2_IP = '192.0.2.2'         # the second relay's address, in its DPDK
CTL_PREFIX_LEN = 24
CTL_PORT = 22222
SIP_PORT = 5060
UAC_IP = e2e.PHONE_A_IP         # 192.0.2.10, on-link with the relay
UAS_IP = e2e.PHONE_B_IP         # 198.51.100.20, behind the router
UAC_MEDIA_PORT = 16000
UAS_MEDIA_PORT = 26000

SIPP = shutil.which('sipp') or '/usr/bin/sipp'
KAMAILIO = shutil.which('kamailio') or '/usr/sbin/kamailio'
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KAMAILIO_CFG = os.path.join(REPO, 'deploy', 'kamailio', 'kamailio.cfg')

PT_PCMU = 0
PTIME_MS = 20
SAMPLES = 160                   # 20 ms at 8 kHz
RTP_HDR = 12


def tools_missing():
    """Names of the programs this module needs that are not installed."""
    return [p for p in (SIPP, KAMAILIO) if not os.access(p, os.X_OK)]


def preflight():
    """A SIP test's first step: check (rtpb_e2e.check()) that sipp and
    kamailio are installed, and delete the proxy and second relay namespaces
    of dead runs (cleanup_stale_px())."""
    missing = tools_missing()
    e2e.check(not missing, 'sipp and kamailio are installed (missing: %s; '
              'deploy/install-deps.sh)' % ' '.join(missing))
    for n in cleanup_stale_px():
        e2e.log('removed stale namespace %s' % n)


# ---------------------------------------------------------------------------
# Topology: the phones' network of rtpb_e2e plus the SIP proxy.

class SipTopology(e2e.Topology):
    """rtpb_e2e.Topology with one more namespace, 'px', for the SIP proxy.

    px eth0 192.0.2.5/24 is a port of the bridge (the UAC, phone A's
    namespace, is on-link; the UAS, phone B's, is behind the router
    192.0.2.254, the default route).  px eth1 203.0.113.1/24 is a veth to
    ctl0 203.0.113.2/24 in the relay namespace: the relay's control network,
    apart from rl0, which DPDK owns.  'px' is created, cleaned and deleted
    with the other namespaces (it is in .ns before the base class builds).

    relays=2 adds a second relay host, namespace 'r2' (.relay2): its own
    rl0 on the bridge (for a second dataplane, address RELAY2_IP) and its
    own control link, px eth2 203.0.113.1 peer 203.0.113.3 <-> r2 ctl0
    203.0.113.3/24 (the same proxy address on both links, a host route to
    each relay's control socket).
    """

    def __init__(self, relays=1, **kw):
        super().__init__(**kw)
        self.ns['px'] = self.tag + 'px'
        self.proxy = self.ns['px']
        self.relay2 = None
        if relays == 2:
            self.ns['r2'] = self.tag + 'r2'
            self.relay2 = self.ns['r2']

    def _build(self):
        super()._build()
        self._build_sip_port()
        # Control link: px eth1 <-> rl ctl0, kernel addresses on both ends.
        self._veth('px', 'eth1', 'rl', 'ctl0')
        for ns, dev, ip in (('px', 'eth1', PROXY_CTL_IP), ('rl', 'ctl0', RELAY_CTL_IP)):
            self._tx_off(ns, dev)
            self._ip(ns, 'addr', 'add', '%s/%d' % (ip, CTL_PREFIX_LEN), 'dev', dev)
            self._ip(ns, 'link', 'set', dev, 'up')
        e2e.log('topology %s: SIP proxy %s (%s, control link %s -> %s:%d)'
                % (self.tag, self.proxy, PROXY_IP, PROXY_CTL_IP, RELAY_CTL_IP, CTL_PORT))
        if self.relay2:
            self._build_relay2()

    def _build_sip_port(self):
        """px eth0 PROXY_IP, a port of the bridge like the phones' (the
        SIP side), default route via the router."""
        self._veth('sw', 's_px', 'px', 'eth0')
        self._ip('sw', 'link', 'set', 's_px', 'master', 'br0')
        for ns, dev in (('sw', 's_px'), ('px', 'eth0')):
            self._tx_off(ns, dev)
            self._ip(ns, 'link', 'set', dev, 'up')
        self._ip('px', 'addr', 'add', '%s/%d' % (PROXY_IP, e2e.PREFIX_LEN), 'dev', 'eth0')
        self._ip('px', 'route', 'add', 'default', 'via', e2e.ROUTER_IP_A)

    def _build_relay2(self):
        """The second relay host: like 'rl', a bridge port for its DPDK and
        a control link from the proxy (IPv6 is off there: the base class
        turned it off in every namespace but the phones')."""
        self._veth('sw', 's_r2', 'r2', self.relay_iface)
        self._ip('sw', 'link', 'set', 's_r2', 'master', 'br0')
        for ns, dev in (('sw', 's_r2'), ('r2', self.relay_iface)):
            self._tx_off(ns, dev)
            self._ip(ns, 'link', 'set', dev, 'up')
        self._veth('px', 'eth2', 'r2', 'ctl0')
        self._tx_off('px', 'eth2')
        self._tx_off('r2', 'ctl0')
        self._ip('px', 'addr', 'add', PROXY_CTL_IP, 'peer', RELAY2_CTL_IP, 'dev', 'eth2')
        self._ip('r2', 'addr', 'add', '%s/%d' % (RELAY2_CTL_IP, CTL_PREFIX_LEN), 'dev', 'ctl0')
        for ns, dev in (('px', 'eth2'), ('r2', 'ctl0')):
            self._ip(ns, 'link', 'set', dev, 'up')
        e2e.log('topology %s: second relay host %s (control link %s -> %s:%d)'
                % (self.tag, self.relay2, PROXY_CTL_IP, RELAY2_CTL_IP, CTL_PORT))


_STALE_PX_RE = re.compile(r'^rtpb(\d+)[a-z]+(px|r2)$')


def cleanup_stale_px():
    """Delete proxy and second relay namespaces of dead runs (SIGKILL);
    rtpb_e2e.cleanup_stale() knows only its own roles.  @return names."""
    gone = []
    for name in e2e.netns_list():
        m = _STALE_PX_RE.match(name)
        if m and not e2e._pid_alive(int(m.group(1))):
            e2e.Topology._kill_ns_pids(name)
            e2e.run([e2e.IP, 'netns', 'del', name], check=False)
            gone.append(name)
    return gone


# ---------------------------------------------------------------------------
# G.711 u-law RTP in a pcap file.

def ulaw(sample):
    """One 16-bit linear PCM sample -> its G.711 u-law byte (ITU-T G.711,
    bias 0x84, clip 32635)."""
    sign = 0x80 if sample < 0 else 0
    mag = min(abs(sample), 32635) + 0x84
    exp = 7
    mask = 0x4000
    while exp > 0 and not (mag & mask):
        exp -= 1
        mask >>= 1
    mant = (mag >> (exp + 3)) & 0x0f
    return ~(sign | (exp << 4) | mant) & 0xff


def tone_payload(freq_hz=1000, amplitude=8000):
    """160 u-law bytes, 20 ms of a sine at freq_hz (1 kHz: 20 whole
    periods, so every packet carries the same bytes)."""
    return bytes(ulaw(int(amplitude * math.sin(2 * math.pi * freq_hz * i / 8000)))
                 for i in range(SAMPLES))


def rtp_header(seq, ts, ssrc, pt=PT_PCMU, marker=False):
    """RFC 3550 §5.1 fixed header: V=2, no padding, extension or CSRC."""
    return struct.pack('!BBHII', 0x80, (0x80 if marker else 0) | pt, seq & 0xffff,
                       ts & 0xffffffff, ssrc)


def _ip4_csum(hdr):
    s = sum(struct.unpack('!10H', hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def write_rtp_pcap(path, count, ssrc, seq0, ts0=0, src=('192.0.2.200', 6000),
                   dst=('192.0.2.201', 6000), payload=None):
    """Write count RTP packets, PTIME_MS apart, to a classic pcap file
    (DLT_EN10MB): Ethernet, IPv4, UDP (checksum 0), RTP PCMU with sequence
    seq0.., timestamp ts0 + 160 k, SSRC ssrc, the first with the marker bit.

    sipp's play_pcap_audio keeps the RTP bytes and the gaps, and replaces
    the addresses and ports: the source becomes its media address and
    port (-mi, -mp), the destination the address and port of the SDP it
    received; so src and dst here only need to be one UDP flow.
    @return the payload (bytes) every packet carries.
    """
    payload = payload if payload is not None else tone_payload()
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for k in range(count):
            rtp = rtp_header(seq0 + k, ts0 + SAMPLES * k, ssrc, marker=(k == 0)) + payload
            udp = struct.pack('!HHHH', src[1], dst[1], 8 + len(rtp), 0) + rtp
            ip = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0xb8, 20 + len(udp), k & 0xffff,
                                       0, 64, 17, 0, socket.inet_aton(src[0]),
                                       socket.inet_aton(dst[0])))
            struct.pack_into('!H', ip, 10, _ip4_csum(bytes(ip)))
            frame = (b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' +
                     b'\x08\x00' + bytes(ip) + udp)
            t_us = k * PTIME_MS * 1000
            f.write(struct.pack('<IIII', t_us // 1000000, t_us % 1000000, len(frame),
                                len(frame)))
            f.write(frame)
    return payload


def read_rtp_pcap(path):
    """The RTP packets of a pcap written by write_rtp_pcap(): a list of
    (t_us, rtp bytes); to check a file, and in the self-test."""
    out = []
    with open(path, 'rb') as f:
        data = f.read()
    magic, _, _, _, _, _, link = struct.unpack('<IHHiIII', data[:24])
    if magic != 0xa1b2c3d4 or link != 1:
        raise e2e.E2EError('%s: not a little-endian Ethernet pcap' % path)
    off = 24
    for _ in range(1000000):
        if off + 16 > len(data):
            break
        sec, usec, incl, _ = struct.unpack('<IIII', data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        u = e2e.parse_udp(frame)
        if u is not None:
            out.append((sec * 1000000 + usec, u['payload']))
    return out


# ---------------------------------------------------------------------------
# SDP.

def parse_sdp(body):
    """The session c= address and the m= lines of an SDP body:
    dict(c=(nettype, addrtype, addr) or None, o=..., media=[dict(media,
    port, proto, fmts, c)]) (a media-level c= overrides the session's)."""
    res = dict(c=None, o=None, media=[])
    cur = None
    for line in body.replace('\r\n', '\n').split('\n'):
        line = line.strip()
        if len(line) < 2 or line[1] != '=':
            continue
        k, v = line[0], line[2:]
        if k == 'o':
            res['o'] = v
        elif k == 'c':
            parts = v.split()
            c = tuple(parts[:3]) if len(parts) >= 3 else None
            if cur is None:
                res['c'] = c
            else:
                cur['c'] = c
        elif k == 'm':
            parts = v.split()
            if len(parts) >= 3 and parts[1].isdigit():
                cur = dict(media=parts[0], port=int(parts[1]), proto=parts[2],
                           fmts=parts[3:], c=None)
                res['media'].append(cur)
    for m in res['media']:
        if m['c'] is None:
            m['c'] = res['c']
    return res


# ---------------------------------------------------------------------------
# sipp: scenarios and runs.

_UAC_XML = '''<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- rtpbypass interop UAC: INVITE with a PCMU offer through the proxy
     (-rsa), ACK, play the pcap, hold %(hold_ms)d ms, BYE.  Generated by
     tests/e2e/rtpb_sip.py. -->
<scenario name="rtpbypass UAC">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "uac" <sip:uac@[local_ip]:[local_port]>;tag=[pid]uac[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:uac@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Subject: rtpbypass interop
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=uac 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20
      a=sendrecv

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "uac" <sip:uac@[local_ip]:[local_port]>;tag=[pid]uac[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:uac@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop>
    <action>
      <exec play_pcap_audio="%(pcap)s"/>
    </action>
  </nop>
  <pause milliseconds="%(hold_ms)d"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "uac" <sip:uac@[local_ip]:[local_port]>;tag=[pid]uac[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:uac@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
'''

_UAS_XML = '''<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- rtpbypass interop UAS: answer with a PCMU SDP, play the pcap after
     the ACK, wait for the BYE.  Generated by tests/e2e/rtpb_sip.py. -->
<scenario name="rtpbypass UAS">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]uas[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:uas@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <!-- ring before answering: Kamailio's children forward the 180 and the
       200 in parallel, and a 200 sent right behind the 180 can overtake it
       (the UAC then sees a 180 after its ACK and aborts the call) -->
  <pause milliseconds="20"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]uas[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:uas@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=uas 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20
      a=sendrecv

    ]]>
  </send>
  <recv request="ACK" rtd="true" crlf="true"/>
  <nop>
    <action>
      <exec play_pcap_audio="%(pcap)s"/>
    </action>
  </nop>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:uas@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
</scenario>
'''


def uac_scenario(pcap, hold_ms):
    """The UAC's sipp XML: play pcap after the ACK, BYE hold_ms later."""
    return _UAC_XML % dict(pcap=pcap, hold_ms=hold_ms)


def uas_scenario(pcap):
    """The UAS's sipp XML: answer, play pcap after the ACK, take the BYE."""
    return _UAS_XML % dict(pcap=pcap)


_TRACE_SEP = re.compile(r'^-{20,}[^\n]*\n', re.M)
_TRACE_HEAD = re.compile(r'^\s*(\w+) message (received|sent)\b[^\n]*\n', re.M)


def parse_sipp_trace(text):
    """Messages of a sipp -trace_msg log: a list of dict(dir ('received'
    or 'sent'), first (the start line), headers {lower name: value, first
    one}, body)."""
    msgs = []
    for block in _TRACE_SEP.split(text):
        m = _TRACE_HEAD.match(block)
        if not m:
            continue
        msg = block[m.end():].lstrip('\r\n')
        head, _, body = msg.replace('\r\n', '\n').partition('\n\n')
        lines = head.split('\n')
        hdrs = {}
        for ln in lines[1:]:
            name, sep, val = ln.partition(':')
            if sep and name.strip().lower() not in hdrs:
                hdrs[name.strip().lower()] = val.strip()
        msgs.append(dict(dir=m.group(2), first=lines[0].strip(), headers=hdrs,
                         body=body.strip('\n')))
    return msgs


def parse_sipp_stats(text):
    """The last line of a sipp -trace_stat CSV as a dict (name -> value
    string); {} if it has no data line."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return {}
    names = lines[0].rstrip(';').split(';')
    vals = lines[-1].rstrip(';').split(';')
    return dict(zip(names, vals))


def place_calls(topo, uac_pcap, uas_pcap, n_calls, hold_ms, rate, timeout_s):
    """The UAS (phone B) answers, then the UAC (phone A) places n_calls
    calls through the proxy at rate per second, each side playing its pcap
    after the ACK; the UAC hangs up hold_ms after it.  Waits for both.
    Returns (uac, uas, rc_uac, rc_uas)."""
    uas = Sipp(topo, 'pb', 'uas', uas_scenario(uas_pcap), UAS_IP,
               UAS_MEDIA_PORT, n_calls, timeout_s=timeout_s)
    wait_udp_listen(topo, 'pb', UAS_IP, SIP_PORT, 10)
    uac = Sipp(topo, 'pa', 'uac', uac_scenario(uac_pcap, hold_ms), UAC_IP,
               UAC_MEDIA_PORT, n_calls, target='%s:%d' % (UAS_IP, SIP_PORT),
               rsa='%s:%d' % (PROXY_IP, SIP_PORT), rate=rate, limit=n_calls,
               timeout_s=timeout_s)
    rc_uac = uac.wait(timeout_s + 15)
    rc_uas = uas.wait(timeout_s + 15)
    return uac, uas, rc_uac, rc_uas


class Sipp:
    """One sipp in namespace ns of topo, its scenario, logs and stats in
    the run's log dir.

        uas = Sipp(topo, 'pb', 'uas', uas_scenario(pcap), local_ip=UAS_IP,
                   media_port=UAS_MEDIA_PORT, calls=20)
        uac = Sipp(topo, 'pa', 'uac', uac_scenario(pcap, 4000), UAC_IP,
                   UAC_MEDIA_PORT, calls=20, target='198.51.100.20:5060',
                   rsa='192.0.2.5:5060', rate=10, limit=20)
        rc = uac.wait(60); stats = uac.stats(); msgs = uac.messages()

    timeout_s: sipp's own global -timeout (it stops and fails when it
    runs out), besides the bounded wait().
    """

    def __init__(self, topo, ns, name, scenario_xml, local_ip, media_port, calls,
                 target=None, rsa=None, rate=None, limit=None, timeout_s=60,
                 service='rtpb', port=SIP_PORT):
        d = e2e.logdir()
        self.name = name
        self.scenario = os.path.join(d, '%s.xml' % name)
        self.msg_file = os.path.join(d, '%s_messages.log' % name)
        self.stat_file = os.path.join(d, '%s_stats.csv' % name)
        self.err_file = os.path.join(d, '%s_errors.log' % name)
        with open(self.scenario, 'w') as f:
            f.write(scenario_xml)
        argv = [SIPP, '-sf', self.scenario, '-i', local_ip, '-p', str(port),
                '-mi', local_ip, '-mp', str(media_port), '-m', str(calls),
                '-nostdin', '-timeout', '%ds' % timeout_s, '-timeout_error',
                '-trace_msg', '-message_file', self.msg_file,
                '-trace_stat', '-stf', self.stat_file, '-fd', '1',
                '-trace_err', '-error_file', self.err_file]
        if rsa:
            argv += ['-rsa', rsa]
        if rate is not None:
            argv += ['-r', str(rate)]
        if limit is not None:
            argv += ['-l', str(limit)]
        if target:
            argv += ['-s', service, target]
        self.proc = topo.proc(ns, argv, name='sipp_' + name)

    def wait(self, timeout):
        """sipp's exit status (0: every call succeeded), bounded."""
        return self.proc.wait(timeout=timeout)

    def stats(self):
        return parse_sipp_stats(e2e._read_text(self.stat_file))

    def messages(self):
        return parse_sipp_trace(e2e._read_text(self.msg_file))

    def errors(self):
        return e2e._read_text(self.err_file)

    def tail(self):
        return self.proc.tail()


# ---------------------------------------------------------------------------
# Kamailio.

def kamailio_cfg(path, defines, template=KAMAILIO_CFG):
    """Write template (deploy/kamailio/kamailio.cfg) to path with
    '#!define NAME VALUE' lines for defines (a list of (name, value))
    right after its '#!KAMAILIO' line; the template's own defaults are
    in #!ifndef blocks, so these win.  @return path."""
    with open(template) as f:
        text = f.read()
    first, _, rest = text.partition('\n')
    head = ''.join('#!define %s %s\n' % (k, v) for k, v in defines)
    if not first.startswith('#!KAMAILIO'):
        first, rest = '#!KAMAILIO', text
    with open(path, 'w') as f:
        f.write(first + '\n# generated by tests/e2e/rtpb_sip.py from %s\n' % template +
                head + rest)
    return path


def kamailio_check(cfg, ns=None):
    """'kamailio -c -f cfg' (config check only); @return its output.
    @raise E2EError if the check fails."""
    cp = e2e.ns_run(ns, [KAMAILIO, '-c', '-f', cfg], timeout=20, check=False)
    out = cp.stdout + cp.stderr
    if cp.returncode != 0 or 'config file ok' not in out:
        raise e2e.E2EError('kamailio -c -f %s: exit %d:\n%s'
                           % (cfg, cp.returncode, out[-2000:]))
    return out


class Kamailio:
    """Kamailio in namespace ns of topo with the deploy config and the
    test's addresses (checked with 'kamailio -c' first); foreground (-DD),
    logging to stderr (-E), runtime files in the log dir.  It is ready when
    it listens and its rtpproxy module's probe (V, VF) got its replies.
    defines: more (name, value) #!define lines, e.g. [('WITH_SCALEOUT',
    ''), ('RTPPROXY_SET', '"udp:...=2 udp:...=1"')]."""

    def __init__(self, topo, ns, sip_listen, rtpproxy_sock, children=2,
                 shm_mb=64, pkg_mb=8, defines=()):
        d = e2e.logdir()
        self.cfg = kamailio_cfg(os.path.join(d, 'kamailio.cfg'), [
            ('SIP_LISTEN', sip_listen), ('RTPPROXY_SOCK', '"%s"' % rtpproxy_sock),
            ('SIP_CHILDREN', str(children))] + list(defines))
        kamailio_check(self.cfg, topo.ns.get(ns, ns))
        self.rundir = os.path.join(d, 'kamailio-run')
        os.makedirs(self.rundir, exist_ok=True)
        self.proc = topo.proc(ns, [KAMAILIO, '-DD', '-E', '-f', self.cfg,
                                   '-Y', self.rundir,
                                   '-P', os.path.join(self.rundir, 'kamailio.pid'),
                                   '-m', str(shm_mb), '-M', str(pkg_mb),
                                   '-w', self.rundir],
                              name='kamailio')

    def log(self):
        out, err = self.proc.output()
        return out + err

    def rtpstat_lines(self):
        """{call-id: reply} from the 'rtpstat call-id=... reply=[...]' lines
        the config logs for each BYE (the module's Q; $rtpstat is the reply
        text with its newline, stripped here)."""
        res = {}
        for m in re.finditer(r'rtpstat call-id=(\S+) reply=\[([^\]]*)\]', self.log()):
            res[m.group(1)] = m.group(2).strip()
        return res


# ---------------------------------------------------------------------------
# Taps: frames on an interface, read by a thread from an AF_PACKET socket.

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35


class _Tap:
    """An AF_PACKET socket on dev in ns read by a thread until stop(),
    max_frames frames or max_s seconds, whichever first.  Subclasses
    handle each frame in on_frame(data, pkttype, t)."""

    def __init__(self, ns, dev, max_frames=200000, max_s=180.0):
        self.sock = e2e.ns_socket(ns, socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(ETH_P_ALL))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.sock.bind((dev, 0))
        # the kernel's receive time of each frame (a reader thread of a
        # loaded host may lag by seconds)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.settimeout(0.1)
        self.where = '%s/%s' % (ns, dev)
        self.max_frames = max_frames
        self.max_s = max_s
        self.frames = 0
        self.truncated = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name='tap:' + self.where,
                                        daemon=True)
        self._thread.start()

    def _run(self):
        deadline = time.monotonic() + self.max_s
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                if self.frames >= self.max_frames:
                    self.truncated = True
                    break
                try:
                    data, anc, _, addr = self.sock.recvmsg(65535, 64)
                except socket.timeout:
                    continue
                except OSError:
                    break
                t = time.monotonic()
                for level, kind, val in anc:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(val) >= 16:
                        sec, nsec = struct.unpack('qq', val[:16])
                        t -= time.time() - (sec + nsec / 1e9)
                self.frames += 1
                with self._lock:
                    self.on_frame(data, addr[2], t)
        finally:
            if time.monotonic() >= deadline:
                self.truncated = True

    def on_frame(self, data, pkttype, t):
        raise NotImplementedError

    def stop(self, drain_s=0.3):
        """Read what is queued until drain_s pass without a frame (10 s
        at most), then stop."""
        end = time.monotonic() + 10.0
        while time.monotonic() < end:
            n = self.frames
            time.sleep(drain_s)
            if self.frames == n:
                break
        self._stop.set()
        self._thread.join(5.0)
        if self._thread.is_alive():
            raise e2e.E2ETimeout('tap %s: reader did not stop' % self.where)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(5.0)
        try:
            self.sock.close()
        except OSError:
            pass
        return False


class RtpTap(_Tap):
    """The RTP an endpoint (local_ip, media_port) exchanges with the relay
    (relay_ip; or a list of relays' addresses whose port ranges do not
    overlap), per relay port:

      out[port]: frames sent from local_ip:media_port to relay_ip:port
      inn[port]: frames received from relay_ip:port at local_ip:media_port

    each a dict: n (frames), seqs (set of RTP sequence numbers), dups,
    ssrcs ({ssrc: n}), bad (not RTP v2 PCMU with the expected 160-byte
    payload, or a wrong IP/UDP checksum), first_ts (when the reader saw the
    first three: time.monotonic() of the kernel's receive time, a
    diagnostic only), last_t, and
    arrivals, [(time.monotonic(), seq)] of every valid frame in the order
    read (a failover's gap).  UDP between
    local_ip and the relay on other ports is counted in stray."""

    def __init__(self, ns, dev, local_ip, media_port, relay_ip, payload, **kw):
        self.local_ip, self.media_port, self.relay_ip = local_ip, media_port, relay_ip
        self.relay_ips = (relay_ip,) if isinstance(relay_ip, str) else tuple(relay_ip)
        self.payload = payload
        self.out, self.inn = {}, {}
        self.stray = 0
        super().__init__(ns, dev, **kw)

    def on_frame(self, data, pkttype, t):
        u = e2e.parse_udp(data)
        if u is None:
            return
        if pkttype == PACKET_OUTGOING:
            if u['src'] != self.local_ip or u['dst'] not in self.relay_ips:
                return
            if u['sport'] != self.media_port:
                self.stray += 1
                return
            table, port = self.out, u['dport']
        else:
            if u['src'] not in self.relay_ips or u['dst'] != self.local_ip:
                return
            if u['dport'] != self.media_port:
                self.stray += 1
                return
            table, port = self.inn, u['sport']
        st = table.get(port)
        if st is None:
            st = table[port] = dict(n=0, seqs=set(), dups=0, ssrcs={}, bad=0,
                                    first_ts=[], last_t=t, arrivals=[])
        st['n'] += 1
        st['last_t'] = t
        if len(st['first_ts']) < 3:
            st['first_ts'].append(t)
        p = u['payload']
        ok = (u['ip_ok'] and u['udp_ok'] and len(p) == RTP_HDR + SAMPLES and p[0] == 0x80
              and (p[1] & 0x7f) == PT_PCMU and p[RTP_HDR:] == self.payload)
        if not ok:
            st['bad'] += 1
            return
        seq, ssrc = struct.unpack('!H', p[2:4])[0], struct.unpack('!I', p[8:12])[0]
        if seq in st['seqs']:
            st['dups'] += 1
        st['seqs'].add(seq)
        st['arrivals'].append((t, seq))
        st['ssrcs'][ssrc] = st['ssrcs'].get(ssrc, 0) + 1

    def snapshot(self):
        with self._lock:
            return ({k: dict(v) for k, v in self.out.items()},
                    {k: dict(v) for k, v in self.inn.items()})


class CtlTap(_Tap):
    """The rtpproxy protocol on the proxy's control link: every UDP
    datagram to and from port (control's), as seen on dev in ns.

    exchanges(): one dict per cookie, in the order of the first send:
    cookie, cmd (the text after the cookie), sends (1 + retransmissions),
    replies (the reply texts, without cookie and newline), t and t_reply
    (time.monotonic() when the reader saw the first command and reply)."""

    def __init__(self, ns, dev, ctl_ip, port=CTL_PORT, **kw):
        self.ctl_ip, self.port = ctl_ip, port
        self._ex = {}
        self._order = []
        self.unmatched = []
        super().__init__(ns, dev, **kw)

    def on_frame(self, data, pkttype, t):
        u = e2e.parse_udp(data)
        if u is None:
            return
        text = u['payload'].decode('utf-8', 'replace')
        cookie, _, rest = text.partition(' ')
        if u['dst'] == self.ctl_ip and u['dport'] == self.port:
            ex = self._ex.get(cookie)
            if ex is None:
                ex = self._ex[cookie] = dict(cookie=cookie, cmd=rest, sends=0, replies=[], t=t)
                self._order.append(cookie)
            ex['sends'] += 1
        elif u['src'] == self.ctl_ip and u['sport'] == self.port:
            ex = self._ex.get(cookie)
            if ex is None:
                self.unmatched.append(text)
            else:
                ex['replies'].append(rest.rstrip('\r\n'))
                ex.setdefault('t_reply', t)

    def exchanges(self):
        with self._lock:
            return [dict(self._ex[c]) for c in self._order]


def short(cmd_reply_list, limit=12):
    """A few exchanges as 'cmd -> reply' lines, for a log or a message."""
    out = []
    for ex in cmd_reply_list[:limit]:
        out.append('%r -> %r%s' % (ex['cmd'], ex['replies'][0] if ex['replies'] else None,
                                   ' (sent %d times)' % ex['sends'] if ex['sends'] > 1 else ''))
    if len(cmd_reply_list) > limit:
        out.append('... %d more' % (len(cmd_reply_list) - limit))
    return out


# ---------------------------------------------------------------------------
# The rtpproxy module seen from the relay's side.

def wait_udp_listen(topo, ns, ip, port, timeout):
    """Wait (bounded) until a UDP socket is bound to ip:port in ns."""
    deadline = time.monotonic() + timeout
    want = '%s:%d' % (ip, port)
    while True:
        out = topo.run(ns, ['ss', '-Hlun'], check=False).stdout
        if any(want in ln.split() for ln in out.splitlines()):
            return
        if time.monotonic() >= deadline:
            raise e2e.E2ETimeout('nothing listens on udp %s in %s after %.0fs' % (want, ns,
                                                                                 timeout))
        time.sleep(0.05)


def wait_probe(tap, timeout):
    """Wait (bounded) until the module's probe got its replies: V and
    VF 20050322 (without them Kamailio disables the relay)."""
    deadline = time.monotonic() + timeout
    while True:
        exs = tap.exchanges()
        seen = {ex['cmd'].strip(): ex['replies'] for ex in exs}
        if seen.get('V') and seen.get('VF 20050322'):
            return exs
        if time.monotonic() >= deadline:
            raise e2e.E2ETimeout("Kamailio's rtpproxy probe incomplete after %.0fs: %s"
                                 % (timeout, short(exs)))
        time.sleep(0.05)


# U/L as the module sends them: command+modifiers, call-id, address, port,
# from tag, to tag.
UL_RE = re.compile(r'^([UL])(\S*) (\S+) (\S+) (\d+) (\S+)(?: (\S+))?')


def call_commands(exchanges):
    """Kamailio's commands per call-id (without a ';branch' suffix):
    {cid: {'U': [exchange, ...], 'L': [...], 'Q': [...], 'D': [...]}}."""
    calls = {}
    for ex in exchanges:
        words = ex['cmd'].split()
        if not words or words[0][0] not in 'ULQD' or len(words) < 2:
            continue
        letter = words[0][0]
        cid = words[1].split(';', 1)[0]
        c = calls.setdefault(cid, {'U': [], 'L': [], 'Q': [], 'D': []})
        c[letter].append(ex)
    return calls


def rtpp_select(call_id, weights):
    """The index in weights (the relays' weights in rtpproxy_sock order,
    0 for a disabled one) of the relay Kamailio's rtpproxy module picks for
    call_id, or None if none is enabled.

    Kamailio 5.6 select_rtpp_node(): with more than one relay in the set,
    sum = the sum of the Call-ID's bytes, & 0xff; sumcut = sum % (the sum
    of the enabled relays' weights); the first enabled relay whose weight
    exceeds what is left of sumcut, walking the list.  A relay that does
    not answer (rtpproxy_tout seconds, rtpproxy_retr times) is disabled for
    rtpproxy_disable_tout seconds and the call picks again among the rest.
    """
    total = sum(weights)
    if total == 0:
        return None
    cut = (sum(call_id.encode()) & 0xff) % total
    for i, w in enumerate(weights):
        if cut < w:
            return i
        cut -= w
    return None


@contextlib.contextmanager
def call_taps(topo, relay, payload):
    """The three taps of a call through the proxy: the control link
    (CtlTap), the UAC's and the UAS's media (RtpTap, payload the PCMU
    bytes their pcaps send). Yields (ctl_tap, uac_tap, uas_tap)."""
    with CtlTap(topo.proxy, 'eth1', RELAY_CTL_IP) as ctl_tap, \
            RtpTap(topo.phone_a, 'eth0', UAC_IP, UAC_MEDIA_PORT, relay,
                   payload) as uac_tap, \
            RtpTap(topo.phone_b, 'eth0', UAS_IP, UAS_MEDIA_PORT, relay,
                   payload) as uas_tap:
        yield ctl_tap, uac_tap, uas_tap
