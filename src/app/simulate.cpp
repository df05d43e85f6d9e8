#include "simulate.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include "behavior/engine.hpp"
#include "campaign/tracker.hpp"
#include "classify/classifier.hpp"
#include "config/config.hpp"
#include "fingerprint/fingerprint.hpp"
#include "identity/directory.hpp"
#include "message_files.hpp"
#include "simulate_postfix.hpp"
#include "relay/decider.hpp"
#include "sim/scenario.hpp"
#include "sim/scorecard.hpp"
#include "sim/simulator.hpp"

namespace pw::app {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_error = 3;

int fail(const std::string& what) {
  std::fprintf(stderr, "portwarden simulate: %s\n", what.c_str());
  return exit_error;
}

std::uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;
}

result<void> write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) return make_error(errc::io, "cannot write " + path);
  return {};
}

// A progress bar on stderr for runs that take a while.
class progress_bar {
 public:
  explicit progress_bar(bool on) : _on(on) {}
  void operator()(double done) {
    if (!_on) return;
    const int pct = static_cast<int>(done * 100);
    if (pct == _last) return;
    _last = pct;
    const int filled = pct / 4;
    std::fprintf(stderr, "\r  simulating [%.*s%*s] %3d%%", filled, "=========================", 25 - filled, "", pct);
    if (pct >= 100) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool _on;
  int _last = -1;
};

}  // namespace

void add_simulate_options(CLI::App& cmd, simulate_options& o) {
  cmd.add_option("--scenario", o.scenario, "scenario file (TOML, see sim/scenarios/)")->required();
  cmd.add_option("--subscribers", o.subscribers, "subscribers in the population")->capture_default_str();
  cmd.add_option("--duration", o.duration, "simulated time: 90m, 24h, 30d")->capture_default_str();
  cmd.add_option("--seed", o.seed, "random seed (tune on 1-5, report on 100-104)")->capture_default_str();
  cmd.add_option("--cache", o.cache, "corpus cache (scripts/fetch-corpus): CACHE/split-a/test.list")->capture_default_str();
  cmd.add_option("-m,--model", o.model, "classifier model (portwarden train on CACHE/split-a/train.list)");
  cmd.add_option("-c,--config", o.config, "portwarden.toml: engine, campaign and privacy settings as the daemon uses them");
  cmd.add_flag("--content-blind", o.content_blind, "no content scoring (behaviour and fingerprints only)");
  cmd.add_option("--json", o.json_path, "write the scorecard as JSON here");
  cmd.add_option("--html", o.html_path, "write the HTML report (with SVG plots) here");
  cmd.add_option("--verdicts", o.verdicts_path, "write each subscriber's highest level and times here (TSV)");
  cmd.add_flag("-q,--quiet", o.quiet, "no progress bar");
  cmd.add_option("--variants", o.variants, "mutated variants per spam campaign in the content library")->capture_default_str();
  cmd.add_flag("--no-desk", o.no_desk,
               "do not simulate the abuse desk and its customers' answers (for a run compared with "
               "--through-postfix, where nobody answers the daemon's desk)");
  cmd.add_flag("--no-bounces", o.no_bounces,
               "relayed mail to non-existent recipients does not bounce back to the engine (for a run "
               "compared with --through-postfix, whose relay delivers to a sink that bounces nothing)");
  cmd.add_flag("--through-postfix", o.through_postfix,
               "send the traffic as SMTP into a Postfix relay that runs portwarden serve (clock = \"api\")");
  cmd.add_option("--smtp", o.smtp, "the relay's SMTP address (with --through-postfix)")->capture_default_str();
  cmd.add_option("--api", o.api, "the daemon's HTTP API (with --through-postfix)")->capture_default_str();
  cmd.add_option("--write-subscribers", o.write_subscribers,
                 "write the daemon's subscriber file for this population and exit");
}

int run_simulate(const simulate_options& o) {
  const auto setup_start = std::chrono::steady_clock::now();
  auto duration = config::parse_duration_ms(o.duration);
  if (!duration || *duration <= 0) return fail("--duration: " + (duration ? std::string("must be positive") : duration.error().message));
  auto scenario_text = read_message(o.scenario);  // message_files' reader: any file, with the OS's reason on failure
  if (!scenario_text) return fail(scenario_text.error().message);
  auto scenario = sim::parse_scenario(*scenario_text, o.scenario);
  if (!scenario) return fail("invalid scenario:\n" + scenario.error().message);

  config::settings settings;
  if (!o.config.empty()) {
    auto loaded = config::load_file(o.config);
    if (!loaded) return fail(loaded.error().message);
    settings = loaded->values;
  }
  const std::string secret = config::read_deployment_secret(settings.privacy);

  // Content: the people's mail and the spam templates from the held-out half of the corpus.
  const std::string test_list = o.cache + "/split-a/test.list";
  auto list = read_list(test_list);
  if (!list) return fail(list.error().message + " (run scripts/fetch-corpus " + o.cache + ")");
  auto messages = load_messages(*list);
  if (!messages) return fail(messages.error().message);
  std::vector<std::string> ham, spam;
  for (auto& m : *messages) (m.is_spam ? spam : ham).push_back(std::move(m.raw));

  std::optional<classify::model> model;
  std::optional<classify::classifier> scorer;
  if (!o.content_blind) {
    if (o.model.empty()) return fail("--model is required unless --content-blind");
    auto m = classify::model::load(o.model);
    if (!m) return fail(m.error().message);
    model.emplace(std::move(*m));
    scorer.emplace(*model);
  }
  auto fingerprints = fingerprint::fingerprinter::create(secret, settings.campaigns.fingerprint);
  if (!fingerprints) return fail(fingerprints.error().message);
  campaign::tracker tracker(settings.campaigns.tracker, settings.campaigns.fingerprint.bins, secret);

  relay::content_checks checks;
  checks.scorer = scorer ? &*scorer : nullptr;
  if (settings.campaigns.enabled) {
    checks.fingerprints = &*fingerprints;
    checks.campaigns = &tracker;
  }
  sim::library_options lo;
  lo.variants_per_campaign = o.variants;
  // One newsletter per S7 sender, as each business writes its own.
  for (const auto& a : scenario->actors) {
    if (a.kind == sim::actor_kind::s7_newsletter) lo.newsletters = std::max<std::size_t>(lo.newsletters, a.count);
  }
  lo.keep_raw = o.through_postfix;
  lo.seed = o.seed;
  auto library = sim::build_library(ham, spam, lo, [&](std::string_view raw, std::span<const std::string> rcpts) {
    return relay::decider::assess(raw, rcpts, checks);
  });
  if (!library) return fail(library.error().message);
  ham.clear();
  spam.clear();

  sim::run_options ro;
  ro.subscribers = o.subscribers;
  ro.duration_ms = *duration;
  ro.seed = o.seed;
  ro.desk = !o.no_desk;
  ro.bounces = !o.no_bounces;
  ro.hold_timeout_ms = settings.engine.hold_timeout_ms;
  // The bar only on a terminal (a log would fill with carriage returns); the same tick samples
  // the tracker's active campaigns for the scorecard's peak (in process only: through Postfix the
  // daemon's tracker is the one deciding).
  progress_bar bar(!o.quiet && o.write_subscribers.empty() && isatty(STDERR_FILENO) == 1);
  std::uint64_t campaigns_peak = 0;
  ro.progress = [&](double done) {
    bar(done);
    if (!o.through_postfix && settings.campaigns.enabled) {
      const auto now = ro.start_epoch_ms + static_cast<std::int64_t>(done * static_cast<double>(ro.duration_ms));
      campaign::list_options all;
      all.limit = std::numeric_limits<std::size_t>::max();
      campaigns_peak = std::max<std::uint64_t>(campaigns_peak, tracker.list(now, all).size());
    }
  };
  auto simulator = sim::simulator::create(*scenario, *library, ro);
  if (!simulator) return fail(simulator.error().message);

  const auto entries = simulator->directory_entries();
  if (!o.write_subscribers.empty()) {
    std::string text = "# portwarden simulate --write-subscribers: the business subscribers of this population\n";
    for (const auto& e : entries) text += e.key + "\t" + e.id + "\t" + e.plan + "\n";
    if (auto r = write_text(o.write_subscribers, text); !r) return fail(r.error().message);
    std::printf("wrote %zu subscriber entries to %s\n", entries.size(), o.write_subscribers.c_str());
    return exit_ok;
  }
  auto directory = identity::cidr_directory::build(entries);
  if (!directory) return fail(directory.error().message);
  const double setup_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();

  result<sim::scorecard> card = make_error(errc::unavailable, "no run");
  behavior::engine engine(settings.engine);
  const behavior::recipient_hasher hasher(secret);
  if (o.through_postfix) {
    // The daemon decides here; this process only drives it and reads its verdicts.
    auto port = make_postfix_port(o.smtp, o.api, *directory);
    if (!port) return fail(port.error().message);
    card = simulator->run(**port);
  } else {
    sim::in_process_relay port(engine, hasher, *directory, settings.campaigns.enabled ? &tracker : nullptr);
    card = simulator->run(port);
  }
  if (!card) return fail(card.error().message);
  card->run.scenario_file = o.scenario;
  card->run.through_postfix = o.through_postfix;
  card->run.content_blind = o.content_blind;
  card->run.setup_seconds = setup_seconds;
  card->run.peak_rss_bytes = peak_rss_bytes();
  card->run.campaigns_active_peak = campaigns_peak;
  card->run.engine_subscribers = o.through_postfix ? 0 : engine.size();  // through Postfix the daemon tracks them
  sim::summarise(*card);
  std::fputs(sim::render_text(*card).c_str(), stdout);
  if (!o.json_path.empty()) {
    if (auto r = write_text(o.json_path, sim::render_json(*card)); !r) return fail(r.error().message);
  }
  if (!o.html_path.empty()) {
    if (auto r = write_text(o.html_path, sim::render_html(*card)); !r) return fail(r.error().message);
    std::printf("wrote %s\n", o.html_path.c_str());
  }
  if (!o.verdicts_path.empty()) {
    std::string text =
        "# subscriber\tlogin\thighest_level\tfirst_throttle_ms\tfirst_hold_ms\tattack_start_ms\trole\t"
        "first_throttle_reasons\thighest_level_reasons\n";
    for (const auto& v : simulator->verdicts()) {
      text += v.address + "\t" + (v.login.empty() ? "-" : v.login) + "\t" +
              std::string(behavior::level_name(v.highest)) + "\t" + std::to_string(v.first_throttle_ms) + "\t" +
              std::to_string(v.first_hold_ms) + "\t" + std::to_string(v.attack_start_ms) + "\t" + v.role + "\t" +
              (v.first_throttle_why.empty() ? "-" : v.first_throttle_why) + "\t" +
              (v.highest_why.empty() ? "-" : v.highest_why) + "\n";
    }
    if (auto r = write_text(o.verdicts_path, text); !r) return fail(r.error().message);
  }
  return exit_ok;
}

}  // namespace pw::app
