/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_steer: destination-only RSS steering (include/rtpb_steer.h,
 * dataplane/dp_steer.c): the hash control predicts against a bit-by-bit
 * Toeplitz hash over the bytes a NIC hashes (itself checked against
 * Microsoft's RSS verification vectors) and against DPDK's
 * rte_softrss() (the contract's plain-C rtpb_toeplitz()), the RETA lookup, the
 * dataplane's choice of RSS configuration from what a PMD offers, and
 * dp_steer_publish() on a net_null port (which has a RETA): what it
 * publishes is what the port holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_thash.h>

#include "dp_steer.h"
#include "rtpb_steer.h"

/* Toeplitz over len bytes of in, the way the RSS specification states
 * it: for each set bit of the input, XOR the 32 key bits starting there. */
static uint32_t
toeplitz_ref(const uint8_t *key, const uint8_t *in, size_t len)
{
	uint32_t h = 0;

	for (size_t bit = 0; bit < len * 8; bit++) {
		uint32_t window = 0;

		if (!(in[bit / 8] & (0x80 >> (bit % 8))))
			continue;
		for (int k = 0; k < 32; k++) {
			size_t kb = bit + (size_t)k;

			window = window << 1 | ((key[kb / 8] >> (7 - kb % 8)) & 1);
		}
		h ^= window;
	}
	return h;
}

static void
test_reference_vectors(void **state)
{
	/* Microsoft's "Verifying the RSS Hash Calculation", IPv4 only:
	 * source 66.9.149.187, destination 161.142.100.80 -> 0x323e8fc2;
	 * with ports 2794 -> 1766 -> 0x51ccc178 */
	uint8_t in[12] = {66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6};

	(void)state;
	assert_int_equal(toeplitz_ref(dp_steer_key, in, 8), 0x323e8fc2);
	assert_int_equal(toeplitz_ref(dp_steer_key, in, 12), 0x51ccc178);
}

static void
test_hash_is_destination_only(void **state)
{
	struct rtpb_steer st = {.mode = RTPB_STEER_RSS_DST, .key_len = 40};
	struct rtpb_addr a;
	uint8_t in[18];
	uint32_t ip;

	(void)state;
	memcpy(st.key, dp_steer_key, sizeof(st.key));
	/* IPv4: the bytes hashed are the address then the port */
	inet_pton(AF_INET, "192.0.2.1", &ip);
	for (uint32_t port = 1024; port < 1024 + 64; port += 2) {
		rtpb_addr_set_v4(&a, ip, htons((uint16_t)port));
		memcpy(in, &ip, 4);
		in[4] = (uint8_t)(port >> 8);
		in[5] = (uint8_t)port;
		assert_int_equal(rtpb_steer_hash(&st, &a), toeplitz_ref(st.key, in, 6));
	}
	/* IPv6: 16 address bytes, then the port */
	memset(&a, 0, sizeof(a));
	a.family = RTPB_AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", a.ip);
	a.port = htons(35000);
	memcpy(in, a.ip, 16);
	in[16] = 35000 >> 8;
	in[17] = 35000 & 0xff;
	assert_int_equal(rtpb_steer_hash(&st, &a), toeplitz_ref(st.key, in, 18));
}

/* rtpb_toeplitz() (plain C, include/) is rte_softrss() bit for bit, over
 * pseudo-random inputs of every word count the contract hashes (IPv4:
 * 2 words, IPv6: 5) and random keys. */
static void
test_toeplitz_is_softrss(void **state)
{
	uint8_t key[RTPB_STEER_KEY_MAX];
	uint32_t x = 0x2545f491u;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		uint32_t words[5];
		uint8_t in[20];
		uint32_t n = round % 2 ? 5 : 2;

		for (size_t i = 0; i < sizeof(key); i++) {
			x = x * 1103515245u + 12345u;
			key[i] = (uint8_t)(x >> 16);
		}
		if (round == 0)
			memcpy(key, dp_steer_key, sizeof(key));
		for (uint32_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			words[i] = x ^ (x << 7);
			in[4 * i] = (uint8_t)(words[i] >> 24);
			in[4 * i + 1] = (uint8_t)(words[i] >> 16);
			in[4 * i + 2] = (uint8_t)(words[i] >> 8);
			in[4 * i + 3] = (uint8_t)words[i];
		}
		assert_int_equal(rtpb_toeplitz(key, in, 4 * n),
				 rte_softrss(words, n, key));
		assert_int_equal(rtpb_toeplitz(key, in, 4 * n),
				 toeplitz_ref(key, in, 4 * n));
	}
}

static void
test_worker(void **state)
{
	struct rtpb_steer st = {.mode = RTPB_STEER_RSS_DST, .key_len = 40,
				.reta_size = 128};
	uint32_t count[3] = {0}, ip;
	struct rtpb_addr a;

	(void)state;
	memcpy(st.key, dp_steer_key, sizeof(st.key));
	for (int i = 0; i < 128; i++)
		st.reta[i] = (uint8_t)(i % 3);
	inet_pton(AF_INET, "198.51.100.1", &ip);
	for (uint32_t port = 1024; port < 1024 + 3000; port += 2) {
		int w;

		rtpb_addr_set_v4(&a, ip, htons((uint16_t)port));
		w = rtpb_steer_worker(&st, &a);
		assert_int_equal(w, st.reta[rtpb_steer_hash(&st, &a) % 128]);
		count[w]++;
	}
	/* ports spread over the three workers */
	for (int w = 0; w < 3; w++)
		assert_true(count[w] > 300);
	/* not steered: mode NONE, no RETA, an unknown family */
	st.mode = RTPB_STEER_NONE;
	assert_int_equal(rtpb_steer_worker(&st, &a), -1);
	st.mode = RTPB_STEER_RSS_DST;
	st.reta_size = 0;
	assert_int_equal(rtpb_steer_worker(&st, &a), -1);
	st.reta_size = 128;
	a.family = 0;
	assert_int_equal(rtpb_steer_worker(&st, &a), -1);
}

static void
test_rss_conf(void **state)
{
	const uint64_t dst = RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_DST_ONLY;
	struct rte_eth_dev_info info = {
		.flow_type_rss_offloads = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | dst,
		.reta_size = 512, .hash_key_size = 52};
	struct rte_eth_rss_conf rss;
	const char *why;

	(void)state;
	/* a PMD with destination-only RSS: UDP on the destination, our key */
	assert_int_equal(dp_steer_rss_conf(&info, 2, &rss, &why), RTPB_STEER_RSS_DST);
	assert_null(why);
	assert_int_equal(rss.rss_hf, RTE_ETH_RSS_NONFRAG_IPV4_UDP |
				      RTE_ETH_RSS_NONFRAG_IPV6_UDP | dst);
	assert_ptr_equal(rss.rss_key, dp_steer_key);
	assert_int_equal(rss.rss_key_len, 52);
	/* one queue, no destination-only bits, no RETA: the 5-tuple */
	assert_int_equal(dp_steer_rss_conf(&info, 1, &rss, &why), RTPB_STEER_NONE);
	assert_non_null(why);
	info.flow_type_rss_offloads = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
	assert_int_equal(dp_steer_rss_conf(&info, 2, &rss, &why), RTPB_STEER_NONE);
	assert_non_null(strstr(why, "destination-only"));
	assert_int_equal(rss.rss_hf, RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	assert_null(rss.rss_key);
	info.flow_type_rss_offloads |= dst;
	info.reta_size = 0;
	assert_int_equal(dp_steer_rss_conf(&info, 2, &rss, &why), RTPB_STEER_NONE);
	info.reta_size = 4096;
	assert_int_equal(dp_steer_rss_conf(&info, 2, &rss, &why), RTPB_STEER_NONE);
	/* a PMD that does not give its key size takes 40 bytes */
	info.reta_size = 128;
	info.hash_key_size = 0;
	assert_int_equal(dp_steer_rss_conf(&info, 4, &rss, &why), RTPB_STEER_RSS_DST);
	assert_int_equal(rss.rss_key_len, 40);
}

static void
test_publish(void **state)
{
	struct rte_eth_rss_reta_entry64 q[RTPB_STEER_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_conf conf = {.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS};
	struct rte_eth_dev_info info;
	struct rte_mempool *mp;
	struct rtpb_steer st;
	char prefix[32], dir[64], vdev[] = "--vdev=net_null0,no-rx=1";
	char *argv[] = {"test_steer", "--no-shconf", "--no-telemetry", "--no-pci",
			"--no-huge", "-m", "64", "-l", "0", vdev, "--file-prefix", prefix,
			"--log-level", "lib.eal:error", NULL};
	uint16_t port = 0, nq = 3;

	(void)state;
	snprintf(prefix, sizeof(prefix), "rtpb_steer_%d", (int)getpid());
	assert_true(rte_eal_init((int)RTE_DIM(argv) - 1, argv) >= 0);
	mp = rte_pktmbuf_pool_create("steer", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     SOCKET_ID_ANY);
	assert_non_null(mp);
	assert_int_equal(rte_eth_dev_info_get(port, &info), 0);
	assert_true(info.reta_size > 0 && info.reta_size <= RTPB_STEER_RETA_MAX);
	assert_int_equal(rte_eth_dev_configure(port, nq, nq, &conf), 0);
	for (uint16_t i = 0; i < nq; i++) {
		assert_int_equal(rte_eth_rx_queue_setup(port, i, 64, SOCKET_ID_ANY, NULL, mp), 0);
		assert_int_equal(rte_eth_tx_queue_setup(port, i, 64, SOCKET_ID_ANY, NULL), 0);
	}
	assert_int_equal(rte_eth_dev_start(port), 0);
	assert_int_equal(dp_steer_publish(port, &info, nq, &st), 0);
	assert_int_equal(st.mode, RTPB_STEER_RSS_DST);
	assert_int_equal(st.reta_size, info.reta_size);
	assert_memory_equal(st.key, dp_steer_key, RTPB_STEER_KEY_MAX);
	/* the port's RETA is the one published: entry i -> queue i % nq */
	memset(q, 0, sizeof(q));
	for (uint16_t i = 0; i < info.reta_size; i++)
		q[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
	assert_int_equal(rte_eth_dev_rss_reta_query(port, q, info.reta_size), 0);
	for (uint16_t i = 0; i < info.reta_size; i++) {
		assert_int_equal(q[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE],
				 i % nq);
		assert_int_equal(st.reta[i], i % nq);
	}
	/* a RETA the shared memory cannot hold: refused, mode NONE */
	info.reta_size = RTPB_STEER_RETA_MAX * 2;
	assert_int_equal(dp_steer_publish(port, &info, nq, &st), -EINVAL);
	assert_int_equal(st.mode, RTPB_STEER_NONE);
	assert_int_equal(rte_eth_dev_stop(port), 0);
	rte_eth_dev_close(port);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	/* --no-shconf leaves DPDK's runtime dir empty, but there */
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	rmdir(dir);
}

static void
test_from_kernel(void **state)
{
	uint32_t indir[128];
	struct rtpb_steer st;
	const char *why;

	(void)state;
	/* queues 4..5 of the NIC are the AF_XDP port's (start_queue 4) */
	for (int i = 0; i < 128; i++)
		indir[i] = 4 + (uint32_t)(i % 2);
	assert_int_equal(dp_steer_from_kernel(RXH_IP_DST | RXH_L4_B_2_3, 1, indir, 128,
					      dp_steer_key, 40, 4, 2, &st, &why), 0);
	assert_null(why);
	assert_int_equal(st.mode, RTPB_STEER_RSS_DST);
	assert_int_equal(st.reta_size, 128);
	assert_int_equal(st.key_len, 40);
	assert_memory_equal(st.key, dp_steer_key, 40);
	for (int i = 0; i < 128; i++)
		assert_int_equal(st.reta[i], i % 2);
	/* hfunc 0 (not reported) is the kernel's default, Toeplitz */
	assert_int_equal(dp_steer_from_kernel(RXH_IP_DST | RXH_L4_B_2_3, 0, indir, 128,
					      dp_steer_key, 40, 4, 2, &st, &why), 0);
	/* the 5-tuple (sdfn), or the source in it: no steering */
	assert_int_equal(dp_steer_from_kernel(RXH_IP_SRC | RXH_IP_DST | RXH_L4_B_0_1 |
					      RXH_L4_B_2_3, 1, indir, 128, dp_steer_key,
					      40, 4, 2, &st, &why), -EINVAL);
	assert_non_null(strstr(why, "rx-flow-hash udp4 dn"));
	assert_int_equal(st.mode, RTPB_STEER_NONE);
	/* XOR instead of Toeplitz */
	assert_int_equal(dp_steer_from_kernel(RXH_IP_DST | RXH_L4_B_2_3, 2, indir, 128,
					      dp_steer_key, 40, 4, 2, &st, &why), -EINVAL);
	/* an entry on a queue no AF_XDP socket reads (queue 6; or 3) */
	indir[77] = 6;
	assert_int_equal(dp_steer_from_kernel(RXH_IP_DST | RXH_L4_B_2_3, 1, indir, 128,
					      dp_steer_key, 40, 4, 2, &st, &why), -EINVAL);
	assert_non_null(strstr(why, "queues"));
	indir[77] = 3;
	assert_int_equal(dp_steer_from_kernel(RXH_IP_DST | RXH_L4_B_2_3, 1, indir, 128,
					      dp_steer_key, 40, 4, 2, &st, &why), -EINVAL);
	indir[77] = 5;
	/* a key too short for an IPv6 input, a table too big */
	assert_int_equal(dp_steer_from_kernel(RXH_IP_DST | RXH_L4_B_2_3, 1, indir, 128,
					      dp_steer_key, 16, 4, 2, &st, &why), -EINVAL);
	assert_int_equal(dp_steer_from_kernel(RXH_IP_DST | RXH_L4_B_2_3, 1, indir,
					      RTPB_STEER_RETA_MAX + 1, dp_steer_key, 40, 4,
					      2, &st, &why), -EINVAL);
	/* the loopback has no RSS: the ioctl's error, and which one */
	assert_true(dp_steer_af_xdp("lo", 0, 2, &st, &why) < 0);
	assert_non_null(why);
	assert_int_equal(st.mode, RTPB_STEER_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_hash_is_destination_only),
		cmocka_unit_test(test_toeplitz_is_softrss),
		cmocka_unit_test(test_worker),
		cmocka_unit_test(test_rss_conf),
		cmocka_unit_test(test_from_kernel),
		cmocka_unit_test(test_publish),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
