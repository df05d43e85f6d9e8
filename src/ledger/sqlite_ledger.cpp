#include "ledger/sqlite_ledger.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>
#include <utility>

#include "sqlite/db.hpp"

namespace pw::ledger {
namespace {

// "PWLG" in the database header marks the file as Portwarden's ledger. The state store uses "PWDN":
// pointing the ledger at the state store's file (or any other database) is refused, not migrated.
constexpr int ledger_application_id = 0x50574C47;

// migrations[i] takes a database from schema version i to i + 1. Append, never edit: a deployed
// database has run the earlier entries already.
//
// Indexes follow the queries: list_cases pages by id descending within one index range for each
// filter (cases_by_status, _by_subscriber, _by_assignee, cases_unresolved), and its total counts the
// same range. Each of these indexes also carries the other filter columns, so any combination of
// filters is checked inside the index (no table row is read for a row that does not match) and every
// count is answered from an index alone. cases_one_unresolved makes "at most one unresolved case per subscriber" a rule
// of the file itself and serves unresolved_case_for. Case and exemption ids use AUTOINCREMENT because people and the
// audit log refer to them ("case:17"): an id is never handed out twice. Child tables reference cases with ON DELETE
// CASCADE so a later retention step can prune a case with everything it owns. No column holds message content (subject,
// body, recipients); ledger_test checks the column names.
constexpr std::array<const char*, sqlite_ledger_schema_version> migrations = {
    R"sql(
CREATE TABLE subscriber (
  id TEXT PRIMARY KEY NOT NULL,
  plan TEXT NOT NULL,
  contact TEXT NOT NULL,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE subscriber_address (
  subscriber TEXT NOT NULL REFERENCES subscriber(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  address TEXT NOT NULL,
  PRIMARY KEY (subscriber, position)
) WITHOUT ROWID;
CREATE TABLE cases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscriber TEXT NOT NULL,
  status TEXT NOT NULL,
  level TEXT NOT NULL,
  summary TEXT NOT NULL,
  assignee TEXT NOT NULL,
  opened_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  resolved_ms INTEGER,
  notices_sent INTEGER NOT NULL,
  last_notice_ms INTEGER,
  monitoring_until_ms INTEGER
);
CREATE INDEX cases_by_status ON cases(status, id, assignee, subscriber);
CREATE INDEX cases_by_subscriber ON cases(subscriber, id, status, assignee);
CREATE INDEX cases_by_assignee ON cases(assignee, id, status, subscriber);
CREATE INDEX cases_unresolved ON cases(id, status, assignee, subscriber) WHERE status != 'resolved';
CREATE UNIQUE INDEX cases_one_unresolved ON cases(subscriber) WHERE status != 'resolved';
CREATE TABLE case_event (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX case_event_by_case ON case_event(case_id, kind, at_ms);
CREATE TABLE held_message (
  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  queue_id TEXT NOT NULL,
  held_ms INTEGER NOT NULL,
  released_ms INTEGER,
  PRIMARY KEY (case_id, queue_id)
) WITHOUT ROWID;
CREATE TABLE notice (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  subscriber TEXT NOT NULL,
  kind TEXT NOT NULL,
  contact TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  delivered INTEGER NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX notice_by_case ON notice(case_id, id);
CREATE TABLE help_token (
  token_hash TEXT PRIMARY KEY NOT NULL,
  case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  subscriber TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  used_ms INTEGER
) WITHOUT ROWID;
CREATE INDEX help_token_by_case ON help_token(case_id);
CREATE TABLE exemption (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscriber TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decision TEXT NOT NULL,
  requested_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  expires_ms INTEGER
);
CREATE INDEX exemption_by_subscriber ON exemption(subscriber, id);
CREATE INDEX exemption_by_status ON exemption(status, id);
CREATE TABLE desk_user (
  name TEXT PRIMARY KEY NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  disabled INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE desk_session (
  token_hash TEXT PRIMARY KEY NOT NULL,
  user_name TEXT NOT NULL REFERENCES desk_user(name) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX desk_session_by_user ON desk_session(user_name);
CREATE INDEX desk_session_by_expiry ON desk_session(expires_ms);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  allowed INTEGER NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_by_actor ON audit(actor, id);
)sql",
};

using sqlite::db_ptr;
using sqlite::statement_ptr;
using sqlite::statement_use;
using sqlite::text_at;

constexpr std::string_view owner = "ledger";

constexpr sqlite::schema ledger_schema{owner, ledger_application_id, migrations, " (or Portwarden's state store)"};

error db_error(sqlite3* db, int rc, std::string_view what) { return sqlite::db_error(owner, db, rc, what); }

error corrupt_name(std::string_view column, std::string_view value) {
  std::string message = "ledger: unknown ";
  message.append(column);
  message.append(" '");
  message.append(value);
  message.append("' in the database; written by a newer portwarden or damaged");
  return make_error(errc::corrupt, std::move(message));
}

// The exclusive upper end of a range of TEXT keys; empty means none. Bound as a zero-length BLOB then,
// because SQLite sorts every TEXT value before every BLOB: one statement serves both cases and the
// comparison stays an index range.
struct text_upper_bound {
  std::optional<std::string> text;
};

// The smallest string above every string starting with `prefix`: drop trailing 0xff bytes, then
// increment the last byte. None when the prefix is empty or all 0xff.
text_upper_bound prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
    end.pop_back();
  }
  if (end.empty()) {
    return {};
  }
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return {std::move(end)};
}

// SQLITE_STATIC binding (sqlite::bind_text) is safe: every bound value outlives the step that reads it.
int bind_value(sqlite3_stmt* s, int index, std::string_view text) { return sqlite::bind_text(s, index, text); }
int bind_value(sqlite3_stmt* s, int index, std::int64_t v) { return sqlite3_bind_int64(s, index, v); }
int bind_value(sqlite3_stmt* s, int index, bool v) { return sqlite3_bind_int(s, index, v ? 1 : 0); }
int bind_value(sqlite3_stmt* s, int index, const std::optional<std::int64_t>& v) {
  return v ? sqlite3_bind_int64(s, index, *v) : sqlite3_bind_null(s, index);
}
int bind_value(sqlite3_stmt* s, int index, const text_upper_bound& b) {
  return b.text ? bind_value(s, index, std::string_view(*b.text)) : sqlite3_bind_zeroblob(s, index, 0);
}

// Binds ?1, ?2, ... in order; stops at the first failure.
template <class... Args>
int bind_all([[maybe_unused]] sqlite3_stmt* s, const Args&... args) {
  [[maybe_unused]] int index = 0;
  int rc = SQLITE_OK;
  ((rc = rc == SQLITE_OK ? bind_value(s, ++index, args) : rc), ...);
  return rc;
}

// Binds a named parameter if the statement has it (the list_cases statements differ in which they use).
template <class T>
int bind_named(sqlite3_stmt* s, const char* name, const T& value) {
  const int index = sqlite3_bind_parameter_index(s, name);
  return index == 0 ? SQLITE_OK : bind_value(s, index, value);
}

std::optional<std::int64_t> optional_int_at(sqlite3_stmt* s, int column) {
  if (sqlite3_column_type(s, column) == SQLITE_NULL) {
    return std::nullopt;
  }
  return sqlite3_column_int64(s, column);
}

std::int64_t page_rows(const page_request& p) { return static_cast<std::int64_t>(std::min(p.limit, max_page_rows)); }

// Keyset paging binds "id < before"; no before_id means from the newest.
std::int64_t before_of(const page_request& p) { return p.before_id.value_or(std::numeric_limits<std::int64_t>::max()); }

constexpr std::optional<std::int64_t> no_time;

// --- row readers: the column order is the one of the matching *_columns list ---

constexpr const char* case_columns =
    "id, subscriber, status, level, summary, assignee, opened_ms, updated_ms, resolved_ms, notices_sent, "
    "last_notice_ms, monitoring_until_ms";

result<case_row> read_case(sqlite3_stmt* s) {
  case_row c;
  c.id = sqlite3_column_int64(s, 0);
  c.subscriber = text_at(s, 1);
  const std::string status = text_at(s, 2);
  const auto parsed = parse_status(status);
  if (!parsed) {
    return corrupt_name("case status", status);
  }
  c.status = *parsed;
  c.level = text_at(s, 3);
  c.summary = text_at(s, 4);
  c.assignee = text_at(s, 5);
  c.opened_ms = sqlite3_column_int64(s, 6);
  c.updated_ms = sqlite3_column_int64(s, 7);
  c.resolved_ms = optional_int_at(s, 8);
  c.notices_sent = sqlite3_column_int64(s, 9);
  c.last_notice_ms = optional_int_at(s, 10);
  c.monitoring_until_ms = optional_int_at(s, 11);
  return c;
}

result<case_event> read_event(sqlite3_stmt* s) {
  return case_event{sqlite3_column_int64(s, 0),
                    sqlite3_column_int64(s, 1),
                    sqlite3_column_int64(s, 2),
                    text_at(s, 3),
                    text_at(s, 4),
                    text_at(s, 5)};
}

result<notice_row> read_notice(sqlite3_stmt* s) {
  return notice_row{
      sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),      text_at(s, 2), text_at(s, 3), text_at(s, 4),
      sqlite3_column_int64(s, 5), sqlite3_column_int64(s, 6) != 0, text_at(s, 7)};
}

result<help_token_row> read_help_token(sqlite3_stmt* s) {
  return help_token_row{text_at(s, 0),
                        sqlite3_column_int64(s, 1),
                        text_at(s, 2),
                        sqlite3_column_int64(s, 3),
                        sqlite3_column_int64(s, 4),
                        optional_int_at(s, 5)};
}

constexpr const char* exemption_columns =
    "id, subscriber, status, reason, decided_by, decision, requested_ms, updated_ms, expires_ms";

result<exemption_row> read_exemption(sqlite3_stmt* s) {
  exemption_row e;
  e.id = sqlite3_column_int64(s, 0);
  e.subscriber = text_at(s, 1);
  const std::string status = text_at(s, 2);
  const auto parsed = parse_exemption_status(status);
  if (!parsed) {
    return corrupt_name("exemption status", status);
  }
  e.status = *parsed;
  e.reason = text_at(s, 3);
  e.decided_by = text_at(s, 4);
  e.decision = text_at(s, 5);
  e.requested_ms = sqlite3_column_int64(s, 6);
  e.updated_ms = sqlite3_column_int64(s, 7);
  e.expires_ms = optional_int_at(s, 8);
  return e;
}

result<user_row> read_user(sqlite3_stmt* s) {
  user_row u;
  u.name = text_at(s, 0);
  u.password_hash = text_at(s, 1);
  const std::string name = text_at(s, 2);
  const auto parsed = parse_role(name);
  if (!parsed) {
    return corrupt_name("role", name);
  }
  u.user_role = *parsed;
  u.created_ms = sqlite3_column_int64(s, 3);
  u.disabled = sqlite3_column_int64(s, 4) != 0;
  return u;
}

result<session_row> read_session(sqlite3_stmt* s) {
  return session_row{text_at(s, 0), text_at(s, 1), text_at(s, 2), sqlite3_column_int64(s, 3),
                     sqlite3_column_int64(s, 4)};
}

result<audit_row> read_audit(sqlite3_stmt* s) {
  return audit_row{sqlite3_column_int64(s, 0),
                   sqlite3_column_int64(s, 1),
                   text_at(s, 2),
                   text_at(s, 3),
                   text_at(s, 4),
                   sqlite3_column_int64(s, 5) != 0,
                   text_at(s, 6)};
}

struct statements {
  statement_ptr begin_read;
  statement_ptr begin_write;
  statement_ptr commit;
  statement_ptr rollback;
  statement_ptr upsert_subscriber;
  statement_ptr delete_addresses;
  statement_ptr insert_address;
  statement_ptr find_subscriber;
  statement_ptr search_subscribers;
  statement_ptr all_subscribers;
  statement_ptr insert_case;
  statement_ptr find_case;
  statement_ptr unresolved_for;
  statement_ptr last_resolved_for;
  statement_ptr update_case;
  statement_ptr unresolved_cases;
  statement_ptr count_cases;
  statement_ptr max_case_id;
  statement_ptr insert_event;
  statement_ptr events_for;
  statement_ptr count_events;
  statement_ptr add_held;
  statement_ptr held_all;
  statement_ptr held_unreleased;
  statement_ptr release_held;
  statement_ptr insert_notice;
  statement_ptr notices_for;
  statement_ptr insert_help_token;
  statement_ptr find_help_token;
  statement_ptr use_help_token;
  statement_ptr insert_exemption;
  statement_ptr update_exemption;
  statement_ptr find_exemption;
  statement_ptr exemptions_for;
  statement_ptr list_exemptions;
  statement_ptr list_exemptions_by_status;
  statement_ptr insert_user;
  statement_ptr update_user;
  statement_ptr find_user;
  statement_ptr list_users;
  statement_ptr insert_session;
  statement_ptr find_session;
  statement_ptr delete_session;
  statement_ptr delete_expired_sessions;
  statement_ptr insert_audit;
  statement_ptr list_audit;
  statement_ptr list_audit_by_actor;
};

// Subscribers come back joined with their addresses, one result row per address (or one with a NULL
// address when there is none), ordered by id then position.
constexpr const char* subscriber_join =
    "SELECT s.id, s.plan, s.contact, s.created_ms, a.address FROM %s AS s "
    "LEFT JOIN subscriber_address a ON a.subscriber = s.id ORDER BY s.id, a.position";

std::string subscriber_query(const std::string& source) {
  std::string sql = subscriber_join;
  sql.replace(sql.find("%s"), 2, source);
  return sql;
}

result<statements> prepare_all(sqlite3* db) {
  statements st;
  const std::string c = case_columns;
  const std::string e = exemption_columns;
  const std::string find_subscriber = subscriber_query("(SELECT * FROM subscriber WHERE id = ?1)");
  // ?1 inclusive lower end, ?2 exclusive upper end (text_upper_bound), ?3 limit.
  const std::string search_subscribers =
      subscriber_query("(SELECT * FROM subscriber WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3)");
  const std::string all_subscribers = subscriber_query("subscriber");
  const std::string insert_case =
      "INSERT INTO cases(subscriber, status, level, summary, assignee, opened_ms, updated_ms, resolved_ms, "
      "notices_sent, last_notice_ms, monitoring_until_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  const std::string find_case = "SELECT " + c + " FROM cases WHERE id = ?1";
  // `status != 'resolved'` is written exactly as in the partial indexes' WHERE so the planner uses them.
  const std::string unresolved_for = "SELECT " + c + " FROM cases WHERE subscriber = ?1 AND status != 'resolved'";
  const std::string last_resolved_for = "SELECT " + c +
                                        " FROM cases WHERE subscriber = ?1 AND status = 'resolved' "
                                        "ORDER BY resolved_ms DESC, id DESC LIMIT 1";
  const std::string update_case =
      "UPDATE cases SET subscriber = ?2, status = ?3, level = ?4, summary = ?5, assignee = ?6, opened_ms = ?7, "
      "updated_ms = ?8, resolved_ms = ?9, notices_sent = ?10, last_notice_ms = ?11, monitoring_until_ms = ?12 "
      "WHERE id = ?1";
  const std::string unresolved_cases = "SELECT " + c + " FROM cases WHERE status != 'resolved' ORDER BY id";
  const std::string find_exemption = "SELECT " + e + " FROM exemption WHERE id = ?1";
  const std::string exemptions_for = "SELECT " + e + " FROM exemption WHERE subscriber = ?1 ORDER BY id";
  const std::string list_exemptions = "SELECT " + e + " FROM exemption WHERE id < ?1 ORDER BY id DESC LIMIT ?2";
  const std::string list_exemptions_by_status =
      "SELECT " + e + " FROM exemption WHERE status = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";

  const std::pair<statement_ptr*, const char*> all[] = {
      {&st.begin_read, "BEGIN"},
      {&st.begin_write, "BEGIN IMMEDIATE"},
      {&st.commit, "COMMIT"},
      {&st.rollback, "ROLLBACK"},
      {&st.upsert_subscriber,
       "INSERT INTO subscriber(id, plan, contact, created_ms) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET "
       "plan = excluded.plan, contact = excluded.contact, created_ms = excluded.created_ms"},
      {&st.delete_addresses, "DELETE FROM subscriber_address WHERE subscriber = ?1"},
      {&st.insert_address, "INSERT INTO subscriber_address(subscriber, position, address) VALUES(?1, ?2, ?3)"},
      {&st.find_subscriber, find_subscriber.c_str()},
      {&st.search_subscribers, search_subscribers.c_str()},
      {&st.all_subscribers, all_subscribers.c_str()},
      {&st.insert_case, insert_case.c_str()},
      {&st.find_case, find_case.c_str()},
      {&st.unresolved_for, unresolved_for.c_str()},
      {&st.last_resolved_for, last_resolved_for.c_str()},
      {&st.update_case, update_case.c_str()},
      {&st.unresolved_cases, unresolved_cases.c_str()},
      // One index range per unresolved status, the unresolved total from the partial index and the
      // resolved ones as the rest of count(*), which SQLite answers from page headers: a GROUP BY
      // walks every case (6 ms at 100,000). One statement, so one snapshot.
      {&st.count_cases,
       "SELECT (SELECT count(*) FROM cases WHERE status = ?1), (SELECT count(*) FROM cases WHERE status = ?2), "
       "(SELECT count(*) FROM cases WHERE status = ?3), (SELECT count(*) FROM cases WHERE status = ?4), "
       "(SELECT count(*) FROM cases WHERE status != 'resolved'), (SELECT count(*) FROM cases)"},
      {&st.max_case_id, "SELECT coalesce(max(id), 0) FROM cases"},
      {&st.insert_event, "INSERT INTO case_event(case_id, at_ms, kind, actor, detail) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&st.events_for, "SELECT id, case_id, at_ms, kind, actor, detail FROM case_event WHERE case_id = ?1 ORDER BY id"},
      {&st.count_events,
       "SELECT count(*) FROM cases c JOIN case_event e ON e.case_id = c.id "
       "WHERE c.subscriber = ?1 AND e.kind = ?2 AND e.at_ms >= ?3"},
      // Holding a queue id again after its release (a re-hold) makes it unreleased; the first hold time stays.
      {&st.add_held,
       "INSERT INTO held_message(case_id, queue_id, held_ms, released_ms) VALUES(?1, ?2, ?3, NULL) "
       "ON CONFLICT(case_id, queue_id) DO UPDATE SET released_ms = NULL"},
      {&st.held_all, "SELECT queue_id FROM held_message WHERE case_id = ?1 ORDER BY held_ms, queue_id"},
      {&st.held_unreleased,
       "SELECT queue_id FROM held_message WHERE case_id = ?1 AND released_ms IS NULL ORDER BY held_ms, queue_id"},
      {&st.release_held, "UPDATE held_message SET released_ms = ?2 WHERE case_id = ?1 AND released_ms IS NULL"},
      {&st.insert_notice,
       "INSERT INTO notice(case_id, subscriber, kind, contact, at_ms, delivered, error) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&st.notices_for,
       "SELECT id, case_id, subscriber, kind, contact, at_ms, delivered, error FROM notice WHERE case_id = ?1 "
       "ORDER BY id"},
      {&st.insert_help_token,
       "INSERT INTO help_token(token_hash, case_id, subscriber, created_ms, expires_ms, used_ms) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&st.find_help_token,
       "SELECT token_hash, case_id, subscriber, created_ms, expires_ms, used_ms FROM help_token WHERE token_hash = ?1"},
      // One use: only the first of two concurrent uses changes the row.
      {&st.use_help_token, "UPDATE help_token SET used_ms = ?2 WHERE token_hash = ?1 AND used_ms IS NULL"},
      {&st.insert_exemption,
       "INSERT INTO exemption(subscriber, status, reason, decided_by, decision, requested_ms, updated_ms, expires_ms) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&st.update_exemption,
       "UPDATE exemption SET subscriber = ?2, status = ?3, reason = ?4, decided_by = ?5, decision = ?6, "
       "requested_ms = ?7, updated_ms = ?8, expires_ms = ?9 WHERE id = ?1"},
      {&st.find_exemption, find_exemption.c_str()},
      {&st.exemptions_for, exemptions_for.c_str()},
      {&st.list_exemptions, list_exemptions.c_str()},
      {&st.list_exemptions_by_status, list_exemptions_by_status.c_str()},
      {&st.insert_user,
       "INSERT INTO desk_user(name, password_hash, role, created_ms, disabled) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&st.update_user,
       "UPDATE desk_user SET password_hash = ?2, role = ?3, created_ms = ?4, disabled = ?5 WHERE name = ?1"},
      {&st.find_user, "SELECT name, password_hash, role, created_ms, disabled FROM desk_user WHERE name = ?1"},
      {&st.list_users, "SELECT name, password_hash, role, created_ms, disabled FROM desk_user ORDER BY name"},
      {&st.insert_session,
       "INSERT INTO desk_session(token_hash, user_name, csrf_token, created_ms, expires_ms) "
       "VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&st.find_session,
       "SELECT token_hash, user_name, csrf_token, created_ms, expires_ms FROM desk_session WHERE token_hash = ?1"},
      {&st.delete_session, "DELETE FROM desk_session WHERE token_hash = ?1"},
      {&st.delete_expired_sessions, "DELETE FROM desk_session WHERE expires_ms <= ?1"},
      {&st.insert_audit,
       "INSERT INTO audit(at_ms, actor, action, target, allowed, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&st.list_audit,
       "SELECT id, at_ms, actor, action, target, allowed, detail FROM audit WHERE id < ?1 ORDER BY id DESC LIMIT ?2"},
      {&st.list_audit_by_actor,
       "SELECT id, at_ms, actor, action, target, allowed, detail FROM audit WHERE actor = ?1 AND id < ?2 "
       "ORDER BY id DESC LIMIT ?3"},
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

// list_cases filters: each combination is its own statement, prepared on first use and kept, so each
// gets the plan that uses its index.
//
// A subscriber prefix is a range of subscribers, not of ids, so no index yields its cases in id order.
// Two plans exist and counts taken first pick one: walk the subscriber range and sort its `total`
// matches by id (cost ~ total), or walk ids downwards through the other filters' index (or the table)
// until a page is full (cost ~ (limit + 1) * walked / total, `walked` being the other filters' matches
// or all cases, when the prefix's cases are spread over the ids, as subscriber names and case ids
// are unrelated). SQLite's planner cannot tell the two apart with bound parameters: it took the id
// walk for a prefix of 55 cases among 100,000 (9 ms instead of 0.1 ms). `prefix_by_range` marks the
// first plan.
enum case_filter_bits : unsigned {
  by_status = 1,
  by_prefix = 2,
  by_assignee = 4,
  unresolved = 8,
  prefix_by_range = 16,
};
constexpr unsigned case_filter_shapes = 32;

bool walk_prefix_range(std::int64_t total, std::int64_t page_rows, std::int64_t walked) {
  const double t = static_cast<double>(total);
  return t * t <= static_cast<double>(page_rows + 1) * static_cast<double>(walked);
}

std::string case_where(unsigned shape, bool paged) {
  std::string where;
  auto add = [&where](const char* term) {
    where.append(where.empty() ? " WHERE " : " AND ");
    where.append(term);
  };
  if ((shape & by_status) != 0) {
    add("status = :status");
  }
  if ((shape & by_prefix) != 0) {
    // A unary + keeps the planner from driving the id-order plan by the subscriber index.
    add((shape & prefix_by_range) != 0 || !paged ? "subscriber >= :prefix AND subscriber < :prefix_end"
                                                 : "+subscriber >= :prefix AND +subscriber < :prefix_end");
  }
  if ((shape & by_assignee) != 0) {
    add("assignee = :assignee");
  }
  if ((shape & unresolved) != 0) {
    add("status != 'resolved'");
  }
  if (paged) {
    add("id < :before");
  }
  return where;
}

class sqlite_ledger final : public ledger {
 public:
  sqlite_ledger(db_ptr db, statements st) : _db(std::move(db)), _st(std::move(st)) {}

  // --- subscribers ---

  result<void> upsert_subscriber(const subscriber_row& s) override {
    std::lock_guard lock(_mutex);
    return in_transaction(_st.begin_write.get(), [&]() -> result<void> {
      if (auto r = run(_st.upsert_subscriber.get(), "saving a subscriber", s.id, s.plan, s.contact, s.created_ms); !r) {
        return r;
      }
      if (auto r = run(_st.delete_addresses.get(), "saving a subscriber's addresses", s.id); !r) {
        return r;
      }
      for (std::size_t i = 0; i < s.addresses.size(); ++i) {
        if (auto r = run(_st.insert_address.get(), "saving a subscriber's addresses", s.id,
                         static_cast<std::int64_t>(i), s.addresses[i]);
            !r) {
          return r;
        }
      }
      return {};
    });
  }

  lookup<subscriber_row> find_subscriber(std::string_view id) override {
    std::lock_guard lock(_mutex);
    auto found = subscribers(_st.find_subscriber.get(), "finding a subscriber", id);
    if (!found) {
      return found.error();
    }
    if (found->empty()) {
      return not_found;
    }
    return std::move(found->front());
  }

  result<std::vector<subscriber_row>> search_subscribers(std::string_view prefix, std::string_view after_id,
                                                         std::size_t limit) override {
    std::lock_guard lock(_mutex);
    // The smallest string after `after_id` is `after_id` followed by a NUL byte (TEXT compares bytes,
    // length last), so "after" becomes an inclusive lower end and the search one index range.
    std::string low(prefix);
    if (!after_id.empty()) {
      std::string after(after_id);
      after.push_back('\0');
      low = std::max(low, after);
    }
    const auto rows = static_cast<std::int64_t>(std::min(limit, max_page_rows));
    return subscribers(_st.search_subscribers.get(), "searching subscribers", low, prefix_end(prefix), rows);
  }

  result<std::vector<subscriber_row>> all_subscribers() override {
    std::lock_guard lock(_mutex);
    return subscribers(_st.all_subscribers.get(), "reading all subscribers");
  }

  // --- cases ---

  result<open_result> open_case(std::string_view subscriber, std::string_view level, std::string_view summary,
                                std::int64_t at_ms) override {
    std::lock_guard lock(_mutex);
    open_result out;
    // BEGIN IMMEDIATE takes the write lock before the look-up, so another process cannot open a case
    // between our look-up and our insert; the partial UNIQUE index would refuse it anyway.
    auto done = in_transaction(_st.begin_write.get(), [&]() -> result<void> {
      auto existing = one(_st.unresolved_for.get(), "finding the subscriber's open case", read_case, subscriber);
      if (existing.failed()) {
        return existing.error();
      }
      if (existing.found()) {
        out.row = std::move(*existing);
        return {};
      }
      case_row& c = out.row;
      c.subscriber.assign(subscriber);
      c.status = case_status::open;
      c.level.assign(level);
      c.summary.assign(summary);
      c.opened_ms = at_ms;
      c.updated_ms = at_ms;
      auto id = insert(_st.insert_case.get(), "opening a case", c.subscriber, status_name(c.status), c.level, c.summary,
                       c.assignee, c.opened_ms, c.updated_ms, c.resolved_ms, c.notices_sent, c.last_notice_ms,
                       c.monitoring_until_ms);
      if (!id) {
        return id.error();
      }
      c.id = *id;
      auto event = insert(_st.insert_event.get(), "recording the opened event", c.id, at_ms, std::string_view("opened"),
                          std::string_view("system"), summary);
      if (!event) {
        return event.error();
      }
      out.opened = true;
      return {};
    });
    if (!done) {
      return done.error();
    }
    return out;
  }

  lookup<case_row> find_case(std::int64_t id) override {
    std::lock_guard lock(_mutex);
    return one(_st.find_case.get(), "finding a case", read_case, id);
  }

  lookup<case_row> unresolved_case_for(std::string_view subscriber) override {
    std::lock_guard lock(_mutex);
    return one(_st.unresolved_for.get(), "finding the subscriber's unresolved case", read_case, subscriber);
  }

  lookup<case_row> last_resolved_case_for(std::string_view subscriber) override {
    std::lock_guard lock(_mutex);
    return one(_st.last_resolved_for.get(), "finding the subscriber's last resolved case", read_case, subscriber);
  }

  result<void> update_case(const case_row& c) override {
    const std::string_view status = status_name(c.status);
    if (status.empty()) {
      return make_error(errc::invalid_input, "ledger: updating a case: unknown case status");
    }
    std::lock_guard lock(_mutex);
    auto changed =
        changes(_st.update_case.get(), "updating a case", c.id, c.subscriber, status, c.level, c.summary, c.assignee,
                c.opened_ms, c.updated_ms, c.resolved_ms, c.notices_sent, c.last_notice_ms, c.monitoring_until_ms);
    if (!changed) {
      return changed.error();
    }
    if (*changed == 0) {
      return make_error(errc::not_found, "ledger: updating a case: no case " + std::to_string(c.id));
    }
    return {};
  }

  result<case_page> list_cases(const case_filter& f, const page_request& p) override {
    std::string_view status;
    unsigned shape = 0;
    if (f.status) {
      status = status_name(*f.status);
      if (status.empty()) {
        return make_error(errc::invalid_input, "ledger: listing cases: unknown case status");
      }
      shape |= by_status;
    }
    if (!f.subscriber_prefix.empty()) {
      shape |= by_prefix;
    }
    if (!f.assignee.empty()) {
      shape |= by_assignee;
    }
    if (f.unresolved_only) {
      shape |= unresolved;
    }
    const text_upper_bound prefix_bound = prefix_end(f.subscriber_prefix);
    auto bind_filter = [&](sqlite3_stmt* s) {
      int rc = bind_named(s, ":status", status);
      if (rc == SQLITE_OK) {
        rc = bind_named(s, ":prefix", std::string_view(f.subscriber_prefix));
      }
      if (rc == SQLITE_OK) {
        rc = bind_named(s, ":prefix_end", prefix_bound);
      }
      if (rc == SQLITE_OK) {
        rc = bind_named(s, ":assignee", std::string_view(f.assignee));
      }
      return rc;
    };
    auto count = [&](unsigned count_shape) -> result<std::int64_t> {
      auto statement = case_statement(_case_counts, count_shape, false);
      if (!statement) {
        return statement.error();
      }
      sqlite3_stmt* s = *statement;
      statement_use use(s);
      int rc = bind_filter(s);
      if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
      }
      if (rc != SQLITE_ROW) {
        return db_error(_db.get(), rc, "counting cases");
      }
      return sqlite3_column_int64(s, 0);
    };

    std::lock_guard lock(_mutex);
    case_page page;
    const std::int64_t rows = page_rows(p);
    // Page and total from one snapshot, so the total is the number of rows the pages walk through.
    auto done = in_transaction(_st.begin_read.get(), [&]() -> result<void> {
      auto total = count(shape);
      if (!total) {
        return total.error();
      }
      page.total = *total;
      unsigned page_shape = shape;
      if ((shape & by_prefix) != 0) {
        // The cases an id walk goes through: the other filters' matches, or every case.
        auto walked = (shape & ~by_prefix) != 0 ? count(shape & ~by_prefix) : max_case_id();
        if (!walked) {
          return walked.error();
        }
        if (walk_prefix_range(page.total, rows, *walked)) {
          page_shape |= prefix_by_range;
        }
      }
      auto statement = case_statement(_case_pages, page_shape, true);
      if (!statement) {
        return statement.error();
      }
      sqlite3_stmt* s = *statement;
      statement_use use(s);
      int rc = bind_filter(s);
      if (rc == SQLITE_OK) {
        rc = bind_named(s, ":before", before_of(p));
      }
      if (rc == SQLITE_OK) {
        // One row more than asked tells whether another page follows.
        rc = bind_named(s, ":limit", rows + 1);
      }
      if (rc != SQLITE_OK) {
        return db_error(_db.get(), rc, "listing cases");
      }
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (static_cast<std::int64_t>(page.rows.size()) == rows) {
          page.next_before_id = page.rows.back().id;
          break;
        }
        auto c = read_case(s);
        if (!c) {
          return c.error();
        }
        page.rows.push_back(std::move(*c));
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return db_error(_db.get(), rc, "listing cases");
      }
      return {};
    });
    if (!done) {
      return done.error();
    }
    return page;
  }

  result<std::vector<case_row>> unresolved_cases() override {
    std::lock_guard lock(_mutex);
    return rows_of(_st.unresolved_cases.get(), "reading unresolved cases", read_case);
  }

  result<count_by_status> count_cases() override {
    std::lock_guard lock(_mutex);
    sqlite3_stmt* s = _st.count_cases.get();
    statement_use use(s);
    int rc = bind_all(s, status_name(case_status::open), status_name(case_status::notified),
                      status_name(case_status::monitoring), status_name(case_status::escalated));
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
    }
    if (rc != SQLITE_ROW) {
      return db_error(_db.get(), rc, "counting cases");
    }
    count_by_status out;
    out.open = sqlite3_column_int64(s, 0);
    out.notified = sqlite3_column_int64(s, 1);
    out.monitoring = sqlite3_column_int64(s, 2);
    out.escalated = sqlite3_column_int64(s, 3);
    const std::int64_t unresolved_total = sqlite3_column_int64(s, 4);
    if (unresolved_total != out.open + out.notified + out.monitoring + out.escalated) {
      return make_error(errc::corrupt,
                        "ledger: counting cases: a case has an unknown status; written by a newer portwarden or "
                        "damaged");
    }
    out.resolved = sqlite3_column_int64(s, 5) - unresolved_total;
    return out;
  }

  result<std::int64_t> append_event(const case_event& e) override {
    std::lock_guard lock(_mutex);
    return insert(_st.insert_event.get(), "appending a case event", e.case_id, e.at_ms, e.kind, e.actor, e.detail);
  }

  result<std::vector<case_event>> events_for(std::int64_t case_id) override {
    std::lock_guard lock(_mutex);
    return rows_of(_st.events_for.get(), "reading a case's events", read_event, case_id);
  }

  result<std::int64_t> count_events(std::string_view subscriber, std::string_view kind,
                                    std::int64_t since_ms) override {
    std::lock_guard lock(_mutex);
    sqlite3_stmt* s = _st.count_events.get();
    statement_use use(s);
    int rc = bind_all(s, subscriber, kind, since_ms);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
    }
    if (rc != SQLITE_ROW) {
      return db_error(_db.get(), rc, "counting case events");
    }
    return sqlite3_column_int64(s, 0);
  }

  // --- held messages ---

  result<void> add_held(std::int64_t case_id, std::string_view queue_id, std::int64_t at_ms) override {
    std::lock_guard lock(_mutex);
    return run(_st.add_held.get(), "recording a held message", case_id, queue_id, at_ms);
  }

  result<std::vector<std::string>> held_queue_ids(std::int64_t case_id, bool unreleased_only) override {
    std::lock_guard lock(_mutex);
    sqlite3_stmt* s = unreleased_only ? _st.held_unreleased.get() : _st.held_all.get();
    return rows_of(
        s, "reading held messages", [](sqlite3_stmt* row) -> result<std::string> { return text_at(row, 0); }, case_id);
  }

  result<void> mark_held_released(std::int64_t case_id, std::int64_t at_ms) override {
    std::lock_guard lock(_mutex);
    return run(_st.release_held.get(), "marking held messages released", case_id, at_ms);
  }

  // --- notices ---

  result<std::int64_t> record_notice(const notice_row& n) override {
    std::lock_guard lock(_mutex);
    return insert(_st.insert_notice.get(), "recording a notice", n.case_id, n.subscriber, n.kind, n.to, n.at_ms,
                  n.delivered, n.error);
  }

  result<std::vector<notice_row>> notices_for(std::int64_t case_id) override {
    std::lock_guard lock(_mutex);
    return rows_of(_st.notices_for.get(), "reading a case's notices", read_notice, case_id);
  }

  // --- self-help tokens ---

  result<void> add_help_token(const help_token_row& t) override {
    std::lock_guard lock(_mutex);
    return run(_st.insert_help_token.get(), "saving a self-help token", t.token_hash, t.case_id, t.subscriber,
               t.created_ms, t.expires_ms, t.used_ms);
  }

  lookup<help_token_row> find_help_token(std::string_view token_hash) override {
    std::lock_guard lock(_mutex);
    return one(_st.find_help_token.get(), "finding a self-help token", read_help_token, token_hash);
  }

  result<void> mark_help_token_used(std::string_view token_hash, std::int64_t at_ms) override {
    std::lock_guard lock(_mutex);
    auto changed = changes(_st.use_help_token.get(), "using a self-help token", token_hash, at_ms);
    if (!changed) {
      return changed.error();
    }
    if (*changed == 1) {
      return {};
    }
    // Tokens are never deleted, so a token that did not change was either never issued or used before.
    auto existing = one(_st.find_help_token.get(), "finding a self-help token", read_help_token, token_hash);
    if (existing.failed()) {
      return existing.error();
    }
    if (existing.missing()) {
      return make_error(errc::not_found, "ledger: no such self-help token");
    }
    return make_error(errc::invalid_input, "ledger: the self-help token was already used");
  }

  // --- exemptions ---

  result<std::int64_t> add_exemption(const exemption_row& e) override {
    const std::string_view status = exemption_status_name(e.status);
    if (status.empty()) {
      return make_error(errc::invalid_input, "ledger: adding an exemption: unknown exemption status");
    }
    std::lock_guard lock(_mutex);
    return insert(_st.insert_exemption.get(), "adding an exemption", e.subscriber, status, e.reason, e.decided_by,
                  e.decision, e.requested_ms, e.updated_ms, e.expires_ms);
  }

  result<void> update_exemption(const exemption_row& e) override {
    const std::string_view status = exemption_status_name(e.status);
    if (status.empty()) {
      return make_error(errc::invalid_input, "ledger: updating an exemption: unknown exemption status");
    }
    std::lock_guard lock(_mutex);
    auto changed = changes(_st.update_exemption.get(), "updating an exemption", e.id, e.subscriber, status, e.reason,
                           e.decided_by, e.decision, e.requested_ms, e.updated_ms, e.expires_ms);
    if (!changed) {
      return changed.error();
    }
    if (*changed == 0) {
      return make_error(errc::not_found, "ledger: updating an exemption: no exemption " + std::to_string(e.id));
    }
    return {};
  }

  lookup<exemption_row> find_exemption(std::int64_t id) override {
    std::lock_guard lock(_mutex);
    return one(_st.find_exemption.get(), "finding an exemption", read_exemption, id);
  }

  result<std::vector<exemption_row>> exemptions_for(std::string_view subscriber) override {
    std::lock_guard lock(_mutex);
    return rows_of(_st.exemptions_for.get(), "reading a subscriber's exemptions", read_exemption, subscriber);
  }

  result<std::vector<exemption_row>> list_exemptions(std::optional<exemption_status> status,
                                                     const page_request& p) override {
    std::lock_guard lock(_mutex);
    if (!status) {
      return rows_of(_st.list_exemptions.get(), "listing exemptions", read_exemption, before_of(p), page_rows(p));
    }
    const std::string_view name = exemption_status_name(*status);
    if (name.empty()) {
      return make_error(errc::invalid_input, "ledger: listing exemptions: unknown exemption status");
    }
    return rows_of(_st.list_exemptions_by_status.get(), "listing exemptions", read_exemption, name, before_of(p),
                   page_rows(p));
  }

  // --- users, sessions, audit ---

  result<void> add_user(const user_row& u) override {
    const std::string_view role = role_name(u.user_role);
    if (role.empty()) {
      return make_error(errc::invalid_input, "ledger: adding a user: unknown role");
    }
    std::lock_guard lock(_mutex);
    auto added = run(_st.insert_user.get(), "adding a user", u.name, u.password_hash, role, u.created_ms, u.disabled);
    if (!added && added.error().code == errc::invalid_input) {
      return make_error(errc::invalid_input, "ledger: adding a user: the name is taken");
    }
    return added;
  }

  result<void> update_user(const user_row& u) override {
    const std::string_view role = role_name(u.user_role);
    if (role.empty()) {
      return make_error(errc::invalid_input, "ledger: updating a user: unknown role");
    }
    std::lock_guard lock(_mutex);
    auto changed =
        changes(_st.update_user.get(), "updating a user", u.name, u.password_hash, role, u.created_ms, u.disabled);
    if (!changed) {
      return changed.error();
    }
    if (*changed == 0) {
      return make_error(errc::not_found, "ledger: updating a user: no such user");
    }
    return {};
  }

  lookup<user_row> find_user(std::string_view name) override {
    std::lock_guard lock(_mutex);
    return one(_st.find_user.get(), "finding a user", read_user, name);
  }

  result<std::vector<user_row>> list_users() override {
    std::lock_guard lock(_mutex);
    return rows_of(_st.list_users.get(), "listing users", read_user);
  }

  result<void> add_session(const session_row& s) override {
    std::lock_guard lock(_mutex);
    return run(_st.insert_session.get(), "saving a session", s.token_hash, s.user, s.csrf_token, s.created_ms,
               s.expires_ms);
  }

  lookup<session_row> find_session(std::string_view token_hash) override {
    std::lock_guard lock(_mutex);
    return one(_st.find_session.get(), "finding a session", read_session, token_hash);
  }

  result<void> delete_session(std::string_view token_hash) override {
    std::lock_guard lock(_mutex);
    // Deleting a session that is already gone (logged out twice, expired and swept) is not an error.
    return run(_st.delete_session.get(), "deleting a session", token_hash);
  }

  result<std::size_t> delete_sessions_expired(std::int64_t now_ms) override {
    std::lock_guard lock(_mutex);
    auto changed = changes(_st.delete_expired_sessions.get(), "deleting expired sessions", now_ms);
    if (!changed) {
      return changed.error();
    }
    return static_cast<std::size_t>(*changed);
  }

  result<std::int64_t> append_audit(const audit_row& a) override {
    std::lock_guard lock(_mutex);
    return insert(_st.insert_audit.get(), "appending to the audit log", a.at_ms, a.actor, a.action, a.target, a.allowed,
                  a.detail);
  }

  result<std::vector<audit_row>> list_audit(std::string_view actor, const page_request& p) override {
    std::lock_guard lock(_mutex);
    if (actor.empty()) {
      return rows_of(_st.list_audit.get(), "reading the audit log", read_audit, before_of(p), page_rows(p));
    }
    return rows_of(_st.list_audit_by_actor.get(), "reading the audit log", read_audit, actor, before_of(p),
                   page_rows(p));
  }

 private:
  // The helpers below run one prepared statement with ?1, ?2, ... bound to `args`. Caller holds _mutex.

  template <class... Args>
  result<void> run(sqlite3_stmt* s, std::string_view what, const Args&... args) {
    statement_use use(s);
    int rc = bind_all(s, args...);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, what);
    }
    return {};
  }

  // Rows changed by an UPDATE or DELETE.
  template <class... Args>
  result<std::int64_t> changes(sqlite3_stmt* s, std::string_view what, const Args&... args) {
    if (auto done = run(s, what, args...); !done) {
      return done.error();
    }
    return sqlite3_changes64(_db.get());
  }

  // The id of the row an INSERT added.
  template <class... Args>
  result<std::int64_t> insert(sqlite3_stmt* s, std::string_view what, const Args&... args) {
    if (auto done = run(s, what, args...); !done) {
      return done.error();
    }
    return sqlite3_last_insert_rowid(_db.get());
  }

  template <class Read, class... Args>
  auto rows_of(sqlite3_stmt* s, std::string_view what, Read read, const Args&... args)
      -> result<std::vector<std::decay_t<decltype(read(s).value())>>> {
    std::vector<std::decay_t<decltype(read(s).value())>> out;
    statement_use use(s);
    int rc = bind_all(s, args...);
    if (rc != SQLITE_OK) {
      return db_error(_db.get(), rc, what);
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      auto row = read(s);
      if (!row) {
        return row.error();
      }
      out.push_back(std::move(*row));
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, what);
    }
    return out;
  }

  template <class Read, class... Args>
  auto one(sqlite3_stmt* s, std::string_view what, Read read, const Args&... args)
      -> lookup<std::decay_t<decltype(read(s).value())>> {
    statement_use use(s);
    int rc = bind_all(s, args...);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
    }
    if (rc == SQLITE_DONE) {
      return not_found;
    }
    if (rc != SQLITE_ROW) {
      return db_error(_db.get(), rc, what);
    }
    auto row = read(s);
    if (!row) {
      return row.error();
    }
    return std::move(*row);
  }

  // Runs a subscriber_join statement, folding its one-row-per-address result into subscribers.
  template <class... Args>
  result<std::vector<subscriber_row>> subscribers(sqlite3_stmt* s, std::string_view what, const Args&... args) {
    std::vector<subscriber_row> out;
    statement_use use(s);
    int rc = bind_all(s, args...);
    if (rc != SQLITE_OK) {
      return db_error(_db.get(), rc, what);
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::string id = text_at(s, 0);
      if (out.empty() || out.back().id != id) {
        subscriber_row& row = out.emplace_back();
        row.id = std::move(id);
        row.plan = text_at(s, 1);
        row.contact = text_at(s, 2);
        row.created_ms = sqlite3_column_int64(s, 3);
      }
      if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
        out.back().addresses.push_back(text_at(s, 4));
      }
    }
    if (rc != SQLITE_DONE) {
      return db_error(_db.get(), rc, what);
    }
    return out;
  }

  // Runs `body` between `begin` (BEGIN or BEGIN IMMEDIATE) and COMMIT, rolling back when it or the
  // commit fails, so a call happens whole or not at all. Caller holds _mutex.
  template <class Body>
  result<void> in_transaction(sqlite3_stmt* begin, Body&& body) {
    return sqlite::in_transaction(owner, _db.get(), begin, _st.commit.get(), _st.rollback.get(),
                                  std::forward<Body>(body));
  }

  // Every case there is: ids are handed out once and cases are not deleted. Caller holds _mutex.
  result<std::int64_t> max_case_id() {
    sqlite3_stmt* s = _st.max_case_id.get();
    statement_use use(s);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
      return db_error(_db.get(), rc, "listing cases");
    }
    return sqlite3_column_int64(s, 0);
  }

  // The list_cases statement for one filter shape, prepared on first use. Caller holds _mutex.
  result<sqlite3_stmt*> case_statement(std::array<statement_ptr, case_filter_shapes>& cache, unsigned shape,
                                       bool paged) {
    statement_ptr& slot = cache[shape];
    if (!slot) {
      const char* table = (shape & prefix_by_range) != 0 ? " FROM cases INDEXED BY cases_by_subscriber" : " FROM cases";
      const std::string sql = paged ? "SELECT " + std::string(case_columns) + table + case_where(shape, true) +
                                          " ORDER BY id DESC LIMIT :limit"
                                    : "SELECT count(*) FROM cases" + case_where(shape, false);
      auto s = sqlite::prepare(owner, _db.get(), sql.c_str());
      if (!s) {
        return s.error();
      }
      slot = std::move(*s);
    }
    return slot.get();
  }

  std::mutex _mutex;
  db_ptr _db;  // declared before the statements: they are finalised before the connection closes
  statements _st;
  std::array<statement_ptr, case_filter_shapes> _case_pages;
  std::array<statement_ptr, case_filter_shapes> _case_counts;
};

}  // namespace

result<std::unique_ptr<ledger>> open_sqlite_ledger(const std::string& path, std::chrono::milliseconds busy_timeout) {
  static constexpr std::array<const char*, 2> pragmas = {
      // SQLite's default page cache is 2 MiB; 100,000 cases with their indexes are about 30 MiB, and a
      // count that walks an index range read through the OS page cache took 2–4 ms instead of 0.1 ms
      // (bench/ledger_bench.cpp). The cache grows only as pages are read.
      "PRAGMA cache_size = -65536",
      // Per connection and off by default in SQLite: a case's events, notices and tokens must name a
      // case that exists, a session a user that exists.
      "PRAGMA foreign_keys = ON",
  };
  auto db = sqlite::open_database(path, ledger_schema, busy_timeout, pragmas);
  if (!db) {
    return db.error();
  }
  auto st = prepare_all(db->get());
  if (!st) {
    return st.error();
  }
  return std::unique_ptr<ledger>(std::make_unique<sqlite_ledger>(std::move(*db), std::move(*st)));
}

}  // namespace pw::ledger
