// SPDX-License-Identifier: GPL-2.0
/*
 * weft_routes: selftests of the node and route commands of the "weft"
 * generic netlink family (WEFT_CMD_NODE_* and WEFT_CMD_ROUTE_*, see
 * uapi/linux/weft.h).
 *
 *   node.*     NODE_ADD / GET / DEL / dump, WEFT_A_REPLACE, errors
 *   route.*    ROUTE_ADD / GET / DEL / dump for IPv4 and IPv6, errors,
 *              routes going with their node, bulk requests of 130,000
 *              routes, dump consistency under churn, permissions, and
 *              deleting a device or netns that holds 100,000 routes
 *
 * Every test runs in a fresh network namespace holding weft0. The weft
 * module must be loaded. Run as root (in the VM: tests/vm/run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/genetlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "weft_nl.h"
/* the 6.1 harness has an unused parameter in its signal handler */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

#define BULK_ROUTES	130000
#define TEARDOWN_ROUTES	100000
/* Requests stay below 64 KiB. */
#define REQ_MAX		(60 * 1024)

static const char *ack_msg(const struct nl_ack *a)
{
	return a->has_msg ? a->msg : "(no extack message)";
}

/* ------------------------------------------------------------ nodes */

struct node {
	int family;		/* AF_INET, AF_INET6 */
	uint8_t addr[16];
	int encap;		/* -1: not sent */
	uint8_t mac[6];
	bool has_mac;
	bool has_stats;
	int nstats;
	uint32_t ifindex;
};

static struct node node4(const char *s)
{
	struct node n = { .family = AF_INET, .encap = -1 };

	inet_pton(AF_INET, s, n.addr);
	return n;
}

static struct node node6(const char *s)
{
	struct node n = { .family = AF_INET6, .encap = -1 };

	inet_pton(AF_INET6, s, n.addr);
	return n;
}

static int alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

/*
 * flags may hold REPLACE: sent as the WEFT_A_REPLACE attribute (generic
 * netlink cannot carry NLM_F_REPLACE, it reads as half of NLM_F_DUMP).
 */
#define REPLACE		0x10000
#define NLFLAGS(f)	((uint16_t)((f) & 0xffff))

/* NODE_* request; *offs (may be NULL) gets the WEFT_A_NODE nest offset. */
static int node_req(struct nl *nl, uint8_t cmd, int flags, int ifindex,
		    const struct node *n, struct nl_ack *ack, nl_msg_cb cb,
		    void *data, uint32_t *offs)
{
	char buf[512];
	struct nlmsghdr *nlh = genl_req(nl, buf, cmd, NLFLAGS(flags));
	struct nlattr *nest;

	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, ifindex);
	if (flags & REPLACE)
		mnl_attr_put(nlh, WEFT_A_REPLACE, 0, NULL);
	if (!n)
		return nl_transact(nl, nlh, ack, cb, data);
	if (offs)
		*offs = nl_offset(nlh, mnl_nlmsg_get_payload_tail(nlh));
	nest = nl_nest_start(nlh, WEFT_A_NODE);
	if (n->family)
		mnl_attr_put(nlh, n->family == AF_INET ? WEFT_NODE_A_ADDR4 :
			     WEFT_NODE_A_ADDR6, alen(n->family), n->addr);
	if (cmd == WEFT_CMD_NODE_ADD && n->encap >= 0)
		mnl_attr_put_u8(nlh, WEFT_NODE_A_ENCAP, n->encap);
	if (cmd == WEFT_CMD_NODE_ADD && n->has_mac)
		mnl_attr_put(nlh, WEFT_NODE_A_VTEP_MAC, 6, n->mac);
	mnl_attr_nest_end(nlh, nest);
	return nl_transact(nl, nlh, ack, cb, data);
}

static int parse_node(const struct nlmsghdr *nlh, struct node *n)
{
	const struct nlattr *a, *b, *c;

	memset(n, 0, sizeof(*n));
	n->encap = -1;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == WEFT_A_IFINDEX)
			n->ifindex = mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) != WEFT_A_NODE)
			continue;
		mnl_attr_for_each_nested(b, a) {
			int len = mnl_attr_get_payload_len(b);

			switch (mnl_attr_get_type(b)) {
			case WEFT_NODE_A_ADDR4:
			case WEFT_NODE_A_ADDR6:
				if (len != 4 && len != 16)
					return -EBADMSG;
				n->family = len == 4 ? AF_INET : AF_INET6;
				memcpy(n->addr, mnl_attr_get_payload(b), len);
				break;
			case WEFT_NODE_A_ENCAP:
				n->encap = mnl_attr_get_u8(b);
				break;
			case WEFT_NODE_A_VTEP_MAC:
				if (len != 6)
					return -EBADMSG;
				memcpy(n->mac, mnl_attr_get_payload(b), 6);
				n->has_mac = true;
				break;
			case WEFT_NODE_A_STATS:
				n->has_stats = true;
				mnl_attr_for_each_nested(c, b)
					if (mnl_attr_get_type(c) != WEFT_STATS_A_PAD)
						n->nstats++;
				break;
			}
		}
	}
	return n->family ? 0 : -EBADMSG;
}

static int node_cb(const struct nlmsghdr *nlh, void *data)
{
	struct node *n = data;

	if (nlh->nlmsg_type == NLMSG_DONE)
		return 0;
	return parse_node(nlh, n);
}

struct node_list {
	int n;
	struct node nodes[64];
};

static int node_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct node_list *l = data;

	if (nlh->nlmsg_type == NLMSG_DONE || l->n == 64)
		return 0;
	return parse_node(nlh, &l->nodes[l->n++]);
}

/* ------------------------------------------------------------ routes */

struct route {
	uint8_t family;
	uint8_t plen;
	uint8_t node_family;
	uint8_t pad;
	uint8_t prefix[16];
	uint8_t node[16];
};

static int route_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct route));
}

static struct route route_of(const char *pfx, int plen, const struct node *n)
{
	struct route r = { .plen = plen };

	r.family = strchr(pfx, ':') ? AF_INET6 : AF_INET;
	inet_pton(r.family, pfx, r.prefix);
	if (n) {
		r.node_family = n->family;
		memcpy(r.node, n->addr, alen(n->family));
	}
	return r;
}

static void put_route(struct nlmsghdr *nlh, const struct route *r, bool node)
{
	struct nlattr *nest = nl_nest_start(nlh, WEFT_A_ROUTE);

	mnl_attr_put_u8(nlh, WEFT_ROUTE_A_FAMILY, r->family);
	mnl_attr_put(nlh, WEFT_ROUTE_A_PREFIX, alen(r->family), r->prefix);
	mnl_attr_put_u8(nlh, WEFT_ROUTE_A_PREFIXLEN, r->plen);
	if (node && r->node_family)
		mnl_attr_put(nlh, r->node_family == AF_INET ? WEFT_ROUTE_A_NODE4 :
			     WEFT_ROUTE_A_NODE6, alen(r->node_family), r->node);
	mnl_attr_nest_end(nlh, nest);
}

/*
 * ROUTE_ADD (or DEL) of n routes, packed into requests below 64 KiB; stops
 * at the first failing request. *done (may be NULL) gets the number of
 * routes in the requests that succeeded.
 */
static int route_bulk(struct nl *nl, uint8_t cmd, int flags, int ifindex,
		      const struct route *r, int n, struct nl_ack *ack, int *done)
{
	char *buf = malloc(64 * 1024);
	int i = 0, err = 0;

	if (!buf)
		return -ENOMEM;
	if (done)
		*done = 0;
	while (i < n) {
		struct nlmsghdr *nlh = genl_req(nl, buf, cmd, NLFLAGS(flags));
		int first = i;

		mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, ifindex);
		if (flags & REPLACE)
			mnl_attr_put(nlh, WEFT_A_REPLACE, 0, NULL);
		while (i < n && nlh->nlmsg_len < REQ_MAX)
			put_route(nlh, &r[i++], cmd == WEFT_CMD_ROUTE_ADD);
		err = nl_transact(nl, nlh, ack, NULL, NULL);
		if (err)
			break;
		if (done)
			*done += i - first;
	}
	free(buf);
	return err;
}

static int route_one(struct nl *nl, uint8_t cmd, int flags, int ifindex,
		     const struct route *r, struct nl_ack *ack, uint32_t *offs)
{
	char buf[512];
	struct nlmsghdr *nlh = genl_req(nl, buf, cmd, NLFLAGS(flags));

	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, ifindex);
	if (flags & REPLACE)
		mnl_attr_put(nlh, WEFT_A_REPLACE, 0, NULL);
	if (offs)
		*offs = nl_offset(nlh, mnl_nlmsg_get_payload_tail(nlh));
	put_route(nlh, r, cmd == WEFT_CMD_ROUTE_ADD);
	return nl_transact(nl, nlh, ack, NULL, NULL);
}

struct route_list {
	int n, max;
	struct route *r;
	bool intr;
	bool bad;
};

static void route_list_add(struct route_list *l, const struct nlattr *a)
{
	const struct nlattr *b;
	struct route r = {};

	mnl_attr_for_each_nested(b, a) {
		int len = mnl_attr_get_payload_len(b);

		switch (mnl_attr_get_type(b)) {
		case WEFT_ROUTE_A_FAMILY:
			r.family = mnl_attr_get_u8(b);
			break;
		case WEFT_ROUTE_A_PREFIX:
			memcpy(r.prefix, mnl_attr_get_payload(b), len > 16 ? 16 : len);
			break;
		case WEFT_ROUTE_A_PREFIXLEN:
			r.plen = mnl_attr_get_u8(b);
			break;
		case WEFT_ROUTE_A_NODE4:
		case WEFT_ROUTE_A_NODE6:
			r.node_family = len == 4 ? AF_INET : AF_INET6;
			memcpy(r.node, mnl_attr_get_payload(b), len > 16 ? 16 : len);
			break;
		}
	}
	if (!r.family || l->n == l->max) {
		l->bad = true;
		return;
	}
	l->r[l->n++] = r;
}

static int route_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_list *l = data;
	const struct nlattr *a;

	if (nlh->nlmsg_type == NLMSG_DONE)
		return 0;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		l->intr = true;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == WEFT_A_ROUTE)
			route_list_add(l, a);
	return 0;
}

/* ROUTE_GET dump into l (l->max entries); sorted when it returns 0. */
static int route_dump(struct nl *nl, int ifindex, struct route_list *l)
{
	char buf[256];
	struct nlmsghdr *nlh = genl_req(nl, buf, WEFT_CMD_ROUTE_GET, NLM_F_DUMP);
	int err;

	l->n = 0;
	l->intr = false;
	l->bad = false;
	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, ifindex);
	err = nl_transact(nl, nlh, NULL, route_list_cb, l);
	if (!err && l->bad)
		err = -EBADMSG;
	if (!err)
		qsort(l->r, l->n, sizeof(*l->r), route_cmp);
	return err;
}

static bool route_list_init(struct route_list *l, int max)
{
	l->max = max;
	l->n = 0;
	l->r = calloc(max, sizeof(*l->r));
	return l->r != NULL;
}

/*
 * n distinct routes: IPv4 /24s from 11.0.0.0 for the first 60%, IPv6 /64s
 * in fd00:<base>::/32 for the rest, spread round robin over the nodes.
 */
static struct route *make_routes(int n, int base, const struct node *nodes,
				 int nnodes)
{
	struct route *r = calloc(n, sizeof(*r));
	int i, n4 = n * 6 / 10;

	if (!r)
		return NULL;
	for (i = 0; i < n; i++) {
		const struct node *nd = &nodes[i % nnodes];

		if (i < n4) {
			uint32_t a = htonl((11u << 24) + ((uint32_t)(base + i) << 8));

			r[i].family = AF_INET;
			r[i].plen = 24;
			memcpy(r[i].prefix, &a, 4);
		} else {
			int j = i - n4;

			r[i].family = AF_INET6;
			r[i].plen = 64;
			r[i].prefix[0] = 0xfd;
			r[i].prefix[1] = base >> 16;
			r[i].prefix[2] = base >> 8;
			r[i].prefix[3] = base;
			r[i].prefix[4] = j >> 24;
			r[i].prefix[5] = j >> 16;
			r[i].prefix[6] = j >> 8;
			r[i].prefix[7] = j;
		}
		r[i].node_family = nd->family;
		memcpy(r[i].node, nd->addr, alen(nd->family));
	}
	qsort(r, n, sizeof(*r), route_cmp);
	return r;
}

static int debug_objects(void)
{
	FILE *f = fopen("/sys/module/weft/parameters/debug_objects", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Waits up to 60 s for the module's live objects to drop to at most max. */
static int wait_objects(int max)
{
	int i, v = debug_objects();

	for (i = 0; i < 600 && v > max; i++) {
		usleep(300000);
		v = debug_objects();
	}
	return v;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(wr) {
	struct nl genl;
	struct nl rtnl;
	int ifindex;
	struct node n4, n6;
};

FIXTURE_SETUP(wr)
{
	struct nl_ack ack;
	int err;

	self->genl.fd = self->rtnl.fd = -1;
	ASSERT_EQ(0, unshare(CLONE_NEWNET)) TH_LOG("unshare: %s", strerror(errno));
	ASSERT_EQ(0, nl_open(&self->rtnl, NETLINK_ROUTE));
	err = weft_genl_open(&self->genl);
	ASSERT_EQ(0, err) TH_LOG("family \"weft\": %s", strerror(-err));
	err = rtnl_link_add(&self->rtnl, "weft0", "weft", &ack);
	ASSERT_EQ(0, err) TH_LOG("weft0: %s; %s", strerror(-err), ack_msg(&ack));
	self->ifindex = rtnl_ifindex(&self->rtnl, "weft0");
	ASSERT_LT(0, self->ifindex);
	self->n4 = node4("192.0.2.1");
	self->n6 = node6("2001:db8::1");
}

FIXTURE_TEARDOWN(wr)
{
	nl_close(&self->genl);
	nl_close(&self->rtnl);
}

#define NODE_ADD_OK(n) do { \
	struct nl_ack _a; \
	int _e = node_req(&self->genl, WEFT_CMD_NODE_ADD, 0, self->ifindex, \
			  (n), &_a, NULL, NULL, NULL); \
	ASSERT_EQ(0, _e) TH_LOG("NODE_ADD: %s; %s", strerror(-_e), ack_msg(&_a)); \
} while (0)

#define EXPECT_REJECT(err, ack, want, off) do { \
	EXPECT_EQ(want, err) TH_LOG("got %s; %s", strerror(-(err)), ack_msg(&(ack))); \
	EXPECT_TRUE((ack).has_msg); \
	if (off) { \
		EXPECT_TRUE((ack).has_offs); \
		EXPECT_EQ((uint32_t)(off), (ack).offs); \
	} \
} while (0)

/* ------------------------------------------------------------ nodes */

TEST_F(wr, node_add_get_del)
{
	struct node n = self->n4, got;
	struct nl_ack ack;
	int err;

	n.encap = WEFT_ENCAP_IPIP;
	memcpy(n.mac, "\x02\x00\x00\x00\x00\x01", 6);
	n.has_mac = true;
	NODE_ADD_OK(&n);
	NODE_ADD_OK(&self->n6);

	err = node_req(&self->genl, WEFT_CMD_NODE_GET, 0, self->ifindex, &n,
		       &ack, node_cb, &got, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	EXPECT_EQ(AF_INET, got.family);
	EXPECT_EQ(0, memcmp(got.addr, n.addr, 4));
	EXPECT_EQ(WEFT_ENCAP_IPIP, got.encap);
	EXPECT_EQ(0, memcmp(got.mac, n.mac, 6));
	EXPECT_TRUE(got.has_stats);
	EXPECT_EQ(6, got.nstats);
	EXPECT_EQ((uint32_t)self->ifindex, got.ifindex);

	err = node_req(&self->genl, WEFT_CMD_NODE_GET, 0, self->ifindex,
		       &self->n6, &ack, node_cb, &got, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	EXPECT_EQ(AF_INET6, got.family);
	EXPECT_EQ(0, memcmp(got.addr, self->n6.addr, 16));
	EXPECT_EQ(WEFT_ENCAP_VXLAN, got.encap);	/* the default */
	EXPECT_EQ(0, memcmp(got.mac, "\0\0\0\0\0\0", 6));

	err = node_req(&self->genl, WEFT_CMD_NODE_DEL, 0, self->ifindex, &n,
		       &ack, NULL, NULL, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	err = node_req(&self->genl, WEFT_CMD_NODE_GET, 0, self->ifindex, &n,
		       &ack, node_cb, &got, NULL);
	EXPECT_REJECT(err, ack, -ENOENT, 0);
	err = node_req(&self->genl, WEFT_CMD_NODE_DEL, 0, self->ifindex, &n,
		       &ack, NULL, NULL, NULL);
	EXPECT_REJECT(err, ack, -ENOENT, 0);
}

TEST_F(wr, node_dump)
{
	struct node_list *l = calloc(1, sizeof(*l));
	struct nlmsghdr *nlh;
	struct nl_ack ack;
	struct node n[40];
	char s[64], buf[256];
	int i, j, err, found = 0;

	ASSERT_NE(NULL, l);
	for (i = 0; i < 40; i++) {
		snprintf(s, sizeof(s), i % 2 ? "2001:db8::%x" : "198.51.100.%d", i + 1);
		n[i] = i % 2 ? node6(s) : node4(s);
		NODE_ADD_OK(&n[i]);
	}
	err = node_req(&self->genl, WEFT_CMD_NODE_GET, NLM_F_DUMP, self->ifindex,
		       NULL, NULL, node_list_cb, l, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s", strerror(-err));
	EXPECT_EQ(40, l->n);
	for (i = 0; i < 40; i++)
		for (j = 0; j < l->n; j++)
			if (l->nodes[j].family == n[i].family &&
			    !memcmp(l->nodes[j].addr, n[i].addr, alen(n[i].family)))
				found++;
	EXPECT_EQ(40, found);

	/* a dump needs its device (6.1 drops the extack of a dump's start) */
	nlh = genl_req(&self->genl, buf, WEFT_CMD_NODE_GET, NLM_F_DUMP);
	err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
	EXPECT_EQ(-EINVAL, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	free(l);
}

TEST_F(wr, node_replace)
{
	struct node n = self->n4, got;
	struct nl_ack ack;
	int err;

	NODE_ADD_OK(&n);
	n.encap = WEFT_ENCAP_NONE;
	err = node_req(&self->genl, WEFT_CMD_NODE_ADD, 0, self->ifindex, &n,
		       &ack, NULL, NULL, NULL);
	EXPECT_REJECT(err, ack, -EEXIST, 0);
	memcpy(n.mac, "\x02\x11\x22\x33\x44\x55", 6);
	n.has_mac = true;
	/* NLM_F_REPLACE is NLM_F_ROOT to generic netlink: refused */
	err = node_req(&self->genl, WEFT_CMD_NODE_ADD, NLM_F_REPLACE,
		       self->ifindex, &n, &ack, NULL, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	err = node_req(&self->genl, WEFT_CMD_NODE_ADD, REPLACE,
		       self->ifindex, &n, &ack, NULL, NULL, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	err = node_req(&self->genl, WEFT_CMD_NODE_GET, 0, self->ifindex, &n,
		       &ack, node_cb, &got, NULL);
	ASSERT_EQ(0, err);
	EXPECT_EQ(WEFT_ENCAP_NONE, got.encap);
	EXPECT_EQ(0, memcmp(got.mac, n.mac, 6));
}

TEST_F(wr, node_errors)
{
	struct node n = self->n4;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	char buf[256];
	struct nl_ack ack;
	uint32_t offs;
	int err;

	/* neither address */
	n.family = 0;
	err = node_req(&self->genl, WEFT_CMD_NODE_ADD, 0, self->ifindex, &n,
		       &ack, NULL, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	EXPECT_TRUE(ack.has_miss_type);
	EXPECT_EQ((uint32_t)WEFT_NODE_A_ADDR4, ack.miss_type);

	/* both addresses */
	nlh = genl_req(&self->genl, buf, WEFT_CMD_NODE_ADD, 0);
	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->ifindex);
	nest = nl_nest_start(nlh, WEFT_A_NODE);
	mnl_attr_put(nlh, WEFT_NODE_A_ADDR4, 4, self->n4.addr);
	offs = nl_offset(nlh, mnl_nlmsg_get_payload_tail(nlh));
	mnl_attr_put(nlh, WEFT_NODE_A_ADDR6, 16, self->n6.addr);
	mnl_attr_nest_end(nlh, nest);
	err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, offs);

	/* bad encap: the policy's range */
	n = self->n4;
	n.encap = WEFT_ENCAP_MAX + 1;
	err = node_req(&self->genl, WEFT_CMD_NODE_ADD, 0, self->ifindex, &n,
		       &ack, NULL, NULL, NULL);
	EXPECT_REJECT(err, ack, -ERANGE, 0);

	/* multicast VTEP MAC */
	n.encap = -1;
	memcpy(n.mac, "\x01\x00\x5e\x00\x00\x01", 6);
	n.has_mac = true;
	err = node_req(&self->genl, WEFT_CMD_NODE_ADD, 0, self->ifindex, &n,
		       &ack, NULL, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);

	/* multicast underlay address */
	n = node4("224.0.0.1");
	err = node_req(&self->genl, WEFT_CMD_NODE_ADD, 0, self->ifindex, &n,
		       &ack, NULL, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);

	/* nothing was added */
	err = node_req(&self->genl, WEFT_CMD_NODE_GET, 0, self->ifindex,
		       &self->n4, &ack, NULL, NULL, NULL);
	EXPECT_EQ(-ENOENT, err);

	/* no WEFT_A_NODE at all */
	err = node_req(&self->genl, WEFT_CMD_NODE_ADD, 0, self->ifindex, NULL,
		       &ack, NULL, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
}

/* ------------------------------------------------------------ routes */

TEST_F(wr, route_add_get_del)
{
	struct route r[4] = {
		route_of("10.1.0.0", 16, &self->n4),
		route_of("10.1.2.0", 24, &self->n6),
		route_of("0.0.0.0", 0, &self->n4),
		route_of("fd00:1::", 64, &self->n6),
	};
	struct route more[2] = {
		route_of("fd00:1::", 48, &self->n4),
		route_of("fd00:1::1", 128, &self->n4),
	};
	struct route_list l;
	struct nl_ack ack;
	int err, i;

	ASSERT_TRUE(route_list_init(&l, 16));
	NODE_ADD_OK(&self->n4);
	NODE_ADD_OK(&self->n6);
	err = route_bulk(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, r,
			 4, &ack, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	for (i = 0; i < 2; i++) {
		err = route_one(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex,
				&more[i], &ack, NULL);
		ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	}

	/* exact GET: every route, and a neighbour that is not there */
	for (i = 0; i < 6; i++) {
		struct route *x = i < 4 ? &r[i] : &more[i - 4];
		struct route got;

		l.n = 0;
		err = route_one(&self->genl, WEFT_CMD_ROUTE_GET, 0, self->ifindex,
				x, &ack, NULL);
		EXPECT_EQ(0, err) TH_LOG("GET %d: %s; %s", i, strerror(-err), ack_msg(&ack));
		{
			char buf[512];
			struct nlmsghdr *nlh = genl_req(&self->genl, buf,
							WEFT_CMD_ROUTE_GET, 0);

			mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->ifindex);
			put_route(nlh, x, false);
			err = nl_transact(&self->genl, nlh, &ack, route_list_cb, &l);
		}
		ASSERT_EQ(0, err);
		ASSERT_EQ(1, l.n);
		got = l.r[0];
		EXPECT_EQ(0, route_cmp(&got, x)) TH_LOG("GET %d returned another route", i);
	}
	{
		struct route none = route_of("10.1.0.0", 17, NULL);

		err = route_one(&self->genl, WEFT_CMD_ROUTE_GET, 0, self->ifindex,
				&none, &ack, NULL);
		EXPECT_REJECT(err, ack, -ENOENT, 0);
		none = route_of("fd00:1::", 63, NULL);
		err = route_one(&self->genl, WEFT_CMD_ROUTE_GET, 0, self->ifindex,
				&none, &ack, NULL);
		EXPECT_REJECT(err, ack, -ENOENT, 0);
	}

	/* dump: both families */
	err = route_dump(&self->genl, self->ifindex, &l);
	ASSERT_EQ(0, err);
	EXPECT_EQ(6, l.n);
	EXPECT_FALSE(l.intr);

	/* adding again: EEXIST; WEFT_A_REPLACE moves it to the other node */
	err = route_one(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex,
			&r[0], &ack, NULL);
	EXPECT_REJECT(err, ack, -EEXIST, 0);
	{
		struct route x = route_of("10.1.0.0", 16, &self->n6);

		err = route_one(&self->genl, WEFT_CMD_ROUTE_ADD, REPLACE,
				self->ifindex, &x, &ack, NULL);
		EXPECT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	}

	/* DEL, then DEL again */
	err = route_bulk(&self->genl, WEFT_CMD_ROUTE_DEL, 0, self->ifindex, r,
			 4, &ack, NULL);
	EXPECT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	err = route_one(&self->genl, WEFT_CMD_ROUTE_DEL, 0, self->ifindex,
			&r[1], &ack, NULL);
	EXPECT_REJECT(err, ack, -ENOENT, 0);
	err = route_dump(&self->genl, self->ifindex, &l);
	ASSERT_EQ(0, err);
	EXPECT_EQ(2, l.n);
	free(l.r);
}

TEST_F(wr, route_errors)
{
	struct route r = route_of("10.1.2.0", 16, &self->n4);	/* host bits */
	struct node ghost = node4("192.0.2.99");
	struct nl_ack ack;
	uint32_t offs;
	int err;

	NODE_ADD_OK(&self->n4);
	err = route_one(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, &r,
			&ack, &offs);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	EXPECT_TRUE(ack.has_offs);
	EXPECT_LT(offs, ack.offs);	/* inside the nest: the prefix */

	r = route_of("fd00::1", 64, &self->n4);
	err = route_one(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, &r,
			&ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);

	/* unknown node: ENOENT pointing at WEFT_ROUTE_A_NODE4 */
	r = route_of("10.1.0.0", 16, &ghost);
	err = route_one(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, &r,
			&ack, &offs);
	EXPECT_REJECT(err, ack, -ENOENT, 0);
	EXPECT_TRUE(ack.has_offs);
	/* nest header + family + prefix + prefixlen, then the node */
	EXPECT_EQ(offs + 4 + 8 + 8 + 8, ack.offs);

	/* no node */
	r = route_of("10.1.0.0", 16, NULL);
	err = route_one(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, &r,
			&ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);

	/* prefix length beyond the family */
	r = route_of("10.0.0.0", 33, &self->n4);
	err = route_one(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, &r,
			&ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);

	/* a node attribute in a DEL is not accepted */
	r = route_of("10.1.0.0", 16, &self->n4);
	{
		char buf[256];
		struct nlmsghdr *nlh = genl_req(&self->genl, buf, WEFT_CMD_ROUTE_DEL, 0);

		mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->ifindex);
		put_route(nlh, &r, true);
		err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
		EXPECT_REJECT(err, ack, -EINVAL, 0);
	}

	/* no route at all */
	{
		char buf[256];
		struct nlmsghdr *nlh = genl_req(&self->genl, buf, WEFT_CMD_ROUTE_ADD, 0);

		mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->ifindex);
		err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
		EXPECT_REJECT(err, ack, -EINVAL, 0);
		EXPECT_TRUE(ack.has_miss_type);
		EXPECT_EQ((uint32_t)WEFT_A_ROUTE, ack.miss_type);
	}
}

/* A bulk request stops at its first bad route; the ones before it stay. */
TEST_F(wr, route_bulk_partial)
{
	struct node ghost = node6("2001:db8::99");
	struct route r[3] = {
		route_of("10.2.0.0", 16, &self->n4),
		route_of("10.3.0.0", 16, &ghost),
		route_of("10.4.0.0", 16, &self->n4),
	};
	struct route_list l;
	struct nl_ack ack;
	int err;

	ASSERT_TRUE(route_list_init(&l, 16));
	NODE_ADD_OK(&self->n4);
	err = route_bulk(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, r,
			 3, &ack, NULL);
	EXPECT_REJECT(err, ack, -ENOENT, 0);
	err = route_dump(&self->genl, self->ifindex, &l);
	ASSERT_EQ(0, err);
	ASSERT_EQ(1, l.n);
	EXPECT_EQ(0, route_cmp(&l.r[0], &r[0]));
	free(l.r);
}

TEST_F(wr, node_del_removes_routes)
{
	struct node other = node4("192.0.2.2");
	struct node nodes[2] = { self->n4, other };
	struct route *r = make_routes(2000, 0, nodes, 2);
	struct route_list l;
	struct nl_ack ack;
	int err, i, k = 0;

	ASSERT_NE(NULL, r);
	ASSERT_TRUE(route_list_init(&l, 4000));
	NODE_ADD_OK(&self->n4);
	NODE_ADD_OK(&other);
	err = route_bulk(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, r,
			 2000, &ack, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	err = node_req(&self->genl, WEFT_CMD_NODE_DEL, 0, self->ifindex,
		       &self->n4, &ack, NULL, NULL, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	err = route_dump(&self->genl, self->ifindex, &l);
	ASSERT_EQ(0, err);
	for (i = 0; i < 2000; i++)
		if (!memcmp(r[i].node, other.addr, 4))
			r[k++] = r[i];
	ASSERT_EQ(k, l.n);
	EXPECT_EQ(0, memcmp(r, l.r, k * sizeof(*r)));
	free(r);
	free(l.r);
}

TEST_F(wr, route_bulk_130k)
{
	struct node nodes[4] = {
		self->n4, self->n6, node4("192.0.2.2"), node6("2001:db8::2"),
	};
	struct route *r = make_routes(BULK_ROUTES, 0, nodes, 4);
	struct route_list l;
	struct nl_ack ack;
	struct timespec t0, t1, t2;
	int err, i, done;

	ASSERT_NE(NULL, r);
	ASSERT_TRUE(route_list_init(&l, BULK_ROUTES + 1));
	for (i = 0; i < 4; i++)
		NODE_ADD_OK(&nodes[i]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = route_bulk(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, r,
			 BULK_ROUTES, &ack, &done);
	ASSERT_EQ(0, err) TH_LOG("after %d: %s; %s", done, strerror(-err), ack_msg(&ack));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	err = route_dump(&self->genl, self->ifindex, &l);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	ASSERT_EQ(0, err) TH_LOG("%s", strerror(-err));
	EXPECT_FALSE(l.intr);
	ASSERT_EQ(BULK_ROUTES, l.n);
	EXPECT_EQ(0, memcmp(r, l.r, BULK_ROUTES * sizeof(*r)));
	TH_LOG("%d routes: add %.2f s, dump %.2f s", BULK_ROUTES,
	       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       t2.tv_sec - t1.tv_sec + (t2.tv_nsec - t1.tv_nsec) / 1e9);
	free(r);
	free(l.r);
}

struct churn {
	int ifindex;
	const struct route *r;
	int n;
	volatile bool stop;
	int rounds;
	int err;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	struct nl nl;
	int err;

	err = weft_genl_open(&nl);
	if (err) {
		c->err = err;
		return NULL;
	}
	while (!c->stop) {
		err = route_bulk(&nl, WEFT_CMD_ROUTE_ADD, 0, c->ifindex, c->r,
				 c->n, NULL, NULL);
		if (!err)
			err = route_bulk(&nl, WEFT_CMD_ROUTE_DEL, 0, c->ifindex,
					 c->r, c->n, NULL, NULL);
		if (err) {
			c->err = err;
			break;
		}
		c->rounds++;
		/* quiet spells: some dumps should come through unflagged */
		usleep(300000);
	}
	nl_close(&nl);
	return NULL;
}

/*
 * Dumps while another thread adds and removes routes: a dump without
 * NLM_F_DUMP_INTR is a snapshot (every stable route once, churned ones a
 * subset); once the churn stops, a dump is exact and not flagged.
 */
TEST_F(wr, route_dump_consistency)
{
	struct node nodes[2] = { self->n4, self->n6 };
	struct route *stable = make_routes(20000, 0, nodes, 2);
	struct route *moving = make_routes(2000, 0x10000, nodes, 2);
	struct churn c = { .ifindex = self->ifindex, .r = moving, .n = 2000 };
	struct route_list l;
	struct nl_ack ack;
	pthread_t th;
	int err, i, j, dumps = 0, intr = 0, clean = 0, bad = 0;
	time_t end;

	ASSERT_NE(NULL, stable);
	ASSERT_NE(NULL, moving);
	ASSERT_TRUE(route_list_init(&l, 30000));
	NODE_ADD_OK(&self->n4);
	NODE_ADD_OK(&self->n6);
	err = route_bulk(&self->genl, WEFT_CMD_ROUTE_ADD, 0, self->ifindex,
			 stable, 20000, &ack, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));

	ASSERT_EQ(0, pthread_create(&th, NULL, churn_thread, &c));
	end = time(NULL) + 10;
	while (time(NULL) < end && (dumps < 5 || !intr || !clean)) {
		err = route_dump(&self->genl, self->ifindex, &l);
		if (err)
			break;
		dumps++;
		if (l.intr) {
			intr++;
			continue;
		}
		clean++;
		/* merge-compare: stable exactly once, the rest from moving */
		for (i = j = 0; i < l.n; i++) {
			if (j < 20000 && !route_cmp(&l.r[i], &stable[j])) {
				j++;
				continue;
			}
			if (!bsearch(&l.r[i], moving, 2000, sizeof(*moving), route_cmp) ||
			    (i && !route_cmp(&l.r[i], &l.r[i - 1])))
				break;
		}
		if (i != l.n || j != 20000)
			bad++;
	}
	c.stop = true;
	pthread_join(th, NULL);
	ASSERT_EQ(0, err) TH_LOG("dump: %s", strerror(-err));
	ASSERT_EQ(0, c.err) TH_LOG("churn: %s", strerror(-c.err));
	EXPECT_EQ(0, bad) TH_LOG("%d of %d unflagged dumps were not snapshots", bad, dumps);
	TH_LOG("%d dumps: %d flagged NLM_F_DUMP_INTR, %d snapshots; %d churn rounds",
	       dumps, intr, clean, c.rounds);

	/* quiet: the moving routes are gone again, the dump is exact */
	err = route_dump(&self->genl, self->ifindex, &l);
	ASSERT_EQ(0, err);
	EXPECT_FALSE(l.intr);
	ASSERT_EQ(20000, l.n);
	EXPECT_EQ(0, memcmp(stable, l.r, 20000 * sizeof(*stable)));
	free(stable);
	free(moving);
	free(l.r);
}

TEST_F(wr, perm_unprivileged_user)
{
	char *msg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct route r = route_of("10.9.0.0", 16, &self->n4);
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, msg);
	msg[0] = 0;
	NODE_ADD_OK(&self->n4);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct node_list l = {};
		struct nl_ack ack;
		struct nl g;
		int err;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534)) {
			snprintf(msg, 4096, "setresuid: %s", strerror(errno));
			_exit(1);
		}
		if (weft_genl_open(&g)) {
			snprintf(msg, 4096, "genl socket failed");
			_exit(1);
		}
		err = node_req(&g, WEFT_CMD_NODE_ADD, 0, self->ifindex,
			       &self->n6, &ack, NULL, NULL, NULL);
		if (err != -EPERM) {
			snprintf(msg, 4096, "NODE_ADD: %s", strerror(-err));
			_exit(1);
		}
		err = node_req(&g, WEFT_CMD_NODE_DEL, 0, self->ifindex,
			       &self->n4, &ack, NULL, NULL, NULL);
		if (err != -EPERM) {
			snprintf(msg, 4096, "NODE_DEL: %s", strerror(-err));
			_exit(1);
		}
		err = route_one(&g, WEFT_CMD_ROUTE_ADD, 0, self->ifindex, &r,
				&ack, NULL);
		if (err != -EPERM) {
			snprintf(msg, 4096, "ROUTE_ADD: %s", strerror(-err));
			_exit(1);
		}
		err = route_one(&g, WEFT_CMD_ROUTE_DEL, 0, self->ifindex, &r,
				&ack, NULL);
		if (err != -EPERM) {
			snprintf(msg, 4096, "ROUTE_DEL: %s", strerror(-err));
			_exit(1);
		}
		err = node_req(&g, WEFT_CMD_NODE_GET, NLM_F_DUMP, self->ifindex,
			       NULL, NULL, node_list_cb, &l, NULL);
		if (err || l.n != 1) {
			snprintf(msg, 4096, "NODE_GET dump: %s, %d nodes",
				 strerror(-err), l.n);
			_exit(1);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("%s", msg);
}

/* Fills weft device ifindex with 100,000 routes over 4 nodes. */
static int fill(struct nl *genl, int ifindex, struct nl_ack *ack)
{
	struct node nodes[4] = {
		node4("192.0.2.1"), node6("2001:db8::1"),
		node4("192.0.2.2"), node6("2001:db8::2"),
	};
	struct route *r = make_routes(TEARDOWN_ROUTES, 0, nodes, 4);
	int i, err = r ? 0 : -ENOMEM;

	for (i = 0; i < 4 && !err; i++)
		err = node_req(genl, WEFT_CMD_NODE_ADD, 0, ifindex, &nodes[i],
			       ack, NULL, NULL, NULL);
	if (!err)
		err = route_bulk(genl, WEFT_CMD_ROUTE_ADD, 0, ifindex, r,
				 TEARDOWN_ROUTES, ack, NULL);
	free(r);
	return err;
}

TEST_F(wr, teardown_device)
{
	struct nl_ack ack;
	int err, base, v;

	base = debug_objects();
	ASSERT_LE(0, base);
	err = fill(&self->genl, self->ifindex, &ack);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	EXPECT_LE(TEARDOWN_ROUTES + 4, debug_objects());
	ASSERT_EQ(0, rtnl_link_del(&self->rtnl, self->ifindex));
	v = wait_objects(base - 1);
	EXPECT_GT(base, v) TH_LOG("%d objects live, %d before (weft0 included)", v, base);
}

TEST_F(wr, teardown_netns)
{
	struct nl_ack ack;
	int base, v, status;
	pid_t pid;

	/* weft0 of the fixture stays; the child's netns holds the routes */
	base = debug_objects();
	ASSERT_LE(0, base);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct nl rt, g;
		int ifindex;

		if (unshare(CLONE_NEWNET) || nl_open(&rt, NETLINK_ROUTE) ||
		    weft_genl_open(&g) || rtnl_link_add(&rt, "weft1", "weft", &ack))
			_exit(1);
		ifindex = rtnl_ifindex(&rt, "weft1");
		if (ifindex <= 0 || fill(&g, ifindex, &ack))
			_exit(2);
		if (debug_objects() < TEARDOWN_ROUTES + 5)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	v = wait_objects(base);
	EXPECT_GE(base, v) TH_LOG("%d objects live, %d before", v, base);
}

TEST_HARNESS_MAIN
