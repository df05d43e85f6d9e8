// fuzz/identity_fuzz.cpp — libFuzzer target for the subscriber-file parser and the address lookup.
//
// The subscriber file is operator-written but parsed as untrusted text, and client addresses come from
// the SMTP peer. Each input is parsed as a file; an error must name `origin:line:`; an accepted file
// must answer lookups of every address-looking field and of the raw input without crashing, and every
// found subscriber must be one of the file's ids with a non-empty plan. The raw input is also resolved
// as a login and as a client address, and a resolved id must be printable and bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "identity/directory.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_resolution(const pw::identity::resolution& r) {
  check(!r.who.id.empty() && !r.who.plan.empty());
  check(r.failure.has_value() == (r.source == pw::identity::subscriber_source::lookup_failed));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pw::identity::directory_limits limits;
  limits.max_entries = 1000;
  auto parsed = pw::identity::cidr_directory::parse(text, "fuzz", limits);
  if (!parsed) {
    check(parsed.error().code == pw::errc::invalid_input);
    check(parsed.error().message.rfind("fuzz:", 0) == 0);
    return 0;
  }
  const pw::identity::cidr_directory& dir = *parsed;
  check(dir.size() <= limits.max_entries);
  // Look up the first field of each line (and its address part), as logins and as addresses.
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view line = text.substr(pos, end - pos);
    const std::string_view key = line.substr(0, line.find('\t'));
    for (const std::string_view probe : {key, key.substr(0, key.find('/'))}) {
      const auto by_addr = dir.by_address(probe);
      if (by_addr.found()) {
        check(!by_addr->id.empty() && !by_addr->plan.empty());
      }
      const auto by_login = dir.by_login(probe);
      if (by_login.found()) {
        check(!by_login->id.empty() && !by_login->plan.empty());
      }
    }
    pos = end + 1;
  }
  check_resolution(pw::identity::resolve(dir, "", text, "residential"));
  check_resolution(pw::identity::resolve(dir, text.substr(0, 64), text, "residential"));
  const auto r = pw::identity::resolve(dir, "", text, "residential");
  if (r.source != pw::identity::subscriber_source::address) {
    check(r.who.id.size() <= 3 + 64);
    for (const char c : r.who.id) {
      check(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f);
    }
  }
  return 0;
}
