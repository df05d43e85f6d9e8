// desk/port25.hpp — the port-25 enforcement export: which subscriber addresses may reach remote port 25.
//
// Purpose: routers enforce the port-25 registry; `portwarden port25 export --format nft|json|csv`
// writes what they load. This file computes the list from the ledger's records and renders it.
//
// Who is allowed (per subscriber, over its static addresses/prefixes in subscriber_row::addresses):
//   - any exemption row of the subscriber with status suspended → blocked, whatever the plan or other
//     rows say. A compromised subscriber on an open plan is blocked too: the desk represents "the plan
//     default is suspended" as a suspended exemption row (exemption_rules.hpp suspensions_for_case);
//   - else the plan is open by default (`plan_open[plan] == true`) → allowed ("plan <name>");
//   - else an active exemption that has not expired (expires_ms empty or > now) → allowed
//     ("exemption <id>", with its expiry; the latest expiry when several);
//   - else blocked. A plan missing from `plan_open` is blocked (the safe default) and reported once.
// Subscribers on dynamic addresses have no static address to list; they are not in the export.
//
// Validation: each address is IPv4 or IPv6 text, optionally with a prefix length ("192.0.2.0/24",
// "2001:db8::/48"); anything else (zone ids, hostnames, prefix lengths out of range) is skipped with
// a warning. Host bits below the prefix are cleared (warned). Addresses are normalised (inet_ntop;
// a full-length prefix is written as the bare address). `entries` keeps every allowed address; the nft
// sets drop addresses that lie inside another allowed prefix (nft rejects overlapping intervals),
// with a warning when two subscribers overlap. So the nft output is always accepted by `nft -f`
// (checked with `nft -c -f` in tests/desk/desk_port25_test.cpp, IPv4, IPv6 and empty sets).
//
// Output is deterministic: entries sorted by family, address bytes, prefix length, subscriber; no
// timestamps. The nft file is a reload-safe batch: `add table/set/chain` (idempotent), `flush` the
// sets and the chain, then add elements and rules, so loading it again replaces the lists and keeps
// any chains the router's own configuration added to table `inet portwarden`.
//
// Ownership: plain values. Thread-safety: pure functions.
// Untrusted input: addresses are operator data from the ledger, parsed defensively; subscriber ids and
// reasons appear only in JSON/CSV, escaped (JSON string escapes, invalid UTF-8 → '?'; CSV RFC 4180
// quoting), never in the nft file.
// Failure modes: none; bad records become warnings.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.hpp"

namespace pw::desk {

enum class export_format { nft, json, csv };
std::optional<export_format> parse_export_format(std::string_view s) noexcept;

struct allowed_address {
  std::string subscriber;
  std::string address;  // normalised: "192.0.2.0/24", "198.51.100.7", "2001:db8::/48"
  bool ipv6 = false;
  std::string why;  // "plan business" or "exemption 4"
  std::optional<std::int64_t> expires_ms;

  bool operator==(const allowed_address&) const = default;
};

struct port25_allow_list {
  std::vector<allowed_address> entries;  // every allowed address, in the deterministic order
  std::vector<std::string> nft_v4;       // set elements: entries without the ones inside another prefix
  std::vector<std::string> nft_v6;
  std::vector<std::string> warnings;  // plain words: what was skipped or adjusted, and why
};

using plan_defaults = std::map<std::string, bool, std::less<>>;  // plan name → open by default

port25_allow_list build_port25_allow_list(std::span<const ledger::subscriber_row> subscribers,
                                          std::span<const ledger::exemption_row> exemptions,
                                          const plan_defaults& plan_open, std::int64_t now_ms);

std::string render_nft(const port25_allow_list& list);
// {"allow":[{"subscriber":..,"address":..,"family":"ipv4"|"ipv6","why":..,"expires":"<RFC 3339>"|null}],
//  "warnings":[..]}
std::string render_json(const port25_allow_list& list);
// Header "subscriber,address,why,expires"; expires is RFC 3339 UTC or empty; CRLF line ends.
std::string render_csv(const port25_allow_list& list);
std::string render_export(const port25_allow_list& list, export_format format);

}  // namespace pw::desk
