// fuzz/mime_fuzz.cpp — libFuzzer target for pw::mime::parse and decode_body.
//
// Each input is parsed twice: with tiny limits (so every limit path — depth, parts, headers, text,
// URLs, message size — is reached by small inputs) and with the defaults. Every output field is read
// and checked against the contract (limits respected, text valid UTF-8, parents precede children),
// so a violation aborts instead of passing silently; decode_body runs on every part.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mime/message.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        return false;
      }
    }
    i += len;
  }
  return true;
}

std::size_t touch(std::string_view s) {
  std::size_t sum = s.size();
  for (const char c : s) {
    sum += static_cast<unsigned char>(c);
  }
  return sum;
}

void exercise(std::string_view raw, const pw::mime::limits& lim) {
  const pw::mime::message m = pw::mime::parse(raw, lim);
  std::size_t sink = 0;
  check(!m.parts.empty());
  check(m.parts.size() <= std::max<std::size_t>(lim.max_parts, 1));
  check(m.text.size() <= lim.max_text_bytes);
  check(valid_utf8(m.text));
  check(valid_utf8(m.subject));
  check(m.urls.size() <= lim.max_urls);
  check(m.headers.size() <= lim.max_headers);
  check(m.html_parts <= m.parts.size());
  for (const auto& h : m.headers) {
    sink += touch(h.name) + touch(h.value);
    check(h.value.size() <= lim.max_header_value_bytes);
    check(valid_utf8(h.value));
  }
  for (std::size_t i = 0; i < m.parts.size(); ++i) {
    const auto& p = m.parts[i];
    check(i == 0 ? p.parent == static_cast<std::size_t>(-1) : p.parent < i);
    check(i == 0 || p.depth == m.parts[p.parent].depth + 1);
    check(p.depth <= lim.max_depth);
    sink += touch(p.content_type) + touch(p.charset) + touch(p.filename) + touch(p.encoded_body);
    check(valid_utf8(p.content_type) && valid_utf8(p.charset) && valid_utf8(p.filename));
    check(p.filename.size() <= lim.max_header_value_bytes);
    sink += static_cast<std::size_t>(p.encoding) + (p.is_attachment ? 1 : 0);
    check(p.encoded_body.empty() ||
          (p.encoded_body.data() >= raw.data() && p.encoded_body.data() + p.encoded_body.size() <= raw.data() + raw.size()));
    for (const auto& h : p.headers) {
      sink += touch(h.name) + touch(h.value);
    }
    pw::mime::anomaly found = pw::mime::anomaly::none;
    sink += touch(pw::mime::decode_body(p, found));
    sink += static_cast<std::uint32_t>(found);
  }
  for (const auto& u : m.urls) {
    check(!u.host.empty());
    check(valid_utf8(u.text));
    sink += touch(u.text) + touch(u.host);
  }
  if (const auto* h = m.find("from")) {
    sink += h->value.size();
  }
  for (std::uint32_t bit = 0; bit < pw::mime::anomaly_count; ++bit) {
    const auto flag = static_cast<pw::mime::anomaly>(1u << bit);
    if (pw::mime::has(m.anomalies, flag)) {
      sink += pw::mime::anomaly_name(flag).size();
    }
  }
  // Keeps the reads above from being optimised away.
  volatile std::size_t keep = sink;
  (void)keep;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  pw::mime::limits tiny;
  tiny.max_message_bytes = 64u << 10;
  tiny.max_header_bytes = 512;
  tiny.max_header_value_bytes = 64;
  tiny.max_headers = 8;
  tiny.max_depth = 3;
  tiny.max_parts = 6;
  tiny.max_text_bytes = 256;
  tiny.max_urls = 3;
  exercise(raw, tiny);
  exercise(raw, pw::mime::limits{});
  return 0;
}
