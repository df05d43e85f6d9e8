#include "url_scan.hpp"

#include <algorithm>

namespace pw::mime::detail {
namespace {

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (to_lower(s[i]) != prefix[i]) {
      return false;
    }
  }
  return true;
}

// Bytes that end a URL in running text.
bool ends_url(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) {
    return true;
  }
  switch (c) {
    case '<': case '>': case '"': case '\'': case '`': case '{': case '}': case '|': case '\\': case '^':
      return true;
    default:
      return false;
  }
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

// End of the URL starting at `start` (whose scheme or "www." ends at `body`), sentence punctuation
// after it excluded.
std::size_t url_end(std::string_view text, std::size_t start, std::size_t body) {
  std::size_t end = body;
  while (end < text.size() && !ends_url(text[end])) {
    ++end;
  }
  const std::string_view u = text.substr(start, end - start);
  const bool has_open_paren = u.find('(') != std::string_view::npos;
  while (end > body) {
    const char c = text[end - 1];
    const bool trailing = c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
                          c == ']' || (c == ')' && !has_open_paren);
    if (!trailing) {
      break;
    }
    --end;
  }
  return end;
}

}  // namespace

void url_collector::add(std::string_view candidate) {
  if (full()) {
    return;
  }
  std::string text;
  std::size_t scheme_len = 0;
  if (istarts_with(candidate, "http://")) {
    scheme_len = 7;
  } else if (istarts_with(candidate, "https://")) {
    scheme_len = 8;
  } else if (istarts_with(candidate, "www.")) {
    text = "http://";
    scheme_len = 7;
  } else {
    return;
  }
  text.append(candidate.substr(0, max_url_text - text.size()));
  if (text.size() == max_url_text) {
    // HTML links may hold UTF-8: cut before a character, not inside it.
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
      text.pop_back();
    }
    if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) {
      text.pop_back();
    }
  }
  const std::string_view rest = std::string_view(text).substr(scheme_len);
  const std::size_t authority_end = std::min(rest.find_first_of("/?#\\"), rest.size());
  std::string_view host = rest.substr(0, authority_end);
  const std::size_t at = host.rfind('@');
  if (at != std::string_view::npos) {
    host.remove_prefix(at + 1);
  }
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    host = close == std::string_view::npos ? host : host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  while (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  if (host.empty()) {
    return;
  }
  const std::uint64_t h = fnv1a(text);
  for (std::size_t i = 0; i < _hashes.size(); ++i) {
    if (_hashes[i] == h && _urls[i].text == text) {
      return;
    }
  }
  std::string lower_host(host);
  for (char& c : lower_host) {
    c = to_lower(c);
  }
  _hashes.push_back(h);
  _urls.push_back(url{std::move(text), std::move(lower_host)});
}

void url_collector::add_link(std::string_view value) {
  while (!value.empty() && static_cast<unsigned char>(value.front()) <= 0x20) {
    value.remove_prefix(1);
  }
  std::size_t end = 0;
  while (end < value.size() && static_cast<unsigned char>(value[end]) > 0x20) {
    ++end;
  }
  add(value.substr(0, end));
}

void url_collector::scan_text(std::string_view text) {
  // Candidates come from two searches merged in text order: "://" (scheme checked backwards) and
  // "www." at a word start. Each search position only moves forward, so the scan is linear.
  std::size_t next_scheme = text.find("://");
  std::size_t next_www = std::string_view::npos;
  auto find_www = [&](std::size_t from) {
    while (from + 4 <= text.size()) {
      const std::size_t p = text.find('.', from + 3);
      if (p == std::string_view::npos) {
        return std::string_view::npos;
      }
      const std::size_t s = p - 3;
      if (to_lower(text[s]) == 'w' && to_lower(text[s + 1]) == 'w' && to_lower(text[s + 2]) == 'w' &&
          (s == 0 || (!is_alnum(text[s - 1]) && text[s - 1] != '.' && text[s - 1] != '/' &&
                      text[s - 1] != '@' && text[s - 1] != '-'))) {
        return s;
      }
      from = p - 2;
    }
    return std::string_view::npos;
  };
  next_www = find_www(0);
  std::size_t pos = 0;
  while (!full() && (next_scheme != std::string_view::npos || next_www != std::string_view::npos)) {
    if (next_scheme != std::string_view::npos && next_scheme < pos) {
      next_scheme = text.find("://", pos);
      continue;
    }
    if (next_www != std::string_view::npos && next_www < pos) {
      next_www = find_www(pos);
      continue;
    }
    if (next_scheme <= next_www || next_www == std::string_view::npos) {
      const std::size_t colon = next_scheme;
      std::size_t start = std::string_view::npos;
      if (colon >= 5 && istarts_with(text.substr(colon - 5), "https")) {
        start = colon - 5;
      } else if (colon >= 4 && istarts_with(text.substr(colon - 4), "http")) {
        start = colon - 4;
      }
      if (start == std::string_view::npos || start < pos) {
        pos = colon + 3;
        continue;
      }
      const std::size_t end = url_end(text, start, colon + 3);
      if (end > colon + 3) {
        add(text.substr(start, end - start));
      }
      pos = std::max(end, colon + 3);
    } else {
      const std::size_t start = next_www;
      const std::size_t end = url_end(text, start, start + 4);
      if (end > start + 4) {
        add(text.substr(start, end - start));
      }
      pos = std::max(end, start + 4);
    }
  }
}

}  // namespace pw::mime::detail
