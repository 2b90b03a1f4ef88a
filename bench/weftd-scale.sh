#!/bin/bash
# bench/weftd-scale.sh: the weftd scale benchmark (host side, as root; run
# by `make bench` after bench/bench.sh).
#
# One real weftd on a one-member etcd in ONE `tests/vm/run --kernel 6.1` VM
# (plain TCG, 2 vCPUs: these are wall-clock times, so no icount); the
# weftd-scale driver registers NODES simulated nodes in etcd, in weftd's own
# record format, and watches weft.ko's route table (bench/weftd-scale-guest.sh).
# Measured:
#   - per node, etcd write -> its block's route in weft.ko (p50, p99, max),
#     and the time until all NODES routes are there
#   - weftd killed (-9) and started again, weft.ko's tables intact: time to
#     /readyz 200, kernel writes it made (should be 0)
#   - the same with weft0 deleted and re-created first: time to /readyz 200
#     and to all routes programmed again
#   - weftd's VmRSS / VmHWM after each phase
# Prints a table and writes JSON.
#
# usage: bench/weftd-scale.sh [--nodes N] [--json FILE] [--quick] [--no-build]
#   --nodes N    simulated nodes (default 5000)
#   --json FILE  where the JSON goes (default build/bench/weftd-scale.json)
#   --quick      300 nodes: a smoke test of the benchmark, not numbers
#   --no-build   use what is in build/ as it is
# Pacing through the environment: BATCH (nodes per batch, 50), INTERVAL_MS
# (between batches, 100), POLL_MS (route dump period, 20), NODES_PER_LEASE
# (500).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

OUT=$REPO/build/bench/weftd-scale
JSON=$REPO/build/bench/weftd-scale.json
NODES=5000 BUILD=1
while [ $# -gt 0 ]; do
	case $1 in
	--nodes) NODES=$2; shift 2 ;;
	--json) JSON=$(realpath -m "$2"); shift 2 ;;
	--quick) NODES=300; shift ;;
	--no-build) BUILD=0; shift ;;
	-h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "weftd-scale.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ $NODES =~ ^[1-9][0-9]*$ ]] || { echo "weftd-scale.sh: --nodes wants a positive number" >&2; exit 2; }
BATCH=${BATCH:-50} INTERVAL_MS=${INTERVAL_MS:-100} POLL_MS=${POLL_MS:-20}
NODES_PER_LEASE=${NODES_PER_LEASE:-500}

bench_kver
[ -x /usr/bin/etcd ] || { echo "weftd-scale.sh: /usr/bin/etcd missing (etcd-server)" >&2; exit 2; }

mkdir -p "$OUT" "$(dirname "$JSON")"
if [ "$BUILD" = 1 ]; then
	echo "weftd-scale: building weft.ko for $KVER, weftd and weftd-scale" >&2
	bench_build weftd weftd-scale
fi

LOG=$OUT/guest.log
echo "weftd-scale: booting the $KVER VM, $NODES nodes; this takes several minutes" >&2
start=$SECONDS
set +e
tests/vm/run --kernel "$KVER" --mem 2048 --timeout 4500 -- \
	env OUT="$OUT" NODES="$NODES" BATCH="$BATCH" INTERVAL_MS="$INTERVAL_MS" \
	POLL_MS="$POLL_MS" NODES_PER_LEASE="$NODES_PER_LEASE" \
	bench/weftd-scale-guest.sh >"$LOG"
vmrc=$?
set -e
echo "weftd-scale: VM done in $((SECONDS - start)) s (status $vmrc); guest output in $LOG" >&2
grep -E '^(# |SCALE-ERROR)' "$LOG" >&2 || true

set +e
python3 - "$OUT" "$JSON" "$KVER" <<'EOF'
import json, os, sys

out, dest, kver = sys.argv[1:4]

def load(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

load_r, kept, empty, rss = (load(n) for n in ("load", "resync-kept", "resync-empty", "rss"))
result = {"kernel": kver, "emulation": "QEMU TCG, 2 vCPUs (wall clock, not icount)",
          "load": load_r, "resync_kept": kept, "resync_empty": empty, "rss_kb": rss}
with open(dest, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")

def ms(v):
    return "-" if v is None else f"{v * 1e3:.0f} ms"

def s(v):
    return "-" if v is None else f"{v:.2f} s"

def metric(r, name):
    return None if not r else r.get("metrics", {}).get(name)

def mib(kb):
    return f"{kb / 1024:.1f} MiB"

rows = []
if load_r:
    lat = load_r["latency_seconds"]
    n = load_r["nodes"]
    rows += [
        (f"etcd write -> route in weft.ko, p50 ({n} nodes)", ms(lat["p50"])),
        ("etcd write -> route in weft.ko, p99", ms(lat["p99"])),
        ("etcd write -> route in weft.ko, max", ms(lat["max"])),
        (f"all {n} routes present (writes: {load_r['batch']} every "
         f"{load_r['interval_ms']} ms, took {s(load_r['write_seconds'])})",
         s(load_r["all_present_seconds"])),
        ("etcd put itself, p50 / p99",
         f"{ms(load_r['put_seconds']['p50'])} / {ms(load_r['put_seconds']['p99'])}"),
        ("routes missing at the end", str(load_r["missing_routes"])),
    ]
    passes = metric(load_r, "weft_reconcile_duration_seconds_count")
    total = metric(load_r, "weft_reconcile_duration_seconds_sum")
    if passes:
        rows.append(("reconcile passes during the load, mean pass",
                     f"{passes:.0f}, {ms(total / passes)}"))
if kept:
    rows += [
        ("restart, tables intact: start -> /readyz 200", s(kept["ready_seconds"])),
        ("restart, tables intact: kernel writes", f"{metric(kept, 'weft_reconcile_writes_total') or 0:.0f}"),
    ]
if empty:
    rows += [
        ("restart, weft0 emptied: start -> /readyz 200", s(empty["ready_seconds"])),
        (f"restart, weft0 emptied: start -> all {empty['expected_routes']} routes",
         s(empty["all_present_seconds"])),
        ("restart, weft0 emptied: kernel writes", f"{metric(empty, 'weft_reconcile_writes_total') or 0:.0f}"),
    ]
if rss:
    for phase, v in rss.items():
        rows.append((f"weftd VmRSS / VmHWM after {phase}", f"{mib(v['vmrss_kb'])} / {mib(v['vmhwm_kb'])}"))

print(f"weftd at scale, kernel {kver}; times are wall clock under QEMU TCG emulation "
      "(2 vCPUs shared with etcd and the driver), several times slower than real hardware")
w = max((len(r[0]) for r in rows), default=10)
print(f"| {'measurement'.ljust(w)} | value |")
print(f"|{'-' * (w + 2)}|-------|")
for k, v in rows:
    print(f"| {k.ljust(w)} | {v} |")
ok = bool(load_r and kept and empty and rss and load_r["missing_routes"] == 0
          and empty["all_present_seconds"] is not None)
sys.exit(0 if ok else 1)
EOF
reprc=$?
set -e
echo "weftd-scale: JSON in $JSON" >&2
[ "$vmrc" = 0 ] && [ "$reprc" = 0 ]
