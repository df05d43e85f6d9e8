#include "drive/daemon_client.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "timed_socket.hpp"

namespace pw::drive {
namespace {

namespace bhttp = boost::beast::http;
using json = nlohmann::json;

// Everything but RFC 3986 unreserved characters is escaped: ids carry ':' and '@', and a '/' must
// not become a path separator.
std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::optional<std::int64_t> integer_at(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return it->get<std::int64_t>();
}

std::optional<double> number_at(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) {
    return std::nullopt;
  }
  return it->get<double>();
}

std::optional<std::string> string_at(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

// A key that is either an integer or null (absent counts as null).
std::optional<std::optional<std::int64_t>> nullable_integer_at(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return std::optional<std::int64_t>{};
  }
  if (!it->is_number_integer()) {
    return std::nullopt;
  }
  return std::optional<std::int64_t>{it->get<std::int64_t>()};
}

std::string error_text(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto e = string_at(j, "error")) {
      return *e;
    }
  }
  return "no error text";
}

result<subscriber_status> parse_subscriber(const std::string& body) {
  const auto bad = [](std::string what) { return make_error(errc::invalid_input, "subscriber answer: " + what); };
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return bad("not a JSON object");
  }
  subscriber_status s;
  auto id = string_at(j, "subscriber");
  if (!id) {
    return bad("no subscriber id");
  }
  s.id = std::move(*id);
  if (auto level = string_at(j, "level")) {
    s.level = std::move(*level);
    const auto suspicion = number_at(j, "suspicion");
    const auto last_seen = integer_at(j, "last_seen_ms");
    const auto held_since = nullable_integer_at(j, "held_since_ms");
    const auto grace_until = nullable_integer_at(j, "grace_until_ms");
    if (!suspicion || !last_seen || !held_since || !grace_until) {
      return bad("engine fields missing or of the wrong type");
    }
    s.suspicion = *suspicion;
    s.last_seen_ms = *last_seen;
    s.held_since_ms = *held_since;
    s.grace_until_ms = *grace_until;
  } else if (!j.contains("level") || !j["level"].is_null()) {
    return bad("level is neither a string nor null");
  }
  if (auto e = string_at(j, "decisions_error")) {
    return make_error(errc::unavailable, "the daemon could not read the decision log: " + *e);
  }
  if (auto e = string_at(j, "held_error")) {
    return make_error(errc::unavailable, "the daemon could not read the held list: " + *e);
  }
  const auto decisions = j.find("decisions");
  const auto held = j.find("held");
  if (decisions == j.end() || !decisions->is_array() || held == j.end() || !held->is_array()) {
    return bad("decisions or held missing");
  }
  for (const json& d : *decisions) {
    if (!d.is_object()) {
      return bad("a decision is not an object");
    }
    subscriber_decision out;
    const auto at = integer_at(d, "at_ms");
    auto queue_id = string_at(d, "queue_id");
    auto action = string_at(d, "action");
    auto level = string_at(d, "level");
    const auto suspicion = number_at(d, "suspicion");
    const auto observe_only = d.find("observe_only");
    if (!at || !queue_id || !action || !level || !suspicion || observe_only == d.end() ||
        !observe_only->is_boolean()) {
      return bad("a decision's fields are missing or of the wrong type");
    }
    out.at_ms = *at;
    out.queue_id = std::move(*queue_id);
    out.action = std::move(*action);
    out.level = std::move(*level);
    out.suspicion = *suspicion;
    out.observe_only = observe_only->get<bool>();
    s.decisions.push_back(std::move(out));
  }
  for (const json& h : *held) {
    if (!h.is_object()) {
      return bad("a held entry is not an object");
    }
    auto queue_id = string_at(h, "queue_id");
    const auto held_ms = integer_at(h, "held_ms");
    if (!queue_id || !held_ms) {
      return bad("a held entry's fields are missing or of the wrong type");
    }
    s.held.push_back(held_message{std::move(*queue_id), *held_ms});
  }
  return s;
}

}  // namespace

daemon_client::daemon_client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : _host(std::move(host)), _port(port), _socket(std::make_unique<timed_socket>(timeout)) {}

daemon_client::daemon_client(daemon_client&&) noexcept = default;
daemon_client& daemon_client::operator=(daemon_client&&) noexcept = default;
daemon_client::~daemon_client() = default;

result<daemon_client> daemon_client::connect(const std::string& host, std::uint16_t port,
                                             std::chrono::milliseconds timeout) {
  daemon_client client(host, port, timeout);
  if (auto c = client._socket->connect(host, port); !c) {
    return c.error();
  }
  return client;
}

result<daemon_client::answer> daemon_client::exchange(std::string_view method, const std::string& target,
                                                      const std::string& body) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, _host);
  req.keep_alive(true);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  if (auto ec = _socket->run([&](auto handler) { bhttp::async_write(_socket->socket(), req, handler); }); ec) {
    _socket->close();
    return make_error(errc::unavailable, "cannot write to the daemon: " + ec.message());
  }
  boost::beast::flat_buffer buffer(max_response_bytes);
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_response_bytes);
  if (auto ec = _socket->run([&](auto handler) { bhttp::async_read(_socket->socket(), buffer, parser, handler); });
      ec) {
    _socket->close();
    return make_error(errc::unavailable, "the daemon did not answer: " + ec.message());
  }
  auto res = parser.release();
  if (!res.keep_alive()) {
    _socket->close();
  }
  return answer{res.result_int(), std::move(res.body())};
}

result<daemon_client::answer> daemon_client::request(std::string_view method, const std::string& target,
                                                     std::string body) {
  const bool reused = _socket->is_open();
  if (!reused) {
    if (auto c = _socket->connect(_host, _port); !c) {
      return c.error();
    }
  }
  auto a = exchange(method, target, body);
  if (!a && reused) {
    // The daemon closes keep-alive connections that sat idle; both our requests are idempotent.
    if (auto c = _socket->connect(_host, _port); !c) {
      return c.error();
    }
    a = exchange(method, target, body);
  }
  return a;
}

result<void> daemon_client::set_clock(std::int64_t now_ms) {
  auto a = request("PUT", "/api/v1/clock", json{{"now_ms", now_ms}}.dump());
  if (!a) {
    return a.error();
  }
  if (a->status != 204) {
    return make_error(errc::unavailable, "PUT /api/v1/clock answered " + std::to_string(a->status) + " (" +
                                             error_text(a->body) + "); is server.clock = \"api\"?");
  }
  return {};
}

lookup<subscriber_status> daemon_client::subscriber(std::string_view id) {
  auto a = request("GET", "/api/v1/subscribers/" + percent_encode(id), {});
  if (!a) {
    return a.error();
  }
  if (a->status == 404) {
    return not_found;
  }
  if (a->status != 200) {
    return make_error(errc::unavailable, "GET /api/v1/subscribers answered " + std::to_string(a->status) + " (" +
                                             error_text(a->body) + ")");
  }
  auto s = parse_subscriber(a->body);
  if (!s) {
    return s.error();
  }
  return std::move(*s);
}

}  // namespace pw::drive
