#!/usr/bin/env bash
# Single-node throughput of riot-server next to redis-server with
# appendfsync always, measured in the same run with redis-benchmark.
# Usage: scripts/bench.sh [requests] [clients]   (defaults: 100000 50)
# Prints a Markdown table; docs/performance.md records its output.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
c=${2:-50}
./scripts/deps.sh
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_ping() {
  for _ in $(seq 1 200); do
    if [ "$(redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ]; then return 0; fi
    sleep 0.05
  done
  echo "server on $1 did not answer PING" >&2; exit 1
}

CGO_ENABLED=0 go build -o "$work/riot-server" ./cmd/riot-server
riot_port=$(free_port)
"$work/riot-server" --data-dir "$work/riot" --addr "127.0.0.1:$riot_port" \
  --raft-addr "127.0.0.1:$(free_port)" --log-level warn 2>"$work/riot.log" &
pids+=($!)
redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --port "$redis_port" --dir "$work/redis" --appendonly yes \
  --appendfsync always --save '' --daemonize no --logfile "$work/redis.log" &
pids+=($!)
wait_ping "$riot_port"
wait_ping "$redis_port"
# Wait until riot has a leader (a SET succeeds).
for _ in $(seq 1 100); do
  [ "$(redis-cli -p "$riot_port" set warmup 1 2>/dev/null)" = "OK" ] && break
  sleep 0.1
done

rps() { # port, extra args...; prints "SET GET" requests per second
  local port=$1; shift
  redis-benchmark -p "$port" -t set,get -n "$n" -c "$c" -d 100 -r 100000 --csv "$@" 2>/dev/null |
    awk -F'","' '/^"SET"/{s=$2} /^"GET"/{g=$2} END{printf "%d %d\n", s, g}'
}

echo "| server | SET/s | GET/s | SET/s -P 16 | GET/s -P 16 |"
echo "|---|---|---|---|---|"
for name in riot redis; do
  port=$riot_port; label="riot-server (1 node, leveldb, fsync)"
  if [ "$name" = redis ]; then port=$redis_port; label="redis-server 7 appendfsync always"; fi
  read -r s g < <(rps "$port")
  read -r sp gp < <(rps "$port" -P 16)
  echo "| $label | $s | $g | $sp | $gp |"
done
echo
echo "redis-benchmark -t set,get -n $n -c $c -d 100 -r 100000 (and -P 16); $(nproc) cores; $(date -u +%Y-%m-%d)"
