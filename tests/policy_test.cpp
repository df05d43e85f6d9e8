// Tests for src/policy: the request reader and its limits, the typed request, the action encoders,
// and the golden transcripts in tests/data/policy/ (*.in, the raw bytes Postfix would send ->
// *.ref, the requests read and the answers given).
//
// The test answers each request by the recipient's local part, like the recipe's stand-in:
// defer@ DEFER_IF_PERMIT, hold@ HOLD, tempfail@ 450, reject@ REJECT, prepend@ PREPEND, else DUNNO.
// Every transcript is replayed fed in chunks of 1, 2, 5, 64 bytes and all at once; the outputs must
// agree with each other and with the .ref file. PW_UPDATE_GOLDEN=1 rewrites the .ref files.
#include "policy/policy.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace pw::policy {
namespace {

const char* state_name(protocol_state s) {
  switch (s) {
    case protocol_state::connect:
      return "connect";
    case protocol_state::ehlo:
      return "ehlo";
    case protocol_state::helo:
      return "helo";
    case protocol_state::mail:
      return "mail";
    case protocol_state::rcpt:
      return "rcpt";
    case protocol_state::data:
      return "data";
    case protocol_state::end_of_message:
      return "end_of_message";
    case protocol_state::vrfy:
      return "vrfy";
    case protocol_state::etrn:
      return "etrn";
    case protocol_state::other:
      return "other";
  }
  return "?";
}

std::string escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string describe(const request& r) {
  std::string s = "request state=" + std::string(state_name(r.state)) + " (" + r.protocol_state_name + ")";
  s += " protocol=" + r.protocol_name + " client=" + r.client_address + ":" + std::to_string(r.client_port);
  s += " name=" + r.client_name + " helo=" + r.helo_name + " sender=" + r.sender + " recipient=" + r.recipient;
  s += " count=" + std::to_string(r.recipient_count) + " size=" + std::to_string(r.size) + " queue_id=" + r.queue_id;
  s += " instance=" + r.instance + " sasl=" + r.sasl_method + "/" + r.sasl_username;
  s += " attributes=" + std::to_string(r.attributes.size());
  return s;
}

void answer(const request& r, std::string& out) {
  const std::string local = r.recipient.substr(0, r.recipient.find('@'));
  if (local == "defer") {
    append_defer_if_permit(out, "Service temporarily unavailable");
  } else if (local == "hold") {
    append_hold(out, "policy-hold");
  } else if (local == "tempfail") {
    ASSERT_TRUE(append_tempfail(out, 450, "4.7.1", "Try again later (policy)"));
  } else if (local == "reject") {
    append_reject(out, "Rejected by policy");
  } else if (local == "prepend") {
    ASSERT_TRUE(append_prepend(out, "X-Portwarden-Level", "watch"));
  } else {
    append_dunno(out);
  }
}

std::string run(const std::string& stream, std::size_t chunk) {
  request_reader reader;
  std::string log;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    reader.feed(std::string_view(stream).substr(at, chunk));
    for (;;) {
      auto next = reader.next();
      if (!next) {
        return log + "error: " + next.error().message + "\n";
      }
      if (!*next) {
        break;
      }
      log += "> " + describe(**next) + "\n";
      std::string out;
      answer(**next, out);
      log += "< " + escape(out) + "\n";
    }
  }
  return log + (reader.at_request_boundary() ? "end of stream: clean\n" : "end of stream: mid-request\n");
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(PolicyGolden, TranscriptsMatchReferenceAtEveryChunking) {
  const std::filesystem::path dir = std::filesystem::path(PW_TEST_DATA_DIR) / "policy";
  const bool update = std::getenv("PW_UPDATE_GOLDEN") != nullptr;
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".in") {
      continue;
    }
    ++count;
    SCOPED_TRACE(entry.path().filename().string());
    const std::string stream = read_file(entry.path());
    const std::string whole = run(stream, stream.size() + 1);
    for (const std::size_t chunk : {1, 2, 5, 64}) {
      EXPECT_EQ(run(stream, chunk), whole) << "fed in chunks of " << chunk;
    }
    auto ref_path = entry.path();
    ref_path.replace_extension(".ref");
    if (update) {
      std::ofstream(ref_path, std::ios::binary) << whole;
    }
    EXPECT_EQ(whole, read_file(ref_path));
  }
  EXPECT_GE(count, 5u);
}

TEST(PolicyReader, KeepsUnknownAttributesAndLastRepeatWins) {
  request_reader r;
  r.feed("request=smtpd_access_policy\nprotocol_state=RCPT\nfuture_attribute=42\nsender=a@b\nsender=c@d\n\n");
  auto req = r.next();
  ASSERT_TRUE(req && *req);
  EXPECT_EQ((*req)->state, protocol_state::rcpt);
  EXPECT_EQ((*req)->sender, "c@d");
  EXPECT_EQ((*req)->get("future_attribute"), "42");
  EXPECT_EQ((*req)->get("sender"), "c@d");
  EXPECT_FALSE((*req)->get("missing"));
  EXPECT_TRUE(r.at_request_boundary());
}

TEST(PolicyReader, LimitsFailTheConnection) {
  limits lim;
  lim.max_line_bytes = 16;
  lim.max_attributes = 3;
  lim.max_request_bytes = 40;
  {
    request_reader r(lim);
    r.feed(std::string(18, 'x'));  // no LF yet: over the limit even if the next byte were CR
    auto e = r.next();
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("line longer than 16"), std::string::npos);
    r.feed("request=smtpd_access_policy\n\n");
    EXPECT_FALSE(r.next()) << "stays failed";
  }
  {
    request_reader r(lim);
    r.feed("a=1\nb=2\nc=3\nd=4\n\n");
    auto e = r.next();
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("more than 3 attributes"), std::string::npos);
  }
  {
    request_reader r(lim);
    r.feed("aaaaaaaaaaaaa=1\nbbbbbbbbbbbbb=2\nccccccccccccc=3\n");
    auto e = r.next();
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("request larger than 40"), std::string::npos);
  }
}

TEST(PolicyReader, MalformedRequestsAreErrors) {
  for (const std::string& bad : std::initializer_list<std::string>{
           "protocol_state=RCPT\n\n", "request=other\n\n", "request=smtpd_access_policy\nnoequals\n\n", "=value\n\n",
           "\n", "request=smtpd_access_policy\nsize=12x\n\n",
           std::string("request=smtpd_access_policy\nsender=a\0b\n\n", 41)}) {
    request_reader r;
    r.feed(bad);
    EXPECT_FALSE(r.next()) << escape(bad);
  }
}

TEST(PolicyReader, CrLfAndUnknownPortAccepted) {
  request_reader r;
  r.feed("request=smtpd_access_policy\r\nclient_port=unknown\r\nsize=4096\r\n\r\n");
  auto req = r.next();
  ASSERT_TRUE(req && *req);
  EXPECT_EQ((*req)->client_port, 0);
  EXPECT_EQ((*req)->size, 4096u);
}

TEST(PolicyActions, TextCannotInjectLinesOrActions) {
  std::string out;
  append_reject(out, "bad\n\naction=DUNNO");
  EXPECT_EQ(out, "action=REJECT bad  action=DUNNO\n\n");
  out.clear();
  ASSERT_TRUE(append_prepend(out, "X-Portwarden-Level", "watch\r\nBcc: x@y"));
  EXPECT_EQ(out, "action=PREPEND X-Portwarden-Level: watch  Bcc: x@y\n\n");
  EXPECT_FALSE(append_prepend(out, "Bad Name", "v"));
  EXPECT_FALSE(append_tempfail(out, 550, "5.7.1", "x"));
  EXPECT_FALSE(append_tempfail(out, 450, "5.7.1", "x"));
  EXPECT_FALSE(append_tempfail(out, 450, "4.7", "x"));
  out.clear();
  ASSERT_TRUE(append_tempfail(out, 451, "4.7.1", "slow down"));
  EXPECT_EQ(out, "action=451 4.7.1 slow down\n\n");
  out.clear();
  append_dunno(out);
  append_defer_if_permit(out, "");
  EXPECT_EQ(out, "action=DUNNO\n\naction=DEFER_IF_PERMIT\n\n");
}

TEST(PolicyActions, LongTextCutOnCharacterBoundary) {
  std::string text;
  for (int i = 0; i < 300; ++i) {
    text += "\xc3\xa9";
  }
  const std::string s = sanitise_text(text, 401);
  EXPECT_EQ(s.size(), 400u);
}

}  // namespace
}  // namespace pw::policy
