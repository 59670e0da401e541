#!/usr/bin/env bash
# Memory under big values: SETs of VALUE-byte values (redis-benchmark, 4
# clients, pipeline 4, 100,000 keys), then the peak RSS (VmHWM) and the Go
# heap in use. With CATCHUP=1: a 3-node cluster whose third node is down
# during the load and started again afterwards; its peak RSS is taken once
# it has applied the leader's commit index (catch-up from the leader's log).
# docs/performance.md ("Memory with big values") sums up what it measured;
# docs/design/0004-write-path.md has every run.
#   PROFILE=dir (with CATCHUP=1) also writes dir/n3.allocs, n3's allocations
# Usage: [CATCHUP=1] [PROFILE=dir] scripts/bigvalues.sh [riot-server binary] [value bytes] [requests]
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
nodes=1
[ "${CATCHUP:-}" = 1 ] && nodes=3
declare -a port rport hport pid
for i in $(seq 1 "$nodes"); do port[i]=$(free_port); rport[i]=$(free_port); hport[i]=$(free_port); done
start() { # i [flags...]
  local i=$1; shift
  "$bin" --node-id "n$i" --data-dir "$work/n$i" --addr "127.0.0.1:${port[i]}" --raft-addr "127.0.0.1:${rport[i]}" \
    --gossip-addr 127.0.0.1:0 --http-addr "127.0.0.1:${hport[i]}" --pprof --log-level warn "$@" 2>>"$work/n$i.log" &
  pid[i]=$!
  pids+=($!)
}
# peak RSS, and what the RSS is made of now: anonymous memory (heap,
# stacks) and mapped files (bbolt maps raft.db; the kernel can drop those)
hwm() { awk '/^(VmHWM|RssAnon|RssFile)/ {printf "%s %.0f MiB ", $1, $2/1024}' "/proc/$1/status"; }
heap() { curl -s "http://127.0.0.1:${hport[$1]}/metrics" | awk '/^go_memstats_heap_inuse_bytes/ {printf "%.0f MiB", $2/1048576}'; }
info() { redis-cli -p "${port[$1]}" raft.info | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2}'; }

start 1
until_ok "n1" redis-cli -p "${port[1]}" set warmup 1
if [ "$nodes" = 3 ]; then
  for i in 2 3; do
    start "$i" --join 127.0.0.1:1
    until_ok "n$i" redis-cli -p "${port[i]}" ping
    redis-cli -p "${port[1]}" raft.join "n$i" "127.0.0.1:${rport[i]}" >/dev/null
    until_ok "n$i through the leader" redis-cli -p "${port[i]}" set warmup 1
  done
  kill -9 "${pid[3]}"
  wait "${pid[3]}" 2>/dev/null || true
fi
rps=$(redis-benchmark -p "${port[1]}" -t set -d "$d" -n "$n" -r 100000 -c 4 -P 4 -q 2>&1 | tr '\r' '\n' | grep 'requests per second' | tail -1)
echo "$(basename "$bin"), $d-byte values, $n SETs: $rps"
echo "n1 (leader): $(hwm "${pid[1]}"); heap in use after $(heap 1)"
if [ "$nodes" = 3 ]; then
  commit=$(info 1 commit_index)
  began=$(date +%s.%N)
  start 3
  for _ in $(seq 1 1200); do
    applied=$(info 3 fsm_applied_index 2>/dev/null || true)
    [ -n "$applied" ] && [ "$applied" -ge "$commit" ] && break
    sleep 0.1
  done
  [ -n "$applied" ] && [ "$applied" -ge "$commit" ] || { echo "n3 did not catch up: applied ${applied:-?} < $commit" >&2; exit 1; }
  took=$(awk -v a="$began" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
  echo "n3 (caught up to $commit in ${took}s, start included): $(hwm "${pid[3]}"); heap in use after $(heap 3)"
  echo "n1 (leader) after the catch-up: $(hwm "${pid[1]}")"
  if [ -n "${PROFILE:-}" ]; then # what n3 allocated while it caught up
    mkdir -p "$PROFILE"
    curl -s -o "$PROFILE/n3.allocs" "http://127.0.0.1:${hport[3]}/debug/pprof/allocs"
  fi
fi
