#!/usr/bin/env bash
# bogofilter 1.2.5 peer adapter (recipe: /work/shared/recipes/peer-filters.md, "bogofilter").
#   bogofilter.sh TRAIN_LIST TEST_LIST WORKDIR OUT_TSV
# Private wordlist in WORKDIR/db (-C: no /etc config), trained from scratch with -n/-s in bulk mode;
# the whole test list is scored by ONE bogofilter process (file names on stdin, -b), in input order.
# Score = spamicity printed with %.12g (the default %.6f truncates the ranking).
# Peak RSS = /usr/bin/time -f %M of that scoring process.  Default threshold: spam_cutoff 0.99.
set -euo pipefail
PEER_NAME=bogofilter
. "$(dirname "$0")/lib.sh"
peer_init "$@"

db="$WORKDIR/db"
rm -rf "$db"; mkdir -p "$db"
bf=(bogofilter -C -d "$db")

t0=$(now)
awk -F'\t' '$2 == "ham" { print $1 }' "$TRAIN" | "${bf[@]}" -n -b
awk -F'\t' '$2 == "spam" { print $1 }' "$TRAIN" | "${bf[@]}" -s -b
t1=$(now)

# exit status = class of the last message (0 spam, 1 ham, 2 unsure); 3 = error
rc=0
cut -f1 "$TEST" | /usr/bin/time -f '%M' -o "$WORKDIR/score.time" \
  "${bf[@]}" -b -t --terse-format='%p' --spamicity-formats='%.12g,%.12g,%.12g' \
  > "$WORKDIR/spamicity.txt" || rc=$?
t2=$(now)
((rc <= 2)) || peer_die "scoring failed (exit $rc)"
[[ $(wc -l < "$WORKDIR/spamicity.txt") -eq $(wc -l < "$TEST") ]] || peer_die "spamicity count mismatch"

paste "$TEST" "$WORKDIR/spamicity.txt" > "$OUT"
n=$(check_out "$TEST" "$OUT")
rss=$(tail -n1 "$WORKDIR/score.time")

write_timing filter=bogofilter version="$(bogofilter -V 2>&1 | awk 'NR==1 { print $3 }')" \
  variant="one process, -b bulk scoring, private wordlist" \
  train_messages="$(wc -l < "$TRAIN")" train_seconds="$(elapsed "$t0" "$t1")" \
  score_seconds="$(elapsed "$t1" "$t2")" messages="$n" bytes="$(list_bytes "$TEST")" \
  peak_rss_kb="$rss" rss_of="bogofilter scoring process (/usr/bin/time %M)" threshold=0.99
