#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# weft-cni driven as container runtimes drive it: through libcni and
# containerd's go-cni (tests/cni/runtime, weft-cni-runtime), with the shipped
# conflist (packaging/10-weft.conflist: weft-cni, portmap, bandwidth), and by
# the CNI spec's own invocation (environment + stdin) for what the libraries
# cannot do (1.1.0 results, STATUS, GC).
#
#   cni.sh   (env WEFTD=, default the weftd next to $WEFT; WEFT_CNI=, default
#             build/manager/weft-cni; CNI_RUNTIME=, default
#             build/cni-runtime/weft-cni-runtime, "make cni-runtime")
#
#   outside netns  eth0 192.168.60.2/24 ---- eth0 192.168.60.1/24  node netns
#                                            weftd (embedded datastore),
#                                            weft0, portmap's iptables,
#                                            the runtime driver
#   pod netns (ip netns add) connected by weft-cni: wft... <-> eth0
#
# Checks (one TAP line each):
#   - libcni ADD of 2 pods: result cniVersion 1.0.0, address in the node's
#     block; the pods ping each other and the node; CHECK passes; with the
#     pod's default route deleted CHECK fails with weft-cni's error (101);
#     DEL removes the host veth and releases the address; a second DEL works
#   - go-cni Setup with a port mapping 8080 -> 80/tcp: a connection from the
#     outside netns to the node's address:8080 reaches a server in the pod;
#     Remove deletes the DNAT (the connection then fails) and the pod's veth
#   - go-cni Setup with a bandwidth of 10 Mbit/s each way: iperf3 pod -> node
#     and node -> pod stay below 1.3x the limit, an unlimited pod is much
#     faster in the same run; Remove deletes the ifb device
#   - spec invocation, cniVersion 1.1.0: ADD (result 1.1.0), CHECK, DEL;
#     CHECK fails (101) once the endpoint is gone from weft.ko; STATUS 0;
#     GC with cni.dev/valid-attachments keeping one pod releases the other
#     (weftd's list, its host veth, weft endpoint show); ADD over a stale
#     host veth of the same attachment recovers
#   - errors, as the spec's error JSON on stdout and exit 1: invalid JSON
#     (6), no CNI_CONTAINERID (4), unsupported cniVersion (1), nothing left
#     behind; weftd stopped: STATUS 50, ADD 11, nothing left behind
#   - cleanup: weftd exits 0 on SIGTERM, no wft* link, netns all deleted
#
# Needs root, the weft module, iproute2, socat, jq, curl, iperf3, iptables,
# containernetworking-plugins (/usr/lib/cni).

source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip socat jq curl nsenter ping iperf3 iptables
if ! have_weft_module; then
	echo "1..0 # SKIP weft module not loaded"
	exit $ksft_skip
fi
WEFTD=${WEFTD:-$(dirname "$WEFT")/weftd}
[ -x "$WEFTD" ] || WEFTD=$E2E_TOP/build/manager/weftd
WEFT_CNI=${WEFT_CNI:-$E2E_TOP/build/manager/weft-cni}
CNI_RUNTIME=${CNI_RUNTIME:-$E2E_TOP/build/cni-runtime/weft-cni-runtime}
PLUGINS=/usr/lib/cni
for f in "$WEFTD" "$WEFT_CNI" "$CNI_RUNTIME" $PLUGINS/portmap $PLUGINS/bandwidth \
	$PLUGINS/loopback; do
	if [ ! -x "$f" ]; then
		echo "1..0 # SKIP $f missing (make manager cni-runtime; containernetworking-plugins)"
		exit $ksft_skip
	fi
done

P=wcni$$-
NODE=${P}node
OUT=${P}out
NODE4=192.168.60.1
OUT4=192.168.60.2
SOCK=$E2E_TMP/weftd.sock
HTTP=127.0.0.1:9603
LIMIT=10000000	# bit/s, the bandwidth checks' limit
WEFTD_PID=
SERVER_PIDS=()
BLOCK=
declare -A ADDR HOSTIF	# per pod: its address, its host veth

# ------------------------------------------------------------------ helpers

pod() { echo "$P$1"; }
cid() { echo "cni-e2e-$P$1"; }
nsp() { echo "/run/netns/$P$1"; }

api()
{
	printf '%s\n' "$1" | socat -t 10 -T 20 - "UNIX-CONNECT:$SOCK"
}

readyz_200()
{
	[ "$(in_ns "$NODE" curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
		"http://$HTTP/readyz" 2>/dev/null)" = 200 ]
}

# rt LIB VERB POD [OPTIONS]: the runtime driver in the node netns, with the
# shipped conflist ($CONFLIST) unless RT_CONFLIST names another
rt()
{
	local lib=$1 verb=$2 p=$3

	shift 3
	in_ns "$NODE" "$CNI_RUNTIME" "$lib" "$verb" --conflist "${RT_CONFLIST:-$CONFLIST}" \
		--cni-path "$CNI_PATH_DIR" --netns "$(nsp "$p")" --id "$(cid "$p")" \
		--ifname eth0 --arg K8S_POD_NAMESPACE=e2e --arg "K8S_POD_NAME=$p" "$@"
}

# spec VERB POD STDIN [VAR=VALUE...]: weft-cni run directly, as the spec
# says (only the CNI_* environment; POD "-" leaves out the pod variables)
spec()
{
	local verb=$1 p=$2 conf=$3 env

	shift 3
	env=(CNI_COMMAND="$verb" CNI_PATH="$CNI_PATH_DIR")
	if [ "$p" != - ]; then
		env+=(CNI_CONTAINERID="$(cid "$p")" CNI_NETNS="$(nsp "$p")" CNI_IFNAME=eth0
			CNI_ARGS="K8S_POD_NAMESPACE=e2e;K8S_POD_NAME=$p;K8S_POD_INFRA_CONTAINER_ID=$(cid "$p");K8S_POD_UID=uid-$p;IgnoreUnknown=1")
	fi
	printf '%s' "$conf" | in_ns "$NODE" env -i "${env[@]}" "$@" "$CNI_DIR/weft-cni"
}

# conf11 [JQ FILTER]: a cniVersion 1.1.0 configuration for weft-cni alone
conf11()
{
	if [ $# = 0 ]; then
		echo "$CONF11"
	else
		jq -c "$1" <<<"$CONF11"
	fi
}

listed()	# listed ADDR: weftd's list has an attachment with ADDR
{
	api '{"op":"list"}' | jq -e --arg a "$1" '[.attachments[]? | select(.addrs | index($a))] | length > 0' >/dev/null
}

wft_links() { ip -n "$NODE" -o link show | grep -o ' wft[0-9a-f]*[@:]' | tr -d ' @:'; }

link_exists() { ip -n "$NODE" link show dev "$1" >/dev/null 2>&1; }

# in_block ADDR: ADDR is in the node's block (a /24)
in_block() { [[ $1 == "${BLOCK%.0/*}".* ]]; }

# remember POD RESULT: address and host veth from an ADD result
remember()
{
	local a h

	read -r a h < <(jq -r '[(.ips[0].address | split("/")[0]),
		([.interfaces[] | select(has("sandbox") | not) | .name][0])] | @tsv' <<<"$2")
	ADDR[$1]=$a
	HOSTIF[$1]=$h
}

# error_is CODE OUTFILE RC: exit 1 and the spec's error JSON with CODE
error_is()
{
	local code=$1 f=$2 rc=$3

	echo "exit $rc, stdout: $(cat "$f")"
	[ "$rc" = 1 ] || return 1
	jq -e --argjson c "$code" '.code == $c and (.msg | type == "string") and
		(.cniVersion | type == "string")' "$f" >/dev/null
}

# ---------------------------------------------------------------- topology

build()
{
	local p

	{
		echo "netns add $NODE"
		echo "netns add $OUT"
		for p in p1 p2 pm bw1 bw2 s1 s2 r1 e1; do
			echo "netns add $(pod "$p")"
		done
	} | ip -batch - || return 1
	ip -n "$NODE" -batch - <<-EOF || return 1
		link set lo up
		link add eth0 type veth peer name eth0 netns $OUT
		addr add $NODE4/24 dev eth0
		link set eth0 up
		route add default via $OUT4
	EOF
	ip -n "$OUT" -batch - <<-EOF || return 1
		link set lo up
		addr add $OUT4/24 dev eth0
		link set eth0 up
	EOF
	in_ns "$NODE" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
}

weftd_start()
{
	nsenter --net="/run/netns/$NODE" "$WEFTD" --node-name cni-node --datastore embedded \
		--underlay-dev eth0 --node-addr "$NODE4" \
		--state-dir "$E2E_TMP/state" --socket "$SOCK" --http-listen "$HTTP" \
		--resync-interval 3600 \
		</dev/null >>"$E2E_TMP/weftd.log" 2>&1 &
	WEFTD_PID=$!
	E2E_BG_PIDS=("$WEFTD_PID")
}

wait_ready()
{
	local t0=$SECONDS

	if ! wait_for 60 readyz_200; then
		echo "weftd not ready after 60 s"
		tail -n 20 "$E2E_TMP/weftd.log"
		return 1
	fi
	BLOCK=$(api '{"op":"status"}' | jq -r '.blocks[0] // empty')
	echo "ready after $((SECONDS - t0)) s, block $BLOCK"
	[[ $BLOCK =~ ^[0-9.]+\.0/24$ ]]
}

# ------------------------------------------------------------------ libcni

libcni_add()
{
	local p=$1 out

	out=$(rt libcni add "$p" --cache-dir "$E2E_TMP/cache") || { echo "$out"; return 1; }
	echo "$out"
	remember "$p" "$out"
	jq -e '.cniVersion == "1.0.0" and (.interfaces | length == 2) and
		(.interfaces[1].sandbox | length > 0) and
		(.ips[0].interface == 1)' <<<"$out" >/dev/null || { echo "not a 1.0.0 result"; return 1; }
	in_block "${ADDR[$p]}" || { echo "${ADDR[$p]} not in $BLOCK"; return 1; }
	link_exists "${HOSTIF[$p]}" || { echo "no host veth ${HOSTIF[$p]}"; return 1; }
	listed "${ADDR[$p]}"
}

pings()
{
	in_ns "$(pod p1)" ping -c 2 -i 0.2 -W 3 "${ADDR[p2]}" &&
		in_ns "$(pod p2)" ping -c 2 -i 0.2 -W 3 "${ADDR[p1]}" &&
		in_ns "$(pod p1)" ping -c 2 -i 0.2 -W 3 "$NODE4"
}

check_fails_tampered()
{
	local out rc

	ip -n "$(pod p1)" route del default || return 1
	out=$(rt libcni check p1 --cache-dir "$E2E_TMP/cache" 2>"$E2E_TMP/check.err")
	rc=$?
	echo "exit $rc: $out"
	cat "$E2E_TMP/check.err"
	[ $rc = 1 ] && jq -e '.code == 101 and (.msg | test("route"))' <<<"$out" >/dev/null
}

libcni_del()
{
	rt libcni del p1 --cache-dir "$E2E_TMP/cache" || return 1
	if link_exists "${HOSTIF[p1]}"; then
		echo "${HOSTIF[p1]} still there"
		return 1
	fi
	if listed "${ADDR[p1]}"; then
		echo "${ADDR[p1]} still allocated"
		return 1
	fi
	ip -n "$(pod p1)" -br link
}

# ------------------------------------------------------------------- go-cni

gocni_portmap()
{
	local out

	out=$(rt gocni setup pm --port-map 8080:80/tcp) || { echo "$out"; return 1; }
	echo "$out"
	remember pm "$out"
	in_block "${ADDR[pm]}" || return 1
	nsenter --net="$(nsp pm)" socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo hello-from-pod' \
		</dev/null >/dev/null 2>&1 &
	SERVER_PIDS+=($!)
	in_ns "$NODE" iptables -t nat -S | grep -- '--dport 8080'
	wait_for 10 eval "in_ns $OUT socat -T 3 - TCP:$NODE4:8080,connect-timeout=3 </dev/null 2>/dev/null | grep -q hello-from-pod"
}

gocni_portmap_remove()
{
	rt gocni remove pm --port-map 8080:80/tcp || return 1
	if in_ns "$NODE" iptables -t nat -S | grep -- '--dport 8080'; then
		echo "DNAT of 8080 still there"
		return 1
	fi
	if in_ns "$OUT" socat -T 2 - TCP:$NODE4:8080,connect-timeout=2 </dev/null 2>&1 |
		grep -q hello-from-pod; then
		echo "8080 still reaches the pod"
		return 1
	fi
	! link_exists "${HOSTIF[pm]}" && ! listed "${ADDR[pm]}"
}

# iperf POD [-R]: bit/s of a 3 s TCP stream pod -> node (-R: node -> pod)
iperf()
{
	in_ns "$(pod "$1")" iperf3 -c "$NODE4" -t 3 -J "${@:2}" 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second | floor'
}

bandwidth()
{
	local out e i u lim=$((LIMIT * 13 / 10))

	out=$(rt gocni setup bw1 --bandwidth "$LIMIT,$LIMIT") || { echo "$out"; return 1; }
	remember bw1 "$out"
	out=$(rt gocni setup bw2) || { echo "$out"; return 1; }
	remember bw2 "$out"
	tc -n "$NODE" qdisc show | grep -E 'tbf|ingress'
	nsenter --net="/run/netns/$NODE" iperf3 -s -B "$NODE4" </dev/null >/dev/null 2>&1 &
	SERVER_PIDS+=($!)
	sleep 0.5
	e=$(iperf bw1)
	i=$(iperf bw1 -R)
	u=$(iperf bw2)
	echo "limited pod: egress ${e:-?} bit/s, ingress ${i:-?} bit/s (limit $LIMIT);" \
		"unlimited pod: egress ${u:-?} bit/s"
	[ -n "$e" ] && [ -n "$i" ] && [ -n "$u" ] || return 1
	[ "$e" -lt $lim ] && [ "$i" -lt $lim ] && [ "$u" -gt $((LIMIT * 3)) ]
}

bandwidth_remove()
{
	local ifb

	ifb=$(ip -n "$NODE" -o link show type ifb | wc -l)
	echo "ifb devices before: $ifb"
	rt gocni remove bw1 --bandwidth "$LIMIT,$LIMIT" && rt gocni remove bw2 || return 1
	ip -n "$NODE" -o link show type ifb
	[ "$(ip -n "$NODE" -o link show type ifb | wc -l)" = 0 ] &&
		! link_exists "${HOSTIF[bw1]}" && ! link_exists "${HOSTIF[bw2]}"
}

# --------------------------------------------------------------------- spec

spec_add()
{
	local p=$1 out

	out=$(spec ADD "$p" "$(conf11)") || { echo "$out"; return 1; }
	echo "$out"
	remember "$p" "$out"
	echo "$out" >"$E2E_TMP/add.$p.json"
	jq -e '.cniVersion == "1.1.0"' <<<"$out" >/dev/null && in_block "${ADDR[$p]}" &&
		link_exists "${HOSTIF[$p]}"
}

spec_check()
{
	local out

	out=$(spec CHECK s1 "$(conf11 ".prevResult = $(cat "$E2E_TMP/add.s1.json")")")
	echo "exit $?, stdout: '$out'"
	[ -z "$out" ]
}

# CHECK also looks into weft.ko: with the endpoint deleted there (weftd's
# resync, which would put it back, is an hour away) it fails with 101
spec_check_endpoint()
{
	local out rc

	weft_in "$NODE" endpoint del "${ADDR[s1]}" weft weft0 || return 1
	out=$(spec CHECK s1 "$(conf11 ".prevResult = $(cat "$E2E_TMP/add.s1.json")")")
	rc=$?
	echo "exit $rc, stdout: '$out'"
	weft_in "$NODE" endpoint add "${ADDR[s1]}" dev "${HOSTIF[s1]}" weft weft0 || return 1
	[ $rc = 1 ] && jq -e '.code == 101' <<<"$out" >/dev/null
}

# ADD over a stale host veth of the same attachment (left by a crash
# between the veth and the runtime learning of it) recovers: the veth is
# made again and the pod works
spec_add_stale()
{
	local out rc host

	spec_add r1 >/dev/null || { echo "first ADD failed"; return 1; }
	host=${HOSTIF[r1]}
	spec DEL r1 "$(conf11)" || return 1
	ip -n "$NODE" link add "$host" type veth peer name stale0 || return 1
	out=$(spec ADD r1 "$(conf11)")
	rc=$?
	echo "exit $rc: $out"
	if [ $rc != 0 ]; then
		ip -n "$NODE" link del "$host"
		return 1
	fi
	remember r1 "$out"
	! link_exists stale0 && link_exists "$host" && listed "${ADDR[r1]}" &&
		in_ns "$(pod r1)" ping -c 1 -W 3 "$NODE4" >/dev/null &&
		spec DEL r1 "$(conf11)" && ! link_exists "$host"
}

spec_del()
{
	spec DEL s1 "$(conf11)" && ! link_exists "${HOSTIF[s1]}" && ! listed "${ADDR[s1]}" &&
		spec DEL s1 "$(conf11)"
}

spec_status_up()
{
	local out

	out=$(spec STATUS - "$(conf11)")
	echo "exit $?, stdout: '$out'"
	[ -z "$out" ]
}

spec_gc()
{
	local keep out

	keep=$(jq -cn --arg c "$(cid s1)" '[{containerID: $c, ifname: "eth0"}]')
	out=$(spec GC - "$(conf11 ".\"cni.dev/valid-attachments\" = $keep")") ||
		{ echo "GC: $out"; return 1; }
	echo "after GC: $(api '{"op":"list"}')"
	weft_in "$NODE" endpoint show weft weft0 | tee "$E2E_TMP/ep"
	if ! listed "${ADDR[s1]}" || ! link_exists "${HOSTIF[s1]}"; then
		echo "GC released s1"
		return 1
	fi
	! listed "${ADDR[s2]}" && ! link_exists "${HOSTIF[s2]}" &&
		! grep -q "^${ADDR[s2]} " "$E2E_TMP/ep" && grep -q "^${ADDR[s1]} " "$E2E_TMP/ep"
}

# ------------------------------------------------------------------- errors

spec_error()	# spec_error CODE VERB POD STDIN [VAR=VALUE...]
{
	local code=$1 rc

	shift
	spec "$@" >"$E2E_TMP/err.out" 2>"$E2E_TMP/err.stderr"
	rc=$?
	sed 's/^/stderr: /' "$E2E_TMP/err.stderr"
	error_is "$code" "$E2E_TMP/err.out" $rc
}

nothing_left()	# nothing_left POD [API]: no veth, no pod eth0 (and no allocation)
{
	local c links

	c=$(cid "$1")
	links=$(wft_links)
	[ -z "$links" ] || { echo "left: $links"; return 1; }
	ip -n "$(pod "$1")" link show dev eth0 2>/dev/null && return 1
	[ "${2:-}" = api ] || return 0
	api '{"op":"list"}' | jq -e --arg c "$c" '[.attachments[] | select(.container_id == $c)] | length == 0'
}

weftd_stop()
{
	local rc

	kill -TERM "$WEFTD_PID"
	wait "$WEFTD_PID"
	rc=$?
	WEFTD_PID=
	E2E_BG_PIDS=()
	echo "weftd exit status $rc"
	tail -n 3 "$E2E_TMP/weftd.log"
	[ $rc = 0 ] && [ ! -e "$SOCK" ]
}

spec_status_down()
{
	local rc

	spec STATUS - "$(conf11)" >"$E2E_TMP/st.out" 2>"$E2E_TMP/st.err"
	rc=$?
	cat "$E2E_TMP/st.err"
	error_is 50 "$E2E_TMP/st.out" $rc
}

# ------------------------------------------------------------------ cleanup

remove_netns()
{
	local ns

	for ns in $(ip netns list | awk '{print $1}' | grep "^$P"); do
		ip netns del "$ns"
	done
}

all_clean()
{
	local left

	left=$(ip netns list | grep "^$P")
	[ -z "$left" ] || { echo "netns left: $left"; return 1; }
	left=$(ip -o link show | grep -o ' wft[0-9a-f]*[@:]')
	[ -z "$left" ] || { echo "links left: $left"; return 1; }
	left=$(grep -rl "cni-e2e-$P" /var/lib/cni "$E2E_TMP/cache" 2>/dev/null)
	[ -z "$left" ] || { echo "go-cni cache left: $left"; return 1; }
	return 0
}

cleanup()
{
	local p

	for p in $WEFTD_PID "${SERVER_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	remove_netns
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT

# ===================================================================== run

# binaries from the tmpfs (the 9p root is slow to load from under TCG)
CNI_DIR=$E2E_TMP/cni-bin
mkdir -p "$CNI_DIR"
cp "$WEFTD" "$E2E_TMP/weftd" && WEFTD=$E2E_TMP/weftd
cp "$WEFT" "$E2E_TMP/weft" && WEFT=$E2E_TMP/weft
cp "$CNI_RUNTIME" "$E2E_TMP/weft-cni-runtime" && CNI_RUNTIME=$E2E_TMP/weft-cni-runtime
cp "$WEFT_CNI" "$CNI_DIR/weft-cni"
cp $PLUGINS/portmap $PLUGINS/bandwidth $PLUGINS/loopback "$CNI_DIR/"
CNI_PATH_DIR=$CNI_DIR
CONFLIST=$E2E_TMP/10-weft.conflist
jq --arg s "$SOCK" '.plugins[0].socket = $s' "$E2E_TOP/packaging/10-weft.conflist" >"$CONFLIST"
jq '.plugins |= map(select(.type != "bandwidth"))' "$CONFLIST" >"$E2E_TMP/weft-portmap.conflist"
CONF11=$(jq -cn --arg s "$SOCK" '{cniVersion: "1.1.0", name: "weft", type: "weft-cni", socket: $s}')
info "weftd $("$WEFTD" -V 2>&1), conflist: $(jq -c '[.plugins[].type]' "$CONFLIST")"

step "topology: node netns, outside netns, pod netns" build || finish
weftd_start
step "weftd (embedded datastore) ready, node block" wait_ready || finish

# libcni, with the shipped conflist minus bandwidth: the bandwidth plugin of
# containernetworking-plugins before 1.9.1 crashes on a CHECK without a
# bandwidth setting (nil dereference, containernetworking/plugins#1221)
RT_CONFLIST=$E2E_TMP/weft-portmap.conflist
step "libcni ADD pod 1: 1.0.0 result, address in the block, host veth" libcni_add p1
step "libcni ADD pod 2" libcni_add p2
step "pods ping each other and the node" pings
step "libcni CHECK passes" rt libcni check p1 --cache-dir "$E2E_TMP/cache"
step "libcni CHECK fails (weft-cni error 101) with the pod's default route gone" \
	check_fails_tampered
step "libcni DEL: host veth gone, address released" libcni_del
step "libcni DEL again succeeds" rt libcni del p1 --cache-dir "$E2E_TMP/cache"
step "libcni DEL pod 2" eval 'rt libcni del p2 --cache-dir "$E2E_TMP/cache" && ! listed "${ADDR[p2]}"'

# go-cni, with the shipped conflist
RT_CONFLIST=
step "go-cni Setup with hostPort 8080 -> 80: reachable from outside the node" gocni_portmap
step "go-cni Remove: DNAT gone, connection fails, pod released" gocni_portmap_remove
step "go-cni Setup with bandwidth $((LIMIT / 1000000)) Mbit/s: iperf3 under 1.3x, unlimited faster" \
	bandwidth
step "go-cni Remove of the bandwidth pods: ifb and veths gone" bandwidth_remove

# the spec's own invocation
step "spec: ADD with cniVersion 1.1.0 gives a 1.1.0 result" spec_add s1
step "spec: CHECK with prevResult passes (empty stdout)" spec_check
step "spec: CHECK fails (101) with the endpoint gone from weft.ko" spec_check_endpoint
step "spec: STATUS with weftd up exits 0" spec_status_up
step "spec: ADD pod s2" spec_add s2
step "spec: GC keeping s1 releases s2 (list, veth, weft endpoint show)" spec_gc
step "spec: DEL (twice)" spec_del
step "spec: ADD over a stale host veth recovers" spec_add_stale

# errors
step "error: invalid JSON -> code 6" spec_error 6 ADD e1 '{"cniVersion": "1.0.0", '
step "error: no CNI_CONTAINERID -> code 4" \
	spec_error 4 ADD - "$(conf11)" CNI_NETNS="$(nsp e1)" CNI_IFNAME=eth0
step "error: cniVersion 9.9.9 -> code 1" spec_error 1 ADD e1 "$(conf11 '.cniVersion = "9.9.9"')"
step "errors left nothing behind (no veth, no allocation)" nothing_left e1 api
step "weftd exits 0 on SIGTERM" weftd_stop
step "spec: STATUS with weftd stopped -> code 50" spec_status_down
step "error: ADD with weftd stopped -> code 11" spec_error 11 ADD e1 "$(conf11)"
step "failed ADD left nothing behind (no veth, no pod interface)" nothing_left e1

# cleanup
for p in "${SERVER_PIDS[@]}"; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
SERVER_PIDS=()
remove_netns
step "cleanup: no netns, no wft* link, no cached results left" all_clean
finish
