// SPDX-License-Identifier: GPL-2.0
/*
 * weft_devinfo: print what WEFT_CMD_DEV_GET says about a device, one
 * "key value" per line, for the shell selftests (which must not depend on
 * the weft CLI).
 *
 *   weft_devinfo [-n NETNS] IFNAME    settings, counters and drop reasons
 *   weft_devinfo [-n NETNS] --dump    "ifindex ifname" of every weft device
 *
 * -n enters /run/netns/NETNS itself: cheaper than "ip netns exec", which
 * matters under QEMU TCG.
 *
 * Exit status: 0, or 1 with "weft_devinfo: ERROR (extack message)" on
 * stderr; 2 for usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

#include "weft_nl.h"

static const char *const stat_names[WEFT_STATS_A_MAX + 1] = {
	[WEFT_STATS_A_RX_PACKETS] = "rx_packets",
	[WEFT_STATS_A_RX_BYTES] = "rx_bytes",
	[WEFT_STATS_A_TX_PACKETS] = "tx_packets",
	[WEFT_STATS_A_TX_BYTES] = "tx_bytes",
	[WEFT_STATS_A_RX_DROPS] = "rx_drops",
	[WEFT_STATS_A_TX_DROPS] = "tx_drops",
};

static void print_dev(const struct weft_dev *d)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	printf("ifindex %u\nifname %s\n", d->ifindex, d->ifname);
	if (d->present & (1u << WEFT_DEV_A_VNI))
		printf("vni %u\n", d->vni);
	if (d->present & (1u << WEFT_DEV_A_PORT))
		printf("port %u\n", d->port);
	if (d->present & (1u << WEFT_DEV_A_LOCAL4))
		printf("local4 %s\n", inet_ntop(AF_INET, d->local4, a, sizeof(a)));
	if (d->present & (1u << WEFT_DEV_A_LOCAL6))
		printf("local6 %s\n", inet_ntop(AF_INET6, d->local6, a, sizeof(a)));
	if (d->present & (1u << WEFT_DEV_A_UNDERLAY))
		printf("underlay %u\n", d->underlay);
	if (d->present & (1u << WEFT_DEV_A_VTEP_MAC))
		printf("vtep_mac %02x:%02x:%02x:%02x:%02x:%02x\n",
		       d->vtep_mac[0], d->vtep_mac[1], d->vtep_mac[2],
		       d->vtep_mac[3], d->vtep_mac[4], d->vtep_mac[5]);
	if (d->present & (1u << WEFT_DEV_A_CROSSSUBNET))
		printf("crosssubnet %u\n", d->crosssubnet);
	if (d->present & (1u << WEFT_DEV_A_GENERATION))
		printf("generation %u\n", d->generation);
	if (d->present & (1u << WEFT_DEV_A_MTU))
		printf("mtu %u\n", d->mtu);
	for (i = 0; i <= WEFT_STATS_A_MAX; i++)
		if (stat_names[i] && (d->stats_present & (1u << i)))
			printf("%s %llu\n", stat_names[i],
			       (unsigned long long)d->stats[i]);
	/* every reason, 0 when the kernel left it out */
	for (i = 0; i <= WEFT_DROP_MAX; i++)
		printf("drop_%s %llu\n", weft_drop_name(i),
		       (unsigned long long)d->drops[i + 1]);
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct weft_dev d;

	(void)data;
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return 0;
	if (weft_parse_dev(nlh, &d)) {
		fprintf(stderr, "weft_devinfo: bad message: %s\n", d.err);
		return -1;
	}
	printf("%u %s\n", d.ifindex, d.ifname);
	return 0;
}

static int fail(const char *what, int err, const struct nl_ack *ack)
{
	fprintf(stderr, "weft_devinfo: %s: %s", what, strerror(-err));
	if (ack && ack->has_msg)
		fprintf(stderr, " (%s)", ack->msg);
	fprintf(stderr, "\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct nl_ack ack;
	struct weft_dev d;
	struct nl nl;
	int err;

	if (argc == 4 && !strcmp(argv[1], "-n")) {
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "/run/netns/%s", argv[2]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			fprintf(stderr, "weft_devinfo: netns %s: %s\n", argv[2],
				strerror(errno));
			return 1;
		}
		close(fd);
		argc -= 2;
		argv += 2;
	}
	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: weft_devinfo [-n NETNS] IFNAME | --dump\n");
		return 2;
	}
	err = weft_genl_open(&nl);
	if (err)
		return fail("family " WEFT_GENL_NAME, err, NULL);
	if (!strcmp(argv[1], "--dump")) {
		char buf[256];
		struct nlmsghdr *nlh = genl_req(&nl, buf, WEFT_CMD_DEV_GET, NLM_F_DUMP);

		err = nl_transact(&nl, nlh, &ack, dump_cb, NULL);
		return err ? fail("dump", err, &ack) : 0;
	}
	err = weft_dev_get(&nl, 0, argv[1], &d, &ack);
	if (err == -EBADMSG)
		fprintf(stderr, "weft_devinfo: malformed reply: %s\n", d.err);
	if (err)
		return fail(argv[1], err, &ack);
	print_dev(&d);
	return 0;
}
