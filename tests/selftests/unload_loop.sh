#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load, use and unload the weft module over and over.
#
#   unload_loop.sh (--module PATH.ko | --dkms) [--cycles N] [--shell-cycles M]
#
# Each cycle: load weft; create devices in 3 network namespaces; send
# packets into them (counted as no-route drops); check that the module's
# debug_objects (live devices and dump contexts) is > 0; then
#   odd cycles:  rmmod while the devices exist (and, in the C cycles,
#                packets are still flowing) -> no weft link may survive;
#   even cycles: delete the namespaces first, wait until debug_objects
#                reads 0, then rmmod.
# After each rmmod, lsmod (/proc/modules) must not list weft. The module
# itself WARNs on exit when debug_objects is not 0, and the VM harness fails
# the run on any WARN.
#
#   ulN-PID-1        ulN-PID-2        ulN-PID-3
#   uw0 (up) uw1..   uw0 (up) uw1..   uw0 (up) uw1..
#     10.9.0.0/16 dev uw0 (no weft route: every packet is a no-route drop)
#
# The first M cycles (default 2) use the real tools (insmod or modprobe,
# ip, rmmod, lsmod); the others run in weft_unload, which makes the same
# system calls without an exec per step (an exec costs ~0.25 s under TCG).
# --dkms loads with "modprobe weft" and checks that the module comes from
# /lib/modules/$(uname -r)/updates/dkms/.

source "$(dirname "$0")/lib.sh"

UNLOAD=$WEFT_SELFTESTS_BUILD/weft_unload
cycles=100
shell_cycles=2
module=
dkms=0

usage()
{
	echo "usage: $0 (--module PATH.ko | --dkms) [--cycles N] [--shell-cycles M]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--module) module=$2; shift 2 ;;
	--dkms) dkms=1; shift ;;
	--cycles) cycles=$2; shift 2 ;;
	--shell-cycles) shell_cycles=$2; shift 2 ;;
	*) usage ;;
	esac
done
[ -n "$module" ] || [ $dkms = 1 ] || usage
[ "$shell_cycles" -le "$cycles" ] || shell_cycles=$cycles

require_root
require_cmd ip rmmod modinfo nsenter
if [ ! -x "$UNLOAD" ] || [ ! -x "$DEVINFO" ]; then
	echo "1..0 # SKIP $UNLOAD not built (make -C tests/selftests)"
	exit $ksft_skip
fi

tmp=$(mktemp -d)
namespaces=()
was_loaded=0
[ -d /sys/module/weft ] && was_loaded=1

cleanup()
{
	local ns

	for ns in "${namespaces[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
	# leave the module as we found it
	if [ $was_loaded = 1 ] && [ ! -d /sys/module/weft ]; then
		load_module >/dev/null 2>&1
	fi
}
trap cleanup EXIT

load_module()
{
	if [ $dkms = 1 ]; then
		modprobe weft
	else
		"$(dirname "$0")/../../scripts/insmod-weft" "$module"
	fi
}

# lsmod reads /proc/modules; a bash loop over it spares two execs
is_listed()
{
	local name rest

	while read -r name rest; do
		[ "$name" = weft ] && return 0
	done </proc/modules
	return 1
}

# ------------------------------------------------------ the module file

find_module()
{
	local path kdir

	kdir=/lib/modules/$(uname -r)/updates/dkms/

	if [ $dkms = 1 ]; then
		path=$(modinfo -n weft 2>/dev/null)
		if [ -z "$path" ]; then
			info "modinfo -n weft: not found"
			return 1
		fi
		case $path in
		"$kdir"*) ;;
		*) info "modinfo -n weft: $path, not under $kdir"; return 1 ;;
		esac
	else
		path=$module
		[ -r "$path" ] || { info "$path: not readable"; return 1; }
	fi
	# a copy on tmpfs: the C cycles read it a hundred times
	case $path in
	*.xz) xz -dc "$path" >"$tmp/weft.ko" ;;
	*.zst) zstd -qdc "$path" >"$tmp/weft.ko" ;;
	*.gz) gzip -dc "$path" >"$tmp/weft.ko" ;;
	*) cp "$path" "$tmp/weft.ko" ;;
	esac
}
if [ $dkms = 1 ]; then
	run_test "modinfo -n weft is the DKMS build under updates/dkms/" find_module
else
	run_test "module file $module is readable" find_module
fi
[ $nfailed = 0 ] || finish

unload_first()
{
	[ -d /sys/module/weft ] || return 0
	rmmod weft || return 1
	! is_listed
}
run_test "start from an unloaded module" unload_first
[ $nfailed = 0 ] || finish

# ------------------------------------------------ cycles with the tools

shell_cycle()
{
	local k=$1 ns objs n

	load_module || { info "loading the module failed"; return 1; }
	is_listed || { info "lsmod does not list weft after loading it"; return 1; }
	namespaces=("ul$k-$$-1" "ul$k-$$-2" "ul$k-$$-3")
	printf 'netns add %s\n' "${namespaces[@]}" | ip -batch - || return 1
	for ns in "${namespaces[@]}"; do
		ip -n "$ns" -batch - <<-EOF || return 1
			link add uw0 type weft
			link add uw1 type weft
			link add uw2 type weft
			link add uw3 type weft
			link set uw0 up
			addr add 10.8.0.1/32 dev uw0
			route add 10.9.0.0/16 dev uw0
		EOF
	done
	# traffic into each (exact counts are weft_unload's business)
	for ns in "${namespaces[@]}"; do
		in_ns "$ns" bash -c \
			'for i in 1 2 3; do echo weft >/dev/udp/10.9.0.1/9; done' 2>/dev/null
	done
	n=$(devinfo "$ns" uw0 drop_no_route)
	[ "${n:-0}" -ge 3 ] || { info "$ns: uw0 counted ${n:-no} no-route drops"; return 1; }
	objs=$(debug_objects)
	[ "$objs" -gt 0 ] || { info "debug_objects $objs with devices alive"; return 1; }

	if ((k % 2)); then
		rmmod weft || { info "rmmod with live devices failed"; return 1; }
		for ns in "${namespaces[@]}"; do
			n=$(ip -n "$ns" -o link show) || return 1
			[[ $n != *": uw"* ]] || { info "$ns: uw* links after rmmod: $n"; return 1; }
		done
		printf 'netns del %s\n' "${namespaces[@]}" | ip -batch - || return 1
		namespaces=()
	else
		printf 'netns del %s\n' "${namespaces[@]}" | ip -batch - || return 1
		namespaces=()
		if ! wait_for 30 debug_objects_is 0; then
			info "debug_objects $(debug_objects) after deleting the namespaces"
			return 1
		fi
		rmmod weft || { info "rmmod failed"; return 1; }
	fi
	! is_listed || { info "lsmod lists weft after rmmod"; return 1; }
}

for ((k = 1; k <= shell_cycles; k++)); do
	if ((k % 2)); then
		desc="cycle $k (tools): rmmod with live devices in 3 netns"
	else
		desc="cycle $k (tools): netns deleted, debug_objects 0, then rmmod"
	fi
	run_test "$desc" shell_cycle $k
	if [ $nfailed != 0 ]; then
		[ -d /sys/module/weft ] && rmmod weft 2>/dev/null
		finish
	fi
done

# ------------------------------------------------ cycles in weft_unload

if [ "$cycles" -gt "$shell_cycles" ]; then
	while IFS= read -r line; do
		echo "$line"
		case $line in
		"ok "*) ntests=$((ntests + 1)) ;;
		"not ok "*) ntests=$((ntests + 1)); nfailed=$((nfailed + 1)) ;;
		esac
	done < <("$UNLOAD" --module "$tmp/weft.ko" --first $((shell_cycles + 1)) \
		--tap $((ntests + 1)) --cycles $((cycles - shell_cycles)) 2>&1
		echo "# weft_unload exit $?")
	if [ -d /sys/module/weft ] && [ $was_loaded = 0 ]; then
		rmmod weft 2>/dev/null
	fi
	# a crash of the helper must not pass as success
	if [ "$ntests" -lt $((cycles + 2)) ] && [ $nfailed = 0 ]; then
		log_test 1 "weft_unload ran all its cycles"
	fi
fi

finish
