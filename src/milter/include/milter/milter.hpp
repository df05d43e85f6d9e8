// milter/milter.hpp — the Sendmail milter protocol, version 6, as Postfix 3.7 speaks it (MTA side is
// Postfix, we are the filter). Bytes in, typed events and reply bytes out.
//
// Purpose: the daemon owns the socket; it feeds whatever bytes it read into a `session`, takes the
// decoded events one at a time, asks the core for a decision where the protocol wants a reply, and
// writes the reply bytes this module appended to its output buffer. Nothing here does I/O, starts a
// thread or reads a clock.
//
// Wire format (both directions): u32 big-endian length (command byte + payload), command byte,
// payload. Strings are NUL-terminated. Postfix opens one milter connection per SMTP connection and
// may carry several messages on it (MAIL ... EOM, ABORT, MAIL ... EOM, QUIT).
//
// What Postfix 3.7 sends (milter8.c, checked against `postconf -d` on Debian 12, Postfix 3.7.11):
//   - OPTNEG offers version 6, actions 0x1ff, protocol mask 0x1fffff (every SMFIP_ flag).
//   - A MACRO ('D') packet precedes an event with the macros of that stage, even when the event
//     itself was negotiated away; it never gets a reply. Default lists: connect `j {daemon_name}
//     {daemon_addr} v _`, helo TLS macros, MAIL `i {auth_type} {auth_authen} {auth_author}
//     {mail_addr} {mail_host} {mail_mailer}`, RCPT `i {rcpt_addr} {rcpt_host} {rcpt_mailer}`, DATA,
//     EOH and EOM `i`. HEADER and EOH carry the EOH list, BODY and EOM the EOM list. `{client_addr}`
//     and `{client_name}` are NOT in the defaults: they arrive only if asked for (see
//     `negotiation::macros`), which is why the default request below asks for them.
//   - The queue id `i` exists once Postfix has opened the queue file: with the default
//     `smtpd_delay_open_until_valid_rcpt = yes` that is after the first accepted RCPT, so `i` is
//     missing at MAIL and at the first RCPT, present at later RCPTs, DATA, headers and EOM.
//     (Observed with Postfix 3.7.11 and the default request below: a MACRO packet with no pairs
//     for MAIL and the first RCPT, `i=<queue id>` from the second RCPT on.)
//   - Replying with any macro list replaces ALL of Postfix's lists: stages not listed get no macros
//     (HELO and MAIL then come as MACRO packets with no pairs).
//   - The body comes in chunks of at most 65535 bytes ('B'); EOM ('E') comes without data from
//     Postfix (other MTAs may attach a last chunk: the session reports it as a body event first).
//   - After EOM Postfix sends ABORT ('A') (3.7.11 sends two), also on RSET; at the end QUIT ('Q').
//
// For the socket owner: with the default negotiation Postfix expects no reply to CONNECT, HELO,
// headers, EOH and body, so it writes them back to back. Unless the milter side re-arms
// TCP_QUICKACK after every read, Nagle on Postfix's side meets delayed ACK on ours and each message
// stalls ~40 ms (measured with this codec behind a poll loop, Postfix 3.7.11, smtp-source -s 4
// -m 500 -l 4096: 6.1 s without, 1.5 s with TCP_QUICKACK re-armed per read; bare relay 1.5 s).
// Set TCP_NODELAY too, and write each reply buffer with one send.
//
// Guarantees:
//   - Untrusted input: every byte from the peer is treated as hostile. A packet longer than
//     `limits::max_packet_bytes` or of length zero, an unknown command, a payload without its NUL
//     terminators, truncated fixed fields, or an event out of protocol order is an error for that
//     connection (the daemon closes it); nothing crashes, and memory is bounded by the packet limit
//     plus one read plus the stored macros (at most ten stages, each bounded by the limit), as long
//     as the caller drains next() after each feed().
//   - Reply discipline: the session knows, from the negotiated protocol mask, which events Postfix
//     waits on. It refuses to hand out the next event while a reply is owed, refuses a reply when
//     none is owed, and refuses modifications (header edits, quarantine) that were not negotiated
//     or that are not allowed at that stage (only at EOM). No reply is ever produced for MACRO,
//     ABORT, QUIT or QUIT_NC.
//   - Replies are appended to a caller-owned buffer, so a whole EOM answer (header edits,
//     quarantine, final verdict) leaves in one write: Postfix waits for the final verdict, and
//     separate small writes cost ~40 ms per message through Nagle and delayed ACK.
//   - Text we put on the wire is sanitised: CR, LF, NUL and other control characters in header
//     values, quarantine reasons and SMTP reply text become spaces; `%` in reply text is doubled
//     (Postfix treats reply text like Sendmail's format strings); lengths are capped.
//   - On a failed append the output buffer is left exactly as it was.
//
// Ownership: events own their strings (they may outlive the next read). `packet` views point into
// the frame_reader's buffer and are valid until the next call on that reader.
// Thread-safety: none; one session per connection, used by one strand at a time.
// Privacy: events carry envelope addresses, header values and body bytes. They go to the core and
// the classifier only; never log or store them. Errors name commands and sizes, never content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace pw::milter {

// Protocol constants (libmilter mfdef.h names in the comments).
namespace command {
inline constexpr char abort = 'A';                // SMFIC_ABORT
inline constexpr char body = 'B';                 // SMFIC_BODY
inline constexpr char connect = 'C';              // SMFIC_CONNECT
inline constexpr char macro = 'D';                // SMFIC_MACRO
inline constexpr char end_of_message = 'E';       // SMFIC_BODYEOB
inline constexpr char helo = 'H';                 // SMFIC_HELO
inline constexpr char quit_new_connection = 'K';  // SMFIC_QUIT_NC
inline constexpr char header = 'L';               // SMFIC_HEADER
inline constexpr char mail = 'M';                 // SMFIC_MAIL
inline constexpr char end_of_headers = 'N';       // SMFIC_EOH
inline constexpr char optneg = 'O';               // SMFIC_OPTNEG
inline constexpr char quit = 'Q';                 // SMFIC_QUIT
inline constexpr char rcpt = 'R';                 // SMFIC_RCPT
inline constexpr char data = 'T';                 // SMFIC_DATA
inline constexpr char unknown = 'U';              // SMFIC_UNKNOWN
}  // namespace command

namespace action_flag {  // SMFIF_*: modifications the filter may request at EOM
inline constexpr std::uint32_t add_headers = 0x01;
inline constexpr std::uint32_t change_body = 0x02;
inline constexpr std::uint32_t add_recipients = 0x04;
inline constexpr std::uint32_t delete_recipients = 0x08;
inline constexpr std::uint32_t change_headers = 0x10;  // change, delete and insert
inline constexpr std::uint32_t quarantine = 0x20;      // Postfix: the hold queue
inline constexpr std::uint32_t change_sender = 0x40;
inline constexpr std::uint32_t add_recipients_with_args = 0x80;
inline constexpr std::uint32_t set_macro_lists = 0x100;
}  // namespace action_flag

namespace protocol_flag {  // SMFIP_*: what the MTA should not send, and where it expects no reply
inline constexpr std::uint32_t no_connect = 1u << 0;
inline constexpr std::uint32_t no_helo = 1u << 1;
inline constexpr std::uint32_t no_mail = 1u << 2;
inline constexpr std::uint32_t no_rcpt = 1u << 3;
inline constexpr std::uint32_t no_body = 1u << 4;
inline constexpr std::uint32_t no_headers = 1u << 5;
inline constexpr std::uint32_t no_end_of_headers = 1u << 6;
inline constexpr std::uint32_t no_reply_header = 1u << 7;
inline constexpr std::uint32_t no_unknown = 1u << 8;
inline constexpr std::uint32_t no_data = 1u << 9;
inline constexpr std::uint32_t skip = 1u << 10;
inline constexpr std::uint32_t rcpt_rejected = 1u << 11;
inline constexpr std::uint32_t no_reply_connect = 1u << 12;
inline constexpr std::uint32_t no_reply_helo = 1u << 13;
inline constexpr std::uint32_t no_reply_mail = 1u << 14;
inline constexpr std::uint32_t no_reply_rcpt = 1u << 15;
inline constexpr std::uint32_t no_reply_data = 1u << 16;
inline constexpr std::uint32_t no_reply_unknown = 1u << 17;
inline constexpr std::uint32_t no_reply_end_of_headers = 1u << 18;
inline constexpr std::uint32_t no_reply_body = 1u << 19;
inline constexpr std::uint32_t header_leading_space = 1u << 20;
}  // namespace protocol_flag

// SMFIM_*: the stages for which a filter may ask for a macro list in its OPTNEG reply.
enum class macro_stage : std::uint32_t { connect = 0, helo = 1, mail = 2, rcpt = 3, data = 4, eom = 5, eoh = 6 };

inline constexpr std::uint32_t protocol_version = 6;
// Postfix sends body chunks of at most 65535 bytes; a MACRO packet with long TLS subject names is
// the next largest thing. 1 MiB leaves room for any other MTA's larger chunks.
inline constexpr std::size_t default_max_packet_bytes = (1u << 20) + 64;

struct limits {
  std::size_t max_packet_bytes = default_max_packet_bytes;  // command byte + payload
};

// ---- framing ----------------------------------------------------------------------------------

struct packet {
  char command = 0;
  std::string_view payload;  // into the reader's buffer; valid until the next call on the reader
};

// Splits a byte stream into packets. Accepts chunks of any size (a packet may be split across
// reads, or several may come in one). After an error the reader stays failed.
class frame_reader {
 public:
  explicit frame_reader(std::size_t max_packet_bytes = default_max_packet_bytes);

  // Appends bytes read from the peer. Never fails; bytes beyond a framing error are ignored.
  void feed(std::string_view bytes);
  // The next complete packet, nothing if more bytes are needed, or an error (length zero or above
  // the limit). The limit is checked on the 4 length bytes, before anything is allocated for it.
  result<std::optional<packet>> next();
  // True when no partial packet is buffered: at end of stream, false means the peer stopped
  // mid-packet.
  [[nodiscard]] bool at_packet_boundary() const noexcept;
  [[nodiscard]] std::size_t buffered_bytes() const noexcept;

 private:
  std::string _buffer;
  std::size_t _consumed = 0;  // bytes of _buffer already handed out; compacted lazily
  std::size_t _max_packet_bytes;
  bool _failed = false;
};

// ---- events -----------------------------------------------------------------------------------

struct optneg {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;   // action_flag bits the MTA allows
  std::uint32_t protocol = 0;  // protocol_flag bits the MTA understands
};

struct macro {
  std::string name;  // as sent: `i`, `j`, `{auth_authen}`, `{client_addr}`, ...
  std::string value;
};

struct macros {
  char stage = 0;  // the command these macros precede (command::connect, command::mail, ...)
  std::vector<macro> values;
};

enum class address_family : char { unknown = 'U', local = 'L', inet = '4', inet6 = '6' };

struct connect {
  std::string hostname;  // `[1.2.3.4]` when Postfix has no name (smtpd_peername_lookup = no)
  address_family family = address_family::unknown;
  std::uint16_t port = 0;  // 0 for local sockets and unknown
  std::string address;     // empty for address_family::unknown
};

struct helo {
  std::string name;
};

struct mail {
  std::vector<std::string> args;  // args[0] is the sender as `<a@b>`, then ESMTP parameters
};

struct rcpt {
  std::vector<std::string> args;  // args[0] is the recipient as `<a@b>`, then ESMTP parameters
};

struct header {
  std::string name;
  std::string value;  // without the space after the colon (Postfix strips one unless negotiated)
};

struct end_of_headers {};

struct body {
  std::string chunk;  // raw CRLF-terminated lines, at most 65535 bytes from Postfix
};

struct end_of_message {};
struct abort_message {};        // message aborted or finished; connection continues
struct quit {};                 // connection ends
struct quit_new_connection {};  // connection is reused for a new SMTP connection (SMFIC_QUIT_NC)
struct data_command {};

struct unknown_command {
  std::string line;  // the SMTP command Postfix did not recognise
};

using event = std::variant<optneg, macros, connect, helo, mail, rcpt, header, end_of_headers, body, end_of_message,
                           abort_message, quit, quit_new_connection, data_command, unknown_command>;

// Decodes one packet from the MTA. Errors name the command and what was wrong.
// An END_OF_MESSAGE carrying data (not Postfix, but legal) decodes to end_of_message; the data is
// then available through `end_of_message_data`.
result<event> decode(const packet& p);
std::string_view end_of_message_data(const packet& p);

// ---- replies ----------------------------------------------------------------------------------

// An SMTP reply for tempfail/reject with our own text: `code` 4xx or 5xx, `enhanced_status` x.y.z
// with the same class digit (Postfix refuses anything else and applies milter_default_action).
struct smtp_reply {
  std::uint16_t code = 451;
  std::string enhanced_status = "4.7.1";
  std::string text;
};

struct verdict {
  enum class kind : std::uint8_t {
    proceed,   // SMFIR_CONTINUE: no objection at this stage
    accept,    // SMFIR_ACCEPT: accept; no further events for this message (connection at CONNECT/HELO)
    tempfail,  // SMFIR_TEMPFAIL, or SMFIR_REPLYCODE with `reply` (4xx): the sender's MTA retries
    reject,    // SMFIR_REJECT, or SMFIR_REPLYCODE with `reply` (5xx)
  };
  kind what = kind::proceed;
  std::optional<smtp_reply> reply;  // only with tempfail/reject; its code class must match
};

struct header_change {
  enum class kind : std::uint8_t {
    add,     // SMFIR_ADDHEADER: append at the end of the header section
    change,  // SMFIR_CHGHEADER: replace the index-th (1-based) header of that name; empty value deletes
    insert,  // SMFIR_INSHEADER: insert at position index (0 = top)
  };
  kind what = kind::add;
  std::uint32_t index = 0;
  std::string name;   // printable ASCII without ':' and space; anything else is refused
  std::string value;  // sanitised (controls to spaces) and cut so the header line stays <= 998 bytes
};

struct eom_reply {
  std::vector<header_change> headers;
  std::optional<std::string> quarantine_reason;  // Postfix puts the message in the hold queue
  verdict final;
};

// Low-level encoders. All APPEND to `out` (a scratch buffer the caller reuses and writes once).
void append_packet(std::string& out, char reply_command, std::string_view payload);
void append_continue(std::string& out);
void append_accept(std::string& out);
void append_tempfail(std::string& out);
void append_reject(std::string& out);
result<void> append_reply_code(std::string& out, const smtp_reply& reply);         // 'y'
void append_quarantine(std::string& out, std::string_view reason);                 // 'q'
result<void> append_header_change(std::string& out, const header_change& change);  // 'h' / 'm' / 'i'
result<void> append_verdict(std::string& out, const verdict& v);

// Readable forms of header values and reply text as they will go on the wire (exposed for tests
// and for callers that want to log the length of what was sent).
std::string sanitise_header_value(std::string_view value, std::size_t max_bytes);
std::string sanitise_reply_text(std::string_view text, std::size_t max_bytes);

// ---- negotiation ------------------------------------------------------------------------------

// Which stages to receive, and at which of them Postfix should wait for our answer. Each stage not
// received saves a packet; each stage not answered saves a round trip (the expensive part).
struct stage_set {
  bool connect = false;
  bool helo = false;
  bool mail = false;
  bool rcpt = false;
  bool data = false;
  bool headers = false;
  bool end_of_headers = false;
  bool body = false;
  bool unknown = false;
};

struct macro_request {
  macro_stage stage;
  std::string names;  // space-separated, e.g. "i {auth_authen}"
};

struct negotiation {
  // Defaults for Portwarden: envelope and content for the behaviour engine and the classifier.
  stage_set receive{.connect = true,
                    .helo = true,
                    .mail = true,
                    .rcpt = true,
                    .data = false,
                    .headers = true,
                    .end_of_headers = true,
                    .body = true,
                    .unknown = false};
  // Answers at MAIL and RCPT, so the core can defer there; EOM is always answered.
  stage_set reply{.mail = true, .rcpt = true};
  std::uint32_t actions = action_flag::add_headers | action_flag::change_headers | action_flag::quarantine;
  // Sent in the OPTNEG reply. Empty: keep Postfix's lists. Non-empty replaces all of them, so list
  // every stage that needs macros.
  std::vector<macro_request> macros = default_macro_requests();

  static std::vector<macro_request> default_macro_requests();
};

// What was agreed: our request intersected with the MTA's offer.
struct negotiated {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;
  std::uint32_t protocol = 0;
};

// The OPTNEG reply for `offer`, appended to `out`; fails when the MTA offers a version below 6.
result<negotiated> append_optneg_reply(std::string& out, const optneg& offer, const negotiation& wanted);

// ---- session ----------------------------------------------------------------------------------

struct incoming {
  event what;
  bool needs_reply = false;  // true: answer with session::answer / answer_eom before calling next()
};

// One milter connection's protocol state: negotiation, reply discipline, message boundaries and
// the macros in force.
class session {
 public:
  explicit session(negotiation wanted = {}, limits lim = {});

  // Bytes read from the socket.
  void feed(std::string_view bytes);

  // The next event, or nothing if more bytes are needed. OPTNEG is answered here (the reply is
  // appended to `out`); it is still returned, with needs_reply = false, for the caller to log the
  // agreed masks. An error means: close the connection. After QUIT, further bytes are an error.
  result<std::optional<incoming>> next(std::string& out);

  // The reply to the event last returned with needs_reply (not END_OF_MESSAGE).
  result<void> answer(const verdict& v, std::string& out);
  // The reply to END_OF_MESSAGE: header edits, quarantine, then the final verdict, in one buffer.
  result<void> answer_eom(const eom_reply& reply, std::string& out);

  // At end of stream: an error if the peer stopped mid-packet.
  [[nodiscard]] result<void> finish() const;

  // The latest value of a macro: the current message's stages first, then the connection's.
  [[nodiscard]] std::optional<std::string_view> macro_value(std::string_view name) const;

  [[nodiscard]] const negotiated& agreed() const noexcept { return _agreed; }
  [[nodiscard]] bool negotiated_yet() const noexcept { return _phase != phase::start; }
  [[nodiscard]] bool in_message() const noexcept { return _phase == phase::message; }
  [[nodiscard]] bool finished() const noexcept { return _phase == phase::closed; }
  [[nodiscard]] std::uint32_t messages_completed() const noexcept { return _messages_completed; }

 private:
  enum class phase : std::uint8_t { start, connection, message, closed };

  bool reply_expected(char cmd) const noexcept;
  void store_macros(macros&& m);
  void reset_message() noexcept;

  negotiation _wanted;
  frame_reader _reader;
  negotiated _agreed;
  phase _phase = phase::start;
  char _owed = 0;                          // command whose reply is owed, 0 if none
  bool _pending_eom = false;               // an END_OF_MESSAGE with data: its body event was returned first
  bool _message_opened_by_macros = false;  // MAIL's macros came; the MAIL event must not reset them
  std::uint32_t _messages_completed = 0;
  std::vector<macros> _connection_macros;  // CONNECT and HELO stage lists, latest per stage
  std::vector<macros> _message_macros;     // MAIL..EOM stage lists, latest per stage
};

}  // namespace pw::milter
