// fuzz/maillog_fuzz.cpp — libFuzzer target for the delivery-log reader (ingest/maillog.hpp).
//
// The first input byte picks a read size and a line bound; the rest is log text. Checked: the same
// lines come out whatever the read size (differential against one whole feed); no line is longer
// than the bound; buffered bytes stay within it; every delivery line's queue id is 6–32 letters and
// digits and lies inside its line, and nothing returned contains an '@' (no address leaves).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingest/maillog.hpp"

namespace {

using namespace pw::ingest;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

std::string drive(std::string_view input, std::size_t chunk, std::size_t bound) {
  line_splitter split(bound);
  std::string transcript;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    split.feed(input.substr(at, chunk));
    check(split.pending_bytes() <= bound + chunk);
    while (const auto line = split.next()) {
      check(line->size() <= bound);
      transcript.append(*line).push_back('\n');
      if (const auto d = parse_delivery_line(*line)) {
        check(d->queue_id.size() >= 6 && d->queue_id.size() <= 32);
        check(d->queue_id.data() >= line->data() &&
              d->queue_id.data() + d->queue_id.size() <= line->data() + line->size());
        check(d->queue_id.find('@') == std::string_view::npos && d->service.find('@') == std::string_view::npos);
        transcript.append(status_name(d->status)).push_back(is_hard_bounce(*d) ? 'H' : '-');
      }
    }
  }
  return transcript + std::to_string(split.dropped_lines());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 17;
  const std::size_t bound = 16 + (data[0] >> 4) * 64;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string whole = drive(input, input.size() + 1, bound);
  check(drive(input, chunk, bound) == whole);
  return 0;
}
