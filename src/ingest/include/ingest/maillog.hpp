// ingest/maillog.hpp — what the relay's Postfix delivery log says happened to relayed mail.
//
// Purpose: evidence from after the relay. A subscriber's mail that the relay let through is
// delivered by Postfix's smtp (or lmtp, error, ...) client, which logs one line per recipient with
// the queue id, a DSN status and the outcome. A hard bounce (`status=bounced`, DSN class 5) means
// the address does not exist or the receiver refused the mail; a bot writing to harvested or
// guessed addresses bounces 20–50 % of its mail, people about 1 %. This module reads those lines; the
// daemon attributes them to subscribers through the queue ids it saw at end of message
// (ingest/attribution.hpp) and gives them to the behaviour engine (`engine::on_bounce`).
//
// Accepted line shapes (syslog via rsyslog/journald, or Postfix's own `maillog_file`): any prefix
// (timestamp, host), then `<name>/<service>[<pid>]: <queue id>: ` where name starts with "postfix"
// (multi-instance names such as "postfix-out" included) and the service is one that delivers (smtp,
// lmtp, error, local, virtual, pipe, retry, discard), then comma-separated `key=value` fields among
// which `status=` (and usually `dsn=`). Every other line (smtpd, qmgr, cleanup, non-Postfix
// programs, garbage) is no delivery line.
//
// Guarantees: `parse_delivery_line` never fails, allocates nothing and returns views into the line.
// `line_splitter` hands out complete lines only, keeps at most `max_line` bytes buffered per line
// (a longer line is dropped whole and counted) and never grows beyond that.
// Privacy: the recipient (`to=<...>`, `orig_to=<...>`) and the remote reply text are not returned:
// nothing of an address leaves the parser, so nothing of it can reach a log, the store or the engine.
// Ownership: views borrow the caller's line. Thread-safety: the parser is reentrant; a splitter
// belongs to one reader. Untrusted input: the log is written by Postfix but parsed as untrusted
// (fuzzed in fuzz/maillog_fuzz.cpp): truncated, binary or overlong lines are no delivery lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pw::ingest {

enum class delivery_status : std::uint8_t { sent, deferred, bounced, expired };
std::string_view status_name(delivery_status s) noexcept;

struct delivery_line {
  std::string_view queue_id;  // Postfix queue id: [0-9A-Za-z]{6,32}
  std::string_view service;   // "smtp", "error", ...
  delivery_status status = delivery_status::sent;
  char dsn_class = 0;  // '2', '4' or '5' from `dsn=`; 0 when the line has none
};

// True for a hard bounce: status=bounced with DSN class 5 (or no DSN, which Postfix writes only for
// permanent failures of old-style transports).
bool is_hard_bounce(const delivery_line& d) noexcept;

// The delivery outcome of one log line; nullopt when the line is not a Postfix delivery line.
std::optional<delivery_line> parse_delivery_line(std::string_view line) noexcept;

// Splits a byte stream (a growing log file read in chunks) into lines.
class line_splitter {
 public:
  explicit line_splitter(std::size_t max_line = 8192) : _max(max_line) {}
  void feed(std::string_view bytes);
  // The next complete line without its '\n' (and '\r'); valid until the next feed/next call.
  std::optional<std::string_view> next();
  std::uint64_t dropped_lines() const noexcept { return _dropped; }
  // Bytes of an incomplete last line (a writer mid-line), kept for the next feed.
  std::size_t pending_bytes() const noexcept { return _buffer.size() - _pos; }

 private:
  std::size_t _max;
  std::string _buffer;
  std::size_t _pos = 0;    // start of the unread part of _buffer
  bool _skipping = false;  // inside a line over `_max`: drop until its end
  std::uint64_t _dropped = 0;
};

}  // namespace pw::ingest
