#!/bin/bash
# bench/weftd-scale-guest.sh: the guest side of the weftd scale benchmark
# (bench/weftd-scale.sh boots `tests/vm/run --kernel 6.1` with this script).
#
# One real weftd (node "bench-self") on a one-member etcd; weftd-scale plays
# NODES other nodes. Phases:
#   load          weftd-scale writes the NODES registrations in batches and
#                 measures, per node, etcd write -> route in weft.ko
#   resync-kept   kill -9 weftd, start it again with weft.ko's tables intact:
#                 time to /readyz 200, writes it made (should be 0)
#   resync-empty  kill -9 weftd, delete and re-create weft0 (empty tables),
#                 start weftd: time to /readyz 200 and to all routes present
# weftd's VmRSS/VmHWM after each phase. Results: JSON files in $OUT
# (load.json, resync-kept.json, resync-empty.json, rss.json), the logs of
# weftd, etcd and the driver in $OUT/logs.
#
# Environment: OUT (a shared writable directory, default
# build/bench/weftd-scale), NODES (5000), BATCH (50), INTERVAL_MS (100),
# POLL_MS (20), NODES_PER_LEASE (500), TIMEOUT (seconds for the load,
# 1500), RESYNC_TIMEOUT (seconds for each restart, 300).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
OUT=${OUT:-$REPO/build/bench/weftd-scale}
NODES=${NODES:-5000}
BATCH=${BATCH:-50}
INTERVAL_MS=${INTERVAL_MS:-100}
POLL_MS=${POLL_MS:-20}
NODES_PER_LEASE=${NODES_PER_LEASE:-500}
TIMEOUT=${TIMEOUT:-1500}
RESYNC_TIMEOUT=${RESYNC_TIMEOUT:-300}
KVER=$(uname -r)
KO=$REPO/build/kmod/$KVER/weft.ko
ETCD=${ETCD:-/usr/bin/etcd}
CIDR=10.0.0.0/8
HTTP=127.0.0.1:9603
ENDPOINT=127.0.0.1:2379

log() { echo "# $(date +%T) $*"; }
fail() {
	echo "SCALE-ERROR $*"
	exit 1
}

for f in "$REPO/build/manager/weftd" "$REPO/build/manager/weftd-scale" "$KO" "$ETCD"; do
	[ -e "$f" ] || fail "missing $f (run bench/weftd-scale.sh, which builds it)"
done

# Binaries, etcd's data, weftd's state and the logs live on the guest's
# tmpfs: nothing of the measured paths goes through 9p (etcd's fsyncs over
# 9p would dominate). The logs are copied to $OUT at the end.
T=/tmp/weftd-scale
rm -rf "$T"
mkdir -p "$T/bin" "$OUT/logs"
rm -f "$OUT"/load.json "$OUT"/resync-*.json "$OUT"/rss.json "$OUT"/logs/*.log
cp "$REPO/build/manager/weftd" "$REPO/build/manager/weftd-scale" "$T/bin/"
WEFTD=$T/bin/weftd
DRIVER=$T/bin/weftd-scale
ETCD_PID="" KEEPER_PID="" WEFTD_PID=""

cleanup() {
	local p
	for p in $KEEPER_PID $WEFTD_PID $ETCD_PID; do
		kill "$p" 2>/dev/null || true
	done
	sleep 1
	cp "$T"/*.log "$OUT/logs/" 2>/dev/null || true
}
trap cleanup EXIT

log "kernel $KVER, $(nproc) vCPUs, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
"$REPO/scripts/insmod-weft" "$KO" || fail "insmod weft.ko"
ip -batch - <<-EOF || fail "devices"
	link add ul0 type dummy
	addr add 192.168.200.1/24 dev ul0
	link set ul0 up
	link add weft0 type weft
EOF

# ---- etcd: one member, on tmpfs
"$ETCD" --name s1 --data-dir "$T/etcd" --logger zap --log-outputs stderr \
	--listen-client-urls "http://$ENDPOINT" --advertise-client-urls "http://$ENDPOINT" \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster s1=http://127.0.0.1:2380 --initial-cluster-state new \
	--heartbeat-interval 250 --election-timeout 2500 --quota-backend-bytes $((2 << 30)) \
	</dev/null >"$T/etcd.log" 2>&1 &
ETCD_PID=$!
for ((i = 0; i < 120; i++)); do
	curl -s --max-time 2 "http://$ENDPOINT/health" | grep -q '"health":"true"' && break
	sleep 0.5
done
curl -s --max-time 2 "http://$ENDPOINT/health" | grep -q '"health":"true"' || {
	tail -n 20 "$T/etcd.log"
	fail "etcd not healthy"
}
log "etcd $("$ETCD" --version | head -n1) healthy"

WEFTD_ARGS=(--node-name bench-self --datastore etcd --etcd-endpoints "$ENDPOINT"
	--underlay-dev ul0 --node-addr 192.168.200.1 --encap vxlan --cluster-cidr "$CIDR"
	--state-dir "$T/state" --socket "$T/weftd.sock" --http-listen "$HTTP" --lease-ttl 15)

readyz() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HTTP/readyz")" = 200 ]; }

# rss PHASE: weftd's VmRSS and VmHWM (kB) as a JSON member
RSS_JSON=""
rss() {
	local rss hwm
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$WEFTD_PID/status")
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$WEFTD_PID/status")
	log "weftd RSS after $1: VmRSS $rss kB, VmHWM $hwm kB"
	RSS_JSON+="${RSS_JSON:+, }\"$1\": {\"vmrss_kb\": $rss, \"vmhwm_kb\": $hwm}"
}

# weftd_kill9: SIGKILL, and wait until it is gone (it is not our child after
# a resync phase: the driver started it)
weftd_kill9() {
	kill -9 "$WEFTD_PID"
	while kill -0 "$WEFTD_PID" 2>/dev/null; do sleep 0.05; done
	echo "=== $(date +%T) weftd killed (SIGKILL) ===" >>"$T/weftd.log"
}

# ---- weftd, first start (an empty cluster)
"$WEFTD" "${WEFTD_ARGS[@]}" </dev/null >>"$T/weftd.log" 2>&1 &
WEFTD_PID=$!
for ((i = 0; i < 240; i++)); do readyz && break; sleep 0.25; done
readyz || {
	tail -n 20 "$T/weftd.log"
	fail "weftd not ready"
}
log "weftd ready: $(curl -s "http://$HTTP/readyz")"
rss idle

# ---- load: the registrations, paced; the driver then keeps the leases alive
log "load: $NODES nodes, $BATCH every $INTERVAL_MS ms, routes polled every $POLL_MS ms"
"$DRIVER" load --endpoints "$ENDPOINT" --nodes "$NODES" --batch "$BATCH" \
	--interval-ms "$INTERVAL_MS" --poll-ms "$POLL_MS" --nodes-per-lease "$NODES_PER_LEASE" \
	--lease-ttl 60 --cluster-cidr "$CIDR" --http "$HTTP" --timeout "$TIMEOUT" \
	--result "$OUT/load.json" --hold </dev/null >>"$T/driver.log" 2>&1 &
KEEPER_PID=$!
while [ ! -e "$OUT/load.json" ]; do
	kill -0 "$KEEPER_PID" 2>/dev/null || {
		tail -n 20 "$T/driver.log"
		fail "the driver ended without a result"
	}
	sleep 1
done
log "load: $(tr -d "\n" <"$OUT/load.json" | tr -s ' ')"
rss load
log "weftd: $(grep -c 'reconciled in' "$T/weftd.log") passes that wrote;" \
	"slowest $(grep -o 'reconciled in [0-9.]* ms' "$T/weftd.log" | awk '{print $3}' | sort -g | tail -n1) ms"

# resync NAME: start weftd through the driver, which times it
resync() {
	"$DRIVER" resync --endpoints "$ENDPOINT" --http "$HTTP" --poll-ms "$POLL_MS" \
		--timeout "$RESYNC_TIMEOUT" --log "$T/weftd.log" --pid-file "$T/weftd.pid" \
		--result "$OUT/$1.json" -- "$WEFTD" "${WEFTD_ARGS[@]}" </dev/null >>"$T/driver.log" 2>&1 ||
		log "$1: the driver failed"
	WEFTD_PID=$(cat "$T/weftd.pid")
	[ -e "$OUT/$1.json" ] || fail "$1: no result"
	log "$1: $(tr -d "\n" <"$OUT/$1.json" | tr -s ' ')"
}

# ---- restart with the kernel's tables intact
weftd_kill9
echo "=== $(date +%T) weftd start (resync-kept) ===" >>"$T/weftd.log"
resync resync-kept
rss resync-kept

# ---- restart with weft0 emptied
weftd_kill9
ip link del weft0
ip link add weft0 type weft
echo "=== $(date +%T) weftd start (resync-empty) ===" >>"$T/weftd.log"
resync resync-empty
rss resync-empty

echo "{$RSS_JSON}" >"$OUT/rss.json"
kill "$WEFTD_PID"
for ((i = 0; i < 100; i++)); do kill -0 "$WEFTD_PID" 2>/dev/null || break; sleep 0.1; done
WEFTD_PID=""
kill "$KEEPER_PID" 2>/dev/null || true
wait "$KEEPER_PID" 2>/dev/null || true
KEEPER_PID=""
echo "SCALE-DONE"
