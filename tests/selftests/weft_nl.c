// SPDX-License-Identifier: GPL-2.0
/* Netlink helpers for the weft selftests; see weft_nl.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>

#include "weft_nl.h"

int nl_open(struct nl *nl, int proto)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, rcvbuf = 4 << 20;

	memset(nl, 0, sizeof(*nl));
	nl->proto = proto;
	nl->seq = (uint32_t)getpid() << 8;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (nl->fd < 0)
		return -errno;
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(nl->fd);
		nl->fd = -1;
		return err;
	}
	/* best effort: batches of ACKs must not overflow the socket */
	setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

struct nlmsghdr *nl_req(struct nl *nl, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, MNL_NLMSG_HDRLEN + 64);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

struct nlmsghdr *genl_req(struct nl *nl, void *buf, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = nl_req(nl, buf, nl->family, flags);
	struct genlmsghdr *g;

	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = WEFT_GENL_VERSION;
	return nlh;
}

struct nlattr *nl_nest_start(struct nlmsghdr *nlh, uint16_t type)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	nest->nla_type |= NLA_F_NESTED;
	return nest;
}

static int ack_tlv_cb(const struct nlattr *attr, void *data)
{
	struct nl_ack *ack = data;
	size_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		ack->has_msg = true;
		if (len >= sizeof(ack->msg))
			len = sizeof(ack->msg) - 1;
		memcpy(ack->msg, mnl_attr_get_payload(attr), len);
		ack->msg[len] = 0;
		break;
	case NLMSGERR_ATTR_OFFS:
		if (len == 4) {
			ack->has_offs = true;
			ack->offs = mnl_attr_get_u32(attr);
		}
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (len == 4) {
			ack->has_miss_type = true;
			ack->miss_type = mnl_attr_get_u32(attr);
		}
		break;
	case NLMSGERR_ATTR_MISS_NEST:
		if (len == 4) {
			ack->has_miss_nest = true;
			ack->miss_nest = mnl_attr_get_u32(attr);
		}
		break;
	}
	return MNL_CB_OK;
}

void nl_parse_ack(const struct nlmsghdr *nlh, struct nl_ack *ack)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off;

	memset(ack, 0, sizeof(*ack));
	if (nlh->nlmsg_type == NLMSG_DONE) {
		/* a dump's end: an int error, then the TLVs */
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
			ack->error = *(const int *)e;
		off = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(int));
	} else {
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
			ack->error = -EBADMSG;
			return;
		}
		ack->error = e->error;
		off = MNL_NLMSG_HDRLEN + sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += MNL_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= nlh->nlmsg_len)
		return;
	mnl_attr_parse_payload((const char *)nlh + off, nlh->nlmsg_len - off,
			       ack_tlv_cb, ack);
}

int nl_transact(struct nl *nl, struct nlmsghdr *req, struct nl_ack *ack,
		nl_msg_cb cb, void *data)
{
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	struct nl_ack tmp;
	char *buf;
	int ret = -EIO;

	if (!ack)
		ack = &tmp;
	memset(ack, 0, sizeof(*ack));
	if (!dump)
		req->nlmsg_flags |= NLM_F_ACK;
	if (send(nl->fd, req, req->nlmsg_len, 0) < 0)
		return -errno;

	buf = malloc(NL_BUFSZ);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = recv(nl->fd, buf, NL_BUFSZ, 0);
		struct nlmsghdr *nlh;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq)
				continue;	/* stale */
			if (nlh->nlmsg_type == NLMSG_ERROR ||
			    nlh->nlmsg_type == NLMSG_DONE) {
				nl_parse_ack(nlh, ack);
				if (cb && nlh->nlmsg_type == NLMSG_DONE)
					cb(nlh, data);
				ret = ack->error;
				goto out;
			}
			if (cb && cb(nlh, data) < 0) {
				/* keep reading to the end, report the error */
				cb = NULL;
			}
		}
	}
out:
	free(buf);
	return ret;
}

/* ---------------------------------------------------------------- genl */

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_get_payload_len(attr) == 2)
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, GENL_HDRLEN, family_attr_cb, data);
	return 0;
}

int weft_genl_open(struct nl *nl)
{
	char buf[256];
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	uint16_t id = 0;
	int err;

	err = nl_open(nl, NETLINK_GENERIC);
	if (err)
		return err;
	nlh = nl_req(nl, buf, GENL_ID_CTRL, 0);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WEFT_GENL_NAME);
	err = nl_transact(nl, nlh, NULL, family_cb, &id);
	if (!err && !id)
		err = -ENOENT;
	if (err) {
		nl_close(nl);
		return err;
	}
	nl->family = id;
	return 0;
}

/* ------------------------------------------------------------ rtnetlink */

static struct nlmsghdr *link_req(struct nl *rt, void *buf, uint16_t type,
				 uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = nl_req(rt, buf, type, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

static void put_newlink(struct nl *rt, struct nlmsghdr *nlh, const char *name,
			const char *kind)
{
	struct nlattr *li;

	(void)rt;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_nest_end(nlh, li);
}

int rtnl_link_add(struct nl *rt, const char *name, const char *kind,
		  struct nl_ack *ack)
{
	char buf[512];
	struct nlmsghdr *nlh;

	nlh = link_req(rt, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	put_newlink(rt, nlh, name, kind);
	return nl_transact(rt, nlh, ack, NULL, NULL);
}

int rtnl_veth_add(struct nl *rt, const char *name, const char *peer)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct nlattr *li, *data, *p;
	struct ifinfomsg *ifi;

	nlh = link_req(rt, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return nl_transact(rt, nlh, NULL, NULL, NULL);
}

int rtnl_link_del(struct nl *rt, int ifindex)
{
	char buf[256];

	return nl_transact(rt, link_req(rt, buf, RTM_DELLINK, 0, ifindex),
			   NULL, NULL, NULL);
}

int rtnl_link_set_up(struct nl *rt, int ifindex, bool up)
{
	char buf[256];
	struct nlmsghdr *nlh = link_req(rt, buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_transact(rt, nlh, NULL, NULL, NULL);
}

/*
 * Send the requests packed in buf (n of them, sequence numbers first..)
 * in one sendmsg and collect their n ACKs.
 */
static int batch_flush(struct nl *rt, char *buf, size_t len, uint32_t first,
		       int n)
{
	char *rbuf;
	int acked = 0, ret = 0;

	if (!n)
		return 0;
	if (send(rt->fd, buf, len, 0) < 0)
		return -errno;
	rbuf = malloc(NL_BUFSZ);
	if (!rbuf)
		return -ENOMEM;
	while (acked < n) {
		ssize_t r = recv(rt->fd, rbuf, NL_BUFSZ, 0);
		struct nlmsghdr *nlh;
		int rlen;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = ret ? ret : -errno;
			break;
		}
		rlen = (int)r;
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, rlen);
		     nlh = mnl_nlmsg_next(nlh, &rlen)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_seq < first || nlh->nlmsg_seq >= first + n)
				continue;
			acked++;
			if (e->error && !ret)
				ret = e->error;
		}
	}
	free(rbuf);
	return ret;
}

#define BATCH_MAX 128

int rtnl_link_add_batch(struct nl *rt, const char *fmt, int first, int count,
			const char *kind)
{
	char *buf = malloc(BATCH_MAX * 256);
	size_t len = 0;
	uint32_t seq0 = 0;
	int i, n = 0, ret = 0, err;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		struct nlmsghdr *nlh;
		char name[IFNAMSIZ];

		snprintf(name, sizeof(name), fmt, first + i);
		nlh = link_req(rt, buf + len, RTM_NEWLINK,
			       NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0);
		put_newlink(rt, nlh, name, kind);
		if (!n)
			seq0 = nlh->nlmsg_seq;
		len += MNL_ALIGN(nlh->nlmsg_len);
		if (++n == BATCH_MAX || i == count - 1) {
			err = batch_flush(rt, buf, len, seq0, n);
			if (err && !ret)
				ret = err;
			len = 0;
			n = 0;
		}
	}
	free(buf);
	return ret;
}

int rtnl_link_del_batch(struct nl *rt, const int *ifindex, int count)
{
	char *buf = malloc(BATCH_MAX * 64);
	size_t len = 0;
	uint32_t seq0 = 0;
	int i, n = 0, ret = 0, err;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		struct nlmsghdr *nlh;

		nlh = link_req(rt, buf + len, RTM_DELLINK, NLM_F_ACK, ifindex[i]);
		if (!n)
			seq0 = nlh->nlmsg_seq;
		len += MNL_ALIGN(nlh->nlmsg_len);
		if (++n == BATCH_MAX || i == count - 1) {
			err = batch_flush(rt, buf, len, seq0, n);
			if (err && !ret)
				ret = err;
			len = 0;
			n = 0;
		}
	}
	free(buf);
	return ret;
}

struct kind_walk {
	const char *kind;
	int *out;
	int max, n;
	bool match;
};

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	struct kind_walk *w = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    !strcmp(mnl_attr_get_str(attr), w->kind))
		w->match = true;
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_LINKINFO)
		mnl_attr_parse_nested(attr, linkinfo_cb, data);
	return MNL_CB_OK;
}

static int link_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct kind_walk *w = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	w->match = false;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, w);
	if (w->match && w->n < w->max)
		w->out[w->n++] = ifi->ifi_index;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int rtnl_links_of_kind(struct nl *rt, const char *kind, int *out, int max)
{
	struct kind_walk w = { .kind = kind, .out = out, .max = max };
	char buf[256];
	struct nlmsghdr *nlh;
	int err;

	nlh = link_req(rt, buf, RTM_GETLINK, NLM_F_DUMP, 0);
	err = nl_transact(rt, nlh, NULL, link_dump_cb, &w);
	if (err)
		return err;
	qsort(out, w.n, sizeof(*out), cmp_int);
	return w.n;
}

static int ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK)
		*(int *)data = ifi->ifi_index;
	return 0;
}

int rtnl_ifindex(struct nl *rt, const char *name)
{
	char buf[256];
	struct nlmsghdr *nlh;
	int ifindex = 0, err;

	nlh = link_req(rt, buf, RTM_GETLINK, 0, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	err = nl_transact(rt, nlh, NULL, ifindex_cb, &ifindex);
	if (err)
		return err;
	return ifindex ? ifindex : -ENODEV;
}

/* ------------------------------------------------------- weft messages */

static const char *const drop_names[__WEFT_DROP_MAX] = {
	[WEFT_DROP_NO_ROUTE] = "no_route",
	[WEFT_DROP_NO_NODE] = "no_node",
	[WEFT_DROP_BAD_HEADER] = "bad_header",
	[WEFT_DROP_BAD_VNI] = "bad_vni",
	[WEFT_DROP_UNKNOWN_PEER] = "unknown_peer",
	[WEFT_DROP_POLICY] = "policy",
	[WEFT_DROP_TOO_BIG] = "too_big",
	[WEFT_DROP_NO_MEMORY] = "no_memory",
	[WEFT_DROP_PROTO] = "proto",
	[WEFT_DROP_NO_UNDERLAY] = "no_underlay",
	[WEFT_DROP_ENCAP] = "encap",
};

const char *weft_drop_name(int reason)
{
	if (reason < 0 || reason > WEFT_DROP_MAX || !drop_names[reason])
		return "unknown";
	return drop_names[reason];
}

#define BAD(dev, ...) do { \
	snprintf((dev)->err, sizeof((dev)->err), __VA_ARGS__); \
	return MNL_CB_ERROR; \
} while (0)

static int drops_cb(const struct nlattr *attr, void *data)
{
	struct weft_dev *dev = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == 0)	/* padding (nla_put_u64_64bit with padattr 0) */
		return MNL_CB_OK;
	if (type > WEFT_DROP_MAX + 1)
		BAD(dev, "drops: unknown reason attribute %u", type);
	if (mnl_attr_get_payload_len(attr) != 8)
		BAD(dev, "drops: reason %u has length %u", type,
		    (unsigned int)mnl_attr_get_payload_len(attr));
	if (dev->drops_present & (1u << type))
		BAD(dev, "drops: reason %u twice", type);
	dev->drops_present |= 1u << type;
	dev->drops[type] = mnl_attr_get_u64(attr);
	return MNL_CB_OK;
}

static int stats_cb(const struct nlattr *attr, void *data)
{
	struct weft_dev *dev = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == WEFT_STATS_A_PAD)
		return MNL_CB_OK;
	if (type == WEFT_STATS_A_DROPS) {
		if (!(attr->nla_type & NLA_F_NESTED))
			BAD(dev, "stats: DROPS without NLA_F_NESTED");
		dev->has_drops = true;
		return mnl_attr_parse_nested(attr, drops_cb, dev);
	}
	if (type < WEFT_STATS_A_RX_PACKETS || type > WEFT_STATS_A_TX_DROPS)
		BAD(dev, "stats: unknown attribute %u", type);
	if (mnl_attr_get_payload_len(attr) != 8)
		BAD(dev, "stats: attribute %u has length %u", type,
		    (unsigned int)mnl_attr_get_payload_len(attr));
	dev->stats_present |= 1u << type;
	dev->stats[type] = mnl_attr_get_u64(attr);
	return MNL_CB_OK;
}

static int dev_cb(const struct nlattr *attr, void *data)
{
	static const unsigned int len[WEFT_DEV_A_MAX + 1] = {
		[WEFT_DEV_A_VNI] = 4, [WEFT_DEV_A_PORT] = 2,
		[WEFT_DEV_A_LOCAL4] = 4, [WEFT_DEV_A_LOCAL6] = 16,
		[WEFT_DEV_A_UNDERLAY] = 4, [WEFT_DEV_A_VTEP_MAC] = 6,
		[WEFT_DEV_A_CROSSSUBNET] = 1, [WEFT_DEV_A_GENERATION] = 4,
		[WEFT_DEV_A_MTU] = 4,
	};
	struct weft_dev *dev = data;
	uint16_t type = mnl_attr_get_type(attr);
	const void *p = mnl_attr_get_payload(attr);

	if (type == WEFT_DEV_A_PAD)
		return MNL_CB_OK;
	if (type < 1 || type > WEFT_DEV_A_MAX)
		BAD(dev, "dev: unknown attribute %u", type);
	if (mnl_attr_get_payload_len(attr) != len[type])
		BAD(dev, "dev: attribute %u has length %u, expected %u", type,
		    (unsigned int)mnl_attr_get_payload_len(attr), len[type]);
	if (dev->present & (1u << type))
		BAD(dev, "dev: attribute %u twice", type);
	dev->present |= 1u << type;
	switch (type) {
	case WEFT_DEV_A_VNI:
		dev->vni = mnl_attr_get_u32(attr);
		break;
	case WEFT_DEV_A_PORT:
		dev->port = mnl_attr_get_u16(attr);
		break;
	case WEFT_DEV_A_LOCAL4:
		memcpy(dev->local4, p, 4);
		break;
	case WEFT_DEV_A_LOCAL6:
		memcpy(dev->local6, p, 16);
		break;
	case WEFT_DEV_A_UNDERLAY:
		dev->underlay = mnl_attr_get_u32(attr);
		break;
	case WEFT_DEV_A_VTEP_MAC:
		memcpy(dev->vtep_mac, p, 6);
		break;
	case WEFT_DEV_A_CROSSSUBNET:
		dev->crosssubnet = mnl_attr_get_u8(attr);
		break;
	case WEFT_DEV_A_GENERATION:
		dev->generation = mnl_attr_get_u32(attr);
		break;
	case WEFT_DEV_A_MTU:
		dev->mtu = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int top_cb(const struct nlattr *attr, void *data)
{
	struct weft_dev *dev = data;
	uint16_t type = mnl_attr_get_type(attr);
	size_t len = mnl_attr_get_payload_len(attr);

	switch (type) {
	case WEFT_A_IFINDEX:
		if (len != 4)
			BAD(dev, "IFINDEX has length %zu", len);
		dev->has_ifindex = true;
		dev->ifindex = mnl_attr_get_u32(attr);
		break;
	case WEFT_A_IFNAME:
		if (len < 2 || len > IFNAMSIZ ||
		    ((const char *)mnl_attr_get_payload(attr))[len - 1])
			BAD(dev, "IFNAME malformed (length %zu)", len);
		dev->has_ifname = true;
		memcpy(dev->ifname, mnl_attr_get_payload(attr), len);
		break;
	case WEFT_A_DEV:
		if (!(attr->nla_type & NLA_F_NESTED))
			BAD(dev, "WEFT_A_DEV without NLA_F_NESTED");
		dev->has_dev = true;
		return mnl_attr_parse_nested(attr, dev_cb, dev);
	case WEFT_A_STATS:
		if (!(attr->nla_type & NLA_F_NESTED))
			BAD(dev, "WEFT_A_STATS without NLA_F_NESTED");
		dev->has_stats = true;
		return mnl_attr_parse_nested(attr, stats_cb, dev);
	case WEFT_A_PAD:
		break;
	default:
		BAD(dev, "unexpected top-level attribute %u", type);
	}
	return MNL_CB_OK;
}

int weft_parse_dev(const struct nlmsghdr *nlh, struct weft_dev *dev)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	memset(dev, 0, sizeof(*dev));
	dev->nlmsg_flags = nlh->nlmsg_flags;
	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN) {
		snprintf(dev->err, sizeof(dev->err), "short message");
		return -EBADMSG;
	}
	if (g->cmd != WEFT_CMD_DEV_GET) {
		snprintf(dev->err, sizeof(dev->err), "reply cmd %u", g->cmd);
		return -EBADMSG;
	}
	if (mnl_attr_parse(nlh, GENL_HDRLEN, top_cb, dev) < 0) {
		if (!dev->err[0])
			snprintf(dev->err, sizeof(dev->err), "attribute stream malformed");
		return -EBADMSG;
	}
	return 0;
}

struct get_ctx {
	struct weft_dev *dev;
	int n, err;
};

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *c = data;

	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return 0;
	c->n++;
	if (c->n == 1)
		c->err = weft_parse_dev(nlh, c->dev);
	return 0;
}

int weft_dev_get(struct nl *nl, int ifindex, const char *name,
		 struct weft_dev *dev, struct nl_ack *ack)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct get_ctx c = { .dev = dev };
	int err;

	memset(dev, 0, sizeof(*dev));
	nlh = genl_req(nl, buf, WEFT_CMD_DEV_GET, 0);
	if (ifindex > 0)
		mnl_attr_put_u32(nlh, WEFT_A_IFINDEX, ifindex);
	if (name)
		mnl_attr_put_strz(nlh, WEFT_A_IFNAME, name);
	err = nl_transact(nl, nlh, ack, get_cb, &c);
	if (err)
		return err;
	if (c.n != 1) {
		snprintf(dev->err, sizeof(dev->err), "%d reply messages", c.n);
		return -EBADMSG;
	}
	return c.err;
}

int rtnl_link_set_netns_pid(struct nl *rt, int ifindex, int pid)
{
	char buf[256];
	struct nlmsghdr *nlh = link_req(rt, buf, RTM_NEWLINK, 0, ifindex);

	mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)pid);
	return nl_transact(rt, nlh, NULL, NULL, NULL);
}
