// drive/daemon_client.hpp — a blocking client of `portwarden serve`'s HTTP API, for the simulator.
//
// Purpose: the ISP simulator's `--through-postfix` mode runs the daemon on simulated time
// (server.clock = "api") and reads back what it concluded about a subscriber. `set_clock` is
// PUT /api/v1/clock {"now_ms": N}; `subscriber` is GET /api/v1/subscribers/{id}.
// Guarantees: one HTTP/1.1 keep-alive connection (Boost.Beast); when the daemon closed it (its idle
// timeout) the request is sent again once on a new connection — both requests are idempotent. Each
// connect, write and read is bounded by the timeout; responses are bounded by `max_response_bytes`.
// The subscriber id is percent-encoded into the path.
// Ownership: the client owns its connection; movable, not copyable.
// Thread-safety: none; one thread drives one client.
// Untrusted input: responses are parsed with nlohmann_json, without exceptions; a field of the wrong
// type is a parse failure, not a crash.
// Failure modes (never exceptions): errc::unavailable when the daemon cannot be reached, times out or
// answers with an unexpected status (the status and the daemon's error text are in the message;
// PUT /api/v1/clock answers 404 or 405 when the daemon runs on the system clock); errc::invalid_input
// when a 200 answer is not the JSON documented in src/server/api.cpp; a subscriber whose decision log
// or held list the daemon could not read (its store failed) is a failed lookup, not a found one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/lookup.hpp"
#include "common/result.hpp"

namespace pw::drive {

class timed_socket;

struct subscriber_decision {
  std::int64_t at_ms = 0;
  std::string queue_id;
  std::string action;  // accept, tag, defer, hold
  std::string level;   // normal, watch, throttle, hold
  double suspicion = 0;
  bool observe_only = false;
};

struct held_message {
  std::string queue_id;
  std::int64_t held_ms = 0;
};

struct subscriber_status {
  std::string id;
  // The engine's view at the daemon's now; level is nullopt when the subscriber is known only from
  // the decision log (its behaviour state expired), and the other engine fields are then unset.
  std::optional<std::string> level;
  double suspicion = 0;
  std::optional<std::int64_t> last_seen_ms;
  std::optional<std::int64_t> held_since_ms;
  std::optional<std::int64_t> grace_until_ms;
  std::vector<subscriber_decision> decisions;  // the latest (at most 20), as the daemon lists them
  std::vector<held_message> held;              // queue ids still in Postfix's hold queue
};

inline constexpr std::size_t max_response_bytes = 4 * 1024 * 1024;

class daemon_client {
 public:
  // Connects to the daemon's HTTP listener; `timeout` bounds each later connect, write and read too.
  static result<daemon_client> connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

  daemon_client(daemon_client&&) noexcept;
  daemon_client& operator=(daemon_client&&) noexcept;
  ~daemon_client();

  // PUT /api/v1/clock: the daemon's time becomes `now_ms` (ms since the epoch; forward or back).
  result<void> set_clock(std::int64_t now_ms);
  // GET /api/v1/subscribers/{id}: not found on 404 (the daemon never saw the subscriber).
  lookup<subscriber_status> subscriber(std::string_view id);

 private:
  struct answer {
    unsigned status = 0;
    std::string body;
  };

  daemon_client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);
  result<answer> request(std::string_view method, const std::string& target, std::string body);
  result<answer> exchange(std::string_view method, const std::string& target, const std::string& body);

  std::string _host;
  std::uint16_t _port = 0;
  std::unique_ptr<timed_socket> _socket;
};

}  // namespace pw::drive
