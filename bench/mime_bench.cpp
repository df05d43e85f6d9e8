// bench/mime_bench.cpp — parse throughput on a real corpus.
//
// Loads every message listed in the file named by PW_BENCH_LIST (lines "path<TAB>label") into memory
// once, then parses all of them per iteration. Reports items_per_second (messages) and
// bytes_per_second. Without PW_BENCH_LIST the benchmark is skipped, so the binary runs anywhere.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mime/message.hpp"

namespace {

std::vector<std::string> load_corpus(const char* list_path) {
  std::vector<std::string> messages;
  std::ifstream list(list_path);
  std::string line;
  while (std::getline(list, line)) {
    const std::string path = line.substr(0, line.find('\t'));
    if (path.empty()) {
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      continue;
    }
    messages.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return messages;
}

void bm_parse_corpus(benchmark::State& state) {
  const char* list_path = std::getenv("PW_BENCH_LIST");
  if (list_path == nullptr) {
    state.SkipWithError("PW_BENCH_LIST is not set (a file of path<TAB>label lines)");
    return;
  }
  static const std::vector<std::string> messages = load_corpus(list_path);
  if (messages.empty()) {
    state.SkipWithError("PW_BENCH_LIST names no readable messages");
    return;
  }
  std::size_t bytes = 0;
  for (const auto& m : messages) {
    bytes += m.size();
  }
  for (auto _ : state) {
    for (const auto& m : messages) {
      pw::mime::message parsed = pw::mime::parse(m);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messages.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(bm_parse_corpus)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
