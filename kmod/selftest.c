// SPDX-License-Identifier: GPL-2.0
/*
 * Self-tests run at load time with selftest=1; a failure fails the load.
 *
 * The route trie is checked against a deliberately naive reference: a flat
 * array of prefixes, scanned in full for the longest match, byte by byte, and
 * sorted with sort() for the walk order. It shares no code with route.c.
 */

#include "route.h"

#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/sort.h>
#include <linux/string.h>

static bool selftest;
module_param(selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "run the self-tests at load time (a failure fails the load)");

/* Per family: ROUNDS tables of up to ROUTES prefixes, LOOKUPS random
 * lookups on each, then LOOKUPS / 4 more once half of it is gone. The
 * reference scans every prefix for every lookup, which is what bounds the
 * runtime under emulation.
 */
#define ROUNDS		4
#define ROUTES		192
#define LOOKUPS		BIT(18)
#define CURSORS		256
#define BULK_ROUTES	100000U
#define BULK_GEN	(BULK_ROUTES + BULK_ROUTES / 10)

struct ref_route {
	u8 addr[16];
	u8 plen;
	void *value;
};

struct rt_test {
	int family;
	unsigned int len;	/* address bytes */
	unsigned int bits;
	struct rnd_state rnd;
	struct mutex lock;	/* the table's writers' lock */
	struct weft_rtable tbl;
	struct ref_route *ref;
	unsigned int n;
	unsigned long next_value;
	unsigned long lookups;
	bool no_default;
};

static const char *fam_name(const struct rt_test *t)
{
	return t->family == AF_INET ? "IPv4" : "IPv6";
}

static u32 rnd(struct rt_test *t)
{
	return prandom_u32_state(&t->rnd);
}

static u32 rnd_below(struct rt_test *t, u32 n)
{
	return rnd(t) % n;
}

/* A random address: t->len random bytes, zeroes up to 16. */
static void rnd_bytes(struct rt_test *t, u8 *buf)
{
	unsigned int i;
	u32 x;

	memset(buf, 0, 16);
	for (i = 0; i < t->len; i += 4) {
		x = rnd(t);
		memcpy(buf + i, &x, 4);
	}
}

/* Keeps the first @plen bits of @addr, clears the rest. */
static void ref_mask(u8 *addr, unsigned int plen)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		if (plen > 8 * i)
			addr[i] &= 0xff00 >> (plen - 8 * i);
		else
			addr[i] = 0;
	}
}

static bool ref_match(const struct ref_route *r, const u8 *addr)
{
	unsigned int i;

	for (i = 0; i < r->plen / 8; i++)
		if (r->addr[i] != addr[i])
			return false;
	if (r->plen % 8)
		return !((r->addr[i] ^ addr[i]) & (0xff00 >> (r->plen % 8)));
	return true;
}

static struct ref_route *ref_lookup(struct rt_test *t, const u8 *addr)
{
	struct ref_route *best = NULL;
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (ref_match(&t->ref[i], addr) &&
		    (!best || t->ref[i].plen > best->plen))
			best = &t->ref[i];
	return best;
}

static struct ref_route *ref_find(struct rt_test *t, const u8 *addr, u8 plen)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (t->ref[i].plen == plen && !memcmp(t->ref[i].addr, addr, t->len))
			return &t->ref[i];
	return NULL;
}

static struct ref_route *ref_by_value(struct rt_test *t, void *value)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (t->ref[i].value == value)
			return &t->ref[i];
	return NULL;
}

static int ref_cmp(const struct ref_route *a, const struct ref_route *b,
		   unsigned int len)
{
	int d = memcmp(a->addr, b->addr, len);

	if (d)
		return d;
	return (int)a->plen - (int)b->plen;
}

static int ref_cmp4(const void *a, const void *b)
{
	return ref_cmp(a, b, 4);
}

static int ref_cmp6(const void *a, const void *b)
{
	return ref_cmp(a, b, 16);
}

static void ref_sort(struct ref_route *r, unsigned int n, unsigned int len)
{
	sort(r, n, sizeof(*r), len == 4 ? ref_cmp4 : ref_cmp6, NULL);
}

static void shuffle(struct rt_test *t, u32 *a, unsigned int n)
{
	unsigned int i, j;

	if (n < 2)
		return;
	for (i = n - 1; i > 0; i--) {
		j = rnd_below(t, i + 1);
		swap(a[i], a[j]);
	}
}

static void *new_value(struct rt_test *t)
{
	/* Opaque to the table, never dereferenced: a counter will do. */
	t->next_value++;
	return (void *)t->next_value;
}

static u8 rand_plen(struct rt_test *t)
{
	u32 r = rnd_below(t, 100);
	u8 lo = t->bits == 32 ? 16 : 48;

	if (r < 3 && !t->no_default)
		return 0;
	if (r < 20)
		return 1 + rnd_below(t, lo - 1);
	return lo + rnd_below(t, t->bits - lo + 1);
}

/* A random prefix; most extend or shorten one already there, so that they
 * overlap and share paths.
 */
static void rand_prefix(struct rt_test *t, u8 *addr, u8 *plen)
{
	const struct ref_route *base;
	u8 keep[16];
	unsigned int i;

	rnd_bytes(t, addr);
	*plen = rand_plen(t);
	if (t->n && rnd_below(t, 100) < 60) {
		base = &t->ref[rnd_below(t, t->n)];
		memset(keep, 0xff, sizeof(keep));
		ref_mask(keep, base->plen);
		for (i = 0; i < 16; i++)
			addr[i] = (base->addr[i] & keep[i]) | (addr[i] & ~keep[i]);
		if (rnd_below(t, 4) == 0 && base->plen)
			*plen = rnd_below(t, base->plen + 1);
	}
	ref_mask(addr, *plen);
}

static int fail(struct rt_test *t, const char *what, const u8 *addr, int plen,
		long got, long want)
{
	if (t->family == AF_INET)
		pr_err("weft: selftest: route trie: IPv4 %s %pI4/%d: got %ld, want %ld\n",
		       what, addr, plen, got, want);
	else
		pr_err("weft: selftest: route trie: IPv6 %s %pI6c/%d: got %ld, want %ld\n",
		       what, addr, plen, got, want);
	return -EINVAL;
}

static void show(struct rt_test *t, const char *what, const u8 *addr, int plen)
{
	if (t->family == AF_INET)
		pr_err("weft: selftest: route trie: %s %pI4/%d\n", what, addr, plen);
	else
		pr_err("weft: selftest: route trie: %s %pI6c/%d\n", what, addr, plen);
}

static int rt_insert(struct rt_test *t, const u8 *addr, u8 plen)
{
	struct ref_route *r = ref_find(t, addr, plen);
	void *value = new_value(t);
	int err;

	mutex_lock(&t->lock);
	err = weft_rtable_insert(&t->tbl, t->family, addr, plen, value);
	mutex_unlock(&t->lock);
	if (err)
		return fail(t, "insert", addr, plen, err, 0);
	if (!r) {
		r = &t->ref[t->n++];
		memcpy(r->addr, addr, sizeof(r->addr));
		r->plen = plen;
	}
	r->value = value;
	return 0;
}

static int rt_remove(struct rt_test *t, unsigned int i)
{
	struct ref_route *r = &t->ref[i];
	int err;

	mutex_lock(&t->lock);
	err = weft_rtable_remove(&t->tbl, t->family, r->addr, r->plen);
	mutex_unlock(&t->lock);
	if (err)
		return fail(t, "remove", r->addr, r->plen, err, 0);
	*r = t->ref[--t->n];
	return 0;
}

static int check_count(struct rt_test *t, const char *when)
{
	unsigned int n = weft_rtable_count(&t->tbl, t->family);

	if (n == t->n)
		return 0;
	pr_err("weft: selftest: route trie: %s count %s: got %u, want %u\n",
	       fam_name(t), when, n, t->n);
	return -EINVAL;
}

static void *trie_lookup(struct rt_test *t, const u8 *addr)
{
	struct in6_addr a6;
	__be32 a4;
	void *value;

	rcu_read_lock_bh();
	if (t->family == AF_INET) {
		memcpy(&a4, addr, sizeof(a4));
		value = weft_rtable_lookup4(&t->tbl, a4);
	} else {
		memcpy(&a6, addr, sizeof(a6));
		value = weft_rtable_lookup6(&t->tbl, &a6);
	}
	rcu_read_unlock_bh();
	return value;
}

static int check_lookups(struct rt_test *t, unsigned int count)
{
	const struct ref_route *want, *got;
	unsigned int i, bit;
	void *value;
	u8 addr[16];

	for (i = 0; i < count; i++) {
		rnd_bytes(t, addr);
		/* Mostly inside a prefix of the table, sometimes just outside
		 * it, sometimes anywhere.
		 */
		if (t->n && rnd_below(t, 5)) {
			const struct ref_route *r = &t->ref[rnd_below(t, t->n)];
			u8 keep[16];
			unsigned int j;

			memset(keep, 0xff, sizeof(keep));
			ref_mask(keep, r->plen);
			for (j = 0; j < 16; j++)
				addr[j] = (r->addr[j] & keep[j]) | (addr[j] & ~keep[j]);
			if (r->plen && rnd_below(t, 3) == 0) {
				bit = r->plen - 1 - rnd_below(t, min_t(u8, r->plen, 8));
				addr[bit / 8] ^= 0x80 >> (bit % 8);
			}
		}

		value = trie_lookup(t, addr);
		want = ref_lookup(t, addr);
		if (value != (want ? want->value : NULL)) {
			got = ref_by_value(t, value);
			fail(t, "lookup", addr, t->bits, (long)value,
			     want ? (long)want->value : 0);
			if (want)
				show(t, "  the longest match is", want->addr, want->plen);
			if (got)
				show(t, "  the trie's value is that of", got->addr, got->plen);
			return -EINVAL;
		}
		t->lookups++;
		if (!(i % 1024))
			cond_resched();
	}
	return 0;
}

/* Checks what a walk yields against @expect, from @pos on; stops (without
 * taking the entry) after @budget entries, as a full dump skb would.
 */
struct walk_check {
	struct rt_test *t;
	const struct ref_route *expect;
	unsigned int n, pos, budget, seen;
	int err;
};

static int walk_check_cb(void *arg, const void *prefix, u8 plen, void *value)
{
	struct walk_check *w = arg;
	const struct ref_route *e = &w->expect[w->pos];

	if (w->budget && w->seen == w->budget)
		return 1;
	if (w->pos >= w->n || plen != e->plen || value != e->value ||
	    memcmp(prefix, e->addr, w->t->len)) {
		fail(w->t, "walk entry", prefix, plen, w->pos, w->n);
		if (w->pos < w->n)
			show(w->t, "  instead of", e->addr, e->plen);
		w->err = -EINVAL;
		return w->err;
	}
	w->pos++;
	w->seen++;
	return 0;
}

static int walk_locked(struct rt_test *t, struct weft_rtable_cursor *c,
		       struct walk_check *w, bool rcu)
{
	int ret;

	if (rcu) {
		rcu_read_lock();
		ret = weft_rtable_walk(&t->tbl, t->family, c, walk_check_cb, w);
		rcu_read_unlock();
	} else {
		mutex_lock(&t->lock);
		ret = weft_rtable_walk(&t->tbl, t->family, c, walk_check_cb, w);
		mutex_unlock(&t->lock);
	}
	return ret;
}

static int check_walk(struct rt_test *t)
{
	struct weft_rtable_cursor c = {};
	struct walk_check w = { .t = t };
	struct ref_route *sorted, cur;
	unsigned int i, j;
	int ret;

	/* One more, zeroed, for the messages of an empty table. */
	sorted = kcalloc(t->n + 1, sizeof(*sorted), GFP_KERNEL);
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, t->ref, t->n * sizeof(*sorted));
	ref_sort(sorted, t->n, t->len);
	w.expect = sorted;
	w.n = t->n;

	/* In one go, under the writers' lock. */
	ret = walk_locked(t, &c, &w, false);
	if (!ret && w.pos != t->n)
		ret = fail(t, "walk length", sorted[0].addr, 0, w.pos, t->n);
	if (ret)
		goto out;

	/* In small pieces, under RCU, each resuming where the last stopped. */
	memset(&c, 0, sizeof(c));
	w.pos = 0;
	do {
		w.seen = 0;
		w.budget = 1 + rnd_below(t, 16);
		ret = walk_locked(t, &c, &w, true);
	} while (ret == 1);
	if (!ret && w.pos != t->n)
		ret = fail(t, "resumed walk length", sorted[0].addr, 0, w.pos, t->n);
	if (ret)
		goto out;

	/* From random cursors: on an entry, or anywhere. */
	for (i = 0; i < CURSORS; i++) {
		if (t->n && rnd_below(t, 2)) {
			cur = sorted[rnd_below(t, t->n)];
		} else {
			rnd_bytes(t, cur.addr);
			cur.plen = rnd_below(t, t->bits + 1);
			ref_mask(cur.addr, cur.plen);
		}
		for (j = 0; j < t->n; j++)
			if (ref_cmp(&sorted[j], &cur, t->len) > 0)
				break;
		memset(&c, 0, sizeof(c));
		memcpy(c.addr, cur.addr, sizeof(c.addr));
		c.plen = cur.plen;
		c.started = true;
		w.pos = j;
		w.seen = 0;
		w.budget = 1 + rnd_below(t, 4);
		ret = walk_locked(t, &c, &w, rnd_below(t, 2));
		if (ret < 0)
			goto out;
		if (w.pos != min(j + w.budget, t->n)) {
			ret = fail(t, "walk from cursor", cur.addr, cur.plen,
				   w.pos, min(j + w.budget, t->n));
			goto out;
		}
	}
	ret = 0;
out:
	kfree(sorted);
	return ret;
}

static int check_errors(struct rt_test *t)
{
	u8 addr[16] = {};
	u8 plen;
	int err;

	mutex_lock(&t->lock);
	err = weft_rtable_insert(&t->tbl, t->family, addr, t->bits + 1, (void *)1UL);
	if (err != -EINVAL)
		goto bad;
	err = weft_rtable_insert(&t->tbl, t->family, addr, 8, NULL);
	if (err != -EINVAL)
		goto bad;
	addr[1] = 1;	/* a host bit of a /8 */
	err = weft_rtable_insert(&t->tbl, t->family, addr, 8, (void *)1UL);
	if (err != -EINVAL)
		goto bad;
	err = weft_rtable_remove(&t->tbl, t->family, addr, 8);
	if (err != -EINVAL)
		goto bad;
	err = weft_rtable_insert(&t->tbl, AF_UNSPEC, addr, 16, (void *)1UL);
	if (err != -EAFNOSUPPORT)
		goto bad;
	/* Prefixes that are not there, some of them inside ones that are. */
	do {
		rand_prefix(t, addr, &plen);
	} while (ref_find(t, addr, plen));
	err = weft_rtable_remove(&t->tbl, t->family, addr, plen);
	if (err != -ENOENT)
		goto bad;
	mutex_unlock(&t->lock);
	return 0;
bad:
	mutex_unlock(&t->lock);
	return fail(t, "bad argument", addr, -1, err, 0);
}

static int rt_round(struct rt_test *t, unsigned int round)
{
	unsigned int i, n, half;
	u8 addr[16], plen;
	int err;

	weft_rtable_init(&t->tbl, &t->lock);
	t->n = 0;
	/* Every other table has no default route: lookups can miss. */
	t->no_default = round & 1;

	for (i = 0; i < ROUTES; i++) {
		rand_prefix(t, addr, &plen);
		err = rt_insert(t, addr, plen);
		if (err)
			goto out;
		/* Now and then, a new value for an existing prefix. */
		if (rnd_below(t, 8) == 0) {
			n = rnd_below(t, t->n);
			memcpy(addr, t->ref[n].addr, sizeof(addr));
			err = rt_insert(t, addr, t->ref[n].plen);
			if (err)
				goto out;
		}
	}
	err = check_count(t, "after inserting");
	if (!err)
		err = check_errors(t);
	if (!err)
		err = check_lookups(t, LOOKUPS);
	if (!err)
		err = check_walk(t);
	if (err)
		goto out;

	/* Remove a random half, then look again. */
	half = t->n / 2;
	while (t->n > half) {
		err = rt_remove(t, rnd_below(t, t->n));
		if (err)
			goto out;
	}
	err = check_count(t, "after removing half");
	if (!err)
		err = check_errors(t);
	if (!err)
		err = check_lookups(t, LOOKUPS / 4);
	if (!err)
		err = check_walk(t);
	if (err)
		goto out;

	/* Removing all but a few leaves no joining node behind. */
	while (t->n > 3) {
		err = rt_remove(t, rnd_below(t, t->n));
		if (err)
			goto out;
	}
	err = check_lookups(t, 1024);
	if (!err)
		err = check_walk(t);
	if (err)
		goto out;

	mutex_lock(&t->lock);
	weft_rtable_flush(&t->tbl, t->family);
	mutex_unlock(&t->lock);
	t->n = 0;
	err = check_count(t, "after flush");
	if (!err)
		err = check_lookups(t, 64);
	if (!err)
		err = check_walk(t);
out:
	mutex_lock(&t->lock);
	weft_rtable_free(&t->tbl);
	mutex_unlock(&t->lock);
	return err;
}

static int rt_family(int family, u64 seed, unsigned long *lookups)
{
	struct rt_test *t;
	unsigned int round;
	int err = 0;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	/* Room for every insert of a round, replacements included. */
	t->ref = kcalloc(2 * ROUTES, sizeof(*t->ref), GFP_KERNEL);
	if (!t->ref) {
		kfree(t);
		return -ENOMEM;
	}
	t->family = family;
	t->len = family == AF_INET ? 4 : 16;
	t->bits = 8 * t->len;
	prandom_seed_state(&t->rnd, seed);
	mutex_init(&t->lock);

	for (round = 0; round < ROUNDS && !err; round++)
		err = rt_round(t, round);
	if (err)
		pr_err("weft: selftest: route trie: %s failed in round %u, seed %llu\n",
		       fam_name(t), round - 1, seed);
	*lookups += t->lookups;

	mutex_destroy(&t->lock);
	kfree(t->ref);
	kfree(t);
	return err;
}

/* Bulk programming: a node's worth of per-node blocks and per-pod routes.
 * Only correctness is checked; the time is printed for information.
 */
static int rt_bulk(int family, u64 seed)
{
	struct weft_rtable_cursor c = {};
	struct walk_check w = {};
	struct ref_route *r;
	struct rt_test *t;
	ktime_t start;
	s64 insert_us, remove_us;
	unsigned int i, j, n;
	u32 *order;
	void *value;
	int err = -ENOMEM;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	order = kvmalloc_array(BULK_ROUTES, sizeof(*order), GFP_KERNEL);
	r = kvmalloc_array(BULK_GEN, sizeof(*r), GFP_KERNEL);
	if (!t || !order || !r)
		goto out_free;
	t->family = family;
	t->len = family == AF_INET ? 4 : 16;
	t->bits = 8 * t->len;
	prandom_seed_state(&t->rnd, seed);
	mutex_init(&t->lock);
	weft_rtable_init(&t->tbl, &t->lock);

	/* 10.0.0.0/8 or fd00::/8: node blocks (/24, /64) and pods (/32, /128),
	 * a tenth more than needed so that BULK_ROUTES remain once the
	 * duplicates are gone.
	 */
	for (i = 0; i < BULK_GEN; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		rnd_bytes(t, r[i].addr);
		r[i].addr[0] = family == AF_INET ? 10 : 0xfd;
		if (family == AF_INET)
			r[i].plen = rnd_below(t, 4) ? 32 : 24;
		else
			r[i].plen = rnd_below(t, 4) ? 128 : 64;
		if (rnd_below(t, 2) && i)
			memcpy(r[i].addr, r[rnd_below(t, i)].addr, t->len / 2);
		ref_mask(r[i].addr, r[i].plen);
		cond_resched();
	}
	ref_sort(r, BULK_GEN, t->len);
	for (i = 0, n = 0; i < BULK_GEN; i++)
		if (!n || ref_cmp(&r[n - 1], &r[i], t->len))
			r[n++] = r[i];
	for (i = n - 1; i > 0; i--) {
		j = rnd_below(t, i + 1);
		swap(r[i], r[j]);
	}
	n = min(n, BULK_ROUTES);
	ref_sort(r, n, t->len);
	for (i = 0; i < n; i++) {
		r[i].value = (void *)(unsigned long)(i + 1);
		order[i] = i;
	}
	shuffle(t, order, n);

	err = 0;
	start = ktime_get();
	mutex_lock(&t->lock);
	for (i = 0; i < n && !err; i++) {
		err = weft_rtable_insert(&t->tbl, family, r[order[i]].addr,
					 r[order[i]].plen, r[order[i]].value);
		if (!(i % 1024))
			cond_resched();
	}
	mutex_unlock(&t->lock);
	insert_us = ktime_us_delta(ktime_get(), start);
	if (err) {
		fail(t, "bulk insert", r[order[i - 1]].addr, r[order[i - 1]].plen, err, 0);
		goto out;
	}
	t->n = n;
	err = check_count(t, "after bulk insert");
	if (err)
		goto out;

	/* Each prefix's first address finds it or a longer prefix within it. */
	for (i = 0; i < n; i++) {
		value = trie_lookup(t, r[i].addr);
		j = (unsigned long)value - 1;
		if (!value || j >= n || r[j].plen < r[i].plen ||
		    memcmp(r[j].addr, r[i].addr, t->len)) {
			err = fail(t, "bulk lookup", r[i].addr, r[i].plen,
				   (long)value, i + 1);
			goto out;
		}
		if (!(i % 1024))
			cond_resched();
	}

	w.t = t;
	w.expect = r;
	w.n = n;
	mutex_lock(&t->lock);
	err = weft_rtable_walk(&t->tbl, family, &c, walk_check_cb, &w);
	mutex_unlock(&t->lock);
	if (!err && w.pos != n)
		err = fail(t, "bulk walk length", r[0].addr, 0, w.pos, n);
	if (err)
		goto out;

	shuffle(t, order, n);
	start = ktime_get();
	mutex_lock(&t->lock);
	for (i = 0; i < n && !err; i++) {
		err = weft_rtable_remove(&t->tbl, family, r[order[i]].addr,
					 r[order[i]].plen);
		if (!(i % 1024))
			cond_resched();
	}
	mutex_unlock(&t->lock);
	remove_us = ktime_us_delta(ktime_get(), start);
	if (err) {
		fail(t, "bulk remove", r[order[i - 1]].addr, r[order[i - 1]].plen,
		     err, 0);
		goto out;
	}
	t->n = 0;
	err = check_count(t, "after bulk remove");
	if (err)
		goto out;
	pr_info("weft: selftest: route trie: %s: %u routes inserted in %lld ms, removed in %lld ms\n",
		fam_name(t), n, insert_us / 1000, remove_us / 1000);

out:
	mutex_lock(&t->lock);
	weft_rtable_free(&t->tbl);
	mutex_unlock(&t->lock);
	mutex_destroy(&t->lock);
out_free:
	kvfree(r);
	kvfree(order);
	kfree(t);
	return err;
}

static int route_selftest(void)
{
	u64 seed = get_random_u32() | (u64)get_random_u32() << 32;
	unsigned long lookups = 0;
	ktime_t start = ktime_get();
	int err;

	err = rt_family(AF_INET, seed, &lookups);
	if (!err)
		err = rt_family(AF_INET6, seed + 1, &lookups);
	if (!err)
		err = rt_bulk(AF_INET, seed + 2);
	if (!err)
		err = rt_bulk(AF_INET6, seed + 3);
	if (err)
		return -EINVAL;
	pr_info("weft: selftest: route trie: %lu lookups ok (%lld ms)\n",
		lookups, ktime_ms_delta(ktime_get(), start));
	return 0;
}

int weft_selftest_run(void)
{
	if (!selftest)
		return 0;
	return route_selftest();
}
