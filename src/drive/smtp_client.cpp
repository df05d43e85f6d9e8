#include "drive/smtp_client.hpp"

#include <algorithm>
#include <strings.h>

#include "timed_socket.hpp"

namespace pw::drive {
namespace {

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool is_positive(int code) { return code >= 200 && code < 300; }

bool offers(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::string smtp_data_payload(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 32 + 5);
  bool line_start = true;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (line_start && c == '.') {
      out += '.';
    }
    if (c == '\n') {
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n') {
      out += "\r\n";
      ++i;
      line_start = true;
      continue;
    }
    out += c;
    line_start = false;
  }
  if (!line_start) {
    out += "\r\n";
  }
  out += ".\r\n";
  return out;
}

std::string xtext(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < '!' || c > '~' || c == '+' || c == '=') {
      out += '+';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

smtp_client::smtp_client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : _host(std::move(host)), _port(port), _socket(std::make_unique<timed_socket>(timeout)) {}

smtp_client::smtp_client(smtp_client&&) noexcept = default;
smtp_client& smtp_client::operator=(smtp_client&&) noexcept = default;

smtp_client::~smtp_client() {
  if (_socket && _socket->is_open()) {
    // A polite end; its outcome changes nothing, and the timeout bounds it.
    if (!_socket->write("QUIT\r\n")) {
      (void)read_reply();
    }
  }
}

result<smtp_client> smtp_client::connect(const std::string& host, std::uint16_t port,
                                         std::chrono::milliseconds timeout) {
  smtp_client client(host, port, timeout);
  if (auto opened = client.open(); !opened) {
    return opened.error();
  }
  return client;
}

void smtp_client::drop() {
  _socket->close();
  _in.clear();
  _replies.reset();
  _xclient.clear();
  _session_started = false;
}

result<void> smtp_client::open() {
  drop();
  if (auto c = _socket->connect(_host, _port); !c) {
    return c.error();
  }
  auto greeting = read_reply();
  if (!greeting) {
    return greeting.error();
  }
  if (greeting->code != 220) {
    drop();
    return make_error(errc::unavailable, "SMTP server greeted with " + std::to_string(greeting->code));
  }
  // A first EHLO only to learn what the server offers us (XCLIENT); the identity comes with `start_session`.
  auto ehlo = command("EHLO localhost");
  if (!ehlo) {
    return ehlo.error();
  }
  if (!is_positive(ehlo->code)) {
    drop();
    return make_error(errc::unavailable, "SMTP server refused EHLO with " + std::to_string(ehlo->code));
  }
  _xclient = xclient_attributes(ehlo->text);
  return {};
}

result<smtp_reply> smtp_client::read_reply() {
  for (;;) {
    auto taken = _replies.take(_in);
    if (!taken) {
      drop();
      return taken.error();
    }
    if (*taken) {
      if ((*taken)->code == 421) {
        drop();  // the server closes the connection after 421
      }
      return std::move(**taken);
    }
    // `take` left no complete line behind, so this waits for the server's next one.
    if (auto ec = _socket->read_until(_in, "\r\n", max_reply_bytes + 2); ec) {
      drop();
      return make_error(errc::unavailable, "SMTP server did not answer: " + ec.message());
    }
  }
}

result<smtp_reply> smtp_client::command(std::string_view line) {
  std::string out(line);
  out += "\r\n";
  if (auto ec = _socket->write(out); ec) {
    drop();
    return make_error(errc::unavailable, "cannot write to the SMTP server: " + ec.message());
  }
  return read_reply();
}

result<void> smtp_client::start_session(const smtp_submission& s) {
  const bool needs_xclient = !s.xclient_addr.empty() || !s.xclient_login.empty();
  if (_session_started && _xclient.empty()) {
    // Without XCLIENT (not offered, or no longer offered to the previous identity) a session of its
    // own needs a new connection.
    if (auto o = open(); !o) {
      return o;
    }
  }
  if (_xclient.empty()) {
    if (needs_xclient) {
      return make_error(errc::unavailable,
                        "the SMTP server does not offer XCLIENT to this client (Postfix: smtpd_authorized_xclient_hosts)");
    }
  } else {
    if (!offers(_xclient, "ADDR") || (!s.xclient_login.empty() && !offers(_xclient, "LOGIN"))) {
      return make_error(errc::unavailable, "the SMTP server's XCLIENT does not take ADDR and LOGIN");
    }
    std::string addr = s.xclient_addr.empty() ? _socket->local_address() : s.xclient_addr;
    if (addr.find(':') != std::string::npos && strncasecmp(addr.c_str(), "IPv6:", 5) != 0) {
      addr = "IPV6:" + addr;
    }
    std::string line = "XCLIENT ADDR=" + xtext(addr);
    if (offers(_xclient, "NAME")) {
      line += " NAME=[UNAVAILABLE]";  // no reverse name: the one of the real connection must not linger
    }
    if (offers(_xclient, "LOGIN")) {
      line += " LOGIN=" + (s.xclient_login.empty() ? std::string("[UNAVAILABLE]") : xtext(s.xclient_login));
    }
    if (offers(_xclient, "HELO")) {
      line += " HELO=" + xtext(s.helo);
    }
    auto r = command(line);
    if (!r) {
      return r.error();
    }
    if (r->code != 220) {
      drop();
      return make_error(errc::unavailable, "the SMTP server refused XCLIENT with " + std::to_string(r->code));
    }
  }
  auto ehlo = command("EHLO " + s.helo);
  if (!ehlo) {
    return ehlo.error();
  }
  if (!is_positive(ehlo->code)) {
    drop();
    return make_error(errc::unavailable, "the SMTP server refused EHLO with " + std::to_string(ehlo->code));
  }
  _xclient = xclient_attributes(ehlo->text);
  _session_started = true;
  return {};
}

result<void> smtp_client::ready() {
  if (!_socket->is_open()) {
    return open();
  }
  // RSET ends the previous transaction and probes a connection that sat idle: when the server ended
  // it (a write or read error, or 421), nothing of the next message was sent, so a new one is safe.
  auto rset = command("RSET");
  if (!rset || rset->code == 421) {
    return open();
  }
  if (!is_positive(rset->code)) {
    drop();
    return make_error(errc::unavailable, "the SMTP server refused RSET with " + std::to_string(rset->code));
  }
  return {};
}

result<smtp_reply_set> smtp_client::transact(const smtp_submission& s) {
  if (auto r = ready(); !r) {
    return r.error();
  }
  if (auto b = start_session(s); !b) {
    return b.error();
  }
  smtp_reply_set out;
  auto mail = command("MAIL FROM:<" + s.sender + ">");
  if (!mail) {
    return mail.error();
  }
  out.mail = mail->code;
  out.final_text = mail->text;
  if (!is_positive(mail->code)) {
    return out;
  }
  bool accepted = false;
  for (const auto& rcpt : s.recipients) {
    auto r = command("RCPT TO:<" + rcpt + ">");
    if (!r) {
      return r.error();
    }
    out.rcpt.push_back(r->code);
    out.final_text = r->text;
    accepted = accepted || is_positive(r->code);
    if (r->code == 421) {
      return out;
    }
  }
  if (!accepted) {
    return out;
  }
  auto data = command("DATA");
  if (!data) {
    return data.error();
  }
  out.data = data->code;
  out.final_text = data->text;
  if (data->code != 354) {
    return out;
  }
  if (auto ec = _socket->write(smtp_data_payload(s.data)); ec) {
    drop();
    return make_error(errc::unavailable, "cannot write the message to the SMTP server: " + ec.message());
  }
  auto done = read_reply();
  if (!done) {
    return done.error();
  }
  out.data = done->code;
  out.final_text = done->text;
  return out;
}

result<smtp_reply_set> smtp_client::send(const smtp_submission& s) {
  if (s.recipients.empty()) {
    return make_error(errc::invalid_input, "a submission needs at least one recipient");
  }
  bool bad = has_line_break(s.xclient_addr) || has_line_break(s.xclient_login) || has_line_break(s.sender) ||
             s.helo.empty() || has_line_break(s.helo) || s.helo.find(' ') != std::string::npos;
  for (const auto& r : s.recipients) {
    bad = bad || r.empty() || has_line_break(r);
  }
  if (bad) {
    return make_error(errc::invalid_input, "an envelope field is empty or contains a line break or space");
  }
  return transact(s);
}

}  // namespace pw::drive
