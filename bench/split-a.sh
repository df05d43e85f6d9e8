#!/usr/bin/env bash
# Split-A benchmark: Portwarden and the incumbent filters (bogofilter, SpamAssassin, rspamd) trained and
# scored on the same SpamAssassin-public-corpus split in ONE invocation; writes a markdown table into
# BENCHMARKS.md between <!-- split-a:begin --> and <!-- split-a:end -->.  See bench/README.md.
#
#   bench/split-a.sh CACHE
#
# Env: PW_BIN        Portwarden binary (default build/release/src/app/portwarden)
#      PEERS         peers to run (default "bogofilter spamassassin rspamd")
#      PEER_PORT_BASE  loopback ports for the peer daemons: BASE (spamd), BASE+1..3 (rspamd) (default 21780)
#      SPLIT_A_OUT   run directory (default CACHE/split-a/run): lists, TSVs, timing, logs, SVG
#      BENCHMARKS_MD file to update (default <repo>/BENCHMARKS.md)
#      RSPAMD_HS_CACHE  compiled hyperscan databases for rspamd (default CACHE/rspamd-hs)
# Metrics (AUC, recall at fixed FPR, lam%) for every filter come from ONE implementation,
# `portwarden roc --scores FILE.tsv --threshold T --json`, applied to each filter's score TSV.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -eq 1 ]] || { echo "usage: bench/split-a.sh CACHE" >&2; exit 2; }
CMDLINE="bench/split-a.sh $*"
for v in PW_BIN PEERS PEER_PORT_BASE SPLIT_A_OUT BENCHMARKS_MD; do
  [[ -n "${!v:-}" ]] && CMDLINE="$v=$(printf '%q' "${!v}") $CMDLINE"
done
PW_BIN=${PW_BIN:-$ROOT/build/release/src/app/portwarden}
PEERS=${PEERS:-bogofilter spamassassin rspamd}
BENCHMARKS_MD=${BENCHMARKS_MD:-$ROOT/BENCHMARKS.md}
export PEER_PORT_BASE=${PEER_PORT_BASE:-21780}
log() { echo "[split-a] $*" >&2; }
# timed TIMEFILE OUT ERR CMD...: CMD under /usr/bin/time -f '%M %e', in the background so that a signal
# to this script reaches it (the adapters stop their daemons on TERM/INT)
cur=""
timed() {
  local tf=$1 out=$2 err=$3; shift 3
  /usr/bin/time -f '%M %e' -o "$tf" "$@" > "$out" 2> "$err" &
  cur=$!
  local rc=0; wait "$cur" || rc=$?
  cur=""
  return "$rc"
}
on_signal() {
  local k
  if [[ -n "$cur" ]]; then
    for k in $(ps -o pid= --ppid "$cur" 2>/dev/null); do kill -TERM "$k" 2>/dev/null || true; done
    wait "$cur" 2>/dev/null || true
  fi
  log "interrupted"; exit 130
}
trap on_signal INT TERM
for t in jq awk /usr/bin/time; do command -v "$t" >/dev/null || { log "missing $t (scripts/install-deps --with-peers)"; exit 1; }; done

# --- corpus ---
"$ROOT/scripts/fetch-corpus" "$1" >&2
CACHE=$(cd "$1" && pwd)
TRAIN=$CACHE/split-a/train.list
TEST=$CACHE/split-a/test.list
OUTD=${SPLIT_A_OUT:-$CACHE/split-a/run}
rm -rf "$OUTD"; mkdir -p "$OUTD"; OUTD=$(cd "$OUTD" && pwd)
chmod 0755 "$OUTD"   # spamd's children run as nobody and must reach their Bayes directory
d=$OUTD; while [[ "$d" != / ]]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
# rspamd's compiled hyperscan databases are kept across runs (not training state; the first start
# compiles them, about 20-60 s, which then counts in rspamd's whole-run time)
export RSPAMD_HS_CACHE=${RSPAMD_HS_CACHE:-$CACHE/rspamd-hs}
T0=$(date +%s)
log "train $(wc -l < "$TRAIN") / test $(wc -l < "$TEST") messages; run directory $OUTD"

# --- Portwarden ---
pw_eval=0 pw_roc=0 pw_svg=0
if [[ -x "$PW_BIN" ]]; then
  "$PW_BIN" eval --help >/dev/null 2>&1 && pw_eval=1
  if "$PW_BIN" roc --help > "$OUTD/roc.help" 2>&1; then
    pw_roc=1
    if grep -q -- '--svg-out' "$OUTD/roc.help"; then pw_svg=--svg-out
    elif grep -qE -- '--svg([^-]|$)' "$OUTD/roc.help"; then pw_svg=--svg; fi
  fi
else
  log "SKIP Portwarden: $PW_BIN not built (cmake --preset release && cmake --build --preset release)"
fi
[[ -x "$PW_BIN" && $pw_eval == 0 ]] && log "SKIP Portwarden row: '$PW_BIN eval' is not available yet"
[[ $pw_roc == 0 ]] && log "NO METRICS: '$PW_BIN roc' is not available yet; accuracy columns will read n/a"

rows=()   # name|tsv|threshold|train_s|score_s|messages|bytes|rss_kb|whole_s|note
if [[ $pw_eval == 1 ]]; then
  log "portwarden eval ..."
  if timed "$OUTD/portwarden.time" "$OUTD/portwarden.json" "$OUTD/portwarden.err" "$PW_BIN" eval \
       --train "$TRAIN" --test "$TEST" --model "$OUTD/portwarden.model" --scores "$OUTD/portwarden.tsv" \
       --svg "$OUTD/portwarden.svg" --json; then
    read -r rss whole < <(tail -n1 "$OUTD/portwarden.time")
    j=$OUTD/portwarden.json
    rows+=("portwarden|$OUTD/portwarden.tsv|$(jq -r .threshold "$j")|$(jq -r .train_seconds "$j")|$(jq -r .score_seconds "$j")|$(jq -r .test_messages "$j")|$(jq -r .test_bytes "$j")|$rss|$whole|whole process, /usr/bin/time")
    log "portwarden: $(jq -c '{auc, one_minus_auc_pct, train_seconds, score_seconds}' "$j"), whole ${whole}s, ${rss} KB"
  else
    log "SKIP Portwarden row: eval failed (see $OUTD/portwarden.err)"; tail -n 5 "$OUTD/portwarden.err" >&2 || true
  fi
fi

# --- peers (one after the other; the whole adapter run is timed too: daemon start, train, score, stop) ---
for p in $PEERS; do
  log "$p ..."
  if timed "$OUTD/$p.time" "$OUTD/$p.out" "$OUTD/$p.err" \
       "$ROOT/bench/peers/$p.sh" "$TRAIN" "$TEST" "$OUTD/$p" "$OUTD/$p.tsv"; then
    whole=$(awk '{ print $2 }' "$OUTD/$p.time" | tail -n1)
    j=$OUTD/$p/timing.json
    rows+=("$p|$OUTD/$p.tsv|$(jq -r .threshold "$j")|$(jq -r .train_seconds "$j")|$(jq -r .score_seconds "$j")|$(jq -r .messages "$j")|$(jq -r .bytes "$j")|$(jq -r .peak_rss_kb "$j")|$whole|$(jq -r .variant "$j")")
    log "$p: $(jq -c . "$j"), whole adapter run ${whole}s"
  else
    log "FAILED $p (see $OUTD/$p.err):"; tail -n 10 "$OUTD/$p.err" >&2 || true
  fi
done

# --- metrics: one implementation for every filter ---
fmt() { awk -v x="$1" -v f="$2" 'BEGIN { if (x == "" || x == "null") print "n/a"; else printf f, x }'; }
table="| filter | AUC | (1-AUC)% | spam recall @0.1% FPR | @1% FPR | lam% (threshold) | messages/s | MB/s | train+score s | whole run s | peak RSS MiB |
|---|---|---|---|---|---|---|---|---|---|---|"
pw_whole=""
notes=""
for r in "${rows[@]}"; do
  IFS='|' read -r name tsv thr trs scs n bytes rss whole note <<< "$r"
  [[ $name == portwarden ]] && pw_whole=$whole
  m="{}"
  if [[ $pw_roc == 1 ]]; then
    if "$PW_BIN" roc --scores "$tsv" --threshold "$thr" --json > "$OUTD/$name.metrics.json" 2> "$OUTD/$name.metrics.err"; then
      m=$(cat "$OUTD/$name.metrics.json")
    else
      log "roc failed for $name (see $OUTD/$name.metrics.err)"
    fi
  fi
  g() { jq -r "$1 // empty" <<< "$m"; }
  auc=$(fmt "$(g .auc)" '%.5f'); oma=$(fmt "$(g .one_minus_auc_pct)" '%.3f')
  r1=$(fmt "$(g '.recall_at_fpr["0.001"]')" '%.3f'); r10=$(fmt "$(g '.recall_at_fpr["0.01"]')" '%.3f')
  lam=$(fmt "$(g .lam_pct)" '%.3f')
  mps=$(awk -v n="$n" -v s="$scs" 'BEGIN { printf "%.0f", n / s }')
  mbs=$(awk -v b="$bytes" -v s="$scs" 'BEGIN { printf "%.2f", b / s / 1e6 }')
  ts=$(awk -v a="$trs" -v b="$scs" 'BEGIN { printf "%.1f", a + b }')
  rmb=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
  table+=$'\n'"| $name | $auc | $oma | $r1 | $r10 | $lam ($thr) | $mps | $mbs | $ts | $(fmt "$whole" '%.1f') | $rmb |"
  notes+=$'\n'"- $name: $note; $(awk -v a="$trs" -v b="$scs" 'BEGIN { printf "train %.2f s, score %.2f s", a, b }') for $n messages ($bytes bytes)."
done

ratios=""
if [[ -n "$pw_whole" ]]; then
  for r in "${rows[@]}"; do
    IFS='|' read -r name _ _ _ _ _ _ _ whole _ <<< "$r"
    [[ $name == portwarden ]] && continue
    ratios+="$(awk -v n="$name" -v p="$pw_whole" -v w="$whole" 'BEGIN { printf "%s %.1f s = %.1f× Portwarden'"'"'s %.1f s; ", n, w, w / p, p }')"
  done
  ratios="Whole-process wall time (train + score, process/daemon start included): ${ratios%; }."
else
  ratios="Whole-process wall time ratios vs Portwarden: n/a (no Portwarden row in this run)."
fi

# optional: one ROC plot for every filter
svg_line=""
if [[ $pw_svg != 0 && ${#rows[@]} -gt 0 ]]; then
  args=()
  for r in "${rows[@]}"; do IFS='|' read -r name tsv _ <<< "$r"; args+=(--scores "$name=$tsv"); done
  if "$PW_BIN" roc "${args[@]}" "$pw_svg" "$OUTD/split-a-roc.svg" > /dev/null 2> "$OUTD/svg.err"; then
    svg_line="ROC curves of all filters: \`$OUTD/split-a-roc.svg\` (not committed)."
  else
    log "combined SVG failed (see $OUTD/svg.err)"
  fi
fi

missing=""
[[ $pw_eval == 1 ]] || missing+=" Portwarden row skipped: \`portwarden eval\` not available."
[[ $pw_roc == 1 ]] || missing+=" Accuracy columns n/a: \`portwarden roc\` not available."
cpu=$(lscpu | awk -F: '/^Model name/ { gsub(/^[ \t]+/, "", $2); print $2; exit }')
section="### Split A: Portwarden vs bogofilter, SpamAssassin, rspamd

Train $(wc -l < "$TRAIN") messages (easy-ham-1 + spam-1 + odd hard-ham-1), test $(wc -l < "$TEST") messages (easy-ham-2 + spam-2 + even hard-ham-1), SpamAssassin public corpus (2002–2003). One scanning process per filter, network tests off. Columns: see bench/README.md.$missing

$table

$ratios
$svg_line

Date $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $cpu, $(nproc) cores; command: \`$CMDLINE\` (run took $(( $(date +%s) - T0 )) s).
Filter settings:$notes"

# --- BENCHMARKS.md: replace only the text between the markers ---
printf '%s\n' "$section" > "$OUTD/section.md"
"$ROOT/bench/replace-section" "$BENCHMARKS_MD" split-a "$OUTD/section.md"
cat "$OUTD/section.md"
log "updated $BENCHMARKS_MD in $(( $(date +%s) - T0 )) s"
