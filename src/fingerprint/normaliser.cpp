#include "normaliser.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>

namespace pw::fingerprint::detail {
namespace {

// Words after which a recipient's name usually follows ("Dear John Smith,"). Case-folded.
constexpr std::array<std::string_view, 16> greetings{"dear",  "hi",     "hello", "hey",   "greetings", "attn",
                                                     "attention", "hallo", "liebe", "lieber", "hola", "bonjour",
                                                     "ciao",  "caro",   "cara",  "querido"};

bool is_space(unsigned char c) noexcept { return c <= 0x20 || c == 0x7f; }
bool is_ascii_alpha(unsigned char c) noexcept { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool is_ascii_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool starts_with_ci(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[i]) != prefix[i]) {
      return false;
    }
  }
  return true;
}

// Punctuation that may wrap a URL or address in running text: "(see http://x.com/a)." or "<a@b.c>".
bool is_wrapper(char c) noexcept {
  switch (c) {
    case '(': case ')': case '<': case '>': case '[': case ']': case '"': case '\'': case ',': case '.':
    case ';': case ':': case '!': case '?': case '{': case '}': case '*':
      return true;
    default:
      return false;
  }
}

// Punctuation that ends a greeting ("Dear John," / "Hello Mary!").
bool ends_greeting(char c) noexcept { return c == ',' || c == ':' || c == '!' || c == ';' || c == '.' || c == '?'; }

bool host_chars_only(std::string_view s) noexcept {
  for (unsigned char c : s) {
    if (!(is_ascii_alpha(c) || is_ascii_digit(c) || c == '.' || c == '-' || c >= 0x80)) {
      return false;
    }
  }
  return true;
}

// `c` is a valid code point (it came from U8_NEXT and u_foldCase).
void append_utf8(std::string& out, UChar32 c) {
  std::array<std::uint8_t, 4> buf{};
  std::int32_t len = 0;
  U8_APPEND_UNSAFE(buf.data(), len, c);
  out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(len));
}

void lower_into(std::string_view s, std::string& out) {
  out.clear();
  for (char c : s) {
    out.push_back(lower(c));
  }
}

}  // namespace

void fold_into(std::string_view s, std::string& out) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto n = static_cast<std::int32_t>(std::min<std::size_t>(s.size(), INT32_MAX));
  std::int32_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      out.push_back(lower(static_cast<char>(p[i])));
      ++i;
      continue;
    }
    const std::int32_t start = i;
    UChar32 c = 0;
    U8_NEXT(p, i, n, c);
    if (c < 0) {
      out.append(s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(i - start)));
      continue;
    }
    append_utf8(out, u_foldCase(c, U_FOLD_CASE_DEFAULT));
  }
}

std::string_view word_stream::registrable(const psl_ctx_t* psl, std::string_view host, std::string& scratch) {
  while (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  if (host.empty() || host.size() > 253) {
    return host;
  }
  scratch.assign(host);  // NUL-terminated for libpsl
  const char* reg = psl_registrable_domain(psl, scratch.c_str());
  if (reg == nullptr) {
    return scratch;
  }
  return std::string_view(scratch).substr(static_cast<std::size_t>(reg - scratch.c_str()));
}

bool word_stream::personal(std::string_view w) const {
  for (const std::string& p : _personal) {
    if (p.size() == w.size() && p[0] == w[0] && p == w) {
      return true;
    }
  }
  return false;
}

namespace {

// A line as [begin, end) without its line break; `next` is where the following line starts.
struct line_span {
  std::size_t begin;
  std::size_t end;
  std::size_t next;
};

line_span line_at(std::string_view text, std::size_t pos) {
  const std::size_t nl = text.find('\n', pos);
  const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
  return {pos, end, nl == std::string_view::npos ? text.size() : nl + 1};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

// "-- " (RFC 3676; "--" once trailing blanks are gone), or a line that starts with a rule of ten or
// more '_', '-' or '=' (the footer rule of Mailman and most list managers; with a label after it,
// "------ Yahoo! Groups Sponsor ------", the line above list sponsors' ads).
bool is_signature_delimiter(std::string_view raw_line) {
  if (!raw_line.empty() && raw_line.back() == '\r') {
    raw_line.remove_suffix(1);
  }
  if (raw_line == "-- " || raw_line == "--") {
    return true;
  }
  const std::string_view t = trim(raw_line);
  constexpr std::size_t min_rule = 10;
  if (t.size() < min_rule || (t.front() != '_' && t.front() != '-' && t.front() != '=')) {
    return false;
  }
  const std::size_t rule = std::min(t.find_first_not_of(t.front()), t.size());
  return rule >= min_rule;
}

// Outlook's and others' top-posting separator: everything below is the quoted original.
bool is_original_message(std::string_view raw_line) {
  const std::string_view t = trim(raw_line);
  if (t.size() < 20 || t.size() > 40 || t.front() != '-' || t.back() != '-') {
    return false;
  }
  std::string_view core = t;
  while (!core.empty() && (core.front() == '-' || core.front() == ' ')) {
    core.remove_prefix(1);
  }
  while (!core.empty() && (core.back() == '-' || core.back() == ' ')) {
    core.remove_suffix(1);
  }
  return core.size() == 16 && starts_with_ci(core, "original message");
}

// A quoted line: '>' (RFC 3676), Supercite-style "EL> text" (initials, then '>'), or "# text"
// (some clients quote with '#'; shell comments pasted into mail are no loss to a fingerprint).
bool is_cited(std::string_view t) {
  if (!t.empty() && t.front() == '#' && (t.size() == 1 || t[1] == ' ')) {
    return true;
  }
  for (std::size_t i = 0; i < t.size() && i < 5; ++i) {
    if (t[i] == '>') {
      return true;
    }
    if (!is_ascii_alpha(static_cast<unsigned char>(t[i]))) {
      return false;
    }
  }
  return false;
}

// An attribution line ("On Mon, 5 Aug 2002, Bob wrote:"), whose quote follows unmarked (HTML
// blockquotes become plain text) unless the next non-blank line is quoted.
bool is_attribution(std::string_view t) {
  if (t.empty() || t.back() != ':') {
    return false;
  }
  t.remove_suffix(1);
  for (std::string_view verb : {"wrote", "writes", "schrieb", "escribió", "a écrit", "said"}) {
    if (t.size() >= verb.size() && starts_with_ci(t.substr(t.size() - verb.size()), verb)) {
      return true;
    }
  }
  return false;
}

bool next_line_quoted(std::string_view text, std::size_t pos) {
  while (pos < text.size()) {
    const line_span l = line_at(text, pos);
    const std::string_view t = trim(text.substr(l.begin, l.end - l.begin));
    if (!t.empty()) {
      return is_cited(t);
    }
    pos = l.next;
  }
  return true;
}

// Below an "-----Original Message-----" line: the position after its header block ("From:",
// "Sent:", ... lines) when the original follows quoted ('>'), so the reply written under it counts;
// npos when the original follows unmarked (top-posting: nothing below is the sender's own).
std::size_t quoted_original_start(std::string_view text, std::size_t pos) {
  while (pos < text.size()) {
    const line_span l = line_at(text, pos);
    const std::string_view t = trim(text.substr(l.begin, l.end - l.begin));
    bool header = t.empty();
    for (std::string_view name : {"from:", "sent:", "date:", "to:", "cc:", "subject:"}) {
      header = header || starts_with_ci(t, name);
    }
    if (!header) {
      return is_cited(t) ? pos : std::string_view::npos;
    }
    pos = l.next;
  }
  return std::string_view::npos;
}

bool short_tail(std::string_view text, std::size_t pos, std::size_t max_lines) {
  std::size_t lines = 0;
  while (pos < text.size()) {
    const line_span l = line_at(text, pos);
    if (!trim(text.substr(l.begin, l.end - l.begin)).empty() && ++lines > max_lines) {
      return false;
    }
    pos = l.next;
  }
  return true;
}

}  // namespace

std::size_t word_stream::walk(std::string_view text, std::size_t max_bytes, bool skip_quoted) {
  _budget = max_bytes;
  _emitted = 0;
  _words = 0;
  _greeting_left = 0;
  std::size_t pos = 0;
  while (pos < text.size() && _emitted < _budget) {
    const line_span l = line_at(text, pos);
    const std::string_view line = text.substr(l.begin, l.end - l.begin);
    pos = l.next;
    _greeting_left = 0;  // a greeting ends with its line
    if (skip_quoted) {
      const std::string_view t = trim(line);
      if (is_cited(t)) {
        continue;
      }
      if (is_original_message(line)) {
        pos = quoted_original_start(text, pos);
        if (pos == std::string_view::npos) {
          break;
        }
        continue;
      }
      if ((is_attribution(t) && !next_line_quoted(text, pos)) ||
          (is_signature_delimiter(line) && short_tail(text, pos, max_signature_lines))) {
        break;
      }
    }
    std::size_t i = 0;
    while (i < line.size() && _emitted < _budget) {
      while (i < line.size() && is_space(static_cast<unsigned char>(line[i]))) {
        ++i;
      }
      const std::size_t start = i;
      while (i < line.size() && !is_space(static_cast<unsigned char>(line[i]))) {
        ++i;
      }
      if (i > start) {
        chunk(line.substr(start, i - start));
      }
    }
  }
  return _words;
}

void word_stream::chunk(std::string_view c) {
  // Fast path, most of running text: ASCII letters, perhaps one closing punctuation mark. No URL,
  // address or host name can be in it.
  {
    std::size_t n = c.size();
    const bool closed = n > 1 && is_wrapper(c[n - 1]);
    n -= closed ? 1 : 0;
    std::size_t i = 0;
    while (i < n && is_ascii_alpha(static_cast<unsigned char>(c[i]))) {
      ++i;
    }
    if (i == n) {
      _word.resize(n);
      for (std::size_t k = 0; k < n; ++k) {
        _word[k] = lower(c[k]);
      }
      word(_word);
      if (closed && ends_greeting(c.back())) {
        _greeting_left = 0;
      }
      return;
    }
  }
  std::string_view core = c;
  while (!core.empty() && is_wrapper(core.front())) {
    core.remove_prefix(1);
  }
  while (!core.empty() && is_wrapper(core.back())) {
    core.remove_suffix(1);
  }
  const bool breaks = !c.empty() && ends_greeting(c.back());

  // URLs: the registrable domain stands for the whole URL (rotation of paths, tracking ids and
  // subdomains then changes nothing; rotation of the domain itself changes one word).
  std::string_view rest;
  if (starts_with_ci(core, "http://")) {
    rest = core.substr(7);
  } else if (starts_with_ci(core, "https://")) {
    rest = core.substr(8);
  } else if (starts_with_ci(core, "ftp://")) {
    rest = core.substr(6);
  } else if (starts_with_ci(core, "www.")) {
    rest = core;
  }
  if (!rest.empty()) {
    std::size_t end = rest.find_first_of("/?#\\");
    std::string_view authority = rest.substr(0, end);
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
      authority.remove_prefix(at + 1);
    }
    if (!authority.empty() && authority.front() != '[') {
      authority = authority.substr(0, authority.find(':'));
    }
    lower_into(authority, _word);
    special(registrable(_psl, _word, _host));
  } else if (const std::size_t at = core.find('@'); at != std::string_view::npos && at > 0 && at + 1 < core.size() &&
                                                     host_chars_only(core.substr(at + 1))) {
    // An address: a recipient's own is personalisation; any other stands for its domain (local parts
    // of reply-to addresses are rotated by campaigns).
    _word.clear();
    fold_into(core, _word);
    if (!personal(_word)) {
      lower_into(core.substr(at + 1), _word);
      special(registrable(_psl, _word, _host));
    }
  } else if (core.find('.') != std::string_view::npos && host_chars_only(core) && core.find("..") == std::string_view::npos) {
    // A bare host name ("example.com") when its last label is a known public suffix; otherwise
    // ("file.txt", "3.14") ordinary words.
    lower_into(core, _word);
    std::string_view h = _word;
    const std::size_t dot = h.rfind('.');
    _host.assign(h.substr(dot + 1));
    if (!_host.empty() && is_ascii_alpha(static_cast<unsigned char>(_host[0])) &&
        psl_is_public_suffix2(_psl, _host.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0) {
      if (!personal(_word)) {
        special(registrable(_psl, _word, _host));
      }
    } else {
      words_of(c);
    }
  } else {
    words_of(c);
  }
  if (breaks) {
    _greeting_left = 0;
  }
}

void word_stream::words_of(std::string_view c) {
  // Letters, marks and digits make words; anything else separates. A digit run becomes one '0'.
  const auto* p = reinterpret_cast<const std::uint8_t*>(c.data());
  const auto n = static_cast<std::int32_t>(c.size());
  std::int32_t i = 0;
  _word.clear();
  bool last_digit = false;
  auto flush = [&] {
    if (!_word.empty()) {
      word(_word);
      _word.clear();
    }
    last_digit = false;
  };
  while (i < n) {
    const std::uint8_t b = p[i];
    if (b < 0x80) {
      ++i;
      if (is_ascii_alpha(b)) {
        _word.push_back(lower(static_cast<char>(b)));
        last_digit = false;
      } else if (is_ascii_digit(b)) {
        if (!last_digit) {
          _word.push_back('0');
        }
        last_digit = true;
      } else {
        flush();
      }
      continue;
    }
    const std::int32_t start = i;
    UChar32 cp = 0;
    U8_NEXT(p, i, n, cp);
    if (cp < 0) {
      // Invalid UTF-8: the byte is part of the word as it is (a mis-declared charset still
      // fingerprints consistently).
      _word.append(c.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(i - start)));
      last_digit = false;
      continue;
    }
    if (u_isdigit(cp)) {
      if (!last_digit) {
        _word.push_back('0');
      }
      last_digit = true;
    } else if (u_isalpha(cp) || (U_GET_GC_MASK(cp) & U_GC_M_MASK) != 0) {
      append_utf8(_word, u_foldCase(cp, U_FOLD_CASE_DEFAULT));
      last_digit = false;
    } else {
      flush();
    }
  }
  flush();
}

void word_stream::word(std::string_view w) {
  if (_emitted >= _budget) {
    return;
  }
  if (_greeting_left > 0) {
    --_greeting_left;
    return;
  }
  if (personal(w)) {
    return;
  }
  _emitted += w.size() + 1;
  ++_words;
  _sink(_ctx, w);
  // Greetings are 2–9 bytes starting with one of "abcdghlq": most words are out after two tests.
  if (w.size() >= 2 && w.size() <= 9 && std::string_view("abcdghlq").find(w[0]) != std::string_view::npos &&
      std::find(greetings.begin(), greetings.end(), w) != greetings.end()) {
    _greeting_left = _max_greeting_words;
  }
}

void word_stream::special(std::string_view w) {
  if (_emitted >= _budget || w.empty()) {
    return;
  }
  _greeting_left = 0;
  _emitted += w.size() + 1;
  ++_words;
  _sink(_ctx, w);
}

}  // namespace pw::fingerprint::detail
