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
	eval '[ $rc = 0 ] && matches "$out" "OBJECT := \{ link \}"'

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
	'set(d[0]["stats"]["drops"]) == {"no-route", "no-node", "bad-header", "bad-vni", "unknown-peer", "policy", "too-big", "no-memory", "proto"} and "bytes" in d[0]["stats"]["rx"]'

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

finish
