/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The route table: longest-prefix match from an IPv4 or IPv6 destination to
 * an opaque value (the node behind the prefix). See Documentation/datapath.md.
 */
#ifndef _WEFT_ROUTE_H
#define _WEFT_ROUTE_H

#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

struct weft_rnode;

struct weft_rtrie {
	struct weft_rnode __rcu *root;
	unsigned int count;
	u8 bits;
};

/* Readers need nothing but rcu_read_lock_bh(). Writers hold *lock, the mutex
 * given to weft_rtable_init() (the owning device's). @generation changes
 * with every change to either family, for dumps to detect that they raced.
 */
struct weft_rtable {
	struct weft_rtrie v4;
	struct weft_rtrie v6;
	struct mutex *lock;	/* the owner's; writers hold it */
	u32 generation;
};

/* Where a walk resumes: after the entry @addr/@plen (network order; the
 * first 4 bytes for IPv4). A zeroed cursor starts at the first entry. It is
 * small enough to live in a netlink dump's callback context.
 */
struct weft_rtable_cursor {
	u8 addr[16];
	u8 plen;
	bool started;
};

/* Called for each entry by weft_rtable_walk(), @prefix in network order.
 * Anything but 0 stops the walk, without moving the cursor past this entry.
 */
typedef int (*weft_rtable_walk_cb)(void *arg, const void *prefix, u8 plen,
				   void *value);

int weft_route_init(void);
void weft_route_uninit(void);

/* kmod/selftest.c: with selftest=1, run at load time; an error fails it. */
int weft_selftest_run(void);

void weft_rtable_init(struct weft_rtable *tbl, struct mutex *lock);
void weft_rtable_free(struct weft_rtable *tbl);

int weft_rtable_insert(struct weft_rtable *tbl, int family, const void *prefix,
		       u8 plen, void *value);
int weft_rtable_remove(struct weft_rtable *tbl, int family, const void *prefix,
		       u8 plen);
void weft_rtable_flush(struct weft_rtable *tbl, int family);
unsigned int weft_rtable_count(const struct weft_rtable *tbl, int family);

void *weft_rtable_lookup4(const struct weft_rtable *tbl, __be32 addr);
void *weft_rtable_lookup6(const struct weft_rtable *tbl,
			  const struct in6_addr *addr);

int weft_rtable_walk(const struct weft_rtable *tbl, int family,
		     struct weft_rtable_cursor *cursor, weft_rtable_walk_cb cb,
		     void *arg);

#endif /* _WEFT_ROUTE_H */
