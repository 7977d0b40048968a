#!/bin/bash
# ab.sh BEFORE AFTER - two pierd binaries alternately through pier-bench's tail phases (private
# 500 pairs at 2000 msg/s, fanout 100 and 1000 at 100 msg/s, each for the bench's default
# length: 2000 acks at least), ROUNDS rounds (default 3), one result directory per run under
# $OUT (default /tmp/pier-tail/AB), then the table of docs/PERFORMANCE.md ("The latency tail")
# by abtab.py.
set -u
BEFORE=$1; AFTER=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd); OUT=${OUT:-/tmp/pier-tail/AB}
BENCH=${BENCH:-$ROOT/build/pier-bench}; mkdir -p "$OUT"
for i in $(seq 1 "${ROUNDS:-3}"); do
  for v in before after; do
    [ $v = before ] && bin=$BEFORE || bin=$AFTER
    for sc in "private 500" "fanout 100" "fanout 1000"; do
      d=$OUT/${v}_$(echo $sc | tr -d ' ')_$i; mkdir -p "$d"; uptime > "$d/load.txt"
      "$BENCH" --pierd "$bin" --scenario ${sc% *} --size ${sc#* } --measure 1 --out "$d" > "$d/bench.txt" 2>&1
      uptime >> "$d/load.txt"
    done
  done
done
python3 "$ROOT/scripts/tail/abtab.py" "$OUT"
