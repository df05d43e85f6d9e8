// policy/policy.hpp — Postfix SMTP access policy delegation (`check_policy_service`,
// SMTPD_POLICY_README): requests in, actions out.
//
// Purpose: the daemon owns the socket; it feeds the bytes it read into a `request_reader`, takes
// complete requests, asks the core, and writes the action this module appended to its output
// buffer. No I/O, no threads, no clocks.
//
// Wire format: a request is `name=value\n` lines ended by an empty line; the answer is
// `action=<text>\n\n`. Postfix keeps the connection open and sends further requests on it (across
// SMTP sessions, until idle or max_ttl), one at a time: it waits for each answer.
// Postfix 3.7 sends, at every state: request protocol_state protocol_name client_address
// client_name client_port reverse_client_name server_address server_port helo_name sender recipient
// recipient_count queue_id instance size etrn_domain stress sasl_method sasl_username sasl_sender
// ccert_subject ccert_issuer ccert_fingerprint ccert_pubkey_fingerprint encryption_protocol
// encryption_cipher encryption_keysize policy_context. `instance` is the same for all requests of
// one message and is the key to join the RCPTs of a message with its END-OF-MESSAGE request.
//
// Guarantees:
//   - Untrusted input: a line longer than `limits::max_line_bytes`, more than
//     `limits::max_attributes` lines, a request above `limits::max_request_bytes`, a line without
//     `=`, an empty name, a NUL byte, a number that is not one, or a request without
//     `request=smtpd_access_policy` is an error for that connection (the daemon closes it, Postfix
//     logs it and retries on a new one). Memory is bounded by the limits plus one read, as long as the
//     caller drains next() after each feed(); nothing crashes.
//   - Attributes this module does not know are kept in `request::attributes`, never an error: Postfix
//     adds attributes over versions. A repeated attribute: the last value counts.
//   - A trailing CR before LF is removed (Postfix sends bare LF; a hand-typed test may not).
//   - Actions are sanitised: CR, LF, NUL and other controls in text become spaces and the text is
//     cut, so no answer can inject a second line or a second action.
//   - On a failed append the output buffer is left as it was.
//
// Ownership: requests own their strings. Thread-safety: none; one reader per connection.
// Privacy: requests carry sender and recipient addresses and SASL logins. They go to the core only;
// never log or store them. Errors name attributes and sizes, never values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pw::policy {

struct limits {
  std::size_t max_line_bytes = 8192;      // one `name=value` line without its LF; ccert_subject can be long
  std::size_t max_attributes = 256;       // Postfix 3.7 sends 30
  std::size_t max_request_bytes = 65536;  // one whole request
};

enum class protocol_state : std::uint8_t { connect, ehlo, helo, mail, rcpt, data, end_of_message, vrfy, etrn, other };

struct attribute {
  std::string name;
  std::string value;
};

// One request, with the attributes Portwarden uses as typed fields (empty when not sent).
struct request {
  protocol_state state = protocol_state::other;
  std::string protocol_state_name;  // as sent: RCPT, END-OF-MESSAGE, ...
  std::string protocol_name;        // SMTP / ESMTP
  std::string client_address;
  std::string client_name;
  std::string reverse_client_name;
  std::uint16_t client_port = 0;
  std::string server_address;
  std::uint16_t server_port = 0;
  std::string helo_name;
  std::string sender;                 // without angle brackets; empty for the null sender
  std::string recipient;              // at RCPT; empty at END-OF-MESSAGE
  std::uint32_t recipient_count = 0;  // 0 before END-OF-MESSAGE / DATA
  std::string queue_id;
  std::string instance;
  std::uint64_t size = 0;  // SIZE= from MAIL, or the real size at END-OF-MESSAGE
  std::string sasl_method;
  std::string sasl_username;
  std::string sasl_sender;
  std::string encryption_protocol;
  std::string policy_context;
  std::vector<attribute> attributes;  // every attribute as sent, in order, known or not

  // Any attribute by name (typed or not), as sent (the last one if repeated); nothing if absent.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
};

// Splits a byte stream into requests. Accepts chunks of any size. After an error it stays failed.
class request_reader {
 public:
  explicit request_reader(limits lim = {});

  // Appends bytes read from the peer. Bytes beyond an error are ignored.
  void feed(std::string_view bytes);
  // The next complete request, nothing if more bytes are needed, or an error (see the contract).
  result<std::optional<request>> next();
  // True when no partial request is buffered: at end of stream, false means the peer stopped
  // mid-request.
  [[nodiscard]] bool at_request_boundary() const noexcept;

 private:
  limits _limits;
  std::string _buffer;
  std::size_t _consumed = 0;        // bytes of _buffer already parsed into finished requests or lines
  std::size_t _scanned = 0;         // bytes after _consumed already searched for LF
  std::vector<attribute> _pending;  // lines of the request in progress
  std::size_t _pending_bytes = 0;
  bool _failed = false;
};

// The answer to one request. All functions APPEND `action=...\n\n` to `out` (a scratch buffer the
// caller reuses). Texts are sanitised and cut to fit one SMTP reply line.
void append_dunno(std::string& out);                                   // no opinion; next restriction decides
void append_defer_if_permit(std::string& out, std::string_view text);  // 450 4.7.1 if a later rule permits
void append_hold(std::string& out, std::string_view text);             // accept into the hold queue
void append_reject(std::string& out, std::string_view text);           // 5xx (Postfix: 554 5.7.1)
// `code` 4xx with `enhanced_status` 4.x.y: e.g. 450 4.7.1 text. Anything else is refused.
result<void> append_tempfail(std::string& out, std::uint16_t code, std::string_view enhanced_status,
                             std::string_view text);
// Prepends a header to the message (tagging). `name` printable ASCII without ':' or space.
result<void> append_prepend(std::string& out, std::string_view name, std::string_view value);

std::string sanitise_text(std::string_view text, std::size_t max_bytes);

}  // namespace pw::policy
