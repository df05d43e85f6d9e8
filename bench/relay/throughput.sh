#!/bin/bash
# Throughput of several running private Postfix relays, measured alternately in one run:
# rep 1 {s1: A B C, s2: A B C}, rep 2 ..., so drift on the shared machine hits all setups alike.
# Adapted from the team's verified recipe /work/shared/recipes/examples/relay_throughput.sh; added:
# the CPU time of the filter's processes and of the whole machine per message, a hard failure
# count when a run does not deliver every message, and TSV rows only (bench/relay/report.py
# computes the medians).
#
#   throughput.sh [-n MSGS] [-l BYTES] [-s "4 8"] [-r REPS] NAME=PORT=PFDIR[=PID,PID...] ...
#
# Per run: smtp-source -4 -s S -m N -l L ... 127.0.0.1:PORT. "accept" = until smtp-source exits
# (every message got its 250 after DATA, milter verdict included); "e2e" = until the instance's
# incoming and active queues are empty again (everything handed to the sink). Afterwards the
# maillog must show exactly N new "status=sent" lines, else the run counts as failed (exit 1).
# PIDs: processes whose CPU time (utime + stime, all threads) is charged to the filter. The relay's
# CPU is the instance's Postfix master and every process under it, reaped children included (their
# time moves to the master's cutime/cstime), so it is not inflated by whatever else runs meanwhile.
# Output rows (tab-separated, no header):
#   rep s setup delivered accept_s e2e_s accept_msg_s e2e_msg_s filter_cpu_ms_per_msg machine_cpu_ms_per_msg
#   relay_cpu_ms_per_msg
set -uo pipefail
N=2000; L=4096; SS="4 8"; R=3
while getopts n:l:s:r: o; do
  case $o in n) N=$OPTARG ;; l) L=$OPTARG ;; s) SS=$OPTARG ;; r) R=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || { echo "usage: $0 [-n N] [-l L] [-s 'S..'] [-r R] NAME=PORT=PFDIR[=PIDS]..." >&2; exit 2; }
now() { date +%s.%N; }
qlen() { find "$1/queue/incoming" "$1/queue/active" -type f 2>/dev/null | wc -l; }
sent() { grep -c 'status=sent' "$1/maillog" 2>/dev/null || true; }
ticks() {  # ticks PID,PID...: utime + stime of those processes (clock ticks)
  local p t=0 f
  for p in ${1//,/ }; do
    # fields after the ")" of the command name: utime is the 12th, stime the 13th
    f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f
    t=$((t + ${12} + ${13}))
  done
  echo "$t"
}
tree_ticks() {  # tree_ticks PID: utime + stime of PID and its descendants, plus their reaped children
  local t=0 pid ppid rest f
  declare -A kids=()
  while read -r pid ppid; do kids[$ppid]+="$pid "; done < <(ps -e -o pid=,ppid=)
  local todo=("$1")
  while ((${#todo[@]})); do
    pid=${todo[0]}; todo=("${todo[@]:1}")
    f=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    set -- $f
    t=$((t + ${12} + ${13} + ${14} + ${15}))
    for rest in ${kids[$pid]:-}; do todo+=("$rest"); done
  done
  echo "$t"
}
master_of() { tr -d ' ' < "$1/queue/pid/master.pid" 2>/dev/null; }
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }  # user nice system irq softirq
HZ=$(getconf CLK_TCK)
failed=0
for rep in $(seq "$R"); do
  for s in $SS; do
    for spec in "$@"; do
      IFS== read -r name port dir pids <<<"$spec"
      master=$(master_of "$dir")
      b=$(sent "$dir"); c0=$(ticks "${pids:-}"); r0=$(tree_ticks "$master"); m0=$(busy); t0=$(now)
      smtp-source -4 -s "$s" -m "$N" -l "$L" -f src@example.org -t dst@example.net -M client.example \
        127.0.0.1:"$port" >/dev/null 2>"$dir/smtp-source.err"
      rc=$?; t1=$(now)
      for _ in $(seq 6000); do [[ $(qlen "$dir") -eq 0 ]] && break; sleep 0.02; done
      t2=$(now); c1=$(ticks "${pids:-}"); r1=$(tree_ticks "$master"); m1=$(busy)
      # qmgr/smtp log the last deliveries a moment after the queue file is gone
      for _ in $(seq 50); do [[ $(($(sent "$dir") - b)) -ge $N ]] && break; sleep 0.1; done
      got=$(($(sent "$dir") - b))
      if [[ $rc != 0 || $got != "$N" ]]; then
        echo "relay bench: FAILED $name s=$s rep=$rep: smtp-source rc=$rc, delivered $got of $N ($(head -c 300 "$dir/smtp-source.err"))" >&2
        failed=$((failed + 1))
      fi
      awk -v rep="$rep" -v s="$s" -v name="$name" -v n="$got" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
        -v c="$((c1 - c0))" -v m="$((m1 - m0))" -v r="$((r1 - r0))" -v hz="$HZ" -v want="$N" 'BEGIN {
          printf "%s\t%s\t%s\t%d\t%.3f\t%.3f\t%.1f\t%.1f\t%.3f\t%.3f\t%.3f\n", rep, s, name, n, t1 - t0, t2 - t0,
            want / (t1 - t0), n / (t2 - t0), c * 1000 / hz / want, m * 1000 / hz / want, r * 1000 / hz / want }'
      sleep 1
    done
  done
done
[[ $failed == 0 ]]
