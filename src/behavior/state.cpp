// Blob format (little-endian, fixed size per version): magic "PWBS", version byte, the fields in
// the order below, then XXH3-64 of everything before it. Explicit byte writes rather than a memcpy
// of the struct, so padding and the in-memory layout never leak into the store.
// Version 2 appends the deferred-attempts counter (f32) and the plan key (u64) to version 1; version
// 3 appends the campaign messages (f32), their spam-probability sum (f32) and the largest
// distinct-subscriber count (u8). Version 4 has the size and layout of version 3; the second row of
// the churn block (the day's sender and client changes until version 3) carries the hour's and the
// day's hard bounces instead. Versions 1 to 3 are still read (their day of churn is dropped, and
// they restore without bounces): states stored before an upgrade (holds among them) survive it.
#include "state.hpp"

#include <xxhash.h>

#include <bit>
#include <cmath>

namespace pw::behavior::detail {
namespace {

constexpr std::uint8_t magic[4] = {'P', 'W', 'B', 'S'};
constexpr std::uint8_t version = 4;
constexpr std::size_t header_bytes = 4 + 1;
constexpr std::size_t v1_payload_bytes = header_bytes + 8 + 4 * (window_count * metric_count + 2 * churn_count) +
                                         8 * 2 * bloom_words + 4 * 2 + 4 * 2 + 4 * 3 + 2 + 4;
constexpr std::size_t v2_payload_bytes = v1_payload_bytes + 4 + 8;
constexpr std::size_t v3_payload_bytes = v2_payload_bytes + 4 + 4 + 1;
constexpr std::size_t checksum_bytes = 8;

// A pair of 16-bit tags in the u32 that held one 32-bit tag before: a blob written by an older
// build reads as two arbitrary tags, which at worst counts or misses one change on the next message.
std::uint64_t pack_tags(const std::array<std::uint16_t, 2>& t) noexcept {
  return static_cast<std::uint64_t>(t[0]) | static_cast<std::uint64_t>(t[1]) << 16;
}
std::array<std::uint16_t, 2> unpack_tags(std::uint64_t v) noexcept {
  return {static_cast<std::uint16_t>(v & 0xffff), static_cast<std::uint16_t>(v >> 16 & 0xffff)};
}

class writer {
 public:
  explicit writer(std::vector<std::byte>& out) : _out(out) {}
  void u8(std::uint8_t v) { _out.push_back(static_cast<std::byte>(v)); }
  void uint(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  void f32(float v) { uint(std::bit_cast<std::uint32_t>(v), 4); }

 private:
  std::vector<std::byte>& _out;
};

class reader {
 public:
  explicit reader(std::span<const std::byte> in) : _in(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(_in[_pos++]); }
  std::uint64_t uint(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      v |= std::uint64_t{u8()} << (8 * i);
    }
    return v;
  }
  float f32() { return std::bit_cast<float>(static_cast<std::uint32_t>(uint(4))); }

 private:
  std::span<const std::byte> _in;
  std::size_t _pos = 0;
};

bool plausible(float v) { return std::isfinite(v) && v >= 0; }

}  // namespace

std::uint64_t plan_key(std::string_view plan_name) noexcept {
  return XXH3_64bits(plan_name.data(), plan_name.size()) | 1;
}

std::vector<std::byte> encode(const subscriber_state& s, std::uint64_t plan) {
  std::vector<std::byte> out;
  out.reserve(v3_payload_bytes + checksum_bytes);
  writer w(out);
  for (std::uint8_t m : magic) {
    w.u8(m);
  }
  w.u8(version);
  w.uint(static_cast<std::uint64_t>(s.last_ms), 8);
  for (const auto& row : s.c.win) {
    for (float v : row) {
      w.f32(v);
    }
  }
  for (float v : s.c.churn) {
    w.f32(v);
  }
  w.f32(s.c.bounces_hour);
  w.f32(s.c.bounces_day);
  for (const auto& gen : s.bloom) {
    for (std::uint64_t v : gen) {
      w.uint(v, 8);
    }
  }
  w.f32(s.base_messages);
  w.f32(s.base_recipients);
  w.uint(pack_tags(s.sender_tags), 4);
  w.uint(pack_tags(s.helo_tags), 4);
  w.uint(s.calm_since, 4);
  w.uint(s.held_since, 4);
  w.uint(s.grace_until, 4);
  w.uint(s.fold_day, 2);
  w.u8(s.lvl);
  w.u8(s.bloom_fill);
  w.u8(s.folds);
  w.u8(static_cast<std::uint8_t>(s.flags & ~flag_dirty));
  w.f32(s.c.deferred_attempts);
  w.uint(plan, 8);
  w.f32(s.c.campaign_messages);
  w.f32(s.c.campaign_spam_sum);
  w.u8(s.campaign_subscribers);
  w.uint(XXH3_64bits(out.data(), out.size()), 8);
  return out;
}

result<decoded_state> decode(std::span<const std::byte> blob) {
  if (blob.size() < header_bytes) {
    return make_error(errc::corrupt, "behaviour state blob has " + std::to_string(blob.size()) + " bytes, too short");
  }
  reader r(blob);
  for (std::uint8_t m : magic) {
    if (r.u8() != m) {
      return make_error(errc::corrupt, "not a behaviour state blob (bad magic)");
    }
  }
  const std::uint8_t blob_version = r.u8();
  if (blob_version < 1 || blob_version > version) {
    return make_error(errc::corrupt, "behaviour state blob version " + std::to_string(blob_version) +
                                         ", this build reads versions 1 to " + std::to_string(version));
  }
  constexpr std::size_t payload_bytes_of[] = {0, v1_payload_bytes, v2_payload_bytes, v3_payload_bytes,
                                              v3_payload_bytes};
  const std::size_t payload_bytes = payload_bytes_of[blob_version];
  if (blob.size() != payload_bytes + checksum_bytes) {
    return make_error(errc::corrupt, "behaviour state blob version " + std::to_string(blob_version) + " has " +
                                         std::to_string(blob.size()) + " bytes, expected " +
                                         std::to_string(payload_bytes + checksum_bytes));
  }
  reader tail(blob.subspan(payload_bytes));
  if (tail.uint(8) != XXH3_64bits(blob.data(), payload_bytes)) {
    return make_error(errc::corrupt, "behaviour state blob checksum mismatch");
  }
  decoded_state out;
  subscriber_state& s = out.state;
  s.last_ms = static_cast<std::int64_t>(r.uint(8));
  for (auto& row : s.c.win) {
    for (float& v : row) {
      v = r.f32();
    }
  }
  for (float& v : s.c.churn) {
    v = r.f32();
  }
  if (blob_version >= 4) {
    s.c.bounces_hour = r.f32();
    s.c.bounces_day = r.f32();
  } else {
    r.uint(8);  // the day's sender and client changes (two f32), no longer kept
  }
  for (auto& gen : s.bloom) {
    for (std::uint64_t& v : gen) {
      v = r.uint(8);
    }
  }
  s.base_messages = r.f32();
  s.base_recipients = r.f32();
  s.sender_tags = unpack_tags(r.uint(4));
  s.helo_tags = unpack_tags(r.uint(4));
  s.calm_since = static_cast<std::uint32_t>(r.uint(4));
  s.held_since = static_cast<std::uint32_t>(r.uint(4));
  s.grace_until = static_cast<std::uint32_t>(r.uint(4));
  s.fold_day = static_cast<std::uint16_t>(r.uint(2));
  s.lvl = r.u8();
  s.bloom_fill = r.u8();
  s.folds = r.u8();
  s.flags = static_cast<std::uint8_t>(r.u8() & ~flag_dirty);
  if (blob_version >= 2) {
    s.c.deferred_attempts = r.f32();
    out.plan = r.uint(8);
  }
  if (blob_version >= 3) {
    s.c.campaign_messages = r.f32();
    s.c.campaign_spam_sum = r.f32();
    s.campaign_subscribers = r.u8();
  }

  bool ok = plausible(s.base_messages) && plausible(s.base_recipients) && plausible(s.c.deferred_attempts) &&
            plausible(s.c.campaign_messages) && plausible(s.c.campaign_spam_sum);
  for (const auto& row : s.c.win) {
    for (float v : row) {
      ok = ok && plausible(v);
    }
  }
  for (float v : s.c.churn) {
    ok = ok && plausible(v);
  }
  ok = ok && plausible(s.c.bounces_hour) && plausible(s.c.bounces_day);
  if (!ok) {
    return make_error(errc::invalid_input, "behaviour state blob holds a negative or non-finite counter");
  }
  if (s.lvl > static_cast<std::uint8_t>(level::hold) || s.bloom_fill > bloom_generation_capacity ||
      (s.flags & ~flag_known_flags) != 0) {
    return make_error(errc::invalid_input, "behaviour state blob holds an unknown level, filter fill or flag");
  }
  return out;
}

}  // namespace pw::behavior::detail
