// fuzz/notice_template_fuzz.cpp — libFuzzer target for the notice template parser, the renderer and
// the message composer (src/desk/notice.hpp).
//
// The input is a template. Checked: check_template, render (text) and render (HTML) agree on whether
// it is valid; with HTML escaping, values full of markup add no '<' to the output (every '<' is the
// template's own); with empty values both modes give the same text. When the input also works as a
// text template (it starts with a Subject line), the composed notice is 7-bit with CRLF line ends,
// Portwarden's MIME parser reads it as multipart/alternative with a text and an HTML part, and the
// quoted-printable text part decodes back to exactly the rendered body.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "desk/notice.hpp"
#include "mime/message.hpp"

namespace {

using namespace pw::desk;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

notice_variables all(const std::string& value) {
  return notice_variables{value, value, value, value, value, value, value, value, value};
}

std::string unix_lines(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) {
      out += s[i];
    }
  }
  return out;
}

void check_wire(const std::string& m) {
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const auto c = static_cast<unsigned char>(m[i]);
    check(c != 0 && c < 0x80);
    check(c != '\r' || (i + 1 < m.size() && m[i + 1] == '\n'));
    if (c == '\n') {
      check(i > 0 && m[i - 1] == '\r');
      check(i - 1 - line_start <= 998);
      line_start = i + 1;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const notice_variables markup = all("<b>&\"'</b> \xC3\xA9");
  const notice_variables empty = all("");

  const bool valid = static_cast<bool>(check_template(input, "fuzz"));
  const auto text = render(input, markup, false);
  const auto html = render(input, markup, true);
  check(static_cast<bool>(text) == valid && static_cast<bool>(html) == valid);
  if (!valid) {
    return 0;
  }
  const auto plain = render(input, empty, false);
  const auto plain_html = render(input, empty, true);
  check(plain && plain_html && *plain == *plain_html);
  check(std::count(html->begin(), html->end(), '<') == std::count(plain->begin(), plain->end(), '<'));

  if (!check_text_template(input, "fuzz")) {
    return 0;
  }
  const notice_templates templates{std::string(input), std::string(input), std::string(input), std::string(input)};
  const notice_sender sender{"abuse@isp.example", "Abuse desk \xC3\xA9", "isp.example"};
  const auto m = compose_notice(templates, notice_kind::first, markup, "customer@home.example", sender, 7, 0);
  if (!m) {
    return 0;  // the rendered notice exceeds max_rendered_bytes
  }
  check_wire(*m);
  const pw::mime::message parsed = pw::mime::parse(*m);
  check(parsed.parts.size() == 3);
  check(parsed.parts[0].content_type == "multipart/alternative");
  check(parsed.parts[1].content_type == "text/plain" && parsed.parts[2].content_type == "text/html");
  pw::mime::anomaly found = pw::mime::anomaly::none;
  const std::string decoded = pw::mime::decode_body(parsed.parts[1], found);
  check(found == pw::mime::anomaly::none);
  const std::size_t body = text->find('\n');
  const std::size_t blank = text->find('\n', body + 1);
  check(unix_lines(decoded) == unix_lines(std::string_view(*text).substr(blank + 1)));
  return 0;
}
