#!/bin/bash
# bench/cni-bench.sh: weft-cni's ADD and DEL cost against the reference
# bridge + host-local plugins, in instructions (host side, as root; run by
# `make bench` after bench/weftd-scale.sh).
#
# Builds weft.ko for the newest installed Debian 6.1 kernel, weftd, weft-cni
# and the static bench/cni-timer, boots ONE `tests/vm/run --bench --kernel
# 6.1` VM (icount: 1 guest ns = 1 instruction) running
# bench/cni-bench-guest.sh: one weftd (embedded datastore), then PODS ADDs and
# PODS DELs of each plugin, exec'd as a container runtime execs them,
# alternating between the two. Per exec: "instructions" = CPU time of the
# plugin's process tree + weftd's meanwhile (guest ns of CPU = instructions)
# and "latency" = guest ns fork..waitpid (instructions plus idle time warped
# over, e.g. RCU grace periods a veth deletion waits for). Prints p50 / p99 /
# mean per verb and plugin, the weft / reference ratio against the targets
# (ADD <= 5 M instructions and <= 0.5x the reference, judged on the
# instructions' p50), a breakdown of weft-cni's cost, and writes JSON.
#
# usage: bench/cni-bench.sh [--pods N] [--json FILE] [--quick] [--no-build] [--strict]
#                           [--alt-cni FILE]
#   --pods N     pods per plugin (default 1000)
#   --json FILE  where the JSON goes (default build/bench/cni-bench.json)
#   --quick      50 pods, 10 breakdown repetitions: a smoke test
#   --no-build   use what is in build/ as it is
#   --strict     exit 1 when a target is missed
#   --alt-cni FILE  also measure this weft-cni build ("alt": ADD/DEL of
#                ALT_PODS pods, default 200, alternating with the one under
#                test, "cur", after the main run; not in the verdict)
# Environment: EXTRA_REPS (repetitions of the breakdown measurements, 50),
# ALT_PODS.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

OUT=$REPO/build/bench
JSON=$OUT/cni-bench.json
PODS=1000 BUILD=1 STRICT=0 ALT=""
EXTRA_REPS=${EXTRA_REPS:-50} ALT_PODS=${ALT_PODS:-200}
while [ $# -gt 0 ]; do
	case $1 in
	--pods) PODS=$2; shift 2 ;;
	--json) JSON=$(realpath -m "$2"); shift 2 ;;
	--quick) PODS=50 EXTRA_REPS=10 ALT_PODS=20; shift ;;
	--no-build) BUILD=0; shift ;;
	--strict) STRICT=1; shift ;;
	--alt-cni) ALT=$(realpath "$2"); shift 2 ;;
	-h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "cni-bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
if ! [[ $PODS =~ ^[1-9][0-9]*$ ]] || [ "$PODS" -gt 3000 ]; then
	echo "cni-bench.sh: --pods wants 1..3000 (a /20 block and subnet: 4094 addresses)" >&2
	exit 2
fi

bench_kver
for f in /usr/lib/cni/bridge /usr/lib/cni/host-local; do
	[ -x "$f" ] || { echo "cni-bench.sh: $f missing (containernetworking-plugins)" >&2; exit 2; }
done

mkdir -p "$OUT" "$(dirname "$JSON")"
if [ "$BUILD" = 1 ]; then
	echo "cni-bench: building weft.ko for $KVER, weftd, weft-cni and cni-timer" >&2
	bench_build weftd weft-cni
	gcc -O2 -Wall -Wextra -static -o "$OUT/cni-timer" bench/cni-timer.c
fi

ALT_ENV=()
if [ -n "$ALT" ]; then
	# the guest sees the host's root, but build/ is the one place sure to be
	cp "$ALT" "$OUT/weft-cni-alt"
	ALT_ENV=(ALT_CNI="$OUT/weft-cni-alt" ALT_PODS="$ALT_PODS")
fi
LOG=$OUT/cni-guest.log
echo "cni-bench: booting the $KVER VM (--bench), $PODS pods per plugin" >&2
start=$SECONDS
set +e
tests/vm/run --bench --kernel "$KVER" --mem 2048 --timeout 5400 -- \
	env PODS="$PODS" EXTRA_REPS="$EXTRA_REPS" "${ALT_ENV[@]}" bench/cni-bench-guest.sh >"$LOG"
vmrc=$?
set -e
wall=$((SECONDS - start))
echo "cni-bench: VM done in $wall s (status $vmrc); guest output in $LOG" >&2
grep -E '^(# |CNI-ERROR)' "$LOG" >&2 || true

set +e
python3 - "$LOG" "$JSON" "$KVER" "$wall" <<'EOF'
import json, sys

log, dest, kver, wall = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# S NAME VERB INDEX NS [CPU WEFTD]: per exec, guest ns fork..wait (latency),
# the plugin process tree's CPU ns, weftd's CPU ns meanwhile
raw, facts, done = {}, {}, False
for line in open(log, errors="replace"):
    f = line.split()
    if len(f) in (5, 7) and f[0] == "S":
        ns = int(f[4])
        cpu, wd = (int(f[5]), int(f[6])) if len(f) == 7 else (None, None)
        raw.setdefault((f[1], f[2]), []).append((ns, cpu, wd))
    elif len(f) >= 3 and f[0] == "T":
        facts[f[1]] = f[2]
    elif f[:1] == ["CNI-DONE"]:
        done = True

def stats(v):
    v = [x for x in v if x is not None]
    if not v:
        return None
    s = sorted(v)
    pct = lambda p: s[min(len(s) - 1, max(0, -(-len(s) * p // 100) - 1))]  # nearest rank
    return {"n": len(s), "p50": pct(50), "p99": pct(99), "mean": sum(s) / len(s),
            "min": s[0], "max": s[-1]}

def metrics(key):
    v = raw.get(key, [])
    if not v:
        return None
    m = {"latency": stats([x[0] for x in v])}
    if v[0][1] is not None:
        m["instructions"] = stats([x[1] + x[2] for x in v])
        # growth with the number of pods: the first and the last tenth
        t = max(1, len(v) // 10)
        m["instructions"]["first_tenth_mean"] = sum(x[1] + x[2] for x in v[:t]) / t
        m["instructions"]["last_tenth_mean"] = sum(x[1] + x[2] for x in v[-t:]) / t
        m["plugin_cpu"] = stats([x[1] for x in v])
        m["weftd_cpu"] = stats([x[2] for x in v])
    return m

def M(x):
    return "-" if x is None else f"{x / 1e6:.2f} M"

ADD_MAX, RATIO_MAX = 5e6, 0.5
res = {}
for verb in ("ADD", "DEL"):
    w, r = metrics(("weft", verb)), metrics(("ref", verb))
    e = {"weft": w, "reference": r}
    if w and r:
        for kind in ("instructions", "latency"):
            if kind in w and kind in r:
                e[f"ratio_{kind}"] = {k: w[kind][k] / r[kind][k] for k in ("p50", "p99", "mean")}
    res[verb] = e
# The verdict: instructions (CPU of the plugin's processes + weftd) when
# measured, else the latency (an older cni-timer).
main = "instructions" if res["ADD"].get("ratio_instructions") else "latency"

targets = {}
if res["ADD"].get(f"ratio_{main}"):
    v = res["ADD"]["weft"][main]["p50"]
    rr = res["ADD"][f"ratio_{main}"]["p50"]
    targets["add_p50_max_instructions"] = {"metric": main, "target": ADD_MAX, "value": v, "met": v <= ADD_MAX}
    targets["add_ratio_p50_max"] = {"metric": main, "target": RATIO_MAX, "value": rr, "met": rr <= RATIO_MAX}
all_met = bool(targets) and all(t["met"] for t in targets.values())

brk = {}
for name, verb, key in (("noop", "VERSION", "static_noop_exec"), ("weft", "VERSION", "weft_cni_version"),
                        ("alt", "VERSION", "alt_weft_cni_version"), ("ref", "VERSION", "bridge_version"), ("host-local", "VERSION", "host_local_version"),
                        ("rpc-status", "RPC", "weftd_rpc_status"), ("rpc-allocate", "RPC", "weftd_rpc_allocate"),
                        ("rpc-release", "RPC", "weftd_rpc_release")):
    m = metrics((name, verb))
    if m:
        brk[key] = m
alt = {}
for verb in ("ADD", "DEL"):
    a, c = metrics(("alt", verb)), metrics(("cur", verb))
    if a and c:
        alt[verb] = {"alt": a, "cur": c}
out = {"kernel": kver, "pods": int(facts.get("pods", 0)),
       "emulation": "QEMU TCG -icount shift=0,sleep=off -smp 1: 1 guest ns = 1 instruction",
       "metrics": {"instructions": "CPU time (ns = instructions) of the plugin's process tree "
                                   "(wait4 rusage) plus weftd's meanwhile (schedstat)",
                   "latency": "guest ns from fork to waitpid: instructions of everything that ran "
                              "plus idle time warped over (RCU grace periods, timers)"},
       "verdict_metric": main, "results": res, "targets": targets, "all_targets_met": all_met,
       "breakdown": brk, "alt_cni": alt or None, "run_guest_seconds": float(facts.get("run_guest_seconds", 0) or 0),
       "weftd_vmrss_kb": int(facts.get("weftd_vmrss_kb", 0) or 0),
       "vm_wall_seconds": wall, "complete": done}
with open(dest, "w") as fh:
    json.dump(out, fh, indent=2)
    fh.write("\n")

print(f"weft-cni vs bridge + host-local, kernel {kver}, {out['pods']} pods each, per exec "
      "(icount: M = 10^6 instructions or guest ns)")
print("| verb | plugin | instructions p50 | p99 | mean | latency p50 | p99 | weft/ref p50 (insns, latency) | target | met? |")
print("|---|---|---|---|---|---|---|---|---|---|")
for verb in ("ADD", "DEL"):
    e = res[verb]
    for who, label in (("weft", "weft-cni"), ("reference", "bridge + host-local")):
        m = e[who]
        if not m:
            print(f"| {verb} | {label} | - | - | - | - | - | | | |")
            continue
        i = m.get("instructions") or {}
        l = m["latency"]
        ratio = tgt = met = ""
        if who == "weft":
            ri, rl = e.get("ratio_instructions"), e.get("ratio_latency")
            ratio = f"{ri['p50']:.2f}x, {rl['p50']:.2f}x" if ri else (f"-, {rl['p50']:.2f}x" if rl else "")
            if verb == "ADD" and targets:
                tgt = "<= 5 M, <= 0.50x"
                met = "yes" if all_met else "no"
        print(f"| {verb} | {label} | {M(i.get('p50'))} | {M(i.get('p99'))} | {M(i.get('mean'))} "
              f"| {M(l['p50'])} | {M(l['p99'])} | {ratio} | {tgt} | {met} |")
w = res["ADD"].get("weft") or {}
if "plugin_cpu" in w:
    print()
    for verb in ("ADD", "DEL"):
        w = res[verb]["weft"]
        print(f"weft-cni {verb}, p50: weft-cni process {M(w['plugin_cpu']['p50'])} + weftd "
              f"{M(w['weftd_cpu']['p50'])}; latency - both = {M(w['latency']['p50'] - w['instructions']['p50'])} "
              "(idle, kernel threads)")
growth = []
for verb in ("ADD", "DEL"):
    for who, label in (("weft", "weft-cni"), ("reference", "bridge + host-local")):
        i = (res[verb].get(who) or {}).get("instructions")
        if i:
            growth.append(f"{label} {verb} {M(i['first_tenth_mean'])} -> {M(i['last_tenth_mean'])}")
if growth:
    print("Mean instructions, first tenth of the pods -> last tenth: " + "; ".join(growth))
if brk:
    print()
    print("Breakdown (not in the ratio), p50:")
    names = {"static_noop_exec": "fork + exec + exit of a static no-op (the floor)",
             "weft_cni_version": "weft-cni VERSION (start, exit)",
             "alt_weft_cni_version": "--alt-cni weft-cni VERSION", "bridge_version": "bridge VERSION", "host_local_version": "host-local VERSION",
             "weftd_rpc_status": "weftd API status (client connect + round trip)",
             "weftd_rpc_allocate": "weftd API allocate", "weftd_rpc_release": "weftd API release"}
    for k, m in brk.items():
        extra = ""
        if m.get("plugin_cpu") and not k.startswith("weftd_"):
            extra = f", CPU {M(m['plugin_cpu']['p50'])}"
        if k.startswith("weftd_") and m.get("weftd_cpu"):
            extra = f", of which weftd CPU {M(m['weftd_cpu']['p50'])}"
        print(f"  {names[k]:52s} latency {M(m['latency']['p50'])}{extra}  (n={m['latency']['n']})")
if alt:
    print()
    print("--alt-cni, after the main run, alternating with the weft-cni under test, p50:")
    for verb, e in alt.items():
        a, c = e["alt"], e["cur"]
        ins = lambda m: M(m["instructions"]["p50"]) if "instructions" in m else "-"
        print(f"  {verb}: alt {ins(a)} instructions ({M(a['latency']['p50'])} latency) vs "
              f"under test {ins(c)} ({M(c['latency']['p50'])}), n={a['latency']['n']}")
sys.exit(0 if done and res["ADD"].get("ratio_latency") else 1)
EOF
reprc=$?
set -e
echo "cni-bench: JSON in $JSON" >&2
[ "$vmrc" = 0 ] && [ "$reprc" = 0 ] || exit 1
if [ "$STRICT" = 1 ]; then
	python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["all_targets_met"] else 1)' "$JSON"
fi
