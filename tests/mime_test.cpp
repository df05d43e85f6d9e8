// tests/mime_test.cpp — pw::mime: every feature, every anomaly flag, every bad-input class.
//
// Inputs are written inline or generated (no corpus needed); tests/data/mime holds one realistic
// nested message. Large inputs (1 MB header lines, 10,000-deep nesting, 50 MB messages) assert flags
// and bounded outputs, never timings.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <list>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "mime/message.hpp"

namespace {

using pw::mime::anomaly;
using pw::mime::has;
using pw::mime::limits;
using pw::mime::message;
using pw::mime::transfer_encoding;

// A message keeps views into its input, so inputs built inline are kept alive here until exit.
message parse_message(std::string&& raw, const limits& lim = {}) {
  static std::list<std::string> kept;
  kept.push_back(std::move(raw));
  return pw::mime::parse(kept.back(), lim);
}
message parse_message(std::string_view raw, const limits& lim = {}) { return pw::mime::parse(raw, lim); }
message parse_message(const char* raw, const limits& lim = {}) { return pw::mime::parse(raw, lim); }

// Complete top-level headers, so tests of other features start from a message with no anomalies.
constexpr std::string_view basic_headers =
    "From: a@example.org\nDate: Tue, 1 Oct 2024 10:00:00 +0000\nMessage-ID: <1@example.org>\n";

std::string with_headers(std::string_view rest) { return std::string(basic_headers) + std::string(rest); }

std::string text_part(std::string_view charset, std::string_view encoding, std::string_view body) {
  return with_headers("Content-Type: text/plain; charset=" + std::string(charset) +
                      "\nContent-Transfer-Encoding: " + std::string(encoding) + "\n\n" + std::string(body));
}

// ---------------------------------------------------------------------------------------- headers

TEST(mime_headers, unfolds_trims_and_keeps_order) {
  const std::string raw = with_headers("Subject:   a long\r\n\tfolded\r\n  subject  \nX-Empty:\n\nbody\n");
  const message m = parse_message(raw);
  EXPECT_EQ(m.subject, "a long\tfolded  subject");
  ASSERT_EQ(m.headers.size(), 5u);
  EXPECT_EQ(m.headers[0].name, "From");
  EXPECT_EQ(m.headers[4].name, "X-Empty");
  EXPECT_EQ(m.headers[4].value, "");
  ASSERT_NE(m.find("sUbJeCt"), nullptr);
  EXPECT_EQ(m.find("x-missing"), nullptr);
  EXPECT_EQ(m.parts[0].headers.size(), m.headers.size());
}

TEST(mime_headers, decodes_b_and_q_encoded_words) {
  const message m = parse_message(with_headers(
      "Subject: =?UTF-8?B?SGVsbG8g4pyT?= and =?iso-8859-1?Q?caf=E9_cr=E8me?=\nX-Koi: =?koi8-r?b?0NLJ18XU?=\n\n"));
  EXPECT_EQ(m.subject, "Hello \u2713 and caf\u00e9 cr\u00e8me");
  EXPECT_EQ(m.find("x-koi")->value, "\u043f\u0440\u0438\u0432\u0435\u0442");
  EXPECT_EQ(m.anomalies, anomaly::none);
}

TEST(mime_headers, joins_adjacent_encoded_words_without_the_space_between) {
  // A UTF-8 character split across two words must still decode.
  const message m = parse_message(with_headers("Subject: =?utf-8?q?caf=C3?=  \n =?utf-8?q?=A9?= =?utf-8?q?_ok?= end\n\n"));
  EXPECT_EQ(m.subject, "caf\u00e9 ok end");
}

TEST(mime_headers, iso_2022_jp_and_language_suffix) {
  const message m = parse_message(with_headers("Subject: =?ISO-2022-JP*ja?B?GyRCJUYlOSVIGyhC?=\n\n"));
  EXPECT_EQ(m.subject, "\u30c6\u30b9\u30c8");
}

TEST(mime_headers, bad_encoded_word_is_kept_and_flagged) {
  const message m = parse_message(with_headers("Subject: =?utf-8?X?abc?= and =?utf-8?Q?unterminated\n\n"));
  EXPECT_TRUE(has(m.anomalies, anomaly::bad_encoded_word));
  EXPECT_NE(m.subject.find("abc"), std::string::npos);
  const message plain = parse_message(with_headers("Subject: 2+2=?\n\n"));
  EXPECT_FALSE(has(plain.anomalies, anomaly::bad_encoded_word));
  EXPECT_EQ(plain.subject, "2+2=?");
}

TEST(mime_headers, eight_bit_header_bytes) {
  const message utf8 = parse_message(with_headers("Subject: caf\xC3\xA9\n\n"));
  EXPECT_TRUE(has(utf8.anomalies, anomaly::eight_bit_header));
  EXPECT_EQ(utf8.subject, "caf\u00e9");
  const message latin1 = parse_message(with_headers("Subject: caf\xE9 \x80\n\n"));
  EXPECT_EQ(latin1.subject, "caf\u00e9 \u20ac");  // windows-1252
}

TEST(mime_headers, singleton_duplicates_and_missing_fields) {
  const message dup = parse_message(with_headers("Subject: one\nsubject: two\n\n"));
  EXPECT_TRUE(has(dup.anomalies, anomaly::duplicate_singleton_header));
  EXPECT_EQ(dup.subject, "one");
  const message received_twice = parse_message(with_headers("Received: a\nReceived: b\n\n"));
  EXPECT_FALSE(has(received_twice.anomalies, anomaly::duplicate_singleton_header));

  const message bare = parse_message("Subject: hi\n\nbody\n");
  EXPECT_TRUE(has(bare.anomalies, anomaly::missing_from));
  EXPECT_TRUE(has(bare.anomalies, anomaly::missing_date));
  EXPECT_TRUE(has(bare.anomalies, anomaly::missing_message_id));
  EXPECT_EQ(parse_message(with_headers("\nbody\n")).anomalies, anomaly::none);
}

TEST(mime_headers, mbox_envelope_line_is_skipped) {
  const message m = parse_message("From someone@example.org Mon Jan  1 00:00:00 2024\n" + with_headers("Subject: x\n\nhi\n"));
  EXPECT_EQ(m.anomalies, anomaly::none);
  EXPECT_EQ(m.subject, "x");
}

TEST(mime_headers, malformed_line_starts_the_body) {
  const message m = parse_message(with_headers("Subject: x\nthis is not a header\nmore text\n"));
  EXPECT_TRUE(has(m.anomalies, anomaly::malformed_header_line));
  EXPECT_TRUE(has(m.anomalies, anomaly::no_header_body_separator));
  EXPECT_EQ(m.text, "this is not a header\nmore text\n");
}

TEST(mime_headers, missing_separator_at_end_of_input) {
  const message m = parse_message(with_headers("Subject: x"));
  EXPECT_TRUE(has(m.anomalies, anomaly::no_header_body_separator));
  EXPECT_EQ(m.subject, "x");
  EXPECT_TRUE(m.text.empty());
}

TEST(mime_headers, header_limits) {
  std::string many(basic_headers);
  for (int i = 0; i < 50; ++i) {
    many += "X-N: " + std::to_string(i) + "\n";
  }
  limits lim;
  lim.max_headers = 10;
  const message m = parse_message(many + "\nbody\n", lim);
  EXPECT_TRUE(has(m.anomalies, anomaly::too_many_headers));
  EXPECT_EQ(m.headers.size(), 10u);
  EXPECT_EQ(m.text, "body\n");

  lim = {};
  lim.max_header_bytes = 100;
  const message big = parse_message(many + "\nbody\n", lim);
  EXPECT_TRUE(has(big.anomalies, anomaly::header_section_too_large));
  EXPECT_LT(big.headers.size(), 10u);
  EXPECT_EQ(big.text, "body\n");
}

TEST(mime_headers, one_megabyte_header_line) {
  const std::string raw = with_headers("Subject: " + std::string(1u << 20, 'x') + "\n\nbody\n");
  const message m = parse_message(raw);
  EXPECT_TRUE(has(m.anomalies, anomaly::header_line_too_long));
  EXPECT_EQ(m.subject.size(), limits{}.max_header_value_bytes);
  EXPECT_EQ(m.text, "body\n");

  // Encoded-words all the way, cut in the middle of a multi-byte character.
  std::string words;
  while (words.size() < (1u << 20)) {
    words += "=?utf-8?B?4pyT4pyT?= ";
  }
  const message encoded = parse_message(with_headers("Subject: " + words + "\n\n"));
  EXPECT_LE(encoded.subject.size(), limits{}.max_header_value_bytes);
  EXPECT_EQ(encoded.subject.substr(0, 6), "\u2713\u2713");
  EXPECT_EQ(encoded.subject.size() % 3, 0u);  // no half character at the cut
}

// ------------------------------------------------------------------------------------- parameters

TEST(mime_params, quoted_strings_comments_and_case) {
  const message m = parse_message(with_headers(
      "Content-Type: Text/Plain (a comment) ; CharSet=\"ISO-8859-1\"; name=\"a \\\"quoted\\\"; name.txt\"\n"
      "Content-Disposition: inline\n\ncaf\xE9\n"));
  const auto& p = m.parts[0];
  EXPECT_EQ(p.content_type, "text/plain");
  EXPECT_EQ(p.charset, "iso-8859-1");
  EXPECT_EQ(p.filename, "a \"quoted\"; name.txt");
  EXPECT_FALSE(p.is_attachment);
  EXPECT_EQ(m.text, "caf\u00e9\n");
}

TEST(mime_params, rfc2231_extended_and_continued_values) {
  const message m = parse_message(with_headers(
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: application/octet-stream\n"
      "Content-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9.pdf\n\nA\n"
      "--b\nContent-Type: application/octet-stream\n"
      "Content-Disposition: attachment;\n filename*0*=utf-8''%E2%9C%93;\n filename*2=\".txt\";\n"
      " filename*1=\" long name\"; filename=\"fallback.txt\"\n\nB\n"
      "--b\nContent-Type: image/png; name=\"=?utf-8?B?4pyTLnBuZw==?=\"\n\nC\n"
      "--b--\n"));
  ASSERT_EQ(m.parts.size(), 4u);
  EXPECT_EQ(m.parts[1].filename, "r\u00e9sum\u00e9.pdf");
  EXPECT_EQ(m.parts[2].filename, "\u2713 long name.txt");
  EXPECT_EQ(m.parts[3].filename, "\u2713.png");
  EXPECT_TRUE(m.parts[1].is_attachment);
  EXPECT_TRUE(m.parts[3].is_attachment);  // a non-text leaf with a file name
}

// ------------------------------------------------------------------------------------- MIME tree

TEST(mime_tree, nested_message_from_test_data) {
  std::ifstream in(std::string(PW_TEST_DATA_DIR) + "/mime/nested.eml", std::ios::binary);
  ASSERT_TRUE(in);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const message m = parse_message(raw);
  EXPECT_EQ(m.anomalies, anomaly::none) << static_cast<std::uint32_t>(m.anomalies);
  EXPECT_EQ(m.subject, "caf\u00e9 report");
  EXPECT_EQ(m.find("from")->value, "\"Ren\u00e9e\" <renee@example.org>");
  ASSERT_EQ(m.parts.size(), 7u);
  const char* types[] = {"multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                         "message/rfc822", "text/plain", "application/pdf"};
  const std::size_t parents[] = {static_cast<std::size_t>(-1), 0, 1, 1, 0, 4, 0};
  const std::size_t depths[] = {0, 1, 2, 2, 1, 2, 1};
  for (std::size_t i = 0; i < m.parts.size(); ++i) {
    EXPECT_EQ(m.parts[i].content_type, types[i]) << i;
    EXPECT_EQ(m.parts[i].parent, parents[i]) << i;
    EXPECT_EQ(m.parts[i].depth, depths[i]) << i;
  }
  EXPECT_TRUE(m.parts[0].encoded_body.empty());
  EXPECT_EQ(m.parts[5].headers.size(), 4u);
  EXPECT_EQ(m.parts[5].charset, "koi8-r");
  EXPECT_EQ(m.parts[6].filename, "r\u00e9sum\u00e9.pdf");
  EXPECT_TRUE(m.parts[6].is_attachment);
  EXPECT_EQ(m.parts[6].encoding, transfer_encoding::base64);
  anomaly found = anomaly::none;
  EXPECT_EQ(pw::mime::decode_body(m.parts[6], found), "%PDF-1.4\n");
  EXPECT_EQ(found, anomaly::none);
  // The alternative shows HTML, so its plain twin is left out; preamble and epilogue never show.
  EXPECT_EQ(m.text, "Caf\u00e9 menu\norder\n\u043f\u0440\u0438\u0432\u0435\u0442");
  EXPECT_EQ(m.html_parts, 1u);
  EXPECT_FALSE(has(m.anomalies, anomaly::html_only));
  ASSERT_EQ(m.urls.size(), 1u);
  EXPECT_EQ(m.urls[0].host, "menu.example.net");
}

TEST(mime_tree, boundary_that_prefixes_a_nested_boundary) {
  const message m = parse_message(with_headers(
      "Content-Type: multipart/mixed; boundary=\"=_b\"\n\n"
      "--=_b\nContent-Type: multipart/mixed; boundary=\"=_b2\"\n\n"
      "--=_b2\n\none\n--=_b2\n\ntwo\n--=_b2--\n"
      "--=_b  \n\nthree\n--=_b--\n"));
  ASSERT_EQ(m.parts.size(), 5u);
  EXPECT_EQ(m.text, "one\ntwo\nthree");
  EXPECT_EQ(m.anomalies, anomaly::none);
}

TEST(mime_tree, empty_parts_and_boundary_in_first_line) {
  const message m = parse_message(with_headers("Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nx\n--b--"));
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(m.parts[1].encoded_body, "");
  EXPECT_EQ(m.text, "x");
}

TEST(mime_tree, crlf_line_ends_belong_to_the_delimiter) {
  const message m = parse_message(
      "From: a@b\r\nDate: x\r\nMessage-ID: <x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n\r\nBYTES\r\n--b--\r\n");
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[1].encoded_body, "BYTES");
  EXPECT_FALSE(has(m.anomalies, anomaly::bare_line_ending));
}

TEST(mime_tree, digest_parts_default_to_message_rfc822) {
  const message m = parse_message(with_headers(
      "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\ninner text\n--d--\n"));
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(m.parts[1].content_type, "message/rfc822");
  EXPECT_EQ(m.parts[2].headers[0].value, "inner");
  EXPECT_EQ(m.text, "inner text");  // the line end before a delimiter is the delimiter's
}

TEST(mime_tree, missing_boundary_reads_the_body_as_text) {
  const message m = parse_message(with_headers("Content-Type: multipart/mixed\n\nvisible words\n"));
  EXPECT_TRUE(has(m.anomalies, anomaly::missing_boundary));
  EXPECT_EQ(m.parts.size(), 1u);
  EXPECT_EQ(m.text, "visible words\n");
}

TEST(mime_tree, boundary_not_found) {
  const message m = parse_message(with_headers("Content-Type: multipart/mixed; boundary=zz\n\n--other\n\nwords\n"));
  EXPECT_TRUE(has(m.anomalies, anomaly::boundary_not_found));
  EXPECT_NE(m.text.find("words"), std::string::npos);
}

TEST(mime_tree, truncated_multipart) {
  const std::string full = with_headers(
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nfirst\n"
      "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29y");
  const message m = parse_message(full);
  EXPECT_TRUE(has(m.anomalies, anomaly::unterminated_multipart));
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(m.text, "first\nhello wor");
  // Cut anywhere: always a best-effort parse, never more parts than the full message.
  for (std::size_t cut = 0; cut <= full.size(); ++cut) {
    const message t = parse_message(std::string_view(full).substr(0, cut));
    ASSERT_FALSE(t.parts.empty());
    EXPECT_LE(t.parts.size(), 3u);
  }
}

TEST(mime_tree, too_many_parts) {
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body += "--b\n\npart " + std::to_string(i) + "\n";
  }
  limits lim;
  lim.max_parts = 10;
  const message m = parse_message(with_headers("Content-Type: multipart/mixed; boundary=b\n\n" + body + "--b--\n"), lim);
  EXPECT_TRUE(has(m.anomalies, anomaly::too_many_parts));
  EXPECT_EQ(m.parts.size(), 10u);
}

std::string deep_multipart(int levels) {
  std::string raw(basic_headers);
  for (int i = 0; i < levels; ++i) {
    raw += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" + std::to_string(i) + "\n";
  }
  raw += "Content-Type: text/plain\n\nbottom\n";
  for (int i = levels - 1; i >= 0; --i) {
    raw += "--b" + std::to_string(i) + "--\n";
  }
  return raw;
}

TEST(mime_tree, ten_thousand_deep_multipart_nesting) {
  const message m = parse_message(deep_multipart(10000));
  EXPECT_TRUE(has(m.anomalies, anomaly::nesting_too_deep));
  EXPECT_EQ(m.parts.size(), limits{}.max_depth + 1);
  EXPECT_EQ(m.parts.back().depth, limits{}.max_depth);
  EXPECT_EQ(m.text, "");

  const message shallow = parse_message(deep_multipart(5));
  EXPECT_FALSE(has(shallow.anomalies, anomaly::nesting_too_deep));
  EXPECT_EQ(shallow.text, "bottom");
}

TEST(mime_tree, ten_thousand_deep_message_nesting) {
  std::string raw;
  for (int i = 0; i < 10000; ++i) {
    raw += "Content-Type: message/rfc822\n\n";
  }
  raw += "\nbottom\n";
  const message m = parse_message(raw);
  EXPECT_TRUE(has(m.anomalies, anomaly::nesting_too_deep));
  EXPECT_EQ(m.parts.size(), limits{}.max_depth + 1);
}

// --------------------------------------------------------------------------------- bodies, charsets

TEST(mime_bodies, base64_text_tolerates_whitespace) {
  const message m = parse_message(text_part("utf-8", "base64", "SGVsbG8s \n IHdv\tcmxk\n4pyT\n"));
  EXPECT_EQ(m.text, "Hello, world\u2713");
  EXPECT_EQ(m.anomalies, anomaly::none);
}

TEST(mime_bodies, invalid_base64_is_flagged_and_skipped) {
  const message m = parse_message(text_part("us-ascii", "base64", "SGVs*bG8=\nA"));
  EXPECT_TRUE(has(m.anomalies, anomaly::invalid_base64));
  EXPECT_EQ(m.text, "Hello");
  pw::mime::part p;
  p.encoding = transfer_encoding::base64;
  p.encoded_body = "Zm9v!!YmFy";
  anomaly found = anomaly::none;
  EXPECT_EQ(pw::mime::decode_body(p, found), "foobar");
  EXPECT_TRUE(has(found, anomaly::invalid_base64));
}

TEST(mime_bodies, quoted_printable) {
  const message m = parse_message(text_part("iso-8859-1", "Quoted-Printable", "caf=E9 soft= \nbreak =3D ok=20\n"));
  EXPECT_EQ(m.text, "caf\u00e9 softbreak = ok \n");
  EXPECT_EQ(m.anomalies, anomaly::none);
  const message bad = parse_message(text_part("us-ascii", "quoted-printable", "a=XYb =\n"));
  EXPECT_TRUE(has(bad.anomalies, anomaly::invalid_quoted_printable));
  EXPECT_EQ(bad.text, "a=XYb ");
}

TEST(mime_bodies, decode_body_for_each_encoding) {
  pw::mime::part p;
  anomaly found = anomaly::none;
  p.encoding = transfer_encoding::quoted_printable;
  p.encoded_body = "a=00b=\nc";
  EXPECT_EQ(pw::mime::decode_body(p, found), std::string("a\0bc", 4));
  p.encoding = transfer_encoding::binary;
  p.encoded_body = "raw=41";
  EXPECT_EQ(pw::mime::decode_body(p, found), "raw=41");
  EXPECT_EQ(found, anomaly::none);
}

TEST(mime_bodies, unknown_transfer_encoding_is_identity) {
  const message m = parse_message(text_part("us-ascii", "x-uuencode", "begin 644 f\n"));
  EXPECT_TRUE(has(m.anomalies, anomaly::unknown_transfer_encoding));
  EXPECT_EQ(m.parts[0].encoding, transfer_encoding::unknown);
  EXPECT_EQ(m.text, "begin 644 f\n");
}

TEST(mime_bodies, absent_content_type_is_plain_text) {
  const message m = parse_message(with_headers("\nplain\r\nbody\r\n"));
  EXPECT_EQ(m.parts[0].content_type, "text/plain");
  EXPECT_EQ(m.text, "plain\nbody\n");
}

struct charset_case {
  const char* charset;
  std::string bytes;
  const char* utf8;
};

TEST(mime_charsets, converts_declared_charsets) {
  const charset_case cases[] = {
      {"iso-8859-1", "caf\xE9", "caf\u00e9"},
      {"\"windows-1252\"", "\x80 \x93q\x94", "\u20ac \u201cq\u201d"},
      {"koi8-r", "\xD0\xD2\xC9\xD7\xC5\xD4", "\u043f\u0440\u0438\u0432\u0435\u0442"},
      {"gb2312", "\xC4\xE3\xBA\xC3", "\u4f60\u597d"},
      {"big5", "\xA7\x41\xA6\x6E", "\u4f60\u597d"},
      {"chinesebig5", "\xA7\x41\xA6\x6E", "\u4f60\u597d"},
      {"iso-2022-jp", "\x1B$B%F%9%H\x1B(B", "\u30c6\u30b9\u30c8"},
      {"utf-8", "\xE2\x9C\x93", "\u2713"},
      {"UTF-8", "plain ascii", "plain ascii"},
      {"us-ascii", "plain", "plain"},
      {"ascii", "plain", "plain"},
      {"ks_c_5601-1987", "\xC7\xD1", "\ud55c"},
      {"iso-8859-15", "\xA4", "\u20ac"},
      {"unicode-1-1-utf-7", "a+AKM-b", "a\u00a3b"},
  };
  for (const auto& c : cases) {
    const message m = parse_message(text_part(c.charset, "8bit", c.bytes));
    EXPECT_EQ(m.text, c.utf8) << c.charset;
    EXPECT_FALSE(has(m.anomalies, anomaly::unknown_charset)) << c.charset;
    EXPECT_FALSE(has(m.anomalies, anomaly::invalid_charset_bytes)) << c.charset;
  }
}

TEST(mime_charsets, invalid_bytes_become_replacement_characters) {
  const message m = parse_message(text_part("utf-8", "8bit", "ok \xFF\xC3 end"));
  EXPECT_TRUE(has(m.anomalies, anomaly::invalid_charset_bytes));
  EXPECT_EQ(m.text, "ok \ufffd\ufffd end");
  const message sjis = parse_message(text_part("shift_jis", "8bit", "a\x81\x7F\x82"));
  EXPECT_TRUE(has(sjis.anomalies, anomaly::invalid_charset_bytes));
  EXPECT_EQ(sjis.text.substr(0, 1), "a");
  const message ascii = parse_message(text_part("us-ascii", "8bit", "caf\xE9"));
  EXPECT_TRUE(has(ascii.anomalies, anomaly::invalid_charset_bytes));
  EXPECT_EQ(ascii.text, "caf\u00e9");
}

TEST(mime_charsets, converter_output_is_checked) {
  // UCS-4 0x7FFFFFFF: glibc emits an old-style 6-byte sequence, which must not reach the caller.
  const message m = parse_message(with_headers("Subject: =?ucs4?B?f////w==?=\n\n"));
  EXPECT_TRUE(has(m.anomalies, anomaly::invalid_charset_bytes));
  EXPECT_EQ(m.subject.find('\xFD'), std::string::npos);
  EXPECT_NE(m.subject.find("\ufffd"), std::string::npos);
}

TEST(mime_charsets, unknown_charset_falls_back_to_latin1) {
  const message m = parse_message(text_part("x-no-such-charset", "8bit", "caf\xE9"));
  EXPECT_TRUE(has(m.anomalies, anomaly::unknown_charset));
  EXPECT_EQ(m.text, "caf\u00e9");
  const message hostile = parse_message(text_part("\"utf-8//TRANSLIT\"", "8bit", "x\xE9"));
  EXPECT_TRUE(has(hostile.anomalies, anomaly::unknown_charset));
  // ASCII needs no conversion whatever the label.
  const message ascii = parse_message(text_part("x-no-such-charset", "7bit", "plain"));
  EXPECT_FALSE(has(ascii.anomalies, anomaly::unknown_charset));
}

TEST(mime_charsets, many_distinct_charsets_are_all_converted) {
  // More names than the per-thread converter cache holds.
  for (int round = 0; round < 2; ++round) {
    for (int i = 1; i <= 10; ++i) {
      const std::string cs = "iso-8859-" + std::to_string(i);
      const message m = parse_message(text_part(cs, "8bit", "x\xE9"));
      EXPECT_FALSE(has(m.anomalies, anomaly::unknown_charset)) << cs;
    }
    for (int i = 0; i < 40; ++i) {
      const message m = parse_message(text_part("x-junk-" + std::to_string(i), "8bit", "x\xE9"));
      EXPECT_TRUE(has(m.anomalies, anomaly::unknown_charset));
    }
  }
}

// ------------------------------------------------------------------------------------------- HTML

std::string html_message(std::string_view html) {
  return with_headers("Content-Type: text/html; charset=utf-8\n\n" + std::string(html));
}

TEST(mime_html, strips_tags_scripts_styles_and_comments) {
  const message m = parse_message(html_message(
      "<html><head><title>T</title><style>p{color:red}</style><script>var x='<p>';</script></head>"
      "<body><!-- hidden <b>text</b> --><p>Buy   <b>V</b>iagra\nnow</p><div>line&nbsp;two</div>"
      "<table><tr><td>a</td><td>b</td></tr></table><!DOCTYPE x>1 &lt; 2 &amp;&amp; 3 &gt; 2"
      "<br/>&#8364;&#x20AC;&euro;&eacute;&bogus; &#150;</SCRIPT>x</body></html>"));
  EXPECT_EQ(m.text, "T\nBuy Viagra now\nline two\na b\n1 < 2 && 3 > 2\n\u20ac\u20ac\u20ac\u00e9&bogus; \u2013x\n");
  EXPECT_EQ(m.html_parts, 1u);
  EXPECT_TRUE(has(m.anomalies, anomaly::html_only));
}

TEST(mime_html, unterminated_constructs_consume_the_rest) {
  EXPECT_EQ(parse_message(html_message("a<script>never closed")).text, "a");
  EXPECT_EQ(parse_message(html_message("a<!-- never closed")).text, "a");
  EXPECT_EQ(parse_message(html_message("a <b x=\"never closed")).text, "a");
  EXPECT_EQ(parse_message(html_message("a < b &")).text, "a < b &");
}

TEST(mime_html, collects_links_from_attributes) {
  const message m = parse_message(html_message(
      "<a HREF=\"HTTP://Evil.Example.COM/a?x=1&amp;y=2\">click</a><img src=http://img.example.org/i.gif>"
      "<a href='mailto:x@y'>m</a><a href=\"/relative\">r</a><form action=\"https://form.example.net/\">"));
  ASSERT_EQ(m.urls.size(), 3u);
  EXPECT_EQ(m.urls[0].text, "HTTP://Evil.Example.COM/a?x=1&y=2");
  EXPECT_EQ(m.urls[0].host, "evil.example.com");
  EXPECT_EQ(m.urls[1].host, "img.example.org");
  EXPECT_EQ(m.urls[2].host, "form.example.net");
}

TEST(mime_html, plain_only_alternative_and_mixed_html) {
  const message alt = parse_message(with_headers(
      "Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\nplain\n"
      "--a\nContent-Type: text/html\n\n<p>rich</p>\n--a--\n"));
  EXPECT_EQ(alt.text, "rich\n");
  EXPECT_EQ(alt.html_parts, 1u);
  EXPECT_FALSE(has(alt.anomalies, anomaly::html_only));

  const message plain_alt = parse_message(with_headers(
      "Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\nfirst\n"
      "--a\nContent-Type: text/plain\n\nsecond\n--a--\n"));
  EXPECT_EQ(plain_alt.text, "second");

  // multipart/related holding the HTML counts as the HTML alternative.
  const message related = parse_message(with_headers(
      "Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/html\n\n<p>old</p>\n"
      "--a\nContent-Type: multipart/related; boundary=r\n\n--r\nContent-Type: text/html\n\n<p>new</p>\n"
      "--r\nContent-Type: image/gif\n\nGIF\n--r--\n--a\nContent-Type: text/plain\n\nplain\n--a--\n"));
  EXPECT_EQ(related.text, "new\n");

  const message mixed = parse_message(with_headers(
      "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/html\n\n<b>one</b>\n"
      "--m\nContent-Type: text/html\n\n<b>two</b>\n--m\nContent-Type: text/plain\n"
      "Content-Disposition: attachment; filename=notes.txt\n\nattached\n--m--\n"));
  EXPECT_EQ(mixed.text, "one\ntwo");
  EXPECT_EQ(mixed.html_parts, 2u);
  EXPECT_TRUE(mixed.parts[3].is_attachment);
}

// ------------------------------------------------------------------------------------------- URLs

TEST(mime_urls, finds_normalises_and_deduplicates) {
  const message m = parse_message(with_headers(
      "\nSee http://User:pw@WWW.Example.COM:8080/path?q=1. Or (https://secure.example.org/x) and\n"
      "www.Plain-Site.net/page, again http://User:pw@WWW.Example.COM:8080/path?q=1 and\n"
      "http://www.example.com/www.not-separate.com wwwx.no abc.www.no ftp://no.example "
      "https://[2001:db8::1]:443/v6 http:// http://host.example.\n"));
  std::vector<std::string> hosts;
  std::vector<std::string> texts;
  for (const auto& u : m.urls) {
    hosts.push_back(u.host);
    texts.push_back(u.text);
  }
  EXPECT_EQ(hosts, (std::vector<std::string>{"www.example.com", "secure.example.org", "www.plain-site.net",
                                             "www.example.com", "[2001:db8::1]", "host.example"}));
  EXPECT_EQ(texts[0], "http://User:pw@WWW.Example.COM:8080/path?q=1");
  EXPECT_EQ(texts[1], "https://secure.example.org/x");
  EXPECT_EQ(texts[2], "http://www.Plain-Site.net/page");
}

TEST(mime_urls, capped_at_max_urls) {
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body += "http://h" + std::to_string(i) + ".example/ ";
  }
  limits lim;
  lim.max_urls = 7;
  EXPECT_EQ(parse_message(with_headers("\n" + body), lim).urls.size(), 7u);
}

// -------------------------------------------------------------------------------- anomalies, limits

TEST(mime_anomalies, every_flag_has_a_distinct_name) {
  std::set<std::string_view> names;
  for (std::uint32_t bit = 0; bit < pw::mime::anomaly_count; ++bit) {
    const std::string_view name = pw::mime::anomaly_name(static_cast<anomaly>(1u << bit));
    EXPECT_NE(name, "unknown") << bit;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), pw::mime::anomaly_count);
  EXPECT_EQ(pw::mime::anomaly_name(anomaly::invalid_base64), "invalid_base64");
  EXPECT_EQ(pw::mime::anomaly_name(anomaly::invalid_base64 | anomaly::nul_byte), "unknown");
}

TEST(mime_anomalies, nul_bytes_and_line_endings) {
  std::string with_nul = with_headers("\nab");
  with_nul += '\0';
  with_nul += "c\n";
  EXPECT_TRUE(has(parse_message(with_nul).anomalies, anomaly::nul_byte));
  EXPECT_TRUE(has(parse_message("From: a\r\nDate: b\nMessage-ID: c\r\n\r\nx\r\n").anomalies, anomaly::bare_line_ending));
  EXPECT_TRUE(has(parse_message(with_headers("\nlone\rcr\n")).anomalies, anomaly::bare_line_ending));
  EXPECT_FALSE(has(parse_message(with_headers("\nunix only\n")).anomalies, anomaly::bare_line_ending));
}

TEST(mime_anomalies, text_truncated_at_max_text_bytes) {
  limits lim;
  lim.max_text_bytes = 100;
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body += "\u00e9\u2713 ";  // multi-byte, so the cut must respect character boundaries
  }
  const message m = parse_message(text_part("utf-8", "8bit", body), lim);
  EXPECT_TRUE(has(m.anomalies, anomaly::text_truncated));
  EXPECT_LE(m.text.size(), 100u);
  EXPECT_GE(m.text.size(), 94u);
  EXPECT_EQ(m.text.substr(0, 6), "\u00e9\u2713 ");
}

TEST(mime_anomalies, message_truncated_by_limit) {
  limits lim;
  lim.max_message_bytes = 120;
  const message m = parse_message(with_headers("\n" + std::string(1000, 'a')), lim);
  EXPECT_TRUE(has(m.anomalies, anomaly::truncated_by_limit));
  EXPECT_LT(m.text.size(), 120u);
}

TEST(mime_bad_input, binary_garbage) {
  std::mt19937 rng(42);
  std::string garbage(64 << 10, '\0');
  for (char& c : garbage) {
    c = static_cast<char>(rng());
  }
  const message m = parse_message(garbage);
  EXPECT_TRUE(has(m.anomalies, anomaly::binary_garbage));
  EXPECT_TRUE(has(m.anomalies, anomaly::malformed_header_line) || has(m.anomalies, anomaly::no_header_body_separator));
  EXPECT_EQ(m.parts.size(), 1u);
  EXPECT_LE(m.text.size(), limits{}.max_text_bytes);
  // Plain prose without headers is not garbage, just not a proper message.
  EXPECT_FALSE(has(parse_message("hello there, this is text\nand more\n").anomalies, anomaly::binary_garbage));
  EXPECT_FALSE(has(parse_message("").anomalies, anomaly::binary_garbage));
}

TEST(mime_bad_input, fifty_megabyte_message) {
  // One 50 MB base64 text part inside a multipart, plus a 50 MB-ish epilogue-free attachment view.
  std::string raw = with_headers("Content-Type: multipart/mixed; boundary=big\n\n--big\n"
                                 "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n");
  const std::string line = "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8g\n";
  while (raw.size() < (50u << 20)) {
    raw += line;
  }
  raw += "--big--\n";
  const message m = parse_message(raw);
  EXPECT_TRUE(has(m.anomalies, anomaly::text_truncated));
  EXPECT_FALSE(has(m.anomalies, anomaly::invalid_base64));
  EXPECT_LE(m.text.size(), limits{}.max_text_bytes);
  EXPECT_EQ(m.text.substr(0, 11), "hello world");
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_GT(m.parts[1].encoded_body.size(), 49u << 20);

  limits small;
  small.max_message_bytes = 1u << 20;
  const message cut = parse_message(raw, small);
  EXPECT_TRUE(has(cut.anomalies, anomaly::truncated_by_limit));
  EXPECT_TRUE(has(cut.anomalies, anomaly::unterminated_multipart));
}

TEST(mime_bad_input, fifty_megabytes_of_html_and_lines) {
  std::string raw = html_message("");
  while (raw.size() < (50u << 20)) {
    raw += "<p>word <a href=\"http://x.example/\">link</a> &amp; more</p>\n";
  }
  const message m = parse_message(raw);
  EXPECT_TRUE(has(m.anomalies, anomaly::text_truncated));
  EXPECT_LE(m.text.size(), limits{}.max_text_bytes);
  EXPECT_EQ(m.urls.size(), 1u);
}

// ------------------------------------------------------------------------------------ parse_into

void expect_same_message(const message& a, const message& b) {
  ASSERT_EQ(a.headers.size(), b.headers.size());
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    EXPECT_EQ(a.headers[i].name, b.headers[i].name);
    EXPECT_EQ(a.headers[i].value, b.headers[i].value);
  }
  ASSERT_EQ(a.parts.size(), b.parts.size());
  for (std::size_t i = 0; i < a.parts.size(); ++i) {
    const auto& p = a.parts[i];
    const auto& q = b.parts[i];
    EXPECT_EQ(p.parent, q.parent);
    EXPECT_EQ(p.depth, q.depth);
    EXPECT_EQ(p.content_type, q.content_type);
    EXPECT_EQ(p.charset, q.charset);
    EXPECT_EQ(p.filename, q.filename);
    EXPECT_EQ(p.encoding, q.encoding);
    EXPECT_EQ(p.is_attachment, q.is_attachment);
    EXPECT_EQ(p.encoded_body, q.encoded_body);
    ASSERT_EQ(p.headers.size(), q.headers.size());
    for (std::size_t k = 0; k < p.headers.size(); ++k) {
      EXPECT_EQ(p.headers[k].name, q.headers[k].name);
      EXPECT_EQ(p.headers[k].value, q.headers[k].value);
    }
  }
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.html_parts, b.html_parts);
  ASSERT_EQ(a.urls.size(), b.urls.size());
  for (std::size_t i = 0; i < a.urls.size(); ++i) {
    EXPECT_EQ(a.urls[i].text, b.urls[i].text);
    EXPECT_EQ(a.urls[i].host, b.urls[i].host);
  }
  EXPECT_EQ(a.anomalies, b.anomalies);
}

// A reused message must carry nothing over: larger and smaller messages in turn, in both orders.
TEST(mime_parse_into, reused_message_equals_a_fresh_parse) {
  const std::vector<std::string> raws = {
      with_headers("Subject: =?utf-8?q?caf=C3=A9?= long enough to need the heap\n"
                   "Content-Type: multipart/mixed; boundary=b1\n\n"
                   "--b1\nContent-Type: multipart/alternative; boundary=b2\n\n"
                   "--b2\nContent-Type: text/plain; charset=iso-8859-1\n\nplain http://one.example/x\n"
                   "--b2\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n"
                   "<p>html <a href=3D\"http://two.example/\">two</a></p>\n--b2--\n"
                   "--b1\nContent-Type: application/pdf; name=\"r.pdf\"\nContent-Disposition: attachment\n"
                   "Content-Transfer-Encoding: base64\n\nAAAA\n--b1--\n"),
      "Subject: short\n\nno date, no id, http://three.example/",
      text_part("utf-8", "base64", "aGVsbG8gd29ybGQ=\n"),
      "\x01\x02 binary garbage \xff\xfe",
      with_headers("Content-Type: multipart/mixed\n\nno boundary at all\n"),
  };
  message reused;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t k = 0; k < raws.size(); ++k) {
      const std::string& raw = raws[round == 0 ? k : raws.size() - 1 - k];
      pw::mime::parse_into(reused, raw);
      expect_same_message(reused, pw::mime::parse(raw));
    }
  }
}

}  // namespace
