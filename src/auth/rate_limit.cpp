#include "auth/rate_limit.hpp"

#include <algorithm>
#include <cassert>

namespace pw::auth {
namespace {

constexpr std::int64_t ms_per_minute = 60'000;

}  // namespace

rate_limiter::rate_limiter(rate_limit_settings settings) : _settings(settings) {
  assert(_settings.burst > 0 && _settings.max_keys > 0);
  _index.reserve(std::min<std::size_t>(_settings.max_keys, 1024));
}

bool rate_limiter::allow(std::string_view key, std::int64_t now_ms) {
  const std::int64_t capacity = std::int64_t{_settings.burst} * ms_per_minute;
  std::lock_guard lock(_mutex);
  auto found = _index.find(key);
  if (found == _index.end()) {
    if (_index.size() >= _settings.max_keys) {
      _index.erase(_lru.back().key);
      _lru.pop_back();
    }
    _lru.push_front(bucket{std::string(key), capacity, now_ms});
    found = _index.emplace(_lru.front().key, _lru.begin()).first;
  } else {
    _lru.splice(_lru.begin(), _lru, found->second);
  }
  bucket& b = *found->second;
  if (now_ms > b.last_ms) {
    // Capped at the time a refill from empty takes, so a bucket idle for years cannot overflow; the
    // difference is taken unsigned because now_ms - last_ms can exceed INT64_MAX.
    const std::int64_t rate = std::int64_t{_settings.refill_per_minute};
    const std::uint64_t full_after = static_cast<std::uint64_t>(capacity / std::max<std::int64_t>(rate, 1) + 1);
    const std::int64_t elapsed = static_cast<std::int64_t>(
        std::min(static_cast<std::uint64_t>(now_ms) - static_cast<std::uint64_t>(b.last_ms), full_after));
    b.credit = std::min(capacity, b.credit + elapsed * rate);
    b.last_ms = now_ms;
  }
  if (b.credit < ms_per_minute) {
    return false;
  }
  b.credit -= ms_per_minute;
  return true;
}

std::size_t rate_limiter::size() const {
  std::lock_guard lock(_mutex);
  return _index.size();
}

}  // namespace pw::auth
