#include "timed_socket.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

namespace pw::drive {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

timed_socket::timed_socket(std::chrono::milliseconds timeout) : _socket(_io), _timeout(timeout) {}

result<void> timed_socket::connect(const std::string& host, std::uint16_t port) {
  close();
  // Name resolution is the system resolver's, bounded by its own timeouts (a cancelled asynchronous
  // resolve would still wait for getaddrinfo); the simulator and the tests pass literal addresses.
  tcp::resolver resolver(_io);
  boost::system::error_code resolved;
  const auto endpoints = resolver.resolve(host, std::to_string(port), resolved);
  if (resolved) {
    return make_error(errc::unavailable, "cannot resolve " + host + ": " + resolved.message());
  }
  const auto connected = run([&](auto handler) { asio::async_connect(_socket, endpoints, handler); });
  if (connected) {
    close();
    return make_error(errc::unavailable,
                      "cannot connect to " + host + ":" + std::to_string(port) + ": " + connected.message());
  }
  boost::system::error_code ignored;
  _socket.set_option(tcp::no_delay(true), ignored);  // one small command per round trip
  return {};
}

void timed_socket::close() {
  boost::system::error_code ignored;
  _socket.close(ignored);
}

boost::system::error_code timed_socket::write(std::string_view bytes) {
  return run([&](auto handler) { asio::async_write(_socket, asio::buffer(bytes.data(), bytes.size()), handler); });
}

boost::system::error_code timed_socket::read_until(std::string& buffer, std::string_view delimiter,
                                                    std::size_t max_bytes) {
  return run([&](auto handler) {
    asio::async_read_until(_socket, asio::dynamic_buffer(buffer, max_bytes), std::string(delimiter), handler);
  });
}

std::string timed_socket::local_address() const {
  boost::system::error_code ec;
  const auto endpoint = _socket.local_endpoint(ec);
  return ec ? std::string() : endpoint.address().to_string();
}

}  // namespace pw::drive
