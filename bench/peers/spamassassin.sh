#!/usr/bin/env bash
# SpamAssassin 4.0.1 peer adapter (recipe: /work/shared/recipes/peer-filters.md, "SpamAssassin").
#   spamassassin.sh TRAIN_LIST TEST_LIST WORKDIR OUT_TSV
# Private site config (copy of /etc/spamassassin/*.pre *.cf + Bayes settings) and a private Bayes DB in
# WORKDIR/sa, trained from scratch with `sa-learn -L` on the train list.  Local tests only (-L everywhere,
# no DNS/network rules), empty user prefs.  Scoring: the fast path, a private spamd on 127.0.0.1 with
# ONE child (= one scanning process) and one `spamc -R` per message; score = SA score at full precision
# (the sum of the rules hit, from a custom report template: spamc -c rounds to 0.1).
# Peak RSS = VmHWM of the spamd child, read before spamd is stopped.  Default threshold 5.0.
# Env: SA_PORT (default ${PEER_PORT_BASE:-21780}) spamd port on 127.0.0.1.
set -euo pipefail
PEER_NAME=spamassassin
. "$(dirname "$0")/lib.sh"
peer_init "$@"
PORT=${SA_PORT:-${PEER_PORT_BASE:-21780}}

sa="$WORKDIR/sa"
rm -rf "$sa"; mkdir -p "$sa/site" "$sa/bayes" "$sa/run"
cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf "$sa/site/"
cat > "$sa/site/zz_bench.cf" <<CF
use_bayes 1
bayes_path $sa/bayes/bayes
bayes_auto_learn 0
bayes_auto_expire 0
bayes_file_mode 0777
lock_method flock
# full-precision score: spamd/spamc print it as %.1f, so the report lists the rules hit with their
# scores (SA sums them, 3 decimals) and the adapter adds them up again
clear_report_template
report PWSCORE _TESTSSCORES(,)_
CF
: > "$sa/empty.prefs"
# spamd started as root runs its children as nobody: they must reach and write the Bayes files
chmod 0755 "$WORKDIR" "$sa" "$sa/site" "$sa/run"; chmod 0644 "$sa/site"/* "$sa/empty.prefs"
chmod 0777 "$sa/bayes"
if command -v runuser >/dev/null && ! runuser -u nobody -- test -w "$sa/bayes"; then
  peer_die "user nobody (spamd's children) cannot write $sa/bayes: make WORKDIR's parents world-searchable"
fi
common=(-L --siteconfigpath="$sa/site" -C /usr/share/spamassassin)

spamd_pid=""
cleanup() {
  local k
  if [[ -n "$spamd_pid" ]]; then
    k=$(ps -o pid= --ppid "$spamd_pid" 2>/dev/null || true)
    stop_pid "$spamd_pid" 15
    for k in $k; do stop_pid "$k" 5; done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free "$PORT" || peer_die "tcp port $PORT in use (set SA_PORT or PEER_PORT_BASE)"

# --- train ---
awk -F'\t' '$2 == "ham" { print $1 }' "$TRAIN" > "$sa/train.ham"
awk -F'\t' '$2 == "spam" { print $1 }' "$TRAIN" > "$sa/train.spam"
t0=$(now)
sa-learn "${common[@]}" -p "$sa/empty.prefs" --ham -f "$sa/train.ham" > "$sa/learn.ham.log" 2>&1 \
  || { cat "$sa/learn.ham.log" >&2; peer_die "sa-learn --ham failed"; }
sa-learn "${common[@]}" -p "$sa/empty.prefs" --spam -f "$sa/train.spam" > "$sa/learn.spam.log" 2>&1 \
  || { cat "$sa/learn.spam.log" >&2; peer_die "sa-learn --spam failed"; }
t1=$(now)
peer_log "$(tail -n1 "$sa/learn.ham.log"); $(tail -n1 "$sa/learn.spam.log")"
chmod -R a+rwX "$sa/bayes"
sa-learn "${common[@]}" -p "$sa/empty.prefs" --dump magic 2>/dev/null | awk '/non-token data: n(spam|ham)$/ { print "[spamassassin] bayes " $NF "=" $3 }' >&2 || true

# --- spamd: one child ---
ts=$(now)
# --max-conn-per-child: spamd replaces a child after 200 connections by default; here the same child
# scans the whole test list, so its VmHWM is the scanning process's true peak
setsid spamd -i 127.0.0.1 -p "$PORT" -A 127.0.0.1 "${common[@]}" -x -m 1 --min-children=1 \
  --min-spare=1 --max-spare=1 --max-conn-per-child="$(( $(wc -l < "$TEST") + 100 ))" -s "$sa/run/spamd.log" -r "$sa/run/spamd.pid" \
  </dev/null >"$sa/run/spamd.out" 2>&1 &
spamd_pid=$!
wait_port "$PORT" 120 || { tail -n 20 "$sa/run/spamd.log" >&2; peer_die "spamd did not listen on $PORT"; }
child=""
for _ in $(seq 600); do
  child=$(ps -o pid= --ppid "$spamd_pid" 2>/dev/null | awk 'NR==1 { print $1 }' || true)
  [[ -n "$child" ]] && grep -q 'server successfully spawned child' "$sa/run/spamd.log" && break
  pid_alive "$spamd_pid" || break
  sleep 0.1
done
[[ -n "$child" ]] || { tail -n 20 "$sa/run/spamd.log" >&2; peer_die "spamd child did not start"; }
peer_log "spamd $spamd_pid child $child ready on 127.0.0.1:$PORT after $(elapsed "$ts" "$(now)") s"

# --- score: one spamc per message, in input order ---
t2=$(now)
while IFS=$'\t' read -r path label; do
  rc=0
  r=$(spamc -d 127.0.0.1 -p "$PORT" -x -R < "$path") || rc=$?
  ((rc <= 1)) || peer_die "spamc failed (exit $rc) on $path"
  printf '%s\t%s\t%s\n' "$path" "$label" "${r//[$'\n\t ']/ }"
done < "$TEST" > "$sa/spamc.out"
t3=$(now)
# spamc.out: path label "score/threshold PWSCORE RULE=points,RULE=points..." -> full-precision sum.
# The sum must agree with spamd's own %.1f score (within 0.1: SA prints a ham score that would round
# up to the threshold as threshold-0.1, bug 6419) and give the same verdict; otherwise spamd's score is
# kept and counted as a fallback
awk -F'\t' -v OFS='\t' '{
    split($3, w, " "); split(w[1], st, "/"); sum = 0; rep = ""
    for (i = 2; i <= length(w); i++) rep = rep w[i]
    sub(/^PWSCORE/, "", rep)
    if (rep != "none") { n = split(rep, r, ","); for (i = 1; i <= n; i++) { split(r[i], kv, "="); sum += kv[2] } }
    d = sum - st[1]
    if (rep == "" || d > 0.1001 || d < -0.1001 || ((sum >= st[2]) != (st[1] >= st[2]))) { fb++; s = st[1] }
    else s = sprintf("%.3f", sum) + 0
    print $1, $2, s
  } END { print fb + 0 > "'"$sa/fallbacks"'" }' "$sa/spamc.out" > "$OUT"

child_end=$(ps -o pid= --ppid "$spamd_pid" 2>/dev/null | awk 'NR==1 { print $1 }' || true)
[[ "$child_end" == "$child" ]] || peer_log "warning: spamd child changed ($child -> $child_end); RSS is the last child's"
rss=$(vmhwm "${child_end:-$child}")
parent_rss=$(vmhwm "$spamd_pid")
n=$(check_out "$TEST" "$OUT")
cleanup; spamd_pid=""

write_timing filter=spamassassin version="$(spamassassin --version | awk 'NR==1 { print $3 }')" \
  variant="spamd 1 child + spamc per message, local tests only (-L), Bayes via sa-learn" \
  train_messages="$(wc -l < "$TRAIN")" train_seconds="$(elapsed "$t0" "$t1")" \
  score_seconds="$(elapsed "$t2" "$t3")" messages="$n" bytes="$(list_bytes "$TEST")" \
  score_fallbacks="$(cat "$sa/fallbacks")" \
  peak_rss_kb="${rss:-0}" rss_of="spamd child VmHWM" spamd_parent_rss_kb="${parent_rss:-0}" \
  threshold=5.0
