#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the weft end-to-end suites, as root, in a VM (tests/vm/run):
#
#   tests/vm/run --kernel 6.1 -- tests/e2e/run.sh \
#       --module build/kmod/6.1.0-56-amd64/weft.ko --weft build/manager/weft
#   tests/vm/run -- tests/e2e/run.sh --dkms
#
# Options:
#   --module PATH.ko   load weft with insmod PATH.ko
#   --dkms             load weft with modprobe (the DKMS-installed build)
#   --refs             also run the kernel-only reference suites (ref-*) first
#   --no-module        the reference suites only, weft not loaded
#   --weft PATH        the weft CLI (default: $WEFT, else build/manager/weft)
#   --suite NAME       run only this suite (repeatable):
#                        ref-native ref-flannel ref-calico-vxlan ref-calico-ipip
#                        weft-vxlan weft-vxlan6 weft-ipip weft-none
#                        weft-crosssubnet interop malformed teardown weftd
#                        cni cni-faults
#                      (ref-* and weft-* are connectivity.sh --mode ...);
#                      default: every weft-* suite, interop, malformed,
#                      teardown, weftd, cni, cni-faults
#   --nodes N          nodes of the connectivity suites (default 3)
#
# Output is kselftest's: one TAP line per suite, each suite's own TAP
# output passed through as "# " comments, then
#   # suites: N passed, N failed
# Exit status 0 when every suite passed, 1 otherwise.

here=$(cd "$(dirname "$0")" && pwd)
module=
dkms=0
nomodule=0
refs=0
nodes=
only=()

usage()
{
	sed -n '4,29p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--module) module=$(realpath "$2"); shift 2 ;;
	--dkms) dkms=1; shift ;;
	--no-module) nomodule=1; shift ;;
	--refs) refs=1; shift ;;
	--weft) WEFT=$(realpath "$2"); shift 2 ;;
	--suite) only+=("$2"); shift 2 ;;
	--nodes) nodes=$2; shift 2 ;;
	-h|--help) usage ;;
	*) usage ;;
	esac
done
[ -n "$module" ] || [ $dkms = 1 ] || [ $nomodule = 1 ] || usage
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 2; }
WEFT=${WEFT:-$(realpath "$here/../../build/manager/weft")}
export WEFT

suites=()
[ $refs = 1 ] || [ $nomodule = 1 ] && suites+=(ref-native ref-flannel ref-calico-vxlan ref-calico-ipip)
[ $nomodule = 0 ] && suites+=(weft-vxlan weft-vxlan6 weft-ipip weft-none weft-crosssubnet
	interop malformed teardown weftd cni cni-faults)
[ ${#only[@]} -gt 0 ] && suites=("${only[@]}")

suite_cmd()
{
	local n=()

	[ -n "$nodes" ] && n=(--nodes "$nodes")
	case $1 in
	ref-*) cmd=("$here/connectivity.sh" --mode "${1#ref-}" "${n[@]}") ;;
	weft-*) cmd=("$here/connectivity.sh" --mode "$1" "${n[@]}") ;;
	interop) cmd=("$here/interop.sh") ;;
	malformed) cmd=("$here/malformed.sh") ;;
	teardown) cmd=("$here/teardown.sh") ;;
	weftd) cmd=("$here/weftd.sh") ;;
	cni) cmd=("$here/cni.sh") ;;
	cni-faults) cmd=("$here/cni-faults.sh") ;;
	*) return 1 ;;
	esac
}

echo "TAP version 13"
echo "1..$((${#suites[@]} + 1))"

passed=0
failed=0
n=1
dmesg_start=$(dmesg 2>/dev/null | wc -l)
if [ $nomodule = 1 ]; then
	echo "ok $n e2e: weft: load module # SKIP --no-module"
elif [ -d /sys/module/weft ]; then
	echo "# weft already loaded; using it"
	echo "ok $n e2e: weft: module present (loaded before this run)"
elif { if [ $dkms = 1 ]; then modprobe weft; else
	"$here/../../scripts/insmod-weft" "$module"; fi; } 2>&1 |
	sed 's/^/# /'; [ -d /sys/module/weft ]; then
	echo "ok $n e2e: weft: load module"
else
	echo "not ok $n e2e: weft: load module"
	failed=1
fi
info_weft=$("$WEFT" -V 2>&1 | head -1)
echo "# kernel $(uname -r), weft CLI $WEFT: ${info_weft:-missing}"

t_all=$SECONDS
for s in "${suites[@]}"; do
	n=$((n + 1))
	if ! suite_cmd "$s"; then
		echo "not ok $n e2e: $s # unknown suite"
		failed=$((failed + 1))
		continue
	fi
	echo "# e2e: $s"
	t0=$SECONDS
	"${cmd[@]}" 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	echo "# $s: exit $rc, $((SECONDS - t0)) s"
	if [ "$rc" = 0 ]; then
		echo "ok $n e2e: $s"
		passed=$((passed + 1))
	elif [ "$rc" = 4 ]; then
		# The VM has everything a suite needs: a skip is a failure.
		echo "not ok $n e2e: $s # skipped, counted as failed"
		failed=$((failed + 1))
	else
		echo "not ok $n e2e: $s # exit=$rc"
		failed=$((failed + 1))
	fi
done

if bad=$(dmesg 2>/dev/null | tail -n +$((dmesg_start + 1)) |
	grep -E 'WARNING:|BUG:|Oops|unregister_netdevice: waiting|refcount_t:|general protection'); then
	echo "# kernel log:"
	echo "$bad" | head -20 | sed 's/^/#   /'
	echo "# suites: $passed passed, $failed failed, $((SECONDS - t_all)) s; kernel log has splats"
	exit 1
fi

echo "# suites: $passed passed, $failed failed, $((SECONDS - t_all)) s"
[ $failed = 0 ]
