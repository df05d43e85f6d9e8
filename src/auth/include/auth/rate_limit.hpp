// auth/rate_limit.hpp — token buckets per key, against password guessing and self-help token guessing.
//
// Purpose: the desk asks `allow(key, now_ms)` before checking a password or a self-help token; key is the
// client address, a user name, or a token prefix. Each key has a bucket of `burst` attempts that refills
// at `refill_per_minute`; an attempt with an empty bucket is refused.
// Guarantees: refill is exact integer arithmetic (no drift over long runs); the time is passed in, so the
// limiter reads no clock and tests drive it. A clock that steps back refills nothing and never refuses
// more than a frozen clock would. Memory is bounded: at most `max_keys` buckets; when a new key arrives
// at the bound, the least recently used key is forgotten (LRU, O(1)). A forgotten key comes back with a
// full bucket, so an attacker who controls many keys can reset a bucket by flooding: use keys the client
// does not choose freely (its address) and pair a client-chosen key (a token prefix) with an address key.
// Ownership: keys are copied. Thread-safety: all members may be called concurrently (one mutex; the
// critical section is a hash lookup and a list splice).
// Untrusted input: keys are any bytes; a key is not interpreted, only hashed and compared. Failure modes:
// none; settings with burst 0 refuse everything (asserted against: a programmer error).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pw::auth {

struct rate_limit_settings {
  std::uint32_t burst = 5;              // attempts allowed at once from a full bucket
  std::uint32_t refill_per_minute = 5;  // attempts regained per minute, up to burst
  std::size_t max_keys = 100'000;       // buckets kept; ~130 bytes each, plus keys over 15 bytes
};

class rate_limiter {
 public:
  explicit rate_limiter(rate_limit_settings settings);

  // True when the attempt is allowed (and takes one token), false when the key's bucket is empty.
  bool allow(std::string_view key, std::int64_t now_ms);

  std::size_t size() const;

 private:
  struct bucket {
    std::string key;
    std::int64_t credit;   // tokens * 60'000, so refill_per_minute per millisecond is an integer
    std::int64_t last_ms;  // time of the last refill
  };

  rate_limit_settings _settings;
  mutable std::mutex _mutex;
  std::list<bucket> _lru;  // most recently used first; nodes never move in memory, so _index can view their keys
  std::unordered_map<std::string_view, std::list<bucket>::iterator> _index;
};

}  // namespace pw::auth
