#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Mixed clusters: a weft node and nodes running the kernel's own devices set
# up the way Flannel and Calico do it (see topo.sh):
#
#   weft + flannel        weft0 vni 1 port 8472, node 2 flannel.1 (VNI 1,
#                         8472, onlink route + neigh + fdb to weft0's VTEP MAC)
#   weft + calico-vxlan   weft0 vni 4096 port 4789, node 2 vxlan.calico
#   weft + calico-ipip    weft0 encap ipip to node 2, node 2 tunl0 with an
#                         onlink route via node 1
#   weft + weft + flannel three nodes: the two weft nodes talk VXLAN on 8472
#
#   interop.sh [--scenario NAME]...   (flannel, calico-vxlan, calico-ipip,
#                                      weft-weft-flannel; default: all)
#
# Per scenario: pod traffic both ways (ping, 64 KiB TCP echo) for every pod
# pair, node -> remote pod both ways, and each node's wire counters (VXLAN
# or IP-in-IP only, nothing unencapsulated).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/topo.sh"

scenarios=()
while [ $# -gt 0 ]; do
	case $1 in
	--scenario) scenarios+=("$2"); shift 2 ;;
	*) echo "usage: $0 [--scenario NAME]..." >&2; exit 2 ;;
	esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(flannel calico-vxlan calico-ipip weft-weft-flannel)

require_root
require_cmd ip nft socat jq nsenter ping bridge
if ! have_weft_module; then
	echo "1..0 # SKIP weft module not loaded"
	exit $ksft_skip
fi
trap 'topo_cleanup; rm -rf "$E2E_TMP"' EXIT

scenario()
{
	local name=$1 n i j

	BACKEND=()
	VTEP_MAC=()
	case $name in
	flannel|calico-vxlan|calico-ipip) n=2; BACKEND[1]=weft; BACKEND[2]=$name ;;
	weft-weft-flannel) n=3; BACKEND[1]=weft; BACKEND[2]=weft; BACKEND[3]=flannel ;;
	*) log_test 1 "unknown scenario $name"; return ;;
	esac
	WEFT_ENCAP=vxlan
	topo_init $n
	info "scenario $name: ${BACKEND[*]}"
	step "$name: build $n nodes" topo_build || { topo_cleanup; return; }
	if ! step "$name: backends ${BACKEND[*]}" topo_backends; then
		topo_cleanup
		return
	fi
	step "$name: echo servers listening" topo_servers_ready
	for ((i = 1; i <= n; i++)); do
		wire_reset $i
	done
	check_pod_pairs --brief
	for ((i = 1; i <= n; i++)); do
		for ((j = 1; j <= n; j++)); do
			[ $i = $j ] && continue
			pcheck "$name: ping node $i (${BACKEND[i]}) -> pod $j.1 (${BACKEND[j]})" \
				ping_ns "$(node_ns $i)" "$(pod4 $j 1)"
		done
	done
	pflush
	for ((i = 1; i <= n; i++)); do
		for ((j = 1; j <= n; j++)); do
			[ $i = $j ] && continue
			pcheck "$name: wire: node $i (${BACKEND[i]}) -> node $j is $(expected_wire $i $j) only" \
				check_wire $i $j
		done
	done
	pflush
	topo_cleanup
}

for s in "${scenarios[@]}"; do
	scenario "$s"
done
finish
