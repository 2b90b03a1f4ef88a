#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The weft datapath between two nodes: what each device setting does to the
# packets, the counters, PMTU, and that offloads survive the tunnel. Run as
# root where weft.ko is loaded (in a VM); prints TAP (lib.sh).
#
#   pod dpp1 10.244.1.5/32            pod dpp2 10.244.2.5/32
#        fd00:244:1::5/128                 fd00:244:2::5/128
#        | veth, default via 169.254.1.1 / fe80::1
#   node dpn1: weft0 ----- eth0 ===== eth0 ----- weft0 :node dpn2
#         192.168.50.1, fd00:50::1      192.168.50.2, fd00:50::2
#
# The whole connectivity matrix (three nodes, every mode, interop with the
# kernel's own tunnels) is tests/e2e; this suite is about one pair.
#
# WEFT is the weft binary (default build/manager/weft of this tree).

set -u

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

WEFT=${WEFT:-$WEFT_SELFTESTS_DIR/../../build/manager/weft}
N1=dpn1-$$ N2=dpn2-$$ P1=dpp1-$$ P2=dpp2-$$

cleanup() {
	local ns pids

	[ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
	# Nothing started here may outlive the suite (and hold its output).
	for ns in "$P1" "$P2" "$N1" "$N2"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && info "left running in $ns:" $(ps -o comm= -p "$(echo $pids | tr ' ' ,)")
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
trap cleanup EXIT

require_root
require_cmd ip python3 ping iperf3 socat
if [ ! -x "$WEFT" ] || [ ! -d /sys/module/weft ]; then
	echo "1..0 # SKIP needs weft.ko loaded and the weft binary ($WEFT)"
	exit $ksft_skip
fi

n1() { ip netns exec "$N1" "$@"; }
n2() { ip netns exec "$N2" "$@"; }
p1() { ip netns exec "$P1" "$@"; }
p2() { ip netns exec "$P2" "$@"; }

# jq-less JSON access: js NS EXPR runs "weft -j -s ..." output through a
# python expression over d (the parsed document).
wj() {
	local ns=$1 expr=$2

	shift 2
	ip netns exec "$ns" "$WEFT" -j -s "$@" |
		python3 -c "import json,sys; d=json.load(sys.stdin); print($expr)"
}
drops() { wj "$1" "d[0]['stats']['drops']['$2']" link show dev weft0; }
dev_stat() { wj "$1" "d[0]['stats']['$2']['$3']" link show dev weft0; }
node_stat() { wj "$1" "[n for n in d if n['addr'] == '$2'][0]['stats']['$3']['$4']" node show dev weft0; }

setup_node() { # I
	local i=$1 n p

	n=$(eval echo \$N"$i") p=$(eval echo \$P"$i")
	ip netns add "$p"
	ip -n "$n" link set lo up
	ip -n "$p" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$n" addr add 192.168.50."$i"/24 dev eth0
	ip -n "$n" addr add fd00:50::"$i"/64 dev eth0 nodad
	ip -n "$n" link set eth0 up
	# Proxy ARP answers only for targets the node has a route to.
	ip -n "$n" route add default via 192.168.50.254

	ip -n "$n" link add veth0 type veth peer name eth0 netns "$p"
	ip -n "$p" addr add 10.244."$i".5/32 dev eth0
	ip -n "$p" addr add fd00:244:"$i"::5/128 dev eth0 nodad
	ip -n "$p" link set eth0 up
	ip -n "$n" link set veth0 up
	ip -n "$n" addr add fe80::1/64 dev veth0 nodad
	ip netns exec "$n" sysctl -qw net.ipv4.conf.veth0.proxy_arp=1
	ip -n "$p" route add 169.254.1.1 dev eth0
	ip -n "$p" route add default via 169.254.1.1
	ip -n "$p" -6 route add default via fe80::1 dev eth0
	ip -n "$n" route add 10.244."$i".5/32 dev veth0
	ip -n "$n" -6 route add fd00:244:"$i"::5/128 dev veth0

	ip -n "$n" link add weft0 type weft
	ip -n "$n" link set weft0 up
}

mac_of() { wj "$1" "d[0]['vtep_mac']" link show dev weft0; }

# peer I ADDR ENCAP: node I learns the other node at ADDR, and its pods.
peer() {
	local i=$1 addr=$2 encap=$3 n j mac

	n=$(eval echo \$N"$i")
	j=$((3 - i))
	mac=$(mac_of "$(eval echo \$N"$j")")
	ip netns exec "$n" "$WEFT" node add "$addr" dev weft0 encap "$encap" \
		vtep-mac "$mac" &&
	ip netns exec "$n" "$WEFT" route add 10.244."$j".0/24 via "$addr" dev weft0 &&
	ip netns exec "$n" "$WEFT" route add fd00:244:"$j"::/64 via "$addr" dev weft0 &&
	ip -n "$n" route replace 10.244."$j".0/24 dev weft0 &&
	ip -n "$n" -6 route replace fd00:244:"$j"::/64 dev weft0
}

unpeer() { ip netns exec "$(eval echo \$N"$1")" "$WEFT" node del "$2" dev weft0; }

ping4() { p1 ping -c "${1:-1}" -W 2 -i 0.2 10.244.2.5 >/dev/null 2>&1; }
ping6() { p1 ping -6 -c "${1:-1}" -W 2 -i 0.2 fd00:244:2::5 >/dev/null 2>&1; }
no_ping4() { ! p1 ping -c 1 -W 1 10.244.2.5 >/dev/null 2>&1; }

ip netns add "$N1"
ip netns add "$N2"
ip -n "$N1" link add eth0 type veth peer name eth0 netns "$N2"
setup_node 1
setup_node 2
peer 1 192.168.50.2 vxlan
peer 2 192.168.50.1 vxlan
info "weft0 vtep macs: $(mac_of "$N1") $(mac_of "$N2")"

# --- VXLAN over IPv4, the default ---
run_test "vxlan/4: pod to pod, IPv4" ping4 2
run_test "vxlan/4: pod to pod, IPv6" ping6 2

check_node_counters() {
	local tx rx

	tx=$(node_stat "$N1" 192.168.50.2 tx packets)
	rx=$(node_stat "$N2" 192.168.50.1 rx packets)
	info "node counters: n1 tx $tx, n2 rx $rx"
	[ "$tx" -ge 4 ] && [ "$rx" -ge 4 ]
}
run_test "vxlan/4: per-node counters count the packets" check_node_counters

wire_capture() {
	n2 timeout 20 python3 - <<'EOF'
import socket, struct
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0))
while True:
    f = s.recv(2048)
    ip = f[14:]
    if ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    sport, dport, ulen, csum = struct.unpack("!HHHH", ip[ihl:ihl + 8])
    flags, vni = struct.unpack("!II", ip[ihl + 8:ihl + 16])
    inner = ip[ihl + 16:]
    print(dport, hex(flags), vni >> 8, csum, inner[0:6].hex(), hex(struct.unpack("!H", inner[12:14])[0]))
    break
EOF
}
check_wire() {
	local got want

	wire_capture >"$T_WIRE" &
	local pid=$!
	# python starts slowly under emulation; keep pinging until it caught one
	for _ in 1 2 3 4 5 6 7 8; do
		kill -0 $pid 2>/dev/null || break
		ping4 1
	done
	wait $pid
	got=$(cat "$T_WIRE")
	want="4789 0x8000000 1 0 $(mac_of "$N2" | tr -d :) 0x800"
	info "on the wire: $got"
	[ "$got" = "$want" ]
}
T_WIRE=$(mktemp /tmp/weft-dp.XXXXXX)
run_test "vxlan/4: wire: port 4789, I flag only, VNI 1, no UDP csum, peer's MAC" check_wire
rm -f "$T_WIRE"

# --- offloads: GSO leaves weft0 whole, GRO merges what comes in ---
check_offloads() {
	local tx0 txb0 rx0 rxb0 tx txb rx rxb

	p2 iperf3 -s -1 -D -B 10.244.2.5 >/dev/null 2>&1
	sleep 0.5
	tx0=$(dev_stat "$N1" tx packets) txb0=$(dev_stat "$N1" tx bytes)
	rx0=$(dev_stat "$N2" rx packets) rxb0=$(dev_stat "$N2" rx bytes)
	p1 iperf3 -c 10.244.2.5 -t 2 >/dev/null 2>&1 || return 1
	tx=$(($(dev_stat "$N1" tx packets) - tx0)) txb=$(($(dev_stat "$N1" tx bytes) - txb0))
	rx=$(($(dev_stat "$N2" rx packets) - rx0)) rxb=$(($(dev_stat "$N2" rx bytes) - rxb0))
	info "weft0 n1 tx: $txb bytes in $tx packets; n2 rx: $rxb bytes in $rx packets"
	# An average above the MTU (1450) means packets larger than one
	# segment crossed the device in both directions.
	[ "$tx" -gt 0 ] && [ $((txb / tx)) -gt 1450 ] &&
	[ "$rx" -gt 0 ] && [ $((rxb / rx)) -gt 1450 ]
}
run_test "vxlan/4: TCP stream crosses weft0 as GSO and GRO packets" check_offloads

# --- receive validation ---
check_bad_vni() {
	local before after

	before=$(drops "$N2" bad-vni)
	n2 "$WEFT" link set dev weft0 vni 2 || return 1
	no_ping4 || return 1
	after=$(drops "$N2" bad-vni)
	n2 "$WEFT" link set dev weft0 vni 1
	info "bad-vni drops on n2: $before -> $after"
	[ "$after" -gt "$before" ] && ping4 1
}
run_test "vxlan/4: another VNI is dropped as bad-vni, then works again" check_bad_vni

check_unknown_peer() {
	local before after

	before=$(drops "$N2" unknown-peer)
	unpeer 2 192.168.50.1 || return 1
	no_ping4
	local rc=$?
	after=$(drops "$N2" unknown-peer)
	peer 2 192.168.50.1 vxlan
	info "unknown-peer drops on n2: $before -> $after"
	[ $rc = 0 ] && [ "$after" -gt "$before" ] && ping4 1
}
run_test "vxlan/4: packets from a node that is not known: unknown-peer" check_unknown_peer

check_no_route() {
	local before after

	before=$(drops "$N1" no-route)
	ip -n "$N1" route add 10.244.9.0/24 dev weft0
	! p1 ping -c 1 -W 1 10.244.9.9 >/dev/null 2>&1
	after=$(drops "$N1" no-route)
	ip -n "$N1" route del 10.244.9.0/24 dev weft0
	[ "$after" -gt "$before" ]
}
run_test "tx: a destination without a weft route: no-route" check_no_route

# --- the VXLAN port ---
check_port_busy() {
	local out

	# ip netns exec execs socat: $! is socat itself
	ip netns exec "$N1" socat -u UDP-RECV:4790 /dev/null &
	holder=$!
	sleep 0.5
	out=$(n1 "$WEFT" link set dev weft0 port 4790 2>&1) && return 1
	info "port taken: $out"
	kill "$holder"
	wait "$holder" 2>/dev/null
	holder=
	[ "$(wj "$N1" "d[0]['port']" link show dev weft0)" = 4789 ] && ping4 1
}
run_test "port: a port in use is refused, the device keeps working" check_port_busy

check_port_move() {
	n1 "$WEFT" link set dev weft0 port 8472 &&
	n2 "$WEFT" link set dev weft0 port 8472 &&
	ping4 2 && ping6 1 &&
	n1 "$WEFT" link set dev weft0 port 4789 &&
	n2 "$WEFT" link set dev weft0 port 4789
}
run_test "port: both nodes move to 8472 while up, traffic follows" check_port_move

# --- PMTU ---
pmtu_of() { # the PMTU the pod's route learnt towards pod 2
	p1 ip "$1" route get "$2" | sed -n 's/.* mtu \([0-9]*\).*/\1/p' | head -n1
}
check_pmtu4() {
	local mtu want=$1

	p1 ip route flush cache
	# 20 bytes more than fits: within the pod's own MTU (1500).
	p1 ping -c 1 -W 1 -M do -s $((want - 28 + 20)) 10.244.2.5 >/dev/null 2>&1
	p1 ping -c 1 -W 1 -M do -s $((want - 28 + 20)) 10.244.2.5 >/dev/null 2>&1
	mtu=$(pmtu_of -4 10.244.2.5)
	info "IPv4 PMTU learnt: ${mtu:-none}, want $want"
	[ "$mtu" = "$want" ] && p1 ping -c 1 -W 2 -M do -s $((want - 28)) 10.244.2.5 >/dev/null
}
check_pmtu6() {
	local mtu want=$1

	p1 ping -6 -c 1 -W 1 -M do -s $((want - 48 + 20)) fd00:244:2::5 >/dev/null 2>&1
	p1 ping -6 -c 1 -W 1 -M do -s $((want - 48 + 20)) fd00:244:2::5 >/dev/null 2>&1
	mtu=$(pmtu_of -6 fd00:244:2::5)
	info "IPv6 PMTU learnt: ${mtu:-none}, want $want"
	[ "$mtu" = "$want" ] && p1 ping -6 -c 1 -W 2 -M do -s $((want - 48)) fd00:244:2::5 >/dev/null
}
run_test "pmtu: too big for weft0 (1450): IPv4 frag-needed, PMTU 1450" check_pmtu4 1450
run_test "pmtu: too big for weft0 (1450): IPv6 packet-too-big, PMTU 1450" check_pmtu6 1450

check_mtu_follows() {
	n1 "$WEFT" link set dev weft0 underlay eth0 || return 1
	ip -n "$N1" link set eth0 mtu 1400 || return 1
	ip -n "$N2" link set eth0 mtu 1400
	[ "$(ip -n "$N1" -o link show dev weft0 | sed 's/.* mtu \([0-9]*\).*/\1/')" = 1350 ]
}
run_test "mtu: weft0 follows its underlay (eth0 1400 -> weft0 1350)" check_mtu_follows
run_test "pmtu: IPv4 PMTU becomes 1350" check_pmtu4 1350
ip -n "$N1" link set eth0 mtu 1500
ip -n "$N2" link set eth0 mtu 1500

# --- VXLAN over IPv6 ---
unpeer 1 192.168.50.2
unpeer 2 192.168.50.1
peer 1 fd00:50::2 vxlan
peer 2 fd00:50::1 vxlan
run_test "vxlan/6: pod to pod, IPv4" ping4 2
run_test "vxlan/6: pod to pod, IPv6" ping6 2
run_test "vxlan/6: per-node counters" \
	test "$(node_stat "$N1" fd00:50::2 tx packets)" -ge 4

# --- IP-in-IP ---
unpeer 1 fd00:50::2
unpeer 2 fd00:50::1
peer 1 192.168.50.2 ipip
peer 2 192.168.50.1 ipip
run_test "ipip: pod to pod, IPv4" ping4 2
check_ipip_v6() {
	local before after

	before=$(drops "$N1" encap)
	! ping6 1 || return 1
	after=$(drops "$N1" encap)
	[ "$after" -gt "$before" ]
}
run_test "ipip: IPv6 pods cannot ride IP-in-IP: dropped as encap" check_ipip_v6

# ipip.ko next to weft: a plain IP-in-IP tunnel between other addresses of
# the same nodes keeps working, and weft neither takes nor counts it.
check_ipip_coexists() {
	local before after

	ip -n "$N1" addr add 192.168.51.1/24 dev eth0 &&
	ip -n "$N2" addr add 192.168.51.2/24 dev eth0 &&
	ip -n "$N1" link add ipt0 type ipip local 192.168.51.1 remote 192.168.51.2 &&
	ip -n "$N2" link add ipt0 type ipip local 192.168.51.2 remote 192.168.51.1 &&
	ip -n "$N1" addr add 172.31.0.1/30 dev ipt0 &&
	ip -n "$N2" addr add 172.31.0.2/30 dev ipt0 &&
	ip -n "$N1" link set ipt0 up && ip -n "$N2" link set ipt0 up || return 1
	before=$(drops "$N2" unknown-peer)
	n1 ping -c 2 -W 2 -i 0.2 172.31.0.2 >/dev/null || return 1
	after=$(drops "$N2" unknown-peer)
	info "ipip.ko tunnel works; weft unknown-peer on n2: $before -> $after"
	[ "$after" = "$before" ] &&
	[ "$(ip -n "$N2" -s -j link show ipt0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])')" -ge 2 ] &&
	ping4 1
}
run_test "ipip: an ipip.ko tunnel next to weft keeps working" check_ipip_coexists
ip -n "$N1" link del ipt0 2>/dev/null
ip -n "$N2" link del ipt0 2>/dev/null

# --- native and cross-subnet ---
unpeer 1 192.168.50.2
unpeer 2 192.168.50.1
peer 1 192.168.50.2 none
peer 2 192.168.50.1 none
run_test "native: pod to pod, IPv4" ping4 2

unpeer 1 192.168.50.2
unpeer 2 192.168.50.1
peer 1 192.168.50.2 vxlan
peer 2 192.168.50.1 vxlan
check_crosssubnet() {
	local rx0 rx

	n1 "$WEFT" link set dev weft0 crosssubnet on &&
	n2 "$WEFT" link set dev weft0 crosssubnet on || return 1
	rx0=$(dev_stat "$N2" rx packets)
	ping4 3 || return 1
	rx=$(dev_stat "$N2" rx packets)
	info "n2 weft0 rx packets $rx0 -> $rx (native traffic bypasses it)"
	[ "$rx" = "$rx0" ]
}
run_test "crosssubnet: a peer on the local subnet is reached natively" check_crosssubnet
check_crosssubnet_v6_pods() {
	local rx0 rx

	rx0=$(dev_stat "$N2" rx packets)
	ping6 2 || return 1
	rx=$(dev_stat "$N2" rx packets)
	[ "$rx" -gt "$rx0" ]
}
run_test "crosssubnet: IPv6 pods to an IPv4 node still use VXLAN" check_crosssubnet_v6_pods

finish
