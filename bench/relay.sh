#!/usr/bin/env bash
# Relay bench (issue 3's bars): throughput and per-message latency of real Postfix relays that differ
# only in filtering, plus the behaviour engine's speed and memory; written into BENCHMARKS.md between
# <!-- relay:begin --> and <!-- relay:end -->.
#   bench/relay.sh [CACHE]          as root; see bench/README.md ("Relay bench")
# Three private Postfix instances on loopback (ports RELAY_PORT_BASE+…, default 13000), each relaying
# to its own smtp-sink:
#   bare       no policy service, no milter
#   portwarden `portwarden serve` as milter + policy service over UNIX sockets (the transport rspamd
#              is measured on too), with a trained model: every message is parsed and scored
#   portwarden-inet  the same daemon configuration on loopback TCP (a second daemon), for comparison
#   rspamd     rspamd 3.4 proxy as milter, self_scan, over its UNIX socket (its best transport)
# then smtp-source runs alternated over the setups (bench/relay/throughput.sh), sequential
# per-message latency with the setups interleaved (bench/relay/latency.py), and behavior_bench.
# Everything started here is stopped at the end, also on failure or Ctrl-C.
# Env: PW_BUILD (build dir, default build/release), RELAY_PORT_BASE (13000), RELAY_MESSAGES (2000),
#      RELAY_REPS (5), RELAY_SESSIONS ("4 8"), RELAY_LATENCY_MESSAGES (1000), RELAY_OUT (run dir,
#      default /tmp/pw-relaybench), BENCHMARKS_MD, RSPAMD_HS_CACHE (default CACHE/rspamd-hs).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench/relay
source "$HERE/lib.sh"
[[ $# -le 1 ]] || { echo "usage: bench/relay.sh [CACHE]" >&2; exit 2; }
CACHE=${1:-}
[[ $(id -u) == 0 ]] || { echo "relay bench: needs root (private Postfix instances)" >&2; exit 1; }
for t in postfix smtp-source smtp-sink rspamd redis-server ss jq python3 curl; do
  command -v "$t" >/dev/null || { echo "relay bench: $t is missing (scripts/install-deps --with-peers)" >&2; exit 1; }
done
B=${PW_BUILD:-build/release}
[[ $B == /* ]] || B=$ROOT/$B
PW=$B/src/app/portwarden
BB=$B/bench/behavior_bench
[[ -x $PW && -x $BB ]] || { echo "relay bench: build portwarden and behavior_bench in $B first" >&2; exit 1; }
N=${RELAY_MESSAGES:-2000}
REPS=${RELAY_REPS:-5}
SESSIONS=${RELAY_SESSIONS:-4 8}
LAT_N=${RELAY_LATENCY_MESSAGES:-1000}
BENCHMARKS_MD=${BENCHMARKS_MD:-$ROOT/BENCHMARKS.md}
W=${RELAY_OUT:-/tmp/pw-relaybench}

BASE=${RELAY_PORT_BASE:-13000}
BARE_SMTPD=$((BASE + 25)) BARE_SINK=$((BASE + 26))
PW_SMTPD=$((BASE + 125)) PW_SINK=$((BASE + 126)) PW_HTTP=$((BASE + 180))
PI_SMTPD=$((BASE + 325)) PI_SINK=$((BASE + 326))
PI_POLICY=$((BASE + 340)) PI_MILTER=$((BASE + 350)) PI_HTTP=$((BASE + 380))
RS_SMTPD=$((BASE + 225)) RS_SINK=$((BASE + 226)) RS_MILTER=$((BASE + 250))  # +251 controller, +252 redis, +253 unused
require_free $BARE_SMTPD $BARE_SINK $PW_SMTPD $PW_SINK $PW_HTTP $PI_SMTPD $PI_SINK $PI_POLICY $PI_MILTER $PI_HTTP \
  $RS_SMTPD $RS_SINK $RS_MILTER $((RS_MILTER + 1)) $((RS_MILTER + 2)) $((RS_MILTER + 3))

rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"  # Postfix's processes (user postfix) reach the queues and rspamd's socket below it
SINK_PIDS=()
DAEMON=""
DAEMON_INET=""
cleanup() {
  set +e
  for d in bare portwarden portwarden-inet rspamd; do pf_stop "$W/pf-$d"; done
  stop_pid "$DAEMON"
  stop_pid "$DAEMON_INET"
  [[ -d $W/rspamd/run ]] && "$HERE/rspamd_milter.sh" stop "$W/rspamd" >/dev/null 2>&1
  for p in "${SINK_PIDS[@]}"; do stop_pid "$p"; done
}
trap cleanup EXIT
log() { echo "[relay] $*" >&2; }
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_start=$(date +%s)

# --- the model: split A's training list when the corpus is there, else synthetic messages --------
if [[ -n $CACHE && -f $CACHE/split-a/train.list ]]; then
  TRAIN=$CACHE/split-a/train.list
  model_from="split A's training list ($(wc -l < "$TRAIN") messages of the SpamAssassin public corpus)"
else
  mkdir -p "$W/train"
  python3 "$ROOT/tests/relay/smtp_send.py" --write-dir "$W/train" --kind spam --count 300 --marker bench --seed 3
  python3 "$ROOT/tests/relay/smtp_send.py" --write-dir "$W/train" --kind ham --count 300 --marker bench --seed 4
  for f in "$W"/train/*.eml; do printf '%s\t%s\n' "$f" "$(basename "$f" | cut -d- -f1)"; done > "$W/train.list"
  TRAIN=$W/train.list
  model_from="600 synthetic messages (tests/relay/smtp_send.py; no corpus in CACHE)"
fi
log "training the model on $TRAIN"
"$PW" train --list "$TRAIN" -m "$W/model" > "$W/train.out"

# --- Portwarden: the load source 127.0.0.1 is one subscriber on a generous "business" plan --------
head -c 32 /dev/urandom > "$W/secret"; chmod 600 "$W/secret"
pw_config() {  # pw_config NAME MILTER POLICY HTTP: $W/NAME.toml, its store and desk ledger in $W/NAME
  mkdir -p "$W/$1"
  cat > "$W/$1.toml" <<CF
# bench/relay.sh: the daemon as deployed (2 worker threads, info log, store snapshots), with the
# bench's load source on a plan whose limits it never reaches, so the bench measures filtering, not
# throttling: floors of 1e9 messages/recipients per window, and a ceiling of "watch" (tagging only).
[server]
milter = "$2"
policy = "$3"
http = "$4"

[classifier]
model = "$W/model"

[store]
path = "$W/$1/state.db"

[privacy]
secret_file = "$W/secret"

[log]
level = "info"

[[engine.plans]]
name = "residential"

[[engine.plans]]
name = "business"
ceiling = "watch"
floor_messages = [1e9, 1e9, 1e9, 1e9]
floor_recipients = [1e9, 1e9, 1e9, 1e9]

[[subscribers.entry]]
cidr = "127.0.0.1/32"
id = "bench-load"
plan = "business"
CF
  "$PW" config check "$W/$1.toml" >&2
}
mkdir -p "$W/pw-run"; chmod 755 "$W/pw-run"
pw_config portwarden "unix:$W/pw-run/milter.sock" "unix:$W/pw-run/policy.sock" "inet:127.0.0.1:$PW_HTTP"
pw_config portwarden-inet "inet:127.0.0.1:$PI_MILTER" "inet:127.0.0.1:$PI_POLICY" "inet:127.0.0.1:$PI_HTTP"

# --- start: sinks, filters, Postfix instances ----------------------------------------------------
for port in $BARE_SINK $PW_SINK $PI_SINK $RS_SINK; do
  smtp-sink -u postfix -4 127.0.0.1:"$port" 256 > "$W/sink-$port.out" 2>&1 &
  SINK_PIDS+=($!)
done
"$PW" serve -c "$W/portwarden.toml" > "$W/portwarden.log" 2>&1 &
DAEMON=$!
"$PW" serve -c "$W/portwarden-inet.toml" > "$W/portwarden-inet.log" 2>&1 &
DAEMON_INET=$!
RS_HS=${RSPAMD_HS_CACHE:-${CACHE:+$CACHE/rspamd-hs}}
log "starting rspamd (hyperscan: ${RS_HS:-compiled afresh})"
RSPAMD_HS_CACHE=$RS_HS "$HERE/rspamd_milter.sh" start "$W/rspamd" "$RS_MILTER" 1 >&2
if [[ -n $RS_HS ]]; then mkdir -p "$RS_HS" && cp -n "$W"/rspamd/db/*.hs* "$RS_HS/" 2>/dev/null || true; fi
pf_instance "$W/pf-bare" $BARE_SMTPD $BARE_SINK "" "" > "$W/pf-setup.log" 2>&1
pf_instance "$W/pf-portwarden" $PW_SMTPD $PW_SINK "unix:$W/pw-run/policy.sock" "unix:$W/pw-run/milter.sock" >> "$W/pf-setup.log" 2>&1
pf_instance "$W/pf-portwarden-inet" $PI_SMTPD $PI_SINK "inet:127.0.0.1:$PI_POLICY" "inet:127.0.0.1:$PI_MILTER" >> "$W/pf-setup.log" 2>&1
pf_instance "$W/pf-rspamd" $RS_SMTPD $RS_SINK "" "unix:$W/rspamd/run/milter.sock" >> "$W/pf-setup.log" 2>&1
for port in $BARE_SINK $PW_SINK $PI_SINK $RS_SINK $PW_HTTP $PI_MILTER $PI_POLICY $PI_HTTP; do wait_listen "$port"; done
# The daemon makes its sockets 0660 under its own user and group (root here); Postfix's smtpd and
# cleanup connect as postfix. Deployed, portwarden runs as a user in group postfix instead.
chgrp postfix "$W/pw-run/milter.sock" "$W/pw-run/policy.sock"
[[ -S $W/rspamd/run/milter.sock ]] || { echo "relay bench: rspamd's milter socket is missing" >&2; exit 1; }
for d in bare portwarden portwarden-inet rspamd; do postfix -c "$W/pf-$d/etc" start; done
for port in $BARE_SMTPD $PW_SMTPD $PI_SMTPD $RS_SMTPD; do wait_listen "$port"; done

RS_MAIN=$(cat "$W/rspamd/run/main.pid")
RS_PIDS=$(ps -o pid=,args= --ppid "$RS_MAIN" | awk '/rspamd_proxy/ { printf "%s,", $1 }')$(cat "$W/rspamd/run/redis.pid")
SETUPS=("bare=$BARE_SMTPD=$W/pf-bare" "portwarden=$PW_SMTPD=$W/pf-portwarden=$DAEMON"
        "portwarden-inet=$PI_SMTPD=$W/pf-portwarden-inet=$DAEMON_INET" "rspamd=$RS_SMTPD=$W/pf-rspamd=$RS_PIDS")

# warm-up (not counted): every process spawned, caches and connections to the filters open
log "warm-up"
"$HERE/throughput.sh" -n 200 -s 8 -r 1 "${SETUPS[@]}" > /dev/null

log "throughput: smtp-source -s {$SESSIONS} -m $N -l 4096, $REPS repetitions, alternated"
# a run that does not deliver every message is kept in the table and flagged by report.py
"$HERE/throughput.sh" -n "$N" -l 4096 -s "$SESSIONS" -r "$REPS" "${SETUPS[@]}" > "$W/throughput.tsv" || true
cat "$W/throughput.tsv" >&2

log "latency: $LAT_N messages per setup, one per connection, interleaved"
python3 "$HERE/latency.py" -n "$LAT_N" -l 4096 --raw "$W/latency.tsv" \
  bare=$BARE_SMTPD portwarden=$PW_SMTPD rspamd=$RS_SMTPD | tee "$W/latency.txt" >&2

curl -fsS --max-time 10 "http://127.0.0.1:$PW_HTTP/metrics" > "$W/metrics.txt"
curl -fsS --max-time 10 "http://127.0.0.1:$PW_HTTP/api/v1/subscribers/bench-load" > "$W/subscriber.json" || true
for d in bare portwarden portwarden-inet rspamd; do
  grep -c 'status=sent' "$W/pf-$d/maillog" > "$W/sent-$d" || true
  # anything not delivered (deferred, held, rejected) shows up in the queue
  postqueue -c "$W/pf-$d/etc" -j 2>/dev/null | wc -l > "$W/left-$d"
done
cleanup
trap - EXIT
for port in $BARE_SMTPD $PW_SMTPD $PI_SMTPD $RS_SMTPD $BARE_SINK $PW_SINK $PI_SINK $RS_SINK $PW_HTTP $PI_MILTER \
  $PI_POLICY $PI_HTTP $RS_MILTER; do
  wait_closed "$port" || echo "relay bench: WARNING: port $port still open after the stop" >&2
done
log "relays stopped"

# --- the engine alone (relays stopped, so it has the machine to itself as far as we can help it) --
log "behavior_bench: BM_on_message and BM_memory_1M, 5 repetitions"
"$BB" --benchmark_filter='^(BM_on_message|BM_memory_1M)' --benchmark_repetitions=5 \
  --benchmark_format=json > "$W/behavior.json"

t_end=$(date +%s)
CPU_MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
python3 "$HERE/report.py" --dir "$W" --messages "$N" --reps "$REPS" --latency-messages "$LAT_N" \
  --date "$started" --machine "$(nproc) cores, $CPU_MODEL" \
  --command "${PW_BUILD:+PW_BUILD=$PW_BUILD }bench/relay.sh${CACHE:+ $CACHE}" --model-from "$model_from" \
  --seconds $((t_end - t_start)) > "$W/section.md"
"$ROOT/bench/replace-section" "$BENCHMARKS_MD" relay "$W/section.md"
cat "$W/section.md"
log "run directory: $W"
