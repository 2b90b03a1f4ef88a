// SPDX-License-Identifier: GPL-2.0
/*
 * weft_endpoints: selftests of the endpoint commands of the "weft" generic
 * netlink family (WEFT_CMD_ENDPOINT_*, see uapi/linux/weft.h).
 *
 *   ENDPOINT_ADD / GET / DEL by ifindex and by address, IPv4 and IPv6
 *   mixed up to WEFT_ENDPOINT_MAX_ADDRS, WEFT_A_REPLACE, EEXIST,
 *   EADDRINUSE changing nothing, malformed and non-unicast requests,
 *   host interfaces that are missing or weft devices, endpoints going with
 *   their host interface (link deleted, pod netns deleted), a resumable
 *   dump of 1,000 endpoints and its NLM_F_DUMP_INTR flag, permissions, and
 *   a device deleted with endpoints freeing them.
 *
 * Every test runs in a fresh network namespace holding weft0 and two
 * dummy links, ep0 and ep1, as pod host interfaces:
 *
 *   test netns:  weft0 (type weft)   ep0 (dummy)   ep1 (dummy)
 *
 * The weft module must be loaded. Run as root (in the VM: tests/vm/run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
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
#define TEST_TIMEOUT_DEFAULT 180

/* Endpoints in the large dump; WEFT_ENDPOINTS_MANY overrides it for slow
 * (debug) kernels.
 */
#define MANY		1000
#define MAX_ADDRS	(WEFT_ENDPOINT_MAX_ADDRS + 2)

static const char *ack_msg(const struct nl_ack *a)
{
	return a->has_msg ? a->msg : "(no extack message)";
}

/* ------------------------------------------------------------ endpoints */

struct ep_addr {
	int family;
	uint8_t a[16];
};

struct ep {
	uint32_t dev;		/* WEFT_A_IFINDEX of a reply */
	int ifindex;		/* 0: not sent */
	bool has_identity;
	uint32_t identity;
	int naddrs;
	struct ep_addr addr[MAX_ADDRS];
};

static int alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static struct ep_addr addr_of(const char *s)
{
	struct ep_addr a = { .family = strchr(s, ':') ? AF_INET6 : AF_INET };

	inet_pton(a.family, s, a.a);
	return a;
}

/* An endpoint on ifindex with the space-separated addresses of list. */
static struct ep ep_make(int ifindex, const char *list)
{
	struct ep e = { .ifindex = ifindex };
	char buf[1024], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " ", &save); tok && e.naddrs < MAX_ADDRS;
	     tok = strtok_r(NULL, " ", &save))
		e.addr[e.naddrs++] = addr_of(tok);
	return e;
}

static struct ep ep_id(int ifindex, const char *list, uint32_t identity)
{
	struct ep e = ep_make(ifindex, list);

	e.has_identity = true;
	e.identity = identity;
	return e;
}

/* flags of requests */
#define REPLACE		0x1

/*
 * ENDPOINT_ADD of e; offs[i] (offs may be NULL) gets the offset of the
 * i-th address attribute, *nest_off (may be NULL) that of the nest.
 */
static int ep_add(struct nl *nl, int dev, const struct ep *e, int flags,
		  struct nl_ack *ack, uint32_t *offs)
{
	char buf[2048];
	struct nlmsghdr *nlh = genl_req(nl, buf, WEFT_CMD_ENDPOINT_ADD, 0);
	struct nlattr *nest;
	int i;

	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, dev);
	if (flags & REPLACE)
		mnl_attr_put(nlh, WEFT_A_REPLACE, 0, NULL);
	nest = nl_nest_start(nlh, WEFT_A_ENDPOINT);
	if (e->ifindex)
		mnl_attr_put_u32(nlh, WEFT_ENDPOINT_A_IFINDEX, e->ifindex);
	for (i = 0; i < e->naddrs; i++) {
		if (offs)
			offs[i] = nl_offset(nlh, mnl_nlmsg_get_payload_tail(nlh));
		mnl_attr_put(nlh, e->addr[i].family == AF_INET ?
			     WEFT_ENDPOINT_A_ADDR4 : WEFT_ENDPOINT_A_ADDR6,
			     alen(e->addr[i].family), e->addr[i].a);
	}
	if (e->has_identity)
		mnl_attr_put_u32(nlh, WEFT_ENDPOINT_A_IDENTITY, e->identity);
	mnl_attr_nest_end(nlh, nest);
	return nl_transact(nl, nlh, ack, NULL, NULL);
}

static int parse_ep(const struct nlmsghdr *nlh, struct ep *e)
{
	const struct nlattr *a, *b;

	memset(e, 0, sizeof(*e));
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == WEFT_A_IFINDEX)
			e->dev = mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) != WEFT_A_ENDPOINT)
			continue;
		mnl_attr_for_each_nested(b, a) {
			int len = mnl_attr_get_payload_len(b);

			switch (mnl_attr_get_type(b)) {
			case WEFT_ENDPOINT_A_IFINDEX:
				e->ifindex = (int)mnl_attr_get_u32(b);
				break;
			case WEFT_ENDPOINT_A_ADDR4:
			case WEFT_ENDPOINT_A_ADDR6:
				if ((len != 4 && len != 16) || e->naddrs == MAX_ADDRS)
					return -EBADMSG;
				e->addr[e->naddrs].family = len == 4 ? AF_INET : AF_INET6;
				memcpy(e->addr[e->naddrs++].a, mnl_attr_get_payload(b), len);
				break;
			case WEFT_ENDPOINT_A_IDENTITY:
				e->has_identity = true;
				e->identity = mnl_attr_get_u32(b);
				break;
			default:
				return -EBADMSG;
			}
		}
	}
	return e->ifindex && e->naddrs && e->has_identity ? 0 : -EBADMSG;
}

static int ep_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == NLMSG_DONE)
		return 0;
	return parse_ep(nlh, data);
}

/*
 * ENDPOINT_GET (do) or ENDPOINT_DEL naming the endpoint by ifindex (if
 * non-zero) and/or by the address addr (if non-NULL).
 */
static int ep_key(struct nl *nl, uint8_t cmd, int dev, int ifindex,
		  const char *addr, struct nl_ack *ack, struct ep *out)
{
	char buf[512];
	struct nlmsghdr *nlh = genl_req(nl, buf, cmd, 0);
	struct nlattr *nest;

	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, dev);
	nest = nl_nest_start(nlh, WEFT_A_ENDPOINT);
	if (ifindex)
		mnl_attr_put_u32(nlh, WEFT_ENDPOINT_A_IFINDEX, ifindex);
	if (addr) {
		struct ep_addr a = addr_of(addr);

		mnl_attr_put(nlh, a.family == AF_INET ? WEFT_ENDPOINT_A_ADDR4 :
			     WEFT_ENDPOINT_A_ADDR6, alen(a.family), a.a);
	}
	mnl_attr_nest_end(nlh, nest);
	return nl_transact(nl, nlh, ack, out ? ep_cb : NULL, out);
}

/* Same endpoint: interface, identity (0 when not sent), addresses in order. */
static bool ep_eq(const struct ep *want, const struct ep *got)
{
	int i;

	if (want->ifindex != got->ifindex ||
	    (want->has_identity ? want->identity : 0) != got->identity ||
	    want->naddrs != got->naddrs)
		return false;
	for (i = 0; i < want->naddrs; i++)
		if (want->addr[i].family != got->addr[i].family ||
		    memcmp(want->addr[i].a, got->addr[i].a, alen(want->addr[i].family)))
			return false;
	return true;
}

/* ------------------------------------------------------------ dumps */

struct dump {
	struct ep *e;
	int n, max;
	int batches;		/* recv() calls that returned messages */
	int msgs;
	bool intr;
	bool bad;
	int error;
};

typedef void (*dump_hook)(void *arg);

#define DUMP_BUFSZ	16384

/*
 * ENDPOINT_GET dump through a fresh socket of generic netlink family id
 * family, read with a small buffer: the kernel sizes a dump's parts by the
 * largest read it has seen on the socket, so the dump comes in many parts,
 * each one resumed where the last ended. hook (may be NULL) runs once,
 * after the first part was read.
 */
static int ep_dump(uint16_t family, int dev, struct dump *d, dump_hook hook,
		   void *arg)
{
	char req[256], *buf = malloc(DUMP_BUFSZ);
	struct nlmsghdr *nlh;
	struct nl nl;
	int err;

	d->n = d->batches = d->msgs = d->error = 0;
	d->intr = d->bad = false;
	if (!buf)
		return -ENOMEM;
	err = nl_open(&nl, NETLINK_GENERIC);
	if (err) {
		free(buf);
		return err;
	}
	nl.family = family;
	nlh = genl_req(&nl, req, WEFT_CMD_ENDPOINT_GET, NLM_F_DUMP);
	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, dev);
	if (send(nl.fd, nlh, nlh->nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t r = recv(nl.fd, buf, DUMP_BUFSZ, MSG_TRUNC);
		const struct nlmsghdr *m;
		int len;

		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (r > DUMP_BUFSZ) {
			err = -EMSGSIZE;
			goto out;
		}
		len = (int)r;
		d->batches++;
		for (m = (struct nlmsghdr *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_flags & NLM_F_DUMP_INTR)
				d->intr = true;
			if (m->nlmsg_type == NLMSG_DONE ||
			    m->nlmsg_type == NLMSG_ERROR) {
				struct nl_ack ack;

				nl_parse_ack(m, &ack);
				d->error = ack.error;
				err = ack.error;
				goto out;
			}
			d->msgs++;
			if (d->n == d->max || parse_ep(m, &d->e[d->n])) {
				d->bad = true;
				continue;
			}
			if (d->e[d->n].dev != (uint32_t)dev)
				d->bad = true;
			d->n++;
		}
		if (hook) {
			hook(arg);
			hook = NULL;
		}
	}
out:
	nl_close(&nl);
	free(buf);
	return err;
}

/* ------------------------------------------------------------ helpers */

static int dump_count(void)
{
	const char *s = getenv("WEFT_ENDPOINTS_MANY");
	int n = s ? atoi(s) : 0;

	return n > 0 ? n : MANY;
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
		usleep(100000);
		v = debug_objects();
	}
	return v;
}

static char *shared_msg(void)
{
	char *msg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (msg == MAP_FAILED)
		return NULL;
	msg[0] = 0;
	return msg;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(we) {
	struct nl genl;
	struct nl rtnl;
	int dev;		/* weft0 */
	int ep0, ep1;		/* dummy host interfaces */
};

FIXTURE_SETUP(we)
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
	err = rtnl_link_add(&self->rtnl, "ep0", "dummy", &ack);
	if (err == -EOPNOTSUPP)
		SKIP(return, "no dummy links in this kernel");
	ASSERT_EQ(0, err) TH_LOG("ep0: %s; %s", strerror(-err), ack_msg(&ack));
	err = rtnl_link_add(&self->rtnl, "ep1", "dummy", &ack);
	ASSERT_EQ(0, err) TH_LOG("ep1: %s; %s", strerror(-err), ack_msg(&ack));
	self->dev = rtnl_ifindex(&self->rtnl, "weft0");
	self->ep0 = rtnl_ifindex(&self->rtnl, "ep0");
	self->ep1 = rtnl_ifindex(&self->rtnl, "ep1");
	ASSERT_LT(0, self->dev);
	ASSERT_LT(0, self->ep0);
	ASSERT_LT(0, self->ep1);
}

FIXTURE_TEARDOWN(we)
{
	nl_close(&self->genl);
	nl_close(&self->rtnl);
}

#define ADD_OK(e, flags) do { \
	struct nl_ack _a; \
	int _e = ep_add(&self->genl, self->dev, (e), (flags), &_a, NULL); \
	ASSERT_EQ(0, _e) TH_LOG("ENDPOINT_ADD: %s; %s", strerror(-_e), ack_msg(&_a)); \
} while (0)

/* GET by ifindex (addr NULL) or address; the reply must equal *want. */
#define EXPECT_GET(ifindex, addr, want) do { \
	struct nl_ack _a; \
	struct ep _g; \
	int _e = ep_key(&self->genl, WEFT_CMD_ENDPOINT_GET, self->dev, \
			(ifindex), (addr), &_a, &_g); \
	EXPECT_EQ(0, _e) TH_LOG("ENDPOINT_GET %d %s: %s; %s", (ifindex), \
				(addr) ? (const char *)(addr) : "", \
				strerror(-_e), ack_msg(&_a)); \
	if (!_e) { \
		EXPECT_TRUE(ep_eq((want), &_g)); \
		EXPECT_EQ((uint32_t)self->dev, _g.dev); \
	} \
} while (0)

#define EXPECT_GONE(ifindex, addr) do { \
	struct nl_ack _a; \
	struct ep _g; \
	int _e = ep_key(&self->genl, WEFT_CMD_ENDPOINT_GET, self->dev, \
			(ifindex), (addr), &_a, &_g); \
	EXPECT_EQ(-ENOENT, _e) TH_LOG("ENDPOINT_GET %d %s: %s", (ifindex), \
				      (addr) ? (const char *)(addr) : "", \
				      strerror(-_e)); \
	EXPECT_TRUE(_a.has_msg); \
} while (0)

#define EXPECT_REJECT(err, ack, want, off) do { \
	EXPECT_EQ(want, err) TH_LOG("got %s; %s", strerror(-(err)), ack_msg(&(ack))); \
	EXPECT_TRUE((ack).has_msg); \
	if (off) { \
		EXPECT_TRUE((ack).has_offs); \
		EXPECT_EQ((uint32_t)(off), (ack).offs); \
	} \
} while (0)

/* ------------------------------------------------------------ tests */

TEST_F(we, add_get_del)
{
	struct ep e = ep_id(self->ep0, "10.244.1.5 fd00:244:1::5", 42);
	struct nl_ack ack;
	int err;

	ADD_OK(&e, 0);
	EXPECT_GET(self->ep0, NULL, &e);
	EXPECT_GET(0, "10.244.1.5", &e);
	EXPECT_GET(0, "fd00:244:1::5", &e);
	EXPECT_GONE(0, "10.244.1.6");
	EXPECT_GONE(self->ep1, NULL);

	err = ep_key(&self->genl, WEFT_CMD_ENDPOINT_DEL, self->dev, self->ep0,
		     NULL, &ack, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	EXPECT_GONE(self->ep0, NULL);
	EXPECT_GONE(0, "10.244.1.5");
	EXPECT_GONE(0, "fd00:244:1::5");
	err = ep_key(&self->genl, WEFT_CMD_ENDPOINT_DEL, self->dev, self->ep0,
		     NULL, &ack, NULL);
	EXPECT_REJECT(err, ack, -ENOENT, 0);

	/* the identity defaults to 0 */
	e = ep_make(self->ep0, "10.244.1.5");
	ADD_OK(&e, 0);
	EXPECT_GET(self->ep0, NULL, &e);
}

TEST_F(we, v4_v6_mix_up_to_max)
{
	struct ep e = { .ifindex = self->ep0, .has_identity = true, .identity = 7 };
	uint32_t offs[MAX_ADDRS];
	struct nl_ack ack;
	char s[64];
	int i, err;

	/* interleaved families; the reply keeps the request's order */
	for (i = 0; i < WEFT_ENDPOINT_MAX_ADDRS; i++) {
		snprintf(s, sizeof(s), i % 2 ? "fd00::%x" : "10.244.0.%d", i + 1);
		e.addr[e.naddrs++] = addr_of(s);
	}
	ADD_OK(&e, 0);
	EXPECT_GET(self->ep0, NULL, &e);
	EXPECT_GET(0, "fd00::10", &e);
	EXPECT_GET(0, "10.244.0.15", &e);

	/* one more is too many, and changes nothing */
	e.ifindex = self->ep1;
	for (i = 0; i < e.naddrs; i++)
		e.addr[i].a[alen(e.addr[i].family) - 2] = 0x77;
	e.addr[e.naddrs++] = addr_of("10.244.0.200");
	err = ep_add(&self->genl, self->dev, &e, 0, &ack, offs);
	EXPECT_REJECT(err, ack, -E2BIG, offs[WEFT_ENDPOINT_MAX_ADDRS]);
	EXPECT_GONE(self->ep1, NULL);
	EXPECT_GONE(0, "10.244.0.200");
}

TEST_F(we, replace)
{
	struct ep a = ep_id(self->ep0, "10.244.1.1 fd00::1", 1);
	struct ep b = ep_id(self->ep0, "fd00::1 10.244.1.3 fd00::3", 2);
	struct ep c = ep_make(self->ep0, "10.244.1.9");
	struct nl_ack ack;
	int err;

	ADD_OK(&a, 0);
	/* without WEFT_A_REPLACE: EEXIST, unchanged */
	err = ep_add(&self->genl, self->dev, &b, 0, &ack, NULL);
	EXPECT_REJECT(err, ack, -EEXIST, 0);
	EXPECT_GET(self->ep0, NULL, &a);
	EXPECT_GONE(0, "10.244.1.3");

	/* with it: the addresses and identity become the request's */
	ADD_OK(&b, REPLACE);
	EXPECT_GET(self->ep0, NULL, &b);
	EXPECT_GET(0, "fd00::1", &b);
	EXPECT_GET(0, "10.244.1.3", &b);
	EXPECT_GET(0, "fd00::3", &b);
	EXPECT_GONE(0, "10.244.1.1");

	/* a replace without an identity resets it to 0 */
	ADD_OK(&c, REPLACE);
	EXPECT_GET(self->ep0, NULL, &c);
	EXPECT_GONE(0, "fd00::1");

	/* WEFT_A_REPLACE also adds */
	a.ifindex = self->ep1;
	ADD_OK(&a, REPLACE);
	EXPECT_GET(self->ep1, NULL, &a);
}

TEST_F(we, eaddrinuse_changes_nothing)
{
	struct ep a = ep_id(self->ep0, "10.244.2.1 fd00::2:1", 10);
	struct ep b = ep_id(self->ep1, "10.244.2.2", 20);
	struct ep b2 = ep_id(self->ep1, "10.244.2.22 fd00::2:1", 21);
	uint32_t offs[MAX_ADDRS];
	struct nl_ack ack;
	struct ep c;
	int err, ep2;

	ADD_OK(&a, 0);
	ADD_OK(&b, 0);

	/* replacing b with an address of a */
	err = ep_add(&self->genl, self->dev, &b2, REPLACE, &ack, offs);
	EXPECT_REJECT(err, ack, -EADDRINUSE, offs[1]);
	EXPECT_GET(self->ep0, NULL, &a);
	EXPECT_GET(self->ep1, NULL, &b);
	EXPECT_GET(0, "fd00::2:1", &a);
	EXPECT_GONE(0, "10.244.2.22");

	/* a new endpoint with an address of b */
	ASSERT_EQ(0, rtnl_link_add(&self->rtnl, "ep2", "dummy", NULL));
	ep2 = rtnl_ifindex(&self->rtnl, "ep2");
	ASSERT_LT(0, ep2);
	c = ep_make(ep2, "10.244.2.3 10.244.2.2");
	err = ep_add(&self->genl, self->dev, &c, 0, &ack, offs);
	EXPECT_REJECT(err, ack, -EADDRINUSE, offs[1]);
	EXPECT_GONE(ep2, NULL);
	EXPECT_GONE(0, "10.244.2.3");
	EXPECT_GET(0, "10.244.2.2", &b);

	/* an endpoint may keep its own addresses across a replace */
	b2 = ep_id(self->ep1, "10.244.2.4 10.244.2.2", 22);
	ADD_OK(&b2, REPLACE);
	EXPECT_GET(0, "10.244.2.2", &b2);
}

TEST_F(we, bad_addresses)
{
	static const char *const bad[] = {
		"0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255",
		"::", "ff02::1", "ff05::2",
	};
	uint32_t offs[MAX_ADDRS];
	struct nl_ack ack;
	unsigned int i;
	struct ep e;
	int err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char list[128];

		snprintf(list, sizeof(list), "10.244.3.1 %s", bad[i]);
		e = ep_make(self->ep0, list);
		err = ep_add(&self->genl, self->dev, &e, 0, &ack, offs);
		EXPECT_REJECT(err, ack, -EINVAL, offs[1]);
		if (err != -EINVAL)
			TH_LOG("address %s", bad[i]);
	}
	/* the same address twice */
	e = ep_make(self->ep0, "10.244.3.1 fd00::3 10.244.3.1");
	err = ep_add(&self->genl, self->dev, &e, 0, &ack, offs);
	EXPECT_REJECT(err, ack, -EINVAL, offs[2]);
	/* no address */
	e = ep_make(self->ep0, "");
	err = ep_add(&self->genl, self->dev, &e, 0, &ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	EXPECT_TRUE(ack.has_miss_type);
	EXPECT_EQ((uint32_t)WEFT_ENDPOINT_A_ADDR4, ack.miss_type);
	/* no interface */
	e = ep_make(0, "10.244.3.1");
	err = ep_add(&self->genl, self->dev, &e, 0, &ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	EXPECT_TRUE(ack.has_miss_type);
	EXPECT_EQ((uint32_t)WEFT_ENDPOINT_A_IFINDEX, ack.miss_type);

	EXPECT_GONE(self->ep0, NULL);
	EXPECT_GONE(0, "10.244.3.1");
}

/* Requests the policy or the parser refuse, built by hand. */
TEST_F(we, malformed)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct nlattr *nest, *a;
	struct nl_ack ack;
	struct ep e = ep_make(self->ep0, "10.244.4.1");
	uint8_t three[3] = { 10, 244, 4 };
	uint32_t off;
	int err;

	/* IPv4 address of 3 bytes: the policy's length check */
	nlh = genl_req(&self->genl, buf, WEFT_CMD_ENDPOINT_ADD, 0);
	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->dev);
	nest = nl_nest_start(nlh, WEFT_A_ENDPOINT);
	mnl_attr_put_u32(nlh, WEFT_ENDPOINT_A_IFINDEX, self->ep0);
	a = mnl_nlmsg_get_payload_tail(nlh);
	off = nl_offset(nlh, a);
	mnl_attr_put(nlh, WEFT_ENDPOINT_A_ADDR4, sizeof(three), three);
	mnl_attr_nest_end(nlh, nest);
	err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
	EXPECT_REJECT(err, ack, -ERANGE, off);

	/* an attribute type the nest does not know */
	nlh = genl_req(&self->genl, buf, WEFT_CMD_ENDPOINT_ADD, 0);
	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->dev);
	nest = nl_nest_start(nlh, WEFT_A_ENDPOINT);
	mnl_attr_put_u32(nlh, WEFT_ENDPOINT_A_IFINDEX, self->ep0);
	mnl_attr_put(nlh, WEFT_ENDPOINT_A_ADDR4, 4, e.addr[0].a);
	mnl_attr_put_u32(nlh, WEFT_ENDPOINT_A_MAX + 1, 0);
	mnl_attr_nest_end(nlh, nest);
	err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);

	/* no WEFT_A_ENDPOINT at all */
	nlh = genl_req(&self->genl, buf, WEFT_CMD_ENDPOINT_ADD, 0);
	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->dev);
	err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	EXPECT_TRUE(ack.has_miss_type);
	EXPECT_EQ((uint32_t)WEFT_A_ENDPOINT, ack.miss_type);

	/* a key with an identity */
	nlh = genl_req(&self->genl, buf, WEFT_CMD_ENDPOINT_DEL, 0);
	mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, self->dev);
	nest = nl_nest_start(nlh, WEFT_A_ENDPOINT);
	mnl_attr_put_u32(nlh, WEFT_ENDPOINT_A_IFINDEX, self->ep0);
	mnl_attr_put_u32(nlh, WEFT_ENDPOINT_A_IDENTITY, 1);
	mnl_attr_nest_end(nlh, nest);
	err = nl_transact(&self->genl, nlh, &ack, NULL, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);

	/* a key naming the endpoint twice, and an empty key */
	ADD_OK(&e, 0);
	err = ep_key(&self->genl, WEFT_CMD_ENDPOINT_DEL, self->dev, self->ep0,
		     "10.244.4.1", &ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	err = ep_key(&self->genl, WEFT_CMD_ENDPOINT_GET, self->dev, 0, NULL,
		     &ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	EXPECT_GET(self->ep0, NULL, &e);

	/* a device that is not a weft link */
	err = ep_add(&self->genl, self->ep1, &e, 0, &ack, NULL);
	EXPECT_REJECT(err, ack, -EOPNOTSUPP, 0);
}

TEST_F(we, host_interface_checks)
{
	struct ep e = ep_make(self->ep0, "10.244.5.1");
	struct nl_ack ack;
	int err;

	/* no such interface */
	e.ifindex = 987654;
	err = ep_add(&self->genl, self->dev, &e, 0, &ack, NULL);
	EXPECT_REJECT(err, ack, -ENODEV, 0);
	EXPECT_TRUE(ack.has_offs);
	/* the weft device itself, and another weft device */
	e.ifindex = self->dev;
	err = ep_add(&self->genl, self->dev, &e, 0, &ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	EXPECT_TRUE(ack.has_offs);
	ASSERT_EQ(0, rtnl_link_add(&self->rtnl, "weft1", "weft", NULL));
	e.ifindex = rtnl_ifindex(&self->rtnl, "weft1");
	ASSERT_LT(0, e.ifindex);
	err = ep_add(&self->genl, self->dev, &e, 0, &ack, NULL);
	EXPECT_REJECT(err, ack, -EINVAL, 0);
	EXPECT_GONE(0, "10.244.5.1");

	/* each weft device has its own endpoints */
	e.ifindex = self->ep0;
	ADD_OK(&e, 0);
	err = ep_add(&self->genl, rtnl_ifindex(&self->rtnl, "weft1"), &e, 0,
		     &ack, NULL);
	EXPECT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
}

TEST_F(we, del_by_address)
{
	struct ep a = ep_id(self->ep0, "10.244.6.1 fd00::6:1 fd00::6:2", 5);
	struct ep b = ep_id(self->ep1, "10.244.6.2", 6);
	struct nl_ack ack;
	int err;

	ADD_OK(&a, 0);
	ADD_OK(&b, 0);
	err = ep_key(&self->genl, WEFT_CMD_ENDPOINT_DEL, self->dev, 0,
		     "fd00::6:2", &ack, NULL);
	ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	EXPECT_GONE(self->ep0, NULL);
	EXPECT_GONE(0, "10.244.6.1");
	EXPECT_GONE(0, "fd00::6:1");
	EXPECT_GET(self->ep1, NULL, &b);
	err = ep_key(&self->genl, WEFT_CMD_ENDPOINT_DEL, self->dev, 0,
		     "fd00::6:2", &ack, NULL);
	EXPECT_REJECT(err, ack, -ENOENT, 0);
	err = ep_key(&self->genl, WEFT_CMD_ENDPOINT_DEL, self->dev, 0,
		     "10.244.6.2", &ack, NULL);
	EXPECT_EQ(0, err);
	EXPECT_GONE(self->ep1, NULL);
	/* the addresses are free again */
	a.ifindex = self->ep1;
	ADD_OK(&a, 0);
}

TEST_F(we, host_link_deleted)
{
	struct ep a = ep_make(self->ep0, "10.244.7.1 fd00::7:1");
	struct ep b = ep_make(0, "10.244.7.2");
	struct ep c;
	int veth;

	ADD_OK(&a, 0);
	ASSERT_EQ(0, rtnl_link_del(&self->rtnl, self->ep0));
	EXPECT_GONE(self->ep0, NULL);
	EXPECT_GONE(0, "10.244.7.1");
	EXPECT_GONE(0, "fd00::7:1");

	/* a veth's host side goes with its peer */
	ASSERT_EQ(0, rtnl_veth_add(&self->rtnl, "vh0", "vp0"));
	veth = rtnl_ifindex(&self->rtnl, "vh0");
	ASSERT_LT(0, veth);
	b.ifindex = veth;
	ADD_OK(&b, 0);
	EXPECT_GET(veth, NULL, &b);
	ASSERT_EQ(0, rtnl_link_del(&self->rtnl, rtnl_ifindex(&self->rtnl, "vp0")));
	EXPECT_GONE(veth, NULL);
	EXPECT_GONE(0, "10.244.7.2");

	/* the addresses are free for another endpoint */
	c = ep_make(self->ep1, "10.244.7.1 10.244.7.2");
	ADD_OK(&c, 0);
}

/* A pod's netns is deleted: its veth pair dies, the endpoint with it. */
TEST_F(we, pod_netns_deleted)
{
	struct ep e = ep_make(0, "10.244.8.1 fd00::8:1");
	int go[2], ready[2], veth, i, err = 0;
	struct nl_ack ack;
	struct ep g;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* the pod: a netns that lives as long as this process */
		close(go[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWNET))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));

	ASSERT_EQ(0, rtnl_veth_add(&self->rtnl, "vh1", "vp1"));
	veth = rtnl_ifindex(&self->rtnl, "vh1");
	ASSERT_LT(0, veth);
	ASSERT_EQ(0, rtnl_link_set_netns_pid(&self->rtnl,
					     rtnl_ifindex(&self->rtnl, "vp1"), pid));
	e.ifindex = veth;
	ADD_OK(&e, 0);
	EXPECT_GET(veth, NULL, &e);

	/* the pod exits; its netns goes away asynchronously */
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	for (i = 0; i < 300; i++) {
		err = ep_key(&self->genl, WEFT_CMD_ENDPOINT_GET, self->dev,
			     veth, NULL, &ack, &g);
		if (err)
			break;
		usleep(100000);
	}
	EXPECT_EQ(-ENOENT, err) TH_LOG("endpoint still there after %d s", i / 10);
	EXPECT_GONE(0, "10.244.8.1");
	EXPECT_EQ(-ENODEV, rtnl_ifindex(&self->rtnl, "vh1"));
	close(ready[0]);
}

struct churn_arg {
	struct nl *genl;
	int dev;
	int ifindex;
	int err;
};

/* Adds an endpoint mid-dump: the rest of the dump must be flagged. */
static void churn_hook(void *p)
{
	struct churn_arg *c = p;
	struct ep e = ep_make(c->ifindex, "10.250.0.1");

	c->err = ep_add(c->genl, c->dev, &e, 0, NULL, NULL);
}

TEST_F(we, dump_1000)
{
	int many = dump_count();
	struct ep *want = calloc(many, sizeof(*want));
	struct dump d = { .e = calloc(many + 1, sizeof(struct ep)), .max = many + 1 };
	int *ifs = calloc(many + 8, sizeof(int));
	struct churn_arg churn = { .genl = &self->genl, .dev = self->dev };
	struct nl_ack ack;
	int i, n, err, bad = 0;

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, d.e);
	ASSERT_NE(NULL, ifs);
	err = rtnl_link_add_batch(&self->rtnl, "pod%d", 0, many, "dummy");
	ASSERT_EQ(0, err) TH_LOG("creating %d dummies: %s", many, strerror(-err));
	n = rtnl_links_of_kind(&self->rtnl, "dummy", ifs, many + 8);
	ASSERT_EQ(many + 2, n);		/* with ep0 and ep1 */

	/* endpoints on every dummy but ep1, in ifindex order */
	for (i = 0, n = 0; n < many; i++) {
		char list[128];

		if (ifs[i] == self->ep1)
			continue;
		snprintf(list, sizeof(list), "10.%d.%d.%d fd00::%x:%x",
			 100 + n / 65536, n / 256 % 256, n % 256, n / 256, n % 256);
		want[n] = ep_id(ifs[i], list, n);
		err = ep_add(&self->genl, self->dev, &want[n], 0, &ack, NULL);
		ASSERT_EQ(0, err) TH_LOG("endpoint %d: %s; %s", n, strerror(-err),
					 ack_msg(&ack));
		n++;
	}

	err = ep_dump(self->genl.family, self->dev, &d, NULL, NULL);
	ASSERT_EQ(0, err) TH_LOG("dump: %s", strerror(-err));
	EXPECT_FALSE(d.bad);
	EXPECT_FALSE(d.intr);
	EXPECT_LT(2, d.batches) TH_LOG("the dump was not split: %d parts", d.batches);
	ASSERT_EQ(many, d.n);
	for (i = 0; i < many; i++)
		if (!ep_eq(&want[i], &d.e[i]))
			bad++;
	EXPECT_EQ(0, bad) TH_LOG("%d endpoints differ (or are out of order)", bad);
	TH_LOG("%d endpoints in %d parts", d.n, d.batches);

	/* an endpoint added after the first part flags the rest */
	churn.ifindex = self->ep1;
	err = ep_dump(self->genl.family, self->dev, &d, churn_hook, &churn);
	ASSERT_EQ(0, err) TH_LOG("dump: %s", strerror(-err));
	EXPECT_EQ(0, churn.err);
	EXPECT_TRUE(d.intr);

	/* quiet again: exact, not flagged, the new one in its place */
	err = ep_dump(self->genl.family, self->dev, &d, NULL, NULL);
	ASSERT_EQ(0, err);
	EXPECT_FALSE(d.intr);
	EXPECT_EQ(many + 1, d.n);

	/* the links go, their endpoints with them */
	err = rtnl_link_del_batch(&self->rtnl, ifs, many + 2);
	EXPECT_EQ(0, err);
	err = ep_dump(self->genl.family, self->dev, &d, NULL, NULL);
	EXPECT_EQ(0, err);
	EXPECT_EQ(0, d.n);
	free(want);
	free(d.e);
	free(ifs);
}

TEST_F(we, perm_unprivileged_user)
{
	struct ep e = ep_make(self->ep0, "10.244.9.1");
	struct ep e1 = ep_make(self->ep1, "10.244.9.2");
	char *msg = shared_msg();
	int status;
	pid_t pid;

	ASSERT_NE(NULL, msg);
	ADD_OK(&e, 0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct dump d = { .e = calloc(4, sizeof(struct ep)), .max = 4 };
		struct nl_ack ack;
		struct ep g;
		struct nl gn;
		int err;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534)) {
			snprintf(msg, 4096, "setresuid: %s", strerror(errno));
			_exit(1);
		}
		if (weft_genl_open(&gn) || !d.e) {
			snprintf(msg, 4096, "genl socket failed");
			_exit(1);
		}
		err = ep_add(&gn, self->dev, &e1, 0, &ack, NULL);
		if (err != -EPERM) {
			snprintf(msg, 4096, "ENDPOINT_ADD: %s", strerror(-err));
			_exit(1);
		}
		err = ep_add(&gn, self->dev, &e, REPLACE, &ack, NULL);
		if (err != -EPERM) {
			snprintf(msg, 4096, "ENDPOINT_ADD replace: %s", strerror(-err));
			_exit(1);
		}
		err = ep_key(&gn, WEFT_CMD_ENDPOINT_DEL, self->dev, self->ep0,
			     NULL, &ack, NULL);
		if (err != -EPERM) {
			snprintf(msg, 4096, "ENDPOINT_DEL: %s", strerror(-err));
			_exit(1);
		}
		err = ep_key(&gn, WEFT_CMD_ENDPOINT_GET, self->dev, 0,
			     "10.244.9.1", &ack, &g);
		if (err || g.ifindex != self->ep0) {
			snprintf(msg, 4096, "ENDPOINT_GET: %s", strerror(-err));
			_exit(1);
		}
		err = ep_dump(self->genl.family, self->dev, &d, NULL, NULL);
		if (err || d.n != 1) {
			snprintf(msg, 4096, "ENDPOINT_GET dump: %s, %d endpoints",
				 strerror(-err), d.n);
			_exit(1);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("%s", msg);
	EXPECT_GET(self->ep0, NULL, &e);
	EXPECT_GONE(self->ep1, NULL);
}

/* A weft device deleted with endpoints frees them all. */
TEST_F(we, teardown_device)
{
	struct nl_ack ack;
	int base, v, i, dev1, err;
	int ifs[64];

	/* the netns of earlier tests may still be going away */
	base = wait_objects(1);
	ASSERT_EQ(1, base) TH_LOG("objects of earlier tests are still live");
	ASSERT_EQ(0, rtnl_link_add(&self->rtnl, "weft1", "weft", NULL));
	dev1 = rtnl_ifindex(&self->rtnl, "weft1");
	ASSERT_LT(0, dev1);
	ASSERT_EQ(0, rtnl_link_add_batch(&self->rtnl, "td%d", 0, 50, "dummy"));
	ASSERT_EQ(52, rtnl_links_of_kind(&self->rtnl, "dummy", ifs, 64));
	for (i = 0; i < 52; i++) {
		char a[32];
		struct ep e;

		snprintf(a, sizeof(a), "10.245.0.%d", i + 1);
		e = ep_make(ifs[i], a);
		err = ep_add(&self->genl, dev1, &e, 0, &ack, NULL);
		ASSERT_EQ(0, err) TH_LOG("%s; %s", strerror(-err), ack_msg(&ack));
	}
	v = debug_objects();
	EXPECT_EQ(base + 1 + 52, v);
	ASSERT_EQ(0, rtnl_link_del(&self->rtnl, dev1));
	v = wait_objects(base);
	EXPECT_EQ(base, v) TH_LOG("%d objects live, %d before", v, base);
}

TEST_HARNESS_MAIN
