// common/markup.hpp — text into XML, SVG and HTML, whatever bytes it holds.
//
// Purpose: one escaping function for every page and picture Portwarden writes (the ROC plot, the
// simulator's HTML report): markup characters become entities (' as &#39;, which XML and HTML both
// read), and what XML 1.0 cannot carry — invalid or overlong UTF-8, surrogates, control characters
// other than tab, newline and carriage return, the non-characters U+FFFE/U+FFFF — becomes U+FFFD,
// so arbitrary bytes (a corpus file name, a scenario title) always yield well-formed text.
// Guarantees: never throws beyond allocation; output is valid UTF-8. `max_chars` counts characters
// (code points) of the input; at that count the output stops and ends with "...".
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pw {

inline std::string escape_markup(std::string_view s, std::size_t max_chars = std::string_view::npos) {
  constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
  std::string out;
  out.reserve(s.size());
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++chars) {
    if (chars == max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
          if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            out += replacement;
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    // A lead byte: the sequence length and the smallest code point it may encode (longer
    // encodings of smaller values are overlong and invalid).
    const std::size_t length = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    const std::uint32_t min_cp = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
    bool complete = length != 0 && i + length <= s.size();
    std::uint32_t cp = complete ? (c & (0x7F >> length)) : 0;
    for (std::size_t k = 1; complete && k < length; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      complete = (cont & 0xC0) == 0x80;
      cp = (cp << 6) | (cont & 0x3F);
    }
    // XML 1.0's Char production beyond ASCII.
    const bool valid = complete && cp >= min_cp &&
                       ((cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF));
    out += valid ? s.substr(i, length) : replacement;
    // A complete sequence naming a forbidden code point is one character; a broken one resyncs at
    // the next byte.
    i += complete ? length : 1;
  }
  return out;
}

}  // namespace pw
