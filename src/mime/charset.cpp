#include "charset.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace pw::mime::detail {
namespace {

// After this many invalid sequences in one conversion the input is clearly not in the declared
// charset; resyncing byte by byte through iconv would cost one iconv call per byte.
constexpr int max_replacements = 4096;
constexpr std::size_t max_charset_name = 40;
constexpr std::size_t iconv_cache_slots = 32;

constexpr std::string_view replacement_char = "\xEF\xBF\xBD";

// windows-1252 0x80..0x9F; the five undefined bytes map to the C1 controls, as WHATWG does.
constexpr std::array<std::uint16_t, 32> cp1252_high = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// Length of the valid UTF-8 sequence starting at p, or 0 when it is invalid or incomplete.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t left) {
  const unsigned c = p[0];
  if (c < 0x80) {
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    return (left >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) {
      return 0;
    }
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) {
      return 0;  // overlong, or a UTF-16 surrogate
    }
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) {
      return 0;
    }
    if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) {
      return 0;  // overlong, or above U+10FFFF
    }
    return 4;
  }
  return 0;
}

// Length of the leading run of ASCII bytes, eight at a time.
std::size_t ascii_prefix(std::string_view s) {
  std::size_t i = 0;
  while (i + 8 <= s.size()) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & 0x8080808080808080ull) != 0) {
      break;
    }
    i += 8;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) {
    ++i;
  }
  return i;
}

void append_cp1252(std::string_view in, std::string& out) {
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t run = ascii_prefix(in.substr(i));
    out.append(in.data() + i, run);
    i += run;
    if (i < in.size()) {
      const auto c = static_cast<unsigned char>(in[i]);
      append_code_point(c < 0xA0 ? cp1252_high[c - 0x80] : c, out);
      ++i;
    }
  }
}

// Appends `in` as UTF-8, replacing each invalid byte with U+FFFD. Returns whether any was replaced.
bool append_utf8_sanitized(std::string_view in, std::string& out) {
  bool replaced = false;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t i = 0;
  std::size_t run_start = 0;
  while (i < in.size()) {
    i += ascii_prefix(in.substr(i));
    if (i >= in.size()) {
      break;
    }
    const std::size_t len = utf8_sequence_length(p + i, in.size() - i);
    if (len != 0) {
      i += len;
      continue;
    }
    out.append(in.data() + run_start, i - run_start);
    out.append(replacement_char);
    replaced = true;
    ++i;
    run_start = i;
  }
  out.append(in.data() + run_start, in.size() - run_start);
  return replaced;
}

// Undeclared or wrongly declared 8-bit text: UTF-8 when it is valid (most such mail today), else
// windows-1252 (the commonest legacy single-byte charset, and it maps every byte).
void append_utf8_or_cp1252(std::string_view in, std::string& out) {
  if (is_valid_utf8(in)) {
    out.append(in);
  } else {
    append_cp1252(in, out);
  }
}

enum class charset_family {
  ascii,        // us-ascii or undeclared
  utf8,
  cp1252,       // iso-8859-1 and windows-1252
  seven_bit_stateful,  // utf-7, iso-2022-*, hz: pure ASCII input may still hold escapes
  ascii_incompatible,  // utf-16/32, ucs-2/4
  other,
};

charset_family classify(std::string_view name) {
  if (name.empty() || name == "us-ascii" || name == "ascii" || name == "us" || name == "ansi_x3.4-1968" ||
      name == "iso646-us" || name == "646") {
    return charset_family::ascii;
  }
  if (name == "utf-8" || name == "utf8") {
    return charset_family::utf8;
  }
  if (name == "iso-8859-1" || name == "iso8859-1" || name == "iso_8859-1" || name == "latin1" ||
      name == "latin-1" || name == "l1" || name == "windows-1252" || name == "cp1252" ||
      name == "x-cp1252" || name == "iso-ir-100" || name == "cp819") {
    return charset_family::cp1252;
  }
  if (name.starts_with("utf-7") || name.starts_with("utf7") || name == "unicode-1-1-utf-7" ||
      name.starts_with("iso-2022") || name.starts_with("csiso2022") || name.starts_with("hz")) {
    return charset_family::seven_bit_stateful;
  }
  if (name.starts_with("utf-16") || name.starts_with("utf16") || name.starts_with("utf-32") ||
      name.starts_with("utf32") || name.starts_with("ucs") || name == "unicode") {
    return charset_family::ascii_incompatible;
  }
  return charset_family::other;
}

// Mail labels that glibc does not know or that name a subset of what senders really use.
std::string_view iconv_name_for(std::string_view name) {
  if (name == "ks_c_5601-1987" || name == "ks_c_5601" || name == "euc-kr" || name == "ksc5601") {
    return "CP949";
  }
  if (name == "gb2312" || name == "gbk" || name == "x-gbk" || name == "cp936" || name == "euc-cn") {
    return "GB18030";
  }
  if (name == "chinesebig5" || name == "x-x-big5" || name == "cn-big5") {
    return "BIG5";
  }
  if (name == "unicode-1-1-utf-7") {
    return "UTF-7";
  }
  if (name == "x-sjis" || name == "shift-jis" || name == "sjis" || name == "ms_kanji") {
    return "SHIFT_JIS";
  }
  if (name == "windows-874") {
    return "CP874";
  }
  return name;
}

// Charset names come from the message: only plain label characters may reach iconv_open, so no
// "//TRANSLIT"-style suffix or path can be smuggled in.
bool is_safe_charset_name(std::string_view name) {
  if (name.empty() || name.size() > max_charset_name) {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
    if (!ok) {
      return false;
    }
  }
  return true;
}

const iconv_t no_converter = reinterpret_cast<iconv_t>(-1);

// Per-thread cache of converters to UTF-8, including negative entries for unknown names. When full,
// slots are reused round-robin, so a stream of junk names cannot pin the cache.
class iconv_cache {
 public:
  iconv_cache() = default;
  iconv_cache(const iconv_cache&) = delete;
  iconv_cache& operator=(const iconv_cache&) = delete;
  ~iconv_cache() {
    for (auto& e : _entries) {
      if (e.cd != no_converter) {
        iconv_close(e.cd);
      }
    }
  }

  iconv_t get(std::string_view name) {
    for (const auto& e : _entries) {
      if (e.name == name) {
        return e.cd;
      }
    }
    const std::string zname(name);
    const iconv_t cd = iconv_open("UTF-8", zname.c_str());
    if (_entries.size() < iconv_cache_slots) {
      _entries.push_back({zname, cd});
    } else {
      entry& victim = _entries[_next_victim];
      _next_victim = (_next_victim + 1) % iconv_cache_slots;
      if (victim.cd != no_converter) {
        iconv_close(victim.cd);
      }
      victim = {zname, cd};
    }
    return cd;
  }

 private:
  struct entry {
    std::string name;
    iconv_t cd;
  };
  std::vector<entry> _entries;
  std::size_t _next_victim = 0;
};

void append_with_iconv(iconv_t cd, std::string_view in, std::string& out, anomaly& found) {
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state left by a previous use
  char* in_ptr = const_cast<char*>(in.data());    // iconv's signature; it does not write the input
  std::size_t in_left = in.size();
  const std::size_t base = out.size();
  out.resize(base + in.size() * 2 + 16);
  std::size_t written = 0;
  int replacements = 0;
  for (;;) {
    char* out_ptr = out.data() + base + written;
    std::size_t out_left = out.size() - base - written;
    const std::size_t rc = in_left == 0 ? iconv(cd, nullptr, nullptr, &out_ptr, &out_left)
                                        : iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    const int err = errno;
    written = static_cast<std::size_t>(out_ptr - (out.data() + base));
    if (rc != static_cast<std::size_t>(-1)) {
      if (in_left == 0) {
        break;  // input consumed and the final shift state flushed
      }
      continue;
    }
    if (err == E2BIG) {
      out.resize(out.size() + out.size() / 2 + 64);
      continue;
    }
    if ((err != EILSEQ && err != EINVAL) || in_left == 0) {
      found |= anomaly::invalid_charset_bytes;
      break;
    }
    found |= anomaly::invalid_charset_bytes;
    if (++replacements > max_replacements) {
      out.resize(base + written);
      append_cp1252(std::string_view(in_ptr, in_left), out);
      return;
    }
    if (out.size() - base - written < replacement_char.size()) {
      out.resize(out.size() + 64);
    }
    std::memcpy(out.data() + base + written, replacement_char.data(), replacement_char.size());
    written += replacement_char.size();
    ++in_ptr;
    --in_left;
  }
  out.resize(base + written);
  // glibc's UCS-4 and similar converters pass values above U+10FFFF through as 5- and 6-byte
  // sequences (found by fuzzing), so the output is checked rather than trusted.
  const std::string_view produced = std::string_view(out).substr(base);
  if (!is_valid_utf8(produced)) {
    const std::string copy(produced);
    out.resize(base);
    append_utf8_sanitized(copy, out);
    found |= anomaly::invalid_charset_bytes;
  }
}

}  // namespace

bool is_ascii(std::string_view s) { return ascii_prefix(s) == s.size(); }

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  while (i < s.size()) {
    i += ascii_prefix(s.substr(i));
    if (i >= s.size()) {
      break;
    }
    const std::size_t len = utf8_sequence_length(p + i, s.size() - i);
    if (len == 0) {
      return false;
    }
    i += len;
  }
  return true;
}

void append_code_point(std::uint32_t cp, std::string& out) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    out.append(replacement_char);
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void append_8bit_header_text(std::string_view in, std::string& out) { append_utf8_or_cp1252(in, out); }

std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return r;
}

void append_as_utf8(std::string_view in, std::string_view charset, std::string& out, anomaly& found) {
  thread_local iconv_cache cache;
  const std::string name = ascii_lower(charset);
  const charset_family family = classify(name);
  const bool ascii_input = is_ascii(in);
  if (ascii_input && family != charset_family::seven_bit_stateful &&
      family != charset_family::ascii_incompatible) {
    out.append(in);
    return;
  }
  switch (family) {
    case charset_family::ascii:
      if (!charset.empty()) {
        found |= anomaly::invalid_charset_bytes;  // 8-bit bytes declared as us-ascii
      }
      append_utf8_or_cp1252(in, out);
      return;
    case charset_family::utf8:
      if (append_utf8_sanitized(in, out)) {
        found |= anomaly::invalid_charset_bytes;
      }
      return;
    case charset_family::cp1252:
      append_cp1252(in, out);
      return;
    default:
      break;
  }
  const std::string_view iconv_name = iconv_name_for(name);
  const iconv_t cd = is_safe_charset_name(iconv_name) ? cache.get(iconv_name) : no_converter;
  if (cd == no_converter) {
    found |= anomaly::unknown_charset;
    append_utf8_or_cp1252(in, out);
    return;
  }
  append_with_iconv(cd, in, out, found);
}

}  // namespace pw::mime::detail
