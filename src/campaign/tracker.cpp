#define XXH_INLINE_ALL  // band keys and subscriber hashes are on the observe path
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <unordered_map>

#include "campaign/tracker.hpp"

namespace pw::campaign {
namespace {

constexpr std::uint8_t blob_version = 1;
constexpr std::size_t hll_registers = 256;  // 2^8: ~6.5 % standard error, 256 bytes per sketch
constexpr std::size_t max_dup_per_key = 8;  // index entries kept per band key (hot boilerplate keys)

std::uint32_t to_seconds(std::int64_t ms) noexcept {
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(ms / 1000, 0, UINT32_MAX));
}

// HyperLogLog with 2^8 one-byte registers, fed with 64-bit hashes.
struct hll {
  std::array<std::uint8_t, hll_registers> reg{};
  void add(std::uint64_t h) noexcept {
    const std::size_t i = h >> 56;
    const auto rank = static_cast<std::uint8_t>(std::countl_zero((h << 8) | 0x80) + 1);
    reg[i] = std::max(reg[i], rank);
  }
  void merge(const hll& o) noexcept {
    for (std::size_t i = 0; i < hll_registers; ++i) {
      reg[i] = std::max(reg[i], o.reg[i]);
    }
  }
  double estimate() const noexcept {
    double sum = 0;
    std::size_t zeros = 0;
    for (std::uint8_t r : reg) {
      sum += std::ldexp(1.0, -r);
      zeros += r == 0 ? 1 : 0;
    }
    const double m = hll_registers;
    const double e = 0.7182725932495458 * m * m / sum;  // alpha_256
    if (e <= 2.5 * m && zeros > 0) {
      return m * std::log(m / static_cast<double>(zeros));  // linear counting for small sets
    }
    return e;
  }
};

// Everything a campaign of one message does not need; allocated from the second message (or for
// a first message with attachments), so a singleton costs only its `record` and index entries.
struct extras {
  std::uint64_t mask = ~0ULL;          // bins that count for similarity (narrowed at the 2nd member)
  std::uint64_t subject_shape = 0;
  std::uint32_t window_gen = 0;        // now / window of msgs_cur
  std::uint32_t msgs_cur = 0;
  std::uint32_t msgs_prev = 0;
  std::uint32_t distinct_total = 0;    // exact while no sketch
  std::vector<std::pair<std::uint32_t, std::uint32_t>> subscribers;  // (hash, last seen s), exact part
  std::unique_ptr<std::array<hll, 3>> sketches;                      // total, current gen, previous gen
  std::uint32_t sketch_gen = 0;
  std::vector<std::string> domains;
  std::vector<std::uint64_t> attachments;
  std::vector<std::uint32_t> member_keys;  // full-precision band values of members 2.., bands each
  std::uint8_t indexed = 1;                // members indexed so far
};

// 32 bytes + bins: see the memory contract in the header.
struct record {
  std::uint32_t first_seen_s = 0;
  std::uint32_t last_seen_s = 0;
  std::uint32_t messages = 0;
  std::uint32_t first_subscriber = 0;
  std::unique_ptr<extras> more;
  std::uint8_t gen = 0;
  bool live = false;
  bool dirty = false;
  bool persisted = false;
};

// Open-addressing table: band key → (slot, generation). Entries of removed campaigns stay until
// the next rebuild (their generation no longer matches), so removal needs no keys.
class band_index {
 public:
  template <class Alive>
  void insert(std::uint64_t key_hash, std::uint32_t slot, std::uint8_t gen, Alive&& alive) {
    if (_cells.empty()) {
      _cells.assign(1024, 0);
    } else if ((_used + 1) * 4 > _cells.size() * 3) {
      rebuild(alive);
    }
    const std::uint64_t tag = (key_hash >> 40) | 1;
    const std::uint64_t mask = _cells.size() - 1;
    std::size_t dup = 0;
    for (std::size_t i = position(tag) & mask;; i = (i + 1) & mask) {
      const std::uint64_t c = _cells[i];
      if (c == 0) {
        _cells[i] = (tag << 40) | (static_cast<std::uint64_t>(slot) << 8) | gen;
        ++_used;
        return;
      }
      if ((c >> 40) == tag) {
        if (((c >> 8) & 0xffffffffULL) == slot && (c & 0xff) == gen) {
          return;  // already indexed under this key
        }
        if (++dup >= max_dup_per_key) {
          return;  // a boilerplate key shared by many campaigns: other bands must find this one
        }
      }
    }
  }

  template <class Fn>
  void find(std::uint64_t key_hash, Fn&& fn) const {
    if (_cells.empty()) {
      return;
    }
    const std::uint64_t tag = (key_hash >> 40) | 1;
    const std::uint64_t mask = _cells.size() - 1;
    for (std::size_t i = position(tag) & mask;; i = (i + 1) & mask) {
      const std::uint64_t c = _cells[i];
      if (c == 0) {
        return;
      }
      if ((c >> 40) == tag) {
        fn(static_cast<std::uint32_t>((c >> 8) & 0xffffffffULL), static_cast<std::uint8_t>(c & 0xff));
      }
    }
  }

  // Drops entries for which alive(slot, gen) is false; re-sizes to twice the live entries.
  template <class Alive>
  void rebuild(Alive&& alive) {
    std::vector<std::uint64_t> old;
    old.swap(_cells);
    std::size_t live = 0;
    for (std::uint64_t c : old) {
      live += c != 0 && alive(static_cast<std::uint32_t>((c >> 8) & 0xffffffffULL), static_cast<std::uint8_t>(c & 0xff)) ? 1 : 0;
    }
    _cells.assign(std::bit_ceil(std::max<std::size_t>(64, live * 2)), 0);
    _used = 0;
    const std::uint64_t mask = _cells.size() - 1;
    for (std::uint64_t c : old) {
      if (c == 0 || !alive(static_cast<std::uint32_t>((c >> 8) & 0xffffffffULL), static_cast<std::uint8_t>(c & 0xff))) {
        continue;
      }
      std::size_t i = position(c >> 40) & mask;
      while (_cells[i] != 0) {
        i = (i + 1) & mask;
      }
      _cells[i] = c;
      ++_used;
    }
  }

  std::size_t bytes() const noexcept { return _cells.capacity() * sizeof(std::uint64_t); }
  std::size_t used() const noexcept { return _used; }

  // Position from the tag alone (24 bits of the key hash), so a rebuild re-places entries without
  // their keys; tables stay below 2^25 cells (max_campaigns < 2^24).
  static std::uint64_t position(std::uint64_t tag) noexcept { return tag * 0x9E3779B97F4A7C15ULL >> 20; }

 private:
  std::vector<std::uint64_t> _cells;
  std::size_t _used = 0;
};

void put_u8(std::vector<std::byte>& b, std::uint8_t v) { b.push_back(static_cast<std::byte>(v)); }
void put_u32(std::vector<std::byte>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b.push_back(static_cast<std::byte>(v >> (8 * i)));
  }
}
void put_u64(std::vector<std::byte>& b, std::uint64_t v) {
  put_u32(b, static_cast<std::uint32_t>(v));
  put_u32(b, static_cast<std::uint32_t>(v >> 32));
}

struct reader {
  std::span<const std::byte> in;
  std::size_t pos = 0;
  bool ok = true;
  bool need(std::size_t n) {
    if (!ok || in.size() - pos < n) {
      ok = false;
    }
    return ok;
  }
  std::uint8_t u8() { return need(1) ? static_cast<std::uint8_t>(in[pos++]) : 0; }
  std::uint32_t u32() {
    if (!need(4)) {
      return 0;
    }
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v |= static_cast<std::uint32_t>(in[pos++]) << (8 * i);
    }
    return v;
  }
  std::uint64_t u64() {
    const std::uint64_t lo = u32();
    return lo | (static_cast<std::uint64_t>(u32()) << 32);
  }
};

}  // namespace

result<void> validate(const tracker_settings& s, std::size_t signature_bins) {
  auto bad = [](std::string what) { return make_error(errc::invalid_config, "campaign " + what); };
  if (s.k < 1) {
    return bad("k must be at least 1");
  }
  if (s.window_ms <= 0 || s.expire_idle_ms <= 0) {
    return bad("window and expire_idle must be positive");
  }
  if (!(s.similarity > 0.0 && s.similarity <= 1.0)) {
    return bad("similarity must be in (0, 1]");
  }
  if (s.bands < 1 || s.rows < 1 || s.bands * s.rows > signature_bins || signature_bins > fingerprint::max_bins) {
    return bad("bands × rows must be at least 1 and at most the signature's bins");
  }
  if (s.max_campaigns < 1 || s.max_campaigns >= (1u << 24) || s.eviction_sample < 1) {
    return bad("max_campaigns must be in 1..16777215 and eviction_sample at least 1");
  }
  if (s.exact_subscribers < 1 || s.max_domains < 1 || s.indexed_members < 1 || s.indexed_members > 255) {
    return bad("exact_subscribers, max_domains and indexed_members (≤ 255) must be at least 1");
  }
  return {};
}

struct tracker::impl {
  tracker_settings s;
  std::size_t bins;
  std::array<std::byte, 192> id_secret{};
  std::array<std::byte, 192> subscriber_secret{};
  std::uint64_t band_seed = 0;

  mutable std::mutex mu;
  std::vector<record> records;
  std::vector<std::uint8_t> rep;  // bins bytes per slot: low 8 bits of the representative's bins
  std::vector<std::uint32_t> free_slots;
  std::size_t live = 0;
  band_index index;
  std::unordered_map<std::uint64_t, std::pair<std::uint32_t, std::uint8_t>> by_attachment;
  std::vector<std::string> removed;  // persisted campaigns gone since the last collect_changes
  std::uint32_t now_s = 0;           // latest time seen (clock steps back count as no time)
  std::mt19937_64 rng{0x5eed};

  std::uint64_t band_key(std::size_t band, const std::uint32_t* values) const noexcept {
    std::array<std::uint32_t, fingerprint::max_bins + 1> buf{};
    buf[0] = static_cast<std::uint32_t>(band);
    std::memcpy(buf.data() + 1, values, s.rows * sizeof(std::uint32_t));
    return XXH3_64bits_withSeed(buf.data(), (s.rows + 1) * sizeof(std::uint32_t), band_seed);
  }

  std::string id_of(std::uint32_t slot) const {
    const record& r = records[slot];
    std::array<std::uint8_t, fingerprint::max_bins + 8> buf{};
    std::memcpy(buf.data(), &rep[slot * bins], bins);
    std::memcpy(buf.data() + bins, &r.first_seen_s, 4);
    std::memcpy(buf.data() + bins + 4, &r.first_subscriber, 4);
    const std::uint64_t h = XXH3_64bits_withSecret(buf.data(), bins + 8, id_secret.data(), id_secret.size());
    static constexpr char hex[] = "0123456789abcdef";
    std::string id = "c-";
    for (int i = 15; i >= 0; --i) {
      id.push_back(hex[(h >> (4 * i)) & 0xf]);
    }
    return id;
  }

  bool alive(std::uint32_t slot, std::uint8_t gen) const noexcept {
    return slot < records.size() && records[slot].live && records[slot].gen == gen;
  }

  double score(std::uint32_t slot, const fingerprint::signature& sig) const noexcept {
    const record& r = records[slot];
    const std::uint64_t mask = r.more ? r.more->mask : ~0ULL;
    const std::uint8_t* b = &rep[slot * bins];
    std::size_t n = 0;
    std::size_t same = 0;
    for (std::size_t i = 0; i < bins; ++i) {
      if ((mask >> i) & 1) {
        ++n;
        same += b[i] == static_cast<std::uint8_t>(sig.bins[i]) ? 1 : 0;
      }
    }
    if (n == 0) {
      return 0;
    }
    // Bins hold 8 bits: unrelated bins agree by chance 1 in 256; correct the estimate for it.
    const double raw = static_cast<double>(same) / static_cast<double>(n);
    return std::max(0.0, (raw - 1.0 / 256) / (1.0 - 1.0 / 256));
  }

  void index_member(std::uint32_t slot, const std::uint32_t* values) {
    for (std::size_t band = 0; band < s.bands; ++band) {
      index.insert(band_key(band, values + band * s.rows), slot, records[slot].gen,
                   [this](std::uint32_t sl, std::uint8_t g) { return alive(sl, g); });
    }
  }

  std::uint32_t distinct_window(const record& r, std::uint32_t now) const {
    if (!r.more) {
      return now - r.last_seen_s < window_s() ? 1 : 0;
    }
    const extras& e = *r.more;
    if (e.sketches) {
      hll u = (*e.sketches)[1];
      const std::uint32_t g = now / window_s();
      if (g == e.sketch_gen) {
        u.merge((*e.sketches)[2]);
      } else if (g == e.sketch_gen + 1) {
        u = (*e.sketches)[1];
      } else {
        return 0;
      }
      return static_cast<std::uint32_t>(std::lround(u.estimate()));
    }
    std::uint32_t n = 0;
    for (const auto& [h, seen] : e.subscribers) {
      n += now - std::min(now, seen) < window_s() ? 1 : 0;
    }
    return n;
  }

  std::uint32_t distinct_total(const record& r) const {
    if (!r.more) {
      return 1;
    }
    if (r.more->sketches) {
      return std::max<std::uint32_t>(static_cast<std::uint32_t>(s.exact_subscribers) + 1,
                                     static_cast<std::uint32_t>(std::lround((*r.more->sketches)[0].estimate())));
    }
    return r.more->distinct_total;
  }

  std::uint32_t messages_window(const record& r, std::uint32_t now) const {
    if (!r.more) {
      return now - r.last_seen_s < window_s() ? r.messages : 0;
    }
    const std::uint32_t g = now / window_s();
    if (g == r.more->window_gen) {
      return r.more->msgs_cur + r.more->msgs_prev;
    }
    return g == r.more->window_gen + 1 ? r.more->msgs_cur : 0;
  }

  campaign_view view(std::uint32_t slot, std::uint32_t now, std::size_t k) const;
  std::vector<std::byte> blob(std::uint32_t slot) const;

  std::uint32_t window_s() const noexcept {
    return static_cast<std::uint32_t>(std::max<std::int64_t>(1, s.window_ms / 1000));
  }

  void remove(std::uint32_t slot) {
    record& r = records[slot];
    if (r.persisted) {
      removed.push_back(id_of(slot));
    }
    if (r.more) {
      for (std::uint64_t a : r.more->attachments) {
        auto it = by_attachment.find(a);
        if (it != by_attachment.end() && it->second.first == slot) {
          by_attachment.erase(it);
        }
      }
    }
    r.more.reset();
    r.live = false;
    r.dirty = false;
    r.persisted = false;
    ++r.gen;
    free_slots.push_back(slot);
    --live;
  }

  std::uint32_t allocate() {
    if (live >= s.max_campaigns) {
      // Approximate LRU: the least recently seen of a few random campaigns.
      std::uniform_int_distribution<std::size_t> pick(0, records.size() - 1);
      std::uint32_t victim = UINT32_MAX;
      for (std::size_t tries = 0, found = 0; found < s.eviction_sample && tries < s.eviction_sample * 8; ++tries) {
        const auto i = static_cast<std::uint32_t>(pick(rng));
        if (!records[i].live) {
          continue;
        }
        ++found;
        if (victim == UINT32_MAX || records[i].last_seen_s < records[victim].last_seen_s) {
          victim = i;
        }
      }
      if (victim != UINT32_MAX) {
        remove(victim);
      }
    }
    std::uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(records.size());
      records.emplace_back();
      rep.resize(rep.size() + bins);
    }
    ++live;
    return slot;
  }

  extras& more_of(std::uint32_t slot) {
    record& r = records[slot];
    if (!r.more) {
      r.more = std::make_unique<extras>();
      r.more->window_gen = r.last_seen_s / window_s();
      r.more->msgs_cur = r.messages;
      r.more->subscribers.emplace_back(r.first_subscriber, r.last_seen_s);
      r.more->distinct_total = 1;
    }
    return *r.more;
  }

  void count_subscriber(extras& e, std::uint32_t sub, std::uint32_t now) {
    const std::uint32_t g = now / window_s();
    if (!e.sketches) {
      for (auto& [h, seen] : e.subscribers) {
        if (h == sub) {
          seen = std::max(seen, now);
          return;
        }
      }
      if (e.subscribers.size() < s.exact_subscribers) {
        e.subscribers.emplace_back(sub, now);
        ++e.distinct_total;
        return;
      }
      // Beyond the exact cap: sketches from here on, seeded with the known subscribers (their
      // 32-bit hashes re-mixed, since the sketch wants 64 bits).
      e.sketches = std::make_unique<std::array<hll, 3>>();
      e.sketch_gen = g;
      for (const auto& [h, seen] : e.subscribers) {
        const std::uint64_t x = XXH3_64bits(&h, sizeof h);
        (*e.sketches)[0].add(x);
        if (seen / window_s() == g) {
          (*e.sketches)[1].add(x);
        } else if (seen / window_s() + 1 == g) {
          (*e.sketches)[2].add(x);
        }
      }
      e.subscribers.clear();
      e.subscribers.shrink_to_fit();
    }
    auto& sk = *e.sketches;
    if (g == e.sketch_gen + 1) {
      sk[2] = sk[1];
      sk[1] = hll{};
    } else if (g > e.sketch_gen + 1) {
      sk[1] = hll{};
      sk[2] = hll{};
    }
    e.sketch_gen = std::max(e.sketch_gen, g);
    const std::uint64_t x = XXH3_64bits(&sub, sizeof sub);
    sk[0].add(x);
    sk[1].add(x);
  }
};

tracker::tracker(tracker_settings settings, std::size_t signature_bins, std::string_view deployment_secret)
    : _impl(std::make_unique<impl>()) {
  assert(validate(settings, signature_bins));
  _impl->s = std::move(settings);
  _impl->bins = signature_bins;
  auto derive = [&](std::array<std::byte, 192>& out, std::string_view label) {
    std::string seed(label);
    seed.push_back('\0');
    seed.append(deployment_secret);
    XXH3_generateSecret(out.data(), out.size(), seed.data(), seed.size());
  };
  derive(_impl->id_secret, "portwarden campaign id");
  derive(_impl->subscriber_secret, "portwarden campaign subscriber");
  std::array<std::byte, 192> band{};
  derive(band, "portwarden campaign band");
  std::memcpy(&_impl->band_seed, band.data(), sizeof _impl->band_seed);
}

tracker::~tracker() = default;

const tracker_settings& tracker::settings() const noexcept { return _impl->s; }

std::size_t tracker::size() const {
  std::lock_guard lock(_impl->mu);
  return _impl->live;
}

membership tracker::observe(const fingerprint::signature& sig, std::string_view subscriber, std::int64_t now_ms) {
  impl& m = *_impl;
  membership out;
  const bool has_text = sig.shingles > 0 && sig.bin_count == m.bins;
  if (!has_text && sig.attachments.empty()) {
    return out;
  }
  const auto sub = static_cast<std::uint32_t>(
      XXH3_64bits_withSecret(subscriber.data(), subscriber.size(), m.subscriber_secret.data(), m.subscriber_secret.size()));
  // Band keys outside the lock: they only read the signature and the immutable seed.
  std::array<std::uint64_t, fingerprint::max_bins> keys{};
  if (has_text) {
    for (std::size_t band = 0; band < m.s.bands; ++band) {
      keys[band] = m.band_key(band, sig.bins.data() + band * m.s.rows);
    }
  }

  std::lock_guard lock(m.mu);
  m.now_s = std::max(m.now_s, to_seconds(now_ms));
  const std::uint32_t now = m.now_s;

  std::uint32_t best = UINT32_MAX;
  double best_score = 0;
  if (has_text) {
    // A short text agrees with unrelated short texts by boilerplate alone ("URL: ... Date: ..."):
    // it must agree more.
    // Too few words to tell a template from a coincidence: only an identical text joins.
    const double threshold = sig.words < m.s.min_words        ? 1.0
                             : sig.shingles < m.s.short_shingles ? std::max(m.s.similarity, m.s.short_similarity)
                                                                 : m.s.similarity;
    std::array<std::uint32_t, 64> seen{};
    std::size_t seen_n = 0;
    for (std::size_t band = 0; band < m.s.bands; ++band) {
      m.index.find(keys[band], [&](std::uint32_t slot, std::uint8_t gen) {
        if (!m.alive(slot, gen) || std::find(seen.begin(), seen.begin() + seen_n, slot) != seen.begin() + seen_n) {
          return;
        }
        if (seen_n < seen.size()) {
          seen[seen_n++] = slot;
        }
        const double sc = m.score(slot, sig);
        if (sc >= threshold && sc > best_score) {
          best_score = sc;
          best = slot;
        }
      });
    }
  }
  if (best == UINT32_MAX && sig.shingles < m.s.attachment_max_shingles) {
    for (std::uint64_t a : sig.attachments) {
      auto it = m.by_attachment.find(a);
      if (it != m.by_attachment.end() && m.alive(it->second.first, it->second.second)) {
        best = it->second.first;
        out.joined_by_attachment = true;
        break;
      }
    }
  }

  if (best == UINT32_MAX) {
    const std::uint32_t slot = m.allocate();
    record& r = m.records[slot];
    r.first_seen_s = now;
    r.last_seen_s = now;
    r.messages = 1;
    r.first_subscriber = sub;
    r.live = true;
    r.dirty = true;
    std::uint8_t* b = &m.rep[slot * m.bins];
    for (std::size_t i = 0; i < m.bins; ++i) {
      b[i] = has_text ? static_cast<std::uint8_t>(sig.bins[i]) : 0;
    }
    if (!has_text) {
      m.more_of(slot).mask = 0;  // attachment-only: nothing to compare by text
    }
    if (has_text) {
      m.index_member(slot, sig.bins.data());
    }
    if (!sig.attachments.empty()) {
      extras& e = m.more_of(slot);
      for (std::uint64_t a : sig.attachments) {
        e.attachments.push_back(a);
        m.by_attachment.emplace(a, std::make_pair(slot, r.gen));
      }
    }
    out.id = m.id_of(slot);
    out.new_campaign = true;
    out.messages = 1;
    out.messages_in_window = 1;
    out.distinct_subscribers = 1;
    out.distinct_subscribers_total = 1;
    out.active = m.s.k <= 1;
    out.first_seen_ms = static_cast<std::int64_t>(now) * 1000;
    return out;
  }

  record& r = m.records[best];
  extras& e = m.more_of(best);
  const std::uint32_t g = now / m.window_s();
  if (g == e.window_gen + 1) {
    e.msgs_prev = e.msgs_cur;
    e.msgs_cur = 0;
  } else if (g > e.window_gen + 1) {
    e.msgs_prev = 0;
    e.msgs_cur = 0;
  }
  e.window_gen = std::max(e.window_gen, g);
  ++e.msgs_cur;
  r.messages = r.messages == UINT32_MAX ? r.messages : r.messages + 1;
  r.last_seen_s = std::max(r.last_seen_s, now);
  r.dirty = true;
  m.count_subscriber(e, sub, now);
  if (e.subject_shape == 0) {
    e.subject_shape = sig.subject_shape;
  }
  for (const std::string& d : sig.url_domains) {
    if (e.domains.size() >= m.s.max_domains) {
      break;
    }
    if (std::find(e.domains.begin(), e.domains.end(), d) == e.domains.end()) {
      e.domains.push_back(d);
    }
  }
  if (has_text && !out.joined_by_attachment) {
    // The second member narrows the representative to the bins both agree on: a bin where either
    // drew its minimum from its own hash-buster words cannot predict the next variant. Only when
    // enough bins remain for a stable estimate.
    if (r.messages == 2 && e.mask == ~0ULL) {
      std::uint64_t agree = 0;
      const std::uint8_t* b = &m.rep[best * m.bins];
      for (std::size_t i = 0; i < m.bins; ++i) {
        agree |= static_cast<std::uint64_t>(b[i] == static_cast<std::uint8_t>(sig.bins[i])) << i;
      }
      if (static_cast<std::size_t>(std::popcount(agree)) >= std::max<std::size_t>(8, m.bins / 4)) {
        e.mask = agree;
      }
    }
    if (e.indexed < m.s.indexed_members) {
      ++e.indexed;
      for (std::size_t band = 0; band < m.s.bands; ++band) {
        for (std::size_t row = 0; row < m.s.rows; ++row) {
          e.member_keys.push_back(sig.bins[band * m.s.rows + row]);
        }
      }
      m.index_member(best, sig.bins.data());
    }
  }
  out.id = m.id_of(best);
  out.messages = r.messages;
  out.messages_in_window = m.messages_window(r, now);
  out.distinct_subscribers = m.distinct_window(r, now);
  out.distinct_subscribers_total = m.distinct_total(r);
  out.active = out.distinct_subscribers >= m.s.k;
  out.first_seen_ms = static_cast<std::int64_t>(r.first_seen_s) * 1000;
  return out;
}

namespace {

std::string hex64(std::uint64_t h) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (int i = 15; i >= 0; --i) {
    s.push_back(hex[(h >> (4 * i)) & 0xf]);
  }
  return s;
}

}  // namespace

campaign_view tracker::impl::view(std::uint32_t slot, std::uint32_t now, std::size_t k) const {
  const record& r = records[slot];
  campaign_view v;
  v.id = id_of(slot);
  v.messages = r.messages;
  v.messages_in_window = messages_window(r, now);
  v.distinct_subscribers = distinct_window(r, now);
  v.distinct_subscribers_total = distinct_total(r);
  v.active = v.distinct_subscribers >= s.k;
  v.last_seen_ms = static_cast<std::int64_t>(r.last_seen_s) * 1000;
  if (v.distinct_subscribers_total >= k) {
    evidence ev;
    ev.first_seen_ms = static_cast<std::int64_t>(r.first_seen_s) * 1000;
    if (r.more) {
      ev.subject_shape = r.more->subject_shape != 0 ? hex64(r.more->subject_shape) : std::string();
      ev.url_domains = r.more->domains;
      std::sort(ev.url_domains.begin(), ev.url_domains.end());
    }
    v.shown = std::move(ev);
  }
  return v;
}

std::vector<campaign_view> tracker::list(std::int64_t now_ms, const list_options& opts) const {
  const impl& m = *_impl;
  const std::size_t k = std::max(opts.evidence_k, m.s.k);
  std::lock_guard lock(m.mu);
  const std::uint32_t now = std::max(m.now_s, to_seconds(now_ms));
  // Rank without building views, then build the top `limit`.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranked;  // (distinct in window, slot)
  for (std::uint32_t slot = 0; slot < m.records.size(); ++slot) {
    const record& r = m.records[slot];
    if (!r.live || (opts.active_only && !r.more)) {
      continue;
    }
    const std::uint32_t d = m.distinct_window(r, now);
    if (opts.active_only && d < m.s.k) {
      continue;
    }
    ranked.emplace_back(d, slot);
  }
  const std::size_t n = std::min(opts.limit, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<campaign_view> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(m.view(ranked[i].second, now, k));
  }
  return out;
}

lookup<campaign_view> tracker::find(std::string_view id, std::int64_t now_ms, std::size_t evidence_k) const {
  const impl& m = *_impl;
  std::lock_guard lock(m.mu);
  const std::uint32_t now = std::max(m.now_s, to_seconds(now_ms));
  // Ids are keyed hashes, not positions: a scan (the HTTP API asks for one campaign now and then).
  for (std::uint32_t slot = 0; slot < m.records.size(); ++slot) {
    if (m.records[slot].live && m.id_of(slot) == id) {
      return m.view(slot, now, std::max(evidence_k, m.s.k));
    }
  }
  return not_found;
}

std::vector<std::byte> tracker::impl::blob(std::uint32_t slot) const {
  const record& r = records[slot];
  std::vector<std::byte> b;
  put_u8(b, blob_version);
  put_u8(b, static_cast<std::uint8_t>(bins));
  for (std::size_t i = 0; i < bins; ++i) {
    put_u8(b, rep[slot * bins + i]);
  }
  put_u32(b, r.first_seen_s);
  put_u32(b, r.last_seen_s);
  put_u32(b, r.messages);
  put_u32(b, r.first_subscriber);
  const extras empty;
  const extras& e = r.more ? *r.more : empty;
  put_u64(b, e.mask);
  put_u64(b, e.subject_shape);
  put_u32(b, e.window_gen);
  put_u32(b, e.msgs_cur);
  put_u32(b, e.msgs_prev);
  put_u32(b, e.distinct_total);
  put_u8(b, static_cast<std::uint8_t>(e.subscribers.size()));
  for (const auto& [h, seen] : e.subscribers) {
    put_u32(b, h);
    put_u32(b, seen);
  }
  put_u8(b, e.sketches ? 1 : 0);
  if (e.sketches) {
    put_u32(b, e.sketch_gen);
    for (const hll& h : *e.sketches) {
      for (std::uint8_t x : h.reg) {
        put_u8(b, x);
      }
    }
  }
  put_u8(b, static_cast<std::uint8_t>(e.domains.size()));
  for (const std::string& d : e.domains) {
    const std::size_t len = std::min<std::size_t>(d.size(), 255);
    put_u8(b, static_cast<std::uint8_t>(len));
    for (std::size_t i = 0; i < len; ++i) {
      put_u8(b, static_cast<std::uint8_t>(d[i]));
    }
  }
  put_u8(b, static_cast<std::uint8_t>(e.attachments.size()));
  for (std::uint64_t a : e.attachments) {
    put_u64(b, a);
  }
  put_u8(b, static_cast<std::uint8_t>(s.bands * s.rows));
  put_u8(b, static_cast<std::uint8_t>(e.member_keys.size() / std::max<std::size_t>(1, s.bands * s.rows)));
  for (std::uint32_t k : e.member_keys) {
    put_u32(b, k);
  }
  const std::uint64_t check = XXH3_64bits(b.data(), b.size());
  put_u64(b, check);
  return b;
}

changes tracker::collect_changes() {
  impl& m = *_impl;
  changes out;
  std::lock_guard lock(m.mu);
  for (std::uint32_t slot = 0; slot < m.records.size(); ++slot) {
    record& r = m.records[slot];
    if (!r.live || !r.dirty || r.messages < m.s.persist_min_messages) {
      continue;
    }
    out.updated.push_back({m.id_of(slot), m.blob(slot)});
    r.dirty = false;
    r.persisted = true;
  }
  out.removed.swap(m.removed);
  return out;
}

result<void> tracker::restore(std::string_view id, std::span<const std::byte> blob) {
  impl& m = *_impl;
  auto corrupt = [](std::string what) { return make_error(errc::corrupt, "campaign blob: " + what); };
  if (blob.size() < 2 + 8) {
    return corrupt("truncated");
  }
  const std::size_t body = blob.size() - 8;
  reader tail{blob, body};
  if (tail.u64() != XXH3_64bits(blob.data(), body)) {
    return corrupt("checksum mismatch");
  }
  reader rd{blob.first(body)};
  const std::uint8_t version = rd.u8();
  if (version != blob_version) {
    return make_error(errc::invalid_input, "campaign blob: unknown version " + std::to_string(version));
  }
  if (rd.u8() != m.bins) {
    return make_error(errc::invalid_input, "campaign blob: written for another signature length");
  }
  std::array<std::uint8_t, fingerprint::max_bins> bins{};
  for (std::size_t i = 0; i < m.bins; ++i) {
    bins[i] = rd.u8();
  }
  record r;
  r.first_seen_s = rd.u32();
  r.last_seen_s = rd.u32();
  r.messages = rd.u32();
  r.first_subscriber = rd.u32();
  auto e = std::make_unique<extras>();
  e->mask = rd.u64();
  e->subject_shape = rd.u64();
  e->window_gen = rd.u32();
  e->msgs_cur = rd.u32();
  e->msgs_prev = rd.u32();
  e->distinct_total = rd.u32();
  const std::size_t subs = rd.u8();
  if (subs > m.s.exact_subscribers + 1) {
    return corrupt("more exact subscribers than configured");
  }
  for (std::size_t i = 0; i < subs && rd.ok; ++i) {
    const std::uint32_t h = rd.u32();
    e->subscribers.emplace_back(h, rd.u32());
  }
  if (rd.u8() != 0) {
    e->sketch_gen = rd.u32();
    e->sketches = std::make_unique<std::array<hll, 3>>();
    for (hll& h : *e->sketches) {
      for (std::uint8_t& x : h.reg) {
        x = rd.u8();
        if (x > 57) {
          return corrupt("sketch register out of range");
        }
      }
    }
  }
  const std::size_t domains = rd.u8();
  for (std::size_t i = 0; i < domains && rd.ok; ++i) {
    const std::size_t len = rd.u8();
    if (!rd.need(len)) {
      break;
    }
    std::string d(len, '\0');
    for (char& c : d) {
      c = static_cast<char>(rd.u8());
    }
    if (e->domains.size() < m.s.max_domains) {
      e->domains.push_back(std::move(d));
    }
  }
  const std::size_t atts = rd.u8();
  for (std::size_t i = 0; i < atts && rd.ok; ++i) {
    e->attachments.push_back(rd.u64());
  }
  const std::size_t per_member = rd.u8();
  const std::size_t members = rd.u8();
  const bool same_bands = per_member == m.s.bands * m.s.rows;
  for (std::size_t i = 0; i < per_member * members && rd.ok; ++i) {
    const std::uint32_t k = rd.u32();
    if (same_bands) {
      e->member_keys.push_back(k);
    }
  }
  if (!rd.ok || rd.pos != body) {
    return corrupt("truncated or trailing bytes");
  }
  if (r.messages == 0 || r.last_seen_s < r.first_seen_s) {
    return corrupt("inconsistent counts or times");
  }
  e->indexed = static_cast<std::uint8_t>(std::min<std::size_t>(255, 1 + e->member_keys.size() / std::max<std::size_t>(1, per_member)));

  std::lock_guard lock(m.mu);
  // Replace a campaign of the same id (a restore twice), then place it.
  for (std::uint32_t slot = 0; slot < m.records.size(); ++slot) {
    if (m.records[slot].live && m.id_of(slot) == id) {
      m.records[slot].persisted = false;
      m.remove(slot);
      break;
    }
  }
  const std::uint32_t slot = m.allocate();
  record& dst = m.records[slot];
  dst.first_seen_s = r.first_seen_s;
  dst.last_seen_s = r.last_seen_s;
  dst.messages = r.messages;
  dst.first_subscriber = r.first_subscriber;
  dst.live = true;
  dst.persisted = true;
  std::memcpy(&m.rep[slot * m.bins], bins.data(), m.bins);
  dst.more = std::move(e);
  const extras& ex = *dst.more;
  for (std::size_t i = 0; same_bands && i + per_member <= ex.member_keys.size(); i += per_member) {
    m.index_member(slot, ex.member_keys.data() + i);
  }
  for (std::uint64_t a : ex.attachments) {
    m.by_attachment.emplace(a, std::make_pair(slot, dst.gen));
  }
  m.now_s = std::max(m.now_s, dst.last_seen_s);
  if (m.id_of(slot) != id) {
    m.remove(slot);
    return corrupt("the id does not match the content");
  }
  return {};
}

std::size_t tracker::expire(std::int64_t now_ms) {
  impl& m = *_impl;
  std::lock_guard lock(m.mu);
  const std::uint32_t now = std::max(m.now_s, to_seconds(now_ms));
  const auto idle = static_cast<std::uint32_t>(std::max<std::int64_t>(1, m.s.expire_idle_ms / 1000));
  std::size_t n = 0;
  for (std::uint32_t slot = 0; slot < m.records.size(); ++slot) {
    if (m.records[slot].live && now - std::min(now, m.records[slot].last_seen_s) >= idle) {
      m.remove(slot);
      ++n;
    }
  }
  if (n > 0) {
    m.index.rebuild([&m](std::uint32_t sl, std::uint8_t g) { return m.alive(sl, g); });
  }
  return n;
}

}  // namespace pw::campaign
