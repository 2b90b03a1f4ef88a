/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Peer nodes of a weft device, and the routes that point at them.
 *
 * Lifetime: a struct weft_node belongs to its device's node hash. Writers
 * (NODE_ADD/DEL, ROUTE_ADD/DEL, the device destructor) hold wd->lock.
 * Readers (the datapath, later) find nodes by underlay address, or through
 * a route's value, under rcu_read_lock_bh() and must not keep the pointer
 * past it: a node is unhashed, every route that names it is removed, and
 * only then is it freed, after a grace period (call_rcu). Routes never
 * outlive their node.
 */
#ifndef _WEFT_NODE_H
#define _WEFT_NODE_H

#include "device.h"

#include <linux/rcupdate.h>
#include <linux/u64_stats_sync.h>
#include <net/dst_cache.h>

/* A node's counters, indexed by enum weft_stats_attr minus
 * WEFT_STATS_A_RX_PACKETS: rx/tx packets, rx/tx bytes, rx/tx drops.
 */
#define WEFT_NODE_STAT(attr)	((attr) - WEFT_STATS_A_RX_PACKETS)
#define WEFT_NODE_NSTATS	WEFT_NODE_STAT(WEFT_STATS_A_TX_DROPS + 1)

/* Per-CPU traffic counters of one node (the datapath will fill them). */
struct weft_node_pcpu_stats {
	u64_stats_t count[WEFT_NODE_NSTATS];
	struct u64_stats_sync syncp;
};

/* What NLM_F_REPLACE may change, in one word so that a reader never sees a
 * half-updated MAC: read it with READ_ONCE(node->params.word).
 */
union weft_node_params {
	struct {
		u8 encap;			/* enum weft_encap */
		u8 vtep_mac[ETH_ALEN];		/* zero when not given */
	};
	u64 word;
};

struct weft_node {
	struct hlist_node hnode;	/* in wd->nodes[], RCU */
	struct in6_addr addr;		/* IPv4: the first 4 bytes */
	u8 family;			/* AF_INET or AF_INET6 */
	union weft_node_params params;
	unsigned int nroutes;		/* routes naming it; wd->lock */
	struct weft_node_pcpu_stats __percpu *stats;
	/* The underlay route to the node, per CPU (kmod/tunnel.c); reset
	 * when the device's local address or underlay changes.
	 */
	struct dst_cache dst_cache;
	struct rcu_head rcu;
};

struct weft_node_stats {
	u64 count[WEFT_NODE_NSTATS];
};

struct weft_node *weft_node_lookup(struct weft_dev *wd, int family,
				   const void *addr);
struct weft_node *weft_node_create(struct weft_dev *wd, int family,
				   const void *addr,
				   union weft_node_params params);
void weft_node_delete(struct weft_dev *wd, struct weft_node *node);
void weft_nodes_reset_dst(struct weft_dev *wd);
void weft_node_get_stats(const struct weft_node *node,
			 struct weft_node_stats *st);

int weft_route_add(struct weft_dev *wd, int family, const void *prefix,
		   u8 plen, struct weft_node *node, bool replace);
int weft_route_del(struct weft_dev *wd, int family, const void *prefix,
		   u8 plen);
struct weft_node *weft_route_get(struct weft_dev *wd, int family,
				 const void *prefix, u8 plen);

void weft_dev_tables_init(struct weft_dev *wd);
void weft_dev_tables_free(struct weft_dev *wd);

#endif /* _WEFT_NODE_H */
