// sim/scorecard.hpp — what a simulation run measured, and its three renderings.
//
// Purpose: the numbers that say whether Portwarden does its job (issue 5): per scenario kind and
// overall, how many compromised subscribers were detected and contained, how fast (simulated time),
// how much spam left before containment, and what legitimate subscribers paid for it (tagged,
// throttled, held; messages delayed; messages lost, which must be 0), and what the abuse desk made
// of the cases it opened (issue 6: the share resolved by self-help). The simulator fills a
// `scorecard`; `render_text`, `render_json` and `render_html` present it for a terminal, for
// machines and for people (an HTML page with inline SVG plots: time-to-detect CDF, per-scenario
// bars, false-positive breakdown).
//
// Definitions (the contract of every number below):
// - A compromised actor (bot, hijacked account) is *detected* when its subscriber first reaches
//   throttle or hold while compromised (an abuse-desk case opens at throttle); *flagged* when it
//   first reaches watch (review). It is *contained* when its subscriber first reaches hold: from then
//   on its mail waits in the hold queue. Times are from the actor's first compromised message.
// - Spam relayed before containment: the actor's compromised messages that left the relay (accepted
//   and not held) before it was contained; messages deferred at RCPT never left.
// - Legitimate subscribers: everyone not compromised during the run, plus none of the compromised
//   (their owners' own mail is counted separately as `owner_messages_delayed`). Rates are per
//   100,000 subscriber-months (30 days): count × 100,000 / subscribers × 30 days / duration.
// - A legitimate message is *delayed* when it was deferred and retried, or held and released (the
//   delay is until it left); one still in the hold queue at the end counts as delayed until the end
//   (a lower bound, and stricter than counting it only once released). It is *lost* when its
//   retries ran past the retry horizon. One still waiting for a retry at the end counts as neither.
// - A subscriber whose compromise had not begun by the end of the run counts as legitimate.
// Ownership: plain values. Thread-safety: none needed (values). Privacy: numbers and scenario names
// only; nothing here comes from message content or addresses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pw::sim {

// Time-to-X samples in simulated milliseconds, and the summary of them.
struct latency_summary {
  std::vector<std::int64_t> samples_ms;  // one per actor that reached the event, unsorted
  std::int64_t p50_ms = 0;
  std::int64_t p90_ms = 0;
  std::int64_t max_ms = 0;
};

// One scenario kind (e.g. "S1 high-rate bot") within a run, compromised or legitimate.
struct scenario_score {
  std::string kind;         // stable short id: "s1_high_rate", "population", "s9_list_owner"...
  std::string title;        // "S1 high-rate bot"
  bool compromised = false;  // true: the detection columns apply; false: the false-positive ones
  std::uint64_t actors = 0;
  std::uint64_t messages = 0;  // messages the actors tried to send (envelopes)
  std::uint64_t recipients = 0;

  // Compromised kinds.
  std::uint64_t detected = 0;   // reached throttle or hold
  std::uint64_t flagged = 0;    // reached at least watch
  std::uint64_t contained = 0;  // reached hold
  latency_summary time_to_detect;
  latency_summary time_to_contain;
  std::uint64_t spam_relayed_before_containment = 0;       // summed over actors
  std::uint64_t max_spam_relayed_before_containment = 0;   // worst single actor
  std::uint64_t spam_relayed = 0;                          // over the whole run
  std::uint64_t spam_held = 0;
  std::uint64_t spam_deferred = 0;                         // recipients refused (4xx at RCPT or 451 at end of data)
  std::uint64_t owner_messages_delayed = 0;                // the account owner's own mail (S5, S7-hijacked)

  // Legitimate kinds: subscribers that reached each level at least once during the run.
  std::uint64_t tagged = 0;
  std::uint64_t throttled = 0;
  std::uint64_t held = 0;
  std::uint64_t messages_delayed = 0;
  std::int64_t max_delay_ms = 0;
  std::uint64_t messages_lost = 0;
};

struct run_info {
  std::string scenario_file;  // as given on the command line
  std::string scenario_name;
  std::uint64_t subscribers = 0;
  std::int64_t duration_ms = 0;
  std::uint64_t seed = 0;
  bool through_postfix = false;
  bool content_blind = false;
  double wall_seconds = 0;        // the simulation itself, without corpus loading
  double setup_seconds = 0;       // corpus loading, training, content pool
  std::uint64_t peak_rss_bytes = 0;
  std::uint64_t engine_subscribers = 0;  // tracked by the engine at the end
  std::uint64_t messages = 0;            // all envelopes
  std::uint64_t recipients = 0;
  std::uint64_t campaigns_active_peak = 0;
};

// The abuse desk on simulated time (issue 6): what became of the cases the run opened. Every case
// ends the run in exactly one of: resolved by self-help (no person was ever involved), escalated
// (a person was involved, for the first of the reasons below; it may have been resolved since), or
// still open (open, notified, or in monitoring after a self-help lift).
struct desk_score {
  bool modelled = false;  // false through Postfix: the daemon behind it runs its own desk
  std::int64_t unanswered_escalation_ms = 0;  // the "no answer within" period the run used
  std::uint64_t cases_opened = 0;
  std::uint64_t compromised_cases = 0;  // opened while the subscriber hosted an active compromise
  std::uint64_t resolved_self_help = 0;
  std::uint64_t compromised_resolved_self_help = 0;
  std::uint64_t escalated = 0;
  std::uint64_t escalated_support_call = 0;  // the customer called support instead of using self-help
  std::uint64_t escalated_repeat = 0;        // a second "I have fixed it" within the self-help window
  std::uint64_t escalated_reoffence = 0;     // a new case soon after a resolved one (opens escalated)
  std::uint64_t escalated_fix_failed = 0;    // throttle or hold again while in monitoring
  std::uint64_t escalated_unanswered = 0;    // no answer within unanswered_escalation_ms
  std::uint64_t resolved_by_person = 0;      // escalated cases resolved by the end (after a person released them)
  std::uint64_t open_at_end = 0;
  std::uint64_t monitoring_at_end = 0;  // of open_at_end: lifted by self-help, monitoring not over yet
  std::uint64_t notices_sent = 0;
  std::uint64_t fixes_refused = 0;       // "I have fixed it" refused while mail still left (verified release)
  latency_summary open_to_first_notice;  // the case opening (throttle or hold) to its first notice
  latency_summary time_to_resolution;    // opened to resolved, every resolved case
  // The cases whose outcome is final: opened at least `final_after_ms` (unanswered escalation +
  // monitoring + a tick) before the end, so an unanswered case has gone to a person and a lift has
  // either held through monitoring (resolved) or failed (escalated). Counting only these keeps a
  // finite run from favouring the quick outcomes (a call, a failed fix) over the slow one.
  std::int64_t final_after_ms = 0;
  std::uint64_t final_cases = 0;
  std::uint64_t final_resolved_self_help = 0;
  // final_resolved_self_help / final_cases: the issue-6 bar (>= 80 %); 0 when there are none.
  double self_help_share = 0;
};

struct scorecard {
  run_info run;
  std::vector<scenario_score> scenarios;  // in scenario-file order, the population first

  // Overall figures, derived from `scenarios` by `summarise` (compromised kinds in the detection
  // bar: S1–S5 and S7-hijacked, i.e. every compromised kind except S6).
  std::uint64_t compromised_actors = 0;
  std::uint64_t compromised_detected = 0;
  double detection_rate = 0;  // detected / actors over the bar's kinds (1 when there are none)
  std::uint64_t legitimate_subscribers = 0;
  double tagged_per_100k_months = 0;
  double throttled_per_100k_months = 0;
  double held_per_100k_months = 0;
  std::uint64_t legitimate_held = 0;
  std::uint64_t legitimate_throttled = 0;
  std::uint64_t legitimate_messages_delayed = 0;
  std::int64_t legitimate_max_delay_ms = 0;
  std::uint64_t legitimate_messages_lost = 0;

  desk_score desk;  // filled by the simulator; its share and percentiles by `summarise`
};

// Fills the percentiles of every latency_summary and the overall figures.
void summarise(scorecard& card);

// A terminal summary (fixed-width table, plain ASCII, ends with a newline).
std::string render_text(const scorecard& card);
// The whole scorecard as one JSON object (stable keys, numbers as numbers).
std::string render_json(const scorecard& card);
// A self-contained HTML page (no external resources): run facts, the tables, and inline SVG plots
// (time-to-detect CDF per compromised kind, per-scenario detection/containment bars, the
// legitimate subscribers' tagged/throttled/held breakdown).
std::string render_html(const scorecard& card);

}  // namespace pw::sim
