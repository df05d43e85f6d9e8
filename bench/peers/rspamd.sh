#!/usr/bin/env bash
# rspamd 3.4 peer adapter (recipe: /work/shared/recipes/peer-filters.md, "rspamd 3.4 (+ Redis for Bayes)").
#   rspamd.sh TRAIN_LIST TEST_LIST WORKDIR OUT_TSV
# A private rspamd (Debian's /etc/rspamd/rspamd.conf with our own LOCAL_CONFDIR/DBDIR/RUNDIR/LOGDIR in
# WORKDIR/rs) with ONE normal worker (= one scanning process) and a controller, plus a private redis for
# Bayes, all on 127.0.0.1.  Every network check is off and DNS points at a closed port.  Bayes (redis,
# empty at start) is trained from scratch through the controller with the `Learn-Type: bulk` header, so
# EVERY training message is learned (the default learn condition skips messages Bayes already classifies
# with p >= 0.95).  Scoring: `rspamc -n 1 --compact -j symbols` over the test files; score = rspamd score.
# Timing starts once the hyperscan database is loaded.  Peak RSS = VmHWM of the normal worker, read
# before rspamd is stopped.  Default threshold: 6 (action add_header; greylist 4, reject 15).
# Env: PEER_PORT_BASE (21780): normal worker BASE+1, controller BASE+2, redis BASE+3 (or RSPAMD_PORT,
#      RSPAMD_CTRL_PORT, RSPAMD_REDIS_PORT);  RSPAMD_HS_CACHE=DIR: reuse compiled hyperscan databases
#      from DIR and save them there (the first start compiles them, about a minute; not a training
#      artefact);  RSPAMD_LEARN_TYPE=default: train with the default learn condition instead of bulk.
set -euo pipefail
PEER_NAME=rspamd
. "$(dirname "$0")/lib.sh"
peer_init "$@"
BASE=${PEER_PORT_BASE:-21780}
PORT=${RSPAMD_PORT:-$((BASE + 1))}
CTRL=${RSPAMD_CTRL_PORT:-$((BASE + 2))}
REDIS=${RSPAMD_REDIS_PORT:-$((BASE + 3))}
DNS_BLACKHOLE_PORT=${DNS_BLACKHOLE_PORT:-9}
LEARN_TYPE=${RSPAMD_LEARN_TYPE:-bulk}

rs="$WORKDIR/rs"
rm -rf "$rs"; mkdir -p "$rs"/{conf/local.d,conf/override.d,db,run,log,redis}
C="$rs/conf"

# --- configuration (no network) ---
for m in rbl surbl spf dkim dmarc arc asn dcc fuzzy_check mx_check emails once_received; do
  echo 'enabled = false;' > "$C/local.d/$m.conf"
done
printf 'helo_enabled = false;\nhostname_enabled = false;\nfrom_enabled = false;\n' > "$C/local.d/hfilter.conf"
printf 'phishtank_enabled = false;\nopenphish_enabled = false;\n' > "$C/local.d/phishing.conf"
cat > "$C/local.d/options.inc" <<CF
dns {
  nameserver = ["127.0.0.1:$DNS_BLACKHOLE_PORT"];
  timeout = 0.2s;
  retransmits = 1;
}
CF
cat > "$C/local.d/headers_group.conf" <<'CF'
symbols {
  "DATE_IN_PAST" { weight = 0.0; }
  "DATE_IN_FUTURE" { weight = 0.0; }
}
CF
cat > "$C/local.d/classifier-bayes.conf" <<CF
backend = "redis";
servers = "127.0.0.1:$REDIS";
autolearn = false;
CF
cat > "$C/override.d/worker-normal.inc" <<CF
bind_socket = "127.0.0.1:$PORT";
count = 1;
CF
cat > "$C/override.d/worker-controller.inc" <<CF
bind_socket = "127.0.0.1:$CTRL";
count = 1;
secure_ip = "127.0.0.1";
CF
printf 'enabled = false;\ncount = -1;\n' > "$C/override.d/worker-fuzzy.inc"
printf 'enabled = false;\ncount = 0;\n' > "$C/override.d/worker-proxy.inc"
cat > "$C/override.d/logging.inc" <<CF
type = "file";
filename = "$rs/log/rspamd.log";
level = "info";
CF

main_pid="" redis_pid=""
cleanup() {
  local kids k
  if [[ -n "$main_pid" ]]; then
    kids=$(ps -o pid= --ppid "$main_pid" 2>/dev/null || true)
    stop_pid "$main_pid" 15           # main TERMs its workers and waits for them
    for k in $kids; do stop_pid "$k" 5; done
  fi
  [[ -n "$redis_pid" ]] && stop_pid "$redis_pid" 10
  main_pid="" redis_pid=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for p in "$PORT" "$CTRL" "$REDIS"; do
  port_free "$p" || peer_die "tcp port $p in use (set PEER_PORT_BASE)"
done
if [[ -n "${RSPAMD_HS_CACHE:-}" ]] && compgen -G "$RSPAMD_HS_CACHE/*.hs*" >/dev/null; then
  cp "$RSPAMD_HS_CACHE"/*.hs* "$rs/db/"
  hs_cache=warm
else
  hs_cache=cold
fi

# --- start redis + rspamd, wait for hyperscan ---
ts=$(now)
setsid redis-server --bind 127.0.0.1 --port "$REDIS" --dir "$rs/redis" --save "" --appendonly no \
  --daemonize no --logfile "$rs/log/redis.log" </dev/null >/dev/null 2>&1 &
redis_pid=$!
wait_port "$REDIS" 30 || peer_die "redis did not listen on $REDIS"
: > "$rs/log/rspamd.log"
setsid rspamd -f -u root -g root -i -c /etc/rspamd/rspamd.conf \
  --var="LOCAL_CONFDIR=$C" --var="DBDIR=$rs/db" --var="RUNDIR=$rs/run" --var="LOGDIR=$rs/log" \
  </dev/null >"$rs/log/rspamd.stdout" 2>&1 &
main_pid=$!
wait_port "$PORT" 120 || { tail -n 20 "$rs/log/rspamd.log" "$rs/log/rspamd.stdout" >&2; peer_die "rspamd did not listen on $PORT"; }
wait_port "$CTRL" 30 || peer_die "rspamd controller did not listen on $CTRL"
loaded=""
for _ in $(seq 3000); do   # up to 5 minutes (first start compiles the database)
  if grep -qE '\((main|normal)\).*hyperscan database of [0-9]+ regexps has been loaded' "$rs/log/rspamd.log"; then
    loaded=1; break
  fi
  pid_alive "$main_pid" || peer_die "rspamd exited (see $rs/log)"
  sleep 0.1
done
[[ -n "$loaded" ]] || peer_die "hyperscan database not loaded after 300 s (see $rs/log/rspamd.log)"
sleep 1
worker=$(ps -o pid=,args= --ppid "$main_pid" | awk '/normal/ { print $1; exit }' || true)
[[ -n "$worker" ]] || peer_die "no rspamd normal worker"
startup=$(elapsed "$ts" "$(now)")
peer_log "rspamd main $main_pid worker $worker ready ($hs_cache hyperscan cache) after $startup s; $(grep -oE 'hyperscan database of [0-9]+ regexps' "$rs/log/rspamd.log" | tail -n1)"
if [[ -n "${RSPAMD_HS_CACHE:-}" && $hs_cache == cold ]]; then
  mkdir -p "$RSPAMD_HS_CACHE" && cp "$rs"/db/*.hs* "$RSPAMD_HS_CACHE/" 2>/dev/null || true
fi

# --- train through the controller ---
learn_hdr=()
[[ "$LEARN_TYPE" == bulk ]] && learn_hdr=(--header 'Learn-Type: bulk')
learn() {  # learn learn_spam|learn_ham FILELIST
  local out="$rs/$1.out"
  tr '\n' '\0' < "$2" | xargs -0 rspamc -h "127.0.0.1:$CTRL" -n 1 -t 60 "${learn_hdr[@]}" "$1" > "$out" 2>&1 \
    || { tail -n 5 "$out" >&2; peer_die "rspamc $1 failed"; }
}
awk -F'\t' '$2 == "ham" { print $1 }' "$TRAIN" > "$rs/train.ham"
awk -F'\t' '$2 == "spam" { print $1 }' "$TRAIN" > "$rs/train.spam"
t0=$(now)
learn learn_ham "$rs/train.ham"
learn learn_spam "$rs/train.spam"
t1=$(now)
nlearn_ham=$(grep -c 'success = true' "$rs/learn_ham.out" || true)
nlearn_spam=$(grep -c 'success = true' "$rs/learn_spam.out" || true)
peer_log "learned ham $nlearn_ham/$(wc -l < "$rs/train.ham"), spam $nlearn_spam/$(wc -l < "$rs/train.spam") (Learn-Type: $LEARN_TYPE)"

# --- score ---
cut -f1 "$TEST" > "$rs/test.files"
t2=$(now)
tr '\n' '\0' < "$rs/test.files" | xargs -0 rspamc -h "127.0.0.1:$PORT" -n 1 -t 60 --compact -j symbols \
  > "$rs/scan.json" 2> "$rs/scan.err" || { tail -n 5 "$rs/scan.err" >&2; peer_die "rspamc scan failed"; }
t3=$(now)
rss=$(vmhwm "$worker")
main_rss=$(vmhwm "$main_pid")
cleanup

# one compact JSON reply per line (with "filename"), in input order with -n 1; checked by check_out
jq -r '[.filename // "?", (.score // "?")] | @tsv' "$rs/scan.json" > "$rs/scores.tsv" \
  || peer_die "unreadable rspamc output $rs/scan.json"
[[ $(wc -l < "$rs/scores.tsv") -eq $(wc -l < "$TEST") ]] || peer_die "$(wc -l < "$rs/scores.tsv") replies for $(wc -l < "$TEST") messages"
paste "$TEST" "$rs/scores.tsv" | awk -F'\t' -v OFS='\t' '$1 != $3 { print "reply order mismatch: " $1 " vs " $3 > "/dev/stderr"; exit 1 }
  { print $1, $2, $4 }' > "$OUT" || peer_die "rspamc replies do not match $TEST"
n=$(check_out "$TEST" "$OUT")

write_timing filter=rspamd version="$(rspamd --version 2>&1 | awk '/version/ { print $4; exit }')" \
  variant="1 normal worker, Bayes in redis, Learn-Type: $LEARN_TYPE, network checks off" \
  learn_type="$LEARN_TYPE" learned_ham="$nlearn_ham" learned_spam="$nlearn_spam" \
  train_messages="$(wc -l < "$TRAIN")" train_seconds="$(elapsed "$t0" "$t1")" \
  score_seconds="$(elapsed "$t2" "$t3")" messages="$n" bytes="$(list_bytes "$TEST")" \
  peak_rss_kb="${rss:-0}" rss_of="rspamd normal worker VmHWM" rspamd_main_rss_kb="${main_rss:-0}" \
  startup_seconds="$startup" hyperscan_cache="$hs_cache" threshold=6
