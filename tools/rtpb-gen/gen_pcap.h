/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_pcap.h: a pcap file writer (classic libpcap format, LINKTYPE_ETHERNET,
 * microsecond timestamps), so the generator needs no libpcap. The files
 * feed net_pcap (rx_pcap=), dpdk-testpmd, Pktgen-DPDK (-s P:FILE),
 * tcpreplay and Wireshark. Setup path only (stdio, buffered).
 */
#ifndef GEN_PCAP_H
#define GEN_PCAP_H

#include <stdint.h>

struct gen_pcap;

/**
 * Create (truncate) path and write the file header.
 * @return the writer, or NULL with errno set.
 */
struct gen_pcap *gen_pcap_open(const char *path);

/**
 * Append one frame of len bytes captured at ts_ns (ns since the epoch
 * or any origin; the file keeps microseconds).
 * @return 0, or -errno.
 */
int gen_pcap_write(struct gen_pcap *p, const uint8_t *frame, uint32_t len,
		   uint64_t ts_ns);

/** Flush and close. @return 0, or -errno if a write failed. */
int gen_pcap_close(struct gen_pcap *p);

#endif /* GEN_PCAP_H */
