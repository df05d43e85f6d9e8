#include "auth/password.hpp"

#include <argon2.h>

#include <array>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "random.hpp"

namespace pw::auth {
namespace {

constexpr std::size_t salt_bytes = 16;  // RFC 9106: 128 bits
constexpr std::size_t tag_bytes = 32;   // RFC 9106: 256 bits
constexpr std::string_view prefix = "$argon2id$";

// Reads "<key>=<decimal>" followed by `end` from the front of `s`.
std::optional<std::uint32_t> take_field(std::string_view& s, std::string_view key, char end) {
  if (s.substr(0, key.size()) != key || s.size() <= key.size() || s[key.size()] != '=') {
    return std::nullopt;
  }
  s.remove_prefix(key.size() + 1);
  std::uint32_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  const std::size_t used = static_cast<std::size_t>(ptr - s.data());
  if (ec != std::errc{} || used == 0 || used == s.size() || s[used] != end) {
    return std::nullopt;
  }
  s.remove_prefix(used + 1);
  return value;
}

// The cost an encoding claims, read before libargon2 allocates it. libargon2 checks the full syntax
// itself; this only has to find m, t and p where libargon2 would.
std::optional<argon2_params> claimed_cost(std::string_view encoded) {
  if (encoded.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  encoded.remove_prefix(prefix.size());
  if (encoded.substr(0, 2) == "v=" && !take_field(encoded, "v", '$')) {
    return std::nullopt;
  }
  argon2_params p;
  const auto m = take_field(encoded, "m", ',');
  const auto t = m ? take_field(encoded, "t", ',') : std::nullopt;
  const auto lanes = t ? take_field(encoded, "p", '$') : std::nullopt;
  if (!lanes) {
    return std::nullopt;
  }
  p.memory_kib = *m;
  p.time_cost = *t;
  p.parallelism = *lanes;
  return p;
}

std::string encode(std::string_view password, const argon2_params& params, const unsigned char* salt, int* status) {
  std::string out(
      argon2_encodedlen(params.time_cost, params.memory_kib, params.parallelism, salt_bytes, tag_bytes, Argon2_id),
      '\0');
  *status = argon2id_hash_encoded(params.time_cost, params.memory_kib, params.parallelism, password.data(),
                                  password.size(), salt, salt_bytes, tag_bytes, out.data(), out.size());
  out.resize(std::strlen(out.c_str()));
  return out;
}

}  // namespace

result<std::string> hash_password(std::string_view password, const argon2_params& params) {
  if (password.size() > max_password_bytes) {
    return make_error(errc::invalid_input, "password longer than " + std::to_string(max_password_bytes) + " bytes");
  }
  std::array<unsigned char, salt_bytes> salt{};
  if (auto filled = fill_random(salt.data(), salt.size()); !filled) {
    return filled.error();
  }
  int status = ARGON2_OK;
  std::string encoded = encode(password, params, salt.data(), &status);
  if (status != ARGON2_OK) {
    return make_error(status == ARGON2_MEMORY_ALLOCATION_ERROR ? errc::io : errc::invalid_input,
                      std::string("argon2id hashing failed: ") + argon2_error_message(status));
  }
  return encoded;
}

bool verify_password(std::string_view password, std::string_view encoded) noexcept {
  if (password.size() > max_password_bytes || encoded.size() > verify_limits::max_encoded_bytes ||
      encoded.find('\0') != std::string_view::npos) {
    return false;
  }
  const auto cost = claimed_cost(encoded);
  if (!cost || cost->time_cost > verify_limits::max_time_cost || cost->memory_kib > verify_limits::max_memory_kib ||
      cost->parallelism > verify_limits::max_parallelism) {
    return false;
  }
  // libargon2 wants a NUL-terminated encoding; a stack copy keeps this function allocation-free.
  std::array<char, verify_limits::max_encoded_bytes + 1> text{};
  std::memcpy(text.data(), encoded.data(), encoded.size());
  return argon2id_verify(text.data(), password.data(), password.size()) == ARGON2_OK;
}

void dummy_verify(std::string_view password, const argon2_params& params) noexcept {
  // One dummy encoding per parameter set (a desk uses one). Its salt is fixed: nobody can log in
  // against it, so it needs no randomness and cannot fail for lack of it.
  static std::mutex mutex;
  static std::vector<std::pair<argon2_params, std::string>> dummies;
  std::string encoded;
  try {
    std::lock_guard lock(mutex);
    for (const auto& [p, e] : dummies) {
      if (p == params) {
        encoded = e;
      }
    }
    if (encoded.empty()) {
      const std::array<unsigned char, salt_bytes> salt{};
      int status = ARGON2_OK;
      encoded = encode("portwarden dummy password", params, salt.data(), &status);
      if (status != ARGON2_OK) {
        return;  // the same parameters make every real hash fail too: no user can exist to be told apart
      }
      dummies.emplace_back(params, encoded);
    }
  } catch (const std::bad_alloc&) {
    return;
  }
  (void)verify_password(password, encoded);
}

}  // namespace pw::auth
