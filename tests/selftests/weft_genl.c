// SPDX-License-Identifier: GPL-2.0
/*
 * weft_genl: selftests of the "weft" generic netlink family (uapi/linux/weft.h).
 *
 * Every test runs in a fresh network namespace holding one weft device,
 * weft0, created through rtnetlink (RTM_NEWLINK, IFLA_INFO_KIND "weft").
 *
 *   weft.*          DEV_GET / DEV_SET behaviour, header checks, permissions
 *   validation.*    one variant per malformed request: exact errno, extack
 *                   message, offending attribute offset or missing type
 *   dump.*          large dumps split over several buffers, and dump
 *                   consistency (NLM_F_DUMP_INTR) while devices come and go
 *
 * The weft module must be loaded. Run as root (in the VM: tests/vm/run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
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
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "weft_nl.h"
/* the 6.1 harness has an unused parameter in its signal handler */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

/*
 * 30 s is short on a KASAN kernel under TCG: the netns of a 400-device
 * test is still being torn down (under RTNL) when the next test starts.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

#define BIT(x) (1u << (x))
#define HAS(d, t) (((d)->present & BIT(t)) != 0)
#define RW_SETTINGS (BIT(WEFT_DEV_A_VNI) | BIT(WEFT_DEV_A_PORT) | \
		     BIT(WEFT_DEV_A_LOCAL4) | BIT(WEFT_DEV_A_LOCAL6) | \
		     BIT(WEFT_DEV_A_UNDERLAY) | BIT(WEFT_DEV_A_VTEP_MAC) | \
		     BIT(WEFT_DEV_A_CROSSSUBNET))

/* ------------------------------------------------------------ helpers */

struct settings {
	uint32_t mask;		/* BIT(WEFT_DEV_A_*) of the settings to send */
	uint32_t vni;
	uint16_t port;
	uint8_t local4[4];
	uint8_t local6[16];
	uint32_t underlay;
	uint8_t mac[6];
	uint8_t cross;
	bool reverse;		/* put the attributes in descending type order */
};

/*
 * DEV_SET; offs (may be NULL) receives each setting's attribute offset so
 * that a test can check NLMSGERR_ATTR_OFFS.
 */
static int dev_set(struct nl *nl, int ifindex, const char *name,
		   const struct settings *s, struct nl_ack *ack, uint32_t *offs)
{
	char buf[1024];
	struct nlmsghdr *nlh = genl_req(nl, buf, WEFT_CMD_DEV_SET, 0);
	struct nlattr *nest;
	int i;

	if (ifindex > 0)
		mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, ifindex);
	if (name)
		mnl_attr_put_strz(nlh, WEFT_A_IFNAME, name);
	nest = nl_nest_start(nlh, WEFT_A_DEV);
	for (i = 0; i <= WEFT_DEV_A_MAX; i++) {
		int t = s->reverse ? WEFT_DEV_A_MAX - i : i;

		if (!(s->mask & BIT(t)))
			continue;
		if (offs)
			offs[t] = nl_offset(nlh, mnl_nlmsg_get_payload_tail(nlh));
		switch (t) {
		case WEFT_DEV_A_VNI:
			mnl_attr_put_u32(nlh, t, s->vni);
			break;
		case WEFT_DEV_A_PORT:
			mnl_attr_put_u16(nlh, t, s->port);
			break;
		case WEFT_DEV_A_LOCAL4:
			mnl_attr_put(nlh, t, 4, s->local4);
			break;
		case WEFT_DEV_A_LOCAL6:
			mnl_attr_put(nlh, t, 16, s->local6);
			break;
		case WEFT_DEV_A_UNDERLAY:
			mnl_attr_put_u32(nlh, t, s->underlay);
			break;
		case WEFT_DEV_A_VTEP_MAC:
			mnl_attr_put(nlh, t, 6, s->mac);
			break;
		case WEFT_DEV_A_CROSSSUBNET:
			mnl_attr_put_u8(nlh, t, s->cross);
			break;
		}
	}
	mnl_attr_nest_end(nlh, nest);
	return nl_transact(nl, nlh, ack, NULL, NULL);
}

static const char *ack_msg(const struct nl_ack *a)
{
	return a->has_msg ? a->msg : "(no extack message)";
}

/* The settings of a device equal, generation aside. */
static bool same_settings(const struct weft_dev *a, const struct weft_dev *b,
			  char *why, size_t len)
{
	uint32_t pa = a->present & ~BIT(WEFT_DEV_A_GENERATION);
	uint32_t pb = b->present & ~BIT(WEFT_DEV_A_GENERATION);

	if (pa != pb)
		return snprintf(why, len, "attributes present %#x vs %#x", pa, pb), false;
	if (a->vni != b->vni)
		return snprintf(why, len, "vni %u vs %u", a->vni, b->vni), false;
	if (a->port != b->port)
		return snprintf(why, len, "port %u vs %u", a->port, b->port), false;
	if (memcmp(a->local4, b->local4, 4))
		return snprintf(why, len, "local4 differs"), false;
	if (memcmp(a->local6, b->local6, 16))
		return snprintf(why, len, "local6 differs"), false;
	if (a->underlay != b->underlay)
		return snprintf(why, len, "underlay %u vs %u", a->underlay, b->underlay), false;
	if (memcmp(a->vtep_mac, b->vtep_mac, 6))
		return snprintf(why, len, "vtep_mac differs"), false;
	if (a->crosssubnet != b->crosssubnet)
		return snprintf(why, len, "crosssubnet %u vs %u", a->crosssubnet,
				b->crosssubnet), false;
	if (a->mtu != b->mtu)
		return snprintf(why, len, "mtu %u vs %u", a->mtu, b->mtu), false;
	return true;
}

/* Apply what a SET of s should have done to the view d. */
static void apply_settings(struct weft_dev *d, const struct settings *s)
{
	static const uint8_t zero[16];

	if (s->mask & BIT(WEFT_DEV_A_VNI))
		d->vni = s->vni;
	if (s->mask & BIT(WEFT_DEV_A_PORT))
		d->port = s->port;
	if (s->mask & BIT(WEFT_DEV_A_LOCAL4))
		memcpy(d->local4, s->local4, 4);
	if (s->mask & BIT(WEFT_DEV_A_LOCAL6))
		memcpy(d->local6, s->local6, 16);
	if (s->mask & BIT(WEFT_DEV_A_UNDERLAY))
		d->underlay = s->underlay;
	if (s->mask & BIT(WEFT_DEV_A_VTEP_MAC))
		memcpy(d->vtep_mac, s->mac, 6);
	if (s->mask & BIT(WEFT_DEV_A_CROSSSUBNET))
		d->crosssubnet = s->cross;
	d->present |= s->mask;
	/* a cleared address may be reported as absent or as zeros */
	if ((s->mask & BIT(WEFT_DEV_A_LOCAL4)) && !memcmp(s->local4, zero, 4))
		d->present &= ~BIT(WEFT_DEV_A_LOCAL4);
	if ((s->mask & BIT(WEFT_DEV_A_LOCAL6)) && !memcmp(s->local6, zero, 16))
		d->present &= ~BIT(WEFT_DEV_A_LOCAL6);
	if ((s->mask & BIT(WEFT_DEV_A_UNDERLAY)) && !s->underlay)
		d->present &= ~BIT(WEFT_DEV_A_UNDERLAY);
	/* With an underlay device (the tests' veths have MTU 1500) the MTU
	 * follows it: minus 50 for VXLAN over IPv4, 70 with an IPv6 local
	 * address; every SET re-applies it.
	 */
	if (d->underlay)
		d->mtu = 1500 - (memcmp(d->local6, zero, 16) ? 70 : 50);
}

/* Treat "reported as zero" like "not reported" for the optional settings. */
static void normalize(struct weft_dev *d)
{
	static const uint8_t zero[16];

	if (!memcmp(d->local4, zero, 4))
		d->present &= ~BIT(WEFT_DEV_A_LOCAL4);
	if (!memcmp(d->local6, zero, 16))
		d->present &= ~BIT(WEFT_DEV_A_LOCAL6);
	if (!d->underlay)
		d->present &= ~BIT(WEFT_DEV_A_UNDERLAY);
}

static int get_norm(struct nl *nl, int ifindex, struct weft_dev *d,
		    struct nl_ack *ack)
{
	int err = weft_dev_get(nl, ifindex, NULL, d, ack);

	if (!err)
		normalize(d);
	return err;
}

#define GET_OK(ifindex, d) do { \
	struct nl_ack _a; \
	int _e = get_norm(&self->genl, (ifindex), (d), &_a); \
	ASSERT_EQ(0, _e) \
		TH_LOG("DEV_GET %d: %s; %s; %s", (int)(ifindex), strerror(-_e), \
		       ack_msg(&_a), (d)->err); \
} while (0)

#define SET_OK(s) do { \
	struct nl_ack _a; \
	int _e = dev_set(&self->genl, self->ifindex, NULL, (s), &_a, NULL); \
	ASSERT_EQ(0, _e) \
		TH_LOG("DEV_SET: %s; %s", strerror(-_e), ack_msg(&_a)); \
} while (0)

/* Expect err, a message, and (if offs) the offending attribute's offset. */
#define EXPECT_REJECT(e, a, err, off_) do { \
	ASSERT_EQ(err, e) \
		TH_LOG("expected %s, got %s; %s", strerror(-(err)), \
		       strerror(-(e)), ack_msg(&(a))); \
	EXPECT_TRUE((a).has_msg && (a).msg[0]) \
		TH_LOG("no extack message with %s", strerror(-(err))); \
	if (off_) { \
		EXPECT_TRUE((a).has_offs) TH_LOG("no NLMSGERR_ATTR_OFFS (%s)", ack_msg(&(a))); \
		if ((a).has_offs) \
			EXPECT_EQ((uint32_t)(off_), (a).offs) \
				TH_LOG("extack points at offset %u, offending attribute at %u", \
				       (a).offs, (uint32_t)(off_)); \
	} \
} while (0)

/* ------------------------------------------------------------ fixture */

FIXTURE(weft) {
	struct nl genl;
	struct nl rtnl;
	int ifindex;		/* weft0 */
};

FIXTURE_SETUP(weft)
{
	struct nl_ack ack;
	int err;

	self->genl.fd = self->rtnl.fd = -1;
	ASSERT_EQ(0, unshare(CLONE_NEWNET)) TH_LOG("unshare: %s", strerror(errno));
	ASSERT_EQ(0, nl_open(&self->rtnl, NETLINK_ROUTE));
	err = weft_genl_open(&self->genl);
	ASSERT_EQ(0, err)
		TH_LOG("generic netlink family \"weft\": %s (module not loaded?)",
		       strerror(-err));
	err = rtnl_link_add(&self->rtnl, "weft0", "weft", &ack);
	ASSERT_EQ(0, err)
		TH_LOG("RTM_NEWLINK kind weft: %s; %s", strerror(-err), ack_msg(&ack));
	self->ifindex = rtnl_ifindex(&self->rtnl, "weft0");
	ASSERT_LT(0, self->ifindex);
}

FIXTURE_TEARDOWN(weft)
{
	nl_close(&self->genl);
	nl_close(&self->rtnl);
}

/* ------------------------------------------------------------ DEV_GET */

TEST_F(weft, dev_get_by_ifindex)
{
	struct weft_dev d;

	GET_OK(self->ifindex, &d);
	EXPECT_TRUE(d.has_ifindex);
	EXPECT_EQ((uint32_t)self->ifindex, d.ifindex);
	EXPECT_TRUE(d.has_ifname);
	EXPECT_STREQ("weft0", d.ifname);
	EXPECT_TRUE(d.has_dev);
	EXPECT_TRUE(d.has_stats);
}

TEST_F(weft, dev_get_by_name)
{
	struct nl_ack ack;
	struct weft_dev d;
	int err;

	err = weft_dev_get(&self->genl, 0, "weft0", &d, &ack);
	ASSERT_EQ(0, err) TH_LOG("%s; %s; %s", strerror(-err), ack_msg(&ack), d.err);
	EXPECT_EQ((uint32_t)self->ifindex, d.ifindex);
	EXPECT_STREQ("weft0", d.ifname);
	EXPECT_TRUE(d.has_dev);
}

TEST_F(weft, dev_get_both_agree)
{
	struct nl_ack ack;
	struct weft_dev d;
	int err;

	err = weft_dev_get(&self->genl, self->ifindex, "weft0", &d, &ack);
	ASSERT_EQ(0, err) TH_LOG("%s; %s; %s", strerror(-err), ack_msg(&ack), d.err);
	EXPECT_EQ((uint32_t)self->ifindex, d.ifindex);
	EXPECT_STREQ("weft0", d.ifname);
}

TEST_F(weft, dev_get_both_disagree)
{
	struct nl_ack ack;
	struct weft_dev d;
	int err;

	ASSERT_EQ(0, rtnl_link_add(&self->rtnl, "weft1", "weft", NULL));
	err = weft_dev_get(&self->genl, self->ifindex, "weft1", &d, &ack);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	/* a name that does not exist at all, with a valid ifindex */
	err = weft_dev_get(&self->genl, self->ifindex, "nosuchdev", &d, &ack);
	EXPECT_TRUE(err == -EINVAL || err == -ENODEV)
		TH_LOG("ifindex of weft0 with name nosuchdev: %s", strerror(-err));
}

TEST_F(weft, dev_get_unknown_ifindex)
{
	struct nl_ack ack;
	struct weft_dev d;
	int err;

	err = weft_dev_get(&self->genl, 4242, NULL, &d, &ack);
	EXPECT_REJECT(err, ack, -ENODEV, 0);
}

TEST_F(weft, dev_get_unknown_name)
{
	struct nl_ack ack;
	struct weft_dev d;
	int err;

	err = weft_dev_get(&self->genl, 0, "nosuchdev", &d, &ack);
	EXPECT_REJECT(err, ack, -ENODEV, 0);
}

TEST_F(weft, dev_get_not_weft)
{
	struct nl_ack ack;
	struct weft_dev d;
	int err, veth;

	err = weft_dev_get(&self->genl, 1, NULL, &d, &ack);	/* lo */
	EXPECT_REJECT(err, ack, -EOPNOTSUPP, 0);
	err = weft_dev_get(&self->genl, 0, "lo", &d, &ack);
	EXPECT_REJECT(err, ack, -EOPNOTSUPP, 0);

	ASSERT_EQ(0, rtnl_veth_add(&self->rtnl, "veth0", "veth1"));
	veth = rtnl_ifindex(&self->rtnl, "veth0");
	ASSERT_LT(0, veth);
	err = weft_dev_get(&self->genl, veth, NULL, &d, &ack);
	EXPECT_REJECT(err, ack, -EOPNOTSUPP, 0);
	err = weft_dev_get(&self->genl, 0, "veth1", &d, &ack);
	EXPECT_REJECT(err, ack, -EOPNOTSUPP, 0);
}

TEST_F(weft, dev_get_defaults)
{
	static const uint8_t zero[6];
	struct weft_dev d;

	GET_OK(self->ifindex, &d);
	ASSERT_TRUE(d.has_dev);
	EXPECT_TRUE(HAS(&d, WEFT_DEV_A_VNI));
	EXPECT_EQ((uint32_t)WEFT_DEFAULT_VNI, d.vni);
	EXPECT_TRUE(HAS(&d, WEFT_DEV_A_PORT));
	EXPECT_EQ(WEFT_DEFAULT_PORT, d.port);
	EXPECT_TRUE(HAS(&d, WEFT_DEV_A_VTEP_MAC));
	EXPECT_EQ(0, d.vtep_mac[0] & 1) TH_LOG("default VTEP MAC is multicast");
	EXPECT_NE(0, memcmp(d.vtep_mac, zero, 6)) TH_LOG("default VTEP MAC is zero");
	EXPECT_TRUE(HAS(&d, WEFT_DEV_A_CROSSSUBNET));
	EXPECT_EQ(0, d.crosssubnet);
	EXPECT_TRUE(HAS(&d, WEFT_DEV_A_MTU));
	EXPECT_EQ((uint32_t)WEFT_DEFAULT_MTU, d.mtu);
	EXPECT_TRUE(HAS(&d, WEFT_DEV_A_GENERATION));
	/* no underlay, no local addresses on a new device */
	EXPECT_FALSE(HAS(&d, WEFT_DEV_A_UNDERLAY));
	EXPECT_FALSE(HAS(&d, WEFT_DEV_A_LOCAL4));
	EXPECT_FALSE(HAS(&d, WEFT_DEV_A_LOCAL6));
}

TEST_F(weft, dev_get_stats)
{
	uint64_t sum = 0;
	struct weft_dev d;
	int i;

	GET_OK(self->ifindex, &d);
	ASSERT_TRUE(d.has_stats);
	for (i = WEFT_STATS_A_RX_PACKETS; i <= WEFT_STATS_A_TX_DROPS; i++) {
		EXPECT_TRUE((d.stats_present & BIT(i)) != 0) TH_LOG("stats attribute %d missing", i);
		EXPECT_EQ((uint64_t)0, d.stats[i]) TH_LOG("stats attribute %d non-zero on a new device", i);
	}
	EXPECT_TRUE(d.has_drops) TH_LOG("no WEFT_STATS_A_DROPS nest");
	for (i = 1; i <= WEFT_DROP_MAX + 1; i++)
		sum += d.drops[i];
	EXPECT_EQ(d.stats[WEFT_STATS_A_RX_DROPS] + d.stats[WEFT_STATS_A_TX_DROPS], sum);
}

/* Two devices in one netns get distinct VTEP MACs. */
TEST_F(weft, dev_get_distinct_vtep_mac)
{
	struct weft_dev a, b;
	int other;

	ASSERT_EQ(0, rtnl_link_add(&self->rtnl, "weft1", "weft", NULL));
	other = rtnl_ifindex(&self->rtnl, "weft1");
	ASSERT_LT(0, other);
	GET_OK(self->ifindex, &a);
	GET_OK(other, &b);
	EXPECT_NE(0, memcmp(a.vtep_mac, b.vtep_mac, 6));
	EXPECT_STREQ("weft1", b.ifname);
}

/* A socket only sees the weft devices of its own netns. */
TEST_F(weft, dev_get_other_netns)
{
	struct nl rt2, g2;
	struct weft_dev d;
	struct nl_ack ack;
	int err;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, nl_open(&rt2, NETLINK_ROUTE));
	ASSERT_EQ(0, weft_genl_open(&g2));
	ASSERT_EQ(0, rtnl_link_add(&rt2, "weftb", "weft", NULL));
	/* weftb lives in the new netns: invisible to the old socket */
	err = weft_dev_get(&self->genl, 0, "weftb", &d, &ack);
	EXPECT_REJECT(err, ack, -ENODEV, 0);
	err = weft_dev_get(&g2, 0, "weft0", &d, &ack);
	EXPECT_REJECT(err, ack, -ENODEV, 0);
	err = weft_dev_get(&g2, 0, "weftb", &d, &ack);
	EXPECT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	nl_close(&rt2);
	nl_close(&g2);
}

/* ------------------------------------------------------------ DEV_SET */

static void fill_all(struct settings *s, int underlay)
{
	static const uint8_t l6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

	memset(s, 0, sizeof(*s));
	s->mask = RW_SETTINGS;
	s->vni = 4242;
	s->port = 8472;
	inet_pton(AF_INET, "192.0.2.1", s->local4);
	memcpy(s->local6, l6, 16);
	s->underlay = underlay;
	memcpy(s->mac, mac, 6);
	s->cross = 1;
}

TEST_F(weft, dev_set_all)
{
	struct weft_dev before, after, want;
	struct settings s;
	char why[128];
	int veth;

	ASSERT_EQ(0, rtnl_veth_add(&self->rtnl, "veth0", "veth1"));
	veth = rtnl_ifindex(&self->rtnl, "veth0");
	ASSERT_LT(0, veth);
	GET_OK(self->ifindex, &before);
	fill_all(&s, veth);
	SET_OK(&s);
	GET_OK(self->ifindex, &after);
	want = before;
	apply_settings(&want, &s);
	EXPECT_TRUE(same_settings(&want, &after, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(4242u, after.vni);
	EXPECT_EQ(8472, after.port);
	EXPECT_EQ((uint32_t)veth, after.underlay);
	EXPECT_EQ(1, after.crosssubnet);
	EXPECT_LT(before.generation, after.generation);
}

/* Each setting alone: it changes, everything else stays, generation grows. */
TEST_F(weft, dev_set_partial)
{
	struct settings all, s;
	struct weft_dev before, after, want;
	char why[128];
	int veth, t;

	ASSERT_EQ(0, rtnl_veth_add(&self->rtnl, "veth0", "veth1"));
	veth = rtnl_ifindex(&self->rtnl, "veth0");
	fill_all(&all, veth);
	for (t = 1; t <= WEFT_DEV_A_MAX; t++) {
		if (!(RW_SETTINGS & BIT(t)))
			continue;
		s = all;
		s.mask = BIT(t);
		GET_OK(self->ifindex, &before);
		SET_OK(&s);
		GET_OK(self->ifindex, &after);
		want = before;
		apply_settings(&want, &s);
		EXPECT_TRUE(same_settings(&want, &after, why, sizeof(why)))
			TH_LOG("after setting attribute %d alone: %s", t, why);
		EXPECT_LT(before.generation, after.generation)
			TH_LOG("generation did not grow setting attribute %d", t);
	}
}

TEST_F(weft, dev_set_by_name)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_VNI), .vni = 77 };
	struct weft_dev d;
	struct nl_ack ack;
	int err;

	err = dev_set(&self->genl, 0, "weft0", &s, &ack, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	GET_OK(self->ifindex, &d);
	EXPECT_EQ(77u, d.vni);
	/* both given and agreeing */
	s.vni = 78;
	err = dev_set(&self->genl, self->ifindex, "weft0", &s, &ack, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	GET_OK(self->ifindex, &d);
	EXPECT_EQ(78u, d.vni);
}

TEST_F(weft, dev_set_limits)
{
	static const struct { int type; uint32_t v; } ok[] = {
		{ WEFT_DEV_A_VNI, 0 }, { WEFT_DEV_A_VNI, WEFT_VNI_MAX },
		{ WEFT_DEV_A_PORT, 1 }, { WEFT_DEV_A_PORT, 65535 },
		{ WEFT_DEV_A_CROSSSUBNET, 1 }, { WEFT_DEV_A_CROSSSUBNET, 0 },
	};
	struct weft_dev d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		struct settings s = { .mask = BIT(ok[i].type), .vni = ok[i].v,
				      .port = ok[i].v, .cross = ok[i].v };
		uint32_t got;

		SET_OK(&s);
		GET_OK(self->ifindex, &d);
		got = ok[i].type == WEFT_DEV_A_VNI ? d.vni :
		      ok[i].type == WEFT_DEV_A_PORT ? d.port : d.crosssubnet;

		EXPECT_EQ(ok[i].v, got) TH_LOG("attribute %d", ok[i].type);
	}
}

TEST_F(weft, dev_set_generation_monotonic)
{
	uint32_t last;
	struct weft_dev d;
	int i;

	GET_OK(self->ifindex, &d);
	last = d.generation;
	for (i = 0; i < 10; i++) {
		struct settings s = { .mask = BIT(WEFT_DEV_A_VNI), .vni = 100 + i };

		SET_OK(&s);
		GET_OK(self->ifindex, &d);
		EXPECT_LT(last, d.generation);
		last = d.generation;
	}
	/* a GET changes nothing */
	GET_OK(self->ifindex, &d);
	EXPECT_EQ(last, d.generation);
}

TEST_F(weft, dev_set_local4_clear)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_LOCAL4) };
	struct weft_dev d;

	inet_pton(AF_INET, "198.51.100.7", s.local4);
	SET_OK(&s);
	GET_OK(self->ifindex, &d);
	ASSERT_TRUE(HAS(&d, WEFT_DEV_A_LOCAL4));
	EXPECT_EQ(0, memcmp(d.local4, s.local4, 4));
	memset(s.local4, 0, 4);
	SET_OK(&s);
	GET_OK(self->ifindex, &d);
	EXPECT_FALSE(HAS(&d, WEFT_DEV_A_LOCAL4))
		TH_LOG("LOCAL4 0.0.0.0 did not clear it");
}

TEST_F(weft, dev_set_local6_clear)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_LOCAL6) };
	struct weft_dev d;

	inet_pton(AF_INET6, "2001:db8::42", s.local6);
	SET_OK(&s);
	GET_OK(self->ifindex, &d);
	ASSERT_TRUE(HAS(&d, WEFT_DEV_A_LOCAL6));
	EXPECT_EQ(0, memcmp(d.local6, s.local6, 16));
	memset(s.local6, 0, 16);
	SET_OK(&s);
	GET_OK(self->ifindex, &d);
	EXPECT_FALSE(HAS(&d, WEFT_DEV_A_LOCAL6))
		TH_LOG("LOCAL6 :: did not clear it");
}

TEST_F(weft, dev_set_underlay)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_UNDERLAY) };
	struct weft_dev d;
	int veth;

	ASSERT_EQ(0, rtnl_veth_add(&self->rtnl, "veth0", "veth1"));
	veth = rtnl_ifindex(&self->rtnl, "veth0");
	ASSERT_LT(0, veth);
	s.underlay = veth;
	SET_OK(&s);
	GET_OK(self->ifindex, &d);
	EXPECT_EQ((uint32_t)veth, d.underlay);
	s.underlay = 0;
	SET_OK(&s);
	GET_OK(self->ifindex, &d);
	EXPECT_EQ(0u, d.underlay);
}

TEST_F(weft, dev_set_underlay_nonexistent)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_UNDERLAY), .underlay = 4242 };
	uint32_t offs[WEFT_DEV_A_MAX + 1];
	struct nl_ack ack;
	int err;

	err = dev_set(&self->genl, self->ifindex, NULL, &s, &ack, offs);
	EXPECT_REJECT(err, ack, -ENODEV, offs[WEFT_DEV_A_UNDERLAY]);
}

TEST_F(weft, dev_set_underlay_self)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_UNDERLAY) };
	uint32_t offs[WEFT_DEV_A_MAX + 1];
	struct nl_ack ack;
	int err;

	s.underlay = self->ifindex;
	err = dev_set(&self->genl, self->ifindex, NULL, &s, &ack, offs);
	EXPECT_REJECT(err, ack, -EINVAL, offs[WEFT_DEV_A_UNDERLAY]);
}

/*
 * The underlay goes away under the device: the device survives, and
 * reports no underlay rather than a dangling ifindex. (A held reference
 * would also show up as "unregister_netdevice: waiting" in the VM log.)
 */
TEST_F(weft, dev_set_underlay_deleted)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_UNDERLAY) };
	struct weft_dev d;
	int veth;

	ASSERT_EQ(0, rtnl_veth_add(&self->rtnl, "veth0", "veth1"));
	veth = rtnl_ifindex(&self->rtnl, "veth0");
	ASSERT_LT(0, veth);
	s.underlay = veth;
	SET_OK(&s);
	ASSERT_EQ(0, rtnl_link_del(&self->rtnl, veth));
	GET_OK(self->ifindex, &d);
	EXPECT_EQ(0u, d.underlay) TH_LOG("underlay still %u after it was deleted", d.underlay);
}

TEST_F(weft, dev_set_vtep_mac_invalid)
{
	static const uint8_t bad[][6] = {
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },	/* multicast */
		{ 0x03, 0x11, 0x22, 0x33, 0x44, 0x55 },	/* multicast bit */
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },	/* broadcast */
		{ 0, 0, 0, 0, 0, 0 },			/* zero */
	};
	uint32_t offs[WEFT_DEV_A_MAX + 1];
	struct weft_dev before, after;
	struct nl_ack ack;
	char why[128];
	unsigned int i;
	int err;

	GET_OK(self->ifindex, &before);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct settings s = { .mask = BIT(WEFT_DEV_A_VTEP_MAC) };

		memcpy(s.mac, bad[i], 6);
		err = dev_set(&self->genl, self->ifindex, NULL, &s, &ack, offs);
		EXPECT_REJECT(err, ack, -EINVAL, offs[WEFT_DEV_A_VTEP_MAC]);
	}
	GET_OK(self->ifindex, &after);
	EXPECT_TRUE(same_settings(&before, &after, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(before.generation, after.generation);
}

/* One valid and one invalid setting: nothing changes, in either order. */
TEST_F(weft, dev_set_atomic)
{
	struct {
		int bad_type;
		int err;
	} cases[] = {
		{ WEFT_DEV_A_VTEP_MAC, -EINVAL },	/* multicast MAC */
		{ WEFT_DEV_A_UNDERLAY, -ENODEV },	/* no such ifindex */
		{ WEFT_DEV_A_UNDERLAY, -EINVAL },	/* itself */
	};
	uint32_t offs[WEFT_DEV_A_MAX + 1];
	struct weft_dev before, after;
	struct nl_ack ack;
	char why[128];
	unsigned int i;
	int rev, err;

	GET_OK(self->ifindex, &before);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		for (rev = 0; rev < 2; rev++) {
			struct settings s;

			fill_all(&s, 0);
			s.mask &= ~BIT(WEFT_DEV_A_UNDERLAY);
			s.reverse = rev;
			if (cases[i].bad_type == WEFT_DEV_A_VTEP_MAC) {
				s.mac[0] |= 1;
			} else {
				s.mask |= BIT(WEFT_DEV_A_UNDERLAY);
				s.underlay = self->ifindex;
				if (cases[i].err == -ENODEV)
					s.underlay = 4242;
			}
			err = dev_set(&self->genl, self->ifindex, NULL, &s, &ack, offs);
			EXPECT_REJECT(err, ack, cases[i].err, offs[cases[i].bad_type]);
			GET_OK(self->ifindex, &after);
			EXPECT_TRUE(same_settings(&before, &after, why, sizeof(why)))
				TH_LOG("case %u%s: rejected SET changed the device: %s",
				       i, rev ? " reversed" : "", why);
			EXPECT_EQ(before.generation, after.generation);
		}
	}
}

TEST_F(weft, dev_set_not_weft)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_VNI), .vni = 5 };
	struct nl_ack ack;
	int err;

	err = dev_set(&self->genl, 1, NULL, &s, &ack, NULL);
	EXPECT_REJECT(err, ack, -EOPNOTSUPP, 0);
	err = dev_set(&self->genl, 0, "lo", &s, &ack, NULL);
	EXPECT_REJECT(err, ack, -EOPNOTSUPP, 0);
	err = dev_set(&self->genl, 4242, NULL, &s, &ack, NULL);
	EXPECT_REJECT(err, ack, -ENODEV, 0);
	err = dev_set(&self->genl, 0, "nosuchdev", &s, &ack, NULL);
	EXPECT_REJECT(err, ack, -ENODEV, 0);
	ASSERT_EQ(0, rtnl_link_add(&self->rtnl, "weft1", "weft", NULL));
	err = dev_set(&self->genl, self->ifindex, "weft1", &s, &ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
}

/* The read-only MTU follows "ip link set weft0 mtu N". */
TEST_F(weft, dev_mtu_follows_link)
{
	char buf[256];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct weft_dev d;
	struct nl_ack ack;
	int err;

	nlh = nl_req(&self->rtnl, buf, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = self->ifindex;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1400);
	err = nl_transact(&self->rtnl, nlh, &ack, NULL, NULL);
	ASSERT_EQ(0, err) TH_LOG("mtu 1400: %s; %s", strerror(-err), ack_msg(&ack));
	GET_OK(self->ifindex, &d);
	EXPECT_EQ(1400u, d.mtu);

	nlh = nl_req(&self->rtnl, buf, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = self->ifindex;
	mnl_attr_put_u32(nlh, IFLA_MTU, 60);
	err = nl_transact(&self->rtnl, nlh, &ack, NULL, NULL);
	EXPECT_EQ(-EINVAL, err) TH_LOG("mtu 60 below the minimum: %s", strerror(-err));
	GET_OK(self->ifindex, &d);
	EXPECT_EQ(1400u, d.mtu);
}

/* ------------------------------------------------- header and commands */

static int raw_genl(struct nl *nl, uint8_t cmd, uint8_t reserved, uint16_t flags,
		    int ifindex, struct nl_ack *ack)
{
	char buf[256];
	struct nlmsghdr *nlh = genl_req(nl, buf, cmd, flags);
	struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	g->reserved = reserved;
	if (ifindex)
		mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, ifindex);
	return nl_transact(nl, nlh, ack, NULL, NULL);
}

TEST_F(weft, unknown_commands)
{
	static const int cmds[] = {
		WEFT_CMD_UNSPEC, WEFT_CMD_IDENTITY_DEL, WEFT_CMD_IDENTITY_SET,
		WEFT_CMD_POLICY_SET, WEFT_CMD_CT_GET, WEFT_CMD_DROP_EVENT,
		WEFT_CMD_MAX + 1, 255,
	};
	struct nl_ack ack;
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		err = raw_genl(&self->genl, cmds[i], 0, 0, self->ifindex, &ack);
		EXPECT_EQ(-EOPNOTSUPP, err)
			TH_LOG("command %d: %s; %s", cmds[i], strerror(-err), ack_msg(&ack));
		err = raw_genl(&self->genl, cmds[i], 0, NLM_F_DUMP, 0, &ack);
		EXPECT_EQ(-EOPNOTSUPP, err)
			TH_LOG("dump of command %d: %s; %s", cmds[i], strerror(-err),
			       ack_msg(&ack));
	}
}

TEST_F(weft, reserved_nonzero)
{
	struct nl_ack ack;
	int err;

	err = raw_genl(&self->genl, WEFT_CMD_DEV_GET, 1, 0, self->ifindex, &ack);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	err = raw_genl(&self->genl, WEFT_CMD_DEV_GET, 0x80, NLM_F_DUMP, 0, &ack);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	/* and the same header is fine with reserved == 0 */
	err = raw_genl(&self->genl, WEFT_CMD_DEV_GET, 0, 0, self->ifindex, &ack);
	EXPECT_EQ(0, err) TH_LOG("%s", ack_msg(&ack));
}

/* Strict header checks also reject flags that mean nothing to genl. */
TEST_F(weft, nlmsg_flags_reserved)
{
	struct nl_ack ack;
	int err;

	err = raw_genl(&self->genl, WEFT_CMD_DEV_GET, 0, NLM_F_REPLACE,
		       self->ifindex, &ack);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
}

/* ------------------------------------------------------- permissions */

/*
 * The children below report failures through a shared page, because the
 * harness's assertions only work in the test process.
 */
static char *shared_msg(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p[0] = 0;
	return p;
}

#define CHILD_FAIL(msg, ...) do { \
	snprintf(msg, 4096, __VA_ARGS__); \
	_exit(1); \
} while (0)

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -errno;
}

static void drop_to_nobody(char *msg)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		CHILD_FAIL(msg, "dropping to uid 65534: %s", strerror(errno));
	/* keep /proc/self/{uid,gid}_map writable for ourselves */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* unshare(USER|NET) and map uid/gid 0 to outer; 4 = not allowed here */
static void enter_userns(char *msg, uid_t outer)
{
	char map[64];
	int err;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		if (outer && (errno == EPERM || errno == ENOSPC || errno == EACCES)) {
			snprintf(msg, 4096, "unprivileged user namespaces disabled: %s",
				 strerror(errno));
			_exit(4);
		}
		CHILD_FAIL(msg, "unshare(CLONE_NEWUSER|CLONE_NEWNET): %s", strerror(errno));
	}
	snprintf(map, sizeof(map), "0 %u 1", outer);
	err = write_file("/proc/self/setgroups", "deny");
	if (!err)
		err = write_file("/proc/self/uid_map", map);
	if (!err)
		err = write_file("/proc/self/gid_map", map);
	if (err)
		CHILD_FAIL(msg, "writing the id maps: %s", strerror(-err));
}

/* Device visible in the child's netns: GET works, SET is refused. */
static void child_get_set(char *msg, const char *name, int expect_set)
{
	struct settings s = { .mask = BIT(WEFT_DEV_A_VNI), .vni = 99 };
	struct weft_dev d;
	struct nl_ack ack;
	struct nl g;
	int err;

	err = weft_genl_open(&g);
	if (err)
		CHILD_FAIL(msg, "genl socket: %s", strerror(-err));
	err = weft_dev_get(&g, 0, name, &d, &ack);
	if (err)
		CHILD_FAIL(msg, "DEV_GET %s: %s; %s", name, strerror(-err), ack_msg(&ack));
	err = dev_set(&g, 0, name, &s, &ack, NULL);
	if (err != expect_set)
		CHILD_FAIL(msg, "DEV_SET %s: %s, expected %s", name, strerror(-err),
			   strerror(-expect_set));
	err = weft_dev_get(&g, 0, name, &d, &ack);
	if (err || d.vni != WEFT_DEFAULT_VNI)
		CHILD_FAIL(msg, "refused DEV_SET changed the VNI to %u (%s)", d.vni,
			   strerror(-err));
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

TEST_F(weft, perm_unprivileged_user)
{
	char *msg = shared_msg();
	struct weft_dev d;
	pid_t pid;

	ASSERT_NE(NULL, msg);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		drop_to_nobody(msg);
		child_get_set(msg, "weft0", -EPERM);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid)) TH_LOG("%s", msg);
	GET_OK(self->ifindex, &d);
	EXPECT_EQ((uint32_t)WEFT_DEFAULT_VNI, d.vni);
}

/*
 * Create a weft device in the netns of pid, from the test process (root
 * in the initial user namespace), through a socket opened in that netns.
 */
static int create_in_netns(pid_t pid, const char *name)
{
	char path[64];
	int self_ns, ns, err;
	struct nl rt;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	self_ns = open("/proc/self/ns/net", O_RDONLY);
	ns = open(path, O_RDONLY);
	if (self_ns < 0 || ns < 0)
		return -errno;
	if (setns(ns, CLONE_NEWNET))
		return -errno;
	err = nl_open(&rt, NETLINK_ROUTE);
	if (setns(self_ns, CLONE_NEWNET))
		return -errno;
	close(ns);
	close(self_ns);
	if (err)
		return err;
	err = rtnl_link_add(&rt, name, "weft", NULL);
	nl_close(&rt);
	return err;
}

/*
 * A process that made its own user and network namespace: root in there,
 * but not CAP_NET_ADMIN in the initial user namespace.
 */
static void userns_case(struct __test_metadata *_metadata, uid_t outer)
{
	int to_parent[2], to_child[2];
	char *msg = shared_msg();
	char c = 0;
	pid_t pid;
	int ret;

	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct nl_ack ack;
		struct nl rt;
		int err;

		if (outer)
			drop_to_nobody(msg);
		enter_userns(msg, outer);
		err = nl_open(&rt, NETLINK_ROUTE);
		if (err)
			CHILD_FAIL(msg, "rtnetlink socket: %s", strerror(-err));
		err = rtnl_link_add(&rt, "weftu", "weft", &ack);
		if (err != -EPERM)
			CHILD_FAIL(msg, "creating a weft link from a user namespace: %s "
				   "(%s), expected EPERM", strerror(-err), ack_msg(&ack));
		if (rtnl_ifindex(&rt, "weftu") != -ENODEV)
			CHILD_FAIL(msg, "weftu exists after the refused RTM_NEWLINK");
		/* let the parent put a device in here, then try to touch it */
		if (write(to_parent[1], "x", 1) != 1 || read(to_child[0], &c, 1) != 1)
			CHILD_FAIL(msg, "pipe");
		if (c != 'x')
			CHILD_FAIL(msg, "parent could not create a device in the child netns");
		child_get_set(msg, "weftp", -EPERM);
		_exit(0);
	}
	if (read(to_parent[0], &c, 1) == 1) {
		int err = create_in_netns(pid, "weftp");

		if (err)
			TH_LOG("creating weftp in the child's netns: %s", strerror(-err));
		c = err ? 'e' : 'x';
		EXPECT_EQ(1, write(to_child[1], &c, 1));
	}
	ret = wait_child(pid);
	if (ret == 4)
		SKIP(return, "%s", msg);
	EXPECT_EQ(0, ret) TH_LOG("%s", msg);
}

TEST_F(weft, perm_userns_root)
{
	userns_case(_metadata, 0);
}

TEST_F(weft, perm_userns_unprivileged)
{
	userns_case(_metadata, 65534);
}

/* ------------------------------------------------------------ dumps */

#define DUMP_MAX 4096

struct dump {
	int n;
	uint32_t ifindex[DUMP_MAX];
	char name[DUMP_MAX][IFNAMSIZ];
	int recvs;		/* recv() calls that returned data */
	bool intr;		/* NLM_F_DUMP_INTR on some message */
	int intr_at;		/* index of the first such message (n: DONE) */
	int err;
	char why[320];
};

/*
 * One DEV_GET dump through a 32 KiB buffer; pause_us between the recv()
 * calls gives a concurrent writer a window.
 */
static int do_dump(struct nl *nl, struct dump *r, int pause_us)
{
	char *buf = malloc(32768);
	char req[64];
	struct nlmsghdr *nlh = genl_req(nl, req, WEFT_CMD_DEV_GET, NLM_F_DUMP);
	bool done = false;

	r->n = 0;
	r->recvs = 0;
	r->intr = false;
	r->intr_at = -1;
	r->err = 0;
	r->why[0] = 0;
	if (!buf)
		return -ENOMEM;
	if (send(nl->fd, nlh, nlh->nlmsg_len, 0) < 0) {
		free(buf);
		return -errno;
	}
	while (!done) {
		struct nlmsghdr *m;
		ssize_t n;
		int len;

		if (pause_us && r->recvs)
			usleep(pause_us);
		n = recv(nl->fd, buf, 32768, 0);
		if (n < 0) {
			r->err = -errno;
			break;
		}
		r->recvs++;
		len = (int)n;
		for (m = (struct nlmsghdr *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			struct weft_dev d;

			if (m->nlmsg_seq != nlh->nlmsg_seq)
				continue;
			if ((m->nlmsg_flags & NLM_F_DUMP_INTR) && !r->intr) {
				r->intr = true;
				r->intr_at = r->n;
			}
			if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) {
				struct nl_ack ack;

				nl_parse_ack(m, &ack);
				r->err = ack.error;
				if (ack.error)
					snprintf(r->why, sizeof(r->why), "dump error %s; %s",
						 strerror(-ack.error), ack_msg(&ack));
				done = true;
				break;
			}
			if (!(m->nlmsg_flags & NLM_F_MULTI) && !r->why[0])
				snprintf(r->why, sizeof(r->why), "message without NLM_F_MULTI");
			if (weft_parse_dev(m, &d) || !d.has_ifindex || !d.has_ifname ||
			    !d.has_dev || !d.has_stats) {
				if (!r->why[0])
					snprintf(r->why, sizeof(r->why),
						 "incomplete device message: %s", d.err);
				continue;
			}
			if (r->n < DUMP_MAX) {
				r->ifindex[r->n] = d.ifindex;
				memcpy(r->name[r->n], d.ifname, IFNAMSIZ);
				r->n++;
			}
		}
	}
	free(buf);
	return r->err;
}

/* Strictly ascending ifindexes (hence no duplicates); why on failure. */
static bool ascending(struct dump *r)
{
	int i;

	for (i = 1; i < r->n; i++)
		if (r->ifindex[i] <= r->ifindex[i - 1]) {
			snprintf(r->why, sizeof(r->why),
				 "entry %d: ifindex %u after %u (%s after %s)", i,
				 r->ifindex[i], r->ifindex[i - 1], r->name[i],
				 r->name[i - 1]);
			return false;
		}
	return true;
}

static bool contains(const struct dump *r, uint32_t ifindex)
{
	int lo = 0, hi = r->n - 1;

	while (lo <= hi) {	/* r is ascending */
		int mid = (lo + hi) / 2;

		if (r->ifindex[mid] == ifindex)
			return true;
		if (r->ifindex[mid] < ifindex)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* The dump equals the weft links rtnetlink reports (kernel's own view). */
static bool matches_rtnl(struct nl *rt, struct dump *r)
{
	static int links[DUMP_MAX];
	int n = rtnl_links_of_kind(rt, "weft", links, DUMP_MAX), i;

	if (n < 0)
		return snprintf(r->why, sizeof(r->why), "RTM_GETLINK: %s",
				strerror(-n)), false;
	if (n != r->n)
		return snprintf(r->why, sizeof(r->why),
				"dump has %d devices, rtnetlink %d", r->n, n), false;
	for (i = 0; i < n; i++)
		if ((uint32_t)links[i] != r->ifindex[i])
			return snprintf(r->why, sizeof(r->why),
					"entry %d: dump %u, rtnetlink %d", i,
					r->ifindex[i], links[i]), false;
	return true;
}

#define NDEV 400

TEST_F_TIMEOUT(weft, dump_large, 300)
{
	struct dump *r = malloc(sizeof(*r));
	int i, err;

	ASSERT_NE(NULL, r);
	err = rtnl_link_add_batch(&self->rtnl, "wd%d", 0, NDEV, "weft");
	ASSERT_EQ(0, err) TH_LOG("creating %d weft links: %s", NDEV, strerror(-err));
	err = do_dump(&self->genl, r, 0);
	ASSERT_EQ(0, err) TH_LOG("%s", r->why);
	EXPECT_EQ(0, r->why[0]) TH_LOG("%s", r->why);
	EXPECT_EQ(NDEV + 1, r->n);
	EXPECT_LT(1, r->recvs) TH_LOG("%d devices fit in one 32 KiB buffer?", r->n);
	EXPECT_FALSE(r->intr)
		TH_LOG("NLM_F_DUMP_INTR without any change, from message %d of %d",
		       r->intr_at, r->n);
	EXPECT_TRUE(ascending(r)) TH_LOG("%s", r->why);
	EXPECT_TRUE(matches_rtnl(&self->rtnl, r)) TH_LOG("%s", r->why);
	/* names belong to their ifindex */
	for (i = 0; i < r->n; i++) {
		struct weft_dev d;
		struct nl_ack ack;

		if (i % 50)
			continue;
		err = weft_dev_get(&self->genl, r->ifindex[i], NULL, &d, &ack);
		EXPECT_EQ(0, err);
		EXPECT_STREQ(r->name[i], d.ifname);
	}
	TH_LOG("%d devices in %d recv() calls", r->n, r->recvs);
	free(r);
}

/* A dump in a netns without weft devices is empty, not an error. */
TEST_F(weft, dump_empty)
{
	struct dump *r = malloc(sizeof(*r));
	struct nl g;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, weft_genl_open(&g));
	ASSERT_EQ(0, do_dump(&g, r, 0)) TH_LOG("%s", r->why);
	EXPECT_EQ(0, r->n);
	ASSERT_EQ(0, do_dump(&self->genl, r, 0)) TH_LOG("%s", r->why);
	EXPECT_EQ(1, r->n);
	nl_close(&g);
	free(r);
}

/* Until killed: add 16 links, delete them, again, with short pauses. */
static void churn(int rounds_fd)
{
	struct nl rt;
	int round = 0;

	if (nl_open(&rt, NETLINK_ROUTE))
		_exit(1);
	for (;;) {
		char buf[4096];
		int i;

		rtnl_link_add_batch(&rt, "ch%d", 0, 16, "weft");
		usleep(2000);
		/* delete by name, in one batch */
		for (i = 0; i < 16; i++) {
			struct nlmsghdr *nlh = nl_req(&rt, buf, RTM_DELLINK, 0);
			struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
			char name[IFNAMSIZ];

			ifi->ifi_family = AF_UNSPEC;
			snprintf(name, sizeof(name), "ch%d", i);
			mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
			nl_transact(&rt, nlh, NULL, NULL, NULL);
		}
		round++;
		if (write(rounds_fd, &round, sizeof(round)) < 0)
			_exit(1);
		usleep(2000);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define NBASE 300

TEST_F_TIMEOUT(weft, dump_consistency, 300)
{
	struct dump *r = malloc(sizeof(*r));
	static int base[NBASE + 1];
	int dumps = 0, intr = 0, consistent = 0, pause_us = 0, rounds = 0, x;
	int nbase, i, err, pipefd[2];
	double start;
	pid_t pid;

	ASSERT_NE(NULL, r);
	err = rtnl_link_add_batch(&self->rtnl, "wd%d", 0, NBASE, "weft");
	ASSERT_EQ(0, err) TH_LOG("creating %d weft links: %s", NBASE, strerror(-err));
	nbase = rtnl_links_of_kind(&self->rtnl, "weft", base, NBASE + 1);
	ASSERT_EQ(NBASE + 1, nbase);

	ASSERT_EQ(0, pipe2(pipefd, O_NONBLOCK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		churn(pipefd[1]);
	}
	close(pipefd[1]);

	/*
	 * Dump until NLM_F_DUMP_INTR was seen (at least 5 dumps, at most 90 s);
	 * every 10 dumps without it, the reader pauses longer between
	 * buffers so that the churn lands inside a dump.
	 */
	start = now();
	while ((dumps < 5 || !intr || rounds < 3) && now() - start < 90) {
		while (read(pipefd[0], &x, sizeof(x)) == sizeof(x))
			rounds = x;
		err = do_dump(&self->genl, r, pause_us);
		EXPECT_EQ(0, err) TH_LOG("dump %d: %s", dumps, r->why);
		if (err)
			break;
		dumps++;
		if (!intr && !r->intr && dumps % 10 == 0 && pause_us < 64000)
			pause_us = pause_us ? pause_us * 2 : 500;
		if (r->intr) {
			intr++;
			continue;
		}
		/* not interrupted: must be a consistent snapshot */
		consistent++;
		EXPECT_EQ(0, r->why[0]) TH_LOG("dump %d: %s", dumps, r->why);
		EXPECT_TRUE(ascending(r)) TH_LOG("dump %d: %s", dumps, r->why);
		for (i = 0; i < nbase; i++)
			if (!contains(r, base[i]))
				break;
		EXPECT_EQ(nbase, i)
			TH_LOG("dump %d without NLM_F_DUMP_INTR misses ifindex %d "
			       "that existed throughout", dumps, base[i]);
		for (i = 0; i < r->n; i++)
			if (strcmp(r->name[i], "weft0") && strncmp(r->name[i], "wd", 2) &&
			    strncmp(r->name[i], "ch", 2))
				break;
		EXPECT_EQ(r->n, i) TH_LOG("dump %d: unexpected device %s", dumps, r->name[i]);
		if (_metadata->passed == 0)
			break;
	}
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, wait_child(pid)) TH_LOG("churn process did not die of SIGKILL");
	{
		while (read(pipefd[0], &x, sizeof(x)) == sizeof(x))
			rounds = x;
		TH_LOG("%d dumps, %d interrupted, %d consistent; %d churn rounds, "
		       "pause %d us", dumps, intr, consistent, rounds, pause_us);
		EXPECT_LT(0, rounds) TH_LOG("the churn process made no progress");
	}
	EXPECT_LT(0, intr) TH_LOG("no NLM_F_DUMP_INTR in %d dumps under churn", dumps);

	/* quiet again: an exact snapshot */
	ASSERT_EQ(0, do_dump(&self->genl, r, 0)) TH_LOG("%s", r->why);
	EXPECT_FALSE(r->intr)
		TH_LOG("NLM_F_DUMP_INTR without churn, from message %d of %d (%d recvs)",
		       r->intr_at, r->n, r->recvs);
	EXPECT_TRUE(ascending(r)) TH_LOG("%s", r->why);
	EXPECT_TRUE(matches_rtnl(&self->rtnl, r)) TH_LOG("%s", r->why);
	close(pipefd[0]);
	free(r);
}

/* ------------------------------------------------- validation table */

/*
 * One variant per malformed request. The request is: [IFINDEX weft0],
 * [the bad attribute, top level], [WEFT_A_DEV { [bad attribute] }] for a
 * SET; the bad attribute's offset must come back in NLMSGERR_ATTR_OFFS.
 */
FIXTURE(validation) {
	struct nl genl;
	struct nl rtnl;
	int ifindex;
};

FIXTURE_VARIANT(validation) {
	uint8_t cmd;
	bool dump;
	bool no_ifindex;	/* leave WEFT_A_IFINDEX out */
	bool no_dev;		/* SET: leave WEFT_A_DEV out */
	bool has_bad;
	bool nested;		/* the bad attribute goes into WEFT_A_DEV */
	uint16_t type;		/* nla_type of the bad attribute, flags included */
	uint16_t len;
	uint8_t data[40];
	int err;		/* expected, negative */
	const char *msg;	/* expected extack message; NULL: any */
	const char *msg2;	/* an accepted alternative */
	int miss;		/* expected NLMSGERR_ATTR_MISS_TYPE, 0: none */
	int miss2;		/* an accepted alternative */
};

FIXTURE_SETUP(validation)
{
	int err;

	self->genl.fd = self->rtnl.fd = -1;
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, nl_open(&self->rtnl, NETLINK_ROUTE));
	err = weft_genl_open(&self->genl);
	ASSERT_EQ(0, err) TH_LOG("family weft: %s", strerror(-err));
	ASSERT_EQ(0, rtnl_link_add(&self->rtnl, "weft0", "weft", NULL));
	self->ifindex = rtnl_ifindex(&self->rtnl, "weft0");
	ASSERT_LT(0, self->ifindex);
}

FIXTURE_TEARDOWN(validation)
{
	nl_close(&self->genl);
	nl_close(&self->rtnl);
}

#define LEN_MSG		"invalid attribute length"
#define RANGE_MSG	"integer out of range"
#define BIN_MSG		"binary attribute size out of range"
#define POLICY_MSG	"Attribute failed policy validation"
#define UNKNOWN_MSG	"Unknown attribute type"
#define UNSUPP_MSG	"Unsupported attribute"
#define U32(v)		{ (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((v) >> 24) & 0xff }
#define SET		.cmd = WEFT_CMD_DEV_SET
#define GET		.cmd = WEFT_CMD_DEV_GET
#define BAD(t, l)	.has_bad = true, .type = (t), .len = (l)
#define IN_DEV		.nested = true

/* top level */
FIXTURE_VARIANT_ADD(validation, get_ifindex_short) {
	GET, .no_ifindex = true, BAD(WEFT_A_IFINDEX, 2), .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, get_ifindex_long) {
	GET, .no_ifindex = true, BAD(WEFT_A_IFINDEX, 8), .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, set_ifindex_short) {
	SET, .no_ifindex = true, BAD(WEFT_A_IFINDEX, 2), .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, get_ifindex_nested_flag) {
	GET, .no_ifindex = true, BAD(WEFT_A_IFINDEX | NLA_F_NESTED, 4), .data = U32(2),
	.err = -EINVAL, .msg = "NLA_F_NESTED not expected" };
FIXTURE_VARIANT_ADD(validation, get_ifname_no_nul) {
	GET, .no_ifindex = true, BAD(WEFT_A_IFNAME, 5), .data = "weft0",
	.err = -EINVAL, .msg = POLICY_MSG };
FIXTURE_VARIANT_ADD(validation, get_ifname_empty) {
	GET, .no_ifindex = true, BAD(WEFT_A_IFNAME, 0), .err = -EINVAL, .msg = POLICY_MSG };
FIXTURE_VARIANT_ADD(validation, get_ifname_ifnamsiz) {	/* 16 chars: one too many */
	GET, .no_ifindex = true, BAD(WEFT_A_IFNAME, 17), .data = "abcdefghijklmnop",
	.err = -EINVAL, .msg = POLICY_MSG };
FIXTURE_VARIANT_ADD(validation, get_ifname_overlong) {
	GET, .no_ifindex = true, BAD(WEFT_A_IFNAME, 32),
	.data = "abcdefghijklmnopqrstuvwxyz01234", .err = -EINVAL, .msg = POLICY_MSG };
FIXTURE_VARIANT_ADD(validation, set_ifname_no_nul) {
	SET, .no_ifindex = true, BAD(WEFT_A_IFNAME, 5), .data = "weft0",
	.err = -EINVAL, .msg = POLICY_MSG };
FIXTURE_VARIANT_ADD(validation, set_dev_not_nested) {	/* { VNI 1 } without the flag */
	SET, .no_dev = true, BAD(WEFT_A_DEV, 8), .data = { 8, 0, WEFT_DEV_A_VNI, 0, 1, 0, 0, 0 },
	.err = -EINVAL, .msg = "NLA_F_NESTED is missing" };
FIXTURE_VARIANT_ADD(validation, set_dev_truncated) {
	SET, .no_dev = true, BAD(WEFT_A_DEV | NLA_F_NESTED, 2), .err = -ERANGE, .msg = POLICY_MSG };
FIXTURE_VARIANT_ADD(validation, set_stats) {
	SET, BAD(WEFT_A_STATS | NLA_F_NESTED, 0), .err = -EINVAL };
FIXTURE_VARIANT_ADD(validation, set_node) {
	SET, BAD(WEFT_A_NODE | NLA_F_NESTED, 0), .err = -EINVAL,
	.msg = UNSUPP_MSG, .msg2 = UNKNOWN_MSG };
FIXTURE_VARIANT_ADD(validation, set_route) {
	SET, BAD(WEFT_A_ROUTE | NLA_F_NESTED, 0), .err = -EINVAL,
	.msg = UNSUPP_MSG, .msg2 = UNKNOWN_MSG };
FIXTURE_VARIANT_ADD(validation, set_attr_max_plus_one) {
	SET, BAD(WEFT_A_MAX + 1, 4), .err = -EINVAL, .msg = UNKNOWN_MSG };
FIXTURE_VARIANT_ADD(validation, set_attr_type_zero) {
	SET, BAD(WEFT_A_UNSPEC, 4), .err = -EINVAL, .msg = UNKNOWN_MSG };
FIXTURE_VARIANT_ADD(validation, set_pad) {
	SET, BAD(WEFT_A_PAD, 4), .err = -EINVAL };
FIXTURE_VARIANT_ADD(validation, get_dev) {
	GET, BAD(WEFT_A_DEV | NLA_F_NESTED, 8), .data = { 8, 0, WEFT_DEV_A_VNI, 0, 1, 0, 0, 0 },
	.err = -EINVAL };
FIXTURE_VARIANT_ADD(validation, get_stats) {
	GET, BAD(WEFT_A_STATS | NLA_F_NESTED, 0), .err = -EINVAL };
FIXTURE_VARIANT_ADD(validation, get_node) {
	GET, BAD(WEFT_A_NODE | NLA_F_NESTED, 0), .err = -EINVAL,
	.msg = UNSUPP_MSG, .msg2 = UNKNOWN_MSG };
FIXTURE_VARIANT_ADD(validation, get_attr_max_plus_one) {
	GET, BAD(WEFT_A_MAX + 1, 4), .err = -EINVAL, .msg = UNKNOWN_MSG };
FIXTURE_VARIANT_ADD(validation, dump_attr_max_plus_one) {
	GET, .dump = true, .no_ifindex = true, BAD(WEFT_A_MAX + 1, 4),
	.err = -EINVAL, .msg = UNKNOWN_MSG };
/* nested in WEFT_A_DEV */
FIXTURE_VARIANT_ADD(validation, vni_short) {
	SET, IN_DEV, BAD(WEFT_DEV_A_VNI, 2), .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, vni_long) {
	SET, IN_DEV, BAD(WEFT_DEV_A_VNI, 8), .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, vni_too_big) {
	SET, IN_DEV, BAD(WEFT_DEV_A_VNI, 4), .data = U32(0x1000000),
	.err = -ERANGE, .msg = RANGE_MSG };
FIXTURE_VARIANT_ADD(validation, vni_u32_max) {
	SET, IN_DEV, BAD(WEFT_DEV_A_VNI, 4), .data = U32(0xffffffffu),
	.err = -ERANGE, .msg = RANGE_MSG };
FIXTURE_VARIANT_ADD(validation, vni_nested_flag) {
	SET, IN_DEV, BAD(WEFT_DEV_A_VNI | NLA_F_NESTED, 4), .data = U32(1),
	.err = -EINVAL, .msg = "NLA_F_NESTED not expected" };
FIXTURE_VARIANT_ADD(validation, port_long) {
	SET, IN_DEV, BAD(WEFT_DEV_A_PORT, 4), .data = U32(4789), .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, port_short) {
	SET, IN_DEV, BAD(WEFT_DEV_A_PORT, 1), .data = { 1 }, .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, port_zero) {
	SET, IN_DEV, BAD(WEFT_DEV_A_PORT, 2), .err = -ERANGE, .msg = RANGE_MSG };
FIXTURE_VARIANT_ADD(validation, local4_3_bytes) {
	SET, IN_DEV, BAD(WEFT_DEV_A_LOCAL4, 3), .data = { 10, 0, 0 }, .err = -ERANGE, .msg = BIN_MSG };
FIXTURE_VARIANT_ADD(validation, local4_5_bytes) {
	SET, IN_DEV, BAD(WEFT_DEV_A_LOCAL4, 5), .data = { 10, 0, 0, 1, 0 },
	.err = -ERANGE, .msg = BIN_MSG };
FIXTURE_VARIANT_ADD(validation, local4_16_bytes) {
	SET, IN_DEV, BAD(WEFT_DEV_A_LOCAL4, 16), .data = { 0x20, 0x01, 0x0d, 0xb8 },
	.err = -ERANGE, .msg = BIN_MSG };
FIXTURE_VARIANT_ADD(validation, local4_empty) {
	SET, IN_DEV, BAD(WEFT_DEV_A_LOCAL4, 0), .err = -ERANGE, .msg = BIN_MSG };
FIXTURE_VARIANT_ADD(validation, local6_4_bytes) {
	SET, IN_DEV, BAD(WEFT_DEV_A_LOCAL6, 4), .data = { 10, 0, 0, 1 },
	.err = -ERANGE, .msg = BIN_MSG };
FIXTURE_VARIANT_ADD(validation, local6_17_bytes) {
	SET, IN_DEV, BAD(WEFT_DEV_A_LOCAL6, 17), .data = { 0x20, 0x01, 0x0d, 0xb8 },
	.err = -ERANGE, .msg = BIN_MSG };
FIXTURE_VARIANT_ADD(validation, underlay_short) {
	SET, IN_DEV, BAD(WEFT_DEV_A_UNDERLAY, 2), .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, vtep_mac_5_bytes) {
	SET, IN_DEV, BAD(WEFT_DEV_A_VTEP_MAC, 5), .data = { 2, 0, 0, 0, 0 },
	.err = -ERANGE, .msg = BIN_MSG };
FIXTURE_VARIANT_ADD(validation, vtep_mac_7_bytes) {
	SET, IN_DEV, BAD(WEFT_DEV_A_VTEP_MAC, 7), .data = { 2, 0, 0, 0, 0, 1, 0 },
	.err = -ERANGE, .msg = BIN_MSG };
FIXTURE_VARIANT_ADD(validation, crosssubnet_2) {
	SET, IN_DEV, BAD(WEFT_DEV_A_CROSSSUBNET, 1), .data = { 2 }, .err = -ERANGE, .msg = RANGE_MSG };
FIXTURE_VARIANT_ADD(validation, crosssubnet_255) {
	SET, IN_DEV, BAD(WEFT_DEV_A_CROSSSUBNET, 1), .data = { 255 },
	.err = -ERANGE, .msg = RANGE_MSG };
FIXTURE_VARIANT_ADD(validation, crosssubnet_u32) {
	SET, IN_DEV, BAD(WEFT_DEV_A_CROSSSUBNET, 4), .data = U32(1), .err = -EINVAL, .msg = LEN_MSG };
FIXTURE_VARIANT_ADD(validation, generation_read_only) {
	SET, IN_DEV, BAD(WEFT_DEV_A_GENERATION, 4), .data = U32(1), .err = -EINVAL };
FIXTURE_VARIANT_ADD(validation, mtu_read_only) {
	SET, IN_DEV, BAD(WEFT_DEV_A_MTU, 4), .data = U32(1400), .err = -EINVAL };
FIXTURE_VARIANT_ADD(validation, dev_pad) {
	SET, IN_DEV, BAD(WEFT_DEV_A_PAD, 4), .err = -EINVAL };
FIXTURE_VARIANT_ADD(validation, dev_attr_max_plus_one) {
	SET, IN_DEV, BAD(WEFT_DEV_A_MAX + 1, 4), .err = -EINVAL, .msg = UNKNOWN_MSG };
FIXTURE_VARIANT_ADD(validation, dev_attr_type_zero) {
	SET, IN_DEV, BAD(WEFT_DEV_A_UNSPEC, 4), .err = -EINVAL, .msg = UNKNOWN_MSG };
/* missing required attributes */
FIXTURE_VARIANT_ADD(validation, set_without_dev) {
	SET, .no_dev = true, .err = -EINVAL, .miss = WEFT_A_DEV };
FIXTURE_VARIANT_ADD(validation, set_without_device) {
	SET, .no_ifindex = true, .err = -EINVAL, .miss = WEFT_A_IFINDEX, .miss2 = WEFT_A_IFNAME };
FIXTURE_VARIANT_ADD(validation, get_without_device) {
	GET, .no_ifindex = true, .err = -EINVAL, .miss = WEFT_A_IFINDEX, .miss2 = WEFT_A_IFNAME };

TEST_F(validation, rejected)
{
	char buf[512];
	uint16_t flags = variant->dump ? NLM_F_DUMP : 0;
	struct nlmsghdr *nlh = genl_req(&self->genl, buf, variant->cmd, flags);
	struct weft_dev before, after;
	uint32_t offs = 0;
	struct nl_ack ack;
	char why[128];
	int err;

	ASSERT_EQ(0, weft_dev_get(&self->genl, self->ifindex, NULL, &before, NULL));
	if (!variant->no_ifindex)
		mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->ifindex);
	if (variant->has_bad && !variant->nested) {
		offs = nl_offset(nlh, mnl_nlmsg_get_payload_tail(nlh));
		mnl_attr_put(nlh, variant->type, variant->len, variant->data);
	}
	if (variant->cmd == WEFT_CMD_DEV_SET && !variant->no_dev) {
		struct nlattr *nest = nl_nest_start(nlh, WEFT_A_DEV);

		if (variant->has_bad && variant->nested) {
			offs = nl_offset(nlh, mnl_nlmsg_get_payload_tail(nlh));
			mnl_attr_put(nlh, variant->type, variant->len, variant->data);
		} else if (!variant->has_bad) {
			/* a valid setting, so that only the missing part is wrong */
			mnl_attr_put_u32(nlh, WEFT_DEV_A_VNI, 7);
		}
		mnl_attr_nest_end(nlh, nest);
	}

	err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
	ASSERT_EQ(variant->err, err)
		TH_LOG("expected %s, got %s; %s", strerror(-variant->err),
		       err ? strerror(-err) : "success", ack_msg(&ack));
	EXPECT_TRUE(ack.has_msg && ack.msg[0]) TH_LOG("no extack message");
	if (ack.has_msg && variant->msg)
		EXPECT_TRUE(!strcmp(ack.msg, variant->msg) ||
			    (variant->msg2 && !strcmp(ack.msg, variant->msg2)))
			TH_LOG("extack message \"%s\", expected \"%s\"%s%s", ack.msg,
			       variant->msg, variant->msg2 ? " or " : "",
			       variant->msg2 ? variant->msg2 : "");
	if (variant->has_bad) {
		EXPECT_TRUE(ack.has_offs) TH_LOG("no NLMSGERR_ATTR_OFFS (%s)", ack_msg(&ack));
		if (ack.has_offs)
			EXPECT_EQ(offs, ack.offs)
				TH_LOG("extack offset %u, the bad attribute is at %u",
				       ack.offs, offs);
	}
	if (variant->miss) {
		EXPECT_TRUE(ack.has_miss_type) TH_LOG("no NLMSGERR_ATTR_MISS_TYPE");
		if (ack.has_miss_type)
			EXPECT_TRUE((int)ack.miss_type == variant->miss ||
				    (variant->miss2 && (int)ack.miss_type == variant->miss2))
				TH_LOG("missing type %u, expected %d", ack.miss_type,
				       variant->miss);
		EXPECT_FALSE(ack.has_miss_nest)
			TH_LOG("NLMSGERR_ATTR_MISS_NEST for a top-level attribute");
	}
	/* and nothing changed */
	ASSERT_EQ(0, weft_dev_get(&self->genl, self->ifindex, NULL, &after, NULL));
	normalize(&before);
	normalize(&after);
	EXPECT_TRUE(same_settings(&before, &after, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(before.generation, after.generation);
}

TEST_HARNESS_MAIN
