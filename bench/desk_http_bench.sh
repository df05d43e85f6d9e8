#!/usr/bin/env bash
# Issue 6's case-list bar end to end: the first page of GET /api/v1/cases from `portwarden serve` with
# 100,000 cases in the desk's ledger, timed by curl over loopback (network stack, HTTP parsing, session
# and role check, the ledger query with its total count, JSON encoding).
#   bench/desk_http_bench.sh [CASES] [REQUESTS]          (defaults 100000 and 50)
# Environment: PW (the portwarden binary; default build/release/src/app/portwarden), PORT (default
# 12980, on 127.0.0.1), QUERY (default "limit=50"), INTERVAL (default 0.1: seconds between requests,
# so that the timed requests spread over several of the desk thread's one-second ticks, which walk
# every unresolved case under the ledger's lock), SUBSCRIBERS (default 20000: the cases are spread
# over this many subscribers, and four in five of them have an unresolved case).
# Steps: a private config in a temporary directory (milter and policy listeners off, no notices);
# `portwarden desk user add` creates the ledger and an admin; python3's sqlite3 then writes the cases
# straight into the cases table (the shape of bench/ledger_bench.cpp: 20,000 subscribers, one case per
# subscriber per round, every case resolved but each subscriber's last, which is open / notified /
# monitoring / escalated / resolved by subscriber; a third each assigned to alice, bob and nobody); the daemon starts on the file, curl logs in, one untimed request
# warms the page cache, then REQUESTS sequential requests on one keep-alive-less connection each.
# Prints the median and p95 of curl's time_total and of the server-side time (time_starttransfer -
# time_pretransfer), and the answer's total. The daemon is stopped and the directory removed on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CASES=${1:-100000}
REQUESTS=${2:-50}
PW=${PW:-$ROOT/build/release/src/app/portwarden}
PORT=${PORT:-12980}
QUERY=${QUERY:-limit=50}
INTERVAL=${INTERVAL:-0.1}
SUBSCRIBERS=${SUBSCRIBERS:-20000}
[[ -x "$PW" ]] || { echo "desk_http_bench: no portwarden binary at $PW (make build, or set PW)" >&2; exit 2; }
command -v curl >/dev/null && command -v python3 >/dev/null || { echo "desk_http_bench: needs curl and python3" >&2; exit 2; }

W=$(mktemp -d)
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$W"
}
trap cleanup EXIT

cat > "$W/pw.toml" <<EOF
[server]
milter = ""
policy = ""
http = "inet:127.0.0.1:$PORT"

[store]
path = "$W/state.db"

[desk]
ledger = "$W/desk.db"
EOF

printf 'benchpassword1234\n' | "$PW" desk user add bench --role viewer -c "$W/pw.toml" >/dev/null

echo "[desk-http] filling $W/desk.db with $CASES cases over $SUBSCRIBERS subscribers" >&2
python3 - "$W/desk.db" "$CASES" "$SUBSCRIBERS" <<'EOF'
import sqlite3, sys
path, cases = sys.argv[1], int(sys.argv[2])
subscribers = max(1, min(int(sys.argv[3]), cases))
last_round = ["open", "notified", "monitoring", "escalated", "resolved"]
assignees = ["", "alice", "bob"]
t0 = 1767225600000
far = t0 + 10 * 365 * 86400000  # monitoring that does not end while the bench runs
db = sqlite3.connect(path)
rows = []
at = t0
for n in range(cases):
    r, j = divmod(n, subscribers)
    final = (n + subscribers) >= cases  # the subscriber's last case
    status = last_round[j % 5] if final else "resolved"
    at += 2
    rows.append((f"user{j}@isp.example", status, "hold", "120 messages to 118 new domains in 10 min",
                 assignees[(j + r) % 3], at - 1, at, at if status == "resolved" else None, 0, None,
                 far if status == "monitoring" else None))
db.executemany("INSERT INTO cases(subscriber, status, level, summary, assignee, opened_ms, updated_ms, resolved_ms,"
               " notices_sent, last_notice_ms, monitoring_until_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
db.close()
EOF

"$PW" serve -c "$W/pw.toml" 2> "$W/serve.log" &
PID=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 100); do
  curl -fs "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { cat "$W/serve.log" >&2; exit 3; }
  sleep 0.1
done
curl -fs -c "$W/cookies" -H 'Content-Type: application/json' \
  -d '{"user":"bench","password":"benchpassword1234"}' "$URL/api/v1/login" >/dev/null
total=$(curl -fs -b "$W/cookies" "$URL/api/v1/cases?$QUERY" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')
sleep 2
for _ in $(seq "$REQUESTS"); do
  curl -fs -o /dev/null -b "$W/cookies" -w '%{time_total} %{time_pretransfer} %{time_starttransfer}\n' \
    "$URL/api/v1/cases?$QUERY"
  sleep "$INTERVAL"
done > "$W/times"

python3 - "$W/times" "$total" "$QUERY" "$REQUESTS" "$INTERVAL" <<'EOF'
import math, statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
def stats(xs):
    xs = sorted(x * 1000 for x in xs)
    p95 = xs[math.ceil(0.95 * len(xs)) - 1]  # nearest rank
    return statistics.median(xs), p95, xs[-1]
whole = stats([r[0] for r in rows])
server = stats([r[2] - r[1] for r in rows])
print(f"GET /api/v1/cases?{sys.argv[3]}: {sys.argv[4]} requests {sys.argv[5]} s apart, total = {sys.argv[2]} cases")
print(f"  curl time_total:               median {whole[0]:.2f} ms, p95 {whole[1]:.2f} ms, max {whole[2]:.2f} ms")
print(f"  request sent -> first byte:    median {server[0]:.2f} ms, p95 {server[1]:.2f} ms, max {server[2]:.2f} ms")
print(f"  requests over 10 ms (time_total): {sum(1 for r in rows if r[0] > 0.010)}")
EOF
