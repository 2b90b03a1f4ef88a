// SPDX-License-Identifier: GPL-2.0
/*
 * weft_unload: the load / use / unload loop of unload_loop.sh, in one
 * process, because under QEMU TCG every exec costs a quarter of a second
 * and a hundred cycles of insmod + ip + rmmod do not fit the time budget.
 * It makes the same system calls as insmod (finit_module) and rmmod
 * (delete_module with O_NONBLOCK).
 *
 *   weft_unload --module PATH.ko [--cycles N] [--first K] [--tap T]
 *               [--netns 3] [--devs 4]
 *
 * Cycle k: load the module; in each of the namespaces (each held by a
 * child process) create the devices, bring the first up and send packets
 * into it (AF_PACKET, so no route or address is needed; they must count as
 * no-route drops), and keep sending every 2 ms. Check debug_objects > 0.
 * Odd k: unload while the devices exist and the packets flow, then check
 * that no device survived in any namespace. Even k: kill the holders (the
 * namespaces die), wait until debug_objects reads 0, then unload. After
 * each unload, /proc/modules must not list weft.
 *
 * Cycles are numbered from K (default 1); prints "TEST: ... [ OK ]" and TAP
 * "ok N - ..." lines numbered from T (default K); stops at the first
 * failure. Exit 0, or 1 on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/genetlink.h>
#include <linux/rtnetlink.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <libmnl/libmnl.h>

#include "weft_nl.h"

#define DEBUG_OBJECTS "/sys/module/weft/parameters/debug_objects"
#define MAX_NS 16

static char why[512];

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long debug_objects(void)
{
	FILE *f = fopen(DEBUG_OBJECTS, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static bool module_listed(void)
{
	FILE *f = fopen("/proc/modules", "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "weft ", 5))
			found = true;
	fclose(f);
	return found;
}

static int load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return fail("open %s: %s", path, strerror(errno));
	if (syscall(SYS_finit_module, fd, "", 0))
		err = fail("finit_module %s: %s", path, strerror(errno));
	close(fd);
	if (!err && access("/sys/module/weft", F_OK))
		err = fail("module loaded but /sys/module/weft is missing");
	return err;
}

static int unload(void)
{
	if (syscall(SYS_delete_module, "weft", O_NONBLOCK))
		return fail("delete_module weft: %s (debug_objects %ld)",
			    strerror(errno), debug_objects());
	if (module_listed())
		return fail("weft still in /proc/modules after delete_module");
	if (!access("/sys/module/weft", F_OK))
		return fail("/sys/module/weft still there after delete_module");
	return 0;
}

/* An IPv4/UDP datagram to 10.9.0.1, handed straight to the device. */
static int send_packet(int fd, int ifindex)
{
	static const uint8_t pkt[28] = {
		0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0,
		10, 8, 0, 1, 10, 9, 0, 1,
		0x30, 0x39, 0, 9, 0, 8, 0, 0,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = ifindex,
	};

	return sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&sll,
		      sizeof(sll)) < 0 ? -errno : 0;
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		/* best effort: a kernel without IPv6 has no such file */
		(void)!write(fd, s, strlen(s));
		close(fd);
	}
}

/* Holder: runs in its own netns until killed. Reports on fd. */
static void holder(int fd, int ndev)
{
	char msg[256] = "ok";
	struct nl rt, g;
	struct weft_dev d;
	int err, ifindex, pfd, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWNET)) {
		snprintf(msg, sizeof(msg), "unshare: %s", strerror(errno));
		goto out;
	}
	/* no IPv6 autoconf chatter: the drop counts below are exact */
	write_str("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	write_str("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	err = nl_open(&rt, NETLINK_ROUTE);
	if (!err)
		err = rtnl_link_add_batch(&rt, "uw%d", 0, ndev, "weft");
	if (err) {
		snprintf(msg, sizeof(msg), "creating %d weft links: %s", ndev,
			 strerror(-err));
		goto out;
	}
	ifindex = rtnl_ifindex(&rt, "uw0");
	err = ifindex < 0 ? ifindex : rtnl_link_set_up(&rt, ifindex, true);
	if (err) {
		snprintf(msg, sizeof(msg), "uw0 up: %s", strerror(-err));
		goto out;
	}
	pfd = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (pfd < 0) {
		snprintf(msg, sizeof(msg), "packet socket: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < 3; i++) {
		err = send_packet(pfd, ifindex);
		if (err) {
			snprintf(msg, sizeof(msg), "sendto uw0: %s", strerror(-err));
			goto out;
		}
	}
	memset(&d, 0, sizeof(d));
	err = weft_genl_open(&g);
	if (!err)
		err = weft_dev_get(&g, ifindex, NULL, &d, NULL);
	if (err) {
		snprintf(msg, sizeof(msg), "DEV_GET uw0: %s %s", strerror(-err), d.err);
		goto out;
	}
	if (d.drops[WEFT_DROP_NO_ROUTE + 1] != 3 || d.stats[WEFT_STATS_A_TX_DROPS] != 3)
		snprintf(msg, sizeof(msg), "3 packets into uw0: %llu no-route drops, "
			 "%llu tx drops",
			 (unsigned long long)d.drops[WEFT_DROP_NO_ROUTE + 1],
			 (unsigned long long)d.stats[WEFT_STATS_A_TX_DROPS]);
	nl_close(&g);
	nl_close(&rt);
	if (write(fd, msg, strlen(msg) + 1) < 0)
		_exit(1);
	close(fd);
	/* traffic in flight until we are killed (or the device is gone) */
	for (;;) {
		send_packet(pfd, ifindex);
		usleep(2000);
	}
out:
	if (write(fd, msg, strlen(msg) + 1) < 0)
		_exit(1);
	_exit(1);
}

/* Number of links named uw* in the netns of pid. */
static int count_in_netns(pid_t pid)
{
	char path[64];
	int self_ns, ns, n = -1, i;
	int links[64];
	struct nl rt;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (self_ns < 0 || ns < 0 || setns(ns, CLONE_NEWNET))
		goto out;
	if (!nl_open(&rt, NETLINK_ROUTE)) {
		n = 0;
		for (i = 0; i < 64; i++) {
			char name[IFNAMSIZ];

			snprintf(name, sizeof(name), "uw%d", i);
			if (rtnl_ifindex(&rt, name) > 0)
				n++;
		}
		/* and nothing of kind weft, whatever its name */
		n += rtnl_links_of_kind(&rt, "weft", links, 64) > 0;
		nl_close(&rt);
	}
	if (setns(self_ns, CLONE_NEWNET))
		n = -1;
out:
	if (self_ns >= 0)
		close(self_ns);
	if (ns >= 0)
		close(ns);
	return n;
}

static void kill_all(pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			pids[i] = 0;
		}
}

static int cycle(const char *path, int k, int nns, int ndev)
{
	pid_t pids[MAX_NS] = { 0 };
	long objs;
	int i, err = 0;

	if (load(path))
		return -1;
	for (i = 0; i < nns; i++) {
		char msg[256] = "";
		int p[2];

		if (pipe2(p, O_CLOEXEC)) {
			err = fail("pipe: %s", strerror(errno));
			break;
		}
		pids[i] = fork();
		if (pids[i] == 0) {
			close(p[0]);
			holder(p[1], ndev);
		}
		close(p[1]);
		if (pids[i] < 0 || read(p[0], msg, sizeof(msg) - 1) <= 0)
			snprintf(msg, sizeof(msg), "holder %d died", i);
		close(p[0]);
		if (strcmp(msg, "ok")) {
			err = fail("netns %d: %s", i, msg);
			break;
		}
	}
	objs = debug_objects();
	if (!err && objs <= 0)
		err = fail("debug_objects %ld with %d devices alive", objs, nns * ndev);
	if (err) {
		kill_all(pids, nns);
		return unload() ? -1 : err;
	}

	if (k % 2) {
		/* unload under the living devices and their traffic */
		if (unload()) {
			kill_all(pids, nns);
			return -1;
		}
		for (i = 0; i < nns && !err; i++) {
			int n = count_in_netns(pids[i]);

			if (n)
				err = fail("netns %d: %d weft links left after unload", i, n);
		}
		kill_all(pids, nns);
		return err;
	}

	/* the namespaces go first (asynchronously, in cleanup_net) */
	kill_all(pids, nns);
	{
		double deadline = now() + 30;

		while ((objs = debug_objects()) != 0 && now() < deadline)
			usleep(20000);
	}
	if (objs != 0) {
		fail("debug_objects %ld 30 s after the namespaces were deleted", objs);
		unload();
		return -1;
	}
	return unload();
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int cycles = 100, first = 1, tap = 0, nns = 3, ndev = 4, k, i;
	double t0 = now();

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--module") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
			cycles = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--first") && i + 1 < argc)
			first = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tap") && i + 1 < argc)
			tap = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--netns") && i + 1 < argc)
			nns = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--devs") && i + 1 < argc)
			ndev = atoi(argv[++i]);
		else
			path = NULL, i = argc;
	}
	if (!path || nns < 1 || nns > MAX_NS || ndev < 1 || ndev > 64) {
		fprintf(stderr, "usage: weft_unload --module PATH.ko [--cycles N] "
			"[--first K] [--tap T] [--netns 1..16] [--devs 1..64]\n");
		return 2;
	}
	if (!tap)
		tap = first;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (k = first; k < first + cycles; k++) {
		char desc[128];
		int err;

		snprintf(desc, sizeof(desc), "cycle %d: %s", k,
			 k % 2 ? "unload with live devices and traffic in flight"
			       : "netns deleted, debug_objects 0, then unload");
		why[0] = 0;
		err = cycle(path, k, nns, ndev);
		printf("TEST: %-64s [%s]\n", desc, err ? "FAIL" : " OK ");
		if (err) {
			printf("# %s\n", why);
			printf("not ok %d - %s\n", tap + k - first, desc);
			return 1;
		}
		printf("ok %d - %s\n", tap + k - first, desc);
	}
	printf("# %d cycles in %.1f s\n", cycles, now() - t0);
	return 0;
}
