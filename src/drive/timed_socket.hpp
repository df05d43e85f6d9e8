// drive/timed_socket.hpp (private) — one blocking TCP connection whose every operation has a deadline.
//
// Asio's synchronous calls have no timeout, so each operation is started asynchronously on a private
// io_context that is run for at most the timeout; when it is not done by then the socket is closed
// (which completes the operation with operation_aborted) and `timed_out` is reported. This is Asio's
// own "blocking_tcp_client" pattern. Not thread-safe: one thread drives one connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pw::drive {

class timed_socket {
 public:
  explicit timed_socket(std::chrono::milliseconds timeout);

  // Resolves `host` (a literal address or a name) and connects to the first endpoint that answers
  // within the timeout.
  result<void> connect(const std::string& host, std::uint16_t port);
  bool is_open() const { return _socket.is_open(); }
  void close();

  boost::system::error_code write(std::string_view bytes);
  // Appends to `buffer` until it contains `delimiter`; at most `max_bytes` buffered (else not_found).
  boost::system::error_code read_until(std::string& buffer, std::string_view delimiter, std::size_t max_bytes);

  // Runs one asynchronous operation started by `start(handler)` to completion or the timeout.
  template <class Start>
  boost::system::error_code run(Start&& start) {
    boost::system::error_code outcome = boost::asio::error::would_block;
    start([&outcome](const boost::system::error_code& ec, auto&&...) { outcome = ec; });
    _io.restart();
    _io.run_for(_timeout);
    if (!_io.stopped()) {
      close();
      _io.run();
      return boost::asio::error::timed_out;
    }
    return outcome;
  }

  boost::asio::ip::tcp::socket& socket() { return _socket; }
  // The address this end of the connection has (what the peer sees as its client address).
  std::string local_address() const;

 private:
  boost::asio::io_context _io;
  boost::asio::ip::tcp::socket _socket;
  std::chrono::milliseconds _timeout;
};

}  // namespace pw::drive
