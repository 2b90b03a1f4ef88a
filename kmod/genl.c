// SPDX-License-Identifier: GPL-2.0
/*
 * The "weft" generic netlink family; uapi/linux/weft.h documents it.
 */

#include "device.h"
#include "endpoint.h"
#include "genl.h"
#include "node.h"
#include "tunnel.h"

#include <linux/slab.h>
#include <linux/stringify.h>
#include <net/genetlink.h>
#include <net/ipv6.h>

static struct genl_family weft_genl_family;

/* The policy's inline min/max are 16 bits wide; a VNI needs 24. Not
 * const: 6.1's nla_policy points at a mutable range.
 */
static struct netlink_range_validation weft_vni_range __ro_after_init = {
	.max = WEFT_VNI_MAX,
};

static const struct nla_policy weft_dev_set_policy[WEFT_DEV_A_MAX + 1] = {
	[WEFT_DEV_A_VNI]	= NLA_POLICY_FULL_RANGE(NLA_U32, &weft_vni_range),
	[WEFT_DEV_A_PORT]	= NLA_POLICY_MIN(NLA_U16, 1),
	[WEFT_DEV_A_LOCAL4]	= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[WEFT_DEV_A_LOCAL6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[WEFT_DEV_A_UNDERLAY]	= { .type = NLA_U32 },
	[WEFT_DEV_A_VTEP_MAC]	= NLA_POLICY_ETH_ADDR,
	[WEFT_DEV_A_CROSSSUBNET] = NLA_POLICY_MAX(NLA_U8, 1),
	[WEFT_DEV_A_GENERATION]	= { .type = NLA_REJECT,
				    .reject_message = "WEFT_DEV_A_GENERATION is read-only" },
	[WEFT_DEV_A_MTU]	= { .type = NLA_REJECT,
				    .reject_message = "WEFT_DEV_A_MTU is read-only" },
};

static const struct nla_policy weft_dev_get_policy[WEFT_A_MAX + 1] = {
	[WEFT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_A_IFNAME]		= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy weft_dev_set_top_policy[WEFT_A_MAX + 1] = {
	[WEFT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_A_IFNAME]		= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[WEFT_A_DEV]		= NLA_POLICY_NESTED(weft_dev_set_policy),
	[WEFT_A_STATS]		= { .type = NLA_REJECT,
				    .reject_message = "WEFT_A_STATS is read-only" },
};

/* Finds the weft device a request names, with a reference held. */
static struct weft_dev *weft_dev_from_info(struct genl_info *info)
{
	struct nlattr *ifindex = info->attrs[WEFT_A_IFINDEX];
	struct nlattr *ifname = info->attrs[WEFT_A_IFNAME];
	struct net *net = genl_info_net(info);
	struct net_device *dev;

	if (ifindex) {
		dev = dev_get_by_index(net, nla_get_u32(ifindex));
	} else if (ifname) {
		dev = dev_get_by_name(net, nla_data(ifname));
	} else {
		NL_SET_ERR_MSG(info->extack,
			       "WEFT_A_IFINDEX or WEFT_A_IFNAME is required");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, WEFT_A_IFINDEX);
		return ERR_PTR(-EINVAL);
	}
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, ifindex ?: ifname,
				    "no such device in this network namespace");
		return ERR_PTR(-ENODEV);
	}
	if (ifindex && ifname && nla_strcmp(ifname, dev->name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, ifname,
				    "WEFT_A_IFINDEX and WEFT_A_IFNAME name different devices");
		dev_put(dev);
		return ERR_PTR(-EINVAL);
	}
	if (!weft_is_weft_dev(dev)) {
		NL_SET_ERR_MSG_ATTR(info->extack, ifindex ?: ifname,
				    "not a weft device");
		dev_put(dev);
		return ERR_PTR(-EOPNOTSUPP);
	}
	return netdev_priv(dev);
}

static int weft_put_stats(struct sk_buff *skb, struct weft_dev *wd)
{
	struct nlattr *stats, *drops;
	struct weft_stats st;
	u64 rx = 0, tx = 0;
	int r;

	weft_dev_get_stats(wd, &st);
	for (r = 0; r < __WEFT_DROP_MAX; r++) {
		rx += st.drops[WEFT_RX][r];
		tx += st.drops[WEFT_TX][r];
	}

	stats = nla_nest_start(skb, WEFT_A_STATS);
	if (!stats)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, WEFT_STATS_A_RX_PACKETS, st.rx_packets, WEFT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, WEFT_STATS_A_RX_BYTES, st.rx_bytes, WEFT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, WEFT_STATS_A_TX_PACKETS, st.tx_packets, WEFT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, WEFT_STATS_A_TX_BYTES, st.tx_bytes, WEFT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, WEFT_STATS_A_RX_DROPS, rx, WEFT_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, WEFT_STATS_A_TX_DROPS, tx, WEFT_STATS_A_PAD))
		goto cancel;

	drops = nla_nest_start(skb, WEFT_STATS_A_DROPS);
	if (!drops)
		goto cancel;
	for (r = 0; r < __WEFT_DROP_MAX; r++)
		if (nla_put_u64_64bit(skb, r + 1,
				      st.drops[WEFT_RX][r] + st.drops[WEFT_TX][r],
				      0))
			goto cancel;
	nla_nest_end(skb, drops);
	nla_nest_end(skb, stats);
	return 0;

cancel:
	nla_nest_cancel(skb, stats);
	return -EMSGSIZE;
}

static int weft_put_dev(struct sk_buff *skb, struct weft_dev *wd)
{
	struct net_device *dev = wd->dev;
	struct weft_cfg cfg;
	struct nlattr *nest;
	u32 generation;

	mutex_lock(&wd->lock);
	cfg = wd->cfg;
	generation = wd->generation;
	mutex_unlock(&wd->lock);

	if (nla_put_u32(skb, WEFT_A_IFINDEX, dev->ifindex) ||
	    nla_put_string(skb, WEFT_A_IFNAME, dev->name))
		return -EMSGSIZE;

	nest = nla_nest_start(skb, WEFT_A_DEV);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, WEFT_DEV_A_VNI, cfg.vni) ||
	    nla_put_u16(skb, WEFT_DEV_A_PORT, cfg.port) ||
	    (cfg.local4 &&
	     nla_put_in_addr(skb, WEFT_DEV_A_LOCAL4, cfg.local4)) ||
	    (!ipv6_addr_any(&cfg.local6) &&
	     nla_put_in6_addr(skb, WEFT_DEV_A_LOCAL6, &cfg.local6)) ||
	    nla_put_u32(skb, WEFT_DEV_A_UNDERLAY, cfg.underlay_ifindex) ||
	    nla_put(skb, WEFT_DEV_A_VTEP_MAC, ETH_ALEN, cfg.vtep_mac) ||
	    nla_put_u8(skb, WEFT_DEV_A_CROSSSUBNET, cfg.crosssubnet) ||
	    nla_put_u32(skb, WEFT_DEV_A_GENERATION, generation) ||
	    nla_put_u32(skb, WEFT_DEV_A_MTU, READ_ONCE(dev->mtu))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);

	return weft_put_stats(skb, wd);
}

/* Starts the reply to a do request: a message carrying the family header. */
static struct sk_buff *weft_reply_new(struct genl_info *info, u8 cmd,
				      void **hdr)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!msg)
		return NULL;
	*hdr = genlmsg_put_reply(msg, info, &weft_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Sends a filled reply, or drops it when filling it failed with @err. */
static int weft_reply_send(struct sk_buff *msg, void *hdr,
			   struct genl_info *info, int err)
{
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int weft_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct weft_dev *wd;
	struct sk_buff *msg;
	void *hdr;
	int err;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);

	msg = weft_reply_new(info, WEFT_CMD_DEV_GET, &hdr);
	err = msg ? weft_reply_send(msg, hdr, info, weft_put_dev(msg, wd)) :
		    -ENOMEM;
	dev_put(wd->dev);
	return err;
}

/*
 * Dumps walk the netns's devices in ifindex order; cb->args[0] holds the
 * next ifindex to visit, so a dump resumes where the last message ended.
 * The netns's device generation goes into cb->seq, so a dump that spans a
 * device coming or going is flagged NLM_F_DUMP_INTR.
 */
static int weft_nl_dev_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct weft_net *wn = weft_pernet(sock_net(skb->sk));
	unsigned long idx = cb->args[0];
	struct weft_dev *wd;
	int err = 0;
	void *hdr;

	for (;;) {
		rcu_read_lock();
		cb->seq = READ_ONCE(wn->generation);
		wd = xa_find(&wn->devs, &idx, ULONG_MAX, XA_PRESENT);
		if (wd)
			dev_hold(wd->dev);
		rcu_read_unlock();
		if (!wd)
			break;

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &weft_genl_family,
				  NLM_F_MULTI, WEFT_CMD_DEV_GET);
		err = hdr ? 0 : -EMSGSIZE;
		if (hdr) {
			nl_dump_check_consistent(cb, genlmsg_nlhdr(hdr));
			err = weft_put_dev(skb, wd);
			if (err)
				genlmsg_cancel(skb, hdr);
			else
				genlmsg_end(skb, hdr);
		}
		dev_put(wd->dev);
		if (err)
			break;
		idx++;
	}
	cb->args[0] = idx;

	/* A device too large for an empty message would loop forever. */
	if (err && !skb->len)
		return err;
	return skb->len;
}

static int weft_check_addrs(struct nlattr **tb, struct netlink_ext_ack *extack)
{
	struct nlattr *a;

	a = tb[WEFT_DEV_A_LOCAL4];
	if (a && ipv4_is_multicast(nla_get_in_addr(a))) {
		NL_SET_ERR_MSG_ATTR(extack, a,
				    "WEFT_DEV_A_LOCAL4 must be a unicast address");
		return -EINVAL;
	}
	a = tb[WEFT_DEV_A_LOCAL6];
	if (a) {
		struct in6_addr addr = nla_get_in6_addr(a);

		if (ipv6_addr_is_multicast(&addr)) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "WEFT_DEV_A_LOCAL6 must be a unicast address");
			return -EINVAL;
		}
	}
	a = tb[WEFT_DEV_A_VTEP_MAC];
	if (a && !is_valid_ether_addr(nla_data(a))) {
		NL_SET_ERR_MSG_ATTR(extack, a,
				    "WEFT_DEV_A_VTEP_MAC must be a unicast, non-zero address");
		return -EINVAL;
	}
	return 0;
}

static int weft_check_underlay(struct weft_dev *wd, struct nlattr *a,
			       struct netlink_ext_ack *extack)
{
	struct net_device *under;
	u32 ifindex;
	int err = 0;

	if (!a)
		return 0;
	ifindex = nla_get_u32(a);
	if (!ifindex)
		return 0;

	under = dev_get_by_index(dev_net(wd->dev), ifindex);
	if (!under) {
		NL_SET_ERR_MSG_ATTR(extack, a,
				    "WEFT_DEV_A_UNDERLAY: no such device in this network namespace");
		return -ENODEV;
	}
	if (weft_is_weft_dev(under)) {
		NL_SET_ERR_MSG_ATTR(extack, a,
				    "WEFT_DEV_A_UNDERLAY cannot be a weft device");
		err = -EINVAL;
	}
	dev_put(under);
	return err;
}

static int weft_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[WEFT_DEV_A_MAX + 1];
	struct weft_live *live;
	struct weft_cfg cfg;
	struct weft_dev *wd;
	int err, mtu = 0;

	if (GENL_REQ_ATTR_CHECK(info, WEFT_A_DEV)) {
		NL_SET_ERR_MSG(info->extack, "WEFT_A_DEV is required");
		return -EINVAL;
	}

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);

	err = nla_parse_nested(tb, WEFT_DEV_A_MAX, info->attrs[WEFT_A_DEV],
			       weft_dev_set_policy, info->extack);
	if (err)
		goto out;

	/* Check everything before changing anything: a SET applies whole. */
	err = weft_check_addrs(tb, info->extack);
	if (err)
		goto out;
	err = weft_check_underlay(wd, tb[WEFT_DEV_A_UNDERLAY], info->extack);
	if (err)
		goto out;

	/* RTNL for the sockets (a new port) and the MTU (a new underlay). */
	rtnl_lock();
	mutex_lock(&wd->lock);
	cfg = wd->cfg;
	if (tb[WEFT_DEV_A_VNI])
		cfg.vni = nla_get_u32(tb[WEFT_DEV_A_VNI]);
	if (tb[WEFT_DEV_A_PORT])
		cfg.port = nla_get_u16(tb[WEFT_DEV_A_PORT]);
	if (tb[WEFT_DEV_A_LOCAL4])
		cfg.local4 = nla_get_in_addr(tb[WEFT_DEV_A_LOCAL4]);
	if (tb[WEFT_DEV_A_LOCAL6])
		cfg.local6 = nla_get_in6_addr(tb[WEFT_DEV_A_LOCAL6]);
	if (tb[WEFT_DEV_A_UNDERLAY])
		cfg.underlay_ifindex = nla_get_u32(tb[WEFT_DEV_A_UNDERLAY]);
	if (tb[WEFT_DEV_A_VTEP_MAC])
		ether_addr_copy(cfg.vtep_mac, nla_data(tb[WEFT_DEV_A_VTEP_MAC]));
	if (tb[WEFT_DEV_A_CROSSSUBNET])
		cfg.crosssubnet = nla_get_u8(tb[WEFT_DEV_A_CROSSSUBNET]);

	live = weft_live_alloc(&cfg);
	if (!live) {
		err = -ENOMEM;
		goto unlock;
	}
	if (cfg.port != wd->cfg.port || cfg.vni != wd->cfg.vni) {
		err = weft_tunnel_rebind(wd, cfg.port, cfg.vni);
		if (err == -EBUSY)
			NL_SET_ERR_MSG(info->extack,
				       "another weft device of this netns receives this VNI on this port");
		else if (err)
			NL_SET_ERR_MSG(info->extack,
				       "cannot bind the VXLAN port");
		if (err) {
			kfree(live);
			goto unlock;
		}
	}
	weft_live_commit(wd, live);
	wd->cfg = cfg;
	wd->generation++;
	weft_nodes_reset_dst(wd);
	mtu = weft_underlay_mtu(wd);
unlock:
	mutex_unlock(&wd->lock);
	/* Outside wd->lock: the netdev notifier takes it. */
	if (mtu && mtu != wd->dev->mtu)
		dev_set_mtu(wd->dev, mtu);
	rtnl_unlock();
out:
	dev_put(wd->dev);
	return err;
}

/* ---- nodes and routes ---- */

static const struct nla_policy weft_node_policy[WEFT_NODE_A_MAX + 1] = {
	[WEFT_NODE_A_ADDR4]	= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[WEFT_NODE_A_ADDR6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[WEFT_NODE_A_ENCAP]	= NLA_POLICY_MAX(NLA_U8, WEFT_ENCAP_MAX),
	[WEFT_NODE_A_VTEP_MAC]	= NLA_POLICY_ETH_ADDR,
	[WEFT_NODE_A_STATS]	= { .type = NLA_REJECT,
				    .reject_message = "WEFT_NODE_A_STATS is read-only" },
};

/* NODE_DEL and NODE_GET name a node by its address only. */
static const struct nla_policy weft_node_key_policy[WEFT_NODE_A_MAX + 1] = {
	[WEFT_NODE_A_ADDR4]	= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[WEFT_NODE_A_ADDR6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
};

static const struct nla_policy weft_node_top_policy[WEFT_A_MAX + 1] = {
	[WEFT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_A_IFNAME]		= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[WEFT_A_NODE]		= NLA_POLICY_NESTED(weft_node_policy),
	[WEFT_A_REPLACE]	= { .type = NLA_FLAG },
};

static const struct nla_policy weft_node_key_top_policy[WEFT_A_MAX + 1] = {
	[WEFT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_A_IFNAME]		= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[WEFT_A_NODE]		= NLA_POLICY_NESTED(weft_node_key_policy),
};

static const struct nla_policy weft_route_policy[WEFT_ROUTE_A_MAX + 1] = {
	[WEFT_ROUTE_A_FAMILY]	= { .type = NLA_U8 },
	[WEFT_ROUTE_A_PREFIX]	= { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[WEFT_ROUTE_A_PREFIXLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[WEFT_ROUTE_A_NODE4]	= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[WEFT_ROUTE_A_NODE6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
};

/* ROUTE_DEL and ROUTE_GET name a route by its prefix only. */
static const struct nla_policy weft_route_key_policy[WEFT_ROUTE_A_MAX + 1] = {
	[WEFT_ROUTE_A_FAMILY]	= { .type = NLA_U8 },
	[WEFT_ROUTE_A_PREFIX]	= { .type = NLA_BINARY, .len = sizeof(struct in6_addr) },
	[WEFT_ROUTE_A_PREFIXLEN] = NLA_POLICY_MAX(NLA_U8, 128),
};

static const struct nla_policy weft_route_top_policy[WEFT_A_MAX + 1] = {
	[WEFT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_A_IFNAME]		= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[WEFT_A_ROUTE]		= NLA_POLICY_NESTED(weft_route_policy),
	[WEFT_A_REPLACE]	= { .type = NLA_FLAG },
};

static const struct nla_policy weft_route_key_top_policy[WEFT_A_MAX + 1] = {
	[WEFT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_A_IFNAME]		= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[WEFT_A_ROUTE]		= NLA_POLICY_NESTED(weft_route_key_policy),
};

/* Dump state, in the netlink callback's scratch area. */
struct weft_node_dump {
	int ifindex;
	unsigned int bucket;
	unsigned int skip;	/* nodes of @bucket already sent */
};

struct weft_route_dump {
	int ifindex;
	int family;		/* AF_INET, then AF_INET6, then 0: done */
	struct weft_rtable_cursor cursor;
};

static_assert(sizeof(struct weft_node_dump) <=
	      sizeof_field(struct netlink_callback, ctx));
static_assert(sizeof(struct weft_route_dump) <=
	      sizeof_field(struct netlink_callback, ctx));

/* A dump records a generation in cb->seq; 0 would mean "not recorded". */
static u32 weft_dump_seq(u32 generation)
{
	return generation << 1 | 1;
}

static unsigned int weft_alen(int family)
{
	return family == AF_INET ? sizeof(__be32) : sizeof(struct in6_addr);
}

/* Resolves the device of a dump request once, at its start. */
static int weft_dump_start_dev(struct netlink_callback *cb, int *ifindex)
{
	struct genl_info info = {
		.attrs = weft_dumpit_attrs(cb),
		.extack = cb->extack,
	};
	struct weft_dev *wd;

	genl_info_net_set(&info, sock_net(cb->skb->sk));
	wd = weft_dev_from_info(&info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);
	*ifindex = wd->dev->ifindex;
	dev_put(wd->dev);
	return 0;
}

/* The device of a running dump, with a reference held. */
static struct weft_dev *weft_dump_dev(struct netlink_callback *cb, int ifindex)
{
	struct net_device *dev;

	dev = dev_get_by_index(sock_net(cb->skb->sk), ifindex);
	if (!dev)
		return ERR_PTR(-ENODEV);
	if (!weft_is_weft_dev(dev)) {
		dev_put(dev);
		return ERR_PTR(-ENODEV);
	}
	return netdev_priv(dev);
}

static int weft_node_key(struct nlattr **tb, struct nlattr *nest, int *family,
			 const void **addr, struct netlink_ext_ack *extack)
{
	struct nlattr *a4 = tb[WEFT_NODE_A_ADDR4], *a6 = tb[WEFT_NODE_A_ADDR6];

	if (a4 && a6) {
		NL_SET_ERR_MSG_ATTR(extack, a6,
				    "WEFT_NODE_A_ADDR4 and WEFT_NODE_A_ADDR6 are mutually exclusive");
		return -EINVAL;
	}
	if (a4) {
		__be32 addr4 = nla_get_in_addr(a4);

		if (!addr4 || ipv4_is_multicast(addr4) || ipv4_is_lbcast(addr4)) {
			NL_SET_ERR_MSG_ATTR(extack, a4,
					    "WEFT_NODE_A_ADDR4 must be a unicast address");
			return -EINVAL;
		}
		*family = AF_INET;
		*addr = nla_data(a4);
		return 0;
	}
	if (a6) {
		struct in6_addr addr6 = nla_get_in6_addr(a6);

		if (ipv6_addr_any(&addr6) || ipv6_addr_is_multicast(&addr6)) {
			NL_SET_ERR_MSG_ATTR(extack, a6,
					    "WEFT_NODE_A_ADDR6 must be a unicast address");
			return -EINVAL;
		}
		*family = AF_INET6;
		*addr = nla_data(a6);
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(extack, nest,
			    "WEFT_NODE_A_ADDR4 or WEFT_NODE_A_ADDR6 is required");
	NL_SET_ERR_ATTR_MISS(extack, nest, WEFT_NODE_A_ADDR4);
	return -EINVAL;
}

/* Parses the one WEFT_A_NODE of a request into @tb. */
static int weft_parse_node(struct genl_info *info,
			   const struct nla_policy *policy,
			   struct nlattr **tb, int *family, const void **addr)
{
	struct nlattr *nest = info->attrs[WEFT_A_NODE];
	int err;

	if (!nest) {
		NL_SET_ERR_MSG(info->extack, "WEFT_A_NODE is required");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, WEFT_A_NODE);
		return -EINVAL;
	}
	err = nla_parse_nested(tb, WEFT_NODE_A_MAX, nest, policy, info->extack);
	if (err)
		return err;
	return weft_node_key(tb, nest, family, addr, info->extack);
}

static int weft_put_node(struct sk_buff *skb, const struct weft_node *node)
{
	union weft_node_params p = { .word = READ_ONCE(node->params.word) };
	struct weft_node_stats st;
	struct nlattr *nest, *stats;
	int i;

	weft_node_get_stats(node, &st);
	nest = nla_nest_start(skb, WEFT_A_NODE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put(skb, node->family == AF_INET ? WEFT_NODE_A_ADDR4 :
		    WEFT_NODE_A_ADDR6, weft_alen(node->family), &node->addr) ||
	    nla_put_u8(skb, WEFT_NODE_A_ENCAP, p.encap) ||
	    nla_put(skb, WEFT_NODE_A_VTEP_MAC, ETH_ALEN, p.vtep_mac))
		goto cancel;
	stats = nla_nest_start(skb, WEFT_NODE_A_STATS);
	if (!stats)
		goto cancel;
	for (i = 0; i < WEFT_NODE_NSTATS; i++)
		if (nla_put_u64_64bit(skb, WEFT_STATS_A_RX_PACKETS + i,
				      st.count[i], WEFT_STATS_A_PAD))
			goto cancel;
	nla_nest_end(skb, stats);
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int weft_nl_node_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[WEFT_NODE_A_MAX + 1];
	union weft_node_params p = {};
	struct weft_node *node;
	struct weft_dev *wd;
	const void *addr;
	int family, err;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);
	err = weft_parse_node(info, weft_node_policy, tb, &family, &addr);
	if (err)
		goto out;

	p.encap = WEFT_ENCAP_VXLAN;
	if (tb[WEFT_NODE_A_ENCAP])
		p.encap = nla_get_u8(tb[WEFT_NODE_A_ENCAP]);
	if (tb[WEFT_NODE_A_VTEP_MAC]) {
		const u8 *mac = nla_data(tb[WEFT_NODE_A_VTEP_MAC]);

		if (is_multicast_ether_addr(mac)) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[WEFT_NODE_A_VTEP_MAC],
					    "WEFT_NODE_A_VTEP_MAC must be a unicast address");
			err = -EINVAL;
			goto out;
		}
		ether_addr_copy(p.vtep_mac, mac);
	}

	mutex_lock(&wd->lock);
	node = weft_node_lookup(wd, family, addr);
	if (node && !nla_get_flag(info->attrs[WEFT_A_REPLACE])) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[WEFT_A_NODE],
				    "node exists (WEFT_A_REPLACE updates it)");
		err = -EEXIST;
	} else if (node) {
		WRITE_ONCE(node->params.word, p.word);
		/* The encapsulation is part of the route's flow. */
		dst_cache_reset(&node->dst_cache);
		wd->node_generation++;
		wd->generation++;
	} else {
		node = weft_node_create(wd, family, addr, p);
		err = PTR_ERR_OR_ZERO(node);
		if (err)
			NL_SET_ERR_MSG(info->extack, "out of memory");
	}
	mutex_unlock(&wd->lock);
out:
	dev_put(wd->dev);
	return err;
}

static int weft_nl_node_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[WEFT_NODE_A_MAX + 1];
	struct weft_node *node;
	struct weft_dev *wd;
	const void *addr;
	int family, err;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);
	err = weft_parse_node(info, weft_node_key_policy, tb, &family, &addr);
	if (err)
		goto out;

	mutex_lock(&wd->lock);
	node = weft_node_lookup(wd, family, addr);
	if (node) {
		weft_node_delete(wd, node);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[WEFT_A_NODE],
				    "no such node");
		err = -ENOENT;
	}
	mutex_unlock(&wd->lock);
out:
	dev_put(wd->dev);
	return err;
}

static int weft_nl_node_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[WEFT_NODE_A_MAX + 1];
	struct weft_node *node;
	struct sk_buff *msg;
	struct weft_dev *wd;
	const void *addr;
	int family, err;
	void *hdr;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);
	err = weft_parse_node(info, weft_node_key_policy, tb, &family, &addr);
	if (err)
		goto out;

	msg = weft_reply_new(info, WEFT_CMD_NODE_GET, &hdr);
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}

	mutex_lock(&wd->lock);
	node = weft_node_lookup(wd, family, addr);
	if (node) {
		err = nla_put_u32(msg, WEFT_A_IFINDEX, wd->dev->ifindex) ?:
		      weft_put_node(msg, node);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[WEFT_A_NODE],
				    "no such node");
		err = -ENOENT;
	}
	mutex_unlock(&wd->lock);
	err = weft_reply_send(msg, hdr, info, err);
out:
	dev_put(wd->dev);
	return err;
}

static int weft_nl_node_get_start(struct netlink_callback *cb)
{
	struct weft_node_dump *ctx = (void *)cb->ctx;

	return weft_dump_start_dev(cb, &ctx->ifindex);
}

/*
 * One message per node, bucket by bucket; the context holds the bucket and
 * how many of its nodes went out already. The node generation goes into
 * cb->seq, so nodes coming or going during the dump flag NLM_F_DUMP_INTR.
 */
static int weft_nl_node_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct weft_node_dump *ctx = (void *)cb->ctx;
	struct weft_node *node;
	struct weft_dev *wd;
	unsigned int i;
	int err = 0;
	void *hdr;

	wd = weft_dump_dev(cb, ctx->ifindex);
	if (IS_ERR(wd))
		return PTR_ERR(wd);

	mutex_lock(&wd->lock);
	cb->seq = weft_dump_seq(wd->node_generation);
	for (; ctx->bucket < WEFT_NODE_HASH_SIZE; ctx->bucket++, ctx->skip = 0) {
		i = 0;
		hlist_for_each_entry(node, &wd->nodes[ctx->bucket], hnode) {
			if (i++ < ctx->skip)
				continue;
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, &weft_genl_family,
					  NLM_F_MULTI, WEFT_CMD_NODE_GET);
			if (!hdr) {
				err = -EMSGSIZE;
				goto out;
			}
			nl_dump_check_consistent(cb, genlmsg_nlhdr(hdr));
			err = nla_put_u32(skb, WEFT_A_IFINDEX, ctx->ifindex) ?:
			      weft_put_node(skb, node);
			if (err) {
				genlmsg_cancel(skb, hdr);
				goto out;
			}
			genlmsg_end(skb, hdr);
			ctx->skip++;
		}
	}
out:
	mutex_unlock(&wd->lock);
	dev_put(wd->dev);
	if (err && !skb->len)
		return err;
	return skb->len;
}

struct weft_route_req {
	int family;
	const void *prefix;
	u8 plen;
	struct nlattr *node;	/* NODE4 or NODE6 */
	int node_family;
};

static bool weft_host_bits_set(const u8 *prefix, unsigned int len, u8 plen)
{
	unsigned int i;

	for (i = plen / 8; i < len; i++) {
		u8 mask = i == plen / 8 ? 0xff >> (plen % 8) : 0xff;

		if (prefix[i] & mask)
			return true;
	}
	return false;
}

static int weft_parse_route(struct nlattr *nest, const struct nla_policy *policy,
			    bool want_node, struct weft_route_req *r,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[WEFT_ROUTE_A_MAX + 1], *a;
	unsigned int len;
	int err;

	err = nla_parse_nested(tb, WEFT_ROUTE_A_MAX, nest, policy, extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, WEFT_ROUTE_A_FAMILY)) {
		NL_SET_ERR_MSG(extack, "WEFT_ROUTE_A_FAMILY is required");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, WEFT_ROUTE_A_PREFIX)) {
		NL_SET_ERR_MSG(extack, "WEFT_ROUTE_A_PREFIX is required");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, WEFT_ROUTE_A_PREFIXLEN)) {
		NL_SET_ERR_MSG(extack, "WEFT_ROUTE_A_PREFIXLEN is required");
		return -EINVAL;
	}

	a = tb[WEFT_ROUTE_A_FAMILY];
	r->family = nla_get_u8(a);
	if (r->family != AF_INET && r->family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, a,
				    "WEFT_ROUTE_A_FAMILY must be AF_INET or AF_INET6");
		return -EINVAL;
	}
	len = weft_alen(r->family);
	a = tb[WEFT_ROUTE_A_PREFIX];
	if (nla_len(a) != len) {
		NL_SET_ERR_MSG_ATTR(extack, a,
				    "WEFT_ROUTE_A_PREFIX must be 4 bytes for AF_INET, 16 for AF_INET6");
		return -EINVAL;
	}
	r->prefix = nla_data(a);
	a = tb[WEFT_ROUTE_A_PREFIXLEN];
	r->plen = nla_get_u8(a);
	if (r->plen > len * 8) {
		NL_SET_ERR_MSG_ATTR(extack, a,
				    "WEFT_ROUTE_A_PREFIXLEN is longer than the address");
		return -EINVAL;
	}
	if (weft_host_bits_set(r->prefix, len, r->plen)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[WEFT_ROUTE_A_PREFIX],
				    "WEFT_ROUTE_A_PREFIX has bits set beyond WEFT_ROUTE_A_PREFIXLEN");
		return -EINVAL;
	}
	if (!want_node)
		return 0;

	if (tb[WEFT_ROUTE_A_NODE4] && tb[WEFT_ROUTE_A_NODE6]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[WEFT_ROUTE_A_NODE6],
				    "WEFT_ROUTE_A_NODE4 and WEFT_ROUTE_A_NODE6 are mutually exclusive");
		return -EINVAL;
	}
	r->node = tb[WEFT_ROUTE_A_NODE4] ?: tb[WEFT_ROUTE_A_NODE6];
	r->node_family = tb[WEFT_ROUTE_A_NODE4] ? AF_INET : AF_INET6;
	if (!r->node) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "WEFT_ROUTE_A_NODE4 or WEFT_ROUTE_A_NODE6 is required");
		NL_SET_ERR_ATTR_MISS(extack, nest, WEFT_ROUTE_A_NODE4);
		return -EINVAL;
	}
	return 0;
}

static int weft_put_route(struct sk_buff *skb, int family, const void *prefix,
			  u8 plen, const struct weft_node *node)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, WEFT_A_ROUTE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(skb, WEFT_ROUTE_A_FAMILY, family) ||
	    nla_put(skb, WEFT_ROUTE_A_PREFIX, weft_alen(family), prefix) ||
	    nla_put_u8(skb, WEFT_ROUTE_A_PREFIXLEN, plen) ||
	    nla_put(skb, node->family == AF_INET ? WEFT_ROUTE_A_NODE4 :
		    WEFT_ROUTE_A_NODE6, weft_alen(node->family), &node->addr)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * ROUTE_ADD and ROUTE_DEL take any number of WEFT_A_ROUTE nests. The core
 * validated each of them against the policy but keeps only the last in
 * info->attrs, so walk the message. They apply in order; the first that
 * fails stops the request, the ones before it stay applied, and the
 * extended ACK points into the failing nest.
 */
static int weft_nl_route_change(struct genl_info *info, bool add)
{
	bool replace = nla_get_flag(info->attrs[WEFT_A_REPLACE]);
	struct netlink_ext_ack *extack = info->extack;
	struct weft_route_req r;
	struct weft_node *node;
	struct weft_dev *wd;
	struct nlattr *a;
	int rem, n = 0, err = 0;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);

	mutex_lock(&wd->lock);
	nlmsg_for_each_attr(a, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(a) != WEFT_A_ROUTE)
			continue;
		n++;
		err = weft_parse_route(a, add ? weft_route_policy :
				       weft_route_key_policy, add, &r, extack);
		if (err)
			break;
		if (!add) {
			err = weft_route_del(wd, r.family, r.prefix, r.plen);
			if (err)
				NL_SET_ERR_MSG_ATTR(extack, a, "no such route");
			if (err)
				break;
			continue;
		}
		node = weft_node_lookup(wd, r.node_family, nla_data(r.node));
		if (!node) {
			NL_SET_ERR_MSG_ATTR(extack, r.node, "no such node");
			err = -ENOENT;
			break;
		}
		err = weft_route_add(wd, r.family, r.prefix, r.plen, node,
				     replace);
		if (err == -EEXIST)
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "route exists (WEFT_A_REPLACE changes its node)");
		else if (err)
			NL_SET_ERR_MSG_ATTR(extack, a, "cannot add the route");
		if (err)
			break;
	}
	mutex_unlock(&wd->lock);

	if (!n) {
		NL_SET_ERR_MSG(extack, "WEFT_A_ROUTE is required");
		NL_SET_ERR_ATTR_MISS(extack, NULL, WEFT_A_ROUTE);
		err = -EINVAL;
	}
	dev_put(wd->dev);
	return err;
}

static int weft_nl_route_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	return weft_nl_route_change(info, true);
}

static int weft_nl_route_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	return weft_nl_route_change(info, false);
}

static int weft_nl_route_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *nest = info->attrs[WEFT_A_ROUTE];
	struct weft_route_req r;
	struct weft_node *node;
	struct sk_buff *msg;
	struct weft_dev *wd;
	void *hdr;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, WEFT_A_ROUTE)) {
		NL_SET_ERR_MSG(info->extack, "WEFT_A_ROUTE is required");
		return -EINVAL;
	}
	err = weft_parse_route(nest, weft_route_key_policy, false, &r,
			       info->extack);
	if (err)
		return err;
	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);

	msg = weft_reply_new(info, WEFT_CMD_ROUTE_GET, &hdr);
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}

	mutex_lock(&wd->lock);
	node = weft_route_get(wd, r.family, r.prefix, r.plen);
	if (node) {
		err = nla_put_u32(msg, WEFT_A_IFINDEX, wd->dev->ifindex) ?:
		      weft_put_route(msg, r.family, r.prefix, r.plen, node);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, nest, "no such route");
		err = -ENOENT;
	}
	mutex_unlock(&wd->lock);
	err = weft_reply_send(msg, hdr, info, err);
out:
	dev_put(wd->dev);
	return err;
}

static int weft_nl_route_get_start(struct netlink_callback *cb)
{
	struct weft_route_dump *ctx = (void *)cb->ctx;

	ctx->family = AF_INET;
	return weft_dump_start_dev(cb, &ctx->ifindex);
}

struct weft_route_dump_arg {
	struct sk_buff *skb;
	int family;
	unsigned int n;
};

static int weft_route_dump_cb(void *arg, const void *prefix, u8 plen,
			      void *value)
{
	struct weft_route_dump_arg *d = arg;
	int err;

	err = weft_put_route(d->skb, d->family, prefix, plen, value);
	if (!err)
		d->n++;
	return err;
}

/*
 * Routes go out many to a message (WEFT_A_IFINDEX, then WEFT_A_ROUTE
 * nests), IPv4 first, each family in prefix order. The walk's cursor lives
 * in the callback context; the route table's generation in cb->seq.
 */
static int weft_nl_route_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct weft_route_dump *ctx = (void *)cb->ctx;
	struct weft_route_dump_arg d = { .skb = skb };
	struct weft_dev *wd;
	void *hdr;
	int err = 0;

	if (!ctx->family)
		return 0;
	wd = weft_dump_dev(cb, ctx->ifindex);
	if (IS_ERR(wd))
		return PTR_ERR(wd);

	mutex_lock(&wd->lock);
	cb->seq = weft_dump_seq(READ_ONCE(wd->routes.generation));
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &weft_genl_family, NLM_F_MULTI, WEFT_CMD_ROUTE_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto out;
	}
	nl_dump_check_consistent(cb, genlmsg_nlhdr(hdr));
	if (nla_put_u32(skb, WEFT_A_IFINDEX, ctx->ifindex)) {
		genlmsg_cancel(skb, hdr);
		err = -EMSGSIZE;
		goto out;
	}
	while (ctx->family) {
		d.family = ctx->family;
		err = weft_rtable_walk(&wd->routes, ctx->family, &ctx->cursor,
				       weft_route_dump_cb, &d);
		if (err)
			break;
		ctx->family = ctx->family == AF_INET ? AF_INET6 : 0;
		memset(&ctx->cursor, 0, sizeof(ctx->cursor));
	}
	if (d.n) {
		genlmsg_end(skb, hdr);
		err = 0;
	} else {
		genlmsg_cancel(skb, hdr);
	}
out:
	mutex_unlock(&wd->lock);
	dev_put(wd->dev);
	if (err && !skb->len)
		return err;
	return skb->len;
}

/* ---- endpoints ---- */

static const struct nla_policy weft_endpoint_policy[WEFT_ENDPOINT_A_MAX + 1] = {
	[WEFT_ENDPOINT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_ENDPOINT_A_ADDR4]		= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[WEFT_ENDPOINT_A_ADDR6]		= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[WEFT_ENDPOINT_A_IDENTITY]	= { .type = NLA_U32 },
};

/* ENDPOINT_DEL and ENDPOINT_GET name an endpoint by its ifindex or by one
 * of its addresses.
 */
static const struct nla_policy weft_endpoint_key_policy[WEFT_ENDPOINT_A_MAX + 1] = {
	[WEFT_ENDPOINT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_ENDPOINT_A_ADDR4]		= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[WEFT_ENDPOINT_A_ADDR6]		= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
};

static const struct nla_policy weft_endpoint_top_policy[WEFT_A_MAX + 1] = {
	[WEFT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_A_IFNAME]		= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[WEFT_A_ENDPOINT]	= NLA_POLICY_NESTED(weft_endpoint_policy),
	[WEFT_A_REPLACE]	= { .type = NLA_FLAG },
};

static const struct nla_policy weft_endpoint_key_top_policy[WEFT_A_MAX + 1] = {
	[WEFT_A_IFINDEX]	= { .type = NLA_U32 },
	[WEFT_A_IFNAME]		= { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[WEFT_A_ENDPOINT]	= NLA_POLICY_NESTED(weft_endpoint_key_policy),
};

struct weft_endpoint_dump {
	int ifindex;		/* the weft device */
	unsigned long next;	/* the host ifindex to resume at */
};

static_assert(sizeof(struct weft_endpoint_dump) <=
	      sizeof_field(struct netlink_callback, ctx));

/* An ENDPOINT_ADD request, with its attributes for the extended ACK. */
struct weft_endpoint_msg {
	struct weft_endpoint_req req;
	struct nlattr *nest;
	struct nlattr *ifindex;
	struct nlattr *addr[WEFT_ENDPOINT_MAX_ADDRS];
};

/* An ENDPOINT_DEL or ENDPOINT_GET request: by ifindex, or by address. */
struct weft_endpoint_key {
	struct nlattr *nest;
	struct nlattr *attr;
	int ifindex;		/* 0 when the key is an address */
	int family;
	const void *addr;
};

static bool weft_ep_addr_unicast(int family, const struct nlattr *a)
{
	struct in6_addr a6;
	__be32 a4;

	if (family == AF_INET) {
		a4 = nla_get_in_addr(a);
		return a4 && !ipv4_is_multicast(a4) && !ipv4_is_lbcast(a4);
	}
	a6 = nla_get_in6_addr(a);
	return !ipv6_addr_any(&a6) && !ipv6_addr_is_multicast(&a6);
}

static struct nlattr *weft_endpoint_nest(struct genl_info *info)
{
	struct nlattr *nest = info->attrs[WEFT_A_ENDPOINT];

	if (!nest) {
		NL_SET_ERR_MSG(info->extack, "WEFT_A_ENDPOINT is required");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, WEFT_A_ENDPOINT);
	}
	return nest;
}

/* Parses the addresses of an ADD: at least one, at most
 * WEFT_ENDPOINT_MAX_ADDRS, each unicast and given once.
 */
static int weft_parse_endpoint_addrs(struct weft_endpoint_msg *m,
				     struct netlink_ext_ack *extack)
{
	struct weft_endpoint_req *req = &m->req;
	unsigned int i, n = 0;
	struct nlattr *a;
	int rem, family;

	nla_for_each_nested(a, m->nest, rem) {
		if (nla_type(a) == WEFT_ENDPOINT_A_ADDR4)
			family = AF_INET;
		else if (nla_type(a) == WEFT_ENDPOINT_A_ADDR6)
			family = AF_INET6;
		else
			continue;
		if (n == WEFT_ENDPOINT_MAX_ADDRS) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "an endpoint has at most WEFT_ENDPOINT_MAX_ADDRS ("
					    __stringify(WEFT_ENDPOINT_MAX_ADDRS) ") addresses");
			return -E2BIG;
		}
		if (!weft_ep_addr_unicast(family, a)) {
			if (family == AF_INET)
				NL_SET_ERR_MSG_ATTR(extack, a,
						    "WEFT_ENDPOINT_A_ADDR4 must be a unicast address");
			else
				NL_SET_ERR_MSG_ATTR(extack, a,
						    "WEFT_ENDPOINT_A_ADDR6 must be a unicast address");
			return -EINVAL;
		}
		for (i = 0; i < n; i++) {
			if (req->addrs[i].family == family &&
			    !memcmp(&req->addrs[i].addr, nla_data(a), weft_alen(family))) {
				NL_SET_ERR_MSG_ATTR(extack, a,
						    "address given twice");
				return -EINVAL;
			}
		}
		req->addrs[n].family = family;
		memcpy(&req->addrs[n].addr, nla_data(a), weft_alen(family));
		m->addr[n++] = a;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(extack, m->nest,
				    "WEFT_ENDPOINT_A_ADDR4 or WEFT_ENDPOINT_A_ADDR6 is required");
		NL_SET_ERR_ATTR_MISS(extack, m->nest, WEFT_ENDPOINT_A_ADDR4);
		return -EINVAL;
	}
	req->naddrs = n;
	return 0;
}

static int weft_parse_endpoint(struct genl_info *info,
			       struct weft_endpoint_msg *m)
{
	struct nlattr *tb[WEFT_ENDPOINT_A_MAX + 1];
	int err;

	memset(m, 0, sizeof(*m));
	m->nest = weft_endpoint_nest(info);
	if (!m->nest)
		return -EINVAL;
	err = nla_parse_nested(tb, WEFT_ENDPOINT_A_MAX, m->nest,
			       weft_endpoint_policy, info->extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(info->extack, m->nest, tb,
			      WEFT_ENDPOINT_A_IFINDEX)) {
		NL_SET_ERR_MSG(info->extack, "WEFT_ENDPOINT_A_IFINDEX is required");
		return -EINVAL;
	}
	m->ifindex = tb[WEFT_ENDPOINT_A_IFINDEX];
	m->req.ifindex = nla_get_u32(m->ifindex);
	if (tb[WEFT_ENDPOINT_A_IDENTITY])
		m->req.identity = nla_get_u32(tb[WEFT_ENDPOINT_A_IDENTITY]);
	return weft_parse_endpoint_addrs(m, info->extack);
}

static int weft_parse_endpoint_key(struct genl_info *info,
				   struct weft_endpoint_key *key)
{
	struct nlattr *tb[WEFT_ENDPOINT_A_MAX + 1], *a;
	int rem, n = 0, err;

	memset(key, 0, sizeof(*key));
	key->nest = weft_endpoint_nest(info);
	if (!key->nest)
		return -EINVAL;
	err = nla_parse_nested(tb, WEFT_ENDPOINT_A_MAX, key->nest,
			       weft_endpoint_key_policy, info->extack);
	if (err)
		return err;

	/* The policy let only keys through; exactly one may be given. */
	nla_for_each_nested(a, key->nest, rem) {
		if (n++) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "name the endpoint by one attribute: WEFT_ENDPOINT_A_IFINDEX, _ADDR4 or _ADDR6");
			return -EINVAL;
		}
		key->attr = a;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(info->extack, key->nest,
				    "WEFT_ENDPOINT_A_IFINDEX, _ADDR4 or _ADDR6 is required");
		NL_SET_ERR_ATTR_MISS(info->extack, key->nest,
				     WEFT_ENDPOINT_A_IFINDEX);
		return -EINVAL;
	}
	switch (nla_type(key->attr)) {
	case WEFT_ENDPOINT_A_IFINDEX:
		key->ifindex = nla_get_u32(key->attr);
		/* No interface has index 0; this keeps "by address" apart. */
		if (key->ifindex <= 0)
			key->ifindex = -1;
		break;
	case WEFT_ENDPOINT_A_ADDR4:
		key->family = AF_INET;
		key->addr = nla_data(key->attr);
		break;
	default:
		key->family = AF_INET6;
		key->addr = nla_data(key->attr);
		break;
	}
	return 0;
}

/* Context: wd->lock. */
static struct weft_endpoint *weft_endpoint_find(struct weft_dev *wd,
						const struct weft_endpoint_key *key)
{
	if (key->ifindex)
		return weft_endpoint_get(wd, key->ifindex);
	return weft_endpoint_lookup(wd, key->family, key->addr);
}

static int weft_put_endpoint(struct sk_buff *skb,
			     const struct weft_endpoint *ep)
{
	const struct weft_ep_addr *ea;
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, WEFT_A_ENDPOINT);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, WEFT_ENDPOINT_A_IFINDEX, ep->ifindex))
		goto cancel;
	for (i = 0; i < ep->naddrs; i++) {
		ea = &ep->addrs[i];
		if (nla_put(skb, ea->family == AF_INET ? WEFT_ENDPOINT_A_ADDR4 :
			    WEFT_ENDPOINT_A_ADDR6, weft_alen(ea->family),
			    &ea->addr))
			goto cancel;
	}
	if (nla_put_u32(skb, WEFT_ENDPOINT_A_IDENTITY, ep->identity))
		goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int weft_nl_endpoint_add_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	bool replace = nla_get_flag(info->attrs[WEFT_A_REPLACE]);
	struct netlink_ext_ack *extack = info->extack;
	struct weft_endpoint_msg *m;
	struct weft_dev *wd;
	int err;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);
	m = kmalloc(sizeof(*m), GFP_KERNEL);
	if (!m) {
		err = -ENOMEM;
		goto out;
	}
	err = weft_parse_endpoint(info, m);
	if (err)
		goto out_free;

	mutex_lock(&wd->lock);
	err = weft_endpoint_add(wd, &m->req, replace);
	mutex_unlock(&wd->lock);

	switch (err) {
	case 0:
		break;
	case -ENODEV:
		NL_SET_ERR_MSG_ATTR(extack, m->ifindex,
				    "WEFT_ENDPOINT_A_IFINDEX: no such device in this network namespace");
		break;
	case -EINVAL:
		NL_SET_ERR_MSG_ATTR(extack, m->ifindex,
				    "WEFT_ENDPOINT_A_IFINDEX cannot be a weft device");
		break;
	case -EEXIST:
		NL_SET_ERR_MSG_ATTR(extack, m->nest,
				    "endpoint exists on that interface (WEFT_A_REPLACE replaces it)");
		break;
	case -EADDRINUSE:
		NL_SET_ERR_MSG_ATTR(extack, m->addr[m->req.conflict],
				    "address belongs to another endpoint");
		break;
	default:
		NL_SET_ERR_MSG(extack, "cannot add the endpoint");
		break;
	}
out_free:
	kfree(m);
out:
	dev_put(wd->dev);
	return err;
}

static int weft_nl_endpoint_del_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct weft_endpoint_key key;
	struct weft_endpoint *ep;
	struct weft_dev *wd;
	int err;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);
	err = weft_parse_endpoint_key(info, &key);
	if (err)
		goto out;

	mutex_lock(&wd->lock);
	ep = weft_endpoint_find(wd, &key);
	if (ep) {
		weft_endpoint_delete(wd, ep);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, key.attr, "no such endpoint");
		err = -ENOENT;
	}
	mutex_unlock(&wd->lock);
out:
	dev_put(wd->dev);
	return err;
}

static int weft_nl_endpoint_get_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct weft_endpoint_key key;
	struct weft_endpoint *ep;
	struct sk_buff *msg;
	struct weft_dev *wd;
	void *hdr;
	int err;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);
	err = weft_parse_endpoint_key(info, &key);
	if (err)
		goto out;

	msg = weft_reply_new(info, WEFT_CMD_ENDPOINT_GET, &hdr);
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}

	mutex_lock(&wd->lock);
	ep = weft_endpoint_find(wd, &key);
	if (ep) {
		err = nla_put_u32(msg, WEFT_A_IFINDEX, wd->dev->ifindex) ?:
		      weft_put_endpoint(msg, ep);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, key.attr, "no such endpoint");
		err = -ENOENT;
	}
	mutex_unlock(&wd->lock);
	err = weft_reply_send(msg, hdr, info, err);
out:
	dev_put(wd->dev);
	return err;
}

static int weft_nl_endpoint_get_start(struct netlink_callback *cb)
{
	struct weft_endpoint_dump *ctx = (void *)cb->ctx;

	return weft_dump_start_dev(cb, &ctx->ifindex);
}

/*
 * One message per endpoint, in host ifindex order; the context holds the
 * ifindex to resume at. The endpoint generation goes into cb->seq, so
 * endpoints coming, going or being replaced during the dump flag
 * NLM_F_DUMP_INTR.
 */
static int weft_nl_endpoint_get_dumpit(struct sk_buff *skb,
				       struct netlink_callback *cb)
{
	struct weft_endpoint_dump *ctx = (void *)cb->ctx;
	struct weft_endpoint *ep;
	struct weft_dev *wd;
	unsigned long idx;
	int err = 0;
	void *hdr;

	wd = weft_dump_dev(cb, ctx->ifindex);
	if (IS_ERR(wd))
		return PTR_ERR(wd);

	mutex_lock(&wd->lock);
	cb->seq = weft_dump_seq(wd->ep_generation);
	xa_for_each_start(&wd->endpoints, idx, ep, ctx->next) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &weft_genl_family,
				  NLM_F_MULTI, WEFT_CMD_ENDPOINT_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		nl_dump_check_consistent(cb, genlmsg_nlhdr(hdr));
		err = nla_put_u32(skb, WEFT_A_IFINDEX, ctx->ifindex) ?:
		      weft_put_endpoint(skb, ep);
		if (err) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		ctx->next = idx + 1;
	}
	mutex_unlock(&wd->lock);
	dev_put(wd->dev);
	if (err && !skb->len)
		return err;
	return skb->len;
}

static const struct genl_ops weft_genl_ops[] = {
	{
		.cmd	= WEFT_CMD_DEV_GET,
		.doit	= weft_nl_dev_get_doit,
		.dumpit	= weft_nl_dev_get_dumpit,
		.policy	= weft_dev_get_policy,
		.maxattr = WEFT_A_MAX,
	},
	{
		.cmd	= WEFT_CMD_DEV_SET,
		.doit	= weft_nl_dev_set_doit,
		.policy	= weft_dev_set_top_policy,
		.maxattr = WEFT_A_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= WEFT_CMD_NODE_ADD,
		.doit	= weft_nl_node_add_doit,
		.policy	= weft_node_top_policy,
		.maxattr = WEFT_A_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= WEFT_CMD_NODE_DEL,
		.doit	= weft_nl_node_del_doit,
		.policy	= weft_node_key_top_policy,
		.maxattr = WEFT_A_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= WEFT_CMD_NODE_GET,
		.doit	= weft_nl_node_get_doit,
		.start	= weft_nl_node_get_start,
		.dumpit	= weft_nl_node_get_dumpit,
		.policy	= weft_node_key_top_policy,
		.maxattr = WEFT_A_MAX,
	},
	{
		.cmd	= WEFT_CMD_ROUTE_ADD,
		.doit	= weft_nl_route_add_doit,
		.policy	= weft_route_top_policy,
		.maxattr = WEFT_A_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= WEFT_CMD_ROUTE_DEL,
		.doit	= weft_nl_route_del_doit,
		.policy	= weft_route_key_top_policy,
		.maxattr = WEFT_A_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= WEFT_CMD_ROUTE_GET,
		.doit	= weft_nl_route_get_doit,
		.start	= weft_nl_route_get_start,
		.dumpit	= weft_nl_route_get_dumpit,
		.policy	= weft_route_key_top_policy,
		.maxattr = WEFT_A_MAX,
	},
	{
		.cmd	= WEFT_CMD_ENDPOINT_ADD,
		.doit	= weft_nl_endpoint_add_doit,
		.policy	= weft_endpoint_top_policy,
		.maxattr = WEFT_A_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= WEFT_CMD_ENDPOINT_DEL,
		.doit	= weft_nl_endpoint_del_doit,
		.policy	= weft_endpoint_key_top_policy,
		.maxattr = WEFT_A_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= WEFT_CMD_ENDPOINT_GET,
		.doit	= weft_nl_endpoint_get_doit,
		.start	= weft_nl_endpoint_get_start,
		.dumpit	= weft_nl_endpoint_get_dumpit,
		.policy	= weft_endpoint_key_top_policy,
		.maxattr = WEFT_A_MAX,
	},
};

static struct genl_family weft_genl_family __ro_after_init = {
	.name		= WEFT_GENL_NAME,
	.version	= WEFT_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= weft_genl_ops,
	.n_ops		= ARRAY_SIZE(weft_genl_ops),
	/* Every command validates strictly, reserved header bits included. */
	.resv_start_op	= 0,
};

int __init weft_genl_init(void)
{
	return genl_register_family(&weft_genl_family);
}

void weft_genl_uninit(void)
{
	genl_unregister_family(&weft_genl_family);
}
