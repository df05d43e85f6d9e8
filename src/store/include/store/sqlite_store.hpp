// store/sqlite_store.hpp — the embedded backend of state_store: one SQLite database file.
//
// Purpose: the default store, needing no server. `open_sqlite` opens (or creates) the database,
// brings its schema up to date and returns it behind the `state_store` interface.
//
// Guarantees: the database runs in WAL mode with `synchronous=NORMAL`: a committed transaction
// survives the process being killed (kill -9); on power loss the last transactions before the crash
// may be lost, never the database's consistency. The schema version is kept in `PRAGMA user_version`
// and the file is marked as Portwarden's with `PRAGMA application_id`; `open_sqlite` migrates an older
// schema forward in one transaction, and refuses a database written by a newer Portwarden or by
// another application rather than guess. Statements are prepared once per connection and reused.
// `":memory:"` opens a private in-memory database (tests; nothing persists).
// Ownership: the returned store owns its connection and closes it on destruction.
// Thread-safety: one connection guarded by a mutex — calls are serialised. The daemon writes from one
// snapshot thread and reads rarely (HTTP API), so one connection is enough. Other processes may read
// the file concurrently (WAL); a second writer waits up to `busy_timeout`.
// Failure modes: `open_sqlite` fails with `errc::io` when the file cannot be opened or created or WAL
// cannot be enabled, `errc::corrupt` when it is not a SQLite database, belongs to another application
// or has a newer schema version. Later calls report errors as described in state_store.hpp.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "store/state_store.hpp"

namespace pw::store {

struct sqlite_options {
  // How long a call waits for another process's write lock before failing with errc::unavailable.
  std::chrono::milliseconds busy_timeout{5000};
};

// The schema version this build writes; a database with a higher `user_version` is refused.
inline constexpr int sqlite_schema_version = 2;

[[nodiscard]] result<std::unique_ptr<state_store>> open_sqlite(const std::string& path, const sqlite_options& options);

}  // namespace pw::store
