// behavior/engine.hpp — per-subscriber sending behaviour and the graduated response.
//
// Purpose: the core that decides what happens to a subscriber's outbound mail. It keeps, per
// subscriber, decayed counters over four windows (1 min, 10 min, 1 h, 24 h), a small filter of the
// recipients and domains seen before, and a baseline of its own daily volume; it combines this
// evidence (plus the classifier's spam probability and the campaign tracker's verdict when there
// are some) into a suspicion number and a level: normal → watch (tag) → throttle (defer beyond a
// rate) → hold (Postfix hold queue). No I/O; time is an argument (milliseconds since the epoch),
// so a simulator replays days in seconds.
//
// Evidence and its approximations (stated because they are the contract):
// - Windows are exponentially decayed counters with time constant = window length: a steady rate of
//   r per window reads as r, a burst decays with that time constant. Counts are float32.
// - "New" recipients/domains are those not in a per-subscriber two-generation Bloom filter (2 × 192
//   bits, keyed recipient hashes salted per subscriber; the younger generation rotates when it holds
//   48 entries, so "seen" means "among roughly the last 48–96 distinct recipients and domains").
//   False positives make a new recipient look known (less suspicious), never the reverse.
// - Envelope-sender and HELO diversity are counted as changes from the previous message (1 h).
// - Baseline: EWMA (α = plan.baseline_alpha) of the 24 h window at each UTC day boundary, only on
//   active days and only while the subscriber was at most at `watch` (a burst does not teach the
//   baseline that bursts are normal). New subscribers start from the plan prior.
// - Suspicion = volume excess (log2 of the worst count/allowance ratio over the windows, for messages
//   and recipients; allowance = plan floor + burst factor × baseline share of that window) times an
//   amplifier from novelty (share of new recipients and domains) and content (mean spam probability
//   above 0.5), plus small terms for sender/HELO churn. A change is a sender (or client) unlike both
//   of the last two seen, so a household's two devices taking turns (a PC and a printer's alert
//   loop) count no churn; measured with `portwarden simulate` (S10). Without a volume excess, suspicion comes
//   from the last hour's mean spam probability, churn and content-blind campaign membership only
//   and is capped below the throttle threshold: a spammy message from a normal-rate user is at most
//   `watch`; only campaign evidence with spammy content (below) goes beyond. Content-blind operation
//   (no probability) still reaches hold on volume and novelty alone, later: in behavior_test the
//   1 msg/s burst of a 3/day user is throttled at message 12 and held at 20 with probability 0.95,
//   and throttled at 21 and held at 64 without (all messages reaching `on_message`).
// - Campaigns (`message_event::campaign`, filled from the campaign tracker): only messages of an
//   *active* campaign (sent by ≥ k distinct subscribers) count, so single-sender bulk — one
//   subscriber mailing thousands of personalised copies, a campaign of 1 — is no evidence at all.
//   Per subscriber: campaign messages in the last hour (decayed like the 1 h window), the sum of
//   their spam probabilities (an unscored one adds 0, so missing scores never add suspicion), and
//   the largest distinct-subscriber count among them (saturating at 255; restarts when the hour
//   held under half a campaign message). From these: share = campaign messages / messages in 1 h;
//   weight = min(1, campaign messages / 3); campaign content q = ((mean campaign spam probability
//   − 0.5) / 0.4)² clamped to 0..1 (0 up to 0.5, 1 from 0.9); blind = share of the hour's messages
//   without a spam probability. Three terms, each × plan.campaign_weight (0 disables them):
//   · with content: suspicion ≥ 1.25 × hold_at × share × weight × q, not capped by the no-volume
//     rule — so a low-rate sender whose hour is mostly (≥ 80 %) campaign mail at mean probability
//     ≥ 0.9 reaches hold at its third campaign message in an hour; at 0.75 it reaches ~2.4 (watch),
//     at 0.8 ~3.5 (throttle), at ≤ 0.5 (chain letters) nothing. Measured in behavior_test: an S3-like
//     bot (bursts of 2–5, ≤ 10/h) at 0.95 is held at message 3–4;
//   · content-blind, no volume excess: up to 1.25 × watch_at × share × weight × blind, under the same
//     cap as content alone: campaign membership by itself is at most `watch`;
//   · with a volume excess: share × (blind + (1 − blind) × q) joins the amplifier like novelty, so
//     campaign mail with a low spam probability amplifies nothing.
//   The campaign id never reaches the engine (the caller appends it to the reasons).
// - Takeover (stolen credentials, a bot rotating HELO names): the HELO hash the caller passes
//   covers the client's HELO name and address (relay::decider), so a change means the mail came
//   from another client. When the last hour's mail is spammy (mean probability ≥ 0.9 → q = 1, from
//   0.8 → 0) and mostly to new recipients (share ≥ 0.8 in the hour), client changes in the
//   hour beyond one earn suspicion ≥ hold_at × takeover_weight × q × min(1, changes − 1), not
//   capped by the no-volume rule: the second client change of such mail holds. A subscriber's own
//   devices (home machine, phone on changing addresses) change the client too, but their mail is
//   not spam to strangers; measured with `portwarden simulate` (population with roaming logins).
//   Without spammy content, a client that changed more than three times in the hour while ≥ 75 %
//   of the hour's recipients are new earns throttle (× takeover_weight), never hold. (75 %: a bulk
//   sender's own list outgrows the filter and looks ~80 % new, so a hijack mixed with its
//   newsletter hour stays below 90 %.)
//   Escalation: when the other evidence (volume, bounces, content, persistence, campaigns — not
//   the client changes alone) already reaches throttle_at, and the client changed at least twice in
//   the hour (decayed count ≥ 1.5) while ≥ 75 % of the hour's recipients were new, suspicion is
//   raised to hold_at × takeover_weight, with the reason `takeover`: a stolen login sends at the
//   throttle rate for hours otherwise (measured with `portwarden simulate`, S5 bursts: worst
//   spam relayed before hold 12–20 → 6–8 on seeds 1–5). Only what would be throttled anyway is
//   escalated, so the rule adds no throttled subscriber, and a legitimate subscriber it holds is
//   one that would have been throttled without it.
// - Strangers in a campaign: when ≥ 5 messages to ≥ 10 recipients in 24 h went ≥ 90 % to new
//   recipients (ramping from 80 %), the
//   active-campaign share of the hour (weight: one campaign message) earns up to throttle_at ×
//   campaign_weight × a content factor (0 up to the campaign's mean probability 0.5, 1 from 0.7):
//   the low-and-slow bot sharing a template the classifier half-recognises. Identical texts to new
//   people with ham-like content (franchisees' newsletters, forwarded greetings) earn nothing —
//   unless their addresses bounce: the day's hard bounces may stand in for content (0 under 1
//   bounce or a 10 % share, full from 2 bounces at 20 %, × bounce_weight), the bot sharing a
//   template the classifier misses entirely (measured with `portwarden simulate`, S3: throttled
//   within 24 h where the bounces-alone term, which wants 4.5, came too late or never).
//   Never beyond throttle: campaign membership with behaviour opens a case.
// - Hard bounces (`on_bounce`, from the relay's delivery log: 5xx answers to mail the relay let
//   through) are counted over 1 h and 24 h and compared with the recipients of the same window.
//   Strength = share ramp (0 at 10 % of recipients, 1 at 20 %) × count ramp (0 under 3 bounces, 1
//   from 4.5): people mistype now and then and lists carry ~1 % stale addresses; a bot writing to
//   guessed or harvested addresses bounces 20–50 %. Or, when larger, the strength of many bounces at
//   a moderate share: the log-likelihood ratio of the window's bounces at a bot's 20 % against a
//   careless person's 2 %, from 8 (0) to 12 (1) — full at 13 bounces of 100 recipients or 45 of 500,
//   never at a handful: a bot whose owner keeps mailing beside it reads 15–18 %. Four terms, each ×
//   plan.bounce_weight:
//   · the day's strength × throttle_at, whatever the rate and content (never more: bounces alone
//     open a case and slow the mail, they do not stop it) — the low-and-slow bot whose template the
//     classifier misses;
//   · the day's strength joins the amplifier of a volume excess, like novelty;
//   · with the takeover pattern (hour's recipients ≥ 75 % new, the client changed more than once in
//     the hour): the hour's strength × hold_at × takeover_weight × min(1, changes − 1) — a hijacker
//     working through a list, whatever the classifier makes of its text;
//   · in the strangers-in-a-campaign evidence (above), with the count ramp from 1 to 2 bounces, in
//     place of content.
//   Bounces of mail that was held are not evidence (the caller attributes only mail it let through),
//   so releasing a held queue does not re-hold the customer on the spam's own bounces.
// - Attempts deferred at RCPT (suspicion is about what a subscriber tries to send, not only what we
//   let through): when `on_recipient` answers defer, a recipient not in the filter counts as an
//   attempted message with one new recipient (and a new domain when the domain is new) — except in
//   the 1 h window's message count, which is the throttle-rate meter and so counts only what was
//   let through (else a queue whose recipients outgrew the filter would stay over the rate on its
//   own retries and never drain: lost at the queue lifetime; measured with `portwarden simulate`,
//   S7 newsletters) —, is added to the filter, and adds to a 10-min count of deferred attempts; a
//   recipient already in the filter
//   counts nothing, since it is most likely the client's MTA retrying a queued message (Postfix
//   retries every few minutes). Each deferred attempt in the last 10 min adds (hold_at −
//   throttle_at) / 40 to suspicion (persistence: people stop at a 4xx, MTAs retry the same
//   recipients, bots spray on); levels then move as for a message. Measured in behavior_test,
//   content-blind, 3/day user: deferred from attempt ~31 and held 10 attempts later at 1/s to
//   distinct domains, ~40 later at 1/s to one big domain, ~128 later at one per 10 s; an MTA that
//   flushed 50 messages to new recipients at one per 2 s and retries its 20 deferred ones every
//   5 min for 4 h peaks at suspicion ~4.4 (hold at 5), stays at throttle, delivers all, falls back.
//   Trade-offs: the first attempt of each queued message is evidence, so an MTA flushing a queue of
//   more than ~30 messages to new recipients fast can be held (not lost: the hold queue); once its
//   queue holds more than ~48–96 distinct recipients and domains the filter forgets the oldest, and
//   their retries count as new; a filter false positive (roughly 1 in 7 to 1 in 4 of new addresses
//   when the filter is full) makes a new attempt look like a retry and count nothing. A message
//   deferred at RCPT and delivered later counts twice in the message windows (once new). Observe-only
//   never defers, so nothing is recorded at RCPT: the message is recorded at end of message.
// - Levels rise as soon as suspicion crosses a plan threshold (capped by the plan's `ceiling`); they
//   fall one level at a time after suspicion stayed below threshold × `hysteresis` for `cool_down_ms`
//   (idle time counts as calm). Hold is sticky: it ends by `release` or after `hold_timeout_ms`.
//   After a release or a hold timeout the subscriber is at `watch` with a grace period; crossing
//   the throttle threshold during grace goes straight to hold (re-offence). Release also clears the
//   windows (the burst was dealt with, it must not re-hold the next ordinary message); the baseline
//   and the recipient filter stay. The cool-down after a release or hold timeout starts then.
// - Clock jumps: a `now_ms` earlier than the last event counts as "no time passed" and becomes the
//   new reference time (a clock stepped back stays usable); counters never grow by negative decay
//   and never go negative. A baseline day is folded only when the UTC day moves forward.
//
// Observe-only (`engine_settings::observe_only`): state and levels evolve exactly as when enforcing;
// `decision::intended` says what would be done, `decision::act` is at most `tag`.
//
// Ownership: the engine owns all state; decisions are values. `message_event` borrows its spans and
// strings for the duration of the call only.
// Thread-safety: all public member functions may be called concurrently. Subscribers are sharded by
// a hash of their id, one mutex per shard (`engine_settings::shards`); a call locks one shard
// (snapshot/expiry lock each shard in turn). `reconfigure` swaps settings atomically (calls in
// flight finish with the old ones); the shard count is fixed at construction.
// Untrusted input: subscriber ids come from the identity module (bounded); the engine stores ids
// of any length. `restore` parses blobs from the store as untrusted: a corrupt, truncated, foreign or
// future-version blob is an error (errc::corrupt / errc::invalid_input), never a crash. Blobs carry
// the plan's identity (a hash of its name) since version 2, the campaign counters since version
// 3 and the bounce counts since version 4; version-1 and version-2 blobs still restore, without what they lack (no
// campaign evidence; for version 1 also no plan: reports use the default plan until the subscriber's next event).
// Privacy: the engine never receives an address: recipients, domains, senders and HELO names arrive
// as keyed 64-bit hashes from `recipient_hasher` (keyed XXH3), and snapshots hold only counters,
// filter bits and 32-bit tags of those hashes. Reasons carry numbers only.
// Memory: ≤ 256 bytes per active subscriber including the index and the id (ids up to 23 bytes are
// stored inline, longer ones cost a heap copy more); measured in bench/behavior_bench.cpp
// (BM_memory_1M) with 1 M subscribers. Limits: 16.7 M subscribers per shard (1 G at 64 shards);
// beyond that a new subscriber is answered `accept` untracked (and `restore` fails, errc::unavailable).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace pw::behavior {

enum class level : std::uint8_t { normal, watch, throttle, hold };
enum class action : std::uint8_t { accept, tag, defer, hold };

std::string_view level_name(level l) noexcept;
std::string_view action_name(action a) noexcept;

// Keyed one-way hashing of addresses and names. ASCII letters are lower-cased first (so
// "Bob@Example.COM" and "bob@example.com" are one recipient); each kind of value has its own
// derived secret, so a recipient hash never equals a sender or HELO hash of the same text.
// Without the per-deployment key the hashes cannot be recomputed from a guessed address.
// Thread-safety: immutable after construction; share one per process.
class recipient_hasher {
 public:
  explicit recipient_hasher(std::string_view deployment_secret);

  std::uint64_t recipient(std::string_view address) const noexcept;
  // The domain part of an address (after the last '@'; the whole text when there is none).
  std::uint64_t domain(std::string_view address) const noexcept;
  std::uint64_t sender(std::string_view envelope_sender) const noexcept;
  std::uint64_t helo(std::string_view helo_name) const noexcept;

 private:
  static constexpr std::size_t secret_bytes = 192;
  std::uint64_t hash(const std::array<std::byte, secret_bytes>& secret, std::string_view text) const noexcept;
  std::array<std::byte, secret_bytes> _recipient_secret{};
  std::array<std::byte, secret_bytes> _domain_secret{};
  std::array<std::byte, secret_bytes> _sender_secret{};
  std::array<std::byte, secret_bytes> _helo_secret{};
};

// What the campaign tracker said about a message (campaign::membership, without the id: reasons
// carry numbers only, and the caller names the campaign).
struct campaign_evidence {
  std::uint32_t distinct_subscribers = 0;  // within the tracker's window
  bool active = false;                     // ≥ k distinct subscribers: the only kind that is evidence
};

// One message at end of message. The spans are parallel: recipient_domain_hashes[i] is the domain
// of recipient_hashes[i] (may be shorter or empty when domains are unknown).
struct message_event {
  std::string_view subscriber;
  std::string_view plan;  // unknown or empty → engine_settings::default_plan
  std::int64_t now_ms = 0;
  std::uint64_t helo_hash = 0;
  std::uint64_t sender_hash = 0;
  std::span<const std::uint64_t> recipient_hashes;
  std::span<const std::uint64_t> recipient_domain_hashes;
  std::optional<double> spam_probability;     // absent in content-blind mode or when scoring failed
  std::uint32_t size_bytes = 0;               // carried for the decision log; not evidence (yet)
  std::optional<campaign_evidence> campaign;  // absent: joined no campaign, or campaigns disabled
};

enum class window : std::uint8_t { one_minute, ten_minutes, one_hour, one_day };
inline constexpr std::size_t window_count = 4;
std::string_view window_name(window w) noexcept;  // "1 min", "10 min", "1 h", "24 h"

// A reason is a code plus the numbers behind it; `describe` turns it into words.
enum class reason_code : std::uint8_t {
  volume,              // a: messages, b: recipients, c: new recipient domains, in window `w`
  new_recipients,      // a: share of recipients never seen before (0..1), b: recipients, in `w`
  baseline,            // a: own baseline messages/day, b: recipients/day, c: 1 when learnt, 0 = plan prior
  content,             // a: mean spam probability, b: messages scored, in `w`
  sender_churn,        // a: envelope-sender changes in `w`
  helo_churn,          // a: HELO name changes in `w`
  over_throttle_rate,  // a: messages in the last hour (decayed), b: allowed per hour
  deferred_attempts,   // a: attempts to new recipients deferred at RCPT while throttled, in `w` (10 min)
  held,                // a: minutes since the hold began, b: minutes until the hold times out
  reoffence,           // a: minutes left in the grace period when the threshold was crossed
  observe_only,        // the intended action was not enforced
  campaign,            // a: messages in active campaigns, b: largest distinct-subscriber count among
                       // them (255 = 255 or more), c: all messages, in `w` (1 h)
  hard_bounces,        // a: hard bounces of relayed mail, b: recipients, in `w` (24 h)
  takeover,            // throttle-worthy evidence held by the takeover pattern: a: client changes,
                       // b: share of recipients never seen before (0..1), in `w` (1 h)
};

struct reason {
  reason_code code = reason_code::volume;
  window w = window::ten_minutes;
  float a = 0;
  float b = 0;
  float c = 0;
};

inline constexpr std::size_t max_reasons = 6;

struct decision {
  action act = action::accept;       // what to enforce (≤ tag in observe-only mode)
  action intended = action::accept;  // what the engine would do when enforcing
  level lvl = level::normal;         // level after this event
  bool observe_only = false;
  float suspicion = 0;
  std::uint8_t reason_count = 0;
  std::array<reason, max_reasons> reasons{};

  std::span<const reason> reasons_view() const noexcept { return {reasons.data(), reason_count}; }
};

// "312 messages to 297 new recipient domains in 10 min; own baseline 4/day; mean spam probability
// 0.97". Not for the hot path (allocates).
std::string describe(const reason& r);
std::string describe(std::span<const reason> reasons);

// Per-plan settings. Plain struct; the defaults here are the only defaults (the config module fills
// fields by pointer-to-member).
struct plan_settings {
  std::string name = "residential";
  level ceiling = level::hold;  // the highest level the engine may reach automatically
  // Suspicion thresholds for entering each level.
  double watch_at = 1.5;
  double throttle_at = 3.0;
  double hold_at = 5.0;
  // Baseline prior for a new subscriber, and how fast the baseline learns (per active day).
  double prior_messages_per_day = 5;
  double prior_recipients_per_day = 8;
  double baseline_alpha = 0.15;
  // Allowances per window: floor + burst factor × baseline share of the window.
  std::array<double, window_count> floor_messages{5, 10, 20, 40};
  std::array<double, window_count> floor_recipients{10, 25, 50, 100};
  std::array<double, window_count> burst_factor{30, 12, 6, 2};
  // Evidence weights.
  double novelty_weight = 1.0;   // share of new recipients (and, at 0.6×, of new domains)
  double content_weight = 1.2;   // mean spam probability above 0.5, scaled to 0..1
  double churn_weight = 0.75;    // per log2 of sender or HELO changes per hour beyond 2
  double takeover_weight = 1.0;  // client changes + spammy mail to new recipients (see the contract); 0 disables
  double campaign_weight = 1.0;  // active-campaign evidence (see the contract above); 0 disables it
  double bounce_weight = 1.0;    // hard bounces from the delivery log (see the contract above); 0 disables them
  // While throttled: messages per hour accepted before deferring.
  double throttle_messages_per_hour = 30;
};

struct engine_settings {
  bool observe_only = false;
  double hysteresis = 0.6;                                // fall only below threshold × hysteresis ...
  std::int64_t cool_down_ms = 30LL * 60 * 1000;           // ... for this long
  std::int64_t hold_timeout_ms = 72LL * 3600 * 1000;      // a hold nobody releases ends after this
  std::int64_t grace_ms = 24LL * 3600 * 1000;             // after release: re-offence goes straight to hold
  std::int64_t expire_idle_ms = 14LL * 24 * 3600 * 1000;  // forget subscribers idle this long
  std::size_t shards = 64;
  std::string default_plan = "residential";
  std::vector<plan_settings> plans = default_plans();

  static std::vector<plan_settings> default_plans();  // "residential", "business" and "bulk"
};

// Validates settings (thresholds ordered and positive, hysteresis in (0,1), known default plan,
// unique plan names, shards ≥ 1); errc::invalid_config with the offending name otherwise.
result<void> validate(const engine_settings& s);

struct window_counts {
  float messages = 0;
  float recipients = 0;
  float new_recipients = 0;
  float new_domains = 0;
  float sender_changes = 0;                    // 1 h only (0 for the other windows)
  float helo_changes = 0;                      // 1 h only
  float hard_bounces = 0;                      // 1 h and 24 h only
  std::optional<float> mean_spam_probability;  // absent when no message in the window was scored
};

struct subscriber_report {
  level lvl = level::normal;
  float suspicion = 0;
  std::array<window_counts, window_count> windows{};
  float baseline_messages_per_day = 0;
  float baseline_recipients_per_day = 0;
  bool baseline_learnt = false;  // false: still the plan prior
  std::int64_t last_seen_ms = 0;
  std::optional<std::int64_t> held_since_ms;
  std::optional<std::int64_t> grace_until_ms;
  std::uint8_t reason_count = 0;
  std::array<reason, max_reasons> reasons{};

  std::span<const reason> reasons_view() const noexcept { return {reasons.data(), reason_count}; }
};

struct snapshot_record {
  std::string subscriber;
  std::vector<std::byte> blob;  // versioned binary state; opaque to the store
};

class engine {
 public:
  // Settings must pass `validate` (asserted).
  explicit engine(engine_settings settings = {});
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // End of message: records the message and decides. Creates the subscriber on first sight.
  decision on_message(const message_event& ev);

  // RCPT-time gate (policy service, milter RCPT stage), once per recipient: answers from the
  // current level. hold → hold; throttle → defer when over the plan's hourly rate, else tag;
  // watch → tag; normal (or unknown subscriber, never created here) → accept. Applies the hold
  // timeout. Records only when the answer is an enforced defer and the recipient's hashes are
  // given (0 = unknown: answer only): see "Attempts deferred at RCPT" above. The decision then
  // comes from the re-evaluated level, so an attempt that takes the subscriber to hold answers
  // `hold` (the policy service's HOLD: this and every later message waits in the hold queue).
  decision on_recipient(std::string_view subscriber, std::string_view plan, std::int64_t now_ms,
                        std::uint64_t recipient_hash, std::uint64_t recipient_domain_hash);

  // A hard bounce (or several) of mail the subscriber relayed, from the relay's delivery log
  // (ingest): recorded in the 1 h and 24 h bounce counts, then levels move as for a message, under
  // the plan of the subscriber's last message. nullopt when the subscriber is unknown (expired, or
  // never seen by this engine): a bounce creates nobody.
  std::optional<decision> on_bounce(std::string_view subscriber, std::int64_t now_ms, std::uint32_t hard_bounces = 1);

  // State for the HTTP API, evaluated at `now_ms` (no change to state) against the plan of the
  // subscriber's last event, which snapshots keep (the default plan when that plan is no longer
  // configured, or after restoring a version-1 blob until the next event); nullopt when unknown.
  std::optional<subscriber_report> report(std::string_view subscriber, std::int64_t now_ms) const;

  // Operator/customer lifts a hold or throttle: back to watch with a grace period, short windows
  // cleared. Returns false when the subscriber is unknown.
  bool release(std::string_view subscriber, std::int64_t now_ms);
  // A person puts the subscriber on hold (the abuse desk's "re-hold"), whatever the plan's ceiling:
  // every further message goes to the hold queue until `release` or the hold timeout. Returns false
  // when the subscriber is unknown (nothing to hold: it has sent nothing lately).
  bool hold(std::string_view subscriber, std::int64_t now_ms);

  // The states changed since the previous call (each record once), for the store.
  std::vector<snapshot_record> collect_changes();
  // Replaces (or creates) a subscriber's state from a blob written by `collect_changes` of this
  // version (4), of version 3 (before the bounce counts: restored without bounces, and without the
  // day's sender and client changes, no longer kept), of version 2 (before the campaign counters:
  // restored without campaign evidence) or
  // of version 1 (before the plan and the deferred-attempts counter too: restored with the default
  // plan for reports and no deferred attempts, nothing else lost).
  result<void> restore(std::string_view subscriber, std::span<const std::byte> blob);

  // Forgets subscribers idle for `expire_idle_ms` (or held past the hold timeout and then idle);
  // returns their ids so the store can delete them too.
  std::vector<std::string> expire(std::int64_t now_ms);

  std::size_t size() const;
  void reconfigure(engine_settings settings);  // validated by the caller (asserted)

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

}  // namespace pw::behavior
