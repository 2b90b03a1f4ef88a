// SPDX-License-Identifier: GPL-2.0
/*
 * The "weft" generic netlink family; uapi/linux/weft.h documents it.
 */

#include "device.h"
#include "genl.h"

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

static int weft_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct weft_dev *wd;
	struct sk_buff *msg;
	void *hdr;
	int err;

	wd = weft_dev_from_info(info);
	if (IS_ERR(wd))
		return PTR_ERR(wd);

	err = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put_reply(msg, info, &weft_genl_family, 0,
				WEFT_CMD_DEV_GET);
	if (!hdr)
		goto err_msg;
	err = weft_put_dev(msg, wd);
	if (err)
		goto err_msg;
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
	goto out;

err_msg:
	nlmsg_free(msg);
out:
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
	struct weft_dev *wd;
	struct weft_cfg *cfg;
	int err;

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

	mutex_lock(&wd->lock);
	cfg = &wd->cfg;
	if (tb[WEFT_DEV_A_VNI])
		cfg->vni = nla_get_u32(tb[WEFT_DEV_A_VNI]);
	if (tb[WEFT_DEV_A_PORT])
		cfg->port = nla_get_u16(tb[WEFT_DEV_A_PORT]);
	if (tb[WEFT_DEV_A_LOCAL4])
		cfg->local4 = nla_get_in_addr(tb[WEFT_DEV_A_LOCAL4]);
	if (tb[WEFT_DEV_A_LOCAL6])
		cfg->local6 = nla_get_in6_addr(tb[WEFT_DEV_A_LOCAL6]);
	if (tb[WEFT_DEV_A_UNDERLAY])
		cfg->underlay_ifindex = nla_get_u32(tb[WEFT_DEV_A_UNDERLAY]);
	if (tb[WEFT_DEV_A_VTEP_MAC])
		ether_addr_copy(cfg->vtep_mac, nla_data(tb[WEFT_DEV_A_VTEP_MAC]));
	if (tb[WEFT_DEV_A_CROSSSUBNET])
		cfg->crosssubnet = nla_get_u8(tb[WEFT_DEV_A_CROSSSUBNET]);
	wd->generation++;
	mutex_unlock(&wd->lock);
out:
	dev_put(wd->dev);
	return err;
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
