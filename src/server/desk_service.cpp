#include "desk_service.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "auth/token.hpp"
#include "drive/smtp_client.hpp"
#include "release_command.hpp"
#include "service.hpp"
#include "telemetry/log.hpp"

namespace pw::server {
namespace {

using telemetry::severity;

constexpr std::int64_t notice_retry_ms = 60'000;
constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int level_rank(std::string_view level) {
  return level == "hold" ? 2 : level == "throttle" ? 1 : 0;
}

auth::rate_limit_settings limiter(std::uint32_t burst, std::uint32_t per_minute) {
  auth::rate_limit_settings s;
  s.burst = burst;
  s.refill_per_minute = per_minute;
  return s;
}

}  // namespace

desk_service::desk_service(service& svc, std::unique_ptr<ledger::ledger> book)
    : _svc(svc),
      _book(std::move(book)),
      // Five password attempts at once and five a minute per client address: a person mistyping is
      // never slowed; a guesser gets 7,200 tries a day against argon2id, not millions.
      _login_limiter(limiter(5, 5)),
      // Self-help links are 256-bit tokens; the limit makes guessing pointless and bounds the audit.
      _help_limiter(limiter(10, 10)) {}

desk_service::~desk_service() { stop(); }

result<void> desk_service::prepare() {
  const auto& d = _svc.current()->settings.desk;
  if (d.notice_relay.type == config::listen_address::kind::disabled) {
    return {};
  }
  auto loaded = desk::load_templates(d.notice_templates);
  if (!loaded) {
    return loaded.error();
  }
  _templates = std::move(*loaded);
  return {};
}

void desk_service::start() {
  _next_sample_steady_ms = steady_ms();
  _thread = std::thread([this] { run(); });
}

void desk_service::stop() {
  {
    std::lock_guard lock(_thread_mutex);
    _stop = true;
  }
  _wake.notify_all();
  if (_thread.joinable()) {
    _thread.join();
  }
}

void desk_service::run() {
  std::unique_lock lock(_thread_mutex);
  while (!_stop) {
    _wake.wait_for(lock, std::chrono::seconds(1), [this] { return _stop; });
    if (_stop) {
      break;
    }
    lock.unlock();
    tick(_svc.now_ms());
    lock.lock();
  }
}

void desk_service::observe_level(const identity::subscriber& who, std::string_view level, std::string_view reasons,
                                 std::int64_t at_ms) {
  if (level_rank(level) == 0) {
    return;
  }
  std::lock_guard lock(_queue_mutex);
  // A held subscriber's every message says "hold": keep one observation per subscriber and level
  // between ticks (the first, whose reasons explain why the level was reached).
  for (const auto& l : _levels) {
    if (l.who.id == who.id && l.level == level) {
      return;
    }
  }
  _levels.push_back(level_seen{who, std::string(level), std::string(reasons), at_ms});
}

void desk_service::observe_held(std::string_view subscriber, std::string_view queue_id, std::int64_t at_ms) {
  std::lock_guard lock(_queue_mutex);
  _held.push_back(held_seen{std::string(subscriber), std::string(queue_id), at_ms});
}

void desk_service::failed(std::string_view what, const error& e) {
  _svc.metrics().desk_errors.add();
  telemetry::log(severity::error, "desk_error", {{"what", what}, {"error", e.message}});
}

void desk_service::event(std::int64_t case_id, std::int64_t at_ms, std::string_view kind, std::string_view actor,
                         std::string_view detail) {
  ledger::case_event e;
  e.case_id = case_id;
  e.at_ms = at_ms;
  e.kind = std::string(kind);
  e.actor = std::string(actor);
  e.detail = std::string(detail);
  if (auto r = _book->append_event(e); !r) {
    failed("append_event", r.error());
  }
}

void desk_service::tick(std::int64_t now_ms) {
  std::vector<level_seen> levels;
  std::vector<held_seen> held;
  {
    std::lock_guard lock(_queue_mutex);
    levels.swap(_levels);
    held.swap(_held);
  }
  std::lock_guard actions(_action_mutex);
  // What could not be written stays queued for the next tick (a ledger outage loses no case).
  std::vector<level_seen> retry_levels;
  std::vector<held_seen> retry_held;
  for (const auto& l : levels) {
    if (!apply_level(l, now_ms)) {
      retry_levels.push_back(l);
    }
  }
  for (const auto& h : held) {
    if (!apply_held(h)) {
      retry_held.push_back(h);
    }
  }
  if (!retry_levels.empty() || !retry_held.empty()) {
    std::lock_guard lock(_queue_mutex);
    _levels.insert(_levels.begin(), retry_levels.begin(), retry_levels.end());
    _held.insert(_held.begin(), retry_held.begin(), retry_held.end());
  }

  sync_subscribers(now_ms);
  auto open = _book->unresolved_cases();
  if (!open) {
    failed("unresolved_cases", open.error());
    return;
  }
  const auto& settings = _svc.current()->settings.desk;
  for (const auto& c : *open) {
    if (auto done = desk::on_tick(c, now_ms, settings.cases)) {
      if (auto r = _book->update_case(*done); !r) {
        failed("update_case", r.error());
        continue;
      }
      event(c.id, now_ms, "resolved", "system", "monitoring ended without a new throttle or hold");
      restore_exemptions(*done, now_ms);
      telemetry::log(severity::info, "case_resolved", {{"case", c.id}, {"subscriber", c.subscriber}});
    }
  }
  if (_templates) {
    send_due_notices(*open, now_ms);
  }
  if (steady_ms() >= _next_sample_steady_ms) {
    _next_sample_steady_ms = steady_ms() + 60'000;
    sample_dashboard(now_ms);
  }
}

bool desk_service::apply_level(const level_seen& seen, std::int64_t now_ms) {
  const auto& who = seen.who;
  auto known = _book->find_subscriber(who.id);
  if (known.failed()) {
    failed("find_subscriber", known.error());
    return false;
  }
  if (known.missing() || known->plan != who.plan || known->contact != who.contact) {
    ledger::subscriber_row row = known.found() ? *known : ledger::subscriber_row{};
    row.id = who.id;
    row.plan = who.plan;
    row.contact = who.contact;
    if (known.missing()) {
      row.created_ms = now_ms;  // first known to the desk: the account age rules count from here
    }
    if (auto r = _book->upsert_subscriber(row); !r) {
      failed("upsert_subscriber", r.error());
      return false;
    }
  }
  auto unresolved = _book->unresolved_case_for(who.id);
  auto last = _book->last_resolved_case_for(who.id);
  if (unresolved.failed() || last.failed()) {
    failed("case lookup", unresolved.failed() ? unresolved.error() : last.error());
    return false;
  }
  const auto& settings = _svc.current()->settings.desk;
  std::optional<ledger::case_row> current;
  if (unresolved.found()) {
    current = *unresolved;
  }
  std::optional<ledger::case_row> previous;
  if (last.found()) {
    previous = *last;
  }
  const desk::level_outcome out = desk::on_engine_level(current, previous, seen.level, seen.at_ms, settings.cases);
  switch (out.action) {
    case desk::level_action::nothing:
      return true;
    case desk::level_action::open_case: {
      auto opened = _book->open_case(who.id, out.level, seen.reasons, seen.at_ms);
      if (!opened) {
        failed("open_case", opened.error());
        return false;
      }
      ledger::case_row row = opened->row;
      if (!opened->opened) {
        return true;  // opened meanwhile by another path; the next observation updates it
      }
      telemetry::log(severity::info, "case_opened",
                     {{"case", row.id}, {"subscriber", who.id}, {"level", out.level}, {"escalated", out.escalate}});
      if (out.escalate) {
        auto escalated = desk::apply_operator_action(row, desk::operator_action::escalate, seen.at_ms, {}, settings.cases);
        if (escalated) {
          row = *escalated;
          if (auto r = _book->update_case(row); !r) {
            failed("update_case", r.error());
          }
        }
      }
      if (!out.event_kind.empty()) {
        event(row.id, seen.at_ms, out.event_kind, "system", out.reason);
      }
      suspend_exemptions(row, seen.at_ms);
      return true;
    }
    case desk::level_action::update_case: {
      if (!out.updated) {
        return true;
      }
      if (auto r = _book->update_case(*out.updated); !r) {
        failed("update_case", r.error());
        return false;
      }
      if (!out.event_kind.empty()) {
        event(out.updated->id, seen.at_ms, out.event_kind, "system",
              out.reason.empty() ? seen.reasons : out.reason + "; " + seen.reasons);
      }
      return true;
    }
  }
  return true;
}

bool desk_service::apply_held(const held_seen& seen) {
  auto c = _book->unresolved_case_for(seen.subscriber);
  if (c.failed()) {
    failed("unresolved_case_for", c.error());
    return false;
  }
  if (c.missing()) {
    // A hold decision always comes with its level observation, which opened the case on this tick;
    // a missing case means the desk was disabled meanwhile or the case was closed already. The
    // message stays in the state store's held list (the subscriber API shows it).
    return true;
  }
  if (auto r = _book->add_held(c->id, seen.queue_id, seen.at_ms); !r) {
    failed("add_held", r.error());
    return false;
  }
  return true;
}

void desk_service::send_due_notices(const std::vector<ledger::case_row>& open, std::int64_t now_ms) {
  const auto& settings = _svc.current()->settings.desk;
  for (const auto& c : open) {
    if (auto it = _notice_retry_at.find(c.id); it != _notice_retry_at.end()) {
      if (now_ms < it->second) {
        continue;
      }
      _notice_retry_at.erase(it);
    }
    auto who = _book->find_subscriber(c.subscriber);
    if (who.failed()) {
      failed("find_subscriber", who.error());
      continue;
    }
    const bool has_contact = who.found() && !who->contact.empty();
    if (!has_contact) {
      continue;
    }
    auto sent_last_day = _book->count_events(c.subscriber, "notice", now_ms - day_ms);
    if (!sent_last_day) {
      failed("count_events", sent_last_day.error());
      continue;
    }
    const auto kind = desk::notice_due(c, has_contact, *sent_last_day, now_ms, settings.cadence);
    if (!kind) {
      continue;
    }
    if (auto r = send_notice(c, *kind, *who, now_ms); !r) {
      _svc.metrics().notice_failures.add();
      _notice_retry_at[c.id] = now_ms + notice_retry_ms;
      telemetry::log(severity::warning, "notice_failed",
                     {{"case", c.id}, {"subscriber", c.subscriber}, {"error", r.error().message}});
    }
  }
}

result<void> desk_service::send_notice(const ledger::case_row& c, desk::notice_kind kind,
                                       const ledger::subscriber_row& who, std::int64_t now_ms) {
  const auto& settings = _svc.current()->settings.desk;
  auto token = auth::random_token();
  if (!token) {
    return token.error();
  }
  ledger::help_token_row t;
  t.token_hash = auth::sha256_hex(*token);
  t.case_id = c.id;
  t.subscriber = c.subscriber;
  t.created_ms = now_ms;
  t.expires_ms = now_ms + settings.help_token_ttl_ms;
  if (auto r = _book->add_help_token(t); !r) {
    return r.error();
  }
  auto held = _book->held_queue_ids(c.id, true);
  if (!held) {
    return held.error();
  }
  std::string exemption_note;
  if (auto ex = _book->exemptions_for(c.subscriber); ex) {
    for (const auto& e : *ex) {
      if (e.status == ledger::exemption_status::suspended && e.decided_by == "system") {
        exemption_note =
            "While this case is open, your connection cannot send mail directly to other mail servers (port 25); "
            "it is restored when the case is resolved.";
        break;
      }
    }
  }
  std::string base = settings.public_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  const desk::notice_variables vars =
      desk::make_notice_variables(c, held->size(), base + "/help/" + *token, settings.isp_name, exemption_note);
  desk::notice_sender sender;
  sender.from_address = settings.notice_from;
  sender.from_name = settings.notice_from_name;
  sender.message_id_domain = settings.notice_from.substr(settings.notice_from.find('@') + 1);
  auto message = desk::compose_notice(*_templates, kind, vars, who.contact, sender, c.id, now_ms);
  if (!message) {
    return message.error();
  }

  ledger::notice_row n;
  n.case_id = c.id;
  n.subscriber = c.subscriber;
  n.kind = std::string(desk::notice_kind_name(kind));
  n.to = who.contact;
  n.at_ms = now_ms;
  auto client = drive::smtp_client::connect(settings.notice_relay.host, settings.notice_relay.port,
                                            std::chrono::seconds(30));
  result<drive::smtp_reply_set> replies = client ? client->send(drive::smtp_submission{
                                                       {}, {}, "portwarden", settings.notice_from, {who.contact}, *message})
                                                 : result<drive::smtp_reply_set>(client.error());
  if (!replies) {
    n.error = replies.error().message;
  } else if (replies->data / 100 != 2) {
    // The reply text may quote the address: keep only the code.
    n.error = "the relay answered " + std::to_string(replies->data != 0 ? replies->data
                                                     : replies->rcpt.empty() ? replies->mail
                                                                             : replies->rcpt.front());
  } else {
    n.delivered = true;
  }
  if (auto r = _book->record_notice(n); !r) {
    failed("record_notice", r.error());
  }
  if (!n.delivered) {
    event(c.id, now_ms, "notice_failed", "system", n.kind + " notice not accepted by the relay: " + n.error);
    return error{errc::unavailable, n.error};
  }
  const ledger::case_row after = desk::on_notice_sent(c, now_ms);
  if (auto r = _book->update_case(after); !r) {
    return r.error();
  }
  event(c.id, now_ms, "notice", "system",
        n.kind + " notice accepted by the relay for the subscriber's contact address (" +
            std::to_string(held->size()) + " messages held)");
  _svc.metrics().notices.add();
  telemetry::log(severity::info, "notice_sent", {{"case", c.id}, {"subscriber", c.subscriber}, {"kind", n.kind}});
  return {};
}

std::optional<desk_service::exemption_context> desk_service::exemptions_of(const ledger::case_row& c) {
  auto existing = _book->exemptions_for(c.subscriber);
  if (!existing) {
    failed("exemptions_for", existing.error());
    return std::nullopt;
  }
  auto who = _book->find_subscriber(c.subscriber);
  const std::string plan = who.found() ? who->plan : std::string();
  return exemption_context{std::move(*existing),
                           config::desk_rules_for(_svc.current()->settings.desk, plan).port25_open_by_default};
}

void desk_service::suspend_exemptions(const ledger::case_row& c, std::int64_t now_ms) {
  const auto ctx = exemptions_of(c);
  if (!ctx) {
    return;
  }
  for (const auto& row : desk::suspensions_for_case(c.subscriber, ctx->rows, ctx->plan_open, c.id, now_ms)) {
    const auto written = row.id == 0 ? _book->add_exemption(row).has_value() : _book->update_exemption(row).has_value();
    if (!written) {
      failed("suspend exemption", error{errc::io, "could not write the suspension"});
      continue;
    }
    event(c.id, now_ms, "exemption_suspended", "system",
          "port-25 access suspended while the case is open (exemption " + std::to_string(row.id) + ")");
  }
}

void desk_service::restore_exemptions(const ledger::case_row& c, std::int64_t now_ms) {
  const auto ctx = exemptions_of(c);
  if (!ctx) {
    return;
  }
  for (const auto& row : desk::restorations_after_case(ctx->rows, ctx->plan_open, c.id, now_ms)) {
    if (auto r = _book->update_exemption(row); !r) {
      failed("update_exemption", r.error());
    }
  }
}

result<std::size_t> desk_service::release_held(const ledger::case_row& c, std::int64_t now_ms) {
  auto ids = _book->held_queue_ids(c.id, true);
  if (!ids) {
    return ids.error();
  }
  const auto& settings = _svc.current()->settings.desk;
  if (!ids->empty()) {
    if (auto r = run_release_command(settings.release_command, *ids,
                                     std::chrono::milliseconds(settings.release_timeout_ms));
        !r) {
      return r.error();
    }
    if (auto r = _book->mark_held_released(c.id, now_ms); !r) {
      failed("mark_held_released", r.error());
    }
    for (const auto& id : *ids) {
      if (auto r = _svc.store().mark_released(id, now_ms); !r && r.error().code != errc::not_found) {
        failed("mark_released", r.error());
      }
    }
  }
  _svc.engine().release(c.subscriber, now_ms);
  telemetry::log(severity::info, "released", {{"case", c.id}, {"subscriber", c.subscriber}, {"messages", ids->size()}});
  return ids->size();
}

result<ledger::case_row> desk_service::operator_action(std::int64_t case_id, desk::operator_action action,
                                                       std::string_view actor, std::string_view text,
                                                       std::string_view assignee) {
  std::lock_guard lock(_action_mutex);
  const std::int64_t now = _svc.now_ms();
  auto c = _book->find_case(case_id);
  if (c.failed()) {
    return c.error();
  }
  if (c.missing()) {
    return error{errc::not_found, "no case " + std::to_string(case_id)};
  }
  const auto& settings = _svc.current()->settings.desk;
  auto next = desk::apply_operator_action(*c, action, now, assignee, settings.cases);
  if (!next) {
    return next.error();
  }
  std::string detail(text);
  if (action == desk::operator_action::release) {
    auto released = release_held(*c, now);
    if (!released) {
      return released.error();
    }
    detail = std::to_string(*released) + " held messages released" + (text.empty() ? "" : "; " + std::string(text));
  } else if (action == desk::operator_action::rehold) {
    const bool held = _svc.engine().hold(c->subscriber, now);
    detail = std::string(held ? "subscriber put on hold" : "no recent activity to hold; case escalated") +
             (text.empty() ? "" : "; " + std::string(text));
  } else if (action == desk::operator_action::assign) {
    detail = assignee.empty() ? "unassigned" : "assigned to " + std::string(assignee);
  } else if (action == desk::operator_action::close) {
    restore_exemptions(*next, now);
  }
  if (auto r = _book->update_case(*next); !r) {
    return r.error();
  }
  event(case_id, now, desk::operator_action_name(action), actor, detail);
  return *next;
}

result<fix_answer> desk_service::customer_fixed(const ledger::help_token_row& token) {
  std::lock_guard lock(_action_mutex);
  const std::int64_t now = _svc.now_ms();
  auto c = _book->find_case(token.case_id);
  if (c.failed()) {
    return c.error();
  }
  if (c.missing()) {
    return error{errc::not_found, "this case no longer exists"};
  }
  const auto& settings = _svc.current()->settings.desk;
  auto fixes = _book->count_events(c->subscriber, "customer_fixed", now - settings.cases.self_help_window_ms);
  if (!fixes) {
    return fixes.error();
  }
  desk::recent_sending sending;
  if (const auto seen = _svc.engine().report(c->subscriber, now)) {
    sending.messages_10min = seen->windows[static_cast<std::size_t>(behavior::window::ten_minutes)].messages;
    sending.since_last_ms = std::max<std::int64_t>(now - seen->last_seen_ms, 0);
  }
  const desk::fix_outcome out = desk::on_customer_fixed(*c, *fixes, sending, now, settings.cases);
  fix_answer answer;
  answer.decision = out.decision;
  answer.reason = out.reason;
  if (out.decision == desk::fix_decision::lift) {
    auto released = release_held(*c, now);
    if (!released) {
      return released.error();
    }
    answer.released = *released;
  }
  if (out.updated) {
    if (auto r = _book->update_case(*out.updated); !r) {
      return r.error();
    }
  }
  if (out.decision == desk::fix_decision::still_sending) {
    event(c->id, now, "fix_refused", "customer",
          "the customer said it is fixed, but " + std::to_string(std::lround(sending.messages_10min)) +
              " messages came in the last 10 minutes; asked to clean up again (self-help not used up)");
  } else if (out.decision != desk::fix_decision::not_applicable) {
    event(c->id, now, "customer_fixed", "customer",
          out.decision == desk::fix_decision::lift
              ? "the customer said it is fixed; hold lifted, " + std::to_string(answer.released) +
                    " held messages released, monitoring"
              : "the customer said it is fixed again; a person will look (" + out.reason + ")");
    if (auto r = _book->mark_help_token_used(token.token_hash, now); !r) {
      failed("mark_help_token_used", r.error());
    }
  }
  return answer;
}

result<desk::exemption_decision> desk_service::request_exemption(std::string_view subscriber, std::string_view reason) {
  std::lock_guard lock(_action_mutex);
  const std::int64_t now = _svc.now_ms();
  auto who = _book->find_subscriber(subscriber);
  if (who.failed()) {
    return who.error();
  }
  if (who.missing()) {
    return error{errc::not_found, "unknown subscriber"};
  }
  auto existing = _book->exemptions_for(subscriber);
  if (!existing) {
    return existing.error();
  }
  auto unresolved = _book->unresolved_case_for(subscriber);
  if (unresolved.failed()) {
    return unresolved.error();
  }
  std::optional<std::int64_t> last_opened;
  if (unresolved.found()) {
    last_opened = unresolved->opened_ms;
  } else if (auto last = _book->last_resolved_case_for(subscriber); last.found()) {
    last_opened = last->opened_ms;
  } else if (last.failed()) {
    return last.error();
  }
  const desk::exemption_request req{*who, *existing, last_opened, unresolved.found(), now};
  const auto rules = config::desk_rules_for(_svc.current()->settings.desk, who->plan);
  desk::exemption_decision decision = desk::decide_exemption(req, rules);
  ledger::exemption_row row;
  row.subscriber = std::string(subscriber);
  row.status = desk::status_for(decision.outcome);
  row.reason = std::string(reason.substr(0, 2000));
  row.decided_by = decision.outcome == desk::exemption_outcome::queued ? "" : "rules";
  row.decision = decision.reason;
  row.requested_ms = now;
  row.updated_ms = now;
  row.expires_ms = decision.expires_ms;
  if (auto r = _book->add_exemption(row); !r) {
    return r.error();
  }
  return decision;
}

result<ledger::exemption_row> desk_service::exemption_action(std::int64_t id, std::string_view action,
                                                             std::string_view actor, std::string_view text) {
  std::lock_guard lock(_action_mutex);
  const std::int64_t now = _svc.now_ms();
  auto found = _book->find_exemption(id);
  if (found.failed()) {
    return found.error();
  }
  if (found.missing()) {
    return error{errc::not_found, "no exemption " + std::to_string(id)};
  }
  ledger::exemption_row row = *found;
  using st = ledger::exemption_status;
  const auto refuse = [&](std::string why) { return error{errc::invalid_input, std::move(why)}; };
  if (action == "grant") {
    if (row.status != st::pending && row.status != st::refused) {
      return refuse("only a pending or refused request can be granted");
    }
    row.status = st::active;
    auto who = _book->find_subscriber(row.subscriber);
    const auto rules = config::desk_rules_for(_svc.current()->settings.desk, who.found() ? who->plan : "");
    if (rules.grant_days > 0) {
      row.expires_ms = now + rules.grant_days * day_ms;
    }
  } else if (action == "refuse") {
    if (row.status != st::pending) {
      return refuse("only a pending request can be refused");
    }
    row.status = st::refused;
  } else if (action == "revoke") {
    if (row.status != st::active && row.status != st::suspended) {
      return refuse("only an active or suspended exemption can be revoked");
    }
    row.status = st::revoked;
  } else if (action == "suspend") {
    if (row.status != st::active) {
      return refuse("only an active exemption can be suspended");
    }
    row.status = st::suspended;
  } else if (action == "restore") {
    if (row.status != st::suspended) {
      return refuse("only a suspended exemption can be restored");
    }
    row.status = st::active;
  } else {
    return refuse("unknown action (grant, refuse, revoke, suspend or restore)");
  }
  row.decided_by = std::string(actor);
  row.decision = text.empty() ? action == "grant" ? "granted by " + std::string(actor) : std::string(action) + " by " + std::string(actor)
                              : std::string(text.substr(0, 2000));
  row.updated_ms = now;
  if (auto r = _book->update_exemption(row); !r) {
    return r.error();
  }
  return row;
}

void desk_service::sync_subscribers(std::int64_t now_ms) {
  constexpr std::size_t rows_per_tick = 2000;
  const auto rt = _svc.current();
  if (rt->directory != _synced_directory) {
    _synced_directory = rt->directory;
    std::map<std::string, ledger::subscriber_row> rows;
    _synced_directory->for_each_network([&](const identity::subscriber& who, const std::string& cidr) {
      auto& row = rows[who.id];
      row.id = who.id;
      row.plan = who.plan;
      row.contact = who.contact;
      row.addresses.push_back(cidr);
    });
    _sync_rows.clear();
    for (auto& [id, row] : rows) {
      std::sort(row.addresses.begin(), row.addresses.end());
      _sync_rows.push_back(std::move(row));
    }
    _sync_next = 0;
  }
  const std::size_t end = std::min(_sync_rows.size(), _sync_next + rows_per_tick);
  for (; _sync_next < end; ++_sync_next) {
    ledger::subscriber_row row = _sync_rows[_sync_next];
    auto known = _book->find_subscriber(row.id);
    if (known.failed()) {
      failed("find_subscriber", known.error());
      return;  // retried from here on the next tick
    }
    if (known.found()) {
      std::vector<std::string> had = known->addresses;
      std::sort(had.begin(), had.end());
      if (known->plan == row.plan && known->contact == row.contact && had == row.addresses) {
        continue;
      }
      row.created_ms = known->created_ms;
    } else {
      row.created_ms = now_ms;  // the account age rules count from when the desk first knew it
    }
    if (auto r = _book->upsert_subscriber(row); !r) {
      failed("upsert_subscriber", r.error());
      return;
    }
  }
  if (_sync_next == _sync_rows.size() && !_sync_rows.empty()) {
    telemetry::log(severity::info, "desk_subscribers_synced", {{"subscribers", _sync_rows.size()}});
    _sync_rows.clear();
    _sync_rows.shrink_to_fit();
    _sync_next = 0;
  }
}

void desk_service::sample_dashboard(std::int64_t now_ms) {
  dashboard_totals totals;
  auto& m = _svc.metrics();
  totals.messages = m.messages.value();
  for (std::size_t i = 0; i < totals.verdicts.size(); ++i) {
    totals.verdicts[i] = m.verdicts[i]->value();
  }
  std::int64_t open_cases = 0;
  if (auto counts = _book->count_cases(); counts) {
    open_cases = counts->open + counts->notified + counts->monitoring + counts->escalated;
  }
  _dashboard.sample(now_ms, totals, open_cases, m.active_campaigns.value());
}

}  // namespace pw::server
