#include "desk/notice.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>
#include <variant>
#include <vector>

#include "common/markup.hpp"

namespace pw::desk {
namespace {

using ledger::case_row;
using ledger::case_status;

// --- templates ---

// A parsed template: literal text and placeholders (index into notice_variable_names), in order.
struct placeholder {
  std::size_t variable = 0;
};
using segment = std::variant<std::string_view, placeholder>;

bool name_char(char ch) noexcept { return (ch >= 'a' && ch <= 'z') || ch == '_'; }

std::string position(std::string_view name, std::string_view text, std::size_t at) {
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + at, '\n'));
  const std::size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
  const std::size_t column = (line_start == std::string_view::npos || at == 0) ? at + 1 : at - line_start;
  return std::string(name) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

std::string known_names() {
  std::string out;
  for (const auto n : notice_variable_names) {
    out += out.empty() ? "" : ", ";
    out += n;
  }
  return out;
}

result<std::vector<segment>> parse(std::string_view text, std::string_view name) {
  if (text.size() > max_template_bytes) {
    return make_error(errc::invalid_config, std::string(name) + ": template is " + std::to_string(text.size()) +
                                                " bytes; the limit is " + std::to_string(max_template_bytes));
  }
  std::vector<segment> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = text.find("{{", at);
    if (open == std::string_view::npos) {
      out.emplace_back(text.substr(at));
      break;
    }
    if (open > at) {
      out.emplace_back(text.substr(at, open - at));
    }
    std::size_t p = open + 2;
    while (p < text.size() && text[p] == ' ') {
      ++p;
    }
    const std::size_t name_start = p;
    while (p < text.size() && name_char(text[p])) {
      ++p;
    }
    const std::string_view variable = text.substr(name_start, p - name_start);
    while (p < text.size() && text[p] == ' ') {
      ++p;
    }
    if (variable.empty() || text.compare(p, 2, "}}") != 0) {
      return make_error(errc::invalid_config,
                        position(name, text, open) +
                            "'{{' must be followed by a variable name and '}}' (known: " + known_names() + ")");
    }
    const auto found = std::find(notice_variable_names.begin(), notice_variable_names.end(), variable);
    if (found == notice_variable_names.end()) {
      return make_error(errc::invalid_config, position(name, text, open) + "unknown variable {{" +
                                                  std::string(variable) + "}}; known: " + known_names());
    }
    out.emplace_back(placeholder{static_cast<std::size_t>(found - notice_variable_names.begin())});
    at = p + 2;
  }
  return out;
}

result<std::string> render_named(std::string_view text, const notice_variables& vars, bool escape_html,
                                 std::string_view name) {
  auto parsed = parse(text, name);
  if (!parsed) {
    return parsed.error();
  }
  std::string out;
  out.reserve(text.size());
  for (const auto& s : *parsed) {
    if (const auto* literal = std::get_if<std::string_view>(&s)) {
      out += *literal;
    } else {
      const std::string& value = *vars.find(notice_variable_names[std::get<placeholder>(s).variable]);
      out += escape_html ? escape_markup(value) : value;
    }
    if (out.size() > max_rendered_bytes) {
      return make_error(errc::invalid_input, std::string(name) + ": rendered notice exceeds " +
                                                 std::to_string(max_rendered_bytes) + " bytes");
    }
  }
  return out;
}

// "Subject: ...\n\n" + body, split. The Subject line is the template's first line.
struct subject_and_body {
  std::string_view subject;
  std::string_view body;
};

result<subject_and_body> split_subject(std::string_view text, std::string_view name) {
  constexpr std::string_view prefix = "Subject:";
  if (text.substr(0, prefix.size()) != prefix) {
    return make_error(errc::invalid_config, std::string(name) +
                                                ":1:1: the text template must start with a "
                                                "'Subject: ...' line followed by an empty line");
  }
  std::size_t eol = text.find('\n');
  if (eol == std::string_view::npos) {
    return make_error(errc::invalid_config, std::string(name) +
                                                ":1:1: the Subject line must be followed by an "
                                                "empty line and the message text");
  }
  std::string_view subject = text.substr(prefix.size(), eol - prefix.size());
  if (!subject.empty() && subject.back() == '\r') {
    subject.remove_suffix(1);
  }
  while (!subject.empty() && (subject.front() == ' ' || subject.front() == '\t')) {
    subject.remove_prefix(1);
  }
  std::size_t body_start = eol + 1;
  if (text.compare(body_start, 2, "\r\n") == 0) {
    body_start += 2;
  } else if (text.compare(body_start, 1, "\n") == 0) {
    body_start += 1;
  } else {
    return make_error(errc::invalid_config, std::string(name) +
                                                ":2:1: the Subject line must be followed by an "
                                                "empty line");
  }
  if (subject.empty()) {
    return make_error(errc::invalid_config, std::string(name) + ":1:9: the Subject line is empty");
  }
  return subject_and_body{subject, text.substr(body_start)};
}

// --- times ---

struct civil_time {
  std::int64_t year;
  unsigned month, day, hour, minute, second, weekday;  // weekday: 0 = Sunday
};

// Howard Hinnant's days→civil algorithm: exact over the whole int64 day range, no time zone
// database and no locale, unlike gmtime + strftime.
civil_time civil_from_ms(std::int64_t ms) {
  std::int64_t secs = ms / 1000;
  if (ms % 1000 < 0) {
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  civil_time t{};
  t.hour = static_cast<unsigned>(rem / 3600);
  t.minute = static_cast<unsigned>(rem % 3600 / 60);
  t.second = static_cast<unsigned>(rem % 60);
  t.weekday = static_cast<unsigned>((days % 7 + 11) % 7);  // 1970-01-01 was a Thursday
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  t.day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  t.year = yoe + era * 400 + (t.month <= 2 ? 1 : 0);
  return t;
}

std::string two(unsigned v) {
  return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10);
}

std::string four(std::int64_t year) {
  std::string digits = std::to_string(year < 0 ? -year : year);
  if (digits.size() < 4) {
    digits.insert(0, 4 - digits.size(), '0');
  }
  return (year < 0 ? "-" : "") + digits;
}

// --- message encoding ---

bool has_line_break(std::string_view s) noexcept {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// addr-spec with a dot-atom local part and domain, ASCII only: what a notice may be addressed to
// without quoting (quoted local parts and SMTPUTF8 addresses are refused rather than mis-encoded).
bool plain_address(std::string_view a) noexcept {
  const std::size_t at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= a.size() || a.size() > 254 ||
      a.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  constexpr std::string_view atext_specials = "!#$%&'*+-/=?^_`{|}~.";
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char ch = a[i];
    const bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (i == at) {
      continue;
    }
    if (i > at ? !(alnum || ch == '-' || ch == '.') : !(alnum || atext_specials.find(ch) != std::string_view::npos)) {
      return false;
    }
  }
  return a.front() != '.' && a[at - 1] != '.' && a[at + 1] != '.' && a.back() != '.' &&
         a.find("..") == std::string_view::npos;
}

bool plain_domain(std::string_view d) noexcept {
  return !d.empty() && d.size() <= 253 && std::all_of(d.begin(), d.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
  });
}

// Base64 for RFC 2047 encoded words only (a few dozen bytes per header); a library call would not
// be shorter than these lines.
std::string base64(std::string_view in) {
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                   static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i < in.size()) {
    const bool two_bytes = i + 1 < in.size();
    const auto n =
        (static_cast<unsigned char>(in[i]) << 16) | (two_bytes ? static_cast<unsigned char>(in[i + 1]) << 8 : 0);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += two_bytes ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool printable_ascii(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= 0x20 && ch < 0x7F; });
}

// RFC 2047 B encoded words of at most 39 input bytes (52 base64 characters, 64 with the wrapper, so
// "Subject: " plus one word stays within 78 columns), cut at UTF-8 character boundaries, folded onto
// continuation lines.
std::string encoded_words(std::string_view text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = std::min(text.size(), at + 39);
    while (end < text.size() && end > at + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    out += out.empty() ? "" : "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(at, end - at)) + "?=";
    at = end;
  }
  return out;
}

// A header value that is either short printable ASCII (as is) or encoded words.
std::string header_text(std::string_view text, std::size_t header_name_length) {
  if (printable_ascii(text) && header_name_length + 2 + text.size() <= 78) {
    return std::string(text);
  }
  return encoded_words(text);
}

std::string display_name(std::string_view name) {
  if (!printable_ascii(name) || name.size() > 60) {
    return encoded_words(name);
  }
  std::string out = "\"";
  for (const char ch : name) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
    }
    out += ch;
  }
  return out + "\"";
}

// Quoted-printable (RFC 2045 6.7) with CRLF line ends: lines of at most 76 characters, '=' and every
// byte outside printable ASCII encoded, whitespace before a line end encoded, and a '.' at the start
// of a line encoded too so no SMTP client's dot-stuffing is needed to keep it intact.
std::string quoted_printable(std::string_view text) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  std::size_t line_length = 0;
  auto emit = [&](std::string_view token) {
    if (line_length + token.size() > 75) {
      out += "=\r\n";
      line_length = 0;
    }
    out += token;
    line_length += token.size();
  };
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t eol = text.find('\n', at);
    const bool last = eol == std::string_view::npos;
    std::string_view line = text.substr(at, last ? std::string_view::npos : eol - at);
    if (!last && !line.empty() && line.back() == '\r') {  // CRLF; a CR ending the text is data, kept as =0D
      line.remove_suffix(1);
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto ch = static_cast<unsigned char>(line[i]);
      const bool at_end = i + 1 == line.size();
      // A '.' is encoded wherever it could start a line, including after a soft break.
      const bool line_start = line_length == 0 || line_length + 1 > 75;
      const bool literal =
          (ch > 0x20 && ch < 0x7F && ch != '=' && !(ch == '.' && line_start)) || ((ch == ' ' || ch == '\t') && !at_end);
      if (literal) {
        emit(std::string_view(line.data() + i, 1));
      } else {
        const char encoded[3] = {'=', hex[ch >> 4], hex[ch & 15]};
        emit(std::string_view(encoded, 3));
      }
    }
    if (last) {
      break;
    }
    out += "\r\n";
    line_length = 0;
    at = eol + 1;
  }
  return out;
}

}  // namespace

std::string_view notice_kind_name(notice_kind k) noexcept { return k == notice_kind::first ? "first" : "reminder"; }

std::optional<notice_kind> notice_due(const case_row& c, bool has_contact, std::int64_t sent_to_subscriber_last_day,
                                      std::int64_t now_ms, const notice_cadence& cadence) {
  const bool needs_notices =
      c.status == case_status::open || c.status == case_status::notified || c.status == case_status::escalated;
  if (!needs_notices || !has_contact || sent_to_subscriber_last_day >= cadence.max_per_day) {
    return std::nullopt;
  }
  if (c.notices_sent <= 0) {
    return now_ms >= c.opened_ms + cadence.first_delay_ms ? std::optional(notice_kind::first) : std::nullopt;
  }
  if (c.notices_sent - 1 >= cadence.max_reminders) {
    return std::nullopt;
  }
  const std::int64_t last = c.last_notice_ms.value_or(c.opened_ms);
  return now_ms >= last + cadence.reminder_interval_ms ? std::optional(notice_kind::reminder) : std::nullopt;
}

const std::string* notice_variables::find(std::string_view name) const noexcept {
  const std::array<const std::string*, notice_variable_names.size()> values{
      &subscriber, &case_id, &level, &help_url, &isp_name, &opened_at, &summary, &held_count, &exemption_note,
  };
  for (std::size_t i = 0; i < notice_variable_names.size(); ++i) {
    if (notice_variable_names[i] == name) {
      return values[i];
    }
  }
  return nullptr;
}

notice_variables make_notice_variables(const case_row& c, std::size_t held_count, std::string_view help_url,
                                       std::string_view isp_name, std::string_view exemption_note) {
  notice_variables v;
  v.subscriber = c.subscriber;
  v.case_id = std::to_string(c.id);
  v.level = c.level;
  v.help_url = std::string(help_url);
  v.isp_name = std::string(isp_name);
  v.opened_at = rfc3339_utc(c.opened_ms);
  v.summary = c.summary;
  v.held_count = std::to_string(held_count);
  v.exemption_note = std::string(exemption_note);
  return v;
}

result<void> check_template(std::string_view text, std::string_view name) {
  auto parsed = parse(text, name);
  if (!parsed) {
    return parsed.error();
  }
  return {};
}

result<std::string> render(std::string_view template_text, const notice_variables& vars, bool escape_html) {
  return render_named(template_text, vars, escape_html, "template");
}

result<void> check_text_template(std::string_view text, std::string_view name) {
  auto split = split_subject(text, name);
  if (!split) {
    return split.error();
  }
  return check_template(text, name);
}

result<notice_templates> load_templates(const std::filesystem::path& dir) {
  notice_templates out;
  const std::array<std::pair<std::string_view, std::string*>, 4> files{{
      {"notice-first.txt", &out.first_text},
      {"notice-first.html", &out.first_html},
      {"notice-reminder.txt", &out.reminder_text},
      {"notice-reminder.html", &out.reminder_html},
  }};
  for (const auto& [file, target] : files) {
    const std::filesystem::path path = dir / file;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return make_error(errc::io, "notice template " + path.string() + ": cannot open: " + std::strerror(errno));
    }
    std::string text;
    char buffer[8192];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      text.append(buffer, static_cast<std::size_t>(in.gcount()));
      if (text.size() > max_template_bytes) {
        return make_error(errc::invalid_config, "notice template " + path.string() + ": larger than " +
                                                    std::to_string(max_template_bytes) + " bytes");
      }
    }
    if (in.bad()) {
      return make_error(errc::io, "notice template " + path.string() + ": read failed: " + std::strerror(errno));
    }
    const bool text_part = file.ends_with(".txt");
    auto checked = text_part ? check_text_template(text, path.string()) : check_template(text, path.string());
    if (!checked) {
      return checked.error();
    }
    *target = std::move(text);
  }
  return out;
}

result<std::string> compose_notice(const notice_templates& templates, notice_kind kind, const notice_variables& vars,
                                   std::string_view to, const notice_sender& sender, std::int64_t case_id,
                                   std::int64_t now_ms) {
  for (const auto name : notice_variable_names) {
    if (has_line_break(*vars.find(name))) {
      return make_error(errc::invalid_input, "notice variable " + std::string(name) +
                                                 " contains a line break or NUL; refused (header injection)");
    }
  }
  if (has_line_break(sender.from_name)) {
    return make_error(errc::invalid_input, "notice sender name contains a line break or NUL; refused");
  }
  if (!plain_address(to)) {
    return make_error(errc::invalid_input, "the subscriber's contact address is not a plain ASCII address");
  }
  if (!plain_address(sender.from_address)) {
    return make_error(errc::invalid_input, "the notice sender address is not a plain ASCII address");
  }
  if (!plain_domain(sender.message_id_domain)) {
    return make_error(errc::invalid_input, "the Message-ID domain is not a plain host name");
  }

  const bool first = kind == notice_kind::first;
  const std::string_view text_name = first ? "notice-first.txt" : "notice-reminder.txt";
  const std::string_view html_name = first ? "notice-first.html" : "notice-reminder.html";
  auto text = render_named(first ? templates.first_text : templates.reminder_text, vars, false, text_name);
  if (!text) {
    return text.error();
  }
  auto html = render_named(first ? templates.first_html : templates.reminder_html, vars, true, html_name);
  if (!html) {
    return html.error();
  }
  auto split = split_subject(*text, text_name);
  if (!split) {
    return split.error();
  }

  const std::string boundary = "=_portwarden_" + std::to_string(case_id) + "_" + std::to_string(now_ms);
  std::string from = "<" + sender.from_address + ">";
  if (!sender.from_name.empty()) {
    const std::string name = display_name(sender.from_name);
    const std::size_t last_line = name.size() - (name.rfind('\n') == std::string::npos ? 0 : name.rfind('\n') + 1);
    const bool first_line = name.find('\n') == std::string::npos;
    const std::size_t width = (first_line ? 6 : 0) + last_line + 1 + from.size();
    from = name + (width > 78 ? "\r\n " : " ") + from;
  }
  std::string m;
  m.reserve(split->body.size() + html->size() + 1024);
  m += "From: " + from + "\r\n";
  m += "To: <" + std::string(to) + ">\r\n";
  m += "Subject: " + header_text(split->subject, 7) + "\r\n";
  m += "Date: " + rfc5322_date(now_ms) + "\r\n";
  m += "Message-ID: <case-" + std::to_string(case_id) + "." + std::string(notice_kind_name(kind)) + "." +
       std::to_string(now_ms) + "@" + sender.message_id_domain + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "X-Portwarden-Case: " + std::to_string(case_id) + "\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  m += "\r\n";
  m += "This is a message in two formats, plain text and HTML.\r\n";
  m += "\r\n--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  m += quoted_printable(split->body);
  m += "\r\n--" + boundary + "\r\n";
  m += "Content-Type: text/html; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  m += quoted_printable(*html);
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

std::string rfc3339_utc(std::int64_t ms) {
  const civil_time t = civil_from_ms(ms);
  return four(t.year) + "-" + two(t.month) + "-" + two(t.day) + "T" + two(t.hour) + ":" + two(t.minute) + ":" +
         two(t.second) + "Z";
}

std::string rfc5322_date(std::int64_t ms) {
  constexpr std::array<std::string_view, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const civil_time t = civil_from_ms(ms);
  return std::string(days[t.weekday]) + ", " + two(t.day) + " " + std::string(months[t.month - 1]) + " " +
         four(t.year) + " " + two(t.hour) + ":" + two(t.minute) + ":" + two(t.second) + " +0000";
}

}  // namespace pw::desk
