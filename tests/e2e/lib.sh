# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers of the weft end-to-end suites (sourced, not run). Builds on the
# selftests' lib.sh: the same "TEST: ... [ OK ]" + TAP lines (log_test,
# run_test, log_skip, info, finish), in_ns and wait_for.
#
# Adds:
#   WEFT            the weft CLI (env WEFT, default build/manager/weft)
#   pcheck DESC CMD...   queue a check; it starts at once in the background
#   pflush               wait for the queued checks, log them in queue order
#   weft_in NS ARGS...   run the weft CLI in a node's netns
#   weft_drop NS REASON  one per-reason drop counter of weft0 (-j -s link show)
#   e2e_dmesg_mark / e2e_dmesg_since: kernel log lines written since the mark

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TOP=$(cd "$E2E_DIR/../.." && pwd)
# shellcheck source=../selftests/lib.sh
source "$E2E_DIR/../selftests/lib.sh"

WEFT=${WEFT:-$E2E_TOP/build/manager/weft}
PY=/usr/bin/python3	# Debian's, which sees python3-scapy

E2E_TMP=${E2E_TMP:-$(mktemp -d /tmp/weft-e2e.XXXXXX)}

# ------------------------------------------------------------ parallel checks
#
# Under TCG most of a check's time is waiting (ping intervals, timeouts), so
# independent checks run concurrently, at most PCHECK_JOBS at a time, and are
# reported in the order they were queued. Each check's output is kept and
# shown as TAP comments when it fails.

PCHECK_JOBS=${PCHECK_JOBS:-8}
_pq_desc=()
_pq_pid=()
_pq_n=0

pcheck()
{
	local desc=$1 id=$_pq_n running

	shift
	[ $_pq_n = 0 ] && _pq_t0=${EPOCHREALTIME/./}
	while running=($(jobs -rp)); [ ${#running[@]} -ge $((PCHECK_JOBS + ${#E2E_BG_PIDS[@]})) ]; do
		wait -n 2>/dev/null || sleep 0.1
	done
	( "$@" >"$E2E_TMP/pq.$id.out" 2>&1; echo $? >"$E2E_TMP/pq.$id.rc" ) &
	_pq_desc[id]=$desc
	_pq_pid[id]=$!
	_pq_n=$((_pq_n + 1))
}

pflush()
{
	local id rc line n

	for ((id = 0; id < _pq_n; id++)); do
		wait "${_pq_pid[id]}" 2>/dev/null
		rc=1
		read -r rc <"$E2E_TMP/pq.$id.rc"
		if [ "$rc" != 0 ]; then
			n=0
			while IFS= read -r line && [ $n -lt 8 ]; do
				echo "# | $line"
				n=$((n + 1))
			done <"$E2E_TMP/pq.$id.out"
		fi
		log_test "$rc" "${_pq_desc[id]}"
	done
	[ $_pq_n -gt 0 ] && info "$_pq_n checks in $(elapsed_ms "$_pq_t0") ms"
	_pq_desc=()
	_pq_pid=()
	_pq_n=0
}

# -------------------------------------------------------------------- weft

weft_in()
{
	in_ns "$1" "$WEFT" "${@:2}"
}

# weft_drop NS REASON: the per-reason drop counter of weft0 in NS ("bad-vni",
# "unknown-peer", ...), from "weft -j -s link show dev weft0"; empty when
# the CLI or the counter is not there.
weft_drop()
{
	weft_in "$1" -j -s link show dev weft0 2>/dev/null |
		jq -r --arg r "$2" '.[0].stats.drops[$r] // empty' 2>/dev/null
}

# weft_stat NS rx|tx packets|bytes|drops
weft_stat()
{
	weft_in "$1" -j -s link show dev weft0 2>/dev/null |
		jq -r --arg d "$2" --arg k "$3" '.[0].stats[$d][$k] // empty' 2>/dev/null
}

# weft_vtep_mac NS [DEV]
weft_vtep_mac()
{
	weft_in "$1" -j link show dev "${2:-weft0}" 2>/dev/null |
		jq -r '.[0].vtep_mac // empty' 2>/dev/null
}

have_weft_module()
{
	[ -d /sys/module/weft ]
}

# ------------------------------------------------------------- kernel log

e2e_dmesg_mark()
{
	E2E_DMESG_MARK=$(dmesg 2>/dev/null | wc -l)
}

e2e_dmesg_since()
{
	dmesg 2>/dev/null | tail -n +$((${E2E_DMESG_MARK:-0} + 1))
}

# ---------------------------------------------------------------- helpers

# elapsed_ms: milliseconds since $1 (an ${EPOCHREALTIME/./} value)
elapsed_ms()
{
	echo $(( (${EPOCHREALTIME/./} - $1) / 1000 ))
}

# step DESCRIPTION COMMAND...: one check, COMMAND's output shown as TAP
# comments; returns COMMAND's status (runs in this shell: side effects stay)
step()
{
	local desc=$1 rc f="$E2E_TMP/step.out"

	local t0=${EPOCHREALTIME/./}

	shift
	"$@" >"$f" 2>&1
	rc=$?
	sed 's/^/# /' "$f"
	info "$(elapsed_ms "$t0") ms"
	log_test $rc "$desc"
	return $rc
}
