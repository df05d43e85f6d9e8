#include "telemetry/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace pw::telemetry {
namespace {

std::atomic<severity> threshold{severity::info};
std::atomic<int> sink_fd{2};
constexpr std::size_t max_line_bytes = 8000;
constexpr std::size_t max_value_bytes = 1024;

bool needs_quotes(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '"' || c == '=' || c == '\\') {
      return true;
    }
  }
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (v.size() > max_value_bytes) {
    v = v.substr(0, max_value_bytes);
  }
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_fields(std::string& out, std::string_view event, std::initializer_list<field> fields) {
  out += "event=";
  append_value(out, event);
  for (const field& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    append_value(out, f.value);
  }
}

}  // namespace

field::field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  value = buf;
}

std::string_view severity_name(severity s) noexcept {
  switch (s) {
    case severity::error: return "error";
    case severity::warning: return "warning";
    case severity::info: return "info";
    case severity::debug: return "debug";
  }
  return "info";
}

void set_threshold(severity s) noexcept { threshold.store(s, std::memory_order_relaxed); }
void set_sink_fd(int fd) noexcept { sink_fd.store(fd, std::memory_order_relaxed); }
bool enabled(severity s) noexcept { return s <= threshold.load(std::memory_order_relaxed); }

std::string format_fields(std::string_view event, std::initializer_list<field> fields) {
  std::string out;
  append_fields(out, event, fields);
  return out;
}

void log(severity s, std::string_view event, std::initializer_list<field> fields) {
  if (!enabled(s)) {
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  std::string line;
  line.reserve(256);
  line += "ts=";
  line += ts;
  line += " level=";
  line += severity_name(s);
  line += ' ';
  append_fields(line, event, fields);
  if (line.size() > max_line_bytes) {
    line.resize(max_line_bytes);
  }
  line += '\n';
  const int fd = sink_fd.load(std::memory_order_relaxed);
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // logging must never take the daemon down
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace pw::telemetry
