#include "auth/token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <new>

#include "random.hpp"

namespace pw::auth {

result<std::string> random_token() {
  std::array<unsigned char, 32> bytes{};
  if (auto filled = fill_random(bytes.data(), bytes.size()); !filled) {
    return filled.error();
  }
  // libcrypto writes standard padded base64 (4 * ceil(32 / 3) = 44 characters and a NUL); base64url is
  // the same with two letters swapped and the padding dropped.
  std::array<unsigned char, 4 * ((bytes.size() + 2) / 3) + 1> text{};
  const int n = EVP_EncodeBlock(text.data(), bytes.data(), static_cast<int>(bytes.size()));
  std::string token(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(n));
  token.resize(token_chars);  // drops the single '='
  for (char& c : token) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  return token;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::bad_alloc();  // SHA-256 of a buffer fails only when libcrypto cannot allocate its context
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xf]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace pw::auth
