#!/usr/bin/env bash
# Memory of one node under big values: SETs of VALUE-byte values
# (redis-benchmark, 4 clients, pipeline 4, 100,000 keys), then the peak RSS
# (VmHWM) and the Go heap in use. docs/performance.md ("Memory with big
# values") records what it measured.
# Usage: scripts/bigvalues.sh [riot-server binary] [value bytes] [requests]
#   e.g. scripts/bigvalues.sh /tmp/new-riot 1000000 1000
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
d=${2:-1000000}
n=${3:-1000}
./scripts/deps.sh
. scripts/lib.sh
if [ -z "$bin" ]; then
  bin=$work/riot-server
  CGO_ENABLED=0 go build -o "$bin" ./cmd/riot-server
fi
port=$(free_port)
hport=$(free_port)
"$bin" --data-dir "$work/data" --addr "127.0.0.1:$port" --raft-addr 127.0.0.1:0 \
  --gossip-addr 127.0.0.1:0 --http-addr "127.0.0.1:$hport" >"$work/log" 2>&1 &
pid=$!
pids+=("$pid")
for _ in $(seq 1 200); do
  [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
  sleep 0.05
done
[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || { echo "riot-server did not start:" >&2; tail -5 "$work/log" >&2; exit 1; }
rps=$(redis-benchmark -p "$port" -t set -d "$d" -n "$n" -r 100000 -c 4 -P 4 -q 2>&1 | tr '\r' '\n' | grep 'requests per second' | tail -1)
hwm=$(awk '/^VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status")
heap=$(curl -s "http://127.0.0.1:$hport/metrics" | awk '/^go_memstats_heap_inuse_bytes/ {printf "%.0f MiB", $2/1048576}')
echo "$(basename "$bin"), $d-byte values, $n SETs: $rps; peak RSS $hwm; heap in use after $heap"
