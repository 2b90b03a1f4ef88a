#!/bin/bash
# bench/bench.sh: what `make bench` runs (host side, as root, from anywhere).
#
# Builds weft.ko for the newest installed Debian 6.1 kernel, the weft CLI and
# the static tcpbench, boots ONE `tests/vm/run --bench --kernel 6.1` VM
# (instruction counting: 1 guest ns = 1 instruction) running
# bench/run-guest.sh, then prints the table and writes the JSON.
#
# usage: bench/bench.sh [--json FILE] [--reps N] [--modes "vxlan ipip native"]
#                       [--quick] [--no-profile] [--no-build] [--strict]
#   --json FILE   where the JSON goes (default build/bench/results.json)
#   --reps N      repetitions of each measurement (median reported; default 3)
#   --modes LIST  a subset of "vxlan ipip native"
#   --quick       few iterations (a smoke test of the benchmark, not numbers)
#   --no-profile  skip the perf profiles of the vxlan RR runs
#   --no-build    use what is in build/ as it is
#   --strict      exit 1 when a target is missed
# Iteration counts can be overridden through the environment: RR_N RR_WARM
# CRR_N CRR_WARM STREAM_BYTES STREAM_WARM PROFILE_RR_N.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

OUT=$REPO/build/bench
JSON=$OUT/results.json
REPS=3 MODES="vxlan ipip native" PROFILE=1 BUILD=1 STRICT=0 QUICK=0
while [ $# -gt 0 ]; do
	case $1 in
	--json) JSON=$(realpath -m "$2"); shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--modes) MODES=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--no-profile) PROFILE=0; shift ;;
	--no-build) BUILD=0; shift ;;
	--strict) STRICT=1; shift ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

if [ "$QUICK" = 1 ]; then
	: "${RR_N:=300}" "${RR_WARM:=50}" "${CRR_N:=30}" "${CRR_WARM:=5}"
	: "${STREAM_BYTES:=$((2 << 20))}" "${STREAM_WARM:=$((1 << 20))}" "${PROFILE_RR_N:=500}"
	REPS=1
fi
: "${RR_N:=2000}" "${RR_WARM:=200}" "${CRR_N:=200}" "${CRR_WARM:=20}"
: "${STREAM_BYTES:=$((16 << 20))}" "${STREAM_WARM:=$((4 << 20))}" "${PROFILE_RR_N:=5000}"

bench_kver

mkdir -p "$OUT" "$(dirname "$JSON")"
if [ "$BUILD" = 1 ]; then
	echo "bench: building weft.ko for $KVER, the weft CLI and tcpbench" >&2
	bench_build weft
	gcc -O2 -Wall -Wextra -static -o "$OUT/tcpbench" bench/tcpbench.c
fi

LOG=$OUT/guest.log
rm -f "$OUT"/profile-*.txt
echo "bench: booting the $KVER VM (--bench); this takes several minutes" >&2
start=$SECONDS
set +e
# The guest's watchdog counts guest seconds, which run ahead of the host's
# under icount (9p and idle time): give it room.
tests/vm/run --bench --kernel "$KVER" --timeout 3000 -- \
	env REPS="$REPS" MODES="$MODES" PROFILE="$PROFILE" OUT="$OUT" \
	RR_N="$RR_N" RR_WARM="$RR_WARM" CRR_N="$CRR_N" CRR_WARM="$CRR_WARM" \
	STREAM_BYTES="$STREAM_BYTES" STREAM_WARM="$STREAM_WARM" PROFILE_RR_N="$PROFILE_RR_N" \
	bench/run-guest.sh >"$LOG"
vmrc=$?
set -e
echo "bench: VM done in $((SECONDS - start)) s (status $vmrc); guest output in $LOG" >&2

set +e
python3 bench/report.py "$LOG" "$JSON" --kernel "$KVER" \
	--param reps="$REPS" --param rr_n="$RR_N" --param rr_warm="$RR_WARM" \
	--param crr_n="$CRR_N" --param crr_warm="$CRR_WARM" \
	--param stream_bytes="$STREAM_BYTES" --param stream_warm="$STREAM_WARM"
reprc=$?
set -e
echo "bench: JSON in $JSON" >&2
for f in "$OUT"/profile-*.txt; do
	[ -e "$f" ] || continue
	echo
	echo "== top symbols: $(basename "$f" .txt)"
	grep -E '^ +[0-9.]+%' "$f" | head -n 15
done
[ "$vmrc" = 0 ] && [ "$reprc" = 0 ] || exit 1
if [ "$STRICT" = 1 ]; then
	python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["all_targets_met"] else 1)' "$JSON"
fi
