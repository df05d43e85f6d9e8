#include "desk_api.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <variant>

#include "api.hpp"
#include "auth/cookie.hpp"
#include "auth/password.hpp"
#include "auth/roles.hpp"
#include "auth/token.hpp"
#include "common/markup.hpp"
#include "http/static_files.hpp"
#include "telemetry/log.hpp"

namespace pw::server {
namespace {

using json = nlohmann::json;
using telemetry::severity;
constexpr std::string_view session_cookie_name = "pw_session";
constexpr std::size_t max_text_bytes = 4000;

json opt(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }

json case_json(const ledger::case_row& c) {
  return {{"id", c.id},
          {"subscriber", c.subscriber},
          {"status", ledger::status_name(c.status)},
          {"level", c.level},
          {"summary", c.summary},
          {"assignee", c.assignee},
          {"opened_ms", c.opened_ms},
          {"updated_ms", c.updated_ms},
          {"resolved_ms", opt(c.resolved_ms)},
          {"notices_sent", c.notices_sent},
          {"last_notice_ms", opt(c.last_notice_ms)},
          {"monitoring_until_ms", opt(c.monitoring_until_ms)}};
}

json exemption_json(const ledger::exemption_row& e) {
  return {{"id", e.id},
          {"subscriber", e.subscriber},
          {"status", ledger::exemption_status_name(e.status)},
          {"reason", e.reason},
          {"decided_by", e.decided_by},
          {"decision", e.decision},
          {"requested_ms", e.requested_ms},
          {"updated_ms", e.updated_ms},
          {"expires_ms", opt(e.expires_ms)}};
}

std::optional<std::int64_t> number(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::string query(const http::request& req, std::string_view name) {
  return http::form_value(req.query, name).value_or("");
}

// Keyset paging parameters: ?before=ID&limit=N (limit 1..200, default 50).
ledger::page_request page_of(const http::request& req) {
  ledger::page_request p;
  if (auto b = number(query(req, "before")); b && *b > 0) {
    p.before_id = *b;
  }
  if (auto l = number(query(req, "limit")); l && *l > 0) {
    p.limit = static_cast<std::size_t>(std::min<std::int64_t>(*l, 200));
  }
  return p;
}

// Free text from people (notes, reasons): bounded and without control characters but newlines.
std::string clean_text(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, max_text_bytes)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back((u < 0x20 && c != '\n') || u == 0x7f ? ' ' : c);
  }
  return out;
}

// A name as it may appear in the audit log when someone typed it (a failed login's user name).
std::string clean_name(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x21 || u == 0x7f ? '?' : c);
  }
  return out;
}

class desk_routes {
 public:
  desk_routes(service& svc, desk_service& desk) : _svc(svc), _desk(desk) {}

  struct caller {
    ledger::user_row user;
    ledger::session_row session;
  };

  // The session of the request, if valid now.
  std::optional<caller> session_of(const http::request& req) {
    const auto cookie = auth::find_cookie(req.cookie, session_cookie_name);
    if (!cookie || cookie->size() != auth::token_chars) {
      return std::nullopt;
    }
    auto s = _desk.book().find_session(auth::sha256_hex(*cookie));
    if (!s.found() || s->expires_ms <= _svc.now_ms()) {
      return std::nullopt;
    }
    auto u = _desk.book().find_user(s->user);
    if (!u.found() || u->disabled) {
      return std::nullopt;
    }
    return caller{std::move(*u), std::move(*s)};
  }

  void audit(std::string_view actor, std::string_view action, std::string_view target, bool allowed,
             std::string_view detail) {
    ledger::audit_row a;
    a.at_ms = _svc.now_ms();
    a.actor = std::string(actor);
    a.action = std::string(action);
    a.target = std::string(target);
    a.allowed = allowed;
    a.detail = std::string(detail);
    if (auto r = _desk.book().append_audit(a); !r) {
      _svc.metrics().store_errors.add();
      telemetry::log(severity::error, "desk_error", {{"what", "append_audit"}, {"error", r.error().message}});
    }
  }

  // Checks the session, the CSRF token (for changes) and the role; a refusal of a change is audited.
  std::variant<caller, http::response> require(const http::request& req, ledger::role need, bool changes,
                                               std::string_view action, std::string_view target) {
    auto who = session_of(req);
    if (!who) {
      if (changes) {
        audit("anonymous", action, target, false, "not logged in");
      }
      return http::json_error(401, "log in first (no valid session)");
    }
    if (changes && (req.csrf_token.empty() || !auth::constant_time_equal(req.csrf_token, who->session.csrf_token))) {
      audit(who->user.name, action, target, false, "missing or wrong CSRF token");
      return http::json_error(403, "missing or wrong CSRF token: reload the page and try again");
    }
    if (!auth::permits(who->user.user_role, need)) {
      const std::string why = "the role " + std::string(ledger::role_name(who->user.user_role)) + " may not do this; it needs " +
                              std::string(ledger::role_name(need));
      if (changes) {
        audit(who->user.name, action, target, false, why);
      }
      return http::json_error(403, why);
    }
    return std::move(*who);
  }

  // --- login, logout, me ---

  http::response login(const http::request& req) {
    const std::int64_t now = _svc.now_ms();
    if (!_desk.login_limiter().allow(req.remote_address, now)) {
      audit("anonymous", "login", "address:" + req.remote_address, false, "too many attempts from this address");
      return http::json_error(429, "too many login attempts; wait a minute");
    }
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("user") || !body.contains("password") ||
        !body["user"].is_string() || !body["password"].is_string()) {
      return http::json_error(400, "expected a JSON object {\"user\": ..., \"password\": ...}");
    }
    const std::string name = body["user"].get<std::string>();
    const std::string password = body["password"].get<std::string>();
    auto user = name.size() <= 64 ? _desk.book().find_user(name) : lookup<ledger::user_row>(pw::not_found);
    if (user.failed()) {
      return http::json_error(503, "the desk's ledger is unavailable");
    }
    bool ok = false;
    if (user.found() && !user->disabled) {
      ok = auth::verify_password(password, user->password_hash);
    } else {
      auth::dummy_verify(password);  // same cost whether or not the user exists
    }
    if (!ok) {
      audit(clean_name(name), "login", "user:" + clean_name(name), false, "wrong user name or password");
      return http::json_error(401, "wrong user name or password");
    }
    auto token = auth::random_token();
    auto csrf = auth::random_token();
    if (!token || !csrf) {
      return http::json_error(503, "no randomness available");
    }
    const auto& d = _svc.current()->settings.desk;
    ledger::session_row s{auth::sha256_hex(*token), user->name, *csrf, now, now + d.session_ttl_ms};
    if (auto r = _desk.book().add_session(s); !r) {
      return http::json_error(503, "the desk's ledger is unavailable");
    }
    (void)_desk.book().delete_sessions_expired(now);
    audit(user->name, "login", "user:" + user->name, true, "");
    auto cookie = auth::session_cookie(session_cookie_name, *token, d.session_ttl_ms / 1000, d.secure_cookies);
    http::response r = json_response(200, {{"user", user->name},
                                           {"role", ledger::role_name(user->user_role)},
                                           {"csrf_token", *csrf}});
    if (cookie) {
      r.headers.emplace_back("Set-Cookie", *cookie);
    }
    return r;
  }

  http::response logout(const http::request& req) {
    auto who = require(req, ledger::role::viewer, true, "logout", "session");
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    const auto& c = std::get<caller>(who);
    (void)_desk.book().delete_session(c.session.token_hash);
    audit(c.user.name, "logout", "user:" + c.user.name, true, "");
    http::response r = json_response(200, {{"logged_out", true}});
    if (auto cookie = auth::clearing_cookie(session_cookie_name, _svc.current()->settings.desk.secure_cookies)) {
      r.headers.emplace_back("Set-Cookie", *cookie);
    }
    return r;
  }

  http::response me(const http::request& req) {
    auto who = session_of(req);
    if (!who) {
      return http::json_error(401, "log in first (no valid session)");
    }
    return json_response(200, {{"user", who->user.name},
                               {"role", ledger::role_name(who->user.user_role)},
                               {"csrf_token", who->session.csrf_token}});
  }

  // --- reads ---

  http::response dashboard(const http::request& req) {
    auto who = require(req, ledger::role::viewer, false, "dashboard", "");
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    json series = json::array();
    for (const auto& p : _desk.dashboard().points()) {
      series.push_back({{"t_ms", p.t_ms},
                        {"messages", p.messages},
                        {"accept", p.verdicts[0]},
                        {"tag", p.verdicts[1]},
                        {"defer", p.verdicts[2]},
                        {"hold", p.verdicts[3]},
                        {"held", p.verdicts[3]},
                        {"open_cases", p.open_cases},
                        {"active_campaigns", p.active_campaigns}});
    }
    auto counts = _desk.book().count_cases();
    if (!counts) {
      return http::json_error(503, "the desk's ledger is unavailable: " + counts.error().message);
    }
    return json_response(200, {{"now_ms", _svc.now_ms()},
                               {"series", series},
                               {"cases",
                                {{"open", counts->open},
                                 {"notified", counts->notified},
                                 {"monitoring", counts->monitoring},
                                 {"escalated", counts->escalated},
                                 {"resolved", counts->resolved}}}});
  }

  http::response cases(const http::request& req) {
    auto who = require(req, ledger::role::viewer, false, "cases", "");
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    ledger::case_filter f;
    if (const std::string st = query(req, "status"); !st.empty()) {
      auto parsed = ledger::parse_status(st);
      if (!parsed) {
        return http::json_error(400, "unknown status (open, notified, monitoring, escalated, resolved)");
      }
      f.status = *parsed;
    }
    f.subscriber_prefix = query(req, "subscriber").substr(0, 512);
    f.assignee = query(req, "assignee").substr(0, 64);
    f.unresolved_only = query(req, "unresolved") == "1";
    auto page = _desk.book().list_cases(f, page_of(req));
    if (!page) {
      return http::json_error(503, "the desk's ledger is unavailable: " + page.error().message);
    }
    json list = json::array();
    for (const auto& c : page->rows) {
      list.push_back(case_json(c));
    }
    return json_response(200, {{"total", page->total}, {"cases", list}, {"next_before", opt(page->next_before_id)}});
  }

  http::response one_case(const http::request& req) {
    auto who = require(req, ledger::role::viewer, false, "case", "");
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    const auto id = number(req.path_tail);
    if (!id) {
      return http::json_error(400, "bad case id");
    }
    auto c = _desk.book().find_case(*id);
    if (c.failed()) {
      return http::json_error(503, "the desk's ledger is unavailable: " + c.error().message);
    }
    if (c.missing()) {
      return http::json_error(404, "no such case");
    }
    auto events = _desk.book().events_for(*id);
    auto held = _desk.book().held_queue_ids(*id, false);
    auto unreleased = _desk.book().held_queue_ids(*id, true);
    auto notices = _desk.book().notices_for(*id);
    if (!events || !held || !unreleased || !notices) {
      return http::json_error(503, "the desk's ledger is unavailable");
    }
    json ev = json::array();
    for (const auto& e : *events) {
      ev.push_back({{"at_ms", e.at_ms}, {"kind", e.kind}, {"actor", e.actor}, {"detail", e.detail}});
    }
    json hl = json::array();
    for (const auto& q : *held) {
      const bool still = std::find(unreleased->begin(), unreleased->end(), q) != unreleased->end();
      hl.push_back({{"queue_id", q}, {"released", !still}});
    }
    json nt = json::array();
    for (const auto& n : *notices) {
      nt.push_back({{"kind", n.kind}, {"at_ms", n.at_ms}, {"delivered", n.delivered}, {"error", n.error}});
    }
    json out{{"case", case_json(*c)},     {"events", ev}, {"held", hl}, {"notices", nt},
             {"subscriber", subscriber_view(_svc, c->subscriber)}};
    return json_response(200, out);
  }

  http::response case_action(const http::request& req) {
    const auto slash = req.path_tail.find('/');
    const auto id = number(std::string_view(req.path_tail).substr(0, slash));
    if (!id || slash == std::string::npos || req.path_tail.substr(slash) != "/actions") {
      return http::json_error(404, "not found");
    }
    const std::string target = "case:" + std::to_string(*id);
    const json body = json::parse(req.body, nullptr, false);
    const std::string action_name =
        body.is_object() && body.contains("action") && body["action"].is_string() ? body["action"].get<std::string>() : "";
    const auto action = desk::parse_operator_action(action_name);
    // Notes and assignments are operators' work too: viewers only read.
    auto who = require(req, ledger::role::operator_, true, action ? action_name : "case_action", target);
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    const auto& c = std::get<caller>(who);
    if (!action) {
      return http::json_error(400, "action must be one of note, assign, release, rehold, escalate, close");
    }
    const std::string text = body.contains("text") && body["text"].is_string() ? clean_text(body["text"].get<std::string>()) : "";
    const std::string assignee =
        body.contains("assignee") && body["assignee"].is_string() ? clean_name(body["assignee"].get<std::string>()) : "";
    if (*action == desk::operator_action::assign && !assignee.empty()) {
      auto u = _desk.book().find_user(assignee);
      if (!u.found()) {
        return http::json_error(400, "no desk user named " + assignee);
      }
    }
    auto done = _desk.operator_action(*id, *action, c.user.name, text, assignee);
    if (!done) {
      audit(c.user.name, action_name, target, false, done.error().message);
      const unsigned status = done.error().code == errc::not_found       ? 404
                              : done.error().code == errc::invalid_input ? 409
                                                                         : 502;
      return http::json_error(status, done.error().message);
    }
    audit(c.user.name, action_name, target, true, text);
    return json_response(200, {{"case", case_json(*done)}});
  }

  http::response subscribers(const http::request& req) {
    auto who = require(req, ledger::role::viewer, false, "subscribers", "");
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    const auto p = page_of(req);
    auto rows = _desk.book().search_subscribers(query(req, "prefix").substr(0, 512), query(req, "after").substr(0, 512),
                                                p.limit + 1);
    if (!rows) {
      return http::json_error(503, "the desk's ledger is unavailable: " + rows.error().message);
    }
    const bool more = rows->size() > p.limit;
    if (more) {
      rows->resize(p.limit);
    }
    json list = json::array();
    for (const auto& s : *rows) {
      list.push_back({{"id", s.id}, {"plan", s.plan}, {"created_ms", s.created_ms}});
    }
    return json_response(200, {{"subscribers", list},
                               {"next_after", more && !rows->empty() ? json(rows->back().id) : json(nullptr)}});
  }

  http::response exemptions(const http::request& req) {
    auto who = require(req, ledger::role::viewer, false, "exemptions", "");
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    std::optional<ledger::exemption_status> status;
    if (const std::string st = query(req, "status"); !st.empty()) {
      status = ledger::parse_exemption_status(st);
      if (!status) {
        return http::json_error(400, "unknown status (pending, active, suspended, refused, revoked)");
      }
    }
    const auto p = page_of(req);
    auto rows = _desk.book().list_exemptions(status, p);
    if (!rows) {
      return http::json_error(503, "the desk's ledger is unavailable: " + rows.error().message);
    }
    json list = json::array();
    for (const auto& e : *rows) {
      list.push_back(exemption_json(e));
    }
    const bool full = rows->size() == p.limit && !rows->empty();
    return json_response(200, {{"exemptions", list}, {"next_before", full ? json(rows->back().id) : json(nullptr)}});
  }

  http::response exemption_action(const http::request& req) {
    const auto slash = req.path_tail.find('/');
    const auto id = number(std::string_view(req.path_tail).substr(0, slash));
    if (!id || slash == std::string::npos || req.path_tail.substr(slash) != "/actions") {
      return http::json_error(404, "not found");
    }
    const std::string target = "exemption:" + std::to_string(*id);
    const json body = json::parse(req.body, nullptr, false);
    const std::string action =
        body.is_object() && body.contains("action") && body["action"].is_string() ? body["action"].get<std::string>() : "";
    auto who = require(req, ledger::role::operator_, true, "exemption_" + clean_name(action), target);
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    const auto& c = std::get<caller>(who);
    const std::string text = body.contains("text") && body["text"].is_string() ? clean_text(body["text"].get<std::string>()) : "";
    auto done = _desk.exemption_action(*id, action, c.user.name, text);
    if (!done) {
      audit(c.user.name, "exemption_" + clean_name(action), target, false, done.error().message);
      return http::json_error(done.error().code == errc::not_found ? 404 : 409, done.error().message);
    }
    audit(c.user.name, "exemption_" + action, target, true, text);
    return json_response(200, {{"exemption", exemption_json(*done)}});
  }

  http::response audit_log(const http::request& req) {
    auto who = require(req, ledger::role::admin, false, "audit", "");
    if (auto* refused = std::get_if<http::response>(&who)) {
      return *refused;
    }
    const auto p = page_of(req);
    auto rows = _desk.book().list_audit(query(req, "actor").substr(0, 64), p);
    if (!rows) {
      return http::json_error(503, "the desk's ledger is unavailable: " + rows.error().message);
    }
    json list = json::array();
    for (const auto& a : *rows) {
      list.push_back({{"id", a.id},
                      {"at_ms", a.at_ms},
                      {"actor", a.actor},
                      {"action", a.action},
                      {"target", a.target},
                      {"allowed", a.allowed},
                      {"detail", a.detail}});
    }
    const bool full = rows->size() == p.limit && !rows->empty();
    return json_response(200, {{"audit", list}, {"next_before", full ? json(rows->back().id) : json(nullptr)}});
  }

  // --- self-help ---

  struct token_check {
    std::optional<ledger::help_token_row> token;
    http::response refusal;
  };

  // The token from /help/<token>[/...]; refusals are audited (never with the token itself).
  token_check check_token(const http::request& req, std::string_view token, bool as_html) {
    const std::int64_t now = _svc.now_ms();
    auto refuse = [&](unsigned status, std::string_view why, std::string_view words) {
      audit("customer", "self_help", "token", false, why);
      return token_check{std::nullopt, as_html ? help_page(status, "This link cannot be used", words, "")
                                               : http::json_error(status, words)};
    };
    if (!_desk.help_limiter().allow(req.remote_address, now)) {
      return refuse(429, "rate limited: address " + req.remote_address,
                    "Too many attempts from your address. Please wait a few minutes and open the link from the e-mail again.");
    }
    if (token.size() != auth::token_chars) {
      return refuse(404, "malformed token", "This link is not valid. Please open the link from the e-mail we sent you.");
    }
    auto t = _desk.book().find_help_token(auth::sha256_hex(token));
    if (t.failed()) {
      return token_check{std::nullopt, http::json_error(503, "please try again in a few minutes")};
    }
    if (t.missing()) {
      return refuse(404, "unknown token", "This link is not valid. Please open the link from the e-mail we sent you.");
    }
    if (t->expires_ms <= now) {
      return refuse(410, "expired token (case " + std::to_string(t->case_id) + ")",
                    "This link has expired. If your mail is still held, contact our support; a newer e-mail from us "
                    "has a fresh link.");
    }
    return token_check{std::move(*t), {}};
  }

  static http::response help_page(unsigned status, std::string_view title, std::string_view lead,
                                   std::string_view body_html) {
    http::response r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             "<meta name=\"robots\" content=\"noindex\"><title>" +
             escape_markup(title) +
             "</title><style>body{font-family:sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
             "button{font-size:1rem;padding:.5rem 1rem}textarea{width:100%}"
             ".note{background:#f3f3f3;padding:.5rem 1rem}</style></head><body><main><h1>" +
             escape_markup(title) + "</h1><p id=\"lead\">" + escape_markup(lead) + "</p>" + std::string(body_html) +
             "</main></body></html>\n";
    return r;
  }

  http::response help(const http::request& req) {
    const std::string tail = req.path_tail;
    const auto slash = tail.find('/');
    const std::string token = tail.substr(0, slash);
    const std::string verb = slash == std::string::npos ? "" : tail.substr(slash + 1);
    auto checked = check_token(req, token, true);
    if (!checked.token) {
      return checked.refusal;
    }
    const auto& t = *checked.token;
    if (req.method == "POST" && verb == "fixed") {
      auto answer = _desk.customer_fixed(t);
      if (!answer) {
        return help_page(502, "Something went wrong", "We could not finish this just now; please try again in a few minutes.",
                         "");
      }
      audit("customer", "self_help_fixed", "case:" + std::to_string(t.case_id),
            answer->decision == desk::fix_decision::lift, answer->reason);
      if (answer->decision == desk::fix_decision::lift) {
        return help_page(200, "Thank you — your mail is flowing again",
                         "We lifted the hold. " + std::to_string(answer->released) +
                             " held messages are being delivered now. We will keep an eye on your connection for a "
                             "few days; if the problem comes back, our team will contact you.",
                         "<p id=\"outcome\">released</p>");
      }
      if (answer->decision == desk::fix_decision::still_sending) {
        return help_page(200, "Your connection is still sending mail",
                         "We cannot lift the hold yet: " + answer->reason + ".", "<p id=\"outcome\">sending</p>");
      }
      if (answer->decision == desk::fix_decision::not_applicable) {
        return help_page(200, "Nothing more to do",
                         answer->reason.empty() ? "Your case needs nothing more from you." : answer->reason,
                         "<p id=\"outcome\">nothing</p>");
      }
      return help_page(200, "A member of our team will contact you",
                       answer->reason.empty() ? "Our team will look at your case." : answer->reason,
                       "<p id=\"outcome\">escalated</p>");
    }
    if (req.method == "POST" && verb == "exemption") {
      const std::string reason = clean_text(http::form_value(req.body, "reason").value_or(""));
      auto decided = _desk.request_exemption(t.subscriber, reason);
      if (!decided && decided.error().code == errc::not_found) {
        return help_page(200, "Your request for port 25",
                         "We could not find your account's records; please contact our support.",
                         "<p id=\"outcome\">refused</p>");
      }
      if (!decided) {
        return help_page(502, "Something went wrong", "We could not record your request; please try again later.", "");
      }
      audit("customer", "exemption_request", "subscriber:" + t.subscriber,
            decided->outcome != desk::exemption_outcome::refused, decided->reason);
      return help_page(200, "Your request for port 25", decided->reason,
                       "<p id=\"outcome\">" + std::string(desk::exemption_outcome_name(decided->outcome)) + "</p>");
    }
    if (req.method != "GET" || !verb.empty()) {
      return help_page(404, "Not found", "This page does not exist.", "");
    }
    auto c = _desk.book().find_case(t.case_id);
    if (!c.found()) {
      return help_page(404, "This link cannot be used", "We could not find the case this link belongs to.", "");
    }
    auto held = _desk.book().held_queue_ids(c->id, true);
    const std::size_t waiting = held ? held->size() : 0;
    const auto& d = _svc.current()->settings.desk;
    std::string body;
    body += "<h2>What we saw</h2><p>Messages sent from your connection or account looked like the work of a program "
            "that sends spam, not like your usual mail. We measured only numbers; nobody read your mail.</p>"
            "<p class=\"note\" id=\"evidence\">" +
            escape_markup(c->summary) + "</p>";
    body += "<p>Status of your case: <strong id=\"case-status\">" + escape_markup(ledger::status_name(c->status)) +
            "</strong>. Messages waiting for you: <strong id=\"held-count\">" + std::to_string(waiting) +
            "</strong>. They are kept, not deleted, and are delivered once this is fixed.</p>";
    body += "<h2>What to do</h2><ol>"
            "<li>Run the security scan of your antivirus program on every computer, phone and tablet in your home, "
            "and remove what it finds. Update their systems.</li>"
            "<li>Change the password of your e-mail account, and of any account that used the same password.</li>"
            "<li>Check devices such as printers, cameras or routers: switch them off and on and update them.</li>"
            "</ol>";
    if (c->status == ledger::case_status::open || c->status == ledger::case_status::notified) {
      body += "<form method=\"post\" action=\"/help/" + token +
              "/fixed\"><p>When you have done this, leave your devices switched on for " +
              std::to_string(desk::advised_wait_ms / 60'000) +
              " minutes, then tell us. We check that this mail no longer leaves your connection and deliver the "
              "waiting messages at once.</p>"
              "<button type=\"submit\" id=\"fixed\">I have fixed it</button></form>";
    } else if (c->status == ledger::case_status::escalated) {
      body += "<p>A member of our team is looking at your case and will contact you.</p>";
    } else {
      body += "<p>Your mail is flowing again. Thank you.</p>";
    }
    body += "<h2>Do you run your own mail server?</h2><p>Home connections cannot send mail directly to other mail "
            "servers (port 25); that stops most spam. If you need it, tell us why:</p>"
            "<form method=\"post\" action=\"/help/" + token +
            "/exemption\"><label for=\"reason\">Why you need port 25</label><br><textarea id=\"reason\" name=\"reason\" "
            "rows=\"3\" maxlength=\"2000\"></textarea><br><button type=\"submit\" id=\"ask-exemption\">Ask for port 25"
            "</button></form>";
    audit("customer", "self_help_view", "case:" + std::to_string(c->id), true, "");
    return help_page(200, d.isp_name + ": about the mail from your connection",
                     "This page explains why some of your outgoing mail is waiting, and how to get it moving again.",
                     body);
  }

 private:
  service& _svc;
  desk_service& _desk;
};

}  // namespace

bool add_desk_view(service& svc, desk_service& desk, const http::request& req, const std::string& id,
                   nlohmann::json& view) {
  desk_routes routes(svc, desk);
  if (!routes.session_of(req)) {
    return false;
  }
  ledger::case_filter f;
  f.subscriber_prefix = id;
  ledger::page_request p;
  p.limit = 200;
  auto cases = desk.book().list_cases(f, p);
  auto exemptions = desk.book().exemptions_for(id);
  auto known = desk.book().find_subscriber(id);
  json case_list = json::array();
  if (cases) {
    for (const auto& c : cases->rows) {
      if (c.subscriber == id) {  // the filter is a prefix
        case_list.push_back(case_json(c));
      }
    }
  }
  json exemption_list = json::array();
  if (exemptions) {
    for (const auto& e : *exemptions) {
      exemption_list.push_back(exemption_json(e));
    }
  }
  if (view.is_null()) {
    if (!known.found() && case_list.empty() && exemption_list.empty()) {
      return false;
    }
    view = json{{"subscriber", id}, {"level", nullptr}};
  }
  view["cases"] = case_list;
  view["exemptions"] = exemption_list;
  if (known.found()) {
    view["plan"] = known->plan;
    view["created_ms"] = known->created_ms;
  }
  return true;
}

result<void> add_desk_routes(service& svc, desk_service& desk, http::router& routes) {
  auto r = std::make_shared<desk_routes>(svc, desk);
  routes.add("POST", "/api/v1/login", [r](const http::request& q) { return r->login(q); });
  routes.add("POST", "/api/v1/logout", [r](const http::request& q) { return r->logout(q); });
  routes.add("GET", "/api/v1/me", [r](const http::request& q) { return r->me(q); });
  routes.add("GET", "/api/v1/dashboard", [r](const http::request& q) { return r->dashboard(q); });
  routes.add("GET", "/api/v1/cases", [r](const http::request& q) { return r->cases(q); });
  routes.add("GET", "/api/v1/cases/", [r](const http::request& q) { return r->one_case(q); });
  routes.add("POST", "/api/v1/cases/", [r](const http::request& q) { return r->case_action(q); });
  routes.add("GET", "/api/v1/subscribers", [r](const http::request& q) { return r->subscribers(q); });
  routes.add("GET", "/api/v1/exemptions", [r](const http::request& q) { return r->exemptions(q); });
  routes.add("POST", "/api/v1/exemptions/", [r](const http::request& q) { return r->exemption_action(q); });
  routes.add("GET", "/api/v1/audit", [r](const http::request& q) { return r->audit_log(q); });
  routes.add("GET", "/help/", [r](const http::request& q) { return r->help(q); });
  routes.add("POST", "/help/", [r](const http::request& q) { return r->help(q); });
  const auto& d = svc.current()->settings.desk;
  if (!d.web_root.empty()) {
    if (auto added = http::add_static_routes(routes, http::static_site{"/desk/", d.web_root}); !added) {
      return added.error();
    }
  }
  return {};
}

}  // namespace pw::server
