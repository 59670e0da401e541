#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: Debian's redis-tools
# (redis-cli, redis-benchmark), redis-server (the reference for benchmarks),
# python3-redis (redis-py smoke tests) and iproute2 (network namespaces).
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

missing=()
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
/usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || missing+=(python3-redis)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
# De-duplicate.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "deps: not root and no sudo; install ${missing[*]} by hand (tests that need them will skip)" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# policy-rc.d: keep the redis-server package from starting a service on 6379.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}" >&2
