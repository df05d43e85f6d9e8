// ledger/ledger.hpp — the abuse desk's book: subscribers, port-25 exemptions, cases and their events,
// notices sent, desk users and their sessions, self-help tokens and the audit log.
//
// Purpose: everything the abuse desk must remember for months, as opposed to the behaviour engine's
// short-lived windows (store/state_store.hpp). The desk logic (desk/) decides; the ledger only keeps
// what was decided. SQLite today (`open_sqlite_ledger`), PostgreSQL later, behind this interface and
// held to the same tests.
//
// Guarantees: lookups of one thing are tri-state (`pw::lookup`): `failed()` is a backend error and is
// never folded into `missing()`. Each call is one transaction: it happens completely or not at all.
// `open_case` is atomic against a concurrent `open_case` for the same subscriber: a subscriber has at
// most one case that is not resolved, and a second call returns the existing one (`opened == false`).
// Lists are paged by keyset (`before_id`): the cost of a page does not grow with how deep it is, so
// the first page of 100,000 cases is as cheap as any other. Times are milliseconds since the Unix
// epoch in the daemon's clock. Records come back byte-for-byte as written.
// Ownership: records are plain values; the ledger copies what it is given.
// Thread-safety: every implementation is safe to call from several threads at once.
// Untrusted input: subscriber ids (SASL logins), user names, note texts and exemption reasons come
// from the network or from people; they are stored through bound parameters, never interpreted.
// Secrets are never stored in the clear: sessions and self-help tokens are kept as SHA-256 hashes of
// the token (`token_hash`), passwords as argon2id encodings (auth/ makes both).
// Privacy: no field holds a message's subject, body or recipient address. `contact` is the
// subscriber's own contact address (the ISP's customer record), the one place an address appears.
// Evidence is the engine's reason text (plain words with numbers) and Postfix queue ids.
// Failure modes: `errc::io` (the backend refused a read or write), `errc::corrupt` (damaged data, or a
// schema from a newer Portwarden), `errc::unavailable` (locked longer than the configured wait),
// `errc::not_found` (an update of a row that does not exist), `errc::invalid_input` (a duplicate user
// name, an unknown status or role name).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/lookup.hpp"
#include "common/result.hpp"

namespace pw::ledger {

// --- subscribers ---

struct subscriber_row {
  std::string id;                      // the subscriber id the engine uses (login, table id or ip:<addr>)
  std::string plan;                    // "residential", "business", ...
  std::string contact;                 // where customer notices go; empty when unknown
  std::vector<std::string> addresses;  // static addresses/prefixes (CIDR text), for the port-25 export
  std::int64_t created_ms = 0;         // account age for exemption rules

  bool operator==(const subscriber_row&) const = default;
};

// --- cases ---

// open → notified → monitoring (the customer said it is fixed; the hold was lifted) → resolved, or
// escalated (a person must look) from any state before resolved. `desk/` owns the transitions.
enum class case_status { open, notified, monitoring, escalated, resolved };
std::string_view status_name(case_status s) noexcept;
std::optional<case_status> parse_status(std::string_view s) noexcept;

struct case_row {
  std::int64_t id = 0;
  std::string subscriber;
  case_status status = case_status::open;
  std::string level;     // the engine level that opened it, raised if it climbs: "throttle", "hold"
  std::string summary;   // the engine's reasons in plain words when the case opened
  std::string assignee;  // desk user name; empty when unassigned
  std::int64_t opened_ms = 0;
  std::int64_t updated_ms = 0;
  std::optional<std::int64_t> resolved_ms;
  std::int64_t notices_sent = 0;
  std::optional<std::int64_t> last_notice_ms;
  std::optional<std::int64_t> monitoring_until_ms;  // set when entering monitoring

  bool operator==(const case_row&) const = default;
};

struct open_result {
  case_row row;
  bool opened = false;  // false: the subscriber already had an unresolved case, returned as is
};

// Who did something: "system", "customer", or a desk user name.
struct case_event {
  std::int64_t id = 0;  // assigned by the ledger
  std::int64_t case_id = 0;
  std::int64_t at_ms = 0;
  std::string kind;  // opened, level, notice, notice_failed, customer_fixed, released, reheld, note,
                     // assigned, escalated, monitoring, resolved, reoffence, exemption_suspended, ...
  std::string actor;
  std::string detail;  // plain words with numbers and queue ids; for "note" the operator's text

  bool operator==(const case_event&) const = default;
};

struct case_filter {
  std::optional<case_status> status;
  std::string subscriber_prefix;  // empty: any
  std::string assignee;           // empty: any
  bool unresolved_only = false;   // open, notified, monitoring or escalated
};

struct page_request {
  std::optional<std::int64_t> before_id;  // keyset: rows with id < before_id; empty = from the newest
  std::size_t limit = 50;
};

struct case_page {
  std::vector<case_row> rows;                  // newest (highest id) first
  std::int64_t total = 0;                      // rows matching the filter, all pages
  std::optional<std::int64_t> next_before_id;  // pass as before_id for the next page; empty at the end
};

// --- notices ---

struct notice_row {
  std::int64_t id = 0;
  std::int64_t case_id = 0;
  std::string subscriber;
  std::string kind;  // "first", "reminder", "exemption_suspended"
  std::string to;    // the subscriber's contact address at the time
  std::int64_t at_ms = 0;
  bool delivered = false;  // the relay accepted it
  std::string error;       // why not, in plain words; empty when delivered

  bool operator==(const notice_row&) const = default;
};

// --- self-help tokens ---

struct help_token_row {
  std::string token_hash;  // SHA-256 of the token, hex
  std::int64_t case_id = 0;
  std::string subscriber;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  std::optional<std::int64_t> used_ms;  // when "I have fixed it" was used (one use)

  bool operator==(const help_token_row&) const = default;
};

// --- port-25 exemptions ---

// pending: asked for, waiting for a person; active: in force; suspended: the subscriber was found
// compromised (a person or self-help restores it); refused; revoked; expired (past expires_ms).
enum class exemption_status { pending, active, suspended, refused, revoked };
std::string_view exemption_status_name(exemption_status s) noexcept;
std::optional<exemption_status> parse_exemption_status(std::string_view s) noexcept;

struct exemption_row {
  std::int64_t id = 0;
  std::string subscriber;
  exemption_status status = exemption_status::pending;
  std::string reason;      // why the customer needs it, in their words
  std::string decided_by;  // "rules" or a desk user name; empty while pending
  std::string decision;    // why it was granted/refused/suspended, plain words
  std::int64_t requested_ms = 0;
  std::int64_t updated_ms = 0;
  std::optional<std::int64_t> expires_ms;

  bool operator==(const exemption_row&) const = default;
};

// --- desk users, sessions, audit ---

enum class role { viewer, operator_, admin };  // each includes the rights of the ones before it
std::string_view role_name(role r) noexcept;
std::optional<role> parse_role(std::string_view s) noexcept;

struct user_row {
  std::string name;
  std::string password_hash;  // argon2id encoded string
  role user_role = role::viewer;
  std::int64_t created_ms = 0;
  bool disabled = false;

  bool operator==(const user_row&) const = default;
};

struct session_row {
  std::string token_hash;  // SHA-256 of the cookie value, hex
  std::string user;
  std::string csrf_token;  // sent back in X-CSRF-Token / a hidden form field; not secret from its owner
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;

  bool operator==(const session_row&) const = default;
};

struct audit_row {
  std::int64_t id = 0;
  std::int64_t at_ms = 0;
  std::string actor;    // user name, "customer", "system", or "anonymous" for refused logins
  std::string action;   // login, logout, release, rehold, note, assign, close, escalate, exemption_grant, ...
  std::string target;   // "case:17", "subscriber:...", "user:alice", "exemption:4"
  bool allowed = true;  // false: refused (wrong password, missing CSRF token, role too low, ...)
  std::string detail;   // plain words; why it was refused

  bool operator==(const audit_row&) const = default;
};

struct count_by_status {
  std::int64_t open = 0, notified = 0, monitoring = 0, escalated = 0, resolved = 0;
};

class ledger {
 public:
  virtual ~ledger() = default;

  // Subscribers: insert or replace by id.
  virtual result<void> upsert_subscriber(const subscriber_row& s) = 0;
  virtual lookup<subscriber_row> find_subscriber(std::string_view id) = 0;
  // Ids starting with `prefix`, in id order, after `after_id` (keyset; empty = from the start).
  virtual result<std::vector<subscriber_row>> search_subscribers(std::string_view prefix, std::string_view after_id,
                                                                 std::size_t limit) = 0;
  virtual result<std::vector<subscriber_row>> all_subscribers() = 0;

  // Cases. `open_case` also appends an "opened" event (actor "system", detail = summary).
  virtual result<open_result> open_case(std::string_view subscriber, std::string_view level, std::string_view summary,
                                        std::int64_t at_ms) = 0;
  virtual lookup<case_row> find_case(std::int64_t id) = 0;
  // The subscriber's unresolved case, if any.
  virtual lookup<case_row> unresolved_case_for(std::string_view subscriber) = 0;
  // The subscriber's most recently resolved case (re-offence rule).
  virtual lookup<case_row> last_resolved_case_for(std::string_view subscriber) = 0;
  // Replaces the row with this id (status, level, assignee, times, counters); errc::not_found if none.
  virtual result<void> update_case(const case_row& c) = 0;
  virtual result<case_page> list_cases(const case_filter& f, const page_request& p) = 0;
  // Every unresolved case (the desk's timer walks these: notices due, monitoring ended).
  virtual result<std::vector<case_row>> unresolved_cases() = 0;
  virtual result<count_by_status> count_cases() = 0;

  virtual result<std::int64_t> append_event(const case_event& e) = 0;            // returns the event id
  virtual result<std::vector<case_event>> events_for(std::int64_t case_id) = 0;  // oldest first
  // How many `kind` events the subscriber's cases got at or after `since_ms` (e.g. customer_fixed in
  // the last 30 days).
  virtual result<std::int64_t> count_events(std::string_view subscriber, std::string_view kind,
                                            std::int64_t since_ms) = 0;

  // Held messages of a case: Postfix queue ids, so a release can name them.
  virtual result<void> add_held(std::int64_t case_id, std::string_view queue_id, std::int64_t at_ms) = 0;
  virtual result<std::vector<std::string>> held_queue_ids(std::int64_t case_id, bool unreleased_only) = 0;
  virtual result<void> mark_held_released(std::int64_t case_id, std::int64_t at_ms) = 0;

  // Notices.
  virtual result<std::int64_t> record_notice(const notice_row& n) = 0;
  virtual result<std::vector<notice_row>> notices_for(std::int64_t case_id) = 0;

  // Self-help tokens.
  virtual result<void> add_help_token(const help_token_row& t) = 0;
  virtual lookup<help_token_row> find_help_token(std::string_view token_hash) = 0;
  // One use, atomically: errc::invalid_input when the token was used before (the first use stands),
  // errc::not_found when there is no such token.
  virtual result<void> mark_help_token_used(std::string_view token_hash, std::int64_t at_ms) = 0;

  // Exemptions.
  virtual result<std::int64_t> add_exemption(const exemption_row& e) = 0;  // returns the id
  virtual result<void> update_exemption(const exemption_row& e) = 0;
  virtual lookup<exemption_row> find_exemption(std::int64_t id) = 0;
  virtual result<std::vector<exemption_row>> exemptions_for(std::string_view subscriber) = 0;
  // Newest first; `status` empty = any.
  virtual result<std::vector<exemption_row>> list_exemptions(std::optional<exemption_status> status,
                                                             const page_request& p) = 0;

  // Users and sessions.
  virtual result<void> add_user(const user_row& u) = 0;  // errc::invalid_input when the name exists
  virtual result<void> update_user(const user_row& u) = 0;
  virtual lookup<user_row> find_user(std::string_view name) = 0;
  virtual result<std::vector<user_row>> list_users() = 0;
  virtual result<void> add_session(const session_row& s) = 0;
  virtual lookup<session_row> find_session(std::string_view token_hash) = 0;
  virtual result<void> delete_session(std::string_view token_hash) = 0;
  virtual result<std::size_t> delete_sessions_expired(std::int64_t now_ms) = 0;

  // Audit log: append-only.
  virtual result<std::int64_t> append_audit(const audit_row& a) = 0;
  // Newest first; `actor` empty = any.
  virtual result<std::vector<audit_row>> list_audit(std::string_view actor, const page_request& p) = 0;
};

}  // namespace pw::ledger
