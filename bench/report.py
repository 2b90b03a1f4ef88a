#!/usr/bin/env python3
"""bench/report.py: turn bench/run-guest.sh's RESULT lines into a table and JSON.

usage: report.py GUEST_LOG JSON_OUT [--kernel KVER] [--param K=V]...
Exit status: 0, or 1 when a measurement is missing or a run reported an error.
"""
import argparse
import json
import re
import statistics
import sys
import time

MODES = ["vxlan", "ipip", "native"]
METRICS = ["rr", "crr", "stream"]
REF_NAME = {
    "vxlan": "kernel vxlan (flannel.1)",
    "ipip": "kernel ipip (tunl0)",
    "native": "plain routes",
}
UNIT = {
    "rr": "instructions per 1-byte TCP round trip",
    "crr": "instructions per TCP connection (connect, 1-byte exchange, close)",
    "stream": "bits per 10^9 instructions",
}
# (comparison, bound) on weft / reference.
TARGETS = {
    ("vxlan", "rr"): ("<=", 0.95), ("vxlan", "crr"): ("<=", 0.95),
    ("vxlan", "stream"): (">=", 1.00),
    ("ipip", "rr"): ("<=", 0.95), ("ipip", "crr"): ("<=", 0.95),
    ("ipip", "stream"): (">=", 1.00),
    # "native <= 1.02x plain routing": 2 % more cost, or 2 % less throughput.
    ("native", "rr"): ("<=", 1.02), ("native", "crr"): ("<=", 1.02),
    ("native", "stream"): (">=", round(1 / 1.02, 3)),
}
LINE = re.compile(r"^RESULT mode=(\S+) impl=(\S+) metric=(\S+) rep=(\d+) value=(\S+)")


def fmt(metric, v):
    if v is None:
        return "-"
    if metric == "stream":
        return "%.3f G" % (v / 1e9)
    return "%.1f K" % (v / 1e3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("json_out")
    ap.add_argument("--kernel", default="")
    ap.add_argument("--param", action="append", default=[])
    a = ap.parse_args()

    runs = {}
    errors = []
    text = open(a.log, errors="replace").read()
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            mode, impl, metric, _, v = m.groups()
            runs.setdefault((mode, impl, metric), []).append(float(v))
        elif line.startswith("BENCH-ERROR"):
            errors.append(line)
        elif line.startswith("# kernel ") and not a.kernel:
            a.kernel = line.split()[2].rstrip(",")

    results = {}
    rows = []
    missing = False
    all_met = True
    for mode in MODES:
        for metric in METRICS:
            w = runs.get((mode, "weft", metric))
            r = runs.get((mode, "ref", metric))
            if not w and not r:
                continue
            wm = statistics.median(w) if w else None
            rm = statistics.median(r) if r else None
            op, bound = TARGETS[(mode, metric)]
            ratio = wm / rm if wm and rm else None
            met = None
            if ratio is not None:
                met = ratio <= bound if op == "<=" else ratio >= bound
                all_met = all_met and met
            else:
                missing = True
            spread = max(
                ((max(x) - min(x)) / statistics.median(x) for x in (w, r) if x),
                default=0.0)
            results.setdefault(mode, {})[metric] = {
                "unit": UNIT[metric],
                "weft": {"median": wm, "runs": w or []},
                "reference": {"name": REF_NAME[mode], "median": rm, "runs": r or []},
                "ratio": ratio,
                "target": "%s %.2f" % (op, bound),
                "met": met,
                "spread": spread,
            }
            rows.append([mode, metric, fmt(metric, wm), fmt(metric, rm),
                         "%.3f" % ratio if ratio is not None else "-",
                         "%s %.2f" % (op, bound),
                         "-" if met is None else ("yes" if met else "NO"),
                         "%.2f%%" % (100 * spread)])

    hdr = ["mode", "metric", "weft", "reference", "ratio", "target", "met?", "spread"]
    widths = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
    print("weft benchmark, kernel %s (QEMU TCG -icount shift=0: 1 ns = 1 instruction)" % a.kernel)
    print("rr: instructions per 1-byte round trip; crr: per new connection; "
          "stream: Gbit per 10^9 instructions")
    print("reference: vxlan = kernel vxlan flannel.1, ipip = kernel tunl0, "
          "native = plain routes; ratio = weft / reference; spread = (max-min)/median "
          "of the repetitions, worst of the two")
    print("| " + " | ".join(h.ljust(widths[i]) for i, h in enumerate(hdr)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(row)) + " |")
    for e in errors:
        print(e)
    print("targets: %s" % ("all met" if all_met and not missing else
                           "NOT all met" if not missing else "incomplete run"))

    params = dict(p.split("=", 1) for p in a.param)
    doc = {
        "kernel": a.kernel,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "method": "tests/vm/run --bench (QEMU TCG, -icount shift=0,sleep=off, 1 vCPU): "
                  "guest ns = instructions; median of the repetitions",
        "params": params,
        "results": results,
        "errors": errors,
        "all_targets_met": all_met and not missing,
    }
    with open(a.json_out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return 1 if errors or missing else 0


if __name__ == "__main__":
    sys.exit(main())
