#include "html_text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "charset.hpp"

namespace pw::mime::detail {
namespace {

struct named_entity {
  std::string_view name;
  std::uint32_t code_point;
};

// The HTML 4 Latin-1 set plus the typographic entities that appear in mail; rarer ones stay literal.
constexpr auto entity_table = [] {
  auto t = std::to_array<named_entity>({
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0},
      {"iexcl", 0xA1}, {"cent", 0xA2}, {"pound", 0xA3}, {"curren", 0xA4}, {"yen", 0xA5},
      {"brvbar", 0xA6}, {"sect", 0xA7}, {"uml", 0xA8}, {"copy", 0xA9}, {"ordf", 0xAA},
      {"laquo", 0xAB}, {"not", 0xAC}, {"shy", 0xAD}, {"reg", 0xAE}, {"macr", 0xAF}, {"deg", 0xB0},
      {"plusmn", 0xB1}, {"sup2", 0xB2}, {"sup3", 0xB3}, {"acute", 0xB4}, {"micro", 0xB5},
      {"para", 0xB6}, {"middot", 0xB7}, {"cedil", 0xB8}, {"sup1", 0xB9}, {"ordm", 0xBA},
      {"raquo", 0xBB}, {"frac14", 0xBC}, {"frac12", 0xBD}, {"frac34", 0xBE}, {"iquest", 0xBF},
      {"Agrave", 0xC0}, {"Aacute", 0xC1}, {"Acirc", 0xC2}, {"Atilde", 0xC3}, {"Auml", 0xC4},
      {"Aring", 0xC5}, {"AElig", 0xC6}, {"Ccedil", 0xC7}, {"Egrave", 0xC8}, {"Eacute", 0xC9},
      {"Ecirc", 0xCA}, {"Euml", 0xCB}, {"Igrave", 0xCC}, {"Iacute", 0xCD}, {"Icirc", 0xCE},
      {"Iuml", 0xCF}, {"ETH", 0xD0}, {"Ntilde", 0xD1}, {"Ograve", 0xD2}, {"Oacute", 0xD3},
      {"Ocirc", 0xD4}, {"Otilde", 0xD5}, {"Ouml", 0xD6}, {"times", 0xD7}, {"Oslash", 0xD8},
      {"Ugrave", 0xD9}, {"Uacute", 0xDA}, {"Ucirc", 0xDB}, {"Uuml", 0xDC}, {"Yacute", 0xDD},
      {"THORN", 0xDE}, {"szlig", 0xDF}, {"agrave", 0xE0}, {"aacute", 0xE1}, {"acirc", 0xE2},
      {"atilde", 0xE3}, {"auml", 0xE4}, {"aring", 0xE5}, {"aelig", 0xE6}, {"ccedil", 0xE7},
      {"egrave", 0xE8}, {"eacute", 0xE9}, {"ecirc", 0xEA}, {"euml", 0xEB}, {"igrave", 0xEC},
      {"iacute", 0xED}, {"icirc", 0xEE}, {"iuml", 0xEF}, {"eth", 0xF0}, {"ntilde", 0xF1},
      {"ograve", 0xF2}, {"oacute", 0xF3}, {"ocirc", 0xF4}, {"otilde", 0xF5}, {"ouml", 0xF6},
      {"divide", 0xF7}, {"oslash", 0xF8}, {"ugrave", 0xF9}, {"uacute", 0xFA}, {"ucirc", 0xFB},
      {"uuml", 0xFC}, {"yacute", 0xFD}, {"thorn", 0xFE}, {"yuml", 0xFF}, {"OElig", 0x152},
      {"oelig", 0x153}, {"Scaron", 0x160}, {"scaron", 0x161}, {"Yuml", 0x178}, {"fnof", 0x192},
      {"circ", 0x2C6}, {"tilde", 0x2DC}, {"ensp", 0x2002}, {"emsp", 0x2003}, {"thinsp", 0x2009},
      {"zwnj", 0x200C}, {"zwj", 0x200D}, {"ndash", 0x2013}, {"mdash", 0x2014}, {"lsquo", 0x2018},
      {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"bdquo", 0x201E},
      {"dagger", 0x2020}, {"Dagger", 0x2021}, {"bull", 0x2022}, {"hellip", 0x2026},
      {"permil", 0x2030}, {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"euro", 0x20AC},
      {"trade", 0x2122}, {"larr", 0x2190}, {"rarr", 0x2192},
  });
  std::sort(t.begin(), t.end(), [](const named_entity& a, const named_entity& b) { return a.name < b.name; });
  return t;
}();

// Numeric references 0x80..0x9F mean windows-1252 characters (HTML5 does the same).
constexpr std::array<std::uint16_t, 32> c1_remap = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

constexpr std::size_t max_entity_name = 10;
constexpr std::size_t max_tag_name = 10;
constexpr std::size_t max_link_length = 4096;

enum class tag_kind : std::uint8_t { inline_tag, block, cell, raw_text };

struct tag_entry {
  std::string_view name;
  tag_kind kind;
};

// Tags that change the text layout; everything else is dropped without a trace, so "V<b></b>iagra"
// reads as one word, as it does on screen.
constexpr auto tag_table = std::to_array<tag_entry>({
    {"p", tag_kind::block}, {"br", tag_kind::block}, {"div", tag_kind::block}, {"tr", tag_kind::block},
    {"li", tag_kind::block}, {"h1", tag_kind::block}, {"h2", tag_kind::block}, {"h3", tag_kind::block},
    {"h4", tag_kind::block}, {"h5", tag_kind::block}, {"h6", tag_kind::block},
    {"table", tag_kind::block}, {"ul", tag_kind::block}, {"ol", tag_kind::block},
    {"dl", tag_kind::block}, {"dt", tag_kind::block}, {"dd", tag_kind::block},
    {"pre", tag_kind::block}, {"blockquote", tag_kind::block}, {"hr", tag_kind::block},
    {"title", tag_kind::block}, {"center", tag_kind::block}, {"form", tag_kind::block},
    {"address", tag_kind::block}, {"section", tag_kind::block}, {"article", tag_kind::block},
    {"header", tag_kind::block}, {"footer", tag_kind::block}, {"nav", tag_kind::block},
    {"body", tag_kind::block}, {"html", tag_kind::block}, {"head", tag_kind::block},
    {"option", tag_kind::block}, {"caption", tag_kind::block}, {"tbody", tag_kind::block},
    {"thead", tag_kind::block}, {"tfoot", tag_kind::block}, {"main", tag_kind::block},
    {"td", tag_kind::cell}, {"th", tag_kind::cell}, {"script", tag_kind::raw_text},
    {"style", tag_kind::raw_text},
});

bool is_html_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Tag names of up to eight bytes packed into an integer, so looking one up is a few integer compares.
constexpr std::uint64_t pack_name(std::string_view name) {
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < name.size() && i < 8; ++i) {
    key |= static_cast<std::uint64_t>(static_cast<unsigned char>(name[i])) << (8 * i);
  }
  return key;
}

// An open-addressing table keyed by the packed name: one multiply and usually one compare per tag.
constexpr std::size_t tag_slots = 128;

struct tag_slot {
  std::uint64_t key = 0;  // 0: empty (a packed name of one or more bytes is never 0)
  tag_kind kind = tag_kind::inline_tag;
};

constexpr std::size_t tag_slot_of(std::uint64_t key) {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 57);  // 7 bits: 128 slots
}

constexpr auto tag_hash_table = [] {
  std::array<tag_slot, tag_slots> t{};
  for (const auto& e : tag_table) {
    if (e.name.size() > 8) {
      continue;  // "blockquote" is looked up by name
    }
    const std::uint64_t key = pack_name(e.name);
    std::size_t slot = tag_slot_of(key);
    while (t[slot].key != 0) {
      slot = (slot + 1) % tag_slots;
    }
    t[slot] = {key, e.kind};
  }
  return t;
}();

tag_kind classify_tag(std::string_view name) {
  if (name.empty()) {
    return tag_kind::inline_tag;
  }
  if (name.size() > 8) {
    return name == "blockquote" ? tag_kind::block : tag_kind::inline_tag;
  }
  const std::uint64_t key = pack_name(name);
  for (std::size_t slot = tag_slot_of(key);; slot = (slot + 1) % tag_slots) {
    if (tag_hash_table[slot].key == key) {
      return tag_hash_table[slot].kind;
    }
    if (tag_hash_table[slot].key == 0) {
      return tag_kind::inline_tag;
    }
  }
}

// Bytes that end a run of ordinary text: markup starts and whitespace.
constexpr auto text_run_stop = [] {
  std::array<bool, 256> t{};
  t['<'] = t['&'] = t[' '] = t['\t'] = t['\n'] = t['\r'] = t['\f'] = true;
  return t;
}();

bool is_link_attribute(std::string_view name) {
  return name == "href" || name == "src" || name == "action" || name == "background";
}

// Case-insensitive search for "</name" from pos; returns npos when absent.
std::size_t find_end_tag(std::string_view s, std::size_t pos, std::string_view name) {
  while (pos < s.size()) {
    const void* lt = std::memchr(s.data() + pos, '<', s.size() - pos);
    if (lt == nullptr) {
      return std::string_view::npos;
    }
    const std::size_t p = static_cast<std::size_t>(static_cast<const char*>(lt) - s.data());
    if (p + 1 + name.size() < s.size() && s[p + 1] == '/') {
      bool match = true;
      for (std::size_t k = 0; k < name.size(); ++k) {
        if (to_lower(s[p + 2 + k]) != name[k]) {
          match = false;
          break;
        }
      }
      if (match) {
        return p;
      }
    }
    pos = p + 1;
  }
  return std::string_view::npos;
}

class html_writer {
 public:
  explicit html_writer(std::string& out) : _out(out), _start(out.size()) {}

  void space() { _pending_space = true; }

  void line_break() {
    _pending_space = false;
    while (_out.size() > _start && _out.back() == ' ') {
      _out.pop_back();
    }
    if (_out.size() > _start && _out.back() != '\n') {
      _out.push_back('\n');
    }
  }

  // Call before appending visible characters.
  std::string& text() {
    if (_pending_space) {
      _pending_space = false;
      if (_out.size() > _start && _out.back() != ' ' && _out.back() != '\n') {
        _out.push_back(' ');
      }
    }
    return _out;
  }

 private:
  std::string& _out;
  std::size_t _start;
  bool _pending_space = false;
};

// Parses the tag starting at s[pos] == '<' (a name follows, possibly after '/'); returns the offset
// after it. Collects link attributes of opening tags.
std::size_t parse_tag(std::string_view s, std::size_t pos, html_writer& w, std::vector<std::string>& links,
                      std::size_t max_links) {
  std::size_t i = pos + 1;
  const bool closing = s[i] == '/';
  if (closing) {
    ++i;
  }
  std::array<char, max_tag_name> name_buf{};
  std::size_t name_len = 0;
  bool name_too_long = false;
  while (i < s.size() && is_alnum(s[i])) {
    if (name_len < max_tag_name) {
      name_buf[name_len++] = to_lower(s[i]);
    } else {
      name_too_long = true;
    }
    ++i;
  }
  const tag_kind kind =
      name_too_long ? tag_kind::inline_tag : classify_tag(std::string_view(name_buf.data(), name_len));
  // Attributes, up to the closing '>'.
  while (i < s.size() && s[i] != '>') {
    if (is_html_space(s[i]) || s[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t attr_start = i;
    while (i < s.size() && !is_html_space(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/') {
      ++i;
    }
    std::array<char, 12> attr_buf{};
    const std::size_t attr_len = i - attr_start;
    if (attr_len <= attr_buf.size()) {
      for (std::size_t k = 0; k < attr_len; ++k) {
        attr_buf[k] = to_lower(s[attr_start + k]);
      }
    }
    const std::string_view attr(attr_buf.data(), attr_len <= attr_buf.size() ? attr_len : 0);
    while (i < s.size() && is_html_space(s[i])) {
      ++i;
    }
    if (i >= s.size() || s[i] != '=') {
      continue;
    }
    ++i;
    while (i < s.size() && is_html_space(s[i])) {
      ++i;
    }
    std::size_t value_start = i;
    std::size_t value_end = i;
    if (i < s.size() && (s[i] == '"' || s[i] == '\'')) {
      const char quote = s[i];
      value_start = i + 1;
      const void* q = std::memchr(s.data() + value_start, quote, s.size() - value_start);
      value_end = q == nullptr ? s.size() : static_cast<std::size_t>(static_cast<const char*>(q) - s.data());
      i = q == nullptr ? s.size() : value_end + 1;
    } else {
      while (i < s.size() && !is_html_space(s[i]) && s[i] != '>') {
        ++i;
      }
      value_end = i;
    }
    if (!closing && links.size() < max_links && is_link_attribute(attr) &&
        value_end - value_start <= max_link_length) {
      const std::string_view raw = s.substr(value_start, value_end - value_start);
      std::string link;
      link.reserve(raw.size());
      for (std::size_t k = 0; k < raw.size();) {
        const std::size_t used = raw[k] == '&' ? append_char_ref(raw, k, link) : 0;
        if (used == 0) {
          link.push_back(raw[k]);
          ++k;
        } else {
          k += used;
        }
      }
      links.push_back(std::move(link));
    }
  }
  if (i < s.size()) {
    ++i;  // '>'
  }
  switch (kind) {
    case tag_kind::block:
      w.line_break();
      break;
    case tag_kind::cell:
      w.space();
      break;
    case tag_kind::raw_text:
      if (!closing) {
        const std::size_t end = find_end_tag(s, i, std::string_view(name_buf.data(), name_len));
        if (end == std::string_view::npos) {
          return s.size();
        }
        const void* gt = std::memchr(s.data() + end, '>', s.size() - end);
        return gt == nullptr ? s.size() : static_cast<std::size_t>(static_cast<const char*>(gt) - s.data()) + 1;
      }
      break;
    case tag_kind::inline_tag:
      break;
  }
  return i;
}

}  // namespace

std::size_t append_char_ref(std::string_view s, std::size_t pos, std::string& out) {
  std::size_t i = pos + 1;
  if (i < s.size() && s[i] == '#') {
    ++i;
    const bool hex = i < s.size() && (s[i] == 'x' || s[i] == 'X');
    if (hex) {
      ++i;
    }
    std::uint32_t cp = 0;
    std::size_t digits = 0;
    while (i < s.size()) {
      const char c = s[i];
      int d = -1;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (hex && c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (hex && c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      }
      if (d < 0) {
        break;
      }
      if (cp <= 0x10FFFF) {
        cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);  // stops growing once out of range
      }
      ++digits;
      ++i;
    }
    if (digits == 0) {
      return 0;
    }
    if (i < s.size() && s[i] == ';') {
      ++i;
    }
    if (cp == 0xA0) {
      cp = ' ';  // a no-break space separates words like a space
    } else if (cp >= 0x80 && cp <= 0x9F) {
      cp = c1_remap[cp - 0x80];
    } else if (cp == 0) {
      cp = 0xFFFD;
    }
    append_code_point(cp, out);
    return i - pos;
  }
  const std::size_t name_start = i;
  while (i < s.size() && i - name_start <= max_entity_name && is_alnum(s[i])) {
    ++i;
  }
  const std::string_view name = s.substr(name_start, i - name_start);
  const auto it = std::lower_bound(entity_table.begin(), entity_table.end(), name,
                                   [](const named_entity& e, std::string_view n) { return e.name < n; });
  if (name.empty() || it == entity_table.end() || it->name != name) {
    return 0;
  }
  if (i < s.size() && s[i] == ';') {
    ++i;
  }
  append_code_point(it->code_point == 0xA0 ? ' ' : it->code_point, out);
  return i - pos;
}

void append_html_text(std::string_view html, std::string& out, std::vector<std::string>& links,
                      std::size_t max_links) {
  out.reserve(out.size() + html.size() / 2);
  html_writer w(out);
  std::size_t i = 0;
  const std::size_t n = html.size();
  while (i < n) {
    const char c = html[i];
    if (c == '<') {
      if (i + 3 < n && html.compare(i, 4, "<!--") == 0) {
        const std::size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? n : end + 3;
        continue;
      }
      if (i + 1 < n && (html[i + 1] == '!' || html[i + 1] == '?')) {
        const void* gt = std::memchr(html.data() + i, '>', n - i);
        i = gt == nullptr ? n : static_cast<std::size_t>(static_cast<const char*>(gt) - html.data()) + 1;
        continue;
      }
      if (i + 1 < n && (is_alpha(html[i + 1]) || (html[i + 1] == '/' && i + 2 < n && is_alpha(html[i + 2])))) {
        i = parse_tag(html, i, w, links, max_links);
        continue;
      }
      w.text().push_back('<');
      ++i;
    } else if (c == '&') {
      std::string& t = w.text();
      const std::size_t used = append_char_ref(html, i, t);
      if (used == 0) {
        t.push_back('&');
        ++i;
      } else {
        i += used;
      }
    } else if (is_html_space(c)) {
      w.space();
      ++i;
    } else {
      std::size_t j = i + 1;
      while (j < n && !text_run_stop[static_cast<unsigned char>(html[j])]) {
        ++j;
      }
      w.text().append(html.data() + i, j - i);
      i = j;
    }
  }
}

}  // namespace pw::mime::detail
