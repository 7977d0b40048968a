#!/bin/bash
# trace.sh NAME [PAIRS] - the latency tail's evidence (docs/PERFORMANCE.md, "The latency tail"):
# starts pierd (PIERD, default build/pierd) on a fresh directory under $OUT (default
# /tmp/pier-tail), runs pier-bench --target at it (the private scenario: a short saturation,
# then LAT seconds at 2000 msg/s) with perf recording pierd's fdatasync/fsync/pwrite64
# tracepoints, and prints syncs.py's per-thread table and model.py's store-only latency.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd); OUT=${OUT:-/tmp/pier-tail}; N=$1; P=${2:-500}
PIERD=${PIERD:-$ROOT/build/pierd}; BENCH=${BENCH:-$ROOT/build/pier-bench}; LAT=${LAT:-8}
PORT=$((47000 + RANDOM % 1000)); D=$OUT/$N
rm -rf "$D"; mkdir -p "$D"; cd "$D" || exit 1
"$PIERD" --listen 127.0.0.1:$PORT --data-dir ./data --weak-password-hash --no-rate-limits > pierd.log 2>&1 &
PID=$!; sleep 1
perf record -q -e syscalls:sys_enter_fdatasync,syscalls:sys_exit_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_exit_fsync,syscalls:sys_enter_pwrite64 -p $PID -o perf.data 2>perf.err &
PP=$!
uptime > load.txt
"$BENCH" --target 127.0.0.1:$PORT --scenario private --size $P --measure 1 --latency $LAT --out . > bench.txt 2>&1
uptime >> load.txt
kill -INT $PP; wait $PP; kill $PID; wait $PID 2>/dev/null
perf script -F tid,time,event,trace > ps.txt 2>/dev/null
cat load.txt
python3 "$ROOT/scripts/tail/syncs.py" ps.txt
python3 "$ROOT/scripts/tail/model.py" ps.txt 2000 $((LAT - 1)) 0.3
grep -E "latency at 2000 msg/s p(50|99|999) " bench.txt | grep -v '^  '
