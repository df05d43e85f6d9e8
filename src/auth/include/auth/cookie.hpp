// auth/cookie.hpp — the session cookie: finding it in a request's Cookie header and writing Set-Cookie.
//
// Purpose: `find_cookie` reads one named value from a `Cookie:` header value; `session_cookie` and
// `clearing_cookie` write the `Set-Cookie:` header value the desk sends at login and logout.
// Parsing (RFC 6265 section 5.4 shape, lenient): pairs are separated by ';', optional spaces and tabs
// around names and values are ignored, a value in double quotes is returned without them, names match
// exactly (case-sensitive), and the first pair with the name wins (browsers send the most specific path
// first). A pair without '=' is skipped; when the first pair with the name has a control character or a
// stray '"' in its value, the cookie is not found (no later duplicate is taken instead). A header over
// `cookie_limits::max_header_bytes`, or a name beyond `max_pairs`, is not found: nothing is read past
// the limits.
// Formatting: `name=value; Path=/; HttpOnly; SameSite=Strict; Max-Age=N`, plus `; Secure` when the desk is
// served over TLS (a caller that sets secure may name the cookie "__Host-..." for the browser's extra
// checks). Name and value are checked, so a header can never be split or extended by them.
// Guarantees: no allocation while parsing; the returned view points into the header passed in.
// Thread-safety: pure functions. Untrusted input: the Cookie header (any bytes, any length).
// Failure modes: find_cookie answers nullopt for anything malformed; the formatters return
// errc::invalid_input for a name that is not an RFC 9110 token, a value outside RFC 6265 cookie-octets,
// or a non-positive lifetime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pw::auth {

struct cookie_limits {
  std::size_t max_header_bytes = 8192;  // what common servers accept for one header
  std::size_t max_pairs = 64;           // pairs examined before giving up
};

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name,
                                            const cookie_limits& limits = {}) noexcept;

result<std::string> session_cookie(std::string_view name, std::string_view value, std::int64_t max_age_seconds,
                                   bool secure);

// The same cookie with an empty value and Max-Age=0: the browser deletes it.
result<std::string> clearing_cookie(std::string_view name, bool secure);

}  // namespace pw::auth
