// sqlite/db.hpp — the SQLite plumbing the state store and the desk's ledger share (internal library).
//
// Purpose: both embedded backends (store/sqlite_store.cpp, ledger/sqlite_ledger.cpp) open one file,
// refuse a file that is not theirs, migrate its schema, and reuse prepared statements. This module
// holds that code once; each backend keeps its schema, its statements and its queries.
// Guarantees: `open_database` opens (or creates) the file, refuses it with errc::corrupt when it is
// not SQLite, carries another application id (or none while having tables), or has a schema version
// newer than the build knows; switches a file-backed database to WAL with `synchronous = NORMAL`
// (errc::io when WAL cannot be had, e.g. on a network file system); runs the caller's per-connection
// pragmas; then migrates an older schema in one BEGIN IMMEDIATE transaction that re-reads the version
// inside it, so two processes opening a fresh file at once migrate it only once. Errors are
// `pw::error`s whose message starts with the owner's name ("store: ...", "ledger: ...") and names the
// step that failed; codes follow `code_of`.
// Ownership: `db_ptr` closes its connection, `statement_ptr` finalises its statement; statements must
// be destroyed before their connection (declare the db_ptr member first). `statement_use` and
// `in_transaction` borrow the statements they are given and leave them reset.
// Thread-safety: none of its own. Connections are opened with SQLITE_OPEN_NOMUTEX: the owner
// serialises every use of a connection and its statements (both backends hold one mutex).
// Untrusted input: none; SQL text comes from the backends, values are bound, never spliced.
// Failure modes: as above; nothing throws.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pw::sqlite {

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

struct statement_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

// What a file is and how to bring it up to date.
struct schema {
  std::string_view owner;                   // "store", "ledger": the first word of every error message
  std::int32_t application_id = 0;          // PRAGMA application_id marking the file as the owner's
  std::span<const char* const> migrations;  // migrations[i] takes version i to i + 1; append, never edit
  std::string_view foreign_hint;            // added to the refusal of a foreign file, e.g. which file it may be
};

// The errc of an SQLite result code. Connections are opened with extended result codes, so a missing
// parent row (a foreign key) is errc::not_found, another constraint errc::invalid_input, a damaged or
// non-SQLite file errc::corrupt, a lock held elsewhere errc::unavailable, anything else errc::io.
errc code_of(int rc) noexcept;

// "<owner>: <what>: <SQLite's message>".
error db_error(std::string_view owner, sqlite3* db, int rc, std::string_view what);

// Opens `path` as described at the top. `busy_timeout`: how long a call waits for another process's
// write lock before failing with errc::unavailable. `pragmas` run once on the connection after WAL
// and before migrating (settings that SQLite keeps per connection: page cache size, foreign keys).
// ":memory:" opens a private in-memory database, which keeps its own journal mode.
result<db_ptr> open_database(const std::string& path, const schema& s, std::chrono::milliseconds busy_timeout,
                             std::span<const char* const> pragmas = {});

// A statement prepared to be kept and reused (SQLITE_PREPARE_PERSISTENT).
result<statement_ptr> prepare(std::string_view owner, sqlite3* db, const char* sql);

// Runs SQL that returns no rows (one or more statements).
result<void> exec(std::string_view owner, sqlite3* db, const char* sql, std::string_view what);

// Resets a reused statement however the call using it ends, so it holds no read lock and no stale
// bindings between calls.
class statement_use {
 public:
  explicit statement_use(sqlite3_stmt* s) noexcept : _s(s) {}
  statement_use(const statement_use&) = delete;
  statement_use& operator=(const statement_use&) = delete;
  ~statement_use() {
    sqlite3_reset(_s);
    sqlite3_clear_bindings(_s);
  }
  sqlite3_stmt* get() const noexcept { return _s; }

 private:
  sqlite3_stmt* _s;
};

// Runs `body` (a callable returning result<void>) between stepping `begin` (a prepared BEGIN or BEGIN
// IMMEDIATE) and `commit`, and steps `rollback` when the body or the commit fails, so the work
// happens whole or not at all. The statements are the connection's reused ones; the caller
// serialises use of the connection.
template <class Body>
result<void> in_transaction(std::string_view owner, sqlite3* db, sqlite3_stmt* begin, sqlite3_stmt* commit,
                            sqlite3_stmt* rollback, Body&& body) {
  {
    statement_use use(begin);
    if (const int rc = sqlite3_step(begin); rc != SQLITE_DONE) {
      return db_error(owner, db, rc, "starting a transaction");
    }
  }
  result<void> done = body();
  if (done) {
    statement_use use(commit);
    if (const int rc = sqlite3_step(commit); rc != SQLITE_DONE) {
      done = db_error(owner, db, rc, "committing a transaction");
    }
  }
  if (!done && sqlite3_get_autocommit(db) == 0) {
    statement_use use(rollback);
    sqlite3_step(rollback);
  }
  return done;
}

// Binds text without copying (SQLITE_STATIC): the caller keeps `text` alive until the step that reads
// it. An empty view binds "" rather than NULL (an empty view may have a null data(), which SQLite would
// bind as NULL and the NOT NULL columns refuse).
int bind_text(sqlite3_stmt* s, int index, std::string_view text) noexcept;

// The text in `column` of the current row; "" for NULL.
std::string text_at(sqlite3_stmt* s, int column);
// The same into `out`, keeping its capacity: a scratch buffer for scans over many rows, so a restore
// of a million subscribers does not allocate per row.
void read_text(sqlite3_stmt* s, int column, std::string& out);

}  // namespace pw::sqlite
