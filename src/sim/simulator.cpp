#include "sim/simulator.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <optional>
#include <queue>
#include <unordered_map>

#include "desk/lifecycle.hpp"
#include "desk/notice.hpp"
#include "ingest/attribution.hpp"
#include "sim/campaign_mutator.hpp"

namespace pw::sim {
namespace {

using behavior::level;
constexpr std::int64_t minute_ms = 60'000;
constexpr std::int64_t hour_ms = 3'600'000;
constexpr std::int64_t day_ms = 86'400'000;
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

// splitmix64: small, fast, and the same on every platform (std distributions are not).
class rng {
 public:
  explicit rng(std::uint64_t seed = 0) : _s(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (_s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double in(range r) { return r.low + (r.high - r.low) * uniform(); }
  std::int64_t in_ms(range r) { return static_cast<std::int64_t>(in(r)); }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  std::uint64_t count_in(range r) {  // an integer in [low, high]
    const auto lo = static_cast<std::uint64_t>(std::llround(r.low));
    const auto hi = static_cast<std::uint64_t>(std::llround(r.high));
    return lo + below(hi - lo + 1);
  }
  bool chance(double p) { return uniform() < p; }
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }
  double normal() {  // Box-Muller, one of the pair
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::uint64_t _s;
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  rng r(a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL));
  return r.next();
}

std::string hex(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(12, '0');
  for (int i = 11; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = digits[v & 15];
  return out;
}

// Synthetic names, all under RFC 2606 reserved domains.
std::string subscriber_address(std::uint64_t i) {
  const std::uint64_t n = i + 256;  // skip 10.0.0.x
  return "10." + std::to_string((n >> 16) & 255) + "." + std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
}
std::string attacker_address(rng& r) {  // the documentation networks TEST-NET-2 and -3 (RFC 5737)
  return (r.chance(0.5) ? "198.51.100." : "203.0.113.") + std::to_string(1 + r.below(254));
}
// Destination domains: a few big mailbox providers take most mail, then a long tail.
std::string destination_domain(rng& r) {
  const double u = r.uniform();
  if (u < 0.6) return "mail" + std::to_string(r.below(8)) + ".example.com";
  if (u < 0.85) return "isp" + std::to_string(r.below(200)) + ".example.net";
  return "d" + std::to_string(r.below(200'000)) + ".example.org";
}
std::string contact_address(std::uint64_t sub, std::uint64_t contact) {
  rng r(mix(sub, contact));
  return "c" + std::to_string(contact) + "." + std::to_string(sub) + "@" + destination_domain(r);
}
std::string random_recipient(rng& r) { return "r" + hex(r.next()) + "@" + destination_domain(r); }

struct slot_title {
  std::string_view kind;
  std::string_view title;
  bool compromised;
};
constexpr std::array<slot_title, 13> slot_titles = {{
    {"population", "Population (people and small businesses)", false},
    {"s1_high_rate", "S1 high-rate bot", true},
    {"s2_steady", "S2 steady bot", true},
    {"s3_low_slow", "S3 low-and-slow bot", true},
    {"s4_campaign", "S4 campaign across many bots", true},
    {"s5_burst", "S5 hijacked account, burst", true},
    {"s5_trickle", "S5 hijacked account, trickle", true},
    {"s6_contacts", "S6 hijacked account writing to contacts", true},
    {"s7_hijacked", "S7 newsletter account hijacked", true},
    {"s7_newsletter", "S7 small-business newsletter", false},
    {"s8_holiday", "S8 holiday burst", false},
    {"s9_list_owner", "S9 mailing-list owner", false},
    {"s10_printer", "S10 alert loop / printer", false},
}};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Content library

result<content_library> build_library(std::span<const std::string> ham, std::span<const std::string> spam,
                                      const library_options& opts, const content_assessor& assess) {
  if (ham.empty() || spam.empty()) {
    return make_error(errc::invalid_input, "the simulator needs corpus ham and spam (got " +
                                               std::to_string(ham.size()) + " ham, " + std::to_string(spam.size()) +
                                               " spam)");
  }
  content_library lib;
  // The last `newsletters` ham texts are the newsletters' and nobody else's: a text people also
  // send would join the newsletter's copies into a cross-subscriber campaign.
  const std::size_t reserved = ham.size() > opts.newsletters ? opts.newsletters : 0;
  const std::span<const std::string> people = ham.first(ham.size() - reserved);
  lib.ham.reserve(people.size());
  for (const std::string& raw : people) {
    content_item item;
    item.verdict = assess(raw, {});
    if (opts.keep_raw) item.raw = raw;
    lib.ham.push_back(std::move(item));
  }
  const auto pool = [&](std::string_view template_raw, std::uint64_t seed, const mutation_settings& ms,
                        std::size_t n) -> result<std::vector<content_item>> {
    auto mutator = campaign_mutator::create(template_raw, seed, ms);
    if (!mutator) return mutator.error();
    std::vector<content_item> items;
    items.reserve(n);
    for (std::size_t v = 0; v < n; ++v) {
      variant var = mutator->make(v);
      content_item item;
      const std::string to[] = {var.to.address};
      item.verdict = assess(var.raw, to);
      item.personalised_to = var.to.address;
      if (opts.keep_raw) item.raw = std::move(var.raw);
      items.push_back(std::move(item));
    }
    return items;
  };
  for (std::size_t c = 0; c < opts.campaigns; ++c) {
    auto items = pool(spam[c % spam.size()], mix(opts.seed, 1000 + c), mutation_settings{}, opts.variants_per_campaign);
    if (!items) return items.error();
    lib.campaigns.push_back(std::move(*items));
  }
  mutation_settings personal_only;
  personal_only.enabled = mutation::personalisation;
  for (std::size_t c = 0; c < opts.newsletters; ++c) {
    // Newsletters are ham texts from the far end of the list, away from the first people's picks.
    auto items = pool(ham[ham.size() - 1 - (c % ham.size())], mix(opts.seed, 2000 + c), personal_only,
                      opts.copies_per_newsletter);
    if (!items) return items.error();
    lib.newsletters.push_back(std::move(*items));
  }
  return lib;
}

// ---------------------------------------------------------------------------------------------
// The daemon's decision path, in process

in_process_relay::in_process_relay(behavior::engine& engine, const behavior::recipient_hasher& hasher,
                                   const identity::directory& directory, campaign::tracker* campaigns)
    : _engine(engine), _decider(engine, hasher), _directory(directory), _campaigns(campaigns) {}

result<submission_result> in_process_relay::submit(const submission& s) {
  submission_result out;
  out.accepted.assign(s.recipients.size(), false);
  bool any = false;
  for (std::size_t i = 0; i < s.recipients.size(); ++i) {
    const relay::outcome o = _decider.at_recipient(_directory, s.login, s.client_addr, s.recipients[i], s.now_ms);
    out.level = o.decision.lvl;
    if (o.decision.act == behavior::action::defer) continue;
    out.accepted[i] = true;
    any = true;
    out.held = out.held || o.decision.act == behavior::action::hold;  // Postfix HOLD: the whole message
  }
  if (!any) return out;
  relay::envelope env;
  env.sasl_login = std::string(s.login);
  env.client_addr = std::string(s.client_addr);
  env.helo = std::string(s.helo);
  env.sender = std::string(s.sender);
  for (std::size_t i = 0; i < s.recipients.size(); ++i) {
    if (out.accepted[i]) env.recipients.push_back(s.recipients[i]);
  }
  env.size_bytes = static_cast<std::uint32_t>(s.content->raw.size());
  const relay::outcome o = _decider.decide(_directory, env, s.content->verdict, _campaigns, s.now_ms);
  out.level = o.decision.lvl;
  if (out.level >= behavior::level::watch) out.reasons = o.reasons;
  if (o.decision.act == behavior::action::defer) {
    out.tempfailed = true;
    out.accepted.assign(s.recipients.size(), false);
    out.held = false;
  } else if (o.decision.act == behavior::action::hold) {
    out.held = true;
  }
  return out;
}

result<void> in_process_relay::release(std::string_view client_addr, std::string_view login, std::int64_t now_ms) {
  const identity::resolution who = identity::resolve(_directory, login, client_addr, {});
  _engine.release(who.who.id, now_ms);
  return {};
}

behavior::level in_process_relay::bounced(std::string_view client_addr, std::string_view login,
                                          std::uint32_t hard_bounces, std::int64_t now_ms, std::string& reasons) {
  const identity::resolution who = identity::resolve(_directory, login, client_addr, {});
  const relay::outcome o = _decider.bounced(who, hard_bounces, now_ms);
  if (o.decision.lvl >= behavior::level::watch) reasons = o.reasons;
  return o.decision.lvl;
}

desk::recent_sending in_process_relay::recent_sending(std::string_view client_addr, std::string_view login,
                                                      std::int64_t now_ms) const {
  const identity::resolution who = identity::resolve(_directory, login, client_addr, {});
  desk::recent_sending out;
  if (const auto seen = _engine.report(who.who.id, now_ms)) {
    out.messages_10min = seen->windows[static_cast<std::size_t>(behavior::window::ten_minutes)].messages;
    out.since_last_ms = std::max<std::int64_t>(now_ms - seen->last_seen_ms, 0);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The simulation

namespace {

// One message an actor wants to send.
struct message {
  bool spam = false;
  std::string addr;
  std::string login;
  std::string helo;
  std::string sender;
  std::vector<std::string> rcpts;
  const content_item* content = nullptr;
};

struct subscriber_state {
  bool business = false;
  bool uses_login = false;
  bool list_login = false;  // listed in the directory by login too (S7 senders)
  bool roams = false;       // also sends from a phone on changing mobile addresses
  std::uint8_t slot = 0;    // scorecard slot of its legitimate role
  level max_level = level::normal;
  level last_level = level::normal;  // after its last submission: the desk hears of changes only
  std::int64_t first_throttle_ms = -1;
  std::int64_t first_hold_ms = -1;
  bool held = false;
  std::int64_t held_until = 0;
  std::int64_t cleanup_at = never;  // when the customer's answer may end this hold (never: none coming)
  std::int32_t compromise = -1;
  std::uint32_t contacts = 0;  // correspondents so far (contact indices 0..contacts-1)
  std::array<std::uint32_t, 4> recent{};
  std::uint8_t recent_count = 0;
  std::uint8_t recent_pos = 0;
};

struct compromise_state {
  std::uint32_t sub = 0;
  std::uint8_t slot = 0;
  std::int64_t start_ms = -1;  // first compromised message
  std::int64_t flag_ms = -1, detect_ms = -1, contain_ms = -1;
  std::uint64_t relayed_before = 0, relayed = 0, held = 0, deferred = 0;
  bool stopped = false;  // cleaned up
  double invalid_share = 0;  // share of its recipients that do not exist (hard bounces)
  // Held messages fast-forwarded without the engine (see actor::skip_until), as the engine's
  // 10-minute window would count them at `skipped_at`: what the desk's verified release reads.
  double skipped_recent = 0;
  std::int64_t skipped_at = -1;
  std::int64_t skipped_last = -1;  // the last fast-forwarded message
};

// The engine's 10-minute window over messages that skip the engine: each adds
// exp(-(until - t) / 10 min) at `until` (those older than an hour add under 0.3 % and are left out).
struct skip_tally {
  std::int64_t until;
  double recent = 0;
  std::int64_t last = -1;
  void add(std::int64_t t) {
    constexpr double ten_minutes_ms = 600'000;
    if (until - t < 6 * 600'000) recent += std::exp(-static_cast<double>(until - t) / ten_minutes_ms);
    last = t;
  }
};

class world;

// Something that sends mail on a schedule.
class actor {
 public:
  actor(std::uint32_t host, std::int32_t comp, std::uint64_t seed, std::int64_t first_ms)
      : sub(host), compromise(comp), r(seed), next_ms(first_ms) {}
  virtual ~actor() = default;
  // Fills `m` with the message due at next_ms (returns false: nothing to send this time) and
  // moves next_ms on (never: done).
  virtual bool emit(world& w, message& m) = 0;
  // Moves past the messages due before `until` without composing them (they would go straight to
  // the hold queue) and returns how many there were; 0 and nothing moved for actors that have no
  // such fast path (their messages are composed one by one). Each skipped message's time goes to
  // `tally`.
  virtual std::uint64_t skip_until(skip_tally& tally) {
    (void)tally;
    return 0;
  }

  std::uint32_t sub;
  std::int32_t compromise;
  rng r;
  std::int64_t next_ms;
};

class world {
 public:
  world(const scenario& scen, const content_library& library, const run_options& o)
      : sc(scen), lib(library), opts(o) {}

  const scenario& sc;
  const content_library& lib;
  const run_options& opts;
  std::vector<subscriber_state> subs;
  std::vector<subscriber_plan> plans;
  std::vector<compromise_state> compromises;
  std::vector<std::unique_ptr<actor>> actors;
  std::size_t next_campaign = 0;
  std::size_t next_newsletter = 0;

  std::size_t take_campaign() { return next_campaign++ % lib.campaigns.size(); }
  std::size_t take_newsletter() { return next_newsletter++ % std::max<std::size_t>(1, lib.newsletters.size()); }

  // Seconds of the simulated week → the rhythm multiplier for a person of this kind.
  double rhythm(std::int64_t t, bool business) const {
    const population_settings& p = sc.population;
    const std::int64_t abs = opts.start_epoch_ms + t;
    const double hour = static_cast<double>(abs % day_ms) / hour_ms;
    const std::int64_t weekday = (abs / day_ms + 3) % 7;  // 1970-01-01 was a Thursday: 0 = Monday
    const double peak = business ? p.business_peak_hour : p.residential_peak_hour;
    double f = 1.0 + p.diurnal_amplitude * std::cos(2.0 * std::numbers::pi * (hour - peak) / 24.0);
    if (weekday >= 5) f *= business ? p.business_weekend_factor : p.residential_weekend_factor;
    return f;
  }
  double rhythm_max(bool business) const {
    const population_settings& p = sc.population;
    return (1.0 + p.diurnal_amplitude) *
           std::max(1.0, business ? p.business_weekend_factor : p.residential_weekend_factor);
  }

  void fill_identity(std::uint32_t s, message& m) const {
    m.addr = plans[s].address;
    m.login = plans[s].login;
    m.helo = "pc" + std::to_string(s) + ".home.example";
    m.sender = "user" + std::to_string(s) + "@isp.example";
  }

  // A person's recipient: a recent correspondent, a known contact (frequent ones more often), or
  // someone new.
  std::string person_recipient(std::uint32_t s, rng& r) {
    subscriber_state& st = subs[s];
    const population_settings& p = sc.population;
    std::uint32_t c;
    if (st.contacts == 0 || r.chance(p.new_recipient_share)) {
      c = st.contacts++;
    } else if (st.recent_count > 0 && r.chance(p.reply_share)) {
      c = st.recent[r.below(st.recent_count)];
    } else {
      const double u = r.uniform();
      c = static_cast<std::uint32_t>(st.contacts * u * u);
    }
    st.recent[st.recent_pos] = c;
    st.recent_pos = static_cast<std::uint8_t>((st.recent_pos + 1) % st.recent.size());
    st.recent_count = static_cast<std::uint8_t>(std::min<std::size_t>(st.recent_count + 1, st.recent.size()));
    return contact_address(s, c);
  }

  std::size_t recipients_per_message(rng& r) const {
    const population_settings& p = sc.population;
    if (r.chance(p.many_share)) return 5 + r.below(static_cast<std::uint64_t>(p.max_recipients) - 4);
    double total = 0;
    for (double w : p.recipient_weights) total += w;
    double u = r.uniform() * total;
    for (std::size_t i = 0; i < p.recipient_weights.size(); ++i) {
      if (u < p.recipient_weights[i]) return i + 1;
      u -= p.recipient_weights[i];
    }
    return 1;
  }

  const content_item* ham(rng& r) const { return &lib.ham[r.below(lib.ham.size())]; }
};

// An ordinary person or small business: a Poisson process of its own rate, shaped by the rhythm.
class person final : public actor {
 public:
  person(world& w, std::uint32_t host, std::uint64_t seed, double per_day)
      : actor(host, -1, seed, 0), _business(w.subs[sub].business) {
    _max_rate = per_day * w.rhythm_max(_business) / day_ms;
    next_ms = _max_rate > 0 ? 0 : never;
    advance(w);
  }
  bool emit(world& w, message& m) override {
    w.fill_identity(sub, m);
    if (w.subs[sub].roams && r.chance(w.sc.population.phone_message_share)) {
      // The phone: its own HELO name, and the mobile network's address of the moment (CGNAT).
      m.helo = "phone" + std::to_string(sub) + ".mobile.example";
      m.addr = "100." + std::to_string(64 + r.below(64)) + "." + std::to_string(r.below(256)) + "." +
               std::to_string(1 + r.below(254));
    }
    const std::size_t n = w.recipients_per_message(r);
    for (std::size_t i = 0; i < n; ++i) m.rcpts.push_back(w.person_recipient(sub, r));
    m.content = w.ham(r);
    advance(w);
    return true;
  }

 private:
  void advance(world& w) {  // thinning: candidate times at the peak rate, kept at rhythm/peak
    if (_max_rate <= 0) return;
    const double peak = w.rhythm_max(_business);
    for (;;) {
      next_ms += static_cast<std::int64_t>(r.exponential(1.0 / _max_rate)) + 1;
      if (next_ms >= w.opts.duration_ms || r.chance(w.rhythm(next_ms, _business) / peak)) return;
    }
  }
  bool _business;
  double _max_rate;  // candidates per ms
};

// Bots on a subscriber's machine: S1 (blocks at a high rate, 1 recipient, forged sender and HELO),
// S2 (steady hours every day, some envelopes with many recipients, campaign switches), S3 (bursts
// of a few messages, a few per hour). S4's bots are S2 or S3 bots sharing one campaign.
class bot final : public actor {
 public:
  enum class style : std::uint8_t { high_rate, steady, slow };
  // `campaigns`: the templates of its entry (or botnet); it starts on a random one and an S2 bot
  // switches to the next every campaign_switch.
  bot(std::uint32_t host, std::int32_t comp, std::uint64_t seed, std::int64_t start, style s,
      const actor_settings& a, std::vector<std::size_t> campaigns)
      : actor(host, comp, seed, start), _style(s), _a(a), _campaigns(std::move(campaigns)) {
    _current = r.below(_campaigns.size());
    _rate_per_ms = (s == style::slow ? r.in(a.rate_per_hour) / hour_ms : r.in(a.rate_per_minute) / minute_ms);
    _helo = hex(r.next()) + ".example";
    _sender = "info@" + hex(r.next()) + ".example.org";
    _switch_at = start + r.in_ms(a.campaign_switch_ms);
    begin_block(start);
  }
  bool emit(world& w, message& m) override {
    w.fill_identity(sub, m);
    if (_style == style::high_rate) {
      m.helo = hex(r.next()) + ".example";
      m.sender = hex(r.next()).substr(0, 8) + "@" + hex(r.next()) + ".example.org";
    } else {
      m.helo = _helo;
      m.sender = _sender;
    }
    std::size_t n = 1;
    if (_style == style::steady && r.chance(_a.multi_recipient_share)) n = r.count_in(_a.multi_recipients);
    for (std::size_t i = 0; i < n; ++i) m.rcpts.push_back(random_recipient(r));
    if (_style == style::steady && next_ms >= _switch_at) {
      _current = (_current + 1) % _campaigns.size();
      _switch_at = next_ms + r.in_ms(_a.campaign_switch_ms);
    }
    const auto& pool = w.lib.campaigns[_campaigns[_current]];
    m.content = &pool[_variant++ % pool.size()];
    m.spam = true;
    advance();
    return true;
  }

  std::uint64_t skip_until(skip_tally& tally) override {
    std::uint64_t n = 0;
    for (; next_ms < tally.until; ++n) {
      tally.add(next_ms);
      advance();
    }
    return n;
  }

 private:
  void begin_block(std::int64_t t) {
    _block_start = t;
    if (_style == style::high_rate) {
      _block_end = t + r.in_ms(_a.block_ms);
    } else if (_style == style::steady) {
      _block_end = t + r.in_ms(_a.block_ms);  // active hours of this day
    } else {
      _block_end = never;
    }
    next_ms = t;
    _burst_left = 0;
  }
  void advance() {
    if (_style == style::slow) {
      // Bursts of 2–5 a few seconds apart; bursts spaced so the mean rate is the actor's.
      if (_burst_left > 0) {
        --_burst_left;
        next_ms += 2'000 + static_cast<std::int64_t>(r.below(30'000));
        return;
      }
      const double burst = std::max(1.0, (_a.burst.low + _a.burst.high) / 2);
      next_ms += static_cast<std::int64_t>(r.exponential(burst / _rate_per_ms));
      _burst_left = static_cast<std::uint32_t>(r.count_in(_a.burst)) - 1;
      return;
    }
    next_ms += static_cast<std::int64_t>(r.exponential(1.0 / _rate_per_ms)) + 1;
    if (next_ms < _block_end) return;
    const std::int64_t gap = _style == style::high_rate ? r.in_ms(_a.gap_ms) : day_ms - (_block_end - _block_start);
    begin_block(_block_end + std::max<std::int64_t>(gap, minute_ms));
  }
  style _style;
  actor_settings _a;
  std::vector<std::size_t> _campaigns;
  std::size_t _current = 0;
  double _rate_per_ms = 0;
  std::string _helo, _sender;
  std::int64_t _block_start = 0, _block_end = 0, _switch_at = never;
  std::uint32_t _burst_left = 0;
  std::uint64_t _variant = 0;
};

// S5: a hijacked submission account used from many addresses (burst or trickle); also S7-hijacked.
class hijacker final : public actor {
 public:
  hijacker(world& w, std::uint32_t host, std::int32_t comp, std::uint64_t seed, std::int64_t start, bool burst,
           const actor_settings& a)
      : actor(host, comp, seed, start), _campaign(w.take_campaign()) {
    const double rcpt_per_hour = burst ? r.in(a.burst_recipients_per_hour) : r.in(a.trickle_recipients_per_hour);
    _end = start + (burst ? r.in_ms(a.burst_ms) : r.in_ms(a.trickle_ms));
    _rcpts_per_message = burst ? 5 : 2;
    _interval_ms = static_cast<double>(hour_ms) * _rcpts_per_message / rcpt_per_hour;
    const std::size_t ips = r.count_in(a.login_ips);
    for (std::size_t i = 0; i < ips; ++i) _ips.push_back(attacker_address(r));
  }
  bool emit(world& w, message& m) override {
    w.fill_identity(sub, m);
    m.addr = _ips[r.below(_ips.size())];
    m.helo = hex(r.next()) + ".example";
    const std::size_t n = 1 + r.below(2 * _rcpts_per_message - 1);
    for (std::size_t i = 0; i < n; ++i) m.rcpts.push_back(random_recipient(r));
    const auto& pool = w.lib.campaigns[_campaign];
    m.content = &pool[_variant++ % pool.size()];
    m.spam = true;
    step();
    return true;
  }
  std::uint64_t skip_until(skip_tally& tally) override {
    std::uint64_t n = 0;
    for (; next_ms < tally.until; ++n) {
      tally.add(next_ms);
      step();
    }
    return n;
  }

 private:
  void step() {
    next_ms += static_cast<std::int64_t>(r.exponential(_interval_ms)) + 1;
    if (next_ms >= _end) next_ms = never;
  }
  std::size_t _campaign;
  std::int64_t _end = never;
  std::size_t _rcpts_per_message = 1;
  double _interval_ms = 1;
  std::vector<std::string> _ips;
  std::uint64_t _variant = 0;
};

// S6: a hijacked account writing to the victim's own contacts with many BCC recipients.
class contacts_abuser final : public actor {
 public:
  contacts_abuser(std::uint32_t host, std::int32_t comp, std::uint64_t seed, std::int64_t start,
                  const actor_settings& a, std::size_t campaign)
      : actor(host, comp, seed, start), _a(a), _campaign(campaign) {
    _left = r.count_in(a.messages);
  }
  bool emit(world& w, message& m) override {
    w.fill_identity(sub, m);
    const std::size_t n = r.count_in(_a.bcc_recipients);
    const std::uint32_t book = std::max<std::uint32_t>(w.subs[sub].contacts, 20);
    for (std::size_t i = 0; i < n; ++i) {
      m.rcpts.push_back(r.chance(_a.known_contact_share) ? contact_address(sub, r.below(book)) : random_recipient(r));
    }
    const auto& pool = w.lib.campaigns[_campaign];
    m.content = &pool[_sent % pool.size()];
    m.spam = true;
    ++_sent;
    next_ms = --_left == 0 ? never : next_ms + 2 * minute_ms + static_cast<std::int64_t>(r.below(20 * minute_ms));
    return true;
  }

 private:
  actor_settings _a;
  std::size_t _campaign;
  std::uint64_t _left = 1, _sent = 0;
};

// S7: a small business's weekly newsletter, personalised copies to a stable list at a steady rate.
class newsletter final : public actor {
 public:
  newsletter(std::uint32_t host, std::uint64_t seed, std::int64_t start, const actor_settings& a, std::size_t pool)
      : actor(host, -1, seed, start), _a(a), _pool(pool) {
    _list = r.count_in(a.copies);
    _issue_start = start;
  }
  bool emit(world& w, message& m) override {
    w.fill_identity(sub, m);
    m.sender = "news@biz" + std::to_string(sub) + ".example";
    m.rcpts.push_back("m" + std::to_string(_copy) + ".list" + std::to_string(sub) + "@" + list_domain(_copy));
    const auto& pool = w.lib.newsletters[_pool];
    m.content = &pool[_copy % pool.size()];
    if (++_copy >= _list) {
      _copy = 0;
      _issue_start += _a.period_ms;
      next_ms = _issue_start;
    } else {
      next_ms += static_cast<std::int64_t>(minute_ms / _a.newsletter_rate_per_minute);
    }
    return true;
  }

 private:
  std::string list_domain(std::uint64_t i) const {
    rng d(mix(sub, i));
    return destination_domain(d);
  }
  actor_settings _a;
  std::size_t _pool;
  std::uint64_t _list = 0, _copy = 0;
  std::int64_t _issue_start = 0;
};

// S8: greetings to many known contacts in one evening.
class holiday final : public actor {
 public:
  holiday(std::uint32_t host, std::uint64_t seed, std::int64_t start, const actor_settings& a)
      : actor(host, -1, seed, start) {
    _left = r.count_in(a.holiday_contacts);
  }
  bool emit(world& w, message& m) override {
    w.fill_identity(sub, m);
    const std::size_t n = std::min<std::uint64_t>(_left, 1 + r.below(8));
    const std::uint32_t book = std::max<std::uint32_t>(w.subs[sub].contacts, 1);
    for (std::size_t i = 0; i < n; ++i) m.rcpts.push_back(contact_address(sub, (_next_contact++) % std::max<std::uint32_t>(book, 150)));
    m.content = w.ham(r);
    _left -= n;
    next_ms = _left == 0 ? never : next_ms + minute_ms + static_cast<std::int64_t>(r.below(6 * minute_ms));
    return true;
  }

 private:
  std::uint64_t _left = 0;
  std::uint32_t _next_contact = 0;
};

// S9: a mailing-list server fanning each post out to its members in batches.
class list_owner final : public actor {
 public:
  list_owner(std::uint32_t host, std::uint64_t seed, std::int64_t start, const actor_settings& a)
      : actor(host, -1, seed, start), _a(a) {
    _members = r.count_in(a.members);
    _posts_per_ms = r.in(a.posts_per_day) / day_ms;
    next_ms = start + static_cast<std::int64_t>(r.exponential(1.0 / std::max(_posts_per_ms, 1e-12)));
  }
  bool emit(world& w, message& m) override {
    w.fill_identity(sub, m);
    m.sender = "list-bounces@lists.biz" + std::to_string(sub) + ".example";
    if (_sent == 0) {
      _post = w.ham(r);
      _spacing = r.in_ms(_a.fanout_ms) / std::max<std::uint64_t>(1, batches());
    }
    const auto batch = static_cast<std::uint64_t>(_a.batch_recipients);
    for (std::uint64_t i = _sent; i < std::min(_members, _sent + batch); ++i) {
      rng d(mix(sub, i));
      m.rcpts.push_back("member" + std::to_string(i) + "@" + destination_domain(d));
    }
    _sent += batch;
    m.content = _post;
    if (_sent >= _members) {
      _sent = 0;
      next_ms += static_cast<std::int64_t>(r.exponential(1.0 / std::max(_posts_per_ms, 1e-12))) + 1;
    } else {
      next_ms += std::max<std::int64_t>(_spacing, 1);
    }
    return true;
  }

 private:
  std::uint64_t batches() const {
    const auto batch = static_cast<std::uint64_t>(_a.batch_recipients);
    return (_members + batch - 1) / batch;
  }
  actor_settings _a;
  std::uint64_t _members = 0, _sent = 0;
  double _posts_per_ms = 0;
  const content_item* _post = nullptr;
  std::int64_t _spacing = 0;
};

// S10: a device mailing the same alert to the same few addresses, forever.
class printer final : public actor {
 public:
  printer(world& w, std::uint32_t host, std::uint64_t seed, std::int64_t start, const actor_settings& a)
      : actor(host, -1, seed, start), _interval(a.interval_ms) {
    const std::size_t n = r.count_in(a.fixed_recipients);
    for (std::size_t i = 0; i < n; ++i) _rcpts.push_back(random_recipient(r));
    _alert = w.ham(r);
  }
  bool emit(world& w, message& m) override {
    w.fill_identity(sub, m);
    m.helo = "printer" + std::to_string(sub) + ".home.example";
    m.sender = "scanner@printer" + std::to_string(sub) + ".example";
    m.rcpts = _rcpts;
    m.content = _alert;
    next_ms += _interval;
    return true;
  }

 private:
  std::int64_t _interval;
  std::vector<std::string> _rcpts;
  const content_item* _alert = nullptr;
};

// ---------------------------------------------------------------------------------------------
// The abuse desk's cases on simulated time

// Why a person got involved in a case (the first reason counts).
enum class escalation : std::uint8_t { none, support_call, repeat_self_help, reoffence, fix_failed, unanswered };

// One case: the ledger's row, changed only through the desk's rules, and the customer's answer,
// drawn when the case opens.
struct sim_case {
  ledger::case_row row;
  std::uint32_t sub = 0;
  bool compromised = false;  // the subscriber hosted an active compromise when the case opened
  escalation why = escalation::none;
  std::int64_t first_notice_ms = -1;
  // The answer: whether the customer acts, how, how long after the first notice, and whether the
  // clean-up works (compromised only).
  bool acts = false;
  bool calls = false;
  bool cleanup_works = false;
  std::int64_t delay_ms = 0;
  std::int64_t answer_at = -1;  // when the answer event is due (-1: none scheduled)
  std::uint32_t tries = 0;      // answers drawn again after "still sending" (verified release)
  std::int64_t cleaned_at = -1;  // a clean-up that works: when it happens (see plan_answer)
};

// The desk's per-subscriber memory (the ledger's queries in the daemon).
struct desk_subscriber {
  std::int32_t unresolved = -1;  // index into the cases
  std::int32_t last_resolved = -1;
  std::vector<std::int64_t> notices;  // when notices went out (only the last 24 h are read)
  std::vector<std::int64_t> fixes;    // when the customer said "I have fixed it"
};

std::int64_t count_since(std::vector<std::int64_t>& times, std::int64_t since) {
  std::erase_if(times, [since](std::int64_t t) { return t <= since; });
  return static_cast<std::int64_t>(times.size());
}

std::uint8_t slot_of(std::string_view kind) {
  for (std::size_t i = 0; i < slot_titles.size(); ++i) {
    if (slot_titles[i].kind == kind) return static_cast<std::uint8_t>(i);
  }
  return 0;
}

}  // namespace

struct simulator::impl {
  impl(const scenario& sc, const content_library& lib, const run_options& o) : w(sc, lib, o), opts(o) {}
  world w;
  run_options opts;
  std::vector<std::uint8_t> slots_used = std::vector<std::uint8_t>(slot_titles.size(), 0);

  // Pending work that is not an actor's schedule.
  struct retry_rec {
    std::uint32_t sub = 0;
    const content_item* content = nullptr;
    std::vector<std::string> rcpts;
    std::int64_t first_try = 0;
    std::uint32_t attempt = 0;
  };
  std::vector<retry_rec> retries;
  std::vector<std::uint32_t> free_retries;
  std::unordered_map<std::uint32_t, std::vector<std::int64_t>> held_legit;  // sub → first tries waiting in hold
  std::unordered_map<std::uint32_t, std::string> first_throttle_why;         // sub → reasons (for --verdicts)
  std::unordered_map<std::uint32_t, std::string> highest_why;                // sub → reasons on reaching its highest level

  result<void> place(std::uint64_t seed);
  // `invalid`: the range the compromise's share of non-existent recipients is drawn from.
  std::int32_t compromise(std::uint32_t sub, std::string_view slot_kind, range invalid);
  std::vector<std::uint32_t> pick_hosts(rng& r, std::size_t n, bool business, bool login, const char* what,
                                        result<void>& err);
};

std::int32_t simulator::impl::compromise(std::uint32_t sub, std::string_view slot_kind, range invalid) {
  compromise_state c;
  c.sub = sub;
  c.slot = slot_of(slot_kind);
  // From its own generator, so that the bounces change no other draw of the run.
  c.invalid_share = rng(mix(mix(opts.seed, 7), w.compromises.size())).in(invalid);
  slots_used[c.slot] = 1;
  w.compromises.push_back(c);
  const auto idx = static_cast<std::int32_t>(w.compromises.size() - 1);
  w.subs[sub].compromise = idx;
  return idx;
}

// Distinct hosts of the wanted kind that have no role yet.
std::vector<std::uint32_t> simulator::impl::pick_hosts(rng& r, std::size_t n, bool business, bool login,
                                                       const char* what, result<void>& err) {
  std::vector<std::uint32_t> out;
  const std::size_t total = w.subs.size();
  std::size_t tries = 0;
  while (out.size() < n && tries < 50 * (n + 10)) {
    ++tries;
    const auto s = static_cast<std::uint32_t>(r.below(total));
    subscriber_state& st = w.subs[s];
    if (st.business != business || (login && !st.uses_login) || st.slot != 0 || st.compromise >= 0) continue;
    st.slot = 255;  // taken (the caller sets the real slot)
    out.push_back(s);
  }
  if (out.size() < n && err) {
    err = make_error(errc::invalid_config, std::string("not enough ") + what + " subscribers for the scenario's actors (" +
                                               std::to_string(n) + " needed); run with more --subscribers");
  }
  for (std::uint32_t s : out) w.subs[s].slot = 0;
  return out;
}

result<void> simulator::impl::place(std::uint64_t seed) {
  const population_settings& p = w.sc.population;
  const std::uint64_t n = opts.subscribers;
  rng r(mix(seed, 1));
  w.subs.resize(n);
  w.plans.resize(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    subscriber_state& st = w.subs[i];
    subscriber_plan& pl = w.plans[i];
    st.business = !r.chance(p.residential_share);
    st.uses_login = !st.business && r.chance(p.login_share);
    st.roams = st.uses_login && r.chance(p.roaming_share);
    pl.address = subscriber_address(i);
    pl.business = st.business;
    if (st.business) {
      pl.id = "biz-" + std::to_string(i);
      pl.plan = "business";
    }
    if (st.uses_login) pl.login = "user" + std::to_string(i) + "@isp.example";
    st.contacts = static_cast<std::uint32_t>(r.count_in(p.contacts));
  }
  result<void> err;
  const std::int64_t first_day = std::min<std::int64_t>(day_ms, opts.duration_ms);
  const auto start_of = [&](const actor_settings& a, rng& rr) {
    return a.start_ms.high > 0 ? rr.in_ms(a.start_ms) : static_cast<std::int64_t>(rr.below(static_cast<std::uint64_t>(first_day)));
  };
  std::uint64_t actor_seed = 0;
  const auto next_seed = [&] { return mix(seed, 1'000'000 + actor_seed++); };

  // Scenario actors first, so they get the hosts they need.
  for (const actor_settings& a : w.sc.actors) {
    rng ar(next_seed());
    switch (a.kind) {
      case actor_kind::s1_high_rate:
      case actor_kind::s2_steady:
      case actor_kind::s3_low_slow: {
        const auto st = a.kind == actor_kind::s1_high_rate ? bot::style::high_rate
                        : a.kind == actor_kind::s2_steady  ? bot::style::steady
                                                           : bot::style::slow;
        std::vector<std::size_t> campaigns;
        for (std::uint64_t c = 0; c < std::max<std::uint64_t>(1, a.campaigns); ++c) campaigns.push_back(w.take_campaign());
        for (std::uint32_t h : pick_hosts(ar, a.count, false, false, "residential", err)) {
          const auto c = compromise(h, kind_name(a.kind), a.invalid_recipient_share);
          w.actors.push_back(std::make_unique<bot>(h, c, next_seed(), start_of(a, ar), st, a, campaigns));
        }
        break;
      }
      case actor_kind::s4_campaign:
        for (std::uint64_t k = 0; k < a.count; ++k) {
          const std::size_t campaign = w.take_campaign();
          const std::int64_t t0 = start_of(a, ar);
          for (std::uint32_t h : pick_hosts(ar, ar.count_in(a.bots), false, false, "residential", err)) {
            const auto c = compromise(h, "s4_campaign", a.invalid_recipient_share);
            const std::int64_t jitter = static_cast<std::int64_t>(ar.below(2 * a.start_spread_ms + 1)) - a.start_spread_ms;
            const bool slow = ar.chance(a.slow_share);
            w.actors.push_back(std::make_unique<bot>(h, c, next_seed(), std::max<std::int64_t>(0, t0 + jitter),
                                                     slow ? bot::style::slow : bot::style::steady, a,
                                                     std::vector<std::size_t>{campaign}));
          }
        }
        break;
      case actor_kind::s5_hijack:
        for (std::uint32_t h : pick_hosts(ar, a.count, false, true, "login", err)) {
          const bool burst = a.mode == "burst" || (a.mode == "mixed" && ar.chance(0.5));
          const auto c = compromise(h, burst ? "s5_burst" : "s5_trickle", a.invalid_recipient_share);
          w.actors.push_back(std::make_unique<hijacker>(w, h, c, next_seed(), start_of(a, ar), burst, a));
        }
        break;
      case actor_kind::s6_contacts:
        for (std::uint32_t h : pick_hosts(ar, a.count, false, false, "residential", err)) {
          // Mostly the victim's own contacts, who exist: bounces as in people's mail.
          const auto c = compromise(h, "s6_contacts", {p.invalid_recipient_share, p.invalid_recipient_share});
          w.actors.push_back(std::make_unique<contacts_abuser>(h, c, next_seed(), start_of(a, ar), a, w.take_campaign()));
        }
        break;
      case actor_kind::s7_newsletter:
        for (std::uint32_t h : pick_hosts(ar, a.count, true, false, "business", err)) {
          w.subs[h].slot = slot_of("s7_newsletter");
          w.subs[h].list_login = true;
          w.plans[h].plan = "bulk";  // registered with its exemption
          w.plans[h].login = "biz-" + std::to_string(h) + "@isp.example";
          slots_used[w.subs[h].slot] = 1;
          w.actors.push_back(std::make_unique<newsletter>(h, next_seed(), start_of(a, ar), a, w.take_newsletter()));
          if (a.hijacked) {
            const auto c = compromise(h, "s7_hijacked", a.invalid_recipient_share);
            w.actors.push_back(std::make_unique<hijacker>(w, h, c, next_seed(),
                                                          a.hijack_after_ms + static_cast<std::int64_t>(ar.below(day_ms)),
                                                          true, a));
          }
        }
        break;
      case actor_kind::s8_holiday:
        for (std::uint32_t h : pick_hosts(ar, a.count, false, false, "residential", err)) {
          w.subs[h].slot = slot_of("s8_holiday");
          slots_used[w.subs[h].slot] = 1;
          // A 1–3/day user (its person actor gets that rate below), greeting in the evening.
          const std::int64_t day = a.start_ms.high > 0 ? start_of(a, ar) / day_ms * day_ms : 0;
          w.actors.push_back(std::make_unique<holiday>(h, next_seed(), day + 18 * hour_ms + ar.in_ms({0, 3.0 * hour_ms}), a));
        }
        break;
      case actor_kind::s9_list_owner:
        for (std::uint32_t h : pick_hosts(ar, a.count, true, false, "business", err)) {
          w.subs[h].slot = slot_of("s9_list_owner");
          w.plans[h].plan = "bulk";
          slots_used[w.subs[h].slot] = 1;
          w.actors.push_back(std::make_unique<list_owner>(h, next_seed(), a.start_ms.high > 0 ? start_of(a, ar) : 0, a));
        }
        break;
      case actor_kind::s10_printer:
        for (std::uint32_t h : pick_hosts(ar, a.count, false, false, "residential", err)) {
          w.subs[h].slot = slot_of("s10_printer");
          slots_used[w.subs[h].slot] = 1;
          w.actors.push_back(std::make_unique<printer>(w, h, next_seed(), static_cast<std::int64_t>(ar.below(a.interval_ms)), a));
        }
        break;
    }
    if (!err) return err;
  }

  // Background incidents in the population: bots (S1/S2/S3 mix) and hijacked logins (S5).
  const double days = static_cast<double>(opts.duration_ms) / day_ms;
  const double p_bot = 1.0 - std::pow(1.0 - p.bot_daily_rate, days);
  const double p_hijack = 1.0 - std::pow(1.0 - p.hijack_weekly_rate, days / 7.0);
  std::vector<std::size_t> background_campaigns;
  for (int c = 0; c < 5; ++c) background_campaigns.push_back(w.take_campaign());
  double weight_total = 0;
  for (double x : p.bot_kind_weights) weight_total += x;
  rng br(mix(seed, 2));
  // In runs of two days or more, incidents start in all but the last day, so each has a day to be
  // caught (the S3 bar is detection within 24 h; one starting an hour before the end would count
  // as missed). Shorter runs start them anywhere.
  const std::int64_t incident_window =
      opts.duration_ms >= 2 * day_ms ? opts.duration_ms - day_ms : opts.duration_ms;
  for (std::uint32_t s = 0; s < n; ++s) {
    subscriber_state& st = w.subs[s];
    if (st.slot != 0 || st.compromise >= 0) continue;
    if (!st.business && weight_total > 0 && br.chance(p_bot)) {
      double u = br.uniform() * weight_total;
      std::size_t k = 0;
      while (k + 1 < p.bot_kind_weights.size() && u >= p.bot_kind_weights[k]) u -= p.bot_kind_weights[k++];
      const actor_settings a = default_actor(static_cast<actor_kind>(k));
      const auto c = compromise(s, kind_name(a.kind), a.invalid_recipient_share);
      const std::int64_t start = static_cast<std::int64_t>(br.below(static_cast<std::uint64_t>(incident_window)));
      w.actors.push_back(std::make_unique<bot>(s, c, next_seed(), start,
                                               k == 0 ? bot::style::high_rate : k == 1 ? bot::style::steady : bot::style::slow,
                                               a, background_campaigns));
    } else if (st.uses_login && br.chance(p_hijack)) {
      const actor_settings a = default_actor(actor_kind::s5_hijack);
      const bool burst = br.chance(0.5);
      const auto c = compromise(s, burst ? "s5_burst" : "s5_trickle", a.invalid_recipient_share);
      const std::int64_t start = static_cast<std::int64_t>(br.below(static_cast<std::uint64_t>(incident_window)));
      w.actors.push_back(std::make_unique<hijacker>(w, s, c, next_seed(), start, burst, a));
    }
  }

  // Everyone's own ordinary mail.
  rng pr(mix(seed, 3));
  for (std::uint32_t s = 0; s < n; ++s) {
    const subscriber_state& st = w.subs[s];
    double per_day = st.business ? p.business_messages_per_day : p.messages_per_day;
    per_day *= std::exp(p.rate_sigma * pr.normal() - p.rate_sigma * p.rate_sigma / 2);
    if (st.slot == slot_of("s8_holiday")) per_day = pr.in({1, 3});
    w.actors.push_back(std::make_unique<person>(w, s, mix(seed, 10'000'000 + s), per_day));
  }
  slots_used[0] = 1;
  return {};
}

simulator::simulator(std::unique_ptr<impl> p) : _impl(std::move(p)) {}
simulator::simulator(simulator&&) noexcept = default;
simulator& simulator::operator=(simulator&&) noexcept = default;
simulator::~simulator() = default;

result<simulator> simulator::create(const scenario& sc, const content_library& library, const run_options& opts) {
  if (library.ham.empty() || library.campaigns.empty()) {
    return make_error(errc::invalid_config, "the content library needs ham and at least one spam campaign");
  }
  for (const actor_settings& a : sc.actors) {
    if (a.kind == actor_kind::s7_newsletter && library.newsletters.empty()) {
      return make_error(errc::invalid_config, "the scenario has newsletters but the content library none");
    }
  }
  if (opts.subscribers == 0 || opts.subscribers > 16'000'000 || opts.duration_ms <= 0) {
    return make_error(errc::invalid_config, "subscribers must be 1..16,000,000 and the duration positive");
  }
  auto p = std::make_unique<impl>(sc, library, opts);
  if (auto r = p->place(opts.seed); !r) return r.error();
  return simulator(std::move(p));
}

const std::vector<subscriber_plan>& simulator::subscribers() const { return _impl->w.plans; }

std::vector<identity::directory_entry> simulator::directory_entries() const {
  std::vector<identity::directory_entry> out;
  for (std::size_t i = 0; i < _impl->w.plans.size(); ++i) {
    const subscriber_plan& pl = _impl->w.plans[i];
    if (!pl.business) continue;
    out.push_back({pl.address, pl.id, pl.plan, ""});
    if (_impl->w.subs[i].list_login) out.push_back({pl.login, pl.id, pl.plan, ""});
  }
  return out;
}

std::vector<subscriber_verdict> simulator::verdicts() const {
  std::vector<subscriber_verdict> out;
  out.reserve(_impl->w.subs.size());
  for (std::size_t i = 0; i < _impl->w.subs.size(); ++i) {
    const subscriber_state& st = _impl->w.subs[i];
    const std::uint8_t slot = st.compromise >= 0 ? _impl->w.compromises[st.compromise].slot : st.slot;
    const auto reasons = [&](const std::unordered_map<std::uint32_t, std::string>& m) {
      auto it = m.find(static_cast<std::uint32_t>(i));
      return it == m.end() ? std::string() : it->second;
    };
    const std::int64_t attack_start = st.compromise >= 0 ? _impl->w.compromises[st.compromise].start_ms : -1;
    out.push_back({_impl->w.plans[i].address, _impl->w.plans[i].login, st.max_level, st.first_throttle_ms,
                   st.first_hold_ms, attack_start, std::string(slot_titles[slot].kind),
                   reasons(_impl->first_throttle_why), reasons(_impl->highest_why)});
  }
  return out;
}

result<scorecard> simulator::run(relay_port& port) {
  impl& m = *_impl;
  world& w = m.w;
  const population_settings& pop = w.sc.population;
  const auto wall_start = std::chrono::steady_clock::now();
  scorecard card;
  std::vector<scenario_score> slots(slot_titles.size());
  for (std::size_t i = 0; i < slot_titles.size(); ++i) {
    slots[i].kind = slot_titles[i].kind;
    slots[i].title = slot_titles[i].title;
    slots[i].compromised = slot_titles[i].compromised;
  }

  // The event queue: actors' next messages, retries, and the desk's timers (notices due, the
  // customer's answer, the unanswered deadline, the end of monitoring), each on a case.
  enum class ev_kind : std::uint8_t { actor, retry, notice, answer, cleaned, unanswered, monitoring_end, bounce };
  struct ev {
    std::int64_t t;
    ev_kind kind;
    std::uint32_t index;
    bool operator>(const ev& o) const {
      return t != o.t ? t > o.t : (kind != o.kind ? kind > o.kind : index > o.index);
    }
  };
  std::priority_queue<ev, std::vector<ev>, std::greater<>> queue;
  for (std::uint32_t i = 0; i < w.actors.size(); ++i) {
    if (w.actors[i]->next_ms < m.opts.duration_ms) queue.push({w.actors[i]->next_ms, ev_kind::actor, i});
  }
  const desk_settings& desk = w.sc.desk;
  const bool run_desk = port.simulates_desk() && m.opts.desk;
  std::vector<sim_case> cases;
  std::unordered_map<std::uint32_t, desk_subscriber> desk_subs;
  desk_score& desk_card = card.desk;
  desk_card.modelled = run_desk;
  desk_card.unanswered_escalation_ms = desk.unanswered_escalation_ms;
  const std::uint64_t desk_seed = mix(m.opts.seed, 4);
  const auto on_tick_boundary = [&](std::int64_t t) { return (t + desk.tick_ms - 1) / desk.tick_ms * desk.tick_ms; };
  const auto push_case_event = [&](std::int64_t t, ev_kind kind, std::size_t c) {
    if (t < m.opts.duration_ms) queue.push({t, kind, static_cast<std::uint32_t>(c)});
  };
  const auto escalate_for = [&](sim_case& c, escalation why, std::int64_t now) {
    if (c.row.status != ledger::case_status::escalated) {
      if (auto e = desk::apply_operator_action(c.row, desk::operator_action::escalate, now, {}, desk.cases)) c.row = *e;
    }
    if (c.why == escalation::none) c.why = why;
  };

  const auto release_held_legit = [&](std::uint32_t s, std::int64_t at) {
    auto it = m.held_legit.find(s);
    if (it == m.held_legit.end()) return;
    const subscriber_state& st = w.subs[s];
    for (std::int64_t first : it->second) {
      if (st.compromise >= 0) {
        slots[w.compromises[st.compromise].slot].owner_messages_delayed++;
      } else {
        scenario_score& sc = slots[st.slot];
        sc.messages_delayed++;
        sc.max_delay_ms = std::max(sc.max_delay_ms, at - first);
      }
    }
    m.held_legit.erase(it);
  };
  const auto end_hold_if_due = [&](std::uint32_t s, std::int64_t now) {
    subscriber_state& st = w.subs[s];
    if (st.held && now >= st.held_until) {
      st.held = false;
      st.last_level = level::watch;          // where the engine leaves a hold that timed out
      release_held_legit(s, st.held_until);  // the desk releases the queue when the hold times out
    }
  };
  const auto schedule_retry = [&](std::uint32_t s, const content_item* content, std::vector<std::string> rcpts,
                                  std::int64_t first_try, std::uint32_t attempt, std::int64_t now) {
    const auto& delays = pop.retry_delays_ms;
    const std::int64_t at = now + delays[std::min<std::size_t>(attempt, delays.size() - 1)];
    std::uint32_t idx;
    if (!m.free_retries.empty()) {
      idx = m.free_retries.back();
      m.free_retries.pop_back();
    } else {
      idx = static_cast<std::uint32_t>(m.retries.size());
      m.retries.emplace_back();
    }
    m.retries[idx] = {s, content, std::move(rcpts), first_try, attempt + 1};
    queue.push({at, ev_kind::retry, idx});
  };

  // A customer whose clean-up works did it desk::advised_wait_ms before pressing "I have fixed it", as
  // the self-help page asks; one pressing sooner after being told (`told`: the first notice, or the
  // refusal) cleaned up halfway between reading and pressing — a clean-up takes time. The bot stops
  // then (the `cleaned` event), and a held bot is fast-forwarded only that far. Any other answer
  // comes at `answer_at` itself.
  const auto fast_forward_end = [&](const sim_case& c) { return c.cleaned_at >= 0 ? c.cleaned_at : c.answer_at; };
  const auto plan_answer = [&](std::size_t idx, std::int64_t told, std::int64_t at) {
    sim_case& c = cases[idx];
    c.answer_at = at;
    c.cleaned_at =
        c.cleanup_works && !c.calls ? std::clamp(at - desk::advised_wait_ms, told + (at - told) / 2, at) : -1;
    push_case_event(at, ev_kind::answer, idx);
    if (c.cleaned_at >= 0) push_case_event(c.cleaned_at, ev_kind::cleaned, idx);
    if (subscriber_state& st = w.subs[c.sub]; st.held) st.cleanup_at = fast_forward_end(c);
  };

  // The engine reported a level at or above throttle that differs from the subscriber's last: the
  // desk opens or updates its case (the daemon hears every decision; the desk's rules do nothing
  // for a repeated level, so hearing only changes decides the same).
  const auto desk_level = [&](std::uint32_t s, level lvl, std::int64_t now) {
    desk_subscriber& d = desk_subs[s];
    std::optional<ledger::case_row> open_case;
    std::optional<ledger::case_row> last_case;
    if (d.unresolved >= 0) open_case = cases[static_cast<std::size_t>(d.unresolved)].row;
    if (d.last_resolved >= 0) last_case = cases[static_cast<std::size_t>(d.last_resolved)].row;
    desk::level_outcome out =
        desk::on_engine_level(open_case, last_case, lvl == level::hold ? "hold" : "throttle", now, desk.cases);
    if (out.action == desk::level_action::update_case && out.updated) {
      sim_case& c = cases[static_cast<std::size_t>(d.unresolved)];
      c.row = std::move(*out.updated);
      if (out.escalate && c.why == escalation::none) c.why = escalation::fix_failed;
      return;
    }
    if (out.action != desk::level_action::open_case) return;
    const std::size_t idx = cases.size();
    sim_case c;
    c.sub = s;
    c.row.id = static_cast<std::int64_t>(idx + 1);
    c.row.subscriber = w.plans[s].id.empty() ? "ip:" + w.plans[s].address : w.plans[s].id;
    c.row.level = out.level;
    c.row.opened_ms = now;
    c.row.updated_ms = now;
    const subscriber_state& st = w.subs[s];
    c.compromised = st.compromise >= 0 && w.compromises[st.compromise].start_ms >= 0 &&
                    !w.compromises[st.compromise].stopped;
    if (out.escalate) escalate_for(c, escalation::reoffence, now);
    // The customer's answer, drawn from the case's own generator: the same whatever else happens.
    rng r(mix(desk_seed, idx));
    const response_model& model = c.compromised ? desk.compromised : desk.legitimate;
    c.acts = r.chance(model.respond);
    c.calls = r.chance(model.call_support_share);
    const double delay = model.delay_median_ms * std::exp(model.delay_sigma * r.normal());
    c.delay_ms = static_cast<std::int64_t>(std::min(delay, static_cast<double>(m.opts.duration_ms)));
    c.cleanup_works = c.compromised && r.chance(model.cleanup_works);
    const std::int64_t first_notice = on_tick_boundary(now + desk.cadence.first_delay_ms);
    cases.push_back(std::move(c));
    d.unresolved = static_cast<std::int32_t>(idx);
    desk_card.cases_opened++;
    push_case_event(first_notice, ev_kind::notice, idx);
    // Re-planned if the first notice comes later.
    if (cases[idx].acts) plan_answer(idx, first_notice, first_notice + cases[idx].delay_ms);
    push_case_event(now + desk.unanswered_escalation_ms, ev_kind::unanswered, idx);
  };
  // The hold is lifted (self-help or a person's release): the engine releases the subscriber, the
  // held mail leaves, a compromise whose clean-up worked stops, and monitoring runs to its end.
  const auto lift = [&](std::size_t idx, std::int64_t now) -> result<void> {
    sim_case& c = cases[idx];
    subscriber_state& st = w.subs[c.sub];
    if (auto r = port.release(w.plans[c.sub].address, w.plans[c.sub].login, m.opts.start_epoch_ms + now); !r) {
      return r.error();
    }
    st.last_level = level::watch;  // where the engine leaves a released subscriber
    st.cleanup_at = never;
    if (st.held) {
      st.held = false;
      release_held_legit(c.sub, now);
    }
    if (c.cleanup_works) w.compromises[st.compromise].stopped = true;
    push_case_event(on_tick_boundary(c.row.monitoring_until_ms.value_or(now)), ev_kind::monitoring_end, idx);
    return {};
  };
  // What the desk's verified release reads: the subscriber's messages in the engine's 10-minute
  // window, plus the held ones the simulator fast-forwarded past the engine.
  const auto recent_sending = [&](const sim_case& c, std::int64_t now) {
    desk::recent_sending out =
        port.recent_sending(w.plans[c.sub].address, w.plans[c.sub].login, m.opts.start_epoch_ms + now);
    if (const std::int32_t comp = w.subs[c.sub].compromise; comp >= 0) {
      const compromise_state& cs = w.compromises[static_cast<std::size_t>(comp)];
      if (cs.skipped_at >= 0) {
        const auto age = static_cast<double>(std::max<std::int64_t>(now - cs.skipped_at, 0));
        out.messages_10min += cs.skipped_recent * std::exp(-age / 600'000.0);
        const std::int64_t since = std::max<std::int64_t>(now - cs.skipped_last, 0);
        out.since_last_ms = out.since_last_ms ? std::min(*out.since_last_ms, since) : since;
      }
    }
    return out;
  };
  // One of the desk's timers on case `idx`.
  const auto desk_event = [&](ev_kind kind, std::size_t idx, std::int64_t now) -> result<void> {
    sim_case& c = cases[idx];
    if (c.row.status == ledger::case_status::resolved) return {};
    desk_subscriber& d = desk_subs[c.sub];
    switch (kind) {
      case ev_kind::notice: {
        const std::int64_t sent_last_day = count_since(d.notices, now - desk::ms_per_day);
        if (const auto due = desk::notice_due(c.row, true, sent_last_day, now, desk.cadence)) {
          c.row = desk::on_notice_sent(c.row, now);
          d.notices.push_back(now);
          desk_card.notices_sent++;
          if (*due == desk::notice_kind::first) {
            c.first_notice_ms = now;
            desk_card.open_to_first_notice.samples_ms.push_back(now - c.row.opened_ms);
            if (c.acts && c.answer_at < 0) {  // the daily cap held the first notice back: the answer follows it
              plan_answer(idx, now, now + c.delay_ms);
            }
          }
        }
        // Look again when the next reminder is due; an hour on when that is past (the daily cap, or
        // a case in monitoring that may come back to escalated).
        if (c.row.notices_sent <= desk.cadence.max_reminders) {
          std::int64_t next = c.row.last_notice_ms ? *c.row.last_notice_ms + desk.cadence.reminder_interval_ms
                                                   : c.row.opened_ms + desk.cadence.first_delay_ms;
          if (next <= now) next = now + desk::ms_per_hour;
          push_case_event(on_tick_boundary(next), ev_kind::notice, idx);
        }
        return {};
      }
      case ev_kind::answer: {
        c.answer_at = -1;
        if (c.first_notice_ms < 0) return {};  // nothing reached the customer yet: planned again at the first notice
        w.subs[c.sub].cleanup_at = never;
        if (c.calls) {
          // Support on the phone: a person takes the case and releases it (operator actions).
          escalate_for(c, escalation::support_call, now);
          auto released = desk::apply_operator_action(c.row, desk::operator_action::release, now, {}, desk.cases);
          if (!released) return {};
          c.row = *released;
          return lift(idx, now);
        }
        const std::int64_t fixes = count_since(d.fixes, now - desk.cases.self_help_window_ms);
        desk::fix_outcome out = desk::on_customer_fixed(c.row, fixes, recent_sending(c, now), now, desk.cases);
        if (out.decision == desk::fix_decision::still_sending) {
          // Told the clean-up has not worked yet, the customer answers again the way customers answer
          // a notice (the same model, a fresh draw): acts or not, calls or cleans up again.
          desk_card.fixes_refused++;
          rng r(mix(desk_seed, mix(idx, ++c.tries)));
          const response_model& model = c.compromised ? desk.compromised : desk.legitimate;
          if (!r.chance(model.respond)) return {};
          c.calls = r.chance(model.call_support_share);
          c.cleanup_works = c.compromised && r.chance(model.cleanup_works);
          const double delay = model.delay_median_ms * std::exp(model.delay_sigma * r.normal());
          plan_answer(idx, now,
                      now + static_cast<std::int64_t>(std::min(delay, static_cast<double>(m.opts.duration_ms))));
          return {};
        }
        if (out.decision == desk::fix_decision::lift) {
          c.row = std::move(*out.updated);
          d.fixes.push_back(now);
          return lift(idx, now);
        }
        if (out.decision == desk::fix_decision::to_person) {
          c.row = std::move(*out.updated);
          if (c.why == escalation::none) c.why = escalation::repeat_self_help;
        }
        return {};
      }
      case ev_kind::cleaned:
        if (now != c.cleaned_at || c.first_notice_ms < 0) return {};  // re-planned since, or nobody told yet
        if (const std::int32_t comp = w.subs[c.sub].compromise; comp >= 0) {
          w.compromises[static_cast<std::size_t>(comp)].stopped = true;
        }
        return {};
      case ev_kind::unanswered:
        if (c.row.status == ledger::case_status::open || c.row.status == ledger::case_status::notified) {
          escalate_for(c, escalation::unanswered, now);
        }
        return {};
      case ev_kind::monitoring_end:
        if (auto done = desk::on_tick(c.row, now, desk.cases)) {
          c.row = std::move(*done);
          d.unresolved = -1;
          d.last_resolved = static_cast<std::int32_t>(idx);
        }
        return {};
      case ev_kind::actor:
      case ev_kind::retry:
      case ev_kind::bounce:
        break;
    }
    return {};
  };

  // What the engine said about a subscriber after a message or a bounce: its highest level and
  // when, relative to its compromise; the desk hears of changes; a hold starts the fast-forward.
  const auto note_level = [&](std::uint32_t s, level lvl, const std::string& reasons, std::int64_t t) {
    subscriber_state& st = w.subs[s];
    compromise_state* cs = st.compromise >= 0 ? &w.compromises[st.compromise] : nullptr;
    if (lvl > st.max_level) m.highest_why[s] = reasons;
    st.max_level = std::max(st.max_level, lvl);
    if (lvl >= level::throttle && st.first_throttle_ms < 0) {
      st.first_throttle_ms = t;
      m.first_throttle_why[s] = reasons;
    }
    if (lvl == level::hold && st.first_hold_ms < 0) st.first_hold_ms = t;
    if (run_desk && lvl >= level::throttle && lvl != st.last_level) desk_level(s, lvl, t);
    st.last_level = lvl;
    if (cs != nullptr && cs->start_ms >= 0) {
      const std::int64_t since = t - cs->start_ms;
      if (lvl >= level::watch && cs->flag_ms < 0) cs->flag_ms = since;
      if (lvl >= level::throttle && cs->detect_ms < 0) cs->detect_ms = since;
      if (lvl == level::hold && cs->contain_ms < 0) cs->contain_ms = since;
    }
    if (lvl == level::hold && !st.held) {
      st.held = true;
      st.held_until = t + m.opts.hold_timeout_ms;
      st.cleanup_at = never;
      // The bot's messages until the customer's answer go straight to the hold queue; from then on
      // they are composed again (the answer may lift the hold, and a bot that survived re-offends).
      if (const auto it = desk_subs.find(s); it != desk_subs.end() && it->second.unresolved >= 0) {
        const sim_case& c = cases[static_cast<std::size_t>(it->second.unresolved)];
        if (c.answer_at > t) st.cleanup_at = fast_forward_end(c);
      }
    }
  };

  // Bounces on their way back: one record per relayed message with non-existent recipients.
  struct bounce_rec {
    std::uint32_t sub = 0;
    std::string addr, login;
    std::uint32_t count = 0;
  };
  std::vector<bounce_rec> bounces;
  std::vector<std::uint32_t> free_bounces;
  const bool take_bounces = m.opts.bounces && port.takes_bounces();
  rng bounce_rng(mix(m.opts.seed, 8));
  std::string bounce_reasons;

  message msg;
  std::int64_t next_progress = 0;
  std::uint64_t total_messages = 0, total_recipients = 0;
  while (!queue.empty()) {
    const ev e = queue.top();
    if (e.t >= m.opts.duration_ms) break;
    queue.pop();
    if (m.opts.progress && e.t >= next_progress) {
      m.opts.progress(static_cast<double>(e.t) / static_cast<double>(m.opts.duration_ms));
      next_progress = e.t + m.opts.duration_ms / 100;
    }
    if (e.kind == ev_kind::bounce) {
      bounce_rec& b = bounces[e.index];
      end_hold_if_due(b.sub, e.t);
      bounce_reasons.clear();
      const level lvl = port.bounced(b.addr, b.login, b.count, m.opts.start_epoch_ms + e.t, bounce_reasons);
      note_level(b.sub, lvl, bounce_reasons, e.t);
      free_bounces.push_back(e.index);
      continue;
    }
    if (e.kind != ev_kind::actor && e.kind != ev_kind::retry) {
      if (auto r = desk_event(e.kind, e.index, e.t); !r) return r.error();
      continue;
    }

    std::uint32_t s;
    bool legit;
    std::int64_t first_try = e.t;
    std::uint32_t attempt = 0;
    std::int32_t comp = -1;
    msg = message{};
    if (e.kind == ev_kind::actor) {
      actor& a = *w.actors[e.index];
      s = a.sub;
      comp = a.compromise;
      if (comp >= 0 && w.compromises[comp].stopped) continue;  // cleaned up: no more mail from it
      if (comp >= 0) {
        // A held subscriber's bot keeps sending into the hold queue until the clean-up or the hold
        // timeout: counted, not composed (S1 bots send a thousand a minute for hours).
        subscriber_state& host = w.subs[s];
        end_hold_if_due(s, e.t);
        if (host.held && w.compromises[comp].start_ms >= 0) {
          skip_tally tally{std::min({host.held_until, host.cleanup_at, m.opts.duration_ms})};
          if (const std::uint64_t n = a.skip_until(tally); n > 0) {
            compromise_state& c = w.compromises[comp];
            c.skipped_recent = tally.recent;
            c.skipped_at = tally.until;
            c.skipped_last = tally.last;
            c.held += n;
            slots[c.slot].messages += n;
            total_messages += n;
            if (a.next_ms < m.opts.duration_ms) queue.push({a.next_ms, ev_kind::actor, e.index});
            continue;
          }
        }
      }
      const bool send = a.emit(w, msg);
      if (a.next_ms < m.opts.duration_ms) queue.push({a.next_ms, ev_kind::actor, e.index});
      if (!send) continue;
      legit = !msg.spam;
    } else {
      impl::retry_rec& rr = m.retries[e.index];
      s = rr.sub;
      w.fill_identity(s, msg);
      msg.rcpts = std::move(rr.rcpts);
      msg.content = rr.content;
      first_try = rr.first_try;
      attempt = rr.attempt;
      m.free_retries.push_back(e.index);
      legit = true;
      if (e.t - first_try > pop.retry_horizon_ms) {
        subscriber_state& st = w.subs[s];
        if (st.compromise < 0) slots[st.slot].messages_lost++;
        continue;
      }
    }
    subscriber_state& st = w.subs[s];
    compromise_state* cs = st.compromise >= 0 ? &w.compromises[st.compromise] : nullptr;
    if (!legit && cs != nullptr && cs->start_ms < 0) cs->start_ms = e.t;
    if (attempt == 0) {
      ++total_messages;
      total_recipients += msg.rcpts.size();
      if (!legit || cs == nullptr) {  // the owners of compromised subscribers are counted apart
        scenario_score& sc = slots[legit ? st.slot : cs->slot];
        sc.messages++;
        sc.recipients += msg.rcpts.size();
      }
    }
    end_hold_if_due(s, e.t);
    if (st.held) {  // straight to the hold queue (see the header: not replayed through the engine)
      if (!legit) {
        cs->held++;
      } else {
        m.held_legit[s].push_back(first_try);
      }
      continue;
    }
    submission sub;
    sub.now_ms = m.opts.start_epoch_ms + e.t;
    sub.client_addr = msg.addr;
    sub.login = msg.login;
    sub.helo = msg.helo;
    sub.sender = msg.sender;
    sub.recipients = msg.rcpts;
    sub.content = msg.content;
    auto res = port.submit(sub);
    if (!res) return res.error();

    // Levels: what the subscriber reached, and when, relative to its compromise.
    note_level(s, res->level, res->reasons, e.t);

    std::vector<std::string> deferred;
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < msg.rcpts.size(); ++i) {
      if (res->accepted[i]) {
        ++accepted;
      } else {
        deferred.push_back(msg.rcpts[i]);
      }
    }
    if (take_bounces && accepted > 0 && !res->held) {
      const double share = legit ? pop.invalid_recipient_share : cs->invalid_share;
      std::uint32_t n = 0;
      for (std::size_t i = 0; i < accepted; ++i) n += bounce_rng.chance(share) ? 1 : 0;
      n = std::min(n, ingest::max_bounces_per_message);  // what the daemon counts of one message
      if (n > 0) {
        const std::int64_t at = e.t + bounce_rng.in_ms(pop.bounce_delay_ms);
        if (at < m.opts.duration_ms) {
          std::uint32_t idx;
          if (!free_bounces.empty()) {
            idx = free_bounces.back();
            free_bounces.pop_back();
          } else {
            idx = static_cast<std::uint32_t>(bounces.size());
            bounces.emplace_back();
          }
          bounces[idx] = {s, msg.addr, msg.login, n};
          queue.push({at, ev_kind::bounce, idx});
        }
      }
    }
    if (!legit) {
      cs->deferred += deferred.size();
      slots[cs->slot].spam_deferred += deferred.size();
      if (accepted > 0) {
        if (res->held) {
          cs->held++;
        } else {
          cs->relayed++;
          if (cs->contain_ms < 0) cs->relayed_before++;
        }
      }
      continue;
    }
    if (accepted > 0 && res->held) {
      m.held_legit[s].push_back(first_try);
    } else if (accepted > 0 && deferred.empty() && attempt > 0) {
      if (cs != nullptr) {
        slots[cs->slot].owner_messages_delayed++;
      } else {
        slots[st.slot].messages_delayed++;
        slots[st.slot].max_delay_ms = std::max(slots[st.slot].max_delay_ms, e.t - first_try);
      }
    }
    if (!deferred.empty()) schedule_retry(s, msg.content, std::move(deferred), first_try, attempt, e.t);
  }
  if (m.opts.progress) m.opts.progress(1.0);

  // Held legitimate mail still waiting at the end counts as delayed until the end (a lower bound).
  std::vector<std::uint32_t> waiting;
  for (const auto& [s, v] : m.held_legit) waiting.push_back(s);
  for (std::uint32_t s : waiting) release_held_legit(s, m.opts.duration_ms);

  // Per-subscriber outcomes into the slots.
  for (std::uint32_t s = 0; s < w.subs.size(); ++s) {
    const subscriber_state& st = w.subs[s];
    // A compromise that had not begun by the end leaves a legitimate subscriber.
    if (st.compromise >= 0 && w.compromises[st.compromise].start_ms >= 0) continue;
    scenario_score& sc = slots[st.slot];
    sc.actors++;
    if (st.max_level >= level::watch) sc.tagged++;
    if (st.max_level >= level::throttle) sc.throttled++;
    if (st.max_level == level::hold) sc.held++;
  }
  for (const compromise_state& c : w.compromises) {
    if (c.start_ms < 0) continue;  // its attack had not begun by the end of the run: not an actor of it
    scenario_score& sc = slots[c.slot];
    sc.actors++;
    if (c.flag_ms >= 0) sc.flagged++;
    if (c.detect_ms >= 0) {
      sc.detected++;
      sc.time_to_detect.samples_ms.push_back(c.detect_ms);
    }
    if (c.contain_ms >= 0) {
      sc.contained++;
      sc.time_to_contain.samples_ms.push_back(c.contain_ms);
    }
    sc.spam_relayed_before_containment += c.relayed_before;
    sc.max_spam_relayed_before_containment = std::max(sc.max_spam_relayed_before_containment, c.relayed_before);
    sc.spam_relayed += c.relayed;
    sc.spam_held += c.held;
  }
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (m.slots_used[i] != 0 || slots[i].actors > 0) card.scenarios.push_back(std::move(slots[i]));
  }
  // Every case into exactly one outcome (scorecard.hpp, desk_score).
  desk_card.final_after_ms = desk.unanswered_escalation_ms + desk.cases.monitoring_ms + desk.tick_ms;
  for (const sim_case& c : cases) {
    const bool resolved = c.row.status == ledger::case_status::resolved;
    if (c.row.opened_ms + desk_card.final_after_ms <= m.opts.duration_ms) {
      desk_card.final_cases++;
      if (resolved && c.why == escalation::none) desk_card.final_resolved_self_help++;
    }
    if (c.compromised) desk_card.compromised_cases++;
    if (resolved && c.row.resolved_ms) desk_card.time_to_resolution.samples_ms.push_back(*c.row.resolved_ms - c.row.opened_ms);
    if (c.why != escalation::none) {
      desk_card.escalated++;
      if (resolved) desk_card.resolved_by_person++;
      switch (c.why) {
        case escalation::support_call:
          desk_card.escalated_support_call++;
          break;
        case escalation::repeat_self_help:
          desk_card.escalated_repeat++;
          break;
        case escalation::reoffence:
          desk_card.escalated_reoffence++;
          break;
        case escalation::fix_failed:
          desk_card.escalated_fix_failed++;
          break;
        case escalation::unanswered:
          desk_card.escalated_unanswered++;
          break;
        case escalation::none:
          break;
      }
    } else if (resolved) {
      desk_card.resolved_self_help++;
      if (c.compromised) desk_card.compromised_resolved_self_help++;
    } else {
      desk_card.open_at_end++;
      if (c.row.status == ledger::case_status::monitoring) desk_card.monitoring_at_end++;
    }
  }
  card.run.subscribers = m.opts.subscribers;
  card.run.duration_ms = m.opts.duration_ms;
  card.run.seed = m.opts.seed;
  card.run.scenario_name = w.sc.name;
  card.run.messages = total_messages;
  card.run.recipients = total_recipients;
  card.run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  summarise(card);
  return card;
}

}  // namespace pw::sim
