# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Multi-node topology of the weft end-to-end suites (sourced, not run).
#
#             outside netns (203.0.113.10, echo server that answers the
#                  |          peer's address)
#             router netns: 192.168.50.1 fd00:50::1 | 192.168.60.1 fd00:60::1
#                  |                                  |
#   underlay netns: bridge br0 (192.168.50.0/24,     bridge br1 (192.168.60.0/24,
#                   fd00:50::/64)                     fd00:60::/64), only with
#                  |            |                     a second subnet
#          node 1 netns    node 2 netns ...          node N netns
#          eth0 .50.11     eth0 .50.12                eth0 .60.1N
#          vp1, vp2 (host side of the pods' veths, proxy_arp, fe80::1)
#          weft0 | flannel.1 | vxlan.calico | tunl0 | (nothing: native)
#            |       |
#         pod i.1  pod i.2   eth0 10.244.i.11/32 fd00:244:i::11/128
#                            default via 169.254.1.1 (onlink) / fe80::1
#
# Node i: underlay 192.168.50.(10+i) + fd00:50::(10+i) (or .60 / fd00:60::
# on the second subnet), pod CIDRs 10.244.i.0/24 + fd00:244:i::/64, tunnel
# address 10.244.i.0/32 on its overlay device (Flannel's ".0"; Calico's
# tunnel IP), pods 10.244.i.1j and fd00:244:i::1j (j = 1, 2). Every node has
# a default route via the router; an nft masquerade rule for 10.244.0.0/16
# leaving on eth0. The underlay netns counts what each node sends (table
# netdev e2ewire, ingress of n<i>; per peer j: n<i>vx<j> VXLAN/UDP to it,
# n<i>ipip<j> IP-in-IP to it, n<i>nat<j> pod packets without encapsulation).
#
# Backends (BACKEND[i]): weft, flannel, calico-vxlan, calico-ipip, native.
# Weft nodes use WEFT_ENCAP towards other weft nodes:
#   vxlan        node = IPv4 underlay address, VXLAN; IPv4 and IPv6 pods
#   vxlan6       node = IPv6 underlay address, VXLAN over IPv6; IPv4 and IPv6
#   ipip         node = IPv4 underlay address, IP-in-IP; IPv4 pods only
#   none         nodes = both underlay addresses, native; IPv4 and IPv6
#   crosssubnet  nodes = both underlay addresses, VXLAN, crosssubnet on
# and the peer's kind towards other backends (flannel/calico-vxlan: VXLAN to
# its VTEP MAC with its VNI and port, calico-ipip: IP-in-IP, native: none).
#
# API:
#   topo_init N [SUBNET2_NODES...]   names, addresses (N nodes; the listed
#                                    nodes on the second subnet)
#   topo_build                       namespaces, underlay, router, outside,
#                                    pods, echo servers
#   topo_backends                    every node's device, then every pair
#   topo_cleanup                     kill servers, delete every netns
#   carries6 I J                     does traffic between nodes I and J
#                                    carry IPv6 pods?

E2E_PFX=${E2E_PFX:-e2e$$-}
NS_UL=${E2E_PFX}ul
NS_RT=${E2E_PFX}rt
NS_OUT=${E2E_PFX}out
OUT4=203.0.113.10
ECHO_PORT=7
WHO_PORT=8	# outside: answers with the peer's address

declare -a UL4 UL6 BACKEND VTEP_MAC SUBNET
declare -a E2E_BG_PIDS=()
E2E_NODES=0
WEFT_ENCAP=${WEFT_ENCAP:-vxlan}
TOPO_SUBNET2=0

node_ns() { echo "${E2E_PFX}n$1"; }
pod_ns() { echo "${E2E_PFX}n$1p$2"; }
pod4() { echo "10.244.$1.1$2"; }
pod6() { echo "fd00:244:$1::1$2"; }
cidr4() { echo "10.244.$1.0/24"; }
cidr6() { echo "fd00:244:$1::/64"; }
tun4() { echo "10.244.$1.0"; }

topo_init()
{
	local n=$1 i s

	shift
	E2E_NODES=$n
	for ((i = 1; i <= n; i++)); do
		SUBNET[i]=50
		for s in "$@"; do
			[ "$s" = "$i" ] && SUBNET[i]=60 && TOPO_SUBNET2=1
		done
		UL4[i]=192.168.${SUBNET[i]}.$((10 + i))
		UL6[i]=fd00:${SUBNET[i]}::$((10 + i))
		BACKEND[i]=${BACKEND[i]:-native}
	done
}

# _bg NS COMMAND...: a server in NS; nsenter execs COMMAND, so $! is its pid
_bg()
{
	nsenter --net="/run/netns/$1" "${@:2}" </dev/null >/dev/null 2>&1 &
	E2E_BG_PIDS+=($!)
}

# sysctls in a netns, in one process
ns_sysctl()
{
	in_ns "$1" sysctl -qw "${@:2}" >/dev/null
}

topo_build()
{
	local i j ns pns br

	{
		echo "netns add $NS_UL"
		echo "netns add $NS_RT"
		echo "netns add $NS_OUT"
		for ((i = 1; i <= E2E_NODES; i++)); do
			echo "netns add $(node_ns $i)"
			for j in 1 2; do
				echo "netns add $(pod_ns $i $j)"
			done
		done
	} | ip -batch - || return 1

	# underlay bridges and the router
	{
		echo "link set lo up"
		for br in br0 br1; do
			[ $br = br1 ] && [ $TOPO_SUBNET2 = 0 ] && continue
			echo "link add $br type bridge forward_delay 0 mcast_snooping 0"
			echo "link set $br up"
		done
		echo "link add rt0 type veth peer name eth0 netns $NS_RT"
		echo "link set rt0 master br0 up"
		if [ $TOPO_SUBNET2 = 1 ]; then
			echo "link add rt1 type veth peer name eth1 netns $NS_RT"
			echo "link set rt1 master br1 up"
		fi
		for ((i = 1; i <= E2E_NODES; i++)); do
			echo "link add n$i type veth peer name eth0 netns $(node_ns $i)"
			if [ "${SUBNET[i]}" = 60 ]; then
				echo "link set n$i master br1 up"
			else
				echo "link set n$i master br0 up"
			fi
		done
	} | ip -n "$NS_UL" -batch - || return 1

	ns_sysctl "$NS_RT" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	{
		echo "link set lo up"
		echo "link add eth2 type veth peer name eth0 netns $NS_OUT"
		echo "addr add 192.168.50.1/24 dev eth0"
		echo "addr add fd00:50::1/64 dev eth0 nodad"
		echo "link set eth0 up"
		if [ $TOPO_SUBNET2 = 1 ]; then
			echo "addr add 192.168.60.1/24 dev eth1"
			echo "addr add fd00:60::1/64 dev eth1 nodad"
			echo "link set eth1 up"
		fi
		echo "addr add 203.0.113.1/24 dev eth2"
		echo "link set eth2 up"
	} | ip -n "$NS_RT" -batch - || return 1
	{
		echo "link set lo up"
		echo "addr add $OUT4/24 dev eth0"
		echo "link set eth0 up"
		echo "route add default via 203.0.113.1"
	} | ip -n "$NS_OUT" -batch - || return 1

	for ((i = 1; i <= E2E_NODES; i++)); do
		ns=$(node_ns $i)
		{
			echo "link set lo up"
			echo "addr add ${UL4[i]}/24 dev eth0"
			echo "addr add ${UL6[i]}/64 dev eth0 nodad"
			echo "link set eth0 up"
			echo "route add default via 192.168.${SUBNET[i]}.1"
			echo "route add default via fd00:${SUBNET[i]}::1"
			for j in 1 2; do
				echo "link add vp$j type veth peer name eth0 netns $(pod_ns $i $j)"
				echo "addr add fe80::1/64 dev vp$j nodad"
				echo "link set vp$j up"
				echo "route add $(pod4 $i $j)/32 dev vp$j"
				echo "route add $(pod6 $i $j)/128 dev vp$j"
			done
		} | ip -n "$ns" -batch - || return 1
		ns_sysctl "$ns" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
			net.ipv4.conf.eth0.rp_filter=0 \
			net.ipv4.conf.vp1.proxy_arp=1 net.ipv4.conf.vp2.proxy_arp=1 \
			net.ipv4.neigh.vp1.proxy_delay=0 net.ipv4.neigh.vp2.proxy_delay=0 || return 1
		for j in 1 2; do
			pns=$(pod_ns $i $j)
			{
				echo "link set lo up"
				echo "addr add $(pod4 $i $j)/32 dev eth0"
				echo "addr add $(pod6 $i $j)/128 dev eth0 nodad"
				echo "link set eth0 addrgenmode none"
				echo "link set eth0 up"
				echo "route add default via 169.254.1.1 dev eth0 onlink"
				echo "route add default via fe80::1 dev eth0"
			} | ip -n "$pns" -batch - || return 1
		done
		topo_nft_node $i || return 1
	done
	topo_nft_wire || return 1
	topo_servers
}

# masquerade of pod traffic leaving the cluster, and the wire counters
topo_nft_node()
{
	local i=$1 j

	{
		echo "table ip e2enat {"
		echo "  chain post { type nat hook postrouting priority srcnat; policy accept;"
		echo "    oifname \"eth0\" ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade"
		echo "  }"
		echo "}"
	} | in_ns "$(node_ns $i)" nft -f -
}

# The wire counters sit on the underlay's side of each node's cable (netdev
# ingress of n<i> in the underlay netns): they see every frame a node sends,
# however it sends it (weft's native mode does not go through the node's own
# POSTROUTING hook on eth0).
topo_nft_wire()
{
	local i j

	{
		echo "table netdev e2ewire {"
		for ((i = 1; i <= E2E_NODES; i++)); do
			for ((j = 1; j <= E2E_NODES; j++)); do
				[ $j = $i ] && continue
				echo "  counter n${i}vx$j {}"
				echo "  counter n${i}ipip$j {}"
				echo "  counter n${i}nat$j {}"
			done
			echo "  chain in$i { type filter hook ingress device \"n$i\" priority 0; policy accept;"
			for ((j = 1; j <= E2E_NODES; j++)); do
				[ $j = $i ] && continue
				echo "    ip daddr ${UL4[j]} udp dport { 4789, 8472 } counter name n${i}vx$j"
				echo "    ip6 daddr ${UL6[j]} udp dport { 4789, 8472 } counter name n${i}vx$j"
				echo "    ip daddr ${UL4[j]} ip protocol 4 counter name n${i}ipip$j"
				echo "    ip daddr $(cidr4 $j) counter name n${i}nat$j"
				echo "    ip6 daddr $(cidr6 $j) counter name n${i}nat$j"
			done
			echo "  }"
		done
		echo "}"
	} | in_ns "$NS_UL" nft -f -
}

# wire_counts I: node I's counters as "NAME PACKETS" lines (vx2 5, nat3 0...)
wire_counts()
{
	in_ns "$NS_UL" nft -j list counters table netdev e2ewire 2>/dev/null |
		jq -r --arg p "n$1" '.nftables[] | select(.counter) | select(.counter.name | startswith($p)) |
			"\(.counter.name | ltrimstr($p)) \(.counter.packets)"'
}

wire_reset()
{
	[ "$1" = 1 ] || return 0
	in_ns "$NS_UL" nft reset counters table netdev e2ewire >/dev/null 2>&1
}

# Servers: a TCP echo (socat) and a UDP echo on port 7 in every pod, both
# families. The UDP one is a loop in Python: socat's UDP-RECVFROM,fork and
# UDP-LISTEN,fork children share or steal the socket and lose concurrent
# clients' datagrams. On the outside, "who" on port 8 answers each TCP
# connection with the peer's address, and a TCP echo.
SERVER_PY='
import socket, sys
port = int(sys.argv[1])
if sys.argv[2] == "who":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        c, a = s.accept()
        c.sendall((a[0] + "\n").encode())
        c.close()
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", port))
while True:
    d, a = s.recvfrom(65535)
    s.sendto(d, a)
'

topo_servers()
{
	local i j

	for ((i = 1; i <= E2E_NODES; i++)); do
		for j in 1 2; do
			_bg "$(pod_ns $i $j)" socat -T 10 \
				TCP6-LISTEN:$ECHO_PORT,ipv6only=0,reuseaddr,fork PIPE
			_bg "$(pod_ns $i $j)" $PY -c "$SERVER_PY" $ECHO_PORT udp
		done
	done
	_bg "$NS_OUT" $PY -c "$SERVER_PY" $WHO_PORT who
	_bg "$NS_OUT" socat -T 10 TCP-LISTEN:$ECHO_PORT,reuseaddr,fork PIPE
}

# topo_servers_ready: every echo server answers (their start is slow in TCG)
topo_servers_ready()
{
	local i j

	for ((i = 1; i <= E2E_NODES; i++)); do
		for j in 1 2; do
			wait_for 90 ss_listening "$(pod_ns $i $j)" $ECHO_PORT -lun || return 1
		done
	done
	wait_for 90 ss_listening "$NS_OUT" $WHO_PORT -ltn
}

# ss_listening NS PORT -ltn|-lun
ss_listening()
{
	[ -n "$(nsenter --net="/run/netns/$1" ss -H "$3" "sport = :$2" 2>/dev/null)" ]
}

topo_cleanup()
{
	local p ns

	for p in "${E2E_BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait "${E2E_BG_PIDS[@]}" 2>/dev/null
	E2E_BG_PIDS=()
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in
		"$E2E_PFX"*) ip netns del "$ns" 2>/dev/null ;;
		esac
	done
}

# ------------------------------------------------------------------ backends

# the kernel vxlan flavour of the cluster decides weft0's VNI and port
cluster_vxlan()
{
	local i

	for ((i = 1; i <= E2E_NODES; i++)); do
		case ${BACKEND[i]} in
		flannel) echo "1 8472"; return ;;
		calico-vxlan) echo "4096 4789"; return ;;
		esac
	done
	echo "1 4789"
}

# carries6 I J: IPv6 pods between nodes I and J?
carries6()
{
	local a=${BACKEND[$1]} b=${BACKEND[$2]}

	case "$a/$b" in
	native/native) return 0 ;;
	weft/weft) [ "$WEFT_ENCAP" != ipip ] ;;
	*) return 1 ;;
	esac
}

# tunnel address of node I, if its backend has an overlay device
has_tun()
{
	[ "${BACKEND[$1]}" != native ]
}

backend_dev_weft()
{
	local i=$1 ns vni port
	ns=$(node_ns $i)

	read -r vni port < <(cluster_vxlan)
	{
		echo "link add weft0 type weft"
		case $WEFT_ENCAP in
		vxlan6|crosssubnet) echo "link set weft0 mtu 1430" ;;
		esac
		echo "addr add $(tun4 $i)/32 dev weft0"
		echo "link set weft0 up"
	} | ip -n "$ns" -batch - || return 1
	{
		echo "link set dev weft0 vni $vni port $port local ${UL4[i]}"
		echo "link set dev weft0 local ${UL6[i]}"
		[ "$WEFT_ENCAP" = crosssubnet ] && echo "link set dev weft0 crosssubnet on"
		[ -n "${WEFT_FIXED_MAC:-}" ] && printf 'link set dev weft0 vtep-mac 02:e2:e0:00:00:%02x\n' $i
	} | weft_in "$ns" -batch - || return 1
	VTEP_MAC[i]=$(weft_vtep_mac "$ns")
	[ -n "${VTEP_MAC[i]}" ] || { echo "node $i: no vtep mac from weft -j link show"; return 1; }
}

backend_dev_vxlan()
{
	local i=$1 dev=$2 vni=$3 port=$4 ns
	ns=$(node_ns $i)

	VTEP_MAC[i]=$(printf '0e:e2:00:00:%02x:01' $i)
	ip -n "$ns" -batch - <<-EOF || return 1
		link add $dev address ${VTEP_MAC[i]} type vxlan id $vni local ${UL4[i]} dev eth0 dstport $port nolearning
		link set $dev mtu 1450
		addr add $(tun4 $i)/32 dev $dev
		link set $dev up
	EOF
}

backend_dev()
{
	local i=$1 ns
	ns=$(node_ns $i)

	case ${BACKEND[i]} in
	weft) backend_dev_weft $i ;;
	flannel) backend_dev_vxlan $i flannel.1 1 8472 ;;
	calico-vxlan) backend_dev_vxlan $i vxlan.calico 4096 4789 ;;
	calico-ipip)
		# loading ipip creates tunl0 in every netns; create it if not
		ip -n "$ns" link show tunl0 >/dev/null 2>&1 ||
			ip -n "$ns" link add tunl0 type ipip >/dev/null 2>&1 || modprobe ipip 2>/dev/null
		ip -n "$ns" -batch - <<-EOF || return 1
			link set tunl0 mtu 1480
			addr add $(tun4 $i)/32 dev tunl0
			link set tunl0 up
		EOF
		;;
	native) ;;
	*) echo "unknown backend ${BACKEND[i]}"; return 1 ;;
	esac
}

# weft_peer_spec I J: the encap and node addresses weft node I uses for J:
# "ENCAP NODE4 NODE6" (NODE4 carries the IPv4 pods, NODE6 the IPv6 ones;
# "-" for none)
weft_peer_spec()
{
	local j=$2

	case ${BACKEND[j]} in
	flannel|calico-vxlan) echo "vxlan ${UL4[j]} -" ;;
	calico-ipip) echo "ipip ${UL4[j]} -" ;;
	native) echo "none ${UL4[j]} ${UL6[j]}" ;;
	weft)
		case $WEFT_ENCAP in
		vxlan) echo "vxlan ${UL4[j]} ${UL4[j]}" ;;
		vxlan6) echo "vxlan ${UL6[j]} ${UL6[j]}" ;;
		ipip) echo "ipip ${UL4[j]} -" ;;
		none) echo "none ${UL4[j]} ${UL6[j]}" ;;
		crosssubnet) echo "vxlan ${UL4[j]} ${UL6[j]}" ;;
		esac
		;;
	esac
}

# backend_peers_weft I: all of weft node I's peers, one weft batch and one
# ip batch
backend_peers_weft()
{
	local i=$1 j ns encap n4 n6 mac a
	ns=$(node_ns $i)

	for ((j = 1; j <= E2E_NODES; j++)); do
		[ $j = $i ] && continue
		read -r encap n4 n6 < <(weft_peer_spec $i $j)
		mac=
		[ "$encap" = vxlan ] && mac="vtep-mac ${VTEP_MAC[j]}"
		for a in $(printf '%s\n' "$n4" "$n6" | grep -v '^-$' | sort -u); do
			echo "node add $a dev weft0 encap $encap $mac"
		done
		echo "route add $(cidr4 $j) via $n4 dev weft0"
		[ "$n6" != - ] && echo "route add $(cidr6 $j) via $n6 dev weft0"
	done >"$E2E_TMP/weft.$i.batch"
	for ((j = 1; j <= E2E_NODES; j++)); do
		[ $j = $i ] && continue
		read -r encap n4 n6 < <(weft_peer_spec $i $j)
		echo "route add $(cidr4 $j) dev weft0"
		[ "$n6" != - ] && echo "route add $(cidr6 $j) dev weft0"
	done >"$E2E_TMP/ip.$i.batch"
	sed 's/^/weft /' "$E2E_TMP/weft.$i.batch"
	weft_in "$ns" -batch "$E2E_TMP/weft.$i.batch" || return 1
	ip -n "$ns" -batch "$E2E_TMP/ip.$i.batch"
}

backend_peer_vxlan()
{
	local i=$1 j=$2 dev=$3 ns
	ns=$(node_ns $i)

	ip -n "$ns" -batch - <<-EOF || return 1
		route add $(cidr4 $j) via $(tun4 $j) dev $dev onlink
		neigh add $(tun4 $j) lladdr ${VTEP_MAC[j]} dev $dev nud permanent
	EOF
	bridge -n "$ns" fdb add "${VTEP_MAC[j]}" dev "$dev" dst "${UL4[j]}" self permanent
}

backend_peer()
{
	local i=$1 j=$2 ns
	ns=$(node_ns $i)

	case ${BACKEND[i]} in
	flannel) backend_peer_vxlan $i $j flannel.1 ;;
	calico-vxlan) backend_peer_vxlan $i $j vxlan.calico ;;
	calico-ipip) ip -n "$ns" route add "$(cidr4 $j)" via "${UL4[j]}" dev tunl0 onlink ;;
	native)
		ip -n "$ns" route add "$(cidr4 $j)" via "${UL4[j]}" &&
			ip -n "$ns" route add "$(cidr6 $j)" via "${UL6[j]}"
		;;
	esac
}

topo_backends()
{
	local i j

	for ((i = 1; i <= E2E_NODES; i++)); do
		backend_dev $i || { echo "node $i: ${BACKEND[i]} device setup failed"; return 1; }
	done
	for ((i = 1; i <= E2E_NODES; i++)); do
		if [ "${BACKEND[i]}" = weft ]; then
			backend_peers_weft $i ||
				{ echo "node $i (weft): peer setup failed"; return 1; }
			continue
		fi
		for ((j = 1; j <= E2E_NODES; j++)); do
			[ $i = $j ] && continue
			backend_peer $i $j ||
				{ echo "node $i (${BACKEND[i]}): peer $j (${BACKEND[j]}) setup failed"; return 1; }
		done
	done
}

# ------------------------------------------------------------ traffic checks

# ping from a netns: ping_ns NS ADDR (a second try for a slow first
# neighbour resolution)
ping_ns()
{
	nsenter --net="/run/netns/$1" ping -q -n -c 2 -i 0.3 -W 2 -w 6 "$2" >/dev/null 2>&1 ||
		nsenter --net="/run/netns/$1" ping -n -c 1 -W 3 "$2"
}

# the TCP payload: 64 KiB, made once
payload()
{
	if [ -z "${E2E_PAYLOAD_MD5:-}" ]; then
		E2E_PAYLOAD=$E2E_TMP/payload
		head -c 65536 /dev/urandom >"$E2E_PAYLOAD"
		read -r E2E_PAYLOAD_MD5 _ < <(md5sum "$E2E_PAYLOAD")
	fi
}

# tcp_echo NS ADDR [PORT]: 64 KiB through the echo server and back
tcp_echo()
{
	local ns=$1 addr=$2 port=${3:-$ECHO_PORT} got

	[[ $addr == *:* ]] && addr="[$addr]"
	got=$(nsenter --net="/run/netns/$ns" socat -T 5 - \
		"TCP:$addr:$port,connect-timeout=5" <"$E2E_PAYLOAD" | md5sum)
	got=${got%% *}
	[ "$got" = "$E2E_PAYLOAD_MD5" ] || { echo "tcp echo via $addr:$port: md5 $got"; return 1; }
}

# udp_echo NS ADDR: one datagram there and back (3 tries)
udp_echo()
{
	local ns=$1 addr=$2 tok try got

	tok=weft-e2e-$RANDOM$RANDOM
	[[ $addr == *:* ]] && addr="[$addr]"
	for try in 1 2 3; do
		got=$(echo "$tok" | nsenter --net="/run/netns/$ns" socat -T 2 - "UDP:$addr:$ECHO_PORT" 2>/dev/null)
		[ "$got" = "$tok" ] && return 0
	done
	echo "udp echo via $addr: got '$got'"
	return 1
}

# check_pod_pairs [--brief]: pods on different nodes: ping every ordered
# pair (IPv4, and IPv6 where the pair carries it); for every unordered pair
# a 64 KiB TCP echo (full-size segments, PMTU) from the lower node's pod and
# a UDP echo from the other one. --brief: ping and TCP (both directions).
check_pod_pairs()
{
	local brief=0 i j a b

	[ "$1" = --brief ] && brief=1
	payload
	for ((i = 1; i <= E2E_NODES; i++)); do
		for ((j = 1; j <= E2E_NODES; j++)); do
			[ $i = $j ] && continue
			for a in 1 2; do
				for b in 1 2; do
					pcheck "ping pod $i.$a -> pod $j.$b $(pod4 $j $b)" \
						ping_ns "$(pod_ns $i $a)" "$(pod4 $j $b)"
					if carries6 $i $j; then
						pcheck "ping pod $i.$a -> pod $j.$b $(pod6 $j $b)" \
							ping_ns "$(pod_ns $i $a)" "$(pod6 $j $b)"
					fi
					if [ $brief = 1 ]; then
						pcheck "tcp pod $i.$a -> pod $j.$b $(pod4 $j $b)" \
							tcp_echo "$(pod_ns $i $a)" "$(pod4 $j $b)"
						continue
					fi
					[ $i -lt $j ] || continue
					pcheck "tcp pod $i.$a -> pod $j.$b $(pod4 $j $b)" \
						tcp_echo "$(pod_ns $i $a)" "$(pod4 $j $b)"
					pcheck "udp pod $j.$b -> pod $i.$a $(pod4 $i $a)" \
						udp_echo "$(pod_ns $j $b)" "$(pod4 $i $a)"
					carries6 $i $j || continue
					pcheck "tcp pod $i.$a -> pod $j.$b $(pod6 $j $b)" \
						tcp_echo "$(pod_ns $i $a)" "$(pod6 $j $b)"
					pcheck "udp pod $j.$b -> pod $i.$a $(pod6 $i $a)" \
						udp_echo "$(pod_ns $j $b)" "$(pod6 $i $a)"
				done
			done
		done
	done
	pflush
}

# expected_wire I J: what node I puts on the wire for node J's pods:
# vx, ipip or nat (no encapsulation)
expected_wire()
{
	local a=${BACKEND[$1]} b=${BACKEND[$2]}

	case $a/$b in
	*/flannel|*/calico-vxlan|flannel/*|calico-vxlan/*) echo vx ;;
	*/calico-ipip|calico-ipip/*) echo ipip ;;
	*/native|native/*) echo nat ;;
	weft/weft)
		case $WEFT_ENCAP in
		vxlan|vxlan6) echo vx ;;
		ipip) echo ipip ;;
		none) echo nat ;;
		crosssubnet)
			if [ "${SUBNET[$1]}" = "${SUBNET[$2]}" ]; then echo nat; else echo vx; fi ;;
		esac
		;;
	esac
}

# check_wire I J: node I's eth0 counters towards J show only the expected kind
check_wire()
{
	local i=$1 j=$2 want k bad=0 name n
	declare -A cnt

	want=$(expected_wire $i $j)
	while read -r name n; do
		cnt[$name]=$n
	done < <(wire_counts $i)
	for k in vx ipip nat; do
		n=${cnt[$k$j]}
		echo "node $i -> node $j: $k ${n:-?} packets"
		[ -n "$n" ] || return 1
		if [ $k = "$want" ]; then
			[ "$n" -gt 0 ] || bad=1
		else
			[ "$n" -eq 0 ] || bad=1
		fi
	done
	return $bad
}
