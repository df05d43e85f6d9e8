// app/simulate.hpp — `portwarden simulate`: issue 5's ISP simulator and detection scorecard.
//
// Purpose: wires the simulator (src/sim) to its inputs and outputs. It reads the scenario file and
// the corpus (CACHE/split-a: the model, `--model`, is one `portwarden train` made from train.list;
// the people's mail and the spam templates come from test.list, so the model never saw them), builds
// the content library (every text scored and fingerprinted once), and runs the population either
// in process — the daemon's decider, engine and campaign tracker, on the same settings a
// portwarden.toml gives the daemon (--config) — or through a real Postfix relay with
// `portwarden serve` as milter + policy (--through-postfix; the daemon must run with
// server.clock = "api" and the subscriber file this command writes with --write-subscribers).
// Prints the scorecard, and writes it as JSON and HTML when asked.
//
// Failure modes: unreadable scenario, corpus, model or config, or an unreachable relay: message on
// stderr, exit 3; a scenario error lists every problem as file:line:column. Bars missed do not
// change the exit code (the scorecard says so). Thread-safety: a command, run once per process.
// Privacy: the output holds counts and synthetic subscriber ids only.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace pw::app {

struct simulate_options {
  std::string scenario;
  std::uint64_t subscribers = 10'000;
  std::string duration = "24h";
  std::uint64_t seed = 1;
  std::string cache = ".cache";
  std::string model;          // required unless content_blind (portwarden train on CACHE/split-a/train.list)
  std::string config;         // portwarden.toml for engine, campaign and privacy settings; "" = defaults
  bool content_blind = false;
  std::string json_path;
  std::string html_path;
  bool quiet = false;         // no progress bar
  std::size_t variants = 200; // per spam campaign
  bool no_desk = false;       // in process: do not simulate the abuse desk and its customers
  bool no_bounces = false;    // in process: no bounces of invalid recipients reach the engine
  // --through-postfix
  bool through_postfix = false;
  std::string smtp = "127.0.0.1:10025";  // the Postfix relay's smtpd
  std::string api = "127.0.0.1:10080";   // the daemon's HTTP API (clock, subscriber levels)
  std::string write_subscribers;         // write the daemon's subscriber file here and exit
  std::string verdicts_path;             // per-subscriber final levels (TSV), to compare two runs
};

void add_simulate_options(CLI::App& cmd, simulate_options& o);
int run_simulate(const simulate_options& o);

}  // namespace pw::app
