#!/usr/bin/env bash
# End-to-end test of the `portwarden` command line on small synthetic messages: every subcommand,
# its --help, its exit codes, and the files it writes. Usage: cli_smoke.sh PATH/TO/portwarden
set -euo pipefail
pw=${1:?usage: cli_smoke.sh PORTWARDEN}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
passes=0
expect() {  # expect CODE DESCRIPTION -- COMMAND...
  local want=$1 what=$2; shift 3
  local got=0
  "$@" > "$work/out" 2> "$work/err" || got=$?
  if [[ $got -ne $want ]]; then
    echo "FAIL: $what: exit $got, expected $want"; sed 's/^/  | /' "$work/out" "$work/err" | head -20
    fails=$((fails + 1))
  else
    passes=$((passes + 1))
  fi
}

msg() {  # msg FILE SUBJECT BODY FROM
  printf 'From: %s\r\nTo: user@example.net\r\nSubject: %s\r\nDate: Mon, 2 Sep 2002 10:00:00 +0000\r\nMessage-ID: <%s@example>\r\n\r\n%s\r\n' \
    "$4" "$2" "$RANDOM" "$3" > "$1"
}
mkdir -p "$work/m"
for i in $(seq 1 40); do
  msg "$work/m/spam$i.eml" "WINNER $i cheap pills" "cheap pills casino prize winner free offer click http://promo$((i % 4)).example.biz/" "deals@promo.example.biz"
  msg "$work/m/ham$i.eml" "Re: meeting $i" "thanks for the patch review, the release notes draft is attached for the meeting" "colleague@work.example.org"
  if ((i <= 30)); then
    printf 'm/spam%d.eml\tspam\nm/ham%d.eml\tham\n' "$i" "$i" >> "$work/train.list"
  else
    printf 'm/spam%d.eml\tspam\nm/ham%d.eml\tham\n' "$i" "$i" >> "$work/test.list"
  fi
done

for sub in "" check learn train eval roc; do
  expect 0 "help of '$sub'" -- "$pw" $sub --help
  grep -q "Exit codes" "$work/out" || { echo "FAIL: help of '$sub' lacks exit codes"; fails=$((fails + 1)); }
done
expect 2 "unknown option" -- "$pw" check --no-such-option
expect 2 "no subcommand" -- "$pw"
expect 2 "learn without class" -- "$pw" learn "$work/m/spam1.eml" -m "$work/x.model"

expect 0 "train" -- "$pw" train --list "$work/train.list" -m "$work/a.model" --hash-bits 18
[[ -s "$work/a.model" ]] || { echo "FAIL: train wrote no model"; fails=$((fails + 1)); }
expect 1 "check spam" -- "$pw" check "$work/m/spam35.eml" -m "$work/a.model"
expect 0 "check ham" -- "$pw" check "$work/m/ham35.eml" -m "$work/a.model"
expect 0 "check ham from stdin" -- bash -c "'$pw' check - -m '$work/a.model' < '$work/m/ham36.eml'"
expect 1 "check --json" -- "$pw" check --json "$work/m/spam36.eml" -m "$work/a.model"
grep -q '"verdict": "spam"' "$work/out" || { echo "FAIL: check --json verdict"; fails=$((fails + 1)); }
grep -q '"top_features"' "$work/out" || { echo "FAIL: check --json features"; fails=$((fails + 1)); }
expect 1 "check with parser limits" -- "$pw" check "$work/m/spam35.eml" -m "$work/a.model" --max-message-bytes 4096 --max-depth 4 --max-parts 10
expect 2 "check with an out-of-range limit" -- "$pw" check "$work/m/spam35.eml" -m "$work/a.model" --max-depth 0
expect 3 "check missing file" -- "$pw" check "$work/m/none.eml" -m "$work/a.model"
expect 3 "check missing model" -- "$pw" check "$work/m/ham1.eml" -m "$work/none.model"
head -c 1000 "$work/a.model" > "$work/torn.model"
expect 3 "check torn model" -- "$pw" check "$work/m/ham1.eml" -m "$work/torn.model"

expect 0 "learn creates a model" -- "$pw" learn --spam "$work"/m/spam1*.eml -m "$work/b.model" --hash-bits 18
expect 0 "learn updates it" -- "$pw" learn --ham "$work"/m/ham1*.eml -m "$work/b.model"
grep -q "11 spam, 11 ham" "$work/out" || { echo "FAIL: learn counts"; cat "$work/out"; fails=$((fails + 1)); }

expect 0 "eval" -- "$pw" eval --train "$work/train.list" --test "$work/test.list" --hash-bits 18 \
  --scores "$work/scores.tsv" --svg "$work/roc.svg" --json
grep -q '"one_minus_auc_pct"' "$work/out" || { echo "FAIL: eval --json keys"; fails=$((fails + 1)); }
[[ $(wc -l < "$work/scores.tsv") -eq 20 ]] || { echo "FAIL: scores file lines"; fails=$((fails + 1)); }
grep -q "<svg" "$work/roc.svg" || { echo "FAIL: svg"; fails=$((fails + 1)); }
expect 0 "roc from scores" -- "$pw" roc --scores "pw=$work/scores.tsv" --json --svg "$work/roc2.svg"
grep -q '"auc": 1' "$work/out" || { echo "FAIL: roc auc on separable set"; cat "$work/out"; fails=$((fails + 1)); }
printf 'x\tmaybe\n' > "$work/bad.list"
expect 3 "eval with a malformed list" -- "$pw" eval --train "$work/bad.list" --test "$work/test.list"

echo "cli_smoke: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
