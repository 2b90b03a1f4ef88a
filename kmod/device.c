// SPDX-License-Identifier: GPL-2.0
/*
 * The weft link: net_device and rtnl_link ops, per-netns bookkeeping.
 */

#include "device.h"
#include "endpoint.h"
#include "node.h"
#include "tunnel.h"

#include <linux/capability.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>

unsigned int weft_net_id __read_mostly;

static struct rtnl_link_ops weft_link_ops;

bool weft_is_weft_dev(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &weft_link_ops;
}

void weft_dev_count_drop(struct weft_dev *wd, enum weft_dir dir,
			 enum weft_drop_reason reason)
{
	struct weft_drop_stats *ds = get_cpu_ptr(wd->drops);

	u64_stats_update_begin(&ds->syncp);
	u64_stats_inc(&ds->count[dir][reason]);
	u64_stats_update_end(&ds->syncp);
	put_cpu_ptr(wd->drops);
}

void weft_dev_drop(struct weft_dev *wd, struct sk_buff *skb,
		   enum weft_dir dir, enum weft_drop_reason reason)
{
	weft_dev_count_drop(wd, dir, reason);
	kfree_skb(skb);
}

void weft_dev_get_stats(struct weft_dev *wd, struct weft_stats *st)
{
	struct rtnl_link_stats64 s = {};
	int cpu, dir, r;

	dev_fetch_sw_netstats(&s, wd->dev->tstats);
	memset(st, 0, sizeof(*st));
	st->rx_packets = s.rx_packets;
	st->rx_bytes = s.rx_bytes;
	st->tx_packets = s.tx_packets;
	st->tx_bytes = s.tx_bytes;

	for_each_possible_cpu(cpu) {
		const struct weft_drop_stats *ds = per_cpu_ptr(wd->drops, cpu);
		u64 snap[2][__WEFT_DROP_MAX];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&ds->syncp);
			for (dir = 0; dir < 2; dir++)
				for (r = 0; r < __WEFT_DROP_MAX; r++)
					snap[dir][r] = u64_stats_read(&ds->count[dir][r]);
		} while (u64_stats_fetch_retry(&ds->syncp, start));

		for (dir = 0; dir < 2; dir++)
			for (r = 0; r < __WEFT_DROP_MAX; r++)
				st->drops[dir][r] += snap[dir][r];
	}
}

static void weft_get_stats64(struct net_device *dev,
			     struct rtnl_link_stats64 *s)
{
	struct weft_dev *wd = netdev_priv(dev);
	struct weft_stats st;
	int r;

	dev_get_tstats64(dev, s);
	weft_dev_get_stats(wd, &st);
	for (r = 0; r < __WEFT_DROP_MAX; r++) {
		s->rx_dropped += st.drops[WEFT_RX][r];
		s->tx_dropped += st.drops[WEFT_TX][r];
	}
}

static int weft_dev_init(struct net_device *dev)
{
	struct weft_dev *wd = netdev_priv(dev);

	return gro_cells_init(&wd->gro_cells, dev);
}

/* Runs on every unregistration path: ip link del, netns exit, module unload,
 * and a registration that failed half way (after ndo_init succeeded).
 */
static void weft_dev_uninit(struct net_device *dev)
{
	struct weft_net *wn = weft_pernet(dev_net(dev));
	struct weft_dev *wd = netdev_priv(dev);

	ASSERT_RTNL();
	if (xa_cmpxchg(&wn->devs, dev->ifindex, wd, NULL, 0) == wd)
		wn->generation++;
	gro_cells_destroy(&wd->gro_cells);
}

static int weft_dev_open(struct net_device *dev)
{
	return weft_tunnel_open(netdev_priv(dev));
}

static int weft_dev_stop(struct net_device *dev)
{
	weft_tunnel_stop(netdev_priv(dev));
	return 0;
}

/* Runs once the last reference is gone, after ndo_uninit. */
static void weft_dev_destruct(struct net_device *dev)
{
	struct weft_dev *wd = netdev_priv(dev);

	weft_dev_tables_free(wd);
	weft_cfg_free(wd);
	free_percpu(wd->drops);
	weft_dev_free_tstats(dev);
	mutex_destroy(&wd->lock);
	atomic_dec(&weft_debug_objects);
}

static const struct net_device_ops weft_netdev_ops = {
	.ndo_init		= weft_dev_init,
	.ndo_uninit		= weft_dev_uninit,
	.ndo_open		= weft_dev_open,
	.ndo_stop		= weft_dev_stop,
	.ndo_start_xmit		= weft_tunnel_xmit,
	.ndo_get_stats64	= weft_get_stats64,
};

static void weft_setup(struct net_device *dev)
{
	struct weft_dev *wd = netdev_priv(dev);

	dev->netdev_ops = &weft_netdev_ops;
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->needed_headroom = WEFT_MAX_OVERHEAD;
	dev->mtu = WEFT_DEFAULT_MTU;
	dev->min_mtu = IPV4_MIN_MTU;
	dev->max_mtu = WEFT_MAX_MTU;
	dev->needs_free_netdev = true;
	/* Offloads survive encapsulation: GSO packets leave as UDP tunnel or
	 * IP-in-IP GSO, checksums stay partial for the underlay to finish.
	 */
	dev->features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM |
			NETIF_F_FRAGLIST | NETIF_F_GSO_SOFTWARE;
	dev->hw_features = dev->features;
	weft_dev_set_lltx(dev);
	/* A weft device's tables name underlay addresses of the netns it was
	 * made in; it stays there.
	 */
	weft_dev_set_netns_immutable(dev);
	weft_dev_setup_tstats(dev);

	wd->dev = dev;
	mutex_init(&wd->lock);
	weft_dev_tables_init(wd);
	wd->cfg.vni = WEFT_DEFAULT_VNI;
	wd->cfg.port = WEFT_DEFAULT_PORT;
	eth_random_addr(wd->cfg.vtep_mac);
}

static int weft_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	struct weft_net *wn = weft_pernet(dev_net(dev));
	struct weft_dev *wd = netdev_priv(dev);
	int cpu, err;

	/* The same rule as the genl family's mutations: a weft device moves
	 * the traffic of every pod on the node, so only the node's own
	 * administrator makes one, not root of a user namespace.
	 */
	if (!capable(CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(extack,
			       "weft: creating a weft link needs CAP_NET_ADMIN in the initial user namespace");
		return -EPERM;
	}

	wd->drops = alloc_percpu(struct weft_drop_stats);
	if (!wd->drops)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(wd->drops, cpu)->syncp);
	err = weft_dev_alloc_tstats(dev);
	if (err)
		goto err_drops;
	mutex_lock(&wd->lock);
	err = weft_cfg_publish(wd, &wd->cfg);
	mutex_unlock(&wd->lock);
	if (err)
		goto err_tstats;

	err = register_netdevice(dev);
	if (err)
		goto err_tstats;
	/* Set only now: until registration succeeded, the error path below
	 * owns the allocations, afterwards the destructor does.
	 */
	dev->priv_destructor = weft_dev_destruct;
	atomic_inc(&weft_debug_objects);

	err = xa_insert(&wn->devs, dev->ifindex, wd, GFP_KERNEL);
	if (err) {
		NL_SET_ERR_MSG(extack, "weft: out of memory indexing the device");
		unregister_netdevice(dev);
		return err;
	}
	wn->generation++;
	return 0;

err_tstats:
	weft_cfg_free(wd);
	weft_dev_free_tstats(dev);
err_drops:
	free_percpu(wd->drops);
	wd->drops = NULL;
	return err;
}

static struct rtnl_link_ops weft_link_ops __read_mostly = {
	.kind		= "weft",
	.priv_size	= sizeof(struct weft_dev),
	.setup		= weft_setup,
	.newlink	= weft_newlink,
};

static int __net_init weft_net_init(struct net *net)
{
	struct weft_net *wn = weft_pernet(net);

	xa_init(&wn->devs);
	wn->generation = 1;
	INIT_LIST_HEAD(&wn->socks);
	return 0;
}

/* Devices of a dying netns go here, before the core's own cleanup would
 * delete them, so that nothing of weft outlives its namespace.
 */
static void __net_exit weft_net_exit_batch(struct list_head *net_list)
{
	struct weft_dev *wd;
	unsigned long idx;
	struct net *net;
	LIST_HEAD(kill);

	rtnl_lock();
	list_for_each_entry(net, net_list, exit_list) {
		struct weft_net *wn = weft_pernet(net);

		xa_for_each(&wn->devs, idx, wd)
			unregister_netdevice_queue(wd->dev, &kill);
	}
	unregister_netdevice_many(&kill);
	rtnl_unlock();

	list_for_each_entry(net, net_list, exit_list) {
		struct weft_net *wn = weft_pernet(net);

		WARN_ON_ONCE(!xa_empty(&wn->devs));
		WARN_ON_ONCE(!list_empty(&wn->socks));
		xa_destroy(&wn->devs);
	}
}

static struct pernet_operations weft_net_ops = {
	.init		= weft_net_init,
	.exit_batch	= weft_net_exit_batch,
	.id		= &weft_net_id,
	.size		= sizeof(struct weft_net),
};

/* A device that goes away stops being any weft device's underlay: the
 * setting would otherwise point at whatever later reuses the ifindex.
 */
static int weft_netdev_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct weft_net *wn;
	struct weft_dev *wd;
	unsigned long idx;
	int mtu;

	/* A weft device is never an underlay or a pod's interface. */
	if (weft_is_weft_dev(dev))
		return NOTIFY_DONE;
	if (event != NETDEV_UNREGISTER && event != NETDEV_CHANGEMTU)
		return NOTIFY_DONE;

	wn = weft_pernet(dev_net(dev));
	xa_for_each(&wn->devs, idx, wd) {
		mtu = 0;
		mutex_lock(&wd->lock);
		if (event == NETDEV_CHANGEMTU) {
			if (wd->cfg.underlay_ifindex == dev->ifindex)
				mtu = weft_underlay_mtu(wd);
		} else {
			if (wd->cfg.underlay_ifindex == dev->ifindex) {
				wd->cfg.underlay_ifindex = 0;
				wd->generation++;
				/* On failure the datapath keeps the old
				 * ifindex, whose route lookups now fail.
				 */
				weft_cfg_publish(wd, &wd->cfg);
			}
			weft_endpoint_ifdown(wd, dev->ifindex);
		}
		mutex_unlock(&wd->lock);
		/* Outside wd->lock: the change notifies this function. */
		if (mtu && mtu != wd->dev->mtu)
			dev_set_mtu(wd->dev, mtu);
	}
	return NOTIFY_DONE;
}

static struct notifier_block weft_netdev_notifier = {
	.notifier_call = weft_netdev_event,
};

int __init weft_device_init(void)
{
	int err;

	err = register_pernet_device(&weft_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&weft_netdev_notifier);
	if (err)
		goto err_pernet;
	err = rtnl_link_register(&weft_link_ops);
	if (err)
		goto err_notifier;
	return 0;

err_notifier:
	unregister_netdevice_notifier(&weft_netdev_notifier);
err_pernet:
	unregister_pernet_device(&weft_net_ops);
	return err;
}

void weft_device_uninit(void)
{
	/* Deletes every weft device in every netns. */
	rtnl_link_unregister(&weft_link_ops);
	unregister_netdevice_notifier(&weft_netdev_notifier);
	unregister_pernet_device(&weft_net_ops);
}
