#!/bin/sh
# `make bench-cluster`: pier-bench against a 3-node cluster (through HAProxy) and against one
# pierd, on the same machine, and the figures side by side:
#   - fanout, a 1000-member room: deliveries/s at saturation and p99 latency at 100 msg/s,
#     members spread over 3 nodes (HAProxy, leastconn) vs one pierd on SQLite;
#   - durable (64 senders, acks only): acked private msgs/s on PostgreSQL (one pierd, and the
#     cluster through HAProxy) vs SQLite.
# The cluster is scripts/cluster/run.sh's (PostgreSQL with fsync on, 3 nats-server, HAProxy) in
# OUT/cluster, on ports from PORT_BASE. Results (results.json / results.md per run) in OUT.
#
# Environment: BUILD (default build: the optimised build), OUT (default $BUILD/bench-cluster),
# MEMBERS (1000), SENDERS (durable senders, 64), BENCH_ARGS (more pier-bench options, e.g.
# --quick), PORT_BASE (default 23000).
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${OUT:-$BUILD/bench-cluster}
MEMBERS=${MEMBERS:-1000}
SENDERS=${SENDERS:-64}
BENCH_ARGS=${BENCH_ARGS:-}
B=${PORT_BASE:-23000}
LB_JSON=$((B + 40))
LB_HTTP=$((B + 41))
BENCH="$BUILD/pier-bench"
PIERD="$BUILD/pierd"

die() { echo "bench-cluster: $*" >&2; exit 1; }
[ -x "$BENCH" ] && [ -x "$PIERD" ] || die "$BENCH or $PIERD is missing (make build)"
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

CLUSTER_PID=""
cleanup() {
	[ -z "$CLUSTER_PID" ] || { kill "$CLUSTER_PID" 2>/dev/null || true; wait "$CLUSTER_PID" 2>/dev/null || true; }
}
trap cleanup EXIT INT TERM

bench() {
	name=$1
	shift
	echo "== $name: pier-bench $*" >&2
	# shellcheck disable=SC2086
	"$BENCH" --out "$OUT/$name" $BENCH_ARGS "$@" >"$OUT/$name.txt" 2>&1 ||
		echo "bench-cluster: $name failed (see $OUT/$name.txt)" >&2
}

# 1. One pierd on SQLite (pier-bench starts it).
bench sqlite-fanout --pierd "$PIERD" --scenario fanout --size "$MEMBERS"
bench sqlite-durable --pierd "$PIERD" --scenario durable --size "$SENDERS"

# 2. The cluster, and one pierd on its PostgreSQL.
CLUSTER_DIR="$OUT/cluster" PORT_BASE=$B LB_JSON=$LB_JSON LB_HTTP=$LB_HTTP PER_SOURCE=100000 \
	NODE_ARGS="--no-rate-limits --weak-password-hash" BUILD=$BUILD \
	./scripts/cluster/run.sh >"$OUT/cluster.txt" 2>&1 &
CLUSTER_PID=$!
i=0
until grep -q "pier cluster up" "$OUT/cluster.txt" 2>/dev/null; do
	kill -0 "$CLUSTER_PID" 2>/dev/null || { cat "$OUT/cluster.txt" >&2; die "the cluster did not start"; }
	i=$((i + 1))
	[ $i -lt 300 ] || die "the cluster did not start within 60 s"
	sleep 0.2
done
STORE="postgresql://pier@127.0.0.1:$((B + 32))/pier"

bench cluster-fanout --target "127.0.0.1:$LB_JSON" --scenario fanout --size "$MEMBERS"
bench cluster-durable --target "127.0.0.1:$LB_JSON" --scenario durable --size "$SENDERS"
PIER_BENCH_STORE=$STORE PIER_BENCH_PIERD="$(pwd)/$PIERD" \
	bench pg-durable --pierd "$(pwd)/scripts/cluster/pierd-pg.sh" --scenario durable --size "$SENDERS"
cleanup
CLUSTER_PID=""

# 3. The figures: value of a metric in a run's results.md table.
fig() {
	awk -F'|' -v m="$2" '{ gsub(/^ +| +$/, "", $3); gsub(/^ +| +$/, "", $4); if ($3 == m) { print $4; exit } }' \
		"$OUT/$1/results.md" 2>/dev/null || true
}
row() { printf '%-44s %16s %16s %16s\n' "$1" "${2:--}" "${3:--}" "${4:--}"; }
echo
echo "pier-bench, $(nproc) cores, $(date -u +%Y-%m-%d): one pierd vs 3 nodes behind HAProxy"
row "" "SQLite, 1 node" "PostgreSQL, 1" "cluster, 3 nodes"
row "fanout $MEMBERS: deliveries/s (saturation)" "$(fig sqlite-fanout 'deliveries/s (saturation)')" "" \
	"$(fig cluster-fanout 'deliveries/s (saturation)')"
row "fanout $MEMBERS: p99 ms at 100 msg/s" "$(fig sqlite-fanout 'latency at 100 msg/s p99')" "" \
	"$(fig cluster-fanout 'latency at 100 msg/s p99')"
row "durable $SENDERS: acked msgs/s (saturation)" "$(fig sqlite-durable 'acked messages/s (saturation)')" \
	"$(fig pg-durable 'acked messages/s (saturation)')" "$(fig cluster-durable 'acked messages/s (saturation)')"
row "durable $SENDERS: ack p99 ms at 1000 msg/s" "$(fig sqlite-durable 'ack latency at 1000 msg/s p99')" \
	"$(fig pg-durable 'ack latency at 1000 msg/s p99')" "$(fig cluster-durable 'ack latency at 1000 msg/s p99')"
echo "(all on one machine: the three nodes, PostgreSQL, NATS, HAProxy and pier-bench share its cores)"
echo "details: $OUT/*/results.md"
