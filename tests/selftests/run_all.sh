#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every weft kernel selftest suite, as root, in a VM (tests/vm/run):
#
#   tests/vm/run -- tests/selftests/run_all.sh --module build/kmod/KVER/weft.ko
#   tests/vm/run -- tests/selftests/run_all.sh --dkms
#
# Options:
#   --module PATH.ko   load weft with insmod PATH.ko
#   --dkms             load weft with modprobe (the DKMS-installed build)
#   --build DIR        where "make -C tests/selftests O=DIR" put the programs
#                      (default ../../build/selftests)
#   --weft PATH        the weft CLI, passed to cli.sh as WEFT= (default: $WEFT)
#   --cycles N         unload_loop.sh cycles (default 100)
#   --suite NAME       run only this suite (repeatable): weft_genl,
#                      lifecycle, cli, datapath, weft_routes, weft_endpoints,
#                      route_trie, unload_loop
#
# Output is kselftest's: one TAP line per suite, each suite's own TAP
# output passed through as "# " comments, then
#   # suites: N passed, N failed
# Exit status 0 when every suite passed, 1 otherwise.

here=$(cd "$(dirname "$0")" && pwd)
build=${WEFT_SELFTESTS_BUILD:-$here/../../build/selftests}
module=
dkms=0
cycles=100
only=()

usage()
{
	sed -n '4,21p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--module) module=$(realpath "$2"); shift 2 ;;
	--dkms) dkms=1; shift ;;
	--build) build=$(realpath "$2"); shift 2 ;;
	--weft) WEFT=$(realpath "$2"); shift 2 ;;
	--cycles) cycles=$2; shift 2 ;;
	--suite) only+=("$2"); shift 2 ;;
	-h|--help) usage ;;
	*) usage ;;
	esac
done
[ -n "$module" ] || [ $dkms = 1 ] || usage
[ "$(id -u)" = 0 ] || { echo "run_all.sh: must run as root" >&2; exit 2; }
export WEFT_SELFTESTS_BUILD=$build
[ -n "$WEFT" ] && export WEFT

if [ $dkms = 1 ]; then
	load=(--dkms)
else
	load=(--module "$module")
fi

# suites in order: route_trie and unload_loop last, they reload the module
suites=(weft_genl lifecycle)
[ -e "$here/cli.sh" ] && suites+=(cli)
suites+=(datapath weft_routes weft_endpoints route_trie unload_loop)
if [ ${#only[@]} -gt 0 ]; then
	suites=("${only[@]}")
fi

suite_cmd()
{
	case $1 in
	weft_genl) cmd=("$build/weft_genl") ;;
	weft_routes) cmd=("$build/weft_routes") ;;
	weft_endpoints) cmd=("$build/weft_endpoints") ;;
	lifecycle) cmd=("$here/lifecycle.sh") ;;
	cli) cmd=("$here/cli.sh") ;;
	datapath) cmd=("$here/datapath.sh") ;;
	route_trie) cmd=("$here/route_trie.sh" "${load[@]}") ;;
	unload_loop) cmd=("$here/unload_loop.sh" "${load[@]}" --cycles "$cycles") ;;
	*) return 1 ;;
	esac
}

echo "TAP version 13"
echo "1..$((${#suites[@]} + 1))"

passed=0
failed=0
n=0

# the module, loaded once for the suites that need it
n=$((n + 1))
dmesg_start=$(dmesg 2>/dev/null | wc -l)
if [ -d /sys/module/weft ]; then
	echo "# weft already loaded; using it"
	echo "ok $n selftests: weft: load module # SKIP already loaded"
elif { if [ $dkms = 1 ]; then modprobe weft; else "$here/../../scripts/insmod-weft" "$module"; fi; } 2>&1 |
	sed 's/^/# /'; [ -d /sys/module/weft ]; then
	echo "ok $n selftests: weft: load module"
else
	echo "not ok $n selftests: weft: load module"
	echo "# suites: 0 passed, ${#suites[@]} failed (module not loaded)"
	exit 1
fi

for s in "${suites[@]}"; do
	n=$((n + 1))
	if ! suite_cmd "$s"; then
		echo "not ok $n selftests: weft: $s # unknown suite"
		failed=$((failed + 1))
		continue
	fi
	echo "# selftests: weft: $s"
	t0=$SECONDS
	"${cmd[@]}" 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	echo "# $s: exit $rc, $((SECONDS - t0)) s"
	if [ "$rc" = 0 ]; then
		echo "ok $n selftests: weft: $s"
		passed=$((passed + 1))
	elif [ "$rc" = 4 ]; then
		# The VM has everything a suite needs: a skip is a failure.
		echo "not ok $n selftests: weft: $s # skipped, counted as failed"
		failed=$((failed + 1))
	else
		echo "not ok $n selftests: weft: $s # exit=$rc"
		failed=$((failed + 1))
	fi
done

# what the kernel said while we ran (the VM harness judges it too)
if bad=$(dmesg 2>/dev/null | tail -n +$((dmesg_start + 1)) |
	grep -E 'WARNING:|BUG:|Oops|unregister_netdevice: waiting|refcount_t:|general protection'); then
	echo "# kernel log:"
	echo "$bad" | head -20 | sed 's/^/#   /'
	echo "# suites: $passed passed, $failed failed; kernel log has splats"
	exit 1
fi

echo "# suites: $passed passed, $failed failed"
[ $failed = 0 ]
