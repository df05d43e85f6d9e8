// app/main.cpp — the `portwarden` command line.
//
// Purpose: one binary with subcommands; this file only wires arguments to the modules and formats
// their results. Exit codes (also in `portwarden --help` and the README):
//   0  success (for `check`: the message is not spam)
//   1  `check` only: the message is spam
//   2  usage error (unknown option, missing argument)
//   3  runtime error (unreadable file, corrupt model, malformed list)
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "classify/classifier.hpp"
#include "campaigns_eval.hpp"
#include "desk_cli.hpp"
#include "simulate.hpp"
#include "classify/trainer.hpp"
#include "config/config.hpp"
#include "message_files.hpp"
#include "metrics/roc.hpp"
#include "metrics/scores.hpp"
#include "metrics/svg.hpp"
#include "server/daemon.hpp"

namespace {

using pw::classify::classifier;
using pw::classify::feature_extractor;
using pw::classify::feature_options;
using pw::classify::labelled_features;
using pw::classify::model;
using pw::classify::training_options;
using json = nlohmann::json;

constexpr int exit_ok = 0;
constexpr int exit_spam = 1;
constexpr int exit_usage = 2;
constexpr int exit_error = 3;

constexpr const char* exit_codes_help =
    "Exit codes: 0 success (check: not spam), 1 check: spam, 2 usage error, 3 runtime error.";

int fail(const pw::error& e) {
  std::fprintf(stderr, "portwarden: %s\n", e.message.c_str());
  return exit_error;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct model_settings {
  feature_options features;
  training_options training;
  pw::mime::limits limits;
};

// The parser's bounds on the work one message may cause (see mime/message.hpp).
void add_limit_settings(CLI::App* cmd, pw::mime::limits& l) {
  cmd->add_option("--max-message-bytes", l.max_message_bytes, "bytes of a message parsed; the rest is not read")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 32))
      ->capture_default_str();
  cmd->add_option("--max-depth", l.max_depth, "MIME nesting followed")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--max-parts", l.max_parts, "MIME parts parsed")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--max-text-bytes", l.max_text_bytes, "decoded text kept per message")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
      ->capture_default_str();
}

void add_model_settings(CLI::App* cmd, model_settings& s) {
  cmd->add_option("--hash-bits", s.features.hash_bits, "log2 of the weight table size (model size 4 * 2^bits bytes)")
      ->check(CLI::Range(18, 23))
      ->capture_default_str();
  cmd->add_option("--text-bytes", s.features.text_prefix_bytes, "bytes of decoded text turned into features")
      ->check(CLI::Range(256, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--header-bytes", s.features.header_prefix_bytes, "bytes of the header block turned into features")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--gram-sizes", s.features.gram_sizes,
                  "bit mask of character n-gram sizes (bit n: n-grams; 28 = 2, 3 and 4)")
      ->check(CLI::Range(0, 510))
      ->capture_default_str();
  cmd->add_option("--osb-window", s.features.osb_window, "word pairs up to this distance (0: words only)")
      ->check(CLI::Range(0, 8))
      ->capture_default_str();
  cmd->add_option("--ham-weight", s.training.ham_weight, "how much more a ham's gradient counts")
      ->check(CLI::Range(0.1, 100.0))
      ->capture_default_str();
  cmd->add_option("--epochs", s.training.epochs, "passes over the training set")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--ensemble", s.training.members, "models on different shuffles averaged into one (batch only)")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  cmd->add_option("--rate", s.training.learning_rate, "learning rate")
      ->check(CLI::Range(0.0001, 100.0))
      ->capture_default_str();
  cmd->add_option("--seed", s.training.seed, "shuffling seed")->capture_default_str();
  add_limit_settings(cmd, s.limits);
}

// Parses and extracts features of every message on both cores: the expensive part of training.
std::vector<labelled_features> featurise(const std::vector<pw::app::labelled_message>& messages,
                                         const model_settings& s) {
  std::vector<pw::classify::labelled_text> texts;
  texts.reserve(messages.size());
  for (const auto& m : messages) {
    texts.push_back({m.raw, m.is_spam});
  }
  return pw::classify::featurise(texts, s.features, std::max(1u, std::thread::hardware_concurrency()), s.limits);
}

json summary_json(const pw::metrics::summary& s) {
  return json{
      {"n_spam", s.n_spam},
      {"n_ham", s.n_ham},
      {"auc", s.auc},
      {"one_minus_auc_pct", s.one_minus_auc_pct},
      {"recall_at_fpr", {{"0.001", s.recall_at_0_1pct_fpr}, {"0.005", s.recall_at_0_5pct_fpr}, {"0.01", s.recall_at_1pct_fpr}}},
      {"threshold", s.threshold},
      {"hm_pct", s.hm_pct},
      {"sm_pct", s.sm_pct},
      {"lam_pct", s.lam_pct},
      {"confusion",
       {{"spam_flagged", s.at_threshold.spam_flagged},
        {"spam_missed", s.at_threshold.spam_missed},
        {"ham_flagged", s.at_threshold.ham_flagged},
        {"ham_passed", s.at_threshold.ham_passed}}},
  };
}

void print_summary(const pw::metrics::summary& s, const std::string& threshold_label) {
  std::printf("  messages          %llu spam, %llu ham\n", static_cast<unsigned long long>(s.n_spam),
              static_cast<unsigned long long>(s.n_ham));
  std::printf("  ROC AUC           %.6f   (1-AUC)%% = %.4f\n", s.auc, s.one_minus_auc_pct);
  std::printf("  spam recall       %.4f @0.1%% FPR   %.4f @0.5%% FPR   %.4f @1%% FPR\n", s.recall_at_0_1pct_fpr,
              s.recall_at_0_5pct_fpr, s.recall_at_1pct_fpr);
  std::printf("  at %s  hm%% %.3f  sm%% %.3f  lam%% %.3f  (%llu ham flagged, %llu spam missed)\n",
              threshold_label.c_str(), s.hm_pct, s.sm_pct, s.lam_pct,
              static_cast<unsigned long long>(s.at_threshold.ham_flagged),
              static_cast<unsigned long long>(s.at_threshold.spam_missed));
}

int run_check(const std::string& file, const std::string& model_path, bool as_json, std::size_t top, double threshold,
              const pw::mime::limits& limits) {
  auto m = model::load(model_path);
  if (!m) {
    return fail(m.error());
  }
  auto raw = pw::app::read_message(file);
  if (!raw) {
    return fail(raw.error());
  }
  classifier c(*m, limits);
  const auto v = c.score(*raw);
  const bool spam = v.probability >= threshold;
  const auto why = c.explain(*raw, top, spam);
  if (as_json) {
    json features = json::array();
    for (const auto& f : why) {
      features.push_back({{"kind", std::string(pw::classify::feature_kind_name(f.kind))},
                          {"feature", f.name},
                          {"contribution", f.margin_share}});
    }
    json anomalies = json::array();
    for (std::uint32_t bit = 0; bit < pw::mime::anomaly_count; ++bit) {
      auto flag = static_cast<pw::mime::anomaly>(1u << bit);
      if (pw::mime::has(v.anomalies, flag)) {
        anomalies.push_back(std::string(pw::mime::anomaly_name(flag)));
      }
    }
    json out{{"file", file},      {"verdict", spam ? "spam" : "ham"}, {"probability", v.probability},
             {"margin", v.margin}, {"threshold", threshold},           {"features", v.features},
             {"anomalies", anomalies}, {"top_features", features}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("%s: %s  probability %.4f  (threshold %.2f, %zu features)\n", file.c_str(), spam ? "SPAM" : "ham",
                v.probability, threshold, v.features);
    for (const auto& f : why) {
      std::printf("  %+8.4f  %-13s %s\n", f.margin_share, std::string(pw::classify::feature_kind_name(f.kind)).c_str(),
                  json(f.name).dump().c_str());
    }
  }
  return spam ? exit_spam : exit_ok;
}

int run_learn(const std::vector<std::string>& files, bool spam, const std::string& model_path, const model_settings& s) {
  std::optional<model> m;
  if (std::filesystem::exists(model_path)) {
    auto loaded = model::load_for_update(model_path);
    if (!loaded) {
      return fail(loaded.error());
    }
    m.emplace(std::move(*loaded));
  } else {
    m.emplace(s.features);
  }
  feature_extractor extractor(m->options());
  for (const auto& f : files) {
    auto raw = pw::app::read_message(f);
    if (!raw) {
      return fail(raw.error());
    }
    pw::classify::learn_one(*m, extractor.extract(pw::mime::parse(*raw, s.limits)), spam, s.training.learning_rate);
  }
  if (auto r = m->save(model_path); !r) {
    return fail(r.error());
  }
  std::printf("learned %zu %s message(s); model %s now trained on %llu spam, %llu ham\n", files.size(),
              spam ? "spam" : "ham", model_path.c_str(), static_cast<unsigned long long>(m->trained_spam()),
              static_cast<unsigned long long>(m->trained_ham()));
  return exit_ok;
}

int run_train(const std::string& list_path, const std::string& model_path, const model_settings& s) {
  const auto start = std::chrono::steady_clock::now();
  auto list = pw::app::read_list(list_path);
  if (!list) {
    return fail(list.error());
  }
  auto messages = pw::app::load_messages(*list);
  if (!messages) {
    return fail(messages.error());
  }
  model m(s.features);
  auto examples = featurise(*messages, s);
  pw::classify::train_batch(m, examples, s.training);
  if (auto r = m.save(model_path); !r) {
    return fail(r.error());
  }
  std::printf("trained %s on %zu messages (%llu spam, %llu ham) in %.2f s\n", model_path.c_str(), examples.size(),
              static_cast<unsigned long long>(m.trained_spam()), static_cast<unsigned long long>(m.trained_ham()),
              seconds_since(start));
  return exit_ok;
}

pw::result<void> write_svg(const std::string& path, std::vector<pw::metrics::named_curve> curves) {
  std::ofstream svg(path);
  svg << pw::metrics::render_roc_svg(curves, pw::metrics::svg_options{});
  if (!svg) {
    return pw::make_error(pw::errc::io, "cannot write " + path);
  }
  return {};
}

struct eval_outputs {
  std::string model_path;
  std::string scores_path;
  std::string svg_path;
  bool as_json = false;
  double threshold = pw::classify::default_threshold;
};

int run_eval(const std::string& train_list, const std::string& test_list, const model_settings& s,
             const eval_outputs& out) {
  const auto start = std::chrono::steady_clock::now();
  auto train = pw::app::read_list(train_list);
  if (!train) {
    return fail(train.error());
  }
  auto test = pw::app::read_list(test_list);
  if (!test) {
    return fail(test.error());
  }
  // The test messages are read from disk while the model trains.
  auto test_loading = std::async(std::launch::async, [&] { return pw::app::load_messages(*test); });
  auto train_messages = pw::app::load_messages(*train);
  if (!train_messages) {
    return fail(train_messages.error());
  }

  const auto train_start = std::chrono::steady_clock::now();
  model m(s.features);
  pw::classify::train_batch(m, featurise(*train_messages, s), s.training);
  const double train_seconds = seconds_since(train_start);
  train_messages->clear();

  auto test_messages = test_loading.get();
  if (!test_messages) {
    return fail(test_messages.error());
  }
  std::size_t test_bytes = 0;
  for (const auto& t : *test_messages) {
    test_bytes += t.raw.size();
  }

  // Scoring is timed on messages already in memory: parse + features + score, one thread.
  std::vector<pw::metrics::scored> records;
  records.reserve(test_messages->size());
  classifier c(m, s.limits);
  const auto score_start = std::chrono::steady_clock::now();
  for (const auto& t : *test_messages) {
    records.push_back({t.path, t.is_spam, c.score(t.raw).log_odds});
  }
  const double score_seconds = seconds_since(score_start);

  // Scores are calibrated log-odds, so the probability threshold becomes its logit.
  const double score_threshold = std::log(out.threshold / (1.0 - out.threshold));
  auto curve = pw::metrics::build_roc(records);
  if (!curve) {
    return fail(curve.error());
  }
  auto summary = pw::metrics::summarize(*curve, score_threshold);
  if (!summary) {
    return fail(summary.error());
  }
  if (!out.model_path.empty()) {
    if (auto r = m.save(out.model_path); !r) {
      return fail(r.error());
    }
  }
  if (!out.scores_path.empty()) {
    if (auto r = pw::metrics::write_scores_tsv(out.scores_path, records); !r) {
      return fail(r.error());
    }
  }
  if (!out.svg_path.empty()) {
    if (auto r = write_svg(out.svg_path, {{"Portwarden", std::move(*curve)}}); !r) {
      return fail(r.error());
    }
  }
  const double messages_per_second = static_cast<double>(records.size()) / score_seconds;
  const double mb_per_second = static_cast<double>(test_bytes) / 1e6 / score_seconds;
  if (out.as_json) {
    json j = summary_json(*summary);
    j["threshold_probability"] = out.threshold;
    j["score_units"] = "calibrated log-odds ln(p/(1-p))";
    j["train_messages"] = train->size();
    j["train_seconds"] = train_seconds;
    j["train_messages_per_second"] = static_cast<double>(train->size()) / train_seconds;
    j["test_messages"] = records.size();
    j["test_bytes"] = test_bytes;
    j["score_seconds"] = score_seconds;
    j["messages_per_second"] = messages_per_second;
    j["mb_per_second"] = mb_per_second;
    j["wall_seconds"] = seconds_since(start);
    j["model_bytes"] = 4096 + m.weights().size() * sizeof(float);
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("Portwarden content classifier, trained on %zu messages in %.2f s (%.0f msg/s)\n", train->size(),
                train_seconds, static_cast<double>(train->size()) / train_seconds);
    std::printf("scored %zu test messages (%.1f MB) in %.3f s: %.0f msg/s, %.1f MB/s, one thread\n", records.size(),
                static_cast<double>(test_bytes) / 1e6, score_seconds, messages_per_second, mb_per_second);
    char label[64];
    std::snprintf(label, sizeof label, "p >= %.3g", out.threshold);
    print_summary(*summary, label);
    if (!out.svg_path.empty()) {
      std::printf("  ROC plot          %s\n", out.svg_path.c_str());
    }
  }
  return exit_ok;
}

int run_roc(const std::vector<std::string>& inputs, double threshold, bool as_json, const std::string& svg_path) {
  std::vector<pw::metrics::named_curve> curves;
  json all = json::object();
  for (const auto& input : inputs) {
    // NAME=PATH names a curve; a bare PATH is named after the file.
    const auto eq = input.find('=');
    const std::string path = eq == std::string::npos ? input : input.substr(eq + 1);
    const std::string name = eq == std::string::npos ? std::filesystem::path(path).stem().string() : input.substr(0, eq);
    auto records = pw::metrics::read_scores_tsv(std::filesystem::path(path));
    if (!records) {
      return fail(records.error());
    }
    auto curve = pw::metrics::build_roc(*records);
    if (!curve) {
      return fail(curve.error());
    }
    auto summary = pw::metrics::summarize(*curve, threshold);
    if (!summary) {
      return fail(summary.error());
    }
    if (as_json) {
      all[name] = summary_json(*summary);
    } else {
      std::printf("%s (%s)\n", name.c_str(), path.c_str());
      print_summary(*summary, "score >= " + std::to_string(threshold));
    }
    curves.push_back({name, std::move(*curve)});
  }
  if (as_json) {
    std::cout << (inputs.size() == 1 ? all.begin().value() : all).dump(2) << "\n";
  }
  if (!svg_path.empty()) {
    if (auto r = write_svg(svg_path, std::move(curves)); !r) {
      return fail(r.error());
    }
  }
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Portwarden: outbound spam control for ISPs that reads no mail and loses none."};
  app.footer(exit_codes_help);
  app.require_subcommand(1);
  app.set_version_flag("--version", "portwarden 0.1.0");

  std::string model_path = "portwarden.model";
  model_settings settings;

  // check
  auto* check = app.add_subcommand("check", "Score one message: spam probability, verdict and the features behind it");
  std::string check_file = "-";
  bool check_json = false;
  std::size_t check_top = 10;
  double threshold = pw::classify::default_threshold;
  check->add_option("file", check_file, "message file, or - for standard input")->capture_default_str();
  check->add_option("-m,--model", model_path, "model file")->capture_default_str();
  check->add_flag("--json", check_json, "print JSON");
  check->add_option("--top", check_top, "how many contributing features to show")->capture_default_str();
  check->add_option("--threshold", threshold, "spam verdict at or above this probability")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  add_limit_settings(check, settings.limits);
  check->footer(exit_codes_help);

  // learn
  auto* learn = app.add_subcommand("learn", "Train the model incrementally on messages of one class");
  std::vector<std::string> learn_files;
  bool learn_spam = false;
  bool learn_ham = false;
  auto* spam_flag = learn->add_flag("--spam", learn_spam, "the files are spam");
  auto* ham_flag = learn->add_flag("--ham", learn_ham, "the files are ham (legitimate mail)");
  spam_flag->excludes(ham_flag);
  learn->add_option("files", learn_files, "message files")->required();
  learn->add_option("-m,--model", model_path, "model file (created when missing)")->capture_default_str();
  add_model_settings(learn, settings);
  learn->footer(exit_codes_help);

  // train
  auto* train = app.add_subcommand("train", "Train a new model from a labelled list (batch)");
  std::string train_list;
  train->add_option("--list", train_list, "LIST file: path<TAB>spam|ham per line")->required();
  train->add_option("-m,--model", model_path, "model file to write")->capture_default_str();
  add_model_settings(train, settings);
  train->footer(exit_codes_help);

  // eval
  auto* eval = app.add_subcommand("eval", "Train on one list, test on another, report ROC metrics and speed");
  std::string eval_train;
  std::string eval_test;
  eval_outputs outputs;
  eval->add_option("--train", eval_train, "training LIST")->required();
  eval->add_option("--test", eval_test, "test LIST")->required();
  eval->add_option("-m,--model", outputs.model_path, "also save the trained model here");
  eval->add_option("--scores", outputs.scores_path,
                   "write path<TAB>label<TAB>score for every test message (score: calibrated log-odds, 0 = p 0.5)");
  eval->add_option("--svg", outputs.svg_path, "write the ROC plot as SVG");
  eval->add_flag("--json", outputs.as_json, "print JSON");
  eval->add_option("--threshold", outputs.threshold, "operating threshold (spam probability) for lam%, hm%, sm%")
      ->check(CLI::Range(0.001, 0.999))
      ->capture_default_str();
  add_model_settings(eval, settings);
  eval->footer(exit_codes_help);

  // roc
  auto* roc = app.add_subcommand("roc", "ROC metrics (and a combined plot) from scores files of any filter");
  std::vector<std::string> roc_inputs;
  double roc_threshold = pw::classify::default_threshold;
  bool roc_json = false;
  std::string roc_svg;
  roc->add_option("--scores", roc_inputs, "[NAME=]FILE with path<TAB>spam|ham<TAB>score lines; repeatable")
      ->required();
  roc->add_option("--threshold", roc_threshold, "the filter's spam threshold (score >= threshold is spam)")
      ->capture_default_str();
  roc->add_flag("--json", roc_json, "print JSON");
  roc->add_option("--svg", roc_svg, "write all curves into one SVG plot");
  roc->footer(exit_codes_help);

  // campaigns eval
  auto* campaigns = app.add_subcommand("campaigns", "Campaign detection across subscribers (issue 4)");
  campaigns->require_subcommand(1);
  auto* campaigns_eval = campaigns->add_subcommand(
      "eval", "Measure campaign detection on mutated corpus spam and corpus ham: recall, false merges, speed");
  pw::app::campaigns_eval_options campaigns_eval_options;
  pw::app::add_campaigns_eval_options(*campaigns_eval, campaigns_eval_options);
  campaigns_eval->footer(exit_codes_help);

  // simulate
  auto* simulate = app.add_subcommand(
      "simulate", "Simulate an ISP's subscribers (people, bots, hijacked accounts...) and score detection (issue 5)");
  pw::app::simulate_options simulate_options;
  pw::app::add_simulate_options(*simulate, simulate_options);
  simulate->footer(exit_codes_help);

  // serve
  auto* serve = app.add_subcommand("serve", "Run the relay service: Postfix milter + policy delegation + HTTP API");
  std::string config_path = "/etc/portwarden/portwarden.toml";
  serve->add_option("-c,--config", config_path, "configuration file (TOML)")->capture_default_str();
  serve->footer("Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT drain and stop.\n"
                "Exit codes: 0 stopped cleanly, 2 usage error, 3 could not start (reasons logged).");

  // desk
  auto* desk = app.add_subcommand("desk", "The abuse desk: users of the web UI");
  desk->require_subcommand(1);
  auto* desk_user = desk->add_subcommand("user", "Desk users (roles viewer, operator, admin)");
  desk_user->require_subcommand(1);
  pw::app::desk_user_options user_options;
  user_options.config_path = config_path;
  auto* desk_user_add = desk_user->add_subcommand("add", "Add a user; the password is read from standard input");
  desk_user_add->add_option("name", user_options.name, "user name")->required();
  desk_user_add->add_option("--role", user_options.role, "viewer, operator or admin")->capture_default_str();
  desk_user_add->add_flag("--replace", user_options.replace, "set a new password and role for an existing user");
  desk_user_add->add_option("-c,--config", user_options.config_path, "configuration file (names desk.ledger)")
      ->capture_default_str();
  desk_user_add->footer(exit_codes_help);
  auto* desk_user_list = desk_user->add_subcommand("list", "List users: name, role, state");
  desk_user_list->add_option("-c,--config", user_options.config_path, "configuration file")->capture_default_str();
  desk_user_list->footer(exit_codes_help);
  desk->footer(exit_codes_help);

  // port25
  auto* port25 = app.add_subcommand("port25", "The port-25 registry: what routers must let through");
  port25->require_subcommand(1);
  pw::app::port25_export_options export_options;
  export_options.config_path = config_path;
  auto* port25_export = port25->add_subcommand(
      "export", "Addresses allowed to reach remote port 25 (plan defaults + exemptions, minus suspended)");
  port25_export->add_option("--format", export_options.format, "nft, json or csv")->capture_default_str();
  port25_export->add_option("-o,--output", export_options.output, "file to replace atomically (default: stdout)");
  port25_export->add_option("-c,--config", export_options.config_path, "configuration file")->capture_default_str();
  port25_export->footer(exit_codes_help);
  port25->footer(exit_codes_help);

  // config
  auto* config = app.add_subcommand("config", "Check a configuration file, list every option, or print the effective settings");
  config->require_subcommand(1);
  auto* config_check = config->add_subcommand("check", "Report every error in a configuration file as file:line:column");
  config_check->add_option("file", config_path, "configuration file")->capture_default_str();
  config_check->footer("Exit codes: 0 valid (warnings may be printed), 2 usage error, 3 invalid or unreadable.");
  auto* config_options = config->add_subcommand("options", "Every option with its type, default and help (Markdown)");
  config_options->footer(exit_codes_help);
  auto* config_dump = config->add_subcommand("dump", "The effective settings of a file as complete TOML, defaults included");
  config_dump->add_option("file", config_path, "configuration file")->capture_default_str();
  config_dump->footer(exit_codes_help);
  config->footer(exit_codes_help);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }

  if (check->parsed()) {
    return run_check(check_file, model_path, check_json, check_top, threshold, settings.limits);
  }
  if (learn->parsed()) {
    if (!learn_spam && !learn_ham) {
      std::fprintf(stderr, "portwarden learn: say --spam or --ham\n");
      return exit_usage;
    }
    return run_learn(learn_files, learn_spam, model_path, settings);
  }
  if (train->parsed()) {
    return run_train(train_list, model_path, settings);
  }
  if (eval->parsed()) {
    return run_eval(eval_train, eval_test, settings, outputs);
  }
  if (roc->parsed()) {
    return run_roc(roc_inputs, roc_threshold, roc_json, roc_svg);
  }
  if (campaigns_eval->parsed()) {
    return pw::app::run_campaigns_eval(campaigns_eval_options);
  }
  if (simulate->parsed()) {
    return pw::app::run_simulate(simulate_options);
  }
  if (serve->parsed()) {
    return pw::server::serve(config_path);
  }
  if (desk_user_add->parsed()) {
    return pw::app::run_desk_user_add(user_options);
  }
  if (desk_user_list->parsed()) {
    return pw::app::run_desk_user_list(user_options.config_path);
  }
  if (port25_export->parsed()) {
    return pw::app::run_port25_export(export_options);
  }
  if (config_options->parsed()) {
    std::fputs(pw::config::describe_options().c_str(), stdout);
    return exit_ok;
  }
  if (config_check->parsed() || config_dump->parsed()) {
    auto loaded = pw::config::load_file(config_path);
    if (!loaded) {
      std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
      return exit_error;
    }
    for (const auto& w : loaded->warnings) {
      std::fprintf(stderr, "%s\n", w.c_str());
    }
    if (config_dump->parsed()) {
      std::fputs(pw::config::to_toml(loaded->values).c_str(), stdout);
    } else {
      std::printf("%s: ok\n", config_path.c_str());
    }
    return exit_ok;
  }
  return exit_usage;
}
