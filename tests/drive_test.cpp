// The SMTP client's wire forms: DATA payload (CRLF normalisation, dot-stuffing, terminator), XCLIENT
// xtext, and reading replies (smtp_reply_reader, xclient_attributes). The exchanges themselves run
// against real Postfix in tests/drive/drive_test.sh.
#include <gtest/gtest.h>

#include "drive/smtp_client.hpp"
#include "drive/smtp_reply.hpp"

namespace {

using pw::drive::smtp_data_payload;
using pw::drive::smtp_reply_reader;
using pw::drive::xclient_attributes;
using pw::drive::xtext;

TEST(DataPayload, LfBecomesCrlfAndTheTerminatorIsAppended) {
  EXPECT_EQ(smtp_data_payload("Subject: x\n\nbody\n"), "Subject: x\r\n\r\nbody\r\n.\r\n");
}

TEST(DataPayload, CrlfStaysAsItIs) {
  EXPECT_EQ(smtp_data_payload("a\r\nb\r\n"), "a\r\nb\r\n.\r\n");
}

TEST(DataPayload, MixedLineEnds) {
  EXPECT_EQ(smtp_data_payload("a\r\nb\nc\r\n"), "a\r\nb\r\nc\r\n.\r\n");
}

TEST(DataPayload, MissingFinalLineEndIsAdded) {
  EXPECT_EQ(smtp_data_payload("a\nlast"), "a\r\nlast\r\n.\r\n");
}

TEST(DataPayload, EmptyMessageIsJustTheTerminator) {
  EXPECT_EQ(smtp_data_payload(""), ".\r\n");
}

TEST(DataPayload, LeadingDotsAreStuffed) {
  EXPECT_EQ(smtp_data_payload(".\n..x\n"), "..\r\n...x\r\n.\r\n");
  EXPECT_EQ(smtp_data_payload("a\r\n.\r\nb"), "a\r\n..\r\nb\r\n.\r\n");
  EXPECT_EQ(smtp_data_payload(".first"), "..first\r\n.\r\n");
}

TEST(DataPayload, DotsInsideALineAreNotStuffed) {
  EXPECT_EQ(smtp_data_payload("a.b\n x.\n"), "a.b\r\n x.\r\n.\r\n");
}

TEST(DataPayload, LoneCrIsDataNotALineEnd) {
  // A lone CR does not start a line, so a dot after it is not stuffed.
  EXPECT_EQ(smtp_data_payload("a\r.b\n"), "a\r.b\r\n.\r\n");
  EXPECT_EQ(smtp_data_payload("a\r"), "a\r\r\n.\r\n");
}

TEST(DataPayload, TheMessageCannotEndTheTransactionEarly) {
  const std::string p = smtp_data_payload("x\n.\nRSET\n");
  EXPECT_EQ(p.find("\r\n.\r\n"), p.size() - 5);
}

TEST(Xtext, PrintableAsciiPassesOthersAreHex) {
  EXPECT_EQ(xtext("alice"), "alice");
  EXPECT_EQ(xtext("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(xtext("IPV6:2001:db8::1"), "IPV6:2001:db8::1");
  EXPECT_EQ(xtext("a+b=c"), "a+2Bb+3Dc");
  EXPECT_EQ(xtext("a b\r\n"), "a+20b+0D+0A");
  EXPECT_EQ(xtext("\xc3\xa9"), "+C3+A9");
}

TEST(SmtpReply, AMultiLineReplyArrivingInPiecesIsTakenWhenItsLastLineIsComplete) {
  smtp_reply_reader reader;
  std::string buffer = "250-relay.example\r\n250-PIPE";
  auto first = reader.take(buffer);
  ASSERT_TRUE(first);
  EXPECT_FALSE(*first);
  EXPECT_EQ(buffer, "250-PIPE") << "complete lines are consumed, so the caller's read waits for more";
  buffer += "LINING\r\n250 SMTPUTF8\r\n220 next";
  auto done = reader.take(buffer);
  ASSERT_TRUE(done);
  ASSERT_TRUE(*done);
  EXPECT_EQ((*done)->code, 250);
  EXPECT_EQ((*done)->text, "relay.example\nPIPELINING\nSMTPUTF8");
  EXPECT_EQ(buffer, "220 next");
}

TEST(SmtpReply, ABareCodeIsAReplyWithoutText) {
  smtp_reply_reader reader;
  std::string buffer = "354\r\n";
  auto r = reader.take(buffer);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->code, 354);
  EXPECT_EQ((*r)->text, "");
}

TEST(SmtpReply, OutOfProtocolIsAnError) {
  for (std::string bad : {"hello\r\n", "25\r\n", "250x\r\n", "2a0 ok\r\n", "250-a\r\n251 b\r\n"}) {
    smtp_reply_reader reader;
    auto r = reader.take(bad);
    EXPECT_FALSE(r) << bad;
  }
}

TEST(SmtpReply, AnEndlessReplyIsRefusedAtTheLimit) {
  smtp_reply_reader reader;
  std::string line = "250-" + std::string(1000, 'x') + "\r\n";
  bool refused = false;
  for (std::size_t sent = 0; sent <= pw::drive::max_reply_bytes * 2 && !refused; sent += line.size()) {
    std::string buffer = line;
    refused = !reader.take(buffer);
  }
  EXPECT_TRUE(refused);
  smtp_reply_reader one_line;
  std::string unterminated(pw::drive::max_reply_bytes + 2, '2');
  EXPECT_FALSE(one_line.take(unterminated)) << "a line that never ends is refused too";
}

TEST(SmtpReply, XclientAttributesComeFromTheEhloReply) {
  EXPECT_EQ(xclient_attributes("relay.example\nPIPELINING\nxclient NAME addr LOGIN\nSMTPUTF8"),
            (std::vector<std::string>{"NAME", "ADDR", "LOGIN"}));
  EXPECT_TRUE(xclient_attributes("relay.example\nPIPELINING").empty());
  EXPECT_EQ(xclient_attributes("XCLIENT"), (std::vector<std::string>{""})) << "offered without a list";
  EXPECT_TRUE(xclient_attributes("XCLIENTS ADDR").empty());
}

}  // namespace
