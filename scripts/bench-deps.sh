#!/usr/bin/env bash
# Installs what `make bench-compare` needs when it is missing: Debian's
# etcd-server (etcd 3.4, the replicated store Riot is compared with) and
# redis-server (appendfsync always, the single-node reference), on top of what
# scripts/deps.sh installs. Safe to run again: it installs nothing that is
# already there. Neither package is left running as a service.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh

missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "bench-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "bench-deps: not root and no sudo; install ${missing[*]} by hand" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# policy-rc.d: keep the packages from starting services on 2379 and 6379.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bench-deps: installed ${missing[*]}" >&2
