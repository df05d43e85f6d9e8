// Tests for desk/notice.hpp: the notice cadence (first at once, reminders, caps), RFC 3339/5322
// times, template rendering and its errors, the shipped templates in etc/desk/, and the composed
// message — read back with Portwarden's own MIME parser (src/mime) to check that it is well formed,
// 7-bit with CRLF line ends, and decodes to exactly what was rendered; header injection is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "desk/lifecycle.hpp"
#include "desk/notice.hpp"
#include "mime/message.hpp"
#include "support/temp_dir.hpp"

namespace pw::desk {
namespace {

using ledger::case_row;
using ledger::case_status;

constexpr std::int64_t t0 = 1'795'796'827'000;  // 2026-11-27T16:27:07Z

const std::filesystem::path default_templates = std::filesystem::path(PW_TEST_DATA_DIR) / ".." / ".." / "etc" / "desk";

case_row open_case(case_status status = case_status::open) {
  case_row c;
  c.id = 42;
  c.subscriber = "alice";
  c.status = status;
  c.level = "hold";
  c.summary = "312 messages in 10 min, 290 to new recipients (baseline 4/day)";
  c.opened_ms = t0;
  c.updated_ms = t0;
  return c;
}

notice_variables sample_variables() {
  return make_notice_variables(open_case(), 17, "https://help.isp.example/help/Zm9vYmFy", "Example ISP", "");
}

std::string_view part_headers_end(std::string_view raw) { return raw.substr(0, raw.find("\r\n\r\n")); }

void expect_clean_wire_format(const std::string& m) {
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const auto c = static_cast<unsigned char>(m[i]);
    ASSERT_LT(c, 0x80) << "8-bit byte at " << i;
    ASSERT_NE(c, 0) << "NUL at " << i;
    if (c == '\r') {
      ASSERT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
    }
    if (c == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
      EXPECT_LE(i - 1 - line_start, 78u) << "long line at " << line_start;
      line_start = i + 1;
    }
  }
  EXPECT_TRUE(m.ends_with("\r\n"));
}

std::string unix_lines(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) {
      out += s[i];
    }
  }
  return out;
}

using pw::test::temp_dir;

TEST(DeskNotice, FirstNoticeAtOnceThenRemindersDaily) {
  const notice_cadence cadence;
  case_row c = open_case();
  EXPECT_EQ(notice_due(c, true, 0, t0, cadence), notice_kind::first);
  c = on_notice_sent(c, t0 + 2'000);
  EXPECT_FALSE(notice_due(c, true, 1, t0 + 23 * ms_per_hour, cadence));
  EXPECT_EQ(notice_due(c, true, 1, t0 + 2'000 + ms_per_day, cadence), notice_kind::reminder);
  for (int reminder = 1; reminder <= 3; ++reminder) {
    const std::int64_t at = t0 + 2'000 + reminder * ms_per_day;
    EXPECT_EQ(notice_due(c, true, 1, at, cadence), notice_kind::reminder) << reminder;
    c = on_notice_sent(c, at);
  }
  EXPECT_EQ(c.notices_sent, 4);
  EXPECT_FALSE(notice_due(c, true, 0, t0 + 30 * ms_per_day, cadence)) << "max_reminders = 3";
}

TEST(DeskNotice, FirstDelayAndCaps) {
  notice_cadence delayed;
  delayed.first_delay_ms = 30'000;
  EXPECT_FALSE(notice_due(open_case(), true, 0, t0 + 29'999, delayed));
  EXPECT_EQ(notice_due(open_case(), true, 0, t0 + 30'000, delayed), notice_kind::first);

  EXPECT_FALSE(notice_due(open_case(), false, 0, t0, {})) << "no contact address";
  EXPECT_FALSE(notice_due(open_case(), true, 4, t0, {})) << "max_per_day = 4";
  EXPECT_EQ(notice_due(open_case(), true, 3, t0, {}), notice_kind::first);
  EXPECT_EQ(notice_due(open_case(case_status::escalated), true, 0, t0, {}), notice_kind::first);
  EXPECT_FALSE(notice_due(open_case(case_status::monitoring), true, 0, t0, {}));
  EXPECT_FALSE(notice_due(open_case(case_status::resolved), true, 0, t0, {}));
  EXPECT_EQ(notice_kind_name(notice_kind::first), "first");
  EXPECT_EQ(notice_kind_name(notice_kind::reminder), "reminder");
}

TEST(DeskNotice, Times) {
  EXPECT_EQ(rfc3339_utc(t0), "2026-11-27T16:27:07Z");
  EXPECT_EQ(rfc5322_date(t0), "Fri, 27 Nov 2026 16:27:07 +0000");
  EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(-1), "Wed, 31 Dec 1969 23:59:59 +0000");
  EXPECT_EQ(rfc5322_date(1'709'208'000'999), "Thu, 29 Feb 2024 12:00:00 +0000");
  EXPECT_EQ(rfc3339_utc(951'782'400'000), "2000-02-29T00:00:00Z");
}

TEST(DeskNotice, RenderSubstitutesAndEscapes) {
  notice_variables v = sample_variables();
  v.summary = "5 < 6 & \"x\"";
  const auto text = render("Case {{case_id}} ({{ level }}): {{summary}}; opened {{opened_at}}", v, false);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "Case 42 (hold): 5 < 6 & \"x\"; opened 2026-11-27T16:27:07Z");
  const auto html = render("<p>{{summary}}</p>", v, true);
  ASSERT_TRUE(html);
  EXPECT_EQ(*html, "<p>5 &lt; 6 &amp; &quot;x&quot;</p>");
  EXPECT_EQ(*render("no placeholders { } }} {x}", v, false), "no placeholders { } }} {x}");
  EXPECT_EQ(*render("", v, false), "");
}

TEST(DeskNotice, TemplateErrorsNameTheSpot) {
  const notice_variables v = sample_variables();
  const auto unknown = render("Hello\nDear {{sender}},", v, false);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, errc::invalid_config);
  EXPECT_EQ(unknown.error().message.find("template:2:6: unknown variable {{sender}}; known: subscriber, case_id"), 0u)
      << unknown.error().message;

  for (const char* bad : {"{{", "x {{summary", "{{summary}", "{{}}", "{{ Summary }}", "{{sum mary}}"}) {
    const auto r = render(bad, v, false);
    EXPECT_FALSE(r) << bad;
    EXPECT_FALSE(check_template(bad, "t"));
  }
  EXPECT_TRUE(check_template("{{summary}}{{held_count}}", "t"));
  EXPECT_FALSE(check_template(std::string(max_template_bytes + 1, 'x'), "t"));

  EXPECT_FALSE(check_text_template("Hello {{subscriber}}", "a.txt"));
  EXPECT_FALSE(check_text_template("Subject: hi\nno empty line", "a.txt"));
  EXPECT_FALSE(check_text_template("Subject:\n\nbody", "a.txt"));
  EXPECT_TRUE(check_text_template("Subject: hi {{case_id}}\r\n\r\nbody", "a.txt"));
}

TEST(DeskNotice, ShippedTemplatesLoadAndSayTheEssentials) {
  const auto t = load_templates(default_templates);
  ASSERT_TRUE(t) << t.error().message;
  for (const std::string* text : {&t->first_text, &t->first_html, &t->reminder_text, &t->reminder_html}) {
    for (const char* must : {"{{summary}}", "{{help_url}}", "{{held_count}}", "{{case_id}}", "{{exemption_note}}",
                             "did not read any of your mail", "password", "virus scan"}) {
      EXPECT_NE(text->find(must), std::string::npos) << must;
    }
  }
}

TEST(DeskNotice, LoadTemplatesReportsTheFile) {
  const temp_dir dir;
  dir.write("notice-first.txt", "Subject: x\n\nbody");
  dir.write("notice-reminder.txt", "Subject: y\n\nbody");
  dir.write("notice-reminder.html", "<p>y</p>");
  const auto missing = load_templates(dir.path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::io);
  EXPECT_NE(missing.error().message.find("notice-first.html: cannot open: No such file or directory"),
            std::string::npos)
      << missing.error().message;

  dir.write("notice-first.html", "<p>\n\n  {{isp_name}} {{ smmary }}</p>");
  const auto unknown = load_templates(dir.path());
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, errc::invalid_config);
  EXPECT_NE(unknown.error().message.find("notice-first.html:3:16: unknown variable {{smmary}}"), std::string::npos)
      << unknown.error().message;

  dir.write("notice-first.html", "<p>{{isp_name}}</p>");
  dir.write("notice-reminder.txt", "no subject line");
  const auto no_subject = load_templates(dir.path());
  ASSERT_FALSE(no_subject);
  EXPECT_NE(no_subject.error().message.find("notice-reminder.txt:1:1:"), std::string::npos);
}

TEST(DeskNotice, ComposedNoticeIsWellFormed) {
  const auto templates = load_templates(default_templates);
  ASSERT_TRUE(templates) << templates.error().message;
  notice_variables v = sample_variables();
  v.summary = "312 messages in 10 min <b>not markup</b> & a very long line " + std::string(200, 'x') + " — ünïcödé";
  v.exemption_note = "Your port-25 exemption is suspended until this is resolved.";
  const notice_sender sender{"abuse@isp.example", "Example ISP abuse desk", "desk.isp.example"};
  const auto m = compose_notice(*templates, notice_kind::first, v, "alice@home.example", sender, 42, t0);
  ASSERT_TRUE(m) << m.error().message;
  expect_clean_wire_format(*m);

  const std::string_view head = part_headers_end(*m);
  EXPECT_NE(head.find("\r\nTo: <alice@home.example>\r\n"), std::string_view::npos);
  EXPECT_TRUE(head.starts_with("From: \"Example ISP abuse desk\" <abuse@isp.example>\r\n"));
  EXPECT_NE(head.find("\r\nDate: Fri, 27 Nov 2026 16:27:07 +0000\r\n"), std::string_view::npos);
  EXPECT_NE(head.find("\r\nMessage-ID: <case-42.first.1795796827000@desk.isp.example>\r\n"), std::string_view::npos);
  EXPECT_NE(head.find("\r\nMIME-Version: 1.0\r\n"), std::string_view::npos);
  EXPECT_NE(head.find("\r\nAuto-Submitted: auto-generated\r\n"), std::string_view::npos);

  const mime::message parsed = mime::parse(*m);
  EXPECT_EQ(parsed.anomalies, mime::anomaly::none);
  EXPECT_EQ(parsed.subject, "Example ISP: we paused mail from your account (alice)");
  ASSERT_EQ(parsed.parts.size(), 3u);
  EXPECT_EQ(parsed.parts[0].content_type, "multipart/alternative");
  EXPECT_EQ(parsed.parts[1].content_type, "text/plain");
  EXPECT_EQ(parsed.parts[2].content_type, "text/html");
  EXPECT_EQ(parsed.parts[1].charset, "utf-8");

  mime::anomaly found = mime::anomaly::none;
  const std::string text = unix_lines(mime::decode_body(parsed.parts[1], found));
  const std::string html = unix_lines(mime::decode_body(parsed.parts[2], found));
  EXPECT_EQ(found, mime::anomaly::none);
  const auto rendered_text = render(templates->first_text, v, false);
  const auto rendered_html = render(templates->first_html, v, true);
  ASSERT_TRUE(rendered_text && rendered_html);
  EXPECT_EQ(text, rendered_text->substr(rendered_text->find("\n\n") + 2));
  EXPECT_EQ(html, *rendered_html);
  EXPECT_NE(html.find("&lt;b&gt;not markup&lt;/b&gt; &amp; a very long line"), std::string::npos);
  EXPECT_NE(text.find("<b>not markup</b> & a very long line"), std::string::npos);
  EXPECT_NE(text.find("ünïcödé"), std::string::npos);
  EXPECT_NE(html.find("href=\"https://help.isp.example/help/Zm9vYmFy\""), std::string::npos);
}

TEST(DeskNotice, NonAsciiAndLongHeadersAreEncodedWords) {
  notice_templates t;
  t.first_text = "Subject: {{isp_name}} — {{summary}}\n\nbody\n";
  t.first_html = "<p>body</p>";
  t.reminder_text = t.first_text;
  t.reminder_html = t.first_html;
  notice_variables v = sample_variables();
  v.isp_name = "Fibre Zürich";
  v.summary = std::string(120, 'y') + " ✓";
  const notice_sender sender{"abuse@isp.example", "Zürich Abuse \"Desk\"", "isp.example"};
  const auto m = compose_notice(t, notice_kind::reminder, v, "bob@example.org", sender, 7, t0);
  ASSERT_TRUE(m) << m.error().message;
  expect_clean_wire_format(*m);
  const mime::message parsed = mime::parse(*m);
  EXPECT_EQ(parsed.anomalies, mime::anomaly::none);
  EXPECT_EQ(parsed.subject, "Fibre Zürich — " + v.summary);
  ASSERT_NE(parsed.find("From"), nullptr);
  EXPECT_EQ(parsed.find("From")->value, "Zürich Abuse \"Desk\" <abuse@isp.example>");
  EXPECT_NE(m->find("Message-ID: <case-7.reminder."), std::string::npos);
}

TEST(DeskNotice, QuotedPrintableKeepsLeadingDotsAndTrailingSpaceSafe) {
  notice_templates t;
  t.first_text = "Subject: s\n\n.\n.hidden line\ntrailing space \ntab\t\n=equals=\n" + std::string(300, '.') + "\n";
  t.first_html = "<p>x</p>";
  t.reminder_text = t.first_text;
  t.reminder_html = t.first_html;
  const auto m = compose_notice(t, notice_kind::first, sample_variables(), "a@b.example",
                                {"abuse@isp.example", "", "isp.example"}, 1, t0);
  ASSERT_TRUE(m) << m.error().message;
  expect_clean_wire_format(*m);
  EXPECT_EQ(m->find("\r\n."), std::string::npos) << "a line starting with '.' reaches the wire";
  EXPECT_NE(m->find("From: <abuse@isp.example>\r\n"), std::string::npos);
  const mime::message parsed = mime::parse(*m);
  mime::anomaly found = mime::anomaly::none;
  EXPECT_EQ(unix_lines(mime::decode_body(parsed.parts[1], found)),
            ".\n.hidden line\ntrailing space \ntab\t\n=equals=\n" + std::string(300, '.') + "\n");
  EXPECT_EQ(found, mime::anomaly::none);
}

TEST(DeskNotice, HeaderInjectionIsRefused) {
  const auto templates = load_templates(default_templates);
  ASSERT_TRUE(templates);
  const notice_sender sender{"abuse@isp.example", "Example ISP", "isp.example"};
  for (const char* bad : {"x\r\nBcc: victim@example.org", "x\nBcc: victim@example.org", "x\rBcc: y"}) {
    notice_variables v = sample_variables();
    v.summary = bad;
    const auto m = compose_notice(*templates, notice_kind::first, v, "alice@home.example", sender, 1, t0);
    ASSERT_FALSE(m) << bad;
    EXPECT_EQ(m.error().code, errc::invalid_input);
    EXPECT_NE(m.error().message.find("summary"), std::string::npos);
    v = sample_variables();
    v.subscriber = bad;
    EXPECT_FALSE(compose_notice(*templates, notice_kind::first, v, "alice@home.example", sender, 1, t0));
  }
  for (const char* bad_to :
       {"alice@home.example\r\nBcc: x@y.example", "alice", "@home.example", "alice@", "a b@home.example",
        "<alice@home.example>", "alice@home..example", "älice@home.example", "alice@home.example,bob@x.example", ""}) {
    EXPECT_FALSE(compose_notice(*templates, notice_kind::first, sample_variables(), bad_to, sender, 1, t0)) << bad_to;
  }
  EXPECT_FALSE(compose_notice(*templates, notice_kind::first, sample_variables(), "a@b.example",
                              {"abuse@isp.example", "Evil\r\nBcc: x@y", "isp.example"}, 1, t0));
  EXPECT_FALSE(compose_notice(*templates, notice_kind::first, sample_variables(), "a@b.example",
                              {"abuse@isp.example", "", "isp.example>\r\nX: y"}, 1, t0));
  EXPECT_TRUE(compose_notice(*templates, notice_kind::first, sample_variables(), "first.o'neil+tag@home.example",
                             sender, 1, t0));
}

}  // namespace
}  // namespace pw::desk
