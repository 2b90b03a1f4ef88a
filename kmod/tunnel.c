// SPDX-License-Identifier: GPL-2.0
/*
 * The weft datapath. A packet the stack routes into a weft device is looked
 * up in the device's route table; the route names a node, and the node's
 * encapsulation says how the packet gets there:
 *
 *   VXLAN  (RFC 7348) inner Ethernet frame to the node's VTEP MAC, in UDP
 *          to the device's port, over IPv4 or IPv6, flow-hashed source port;
 *   IPIP   IPv4 in IPv4 (protocol 4), what ipip.ko and Calico's tunl0 send;
 *   NONE   no header: the node's underlay address is the next hop.
 *
 * With cross-subnet mode a node on the local underlay subnet (its underlay
 * route has no gateway) is reached natively whatever its encapsulation.
 *
 * Receive: a UDP tunnel socket per device and family, bound to the VXLAN
 * port while the device is up, and an IP-in-IP handler shared by every
 * device. Only packets from known nodes, with the device's VNI and VTEP MAC,
 * carrying IPv4 or IPv6, come out of the device; everything else is dropped
 * and counted with its reason.
 */

#include "node.h"
#include "tunnel.h"

#include <linux/etherdevice.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/slab.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/dst.h>
#include <net/gro_cells.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ip_tunnels.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
#include <net/neighbour.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>
#include <net/xfrm.h>

/* The 8 bytes after the UDP header: the I flag ("VNI valid") and nothing
 * else in the first word, the VNI in the upper 24 bits of the second.
 */
struct weft_vxlanhdr {
	__be32 flags;
	__be32 vni;
};

#define WEFT_VXLAN_FLAG_I	cpu_to_be32(0x08000000)
#define WEFT_VXLAN_RESERVED	cpu_to_be32(0x000000ff)
#define WEFT_VXLAN_HLEN		(sizeof(struct udphdr) + \
				 sizeof(struct weft_vxlanhdr))

/* The UDP sockets of one port in one netns, shared by every weft device
 * that is up on that port; the VNI tells the devices apart. Created by the
 * first device to come up, released by the last to go down. All under RTNL;
 * the receive path reads @devs under RCU.
 */
struct weft_sock {
	struct list_head list;		/* in weft_net.socks */
	u16 port;
	unsigned int users;
	struct socket *sock4, *sock6;
	struct hlist_head devs;		/* weft_dev.vs_node */
};

static __be32 weft_vni_field(u32 vni)
{
	return cpu_to_be32(vni << 8);
}

/* ---- counters ---- */

static void weft_node_count(struct weft_node *node, enum weft_dir dir,
			    unsigned int len)
{
	struct weft_node_pcpu_stats *st = this_cpu_ptr(node->stats);
	int pkts = dir == WEFT_RX ? WEFT_STATS_A_RX_PACKETS :
				    WEFT_STATS_A_TX_PACKETS;

	u64_stats_update_begin(&st->syncp);
	u64_stats_inc(&st->count[WEFT_NODE_STAT(pkts)]);
	/* Bytes follow packets in enum weft_stats_attr. */
	u64_stats_add(&st->count[WEFT_NODE_STAT(pkts + 1)], len);
	u64_stats_update_end(&st->syncp);
}

static void weft_drop(struct weft_dev *wd, struct weft_node *node,
		      struct sk_buff *skb, enum weft_dir dir,
		      enum weft_drop_reason reason)
{
	if (node) {
		struct weft_node_pcpu_stats *st = this_cpu_ptr(node->stats);
		int drops = dir == WEFT_RX ? WEFT_STATS_A_RX_DROPS :
					     WEFT_STATS_A_TX_DROPS;

		u64_stats_update_begin(&st->syncp);
		u64_stats_inc(&st->count[WEFT_NODE_STAT(drops)]);
		u64_stats_update_end(&st->syncp);
	}
	weft_dev_drop(wd, skb, dir, reason);
}

/* ---- settings the datapath reads ---- */

struct weft_live {
	struct weft_cfg cfg;
	struct rcu_head rcu;
};

/* A copy of @cfg for the datapath, to commit or kfree(). */
struct weft_live *weft_live_alloc(const struct weft_cfg *cfg)
{
	struct weft_live *live = kmalloc(sizeof(*live), GFP_KERNEL);

	if (live)
		live->cfg = *cfg;
	return live;
}

/* Makes @live what the datapath reads; the caller holds wd->lock. The
 * datapath reads an immutable copy under RCU, so that a packet never sees
 * half of a change (a torn MAC or address).
 */
void weft_live_commit(struct weft_dev *wd, struct weft_live *live)
{
	struct weft_live *old;

	old = rcu_replace_pointer(wd->live, live, lockdep_is_held(&wd->lock));
	if (old)
		kfree_rcu(old, rcu);
}

/* Allocates and commits; the caller holds wd->lock. */
int weft_cfg_publish(struct weft_dev *wd, const struct weft_cfg *cfg)
{
	struct weft_live *live = weft_live_alloc(cfg);

	if (!live)
		return -ENOMEM;
	weft_live_commit(wd, live);
	return 0;
}

/* The device is going away: no reader is left. */
void weft_cfg_free(struct weft_dev *wd)
{
	kfree(rcu_dereference_protected(wd->live, true));
	RCU_INIT_POINTER(wd->live, NULL);
}

static const struct weft_cfg *weft_live_cfg(struct weft_dev *wd)
{
	return &rcu_dereference_bh(wd->live)->cfg;
}

/* ---- transmit ---- */

/* Where a packet leaves for, found by the underlay route to its node. */
struct weft_path {
	struct net_device *dev;	/* the underlay device */
	struct dst_entry *dst;
	bool onlink;		/* no gateway between here and the node */
	union {
		struct flowi4 fl4;
		struct flowi6 fl6;
	};
};

static int weft_route4(struct weft_dev *wd, const struct weft_cfg *cfg,
		       struct weft_node *node, struct sk_buff *skb, u8 proto,
		       __be16 sport, struct weft_path *p)
{
	struct rtable *rt;

	memset(&p->fl4, 0, sizeof(p->fl4));
	p->fl4.daddr = node->addr.s6_addr32[0];
	p->fl4.saddr = cfg->local4;
	p->fl4.flowi4_oif = cfg->underlay_ifindex;
	p->fl4.flowi4_mark = skb->mark;
	p->fl4.flowi4_proto = proto;
	if (proto == IPPROTO_UDP) {
		p->fl4.fl4_sport = sport;
		p->fl4.fl4_dport = htons(cfg->port);
	}

	rt = dst_cache_get_ip4(&node->dst_cache, &p->fl4.saddr);
	if (!rt) {
		rt = ip_route_output_key(dev_net(wd->dev), &p->fl4);
		if (IS_ERR(rt))
			return PTR_ERR(rt);
		if (weft_is_weft_dev(rt->dst.dev)) {
			ip_rt_put(rt);
			return -ELOOP;
		}
		dst_cache_set_ip4(&node->dst_cache, &rt->dst, p->fl4.saddr);
	}
	p->dst = &rt->dst;
	p->dev = rt->dst.dev;
	p->onlink = !rt->rt_uses_gateway;
	return 0;
}

static int weft_route6(struct weft_dev *wd, const struct weft_cfg *cfg,
		       struct weft_node *node, struct sk_buff *skb,
		       __be16 sport, struct weft_path *p)
{
	struct dst_entry *dst;

	memset(&p->fl6, 0, sizeof(p->fl6));
	p->fl6.daddr = node->addr;
	p->fl6.saddr = cfg->local6;
	p->fl6.flowi6_oif = cfg->underlay_ifindex;
	p->fl6.flowi6_mark = skb->mark;
	p->fl6.flowi6_proto = IPPROTO_UDP;
	p->fl6.fl6_sport = sport;
	p->fl6.fl6_dport = htons(cfg->port);

	dst = dst_cache_get_ip6(&node->dst_cache, &p->fl6.saddr);
	if (!dst) {
		dst = ipv6_stub->ipv6_dst_lookup_flow(dev_net(wd->dev), NULL,
						      &p->fl6, NULL);
		if (IS_ERR(dst))
			return PTR_ERR(dst);
		if (weft_is_weft_dev(dst->dev)) {
			dst_release(dst);
			return -ELOOP;
		}
		dst_cache_set_ip6(&node->dst_cache, dst, &p->fl6.saddr);
	}
	p->dst = dst;
	p->dev = dst->dev;
	p->onlink = !(dst_rt6_info(dst)->rt6i_flags & RTF_GATEWAY);
	return 0;
}

/* Native routing: the packet goes out unchanged, to the node's link-layer
 * address on the underlay. Consumes @skb; the caller made room for the
 * link-layer header.
 */
static int weft_xmit_native(struct weft_node *node, struct sk_buff *skb,
			    struct net_device *under)
{
	int table = node->family == AF_INET ? NEIGH_ARP_TABLE : NEIGH_ND_TABLE;

	skb_dst_drop(skb);
	skb->dev = under;
	return neigh_xmit(table, under, &node->addr, skb);
}

static int weft_xmit_ipip(struct weft_node *node, struct sk_buff *skb,
			  struct weft_path *p)
{
	struct rtable *rt = container_of(p->dst, struct rtable, dst);
	u8 tos = ip_tunnel_ecn_encap(0, ip_hdr(skb), skb);
	int err;

	err = skb_tunnel_check_pmtu(skb, p->dst, WEFT_IPIP_OVERHEAD, false);
	if (err < 0)
		return err;
	err = skb_cow_head(skb, LL_RESERVED_SPACE(p->dev) +
			   p->dst->header_len + sizeof(struct iphdr));
	if (err)
		return err;
	err = iptunnel_handle_offloads(skb, SKB_GSO_IPXIP4);
	if (err)
		return err;
	skb_set_inner_ipproto(skb, IPPROTO_IPIP);

	/* iptunnel_xmit() owns the route from here. */
	p->dst = NULL;
	iptunnel_xmit(NULL, rt, skb, p->fl4.saddr, p->fl4.daddr, IPPROTO_IPIP,
		      tos, ip4_dst_hoplimit(&rt->dst), 0, false);
	return 0;
}

/* Puts the inner Ethernet and the VXLAN header in front of the packet. */
static int weft_vxlan_push(const struct weft_cfg *cfg, struct weft_node *node,
			   struct sk_buff *skb, struct weft_path *p,
			   int overhead, bool udp_csum)
{
	union weft_node_params params;
	struct weft_vxlanhdr *vxh;
	struct ethhdr *eth;
	int err;

	err = skb_tunnel_check_pmtu(skb, p->dst, overhead, false);
	if (err < 0)
		return err;
	err = skb_cow_head(skb, LL_RESERVED_SPACE(p->dev) +
			   p->dst->header_len + overhead);
	if (err)
		return err;

	params.word = READ_ONCE(node->params.word);
	eth = skb_push(skb, ETH_HLEN);
	skb_reset_mac_header(skb);
	ether_addr_copy(eth->h_dest, params.vtep_mac);
	ether_addr_copy(eth->h_source, cfg->vtep_mac);
	eth->h_proto = skb->protocol;

	err = iptunnel_handle_offloads(skb, udp_csum ? SKB_GSO_UDP_TUNNEL_CSUM :
						       SKB_GSO_UDP_TUNNEL);
	if (err)
		return err;
	vxh = __skb_push(skb, sizeof(*vxh));
	vxh->flags = WEFT_VXLAN_FLAG_I;
	vxh->vni = weft_vni_field(cfg->vni);
	skb_set_inner_protocol(skb, htons(ETH_P_TEB));
	return 0;
}

static int weft_xmit_vxlan(struct weft_dev *wd, const struct weft_cfg *cfg,
			   struct weft_node *node, struct sk_buff *skb,
			   struct weft_path *p, __be16 sport)
{
	u8 tos = ip_tunnel_ecn_encap(0, ip_hdr(skb), skb);
	struct dst_entry *dst = p->dst;
	int err;

	if (node->family == AF_INET) {
		struct rtable *rt = container_of(dst, struct rtable, dst);

		/* Like the kernel's vxlan: no UDP checksum over IPv4. */
		err = weft_vxlan_push(cfg, node, skb, p, WEFT_VXLAN_OVERHEAD4,
				      false);
		if (err)
			return err;
		p->dst = NULL;
		udp_tunnel_xmit_skb(rt, NULL, skb, p->fl4.saddr, p->fl4.daddr,
				    tos, ip4_dst_hoplimit(dst), 0, sport,
				    htons(cfg->port), false, true);
		return 0;
	}

	/* IPv6 needs the UDP checksum (RFC 8200), as the kernel's default. */
	err = weft_vxlan_push(cfg, node, skb, p, WEFT_VXLAN_OVERHEAD6, true);
	if (err)
		return err;
	p->dst = NULL;
	udp_tunnel6_xmit_skb(dst, NULL, skb, wd->dev, &p->fl6.saddr,
			     &p->fl6.daddr, tos, ip6_dst_hoplimit(dst), 0,
			     sport, htons(cfg->port), false);
	return 0;
}

/* Sends @skb to @node; consumes it and counts what happened. */
static void weft_xmit_node(struct weft_dev *wd, struct weft_node *node,
			   struct sk_buff *skb)
{
	const struct weft_cfg *cfg = weft_live_cfg(wd);
	u8 encap = READ_ONCE(node->params.encap);
	enum weft_drop_reason reason;
	unsigned int len = skb->len;
	struct weft_path p;
	__be16 sport = 0;
	int family, err;

	family = skb->protocol == htons(ETH_P_IP) ? AF_INET : AF_INET6;
	if (encap == WEFT_ENCAP_VXLAN)
		sport = udp_flow_src_port(dev_net(wd->dev), skb, 0, 0, false);

	if (node->family == AF_INET)
		err = weft_route4(wd, cfg, node, skb,
				  encap == WEFT_ENCAP_IPIP ? IPPROTO_IPIP :
							     IPPROTO_UDP,
				  sport, &p);
	else
		err = weft_route6(wd, cfg, node, skb, sport, &p);
	if (err) {
		reason = WEFT_DROP_NO_UNDERLAY;
		goto drop;
	}

	/* Native needs the node on the local subnet and of the packet's
	 * family; cross-subnet mode picks it for such nodes.
	 */
	if (cfg->crosssubnet && p.onlink && family == node->family)
		encap = WEFT_ENCAP_NONE;

	reason = WEFT_DROP_ENCAP;
	switch (encap) {
	case WEFT_ENCAP_NONE:
		if (!p.onlink || family != node->family)
			goto drop_path;
		err = skb_cow_head(skb, LL_RESERVED_SPACE(p.dev));
		if (err)
			goto drop_err;
		/* The underlay device stays alive: RCU-bh holds it. */
		dst_release(p.dst);
		if (weft_xmit_native(node, skb, p.dev))
			return;	/* neigh_xmit() freed it */
		dev_sw_netstats_tx_add(wd->dev, 1, len);
		break;
	case WEFT_ENCAP_IPIP:
		if (family != AF_INET || node->family != AF_INET)
			goto drop_path;
		err = weft_xmit_ipip(node, skb, &p);
		if (err)
			goto drop_err;
		break;
	default:
		err = weft_xmit_vxlan(wd, cfg, node, skb, &p, sport);
		if (err)
			goto drop_err;
		break;
	}
	weft_node_count(node, WEFT_TX, len);
	return;

drop_err:
	reason = err == -EMSGSIZE ? WEFT_DROP_TOO_BIG : WEFT_DROP_NO_MEMORY;
drop_path:
	dst_release(p.dst);
drop:
	weft_drop(wd, node, skb, WEFT_TX, reason);
}

netdev_tx_t weft_tunnel_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct weft_dev *wd = netdev_priv(dev);
	struct weft_node *node;

	switch (skb->protocol) {
	case htons(ETH_P_IP):
		if (!pskb_network_may_pull(skb, sizeof(struct iphdr)))
			goto bad;
		node = weft_rtable_lookup4(&wd->routes, ip_hdr(skb)->daddr);
		break;
	case htons(ETH_P_IPV6):
		if (!pskb_network_may_pull(skb, sizeof(struct ipv6hdr)))
			goto bad;
		node = weft_rtable_lookup6(&wd->routes, &ipv6_hdr(skb)->daddr);
		break;
	default:
		weft_dev_drop(wd, skb, WEFT_TX, WEFT_DROP_PROTO);
		return NETDEV_TX_OK;
	}
	if (!node) {
		weft_dev_drop(wd, skb, WEFT_TX, WEFT_DROP_NO_ROUTE);
		return NETDEV_TX_OK;
	}
	weft_xmit_node(wd, node, skb);
	return NETDEV_TX_OK;
bad:
	weft_dev_drop(wd, skb, WEFT_TX, WEFT_DROP_BAD_HEADER);
	return NETDEV_TX_OK;
}

/* ---- receive ---- */

/* Hands a decapsulated packet, data at its IP header, to the stack on the
 * weft device. @outer_tos is the outer header's DS field, for ECN.
 */
static int weft_rx_deliver(struct weft_dev *wd, struct weft_node *node,
			   struct sk_buff *skb, u8 outer_tos)
{
	struct net_device *dev = wd->dev;
	u8 inner_tos;

	skb->dev = dev;
	skb->pkt_type = PACKET_HOST;
	skb_reset_mac_header(skb);
	skb_reset_network_header(skb);
	if (!pskb_inet_may_pull(skb))
		goto bad;
	if (skb->protocol == htons(ETH_P_IP)) {
		if (ip_hdr(skb)->version != 4)
			goto bad;
		inner_tos = ipv4_get_dsfield(ip_hdr(skb));
	} else {
		if (ipv6_hdr(skb)->version != 6)
			goto bad;
		inner_tos = ipv6_get_dsfield(ipv6_hdr(skb));
	}
	/* CE on a packet whose sender did not speak ECN: RFC 6040 drops it. */
	if (INET_ECN_decapsulate(skb, outer_tos, inner_tos) > 1)
		goto bad;
	if (unlikely(!(dev->flags & IFF_UP))) {
		kfree_skb(skb);
		return 0;
	}
	weft_node_count(node, WEFT_RX, skb->len);
	dev_sw_netstats_rx_add(dev, skb->len);
	gro_cells_receive(&wd->gro_cells, skb);
	return 0;
bad:
	weft_drop(wd, node, skb, WEFT_RX, WEFT_DROP_BAD_HEADER);
	return 0;
}

/* The device of @vs that receives @vni; NULL if none. */
static struct weft_dev *weft_vni_lookup(struct weft_sock *vs, __be32 vni)
{
	struct weft_dev *wd;

	hlist_for_each_entry_rcu(wd, &vs->devs, vs_node)
		if (weft_vni_field(weft_live_cfg(wd)->vni) == vni)
			return wd;
	return NULL;
}

/* encap_rcv of the VXLAN sockets: @skb's data is at the UDP header, whose
 * checksum the UDP layer has checked. Returns 0: the packet is consumed.
 * A packet no device can be told from (bad flags, unknown VNI) counts on
 * the first device of the socket.
 */
static int weft_vxlan_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct weft_sock *vs = rcu_dereference_sk_user_data(sk);
	const struct weft_vxlanhdr *vxh;
	const struct weft_cfg *cfg;
	enum weft_drop_reason reason;
	struct weft_node *node = NULL;
	struct weft_dev *wd, *match;
	const struct ethhdr *eth;
	u8 outer_tos;

	wd = vs ? hlist_entry_safe(rcu_dereference(hlist_first_rcu(&vs->devs)),
				   struct weft_dev, vs_node) : NULL;
	if (!wd) {
		kfree_skb(skb);
		return 0;
	}

	reason = WEFT_DROP_BAD_HEADER;
	if (!pskb_may_pull(skb, WEFT_VXLAN_HLEN))
		goto drop;
	vxh = (const struct weft_vxlanhdr *)(udp_hdr(skb) + 1);
	if (vxh->flags != WEFT_VXLAN_FLAG_I || (vxh->vni & WEFT_VXLAN_RESERVED))
		goto drop;
	match = weft_vni_lookup(vs, vxh->vni);
	if (!match) {
		reason = WEFT_DROP_BAD_VNI;
		goto drop;
	}
	wd = match;
	cfg = weft_live_cfg(wd);

	if (ip_hdr(skb)->version == 4) {
		node = weft_node_lookup(wd, AF_INET, &ip_hdr(skb)->saddr);
		outer_tos = ipv4_get_dsfield(ip_hdr(skb));
	} else {
		node = weft_node_lookup(wd, AF_INET6, &ipv6_hdr(skb)->saddr);
		outer_tos = ipv6_get_dsfield(ipv6_hdr(skb));
	}
	if (!node) {
		reason = WEFT_DROP_UNKNOWN_PEER;
		goto drop;
	}

	if (!pskb_may_pull(skb, WEFT_VXLAN_HLEN + ETH_HLEN))
		goto drop;
	eth = (const struct ethhdr *)(skb->data + WEFT_VXLAN_HLEN);
	if (!ether_addr_equal(eth->h_dest, cfg->vtep_mac))
		goto drop;
	if (eth->h_proto != htons(ETH_P_IP) &&
	    eth->h_proto != htons(ETH_P_IPV6)) {
		reason = WEFT_DROP_PROTO;
		goto drop;
	}
	if (__iptunnel_pull_header(skb, WEFT_VXLAN_HLEN + ETH_HLEN,
				   eth->h_proto, true, false)) {
		reason = WEFT_DROP_NO_MEMORY;
		goto drop;
	}
	return weft_rx_deliver(wd, node, skb, outer_tos);

drop:
	weft_drop(wd, node, skb, WEFT_RX, reason);
	return 0;
}

/* The device in skb's netns that has the packet's source as an IP-in-IP
 * node, and that node.
 */
static struct weft_dev *weft_ipip_find(struct sk_buff *skb,
				       struct weft_node **nodep)
{
	struct weft_net *wn = weft_pernet(dev_net(skb->dev));
	__be32 saddr = ip_hdr(skb)->saddr;
	struct weft_dev *wd;
	unsigned long idx;

	xa_for_each(&wn->devs, idx, wd) {
		struct weft_node *node = weft_node_lookup(wd, AF_INET, &saddr);

		if (node && READ_ONCE(node->params.encap) == WEFT_ENCAP_IPIP) {
			*nodep = node;
			return wd;
		}
	}
	return NULL;
}

/* First in the IP-in-IP handler chain: takes what comes from a weft node
 * and leaves everything else to ipip.ko and the others (non-zero return).
 * The outer header is already pulled; data is at the inner one.
 */
static int weft_ipip_rcv(struct sk_buff *skb)
{
	u8 outer_tos = ipv4_get_dsfield(ip_hdr(skb));
	struct weft_node *node;
	struct weft_dev *wd;

	wd = weft_ipip_find(skb, &node);
	if (!wd)
		return -ENOENT;
	if (iptunnel_pull_header(skb, 0, htons(ETH_P_IP), false)) {
		weft_drop(wd, node, skb, WEFT_RX, WEFT_DROP_NO_MEMORY);
		return 0;
	}
	return weft_rx_deliver(wd, node, skb, outer_tos);
}

/* Last in the chain: an IP-in-IP packet nobody claimed reaches it. In a
 * netns with weft devices it is counted as from an unknown peer on each of
 * them and dropped; elsewhere it is not weft's business.
 */
static int weft_ipip_rcv_unclaimed(struct sk_buff *skb)
{
	struct weft_net *wn = weft_pernet(dev_net(skb->dev));
	struct weft_dev *wd;
	unsigned long idx;
	bool counted = false;

	xa_for_each(&wn->devs, idx, wd) {
		weft_dev_count_drop(wd, WEFT_RX, WEFT_DROP_UNKNOWN_PEER);
		counted = true;
	}
	if (!counted)
		return -ENOENT;
	kfree_skb(skb);
	return 0;
}

/* ICMP errors about IP-in-IP packets: weft keeps no per-tunnel state to
 * update, so it leaves them to the others.
 */
static int weft_ipip_err(struct sk_buff *skb, u32 info)
{
	return -ENOENT;
}

/* The chain runs in ascending priority; ipip.ko is 1, sit 2, xfrm4_tunnel
 * 3, vti 0 and 100.
 */
static struct xfrm_tunnel weft_ipip_handler __read_mostly = {
	.handler	= weft_ipip_rcv,
	.err_handler	= weft_ipip_err,
	.priority	= -100,
};

static struct xfrm_tunnel weft_ipip_unclaimed __read_mostly = {
	.handler	= weft_ipip_rcv_unclaimed,
	.err_handler	= weft_ipip_err,
	.priority	= 1000,
};

/* ---- VXLAN sockets ---- */

static struct socket *weft_sock_open(struct net *net, struct weft_sock *vs,
				     int family)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data	= vs,
		.encap_type	= 1,
		.encap_rcv	= weft_vxlan_rcv,
	};
	struct udp_port_cfg ucfg = {
		.family		= family,
		.local_udp_port	= htons(vs->port),
	};
	struct socket *sock;
	int err;

	if (family == AF_INET6) {
		ucfg.local_ip6 = in6addr_any;
		ucfg.ipv6_v6only = 1;
	} else {
		ucfg.local_ip.s_addr = htonl(INADDR_ANY);
	}
	err = udp_sock_create(net, &ucfg, &sock);
	if (err)
		return ERR_PTR(err);
	setup_udp_tunnel_sock(net, sock, &tcfg);
	return sock;
}

static void weft_sock_release(struct weft_sock *vs)
{
	list_del(&vs->list);
	/* Each waits for a grace period: no receive callback runs after. */
	udp_tunnel_sock_release(vs->sock4);
	if (vs->sock6)
		udp_tunnel_sock_release(vs->sock6);
	kfree(vs);
}

/* Opens both sockets of @port, or neither. IPv6 is optional: a kernel
 * booted with ipv6.disable=1 gets IPv4-only receive.
 */
static struct weft_sock *weft_sock_create(struct net *net, u16 port)
{
	struct weft_net *wn = weft_pernet(net);
	struct weft_sock *vs;
	int err;

	vs = kzalloc(sizeof(*vs), GFP_KERNEL);
	if (!vs)
		return ERR_PTR(-ENOMEM);
	vs->port = port;
	INIT_HLIST_HEAD(&vs->devs);
	vs->sock4 = weft_sock_open(net, vs, AF_INET);
	if (IS_ERR(vs->sock4)) {
		err = PTR_ERR(vs->sock4);
		kfree(vs);
		return ERR_PTR(err);
	}
	if (ipv6_mod_enabled()) {
		vs->sock6 = weft_sock_open(net, vs, AF_INET6);
		if (IS_ERR(vs->sock6)) {
			err = PTR_ERR(vs->sock6);
			udp_tunnel_sock_release(vs->sock4);
			kfree(vs);
			return ERR_PTR(err);
		}
	}
	list_add(&vs->list, &wn->socks);
	return vs;
}

static struct weft_sock *weft_sock_find(struct net *net, u16 port)
{
	struct weft_net *wn = weft_pernet(net);
	struct weft_sock *vs;

	list_for_each_entry(vs, &wn->socks, list)
		if (vs->port == port)
			return vs;
	return NULL;
}

/* The device on @vs that receives @vni, other than @self. */
static struct weft_dev *weft_sock_vni_user(struct weft_sock *vs, u32 vni,
					   struct weft_dev *self)
{
	struct weft_dev *wd;

	hlist_for_each_entry(wd, &vs->devs, vs_node)
		if (wd != self && wd->cfg.vni == vni)
			return wd;
	return NULL;
}

/* Joins the sockets of @port for @vni: -EBUSY if another device of the
 * netns already receives that VNI there, or the socket error.
 */
static int weft_sock_join(struct weft_dev *wd, u16 port, u32 vni)
{
	struct net *net = dev_net(wd->dev);
	struct weft_sock *vs;

	ASSERT_RTNL();
	vs = weft_sock_find(net, port);
	if (vs) {
		if (weft_sock_vni_user(vs, vni, wd))
			return -EBUSY;
	} else {
		vs = weft_sock_create(net, port);
		if (IS_ERR(vs))
			return PTR_ERR(vs);
	}
	vs->users++;
	hlist_add_head_rcu(&wd->vs_node, &vs->devs);
	wd->vs = vs;
	return 0;
}

static void weft_sock_leave(struct weft_dev *wd)
{
	struct weft_sock *vs = wd->vs;

	ASSERT_RTNL();
	if (!vs)
		return;
	hlist_del_init_rcu(&wd->vs_node);
	wd->vs = NULL;
	if (!--vs->users)
		weft_sock_release(vs);
}

/* ndo_open, under RTNL. */
int weft_tunnel_open(struct weft_dev *wd)
{
	u32 vni;
	u16 port;

	mutex_lock(&wd->lock);
	port = wd->cfg.port;
	vni = wd->cfg.vni;
	mutex_unlock(&wd->lock);
	return weft_sock_join(wd, port, vni);
}

/* ndo_stop, under RTNL. A receive path that found the device on the
 * socket may still be running; the core waits for it (synchronize_net)
 * before the device is freed, and delivery checks IFF_UP.
 */
void weft_tunnel_stop(struct weft_dev *wd)
{
	weft_sock_leave(wd);
}

/**
 * weft_tunnel_rebind - a running device changes its VXLAN port or VNI
 * @wd: the device; RTNL and wd->lock held
 * @port: the new port
 * @vni: the new VNI
 *
 * The new sockets are joined before the old ones are left, so a refusal
 * (-EBUSY: the VNI is taken on that port; or a socket error such as
 * -EADDRINUSE) leaves the device as it was.
 *
 * Return: 0 or the error.
 */
int weft_tunnel_rebind(struct weft_dev *wd, u16 port, u32 vni)
{
	struct weft_sock *old = wd->vs;
	int err;

	ASSERT_RTNL();
	if (!old)
		return 0;
	if (old->port == port)
		return weft_sock_vni_user(old, vni, wd) ? -EBUSY : 0;

	/* Keep the old socket alive (users) while joining the new one. */
	hlist_del_init_rcu(&wd->vs_node);
	wd->vs = NULL;
	err = weft_sock_join(wd, port, vni);
	if (err) {
		hlist_add_head_rcu(&wd->vs_node, &old->devs);
		wd->vs = old;
		return err;
	}
	if (!--old->users)
		weft_sock_release(old);
	return 0;
}

/**
 * weft_underlay_mtu - the MTU the device should have, from its underlay
 * @wd: the device; RTNL and wd->lock held
 *
 * With an underlay device set, the MTU is the underlay's minus the VXLAN
 * overhead: 50 bytes, or 70 when the device has an IPv6 underlay address.
 * The caller applies it with dev_set_mtu() after dropping wd->lock.
 *
 * Return: the MTU, or 0 when there is no underlay device.
 */
int weft_underlay_mtu(struct weft_dev *wd)
{
	struct net_device *under;
	int overhead;

	ASSERT_RTNL();
	lockdep_assert_held(&wd->lock);
	if (!wd->cfg.underlay_ifindex)
		return 0;
	under = __dev_get_by_index(dev_net(wd->dev), wd->cfg.underlay_ifindex);
	if (!under)
		return 0;
	overhead = ipv6_addr_any(&wd->cfg.local6) ? WEFT_VXLAN_OVERHEAD4 :
						    WEFT_VXLAN_OVERHEAD6;
	return clamp_t(int, under->mtu - overhead, wd->dev->min_mtu,
		       wd->dev->max_mtu);
}

int __init weft_tunnel_init(void)
{
	int err;

	err = xfrm4_tunnel_register(&weft_ipip_handler, AF_INET);
	if (err)
		return err;
	err = xfrm4_tunnel_register(&weft_ipip_unclaimed, AF_INET);
	if (err)
		xfrm4_tunnel_deregister(&weft_ipip_handler, AF_INET);
	return err;
}

void weft_tunnel_uninit(void)
{
	xfrm4_tunnel_deregister(&weft_ipip_unclaimed, AF_INET);
	xfrm4_tunnel_deregister(&weft_ipip_handler, AF_INET);
}
