// telemetry/registry.hpp — counters, gauges and latency histograms, rendered in Prometheus text format.
//
// Purpose: the daemon's operational numbers (messages, verdicts by action, per-stage latency, deadline
// fallbacks, protocol errors) for `/metrics`. A registry owns every metric; callers keep plain
// references obtained once at start-up and update them on hot paths without locks.
//
// Guarantees: updates are lock-free atomics (relaxed: a scrape may see one metric a few events ahead of
// another, which Prometheus tolerates); rendering follows the text exposition format 0.0.4 (HELP,
// TYPE, cumulative `_bucket{le=...}`, `_sum`, `_count`). Metric and label names are checked against the
// Prometheus grammar when registered (programmer error → assert), label values are escaped.
// Ownership: metrics live as long as the registry; references stay valid (they are never moved).
// Thread-safety: registration is mutex-guarded and meant for start-up; updates and `render` may run
// concurrently from any thread.
// Privacy: labels are fixed vocabularies (action, stage, reason); never subscriber ids or addresses,
// which would also explode the series count.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pw::telemetry {

using labels = std::vector<std::pair<std::string, std::string>>;

class counter {
 public:
  void add(std::uint64_t n = 1) noexcept { _value.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return _value.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> _value{0};
};

class gauge {
 public:
  void set(std::int64_t v) noexcept { _value.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) noexcept { _value.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return _value.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> _value{0};
};

// Fixed upper bounds in seconds; observations are recorded in microseconds so the sum stays an
// integer atomic.
class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds_seconds);
  void observe_us(std::uint64_t microseconds) noexcept;
  const std::vector<double>& bounds() const noexcept { return _bounds; }
  // Cumulative counts per bound plus the +Inf bucket (the total), and the sum in seconds.
  std::vector<std::uint64_t> cumulative() const;
  double sum_seconds() const noexcept;
  std::uint64_t count() const noexcept;

 private:
  std::vector<double> _bounds;
  std::vector<std::uint64_t> _bounds_us;
  std::unique_ptr<std::atomic<std::uint64_t>[]> _buckets;  // one per bound + the overflow bucket
  std::atomic<std::uint64_t> _sum_us{0};
};

// Latency buckets for verdict paths: 50 µs .. 10 s.
std::vector<double> latency_buckets();

class registry {
 public:
  counter& add_counter(std::string_view name, std::string_view help, labels l = {});
  gauge& add_gauge(std::string_view name, std::string_view help, labels l = {});
  histogram& add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds, labels l = {});
  std::string render() const;

 private:
  enum class kind { counter, gauge, histogram };
  struct family {
    std::string name;
    std::string help;
    kind type;
  };
  struct series {
    std::size_t family;
    labels l;
    counter* c = nullptr;
    gauge* g = nullptr;
    histogram* h = nullptr;
  };
  std::size_t family_for(std::string_view name, std::string_view help, kind type);

  mutable std::mutex _mutex;
  std::vector<family> _families;
  std::vector<series> _series;
  std::deque<counter> _counters;  // deques: references stay valid as metrics are added
  std::deque<gauge> _gauges;
  std::deque<histogram> _histograms;
};

}  // namespace pw::telemetry
