# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers of the weft shell selftests (sourced, not run).
#
# Each check prints a kernel-selftest line and a TAP line:
#     TEST: description                                     [ OK ]
#     ok 3 - description
# and the script ends with the TAP plan ("1..N") and exit status 0 (all
# passed), 1 (a failure) or 4 (skipped, kselftest's KSFT_SKIP).

ksft_skip=4

WEFT_SELFTESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Where the C helpers were built (make -C tests/selftests O=...).
WEFT_SELFTESTS_BUILD=${WEFT_SELFTESTS_BUILD:-$WEFT_SELFTESTS_DIR/../../build/selftests}
DEVINFO=$WEFT_SELFTESTS_BUILD/weft_devinfo
DEBUG_OBJECTS=/sys/module/weft/parameters/debug_objects

ntests=0
nfailed=0

echo "TAP version 13"

# log_test RC DESCRIPTION
log_test()
{
	local rc=$1 desc=$2

	ntests=$((ntests + 1))
	if [ "$rc" -eq 0 ]; then
		printf "TEST: %-64s [ OK ]\n" "$desc"
		echo "ok $ntests - $desc"
	else
		nfailed=$((nfailed + 1))
		printf "TEST: %-64s [FAIL]\n" "$desc"
		echo "not ok $ntests - $desc"
	fi
}

log_skip()
{
	ntests=$((ntests + 1))
	printf "TEST: %-64s [SKIP]\n" "$1"
	echo "ok $ntests - $1 # SKIP ${2:-}"
}

# Diagnostics go to stdout as TAP comments.
info()
{
	echo "# $*"
}

# run_test DESCRIPTION COMMAND...: one check from a command's status.
run_test()
{
	local desc=$1 rc t0=${EPOCHREALTIME/./}

	shift
	"$@"
	rc=$?
	t0=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	[ $t0 -ge 2000 ] && info "took $((t0 / 1000)).$((t0 % 1000 / 100)) s"
	log_test $rc "$desc"
}

# finish: the plan and the exit status.
finish()
{
	echo "1..$ntests"
	echo "# $((ntests - nfailed)) passed, $nfailed failed"
	[ "$nfailed" -eq 0 ] || exit 1
	exit 0
}

require_root()
{
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP must run as root"
		exit $ksft_skip
	fi
}

require_cmd()
{
	local c

	for c in "$@"; do
		if ! command -v "$c" >/dev/null; then
			echo "1..0 # SKIP $c not installed"
			exit $ksft_skip
		fi
	done
}

require_weft()
{
	if [ ! -d /sys/module/weft ]; then
		echo "1..0 # SKIP weft module not loaded"
		exit $ksft_skip
	fi
	if [ ! -x "$DEVINFO" ]; then
		echo "1..0 # SKIP $DEVINFO not built (make -C tests/selftests)"
		exit $ksft_skip
	fi
}

# in_ns NETNS COMMAND...: like "ip netns exec" without its mount namespace
# and sysfs remount, which cost seconds under TCG.
in_ns()
{
	nsenter --net="/run/netns/$1" "${@:2}"
}

# devinfo NETNS IFNAME KEY: one value reported by WEFT_CMD_DEV_GET.
devinfo()
{
	local k v

	while read -r k v; do
		[ "$k" = "$3" ] && echo "$v"
	done < <("$DEVINFO" -n "$1" "$2")
}

# devinfo_all NETNS IFNAME: fills the associative array DEV (declare -A DEV).
devinfo_all()
{
	local k v

	DEV=()
	while read -r k v; do
		DEV["$k"]=$v
	done < <("$DEVINFO" -n "$1" "$2")
	[ -n "${DEV[ifindex]}" ]
}

# is_weft NETNS IFNAME: "ip -d link show" names the kind weft.
is_weft()
{
	ip -n "$1" -d link show dev "$2" 2>/dev/null | grep -qE '^ +weft( |$)'
}

# weft_count NETNS: number of weft links in the netns (by kind).
weft_count()
{
	ip -n "$1" -d -o link show 2>/dev/null | grep -cE '\\ +weft( |$)'
}

debug_objects()
{
	cat "$DEBUG_OBJECTS" 2>/dev/null || echo -1
}

# wait_for TIMEOUT_S COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for()
{
	local deadline=$((SECONDS + $1))

	shift
	until "$@"; do
		[ $SECONDS -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

debug_objects_is()
{
	[ "$(debug_objects)" = "$1" ]
}
