#!/usr/bin/env bash
# Portwarden in front of a real Postfix relay (issue 3's integration tests):
#   1. ordinary mail from several subscribers passes, tagged, and arrives at the sink;
#   2. bursts to new recipients are throttled and then held within their first few dozen messages
#      (spam: escalated by content; inconspicuous content: 4xx at RCPT first); held messages sit in
#      Postfix's hold queue; other subscribers are unaffected;
#   3. release (postsuper -H) delivers the held messages: every accepted message reaches the sink;
#   4. kill -9 of the daemon under load with milter_default_action = tempfail, then a restart:
#      every message is delivered exactly once (the client retries 4xx like an MTA), and subscriber
#      state survived the restart;
#   5. a verdict that misses its deadline gets the configured fallback, which is counted;
#   5b. with tag = "flagged" ordinary mail leaves without the header; these messages are decided on the
#      worker threads (inline_verdict_bytes = 0), everything else small on the network loop;
#   5c. hard bounces in Postfix's own delivery log (error transport, 5.1.1) reach the engine through
#      ingest.maillog, attributed to the sender by queue id, and throttle it;
#   6. privacy: no subject, body or recipient marker appears in the daemon's log, store or HTTP answers.
# Usage: relay_test.sh PATH/TO/portwarden   (needs root, postfix, python3, curl)
set -uo pipefail
PW=$(readlink -f "${1:?usage: relay_test.sh PORTWARDEN}")
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then echo "relay_test: needs root (a private Postfix instance)"; exit 1; fi
command -v postfix > /dev/null || { echo "relay_test: postfix is not installed (scripts/install-deps)"; exit 1; }

W=$(mktemp -d /tmp/pw-relay.XXXXXX)
chmod 755 "$W"
trap 'cleanup_all "$W/pf"; [ "$fail" = 0 ] && rm -rf "$W" || echo "relay_test: kept $W for inspection"' EXIT
require_free_ports "$SMTPD_PORT" "$SINK_PORT" "$POLICY_PORT" "$MILTER_PORT" "$HTTP_PORT"
MARK="PWMARK$RANDOM$RANDOM"

# --- a model trained on synthetic ham and spam shaped like the messages the tests send -------------
train_test_model "$W" "$PW" || exit 1

# --- configuration: four subscribers on their own loopback addresses -----------------------------
head -c 32 /dev/urandom > "$W/secret"; chmod 600 "$W/secret"
write_config() {  # write_config DEADLINE [TAG] [INLINE_VERDICT_BYTES]
  cat > "$W/portwarden.toml" <<CF
[server]
milter = "inet:127.0.0.1:$MILTER_PORT"
policy = "inet:127.0.0.1:$POLICY_PORT"
http = "inet:127.0.0.1:$HTTP_PORT"
verdict_deadline = "$1"
tag = "${2:-all}"
inline_verdict_bytes = ${3:-65536}
fallback = "accept"
drain_timeout = "2s"

[classifier]
model = "$W/model"

[store]
path = "$W/state.db"
snapshot_interval = "1s"

[privacy]
secret_file = "$W/secret"

[log]
level = "debug"

[ingest]
maillog = "$W/pf/maillog"
maillog_poll = "200ms"

[[subscribers.entry]]
cidr = "127.0.0.2/32"
id = "alice"
plan = "residential"

[[subscribers.entry]]
cidr = "127.0.0.3/32"
id = "bob"
plan = "residential"

[[subscribers.entry]]
cidr = "127.0.0.4/32"
id = "carol"
plan = "business"

[[subscribers.entry]]
cidr = "127.0.0.9/32"
id = "mallory"
plan = "residential"

[[subscribers.entry]]
cidr = "127.0.0.10/32"
id = "trudy"
plan = "residential"

[[subscribers.entry]]
cidr = "127.0.0.11/32"
id = "bot1"
plan = "residential"

[[subscribers.entry]]
cidr = "127.0.0.12/32"
id = "bot2"
plan = "residential"

[[subscribers.entry]]
cidr = "127.0.0.13/32"
id = "dave"
plan = "residential"
CF
}
write_config "2s"
"$PW" config check "$W/portwarden.toml" || { echo "config check failed"; exit 1; }

start_daemon() {
  "$PW" serve -c "$W/portwarden.toml" >> "$W/daemon.log" 2>&1 &
  DAEMON=$!
  PIDS+=($DAEMON)
  wait_port "$MILTER_PORT" && wait_port "$POLICY_PORT" && wait_port "$HTTP_PORT"
}

pf_instance "$W/pf" "$SMTPD_PORT" "$SINK_PORT" "inet:127.0.0.1:$POLICY_PORT" "inet:127.0.0.1:$MILTER_PORT" \
  > "$W/pf-setup.log" 2>&1 || { cat "$W/pf-setup.log"; exit 1; }
start_sink "$W/pf" || exit 1
start_daemon || { cat "$W/daemon.log"; exit 1; }
postfix -c "$W/pf/etc" start || { echo "postfix start failed"; exit 1; }
wait_port "$SMTPD_PORT" || exit 1

send() {  # send SOURCE KIND COUNT [extra smtp_send args]
  local src=$1 kind=$2 n=$3; shift 3
  python3 "$HERE/smtp_send.py" --server "127.0.0.1:$SMTPD_PORT" --source "$src" --kind "$kind" --count "$n" \
    --marker "$MARK" "$@"
}

# --- 1. ordinary mail passes, tagged ------------------------------------------------------------
total_accepted=0
for src in 127.0.0.2 127.0.0.3 127.0.0.4; do
  r=$(send "$src" ham 5 --rcpts 2 --first 0)
  a=$(echo "$r" | json_field '["accepted"]')
  total_accepted=$((total_accepted + a))
done
check "1: 15 ordinary messages from three subscribers accepted" [ "$total_accepted" = 15 ]
check "1: all 15 arrive at the sink (30 recipient deliveries)" wait_sent "$W/pf" 30 30
tagged=$(grep -l '^X-Portwarden: level=normal; action=accept' "$W"/pf/sink/* 2> /dev/null | wc -l)
check "1: every delivered message carries the X-Portwarden tag ($tagged of $(sink_files "$W/pf"))" \
  [ "$tagged" = "$(sink_files "$W/pf")" ]

# --- 2. bursts: throttled, then held ---------------------------------------------------------
# 2a: spam to new recipients. The content score speeds the escalation: the level passes throttle
# and reaches hold within a few dozen messages, before any rate is exceeded.
burst=$(send 127.0.0.9 spam 80 --new-recipients --first 1000)
levels=$(grep 'event=verdict' "$W/daemon.log" | grep 'subscriber=mallory' | sed 's/.* level=\([a-z]*\).*/\1/' | tr '\n' ' ')
first_throttle=$(echo "$levels" | tr ' ' '\n' | grep -n -m1 -e throttle -e hold | cut -d: -f1)
first_hold=$(echo "$levels" | tr ' ' '\n' | grep -n -m1 hold | cut -d: -f1)
echo "2a levels of mallory's messages in order: $levels"
check "2a: the spam burst is throttled by message ${first_throttle:-never} (within 40) and held by ${first_hold:-never} (within 60)" \
  [ -n "$first_throttle" ] && [ -n "$first_hold" ] && [ "$first_throttle" -le 40 ] && [ "$first_hold" -le 60 ]
mallory_level=$(http_get /api/v1/subscribers/mallory | json_field '["level"]')
check "2a: mallory is at hold (API says $mallory_level)" [ "$mallory_level" = hold ]
sleep 1
held_a=$(held_count "$W/pf")
check "2a: mallory's later messages sit in Postfix's hold queue ($held_a)" [ "$held_a" -ge 10 ]
burst_accepted=$(echo "$burst" | json_field '["accepted"]')

# 2b: inconspicuous content to new recipients (a hijacked account): no content evidence, so the
# rate decides — throttled with 4xx at RCPT (the sender's MTA would retry), and because it keeps
# pushing new recipients while throttled, held.
burst_b=$(send 127.0.0.10 notice 100 --new-recipients --first 3000)
codes_b=$(echo "$burst_b" | python3 -c 'import sys,json; print(" ".join(map(str, json.load(sys.stdin)["codes"])))')
echo "2b SMTP answers in order: $codes_b"
first_defer=$(echo "$codes_b" | tr ' ' '\n' | grep -n -m1 '^4' | cut -d: -f1)
check "2b: throttled: first 4xx at message ${first_defer:-never} (within 60)" \
  [ -n "$first_defer" ] && [ "$first_defer" -le 60 ]
trudy_level=$(http_get /api/v1/subscribers/trudy | json_field '["level"]')
check "2b: and held while it kept sending (API says $trudy_level)" [ "$trudy_level" = hold ]
check "2b: the reasons say so in numbers" bash -c \
  "curl -fsS http://127.0.0.1:$HTTP_PORT/api/v1/subscribers/trudy | grep -q 'kept sending while throttled: [0-9]'"
burst_accepted=$((burst_accepted + $(echo "$burst_b" | json_field '["accepted"]')))
sleep 1
held=$(held_count "$W/pf")

# 2c: one template from several subscribers is a campaign (issue 4): active once k = 3 distinct
# subscribers sent it; its content-derived evidence (URL domains) is withheld until then.
campaign_of() {  # campaign_of SUBSCRIBER: the campaign id named in its latest decision's reasons
  sleep 1.5      # the decision log is written every second
  http_get "/api/v1/subscribers/$1" | grep -o 'campaign c-[0-9a-f]*' | head -1 | cut -d' ' -f2
}
send 127.0.0.11 spam 2 --first 7000 > /dev/null
cid=$(campaign_of bot1)
check "2c: bot1's message joined mallory's campaign (${cid:-none})" [ -n "$cid" ]
c=$(http_get "/api/v1/campaigns/$cid")
check "2c: two subscribers: not active, evidence withheld" \
  bash -c "echo '$c' | grep -q '\"active\":false' && echo '$c' | grep -q withheld && ! echo '$c' | grep -q url_domains"
send 127.0.0.12 spam 2 --first 7100 > /dev/null
c=$(http_get "/api/v1/campaigns/$cid")
check "2c: three subscribers: active, with its URL domains shown" \
  bash -c "echo '$c' | grep -q '\"active\":true' && echo '$c' | grep -q 'example.biz'"
check "2c: listed among the active campaigns" bash -c "curl -fsS http://127.0.0.1:$HTTP_PORT/api/v1/campaigns | grep -q '$cid'"
check "2c: bot2's reasons name the campaign" [ "$(campaign_of bot2)" = "$cid" ]
burst_accepted=$((burst_accepted + 4))
sleep 1
held=$(held_count "$W/pf")

r=$(send 127.0.0.2 ham 5 --first 100)
check "2: alice is unaffected meanwhile (5 of 5 accepted)" [ "$(echo "$r" | json_field '["accepted"]')" = 5 ]
alice_level=$(http_get /api/v1/subscribers/alice | json_field '["level"]')
check "2: alice stays normal (API says $alice_level)" [ "$alice_level" = normal ]
check "2: hold verdicts were counted" [ "$(metric 'portwarden_verdicts_total{action="hold"}')" -ge 10 ]

# --- 3. release delivers every held message ----------------------------------------------------
expected=$((30 + burst_accepted + 5))
check "3: before release only non-held mail is delivered" wait_sent "$W/pf" $((expected - held)) 30
postsuper -c "$W/pf/etc" -H ALL > /dev/null 2>&1
check "3: after postsuper -H every accepted message is delivered ($expected recipient deliveries)" \
  wait_sent "$W/pf" "$expected" 60
check "3: nothing left in the queue" wait_queue_empty "$W/pf" 10

# --- 4. kill -9 under load, restart: nothing lost, state survived --------------------------------
sleep 1.5   # one snapshot interval: mallory's hold is in the store
before=$(sent_count "$W/pf")
send 127.0.0.4 ham 300 --first 5000 --retry-for 60 > "$W/load1.json" &
LOAD1=$!
send 127.0.0.4 ham 300 --first 6000 --retry-for 60 > "$W/load2.json" &
LOAD2=$!
sleep 0.7
kill -9 "$DAEMON"
sleep 2
start_daemon || { echo "restart failed"; cat "$W/daemon.log"; }
wait "$LOAD1" "$LOAD2"
a1=$(json_field '["accepted"]' < "$W/load1.json"); a2=$(json_field '["accepted"]' < "$W/load2.json")
retries=$(( $(json_field '["retries"]' < "$W/load1.json") + $(json_field '["retries"]' < "$W/load2.json") ))
check "4: the kill hit the load: $retries messages got a 4xx during the outage and were retried" [ "$retries" -ge 1 ]
check "4: all 600 messages accepted in the end ($a1 + $a2)" [ "$((a1 + a2))" = 600 ]
check "4: all 600 delivered" wait_sent "$W/pf" $((before + 600)) 90
dupes=$(grep -h '^Message-ID: <'"$MARK"'\.[56]' "$W"/pf/sink/* | sort | uniq -d | wc -l)
unique=$(grep -h '^Message-ID: <'"$MARK"'\.[56]' "$W"/pf/sink/* | sort -u | wc -l)
check "4: exactly once: $unique distinct messages at the sink, $dupes duplicates" [ "$unique" = 600 ] && [ "$dupes" = 0 ]
check "4: the daemon restored subscriber state" grep -q 'event=restored records=[1-9][0-9]* subscribers=[1-9]' "$W/daemon.log"
mallory_level=$(http_get /api/v1/subscribers/mallory | json_field '["level"]')
check "4: mallory is still held after the restart (API says $mallory_level)" [ "$mallory_level" = hold ]

# --- 5. a verdict past its deadline gets the fallback, counted ------------------------------------
write_config "10ms"
kill -HUP "$DAEMON"
for _ in $(seq 50); do grep -q 'event=reloaded' "$W/daemon.log" && break; sleep 0.1; done
before=$(sent_count "$W/pf")
# A large base64-encoded HTML part: decoding and reducing it takes far longer than 10 ms.
python3 - "$W/big.eml" "$MARK" <<'PY'
import base64, sys
html = "<html><body>" + "".join("<p>para <b>%d</b> &amp; <a href='http://x%d.example.com/'>link</a></p>\n" % (i, i % 100)
                                for i in range(100000)) + "</body></html>"
b64 = base64.encodebytes(html.encode()).decode().replace("\n", "\r\n")
open(sys.argv[1], "w").write("From: a@example.org\r\nTo: b@example.net\r\nSubject: big %s\r\n"
                             "Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n%s" % (sys.argv[2], b64))
PY
swaks --server "127.0.0.1:$SMTPD_PORT" --local-interface 127.0.0.3 --from bob@example.org \
  --to "big.$MARK@example.net" --data "$W/big.eml" > "$W/swaks.big" 2>&1
check "5: the large message is accepted (fallback = accept)" grep -q '^<- *250 .*queued' "$W/swaks.big"
check "5: and delivered" wait_sent "$W/pf" $((before + 1)) 30
check "5: the fallback was counted" [ "$(metric 'portwarden_fallbacks_total{cause="deadline"}')" -ge 1 ]
check "5: and logged" grep -q 'event=fallback cause=deadline action=accept' "$W/daemon.log"

# --- 5b. tag = "flagged": ordinary mail goes out without the X-Portwarden header ------------------
reloads=$(grep -c 'event=reloaded' "$W/daemon.log")
# Also every message on the worker threads (inline_verdict_bytes = 0), the path larger ones take.
write_config "2s" flagged 0
kill -HUP "$DAEMON"
for _ in $(seq 50); do [ "$(grep -c 'event=reloaded' "$W/daemon.log")" -gt "$reloads" ] && break; sleep 0.1; done
before=$(sent_count "$W/pf")
files_before=$(sink_files "$W/pf")
tagged_before=$(grep -l '^X-Portwarden:' "$W"/pf/sink/* 2> /dev/null | wc -l)
r=$(send 127.0.0.4 ham 2 --rcpts 1 --first 500)
check "5b: two ordinary messages from carol accepted, decided on workers" [ "$(echo "$r" | json_field '["accepted"]')" = 2 ]
check "5b: and delivered" wait_sent "$W/pf" $((before + 2)) 30
new_files=$(( $(sink_files "$W/pf") - files_before ))
new_tagged=$(( $(grep -l '^X-Portwarden:' "$W"/pf/sink/* 2> /dev/null | wc -l) - tagged_before ))
check "5b: without the X-Portwarden header ($new_files new at the sink, $new_tagged tagged)" \
  [ "$new_files" = 2 -a "$new_tagged" = 0 ]

# --- 5c. bounces from the delivery log ----------------------------------------------------------
# dave writes ordinary mail to one friend, and every third message also goes to an address that does
# not exist: Postfix's error transport bounces it (dsn=5.1.1, status=bounced in $W/pf/maillog).
r=$(send 127.0.0.13 ham 15 --rcpts 1 --invalid-every 3 --first 8000)
check "5c: dave's 15 messages accepted" [ "$(echo "$r" | json_field '["accepted"]')" = 15 ]
for _ in $(seq 100); do [ "$(metric 'portwarden_bounces_total{attributed="yes"}')" -ge 5 ] && break; sleep 0.2; done
check "5c: the 5 bounces in Postfix's log were read and attributed" \
  [ "$(metric 'portwarden_bounces_total{attributed="yes"}')" = 5 ]
dave=$(http_get /api/v1/subscribers/dave)
echo "5c dave: $dave" | cut -c1-400
check "5c: the engine counts them for dave (24 h window)" \
  bash -c "echo '$dave' | python3 -c 'import json,sys; w=json.load(sys.stdin)[\"windows\"][\"24 h\"]; sys.exit(0 if w[\"hard_bounces\"] > 4.9 else 1)'"
check "5c: and throttle him, saying why" \
  bash -c "echo '$dave' | grep -q '\"level\":\"throttle\"' && echo '$dave' | grep -q 'hard bounces'"
check "5c: the bounce decisions are logged with the queue id, without the address" \
  bash -c "grep 'event=bounce' '$W/daemon.log' | grep -q 'subscriber=dave' && ! grep 'event=bounce' '$W/daemon.log' | grep -q 'bounce.test'"

# --- 6. privacy: no content or address in anything the daemon produced --------------------------
for id in alice bob carol mallory dave; do http_get "/api/v1/subscribers/$id" > "$W/api-$id.json"; done
http_get /metrics > "$W/metrics.txt"
kill -TERM "$DAEMON"; for _ in $(seq 100); do kill -0 "$DAEMON" 2> /dev/null || break; sleep 0.1; done
check "6: SIGTERM drains and stops the daemon" bash -c "! kill -0 $DAEMON 2> /dev/null"
check "6: the daemon logged a clean stop" grep -q 'event=stopped' "$W/daemon.log"
leaks=$(grep -la -e "$MARK" -e 'cheap pills' -e 'meeting notes' -e 'School evening' "$W/daemon.log" "$W"/state.db* "$W"/api-*.json \
  "$W/metrics.txt" 2> /dev/null)
check "6: no subject, body or recipient marker in log, store, API or metrics${leaks:+ (found in: $leaks)}" [ -z "$leaks" ]
check "6: (the markers did reach the sink, so the check is not vacuous)" grep -qr "$MARK" "$W/pf/sink"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
