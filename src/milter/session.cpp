// The milter session: protocol order, reply discipline, message boundaries and macros in force.
#include <algorithm>
#include <string>
#include <utility>

#include "milter/milter.hpp"
#include "protocol_names.hpp"

namespace pw::milter {
namespace {

error protocol_error(std::string message) { return make_error(errc::invalid_input, "milter: " + std::move(message)); }

bool is_connection_stage(char stage) { return stage == command::connect || stage == command::helo; }

// Commands that belong to a message: MAIL (or its macros) opened it, EOM or ABORT closes it.
bool needs_open_message(char cmd) {
  switch (cmd) {
    case command::rcpt:
    case command::data:
    case command::header:
    case command::end_of_headers:
    case command::body:
    case command::end_of_message:
      return true;
    default:
      return false;
  }
}

}  // namespace

session::session(negotiation wanted, limits lim) : _wanted(std::move(wanted)), _reader(lim.max_packet_bytes) {}

void session::feed(std::string_view bytes) { _reader.feed(bytes); }

bool session::reply_expected(char cmd) const noexcept {
  namespace pf = protocol_flag;
  const std::uint32_t p = _agreed.protocol;
  switch (cmd) {
    case command::connect:
      return (p & pf::no_reply_connect) == 0;
    case command::helo:
      return (p & pf::no_reply_helo) == 0;
    case command::mail:
      return (p & pf::no_reply_mail) == 0;
    case command::rcpt:
      return (p & pf::no_reply_rcpt) == 0;
    case command::data:
      return (p & pf::no_reply_data) == 0;
    case command::header:
      return (p & pf::no_reply_header) == 0;
    case command::end_of_headers:
      return (p & pf::no_reply_end_of_headers) == 0;
    case command::body:
      return (p & pf::no_reply_body) == 0;
    case command::unknown:
      return (p & pf::no_reply_unknown) == 0;
    case command::end_of_message:
      return true;
    default:
      return false;  // OPTNEG is answered by the session; MACRO, ABORT, QUIT, QUIT_NC never
  }
}

void session::reset_message() noexcept {
  _message_macros.clear();
  _message_opened_by_macros = false;
}

void session::store_macros(macros&& m) {
  auto& list = is_connection_stage(m.stage) ? _connection_macros : _message_macros;
  // One entry per stage, the latest last: Postfix resends a stage's list before every event of
  // that stage (once per header), so the storage stays bounded by the number of stages.
  const char stage = m.stage;
  std::erase_if(list, [stage](const macros& x) { return x.stage == stage; });
  list.push_back(std::move(m));
}

result<std::optional<incoming>> session::next(std::string& out) {
  using none = std::optional<incoming>;
  if (_owed != 0) {
    return protocol_error("a reply to " + command_name(_owed) + " is owed before the next event");
  }
  if (_pending_eom) {
    _pending_eom = false;
    _owed = command::end_of_message;
    return none{incoming{end_of_message{}, true}};
  }
  if (_phase == phase::closed) {
    if (_reader.buffered_bytes() > 0) {
      return protocol_error(std::to_string(_reader.buffered_bytes()) + " bytes after QUIT");
    }
    return none{};
  }
  auto next_packet = _reader.next();
  if (!next_packet) {
    return next_packet.error();
  }
  if (!*next_packet) {
    return none{};
  }
  const packet p = **next_packet;
  auto decoded = decode(p);
  if (!decoded) {
    return decoded.error();
  }
  event ev = std::move(*decoded);
  const char cmd = p.command;

  if (_phase == phase::start) {
    if (cmd != command::optneg) {
      return protocol_error(command_name(cmd) + " before OPTNEG");
    }
    auto agreed = append_optneg_reply(out, std::get<optneg>(ev), _wanted);
    if (!agreed) {
      return agreed.error();
    }
    _agreed = *agreed;
    _phase = phase::connection;
    return none{incoming{std::move(ev), false}};
  }

  switch (cmd) {
    case command::optneg:
      return protocol_error("second OPTNEG on one connection");
    case command::macro: {
      auto& m = std::get<macros>(ev);
      if (m.stage == command::mail) {
        // MAIL's macros come first: they open the message, so the previous message's are dropped
        // before they are stored.
        reset_message();
        _phase = phase::message;
        _message_opened_by_macros = true;
      } else if (needs_open_message(m.stage) && _phase != phase::message) {
        return protocol_error("macros for " + command_name(m.stage) + " outside a message");
      }
      store_macros(macros(m));
      return none{incoming{std::move(ev), false}};
    }
    case command::mail:
      if (!_message_opened_by_macros) {
        reset_message();
      }
      _message_opened_by_macros = false;
      _phase = phase::message;
      break;
    case command::abort:
      reset_message();
      if (_phase == phase::message) {
        _phase = phase::connection;
      }
      return none{incoming{std::move(ev), false}};
    case command::quit:
      _phase = phase::closed;
      return none{incoming{std::move(ev), false}};
    case command::quit_new_connection:
      reset_message();
      _connection_macros.clear();
      _phase = phase::connection;
      return none{incoming{std::move(ev), false}};
    case command::connect:
      if (_phase == phase::message) {
        return protocol_error("CONNECT inside a message");
      }
      break;
    default:
      if (needs_open_message(cmd) && _phase != phase::message) {
        return protocol_error(command_name(cmd) + " outside a message");
      }
      break;
  }

  if (cmd == command::end_of_message && !end_of_message_data(p).empty()) {
    // libmilter MTAs may attach the last body chunk to EOM; hand it over as a body event that
    // needs no reply of its own, then the EOM.
    _pending_eom = true;
    return none{incoming{body{std::string(end_of_message_data(p))}, false}};
  }
  const bool reply = reply_expected(cmd);
  if (reply) {
    _owed = cmd;
  }
  return none{incoming{std::move(ev), reply}};
}

result<void> session::answer(const verdict& v, std::string& out) {
  if (_owed == 0) {
    return protocol_error("no reply is owed");
  }
  if (_owed == command::end_of_message) {
    return protocol_error("END_OF_MESSAGE is answered with answer_eom");
  }
  const std::size_t before = out.size();
  if (auto r = append_verdict(out, v); !r) {
    out.resize(before);
    return r;
  }
  _owed = 0;
  return {};
}

result<void> session::answer_eom(const eom_reply& reply, std::string& out) {
  if (_owed != command::end_of_message) {
    return protocol_error(_owed == 0 ? "no reply is owed" : "the reply owed is to " + command_name(_owed));
  }
  const std::size_t before = out.size();
  const auto fail = [&out, before](error e) -> result<void> {
    out.resize(before);
    return e;
  };
  for (const auto& change : reply.headers) {
    // libmilter ties insertion to SMFIF_ADDHDRS and change/delete to SMFIF_CHGHDRS.
    const std::uint32_t needed =
        change.what == header_change::kind::change ? action_flag::change_headers : action_flag::add_headers;
    if ((_agreed.actions & needed) == 0) {
      return fail(protocol_error("header edit not negotiated with the MTA"));
    }
    if (auto r = append_header_change(out, change); !r) {
      return fail(r.error());
    }
  }
  if (reply.quarantine_reason) {
    if ((_agreed.actions & action_flag::quarantine) == 0) {
      return fail(protocol_error("quarantine not negotiated with the MTA"));
    }
    append_quarantine(out, *reply.quarantine_reason);
  }
  if (auto r = append_verdict(out, reply.final); !r) {
    return fail(r.error());
  }
  _owed = 0;
  _phase = phase::connection;
  _message_opened_by_macros = false;
  ++_messages_completed;
  return {};
}

result<void> session::finish() const {
  if (!_reader.at_packet_boundary() && _phase != phase::closed) {
    return protocol_error("peer closed the connection mid-packet (" + std::to_string(_reader.buffered_bytes()) +
                          " bytes of an incomplete packet)");
  }
  return {};
}

std::optional<std::string_view> session::macro_value(std::string_view name) const {
  for (const auto* list : {&_message_macros, &_connection_macros}) {
    for (auto it = list->rbegin(); it != list->rend(); ++it) {
      for (const auto& m : it->values) {
        if (m.name == name) {
          return std::string_view(m.value);
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace pw::milter
