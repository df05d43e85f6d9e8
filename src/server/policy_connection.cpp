#include <boost/asio/write.hpp>
#include <array>
#include <chrono>
#include <unordered_map>

#include "connections.hpp"
#include "policy/policy.hpp"
#include "telemetry/log.hpp"

namespace pw::server {
namespace {

namespace asio = boost::asio;
using telemetry::severity;
using clock_type = std::chrono::steady_clock;

// Messages tracked per connection in policy-only mode (RCPTs seen, END-OF-MESSAGE not yet): Postfix
// sends one message's requests in order on one connection, so a handful suffices; more means the
// peer never sent END-OF-MESSAGE (aborted transactions) and the oldest are forgotten.
constexpr std::size_t max_open_messages = 64;
constexpr std::size_t max_recipients = 10000;

// Postfix's policy delegation. Answers are computed inline on the loop: an RCPT gate and, in
// policy-only mode, an envelope decision are microseconds of work with no I/O and no content.
//
// With a milter listener configured, the milter records each message at end of message (with its
// content score) and this service only gates RCPTs (throttle → 4xx, hold → HOLD). Without one
// (policy-only, content-blind deployments), the END-OF-MESSAGE request records the message from the
// recipients its RCPT requests carried, joined by Postfix's `instance` attribute.
class policy_connection final : public drainable, public std::enable_shared_from_this<policy_connection> {
 public:
  policy_connection(service& svc, stream_socket socket) : _svc(svc), _socket(std::move(socket)) {}

  void start() {
    _registration = _svc.enlist(weak_from_this());
    read();
  }

  void drain() override {
    _draining = true;
    if (!_write_busy) {
      close();
    }
  }

 private:
  void read() {
    if (_closed) {
      return;
    }
    _socket.async_read_some(asio::buffer(_in), [self = shared_from_this()](boost::system::error_code ec,
                                                                         std::size_t n) {
      if (ec) {
        if (!self->_closed && ec != asio::error::operation_aborted && !self->_reader.at_request_boundary()) {
          self->_svc.metrics().policy_protocol_errors.add();
          telemetry::log(severity::warning, "policy_truncated", {});
        }
        self->close();
        return;
      }
      self->_reader.feed(std::string_view(self->_in.data(), n));
      self->process();
    });
  }

  void process() {
    _out.clear();
    while (true) {
      auto next = _reader.next();
      if (!next) {
        _svc.metrics().policy_protocol_errors.add();
        telemetry::log(severity::warning, "policy_protocol_error", {{"error", next.error().message}});
        close();
        return;
      }
      if (!next->has_value()) {
        break;
      }
      answer(**next);
    }
    if (_out.empty()) {
      read();
      return;
    }
    _writing.swap(_out);
    _write_busy = true;
    asio::async_write(_socket, asio::buffer(_writing), [self = shared_from_this()](boost::system::error_code ec,
                                                                                   std::size_t) {
      self->_write_busy = false;
      if (ec || self->_draining) {
        self->close();
        return;
      }
      self->read();
    });
  }

  void answer(const policy::request& req) {
    const auto started = clock_type::now();
    const auto rt = _svc.current();
    const bool policy_records = rt->settings.server.milter.type == config::listen_address::kind::disabled;
    std::optional<relay::outcome> o;
    if (req.state == policy::protocol_state::rcpt) {
      o = _svc.decider().at_recipient(*rt->directory, req.sasl_username, req.client_address, req.recipient,
                                      _svc.now_ms());
      _svc.metrics().rcpt_checks.add();
      if (policy_records && o->decision.act != behavior::action::defer) {
        remember_recipient(req);
      }
    } else if (req.state == policy::protocol_state::end_of_message && policy_records) {
      relay::envelope env;
      env.sasl_login = req.sasl_username;
      env.client_addr = req.client_address;
      env.helo = req.helo_name;
      env.sender = req.sender;
      env.queue_id = req.queue_id;
      env.size_bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(req.size, UINT32_MAX));
      if (auto it = _open.find(req.instance); it != _open.end()) {
        env.recipients = std::move(it->second);
        _open.erase(it);
      }
      o = _svc.decider().end_of_message(*rt->directory, env, {}, {}, _svc.now_ms());
      _svc.metrics().messages.add();
      _svc.metrics().verdicts[static_cast<int>(o->decision.act)]->add();
      record(env, *o);
    }
    if (!o) {
      policy::append_dunno(_out);
    } else {
      switch (o->decision.act) {
        case behavior::action::accept:
        case behavior::action::tag:
          policy::append_dunno(_out);
          break;
        case behavior::action::defer:
          if (auto r = policy::append_tempfail(_out, 450, "4.7.1", o->defer_text); !r) {
            policy::append_dunno(_out);
          }
          break;
        case behavior::action::hold:
          policy::append_hold(_out, o->hold_reason);
          if (req.state == policy::protocol_state::end_of_message && !req.queue_id.empty()) {
            _svc.record_held(o->who.who.id, req.queue_id, _svc.now_ms());
          }
          break;
      }
      if (o->who.failure) {
        _svc.metrics().identity_failures.add();
      }
    }
    _svc.metrics().policy_latency.observe_us(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - started).count()));
  }

  void remember_recipient(const policy::request& req) {
    auto it = _open.find(req.instance);
    if (it == _open.end()) {
      if (_open.size() >= max_open_messages) {
        _open.clear();
      }
      it = _open.emplace(req.instance, std::vector<std::string>{}).first;
    }
    if (it->second.size() < max_recipients) {
      it->second.push_back(req.recipient);
    }
  }

  void record(const relay::envelope& env, const relay::outcome& o) {
    if (o.decision.act == behavior::action::accept || o.decision.act == behavior::action::tag) {
      _svc.record_relayed(env.queue_id, o.who, _svc.now_ms());
    }
    _svc.record_decision(store::decision_record{_svc.now_ms(), o.who.who.id, env.queue_id,
                                                std::string(behavior::action_name(o.decision.act)),
                                                std::string(behavior::level_name(o.decision.lvl)),
                                                o.decision.suspicion, o.reasons, o.decision.observe_only},
                         o.who.who);
    if (o.decision.act != behavior::action::accept || o.decision.lvl != behavior::level::normal) {
      telemetry::log(severity::info, "verdict",
                     {{"queue", env.queue_id},
                      {"subscriber", o.who.who.id},
                      {"action", behavior::action_name(o.decision.act)},
                      {"level", behavior::level_name(o.decision.lvl)},
                      {"suspicion", static_cast<double>(o.decision.suspicion)},
                      {"rcpts", env.recipients.size()},
                      {"via", "policy"},
                      {"reasons", o.reasons}});
    }
  }

  void close() {
    if (_closed) {
      return;
    }
    _closed = true;
    boost::system::error_code ignored;
    _socket.shutdown(stream_socket::shutdown_both, ignored);
    _socket.close(ignored);
    _svc.delist(_registration);
  }

  service& _svc;
  stream_socket _socket;
  std::list<std::weak_ptr<drainable>>::iterator _registration;
  policy::request_reader _reader;
  std::array<char, 16384> _in{};
  std::string _out;
  std::string _writing;
  bool _write_busy = false;
  bool _closed = false;
  bool _draining = false;
  std::unordered_map<std::string, std::vector<std::string>> _open;  // instance → recipients (policy-only mode)
};

}  // namespace

void start_policy_connection(service& svc, stream_socket socket) {
  std::make_shared<policy_connection>(svc, std::move(socket))->start();
}

}  // namespace pw::server
