// metrics/roc.hpp — ROC analysis of a spam filter's scores, the way the TREC spam track reports it.
//
// Purpose: from one score per message (higher = spammier) compute the ROC curve, its area, the spam
// recall reachable under a ham false-positive budget, and the error rates (hm%, sm%, lam%) at the
// filter's operating threshold. `portwarden eval` prints these; the peer benchmark compares filters
// with them.
//
// Definitions (a message is flagged as spam iff score >= threshold):
//   * ROC curve: one point per distinct score, from "flag nothing" (0,0) to "flag everything" (1,1).
//     Messages with equal scores cannot be separated by any threshold, so a tie group is one step of
//     the curve: a diagonal segment when it holds both spam and ham.
//   * AUC: the Mann-Whitney statistic, P(score(spam) > score(ham)) + 1/2 P(score(spam) == score(ham))
//     over all spam/ham pairs; equal to the trapezoid area under the curve above, tie diagonals
//     included. `one_minus_auc_pct` = (1 - AUC) * 100, TREC's "(1-ROCA)%".
//   * recall at FPR x: the largest spam recall of any threshold whose ham false-positive rate is <= x.
//     Only thresholds between tie groups exist, so a tie group that would cross the budget is left out
//     entirely; the curve is not interpolated. With no ham, no threshold can produce a false positive,
//     so the budget always holds and the answer is 1.
//   * hm = misclassified ham / ham, sm = misclassified spam / spam, reported as percentages.
//   * lam% (logistic average misclassification, TREC 2005-2007 spam track, Cormack & Lynam,
//     "TREC 2005 Spam Track Overview"): lam = logit^-1((logit(hm) + logit(sm)) / 2), logit(p) =
//     ln(p / (1 - p)). So that a filter with no errors still gets a finite score, both rates are
//     smoothed by adding 0.5 to the error count and to the total: hm' = (fp + 0.5) / (n_ham + 0.5),
//     sm' = (fn + 0.5) / (n_spam + 0.5). This is "the exact formula used for the competition" in the
//     CEAS 2007 spam challenge rules (organised by the TREC spam track's coordinator, G. Cormack), as
//     quoted in https://www.mail-archive.com/dev@spamassassin.apache.org/msg21645.html (SpamAssassin
//     bug 5376). hm% and sm% themselves are reported unsmoothed. A class misclassified entirely gives
//     logit(1) = +inf and lam% = 100.
//
// Guarantees: `build_roc` is O(n log n) in the number of scores; every query on a built curve is
// O(log n) or O(points). AUC is computed from exact integer counts. Quantities that are undefined
// because a class is empty are NaN, never a guess; `summarize` refuses such input with an error.
//
// Ownership: a roc_curve is a value holding only counts and thresholds (no message ids).
// Thread-safety: a built roc_curve is immutable; concurrent reads are safe.
// Untrusted input: scores come from score files of other tools; `build_roc` rejects non-finite
// scores (they break the ordering every other definition relies on).
// Failure modes: `errc::invalid_input` for a non-finite score or a run lacking spam or ham,
// `errc::invalid_config` for a non-finite threshold. Counts are 64-bit; AUC's exact numerator
// (2 * n_spam * n_ham) fits for any input that fits in memory.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.hpp"
#include "metrics/scores.hpp"

namespace pw::metrics {

// A threshold and what it flags: every message with score >= threshold.
struct roc_point {
  double threshold;            // +infinity for the first point, which flags nothing
  std::uint64_t spam_flagged;  // true positives
  std::uint64_t ham_flagged;   // false positives
};

class roc_curve {
 public:
  // Points in order of decreasing threshold, so both counts are non-decreasing. The first point
  // flags nothing; each further point adds one tie group; the last flags everything.
  [[nodiscard]] const std::vector<roc_point>& points() const noexcept { return _points; }
  [[nodiscard]] std::uint64_t n_spam() const noexcept { return _n_spam; }
  [[nodiscard]] std::uint64_t n_ham() const noexcept { return _n_ham; }

  // Spam recall (true-positive rate) and ham false-positive rate of a point; NaN for an empty class.
  [[nodiscard]] double tpr(const roc_point& p) const noexcept;
  [[nodiscard]] double fpr(const roc_point& p) const noexcept;

 private:
  friend result<roc_curve> build_roc(const std::vector<scored>& records);

  std::vector<roc_point> _points;
  std::uint64_t _n_spam = 0;
  std::uint64_t _n_ham = 0;
};

// Fails with invalid_input naming the first record whose score is not finite.
[[nodiscard]] result<roc_curve> build_roc(const std::vector<scored>& records);

// Mann-Whitney AUC in [0, 1]; NaN unless both classes are present.
[[nodiscard]] double auc(const roc_curve& curve) noexcept;

// The best operating point within a false-positive budget (see "recall at FPR x" above).
struct operating_point {
  double threshold;  // flag score >= threshold; +infinity when only "flag nothing" fits
  double recall;     // spam recall; NaN when there is no spam
  double fpr;        // ham false-positive rate actually reached; NaN when there is no ham
};

// `max_fpr` is a fraction (0.001 = 0.1 %), clamped to [0, 1]. A budget of x allows floor(x * n_ham)
// false positives; a relative tolerance of 1e-12 keeps decimal budgets such as 0.001 * 1000 from
// rounding down to one fewer.
[[nodiscard]] operating_point point_at_fpr(const roc_curve& curve, double max_fpr) noexcept;
[[nodiscard]] double recall_at_fpr(const roc_curve& curve, double max_fpr) noexcept;

// Outcome counts when flagging score >= threshold. A NaN threshold flags nothing (no score is >= NaN).
struct confusion {
  std::uint64_t spam_flagged;  // true positives
  std::uint64_t spam_missed;   // false negatives
  std::uint64_t ham_flagged;   // false positives
  std::uint64_t ham_passed;    // true negatives
};

[[nodiscard]] confusion confusion_at(const roc_curve& curve, double threshold) noexcept;

// Percentages as TREC prints them; NaN when the class they divide by is empty.
[[nodiscard]] double hm_pct(const confusion& c) noexcept;
[[nodiscard]] double sm_pct(const confusion& c) noexcept;
[[nodiscard]] double lam_pct(const confusion& c) noexcept;

struct summary {
  std::uint64_t n_spam;
  std::uint64_t n_ham;
  double auc;
  double one_minus_auc_pct;
  double recall_at_0_1pct_fpr;  // fractions in [0, 1], at ham FPR <= 0.1 %, 0.5 %, 1 %
  double recall_at_0_5pct_fpr;
  double recall_at_1pct_fpr;
  double threshold;  // the operating threshold the rest is measured at
  confusion at_threshold;
  double hm_pct;
  double sm_pct;
  double lam_pct;
};

// O(points) on a built curve (the AUC sum). Fails unless both spam and ham are present and the threshold is
// finite.
[[nodiscard]] result<summary> summarize(const roc_curve& curve, double threshold);
// O(n log n): builds the curve, then summarizes it.
[[nodiscard]] result<summary> summarize(const std::vector<scored>& records, double threshold);

}  // namespace pw::metrics
