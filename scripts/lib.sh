# Shared by the measurement scripts (source it): a work directory, and the
# processes started into pids, both gone on exit; free_port; until_ok.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# until_ok what command...: runs the command until it prints OK or PONG
# (20 s at most; then it says what did not answer and exits).
until_ok() {
  local what=$1; shift
  for _ in $(seq 1 400); do
    case "$("$@" 2>/dev/null)" in OK|PONG) return 0 ;; esac
    sleep 0.05
  done
  echo "$what: no answer" >&2; exit 1
}
