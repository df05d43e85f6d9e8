// Tests for src/metrics: ROC, AUC, recall under an FPR budget, lam%, the scores file and the SVG chart.
// Expected values are computed by hand in the comments, not by re-running the code under test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/roc.hpp"
#include "metrics/scores.hpp"
#include "metrics/svg.hpp"

namespace pw::metrics {
namespace {

scored spam(double score) {
  return scored{"", true, score};
}
scored ham(double score) {
  return scored{"", false, score};
}

roc_curve curve_of(const std::vector<scored>& records) {
  auto curve = build_roc(records);
  EXPECT_TRUE(curve.has_value());
  return std::move(curve).value();
}

// spam 0.9, 0.7, 0.7, 0.3; ham 0.8, 0.7, 0.2. Of the 12 spam/ham pairs the spam scores higher in
// 3 (0.9) + 1 (each 0.7 over 0.2, twice) + 1 (0.3 over 0.2) = 6, and ties in 2 (0.7 = 0.7, twice):
// AUC = (6 + 2/2) / 12 = 7/12.
std::vector<scored> mixed_with_ties() {
  return {spam(0.9), spam(0.7), spam(0.7), spam(0.3), ham(0.8), ham(0.7), ham(0.2)};
}

TEST(Roc, PerfectSeparationHasAucOne) {
  const roc_curve c = curve_of({spam(3), spam(2), ham(1), ham(0)});
  EXPECT_DOUBLE_EQ(auc(c), 1.0);
  EXPECT_DOUBLE_EQ(recall_at_fpr(c, 0.0), 1.0);
}

TEST(Roc, InvertedScoresHaveAucZero) {
  const roc_curve c = curve_of({spam(0), spam(1), ham(2), ham(3)});
  EXPECT_DOUBLE_EQ(auc(c), 0.0);
  const auto s = summarize(c, 1.5);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->one_minus_auc_pct, 100.0);
}

TEST(Roc, AllTiesIsOneDiagonalWithAucHalf) {
  const roc_curve c = curve_of({spam(0.5), spam(0.5), ham(0.5), ham(0.5), ham(0.5)});
  ASSERT_EQ(c.points().size(), 2U);  // flag nothing, flag everything: no threshold in between
  EXPECT_DOUBLE_EQ(auc(c), 0.5);
  // Any threshold that flags a spam flags all ham too.
  EXPECT_DOUBLE_EQ(recall_at_fpr(c, 0.99), 0.0);
  EXPECT_DOUBLE_EQ(recall_at_fpr(c, 1.0), 1.0);
}

TEST(Roc, MixedCaseWithTiesByHand) {
  const roc_curve c = curve_of(mixed_with_ties());
  EXPECT_EQ(c.n_spam(), 4U);
  EXPECT_EQ(c.n_ham(), 3U);
  // Tie groups by decreasing score: 0.9 {s}, 0.8 {h}, 0.7 {s, s, h}, 0.3 {s}, 0.2 {h}.
  const std::vector<roc_point> expected = {{std::numeric_limits<double>::infinity(), 0, 0},
                                           {0.9, 1, 0},
                                           {0.8, 1, 1},
                                           {0.7, 3, 2},
                                           {0.3, 4, 2},
                                           {0.2, 4, 3}};
  ASSERT_EQ(c.points().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(c.points()[i].threshold, expected[i].threshold) << i;
    EXPECT_EQ(c.points()[i].spam_flagged, expected[i].spam_flagged) << i;
    EXPECT_EQ(c.points()[i].ham_flagged, expected[i].ham_flagged) << i;
  }
  EXPECT_DOUBLE_EQ(auc(c), 7.0 / 12.0);
}

TEST(Roc, BuildRejectsNonFiniteScores) {
  std::vector<scored> records = mixed_with_ties();
  records[2].id = "cur/42";
  records[2].score = std::numeric_limits<double>::quiet_NaN();
  const auto c = build_roc(records);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, errc::invalid_input);
  EXPECT_NE(c.error().message.find("cur/42"), std::string::npos);
}

TEST(RecallAtFpr, PicksLastThresholdWithinBudget) {
  const roc_curve c = curve_of(mixed_with_ties());
  // 3 ham: budgets of 0, 0.34 and 0.67 allow 0, 1 and 2 false positives.
  auto p = point_at_fpr(c, 0.0);
  EXPECT_DOUBLE_EQ(p.recall, 0.25);
  EXPECT_DOUBLE_EQ(p.threshold, 0.9);
  EXPECT_DOUBLE_EQ(p.fpr, 0.0);
  p = point_at_fpr(c, 0.34);  // 1 false positive: the 0.8 ham, and no further spam with it
  EXPECT_DOUBLE_EQ(p.recall, 0.25);
  EXPECT_DOUBLE_EQ(p.threshold, 0.8);
  p = point_at_fpr(c, 0.67);  // 2 false positives: through the 0.7 tie group and the 0.3 spam
  EXPECT_DOUBLE_EQ(p.recall, 1.0);
  EXPECT_DOUBLE_EQ(p.threshold, 0.3);
  EXPECT_DOUBLE_EQ(p.fpr, 2.0 / 3.0);
}

TEST(RecallAtFpr, TieGroupAtTheThresholdIsAllOrNothing) {
  // 100 ham; one spam alone at the top, then a tie holding one spam and one ham.
  std::vector<scored> records = {spam(0.9), spam(0.5), ham(0.5)};
  for (int i = 0; i < 99; ++i) {
    records.push_back(ham(0.1));
  }
  const roc_curve c = curve_of(records);
  // 0.5 % of 100 ham allows 0 false positives: the tie group cannot be taken, nor half of it.
  EXPECT_DOUBLE_EQ(recall_at_fpr(c, 0.005), 0.5);
  // 1 % allows exactly one: the whole tie group fits.
  EXPECT_DOUBLE_EQ(recall_at_fpr(c, 0.01), 1.0);
  EXPECT_DOUBLE_EQ(point_at_fpr(c, 0.01).threshold, 0.5);
}

TEST(RecallAtFpr, DecimalBudgetDoesNotRoundDown) {
  // 0.1 % of 1000 ham is exactly one false positive, although 0.001 is not exact in binary.
  std::vector<scored> records = {ham(0.95), spam(0.9)};
  for (int i = 0; i < 999; ++i) {
    records.push_back(ham(0.1));
  }
  EXPECT_DOUBLE_EQ(recall_at_fpr(curve_of(records), 0.001), 1.0);
}

TEST(RecallAtFpr, NoHamMeansEveryThresholdIsWithinBudget) {
  const roc_curve c = curve_of({spam(0.9), spam(0.1)});
  const operating_point p = point_at_fpr(c, 0.001);
  EXPECT_DOUBLE_EQ(p.recall, 1.0);
  EXPECT_DOUBLE_EQ(p.threshold, 0.1);
  EXPECT_TRUE(std::isnan(p.fpr));
  EXPECT_TRUE(std::isnan(auc(c)));
}

TEST(RecallAtFpr, NoSpamHasUndefinedRecall) {
  const roc_curve c = curve_of({ham(0.9), ham(0.1)});
  EXPECT_TRUE(std::isnan(recall_at_fpr(c, 0.01)));
}

TEST(RecallAtFpr, EmptyInput) {
  const roc_curve c = curve_of({});
  ASSERT_EQ(c.points().size(), 1U);
  EXPECT_TRUE(std::isnan(recall_at_fpr(c, 0.01)));
  EXPECT_TRUE(std::isnan(auc(c)));
}

// Differential check against the definitions applied literally: every spam/ham pair for AUC, every
// possible threshold for recall under a budget. Small integer scores force many ties.
TEST(Roc, MatchesBruteForceOnRandomTies) {
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::vector<scored> records;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      records.push_back({"", rng() % 2 == 0, static_cast<double>(rng() % 6)});
    }
    const roc_curve c = curve_of(records);
    double pairs = 0;
    double wins = 0;
    for (const scored& s : records) {
      for (const scored& h : records) {
        if (s.is_spam && !h.is_spam) {
          pairs += 1;
          wins += s.score > h.score ? 1.0 : (s.score == h.score ? 0.5 : 0.0);
        }
      }
    }
    if (pairs > 0) {
      EXPECT_DOUBLE_EQ(auc(c), wins / pairs);
    }
    for (const double budget : {0.0, 0.1, 0.25, 0.5}) {
      const auto allowed = static_cast<std::uint64_t>(std::floor(budget * static_cast<double>(c.n_ham())));
      std::uint64_t best = 0;
      for (double t = 0; t <= 6; t += 1) {
        std::uint64_t tp = 0;
        std::uint64_t fp = 0;
        for (const scored& r : records) {
          if (r.score >= t) {
            (r.is_spam ? tp : fp) += 1;
          }
        }
        if (fp <= allowed) {
          best = std::max(best, tp);
        }
      }
      if (c.n_spam() > 0) {
        EXPECT_DOUBLE_EQ(recall_at_fpr(c, budget),
                         static_cast<double>(best) / static_cast<double>(c.n_spam()));
      }
    }
  }
}

TEST(Confusion, CountsAtThreshold) {
  const roc_curve c = curve_of(mixed_with_ties());
  // score >= 0.7 flags spam 0.9, 0.7, 0.7 and ham 0.8, 0.7.
  confusion k = confusion_at(c, 0.7);
  EXPECT_EQ(k.spam_flagged, 3U);
  EXPECT_EQ(k.spam_missed, 1U);
  EXPECT_EQ(k.ham_flagged, 2U);
  EXPECT_EQ(k.ham_passed, 1U);
  k = confusion_at(c, 0.75);  // between groups: spam 0.9 and ham 0.8
  EXPECT_EQ(k.spam_flagged, 1U);
  EXPECT_EQ(k.ham_flagged, 1U);
  k = confusion_at(c, 5.0);
  EXPECT_EQ(k.spam_flagged + k.ham_flagged, 0U);
  k = confusion_at(c, -5.0);
  EXPECT_EQ(k.spam_missed + k.ham_passed, 0U);
  k = confusion_at(c, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(k.spam_flagged + k.ham_flagged, 0U);
}

TEST(Lam, MixedCaseByHand) {
  // At 0.7: hm = 2/3, sm = 1/4. Smoothed: hm' = 2.5/3.5, sm' = 1.5/4.5, so logit(hm') = ln 2.5 and
  // logit(sm') = ln 0.5; their mean is ln(1.25)/2 and lam = sqrt(1.25) / (1 + sqrt(1.25)).
  const confusion k = confusion_at(curve_of(mixed_with_ties()), 0.7);
  EXPECT_NEAR(hm_pct(k), 200.0 / 3.0, 1e-12);
  EXPECT_NEAR(sm_pct(k), 25.0, 1e-12);
  const double r = std::sqrt(1.25);
  EXPECT_NEAR(lam_pct(k), 100.0 * r / (1.0 + r), 1e-9);
}

TEST(Lam, ZeroErrorsIsFinite) {
  // hm' = sm' = 0.5 / 100.5, so lam = 0.5 / 100.5 as well.
  confusion k{100, 0, 0, 100};
  EXPECT_NEAR(lam_pct(k), 100.0 * 0.5 / 100.5, 1e-12);
  EXPECT_DOUBLE_EQ(hm_pct(k), 0.0);
  EXPECT_DOUBLE_EQ(sm_pct(k), 0.0);
}

TEST(Lam, EveryHamMisclassifiedIsHundredPercent) {
  const confusion k{10, 0, 5, 0};
  EXPECT_DOUBLE_EQ(lam_pct(k), 100.0);
}

TEST(Lam, UndefinedWithoutOneClass) {
  EXPECT_TRUE(std::isnan(lam_pct(confusion{3, 1, 0, 0})));
  EXPECT_TRUE(std::isnan(hm_pct(confusion{3, 1, 0, 0})));
}

TEST(Summary, MixedCase) {
  const auto s = summarize(mixed_with_ties(), 0.7);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->n_spam, 4U);
  EXPECT_EQ(s->n_ham, 3U);
  EXPECT_DOUBLE_EQ(s->auc, 7.0 / 12.0);
  EXPECT_NEAR(s->one_minus_auc_pct, 500.0 / 12.0, 1e-12);
  // 3 ham: every budget below 1/3 allows no false positive.
  EXPECT_DOUBLE_EQ(s->recall_at_0_1pct_fpr, 0.25);
  EXPECT_DOUBLE_EQ(s->recall_at_0_5pct_fpr, 0.25);
  EXPECT_DOUBLE_EQ(s->recall_at_1pct_fpr, 0.25);
  EXPECT_DOUBLE_EQ(s->threshold, 0.7);
  EXPECT_EQ(s->at_threshold.ham_flagged, 2U);
  EXPECT_NEAR(s->hm_pct, 200.0 / 3.0, 1e-12);
  EXPECT_NEAR(s->sm_pct, 25.0, 1e-12);
  EXPECT_NEAR(s->lam_pct, 100.0 * std::sqrt(1.25) / (1.0 + std::sqrt(1.25)), 1e-9);
}

TEST(Summary, RefusesMissingClassAndBadThreshold) {
  auto s = summarize(std::vector<scored>{spam(1), spam(2)}, 0.5);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, errc::invalid_input);
  s = summarize(mixed_with_ties(), std::numeric_limits<double>::quiet_NaN());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, errc::invalid_config);
}

// --- scores file -----------------------------------------------------------------------------------

TEST(ScoresTsv, RoundTripIsExact) {
  const std::vector<scored> records = {
      {"spam/0001.eml", true, 0.1},
      {"ham/with space/ü.eml", false, 0.30000000000000004},
      {"a", true, -1e-300},
      {"b", false, 1.7976931348623157e308},
      {"c", true, -0.0},
      {"d", false, 12345678.875},
  };
  std::stringstream buf;
  ASSERT_TRUE(write_scores_tsv(buf, records).has_value());
  const auto back = read_scores_tsv(buf);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  ASSERT_EQ(back->size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ((*back)[i].id, records[i].id);
    EXPECT_EQ((*back)[i].is_spam, records[i].is_spam);
    EXPECT_EQ(std::signbit((*back)[i].score), std::signbit(records[i].score));
    EXPECT_EQ((*back)[i].score, records[i].score) << i;
  }
}

TEST(ScoresTsv, FileRoundTripAndMissingFile) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pw_metrics_test_" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "scores.tsv";
  const std::vector<scored> records = {{"x", true, 2.5}, {"y", false, -1.25}};
  ASSERT_TRUE(write_scores_tsv(file, records).has_value());
  const auto back = read_scores_tsv(file);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size(), 2U);
  const auto missing = read_scores_tsv(dir / "absent.tsv");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, errc::io);
  std::filesystem::remove_all(dir);
}

TEST(ScoresTsv, AcceptsCrlfAndBlankLines) {
  std::istringstream in("a\tspam\t1.5\r\n\r\n\nb\tham\t-2\n");
  const auto r = read_scores_tsv(in);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[1].id, "b");
  EXPECT_DOUBLE_EQ((*r)[1].score, -2.0);
}

TEST(ScoresTsv, RejectsCarriageReturnInsideAPath) {
  // Found by fuzz/scores_fuzz: the reader took it, the writer refused to write it back.
  std::istringstream in("a\rb\tspam\t1\n");
  const auto r = read_scores_tsv(in);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("line 1"), std::string::npos);
  EXPECT_NE(r.error().message.find("carriage return"), std::string::npos);
}

struct malformed_case {
  std::string text;
  std::string line_tag;  // the line number the message must name
  std::string detail;    // a phrase the message must contain
};

TEST(ScoresTsv, MalformedLinesNameTheLine) {
  const std::string good = "ok\tham\t0.5\n";
  const std::vector<malformed_case> cases = {
      {good + "a\tspam\n", "line 2:", "found 2"},
      {good + "a\tspam\t1\textra\n", "line 2:", "found 4"},
      {good + "a spam 1\n", "line 2:", "found 1"},
      {good + good + "a\tSpam\t1\n", "line 3:", "neither"},
      {"a\tspam\tabc\n", "line 1:", "not a finite"},
      {"a\tspam\t1.5x\n", "line 1:", "not a finite"},
      {"a\tspam\t 1.5\n", "line 1:", "not a finite"},
      {"a\tspam\t\n", "line 1:", "not a finite"},
      {"a\tspam\tnan\n", "line 1:", "not a finite"},
      {"a\tspam\tinf\n", "line 1:", "not a finite"},
      {"a\tspam\t1e999\n", "line 1:", "not a finite"},
      {"\tspam\t1\n", "line 1:", "empty path"},
      {good + "b\tspam\t1\n" + good, "line 3:", "first on line 1"},
  };
  for (const malformed_case& c : cases) {
    std::istringstream in(c.text);
    const auto r = read_scores_tsv(in);
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_EQ(r.error().code, errc::invalid_input) << c.text;
    EXPECT_EQ(r.error().message.rfind(c.line_tag, 0), 0U) << r.error().message;
    EXPECT_NE(r.error().message.find(c.detail), std::string::npos) << r.error().message;
  }
}

TEST(ScoresTsv, WriterRefusesWhatTheReaderWouldReject) {
  std::ostringstream out;
  EXPECT_FALSE(write_scores_tsv(out, {{"a\tb", true, 1.0}}).has_value());
  EXPECT_FALSE(write_scores_tsv(out, {{"a\nb", true, 1.0}}).has_value());
  EXPECT_FALSE(write_scores_tsv(out, {{"", true, 1.0}}).has_value());
  EXPECT_FALSE(write_scores_tsv(out, {{"a", true, std::numeric_limits<double>::infinity()}}).has_value());
  EXPECT_FALSE(write_scores_tsv(out, {{"a", true, 1.0}, {"a", false, 0.0}}).has_value());
  EXPECT_TRUE(out.str().empty());  // nothing written before the check fails
}

// --- SVG -------------------------------------------------------------------------------------------

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Vertices of the first path: one per M/L/H/V command.
std::size_t path_vertices(const std::string& svg) {
  const std::size_t d = svg.find(" d=\"");
  const std::size_t end = svg.find('"', d + 4);
  std::size_t n = 0;
  for (std::size_t i = d + 4; i < end; ++i) {
    n += (svg[i] == 'M' || svg[i] == 'L' || svg[i] == 'H' || svg[i] == 'V') ? 1 : 0;
  }
  return n;
}

TEST(Svg, WellFormedBasicsAndEscaping) {
  std::vector<named_curve> curves;
  curves.push_back({"Portwarden", curve_of(mixed_with_ties())});
  curves.push_back({"peer <&> \"quoted\"", curve_of({spam(1), ham(0)})});
  svg_options options;
  options.title = "Run <1> & 'two'";
  const std::string svg = render_roc_svg(curves, options);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0U);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(count_of(svg, "<path"), 2U);
  EXPECT_NE(svg.find("peer &lt;&amp;&gt; &quot;quoted&quot;"), std::string::npos);
  EXPECT_NE(svg.find("Run &lt;1&gt; &amp; &#39;two&#39;"), std::string::npos);
  EXPECT_EQ(svg.find("<&"), std::string::npos);
  EXPECT_EQ(svg.find("<1>"), std::string::npos);
  // (1-AUC)% of the mixed case: 500/12 = 41.67; of the perfect peer: 0.
  EXPECT_NE(svg.find("Portwarden  (1-AUC)% = 41.67"), std::string::npos);
  EXPECT_NE(svg.find("(1-AUC)% = 0<"), std::string::npos);
  EXPECT_EQ(count_of(svg, "<text"), count_of(svg, "</text>"));
  EXPECT_EQ(count_of(svg, "<g"), count_of(svg, "</g>"));
}

TEST(Svg, InvalidUtf8AndControlCharactersAreReplaced) {
  std::vector<named_curve> curves;
  curves.push_back({std::string("bad\xC3\x28 \x01 \xEF\xBF\xBF ok\xC3\xA9"), curve_of({spam(1), ham(0)})});
  const std::string svg = render_roc_svg(curves, svg_options{});
  EXPECT_NE(svg.find("bad\xEF\xBF\xBD( \xEF\xBF\xBD \xEF\xBF\xBD ok\xC3\xA9"), std::string::npos);
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
}

TEST(Svg, UndefinedCurveGetsLegendButNoPath) {
  std::vector<named_curve> curves;
  curves.push_back({"only spam", curve_of({spam(1), spam(0)})});
  const std::string svg = render_roc_svg(curves, svg_options{});
  EXPECT_EQ(count_of(svg, "<path"), 0U);
  EXPECT_NE(svg.find("only spam  (1-AUC)% = n/a"), std::string::npos);
}

TEST(Svg, LargeCurveStaysCompact) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<scored> records;
  for (int i = 0; i < 200000; ++i) {
    const bool is_spam = i % 3 == 0;
    // Quantised scores make many mixed tie groups, exercising the diagonal sampling.
    records.push_back({"", is_spam, std::round((noise(rng) + (is_spam ? 3.0 : 0.0)) * 200.0) / 200.0});
  }
  std::vector<named_curve> curves;
  curves.push_back({"big", curve_of(records)});
  for (const recall_axis axis : {recall_axis::full, recall_axis::auto_zoom}) {
    svg_options options;
    options.recall = axis;
    const std::string svg = render_roc_svg(curves, options);
    EXPECT_LE(path_vertices(svg), 2100U);
    EXPECT_GE(path_vertices(svg), 10U);
  }
}

}  // namespace
}  // namespace pw::metrics
