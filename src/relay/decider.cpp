#include "relay/decider.hpp"

#include <cstdio>

namespace pw::relay {
namespace {

// Recipients beyond this are still counted by the engine through the hashes we pass, but a single
// envelope cannot make us allocate without bound (Postfix's own default limit is 1000).
constexpr std::size_t max_recipients_hashed = 10000;

std::string format_probability(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", p);
  return buf;
}

}  // namespace

decider::decider(behavior::engine& engine, const behavior::recipient_hasher& hasher)
    : _engine(engine), _hasher(hasher) {}

outcome decider::end_of_message(const identity::directory& dir, const envelope& env, std::string_view raw_message,
                                const content_checks& checks, std::int64_t now_ms) const {
  return decide(dir, env, assess(raw_message, env.recipients, checks), checks.campaigns, now_ms);
}

content_verdict decider::assess(std::string_view raw_message, std::span<const std::string> recipients,
                                const content_checks& checks) {
  content_verdict out;
  const bool fingerprinting = checks.fingerprints != nullptr && checks.campaigns != nullptr;
  if (raw_message.empty() || (checks.scorer == nullptr && !fingerprinting)) {
    return out;
  }
  const mime::message parsed = mime::parse(raw_message, checks.limits);
  if (checks.scorer != nullptr) {
    out.spam_probability = checks.scorer->score(parsed).probability;
  }
  if (fingerprinting) {
    const std::size_t n = std::min(recipients.size(), max_recipients_hashed);
    std::vector<std::string_view> rcpts(recipients.begin(), recipients.begin() + static_cast<std::ptrdiff_t>(n));
    out.signature = checks.fingerprints->compute(parsed, rcpts);
  }
  return out;
}

outcome decider::decide(const identity::directory& dir, const envelope& env, const content_verdict& content,
                        campaign::tracker* campaigns, std::int64_t now_ms) const {
  identity::resolution who = identity::resolve(dir, env.sasl_login, env.client_addr, {});
  std::vector<std::uint64_t> recipients;
  std::vector<std::uint64_t> domains;
  const std::size_t n = std::min(env.recipients.size(), max_recipients_hashed);
  recipients.reserve(n);
  domains.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    recipients.push_back(_hasher.recipient(env.recipients[i]));
    domains.push_back(_hasher.domain(env.recipients[i]));
  }
  campaign::membership campaign;
  if (campaigns != nullptr && content.signature) {
    campaign = campaigns->observe(*content.signature, who.who.id, now_ms);
  }
  behavior::message_event ev;
  ev.subscriber = who.who.id;
  ev.plan = who.who.plan;
  ev.now_ms = now_ms;
  // The client's identity is its HELO name *and* address: a login used from a new address on
  // every message (stolen credentials) changes it as surely as a bot's random HELO does, while a
  // subscriber's own machine keeps both.
  ev.helo_hash = _hasher.helo(env.helo + '\n' + env.client_addr);
  ev.sender_hash = _hasher.sender(env.sender);
  ev.recipient_hashes = recipients;
  ev.recipient_domain_hashes = domains;
  ev.spam_probability = content.spam_probability;
  ev.size_bytes = env.size_bytes;
  if (!campaign.id.empty()) {
    ev.campaign = behavior::campaign_evidence{campaign.distinct_subscribers, campaign.active};
  }
  behavior::decision d = _engine.on_message(ev);
  return finish(std::move(who), d, content.spam_probability, std::move(campaign));
}

outcome decider::at_recipient(const identity::directory& dir, std::string_view sasl_login, std::string_view client_addr,
                              std::string_view recipient, std::int64_t now_ms) const {
  identity::resolution who = identity::resolve(dir, sasl_login, client_addr, {});
  // Empty (the adapter did not get the address): the engine answers without recording.
  const std::uint64_t recipient_hash = recipient.empty() ? 0 : _hasher.recipient(recipient);
  const std::uint64_t domain_hash = recipient.empty() ? 0 : _hasher.domain(recipient);
  behavior::decision d = _engine.on_recipient(who.who.id, who.who.plan, now_ms, recipient_hash, domain_hash);
  return finish(std::move(who), d, std::nullopt);
}

outcome decider::bounced(identity::resolution who, std::uint32_t hard_bounces, std::int64_t now_ms) const {
  const std::optional<behavior::decision> d = _engine.on_bounce(who.who.id, now_ms, hard_bounces);
  return finish(std::move(who), d.value_or(behavior::decision{}), std::nullopt);
}

outcome decider::finish(identity::resolution who, behavior::decision d, std::optional<double> probability,
                        campaign::membership campaign) const {
  outcome out;
  out.who = std::move(who);
  out.decision = d;
  out.spam_probability = probability;
  out.reasons = behavior::describe(d.reasons_view());
  // The campaign id is opaque (keyed); naming it lets an operator look the campaign up. Only
  // campaigns of several subscribers are worth naming: a campaign of one is that sender's own mail.
  if (!campaign.id.empty() && campaign.distinct_subscribers >= 2) {
    out.reasons += (out.reasons.empty() ? "" : "; ") + std::string("campaign ") + campaign.id + " sent by " +
                   std::to_string(campaign.distinct_subscribers) + " subscribers" +
                   (campaign.active ? " (active)" : "");
  }
  out.campaign = std::move(campaign);
  out.tag_value = "level=" + std::string(behavior::level_name(d.lvl)) +
                  "; action=" + std::string(behavior::action_name(d.act));
  out.flagged = d.lvl != behavior::level::normal;
  if (d.observe_only && d.intended != d.act) {
    out.tag_value += "; observe-only=" + std::string(behavior::action_name(d.intended));
    out.flagged = true;
  }
  if (probability) {
    out.tag_value += "; p=" + format_probability(*probability);
  }
  // Plain words for the sending client (its MTA logs them, a person may read them): what happened
  // and that nothing is lost. No internals beyond the counts the subscriber already knows.
  out.defer_text = "Unusual sending volume from your connection; mail is delayed, not lost. Try again later";
  out.hold_reason = "portwarden: held for review: " + out.reasons;
  return out;
}

}  // namespace pw::relay
