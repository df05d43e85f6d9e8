// Tests for desk/lifecycle.hpp: cases open at throttle/hold only, levels only rise, re-offence
// within 30 days and a relapse in monitoring escalate, the self-help fix works once per window, every
// operator action in every state (allowed or refused in plain words), notices and the monitoring timer.
#include <gtest/gtest.h>

#include <array>

#include "desk/lifecycle.hpp"

namespace pw::desk {
namespace {

using ledger::case_row;
using ledger::case_status;

constexpr std::int64_t t0 = 1'795'796'827'000;  // 2026-11-27T16:27:07Z

case_row make_case(case_status status, std::string level = "hold") {
  case_row c;
  c.id = 17;
  c.subscriber = "alice";
  c.status = status;
  c.level = std::move(level);
  c.summary = "120 messages in 10 min (baseline 3/day)";
  c.opened_ms = t0;
  c.updated_ms = t0;
  if (status == case_status::monitoring) {
    c.monitoring_until_ms = t0 + 72 * ms_per_hour;
  }
  if (status == case_status::resolved) {
    c.resolved_ms = t0;
  }
  return c;
}

TEST(DeskLifecycle, OnlyThrottleAndHoldOpenCases) {
  for (const char* level : {"normal", "watch", "", "HOLD", "unknown"}) {
    const auto out = on_engine_level(std::nullopt, std::nullopt, level, t0);
    EXPECT_EQ(out.action, level_action::nothing) << level;
  }
  for (const char* level : {"throttle", "hold"}) {
    const auto out = on_engine_level(std::nullopt, std::nullopt, level, t0);
    EXPECT_EQ(out.action, level_action::open_case) << level;
    EXPECT_EQ(out.level, level);
    EXPECT_FALSE(out.escalate);
    EXPECT_TRUE(out.event_kind.empty());
    EXPECT_FALSE(out.updated);
  }
}

TEST(DeskLifecycle, LevelsOnlyRise) {
  const auto raised = on_engine_level(make_case(case_status::notified, "throttle"), std::nullopt, "hold", t0 + 5000);
  ASSERT_EQ(raised.action, level_action::update_case);
  ASSERT_TRUE(raised.updated);
  EXPECT_EQ(raised.updated->level, "hold");
  EXPECT_EQ(raised.updated->status, case_status::notified);
  EXPECT_EQ(raised.updated->updated_ms, t0 + 5000);
  EXPECT_EQ(raised.event_kind, "level");
  EXPECT_EQ(raised.reason, "level raised from throttle to hold");
  EXPECT_FALSE(raised.escalate);

  EXPECT_EQ(on_engine_level(make_case(case_status::open, "hold"), std::nullopt, "throttle", t0).action,
            level_action::nothing);
  EXPECT_EQ(on_engine_level(make_case(case_status::open, "hold"), std::nullopt, "hold", t0).action,
            level_action::nothing);
  EXPECT_EQ(on_engine_level(make_case(case_status::escalated, "hold"), std::nullopt, "hold", t0).action,
            level_action::nothing);
}

TEST(DeskLifecycle, ReoffenceWithinThirtyDaysEscalates) {
  case_row last = make_case(case_status::resolved);
  last.id = 7;
  last.resolved_ms = t0 - 12 * ms_per_day;
  const auto again = on_engine_level(std::nullopt, last, "hold", t0);
  EXPECT_EQ(again.action, level_action::open_case);
  EXPECT_TRUE(again.escalate);
  EXPECT_EQ(again.event_kind, "reoffence");
  EXPECT_EQ(again.reason,
            "re-offence: reached hold 12 days after case 7 was resolved (within 30 days), so a person looks at it");

  last.resolved_ms = t0 - 30 * ms_per_day;  // the window is [0, 30 days)
  const auto later = on_engine_level(std::nullopt, last, "throttle", t0);
  EXPECT_EQ(later.action, level_action::open_case);
  EXPECT_FALSE(later.escalate);

  lifecycle_settings short_window;
  short_window.reoffence_window_ms = 2 * ms_per_hour;
  last.resolved_ms = t0 - ms_per_hour;
  const auto hours = on_engine_level(std::nullopt, last, "throttle", t0, short_window);
  EXPECT_TRUE(hours.escalate);
  EXPECT_NE(hours.reason.find("1 hour after case 7"), std::string::npos) << hours.reason;
}

TEST(DeskLifecycle, RelapseInMonitoringEscalates) {
  for (const char* level : {"throttle", "hold"}) {
    const auto out = on_engine_level(make_case(case_status::monitoring, "hold"), std::nullopt, level, t0 + 1000);
    ASSERT_EQ(out.action, level_action::update_case) << level;
    EXPECT_TRUE(out.escalate);
    EXPECT_EQ(out.event_kind, "escalated");
    EXPECT_EQ(out.updated->status, case_status::escalated);
    EXPECT_EQ(out.updated->level, "hold");  // never lowered
    EXPECT_FALSE(out.updated->monitoring_until_ms);
    EXPECT_NE(out.reason.find("the fix did not hold"), std::string::npos);
  }
  EXPECT_EQ(on_engine_level(make_case(case_status::monitoring), std::nullopt, "watch", t0).action,
            level_action::nothing);
}

TEST(DeskLifecycle, SelfHelpFixOncePerWindow) {
  for (const auto status : {case_status::open, case_status::notified}) {
    const auto lift = on_customer_fixed(make_case(status), 0, {}, t0 + 60'000);
    ASSERT_EQ(lift.decision, fix_decision::lift);
    EXPECT_EQ(lift.updated->status, case_status::monitoring);
    EXPECT_EQ(lift.updated->monitoring_until_ms, t0 + 60'000 + 72 * ms_per_hour);
    EXPECT_EQ(lift.reason,
              "the hold is lifted and the held mail is on its way; we watch for 3 days that everything stays normal");
  }
  const auto repeat = on_customer_fixed(make_case(case_status::notified), 1, {}, t0);
  ASSERT_EQ(repeat.decision, fix_decision::to_person);
  EXPECT_EQ(repeat.updated->status, case_status::escalated);
  EXPECT_EQ(
      repeat.reason,
      "the self-help fix was already used 1 time in the last 30 days; a person at the abuse desk will look at it");

  lifecycle_settings two;
  two.self_help_limit = 2;
  EXPECT_EQ(on_customer_fixed(make_case(case_status::open), 1, {}, t0, two).decision, fix_decision::lift);
  EXPECT_EQ(on_customer_fixed(make_case(case_status::open), 2, {}, t0, two).decision, fix_decision::to_person);
}

TEST(DeskLifecycle, SelfHelpWaitsWhileMailIsStillLeaving) {
  // 3 or more messages in the last 10 minutes, the last under 10 minutes ago: the clean-up has not
  // worked; nothing is written and nothing used up.
  const recent_sending bot{41.6, 20'000};
  const auto refused = on_customer_fixed(make_case(case_status::notified), 0, bot, t0);
  EXPECT_EQ(refused.decision, fix_decision::still_sending);
  EXPECT_FALSE(refused.updated);
  EXPECT_NE(refused.reason.find("about 42 messages in the last 10 minutes, the last one less than a minute ago"),
            std::string::npos)
      << refused.reason;
  EXPECT_NE(refused.reason.find("wait 15 minutes"), std::string::npos);
  EXPECT_NE(refused.reason.find("still there for you"), std::string::npos);
  EXPECT_EQ(on_customer_fixed(make_case(case_status::open), 0, {3.0, 9 * 60'000}, t0).decision,
            fix_decision::still_sending);
  // Quiet since the clean-up (the window still remembers the bot), or a person's odd message: lifted.
  EXPECT_EQ(on_customer_fixed(make_case(case_status::open), 0, {300.0, 10 * 60'000}, t0).decision, fix_decision::lift);
  EXPECT_EQ(on_customer_fixed(make_case(case_status::open), 0, {2.9, 1'000}, t0).decision, fix_decision::lift);
  EXPECT_EQ(on_customer_fixed(make_case(case_status::open), 0, {50.0, std::nullopt}, t0).decision, fix_decision::lift);
  // A repeat goes to a person whatever is still seen; escalated cases stay with the person.
  EXPECT_EQ(on_customer_fixed(make_case(case_status::open), 1, bot, t0).decision, fix_decision::to_person);
  EXPECT_EQ(on_customer_fixed(make_case(case_status::escalated), 0, bot, t0).decision, fix_decision::to_person);
  lifecycle_settings off;
  off.verify_messages = 0;
  EXPECT_EQ(on_customer_fixed(make_case(case_status::open), 0, bot, t0, off).decision, fix_decision::lift);
}

TEST(DeskLifecycle, SelfHelpFixInOtherStates) {
  const auto escalated = on_customer_fixed(make_case(case_status::escalated), 0, {}, t0 + 1);
  EXPECT_EQ(escalated.decision, fix_decision::to_person);
  EXPECT_EQ(escalated.updated->status, case_status::escalated);
  EXPECT_NE(escalated.reason.find("already looking"), std::string::npos);

  for (const auto status : {case_status::monitoring, case_status::resolved}) {
    const auto out = on_customer_fixed(make_case(status), 0, {}, t0);
    EXPECT_EQ(out.decision, fix_decision::not_applicable);
    EXPECT_FALSE(out.updated);
    EXPECT_FALSE(out.reason.empty());
  }
}

// Every action in every state: the status after it, or empty when the action is refused.
TEST(DeskLifecycle, OperatorActionsInEveryState) {
  using enum case_status;
  constexpr std::array states{open, notified, monitoring, escalated, resolved};
  struct row {
    operator_action action;
    std::array<std::optional<case_status>, 5> after;  // per state, in the order of `states`
  };
  const std::array<row, 6> table{{
      {operator_action::note, {open, notified, monitoring, escalated, resolved}},
      {operator_action::assign, {open, notified, monitoring, escalated, std::nullopt}},
      {operator_action::release, {monitoring, monitoring, std::nullopt, monitoring, std::nullopt}},
      {operator_action::rehold, {escalated, escalated, escalated, escalated, std::nullopt}},
      {operator_action::escalate, {escalated, escalated, escalated, std::nullopt, std::nullopt}},
      {operator_action::close, {resolved, resolved, resolved, resolved, std::nullopt}},
  }};
  for (const auto& r : table) {
    for (std::size_t i = 0; i < states.size(); ++i) {
      const case_row before = make_case(states[i], "throttle");
      const auto after = apply_operator_action(before, r.action, t0 + 99, "bob");
      const std::string what =
          std::string(operator_action_name(r.action)) + " on " + std::string(ledger::status_name(states[i]));
      ASSERT_EQ(after.has_value(), r.after[i].has_value()) << what;
      if (!after) {
        EXPECT_EQ(after.error().code, errc::invalid_input);
        EXPECT_EQ(after.error().message.find("case 17 is " + std::string(ledger::status_name(states[i])) + ": "), 0u)
            << after.error().message;
        continue;
      }
      EXPECT_EQ(after->status, *r.after[i]) << what;
      EXPECT_EQ(after->updated_ms, t0 + 99);
    }
  }
}

TEST(DeskLifecycle, OperatorActionDetails) {
  const auto released = apply_operator_action(make_case(case_status::escalated), operator_action::release, t0);
  ASSERT_TRUE(released);
  EXPECT_EQ(released->monitoring_until_ms, t0 + 72 * ms_per_hour);

  const auto reheld =
      apply_operator_action(make_case(case_status::monitoring, "throttle"), operator_action::rehold, t0);
  ASSERT_TRUE(reheld);
  EXPECT_EQ(reheld->level, "hold");
  EXPECT_FALSE(reheld->monitoring_until_ms);

  const auto closed = apply_operator_action(make_case(case_status::notified), operator_action::close, t0 + 5);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->resolved_ms, t0 + 5);

  const auto assigned = apply_operator_action(make_case(case_status::open), operator_action::assign, t0, "carol");
  ASSERT_TRUE(assigned);
  EXPECT_EQ(assigned->assignee, "carol");
  const auto unassigned = apply_operator_action(*assigned, operator_action::assign, t0, "");
  EXPECT_EQ(unassigned->assignee, "");

  const auto refused = apply_operator_action(make_case(case_status::resolved), operator_action::release, t0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "case 17 is resolved: there is nothing left to release");

  const case_row note_before = make_case(case_status::notified);
  const auto noted = apply_operator_action(note_before, operator_action::note, t0 + 7);
  case_row expected = note_before;
  expected.updated_ms = t0 + 7;
  EXPECT_EQ(*noted, expected);
}

TEST(DeskLifecycle, ActionNamesRoundTrip) {
  for (const auto a : {operator_action::note, operator_action::assign, operator_action::release,
                       operator_action::rehold, operator_action::escalate, operator_action::close}) {
    EXPECT_EQ(parse_operator_action(operator_action_name(a)), a);
  }
  EXPECT_FALSE(parse_operator_action("delete"));
  EXPECT_FALSE(parse_operator_action(""));
}

TEST(DeskLifecycle, NoticeSentAdvancesCounters) {
  const auto first = on_notice_sent(make_case(case_status::open), t0 + 30'000);
  EXPECT_EQ(first.status, case_status::notified);
  EXPECT_EQ(first.notices_sent, 1);
  EXPECT_EQ(first.last_notice_ms, t0 + 30'000);
  const auto reminder = on_notice_sent(first, t0 + ms_per_day);
  EXPECT_EQ(reminder.notices_sent, 2);
  EXPECT_EQ(on_notice_sent(make_case(case_status::escalated), t0).status, case_status::escalated);
}

TEST(DeskLifecycle, MonitoringEndsOnTick) {
  const case_row m = make_case(case_status::monitoring);
  EXPECT_FALSE(on_tick(m, t0 + 72 * ms_per_hour - 1));
  const auto done = on_tick(m, t0 + 72 * ms_per_hour);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, case_status::resolved);
  EXPECT_EQ(done->resolved_ms, t0 + 72 * ms_per_hour);

  case_row without_end = m;
  without_end.monitoring_until_ms.reset();
  EXPECT_FALSE(on_tick(without_end, t0 + ms_per_hour));
  EXPECT_TRUE(on_tick(without_end, t0 + 72 * ms_per_hour));

  for (const auto s : {case_status::open, case_status::notified, case_status::escalated, case_status::resolved}) {
    EXPECT_FALSE(on_tick(make_case(s), t0 + 365 * ms_per_day));
  }
}

}  // namespace
}  // namespace pw::desk
