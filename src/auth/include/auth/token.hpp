// auth/token.hpp — unguessable tokens (sessions, CSRF, self-help links) and how to store and compare them.
//
// Purpose: `random_token` makes a bearer token; the ledger stores only `sha256_hex(token)`, so a copy of
// the database does not log anyone in; a presented token is hashed and looked up, and a token held in
// memory (a CSRF token) is compared with `constant_time_equal`.
// Guarantees: a token is 32 bytes (256 bits) from getrandom(2), base64url without padding: exactly 43
// characters of [A-Za-z0-9_-], safe in a URL path, a cookie value and an HTML attribute without escaping.
// sha256_hex is 64 lowercase hex digits (OpenSSL libcrypto). constant_time_equal takes time depending
// only on the lengths, not on where the inputs differ.
// Thread-safety: all functions may run concurrently.
// Untrusted input: sha256_hex and constant_time_equal take any bytes of any length.
// Failure modes: random_token returns errc::io when the kernel gives no random bytes (never a weaker
// source); sha256_hex throws std::bad_alloc only when libcrypto cannot allocate.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pw::auth {

inline constexpr std::size_t token_chars = 43;  // base64url of 32 bytes, unpadded

result<std::string> random_token();

std::string sha256_hex(std::string_view data);

// Different lengths compare unequal at once: the length of a token is not a secret.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace pw::auth
