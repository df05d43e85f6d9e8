// Subscriber directory: longest-prefix match, the subscriber file, resolve precedence.
#include <algorithm>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "identity/directory.hpp"

namespace {

using namespace pw::identity;

cidr_directory sample() {
  auto d = cidr_directory::parse(
      "# subscribers\n"
      "10.0.0.0/8\twide\tbusiness\tnoc@wide.example\n"
      "10.1.0.0/16\tmid\tresidential\n"
      "10.1.2.0/24\tnarrow\tresidential\tnarrow@example.net\n"
      "10.1.2.3\thost\tresidential\n"
      "0.0.0.0/0\tdefault-route\tresidential\n"
      "2001:db8::/32\tv6-wide\tbusiness\n"
      "2001:db8:1::/48\tv6-site\tresidential\n"
      "2001:db8:1:2::/64\tv6-home\tresidential\n"
      "alice@isp.example\tcust-alice\tbusiness\talice-contact@example.org\n",
      "sample");
  EXPECT_TRUE(d.has_value()) << d.error().message;
  return std::move(d.value());
}

TEST(identity, longest_prefix_match_ipv4) {
  const cidr_directory d = sample();
  EXPECT_EQ(d.size(), 9u);
  EXPECT_EQ(d.by_address("10.1.2.3")->id, "host");
  EXPECT_EQ(d.by_address("10.1.2.4")->id, "narrow");
  EXPECT_EQ(d.by_address("10.1.2.4")->contact, "narrow@example.net");
  EXPECT_EQ(d.by_address("10.1.3.4")->id, "mid");
  EXPECT_EQ(d.by_address("10.200.0.1")->id, "wide");
  EXPECT_EQ(d.by_address("10.200.0.1")->plan, "business");
  EXPECT_EQ(d.by_address("192.0.2.1")->id, "default-route");
  EXPECT_EQ(d.by_address("::ffff:10.1.2.3")->id, "host");  // IPv4-mapped IPv6
}

TEST(identity, longest_prefix_match_ipv6) {
  const cidr_directory d = sample();
  EXPECT_EQ(d.by_address("2001:db8:1:2::42")->id, "v6-home");
  EXPECT_EQ(d.by_address("2001:db8:1:3::42")->id, "v6-site");
  EXPECT_EQ(d.by_address("2001:db8:ffff::1")->id, "v6-wide");
  EXPECT_EQ(d.by_address("2001:DB8:1:2:0:0:0:1")->id, "v6-home");
  EXPECT_TRUE(d.by_address("2001:db9::1").missing());
}

TEST(identity, unparsable_address_is_an_error_not_a_miss) {
  const cidr_directory d = sample();
  for (const char* bad :
       {"", "unknown", "10.1.2", "10.1.2.3.4", "300.1.1.1", "2001:db8::1%eth0", "[10.1.2.3]", "10.1.2.3 "}) {
    const auto r = d.by_address(bad);
    EXPECT_TRUE(r.failed()) << bad;
  }
  EXPECT_TRUE(d.by_address("10.1.2.3").found());
}

TEST(identity, logins) {
  const cidr_directory d = sample();
  const auto a = d.by_login("alice@isp.example");
  ASSERT_TRUE(a.found());
  EXPECT_EQ(a->id, "cust-alice");
  EXPECT_EQ(a->plan, "business");
  EXPECT_TRUE(d.by_login("bob@isp.example").missing());
}

TEST(identity, file_format_comments_blank_lines_crlf) {
  const auto d = cidr_directory::parse("\n   # indented comment\r\n192.0.2.0/24\tsub\tresidential\r\n\n", "f");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->size(), 1u);
  EXPECT_EQ(d->by_address("192.0.2.77")->plan, "residential");
}

void expect_error(std::string_view text, const std::string& where, const std::string& what) {
  const auto d = cidr_directory::parse(text, "subs.tsv");
  ASSERT_FALSE(d.has_value()) << text;
  EXPECT_EQ(d.error().code, pw::errc::invalid_input);
  EXPECT_EQ(d.error().message.rfind(where, 0), 0u) << d.error().message;
  EXPECT_NE(d.error().message.find(what), std::string::npos) << d.error().message;
}

TEST(identity, file_errors_carry_line_numbers) {
  expect_error("# ok\n10.0.0.0/8\ta\tresidential\n10.0.0.1/24\tb\tresidential\n", "subs.tsv:3:", "host bits");
  expect_error("10.0.0.0/33\ta\tresidential\n", "subs.tsv:1:", "prefix length 33");
  expect_error("\n\n10.0.0.0/8\ta\n", "subs.tsv:3:", "found 2 field");
  expect_error("10.0.0.0/8\ta\tr\tc\textra\n", "subs.tsv:1:", "more than 4");
  expect_error("10.0.0.0/8\ta\tr\n10.0.0.0/8\tb\tr\n", "subs.tsv:2:", "duplicate prefix");
  expect_error("bob\ta\tr\nbob\tb\tr\n", "subs.tsv:2:", "duplicate login");
  expect_error("10.0.0.300/8\ta\tr\n", "subs.tsv:1:", "malformed");
  expect_error("10.1.1\ta\tr\n", "subs.tsv:1:", "malformed");
  expect_error("10.0.0.0/8\t\tr\n", "subs.tsv:1:", "empty subscriber id");
  expect_error("10.0.0.0/8\ta\t\n", "subs.tsv:1:", "empty plan");
  expect_error("10.0.0.0/x\ta\tr\n", "subs.tsv:1:", "malformed prefix length");
  expect_error(std::string("10.0.0.0/8\ta\x01\tr\n"), "subs.tsv:1:", "control character");
  expect_error("x\t" + std::string(300, 'i') + "\tr\n", "subs.tsv:1:", "longer than 255");
  expect_error(std::string(5000, 'x') + "\n", "subs.tsv:1:", "line longer");
  expect_error("::ffff:10.0.0.0/8\ta\tr\n", "subs.tsv:1:", "shorter than /96");
}

TEST(identity, ipv4_mapped_prefix_in_file_matches_ipv4) {
  const auto d = cidr_directory::parse("::ffff:10.0.0.0/104\ta\tr\n", "f");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->by_address("10.9.9.9")->id, "a");
}

TEST(identity, load_reads_a_file_and_reports_io_errors) {
  const std::string path = ::testing::TempDir() + "identity_test_subscribers.tsv";
  {
    std::ofstream out(path);
    out << "198.51.100.0/24\tcust-7\tresidential\tcontact@example.org\nbroken line\n";
  }
  const auto d = cidr_directory::load(path);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().message, path + ":2: expected key<TAB>id<TAB>plan[<TAB>contact], found 1 field(s)");
  std::remove(path.c_str());
  const auto missing = cidr_directory::load(path);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, pw::errc::io);
}

TEST(identity, build_from_entries) {
  auto d = cidr_directory::build({{"203.0.113.0/24", "c1", "business", ""}, {"carol", "c2", "residential", ""}});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->by_address("203.0.113.9")->id, "c1");
  EXPECT_EQ(d->by_login("carol")->id, "c2");
  auto bad = cidr_directory::build({{"203.0.113.0/24", "c1", "business", ""}, {"203.0.113.1/24", "c2", "r", ""}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message.rfind("entry 2:", 0), 0u) << bad.error().message;
}

class failing_directory final : public directory {
 public:
  pw::lookup<subscriber> by_login(std::string_view) const override {
    return pw::make_error(pw::errc::unavailable, "radius down");
  }
  pw::lookup<subscriber> by_address(std::string_view) const override {
    return pw::make_error(pw::errc::unavailable, "radius down");
  }
  void for_each_network(const std::function<void(const subscriber&, const std::string&)>&) const override {}
};

TEST(identity, networks_are_listed_back_as_cidr_text) {
  auto d = cidr_directory::build({{"203.0.113.0/24", "shop", "business", ""},
                                  {"198.51.100.7", "home", "residential", ""},
                                  {"2001:db8:1::/48", "shop", "business", ""},
                                  {"::ffff:192.0.2.0/120", "mapped", "residential", ""},
                                  {"alice", "alice", "residential", ""}});
  ASSERT_TRUE(d.has_value()) << d.error().message;
  std::vector<std::string> seen;
  d->for_each_network([&](const subscriber& s, const std::string& cidr) { seen.push_back(s.id + " " + cidr); });
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"home 198.51.100.7/32", "mapped 192.0.2.0/24", "shop 2001:db8:1::/48",
                                            "shop 203.0.113.0/24"}));
}

TEST(identity, resolve_precedence) {
  const cidr_directory d = sample();
  // Listed login wins over the address.
  resolution r = resolve(d, "alice@isp.example", "10.1.2.3", "residential");
  EXPECT_EQ(r.source, subscriber_source::login);
  EXPECT_EQ(r.who, (subscriber{"cust-alice", "business", "alice-contact@example.org"}));
  // Unlisted login: the login itself, default plan; the address is not consulted.
  r = resolve(d, "bob@isp.example", "10.1.2.3", "residential");
  EXPECT_EQ(r.source, subscriber_source::login_unlisted);
  EXPECT_EQ(r.who.id, "bob@isp.example");
  EXPECT_EQ(r.who.plan, "residential");
  // No login: the address mapping.
  r = resolve(d, "", "10.1.2.3", "residential");
  EXPECT_EQ(r.source, subscriber_source::address);
  EXPECT_EQ(r.who.id, "host");
  // Unknown address: ip:<addr>.
  r = resolve(d, "", "2001:db9::5", "residential");
  EXPECT_EQ(r.source, subscriber_source::unknown_address);
  EXPECT_EQ(r.who.id, "ip:2001:db9::5");
  EXPECT_FALSE(r.failure.has_value());
}

TEST(identity, resolve_reports_failures_and_never_calls_them_known) {
  const failing_directory down;
  resolution r = resolve(down, "", "192.0.2.7", "residential");
  EXPECT_EQ(r.source, subscriber_source::lookup_failed);
  EXPECT_EQ(r.who.id, "ip:192.0.2.7");
  EXPECT_EQ(r.who.plan, "residential");
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_EQ(r.failure->code, pw::errc::unavailable);
  r = resolve(down, "carol", "192.0.2.7", "residential");
  EXPECT_EQ(r.source, subscriber_source::lookup_failed);
  EXPECT_EQ(r.who.id, "carol");
  EXPECT_TRUE(r.failure.has_value());
  // An unparsable address from the peer: error reported, id sanitised and bounded.
  const cidr_directory d = sample();
  r = resolve(d, "", std::string("bad\naddr\x7f") + std::string(100, 'z'), "residential");
  EXPECT_EQ(r.source, subscriber_source::lookup_failed);
  EXPECT_EQ(r.failure->code, pw::errc::invalid_input);
  EXPECT_EQ(r.who.id.substr(0, 12), "ip:bad?addr?");
  EXPECT_EQ(r.who.id.size(), 3u + 64u);
  r = resolve(d, "", "", "residential");
  EXPECT_EQ(r.who.id, "ip:unknown");
  EXPECT_EQ(source_name(subscriber_source::lookup_failed), "lookup_failed");
}

}  // namespace
