#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# weft-cni under faults (issue 5, item 7): parallel ADD/DEL loops, run as a
# container runtime runs a CNI plugin, while weftd is killed (kill -9) and
# restarted at random moments. Afterwards, with weftd up again and a GC
# naming the live pods: nothing leaked, no address given twice, the
# kernel's endpoints are exactly the live pods, and the live pods talk.
#
#   cni-faults.sh [--loops N] [--ops M] [--kill MIN-MAX] [--seed S]
#
#   --loops N      parallel runtime loops (env CNI_FAULTS_LOOPS, default 20)
#   --ops M        CNI calls (ADD or DEL, retries included) per loop
#                  (env CNI_FAULTS_OPS, default 4; 20 x 4 is the make check
#                  size: ~3-4 min per kernel under TCG on a loaded host; the
#                  full size, tests/cni-stress, is 100 x 1000)
#   env CNI_FAULTS_DEADLINE  seconds the loops may take before they are
#                  killed and the suite fails (default 600 + 60 x OPS)
#   --kill MIN-MAX seconds between weftd kills, drawn uniformly
#                  (env CNI_FAULTS_KILL, default 0.5-3)
#   --seed S       $RANDOM seed (env CNI_FAULTS_SEED, default: from the clock)
#   env CNI_FAULTS_COOLDOWN  weftd --ipam-cooldown (default 0: a released
#                  address may be reused at once, which makes a duplicate
#                  show; 254 addresses would not last 30 s of this anyway)
#   env CNI_FAULTS_LOGS  a directory to copy weftd's log, the loops' logs
#                  and the killer's log to at the end (e.g. a tests/vm/run
#                  --share directory; default: none)
#   env WEFTD, CNI  default: next to $WEFT, else build/manager/
#
# Topology: one node netns "cfn" (lo, dummy u0 192.168.77.1/24 as underlay,
# default via 192.168.77.254, ip_forward=1),
# ONE weftd in it (embedded SQLite datastore on the guest's tmpfs,
# --block-len 24: 254 pod addresses, --encap none, --nat 0), weft.ko's weft0
# made by weftd. Each pod: its own netns "cfL.K", container id cf-L-K (L the
# loop, K the iteration), eth0. Binaries are copied to the tmpfs first.
#
# Each loop, as a runtime: ADD a new pod; when the ADD fails (code 11 while
# weftd is down, or any other error), half the time retry the ADD with the
# same container id first (a runtime retrying after "try again later"); then
# DEL it (or, after a successful ADD, DEL it at once) and retry the DEL until
# it succeeds - a runtime must eventually DEL what it tried to ADD. Every
# fourth loop (loops 0, 4, 8...) leaves its last pod alive: it ends only
# after a successful ADD. Every CNI call runs under timeout 120 (124 = hang;
# kubelet's default runtime request timeout is 2 min), and its duration is
# kept for the figures.
# After a failed call a loop backs off as kubelet's pod workers do:
# 0.2 s, doubling to 3.2 s, with jitter; a success resets it. (Without the
# back-off, 100 loops re-exec'ing weft-cni while weftd is down starve the
# restarting weftd of CPU under TCG: its start took 32 s instead of 2.)
#
# A killer: kill -9 weftd at a random moment, start it again at once, until
# the loops are done; a weftd that died by itself is reported. Three kills
# in four come MIN-MAX s (random) after weftd became ready, or after 10 s of
# waiting for it; the fourth MIN-MAX s after its start, ready or not. (A
# start takes seconds under TCG: counted from the start alone, kills every
# 0.5-3 s would keep weftd from ever serving.) Kills of a serving weftd and
# of a starting one are counted apart. weftd and the killer run at nice -10,
# as a node agent runs with a CPU share of its own: the loops saturate the
# 2-vCPU TCG guest, and at equal priority a restarting weftd took 30-50 s to
# become ready and the killer's own sleeps stretched to a minute.
#
# Checks (one TAP line each):
#   - weftd ready at the start; the loops finished, no CNI call hung,
#     no weftd crash (death not by our SIGKILL), weftd ready at the end
#   - before GC, weftd already holds only the live pods (every DEL that
#     succeeded released its address)
#   - GC (cniVersion 1.1.0, cni.dev/valid-attachments = the live pods) ok
#   - weftd's allocations ({"op":"list"}) are exactly the live pods: 0
#     leaked, 0 missing
#   - 0 duplicates: no address allocated twice; each live pod's eth0 holds
#     exactly its allocation, which is the address its ADD returned
#   - weft endpoint show: exactly the live pods' host veths, with their
#     addresses; no wft* veth on the node but the live pods'
#   - every live pod pings the next live pod, the first also the node
#   - cleanup: weftd stops on SIGTERM, no netns or process of ours left
# Figures: CNI calls, ADD/DEL failures by code, weftd kills, live pods,
# leaked, duplicates, time.
#
# Needs root, the weft module, iproute2, socat, jq, nsenter, ping, timeout.

# ---------------------------------------------------------------- the loops
#
# worker L OPS KEEP SEED: one runtime loop, in the node netns (nsenter).
# Writes $CF_DIR/w.L.log: "ADD ID NS RC CODE ADDR|-" (RC 0 = ok), "RADD ..."
# for a retried ADD (same id), "DEL ID RC CODE", "FAILMSG ID first stderr
# line", and "CALLS N" at the end.
worker()
{
	local l=$1 ops=$2 keep=$3 n=0 k=0 id ns rc code addr out alive log tries msg pfd t0 ms
	local conf=$CF_CONF cni=$CF_DIR/weft-cni backoff=0

	RANDOM=$4
	log=$CF_DIR/w.$l.log
	: >"$log"
	# pause: sleep without a process (a read that times out on a pipe
	# nobody writes); under TCG every exec costs. After a failed call:
	# the back-off (ms) doubles from 200 to 3200, the pause is 50-100% of
	# it; after a success it is reset.
	exec {pfd}<> <(:)
	pause()
	{
		local ms
		if [ $rc = 0 ]; then
			backoff=0
			ms=$((100 + RANDOM % 400))
		else
			backoff=$((backoff == 0 ? 200 : (backoff >= 1600 ? 3200 : backoff * 2)))
			ms=$((backoff / 2 + RANDOM % (backoff / 2 + 1)))
		fi
		read -r -t "$((ms / 1000)).$(printf %03d $((ms % 1000)))" -u $pfd
	}
	# cni CMD ID NS: one call as a runtime makes it; sets rc, code, addr.
	# Two execs (timeout, weft-cni), no fork of ours.
	cni()
	{
		t0=${EPOCHREALTIME/./}
		CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=/run/netns/$3 \
			CNI_IFNAME=eth0 CNI_PATH=$CF_DIR \
			CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=cf;K8S_POD_NAME=$2" \
			timeout 120 "$cni" <<<"$conf" >"$CF_DIR/out.$l" 2>"$CF_DIR/err.$l"
		rc=$?
		ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
		out=
		read -r -d '' out <"$CF_DIR/out.$l"
		n=$((n + 1))
		code=0 addr=-
		if [ $rc != 0 ]; then
			code=rc$rc
			[[ $out =~ \"code\":\ *([0-9]+) ]] && code=${BASH_REMATCH[1]}
			[ $rc = 124 ] && code=hang
			msg=
			read -r msg <"$CF_DIR/err.$l"
			echo "FAILMSG $2 $1 ${msg:0:300}" >>"$log"
		elif [[ $out =~ \"address\":\ *\"([0-9.]+)/ ]]; then
			addr=${BASH_REMATCH[1]}
		fi
	}
	while :; do
		[ $keep = 0 ] && [ $n -ge $ops ] && break
		k=$((k + 1))
		id=cf-$l-$k ns=cf$l.$k
		ip netns add "$ns" || { echo "NETNS $ns failed" >>"$log"; break; }
		cni ADD "$id" "$ns"
		echo "ADD $id $ns $rc $code $addr $ms" >>"$log"
		alive=$((rc == 0))
		if [ $rc != 0 ] && [ $((RANDOM % 2)) = 0 ]; then
			pause
			cni ADD "$id" "$ns"
			echo "RADD $id $ns $rc $code $addr $ms" >>"$log"
			alive=$((rc == 0))
		fi
		if [ $alive = 1 ] && [ $keep = 1 ] && [ $n -ge $ops ]; then
			break	# the pod stays
		fi
		tries=0
		while :; do
			cni DEL "$id" "$ns"
			echo "DEL $id $rc $code $ms" >>"$log"
			[ $rc = 0 ] && break
			tries=$((tries + 1))
			if [ $tries -ge 300 ]; then
				echo "GIVEUP $id DEL failed 300 times" >>"$log"
				break 2
			fi
			pause
		done
		ip netns del "$ns"
		if [ $n -ge $((ops + 300)) ]; then
			echo "GIVEUP $id no ADD succeeded in 300 calls past $ops" >>"$log"
			break
		fi
	done
	echo "CALLS $n" >>"$log"
}

if [ "$1" = --worker ]; then
	shift
	worker "$@"
	exit 0
fi

# -------------------------------------------------------------------- setup

source "$(dirname "$0")/lib.sh"

LOOPS=${CNI_FAULTS_LOOPS:-20}
OPS=${CNI_FAULTS_OPS:-4}
KILL=${CNI_FAULTS_KILL:-0.5-3}
SEED=${CNI_FAULTS_SEED:-$((${EPOCHREALTIME/./} % 32768))}
COOLDOWN=${CNI_FAULTS_COOLDOWN:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--loops) LOOPS=$2; shift 2 ;;
	--ops) OPS=$2; shift 2 ;;
	--kill) KILL=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	*) sed -n '4,31p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
KILL_MIN=${KILL%-*} KILL_MAX=${KILL#*-}

require_root
require_cmd ip socat jq nsenter ping timeout
if ! have_weft_module; then
	echo "1..0 # SKIP weft module not loaded"
	exit $ksft_skip
fi
WEFTD=${WEFTD:-$(dirname "$WEFT")/weftd}
[ -x "$WEFTD" ] || WEFTD=$E2E_TOP/build/manager/weftd
CNI=${CNI:-$(dirname "$WEFT")/weft-cni}
[ -x "$CNI" ] || CNI=$E2E_TOP/build/manager/weft-cni
for b in "$WEFTD" "$CNI" "$WEFT"; do
	if [ ! -x "$b" ]; then
		echo "1..0 # SKIP $b missing"
		exit $ksft_skip
	fi
done

NODE=cfn
NODE_ADDR=192.168.77.1
CF_DIR=$E2E_TMP
SOCK=$CF_DIR/weftd.sock
WLOG=$CF_DIR/weftd.log
CF_CONF=$(printf '{"cniVersion":"1.1.0","name":"weft","type":"weft-cni","socket":"%s"}' "$SOCK")
export CF_DIR CF_CONF
cp "$WEFTD" "$CF_DIR/weftd"
cp "$CNI" "$CF_DIR/weft-cni"
cp "$WEFT" "$CF_DIR/weft"
cp "$0" "$CF_DIR/cni-faults.sh"
WEFT=$CF_DIR/weft

KILLER_PID=
WORKER_PIDS=()
t_start=${EPOCHREALTIME/./}

weftd_start()
{
	echo "=== weftd start $(date +%T.%N) ===" >>"$WLOG"
	# at nice -10 whoever starts it (the killer runs at -10 itself)
	nsenter --net=/run/netns/$NODE nice -n $((-10 - $(nice))) "$CF_DIR/weftd" --node-name n1 \
		--datastore embedded --state-dir "$CF_DIR/state" --socket "$SOCK" \
		--underlay-dev u0 --node-addr $NODE_ADDR --encap none --nat 0 \
		--block-len 24 --ipam-cooldown "$COOLDOWN" >>"$WLOG" 2>&1 &
	echo $! >"$CF_DIR/weftd.pid"
	disown $!	# no "Killed" job notices; still reaped
}

weftd_pid() { cat "$CF_DIR/weftd.pid" 2>/dev/null; }

# api REQUEST [IDLE]: one request to weftd's local API; IDLE seconds
# without an answer end it (default 30)
api()
{
	printf '%s\n' "$1" | socat -t 10 -T "${2:-30}" - "UNIX-CONNECT:$SOCK" 2>/dev/null
}

weftd_ready() { [ "$(api '{"op":"status"}' "${1:-30}" | jq -r .ready 2>/dev/null)" = true ]; }

cleanup()
{
	local p ns

	touch "$CF_DIR/stop"
	for p in $KILLER_PID "${WORKER_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait $KILLER_PID "${WORKER_PIDS[@]}" 2>/dev/null
	p=$(weftd_pid)
	[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	for ns in $(ip netns list | awk '$1 ~ /^cf[0-9]+\.[0-9]+$|^cfn$/ {print $1}'); do
		ip netns del "$ns"
	done
}
trap cleanup EXIT

ip netns add $NODE
ip -n $NODE link set lo up
ip -n $NODE link add u0 type dummy
ip -n $NODE addr add $NODE_ADDR/24 dev u0
ip -n $NODE link set u0 up
# what a node has: forwarding on, a default route (proxy ARP answers for
# the pods' gateway 169.254.1.1 only when it is routable)
ip -n $NODE route add default via 192.168.77.254 dev u0
ip netns exec $NODE sysctl -qw net.ipv4.ip_forward=1

info "$LOOPS loops x $OPS CNI calls, weftd killed every $KILL_MIN-$KILL_MAX s," \
	"seed $SEED, ipam-cooldown $COOLDOWN s"
weftd_start
wait_for 60 weftd_ready
if ! log_test $? "weftd ready (embedded datastore, block /24)"; then
	tail -n 20 "$WLOG" | sed 's/^/# | /'
	finish
fi

# ------------------------------------------------------------------- faults

# killer: kill -9 weftd at random moments and start it again, until the
# loops are done (the file "stop"). Counts kills; a weftd found dead that we
# did not kill is a crash.
killer()
{
	local p w kills=0 crashes=0 span t_start t_ready ready

	# the killer's own timing must not starve behind the loops either
	renice -n -10 -p $BASHPID >/dev/null
	RANDOM=$((SEED + 7919))
	span=$(awk -v a="$KILL_MIN" -v b="$KILL_MAX" 'BEGIN { print int((b - a) * 1000) }')
	t_start=${EPOCHREALTIME/./}
	while [ ! -e "$CF_DIR/stop" ]; do
		# Three kills in four come while weftd serves: the pause counts
		# from its readiness, or from 10 s of waiting for it (under TCG a
		# start takes seconds); the fourth from its start. (A status call
		# that takes 2 s counts as not ready: weftd is still starting.)
		if [ $((RANDOM % 4)) != 0 ]; then
			t_ready=$((SECONDS + 10))
			while [ $SECONDS -lt $t_ready ]; do
				[ -e "$CF_DIR/stop" ] && break 2
				if weftd_ready 2; then
					# time from weftd's start to its first ready answer
					echo "ready $(((${EPOCHREALTIME/./} - t_start) / 1000))" >>"$CF_DIR/killer.log"
					break
				fi
				sleep 0.1
			done
		fi
		sleep "$(awk -v a="$KILL_MIN" -v r=$((RANDOM % (span + 1))) \
			'BEGIN { printf "%.3f", a + r / 1000 }')"
		[ -e "$CF_DIR/stop" ] && break
		p=$(weftd_pid)
		if ! kill -0 "$p" 2>/dev/null; then
			crashes=$((crashes + 1))
			echo "=== weftd $p died by itself ===" >>"$WLOG"
		else
			ready=serving
			weftd_ready 2 || ready=starting
			kill -9 "$p"
			kills=$((kills + 1))
			echo "kill $ready $(((${EPOCHREALTIME/./} - t_start) / 1000))" >>"$CF_DIR/killer.log"
		fi
		wait "$p" 2>/dev/null
		for ((w = 0; w < 100; w++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		weftd_start
		t_start=${EPOCHREALTIME/./}
		echo "$kills $crashes" >"$CF_DIR/kills"
	done
	echo "$kills $crashes" >"$CF_DIR/kills"
}

echo "0 0" >"$CF_DIR/kills"
: >"$CF_DIR/killer.log"
killer &
KILLER_PID=$!

for ((l = 0; l < LOOPS; l++)); do
	nsenter --net=/run/netns/$NODE bash "$CF_DIR/cni-faults.sh" --worker \
		$l "$OPS" $((l % 4 == 0)) $((SEED + l)) &
	WORKER_PIDS+=($!)
done
# A loop ends on its own (every call is under timeout 120); the deadline only
# guards against the script itself.
deadline=$((SECONDS + ${CNI_FAULTS_DEADLINE:-$((600 + OPS * 60))}))
t0_loops=$SECONDS next_progress=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
	running=0
	for p in "${WORKER_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && running=$((running + 1))
	done
	[ $running = 0 ] && break
	sleep 2
	if [ $SECONDS -ge $next_progress ]; then
		next_progress=$((SECONDS + 30))
		read -r k c <"$CF_DIR/kills"
		info "progress: $((SECONDS - t0_loops)) s, $(cat "$CF_DIR"/w.*.log |
			grep -cE '^(ADD|RADD|DEL) ') CNI calls, weftd kills $k (crashes $c)," \
			"$running loops running"
	fi
done
if [ $running != 0 ]; then
	info "loops still running at the deadline; the end of weftd's log:"
	tail -n 30 "$WLOG" | sed 's/^/# | /'
	for p in "${WORKER_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
fi
wait "${WORKER_PIDS[@]}" 2>/dev/null
t_loops=${EPOCHREALTIME/./}
touch "$CF_DIR/stop"
wait $KILLER_PID
KILLER_PID=
read -r KILLS CRASHES <"$CF_DIR/kills"
KILLS_STARTING=$(grep -c '^kill starting' "$CF_DIR/killer.log")
GIVEUPS=$(grep -c '^GIVEUP' "$CF_DIR"/w.*.log | awk -F: '{ s += $2 } END { print s + 0 }')
log_test $((running != 0 || GIVEUPS != 0)) \
	"the $LOOPS loops finished ($running still running, $GIVEUPS gave up)"
if [ $running != 0 ] || [ "$GIVEUPS" != 0 ]; then
	grep -h '^GIVEUP' "$CF_DIR"/w.*.log | head -n 5 | sed 's/^/# | /'
	grep -h '^FAILMSG' "$CF_DIR"/w.*.log | tail -n 5 | cut -c1-240 | sed 's/^/# | /'
	tail -n 30 "$WLOG" | sed 's/^/# | weftd: /'
fi

cat "$CF_DIR"/w.*.log >"$CF_DIR/all.log"
hangs=$(awk '($1=="ADD"||$1=="RADD") && $5=="hang" || $1=="DEL" && $4=="hang"' "$CF_DIR/all.log" | wc -l)
log_test $((hangs != 0)) "no CNI call hung (timeout 120 s): $hangs"

p=$(weftd_pid)
kill -0 "$p" 2>/dev/null || CRASHES=$((CRASHES + 1))
log_test $((CRASHES != 0)) "weftd never died but by our kill -9 ($KILLS kills, $CRASHES crashes)"
if [ "$CRASHES" != 0 ]; then
	grep -B 5 'died by itself' "$WLOG" | tail -n 20 | sed 's/^/# | /'
	kill -0 "$p" 2>/dev/null || weftd_start
fi
wait_for 60 weftd_ready
log_test $? "weftd ready after the faults"

# live pods: a successful ADD or RADD not followed by a successful DEL
awk '
	($1 == "ADD" || $1 == "RADD") && $4 == 0 { live[$2] = $3 " " $6 }
	$1 == "DEL" && $3 == 0 { delete live[$2] }
	END { for (id in live) print id, live[id] }' "$CF_DIR/all.log" | sort -V >"$CF_DIR/live"
NLIVE=$(wc -l <"$CF_DIR/live")
info "live pods: $NLIVE (expected $(((LOOPS + 3) / 4)), one per loop 0, 4, 8...)"

# Before GC: every ADD that failed was DELed until the DEL succeeded, so
# weftd holds only the live pods already; GC must have nothing to release.
api '{"op":"list"}' >"$CF_DIR/list.before.json"
jq -r '.attachments[].container_id' "$CF_DIR/list.before.json" 2>/dev/null |
	sort -V >"$CF_DIR/alloc.before"
LEAKED_BEFORE=$(awk 'NR == FNR { live[$1] = 1; next } !($1 in live)' \
	"$CF_DIR/live" "$CF_DIR/alloc.before" | wc -l)
check_before_gc()
{
	[ -s "$CF_DIR/list.before.json" ] || { echo "no answer to list"; return 1; }
	awk 'NR == FNR { live[$1] = 1; next } !($1 in live) { print "held after its DEL: " $0 }' \
		"$CF_DIR/live" "$CF_DIR/alloc.before" | head -n 10
	[ "$LEAKED_BEFORE" = 0 ]
}
step "before GC: weftd holds no address whose DEL succeeded ($LEAKED_BEFORE)" check_before_gc

# ------------------------------------------------------------------------ GC

gc_conf=$(jq -c -n --arg s "$SOCK" --rawfile live "$CF_DIR/live" '
	{cniVersion: "1.1.0", name: "weft", type: "weft-cni", socket: $s,
	 "cni.dev/valid-attachments": [$live | split("\n")[] | select(. != "") |
		split(" ") | {containerID: .[0], ifname: "eth0"}]}')
gc_out=$(printf '%s' "$gc_conf" | CNI_COMMAND=GC CNI_PATH=$CF_DIR \
	nsenter --net=/run/netns/$NODE timeout 60 "$CF_DIR/weft-cni" 2>&1)
gc_rc=$?
[ $gc_rc = 0 ] || echo "# | $gc_out"
log_test $gc_rc "GC with the $NLIVE live pods as valid attachments"

# -------------------------------------------------------------------- checks

api '{"op":"list"}' >"$CF_DIR/list.json"
jq -r '.attachments[] | "\(.container_id) \(.ifname) \(.host_ifname // "-") \(.addrs | join(","))"' \
	"$CF_DIR/list.json" | sort -V >"$CF_DIR/alloc"
LEAKED=$(awk 'NR == FNR { live[$1] = 1; next } !($1 in live)' "$CF_DIR/live" "$CF_DIR/alloc" | wc -l)
MISSING=$(awk 'NR == FNR { a[$1] = 1; next } !($1 in a)' "$CF_DIR/alloc" "$CF_DIR/live" | wc -l)
check_alloc()
{
	[ -s "$CF_DIR/list.json" ] || { echo "no answer to list"; return 1; }
	awk 'NR == FNR { live[$1] = 1; next } !($1 in live) { print "leaked: " $0 }' \
		"$CF_DIR/live" "$CF_DIR/alloc" | head -n 10
	awk 'NR == FNR { a[$1] = 1; next } !($1 in a) { print "missing: " $0 }' \
		"$CF_DIR/alloc" "$CF_DIR/live" | head -n 10
	[ "$LEAKED" = 0 ] && [ "$MISSING" = 0 ]
}
step "weftd's allocations are the live pods ($LEAKED leaked, $MISSING missing)" check_alloc

# duplicates: an address in two allocations; a live pod whose eth0 or ADD
# result differs from its allocation
awk '{ n = split($4, a, ","); for (i = 1; i <= n; i++) print a[i] }' "$CF_DIR/alloc" |
	sort | uniq -d >"$CF_DIR/dup"
: >"$CF_DIR/mismatch"
while read -r id ns addr; do
	want=$(awk -v id="$id" '$1 == id { print $4 }' "$CF_DIR/alloc")
	have=$(ip -n "$ns" -j addr show dev eth0 2>/dev/null |
		jq -r '[.[0].addr_info[]? | select(.scope == "global") | .local] | join(",")')
	if [ "$have" != "$want" ] || [ "$addr" != "$want" ]; then
		echo "$id ($ns): eth0 has ${have:-nothing}, its ADD returned $addr, weftd allocated ${want:-nothing}" >>"$CF_DIR/mismatch"
	fi
done <"$CF_DIR/live"
DUPS=$(($(wc -l <"$CF_DIR/dup") + $(wc -l <"$CF_DIR/mismatch")))
check_dups()
{
	sed 's/^/address allocated twice: /' "$CF_DIR/dup" | head -n 10
	head -n 10 "$CF_DIR/mismatch"
	[ "$DUPS" = 0 ]
}
step "no address twice; each live pod's eth0 = its ADD result = its allocation" check_dups

# the kernel's endpoints: exactly the live pods' host veths, their addresses
check_endpoints()
{
	nsenter --net=/run/netns/$NODE "$WEFT" -j endpoint show >"$CF_DIR/ep.json" || return 1
	jq -r '.[] | "\(.dev) \(.addrs | join(","))"' "$CF_DIR/ep.json" | sort >"$CF_DIR/ep"
	awk '$3 != "-" { print $3, $4 }' "$CF_DIR/alloc" | sort >"$CF_DIR/ep.want"
	ip -n $NODE -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		grep '^wft' | sort >"$CF_DIR/veths"
	awk '{ print $1 }' "$CF_DIR/ep.want" >"$CF_DIR/veths.want"
	local ok=0
	if [ "$(wc -l <"$CF_DIR/ep.want")" != "$NLIVE" ]; then
		echo "weftd knows $(wc -l <"$CF_DIR/ep.want") host veths for $NLIVE live pods"
		ok=1
	fi
	if ! diff "$CF_DIR/ep.want" "$CF_DIR/ep" >"$CF_DIR/ep.diff"; then
		echo "weft endpoint show (+) against the live pods (-):"
		head -n 10 "$CF_DIR/ep.diff"
		ok=1
	fi
	if ! diff "$CF_DIR/veths.want" "$CF_DIR/veths" >"$CF_DIR/veths.diff"; then
		echo "wft* veths on the node (+) against the live pods' (-):"
		head -n 10 "$CF_DIR/veths.diff"
		ok=1
	fi
	return $ok
}
step "kernel endpoints and host veths = the live pods" check_endpoints

# the datapath: every live pod pings the next one; the first the node too
mapfile -t LIVE_NS < <(awk '{ print $2 }' "$CF_DIR/live")
mapfile -t LIVE_IP < <(awk '{ print $3 }' "$CF_DIR/live")
if [ "$NLIVE" -gt 0 ]; then
	pcheck "pod ${LIVE_NS[0]} -> node $NODE_ADDR" \
		ip netns exec "${LIVE_NS[0]}" ping -c 2 -i 0.2 -W 3 $NODE_ADDR
fi
if [ "$NLIVE" -gt 1 ]; then
	for ((i = 0; i < NLIVE; i++)); do
		j=$(((i + 1) % NLIVE))
		pcheck "pod ${LIVE_NS[i]} -> pod ${LIVE_NS[j]} (${LIVE_IP[j]})" \
			ip netns exec "${LIVE_NS[i]}" ping -c 2 -i 0.2 -W 3 "${LIVE_IP[j]}"
	done
fi
pflush

# ------------------------------------------------------------------ figures

t_end=${EPOCHREALTIME/./}
awk -v loops="$LOOPS" -v ops="$OPS" -v kills="$KILLS" -v starting="$KILLS_STARTING" -v live="$NLIVE" \
	-v leaked="$LEAKED" -v dups="$DUPS" -v missing="$MISSING" \
	-v tl=$(((t_loops - t_start) / 1000000)) -v tt=$(((t_end - t_start) / 1000000)) '
	$1 == "ADD" || $1 == "RADD" || $1 == "DEL" { calls++ }
	$1 == "ADD" || $1 == "RADD" { adds++; if ($4 == 0) addok++; else af[$5]++ }
	$1 == "RADD" { radds++; if ($4 == 0) raddok++ }
	$1 == "DEL" { dels++; if ($3 == 0) delok++; else df[$4]++ }
	END {
		printf "figures: %d loops x %d calls: %d CNI calls (%d ADD, %d DEL) in %d s (%d s in all)\n",
			loops, ops, calls, adds, dels, tl, tt
		printf "figures: ADD ok %d, failed %d by code:", addok, adds - addok
		for (c in af) printf " %s=%d", c, af[c]
		printf "; retried ADDs (same id) %d, ok %d\n", radds, raddok
		printf "figures: DEL ok %d, failed %d by code:", delok, dels - delok
		for (c in df) printf " %s=%d", c, df[c]
		printf "\n"
		printf "figures: weftd kills %d (%d while it started); live pods %d; leaked %d; missing %d; duplicates %d\n",
			kills, starting, live, leaked, missing, dups
	}' "$CF_DIR/all.log" | tee "$CF_DIR/figures" | sed 's/^/# /'
# spread: "N, median X s, p99 Y s, max Z s; K over 30 s" of the
# milliseconds on stdin
spread()
{
	sort -n | awk '{ v[NR] = $1 } $1 > 30000 { slow++ } END {
		printf "%d", NR
		if (NR)
			printf ", median %.1f s, p99 %.1f s, max %.1f s; %d over 30 s", v[int((NR + 1) / 2)] / 1000,
				v[int((NR * 99 + 99) / 100)] / 1000, v[NR] / 1000, slow }'
}
# how long the calls took (ms: the last field of ADD, RADD and DEL lines);
# weftd's starts under the loops: ms from exec to its first ready answer
# (as seen by the killer's polls), and each kill's ms after its start
{
	echo "figures: call times: $(awk '$1 == "ADD" || $1 == "RADD" || $1 == "DEL" { print $NF }' \
		"$CF_DIR/all.log" | spread)"
	echo "figures: weftd start to ready: $(awk '$1 == "ready" { print $2 }' "$CF_DIR/killer.log" | spread)"
	echo "figures: kills after weftd's start: $(awk '$1 == "kill" { print $3 }' "$CF_DIR/killer.log" | spread)"
} | tee -a "$CF_DIR/figures" | sed 's/^/# /'
# the first few failure messages of each kind, for the record
awk '$1 == "FAILMSG" { k = $3 " " $4 " " $5 " " $6 " " $7; if (!(k in seen)) { seen[k] = 1; print } }' \
	"$CF_DIR/all.log" | cut -c1-240 | head -n 12 | sed 's/^/# failure seen: /'

# ------------------------------------------------------------------ cleanup

check_cleanup()
{
	local p ns left

	p=$(weftd_pid)
	kill -TERM "$p"
	if ! wait_for 30 eval "! kill -0 $p 2>/dev/null"; then
		echo "weftd $p did not stop on SIGTERM"
		kill -9 "$p"
		return 1
	fi
	for ns in $(ip netns list | awk '$1 ~ /^cf[0-9]+\.[0-9]+$|^cfn$/ {print $1}'); do
		ip netns del "$ns"
	done
	left=$(ip netns list | awk '$1 ~ /^cf[0-9]+\.[0-9]+$|^cfn$/' | wc -l)
	[ "$left" = 0 ] || { echo "$left netns left"; return 1; }
	left=$(pgrep -f "$CF_DIR/" | wc -l)
	[ "$left" = 0 ] || { echo "processes left:"; pgrep -af "$CF_DIR/"; return 1; }
}
step "cleanup: weftd stops on SIGTERM, no netns or process left" check_cleanup
if [ -n "${CNI_FAULTS_LOGS:-}" ]; then
	mkdir -p "$CNI_FAULTS_LOGS" &&
		cp "$WLOG" "$CF_DIR/all.log" "$CF_DIR/figures" "$CF_DIR/killer.log" "$CNI_FAULTS_LOGS/" &&
		info "logs copied to $CNI_FAULTS_LOGS"
fi
trap - EXIT
finish
