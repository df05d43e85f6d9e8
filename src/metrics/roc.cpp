#include "metrics/roc.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace pw::metrics {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

double ratio_or_nan(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) {
    return nan;
  }
  return static_cast<double>(part) / static_cast<double>(whole);
}

// ln(p / (1 - p)) for the smoothed rate p = (errors + 0.5) / (total + 0.5), written as a difference of
// logs: 1 - p = (total - errors) / (total + 0.5), so no division, and total == errors gives +inf.
double smoothed_logit(std::uint64_t errors, std::uint64_t total) {
  return std::log(static_cast<double>(errors) + 0.5) - std::log(static_cast<double>(total - errors));
}

}  // namespace

double roc_curve::tpr(const roc_point& p) const noexcept {
  return ratio_or_nan(p.spam_flagged, _n_spam);
}

double roc_curve::fpr(const roc_point& p) const noexcept {
  return ratio_or_nan(p.ham_flagged, _n_ham);
}

result<roc_curve> build_roc(const std::vector<scored>& records) {
  roc_curve curve;
  for (const scored& r : records) {
    if (!std::isfinite(r.score)) {
      return make_error(errc::invalid_input, "score of " + r.id + " is not a finite number");
    }
  }
  // Sort (score, label) pairs rather than records: half the memory traffic and no string moves.
  std::vector<std::pair<double, bool>> by_score;
  by_score.reserve(records.size());
  for (const scored& r : records) {
    by_score.emplace_back(r.score, r.is_spam);
  }
  std::sort(by_score.begin(), by_score.end(), [](const auto& a, const auto& b) { return a.first > b.first; });

  curve._points.push_back(roc_point{inf, 0, 0});
  std::uint64_t spam = 0;
  std::uint64_t ham = 0;
  for (std::size_t i = 0; i < by_score.size();) {
    const double group_score = by_score[i].first;
    // A whole tie group moves together: no threshold flags part of it.
    for (; i < by_score.size() && by_score[i].first == group_score; ++i) {
      if (by_score[i].second) {
        ++spam;
      } else {
        ++ham;
      }
    }
    curve._points.push_back(roc_point{group_score, spam, ham});
  }
  curve._n_spam = spam;
  curve._n_ham = ham;
  return curve;
}

double auc(const roc_curve& curve) noexcept {
  if (curve.n_spam() == 0 || curve.n_ham() == 0) {
    return nan;
  }
  // Twice the trapezoid area in count units: each step adds its ham count times the spam flagged
  // before plus after it. A tie group's diagonal thus counts its spam/ham pairs as 1/2, which is
  // exactly the Mann-Whitney convention. Integers keep it exact.
  std::uint64_t twice_area = 0;
  const auto& pts = curve.points();
  for (std::size_t i = 1; i < pts.size(); ++i) {
    const std::uint64_t ham_step = pts[i].ham_flagged - pts[i - 1].ham_flagged;
    twice_area += ham_step * (pts[i - 1].spam_flagged + pts[i].spam_flagged);
  }
  return static_cast<double>(twice_area) /
         (2.0 * static_cast<double>(curve.n_spam()) * static_cast<double>(curve.n_ham()));
}

operating_point point_at_fpr(const roc_curve& curve, double max_fpr) noexcept {
  const double budget = std::clamp(std::isnan(max_fpr) ? 0.0 : max_fpr, 0.0, 1.0);
  const auto allowed_ham =
      static_cast<std::uint64_t>(std::floor(budget * static_cast<double>(curve.n_ham()) * (1.0 + 1e-12)));
  const auto& pts = curve.points();
  // ham_flagged is non-decreasing along the curve, and the first point (nothing flagged) always fits.
  const auto fits = std::partition_point(pts.begin(), pts.end(),
                                         [&](const roc_point& p) { return p.ham_flagged <= allowed_ham; });
  const roc_point& best = *(fits - 1);
  return operating_point{best.threshold, curve.tpr(best), curve.fpr(best)};
}

double recall_at_fpr(const roc_curve& curve, double max_fpr) noexcept {
  return point_at_fpr(curve, max_fpr).recall;
}

confusion confusion_at(const roc_curve& curve, double threshold) noexcept {
  const auto& pts = curve.points();
  // Thresholds decrease along the curve; the last point whose threshold is still >= the requested
  // one flags exactly the messages with score >= threshold. No point qualifies only for NaN.
  const auto past = std::partition_point(pts.begin(), pts.end(),
                                         [&](const roc_point& p) { return p.threshold >= threshold; });
  const roc_point& p = past == pts.begin() ? pts.front() : *(past - 1);
  return confusion{p.spam_flagged, curve.n_spam() - p.spam_flagged, p.ham_flagged,
                   curve.n_ham() - p.ham_flagged};
}

double hm_pct(const confusion& c) noexcept {
  return 100.0 * ratio_or_nan(c.ham_flagged, c.ham_flagged + c.ham_passed);
}

double sm_pct(const confusion& c) noexcept {
  return 100.0 * ratio_or_nan(c.spam_missed, c.spam_flagged + c.spam_missed);
}

double lam_pct(const confusion& c) noexcept {
  const std::uint64_t n_ham = c.ham_flagged + c.ham_passed;
  const std::uint64_t n_spam = c.spam_flagged + c.spam_missed;
  if (n_ham == 0 || n_spam == 0) {
    return nan;
  }
  const double mean_logit =
      (smoothed_logit(c.ham_flagged, n_ham) + smoothed_logit(c.spam_missed, n_spam)) / 2.0;
  // Both logits are > -inf (errors + 0.5 > 0), so the mean is finite or +inf; exp(-inf) is 0.
  return 100.0 / (1.0 + std::exp(-mean_logit));
}

result<summary> summarize(const roc_curve& curve, double threshold) {
  if (curve.n_spam() == 0 || curve.n_ham() == 0) {
    return make_error(errc::invalid_input, "the scores hold " + std::to_string(curve.n_spam()) +
                                               " spam and " + std::to_string(curve.n_ham()) +
                                               " ham; ROC metrics need both");
  }
  if (!std::isfinite(threshold)) {
    return make_error(errc::invalid_config, "the operating threshold must be a finite number");
  }
  const double area = auc(curve);
  const confusion at = confusion_at(curve, threshold);
  return summary{
      curve.n_spam(),
      curve.n_ham(),
      area,
      (1.0 - area) * 100.0,
      recall_at_fpr(curve, 0.001),
      recall_at_fpr(curve, 0.005),
      recall_at_fpr(curve, 0.01),
      threshold,
      at,
      hm_pct(at),
      sm_pct(at),
      lam_pct(at),
  };
}

result<summary> summarize(const std::vector<scored>& records, double threshold) {
  auto curve = build_roc(records);
  if (!curve) {
    return curve.error();
  }
  return summarize(*curve, threshold);
}

}  // namespace pw::metrics
