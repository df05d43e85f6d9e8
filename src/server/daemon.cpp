#include "server/daemon.hpp"

#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <sstream>

#include "api.hpp"
#include "connections.hpp"
#include "desk_api.hpp"
#include "desk_service.hpp"
#include "http/server.hpp"
#include "ledger/sqlite_ledger.hpp"
#include "maillog_follower.hpp"
#include "store/sqlite_store.hpp"
#include "telemetry/log.hpp"

namespace pw::server {
namespace {

namespace asio = boost::asio;
using generic_acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;
using telemetry::severity;

telemetry::severity to_severity(config::log_level l) {
  switch (l) {
    case config::log_level::error: return severity::error;
    case config::log_level::warning: return severity::warning;
    case config::log_level::info: return severity::info;
    case config::log_level::debug: return severity::debug;
  }
  return severity::info;
}

void log_lines(severity sev, std::string_view event, const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    telemetry::log(sev, event, {{"message", line}});
  }
}

enum class protocol { milter, policy, http };

std::string_view protocol_name(protocol p) {
  switch (p) {
    case protocol::milter: return "milter";
    case protocol::policy: return "policy";
    case protocol::http: return "http";
  }
  return "?";
}

struct listener {
  protocol kind;
  config::listen_address address;
  std::unique_ptr<generic_acceptor> acceptor;
};

result<std::unique_ptr<generic_acceptor>> bind_listener(asio::io_context& loop, const config::listen_address& a) {
  boost::system::error_code ec;
  auto acceptor = std::make_unique<generic_acceptor>(loop);
  asio::generic::stream_protocol::endpoint endpoint;
  if (a.type == config::listen_address::kind::inet) {
    const auto address = asio::ip::make_address(a.host, ec);
    if (ec) {
      return make_error(errc::invalid_config, "bad listen address " + a.to_string());
    }
    endpoint = asio::generic::stream_protocol::endpoint(asio::ip::tcp::endpoint(address, a.port));
  } else {
    // A socket file left by a previous run would make bind fail; remove it only if it IS a socket.
    struct stat st {};
    if (::lstat(a.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      ::unlink(a.path.c_str());
    }
    endpoint = asio::generic::stream_protocol::endpoint(asio::local::stream_protocol::endpoint(a.path));
  }
  acceptor->open(endpoint.protocol(), ec);
  if (!ec && a.type == config::listen_address::kind::inet) {
    acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor->bind(endpoint, ec);
  }
  if (!ec) {
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error(errc::io, "cannot listen on " + a.to_string() + ": " + ec.message());
  }
  if (a.type == config::listen_address::kind::unix_socket) {
    // Postfix connects as its own user: owner and group may connect, nobody else.
    ::chmod(a.path.c_str(), 0660);
  }
  return acceptor;
}

// The campaign settings the tracker was built with, as text (enabled excepted: it applies at once).
std::string campaign_tuning(config::campaign_settings c) {
  c.enabled = true;
  return config::to_toml(config::settings{.campaigns = std::move(c)});
}

result<void> drop_privileges(const std::string& user) {
  if (user.empty()) {
    return {};
  }
  struct passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) {
    return make_error(errc::invalid_config, "server.user '" + user + "' does not exist");
  }
  if (::geteuid() != 0) {
    if (::geteuid() == pw->pw_uid) {
      return {};
    }
    return make_error(errc::invalid_config, "server.user is set but the daemon was not started as root");
  }
  if (::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
    return make_error(errc::io, "cannot switch to user '" + user + "': " + std::strerror(errno));
  }
  if (::setuid(0) == 0) {  // must not be able to regain root
    return make_error(errc::io, "privileges were not dropped");
  }
  return {};
}

void set_nodelay(asio::generic::stream_protocol::socket& s) {
  // Milter answers are small and Postfix waits for each: Nagle's algorithm with delayed ACKs would
  // stall every one by ~40 ms.
  const int family = s.local_endpoint().protocol().family();
  if (family == AF_INET || family == AF_INET6) {
    int one = 1;
    ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

class daemon {
 public:
  daemon(asio::io_context& loop, service& svc, std::vector<listener>& listeners, http::router routes)
      : _loop(loop),
        _svc(svc),
        _listeners(listeners),
        _routes(std::move(routes)),
        _signals(loop, SIGTERM, SIGINT, SIGHUP),
        _guard(asio::make_work_guard(loop)),
        _drain_timer(loop) {}

  void start() {
    for (auto& l : _listeners) {
      accept(l);
    }
    wait_signal();
  }

 private:
  void accept(listener& l) {
    l.acceptor->async_accept([this, &l](boost::system::error_code ec, asio::generic::stream_protocol::socket s) {
      if (ec == asio::error::operation_aborted || _stopping) {
        return;
      }
      if (!ec) {
        set_nodelay(s);
        switch (l.kind) {
          case protocol::milter: start_milter_connection(_svc, std::move(s)); break;
          case protocol::policy: start_policy_connection(_svc, std::move(s)); break;
          case protocol::http: {
            http::limits limits;
            limits.max_body_bytes = static_cast<std::size_t>(_svc.current()->settings.server.max_message_bytes);
            http::start_session(std::move(s), _routes, _svc.workers().get_executor(), limits, nullptr);
            break;
          }
        }
      } else {
        telemetry::log(severity::warning, "accept_failed",
                       {{"listener", protocol_name(l.kind)}, {"error", ec.message()}});
      }
      accept(l);
    });
  }

  void wait_signal() {
    _signals.async_wait([this](boost::system::error_code ec, int signo) {
      if (ec) {
        return;
      }
      if (signo == SIGHUP) {
        reload();
        wait_signal();
        return;
      }
      telemetry::log(severity::info, "draining", {{"signal", signo}, {"connections", _svc.live_connections()}});
      drain();
    });
  }

  // Re-reads the configuration on a worker (file reads, model mapping) and swaps it in whole.
  void reload() {
    asio::post(_svc.workers(), [this] {
      auto loaded = config::load_file(_svc.config_path());
      if (!loaded) {
        _svc.metrics().reload_failures.add();
        log_lines(severity::error, "reload_refused", loaded.error().message);
        return;
      }
      const auto old = _svc.current();
      const auto& now = loaded->values;
      if (now.server.milter != old->settings.server.milter || now.server.policy != old->settings.server.policy ||
          now.server.http != old->settings.server.http || now.server.user != old->settings.server.user ||
          now.store.path != old->settings.store.path || now.privacy.secret_file != old->settings.privacy.secret_file ||
          campaign_tuning(now.campaigns) != campaign_tuning(old->settings.campaigns) ||
          now.server.worker_threads != old->settings.server.worker_threads ||
          now.server.clock != old->settings.server.clock) {
        telemetry::log(severity::warning, "reload_partial",
                       {{"message", "listeners, user, worker threads, clock, store path, secret and campaign settings change at restart "
                                    "only (campaigns.enabled applies at once)"}});
      }
      auto rt = build_runtime(loaded->values);
      if (!rt) {
        _svc.metrics().reload_failures.add();
        log_lines(severity::error, "reload_refused", rt.error().message);
        return;
      }
      telemetry::set_threshold(to_severity((*rt)->settings.log.level));
      _svc.replace(std::move(*rt));
      _svc.metrics().reloads.add();
      for (const auto& w : loaded->warnings) {
        telemetry::log(severity::warning, "config_warning", {{"message", w}});
      }
      telemetry::log(severity::info, "reloaded", {{"config", _svc.config_path()}});
    });
  }

  void drain() {
    _stopping = true;
    _signals.cancel();
    for (auto& l : _listeners) {
      boost::system::error_code ignored;
      l.acceptor->close(ignored);
    }
    _svc.drain_all();
    _drain_deadline = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(_svc.current()->settings.server.drain_timeout_ms);
    poll_drained();
  }

  void poll_drained() {
    if (_svc.live_connections() == 0 || std::chrono::steady_clock::now() >= _drain_deadline) {
      if (_svc.live_connections() > 0) {
        telemetry::log(severity::warning, "drain_timeout", {{"connections", _svc.live_connections()}});
      }
      _guard.reset();
      _loop.stop();
      return;
    }
    _drain_timer.expires_after(std::chrono::milliseconds(20));
    _drain_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) {
        poll_drained();
      }
    });
  }

  asio::io_context& _loop;
  service& _svc;
  std::vector<listener>& _listeners;
  http::router _routes;
  asio::signal_set _signals;
  asio::executor_work_guard<asio::io_context::executor_type> _guard;
  asio::steady_timer _drain_timer;
  std::chrono::steady_clock::time_point _drain_deadline;
  bool _stopping = false;
};

}  // namespace

int serve(const std::string& config_path) {
  // Sockets write with MSG_NOSIGNAL; the one pipe the daemon writes (queue ids to the release command)
  // must not kill it either when the command exits early: EPIPE is reported instead.
  ::signal(SIGPIPE, SIG_IGN);
  auto loaded = config::load_file(config_path);
  if (!loaded) {
    log_lines(severity::error, "config_error", loaded.error().message);
    return 3;
  }
  telemetry::set_threshold(to_severity(loaded->values.log.level));
  for (const auto& w : loaded->warnings) {
    telemetry::log(severity::warning, "config_warning", {{"message", w}});
  }
  const config::settings& s = loaded->values;

  asio::io_context loop(1);
  std::vector<listener> listeners;
  const std::pair<protocol, config::listen_address> wanted[] = {
      {protocol::milter, s.server.milter}, {protocol::policy, s.server.policy}, {protocol::http, s.server.http}};
  for (const auto& [kind, address] : wanted) {
    if (address.type == config::listen_address::kind::disabled) {
      continue;
    }
    auto acceptor = bind_listener(loop, address);
    if (!acceptor) {
      telemetry::log(severity::error, "listen_failed",
                     {{"listener", protocol_name(kind)}, {"error", acceptor.error().message}});
      return 3;
    }
    listeners.push_back(listener{kind, address, std::move(*acceptor)});
  }
  if (auto dropped = drop_privileges(s.server.user); !dropped) {
    telemetry::log(severity::error, "drop_privileges_failed", {{"error", dropped.error().message}});
    return 3;
  }
  // Everything below runs as the service user: the store's files are created with its ownership.
  auto store = store::open_sqlite(s.store.path, {});
  if (!store) {
    telemetry::log(severity::error, "store_open_failed", {{"path", s.store.path}, {"error", store.error().message}});
    return 3;
  }
  auto rt = build_runtime(s);
  if (!rt) {
    log_lines(severity::error, "config_error", rt.error().message);
    return 3;
  }
  const bool content_blind = !(*rt)->model;
  auto fingerprints = fingerprint::fingerprinter::create(config::read_deployment_secret(s.privacy), s.campaigns.fingerprint);
  if (!fingerprints) {
    telemetry::log(severity::error, "fingerprinter_failed", {{"error", fingerprints.error().message}});
    return 3;
  }
  service svc(loop, std::move(*rt), std::move(*store), std::move(*fingerprints), config_path);
  if (svc.clock_settable()) {
    telemetry::log(severity::warning, "clock_api",
                   {{"message", "clock=api: time is set through the API; for simulators only"}});
  }
  if (auto restored = svc.restore_states(); restored) {
    telemetry::log(severity::info, "restored", {{"records", *restored}, {"subscribers", svc.engine().size()},
                                                {"campaigns", svc.campaigns().size()}});
  } else {
    // Mail keeps flowing; subscribers start from their plan priors. Counted and logged loudly.
    svc.metrics().store_errors.add();
    telemetry::log(severity::error, "restore_failed", {{"error", restored.error().message}});
  }
  http::router routes;
  add_api_routes(svc, routes);
  std::unique_ptr<desk_service> desk;
  if (s.desk.enabled) {
    const std::string ledger_path = config::desk_ledger_path(s);
    auto book = ledger::open_sqlite_ledger(ledger_path);
    if (!book) {
      telemetry::log(severity::error, "ledger_open_failed", {{"path", ledger_path}, {"error", book.error().message}});
      return 3;
    }
    desk = std::make_unique<desk_service>(svc, std::move(*book));
    if (auto ready = desk->prepare(); !ready) {
      log_lines(severity::error, "desk_config_error", ready.error().message);
      return 3;
    }
    if (auto added = add_desk_routes(svc, *desk, routes); !added) {
      log_lines(severity::error, "desk_config_error", added.error().message);
      return 3;
    }
    svc.attach_desk(desk.get());
  }
  daemon d(loop, svc, listeners, std::move(routes));
  d.start();
  svc.start_snapshot_thread();
  maillog_follower bounces(svc);
  bounces.start();
  if (desk) {
    desk->start();
  }
  for (const auto& l : listeners) {
    telemetry::log(severity::info, "listening", {{"listener", protocol_name(l.kind)}, {"address", l.address.to_string()}});
  }
  telemetry::log(severity::info, "started",
                 {{"pid", static_cast<std::int64_t>(::getpid())},
                  {"content_blind", content_blind},
                  {"observe_only", s.engine.observe_only},
                  {"campaigns", s.campaigns.enabled},
                  {"workers", s.server.worker_threads}});
  loop.run();

  // The loop is stopped: no connection is served any more. Let workers finish what they hold, then
  // write everything that is still only in memory.
  bounces.stop();
  svc.stop_snapshot_thread();
  svc.workers().join();
  svc.flush_to_store(svc.now_ms(), true);
  if (desk) {
    desk->stop();
    desk->tick(svc.now_ms());  // what the relay queued last becomes cases before the ledger closes
    svc.attach_desk(nullptr);
  }
  for (const auto& l : listeners) {
    if (l.address.type == config::listen_address::kind::unix_socket) {
      ::unlink(l.address.path.c_str());
    }
  }
  telemetry::log(severity::info, "stopped", {});
  return 0;
}

}  // namespace pw::server
