#!/bin/sh
# weftd's command line without a kernel: help, version, and bad settings
# (exit 2 and a message naming the option). Usage: weftd_cli_test.sh WEFTD
set -u
weftd=$1
fail=0
check() { # check NAME EXPECTED_STATUS EXPECTED_STDERR_LINE -- ARGS...
	name=$1 want=$2 line=$3
	shift 4
	err=$("$weftd" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, want $want ($err)"; fail=1
	elif [ -n "$line" ] && ! printf '%s\n' "$err" | grep -qxF "$line"; then
		echo "FAIL $name: stderr lacks '$line': $err"; fail=1
	else
		echo "ok $name"
	fi
}
check help 0 "" -- --help
"$weftd" --help | grep -q -- "--etcd-endpoints" || { echo "FAIL help lists options"; fail=1; }
check version 0 "" -- --version
check bad-vni 2 "weftd: --vni: 0 is out of range 1-16777215" -- --node-name n --vni 0
check bad-encap 2 "weftd: --encap: 'gre' is not one of vxlan, ipip, none" -- --node-name n --encap gre
check etcd-needs-endpoints 2 "weftd: --etcd-endpoints: required with --datastore etcd" -- \
	--node-name n --datastore etcd
check unknown-option 2 "Try 'weftd --help' for more information." -- --frobnicate
check missing-config 2 "weftd: --config: cannot read /nonexistent/weftd.conf" -- \
	--config /nonexistent/weftd.conf
exit $fail
