#include "telemetry/registry.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <memory>

namespace pw::telemetry {
namespace {

[[maybe_unused]] bool valid_name(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

void append_labels(std::string& out, const labels& l, std::string_view extra_name = {}, std::string_view extra = {}) {
  if (l.empty() && extra_name.empty()) {
    return;
  }
  out += '{';
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += k;
    out += "=\"";
    append_escaped(out, v);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) {
      out += ',';
    }
    out += extra_name;
    out += "=\"";
    out += extra;
    out += '"';
  }
  out += '}';
}

std::string format_double(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

histogram::histogram(std::vector<double> upper_bounds_seconds) : _bounds(std::move(upper_bounds_seconds)) {
  assert(std::is_sorted(_bounds.begin(), _bounds.end()));
  _bounds_us.reserve(_bounds.size());
  for (double b : _bounds) {
    _bounds_us.push_back(static_cast<std::uint64_t>(std::llround(b * 1e6)));
  }
  _buckets = std::make_unique<std::atomic<std::uint64_t>[]>(_bounds.size() + 1);
}

void histogram::observe_us(std::uint64_t microseconds) noexcept {
  // Few buckets (≈20): a linear scan beats a binary search's branch mispredictions here.
  std::size_t i = 0;
  while (i < _bounds_us.size() && microseconds > _bounds_us[i]) {
    ++i;
  }
  _buckets[i].fetch_add(1, std::memory_order_relaxed);
  _sum_us.fetch_add(microseconds, std::memory_order_relaxed);
}

std::vector<std::uint64_t> histogram::cumulative() const {
  std::vector<std::uint64_t> out(_bounds.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= _bounds.size(); ++i) {
    running += _buckets[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

double histogram::sum_seconds() const noexcept {
  return static_cast<double>(_sum_us.load(std::memory_order_relaxed)) / 1e6;
}

std::uint64_t histogram::count() const noexcept { return cumulative().back(); }

std::vector<double> latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::size_t registry::family_for(std::string_view name, std::string_view help, kind type) {
  assert(valid_name(name));
  for (std::size_t i = 0; i < _families.size(); ++i) {
    if (_families[i].name == name) {
      assert(_families[i].type == type);
      return i;
    }
  }
  _families.push_back(family{std::string(name), std::string(help), type});
  return _families.size() - 1;
}

counter& registry::add_counter(std::string_view name, std::string_view help, labels l) {
  std::lock_guard lock(_mutex);
  for (const auto& [k, v] : l) {
    assert(valid_name(k));
    (void)v;
  }
  const std::size_t f = family_for(name, help, kind::counter);
  counter& c = _counters.emplace_back();
  _series.push_back(series{f, std::move(l), &c, nullptr, nullptr});
  return c;
}

gauge& registry::add_gauge(std::string_view name, std::string_view help, labels l) {
  std::lock_guard lock(_mutex);
  const std::size_t f = family_for(name, help, kind::gauge);
  gauge& g = _gauges.emplace_back();
  _series.push_back(series{f, std::move(l), nullptr, &g, nullptr});
  return g;
}

histogram& registry::add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                                   labels l) {
  std::lock_guard lock(_mutex);
  const std::size_t f = family_for(name, help, kind::histogram);
  histogram& h = _histograms.emplace_back(std::move(bounds));
  _series.push_back(series{f, std::move(l), nullptr, nullptr, &h});
  return h;
}

std::string registry::render() const {
  std::lock_guard lock(_mutex);
  std::string out;
  out.reserve(4096);
  for (std::size_t f = 0; f < _families.size(); ++f) {
    const family& fam = _families[f];
    out += "# HELP " + fam.name + ' ';
    for (char c : fam.help) {
      out += c == '\n' ? ' ' : c;
    }
    out += "\n# TYPE " + fam.name + ' ';
    out += fam.type == kind::counter ? "counter\n" : fam.type == kind::gauge ? "gauge\n" : "histogram\n";
    for (const series& s : _series) {
      if (s.family != f) {
        continue;
      }
      if (s.c != nullptr) {
        out += fam.name;
        append_labels(out, s.l);
        out += ' ' + std::to_string(s.c->value()) + '\n';
      } else if (s.g != nullptr) {
        out += fam.name;
        append_labels(out, s.l);
        out += ' ' + std::to_string(s.g->value()) + '\n';
      } else {
        const auto counts = s.h->cumulative();
        const auto& bounds = s.h->bounds();
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
          out += fam.name + "_bucket";
          append_labels(out, s.l, "le", i < bounds.size() ? format_double(bounds[i]) : "+Inf");
          out += ' ' + std::to_string(counts[i]) + '\n';
        }
        out += fam.name + "_sum";
        append_labels(out, s.l);
        out += ' ' + format_double(s.h->sum_seconds()) + '\n';
        out += fam.name + "_count";
        append_labels(out, s.l);
        out += ' ' + std::to_string(counts.back()) + '\n';
      }
    }
  }
  return out;
}

}  // namespace pw::telemetry
