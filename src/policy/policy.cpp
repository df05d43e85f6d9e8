// The policy-delegation codec: request reader, typed request view, action encoders.
#include "policy/policy.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

namespace pw::policy {
namespace {

error protocol_error(std::string message) { return make_error(errc::invalid_input, "policy: " + std::move(message)); }

// SMTP reply lines are at most 512 bytes with CRLF (RFC 5321 4.5.3.1.5); Postfix adds the code,
// the enhanced status and, at RCPT, "<address>: Recipient address rejected: " in front of our text.
constexpr std::size_t max_text_bytes = 400;
// RFC 5322 2.1.1: a header line is at most 998 bytes.
constexpr std::size_t max_header_line_bytes = 998;

protocol_state state_from_name(std::string_view s) {
  if (s == "RCPT") return protocol_state::rcpt;
  if (s == "END-OF-MESSAGE") return protocol_state::end_of_message;
  if (s == "DATA") return protocol_state::data;
  if (s == "MAIL") return protocol_state::mail;
  if (s == "CONNECT") return protocol_state::connect;
  if (s == "EHLO") return protocol_state::ehlo;
  if (s == "HELO") return protocol_state::helo;
  if (s == "VRFY") return protocol_state::vrfy;
  if (s == "ETRN") return protocol_state::etrn;
  return protocol_state::other;
}

template <class T>
result<T> parse_number(std::string_view name, std::string_view value) {
  T n = 0;
  if (value.empty()) {
    return n;
  }
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc{} || end != value.data() + value.size()) {
    return protocol_error(std::string(name) + " is not a number");
  }
  return n;
}

// Postfix writes "unknown" for a port it does not know (e.g. a local socket); that is 0 here.
std::uint16_t parse_port(std::string_view value) {
  std::uint16_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  return ec == std::errc{} && end == value.data() + value.size() ? n : 0;
}

result<request> build_request(std::vector<attribute>&& attributes) {
  request r;
  bool is_policy_request = false;
  for (const auto& a : attributes) {
    const std::string_view n = a.name;
    if (n == "request") {
      is_policy_request = a.value == "smtpd_access_policy";
    } else if (n == "protocol_state") {
      r.protocol_state_name = a.value;
      r.state = state_from_name(a.value);
    } else if (n == "protocol_name") {
      r.protocol_name = a.value;
    } else if (n == "client_address") {
      r.client_address = a.value;
    } else if (n == "client_name") {
      r.client_name = a.value;
    } else if (n == "reverse_client_name") {
      r.reverse_client_name = a.value;
    } else if (n == "client_port") {
      r.client_port = parse_port(a.value);
    } else if (n == "server_address") {
      r.server_address = a.value;
    } else if (n == "server_port") {
      r.server_port = parse_port(a.value);
    } else if (n == "helo_name") {
      r.helo_name = a.value;
    } else if (n == "sender") {
      r.sender = a.value;
    } else if (n == "recipient") {
      r.recipient = a.value;
    } else if (n == "recipient_count") {
      auto v = parse_number<std::uint32_t>(n, a.value);
      if (!v) {
        return v.error();
      }
      r.recipient_count = *v;
    } else if (n == "queue_id") {
      r.queue_id = a.value;
    } else if (n == "instance") {
      r.instance = a.value;
    } else if (n == "size") {
      auto v = parse_number<std::uint64_t>(n, a.value);
      if (!v) {
        return v.error();
      }
      r.size = *v;
    } else if (n == "sasl_method") {
      r.sasl_method = a.value;
    } else if (n == "sasl_username") {
      r.sasl_username = a.value;
    } else if (n == "sasl_sender") {
      r.sasl_sender = a.value;
    } else if (n == "encryption_protocol") {
      r.encryption_protocol = a.value;
    } else if (n == "policy_context") {
      r.policy_context = a.value;
    }
  }
  if (!is_policy_request) {
    return protocol_error("request without request=smtpd_access_policy");
  }
  r.attributes = std::move(attributes);
  return r;
}

bool valid_header_name(std::string_view name) {
  if (name.empty() || name.size() > 200) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b > 32 && b < 127 && c != ':';
  });
}

void append_action(std::string& out, std::string_view word, std::string_view text) {
  out.append("action=");
  out.append(word);
  const std::string clean = sanitise_text(text, max_text_bytes);
  if (!clean.empty()) {
    out.push_back(' ');
    out.append(clean);
  }
  out.append("\n\n");
}

}  // namespace

std::optional<std::string_view> request::get(std::string_view name) const {
  for (auto it = attributes.rbegin(); it != attributes.rend(); ++it) {
    if (it->name == name) {
      return std::string_view(it->value);
    }
  }
  return std::nullopt;
}

request_reader::request_reader(limits lim) : _limits(lim) {}

void request_reader::feed(std::string_view bytes) {
  if (_failed) {
    return;
  }
  if (_consumed > 0) {
    _buffer.erase(0, _consumed);
    _consumed = 0;
  }
  _buffer.append(bytes);
}

bool request_reader::at_request_boundary() const noexcept { return _pending.empty() && _buffer.size() == _consumed; }

result<std::optional<request>> request_reader::next() {
  const auto fail = [this](std::string message) -> result<std::optional<request>> {
    _failed = true;
    _pending.clear();
    return protocol_error(std::move(message));
  };
  if (_failed) {
    return protocol_error("stream unusable after an earlier error");
  }
  for (;;) {
    const std::string_view unread = std::string_view(_buffer).substr(_consumed);
    const std::size_t lf = unread.find('\n', _scanned);
    if (lf == std::string_view::npos) {
      // Check the partial line now, so a peer that never sends LF cannot grow the buffer.
      _scanned = unread.size();
      if (unread.size() > _limits.max_line_bytes + 1) {  // +1: a CR may precede the LF
        return fail("line longer than " + std::to_string(_limits.max_line_bytes) + " bytes");
      }
      if (_pending_bytes + unread.size() > _limits.max_request_bytes) {
        return fail("request larger than " + std::to_string(_limits.max_request_bytes) + " bytes");
      }
      return std::optional<request>{};
    }
    std::string_view line = unread.substr(0, lf);
    _consumed += lf + 1;
    _scanned = 0;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.size() > _limits.max_line_bytes) {
      return fail("line longer than " + std::to_string(_limits.max_line_bytes) + " bytes");
    }
    _pending_bytes += line.size() + 1;
    if (_pending_bytes > _limits.max_request_bytes) {
      return fail("request larger than " + std::to_string(_limits.max_request_bytes) + " bytes");
    }
    if (line.empty()) {
      if (_pending.empty()) {
        return fail("empty request (a blank line without attributes)");
      }
      auto built = build_request(std::move(_pending));
      _pending.clear();
      _pending_bytes = 0;
      if (!built) {
        _failed = true;
        return built.error();
      }
      return std::optional<request>{std::move(*built)};
    }
    if (line.find('\0') != std::string_view::npos) {
      return fail("NUL byte in attribute line " + std::to_string(_pending.size() + 1));
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return fail("attribute line " + std::to_string(_pending.size() + 1) + " has no '='");
    }
    if (eq == 0) {
      return fail("attribute line " + std::to_string(_pending.size() + 1) + " has an empty name");
    }
    if (_pending.size() >= _limits.max_attributes) {
      return fail("more than " + std::to_string(_limits.max_attributes) + " attributes");
    }
    _pending.push_back(attribute{std::string(line.substr(0, eq)), std::string(line.substr(eq + 1))});
  }
}

std::string sanitise_text(std::string_view text, std::size_t max_bytes) {
  std::string s(text);
  for (char& c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 32 && c != '\t') || b == 127) {
      c = ' ';
    }
  }
  if (s.size() > max_bytes) {
    std::size_t n = max_bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {  // not inside a UTF-8 sequence
      --n;
    }
    s.resize(n);
  }
  return s;
}

void append_dunno(std::string& out) { out.append("action=DUNNO\n\n"); }

void append_defer_if_permit(std::string& out, std::string_view text) { append_action(out, "DEFER_IF_PERMIT", text); }

void append_hold(std::string& out, std::string_view text) { append_action(out, "HOLD", text); }

void append_reject(std::string& out, std::string_view text) { append_action(out, "REJECT", text); }

result<void> append_tempfail(std::string& out, std::uint16_t code, std::string_view enhanced_status,
                             std::string_view text) {
  if (code < 400 || code > 499) {
    return protocol_error("tempfail code " + std::to_string(code) + " is not 4xx");
  }
  // RFC 3463: class "." subject "." detail, 1-3 digits each; the class must be 4 like the code.
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const std::size_t dot1 = enhanced_status.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : enhanced_status.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || enhanced_status.substr(0, dot1) != "4" ||
      !digits(enhanced_status.substr(dot1 + 1, dot2 - dot1 - 1)) || !digits(enhanced_status.substr(dot2 + 1))) {
    return protocol_error("enhanced status code is not 4.x.y");
  }
  std::string word = std::to_string(code);
  word.push_back(' ');
  word.append(enhanced_status);
  append_action(out, word, text);
  return {};
}

result<void> append_prepend(std::string& out, std::string_view name, std::string_view value) {
  if (!valid_header_name(name)) {
    return protocol_error("header name refused (empty, too long, or with ':', space or control bytes)");
  }
  out.append("action=PREPEND ");
  out.append(name);
  out.append(": ");
  out.append(sanitise_text(value, max_header_line_bytes - name.size() - 2));
  out.append("\n\n");
  return {};
}

}  // namespace pw::policy
