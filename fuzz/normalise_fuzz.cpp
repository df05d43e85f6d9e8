// libFuzzer target: the fingerprint normaliser and signature over arbitrary text (the first line is
// taken as a recipient address, so personalisation runs on hostile input too).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fingerprint/fingerprint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto f = pw::fingerprint::fingerprinter::create("fuzz secret");
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  const std::string_view rcpt = in.substr(0, nl == std::string_view::npos ? 0 : nl);
  const std::string_view envelope[] = {rcpt};
  pw::mime::message msg;
  msg.text = std::string(in);
  const auto p = pw::fingerprint::collect_personalisation(msg, envelope);
  (void)f->normalise(in, p);
  (void)f->compute(msg, envelope);
  return 0;
}
