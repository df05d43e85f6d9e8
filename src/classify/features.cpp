// classify/features.cpp — see features.hpp for the contract.
//
// Speed matters here (the bar is 20,000 messages/s for parse + features + score on one core), so the
// hot loops are hand-written: character grams of all sizes come from one 8-byte load per position,
// hashed with one multiply, and strings are hashed with XXH3 from libxxhash.
#include "classify/features.hpp"

// Inlined (same hash values as libxxhash's): most hashed strings are short tokens, for which the
// call into the shared library cost as much as the hashing.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <array>
#include <bit>
#include <algorithm>
#include <cstring>

namespace pw::classify {
namespace {

constexpr std::uint64_t golden = 0x9E3779B97F4A7C15ULL;

// Per-kind seeds keep features of different kinds apart in the hash space.
constexpr std::uint64_t kind_seed(feature_kind kind) {
  return (static_cast<std::uint64_t>(kind) + 1) * 0xD6E8FEB86659FD93ULL;
}

// Multiply-shift ("Fibonacci") hashing: the top bits of a product with an odd constant are well mixed.
inline std::uint32_t to_id(std::uint64_t h, std::uint32_t bits) {
  return static_cast<std::uint32_t>((h * golden) >> (64 - bits));
}

inline std::uint64_t hash_string(std::string_view s, std::uint64_t seed) {
  return XXH3_64bits_withSeed(s.data(), s.size(), seed);
}

// Byte classes for normalisation and tokenising, built once at compile time.
struct byte_tables {
  std::array<unsigned char, 256> lower{};
  std::array<bool, 256> space{};
  std::array<bool, 256> token{};
  constexpr byte_tables() {
    for (int c = 0; c < 256; ++c) {
      lower[c] = static_cast<unsigned char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
      space[c] = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
      token[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 ||
                 c == '$' || c == '\'' || c == '-' || c == '_' || c == '@' || c == '.' || c == '%';
    }
  }
};
constexpr byte_tables tables;

struct case_counts {
  std::size_t letters = 0;
  std::size_t upper = 0;
};

// Sixteen bytes at a time with GCC's portable vector extensions (SSE2 on amd64, NEON on arm64).
using byte16 = unsigned char __attribute__((vector_size(16)));

// Sum of the 16 byte lanes.
inline std::size_t lane_sum(byte16 v) {
  std::size_t sum = 0;
  for (int k = 0; k < 16; ++k) {
    sum += v[k];
  }
  return sum;
}

// Appends `in` lowercased with whitespace runs collapsed to one space, until `out` holds `cap` bytes.
// This runs over every text byte. Most 16-byte chunks of text hold no run of two whitespace bytes,
// and those are lowered and copied as a whole; a chunk with a run goes byte by byte. Measured with
// callgrind over split A's test messages: 159 M instructions byte by byte, 80 M this way.
void append_normalised(std::string_view in, std::size_t cap, std::string& out, case_counts& counts) {
  const std::size_t start = out.size();
  if (start >= cap) {
    return;
  }
  // Write through a pointer into space sized up front.
  out.resize(std::min(cap, start + in.size()));
  char* dst = out.data() + start;
  char* const end = out.data() + out.size();
  bool last_space = start == 0 || out[start - 1] == ' ';
  std::size_t upper = 0;
  std::size_t letters = 0;
  std::size_t i = 0;
  auto one_byte = [&](unsigned char c) {
    if (tables.space[c]) {
      if (!last_space) {
        *dst++ = ' ';
        last_space = true;
      }
      return;
    }
    upper += (c >= 'A' && c <= 'Z') ? 1 : 0;
    letters += ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? 1 : 0;
    *dst++ = static_cast<char>(tables.lower[c]);
    last_space = false;
  };
  // Per-lane counts of upper-case bytes and letters, added up before a lane can overflow (x86-64's
  // baseline has no popcount instruction to count mask bits directly).
  byte16 upper_lanes{};
  byte16 letter_lanes{};
  int chunks_in_lanes = 0;
  auto drain_lanes = [&] {
    upper += lane_sum(upper_lanes);
    letters += lane_sum(letter_lanes);
    upper_lanes = byte16{};
    letter_lanes = byte16{};
    chunks_in_lanes = 0;
  };
  while (i + 16 <= in.size() && end - dst >= 16) {
    byte16 v;
    std::memcpy(&v, in.data() + i, 16);
    const auto space = reinterpret_cast<byte16>(v == ' ' || static_cast<byte16>(v - 9) <= 4);  // \t \n \v \f \r
    std::uint64_t space_lo;
    std::uint64_t space_hi;
    std::memcpy(&space_lo, &space, 8);
    std::memcpy(&space_hi, reinterpret_cast<const char*>(&space) + 8, 8);
    // A whitespace byte right after another (or after a space already written) would be dropped.
    const std::uint64_t after_lo = (space_lo << 8) | (last_space ? 0xFF : 0);
    const std::uint64_t after_hi = (space_hi << 8) | (space_lo >> 56);
    if (((space_lo & after_lo) | (space_hi & after_hi)) != 0) {
      for (std::size_t k = 0; k < 16; ++k) {
        one_byte(static_cast<unsigned char>(in[i + k]));
      }
      i += 16;
      continue;
    }
    const auto is_upper = reinterpret_cast<byte16>(static_cast<byte16>(v - 'A') <= 25);
    const auto is_letter = reinterpret_cast<byte16>(static_cast<byte16>((v | 0x20) - 'a') <= 25);
    const byte16 lowered = (v + (is_upper & 0x20)) & ~space;
    const byte16 normalised = lowered | (space & ' ');
    std::memcpy(dst, &normalised, 16);
    dst += 16;
    i += 16;
    upper_lanes += is_upper & 1;
    letter_lanes += is_letter & 1;
    if (++chunks_in_lanes == 255) {
      drain_lanes();
    }
    last_space = (space_hi >> 63) != 0;
  }
  drain_lanes();
  for (; i < in.size() && dst < end; ++i) {
    one_byte(static_cast<unsigned char>(in[i]));
  }
  out.resize(static_cast<std::size_t>(dst - out.data()));
  counts.upper += upper;
  counts.letters += letters;
}

// log2 bucket of a count, so shape features generalise over sizes.
std::uint32_t log2_bucket(std::size_t n) { return n == 0 ? 0 : static_cast<std::uint32_t>(std::bit_width(n)); }

std::string_view trim_token(std::string_view t) {
  while (!t.empty() && (t.front() == '.' || t.front() == '-' || t.front() == '\'')) {
    t.remove_prefix(1);
  }
  while (!t.empty() && (t.back() == '.' || t.back() == '-' || t.back() == '\'')) {
    t.remove_suffix(1);
  }
  return t;
}

bool all_digits(std::string_view t) {
  for (char c : t) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// Calls fn(token) for each token of an already-lowercased buffer. Numbers collapse to their length
// class and over-long tokens to a length bucket, so random ids do not flood the table.
template <class Fn>
void for_each_token(std::string_view text, Fn&& fn) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    while (i < n && !tables.token[static_cast<unsigned char>(text[i])]) {
      ++i;
    }
    std::size_t start = i;
    while (i < n && tables.token[static_cast<unsigned char>(text[i])]) {
      ++i;
    }
    std::string_view tok = trim_token(text.substr(start, i - start));
    if (tok.empty()) {
      continue;
    }
    fn(tok);
  }
}

// splitmix64's finaliser: a full-avalanche mix for ids built from numbers rather than strings.
constexpr std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// FNV-1a, for the short constant prefixes that scope a feature ("ct", "tld"): computed at compile
// time where the prefix is a literal, so scoped features cost one XXH3 of the value only.
constexpr std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
  }
  return h;
}

// A token's hash. Numbers collapse to their length and over-long tokens to a length bucket, so
// random ids and hash-buster strings do not flood the table.
std::uint64_t token_hash(std::string_view tok, std::uint64_t seed) {
  if (tok.size() > 30) {
    return mix(seed ^ fnv1a("<long>") ^ log2_bucket(tok.size()));
  }
  if (all_digits(tok)) {
    return mix(seed ^ fnv1a("<num>") ^ tok.size());
  }
  return hash_string(tok, seed);
}

std::string token_name(std::string_view tok) {
  if (tok.size() > 30) {
    return "<long" + std::to_string(log2_bucket(tok.size())) + ">";
  }
  if (all_digits(tok)) {
    return "<num" + std::to_string(tok.size()) + ">";
  }
  return std::string(tok);
}

// Lowercases into a reused buffer (no allocation once it has grown) and returns a view of it.
std::string_view lowercase_into(std::string_view s, std::string& buffer) {
  buffer.resize(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    buffer[i] = static_cast<char>(tables.lower[static_cast<unsigned char>(s[i])]);
  }
  return buffer;
}

// The registrable-ish domain: the last two labels, or three when the second-level label is short
// (co.uk, com.au). A public-suffix list would be exact; this is a feature, not a policy decision.
std::string_view approximate_domain(std::string_view host) {
  std::size_t last = host.rfind('.');
  if (last == std::string_view::npos || last == 0) {
    return host;
  }
  std::size_t second = host.rfind('.', last - 1);
  if (second == std::string_view::npos) {
    return host;
  }
  std::size_t sld_len = last - second - 1;
  if (sld_len <= 3 && second > 0) {
    std::size_t third = host.rfind('.', second - 1);
    return third == std::string_view::npos ? host : host.substr(third + 1);
  }
  return host.substr(second + 1);
}

// Headers added on the way to the mailbox (transport, list servers, filters) say where a message
// went, not what its sender wrote; the header grams use only the headers the sender's software wrote.
constexpr std::array<std::string_view, 34> transport_headers = {
    "received", "delivered-to", "return-path", "x-beenthere", "x-mailman-version", "errors-to", "sender",
    "precedence", "envelope-to", "x-loop", "mailing-list", "content-length", "lines", "status", "x-status",
    "x-keywords", "x-uid", "x-authentication-warning", "x-original-to", "x-mailing-list", "x-virus-scanned",
    "x-apparently-to", "x-sender", "x-pyzor", "x-razor-id", "x-listprocessor-version", "x-ecartis-version",
    "x-received", "x-envelope-from", "x-envelope-to", "x-scanned-by", "x-mailscanner", "x-mimeole",
    "x-original-date"};
constexpr std::array<std::string_view, 4> transport_prefixes = {"x-spam", "x-egroups", "x-yahoo", "list-"};

// Headers whose values are tokenised (scoped by header name); those among the transport headers only
// when feature_options::transport_header_tokens is set, except the first Received hops. Others
// contribute their name only, and the sender-written ones contribute to the header-block grams.
constexpr std::array<std::string_view, 18> tokenised_headers = {
    "from", "to", "cc", "reply-to", "return-path", "sender", "x-mailer", "user-agent", "content-type",
    "message-id", "received", "list-id", "list-unsubscribe", "precedence", "x-priority", "organization",
    "mime-version", "errors-to"};

struct header_role {
  bool transport = false;
  bool tokenised = false;
};

// The names of both lists in one open-addressed table built at compile time: a header name costs
// one probe (rarely two) and one comparison instead of a comparison with each of the 52 names.
class header_role_table {
 public:
  constexpr header_role_table() {
    for (std::string_view name : transport_headers) {
      slot_for(name).role.transport = true;
    }
    for (std::string_view name : tokenised_headers) {
      slot_for(name).role.tokenised = true;
    }
  }

  // Roles of a lowercase header name.
  constexpr header_role find(std::string_view name) const {
    header_role role;
    if (name.size() >= 2) {
      for (std::size_t s = start(name); !_slots[s].name.empty(); s = (s + 1) % slots) {
        if (_slots[s].name == name) {
          role = _slots[s].role;
          break;
        }
      }
    }
    if (!role.transport && (name.starts_with('x') || name.starts_with('l'))) {
      for (std::string_view prefix : transport_prefixes) {
        role.transport |= name.starts_with(prefix);
      }
    }
    return role;
  }

 private:
  static constexpr std::size_t slots = 128;  // 48 names: short probe runs
  struct entry {
    std::string_view name;
    header_role role;
  };
  // Length and the last two bytes tell these names apart well enough.
  static constexpr std::size_t start(std::string_view name) {
    const auto last = static_cast<unsigned char>(name[name.size() - 1]);
    const auto before = static_cast<unsigned char>(name[name.size() - 2]);
    return (name.size() * 31 + last * 7 + before) % slots;
  }
  constexpr entry& slot_for(std::string_view name) {
    std::size_t s = start(name);
    while (!_slots[s].name.empty() && _slots[s].name != name) {
      s = (s + 1) % slots;
    }
    _slots[s].name = name;
    return _slots[s];
  }
  std::array<entry, slots> _slots{};
};
constexpr header_role_table header_roles;

// The table agrees with the lists it is built from (checked by the compiler).
constexpr bool header_roles_match_lists() {
  for (std::string_view name : transport_headers) {
    const bool tokenised = std::find(tokenised_headers.begin(), tokenised_headers.end(), name) != tokenised_headers.end();
    if (!header_roles.find(name).transport || header_roles.find(name).tokenised != tokenised) {
      return false;
    }
  }
  for (std::string_view name : tokenised_headers) {
    if (!header_roles.find(name).tokenised) {
      return false;
    }
  }
  const header_role subject = header_roles.find("subject");
  const header_role spam_status = header_roles.find("x-spam-status");
  return !subject.transport && !subject.tokenised && spam_status.transport && !spam_status.tokenised &&
         !header_roles.find("x").transport && header_roles.find("list-id").tokenised;
}
static_assert(header_roles_match_lists());

// Features are binary (present or not), so repeats within one message are dropped, exactly: one
// bit per feature id (128 KiB at 20 hash bits, small enough to stay in L2 beside the weights being
// read; the direct-mapped table of 64-bit tags it replaces took 512 KiB and let collisions through)
// and the ids set so far, in first-seen order. That list is the message's bag, and names the bits
// to clear before the next message, so no per-message pass over the whole bitmap is needed.
class feature_set {
 public:
  explicit feature_set(std::uint32_t hash_bits) : _bits((std::size_t{1} << hash_bits) / 64, 0), _ids(16384) {}

  void clear() {
    for (std::size_t k = 0; k < _count; ++k) {
      _bits[_ids[k] >> 6] = 0;
    }
    _count = 0;
  }
  // True when `id` is new in this message.
  bool insert(std::uint32_t id) {
    reserve(1);
    return insert_reserved(id);
  }
  // Inserts the ids id_at(0) .. id_at(n - 1); the new ones are appended to ids() from the returned
  // index on. The ids are computed inside this loop (id_at is inlined): a block of character grams
  // costs no store and reload of each id between hashing and filtering.
  template <class IdAt>
  std::size_t insert_block(std::size_t n, IdAt&& id_at) {
    reserve(n);
    // The count and pointers live in locals here: a store into the bitmap (64-bit words) may alias
    // the member count as far as the compiler knows, which cost a reload and store of it per id.
    const std::size_t first = _count;
    std::size_t count = first;
    std::uint64_t* const bits = _bits.data();
    std::uint32_t* const ids = _ids.data();
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint32_t id = id_at(k);
      std::uint64_t& word = bits[id >> 6];
      const std::uint64_t bit = std::uint64_t{1} << (id & 63);
      const bool fresh = (word & bit) == 0;
      word |= bit;
      ids[count] = id;  // written always, kept only when new (see insert_reserved)
      count += fresh ? 1 : 0;
    }
    _count = count;
    return first;
  }
  std::span<const std::uint32_t> ids() const { return {_ids.data(), _count}; }

 private:
  void reserve(std::size_t n) {
    if (_count + n > _ids.size()) {
      _ids.resize(2 * (_count + n));
    }
  }
  // Whether an id is new is unpredictable, so this does not branch on it: the id is always written
  // after the kept ones and kept only when new.
  bool insert_reserved(std::uint32_t id) {
    std::uint64_t& word = _bits[id >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (id & 63);
    const bool fresh = (word & bit) == 0;
    word |= bit;
    _ids[_count] = id;
    _count += fresh ? 1 : 0;
    return fresh;
  }

  std::vector<std::uint64_t> _bits;
  std::vector<std::uint32_t> _ids;
  std::size_t _count = 0;
};

// Collects the bag (for training): the feature set's list is the bag.
struct fast_sink {
  feature_set& seen;
  template <class Name>
  void add(std::uint32_t id, feature_kind, Name&&) {
    seen.insert(id);
  }
  template <class IdAt, class NameAt>
  void add_block(std::size_t count, IdAt&& id_at, feature_kind, NameAt&&) {
    seen.insert_block(count, id_at);
  }
};

// Scores while extracting: each new feature's weight is added as it is found. The weight table is
// larger than L2, so every new feature costs a cache miss; features are therefore queued and handled
// a block at a time: repeats are dropped first (the bitmap is in L2), the weights of the block's new
// features are prefetched together so their misses overlap, and they are added one block later, by
// when they have arrived (measured: adding a block's weights right after prefetching them stalled
// on the first misses).
class scoring_sink {
 public:
  scoring_sink(const float* weights, feature_set& seen) : _weights(weights), _seen(seen) {}

  template <class Name>
  void add(std::uint32_t id, feature_kind, Name&&) {
    _queue[_queued++] = id;
    if (_queued == block_size) {
      flush();
    }
  }
  template <class IdAt, class NameAt>
  void add_block(std::size_t n, IdAt&& id_at, feature_kind, NameAt&&) {
    flush();
    process(n, id_at);
  }
  weight_sum finish() {
    flush();
    const std::span<const std::uint32_t> all = _seen.ids();
    add_weights(all.subspan(_summed));
    return {_sum, all.size()};
  }

 private:
  static constexpr std::size_t block_size = 64;

  void flush() {
    process(_queued, [this](std::size_t k) { return _queue[k]; });
    _queued = 0;
  }
  template <class IdAt>
  void process(std::size_t n, IdAt&& id_at) {
    const std::size_t first = _seen.insert_block(n, id_at);
    const std::span<const std::uint32_t> all = _seen.ids();
    for (std::uint32_t id : all.subspan(first)) {
      __builtin_prefetch(_weights + id);
    }
    add_weights(all.subspan(_summed, first - _summed));
    _summed = first;
  }
  void add_weights(std::span<const std::uint32_t> ids) {
    // Four partial sums break the chain of dependent float additions.
    std::array<float, 4> sums{};
    for (std::size_t k = 0; k < ids.size(); ++k) {
      sums[k & 3] += _weights[ids[k]];
    }
    _sum += (sums[0] + sums[1]) + (sums[2] + sums[3]);
  }

  const float* __restrict _weights;
  feature_set& _seen;
  std::array<std::uint32_t, block_size> _queue{};
  std::size_t _queued = 0;
  std::size_t _summed = 0;  // the bag's features before this index are in _sum
  float _sum = 0;
};

// Collects the bag with readable names (for explanations).
struct named_sink {
  feature_set& seen;
  std::vector<named_feature>& out;
  template <class Name>
  void add(std::uint32_t id, feature_kind kind, Name&& name) {
    if (seen.insert(id)) {
      out.push_back(named_feature{id, kind, std::string(name())});
    }
  }
  template <class IdAt, class NameAt>
  void add_block(std::size_t count, IdAt&& id_at, feature_kind kind, NameAt&& name_at) {
    for (std::size_t k = 0; k < count; ++k) {
      add(id_at(k), kind, [&] { return name_at(k); });
    }
  }
};

}  // namespace

std::string_view feature_kind_name(feature_kind kind) {
  switch (kind) {
    case feature_kind::text_gram: return "text-gram";
    case feature_kind::header_gram: return "header-gram";
    case feature_kind::word: return "word";
    case feature_kind::osb: return "word-pair";
    case feature_kind::subject_word: return "subject-word";
    case feature_kind::header_name: return "header";
    case feature_kind::header_token: return "header-token";
    case feature_kind::url_host: return "url-host";
    case feature_kind::url_domain: return "url-domain";
    case feature_kind::anomaly: return "anomaly";
    case feature_kind::structure: return "structure";
    case feature_kind::shape: return "shape";
  }
  return "unknown";
}

struct feature_extractor::dedupe {
  feature_set set;
};

feature_extractor::feature_extractor(feature_options options)
    : _options(options), _seen(std::make_unique<dedupe>(dedupe{feature_set(options.hash_bits)})) {
  _text.reserve(options.text_prefix_bytes + 8);
  _header.reserve(options.header_prefix_bytes + 8);
}

feature_extractor::feature_extractor(feature_extractor&&) noexcept = default;
feature_extractor::~feature_extractor() = default;

template <class Sink>
void feature_extractor::extract_into(const mime::message& msg, Sink& sink) {
  const std::uint32_t bits = _options.hash_bits;

  // A feature named by a constant prefix and a value: "ct" + "text/html".
  auto add_value = [&](feature_kind kind, std::uint64_t prefix, std::string_view prefix_name, std::string_view value) {
    sink.add(to_id(hash_string(value, kind_seed(kind) ^ prefix), bits), kind, [&] {
      return prefix_name.empty() ? std::string(value) : std::string(prefix_name) + ":" + std::string(value);
    });
  };
  // A feature named by a constant prefix and a small number: "urls" = 3.
  auto add_count = [&](feature_kind kind, std::uint64_t prefix, std::string_view prefix_name, std::size_t value) {
    sink.add(to_id(mix(kind_seed(kind) ^ prefix ^ (value * 0x9E3779B97F4A7C15ULL)), bits), kind,
             [&] { return std::string(prefix_name) + "=" + std::to_string(value); });
  };
  // Character n-grams for every size in gram_sizes, from one 8-byte load per position. The buffer
  // carries 8 bytes of zero padding past its logical end so the load never reads outside it.
  auto add_grams = [&](feature_kind kind, std::string& buf) {
    const std::size_t length = buf.size();
    buf.append(8, '\0');
    const std::uint64_t kind_tag = static_cast<std::uint64_t>(kind) << 59;
    // Byte pairs need no hashing: each of the 65,536 has its own slot in a region per gram kind.
    const std::uint32_t pair_region = kind == feature_kind::header_gram ? pair_region_size : 0;
    const std::uint32_t sizes = kind == feature_kind::header_gram ? _options.header_gram_sizes : _options.gram_sizes;
    for (std::uint32_t n = 1; n <= 8; ++n) {
      if ((sizes & (1u << n)) == 0 || length < n) {
        continue;
      }
      const std::uint64_t mask = n == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
      const std::uint64_t tag = kind_tag | (static_cast<std::uint64_t>(n) << 56);
      // A block at a time: the sink computes the ids inside its own loop (pure arithmetic, inlined)
      // and keeps its accumulators in registers across the block.
      constexpr std::size_t block = 64;
      const std::size_t positions = length - n + 1;
      for (std::size_t start = 0; start < positions; start += block) {
        const std::size_t count = std::min(block, positions - start);
        const char* const at = buf.data() + start;
        auto name_at = [&](std::size_t k) { return buf.substr(start + k, n); };
        if (n == 2) {
          sink.add_block(count, [at, pair_region](std::size_t k) {
            std::uint16_t pair;
            std::memcpy(&pair, at + k, 2);
            return pair_region + pair;
          }, kind, name_at);
        } else {
          sink.add_block(count, [at, mask, tag, bits](std::size_t k) {
            std::uint64_t gram;
            std::memcpy(&gram, at + k, 8);
            return to_id((gram & mask) ^ tag, bits);
          }, kind, name_at);
        }
      }
    }
    buf.resize(length);
  };

  // Header block: "name: value" lines of the top-level header section, normalised.
  _header.clear();
  case_counts header_case;
  for (const auto& h : msg.headers) {
    if (_header.size() >= _options.header_prefix_bytes) {
      break;
    }
    if (header_roles.find(lowercase_into(h.name, _name)).transport) {
      continue;
    }
    append_normalised(h.name, _options.header_prefix_bytes, _header, header_case);
    append_normalised(": ", _options.header_prefix_bytes, _header, header_case);
    append_normalised(h.value, _options.header_prefix_bytes, _header, header_case);
    append_normalised("\n", _options.header_prefix_bytes, _header, header_case);
  }
  add_grams(feature_kind::header_gram, _header);

  // Header names and tokens of selected headers.
  std::size_t received_seen = 0;
  for (const auto& h : msg.headers) {
    const std::string_view name = lowercase_into(h.name, _name);
    add_value(feature_kind::header_name, 0, "", name);
    const header_role role = header_roles.find(name);
    bool tokenise = role.tokenised && (!role.transport || _options.transport_header_tokens);
    if (name == "received") {
      // The first hops carry the sender's shape; later ones are the relays' own.
      tokenise = role.tokenised && ++received_seen <= 3;
    }
    if (!tokenise) {
      continue;
    }
    const std::uint64_t seed = kind_seed(feature_kind::header_token) ^ hash_string(name, 0);
    for_each_token(lowercase_into(h.value, _value), [&](std::string_view tok) {
      sink.add(to_id(token_hash(tok, seed), bits), feature_kind::header_token,
               [&] { return std::string(name) + ":" + token_name(tok); });
    });
  }

  // Text: subject then body, normalised; grams over it, words and word pairs.
  _text.clear();
  case_counts text_case;
  append_normalised(msg.subject, _options.text_prefix_bytes, _text, text_case);
  const std::size_t subject_end = _text.size();
  append_normalised("\n", _options.text_prefix_bytes, _text, text_case);
  append_normalised(msg.text, _options.text_prefix_bytes, _text, text_case);
  add_grams(feature_kind::text_gram, _text);

  const std::uint64_t subject_seed = kind_seed(feature_kind::subject_word);
  for_each_token(std::string_view(_text).substr(0, subject_end), [&](std::string_view tok) {
    sink.add(to_id(token_hash(tok, subject_seed), bits), feature_kind::subject_word, [&] { return token_name(tok); });
  });

  // Word pairs by distance: the previous `osb_window` token hashes in a ring.
  std::array<std::uint64_t, 8> ring{};
  std::array<std::string, 8> ring_names;  // only filled for named extraction
  const std::size_t window = std::min<std::size_t>(_options.osb_window, ring.size());
  std::size_t seen = 0;
  const std::uint64_t word_seed = kind_seed(feature_kind::word);
  for_each_token(std::string_view(_text).substr(std::min(subject_end + 1, _text.size())), [&](std::string_view tok) {
    const std::uint64_t h = token_hash(tok, word_seed);
    sink.add(to_id(h, bits), feature_kind::word, [&] { return token_name(tok); });
    if constexpr (std::is_same_v<Sink, named_sink>) {
      ring_names[seen % ring.size()] = token_name(tok);
    }
    for (std::size_t d = 1; d <= window && d <= seen; ++d) {
      std::size_t slot = (seen - d) % ring.size();
      std::uint64_t pair = (ring[slot] * 0xFF51AFD7ED558CCDULL) ^ std::rotl(h, 23) ^ (d * 0xC4CEB9FE1A85EC53ULL);
      sink.add(to_id(pair ^ kind_seed(feature_kind::osb), bits), feature_kind::osb, [&] {
        return ring_names[slot] + " " + std::string(d - 1, '_') + (d > 1 ? " " : "") + ring_names[seen % ring.size()];
      });
    }
    ring[seen % ring.size()] = h;
    ++seen;
  });

  // URLs: host, approximate registrable domain, top-level domain, address literals.
  for (const auto& u : msg.urls) {
    add_value(feature_kind::url_host, 0, "", u.host);
    add_value(feature_kind::url_domain, 0, "", approximate_domain(u.host));
    const std::size_t dot = u.host.rfind('.');
    if (dot != std::string::npos) {
      const std::string_view tld = std::string_view(u.host).substr(dot + 1);
      if (all_digits(tld)) {
        add_value(feature_kind::structure, 0, "", "url-ip-literal");
      } else {
        add_value(feature_kind::structure, fnv1a("tld"), "tld", tld);
      }
    }
  }

  // Anomaly flags from the parser.
  for (std::uint32_t bit = 0; bit < mime::anomaly_count; ++bit) {
    const auto flag = static_cast<mime::anomaly>(1u << bit);
    if (mime::has(msg.anomalies, flag)) {
      add_count(feature_kind::anomaly, 0, mime::anomaly_name(flag), 1);
    }
  }

  // MIME structure: content types, charsets, attachments by extension.
  for (const auto& p : msg.parts) {
    add_value(feature_kind::structure, fnv1a("ct"), "ct", p.content_type);
    if (!p.charset.empty()) {
      add_value(feature_kind::structure, fnv1a("charset"), "charset", p.charset);
    }
    if (p.is_attachment) {
      const std::size_t dot = p.filename.rfind('.');
      if (dot == std::string::npos) {
        add_value(feature_kind::structure, 0, "", "attachment-no-ext");
      } else {
        add_value(feature_kind::structure, fnv1a("ext"), "ext",
                  lowercase_into(std::string_view(p.filename).substr(dot + 1), _value));
      }
    }
  }

  // Shapes, bucketed.
  add_count(feature_kind::shape, fnv1a("text-bytes"), "text-bytes", log2_bucket(msg.text.size()));
  add_count(feature_kind::shape, fnv1a("urls"), "urls", log2_bucket(msg.urls.size()));
  add_count(feature_kind::shape, fnv1a("parts"), "parts", log2_bucket(msg.parts.size()));
  add_count(feature_kind::shape, fnv1a("headers"), "headers", log2_bucket(msg.headers.size()));
  add_count(feature_kind::shape, fnv1a("html-parts"), "html-parts", std::min<std::size_t>(msg.html_parts, 3));
  if (text_case.letters >= 20) {
    add_count(feature_kind::shape, fnv1a("text-upper-tenths"), "text-upper-tenths",
              text_case.upper * 10 / text_case.letters);
  }
  std::size_t subject_upper = 0;
  std::size_t subject_letters = 0;
  for (unsigned char c : msg.subject) {
    subject_upper += (c >= 'A' && c <= 'Z') ? 1 : 0;
    subject_letters += ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? 1 : 0;
  }
  if (subject_letters >= 5) {
    add_count(feature_kind::shape, fnv1a("subject-upper-tenths"), "subject-upper-tenths",
              subject_upper * 10 / subject_letters);
  }
}

std::span<const std::uint32_t> feature_extractor::extract(const mime::message& msg) {
  _seen->set.clear();
  fast_sink sink{_seen->set};
  extract_into(msg, sink);
  return _seen->set.ids();
}

weight_sum feature_extractor::sum_weights(const mime::message& msg, std::span<const float> weights) {
  _seen->set.clear();
  scoring_sink sink(weights.data(), _seen->set);
  extract_into(msg, sink);
  return sink.finish();
}

std::vector<named_feature> feature_extractor::extract_named(const mime::message& msg) {
  std::vector<named_feature> out;
  _seen->set.clear();
  named_sink sink{_seen->set, out};
  extract_into(msg, sink);
  return out;
}

}  // namespace pw::classify
