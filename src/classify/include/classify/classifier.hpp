// classify/classifier.hpp — scoring a raw message: parse, extract features, score, explain.
//
// Purpose: the one entry point the rest of Portwarden uses for content scoring. It ties the MIME
// parser, the feature extractor and a model together and returns a calibrated spam probability,
// and on request the features that contributed most to it.
//
// Guarantees: never fails on any input bytes (the parser is best-effort); memory per call is bounded
// by the parser limits and feature options. The default verdict threshold is 0.5 on the calibrated
// probability.
//
// Ownership: a classifier borrows its model (which must outlive it) and owns scratch buffers, among
// them the last parsed message (reused by the next call, freed with the classifier).
// Thread-safety: one classifier per thread; many classifiers may share one const model.
// Privacy: `explain` returns readable feature names derived from the content, for the command line
// (`portwarden check`) only; the relay logs probabilities and counts, never these names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "classify/features.hpp"
#include "classify/model.hpp"
#include "mime/message.hpp"

namespace pw::classify {

inline constexpr double default_threshold = 0.5;

struct verdict {
  double probability = 0;  // calibrated P(spam)
  double log_odds = 0;     // calibrated ln(P / (1 - P)); what ROC analysis ranks by
  float margin = 0;        // uncalibrated score
  std::size_t features = 0;
  mime::anomaly anomalies = mime::anomaly::none;
};

struct contribution {
  feature_kind kind;
  std::string name;
  double margin_share = 0;  // this feature's part of the margin (positive = towards spam)
};

class classifier {
 public:
  explicit classifier(const model& m, mime::limits limits = {});

  verdict score(std::string_view raw_message);
  verdict score(const mime::message& parsed);
  // The `top` features that pushed the score hardest towards the verdict (towards spam when
  // `spam_verdict`, else towards ham), strongest first.
  std::vector<contribution> explain(std::string_view raw_message, std::size_t top, bool spam_verdict);

 private:
  const model& _model;
  mime::limits _limits;
  feature_extractor _extractor;
  mime::message _parsed;  // scratch: reused by every parse, so its buffers are allocated once
};

}  // namespace pw::classify
