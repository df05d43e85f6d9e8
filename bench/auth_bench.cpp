// bench/auth_bench.cpp — the cost of the desk's authentication primitives (pw_auth).
//
//   BM_hash_password_default   hash_password with the defaults (argon2id t=3, m=19 MiB, p=1): the time a
//                              login or password change spends; the defaults aim at well under 100 ms.
//   BM_hash_password_rfc9106   RFC 9106 option 2 unscaled (t=3, m=64 MiB, p=4), for comparison.
//   BM_verify_password         verify_password of a default hash (the login path).
//   BM_dummy_verify            dummy_verify (the unknown-user path); should match BM_verify_password.
//   BM_random_token            random_token (getrandom + base64url).
//   BM_rate_limit_allow        rate_limiter::allow over 100,000 keys at the key bound.
//   BM_find_cookie             find_cookie in a 10-pair header.
//
// Run: build/<dir>/bench/auth_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "auth/cookie.hpp"
#include "auth/password.hpp"
#include "auth/rate_limit.hpp"
#include "auth/token.hpp"

namespace {

void hash_with(benchmark::State& state, const pw::auth::argon2_params& params) {
  for (auto _ : state) {
    auto encoded = pw::auth::hash_password("correct horse battery staple", params);
    if (!encoded) {
      state.SkipWithError(encoded.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(encoded);
  }
}

void BM_hash_password_default(benchmark::State& state) { hash_with(state, {}); }
BENCHMARK(BM_hash_password_default)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_hash_password_rfc9106(benchmark::State& state) {
  hash_with(state, {.time_cost = 3, .memory_kib = 64 * 1024, .parallelism = 4});
}
BENCHMARK(BM_hash_password_rfc9106)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_verify_password(benchmark::State& state) {
  const auto encoded = pw::auth::hash_password("correct horse battery staple");
  if (!encoded) {
    state.SkipWithError(encoded.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(pw::auth::verify_password("wrong horse battery staple", *encoded));
  }
}
BENCHMARK(BM_verify_password)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_dummy_verify(benchmark::State& state) {
  pw::auth::dummy_verify("warm-up");
  for (auto _ : state) {
    pw::auth::dummy_verify("wrong horse battery staple");
  }
}
BENCHMARK(BM_dummy_verify)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_random_token(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(pw::auth::random_token());
  }
}
BENCHMARK(BM_random_token);

void BM_rate_limit_allow(benchmark::State& state) {
  constexpr std::size_t keys = 100'000;
  pw::auth::rate_limiter limiter({.burst = 5, .refill_per_minute = 5, .max_keys = keys});
  std::vector<std::string> addresses;
  for (std::size_t i = 0; i < keys; ++i) {
    addresses.push_back("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                        std::to_string(i % 256));
  }
  std::int64_t now = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.allow(addresses[i], now));
    i = (i + 7919) % keys;
    now += 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_rate_limit_allow);

void BM_find_cookie(benchmark::State& state) {
  std::string header;
  for (int i = 0; i < 9; ++i) {
    header += "pref" + std::to_string(i) + "=value" + std::to_string(i) + "; ";
  }
  header += "pw_session=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
  for (auto _ : state) {
    benchmark::DoNotOptimize(pw::auth::find_cookie(header, "pw_session"));
  }
}
BENCHMARK(BM_find_cookie);

}  // namespace

BENCHMARK_MAIN();
