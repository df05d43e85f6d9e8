// telemetry/log.hpp — structured `key=value` log lines.
//
// Purpose: every line the daemon writes is one event: `ts=… level=… event=… key=value …`, greppable
// and machine-parseable (logfmt). Lines carry the queue id and the subscriber id, never message
// content, subjects or addresses — callers pass only ids, counts, actions and reason texts made of
// numbers (the privacy tests grep the log for content markers).
// Guarantees: one `write(2)` per line, so lines from several threads never interleave (lines are
// kept under 8 KiB; longer values are cut). Values with spaces, quotes, `=` or control characters are
// quoted with backslash escapes; control characters never reach the sink raw.
// Thread-safety: `log` may be called from any thread; `set_threshold`/`set_sink_fd` at start-up or
// reload (atomics).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pw::telemetry {

enum class severity : std::uint8_t { error, warning, info, debug };
std::string_view severity_name(severity s) noexcept;

struct field {
  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(v) {}
  field(std::string_view k, const char* v) : key(k), value(v) {}
  field(std::string_view k, double v);
  field(std::string_view k, std::int64_t v) : key(k), value(std::to_string(v)) {}
  field(std::string_view k, std::uint64_t v) : key(k), value(std::to_string(v)) {}
  field(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}

  std::string_view key;
  std::string value;
};

void set_threshold(severity s) noexcept;
void set_sink_fd(int fd) noexcept;  // default 2 (stderr)
bool enabled(severity s) noexcept;

void log(severity s, std::string_view event, std::initializer_list<field> fields = {});

// The formatted line without the timestamp, for tests.
std::string format_fields(std::string_view event, std::initializer_list<field> fields);

}  // namespace pw::telemetry
