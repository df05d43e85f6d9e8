// Longest-prefix match: one hash table per prefix length present, probed longest first. Subscriber
// tables hold a handful of distinct lengths (/32, /29, /24; /128, /64, /56, /48), so a lookup is a
// few hash probes whatever the table size, and the structure is obviously correct for nested and
// overlapping prefixes (a binary trie would cost one pointer hop per bit).
#include "identity/directory.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

namespace pw::identity {
namespace {

struct v6_key {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  friend bool operator==(const v6_key&, const v6_key&) = default;
};

struct v6_key_hash {
  std::size_t operator()(const v6_key& k) const noexcept {
    return static_cast<std::size_t>((k.hi * 0x9E3779B97F4A7C15ULL) ^ (k.lo + 0x632BE59BD9B4E019ULL + (k.hi >> 29)));
  }
};

struct parsed_address {
  bool v4 = false;
  std::uint32_t a4 = 0;
  v6_key a6;
};

std::uint64_t load_be64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

// inet_pton needs a NUL-terminated string; addresses are short, so a bounded stack copy.
std::optional<parsed_address> parse_address(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) {
    return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  parsed_address out;
  unsigned char bytes[16];
  if (inet_pton(AF_INET, buf, bytes) == 1) {
    out.v4 = true;
    out.a4 =
        (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) | bytes[3];
    return out;
  }
  if (inet_pton(AF_INET6, buf, bytes) == 1) {
    static constexpr unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, mapped_prefix, sizeof(mapped_prefix)) == 0) {
      out.v4 = true;
      out.a4 = (std::uint32_t{bytes[12]} << 24) | (std::uint32_t{bytes[13]} << 16) | (std::uint32_t{bytes[14]} << 8) |
               bytes[15];
      return out;
    }
    out.a6 = {load_be64(bytes), load_be64(bytes + 8)};
    return out;
  }
  return std::nullopt;
}

std::uint32_t mask4(std::uint32_t a, int len) { return len == 0 ? 0 : a & (~std::uint32_t{0} << (32 - len)); }

v6_key mask6(v6_key a, int len) {
  if (len <= 64) {
    return {len == 0 ? 0 : a.hi & (~std::uint64_t{0} << (64 - len)), 0};
  }
  return {a.hi, len == 128 ? a.lo : a.lo & (~std::uint64_t{0} << (128 - len))};
}

bool printable_field(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

}  // namespace

struct cidr_directory::tables {
  std::vector<subscriber> subscribers;
  std::unordered_map<std::string, std::uint32_t> logins;
  // Index = prefix length; only lengths in `v4_lengths` / `v6_lengths` (longest first) are non-empty.
  std::array<std::unordered_map<std::uint32_t, std::uint32_t>, 33> v4;
  std::array<std::unordered_map<v6_key, std::uint32_t, v6_key_hash>, 129> v6;
  std::vector<int> v4_lengths;
  std::vector<int> v6_lengths;

  // Adds one entry; returns the problem in plain words, or an empty string.
  std::string add(const directory_entry& e, const directory_limits& limits) {
    for (const std::string* f : {&e.key, &e.id, &e.plan, &e.contact}) {
      if (f->size() > limits.max_field_bytes) {
        return "field longer than " + std::to_string(limits.max_field_bytes) + " bytes";
      }
      if (!printable_field(*f)) {
        return "control character in a field";
      }
    }
    if (e.key.empty()) {
      return "empty key (expected a CIDR, an address or a login)";
    }
    if (e.id.empty()) {
      return "empty subscriber id";
    }
    if (e.plan.empty()) {
      return "empty plan";
    }
    if (subscribers.size() >= limits.max_entries) {
      return "more than " + std::to_string(limits.max_entries) + " entries";
    }
    const auto index = static_cast<std::uint32_t>(subscribers.size());
    std::string_view key = e.key;
    const auto slash = key.find('/');
    std::string_view addr_text = key.substr(0, slash);
    const std::optional<parsed_address> addr = parse_address(addr_text);
    if (!addr) {
      if (slash != std::string_view::npos || key.find(':') != std::string_view::npos ||
          std::all_of(key.begin(), key.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
        return "malformed address or CIDR '" + e.key + "'";
      }
      if (!logins.emplace(e.key, index).second) {
        return "duplicate login '" + e.key + "'";
      }
      subscribers.push_back({e.id, e.plan, e.contact});
      return {};
    }
    const bool mapped = addr->v4 && addr_text.find(':') != std::string_view::npos;
    const int max_len = addr->v4 && !mapped ? 32 : 128;
    int len = max_len;
    if (slash != std::string_view::npos) {
      std::string_view len_text = key.substr(slash + 1);
      if (len_text.empty() || len_text.size() > 3 ||
          !std::all_of(len_text.begin(), len_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return "malformed prefix length in '" + e.key + "'";
      }
      len = std::stoi(std::string(len_text));
      if (len > max_len) {
        return "prefix length " + std::to_string(len) + " over " + std::to_string(max_len) + " in '" + e.key + "'";
      }
    }
    if (mapped) {
      // An IPv4-mapped IPv6 prefix is an IPv4 prefix: lookups of mapped addresses search IPv4.
      if (len < 96) {
        return "IPv4-mapped prefix shorter than /96 in '" + e.key + "'";
      }
      len -= 96;
    }
    bool inserted = false;
    if (addr->v4) {
      if (mask4(addr->a4, len) != addr->a4) {
        return "host bits set below the prefix in '" + e.key + "'";
      }
      inserted = v4[static_cast<std::size_t>(len)].emplace(addr->a4, index).second;
      if (inserted && std::find(v4_lengths.begin(), v4_lengths.end(), len) == v4_lengths.end()) {
        v4_lengths.insert(std::upper_bound(v4_lengths.begin(), v4_lengths.end(), len, std::greater<>()), len);
      }
    } else {
      if (!(mask6(addr->a6, len) == addr->a6)) {
        return "host bits set below the prefix in '" + e.key + "'";
      }
      inserted = v6[static_cast<std::size_t>(len)].emplace(addr->a6, index).second;
      if (inserted && std::find(v6_lengths.begin(), v6_lengths.end(), len) == v6_lengths.end()) {
        v6_lengths.insert(std::upper_bound(v6_lengths.begin(), v6_lengths.end(), len, std::greater<>()), len);
      }
    }
    if (!inserted) {
      return "duplicate prefix '" + e.key + "'";
    }
    subscribers.push_back({e.id, e.plan, e.contact});
    return {};
  }
};

cidr_directory::cidr_directory(std::unique_ptr<tables> t) : _tables(std::move(t)) {}

void cidr_directory::for_each_network(const std::function<void(const subscriber&, const std::string&)>& visit) const {
  char text[INET6_ADDRSTRLEN];
  for (const int len : _tables->v4_lengths) {
    for (const auto& [a4, index] : _tables->v4[static_cast<std::size_t>(len)]) {
      const unsigned char bytes[4] = {static_cast<unsigned char>(a4 >> 24), static_cast<unsigned char>(a4 >> 16),
                                      static_cast<unsigned char>(a4 >> 8), static_cast<unsigned char>(a4)};
      ::inet_ntop(AF_INET, bytes, text, sizeof text);
      visit(_tables->subscribers[index], std::string(text) + "/" + std::to_string(len));
    }
  }
  for (const int len : _tables->v6_lengths) {
    for (const auto& [a6, index] : _tables->v6[static_cast<std::size_t>(len)]) {
      unsigned char bytes[16];
      for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<unsigned char>(a6.hi >> (56 - 8 * i));
        bytes[8 + i] = static_cast<unsigned char>(a6.lo >> (56 - 8 * i));
      }
      ::inet_ntop(AF_INET6, bytes, text, sizeof text);
      visit(_tables->subscribers[index], std::string(text) + "/" + std::to_string(len));
    }
  }
}
cidr_directory::cidr_directory(cidr_directory&&) noexcept = default;
cidr_directory& cidr_directory::operator=(cidr_directory&&) noexcept = default;
cidr_directory::~cidr_directory() = default;

result<cidr_directory> cidr_directory::build(const std::vector<directory_entry>& entries, directory_limits limits) {
  auto t = std::make_unique<tables>();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (std::string problem = t->add(entries[i], limits); !problem.empty()) {
      return make_error(errc::invalid_input, "entry " + std::to_string(i + 1) + ": " + problem);
    }
  }
  return cidr_directory(std::move(t));
}

result<cidr_directory> cidr_directory::parse(std::string_view text, std::string_view origin, directory_limits limits) {
  auto t = std::make_unique<tables>();
  std::size_t line_no = 0;
  std::size_t pos = 0;
  const auto fail = [&](const std::string& what) {
    return make_error(errc::invalid_input, std::string(origin) + ":" + std::to_string(line_no) + ": " + what);
  };
  while (pos < text.size()) {
    ++line_no;
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() > limits.max_line_bytes) {
      return fail("line longer than " + std::to_string(limits.max_line_bytes) + " bytes");
    }
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    const std::size_t first = line.find_first_not_of(' ');
    if (first == std::string_view::npos || line[first] == '#') {
      continue;
    }
    std::array<std::string_view, 4> fields;
    std::size_t n = 0;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      if (n == fields.size()) {
        return fail("more than 4 tab-separated fields (expected key, id, plan[, contact])");
      }
      fields[n++] = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
      if (tab == std::string_view::npos) {
        break;
      }
      start = tab + 1;
    }
    if (n < 3) {
      return fail("expected key<TAB>id<TAB>plan[<TAB>contact], found " + std::to_string(n) + " field(s)");
    }
    directory_entry e{std::string(fields[0]), std::string(fields[1]), std::string(fields[2]),
                      n == 4 ? std::string(fields[3]) : std::string()};
    if (std::string problem = t->add(e, limits); !problem.empty()) {
      return fail(problem);
    }
  }
  return cidr_directory(std::move(t));
}

result<cidr_directory> cidr_directory::load(const std::string& path, directory_limits limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(errc::io, path + ": cannot open: " + std::strerror(errno));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    return make_error(errc::io, path + ": read error");
  }
  return parse(buf.str(), path, limits);
}

lookup<subscriber> cidr_directory::by_login(std::string_view sasl_login) const {
  // Heterogeneous lookup in unordered_map is C++20 but needs a transparent hash; a short copy is
  // cheaper to read and logins are short.
  const auto it = _tables->logins.find(std::string(sasl_login));
  if (it == _tables->logins.end()) {
    return not_found;
  }
  return _tables->subscribers[it->second];
}

lookup<subscriber> cidr_directory::by_address(std::string_view client_addr) const {
  const std::optional<parsed_address> addr = parse_address(client_addr);
  if (!addr) {
    return make_error(errc::invalid_input, "client address is not a textual IPv4 or IPv6 address");
  }
  const tables& t = *_tables;
  if (addr->v4) {
    for (int len : t.v4_lengths) {
      const auto& m = t.v4[static_cast<std::size_t>(len)];
      if (const auto it = m.find(mask4(addr->a4, len)); it != m.end()) {
        return t.subscribers[it->second];
      }
    }
  } else {
    for (int len : t.v6_lengths) {
      const auto& m = t.v6[static_cast<std::size_t>(len)];
      if (const auto it = m.find(mask6(addr->a6, len)); it != m.end()) {
        return t.subscribers[it->second];
      }
    }
  }
  return not_found;
}

std::size_t cidr_directory::size() const noexcept { return _tables->subscribers.size(); }

namespace {

std::string address_id(std::string_view client_addr) {
  constexpr std::size_t max_addr = 64;
  std::string id = "ip:";
  if (client_addr.empty()) {
    id += "unknown";
    return id;
  }
  for (char c : client_addr.substr(0, max_addr)) {
    const auto u = static_cast<unsigned char>(c);
    id.push_back(u >= 0x21 && u < 0x7f ? c : '?');
  }
  return id;
}

}  // namespace

resolution resolve(const directory& dir, std::string_view sasl_login, std::string_view client_addr,
                   std::string_view default_plan) {
  if (!sasl_login.empty()) {
    lookup<subscriber> found = dir.by_login(sasl_login);
    if (found.found()) {
      return {std::move(found.value()), subscriber_source::login, std::nullopt};
    }
    subscriber who{std::string(sasl_login), std::string(default_plan), {}};
    if (found.failed()) {
      return {std::move(who), subscriber_source::lookup_failed, found.error()};
    }
    return {std::move(who), subscriber_source::login_unlisted, std::nullopt};
  }
  lookup<subscriber> found = dir.by_address(client_addr);
  if (found.found()) {
    return {std::move(found.value()), subscriber_source::address, std::nullopt};
  }
  subscriber who{address_id(client_addr), std::string(default_plan), {}};
  if (found.failed()) {
    return {std::move(who), subscriber_source::lookup_failed, found.error()};
  }
  return {std::move(who), subscriber_source::unknown_address, std::nullopt};
}

std::string_view source_name(subscriber_source s) noexcept {
  switch (s) {
    case subscriber_source::login:
      return "login";
    case subscriber_source::login_unlisted:
      return "login_unlisted";
    case subscriber_source::address:
      return "address";
    case subscriber_source::unknown_address:
      return "unknown_address";
    case subscriber_source::lookup_failed:
      return "lookup_failed";
  }
  return "unknown";
}

}  // namespace pw::identity
