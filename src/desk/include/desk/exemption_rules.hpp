// desk/exemption_rules.hpp — port-25 exemption requests against the plan's rules, and suspension.
//
// Purpose: a customer who runs their own mail server asks, from the self-help page, to reach remote
// port 25. Each plan says whether its subscribers may reach it by default (residential: blocked,
// business: open) and which requests the rules may grant without a person. `decide_exemption` checks
// a request and answers granted, queued for a person, or refused, with the reason in plain words the
// customer reads. When a subscriber is found compromised, `suspensions_for_case` says which exemption
// rows to write so the enforcement export (port25.hpp) blocks them — on an open plan too — and
// `restorations_after_case` undoes that once the case is resolved.
//
// Rules, in the order checked (the first that applies answers):
//   1. an exemption already active → refused (nothing to do); one pending → refused (already waiting);
//      one suspended → queued for a person (it was suspended after a security case);
//   2. the plan is open by default → refused (no exemption needed);
//   3. a case open now → refused; a case opened within `no_case_days` → refused, saying how long ago;
//   4. the account younger than `min_account_age_days` → refused;
//   5. `require_static_address` and no static address on the account → refused;
//   6. the plan not `self_service` → queued; `max_auto_grants` automatic grants already made to this
//      subscriber (rows decided by "rules") → queued;
//   7. otherwise granted, expiring after `grant_days` (0: no expiry).
// Refusals are rules the customer can meet later; "queued" means a person's judgement is needed.
//
// Guarantees: pure and total; unknown plans are the caller's to map (an absent plan should be
// treated as blocked, the safe default). Ownership: plain values. Thread-safety: pure functions.
// Untrusted input: none interpreted; ids and reasons are copied.
// Failure modes: none; every input yields a decision.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.hpp"

namespace pw::desk {

struct exemption_plan_rules {
  bool port25_open_by_default = false;  // the plan's default: business plans reach port 25 without an exemption
  bool self_service = false;            // the rules may grant; otherwise every request goes to a person
  std::int64_t min_account_age_days = 90;
  std::int64_t no_case_days = 30;  // no case opened in the last N days
  bool require_static_address = true;
  std::int64_t max_auto_grants = 1;  // automatic grants per subscriber, ever; beyond → a person
  std::int64_t grant_days = 365;     // expiry of a grant; 0: none
};

// The plan's default for port 25: true = open (reachable without an exemption).
inline bool port25_default_open(const exemption_plan_rules& plan) noexcept { return plan.port25_open_by_default; }

enum class exemption_outcome { granted, queued, refused };
std::string_view exemption_outcome_name(exemption_outcome o) noexcept;  // "granted", "queued", "refused"
// The status the new exemption row gets: active, pending or refused.
ledger::exemption_status status_for(exemption_outcome o) noexcept;

struct exemption_decision {
  exemption_outcome outcome = exemption_outcome::refused;
  std::string reason;  // plain words for the customer: "refused: your account had a security case 12 days ago; ..."
  std::optional<std::int64_t> expires_ms;  // granted with an expiry
};

struct exemption_request {
  const ledger::subscriber_row& subscriber;
  std::span<const ledger::exemption_row> existing;  // the subscriber's exemption rows (ledger::exemptions_for)
  std::optional<std::int64_t> last_case_opened_ms;  // the subscriber's most recent case, any status
  bool case_open_now = false;                       // an unresolved case exists
  std::int64_t now_ms = 0;
};

exemption_decision decide_exemption(const exemption_request& request, const exemption_plan_rules& plan);

// The subscriber was found compromised (a case opened). Rows to write: each active exemption as
// suspended (same id, `ledger::update_exemption`); on a plan open by default with no suspended row
// yet, a new suspended row (id 0, `ledger::add_exemption`) that blocks the plan's default. Nothing
// when there is nothing to suspend. `decided_by` is "system"; `decision` names the case.
std::vector<ledger::exemption_row> suspensions_for_case(std::string_view subscriber,
                                                        std::span<const ledger::exemption_row> existing,
                                                        bool plan_open_by_default, std::int64_t case_id,
                                                        std::int64_t now_ms);

// The case was resolved: each row the system suspended (decided_by "system"; a person's suspension
// stays until a person lifts it) back to active when it was a real exemption that has not
// expired (plan closed by default), otherwise revoked (an expired one, or the row that only blocked an
// open plan's default). Rows to write with `ledger::update_exemption`.
std::vector<ledger::exemption_row> restorations_after_case(std::span<const ledger::exemption_row> existing,
                                                           bool plan_open_by_default, std::int64_t case_id,
                                                           std::int64_t now_ms);

}  // namespace pw::desk
