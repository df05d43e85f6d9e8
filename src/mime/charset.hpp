// mime/charset.hpp — private: bytes in a declared charset to UTF-8.
//
// Purpose: the one place where message bytes become UTF-8. Fast paths need no iconv: pure ASCII in any
// ASCII-compatible charset, valid UTF-8 declared as utf-8/us-ascii/absent, and ISO-8859-1/windows-1252
// (a hand-written table; mail labelled ISO-8859-1 is windows-1252 in practice, as WHATWG also assumes).
// Everything else goes through glibc iconv, with one iconv_t per charset name cached per thread
// (iconv_open costs tens of microseconds, more than parsing a typical message).
//
// Guarantees: the output is valid UTF-8 whatever the input; invalid sequences become U+FFFD and set
// anomaly::invalid_charset_bytes; a charset iconv does not know sets anomaly::unknown_charset and the
// bytes are taken as UTF-8 when valid, else as windows-1252. Work is linear in the input: after
// max_replacements invalid sequences the rest is taken as windows-1252 instead of resyncing byte by byte.
//
// Thread-safety: safe; the iconv cache is thread_local. Untrusted input: yes (bytes and charset names;
// names are sanitised before they reach iconv_open).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mime/message.hpp"

namespace pw::mime::detail {

// Appends `in`, declared in `charset` (any case; "" when undeclared), to `out` as UTF-8. Appending to
// the caller's buffer lets text parts accumulate without a temporary per part.
void append_as_utf8(std::string_view in, std::string_view charset, std::string& out, anomaly& found);

// Appends one code point as UTF-8 (U+FFFD for surrogates and values above U+10FFFF).
void append_code_point(std::uint32_t cp, std::string& out);

bool is_ascii(std::string_view s);
bool is_valid_utf8(std::string_view s);

// Header values with raw 8-bit bytes (RFC 6532 allows UTF-8): kept when valid UTF-8, else windows-1252.
void append_8bit_header_text(std::string_view in, std::string& out);

// Lowercase ASCII copy; other bytes unchanged.
std::string ascii_lower(std::string_view s);

}  // namespace pw::mime::detail
