// mime/header_parse.hpp — private: header sections, RFC 2047 encoded-words, MIME parameters.
//
// Purpose: split one entity (a message or a MIME part) into its header lines and body; unfold and
// decode header values to UTF-8 (RFC 2047 B and Q words, adjacent words joined without the whitespace
// between them, raw 8-bit bytes taken as UTF-8 or windows-1252); parse Content-Type /
// Content-Disposition style values into a token plus parameters, with quoted strings, comments and
// RFC 2231 (charset'lang'%XX values and name*0/name*1 continuations).
//
// Guarantees: one linear pass over the header section; nothing is stored past limits::max_headers or
// limits::max_header_bytes (the scan still runs to the blank line, so the body is found), and decoded
// values are cut at limits::max_header_value_bytes. Malformations set anomaly flags, never fail.
//
// Ownership: raw_header and header_section hold views into the entity. Thread-safety: pure functions.
// Untrusted input: yes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mime/message.hpp"

namespace pw::mime::detail {

struct raw_header {
  std::string_view name;       // trimmed field name, as written
  std::string_view raw_value;  // after the colon through the last continuation line, line end excluded
  bool folded = false;         // raw_value spans several lines and needs unfolding
};

struct header_section {
  std::vector<raw_header> headers;
  std::string_view body;             // bytes after the blank line (or from the first non-header line)
  bool starts_with_header = false;   // the first line was a well-formed header line
};

// Fills `section` (its previous contents are replaced; the vector keeps its capacity).
void split_header_section(std::string_view entity, const limits& lim, anomaly& found, header_section& section);

// Unfolded, trimmed, RFC 2047 decoded UTF-8 value, at most lim.max_header_value_bytes bytes, into
// `out` (replaced; its capacity is reused, so a reused message's header values cost no allocation).
void decode_header_value(const raw_header& h, const limits& lim, anomaly& found, std::string& out);

// RFC 2047 decoding of an already unfolded text (also used for the non-standard but common
// encoded-words inside quoted filename parameters).
std::string decode_encoded_words(std::string_view text, anomaly& found);

struct parameter {
  std::string name;   // lowercase, without RFC 2231 '*' suffixes
  std::string value;  // unquoted; RFC 2231 values percent-decoded and converted to UTF-8
};

struct structured_value {
  std::string token;  // lowercase leading token ("multipart/mixed", "attachment"), comments removed
  std::vector<parameter> params;

  // Value of the first parameter with this (lowercase) name, or nullptr.
  const std::string* find(std::string_view name) const;
};

structured_value parse_structured_value(const raw_header& h, anomaly& found);

bool iequals(std::string_view a, std::string_view b);

// The header value without its folding line ends (CR and LF); a view when it was not folded.
std::string_view unfold(const raw_header& h, std::string& storage);

std::string_view trim(std::string_view s);

}  // namespace pw::mime::detail
