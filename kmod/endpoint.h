/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Local pod endpoints of a weft device: the host side of a pod's interface,
 * its addresses and its security identity.
 *
 * Two indexes point at the same objects: wd->endpoints, an xarray by host
 * ifindex (dumps walk it in order), and wd->ep_addrs, a hash by address
 * (the datapath and the policy engine ask "whose address is this?").
 *
 * Lifetime: writers (ENDPOINT_ADD/DEL, the netdev notifier, the device
 * destructor) hold wd->lock. Readers look endpoints up under
 * rcu_read_lock_bh() and must not keep the pointer past it. An endpoint is
 * never changed once published: a replace publishes a new one and frees the
 * old after a grace period, so a reader sees one or the other, whole.
 */
#ifndef _WEFT_ENDPOINT_H
#define _WEFT_ENDPOINT_H

#include "device.h"

#include <linux/rcupdate.h>

struct weft_endpoint;

/* One address of an endpoint, hashed in wd->ep_addrs[]. */
struct weft_ep_addr {
	struct hlist_node hnode;	/* RCU */
	struct weft_endpoint *ep;	/* the owner */
	struct in6_addr addr;		/* IPv4: the first 4 bytes */
	u8 family;			/* AF_INET or AF_INET6 */
};

struct weft_endpoint {
	int ifindex;			/* host-side interface */
	u32 identity;
	unsigned int naddrs;		/* 1..WEFT_ENDPOINT_MAX_ADDRS */
	struct rcu_head rcu;
	struct weft_ep_addr addrs[];
};

/* What an ADD asks for, checked for form (unicast, no duplicates, bounds)
 * by the caller; weft_endpoint_add() checks it against the table.
 */
struct weft_endpoint_req {
	int ifindex;
	u32 identity;
	unsigned int naddrs;
	struct {
		struct in6_addr addr;
		u8 family;
	} addrs[WEFT_ENDPOINT_MAX_ADDRS];
	/* Index into @addrs of the address found in use, on EADDRINUSE. */
	unsigned int conflict;
};

void weft_endpoints_init(struct weft_dev *wd);
void weft_endpoints_free(struct weft_dev *wd);

struct weft_endpoint *weft_endpoint_lookup(struct weft_dev *wd, int family,
					   const void *addr);
struct weft_endpoint *weft_endpoint_get(struct weft_dev *wd, int ifindex);
int weft_endpoint_add(struct weft_dev *wd, struct weft_endpoint_req *req,
		      bool replace);
void weft_endpoint_delete(struct weft_dev *wd, struct weft_endpoint *ep);
void weft_endpoint_ifdown(struct weft_dev *wd, int ifindex);

#endif /* _WEFT_ENDPOINT_H */
