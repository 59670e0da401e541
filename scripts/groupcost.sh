#!/usr/bin/env bash
# The cost of raft groups on an idle node: a 3-node cluster formed by
# --join with --shards N, left idle (default gossip and raft timings), and
# the CPU time its three processes use over a window, with their RSS.
# Every group's leader heartbeats each follower (every 100 ms with the
# default 1 s heartbeat timeout) and runs its expiry and sweeper loops.
# Usage: scripts/groupcost.sh [shards ...]   (default: 1 3 6)
#   WINDOW=seconds   measured window (default 30)
# docs/performance.md ("Sharded mode") records what it measured.
set -euo pipefail
cd "$(dirname "$0")/.."
window=${WINDOW:-30}
shards_list=("$@"); [ ${#shards_list[@]} -eq 0 ] && shards_list=(1 3 6)
. scripts/lib.sh
bin=$work/riot-server
CGO_ENABLED=0 go build -o "$bin" ./cmd/riot-server
hz=$(getconf CLK_TCK)

cpu_ticks() { # utime+stime of the given pids, in clock ticks
  local t=0
  for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done
  echo "$t"
}

for shards in "${shards_list[@]}"; do
  run=()
  declare -a port gport
  for i in 1 2 3; do port[i]=$(free_port); gport[i]=$(free_port); done
  for i in 1 2 3; do
    extra=(--shards "$shards")
    [ "$i" -gt 1 ] && extra=(--join "127.0.0.1:${gport[1]}")
    "$bin" --node-id "n$i" --data-dir "$work/s$shards-n$i" --addr "127.0.0.1:${port[i]}" \
      --raft-addr "127.0.0.1:$(free_port)" --gossip-addr "127.0.0.1:${gport[i]}" --http-addr 127.0.0.1:0 \
      --stabilization 1s --log-level warn "${extra[@]}" 2>"$work/s$shards-n$i.log" &
    run+=($!); pids+=($!)
  done
  # Formed: every node has 3 voters per group (INFO shards: every group's
  # replicas known and this node's replica caught up), then let it settle.
  for _ in $(seq 1 600); do
    ok=0
    for i in 1 2 3; do
      info=$(redis-cli -p "${port[i]}" INFO shards 2>/dev/null || true)
      if [ "$shards" -eq 1 ]; then
        [ "$(redis-cli -p "${port[i]}" RAFT.STATE 2>/dev/null)" != "" ] && ok=$((ok + 1))
      elif [ "$(grep -c 'replicas=n[0-9]|n[0-9]|n[0-9],state=\(leader\|follower\)' <<<"$info")" -eq "$shards" ]; then
        ok=$((ok + 1))
      fi
    done
    [ "$ok" -eq 3 ] && break
    sleep 0.1
  done
  sleep 15
  before=$(cpu_ticks "${run[@]}")
  sleep "$window"
  after=$(cpu_ticks "${run[@]}")
  rss=0
  for p in "${run[@]}"; do rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$p/status"))); done
  awk -v s="$shards" -v t=$((after - before)) -v hz="$hz" -v w="$window" -v rss="$rss" \
    'BEGIN { printf "shards %d: %.1f%% of one core for the 3 idle nodes (%.3f s CPU in %d s), RSS %d MiB in all\n", s, 100*t/hz/w, t/hz, w, rss/1024 }'
  for p in "${run[@]}"; do kill "$p"; done
  wait "${run[@]}" 2>/dev/null || true
done
