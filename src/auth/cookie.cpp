#include "auth/cookie.hpp"

#include <algorithm>

namespace pw::auth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// RFC 9110 section 5.6.2 tchar.
bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 6265 section 4.1.1 cookie-octet: printable US-ASCII except space, '"', ',', ';' and '\'.
bool is_cookie_octet(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2b) || (u >= 0x2d && u <= 0x3a) || (u >= 0x3c && u <= 0x5b) ||
         (u >= 0x5d && u <= 0x7e);
}

result<void> check_name(std::string_view name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
    return make_error(errc::invalid_input, "cookie name is not an HTTP token");
  }
  return {};
}

std::string attributes(std::int64_t max_age_seconds, bool secure) {
  std::string out = "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_seconds);
  if (secure) {
    out += "; Secure";
  }
  return out;
}

}  // namespace

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name,
                                            const cookie_limits& limits) noexcept {
  if (header.size() > limits.max_header_bytes || name.empty()) {
    return std::nullopt;
  }
  std::size_t pairs = 0;
  while (!header.empty() && pairs < limits.max_pairs) {
    const std::size_t end = header.find(';');
    const std::string_view pair = header.substr(0, end);
    header.remove_prefix(end == std::string_view::npos ? header.size() : end + 1);
    ++pairs;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) {
      continue;
    }
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (std::any_of(value.begin(), value.end(), [](char c) { return is_control(c) || c == '"'; })) {
      return std::nullopt;
    }
    return value;
  }
  return std::nullopt;
}

result<std::string> session_cookie(std::string_view name, std::string_view value, std::int64_t max_age_seconds,
                                   bool secure) {
  if (auto ok = check_name(name); !ok) {
    return ok.error();
  }
  if (!std::all_of(value.begin(), value.end(), is_cookie_octet)) {
    return make_error(errc::invalid_input, "cookie value has characters outside RFC 6265 cookie-octets");
  }
  if (max_age_seconds <= 0) {
    return make_error(errc::invalid_input, "session cookie lifetime must be positive");
  }
  return std::string(name) + "=" + std::string(value) + attributes(max_age_seconds, secure);
}

result<std::string> clearing_cookie(std::string_view name, bool secure) {
  if (auto ok = check_name(name); !ok) {
    return ok.error();
  }
  return std::string(name) + "=" + attributes(0, secure);
}

}  // namespace pw::auth
