#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tearing a weft cluster down with traffic in flight.
#
# Three weft nodes (VXLAN). Traffic: a ping flood (-i 0.002, 1200-byte
# packets) pod 1.1 <-> pod 2.1 and pod 3.1 -> pod 1.2, an iperf3 TCP stream
# pod 1.2 -> pod 2.2 (rate-limited: the VM has little CPU to spare). Then,
# with the traffic still running, each of these must return within 2 s:
#
#   weft route del (node 1, node 2's IPv4 and IPv6 blocks)
#   weft node del  (node 1, node 3: its routes go with it)
#   ip link del weft0 (node 2)
#   ip netns del of node 3, whose weft0 still has its nodes and routes
#   ip netns del of node 1 and node 2 and of every pod
#
# and after the last one every weft object must be freed within 5 s
# (/sys/module/weft/parameters/debug_objects back to its value before the
# cluster existed), and 11 s later (the kernel warns after 10 s) the kernel
# log must not show "unregister_netdevice: waiting" or any splat.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/topo.sh"

LIMIT_MS=2000

require_root
require_cmd ip nft socat jq nsenter ping iperf3
if ! have_weft_module; then
	echo "1..0 # SKIP weft module not loaded"
	exit $ksft_skip
fi

traffic=()
cleanup()
{
	local p

	for p in "${traffic[@]}"; do
		kill "$p" 2>/dev/null
	done
	topo_cleanup
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT

e2e_dmesg_mark
objs0=$(debug_objects)
info "debug_objects before: $objs0"

for i in 1 2 3; do
	BACKEND[i]=weft
done
WEFT_ENCAP=vxlan
topo_init 3
N1=$(node_ns 1)
N2=$(node_ns 2)
N3=$(node_ns 3)

step "teardown: 3 weft nodes, 2 pods each" topo_build
step "teardown: backends" topo_backends

# background traffic, each process execs into its netns (so $! is it)
bg_traffic()
{
	nsenter --net="/run/netns/$1" "${@:2}" </dev/null >/dev/null 2>&1 &
	traffic+=($!)
}
start_traffic()
{
	_bg "$(pod_ns 2 2)" iperf3 -s -p 5201
	sleep 1
	bg_traffic "$(pod_ns 1 1)" ping -q -i 0.002 -s 1200 -W 1 "$(pod4 2 1)"
	bg_traffic "$(pod_ns 2 1)" ping -q -i 0.002 -s 1200 -W 1 "$(pod4 1 1)"
	bg_traffic "$(pod_ns 3 1)" ping -q -i 0.002 -s 1200 -W 1 "$(pod4 1 2)"
	bg_traffic "$(pod_ns 3 1)" ping -q -i 0.01 -W 1 "$(pod6 2 1)"
	bg_traffic "$(pod_ns 1 2)" iperf3 -c "$(pod4 2 2)" -p 5201 -t 120 -b 50M
	sleep 2
}
start_traffic

# traffic must really be flowing through weft0, or the rest proves little
flowing()
{
	local t0 t1

	t0=$(weft_stat "$N1" tx packets)
	sleep 1
	t1=$(weft_stat "$N1" tx packets)
	echo "node 1 weft0 tx packets: ${t0:-?} -> ${t1:-?}"
	[ -n "$t0" ] && [ -n "$t1" ] && [ "$t1" -ge $((t0 + 50)) ]
}
step "traffic flows through node 1's weft0 before the teardown" flowing

# timed BASELINE -- COMMAND...: COMMAND succeeds and takes at most LIMIT_MS
# more than BASELINE, a no-op run of the same program (starting a program
# costs seconds in a loaded TCG guest; the teardown itself is what counts)
timed()
{
	local base=() t0 rc ms bms

	while [ "$1" != -- ]; do
		base+=("$1")
		shift
	done
	shift
	t0=${EPOCHREALTIME/./}
	"${base[@]}" >/dev/null 2>&1
	bms=$(elapsed_ms "$t0")
	t0=${EPOCHREALTIME/./}
	"$@"
	rc=$?
	ms=$(elapsed_ms "$t0")
	echo "exit $rc after $ms ms (no-op baseline $bms ms)"
	[ $rc = 0 ] && [ "$ms" -le $((bms + LIMIT_MS)) ]
}

weft_batch()
{
	local ns=$1

	shift
	printf '%s\n' "$@" | weft_in "$ns" -batch -
}

W1=(weft_in "$N1" link show dev weft0)
step "weft route del 10.244.2.0/24 + fd00:244:2::/64 on node 1 under traffic, < 2 s" \
	timed "${W1[@]}" -- weft_batch "$N1" "route del $(cidr4 2) dev weft0" \
	"route del $(cidr6 2) dev weft0"
step "weft node del node 3 (with its routes) on node 1 under traffic, < 2 s" \
	timed "${W1[@]}" -- weft_in "$N1" node del "${UL4[3]}" dev weft0
step "ip link del weft0 on node 2 under traffic, < 2 s" \
	timed ip -n "$N2" link show dev lo -- ip -n "$N2" link del weft0
step "ip netns del node 3 (weft0 configured, traffic) < 2 s" \
	timed ip netns list -- ip netns del "$N3"

rest=("$N1" "$N2" $(ip netns list | awk '{print $1}' | grep "^${E2E_PFX}n.p"))
del_rest()
{
	printf 'netns del %s\n' "${rest[@]}" | ip -batch -
}
step "ip netns del node 1, node 2 and every pod under traffic, < 2 s" \
	timed ip netns list -- del_rest
t_last=$SECONDS

objs_back()
{
	local deadline=$((SECONDS + 5))

	until [ "$(debug_objects)" = "$objs0" ]; do
		if [ $SECONDS -ge $deadline ]; then
			echo "debug_objects $(debug_objects), was $objs0"
			return 1
		fi
		sleep 0.2
	done
	echo "debug_objects $(debug_objects)"
}
step "every weft object freed within 5 s (debug_objects back to $objs0)" objs_back

# stop the traffic generators (their sockets die with the netns anyway)
for p in "${traffic[@]}"; do
	kill "$p" 2>/dev/null
done
traffic=()

clean_log()
{
	local bad

	while [ $((SECONDS - t_last)) -lt 11 ]; do
		sleep 1
	done
	bad=$(e2e_dmesg_since | grep -E 'unregister_netdevice: waiting|WARNING:|BUG:|Oops|refcount_t:|general protection')
	[ -z "$bad" ] || { echo "$bad" | head -10; return 1; }
}
step "no \"unregister_netdevice: waiting\" or splat in the kernel log (11 s later)" clean_log

finish
