// The milter wire codec: framing, packet decoding, reply encoding and the OPTNEG answer.
#include <cstring>
#include <string>

#include "milter/milter.hpp"
#include "protocol_names.hpp"

namespace pw::milter {
namespace {

error protocol_error(std::string message) { return make_error(errc::invalid_input, "milter: " + std::move(message)); }

}  // namespace

std::string command_name(char c) {
  switch (c) {
    case command::abort:
      return "ABORT";
    case command::body:
      return "BODY";
    case command::connect:
      return "CONNECT";
    case command::macro:
      return "MACRO";
    case command::end_of_message:
      return "END_OF_MESSAGE";
    case command::helo:
      return "HELO";
    case command::quit_new_connection:
      return "QUIT_NC";
    case command::header:
      return "HEADER";
    case command::mail:
      return "MAIL";
    case command::end_of_headers:
      return "EOH";
    case command::optneg:
      return "OPTNEG";
    case command::quit:
      return "QUIT";
    case command::rcpt:
      return "RCPT";
    case command::data:
      return "DATA";
    case command::unknown:
      return "UNKNOWN";
    default: {
      static constexpr char hex[] = "0123456789abcdef";
      const auto b = static_cast<unsigned char>(c);
      return std::string("command 0x") + hex[b >> 4] + hex[b & 15];
    }
  }
}

namespace {

std::uint32_t read_u32(std::string_view s, std::size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Reads NUL-terminated strings off a payload; a string without its NUL is an error.
class string_cursor {
 public:
  string_cursor(std::string_view payload, char cmd) : _rest(payload), _cmd(cmd) {}

  result<std::string> next(const char* field) {
    const auto nul = _rest.find('\0');
    if (nul == std::string_view::npos) {
      return protocol_error(command_name(_cmd) + ": " + field + " is not NUL-terminated");
    }
    std::string s(_rest.substr(0, nul));
    _rest.remove_prefix(nul + 1);
    return s;
  }
  result<void> expect_end() const {
    if (!_rest.empty()) {
      return protocol_error(command_name(_cmd) + ": " + std::to_string(_rest.size()) + " unexpected trailing bytes");
    }
    return {};
  }
  [[nodiscard]] bool empty() const noexcept { return _rest.empty(); }
  std::string_view& rest() noexcept { return _rest; }

 private:
  std::string_view _rest;
  char _cmd;
};

result<event> decode_args(const packet& p, bool is_mail) {
  string_cursor cur(p.payload, p.command);
  std::vector<std::string> args;
  if (cur.empty()) {
    return protocol_error(command_name(p.command) + ": no address");
  }
  while (!cur.empty()) {
    auto s = cur.next(args.empty() ? "address" : "ESMTP argument");
    if (!s) {
      return s.error();
    }
    args.push_back(std::move(*s));
  }
  if (is_mail) {
    return event{mail{std::move(args)}};
  }
  return event{rcpt{std::move(args)}};
}

result<event> expect_empty(const packet& p, event e) {
  if (!p.payload.empty()) {
    return protocol_error(command_name(p.command) + ": " + std::to_string(p.payload.size()) + " unexpected bytes");
  }
  return e;
}

bool is_macro_stage(char c) {
  switch (c) {
    case command::connect:
    case command::helo:
    case command::mail:
    case command::rcpt:
    case command::data:
    case command::header:
    case command::end_of_headers:
    case command::body:
    case command::end_of_message:
    case command::unknown:
      return true;
    default:
      return false;
  }
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (const char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 32 || b >= 127 || c == ':') {
      return false;
    }
  }
  return true;
}

// Cuts `s` to at most `max_bytes` without splitting a UTF-8 sequence.
void cut_utf8(std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) {
    return;
  }
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
    --n;
  }
  s.resize(n);
}

std::string without_controls(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 32 && c != '\t') || b == 127) {
      c = ' ';
    }
  }
  return s;
}

// SMTP reply lines are at most 512 bytes with CRLF (RFC 5321 4.5.3.1.5): "451 4.7.1 " + text + CRLF.
constexpr std::size_t max_reply_text_bytes = 512 - 2 - 16;
// RFC 5322 2.1.1: a line is at most 998 bytes; "Name: value".
constexpr std::size_t max_header_line_bytes = 998;
constexpr std::size_t max_quarantine_reason_bytes = 256;

bool valid_enhanced_status(std::string_view s, char cls) {
  // class "." subject(1-3 digits) "." detail(1-3 digits), RFC 3463
  if (s.size() < 5 || s[0] != cls || s[1] != '.') {
    return false;
  }
  std::size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    std::size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
      ++digits;
    }
    if (digits < 1 || digits > 3) {
      return false;
    }
    if (part == 0) {
      if (i >= s.size() || s[i] != '.') {
        return false;
      }
      ++i;
    }
  }
  return i == s.size();
}

}  // namespace

// ---- frame_reader -----------------------------------------------------------------------------

frame_reader::frame_reader(std::size_t max_packet_bytes) : _max_packet_bytes(max_packet_bytes) {}

void frame_reader::feed(std::string_view bytes) {
  if (_failed) {
    return;
  }
  // Handed-out packet views end their life here, as documented, so the consumed prefix can go.
  if (_consumed > 0) {
    _buffer.erase(0, _consumed);
    _consumed = 0;
  }
  _buffer.append(bytes);
}

result<std::optional<packet>> frame_reader::next() {
  if (_failed) {
    return protocol_error("stream unusable after an earlier framing error");
  }
  const std::size_t available = _buffer.size() - _consumed;
  if (available < 4) {
    return std::optional<packet>{};
  }
  const std::uint32_t length = read_u32(_buffer, _consumed);
  if (length == 0) {
    _failed = true;
    return protocol_error("packet length 0 (a packet has at least its command byte)");
  }
  if (length > _max_packet_bytes) {
    _failed = true;
    return protocol_error("packet length " + std::to_string(length) + " exceeds the limit of " +
                          std::to_string(_max_packet_bytes) + " bytes");
  }
  if (available - 4 < length) {
    return std::optional<packet>{};
  }
  packet p;
  p.command = _buffer[_consumed + 4];
  p.payload = std::string_view(_buffer).substr(_consumed + 5, length - 1);
  _consumed += 4 + std::size_t{length};
  return std::optional<packet>{p};
}

bool frame_reader::at_packet_boundary() const noexcept { return _buffer.size() == _consumed; }

std::size_t frame_reader::buffered_bytes() const noexcept { return _buffer.size() - _consumed; }

// ---- decoding ---------------------------------------------------------------------------------

result<event> decode(const packet& p) {
  switch (p.command) {
    case command::optneg: {
      if (p.payload.size() != 12) {
        return protocol_error("OPTNEG: payload of " + std::to_string(p.payload.size()) + " bytes, expected 12");
      }
      return event{optneg{read_u32(p.payload, 0), read_u32(p.payload, 4), read_u32(p.payload, 8)}};
    }
    case command::macro: {
      if (p.payload.empty()) {
        return protocol_error("MACRO: no stage byte");
      }
      macros m;
      m.stage = p.payload[0];
      if (!is_macro_stage(m.stage)) {
        return protocol_error("MACRO: for unknown stage " + command_name(m.stage));
      }
      string_cursor cur(p.payload.substr(1), p.command);
      while (!cur.empty()) {
        auto name = cur.next("macro name");
        if (!name) {
          return name.error();
        }
        if (cur.empty()) {
          return protocol_error("MACRO: name without value");
        }
        auto value = cur.next("macro value");
        if (!value) {
          return value.error();
        }
        m.values.push_back(macro{std::move(*name), std::move(*value)});
      }
      return event{std::move(m)};
    }
    case command::connect: {
      string_cursor cur(p.payload, p.command);
      auto host = cur.next("hostname");
      if (!host) {
        return host.error();
      }
      connect c;
      c.hostname = std::move(*host);
      if (cur.empty()) {
        return protocol_error("CONNECT: no address family");
      }
      const char family = cur.rest()[0];
      cur.rest().remove_prefix(1);
      switch (family) {
        case 'U':
          c.family = address_family::unknown;
          if (auto end = cur.expect_end(); !end) {
            return end.error();
          }
          return event{std::move(c)};
        case 'L':
          c.family = address_family::local;
          break;
        case '4':
          c.family = address_family::inet;
          break;
        case '6':
          c.family = address_family::inet6;
          break;
        default:
          return protocol_error("CONNECT: unknown address family " + command_name(family));
      }
      if (cur.rest().size() < 2) {
        return protocol_error("CONNECT: port truncated");
      }
      const auto* port = reinterpret_cast<const unsigned char*>(cur.rest().data());
      c.port = static_cast<std::uint16_t>((port[0] << 8) | port[1]);
      cur.rest().remove_prefix(2);
      auto address = cur.next("address");
      if (!address) {
        return address.error();
      }
      c.address = std::move(*address);
      if (auto end = cur.expect_end(); !end) {
        return end.error();
      }
      return event{std::move(c)};
    }
    case command::helo: {
      string_cursor cur(p.payload, p.command);
      auto name = cur.next("HELO name");
      if (!name) {
        return name.error();
      }
      if (auto end = cur.expect_end(); !end) {
        return end.error();
      }
      return event{helo{std::move(*name)}};
    }
    case command::mail:
      return decode_args(p, true);
    case command::rcpt:
      return decode_args(p, false);
    case command::header: {
      string_cursor cur(p.payload, p.command);
      auto name = cur.next("header name");
      if (!name) {
        return name.error();
      }
      auto value = cur.next("header value");
      if (!value) {
        return value.error();
      }
      if (auto end = cur.expect_end(); !end) {
        return end.error();
      }
      return event{header{std::move(*name), std::move(*value)}};
    }
    case command::unknown: {
      string_cursor cur(p.payload, p.command);
      auto line = cur.next("command line");
      if (!line) {
        return line.error();
      }
      if (auto end = cur.expect_end(); !end) {
        return end.error();
      }
      return event{unknown_command{std::move(*line)}};
    }
    case command::body:
      return event{body{std::string(p.payload)}};
    case command::end_of_message:
      return event{end_of_message{}};
    case command::end_of_headers:
      return expect_empty(p, end_of_headers{});
    case command::data:
      return expect_empty(p, data_command{});
    case command::abort:
      return expect_empty(p, abort_message{});
    case command::quit:
      return expect_empty(p, quit{});
    case command::quit_new_connection:
      return expect_empty(p, quit_new_connection{});
    default:
      return protocol_error("unknown " + command_name(p.command));
  }
}

std::string_view end_of_message_data(const packet& p) {
  return p.command == command::end_of_message ? p.payload : std::string_view{};
}

// ---- encoding ---------------------------------------------------------------------------------

void append_packet(std::string& out, char reply_command, std::string_view payload) {
  put_u32(out, static_cast<std::uint32_t>(payload.size() + 1));
  out.push_back(reply_command);
  out.append(payload);
}

void append_continue(std::string& out) { append_packet(out, 'c', {}); }
void append_accept(std::string& out) { append_packet(out, 'a', {}); }
void append_tempfail(std::string& out) { append_packet(out, 't', {}); }
void append_reject(std::string& out) { append_packet(out, 'r', {}); }

std::string sanitise_header_value(std::string_view value, std::size_t max_bytes) {
  std::string s = without_controls(value);
  cut_utf8(s, max_bytes);
  return s;
}

std::string sanitise_reply_text(std::string_view text, std::size_t max_bytes) {
  std::string s;
  s.reserve(text.size());
  for (const char c : without_controls(text)) {
    s.push_back(c);
    // Postfix (milter8.c) turns %% into % and drops a lone %, as Sendmail uses the text as a format.
    if (c == '%') {
      s.push_back('%');
    }
  }
  cut_utf8(s, max_bytes);
  std::size_t percents = 0;
  while (percents < s.size() && s[s.size() - 1 - percents] == '%') {
    ++percents;
  }
  if (percents % 2 == 1) {  // the cut split a doubled %
    s.pop_back();
  }
  return s;
}

result<void> append_reply_code(std::string& out, const smtp_reply& reply) {
  const int cls = reply.code / 100;
  if (reply.code < 400 || reply.code > 599) {
    return protocol_error("reply code " + std::to_string(reply.code) + " is not 4xx or 5xx");
  }
  if (!valid_enhanced_status(reply.enhanced_status, static_cast<char>('0' + cls))) {
    return protocol_error("enhanced status code does not match reply code " + std::to_string(reply.code));
  }
  std::string payload = std::to_string(reply.code);
  payload.push_back(' ');
  payload.append(reply.enhanced_status);
  const std::string text = sanitise_reply_text(reply.text, max_reply_text_bytes);
  if (!text.empty()) {
    payload.push_back(' ');
    payload.append(text);
  }
  payload.push_back('\0');
  append_packet(out, 'y', payload);
  return {};
}

void append_quarantine(std::string& out, std::string_view reason) {
  std::string payload = sanitise_header_value(reason, max_quarantine_reason_bytes);
  if (payload.empty()) {
    payload = "quarantined";  // libmilter refuses an empty reason
  }
  payload.push_back('\0');
  append_packet(out, 'q', payload);
}

result<void> append_header_change(std::string& out, const header_change& change) {
  if (!valid_header_name(change.name) || change.name.size() > 200) {
    return protocol_error("header name refused (empty, too long, or with ':', space or control bytes)");
  }
  std::string payload;
  char reply_command = 'h';
  switch (change.what) {
    case header_change::kind::add:
      reply_command = 'h';
      break;
    case header_change::kind::change:
      reply_command = 'm';
      put_u32(payload, change.index);
      break;
    case header_change::kind::insert:
      reply_command = 'i';
      put_u32(payload, change.index);
      break;
  }
  payload.append(change.name);
  payload.push_back('\0');
  payload.append(sanitise_header_value(change.value, max_header_line_bytes - change.name.size() - 2));
  payload.push_back('\0');
  append_packet(out, reply_command, payload);
  return {};
}

result<void> append_verdict(std::string& out, const verdict& v) {
  switch (v.what) {
    case verdict::kind::proceed:
    case verdict::kind::accept:
      if (v.reply) {
        return protocol_error("an SMTP reply text goes only with tempfail or reject");
      }
      if (v.what == verdict::kind::proceed) {
        append_continue(out);
      } else {
        append_accept(out);
      }
      return {};
    case verdict::kind::tempfail:
      if (!v.reply) {
        append_tempfail(out);
        return {};
      }
      if (v.reply->code / 100 != 4) {
        return protocol_error("tempfail needs a 4xx reply code");
      }
      return append_reply_code(out, *v.reply);
    case verdict::kind::reject:
      if (!v.reply) {
        append_reject(out);
        return {};
      }
      if (v.reply->code / 100 != 5) {
        return protocol_error("reject needs a 5xx reply code");
      }
      return append_reply_code(out, *v.reply);
  }
  return protocol_error("unknown verdict kind");
}

// ---- negotiation ------------------------------------------------------------------------------

std::vector<macro_request> negotiation::default_macro_requests() {
  // Who is sending (SASL login, else client address), and the queue id to join the stages of one
  // message with the policy requests and Postfix's log. Nothing we do not use: every macro is
  // sent again before each event of its stage (HEADER carries the EOH list once per header).
  return {
      {macro_stage::connect, "j {daemon_name} {daemon_addr} {client_addr} {client_name} {client_port}"},
      {macro_stage::mail, "i {auth_type} {auth_authen} {auth_author}"},
      {macro_stage::rcpt, "i"},
      {macro_stage::data, "i"},
      {macro_stage::eoh, "i"},
      {macro_stage::eom, "i"},
  };
}

result<negotiated> append_optneg_reply(std::string& out, const optneg& offer, const negotiation& wanted) {
  if (offer.version < protocol_version) {
    return protocol_error("MTA offers milter protocol version " + std::to_string(offer.version) +
                          "; Portwarden needs 6 (Postfix: milter_protocol = 6)");
  }
  namespace pf = protocol_flag;
  std::uint32_t protocol = 0;
  const auto stage = [&protocol](bool receive, bool reply, std::uint32_t no_send, std::uint32_t no_reply) {
    // A stage we do not receive also gets its no-reply bit, so an MTA that sends it anyway does
    // not wait for us.
    if (!receive) {
      protocol |= no_send | no_reply;
    } else if (!reply) {
      protocol |= no_reply;
    }
  };
  const stage_set& r = wanted.receive;
  const stage_set& a = wanted.reply;
  stage(r.connect, a.connect, pf::no_connect, pf::no_reply_connect);
  stage(r.helo, a.helo, pf::no_helo, pf::no_reply_helo);
  stage(r.mail, a.mail, pf::no_mail, pf::no_reply_mail);
  stage(r.rcpt, a.rcpt, pf::no_rcpt, pf::no_reply_rcpt);
  stage(r.data, a.data, pf::no_data, pf::no_reply_data);
  stage(r.headers, a.headers, pf::no_headers, pf::no_reply_header);
  stage(r.end_of_headers, a.end_of_headers, pf::no_end_of_headers, pf::no_reply_end_of_headers);
  stage(r.body, a.body, pf::no_body, pf::no_reply_body);
  stage(r.unknown, a.unknown, pf::no_unknown, pf::no_reply_unknown);

  negotiated agreed;
  agreed.version = protocol_version;
  std::uint32_t actions = wanted.actions;
  if (!wanted.macros.empty()) {
    // libmilter MTAs read the lists only from filters that set SMFIF_SETSYMLIST; Postfix reads them
    // whenever they follow, so asking costs nothing there.
    actions |= action_flag::set_macro_lists;
  }
  agreed.actions = actions & offer.actions;
  agreed.protocol = protocol & offer.protocol;

  std::string payload;
  put_u32(payload, agreed.version);
  put_u32(payload, agreed.actions);
  put_u32(payload, agreed.protocol);
  for (const auto& m : wanted.macros) {
    put_u32(payload, static_cast<std::uint32_t>(m.stage));
    payload.append(without_controls(m.names));
    payload.push_back('\0');
  }
  append_packet(out, command::optneg, payload);
  return agreed;
}

}  // namespace pw::milter
