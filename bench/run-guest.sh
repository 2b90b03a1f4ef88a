#!/bin/bash
# bench/run-guest.sh: the guest side of `make bench` (bench/bench.sh boots
# `tests/vm/run --bench --kernel 6.1` with this script as the command).
#
# For each mode (vxlan, ipip, native) and each implementation (the kernel's
# own device set up as Flannel/Calico do, then weft) it builds the same
# topology -- two nodes (netns n1, n2) joined by a veth underlay, one pod
# (netns p1, p2) on each -- runs tcpbench RR, CRR and STREAM pod to pod
# across the nodes REPS times, and tears the topology down again.
#
# Output, one line per measurement, on stdout:
#   RESULT mode=vxlan impl=weft metric=rr rep=1 value=61234.5
# rr and crr values are guest ns (= instructions under icount) per round
# trip / per connection; stream values are bits per 10^9 guest ns.
# Profiles (optional) go to $OUT/profile-*.txt.
#
# Environment (all optional): REPS, RR_N, RR_WARM, CRR_N, CRR_WARM,
# STREAM_BYTES, STREAM_WARM, PROFILE (1 = perf profile of the RR runs of
# the modes in PROFILE_MODES, default "vxlan native"), PROFILE_RR_N,
# MODES ("vxlan ipip native"), OUT (a directory
# on a shared, writable path; default build/bench).
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
OUT=${OUT:-$REPO/build/bench}
REPS=${REPS:-3}
RR_N=${RR_N:-2000}
RR_WARM=${RR_WARM:-200}
CRR_N=${CRR_N:-200}
CRR_WARM=${CRR_WARM:-20}
STREAM_BYTES=${STREAM_BYTES:-$((16 << 20))}
STREAM_WARM=${STREAM_WARM:-$((4 << 20))}
PROFILE=${PROFILE:-1}
PROFILE_RR_N=${PROFILE_RR_N:-5000}
PROFILE_MODES=${PROFILE_MODES:-vxlan native}
MODES=${MODES:-vxlan ipip native}
PORT=5201
KVER=$(uname -r)

WEFT_SRC=$REPO/build/manager/weft
TB_SRC=$REPO/build/bench/tcpbench
KO=$REPO/build/kmod/$KVER/weft.ko

log() { echo "# $*"; }
fail() { echo "BENCH-ERROR $*"; exit 1; }

for f in "$WEFT_SRC" "$TB_SRC" "$KO"; do
	[ -e "$f" ] || fail "missing $f (run bench/bench.sh, which builds it)"
done

# Everything that runs inside a measured interval comes from tmpfs, not 9p:
# tcpbench is static, so the binary alone is enough.
T=/tmp/weft-bench
mkdir -p "$T"
cp "$TB_SRC" "$T/tcpbench"
cp "$WEFT_SRC" "$T/weft"
TB=$T/tcpbench
W=$T/weft

log "kernel $KVER, cmdline: $(cat /proc/cmdline)"
grep -q slub_debug /proc/cmdline && log "WARNING: slub_debug is on: numbers are inflated"
modprobe -a veth vxlan ipip || fail "modprobe veth vxlan ipip"
"$REPO/scripts/insmod-weft" "$KO" || fail "insmod weft.ko"

# ---- topology ----

# base MTU: the nodes, their underlay and the two pods (the pod MTU is the
# mode's tunnel MTU, on both ends of the pod's veth, identical for weft and
# for the reference).
base() {
	local mtu=$1 i
	for i in 1 2; do
		ip netns add n$i && ip netns add p$i || return 1
	done
	{
		echo "link add eth0 type veth peer name eth0 netns n2"
		echo "link set lo up"
		echo "addr add 192.168.50.1/24 dev eth0"
		echo "link set eth0 up"
	} | ip -n n1 -batch - || return 1
	ip -n n2 -batch - <<-EOF || return 1
		link set lo up
		addr add 192.168.50.2/24 dev eth0
		link set eth0 up
	EOF
	for i in 1 2; do
		ip netns exec n$i sysctl -qw net.ipv4.ip_forward=1 || return 1
		ip -n n$i -batch - <<-EOF || return 1
			link add veth0 mtu $mtu type veth peer name eth0 mtu $mtu netns p$i
			link set veth0 up
			route add 10.244.$i.5/32 dev veth0
			route add default via 192.168.50.254
			neigh add proxy 169.254.1.1 dev veth0
		EOF
		ip netns exec n$i sysctl -qw net.ipv4.conf.veth0.proxy_arp=1 || return 1
		ip -n p$i -batch - <<-EOF || return 1
			link set lo up
			addr add 10.244.$i.5/32 dev eth0
			link set eth0 up
			route add 169.254.1.1 dev eth0
			route add default via 169.254.1.1
		EOF
	done
}

teardown() {
	local i
	[ -n "${SRV:-}" ] && { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
	SRV=""
	for i in 1 2; do
		ip netns del p$i 2>/dev/null
		ip netns del n$i 2>/dev/null
	done
	# Namespace cleanup runs in a workqueue: let it finish (idle time is
	# free under icount with sleep=off) before anything is measured again.
	sleep 2
}

# Flannel's vxlan backend: flannel.1, VNI 1, port 8472, nolearning, MTU
# underlay - 50; per remote node an onlink route via its .0 address, a
# permanent neighbour and a permanent fdb entry.
ref_vxlan() {
	local i j
	for i in 1 2; do
		ip -n n$i -batch - <<-EOF || return 1
			link add flannel.1 address 0a:00:00:00:00:0$i type vxlan id 1 local 192.168.50.$i dev eth0 dstport 8472 nolearning
			addr add 10.244.$i.0/32 dev flannel.1
			link set flannel.1 up
		EOF
	done
	for i in 1 2; do
		j=$((3 - i))
		ip -n n$i -batch - <<-EOF || return 1
			route add 10.244.$j.0/24 via 10.244.$j.0 dev flannel.1 onlink
			neigh add 10.244.$j.0 lladdr 0a:00:00:00:00:0$j dev flannel.1 nud permanent
		EOF
		bridge -n n$i fdb append 0a:00:00:00:00:0$j dev flannel.1 dst 192.168.50.$j self permanent || return 1
	done
}

# Calico's IP-in-IP: the fallback tunl0 of each namespace, MTU underlay - 20,
# the node's tunnel address on it, routes "<podCIDR> via <node IP> dev tunl0
# onlink".
ref_ipip() {
	local i j
	for i in 1 2; do
		j=$((3 - i))
		ip -n n$i -batch - <<-EOF || return 1
			link set tunl0 mtu 1480
			addr add 10.244.$i.1/32 dev tunl0
			link set tunl0 up
			route add 10.244.$j.0/24 via 192.168.50.$j dev tunl0 onlink
		EOF
	done
}

# Plain routing (Calico/Flannel host-gw, native): "<podCIDR> via <node IP>".
ref_native() {
	ip -n n1 route add 10.244.2.0/24 via 192.168.50.2 || return 1
	ip -n n2 route add 10.244.1.0/24 via 192.168.50.1 || return 1
}

# weft0 on each node; each node knows the other with ENCAP; the kernel route
# sends the remote pod CIDR into weft0. weft0 keeps its default MTU (1450)
# for vxlan and gets the reference device's MTU for ipip (1480) and native
# (1500), like the pods.
weft_setup() {
	local encap=$1 mtu=$2 i j mac1 mac2 m
	for i in 1 2; do
		ip -n n$i link add weft0 type weft || return 1
		[ "$mtu" = 1450 ] || ip -n n$i link set weft0 mtu "$mtu" || return 1
		ip -n n$i link set weft0 up || return 1
	done
	mac1=$(ip netns exec n1 $W -j link show dev weft0 | grep -o '"vtep_mac": *"[^"]*"' | grep -o '..:..:..:..:..:..')
	mac2=$(ip netns exec n2 $W -j link show dev weft0 | grep -o '"vtep_mac": *"[^"]*"' | grep -o '..:..:..:..:..:..')
	[ -n "$mac1" ] && [ -n "$mac2" ] || { log "no vtep mac"; return 1; }
	for i in 1 2; do
		j=$((3 - i))
		m=$([ $j = 1 ] && echo "$mac1" || echo "$mac2")
		ip netns exec n$i $W node add 192.168.50.$j dev weft0 encap "$encap" vtep-mac "$m" || return 1
		ip netns exec n$i $W route add 10.244.$j.0/24 via 192.168.50.$j dev weft0 || return 1
		ip -n n$i route add 10.244.$j.0/24 dev weft0 || return 1
	done
}

describe() {
	local i
	for i in 1 2; do
		log "n$i: $(ip -n n$i -o link show | awk '{print $2, $4, $5}' | grep -v '^lo' | tr '\n' ' ')"
		log "n$i routes: $(ip -n n$i route | tr '\n' ';')"
	done
}

# ---- measurements ----

start_server() {
	ip netns exec p2 "$TB" server -p $PORT -c 0 &
	SRV=$!
	sleep 1
}

# client TEST ARGS...: prints the tcpbench line, returns its status.
client() {
	ip netns exec p1 "$TB" client -H 10.244.2.5 -p $PORT -c 0 "$@"
}

measure() {
	local mode=$1 impl=$2 rep line v
	# Reachability first (and ARP/neighbour warm-up).
	client -t rr -n 10 -w 10 >/dev/null || { log "$mode/$impl: no connectivity"; return 1; }
	for rep in $(seq 1 "$REPS"); do
		line=$(client -t rr -n "$RR_N" -w "$RR_WARM") || return 1
		v=${line##*per_iter_ns=}
		echo "RESULT mode=$mode impl=$impl metric=rr rep=$rep value=$v"
		line=$(client -t crr -n "$CRR_N" -w "$CRR_WARM") || return 1
		v=${line##*per_iter_ns=}
		echo "RESULT mode=$mode impl=$impl metric=crr rep=$rep value=$v"
		line=$(client -t stream -b "$STREAM_BYTES" -W "$STREAM_WARM") || return 1
		v=${line##*bits_per_1e9ns=}
		echo "RESULT mode=$mode impl=$impl metric=stream rep=$rep value=$v"
	done
}

# A cpu-clock profile of a long RR run (time is instructions under icount).
PERF=""
for p in /usr/bin/perf_${KVER%%-*} /usr/bin/perf_6.1 /usr/bin/perf; do
	[ -x "$p" ] && { PERF=$p; break; }
done
profile() {
	local mode=$1 impl=$2 f=$OUT/profile-$1-$2.txt
	[ "$PROFILE" = 1 ] && [ -n "$PERF" ] || return 0
	# perf walks /lib/modules/KVER (thousands of stat()s over 9p, each
	# turned into phantom guest time by icount): give it an empty one in a
	# mount namespace of its own; the symbols come from /proc/kallsyms.
	# perf starts the client itself once its events are set up, so the
	# whole run (and nothing of perf's own start-up) is recorded.
	timeout -s KILL 900 unshare -m bash -c '
		mount -t tmpfs none /lib/modules/$1 || exit 1
		"$2" record -q -N -B -e cpu-clock -a -o "$3/perf.data" -- \
			ip netns exec p1 "$4" client -H 10.244.2.5 -p "$5" -c 0 \
			-t rr -n "$6" -w 100 >/dev/null 2>&1 || exit 1
		echo "# $7: perf record -e cpu-clock -a during tcpbench rr -n $6 (kernel $1)"
		"$2" report -i "$3/perf.data" --stdio --no-children --sort dso,sym \
			--percent-limit 0.7 2>/dev/null | grep -v "^$" | grep -v "^# *$"
	' profile "$KVER" "$PERF" "$T" "$TB" "$PORT" "$PROFILE_RR_N" "$mode/$impl" >"$f" ||
		log "profile $mode/$impl failed"
	rm -f $T/perf.data
	log "profile written to $f"
}

# ---- the run ----

mkdir -p "$OUT"
rc=0
for mode in $MODES; do
	case $mode in
	vxlan) mtu=1450 ;;
	ipip) mtu=1480 ;;
	native) mtu=1500 ;;
	*) fail "unknown mode $mode" ;;
	esac
	for impl in ref weft; do
		log "=== $mode / $impl (pod MTU $mtu)"
		teardown
		if ! base "$mtu"; then
			echo "BENCH-ERROR $mode/$impl: base topology"; rc=1; continue
		fi
		if [ $impl = ref ]; then
			ref_$mode
		else
			weft_setup "$([ $mode = native ] && echo none || echo $mode)" "$mtu"
		fi || { echo "BENCH-ERROR $mode/$impl: setup"; describe; rc=1; continue; }
		describe
		start_server
		measure "$mode" "$impl" || { echo "BENCH-ERROR $mode/$impl: measurement"; describe; rc=1; continue; }
		case " $PROFILE_MODES " in *" $mode "*) profile "$mode" "$impl" ;; esac
	done
done
teardown
rmmod weft 2>/dev/null
echo "BENCH-DONE rc=$rc"
exit $rc
