// Tests for desk/port25.hpp: who may reach port 25 (plan default, active exemptions, suspension
// blocking even open plans, expiry), address validation and normalisation, overlap removal for nft,
// the exact JSON and CSV, and the nft file checked by the real nft (`nft -c -f`) for IPv4+IPv6, empty
// and awkward inputs. nft -c needs netlink access; where it cannot run the nft cases are skipped with
// nft's own reason.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "desk/lifecycle.hpp"
#include "desk/port25.hpp"

namespace pw::desk {
namespace {

using ledger::exemption_row;
using ledger::exemption_status;
using ledger::subscriber_row;

constexpr std::int64_t now = 1'795'796'827'000;  // 2026-11-27T16:27:07Z
constexpr const char* nft_binary = "/usr/sbin/nft";

const plan_defaults plans{{"residential", false}, {"business", true}};

subscriber_row sub(std::string id, std::string plan, std::vector<std::string> addresses) {
  return subscriber_row{std::move(id), std::move(plan), "", std::move(addresses), 0};
}

exemption_row exemption(std::int64_t id, std::string subscriber, exemption_status status,
                        std::optional<std::int64_t> expires = std::nullopt) {
  exemption_row e;
  e.id = id;
  e.subscriber = std::move(subscriber);
  e.status = status;
  e.expires_ms = expires;
  return e;
}

struct nft_run {
  int status = -1;
  std::string output;
};

nft_run run_nft_check(const std::string& ruleset) {
  std::string pattern = (std::filesystem::temp_directory_path() / "desk_port25_XXXXXX").string();
  const int fd = mkstemp(pattern.data());
  if (fd < 0) {
    return {-1, "mkstemp failed"};
  }
  close(fd);
  std::ofstream(pattern, std::ios::binary) << ruleset;
  nft_run run;
  const std::string command = std::string(nft_binary) + " -c -f " + pattern + " 2>&1";
  if (FILE* p = popen(command.c_str(), "r")) {
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, p) != nullptr) {
      run.output += buffer;
    }
    const int raw = pclose(p);
    run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
  std::filesystem::remove(pattern);
  return run;
}

// Skips the calling test when nft cannot check a trivial batch (no binary, no netlink permission).
#define SKIP_UNLESS_NFT_CHECKS()                                                                \
  do {                                                                                          \
    if (!std::filesystem::exists(nft_binary)) {                                                 \
      GTEST_SKIP() << nft_binary << " is not installed";                                        \
    }                                                                                           \
    const nft_run probe = run_nft_check("add table inet portwarden_probe\n");                   \
    if (probe.status != 0) {                                                                    \
      GTEST_SKIP() << "nft -c cannot run here (exit " << probe.status << "): " << probe.output; \
    }                                                                                           \
  } while (false)

TEST(DeskPort25, WhoIsAllowed) {
  const std::vector<subscriber_row> subs{
      sub("biz", "business", {"203.0.113.0/28"}),
      sub("biz-compromised", "business", {"203.0.113.64/28"}),
      sub("home", "residential", {"198.51.100.7"}),
      sub("home-exempt", "residential", {"198.51.100.8", "2001:db8:1::/48"}),
      sub("home-expired", "residential", {"198.51.100.9"}),
      sub("home-suspended", "residential", {"198.51.100.10"}),
      sub("home-pending", "residential", {"198.51.100.11"}),
  };
  const std::vector<exemption_row> rows{
      exemption(1, "home-exempt", exemption_status::active, now + ms_per_day),
      exemption(2, "home-expired", exemption_status::active, now),
      exemption(3, "home-suspended", exemption_status::suspended),
      exemption(4, "biz-compromised", exemption_status::suspended),
      exemption(5, "home-pending", exemption_status::pending),
      exemption(6, "home-exempt", exemption_status::active, now + 2 * ms_per_day),
      exemption(7, "home-exempt", exemption_status::refused),
  };
  const auto list = build_port25_allow_list(subs, rows, plans, now);
  EXPECT_TRUE(list.warnings.empty());
  const std::vector<allowed_address> expected{
      {"home-exempt", "198.51.100.8", false, "exemption 6", now + 2 * ms_per_day},
      {"biz", "203.0.113.0/28", false, "plan business", std::nullopt},
      {"home-exempt", "2001:db8:1::/48", true, "exemption 6", now + 2 * ms_per_day},
  };
  EXPECT_EQ(list.entries, expected);
  EXPECT_EQ(list.nft_v4, (std::vector<std::string>{"198.51.100.8", "203.0.113.0/28"}));
  EXPECT_EQ(list.nft_v6, (std::vector<std::string>{"2001:db8:1::/48"}));
}

TEST(DeskPort25, ValidationAndNormalisation) {
  const std::vector<subscriber_row> subs{
      sub("a", "business",
          {"192.0.2.1/24", "2001:DB8:0:0::1", "2001:db8::/129", "10.0.0.1/33", "fe80::1%eth0", "not-an-ip", "10.0.0.0/",
           "10.0.0.0/+8", "10.0.0.0/8/8", " 10.0.0.1", "10.0.0.256", "::ffff:192.0.2.9", "0.0.0.0/0"}),
      sub("b", "mystery", {"192.0.2.200"}),
  };
  const auto list = build_port25_allow_list(
      subs, std::vector<exemption_row>{exemption(9, "ghost", exemption_status::active)}, plans, now);
  std::vector<std::string> addresses;
  for (const auto& e : list.entries) {
    addresses.push_back(e.address);
  }
  EXPECT_EQ(addresses, (std::vector<std::string>{"0.0.0.0/0", "192.0.2.0/24", "::ffff:192.0.2.9", "2001:db8::1"}));
  EXPECT_EQ(list.nft_v4, (std::vector<std::string>{"0.0.0.0/0"})) << "everything else lies inside 0.0.0.0/0";
  const std::string all_warnings = [&] {
    std::string s;
    for (const auto& w : list.warnings) {
      s += w + "\n";
    }
    return s;
  }();
  for (const char* bad : {"'2001:db8::/129'", "'10.0.0.1/33'", "'fe80::1%eth0'", "'not-an-ip'", "'10.0.0.0/'",
                          "'10.0.0.0/+8'", "'10.0.0.0/8/8'", "' 10.0.0.1'", "'10.0.0.256'"}) {
    EXPECT_NE(all_warnings.find(std::string("subscriber a: skipped ") + bad), std::string::npos) << bad;
  }
  EXPECT_NE(all_warnings.find("'192.0.2.1/24' has host bits set; exported as 192.0.2.0/24"), std::string::npos);
  EXPECT_NE(all_warnings.find("plan 'mystery' has no port-25 default configured"), std::string::npos);
  EXPECT_NE(all_warnings.find("exemption 9: subscriber ghost is unknown"), std::string::npos);
}

TEST(DeskPort25, OverlapsAreRemovedFromNftSets) {
  const std::vector<subscriber_row> subs{
      sub("wide", "business", {"10.0.0.0/8", "2001:db8::/32"}),
      sub("narrow", "business", {"10.1.0.0/16", "10.1.2.3", "2001:db8:5::1"}),
      sub("twin", "business", {"192.0.2.5", "192.0.2.5"}),
      sub("next", "business", {"11.0.0.0/8"}),
  };
  const auto list = build_port25_allow_list(subs, {}, plans, now);
  EXPECT_EQ(list.entries.size(), 8u);
  EXPECT_EQ(list.nft_v4, (std::vector<std::string>{"10.0.0.0/8", "11.0.0.0/8", "192.0.2.5"}));
  EXPECT_EQ(list.nft_v6, (std::vector<std::string>{"2001:db8::/32"}));
  EXPECT_EQ(list.warnings.size(), 3u);  // narrow's three inside wide's; twin's duplicate is its own
}

TEST(DeskPort25, JsonAndCsvExactly) {
  const std::vector<subscriber_row> subs{
      sub("acme, \"inc\"", "business", {"203.0.113.0/28"}),
      sub("home\x01\xff", "residential", {"2001:db8::7"}),
  };
  const auto list = build_port25_allow_list(
      subs, std::vector<exemption_row>{exemption(4, "home\x01\xff", exemption_status::active, now)}, plans,
      now - ms_per_day);
  EXPECT_EQ(render_csv(list),
            "subscriber,address,why,expires\r\n"
            "\"acme, \"\"inc\"\"\",203.0.113.0/28,plan business,\r\n"
            "home\x01?,2001:db8::7,exemption 4,2026-11-27T16:27:07Z\r\n");
  EXPECT_EQ(render_json(list),
            "{\"allow\":[\n"
            "{\"subscriber\":\"acme, \\\"inc\\\"\",\"address\":\"203.0.113.0/28\",\"family\":\"ipv4\","
            "\"why\":\"plan business\",\"expires\":null},\n"
            "{\"subscriber\":\"home\\u0001?\",\"address\":\"2001:db8::7\",\"family\":\"ipv6\","
            "\"why\":\"exemption 4\",\"expires\":\"2026-11-27T16:27:07Z\"}],\n"
            "\"warnings\":[]}\n");
  EXPECT_EQ(render_export(list, export_format::csv), render_csv(list));
  EXPECT_EQ(parse_export_format("nft"), export_format::nft);
  EXPECT_EQ(parse_export_format("json"), export_format::json);
  EXPECT_EQ(parse_export_format("csv"), export_format::csv);
  EXPECT_FALSE(parse_export_format("xml"));
}

TEST(DeskPort25, NftFileIsDeterministic) {
  const std::vector<subscriber_row> a{sub("subscriber-x", "business", {"192.0.2.0/24"}),
                                      sub("subscriber-y", "business", {"2001:db8::1"})};
  const std::vector<subscriber_row> b{a[1], a[0]};
  const std::string nft = render_nft(build_port25_allow_list(a, {}, plans, now));
  EXPECT_EQ(nft, render_nft(build_port25_allow_list(b, {}, plans, now)));
  EXPECT_NE(nft.find("add element inet portwarden port25_allow_v4 { 192.0.2.0/24 }\n"), std::string::npos);
  EXPECT_NE(nft.find("add element inet portwarden port25_allow_v6 { 2001:db8::1 }\n"), std::string::npos);
  EXPECT_NE(nft.find("add set inet portwarden port25_allow_v4 { type ipv4_addr; flags interval; }"), std::string::npos);
  EXPECT_EQ(nft.find("subscriber-"), std::string::npos) << "ids stay out of the router's file";
}

TEST(DeskPort25, NftAcceptsV4AndV6Sets) {
  SKIP_UNLESS_NFT_CHECKS();
  const std::vector<subscriber_row> subs{
      sub("biz", "business", {"203.0.113.0/28", "198.51.100.1", "2001:db8:1::/48", "2001:db8:2::5"}),
      sub("wide", "business", {"10.0.0.0/8", "10.1.0.0/16", "192.0.2.77/24", "::ffff:192.0.2.9", "bogus"}),
  };
  const std::string nft = render_nft(build_port25_allow_list(subs, {}, plans, now));
  const nft_run run = run_nft_check(nft);
  EXPECT_EQ(run.status, 0) << run.output << "\n" << nft;
}

TEST(DeskPort25, NftAcceptsEmptySets) {
  SKIP_UNLESS_NFT_CHECKS();
  const std::string nft = render_nft(build_port25_allow_list({}, {}, plans, now));
  EXPECT_EQ(nft.find("add element"), std::string::npos);
  const nft_run run = run_nft_check(nft);
  EXPECT_EQ(run.status, 0) << run.output << "\n" << nft;
  // Only one family present.
  const std::string v6_only = render_nft(
      build_port25_allow_list(std::vector<subscriber_row>{sub("v6", "business", {"2001:db8::/64"})}, {}, plans, now));
  const nft_run run6 = run_nft_check(v6_only);
  EXPECT_EQ(run6.status, 0) << run6.output << "\n" << v6_only;
}

TEST(DeskPort25, NftRejectsWhatWeNeverEmit) {
  SKIP_UNLESS_NFT_CHECKS();
  // The check is real: the overlap the builder removes is refused by nft.
  const nft_run run = run_nft_check(
      "add table inet portwarden_probe\n"
      "add set inet portwarden_probe s { type ipv4_addr; flags interval; }\n"
      "add element inet portwarden_probe s { 10.0.0.0/8, 10.1.0.0/16 }\n");
  EXPECT_NE(run.status, 0);
}

}  // namespace
}  // namespace pw::desk
