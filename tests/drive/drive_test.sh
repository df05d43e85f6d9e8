#!/usr/bin/env bash
# pw_drive's clients against a real private Postfix relay (with XCLIENT) and `portwarden serve` on the
# API clock (server.clock = "api"), as the simulator's --through-postfix mode uses them:
#   A. milter + policy: the daemon's clock is set to 2026-01-05T10:00:00Z; one client sends a message
#      as XCLIENT ADDR=10.1.2.3, then (RSET, new XCLIENT on the same connection) one as LOGIN=alice,
#      then one more as alice (RSET and XCLIENT again). Postfix logs the XCLIENT identities; the
#      daemon knows "ip:10.1.2.3" and "alice", last seen and decided at the clock value (the milter
#      saw {client_addr} and {auth_authen}); the sink received all three.
#   B. policy only (Postfix restarted without the milter): a message as LOGIN=bob and one as
#      ADDR=10.4.5.6 at a later clock value make "bob" and "ip:10.4.5.6" known, last seen at that
#      value (the policy service saw sasl_username and client_address).
#   C. clock = "system": PUT /api/v1/clock is refused (404/405), the daemon's time is the real one;
#      a connection Postfix ended while idle (smtpd_timeout) is reopened without the caller noticing.
# Usage: drive_test.sh PATH/TO/portwarden PATH/TO/drive_probe   (root, postfix, curl, python3)
# Ports: PW_PORT_BASE (default 12200) + the offsets in tests/relay/lib.sh.
set -uo pipefail
PW=$(readlink -f "${1:?usage: drive_test.sh PORTWARDEN DRIVE_PROBE}")
PROBE=$(readlink -f "${2:?usage: drive_test.sh PORTWARDEN DRIVE_PROBE}")
export PW_PORT_BASE=${PW_PORT_BASE:-12200}
source "$(dirname "$0")/../relay/lib.sh"
if [ "$(id -u)" != 0 ]; then echo "drive_test: needs root (a private Postfix instance)"; exit 1; fi
command -v postfix > /dev/null || { echo "drive_test: postfix is not installed (scripts/install-deps)"; exit 1; }

W=$(mktemp -d /tmp/pw-drive.XXXXXX)
chmod 755 "$W"
trap 'cleanup_all "$W/pf"; [ "$fail" = 0 ] && rm -rf "$W" || echo "drive_test: kept $W for inspection"' EXIT
require_free_ports "$SMTPD_PORT" "$SINK_PORT" "$POLICY_PORT" "$MILTER_PORT" "$HTTP_PORT"

T0=1767607200000   # 2026-01-05T10:00:00Z
T1=$((T0 + 3600 * 1000))

write_config() {  # write_config CLOCK MILTER_ADDRESS
  cat > "$W/portwarden.toml" <<CF
[server]
milter = "$2"
policy = "inet:127.0.0.1:$POLICY_PORT"
http = "inet:127.0.0.1:$HTTP_PORT"
drain_timeout = "2s"
clock = "$1"

[store]
path = "$W/state.db"
snapshot_interval = "1s"

[log]
level = "debug"
CF
}
start_daemon() {
  "$PW" serve -c "$W/portwarden.toml" >> "$W/daemon.log" 2>&1 &
  DAEMON=$!
  PIDS+=($DAEMON)
  wait_port "$POLICY_PORT" && wait_port "$HTTP_PORT"
}
wait_subscriber() {  # wait_subscriber ID REGEX: decisions reach the store within the snapshot thread's second
  local sub
  for _ in $(seq 30); do
    sub=$("$PROBE" subscriber "$HTTP_PORT" "$1")
    grep -q "$2" <<< "$sub" && return 0
    sleep 0.2
  done
  echo "$1: $sub"
  return 1
}
# A reload lets idle smtpd processes of the old configuration take one more connection; a restart
# does not.
restart_postfix() {
  postfix -c "$W/pf/etc" stop > /dev/null 2>&1
  for _ in $(seq 100); do
    [ -e "$W/pf/queue/pid/master.pid" ] && pgrep -F "$W/pf/queue/pid/master.pid" > /dev/null 2>&1 || break
    sleep 0.1
  done
  wait_port_closed "$SMTPD_PORT" && postfix -c "$W/pf/etc" start > /dev/null 2>&1 && wait_port "$SMTPD_PORT"
}
stop_daemon() {
  kill "$DAEMON"
  for _ in $(seq 100); do kill -0 "$DAEMON" 2> /dev/null || break; sleep 0.1; done
  wait_port_closed "$HTTP_PORT"
}

printf 'From: a@example.test\nSubject: drive test\n\n.a line that needs dot-stuffing\nhello\n' > "$W/msg.eml"

pf_instance "$W/pf" "$SMTPD_PORT" "$SINK_PORT" "inet:127.0.0.1:$POLICY_PORT" "inet:127.0.0.1:$MILTER_PORT" \
  "10.0.0.0/8" > "$W/pf-setup.log" 2>&1 || { cat "$W/pf-setup.log"; exit 1; }
start_sink "$W/pf" || exit 1
write_config api "inet:127.0.0.1:$MILTER_PORT"
start_daemon && wait_port "$MILTER_PORT" || { cat "$W/daemon.log"; exit 1; }
postfix -c "$W/pf/etc" start || { echo "postfix start failed"; exit 1; }
wait_port "$SMTPD_PORT" || exit 1

# --- A. milter + policy -----------------------------------------------------------------------------
check "the daemon warns that its clock is set through the API" \
  grep -q 'clock=api: time is set through the API; for simulators only' "$W/daemon.log"
check "PUT /api/v1/clock sets the clock (clock=api)" test "$("$PROBE" clock "$HTTP_PORT" "$T0")" = ok
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data 'now_ms=1' "http://127.0.0.1:$HTTP_PORT/api/v1/clock")
check "a bad clock body is 400 (got $code)" test "$code" = 400
out=$("$PROBE" send "$SMTPD_PORT" \
  10.1.2.3 - pc-1.example.test sender1@example.test r1@example.net,r2@example.net "$W/msg.eml" \
  - alice alice-pc.example.test alice@example.test r3@example.net "$W/msg.eml" \
  - alice alice-pc.example.test alice@example.test r4@example.net "$W/msg.eml")
echo "$out"
check "three messages accepted (both recipients of the first)" \
  test "$out" = "$(printf 'mail=250 rcpt=250,250 data=250\nmail=250 rcpt=250 data=250\nmail=250 rcpt=250 data=250')"
check "the sink received all three" wait_sent "$W/pf" 3 30
check "Postfix saw the XCLIENT address" grep -q 'client=unknown\[10.1.2.3\]' "$W/pf/maillog"
check "Postfix saw the XCLIENT login" grep -q 'sasl_username=alice' "$W/pf/maillog"
check "ip:10.1.2.3 is known, last seen and decided by the milter at the API clock" \
  wait_subscriber ip:10.1.2.3 "^found .*last_seen_ms=$T0 decisions=1 held=0 decision_at_ms=$T0$"
check "alice is known, last seen and her two messages decided by the milter at the API clock" \
  wait_subscriber alice "^found .*last_seen_ms=$T0 decisions=2 held=0 decision_at_ms=$T0 decision_at_ms=$T0$"
check "an unknown subscriber is not found" test "$("$PROBE" subscriber "$HTTP_PORT" nobody)" = not_found
check "the milter saw the login (source login)" grep -q 'subscriber=alice.*source=login' "$W/daemon.log"

# --- B. policy only ---------------------------------------------------------------------------------
stop_daemon
write_config api ""
start_daemon || { cat "$W/daemon.log"; exit 1; }
# The policy service learns a message only from its END-OF-MESSAGE request (at RCPT it gates
# subscribers it already knows), so it is consulted after the data too.
postconf -c "$W/pf/etc" -e "smtpd_milters =" \
  "smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT" &&
  restart_postfix || exit 1
check "PUT /api/v1/clock moves the clock forward" test "$("$PROBE" clock "$HTTP_PORT" "$T1")" = ok
out=$("$PROBE" send "$SMTPD_PORT" \
  - bob bob-pc.example.test bob@example.test r5@example.net "$W/msg.eml" \
  10.4.5.6 - pc-2.example.test sender2@example.test r6@example.net "$W/msg.eml")
echo "$out"
check "two messages accepted through the policy service" \
  test "$out" = "$(printf 'mail=250 rcpt=250 data=250\nmail=250 rcpt=250 data=250')"
check "the sink received all five" wait_sent "$W/pf" 5 30
check "bob is known from the policy service's sasl_username, seen and decided at the API clock" \
  wait_subscriber bob "^found .*last_seen_ms=$T1 decisions=1 held=0 decision_at_ms=$T1$"
check "ip:10.4.5.6 is known from the policy service's client_address, seen and decided at the API clock" \
  wait_subscriber ip:10.4.5.6 "^found .*last_seen_ms=$T1 decisions=1 held=0 decision_at_ms=$T1$"
check "the clock can move back" test "$("$PROBE" clock "$HTTP_PORT" "$T0")" = ok

# --- C. clock = system ------------------------------------------------------------------------------
stop_daemon
write_config system ""
start_daemon || { cat "$W/daemon.log"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data '{"now_ms": 1}' "http://127.0.0.1:$HTTP_PORT/api/v1/clock")
check "clock=system: PUT /api/v1/clock is refused (got $code)" test "$code" = 404 -o "$code" = 405
out=$("$PROBE" clock "$HTTP_PORT" "$T0")
check "clock=system: daemon_client.set_clock reports the refusal" grep -q '^error: .*404' <<< "$out"
before=$(($(date +%s) * 1000))
"$PROBE" send "$SMTPD_PORT" - carol carol-pc.example.test carol@example.test r7@example.net "$W/msg.eml" > /dev/null
wait_subscriber carol "decisions=1" > /dev/null
seen=$("$PROBE" subscriber "$HTTP_PORT" carol | sed -n 's/.*last_seen_ms=\([0-9]*\).*/\1/p')
check "clock=system: the daemon's time is the real one" test "${seen:-0}" -ge "$before"
# A connection the server ended while idle (Postfix: 421 on smtpd_timeout) is replaced transparently.
postconf -c "$W/pf/etc" -e "smtpd_timeout = 1s" && restart_postfix || exit 1
out=$(PW_PROBE_PAUSE_MS=3000 "$PROBE" send "$SMTPD_PORT" \
  - carol carol-pc.example.test carol@example.test r8@example.net "$W/msg.eml" \
  - carol carol-pc.example.test carol@example.test r9@example.net "$W/msg.eml")
echo "$out"
check "a connection the server closed while idle is reopened" \
  test "$out" = "$(printf 'mail=250 rcpt=250 data=250\nmail=250 rcpt=250 data=250')"
check "... because the server did close it" grep -q 'timeout after END-OF-MESSAGE' "$W/pf/maillog"
check "clock=system: no clock warning at this start" test "$(grep -c 'clock=api' "$W/daemon.log")" = 2

echo "drive_test: $pass passed, $fail failed"
[ "$fail" = 0 ]
