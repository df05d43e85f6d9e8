// Tests for src/ledger: the SQLite ledger behind the `ledger` interface — every method, the tri-state
// lookups, keyset paging against a brute-force model, the one-unresolved-case rule under concurrent
// writers, schema versioning, persistence and the privacy of the schema. SQLite is used directly
// only to inspect or damage the file from outside.
#include "ledger/ledger.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/sqlite_ledger.hpp"
#include "support/temp_dir.hpp"

namespace pw::ledger {
namespace {

namespace fs = std::filesystem;

using pw::test::temp_dir;

std::unique_ptr<ledger> open_or_die(const std::string& path,
                                    std::chrono::milliseconds busy_timeout = std::chrono::milliseconds(5000)) {
  auto opened = open_sqlite_ledger(path, busy_timeout);
  EXPECT_TRUE(opened.has_value()) << (opened ? "" : opened.error().message);
  return opened ? std::move(*opened) : nullptr;
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

// A note text with a NUL and a byte that is not UTF-8: records come back byte for byte.
const std::string odd_text("note\0with nul \xff end", 19);

case_row opened(ledger& l, const std::string& subscriber, std::int64_t at_ms, const std::string& level = "hold") {
  auto r = l.open_case(subscriber, level, "41 messages to 37 new domains in 10 min", at_ms);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? r->row : case_row{};
}

void resolve(ledger& l, case_row c, std::int64_t at_ms) {
  c.status = case_status::resolved;
  c.resolved_ms = at_ms;
  c.updated_ms = at_ms;
  auto r = l.update_case(c);
  ASSERT_TRUE(r) << r.error().message;
}

TEST(LedgerNames, EveryEnumRoundTripsAndUnknownNamesAreRefused) {
  for (auto s : {case_status::open, case_status::notified, case_status::monitoring, case_status::escalated,
                 case_status::resolved}) {
    EXPECT_EQ(parse_status(status_name(s)), s);
  }
  for (auto s : {exemption_status::pending, exemption_status::active, exemption_status::suspended,
                 exemption_status::refused, exemption_status::revoked}) {
    EXPECT_EQ(parse_exemption_status(exemption_status_name(s)), s);
  }
  for (auto r : {role::viewer, role::operator_, role::admin}) {
    EXPECT_EQ(parse_role(role_name(r)), r);
  }
  EXPECT_EQ(status_name(case_status::monitoring), "monitoring");
  EXPECT_EQ(role_name(role::operator_), "operator");
  EXPECT_FALSE(parse_status("closed"));
  EXPECT_FALSE(parse_status("Open"));
  EXPECT_FALSE(parse_status(""));
  EXPECT_FALSE(parse_exemption_status("expired"));
  EXPECT_FALSE(parse_role("operator_"));
  EXPECT_FALSE(parse_role("root"));
}

TEST(SqliteLedger, SubscribersRoundTripAndAreReplacedWhole) {
  auto l = open_or_die(":memory:");
  subscriber_row alice{"alice@isp.example", "business", "alice@home.example", {"192.0.2.0/29", "", "2001:db8::/56"}, 7};
  subscriber_row odd{odd_text, "residential", "", {}, -1};
  ASSERT_TRUE(l->upsert_subscriber(alice));
  ASSERT_TRUE(l->upsert_subscriber(odd));
  auto got = l->find_subscriber(alice.id);
  ASSERT_TRUE(got.found());
  EXPECT_EQ(*got, alice);
  auto got_odd = l->find_subscriber(odd_text);
  ASSERT_TRUE(got_odd.found());
  EXPECT_EQ(*got_odd, odd);

  alice.plan = "residential";
  alice.addresses = {"198.51.100.7/32"};
  ASSERT_TRUE(l->upsert_subscriber(alice));
  EXPECT_EQ(*l->find_subscriber(alice.id), alice);

  auto nobody = l->find_subscriber("nobody");
  EXPECT_TRUE(nobody.missing());
  EXPECT_FALSE(nobody.failed());

  auto all = l->all_subscribers();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0], alice);  // id order: "alice..." < "note..."
  EXPECT_EQ((*all)[1], odd);
}

TEST(SqliteLedger, SubscriberSearchIsByPrefixInIdOrderWithKeyset) {
  auto l = open_or_die(":memory:");
  const std::string ab_nul("ab\0x", 4);  // sorts between "ab" and "abc"
  const std::vector<std::string> ids{"ab", ab_nul, "abc", "abd", "abz", "ac", "b", "\xff\xff", "\xff\xff\x01"};
  for (const auto& id : ids) {
    ASSERT_TRUE(l->upsert_subscriber({id, "residential", "", {id + "/32"}, 1}));
  }
  auto names = [](const result<std::vector<subscriber_row>>& rows) {
    std::vector<std::string> out;
    for (const auto& r : *rows) {
      out.push_back(r.id);
      EXPECT_EQ(r.addresses, std::vector<std::string>{r.id + "/32"});
    }
    return out;
  };
  EXPECT_EQ(names(l->search_subscribers("ab", "", 100)), (std::vector<std::string>{"ab", ab_nul, "abc", "abd", "abz"}));
  EXPECT_EQ(names(l->search_subscribers("ab", "", 2)), (std::vector<std::string>{"ab", ab_nul}));
  EXPECT_EQ(names(l->search_subscribers("ab", "ab", 2)), (std::vector<std::string>{ab_nul, "abc"}));
  EXPECT_EQ(names(l->search_subscribers("ab", "abc", 2)), (std::vector<std::string>{"abd", "abz"}));
  EXPECT_TRUE(l->search_subscribers("ab", "abz", 2)->empty());
  // An after_id before the prefix starts from the prefix.
  EXPECT_EQ(names(l->search_subscribers("ac", "a", 10)), (std::vector<std::string>{"ac"}));
  // A prefix of 0xff bytes has no upper end.
  EXPECT_EQ(names(l->search_subscribers("\xff", "", 10)), (std::vector<std::string>{"\xff\xff", "\xff\xff\x01"}));
  EXPECT_EQ(l->search_subscribers("", "", 100)->size(), ids.size());
  EXPECT_TRUE(l->search_subscribers("zz", "", 100)->empty());
  EXPECT_TRUE(l->search_subscribers("ab", "", 0)->empty());
}

TEST(SqliteLedger, OpenCaseReturnsTheUnresolvedCaseUntilItIsResolved) {
  auto l = open_or_die(":memory:");
  auto first = l->open_case("bob", "throttle", "41 messages to 37 new domains in 10 min", 1000);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->opened);
  const case_row& c = first->row;
  EXPECT_GT(c.id, 0);
  EXPECT_EQ(c.subscriber, "bob");
  EXPECT_EQ(c.status, case_status::open);
  EXPECT_EQ(c.level, "throttle");
  EXPECT_EQ(c.opened_ms, 1000);
  EXPECT_EQ(c.updated_ms, 1000);
  EXPECT_EQ(c.notices_sent, 0);
  EXPECT_FALSE(c.resolved_ms);
  EXPECT_EQ(*l->find_case(c.id), c);

  auto events = l->events_for(c.id);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1U);
  EXPECT_EQ((*events)[0].kind, "opened");
  EXPECT_EQ((*events)[0].actor, "system");
  EXPECT_EQ((*events)[0].detail, "41 messages to 37 new domains in 10 min");
  EXPECT_EQ((*events)[0].at_ms, 1000);

  auto again = l->open_case("bob", "hold", "other reasons", 2000);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->opened);
  EXPECT_EQ(again->row, c);
  EXPECT_EQ(l->events_for(c.id)->size(), 1U);
  EXPECT_EQ(*l->unresolved_case_for("bob"), c);
  EXPECT_TRUE(l->last_resolved_case_for("bob").missing());

  resolve(*l, c, 3000);
  EXPECT_TRUE(l->unresolved_case_for("bob").missing());
  auto last = l->last_resolved_case_for("bob");
  ASSERT_TRUE(last.found());
  EXPECT_EQ(last->id, c.id);
  EXPECT_EQ(last->resolved_ms, 3000);

  auto next = l->open_case("bob", "hold", "reoffence", 4000);
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->opened);
  EXPECT_GT(next->row.id, c.id);
  resolve(*l, next->row, 5000);
  EXPECT_EQ(l->last_resolved_case_for("bob")->id, next->row.id);
}

TEST(SqliteLedger, CaseLookupsAreMissingNotFailed) {
  auto l = open_or_die(":memory:");
  for (const auto& got : {l->find_case(42), l->unresolved_case_for("nobody"), l->last_resolved_case_for("nobody")}) {
    EXPECT_TRUE(got.missing());
    EXPECT_FALSE(got.failed());
  }
}

TEST(SqliteLedger, UpdateCaseReplacesTheRowAndMissingCaseIsNotFound) {
  auto l = open_or_die(":memory:");
  case_row c = opened(*l, "carol", 10);
  c.status = case_status::monitoring;
  c.level = "hold";
  c.summary = odd_text;
  c.assignee = "alice";
  c.updated_ms = 20;
  c.notices_sent = 2;
  c.last_notice_ms = 15;
  c.monitoring_until_ms = 86'400'020;
  ASSERT_TRUE(l->update_case(c));
  EXPECT_EQ(*l->find_case(c.id), c);

  case_row ghost = c;
  ghost.id = c.id + 100;
  auto missing = l->update_case(ghost);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
}

TEST(SqliteLedger, UpdateCaseCannotGiveASubscriberTwoUnresolvedCases) {
  auto l = open_or_die(":memory:");
  case_row old = opened(*l, "dave", 10);
  resolve(*l, old, 20);
  case_row current = opened(*l, "dave", 30);
  old.status = case_status::escalated;
  old.resolved_ms.reset();
  auto reopened = l->update_case(old);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, errc::invalid_input);
  EXPECT_EQ(l->unresolved_case_for("dave")->id, current.id);
}

// Pages through every case matching `f` and checks the pages against `expected` (ids newest first).
void expect_pages(ledger& l, const case_filter& f, std::size_t limit, const std::vector<std::int64_t>& expected) {
  std::vector<std::int64_t> seen;
  page_request p;
  p.limit = limit;
  for (int pages = 0;; ++pages) {
    ASSERT_LE(pages, 1000) << "paging does not end";
    auto page = l.list_cases(f, p);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->total, static_cast<std::int64_t>(expected.size()));
    EXPECT_LE(page->rows.size(), limit);
    for (const auto& r : page->rows) {
      seen.push_back(r.id);
    }
    if (!page->next_before_id) {
      break;
    }
    EXPECT_EQ(page->rows.size(), limit);
    EXPECT_EQ(*page->next_before_id, page->rows.back().id);
    p.before_id = page->next_before_id;
  }
  EXPECT_EQ(seen, expected);
}

TEST(SqliteLedger, ListCasesPagesByKeysetNewestFirst) {
  auto l = open_or_die(":memory:");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 120; ++i) {
    ids.push_back(opened(*l, "s" + std::to_string(i), i).id);
  }
  std::reverse(ids.begin(), ids.end());

  page_request p;
  p.limit = 50;
  auto first = l->list_cases({}, p);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->total, 120);
  ASSERT_EQ(first->rows.size(), 50U);
  EXPECT_EQ(first->rows.front().id, ids.front());
  ASSERT_TRUE(first->next_before_id);
  p.before_id = first->next_before_id;
  auto second = l->list_cases({}, p);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->total, 120);
  ASSERT_EQ(second->rows.size(), 50U);
  EXPECT_EQ(second->rows.front().id, ids[50]);
  p.before_id = second->next_before_id;
  auto third = l->list_cases({}, p);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->total, 120);
  ASSERT_EQ(third->rows.size(), 20U);
  EXPECT_EQ(third->rows.back().id, ids.back());
  EXPECT_FALSE(third->next_before_id);

  // Exactly one page's worth: no empty page after it.
  expect_pages(*l, {}, 40, ids);
  expect_pages(*l, {}, 120, ids);
  expect_pages(*l, {}, 7, ids);
}

// Every filter combination, paged, against a brute-force filter of the same cases.
TEST(SqliteLedger, ListCasesFiltersMatchABruteForceModel) {
  auto l = open_or_die(":memory:");
  std::mt19937 rng(7);
  const std::vector<std::string> prefixes{"user1", "user2", "ip:10.", "\xff"};
  const std::vector<std::string> assignees{"", "alice", "bob"};
  const std::vector<case_status> statuses{case_status::open, case_status::notified, case_status::monitoring,
                                          case_status::escalated};
  std::vector<case_row> all;
  for (int i = 0; i < 400; ++i) {
    const std::string subscriber = prefixes[rng() % prefixes.size()] + std::to_string(rng() % 60);
    auto r = l->open_case(subscriber, "hold", "reasons", i);
    ASSERT_TRUE(r);
    if (!r->opened) {
      continue;
    }
    case_row c = r->row;
    c.assignee = assignees[rng() % assignees.size()];
    c.status = rng() % 3 == 0 ? statuses[rng() % statuses.size()] : case_status::resolved;
    if (c.status == case_status::resolved) {
      c.resolved_ms = i;
    }
    ASSERT_TRUE(l->update_case(c));
    all.push_back(c);
  }
  std::reverse(all.begin(), all.end());

  std::vector<case_filter> filters;
  for (unsigned shape = 0; shape < 16; ++shape) {
    for (int variant = 0; variant < 3; ++variant) {
      case_filter f;
      if (shape & 1) {
        f.status = variant == 0 ? case_status::resolved : statuses[static_cast<std::size_t>(variant)];
      }
      if (shape & 2) {
        f.subscriber_prefix = variant == 2 ? "\xff" : prefixes[static_cast<std::size_t>(variant)];
      }
      if (shape & 4) {
        f.assignee = variant == 1 ? "bob" : "alice";
      }
      f.unresolved_only = (shape & 8) != 0;
      filters.push_back(f);
    }
  }
  for (const auto& f : filters) {
    std::vector<std::int64_t> expected;
    for (const auto& c : all) {
      if ((f.status && c.status != *f.status) || !c.subscriber.starts_with(f.subscriber_prefix) ||
          (!f.assignee.empty() && c.assignee != f.assignee) ||
          (f.unresolved_only && c.status == case_status::resolved)) {
        continue;
      }
      expected.push_back(c.id);
    }
    SCOPED_TRACE("status=" + std::string(f.status ? status_name(*f.status) : "any") + " prefix=" + f.subscriber_prefix +
                 " assignee=" + f.assignee + " unresolved_only=" + std::to_string(f.unresolved_only));
    expect_pages(*l, f, 9, expected);
  }

  // Rows come back whole, not only their ids.
  auto page = l->list_cases({}, {});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->rows.size(), 50U);
  for (std::size_t i = 0; i < page->rows.size(); ++i) {
    EXPECT_EQ(page->rows[i], all[i]);
  }
}

TEST(SqliteLedger, UnresolvedCasesAndCountsByStatus) {
  auto l = open_or_die(":memory:");
  case_row a = opened(*l, "a", 1);
  case_row b = opened(*l, "b", 2);
  case_row c = opened(*l, "c", 3);
  opened(*l, "d", 4);
  b.status = case_status::escalated;
  ASSERT_TRUE(l->update_case(b));
  resolve(*l, c, 5);
  a.status = case_status::notified;
  ASSERT_TRUE(l->update_case(a));

  auto unresolved = l->unresolved_cases();
  ASSERT_TRUE(unresolved);
  ASSERT_EQ(unresolved->size(), 3U);
  EXPECT_EQ((*unresolved)[0].subscriber, "a");
  EXPECT_EQ((*unresolved)[1].subscriber, "b");
  EXPECT_EQ((*unresolved)[2].subscriber, "d");

  auto counts = l->count_cases();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->open, 1);
  EXPECT_EQ(counts->notified, 1);
  EXPECT_EQ(counts->monitoring, 0);
  EXPECT_EQ(counts->escalated, 1);
  EXPECT_EQ(counts->resolved, 1);
}

TEST(SqliteLedger, EventsAreKeptInOrderAndCountedInAWindow) {
  auto l = open_or_die(":memory:");
  case_row first = opened(*l, "erin", 100);
  const case_event note{0, first.id, 150, "note", "alice", odd_text};
  auto note_id = l->append_event(note);
  ASSERT_TRUE(note_id);
  ASSERT_TRUE(l->append_event({0, first.id, 200, "customer_fixed", "customer", "self-help"}));
  resolve(*l, first, 250);
  case_row second = opened(*l, "erin", 300);
  ASSERT_TRUE(l->append_event({0, second.id, 400, "customer_fixed", "customer", "self-help"}));
  case_row other = opened(*l, "frank", 300);
  ASSERT_TRUE(l->append_event({0, other.id, 400, "customer_fixed", "customer", "self-help"}));

  auto events = l->events_for(first.id);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2U + 1U);
  case_event expected_note = note;
  expected_note.id = *note_id;
  EXPECT_EQ((*events)[1], expected_note);
  EXPECT_EQ((*events)[2].kind, "customer_fixed");
  EXPECT_LT((*events)[0].id, (*events)[1].id);

  // Across the subscriber's cases, at or after since_ms.
  EXPECT_EQ(*l->count_events("erin", "customer_fixed", 0), 2);
  EXPECT_EQ(*l->count_events("erin", "customer_fixed", 200), 2);
  EXPECT_EQ(*l->count_events("erin", "customer_fixed", 201), 1);
  EXPECT_EQ(*l->count_events("erin", "customer_fixed", 401), 0);
  EXPECT_EQ(*l->count_events("erin", "opened", 0), 2);
  EXPECT_EQ(*l->count_events("frank", "customer_fixed", 0), 1);
  EXPECT_EQ(*l->count_events("nobody", "customer_fixed", 0), 0);
  EXPECT_TRUE(l->events_for(first.id + 1000)->empty());
}

TEST(SqliteLedger, HeldQueueIdsAreReleasedPerCase) {
  auto l = open_or_die(":memory:");
  case_row c = opened(*l, "gina", 1);
  case_row other = opened(*l, "hank", 1);
  ASSERT_TRUE(l->add_held(c.id, "4Qb2", 20));
  ASSERT_TRUE(l->add_held(c.id, "4Qa1", 10));
  ASSERT_TRUE(l->add_held(other.id, "4Qz9", 5));
  EXPECT_EQ(*l->held_queue_ids(c.id, true), (std::vector<std::string>{"4Qa1", "4Qb2"}));
  ASSERT_TRUE(l->mark_held_released(c.id, 30));
  EXPECT_TRUE(l->held_queue_ids(c.id, true)->empty());
  EXPECT_EQ(*l->held_queue_ids(c.id, false), (std::vector<std::string>{"4Qa1", "4Qb2"}));
  EXPECT_EQ(*l->held_queue_ids(other.id, true), std::vector<std::string>{"4Qz9"});
  ASSERT_TRUE(l->add_held(c.id, "4Qc3", 40));
  ASSERT_TRUE(l->add_held(c.id, "4Qa1", 50));  // re-held after its release
  EXPECT_EQ(*l->held_queue_ids(c.id, true), (std::vector<std::string>{"4Qa1", "4Qc3"}));
  ASSERT_TRUE(l->mark_held_released(c.id, 60));
  ASSERT_TRUE(l->mark_held_released(c.id, 70));  // nothing left to release is not an error
  EXPECT_EQ(l->held_queue_ids(c.id, false)->size(), 3U);
}

TEST(SqliteLedger, NoticesAreRecordedPerCase) {
  auto l = open_or_die(":memory:");
  case_row c = opened(*l, "ivy", 1);
  notice_row sent{0, c.id, "ivy", "first", "ivy@home.example", 10, true, ""};
  notice_row failed{0, c.id, "ivy", "reminder", "ivy@home.example", 20, false, "relay refused: 550 mailbox full"};
  auto sent_id = l->record_notice(sent);
  auto failed_id = l->record_notice(failed);
  ASSERT_TRUE(sent_id);
  ASSERT_TRUE(failed_id);
  sent.id = *sent_id;
  failed.id = *failed_id;
  auto got = l->notices_for(c.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (std::vector<notice_row>{sent, failed}));
  EXPECT_TRUE(l->notices_for(c.id + 1)->empty());
}

TEST(SqliteLedger, HelpTokensAreUsedOnce) {
  auto l = open_or_die(":memory:");
  case_row c = opened(*l, "jack", 1);
  const help_token_row t{std::string(64, 'a'), c.id, "jack", 10, 10 + 7 * 86'400'000, std::nullopt};
  ASSERT_TRUE(l->add_help_token(t));
  auto got = l->find_help_token(t.token_hash);
  ASSERT_TRUE(got.found());
  EXPECT_EQ(*got, t);
  EXPECT_TRUE(l->find_help_token(std::string(64, 'b')).missing());

  ASSERT_TRUE(l->mark_help_token_used(t.token_hash, 50));
  EXPECT_EQ(l->find_help_token(t.token_hash)->used_ms, 50);
  auto twice = l->mark_help_token_used(t.token_hash, 60);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, errc::invalid_input);
  EXPECT_EQ(l->find_help_token(t.token_hash)->used_ms, 50);  // the first use stands
  auto unknown = l->mark_help_token_used(std::string(64, 'b'), 60);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, errc::not_found);

  auto duplicate = l->add_help_token(t);
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, errc::invalid_input);
}

TEST(SqliteLedger, RowsOfAnUnknownCaseOrUserAreNotFound) {
  auto l = open_or_die(":memory:");
  constexpr std::int64_t no_case = 999;
  auto expect_not_found = [](const auto& r) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::not_found) << r.error().message;
  };
  expect_not_found(l->append_event({0, no_case, 1, "note", "alice", "x"}));
  expect_not_found(l->add_held(no_case, "4Qa1", 1));
  expect_not_found(l->record_notice({0, no_case, "s", "first", "s@home.example", 1, true, ""}));
  expect_not_found(l->add_help_token({"h", no_case, "s", 1, 2, std::nullopt}));
  expect_not_found(l->add_session({"t", "nobody", "csrf", 1, 2}));
}

TEST(SqliteLedger, ExemptionsAreAddedUpdatedAndListedNewestFirst) {
  auto l = open_or_die(":memory:");
  exemption_row e{0, "kate", exemption_status::pending, "I run my own mail server", "", "", 10, 10, std::nullopt};
  auto id = l->add_exemption(e);
  ASSERT_TRUE(id);
  e.id = *id;
  EXPECT_EQ(*l->find_exemption(e.id), e);
  EXPECT_TRUE(l->find_exemption(e.id + 1).missing());

  e.status = exemption_status::active;
  e.decided_by = "alice";
  e.decision = odd_text;
  e.updated_ms = 20;
  e.expires_ms = 20 + 365LL * 86'400'000;
  ASSERT_TRUE(l->update_exemption(e));
  EXPECT_EQ(*l->find_exemption(e.id), e);
  exemption_row ghost = e;
  ghost.id = e.id + 50;
  auto missing = l->update_exemption(ghost);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);

  std::vector<std::int64_t> pending;
  for (int i = 0; i < 5; ++i) {
    auto other = l->add_exemption({0, "s" + std::to_string(i), exemption_status::pending, "smtp", "", "", i, i, {}});
    ASSERT_TRUE(other);
    pending.push_back(*other);
  }
  ASSERT_TRUE(l->add_exemption({0, "kate", exemption_status::refused, "again", "rules", "too new", 30, 30, {}}));
  auto kates = l->exemptions_for("kate");
  ASSERT_TRUE(kates);
  ASSERT_EQ(kates->size(), 2U);
  EXPECT_EQ((*kates)[0], e);
  EXPECT_EQ((*kates)[1].status, exemption_status::refused);

  auto all = l->list_exemptions(std::nullopt, {std::nullopt, 100});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 7U);
  EXPECT_EQ(all->front().reason, "again");
  EXPECT_EQ(all->back(), e);

  auto first = l->list_exemptions(exemption_status::pending, {std::nullopt, 3});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 3U);
  EXPECT_EQ((*first)[0].id, pending[4]);
  EXPECT_EQ((*first)[2].id, pending[2]);
  auto rest = l->list_exemptions(exemption_status::pending, {first->back().id, 3});
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 2U);
  EXPECT_EQ((*rest)[1].id, pending[0]);
  EXPECT_EQ(l->list_exemptions(exemption_status::active, {})->size(), 1U);
  EXPECT_TRUE(l->list_exemptions(exemption_status::revoked, {})->empty());
}

TEST(SqliteLedger, UsersAreUniqueByNameAndUpdatable) {
  auto l = open_or_die(":memory:");
  user_row alice{"alice", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", role::admin, 1, false};
  user_row bob{"bob", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdB$aGFzaB", role::viewer, 2, false};
  ASSERT_TRUE(l->add_user(bob));
  ASSERT_TRUE(l->add_user(alice));
  auto duplicate = l->add_user({"alice", "other", role::viewer, 3, false});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, errc::invalid_input);
  EXPECT_EQ(*l->find_user("alice"), alice);  // the first one stays

  bob.user_role = role::operator_;
  bob.disabled = true;
  ASSERT_TRUE(l->update_user(bob));
  EXPECT_EQ(*l->find_user("bob"), bob);
  auto missing = l->update_user({"carol", "x", role::viewer, 1, false});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_TRUE(l->find_user("carol").missing());
  EXPECT_EQ(*l->list_users(), (std::vector<user_row>{alice, bob}));
}

TEST(SqliteLedger, SessionsAreFoundDeletedAndSweptWhenExpired) {
  auto l = open_or_die(":memory:");
  ASSERT_TRUE(l->add_user({"alice", "hash", role::operator_, 1, false}));
  const session_row a{std::string(64, '1'), "alice", "csrf-a", 100, 1000};
  const session_row b{std::string(64, '2'), "alice", "csrf-b", 200, 2000};
  const session_row c{std::string(64, '3'), "alice", "csrf-c", 300, 3000};
  for (const auto& s : {a, b, c}) {
    ASSERT_TRUE(l->add_session(s));
  }
  EXPECT_EQ(*l->find_session(a.token_hash), a);
  ASSERT_TRUE(l->delete_session(a.token_hash));
  EXPECT_TRUE(l->find_session(a.token_hash).missing());
  EXPECT_TRUE(l->delete_session(a.token_hash));  // already gone
  EXPECT_EQ(*l->delete_sessions_expired(1999), 0U);
  EXPECT_EQ(*l->delete_sessions_expired(2000), 1U);  // expires_ms is the first instant it is invalid
  EXPECT_TRUE(l->find_session(b.token_hash).missing());
  EXPECT_TRUE(l->find_session(c.token_hash).found());
}

TEST(SqliteLedger, AuditIsNewestFirstWithKeysetAndActorFilter) {
  auto l = open_or_die(":memory:");
  std::vector<audit_row> written;
  for (int i = 0; i < 12; ++i) {
    audit_row a{0,
                i,
                i % 3 == 0 ? "anonymous" : "alice",
                i % 3 == 0 ? "login" : "release",
                "case:" + std::to_string(i),
                i % 3 != 0,
                i % 3 == 0 ? "wrong password" : ""};
    auto id = l->append_audit(a);
    ASSERT_TRUE(id);
    a.id = *id;
    written.push_back(a);
  }
  auto first = l->list_audit("", {std::nullopt, 5});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 5U);
  EXPECT_EQ((*first)[0], written[11]);
  EXPECT_EQ((*first)[4], written[7]);
  auto second = l->list_audit("", {first->back().id, 5});
  ASSERT_TRUE(second);
  EXPECT_EQ((*second)[0], written[6]);
  auto last = l->list_audit("", {written[2].id, 5});
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, (std::vector<audit_row>{written[1], written[0]}));

  auto refused = l->list_audit("anonymous", {std::nullopt, 3});
  ASSERT_TRUE(refused);
  EXPECT_EQ(*refused, (std::vector<audit_row>{written[9], written[6], written[3]}));
  auto refused_rest = l->list_audit("anonymous", {written[3].id, 3});
  ASSERT_TRUE(refused_rest);
  EXPECT_EQ(*refused_rest, std::vector<audit_row>{written[0]});
}

// Eight connections to one file (as eight processes would have), all opening a case for one
// subscriber at once: BEGIN IMMEDIATE and the partial UNIQUE index leave exactly one case.
TEST(SqliteLedger, ConcurrentOpenCaseOpensExactlyOneCase) {
  temp_dir dir;
  const std::string path = dir / "ledger.db";
  std::vector<std::unique_ptr<ledger>> connections;
  for (int i = 0; i < 8; ++i) {
    connections.push_back(open_or_die(path));
    ASSERT_NE(connections.back(), nullptr);
  }
  std::atomic<int> opened_count{0};
  std::atomic<bool> go{false};
  std::vector<std::int64_t> ids(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) {
        std::this_thread::yield();
      }
      auto r = connections[static_cast<std::size_t>(i)]->open_case("mallory", "hold", "burst", 100 + i);
      ASSERT_TRUE(r) << r.error().message;
      ids[static_cast<std::size_t>(i)] = r->row.id;
      if (r->opened) {
        ++opened_count;
      }
    });
  }
  go = true;
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(opened_count.load(), 1);
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), 1U);
  EXPECT_EQ(sql_on_file(path, "SELECT count(*) FROM cases"), "1");
  EXPECT_EQ(sql_on_file(path, "SELECT count(*) FROM case_event WHERE kind = 'opened'"), "1");

  // And eight threads sharing one connection.
  auto shared = open_or_die(":memory:");
  opened_count = 0;
  threads.clear();
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        auto r = shared->open_case("s" + std::to_string(round), "hold", "burst", round);
        ASSERT_TRUE(r);
        opened_count += r->opened ? 1 : 0;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(opened_count.load(), 20);
  EXPECT_EQ(shared->count_cases()->open, 20);
}

TEST(SqliteLedger, LockedFileFailsAsUnavailableAndChangesNothing) {
  temp_dir dir;
  const std::string path = dir / "locked.db";
  auto l = open_or_die(path, std::chrono::milliseconds(50));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto r = l->open_case("nina", "hold", "burst", 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(l->unresolved_case_for("nina").missing());
  EXPECT_TRUE(l->open_case("nina", "hold", "burst", 2));
}

TEST(SqliteLedger, ReopenedFileHasEverythingAndUsesWal) {
  temp_dir dir;
  const std::string path = dir / "ledger.db";
  case_row c;
  {
    auto l = open_or_die(path);
    ASSERT_TRUE(l->upsert_subscriber({"oscar", "business", "oscar@home.example", {"192.0.2.1/32"}, 1}));
    c = opened(*l, "oscar", 10);
    ASSERT_TRUE(l->add_held(c.id, "4Qa1", 11));
    ASSERT_TRUE(l->add_user({"alice", "hash", role::admin, 1, false}));
    ASSERT_TRUE(l->append_audit({0, 12, "alice", "release", "case:1", true, ""}));
    EXPECT_EQ(sql_on_file(path, "PRAGMA journal_mode"), "wal");
  }
  auto l = open_or_die(path);
  EXPECT_EQ(l->find_subscriber("oscar")->addresses, std::vector<std::string>{"192.0.2.1/32"});
  EXPECT_EQ(*l->find_case(c.id), c);
  EXPECT_EQ(*l->unresolved_case_for("oscar"), c);
  EXPECT_EQ(*l->held_queue_ids(c.id, true), std::vector<std::string>{"4Qa1"});
  EXPECT_EQ(l->find_user("alice")->user_role, role::admin);
  EXPECT_EQ(l->list_audit("", {})->size(), 1U);
  EXPECT_FALSE(l->open_case("oscar", "hold", "again", 20)->opened);
}

TEST(SqliteLedger, EmptyFileIsMigratedToTheCurrentSchema) {
  temp_dir dir;
  const std::string path = dir / "empty.db";
  std::ofstream(path).close();
  ASSERT_EQ(fs::file_size(path), 0U);
  {
    auto l = open_or_die(path);
    ASSERT_NE(l, nullptr);
    opened(*l, "pat", 1);
  }
  EXPECT_EQ(sql_on_file(path, "PRAGMA user_version"), std::to_string(sqlite_ledger_schema_version));
  EXPECT_EQ(sql_on_file(path, "PRAGMA application_id"), std::to_string(0x50574C47));
  EXPECT_EQ(sql_on_file(path, "SELECT count(*) FROM cases"), "1");
}

TEST(SqliteLedger, NewerSchemaIsRefusedWithAClearError) {
  temp_dir dir;
  const std::string path = dir / "newer.db";
  open_or_die(path).reset();
  sql_on_file(path, "PRAGMA user_version = " + std::to_string(sqlite_ledger_schema_version + 1));
  auto l = open_sqlite_ledger(path);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, errc::corrupt);
  EXPECT_NE(l.error().message.find("newer"), std::string::npos) << l.error().message;
}

TEST(SqliteLedger, AnotherApplicationsDatabaseIsRefusedAndLeftAlone) {
  temp_dir dir;
  const std::string foreign = dir / "foreign.db";
  sql_on_file(foreign, "CREATE TABLE contacts(name TEXT)");
  auto l = open_sqlite_ledger(foreign);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, errc::corrupt);
  EXPECT_EQ(sql_on_file(foreign, "SELECT count(*) FROM sqlite_schema"), "1");

  // The state store's file (application id "PWDN") is not a ledger either.
  const std::string state = dir / "state.db";
  sql_on_file(state, "PRAGMA application_id = " + std::to_string(0x5057444E));
  auto wrong = open_sqlite_ledger(state);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, errc::corrupt);
}

TEST(SqliteLedger, UnknownStoredNamesAreCorruptNotGuessed) {
  temp_dir dir;
  const std::string path = dir / "damaged.db";
  std::int64_t case_id = 0;
  std::int64_t exemption_id = 0;
  {
    auto l = open_or_die(path);
    case_id = opened(*l, "quinn", 1).id;
    exemption_id = *l->add_exemption({0, "quinn", exemption_status::pending, "smtp", "", "", 1, 1, {}});
    ASSERT_TRUE(l->add_user({"alice", "hash", role::viewer, 1, false}));
  }
  sql_on_file(path, "UPDATE cases SET status = 'closed'");
  sql_on_file(path, "UPDATE exemption SET status = 'expired'");
  sql_on_file(path, "UPDATE desk_user SET role = 'root'");
  auto l = open_or_die(path);
  auto c = l->find_case(case_id);
  ASSERT_TRUE(c.failed());
  EXPECT_EQ(c.error().code, errc::corrupt);
  auto page = l->list_cases({}, {});
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, errc::corrupt);
  auto counts = l->count_cases();
  ASSERT_FALSE(counts);
  EXPECT_EQ(counts.error().code, errc::corrupt);
  auto e = l->find_exemption(exemption_id);
  ASSERT_TRUE(e.failed());
  EXPECT_EQ(e.error().code, errc::corrupt);
  auto u = l->find_user("alice");
  ASSERT_TRUE(u.failed());
  EXPECT_EQ(u.error().code, errc::corrupt);
  EXPECT_EQ(l->list_users().error().code, errc::corrupt);
}

// No table has a column for message content: the ledger is written only with engine reasons, queue
// ids, desk words and the subscriber's own contact address. A new column must be added to the list
// below deliberately.
TEST(SqliteLedger, PrivacySchemaHasNoMessageContentColumns) {
  temp_dir dir;
  const std::string path = dir / "privacy.db";
  {
    auto l = open_or_die(path);
    ASSERT_TRUE(l->upsert_subscriber({"sasl:user3", "residential", "user3@home.example", {"192.0.2.3/32"}, 1}));
    case_row c = opened(*l, "sasl:user3", 10);
    ASSERT_TRUE(l->append_event({0, c.id, 11, "level", "system", "hold: 120 messages to 118 new domains in 10 min"}));
    ASSERT_TRUE(l->add_held(c.id, "4QheldQ", 12));
    ASSERT_TRUE(l->record_notice({0, c.id, "sasl:user3", "first", "user3@home.example", 13, true, ""}));
    ASSERT_TRUE(l->append_audit({0, 14, "alice", "release", "case:1", true, ""}));
  }
  const std::set<std::string> allowed{"id",
                                      "plan",
                                      "contact",
                                      "created_ms",
                                      "subscriber",
                                      "position",
                                      "address",
                                      "status",
                                      "level",
                                      "summary",
                                      "assignee",
                                      "opened_ms",
                                      "updated_ms",
                                      "resolved_ms",
                                      "notices_sent",
                                      "last_notice_ms",
                                      "monitoring_until_ms",
                                      "case_id",
                                      "at_ms",
                                      "kind",
                                      "actor",
                                      "detail",
                                      "queue_id",
                                      "held_ms",
                                      "released_ms",
                                      "delivered",
                                      "error",
                                      "token_hash",
                                      "expires_ms",
                                      "used_ms",
                                      "reason",
                                      "decided_by",
                                      "decision",
                                      "requested_ms",
                                      "name",
                                      "password_hash",
                                      "role",
                                      "disabled",
                                      "user_name",
                                      "csrf_token",
                                      "action",
                                      "target",
                                      "allowed",
                                      "seq"};
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                               "WHERE m.type = 'table'",
                               -1, &s, nullptr),
            SQLITE_OK);
  int columns = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const std::string table = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    const std::string column = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    for (const char* banned : {"subject", "body", "recipient", "rcpt"}) {
      EXPECT_EQ(column.find(banned), std::string::npos) << table << "." << column;
      EXPECT_EQ(table.find(banned), std::string::npos) << table;
    }
    EXPECT_TRUE(allowed.count(column)) << "unexpected column " << table << "." << column;
    ++columns;
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_GT(columns, 40);
}

}  // namespace
}  // namespace pw::ledger
