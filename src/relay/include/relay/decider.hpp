// relay/decider.hpp — one message (or one recipient) in, one graduated response out.
//
// Purpose: the core of `portwarden serve`, shared by the milter and policy adapters and by the
// simulator. It resolves who is sending (identity), hashes the envelope one way (no address reaches
// the engine), scores the content when a classifier is given (none in content-blind mode), asks the
// behaviour engine, and turns the engine's decision into a response both adapters can speak: accept,
// tag with a header, defer with a 4xx text, or hold in Postfix's hold queue. Every response carries
// the reasons in plain words with their numbers.
// No I/O, no clock: time is an argument, so a simulator drives the same code as the daemon.
//
// Guarantees: never throws on any input; a subscriber lookup failure is reported in the outcome (the
// adapter logs and counts it) and the message is still decided under `ip:<addr>`. The texts put on
// the wire contain numbers and fixed words only, never content or addresses.
// Ownership: borrows the engine, hasher and directory (they must outlive the call); the classifier,
// when given, is the calling thread's own (classifiers keep scratch buffers).
// Thread-safety: `decider` is stateless apart from its references; the engine is thread-safe, so
// several worker threads may call one decider at once.
// Privacy: `envelope` holds addresses and `raw_message` the content; both are used inside the call
// and dropped. The outcome holds the subscriber id, the decision, the probability and reason text.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "behavior/engine.hpp"
#include "campaign/tracker.hpp"
#include "classify/classifier.hpp"
#include "fingerprint/fingerprint.hpp"
#include "identity/directory.hpp"
#include "mime/message.hpp"

namespace pw::relay {

// What the adapters collected about one message.
struct envelope {
  std::string sasl_login;   // empty when the client did not authenticate
  std::string client_addr;  // textual IPv4/IPv6 as Postfix sends it
  std::string helo;
  std::string sender;       // without angle brackets; empty for the null sender
  std::vector<std::string> recipients;
  std::string queue_id;     // Postfix queue id when known (milter: at EOM)
  std::uint32_t size_bytes = 0;
};

// What looks at the content at end of message; each part is optional. The message is parsed once
// and shared by the classifier and the fingerprinter.
struct content_checks {
  classify::classifier* scorer = nullptr;                    // null: content-blind (no spam probability)
  const fingerprint::fingerprinter* fingerprints = nullptr;  // null (or no tracker): campaigns off
  campaign::tracker* campaigns = nullptr;
  mime::limits limits;
};

// The header every relayed message gets (Postfix adds it at end of message).
inline constexpr std::string_view tag_header = "X-Portwarden";

// What the content checks found in one message: the classifier's probability and the one-way
// fingerprint, each absent when its check is off or there was no content. A simulator computes
// these once per message text and replays them (`decide`), so it takes the daemon's decision path.
struct content_verdict {
  std::optional<double> spam_probability;
  std::optional<fingerprint::signature> signature;
};

struct outcome {
  identity::resolution who;
  behavior::decision decision;
  std::optional<double> spam_probability;  // nullopt in content-blind mode / at RCPT
  campaign::membership campaign;           // empty id: no campaign (campaigns off, no text, at RCPT)
  std::string reasons;                     // plain words with numbers (behavior::describe), and the campaign id
  // Wire texts for the adapters:
  std::string tag_value;    // e.g. "level=watch; action=tag" — always set
  // The subscriber is at watch or above, or observe-only would have acted: the message is worth the
  // tag header even when the operator tags only flagged mail (config server.tag = "flagged").
  bool flagged = false;
  std::string defer_text;   // for defer: the text after "451 4.7.1 "
  std::string hold_reason;  // for hold: the quarantine/HOLD reason Postfix records
};

class decider {
 public:
  decider(behavior::engine& engine, const behavior::recipient_hasher& hasher);

  // At end of message: scores and fingerprints the content (as `checks` allow), records the message
  // in the campaign tracker and the engine, and decides. `raw_message` is the header block plus body
  // as received (possibly cut at the scan limit); empty means no content checks.
  outcome end_of_message(const identity::directory& dir, const envelope& env, std::string_view raw_message,
                         const content_checks& checks, std::int64_t now_ms) const;

  // The two halves of `end_of_message`: parse once and run the content checks (no state touched,
  // `recipients` are for removing personalisation from the fingerprint) ...
  static content_verdict assess(std::string_view raw_message, std::span<const std::string> recipients,
                                const content_checks& checks);
  // ... then record the message in the campaign tracker (when given) and the engine, and decide.
  outcome decide(const identity::directory& dir, const envelope& env, const content_verdict& content,
                 campaign::tracker* campaigns, std::int64_t now_ms) const;

  // At RCPT (policy service, milter RCPT stage), once per recipient: the cheap gate from the
  // subscriber's current level. When it defers, the attempt is recorded as evidence (a recipient
  // not seen before counts; a retry of a known one does not); `recipient` empty = record nothing.
  outcome at_recipient(const identity::directory& dir, std::string_view sasl_login, std::string_view client_addr,
                       std::string_view recipient, std::int64_t now_ms) const;

  // Hard bounces of mail `who` relayed (the relay's delivery log, attributed by queue id; or the
  // simulator's invalid recipients): recorded by the engine, which may move the level as for a
  // message. A subscriber the engine no longer knows records nothing (normal, no reasons).
  outcome bounced(identity::resolution who, std::uint32_t hard_bounces, std::int64_t now_ms) const;

 private:
  outcome finish(identity::resolution who, behavior::decision d, std::optional<double> probability,
                 campaign::membership campaign = {}) const;

  behavior::engine& _engine;
  const behavior::recipient_hasher& _hasher;
};

}  // namespace pw::relay
