# A private Postfix relay on loopback, as the relay tests and the relay bench run it (the team's
# verified recipe /work/shared/recipes/postfix.md, examples/pf-instance.sh, with the ports and the
# filtering as arguments). Source it; needs root and postfix. Does not touch /etc/postfix.
#
# pf_instance DIR SMTPD_PORT SINK_PORT POLICY MILTER [EXTRA_NETWORKS]: writes DIR/etc/{main,master}.cf
# and runs `postfix check`. POLICY is "" or a check_policy_service target (inet:HOST:PORT); MILTER is
# "" or an smtpd_milters value (inet:HOST:PORT or unix:/path). EXTRA_NETWORKS (e.g. "10.0.0.0/8")
# is appended to mynetworks and lets 127.0.0.1 use XCLIENT, so a test client can make each message
# come from a subscriber's address (which must then be allowed to relay) and SASL login. Everything
# else is identical between the instances, so they differ only in filtering.
pf_instance() {
  local d=$1 smtpd=$2 sink=$3 policy=$4 milter=$5 extra_networks=${6:-} policy_restr=""
  [[ -n $policy ]] && policy_restr="check_policy_service $policy,"
  mkdir -p "$d/etc" "$d/queue" "$d/data"
  chown root:root "$d" "$d/etc" "$d/queue"; chmod 755 "$d" "$d/etc" "$d/queue"
  chown postfix:postfix "$d/data"; chmod 700 "$d/data"
  cat > "$d/etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $d/etc
queue_directory = $d/queue
data_directory = $d/data
myhostname = pf-relay.localdomain
mydomain = localdomain
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks_style = host
mynetworks = 127.0.0.0/8${extra_networks:+ $extra_networks}
relay_domains =
relayhost = [127.0.0.1]:$sink
smtp_host_lookup = native
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
append_dot_mydomain = no
maillog_file = $d/maillog
transport_maps = texthash:$d/etc/transport
smtpd_reject_unlisted_recipient = no
maillog_file_prefixes = $d
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = $policy_restr permit_mynetworks, reject_unauth_destination
smtpd_policy_service_timeout = 10s
smtpd_milters = $milter
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 30s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 100
CF
  if [[ -n $extra_networks ]]; then
    echo "smtpd_authorized_xclient_hosts = 127.0.0.1" >> "$d/etc/main.cf"
  fi
  cat > "$d/etc/master.cf" <<CF
127.0.0.1:$smtpd inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
  # Mail to bounce.test is accepted (smtpd_reject_unlisted_recipient = no, as for a remote domain) and
  # bounces at delivery with 5.1.1 through the error transport, logged like a remote 550 to RCPT (the
  # delivery-log ingest's evidence).
  echo "bounce.test error:5.1.1 no such user" > "$d/etc/transport"
  chmod 644 "$d/etc/main.cf" "$d/etc/master.cf" "$d/etc/transport"
  postfix -c "$d/etc" check
}
