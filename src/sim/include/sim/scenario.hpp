// sim/scenario.hpp — what an ISP simulation models: the subscriber population and the actors mixed in.
//
// Purpose: a scenario file (TOML, `sim/scenarios/*.toml`, documented there and in docs/SIMULATOR.md)
// describes one network for `portwarden simulate`: the population (how ordinary people and small
// businesses send: rate, heavy tail, recipients, daily and weekly rhythm, how often a subscriber gets
// a bot or a hijacked account) and any number of `[[actors]]` of the kinds issue 5 names (S1–S10).
// A `[desk]` table states the customer-response model the simulated abuse desk runs against.
// Every number is a parameter with a default from the measurement literature; a file names only
// what it changes. Ranges are `[low, high]` (uniform draw per actor unless said otherwise) or one
// number; durations are strings ("90s", "5m", "2h", "3d").
//
// Guarantees: `parse_scenario` collects every problem (`origin:line:column: message`): TOML syntax,
// unknown tables or keys (never ignored), wrong types, ranges with low > high, shares outside
// [0, 1], unknown kinds, counts over `max_actors_per_entry`. Nothing else fails.
// Ownership: values. Thread-safety: reentrant. Untrusted input: operator-written, parsed as
// untrusted (bounded size `max_scenario_bytes`). Privacy: no subscriber data; synthetic settings only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "desk/lifecycle.hpp"
#include "desk/notice.hpp"

namespace pw::sim {

struct range {
  double low = 0;
  double high = 0;
};

// The scenario kinds. s5 has two modes, s7 a hijacked variant (`hijacked = true`).
enum class actor_kind : std::uint8_t {
  s1_high_rate,
  s2_steady,
  s3_low_slow,
  s4_campaign,
  s5_hijack,
  s6_contacts,
  s7_newsletter,
  s8_holiday,
  s9_list_owner,
  s10_printer,
};
std::string_view kind_name(actor_kind k) noexcept;  // "s1_high_rate"

struct population_settings {
  double residential_share = 0.92;           // the rest are small businesses (plan "business")
  double messages_per_day = 1.0;             // mean per residential subscriber
  double business_messages_per_day = 6.0;    // mean per business subscriber
  double rate_sigma = 1.1;                   // log-normal σ of a subscriber's own rate: the heavy tail
  // Recipients per envelope: weights of 1, 2, 3, 4; `many_share` of envelopes have 5..max.
  std::vector<double> recipient_weights = {0.80, 0.09, 0.04, 0.02};
  double many_share = 0.05;
  double max_recipients = 20;
  range contacts = {5, 60};                  // correspondents known at the start
  double new_recipient_share = 0.08;         // a recipient never written to before
  double reply_share = 0.4;                  // a recipient among the last few correspondents
  double login_share = 0.3;                  // residential subscribers that submit with a SASL login ...
  double roaming_share = 0.5;                // ... of whom this share also send from a phone ...
  double phone_message_share = 0.4;          // ... this share of their mail, from changing mobile addresses
  double diurnal_amplitude = 0.7;            // rate × (1 + a·cos(2π(h − peak)/24))
  double residential_peak_hour = 20;
  double business_peak_hour = 11;
  double residential_weekend_factor = 1.2;
  double business_weekend_factor = 0.25;
  // Compromise of ordinary subscribers during the run (background incidents).
  double bot_daily_rate = 0.001;             // share of residential subscribers whose machine starts a bot, per day
  std::vector<double> bot_kind_weights = {0.2, 0.4, 0.4};  // S1, S2, S3
  double hijack_weekly_rate = 0.0001;        // share of login accounts hijacked, per week
  // What people do after a 4xx at RCPT: their client retries after each listed delay in turn (the
  // last one repeats) until `retry_horizon` has passed since the first try; then the message is lost.
  std::vector<std::int64_t> retry_delays_ms = {5 * 60'000, 10 * 60'000, 20 * 60'000, 40 * 60'000};
  std::int64_t retry_horizon_ms = 5LL * 24 * 3600'000;
  // Hard bounces: the share of a legitimate sender's recipients that do not exist (typos, stale
  // addresses, a list's departed members), and how long after relaying the remote side's 5xx shows
  // in the relay's delivery log (the first delivery attempt).
  double invalid_recipient_share = 0.01;
  range bounce_delay_ms = {2'000, 60'000};
};

// How customers of one role answer the abuse desk's notices (sim/simulator.hpp runs the desk on
// simulated time through the desk's own rules, desk/lifecycle.hpp and desk/notice.hpp). Each case
// draws once, when its first notice goes out: whether the customer acts at all, whether by the
// self-help page or by calling support (a person), after how long, and — compromised subscribers
// only — whether the clean-up removed the cause. docs/SIMULATOR.md says where the defaults come from.
struct response_model {
  double respond = 0.97;             // the customer acts on the notices at all
  double call_support_share = 0.31;  // of those who act: call support instead of using the self-help page
  double delay_median_ms = 4.0 * 3600'000;  // delay from the first notice to the action: log-normal, median ...
  double delay_sigma = 1.2;                  // ... and sigma of its logarithm
  double cleanup_works = 0.71;  // compromised: the bot is removed / the account secured (else it re-offends)
};

struct desk_settings {
  response_model compromised;  // the subscriber hosts an active bot or a hijacked account
  response_model legitimate = {0.9, 0.3, 4.0 * 3600'000, 1.2, 1.0};  // wrongly throttled or held
  // A case still open or notified this long after it opened, without any answer from the customer,
  // goes to a person (the desk's queue of unanswered cases; the daemon leaves that to its operators).
  std::int64_t unanswered_escalation_ms = 4LL * 86400'000;
  std::int64_t tick_ms = 1'000;  // the desk's tick: notices and resolutions happen on its multiples
  desk::lifecycle_settings cases;  // the daemon's defaults
  desk::notice_cadence cadence;    // the daemon's defaults
};

// One `[[actors]]` entry: `count` actors of one kind. Fields apply to the kinds named beside them.
struct actor_settings {
  actor_kind kind = actor_kind::s1_high_rate;
  std::uint64_t count = 1;
  range start_ms = {0, 0};       // when each actor starts, relative to the run; {0,0}: anywhere in the first day
  range rate_per_minute = {300, 1800};  // s1, s2 (messages per minute while active; s2's default 15-35)
  range rate_per_hour = {1, 10};        // s3 (messages per hour on average)
  range block_ms = {2.0 * 3600'000, 6.0 * 3600'000};  // s1 active blocks; s2 and s4's fast bots: active
                                                      // hours per day (their default 10-14 h)
  range gap_ms = {1.0 * 3600'000, 6.0 * 3600'000};    // s1 pauses between blocks
  range burst = {2, 5};                 // s3 messages per burst
  // Recorded with the scenario but not observed: bots' recipients are drawn from a large space, so
  // the per-domain cap holds anyway.
  double max_per_domain_per_day = 10;   // s3
  // Recipients that do not exist: they bounce after relaying (the relay's delivery log tells the
  // engine). Per compromise, drawn from this range; S6 writes to the victim's contacts and bounces
  // like people (population.invalid_recipient_share).
  range invalid_recipient_share = {0.25, 0.25};  // s1–s5, s7 hijacked
  double multi_recipient_share = 0.2;   // s2 envelopes with many recipients ...
  range multi_recipients = {10, 50};    // ... this many
  range campaign_switch_ms = {1.0 * 86400'000, 3.0 * 86400'000};  // s2
  std::uint64_t campaigns = 5;          // templates the actors of this entry share (s1, s2, s3; an s2 bot
                                        // switches among them; each s4 start has its own)
  range bots = {10, 300};               // s4: bots per campaign start (count = campaign starts)
  std::int64_t start_spread_ms = 5 * 60'000;  // s4: bots start within ± this of the campaign start
  double slow_share = 0.5;              // s4: share of bots at s3 rates (the rest at s2 rates)
  std::string mode = "mixed";           // s5: "burst", "trickle" or "mixed" (half each)
  range burst_recipients_per_hour = {500, 5000};  // s5 burst (and s7 hijacked) ...
  range burst_ms = {1.0 * 3600'000, 6.0 * 3600'000};  // ... for this long
  range trickle_recipients_per_hour = {20, 100};  // s5 trickle
  range trickle_ms = {2.0 * 86400'000, 5.0 * 86400'000};
  range login_ips = {5, 50};            // s5: addresses the attacker logs in from
  range messages = {1, 10};             // s6
  range bcc_recipients = {20, 500};     // s6
  double known_contact_share = 0.8;     // s6: share of BCC recipients that are the victim's contacts
  range copies = {500, 5000};           // s7 per issue (personalised, one recipient each)
  double newsletter_rate_per_minute = 30;  // s7
  std::int64_t period_ms = 7LL * 86400'000;  // s7 issue period
  bool hijacked = false;                // s7: the account is hijacked at `hijack_after_ms`
  std::int64_t hijack_after_ms = 35LL * 86400'000;
  range holiday_contacts = {40, 150};   // s8
  range members = {200, 2000};          // s9
  range posts_per_day = {5, 50};        // s9
  double batch_recipients = 100;        // s9: recipients per envelope of one fan-out
  range fanout_ms = {60'000, 10 * 60'000};  // s9: a post's fan-out spreads over this long
  std::int64_t interval_ms = 60'000;    // s10
  range fixed_recipients = {1, 3};      // s10
};

// The defaults of one kind: actor_settings' own, with S2's (and S4's fast bots') rate and daily
// hours in place of S1's.
actor_settings default_actor(actor_kind k);

struct scenario {
  std::string name;         // [scenario] name
  std::string description;  // [scenario] description
  population_settings population;
  std::vector<actor_settings> actors;
  desk_settings desk;  // [desk], [desk.compromised], [desk.legitimate]
};

inline constexpr std::size_t max_scenario_bytes = 1 << 20;
inline constexpr std::uint64_t max_actors_per_entry = 1'000'000;

// Parses scenario text; `origin` names it in messages. errc::invalid_config lists every problem.
result<scenario> parse_scenario(std::string_view text, std::string_view origin);

}  // namespace pw::sim
