// tests/sim_scorecard_test.cpp — pw::sim::scorecard: summarise (percentiles, overall figures, the
// detection bar without S6, the desk's self-help share and bar) and the text, JSON and HTML
// renderings (keys, escaping, accessibility, the empty card, the desk section).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/scorecard.hpp"

namespace {

using pw::sim::scenario_score;
using pw::sim::scorecard;

constexpr std::int64_t second = 1000;
constexpr std::int64_t minute = 60 * second;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// 100,000 subscribers over 30 days: one subscriber-month each, so a count of c is c per 100k months.
scorecard sample_card() {
  scorecard card;
  card.run.scenario_file = "scenarios/botnet.toml";
  card.run.scenario_name = "botnet month";
  card.run.subscribers = 100000;
  card.run.duration_ms = 30 * day;
  card.run.seed = 42;
  card.run.wall_seconds = 12.5;
  card.run.peak_rss_bytes = 512ull * 1024 * 1024;

  scenario_score population;
  population.kind = "population";
  population.title = "Population";
  population.actors = 99000;
  population.tagged = 20;
  population.throttled = 1;
  population.held = 0;
  population.messages_delayed = 7;
  population.max_delay_ms = 4 * minute + 10 * second;

  scenario_score lists;
  lists.kind = "s9_list_owner";
  lists.title = "S9 list owner";
  lists.actors = 50;
  lists.tagged = 3;
  lists.throttled = 1;
  lists.max_delay_ms = 2 * hour;

  scenario_score bots;
  bots.kind = "s1_high_rate";
  bots.title = "S1 high-rate bot";
  bots.compromised = true;
  bots.actors = 10;
  bots.detected = 10;
  bots.contained = 9;
  // 1..10 minutes, shuffled.
  bots.time_to_detect.samples_ms = {7 * minute, 2 * minute, 10 * minute, 1 * minute, 5 * minute,
                                    3 * minute, 9 * minute, 4 * minute,  8 * minute, 6 * minute};
  bots.spam_relayed_before_containment = 120;
  bots.max_spam_relayed_before_containment = 30;

  scenario_score hijacked;
  hijacked.kind = "s5_hijacked";
  hijacked.title = "S5 hijacked account";
  hijacked.compromised = true;
  hijacked.actors = 10;
  hijacked.detected = 9;
  hijacked.contained = 5;
  hijacked.time_to_detect.samples_ms = {42 * second, 3 * minute + 10 * second, 2 * hour + 5 * minute};

  scenario_score contacts;
  contacts.kind = "s6_contacts";
  contacts.title = "S6 contacts-only";
  contacts.compromised = true;
  contacts.actors = 100;
  contacts.detected = 0;

  card.scenarios = {population, lists, bots, hijacked, contacts};
  return card;
}

TEST(SimScorecard, PercentilesAreNearestRankOnSortedSamples) {
  scorecard card = sample_card();
  pw::sim::summarise(card);
  const auto& bots = card.scenarios[2].time_to_detect;
  EXPECT_EQ(bots.p50_ms, 5 * minute);  // rank ceil(0.5 * 10) = 5
  EXPECT_EQ(bots.p90_ms, 9 * minute);  // rank ceil(0.9 * 10) = 9
  EXPECT_EQ(bots.max_ms, 10 * minute);
  const auto& hijacked = card.scenarios[3].time_to_detect;
  EXPECT_EQ(hijacked.p50_ms, 3 * minute + 10 * second);  // rank 2 of 3
  EXPECT_EQ(hijacked.p90_ms, 2 * hour + 5 * minute);     // rank 3 of 3
  const auto& none = card.scenarios[4].time_to_detect;
  EXPECT_EQ(none.p50_ms, 0);
  EXPECT_EQ(none.p90_ms, 0);
  EXPECT_EQ(none.max_ms, 0);

  scorecard one;
  one.scenarios.resize(1);
  one.scenarios[0].time_to_contain.samples_ms = {1234};
  pw::sim::summarise(one);
  EXPECT_EQ(one.scenarios[0].time_to_contain.p50_ms, 1234);
  EXPECT_EQ(one.scenarios[0].time_to_contain.p90_ms, 1234);
  EXPECT_EQ(one.scenarios[0].time_to_contain.max_ms, 1234);
}

TEST(SimScorecard, DetectionBarExcludesS6) {
  scorecard card = sample_card();
  pw::sim::summarise(card);
  EXPECT_EQ(card.compromised_actors, 20u);  // S1 + S5; the 100 undetected S6 actors are not in the bar
  EXPECT_EQ(card.compromised_detected, 19u);
  EXPECT_DOUBLE_EQ(card.detection_rate, 0.95);

  scorecard only_s6;
  only_s6.scenarios = {card.scenarios[4]};
  pw::sim::summarise(only_s6);
  EXPECT_EQ(only_s6.compromised_actors, 0u);
  EXPECT_DOUBLE_EQ(only_s6.detection_rate, 1.0);
}

TEST(SimScorecard, LegitimateRatesPer100kSubscriberMonths) {
  scorecard card = sample_card();
  pw::sim::summarise(card);
  EXPECT_EQ(card.legitimate_subscribers, 99050u);
  EXPECT_EQ(card.legitimate_throttled, 2u);
  EXPECT_EQ(card.legitimate_held, 0u);
  EXPECT_EQ(card.legitimate_messages_delayed, 7u);
  EXPECT_EQ(card.legitimate_max_delay_ms, 2 * hour);
  EXPECT_DOUBLE_EQ(card.tagged_per_100k_months, 23.0);
  EXPECT_DOUBLE_EQ(card.throttled_per_100k_months, 2.0);
  EXPECT_DOUBLE_EQ(card.held_per_100k_months, 0.0);

  // Ten days is a third of a month: the same counts are three times the rate.
  card.run.duration_ms = 10 * day;
  pw::sim::summarise(card);
  EXPECT_DOUBLE_EQ(card.throttled_per_100k_months, 6.0);

  card.run.duration_ms = 0;
  pw::sim::summarise(card);
  EXPECT_EQ(card.throttled_per_100k_months, 0.0);
  card.run.duration_ms = day;
  card.run.subscribers = 0;
  pw::sim::summarise(card);
  EXPECT_EQ(card.tagged_per_100k_months, 0.0);
}

TEST(SimScorecard, SummariseIsIdempotent) {
  scorecard card = sample_card();
  pw::sim::summarise(card);
  const std::string once = pw::sim::render_json(card);
  pw::sim::summarise(card);
  EXPECT_EQ(pw::sim::render_json(card), once);
}

TEST(SimScorecard, TextHasTablesAndBarLines) {
  scorecard card = sample_card();
  pw::sim::summarise(card);
  const std::string text = pw::sim::render_text(card);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("100000 subscribers, 30d00h simulated, seed 42, engine direct, with content"), std::string::npos)
      << text;
  EXPECT_NE(text.find("peak RSS 512.0 MiB"), std::string::npos) << text;
  EXPECT_NE(
      text.find("detection 95.0 % (bar >= 99.5 %)  legit held 0  throttled 2.00 /100k sub-months (bar <= 1)  lost 0"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("bars: MISSED: detection, throttled"), std::string::npos) << text;
  // Durations in the compromised table: S5's p50, p90 and max.
  EXPECT_NE(text.find("3m10s"), std::string::npos) << text;
  EXPECT_NE(text.find("2h05m"), std::string::npos) << text;
  EXPECT_NE(text.find("S1 high-rate bot"), std::string::npos);
  EXPECT_NE(text.find("S9 list owner"), std::string::npos);
  for (const char c : text) {
    EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7F)) << "not plain ASCII: " << static_cast<int>(c);
  }

  card.scenarios[3].detected = 10;
  card.scenarios[0].throttled = 0;
  card.scenarios[1].throttled = 1;
  pw::sim::summarise(card);
  EXPECT_NE(pw::sim::render_text(card).find("bars: all met"), std::string::npos);
}

TEST(SimScorecard, TextDetectionShareNeverRoundsUpToTheBar) {
  scorecard card;
  scenario_score s;
  s.kind = "s1_high_rate";
  s.title = "S1";
  s.compromised = true;
  s.actors = 10000;
  s.detected = 9949;  // 99.49 %: printed as 99.4, and the bar is missed
  card.scenarios.push_back(std::move(s));  // (an initializer list copy trips GCC 12's -Wmaybe-uninitialized)
  pw::sim::summarise(card);
  const std::string text = pw::sim::render_text(card);
  EXPECT_NE(text.find("detection 99.4 %"), std::string::npos) << text;
  EXPECT_NE(text.find("MISSED: detection"), std::string::npos) << text;
}

TEST(SimScorecard, JsonHasStableKeysAndSortedSamples) {
  scorecard card = sample_card();
  pw::sim::summarise(card);
  const nlohmann::json j = nlohmann::json::parse(pw::sim::render_json(card));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 4u);  // run, scenarios, overall, desk
  EXPECT_EQ(j.at("run").at("scenario_name"), "botnet month");
  EXPECT_EQ(j.at("run").at("subscribers"), 100000);
  EXPECT_EQ(j.at("run").at("duration_ms"), 30 * day);
  EXPECT_EQ(j.at("run").at("through_postfix"), false);
  EXPECT_EQ(j.at("run").at("peak_rss_bytes"), 512ull * 1024 * 1024);
  EXPECT_DOUBLE_EQ(j.at("run").at("wall_seconds").get<double>(), 12.5);

  const auto& scenarios = j.at("scenarios");
  ASSERT_EQ(scenarios.size(), 5u);
  EXPECT_EQ(scenarios[0].at("kind"), "population");
  EXPECT_EQ(scenarios[0].at("tagged"), 20);
  EXPECT_EQ(scenarios[0].at("max_delay_ms"), 4 * minute + 10 * second);
  const auto& bots = scenarios[2];
  EXPECT_EQ(bots.at("compromised"), true);
  EXPECT_EQ(bots.at("spam_relayed_before_containment"), 120);
  EXPECT_EQ(bots.at("max_spam_relayed_before_containment"), 30);
  const auto& ttd = bots.at("time_to_detect");
  EXPECT_EQ(ttd.at("p50_ms"), 5 * minute);
  EXPECT_EQ(ttd.at("p90_ms"), 9 * minute);
  EXPECT_EQ(ttd.at("max_ms"), 10 * minute);
  const auto samples = ttd.at("samples_ms").get<std::vector<std::int64_t>>();
  ASSERT_EQ(samples.size(), 10u);
  EXPECT_TRUE(std::is_sorted(samples.begin(), samples.end()));
  EXPECT_TRUE(bots.at("time_to_contain").at("samples_ms").empty());
  for (const char* key : {"kind",
                          "title",
                          "compromised",
                          "actors",
                          "messages",
                          "recipients",
                          "detected",
                          "flagged",
                          "contained",
                          "time_to_detect",
                          "time_to_contain",
                          "spam_relayed_before_containment",
                          "max_spam_relayed_before_containment",
                          "spam_relayed",
                          "spam_held",
                          "spam_deferred",
                          "owner_messages_delayed",
                          "tagged",
                          "throttled",
                          "held",
                          "messages_delayed",
                          "max_delay_ms",
                          "messages_lost"}) {
    EXPECT_TRUE(bots.contains(key)) << key;
  }

  const auto& overall = j.at("overall");
  EXPECT_EQ(overall.at("compromised_actors"), 20);
  EXPECT_EQ(overall.at("compromised_detected"), 19);
  EXPECT_DOUBLE_EQ(overall.at("detection_rate").get<double>(), 0.95);
  EXPECT_EQ(overall.at("legitimate_subscribers"), 99050);
  EXPECT_DOUBLE_EQ(overall.at("throttled_per_100k_months").get<double>(), 2.0);
  EXPECT_EQ(overall.at("legitimate_messages_lost"), 0);
  EXPECT_EQ(overall.size(), 12u);
}

TEST(SimScorecard, JsonReplacesInvalidUtf8) {
  scorecard card = sample_card();
  card.run.scenario_name = "bad \xC3\x28 byte";
  const nlohmann::json j = nlohmann::json::parse(pw::sim::render_json(card));
  EXPECT_EQ(j.at("run").at("scenario_name"), "bad \xEF\xBF\xBD( byte");
}

TEST(SimScorecard, HtmlIsSelfContainedAccessibleAndEscaped) {
  scorecard card = sample_card();
  card.scenarios[2].title = "<b>&\"";
  card.run.scenario_name = "<script>alert(1)</script>";
  pw::sim::summarise(card);
  const std::string html = pw::sim::render_html(card);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_EQ(count_of(html, "<svg "), 3u);
  EXPECT_EQ(count_of(html, "role=\"img\""), 3u);
  EXPECT_EQ(count_of(html, "<title id="), 3u);
  EXPECT_EQ(count_of(html, "<desc id="), 3u);
  EXPECT_EQ(count_of(html, "<caption>"), 2u);
  EXPECT_NE(html.find("<th scope=\"col\">"), std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">"), std::string::npos);
  // One polyline per compromised kind with detections (S1 and S5; S6 has none).
  EXPECT_EQ(count_of(html, "<polyline"), 2u);

  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;&amp;&quot;"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // No external resources.
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(count_of(html, "http"), 3u);  // the three SVG namespace declarations
}

TEST(SimScorecard, HtmlReplacesInvalidUtf8AndControlBytes) {
  scorecard card = sample_card();
  card.scenarios[0].title = std::string("pop\x01ulation \xFF end \xE2\x82\xAC");
  const std::string html = pw::sim::render_html(card);
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_EQ(html.find('\xFF'), std::string::npos);
  EXPECT_NE(html.find("pop\xEF\xBF\xBDulation \xEF\xBF\xBD end \xE2\x82\xAC"), std::string::npos);
}

TEST(SimScorecard, EmptyScorecardRenders) {
  scorecard card;
  pw::sim::summarise(card);
  EXPECT_EQ(card.compromised_actors, 0u);
  EXPECT_DOUBLE_EQ(card.detection_rate, 1.0);
  EXPECT_EQ(card.tagged_per_100k_months, 0.0);

  const std::string text = pw::sim::render_text(card);
  EXPECT_NE(text.find("bars: all met"), std::string::npos) << text;
  const nlohmann::json j = nlohmann::json::parse(pw::sim::render_json(card));
  EXPECT_TRUE(j.at("scenarios").empty());
  const std::string html = pw::sim::render_html(card);
  EXPECT_EQ(count_of(html, "role=\"img\""), 3u);
  EXPECT_NE(html.find("No compromised kinds in this run."), std::string::npos);
  EXPECT_NE(html.find("No legitimate kinds in this run."), std::string::npos);
}

TEST(SimScorecard, ManyActorsKeepThePolylineBounded) {
  scorecard card;
  card.run.subscribers = 1000000;
  card.run.duration_ms = 30 * day;
  scenario_score s;
  s.kind = "s1_high_rate";
  s.title = "S1";
  s.compromised = true;
  s.actors = 200000;
  s.detected = s.actors;
  for (std::uint64_t i = 0; i < s.actors; ++i) {
    s.time_to_detect.samples_ms.push_back(static_cast<std::int64_t>(i * 97 % 86'400'000));
  }
  card.scenarios = {s};
  pw::sim::summarise(card);
  const std::string html = pw::sim::render_html(card);
  const std::size_t start = html.find("<polyline");
  ASSERT_NE(start, std::string::npos);
  const std::size_t end = html.find("/>", start);
  // Two vertices per half-pixel column of a 672-pixel plot at most, plus the ends.
  EXPECT_LT(count_of(html.substr(start, end - start), ","), 2u * 2 * 672 + 4);
}

// The abuse desk: 100 cases, 10 still open; the bar's share is over the 90 whose outcome is final.
pw::sim::desk_score sample_desk(std::uint64_t self_help) {
  pw::sim::desk_score d;
  d.modelled = true;
  d.unanswered_escalation_ms = 4 * day;
  d.cases_opened = 100;
  d.compromised_cases = 30;
  d.open_at_end = 10;
  d.monitoring_at_end = 6;
  d.resolved_self_help = self_help;
  d.compromised_resolved_self_help = 20;
  d.escalated = 90 - self_help;
  d.escalated_support_call = d.escalated;
  d.resolved_by_person = 3;
  d.notices_sent = 180;
  d.open_to_first_notice.samples_ms = {1 * second, 0, 1 * second};
  d.time_to_resolution.samples_ms = {80 * hour, 76 * hour, 3 * day + 10 * hour};
  d.final_after_ms = 7 * day + second;
  d.final_cases = 90;
  d.final_resolved_self_help = self_help;
  return d;
}

TEST(SimScorecard, DeskShareIsOverCasesWhoseOutcomeIsFinalAndHasItsBar) {
  scorecard card;
  card.desk = sample_desk(72);  // 72 of 90: exactly 80 %
  pw::sim::summarise(card);
  EXPECT_DOUBLE_EQ(card.desk.self_help_share, 0.8);
  EXPECT_EQ(card.desk.open_to_first_notice.p50_ms, 1 * second);
  EXPECT_EQ(card.desk.time_to_resolution.p50_ms, 80 * hour);
  std::string text = pw::sim::render_text(card);
  EXPECT_NE(text.find("100 cases opened (30 compromised subscribers, 70 legitimate): resolved by self-help 72 (20 "
                      "compromised), escalated to a person 18 (3 resolved since), still open 10 (6 in monitoring)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("self-help 80.0 % of the 90 cases opened 7d00h or more before the end, whose outcome is final "
                      "(bar >= 80 %)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("support call 18, repeat self-help 0"), std::string::npos) << text;
  EXPECT_NE(text.find("no answer within 4d00h 0"), std::string::npos) << text;
  EXPECT_NE(text.find("180 notices sent; case opened to first notice p50 1s"), std::string::npos) << text;
  EXPECT_NE(text.find("opened to resolved p50 3d08h"), std::string::npos) << text;
  EXPECT_NE(text.find("bars: all met"), std::string::npos) << text;

  card.desk = sample_desk(71);  // 78.9 %: printed rounded down, and missed
  pw::sim::summarise(card);
  text = pw::sim::render_text(card);
  EXPECT_NE(text.find("self-help 78.8 %"), std::string::npos) << text;
  EXPECT_NE(text.find("bars: MISSED: self-help"), std::string::npos) << text;
  EXPECT_NE(pw::sim::render_html(card).find("self-help 78.8 %"), std::string::npos);

  const nlohmann::json j = nlohmann::json::parse(pw::sim::render_json(card));
  const auto& d = j.at("desk");
  EXPECT_EQ(d.at("modelled"), true);
  EXPECT_EQ(d.at("cases_opened"), 100);
  EXPECT_EQ(d.at("resolved_self_help"), 71);
  EXPECT_EQ(d.at("escalated_support_call"), 19);
  EXPECT_EQ(d.at("open_at_end"), 10);
  EXPECT_EQ(d.at("notices_sent"), 180);
  EXPECT_EQ(d.at("unanswered_escalation_ms"), 4 * day);
  EXPECT_EQ(d.at("final_cases"), 90);
  EXPECT_EQ(d.at("final_resolved_self_help"), 71);
  EXPECT_EQ(d.at("open_to_first_notice").at("samples_ms"), (std::vector<std::int64_t>{0, second, second}));
  EXPECT_NEAR(d.at("self_help_share").get<double>(), 71.0 / 90.0, 1e-12);
}

TEST(SimScorecard, DeskNotModelledSaysSoAndPassesItsBar) {
  scorecard card;
  pw::sim::summarise(card);
  const std::string text = pw::sim::render_text(card);
  EXPECT_NE(text.find("not modelled in this run"), std::string::npos) << text;
  card.desk.modelled = true;
  EXPECT_NE(pw::sim::render_text(card).find("first notice p50 - (max -); opened to resolved p50 - (p90 -)"),
            std::string::npos)
      << pw::sim::render_text(card);
  card.desk.modelled = false;
  EXPECT_NE(text.find("bars: all met"), std::string::npos) << text;
  EXPECT_NE(pw::sim::render_html(card).find("Not modelled in this run"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(pw::sim::render_json(card)).at("desk").at("modelled"), false);
}

}  // namespace
