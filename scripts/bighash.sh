#!/usr/bin/env bash
# A hash of a million fields on one riot-server (docs/design/0005-
# collections-layout.md): the engine's size before, with and after the
# hash; HSET latency on a small hash and on the big one (redis-benchmark,
# one client, so its p50 is a round trip); DEL of the big hash (one
# command, timed from its send to its reply); then how long the sweeper
# takes to remove the million element records, and the sizes again.
#   FIELDS (default 1000000): the big hash's fields
#   FLAGS: more riot-server flags (e.g. FLAGS="--sweep-budget 65536")
# Usage: [FIELDS=n] [FLAGS=...] scripts/bighash.sh [riot-server binary]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
fields=${FIELDS:-1000000}
./scripts/deps.sh
. scripts/lib.sh
if [ -z "$bin" ]; then
  bin=$work/riot-server
  CGO_ENABLED=0 go build -o "$bin" ./cmd/riot-server
fi
port=$(free_port)
data=$work/n1
# shellcheck disable=SC2086 # FLAGS is a list of flags
"$bin" --node-id n1 --data-dir "$data" --addr "127.0.0.1:$port" --raft-addr "127.0.0.1:$(free_port)" \
  --gossip-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --log-level info ${FLAGS:-} 2>>"$work/n1.log" &
pids+=($!)
until_ok "riot-server" redis-cli -p "$port" set warmup 1

cli() { redis-cli -p "$port" "$@"; }
sizes() { echo "engine $(du -sk "$data/engine" | cut -f1) KiB, data dir $(du -sk "$data" | cut -f1) KiB"; }
sweeper() { cli info persistence | tr -d '\r' | awk -F: -v f="$1" '$1 == f {print $2}'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
# hset_latency key field-prefix [clients]: 20,000 HSETs of random fields,
# from one client (or clients)
hset_latency() {
  redis-benchmark -p "$port" -c "${3:-1}" -n 20000 -r 1000000 -q HSET "$1" "$2:__rand_int__" v 2>&1 |
    tr '\r' '\n' | grep 'requests per second' | tail -1 | sed 's/^.*: //'
}
# timed_cmd args...: sends one command on an open connection and prints the
# time to its reply, in ms, and the reply
timed_cmd() {
  python3 - "$port" "$@" <<'PY'
import socket, sys, time
port, args = int(sys.argv[1]), sys.argv[2:]
s = socket.create_connection(("127.0.0.1", port))
def cmd(a):
    return ("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)).encode()
s.sendall(cmd(["PING"])); s.recv(64)  # connected and warm
t = time.perf_counter(); s.sendall(cmd(args)); r = s.recv(64); d = time.perf_counter() - t
print("%.3f ms, reply %s" % (d * 1000, r.decode().strip()))
PY
}

echo "riot-server $(git rev-parse --short HEAD 2>/dev/null || echo ?), $(nproc) cores, $fields fields"
echo "start: $(sizes)"
echo "HSET small (empty hash at first): $(hset_latency small f)"
echo "HSET small, 32 clients: $(hset_latency small f 32)"

# The big hash: HSET big with 1000 fields per command, through --pipe.
began=$(now)
python3 - "$fields" <<'PY' | redis-cli -p "$port" --pipe | tail -1
import sys
n, per = int(sys.argv[1]), 1000
out = sys.stdout.buffer
for lo in range(0, n, per):
    a = [b"HSET", b"big"]
    for i in range(lo, min(lo + per, n)):
        a += [b"field:%07d" % i, b"value-%07d" % i]
    out.write(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
PY
echo "wrote the big hash in $(since "$began")s: HLEN $(cli hlen big); $(sizes)"
echo "HSET big (new fields): $(hset_latency big newfield)"
echo "HSET big (existing fields): $(hset_latency big field)"
echo "HSET big (new fields), 32 clients: $(hset_latency big newfield 32)"
echo "HSET small2 (empty hash at first, big hash present): $(hset_latency small2 f)"
passes=$(sweeper sweeper_passes)
deleted=$(sweeper sweeper_deleted)
garbage=$(($(cli hlen big) + $(cli hlen small) + $(cli hlen small2)))
echo "DEL big ($(cli hlen big) fields): $(timed_cmd DEL big)"
echo "DEL small ($(cli hlen small) fields): $(timed_cmd DEL small)"
echo "DEL small2 ($(cli hlen small2) fields): $(timed_cmd DEL small2)"
echo "DEL of a string: $(cli set str v >/dev/null; timed_cmd DEL str)"
began=$(now)
# Done: the pass that deleted the big hash's records has ended, and a
# later one found nothing (the compaction after the first is over).
for _ in $(seq 1 6000); do
  d=$(sweeper sweeper_deleted)
  if [ "$d" -ge $((deleted + garbage)) ] && [ "$(sweeper sweeper_last_pass_deleted)" = 0 ] &&
    [ "$(sweeper sweeper_passes)" -ge $((passes + 2)) ]; then
    break
  fi
  sleep 0.1
done
echo "sweeper done in $(since "$began")s: deleted $(($(sweeper sweeper_deleted) - deleted)) of $garbage records in $(($(sweeper sweeper_passes) - passes)) passes; $(sizes)"
grep -o '"msg":"sweeper: compacted[^}]*\|sweeper: compacted.*' "$work/n1.log" | tail -1 || true
# The raft log still holds the writes until a snapshot lets raft truncate it
# (to --trailing-logs entries): take one and measure again. The bolt log
# store keeps its file's size (bbolt reuses freed pages, never shrinks the
# file); the wal store deletes whole segments.
cli raft.snapshot >/dev/null
echo "after RAFT.SNAPSHOT: $(sizes); raft log $(du -sk "$data/raft" 2>/dev/null | cut -f1) KiB"
