#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Life cycle of weft links through iproute2: creation in several network
# namespaces, deletion, netns removal, refused netns moves, MTU limits,
# up/down, a no-route drop counted in the device's statistics, and the
# permission rule for user namespaces.
#
#   ns1 (wlc1-PID)            ns2 (wlc2-PID)            ns3 (wlc3-PID)
#   weft0 ... weft15          weft0 ... weft15          weft0 ... weft15
#   wmove (move attempts)     weft0 10.8.0.2/32 up      (deleted whole)
#   weft0 10.8.0.1/32 up        10.9.0.0/16 dev weft0
#     10.9.0.0/16 dev weft0     (deleted with traffic in flight)
#
# Needs root, iproute2, the weft module loaded and weft_devinfo built
# (WEFT_SELFTESTS_BUILD, default ../../build/selftests). Kernel splats and
# "unregister_netdevice: waiting" are caught by the VM harness (tests/vm/run).

source "$(dirname "$0")/lib.sh"

NDEV=16
ns1=wlc1-$$
ns2=wlc2-$$
ns3=wlc3-$$
ns_user=wlcu-$$

cleanup()
{
	local ns

	for ns in $ns1 $ns2 $ns3 $ns_user; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$sender" ] && kill "$sender" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

require_root
require_cmd ip setpriv unshare nsenter sysctl
require_weft

# ---------------------------------------------------------------- create

create_all()
{
	local ns i

	for ns in $ns1 $ns2 $ns3; do
		ip netns add "$ns" || return 1
		# the first one the way an operator does it
		ip -n "$ns" link add weft0 type weft || return 1
		for ((i = 1; i < NDEV; i++)); do
			echo "link add weft$i type weft"
		done | ip -n "$ns" -batch - || return 1
	done
	# no IPv6 autoconf traffic in ns1: its drop counters must be exact
	in_ns "$ns1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}
run_test "ip link add weft0 type weft: $NDEV devices in each of 3 netns" create_all

check_kind()
{
	local ns

	for ns in $ns1 $ns2 $ns3; do
		is_weft "$ns" weft0 || return 1
		is_weft "$ns" weft$((NDEV - 1)) || return 1
	done
}
run_test "ip -d link show reports kind weft" check_kind

check_counts()
{
	local ns n

	for ns in $ns1 $ns2 $ns3; do
		n=$(weft_count "$ns")
		[ "$n" -eq $NDEV ] || { info "$ns: $n weft links by kind"; return 1; }
		n=$("$DEVINFO" -n "$ns" --dump | wc -l)
		[ "$n" -eq $NDEV ] || { info "$ns: DEV_GET dump lists $n"; return 1; }
	done
}
run_test "each netns sees exactly its own $NDEV weft devices" check_counts

declare -A DEV
check_defaults()
{
	local ns

	for ns in $ns1 $ns2 $ns3; do
		devinfo_all "$ns" weft0 || return 1
		[ "${DEV[ifname]}" = weft0 ] && [ "${DEV[vni]}" = 1 ] &&
			[ "${DEV[port]}" = 4789 ] && [ "${DEV[mtu]}" = 1450 ] ||
			{ info "$ns: ${DEV[*]}"; return 1; }
	done
	ip -n "$ns1" link show dev weft0 | grep -q ' mtu 1450 '
}
run_test "DEV_GET of weft0 in each netns: defaults (VNI 1, port 4789, MTU 1450)" check_defaults

check_duplicate()
{
	! ip -n "$ns1" link add weft0 type weft 2>/dev/null &&
		[ "$(weft_count "$ns1")" -eq $NDEV ]
}
run_test "a second weft0 in the same netns is refused" check_duplicate

# ---------------------------------------------------------------- delete

check_del()
{
	ip -n "$ns1" link del weft$((NDEV - 1)) || return 1
	ip -n "$ns1" link show dev weft$((NDEV - 1)) >/dev/null 2>&1 && return 1
	"$DEVINFO" -n "$ns1" weft$((NDEV - 1)) >/dev/null 2>&1 && return 1
	[ "$(weft_count "$ns1")" -eq $((NDEV - 1)) ] || return 1
	# the same name in the other namespaces is untouched
	is_weft "$ns2" weft$((NDEV - 1))
}
run_test "ip link del removes one device, only in its netns" check_del

check_recreate()
{
	ip -n "$ns1" link add weft$((NDEV - 1)) type weft &&
		[ "$(devinfo "$ns1" weft$((NDEV - 1)) vni)" = 1 ]
}
run_test "a deleted name can be created again" check_recreate

# ------------------------------------------------------------ netns move

check_move_refused()
{
	local before after

	ip -n "$ns1" link add wmove type weft || return 1
	before=$(devinfo "$ns1" wmove ifindex)
	if ip -n "$ns1" link set wmove netns "$ns2" 2>/dev/null; then
		info "ip link set wmove netns succeeded"
		return 1
	fi
	ip -n "$ns2" link show dev wmove >/dev/null 2>&1 && return 1
	after=$(devinfo "$ns1" wmove ifindex)
	[ -n "$after" ] && [ "$after" = "$before" ] || return 1
	# and it still works where it is
	ip -n "$ns1" link set wmove up || return 1
	ip -n "$ns1" link set wmove mtu 1300 || return 1
	[ "$(devinfo "$ns1" wmove mtu)" = 1300 ] || return 1
	# down again: one device per VNI and port may be up in a netns
	ip -n "$ns1" link set wmove down
}
run_test "ip link set netns is refused; the device stays and works" check_move_refused

check_move_by_pid_refused()
{
	local pid rc

	sleep 30 &
	pid=$!
	ip -n "$ns1" link set wmove netns "$pid" 2>/dev/null
	rc=$?
	kill "$pid"
	wait "$pid" 2>/dev/null
	[ $rc -ne 0 ] && ip -n "$ns1" link show dev wmove >/dev/null
}
run_test "ip link set netns PID (to the init netns) is refused too" check_move_by_pid_refused

# ------------------------------------------------------------------ MTU

check_mtu()
{
	ip -n "$ns1" link set weft1 mtu 1400 || return 1
	[ "$(devinfo "$ns1" weft1 mtu)" = 1400 ] || return 1
	ip -n "$ns1" link set weft1 mtu 68 || return 1
	[ "$(devinfo "$ns1" weft1 mtu)" = 68 ] || return 1
	ip -n "$ns1" link set weft1 mtu 67 2>/dev/null && return 1
	ip -n "$ns1" link set weft1 mtu 60 2>/dev/null && return 1
	ip -n "$ns1" link set weft1 mtu 70000 2>/dev/null && return 1
	[ "$(devinfo "$ns1" weft1 mtu)" = 68 ]
}
run_test "MTU: 1400 and 68 accepted; 67, 60 and 70000 refused" check_mtu

# --------------------------------------------------------------- up/down

is_up()
{
	ip -n "$1" -o link show dev "$2" | grep -qE '[<,]UP[,>]'
}

check_updown()
{
	ip -n "$ns1" link set weft2 up || return 1
	is_up "$ns1" weft2 || return 1
	ip -n "$ns1" link set weft2 down || return 1
	! is_up "$ns1" weft2 || return 1
	ip -n "$ns1" link set weft2 up && is_up "$ns1" weft2 || return 1
	ip -n "$ns1" link set weft2 down
}
run_test "ip link set up / down / up" check_updown

# Devices of one netns share the VXLAN sockets of a port; the VNI tells
# them apart, so two with the same VNI and port cannot both be up.
check_vni_busy()
{
	local out

	ip -n "$ns1" link set weft2 up || return 1
	out=$(ip -n "$ns1" link set weft3 up 2>&1) && return 1
	info "second device, same VNI and port: $out"
	echo "$out" | grep -q "busy" || return 1
	! is_up "$ns1" weft3 || return 1
	ip -n "$ns1" link set weft2 down &&
	ip -n "$ns1" link set weft3 up && is_up "$ns1" weft3 &&
	ip -n "$ns1" link set weft3 down
}
run_test "same VNI and port on two devices of a netns: the second is busy" check_vni_busy

# ------------------------------------------------------- no-route drops

# send_udp NETNS DST COUNT: COUNT datagrams through the routing table
send_udp()
{
	in_ns "$1" bash -c '
		for ((i = 0; i < $2; i++)); do
			echo weft >/dev/udp/$1/9
		done' - "$2" "$3" 2>/dev/null
	return 0
}

check_no_route()
{
	ip -n "$ns1" link set weft0 up || return 1
	ip -n "$ns1" addr add 10.8.0.1/32 dev weft0 || return 1
	ip -n "$ns1" route add 10.9.0.0/16 dev weft0 || return 1
	send_udp "$ns1" 10.9.0.1 3
	devinfo_all "$ns1" weft0 || return 1
	[ "${DEV[drop_no_route]}" = 3 ] && [ "${DEV[tx_drops]}" = 3 ] &&
		[ "${DEV[rx_drops]}" = 0 ] && return 0
	"$DEVINFO" -n "$ns1" weft0 | grep -E 'drop|tx_|rx_' | sed 's/^/# /'
	return 1
}
run_test "3 packets into weft0 without weft routes: 3 tx drops, reason no_route" check_no_route

check_no_route_other_dev()
{
	# the drops of weft0 in ns1 are not counted on weft0 of ns2
	[ "$(devinfo "$ns2" weft0 drop_no_route)" = 0 ]
}
run_test "drop counters are per device" check_no_route_other_dev

# ------------------------------------------------- delete under traffic

check_del_under_traffic()
{
	ip -n "$ns2" link set weft0 up || return 1
	ip -n "$ns2" addr add 10.8.0.2/32 dev weft0 || return 1
	ip -n "$ns2" route add 10.9.0.0/16 dev weft0 || return 1
	# nsenter execs bash: $! is the loop itself, so the kill below stops it
	nsenter --net="/run/netns/$ns2" bash -c '
		while :; do echo weft >/dev/udp/10.9.1.1/9; done' 2>/dev/null &
	sender=$!
	sleep 0.5
	ip -n "$ns2" link del weft0 || return 1
	sleep 0.2
	kill "$sender"
	wait "$sender" 2>/dev/null
	sender=
	! ip -n "$ns2" link show dev weft0 >/dev/null 2>&1 &&
		[ "$(weft_count "$ns2")" -eq $((NDEV - 1)) ]
}
run_test "ip link del with packets in flight" check_del_under_traffic

# ----------------------------------------------------------- permissions

check_nobody_reads()
{
	in_ns "$ns1" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$DEVINFO" weft0 >/dev/null
}
run_test "an unprivileged user can DEV_GET" check_nobody_reads

check_userns_root()
{
	local out

	# root of a new user namespace: veth works there, weft does not
	# (the errno itself, EPERM, is checked by weft_genl's perm_* tests)
	out=$(unshare -U -r -n sh -c '
		ip link add wu0 type veth peer name wu1 || exit 10
		ip link add weft0 type weft 2>&1 && exit 11
		ip link show dev weft0 >/dev/null 2>&1 && exit 12
		exit 0' 2>&1)
	case $? in
	0) info "refused: $out" ;;
	10) info "veth creation failed in the user namespace: $out"; return 1 ;;
	*) info "weft link created from a user namespace: $out"; return 1 ;;
	esac
}
run_test "unshare -U -r -n: ip link add type weft refused (EPERM)" check_userns_root

check_userns_nobody()
{
	local out rc

	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare -U -r -n sh -c '
		ip link add weft0 type weft 2>&1 && exit 11
		ip link show dev weft0 >/dev/null 2>&1 && exit 12
		exit 0' 2>&1)
	rc=$?
	if echo "$out" | grep -q "unshare failed"; then
		return $ksft_skip
	fi
	info "refused: $out"
	[ $rc -eq 0 ]
}
check_userns_nobody
case $? in
0) log_test 0 "unprivileged user, unshare -U -r -n: weft link refused" ;;
"$ksft_skip") log_skip "unprivileged user, unshare -U -r -n: weft link refused" \
	"unprivileged user namespaces disabled" ;;
*) log_test 1 "unprivileged user, unshare -U -r -n: weft link refused" ;;
esac

# --------------------------------------------------------- netns removal

check_netns_del()
{
	local before

	before=$(debug_objects)

	[ "$before" -ge $NDEV ] || { info "debug_objects $before"; return 1; }
	ip netns del "$ns3" || return 1
	# cleanup_net runs asynchronously
	if ! wait_for 30 eval '[ "$(debug_objects)" -le $((before - NDEV)) ]'; then
		info "debug_objects $before before, $(debug_objects) after"
		return 1
	fi
}
run_test "ip netns del of a netns with $NDEV weft devices frees them" check_netns_del

check_all_gone()
{
	local ns

	for ns in $ns1 $ns2; do
		ip netns del "$ns" || return 1
	done
	# only meaningful when no other weft device exists (init netns, other suites)
	if ! wait_for 30 debug_objects_is 0; then
		info "debug_objects still $(debug_objects); weft links in the init netns:"
		ip -d -o link show | grep -E '\\ +weft( |$)' | sed 's/^/# /'
		return 1
	fi
}
run_test "after deleting every netns, debug_objects returns to 0" check_all_gone

finish
