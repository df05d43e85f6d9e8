// auth/password.hpp — password hashing for the abuse desk's users (argon2id, libargon2).
//
// Purpose: the ledger stores only `hash_password`'s output, a self-describing argon2id encoding
// ("$argon2id$v=19$m=19456,t=3,p=1$<salt>$<tag>"), and a login checks a typed password with
// `verify_password`. `dummy_verify` does the same work against a dummy encoding of the same cost, so that a login for
// an unknown user takes as long as one for a known user with a wrong password.
// Guarantees: every hash gets a fresh 16-byte salt from getrandom(2) and a 32-byte tag, so two hashes
// of one password differ. Verification compares in constant time (libargon2) and reads its cost from
// the encoding, so hashes made with older parameters keep verifying after the defaults change.
// Defaults: RFC 9106 section 4's second recommended option (argon2id, t=3, p=4, m=64 MiB, 128-bit salt,
// 256-bit tag), scaled the way section 4's procedure says: keep t=3, fix p, lower m until a hash fits
// the time budget. p=1: the desk's host has 2 cores shared with the milter, and four lanes would queue
// behind each other or take cores from mail. Debian's libargon2 is the portable build (no SIMD), where
// t=3 at 64 MiB took 175 ms and at 32 MiB 83 ms on the 2-core build host; at m=19 MiB (OWASP's floor
// for argon2id memory) a hash takes ~41 ms of CPU, 37-56 ms wall-clock medians on the shared host,
// leaving room for concurrent logins (bench/auth_bench.cpp, BM_hash_password_default).
// Thread-safety: all functions may run concurrently; each call allocates its own m KiB (19 MiB by
// default), so the caller bounds how many logins hash at once.
// Untrusted input: the password (any bytes, at most max_password_bytes) comes from a login form; the
// encoding comes from the ledger but is parsed defensively: a malformed, truncated, empty, non-argon2id
// or over-expensive encoding (cost beyond verify_limits) verifies false and never crashes.
// Failure modes: hash_password returns errc::io when the kernel gives no random bytes, errc::invalid_input
// for a password over the length limit or parameters libargon2 refuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pw::auth {

struct argon2_params {
  std::uint32_t time_cost = 3;       // passes over memory (RFC 9106 option 2: 3)
  std::uint32_t memory_kib = 19456;  // KiB per hash, 19 MiB (RFC 9106 option 2: 64 MiB; see above)
  std::uint32_t parallelism = 1;     // lanes and threads (RFC 9106 option 2: 4; see above)

  friend bool operator==(const argon2_params&, const argon2_params&) = default;
};

// Longer passwords are refused rather than hashed: no person types more, and the limit keeps a login
// form from feeding megabytes into the hash.
inline constexpr std::size_t max_password_bytes = 1024;

// The most expensive encoding verify_password will run: a stored hash claiming more is treated as
// corrupt instead of allocating gigabytes or spinning for minutes. The bounds leave room to raise the
// defaults to RFC 9106's unscaled option 2 and beyond.
struct verify_limits {
  static constexpr std::uint32_t max_time_cost = 16;
  static constexpr std::uint32_t max_memory_kib = 256 * 1024;
  static constexpr std::uint32_t max_parallelism = 16;
  static constexpr std::size_t max_encoded_bytes = 256;
};

result<std::string> hash_password(std::string_view password, const argon2_params& params = {});

bool verify_password(std::string_view password, std::string_view encoded) noexcept;

// Spends the time of a verification against a hash made with `params` and discards the result; call it
// when the user name is unknown. The first call for a parameter set computes that dummy hash (one extra
// hash's time), so the desk calls it once at start-up with its configured parameters.
void dummy_verify(std::string_view password, const argon2_params& params = {}) noexcept;

}  // namespace pw::auth
