// fuzz/cookie_fuzz.cpp — libFuzzer target for the Cookie header parser.
//
// The Cookie header comes straight from the network. The first input byte picks a name length, the
// name is taken from the input (so names that occur in it get matched), and the rest is the header. A
// found value must be a sub-range of the header, free of control characters, and nothing is found in a
// header over the limit. The header is also searched for the desk's session name, and a found value is
// written back with session_cookie: it is accepted exactly when it is made of cookie-octets, and the
// written header reads back the same value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/cookie.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_found(std::string_view header, std::string_view name, const pw::auth::cookie_limits& limits) {
  const auto value = pw::auth::find_cookie(header, name, limits);
  if (!value) {
    return;
  }
  check(header.size() <= limits.max_header_bytes && !name.empty());
  check(value->data() >= header.data() && value->data() + value->size() <= header.data() + header.size());
  for (const char c : *value) {
    const auto u = static_cast<unsigned char>(c);
    check(u >= 0x20 && u != 0x7f && c != '"');
  }
  const auto set = pw::auth::session_cookie("pw_session", *value, 60, true);
  if (set) {
    const std::string_view pair = std::string_view(*set).substr(0, set->find(';'));
    const auto back = pw::auth::find_cookie(pair, "pw_session");
    check(back && *back == *value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) {
    check(!pw::auth::find_cookie(input, "pw_session"));
    return 0;
  }
  const std::size_t name_size = std::min<std::size_t>(static_cast<unsigned char>(input[0]) % 16, input.size() - 1);
  const std::string_view name = input.substr(1, name_size);
  const std::string_view header = input.substr(1 + name_size);
  check_found(header, name, {});
  check_found(header, name, {.max_header_bytes = 64, .max_pairs = 4});
  check_found(input, "pw_session", {});
  return 0;
}
