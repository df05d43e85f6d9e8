#include "desk/lifecycle.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace pw::desk {
namespace {

using ledger::case_row;
using ledger::case_status;

// The levels that concern the desk, lowest first; 0 = a level that opens nothing.
int level_rank(std::string_view level) noexcept {
  if (level == "throttle") {
    return 1;
  }
  if (level == "hold") {
    return 2;
  }
  return 0;
}

std::string days_text(std::int64_t ms) {
  const std::int64_t days = ms / ms_per_day;
  if (days >= 1) {
    return std::to_string(days) + (days == 1 ? " day" : " days");
  }
  const std::int64_t hours = ms / ms_per_hour;
  return std::to_string(hours) + (hours == 1 ? " hour" : " hours");
}

bool unresolved(case_status s) noexcept { return s != case_status::resolved; }

case_row touched(const case_row& c, std::int64_t now_ms) {
  case_row out = c;
  out.updated_ms = now_ms;
  return out;
}

pw::error refused(const case_row& c, std::string_view what) {
  return make_error(errc::invalid_input, "case " + std::to_string(c.id) + " is " +
                                             std::string(ledger::status_name(c.status)) + ": " + std::string(what));
}

constexpr std::array<std::pair<operator_action, std::string_view>, 6> action_names{{
    {operator_action::note, "note"},
    {operator_action::assign, "assign"},
    {operator_action::release, "release"},
    {operator_action::rehold, "rehold"},
    {operator_action::escalate, "escalate"},
    {operator_action::close, "close"},
}};

}  // namespace

level_outcome on_engine_level(const std::optional<case_row>& unresolved_case,
                              const std::optional<case_row>& last_resolved, std::string_view level, std::int64_t now_ms,
                              const lifecycle_settings& settings) {
  level_outcome out;
  const int rank = level_rank(level);
  if (rank == 0) {
    return out;
  }
  if (!unresolved_case) {
    out.action = level_action::open_case;
    out.level = std::string(level);
    if (last_resolved && last_resolved->resolved_ms) {
      const std::int64_t since = now_ms - *last_resolved->resolved_ms;
      if (since >= 0 && since < settings.reoffence_window_ms) {
        out.escalate = true;
        out.event_kind = "reoffence";
        out.reason = "re-offence: reached " + std::string(level) + " " + days_text(since) + " after case " +
                     std::to_string(last_resolved->id) + " was resolved (within " +
                     days_text(settings.reoffence_window_ms) + "), so a person looks at it";
      }
    }
    return out;
  }

  const case_row& c = *unresolved_case;
  const bool raise = rank > level_rank(c.level);
  case_row updated = touched(c, now_ms);
  if (raise) {
    updated.level = std::string(level);
  }
  if (c.status == case_status::monitoring) {
    updated.status = case_status::escalated;
    updated.monitoring_until_ms.reset();
    out.action = level_action::update_case;
    out.level = updated.level;
    out.escalate = true;
    out.event_kind = "escalated";
    out.reason = "the fix did not hold: reached " + std::string(level) + " again while in monitoring after the " +
                 "hold was lifted, so a person looks at it";
    out.updated = std::move(updated);
    return out;
  }
  if (raise) {
    out.action = level_action::update_case;
    out.level = updated.level;
    out.event_kind = "level";
    out.reason = "level raised from " + c.level + " to " + std::string(level);
    out.updated = std::move(updated);
  }
  return out;
}

fix_outcome on_customer_fixed(const case_row& c, std::int64_t self_help_fixes_in_window, const recent_sending& sending,
                              std::int64_t now_ms, const lifecycle_settings& settings) {
  fix_outcome out;
  switch (c.status) {
    case case_status::monitoring:
      out.reason = "the hold was already lifted; we are watching that everything stays normal";
      return out;
    case case_status::resolved:
      out.reason = "this case is already closed";
      return out;
    case case_status::escalated:
      out.decision = fix_decision::to_person;
      out.reason = "a person at the abuse desk is already looking at this case and will lift the hold";
      out.updated = touched(c, now_ms);
      return out;
    case case_status::open:
    case case_status::notified:
      break;
  }
  if (self_help_fixes_in_window >= settings.self_help_limit) {
    out.decision = fix_decision::to_person;
    out.reason = "the self-help fix was already used " + std::to_string(self_help_fixes_in_window) +
                 (self_help_fixes_in_window == 1 ? " time" : " times") + " in the last " +
                 days_text(settings.self_help_window_ms) + "; a person at the abuse desk will look at it";
    case_row updated = touched(c, now_ms);
    updated.status = case_status::escalated;
    out.updated = std::move(updated);
    return out;
  }
  if (settings.verify_messages > 0 && sending.messages_10min >= settings.verify_messages && sending.since_last_ms &&
      *sending.since_last_ms < settings.verify_quiet_ms) {
    const long long minutes = *sending.since_last_ms / 60'000;
    out.decision = fix_decision::still_sending;
    out.reason = "mail is still leaving your connection: about " +
                 std::to_string(static_cast<long long>(std::lround(sending.messages_10min))) +
                 " messages in the last 10 minutes, the last one " +
                 (minutes == 0 ? std::string("less than a minute ago") : std::to_string(minutes) + " min ago") +
                 ", so the clean-up has not worked yet. Please go through the steps again (or ask someone to help), "
                 "wait " +
                 std::to_string(advised_wait_ms / 60'000) +
                 " minutes after the last one, and press the button again; your self-help release is still there "
                 "for you";
    return out;
  }
  out.decision = fix_decision::lift;
  out.reason = "the hold is lifted and the held mail is on its way; we watch for " + days_text(settings.monitoring_ms) +
               " that everything stays normal";
  case_row updated = touched(c, now_ms);
  updated.status = case_status::monitoring;
  updated.monitoring_until_ms = now_ms + settings.monitoring_ms;
  out.updated = std::move(updated);
  return out;
}

std::string_view operator_action_name(operator_action a) noexcept {
  for (const auto& [action, name] : action_names) {
    if (action == a) {
      return name;
    }
  }
  return "unknown";
}

std::optional<operator_action> parse_operator_action(std::string_view s) noexcept {
  for (const auto& [action, name] : action_names) {
    if (name == s) {
      return action;
    }
  }
  return std::nullopt;
}

result<case_row> apply_operator_action(const case_row& c, operator_action a, std::int64_t now_ms,
                                       std::string_view assignee, const lifecycle_settings& settings) {
  case_row out = touched(c, now_ms);
  switch (a) {
    case operator_action::note:
      return out;
    case operator_action::assign:
      if (!unresolved(c.status)) {
        return refused(c, "a resolved case cannot be assigned");
      }
      out.assignee = std::string(assignee);
      return out;
    case operator_action::release:
      if (c.status == case_status::monitoring) {
        return refused(c, "its hold was already lifted");
      }
      if (!unresolved(c.status)) {
        return refused(c, "there is nothing left to release");
      }
      out.status = case_status::monitoring;
      out.monitoring_until_ms = now_ms + settings.monitoring_ms;
      return out;
    case operator_action::rehold:
      if (!unresolved(c.status)) {
        return refused(c, "a new hold opens a new case");
      }
      out.status = case_status::escalated;
      out.level = "hold";
      out.monitoring_until_ms.reset();
      return out;
    case operator_action::escalate:
      if (c.status == case_status::escalated) {
        return refused(c, "it is already with a person");
      }
      if (!unresolved(c.status)) {
        return refused(c, "a resolved case cannot be escalated");
      }
      out.status = case_status::escalated;
      out.monitoring_until_ms.reset();
      return out;
    case operator_action::close:
      if (!unresolved(c.status)) {
        return refused(c, "it is already closed");
      }
      out.status = case_status::resolved;
      out.resolved_ms = now_ms;
      return out;
  }
  return make_error(errc::invalid_input, "unknown operator action");
}

case_row on_notice_sent(const case_row& c, std::int64_t now_ms) {
  case_row out = touched(c, now_ms);
  out.notices_sent += 1;
  out.last_notice_ms = now_ms;
  if (out.status == case_status::open) {
    out.status = case_status::notified;
  }
  return out;
}

std::optional<case_row> on_tick(const case_row& c, std::int64_t now_ms, const lifecycle_settings& settings) {
  if (c.status != case_status::monitoring) {
    return std::nullopt;
  }
  // A monitoring row always carries its end; a row written by hand without one ends monitoring_ms
  // after its last update, rather than never.
  const std::int64_t until = c.monitoring_until_ms.value_or(c.updated_ms + settings.monitoring_ms);
  if (now_ms < until) {
    return std::nullopt;
  }
  case_row out = touched(c, now_ms);
  out.status = case_status::resolved;
  out.resolved_ms = now_ms;
  return out;
}

}  // namespace pw::desk
