#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed and foreign tunnel packets sent to a weft node.
#
#   node 1: weft0, VXLAN (VNI 1, port 4789), knows node 2 (192.168.50.12,
#           VXLAN) and 192.168.50.22 (a second address of node 2, IP-in-IP,
#           route 10.244.22.0/24); pod 1.1 counts UDP to port 9999 with nft
#   node 2: scapy builds each packet and sends it from a raw socket
#
# First two controls: a well-formed VXLAN packet and a well-formed IP-in-IP
# packet must reach pod 1.1 (and move no drop counter). Then, for each case,
# COUNT packets are sent and pod 1.1 must not see any, while weft0's drop
# counter for the expected reason ("weft -j -s link show dev weft0",
# .stats.drops) must grow by exactly COUNT:
#
#   VXLAN with VNI 2                              bad-vni
#   VXLAN flags 0x0c (reserved bit set)           bad-header
#   VXLAN flags 0x00 (I flag missing)             bad-header
#   VXLAN header truncated (4 of 8 bytes)         bad-header
#   inner Ethernet truncated (8 of 14 bytes)      bad-header
#   inner ethertype 0x88b5 (not IP)               proto
#   inner IPv4 header truncated (10 bytes)        bad-header
#   VXLAN from an unknown address (.50.99)        unknown-peer
#   IP-in-IP from an unknown address (.50.99)     unknown-peer
#   IP-in-IP with a truncated inner header        none (tunnel4 drops it
#                                                 before weft sees it)
#
# Needs the weft module, the weft CLI, python3-scapy (/usr/bin/python3).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/topo.sh"

COUNT=${COUNT:-2}

# The packets. scapy builds them (in one process: its import costs a minute
# in a loaded TCG guest), with fixed VTEP MACs (WEFT_FIXED_MAC: node i's
# weft0 is 02:e2:e0:00:00:0i), so the table is cached in
# build/e2e-cache/ (shared with the host) and made again when the generator
# changes. Each line: CASE IPPROTO SRC HEX, HEX being what follows the outer
# IPv4 header; the kernel adds that header (socat IP4-SENDTO, bound to SRC).
GEN_PY='
import sys
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw

node1, node2, unknown, ipip_peer, vtep1, vtep2 = sys.argv[1:7]
pod = "10.244.1.11"

def inner(src="10.244.2.11"):
    return IP(src=src, dst=pod, ttl=64) / UDP(sport=5555, dport=9999) / Raw(b"weft-e2e-malformed")

def vx(src=node2, vni=1, flags=0x08, payload=None):
    if payload is None:
        payload = Ether(dst=vtep1, src=vtep2) / inner()
    return IP(src=src, dst=node1) / UDP(sport=49152, dport=4789) / VXLAN(flags=flags, vni=vni) / payload

def vx_raw(tail, src=node2):
    return IP(src=src, dst=node1) / UDP(sport=49152, dport=4789) / Raw(tail)

def ipip(src, payload):
    return IP(src=src, dst=node1, proto=4) / payload

eth = bytes(Ether(dst=vtep1, src=vtep2, type=0x0800))
cases = [
    ("ok-vxlan", vx()),
    ("ok-ipip", ipip(ipip_peer, inner("10.244.22.5"))),
    ("bad-vni", vx(vni=2)),
    ("flags-0c", vx(flags=0x0C)),
    ("flags-00", vx(flags=0x00)),
    ("trunc-vxlan", vx_raw(b"\x08\x00\x00\x00")),
    ("trunc-eth", vx(payload=Raw(eth[:8]))),
    ("non-ip", vx(payload=Ether(dst=vtep1, src=vtep2, type=0x88B5) / Raw(b"x" * 46))),
    ("trunc-ip", vx(payload=Raw(eth + bytes(inner())[:10]))),
    ("unknown-vxlan", vx(src=unknown)),
    ("unknown-ipip", ipip(unknown, inner("10.244.22.5"))),
    ("trunc-ipip", ipip(ipip_peer, Raw(bytes(inner("10.244.22.5"))[:10]))),
]
for name, p in cases:
    b = bytes(p)
    print(name, p[IP].proto, p[IP].src, b[20:].hex())
'
GEN_ARGS=(192.168.50.11 192.168.50.12 192.168.50.99 192.168.50.22
	02:e2:e0:00:00:01 02:e2:e0:00:00:02)
CACHE_DIR=$E2E_TOP/build/e2e-cache
declare -A PKT_PROTO PKT_SRC PKT_HEX

load_packets()
{
	local key cache name proto src hex

	key=$(printf '%s\n' "$GEN_PY" "${GEN_ARGS[@]}" | md5sum)
	key=${key%% *}
	cache=$CACHE_DIR/malformed-$key.pkts
	if [ ! -s "$cache" ]; then
		echo "building the packets with scapy (no cache $cache)"
		mkdir -p "$CACHE_DIR" 2>/dev/null
		$PY -c "$GEN_PY" "${GEN_ARGS[@]}" >"$E2E_TMP/pkts" || return 1
		cp "$E2E_TMP/pkts" "$cache" 2>/dev/null || cache=$E2E_TMP/pkts
	fi
	while read -r name proto src hex; do
		PKT_PROTO[$name]=$proto
		PKT_SRC[$name]=$src
		PKT_HEX[$name]=$hex
	done <"$cache"
	[ ${#PKT_HEX[@]} -ge 12 ]
}
if [ "${1:-}" = --gen ]; then
	E2E_TMP=$(mktemp -d)
	load_packets && echo "cached in $CACHE_DIR"
	exit
fi

require_root
require_cmd ip nft jq nsenter
if ! have_weft_module; then
	echo "1..0 # SKIP weft module not loaded"
	exit $ksft_skip
fi


cleanup()
{
	topo_cleanup
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT

BACKEND[1]=weft
BACKEND[2]=weft
WEFT_ENCAP=vxlan
WEFT_FIXED_MAC=1
topo_init 2
N1=$(node_ns 1)
N2=$(node_ns 2)

setup()
{
	topo_build && topo_backends || return 1
	ip -n "$N2" addr add 192.168.50.22/24 dev eth0 || return 1
	ip -n "$N2" addr add 192.168.50.99/24 dev eth0 || return 1
	weft_in "$N1" node add 192.168.50.22 dev weft0 encap ipip || return 1
	weft_in "$N1" route add 10.244.22.0/24 via 192.168.50.22 dev weft0 || return 1
	ip -n "$N1" route add 10.244.22.0/24 dev weft0 || return 1
	in_ns "$(pod_ns 1 1)" nft -f - <<-EOF
		table inet e2epod {
		  counter probe {}
		  chain pre { type filter hook prerouting priority 0; policy accept;
		    udp dport 9999 counter name probe
		  }
		}
	EOF
}
step "malformed: the packets, built by scapy (or its cached table)" load_packets
step "malformed: 2 weft nodes, an IP-in-IP node, probe counter in pod 1.1" setup

probe()
{
	in_ns "$(pod_ns 1 1)" nft -j list counter inet e2epod probe 2>/dev/null |
		jq -r '.nftables[] | select(.counter) | .counter.packets'
}

declare -A before now
# drops_into ARRAY: every per-reason drop counter of node 1's weft0 (one CLI
# call: each one costs seconds in a loaded TCG guest) and the probe
drops_into()
{
	local -n arr=$1
	local name n

	arr=()
	while read -r name n; do
		arr[$name]=$n
	done < <(weft_in "$N1" -j -s link show dev weft0 2>/dev/null |
		jq -r '.[0].stats.drops | to_entries[] | "\(.key) \(.value)"' 2>/dev/null)
	arr[probe]=$(probe)
}
snapshot()
{
	drops_into before
}

# send_case CASE: COUNT copies from node 2, from the case's source address
send_case()
{
	local c=$1 hex esc= k

	hex=${PKT_HEX[$c]}
	[ -n "$hex" ] || { echo "no packet $c"; return 1; }
	for ((k = 0; k < ${#hex}; k += 2)); do
		esc+="\\x${hex:k:2}"
	done
	for ((k = 0; k < COUNT; k++)); do
		# shellcheck disable=SC2059
		printf "$esc" | nsenter --net="/run/netns/$N2" socat -u - \
			"IP4-SENDTO:${UL4[1]}:${PKT_PROTO[$c]},bind=${PKT_SRC[$c]}" || return 1
	done
	echo "sent $COUNT x $c (${#hex} hex digits, proto ${PKT_PROTO[$c]}, from ${PKT_SRC[$c]})"
}

# delivered CASE: the controls; the probe counter grows by COUNT
delivered()
{
	local p

	snapshot
	send_case "$1" || return 1
	for _ in 1 2 3 4 5 6; do
		p=$(probe)
		[ -n "$p" ] && [ "$p" -ge $((before[probe] + COUNT)) ] && break
		sleep 0.5
	done
	echo "pod 1.1 probe: ${before[probe]} -> $p"
	[ -n "$p" ] && [ "$p" -eq $((before[probe] + COUNT)) ]
}

# dropped CASE REASON: the pod sees nothing, REASON grows by COUNT, no other
# receive-side reason moves (REASON "none": the kernel drops it before weft)
dropped()
{
	local c=$1 reason=$2 r bad=0

	snapshot
	send_case "$c" || return 1
	sleep 1
	drops_into now
	echo "pod 1.1 probe: ${before[probe]} -> ${now[probe]}"
	[ -n "${now[probe]}" ] && [ "${now[probe]}" -eq "${before[probe]}" ] || bad=1
	for r in bad-header bad-vni unknown-peer proto; do
		echo "drops $r: ${before[$r]:-?} -> ${now[$r]:-?}"
		[ -n "${now[$r]}" ] && [ -n "${before[$r]}" ] || { bad=1; continue; }
		if [ $r = "$reason" ]; then
			[ "${now[$r]}" -eq $((before[$r] + COUNT)) ] || bad=1
		else
			[ "${now[$r]}" -eq "${before[$r]}" ] || bad=1
		fi
	done
	return $bad
}

step "control: well-formed VXLAN from node 2 reaches pod 1.1" delivered ok-vxlan
step "control: well-formed IP-in-IP from the ipip node reaches pod 1.1" delivered ok-ipip
step "VXLAN with VNI 2: not delivered, drop reason bad-vni" dropped bad-vni bad-vni
step "VXLAN flags 0x0c: not delivered, drop reason bad-header" dropped flags-0c bad-header
step "VXLAN flags 0x00 (no I flag): not delivered, bad-header" dropped flags-00 bad-header
step "VXLAN header truncated: not delivered, bad-header" dropped trunc-vxlan bad-header
step "inner Ethernet truncated: not delivered, bad-header" dropped trunc-eth bad-header
step "inner ethertype 0x88b5: not delivered, drop reason proto" dropped non-ip proto
step "inner IPv4 header truncated: not delivered, bad-header" dropped trunc-ip bad-header
step "VXLAN from unknown 192.168.50.99: not delivered, unknown-peer" dropped unknown-vxlan unknown-peer
step "IP-in-IP from unknown 192.168.50.99: not delivered, unknown-peer" dropped unknown-ipip unknown-peer
# tunnel4 pulls the inner IPv4 header before any handler runs: a shorter one
# never reaches weft
step "IP-in-IP, inner IPv4 header truncated: not delivered (tunnel4 drops it)" dropped trunc-ipip none
step "control again: well-formed VXLAN still reaches pod 1.1" delivered ok-vxlan

finish
