#include "desk/port25.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <set>
#include <tuple>
#include <unordered_map>

#include "desk/notice.hpp"

namespace pw::desk {
namespace {

using ledger::exemption_row;
using ledger::exemption_status;
using ledger::subscriber_row;

struct prefix {
  bool ipv6 = false;
  std::array<unsigned char, 16> bytes{};  // IPv4 uses the first 4
  int length = 0;

  std::size_t width() const noexcept { return ipv6 ? 16 : 4; }
  int max_length() const noexcept { return ipv6 ? 128 : 32; }
};

struct parsed_prefix {
  prefix value;
  bool host_bits_cleared = false;
};

std::optional<parsed_prefix> parse_prefix(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  parsed_prefix out;
  prefix& p = out.value;
  if (inet_pton(AF_INET, address.c_str(), p.bytes.data()) == 1) {
    p.ipv6 = false;
  } else if (inet_pton(AF_INET6, address.c_str(), p.bytes.data()) == 1) {
    p.ipv6 = true;
  } else {
    return std::nullopt;
  }
  p.length = p.max_length();
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return std::nullopt;
    }
    p.length = std::stoi(std::string(digits));
    if (p.length > p.max_length()) {
      return std::nullopt;
    }
  }
  for (std::size_t i = 0; i < p.width(); ++i) {
    const int keep = std::clamp(p.length - static_cast<int>(i) * 8, 0, 8);
    const auto mask = static_cast<unsigned char>(keep == 0 ? 0 : 0xFF << (8 - keep));
    if ((p.bytes[i] & ~mask & 0xFF) != 0) {
      out.host_bits_cleared = true;
    }
    p.bytes[i] &= mask;
  }
  return out;
}

std::string prefix_text(const prefix& p) {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.ipv6 ? AF_INET6 : AF_INET, p.bytes.data(), buffer, sizeof buffer);
  std::string out(buffer);
  if (p.length != p.max_length()) {
    out += "/" + std::to_string(p.length);
  }
  return out;
}

bool contains(const prefix& outer, const prefix& inner) noexcept {
  if (outer.ipv6 != inner.ipv6 || inner.length < outer.length) {
    return false;
  }
  for (std::size_t i = 0; i < outer.width(); ++i) {
    const int keep = std::clamp(outer.length - static_cast<int>(i) * 8, 0, 8);
    const auto mask = static_cast<unsigned char>(keep == 0 ? 0 : 0xFF << (8 - keep));
    if ((inner.bytes[i] & mask) != outer.bytes[i]) {
      return false;
    }
  }
  return true;
}

bool in_force(const exemption_row& e, std::int64_t now_ms) noexcept {
  return e.status == exemption_status::active && (!e.expires_ms || *e.expires_ms > now_ms);
}

// Invalid UTF-8 bytes become '?', so JSON and CSV readers never choke on a damaged id.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t length = c < 0x80                 ? 1
                               : c >= 0xC2 && c <= 0xDF ? 2
                               : c >= 0xE0 && c <= 0xEF ? 3
                               : c >= 0xF0 && c <= 0xF4 ? 4
                                                        : 0;
    bool ok = length != 0 && i + length <= s.size();
    for (std::size_t k = 1; ok && k < length; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok && length == 3) {  // overlong (E0 80..9F) and surrogates (ED A0..BF)
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    }
    if (ok && length == 4) {  // overlong (F0 80..8F) and beyond U+10FFFF (F4 90..)
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, length));
      i += length;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string json_string(std::string_view s) {
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : valid_utf8(s)) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string csv_field(std::string_view s) {
  const std::string clean = valid_utf8(s);
  if (clean.find_first_of(",\"\r\n") == std::string::npos) {
    return clean;
  }
  std::string out = "\"";
  for (const char ch : clean) {
    out += ch;
    if (ch == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

std::string elements_line(std::string_view set, const std::vector<std::string>& elements) {
  if (elements.empty()) {
    return {};  // an empty `{ }` is a syntax error; the flushed set stays empty
  }
  std::string out = "add element inet portwarden " + std::string(set) + " {";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    out += (i == 0 ? " " : ", ") + elements[i];
  }
  return out + " }\n";
}

}  // namespace

std::optional<export_format> parse_export_format(std::string_view s) noexcept {
  if (s == "nft") {
    return export_format::nft;
  }
  if (s == "json") {
    return export_format::json;
  }
  if (s == "csv") {
    return export_format::csv;
  }
  return std::nullopt;
}

port25_allow_list build_port25_allow_list(std::span<const subscriber_row> subscribers,
                                          std::span<const exemption_row> exemptions, const plan_defaults& plan_open,
                                          std::int64_t now_ms) {
  port25_allow_list out;
  std::unordered_map<std::string_view, std::vector<const exemption_row*>> by_subscriber;
  for (const auto& e : exemptions) {
    by_subscriber[e.subscriber].push_back(&e);
  }
  std::set<std::string_view> known;
  std::set<std::string> unknown_plans;

  struct candidate {
    prefix p;
    allowed_address entry;
  };
  std::vector<candidate> allowed;
  for (const auto& s : subscribers) {
    known.insert(s.id);
    const auto rows = by_subscriber.find(s.id);
    const std::vector<const exemption_row*> none;
    const auto& mine = rows == by_subscriber.end() ? none : rows->second;
    if (std::any_of(mine.begin(), mine.end(),
                    [](const exemption_row* e) { return e->status == exemption_status::suspended; })) {
      continue;
    }
    std::string why;
    std::optional<std::int64_t> expires;
    const auto plan = plan_open.find(s.plan);
    if (plan == plan_open.end()) {
      unknown_plans.insert(s.plan);
    }
    if (plan != plan_open.end() && plan->second) {
      why = "plan " + s.plan;
    } else {
      const exemption_row* best = nullptr;
      for (const auto* e : mine) {
        // Of several exemptions in force, the one lasting longest (no expiry beats any expiry).
        if (in_force(*e, now_ms) &&
            (best == nullptr || (best->expires_ms && (!e->expires_ms || *e->expires_ms > *best->expires_ms)))) {
          best = e;
        }
      }
      if (best == nullptr) {
        continue;
      }
      why = "exemption " + std::to_string(best->id);
      expires = best->expires_ms;
      if (s.addresses.empty()) {
        out.warnings.push_back("subscriber " + s.id + ": " + why + " is in force but the account has no static " +
                               "address to export");
      }
    }
    for (const auto& text : s.addresses) {
      const auto parsed = parse_prefix(text);
      if (!parsed) {
        out.warnings.push_back("subscriber " + s.id + ": skipped '" + valid_utf8(text) +
                               "': not an IPv4/IPv6 address or prefix");
        continue;
      }
      const std::string normalised = prefix_text(parsed->value);
      if (parsed->host_bits_cleared) {
        out.warnings.push_back("subscriber " + s.id + ": '" + valid_utf8(text) + "' has host bits set; exported as " +
                               normalised);
      }
      allowed.push_back(candidate{parsed->value, allowed_address{s.id, normalised, parsed->value.ipv6, why, expires}});
    }
  }
  for (const auto& plan : unknown_plans) {
    out.warnings.push_back("plan '" + plan + "' has no port-25 default configured; its subscribers are blocked");
  }
  for (const auto& e : exemptions) {
    if (!known.contains(e.subscriber)) {
      out.warnings.push_back("exemption " + std::to_string(e.id) + ": subscriber " + e.subscriber + " is unknown");
    }
  }

  std::sort(allowed.begin(), allowed.end(), [](const candidate& a, const candidate& b) {
    return std::tie(a.p.ipv6, a.p.bytes, a.p.length, a.entry.subscriber) <
           std::tie(b.p.ipv6, b.p.bytes, b.p.length, b.entry.subscriber);
  });
  // Allowed prefixes are nested or disjoint; sorted by start address (wider first), a prefix inside
  // any earlier kept one is inside the last kept one.
  const candidate* last_kept = nullptr;
  for (const auto& c : allowed) {
    out.entries.push_back(c.entry);
    if (last_kept != nullptr && contains(last_kept->p, c.p)) {
      if (last_kept->entry.subscriber != c.entry.subscriber) {
        out.warnings.push_back("subscriber " + c.entry.subscriber + ": " + c.entry.address + " lies inside " +
                               last_kept->entry.address + " of subscriber " + last_kept->entry.subscriber);
      }
      continue;
    }
    last_kept = &c;
    (c.p.ipv6 ? out.nft_v6 : out.nft_v4).push_back(c.entry.address);
  }
  return out;
}

std::string render_nft(const port25_allow_list& list) {
  std::string out;
  out +=
      "# Portwarden port-25 allow list (portwarden port25 export --format nft).\n"
      "# Addresses in port25_allow_v4/_v6 may open connections to remote TCP port 25; everyone else\n"
      "# on the subscriber side should be refused. Load with `nft -f FILE`: the batch is atomic and\n"
      "# reload-safe (sets and the port25_egress chain are flushed and refilled; other chains in table\n"
      "# inet portwarden are kept).\n"
      "add table inet portwarden\n"
      "add set inet portwarden port25_allow_v4 { type ipv4_addr; flags interval; }\n"
      "add set inet portwarden port25_allow_v6 { type ipv6_addr; flags interval; }\n"
      "flush set inet portwarden port25_allow_v4\n"
      "flush set inet portwarden port25_allow_v6\n";
  out += "# " + std::to_string(list.nft_v4.size()) + " IPv4 and " + std::to_string(list.nft_v6.size()) +
         " IPv6 elements.\n";
  out += elements_line("port25_allow_v4", list.nft_v4);
  out += elements_line("port25_allow_v6", list.nft_v6);
  out +=
      "# How a router uses it: port25_egress is a regular chain (no hook), because only the router knows\n"
      "# which interfaces face subscribers. Jump to it from a forward base chain in this table for\n"
      "# traffic arriving from subscribers, e.g. in the router's own configuration:\n"
      "#   table inet portwarden { chain forward { type filter hook forward priority filter; policy accept;\n"
      "#     iifname \"subscribers0\" jump port25_egress } }\n"
      "# Allowed sources return to the caller; other port-25 connections are reset and counted.\n"
      "add chain inet portwarden port25_egress\n"
      "flush chain inet portwarden port25_egress\n"
      "add rule inet portwarden port25_egress tcp dport 25 ip saddr @port25_allow_v4 return\n"
      "add rule inet portwarden port25_egress tcp dport 25 ip6 saddr @port25_allow_v6 return\n"
      "add rule inet portwarden port25_egress tcp dport 25 counter reject with tcp reset\n";
  return out;
}

std::string render_json(const port25_allow_list& list) {
  std::string out = "{\"allow\":[";
  for (std::size_t i = 0; i < list.entries.size(); ++i) {
    const auto& e = list.entries[i];
    out += i == 0 ? "\n" : ",\n";
    out += "{\"subscriber\":" + json_string(e.subscriber) + ",\"address\":" + json_string(e.address) +
           ",\"family\":\"" + (e.ipv6 ? "ipv6" : "ipv4") + "\",\"why\":" + json_string(e.why) +
           ",\"expires\":" + (e.expires_ms ? json_string(rfc3339_utc(*e.expires_ms)) : "null") + "}";
  }
  out += "],\n\"warnings\":[";
  for (std::size_t i = 0; i < list.warnings.size(); ++i) {
    out += (i == 0 ? "\n" : ",\n") + json_string(list.warnings[i]);
  }
  return out + "]}\n";
}

std::string render_csv(const port25_allow_list& list) {
  std::string out = "subscriber,address,why,expires\r\n";
  for (const auto& e : list.entries) {
    out += csv_field(e.subscriber) + "," + e.address + "," + csv_field(e.why) + "," +
           (e.expires_ms ? rfc3339_utc(*e.expires_ms) : "") + "\r\n";
  }
  return out;
}

std::string render_export(const port25_allow_list& list, export_format format) {
  switch (format) {
    case export_format::nft:
      return render_nft(list);
    case export_format::json:
      return render_json(list);
    case export_format::csv:
      return render_csv(list);
  }
  return {};
}

}  // namespace pw::desk
