// bench/ledger_bench.cpp — the abuse desk's case list on a large ledger (issue 6 bar: the first page
// of list_cases ≤ 50 ms with 100,000 cases).
//
// Setup (once per process, timed and printed): a file-backed ledger in a temporary directory, filled
// through the ledger API with 100,000 cases over 20,000 subscribers (user<j>@isp.example): five rounds
// of one case per subscriber, rounds 1–4 resolved, the fifth open, notified, monitoring, escalated or
// resolved by subscriber (84,000 resolved, 4,000 of each other status); a third of the cases assigned
// to "alice", a third to "bob". Each open_case also writes its "opened" event.
//
//   BM_list_first_page      limit 50, no filter
//   BM_list_status_open     status = open (4,000 matching)
//   BM_list_prefix_narrow   subscriber prefix "user1234" (11 subscribers, 55 cases): a desk search
//   BM_list_prefix_broad    subscriber prefix "user1" (11,111 subscribers, 55,555 cases)
//   BM_list_prefix_open     subscriber prefix "user1" and status = open (2,222 cases)
//   BM_list_assignee        assignee = alice, unresolved only
//   BM_list_unresolved      unresolved only (16,000 matching)
//   BM_list_deep_page       no filter, before_id = 1,000 (the 999 oldest cases remain)
//   BM_unresolved_case_for  the engine's per-subscriber look-up
//   BM_count_cases          the dashboard's counts by status
// Every list_cases call also counts its total; the counter `total` shows it.
//
// Run: build/<dir>/bench/ledger_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "ledger/sqlite_ledger.hpp"

namespace {

using namespace pw::ledger;
namespace fs = std::filesystem;

constexpr int subscribers = 20'000;
constexpr int rounds = 5;
constexpr std::int64_t t0 = 1'767'225'600'000;  // 2026-01-01 00:00 UTC

std::string subscriber_id(int j) { return "user" + std::to_string(j) + "@isp.example"; }

class filled_ledger {
 public:
  filled_ledger() {
    _dir = fs::temp_directory_path() / ("pw_ledger_bench_" + std::to_string(::getpid()));
    fs::remove_all(_dir);
    fs::create_directories(_dir);
    auto opened = open_sqlite_ledger((_dir / "ledger.db").string());
    if (!opened) {
      std::fprintf(stderr, "ledger_bench: %s\n", opened.error().message.c_str());
      std::exit(1);
    }
    _ledger = std::move(*opened);
    const auto start = std::chrono::steady_clock::now();
    const case_status last_round[] = {case_status::open, case_status::notified, case_status::monitoring,
                                      case_status::escalated, case_status::resolved};
    const char* assignees[] = {"", "alice", "bob"};
    std::int64_t at = t0;
    for (int r = 0; r < rounds; ++r) {
      for (int j = 0; j < subscribers; ++j) {
        auto c = _ledger->open_case(subscriber_id(j), "hold", "120 messages to 118 new domains in 10 min", ++at);
        if (!c || !c->opened) {
          std::fprintf(stderr, "ledger_bench: filling failed: %s\n",
                       c ? "case already open" : c.error().message.c_str());
          std::exit(1);
        }
        case_row row = std::move(c->row);
        row.status = r + 1 < rounds ? case_status::resolved : last_round[j % 5];
        row.assignee = assignees[(j + r) % 3];
        row.updated_ms = ++at;
        if (row.status == case_status::resolved) {
          row.resolved_ms = at;
        }
        if (auto updated = _ledger->update_case(row); !updated) {
          std::fprintf(stderr, "ledger_bench: filling failed: %s\n", updated.error().message.c_str());
          std::exit(1);
        }
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "ledger_bench: filled %d cases over %d subscribers in %.1f s (%s)\n", rounds * subscribers,
                 subscribers, seconds, (_dir / "ledger.db").c_str());
  }
  filled_ledger(const filled_ledger&) = delete;
  filled_ledger& operator=(const filled_ledger&) = delete;
  ~filled_ledger() {
    _ledger.reset();
    std::error_code ec;
    fs::remove_all(_dir, ec);
  }

  ledger& get() { return *_ledger; }

 private:
  fs::path _dir;
  std::unique_ptr<ledger> _ledger;
};

ledger& filled() {
  static filled_ledger instance;
  return instance.get();
}

void list(benchmark::State& state, const case_filter& f, const page_request& p) {
  ledger& l = filled();
  std::int64_t total = 0;
  for (auto _ : state) {
    auto page = l.list_cases(f, p);
    if (!page) {
      state.SkipWithError(page.error().message.c_str());
      return;
    }
    total = page->total;
    benchmark::DoNotOptimize(page->rows.data());
  }
  state.counters["total"] = static_cast<double>(total);
}

void BM_list_first_page(benchmark::State& state) { list(state, {}, {}); }

void BM_list_status_open(benchmark::State& state) {
  case_filter f;
  f.status = case_status::open;
  list(state, f, {});
}

void BM_list_prefix_narrow(benchmark::State& state) {
  case_filter f;
  f.subscriber_prefix = "user1234";
  list(state, f, {});
}

void BM_list_prefix_broad(benchmark::State& state) {
  case_filter f;
  f.subscriber_prefix = "user1";
  list(state, f, {});
}

void BM_list_prefix_open(benchmark::State& state) {
  case_filter f;
  f.subscriber_prefix = "user1";
  f.status = case_status::open;
  list(state, f, {});
}

void BM_list_assignee(benchmark::State& state) {
  case_filter f;
  f.assignee = "alice";
  f.unresolved_only = true;
  list(state, f, {});
}

void BM_list_unresolved(benchmark::State& state) {
  case_filter f;
  f.unresolved_only = true;
  list(state, f, {});
}

void BM_list_deep_page(benchmark::State& state) {
  page_request p;
  p.before_id = 1000;
  list(state, {}, p);
}

void BM_unresolved_case_for(benchmark::State& state) {
  ledger& l = filled();
  int j = 0;
  for (auto _ : state) {
    auto c = l.unresolved_case_for(subscriber_id(j));
    benchmark::DoNotOptimize(c.found());
    j = (j + 7919) % subscribers;
  }
}

void BM_count_cases(benchmark::State& state) {
  ledger& l = filled();
  for (auto _ : state) {
    auto counts = l.count_cases();
    benchmark::DoNotOptimize(counts.has_value());
  }
}

BENCHMARK(BM_list_first_page)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_list_status_open)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_list_prefix_narrow)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_list_prefix_broad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_list_prefix_open)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_list_assignee)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_list_unresolved)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_list_deep_page)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_unresolved_case_for)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_count_cases)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
