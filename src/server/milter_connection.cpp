#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <chrono>
#include <functional>

#include "connections.hpp"
#include "milter/milter.hpp"
#include "telemetry/log.hpp"

namespace pw::server {
namespace {

namespace asio = boost::asio;
using telemetry::severity;
using clock_type = std::chrono::steady_clock;

std::uint64_t micros_since(clock_type::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t).count());
}

std::string strip_angle_brackets(std::string_view a) {
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') {
    a = a.substr(1, a.size() - 2);
  }
  return std::string(a);
}

// A recipient list longer than this in one envelope is cut for the behaviour engine (Postfix's own
// smtpd_recipient_limit defaults to 1000).
constexpr std::size_t max_recipients = 10000;

// What one end-of-message verdict needs, shared between the worker computing it and the timer
// enforcing its deadline: whichever finishes first answers, the other sees `answered`.
struct pending_verdict {
  bool answered = false;  // loop thread only
  bool on_loop = false;   // decided inline: process() is the caller and flushes the answer
  clock_type::time_point started;
};

class milter_connection final : public drainable, public std::enable_shared_from_this<milter_connection> {
 public:
  milter_connection(service& svc, stream_socket socket)
      : _svc(svc),
        _socket(std::move(socket)),
        _deadline(_socket.get_executor()),
        _session(negotiation_for(*svc.current())) {
    boost::system::error_code ec;
    const int family = _socket.local_endpoint(ec).protocol().family();
    _inet = !ec && (family == AF_INET || family == AF_INET6);
  }

  void start() {
    _registration = _svc.enlist(weak_from_this());
    read();
  }

  // Between messages the connection closes at once; inside a message it closes after the message's
  // answer (a close mid-message would make Postfix apply milter_default_action to it).
  void drain() override {
    _draining = true;
    if (!_pending && !_session.in_message() && !_write_busy) {
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
        if (!self->_closed && ec != asio::error::operation_aborted) {
          if (auto done = self->_session.finish(); !done && !self->_session.finished()) {
            self->_svc.metrics().milter_protocol_errors.add();
            telemetry::log(severity::warning, "milter_truncated", {{"error", done.error().message}});
          }
        }
        self->close();
        return;
      }
      self->quick_ack();
      self->_session.feed(std::string_view(self->_in.data(), n));
      self->process();
    });
  }

  // Every stage Postfix waits on costs a round trip per message. With the policy service in front,
  // RCPT gating happens there, so the milter asks for no answer before end of message (measured on
  // 2 cores: the RCPT answer given twice cost ~10 % of relay throughput). Without it, the milter
  // answers at RCPT and gates there itself.
  static milter::negotiation negotiation_for(const runtime& rt) {
    milter::negotiation n;
    const bool policy_gates = rt.settings.server.policy.type != config::listen_address::kind::disabled;
    n.reply.mail = false;
    n.reply.rcpt = !policy_gates;
    return n;
  }

  // Stages we negotiated "no reply" for (headers, body chunks) arrive as packets Postfix does not
  // wait on; with delayed ACKs the kernel then holds our ACK ~40 ms and Postfix's next write stalls
  // behind it (measured: 500 messages 6.1 s without, 1.4-1.7 s with). Linux clears QUICKACK after
  // use, so it is re-armed after every read.
  void quick_ack() {
    if (_inet) {
      int one = 1;
      ::setsockopt(_socket.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
  }

  // Takes events until the codec needs more bytes or an answer must wait for a worker.
  void process() {
    _out.clear();
    while (!_pending && !_closed) {
      auto next = _session.next(_out);
      if (!next) {
        _svc.metrics().milter_protocol_errors.add();
        telemetry::log(severity::warning, "milter_protocol_error", {{"error", next.error().message}});
        close();
        return;
      }
      if (!next->has_value()) {
        break;
      }
      handle(**next);
    }
    if (_closed) {
      return;
    }
    flush_then([self = shared_from_this()] {
      if (self->_pending) {
        return;  // the verdict's answer resumes reading
      }
      if (self->_session.finished() || (self->_draining && !self->_session.in_message())) {
        self->close();
        return;
      }
      self->read();
    });
  }

  // Writes what `_out` holds, then continues with `then`. At most one write is in flight: a verdict
  // that arrives while an earlier reply is still being written queues its continuation, which then
  // supersedes the earlier one (it already knows the connection's next step).
  void flush_then(std::function<void()> then) {
    if (_write_busy) {
      _queued_then = std::move(then);
      return;
    }
    if (_out.empty()) {
      then();
      return;
    }
    _writing.swap(_out);
    _out.clear();
    _write_busy = true;
    asio::async_write(_socket, asio::buffer(_writing),
                      [self = shared_from_this(), then = std::move(then)](boost::system::error_code ec, std::size_t) {
                        self->_write_busy = false;
                        if (ec) {
                          self->close();
                          return;
                        }
                        if (self->_queued_then) {
                          auto next = std::move(self->_queued_then);
                          self->_queued_then = nullptr;
                          self->flush_then(std::move(next));
                          return;
                        }
                        then();
                      });
  }

  void handle(milter::incoming& in) {
    std::visit([&](auto& ev) { on(ev, in.needs_reply); }, in.what);
  }

  void answer(const milter::verdict& v) {
    if (auto r = _session.answer(v, _out); !r) {
      telemetry::log(severity::error, "milter_answer_refused", {{"error", r.error().message}});
      close();
    }
  }

  void on(milter::optneg&, bool) {}
  void on(milter::macros&, bool) {}
  void on(milter::connect& c, bool needs_reply) {
    reset_connection();
    if (c.family == milter::address_family::inet || c.family == milter::address_family::inet6) {
      _client_addr = c.address;
    }
    if (needs_reply) answer({});
  }
  void on(milter::helo& h, bool needs_reply) {
    _helo = h.name;
    if (needs_reply) answer({});
  }
  void on(milter::mail& m, bool needs_reply) {
    reset_message();
    _env.sender = m.args.empty() ? std::string() : strip_angle_brackets(m.args[0]);
    if (needs_reply) answer({});
  }
  void on(milter::rcpt& r, bool needs_reply) {
    const bool kept = !r.args.empty() && _env.recipients.size() < max_recipients;
    if (kept) {
      _env.recipients.push_back(strip_angle_brackets(r.args[0]));
    }
    if (!needs_reply) {
      return;
    }
    // The RCPT-time gate: a throttled subscriber over its rate is deferred here, before the data
    // is sent. Cheap (one engine shard lock, no I/O), so it runs on the loop.
    const auto started = clock_type::now();
    const auto rt = _svc.current();
    const std::string_view recipient = kept ? std::string_view(_env.recipients.back()) : std::string_view();
    const relay::outcome o =
        _svc.decider().at_recipient(*rt->directory, login(), _client_addr, recipient, _svc.now_ms());
    _svc.metrics().rcpt_checks.add();
    milter::verdict v;
    if (o.decision.act == behavior::action::defer) {
      v.what = milter::verdict::kind::tempfail;
      v.reply = milter::smtp_reply{451, "4.7.1", o.defer_text};
      if (kept) {
        _env.recipients.pop_back();  // Postfix drops this recipient
      }
    }
    answer(v);
    _svc.metrics().rcpt_latency.observe_us(micros_since(started));
  }
  void on(milter::header& h, bool needs_reply) {
    append_raw(h.name);
    append_raw(": ");
    append_raw(h.value);
    append_raw("\r\n");
    if (needs_reply) answer({});
  }
  void on(milter::end_of_headers&, bool needs_reply) {
    append_raw("\r\n");
    if (needs_reply) answer({});
  }
  void on(milter::body& b, bool needs_reply) {
    _size += b.chunk.size();
    append_raw(b.chunk);
    if (needs_reply) answer({});
  }
  void on(milter::end_of_message&, bool) { decide(); }
  void on(milter::abort_message&, bool) { reset_message(); }
  void on(milter::quit&, bool) {}
  void on(milter::quit_new_connection&, bool) { reset_connection(); }
  void on(milter::data_command&, bool needs_reply) {
    if (needs_reply) answer({});
  }
  void on(milter::unknown_command&, bool needs_reply) {
    if (needs_reply) answer({});
  }

  std::string login() const {
    auto v = _session.macro_value("{auth_authen}");
    return v ? std::string(*v) : std::string();
  }

  void append_raw(std::string_view s) {
    const auto cap = static_cast<std::size_t>(_svc.current()->settings.server.max_message_bytes);
    if (_raw.size() < cap) {
      _raw.append(s.substr(0, cap - _raw.size()));
    }
  }

  void reset_message() {
    _env = relay::envelope{};
    _raw.clear();
    _size = 0;
  }

  void reset_connection() {
    reset_message();
    _client_addr.clear();
    _helo.clear();
  }

  // End of message. A message up to server.inline_verdict_bytes is decided right here on the loop:
  // its parse and score take tens of microseconds, less than the two thread wake-ups and the timer a
  // hand-off costs (measured in BENCHMARKS.md, "Verdicts on the loop"), and the policy service
  // answers on the loop the same way. A larger one is computed on a worker, with a deadline timer on
  // the loop answering the fallback if the worker is late; whichever comes first answers.
  void decide() {
    _pending = std::make_shared<pending_verdict>();
    _pending->started = clock_type::now();
    _env.sasl_login = login();
    _env.client_addr = _client_addr;
    _env.helo = _helo;
    _env.size_bytes = static_cast<std::uint32_t>(std::min<std::size_t>(_size, UINT32_MAX));
    if (auto q = _session.macro_value("i")) {
      _env.queue_id = std::string(*q);
    }
    const auto rt = _svc.current();
    if (_raw.size() <= static_cast<std::size_t>(rt->settings.server.inline_verdict_bytes)) {
      const auto p = _pending;  // a copy: answering resets _pending
      p->on_loop = true;
      deliver(p, _env, compute(_svc, *rt, _env, _raw));
      reset_message();
      return;
    }
    _deadline.expires_after(std::chrono::milliseconds(rt->settings.server.verdict_deadline_ms));
    _deadline.async_wait([self = shared_from_this(), p = _pending](boost::system::error_code ec) {
      if (ec || p->answered) {
        return;
      }
      self->_svc.metrics().fallback_deadline.add();
      self->answer_fallback(p, "deadline");
    });
    asio::post(_svc.workers(),
               [self = shared_from_this(), p = _pending, rt, env = std::move(_env), raw = std::move(_raw)]() mutable {
                 verdict v = compute(self->_svc, *rt, env, raw);
                 asio::post(self->_socket.get_executor(), [self, p, env = std::move(env), v = std::move(v)]() mutable {
                   self->deliver(p, env, std::move(v));
                 });
               });
    reset_message();
  }

  struct verdict {
    std::optional<relay::outcome> result;
    std::string failure;  // why there is no result
  };

  // Parsing, scoring and the engine's decision; on the loop or on a worker thread.
  static verdict compute(service& svc, const runtime& rt, const relay::envelope& env, std::string_view raw) {
    const auto started = clock_type::now();
    verdict v;
    try {
      v.result = svc.decider().end_of_message(*rt.directory, env, raw, svc.content_checks_for(rt), svc.now_ms());
    } catch (const std::exception& e) {
      v.failure = e.what();
    }
    svc.metrics().score_latency.observe_us(micros_since(started));
    return v;
  }

  // On the loop: answers with the verdict unless the deadline already answered with the fallback.
  void deliver(const std::shared_ptr<pending_verdict>& p, const relay::envelope& env, verdict v) {
    if (p->answered) {
      _svc.metrics().late_verdicts.add();
      if (v.result) {
        log_verdict(env, *v.result, "late");
        record(env, *v.result);
      }
      return;
    }
    if (!v.result) {
      _svc.metrics().fallback_error.add();
      telemetry::log(severity::error, "verdict_failed", {{"queue", env.queue_id}, {"error", v.failure}});
      answer_fallback(p, "error");
      return;
    }
    answer_verdict(p, env, *v.result);
  }

  void answer_fallback(const std::shared_ptr<pending_verdict>& p, std::string_view cause) {
    p->answered = true;
    const auto rt = _svc.current();
    milter::eom_reply reply;
    const bool tempfail = rt->settings.server.fallback == config::fallback_action::tempfail;
    if (tempfail) {
      reply.final.what = milter::verdict::kind::tempfail;
      reply.final.reply = milter::smtp_reply{451, "4.7.1", "Mail check unavailable; try again later"};
    } else {
      reply.headers.push_back({milter::header_change::kind::add, 0, std::string(relay::tag_header),
                               "fallback=" + std::string(cause)});
    }
    telemetry::log(severity::warning, "fallback",
                   {{"cause", cause}, {"action", config::fallback_action_name(rt->settings.server.fallback)},
                    {"queue", _session.macro_value("i").value_or("")}});
    send_eom(p, reply);
  }

  void answer_verdict(const std::shared_ptr<pending_verdict>& p, const relay::envelope& env,
                      const relay::outcome& o) {
    p->answered = true;
    _deadline.cancel();
    milter::eom_reply reply;
    if (o.flagged || _svc.current()->settings.server.tag == config::tag_mode::all) {
      reply.headers.push_back({milter::header_change::kind::add, 0, std::string(relay::tag_header), o.tag_value});
    }
    switch (o.decision.act) {
      case behavior::action::accept:
      case behavior::action::tag:
        break;
      case behavior::action::defer:
        reply.headers.clear();
        reply.final.what = milter::verdict::kind::tempfail;
        reply.final.reply = milter::smtp_reply{451, "4.7.1", o.defer_text};
        break;
      case behavior::action::hold:
        reply.quarantine_reason = o.hold_reason;
        break;
    }
    _svc.metrics().messages.add();
    _svc.metrics().verdicts[static_cast<int>(o.decision.act)]->add();
    log_verdict(env, o, "");
    record(env, o);
    send_eom(p, reply);
  }

  // Appends the answer after any replies still in `_out` (on the loop they precede it on the wire).
  void send_eom(const std::shared_ptr<pending_verdict>& p, const milter::eom_reply& reply) {
    if (auto r = _session.answer_eom(reply, _out); !r) {
      telemetry::log(severity::error, "milter_answer_refused", {{"error", r.error().message}});
      close();
      return;
    }
    _svc.metrics().eom_latency.observe_us(micros_since(p->started));
    _pending.reset();
    if (p->on_loop) {
      return;  // process() goes on with what Postfix sent next and writes everything at once
    }
    // Header edits, quarantine and the final verdict leave in ONE write (no Nagle/delayed-ACK stall).
    process_after_answer();
  }

  void process_after_answer() {
    flush_then([self = shared_from_this()] {
      if (self->_draining || self->_session.finished()) {
        self->close();
        return;
      }
      self->read();
    });
  }

  void record(const relay::envelope& env, const relay::outcome& o) {
    const std::int64_t now = _svc.now_ms();
    _svc.record_decision(store::decision_record{now, o.who.who.id, env.queue_id,
                                                std::string(behavior::action_name(o.decision.act)),
                                                std::string(behavior::level_name(o.decision.lvl)),
                                                o.decision.suspicion, o.reasons, o.decision.observe_only},
                         o.who.who);
    if (o.decision.act == behavior::action::hold && !env.queue_id.empty()) {
      _svc.record_held(o.who.who.id, env.queue_id, now);
    } else if (o.decision.act == behavior::action::accept || o.decision.act == behavior::action::tag) {
      _svc.record_relayed(env.queue_id, o.who, now);
    }
    if (o.who.failure) {
      _svc.metrics().identity_failures.add();
    }
  }

  void log_verdict(const relay::envelope& env, const relay::outcome& o, std::string_view note) {
    const bool notable = o.decision.act != behavior::action::accept || o.decision.lvl != behavior::level::normal;
    const severity sev = notable ? severity::info : severity::debug;
    if (!telemetry::enabled(sev)) {
      return;
    }
    telemetry::log(sev, "verdict",
                   {{"queue", env.queue_id},
                    {"subscriber", o.who.who.id},
                    {"source", identity::source_name(o.who.source)},
                    {"action", behavior::action_name(o.decision.act)},
                    {"intended", behavior::action_name(o.decision.intended)},
                    {"level", behavior::level_name(o.decision.lvl)},
                    {"suspicion", static_cast<double>(o.decision.suspicion)},
                    {"p", o.spam_probability ? *o.spam_probability : -1.0},
                    {"rcpts", env.recipients.size()},
                    {"note", note},
                    {"reasons", o.reasons}});
  }

  void close() {
    if (_closed) {
      return;
    }
    _closed = true;
    _deadline.cancel();
    boost::system::error_code ignored;
    _socket.shutdown(stream_socket::shutdown_both, ignored);
    _socket.close(ignored);
    _svc.delist(_registration);
  }

  service& _svc;
  stream_socket _socket;
  asio::steady_timer _deadline;
  std::list<std::weak_ptr<drainable>>::iterator _registration;
  milter::session _session;
  std::array<char, 65536> _in{};
  std::string _out;
  std::string _writing;
  bool _write_busy = false;
  std::function<void()> _queued_then;
  std::shared_ptr<pending_verdict> _pending;
  bool _closed = false;
  bool _draining = false;
  bool _inet = false;

  std::string _client_addr;
  std::string _helo;
  relay::envelope _env;
  std::string _raw;
  std::size_t _size = 0;
};

}  // namespace

void start_milter_connection(service& svc, stream_socket socket) {
  std::make_shared<milter_connection>(svc, std::move(socket))->start();
}

}  // namespace pw::server
