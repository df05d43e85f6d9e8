// store/state_store.hpp — the narrow interface to where Portwarden keeps state between restarts.
//
// Purpose: the behaviour engine keeps subscriber state in memory and snapshots it here periodically;
// every verdict is appended to a decision log; every message put on hold is remembered by its Postfix
// queue id so it can be released later. A restart reads the snapshots back (`scan_states`) and resumes.
// This is the whole surface a backend implements: SQLite today (store/sqlite_store.hpp), Redis or
// PostgreSQL later, all held to the same tests.
//
// Guarantees: lookups are tri-state (`pw::lookup`): `failed()` means the backend could not answer
// (I/O error, corrupt file, lock timeout) and is never folded into `missing()`, so a store outage can
// not read as "unknown subscriber, therefore clean". Each batch call (`save_states`,
// `append_decisions`) is atomic: all records are written or none. Records come back byte-for-byte as
// written (strings may hold any bytes, including NUL).
// Ownership: records are plain values; the store copies what it is given and returns owned copies.
// Thread-safety: every implementation is safe to call from several threads at once. A `scan_states`
// visitor runs while the store is busy and must not call back into the same store.
// Untrusted input: subscriber ids and queue ids originate from SMTP clients (SASL logins) and Postfix;
// they are stored as opaque bytes through bound parameters, never interpreted.
// Privacy: the store holds no message content — records have no field for a subject, body or
// address, and `decision_record::reasons` carries plain words with counts only (the engine's duty).
// Failure modes: every call returns `pw::error` with `errc::io` (the backend refused a read or write),
// `errc::corrupt` (the data is damaged or from a newer version), `errc::unavailable` (locked or
// unreachable for longer than the configured wait) or `errc::not_found` (`mark_released` of a queue id
// never held).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/lookup.hpp"
#include "common/result.hpp"

namespace pw::store {

// One subscriber's behaviour state as the engine serialised it; the store never looks inside `blob`.
struct state_record {
  std::string subscriber;
  std::vector<std::byte> blob;
  std::int64_t updated_ms = 0;  // engine time of the snapshot, milliseconds since the Unix epoch

  bool operator==(const state_record&) const = default;
};

// One verdict, as logged for the operator and the HTTP API.
struct decision_record {
  std::int64_t at_ms = 0;
  std::string subscriber;
  std::string queue_id;  // Postfix queue id; empty when the verdict came before one was assigned
  std::string action;    // e.g. "accept", "tag", "defer", "hold"
  std::string level;     // e.g. "normal", "watch", "throttle", "hold"
  double suspicion = 0.0;
  std::string reasons;  // plain words with numbers, never content
  bool observe_only = false;

  bool operator==(const decision_record&) const = default;
};

// A message sent to Postfix's hold queue on a subscriber's behalf.
struct held_record {
  std::string subscriber;
  std::string queue_id;
  std::int64_t held_ms = 0;
  std::optional<std::int64_t> released_ms;  // empty while the message is still held

  bool operator==(const held_record&) const = default;
};

// One campaign's state as the campaign tracker serialised it (counts, keyed hashes, signature bins
// and, for campaigns of several messages, registrable URL domains); opaque to the store.
struct campaign_record {
  std::string id;
  std::vector<std::byte> blob;
  std::int64_t updated_ms = 0;

  bool operator==(const campaign_record&) const = default;
};

class state_store {
 public:
  virtual ~state_store() = default;

  // --- subscriber state snapshots ---

  // Inserts or replaces each record by subscriber id, all in one transaction. When a subscriber
  // appears twice in the batch the later record wins.
  virtual result<void> save_states(std::span<const state_record> records) = 0;
  virtual lookup<state_record> load_state(std::string_view subscriber) = 0;
  // Calls `visit` once per stored record, in no particular order; returns how many were visited.
  // An error part-way leaves the records already visited visited: callers restoring state discard
  // what they built when this fails.
  virtual result<std::size_t> scan_states(const std::function<void(const state_record&)>& visit) = 0;
  // Deletes snapshots whose `updated_ms` is before `cutoff_ms` (subscribers gone quiet); returns the count.
  virtual result<std::size_t> delete_states_older_than(std::int64_t cutoff_ms) = 0;

  // --- campaign snapshots ---

  // Upserts `updated` and deletes `removed` (expired or evicted campaigns), in one transaction.
  virtual result<void> save_campaigns(std::span<const campaign_record> updated,
                                      std::span<const std::string> removed) = 0;
  // Calls `visit` once per stored campaign; returns how many (same failure rule as scan_states).
  virtual result<std::size_t> scan_campaigns(const std::function<void(const campaign_record&)>& visit) = 0;

  // --- decision log ---

  // Appends all records in one transaction.
  virtual result<void> append_decisions(std::span<const decision_record> records) = 0;
  // The subscriber's latest decisions, newest first (ties in `at_ms` newest-appended first), at most
  // `limit` of them.
  virtual result<std::vector<decision_record>> recent_decisions(std::string_view subscriber, std::size_t limit) = 0;
  // Deletes decisions made before `cutoff_ms`; returns the count.
  virtual result<std::size_t> delete_decisions_older_than(std::int64_t cutoff_ms) = 0;

  // --- held messages ---

  // Remembers that `queue_id` was put on hold. Recording a queue id again (Postfix reuses short queue
  // ids eventually) replaces the earlier record and marks it held again.
  virtual result<void> record_held(std::string_view subscriber, std::string_view queue_id, std::int64_t at_ms) = 0;
  // The subscriber's messages still on hold, oldest first.
  virtual result<std::vector<held_record>> held_for(std::string_view subscriber) = 0;
  // Marks a held message released at `at_ms`. Releasing an already released message keeps the first
  // release time; an unknown queue id is `errc::not_found`.
  virtual result<void> mark_released(std::string_view queue_id, std::int64_t at_ms) = 0;
  // Forgets messages released before `cutoff_ms`; messages still held are kept whatever their age.
  virtual result<std::size_t> delete_released_older_than(std::int64_t cutoff_ms) = 0;
};

}  // namespace pw::store
