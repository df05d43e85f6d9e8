// drive/smtp_client.hpp — a blocking SMTP client that submits each message as a given subscriber.
//
// Purpose: the ISP simulator's `--through-postfix` mode replays simulated traffic through a real
// Postfix relay. Every message must reach Postfix (and so Portwarden's milter and policy service) as
// if it came from the subscriber that sent it: from their address and, for authenticated
// subscribers, with their SASL login. Postfix's XCLIENT extension does exactly that for a trusted
// client (https://www.postfix.org/XCLIENT_README.html, main.cf `smtpd_authorized_xclient_hosts`):
// `XCLIENT ADDR=... LOGIN=... HELO=...` replaces the client's identity, the server restarts the
// session with a new 220 greeting, and the client says EHLO again. The milter sees ADDR as
// {client_addr} and LOGIN as {auth_authen}; the policy service as client_address and sasl_username.
//
// Guarantees: commands are sent one at a time and every reply is read (no pipelining: the simulator
// is serial and needs each answer). Each `send` is one mail transaction in a session of its own, as a
// subscriber's mail client would open one connection per submission: RSET on a connection that was
// already open (which also finds out whether the server closed it), XCLIENT (which restarts the
// session) + EHLO, MAIL, one RCPT per recipient, and DATA only when a recipient was accepted. A fresh
// session per message matters: Postfix counts refused commands per session and, past
// smtpd_soft_error_limit, sleeps smtpd_error_sleep_time per error and past smtpd_hard_error_limit
// answers 421 and disconnects — so a deferred subscriber's messages sharing one session would be
// answered differently than the in-process verdicts (measured: 300 messages of one subscriber, 16 of
// them deferred at RCPT, took 22.8 s in one session and 1.3 s with XCLIENT per message). Postfix allows
// XCLIENT again after each transaction on the same connection, so this costs a round trip, not a
// connection. The message is sent with its line ends normalised to CRLF and dot-stuffed
// (`smtp_data_payload`). When the server closed a connection that sat idle (its first answer to a
// new transaction is a disconnect or 421), the client reconnects once and starts the transaction
// over; a failure later in a transaction is reported, never retried (the message might have been
// queued). An empty `xclient_addr` means the client's real address (the connection's own, sent
// explicitly so an earlier XCLIENT on the connection does not linger); an empty `xclient_login` means
// no login (LOGIN=[UNAVAILABLE]). Without XCLIENT on offer, only submissions that need no identity
// (empty addr and login) are sent, each on a new connection.
// Ownership: the client owns its connection; movable, not copyable.
// Thread-safety: none; one thread drives one client.
// Untrusted input: server replies are parsed by `smtp_reply_reader` (bounded: `max_reply_bytes`);
// envelope fields are checked for CR/LF (which would inject commands) and rejected.
// Failure modes (never exceptions): errc::unavailable when the server cannot be reached, times out,
// closes the connection, answers out of protocol, or refuses XCLIENT/EHLO; errc::invalid_input for
// an envelope that cannot be sent (no recipient, CR/LF in a field).
// Privacy: reply texts can quote addresses; callers must not log them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "drive/smtp_reply.hpp"

namespace pw::drive {

class timed_socket;

struct smtp_submission {
  std::string xclient_addr;   // the subscriber's client address (IPv4 or IPv6); "" = the real one
  std::string xclient_login;  // the subscriber's SASL login; "" = none
  std::string helo;           // the EHLO name the subscriber uses
  std::string sender;         // envelope sender without brackets; "" = the null sender <>
  std::vector<std::string> recipients;
  std::string_view data;  // an RFC 5322 message, LF or CRLF line ends, not dot-stuffed
};

struct smtp_reply_set {
  int mail = 0;           // the reply code to MAIL FROM
  std::vector<int> rcpt;  // the reply code to each RCPT TO, in order (empty when MAIL was refused)
  // The reply code to the message: the end-of-data reply, or DATA's own reply when it was not 354;
  // 0 when DATA was not sent because MAIL was refused or no recipient was accepted.
  int data = 0;
  std::string final_text;  // the text of the transaction's last reply, lines joined by '\n', codes cut
};

class smtp_client {
 public:
  // Connects and reads the greeting; `timeout` bounds each later read, write and connect too.
  static result<smtp_client> connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

  smtp_client(smtp_client&&) noexcept;
  smtp_client& operator=(smtp_client&&) noexcept;
  ~smtp_client();  // sends QUIT when connected

  result<smtp_reply_set> send(const smtp_submission& submission);

 private:
  smtp_client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);
  result<void> open();
  result<void> ready();
  result<smtp_reply_set> transact(const smtp_submission& s);
  result<void> start_session(const smtp_submission& s);
  result<smtp_reply> command(std::string_view line);
  result<smtp_reply> read_reply();
  void drop();

  std::string _host;
  std::uint16_t _port = 0;
  std::unique_ptr<timed_socket> _socket;
  std::string _in;                      // bytes read past the last complete line
  smtp_reply_reader _replies;           // the reply in progress
  std::vector<std::string> _xclient;    // attribute names the server offers to us; empty = no XCLIENT
  bool _session_started = false;        // the connection carried a submission's session
};

// The DATA payload for `message`: LF and CRLF line ends become CRLF (a lone CR is kept as data), a
// line that starts with '.' gets one more, a missing final line end is added, and the terminating
// ".\r\n" is appended.
std::string smtp_data_payload(std::string_view message);

// RFC 3461 xtext, as XCLIENT attribute values need: '+', '=' and bytes outside '!'..'~' become +HH.
std::string xtext(std::string_view value);

}  // namespace pw::drive
