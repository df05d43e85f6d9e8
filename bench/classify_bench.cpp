// bench/classify_bench.cpp — micro-benchmarks of the content classifier on real messages.
//
// Messages come from LIST files (path<TAB>spam|ham) named by environment variables, preloaded in
// memory so only CPU work is timed:
//   PW_BENCH_TRAIN  training list (a model is trained once, before the benchmarks)
//   PW_BENCH_LIST   messages to score
// `make bench` sets both to split A. Without them every benchmark reports an error and skips.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "classify/classifier.hpp"
#include "classify/trainer.hpp"

namespace {

using namespace pw::classify;

struct labelled {
  std::string raw;
  bool is_spam;
};

std::vector<labelled> load_list(const char* env) {
  std::vector<labelled> out;
  const char* path = std::getenv(env);
  if (path == nullptr) {
    return out;
  }
  std::ifstream list(path);
  std::string line;
  while (std::getline(list, line)) {
    const auto tab = line.rfind('\t');
    if (tab == std::string::npos) {
      continue;
    }
    std::ifstream f(line.substr(0, tab), std::ios::binary);
    out.push_back({std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()),
                   line.substr(tab + 1) == "spam"});
  }
  return out;
}

struct fixture {
  std::vector<labelled> train = load_list("PW_BENCH_TRAIN");
  std::vector<labelled> test = load_list("PW_BENCH_LIST");
  std::size_t test_bytes = 0;
  std::unique_ptr<model> trained;

  fixture() {
    for (const auto& m : test) {
      test_bytes += m.raw.size();
    }
    trained = std::make_unique<model>(feature_options{});
    if (!train.empty()) {
      train_batch(*trained, featurise(train), training_options{});
    }
  }

  // As `portwarden train` does it: on every core.
  static std::vector<labelled_features> featurise(const std::vector<labelled>& messages) {
    std::vector<labelled_text> texts;
    for (const auto& m : messages) {
      texts.push_back({m.raw, m.is_spam});
    }
    return pw::classify::featurise(texts, feature_options{}, std::max(1u, std::thread::hardware_concurrency()));
  }
};

fixture& data() {
  static fixture f;
  return f;
}

bool ready(benchmark::State& state) {
  if (data().test.empty() || data().train.empty()) {
    state.SkipWithError("set PW_BENCH_TRAIN and PW_BENCH_LIST to LIST files");
    return false;
  }
  return true;
}

// The bar: parse + features + score, one thread, messages in memory.
void score_messages(benchmark::State& state) {
  if (!ready(state)) {
    return;
  }
  classifier c(*data().trained);
  for (auto _ : state) {
    double sum = 0;
    for (const auto& m : data().test) {
      sum += c.score(m.raw).probability;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * data().test.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data().test_bytes));
}
BENCHMARK(score_messages)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void parse_only(benchmark::State& state) {
  if (!ready(state)) {
    return;
  }
  for (auto _ : state) {
    std::size_t parts = 0;
    for (const auto& m : data().test) {
      parts += pw::mime::parse(m.raw).parts.size();
    }
    benchmark::DoNotOptimize(parts);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * data().test.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data().test_bytes));
}
BENCHMARK(parse_only)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Training from raw messages: parse + features + all epochs + calibration, as `portwarden train`
// runs it (both cores: featurising is split, the calibration model trains beside the final one).
void train_messages(benchmark::State& state) {
  if (!ready(state)) {
    return;
  }
  for (auto _ : state) {
    model m{feature_options{}};
    train_batch(m, fixture::featurise(data().train), training_options{});
    benchmark::DoNotOptimize(m.bias());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * data().train.size()));
}
BENCHMARK(train_messages)->Unit(benchmark::kMillisecond)->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
