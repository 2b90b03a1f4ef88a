/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * weft: the generic netlink interface of the weft pod network device.
 *
 * Family "weft" (WEFT_GENL_NAME), version WEFT_GENL_VERSION. Resolve the
 * family id with CTRL_CMD_GETFAMILY as usual. Every request carries a
 * struct genlmsghdr whose .cmd is one of enum weft_cmd and whose .version is
 * WEFT_GENL_VERSION; the reserved field must be zero.
 *
 * Validation
 * ----------
 * Every command is validated strictly against its own attribute policy:
 *
 *   - an attribute type the command does not know is rejected (EINVAL,
 *     "Unknown attribute type" or "Unsupported attribute");
 *   - a wrong type, length or out-of-range value is rejected (EINVAL or
 *     ERANGE, with the kernel's policy message);
 *   - a missing required attribute is rejected (EINVAL, with the missing
 *     attribute reported in NLMSGERR_ATTR_MISS_TYPE / _MISS_NEST).
 *
 * The extended ACK of a rejection always carries a message
 * (NLMSGERR_ATTR_MSG) and, where an attribute is at fault, its offset in
 * the request (NLMSGERR_ATTR_OFFS). Userspace names the attribute from the
 * offset; libweft and the weft tool do so in every error they print.
 *
 * Permissions
 * -----------
 * Mutating commands (everything but *_GET) need CAP_NET_ADMIN in the initial
 * user namespace (GENL_ADMIN_PERM); root in a user namespace it created gets
 * EPERM, in its own network namespace too. Creating a weft link through
 * rtnetlink obeys the same rule. A pod network device forwards traffic
 * between pods of a whole node; it is configured by the node's agent only.
 * The *_GET commands are open to any process that can open a generic
 * netlink socket in the device's network namespace, like "ip link show".
 *
 * Addressing a device
 * -------------------
 * Commands that act on one device take WEFT_A_IFINDEX or WEFT_A_IFNAME (when
 * both are given they must name the same device). The device must be a weft
 * link in the network namespace of the requesting socket, otherwise ENODEV
 * (no such device) or EOPNOTSUPP (a device that is not a weft link).
 *
 * Dumps
 * -----
 * A dump may span several messages. Each object dump is resumable and
 * consistent: every table carries a generation counter, and a dump that saw
 * the table change under it marks its messages with NLM_F_DUMP_INTR.
 * Userspace that needs an exact snapshot restarts the dump on that flag.
 *
 * Commands
 * --------
 * WEFT_CMD_DEV_GET (implemented)
 *   do:   request  WEFT_A_IFINDEX | WEFT_A_IFNAME
 *         reply    one device message (below)
 *   dump: request  no attributes; replies one device message per weft
 *         device in the netns, in ifindex order.
 *   A device message carries:
 *     WEFT_A_IFINDEX      NLA_U32
 *     WEFT_A_IFNAME       NLA_NUL_STRING
 *     WEFT_A_DEV          NLA_NESTED, enum weft_dev_attr: the settings
 *     WEFT_A_STATS        NLA_NESTED, enum weft_stats_attr: the counters
 *
 * WEFT_CMD_DEV_SET (implemented)
 *   request  WEFT_A_IFINDEX | WEFT_A_IFNAME, WEFT_A_DEV (required) with any
 *            subset of the writable settings (see enum weft_dev_attr).
 *   Settings not given keep their value. The change is atomic: either all
 *   given settings apply or none. Read-only attributes are rejected. Every
 *   successful SET bumps WEFT_DEV_A_GENERATION by one, also one that
 *   changes no value. Semantic errors: a multicast or all-zero VTEP MAC, a
 *   multicast local address, or an underlay that is a weft device give
 *   EINVAL; an underlay ifindex that does not exist gives ENODEV.
 *
 * Replacing: generic netlink cannot carry NLM_F_REPLACE or NLM_F_EXCL (they
 * share their bits with NLM_F_DUMP; a request with either alone is rejected
 * with EINVAL). An ADD that may update an existing object carries the
 * WEFT_A_REPLACE flag attribute instead.
 *
 * WEFT_CMD_NODE_ADD, WEFT_CMD_NODE_DEL, WEFT_CMD_NODE_GET (implemented)
 *   Peer nodes of a device, keyed by underlay address: WEFT_A_NODE nested
 *   with enum weft_node_attr, carrying exactly one of WEFT_NODE_A_ADDR4 and
 *   WEFT_NODE_A_ADDR6 (a unicast address; neither or both: EINVAL).
 *   ADD:  request  device, WEFT_A_NODE (required) with the address and
 *                  optionally WEFT_NODE_A_ENCAP (default WEFT_ENCAP_VXLAN;
 *                  above WEFT_ENCAP_MAX: ERANGE) and WEFT_NODE_A_VTEP_MAC
 *                  (unicast, EINVAL otherwise; all-zero when not given),
 *                  optionally WEFT_A_REPLACE.
 *         A node with that address gives EEXIST, unless WEFT_A_REPLACE is
 *         set: then its encapsulation and VTEP MAC take the request's values
 *         (the defaults for those not given); its routes stay.
 *   DEL:  request  device, WEFT_A_NODE with the address only. ENOENT if
 *         there is no such node. Deleting a node deletes every route that
 *         names it, in the same request.
 *   GET do:   request as DEL; replies one node message, or ENOENT.
 *   GET dump: request the device only; one node message per node, in no
 *         particular order.
 *   A node message carries WEFT_A_IFINDEX and WEFT_A_NODE with the address,
 *   WEFT_NODE_A_ENCAP, WEFT_NODE_A_VTEP_MAC (zero when unset) and
 *   WEFT_NODE_A_STATS (enum weft_stats_attr: RX/TX packets, bytes, drops of
 *   the traffic exchanged with that node).
 *
 * WEFT_CMD_ROUTE_ADD, WEFT_CMD_ROUTE_DEL, WEFT_CMD_ROUTE_GET (implemented)
 *   Prefix to node, longest prefix match: WEFT_A_ROUTE nested with enum
 *   weft_route_attr. WEFT_ROUTE_A_FAMILY, _PREFIX (4 bytes for AF_INET, 16
 *   for AF_INET6) and _PREFIXLEN (at most 32 or 128) are required; a prefix
 *   with bits set beyond its length is rejected (EINVAL), not masked.
 *   ADD:  request  device, one or more WEFT_A_ROUTE nests, each also with
 *                  WEFT_ROUTE_A_NODE4 or WEFT_ROUTE_A_NODE6 naming an
 *                  existing node (ENOENT otherwise, with the offset of that
 *                  attribute); optionally WEFT_A_REPLACE.
 *         An existing prefix gives EEXIST, unless WEFT_A_REPLACE is set:
 *         then it points at the new node.
 *   DEL:  request  device, one or more WEFT_A_ROUTE nests without a node.
 *         A prefix that is not in the table gives ENOENT.
 *   Bulk: ADD and DEL apply their nests in order and stop at the first one
 *         that fails; the nests before it stay applied, the ones after it
 *         are not looked at. The extended ACK's offset points into (or at)
 *         the failing nest, which tells its index. Validation errors found
 *         by the policy (wrong types, sizes, unknown attributes) reject the
 *         whole request before anything applies. Userspace fragments a large
 *         set into requests below 64 KiB.
 *   GET do:   request as DEL with one nest: the route with exactly that
 *         prefix and length (not a longest-prefix lookup), or ENOENT.
 *   GET dump: request the device only. Messages carry WEFT_A_IFINDEX and
 *         many WEFT_A_ROUTE nests each (with the node), IPv4 routes first,
 *         then IPv6, each family sorted by address, then prefix length.
 *   A route reply carries WEFT_A_IFINDEX and WEFT_A_ROUTE nests with all
 *   of the attributes above.
 *
 * WEFT_CMD_ENDPOINT_ADD, WEFT_CMD_ENDPOINT_DEL, WEFT_CMD_ENDPOINT_GET
 *   (implemented) Local pods, keyed by the host side of their interface:
 *   WEFT_A_ENDPOINT nested, enum weft_endpoint_attr.
 *   ADD:  request  device, WEFT_A_ENDPOINT with WEFT_ENDPOINT_A_IFINDEX (an
 *                  existing interface of the netns that is not a weft
 *                  device: ENODEV / EINVAL otherwise), one to
 *                  WEFT_ENDPOINT_MAX_ADDRS unicast addresses in any mix of
 *                  WEFT_ENDPOINT_A_ADDR4 and _ADDR6 (repeated attributes),
 *                  optionally WEFT_ENDPOINT_A_IDENTITY (default 0);
 *                  optionally WEFT_A_REPLACE.
 *         An endpoint on that interface gives EEXIST unless WEFT_A_REPLACE
 *         is set: then its addresses and identity become the request's. An
 *         address that belongs to another endpoint of the device gives
 *         EADDRINUSE, and the request changes nothing. More than
 *         WEFT_ENDPOINT_MAX_ADDRS addresses give E2BIG; none, one that is
 *         not unicast (0.0.0.0, 255.255.255.255, multicast, ::) or one
 *         given twice give EINVAL.
 *   DEL:  request  device, WEFT_A_ENDPOINT with exactly one of the ifindex
 *         or one of the endpoint's addresses (more: EINVAL); removes the
 *         whole endpoint. ENOENT if none.
 *   GET do:   request as DEL; replies one endpoint message, or ENOENT.
 *   GET dump: request the device only; one endpoint message per endpoint,
 *         in ifindex order.
 *   An endpoint message carries WEFT_A_IFINDEX (the weft device) and
 *   WEFT_A_ENDPOINT with the ifindex, every address and the identity.
 *   An endpoint goes away by itself when its host interface is
 *   unregistered (the pod's netns was deleted).
 *
 * WEFT_CMD_IDENTITY_SET, WEFT_CMD_IDENTITY_DEL, WEFT_CMD_IDENTITY_GET
 *   (planned) Address prefix to security identity (the ipcache):
 *   WEFT_A_IDENTITY nested, enum weft_identity_attr.
 *
 * WEFT_CMD_POLICY_SET, WEFT_CMD_POLICY_DEL, WEFT_CMD_POLICY_GET (planned)
 *   Compiled NetworkPolicy per identity and direction: WEFT_A_POLICY.
 *
 * WEFT_CMD_CT_GET (planned)
 *   Dump of the connections the policy engine has admitted.
 *
 * WEFT_CMD_DROP_EVENT (planned, notification only)
 *   Sent on the "monitor" multicast group (WEFT_GENL_MCGRP_MONITOR) for a
 *   sample of dropped packets: WEFT_A_DROP nested, enum weft_drop_attr.
 *
 * Commands marked planned are not implemented by this version of the
 * module; a request for one fails with EOPNOTSUPP.
 */

#ifndef _UAPI_LINUX_WEFT_H
#define _UAPI_LINUX_WEFT_H

#define WEFT_GENL_NAME		"weft"
#define WEFT_GENL_VERSION	1
#define WEFT_GENL_MCGRP_MONITOR	"monitor"

/* Defaults a new device starts with. */
#define WEFT_DEFAULT_VNI	1
#define WEFT_DEFAULT_PORT	4789
#define WEFT_DEFAULT_MTU	1450	/* 1500 minus VXLAN over IPv4 */
#define WEFT_VNI_MAX		0xffffff

enum weft_cmd {
	WEFT_CMD_UNSPEC,
	WEFT_CMD_DEV_GET,
	WEFT_CMD_DEV_SET,
	WEFT_CMD_NODE_ADD,
	WEFT_CMD_NODE_DEL,
	WEFT_CMD_NODE_GET,
	WEFT_CMD_ROUTE_ADD,
	WEFT_CMD_ROUTE_DEL,
	WEFT_CMD_ROUTE_GET,
	WEFT_CMD_ENDPOINT_ADD,
	WEFT_CMD_ENDPOINT_DEL,
	WEFT_CMD_ENDPOINT_GET,
	WEFT_CMD_IDENTITY_SET,
	WEFT_CMD_IDENTITY_DEL,
	WEFT_CMD_IDENTITY_GET,
	WEFT_CMD_POLICY_SET,
	WEFT_CMD_POLICY_DEL,
	WEFT_CMD_POLICY_GET,
	WEFT_CMD_CT_GET,
	WEFT_CMD_DROP_EVENT,

	__WEFT_CMD_MAX
};

#define WEFT_CMD_MAX (__WEFT_CMD_MAX - 1)

/* Top-level attributes. */
enum weft_attr {
	WEFT_A_UNSPEC,
	WEFT_A_PAD,		/* padding for 64-bit values */
	WEFT_A_IFINDEX,		/* NLA_U32: the weft device's ifindex */
	WEFT_A_IFNAME,		/* NLA_NUL_STRING, < IFNAMSIZ: its name */
	WEFT_A_DEV,		/* NLA_NESTED: enum weft_dev_attr */
	WEFT_A_STATS,		/* NLA_NESTED: enum weft_stats_attr, read-only */
	WEFT_A_NODE,		/* NLA_NESTED: enum weft_node_attr */
	WEFT_A_ROUTE,		/* NLA_NESTED: enum weft_route_attr; repeatable
				 * in ROUTE_ADD and ROUTE_DEL
				 */
	WEFT_A_ENDPOINT,	/* NLA_NESTED: enum weft_endpoint_attr */
	WEFT_A_IDENTITY,	/* NLA_NESTED: enum weft_identity_attr (planned) */
	WEFT_A_POLICY,		/* NLA_NESTED: enum weft_policy_attr (planned) */
	WEFT_A_CT,		/* NLA_NESTED: enum weft_ct_attr (planned) */
	WEFT_A_DROP,		/* NLA_NESTED: enum weft_drop_attr (planned) */
	WEFT_A_REPLACE,		/* NLA_FLAG: NODE_ADD / ROUTE_ADD /
				 * ENDPOINT_ADD update an existing object
				 * instead of failing with EEXIST (genl
				 * cannot take NLM_F_REPLACE)
				 */

	__WEFT_A_MAX
};

#define WEFT_A_MAX (__WEFT_A_MAX - 1)

/*
 * Device settings, nested in WEFT_A_DEV. "rw" settings may be given to
 * WEFT_CMD_DEV_SET; "ro" ones are reported by WEFT_CMD_DEV_GET only and are
 * rejected in a SET. Addresses are in network byte order.
 */
enum weft_dev_attr {
	WEFT_DEV_A_UNSPEC,
	WEFT_DEV_A_PAD,
	WEFT_DEV_A_VNI,		/* rw NLA_U32, 0..WEFT_VNI_MAX: VXLAN network id */
	WEFT_DEV_A_PORT,	/* rw NLA_U16, 1..65535: VXLAN UDP port (host order) */
	WEFT_DEV_A_LOCAL4,	/* rw binary, 4 bytes: IPv4 underlay source;
				 * 0.0.0.0 clears it; GET omits it when unset
				 */
	WEFT_DEV_A_LOCAL6,	/* rw binary, 16 bytes: IPv6 underlay source;
				 * :: clears it; GET omits it when unset
				 */
	WEFT_DEV_A_UNDERLAY,	/* rw NLA_U32: ifindex of the underlay device
				 * in the same netns, 0 for none; cleared
				 * when that device is unregistered
				 */
	WEFT_DEV_A_VTEP_MAC,	/* rw binary, 6 bytes: the MAC peers put as
				 * inner destination of VXLAN frames; unicast
				 */
	WEFT_DEV_A_CROSSSUBNET,	/* rw NLA_U8, 0 or 1: encapsulate only towards
				 * peers outside the local underlay subnet
				 */
	WEFT_DEV_A_GENERATION,	/* ro NLA_U32: bumped on every change to the
				 * device's settings or tables
				 */
	WEFT_DEV_A_MTU,		/* ro NLA_U32: the device MTU (set it with
				 * "ip link set weft0 mtu N", 68..65465)
				 */

	__WEFT_DEV_A_MAX
};

#define WEFT_DEV_A_MAX (__WEFT_DEV_A_MAX - 1)

/*
 * Why a packet was dropped. Each reason counts in WEFT_STATS_A_DROPS under
 * attribute type (reason + 1), and names the reason of a drop event.
 */
enum weft_drop_reason {
	WEFT_DROP_NO_ROUTE,	/* no route for the destination */
	WEFT_DROP_NO_NODE,	/* route names a node that is not there */
	WEFT_DROP_BAD_HEADER,	/* malformed or truncated tunnel header */
	WEFT_DROP_BAD_VNI,	/* VXLAN packet with another VNI */
	WEFT_DROP_UNKNOWN_PEER,	/* tunnel packet from an unknown node */
	WEFT_DROP_POLICY,	/* denied by NetworkPolicy */
	WEFT_DROP_TOO_BIG,	/* larger than the path MTU, ICMP sent */
	WEFT_DROP_NO_MEMORY,	/* allocation or headroom failure */
	WEFT_DROP_PROTO,	/* not IPv4 or IPv6 */
	WEFT_DROP_NO_UNDERLAY,	/* no underlay route to the node, or the
				 * route leads back into a weft device
				 */
	WEFT_DROP_ENCAP,	/* the node's encapsulation cannot carry the
				 * packet: IPv6 over IP-in-IP, native routing
				 * of the other family or to a node that is
				 * not on the local subnet
				 */

	__WEFT_DROP_MAX
};

#define WEFT_DROP_MAX (__WEFT_DROP_MAX - 1)

/* Device counters, nested in WEFT_A_STATS; all NLA_U64, read-only. */
enum weft_stats_attr {
	WEFT_STATS_A_UNSPEC,
	WEFT_STATS_A_PAD,
	WEFT_STATS_A_RX_PACKETS,
	WEFT_STATS_A_RX_BYTES,
	WEFT_STATS_A_TX_PACKETS,
	WEFT_STATS_A_TX_BYTES,
	WEFT_STATS_A_RX_DROPS,	/* sum of the receive-side drop reasons */
	WEFT_STATS_A_TX_DROPS,	/* sum of the transmit-side drop reasons */
	WEFT_STATS_A_DROPS,	/* NLA_NESTED: NLA_U64 per enum
				 * weft_drop_reason, type = reason + 1;
				 * type 0 inside it is padding
				 */

	__WEFT_STATS_A_MAX
};

#define WEFT_STATS_A_MAX (__WEFT_STATS_A_MAX - 1)

/* Encapsulation towards a node. */
enum weft_encap {
	WEFT_ENCAP_VXLAN,
	WEFT_ENCAP_IPIP,
	WEFT_ENCAP_NONE,	/* native routing: the node is the next hop */

	__WEFT_ENCAP_MAX
};

#define WEFT_ENCAP_MAX (__WEFT_ENCAP_MAX - 1)

/* Peer node, nested in WEFT_A_NODE. */
enum weft_node_attr {
	WEFT_NODE_A_UNSPEC,
	WEFT_NODE_A_PAD,
	WEFT_NODE_A_ADDR4,	/* binary, 4 bytes: underlay address */
	WEFT_NODE_A_ADDR6,	/* binary, 16 bytes: underlay address */
	WEFT_NODE_A_ENCAP,	/* NLA_U8: enum weft_encap, default VXLAN */
	WEFT_NODE_A_VTEP_MAC,	/* binary, 6 bytes: peer's VTEP MAC (VXLAN);
				 * unicast, all-zero when not set
				 */
	WEFT_NODE_A_STATS,	/* NLA_NESTED: enum weft_stats_attr, ro */

	__WEFT_NODE_A_MAX
};

#define WEFT_NODE_A_MAX (__WEFT_NODE_A_MAX - 1)

/* Route, nested in WEFT_A_ROUTE. */
enum weft_route_attr {
	WEFT_ROUTE_A_UNSPEC,
	WEFT_ROUTE_A_FAMILY,	/* NLA_U8: AF_INET or AF_INET6 */
	WEFT_ROUTE_A_PREFIX,	/* binary, 4 or 16 bytes */
	WEFT_ROUTE_A_PREFIXLEN,	/* NLA_U8: 0..32 or 0..128 */
	WEFT_ROUTE_A_NODE4,	/* binary, 4 bytes: node underlay address */
	WEFT_ROUTE_A_NODE6,	/* binary, 16 bytes: node underlay address */

	__WEFT_ROUTE_A_MAX
};

#define WEFT_ROUTE_A_MAX (__WEFT_ROUTE_A_MAX - 1)

/* Most addresses one endpoint may carry. */
#define WEFT_ENDPOINT_MAX_ADDRS	16

/* Local pod endpoint, nested in WEFT_A_ENDPOINT. */
enum weft_endpoint_attr {
	WEFT_ENDPOINT_A_UNSPEC,
	WEFT_ENDPOINT_A_IFINDEX,	/* NLA_U32: host-side interface */
	WEFT_ENDPOINT_A_ADDR4,		/* binary, 4 bytes; may repeat */
	WEFT_ENDPOINT_A_ADDR6,		/* binary, 16 bytes; may repeat */
	WEFT_ENDPOINT_A_IDENTITY,	/* NLA_U32: security identity */

	__WEFT_ENDPOINT_A_MAX
};

#define WEFT_ENDPOINT_A_MAX (__WEFT_ENDPOINT_A_MAX - 1)

/* Prefix to identity (ipcache), nested in WEFT_A_IDENTITY (planned). */
enum weft_identity_attr {
	WEFT_IDENTITY_A_UNSPEC,
	WEFT_IDENTITY_A_ID,		/* NLA_U32, non-zero */
	WEFT_IDENTITY_A_FAMILY,		/* NLA_U8: AF_INET or AF_INET6 */
	WEFT_IDENTITY_A_PREFIX,		/* binary, 4 or 16 bytes */
	WEFT_IDENTITY_A_PREFIXLEN,	/* NLA_U8 */

	__WEFT_IDENTITY_A_MAX
};

#define WEFT_IDENTITY_A_MAX (__WEFT_IDENTITY_A_MAX - 1)

/* Policy direction. */
enum weft_direction {
	WEFT_DIR_INGRESS,
	WEFT_DIR_EGRESS,

	__WEFT_DIR_MAX
};

/* Compiled policy of one identity and direction, in WEFT_A_POLICY (planned). */
enum weft_policy_attr {
	WEFT_POLICY_A_UNSPEC,
	WEFT_POLICY_A_SUBJECT,		/* NLA_U32: identity the policy selects */
	WEFT_POLICY_A_DIRECTION,	/* NLA_U8: enum weft_direction */
	WEFT_POLICY_A_RULE,		/* NLA_NESTED, repeated:
					 * enum weft_rule_attr
					 */

	__WEFT_POLICY_A_MAX
};

#define WEFT_POLICY_A_MAX (__WEFT_POLICY_A_MAX - 1)

/* One allow rule of a policy (planned). */
enum weft_rule_attr {
	WEFT_RULE_A_UNSPEC,
	WEFT_RULE_A_ID,			/* NLA_U32: rule number, for drop events */
	WEFT_RULE_A_PEER,		/* NLA_U32: peer identity, 0 = any */
	WEFT_RULE_A_PROTO,		/* NLA_U8: IPPROTO_*, 0 = any */
	WEFT_RULE_A_PORT_MIN,		/* NLA_U16 */
	WEFT_RULE_A_PORT_MAX,		/* NLA_U16, inclusive */

	__WEFT_RULE_A_MAX
};

#define WEFT_RULE_A_MAX (__WEFT_RULE_A_MAX - 1)

/* Connection, nested in WEFT_A_CT (planned). */
enum weft_ct_attr {
	WEFT_CT_A_UNSPEC,
	WEFT_CT_A_FAMILY,	/* NLA_U8 */
	WEFT_CT_A_SRC,		/* binary, 4 or 16 bytes */
	WEFT_CT_A_DST,		/* binary, 4 or 16 bytes */
	WEFT_CT_A_PROTO,	/* NLA_U8 */
	WEFT_CT_A_SPORT,	/* NLA_U16 */
	WEFT_CT_A_DPORT,	/* NLA_U16 */
	WEFT_CT_A_RULE,		/* NLA_U32: rule that admitted it */

	__WEFT_CT_A_MAX
};

#define WEFT_CT_A_MAX (__WEFT_CT_A_MAX - 1)

/* Drop event, nested in WEFT_A_DROP (planned). */
enum weft_drop_attr {
	WEFT_DROP_A_UNSPEC,
	WEFT_DROP_A_REASON,	/* NLA_U32: enum weft_drop_reason */
	WEFT_DROP_A_POLICY,	/* NLA_U32: subject identity of the policy */
	WEFT_DROP_A_RULE,	/* NLA_U32 */
	WEFT_DROP_A_PACKET,	/* binary: the first bytes of the packet */

	__WEFT_DROP_A_MAX
};

#define WEFT_DROP_A_MAX (__WEFT_DROP_A_MAX - 1)

#endif /* _UAPI_LINUX_WEFT_H */
