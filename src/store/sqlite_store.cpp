#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>

namespace pw::store {
namespace {

// "PWDN" in the database header marks the file as Portwarden's, so a path that points at some other
// application's SQLite database is refused instead of having our tables added to it.
constexpr int portwarden_application_id = 0x5057444E;

// migrations[i] takes a database from schema version i to i + 1. Append, never edit: a deployed
// database has run the earlier entries already.
//
// subscriber_state has no index on updated_ms: a snapshot rewrites every active subscriber's row, and
// an index would double that work to speed up an age sweep that runs rarely and can afford a scan.
// No table has a column for message content (subject, body, addresses); store_test checks that.
constexpr std::array<const char*, sqlite_schema_version> migrations = {
    R"sql(
CREATE TABLE subscriber_state (
  subscriber TEXT PRIMARY KEY NOT NULL,
  blob BLOB NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE decision (
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  subscriber TEXT NOT NULL,
  queue_id TEXT NOT NULL,
  action TEXT NOT NULL,
  level TEXT NOT NULL,
  suspicion REAL NOT NULL,
  reasons TEXT NOT NULL,
  observe_only INTEGER NOT NULL
);
CREATE INDEX decision_by_subscriber ON decision(subscriber, at_ms);
CREATE INDEX decision_by_time ON decision(at_ms);
CREATE TABLE held_message (
  queue_id TEXT PRIMARY KEY NOT NULL,
  subscriber TEXT NOT NULL,
  held_ms INTEGER NOT NULL,
  released_ms INTEGER
) WITHOUT ROWID;
CREATE INDEX held_message_by_subscriber ON held_message(subscriber, held_ms);
)sql",
    // 1 → 2 (issue 4): campaign tracker snapshots.
    R"sql(
CREATE TABLE campaign_state (
  id TEXT PRIMARY KEY NOT NULL,
  blob BLOB NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
};

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

struct statement_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

errc code_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return errc::corrupt;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return errc::unavailable;
    default:
      return errc::io;
  }
}

error db_error(sqlite3* db, int rc, std::string_view what) {
  std::string message = "store: ";
  message.append(what);
  message.append(": ");
  message.append(db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return make_error(code_of(rc), std::move(message));
}

// Resets a reused statement however the call using it ends, so it holds no read lock and no stale
// bindings between calls.
class statement_use {
 public:
  explicit statement_use(sqlite3_stmt* s) : _s(s) {}
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

// Empty views may have a null data() and SQLite binds a null pointer as SQL NULL, which the NOT NULL
// columns refuse; "" keeps an empty value empty. SQLITE_STATIC is safe: every bound value outlives
// the step that reads it.
int bind_text(sqlite3_stmt* s, int index, std::string_view text) {
  const char* data = text.data() != nullptr ? text.data() : "";
  return sqlite3_bind_text64(s, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

int bind_blob(sqlite3_stmt* s, int index, std::span<const std::byte> bytes) {
  const void* data = bytes.data() != nullptr ? static_cast<const void*>(bytes.data()) : "";
  return sqlite3_bind_blob64(s, index, data, bytes.size(), SQLITE_STATIC);
}

void read_text(sqlite3_stmt* s, int column, std::string& out) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(s, column));
  out.assign(text != nullptr ? text : "", text != nullptr ? size : 0);
}

void read_blob(sqlite3_stmt* s, int column, std::vector<std::byte>& out) {
  const auto* bytes = static_cast<const std::byte*>(sqlite3_column_blob(s, column));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(s, column));
  if (bytes == nullptr) {
    out.clear();
  } else {
    out.assign(bytes, bytes + size);
  }
}

result<statement_ptr> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    return db_error(db, rc, "preparing a statement");
  }
  return statement_ptr(raw);
}

// One integer from a statement such as "PRAGMA user_version".
result<std::int64_t> query_int(sqlite3* db, const char* sql, std::string_view what) {
  auto s = prepare(db, sql);
  if (!s) {
    return s.error();
  }
  const int rc = sqlite3_step(s->get());
  if (rc != SQLITE_ROW) {
    return db_error(db, rc, what);
  }
  return sqlite3_column_int64(s->get(), 0);
}

result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return db_error(db, rc, what);
  }
  return {};
}

// Refuses a database this build must not write to; returns its schema version otherwise.
result<std::int64_t> check_ownership(sqlite3* db, const std::string& path) {
  auto app_id = query_int(db, "PRAGMA application_id", "reading the database header of '" + path + "'");
  if (!app_id) {
    return app_id.error();
  }
  auto version = query_int(db, "PRAGMA user_version", "reading the schema version");
  if (!version) {
    return version.error();
  }
  if (*app_id == 0) {
    auto objects = query_int(db, "SELECT count(*) FROM sqlite_schema", "reading the schema");
    if (!objects) {
      return objects.error();
    }
    if (*objects != 0 || *version != 0) {
      return make_error(errc::corrupt,
                        "store: '" + path + "' is a SQLite database of another application; refusing to change it");
    }
  } else if (*app_id != portwarden_application_id) {
    return make_error(errc::corrupt,
                      "store: '" + path + "' is a SQLite database of another application; refusing to change it");
  }
  if (*version > sqlite_schema_version) {
    return make_error(errc::corrupt, "store: '" + path + "' has schema version " + std::to_string(*version) +
                                         ", newer than the " + std::to_string(sqlite_schema_version) +
                                         " this build of portwarden understands; upgrade portwarden");
  }
  return *version;
}

// Brings the schema to sqlite_schema_version in one transaction. The version is read again inside
// the write transaction, so two processes opening a fresh file at once migrate it only once.
result<void> migrate(sqlite3* db) {
  if (auto begun = exec(db, "BEGIN IMMEDIATE", "starting the schema migration"); !begun) {
    return begun;
  }
  auto run = [db]() -> result<void> {
    auto version = query_int(db, "PRAGMA user_version", "reading the schema version");
    if (!version) {
      return version.error();
    }
    if (*version > sqlite_schema_version) {
      return make_error(errc::corrupt, "store: schema version " + std::to_string(*version) +
                                           " is newer than this build of portwarden understands");
    }
    for (auto v = *version; v < sqlite_schema_version; ++v) {
      const std::string what = "migrating the schema from version " + std::to_string(v);
      if (auto step = exec(db, migrations[static_cast<std::size_t>(v)], what); !step) {
        return step;
      }
    }
    const std::string stamp = "PRAGMA application_id = " + std::to_string(portwarden_application_id) +
                              "; PRAGMA user_version = " + std::to_string(sqlite_schema_version);
    return exec(db, stamp.c_str(), "recording the schema version");
  };
  if (auto done = run(); !done) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return done;
  }
  return exec(db, "COMMIT", "committing the schema migration");
}

struct statements {
  statement_ptr begin;
  statement_ptr commit;
  statement_ptr rollback;
  statement_ptr upsert_state;
  statement_ptr select_state;
  statement_ptr scan_states;
  statement_ptr delete_old_states;
  statement_ptr insert_decision;
  statement_ptr recent_decisions;
  statement_ptr delete_old_decisions;
  statement_ptr upsert_held;
  statement_ptr held_for;
  statement_ptr release_held;
  statement_ptr delete_old_released;
  statement_ptr upsert_campaign;
  statement_ptr delete_campaign;
  statement_ptr scan_campaigns;
};

result<statements> prepare_all(sqlite3* db) {
  statements st;
  const std::pair<statement_ptr*, const char*> all[] = {
      {&st.begin, "BEGIN IMMEDIATE"},
      {&st.commit, "COMMIT"},
      {&st.rollback, "ROLLBACK"},
      {&st.upsert_state,
       "INSERT INTO subscriber_state(subscriber, blob, updated_ms) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(subscriber) DO UPDATE SET blob = excluded.blob, updated_ms = excluded.updated_ms"},
      {&st.select_state, "SELECT blob, updated_ms FROM subscriber_state WHERE subscriber = ?1"},
      {&st.scan_states, "SELECT subscriber, blob, updated_ms FROM subscriber_state"},
      {&st.delete_old_states, "DELETE FROM subscriber_state WHERE updated_ms < ?1"},
      {&st.insert_decision,
       "INSERT INTO decision(at_ms, subscriber, queue_id, action, level, suspicion, reasons, observe_only) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&st.recent_decisions,
       "SELECT at_ms, queue_id, action, level, suspicion, reasons, observe_only FROM decision "
       "WHERE subscriber = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2"},
      {&st.delete_old_decisions, "DELETE FROM decision WHERE at_ms < ?1"},
      {&st.upsert_held,
       "INSERT INTO held_message(queue_id, subscriber, held_ms, released_ms) VALUES(?1, ?2, ?3, NULL) "
       "ON CONFLICT(queue_id) DO UPDATE SET subscriber = excluded.subscriber, held_ms = excluded.held_ms, "
       "released_ms = NULL"},
      {&st.held_for,
       "SELECT queue_id, held_ms FROM held_message WHERE subscriber = ?1 AND released_ms IS NULL "
       "ORDER BY held_ms, queue_id"},
      {&st.release_held, "UPDATE held_message SET released_ms = coalesce(released_ms, ?2) WHERE queue_id = ?1"},
      {&st.delete_old_released, "DELETE FROM held_message WHERE released_ms < ?1"},
      {&st.upsert_campaign,
       "INSERT INTO campaign_state(id, blob, updated_ms) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(id) DO UPDATE SET blob = excluded.blob, updated_ms = excluded.updated_ms"},
      {&st.delete_campaign, "DELETE FROM campaign_state WHERE id = ?1"},
      {&st.scan_campaigns, "SELECT id, blob, updated_ms FROM campaign_state"},
  };
  for (const auto& [slot, sql] : all) {
    auto s = prepare(db, sql);
    if (!s) {
      return s.error();
    }
    *slot = std::move(*s);
  }
  return st;
}

class sqlite_store final : public state_store {
 public:
  sqlite_store(db_ptr db, statements st) : _db(std::move(db)), _st(std::move(st)) {}

  result<void> save_states(std::span<const state_record> records) override {
    std::lock_guard lock(_mutex);
    return in_transaction([&]() -> result<void> {
      sqlite3_stmt* s = _st.upsert_state.get();
      for (const auto& r : records) {
        statement_use use(s);
        int rc = bind_text(s, 1, r.subscriber);
        if (rc == SQLITE_OK) {
          rc = bind_blob(s, 2, r.blob);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_bind_int64(s, 3, r.updated_ms);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_step(s);
        }
        if (rc != SQLITE_DONE) {
          return db_error(_db.get(), rc, "saving subscriber state");
        }
      }
      return {};
    });
  }

  lookup<state_record> load_state(std::string_view subscriber) override {
    std::lock_guard lock(_mutex);
    statement_use use(_st.select_state.get());
    sqlite3_stmt* s = use.get();
    if (const int rc = bind_text(s, 1, subscriber); rc != SQLITE_OK) {
      return db_error(_db.get(), rc, "loading subscriber state");
    }
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
      return not_found;
    }
    if (rc != SQLITE_ROW) {
      return db_error(_db.get(), rc, "loading subscriber state");
    }
    state_record r;
    r.subscriber.assign(subscriber);
    read_blob(s, 0, r.blob);
    r.updated_ms = sqlite3_column_int64(s, 1);
    return r;
  }

  result<std::size_t> scan_states(const std::function<void(const state_record&)>& visit) override {
    std::lock_guard lock(_mutex);
    statement_use use(_st.scan_states.get());
    sqlite3_stmt* s = use.get();
    // One record reused for every row: its buffers keep their capacity, so a restore of a million
    // subscribers does not allocate per row.
    state_record r;
    std::size_t visited = 0;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) {
        return visited;
      }
      if (rc != SQLITE_ROW) {
        return db_error(_db.get(), rc, "scanning subscriber state");
      }
      read_text(s, 0, r.subscriber);
      read_blob(s, 1, r.blob);
      r.updated_ms = sqlite3_column_int64(s, 2);
      visit(r);
      ++visited;
    }
  }

  result<void> save_campaigns(std::span<const campaign_record> updated,
                              std::span<const std::string> removed) override {
    std::lock_guard lock(_mutex);
    return in_transaction([&]() -> result<void> {
      for (const auto& r : updated) {
        sqlite3_stmt* s = _st.upsert_campaign.get();
        statement_use use(s);
        int rc = bind_text(s, 1, r.id);
        if (rc == SQLITE_OK) {
          rc = bind_blob(s, 2, r.blob);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_bind_int64(s, 3, r.updated_ms);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_step(s);
        }
        if (rc != SQLITE_DONE) {
          return db_error(_db.get(), rc, "saving campaign state");
        }
      }
      for (const auto& id : removed) {
        sqlite3_stmt* s = _st.delete_campaign.get();
        statement_use use(s);
        int rc = bind_text(s, 1, id);
        if (rc == SQLITE_OK) {
          rc = sqlite3_step(s);
        }
        if (rc != SQLITE_DONE) {
          return db_error(_db.get(), rc, "deleting campaign state");
        }
      }
      return {};
    });
  }

  result<std::size_t> scan_campaigns(const std::function<void(const campaign_record&)>& visit) override {
    std::lock_guard lock(_mutex);
    statement_use use(_st.scan_campaigns.get());
    sqlite3_stmt* s = use.get();
    campaign_record r;
    std::size_t visited = 0;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) {
        return visited;
      }
      if (rc != SQLITE_ROW) {
        return db_error(_db.get(), rc, "scanning campaign state");
      }
      read_text(s, 0, r.id);
      read_blob(s, 1, r.blob);
      r.updated_ms = sqlite3_column_int64(s, 2);
      visit(r);
      ++visited;
    }
  }

  result<std::size_t> delete_states_older_than(std::int64_t cutoff_ms) override {
    std::lock_guard lock(_mutex);
    return delete_before(_st.delete_old_states.get(), cutoff_ms, "deleting old subscriber state");
  }

  result<void> append_decisions(std::span<const decision_record> records) override {
    std::lock_guard lock(_mutex);
    return in_transaction([&]() -> result<void> {
      sqlite3_stmt* s = _st.insert_decision.get();
      for (const auto& d : records) {
        statement_use use(s);
        int rc = sqlite3_bind_int64(s, 1, d.at_ms);
        if (rc == SQLITE_OK) {
          rc = bind_text(s, 2, d.subscriber);
        }
        if (rc == SQLITE_OK) {
          rc = bind_text(s, 3, d.queue_id);
        }
        if (rc == SQLITE_OK) {
          rc = bind_text(s, 4, d.action);
        }
        if (rc == SQLITE_OK) {
          rc = bind_text(s, 5, d.level);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_bind_double(s, 6, d.suspicion);
        }
        if (rc == SQLITE_OK) {
          rc = bind_text(s, 7, d.reasons);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_bind_int(s, 8, d.observe_only ? 1 : 0);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_step(s);
        }
        if (rc != SQLITE_DONE) {
          return db_error(_db.get(), rc, "appending to the decision log");
        }
      }
      return {};
    });
  }

  result<std::vector<decision_record>> recent_decisions(std::string_view subscriber, std::size_t limit) override {
    std::lock_guard lock(_mutex);
    statement_use use(_st.recent_decisions.get());
    sqlite3_stmt* s = use.get();
    const auto bound_limit = static_cast<sqlite3_int64>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(std::numeric_limits<sqlite3_int64>::max())));
    int rc = bind_text(s, 1, subscriber);
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int64(s, 2, bound_limit);
    }
    if (rc != SQLITE_OK) {
      return db_error(_db.get(), rc, "reading the decision log");
    }
    std::vector<decision_record> out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      decision_record& d = out.emplace_back();
      d.at_ms = sqlite3_column_int64(s, 0);
      d.subscriber.assign(subscriber);
      read_text(s, 1, d.queue_id);
      read_text(s, 2, d.action);
      read_text(s, 3, d.level);
      d.suspicion = sqlite3_column_double(s, 4);
      read_text(s, 5, d.reasons);
      d.observe_only = sqlite3_column_int(s, 6) != 0;
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, "reading the decision log");
    }
    return out;
  }

  result<std::size_t> delete_decisions_older_than(std::int64_t cutoff_ms) override {
    std::lock_guard lock(_mutex);
    return delete_before(_st.delete_old_decisions.get(), cutoff_ms, "pruning the decision log");
  }

  result<void> record_held(std::string_view subscriber, std::string_view queue_id, std::int64_t at_ms) override {
    std::lock_guard lock(_mutex);
    statement_use use(_st.upsert_held.get());
    sqlite3_stmt* s = use.get();
    int rc = bind_text(s, 1, queue_id);
    if (rc == SQLITE_OK) {
      rc = bind_text(s, 2, subscriber);
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int64(s, 3, at_ms);
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, "recording a held message");
    }
    return {};
  }

  result<std::vector<held_record>> held_for(std::string_view subscriber) override {
    std::lock_guard lock(_mutex);
    statement_use use(_st.held_for.get());
    sqlite3_stmt* s = use.get();
    int rc = bind_text(s, 1, subscriber);
    if (rc != SQLITE_OK) {
      return db_error(_db.get(), rc, "reading held messages");
    }
    std::vector<held_record> out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      held_record& h = out.emplace_back();
      h.subscriber.assign(subscriber);
      read_text(s, 0, h.queue_id);
      h.held_ms = sqlite3_column_int64(s, 1);
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, "reading held messages");
    }
    return out;
  }

  result<void> mark_released(std::string_view queue_id, std::int64_t at_ms) override {
    std::lock_guard lock(_mutex);
    statement_use use(_st.release_held.get());
    sqlite3_stmt* s = use.get();
    int rc = bind_text(s, 1, queue_id);
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int64(s, 2, at_ms);
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, "marking a held message released");
    }
    if (sqlite3_changes64(_db.get()) == 0) {
      return make_error(errc::not_found, "store: no held message with that queue id");
    }
    return {};
  }

  result<std::size_t> delete_released_older_than(std::int64_t cutoff_ms) override {
    std::lock_guard lock(_mutex);
    return delete_before(_st.delete_old_released.get(), cutoff_ms, "pruning released held messages");
  }

 private:
  // Runs `body` between BEGIN IMMEDIATE and COMMIT, rolling back when it or the commit fails, so a
  // batch is written whole or not at all. Caller holds _mutex.
  template <class Body>
  result<void> in_transaction(Body&& body) {
    {
      statement_use begin(_st.begin.get());
      if (const int rc = sqlite3_step(begin.get()); rc != SQLITE_DONE) {
        return db_error(_db.get(), rc, "starting a transaction");
      }
    }
    result<void> done = body();
    if (done) {
      statement_use commit(_st.commit.get());
      if (const int rc = sqlite3_step(commit.get()); rc != SQLITE_DONE) {
        done = db_error(_db.get(), rc, "committing a transaction");
      }
    }
    if (!done && sqlite3_get_autocommit(_db.get()) == 0) {
      statement_use rollback(_st.rollback.get());
      sqlite3_step(rollback.get());
    }
    return done;
  }

  // Caller holds _mutex.
  result<std::size_t> delete_before(sqlite3_stmt* statement, std::int64_t cutoff_ms, std::string_view what) {
    statement_use use(statement);
    int rc = sqlite3_bind_int64(statement, 1, cutoff_ms);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(statement);
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, what);
    }
    return static_cast<std::size_t>(sqlite3_changes64(_db.get()));
  }

  std::mutex _mutex;
  db_ptr _db;  // declared before _st: statements are finalised before the connection closes
  statements _st;
};

}  // namespace

result<std::unique_ptr<state_store>> open_sqlite(const std::string& path, const sqlite_options& options) {
  sqlite3* raw = nullptr;
  // NOMUTEX: sqlite_store serialises all use of the connection with its own mutex.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK) {
    return db_error(db.get(), rc, "opening '" + path + "'");
  }
  const auto busy_ms = std::min<std::int64_t>(options.busy_timeout.count(), std::numeric_limits<int>::max());
  sqlite3_busy_timeout(db.get(), static_cast<int>(std::max<std::int64_t>(busy_ms, 0)));

  if (auto version = check_ownership(db.get(), path); !version) {
    return version.error();
  }
  // An in-memory or temporary database has no file name and no WAL; it keeps its "memory" journal.
  const char* file = sqlite3_db_filename(db.get(), "main");
  if (file != nullptr && *file != '\0') {
    auto mode = prepare(db.get(), "PRAGMA journal_mode = WAL");
    if (!mode) {
      return mode.error();
    }
    const int step = sqlite3_step(mode->get());
    if (step != SQLITE_ROW) {
      return db_error(db.get(), step, "switching '" + path + "' to WAL mode");
    }
    const auto* got = reinterpret_cast<const char*>(sqlite3_column_text(mode->get(), 0));
    if (got == nullptr || std::strcmp(got, "wal") != 0) {
      return make_error(errc::io, "store: '" + path + "' cannot use WAL mode (journal mode stays '" +
                                      std::string(got != nullptr ? got : "") + "'); is it on a network file system?");
    }
  }
  if (auto sync = exec(db.get(), "PRAGMA synchronous = NORMAL", "setting synchronous mode"); !sync) {
    return sync.error();
  }
  if (auto migrated = migrate(db.get()); !migrated) {
    return migrated.error();
  }
  auto st = prepare_all(db.get());
  if (!st) {
    return st.error();
  }
  return std::unique_ptr<state_store>(std::make_unique<sqlite_store>(std::move(db), std::move(*st)));
}

}  // namespace pw::store
