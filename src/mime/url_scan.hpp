// mime/url_scan.hpp — private: URLs in text and HTML links, normalised and de-duplicated.
//
// Purpose: find http://, https:// and www. URLs in decoded text (stopping at whitespace, quotes,
// angle brackets and non-ASCII bytes; trailing sentence punctuation dropped) and accept HTML attribute
// links; record each once with its host (lowercase, userinfo and port removed, trailing dot dropped).
// "www." URLs are recorded with "http://" prepended, so equal links compare equal.
//
// Guarantees: at most `max_urls` URLs, each text at most max_url_text bytes; scanning is linear in
// the text. Thread-safety: a collector is a plain value used by one parse. Untrusted input: yes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "mime/message.hpp"

namespace pw::mime::detail {

inline constexpr std::size_t max_url_text = 2048;

class url_collector {
 public:
  // `storage` lends its capacity (a reused message's URL vector); its contents are dropped.
  explicit url_collector(std::size_t max_urls, std::vector<url> storage = {})
      : _max_urls(max_urls), _urls(std::move(storage)) {
    _urls.clear();
  }

  // An HTML href/src value: the whole value (up to whitespace) is the URL; other schemes are ignored.
  void add_link(std::string_view value);
  void scan_text(std::string_view text);
  std::vector<url> take() { return std::move(_urls); }

 private:
  bool full() const { return _urls.size() >= _max_urls; }
  void add(std::string_view candidate);

  std::size_t _max_urls;
  std::vector<url> _urls;
  std::vector<std::uint64_t> _hashes;  // of url::text, parallel to _urls, for de-duplication
};

}  // namespace pw::mime::detail
