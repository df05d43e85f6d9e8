// The release command runner (server/release_command.hpp): queue ids reach the command's standard
// input one per line, failures come back with the command's own words, a hung command is killed.
#include "release_command.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using namespace std::chrono_literals;

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("pw_release_" + std::to_string(::getpid()) + "_" + name);
}

TEST(ReleaseCommand, QueueIdsArriveOnStandardInputOnePerLine) {
  const auto out = temp_file("ids");
  auto r = pw::server::run_release_command({"sh", "-c", "cat > " + out.string()}, {"A172DA7E5AD", "4XbqK1z2"}, 10s);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "A172DA7E5AD\n4XbqK1z2\n");
  std::filesystem::remove(out);
}

TEST(ReleaseCommand, NoQueueIdsRunsNothing) {
  // `false` would fail: with nothing to release the command is not run at all.
  EXPECT_TRUE(pw::server::run_release_command({"false"}, {}, 10s).has_value());
}

TEST(ReleaseCommand, AFailureCarriesTheExitStatusAndStandardError) {
  auto r = pw::server::run_release_command({"sh", "-c", "cat > /dev/null; echo 'postsuper: fatal: no such queue' >&2; exit 3"},
                                           {"ABC123"}, 10s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, pw::errc::unavailable);
  EXPECT_NE(r.error().message.find("status 3"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("no such queue"), std::string::npos) << r.error().message;
}

TEST(ReleaseCommand, AHungCommandIsKilledAtTheDeadline) {
  const auto started = std::chrono::steady_clock::now();
  auto r = pw::server::run_release_command({"sleep", "30"}, {"ABC123"}, 300ms);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("did not finish"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(ReleaseCommand, AMissingCommandIsReported) {
  auto r = pw::server::run_release_command({"/nonexistent/postsuper", "-H", "-"}, {"ABC123"}, 10s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, pw::errc::unavailable);
}

TEST(ReleaseCommand, OnlyPostfixQueueIdsAreAccepted) {
  // "ALL" would release every held message of every subscriber if postsuper read it as its keyword.
  for (const char* bad : {"", "ABC 123", "ABC\n123", "../etc", "ALL", "-x"}) {
    auto r = pw::server::run_release_command({"cat"}, {bad}, 10s);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, pw::errc::invalid_input) << bad;
  }
  EXPECT_EQ(pw::server::run_release_command({}, {"ABC"}, 10s).error().code, pw::errc::invalid_input);
}

}  // namespace
