// SPDX-License-Identifier: GPL-2.0
/*
 * weft: a pod network device for Kubernetes nodes.
 */

#include "device.h"
#include "genl.h"
#include "tunnel.h"
#include "route.h"

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <net/genetlink.h>
#include <net/rtnetlink.h>

/* Live objects the module owns (devices today). Tests read it through the
 * read-only parameter below; the module checks it drops to zero at unload.
 */
atomic_t weft_debug_objects = ATOMIC_INIT(0);

static int weft_debug_objects_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&weft_debug_objects));
}

static const struct kernel_param_ops weft_debug_objects_ops = {
	.get = weft_debug_objects_get,
};

module_param_cb(debug_objects, &weft_debug_objects_ops, NULL, 0444);
MODULE_PARM_DESC(debug_objects, "number of live weft objects (read-only)");

static int __init weft_init(void)
{
	int err;

	err = weft_route_init();
	if (err)
		return err;
	err = weft_selftest_run();
	if (err)
		goto err_route;
	err = weft_device_init();
	if (err)
		goto err_route;
	err = weft_tunnel_init();
	if (err)
		goto err_device;
	err = weft_genl_init();
	if (err)
		goto err_tunnel;
	pr_info("weft: pod network device, genl family %s version %d\n",
		WEFT_GENL_NAME, WEFT_GENL_VERSION);
	return 0;

err_tunnel:
	weft_tunnel_uninit();
err_device:
	weft_device_uninit();
err_route:
	weft_route_uninit();
	return err;
}

static void __exit weft_exit(void)
{
	int live;

	/* No new configuration first, then the devices, then the netns state. */
	weft_genl_uninit();
	weft_tunnel_uninit();
	weft_device_uninit();
	rcu_barrier();
	weft_route_uninit();

	live = atomic_read(&weft_debug_objects);
	WARN(live, "weft: %d objects leaked at unload\n", live);
}

module_init(weft_init);
module_exit(weft_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("weft pod network device");
MODULE_AUTHOR("The weft authors");
MODULE_VERSION(WEFT_MODULE_VERSION);
MODULE_ALIAS_RTNL_LINK("weft");
MODULE_ALIAS_GENL_FAMILY(WEFT_GENL_NAME);
