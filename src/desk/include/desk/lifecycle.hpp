// desk/lifecycle.hpp — the abuse desk's case transitions, as pure decisions.
//
// Purpose: given a case as the ledger holds it and something that happened (the engine reported a
// level, the customer said "I have fixed it", an operator acted, time passed), say what must happen.
// The caller does it: writes the ledger (`ledger::open_case`, `update_case`, `append_event`), sends
// the notice, runs `postsuper -H` on the held queue ids, resets the engine. Nothing here does I/O or
// reads a clock: time is an argument (milliseconds since the Unix epoch), so the simulator drives
// the same rules on simulated time.
//
// States (ledger::case_status) and the transitions this file decides:
//
//   engine throttle/hold ──▶ open ──── first notice sent ────▶ notified
//                             │                                   │
//                             └──┬── customer fixed (self-help) ──┘
//                                │   or operator release
//                                ▼
//                            monitoring ── on_tick: now ≥ monitoring_until ──▶ resolved
//                                │
//                                │ engine throttle/hold again: the fix did not hold
//                                ▼
//                            escalated ◀── re-offence (opens escalated), repeat self-help,
//                                │         operator escalate or rehold (from open, notified, monitoring)
//                                └── operator release ──▶ monitoring
//
//   operator close: any state before resolved ──▶ resolved.   Resolved is final: a new level opens
//   a new case.
//
// - A case opens only at "throttle" or "hold"; a higher level on an open case raises its level
//   (levels only rise). A case that opens within `reoffence_window_ms` of the subscriber's last
//   resolved case is a re-offence: it opens escalated.
// - "I have fixed it" (self-help) applies to open and notified cases: the first within
//   `self_help_window_ms` lifts the hold, releases the held mail and starts monitoring for
//   `monitoring_ms`; beyond `self_help_limit` in the window the case goes to a person (escalated).
//   A verified release: while mail is still leaving — the subscriber's last 10 minutes hold
//   `verify_messages` or more messages (the engine's window, held ones included) and the last came
//   less than `verify_quiet_ms` ago — the clean-up evidently has not worked yet, so the press is
//   refused without using up the self-help fix: the customer is told what is still seen and to try
//   again `advised_wait_ms` after the clean-up. Releasing then would only send the held spam and
//   bring the hold back. A person's occasional own message does not trip it (fewer than 3).
//   On an escalated case a person is already involved: the customer is told so and the case stays
//   escalated. Monitoring and resolved cases: nothing to do.
// - Operators: note (any case; changes only updated_ms), assign (any unresolved case), release
//   (open, notified, escalated → monitoring), rehold (open, notified, monitoring, escalated →
//   escalated at level "hold": a person is handling it), escalate (open, notified, monitoring →
//   escalated), close (any unresolved → resolved). Anything else is an error in plain words.
//
// Guarantees: every function is total over its inputs; an input that does not apply (a level the
// desk does not know, a case in the wrong state) yields "nothing to do" or an error, never a crash.
// Returned rows are copies of the input with only the fields the transition changes (status, level,
// assignee, updated_ms, resolved_ms, monitoring_until_ms, notice counters).
// Ownership: plain values in, plain values out. Thread-safety: pure functions.
// Untrusted input: the level text comes from the engine; an assignee name comes from a desk user and
// is copied as is (the ledger stores it through bound parameters).
// Failure modes: `errc::invalid_input` for an operator action the case's state does not allow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "ledger/ledger.hpp"

namespace pw::desk {

inline constexpr std::int64_t ms_per_hour = 3'600'000;
inline constexpr std::int64_t ms_per_day = 24 * ms_per_hour;

struct lifecycle_settings {
  std::int64_t reoffence_window_ms = 30 * ms_per_day;  // a new case this soon after the last resolved one escalates
  std::int64_t monitoring_ms = 72 * ms_per_hour;       // after a fix or release, before the case resolves
  std::int64_t self_help_limit = 1;                    // "I have fixed it" uses allowed per window
  std::int64_t self_help_window_ms = 30 * ms_per_day;  // the window the caller counts customer_fixed events over
  double verify_messages = 3;  // "I have fixed it" waits while the last 10 min hold this many messages (0: no check)
  std::int64_t verify_quiet_ms = 10 * 60'000;  // ... and the last of them came less than this long ago
};

// What the self-help page asks a customer to wait between the clean-up and "I have fixed it".
inline constexpr std::int64_t advised_wait_ms = 15 * 60'000;

// What the engine still sees of the subscriber's sending when the customer presses the button.
struct recent_sending {
  double messages_10min = 0;                  // messages in the engine's 10-minute window
  std::optional<std::int64_t> since_last_ms;  // since the last message; empty when none is known
};

// What the engine's level means for the subscriber's cases.
enum class level_action {
  nothing,      // no case is needed, or the existing case already says it all
  open_case,    // call ledger::open_case(subscriber, level, summary, now); escalate it when `escalate`
  update_case,  // write `updated` (level raised and/or status escalated)
};

struct level_outcome {
  level_action action = level_action::nothing;
  std::string level;  // the level to open with (open_case), or the case's level after the update
  // open_case with escalate: after opening, write apply_operator_action(row, escalate, now) and an
  // event of kind `event_kind`. update_case with escalate: `updated` is already escalated.
  bool escalate = false;
  // The case event to append besides what open_case records itself: "reoffence", "escalated" (a case
  // in monitoring saw a new level) or "level" (raised); empty when none is needed.
  std::string event_kind;
  std::string reason;                       // plain words with numbers, for the case event and the desk
  std::optional<ledger::case_row> updated;  // set for update_case
};

// `unresolved`: the subscriber's unresolved case, if any; `last_resolved`: the subscriber's most
// recently resolved case, if any. `level` is the engine's level name ("normal", "watch", "throttle",
// "hold"); only "throttle" and "hold" open or change cases.
level_outcome on_engine_level(const std::optional<ledger::case_row>& unresolved,
                              const std::optional<ledger::case_row>& last_resolved, std::string_view level,
                              std::int64_t now_ms, const lifecycle_settings& settings = {});

enum class fix_decision {
  lift,            // lift the hold, release the held mail (postsuper -H), write `updated` (monitoring)
  to_person,       // refused as self-help: write `updated` (escalated) and tell the customer `reason`
  still_sending,   // not yet: mail is still leaving; nothing changes (the fix is not used up), tell `reason`
  not_applicable,  // the case is not in a state where "I have fixed it" means anything; nothing to write
};

struct fix_outcome {
  fix_decision decision = fix_decision::not_applicable;
  std::string reason;                       // plain words, fit to show the customer
  std::optional<ledger::case_row> updated;  // set for lift and to_person
};

// The customer pressed "I have fixed it". `self_help_fixes_in_window`: how many customer_fixed events
// the subscriber's cases got in the last `settings.self_help_window_ms` (ledger::count_events).
// `sending`: what the engine sees of the subscriber's mail now (default: nothing known).
fix_outcome on_customer_fixed(const ledger::case_row& c, std::int64_t self_help_fixes_in_window,
                              const recent_sending& sending, std::int64_t now_ms,
                              const lifecycle_settings& settings = {});

enum class operator_action { note, assign, release, rehold, escalate, close };
std::string_view operator_action_name(operator_action a) noexcept;
std::optional<operator_action> parse_operator_action(std::string_view s) noexcept;

// The row after an operator's action, or errc::invalid_input saying why the case's state does not
// allow it. `assignee` is used by `assign` only (empty unassigns). release also needs the caller to
// release the held mail; rehold to put the subscriber back on hold in the engine.
result<ledger::case_row> apply_operator_action(const ledger::case_row& c, operator_action a, std::int64_t now_ms,
                                               std::string_view assignee = {}, const lifecycle_settings& settings = {});

// A notice was sent (the relay accepted it): counters advance and an open case becomes notified.
ledger::case_row on_notice_sent(const ledger::case_row& c, std::int64_t now_ms);

// Time passed: a case in monitoring whose monitoring ended (now ≥ monitoring_until_ms) resolves.
// Empty when nothing changes.
std::optional<ledger::case_row> on_tick(const ledger::case_row& c, std::int64_t now_ms,
                                        const lifecycle_settings& settings = {});


}  // namespace pw::desk
