#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The route table's differential self-test: reload weft with selftest=1,
# which checks the LPM trie against a naive linear scan on over a million
# random lookups per family (and walks, removals, 100,000-route bulk
# loads) and refuses to load on any mismatch; then reload it normally.
#
#   route_trie.sh (--module PATH.ko | --dkms)

source "$(dirname "$0")/lib.sh"

load=()
case ${1:-} in
--module) load=("$(dirname "$0")/../../scripts/insmod-weft" "$2") ;;
--dkms) load=(modprobe weft) ;;
*) echo "usage: $0 (--module PATH.ko | --dkms)" >&2; exit 2 ;;
esac
require_root

[ -d /sys/module/weft ] && rmmod weft
mark=$(dmesg | wc -l)
"${load[@]}" selftest=1
log_test $? "weft loads with selftest=1 (self-test passed)"

line=$(dmesg | tail -n +$((mark + 1)) | grep -o 'route trie: [0-9]* lookups ok')
info "${line:-no self-test line in the kernel log}"
lookups=$(echo "$line" | grep -o '[0-9]\+')
[ "${lookups:-0}" -ge 2000000 ]
log_test $? "route trie agrees with the naive reference on >= 1,000,000 lookups per family"

[ "$(cat /sys/module/weft/parameters/selftest 2>/dev/null)" = Y ]
log_test $? "selftest parameter reads back Y"

rmmod weft && "${load[@]}"
log_test $? "weft reloads without the self-test"

finish
