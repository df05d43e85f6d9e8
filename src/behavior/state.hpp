// behavior/state.hpp (private) — one subscriber's state, its compact layout and its blob format.
//
// The layout is what keeps the memory bar (≤ 256 bytes per active subscriber, index and id
// included): float32 counters, 32-bit second timestamps for the level machinery, 32-bit tags of the
// previous sender and HELO hashes, and the id stored inline up to 23 bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "behavior/engine.hpp"
#include "common/result.hpp"

namespace pw::behavior::detail {

enum metric : std::size_t {
  m_messages,
  m_recipients,
  m_new_recipients,
  m_new_domains,
  m_spam_sum,
  m_spam_n,
  metric_count
};
enum churn_metric : std::size_t { c_sender, c_helo, churn_count };

inline constexpr std::size_t bloom_words = 3;  // 192 bits per generation
inline constexpr std::size_t bloom_bits = bloom_words * 64;
inline constexpr std::uint8_t bloom_generation_capacity = 48;

inline constexpr std::uint8_t flag_dirty = 1;
inline constexpr std::uint8_t flag_suspicious_today = 2;  // reached throttle today: the day is not learnt
inline constexpr std::uint8_t flag_known_flags = flag_dirty | flag_suspicious_today;
inline constexpr std::uint8_t unknown_plan = 0xff;

// std::string keeps 15 bytes inline in 32; ids such as "ip:203.0.113.254" or "alice@example.net"
// are 16–23 bytes, so this 24-byte id (23 inline bytes, else a heap copy) keeps the common case
// allocation-free and 8 bytes smaller than std::string, which the memory bar needs.
class compact_id {
 public:
  compact_id() = default;
  explicit compact_id(std::string_view s) { assign(s); }
  compact_id(const compact_id&) = delete;
  compact_id& operator=(const compact_id&) = delete;
  compact_id(compact_id&& o) noexcept {
    std::memcpy(_raw, o._raw, sizeof _raw);
    o._raw[tag_at] = 0;
  }
  compact_id& operator=(compact_id&& o) noexcept {
    if (this != &o) {
      free_heap();
      std::memcpy(_raw, o._raw, sizeof _raw);
      o._raw[tag_at] = 0;
    }
    return *this;
  }
  ~compact_id() { free_heap(); }

  std::string_view view() const noexcept {
    if (static_cast<unsigned char>(_raw[tag_at]) != heap_tag) {
      return {_raw, static_cast<unsigned char>(_raw[tag_at])};
    }
    const char* p = nullptr;
    std::uint32_t n = 0;
    std::memcpy(&p, _raw, sizeof p);
    std::memcpy(&n, _raw + sizeof p, sizeof n);
    return {p, n};
  }

 private:
  static constexpr std::size_t tag_at = 23;
  static constexpr unsigned char heap_tag = 0xff;

  void assign(std::string_view s) {
    if (s.size() <= tag_at) {
      std::memcpy(_raw, s.data(), s.size());
      _raw[tag_at] = static_cast<char>(s.size());
      return;
    }
    const auto n = static_cast<std::uint32_t>(s.size());
    char* p = new char[n];
    std::memcpy(p, s.data(), n);
    std::memcpy(_raw, &p, sizeof p);
    std::memcpy(_raw + sizeof p, &n, sizeof n);
    _raw[tag_at] = static_cast<char>(heap_tag);
  }
  void free_heap() noexcept {
    if (static_cast<unsigned char>(_raw[tag_at]) == heap_tag) {
      char* p = nullptr;
      std::memcpy(&p, _raw, sizeof p);
      delete[] p;
      _raw[tag_at] = 0;
    }
  }

  char _raw[24]{};
};

struct counters {
  std::array<std::array<float, metric_count>, window_count> win{};
  // Sender and client changes over the hour only: changes per minute say nothing a person acts on,
  // and the day's count (kept until blob version 3) decided nothing; its 8 bytes now hold the bounces.
  std::array<float, churn_count> churn{};
  // Hard bounces (5xx in the relay's delivery log) of mail this subscriber relayed, decayed like the
  // 1 h and 24 h windows; compared with the recipients of the same windows.
  float bounces_hour = 0;
  float bounces_day = 0;
  // Attempts to new recipients deferred at RCPT while throttled, over 10 min only: it explains a
  // hold in words; the attempts themselves are evidence through `win` like messages.
  float deferred_attempts = 0;
  // Messages in active campaigns and the sum of their spam probabilities (unscored ones add 0),
  // decayed like the 1 h window.
  float campaign_messages = 0;
  float campaign_spam_sum = 0;
};

struct subscriber_state {
  compact_id id;
  std::int64_t last_ms = 0;
  // The filter before the counters so the counters' trailing float packs with what follows.
  std::array<std::array<std::uint64_t, bloom_words>, 2> bloom{};  // [0] young, [1] old generation
  counters c;
  float base_messages = 0;
  float base_recipients = 0;
  // The last two distinct envelope senders and clients (HELO + address) as 16-bit hash tags, [0] the
  // latest; 0 = none. Two, so that alternation between a household's two devices is no churn; 16
  // bits, so both pairs fit where two 32-bit tags were (the memory bar): a bot's new name collides
  // with one of the two remembered ones about 1 time in 16,000 and then merely goes uncounted once.
  std::array<std::uint16_t, 2> sender_tags{};
  std::array<std::uint16_t, 2> helo_tags{};
  // Encoded seconds (see encode_time); 0 = unset.
  std::uint32_t calm_since = 0;
  std::uint32_t held_since = 0;
  std::uint32_t grace_until = 0;
  std::uint16_t fold_day = 0;  // UTC day (since the epoch) of the last baseline fold
  std::uint8_t lvl = 0;
  std::uint8_t bloom_fill = 0;
  std::uint8_t folds = 0;  // days learnt, saturating
  std::uint8_t flags = 0;
  // Index into engine_settings::plans of the last event's plan, for reports. The blob stores the
  // plan's identity (plan_key of its name) instead, since indices change with the configuration.
  std::uint8_t plan = unknown_plan;
  // Largest distinct-subscriber count among the campaign messages of the hour, saturating: it only
  // explains (reason b), and a byte fills the padding the memory bar cannot spare.
  std::uint8_t campaign_subscribers = 0;
};

// A plan's identity in the blob: XXH3-64 of its name, never 0 (0 = no plan recorded).
std::uint64_t plan_key(std::string_view plan_name) noexcept;

// Seconds since the epoch + 1 (so 0 can mean unset), clamped to the 32-bit range (year 2106).
inline std::uint32_t encode_time(std::int64_t ms) noexcept {
  if (ms < 0) {
    return 1;
  }
  const std::int64_t s = ms / 1000 + 1;
  return s >= 0xffffffffLL ? 0xffffffffU : static_cast<std::uint32_t>(s);
}
inline std::int64_t decode_time(std::uint32_t t) noexcept { return (static_cast<std::int64_t>(t) - 1) * 1000; }

inline std::uint16_t day_of(std::int64_t ms) noexcept {
  if (ms < 0) {
    return 0;
  }
  const std::int64_t d = ms / 86'400'000;
  return d > 0xffff ? 0xffff : static_cast<std::uint16_t>(d);
}

// Versioned, checksummed, fixed-size blob of everything but the id (the record carries the id) and
// the plan index, which is written as `plan` (a plan_key, or 0 when the plan is unknown).
std::vector<std::byte> encode(const subscriber_state& s, std::uint64_t plan);

struct decoded_state {
  subscriber_state state;  // `plan` is unknown_plan: the engine maps `plan` to an index
  std::uint64_t plan = 0;  // plan_key, or 0 when the blob has none (version 1, or unknown plan)
};

// Every field but `id` (left empty) and the dirty flag (clear). Reads versions 1 (no plan, no
// deferred-attempts counter, no campaign counters: all restore as absent), 2 (no campaign
// counters), 3 (no bounces; its day of churn is skipped) and 4. errc::corrupt on a bad size, checksum,
// magic or version; errc::invalid_input on impossible values (negative or non-finite counters,
// unknown level or flags).
result<decoded_state> decode(std::span<const std::byte> blob);

}  // namespace pw::behavior::detail
