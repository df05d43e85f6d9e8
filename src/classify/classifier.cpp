// classify/classifier.cpp — see classifier.hpp for the contract.
#include "classify/classifier.hpp"

#include <algorithm>
#include <cmath>

namespace pw::classify {

classifier::classifier(const model& m, mime::limits limits)
    : _model(m), _limits(limits), _extractor(m.options()) {}

verdict classifier::score(const mime::message& parsed) {
  const weight_sum sum = _extractor.sum_weights(parsed, _model.weights());
  verdict v;
  v.margin = _model.margin(sum);
  v.log_odds = _model.log_odds(v.margin);
  v.probability = _model.probability(v.margin);
  v.features = sum.count;
  v.anomalies = parsed.anomalies;
  return v;
}

verdict classifier::score(std::string_view raw_message) {
  mime::parse_into(_parsed, raw_message, _limits);
  return score(_parsed);
}

std::vector<contribution> classifier::explain(std::string_view raw_message, std::size_t top, bool spam_verdict) {
  mime::parse_into(_parsed, raw_message, _limits);
  const std::vector<named_feature> named = _extractor.extract_named(_parsed);
  const float inv = inverse_norm(named.size());
  const auto weights = _model.weights();

  // The bag holds each feature once, so each contributes its weight over the bag's norm.
  std::vector<contribution> out;
  out.reserve(named.size());
  for (const auto& f : named) {
    out.push_back(contribution{f.kind, f.name, static_cast<double>(weights[f.id]) * inv});
  }
  const std::size_t keep = std::min(top, out.size());
  // Strongest support for the verdict first: a person asking "why spam?" wants the spam evidence.
  const double direction = spam_verdict ? 1.0 : -1.0;
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    [direction](const contribution& a, const contribution& b) {
                      return a.margin_share * direction > b.margin_share * direction;
                    });
  out.resize(keep);
  return out;
}

}  // namespace pw::classify
