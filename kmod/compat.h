/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels weft builds for. Kbuild probes the target
 * kernel's headers and passes WEFT_HAVE_* defines; everything version
 * specific lives here so that the rest of the module reads like upstream
 * code of the newest kernel.
 */
#ifndef _WEFT_COMPAT_H
#define _WEFT_COMPAT_H

#include <linux/netdevice.h>
#include <net/genetlink.h>

/* The parsed attributes of a dump request: 6.1 keeps them in the dumpit
 * info itself, later kernels in the genl_info it embeds.
 */
static inline struct nlattr **weft_dumpit_attrs(struct netlink_callback *cb)
{
#ifdef WEFT_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/* 6.12 moved the "cannot change netns" and lockless-tx flags out of
 * dev->features into bit fields of struct net_device.
 */
static inline void weft_dev_set_netns_immutable(struct net_device *dev)
{
#if defined(WEFT_HAVE_NETNS_IMMUTABLE)
	dev->netns_immutable = true;
#elif defined(WEFT_HAVE_NETNS_LOCAL_BIT)
	dev->netns_local = true;
#else
	dev->features |= NETIF_F_NETNS_LOCAL;
#endif
}

static inline void weft_dev_set_lltx(struct net_device *dev)
{
#ifdef WEFT_HAVE_DEV_LLTX
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

/* Kernels with pcpu_stat_type allocate dev->tstats in the core when told so
 * before registration; older ones leave it to the driver's ndo_init.
 */
#ifdef WEFT_HAVE_PCPU_STAT_TYPE
static inline void weft_dev_setup_tstats(struct net_device *dev)
{
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
}

static inline int weft_dev_alloc_tstats(struct net_device *dev)
{
	return 0;
}

static inline void weft_dev_free_tstats(struct net_device *dev)
{
}
#else
static inline void weft_dev_setup_tstats(struct net_device *dev)
{
}

static inline int weft_dev_alloc_tstats(struct net_device *dev)
{
	dev->tstats = netdev_alloc_pcpu_stats(struct pcpu_sw_netstats);
	return dev->tstats ? 0 : -ENOMEM;
}

static inline void weft_dev_free_tstats(struct net_device *dev)
{
	free_percpu(dev->tstats);
}
#endif

#endif /* _WEFT_COMPAT_H */
