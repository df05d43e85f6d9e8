// fuzz/policy_fuzz.cpp — libFuzzer target for the policy request reader and action encoders.
//
// The first input byte picks a read size and small limits; the rest is what Postfix sends. Checked:
// the same requests (or the same error) come out whatever the read size (differential against one
// whole read); limits hold; every answer built from the request's own values (hostile text in
// REJECT/HOLD/PREPEND) is exactly one `action=` line followed by one empty line.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/policy.hpp"

namespace {

using namespace pw::policy;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_answer(const std::string& out) {
  check(out.size() >= 9 && out.compare(0, 7, "action=") == 0);
  check(out.compare(out.size() - 2, 2, "\n\n") == 0);
  check(std::count(out.begin(), out.end(), '\n') == 2);
  check(out.find('\0') == std::string::npos && out.find('\r') == std::string::npos);
}

std::string drive(std::string_view input, std::size_t chunk, const limits& lim) {
  request_reader reader(lim);
  std::string transcript;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    reader.feed(input.substr(at, chunk));
    for (;;) {
      auto next = reader.next();
      if (!next) {
        return transcript + "E";
      }
      if (!*next) {
        break;
      }
      const request& r = **next;
      check(r.attributes.size() <= lim.max_attributes);
      std::size_t bytes = 0;
      for (const auto& a : r.attributes) {
        check(!a.name.empty() && a.name.find('=') == std::string::npos);
        check(a.name.size() + 1 + a.value.size() <= lim.max_line_bytes);
        bytes += a.name.size() + a.value.size() + 2;
      }
      check(bytes <= lim.max_request_bytes);
      check(r.get("request") == "smtpd_access_policy");

      std::string out;
      append_reject(out, r.sender);
      check_answer(out);
      out.clear();
      append_hold(out, r.recipient);
      check_answer(out);
      out.clear();
      if (append_prepend(out, "X-Portwarden-Level", r.helo_name)) {
        check_answer(out);
      }
      out.clear();
      if (append_tempfail(out, 450, "4.7.1", r.client_name)) {
        check_answer(out);
      }
      transcript += std::to_string(r.attributes.size()) + ":" + r.sender + "|" + r.recipient + "|" + r.instance + ";";
    }
  }
  return transcript + (reader.at_request_boundary() ? "F" : "T");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t chunk = 1 + data[0] % 61;
  limits lim;
  if (data[0] & 0x80) {  // small limits, so every limit path is reached by small inputs
    lim.max_line_bytes = 40;
    lim.max_attributes = 5;
    lim.max_request_bytes = 120;
  }
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  check(drive(input, chunk, lim) == drive(input, input.size() + 1, lim));
  return 0;
}
