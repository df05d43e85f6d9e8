#include "sqlite/db.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace pw::sqlite {
namespace {

// One integer from a statement such as "PRAGMA user_version".
result<std::int64_t> query_int(std::string_view owner, sqlite3* db, const char* sql, std::string_view what) {
  auto s = prepare(owner, db, sql);
  if (!s) {
    return s.error();
  }
  const int rc = sqlite3_step(s->get());
  if (rc != SQLITE_ROW) {
    return db_error(owner, db, rc, what);
  }
  return sqlite3_column_int64(s->get(), 0);
}

error foreign_database(const schema& s, const std::string& path) {
  return make_error(errc::corrupt, std::string(s.owner) + ": '" + path +
                                       "' is a SQLite database of another application" + std::string(s.foreign_hint) +
                                       "; refusing to change it");
}

std::int64_t newest_version(const schema& s) { return static_cast<std::int64_t>(s.migrations.size()); }

// Refuses a database this build must not write to.
result<void> check_ownership(sqlite3* db, const schema& s, const std::string& path) {
  auto app_id = query_int(s.owner, db, "PRAGMA application_id", "reading the database header of '" + path + "'");
  if (!app_id) {
    return app_id.error();
  }
  auto version = query_int(s.owner, db, "PRAGMA user_version", "reading the schema version");
  if (!version) {
    return version.error();
  }
  if (*app_id == 0) {
    // A fresh file has no id yet; a file with tables but no id was made by someone else.
    auto objects = query_int(s.owner, db, "SELECT count(*) FROM sqlite_schema", "reading the schema");
    if (!objects) {
      return objects.error();
    }
    if (*objects != 0 || *version != 0) {
      return foreign_database(s, path);
    }
  } else if (*app_id != s.application_id) {
    return foreign_database(s, path);
  }
  if (*version > newest_version(s)) {
    return make_error(errc::corrupt, std::string(s.owner) + ": '" + path + "' has schema version " +
                                         std::to_string(*version) + ", newer than the " +
                                         std::to_string(newest_version(s)) +
                                         " this build of portwarden understands; upgrade portwarden");
  }
  return {};
}

result<void> use_wal(sqlite3* db, const schema& s, const std::string& path) {
  auto mode = prepare(s.owner, db, "PRAGMA journal_mode = WAL");
  if (!mode) {
    return mode.error();
  }
  const int step = sqlite3_step(mode->get());
  if (step != SQLITE_ROW) {
    return db_error(s.owner, db, step, "switching '" + path + "' to WAL mode");
  }
  const auto* got = reinterpret_cast<const char*>(sqlite3_column_text(mode->get(), 0));
  if (got == nullptr || std::strcmp(got, "wal") != 0) {
    return make_error(errc::io, std::string(s.owner) + ": '" + path + "' cannot use WAL mode (journal mode stays '" +
                                    std::string(got != nullptr ? got : "") + "'); is it on a network file system?");
  }
  return {};
}

// Brings the schema to the newest version in one transaction. The version is read again inside the
// write transaction, so two processes opening a fresh file at once migrate it only once.
result<void> migrate(sqlite3* db, const schema& s) {
  if (auto begun = exec(s.owner, db, "BEGIN IMMEDIATE", "starting the schema migration"); !begun) {
    return begun;
  }
  auto run = [db, &s]() -> result<void> {
    auto version = query_int(s.owner, db, "PRAGMA user_version", "reading the schema version");
    if (!version) {
      return version.error();
    }
    if (*version > newest_version(s)) {
      return make_error(errc::corrupt, std::string(s.owner) + ": schema version " + std::to_string(*version) +
                                           " is newer than this build of portwarden understands");
    }
    for (auto v = *version; v < newest_version(s); ++v) {
      const std::string what = "migrating the schema from version " + std::to_string(v);
      if (auto step = exec(s.owner, db, s.migrations[static_cast<std::size_t>(v)], what); !step) {
        return step;
      }
    }
    const std::string stamp = "PRAGMA application_id = " + std::to_string(s.application_id) +
                              "; PRAGMA user_version = " + std::to_string(newest_version(s));
    return exec(s.owner, db, stamp.c_str(), "recording the schema version");
  };
  if (auto done = run(); !done) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return done;
  }
  return exec(s.owner, db, "COMMIT", "committing the schema migration");
}

}  // namespace

errc code_of(int rc) noexcept {
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return errc::not_found;
  }
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return errc::corrupt;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return errc::unavailable;
    case SQLITE_CONSTRAINT:
      return errc::invalid_input;
    default:
      return errc::io;
  }
}

error db_error(std::string_view owner, sqlite3* db, int rc, std::string_view what) {
  std::string message(owner);
  message.append(": ");
  message.append(what);
  message.append(": ");
  message.append(db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return make_error(code_of(rc), std::move(message));
}

result<db_ptr> open_database(const std::string& path, const schema& s, std::chrono::milliseconds busy_timeout,
                             std::span<const char* const> pragmas) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the owner serialises all use of the connection with its own mutex.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK) {
    return db_error(s.owner, db.get(), rc, "opening '" + path + "'");
  }
  const auto busy_ms = std::min<std::int64_t>(busy_timeout.count(), std::numeric_limits<int>::max());
  sqlite3_busy_timeout(db.get(), static_cast<int>(std::max<std::int64_t>(busy_ms, 0)));

  if (auto owned = check_ownership(db.get(), s, path); !owned) {
    return owned.error();
  }
  // An in-memory or temporary database has no file name and no WAL; it keeps its "memory" journal.
  const char* file = sqlite3_db_filename(db.get(), "main");
  if (file != nullptr && *file != '\0') {
    if (auto wal = use_wal(db.get(), s, path); !wal) {
      return wal.error();
    }
  }
  if (auto sync = exec(s.owner, db.get(), "PRAGMA synchronous = NORMAL", "setting synchronous mode"); !sync) {
    return sync.error();
  }
  for (const char* pragma : pragmas) {
    if (auto set = exec(s.owner, db.get(), pragma, "running '" + std::string(pragma) + "'"); !set) {
      return set.error();
    }
  }
  if (auto migrated = migrate(db.get(), s); !migrated) {
    return migrated.error();
  }
  return db;
}

result<statement_ptr> prepare(std::string_view owner, sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    return db_error(owner, db, rc, "preparing a statement");
  }
  return statement_ptr(raw);
}

result<void> exec(std::string_view owner, sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return db_error(owner, db, rc, what);
  }
  return {};
}

int bind_text(sqlite3_stmt* s, int index, std::string_view text) noexcept {
  const char* data = text.data() != nullptr ? text.data() : "";
  return sqlite3_bind_text64(s, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

std::string text_at(sqlite3_stmt* s, int column) {
  std::string out;
  read_text(s, column, out);
  return out;
}

void read_text(sqlite3_stmt* s, int column, std::string& out) {
  // sqlite3_column_text before sqlite3_column_bytes: the text conversion may change the byte count.
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(s, column));
  out.assign(text != nullptr ? text : "", text != nullptr ? size : 0);
}

}  // namespace pw::sqlite
