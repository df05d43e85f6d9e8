// The SMTP client's wire forms: DATA payload (CRLF normalisation, dot-stuffing, terminator) and
// XCLIENT xtext. The exchanges themselves run against real Postfix in tests/drive/drive_test.sh.
#include <gtest/gtest.h>

#include "drive/smtp_client.hpp"

namespace {

using pw::drive::smtp_data_payload;
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

}  // namespace
