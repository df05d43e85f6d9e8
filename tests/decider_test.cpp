#include <gtest/gtest.h>

#include <string>

#include "relay/decider.hpp"

namespace pw::relay {
namespace {

identity::cidr_directory directory() {
  auto d = identity::cidr_directory::build({{"192.0.2.0/24", "alice", "residential", ""},
                                            {"198.51.100.7", "bigco", "business", ""}});
  EXPECT_TRUE(d.has_value());
  return std::move(*d);
}

envelope from(std::string addr, int i, int recipients = 1) {
  envelope e;
  e.client_addr = std::move(addr);
  e.helo = "pc.example";
  e.sender = "user@example.org";
  for (int r = 0; r < recipients; ++r) {
    e.recipients.push_back("r" + std::to_string(i) + "x" + std::to_string(r) + "@d" + std::to_string(i) + ".example");
  }
  e.queue_id = "Q" + std::to_string(i);
  e.size_bytes = 4096;
  return e;
}

TEST(Decider, OrdinaryMailIsAcceptedAndTagged) {
  behavior::engine eng;
  behavior::recipient_hasher hasher("test-secret-0123456789");
  decider d(eng, hasher);
  const auto dir = directory();
  const outcome o = d.end_of_message(dir, from("192.0.2.10", 1), {}, {}, 1'700'000'000'000);
  EXPECT_EQ(o.who.who.id, "alice");
  EXPECT_EQ(o.decision.act, behavior::action::accept);
  EXPECT_EQ(o.tag_value, "level=normal; action=accept");
  EXPECT_FALSE(o.flagged) << "server.tag = flagged leaves ordinary mail untagged";
  EXPECT_FALSE(o.spam_probability) << "content-blind: no classifier";
}

TEST(Decider, UnknownSendersAreTrackedUnderTheirAddress) {
  behavior::engine eng;
  behavior::recipient_hasher hasher("test-secret-0123456789");
  decider d(eng, hasher);
  const auto dir = directory();
  const outcome o = d.end_of_message(dir, from("203.0.113.5", 1), {}, {}, 1'700'000'000'000);
  EXPECT_EQ(o.who.who.id, "ip:203.0.113.5");
  EXPECT_EQ(o.who.source, identity::subscriber_source::unknown_address);
  const outcome bad = d.end_of_message(dir, from("not-an-address", 2), {}, {}, 1'700'000'000'000);
  EXPECT_EQ(bad.who.source, identity::subscriber_source::lookup_failed);
  EXPECT_TRUE(bad.who.failure.has_value());
}

TEST(Decider, AContentBlindBurstEscalatesAndExplainsItselfInNumbers) {
  behavior::engine eng;
  behavior::recipient_hasher hasher("test-secret-0123456789");
  decider d(eng, hasher);
  const auto dir = directory();
  std::int64_t now = 1'700'000'000'000;
  outcome last;
  for (int i = 0; i < 200 && last.decision.lvl < behavior::level::throttle; ++i, now += 1000) {
    last = d.end_of_message(dir, from("192.0.2.10", i), {}, {}, now);
  }
  EXPECT_GE(last.decision.lvl, behavior::level::throttle);
  EXPECT_TRUE(last.flagged);
  EXPECT_NE(last.reasons.find("messages"), std::string::npos);
  EXPECT_NE(last.hold_reason.find(last.reasons), std::string::npos);
  // Wire texts: numbers and fixed words, no address of the envelope.
  for (const std::string* text : {&last.reasons, &last.hold_reason, &last.defer_text, &last.tag_value}) {
    EXPECT_EQ(text->find("example"), std::string::npos) << *text;
    EXPECT_EQ(text->find('@'), std::string::npos) << *text;
  }
  // Another subscriber is unaffected.
  const outcome other = d.end_of_message(dir, from("198.51.100.7", 1), {}, {}, now);
  EXPECT_EQ(other.who.who.id, "bigco");
  EXPECT_EQ(other.decision.lvl, behavior::level::normal);
}

}  // namespace
}  // namespace pw::relay
