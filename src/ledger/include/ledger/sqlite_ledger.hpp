// ledger/sqlite_ledger.hpp — the embedded backend of the abuse desk's ledger: one SQLite database file.
//
// Purpose: the default ledger, needing no server. `open_sqlite_ledger` opens (or creates) the database,
// brings its schema up to date and returns it behind the `ledger` interface. The ledger is a file of
// its own, apart from the behaviour engine's state store: it is kept for months and backed up, the
// state store is rebuilt from traffic in hours.
//
// Guarantees: WAL mode with `synchronous=NORMAL` (a committed call survives kill -9; on power loss
// the last calls may be lost, never the file's consistency). The file is marked as the ledger with
// `PRAGMA application_id` ("PWLG", distinct from the state store's, so the two files cannot be
// swapped by a configuration mistake) and its schema version is `PRAGMA user_version`: an older
// schema is migrated forward in one transaction, a newer one or another application's database is
// refused rather than guessed at. Statements are prepared once per connection and reused. The
// one-unresolved-case rule is also a partial UNIQUE index, so it holds against other processes
// writing the same file, not only against other threads. Every list is served by an index. A
// `list_cases` page costs the same at any depth; its `total` is counted inside one index and grows with
// the number of matching cases, not of all cases; a subscriber-prefix filter picks, from that count,
// between sorting the prefix's cases and walking ids. bench/ledger_bench.cpp measures these at 100,000
// cases (first page unfiltered ~0.1 ms, broadest prefix ~3 ms).
// `":memory:"` opens a private in-memory database (tests; nothing persists).
// Ownership: the returned ledger owns its connection and closes it on destruction.
// Thread-safety: one connection guarded by a mutex — calls are serialised. Desk traffic is people
// clicking and a timer walking unresolved cases, so one connection is enough. Other processes may
// read the file concurrently (WAL); a second writer waits up to `busy_timeout`.
// Failure modes: `open_sqlite_ledger` fails with `errc::io` when the file cannot be opened or created
// or WAL cannot be enabled, `errc::corrupt` when it is not a SQLite database, belongs to another
// application or has a newer schema. Later calls fail as described in ledger.hpp; in addition a write
// that refers to a case or user that does not exist (an event, held message, notice or self-help token
// of an unknown case; a session of an unknown user) fails with `errc::not_found`, and `update_case`
// moving a second case of one subscriber out of "resolved" fails with `errc::invalid_input`.
// Limits: a page holds at most `max_page_rows` rows whatever `limit` asks for.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "ledger/ledger.hpp"

namespace pw::ledger {

// The schema version this build writes; a database with a higher `user_version` is refused.
inline constexpr int sqlite_ledger_schema_version = 1;

// Bounds the memory of one page request coming from the desk's HTTP API.
inline constexpr std::size_t max_page_rows = 1000;

[[nodiscard]] result<std::unique_ptr<ledger>> open_sqlite_ledger(
    const std::string& path, std::chrono::milliseconds busy_timeout = std::chrono::milliseconds(5000));

}  // namespace pw::ledger
