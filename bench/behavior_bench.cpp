// bench/behavior_bench.cpp — the behaviour engine's speed and memory, and the subscriber lookup.
//
//   BM_on_message      on_message decisions/s on one thread over 100,000 subscribers (issue 3 bar:
//                      ≥ 200,000/s). Event mix: subscribers drawn with a skew (a few send most
//                      mail), 1 recipient for 80 % of messages, 2–5 for 18 %, 20 for 2 %; recipients
//                      mostly from each subscriber's circle of 30, 15 % strangers; a spam probability
//                      on 90 % (content-blind for the rest); 10 % in a campaign, half of those in an
//                      active one (3–50 subscribers); time advances 2 ms per message.
//   BM_on_recipient    the RCPT-time gate on the same population, given each event's first recipient
//                      (recorded only when the gate defers; ~all of them answer from the level).
//   BM_memory_1M       1,000,000 subscribers, one message each; counters: bytes_per_subscriber from
//                      the allocator (glibc mallinfo2: bytes in use, chunk headers included) and
//                      rss_bytes_per_subscriber (RSS growth; meaningful in the first repetition only,
//                      since freed pages stay resident). Bar: ≤ 256 bytes per active subscriber.
//   BM_cidr_lookup     by_address over 100,000 entries (v4 /32, /29, /24; v6 /64, /56).
//   BM_hash_recipient  keyed hash of one recipient address.
//
// Run: build/<dir>/bench/behavior_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "behavior/engine.hpp"
#include "identity/directory.hpp"

namespace {

using namespace pw::behavior;

constexpr std::int64_t t0 = 1'767'225'600'000;  // 2026-01-01 00:00 UTC
constexpr int population = 100'000;

std::string subscriber_id(int i) {
  // Half logins, half unknown addresses, as the relay names them (16–22 bytes).
  if (i % 2 == 0) {
    return "user" + std::to_string(i) + "@isp.example";
  }
  return "ip:10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
         std::to_string(i & 255);
}

struct event_source {
  std::vector<std::string> ids;
  std::vector<std::uint64_t> hashes;  // recipient and domain hashes, pooled
  struct ev {
    std::uint32_t subscriber;
    std::uint32_t first;  // offset into hashes: recipients, then as many domains
    std::uint8_t recipients;
    bool scored;
    float spam;
    std::uint8_t campaign;  // 0: none; 1: single-sender (inactive); ≥ 3: active, that many subscribers
  };
  std::vector<ev> events;

  explicit event_source(std::size_t count) {
    const recipient_hasher hasher("bench secret");
    for (int i = 0; i < population; ++i) {
      ids.push_back(subscriber_id(i));
    }
    std::mt19937_64 rng(42);
    // Skew: squaring a uniform draw makes low-numbered subscribers send far more.
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::size_t e = 0; e < count; ++e) {
      const auto s = static_cast<std::uint32_t>(u(rng) * u(rng) * population);
      const double k = u(rng);
      const int n = k < 0.80 ? 1 : (k < 0.98 ? 2 + static_cast<int>(rng() % 4) : 20);
      const auto first = static_cast<std::uint32_t>(hashes.size());
      std::vector<std::string> rcpts;
      for (int r = 0; r < n; ++r) {
        if (u(rng) < 0.15) {
          rcpts.push_back("stranger" + std::to_string(rng() % 10'000'000) + "@d" + std::to_string(rng() % 50000) +
                          ".example");
        } else {
          const auto c = rng() % 30;
          rcpts.push_back("c" + std::to_string(c) + "." + std::to_string(s) + "@mail" + std::to_string(c % 5) +
                          ".example");
        }
      }
      for (const std::string& a : rcpts) {
        hashes.push_back(hasher.recipient(a));
      }
      for (const std::string& a : rcpts) {
        hashes.push_back(hasher.domain(a));
      }
      const bool scored = u(rng) < 0.9;
      const auto spam = static_cast<float>(u(rng) * 0.4);
      const double c = u(rng);
      const auto campaign = static_cast<std::uint8_t>(c < 0.05 ? 1 : (c < 0.10 ? 3 + rng() % 48 : 0));
      events.push_back({s, first, static_cast<std::uint8_t>(n), scored, spam, campaign});
    }
  }

  message_event make(std::size_t i, std::int64_t now) const {
    const ev& e = events[i % events.size()];
    message_event m;
    m.subscriber = ids[e.subscriber];
    m.plan = "residential";
    m.now_ms = now;
    m.helo_hash = e.subscriber * 0x9E3779B97F4A7C15ULL;
    m.sender_hash = e.subscriber * 0xC2B2AE3D27D4EB4FULL;
    m.recipient_hashes = {hashes.data() + e.first, e.recipients};
    m.recipient_domain_hashes = {hashes.data() + e.first + e.recipients, e.recipients};
    if (e.scored) {
      m.spam_probability = e.spam;
    }
    if (e.campaign != 0) {
      m.campaign = campaign_evidence{e.campaign, e.campaign >= 3};
    }
    return m;
  }
};

const event_source& events() {
  static const event_source source(1 << 20);
  return source;
}

void BM_on_message(benchmark::State& state) {
  const event_source& src = events();
  engine eng;
  std::int64_t now = t0;
  // Every subscriber known before timing: the steady state of a running relay.
  for (int i = 0; i < population; ++i) {
    message_event m = src.make(0, now);
    m.subscriber = src.ids[static_cast<std::size_t>(i)];
    eng.on_message(m);
  }
  std::size_t i = 0;
  std::size_t held = 0;
  for (auto _ : state) {
    now += 2;
    const decision d = eng.on_message(src.make(i++, now));
    held += d.act == action::hold ? 1 : 0;
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["held_share"] = static_cast<double>(held) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_on_message);

void BM_on_recipient(benchmark::State& state) {
  const event_source& src = events();
  engine eng;
  for (std::size_t i = 0; i < 200'000; ++i) {
    eng.on_message(src.make(i, t0 + static_cast<std::int64_t>(i) * 2));
  }
  std::size_t i = 0;
  const std::int64_t now = t0 + 400'000;
  for (auto _ : state) {
    const auto& e = src.events[i++ % src.events.size()];
    benchmark::DoNotOptimize(eng.on_recipient(src.ids[e.subscriber], "residential", now, src.hashes[e.first],
                                              src.hashes[e.first + e.recipients]));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_on_recipient);

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0;
  std::size_t resident = 0;
  statm >> size >> resident;
  return resident * 4096;
}

std::size_t allocated_bytes() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

void BM_memory_1M(benchmark::State& state) {
  constexpr int subscribers = 1'000'000;
  const recipient_hasher hasher("bench secret");
  const std::uint64_t rcpt[1] = {hasher.recipient("friend@example.net")};
  const std::uint64_t dom[1] = {hasher.domain("friend@example.net")};
  std::vector<std::string> ids;
  ids.reserve(subscribers);
  for (int i = 0; i < subscribers; ++i) {
    ids.push_back(subscriber_id(i));
  }
  for (auto _ : state) {
    const std::size_t rss_before = rss_bytes();
    const std::size_t heap_before = allocated_bytes();
    auto eng = std::make_unique<engine>();
    for (int i = 0; i < subscribers; ++i) {
      message_event m;
      m.subscriber = ids[static_cast<std::size_t>(i)];
      m.plan = "residential";
      m.now_ms = t0 + i;
      m.recipient_hashes = rcpt;
      m.recipient_domain_hashes = dom;
      m.spam_probability = 0.1;
      eng->on_message(m);
    }
    const std::size_t heap_after = allocated_bytes();
    const std::size_t rss_after = rss_bytes();
    state.counters["bytes_per_subscriber"] = static_cast<double>(heap_after - heap_before) / subscribers;
    state.counters["rss_bytes_per_subscriber"] =
        static_cast<double>(rss_after > rss_before ? rss_after - rss_before : 0) / subscribers;
    state.PauseTiming();
    eng.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_memory_1M)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_cidr_lookup(benchmark::State& state) {
  std::mt19937 rng(7);
  std::vector<pw::identity::directory_entry> entries;
  char buf[64];
  for (int i = 0; i < 100'000; ++i) {
    const int kind = i % 5;
    const auto u = static_cast<unsigned>(i);
    if (kind == 0) {
      std::snprintf(buf, sizeof buf, "10.%u.%u.0/24", (u >> 8) & 255, u & 255);
    } else if (kind == 1) {
      std::snprintf(buf, sizeof buf, "100.%u.%u.%u/29", 64 + (u >> 13), (u >> 5) & 255, (u & 31) * 8);
    } else if (kind == 2) {
      std::snprintf(buf, sizeof buf, "172.%u.%u.%u", 16 + (u >> 16), (u >> 8) & 255, u & 255);
    } else if (kind == 3) {
      std::snprintf(buf, sizeof buf, "2001:db8:%x:%x::/64", u >> 16, u & 0xffff);
    } else {
      std::snprintf(buf, sizeof buf, "2a00:%x:%x::/56", u >> 16, u & 0xffff);
    }
    entries.push_back({buf, "sub-" + std::to_string(i), "residential", ""});
  }
  auto dir = pw::identity::cidr_directory::build(entries);
  if (!dir) {
    state.SkipWithError(dir.error().message.c_str());
    return;
  }
  std::vector<std::string> probes;
  for (int i = 0; i < 4096; ++i) {
    const std::uint32_t r = rng();
    if (i % 2 == 0) {
      std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", i % 4 == 0 ? 10U : 172U, (r >> 16) & 255, (r >> 8) & 255, r & 255);
    } else {
      std::snprintf(buf, sizeof buf, "2001:db8:%x:%x::%x", (r >> 16) & 1, r & 0xffff, r & 0xff);
    }
    probes.emplace_back(buf);
  }
  std::size_t i = 0;
  std::size_t found = 0;
  for (auto _ : state) {
    const auto r = dir->by_address(probes[i++ & 4095]);
    found += r.found() ? 1 : 0;
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["found_share"] = static_cast<double>(found) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_cidr_lookup);

void BM_hash_recipient(benchmark::State& state) {
  const recipient_hasher hasher("bench secret");
  const std::string address = "Some.Person+tag@Example-Mail.net";
  for (auto _ : state) {
    benchmark::DoNotOptimize(hasher.recipient(address));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_hash_recipient);

}  // namespace

BENCHMARK_MAIN();
