#include "store/sqlite_store.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>
#include <utility>

#include "sqlite/db.hpp"

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

using sqlite::bind_text;
using sqlite::db_ptr;
using sqlite::read_text;
using sqlite::statement_ptr;
using sqlite::statement_use;

constexpr std::string_view owner = "store";

constexpr sqlite::schema store_schema{owner, portwarden_application_id, migrations, ""};

error db_error(sqlite3* db, int rc, std::string_view what) { return sqlite::db_error(owner, db, rc, what); }

// As sqlite::bind_text: an empty span binds an empty BLOB, not the NULL the NOT NULL columns refuse.
int bind_blob(sqlite3_stmt* s, int index, std::span<const std::byte> bytes) {
  const void* data = bytes.data() != nullptr ? static_cast<const void*>(bytes.data()) : "";
  return sqlite3_bind_blob64(s, index, data, bytes.size(), SQLITE_STATIC);
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
    auto s = sqlite::prepare(owner, db, sql);
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
      for (const auto& r : records) {
        if (auto saved =
                upsert_snapshot(_st.upsert_state.get(), r.subscriber, r.blob, r.updated_ms, "saving subscriber state");
            !saved) {
          return saved;
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
    return scan_snapshots(_st.scan_states.get(), &state_record::subscriber, visit, "scanning subscriber state");
  }

  result<void> save_campaigns(std::span<const campaign_record> updated, std::span<const std::string> removed) override {
    std::lock_guard lock(_mutex);
    return in_transaction([&]() -> result<void> {
      for (const auto& r : updated) {
        if (auto saved =
                upsert_snapshot(_st.upsert_campaign.get(), r.id, r.blob, r.updated_ms, "saving campaign state");
            !saved) {
          return saved;
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
    return scan_snapshots(_st.scan_campaigns.get(), &campaign_record::id, visit, "scanning campaign state");
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
  // Subscriber and campaign snapshots are both (key, blob, updated_ms) rows: one upsert with a reused
  // statement. Caller holds _mutex.
  result<void> upsert_snapshot(sqlite3_stmt* s, std::string_view key, std::span<const std::byte> blob,
                               std::int64_t updated_ms, std::string_view what) {
    statement_use use(s);
    int rc = bind_text(s, 1, key);
    if (rc == SQLITE_OK) {
      rc = bind_blob(s, 2, blob);
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int64(s, 3, updated_ms);
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, what);
    }
    return {};
  }

  // Visits every row of a scan statement. One record is reused for every row: its buffers keep their
  // capacity, so a restore of a million subscribers does not allocate per row. Caller holds _mutex.
  template <class Record>
  result<std::size_t> scan_snapshots(sqlite3_stmt* s, std::string Record::*key,
                                     const std::function<void(const Record&)>& visit, std::string_view what) {
    statement_use use(s);
    Record r;
    std::size_t visited = 0;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) {
        return visited;
      }
      if (rc != SQLITE_ROW) {
        return db_error(_db.get(), rc, what);
      }
      read_text(s, 0, r.*key);
      read_blob(s, 1, r.blob);
      r.updated_ms = sqlite3_column_int64(s, 2);
      visit(r);
      ++visited;
    }
  }

  // Runs `body` between BEGIN IMMEDIATE and COMMIT, rolling back when it or the commit fails, so a
  // batch is written whole or not at all. Caller holds _mutex.
  template <class Body>
  result<void> in_transaction(Body&& body) {
    return sqlite::in_transaction(owner, _db.get(), _st.begin.get(), _st.commit.get(), _st.rollback.get(),
                                  std::forward<Body>(body));
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
  auto db = sqlite::open_database(path, store_schema, options.busy_timeout);
  if (!db) {
    return db.error();
  }
  auto st = prepare_all(db->get());
  if (!st) {
    return st.error();
  }
  return std::unique_ptr<state_store>(std::make_unique<sqlite_store>(std::move(*db), std::move(*st)));
}

}  // namespace pw::store
