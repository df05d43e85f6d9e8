// common/lookup.hpp — the tri-state answer of every store and table lookup.
//
// Purpose: a lookup either failed (the backend is down, the row is corrupt), found nothing, or found
// a value. Folding "failed" into "not found" would make a store outage look like "unknown subscriber,
// therefore clean", so the three cases are distinct and the caller must handle each.
// Guarantees: no exceptions; reading the value of a non-found lookup is a programmer error (asserted).
// Thread-safety: a value type, like std::optional.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "common/result.hpp"

namespace pw {

struct not_found_t {};
inline constexpr not_found_t not_found{};

template <class T>
class lookup {
 public:
  lookup(T value) : _v(std::in_place_index<2>, std::move(value)) {}      // NOLINT: implicit by design
  lookup(not_found_t) : _v(std::in_place_index<1>) {}                   // NOLINT: implicit by design
  lookup(pw::error err) : _v(std::in_place_index<0>, std::move(err)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool failed() const noexcept { return _v.index() == 0; }
  [[nodiscard]] bool missing() const noexcept { return _v.index() == 1; }
  [[nodiscard]] bool found() const noexcept { return _v.index() == 2; }

  const pw::error& error() const& { assert(failed()); return std::get<0>(_v); }
  T& value() & { assert(found()); return std::get<2>(_v); }
  const T& value() const& { assert(found()); return std::get<2>(_v); }
  T&& value() && { assert(found()); return std::get<2>(std::move(_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<pw::error, std::monostate, T> _v;
};

}  // namespace pw
