/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_pcap.c: the pcap writer (see gen_pcap.h). File format: pcap(5),
 * "tcpdump/libpcap" classic format, version 2.4, host byte order (the
 * magic tells readers which).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "gen_pcap.h"

struct gen_pcap {
	FILE *f;
	int err;
};

struct pcap_file_hdr {
	uint32_t magic; /* 0xa1b2c3d4: microsecond timestamps */
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype; /* 1: LINKTYPE_ETHERNET */
};

struct pcap_rec_hdr {
	uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

struct gen_pcap *
gen_pcap_open(const char *path)
{
	struct pcap_file_hdr fh = { 0xa1b2c3d4u, 2, 4, 0, 0, 65535, 1 };
	struct gen_pcap *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->f = fopen(path, "wb");
	if (p->f == NULL) {
		free(p);
		return NULL;
	}
	setvbuf(p->f, NULL, _IOFBF, 1 << 20);
	if (fwrite(&fh, sizeof(fh), 1, p->f) != 1)
		p->err = errno ? errno : EIO;
	return p;
}

int
gen_pcap_write(struct gen_pcap *p, const uint8_t *frame, uint32_t len,
	       uint64_t ts_ns)
{
	struct pcap_rec_hdr rh = {
		.ts_sec = (uint32_t)(ts_ns / 1000000000ull),
		.ts_usec = (uint32_t)(ts_ns % 1000000000ull / 1000u),
		.incl_len = len,
		.orig_len = len,
	};

	if (p->err == 0 && (fwrite(&rh, sizeof(rh), 1, p->f) != 1 ||
			    fwrite(frame, len, 1, p->f) != 1))
		p->err = errno ? errno : EIO;
	return -p->err;
}

int
gen_pcap_close(struct gen_pcap *p)
{
	int err = p->err;

	if (fclose(p->f) != 0 && err == 0)
		err = errno ? errno : EIO;
	free(p);
	return -err;
}
