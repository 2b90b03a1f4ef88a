/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small netlink helpers shared by the weft selftests: a generic netlink
 * client for the "weft" family, a few rtnetlink link operations, an
 * extended-ACK parser (libmnl has none) and a parser for device messages.
 *
 * Every function returns 0 or a negative errno; nothing here asserts, so
 * the callers (kselftest tests, the weft_devinfo tool, forked children in
 * the permission tests) decide what a failure means.
 */
#ifndef WEFT_SELFTEST_NL_H
#define WEFT_SELFTEST_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/weft.h>

#define NL_BUFSZ	(64 * 1024)

struct nl {
	int fd;
	int proto;
	uint32_t seq;
	uint16_t family;	/* generic netlink family id, 0 for rtnetlink */
};

/* What an NLMSG_ERROR said, extended ACK included. */
struct nl_ack {
	int error;		/* 0 or negative errno */
	bool has_msg;
	char msg[256];
	bool has_offs;
	uint32_t offs;
	bool has_miss_type;
	uint32_t miss_type;
	bool has_miss_nest;
	uint32_t miss_nest;
};

int nl_open(struct nl *nl, int proto);
void nl_close(struct nl *nl);
/* Resolve the "weft" family; -ENOENT when it is not registered. */
int weft_genl_open(struct nl *nl);

/*
 * Start a request in buf: nlmsghdr (+ genlmsghdr for a genl socket).
 * Attributes follow with the mnl_attr_put* helpers.
 */
struct nlmsghdr *nl_req(struct nl *nl, void *buf, uint16_t type, uint16_t flags);
struct nlmsghdr *genl_req(struct nl *nl, void *buf, uint8_t cmd, uint16_t flags);
/* mnl_attr_nest_start that always sets NLA_F_NESTED. */
struct nlattr *nl_nest_start(struct nlmsghdr *nlh, uint16_t type);
/* Offset of an attribute from the start of its message (NLMSGERR_ATTR_OFFS). */
static inline uint32_t nl_offset(const struct nlmsghdr *nlh, const void *attr)
{
	return (uint32_t)((const char *)attr - (const char *)nlh);
}

typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Send one request (NLM_F_ACK is added) and read until its ACK, error or
 * NLMSG_DONE; every other message of the reply goes to cb. Returns the
 * error of the ACK (0 or -errno); ack (may be NULL) receives the details.
 */
int nl_transact(struct nl *nl, struct nlmsghdr *req, struct nl_ack *ack,
		nl_msg_cb cb, void *data);
/* Parse an NLMSG_ERROR message. */
void nl_parse_ack(const struct nlmsghdr *nlh, struct nl_ack *ack);

/* ---- rtnetlink ---- */
int rtnl_link_add(struct nl *rt, const char *name, const char *kind,
		  struct nl_ack *ack);
int rtnl_veth_add(struct nl *rt, const char *name, const char *peer);
int rtnl_link_del(struct nl *rt, int ifindex);
int rtnl_link_set_up(struct nl *rt, int ifindex, bool up);
/*
 * Create (or delete) count links of the kind named fmt % (first + i) with
 * as few sendmsg() calls as possible; returns the number of failures as a
 * negative errno of the first failure, 0 when all succeeded.
 */
int rtnl_link_add_batch(struct nl *rt, const char *fmt, int first, int count,
			const char *kind);
int rtnl_link_del_batch(struct nl *rt, const int *ifindex, int count);
/* ifindexes of the links of this kind (by IFLA_INFO_KIND), ascending. */
int rtnl_links_of_kind(struct nl *rt, const char *kind, int *out, int max);
/* ifindex of a name in the socket's netns, or -ENODEV. */
int rtnl_ifindex(struct nl *rt, const char *name);

/* ---- weft device messages ---- */
struct weft_dev {
	uint32_t present;	/* bit (1 << WEFT_DEV_A_*) for each seen */
	uint32_t ifindex;
	char ifname[32];
	bool has_ifindex, has_ifname, has_dev, has_stats, has_drops;
	uint32_t vni;
	uint16_t port;
	uint8_t local4[4];
	uint8_t local6[16];
	uint32_t underlay;
	uint8_t vtep_mac[6];
	uint8_t crosssubnet;
	uint32_t generation;
	uint32_t mtu;
	uint64_t stats[WEFT_STATS_A_MAX + 1];
	uint32_t stats_present;
	uint64_t drops[WEFT_DROP_MAX + 2];	/* by attribute type (reason + 1) */
	uint32_t drops_present;
	uint16_t nlmsg_flags;
	char err[128];		/* set when the message is malformed */
};

/* Parse a DEV_GET reply; -EBADMSG (and dev->err) when malformed. */
int weft_parse_dev(const struct nlmsghdr *nlh, struct weft_dev *dev);
/* DEV_GET by ifindex (if > 0) and/or name (if non-NULL). */
int weft_dev_get(struct nl *nl, int ifindex, const char *name,
		 struct weft_dev *dev, struct nl_ack *ack);

const char *weft_drop_name(int reason);

/* Move a link into the network namespace of process pid (IFLA_NET_NS_PID). */
int rtnl_link_set_netns_pid(struct nl *rt, int ifindex, int pid);

#endif
