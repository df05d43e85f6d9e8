#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "telemetry/log.hpp"
#include "telemetry/registry.hpp"

namespace pw::telemetry {
namespace {

TEST(Registry, RendersCountersGaugesAndHistogramsInExpositionFormat) {
  registry r;
  counter& ok = r.add_counter("pw_verdicts_total", "Verdicts by action", {{"action", "accept"}});
  counter& held = r.add_counter("pw_verdicts_total", "", {{"action", "hold"}});
  gauge& conns = r.add_gauge("pw_connections", "Open connections");
  histogram& h = r.add_histogram("pw_latency_seconds", "Latency", {0.001, 0.01}, {{"stage", "eom"}});
  ok.add(3);
  held.add();
  conns.set(7);
  h.observe_us(500);     // ≤ 1 ms
  h.observe_us(5000);    // ≤ 10 ms
  h.observe_us(50000);   // +Inf
  const std::string text = r.render();
  EXPECT_NE(text.find("# HELP pw_verdicts_total Verdicts by action\n# TYPE pw_verdicts_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("pw_verdicts_total{action=\"accept\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("pw_verdicts_total{action=\"hold\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("# TYPE pw_verdicts_total", text.find("# TYPE pw_verdicts_total") + 1), std::string::npos)
      << "one HELP/TYPE per family";
  EXPECT_NE(text.find("pw_connections 7\n"), std::string::npos);
  EXPECT_NE(text.find("pw_latency_seconds_bucket{stage=\"eom\",le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("pw_latency_seconds_bucket{stage=\"eom\",le=\"0.01\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("pw_latency_seconds_bucket{stage=\"eom\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("pw_latency_seconds_sum{stage=\"eom\"} 0.0555\n"), std::string::npos);
  EXPECT_NE(text.find("pw_latency_seconds_count{stage=\"eom\"} 3\n"), std::string::npos);
}

TEST(Registry, LabelValuesAreEscaped) {
  registry r;
  r.add_counter("pw_x_total", "x", {{"why", "a \"quoted\" \\ and\nnewline"}}).add();
  EXPECT_NE(r.render().find("pw_x_total{why=\"a \\\"quoted\\\" \\\\ and\\nnewline\"} 1"), std::string::npos);
}

TEST(Registry, ConcurrentUpdatesAreNotLost) {
  registry r;
  counter& c = r.add_counter("pw_c_total", "c");
  histogram& h = r.add_histogram("pw_h_seconds", "h", latency_buckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.add();
        h.observe_us(static_cast<std::uint64_t>(i));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.count(), 40000u);
}

TEST(Log, FieldsAreLogfmtAndControlCharactersNeverPassRaw) {
  const std::string line = format_fields("verdict", {{"queue", "ABC123"},
                                                     {"subscriber", "ip:192.0.2.1"},
                                                     {"reasons", "312 messages in 10 min"},
                                                     {"evil", "a\nb\x01=\"c\""},
                                                     {"n", std::uint64_t{5}},
                                                     {"empty", ""}});
  EXPECT_EQ(line,
            "event=verdict queue=ABC123 subscriber=ip:192.0.2.1 reasons=\"312 messages in 10 min\" "
            "evil=\"a\\nb\\x01=\\\"c\\\"\" n=5 empty=\"\"");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace pw::telemetry
