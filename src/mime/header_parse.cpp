#include "header_parse.hpp"

#include <algorithm>
#include <cstring>

#include "charset.hpp"
#include "transfer.hpp"

namespace pw::mime::detail {
namespace {

// RFC 5322 2.1.1: a line must not exceed 998 characters, line end excluded.
constexpr std::size_t max_line_length = 998;
// Parameters and RFC 2231 sections per value; real mail has a handful, these only bound hostile input.
constexpr std::size_t max_parameters = 64;
constexpr unsigned max_section_index = 999;
// RFC 2047 limits an encoded-word's charset to a short token; a longer one is not an encoded-word.
constexpr std::size_t max_word_charset = 64;
constexpr std::size_t raw_value_factor = 4;

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_field_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 || c == ':') {
      return false;
    }
  }
  return true;
}

// Cuts s to at most max bytes without splitting a UTF-8 sequence.
void cut_utf8(std::string& s, std::size_t max) {
  if (s.size() <= max) {
    return;
  }
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
    --n;
  }
  s.resize(n);
}

// Text outside encoded-words: ASCII copied; raw 8-bit bytes flagged and taken as UTF-8 or cp1252.
void append_plain_header_text(std::string_view text, std::string& out, anomaly& found) {
  if (is_ascii(text)) {
    out.append(text);
    return;
  }
  found |= anomaly::eight_bit_header;
  append_8bit_header_text(text, out);
}

struct encoded_word {
  std::string_view charset;  // RFC 2231 "*lang" suffix removed
  char encoding = 0;         // 'b' or 'q'
  std::string_view text;
  std::size_t end = 0;       // offset just past "?="
};

// Parses an encoded-word starting at s[pos] == "=?". Sets `malformed` when it started like one
// ("=?charset?") but is not a valid word, so plain text containing "=?" is not flagged.
bool parse_encoded_word(std::string_view s, std::size_t pos, encoded_word& w, bool& malformed) {
  malformed = false;
  const std::size_t cs_start = pos + 2;
  const std::size_t q1 = s.find('?', cs_start);
  if (q1 == std::string_view::npos || q1 == cs_start || q1 - cs_start > max_word_charset) {
    return false;
  }
  for (std::size_t i = cs_start; i < q1; ++i) {
    if (is_wsp(s[i]) || s[i] == '=' || s[i] == '\r' || s[i] == '\n') {
      return false;
    }
  }
  if (q1 + 2 >= s.size() || s[q1 + 2] != '?') {
    malformed = true;
    return false;
  }
  const char enc = to_lower(s[q1 + 1]);
  if (enc != 'b' && enc != 'q') {
    malformed = true;
    return false;
  }
  const std::size_t text_start = q1 + 3;
  std::size_t i = text_start;
  while (i < s.size() && s[i] != '?' && !is_wsp(s[i])) {
    ++i;
  }
  if (i + 1 >= s.size() || s[i] != '?' || s[i + 1] != '=') {
    malformed = true;
    return false;
  }
  std::string_view charset = s.substr(cs_start, q1 - cs_start);
  charset = charset.substr(0, charset.find('*'));
  w = encoded_word{charset, enc, s.substr(text_start, i - text_start), i + 2};
  return true;
}

void append_q_word(std::string_view text, std::string& out, anomaly& found) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '_') {
      out.push_back(' ');
    } else if (c == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      if (c == '=') {
        found |= anomaly::bad_encoded_word;
      }
      out.push_back(c);
    }
  }
}

void skip_comment(std::string_view s, std::size_t& i) {
  int level = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (c == '(') {
      ++level;
    } else if (c == ')') {
      if (--level == 0) {
        ++i;
        return;
      }
    }
    ++i;
  }
  i = s.size();
}

void skip_cfws(std::string_view s, std::size_t& i) {
  while (i < s.size()) {
    if (is_wsp(s[i]) || s[i] == '\r' || s[i] == '\n') {
      ++i;
    } else if (s[i] == '(') {
      skip_comment(s, i);
    } else {
      return;
    }
  }
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct section {
  std::string base;  // lowercase parameter name without the 2231 suffix
  unsigned index = 0;
  bool indexed = false;
  bool extended = false;  // value is charset'lang'%XX (the first section) or %XX (later ones)
  std::string value;
};

// Splits "name*2*" into base "name", index 2, extended. A '*' suffix that is not RFC 2231 syntax
// leaves the name as it is.
section make_section(std::string name, std::string value) {
  section s;
  s.value = std::move(value);
  const std::size_t star = name.find('*');
  if (star == std::string::npos) {
    s.base = std::move(name);
    return s;
  }
  std::string_view rest = std::string_view(name).substr(star + 1);
  if (rest.empty()) {
    s.extended = true;
  } else {
    unsigned index = 0;
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9' && digits < 4) {
      index = index * 10 + static_cast<unsigned>(rest[digits] - '0');
      ++digits;
    }
    const std::string_view after = rest.substr(digits);
    if (digits == 0 || index > max_section_index || !(after.empty() || after == "*")) {
      s.base = std::move(name);
      return s;
    }
    s.indexed = true;
    s.index = index;
    s.extended = after == "*";
  }
  name.resize(star);
  s.base = std::move(name);
  return s;
}

// Joins RFC 2231 sections into parameters: continuations in index order, percent-decoding and
// charset conversion for extended values. A plain parameter yields to an extended one of the same name.
std::vector<parameter> assemble(std::vector<section>& sections, anomaly& found) {
  std::stable_sort(sections.begin(), sections.end(), [](const section& a, const section& b) {
    if (a.base != b.base) {
      return a.base < b.base;
    }
    return a.index < b.index;
  });
  std::vector<parameter> params;
  std::size_t i = 0;
  while (i < sections.size()) {
    std::size_t j = i;
    while (j < sections.size() && sections[j].base == sections[i].base) {
      ++j;
    }
    // Prefer the RFC 2231 form when both a plain and an extended/continued form are present.
    std::size_t first = i;
    for (std::size_t k = i; k < j; ++k) {
      if (sections[k].extended || sections[k].indexed) {
        first = k;
        break;
      }
    }
    const section& head = sections[first];
    parameter p;
    p.name = head.base;
    if (!head.extended && !head.indexed) {
      p.value = head.value;
    } else {
      std::string charset;
      std::string bytes;
      for (std::size_t k = first; k < j; ++k) {
        const section& s = sections[k];
        if (!s.extended && !s.indexed) {
          continue;
        }
        if (!s.extended) {
          bytes += s.value;
          continue;
        }
        std::string_view v = s.value;
        if (k == first) {
          // charset'language'value; a value without the two quotes is taken as plain %XX text.
          const std::size_t q1 = v.find('\'');
          const std::size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
          if (q2 != std::string_view::npos) {
            charset = ascii_lower(trim(v.substr(0, q1)));
            v = v.substr(q2 + 1);
          }
        }
        bytes += percent_decode(v);
      }
      append_as_utf8(bytes, charset, p.value, found);
    }
    params.push_back(std::move(p));
    i = j;
  }
  return params;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view unfold(const raw_header& h, std::string& storage) {
  if (!h.folded) {
    return h.raw_value;
  }
  storage.clear();
  storage.reserve(h.raw_value.size());
  std::string_view rest = h.raw_value;
  while (!rest.empty()) {
    const void* nl = std::memchr(rest.data(), '\n', rest.size());
    const std::size_t line_end = nl == nullptr ? rest.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - rest.data());
    std::size_t keep = line_end;
    if (keep > 0 && rest[keep - 1] == '\r') {
      --keep;
    }
    storage.append(rest.data(), keep);
    rest.remove_prefix(nl == nullptr ? rest.size() : line_end + 1);
  }
  return storage;
}

void split_header_section(std::string_view entity, const limits& lim, anomaly& found, header_section& section) {
  section.headers.clear();
  section.body = {};
  section.starts_with_header = false;
  const std::size_t n = entity.size();
  std::size_t pos = 0;
  bool recording = false;  // whether continuation lines extend the last stored header
  bool first_line = true;
  const char* base = entity.data();
  while (true) {
    if (pos >= n) {
      found |= anomaly::no_header_body_separator;
      section.body = entity.substr(n);
      return;
    }
    const void* nl = std::memchr(base + pos, '\n', n - pos);
    const std::size_t eol = nl == nullptr ? n : static_cast<std::size_t>(static_cast<const char*>(nl) - base);
    std::size_t line_end = eol;
    if (line_end > pos && entity[line_end - 1] == '\r') {
      --line_end;
    }
    const std::size_t next = nl == nullptr ? n : eol + 1;
    if (line_end == pos) {
      section.body = entity.substr(next);
      return;
    }
    if (line_end - pos > max_line_length) {
      found |= anomaly::header_line_too_long;
    }
    const bool within_size = pos <= lim.max_header_bytes;
    if (!within_size) {
      found |= anomaly::header_section_too_large;
    }
    const char c0 = entity[pos];
    if (is_wsp(c0)) {
      if (first_line) {
        found |= anomaly::malformed_header_line;  // a continuation with nothing to continue
      } else if (recording && within_size) {
        raw_header& h = section.headers.back();
        h.raw_value = std::string_view(h.raw_value.data(), base + line_end - h.raw_value.data());
        h.folded = true;
      }
    } else {
      const void* colon = std::memchr(base + pos, ':', line_end - pos);
      const std::string_view name =
          colon == nullptr ? std::string_view{}
                           : trim(std::string_view(base + pos, static_cast<const char*>(colon) - (base + pos)));
      if (!is_field_name(name)) {
        // Like most MUAs: the first line that is not a header starts the body.
        found |= anomaly::malformed_header_line | anomaly::no_header_body_separator;
        section.body = entity.substr(pos);
        return;
      }
      if (first_line) {
        section.starts_with_header = true;
      }
      recording = false;
      if (section.headers.size() >= lim.max_headers) {
        found |= anomaly::too_many_headers;
      } else if (within_size) {
        const char* v = static_cast<const char*>(colon) + 1;
        section.headers.push_back({name, std::string_view(v, base + line_end - v), false});
        recording = true;
      }
    }
    first_line = false;
    pos = next;
  }
}

std::string decode_encoded_words(std::string_view s, anomaly& found) {
  std::string out;
  out.reserve(s.size());
  std::string pending;               // decoded bytes of adjacent words in one charset, not yet converted
  std::string_view pending_charset;
  auto flush = [&]() {
    if (!pending.empty()) {
      append_as_utf8(pending, pending_charset, out, found);
      pending.clear();
    }
  };
  std::size_t i = 0;
  bool after_word = false;
  while (i < s.size()) {
    const std::size_t p = s.find("=?", i);
    if (p == std::string_view::npos) {
      break;
    }
    encoded_word w;
    bool malformed = false;
    if (!parse_encoded_word(s, p, w, malformed)) {
      if (malformed) {
        found |= anomaly::bad_encoded_word;
      }
      flush();
      append_plain_header_text(s.substr(i, p + 2 - i), out, found);
      after_word = false;
      i = p + 2;
      continue;
    }
    const std::string_view between = s.substr(i, p - i);
    const bool only_space = std::all_of(between.begin(), between.end(), is_wsp);
    if (!(after_word && only_space)) {
      flush();
      append_plain_header_text(between, out, found);
    }
    if (!pending.empty() && !iequals(pending_charset, w.charset)) {
      flush();
    }
    pending_charset = w.charset;
    if (w.encoding == 'b') {
      anomaly b64{};
      append_base64_decoded(w.text, pending, b64);
      if (has(b64, anomaly::invalid_base64)) {
        found |= anomaly::bad_encoded_word;
      }
    } else {
      append_q_word(w.text, pending, found);
    }
    after_word = true;
    i = w.end;
  }
  flush();
  if (i < s.size()) {
    append_plain_header_text(s.substr(i), out, found);
  }
  return out;
}

void decode_header_value(const raw_header& h, const limits& lim, anomaly& found, std::string& out) {
  std::string storage;
  std::string_view v = trim(unfold(h, storage));
  // Encoded-words shrink when decoded, so the raw value is cut with room to spare (fewer words cut
  // in half) and the decoded value is cut exactly below.
  const std::size_t raw_cap = lim.max_header_value_bytes * raw_value_factor;
  if (v.size() > raw_cap) {
    v = v.substr(0, raw_cap);
  }
  out.clear();
  if (v.find("=?") == std::string_view::npos) {
    append_plain_header_text(v, out, found);
  } else {
    out = decode_encoded_words(v, found);
  }
  cut_utf8(out, lim.max_header_value_bytes);
}

const std::string* structured_value::find(std::string_view name) const {
  for (const auto& p : params) {
    if (p.name == name) {
      return &p.value;
    }
  }
  return nullptr;
}

structured_value parse_structured_value(const raw_header& h, anomaly& found) {
  std::string storage;
  const std::string_view s = unfold(h, storage);
  structured_value result;
  std::size_t i = 0;
  skip_cfws(s, i);
  const std::size_t token_start = i;
  while (i < s.size() && s[i] != ';' && s[i] != '(' && !is_wsp(s[i]) && s[i] != '"') {
    ++i;
  }
  result.token = ascii_lower(s.substr(token_start, i - token_start));
  std::vector<section> sections;
  while (i < s.size() && sections.size() < max_parameters) {
    const std::size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      break;
    }
    i = semi + 1;
    skip_cfws(s, i);
    const std::size_t name_start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';' && !is_wsp(s[i]) && s[i] != '(') {
      ++i;
    }
    std::string name = ascii_lower(s.substr(name_start, i - name_start));
    skip_cfws(s, i);
    if (i >= s.size() || s[i] != '=' || name.empty()) {
      continue;
    }
    ++i;
    skip_cfws(s, i);
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
        }
        value.push_back(s[i]);
        ++i;
      }
      ++i;  // the closing quote (or past the end when unterminated)
    } else {
      // Unquoted values run to the next ';': senders write unquoted file names with spaces.
      const std::size_t end = std::min(s.find(';', i), s.size());
      value = std::string(trim(s.substr(i, end - i)));
      i = end;
    }
    sections.push_back(make_section(std::move(name), std::move(value)));
  }
  result.params = assemble(sections, found);
  return result;
}

}  // namespace pw::mime::detail
