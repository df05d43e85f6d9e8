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

constexpr std::uint8_t blob_version = 3;    // 3: + the ids of absorbed campaigns; 2 is still read
constexpr std::size_t hll_registers = 256;  // 2^8: ~6.5 % standard error, 256 bytes per sketch
constexpr std::size_t max_dup_per_key = 8;  // index entries kept per band key (hot boilerplate keys)
constexpr std::size_t max_absorbed = 8;     // ids of folded campaigns kept per campaign (they resolve to it)
constexpr std::uint32_t slot_bits = 24;     // max_campaigns < 2^24

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
  std::uint32_t messages = 1;          // since first seen (a campaign without extras has one)
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
  std::vector<std::uint64_t> subjects;     // keyed subject-text hashes of members 2.. (text campaigns)
                                           // or of every member (campaigns of images alone)
  std::vector<std::uint8_t> member_keys;   // banded bins (low bytes) of members 2.., bands × rows each
  std::vector<std::uint64_t> absorbed;     // id hashes of campaigns folded into this one (they resolve here)
};

// 24 bytes, plus the representative's bins (one byte each) in impl::rep: see the memory contract.
struct record {
  std::uint32_t first_seen_s = 0;
  std::uint32_t last_seen_s = 0;
  std::uint32_t first_subscriber = 0;
  std::uint8_t gen = 0;  // bumped when the slot is freed: attachment entries of the old campaign die
  bool live = false;
  bool dirty = false;
  bool persisted = false;
  std::unique_ptr<extras> more;

  std::uint32_t messages() const noexcept { return more ? more->messages : 1; }
};
static_assert(sizeof(record) == 24);

// Open-addressing table from 64-bit key hashes to slots, 4 bytes a cell: the slot (24 bits) and 8
// bits of the key hash as a tag; the position comes from the key hash (multiply-shift, so any
// table size works: tables are kept between 64 and 80 % full, growing ×1.25; linear probing over
// 4-byte cells stays within a cache line or two at that load). The keys themselves are not stored: they derive from the
// campaigns' bins and ids, and the owner re-inserts them all when the table grows or when too many
// entries are stale (removed campaigns leave their entries behind; a stale entry is only a wasted
// candidate, since every hit is checked against the campaign itself).
class slot_index {
 public:
  static constexpr double max_load = 0.80;

  // Whether `extra` more entries fit without passing max_load.
  bool fits(std::size_t extra) const noexcept {
    return static_cast<double>(_used + extra) <= max_load * static_cast<double>(_cells.size());
  }
  bool mostly_stale() const noexcept { return _stale > 1024 && _stale * 2 > _used; }
  void mark_stale(std::size_t n) noexcept { _stale += n; }

  // Empties the table, sized for `entries` at load 0.64.
  void reset(std::size_t entries) {
    _cells.assign(std::max<std::size_t>(1024, entries * 25 / 16), 0);
    _cells.shrink_to_fit();
    _used = 0;
    _stale = 0;
  }

  // At most max_dup_per_key entries per tag run: a boilerplate key shared by many campaigns is not
  // worth its scoring, other bands must find those.
  void insert(std::uint64_t key_hash, std::uint32_t slot) {
    const std::uint32_t cell = (tag(key_hash) << slot_bits) | slot;
    std::size_t dup = 0;
    for (std::size_t i = position(key_hash);; i = next(i)) {
      const std::uint32_t c = _cells[i];
      if (c == 0) {
        _cells[i] = cell;
        ++_used;
        return;
      }
      if (c == cell || ((c >> slot_bits) == (cell >> slot_bits) && ++dup >= max_dup_per_key)) {
        return;
      }
    }
  }

  template <class Fn>
  void find(std::uint64_t key_hash, Fn&& fn) const {
    if (_cells.empty()) {
      return;
    }
    const std::uint32_t t = tag(key_hash);
    for (std::size_t i = position(key_hash);; i = next(i)) {
      const std::uint32_t c = _cells[i];
      if (c == 0) {
        return;
      }
      if ((c >> slot_bits) == t) {
        fn(c & ((1u << slot_bits) - 1));
      }
    }
  }

  std::size_t used() const noexcept { return _used; }

 private:
  // Tags 1..255: 0 marks an empty cell.
  static std::uint32_t tag(std::uint64_t h) noexcept { return 1 + static_cast<std::uint32_t>((h & 0xffff) % 255); }
  std::size_t position(std::uint64_t h) const noexcept {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::size_t>((static_cast<u128>(h) * _cells.size()) >> 64);
  }
  std::size_t next(std::size_t i) const noexcept { return i + 1 == _cells.size() ? 0 : i + 1; }

  std::vector<std::uint32_t> _cells;
  std::size_t _used = 0;
  std::size_t _stale = 0;
};

// A growable array in fixed chunks: no doubling slack (a vector at 1 M + 1 records holds 2 M) and
// no copy when it grows. Elements stay where they are.
template <class T>
class chunked {
 public:
  explicit chunked(std::size_t chunk_elements) : _per(chunk_elements) {}
  T& operator[](std::size_t i) noexcept { return _chunks[i / _per][i % _per]; }
  const T& operator[](std::size_t i) const noexcept { return _chunks[i / _per][i % _per]; }
  std::size_t size() const noexcept { return _size; }
  // Appends `n` value-initialised elements (n ≤ one chunk, and the size stays a multiple of n).
  void grow(std::size_t n) {
    if (_size + n > _chunks.size() * _per) {
      _chunks.push_back(std::make_unique<T[]>(_per));
    }
    _size += n;
  }

 private:
  std::size_t _per;
  std::size_t _size = 0;
  std::vector<std::unique_ptr<T[]>> _chunks;
};

constexpr std::size_t slots_per_chunk = 4096;

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
  chunked<record> records{slots_per_chunk};
  chunked<std::uint8_t> rep{slots_per_chunk * fingerprint::max_bins};  // `bins` low bytes of the representative per slot
  std::vector<std::uint32_t> free_slots;
  std::size_t live = 0;
  std::vector<slot_index> index;  // per band: band keys of indexed members → slot
  slot_index ids;    // campaign id hash → slot (find, restore)
  std::unordered_map<std::uint64_t, std::pair<std::uint32_t, std::uint8_t>> by_attachment;
  std::unordered_map<std::uint64_t, std::pair<std::uint32_t, std::uint8_t>> by_subject;
  std::vector<std::string> removed;  // persisted campaigns gone since the last collect_changes
  std::uint32_t now_s = 0;           // latest time seen (clock steps back count as no time)
  std::mt19937_64 rng{0x5eed};

  // A band key hashes the band's bins as kept (their low bytes), so every key can be recomputed from
  // the representative and the kept member bins: the index is derived state (rebuilt, restored).
  std::uint64_t band_key(std::size_t band, const std::uint8_t* values) const noexcept {
    std::array<std::uint8_t, fingerprint::max_bins + 1> buf{};
    buf[0] = static_cast<std::uint8_t>(band);
    std::memcpy(buf.data() + 1, values, s.rows);
    return XXH3_64bits_withSeed(buf.data(), s.rows + 1, band_seed);
  }

  std::uint64_t id_hash(const std::uint8_t* rep_bins, std::uint32_t first_seen_s, std::uint32_t first_subscriber) const noexcept {
    std::array<std::uint8_t, fingerprint::max_bins + 8> buf{};
    std::memcpy(buf.data(), rep_bins, bins);
    std::memcpy(buf.data() + bins, &first_seen_s, 4);
    std::memcpy(buf.data() + bins + 4, &first_subscriber, 4);
    return XXH3_64bits_withSecret(buf.data(), bins + 8, id_secret.data(), id_secret.size());
  }
  std::uint64_t id_hash(std::uint32_t slot) const noexcept {
    return id_hash(&rep[slot * bins], records[slot].first_seen_s, records[slot].first_subscriber);
  }

  std::string id_of(std::uint32_t slot) const {
    const std::uint64_t h = id_hash(slot);
    static constexpr char hex[] = "0123456789abcdef";
    std::string id = "c-";
    for (int i = 15; i >= 0; --i) {
      id.push_back(hex[(h >> (4 * i)) & 0xf]);
    }
    return id;
  }

  // The slot of the live campaign with this id hash (its own, or one it absorbed), or UINT32_MAX.
  std::uint32_t slot_of(std::uint64_t h) const {
    std::uint32_t found = UINT32_MAX;
    ids.find(h, [&](std::uint32_t slot) {
      if (found == UINT32_MAX && alive(slot) && (id_hash(slot) == h || absorbed_into(slot, h))) {
        found = slot;
      }
    });
    return found;
  }

  // The slot of a live campaign with this id, or UINT32_MAX.
  std::uint32_t slot_of(std::string_view id) const {
    if (id.size() != 18 || !id.starts_with("c-")) {
      return UINT32_MAX;
    }
    std::uint64_t h = 0;
    for (char c : id.substr(2)) {
      const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) {
        return UINT32_MAX;
      }
      h = (h << 4) | static_cast<std::uint64_t>(v);
    }
    return slot_of(h);
  }

  bool absorbed_into(std::uint32_t slot, std::uint64_t h) const noexcept {
    const record& r = records[slot];
    return r.more && std::find(r.more->absorbed.begin(), r.more->absorbed.end(), h) != r.more->absorbed.end();
  }

  bool alive(std::uint32_t slot) const noexcept { return slot < records.size() && records[slot].live; }
  bool alive(std::uint32_t slot, std::uint8_t gen) const noexcept { return alive(slot) && records[slot].gen == gen; }

  std::size_t members_indexed(const record& r) const noexcept {
    return 1 + (r.more ? r.more->member_keys.size() / (s.bands * s.rows) : 0);
  }

  // Makes room for `members` more indexed members and one id before any state changes (a rebuild
  // re-inserts what is live, so it must not see half-inserted state). Each table is rebuilt alone
  // when it runs full or mostly stale, so one growth stalls observe for one table's entries only,
  // and the band tables are sized a little apart so they do not all grow on the same message.
  void reserve_index(std::size_t members) {
    for (std::size_t band = 0; band < s.bands; ++band) {
      if (!index[band].fits(members) || index[band].mostly_stale()) {
        rebuild_band(band, members);
      }
    }
    if (!ids.fits(1) || ids.mostly_stale()) {
      rebuild_ids();
    }
  }

  bool has_text_keys(const record& r) const noexcept { return r.live && !(r.more && r.more->mask == 0); }

  void rebuild_band(std::size_t band, std::size_t extra) {
    std::size_t entries = extra;
    for (std::uint32_t slot = 0; slot < records.size(); ++slot) {
      entries += has_text_keys(records[slot]) ? members_indexed(records[slot]) : 0;
    }
    index[band].reset(entries * (64 + band) / 64);
    for (std::uint32_t slot = 0; slot < records.size(); ++slot) {
      const record& r = records[slot];
      if (!has_text_keys(r)) {
        continue;
      }
      index[band].insert(band_key(band, &rep[slot * bins] + band * s.rows), slot);
      if (r.more) {
        const std::vector<std::uint8_t>& k = r.more->member_keys;
        for (std::size_t i = 0; i + s.bands * s.rows <= k.size(); i += s.bands * s.rows) {
          index[band].insert(band_key(band, k.data() + i + band * s.rows), slot);
        }
      }
    }
  }

  void rebuild_ids() {
    std::size_t entries = live + 1;
    for (std::uint32_t slot = 0; slot < records.size(); ++slot) {
      entries += records[slot].live && records[slot].more ? records[slot].more->absorbed.size() : 0;
    }
    ids.reset(entries);
    for (std::uint32_t slot = 0; slot < records.size(); ++slot) {
      if (records[slot].live) {
        ids.insert(id_hash(slot), slot);
        if (records[slot].more) {
          for (std::uint64_t h : records[slot].more->absorbed) {
            ids.insert(h, slot);
          }
        }
      }
    }
  }

  void rebuild_indexes() {
    for (std::size_t band = 0; band < s.bands; ++band) {
      rebuild_band(band, 0);
    }
    rebuild_ids();
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
    double raw = static_cast<double>(same) / static_cast<double>(n);
    if (r.more) {
      const std::size_t per = s.bands * s.rows;
      const std::vector<std::uint8_t>& k = r.more->member_keys;
      for (std::size_t i = 0; i + per <= k.size(); i += per) {
        std::size_t agree = 0;
        for (std::size_t j = 0; j < per; ++j) {
          agree += k[i + j] == static_cast<std::uint8_t>(sig.bins[j]) ? 1 : 0;
        }
        raw = std::max(raw, static_cast<double>(agree) / static_cast<double>(per));
      }
    }
    return std::max(0.0, (raw - 1.0 / 256) / (1.0 - 1.0 / 256));
  }

  // `values`: bands × rows bin bytes.
  void index_member(std::uint32_t slot, const std::uint8_t* values) {
    for (std::size_t band = 0; band < s.bands; ++band) {
      index[band].insert(band_key(band, values + band * s.rows), slot);
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
      return now - r.last_seen_s < window_s() ? 1 : 0;
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
    ids.mark_stale(1 + (r.more ? r.more->absorbed.size() : 0));
    for (slot_index& t : index) {
      t.mark_stale(has_text_keys(r) ? members_indexed(r) : 0);
    }
    if (r.more) {
      for (std::uint64_t a : r.more->attachments) {
        auto it = by_attachment.find(a);
        if (it != by_attachment.end() && it->second.first == slot) {
          by_attachment.erase(it);
        }
      }
      for (std::uint64_t h : r.more->subjects) {
        auto it = by_subject.find(h);
        if (it != by_subject.end() && it->second.first == slot) {
          by_subject.erase(it);
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
      records.grow(1);
      rep.grow(bins);
    }
    ++live;
    return slot;
  }

  extras& more_of(std::uint32_t slot) {
    record& r = records[slot];
    if (!r.more) {
      r.more = std::make_unique<extras>();
      r.more->window_gen = r.last_seen_s / window_s();
      r.more->msgs_cur = 1;
      r.more->subscribers.emplace_back(r.first_subscriber, r.last_seen_s);
      r.more->distinct_total = 1;
    }
    return *r.more;
  }

  // A campaign compared by text (not one of images alone).
  bool is_text(std::uint32_t slot) const noexcept { return !(records[slot].more && records[slot].more->mask == 0); }

  // Records a member's subject-text hash (up to max_subjects) where no other campaign has it.
  void add_subject(std::uint32_t slot, std::uint64_t subject) {
    extras& e = *records[slot].more;
    if (subject != 0 && e.subjects.size() < s.max_subjects &&
        std::find(e.subjects.begin(), e.subjects.end(), subject) == e.subjects.end() &&
        by_subject.emplace(subject, std::make_pair(slot, records[slot].gen)).second) {
      e.subjects.push_back(subject);
    }
  }

  // Folds campaign `from` (of images alone) into text campaign `to`: the image-only variants that
  // came before a text member carried one of their subjects are the same template. Its images and
  // subjects lead to `to` from now on, its counts and subscribers add to `to`'s, and its id (with
  // the ids it had absorbed, up to max_absorbed) resolves to `to` (find, so a reason naming it
  // still leads somewhere). `to` keeps its own id and first-seen time.
  void absorb(std::uint32_t from, std::uint32_t to, std::uint32_t now) {
    extras& src = more_of(from);
    extras& dst = more_of(to);
    for (std::uint64_t a : src.attachments) {
      auto it = by_attachment.find(a);
      if (it == by_attachment.end() || it->second.first != from) {
        continue;
      }
      it->second = std::make_pair(to, records[to].gen);
      if (std::find(dst.attachments.begin(), dst.attachments.end(), a) != dst.attachments.end()) {
        continue;
      }
      if (dst.attachments.size() >= s.max_attachments) {
        // The oldest image gives way: this one is proven a link (variants arrive with it now).
        auto old = by_attachment.find(dst.attachments.front());
        if (old != by_attachment.end() && old->second.first == to) {
          by_attachment.erase(old);
        }
        dst.attachments.erase(dst.attachments.begin());
      }
      dst.attachments.push_back(a);
    }
    for (std::uint64_t h : src.subjects) {
      auto it = by_subject.find(h);
      if (it != by_subject.end() && it->second.first == from) {
        by_subject.erase(it);
      }
    }
    std::vector<std::uint64_t> subjects = std::move(src.subjects);
    src.subjects.clear();
    dst.messages = dst.messages > UINT32_MAX - src.messages ? UINT32_MAX : dst.messages + src.messages;
    for (const auto& [gen, n] :
         {std::pair{src.window_gen, src.msgs_cur}, std::pair{src.window_gen - 1, src.msgs_prev}}) {
      if (n == 0) {
        continue;
      }
      if (gen == dst.window_gen) {
        dst.msgs_cur += n;
      } else if (gen + 1 == dst.window_gen) {
        dst.msgs_prev += n;
      }
    }
    if (src.sketches) {
      to_sketches(dst, now / window_s());
      auto& d = *dst.sketches;
      const auto& sk = *src.sketches;
      d[0].merge(sk[0]);
      if (src.sketch_gen == dst.sketch_gen) {
        d[1].merge(sk[1]);
        d[2].merge(sk[2]);
      } else if (src.sketch_gen + 1 == dst.sketch_gen) {
        d[2].merge(sk[1]);
      }
    } else {
      for (const auto& [h, seen] : src.subscribers) {
        count_subscriber(dst, h, seen);
      }
    }
    // The absorbed id, and the ids it had absorbed, resolve here from now on (up to max_absorbed).
    const std::size_t first_added = dst.absorbed.size();
    const auto take_id = [&dst](std::uint64_t h) {
      if (dst.absorbed.size() < max_absorbed) {
        dst.absorbed.push_back(h);
      }
    };
    take_id(id_hash(from));
    for (std::uint64_t h : src.absorbed) {
      take_id(h);
    }
    records[to].last_seen_s = std::max(records[to].last_seen_s, records[from].last_seen_s);
    records[to].dirty = true;
    remove(from);
    for (std::uint64_t h : subjects) {
      add_subject(to, h);
    }
    const std::size_t added = dst.absorbed.size() - first_added;
    if (ids.fits(added) && !ids.mostly_stale()) {
      for (std::size_t i = dst.absorbed.size() - added; i < dst.absorbed.size(); ++i) {
        ids.insert(dst.absorbed[i], to);
      }
    } else {
      rebuild_ids();
    }
  }

  // Beyond the exact cap: sketches from here on, seeded with the known subscribers (their 32-bit
  // hashes re-mixed, since the sketch wants 64 bits); `g` is the current window generation.
  void to_sketches(extras& e, std::uint32_t g) {
    if (e.sketches) {
      return;
    }
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

  // Counts subscriber hash `sub` seen at `seen` (seconds; the current time, or an absorbed
  // campaign's last sighting of it).
  void count_subscriber(extras& e, std::uint32_t sub, std::uint32_t seen) {
    const std::uint32_t g = seen / window_s();
    if (!e.sketches) {
      for (auto& [h, last] : e.subscribers) {
        if (h == sub) {
          last = std::max(last, seen);
          return;
        }
      }
      if (e.subscribers.size() < s.exact_subscribers) {
        e.subscribers.emplace_back(sub, seen);
        ++e.distinct_total;
        return;
      }
      to_sketches(e, std::max(g, std::max(e.window_gen, e.sketch_gen)));
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
    if (g == e.sketch_gen) {
      sk[1].add(x);
    } else if (g + 1 == e.sketch_gen) {
      sk[2].add(x);
    }
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
  _impl->index.resize(_impl->s.bands);
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
  // The bins as the tracker keeps them (low bytes), and the band keys, outside the lock: they only
  // read the signature and the immutable seed.
  std::array<std::uint8_t, fingerprint::max_bins> low{};
  std::array<std::uint64_t, fingerprint::max_bins> keys{};
  if (has_text) {
    for (std::size_t i = 0; i < m.bins; ++i) {
      low[i] = static_cast<std::uint8_t>(sig.bins[i]);
    }
    for (std::size_t band = 0; band < m.s.bands; ++band) {
      keys[band] = m.band_key(band, low.data() + band * m.s.rows);
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
      m.index[band].find(keys[band], [&](std::uint32_t slot) {
        if (!m.alive(slot) || std::find(seen.begin(), seen.begin() + seen_n, slot) != seen.begin() + seen_n) {
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
  if (best == UINT32_MAX && sig.shingles == 0 && !sig.attachments.empty() && sig.subject_text != 0) {
    // An image-only variant shares no text with its template, but its subject comes from the
    // campaign's subject pool: a text campaign that has carried this subject takes it (before any
    // campaign of images alone, so the variants do not split by kind).
    auto it = m.by_subject.find(sig.subject_text);
    if (it != m.by_subject.end() && m.alive(it->second.first, it->second.second) && m.is_text(it->second.first)) {
      best = it->second.first;
      out.joined_by_attachment = true;
    }
  }
  // Attachments link messages with little text, or with text but no sentences (no function words:
  // what a template of images plus appended random words looks like).
  if (best == UINT32_MAX && (sig.shingles < m.s.attachment_max_shingles || !sig.spots)) {
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
    m.reserve_index(has_text ? 1 : 0);
    const std::uint32_t slot = m.allocate();
    record& r = m.records[slot];
    r.first_seen_s = now;
    r.last_seen_s = now;
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
      m.index_member(slot, b);
    }
    m.ids.insert(m.id_hash(slot), slot);
    if (!sig.attachments.empty()) {
      extras& e = m.more_of(slot);
      for (std::uint64_t a : sig.attachments) {
        e.attachments.push_back(a);
        m.by_attachment.emplace(a, std::make_pair(slot, r.gen));
      }
      if (!has_text) {
        m.add_subject(slot, sig.subject_text);
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

  const bool index_it = has_text && !out.joined_by_attachment && m.members_indexed(m.records[best]) < m.s.indexed_members;
  if (index_it) {
    m.reserve_index(1);
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
  e.messages = e.messages == UINT32_MAX ? e.messages : e.messages + 1;
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
  // Later image-only variants find the campaign by their image, and later subjects by theirs.
  for (std::uint64_t a : sig.attachments) {
    if (e.attachments.size() >= m.s.max_attachments) {
      break;
    }
    if (std::find(e.attachments.begin(), e.attachments.end(), a) != e.attachments.end()) {
      continue;
    }
    // A text campaign takes an image over from a campaign of images alone (variants that came
    // before the subject linked them), so the rest of the image-only variants come here.
    auto [it, inserted] = m.by_attachment.emplace(a, std::make_pair(best, r.gen));
    if (!inserted && e.mask != 0 && it->second.first != best && m.alive(it->second.first, it->second.second) &&
        !m.is_text(it->second.first)) {
      // A campaign of images alone holds earlier variants with this image: the same template.
      m.absorb(it->second.first, best, now);
      continue;
    }
    if (inserted) {
      e.attachments.push_back(a);
    }
  }
  if (has_text && e.mask != 0 && sig.subject_text != 0) {
    // A campaign of images alone that carried this subject holds earlier image-only variants of
    // this template: its images now lead here, so the later variants join the text campaign.
    auto it = m.by_subject.find(sig.subject_text);
    if (it != m.by_subject.end() && it->second.first != best && m.alive(it->second.first, it->second.second) &&
        !m.is_text(it->second.first)) {
      const std::uint32_t from = it->second.first;
      m.by_subject.erase(it);
      m.absorb(from, best, now);
    }
    m.add_subject(best, sig.subject_text);
  } else if (!has_text && e.mask == 0) {
    m.add_subject(best, sig.subject_text);
  }
  if (has_text && !out.joined_by_attachment) {
    // The second member narrows the representative to the bins both agree on: a bin where either
    // drew its minimum from its own hash-buster words cannot predict the next variant. Only when
    // enough bins remain for a stable estimate.
    if (e.messages == 2 && e.mask == ~0ULL) {
      std::uint64_t agree = 0;
      const std::uint8_t* b = &m.rep[best * m.bins];
      for (std::size_t i = 0; i < m.bins; ++i) {
        agree |= static_cast<std::uint64_t>(b[i] == static_cast<std::uint8_t>(sig.bins[i])) << i;
      }
      if (static_cast<std::size_t>(std::popcount(agree)) >= std::max<std::size_t>(8, m.bins / 4)) {
        e.mask = agree;
      }
    }
    if (index_it) {
      e.member_keys.insert(e.member_keys.end(), low.begin(), low.begin() + static_cast<std::ptrdiff_t>(m.s.bands * m.s.rows));
      m.index_member(best, low.data());
    }
  }
  out.id = m.id_of(best);
  out.messages = e.messages;
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
  v.messages = r.messages();
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
  const std::uint32_t slot = m.slot_of(id);
  if (slot == UINT32_MAX) {
    return not_found;
  }
  return m.view(slot, now, std::max(evidence_k, m.s.k));
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
  put_u32(b, r.messages());
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
  put_u8(b, static_cast<std::uint8_t>(e.subjects.size()));
  for (std::uint64_t h : e.subjects) {
    put_u64(b, h);
  }
  put_u8(b, static_cast<std::uint8_t>(s.bands * s.rows));
  put_u8(b, static_cast<std::uint8_t>(e.member_keys.size() / std::max<std::size_t>(1, s.bands * s.rows)));
  for (std::uint8_t k : e.member_keys) {
    put_u8(b, k);
  }
  put_u8(b, static_cast<std::uint8_t>(e.absorbed.size()));
  for (std::uint64_t h : e.absorbed) {
    put_u64(b, h);
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
    if (!r.live || !r.dirty || r.messages() < m.s.persist_min_messages) {
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
  if (version != blob_version && version != 2) {
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
  const std::uint32_t messages = rd.u32();
  r.first_subscriber = rd.u32();
  auto e = std::make_unique<extras>();
  e->messages = messages;
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
  const std::size_t subjects = rd.u8();
  for (std::size_t i = 0; i < subjects && rd.ok; ++i) {
    const std::uint64_t h = rd.u64();
    if (e->subjects.size() < m.s.max_subjects) {
      e->subjects.push_back(h);
    }
  }
  const std::size_t per_member = rd.u8();
  const std::size_t members = rd.u8();
  const bool same_bands = per_member == m.s.bands * m.s.rows;
  for (std::size_t i = 0; i < per_member * members && rd.ok; ++i) {
    const std::uint8_t k = rd.u8();
    if (same_bands && e->member_keys.size() / per_member + 1 < m.s.indexed_members) {
      e->member_keys.push_back(k);
    }
  }
  const std::size_t absorbed = version >= 3 ? rd.u8() : 0;
  for (std::size_t i = 0; i < absorbed && rd.ok; ++i) {
    const std::uint64_t h = rd.u64();
    if (e->absorbed.size() < max_absorbed) {
      e->absorbed.push_back(h);
    }
  }
  if (!rd.ok || rd.pos != body) {
    return corrupt("truncated or trailing bytes");
  }
  if (messages == 0 || r.last_seen_s < r.first_seen_s) {
    return corrupt("inconsistent counts or times");
  }
  {
    const std::uint64_t h = m.id_hash(bins.data(), r.first_seen_s, r.first_subscriber);
    static constexpr char hex[] = "0123456789abcdef";
    std::string expected = "c-";
    for (int i = 15; i >= 0; --i) {
      expected.push_back(hex[(h >> (4 * i)) & 0xf]);
    }
    if (expected != id) {
      return corrupt("the id does not match the content");
    }
  }

  std::lock_guard lock(m.mu);
  // Replace a campaign of the same id (a restore twice), then place it with all its index keys:
  // the representative's (the first member's) and the kept members'.
  if (const std::uint32_t old = m.slot_of(id); old != UINT32_MAX) {
    if (m.id_of(old) != id) {
      return {};  // folded into a campaign already restored: that one holds its counts
    }
    m.records[old].persisted = false;
    m.remove(old);
  }
  for (std::uint64_t h : e->absorbed) {
    // A campaign this one absorbed, restored from a row written before the fold was: gone.
    if (const std::uint32_t old = m.slot_of(h); old != UINT32_MAX && m.id_hash(old) == h) {
      m.records[old].persisted = false;
      m.remove(old);
    }
  }
  const bool text = e->mask != 0;
  m.reserve_index(text ? 1 + e->member_keys.size() / (m.s.bands * m.s.rows) : 0);
  const std::uint32_t slot = m.allocate();
  record& dst = m.records[slot];
  dst.first_seen_s = r.first_seen_s;
  dst.last_seen_s = r.last_seen_s;
  dst.first_subscriber = r.first_subscriber;
  dst.live = true;
  dst.persisted = true;
  std::memcpy(&m.rep[slot * m.bins], bins.data(), m.bins);
  dst.more = std::move(e);
  const extras& ex = *dst.more;
  if (m.ids.fits(ex.absorbed.size())) {  // reserve_index made room for the id itself
    m.ids.insert(m.id_hash(slot), slot);
    for (std::uint64_t h : ex.absorbed) {
      m.ids.insert(h, slot);
    }
  } else {
    m.rebuild_ids();  // with this campaign, now live
  }
  if (text) {
    m.index_member(slot, &m.rep[slot * m.bins]);
    for (std::size_t i = 0; i + m.s.bands * m.s.rows <= ex.member_keys.size(); i += m.s.bands * m.s.rows) {
      m.index_member(slot, ex.member_keys.data() + i);
    }
  }
  for (std::uint64_t a : ex.attachments) {
    m.by_attachment.emplace(a, std::make_pair(slot, dst.gen));
  }
  for (std::uint64_t h : ex.subjects) {
    m.by_subject.emplace(h, std::make_pair(slot, dst.gen));
  }
  m.now_s = std::max(m.now_s, dst.last_seen_s);
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
    m.rebuild_indexes();
  }
  return n;
}

}  // namespace pw::campaign
