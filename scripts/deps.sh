#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: Debian's redis-tools
# (redis-cli, redis-benchmark), redis-server (the reference for benchmarks),
# python3-redis (redis-py smoke tests) and iproute2 (network namespaces).
# Extras, named as arguments:
#   chromium  Debian's chromium (large; only the status page test in
#             systemtest needs it, and it runs this itself)
#   etcd      Debian's etcd-server (etcd 3.4), for make bench-compare
# Safe to run again: it installs nothing that is already there, and starts
# no service (redis-server and etcd stay stopped).
set -euo pipefail

missing=()
for extra in "$@"; do
  case "$extra" in
  chromium) command -v chromium >/dev/null 2>&1 || missing+=(chromium) ;;
  etcd) command -v etcd >/dev/null 2>&1 || missing+=(etcd-server) ;;
  *) echo "deps: unknown extra $extra (want chromium or etcd)" >&2; exit 2 ;;
  esac
done
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
/usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || missing+=(python3-redis)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
# The jepsen suite: iptables (partitions) and tc (iproute2; slow links). Its
# slow nemesis wants the netem qdisc, kernel module sch_netem, which kmod's
# modprobe loads where the running kernel has modules (/lib/modules/RELEASE).
# A kernel built without CONFIG_NET_SCH_NETEM or without module support (our
# CI sandbox) cannot have it: the nemesis then limits bandwidth with tbf.
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v tc >/dev/null 2>&1 || missing+=(iproute2)
if [ -d "/lib/modules/$(uname -r)" ]; then
  command -v modprobe >/dev/null 2>&1 || missing+=(kmod)
fi
load_netem() {
  if [ "$(id -u)" -eq 0 ] && [ -d "/lib/modules/$(uname -r)" ] && command -v modprobe >/dev/null 2>&1; then
    modprobe -q sch_netem 2>/dev/null || echo "deps: cannot load sch_netem; the jepsen slow nemesis will use tbf" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  load_netem
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
# policy-rc.d: keep the packages from starting services (redis on 6379, etcd
# on 2379).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}" >&2
load_netem
