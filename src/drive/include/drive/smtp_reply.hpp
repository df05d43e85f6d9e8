// drive/smtp_reply.hpp — SMTP replies (RFC 5321 §4.2) read from a byte stream, apart from any socket.
//
// Purpose: the desk's notice sender talks to the ISP's notice relay and the simulator to Postfix, both
// through `smtp_client`; what they answer is parsed here, where a unit test and a libFuzzer target
// (fuzz/smtp_reply_fuzz.cpp) reach it without a server.
// Guarantees: a reply is complete when its last line ("ddd text" or "ddd") has arrived with its CRLF;
// every line of a multi-line reply ("ddd-text") must carry the same code. The text is the lines'
// texts joined by '\n', codes cut. Lines are consumed from the buffer as they complete, so when
// `take` asks for more, the bytes left behind hold no whole line and a read up to the next CRLF is due.
// Ownership: the reader keeps the reply in progress; the caller owns the buffer.
// Thread-safety: none; one reader per connection.
// Untrusted input: any bytes. A line without three digits (then space, '-' or its end), a code that
// changes inside a reply, or a reply (or a line in progress) beyond `max_reply_bytes` is an error.
// Failure modes: errc::unavailable "out of protocol" with what was wrong; after an error the reader
// must be `reset` (the connection is dropped anyway). Never an exception.
// Privacy: reply texts can quote addresses; callers must not log them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pw::drive {

inline constexpr std::size_t max_reply_bytes = 64 * 1024;

struct smtp_reply {
  int code = 0;
  std::string text;
};

class smtp_reply_reader {
 public:
  // Consumes the complete lines at the front of `buffer` (bytes as received). The finished reply, or
  // nullopt when its last line has not arrived yet.
  result<std::optional<smtp_reply>> take(std::string& buffer);
  // Forgets a reply in progress.
  void reset();

 private:
  smtp_reply _partial;
  std::size_t _bytes = 0;  // text bytes of the reply in progress
};

// The attribute names of an EHLO reply's "XCLIENT NAME ADDR ..." line (upper-cased); empty when
// XCLIENT is not offered, one empty name when it is offered without a list.
std::vector<std::string> xclient_attributes(std::string_view ehlo_text);

}  // namespace pw::drive
