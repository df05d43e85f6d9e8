#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack for the long-input path
#include <xxhash.h>

#include <string>

#include "behavior/engine.hpp"

namespace pw::behavior {
namespace {

template <std::size_t N>
void derive(std::array<std::byte, N>& secret, std::string_view key, std::string_view label) {
  std::string seed;
  seed.reserve(label.size() + 1 + key.size());
  seed.append(label).push_back('\0');
  seed.append(key);
  XXH3_generateSecret(secret.data(), secret.size(), seed.data(), seed.size());
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

recipient_hasher::recipient_hasher(std::string_view deployment_secret) {
  static_assert(secret_bytes >= XXH3_SECRET_SIZE_MIN);
  derive(_recipient_secret, deployment_secret, "portwarden recipient");
  derive(_domain_secret, deployment_secret, "portwarden domain");
  derive(_sender_secret, deployment_secret, "portwarden sender");
  derive(_helo_secret, deployment_secret, "portwarden helo");
}

std::uint64_t recipient_hasher::hash(const std::array<std::byte, secret_bytes>& secret,
                                     std::string_view text) const noexcept {
  char buf[256];
  if (text.size() <= sizeof buf) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      buf[i] = lower(text[i]);
    }
    return XXH3_64bits_withSecret(buf, text.size(), secret.data(), secret.size());
  }
  // Longer than any real address: lower-case and hash in chunks (same value as the one-shot form).
  XXH3_state_t state;
  XXH3_64bits_reset_withSecret(&state, secret.data(), secret.size());
  for (std::size_t pos = 0; pos < text.size(); pos += sizeof buf) {
    const std::size_t n = std::min(sizeof buf, text.size() - pos);
    for (std::size_t i = 0; i < n; ++i) {
      buf[i] = lower(text[pos + i]);
    }
    XXH3_64bits_update(&state, buf, n);
  }
  return XXH3_64bits_digest(&state);
}

std::uint64_t recipient_hasher::recipient(std::string_view address) const noexcept {
  return hash(_recipient_secret, address);
}

std::uint64_t recipient_hasher::domain(std::string_view address) const noexcept {
  const std::size_t at = address.rfind('@');
  return hash(_domain_secret, at == std::string_view::npos ? address : address.substr(at + 1));
}

std::uint64_t recipient_hasher::sender(std::string_view envelope_sender) const noexcept {
  return hash(_sender_secret, envelope_sender);
}

std::uint64_t recipient_hasher::helo(std::string_view helo_name) const noexcept {
  return hash(_helo_secret, helo_name);
}

}  // namespace pw::behavior
