#!/usr/bin/env bash
# Throughput of riot-server (one node; a 3-node cluster with clients on the
# leader and on a follower) next to redis-server with appendfsync always,
# measured in the same run with redis-benchmark.
# Usage: scripts/bench.sh [requests] [clients]   (defaults: 100000 50)
# Prints a Markdown table; docs/design/0004-write-path.md records its output.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
c=${2:-50}
./scripts/deps.sh
. scripts/lib.sh
wait_ping() {
  for _ in $(seq 1 200); do
    if [ "$(redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ]; then return 0; fi
    sleep 0.05
  done
  echo "server on $1 did not answer PING" >&2; exit 1
}

CGO_ENABLED=0 go build -o "$work/riot-server" ./cmd/riot-server
start_riot() { # name, client port, raft port, extra flags...
  local name=$1 port=$2 rport=$3; shift 3
  "$work/riot-server" --node-id "$name" --data-dir "$work/$name" --addr "127.0.0.1:$port" \
    --raft-addr "127.0.0.1:$rport" --gossip-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 \
    --log-level warn "$@" 2>"$work/$name.log" &
  pids+=($!)
}
wait_leader() { # port: until a write succeeds through it
  for _ in $(seq 1 200); do
    [ "$(redis-cli -p "$1" set warmup 1 2>/dev/null)" = "OK" ] && return 0
    sleep 0.05
  done
  echo "no leader reachable through $1" >&2; exit 1
}

single=$(free_port)
start_riot single "$single" "$(free_port)"
c1=$(free_port); c2=$(free_port); c3=$(free_port)
r2=$(free_port); r3=$(free_port)
start_riot n1 "$c1" "$(free_port)"
start_riot n2 "$c2" "$r2" --join 127.0.0.1:1
start_riot n3 "$c3" "$r3" --join 127.0.0.1:1
redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --port "$redis_port" --dir "$work/redis" --appendonly yes \
  --appendfsync always --save '' --daemonize no --logfile "$work/redis.log" &
pids+=($!)
for p in "$single" "$c1" "$c2" "$c3" "$redis_port"; do wait_ping "$p"; done
wait_leader "$single"
wait_leader "$c1"
redis-cli -p "$c1" raft.join n2 "127.0.0.1:$r2" >/dev/null
redis-cli -p "$c1" raft.join n3 "127.0.0.1:$r3" >/dev/null
wait_leader "$c2"
wait_leader "$c3"

rps() { # port, extra args...; prints "SET GET" requests per second
  local port=$1; shift
  redis-benchmark -p "$port" -t set,get -n "$n" -c "$c" -d 100 -r 100000 --csv "$@" 2>/dev/null |
    awk -F'","' '/^"SET"/{s=$2} /^"GET"/{g=$2} END{printf "%d %d\n", s, g}'
}

echo "| server | SET/s | GET/s | SET/s -P 16 | GET/s -P 16 |"
echo "|---|---|---|---|---|"
row() { # label, port
  read -r s g < <(rps "$2")
  read -r sp gp < <(rps "$2" -P 16)
  echo "| $1 | $s | $g | $sp | $gp |"
}
row "riot, 1 node" "$single"
row "riot, 3 nodes, clients on the leader" "$c1"
row "riot, 3 nodes, clients on a follower" "$c2"
row "redis-server 7, appendfsync always" "$redis_port"
echo
echo "redis-benchmark -t set,get -n $n -c $c -d 100 -r 100000 (and -P 16); riot reads linearizable; $(nproc) cores; $(date -u +%Y-%m-%d)"
