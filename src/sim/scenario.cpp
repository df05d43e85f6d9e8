#include "sim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>
#include <toml++/toml.h>

#include "config/config.hpp"

namespace pw::sim {
namespace {

// Collects problems with their positions, like the config module's reader.
struct reader {
  std::string origin;
  std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, std::string>> problems;

  void problem(const toml::node& n, const std::string& what) {
    const auto& b = n.source().begin;
    problems.push_back({{b.line, b.column}, origin + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                                                ": " + what});
  }
};

// Finite numbers only: TOML's nan and inf would pass every range check written as `v < low`.
std::optional<double> as_number(const toml::node& n) {
  if (auto i = n.value_exact<std::int64_t>()) return static_cast<double>(*i);
  if (auto d = n.value_exact<double>(); d && std::isfinite(*d)) return *d;
  return std::nullopt;
}

// Durations are bounded here, so every later conversion between double and int64 stays in range.
constexpr std::int64_t max_duration_ms = 10LL * 365 * 86'400'000;

std::optional<std::int64_t> as_duration_ms(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) {
    if (auto ms = config::parse_duration_ms(*s); ms && *ms <= max_duration_ms) return *ms;
  }
  return std::nullopt;
}

std::optional<double> as_duration(const toml::node& n) {
  if (auto ms = as_duration_ms(n)) return static_cast<double>(*ms);
  return std::nullopt;
}

// One key's reader: writes the field or reports why not.
using binder = std::function<void(const toml::node&, const std::string&, reader&)>;

binder number(double& field, double low, double high) {
  return [&field, low, high](const toml::node& n, const std::string& key, reader& r) {
    auto v = as_number(n);
    if (!v) return r.problem(n, key + " must be a number");
    if (*v < low || *v > high) {
      std::ostringstream os;
      os << key << " must be between " << low << " and " << high;
      return r.problem(n, os.str());
    }
    field = *v;
  };
}

binder share(double& field) { return number(field, 0, 1); }

binder count(std::uint64_t& field, std::uint64_t high) {
  return [&field, high](const toml::node& n, const std::string& key, reader& r) {
    auto v = n.value_exact<std::int64_t>();
    if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > high) {
      return r.problem(n, key + " must be an integer between 0 and " + std::to_string(high));
    }
    field = static_cast<std::uint64_t>(*v);
  };
}

binder duration(std::int64_t& field) {
  return [&field](const toml::node& n, const std::string& key, reader& r) {
    auto v = as_duration_ms(n);
    if (!v) return r.problem(n, key + " must be a duration such as \"90s\", \"5m\", \"2h\" or \"3d\" (at most 10 years)");
    field = *v;
  };
}

// A range of numbers (`durations` false) or of durations: `[low, high]` or one value.
binder span_of(range& field, bool durations, double low_limit, double high_limit) {
  return [&field, durations, low_limit, high_limit](const toml::node& n, const std::string& key, reader& r) {
    const auto one = [&](const toml::node& v) { return durations ? as_duration(v) : as_number(v); };
    const char* what = durations ? "a duration or [low, high] durations" : "a number or [low, high]";
    range out;
    if (const auto* arr = n.as_array()) {
      if (arr->size() != 2) return r.problem(n, key + " must be " + what);
      auto lo = one(*arr->get(0));
      auto hi = one(*arr->get(1));
      if (!lo || !hi) return r.problem(n, key + " must be " + std::string(what));
      out = {*lo, *hi};
    } else if (auto v = one(n)) {
      out = {*v, *v};
    } else {
      return r.problem(n, key + " must be " + std::string(what));
    }
    if (out.low > out.high) return r.problem(n, key + ": low is above high");
    if (out.low < low_limit || out.high > high_limit) {
      std::ostringstream os;
      os << key << " must lie between " << low_limit << " and " << high_limit;
      return r.problem(n, os.str());
    }
    field = out;
  };
}

binder numbers(std::vector<double>& field, std::size_t max_size) {
  return [&field, max_size](const toml::node& n, const std::string& key, reader& r) {
    const auto* arr = n.as_array();
    if (arr == nullptr || arr->empty() || arr->size() > max_size) {
      return r.problem(n, key + " must be a list of 1 to " + std::to_string(max_size) + " numbers");
    }
    std::vector<double> out;
    for (const auto& v : *arr) {
      auto d = as_number(v);
      if (!d || *d < 0) return r.problem(v, key + " must hold non-negative numbers");
      out.push_back(*d);
    }
    field = std::move(out);
  };
}

binder durations_list(std::vector<std::int64_t>& field) {
  return [&field](const toml::node& n, const std::string& key, reader& r) {
    const auto* arr = n.as_array();
    if (arr == nullptr || arr->empty() || arr->size() > 32) return r.problem(n, key + " must be a list of 1 to 32 durations");
    std::vector<std::int64_t> out;
    for (const auto& v : *arr) {
      auto d = as_duration_ms(v);
      if (!d || *d <= 0) return r.problem(v, key + " must hold positive durations of at most 10 years");
      out.push_back(*d);
    }
    field = std::move(out);
  };
}

binder text(std::string& field, std::size_t max_bytes) {
  return [&field, max_bytes](const toml::node& n, const std::string& key, reader& r) {
    auto v = n.value_exact<std::string>();
    if (!v || v->size() > max_bytes) return r.problem(n, key + " must be a string of at most " + std::to_string(max_bytes) + " bytes");
    field = *v;
  };
}

binder flag(bool& field) {
  return [&field](const toml::node& n, const std::string& key, reader& r) {
    auto v = n.value_exact<bool>();
    if (!v) return r.problem(n, key + " must be true or false");
    field = *v;
  };
}

void read_table(const toml::table& t, const std::string& prefix, const std::map<std::string, binder>& keys, reader& r) {
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    auto it = keys.find(key);
    if (it == keys.end()) {
      r.problem(v, "unknown key " + prefix + key);
      continue;
    }
    it->second(v, prefix + key, r);
  }
}

// A table inside a table ([desk.compromised]); its keys are named with the full dotted path.
binder sub_table(std::map<std::string, binder> keys) {
  return [keys = std::move(keys)](const toml::node& n, const std::string& key, reader& r) {
    const auto* t = n.as_table();
    if (t == nullptr) return r.problem(n, "[" + key + "] must be a table");
    read_table(*t, key + ".", keys, r);
  };
}

// A key an older scenario file may still carry: refused, saying where its meaning went.
binder moved_to_desk(std::string where) {
  return [where = std::move(where)](const toml::node& n, const std::string& key, reader& r) {
    r.problem(n, key + " is no longer read: the customer's answer to the abuse desk is modelled per role in " +
                     "[desk] (" + where + "; docs/SIMULATOR.md)");
  };
}

binder positive_duration(std::int64_t& field) {
  return [&field](const toml::node& n, const std::string& key, reader& r) {
    auto v = as_duration_ms(n);
    if (!v || *v <= 0) return r.problem(n, key + " must be a positive duration such as \"90s\", \"5m\", \"2h\" or \"3d\" (at most 10 years)");
    field = *v;
  };
}

binder positive_duration(double& field) {
  return [&field](const toml::node& n, const std::string& key, reader& r) {
    auto v = as_duration_ms(n);
    if (!v || *v <= 0) return r.problem(n, key + " must be a positive duration such as \"90s\", \"5m\", \"2h\" or \"3d\" (at most 10 years)");
    field = static_cast<double>(*v);
  };
}

binder signed_count(std::int64_t& field, std::int64_t high) {
  return [&field, high](const toml::node& n, const std::string& key, reader& r) {
    auto v = n.value_exact<std::int64_t>();
    if (!v || *v < 0 || *v > high) return r.problem(n, key + " must be an integer between 0 and " + std::to_string(high));
    field = *v;
  };
}

constexpr double day_ms = 86400'000.0;
constexpr double year_ms = 365 * day_ms;

std::map<std::string, binder> population_keys(population_settings& p) {
  return {
      {"residential_share", share(p.residential_share)},
      {"messages_per_day", number(p.messages_per_day, 0, 10'000)},
      {"business_messages_per_day", number(p.business_messages_per_day, 0, 10'000)},
      {"rate_sigma", number(p.rate_sigma, 0, 5)},
      {"recipient_weights", numbers(p.recipient_weights, 4)},
      {"many_share", share(p.many_share)},
      {"max_recipients", number(p.max_recipients, 5, 1000)},
      {"contacts", span_of(p.contacts, false, 1, 10'000)},
      {"new_recipient_share", share(p.new_recipient_share)},
      {"reply_share", share(p.reply_share)},
      {"login_share", share(p.login_share)},
      {"roaming_share", share(p.roaming_share)},
      {"phone_message_share", share(p.phone_message_share)},
      {"diurnal_amplitude", number(p.diurnal_amplitude, 0, 0.99)},
      {"residential_peak_hour", number(p.residential_peak_hour, 0, 24)},
      {"business_peak_hour", number(p.business_peak_hour, 0, 24)},
      {"residential_weekend_factor", number(p.residential_weekend_factor, 0, 10)},
      {"business_weekend_factor", number(p.business_weekend_factor, 0, 10)},
      {"bot_daily_rate", share(p.bot_daily_rate)},
      {"bot_kind_weights", numbers(p.bot_kind_weights, 3)},
      {"hijack_weekly_rate", share(p.hijack_weekly_rate)},
      {"retry_delays", durations_list(p.retry_delays_ms)},
      {"retry_horizon", duration(p.retry_horizon_ms)},
      {"invalid_recipient_share", share(p.invalid_recipient_share)},
      {"bounce_delay", span_of(p.bounce_delay_ms, true, 0, day_ms)},
      {"cleanup_delay", moved_to_desk("desk.compromised.delay_median and desk.legitimate.delay_median")},
      {"respond_share", moved_to_desk("desk.compromised.respond and desk.legitimate.respond")},
  };
}

std::map<std::string, binder> response_keys(response_model& m, bool compromised) {
  std::map<std::string, binder> keys = {
      {"respond", share(m.respond)},
      {"call_support_share", share(m.call_support_share)},
      {"delay_median", positive_duration(m.delay_median_ms)},
      {"delay_sigma", number(m.delay_sigma, 0, 5)},
  };
  if (compromised) {  // a legitimate subscriber has nothing to clean up
    keys.emplace("cleanup_works", share(m.cleanup_works));
  }
  return keys;
}

std::map<std::string, binder> desk_keys(desk_settings& d) {
  return {
      {"compromised", sub_table(response_keys(d.compromised, true))},
      {"legitimate", sub_table(response_keys(d.legitimate, false))},
      {"unanswered_escalation", positive_duration(d.unanswered_escalation_ms)},
      {"tick", positive_duration(d.tick_ms)},
      {"monitoring", duration(d.cases.monitoring_ms)},
      {"reoffence_window", duration(d.cases.reoffence_window_ms)},
      {"self_help_limit", signed_count(d.cases.self_help_limit, 1000)},
      {"self_help_window", duration(d.cases.self_help_window_ms)},
      {"verify_messages", number(d.cases.verify_messages, 0, 1e6)},
      {"verify_quiet", duration(d.cases.verify_quiet_ms)},
      {"first_notice_delay", duration(d.cadence.first_delay_ms)},
      {"reminder_interval", positive_duration(d.cadence.reminder_interval_ms)},
      {"max_reminders", signed_count(d.cadence.max_reminders, 1000)},
      {"max_notices_per_day", signed_count(d.cadence.max_per_day, 1000)},
  };
}

std::map<std::string, binder> actor_keys(actor_settings& a, std::string& kind_text) {
  return {
      {"kind", text(kind_text, 32)},
      {"count", count(a.count, max_actors_per_entry)},
      {"start", span_of(a.start_ms, true, 0, year_ms)},
      {"rate_per_minute", span_of(a.rate_per_minute, false, 0.01, 100'000)},
      {"rate_per_hour", span_of(a.rate_per_hour, false, 0.01, 100'000)},
      {"block", span_of(a.block_ms, true, 60'000, day_ms)},
      {"gap", span_of(a.gap_ms, true, 0, 30 * day_ms)},
      {"burst", span_of(a.burst, false, 1, 1000)},
      {"max_per_domain_per_day", number(a.max_per_domain_per_day, 1, 1e6)},
      {"invalid_recipient_share", span_of(a.invalid_recipient_share, false, 0, 1)},
      {"multi_recipient_share", share(a.multi_recipient_share)},
      {"multi_recipients", span_of(a.multi_recipients, false, 1, 1000)},
      {"campaign_switch", span_of(a.campaign_switch_ms, true, 60'000, year_ms)},
      {"campaigns", count(a.campaigns, 1000)},
      {"bots", span_of(a.bots, false, 1, 100'000)},
      {"start_spread", duration(a.start_spread_ms)},
      {"slow_share", share(a.slow_share)},
      {"mode", text(a.mode, 16)},
      {"burst_recipients_per_hour", span_of(a.burst_recipients_per_hour, false, 1, 1e6)},
      {"burst_duration", span_of(a.burst_ms, true, 60'000, 30 * day_ms)},
      {"trickle_recipients_per_hour", span_of(a.trickle_recipients_per_hour, false, 1, 1e6)},
      {"trickle", span_of(a.trickle_ms, true, 60'000, year_ms)},
      {"login_ips", span_of(a.login_ips, false, 1, 65'536)},
      {"messages", span_of(a.messages, false, 1, 10'000)},
      {"bcc_recipients", span_of(a.bcc_recipients, false, 1, 1000)},
      {"known_contact_share", share(a.known_contact_share)},
      {"copies", span_of(a.copies, false, 1, 1e6)},
      {"newsletter_rate_per_minute", number(a.newsletter_rate_per_minute, 0.01, 100'000)},
      {"period", duration(a.period_ms)},
      {"hijacked", flag(a.hijacked)},
      {"hijack_after", duration(a.hijack_after_ms)},
      {"holiday_contacts", span_of(a.holiday_contacts, false, 1, 10'000)},
      {"members", span_of(a.members, false, 1, 1e6)},
      {"posts_per_day", span_of(a.posts_per_day, false, 0, 10'000)},
      {"batch_recipients", number(a.batch_recipients, 1, 1000)},
      {"fanout", span_of(a.fanout_ms, true, 0, day_ms)},
      {"interval", duration(a.interval_ms)},
      {"fixed_recipients", span_of(a.fixed_recipients, false, 1, 100)},
  };
}

constexpr std::array<std::string_view, 10> kind_names = {
    "s1_high_rate", "s2_steady", "s3_low_slow", "s4_campaign", "s5_hijack",
    "s6_contacts",  "s7_newsletter", "s8_holiday", "s9_list_owner", "s10_printer",
};

}  // namespace

std::string_view kind_name(actor_kind k) noexcept { return kind_names[static_cast<std::size_t>(k)]; }

actor_settings default_actor(actor_kind k) {
  actor_settings a;
  a.kind = k;
  if (k == actor_kind::s2_steady || k == actor_kind::s4_campaign) {
    a.rate_per_minute = {15, 35};
    a.block_ms = {10.0 * 3600'000, 14.0 * 3600'000};
  }
  return a;
}

result<scenario> parse_scenario(std::string_view text_in, std::string_view origin) {
  if (text_in.size() > max_scenario_bytes) {
    return make_error(errc::invalid_config, std::string(origin) + ": larger than " +
                                                std::to_string(max_scenario_bytes) + " bytes");
  }
  toml::table doc;
  try {
    doc = toml::parse(text_in, std::string(origin));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return make_error(errc::invalid_config, std::string(origin) + ":" + std::to_string(b.line) + ":" +
                                                std::to_string(b.column) + ": " + std::string(e.description()));
  }
  reader r{std::string(origin), {}};
  scenario out;
  for (const auto& [k, v] : doc) {
    const std::string key(k.str());
    if (key == "scenario") {
      if (const auto* t = v.as_table()) {
        read_table(*t, "scenario.", {{"name", text(out.name, 200)}, {"description", text(out.description, 4000)}}, r);
      } else {
        r.problem(v, "[scenario] must be a table");
      }
    } else if (key == "population") {
      if (const auto* t = v.as_table()) {
        read_table(*t, "population.", population_keys(out.population), r);
      } else {
        r.problem(v, "[population] must be a table");
      }
    } else if (key == "actors") {
      const auto* arr = v.as_array();
      if (arr == nullptr || !arr->is_array_of_tables()) {
        r.problem(v, "actors must be [[actors]] tables");
        continue;
      }
      for (const auto& entry : *arr) {
        // The kind first: it chooses the defaults the other keys override.
        std::string kind_text;
        if (auto kind_node = entry.as_table()->get("kind"); kind_node != nullptr && kind_node->value_exact<std::string>()) {
          kind_text = *kind_node->value_exact<std::string>();
        }
        auto it = std::find(kind_names.begin(), kind_names.end(), kind_text);
        actor_settings a = it == kind_names.end() ? actor_settings{} : default_actor(static_cast<actor_kind>(it - kind_names.begin()));
        read_table(*entry.as_table(), "actors.", actor_keys(a, kind_text), r);
        it = std::find(kind_names.begin(), kind_names.end(), kind_text);
        if (it == kind_names.end()) {
          r.problem(entry, "actors.kind must be one of s1_high_rate, s2_steady, s3_low_slow, s4_campaign, "
                           "s5_hijack, s6_contacts, s7_newsletter, s8_holiday, s9_list_owner, s10_printer");
          continue;
        }
        a.kind = static_cast<actor_kind>(it - kind_names.begin());
        if (a.mode != "burst" && a.mode != "trickle" && a.mode != "mixed") {
          r.problem(entry, "actors.mode must be \"burst\", \"trickle\" or \"mixed\"");
        }
        if (a.interval_ms <= 0 || a.period_ms <= 0) {
          r.problem(entry, "actors.interval and actors.period must be positive");
        }
        out.actors.push_back(a);
      }
    } else if (key == "desk") {
      if (const auto* t = v.as_table()) {
        read_table(*t, "desk.", desk_keys(out.desk), r);
      } else {
        r.problem(v, "[desk] must be a table");
      }
    } else {
      r.problem(v, "unknown table or key " + key + " (expected [scenario], [population], [[actors]], [desk])");
    }
  }
  if (r.problems.empty()) {
    return out;
  }
  std::sort(r.problems.begin(), r.problems.end());
  std::string all;
  for (const auto& p : r.problems) {
    all += p.second + "\n";
  }
  all.pop_back();
  return make_error(errc::invalid_config, all);
}

}  // namespace pw::sim
