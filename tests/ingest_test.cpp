// Delivery-log ingest: Postfix log lines → delivery outcomes, line splitting, queue-id attribution.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/attribution.hpp"
#include "ingest/maillog.hpp"

namespace {

using namespace pw::ingest;

// Lines as Postfix 3.7 writes them (syslog and maillog_file shapes).
constexpr std::string_view bounced_by_error =
    "Nov 28 03:36:01 relay postfix/error[4242]: 4NhTQ81x2Fz9vKD: to=<nobody@bounce.test>, relay=none, "
    "delay=0.02, delays=0.01/0/0/0.01, dsn=5.1.1, status=bounced (mailbox unavailable)";
constexpr std::string_view bounced_by_smtp =
    "2026-11-28T03:36:01.123456+00:00 mx-out postfix-out/smtp[77]: 3F2A812345: to=<x@example.net>, "
    "orig_to=<y@example.net>, relay=mx.example.net[192.0.2.7]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=5.1.1, "
    "status=bounced (host mx.example.net[192.0.2.7] said: 550 5.1.1 <x@example.net>: status=sent (in reply to "
    "RCPT TO command))";
constexpr std::string_view sent =
    "Nov 28 03:36:02 relay postfix/smtp[4243]: 4NhTQ81x2Fz9vKE: to=<a@b.example>, relay=127.0.0.1[127.0.0.1]:2525, "
    "delay=0.1, delays=0.05/0.01/0.02/0.02, dsn=2.0.0, status=sent (250 Ok)";
constexpr std::string_view deferred =
    "Nov 28 03:36:03 relay postfix/smtp[4243]: 4NhTQ81x2Fz9vKF: to=<a@b.example>, relay=mx.b.example[192.0.2.8]:25, "
    "delay=300, delays=0/0/0.3/0, dsn=4.7.1, status=deferred (host said: 450 4.7.1 greylisted, status=bounced)";

TEST(maillog, hard_bounces_from_error_and_smtp_lines) {
  const auto a = parse_delivery_line(bounced_by_error);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->queue_id, "4NhTQ81x2Fz9vKD");
  EXPECT_EQ(a->service, "error");
  EXPECT_EQ(a->status, delivery_status::bounced);
  EXPECT_EQ(a->dsn_class, '5');
  EXPECT_TRUE(is_hard_bounce(*a));

  // Multi-instance name, ISO timestamp, orig_to, and a reply text that itself says "status=sent".
  const auto b = parse_delivery_line(bounced_by_smtp);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->queue_id, "3F2A812345");
  EXPECT_EQ(b->status, delivery_status::bounced);
  EXPECT_TRUE(is_hard_bounce(*b));
}

TEST(maillog, sent_and_deferred_are_no_hard_bounces) {
  const auto s = parse_delivery_line(sent);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status, delivery_status::sent);
  EXPECT_FALSE(is_hard_bounce(*s));
  // The remote's reply says "status=bounced"; the line's own status is deferred.
  const auto d = parse_delivery_line(deferred);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->status, delivery_status::deferred);
  EXPECT_EQ(d->dsn_class, '4');
  EXPECT_FALSE(is_hard_bounce(*d));
}

TEST(maillog, other_lines_are_no_delivery_lines) {
  for (std::string_view line : {
           std::string_view("Nov 28 03:36:01 relay postfix/smtpd[1]: connect from localhost[127.0.0.1]"),
           std::string_view("Nov 28 03:36:01 relay postfix/qmgr[2]: 4NhTQ81x2Fz9vKD: from=<a@b>, size=300, nrcpt=1 "
                            "(queue active)"),
           std::string_view("Nov 28 03:36:01 relay postfix/cleanup[3]: 4NhTQ81x2Fz9vKD: message-id=<x@y>"),
           std::string_view("Nov 28 03:36:01 relay notpostfix/smtp[4]: 4NhTQ81x2Fz9vKD: to=<a@b>, relay=none, "
                            "status=bounced"),
           std::string_view("Nov 28 03:36:01 relay postfix/smtp[5]: 4NhTQ81x2Fz9vKD: to=<a@b>, relay=none, "
                            "status=weird"),
           std::string_view("Nov 28 03:36:01 relay postfix/smtp[]: 4NhTQ81x2Fz9vKD: to=<a@b>, relay=none, "
                            "status=bounced"),
           std::string_view("Nov 28 03:36:01 relay postfix/smtp[6]: 4NhT: to=<a@b>, relay=none, status=bounced"),
           std::string_view("Nov 28 03:36:01 relay postfix/smtp[6]: 4NhTQ81x2Fz9vKD: to=<a@b>, relay=none, dsn=5.1.1"),
           std::string_view("postfix/smtp[6]: 4NhTQ81x2Fz9vKD: to=<a@b"),
           std::string_view(""),
           std::string_view("\x00\xff postfix/", 12),
       }) {
    EXPECT_FALSE(parse_delivery_line(line).has_value()) << line;
  }
}

TEST(maillog, the_recipient_never_leaves_the_parser) {
  const auto a = parse_delivery_line(bounced_by_error);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->queue_id.find('@'), std::string_view::npos);
  EXPECT_EQ(a->service.find('@'), std::string_view::npos);
}

TEST(maillog, splitter_gives_complete_lines_and_drops_overlong_ones) {
  line_splitter split(32);
  split.feed("first line\r\nsecond");
  ASSERT_EQ(split.next(), std::optional<std::string_view>("first line"));
  EXPECT_FALSE(split.next().has_value()) << "a writer mid-line";
  EXPECT_EQ(split.pending_bytes(), 6u);
  split.feed(" half\n");
  EXPECT_EQ(split.next(), std::optional<std::string_view>("second half"));
  // An overlong line, fed in pieces, is dropped whole; the next one survives.
  split.feed(std::string(20, 'x'));
  split.feed(std::string(20, 'y'));
  split.feed("zzz\nshort\n");
  EXPECT_EQ(split.next(), std::optional<std::string_view>("short"));
  EXPECT_EQ(split.dropped_lines(), 1u);
  EXPECT_LE(split.pending_bytes(), 32u);
  split.feed(std::string(100, 'q') + "\nok\n");
  EXPECT_EQ(split.next(), std::optional<std::string_view>("ok"));
  EXPECT_EQ(split.dropped_lines(), 2u);
}

pw::identity::resolution who(const std::string& id) {
  return {{id, "residential", ""}, pw::identity::subscriber_source::address, std::nullopt};
}

TEST(attribution, remembers_within_ttl_and_capacity) {
  queue_attribution a(3, 1000);
  a.remember("AAAAAA", who("alice"), 0);
  a.remember("BBBBBB", who("bob"), 10);
  a.remember("", who("nobody"), 10);
  EXPECT_EQ(a.find("AAAAAA", 500)->who.id, "alice");
  EXPECT_FALSE(a.find("CCCCCC", 500).has_value());
  EXPECT_FALSE(a.find("AAAAAA", 1000).has_value()) << "forgotten after the ttl";
  EXPECT_EQ(a.find("BBBBBB", 1000)->who.id, "bob");
  a.remember("CCCCCC", who("carol"), 1001);
  a.remember("DDDDDD", who("dave"), 1002);
  a.remember("EEEEEE", who("eve"), 1003);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_FALSE(a.find("BBBBBB", 1003).has_value()) << "oldest evicted at capacity";
  // Re-dating keeps an entry alive past its first record's eviction.
  a.remember("CCCCCC", who("carol"), 1900);
  EXPECT_EQ(a.find("CCCCCC", 2500)->who.id, "carol");
  EXPECT_FALSE(a.find("DDDDDD", 2500).has_value());
  a.set_limits(0, 1000);
  a.remember("FFFFFF", who("frank"), 2600);
  EXPECT_FALSE(a.find("FFFFFF", 2600).has_value()) << "capacity 0 remembers nothing";
}

TEST(attribution, at_most_two_bounces_of_one_message_count) {
  queue_attribution a(10, 1000);
  EXPECT_FALSE(a.claim_bounce("AAAAAA", 0).has_value());
  a.remember("AAAAAA", who("alice"), 0);
  std::vector<bool> counts;
  for (int i = 0; i < 5; ++i) counts.push_back(a.claim_bounce("AAAAAA", 1)->counts);
  EXPECT_EQ(counts, (std::vector<bool>{true, true, false, false, false}));
  EXPECT_EQ(a.claim_bounce("AAAAAA", 2)->who.who.id, "alice");
}

}  // namespace
