// mime/html_text.hpp — private: HTML reduced to readable text.
//
// Purpose: what a recipient would read, for the detectors: tags removed, <script>/<style>/comment
// contents dropped, block-level tags turned into line breaks, runs of whitespace collapsed to one
// space, named (a common set) and numeric character references decoded, and the URLs of
// href/src/action/background attributes collected. Hand-written as one forward pass rather than built
// on an HTML library: the classifier's budget is tens of microseconds per message, and a conforming
// tree-building parser would spend that allocating nodes we do not need.
//
// Guarantees: linear in the input (every scan moves forward; an unterminated tag, comment or script
// consumes the rest of the input as a browser would), output is valid UTF-8 when the input is.
// Thread-safety: pure function. Untrusted input: yes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pw::mime::detail {

// Appends the text of `html` (UTF-8) to `out`, and up to `max_links` attribute URLs to `links`.
void append_html_text(std::string_view html, std::string& out, std::vector<std::string>& links,
                      std::size_t max_links);

// Decodes a character reference starting at s[pos] == '&' and appends it as UTF-8. Returns the
// number of bytes consumed, or 0 when it is not a reference this decoder knows.
std::size_t append_char_ref(std::string_view s, std::size_t pos, std::string& out);

}  // namespace pw::mime::detail
