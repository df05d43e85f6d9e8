// identity/directory.hpp — who is sending: SASL login or client address → subscriber.
//
// Purpose: the relay sees a SASL login (when the client authenticated) and the client's IP address.
// A `directory` maps either to a subscriber (id, plan, contact). `cidr_directory` is the static
// implementation: exact logins plus a longest-prefix match over IPv4 and IPv6 CIDRs, built from
// entries or from a subscriber file. A RADIUS-fed, time-aware directory will implement the same
// interface later, which is why the lookups return the tri-state `lookup<subscriber>`: a backend
// that cannot answer says so (error), and that is never the same as "not listed".
//
// Guarantees: `by_address` accepts textual IPv4 ("192.0.2.1") and IPv6 ("2001:db8::1") as Postfix
// sends them (milter `{client_addr}`, policy `client_address`); IPv4-mapped IPv6 ("::ffff:192.0.2.1")
// matches IPv4 entries. An unparsable address is an error (errc::invalid_input), not "not found".
// `cidr_directory` lookups cost a few hash probes (one per distinct prefix length present, longest
// first), measured in bench/behavior_bench.cpp (BM_cidr_lookup, 100k entries).
//
// `resolve` policy (the precedence the relay uses):
//   1. SASL login non-empty → the subscriber id is the login; plan and contact from `by_login` when
//      listed, else `default_plan`. A failed login lookup keeps the login as id (the identity is
//      certain; only the plan is unknown), uses `default_plan`, and reports the error.
//   2. Else the address mapping (`by_address`) when found.
//   3. Else `ip:<addr>` with `default_plan`. A failed address lookup (unparsable address, backend
//      down) also lands here and reports the error in `resolution::failure`: the sender is then
//      tracked under its own address like any unknown sender — never as a known, clean subscriber —
//      and the caller logs and counts the failure. The address text in `ip:<addr>` is cut to 64
//      bytes and bytes outside printable ASCII become '?', so a hostile macro cannot put control
//      characters into ids, logs or the store.
//
// Ownership: a directory owns its entries; `subscriber` values are copies.
// Thread-safety: `cidr_directory` is immutable after construction; concurrent const lookups are safe.
// Untrusted input: the subscriber file is operator-written but parsed as untrusted (fuzzed in
// fuzz/identity_fuzz.cpp): bounded line and field lengths, every problem reported as
// `file:line: what is wrong`, never a crash. Client addresses and logins come from the SMTP peer.
// Privacy: subscriber ids, plans and contacts are operator data, not message content; contact
// addresses are for the operator's own notices and must not be logged by callers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/lookup.hpp"
#include "common/result.hpp"

namespace pw::identity {

struct subscriber {
  std::string id;
  std::string plan;
  std::string contact;  // may be empty

  friend bool operator==(const subscriber&, const subscriber&) = default;
};

class directory {
 public:
  virtual ~directory() = default;
  virtual lookup<subscriber> by_login(std::string_view sasl_login) const = 0;
  virtual lookup<subscriber> by_address(std::string_view client_addr) const = 0;
  // Every static address entry as (subscriber, CIDR text such as "192.0.2.0/24" or "2001:db8::/48");
  // login entries are not included, and a directory of dynamic assignments (RADIUS) has none. For
  // exports and the desk's subscriber records (static addresses, port-25 rules); never on the
  // per-message path.
  virtual void for_each_network(const std::function<void(const subscriber&, const std::string&)>& visit) const = 0;
};

// One line of a subscriber table. `key` is a CIDR ("192.0.2.0/24", "2001:db8::/48"), a bare address
// (a host route: /32 or /128), or else a SASL login. A key that is not an address but contains '/'
// or ':' or only digits and dots is an error (a mistyped CIDR must not silently become a login).
struct directory_entry {
  std::string key;
  std::string id;
  std::string plan;
  std::string contact;
};

// Bounds on the subscriber file (and on entries), so a damaged file cannot exhaust memory.
struct directory_limits {
  std::size_t max_line_bytes = 4096;
  std::size_t max_field_bytes = 255;
  std::size_t max_entries = 10'000'000;
};

class cidr_directory final : public directory {
 public:
  // Builds from entries. Errors (errc::invalid_input): a malformed CIDR, host bits set below the
  // prefix ("10.0.0.1/24"), an empty id or plan, a field with control characters or over the
  // limits, a duplicate key. Messages read `entry <n>: <what is wrong>` (n counts from 1).
  static result<cidr_directory> build(const std::vector<directory_entry>& entries, directory_limits limits = {});

  // Parses subscriber-file text: one entry per line, `key<TAB>id<TAB>plan[<TAB>contact]`; blank
  // lines and lines starting with '#' (after optional spaces) are ignored; a trailing '\r' is
  // tolerated. Errors read `<origin>:<line>: <what is wrong>`.
  static result<cidr_directory> parse(std::string_view text, std::string_view origin, directory_limits limits = {});

  // Reads and parses the file at `path` (errc::io when it cannot be read).
  static result<cidr_directory> load(const std::string& path, directory_limits limits = {});

  lookup<subscriber> by_login(std::string_view sasl_login) const override;
  lookup<subscriber> by_address(std::string_view client_addr) const override;

  std::size_t size() const noexcept;

  // IPv4 first, each family by prefix length (longest first) and then in no particular order;
  // rebuilt from the lookup tables, so it costs no memory.
  void for_each_network(const std::function<void(const subscriber&, const std::string&)>& visit) const override;

  cidr_directory(cidr_directory&&) noexcept;
  cidr_directory& operator=(cidr_directory&&) noexcept;
  ~cidr_directory() override;

 private:
  struct tables;
  explicit cidr_directory(std::unique_ptr<tables> t);
  std::unique_ptr<tables> _tables;
};

enum class subscriber_source : std::uint8_t {
  login,            // SASL login, listed in the directory
  login_unlisted,   // SASL login not in the directory (default plan)
  address,          // client address matched a CIDR entry
  unknown_address,  // `ip:<addr>`, not listed
  lookup_failed,    // a lookup failed; see `failure` (id is the login or `ip:<addr>`)
};

struct resolution {
  subscriber who;
  subscriber_source source = subscriber_source::unknown_address;
  std::optional<pw::error> failure;  // set exactly when source == lookup_failed
};

resolution resolve(const directory& dir, std::string_view sasl_login, std::string_view client_addr,
                   std::string_view default_plan);

std::string_view source_name(subscriber_source s) noexcept;

}  // namespace pw::identity
