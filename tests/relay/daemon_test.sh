#!/usr/bin/env bash
# `portwarden serve` on its own (no Postfix): configuration errors, the HTTP API, hostile bytes on
# the milter and policy ports, SIGHUP reloads (good and bad), privilege drop, SIGTERM, following the
# delivery log (ingest.maillog) from its end, through rotation and truncation.
# Usage: daemon_test.sh PATH/TO/portwarden   (python3 and curl; the privilege test needs root)
set -uo pipefail
PW=$(readlink -f "${1:?usage: daemon_test.sh PORTWARDEN}")
PW_PORT_BASE=${PW_PORT_BASE:-12100}
source "$(dirname "$0")/lib.sh"
W=$(mktemp -d /tmp/pw-daemon.XXXXXX)
chmod 755 "$W"
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null; done; [ "$fail" = 0 ] && rm -rf "$W" || echo "daemon_test: kept $W"' EXIT
require_free_ports "$POLICY_PORT" "$MILTER_PORT" "$HTTP_PORT"

# --- config check -------------------------------------------------------------------------------
cat > "$W/bad.toml" <<'CF'
[server]
milter = "inet:127.0.0.1:99999"
verdict_deadline = "fast"

[enginee]
observe_only = true
CF
"$PW" config check "$W/bad.toml" > "$W/check.out" 2>&1; rc=$?
check "config check: an invalid file exits 3" [ "$rc" = 3 ]
check "config check: every error with file:line:column (3 of them)" \
  [ "$(grep -c "bad.toml:[0-9]*:[0-9]*:" "$W/check.out")" -ge 3 ]
check "config check: unknown section named" grep -q "enginee" "$W/check.out"
"$PW" serve -c "$W/bad.toml" > "$W/bad-serve.log" 2>&1; rc=$?
check "serve refuses an invalid file with exit 3" [ "$rc" = 3 ]

# --- a running daemon ---------------------------------------------------------------------------
MARK="PWMARK$RANDOM$RANDOM"
mkdir -p "$W/train"
python3 "$HERE/smtp_send.py" --write-dir "$W/train" --kind spam --count 40 --marker trainset
python3 "$HERE/smtp_send.py" --write-dir "$W/train" --kind ham --count 40 --marker trainset
for f in "$W"/train/*.eml; do printf '%s\t%s\n' "$f" "$(basename "$f" | cut -d- -f1)"; done > "$W/train.list"
"$PW" train --list "$W/train.list" -m "$W/model" > /dev/null
mkdir -p "$W/state"
write_config() {  # write_config LEVEL [USER]
  cat > "$W/pw.toml" <<CF
[server]
milter = "${MILTER_AT:-inet:127.0.0.1:$MILTER_PORT}"
policy = "${POLICY_AT:-inet:127.0.0.1:$POLICY_PORT}"
http = "${HTTP_AT:-inet:127.0.0.1:$HTTP_PORT}"
user = "${2:-}"
[classifier]
model = "$W/model"
[store]
path = "$W/state/state.db"
[log]
level = "$1"
[ingest]
maillog = "$W/mail.log"
maillog_poll = "100ms"
CF
}
bounce_line() {  # bounce_line QUEUE_ID: a hard bounce as Postfix's error transport logs it
  echo "Nov 28 03:36:01 relay postfix/error[4242]: $1: to=<nobody.$MARK@bounce.test>, relay=none, delay=0.02, delays=0.01/0/0/0.01, dsn=5.1.1, status=bounced (no such user)"
}
bounces_seen() {  # bounces_seen N: wait until N unattributed bounces were counted
  for _ in $(seq 50); do [ "$(metric 'portwarden_bounces_total{attributed="no"}')" -ge "$1" ] && break; sleep 0.1; done
  [ "$(metric 'portwarden_bounces_total{attributed="no"}')" = "$1" ]
}
write_config info
bounce_line HISTORY0001 > "$W/mail.log"  # before the daemon starts: not evidence of now
"$PW" serve -c "$W/pw.toml" > "$W/daemon.log" 2>&1 &
DAEMON=$!; PIDS+=($DAEMON)
wait_port "$HTTP_PORT" && wait_port "$MILTER_PORT" && wait_port "$POLICY_PORT" || { cat "$W/daemon.log"; exit 1; }

check "healthz answers ok" bash -c "curl -fsS http://127.0.0.1:$HTTP_PORT/healthz | grep -q '\"ok\"'"

# --- the delivery log: read as it grows, like tail -F ----------------------------------------------
for _ in $(seq 50); do grep -q 'event=maillog_following' "$W/daemon.log" && break; sleep 0.1; done
{ bounce_line NEWQUEUE0001; bounce_line NEWQUEUE0002; } >> "$W/mail.log"
check "maillog: bounces appended after the start are read, the earlier one is not" bounces_seen 2
mv "$W/mail.log" "$W/mail.log.1"
bounce_line ROTATED00001 >> "$W/mail.log.1"   # the last words of the rotated file ...
bounce_line FRESH0000001 > "$W/mail.log"      # ... and the new file from its start
check "maillog: rotation: the old file is read to its end, the new one from its start" bounces_seen 4
for i in 1 2 3; do echo "Nov 28 03:36:02 relay postfix/qmgr[7]: QMGR000000$i: removed" >> "$W/mail.log"; done
sleep 0.3
: > "$W/mail.log"   # copytruncate: the file is emptied and written again from its start
bounce_line TRUNC0000001 >> "$W/mail.log"
check "maillog: a truncated file is read again from its start" bounces_seen 5
head -c 20000 /dev/urandom >> "$W/mail.log"; echo >> "$W/mail.log"
bounce_line AFTERJUNK001 >> "$W/mail.log"
check "maillog: binary junk and an overlong line are skipped, the next line counts" bounces_seen 6
check "maillog: unknown queue ids are not evidence (nothing attributed)" \
  [ "$(metric 'portwarden_bounces_total{attributed="yes"}')" = 0 ]
check "metrics in Prometheus text format" bash -c \
  "curl -fsS http://127.0.0.1:$HTTP_PORT/metrics | grep -q '^# TYPE portwarden_stage_latency_seconds histogram'"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/api/v1/subscribers/nobody")
check "unknown subscriber is 404 (got $code)" [ "$code" = 404 ]
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$HTTP_PORT/healthz")
check "wrong method is 405 (got $code)" [ "$code" = 405 ]
p=$(curl -fsS --data-binary @"$W/train/spam-3.eml" "http://127.0.0.1:$HTTP_PORT/api/v1/check" | json_field '["probability"]')
check "POST /api/v1/check scores a message (spam p=$p)" python3 -c "import sys; sys.exit(0 if float('$p') > 0.5 else 1)"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary 'x' -H 'Content-Length: 99999999999' \
  "http://127.0.0.1:$HTTP_PORT/api/v1/check")
check "an oversized body is refused (got $code)" [ "$code" = 413 ] || [ "$code" = 400 ]

# Hostile bytes: each connection is closed, the daemon keeps serving the others.
python3 - "$MILTER_PORT" "$POLICY_PORT" > "$W/hostile.out" <<'PY'
import socket, struct, sys, os
milter, policy = int(sys.argv[1]), int(sys.argv[2])
def exchange(port, data, shut=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        return "closed"  # the daemon hung up while we were still sending
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except socket.timeout:
        return "timeout"
    except OSError:
        return "closed"
    return "closed" if not got else "answered"
results = []
results.append(exchange(milter, os.urandom(4096)))                                   # garbage
results.append(exchange(milter, struct.pack(">I", 0xFFFFFFF0) + b"O"))               # absurd length
results.append(exchange(milter, struct.pack(">I", 13) + b"O\x00\x00\x00\x06"))        # truncated OPTNEG
results.append(exchange(milter, struct.pack(">I", 1) + b"Z"))                        # unknown command
results.append(exchange(policy, b"request=smtpd_access_policy\n" + b"A" * 100000 + b"\n\n"))  # overlong line
results.append(exchange(policy, b"\x00\x01garbage\n\n"))
results.append(exchange(policy, b"request=smtpd_access_policy\nprotocol_state=RCPT\n"))     # truncated
# and a well-formed policy request still gets its answer on a fresh connection
s = socket.create_connection(("127.0.0.1", policy), timeout=5)
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\nrecipient=a@b.example\ninstance=1\n\n")
print(" ".join(results), s.recv(100).decode().strip())
PY
check "hostile frames close their connections and a clean request is still answered ($(cat "$W/hostile.out"))" \
  grep -q "action=DUNNO" "$W/hostile.out"
check "the daemon survived" kill -0 "$DAEMON"
check "milter protocol errors counted" [ "$(metric 'portwarden_protocol_errors_total{protocol="milter"}')" -ge 3 ]
check "policy protocol errors counted" [ "$(metric 'portwarden_protocol_errors_total{protocol="policy"}')" -ge 2 ]

# --- reloads ------------------------------------------------------------------------------------
cp "$W/pw.toml" "$W/good.toml"
echo 'unknown_key = 1' >> "$W/pw.toml"
kill -HUP "$DAEMON"; sleep 1
check "a bad reload is refused and logged" grep -q 'event=reload_refused' "$W/daemon.log"
check "and the daemon keeps serving" bash -c "curl -fsS http://127.0.0.1:$HTTP_PORT/healthz > /dev/null"
write_config debug
kill -HUP "$DAEMON"; sleep 1
check "a good reload is applied" grep -q 'event=reloaded' "$W/daemon.log"
check "reloads counted" [ "$(metric 'portwarden_reloads_total')" = 1 ]
kill -TERM "$DAEMON"; wait "$DAEMON"; rc=$?
check "SIGTERM: clean exit 0 (got $rc)" [ "$rc" = 0 ]
check "no marker of a checked message in the log" bash -c "! grep -q -e trainset -e 'cheap pills' -e bounce.test '$W/daemon.log'"

# --- privilege drop -----------------------------------------------------------------------------
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
  chown nobody "$W/state"; rm -f "$W"/state/state.db* "$W"/state/desk.db*
  write_config info nobody
  "$PW" serve -c "$W/pw.toml" > "$W/daemon2.log" 2>&1 &
  DAEMON=$!; PIDS+=($DAEMON)
  wait_port "$HTTP_PORT"
  uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$DAEMON/status")
  check "started as root, runs as nobody after binding (uid $uid)" [ "$uid" = "$(id -u nobody)$(id -u nobody)$(id -u nobody)$(id -u nobody)" ]
  check "the store was created by the service user" [ "$(stat -c %U "$W/state/state.db")" = nobody ]
  kill -TERM "$DAEMON"; wait "$DAEMON"
else
  echo "SKIP: privilege drop (not root)"
fi

# --- unix-socket listeners ---------------------------------------------------------------------
mkdir -p "$W/run"
MILTER_AT="unix:$W/run/milter.sock" POLICY_AT="unix:$W/run/policy.sock" HTTP_AT="unix:$W/run/http.sock" \
  write_config info
touch "$W/run/stale"; python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$W/run/policy.sock"
"$PW" serve -c "$W/pw.toml" > "$W/daemon3.log" 2>&1 &
DAEMON=$!; PIDS+=($DAEMON)
for _ in $(seq 100); do [ -S "$W/run/http.sock" ] && break; sleep 0.05; done
check "unix sockets: a stale socket file is replaced and HTTP answers" \
  bash -c "curl -fsS --unix-socket '$W/run/http.sock' http://localhost/healthz | grep -q ok"
answer=$(python3 - "$W/run/policy.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\nrecipient=a@b.example\ninstance=9\n\n")
print(s.recv(100).decode().strip())
PY
)
check "unix sockets: the policy service answers ($answer)" [ "$answer" = "action=DUNNO" ]
check "unix sockets: mode 0660 (Postfix connects as its own user; nobody else may)" \
  [ "$(stat -c %a "$W/run/milter.sock")" = 660 ]
kill -TERM "$DAEMON"; wait "$DAEMON"
check "unix sockets: removed at a clean stop" bash -c "[ ! -e '$W/run/milter.sock' ] && [ ! -e '$W/run/http.sock' ]"
check "unix sockets: a regular file next to them is left alone" [ -f "$W/run/stale" ]

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
