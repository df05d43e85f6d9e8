// fuzz/smtp_reply_fuzz.cpp — libFuzzer target for SMTP reply parsing (drive/smtp_reply.hpp).
//
// Replies come from the notice relay and from Postfix over the network. The first input byte picks a
// chunk size, and the rest is fed to one reader in chunks of that size, as reads would deliver it:
// every reply taken has a three-digit code and a bounded text, a buffer left waiting for more never
// holds a whole line, and the same bytes fed at once give the same replies (chunking must not matter).
// Each reply's text also goes through xclient_attributes, whose names are upper case and space-free.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "drive/smtp_reply.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

struct outcome {
  std::vector<pw::drive::smtp_reply> replies;
  bool failed = false;
};

outcome read_all(std::string_view bytes, std::size_t chunk) {
  outcome out;
  pw::drive::smtp_reply_reader reader;
  std::string buffer;
  for (std::size_t at = 0; at < bytes.size() && !out.failed; at += chunk) {
    buffer.append(bytes.substr(at, chunk));
    for (;;) {
      auto taken = reader.take(buffer);
      if (!taken) {
        out.failed = true;
        break;
      }
      if (!*taken) {
        check(buffer.find("\r\n") == std::string::npos);
        break;
      }
      const pw::drive::smtp_reply& r = **taken;
      check(r.code >= 0 && r.code <= 999 && r.text.size() <= pw::drive::max_reply_bytes * 2);
      for (const std::string& name : pw::drive::xclient_attributes(r.text)) {
        check(name.find(' ') == std::string::npos && name.find('\n') == std::string::npos);
        check(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
      }
      out.replies.push_back(std::move(**taken));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t chunk = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const outcome chunked = read_all(bytes, chunk);
  const outcome whole = read_all(bytes, bytes.size() + 1);
  check(chunked.failed == whole.failed);
  check(chunked.replies.size() == whole.replies.size());
  for (std::size_t i = 0; i < whole.replies.size(); ++i) {
    check(chunked.replies[i].code == whole.replies[i].code && chunked.replies[i].text == whole.replies[i].text);
  }
  return 0;
}
