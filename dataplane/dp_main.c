/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_main.c: rtpbypass-dataplane setup and the main lcore.
 *
 * Setup: EAL, options (dp_opts.c), the port (one RX/TX queue pair per
 * worker, RSS when there are several), the mbuf pool, shared memory and
 * rings, flow tables, telemetry; then it launches the workers and runs the
 * housekeeping loop on the main lcore: ARP and NDP input, next-hop
 * resolution (both families), neighbour expiry, heartbeat, until
 * SIGINT/SIGTERM.
 */
#include <errno.h>
#include <inttypes.h>
#include <sys/random.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <libgen.h>
#include <mntent.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <systemd/sd-daemon.h>

#include "rtpb_msg.h"
#include "rtpb_pf.h"
#include "rtpb_shm.h"
#include "dp_arp.h"
#include "dp_ctx.h"
#include "dp_flow.h"
#include "dp_ha.h"
#include "dp_health.h"
#include "dp_log.h"
#include "dp_nd.h"
#include "dp_opts.h"
#include "dp_nkeep.h"
#include "dp_parse.h"
#include "dp_shm.h"
#include "dp_stats.h"
#include "dp_steer.h"
#include "dp_worker.h"

RTE_LOG_REGISTER(dp_logtype, rtpb.dp, INFO);

struct dp_ctx dp_ctx = { .latch = DP_LATCH_CFG_DEFAULT };
atomic_bool dp_quit;

#define DP_RXD 1024
#define DP_TXD 1024
#define DP_RING_SIZE 4096 /* slow-path and hand-off rings, mbufs (+1) */
/*
 * Clean stop: the PMD detaches the prefilter, whose maps stay pinned for
 * control. Remove the pins if no control process is attached any more
 * (the last HELLO's pid is gone), so a clean stop of both leaves nothing
 * in bpffs whatever the order; a running control keeps them (and would
 * share them with a restarted dataplane).
 */
static void
prefilter_unpin(void)
{
	static const char *const maps[] = RTPB_PF_PINNED_MAPS;
	int32_t pid = atomic_load(&dp_ctx.ctl_pid);
	char path[PATH_MAX];
	unsigned int i, n = 0;

	if (dp_opts.bpf_pin_root == NULL)
		return;
	if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)) {
		DP_LOG(INFO, "prefilter pins in %s kept: control (pid %d) still runs",
		       dp_opts.bpf_pin_root, (int)pid);
		return;
	}
	for (i = 0; i < RTE_DIM(maps); i++) {
		snprintf(path, sizeof(path), "%s/%s", dp_opts.bpf_pin_root, maps[i]);
		if (unlink(path) == 0)
			n++;
		else if (errno != ENOENT)
			DP_LOG(WARNING, "prefilter pin %s: unlink: %s", path, strerror(errno));
	}
	DP_LOG(INFO, "prefilter: %u pinned map(s) removed from %s", n, dp_opts.bpf_pin_root);
}

/* CLOCK_MONOTONIC, ns (main lcore: a vDSO call, not the fast path). */
static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
signal_handler(int sig)
{
	(void)sig;
	atomic_store(&dp_quit, true);
}

/*
 * The iface= and start_queue= devargs of a net_af_xdp port.
 * @return 0 (iface copied to buf, *start set, 0 if not given), or -1 if
 *         the port has no iface devarg.
 */
static int
af_xdp_iface(const struct rte_eth_dev_info *info, char *buf, size_t bufsz,
	     uint32_t *start)
{
	const struct rte_devargs *da = rte_dev_devargs(info->device);
	struct rte_kvargs *kv = NULL;
	const char *iface = NULL, *sq;

	*start = 0;
	if (da != NULL && da->args != NULL)
		kv = rte_kvargs_parse(da->args, NULL);
	if (kv != NULL) {
		iface = rte_kvargs_get(kv, "iface");
		sq = rte_kvargs_get(kv, "start_queue");
		if (sq != NULL)
			*start = (uint32_t)strtoul(sq, NULL, 10);
		if (iface != NULL)
			snprintf(buf, bufsz, "%s", iface);
	}
	rte_kvargs_free(kv);
	return iface != NULL ? 0 : -1;
}

/* net_af_xdp: the kernel's RSS puts packets on the queues; with nq > 1,
 * publish its steering when it is on the relay socket (dp_steer.h). */
static void
af_xdp_steer(uint16_t port, const struct rte_eth_dev_info *info, uint16_t nq)
{
	char iface[IF_NAMESIZE];
	const char *why = NULL;
	uint32_t start;
	int r;

	if (af_xdp_iface(info, iface, sizeof(iface), &start) != 0) {
		DP_LOG(INFO, "port %u (net_af_xdp): no iface devarg; control picks workers "
		       "round robin", port);
		return;
	}
	r = dp_steer_af_xdp(iface, start, nq, &dp_ctx.shm->steer, &why);
	if (r == 0)
		DP_LOG(INFO, "port %u (net_af_xdp on %s): the kernel's RSS is on the relay "
		       "socket, indirection table of %u entries over queues %u-%u: control "
		       "gives each session the worker its ports reach", port, iface,
		       dp_ctx.shm->steer.reta_size, start, start + nq - 1u);
	else
		DP_LOG(INFO, "port %u (net_af_xdp on %s): the kernel's RSS is not on the "
		       "relay socket (%s%s%s): control picks workers round robin, and "
		       "packets on another worker's queue are handed off", port, iface,
		       why, r != -EINVAL ? ": " : "", r != -EINVAL ? strerror(-r) : "");
}

/* The interface whose IFF_ALLMULTI the dataplane set (port_allmulti()),
 * cleared again at stop; empty if it set none. */
static char allmulti_iface[IF_NAMESIZE];

/*
 * Set (on) or clear IFF_ALLMULTI on a network interface, as 'ip link set
 * IFACE allmulticast on|off' does (SIOCGIFFLAGS, SIOCSIFFLAGS).
 * @return 1 if the flag changed, 0 if it was already so, or -errno.
 */
static int
iface_allmulti(const char *iface, bool on)
{
	struct ifreq ifr;
	int fd, r = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
		r = -errno;
	} else if (!!(ifr.ifr_flags & IFF_ALLMULTI) != on) {
		ifr.ifr_flags = (short)(on ? ifr.ifr_flags | IFF_ALLMULTI
					   : ifr.ifr_flags & ~IFF_ALLMULTI);
		r = ioctl(fd, SIOCSIFFLAGS, &ifr) == 0 ? 1 : -errno;
	}
	close(fd);
	return r;
}

/*
 * Neighbor Solicitations for the relay go to solicited-node multicast
 * MACs (33:33:ff:XX:XX:XX, RFC 4861 §7.2.2): with IPv6 relay addresses
 * the port must take all multicast. The PMD's all-multicast mode where
 * it has one; net_af_xdp has none (22.11), so the kernel interface's
 * IFF_ALLMULTI, which the dataplane clears again at stop if it set it.
 */
static void
port_allmulti(uint16_t port, const struct rte_eth_dev_info *info)
{
	char iface[IF_NAMESIZE];
	uint32_t start;
	int r;

	r = rte_eth_allmulticast_enable(port);
	if (r == 0)
		return;
	if (r == -ENOTSUP && strcmp(info->driver_name, "net_af_xdp") == 0 &&
	    af_xdp_iface(info, iface, sizeof(iface), &start) == 0) {
		r = iface_allmulti(iface, true);
		if (r >= 0) {
			DP_LOG(INFO, "port %u (net_af_xdp on %s): all-multicast on%s, for "
			       "IPv6 Neighbor Solicitations", port, iface,
			       r == 0 ? " already" : "");
			if (r == 1)
				snprintf(allmulti_iface, sizeof(allmulti_iface), "%s", iface);
			return;
		}
		DP_LOG(WARNING, "port %u (net_af_xdp on %s): setting all-multicast "
		       "(SIOCSIFFLAGS IFF_ALLMULTI): %s; IPv6 neighbours may not resolve "
		       "the relay ('ip link set %s allmulticast on')", port, iface,
		       strerror(-r), iface);
		return;
	}
	DP_LOG(WARNING, "rte_eth_allmulticast_enable(port %u, %s): %s; IPv6 neighbours "
	       "may not resolve the relay", port, info->driver_name, rte_strerror(-r));
}

/*
 * The offloads a relay uses when the device offers them (as testpmd
 * requests them): mbuf fast free on TX (every mbuf the workers send comes
 * from dp_ctx.pool and has one reference: fork copies are copies, not
 * clones), and IPv4/UDP checksum checks on RX, whose verdicts the parser
 * reads from the mbuf's ol_flags (dp_parse.h: a good IPv4 header checksum
 * is not checked again, a bad one or a bad UDP checksum is dropped).
 * Virtual devices (net_pcap, net_ring, net_af_xdp) offer none of them:
 * the checks stay in software. Setup only.
 */
static void
port_offloads(uint16_t port, const struct rte_eth_dev_info *info,
	      struct rte_eth_conf *conf)
{
	const uint64_t rx_want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	const uint64_t tx_want = RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

	conf->rxmode.offloads |= info->rx_offload_capa & rx_want;
	conf->txmode.offloads |= info->tx_offload_capa & tx_want;
	DP_LOG(INFO, "port %u (%s): offloads: RX IPv4 checksum %s, RX UDP checksum %s, "
	       "TX mbuf fast free %s", port, info->driver_name,
	       (conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) ? "on" : "off (software)",
	       (conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) ? "on" : "off (not checked)",
	       (conf->txmode.offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) ? "on" : "off");
}

/* Configure and start port with nq RX and TX queues. The relay's MAC
 * (and MTU) come from the primary port, the one --port names. */
static void
port_init(uint16_t port, uint16_t nq, int primary)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	enum rtpb_steer_mode steer = RTPB_STEER_NONE;
	uint16_t q, rxd = DP_RXD, txd = DP_TXD;
	const char *why = NULL;
	int r;

	if (!rte_eth_dev_is_valid_port(port))
		rte_exit(EXIT_FAILURE, "port %u: no such ethdev port (%u ports; check --vdev/--allow)\n",
			 port, rte_eth_dev_count_avail());
	r = rte_eth_dev_info_get(port, &info);
	if (r != 0)
		rte_exit(EXIT_FAILURE, "rte_eth_dev_info_get(port %u): %s\n", port, rte_strerror(-r));
	if (nq > info.max_rx_queues || nq > info.max_tx_queues)
		rte_exit(EXIT_FAILURE, "port %u (%s) has %u RX/%u TX queues, %u workers need as many\n",
			 port, info.driver_name, info.max_rx_queues, info.max_tx_queues, nq);
	if (nq > 1) {
		/* RSS on the relay socket when the PMD can: each session's
		 * packets then reach its owner's queue (dp_steer.h) */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		if (primary)
			steer = dp_steer_rss_conf(&info, nq, &conf.rx_adv_conf.rss_conf, &why);
		else
			conf.rx_adv_conf.rss_conf.rss_hf =
				(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	port_offloads(port, &info, &conf);
	r = rte_eth_dev_configure(port, nq, nq, &conf);
	if (r != 0)
		rte_exit(EXIT_FAILURE, "rte_eth_dev_configure(port %u): %s\n", port, rte_strerror(-r));
	r = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (r != 0)
		rte_exit(EXIT_FAILURE, "rte_eth_dev_adjust_nb_rx_tx_desc(port %u): %s\n", port, rte_strerror(-r));
	for (q = 0; q < nq; q++) {
		r = rte_eth_rx_queue_setup(port, q, rxd, rte_eth_dev_socket_id(port), NULL, dp_ctx.pool);
		if (r != 0)
			rte_exit(EXIT_FAILURE, "rte_eth_rx_queue_setup(port %u, queue %u): %s\n",
				 port, q, rte_strerror(-r));
		r = rte_eth_tx_queue_setup(port, q, txd, rte_eth_dev_socket_id(port), NULL);
		if (r != 0)
			rte_exit(EXIT_FAILURE, "rte_eth_tx_queue_setup(port %u, queue %u): %s\n",
				 port, q, rte_strerror(-r));
	}
	if (primary) {
		r = rte_eth_macaddr_get(port, &dp_ctx.mac);
		if (r != 0)
			rte_exit(EXIT_FAILURE, "rte_eth_macaddr_get(port %u): %s\n", port,
				 rte_strerror(-r));
	}
	r = rte_eth_dev_start(port);
	if (r != 0)
		rte_exit(EXIT_FAILURE, "rte_eth_dev_start(port %u): %s\n", port, rte_strerror(-r));
	if (steer == RTPB_STEER_RSS_DST) {
		r = dp_steer_publish(port, &info, nq, &dp_ctx.shm->steer);
		if (r != 0)
			DP_LOG(WARNING, "port %u (%s): RETA update: %s; relay ports stay "
			       "spread by the PMD's own table, control picks workers round "
			       "robin, and packets on another worker's queue are handed off",
			       port, info.driver_name, rte_strerror(-r));
		else
			DP_LOG(INFO, "port %u (%s): RSS on the relay socket (destination "
			       "address and port), RETA of %u entries over %u queues: "
			       "control gives each session the worker its ports reach",
			       port, info.driver_name, info.reta_size, nq);
	} else if (primary && nq > 1 && strcmp(info.driver_name, "net_af_xdp") == 0) {
		af_xdp_steer(port, &info, nq);
	} else if (primary && nq > 1) {
		DP_LOG(INFO, "port %u (%s): RSS on the 5-tuple (%s): control picks "
		       "workers round robin, and packets on another worker's queue "
		       "are handed off", port, info.driver_name, why);
	}
	if (!primary) {
		DP_LOG(INFO, "port %u (%s): %u queue(s), TX of relayed packets", port,
		       info.driver_name, nq);
		return;
	}
	if (dp_ctx.n_addr6 > 0)
		port_allmulti(port, &info);
	if (rte_eth_dev_get_mtu(port, &dp_ctx.mtu) != 0 || dp_ctx.mtu < RTE_ETHER_MIN_MTU)
		dp_ctx.mtu = RTE_ETHER_MTU;
	DP_LOG(INFO, "port %u (%s): %u queue(s), MAC " RTE_ETHER_ADDR_PRT_FMT ", MTU %u",
	       port, info.driver_name, nq, RTE_ETHER_ADDR_BYTES(&dp_ctx.mac), dp_ctx.mtu);
}

/* Per-lcore cache of the mbuf pool, and the most it may hold (DPDK
 * flushes a cache above 1.5 times its size). */
#define DP_MBUF_CACHE 256u
#define DP_MBUF_CACHE_MAX (DP_MBUF_CACHE * 3 / 2)

/*
 * The mbufs the pool must hold so that RX never starves while every ring
 * and queue that can hold mbufs is full (issue 16: an ARP flood fills
 * the slow-path ring, a stalled worker its hand-off ring and RX queue):
 *
 *   ports * n_workers * (DP_RXD + DP_TXD)     RX and TX descriptors (an
 *                                             AF_XDP queue's fill and
 *                                             completion rings are as big)
 * + 2 * (DP_RING_SIZE - 1)                    slow-path rings sp_rx, sp_tx
 * + n_workers * (DP_RING_SIZE - 1)            hand-off rings (2+ workers)
 * + (n_workers + 1) * DP_MBUF_CACHE_MAX       per-lcore caches
 * + (n_workers + 1) * 2 * DP_BURST            bursts in the lcores' hands
 *
 * plus a quarter of headroom (mbufs the PMD keeps aside, timing), at
 * least 8191. One worker, one port: 14 335 mbufs; two workers: 27 647.
 */
static unsigned int
mbufs_needed(uint32_t n_workers, uint32_t ports)
{
	uint64_t n = (uint64_t)ports * n_workers * (DP_RXD + DP_TXD) +
		     2ull * (DP_RING_SIZE - 1) +
		     (n_workers > 1 ? (uint64_t)n_workers * (DP_RING_SIZE - 1) : 0) +
		     (n_workers + 1ull) * (DP_MBUF_CACHE_MAX + 2 * DP_BURST);

	n += n / 4;
	n = RTE_ALIGN_CEIL(n, 1024) - 1;
	return (unsigned int)RTE_MAX(n, 8191ull);
}

static struct rte_ring *
ring_create(const char *what, unsigned int flags)
{
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	snprintf(name, sizeof(name), "%s_%s", dp_opts.ring_prefix, what);
	r = rte_ring_create(name, DP_RING_SIZE, (int)rte_socket_id(), flags);
	if (r == NULL)
		rte_exit(EXIT_FAILURE, "rte_ring_create(%s): %s\n", name, rte_strerror(rte_errno));
	return r;
}

static void
clock_init(void)
{
	struct timespec ts;
	uint64_t hz = rte_get_tsc_hz();

	clock_gettime(CLOCK_MONOTONIC, &ts);
	dp_ctx.tsc_base = rte_rdtsc();
	dp_ctx.ns_base = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	dp_ctx.ns_mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / hz);
	clock_gettime(CLOCK_REALTIME, &ts);
	dp_ctx.rt_off_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec -
		dp_ctx.ns_base;
}

/* EAL's --file-prefix, for hugefiles_atexit() (empty: not set yet). */
static char huge_prefix[PATH_MAX];

/*
 * At exit (a clean stop, or rte_exit() after EAL started): remove this
 * primary's hugepage files, "<prefix>map_<n>" in each hugetlbfs mount.
 * rte_eal_cleanup() unmaps them but leaves the files (and their pages
 * reserved) for secondaries that might attach; once the primary is gone
 * nothing can, and a stopped service must hand its pages back.
 * (--huge-unlink would remove them at start, which no secondary, such as
 * dpdk-dumpcap, survives.)
 */
static void
hugefiles_atexit(void)
{
	char want[PATH_MAX + 8], path[PATH_MAX * 2];
	struct mntent *me;
	struct dirent *de;
	FILE *mt;
	DIR *d;

	if (huge_prefix[0] == '\0')
		return;
	snprintf(want, sizeof(want), "%smap_", huge_prefix);
	mt = setmntent("/proc/mounts", "r");
	if (mt == NULL)
		return;
	while ((me = getmntent(mt)) != NULL) {
		if (strcmp(me->mnt_type, "hugetlbfs") != 0 || (d = opendir(me->mnt_dir)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, want, strlen(want)) == 0) {
				snprintf(path, sizeof(path), "%s/%s", me->mnt_dir, de->d_name);
				unlink(path);
			}
		closedir(d);
	}
	endmntent(mt);
}

/* The shared memory's --file-prefix, for shm_atexit(). */
static char shm_prefix[PATH_MAX];

/* exit() after the shared memory was created (rte_exit() on a setup
 * failure): remove it; a clean stop did already (dp_ctx.shm NULL). */
static void
shm_atexit(void)
{
	dp_shm_destroy(dp_ctx.shm, shm_prefix);
	dp_ctx.shm = NULL;
}

/*
 * The neighbours kept across a restart (dp_nkeep.h, --neigh-file):
 * map the file and put what an earlier dataplane resolved into the new
 * table, before any worker runs. A file that cannot be opened costs the
 * feature, not the start.
 */
static void
neigh_keep_open(void)
{
	char path[PATH_MAX], err[PATH_MAX + 64];
	const char *rt = rte_eal_get_runtime_dir(), *base = strrchr(rt, '/');
	uint32_t n, refused;

	if (dp_opts.neigh_file != NULL && strcmp(dp_opts.neigh_file, "none") == 0)
		return;
	if (dp_opts.neigh_file != NULL) {
		snprintf(path, sizeof(path), "%s", dp_opts.neigh_file);
	} else {
		if (mkdir(DP_NKEEP_DIR, 0700) != 0 && errno != EEXIST) {
			DP_LOG(WARNING, "--neigh-file: mkdir %s: %s: neighbours not "
			       "kept across a restart", DP_NKEEP_DIR, strerror(errno));
			return;
		}
		snprintf(path, sizeof(path), DP_NKEEP_DIR "/%s.neigh",
			 base != NULL ? base + 1 : rt);
	}
	if (dp_nkeep_open(path, err, sizeof(err)) != 0) {
		DP_LOG(WARNING, "--neigh-file: %s: neighbours not kept across a "
		       "restart", err);
		return;
	}
	n = dp_nkeep_restore(dp_ctx.neigh, dp_now_ns(), &refused);
	DP_LOG(INFO, "neighbours kept in %s: %u restored from an earlier "
	       "dataplane, %u refused (not on a relay address's link, not a "
	       "unicast MAC, or no free slot)", path, n, refused);
}

static void
workers_init(const char *prefix)
{
	unsigned int lcore, w = 0;
	const char *err = NULL;
	uint32_t i;
	int ret;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (w >= RTPB_MAX_WORKERS)
			rte_exit(EXIT_FAILURE, "more than %d worker lcores\n", RTPB_MAX_WORKERS);
		dp_ctx.workers[w].lcore = lcore;
		dp_ctx.workers[w].idx = w;
		dp_ctx.workers[w].queue = (uint16_t)w;
		w++;
	}
	if (w == 0)
		rte_exit(EXIT_FAILURE, "no worker lcore: give EAL at least two lcores (e.g. -l 0-1)\n");
	dp_ctx_set_workers(w);
	dp_ctx.max_streams = dp_opts.max_streams;
	dp_ctx.replay_wait_ns = dp_opts.replay_wait_ms * 1000000ull;

	dp_ctx.shm = dp_shm_create(prefix, dp_opts.ring_prefix, w, dp_opts.max_streams, &err);
	if (dp_ctx.shm == NULL)
		rte_exit(EXIT_FAILURE, "shared memory: %s: %s\n", err, strerror(errno));
	/* a setup failure from here on (rte_exit()) must not leave the
	 * file, and its hugepages, behind */
	snprintf(shm_prefix, sizeof(shm_prefix), "%s", prefix);
	atexit(shm_atexit);
	dp_ctx.shm->n_addrs = dp_ctx.n_addrs;
	/* Control finds a stream's addr_idx here: same order as dp_ctx.addrs. */
	for (i = 0; i < dp_ctx.n_addrs; i++) {
		const struct dp_addr *d = &dp_ctx.addrs[i];
		struct rtpb_addr *sa = &dp_ctx.shm->addrs[i];

		if (d->family == RTPB_AF_INET) {
			rtpb_addr_set_v4(sa, d->ip4, 0);
		} else {
			memset(sa, 0, sizeof(*sa));
			sa->family = RTPB_AF_INET6;
			memcpy(sa->ip, d->ip6, 16);
		}
		dp_ctx.shm->prefixlen[i] = d->prefixlen;
	}
	dp_ctx.d2c = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_d2c);

	/* The stream records live in the shared mapping: control reads
	 * their per-packet counters in place (dp_stream.h). */
	dp_ctx.streams = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_streams);
	dp_ctx.neigh = rte_zmalloc("rtpb_neigh", sizeof(struct dp_neigh), RTE_CACHE_LINE_SIZE);
	if (dp_ctx.neigh == NULL)
		rte_exit(EXIT_FAILURE, "rte_zmalloc(neighbour table): out of hugepage memory\n");
	dp_neigh_seed(dp_ctx.neigh); /* keyed: senders pick their addresses */
	dp_ctx.dtmf = rte_zmalloc("rtpb_dtmf", (size_t)dp_ctx.max_streams *
				  sizeof(dp_ctx.dtmf[0]), RTE_CACHE_LINE_SIZE);
	if (dp_ctx.dtmf == NULL)
		rte_exit(EXIT_FAILURE, "rte_zmalloc(DTMF history, %u streams): out of "
			 "hugepage memory\n", dp_ctx.max_streams);
	neigh_keep_open();

	/* One direct-indexed flow table for all workers (dp_flow.h). */
	ret = dp_flow_create(&dp_ctx.flow, dp_ctx.n_addrs, (int)rte_socket_id());
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "flow table (%u relay addresses, %" PRIu64 " KiB): %s\n",
			 dp_ctx.n_addrs, dp_ctx.n_addrs * DP_FLOW_BYTES_PER_ADDR / 1024,
			 rte_strerror(-ret));
	DP_LOG(INFO, "flow table: direct-indexed, %u relay addresses x %" PRIu64
	       " KiB (%u ports x %zu B)", dp_ctx.n_addrs, DP_FLOW_BYTES_PER_ADDR / 1024,
	       DP_FLOW_PORTS, sizeof(dp_ctx.flow.tab[0]));
	for (i = 0; i < w; i++) {
		struct dp_worker *wk = &dp_ctx.workers[i];
		char name[RTE_RING_NAMESIZE];

		wk->c2d = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_c2d[i]);
		wk->mirror = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_mirror[i]);
		wk->play = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_play[i]);
		wk->stats = rtpb_shm_lcore_stats(dp_ctx.shm, i);
		if (w > 1) {
			snprintf(name, sizeof(name), "handoff_%u", i);
			wk->handoff = ring_create(name, RING_F_SC_DEQ);
		}
	}
	dp_ctx.sp_rx = ring_create("sp_rx", RING_F_SC_DEQ);
	dp_ctx.sp_tx = ring_create("sp_tx", RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp_ctx.nh_req = rte_ring_create_elem("rtpb_nh_req", sizeof(struct rtpb_addr), 4096,
		(int)rte_socket_id(), RING_F_SC_DEQ);
	if (dp_ctx.nh_req == NULL)
		rte_exit(EXIT_FAILURE, "rte_ring_create_elem(nh_req): %s\n", rte_strerror(rte_errno));
}

/*
 * --shm-group: let the group's members attach, as a control dropped to
 * -u USER:GROUP does: the shared memory file (through its link in the
 * runtime directory) becomes group read-write, the runtime directory
 * group-searchable, and /var/run/dpdk, which EAL makes 0700, searchable
 * by all (o+x: its entries can be opened by name, not listed; every other
 * prefix's directory stays 0700). Nothing else of EAL's is opened.
 */
static void
shm_share(const char *prefix)
{
	const char *rt = rte_eal_get_runtime_dir();
	char link[PATH_MAX + 32], buf[PATH_MAX];
	const char *parent;
	struct stat st;

	snprintf(link, sizeof(link), RTPB_SHM_LINK_FMT, prefix);
	snprintf(buf, sizeof(buf), "%s", rt);
	parent = dirname(buf);
	if (chown(link, (uid_t)-1, dp_opts.shm_gid) != 0 || chmod(link, 0660) != 0)
		rte_exit(EXIT_FAILURE, "--shm-group %s: %s: %s\n", dp_opts.shm_group, link,
			 strerror(errno));
	if (chown(rt, (uid_t)-1, dp_opts.shm_gid) != 0 || chmod(rt, 0750) != 0)
		rte_exit(EXIT_FAILURE, "--shm-group %s: %s: %s\n", dp_opts.shm_group, rt,
			 strerror(errno));
	if (stat(parent, &st) != 0 ||
	    ((st.st_mode & S_IXOTH) == 0 && chmod(parent, (st.st_mode & 07777) | S_IXOTH) != 0))
		rte_exit(EXIT_FAILURE, "--shm-group %s: %s: %s\n", dp_opts.shm_group, parent,
			 strerror(errno));
	DP_LOG(INFO, "shared memory: read-write for group %s (%s)", dp_opts.shm_group, link);
}

/* dp_neigh_send_fn: ARP request or Neighbor Solicitation by family. */
static void
nh_send(const struct rtpb_addr *ip, const struct rte_ether_addr *mac, void *arg)
{
	if (ip->family == RTPB_AF_INET)
		dp_arp_request(rtpb_addr_v4(ip), mac, arg);
	else if (ip->family == RTPB_AF_INET6)
		dp_nd_solicit(ip->ip, mac);
}

/* The main lcore's loop: slow path and housekeeping, ~1 ms period.
 * Under a systemd watchdog (WatchdogSec=) it sends WATCHDOG=1 every half
 * period: a main lcore stuck in the loop stops feeding it. */
static void
main_loop(void)
{
	struct rtpb_lcore_stats *st = rtpb_shm_lcore_stats(dp_ctx.shm, dp_ctx.n_workers);
	struct dp_pkt_meta meta;
	struct rte_mbuf *m[DP_BURST];
	struct rtpb_addr nh[DP_BURST], gw;
	struct dp_ha ha;
	uint64_t now, last_age = 0, last_hb = 0, last_wd = 0, wd_ns = 0, wd_usec = 0;
	unsigned int n_rx, n_nh, i;

	if (sd_watchdog_enabled(0, &wd_usec) > 0)
		wd_ns = wd_usec * 1000ull / 2;
	dp_ha_init(&ha, atomic_load(&dp_ctx.shm->ha_state),
		   atomic_load(&dp_ctx.shm->ha_announce));

	/* The gateways are every off-link peer's next hop: resolve them now
	 * and keep them fresh (dp_neigh_age), not on the first call's packets. */
	if (dp_ctx.gateway != 0) {
		rtpb_addr_set_v4(&gw, dp_ctx.gateway, 0);
		dp_neigh_resolve(dp_ctx.neigh, &gw, dp_now_ns(), nh_send, NULL);
	}
	if (dp_ctx.gateway6_set) {
		memset(&gw, 0, sizeof(gw));
		gw.family = RTPB_AF_INET6;
		memcpy(gw.ip, dp_ctx.gateway6, 16);
		dp_neigh_resolve(dp_ctx.neigh, &gw, dp_now_ns(), nh_send, NULL);
	}
	/* the kept neighbours (dp_nkeep.h): used at once, asked again */
	dp_nkeep_ask(nh_send, NULL);

	while (!atomic_load(&dp_quit)) {
		now = dp_now_ns();
		n_rx = rte_ring_sc_dequeue_burst(dp_ctx.sp_rx, (void **)m, DP_BURST, NULL);
		for (i = 0; i < n_rx; i++) {
			st->rx_pkts++;
			switch (dp_parse_pkt(m[i], &meta)) {
			case DP_PKT_ARP:
				dp_arp_input(m[i], meta.l3_off, now);
				break;
			case DP_PKT_ND:
				dp_nd_input(m[i], &meta, now);
				break;
			default:
				rte_pktmbuf_free(m[i]);
			}
		}
		n_nh = rte_ring_sc_dequeue_burst_elem(dp_ctx.nh_req, nh, sizeof(nh[0]), DP_BURST, NULL);
		for (i = 0; i < n_nh; i++)
			dp_neigh_resolve(dp_ctx.neigh, &nh[i], now, nh_send, NULL);
		/* active/standby: control's word, announcements (dp_ha.h) */
		dp_ha_tick(&ha, now, nh_send);
		if (now - last_age >= 100000000ull) {
			uint32_t gone = dp_neigh_age(dp_ctx.neigh, now, nh_send, NULL);

			if (gone > 0)
				DP_LOG(DEBUG, "neighbour cache: %u entries evicted "
				       "(unresolved for %llu s)", gone,
				       DP_NEIGH_EVICT_NS / 1000000000ull);
			last_age = now;
		}
		if (now - last_hb >= RTPB_SHM_HEARTBEAT_MS * 1000000ull) {
			/* control compares it with its own CLOCK_MONOTONIC: the
			 * TSC-derived dp_now_ns() drifts with a VM's TSC estimate */
			atomic_store(&dp_ctx.shm->heartbeat_ns, mono_ns());
			last_hb = now;
			dp_health_check(now); /* the workers' own beats */
		}
		if (wd_ns != 0 && now - last_wd >= wd_ns) {
			sd_notify(0, "WATCHDOG=1");
			last_wd = now;
		}
		/* idle only when neither ring had work: a busy ARP/NDP ring
		 * is read again at once */
		if (n_rx == 0 && n_nh == 0)
			usleep(500);
	}
}

/* One log line to the journal's stream (stderr), with its sd-daemon
 * priority prefix ("<3>" ...; DPDK's levels are syslog's plus one). */
static ssize_t
journal_log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	fprintf(stderr, "<%d>%.*s", rte_log_cur_msg_loglevel() - 1, (int)size, buf);
	return (ssize_t)size;
}

/*
 * Under systemd, stderr is the journal's stream (JOURNAL_STREAM names
 * its device:inode, systemd.exec(5)). EAL's default log then writes each
 * line twice, to the stream and to syslog, both into the journal: log
 * once, to the stream, with the line's priority instead. Elsewhere (a
 * terminal) nothing changes.
 */
static void
journal_log_open(void)
{
	static cookie_io_functions_t io = {.write = journal_log_write};
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;
	FILE *f;

	if (js == NULL || sscanf(js, "%lu:%lu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0 || st.st_dev != (dev_t)dev ||
	    st.st_ino != (ino_t)ino)
		return;
	f = fopencookie(NULL, "w", io);
	if (f == NULL)
		return;
	setvbuf(f, NULL, _IOLBF, 0);
	rte_openlog_stream(f);
}

int
main(int argc, char **argv)
{
	char prefix[PATH_MAX];
	unsigned int lcore;
	struct rte_eth_stats es;
	int ret, in_use;
	unsigned int n_mbufs;

	dp_opts_early(argc, argv);
	argv = dp_opts_eal_prefix(&argc, argv);
	journal_log_open();	/* EAL's own lines included */
	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "rte_eal_init: %s (see the EAL messages above)\n",
			 rte_strerror(rte_errno));
	argc -= ret;
	argv += ret;
	argv[0] = (char *)"rtpbypass-dataplane";
	if (dp_opts_parse(argc, argv) < 0)
		rte_exit(EXIT_FAILURE, "invalid options, see --help\n");
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		rte_exit(EXIT_FAILURE, "the dataplane must be the DPDK primary process\n");

	snprintf(prefix, sizeof(prefix), "%s", rte_eal_get_runtime_dir());
	snprintf(prefix, sizeof(prefix), "%s", basename(prefix));
	/* EAL started as the primary of this prefix: its hugepage files
	 * are this process's to remove at exit */
	snprintf(huge_prefix, sizeof(huge_prefix), "%s", prefix);
	atexit(hugefiles_atexit);

	signal(SIGINT, signal_handler);
	signal(SIGTERM, signal_handler);
	clock_init();
	workers_init(prefix);
	if (dp_opts.shm_group != NULL)
		shm_share(prefix);
	/* before the workers start: a standby never answers for the
	 * addresses, not even once (dp_ha.h) */
	atomic_store(&dp_ctx.shm->ha_state, dp_opts.standby ? RTPB_HA_STANDBY :
							    RTPB_HA_ACTIVE);

	dp_ctx.port_id = dp_opts.port_id;
	n_mbufs = mbufs_needed(dp_ctx.n_workers, dp_opts.tx_port >= 0 &&
					dp_opts.tx_port != dp_opts.port_id ? 2 : 1);
	if (dp_opts.mbufs != 0)
		n_mbufs = RTE_MAX(dp_opts.mbufs, n_mbufs);
	dp_ctx.pool = rte_pktmbuf_pool_create("rtpb_mbufs", n_mbufs, DP_MBUF_CACHE, 0, dp_opts.mbuf_room,
					      (int)rte_socket_id());
	if (dp_ctx.pool == NULL)
		rte_exit(EXIT_FAILURE, "rte_pktmbuf_pool_create(%u mbufs of %u bytes): %s\n",
			 n_mbufs, dp_opts.mbuf_room, rte_strerror(rte_errno));
	port_init(dp_ctx.port_id, (uint16_t)dp_ctx.n_workers, 1);
	dp_ctx.tx_port_id = dp_ctx.port_id;
	if (dp_opts.tx_port >= 0 && dp_opts.tx_port != dp_ctx.port_id) {
		dp_ctx.tx_port_id = (uint16_t)dp_opts.tx_port;
		port_init(dp_ctx.tx_port_id, (uint16_t)dp_ctx.n_workers, 0);
	}
	for (uint32_t i = 0; i < dp_opts.n_neigh; i++)
		if (dp_neigh_add_static(dp_ctx.neigh, &dp_opts.neigh_ip[i], &dp_opts.neigh_mac[i],
					dp_now_ns()) < 0)
			rte_exit(EXIT_FAILURE, "--neigh: neighbour table full\n");
	/* The PMD holds some mbufs (RX rings, AF_XDP fill queue): the
	 * baseline a clean stop must come back to. */
	DP_LOG(INFO, "mbufs in use after start: %u", rte_mempool_in_use_count(dp_ctx.pool));
	if (dp_stats_telemetry_init() != 0)
		DP_LOG(WARNING, "telemetry commands not registered");
	/* packet capture: dpdk-dumpcap (a secondary process) asks this
	 * primary to copy the port's packets to it; nothing is copied, and
	 * the burst path costs nothing, until one does */
	if (rte_pdump_init() != 0)
		DP_LOG(WARNING, "rte_pdump_init: %s; dpdk-dumpcap will not work",
		       rte_strerror(rte_errno));

	for (uint32_t i = 0; i < dp_ctx.n_addrs; i++) {
		const struct dp_addr *d = &dp_ctx.addrs[i];
		char a[INET6_ADDRSTRLEN];

		if (d->family == RTPB_AF_INET)
			inet_ntop(AF_INET, &d->ip4, a, sizeof(a));
		else
			inet_ntop(AF_INET6, d->ip6, a, sizeof(a));
		DP_LOG(INFO, "relay address %u: %s/%u", i, a, d->prefixlen);
	}
	if (dp_opts.standby)
		DP_LOG(NOTICE, "HA standby: silent for the relay addresses until "
		       "control makes this dataplane active");
	if (dp_ctx.gateway != 0 || dp_ctx.gateway6_set) {
		char g4[INET_ADDRSTRLEN] = "none", g6[INET6_ADDRSTRLEN] = "none";

		if (dp_ctx.gateway != 0)
			inet_ntop(AF_INET, &dp_ctx.gateway, g4, sizeof(g4));
		if (dp_ctx.gateway6_set)
			inet_ntop(AF_INET6, dp_ctx.gateway6, g6, sizeof(g6));
		DP_LOG(INFO, "gateways: IPv4 %s, IPv6 %s", g4, g6);
	}
	for (uint32_t i = 0; i < dp_ctx.n_workers; i++)
		rte_eal_remote_launch(dp_worker_main, &dp_ctx.workers[i], dp_ctx.workers[i].lcore);
	atomic_store(&dp_ctx.shm->heartbeat_ns, mono_ns());
	atomic_store(&dp_ctx.shm->state, RTPB_SHM_READY);
	/* the key of the CNAME and refusal hashes: nobody outside knows it */
	if (getrandom(&dp_ctx.latch.seed, sizeof(dp_ctx.latch.seed), 0) !=
	    (ssize_t)sizeof(dp_ctx.latch.seed))
		rte_exit(EXIT_FAILURE, "getrandom(latch seed): %s\n", strerror(errno));
	DP_LOG(INFO, "probation: %u RTP, %u RTCP, %u same-SSRC packets%s%s; "
	       "other sources' budget %u/s, burst %u",
	       dp_ctx.latch.probation_rtp, dp_ctx.latch.probation_rtcp,
	       dp_ctx.latch.probation_ssrc,
	       dp_ctx.latch.strict_source ? ", strict source" : "",
	       dp_ctx.latch.cname_only ? ", new SSRC by CNAME only" : "",
	       dp_ctx.latch.budget_pps, dp_ctx.latch.budget_burst);
	{
		/* the wall-clock stamp times a restart's media gap (e2e_faults) */
		struct timespec rt;

		clock_gettime(CLOCK_REALTIME, &rt);
		DP_LOG(INFO, "ready: %u worker(s), max %u streams, file prefix '%s', "
		       "realtime %lld.%06ld", dp_ctx.n_workers, dp_ctx.max_streams, prefix,
		       (long long)rt.tv_sec, rt.tv_nsec / 1000);
	}
	/* systemd (Type=notify): the ports are up and control can attach */
	sd_notifyf(0, "READY=1\nSTATUS=%u worker(s), file prefix '%s'",
		   dp_ctx.n_workers, prefix);

	main_loop();

	DP_LOG(INFO, "stopping");
	sd_notify(0, "STOPPING=1");
	atomic_store(&dp_ctx.shm->state, RTPB_SHM_STOPPING);
	RTE_LCORE_FOREACH_WORKER(lcore)
		rte_eal_wait_lcore(lcore);
	if (rte_eth_stats_get(dp_ctx.port_id, &es) == 0)
		DP_LOG(INFO, "port %u: ipackets %" PRIu64 " opackets %" PRIu64
		       " imissed %" PRIu64 " oerrors %" PRIu64, dp_ctx.port_id,
		       es.ipackets, es.opackets, es.imissed, es.oerrors);
	/* Frames still in the slow-path rings go back to the pool. */
	{
		struct rte_mbuf *m = NULL;

		while (rte_ring_dequeue(dp_ctx.sp_rx, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		while (rte_ring_dequeue(dp_ctx.sp_tx, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		for (uint32_t i = 0; i < dp_ctx.n_workers; i++)
			while (dp_ctx.workers[i].handoff != NULL &&
			       rte_ring_dequeue(dp_ctx.workers[i].handoff, (void **)&m) == 0)
				rte_pktmbuf_free(m);
	}
	/* Let the PMD reap TX completions (AF_XDP holds sent mbufs until
	 * then); the workers are stopped, so the main lcore may use their
	 * queues. */
	for (uint32_t i = 0; i < dp_ctx.n_workers; i++) {
		rte_eth_tx_done_cleanup(dp_ctx.port_id, dp_ctx.workers[i].queue, 0);
		rte_eth_tx_burst(dp_ctx.port_id, dp_ctx.workers[i].queue, NULL, 0);
		if (dp_ctx.tx_port_id != dp_ctx.port_id) {
			rte_eth_tx_done_cleanup(dp_ctx.tx_port_id, dp_ctx.workers[i].queue, 0);
			rte_eth_tx_burst(dp_ctx.tx_port_id, dp_ctx.workers[i].queue, NULL, 0);
		}
	}
	DP_LOG(INFO, "mbufs in use at stop: %u", rte_mempool_in_use_count(dp_ctx.pool));
	rte_pdump_uninit();
	prefilter_unpin();
	if (allmulti_iface[0] != '\0' && (ret = iface_allmulti(allmulti_iface, false)) < 0)
		DP_LOG(WARNING, "%s: clearing all-multicast: %s", allmulti_iface,
		       strerror(-ret));
	rte_eth_dev_stop(dp_ctx.port_id);
	rte_eth_dev_close(dp_ctx.port_id);
	if (dp_ctx.tx_port_id != dp_ctx.port_id) {
		rte_eth_dev_stop(dp_ctx.tx_port_id);
		rte_eth_dev_close(dp_ctx.tx_port_id);
	}
	in_use = (int)rte_mempool_in_use_count(dp_ctx.pool);
	DP_LOG(INFO, "mbufs in use after close: %d of %u", in_use, dp_ctx.pool->size);
	dp_shm_destroy(dp_ctx.shm, prefix);
	dp_ctx.shm = NULL;
	rte_eal_cleanup();
	return 0;
}
