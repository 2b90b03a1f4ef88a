#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The connectivity matrix of one cluster mode (see topo.sh for the topology):
#
#   connectivity.sh [--mode MODE] [--nodes N]
#
# MODE: weft-vxlan (default), weft-vxlan6, weft-ipip, weft-none,
#       weft-crosssubnet (node N on a second subnet behind a router),
#       and the kernel-only references flannel, calico-vxlan, calico-ipip,
#       native. N: 2 to 9 nodes, 3 by default (two pods each).
#
# Checks (one TAP line each): every ordered pair of pods on different nodes
# (ping IPv4 and, where the mode carries it, IPv6; a 64 KiB TCP echo; a UDP
# echo), pods on the same node, node -> remote pod, pod -> its node, pod ->
# another node, pod -> another node's tunnel address, pod -> outside through
# the node's masquerade (the outside sees the node's address), a Service
# (nft DNAT of 10.96.0.10:80 on node 1 to a pod on node 2) from a pod and from
# the node, and what node 1 put on the wire (VXLAN / IP-in-IP / plain, from
# nft counters on its underlay interface).
#
# Needs root, iproute2, nft, socat, jq; weft modes need the weft module and
# the weft CLI (WEFT=, default build/manager/weft).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/topo.sh"

mode=weft-vxlan
nodes=

while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--nodes) nodes=$2; shift 2 ;;
	*) echo "usage: $0 [--mode MODE] [--nodes N]" >&2; exit 2 ;;
	esac
done

require_root
require_cmd ip nft socat jq nsenter ping

subnet2=()
case $mode in
weft-crosssubnet) nodes=${nodes:-3} ;;
*) nodes=${nodes:-3} ;;
esac
case $mode in
weft-*)
	WEFT_ENCAP=${mode#weft-}
	case $WEFT_ENCAP in
	vxlan|vxlan6|ipip|none|crosssubnet) ;;
	*) echo "unknown mode $mode" >&2; exit 2 ;;
	esac
	backend=weft
	if ! have_weft_module; then
		echo "1..0 # SKIP weft module not loaded"
		exit $ksft_skip
	fi
	[ "$WEFT_ENCAP" = crosssubnet ] && subnet2=("$nodes")
	;;
flannel|calico-vxlan|calico-ipip|native) backend=$mode ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac

for ((i = 1; i <= nodes; i++)); do
	BACKEND[i]=$backend
done

trap 'topo_cleanup; rm -rf "$E2E_TMP"' EXIT
topo_init "$nodes" "${subnet2[@]}"
info "mode $mode, $nodes nodes${subnet2:+, node ${subnet2[*]} on 192.168.60.0/24}"

step "$mode: build $nodes nodes, 2 pods each, underlay, router, outside" topo_build ||
	finish
step "$mode: backend setup on every node" topo_backends
step "$mode: echo servers listening in every pod" topo_servers_ready
for ((i = 1; i <= nodes; i++)); do
	wire_reset $i
done

payload

# 1. same node
pcheck "ping pod 1.1 -> pod 1.2 (same node) $(pod4 1 2)" ping_ns "$(pod_ns 1 1)" "$(pod4 1 2)"
pcheck "ping pod 1.1 -> pod 1.2 (same node) $(pod6 1 2)" ping_ns "$(pod_ns 1 1)" "$(pod6 1 2)"
pflush

# 2. pod to pod across nodes
check_pod_pairs

# 3. node <-> pod
for ((i = 1; i <= nodes; i++)); do
	for ((j = 1; j <= nodes; j++)); do
		[ $i = $j ] && continue
		pcheck "ping node $i -> pod $j.1 $(pod4 $j 1)" ping_ns "$(node_ns $i)" "$(pod4 $j 1)"
		if carries6 $i $j; then
			pcheck "ping node $i -> pod $j.1 $(pod6 $j 1)" \
				ping_ns "$(node_ns $i)" "$(pod6 $j 1)"
		fi
		pcheck "tcp node $i -> pod $j.1 $(pod4 $j 1)" tcp_echo "$(node_ns $i)" "$(pod4 $j 1)"
		pcheck "ping pod $i.1 -> node $j ${UL4[j]}" ping_ns "$(pod_ns $i 1)" "${UL4[j]}"
		if has_tun $j; then
			pcheck "ping pod $i.1 -> node $j tunnel address $(tun4 $j)" \
				ping_ns "$(pod_ns $i 1)" "$(tun4 $j)"
		fi
	done
	pcheck "ping pod $i.1 -> own node ${UL4[i]}" ping_ns "$(pod_ns $i 1)" "${UL4[i]}"
	pcheck "ping pod $i.1 -> own node ${UL6[i]}" ping_ns "$(pod_ns $i 1)" "${UL6[i]}"
done
pflush

# 4. outside, masqueraded to the node's address
who_outside()
{
	local got

	got=$(nsenter --net="/run/netns/$1" socat -T 5 - "TCP:$OUT4:$WHO_PORT,connect-timeout=5" </dev/null)
	echo "outside saw $got"
	[ "$got" = "$2" ]
}
for ((i = 1; i <= nodes; i++)); do
	pcheck "pod $i.1 -> outside $OUT4: ping" ping_ns "$(pod_ns $i 1)" "$OUT4"
	pcheck "pod $i.1 -> outside: tcp, masqueraded to ${UL4[i]}" who_outside "$(pod_ns $i 1)" "${UL4[i]}"
done
pflush

# 5. Service: DNAT of 10.96.0.10:80 on node 1 to pod 2.1:7
svc_setup()
{
	in_ns "$(node_ns 1)" nft -f - <<-EOF
		table ip e2esvc {
		  chain pre { type nat hook prerouting priority dstnat; policy accept;
		    ip daddr 10.96.0.10 tcp dport 80 dnat to $(pod4 2 1):$ECHO_PORT
		  }
		  chain out { type nat hook output priority -100; policy accept;
		    ip daddr 10.96.0.10 tcp dport 80 dnat to $(pod4 2 1):$ECHO_PORT
		  }
		}
	EOF
}
svc_echo()
{
	tcp_echo "$1" 10.96.0.10 80
}
if svc_setup; then
	pcheck "service 10.96.0.10:80 -> pod 2.1, from pod 1.1 (DNAT on node 1)" svc_echo "$(pod_ns 1 1)"
	pcheck "service 10.96.0.10:80 -> pod 2.1, from node 1" svc_echo "$(node_ns 1)"
	pflush
else
	log_test 1 "service: nft DNAT rule on node 1"
fi

# 6. weft's per-node counters ("weft -j -s node show"): node 1 counted
# traffic with every peer (the address a peer's IPv4 pods route through)
node_counted()
{
	local out n

	out=$(weft_in "$(node_ns 1)" -j -s node show dev weft0 2>&1)
	echo "$out" | head -c 600
	echo
	n=$(echo "$out" | jq --arg a "$2" \
		'[.[] | select(tostring | contains("\"" + $a + "\"")) | .. | .packets? | numbers] | add // 0')
	echo "packets counted for $2: ${n:-?}"
	[ -n "$n" ] && [ "$n" -gt 0 ]
}
if [ "$backend" = weft ]; then
	for ((j = 2; j <= nodes; j++)); do
		read -r _ n4 _ < <(weft_peer_spec 1 $j)
		pcheck "weft -s node show: node 1 counts packets for node $j ($n4)" node_counted 1 "$n4"
	done
	pflush
fi

# 7. the wire
for ((j = 2; j <= nodes; j++)); do
	pcheck "wire: node 1 -> node $j pod traffic is $(expected_wire 1 $j) only" check_wire 1 $j
done
pflush

finish
