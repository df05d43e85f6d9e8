// fuzz/scores_fuzz.cpp — libFuzzer target for the scores-file reader and everything downstream of it.
//
// Scores files come from other tools (the peer filters' runs), so the reader is a parser of untrusted
// text. Each input is read; when it is accepted, the ROC curve, the summary at a threshold and the
// SVG plot are computed from it, and the written form must read back to the same records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "metrics/roc.hpp"
#include "metrics/scores.hpp"
#include "metrics/svg.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto records = pw::metrics::read_scores_tsv(in);
  if (!records) {
    return 0;
  }
  std::ostringstream out;
  if (!pw::metrics::write_scores_tsv(out, *records)) {
    std::abort();
  }
  std::istringstream again(out.str());
  auto reread = pw::metrics::read_scores_tsv(again);
  if (!reread || reread->size() != records->size()) {
    std::abort();
  }
  for (std::size_t i = 0; i < records->size(); ++i) {
    const auto& a = (*records)[i];
    const auto& b = (*reread)[i];
    if (a.id != b.id || a.is_spam != b.is_spam || a.score != b.score) {
      std::abort();
    }
  }
  auto curve = pw::metrics::build_roc(*records);
  if (!curve) {
    return 0;
  }
  (void)pw::metrics::summarize(*curve, 0.5);
  std::vector<pw::metrics::named_curve> curves{{"fuzz", std::move(*curve)}};
  const std::string svg = pw::metrics::render_roc_svg(curves, pw::metrics::svg_options{});
  if (svg.rfind("<svg", 0) != 0) {
    std::abort();
  }
  return 0;
}
