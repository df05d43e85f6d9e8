// ingest/attribution.hpp — which subscriber sent the message a Postfix queue id names.
//
// Purpose: the delivery log (ingest/maillog.hpp) speaks of queue ids; the behaviour engine speaks of
// subscribers. At end of message the daemon learns both (milter macro `i`, policy `queue_id`) and
// remembers the pair here for mail it let through; a bounce line then finds its subscriber. Mail
// that went to the hold queue is not remembered: when a person or the customer releases it, its
// bounces are the spam's own, already dealt with, and must not hold the customer again.
//
// Guarantees: bounded: at most `capacity` entries, each forgotten after `ttl_ms` (most bounces come
// from the first delivery attempt, seconds after relaying; a bounce after days of retries is weak
// evidence and is let go). Eviction is oldest first. Lookups and inserts are O(1) on average.
// Memory: about 150 bytes per entry (queue id twice, subscriber id, plan and contact, map and
// queue nodes).
// Ownership: owns copies of the ids. Thread-safety: all members may be called concurrently (one
// mutex; inserts come from the workers/loop at end of message, lookups from the log reader).
// Privacy: queue ids and the operator's subscriber data (id, plan, contact) only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "identity/directory.hpp"

namespace pw::ingest {

// Hard bounces that count as evidence per message. A person's one message to an old club list can
// bounce five times at once; a bot's bounces spread over its many messages (one to a few recipients
// each). Measured with `portwarden simulate` (population, 100,000 x 30 days): without the cap one
// person whose 17-recipient message had 5 bounces was throttled.
inline constexpr std::uint32_t max_bounces_per_message = 2;

class queue_attribution {
 public:
  queue_attribution(std::size_t capacity, std::int64_t ttl_ms);

  // Remembers (or re-dates) `queue_id` → `who` (as resolved at end of message; a lookup failure is
  // not kept) at `now_ms`. An empty queue id is ignored.
  void remember(std::string_view queue_id, const identity::resolution& who, std::int64_t now_ms);
  // Who sent `queue_id`, if remembered within the ttl.
  std::optional<identity::resolution> find(std::string_view queue_id, std::int64_t now_ms);
  // A hard bounce of `queue_id`: who sent it, and whether it still counts as evidence (at most
  // max_bounces_per_message per message); nullopt when the queue id is not remembered.
  struct bounce_claim {
    identity::resolution who;
    bool counts = false;
  };
  std::optional<bounce_claim> claim_bounce(std::string_view queue_id, std::int64_t now_ms);
  // New limits (a reload); entries over them go at the next call.
  void set_limits(std::size_t capacity, std::int64_t ttl_ms);
  std::size_t size() const;

 private:
  void evict(std::int64_t now_ms);  // under _mutex

  struct entry {
    identity::resolution who;
    std::int64_t at_ms = 0;
    std::uint32_t bounces = 0;
  };
  mutable std::mutex _mutex;
  std::size_t _capacity;
  std::int64_t _ttl_ms;
  std::unordered_map<std::string, entry> _by_queue_id;
  // Insertion order for eviction; an entry re-dated later leaves a stale record here, recognised by
  // its older time and skipped.
  std::deque<std::pair<std::string, std::int64_t>> _order;
};

}  // namespace pw::ingest
