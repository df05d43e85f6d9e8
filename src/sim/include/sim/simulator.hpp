// sim/simulator.hpp — an ISP's outbound mail in simulated time, through Portwarden's own decision path.
//
// Purpose: `portwarden simulate`. From a scenario (sim/scenario.hpp), builds a population of
// subscribers (residential and small-business; some submit with a SASL login) and the actors mixed
// in (bots, hijacked accounts, newsletters, list servers, printers...), generates every message
// they try to send in time order, and submits each to a `relay_port`: in process the very decider,
// engine and campaign tracker `portwarden serve` uses (`in_process_relay`), or — from the app —
// real SMTP into a private Postfix with `portwarden serve` as milter + policy. It then scores what
// happened (sim/scorecard.hpp).
//
// How a submission is judged (the same for both ports, as Postfix applies the daemon's answers):
// each recipient is checked at RCPT (policy service: accept, 4xx defer, or HOLD for the whole
// message); when at least one recipient was accepted, the message is decided at end of message
// (milter: accept/tag, 451 tempfail for the whole message, or quarantine = hold). People's clients
// retry deferred recipients on the population's retry schedule; bots never retry.
//
// Deliberate simplifications (stated because they shape the numbers):
// - Content is precomputed: every message text a run can send (corpus ham for people, mutated
//   variants of corpus spam templates for bots, personalised copies for newsletters) is parsed,
//   scored and fingerprinted once (`content_library`); an event replays that verdict, so a day of a
//   million subscribers takes minutes. The daemon computes the same verdict from the same bytes.
// The abuse desk (when the port `simulates_desk`): a subscriber reaching throttle or hold opens a
// case through the desk's own rules (desk/lifecycle.hpp `on_engine_level`, the same the daemon
// runs), kept as a ledger::case_row in memory. Notices go out on the desk's tick per the cadence
// (`notice_due`, `on_notice_sent`); the customer answers per the scenario's `[desk]` response model
// (sim/scenario.hpp): "I have fixed it" (`on_customer_fixed`: lift → the port releases the hold, the
// held mail leaves, monitoring; still sending → the verified release refuses and the customer answers
// again, drawn afresh from the same model) or a support call (a person: escalate, then release). A compromise
// whose clean-up worked stops; one whose clean-up failed keeps sending, the engine holds it again and
// the case escalates. Monitoring ends through `on_tick`. A case open or notified for
// `unanswered_escalation` without an answer goes to a person. Escalated cases wait for a person; the
// simulator does not model what the person does beyond a support call.
// - While a subscriber is held (from a hold until the desk releases it or the engine's hold
//   timeout ends it), its further messages go straight to the hold queue without
//   being replayed through the engine and tracker. The daemon would record them, which only makes
//   a hold stronger and would add campaign evidence: detection figures are therefore not flattered.
//   A held bot is fast-forwarded to its customer's answer or the hold timeout: its messages are counted (as
//   envelopes, held) without being composed, so their recipients are not in the recipient totals.
// - Bounces: each relayed recipient (accepted and neither held nor tempfailed) does not exist with
//   the sender's share (population.invalid_recipient_share for legitimate mail, the compromise's
//   own draw for bots and hijackers); the bounces of one message (at most
//   ingest::max_bounces_per_message, as the daemon counts them) reach the port together, once,
//   population.bounce_delay after it was relayed (the remote side's 5xx in the relay's log). Held
//   mail released later never bounces here (the daemon does not count bounces of held mail either).
// - A subscriber hosts at most one compromise per run; its own ordinary mail keeps flowing and is
//   counted as the owner's (delayed while held), not as a legitimate subscriber's.
// Determinism: everything is drawn from per-actor generators seeded by (seed, actor), so a run is
// a function of (scenario, subscribers, duration, seed, content library, engine settings) alone.
// Ownership: the simulator borrows the library and the port. Thread-safety: one run per simulator;
// a run is single-threaded. Privacy: addresses are synthetic (RFC 2606 names); the scorecard holds
// counts only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "behavior/engine.hpp"
#include "campaign/tracker.hpp"
#include "common/result.hpp"
#include "desk/lifecycle.hpp"
#include "identity/directory.hpp"
#include "relay/decider.hpp"
#include "sim/scenario.hpp"
#include "sim/scorecard.hpp"

namespace pw::sim {

// One message text and what the content checks say about it.
struct content_item {
  std::string raw;  // kept only when the library is built for a Postfix run (else empty)
  relay::content_verdict verdict;
  std::string personalised_to;  // the recipient the text was personalised for (empty: none)
};

struct content_library {
  std::vector<content_item> ham;                         // people's mail
  std::vector<std::vector<content_item>> campaigns;      // one pool of variants per spam campaign
  std::vector<std::vector<content_item>> newsletters;    // one pool of personalised copies per newsletter
};

struct library_options {
  std::size_t variants_per_campaign = 200;
  std::size_t campaigns = 40;           // spam campaigns built (templates reused when the corpus has fewer)
  std::size_t newsletters = 4;
  std::size_t copies_per_newsletter = 200;
  bool keep_raw = false;                // true for --through-postfix
  std::uint64_t seed = 1;
};

// Runs the content checks on one text (the app passes relay::decider::assess with its classifier
// and fingerprinter).
using content_assessor = std::function<relay::content_verdict(std::string_view raw, std::span<const std::string> recipients)>;

// Builds the library from corpus texts: ham is assessed as is; spam texts are campaign templates
// mutated with every campaign mutation (sim/campaign_mutator.hpp); newsletter copies are ham texts
// with recipient personalisation only. errc::invalid_input when there is no ham or no spam.
result<content_library> build_library(std::span<const std::string> ham, std::span<const std::string> spam,
                                      const library_options& opts, const content_assessor& assess);

// One message as a subscriber's client submits it.
struct submission {
  std::int64_t now_ms = 0;
  std::string_view client_addr;  // the subscriber's (or an attacker's) address
  std::string_view login;        // SASL login; empty when none
  std::string_view helo;
  std::string_view sender;
  std::span<const std::string> recipients;
  const content_item* content = nullptr;
};

struct submission_result {
  std::vector<bool> accepted;   // per recipient: accepted at RCPT (and the message not tempfailed)
  bool held = false;            // the message (all accepted recipients) went to the hold queue
  bool tempfailed = false;      // 451 at end of message: nothing accepted
  behavior::level level = behavior::level::normal;  // the subscriber's level after the message
  std::string reasons;  // from watch up: the decision's reasons in words (numbers only); empty through Postfix
};

// Where submissions go. `release` is the desk lifting a hold or throttle (the customer's self-help,
// or a person's release).
class relay_port {
 public:
  virtual ~relay_port() = default;
  virtual result<submission_result> submit(const submission& s) = 0;
  virtual result<void> release(std::string_view client_addr, std::string_view login, std::int64_t now_ms) = 0;
  // What the engine sees of the subscriber's sending now (the desk's verified release reads it);
  // nothing where the port cannot tell.
  virtual desk::recent_sending recent_sending(std::string_view client_addr, std::string_view login,
                                              std::int64_t now_ms) const {
    (void)client_addr;
    (void)login;
    (void)now_ms;
    return {};
  }
  // Hard bounces of mail the subscriber relayed, as the relay's delivery log reports them (the
  // engine's `on_bounce`); returns the subscriber's level after them (normal when the engine does
  // not know it) and, from watch up, the reasons. Only called when `takes_bounces`.
  virtual behavior::level bounced(std::string_view client_addr, std::string_view login, std::uint32_t hard_bounces,
                                  std::int64_t now_ms, std::string& reasons) {
    (void)client_addr;
    (void)login;
    (void)hard_bounces;
    (void)now_ms;
    (void)reasons;
    return behavior::level::normal;
  }
  // Whether bounces reach this port's engine. Through Postfix the relay delivers to a sink that
  // bounces nothing.
  virtual bool takes_bounces() const noexcept { return false; }
  // Whether the simulator runs the abuse desk against this port. A port with a desk of its own (the
  // daemon behind Postfix) says false: its holds then end only at the engine's hold timeout.
  virtual bool simulates_desk() const noexcept { return false; }
};

// The daemon's decision path in process: identity → decider (RCPT gate, then end of message with
// the precomputed content verdict) → engine and tracker.
class in_process_relay final : public relay_port {
 public:
  in_process_relay(behavior::engine& engine, const behavior::recipient_hasher& hasher,
                   const identity::directory& directory, campaign::tracker* campaigns);
  result<submission_result> submit(const submission& s) override;
  result<void> release(std::string_view client_addr, std::string_view login, std::int64_t now_ms) override;
  desk::recent_sending recent_sending(std::string_view client_addr, std::string_view login,
                                      std::int64_t now_ms) const override;
  behavior::level bounced(std::string_view client_addr, std::string_view login, std::uint32_t hard_bounces,
                          std::int64_t now_ms, std::string& reasons) override;
  bool takes_bounces() const noexcept override { return true; }
  bool simulates_desk() const noexcept override { return true; }

 private:
  behavior::engine& _engine;
  relay::decider _decider;
  const identity::directory& _directory;
  campaign::tracker* _campaigns;
};

struct run_options {
  std::uint64_t subscribers = 10'000;
  std::int64_t duration_ms = 24LL * 3600'000;
  std::uint64_t seed = 1;
  std::int64_t start_epoch_ms = 1'767'571'200'000;  // 2026-01-05T00:00:00Z, a Monday
  std::int64_t hold_timeout_ms = 72LL * 3600'000;   // the engine's, to know when a hold ends by itself
  // Run the abuse desk when the port can (in process). Off for a run that is compared with one
  // through Postfix, whose daemon has its own desk that no simulated customer answers.
  bool desk = true;
  // Relayed mail to non-existent recipients bounces back to the engine (delivery-log evidence), where
  // the port takes bounces. Off for a run compared with one through Postfix (`takes_bounces`).
  bool bounces = true;
  // Called now and then with the share of simulated time done (0..1), for a progress bar.
  std::function<void(double)> progress;
};

// The subscribers of a run, for ports that need to know them ahead (the daemon's subscriber file).
struct subscriber_plan {
  std::string address;  // 10.x.y.z
  std::string login;    // empty unless the subscriber submits with SASL
  bool business = false;
  std::string plan;     // the directory's plan for it: "business", or "bulk" for the registered bulk
                        // senders (S7 newsletters, S9 list servers); "" for residential (default plan)
  std::string id;       // the id the directory gives it ("biz-<n>"; "" for residential: ip:<addr>)
};

// What one subscriber went through in a run (for comparing an in-process run with a Postfix run).
struct subscriber_verdict {
  std::string address;
  std::string login;
  behavior::level highest = behavior::level::normal;
  std::int64_t first_throttle_ms = -1;  // simulated time since the run's start; -1: never
  std::int64_t first_hold_ms = -1;
  std::int64_t attack_start_ms = -1;  // its first compromised message; -1: legitimate, or not begun by the end
  std::string role;               // its scorecard kind: "population", "s9_list_owner", "s1_high_rate"...
  std::string first_throttle_why; // the reasons when it first reached throttle (numbers only)
  std::string highest_why;        // the reasons when it first reached its highest level
};

class simulator {
 public:
  // errc::invalid_config when the scenario cannot be placed on the population (e.g. more business
  // actors than business subscribers) or the library lacks what the scenario needs.
  static result<simulator> create(const scenario& sc, const content_library& library, const run_options& opts);
  simulator(simulator&&) noexcept;
  simulator& operator=(simulator&&) noexcept;
  ~simulator();

  const std::vector<subscriber_plan>& subscribers() const;
  // The directory entries for the business subscribers (host routes → id and plan; S7 senders also
  // by login).
  std::vector<identity::directory_entry> directory_entries() const;

  // Runs the whole duration through `port`; errors from the port abort the run.
  result<scorecard> run(relay_port& port);
  // After `run`: every subscriber, in population order.
  std::vector<subscriber_verdict> verdicts() const;

 private:
  struct impl;
  explicit simulator(std::unique_ptr<impl> p);
  std::unique_ptr<impl> _impl;
};

}  // namespace pw::sim
