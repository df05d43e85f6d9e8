// fuzz/scenario_fuzz.cpp — libFuzzer target for the simulator's scenario parser.
//
// A scenario file is operator-written but parsed as untrusted: any bytes must parse or fail with
// messages naming the origin, never crash. What parses must keep the header's promises, which the
// simulator relies on without checking again: every range has low <= high, every share lies in
// [0, 1], every entry's count is at most max_actors_per_entry, and every kind has a name. The
// comparisons are written so that NaN fails them, since TOML can spell `nan`.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/scenario.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    __builtin_trap();
  }
}

void check_range(const pw::sim::range& r) { check(r.low <= r.high); }

void check_share(double s) { check(s >= 0 && s <= 1); }

void check_population(const pw::sim::population_settings& p) {
  check_share(p.residential_share);
  check_share(p.many_share);
  check_share(p.new_recipient_share);
  check_share(p.reply_share);
  check_share(p.bot_daily_rate);
  check_share(p.hijack_weekly_rate);
  check_range(p.contacts);
}

void check_actor(const pw::sim::actor_settings& a) {
  check(a.count <= pw::sim::max_actors_per_entry);
  check(!pw::sim::kind_name(a.kind).empty());
  check_share(a.multi_recipient_share);
  check_share(a.slow_share);
  check_share(a.known_contact_share);
  check_share(a.invalid_recipient_share.low);
  check_share(a.invalid_recipient_share.high);
  for (const auto* r : {&a.start_ms, &a.rate_per_minute, &a.rate_per_hour, &a.block_ms, &a.gap_ms, &a.burst,
                        &a.invalid_recipient_share, &a.multi_recipients, &a.campaign_switch_ms, &a.bots,
                        &a.burst_recipients_per_hour, &a.burst_ms, &a.trickle_recipients_per_hour, &a.trickle_ms,
                        &a.login_ips, &a.messages, &a.bcc_recipients, &a.copies, &a.holiday_contacts, &a.members,
                        &a.posts_per_day, &a.fanout_ms, &a.fixed_recipients}) {
    check_range(*r);
  }
}

}  // namespace

void check_response(const pw::sim::response_model& r) {
  check_share(r.respond);
  check_share(r.call_support_share);
  check_share(r.cleanup_works);
  check(r.delay_median_ms > 0 && r.delay_sigma >= 0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = pw::sim::parse_scenario(text, "fuzz.toml");
  if (!parsed) {
    check(parsed.error().message.rfind("fuzz.toml:", 0) == 0);  // every refusal says where and why
    return 0;
  }
  check_population(parsed->population);
  for (const auto& a : parsed->actors) {
    check_actor(a);
  }
  check_response(parsed->desk.compromised);
  check_response(parsed->desk.legitimate);
  check(parsed->desk.tick_ms > 0);
  return 0;
}
