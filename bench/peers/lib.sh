# Shared helpers for the peer adapters in bench/peers/ (sourced, not run).
# Each adapter: peer.sh TRAIN_LIST TEST_LIST WORKDIR OUT_TSV
#   LIST lines: path<TAB>spam|ham.  OUT_TSV lines: path<TAB>spam|ham<TAB>score (higher = spammier),
#   in TEST_LIST order.  Writes WORKDIR/timing.json and prints the same object on one stdout line.

peer_usage() {
  echo "usage: $(basename "$0") TRAIN_LIST TEST_LIST WORKDIR OUT_TSV" >&2
  exit 2
}

peer_log() { echo "[$PEER_NAME] $*" >&2; }
peer_die() { echo "[$PEER_NAME] error: $*" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# check_list FILE: every line is path<TAB>spam|ham and the path is a readable file
check_list() {
  [[ -s "$1" ]] || peer_die "list $1 missing or empty"
  awk -F'\t' 'NF != 2 || ($2 != "spam" && $2 != "ham") { print "bad line " NR ": " $0; bad = 1; exit }
              END { exit bad }' "$1" >&2 || peer_die "malformed list $1"
}

# list_bytes FILE: total size in bytes of the listed messages
list_bytes() { cut -f1 "$1" | tr '\n' '\0' | xargs -0 stat -c %s | awk '{ s += $1 } END { printf "%d", s }'; }

# abs_path PATH (the file may not exist yet; its directory must)
abs_path() { local d; d=$(cd "$(dirname "$1")" && pwd) && printf '%s/%s' "$d" "$(basename "$1")"; }

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# stop_pid PID [SECONDS]: TERM that one process, wait, then KILL it
stop_pid() {
  local p=$1 t=${2:-10} i
  pid_alive "$p" || return 0
  kill -TERM "$p" 2>/dev/null || true
  for ((i = 0; i < t * 10; i++)); do pid_alive "$p" || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}

# port_free PORT: nothing listens on 127.0.0.1/any TCP PORT
port_free() { ! ss -ltnH "( sport = :$1 )" | grep -q .; }

# wait_port PORT SECONDS: poll the listen table (no probe connections)
wait_port() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do ss -ltnH "( sport = :$1 )" | grep -q . && return 0; sleep 0.1; done
  return 1
}

# vmhwm PID: peak resident set (KB) of a live process
vmhwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# check_out TEST_LIST OUT_TSV: same paths and labels in the same order, a numeric score on every line
check_out() {
  local n
  n=$(awk -F'\t' 'NR == FNR { p[FNR] = $1; l[FNR] = $2; n = FNR; next }
      { m = FNR
        if (NF != 3 || $1 != p[FNR] || $2 != l[FNR] || $3 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) {
          print "line " FNR ": " $0 > "/dev/stderr"; bad = 1; exit } }
      END { if (!bad && m != n) { print "rows " m " != " n > "/dev/stderr"; bad = 1 }
            if (bad) exit 1; print m }' "$1" "$2") || peer_die "output $2 does not match $1"
  printf '%s' "$n"
}

# write_timing KEY=VALUE... : numbers stay bare, other values are quoted; writes WORKDIR/timing.json
write_timing() {
  local kv k v json="{" sep=""
  for kv in "$@"; do
    k=${kv%%=*}; v=${kv#*=}
    if [[ $k != version && "$v" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then json+="$sep\"$k\":$v"
    else v=${v//\\/\\\\}; v=${v//\"/\\\"}; json+="$sep\"$k\":\"$v\""; fi
    sep=","
  done
  json+="}"
  printf '%s\n' "$json" > "$WORKDIR/timing.json"
  printf '%s\n' "$json"
}

# peer_init "$@": sets TRAIN TEST WORKDIR OUT (absolute), validates the lists
peer_init() {
  [[ $# -eq 4 ]] || peer_usage
  TRAIN=$(abs_path "$1"); TEST=$(abs_path "$2")
  mkdir -p "$3"; WORKDIR=$(cd "$3" && pwd)
  mkdir -p "$(dirname "$4")"; OUT=$(abs_path "$4")
  check_list "$TRAIN"; check_list "$TEST"
  rm -f "$WORKDIR/timing.json" "$OUT"
}
