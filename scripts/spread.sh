#!/usr/bin/env bash
# SETs spread over a 3-node cluster: one redis-benchmark process per node
# (21 clients each, 100-byte values, 100,000 keys), all at once, as
# bench-compare spreads its clients; optionally CPU profiles of the leader
# and a follower. Prints each process's redis-benchmark CSV line, their sum,
# and the leader's and a follower's raft counters (RAFT.INFO).
# Usage: scripts/spread.sh [requests per process] [pipeline] [riot-server binary]
#   PROFILE=dir  also writes dir/leader.prof and dir/follower.prof (6 s each)
# docs/design/0004-write-path.md records what it measured.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
pipeline=${2:-1}
bin=${3:-}
./scripts/deps.sh
. scripts/lib.sh

if [ -z "$bin" ]; then
  bin=$work/riot-server
  CGO_ENABLED=0 go build -o "$bin" ./cmd/riot-server
fi
declare -a port rport hport
for i in 1 2 3; do port[i]=$(free_port); rport[i]=$(free_port); hport[i]=$(free_port); done
for i in 1 2 3; do
  join=(); [ "$i" -gt 1 ] && join=(--join 127.0.0.1:1)
  "$bin" --node-id "n$i" --data-dir "$work/n$i" --addr "127.0.0.1:${port[i]}" \
    --raft-addr "127.0.0.1:${rport[i]}" --gossip-addr 127.0.0.1:0 --http-addr "127.0.0.1:${hport[i]}" \
    --pprof --log-level warn "${join[@]}" 2>"$work/n$i.log" &
  pids+=($!)
done
for i in 1 2 3; do until_ok "n$i" redis-cli -p "${port[i]}" ping; done
until_ok "leader n1" redis-cli -p "${port[1]}" set warmup 1
redis-cli -p "${port[1]}" raft.join n2 "127.0.0.1:${rport[2]}" >/dev/null
redis-cli -p "${port[1]}" raft.join n3 "127.0.0.1:${rport[3]}" >/dev/null
for i in 2 3; do until_ok "n$i through the leader" redis-cli -p "${port[i]}" set warmup 1; done

load=()
for i in 1 2 3; do
  redis-benchmark -p "${port[i]}" -t set -n "$n" -c 21 -d 100 -r 100000 -P "$pipeline" --csv >"$work/load$i.csv" 2>/dev/null &
  load+=($!)
done
if [ -n "${PROFILE:-}" ]; then
  mkdir -p "$PROFILE"
  sleep 2 # into the load
  curl -s -o "$PROFILE/leader.prof" "http://127.0.0.1:${hport[1]}/debug/pprof/profile?seconds=6" &
  prof1=$!
  curl -s -o "$PROFILE/follower.prof" "http://127.0.0.1:${hport[2]}/debug/pprof/profile?seconds=6" &
  wait "$prof1" "$!"
fi
for p in "${load[@]}"; do wait "$p"; done
echo "node,requests/s,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms"
for i in 1 2 3; do grep '"SET"' "$work/load$i.csv" | sed "s/^\"SET\"/n$i/"; done
cat "$work"/load*.csv | awk -F'"' '/"SET"/{s+=$4} END {printf "total SET/s: %.0f\n", s}'
for i in 1 2; do
  echo -n "n$i: "
  redis-cli -p "${port[i]}" raft.info | tr -d '\r' | grep -E '^riot_(apply|log)_' | tr '\n' ' '
  echo
done
