// common/result.hpp — the one error style at module boundaries.
//
// Purpose: `result<T>` holds either a value or an `error` (a code plus a plain-words message), in the
// shape of C++23 std::expected. Portwarden is C++20 and Debian 12 ships no expected library, so this
// small type stands in; when the project moves to C++23 it becomes an alias of std::expected.
// Guarantees: no exceptions are thrown by result itself; `value()` on an error is a programmer error
// (asserted). Thread-safety: a value type, like std::optional.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace pw {

enum class errc {
  io,             // the operating system refused a read/write/open
  invalid_input,  // the input is not what it claims to be (bad model file, malformed list line)
  invalid_config, // a configuration value is out of range or unknown
  corrupt,        // a checksum or version check failed
  not_found,      // a named thing does not exist (for stores: see the tri-state lookups)
  unavailable,    // a peer or backend did not answer
};

struct error {
  errc code;
  std::string message;  // plain words, for a person; never message content
};

template <class T>
class result {
 public:
  result(T value) : _v(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(pw::error err) : _v(std::in_place_index<1>, std::move(err)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool has_value() const noexcept { return _v.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(_v); }
  const T& value() const& { assert(has_value()); return std::get<0>(_v); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const pw::error& error() const& { assert(!has_value()); return std::get<1>(_v); }

 private:
  std::variant<T, pw::error> _v;
};

// result<void>: success carries nothing.
template <>
class result<void> {
 public:
  result() = default;
  result(pw::error err) : _err(std::move(err)), _ok(false) {}  // NOLINT: implicit by design
  [[nodiscard]] bool has_value() const noexcept { return _ok; }
  explicit operator bool() const noexcept { return _ok; }
  const pw::error& error() const& { assert(!_ok); return _err; }

 private:
  pw::error _err{errc::io, {}};
  bool _ok = true;
};

inline error make_error(errc code, std::string message) { return error{code, std::move(message)}; }

}  // namespace pw
