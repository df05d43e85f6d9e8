// tests/auth/auth_test.cpp — pw_auth: password hashing, tokens, rate limiting, cookies.
#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "auth/cookie.hpp"
#include "auth/password.hpp"
#include "auth/rate_limit.hpp"
#include "auth/roles.hpp"
#include "auth/token.hpp"

namespace {

using namespace pw::auth;

// Cheap parameters for the tests that are about behaviour, not cost.
constexpr argon2_params fast{.time_cost = 1, .memory_kib = 8 * 1024, .parallelism = 1};

TEST(AuthPassword, RoundTripWithDefaults) {
  const auto encoded = hash_password("correct horse battery staple");
  ASSERT_TRUE(encoded) << encoded.error().message;
  EXPECT_EQ(encoded->rfind("$argon2id$v=19$m=19456,t=3,p=1$", 0), 0u) << *encoded;
  EXPECT_TRUE(verify_password("correct horse battery staple", *encoded));
  EXPECT_FALSE(verify_password("correct horse battery stapl", *encoded));
  EXPECT_FALSE(verify_password("", *encoded));
}

TEST(AuthPassword, EmptyAndBinaryPasswords) {
  const auto empty = hash_password("", fast);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(verify_password("", *empty));
  EXPECT_FALSE(verify_password(" ", *empty));
  const std::string binary("a\0b\xff", 4);
  const auto encoded = hash_password(binary, fast);
  ASSERT_TRUE(encoded);
  EXPECT_TRUE(verify_password(binary, *encoded));
  EXPECT_FALSE(verify_password("a", *encoded));  // the NUL does not end the password
}

TEST(AuthPassword, TwoHashesOfOnePasswordDiffer) {
  const auto a = hash_password("same", fast);
  const auto b = hash_password("same", fast);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(verify_password("same", *a));
  EXPECT_TRUE(verify_password("same", *b));
}

TEST(AuthPassword, OverlongPasswordRefused) {
  const std::string longest(max_password_bytes, 'x');
  EXPECT_TRUE(hash_password(longest, fast));
  const auto refused = hash_password(longest + "x", fast);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, pw::errc::invalid_input);
}

TEST(AuthPassword, ParametersLibargon2RefusesAreErrors) {
  const auto refused = hash_password("x", argon2_params{.time_cost = 0, .memory_kib = 8 * 1024, .parallelism = 1});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, pw::errc::invalid_input);
}

TEST(AuthPassword, MalformedEncodingsVerifyFalse) {
  const auto good = hash_password("pw", fast);
  ASSERT_TRUE(good);
  const std::string& e = *good;
  for (std::size_t n = 0; n < e.size(); ++n) {
    EXPECT_FALSE(verify_password("pw", e.substr(0, n))) << "truncated to " << n;
  }
  std::string flipped = e;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  const std::string with_nul = e + std::string(1, '\0');
  std::string argon2i = e;
  argon2i.replace(0, 10, "$argon2i$");
  const std::string cases[] = {
      "",
      "$",
      "$argon2id$",
      "$argon2id$v=19$m=,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$argon2id$v=19$m=99999999999999999999,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
      "$argon2id$v=19$m=4294967295,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$argon2id$v=19$m=8192,t=4294967295,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$argon2id$v=19$m=8192,t=1,p=16777215$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$argon2id$v=19$m=8192,t=1,p=1$$",
      "$argon2id$v=19$m=8192,t=1,p=1$!!!!$????",
      "$argon2id$v=19$m=8192,t=1,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$argon2id$v=19$t=1,m=8192,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$argon2id$v=-1$m=8192,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "plaintext-password",
      std::string(100000, '$'),
      e + "$extra",
      flipped,
      with_nul,
      argon2i,
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(verify_password("pw", c)) << c.substr(0, 80);
  }
}

TEST(AuthPassword, DummyVerifyRunsForAnyParameters) {
  // Behaviour only (timings belong in bench/): it runs, repeatedly, with defaults and other parameters.
  dummy_verify("anything");
  dummy_verify("anything");
  dummy_verify("other", fast);
  dummy_verify("x", argon2_params{.time_cost = 0, .memory_kib = 1, .parallelism = 1});
}

TEST(AuthToken, LengthAlphabetAndUniqueness) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) {
    const auto token = random_token();
    ASSERT_TRUE(token) << token.error().message;
    ASSERT_EQ(token->size(), token_chars);
    for (const char c : *token) {
      ASSERT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
          << *token;
    }
    ASSERT_TRUE(seen.insert(*token).second) << "duplicate token " << *token;
  }
  // 10k tokens x 43 characters: every one of the 64 letters shows up, '-' and '_' included.
  std::unordered_set<char> letters;
  for (const auto& t : seen) {
    letters.insert(t.begin(), t.end());
  }
  EXPECT_EQ(letters.size(), 64u);
}

TEST(AuthToken, Sha256KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string("\0", 1)), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST(AuthToken, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "xbc"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(AuthRateLimit, BurstThenRefusalThenRefill) {
  rate_limiter limiter({.burst = 3, .refill_per_minute = 6, .max_keys = 100});  // one token per 10 s
  const std::int64_t t0 = 1'700'000'000'000;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.allow("192.0.2.1", t0)) << i;
  }
  EXPECT_FALSE(limiter.allow("192.0.2.1", t0));
  EXPECT_FALSE(limiter.allow("192.0.2.1", t0 + 9'999));
  EXPECT_TRUE(limiter.allow("192.0.2.1", t0 + 10'000));
  EXPECT_FALSE(limiter.allow("192.0.2.1", t0 + 10'000));
  EXPECT_TRUE(limiter.allow("192.0.2.2", t0)) << "keys are independent";
  // A long pause refills to the burst, not beyond.
  const std::int64_t later = t0 + 365LL * 24 * 3600 * 1000;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.allow("192.0.2.1", later)) << i;
  }
  EXPECT_FALSE(limiter.allow("192.0.2.1", later));
}

TEST(AuthRateLimit, ClockSteppingBackRefillsNothing) {
  rate_limiter limiter({.burst = 1, .refill_per_minute = 60, .max_keys = 10});
  EXPECT_TRUE(limiter.allow("k", 100'000));
  EXPECT_FALSE(limiter.allow("k", 50'000));
  EXPECT_FALSE(limiter.allow("k", 100'500));
  EXPECT_TRUE(limiter.allow("k", 101'000));
}

TEST(AuthRateLimit, NoRefillAndExtremeSettingsDoNotOverflow) {
  rate_limiter none({.burst = 1, .refill_per_minute = 0, .max_keys = 10});
  EXPECT_TRUE(none.allow("k", 0));
  EXPECT_FALSE(none.allow("k", INT64_MAX));
  rate_limiter huge({.burst = UINT32_MAX, .refill_per_minute = UINT32_MAX, .max_keys = 10});
  EXPECT_TRUE(huge.allow("k", INT64_MIN));
  EXPECT_TRUE(huge.allow("k", INT64_MAX));
}

TEST(AuthRateLimit, MemoryBoundedUnderAMillionKeysEvictingLeastRecentlyUsed) {
  rate_limiter limiter({.burst = 1, .refill_per_minute = 1, .max_keys = 1000});
  ASSERT_TRUE(limiter.allow("kept", 0));
  for (int i = 0; i < 1'000'000; ++i) {
    limiter.allow("10." + std::to_string(i), 0);
    if (i % 100 == 0) {
      EXPECT_FALSE(limiter.allow("kept", 0)) << "recently used key was evicted at " << i;
    }
    ASSERT_LE(limiter.size(), 1000u);
  }
  EXPECT_EQ(limiter.size(), 1000u);
  EXPECT_FALSE(limiter.allow("10.999999", 0)) << "the newest key is still tracked";
  EXPECT_TRUE(limiter.allow("10.0", 0)) << "the oldest key was forgotten and starts full";
}

TEST(AuthCookie, FindsNamedValue) {
  EXPECT_EQ(find_cookie("pw_session=abc", "pw_session"), "abc");
  EXPECT_EQ(find_cookie("a=1; pw_session=abc; b=2", "pw_session"), "abc");
  EXPECT_EQ(find_cookie("  a=1 ;\tpw_session = abc\t; b=2", "pw_session"), "abc");
  EXPECT_EQ(find_cookie("a=1;pw_session=abc", "pw_session"), "abc");
  EXPECT_EQ(find_cookie("pw_session=", "pw_session"), "");
  EXPECT_EQ(find_cookie("pw_session=a=b", "pw_session"), "a=b");
  EXPECT_FALSE(find_cookie("", "pw_session"));
  EXPECT_FALSE(find_cookie("a=1; b=2", "pw_session"));
  EXPECT_FALSE(find_cookie("PW_SESSION=abc", "pw_session")) << "names are case-sensitive";
  EXPECT_FALSE(find_cookie("xpw_session=abc", "pw_session"));
  EXPECT_FALSE(find_cookie("pw_session=abc", ""));
}

TEST(AuthCookie, QuotedValues) {
  EXPECT_EQ(find_cookie("pw_session=\"abc\"", "pw_session"), "abc");
  EXPECT_EQ(find_cookie("pw_session=\"\"", "pw_session"), "");
  EXPECT_FALSE(find_cookie("pw_session=\"", "pw_session"));
  EXPECT_FALSE(find_cookie("pw_session=\"abc", "pw_session"));
  EXPECT_FALSE(find_cookie("pw_session=a\"b\"", "pw_session"));
}

TEST(AuthCookie, DuplicatesMissingEqualsAndControls) {
  EXPECT_EQ(find_cookie("pw_session=first; pw_session=second", "pw_session"), "first");
  EXPECT_EQ(find_cookie("pw_session; pw_session=abc", "pw_session"), "abc") << "a pair without '=' is skipped";
  EXPECT_FALSE(find_cookie("pw_session", "pw_session"));
  EXPECT_FALSE(find_cookie(";;;;", "pw_session"));
  EXPECT_EQ(find_cookie(";; =x; pw_session=abc;;", "pw_session"), "abc");
  EXPECT_FALSE(find_cookie("pw_session=a\r\nb", "pw_session"));
  EXPECT_FALSE(find_cookie("pw_session=a\x7f", "pw_session"));
  EXPECT_FALSE(find_cookie("pw_session=bad\x01; pw_session=good", "pw_session"))
      << "the first pair decides; a malformed one is not replaced by a later duplicate";
  EXPECT_EQ(find_cookie(std::string("a=\0; pw_session=abc", 19), "pw_session"), "abc");
}

TEST(AuthCookie, BoundedInput) {
  std::string garbage;
  for (std::size_t i = 0; i < 8192; ++i) {
    garbage.push_back(static_cast<char>((i * 7919 + 13) % 256));
  }
  EXPECT_FALSE(find_cookie(garbage, "pw_session"));
  EXPECT_FALSE(find_cookie(garbage + "x", "pw_session"));
  EXPECT_FALSE(find_cookie(std::string(8192, ';'), "pw_session"));
  const std::string big = std::string(8181, ' ') + "pw_session=1";  // 8,193 bytes
  EXPECT_FALSE(find_cookie(big, "pw_session")) << "over 8 KiB";
  EXPECT_EQ(find_cookie(big.substr(1), "pw_session"), "1") << "exactly 8 KiB";
  std::string many;
  for (int i = 0; i < 64; ++i) {
    many += "c" + std::to_string(i) + "=v; ";
  }
  EXPECT_FALSE(find_cookie(many + "pw_session=late", "pw_session")) << "past max_pairs";
  EXPECT_EQ(find_cookie(many + "pw_session=late", "pw_session", {.max_header_bytes = 8192, .max_pairs = 65}), "late");
}

TEST(AuthCookie, FormatsSessionAndClearingCookies) {
  const auto plain = session_cookie("pw_session", "abc-_123", 3600, false);
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, "pw_session=abc-_123; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600");
  const auto secure = session_cookie("__Host-pw_session", "abc", 60, true);
  ASSERT_TRUE(secure);
  EXPECT_EQ(*secure, "__Host-pw_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure");
  const auto cleared = clearing_cookie("pw_session", true);
  ASSERT_TRUE(cleared);
  EXPECT_EQ(*cleared, "pw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure");
  // A token from random_token always fits, and reads back.
  const auto token = random_token();
  ASSERT_TRUE(token);
  const auto set = session_cookie("pw_session", *token, 60, false);
  ASSERT_TRUE(set);
  EXPECT_EQ(find_cookie(set->substr(0, set->find(';')), "pw_session"), *token);
}

TEST(AuthCookie, FormattingRefusesWhatWouldBreakTheHeader) {
  EXPECT_FALSE(session_cookie("", "v", 60, false));
  EXPECT_FALSE(session_cookie("a b", "v", 60, false));
  EXPECT_FALSE(session_cookie("a=b", "v", 60, false));
  EXPECT_FALSE(session_cookie("a;b", "v", 60, false));
  EXPECT_FALSE(session_cookie("n", "v; Domain=evil.example", 60, false));
  EXPECT_FALSE(session_cookie("n", "v\r\nSet-Cookie: x=y", 60, false));
  EXPECT_FALSE(session_cookie("n", "a\"b", 60, false));
  EXPECT_FALSE(session_cookie("n", "a,b", 60, false));
  EXPECT_FALSE(session_cookie("n", "a\\b", 60, false));
  EXPECT_FALSE(session_cookie("n", "v", 0, false));
  EXPECT_FALSE(session_cookie("n", "v", -1, false));
  EXPECT_FALSE(clearing_cookie("bad name", false));
  const auto refused = session_cookie("n", "v w", 60, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, pw::errc::invalid_input);
}

TEST(AuthRoles, EachRoleIncludesTheOnesBelow) {
  using pw::ledger::role;
  EXPECT_TRUE(permits(role::viewer, role::viewer));
  EXPECT_FALSE(permits(role::viewer, role::operator_));
  EXPECT_FALSE(permits(role::viewer, role::admin));
  EXPECT_TRUE(permits(role::operator_, role::viewer));
  EXPECT_TRUE(permits(role::operator_, role::operator_));
  EXPECT_FALSE(permits(role::operator_, role::admin));
  EXPECT_TRUE(permits(role::admin, role::viewer));
  EXPECT_TRUE(permits(role::admin, role::operator_));
  EXPECT_TRUE(permits(role::admin, role::admin));
  static_assert(permits(role::admin, role::operator_) && !permits(role::viewer, role::operator_));
}

}  // namespace
