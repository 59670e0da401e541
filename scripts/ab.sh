#!/usr/bin/env bash
# A/B of two riot-server binaries with scripts/spread.sh, runs alternating
# (A, B, A, B, ...) so that drift of this machine's disk and CPU weighs on
# both alike; prints every run and the median of each side.
# Usage: scripts/ab.sh binary-A binary-B [pairs] [requests per process] [pipeline]
#   e.g. scripts/ab.sh /tmp/old /tmp/new 5 60000 16
# Build a binary of a commit with:
#   git worktree add /tmp/old REV && (cd /tmp/old && CGO_ENABLED=0 go build -o /tmp/old-riot ./cmd/riot-server)
set -euo pipefail
cd "$(dirname "$0")/.."
a=${1:?binary A}
b=${2:?binary B}
pairs=${3:-5}
n=${4:-60000}
pipeline=${5:-16}
declare -a ra rb
for i in $(seq 1 "$pairs"); do
  for side in A B; do
    bin=$a; [ "$side" = B ] && bin=$b
    total=$(./scripts/spread.sh "$n" "$pipeline" "$bin" 2>&1 | awk '/^total SET\/s:/ {print $3}')
    [ -n "$total" ] || { echo "run $i $side: no result" >&2; exit 1; }
    echo "run $i $side: $total SET/s"
    if [ "$side" = A ]; then ra+=("$total"); else rb+=("$total"); fi
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ma=$(median "${ra[@]}")
mb=$(median "${rb[@]}")
echo "median A ($a): $ma SET/s"
echo "median B ($b): $mb SET/s"
awk -v a="$ma" -v b="$mb" 'BEGIN {printf "B/A: %.3f\n", b/a}'
