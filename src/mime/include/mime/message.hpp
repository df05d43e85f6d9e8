// mime/message.hpp — reading a raw RFC 5322 / MIME message, safely and fast.
//
// Purpose: turn the raw bytes of one message into what the detectors need: top-level headers
// (unfolded, RFC 2047 encoded-words decoded to UTF-8), a flattened MIME tree (multipart and
// message/rfc822 descended), the readable text of the text parts converted to UTF-8 from their
// declared charset with HTML reduced to text, the URLs found in that text with their host names, and
// a set of anomaly flags describing what was wrong with the input.
//
// Guarantees: `parse` never fails, never throws for bad input, never reads outside `raw`, and runs in
// time and memory bounded by `limits` (roughly linear in min(raw.size(), limits.max_message_bytes)).
// Every kind of malformation (binary garbage, truncated multiparts, missing boundaries, invalid
// base64, unknown charsets, megabyte header lines, deep nesting) yields a best-effort parse plus
// anomaly flags, which are themselves useful evidence.
//
// Ownership: a `message` keeps string_views into `raw` (header names, raw part bodies): the caller
// keeps `raw` alive and unchanged for as long as the message is used. Decoded values are owned.
//
// Thread-safety: `parse` is a pure function; a `message` is an immutable value once returned.
// `parse_into` writes only the message it is given.
//
// Untrusted input: yes — this is the front door for hostile bytes. It is fuzzed (fuzz/mime_fuzz.cpp).
//
// Privacy: a parsed message holds content. It must never be logged or stored; only features,
// fingerprints and counts derived from it leave the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pw::mime {

// Bounds on the work one message may cause. Defaults suit an ISP relay (messages up to 50 MB pass
// through; detectors only need the first part of the text).
struct limits {
  std::size_t max_message_bytes = 64u << 20;    // bytes beyond are not parsed (anomaly::truncated_by_limit)
  std::size_t max_header_bytes = 1u << 20;      // total bytes of one header section
  std::size_t max_header_value_bytes = 64u << 10;  // one decoded header value is cut here
  std::size_t max_headers = 1000;               // per header section
  std::size_t max_depth = 32;                   // multipart / message/rfc822 nesting
  std::size_t max_parts = 1000;                 // parts in the whole tree
  std::size_t max_text_bytes = 1u << 20;        // total decoded UTF-8 text kept in message::text
  std::size_t max_urls = 500;
};

// What was wrong with the input. Flags, so a message can carry several.
enum class anomaly : std::uint32_t {
  none = 0,
  truncated_by_limit = 1u << 0,      // message larger than max_message_bytes
  no_header_body_separator = 1u << 1,
  header_line_too_long = 1u << 2,    // a header line over 998 bytes (RFC 5322 2.1.1)
  too_many_headers = 1u << 3,
  header_section_too_large = 1u << 4,
  malformed_header_line = 1u << 5,   // a line in the header section without a colon
  eight_bit_header = 1u << 6,        // raw bytes >= 0x80 in headers (not encoded-words)
  bad_encoded_word = 1u << 7,        // an RFC 2047 word that did not decode
  nul_byte = 1u << 8,
  bare_line_ending = 1u << 9,        // a lone CR or LF where CRLF/LF is used elsewhere
  missing_boundary = 1u << 10,       // multipart without a boundary parameter
  boundary_not_found = 1u << 11,     // boundary declared but never seen in the body
  unterminated_multipart = 1u << 12, // no closing --boundary--
  nesting_too_deep = 1u << 13,
  too_many_parts = 1u << 14,
  invalid_base64 = 1u << 15,
  invalid_quoted_printable = 1u << 16,
  unknown_charset = 1u << 17,        // declared charset not known to iconv; bytes taken as Latin-1/UTF-8
  invalid_charset_bytes = 1u << 18,  // bytes not valid in the declared charset
  unknown_transfer_encoding = 1u << 19,
  html_only = 1u << 20,              // text exists only as HTML
  missing_from = 1u << 21,
  missing_date = 1u << 22,
  missing_message_id = 1u << 23,
  duplicate_singleton_header = 1u << 24,  // two From/Subject/Date/... headers
  text_truncated = 1u << 25,         // decoded text exceeded max_text_bytes
  binary_garbage = 1u << 26,         // the input does not look like a mail message at all
};
inline constexpr std::uint32_t anomaly_count = 27;

constexpr anomaly operator|(anomaly a, anomaly b) {
  return static_cast<anomaly>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr anomaly& operator|=(anomaly& a, anomaly b) { return a = a | b; }
constexpr bool has(anomaly set, anomaly flag) {
  return (static_cast<std::uint32_t>(set) & static_cast<std::uint32_t>(flag)) != 0;
}
// A stable lowercase name for each single flag ("invalid_base64"); "unknown" for sets or non-flags.
std::string_view anomaly_name(anomaly flag);

struct header {
  std::string_view name;  // as written (view into raw); compare case-insensitively
  std::string value;      // unfolded, RFC 2047 decoded to UTF-8, leading/trailing space trimmed
};

enum class transfer_encoding : std::uint8_t { seven_bit, eight_bit, binary, base64, quoted_printable, unknown };

// One node of the MIME tree, in pre-order. The root part is parts[0] (the message itself).
struct part {
  std::size_t parent = static_cast<std::size_t>(-1);  // index into message::parts; root has none
  std::size_t depth = 0;
  std::string content_type;       // lowercase "type/subtype"; "text/plain" when absent
  std::string charset;            // lowercase, as declared ("" when absent)
  std::string filename;           // from Content-Disposition filename= or Content-Type name=, decoded
  transfer_encoding encoding = transfer_encoding::seven_bit;
  bool is_attachment = false;     // Content-Disposition: attachment, or a non-text leaf with a filename
  std::string_view encoded_body;  // the part's body as transmitted (view into raw); empty for multiparts
                                  // split into children (one whose boundary is missing or never found,
                                  // or that is nested too deep, keeps its body here)
  std::vector<header> headers;    // the part's own MIME headers (for the root: same as message::headers)
};

struct url {
  std::string text;  // as found, with the scheme ("http://..."), capped in length
  std::string host;  // lowercase host name or address literal, no port, no userinfo
};

struct message {
  std::vector<header> headers;    // top-level header section, in order
  std::vector<part> parts;        // flattened MIME tree, pre-order; never empty after parse
  std::string subject;            // decoded Subject (also among headers), "" when absent
  std::string text;               // readable UTF-8 text of all text parts, HTML reduced to text,
                                  // parts separated by '\n', at most limits::max_text_bytes. Text
                                  // parts with Content-Disposition: attachment are left out; of a
                                  // multipart/alternative only what a client would display counts
                                  // (the last alternative holding HTML, else the last holding text)
  std::size_t html_parts = 0;     // how many text/html parts contributed to `text`
  std::vector<url> urls;          // from the text and from HTML href/src attributes, de-duplicated
  anomaly anomalies = anomaly::none;

  // First top-level header with this name (case-insensitive), or nullptr.
  const header* find(std::string_view name) const;
};

// Parse `raw`. See the file comment for the guarantees.
message parse(std::string_view raw, const limits& lim = {});

// The same parse into an existing message, for callers that parse many messages in a loop (the
// classifier): `out`'s previous contents are replaced entirely (the result equals `parse(raw, lim)`),
// but the capacity of its strings and vectors is reused, which saves most per-message allocations.
// `raw` must not point into `out`.
void parse_into(message& out, std::string_view raw, const limits& lim = {});

// Decode a part's transfer encoding (base64, quoted-printable, or identity) into bytes. For
// consumers that need attachment bytes (fingerprints); the classifier does not. Appends anomaly
// flags for invalid input to `found`.
std::string decode_body(const part& p, anomaly& found);

}  // namespace pw::mime
