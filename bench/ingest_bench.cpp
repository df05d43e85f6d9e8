// Delivery-log parsing speed: the hand-written scanner (ingest/maillog.hpp) against std::regex doing
// the same job (queue id, dsn class, status) on the same lines. A busy relay logs one line per
// recipient and most lines are not delivery lines, so the mix is 1 bounce, 2 sent, 1 deferred and
// 4 lines of other Postfix programs.
#include <benchmark/benchmark.h>

#include <regex>
#include <string>
#include <vector>

#include "ingest/maillog.hpp"

namespace {

const std::vector<std::string>& lines() {
  static const std::vector<std::string> l = {
      "Nov 28 03:36:01 relay postfix/error[4242]: 4NhTQ81x2Fz9vKD: to=<nobody@bounce.test>, relay=none, "
      "delay=0.02, delays=0.01/0/0/0.01, dsn=5.1.1, status=bounced (mailbox unavailable)",
      "Nov 28 03:36:02 relay postfix/smtp[4243]: 4NhTQ81x2Fz9vKE: to=<a@b.example>, relay=mx.b.example[192.0.2.8]:25, "
      "delay=0.1, delays=0.05/0.01/0.02/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Nh)",
      "Nov 28 03:36:02 relay postfix/smtp[4244]: 4NhTQ81x2Fz9vKF: to=<c@d.example>, relay=mx.d.example[192.0.2.9]:25, "
      "delay=0.3, delays=0.05/0.01/0.2/0.04, dsn=2.0.0, status=sent (250 ok)",
      "Nov 28 03:36:03 relay postfix/smtp[4243]: 4NhTQ81x2Fz9vKG: to=<e@f.example>, relay=mx.f.example[192.0.2.10]:25, "
      "delay=300, delays=0/0/0.3/0, dsn=4.7.1, status=deferred (host said: 450 4.7.1 greylisted)",
      "Nov 28 03:36:01 relay postfix/smtpd[1]: connect from unknown[10.0.0.7]",
      "Nov 28 03:36:01 relay postfix/cleanup[3]: 4NhTQ81x2Fz9vKD: message-id=<x@y.example>",
      "Nov 28 03:36:01 relay postfix/qmgr[2]: 4NhTQ81x2Fz9vKD: from=<a@b.example>, size=3000, nrcpt=1 (queue active)",
      "Nov 28 03:36:04 relay postfix/qmgr[2]: 4NhTQ81x2Fz9vKD: removed",
  };
  return l;
}

void BM_parse_delivery_line(benchmark::State& state) {
  std::size_t hard = 0;
  for (auto _ : state) {
    for (const std::string& line : lines()) {
      const auto d = pw::ingest::parse_delivery_line(line);
      hard += d && pw::ingest::is_hard_bounce(*d) ? 1 : 0;
    }
  }
  benchmark::DoNotOptimize(hard);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines().size()));
}
BENCHMARK(BM_parse_delivery_line);

void BM_std_regex(benchmark::State& state) {
  static const std::regex delivery(
      R"((?:^| )postfix[-\w.]*/(smtp|lmtp|error|local|virtual|pipe|retry|discard)\[\d+\]: ([0-9A-Za-z]{6,32}): to=<.*?, relay=.*?(?:, dsn=([2-5])\.\d+\.\d+)?, status=(sent|deferred|bounced|expired))");
  std::size_t hard = 0;
  for (auto _ : state) {
    for (const std::string& line : lines()) {
      std::smatch m;
      if (std::regex_search(line, m, delivery)) {
        hard += m[4] == "bounced" && (!m[3].matched || m[3] == "5") ? 1 : 0;
      }
    }
  }
  benchmark::DoNotOptimize(hard);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines().size()));
}
BENCHMARK(BM_std_regex);

}  // namespace

BENCHMARK_MAIN();
