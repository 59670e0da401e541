#!/usr/bin/env bash
# Rolling upgrade of a 3-node cluster from one riot-server binary to another,
# as docs/operations.md#upgrades says: start three nodes on OLD, then stop,
# upgrade and restart one node at a time, followers first and the leader
# last, waiting for /readyz; after each step, 5 SETs through every node.
# Prints each step's count and exits 1 if any write failed or the nodes end
# with different key counts. Ports 17101-17304 on 127.0.0.1; data in a
# temporary directory. About a minute.
# Usage: scripts/upgrade.sh OLD NEW
#   git worktree add /tmp/old REV && (cd /tmp/old && CGO_ENABLED=0 go build -o /tmp/riot-old ./cmd/riot-server)
set -uo pipefail
old=${1:?old binary}
new=${2:?new binary}
D=$(mktemp -d)
trap 'for p in "$D"/n*.pid; do kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$D"' EXIT
failed=0

start() { # node-number binary
  local i=$1 join=""
  [ "$i" != 1 ] && join="--join 127.0.0.1:17103"
  "$2" --node-id "n$i" --data-dir "$D/n$i" --addr "127.0.0.1:17${i}01" --raft-addr "127.0.0.1:17${i}02" \
    --gossip-addr "127.0.0.1:17${i}03" --http-addr "127.0.0.1:17${i}04" $join --stabilization 2s >>"$D/n$i.log" 2>&1 &
  echo $! >"$D/n$i.pid"
}
stop() { # graceful, as an operator would
  local pid; pid=$(cat "$D/n$1.pid")
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}
ready() {
  for _ in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:17${1}04/readyz")" = 200 ] && return
    sleep 0.5
  done
  echo "   n$1 not ready after 60s"
}
voters() { # the fewest voters any node lists
  for i in 1 2 3; do redis-cli -p "17${i}01" RAFT.PEERS 2>/dev/null | grep -c '^voter$'; done | sort -n | head -1
}
wait_voters() {
  for _ in $(seq 1 120); do [ "$(voters)" = 3 ] && return; sleep 0.5; done
  echo "   fewer than 3 voters after 60s"
}
writes() { # label
  local ok=0 bad=0 r
  for i in 1 2 3; do
    for k in 1 2 3 4 5; do
      r=$(timeout 15 redis-cli -p "17${i}01" SET "$1:n$i:$k" v 2>&1)
      if [ "$r" = OK ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "   n$i: $r"; fi
    done
  done
  echo "$1: $ok OK, $bad failed"
  [ "$bad" = 0 ] || failed=1
}
leader() { redis-cli -p 17101 RAFT.LEADER 2>/dev/null | head -1; }

start 1 "$old"; ready 1; start 2 "$old"; start 3 "$old"
wait_voters; writes old
lead=$(leader); order=""
for i in 1 2 3; do [ "n$i" != "$lead" ] && order="$order $i"; done
for i in $order ${lead#n}; do
  stop "$i"; start "$i" "$new"; ready "$i"; wait_voters
  echo "n$i upgraded (leader $(leader))"; writes "after-n$i"
done
counts=$(for i in 1 2 3; do redis-cli -p "17${i}01" DBSIZE; done | sort -u)
echo "keys on each node: $(echo $counts)"
[ "$(echo "$counts" | wc -l)" = 1 ] || failed=1
for i in 1 2 3; do stop "$i"; done
exit $failed
