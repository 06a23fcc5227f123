-- SPDX-License-Identifier: BSD-3-Clause
--
-- rtpb-rtp.lua: replay rtpb-gen's RTP pcap with Pktgen-DPDK (23.03 builds
-- against DPDK 22.11) against an rtpbypass relay on a real NIC, and print
-- one line per second (frames/s sent and received) and a summary.
--
-- The pcap must hold frames of sessions that are live in the relay: write
-- it with rtpb-gen against the relay's control socket right before
-- (tools/README.md, "Load-testing with Pktgen-DPDK", has every step), then,
-- from anywhere (the script needs nothing from Pktgen's Lua tree), on a
-- 2-CPU host (lcore 0: Pktgen's display and timers, lcore 1: port 0):
--
--   RTPB_CALLS=10000 RTPB_LINK_GBPS=10 RTPB_SECONDS=60 \
--   pktgen -l 0-1 -n 4 -a 0000:3b:00.1 -- -P -m "1.0" \
--          -s 0:rtp.pcap -f tools/pktgen/rtpb-rtp.lua
--
-- Environment:
--   RTPB_PORT       Pktgen port (default 0)
--   RTPB_CALLS      calls in the pcap; the rate defaults to their natural
--                   rate: 2 legs x 50 frames/s per call (20 ms ptime)
--   RTPB_LINK_GBPS  the port's link speed, Gbit/s (default 10): Pktgen's
--                   rate is a percentage of it
--   RTPB_RATE       a percentage of the link instead (100: line rate)
--   RTPB_SECONDS    sending time (default 30)
--   RTPB_QUIT       1: quit Pktgen at the end (default: stay at the prompt)
--
-- Frames are 214 bytes (G.711 20 ms: 172 bytes of UDP payload), 238 bytes
-- on the wire with FCS, preamble and inter-frame gap. What the relay sends
-- back arrives on the same port (the phones sit behind Pktgen, which is
-- their gateway in the pcap's ARP frame); rx counts it.
--
-- Pktgen 23.03 (app/lpktgenlib.c) registers its "pktgen" table as a
-- global (luaL_requiref(L, "pktgen", ..., 1)); Pktgen.lua, which
-- `require "Pktgen"` loads, only adds helpers such as printf. The script
-- defines the one it uses, so it runs without LUA_PATH pointing into
-- Pktgen's tree.

local function printf(...)
	io.write(string.format(...))
	io.flush()
end

-- Pktgen refreshes the stats portStats() returns once a second, on its
-- timer thread (app/pktgen.c _timer_thread: pktgen_process_stats() every
-- pktgen.hz cycles). After the stop, the relay's last frames arrive within
-- milliseconds; the totals are read after one full refresh period more.
local SETTLE_MS = 1500

local port = os.getenv("RTPB_PORT") or "0"
local pnum = tonumber(port)
local calls = tonumber(os.getenv("RTPB_CALLS") or "1000")
local gbps = tonumber(os.getenv("RTPB_LINK_GBPS") or "10")
local seconds = tonumber(os.getenv("RTPB_SECONDS") or "30")
local wire_bits = (214 + 4 + 20) * 8
local natural_pps = calls * 2 * 1000 / 20
local rate = tonumber(os.getenv("RTPB_RATE") or "")
if rate == nil then
	rate = natural_pps * wire_bits / (gbps * 1e9) * 100
end
if rate > 100 then
	printf("rtpb-rtp: %d calls need %.1f%% of a %g Gbit/s link; sending at 100%%\n",
	       calls, rate, gbps)
	rate = 100
end

pktgen.screen("off")
pktgen.stop(port)
pktgen.clr()
pktgen.set(port, "rate", rate)
pktgen.pcap(port, "on")
printf("rtpb-rtp: port %s, %d calls, %.3f%% of %g Gbit/s = %.0f frames/s offered\n",
       port, calls, rate, gbps, rate / 100 * gbps * 1e9 / wire_bits)
pktgen.start(port)

local rx_samples = {}
for t = 1, seconds do
	pktgen.delay(1000)
	local r = pktgen.portStats(port, "rate")[pnum]
	rx_samples[#rx_samples + 1] = r.pkts_rx
	printf("rtpb-rtp: t=%3ds tx %10d/s rx %10d/s\n", t, r.pkts_tx, r.pkts_rx)
end
pktgen.stop(port)
pktgen.delay(SETTLE_MS)  -- the relay's last frames, then a stats refresh

local s = pktgen.portStats(port, "port")[pnum]
table.sort(rx_samples)
local n = #rx_samples
local med = 0
if n > 0 then
	med = rx_samples[math.floor((n + 1) / 2)]
end
printf("rtpb-rtp: sent %d frames, received %d (%.3f%%), rx errors %d, missed %d, no mbuf %d\n",
       s.opackets, s.ipackets, s.opackets > 0 and 100 * s.ipackets / s.opackets or 0,
       s.ierrors, s.imissed, s.rx_nombuf)
if n > 0 then
	printf("rtpb-rtp: received frames/s per second: min %d median %d max %d\n",
	       rx_samples[1], med, rx_samples[n])
end
printf("rtpb-rtp: ARP replies from the relay are counted in rx too (one per pcap loop)\n")
if os.getenv("RTPB_QUIT") == "1" then
	pktgen.quit()
end
