#!/bin/sh
# `make cluster`: a local 3-node pier cluster to try (docs/CLUSTER.md): PostgreSQL 15, three
# nats-server, three pierd nodes on one shared media directory, HAProxy in front on pier's
# usual ports (JSON 6666, HTTP 8080). Everything lives under CLUSTER_DIR (default
# ./data/cluster): pg/ (the database, kept between runs), media/ (the nodes' shared
# --data-dir), haproxy.cfg, logs/. Ctrl-C stops it all.
#
# Environment: BUILD (where pierd is, default build), CLUSTER_DIR, LB_JSON / LB_HTTP (HAProxy's
# ports, default 6666 / 8080), PORT_BASE (default 17000: nodes, NATS and PostgreSQL take ports
# PORT_BASE+1 ... PORT_BASE+40 on 127.0.0.1), PER_SOURCE (connections per client address that
# HAProxy lets through, default 64), NODE_ARGS (more pierd options for every node, e.g.
# "--no-rate-limits --weak-password-hash" for scripts/bench-cluster.sh).
set -eu

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
PIERD="$ROOT/$BUILD/pierd"
D=${CLUSTER_DIR:-data/cluster}
mkdir -p "$D"
D=$(cd "$D" && pwd)
LB_JSON=${LB_JSON:-6666}
LB_HTTP=${LB_HTTP:-8080}
B=${PORT_BASE:-17000}
PG_PORT=$((B + 32))
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "make cluster: $*" >&2; exit 1; }
[ -x "$PIERD" ] || die "$PIERD is missing (make build)"
command -v nats-server >/dev/null || die "nats-server is missing (make deps)"
command -v haproxy >/dev/null || die "haproxy is missing (make deps)"
[ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb is missing (make deps)"

mkdir -p "$D/logs" "$D/media" "$D/pg"
PIDS=""

# PostgreSQL refuses root: then it runs as `postgres`, which must reach $D.
if [ "$(id -u)" -eq 0 ]; then
	PGOS=postgres
	id -u "$PGOS" >/dev/null 2>&1 ||
		useradd --system --no-create-home --shell /usr/sbin/nologin "$PGOS"
	chown "$PGOS" "$D/pg"
	as_pg() { runuser -u "$PGOS" -- "$@"; }
else
	as_pg() { "$@"; }
fi
as_pg test -w "$D/pg" ||
	die "the postgres user cannot write $D/pg (a parent directory closed to it?): set CLUSTER_DIR"

stop_all() {
	trap - INT TERM EXIT
	echo
	echo "make cluster: stopping"
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null || true
	done
	as_pg "$PGBIN/pg_ctl" -D "$D/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}
trap stop_all INT TERM EXIT

# 1. PostgreSQL (created the first time, fsync on), database `pier`.
if [ ! -f "$D/pg/data/PG_VERSION" ]; then
	mkdir -p "$D/pg/data" "$D/pg/sock"
	[ "$(id -u)" -ne 0 ] || chown "$PGOS" "$D/pg/data" "$D/pg/sock"
	as_pg "$PGBIN/initdb" -D "$D/pg/data" -U pier --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$D/logs/initdb.log" 2>&1 || { cat "$D/logs/initdb.log" >&2; die "initdb failed"; }
fi
as_pg "$PGBIN/pg_ctl" -D "$D/pg/data" -l "$D/pg/postgres.log" -w -t 60 \
	-o "-p $PG_PORT -k $D/pg/sock -c listen_addresses=127.0.0.1" start >/dev/null ||
	{ tail -n 20 "$D/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
as_pg "$PGBIN/psql" -q -X -h "$D/pg/sock" -p "$PG_PORT" -U pier -d postgres -tAc \
	"SELECT 1 FROM pg_database WHERE datname = 'pier'" | grep -q 1 ||
	as_pg "$PGBIN/psql" -q -X -h "$D/pg/sock" -p "$PG_PORT" -U pier -d postgres \
		-c "CREATE DATABASE pier" >/dev/null
STORE="postgresql://pier@127.0.0.1:$PG_PORT/pier"

# 2. NATS: three servers routed to each other.
NATS=""
for n in 1 2 3; do
	NATS="${NATS:+$NATS,}nats://127.0.0.1:$((B + 20 + n))"
done
for n in 1 2 3; do
	routes=""
	for m in 1 2 3; do
		[ "$m" -eq "$n" ] || routes="${routes:+$routes,}nats://127.0.0.1:$((B + 24 + m))"
	done
	nats-server -a 127.0.0.1 -p $((B + 20 + n)) -n "pier-$n" --cluster "nats://127.0.0.1:$((B + 24 + n))" \
		--cluster_name pier --routes "$routes" >"$D/logs/nats$n.log" 2>&1 &
	PIDS="$PIDS $!"
done

# 3. The nodes: one shared --data-dir (media), the store in PostgreSQL, the bus on NATS.
NODE_PIDS=""
for n in 1 2 3; do
	"$PIERD" --listen "127.0.0.1:$((B + n))" --http "127.0.0.1:$((B + 10 + n))" --data-dir "$D/media" \
		--store "$STORE" --nats "$NATS" --node-name "node$n" --max-conns-per-addr 0 ${NODE_ARGS:-} \
		>"$D/logs/node$n.log" 2>&1 &
	PIDS="$PIDS $!"
	NODE_PIDS="$NODE_PIDS $!"
done

# 4. HAProxy in front (the configuration docs/CLUSTER.md explains).
sed -e "s/@LB_JSON@/$LB_JSON/; s/@LB_HTTP@/$LB_HTTP/; s/@PER_SOURCE@/${PER_SOURCE:-64}/" \
	-e "s/@NODE1_JSON@/$((B + 1))/; s/@NODE2_JSON@/$((B + 2))/; s/@NODE3_JSON@/$((B + 3))/" \
	-e "s/@NODE1_HTTP@/$((B + 11))/; s/@NODE2_HTTP@/$((B + 12))/; s/@NODE3_HTTP@/$((B + 13))/" \
	scripts/cluster/haproxy.cfg.in >"$D/haproxy.cfg"
haproxy -db -f "$D/haproxy.cfg" >"$D/logs/haproxy.log" 2>&1 &
PIDS="$PIDS $!"

# Up when HAProxy's two ports and every node answer (bounded; bash's /dev/tcp connects).
i=0
while :; do
	ok=1
	for p in $LB_JSON $LB_HTTP $((B + 1)) $((B + 2)) $((B + 3)); do
		bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null || ok=0
	done
	[ $ok -eq 1 ] && break
	for p in $NODE_PIDS; do
		kill -0 "$p" 2>/dev/null || { tail -n 5 "$D"/logs/node*.log >&2; die "a node exited"; }
	done
	i=$((i + 1))
	if [ $i -ge 150 ]; then
		tail -n 5 "$D"/logs/*.log >&2
		die "the cluster did not come up within 30 s (logs in $D/logs)"
	fi
	sleep 0.2
done

cat <<EOF
pier cluster up: 3 nodes (127.0.0.1:$((B + 1))-$((B + 3))), PostgreSQL $STORE, NATS $NATS
  terminal:  ./$BUILD/pier --port $LB_JSON      (HAProxy, TCP mode)
  browser:   http://127.0.0.1:$LB_HTTP/          (HAProxy, HTTP mode)
  one node:  ./$BUILD/pier --port $((B + 2))     kill one (logs/node*.log) and see the others go on
  data and logs: $D
Ctrl-C stops it all.
EOF
wait
