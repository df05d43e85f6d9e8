# The simulator's real-Postfix rig (`portwarden simulate --through-postfix`), shared by the test
# (tests/sim/through_postfix_test.sh) and the demo (scripts/demo): a private Postfix relay on
# loopback that trusts XCLIENT from 127.0.0.1 and relays for the simulated subscribers' networks
# (10/8 homes and businesses, 100.64/10 phones, 198.51.100/24 and 203.0.113/24 attackers), `portwarden serve` on the API
# clock as its milter + policy service, and smtp-sink behind it. Source it after tests/relay/lib.sh;
# needs root and postfix.
#
# sim_rig_start DIR PORTWARDEN MODEL SUBSCRIBER_FILE: writes DIR/portwarden.toml, starts sink,
# daemon and Postfix. The subscriber file comes from `portwarden simulate --write-subscribers`.
# With SIM_DESK_WEB_ROOT set, the daemon also serves the desk's web UI from that directory.
SIM_NETWORKS="10.0.0.0/8 100.64.0.0/10 198.51.100.0/24 203.0.113.0/24"

sim_rig_start() {
  local d=$1 pw=$2 model=$3 subscribers=$4
  cat > "$d/portwarden.toml" <<CF
# Written by tests/sim/sim_postfix.sh for a simulation through Postfix.
[server]
milter = "inet:127.0.0.1:$MILTER_PORT"
policy = "inet:127.0.0.1:$POLICY_PORT"
http = "inet:127.0.0.1:$HTTP_PORT"
clock = "api"
drain_timeout = "2s"

[classifier]
model = "$model"

[store]
path = "$d/state.db"

[subscribers]
file = "$subscribers"

[log]
level = "warning"
CF
  if [ -n "${SIM_DESK_WEB_ROOT:-}" ]; then  # the demo serves the abuse desk's pages too
    printf '\n[desk]\nweb_root = "%s"\npublic_url = "http://127.0.0.1:%s"\n' "$SIM_DESK_WEB_ROOT" "$HTTP_PORT" \
      >> "$d/portwarden.toml"
  fi
  pf_instance "$d/pf" "$SMTPD_PORT" "$SINK_PORT" "inet:127.0.0.1:$POLICY_PORT" "inet:127.0.0.1:$MILTER_PORT" \
    "$SIM_NETWORKS" > "$d/pf-setup.log" 2>&1 || { cat "$d/pf-setup.log"; return 1; }
  start_sink "$d/pf" || return 1
  "$pw" serve -c "$d/portwarden.toml" >> "$d/daemon.log" 2>&1 &
  SIM_DAEMON=$!
  PIDS+=($SIM_DAEMON)
  wait_port "$MILTER_PORT" && wait_port "$POLICY_PORT" && wait_port "$HTTP_PORT" || { cat "$d/daemon.log"; return 1; }
  postfix -c "$d/pf/etc" start > /dev/null 2>&1 || { echo "postfix start failed"; return 1; }
  wait_port "$SMTPD_PORT"
}
