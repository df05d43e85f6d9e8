// Tests for src/config: every option type, error reporting (all errors, with positions and
// suggestions), listener and duration syntax, the example file, the defaults and docs/CONFIG.md.
#include "config/config.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace pw::config {
namespace {

namespace fs = std::filesystem;

const fs::path data_dir = fs::path(PW_TEST_DATA_DIR) / "config";
const fs::path repo_dir = fs::path(PW_TEST_DATA_DIR).parent_path().parent_path();

using pw::test::temp_dir;

void write_file(const fs::path& p, const std::string& text, fs::perms perms = fs::perms(0600)) {
  std::ofstream(p, std::ios::binary) << text;
  fs::permissions(p, perms);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

// The error lines of a text that must fail to load.
std::vector<std::string> errors_of(const std::string& text, const std::string& origin = "t.toml") {
  auto r = load_string(text, origin);
  EXPECT_FALSE(r.has_value()) << "expected errors for:\n" << text;
  if (r) {
    return {};
  }
  EXPECT_EQ(r.error().code, errc::invalid_config);
  return lines_of(r.error().message);
}

std::vector<std::string> fields(const identity::directory_entry& e) { return {e.key, e.id, e.plan, e.contact}; }

loaded_config load_ok(const std::string& text, const std::string& base_dir = "") {
  auto r = load_string(text, "t.toml", base_dir);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : loaded_config{};
}

TEST(Config, EmptyFileGivesTheDefaultConstructedSettings) {
  const auto loaded = load_ok("");
  EXPECT_EQ(to_toml(loaded.values), to_toml(settings{}));
  // The only complaint about the defaults: no hashing key was configured.
  ASSERT_EQ(loaded.warnings.size(), 1U);
  EXPECT_NE(loaded.warnings[0].find("privacy.secret_file is not set"), std::string::npos) << loaded.warnings[0];
  const settings d{};
  EXPECT_EQ(d.server.milter.to_string(), "inet:127.0.0.1:10050");
  EXPECT_EQ(d.server.policy.to_string(), "inet:127.0.0.1:10040");
  EXPECT_EQ(d.server.http.to_string(), "inet:127.0.0.1:10080");
  EXPECT_EQ(d.server.fallback, fallback_action::accept);
  EXPECT_LT(d.server.verdict_deadline_ms, 30'000);  // inside Postfix's milter_command_timeout
}

TEST(Config, EveryOptionTypeArrives) {
  temp_dir dir;
  for (const char* name : {"all_types.toml", "subscribers.tsv", "spam.model"}) {
    fs::copy_file(data_dir / name, dir / name);
  }
  write_file(dir / "secret.key", std::string(32, 's'));
  auto r = load_file((dir / "all_types.toml").string());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->warnings.empty()) << r->warnings[0];
  const settings& s = r->values;

  EXPECT_EQ(s.server.milter, listen_address::unix_socket("/run/portwarden/milter.sock"));
  EXPECT_EQ(s.server.policy, listen_address::inet("::1", 10041));
  EXPECT_EQ(s.server.http.type, listen_address::kind::disabled);
  EXPECT_EQ(s.server.user, "portwarden");
  EXPECT_EQ(s.server.worker_threads, 4);
  EXPECT_EQ(s.server.verdict_deadline_ms, 1500);
  EXPECT_EQ(s.server.fallback, fallback_action::tempfail);
  EXPECT_EQ(s.server.drain_timeout_ms, 60'000);
  EXPECT_EQ(s.server.max_message_bytes, 65536);

  EXPECT_TRUE(s.engine.observe_only);
  EXPECT_DOUBLE_EQ(s.engine.hysteresis, 0.5);
  EXPECT_EQ(s.engine.cool_down_ms, 45LL * 60'000);
  EXPECT_EQ(s.engine.hold_timeout_ms, 2LL * 86'400'000);
  EXPECT_EQ(s.engine.grace_ms, 12LL * 3'600'000);
  EXPECT_EQ(s.engine.expire_idle_ms, 7LL * 86'400'000);
  EXPECT_EQ(s.engine.shards, 16U);
  EXPECT_EQ(s.engine.default_plan, "home");
  ASSERT_EQ(s.engine.plans.size(), 2U);
  const auto& home = s.engine.plans[0];
  EXPECT_EQ(home.name, "home");
  EXPECT_EQ(home.ceiling, behavior::level::throttle);
  EXPECT_DOUBLE_EQ(home.watch_at, 1.0);  // an integer is accepted where a number is expected
  EXPECT_DOUBLE_EQ(home.throttle_at, 2.5);
  EXPECT_DOUBLE_EQ(home.hold_at, 4.0);
  EXPECT_DOUBLE_EQ(home.prior_messages_per_day, 3);
  EXPECT_DOUBLE_EQ(home.prior_recipients_per_day, 6);
  EXPECT_DOUBLE_EQ(home.baseline_alpha, 0.2);
  EXPECT_EQ(home.floor_messages, (std::array<double, 4>{4, 8, 16, 32}));
  EXPECT_EQ(home.floor_recipients, (std::array<double, 4>{8, 16, 32, 64.5}));
  EXPECT_EQ(home.burst_factor, (std::array<double, 4>{20, 10, 5, 1}));
  EXPECT_DOUBLE_EQ(home.novelty_weight, 0.5);
  EXPECT_DOUBLE_EQ(home.content_weight, 2);
  EXPECT_DOUBLE_EQ(home.churn_weight, 0.125);
  EXPECT_DOUBLE_EQ(home.throttle_messages_per_hour, 12);
  // Keys left out of a plan take plan_settings' defaults.
  const behavior::plan_settings plan_defaults{};
  EXPECT_EQ(s.engine.plans[1].name, "office");
  EXPECT_DOUBLE_EQ(s.engine.plans[1].hold_at, plan_defaults.hold_at);
  EXPECT_EQ(s.engine.plans[1].floor_messages, plan_defaults.floor_messages);

  // Relative paths resolve against the configuration file's directory.
  EXPECT_EQ(s.classifier.model, (dir / "spam.model").string());
  EXPECT_EQ(s.store.path, "/tmp/portwarden-test/state.db");
  EXPECT_EQ(s.store.snapshot_interval_ms, 10'000);
  EXPECT_EQ(s.store.decision_retention_ms, 90LL * 86'400'000);
  EXPECT_EQ(s.privacy.secret_file, (dir / "secret.key").string());
  EXPECT_EQ(s.subscribers.file, (dir / "subscribers.tsv").string());
  ASSERT_EQ(s.subscribers.entries.size(), 2U);
  EXPECT_EQ(fields(s.subscribers.entries[0]),
            (std::vector<std::string>{"192.0.2.0/24", "cust-1001", "office", "noc@example.net"}));
  // An entry without a plan gets engine.default_plan.
  EXPECT_EQ(fields(s.subscribers.entries[1]), (std::vector<std::string>{"alice", "cust-1002", "home", ""}));
  EXPECT_EQ(s.log.level, log_level::debug);

  // to_toml writes every option; reading it back gives the same settings.
  auto again = load_string(to_toml(s), "again.toml");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(to_toml(again->values), to_toml(s));
}

TEST(Config, ManyErrorsAreReportedTogetherAtTheirPositions) {
  const std::string path = (data_dir / "many_errors.toml").string();
  auto r = load_file(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_config);
  const std::vector<std::string> expected{
      path +
          ":3:10: server.milter: 'inet:localhost:10050' has no IP address (host names are not resolved for "
          "listening) (expected \"inet:ADDRESS:PORT\", \"inet:[IPv6]:PORT\", \"unix:/path\" or \"\" to disable)",
      path + ":4:18: server.worker_threads: 0 is out of range (1 to 256)",
      path + ":5:20: server.verdict_deadline: '30' has no unit (use ms, s, m, h or d)",
      path + ":6:12: server.fallback: 'tag' is not one of accept, tempfail",
      path + ":7:1: unknown key 'server.milter_listen' (did you mean 'server.milter'?)",
      path + ":10:14: engine.hysteresis: expected a number, found a string",
      path + ":11:16: engine.observe_only: expected true or false, found an integer",
      path + ":15:1: unknown key 'engine.plans.watch_att' (did you mean 'engine.plans.watch_at'?)",
      path + ":16:18: engine.plans.floor_messages: expected 4 numbers (1 min, 10 min, 1 h, 24 h), found 3",
      path + ":19:9: log.level: 'verbose' is not one of error, warning, info, debug",
      path + ":20:1: unknown key 'log.colour'",
  };
  EXPECT_EQ(lines_of(r.error().message), expected);
}

TEST(Config, SyntaxErrorHasTomlPosition) {
  const auto errors = errors_of("[server]\nworker_threads = 2\nuser = \"unterminated\n", "syntax.toml");
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(errors[0].rfind("syntax.toml:3:", 0), 0U) << errors[0];
}

TEST(Config, UnknownKeysSuggestTheNearestKnownOne) {
  EXPECT_EQ(errors_of("[server]\nworker_thread = 2\n"),
            std::vector<std::string>{
                "t.toml:2:1: unknown key 'server.worker_thread' (did you mean 'server.worker_threads'?)"});
  // The right name in the wrong table.
  EXPECT_EQ(errors_of("milter = \"\"\n"),
            std::vector<std::string>{"t.toml:1:1: unknown key 'milter' (did you mean 'server.milter'?)"});
  EXPECT_EQ(errors_of("[sever]\nuser = \"x\"\n"),
            std::vector<std::string>{"t.toml:1:2: unknown key 'sever' (did you mean 'server'?)"});
  // Nothing close: no suggestion.
  EXPECT_EQ(errors_of("[server]\nfrobnicate = 1\n"),
            std::vector<std::string>{"t.toml:2:1: unknown key 'server.frobnicate'"});
  // Dotted keys and inline tables are the same keys.
  EXPECT_EQ(errors_of("server.milterr = \"\"\n"),
            std::vector<std::string>{"t.toml:1:8: unknown key 'server.milterr' (did you mean 'server.milter'?)"});
  EXPECT_EQ(load_ok("server = { user = \"mail\" }\n").values.server.user, "mail");
  EXPECT_EQ(errors_of("server = 5\n"),
            std::vector<std::string>{"t.toml:1:10: server: expected a table ([server]), found an integer"});
}

TEST(Config, WrongTypesAndRangesAreErrors) {
  EXPECT_EQ(errors_of("[server]\nworker_threads = \"2\"\n"),
            std::vector<std::string>{"t.toml:2:18: server.worker_threads: expected an integer, found a string"});
  EXPECT_EQ(errors_of("[server]\nverdict_deadline = 2000\n"),
            std::vector<std::string>{"t.toml:2:20: server.verdict_deadline: expected a duration string such as "
                                     "\"30s\", found an integer"});
  EXPECT_EQ(errors_of("[server]\nverdict_deadline = \"1h\"\n"),
            std::vector<std::string>{"t.toml:2:20: server.verdict_deadline: '1h' is out of range (10ms to 25s)"});
  EXPECT_EQ(errors_of("[engine]\nhysteresis = 1.5\n"),
            std::vector<std::string>{"t.toml:2:14: engine.hysteresis: 1.5 is out of range (0.0 to 1.0)"});
  EXPECT_EQ(errors_of("[engine]\nhysteresis = nan\n"),
            std::vector<std::string>{"t.toml:2:14: engine.hysteresis: nan is out of range (0.0 to 1.0)"});
  EXPECT_EQ(errors_of("[server]\nuser = \"a\\u0000b\"\n"),
            std::vector<std::string>{"t.toml:2:8: server.user: contains a control character"});
  // The engine's own validation runs on the result and points at [engine].
  const auto engine = errors_of("[engine]\nhysteresis = 0.0\n");
  ASSERT_EQ(engine.size(), 1U);
  EXPECT_EQ(engine[0].rfind("t.toml:1:2: engine: hysteresis", 0), 0U) << engine[0];
}

TEST(Config, PlansReplaceTheBuiltInOnesAndAreChecked) {
  const auto loaded =
      load_ok("[engine]\ndefault_plan = \"solo\"\n[[engine.plans]]\nname = \"solo\"\nceiling = \"watch\"\n");
  ASSERT_EQ(loaded.values.engine.plans.size(), 1U);
  EXPECT_EQ(loaded.values.engine.plans[0].ceiling, behavior::level::watch);

  EXPECT_EQ(errors_of("[engine]\ndefault_plan = \"solo\"\n[[engine.plans]]\nceiling = \"watch\"\n"),
            (std::vector<std::string>{"t.toml:3:1: engine.plans[1]: 'name' is required"}));
  // Built-in plans are replaced, so the default plan must be among the new ones.
  const auto missing_default = errors_of("[[engine.plans]]\nname = \"solo\"\n");
  ASSERT_EQ(missing_default.size(), 1U);
  EXPECT_NE(missing_default[0].find("engine: "), std::string::npos) << missing_default[0];
  EXPECT_EQ(errors_of("[engine]\nplans = 3\n"),
            std::vector<std::string>{
                "t.toml:2:9: engine.plans: expected an array of tables ([[engine.plans]]), found an integer"});
  EXPECT_EQ(errors_of("[[engine.plans]]\nname = \"residential\"\nceiling = \"panic\"\n"),
            std::vector<std::string>{
                "t.toml:3:11: engine.plans.ceiling: 'panic' is not one of normal, watch, throttle, hold"});
}

TEST(Config, SubscriberEntriesAreCheckedOneByOne) {
  const std::string good =
      "[[subscribers.entry]]\ncidr = \"2001:db8::/48\"\nid = \"v6\"\nplan = \"business\"\n"
      "[[subscribers.entry]]\nlogin = \"bob\"\nid = \"b\"\n";
  const auto loaded = load_ok(good);
  ASSERT_EQ(loaded.values.subscribers.entries.size(), 2U);
  EXPECT_EQ(loaded.values.subscribers.entries[1].plan, "residential");

  EXPECT_EQ(errors_of("[[subscribers.entry]]\ncidr = \"10.0.0.0/8\"\nlogin = \"x\"\nid = \"a\"\n"),
            std::vector<std::string>{"t.toml:1:1: subscribers.entry[1]: give exactly one of 'cidr' and 'login'"});
  EXPECT_EQ(
      errors_of("[[subscribers.entry]]\nlogin = \"10.0.0.1\"\nid = \"a\"\n"),
      std::vector<std::string>{"t.toml:2:9: subscribers.entry[1].login: '10.0.0.1' looks like an address; use 'cidr'"});
  EXPECT_EQ(errors_of("[[subscribers.entry]]\ncidr = \"mailhost\"\nid = \"a\"\n"),
            std::vector<std::string>{"t.toml:2:8: subscribers.entry[1].cidr: 'mailhost' is not an address or network"});
  EXPECT_EQ(errors_of("[[subscribers.entry]]\ncidr = \"10.0.0.0/8\"\nid = \"a\"\nplan = \"gold\"\n"),
            std::vector<std::string>{"t.toml:1:1: subscribers.entry[1].plan: 'gold' is not one of engine.plans"});
  EXPECT_EQ(errors_of("[[subscribers.entry]]\ncidr = \"10.0.0.0/8\"\n"),
            std::vector<std::string>{"t.toml:1:1: subscribers.entry[1]: 'id' is required"});

  // A malformed CIDR and a duplicate, each at its own entry.
  const auto errors = errors_of(
      "[[subscribers.entry]]\ncidr = \"10.0.0.1/8\"\nid = \"a\"\n"
      "[[subscribers.entry]]\ncidr = \"10.1.0.0/16\"\nid = \"b\"\n"
      "[[subscribers.entry]]\ncidr = \"10.1.0.0/16\"\nid = \"c\"\n");
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_EQ(errors[0].rfind("t.toml:1:1: subscribers.entry[1]: ", 0), 0U) << errors[0];
  EXPECT_EQ(errors[1], "t.toml:7:1: subscribers.entry[3]: '10.1.0.0/16' is already listed in subscribers.entry[2]");
}

TEST(Config, ListenerAddresses) {
  const std::vector<std::pair<std::string, listen_address>> good{
      {"inet:127.0.0.1:10050", listen_address::inet("127.0.0.1", 10050)},
      {"inet:[::1]:10050", listen_address::inet("::1", 10050)},
      {"inet:0.0.0.0:1", listen_address::inet("0.0.0.0", 1)},
      {"inet:[::]:65535", listen_address::inet("::", 65535)},
      {"unix:/run/portwarden/milter.sock", listen_address::unix_socket("/run/portwarden/milter.sock")},
      {"", listen_address{}},
  };
  for (const auto& [text, want] : good) {
    auto got = parse_listen_address(text);
    ASSERT_TRUE(got.has_value()) << text << ": " << got.error().message;
    EXPECT_EQ(*got, want) << text;
    EXPECT_EQ(got->to_string(), text);
  }
  const std::vector<std::pair<std::string, std::string>> bad{
      {"inet:127.0.0.1", "has no port"},
      {"inet:localhost:10050", "has no IP address"},
      {"inet:::1:10050", "without [brackets]"},
      {"inet:[::1]10050", "unterminated [IPv6] address or no port"},
      {"inet:[::1:10050", "unterminated [IPv6] address or no port"},
      {"inet:[127.0.0.1]:10050", "invalid IPv6 address"},
      {"inet:127.0.0.1:0", "no port from 1 to 65535"},
      {"inet:127.0.0.1:65536", "no port from 1 to 65535"},
      {"inet:127.0.0.1:+80", "no port from 1 to 65535"},
      {"inet:127.0.0.1:", "no port from 1 to 65535"},
      {"inet:256.0.0.1:80", "has no IP address"},
      {"unix:relative.sock", "needs an absolute socket path"},
      {"unix:/" + std::string(200, 'x'), "longer than 107 bytes"},
      {"tcp:127.0.0.1:80", "has no inet: or unix: prefix"},
      {"127.0.0.1:80", "has no inet: or unix: prefix"},
  };
  for (const auto& [text, why] : bad) {
    auto got = parse_listen_address(text);
    ASSERT_FALSE(got.has_value()) << text;
    EXPECT_EQ(got.error().code, errc::invalid_config);
    EXPECT_NE(got.error().message.find(why), std::string::npos) << text << ": " << got.error().message;
  }
}

TEST(Config, Durations) {
  EXPECT_EQ(*parse_duration_ms("250ms"), 250);
  EXPECT_EQ(*parse_duration_ms("30s"), 30'000);
  EXPECT_EQ(*parse_duration_ms("10m"), 600'000);
  EXPECT_EQ(*parse_duration_ms("2h"), 7'200'000);
  EXPECT_EQ(*parse_duration_ms("7d"), 604'800'000);
  EXPECT_EQ(*parse_duration_ms("0s"), 0);
  for (const char* text :
       {"30", "s", "", "1.5s", "-1s", "10 s", " 10s", "1w", "10S", "1h30m", "99999999999999999999d", "106751991168d"}) {
    auto got = parse_duration_ms(text);
    EXPECT_FALSE(got.has_value()) << text;
  }
  EXPECT_EQ(format_duration(0), "0ms");
  EXPECT_EQ(format_duration(1500), "1500ms");
  EXPECT_EQ(format_duration(120'000), "2m");
  EXPECT_EQ(format_duration(86'400'000), "1d");
  EXPECT_EQ(format_duration(90 * 60'000), "90m");
}

TEST(Config, SecretFileMustExistBeLongEnoughAndIsWarnedWhenWorldReadable) {
  temp_dir dir;
  const std::string base = dir.path().string();
  write_file(dir / "good", std::string(16, 'k'), fs::perms(0600));
  write_file(dir / "short", std::string(15, 'k'), fs::perms(0600));
  write_file(dir / "open", std::string(32, 'k'), fs::perms(0644));

  const auto good = load_ok("[privacy]\nsecret_file = \"good\"\n", base);
  EXPECT_TRUE(good.warnings.empty());
  EXPECT_EQ(good.values.privacy.secret_file, (dir / "good").string());

  auto short_key = load_string("[privacy]\nsecret_file = \"short\"\n", "t.toml", base);
  ASSERT_FALSE(short_key);
  EXPECT_NE(short_key.error().message.find("t.toml:2:1: privacy.secret_file: "), std::string::npos);
  EXPECT_NE(short_key.error().message.find("holds 15 bytes; at least 16"), std::string::npos)
      << short_key.error().message;

  auto missing = load_string("[privacy]\nsecret_file = \"absent\"\n", "t.toml", base);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos) << missing.error().message;

  const auto open = load_ok("[privacy]\nsecret_file = \"open\"\n", base);
  ASSERT_EQ(open.warnings.size(), 1U);
  EXPECT_EQ(open.warnings[0].rfind("t.toml:2:1: warning: privacy.secret_file: ", 0), 0U) << open.warnings[0];
  EXPECT_NE(open.warnings[0].find("readable by every user"), std::string::npos);
}

TEST(Config, ConfiguredFilesMustExist) {
  const auto errors = errors_of("[subscribers]\nfile = \"/nonexistent/subscribers\"\n[classifier]\nmodel = \"/\"\n");
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_EQ(errors[0],
            "t.toml:2:1: subscribers.file: cannot use '/nonexistent/subscribers': No such file or directory");
  EXPECT_EQ(errors[1], "t.toml:4:1: classifier.model: '/' is not a regular file");
}

TEST(Config, UnreadableFileIsAnIoError) {
  auto r = load_file("/nonexistent/portwarden.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::io);
  EXPECT_NE(r.error().message.find("/nonexistent/portwarden.toml"), std::string::npos);
}

TEST(Config, ErrorCountIsCappedAndValuesAreQuotedSafely) {
  std::string text = "[server]\n";
  for (int i = 0; i < 150; ++i) {
    text += "unknown" + std::to_string(i) + " = 1\n";
  }
  const auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), max_reported_errors + 1);
  EXPECT_EQ(errors.back(), "t.toml: 50 more not shown");

  const auto quoted = errors_of("[log]\nlevel = \"\\u001b[31m" + std::string(100, 'x') + "\"\n");
  ASSERT_EQ(quoted.size(), 1U);
  EXPECT_EQ(quoted[0].find('\x1b'), std::string::npos);
  EXPECT_NE(quoted[0].find("'?[31mxxx"), std::string::npos) << quoted[0];
  EXPECT_NE(quoted[0].find("...'"), std::string::npos) << quoted[0];
}

TEST(Config, ExampleFileLoadsAndDocumentsTheRealDefaults) {
  const fs::path example = repo_dir / "etc" / "portwarden.toml";
  auto r = load_file(example.string());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  // The example keeps the secret file commented out (a machine-specific path), so that warning stays.
  ASSERT_EQ(r->warnings.size(), 1U) << r->warnings[0];
  EXPECT_NE(r->warnings[0].find("privacy.secret_file is not set"), std::string::npos);
  // Its active values are the defaults, so the example cannot drift from the code.
  EXPECT_EQ(to_toml(r->values), to_toml(settings{}));
}

// docs/CONFIG.md is describe_options(); PW_UPDATE_DOCS=1 rewrites it.
TEST(Config, ConfigReferenceIsUpToDate) {
  const fs::path doc = repo_dir / "docs" / "CONFIG.md";
  const std::string want = describe_options();
  if (const char* update = std::getenv("PW_UPDATE_DOCS"); update != nullptr && std::string(update) == "1") {
    std::ofstream(doc, std::ios::binary) << want;
  }
  EXPECT_EQ(read_file(doc), want) << "docs/CONFIG.md is stale: run PW_UPDATE_DOCS=1 config_test "
                                     "--gtest_filter=Config.ConfigReferenceIsUpToDate";
}

TEST(Config, DescriptionListsEveryOptionWithTypeAndDefault) {
  const std::string d = describe_options();
  for (const char* name :
       {"`server.milter`", "`server.fallback`", "`engine.plans`", "`engine.plans[].hold_at`",
        "`subscribers.entry[].cidr`", "`store.snapshot_interval`", "`privacy.secret_file`", "`log.level`"}) {
    EXPECT_NE(d.find(name), std::string::npos) << name;
  }
  EXPECT_NE(d.find("default `\"inet:127.0.0.1:10050\"`"), std::string::npos);
  EXPECT_NE(d.find("default 3 plans: \"residential\", \"business\", \"bulk\""), std::string::npos);
  EXPECT_NE(d.find("one of accept, tempfail — default `\"accept\"`"), std::string::npos);
}

}  // namespace
}  // namespace pw::config
