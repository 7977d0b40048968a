#!/bin/sh
# pier-bench's --pierd for a single pierd on PostgreSQL: runs PIER_BENCH_PIERD with the
# arguments pier-bench gives plus `--store URL`, in a fresh database (named after the
# --data-dir pier-bench made) on the server of PIER_BENCH_STORE (a postgresql:// URL).
# exec keeps the pid, so pier-bench still measures pierd's CPU and memory.
set -eu
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
dir=""
prev=""
for a in "$@"; do
	[ "$prev" != "--data-dir" ] || dir=$a
	prev=$a
done
db="bench-$(basename "${dir:-x}")"
"$PGBIN/psql" -qX "$PIER_BENCH_STORE" -c "CREATE DATABASE \"$db\"" >/dev/null
exec "$PIER_BENCH_PIERD" "$@" --store "${PIER_BENCH_STORE%/*}/$db"
