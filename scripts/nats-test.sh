#!/bin/sh
# A throwaway 3-node NATS cluster on loopback for tests and `make cluster`: three nats-server
# processes on free client and route ports, routed to each other (cluster name pier-test), in
# a new temporary directory (logs, pid files, the ports).
#
#   scripts/nats-test.sh start [STATE]  starts it; waits until every node has its two routes;
#                                       prints the client URLs, comma-separated
#                                       (nats://127.0.0.1:P1,nats://127.0.0.1:P2,...).
#                                       STATE (a directory) gets `urls` and `dir`.
#   scripts/nats-test.sh stop STATE|DIR stops the three (TERM, then KILL) and removes the directory.
#   scripts/nats-test.sh pause STATE|DIR   stops the three, keeps their ports (a bus outage);
#   scripts/nats-test.sh resume STATE|DIR  starts them again on the same ports.
#   scripts/nats-test.sh stop-node STATE|DIR N / start-node STATE|DIR N   one node (1..3).
#   scripts/nats-test.sh urls STATE|DIR prints the URLs again.
# Every wait is bounded (NATS_TEST_TIMEOUT seconds, default 20).
set -eu

NODES=3
TIMEOUT=${NATS_TEST_TIMEOUT:-20}

die() { echo "nats-test: $*" >&2; exit 1; }

free_port() {
	i=0
	while [ $i -lt 200 ]; do
		p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 + 20000 ))
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && ! grep -qx "$p" "$dir/ports" 2>/dev/null; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	die "no free port found"
}

cluster_dir() {
	if [ -f "$1/dir" ]; then cat "$1/dir"; else echo "$1"; fi
}

# The Nth line of DIR/ports: client ports are lines 1..3, route ports 4..6.
port_of() { sed -n "${1}p" "$dir/ports"; }

is_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

pid_of() { cat "$dir/n$1.pid" 2>/dev/null || true; }

node_running() {
	pid=$(pid_of "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

start_node() {
	n=$1
	node_running "$n" && return 0
	cport=$(port_of "$n")
	rport=$(port_of $((n + NODES)))
	routes=""
	for m in $(seq 1 $NODES); do
		[ "$m" -eq "$n" ] && continue
		routes="${routes:+$routes,}nats://127.0.0.1:$(port_of $((m + NODES)))"
	done
	: >"$dir/n$n.log"
	nohup nats-server -a 127.0.0.1 -p "$cport" -n "pier-test-$n" \
		--cluster "nats://127.0.0.1:$rport" --cluster_name pier-test --routes "$routes" \
		-l "$dir/n$n.log" -P "$dir/n$n.pid" </dev/null >>"$dir/n$n.out" 2>&1 &
	echo $! >"$dir/n$n.pid"
}

# Stops the nodes given (TERM to all at once, then waits, then KILL).
stop_nodes() {
	pids=""
	for n in "$@"; do
		pid=$(pid_of "$n")
		[ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; pids="$pids $pid"; }
	done
	i=0
	for pid in $pids; do
		while kill -0 "$pid" 2>/dev/null && [ $i -lt $((TIMEOUT * 10)) ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	for n in "$@"; do rm -f "$dir/n$n.pid"; done
}

# Waits until every running node listens and has a route to each other running node.
wait_ready() {
	want_routes=$(( $1 - 1 ))
	i=0
	while [ $i -lt $((TIMEOUT * 10)) ]; do
		ok=1
		for n in $(seq 1 $NODES); do
			node_running "$n" || continue
			is_listening "$(port_of "$n")" || ok=0
			r=$(grep -c "Route connection created" "$dir/n$n.log" 2>/dev/null || true)
			[ "${r:-0}" -ge "$want_routes" ] || ok=0
		done
		[ $ok -eq 1 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	for n in $(seq 1 $NODES); do tail -n 5 "$dir/n$n.log" >&2 || true; done
	die "the NATS cluster did not form within ${TIMEOUT}s"
}

urls() {
	u=""
	for n in $(seq 1 $NODES); do u="${u:+$u,}nats://127.0.0.1:$(port_of "$n")"; done
	echo "$u"
}

start_all() {
	for n in $(seq 1 $NODES); do start_node "$n"; done
	wait_ready $NODES
}

stop_all() {
	stop_nodes $(seq 1 $NODES)
}

do_start() {
	command -v nats-server >/dev/null || die "nats-server is missing (scripts/deps.sh installs it)"
	state=${1:-}
	dir=$(mktemp -d "${TMPDIR:-/tmp}/pier-nats-XXXXXX")
	: >"$dir/ports"
	for i in $(seq 1 $((NODES * 2))); do free_port >>"$dir/ports"; done
	start_all
	urls >"$dir/urls"
	if [ -n "$state" ]; then
		mkdir -p "$state"
		echo "$dir" >"$state/dir"
		cp "$dir/urls" "$state/urls"
	fi
	echo "nats-test: NATS cluster in $dir (stop: $0 stop ${state:-$dir})" >&2
	cat "$dir/urls"
}

cmd=${1:-}
[ $# -ge 1 ] && shift
case "$cmd" in
start) do_start "${1:-}"; exit 0 ;;
stop|pause|resume|urls|stop-node|start-node) ;;
*) echo "usage: $0 start [STATE] | stop|pause|resume|urls STATE|DIR | stop-node|start-node STATE|DIR N" >&2
   exit 2 ;;
esac
[ -n "${1:-}" ] || die "$cmd: which cluster (STATE or DIR)?"
dir=$(cluster_dir "$1")
[ -f "$dir/ports" ] || die "$dir is not a nats-test.sh cluster"
case "$cmd" in
stop)
	stop_all
	case "$dir" in */pier-nats-*) rm -rf "$dir" ;; esac
	[ ! -f "$1/dir" ] || rm -f "$1/dir" "$1/urls" ;;
pause) stop_all ;;
resume)
	for n in $(seq 1 $NODES); do : >"$dir/n$n.log"; done
	start_all ;;
urls) cat "$dir/urls" ;;
stop-node) stop_nodes "${2:?node 1..3}" ;;
start-node)
	start_node "${2:?node 1..3}"
	running=0
	for n in $(seq 1 $NODES); do node_running "$n" && running=$((running + 1)); done
	wait_ready $running ;;
esac
