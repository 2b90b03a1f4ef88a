/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The weft datapath: encapsulation towards nodes and decapsulation of what
 * they send back (kmod/tunnel.c).
 */
#ifndef _WEFT_TUNNEL_H
#define _WEFT_TUNNEL_H

#include "device.h"

int weft_tunnel_init(void);
void weft_tunnel_uninit(void);

netdev_tx_t weft_tunnel_xmit(struct sk_buff *skb, struct net_device *dev);

int weft_tunnel_open(struct weft_dev *wd);
void weft_tunnel_stop(struct weft_dev *wd);
int weft_tunnel_rebind(struct weft_dev *wd, u16 port, u32 vni);

struct weft_live *weft_live_alloc(const struct weft_cfg *cfg);
void weft_live_commit(struct weft_dev *wd, struct weft_live *live);
int weft_cfg_publish(struct weft_dev *wd, const struct weft_cfg *cfg);
void weft_cfg_free(struct weft_dev *wd);
int weft_underlay_mtu(struct weft_dev *wd);

#endif /* _WEFT_TUNNEL_H */
