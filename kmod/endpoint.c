// SPDX-License-Identifier: GPL-2.0
/*
 * Local pod endpoints; see endpoint.h for the locking and the lifetime
 * rules, uapi/linux/weft.h for the netlink side.
 */

#include "endpoint.h"

#include <linux/jhash.h>
#include <linux/lockdep.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>

static unsigned int weft_ep_alen(int family)
{
	return family == AF_INET ? sizeof(__be32) : sizeof(struct in6_addr);
}

static struct hlist_head *weft_ep_bucket(struct weft_dev *wd, int family,
					 const void *addr)
{
	u32 h = jhash(addr, weft_ep_alen(family), family);

	return &wd->ep_addrs[hash_32(h, WEFT_EP_HASH_BITS)];
}

void weft_endpoints_init(struct weft_dev *wd)
{
	int i;

	xa_init(&wd->endpoints);
	for (i = 0; i < WEFT_EP_HASH_SIZE; i++)
		INIT_HLIST_HEAD(&wd->ep_addrs[i]);
	wd->ep_generation = 1;
}

/**
 * weft_endpoint_lookup - find the endpoint that owns an address
 * @wd: the device
 * @family: AF_INET or AF_INET6
 * @addr: a __be32 or struct in6_addr
 *
 * Context: rcu_read_lock_bh() (or rcu_read_lock()), or wd->lock.
 * Return: the endpoint, or NULL.
 */
struct weft_endpoint *weft_endpoint_lookup(struct weft_dev *wd, int family,
					   const void *addr)
{
	struct hlist_head *head = weft_ep_bucket(wd, family, addr);
	unsigned int len = weft_ep_alen(family);
	struct weft_ep_addr *ea;

	/* During a replace, an address the old and the new endpoint share is
	 * hashed twice, the new entry first: a reader finds the new one.
	 */
	hlist_for_each_entry_rcu(ea, head, hnode,
				 lockdep_is_held(&wd->lock) ||
				 rcu_read_lock_bh_held())
		if (ea->family == family && !memcmp(&ea->addr, addr, len))
			return ea->ep;
	return NULL;
}

/**
 * weft_endpoint_get - find the endpoint on a host interface
 * @wd: the device
 * @ifindex: the host-side interface
 *
 * Context: RCU read side or wd->lock.
 * Return: the endpoint, or NULL.
 */
struct weft_endpoint *weft_endpoint_get(struct weft_dev *wd, int ifindex)
{
	if (ifindex <= 0)
		return NULL;
	return xa_load(&wd->endpoints, ifindex);
}

static void weft_endpoint_free_rcu(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct weft_endpoint, rcu));
	atomic_dec(&weft_debug_objects);
}

static void weft_endpoint_unhash(struct weft_endpoint *ep)
{
	unsigned int i;

	for (i = 0; i < ep->naddrs; i++)
		hlist_del_rcu(&ep->addrs[i].hnode);
}

/* The host interface must be in the device's netns and not be a weft
 * device. Checked under wd->lock: an interface still listed here has not
 * reached its NETDEV_UNREGISTER notifier yet (the core unlists a device
 * and waits for RCU readers first), and that notifier needs wd->lock, so
 * it runs after the endpoint is in and removes it again.
 */
static int weft_endpoint_check_host(struct weft_dev *wd, int ifindex)
{
	struct net_device *dev;
	int err = 0;

	rcu_read_lock();
	dev = dev_get_by_index_rcu(dev_net(wd->dev), ifindex);
	if (!dev)
		err = -ENODEV;
	else if (weft_is_weft_dev(dev))
		err = -EINVAL;
	rcu_read_unlock();
	return err;
}

/**
 * weft_endpoint_add - add an endpoint, or replace the one on its interface
 * @wd: the device, its lock held
 * @req: the endpoint, its addresses unicast and distinct
 * @replace: whether an endpoint on @req->ifindex may be replaced
 *
 * Either everything applies or nothing does.
 *
 * Return: 0; -ENODEV or -EINVAL for a host interface that is missing or a
 * weft device; -EEXIST; -EADDRINUSE with @req->conflict naming the address
 * another endpoint owns; -ENOMEM.
 */
int weft_endpoint_add(struct weft_dev *wd, struct weft_endpoint_req *req,
		      bool replace)
{
	struct weft_endpoint *ep, *old, *owner;
	unsigned int i;
	void *prev;
	int err;

	lockdep_assert_held(&wd->lock);
	err = weft_endpoint_check_host(wd, req->ifindex);
	if (err)
		return err;
	old = weft_endpoint_get(wd, req->ifindex);
	if (old && !replace)
		return -EEXIST;
	for (i = 0; i < req->naddrs; i++) {
		owner = weft_endpoint_lookup(wd, req->addrs[i].family,
					     &req->addrs[i].addr);
		if (owner && owner != old) {
			req->conflict = i;
			return -EADDRINUSE;
		}
	}

	ep = kzalloc(struct_size(ep, addrs, req->naddrs), GFP_KERNEL);
	if (!ep)
		return -ENOMEM;
	ep->ifindex = req->ifindex;
	ep->identity = req->identity;
	ep->naddrs = req->naddrs;
	for (i = 0; i < req->naddrs; i++) {
		ep->addrs[i].ep = ep;
		ep->addrs[i].family = req->addrs[i].family;
		ep->addrs[i].addr = req->addrs[i].addr;
	}

	/* The only step that can fail comes first; replacing an entry that
	 * exists allocates nothing.
	 */
	prev = xa_store(&wd->endpoints, ep->ifindex, ep, GFP_KERNEL);
	if (xa_is_err(prev)) {
		kfree(ep);
		return xa_err(prev);
	}
	for (i = 0; i < ep->naddrs; i++)
		hlist_add_head_rcu(&ep->addrs[i].hnode,
				   weft_ep_bucket(wd, ep->addrs[i].family,
						  &ep->addrs[i].addr));
	atomic_inc(&weft_debug_objects);
	if (old) {
		weft_endpoint_unhash(old);
		call_rcu(&old->rcu, weft_endpoint_free_rcu);
	} else {
		wd->nendpoints++;
	}
	wd->ep_generation++;
	wd->generation++;
	return 0;
}

/* Removes an endpoint from both indexes; frees it after a grace period. */
void weft_endpoint_delete(struct weft_dev *wd, struct weft_endpoint *ep)
{
	lockdep_assert_held(&wd->lock);
	xa_erase(&wd->endpoints, ep->ifindex);
	weft_endpoint_unhash(ep);
	wd->nendpoints--;
	wd->ep_generation++;
	wd->generation++;
	call_rcu(&ep->rcu, weft_endpoint_free_rcu);
}

/* The host interface @ifindex is being unregistered: its endpoint goes. */
void weft_endpoint_ifdown(struct weft_dev *wd, int ifindex)
{
	struct weft_endpoint *ep;

	lockdep_assert_held(&wd->lock);
	ep = weft_endpoint_get(wd, ifindex);
	if (ep)
		weft_endpoint_delete(wd, ep);
}

/* The device destructor: no request or notifier reaches the device now. */
void weft_endpoints_free(struct weft_dev *wd)
{
	struct weft_endpoint *ep;
	unsigned long idx;

	lockdep_assert_held(&wd->lock);
	xa_for_each(&wd->endpoints, idx, ep) {
		weft_endpoint_delete(wd, ep);
		cond_resched();
	}
	xa_destroy(&wd->endpoints);
}
