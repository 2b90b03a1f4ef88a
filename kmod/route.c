// SPDX-License-Identifier: GPL-2.0
/*
 * The route table: one path-compressed binary trie per address family.
 *
 * Every node holds a prefix (@key, @cidr); its children hold longer prefixes
 * that extend it, @bit[b] those whose bit number @cidr is b. A node with a
 * value is an entry; a node without one only exists to join two subtrees, so
 * it always has both children. The depth is therefore bounded by the key
 * length, and a lookup visits at most 33 (IPv4) or 129 (IPv6) nodes, walking
 * down while the node's prefix matches and remembering the last value seen.
 *
 * Keys are handled as 128-bit numbers, two host-order u64 words with the
 * most significant bit first; an IPv4 address takes the top 32 bits of the
 * first word. Host bits beyond the prefix length are always zero.
 */

#include "route.h"

#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>

#define WEFT_RKEY_BITS	128

struct weft_rnode {
	u64 key[2];
	struct weft_rnode __rcu *bit[2];
	void __rcu *value;
	u8 cidr;
	/* @parent is for writers only, which never look at a node again once
	 * it is unlinked; so the rcu_head that frees it can reuse the space.
	 * Readers still walking an unlinked node only touch the fields above.
	 */
	union {
		struct weft_rnode *parent;
		struct rcu_head rcu;
	};
};

static struct kmem_cache *weft_rnode_cache __read_mostly;

#define deref_write(tbl, p) \
	rcu_dereference_protected(p, lockdep_is_held((tbl)->lock))
#define deref_walk(tbl, p) \
	rcu_dereference_check(p, lockdep_is_held((tbl)->lock) || \
			      rcu_read_lock_bh_held())

/* The first @cidr bits of a 64-bit word, @cidr in 0..64. */
static inline u64 mask64(unsigned int cidr)
{
	return cidr ? ~0ULL << (64 - cidr) : 0;
}

/* Clears the bits of @key beyond the first @cidr. */
static void key_mask(u64 *key, unsigned int cidr)
{
	key[0] &= mask64(min(cidr, 64U));
	key[1] &= cidr > 64 ? mask64(cidr - 64) : 0;
}

static inline unsigned int key_bit(const u64 *key, unsigned int i)
{
	return (key[i / 64] >> (63 - i % 64)) & 1;
}

/* The number of leading bits @a and @b have in common. */
static unsigned int common_bits(const u64 *a, const u64 *b)
{
	u64 x = a[0] ^ b[0];

	if (x)
		return 64 - fls64(x);
	x = a[1] ^ b[1];
	return x ? WEFT_RKEY_BITS - fls64(x) : WEFT_RKEY_BITS;
}

static inline bool prefix_matches(const struct weft_rnode *node, const u64 *key)
{
	unsigned int cidr = node->cidr;

	if (cidr <= 64)
		return !((node->key[0] ^ key[0]) & mask64(cidr));
	return node->key[0] == key[0] &&
	       !((node->key[1] ^ key[1]) & mask64(cidr - 64));
}

/* Compares the first @cidr bits of two keys as numbers. */
static int prefix_cmp(const u64 *a, const u64 *b, unsigned int cidr)
{
	u64 m[2] = { mask64(min(cidr, 64U)), cidr > 64 ? mask64(cidr - 64) : 0 };
	int i;

	for (i = 0; i < 2; i++) {
		if ((a[i] & m[i]) != (b[i] & m[i]))
			return (a[i] & m[i]) < (b[i] & m[i]) ? -1 : 1;
	}
	return 0;
}

static struct weft_rtrie *trie_of(struct weft_rtable *tbl, int family)
{
	switch (family) {
	case AF_INET:
		return &tbl->v4;
	case AF_INET6:
		return &tbl->v6;
	default:
		return NULL;
	}
}

static void key_from_bytes(int family, const void *addr, u64 *key)
{
	struct in6_addr a6;
	__be32 a4;

	if (family == AF_INET) {
		memcpy(&a4, addr, sizeof(a4));
		key[0] = (u64)be32_to_cpu(a4) << 32;
		key[1] = 0;
		return;
	}
	memcpy(&a6, addr, sizeof(a6));
	key[0] = (u64)be32_to_cpu(a6.s6_addr32[0]) << 32 | be32_to_cpu(a6.s6_addr32[1]);
	key[1] = (u64)be32_to_cpu(a6.s6_addr32[2]) << 32 | be32_to_cpu(a6.s6_addr32[3]);
}

static void key_to_bytes(int family, const u64 *key, u8 *addr)
{
	__be32 a[4] = {
		cpu_to_be32(key[0] >> 32), cpu_to_be32(key[0]),
		cpu_to_be32(key[1] >> 32), cpu_to_be32(key[1]),
	};

	memcpy(addr, a, family == AF_INET ? 4 : 16);
}

/* Host bits set in a prefix are refused rather than masked: the table then
 * holds exactly what its owner put in, and a dump shows exactly that.
 */
static int key_from_prefix(const struct weft_rtrie *t, int family,
			   const void *prefix, u8 plen, u64 *key)
{
	u64 masked[2];

	if (plen > t->bits)
		return -EINVAL;
	key_from_bytes(family, prefix, key);
	masked[0] = key[0];
	masked[1] = key[1];
	key_mask(masked, plen);
	return masked[0] == key[0] && masked[1] == key[1] ? 0 : -EINVAL;
}

static struct weft_rnode *node_alloc(const u64 *key, u8 cidr, void *value)
{
	struct weft_rnode *node;

	node = kmem_cache_zalloc(weft_rnode_cache, GFP_KERNEL);
	if (!node)
		return NULL;
	node->key[0] = key[0];
	node->key[1] = key[1];
	key_mask(node->key, cidr);
	node->cidr = cidr;
	RCU_INIT_POINTER(node->value, value);
	return node;
}

static void node_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(weft_rnode_cache, container_of(rcu, struct weft_rnode, rcu));
}

static void node_free(struct weft_rnode *node)
{
	call_rcu(&node->rcu, node_free_rcu);
}

/* The pointer that links @key's subtree below @parent (or the root). */
static struct weft_rnode __rcu **child_slot(struct weft_rtrie *t,
					    struct weft_rnode *parent,
					    const u64 *key)
{
	return parent ? &parent->bit[key_bit(key, parent->cidr)] : &t->root;
}

static void bump_generation(struct weft_rtable *tbl)
{
	WRITE_ONCE(tbl->generation, tbl->generation + 1);
}

void weft_rtable_init(struct weft_rtable *tbl, struct mutex *lock)
{
	memset(tbl, 0, sizeof(*tbl));
	tbl->v4.bits = 32;
	tbl->v6.bits = 128;
	tbl->lock = lock;
}

/**
 * weft_rtable_insert - add a route, or change the value of an existing one
 * @tbl: the table, its lock held
 * @family: AF_INET or AF_INET6
 * @prefix: a __be32 or struct in6_addr, host bits clear
 * @plen: prefix length
 * @value: what lookups return for this prefix; not NULL
 *
 * Return: 0, -EINVAL for a bad prefix, length or value, -ENOMEM.
 */
int weft_rtable_insert(struct weft_rtable *tbl, int family, const void *prefix,
		       u8 plen, void *value)
{
	struct weft_rnode *node, *parent = NULL, *new, *mid;
	struct weft_rnode __rcu **slot;
	struct weft_rtrie *t;
	unsigned int c = 0;
	u64 key[2];
	int err;

	lockdep_assert_held(tbl->lock);
	t = trie_of(tbl, family);
	if (!t)
		return -EAFNOSUPPORT;
	err = key_from_prefix(t, family, prefix, plen, key);
	if (err)
		return err;
	if (!value)
		return -EINVAL;

	slot = &t->root;
	while ((node = deref_write(tbl, *slot))) {
		c = min3(common_bits(node->key, key), (unsigned int)node->cidr,
			 (unsigned int)plen);
		if (c < node->cidr)
			break;
		if (node->cidr == plen) {
			if (!deref_write(tbl, node->value))
				WRITE_ONCE(t->count, t->count + 1);
			rcu_assign_pointer(node->value, value);
			bump_generation(tbl);
			return 0;
		}
		parent = node;
		slot = &node->bit[key_bit(key, node->cidr)];
	}

	new = node_alloc(key, plen, value);
	if (!new)
		return -ENOMEM;
	new->parent = parent;

	if (node && c == plen) {
		/* The new prefix contains @node's: it goes in between. */
		RCU_INIT_POINTER(new->bit[key_bit(node->key, plen)], node);
		node->parent = new;
	} else if (node) {
		/* They part before either ends: join them under their common
		 * prefix.
		 */
		mid = node_alloc(key, c, NULL);
		if (!mid) {
			kmem_cache_free(weft_rnode_cache, new);
			return -ENOMEM;
		}
		mid->parent = parent;
		RCU_INIT_POINTER(mid->bit[key_bit(key, c)], new);
		RCU_INIT_POINTER(mid->bit[key_bit(node->key, c)], node);
		new->parent = mid;
		node->parent = mid;
		new = mid;
	}
	/* Everything below @new is in place before readers can see it. */
	rcu_assign_pointer(*slot, new);
	WRITE_ONCE(t->count, t->count + 1);
	bump_generation(tbl);
	return 0;
}

/**
 * weft_rtable_remove - remove a route
 * @tbl: the table, its lock held
 * @family: AF_INET or AF_INET6
 * @prefix: a __be32 or struct in6_addr, host bits clear
 * @plen: prefix length
 *
 * Readers may see the old value until the end of their RCU read side
 * critical section: free it after a grace period.
 *
 * Return: 0, -ENOENT if there is no such route, -EINVAL for a bad prefix.
 */
int weft_rtable_remove(struct weft_rtable *tbl, int family, const void *prefix,
		       u8 plen)
{
	struct weft_rnode *node, *parent, *child, *l, *r;
	struct weft_rtrie *t;
	u64 key[2];
	int err;

	lockdep_assert_held(tbl->lock);
	t = trie_of(tbl, family);
	if (!t)
		return -EAFNOSUPPORT;
	err = key_from_prefix(t, family, prefix, plen, key);
	if (err)
		return err;

	node = deref_write(tbl, t->root);
	while (node && node->cidr < plen && prefix_matches(node, key))
		node = deref_write(tbl, node->bit[key_bit(key, node->cidr)]);
	if (!node || node->cidr != plen || !prefix_matches(node, key) ||
	    !deref_write(tbl, node->value))
		return -ENOENT;

	RCU_INIT_POINTER(node->value, NULL);
	WRITE_ONCE(t->count, t->count - 1);
	bump_generation(tbl);

	l = deref_write(tbl, node->bit[0]);
	r = deref_write(tbl, node->bit[1]);
	if (l && r)
		return 0;	/* Still needed to join its children. */

	parent = node->parent;
	child = l ?: r;
	rcu_assign_pointer(*child_slot(t, parent, node->key), child);
	if (child)
		child->parent = parent;
	node_free(node);
	if (child || !parent || deref_write(tbl, parent->value))
		return 0;

	/* @parent only joined @node and a sibling: the sibling takes its place. */
	child = deref_write(tbl, parent->bit[0]) ?: deref_write(tbl, parent->bit[1]);
	node = parent;
	parent = node->parent;
	rcu_assign_pointer(*child_slot(t, parent, node->key), child);
	child->parent = parent;
	node_free(node);
	return 0;
}

static void trie_flush(struct weft_rtable *tbl, struct weft_rtrie *t)
{
	struct weft_rnode *node, *prev = NULL, *next, *l, *r;

	node = deref_write(tbl, t->root);
	if (!node)
		return;
	RCU_INIT_POINTER(t->root, NULL);

	/* Post-order through the parent pointers, without a stack and without
	 * touching what readers still inside the old tree follow. Only @prev's
	 * address is compared once it is freed.
	 */
	while (node) {
		l = deref_write(tbl, node->bit[0]);
		r = deref_write(tbl, node->bit[1]);
		if (prev == node->parent && l) {
			next = l;
		} else if ((prev == node->parent || prev == l) && r) {
			next = r;
		} else {
			next = node->parent;
			node_free(node);
		}
		prev = node;
		node = next;
	}
	WRITE_ONCE(t->count, 0);
	bump_generation(tbl);
}

/**
 * weft_rtable_flush - remove every route of a family
 * @tbl: the table, its lock held
 * @family: AF_INET, AF_INET6, or AF_UNSPEC for both
 */
void weft_rtable_flush(struct weft_rtable *tbl, int family)
{
	lockdep_assert_held(tbl->lock);
	if (family != AF_INET6)
		trie_flush(tbl, &tbl->v4);
	if (family != AF_INET)
		trie_flush(tbl, &tbl->v6);
}

/* Frees the nodes; the caller frees the values (after a grace period). */
void weft_rtable_free(struct weft_rtable *tbl)
{
	weft_rtable_flush(tbl, AF_UNSPEC);
}

unsigned int weft_rtable_count(const struct weft_rtable *tbl, int family)
{
	switch (family) {
	case AF_INET:
		return READ_ONCE(tbl->v4.count);
	case AF_INET6:
		return READ_ONCE(tbl->v6.count);
	default:
		return READ_ONCE(tbl->v4.count) + READ_ONCE(tbl->v6.count);
	}
}

static void *trie_lookup(const struct weft_rtrie *t, const u64 *key)
{
	const struct weft_rnode *node = rcu_dereference_bh(t->root);
	void *best = NULL, *value;

	while (node && prefix_matches(node, key)) {
		value = rcu_dereference_bh(node->value);
		if (value)
			best = value;
		if (node->cidr == t->bits)
			break;
		node = rcu_dereference_bh(node->bit[key_bit(key, node->cidr)]);
	}
	return best;
}

/**
 * weft_rtable_lookup4 - longest-prefix match for an IPv4 address
 * @tbl: the table
 * @addr: the address
 *
 * Context: rcu_read_lock_bh(); the value is only valid inside it.
 * Return: the value of the longest prefix containing @addr, or NULL.
 */
void *weft_rtable_lookup4(const struct weft_rtable *tbl, __be32 addr)
{
	u64 key[2] = { (u64)be32_to_cpu(addr) << 32, 0 };

	return trie_lookup(&tbl->v4, key);
}

/**
 * weft_rtable_lookup6 - longest-prefix match for an IPv6 address
 * @tbl: the table
 * @addr: the address
 *
 * Context: rcu_read_lock_bh(); the value is only valid inside it.
 * Return: the value of the longest prefix containing @addr, or NULL.
 */
void *weft_rtable_lookup6(const struct weft_rtable *tbl,
			  const struct in6_addr *addr)
{
	u64 key[2];

	key_from_bytes(AF_INET6, addr, key);
	return trie_lookup(&tbl->v6, key);
}

/* The first entry of @node's subtree in walk order: the node itself, then
 * its bit-0 subtree, then its bit-1 subtree.
 */
static const struct weft_rnode *walk_first(const struct weft_rtable *tbl,
					   const struct weft_rnode *node,
					   void **value)
{
	const struct weft_rnode *next;

	while (node) {
		*value = deref_walk(tbl, node->value);
		if (*value)
			return node;
		next = deref_walk(tbl, node->bit[0]);
		node = next ?: deref_walk(tbl, node->bit[1]);
	}
	return NULL;
}

/* The first entry after @key/@cidr in walk order, which sorts prefixes by
 * address and then by length. Each call starts from the root, which is what
 * lets a walk resume after the table changed.
 */
static const struct weft_rnode *walk_next(const struct weft_rtable *tbl,
					  const struct weft_rtrie *t,
					  const u64 *key, unsigned int cidr,
					  void **value)
{
	const struct weft_rnode *node, *found, *later = NULL, *r;
	unsigned int b;
	int d;

	node = deref_walk(tbl, t->root);
	while (node) {
		d = prefix_cmp(node->key, key, node->cidr);
		if (d < 0)
			break;
		/* Everything below comes after the cursor. */
		if (d > 0 || cidr < node->cidr) {
			found = walk_first(tbl, node, value);
			return found ?: walk_first(tbl, later, value);
		}
		if (cidr == node->cidr) {
			found = walk_first(tbl, deref_walk(tbl, node->bit[0]), value);
			if (!found)
				found = walk_first(tbl, deref_walk(tbl, node->bit[1]), value);
			return found ?: walk_first(tbl, later, value);
		}
		/* The cursor is deeper: the bit-1 side of its path is later. */
		b = key_bit(key, node->cidr);
		if (!b) {
			r = deref_walk(tbl, node->bit[1]);
			if (r)
				later = r;
		}
		node = deref_walk(tbl, node->bit[b]);
	}
	return walk_first(tbl, later, value);
}

/**
 * weft_rtable_walk - visit the routes of a family in order, resumably
 * @tbl: the table
 * @family: AF_INET or AF_INET6
 * @cursor: where to start; left on the last entry @cb accepted
 * @cb: called for each entry; a non-zero return stops the walk
 * @arg: passed to @cb
 *
 * Entries come sorted by address, then by prefix length. Each step costs a
 * descent from the root, so a walk stopped by @cb (a full dump skb) resumes
 * correctly even if the table changed in between; compare the generation
 * to know whether it did.
 *
 * Context: the table's lock, or rcu_read_lock() / rcu_read_lock_bh() (then
 * @cb must not sleep).
 * Return: 0 at the end of the table, or what @cb returned.
 */
int weft_rtable_walk(const struct weft_rtable *tbl, int family,
		     struct weft_rtable_cursor *cursor, weft_rtable_walk_cb cb,
		     void *arg)
{
	const struct weft_rtrie *t;
	const struct weft_rnode *node;
	u8 addr[16] = {};
	u64 key[2];
	void *value;
	int err;

	if (family == AF_INET)
		t = &tbl->v4;
	else if (family == AF_INET6)
		t = &tbl->v6;
	else
		return -EAFNOSUPPORT;
	if (cursor->started) {
		key_from_bytes(family, cursor->addr, key);
		key_mask(key, min(cursor->plen, t->bits));
	}

	for (;;) {
		if (cursor->started)
			node = walk_next(tbl, t, key, min(cursor->plen, t->bits),
					 &value);
		else
			node = walk_first(tbl, deref_walk(tbl, t->root), &value);
		if (!node)
			return 0;

		key_to_bytes(family, node->key, addr);
		err = cb(arg, addr, node->cidr, value);
		if (err)
			return err;
		memcpy(cursor->addr, addr, sizeof(addr));
		cursor->plen = node->cidr;
		cursor->started = true;
		key[0] = node->key[0];
		key[1] = node->key[1];
	}
}

int weft_route_init(void)
{
	weft_rnode_cache = KMEM_CACHE(weft_rnode, 0);
	return weft_rnode_cache ? 0 : -ENOMEM;
}

/* After every table is freed: waits for the nodes still queued for RCU. */
void weft_route_uninit(void)
{
	rcu_barrier();
	kmem_cache_destroy(weft_rnode_cache);
}
