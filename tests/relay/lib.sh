# Shared pieces of the relay integration tests: a private Postfix relay on loopback with Portwarden
# as milter + policy service, relaying to smtp-sink. Source it; needs root, postfix, python3.
# Ports (override with PW_PORT_BASE): smtpd +25, sink +26, policy +40, milter +50, http +80.
PORT_BASE=${PW_PORT_BASE:-12000}
SMTPD_PORT=$((PORT_BASE + 25)); SINK_PORT=$((PORT_BASE + 26))
POLICY_PORT=$((PORT_BASE + 40)); MILTER_PORT=$((PORT_BASE + 50)); HTTP_PORT=$((PORT_BASE + 80))
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PIDS=()
pass=0; fail=0
ok()  { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

wait_port() {  # wait_port PORT [tries]: until something listens
  for _ in $(seq "${2:-200}"); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "port $1 never opened"; return 1
}
wait_port_closed() {
  for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null || return 0; sleep 0.05; done
  return 1
}
require_free_ports() {
  for p in "$@"; do
    if (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "port $p is in use; set PW_PORT_BASE"; exit 1; fi
  done
}

source "$HERE/postfix_instance.sh"   # pf_instance DIR SMTPD_PORT SINK_PORT POLICY MILTER

train_test_model() {  # train_test_model DIR PORTWARDEN: DIR/model from 60 spam + 60 ham messages shaped like smtp_send.py's
  mkdir -p "$1/train"
  python3 "$HERE/smtp_send.py" --write-dir "$1/train" --kind spam --count 60 --marker trainset --seed 3
  python3 "$HERE/smtp_send.py" --write-dir "$1/train" --kind ham --count 60 --marker trainset --seed 4
  for f in "$1"/train/*.eml; do printf '%s\t%s\n' "$f" "$(basename "$f" | cut -d- -f1)"; done > "$1/train.list"
  "$2" train --list "$1/train.list" -m "$1/model" > /dev/null || { echo "training failed"; return 1; }
}

start_sink() {  # start_sink DIR: smtp-sink dumping every message into DIR/sink
  mkdir -p "$1/sink" && chown postfix "$1/sink"
  smtp-sink -u postfix -4 -d "$1/sink/%H%M%S." 127.0.0.1:"$SINK_PORT" 256 > "$1/sink.out" 2>&1 &
  PIDS+=($!)
  wait_port "$SINK_PORT"
}

sent_count() { grep -c 'status=sent' "$1/maillog" 2>/dev/null || true; }
wait_sent() {  # wait_sent DIR N [seconds]: until the maillog shows >= N deliveries
  local limit=$(( ${3:-60} * 10 ))
  for _ in $(seq "$limit"); do [ "$(sent_count "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}
held_count() { postqueue -c "$1/etc" -j 2>/dev/null | grep -c '"queue_name": *"hold"' || true; }
queue_empty() { [ -z "$(postqueue -c "$1/etc" -j 2>/dev/null)" ]; }
# wait_queue_empty DIR [seconds]: Postfix logs status=sent before qmgr removes the queue file, so a
# queue read right after the last delivery can still list it (seen once under load).
wait_queue_empty() {
  local limit=$(( ${2:-10} * 10 ))
  for _ in $(seq "$limit"); do queue_empty "$1" && return 0; sleep 0.1; done
  return 1
}
sink_files() { find "$1/sink" -type f | wc -l; }

http_get() { curl -fsS --max-time 10 "http://127.0.0.1:$HTTP_PORT$1"; }
metric() {  # metric NAME_WITH_LABELS: its value in /metrics (0 when absent)
  http_get /metrics | awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}
json_field() { python3 -c 'import sys, json; d = json.load(sys.stdin); print(eval("d" + sys.argv[1]))' "$1"; }

cleanup_all() {
  local d=$1
  postfix -c "$d/etc" stop > /dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done; done
  for _ in $(seq 50); do
    [ -e "$d/queue/pid/master.pid" ] && pgrep -F "$d/queue/pid/master.pid" > /dev/null 2>&1 || break
    sleep 0.1
  done
}
