// Issue 4's speed and memory bars for fingerprints and the campaign tracker.
// Usage: fingerprint_bench [list ...]   (lists of "path<TAB>label" lines; default: the SpamAssassin
// split in /tmp/pwcache/split-a; synthetic messages when none is readable). Prints medians of 5.
//  - fingerprints/s from raw bytes (mime::parse included) and from already-parsed messages;
//  - tracker observe/s on one thread and on two threads sharing one tracker (mutex contention);
//  - bytes per tracked signature with 1 M single-message campaigns (glibc mallinfo2 heap growth).
// Campaign quality (template recall, false merges) is measured by `portwarden campaigns eval`.
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "campaign/tracker.hpp"
#include "fingerprint/fingerprint.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
struct sample {
  std::string raw;
  bool spam = false;
};

std::vector<sample> load(const std::vector<std::string>& lists) {
  std::vector<sample> out;
  for (const auto& l : lists) {
    std::ifstream in(l);
    std::string line;
    while (std::getline(in, line)) {
      const auto tab = line.find('\t');
      std::ifstream f(line.substr(0, tab), std::ios::binary);
      if (!f) {
        continue;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      out.push_back({ss.str(), tab != std::string::npos && line.substr(tab + 1) == "spam"});
    }
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class Fn>
double rate(std::size_t n, Fn&& fn) {
  std::vector<double> r;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = clock_type::now();
    fn();
    r.push_back(static_cast<double>(n) / std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  return median(r);
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Per second of this thread's CPU time: on a shared machine, wall time also counts the time other
// processes held the core; both are printed.
template <class Fn>
double cpu_rate(std::size_t n, Fn&& fn) {
  std::vector<double> r;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = thread_cpu_seconds();
    fn();
    r.push_back(static_cast<double>(n) / (thread_cpu_seconds() - t0));
  }
  return median(r);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> lists(argv + 1, argv + argc);
  if (lists.empty()) {
    lists = {"/tmp/pwcache/split-a/train.list", "/tmp/pwcache/split-a/test.list"};
  }
  std::vector<sample> corpus = load(lists);
  if (corpus.empty()) {
    std::mt19937 rng(1);
    for (int i = 0; i < 3000; ++i) {
      std::string m = "Subject: message " + std::to_string(i) + "\r\nTo: u@isp.example\r\n\r\n";
      for (int w = 0; w < 250; ++w) {
        m += "word" + std::to_string(rng() % 20000) + (w % 12 == 11 ? ".\n" : " ");
      }
      corpus.push_back({m, i % 2 == 0});
    }
    std::printf("corpus: synthetic, %zu messages\n", corpus.size());
  } else {
    std::printf("corpus: %zu messages from %zu lists\n", corpus.size(), lists.size());
  }
  auto fpr = pw::fingerprint::fingerprinter::create("bench secret");
  if (!fpr) {
    std::fprintf(stderr, "%s\n", fpr.error().message.c_str());
    return 1;
  }
  const auto& f = *fpr;
  const std::string_view env[] = {"someone@isp.example"};

  std::uint64_t sink = 0;
  const double raw_rate = rate(corpus.size(), [&] {
    for (const auto& s : corpus) {
      sink += f.compute_raw(s.raw, env).shingles;
    }
  });
  std::vector<pw::mime::message> parsed;
  parsed.reserve(corpus.size());
  for (const auto& s : corpus) {
    parsed.push_back(pw::mime::parse(s.raw));
  }
  const double parsed_rate = rate(corpus.size(), [&] {
    for (const auto& m : parsed) {
      sink += f.compute(m, env).shingles;
    }
  });
  const double raw_cpu = cpu_rate(corpus.size(), [&] {
    for (const auto& s : corpus) {
      sink += f.compute_raw(s.raw, env).shingles;
    }
  });
  const double parsed_cpu = cpu_rate(corpus.size(), [&] {
    for (const auto& m : parsed) {
      sink += f.compute(m, env).shingles;
    }
  });
  std::printf("fingerprints/s, one core, raw bytes (parse included): %.0f wall, %.0f per CPU second\n", raw_rate, raw_cpu);
  std::printf("fingerprints/s, one core, already parsed:             %.0f wall, %.0f per CPU second\n", parsed_rate, parsed_cpu);

  std::vector<pw::fingerprint::signature> sigs;
  for (const auto& m : parsed) {
    sigs.push_back(f.compute(m, env));
  }
  const std::size_t bins = f.opts().bins;
  {
    const double one = rate(sigs.size() * 4, [&] {
      pw::campaign::tracker t({}, bins, "bench secret");
      for (int rep = 0; rep < 4; ++rep) {
        for (std::size_t i = 0; i < sigs.size(); ++i) {
          sink += t.observe(sigs[i], "sub" + std::to_string(i % 97), 1'000'000 + static_cast<std::int64_t>(i)).messages;
        }
      }
    });
    const double two = rate(sigs.size() * 4, [&] {
      pw::campaign::tracker t({}, bins, "bench secret");
      auto work = [&](int part) {
        for (int rep = 0; rep < 2; ++rep) {
          for (std::size_t i = 0; i < sigs.size(); ++i) {
            sink += t.observe(sigs[i], "sub" + std::to_string((i + part) % 97), 1'000'000 + static_cast<std::int64_t>(i)).messages;
          }
        }
      };
      std::thread a(work, 0);
      std::thread b(work, 1);
      a.join();
      b.join();
    });
    std::printf("tracker observe/s: one thread %.0f, two threads sharing it %.0f (total)\n", one, two);
  }

  {
    constexpr std::size_t n = 1'000'000;
    pw::campaign::tracker_settings s;
    s.max_campaigns = 2 * n;
    std::mt19937_64 rng(3);
    pw::fingerprint::signature sig;
    sig.bin_count = static_cast<std::uint8_t>(bins);
    sig.shingles = 100;
    sig.words = 200;
    malloc_trim(0);
    const std::size_t before = mallinfo2().uordblks + mallinfo2().hblkhd;
    {
      pw::campaign::tracker t(s, bins, "bench secret");
      double slowest = 0;  // an observe that grows (rebuilds) the index tables
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t b = 0; b < bins; ++b) {
          sig.bins[b] = static_cast<std::uint32_t>(rng());
        }
        const auto t0 = clock_type::now();
        t.observe(sig, "s", 1'000'000);
        slowest = std::max(slowest, std::chrono::duration<double>(clock_type::now() - t0).count());
      }
      const std::size_t after = mallinfo2().uordblks + mallinfo2().hblkhd;
      std::printf("slowest observe while filling to %zu (index growth): %.1f ms\n", n, slowest * 1000);
      std::printf("tracked signatures: %zu campaigns, %.1f bytes per tracked signature (heap in use incl. mmapped blocks)\n", t.size(),
                  static_cast<double>(after - before) / static_cast<double>(t.size()));
    }
  }

  return sink == 42 ? 1 : 0;
}
