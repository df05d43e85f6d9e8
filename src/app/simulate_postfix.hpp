// app/simulate_postfix.hpp — the simulator's relay_port over real SMTP (`simulate --through-postfix`).
//
// Purpose: submits each simulated message to a Postfix relay that runs `portwarden serve` as milter +
// policy service, as the subscriber's own client would: XCLIENT gives the message the subscriber's
// address, HELO name and SASL login; the daemon's clock (server.clock = "api") is set to the
// message's simulated time first, so the daemon decides on the same timeline as an in-process run.
// Postfix answers per recipient (policy: DUNNO, 450, HOLD) and at end of data (milter: 250, 451,
// quarantine). A hold is invisible in SMTP replies (Postfix answers 250 and keeps the message in
// its hold queue), so after each accepted message the port asks the daemon's API for the
// subscriber's level: at hold, the message was held.
// Failure modes: a relay or daemon that does not answer, or an SMTP reply outside 2xx/4xx for a
// recipient (a 5xx means the relay is misconfigured, not that Portwarden decided), is an error that
// ends the run. `release` (the desk lifting a hold) needs the abuse desk (issue 6), so a run
// through Postfix must end before the scenario's first clean-up: `run_simulate` checks that.
// Thread-safety: one run, one thread. Privacy: texts go to the relay only; nothing is logged.
#pragma once

#include <memory>
#include <string>

#include "common/result.hpp"
#include "identity/directory.hpp"
#include "sim/simulator.hpp"

namespace pw::app {

// `smtp` and `api` are "host:port". The directory resolves subscribers the way the daemon does
// (it must be the table the daemon was given).
result<std::unique_ptr<sim::relay_port>> make_postfix_port(const std::string& smtp, const std::string& api,
                                                           const identity::directory& directory);

}  // namespace pw::app
