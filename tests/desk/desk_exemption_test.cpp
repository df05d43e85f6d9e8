// Tests for desk/exemption_rules.hpp: each rule of a port-25 exemption request in its order, with
// the plain-words reason the customer reads; suspension of a compromised subscriber (an open plan is
// blocked through a suspended row) and its undoing once the case is resolved.
#include <gtest/gtest.h>

#include <vector>

#include "desk/exemption_rules.hpp"
#include "desk/lifecycle.hpp"

namespace pw::desk {
namespace {

using ledger::exemption_row;
using ledger::exemption_status;
using ledger::subscriber_row;

constexpr std::int64_t now = 1'795'796'827'000;

subscriber_row veteran() {
  return subscriber_row{"carol", "residential", "carol@home.example", {"198.51.100.7"}, now - 400 * ms_per_day};
}

exemption_plan_rules self_service_plan() {
  exemption_plan_rules plan;
  plan.self_service = true;
  return plan;
}

exemption_row row(exemption_status status, std::string decided_by = "rules") {
  exemption_row e;
  e.id = 3;
  e.subscriber = "carol";
  e.status = status;
  e.decided_by = std::move(decided_by);
  e.requested_ms = now - 100 * ms_per_day;
  e.updated_ms = e.requested_ms;
  return e;
}

exemption_decision decide(const subscriber_row& s, const exemption_plan_rules& plan,
                          const std::vector<exemption_row>& existing = {},
                          std::optional<std::int64_t> last_case = std::nullopt, bool case_open = false) {
  return decide_exemption(exemption_request{s, existing, last_case, case_open, now}, plan);
}

TEST(DeskExemption, GrantedWhenEveryRuleIsMet) {
  const auto d = decide(veteran(), self_service_plan(), {}, now - 45 * ms_per_day);
  EXPECT_EQ(d.outcome, exemption_outcome::granted);
  EXPECT_EQ(d.expires_ms, now + 365 * ms_per_day);
  EXPECT_EQ(d.reason, "granted: your account meets the rules of your plan; the exemption runs for 365 days");
  EXPECT_EQ(status_for(d.outcome), exemption_status::active);

  exemption_plan_rules forever = self_service_plan();
  forever.grant_days = 0;
  EXPECT_FALSE(decide(veteran(), forever).expires_ms);
}

TEST(DeskExemption, RecentCaseRefusesWithHowLongAgo) {
  const auto d = decide(veteran(), self_service_plan(), {}, now - 12 * ms_per_day - 5000);
  EXPECT_EQ(d.outcome, exemption_outcome::refused);
  EXPECT_EQ(d.reason, "refused: your account had a security case 12 days ago; exemptions need 30 days without one");
  EXPECT_EQ(status_for(d.outcome), exemption_status::refused);

  const auto open = decide(veteran(), self_service_plan(), {}, now - 1000, true);
  EXPECT_EQ(open.outcome, exemption_outcome::refused);
  EXPECT_EQ(open.reason,
            "refused: your account has an open security case; exemptions need it resolved and 30 days "
            "without one");
}

TEST(DeskExemption, AccountAgeAndStaticAddress) {
  subscriber_row young = veteran();
  young.created_ms = now - 20 * ms_per_day;
  EXPECT_EQ(decide(young, self_service_plan()).reason,
            "refused: your account is 20 days old; exemptions need accounts at least 90 days old");

  subscriber_row dynamic = veteran();
  dynamic.addresses.clear();
  EXPECT_EQ(decide(dynamic, self_service_plan()).reason,
            "refused: exemptions on your plan need a static address, and your account has none");
  exemption_plan_rules any_address = self_service_plan();
  any_address.require_static_address = false;
  EXPECT_EQ(decide(dynamic, any_address).outcome, exemption_outcome::granted);
}

TEST(DeskExemption, PeopleDecideWhatTheRulesMayNot) {
  const auto manual = decide(veteran(), exemption_plan_rules{});
  EXPECT_EQ(manual.outcome, exemption_outcome::queued);
  EXPECT_EQ(manual.reason, "queued: on your plan a person at the abuse desk decides exemption requests");
  EXPECT_EQ(status_for(manual.outcome), exemption_status::pending);

  exemption_row old_grant = row(exemption_status::revoked);
  const auto again = decide(veteran(), self_service_plan(), {old_grant});
  EXPECT_EQ(again.outcome, exemption_outcome::queued);
  EXPECT_NE(again.reason.find("already used 1 time"), std::string::npos) << again.reason;
  // A grant made by a person does not use up the automatic one.
  EXPECT_EQ(decide(veteran(), self_service_plan(), {row(exemption_status::revoked, "dave")}).outcome,
            exemption_outcome::granted);
}

TEST(DeskExemption, ExistingRowsAnswerFirst) {
  EXPECT_EQ(decide(veteran(), self_service_plan(), {row(exemption_status::active)}).reason,
            "refused: your account already has a port-25 exemption in force");
  exemption_row expired = row(exemption_status::active);
  expired.expires_ms = now - 1;
  EXPECT_EQ(decide(veteran(), self_service_plan(), {expired}).outcome, exemption_outcome::queued)
      << "expired, and the one automatic grant is used";
  EXPECT_EQ(decide(veteran(), self_service_plan(), {row(exemption_status::pending, "")}).outcome,
            exemption_outcome::refused);
  const auto suspended = decide(veteran(), self_service_plan(), {row(exemption_status::suspended, "system")});
  EXPECT_EQ(suspended.outcome, exemption_outcome::queued);
  EXPECT_NE(suspended.reason.find("suspended after a security case"), std::string::npos);
}

TEST(DeskExemption, OpenPlansNeedNoExemption) {
  exemption_plan_rules business = self_service_plan();
  business.port25_open_by_default = true;
  EXPECT_TRUE(port25_default_open(business));
  EXPECT_FALSE(port25_default_open(exemption_plan_rules{}));
  EXPECT_EQ(decide(veteran(), business).reason,
            "refused: your plan already allows sending to port 25; no exemption is needed");
}

TEST(DeskExemption, CompromisedSubscriberIsSuspendedAndRestored) {
  exemption_row active = row(exemption_status::active);
  active.expires_ms = now + 10 * ms_per_day;
  const std::vector<exemption_row> closed_plan{active, row(exemption_status::refused)};
  const auto suspended = suspensions_for_case("carol", closed_plan, false, 17, now);
  ASSERT_EQ(suspended.size(), 1u);
  EXPECT_EQ(suspended[0].id, 3);
  EXPECT_EQ(suspended[0].status, exemption_status::suspended);
  EXPECT_EQ(suspended[0].decided_by, "system");
  EXPECT_EQ(suspended[0].decision, "suspended: case 17 found the account compromised");

  const auto restored = restorations_after_case(suspended, false, 17, now + ms_per_day);
  ASSERT_EQ(restored.size(), 1u);
  EXPECT_EQ(restored[0].status, exemption_status::active);
  EXPECT_EQ(restored[0].expires_ms, now + 10 * ms_per_day);
  const auto too_late = restorations_after_case(suspended, false, 17, now + 11 * ms_per_day);
  EXPECT_EQ(too_late[0].status, exemption_status::revoked);

  // An open plan with no rows: a new suspended row blocks the plan's default; undone as revoked.
  const auto block = suspensions_for_case("erin", {}, true, 18, now);
  ASSERT_EQ(block.size(), 1u);
  EXPECT_EQ(block[0].id, 0);
  EXPECT_EQ(block[0].subscriber, "erin");
  EXPECT_EQ(block[0].status, exemption_status::suspended);
  EXPECT_TRUE(suspensions_for_case("erin", block, true, 19, now).empty()) << "already blocked";
  const auto lifted = restorations_after_case(block, true, 18, now);
  ASSERT_EQ(lifted.size(), 1u);
  EXPECT_EQ(lifted[0].status, exemption_status::revoked);

  // A closed plan with nothing in force: nothing to write. A person's suspension stays.
  EXPECT_TRUE(suspensions_for_case("carol", std::vector{row(exemption_status::revoked)}, false, 20, now).empty());
  EXPECT_TRUE(restorations_after_case(std::vector{row(exemption_status::suspended, "dave")}, false, 20, now).empty());
}

}  // namespace
}  // namespace pw::desk
