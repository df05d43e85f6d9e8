#!/usr/bin/env bash
# Issue 5's agreement bar: `portwarden simulate --through-postfix` reproduces the in-process verdicts.
# The same scenario, population and seed run twice: in process (the daemon's decider, engine and
# tracker inside `simulate`), and as real SMTP into a private Postfix relay with `portwarden serve`
# on the API clock as milter + policy. Every subscriber's highest level and first hold time must be
# the same in both; the relay must have delivered or held what the simulator says; and no marker of
# message content may appear in the daemon's log, store or API.
# Usage: through_postfix_test.sh PORTWARDEN CACHE [SUBSCRIBERS] [DURATION]   (root, postfix, corpus)
# Ports: PW_PORT_BASE (default 12300).
set -uo pipefail
PW=$(readlink -f "${1:?usage: through_postfix_test.sh PORTWARDEN CACHE}")
CACHE=$(readlink -f "${2:?usage: through_postfix_test.sh PORTWARDEN CACHE}")
SUBSCRIBERS=${3:-2000}
DURATION=${4:-1h}
export PW_PORT_BASE=${PW_PORT_BASE:-12300}
SIM_HERE=$(cd "$(dirname "$0")" && pwd)
source "$SIM_HERE/../relay/lib.sh"
source "$SIM_HERE/sim_postfix.sh"
if [ "$(id -u)" != 0 ]; then echo "through_postfix_test: needs root (a private Postfix instance)"; exit 1; fi
command -v postfix > /dev/null || { echo "through_postfix_test: postfix is not installed (scripts/install-deps)"; exit 1; }
[ -f "$CACHE/split-a/train.list" ] || { echo "through_postfix_test: no corpus in $CACHE (scripts/fetch-corpus)"; exit 1; }

W=$(mktemp -d /tmp/pw-simpf.XXXXXX)
chmod 755 "$W"
trap 'cleanup_all "$W/pf"; [ "$fail" = 0 ] && rm -rf "$W" || echo "through_postfix_test: kept $W for inspection"' EXIT
require_free_ports "$SMTPD_PORT" "$SINK_PORT" "$POLICY_PORT" "$MILTER_PORT" "$HTTP_PORT"

"$PW" train --list "$CACHE/split-a/train.list" -m "$W/model" > /dev/null || exit 1
chmod 644 "$W/model"
SCENARIO="$SIM_HERE/../../sim/scenarios/demo.toml"
common=(--scenario "$SCENARIO" --subscribers "$SUBSCRIBERS" --duration "$DURATION" --seed 3 --cache "$CACHE"
        -m "$W/model" -q)
"$PW" simulate "${common[@]}" --write-subscribers "$W/subscribers.tsv" || exit 1
chmod 644 "$W/subscribers.tsv"
sim_rig_start "$W" "$PW" "$W/model" "$W/subscribers.tsv" || exit 1

# The daemon's settings are the simulator's: same config file, same model, same subscriber table.
# No simulated desk in process: through Postfix nobody answers the daemon's desk either; and no
# bounces: the private relay delivers everything to smtp-sink.
"$PW" simulate "${common[@]}" -c "$W/portwarden.toml" --no-desk --no-bounces --verdicts "$W/in-process.tsv" --json "$W/in-process.json" \
  > "$W/in-process.txt" || exit 1
start=$(date +%s)
"$PW" simulate "${common[@]}" -c "$W/portwarden.toml" --through-postfix --smtp "127.0.0.1:$SMTPD_PORT" \
  --api "127.0.0.1:$HTTP_PORT" --verdicts "$W/postfix.tsv" --json "$W/postfix.json" > "$W/postfix.txt"
rc=$?
echo "through Postfix: $(( $(date +%s) - start )) s"
cat "$W/postfix.txt"
check "the run through Postfix completed" test "$rc" = 0
subs=$(grep -vc '^#' "$W/in-process.tsv")
check "both runs list all $SUBSCRIBERS subscribers" test "$subs" = "$SUBSCRIBERS" -a "$(grep -vc '^#' "$W/postfix.tsv")" = "$SUBSCRIBERS"
# The verdict is the level: it must agree for every subscriber. The first hold time agrees exactly
# for nearly all; the daemon scores the message as Postfix hands it to the milter (with the relay's
# own Received header), the simulator the text as the client sent it, so a subscriber near a
# threshold may be held a message earlier or later: allowed within 2 minutes, and counted.
read -r level_diffs time_diffs far <<< "$(paste <(cut -f1-5 "$W/in-process.tsv") <(cut -f1-5 "$W/postfix.tsv") | awk -F'\t' '
  /^#/ { next }
  { if ($1 != $6 || $3 != $8) l++; if ($5 != $10) { t++; d = $5 - $10; if (d < 0) d = -d; if (d > 120000 || ($5 < 0) != ($10 < 0)) f++ } }
  END { print l + 0, t + 0, f + 0 }')"
echo "subscribers whose first hold time differs: $time_diffs (beyond 2 min or held in one run only: $far)"
check "every subscriber's highest level agrees ($level_diffs differ)" test "$level_diffs" = 0
check "first hold times agree within 2 minutes ($far beyond)" test "$far" = 0
held=$(awk -F'\t' '!/^#/ && $5 >= 0' "$W/postfix.tsv" | wc -l)
check "some subscribers were held ($held)" test "$held" -gt 0
relayed=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["run"]["messages"])' "$W/postfix.json")
check "the relay's hold queue has messages" test "$(held_count "$W/pf")" -gt 0
check "the sink received mail" test "$(sink_files "$W/pf")" -gt 0
# Privacy: the simulated texts carry the corpus' subjects; none may reach the daemon's log or store.
subject=$(grep -m1 -h '^Subject: ' "$(find "$W/pf/sink" -type f | head -1)" | cut -c10- | cut -c1-40)
if [ -n "$subject" ]; then
  check "a delivered subject is not in the daemon's log or store" \
    bash -c '! grep -rqF -- "$1" "$2/daemon.log" "$2"/state.db*' _ "$subject" "$W"
fi
echo "messages: $relayed; held subscribers: $held"
echo "through_postfix_test: $pass passed, $fail failed"
[ "$fail" = 0 ]
