/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The weft network device: one per "ip link add ... type weft".
 */
#ifndef _WEFT_DEVICE_H
#define _WEFT_DEVICE_H

#include "compat.h"
#include "route.h"

#include <linux/etherdevice.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/u64_stats_sync.h>
#include <linux/xarray.h>
#include <linux/weft.h>
#include <net/gro_cells.h>
#include <net/netns/generic.h>

/* Bytes each encapsulation adds in front of the inner IP packet. */
#define WEFT_VXLAN_OVERHEAD4	(20 + 8 + 8 + ETH_HLEN)	/* 50 */
#define WEFT_VXLAN_OVERHEAD6	(40 + 8 + 8 + ETH_HLEN)	/* 70 */
#define WEFT_IPIP_OVERHEAD	20

/* Headroom for the largest one, plus the underlay's Ethernet header. */
#define WEFT_MAX_OVERHEAD	(ETH_HLEN + WEFT_VXLAN_OVERHEAD6)
#define WEFT_MAX_MTU		(IP_MAX_MTU - WEFT_VXLAN_OVERHEAD6)

/* Settings a device carries; see enum weft_dev_attr. */
struct weft_cfg {
	u32 vni;
	u16 port;
	__be32 local4;
	struct in6_addr local6;
	int underlay_ifindex;
	u8 vtep_mac[ETH_ALEN];
	bool crosssubnet;
};

enum weft_dir {
	WEFT_RX,
	WEFT_TX,
};

/* Drop counters per direction and reason, per CPU. */
struct weft_drop_stats {
	u64_stats_t count[2][__WEFT_DROP_MAX];
	struct u64_stats_sync syncp;
};

#define WEFT_NODE_HASH_BITS	8
#define WEFT_NODE_HASH_SIZE	BIT(WEFT_NODE_HASH_BITS)
/* Sized for a node's few hundred pods with a v4 and a v6 address each. */
#define WEFT_EP_HASH_BITS	10
#define WEFT_EP_HASH_SIZE	BIT(WEFT_EP_HASH_BITS)

struct weft_dev {
	struct net_device *dev;
	struct weft_drop_stats __percpu *drops;

	/* Serialises writers of the device's settings and tables; readers of
	 * the settings take it too (they are not on the fast path). RTNL, when
	 * held, is taken before it.
	 */
	struct mutex lock;
	struct weft_cfg cfg;
	u32 generation;

	/* The datapath's view of @cfg: an immutable copy, replaced under
	 * @lock on every change and read under RCU (kmod/tunnel.c).
	 */
	struct weft_live __rcu *live;
	/* While up: the netns's VXLAN sockets on cfg.port, shared by the
	 * devices on that port (told apart by VNI). RTNL; @vs_node is read
	 * under RCU by the receive path.
	 */
	struct weft_sock *vs;
	struct hlist_node vs_node;
	struct gro_cells gro_cells;

	/* Peer nodes by underlay address (kmod/node.h), and the routes to
	 * them. Written under @lock, read under RCU; freed by the destructor.
	 */
	struct hlist_head nodes[WEFT_NODE_HASH_SIZE];
	unsigned int nnodes;
	u32 node_generation;	/* changes with every node added or removed */
	struct weft_rtable routes;

	/* Local pod endpoints (kmod/endpoint.h): by host ifindex, and by
	 * address. Written under @lock, read under RCU; freed by the
	 * destructor.
	 */
	struct xarray endpoints;
	struct hlist_head ep_addrs[WEFT_EP_HASH_SIZE];
	unsigned int nendpoints;
	u32 ep_generation;	/* changes with every endpoint change */
};

/* Per network namespace: its weft devices by ifindex, for dumps. Written
 * under RTNL, read under RCU. @generation changes whenever a device comes
 * or goes, so that a dump can tell it raced with a change.
 */
struct weft_net {
	struct xarray devs;
	u32 generation;
	struct list_head socks;	/* struct weft_sock, RTNL */
};

struct weft_stats {
	u64 rx_packets, rx_bytes, tx_packets, tx_bytes;
	u64 drops[2][__WEFT_DROP_MAX];
};

extern unsigned int weft_net_id;
extern atomic_t weft_debug_objects;

int weft_device_init(void);
void weft_device_uninit(void);

bool weft_is_weft_dev(const struct net_device *dev);
void weft_dev_count_drop(struct weft_dev *wd, enum weft_dir dir,
			 enum weft_drop_reason reason);
void weft_dev_drop(struct weft_dev *wd, struct sk_buff *skb,
		   enum weft_dir dir, enum weft_drop_reason reason);
void weft_dev_get_stats(struct weft_dev *wd, struct weft_stats *st);

static inline struct weft_net *weft_pernet(const struct net *net)
{
	return net_generic(net, weft_net_id);
}

#endif /* _WEFT_DEVICE_H */
