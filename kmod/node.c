// SPDX-License-Identifier: GPL-2.0
/*
 * Peer nodes and the routes to them; see node.h for the locking and the
 * lifetime rules, uapi/linux/weft.h for the netlink side.
 */

#include "endpoint.h"
#include "node.h"

#include <linux/jhash.h>
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>

static unsigned int weft_addr_len(int family)
{
	return family == AF_INET ? sizeof(__be32) : sizeof(struct in6_addr);
}

static struct hlist_head *weft_node_bucket(struct weft_dev *wd, int family,
					   const void *addr)
{
	u32 h = jhash(addr, weft_addr_len(family), family);

	return &wd->nodes[hash_32(h, WEFT_NODE_HASH_BITS)];
}

/**
 * weft_node_lookup - find a node by underlay address
 * @wd: the device
 * @family: AF_INET or AF_INET6
 * @addr: a __be32 or struct in6_addr
 *
 * Context: rcu_read_lock_bh() (or rcu_read_lock()), or wd->lock.
 * Return: the node, or NULL.
 */
struct weft_node *weft_node_lookup(struct weft_dev *wd, int family,
				   const void *addr)
{
	struct hlist_head *head = weft_node_bucket(wd, family, addr);
	unsigned int len = weft_addr_len(family);
	struct weft_node *node;

	hlist_for_each_entry_rcu(node, head, hnode,
				 lockdep_is_held(&wd->lock) ||
				 rcu_read_lock_bh_held())
		if (node->family == family && !memcmp(&node->addr, addr, len))
			return node;
	return NULL;
}

/* Creates and hashes a node; the caller holds wd->lock and checked that the
 * address is not taken.
 */
struct weft_node *weft_node_create(struct weft_dev *wd, int family,
				   const void *addr,
				   union weft_node_params params)
{
	struct weft_node *node;
	int cpu;

	lockdep_assert_held(&wd->lock);
	node = kzalloc(sizeof(*node), GFP_KERNEL);
	if (!node)
		return ERR_PTR(-ENOMEM);
	node->stats = alloc_percpu(struct weft_node_pcpu_stats);
	if (!node->stats) {
		kfree(node);
		return ERR_PTR(-ENOMEM);
	}
	if (dst_cache_init(&node->dst_cache, GFP_KERNEL)) {
		free_percpu(node->stats);
		kfree(node);
		return ERR_PTR(-ENOMEM);
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(node->stats, cpu)->syncp);
	node->family = family;
	memcpy(&node->addr, addr, weft_addr_len(family));
	node->params = params;

	hlist_add_head_rcu(&node->hnode, weft_node_bucket(wd, family, addr));
	wd->nnodes++;
	wd->node_generation++;
	wd->generation++;
	atomic_inc(&weft_debug_objects);
	return node;
}

static void weft_node_free_rcu(struct rcu_head *rcu)
{
	struct weft_node *node = container_of(rcu, struct weft_node, rcu);

	dst_cache_destroy(&node->dst_cache);
	free_percpu(node->stats);
	kfree(node);
	atomic_dec(&weft_debug_objects);
}

struct weft_route_match {
	const struct weft_node *node;
	u8 prefix[16];
	u8 plen;
};

static int weft_route_match_cb(void *arg, const void *prefix, u8 plen,
			       void *value)
{
	struct weft_route_match *m = arg;

	if (value != m->node)
		return 0;
	memcpy(m->prefix, prefix, sizeof(m->prefix));
	m->plen = plen;
	return 1;
}

/* Removes every route of @family that names @node. The walk stops at each
 * match, the route goes outside the walk, and the walk resumes after it.
 */
static void weft_node_unroute(struct weft_dev *wd, struct weft_node *node,
			      int family)
{
	struct weft_route_match m = { .node = node };
	struct weft_rtable_cursor c = {};

	while (node->nroutes &&
	       weft_rtable_walk(&wd->routes, family, &c, weft_route_match_cb,
				&m) == 1) {
		if (!weft_rtable_remove(&wd->routes, family, m.prefix, m.plen)) {
			node->nroutes--;
			atomic_dec(&weft_debug_objects);
		}
		memcpy(c.addr, m.prefix, sizeof(c.addr));
		c.plen = m.plen;
		c.started = true;
		cond_resched();
	}
}

/* Removes a node and the routes that name it; frees it after a grace period. */
void weft_node_delete(struct weft_dev *wd, struct weft_node *node)
{
	lockdep_assert_held(&wd->lock);
	weft_node_unroute(wd, node, AF_INET);
	weft_node_unroute(wd, node, AF_INET6);
	WARN_ON_ONCE(node->nroutes);

	hlist_del_rcu(&node->hnode);
	wd->nnodes--;
	wd->node_generation++;
	wd->generation++;
	call_rcu(&node->rcu, weft_node_free_rcu);
}

/* Forgets every node's underlay route: the device's local address or
 * underlay device changed. The caller holds wd->lock.
 */
void weft_nodes_reset_dst(struct weft_dev *wd)
{
	struct weft_node *node;
	unsigned int b;

	lockdep_assert_held(&wd->lock);
	for (b = 0; b < WEFT_NODE_HASH_SIZE; b++)
		hlist_for_each_entry(node, &wd->nodes[b], hnode)
			dst_cache_reset(&node->dst_cache);
}

void weft_node_get_stats(const struct weft_node *node,
			 struct weft_node_stats *st)
{
	int cpu;

	memset(st, 0, sizeof(*st));
	for_each_possible_cpu(cpu) {
		const struct weft_node_pcpu_stats *s = per_cpu_ptr(node->stats, cpu);
		u64 snap[WEFT_NODE_NSTATS];
		unsigned int start;
		int i;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < WEFT_NODE_NSTATS; i++)
				snap[i] = u64_stats_read(&s->count[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < WEFT_NODE_NSTATS; i++)
			st->count[i] += snap[i];
	}
}

struct weft_route_probe {
	const void *prefix;
	unsigned int len;
	u8 plen;
	void *value;
};

static int weft_route_probe_cb(void *arg, const void *prefix, u8 plen,
			       void *value)
{
	struct weft_route_probe *p = arg;

	if (plen == p->plen && !memcmp(prefix, p->prefix, p->len))
		p->value = value;
	return 1;
}

/**
 * weft_route_get - the node of exactly @prefix/@plen
 * @wd: the device, its lock held
 * @family: AF_INET or AF_INET6
 * @prefix: host bits clear
 * @plen: prefix length, valid for @family
 *
 * The table's walk sorts by address, then length; this starts it just
 * before @prefix/@plen and looks at the first entry. That predecessor is
 * @prefix/(@plen - 1) when bit @plen - 1 is clear (same address, shorter),
 * and otherwise (@prefix - 1)/max, the last possible key of the previous
 * address, since no shorter prefix has @prefix as its address.
 *
 * Return: the node, or NULL if there is no such route.
 */
struct weft_node *weft_route_get(struct weft_dev *wd, int family,
				 const void *prefix, u8 plen)
{
	struct weft_route_probe p = {
		.prefix = prefix,
		.len = weft_addr_len(family),
		.plen = plen,
	};
	struct weft_rtable_cursor c = {};
	int i;

	lockdep_assert_held(&wd->lock);
	if (plen) {
		memcpy(c.addr, prefix, p.len);
		c.started = true;
		if (!(c.addr[(plen - 1) / 8] & (0x80 >> ((plen - 1) % 8)))) {
			c.plen = plen - 1;
		} else {
			for (i = p.len - 1; i >= 0; i--)
				if (c.addr[i]--)
					break;
			c.plen = p.len * 8;
		}
	}
	weft_rtable_walk(&wd->routes, family, &c, weft_route_probe_cb, &p);
	return p.value;
}

int weft_route_add(struct weft_dev *wd, int family, const void *prefix,
		   u8 plen, struct weft_node *node, bool replace)
{
	struct weft_node *old;
	int err;

	lockdep_assert_held(&wd->lock);
	old = weft_route_get(wd, family, prefix, plen);
	if (old && !replace)
		return -EEXIST;
	err = weft_rtable_insert(&wd->routes, family, prefix, plen, node);
	if (err)
		return err;
	if (old)
		old->nroutes--;
	else
		atomic_inc(&weft_debug_objects);
	node->nroutes++;
	wd->generation++;
	return 0;
}

int weft_route_del(struct weft_dev *wd, int family, const void *prefix,
		   u8 plen)
{
	struct weft_node *old;
	int err;

	lockdep_assert_held(&wd->lock);
	old = weft_route_get(wd, family, prefix, plen);
	if (!old)
		return -ENOENT;
	err = weft_rtable_remove(&wd->routes, family, prefix, plen);
	if (err)
		return err;
	old->nroutes--;
	atomic_dec(&weft_debug_objects);
	wd->generation++;
	return 0;
}

void weft_dev_tables_init(struct weft_dev *wd)
{
	int i;

	for (i = 0; i < WEFT_NODE_HASH_SIZE; i++)
		INIT_HLIST_HEAD(&wd->nodes[i]);
	weft_rtable_init(&wd->routes, &wd->lock);
	wd->node_generation = 1;
	weft_endpoints_init(wd);
}

#define WEFT_FLUSH_BATCH	32

struct weft_route_batch {
	unsigned int n;
	struct {
		u8 prefix[16];
		u8 plen;
	} e[WEFT_FLUSH_BATCH];
};

static int weft_route_batch_cb(void *arg, const void *prefix, u8 plen,
			       void *value)
{
	struct weft_route_batch *b = arg;

	if (b->n == WEFT_FLUSH_BATCH)
		return 1;
	memcpy(b->e[b->n].prefix, prefix, sizeof(b->e[b->n].prefix));
	b->e[b->n].plen = plen;
	b->n++;
	return 0;
}

/* Removes every route of @family a batch at a time, rescheduling between
 * batches: one flush of a large table (each node a call_rcu()) would hog
 * the CPU, for many seconds on a debug kernel.
 */
static void weft_routes_drain(struct weft_dev *wd, int family)
{
	struct weft_rtable_cursor c = {};
	struct weft_route_batch b;
	unsigned int i;
	int more;

	do {
		b.n = 0;
		more = weft_rtable_walk(&wd->routes, family, &c,
					weft_route_batch_cb, &b);
		for (i = 0; i < b.n; i++)
			if (!weft_rtable_remove(&wd->routes, family,
						b.e[i].prefix, b.e[i].plen))
				atomic_dec(&weft_debug_objects);
		cond_resched();
	} while (more);
}

/* The device destructor: no request can reach the device any more. The
 * routes go first (their trie nodes are RCU-freed by route.c), then the
 * nodes, also after a grace period.
 */
void weft_dev_tables_free(struct weft_dev *wd)
{
	struct weft_node *node;
	struct hlist_node *tmp;
	int i;

	mutex_lock(&wd->lock);
	weft_endpoints_free(wd);
	weft_routes_drain(wd, AF_INET);
	weft_routes_drain(wd, AF_INET6);
	weft_rtable_free(&wd->routes);
	for (i = 0; i < WEFT_NODE_HASH_SIZE; i++) {
		hlist_for_each_entry_safe(node, tmp, &wd->nodes[i], hnode) {
			hlist_del_rcu(&node->hnode);
			call_rcu(&node->rcu, weft_node_free_rcu);
		}
	}
	wd->nnodes = 0;
	mutex_unlock(&wd->lock);
}
