// server/dashboard.hpp (private) — the desk dashboard's time series: one point per minute for 24 h.
//
// The counters in telemetry are totals since start; the dashboard wants rates over time. A sampler
// (the desk thread, once a minute of real time) takes the totals and stores the differences since the
// previous sample, with the gauges (open cases, active campaigns) as they are. Memory is fixed: 1,440
// points. Thread-safe: one mutex; `sample` from one thread, `points` from HTTP workers.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace pw::server {

struct dashboard_totals {
  std::uint64_t messages = 0;
  std::array<std::uint64_t, 4> verdicts{};  // by behavior::action: accept, tag, defer, hold
};

struct dashboard_point {
  std::int64_t t_ms = 0;
  std::uint64_t messages = 0;
  std::array<std::uint64_t, 4> verdicts{};
  std::int64_t open_cases = 0;
  std::int64_t active_campaigns = 0;
};

class dashboard_history {
 public:
  static constexpr std::size_t capacity = 24 * 60;

  void sample(std::int64_t t_ms, const dashboard_totals& totals, std::int64_t open_cases, std::int64_t active_campaigns) {
    std::lock_guard lock(_mutex);
    dashboard_point p;
    p.t_ms = t_ms;
    if (_have_previous) {
      // A reset counter (never in one process's life) would wrap: clamp instead.
      p.messages = totals.messages >= _previous.messages ? totals.messages - _previous.messages : 0;
      for (std::size_t i = 0; i < p.verdicts.size(); ++i) {
        p.verdicts[i] = totals.verdicts[i] >= _previous.verdicts[i] ? totals.verdicts[i] - _previous.verdicts[i] : 0;
      }
    }
    p.open_cases = open_cases;
    p.active_campaigns = active_campaigns;
    _previous = totals;
    _have_previous = true;
    _points.push_back(p);
    if (_points.size() > capacity) {
      _points.pop_front();
    }
  }

  std::vector<dashboard_point> points() const {
    std::lock_guard lock(_mutex);
    return {_points.begin(), _points.end()};
  }

 private:
  mutable std::mutex _mutex;
  std::deque<dashboard_point> _points;
  dashboard_totals _previous;
  bool _have_previous = false;
};

}  // namespace pw::server
