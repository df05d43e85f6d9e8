#include "transfer.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace pw::mime::detail {
namespace {

constexpr std::uint8_t b64_whitespace = 0xFE;
constexpr std::uint8_t b64_invalid = 0xFF;
constexpr std::uint8_t b64_pad = 0xFD;

constexpr std::array<std::uint8_t, 256> make_base64_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) {
    v = b64_invalid;
  }
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  t[' '] = t['\t'] = t['\r'] = t['\n'] = t['\f'] = t['\v'] = b64_whitespace;
  t['='] = b64_pad;
  return t;
}
constexpr auto base64_table = make_base64_table();

}  // namespace

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;  // lowercase is not RFC 2045 but common and unambiguous
  }
  return -1;
}

void append_base64_decoded(std::string_view in, std::string& out, anomaly& found) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  const std::size_t base = out.size();
  out.resize(base + n / 4 * 3 + 3);
  auto* o = reinterpret_cast<unsigned char*>(out.data() + base);
  std::size_t w = 0;
  std::uint32_t acc = 0;
  int have = 0;  // sextets in acc
  bool invalid = false;
  std::size_t i = 0;
  while (i < n) {
    // Fast path: four alphabet characters at once, the bulk of every base64 line.
    if (have == 0) {
      while (i + 4 <= n) {
        const std::uint32_t a = base64_table[p[i]];
        const std::uint32_t b = base64_table[p[i + 1]];
        const std::uint32_t c = base64_table[p[i + 2]];
        const std::uint32_t d = base64_table[p[i + 3]];
        if ((a | b | c | d) >= 64) {
          break;
        }
        const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
        o[w] = static_cast<unsigned char>(v >> 16);
        o[w + 1] = static_cast<unsigned char>(v >> 8);
        o[w + 2] = static_cast<unsigned char>(v);
        w += 3;
        i += 4;
      }
      if (i >= n) {
        break;
      }
    }
    const std::uint8_t v = base64_table[p[i]];
    ++i;
    if (v < 64) {
      acc = (acc << 6) | v;
      if (++have == 4) {
        o[w] = static_cast<unsigned char>(acc >> 16);
        o[w + 1] = static_cast<unsigned char>(acc >> 8);
        o[w + 2] = static_cast<unsigned char>(acc);
        w += 3;
        have = 0;
        acc = 0;
      }
    } else if (v == b64_pad) {
      // Padding ends a quantum; flush what it completes. Senders sometimes concatenate several
      // padded blocks, so decoding resumes after it.
      if (have == 2) {
        o[w++] = static_cast<unsigned char>(acc >> 4);
      } else if (have == 3) {
        o[w++] = static_cast<unsigned char>(acc >> 10);
        o[w++] = static_cast<unsigned char>(acc >> 2);
      } else if (have == 1) {
        invalid = true;
      }
      have = 0;
      acc = 0;
    } else if (v == b64_invalid) {
      invalid = true;
    }
  }
  if (have == 1) {
    invalid = true;  // six bits cannot make a byte
  } else if (have == 2) {
    o[w++] = static_cast<unsigned char>(acc >> 4);  // missing padding is harmless
  } else if (have == 3) {
    o[w++] = static_cast<unsigned char>(acc >> 10);
    o[w++] = static_cast<unsigned char>(acc >> 2);
  }
  out.resize(base + w);
  if (invalid) {
    found |= anomaly::invalid_base64;
  }
}

void append_qp_decoded(std::string_view in, std::string& out, anomaly& found) {
  out.reserve(out.size() + in.size());
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n) {
    const void* eq = std::memchr(in.data() + i, '=', n - i);
    if (eq == nullptr) {
      out.append(in.data() + i, n - i);
      break;
    }
    const std::size_t e = static_cast<std::size_t>(static_cast<const char*>(eq) - in.data());
    out.append(in.data() + i, e - i);
    if (e + 2 < n && hex_value(in[e + 1]) >= 0 && hex_value(in[e + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[e + 1]) * 16 + hex_value(in[e + 2])));
      i = e + 3;
      continue;
    }
    // A soft line break: '=' then optional transport whitespace then the line end (or the end).
    std::size_t j = e + 1;
    while (j < n && (in[j] == ' ' || in[j] == '\t')) {
      ++j;
    }
    if (j == n) {
      i = n;
    } else if (in[j] == '\n') {
      i = j + 1;
    } else if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n') {
      i = j + 2;
    } else {
      found |= anomaly::invalid_quoted_printable;
      out.push_back('=');
      i = e + 1;
    }
  }
}

}  // namespace pw::mime::detail
