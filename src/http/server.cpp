#include "http/server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <memory>
#include <optional>

namespace pw::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using socket_type = asio::generic::stream_protocol::socket;

constexpr std::size_t header_limit = 16 * 1024;

// The peer's IP address as text, for rate limiting; "local" for a Unix socket or an unknown family.
std::string remote_address_of(const socket_type& socket) {
  beast::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) {
    return "local";
  }
  char text[INET6_ADDRSTRLEN] = {};
  const sockaddr* sa = ep.data();
  if (sa->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof text);
  } else if (sa->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text, sizeof text);
  } else {
    return "local";
  }
  return text;
}

// One connection. All I/O and timer callbacks run on the socket's executor, which is the daemon's
// single event-loop thread, so the session's members need no lock; only the handler runs elsewhere
// (on the worker executor) and it touches nothing but its own copies.
class session : public std::enable_shared_from_this<session> {
 public:
  session(socket_type socket, const router& routes, asio::any_io_executor workers, limits l, observer on_response)
      : _socket(std::move(socket)),
        _timer(_socket.get_executor()),
        _routes(routes),
        _workers(std::move(workers)),
        _limits(l),
        _on_response(std::move(on_response)),
        _remote_address(remote_address_of(_socket)) {}

  void start() { read_next(); }

 private:
  void arm_timer() {
    _timer.expires_after(_limits.idle_timeout);
    _timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) {
        beast::error_code ignored;
        self->_socket.close(ignored);  // pending reads/writes complete with operation_aborted
      }
    });
  }

  void read_next() {
    _parser.emplace();
    _parser->header_limit(header_limit);
    _parser->body_limit(_limits.max_body_bytes);
    arm_timer();
    bhttp::async_read(_socket, _buffer, *_parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
      close();
      return;
    }
    if (ec == bhttp::error::body_limit) {
      reply(json_error(413, "request body too large"), false);
      return;
    }
    if (ec) {
      reply(json_error(400, "malformed request"), false);
      return;
    }
    _timer.cancel();
    const auto& raw = _parser->get();
    request req;
    req.method = std::string(raw.method_string());
    const std::string_view target(raw.target().data(), raw.target().size());
    const auto q = target.find('?');
    auto decoded = percent_decode(target.substr(0, q));
    if (!decoded) {
      reply(json_error(400, "malformed path"), false);
      return;
    }
    req.path = std::move(*decoded);
    if (q != std::string_view::npos) {
      req.query = std::string(target.substr(q + 1));
    }
    if (auto it = raw.find(bhttp::field::content_type); it != raw.end()) {
      req.content_type = std::string(it->value());
    }
    if (auto it = raw.find(bhttp::field::cookie); it != raw.end()) {
      req.cookie = std::string(it->value());
    }
    if (auto it = raw.find("X-CSRF-Token"); it != raw.end()) {
      req.csrf_token = std::string(it->value());
    }
    req.remote_address = _remote_address;
    const bool keep_alive = raw.keep_alive();
    req.body = std::move(_parser->get().body());
    const auto started = std::chrono::steady_clock::now();
    // Handlers may do real work (scoring a message): run them on the worker pool, answer on the loop.
    asio::post(_workers, [self = shared_from_this(), req = std::move(req), keep_alive, started]() mutable {
      response resp = self->_routes.dispatch(req);
      asio::post(self->_socket.get_executor(), [self, req = std::move(req), resp = std::move(resp), keep_alive,
                                                started]() mutable {
        if (self->_on_response) {
          self->_on_response(req, resp,
                             std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                                   started));
        }
        self->reply(std::move(resp), keep_alive);
      });
    });
  }

  void reply(response resp, bool keep_alive) {
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(11);
    out->result(static_cast<bhttp::status>(resp.status));
    out->set(bhttp::field::server, "portwarden");
    out->set(bhttp::field::content_type, resp.content_type);
    out->set(bhttp::field::cache_control, "no-store");
    out->set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : resp.headers) {
      out->set(name, value);
    }
    out->body() = std::move(resp.body);
    out->keep_alive(keep_alive);
    out->prepare_payload();
    arm_timer();
    bhttp::async_write(_socket, *out, [self = shared_from_this(), out, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) {
        self->close();
        return;
      }
      self->read_next();
    });
  }

  void close() {
    _timer.cancel();
    beast::error_code ignored;
    _socket.shutdown(socket_type::shutdown_both, ignored);
    _socket.close(ignored);
  }

  socket_type _socket;
  asio::steady_timer _timer;
  beast::flat_buffer _buffer;
  std::optional<bhttp::request_parser<bhttp::string_body>> _parser;
  const router& _routes;
  asio::any_io_executor _workers;
  limits _limits;
  observer _on_response;
  std::string _remote_address;
};

}  // namespace

void start_session(socket_type socket, const router& routes, asio::any_io_executor workers, limits l,
                   observer on_response) {
  std::make_shared<session>(std::move(socket), routes, std::move(workers), l, std::move(on_response))->start();
}

}  // namespace pw::http
