// Names, plain-words reasons, default plans and settings validation (none of it on the hot path).
#include <cmath>
#include <cstdio>
#include <set>

#include "behavior/engine.hpp"

namespace pw::behavior {

std::string_view level_name(level l) noexcept {
  switch (l) {
    case level::normal:
      return "normal";
    case level::watch:
      return "watch";
    case level::throttle:
      return "throttle";
    case level::hold:
      return "hold";
  }
  return "unknown";
}

std::string_view action_name(action a) noexcept {
  switch (a) {
    case action::accept:
      return "accept";
    case action::tag:
      return "tag";
    case action::defer:
      return "defer";
    case action::hold:
      return "hold";
  }
  return "unknown";
}

std::string_view window_name(window w) noexcept {
  switch (w) {
    case window::one_minute:
      return "1 min";
    case window::ten_minutes:
      return "10 min";
    case window::one_hour:
      return "1 h";
    case window::one_day:
      return "24 h";
  }
  return "?";
}

namespace {

// Decayed counts are fractional; people read whole numbers, except for small rates.
std::string count(float v) {
  char buf[32];
  if (v > 0 && v < 10 && std::fabs(v - std::round(v)) > 0.05f) {
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", static_cast<double>(v));
  }
  return buf;
}

std::string fixed2(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(v));
  return buf;
}

}  // namespace

std::string describe(const reason& r) {
  const std::string w(window_name(r.w));
  switch (r.code) {
    case reason_code::volume:
      if (r.c >= 0.5f) {
        return count(r.a) + " messages to " + count(r.b) + " recipients (" + count(r.c) +
               " new recipient domains) in " + w;
      }
      return count(r.a) + " messages to " + count(r.b) + " recipients in " + w;
    case reason_code::new_recipients:
      return count(r.a * 100) + "% of " + count(r.b) + " recipients never seen before in " + w;
    case reason_code::baseline:
      return (r.c > 0 ? "own baseline " : "plan prior (baseline not learnt yet) ") + count(r.a) + "/day to " +
             count(r.b) + " recipients/day";
    case reason_code::content:
      return "mean spam probability " + fixed2(r.a) + " over " + count(r.b) + " scored messages in " + w;
    case reason_code::sender_churn:
      return count(r.a) + " envelope-sender changes in " + w;
    case reason_code::helo_churn:
      return count(r.a) + " changes of client (HELO name or address) in " + w;
    case reason_code::over_throttle_rate:
      return "throttled: " + count(r.a) + " messages in the last hour, allowed " + count(r.b) + "/h";
    case reason_code::deferred_attempts:
      return "kept sending while throttled: " + count(r.a) + " attempts to new recipients in " + w;
    case reason_code::held:
      return "held for " + count(r.a) + " min (ends by release or in " + count(r.b) + " min)";
    case reason_code::reoffence:
      return "re-offence with " + count(r.a) + " min of the grace period after release left";
    case reason_code::observe_only:
      return "observe-only: not enforced";
    case reason_code::campaign:
      return count(r.a) + " of " + count(r.c) + " messages in " + w + " belonged to campaigns sent by " +
             (r.b >= 255 ? std::string("255 or more") : count(r.b)) + " subscribers";
    case reason_code::takeover:
      return "held rather than throttled: the client (HELO name or address) changed " + count(r.a) + " times in " + w +
             " while " + count(r.b * 100) + "% of recipients were never seen before, the pattern of a stolen login";
    case reason_code::hard_bounces:
      return count(r.a) + " hard bounces (addresses that do not exist or refused the mail) for " + count(r.b) +
             " recipients in " + w;
  }
  return "unknown reason";
}

std::string describe(std::span<const reason> reasons) {
  std::string out;
  for (const reason& r : reasons) {
    if (!out.empty()) {
      out += "; ";
    }
    out += describe(r);
  }
  return out;
}

std::vector<plan_settings> engine_settings::default_plans() {
  plan_settings residential;  // the struct defaults are the residential plan
  plan_settings business;
  business.name = "business";
  business.ceiling = level::throttle;  // a business's mail is not held without a person deciding
  business.prior_messages_per_day = 200;
  business.prior_recipients_per_day = 400;
  business.floor_messages = {20, 60, 200, 500};
  business.floor_recipients = {50, 150, 400, 1000};
  business.throttle_messages_per_hour = 300;
  // Registered bulk senders (a list server, a newsletter under a port-25 exemption): allowances
  // sized for fan-out to thousands, so their regular mail never crosses a threshold, while spam to
  // strangers from changing clients (a hijacked account: takeover evidence) still throttles them.
  plan_settings bulk = business;
  bulk.name = "bulk";
  bulk.prior_messages_per_day = 2000;
  bulk.prior_recipients_per_day = 20000;
  bulk.floor_messages = {100, 500, 2000, 10000};
  bulk.floor_recipients = {2500, 10000, 40000, 200000};
  bulk.throttle_messages_per_hour = 3000;
  return {residential, business, bulk};
}

result<void> validate(const engine_settings& s) {
  const auto bad = [](const std::string& what) { return make_error(errc::invalid_config, what); };
  if (!(s.hysteresis > 0 && s.hysteresis < 1)) {
    return bad("hysteresis must be between 0 and 1 (exclusive)");
  }
  if (s.cool_down_ms < 0 || s.hold_timeout_ms <= 0 || s.grace_ms < 0 || s.expire_idle_ms <= 0) {
    return bad("cool_down, grace must be >= 0 and hold_timeout, expire_idle > 0");
  }
  if (s.shards == 0 || s.shards > 65536) {
    return bad("shards must be between 1 and 65536");
  }
  std::set<std::string> names;
  for (const plan_settings& p : s.plans) {
    const std::string where = "plan '" + p.name + "': ";
    if (p.name.empty() || !names.insert(p.name).second) {
      return bad(where + "plan names must be non-empty and unique");
    }
    if (!(p.watch_at > 0 && p.watch_at < p.throttle_at && p.throttle_at < p.hold_at)) {
      return bad(where + "thresholds must satisfy 0 < watch_at < throttle_at < hold_at");
    }
    if (!(p.prior_messages_per_day > 0 && p.prior_recipients_per_day > 0)) {
      return bad(where + "prior_messages_per_day and prior_recipients_per_day must be > 0");
    }
    if (!(p.baseline_alpha > 0 && p.baseline_alpha <= 1)) {
      return bad(where + "baseline_alpha must be in (0, 1]");
    }
    for (std::size_t w = 0; w < window_count; ++w) {
      if (!(p.floor_messages[w] > 0 && p.floor_recipients[w] > 0 && p.burst_factor[w] >= 0)) {
        return bad(where + "floors must be > 0 and burst factors >= 0");
      }
    }
    if (!(p.novelty_weight >= 0 && p.content_weight >= 0 && p.churn_weight >= 0 && p.campaign_weight >= 0 &&
          p.takeover_weight >= 0 && p.bounce_weight >= 0)) {
      return bad(where + "weights must be >= 0");
    }
    if (!(p.throttle_messages_per_hour >= 0)) {
      return bad(where + "throttle_messages_per_hour must be >= 0");
    }
  }
  if (names.count(s.default_plan) == 0) {
    return bad("default_plan '" + s.default_plan + "' is not one of the plans");
  }
  return {};
}

}  // namespace pw::behavior
