#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# weftd, the node agent, end to end: three nodes (netns on the underlay
# bridge, as in topo.sh) and a fourth that joins later, each with a weftd
# that creates and configures weft0, a real 3-member etcd, and pods plumbed
# the way weft-cni does it. The nodes publish different encapsulations
# (nodes 1 and 2 none, node 3 IP-in-IP, node 4 VXLAN) and each pair uses the
# stronger of its two: 1-2 route natively, 1-3 and 2-3 use IP-in-IP, node 4
# VXLAN with everyone, so the pings cover every mode.
#
#   weftd.sh            (env WEFTD=, default: the weftd next to $WEFT, else
#                        build/manager/weftd; ETCD=, default /usr/bin/etcd)
#
#   underlay netns: bridge br0 192.168.50.1/24; etcd members e1 e2 e3 on
#                   192.168.50.2, .3, .4 (client 2379, peer 2380)
#          |              |              |
#   node 1 netns    node 2 netns    node 3 netns    (node 4 netns, .50.14)
#   eth0 .50.11     eth0 .50.12     eth0 .50.13     weft0 and the route
#   weftd node-1    weftd node-2    weftd node-3    10.244.0.0/16 dev weft0
#   vp1 vp2         vp1 vp2         vp1 vp2         are weftd's work
#     |   |           |   |           |   |
#   pod i.1, pod i.2: eth0 <address from weftd's allocate>/32,
#                     default via 169.254.1.1 onlink (proxy ARP on vpJ)
#
# Checks (one TAP line each):
#   - etcd: 3 members healthy
#   - every weftd's /readyz answers 200; weftd created weft0 (type weft),
#     brought it up and routed the cluster CIDR into it
#   - status: each node got a /24 of 10.244.0.0/16, all distinct
#   - weft node/route show on each node: the other two nodes and their
#     blocks (programmed by weftd), and not the node itself
#   - pods: allocate + attach through the local API; list shows them;
#     weft endpoint show has them; pings across nodes and on one node
#   - NAT: weftd's nftables table masquerades pod traffic leaving the pod
#     network (a ping to the underlay gateway, which has no route back to
#     the pods, is answered) and leaves pod-to-pod traffic alone (conntrack)
#   - restart: kill -9 weftd on node 1 during a ping -i 0.05 pod 1.1 ->
#     pod 2.1 and an iperf3 UDP stream pod 1.2 -> pod 3.2 and start it
#     again: no packet lost (control runs without a restart first), nodes 2 and 3 kept node 1 (its 15 s lease outlived the
#     restart), node 1's weft tables (node, route, endpoint; -j) identical
#     before and after, and the restarted weftd wrote nothing to the kernel
#   - node leaving: kill -9 weftd on node 3: once its lease (15 s) runs out,
#     node 3 and its route leave node 1 and node 2 (deadline 40 s)
#   - etcd: kill -9 the leader; the others elect a new one; weftd on node 3
#     started again is seen by node 1 (node + route, same block as before),
#     and pod 1.1 -> pod 3.1 works again
#   - all of etcd down: /readyz turns 503; ping -i 0.05 across nodes loses
#     nothing; meanwhile weftd on node 2 is killed and node 4's weftd starts
#     (its join retries). etcd back: node 4 joins everywhere, node 2 leaves
#     once its lease runs out, /readyz is 200 again, pod 4.1 is reachable;
#     the status weft-cni's STATUS reads: during the outage node 1 can add
#     pods but is degraded (51) and node 4 cannot (50), after it both are
#     healthy
#   - cleanup: SIGTERM stops every weftd (exit 0, socket removed); etcd,
#     netns gone; no process of the suite left
#
# Needs root, the weft module, iproute2, socat, jq, curl, etcd.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/topo.sh"

require_root
require_cmd ip socat jq curl nsenter ping iperf3 conntrack nft
if ! have_weft_module; then
	echo "1..0 # SKIP weft module not loaded"
	exit $ksft_skip
fi
WEFTD=${WEFTD:-$(dirname "$WEFT")/weftd}
[ -x "$WEFTD" ] || WEFTD=$E2E_TOP/build/manager/weftd
ETCD=${ETCD:-/usr/bin/etcd}
if [ ! -x "$WEFTD" ] || [ ! -x "$ETCD" ]; then
	echo "1..0 # SKIP weftd ($WEFTD) or etcd ($ETCD) missing"
	exit $ksft_skip
fi

NODES=3	# started at once; node 4 starts while etcd is down
ALL=4
ENCAP=(- none none ipip vxlan)
CLUSTER=10.244.0.0/16
LEASE_TTL=15
HTTP=127.0.0.1:9603
ETCD_IP=(- 192.168.50.2 192.168.50.3 192.168.50.4)
ETCD_ENDPOINTS=${ETCD_IP[1]}:2379,${ETCD_IP[2]}:2379,${ETCD_IP[3]}:2379

declare -a WEFTD_PID ETCD_PID BLOCK
PING_PID= IPERF_CLIENT= IPERF_SERVER= RCVBUF_ERRORS=0
declare -A POD	# POD[i.j]: pod j of node i's IPv4 address

# ------------------------------------------------------------------ helpers

sock() { echo "$E2E_TMP/node$1.sock"; }
wlog() { echo "$E2E_TMP/weftd$1.log"; }

# the daemons count as background jobs for pcheck's throttle
bg_refresh()
{
	local p

	E2E_BG_PIDS=()
	for p in "${WEFTD_PID[@]}" "${ETCD_PID[@]}" $KEEPER_PID; do
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null && E2E_BG_PIDS+=("$p")
	done
}

# log_tail I [N]: the end of weftd I's log (all its runs)
log_tail()
{
	echo "--- weftd node $1 log (last ${2:-15} lines) ---"
	tail -n "${2:-15}" "$(wlog "$1")" 2>/dev/null
}

# api I JSON: one request to weftd I's local API, the answer on stdout
api()
{
	printf '%s\n' "$2" | socat -t 10 -T 20 - "UNIX-CONNECT:$(sock "$1")"
}

# api_ok I JSON: the answer, failing (and showing it) unless "ok": true
api_ok()
{
	local out

	out=$(api "$1" "$2")
	if [ "$(jq -r .ok <<<"$out" 2>/dev/null)" != true ]; then
		echo "node $1: $2 -> ${out:-<no answer>}"
		return 1
	fi
	echo "$out"
}

http_code()
{
	in_ns "$(node_ns "$1")" curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
		"http://$HTTP$2" 2>/dev/null
}

readyz_200() { [ "$(http_code "$1" /readyz)" = 200 ]; }

# ---------------------------------------------------------------- topology

build()
{
	local i j

	{
		echo "netns add $NS_UL"
		for ((i = 1; i <= ALL; i++)); do
			echo "netns add $(node_ns $i)"
			for j in 1 2; do
				echo "netns add $(pod_ns $i $j)"
			done
		done
	} | ip -batch - || return 1
	{
		echo "link set lo up"
		echo "link add br0 type bridge forward_delay 0 mcast_snooping 0"
		echo "addr add 192.168.50.1/24 dev br0"
		for i in 1 2 3; do
			echo "addr add ${ETCD_IP[i]}/24 dev br0"
		done
		echo "link set br0 up"
		for ((i = 1; i <= ALL; i++)); do
			echo "link add n$i type veth peer name eth0 netns $(node_ns $i)"
			echo "link set n$i master br0 up"
		done
	} | ip -n "$NS_UL" -batch - || return 1
	for ((i = 1; i <= ALL; i++)); do
		{
			echo "link set lo up"
			echo "addr add ${UL4[i]}/24 dev eth0"
			echo "link set eth0 up"
			# a default route, as real nodes have: proxy ARP answers
			# only for addresses the node has a route to
			echo "route add default via 192.168.50.1"
			for j in 1 2; do
				echo "link add vp$j type veth peer name eth0 netns $(pod_ns $i $j)"
				echo "link set vp$j up"
			done
		} | ip -n "$(node_ns $i)" -batch - || return 1
		ns_sysctl "$(node_ns $i)" net.ipv4.ip_forward=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
			net.ipv4.conf.eth0.rp_filter=0 \
			net.ipv4.conf.vp1.proxy_arp=1 net.ipv4.conf.vp2.proxy_arp=1 \
			net.ipv4.neigh.vp1.proxy_delay=0 net.ipv4.neigh.vp2.proxy_delay=0 || return 1
		for j in 1 2; do
			ip -n "$(pod_ns $i $j)" -batch - <<-EOF || return 1
				link set lo up
				link set eth0 up
			EOF
		done
	done
	ip -n "$(node_ns 1)" -br link
}

# ---------------------------------------------------------------------- etcd

etcd_start()
{
	local k cluster=

	for k in 1 2 3; do
		cluster+="${cluster:+,}e$k=http://${ETCD_IP[k]}:2380"
	done
	for k in 1 2 3; do
		mkdir -p "$E2E_TMP/etcd$k" || return 1
		# slow elections: TCG on a loaded host
		nsenter --net="/run/netns/$NS_UL" "$ETCD" --name "e$k" \
			--data-dir "$E2E_TMP/etcd$k" --logger zap --log-outputs stderr \
			--listen-client-urls "http://${ETCD_IP[k]}:2379" \
			--advertise-client-urls "http://${ETCD_IP[k]}:2379" \
			--listen-peer-urls "http://${ETCD_IP[k]}:2380" \
			--initial-advertise-peer-urls "http://${ETCD_IP[k]}:2380" \
			--initial-cluster "$cluster" --initial-cluster-state new \
			--initial-cluster-token weft-e2e \
			--heartbeat-interval 250 --election-timeout 2500 \
			</dev/null >"$E2E_TMP/etcd$k.log" 2>&1 &
		ETCD_PID[k]=$!
	done
	bg_refresh
}

# etcd_healthy K...: every listed member answers /health with true
etcd_healthy()
{
	local k

	for k in "$@"; do
		in_ns "$NS_UL" curl -s --max-time 3 "http://${ETCD_IP[k]}:2379/health" |
			grep -q '"health":"true"' || return 1
	done
}

etcd_wait_healthy()
{
	local k

	if ! wait_for 90 etcd_healthy "$@"; then
		for k in "$@"; do
			echo "--- etcd e$k: $(in_ns "$NS_UL" curl -s --max-time 3 \
				"http://${ETCD_IP[k]}:2379/health") ---"
			tail -n 5 "$E2E_TMP/etcd$k.log"
		done
		return 1
	fi
	echo "healthy: $(for k in "$@"; do printf 'e%s ' "$k"; done)"
}

# etcd_leader K...: which of the listed members is the leader (1-3)
etcd_leader()
{
	local k st id leader

	for k in "$@"; do
		st=$(in_ns "$NS_UL" curl -s --max-time 3 -X POST -d '{}' \
			"http://${ETCD_IP[k]}:2379/v3/maintenance/status") || continue
		id=$(jq -r '.header.member_id // empty' <<<"$st")
		leader=$(jq -r '.leader // empty' <<<"$st")
		[ -n "$id" ] && [ "$id" = "$leader" ] && { echo "$k"; return 0; }
	done
	return 1
}

# --------------------------------------------------------------------- weftd

weftd_start()
{
	local i=$1

	echo "=== $(date '+%T') weftd start ===" >>"$(wlog "$i")"
	nsenter --net="/run/netns/$(node_ns "$i")" "$WEFTD" --node-name "node-$i" \
		--datastore etcd --etcd-endpoints "$ETCD_ENDPOINTS" \
		--underlay-dev eth0 --node-addr "${UL4[i]}" --encap "${ENCAP[i]}" \
		--state-dir "$E2E_TMP/node$i" --socket "$(sock "$i")" \
		--http-listen "$HTTP" --cluster-cidr "$CLUSTER" --lease-ttl "$LEASE_TTL" \
		</dev/null >>"$(wlog "$i")" 2>&1 &
	WEFTD_PID[i]=$!
	bg_refresh
}

weftd_kill9()
{
	local i=$1

	kill -9 "${WEFTD_PID[i]}" 2>/dev/null
	wait "${WEFTD_PID[i]}" 2>/dev/null
	echo "=== $(date '+%T') weftd killed (SIGKILL) ===" >>"$(wlog "$i")"
	WEFTD_PID[i]=
	bg_refresh
}

weftd_alive() { [ -n "${WEFTD_PID[$1]}" ] && kill -0 "${WEFTD_PID[$1]}" 2>/dev/null; }

# wait_ready I: /readyz 200 within 60 s, and weftd still running
wait_ready()
{
	local i=$1 t0=$SECONDS

	if ! wait_for 60 readyz_200 "$i"; then
		echo "node $i: /readyz $(http_code "$i" /readyz) after 60 s" \
			"(weftd $(weftd_alive "$i" && echo running || echo exited))"
		api "$i" '{"op":"status"}'
		log_tail "$i"
		return 1
	fi
	echo "node $i ready after $((SECONDS - t0)) s"
}

# weft0_made I: weftd created weft0 (type weft), set it up and routed the
# cluster CIDR into it
weft0_made()
{
	local ns
	ns=$(node_ns "$1")

	ip -n "$ns" -d -o link show weft0 | tee "$E2E_TMP/weft0.$1" | cut -c1-160
	ip -n "$ns" route show "$CLUSTER" | tee "$E2E_TMP/route.$1"
	grep -q ' weft ' "$E2E_TMP/weft0.$1" && grep -q '[<,]UP[,>]' "$E2E_TMP/weft0.$1" &&
		grep -qx "$CLUSTER dev weft0 .*scope link.*" "$E2E_TMP/route.$1" &&
		grep -q 'created weft0 (type weft)' "$(wlog "$1")"
}

# ------------------------------------------------------------------- blocks

# read_blocks I...: BLOCK[I] from weftd I's status
read_blocks()
{
	local i out

	for i in "$@"; do
		out=$(api_ok $i '{"op":"status"}') || return 1
		echo "node $i: $out"
		BLOCK[i]=$(jq -r '.blocks[0] // empty' <<<"$out")
		[ -n "${BLOCK[i]}" ] || { echo "node $i: no block"; return 1; }
	done
}

blocks_distinct()
{
	local i b

	for i in "${!BLOCK[@]}"; do
		b=${BLOCK[i]}
		echo "node $i: $b"
		[[ $b =~ ^10\.244\.[0-9]+\.0/24$ ]] || { echo "not a /24 of $CLUSTER"; return 1; }
	done
	[ "$(printf '%s\n' "${BLOCK[@]:1}" | sort -u | wc -l)" = ${#BLOCK[@]} ]
}

# pair_encap I J: what nodes I and J use between them (weftd's pair_encap:
# the same both ways; VXLAN over IP-in-IP over none)
pair_encap()
{
	local e

	for e in vxlan ipip none; do
		[ "${ENCAP[$1]}" = $e ] || [ "${ENCAP[$2]}" = $e ] && { echo $e; return; }
	done
}

# peer_programmed I J: node I's weft0 has node J (with the pair's
# encapsulation) and J's block via J
peer_programmed()
{
	local ns
	ns=$(node_ns "$1")

	weft_in "$ns" node show dev weft0 | grep -q "^${UL4[$2]} dev weft0 encap $(pair_encap "$1" "$2")" &&
		weft_in "$ns" route show dev weft0 | grep -qx "${BLOCK[$2]} via ${UL4[$2]} dev weft0"
}

peer_gone()
{
	local ns
	ns=$(node_ns "$1")

	! weft_in "$ns" node show dev weft0 | grep -q "^${UL4[$2]} " &&
		! weft_in "$ns" route show dev weft0 | grep -q "via ${UL4[$2]} "
}

# check_peers I: node I lists every other node with its block, not itself
check_peers()
{
	local i=$1 j ok=0 ns
	ns=$(node_ns "$i")

	for ((j = 1; j <= NODES; j++)); do
		[ $j = "$i" ] && continue
		wait_for 30 peer_programmed "$i" $j || ok=1
	done
	weft_in "$ns" node show dev weft0 | grep -q "^${UL4[i]} " && ok=1
	weft_in "$ns" route show dev weft0 | grep -q "^${BLOCK[i]} " && ok=1
	echo "weft node show:"
	weft_in "$ns" node show dev weft0
	echo "weft route show:"
	weft_in "$ns" route show dev weft0
	[ $ok = 0 ] || log_tail "$i"
	return $ok
}

# --------------------------------------------------------------------- pods

# pod_add I J: allocate, plumb, attach (what weft-cni's ADD does)
pod_add()
{
	local i=$1 j=$2 cid="e2e-pod-$1-$2" out a gw mtu

	out=$(api_ok "$i" "{\"op\":\"allocate\",\"container_id\":\"$cid\",\"ifname\":\"eth0\"}") ||
		return 1
	echo "allocate: $out"
	a=$(jq -r '.addrs[0] // empty' <<<"$out")
	gw=$(jq -r '.gateways | join(",")' <<<"$out")
	mtu=$(jq -r '.mtu // empty' <<<"$out")
	[[ $a == ${BLOCK[i]%.0/24}.* ]] || { echo "address $a not in ${BLOCK[i]}"; return 1; }
	echo "weftd's gateways: $gw (the pod uses 169.254.1.1 with proxy ARP)"
	POD[$i.$j]=$a
	{
		echo "addr add $a/32 dev eth0"
		[ -n "$mtu" ] && echo "link set eth0 mtu $mtu"
		echo "route add default via 169.254.1.1 dev eth0 onlink"
	} | ip -n "$(pod_ns "$i" "$j")" -batch - || return 1
	ip -n "$(node_ns "$i")" route add "$a/32" dev "vp$j" || return 1
	api_ok "$i" "{\"op\":\"attach\",\"container_id\":\"$cid\",\"ifname\":\"eth0\",\"host_ifname\":\"vp$j\",\"addrs\":[\"$a\"]}"
}

pods_listed()
{
	local i=$1 out n

	out=$(api_ok "$i" '{"op":"list"}') || return 1
	echo "$out"
	n=$(jq --arg a "${POD[$i.1]}" --arg b "${POD[$i.2]}" '[.attachments[] |
		select((.addrs[0] == $a and .host_ifname == "vp1") or
		       (.addrs[0] == $b and .host_ifname == "vp2"))] | length' <<<"$out")
	[ "$n" = 2 ] || return 1
	echo "weft endpoint show:"
	weft_in "$(node_ns "$i")" endpoint show weft weft0 | tee "$E2E_TMP/ep.$i"
	grep -q "^${POD[$i.1]} .*dev vp1" "$E2E_TMP/ep.$i" &&
		grep -q "^${POD[$i.2]} .*dev vp2" "$E2E_TMP/ep.$i"
}

# -------------------------------------------------------------------- tables

snapshot()
{
	local ns
	ns=$(node_ns "$1")

	echo "== node"
	weft_in "$ns" -j node show dev weft0
	echo "== route"
	weft_in "$ns" -j route show dev weft0
	echo "== endpoint"
	weft_in "$ns" -j endpoint show weft weft0
}

# ------------------------------------------------------------------ cleanup

cleanup()
{
	local p

	for p in "${WEFTD_PID[@]}" "${ETCD_PID[@]}" $KEEPER_PID $PING_PID $IPERF_CLIENT $IPERF_SERVER; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	topo_cleanup
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT

# ===================================================================== run

topo_init $ALL

# weftd from the tmpfs: started from the 9p root under TCG, its 60 MB took
# seconds to load, longer than the lease TTL a restart has to beat
cp "$WEFTD" "$E2E_TMP/weftd" && WEFTD=$E2E_TMP/weftd
# the weft CLI too: the checks run it hundreds of times
cp "$WEFT" "$E2E_TMP/weft" && WEFT=$E2E_TMP/weft
t0=${EPOCHREALTIME/./}
"$WEFTD" -V >/dev/null
info "weftd -V (exec, dynamic loading, static init) took $(elapsed_ms "$t0") ms"

# A socket with SO_TIMESTAMP (a slow ping on the loopback) for the whole
# run keeps the kernel's netstamp_needed_key static branch switched on.
# Otherwise every ping below switches it on and off again, and under TCG a
# CPU running netif_rx() while the other one live-patches that branch can
# take the transient int3 as an Oops (seen once on 6.12: "Oops: int3" at
# netif_rx_internal+0x1e, etcd's loopback TCP; no weft code involved).
ping -q -i 10 127.0.0.1 >/dev/null 2>&1 &
KEEPER_PID=$!

info "weftd $WEFTD ($("$WEFTD" -V 2>&1)), $("$ETCD" --version | head -1)"

step "weftd: $ALL node netns, 2 pod netns each, underlay bridge" build || finish

etcd_start
step "etcd: 3 members (${ETCD_IP[*]:1}) healthy" etcd_wait_healthy 1 2 3 || finish

for ((i = 1; i <= NODES; i++)); do
	weftd_start $i
done
for ((i = 1; i <= NODES; i++)); do
	step "node $i: weftd /readyz answers 200" wait_ready $i
done
for ((i = 1; i <= NODES; i++)); do
	step "node $i: weftd created weft0 (type weft), set it up, routed $CLUSTER into it" \
		weft0_made $i
done
step "status: each node has a /24 of $CLUSTER, all distinct" \
	eval 'read_blocks 1 2 3 && blocks_distinct' || finish
for ((i = 1; i <= NODES; i++)); do
	step "node $i: weft node/route show list the other nodes and their blocks" \
		check_peers $i
done

# pods, the weft-cni way
for ((i = 1; i <= NODES; i++)); do
	for j in 1 2; do
		step "pod $i.$j: allocate, plumb, attach through the API" pod_add $i $j
	done
	step "node $i: list and weft endpoint show have both pods" pods_listed $i
done
metric() # metric I NAME: the value of NAME on weftd I's /metrics
{
	in_ns "$(node_ns "$1")" curl -s --max-time 3 "http://$HTTP/metrics" 2>/dev/null |
		awk -v n="$2" '$1 == n {print $2}'
}

# kernel_sizes I: weftd I's /metrics reports weft.ko's tables as they are
# (the other two nodes, their two blocks, the node's two pods)
kernel_sizes()
{
	local n v rc=0

	for n in nodes routes endpoints; do
		v=$(metric "$1" "weft_kernel_$n")
		echo "weft_kernel_$n: $v"
		[ "$v" = 2 ] || rc=1
	done
	return $rc
}
step "metrics: node 1's weft_kernel_nodes, _routes, _endpoints are 2, 2, 2" \
	eval 'wait_for 10 kernel_sizes 1 >/dev/null; kernel_sizes 1'

pcheck "ping pod 1.1 -> pod 1.2 (same node) ${POD[1.2]}" ping_ns "$(pod_ns 1 1)" "${POD[1.2]}"
for ((i = 1; i <= NODES; i++)); do
	for ((j = 1; j <= NODES; j++)); do
		[ $i = $j ] && continue
		pcheck "ping pod $i.1 -> pod $j.1 ${POD[$j.1]} ($(pair_encap $i $j))" \
			ping_ns "$(pod_ns $i 1)" "${POD[$j.1]}"
	done
done
pcheck "ping pod 1.2 -> pod 3.2 ${POD[3.2]}" ping_ns "$(pod_ns 1 2)" "${POD[3.2]}"
pflush

# ---------------------------------------------------------------- NAT
#
# The underlay gateway 192.168.50.1 (br0) has no route to the pods: only a
# masqueraded ping comes back. Pod-to-pod traffic keeps its addresses.

nat_table()
{
	in_ns "$(node_ns "$1")" nft list table ip weft | tee "$E2E_TMP/nat.$1"
	grep -q "ip saddr $CLUSTER .*masquerade" "$E2E_TMP/nat.$1"
}

# not_masqueraded I J: conntrack on node I has pod I.1 -> pod J.1 with the
# reply addressed to pod I.1 itself
not_masqueraded()
{
	local a=${POD[$1.1]} b=${POD[$2.1]}

	ping_ns "$(pod_ns "$1" 1)" "$b" >/dev/null || return 1
	in_ns "$(node_ns "$1")" conntrack -L -p icmp -s "$a" -d "$b" 2>/dev/null |
		tee "$E2E_TMP/ct.$1"
	grep -q "src=$b dst=$a " "$E2E_TMP/ct.$1"
}

for ((i = 1; i <= NODES; i++)); do
	step "NAT: node $i: weftd's nftables table ip weft masquerades $CLUSTER" nat_table $i
	pcheck "NAT: ping pod $i.1 -> 192.168.50.1 (outside the pod network)" \
		ping_ns "$(pod_ns $i 1)" 192.168.50.1
done
pflush
step "NAT: pod 1.1 -> pod 2.1 is not masqueraded (conntrack)" not_masqueraded 1 2

# ------------------------------------------------------------- restart
#
# ping -i 0.05 pod 1.1 -> pod 2.1 for 15 s; in the middle, kill -9 weftd on
# node 1 and start it again.

# drops NS: weft0's non-zero drop counters ("reason n" lines)
drops()
{
	weft_in "$1" -j -s link show dev weft0 2>/dev/null |
		jq -r '.[0].stats.drops // {} | to_entries[] | select(.value > 0) | "\(.key) \(.value)"'
}

# ping_loss NS ADDR COUNT [OUT]: ping -i 0.05, fails unless every reply came
ping_loss()
{
	local out=${4:-$E2E_TMP/ping.$$} tx rx

	nsenter --net="/run/netns/$1" ping -n -D -O -i 0.05 -c "$3" -W 2 "$2" >"$out" 2>&1
	grep -E 'no answer|statistics|transmitted' "$out" | head -20
	read -r tx rx < <(awk '/packets transmitted/ {print $1, $4}' "$out")
	echo "transmitted ${tx:-?}, received ${rx:-?}"
	[ -n "$tx" ] && [ "$tx" -gt 0 ] && [ "$tx" = "$rx" ]
}

# the same ping without a restart: a loss here is the VM's, not weftd's
step "restart: control, ping -i 0.05 pod 1.1 -> pod 2.1 without a restart loses nothing" \
	ping_loss "$(pod_ns 1 1)" "${POD[2.1]}" 100

# udp_rcvbuf_errors NS: datagrams the sockets of NS dropped for a full
# receive buffer (a receiver starved of CPU, not the network)
udp_rcvbuf_errors()
{
	in_ns "$1" awk '/^Udp:/ && !h {for (i = 1; i <= NF; i++) col[$i] = i; h = 1; next}
		/^Udp:/ {print $col["RcvbufErrors"]}' /proc/net/snmp
}

# iperf_udp_start SECS OUT: an iperf3 UDP stream pod 1.2 -> pod 3.2
# (IP-in-IP), 2 Mbit/s for SECS seconds, its JSON report in OUT. The
# receiver gets a 4 MB socket buffer: under emulation a CPU busy starting
# weftd can leave it unscheduled for longer than the default buffer lasts.
iperf_udp_start()
{
	local secs=$1 out=$2

	sysctl -qw net.core.rmem_max=4194304 net.core.wmem_max=4194304
	RCVBUF_ERRORS=$(udp_rcvbuf_errors "$(pod_ns 3 2)")
	in_ns "$(pod_ns 3 2)" iperf3 -s -1 -B "${POD[3.2]}" >/dev/null 2>&1 &
	IPERF_SERVER=$!
	sleep 1
	in_ns "$(pod_ns 1 2)" iperf3 -c "${POD[3.2]}" -u -b 2M -l 1000 -w 4M -t "$secs" -J \
		>"$out" 2>&1 &
	IPERF_CLIENT=$!
}

# iperf_udp_result OUT: fails unless the stream ran and lost no datagram
iperf_udp_result()
{
	local out=$1 sent lost

	wait "$IPERF_CLIENT"
	wait "$IPERF_SERVER" 2>/dev/null
	sent=$(jq -r '.end.sum.packets // empty' "$out" 2>/dev/null)
	lost=$(jq -r '.end.sum.lost_packets // empty' "$out" 2>/dev/null)
	echo "iperf3 UDP pod 1.2 -> pod 3.2: ${sent:-?} datagrams, ${lost:-?} lost" \
		"($(jq -r '.end.sum.jitter_ms // "?"' "$out" 2>/dev/null) ms jitter);" \
		"receive buffer overflows in pod 3.2:" \
		"$(($(udp_rcvbuf_errors "$(pod_ns 3 2)") - RCVBUF_ERRORS))"
	[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$lost" = 0 ] ||
		{ jq -r '.error // empty' "$out" 2>/dev/null; tail -n 5 "$out"; return 1; }
}

iperf_control()
{
	iperf_udp_start 5 "$E2E_TMP/iperf.control"
	iperf_udp_result "$E2E_TMP/iperf.control"
}
step "restart: control, iperf3 UDP pod 1.2 -> pod 3.2 without a restart loses nothing" \
	iperf_control

restart_under_ping()
{
	local pingout=$E2E_TMP/restart.ping ppid t0 i rc

	snapshot 1 >"$E2E_TMP/before.json"
	for i in 1 2 3; do
		echo "node $i weft0 drops before: $(drops "$(node_ns $i)" | tr '\n' ' ')"
	done
	iperf_udp_start 16 "$E2E_TMP/iperf.restart"
	ping_loss "$(pod_ns 1 1)" "${POD[2.1]}" 300 "$pingout" >"$E2E_TMP/restart.ping.sum" &
	ppid=$!
	sleep 2
	t0=$SECONDS
	RESTART_KILLED=$(date +%T.%3N)
	echo "kill -9 weftd on node 1 at $RESTART_KILLED"
	weftd_kill9 1
	weftd_start 1
	wait_ready 1 || { wait "$ppid"; return 1; }
	echo "weftd node 1 killed and ready again in $((SECONDS - t0)) s ($(date +%T.%3N));" \
		"it joined at $(grep 'joining the cluster' "$(wlog 1)" | tail -1 | cut -d' ' -f2)"
	if ! kill -0 "$ppid" 2>/dev/null; then
		echo "ping ended before weftd was ready again: the check covers too little"
		RESTART_PING_SHORT=1
	fi
	wait "$ppid"
	rc=$?
	cat "$E2E_TMP/restart.ping.sum"
	iperf_udp_result "$E2E_TMP/iperf.restart" || rc=1
	for i in 1 2 3; do
		echo "node $i weft0 drops after: $(drops "$(node_ns $i)" | tr '\n' ' ')"
	done
	if [ $rc != 0 ]; then
		grep -q 'node node-1 left' "$(wlog 2)" &&
			echo "node 2 saw node-1 leave: its lease (TTL $LEASE_TTL s) ran out" \
				"before the restarted weftd joined again"
		for i in 1 2 3; do
			echo "--- weftd node $i log since the restart ---"
			awk -v t="$(date -d "@$((EPOCHSECONDS - SECONDS + t0 - 1))" '+%H:%M:%S')" \
				'substr($2, 1, 8) >= t || /===/' "$(wlog $i)" | tail -n 12
		done
	fi
	return $rc
}

RESTART_PING_SHORT=0
step "restart: kill -9 + start weftd on node 1 under ping -i 0.05 pod 1.1 -> pod 2.1 and iperf3 UDP pod 1.2 -> pod 3.2: nothing lost" \
	restart_under_ping
step "restart: ping ran across the whole restart" test $RESTART_PING_SHORT = 0

# node 1's lease must outlive the restart: otherwise nodes 2 and 3 drop it
# (and its route) until it joins again
lease_kept()
{
	if grep -q 'node node-1 left' "$(wlog 2)" "$(wlog 3)"; then
		grep -h 'node node-1 \(left\|joined\)' "$(wlog 2)" "$(wlog 3)" | tail -n 4
		echo "weftd on node 1: killed at $RESTART_KILLED, 'joining the cluster' logged at" \
			"$(grep 'joining the cluster' "$(wlog 1)" | tail -1 | cut -d' ' -f2)," \
			"lease TTL $LEASE_TTL s"
		return 1
	fi
}
step "restart: nodes 2 and 3 kept node 1 (its lease outlived the restart)" lease_kept

same_tables()
{
	# let a reconcile the restart may have started finish
	sleep 1
	snapshot 1 >"$E2E_TMP/after.json"
	if ! diff -u "$E2E_TMP/before.json" "$E2E_TMP/after.json"; then
		log_tail 1
		return 1
	fi
	cat "$E2E_TMP/after.json"
}
step "restart: node 1's weft node/route/endpoint tables identical before and after" same_tables

# the restarted weftd's log: no "reconciled ..." line (it logs only passes
# that wrote or failed)
no_writes_after_restart()
{
	local run

	run=$(awk '/=== .* weftd start ===/ {buf = ""} {buf = buf $0 "\n"} END {printf "%s", buf}' \
		"$(wlog 1)")
	echo "$run" | tail -n 20
	! echo "$run" | grep -q 'reconciled in'
}
step "restart: the restarted weftd made no kernel writes" no_writes_after_restart

# --------------------------------------------------------- node leaving

node3_leaves()
{
	local t0 i ok=0

	t0=${EPOCHREALTIME/./}
	weftd_kill9 3
	for i in 1 2; do
		if wait_for 40 peer_gone $i 3; then
			echo "node 3 gone from node $i after $(elapsed_ms "$t0") ms (lease TTL ${LEASE_TTL} s)"
		else
			echo "node 3 still on node $i after $(elapsed_ms "$t0") ms:"
			weft_in "$(node_ns $i)" node show dev weft0
			weft_in "$(node_ns $i)" route show dev weft0
			log_tail $i
			ok=1
		fi
	done
	return $ok
}
step "node leaving: weftd on node 3 killed, its lease expires, node 3 and its route leave nodes 1, 2" \
	node3_leaves
step "node leaving: node 2 still programmed on node 1" peer_programmed 1 2

# ---------------------------------------------------------- etcd member kill

LEADER=
kill_leader()
{
	local rest=() k

	LEADER=$(etcd_leader 1 2 3) || { echo "no etcd leader found"; return 1; }
	echo "etcd leader: e$LEADER (${ETCD_IP[LEADER]}); kill -9"
	kill -9 "${ETCD_PID[LEADER]}"
	wait "${ETCD_PID[LEADER]}" 2>/dev/null
	ETCD_PID[LEADER]=
	bg_refresh
	for k in 1 2 3; do
		[ $k = "$LEADER" ] || rest+=($k)
	done
	wait_for 60 etcd_leader "${rest[@]}" >/dev/null || { echo "no new leader"; return 1; }
	echo "new leader: e$(etcd_leader "${rest[@]}")"
	etcd_wait_healthy "${rest[@]}"
}
step "etcd: kill -9 the leader, the other two elect a new one" kill_leader

OLD_BLOCK3=${BLOCK[3]}
rejoin3()
{
	local out

	weftd_start 3
	wait_ready 3 || return 1
	out=$(api_ok 3 '{"op":"status"}') || return 1
	echo "$out"
	BLOCK[3]=$(jq -r '.blocks[0] // empty' <<<"$out")
	echo "node 3 block: ${BLOCK[3]} (before: $OLD_BLOCK3)"
}
step "etcd member down: weftd on node 3 starts again and is ready" rejoin3
step "etcd member down: node 3 kept its block $OLD_BLOCK3" test "${BLOCK[3]}" = "$OLD_BLOCK3"
seen_again()
{
	local t0=$SECONDS

	if ! wait_for 30 peer_programmed 1 3; then
		weft_in "$(node_ns 1)" node show dev weft0
		weft_in "$(node_ns 1)" route show dev weft0
		log_tail 1
		log_tail 3
		return 1
	fi
	echo "after $((SECONDS - t0)) s"
	weft_in "$(node_ns 1)" route show dev weft0
}
step "etcd member down: node 1 sees node 3 again (node + route ${BLOCK[3]})" seen_again
pcheck "etcd member down: ping pod 1.1 -> pod 3.1 ${POD[3.1]}" ping_ns "$(pod_ns 1 1)" "${POD[3.1]}"
pcheck "etcd member down: ping pod 3.2 -> pod 2.2 ${POD[2.2]}" ping_ns "$(pod_ns 3 2)" "${POD[2.2]}"
pflush
if peer_programmed 1 2; then
	info "node 2 still programmed on node 1"
else
	info "node 2 not programmed on node 1 (lease lost during the etcd election?)"
fi

# -------------------------------------------------------- all of etcd down
#
# Every member killed. The kernel keeps forwarding on what it was given;
# weftd reports the datastore down and retries. Meanwhile node 2's weftd is
# killed (a node leaving) and node 4's starts (a node joining): neither can
# reach etcd. When etcd returns, the others apply both.

store_down() { [ "$(http_code "$1" /readyz)" = 503 ] && [ "$(metric "$1" weft_datastore_up)" = 0 ]; }
store_up() { readyz_200 "$1" && [ "$(metric "$1" weft_datastore_up)" = 1 ]; }

etcd_all_down()
{
	local k i t0=$SECONDS

	for k in 1 2 3; do
		[ -n "${ETCD_PID[k]}" ] || continue
		kill -9 "${ETCD_PID[k]}"
		wait "${ETCD_PID[k]}" 2>/dev/null
		ETCD_PID[k]=
	done
	bg_refresh
	for i in 1 3; do
		if ! wait_for 60 store_down $i; then
			echo "node $i: /readyz $(http_code $i /readyz)," \
				"weft_datastore_up $(metric $i weft_datastore_up)"
			log_tail $i
			return 1
		fi
	done
	echo "nodes 1 and 3 report the datastore down after $((SECONDS - t0)) s"
	in_ns "$(node_ns 1)" curl -s --max-time 3 "http://$HTTP/readyz"
	echo
}
step "etcd all down: every member killed; nodes 1, 3: /readyz 503, weft_datastore_up 0" \
	etcd_all_down

outage_ping()
{
	local pingout=$E2E_TMP/outage.ping rc

	# the ping runs while node 2's weftd dies and node 4's starts
	ping_loss "$(pod_ns 1 1)" "${POD[3.1]}" 200 "$pingout" >"$pingout.sum" &
	PING_PID=$!
	sleep 1
	weftd_kill9 2
	echo "weftd on node 2 killed (SIGKILL)"
	weftd_start 4
	echo "weftd on node 4 started: its join waits for etcd"
	wait "$PING_PID"
	rc=$?
	PING_PID=
	cat "$pingout.sum"
	return $rc
}
step "etcd all down: ping -i 0.05 pod 1.1 -> pod 3.1 loses nothing" outage_ping
step "etcd all down: pod 3.2 -> pod 2.2 still works (node 2's weft.ko, weftd gone)" \
	ping_ns "$(pod_ns 3 2)" "${POD[2.2]}"
step "etcd all down: weftd on nodes 1 and 3 still running, node 4 not ready" \
	eval 'weftd_alive 1 && weftd_alive 3 && weftd_alive 4 && ! readyz_200 4'

# What weft-cni's STATUS reports comes from here: node 1 can still add pods
# (its block is its own) but they may be degraded (51); node 4 never joined
# and cannot (50).
status_in_outage()
{
	local s1 s4

	s1=$(api 1 '{"op":"status"}') && echo "node 1: $s1" || return 1
	jq -e '.can_add == true and .degraded == true and
		(.degraded_reason | startswith("datastore unreachable"))' <<<"$s1" >/dev/null || return 1
	s4=$(api 4 '{"op":"status"}') && echo "node 4: $s4" || return 1
	jq -e '.can_add == false and (.can_add_reason | test("not joined"))' <<<"$s4" >/dev/null
}
step "etcd all down: status: node 1 can add pods, degraded (STATUS 51); node 4 cannot (50)" \
	status_in_outage

etcd_back()
{
	etcd_start
	etcd_wait_healthy 1 2 3
}
step "etcd back: all 3 members restarted from their data, healthy" etcd_back || finish

catch_up()
{
	local i ok=0 t0=$SECONDS

	for i in 1 3 4; do
		wait_ready $i || ok=1
		store_up $i || { echo "node $i: weft_datastore_up $(metric $i weft_datastore_up)"; ok=1; }
	done
	[ $ok = 0 ] || return 1
	read_blocks 4 || return 1
	for i in 1 3; do
		if ! wait_for 30 peer_programmed $i 4; then
			echo "node $i: node 4 (${BLOCK[4]}) not programmed"
			log_tail $i
			ok=1
		fi
		if ! wait_for 60 peer_gone $i 2; then
			echo "node $i: node 2 still programmed"
			log_tail $i
			ok=1
		fi
	done
	echo "caught up $((SECONDS - t0)) s after etcd was healthy"
	weft_in "$(node_ns 1)" node show dev weft0
	weft_in "$(node_ns 1)" route show dev weft0
	return $ok
}
step "etcd back: nodes 1, 3 ready; node 4 joined them, node 2 left them (lease expired)" catch_up
status_healthy() # status_healthy I...: each can add pods and is not degraded
{
	local i s

	for i; do
		s=$(api "$i" '{"op":"status"}') && echo "node $i: $s" || return 1
		jq -e '.can_add and (.degraded | not)' <<<"$s" >/dev/null || return 1
	done
}
step "etcd back: status: nodes 1 and 4 can add pods and are not degraded" status_healthy 1 4
step "etcd back: node 4 programmed nodes 1 and 3" \
	eval 'wait_for 30 peer_programmed 4 1 && wait_for 30 peer_programmed 4 3'
step "etcd back: node 4's block is distinct" blocks_distinct
step "pod 4.1: allocate, plumb, attach through the API" pod_add 4 1
pcheck "etcd back: ping pod 1.1 -> pod 4.1 ${POD[4.1]}" ping_ns "$(pod_ns 1 1)" "${POD[4.1]}"
pcheck "etcd back: ping pod 4.1 -> pod 3.1 ${POD[3.1]}" ping_ns "$(pod_ns 4 1)" "${POD[3.1]}"
pflush

# ------------------------------------------------------------------ cleanup

# stop_all I...: SIGTERM weftd on these nodes: exits 0 within 15 s and
# removes its socket
stop_all()
{
	local i rc ok=0 deadline

	for i in "$@"; do
		weftd_alive $i || { echo "node $i: weftd not running"; ok=1; continue; }
		kill -TERM "${WEFTD_PID[i]}"
	done
	for i in "$@"; do
		[ -n "${WEFTD_PID[i]}" ] || continue
		deadline=$((SECONDS + 15))
		while kill -0 "${WEFTD_PID[i]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
			sleep 0.1
		done
		if kill -0 "${WEFTD_PID[i]}" 2>/dev/null; then
			echo "node $i: weftd still running 15 s after SIGTERM"
			kill -9 "${WEFTD_PID[i]}"
			ok=1
		fi
		wait "${WEFTD_PID[i]}"
		rc=$?
		echo "node $i: weftd exit $rc"
		[ $rc = 0 ] || { ok=1; log_tail $i 5; }
		[ -e "$(sock $i)" ] && { echo "node $i: socket $(sock $i) left"; ok=1; }
		WEFTD_PID[i]=
	done
	bg_refresh
	return $ok
}
step "cleanup: SIGTERM stops every weftd (exit 0, socket removed)" stop_all 1 3 4

teardown()
{
	local k p ns left=0

	for k in 1 2 3; do
		[ -n "${ETCD_PID[k]}" ] && kill -TERM "${ETCD_PID[k]}"
	done
	for k in 1 2 3; do
		[ -n "${ETCD_PID[k]}" ] && wait "${ETCD_PID[k]}"
	done
	ETCD_PID=()
	kill "$KEEPER_PID" 2>/dev/null
	wait "$KEEPER_PID" 2>/dev/null
	KEEPER_PID=
	bg_refresh
	topo_cleanup
	for ns in $(ip netns list | awk '{print $1}'); do
		[[ $ns == "$E2E_PFX"* ]] && { echo "netns $ns left"; left=1; }
	done
	for p in $(pgrep -f -- "$E2E_TMP/"); do
		echo "process left: $(ps -o pid=,args= -p "$p")"
		left=1
	done
	return $left
}
step "cleanup: etcd stopped, netns deleted, no weftd/etcd process left" teardown

finish
