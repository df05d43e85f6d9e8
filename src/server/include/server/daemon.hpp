// server/daemon.hpp — `portwarden serve`: the relay's milter, policy and HTTP service in one process.
//
// Purpose: the I/O shell around the relay core. One Boost.Asio event loop (one thread) accepts and
// drives every connection; a small worker pool runs what costs CPU or blocks (content scoring at end
// of message, HTTP handlers, configuration reloads); one snapshot thread writes subscriber state,
// decisions and held queue ids to the store. The protocol adapters translate milter and policy
// traffic into calls on `relay::decider`, which decides; the adapters only speak the answer.
//
// Lifecycle: load and check the configuration → bind every listener → drop root (when `server.user`
// is set and we run as root) → open the store and restore subscriber state → serve. SIGHUP re-reads
// the configuration on a worker thread and swaps it in atomically when it is valid (engine settings,
// subscriber table, model, verdict deadline, fallback, log level; listeners, user and store need a
// restart and a changed value is logged as such); an invalid file keeps the running configuration
// and logs every error. SIGTERM/SIGINT drain: listeners close, idle connections close, connections
// with a verdict in flight close after answering; after `server.drain_timeout` the rest are cut;
// then a final snapshot is written and `serve` returns 0.
//
// Guarantees: no blocking I/O on the event loop (store writes, file reads and scoring run elsewhere).
// Every end-of-message verdict has a deadline (`server.verdict_deadline`); when it passes, or the core
// fails, the configured fallback (accept or tempfail) is answered, logged and counted. A malformed or
// truncated frame closes only that connection. Nothing is dropped silently: the answers are continue
// (with a tag header), a 4xx the sender's MTA retries, or Postfix's hold queue.
// Time: every decision, record and API answer uses the service's now — the system clock, or with
// `server.clock = "api"` the value last set by PUT /api/v1/clock (simulators replaying traffic on
// simulated time; a warning is logged at start, and the route does not exist on the system clock).
// Privacy: content and addresses stay inside the call that needs them; logs, the store, metrics and
// the HTTP API carry ids, counts, actions and reason texts made of numbers.
#pragma once

#include <string>

namespace pw::server {

// Runs until SIGTERM/SIGINT. Returns the process exit code (0 clean stop, 3 start-up failure with the
// reasons logged).
int serve(const std::string& config_path);

}  // namespace pw::server
