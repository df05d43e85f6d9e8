#!/bin/bash
# Adapted from the team's verified recipe /work/shared/recipes/examples/rspamd_milter.sh
# (peer-filters.md, "rspamd as a milter for Postfix"); unchanged apart from this note.
# Private rspamd 3.4 (Debian package) as a Postfix milter on loopback:
# the rspamd_proxy worker in milter mode scans the messages itself (self_scan),
# Bayes in a private redis, every network-based check off.  Run as root.
# Does not touch /etc/rspamd (only reads it) or the system rspamd/redis.
#
#   rspamd_milter.sh start DIR MILTER_PORT [COUNT]   COUNT = scanner processes, default 1
#       the milter listens on 127.0.0.1:MILTER_PORT and on DIR/run/milter.sock (mode 0666)
#   rspamd_milter.sh stop  DIR
#   rspamd_milter.sh pids  DIR
#
# Env: CTRL_PORT (MILTER_PORT+1)  controller, for `rspamc -h 127.0.0.1:CTRL_PORT stat`
#      REDIS_PORT (MILTER_PORT+2) private redis (Bayes backend, untrained here)
#      DNS_BLACKHOLE_PORT (9)     closed UDP port used as "nameserver": lookups fail at once
#      RSPAMD_LOGLEVEL (info)     Debian's default; one line per scanned message
#      RSPAMD_SELF_SCAN=0         classic layout instead: proxy (1 process) forwards to COUNT normal
#                                 workers on NORMAL_PORT (MILTER_PORT+3), like Debian's default
#      RSPAMD_TEST_PATTERNS=1     also honour the add-header/rewrite-subject GTUBE variants (tests only)
#      RSPAMD_EXTRA_CONF          dir with local.d/ and/or override.d/ files copied over the generated ones
#      RSPAMD_HS_CACHE            dir with a compiled hyperscan cache (*.hs*) to copy into DIR/db
set -euo pipefail
cmd=${1:?usage: rspamd_milter.sh start DIR PORT [COUNT] | stop DIR | pids DIR}
D=${2:?DIR}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
# poll the listen table, not connect(): a probe connection makes the milter log "Unexpected EOF"
wait_port() { for _ in $(seq $(($2 * 10))); do ss -ltnH "( sport = :$1 )" | grep -q . && return 0; sleep 0.1; done; return 1; }
stop_pid() {  # stop_pid PIDFILE: TERM that one pid, wait up to 10 s, then KILL
  local p; [ -f "$1" ] || return 0; p=$(cat "$1")
  if pid_alive "$p"; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 100); do pid_alive "$p" || break; sleep 0.1; done
    pid_alive "$p" && kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$1"
}

write_conf() {  # write_conf CONF PORT COUNT CTRL REDIS DNS LEVEL NORMAL
  local C=$1 PORT=$2 COUNT=$3 CTRL=$4 REDIS=$5 DNS=$6 LEVEL=$7 NORMAL=$8 m
  rm -rf "$C"; mkdir -p "$C/local.d" "$C/override.d"
  # --- no network: modules that query DNS/HTTP are off (same as the peer-filter scoring setup) ---
  for m in rbl surbl spf dkim dmarc arc asn dcc fuzzy_check mx_check emails once_received; do
    echo 'enabled = false;' > "$C/local.d/$m.conf"
  done
  printf 'helo_enabled = false;\nhostname_enabled = false;\nfrom_enabled = false;\n' > "$C/local.d/hfilter.conf"
  printf 'phishtank_enabled = false;\nopenphish_enabled = false;\n' > "$C/local.d/phishing.conf"
  cat > "$C/local.d/options.inc" <<EOF
dns {
  nameserver = ["127.0.0.1:$DNS"];
  timeout = 0.2s;
  retransmits = 1;
  sockets = 4;
}
EOF
  # 3.4: the YJS/ZJS/AJS GTUBE variants (add header / rewrite subject / no action) only with this
  [ "${RSPAMD_TEST_PATTERNS:-0}" = 1 ] && echo 'enable_test_patterns = true;' >> "$C/local.d/options.inc"
  cat > "$C/local.d/headers_group.conf" <<'EOF'
symbols {
  "DATE_IN_PAST" { weight = 0.0; }
  "DATE_IN_FUTURE" { weight = 0.0; }
}
EOF
  cat > "$C/local.d/classifier-bayes.conf" <<EOF
backend = "redis";
servers = "127.0.0.1:$REDIS";
autolearn = false;
EOF
  # --- headers the milter adds: by default (use = []) a ham message gets none ---
  cat > "$C/local.d/milter_headers.conf" <<'EOF'
extended_spam_headers = true;  # X-Spamd-Result, X-Rspamd-Server, X-Rspamd-Queue-Id, X-Rspamd-Action
skip_local = false;            # the client is 127.0.0.1, which rspamd treats as local
skip_authenticated = false;
EOF
  # --- workers ---
  if [ "${RSPAMD_SELF_SCAN:-1}" = 1 ]; then
    UPSTREAM='self_scan = yes;   # the proxy process scans; no normal worker involved'
    PROXY_COUNT=$COUNT
    printf 'enabled = false;\ncount = 0;\n' > "$C/override.d/worker-normal.inc"
  else
    UPSTREAM="hosts = \"127.0.0.1:$NORMAL\";   # forward each message to the normal workers (HTTP)"
    PROXY_COUNT=1
    printf 'bind_socket = "127.0.0.1:%s";\ncount = %s;\n' "$NORMAL" "$COUNT" > "$C/override.d/worker-normal.inc"
  fi
  # two listeners: TCP for smtpd_milters = inet:127.0.0.1:PORT and a UNIX socket for
  # smtpd_milters = unix:DIR/run/milter.sock (no Nagle/delayed-ACK stall, see the recipe)
  cat > "$C/override.d/worker-proxy.inc" <<EOF
bind_socket = "127.0.0.1:$PORT";
bind_socket = "$D/run/milter.sock mode=0666";
milter = yes;
timeout = 120s;
upstream "local" {
  default = yes;
  $UPSTREAM
}
count = $PROXY_COUNT;
max_retries = 5;
discard_on_reject = false;
quarantine_on_reject = false;
spam_header = "X-Spam";
reject_message = "Spam message rejected";
EOF
  printf 'enabled = false;\ncount = -1;\n' > "$C/override.d/worker-fuzzy.inc"
  cat > "$C/override.d/worker-controller.inc" <<EOF
bind_socket = "127.0.0.1:$CTRL";
count = 1;
secure_ip = "127.0.0.1";
EOF
  cat > "$C/override.d/logging.inc" <<EOF
type = "file";
filename = "$D/log/rspamd.log";
level = "$LEVEL";
EOF
}

case $cmd in
start)
  PORT=${3:?MILTER_PORT}; COUNT=${4:-1}
  CTRL_PORT=${CTRL_PORT:-$((PORT + 1))}; REDIS_PORT=${REDIS_PORT:-$((PORT + 2))}; NORMAL_PORT=${NORMAL_PORT:-$((PORT + 3))}
  DNS_BLACKHOLE_PORT=${DNS_BLACKHOLE_PORT:-9}; LEVEL=${RSPAMD_LOGLEVEL:-info}
  [ -f "$D/run/main.pid" ] && pid_alive "$(cat "$D/run/main.pid")" && { echo "already running" >&2; exit 1; }
  for p in "$PORT" "$CTRL_PORT" "$REDIS_PORT" "$NORMAL_PORT"; do
    ss -ltnH "( sport = :$p )" | grep -q . && { echo "tcp port $p in use" >&2; exit 1; }
  done
  ss -lunH "( sport = :$DNS_BLACKHOLE_PORT )" | grep -q . && { echo "udp $DNS_BLACKHOLE_PORT in use" >&2; exit 1; }
  mkdir -p "$D"/{db,run,log,redis}
  [ -n "${RSPAMD_HS_CACHE:-}" ] && cp -n "$RSPAMD_HS_CACHE"/*.hs* "$D/db/" 2>/dev/null || true
  write_conf "$D/conf" "$PORT" "$COUNT" "$CTRL_PORT" "$REDIS_PORT" "$DNS_BLACKHOLE_PORT" "$LEVEL" "$NORMAL_PORT"
  [ -n "${RSPAMD_EXTRA_CONF:-}" ] && cp -r "$RSPAMD_EXTRA_CONF"/. "$D/conf/"
  setsid redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$D/redis" --save "" \
      --appendonly no --daemonize no --logfile "$D/log/redis.log" </dev/null >/dev/null 2>&1 &
  echo $! > "$D/run/redis.pid"
  wait_port "$REDIS_PORT" 30 || { echo "redis did not start" >&2; exit 1; }
  : > "$D/log/rspamd.log"
  setsid rspamd -f -u root -g root -i -c /etc/rspamd/rspamd.conf \
      --var="LOCAL_CONFDIR=$D/conf" --var="DBDIR=$D/db" --var="RUNDIR=$D/run" --var="LOGDIR=$D/log" \
      </dev/null >"$D/log/rspamd.stdout" 2>&1 &
  echo $! > "$D/run/main.pid"
  wait_port "$PORT" 120 || { echo "rspamd proxy did not open $PORT (see $D/log)" >&2; exit 1; }
  # hyperscan: the first start compiles the cache into DIR/db (hs_helper, seconds to a minute);
  # until the workers load it they match regexps the slow way.  A cached DIR/db is loaded
  # by main before it forks.  Either way the line below appears (at log level info).
  if [ "$LEVEL" = info ] || [ "$LEVEL" = debug ]; then
    for _ in $(seq 1800); do
      grep -qE '\((main|rspamd_proxy|normal)\).*hyperscan database of [0-9]+ regexps has been loaded' "$D/log/rspamd.log" && break
      sleep 0.1
    done || true
  else  # no info lines: wait for the cache files to stop changing
    for _ in $(seq 180); do
      a=$(ls -l "$D"/db 2>/dev/null | md5sum); sleep 1; b=$(ls -l "$D"/db 2>/dev/null | md5sum)
      [ -n "$(ls "$D"/db/*.hs 2>/dev/null)" ] && [ "$a" = "$b" ] && break
    done
  fi
  sleep 1
  ;;
stop)
  kids=$(ps -o pid= --ppid "$(cat "$D/run/main.pid" 2>/dev/null || echo 0)" 2>/dev/null || true)
  stop_pid "$D/run/main.pid"    # main TERMs its workers and waits for them
  for k in $kids; do            # belt and braces: only the workers of this main
    for _ in $(seq 50); do pid_alive "$k" || break; sleep 0.1; done
    pid_alive "$k" && kill -KILL "$k" 2>/dev/null || true
  done
  stop_pid "$D/run/redis.pid"
  ;;
pids)
  for f in main redis; do
    p=$(cat "$D/run/$f.pid" 2>/dev/null || true)
    pid_alive "$p" && { echo "$p $f"; [ $f = main ] && ps -o pid=,args= --ppid "$p"; }
  done; true
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
