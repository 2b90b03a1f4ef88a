#!/bin/bash
# bench/cni-bench-guest.sh: the guest side of the CNI benchmark
# (bench/cni-bench.sh boots `tests/vm/run --bench --kernel 6.1` with it).
#
# One weftd (embedded datastore) and weft.ko; then weft-cni and the reference
# bridge + host-local plugins, exec'd as a container runtime execs them, ADD
# PODS pods each (alternating plugin by plugin, pod by pod) and then DEL them
# all. bench/cni-timer takes each exec's fork..waitpid in guest ns, which
# under icount are instructions. Everything a measured exec touches lives in
# a tmpfs chroot (/tmp/cnib: the plugins, their shared libraries and loader,
# /proc, /sys, /dev, the netns files, weftd's socket): a 9p access inside a
# measured interval would turn into phantom instructions.
#
# Then, separately (not in the ratio): the process start cost of each plugin
# (CNI_COMMAND=VERSION), of a static no-op (the fork+exec floor), and
# weftd's local API alone (status, allocate, release round trips); weftd's
# share of the ADD/DEL phases from its utime+stime.
#
# Output on stdout: "S NAME VERB INDEX NS CPU WEFTD" sample lines (see
# bench/cni-timer.c), "T KEY VALUE" facts,
# "# ..." comments; CNI-ERROR on failure.
# With ALT_CNI (a candidate weft-cni build, e.g. linked differently), a last
# phase ADDs and DELs ALT_PODS pods with it ("alt") and with the weft-cni
# under test ("cur"), alternating, against the same weftd.
# Environment: PODS (1000), EXTRA_REPS (repetitions of the breakdown
# measurements, 50), ALT_CNI (unset), ALT_PODS (200).
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
PODS=${PODS:-1000}
EXTRA_REPS=${EXTRA_REPS:-50}
ALT_CNI=${ALT_CNI:-}
ALT_PODS=${ALT_PODS:-200}
KVER=$(uname -r)
KO=$REPO/build/kmod/$KVER/weft.ko
REFDIR=/usr/lib/cni
R=/tmp/cnib
WEFTD_PID=""

log() { echo "# $*"; }
fail() {
	echo "CNI-ERROR $*"
	[ -e /tmp/weftd.log ] && tail -n 30 /tmp/weftd.log | sed 's/^/# weftd: /'
	exit 1
}
cleanup() { [ -n "$WEFTD_PID" ] && kill "$WEFTD_PID" 2>/dev/null; }
trap cleanup EXIT

for f in "$REPO/build/manager/weftd" "$REPO/build/manager/weft-cni" "$REPO/build/bench/cni-timer" \
	"$KO" "$REFDIR/bridge" "$REFDIR/host-local"; do
	[ -e "$f" ] || fail "missing $f (run bench/cni-bench.sh, which builds it)"
done

log "kernel $KVER, cmdline: $(cat /proc/cmdline)"
grep -q slub_debug /proc/cmdline && log "WARNING: slub_debug is on: numbers are inflated"
echo "T kernel $KVER"
echo "T pods $PODS"

# ---- the chroot: binaries, their libraries and loader, all on tmpfs
mkdir -p "$R"/{cni,bin,proc,sys,dev,tmp,etc,run/netns,var/lib/cni}
cp "$REPO/build/manager/weft-cni" "$REFDIR/bridge" "$REFDIR/host-local" "$R/cni/"
cp "$REPO/build/bench/cni-timer" "$R/bin/"
if [ -n "$ALT_CNI" ]; then
	[ -e "$ALT_CNI" ] || fail "missing ALT_CNI $ALT_CNI"
	cp "$ALT_CNI" "$R/cni/weft-cni-alt"
fi
for b in "$R"/cni/*; do
	ldd "$b" | grep -oE '/[^ ]+' || true
done | sort -u | while read -r lib; do
	mkdir -p "$R$(dirname "$lib")"
	cp -L "$lib" "$R$lib"
done
# the interpreter's usual paths on Debian (/lib64 is what ELF binaries name)
[ -e "$R/lib64/ld-linux-x86-64.so.2" ] || fail "the loader was not copied"
mount -t proc proc "$R/proc" || fail "mount proc"
mount --rbind /sys "$R/sys" || fail "mount sys"
mount --rbind /dev "$R/dev" || fail "mount dev"
mount -t tmpfs tmpfs "$R/run/netns" || fail "mount run/netns"
log "chroot: $(du -sh "$R/cni" "$R/lib" 2>/dev/null | awk '{printf "%s %s  ", $2, $1}')"

# ---- weft.ko and weftd (embedded datastore, a /20 block: 4094 pods)
modprobe -a veth bridge || fail "modprobe veth bridge"
"$REPO/scripts/insmod-weft" "$KO" || fail "insmod weft.ko"
ip -batch - <<-EOF || fail "devices"
	link set lo up
	link add ul0 type dummy
	addr add 192.168.200.1/24 dev ul0
	link set ul0 up
EOF
cp "$REPO/build/manager/weftd" /tmp/weftd
/tmp/weftd --node-name n1 --datastore embedded --underlay-dev ul0 --node-addr 192.168.200.1 \
	--encap vxlan --cluster-cidr 10.244.0.0/16 --block-len 20 \
	--state-dir /tmp/weftd-state --socket "$R/run/weftd.sock" --http-listen 127.0.0.1:9603 \
	</dev/null >/tmp/weftd.log 2>&1 &
WEFTD_PID=$!
readyz() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9603/readyz)" = 200 ]; }
for ((i = 0; i < 240; i++)); do readyz && break; sleep 0.25; done
readyz || fail "weftd not ready"
ip link show weft0 >/dev/null 2>&1 || fail "weftd did not create weft0"
log "weftd ready: $(curl -s http://127.0.0.1:9603/readyz)"

# ---- the network configurations
cat >"$R/etc/weft.conf" <<-EOF
	{"cniVersion":"1.0.0","name":"weft","type":"weft-cni","socket":"/run/weftd.sock"}
EOF
cat >"$R/etc/bridge.conf" <<-EOF
	{"cniVersion":"1.0.0","name":"ref","type":"bridge","bridge":"cni0","isGateway":true,
	 "ipMasq":false,"ipam":{"type":"host-local","subnet":"10.88.0.0/20",
	 "routes":[{"dst":"0.0.0.0/0"}],"dataDir":"/tmp/host-local"}}
EOF

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

# ---- the pods' namespaces (not measured)
t0=$EPOCHREALTIME
chroot "$R" /bin/cni-timer mkns /run/netns w "$PODS" || fail "netns for weft"
chroot "$R" /bin/cni-timer mkns /run/netns b "$PODS" || fail "netns for the reference"
log "$((2 * PODS)) netns in $(elapsed "$t0" "$EPOCHREALTIME") guest s"

# ticks of a process's utime + stime (under icount, ticks of guest time)
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "T clk_tck $(getconf CLK_TCK)"

# ---- warm-up: one ADD + DEL of each, outside the pods measured (the first
# bridge ADD creates cni0; the first exec of each binary faults its pages in)
chroot "$R" /bin/cni-timer mkns /run/netns warmw 1 || fail "warm-up netns"
chroot "$R" /bin/cni-timer mkns /run/netns warmb 1 || fail "warm-up netns"
chroot "$R" /bin/cni-timer run 1 weft:/cni/weft-cni:/etc/weft.conf:warmw \
	ref:/cni/bridge:/etc/bridge.conf:warmb >/dev/null 2>/tmp/warm.err ||
	{ sed 's/^/# /' /tmp/warm.err; fail "warm-up ADD/DEL"; }

# ---- the measurement (cni-timer reads weftd's CPU time around each exec)
export WEFTD_PID
w0=$(cputicks "$WEFTD_PID") t0=$EPOCHREALTIME
# (samples to tmpfs, shown afterwards: console output in a measured
# interval would be interrupts; only progress goes out live, on stderr)
chroot "$R" /bin/cni-timer run "$PODS" weft:/cni/weft-cni:/etc/weft.conf:w \
	ref:/cni/bridge:/etc/bridge.conf:b >/tmp/run.out
rc=$?
w1=$(cputicks "$WEFTD_PID") t1=$EPOCHREALTIME
cat /tmp/run.out
[ $rc = 0 ] || fail "the ADD/DEL run failed"
echo "T weftd_ticks_run $((w1 - w0))"
echo "T run_guest_seconds $(elapsed "$t0" "$t1")"
log "run: $PODS pods x 2 plugins x ADD+DEL in $(elapsed "$t0" "$t1") guest s"

# ---- breakdown (not in the ratio; samples to tmpfs as above)
chroot "$R" /bin/cni-timer spawn "$EXTRA_REPS" noop VERSION /etc/weft.conf /bin/cni-timer noop >>/tmp/extra.out ||
	fail "noop"
chroot "$R" /bin/cni-timer spawn "$EXTRA_REPS" weft VERSION /etc/weft.conf /cni/weft-cni >>/tmp/extra.out ||
	fail "weft-cni VERSION"
chroot "$R" /bin/cni-timer spawn "$EXTRA_REPS" ref VERSION /etc/bridge.conf /cni/bridge >>/tmp/extra.out ||
	fail "bridge VERSION"
chroot "$R" /bin/cni-timer spawn "$EXTRA_REPS" host-local VERSION /etc/bridge.conf /cni/host-local >>/tmp/extra.out ||
	fail "host-local VERSION"
w0=$(cputicks "$WEFTD_PID")
chroot "$R" /bin/cni-timer rpc "$EXTRA_REPS" /run/weftd.sock >>/tmp/extra.out || fail "weftd rpc"
w1=$(cputicks "$WEFTD_PID")
echo "T weftd_ticks_rpc $((w1 - w0))"
if [ -n "$ALT_CNI" ]; then
	chroot "$R" /bin/cni-timer spawn "$EXTRA_REPS" alt VERSION /etc/weft.conf /cni/weft-cni-alt >>/tmp/extra.out ||
		fail "alt VERSION"
	chroot "$R" /bin/cni-timer mkns /run/netns a "$ALT_PODS" || fail "netns for alt"
	chroot "$R" /bin/cni-timer mkns /run/netns c "$ALT_PODS" || fail "netns for cur"
	chroot "$R" /bin/cni-timer run "$ALT_PODS" alt:/cni/weft-cni-alt:/etc/weft.conf:a \
		cur:/cni/weft-cni:/etc/weft.conf:c >/tmp/alt.out
	rc=$?
	cat /tmp/alt.out
	[ $rc = 0 ] || fail "the alt ADD/DEL run failed"
fi
cat /tmp/extra.out
echo "T weftd_vmrss_kb $(awk '/^VmRSS:/ {print $2}' "/proc/$WEFTD_PID/status")"
echo "CNI-DONE"
