#include "desk/exemption_rules.hpp"

#include <algorithm>

#include "desk/lifecycle.hpp"

namespace pw::desk {
namespace {

using ledger::exemption_row;
using ledger::exemption_status;

std::string days_words(std::int64_t days) { return std::to_string(days) + (days == 1 ? " day" : " days"); }

bool in_force(const exemption_row& e, std::int64_t now_ms) noexcept {
  return e.status == exemption_status::active && (!e.expires_ms || *e.expires_ms > now_ms);
}

exemption_decision decided(exemption_outcome outcome, std::string reason) {
  return exemption_decision{outcome, std::string(exemption_outcome_name(outcome)) + ": " + std::move(reason), {}};
}

}  // namespace

std::string_view exemption_outcome_name(exemption_outcome o) noexcept {
  switch (o) {
    case exemption_outcome::granted:
      return "granted";
    case exemption_outcome::queued:
      return "queued";
    case exemption_outcome::refused:
      return "refused";
  }
  return "refused";
}

exemption_status status_for(exemption_outcome o) noexcept {
  switch (o) {
    case exemption_outcome::granted:
      return exemption_status::active;
    case exemption_outcome::queued:
      return exemption_status::pending;
    case exemption_outcome::refused:
      return exemption_status::refused;
  }
  return exemption_status::refused;
}

exemption_decision decide_exemption(const exemption_request& request, const exemption_plan_rules& plan) {
  const std::int64_t now = request.now_ms;
  for (const auto& e : request.existing) {
    if (in_force(e, now)) {
      return decided(exemption_outcome::refused, "your account already has a port-25 exemption in force");
    }
  }
  for (const auto& e : request.existing) {
    if (e.status == exemption_status::pending) {
      return decided(exemption_outcome::refused,
                     "your earlier request is already waiting for a person at the "
                     "abuse desk");
    }
  }
  for (const auto& e : request.existing) {
    if (e.status == exemption_status::suspended) {
      return decided(exemption_outcome::queued,
                     "your exemption was suspended after a security case; a person "
                     "at the abuse desk will review it");
    }
  }
  if (plan.port25_open_by_default) {
    return decided(exemption_outcome::refused, "your plan already allows sending to port 25; no exemption is needed");
  }
  if (request.case_open_now) {
    return decided(exemption_outcome::refused,
                   "your account has an open security case; exemptions need it resolved and " +
                       days_words(plan.no_case_days) + " without one");
  }
  if (request.last_case_opened_ms && plan.no_case_days > 0) {
    const std::int64_t since = now - *request.last_case_opened_ms;
    if (since < plan.no_case_days * ms_per_day) {
      return decided(exemption_outcome::refused,
                     "your account had a security case " + days_words(std::max<std::int64_t>(0, since / ms_per_day)) +
                         " ago; exemptions need " + days_words(plan.no_case_days) + " without one");
    }
  }
  const std::int64_t age_days = (now - request.subscriber.created_ms) / ms_per_day;
  if (age_days < plan.min_account_age_days) {
    return decided(exemption_outcome::refused, "your account is " + days_words(std::max<std::int64_t>(0, age_days)) +
                                                   " old; exemptions need accounts at least " +
                                                   days_words(plan.min_account_age_days) + " old");
  }
  if (plan.require_static_address && request.subscriber.addresses.empty()) {
    return decided(exemption_outcome::refused,
                   "exemptions on your plan need a static address, and your account "
                   "has none");
  }
  if (!plan.self_service) {
    return decided(exemption_outcome::queued, "on your plan a person at the abuse desk decides exemption requests");
  }
  const auto auto_grants = std::count_if(request.existing.begin(), request.existing.end(), [](const exemption_row& e) {
    return e.decided_by == "rules" && e.status != exemption_status::pending && e.status != exemption_status::refused;
  });
  if (auto_grants >= plan.max_auto_grants) {
    return decided(exemption_outcome::queued, "the automatic grant was already used " + std::to_string(auto_grants) +
                                                  (auto_grants == 1 ? " time" : " times") +
                                                  "; a person at the abuse desk will review this request");
  }
  exemption_decision d = decided(exemption_outcome::granted, "your account meets the rules of your plan");
  if (plan.grant_days > 0) {
    d.expires_ms = now + plan.grant_days * ms_per_day;
    d.reason += "; the exemption runs for " + days_words(plan.grant_days);
  }
  return d;
}

std::vector<exemption_row> suspensions_for_case(std::string_view subscriber, std::span<const exemption_row> existing,
                                                bool plan_open_by_default, std::int64_t case_id, std::int64_t now_ms) {
  const std::string why = "suspended: case " + std::to_string(case_id) + " found the account compromised";
  std::vector<exemption_row> out;
  bool already_suspended = false;
  for (const auto& e : existing) {
    already_suspended = already_suspended || e.status == exemption_status::suspended;
    if (in_force(e, now_ms)) {
      exemption_row s = e;
      s.status = exemption_status::suspended;
      s.decided_by = "system";
      s.decision = why;
      s.updated_ms = now_ms;
      out.push_back(std::move(s));
    }
  }
  if (plan_open_by_default && !already_suspended && out.empty()) {
    exemption_row block;
    block.subscriber = std::string(subscriber);
    block.status = exemption_status::suspended;
    block.reason = "the plan's open port 25, suspended while the account is compromised";
    block.decided_by = "system";
    block.decision = why;
    block.requested_ms = now_ms;
    block.updated_ms = now_ms;
    out.push_back(std::move(block));
  }
  return out;
}

std::vector<exemption_row> restorations_after_case(std::span<const exemption_row> existing, bool plan_open_by_default,
                                                   std::int64_t case_id, std::int64_t now_ms) {
  std::vector<exemption_row> out;
  for (const auto& e : existing) {
    if (e.status != exemption_status::suspended || e.decided_by != "system") {
      continue;
    }
    exemption_row r = e;
    const bool still_valid = !e.expires_ms || *e.expires_ms > now_ms;
    r.status = !plan_open_by_default && still_valid ? exemption_status::active : exemption_status::revoked;
    r.decided_by = "system";
    r.decision = r.status == exemption_status::active ? "restored: case " + std::to_string(case_id) + " was resolved"
                                                      : "lifted: case " + std::to_string(case_id) + " was resolved";
    r.updated_ms = now_ms;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace pw::desk
