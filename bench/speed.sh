#!/usr/bin/env bash
# Speed and memory of Portwarden's classifier on split A, written into BENCHMARKS.md between
# <!-- speed:begin --> and <!-- speed:end -->. Medians of repeated runs; the machine is shared.
#   bench/speed.sh CACHE
#   - scoring (parse + features + score), one thread, messages preloaded: classify_bench, 5 repetitions
#   - parsing alone: mime_bench, 5 repetitions
#   - batch training (10 passes + calibration) and incremental training (`portwarden learn`, one pass)
#   - model size and peak RSS of `portwarden check` on the largest test message
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -eq 1 ]] || { echo "usage: bench/speed.sh CACHE" >&2; exit 2; }
"$ROOT/scripts/fetch-corpus" "$1" >&2
CACHE=$(cd "$1" && pwd)
TRAIN=$CACHE/split-a/train.list
TEST=$CACHE/split-a/test.list
B=$ROOT/build/release
PW=$B/src/app/portwarden
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
BENCHMARKS_MD=${BENCHMARKS_MD:-$ROOT/BENCHMARKS.md}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "[speed] classify_bench (scoring, parsing, batch training)" >&2
PW_BENCH_TRAIN=$TRAIN PW_BENCH_LIST=$TEST "$B/bench/classify_bench" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_format=json > "$OUT/classify.json"
agg() {  # agg NAME FIELD: the median aggregate
  jq -r --arg n "$1" --arg f "$2" \
    '.benchmarks[] | select((.run_name | startswith($n)) and .aggregate_name == "median") | .[$f]' \
    "$OUT/classify.json" | head -1
}
score_mps=$(agg score_messages items_per_second)
score_bps=$(agg score_messages bytes_per_second)
parse_mps=$(agg parse_only items_per_second)
parse_bps=$(agg parse_only bytes_per_second)
train_mps=$(agg train_messages items_per_second)

echo "[speed] incremental training: portwarden learn, one pass over the training list" >&2
cut -f1,2 "$TRAIN" | awk -F'\t' '$2 == "spam" { print $1 }' > "$OUT/spam.files"
cut -f1,2 "$TRAIN" | awk -F'\t' '$2 == "ham" { print $1 }' > "$OUT/ham.files"
n_train=$(wc -l < "$TRAIN")
for r in 1 2 3 4 5; do
  rm -f "$OUT/online.model"
  s=$(date +%s.%N)
  xargs -a "$OUT/spam.files" "$PW" learn --spam -m "$OUT/online.model" > /dev/null
  xargs -a "$OUT/ham.files" "$PW" learn --ham -m "$OUT/online.model" > /dev/null
  e=$(date +%s.%N)
  awk -v n="$n_train" -v s="$s" -v e="$e" 'BEGIN { print n / (e - s) }'
done | median > "$OUT/learn_mps"
learn_mps=$(cat "$OUT/learn_mps")

echo "[speed] model size and check RSS" >&2
"$PW" train --list "$TRAIN" -m "$OUT/split-a.model" > /dev/null
model_bytes=$(stat -c %s "$OUT/split-a.model")
largest=$(cut -f1 "$TEST" | xargs stat -c '%s %n' | sort -n | tail -1 | cut -d' ' -f2-)
largest_bytes=$(stat -c %s "$largest")
for r in 1 2 3; do
  /usr/bin/time -f %M -o "$OUT/rss" "$PW" check -m "$OUT/split-a.model" "$largest" > /dev/null || true
  cat "$OUT/rss"
done | median > "$OUT/check_rss"
check_rss_kb=$(cat "$OUT/check_rss")

fmt() { printf "%'.0f" "$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
{
  echo "Measured $(date -u +%Y-%m-%d) on $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; \`bench/speed.sh $1\`"
  echo "(medians of 5 repetitions; release build; the other core was not idle)."
  echo
  echo "| what | result | bar |"
  echo "|---|---|---|"
  echo "| scoring: parse + features + score, one thread, split-A test set in memory | $(fmt "$score_mps") msg/s, $(mb "$score_bps") MiB/s | ≥ 20,000 msg/s |"
  echo "| parsing alone (same messages) | $(fmt "$parse_mps") msg/s, $(mb "$parse_bps") MiB/s | — |"
  echo "| incremental training (\`portwarden learn\`, one pass, whole process incl. file reads) | $(fmt "$learn_mps") msg/s | ≥ 5,000 msg/s |"
  echo "| batch training (\`train\`: parse once, 10 AdaGrad passes, calibration on a held-out 20 %; CPU time of the thread training the final model, the calibration model trains beside it on the other core) | $(fmt "$train_mps") training msg/s | ≥ 5,000 msg/s |"
  echo "| model file | $(mb "$model_bytes") MiB | ≤ 32 MiB |"
  echo "| \`portwarden check\` peak RSS, largest test message ($(mb "$largest_bytes") MiB) | $(awk -v k="$check_rss_kb" 'BEGIN { printf "%.1f", k / 1024 }') MiB | ≤ 64 MiB |"
} > "$OUT/section.md"

"$ROOT/bench/replace-section" "$BENCHMARKS_MD" speed "$OUT/section.md"
cat "$OUT/section.md"
