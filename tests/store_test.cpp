// Tests for src/store: the SQLite backend of state_store — round trips, the tri-state lookup (missing
// versus failed), persistence across reopen, schema versioning, atomic batches and the privacy of the
// file's contents. SQLite is used directly only to inspect or damage the file from outside.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_store.hpp"
#include "store/state_store.hpp"
#include "support/temp_dir.hpp"

namespace pw::store {
namespace {

namespace fs = std::filesystem;

using pw::test::temp_dir;

std::unique_ptr<state_store> open_or_die(const std::string& path, sqlite_options options = {}) {
  auto store = open_sqlite(path, options);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) {
    out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs one SQL statement on the file from a separate connection; returns the first column of the
// first row as text ("" when there is none).
std::string sql_on_file(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string out;
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

decision_record decision(std::int64_t at, std::string subscriber, std::string action) {
  return decision_record{at,
                         std::move(subscriber),
                         "4QxYz1",
                         std::move(action),
                         "watch",
                         0.62,
                         "41 messages to 37 new domains in 10 min; own baseline 3/day",
                         false};
}

TEST(SqliteStore, StateRoundTripKeepsEveryByte) {
  auto store = open_or_die(":memory:");
  const std::string odd_id("user\0with nul\xff", 15);
  std::vector<state_record> in{
      {"alice@example.net", bytes_of("\x01\x02\x00\x03"), 1000},
      {odd_id, {}, -5},
      {"ip:192.0.2.7", bytes_of(std::string(300, '\xab')), 1'700'000'000'000},
  };
  in[0].blob.push_back(std::byte{0});
  ASSERT_TRUE(store->save_states(in));
  for (const auto& r : in) {
    auto got = store->load_state(r.subscriber);
    ASSERT_TRUE(got.found());
    EXPECT_EQ(*got, r);
  }
}

TEST(SqliteStore, UnknownSubscriberIsMissingNotFailed) {
  auto store = open_or_die(":memory:");
  auto got = store->load_state("nobody");
  EXPECT_TRUE(got.missing());
  EXPECT_FALSE(got.failed());
  EXPECT_FALSE(got.found());
}

TEST(SqliteStore, SaveReplacesAndLaterDuplicateInBatchWins) {
  auto store = open_or_die(":memory:");
  ASSERT_TRUE(store->save_states(std::vector<state_record>{{"a", bytes_of("old"), 1}}));
  ASSERT_TRUE(store->save_states(std::vector<state_record>{{"a", bytes_of("mid"), 2}, {"a", bytes_of("new"), 3}}));
  auto got = store->load_state("a");
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got->blob, bytes_of("new"));
  EXPECT_EQ(got->updated_ms, 3);
}

TEST(SqliteStore, ScanVisitsEveryRecordAndDeleteByAge) {
  auto store = open_or_die(":memory:");
  std::vector<state_record> in;
  for (int i = 0; i < 50; ++i) {
    in.push_back({"s" + std::to_string(i), bytes_of(std::to_string(i * i)), i * 100});
  }
  ASSERT_TRUE(store->save_states(in));
  std::vector<state_record> seen;
  auto n = store->scan_states([&](const state_record& r) { seen.push_back(r); });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 50U);
  auto by_id = [](const state_record& a, const state_record& b) { return a.subscriber < b.subscriber; };
  std::sort(seen.begin(), seen.end(), by_id);
  std::sort(in.begin(), in.end(), by_id);
  EXPECT_EQ(seen, in);

  // updated_ms 0..900 are older than 1000: ten records.
  auto deleted = store->delete_states_older_than(1000);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, 10U);
  EXPECT_TRUE(store->load_state("s9").missing());
  EXPECT_TRUE(store->load_state("s10").found());
}

TEST(SqliteStore, DecisionLogNewestFirstPerSubscriberWithLimitAndPruning) {
  auto store = open_or_die(":memory:");
  std::vector<decision_record> in{decision(100, "a", "accept"), decision(300, "a", "defer"), decision(200, "b", "tag"),
                                  decision(300, "a", "hold")};
  in[1].observe_only = true;
  ASSERT_TRUE(store->append_decisions(in));
  auto recent = store->recent_decisions("a", 10);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 3U);
  EXPECT_EQ((*recent)[0], in[3]);  // same at_ms as in[1], appended later
  EXPECT_EQ((*recent)[1], in[1]);
  EXPECT_EQ((*recent)[2], in[0]);
  auto two = store->recent_decisions("a", 2);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->size(), 2U);
  auto none = store->recent_decisions("a", 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto pruned = store->delete_decisions_older_than(250);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 2U);
  EXPECT_EQ(store->recent_decisions("a", 10)->size(), 2U);
  EXPECT_TRUE(store->recent_decisions("b", 10)->empty());
}

TEST(SqliteStore, HeldMessagesAreRememberedUntilReleased) {
  auto store = open_or_die(":memory:");
  ASSERT_TRUE(store->record_held("a", "4Qb2", 20));
  ASSERT_TRUE(store->record_held("a", "4Qa1", 10));
  ASSERT_TRUE(store->record_held("b", "4Qc3", 30));
  auto held = store->held_for("a");
  ASSERT_TRUE(held);
  ASSERT_EQ(held->size(), 2U);
  EXPECT_EQ((*held)[0], (held_record{"a", "4Qa1", 10, std::nullopt}));
  EXPECT_EQ((*held)[1], (held_record{"a", "4Qb2", 20, std::nullopt}));

  ASSERT_TRUE(store->mark_released("4Qa1", 50));
  ASSERT_TRUE(store->mark_released("4Qa1", 60));  // second release keeps the first time
  EXPECT_EQ(store->held_for("a")->size(), 1U);
  auto unknown = store->mark_released("never-held", 70);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, errc::not_found);

  // Released at 50: pruned by a cutoff after it, not before it; held messages are never pruned.
  EXPECT_EQ(*store->delete_released_older_than(50), 0U);
  EXPECT_EQ(*store->delete_released_older_than(51), 1U);
  EXPECT_EQ(*store->delete_released_older_than(1'000'000), 0U);
  EXPECT_EQ(store->held_for("b")->size(), 1U);

  // A reused queue id is held again, for its new subscriber.
  ASSERT_TRUE(store->mark_released("4Qc3", 80));
  ASSERT_TRUE(store->record_held("c", "4Qc3", 90));
  EXPECT_TRUE(store->held_for("b")->empty());
  ASSERT_EQ(store->held_for("c")->size(), 1U);
}

TEST(SqliteStore, ReopenedFileHasEverythingAndUsesWal) {
  temp_dir dir;
  const std::string path = dir / "state.db";
  {
    auto store = open_or_die(path);
    ASSERT_TRUE(store->save_states(std::vector<state_record>{{"a", bytes_of("blob"), 7}}));
    ASSERT_TRUE(store->append_decisions(std::vector<decision_record>{decision(5, "a", "tag")}));
    ASSERT_TRUE(store->record_held("a", "4Qz", 9));
    EXPECT_EQ(sql_on_file(path, "PRAGMA journal_mode"), "wal");
  }
  auto store = open_or_die(path);
  auto got = store->load_state("a");
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got->blob, bytes_of("blob"));
  EXPECT_EQ(store->recent_decisions("a", 5)->size(), 1U);
  EXPECT_EQ(store->held_for("a")->size(), 1U);
}

TEST(SqliteStore, EmptyFileIsMigratedToTheCurrentSchema) {
  temp_dir dir;
  const std::string path = dir / "empty.db";
  std::ofstream(path).close();
  ASSERT_TRUE(fs::exists(path));
  ASSERT_EQ(fs::file_size(path), 0U);
  {
    auto store = open_or_die(path);
    ASSERT_TRUE(store->save_states(std::vector<state_record>{{"a", {}, 1}}));
  }
  EXPECT_EQ(sql_on_file(path, "PRAGMA user_version"), std::to_string(sqlite_schema_version));
  EXPECT_EQ(sql_on_file(path, "SELECT count(*) FROM subscriber_state"), "1");
}

TEST(SqliteStore, CampaignsAreUpsertedDeletedAndScannedInOneTransaction) {
  auto store = open_or_die(":memory:");
  std::vector<campaign_record> first{{"c-0001", bytes_of("one"), 10}, {"c-0002", bytes_of("two"), 11}};
  ASSERT_TRUE(store->save_campaigns(first, {}));
  std::vector<campaign_record> second{{"c-0002", bytes_of("two, later"), 20}, {"c-0003", bytes_of("three"), 21}};
  const std::vector<std::string> gone{"c-0001", "c-never-stored"};
  ASSERT_TRUE(store->save_campaigns(second, gone));
  std::map<std::string, campaign_record> seen;
  auto n = store->scan_campaigns([&](const campaign_record& r) { seen[r.id] = r; });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2U);
  EXPECT_EQ(seen.count("c-0001"), 0U);
  EXPECT_EQ(seen["c-0002"], second[0]);
  EXPECT_EQ(seen["c-0003"], second[1]);
}

TEST(SqliteStore, VersionOneDatabaseIsMigratedKeepingItsData) {
  temp_dir dir;
  const std::string path = dir / "v1.db";
  {
    auto store = open_or_die(path);
    ASSERT_TRUE(store->save_states(std::vector<state_record>{{"alice", bytes_of("state"), 7}}));
  }
  // Make the file look exactly like one written by schema version 1.
  sql_on_file(path, "DROP TABLE campaign_state");
  sql_on_file(path, "PRAGMA user_version = 1");
  {
    auto store = open_or_die(path);
    auto alice = store->load_state("alice");
    ASSERT_TRUE(alice.found());
    EXPECT_EQ(alice->blob, bytes_of("state"));
    ASSERT_TRUE(store->save_campaigns(std::vector<campaign_record>{{"c-1", bytes_of("x"), 1}}, {}));
  }
  EXPECT_EQ(sql_on_file(path, "PRAGMA user_version"), std::to_string(sqlite_schema_version));
}

TEST(SqliteStore, NewerSchemaIsRefusedWithAClearError) {
  temp_dir dir;
  const std::string path = dir / "newer.db";
  open_or_die(path).reset();
  sql_on_file(path, "PRAGMA user_version = " + std::to_string(sqlite_schema_version + 1));
  auto store = open_sqlite(path, {});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, errc::corrupt);
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
}

TEST(SqliteStore, AnotherApplicationsDatabaseIsRefusedAndLeftAlone) {
  temp_dir dir;
  const std::string path = dir / "foreign.db";
  sql_on_file(path, "CREATE TABLE contacts(name TEXT)");
  auto store = open_sqlite(path, {});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, errc::corrupt);
  EXPECT_EQ(sql_on_file(path, "SELECT count(*) FROM sqlite_schema"), "1");
}

TEST(SqliteStore, NotADatabaseFailsToOpen) {
  temp_dir dir;
  const std::string path = dir / "garbage.db";
  std::ofstream(path) << std::string(8192, 'x');
  auto store = open_sqlite(path, {});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, errc::corrupt);
}

TEST(SqliteStore, UncreatablePathFailsToOpen) {
  temp_dir dir;
  // A regular file where a directory should be: refused even for root, unlike a chmod'ed directory.
  const std::string blocker = dir / "not-a-directory";
  std::ofstream(blocker) << "x";
  auto store = open_sqlite(blocker + "/state.db", {});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, errc::io);
}

TEST(SqliteStore, DamagedTablePagesMakeLookupsFailNotMiss) {
  temp_dir dir;
  const std::string path = dir / "damaged.db";
  {
    auto store = open_or_die(path);
    ASSERT_TRUE(store->save_states(std::vector<state_record>{{"a", bytes_of("blob"), 1}}));
  }
  ASSERT_FALSE(fs::exists(path + "-wal"));  // the last close checkpointed everything into the file
  // Page 1 (header and schema) stays intact so the file opens; every table page after it is overwritten.
  const int page = std::stoi(sql_on_file(path, "PRAGMA page_size"));
  const auto size = fs::file_size(path);
  ASSERT_GT(size, static_cast<std::uintmax_t>(page));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(page);
    const std::string junk(size - static_cast<std::uintmax_t>(page), '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto store = open_or_die(path);
  ASSERT_NE(store, nullptr);
  auto got = store->load_state("a");
  EXPECT_TRUE(got.failed());
  EXPECT_FALSE(got.missing());
  EXPECT_EQ(got.error().code, errc::corrupt);
  auto other = store->load_state("never-stored");
  EXPECT_TRUE(other.failed()) << "a damaged table must not answer 'not found'";
  EXPECT_FALSE(store->scan_states([](const state_record&) {}));
}

TEST(SqliteStore, LockedDatabaseFailsTheWholeBatchAsUnavailable) {
  temp_dir dir;
  const std::string path = dir / "locked.db";
  auto store = open_or_die(path, sqlite_options{std::chrono::milliseconds(50)});
  ASSERT_TRUE(store->save_states(std::vector<state_record>{{"a", bytes_of("v1"), 1}}));

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto saved = store->save_states(std::vector<state_record>{{"a", bytes_of("v2"), 2}, {"b", bytes_of("v2"), 2}});
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, errc::unavailable);
  // WAL readers are not blocked by the writer: the old state is still readable.
  auto got = store->load_state("a");
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got->blob, bytes_of("v1"));
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);

  EXPECT_TRUE(store->load_state("b").missing());
  ASSERT_TRUE(store->save_states(std::vector<state_record>{{"b", bytes_of("v2"), 2}}));
  EXPECT_TRUE(store->load_state("b").found());
}

TEST(SqliteStore, ConcurrentCallersAreSerialisedSafely) {
  auto store = open_or_die(":memory:");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(store->save_states(std::vector<state_record>{{id, bytes_of(id), i}}));
        EXPECT_TRUE(store->load_state(id).found());
        EXPECT_TRUE(store->append_decisions(std::vector<decision_record>{decision(i, id, "accept")}));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(*store->scan_states([](const state_record&) {}), 800U);
}

TEST(SqliteStore, HundredThousandStatesSaveInOneTransaction) {
  temp_dir dir;
  const std::string path = dir / "big.db";
  auto store = open_or_die(path);
  constexpr int n = 100'000;
  std::vector<state_record> batch;
  batch.reserve(n);
  for (int i = 0; i < n; ++i) {
    batch.push_back(
        {"ip:10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." + std::to_string(i % 256),
         std::vector<std::byte>(200, static_cast<std::byte>(i)), i});
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->save_states(batch));
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->save_states(batch));  // every row exists now: the update path
  const auto t2 = std::chrono::steady_clock::now();
  std::size_t visited = 0;
  ASSERT_TRUE(store->scan_states([&](const state_record&) { ++visited; }));
  const auto t3 = std::chrono::steady_clock::now();
  EXPECT_EQ(visited, static_cast<std::size_t>(n));
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("[ measure ] 100k states x 200 B: insert %.0f ms, upsert-over %.0f ms, scan %.0f ms\n", ms(t1 - t0),
              ms(t2 - t1), ms(t3 - t2));
}

// The store never receives message content: no table has a column for it, and a database written
// from decisions about messages carrying marker strings holds none of those strings.
TEST(SqliteStore, PrivacySchemaHasNoContentColumnsAndFileHoldsNoContent) {
  temp_dir dir;
  const std::string path = dir / "privacy.db";
  auto store = open_or_die(path);

  const std::set<std::string> allowed{"subscriber",   "blob",    "updated_ms", "id",        "at_ms",
                                      "queue_id",     "action",  "level",      "suspicion", "reasons",
                                      "observe_only", "held_ms", "released_ms"};
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p "
                               "WHERE m.type = 'table'",
                               -1, &s, nullptr),
            SQLITE_OK);
  int columns = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const std::string column = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    EXPECT_TRUE(allowed.count(column)) << "unexpected column " << sqlite3_column_text(s, 0) << "." << column;
    ++columns;
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_EQ(columns, 19);

  // The messages these decisions are about; only their metadata reaches the store.
  const std::string subject_marker = "PWMARK-SUBJECT-7f3a9c";
  const std::string body_marker = "PWMARK-BODY-1b8e42";
  const std::string rcpt_marker = "pwmark-rcpt-5d0c@example.org";
  std::vector<decision_record> log;
  for (int i = 0; i < 100; ++i) {
    log.push_back(decision(i, "sasl:user" + std::to_string(i % 7), i % 2 ? "tag" : "defer"));
  }
  ASSERT_TRUE(store->append_decisions(log));
  ASSERT_TRUE(store->record_held("sasl:user3", "4QheldQ", 5));
  ASSERT_TRUE(store->save_states(std::vector<state_record>{{"sasl:user3", bytes_of("opaque-counters"), 5}}));

  std::string bytes = read_all(path);
  if (fs::exists(path + "-wal")) {
    bytes += read_all(path + "-wal");
  }
  EXPECT_NE(bytes.find("sasl:user3"), std::string::npos) << "the byte search must see what was written";
  for (const auto& marker : {subject_marker, body_marker, rcpt_marker}) {
    EXPECT_EQ(bytes.find(marker), std::string::npos) << marker;
  }
}

}  // namespace
}  // namespace pw::store
