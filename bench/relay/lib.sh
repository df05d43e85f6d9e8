# Shared pieces of bench/relay.sh: private Postfix relays on loopback, each relaying to its own
# smtp-sink. Source it; needs root and postfix. The instance itself (pf_instance) is the one the
# relay tests use.
source "$(dirname "${BASH_SOURCE[0]}")/../../tests/relay/postfix_instance.sh"

# Readiness by the listen table, not by connecting: a probe connection makes rspamd's proxy log
# "Unexpected EOF" and would count as a session in Postfix and Portwarden.
listening() { ss -ltnH "( sport = :$1 )" | grep -q .; }
wait_listen() {  # wait_listen PORT [seconds]
  local i
  for ((i = 0; i < ${2:-30} * 20; i++)); do listening "$1" && return 0; sleep 0.05; done
  echo "relay bench: nothing listens on port $1" >&2
  return 1
}
wait_closed() {  # wait_closed PORT [seconds]
  local i
  for ((i = 0; i < ${2:-20} * 20; i++)); do listening "$1" || return 0; sleep 0.05; done
  return 1
}
require_free() {
  local p
  for p in "$@"; do
    if listening "$p"; then echo "relay bench: port $p is in use; set RELAY_PORT_BASE" >&2; exit 1; fi
  done
}

# pf_stop DIR: stop the instance and wait until its master process is gone.
pf_stop() {
  local d=$1 pid i
  [[ -f $d/etc/main.cf ]] || return 0
  pid=$(cat "$d/queue/pid/master.pid" 2>/dev/null | tr -d ' ') || true
  postfix -c "$d/etc" stop >/dev/null 2>&1 || true
  [[ -n $pid ]] || return 0
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  postfix -c "$d/etc" abort >/dev/null 2>&1 || true
}

# stop_pid PID: TERM, wait up to 10 s, then KILL (only that process).
stop_pid() {
  local p=$1 i
  [[ -n $p ]] && kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
