#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2016,SC2034,SC2317 # conditions are eval'ed by check()
#
# The weft tool against the real module: run as root, inside a VM where
# weft.ko is loaded. Prints TAP (see lib.sh); exits 1 if a check fails, 4
# (kselftest "skip") if the environment lacks what it needs.
#
#   netns weft-cli-PID
#   +---------------------------------------------+
#   | weft0, weft1 (type weft)                    |
#   | dummy0 192.0.2.1/24 (underlay, not weft)    |
#   | vethA -- vethB (pod host interfaces)        |
#   +---------------------------------------------+
#
# WEFT is the binary to test (default build/manager/weft of this tree).

set -u

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

WEFT=${WEFT:-$WEFT_SELFTESTS_DIR/../../build/manager/weft}
NS=weft-cli-$$
T=$(mktemp -d /tmp/weft-cli.XXXXXX)

cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

skip() {
	echo "1..0 # SKIP $*"
	exit $ksft_skip
}

require_root
require_cmd ip python3
[ -x "$WEFT" ] || skip "no weft binary at $WEFT (set WEFT)"
[ -d /sys/module/weft ] || skip "weft module not loaded"
ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link add weft0 type weft 2>"$T/err" ||
	skip "cannot create a weft link: $(cat "$T/err")"
ip -n "$NS" link add dummy0 type dummy || skip "no dummy links"
ip -n "$NS" addr add 192.0.2.1/24 dev dummy0
ip -n "$NS" link set dummy0 up

# run CMD...: keeps the exit status in $rc, the output in $out and $err.
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# weft in the test namespace.
w() {
	run "$WEFT" -n "$NS" "$@"
}

# check DESC CONDITION...: one TAP line for a shell condition; on failure
# the last command's status and output follow as comments.
check() {
	local desc=$1 crc

	shift
	"$@"
	crc=$?
	if [ $crc -ne 0 ]; then
		info "  exit status $rc"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   stdout: /'
		[ -n "$err" ] && printf '%s\n' "$err" | sed 's/^/#   stderr: /'
	fi
	log_test $crc "$desc"
}

matches() { [[ $1 =~ $2 ]]; }

# json EXPR: EXPR is a Python expression over d, the parsed $out.
json() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$out" "$1" 2>>"$T/err"
}

generation() {
	w -j link show dev weft0
	python3 -c 'import json, sys; print(json.loads(sys.argv[1])[0]["generation"])' "$out"
}

# ---- version and help ----------------------------------------------------------
run "$WEFT" -V
check "weft -V prints the version" matches "$out" '^weft utility, weft-[0-9]'

run "$WEFT" help
check "weft help prints the usage on stdout" \
	eval '[ $rc = 0 ] && matches "$out" "OBJECT := \{ link \| node \| route \| endpoint \}"'

# ---- defaults ------------------------------------------------------------------
w link show
check "link show exits 0" [ "$rc" = 0 ]
check "link show: defaults vni 1 port 4789 mtu 1450" \
	matches "$out" '^[0-9]+: weft0: vni 1 port 4789 mtu 1450'
check "link show: local any, no underlay, crosssubnet off" \
	matches "$out" 'local any underlay none vtep-mac [0-9a-f:]{17} crosssubnet off generation [0-9]+'

w -j link show
check "-j link show is a JSON array with the defaults" json \
	'len(d) == 1 and d[0]["ifname"] == "weft0" and d[0]["vni"] == 1 and d[0]["port"] == 4789 and d[0]["mtu"] == 1450 and d[0]["crosssubnet"] is False and d[0]["local4"] is None and d[0]["local6"] is None and d[0]["underlay"] is None'
check "-j link show: the random vtep-mac is unicast" json \
	'int(d[0]["vtep_mac"].split(":")[0], 16) & 1 == 0'
check "-j link show: all keys" json \
	'set(d[0]) >= {"ifindex", "ifname", "vni", "port", "local4", "local6", "underlay", "vtep_mac", "crosssubnet", "generation", "mtu"}'

run in_ns "$NS" "$WEFT" l sh dev weft0
check "prefixes, and weft run inside the netns: weft l sh dev weft0" \
	eval '[ $rc = 0 ] && matches "$out" "^[0-9]+: weft0: vni 1 "'

# ---- link set --------------------------------------------------------------------
g0=$(generation)
w link set dev weft0 vni 42 port 8472 vtep-mac 02:00:00:00:00:01 crosssubnet on local 192.0.2.1
check "link set exits 0 and prints nothing" eval '[ $rc = 0 ] && [ -z "$out$err" ]'
w link show dev weft0
check "link show reflects vni and port" matches "$out" 'weft0: vni 42 port 8472 mtu'
check "link show reflects local, vtep-mac, crosssubnet" \
	matches "$out" 'local 192.0.2.1 underlay none vtep-mac 02:00:00:00:00:01 crosssubnet on'
g1=$(generation)
check "generation went up by one" [ "$g1" = $((g0 + 1)) ]

w link set weft0 underlay dummy0 local 2001:db8::1
w -j link show dev weft0
check "underlay and local6 set" json \
	'd[0]["underlay"] == "dummy0" and d[0]["local6"] == "2001:db8::1" and d[0]["local4"] == "192.0.2.1"'
w link show dev weft0
check "text shows both locals and the underlay" \
	matches "$out" 'local 192.0.2.1 local 2001:db8::1 underlay dummy0 '

w link set weft0 local any underlay none crosssubnet off
w -j link show dev weft0
check "local any and underlay none clear" json \
	'd[0]["local4"] is None and d[0]["local6"] is None and d[0]["underlay"] is None and d[0]["crosssubnet"] is False'

# ---- errors --------------------------------------------------------------------
g=$(generation)
w link set dev weft0 vni 99999999
check "vni out of range: exit 1" [ "$rc" = 1 ]
check "vni out of range: iproute2-style message" \
	[ "$err" = 'Error: argument "99999999" is wrong: vni must be 0..16777215' ]

w link set dev weft0 vtep-mac 01:00:5e:00:00:01
check "multicast vtep-mac: the kernel refuses, exit 2" [ "$rc" = 2 ]
check "multicast vtep-mac: extack message names WEFT_DEV_A_VTEP_MAC" \
	matches "$err" '^Error: Invalid argument.*WEFT_DEV_A_VTEP_MAC'

w link set dev weft0 vni 7 vtep-mac 01:00:5e:00:00:01
check "a rejected set changes nothing (atomic)" eval '[ $rc = 2 ] && [ "$(generation)" = "$g" ]'
w link show dev weft0
check "vni kept after the rejected set" matches "$out" 'weft0: vni 42 '

w link show dev nosuch
check "link show dev nosuch: exit 1" [ "$rc" = 1 ]
check "link show dev nosuch: Cannot find device" [ "$err" = 'Cannot find device "nosuch"' ]

w link show dev dummy0
check "a device that is not weft: exit 2, EOPNOTSUPP" \
	eval '[ $rc = 2 ] && matches "$err" "^Error: Operation not supported"'

w link bogus
check "unknown command: exit 1" \
	eval '[ $rc = 1 ] && [ "$err" = "Command \"bogus\" is unknown, try \"weft link help\"." ]'

if command -v unshare >/dev/null && unshare -Ur -n true 2>/dev/null; then
	run unshare -Ur -n "$WEFT" link set dev lo vni 5
	check "root of a user namespace: EPERM, exit 2" \
		eval '[ $rc = 2 ] && matches "$err" "^Error: Operation not permitted"'
	run unshare -Ur -n "$WEFT" -j link show
	check "reading needs no privilege" eval '[ $rc = 0 ] && [ "$out" = "[]" ]'
else
	log_skip "root of a user namespace: EPERM" "no unshare -Ur"
fi

# ---- statistics ------------------------------------------------------------------
w -s link show dev weft0
check "-s shows RX and TX counters" \
	eval 'matches "$out" "RX: +bytes packets drops" && matches "$out" "TX: +bytes packets drops"'
w -j -s link show dev weft0
check "-j -s has stats with every drop reason" json \
	'set(d[0]["stats"]["drops"]) == {"no-route", "no-node", "bad-header", "bad-vni", "unknown-peer", "policy", "too-big", "no-memory", "proto", "no-underlay", "encap"} and "bytes" in d[0]["stats"]["rx"]'

# ---- several devices -------------------------------------------------------------
ip -n "$NS" link add weft1 type weft
w -j link show
check "dump lists both devices in ifindex order" json \
	'[x["ifname"] for x in d] == ["weft0", "weft1"] and d[0]["ifindex"] < d[1]["ifindex"]'

# ---- batch -----------------------------------------------------------------------
cat >"$T/batch" <<'EOB'
# configure both devices
link set dev weft0 vni 100
link set weft1 \
    port 4790 "crosssubnet" 'on'
EOB
w -batch "$T/batch"
check "batch: exit 0" [ "$rc" = 0 ]
w -j link show
check "batch: both changes applied" json \
	'd[0]["vni"] == 100 and d[1]["port"] == 4790 and d[1]["crosssubnet"] is True'

printf 'link set dev weft0 vni 101\nlink set dev weft0 vni 99999999\nlink set dev weft0 vni 102\n' >"$T/bad"
w -batch "$T/bad"
check "batch stops at the first error, exit 1" \
	eval '[ $rc = 1 ] && matches "$err" "Command failed $T/bad:2"'
w link show dev weft0
check "batch: the line after the error did not run" matches "$out" 'weft0: vni 101 '

w -force -batch "$T/bad"
check "-force batch goes on" eval '[ $rc = 1 ]'
w link show dev weft0
check "-force batch: the last line ran" matches "$out" 'weft0: vni 102 '

run "$WEFT" -n "$NS" -batch - <<<'link set weft0 vni 103'
w link show dev weft0
check "batch from stdin" matches "$out" 'weft0: vni 103 '

# ---- nodes ---------------------------------------------------------------------
# weft0 and weft1 exist here: node and route commands must name one.
w node add 10.0.0.9
check "node add without dev, two weft devices: exit 1, names them" \
	eval '[ $rc = 1 ] && [ "$err" = "Error: several weft devices (weft0, weft1), name one with \"dev DEV\"." ]'

w node add 10.0.0.2 dev weft0
check "node add exits 0 and prints nothing" eval '[ $rc = 0 ] && [ -z "$out$err" ]'
w node add 10.0.0.3 dev weft0 encap ipip
w node add 2001:db8::4 dev weft0 encap none vtep-mac 02:00:00:00:00:04
w node show dev weft0
check "node show: one line per node" [ "$(printf '%s\n' "$out" | wc -l)" = 3 ]
check "node show: default encap vxlan, no vtep-mac" \
	eval 'printf "%s\n" "$out" | grep -qx "10.0.0.2 dev weft0 encap vxlan"'
check "node show: IPv6 node with encap none and vtep-mac" \
	eval 'printf "%s\n" "$out" | grep -qx "2001:db8::4 dev weft0 encap none vtep-mac 02:00:00:00:00:04"'
w -j node show dev weft0
check "-j node show is valid JSON (json.tool)" \
	eval 'python3 -m json.tool <<<"$out" >/dev/null'
check "-j node show: the three nodes and their keys" json \
	'sorted(x["addr"] for x in d) == ["10.0.0.2", "10.0.0.3", "2001:db8::4"] and all(set(x) == {"addr", "dev", "encap", "vtep_mac"} for x in d)'

w node add 10.0.0.2 dev weft0
check "node add of an existing node: EEXIST, exit 2" \
	eval '[ $rc = 2 ] && matches "$err" "^Error: File exists"'
w node replace 10.0.0.2 dev weft0 encap ipip
w node show dev weft0 10.0.0.2
check "node replace updates the encap" [ "$out" = "10.0.0.2 dev weft0 encap ipip" ]
w node add 10.0.0.2 dev weft0 replace
w node show dev weft0 10.0.0.2
check "node add ... replace: defaults again" [ "$out" = "10.0.0.2 dev weft0 encap vxlan" ]
w -s node show dev weft0 10.0.0.2
check "-s node show: RX and TX counters" \
	eval 'matches "$out" "RX: +bytes packets drops" && matches "$out" "TX: +bytes packets drops"'
w -j -s node show dev weft0 10.0.0.2
check "-j -s node show: stats" json \
	'len(d) == 1 and set(d[0]["stats"]) == {"rx", "tx"} and set(d[0]["stats"]["rx"]) == {"bytes", "packets", "drops"}'

w node add 10.0.0.5 dev weft0 vtep-mac 02:00:00:00:00
check "node add with a bad MAC: exit 1, nothing sent" \
	eval '[ $rc = 1 ] && matches "$err" "^Error: argument \"02:00:00:00:00\" is wrong"'
w node add 10.0.0.5 dev weft0 vtep-mac 01:00:5e:00:00:01
check "node add with a multicast MAC: the kernel refuses, exit 2" \
	eval '[ $rc = 2 ] && matches "$err" "WEFT_NODE_A_VTEP_MAC"'
w node del 10.0.0.5 dev weft0
check "node del of a missing node: ENOENT, exit 2" \
	eval '[ $rc = 2 ] && matches "$err" "^Error: No such file or directory"'
w node show dev dummy0
check "node show on a device that is not weft: exit 2" [ "$rc" = 2 ]

# ---- routes --------------------------------------------------------------------
ip -n "$NS" link del weft1
w route add 10.244.1.0/24 via 10.0.0.2
check "route add without dev uses the only weft device" eval '[ $rc = 0 ] && [ -z "$out$err" ]'
w route add fd00:1::/64 via 10.0.0.3 dev weft0
w route add 10.244.9.9 via 2001:db8::4
w route show
check "route show: one line per route, IPv4 first" \
	[ "$out" = $'10.244.1.0/24 via 10.0.0.2 dev weft0\n10.244.9.9/32 via 2001:db8::4 dev weft0\nfd00:1::/64 via 10.0.0.3 dev weft0' ]
w -j route show
check "-j route show is valid JSON (json.tool)" \
	eval 'python3 -m json.tool <<<"$out" >/dev/null'
check "-j route show: prefix, via, dev" json \
	'd[0] == {"prefix": "10.244.1.0/24", "via": "10.0.0.2", "dev": "weft0"} and len(d) == 3'
w route show fd00:1::/64
check "route show PREFIX: that route only" [ "$out" = "fd00:1::/64 via 10.0.0.3 dev weft0" ]

w route add 10.244.1.1/24 via 10.0.0.2
check "route add with host bits: exit 1 before sending" \
	eval '[ $rc = 1 ] && matches "$err" "bits set beyond its length"'
w route add 10.244.2.0/24 via 10.0.0.77
check "route via a missing node: ENOENT naming WEFT_ROUTE_A_NODE4, exit 2" \
	eval '[ $rc = 2 ] && matches "$err" "^Error: No such file or directory.*WEFT_ROUTE_A_NODE4"'
w route add 10.244.1.0/24 via 10.0.0.3
check "route add of an existing prefix: EEXIST, exit 2" \
	eval '[ $rc = 2 ] && matches "$err" "^Error: File exists"'
w route replace 10.244.1.0/24 via 10.0.0.3
w route show 10.244.1.0/24
check "route replace points the prefix at another node" \
	[ "$out" = "10.244.1.0/24 via 10.0.0.3 dev weft0" ]
w route del 10.244.9.9/32
w route show 10.244.9.9
check "route del removes the route" eval '[ $rc = 0 ] && [ -z "$out" ]'
w node del 10.0.0.3 dev weft0
w route show
check "node del takes its routes along" [ -z "$out" ]
w node add 10.0.0.3 dev weft0

# ---- route batches -------------------------------------------------------------
python3 -c '
for i in range(100000):
    print(f"route add 10.{100 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}/32 via 10.0.0.2")
' >"$T/routes"
t0=${EPOCHREALTIME/./}
w -batch "$T/routes"
t1=${EPOCHREALTIME/./}
info "100000 routes added in $(((t1 - t0) / 1000)) ms"
check "batch of 100000 route adds: exit 0" eval '[ $rc = 0 ] && [ -z "$err" ]'
w route show
check "route show lists the 100000 routes" [ "$(printf '%s\n' "$out" | grep -c '/32 via 10.0.0.2 dev weft0$')" = 100000 ]
check "weft route show | wc -l is 100000" [ "$("$WEFT" -n "$NS" route show | wc -l)" = 100000 ]
# Through a pipe: 6 MB of JSON is too long for an argument (json() uses one).
check "-j route show of 100000 routes is valid JSON" \
	eval '"$WEFT" -n "$NS" -j route show | python3 -c "import json, sys; sys.exit(len(json.load(sys.stdin)) != 100000)"'
sed 's/^route add \([^ ]*\) .*/route del \1/' "$T/routes" >"$T/routes-del"
t0=${EPOCHREALTIME/./}
w -batch "$T/routes-del"
t1=${EPOCHREALTIME/./}
info "100000 routes deleted in $(((t1 - t0) / 1000)) ms"
check "batch of 100000 route dels: exit 0, table empty" \
	eval '[ $rc = 0 ] && [ -z "$("$WEFT" -n "$NS" route show)" ]'

cat >"$T/routes-bad" <<'EOB'
route add 10.250.0.0/24 via 10.0.0.2
route add 10.250.1.0/24 via 10.0.0.2
route add 10.250.2.1/24 via 10.0.0.2
route add 10.250.3.0/24 via 10.0.0.2
EOB
w -batch "$T/routes-bad"
check "batch with a bad prefix on line 3: exit 1, Command failed FILE:3" \
	eval '[ $rc = 1 ] && matches "$err" "is wrong: prefix has bits set" && matches "$err" "Command failed $T/routes-bad:3\$"'
w route show
check "batch: lines 1 and 2 stayed applied, line 4 never ran" \
	[ "$out" = $'10.250.0.0/24 via 10.0.0.2 dev weft0\n10.250.1.0/24 via 10.0.0.2 dev weft0' ]

# 2000 routes fill more than one 64 KiB request: the failing line is in the
# second one.
python3 -c '
for i in range(2000):
    print(f"route add 10.{i >> 8}.{i & 255}.0/24 via 10.0.0.2")
print("route add 10.252.0.0/24 via 10.0.0.99")
print("route add 10.252.1.0/24 via 10.0.0.2")
' >"$T/routes-kernel-bad"
n=$(wc -l <"$T/routes-kernel-bad")
w -batch "$T/routes-kernel-bad"
check "batch: the kernel's error names line $((n - 1)) of $n" \
	eval '[ $rc = 2 ] && matches "$err" "no such node.*WEFT_ROUTE_A_NODE4" && matches "$err" "Command failed $T/routes-kernel-bad:$((n - 1))\$"'
w -j route show
check "batch: the routes before the failing line stayed, the one after did not" json \
	'len(d) == 2 + '"$((n - 2))"' and not any(x["prefix"] == "10.252.1.0/24" for x in d)'
w -force -batch "$T/routes-kernel-bad"
w route show 10.252.1.0/24
check "-force: the lines after a failing route run" \
	[ "$out" = "10.252.1.0/24 via 10.0.0.2 dev weft0" ]

# ---- endpoints (need the kernel's ENDPOINT_* commands) ---------------------------
ip -n "$NS" link add vethA type veth peer name vethB
w endpoint add 10.244.0.5 fd00::5 dev vethA identity 7
check "endpoint add exits 0" eval '[ $rc = 0 ] && [ -z "$out$err" ]'
w endpoint show
check "endpoint show: addresses, host interface, device, identity" \
	[ "$out" = "10.244.0.5 fd00::5 dev vethA weft weft0 identity 7" ]
w -j endpoint show
check "-j endpoint show" json \
	'd == [{"addrs": ["10.244.0.5", "fd00::5"], "dev": "vethA", "ifindex": d[0]["ifindex"], "weft": "weft0", "identity": 7}]'
w endpoint add 10.244.0.5 dev vethB
check "an address of another endpoint: EADDRINUSE, exit 2" \
	eval '[ $rc = 2 ] && matches "$err" "^Error: Address already in use"'
w endpoint add 10.244.0.6 dev vethA
check "endpoint add on a used interface: EEXIST, exit 2" \
	eval '[ $rc = 2 ] && matches "$err" "^Error: File exists"'
w endpoint replace 10.244.0.6 dev vethA
w endpoint show dev vethA
check "endpoint replace: new addresses, identity back to 0" \
	[ "$out" = "10.244.0.6 dev vethA weft weft0 identity 0" ]
w endpoint del 10.244.0.6
w endpoint show
check "endpoint del ADDR removes the endpoint" eval '[ $rc = 0 ] && [ -z "$out" ]'
w endpoint add 10.244.0.7 dev vethA
w endpoint del dev vethA weft weft0
w endpoint show
check "endpoint del dev HOSTIF removes the endpoint" eval '[ $rc = 0 ] && [ -z "$out" ]'
w endpoint add 10.244.0.8 dev vethB
ip -n "$NS" link del vethA
w endpoint show
check "an endpoint goes away with its interface" eval '[ $rc = 0 ] && [ -z "$out" ]'

finish
