// The campaign mutator: template analysis once per campaign, then one mutated message per call.
#include "sim/campaign_mutator.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdio>

#include "mime/message.hpp"
#include "word_lists.hpp"

namespace pw::sim {

namespace {

// SplitMix64 (Steele, Lea, Flood 2014). Hand-written instead of <random> because the standard
// distributions are implementation-defined: variants must be byte-identical across standard
// libraries, and the simulator needs a cheap generator per variant (random access by index).
class prng {
 public:
  explicit prng(std::uint64_t seed) : _state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n ≤ 2^32 by multiply-shift (Lemire) on the high 32 bits; the bias for
  // the small n used here is below 2^-20.
  std::uint64_t below(std::uint64_t n) {
    assert(n > 0 && n <= (1ull << 32));
    return ((next() >> 32) * n) >> 32;
  }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <class T>
  const T& pick(std::span<const T> list) {
    return list[below(list.size())];
  }

 private:
  std::uint64_t _state;
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) { return prng(a ^ (b * 0xd6e8feb86659fd93ull)).next(); }

// Stream tags, so the campaign's pools and each variant draw from independent sequences.
constexpr std::uint64_t stream_subjects = 1;
constexpr std::uint64_t stream_images = 2;
constexpr std::uint64_t stream_domains = 3;
constexpr std::uint64_t stream_variants = 4;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Case-insensitive search for an ASCII needle.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
  if (needle.empty() || hay.size() < needle.size()) {
    return std::string_view::npos;
  }
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    std::size_t k = 0;
    while (k < needle.size() && lower(hay[i + k]) == lower(needle[k])) {
      ++k;
    }
    if (k == needle.size()) {
      return i;
    }
  }
  return std::string_view::npos;
}
std::size_t irfind(std::string_view hay, std::string_view needle) {
  std::size_t found = std::string_view::npos;
  for (std::size_t at = ifind(hay, needle); at != std::string_view::npos; at = ifind(hay, needle, at + 1)) {
    found = at;
  }
  return found;
}

// The part of a host name a registrar sells: the last two labels, or three under the common
// second-level registries of country TLDs (example.co.uk). Empty for address literals and single
// labels, which are not rotated.
std::string registrable_domain(std::string_view host) {
  if (host.empty() || host.find_first_not_of("0123456789.") == std::string_view::npos ||
      host.find_first_of(":[]") != std::string_view::npos) {
    return {};
  }
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = host.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? host.size() : dot;
    if (end > start) {
      labels.push_back(host.substr(start, end - start));
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (labels.size() < 2) {
    return {};
  }
  static constexpr std::array<std::string_view, 12> second_levels = {"co",  "com", "net", "org", "ac",  "gov",
                                                                     "edu", "ne",  "or",  "go",  "ltd", "plc"};
  std::size_t keep = 2;
  if (labels.size() >= 3 && labels.back().size() == 2 &&
      std::find(second_levels.begin(), second_levels.end(), labels[labels.size() - 2]) != second_levels.end()) {
    keep = 3;
  }
  std::string out;
  for (std::size_t i = labels.size() - keep; i < labels.size(); ++i) {
    out += out.empty() ? "" : ".";
    out += lowercase(labels[i]);
  }
  return out;
}

bool is_domain_char(char c) { return is_alnum(c) || c == '-'; }

// Replaces `from` (a registrable domain) wherever it stands as the end of a host name.
void replace_domain(std::string& text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t at = ifind(text, from); at != std::string_view::npos; at = ifind(text, from, at + from.size())) {
    const std::size_t end = at + from.size();
    const bool starts_label = at == 0 || !is_domain_char(text[at - 1]);
    const bool ends_host =
        end == text.size() ||
        (!is_domain_char(text[end]) && !(text[end] == '.' && end + 1 < text.size() && is_domain_char(text[end + 1])));
    if (starts_label && ends_host) {
      out.append(text, copied, at - copied);
      out += to;
      copied = end;
    }
  }
  if (copied != 0) {
    out.append(text, copied, std::string::npos);
    text = std::move(out);
  }
}

constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode_base64(std::string_view bytes, std::string_view eol) {
  std::string flat;
  flat.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (n > 1) {
      v |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    }
    if (n > 2) {
      v |= static_cast<std::uint8_t>(bytes[i + 2]);
    }
    flat += base64_alphabet[(v >> 18) & 63];
    flat += base64_alphabet[(v >> 12) & 63];
    flat += n > 1 ? base64_alphabet[(v >> 6) & 63] : '=';
    flat += n > 2 ? base64_alphabet[v & 63] : '=';
  }
  std::string out;
  for (std::size_t i = 0; i < flat.size(); i += 76) {
    out.append(flat, i, 76);
    out += eol;
  }
  return out;
}

// Quoted-printable (RFC 2045 6.7): lines at most 76 characters, trailing whitespace encoded.
std::string encode_quoted_printable(std::string_view text, std::string_view eol) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t nl = text.find('\n', start);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    std::size_t column = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      const bool last = i + 1 == line.size();
      const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      const std::size_t width = literal ? 1 : 3;
      if (column + width > 75) {
        out += '=';
        out += eol;
        column = 0;
      }
      if (literal) {
        out += static_cast<char>(c);
      } else {
        out += '=';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
      column += width;
    }
    if (nl == std::string_view::npos) {
      break;
    }
    out += eol;
    start = nl + 1;
  }
  return out;
}

// A header value as RFC 2047 encoded-words when it is not plain ASCII; words split at UTF-8
// character boundaries (2047 section 5) and folded onto continuation lines.
std::string encode_header_value(std::string_view value, std::string_view eol) {
  const bool ascii = std::all_of(value.begin(), value.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 32 && static_cast<unsigned char>(c) < 127;
  });
  if (ascii) {
    return std::string(value);
  }
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t n = std::min<std::size_t>(45, value.size() - i);
    while (i + n < value.size() && n > 1 && (static_cast<unsigned char>(value[i + n]) & 0xc0) == 0x80) {
      --n;  // do not split a multi-byte character
    }
    if (!out.empty()) {
      out += eol;
      out += ' ';
    }
    out += "=?UTF-8?B?";
    std::string chunk = encode_base64(value.substr(i, n), "");
    out += chunk;
    out += "?=";
    i += n;
  }
  return out;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// A GIF89a of random-colour noise. The LZW stream is "uncompressed": every pixel is a literal
// 9-bit code and a clear code comes before the code table would grow to 10 bits, which every
// decoder accepts and which needs no compressor.
std::string make_noise_gif(prng& r, std::uint16_t width, std::uint16_t height) {
  std::string g = "GIF89a";
  auto le16 = [&g](std::uint16_t v) {
    g += static_cast<char>(v & 0xff);
    g += static_cast<char>(v >> 8);
  };
  le16(width);
  le16(height);
  g += static_cast<char>(0xf7);  // global colour table of 256 entries, 8-bit colour resolution
  g += '\0';                     // background colour index
  g += '\0';                     // pixel aspect ratio
  for (int i = 0; i < 256 * 3; ++i) {
    g += static_cast<char>(r.below(256));
  }
  g += ',';  // image descriptor
  le16(0);
  le16(0);
  le16(width);
  le16(height);
  g += '\0';                  // no local colour table, not interlaced
  g += static_cast<char>(8);  // LZW minimum code size
  constexpr std::uint32_t clear_code = 256;
  constexpr std::uint32_t end_code = 257;
  constexpr std::uint32_t literals_per_clear = 250;  // table stays below 512 entries: codes stay 9 bits
  std::string data;
  std::uint32_t bit_buffer = 0;
  int bits = 0;
  auto emit = [&](std::uint32_t code) {
    bit_buffer |= code << bits;
    bits += 9;
    while (bits >= 8) {
      data += static_cast<char>(bit_buffer & 0xff);
      bit_buffer >>= 8;
      bits -= 8;
    }
  };
  const std::uint32_t pixels = static_cast<std::uint32_t>(width) * height;
  for (std::uint32_t p = 0; p < pixels; ++p) {
    if (p % literals_per_clear == 0) {
      emit(clear_code);
    }
    emit(static_cast<std::uint32_t>(r.below(256)));
  }
  emit(end_code);
  if (bits > 0) {
    data += static_cast<char>(bit_buffer & 0xff);
  }
  for (std::size_t i = 0; i < data.size(); i += 255) {
    const std::size_t n = std::min<std::size_t>(255, data.size() - i);
    g += static_cast<char>(n);
    g.append(data, i, n);
  }
  g += '\0';  // block terminator
  g += ';';   // trailer
  return g;
}

std::string rewrite_subject(std::string_view original, prng& r) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < original.size()) {
    const std::size_t space = original.find(' ', start);
    const std::size_t end = space == std::string_view::npos ? original.size() : space;
    if (end > start) {
      words.emplace_back(original.substr(start, end - start));
    }
    start = end + 1;
  }
  const auto dictionary = detail::dictionary_words();
  if (!words.empty() && r.chance(0.5)) {
    const std::uint64_t swaps = 1 + r.below(2);
    for (std::uint64_t s = 0; s < swaps; ++s) {
      words[r.below(words.size())] = std::string(r.pick(dictionary));
    }
  }
  if (words.size() < 2 || r.chance(0.3)) {
    words.insert(words.begin() + static_cast<std::ptrdiff_t>(r.below(words.size() + 1)),
                 std::string(r.pick(dictionary)));
  }
  std::string s;
  for (const auto& w : words) {
    s += s.empty() ? "" : " ";
    s += w;
  }
  if (r.chance(0.5)) {
    if (r.chance(0.5)) {
      s += " #" + std::to_string(100 + r.below(999900));
    } else {
      s += " [";
      for (int i = 0; i < 5; ++i) {
        s += static_cast<char>('a' + r.below(26));
      }
      s += "]";
    }
  }
  if (r.chance(0.25)) {
    static constexpr std::array<std::string_view, 4> prefixes = {"Re: ", "Fwd: ", "RE: ", "FW: "};
    s.insert(0, prefixes[r.below(prefixes.size())]);
  }
  if (r.chance(0.1)) {
    std::transform(s.begin(), s.end(), s.begin(), upper);
  }
  return s;
}

// Wraps words into lines of at most 72 columns.
std::string wrap_words(const std::vector<std::string>& words, std::string_view eol) {
  std::string out;
  std::size_t column = 0;
  for (const auto& w : words) {
    if (column > 0 && column + 1 + w.size() > 72) {
      out += eol;
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out += w;
    column += w.size();
  }
  return out;
}

// Whitespace and HTML noise at whitespace runs of text content: never inside a tag, a comment, or
// a <style>/<script> element (where an inserted line break could change meaning).
std::string add_noise(std::string_view text, bool html, bool whitespace_noise, bool html_noise,
                      const mutation_settings& s, std::string_view eol, prng& r) {
  const auto dictionary = detail::dictionary_words();
  const auto tags = detail::empty_tags();
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t i = 0;
  while (i < text.size()) {
    if (html && text[i] == '<') {
      std::size_t end;
      if (text.substr(i, 4) == "<!--") {
        end = text.find("-->", i + 4);
        end = end == std::string_view::npos ? text.size() : end + 3;
      } else {
        end = text.find('>', i);
        end = end == std::string_view::npos ? text.size() : end + 1;
        const std::string_view tag = text.substr(i, end - i);
        for (std::string_view raw_element : {std::string_view("style"), std::string_view("script")}) {
          if (tag.size() > raw_element.size() + 1 && ifind(tag.substr(1, raw_element.size()), raw_element) == 0) {
            const std::size_t close = ifind(text, std::string("</") + std::string(raw_element), end);
            end = close == std::string_view::npos ? text.size() : close;
          }
        }
      }
      out.append(text, i, end - i);
      i = end;
      continue;
    }
    if (!is_space(text[i])) {
      out += text[i++];
      continue;
    }
    const std::size_t run_end =
        std::find_if(text.begin() + static_cast<std::ptrdiff_t>(i), text.end(), [](char c) { return !is_space(c); }) -
        text.begin();
    out.append(text, i, run_end - i);
    i = run_end;
    if (whitespace_noise && r.chance(s.whitespace_noise_rate)) {
      switch (r.below(3)) {
        case 0:
          out.append(1 + r.below(3), ' ');
          break;
        case 1:
          out += eol;
          break;
        default:
          out += eol;
          out += eol;
          break;
      }
    }
    if (html && html_noise && i < text.size() && r.chance(s.html_noise_rate)) {
      switch (r.below(3)) {
        case 0:
          out += "<!-- ";
          out += r.pick(dictionary);
          out += " -->";
          break;
        case 1: {
          const std::string_view tag = r.pick(tags);
          out += "<" + std::string(tag) + "></" + std::string(tag) + ">";
          break;
        }
        default:
          out += "<span style=\"display:none\">";
          out += r.pick(dictionary);
          out += "</span> ";
          break;
      }
    }
  }
  return out;
}

// Inserts `fragment` after the opening <body ...> tag, or at the start.
void insert_after_body_open(std::string& html, std::string_view fragment) {
  std::size_t at = ifind(html, "<body");
  if (at != std::string::npos) {
    const std::size_t close = html.find('>', at);
    at = close == std::string::npos ? html.size() : close + 1;
  } else {
    at = 0;
  }
  html.insert(at, fragment);
}

// Inserts `fragment` before the last </body>, or at the end.
void insert_before_body_close(std::string& html, std::string_view fragment) {
  const std::size_t at = irfind(html, "</body");
  html.insert(at == std::string::npos ? html.size() : at, fragment);
}

bool unmutable_charset(std::string_view charset) {
  return charset.starts_with("utf-16") || charset.starts_with("utf-32") || charset.starts_with("ucs-") ||
         charset.starts_with("utf-7");
}

}  // namespace

std::string_view mutation_name(mutation flag) {
  switch (flag) {
    case mutation::hash_buster:
      return "hash_buster";
    case mutation::domain_rotation:
      return "domain_rotation";
    case mutation::subject_rotation:
      return "subject_rotation";
    case mutation::personalisation:
      return "personalisation";
    case mutation::whitespace_noise:
      return "whitespace_noise";
    case mutation::html_noise:
      return "html_noise";
    case mutation::image_only:
      return "image_only";
    default:
      return "unknown";
  }
}

result<campaign_mutator> campaign_mutator::create(std::string_view template_raw, std::uint64_t seed,
                                                  const mutation_settings& settings) {
  const auto& s = settings;
  if (s.hash_buster_min_words > s.hash_buster_max_words || s.hash_buster_max_words > 100000) {
    return make_error(errc::invalid_config, "hash-buster words: need min <= max <= 100000");
  }
  if (s.domain_rotation_period == 0 || s.subject_pool_size == 0 || s.image_pool_size == 0) {
    return make_error(errc::invalid_config, "domain rotation period, subject pool and image pool must be at least 1");
  }
  for (double share : {s.whitespace_noise_rate, s.html_noise_rate, s.image_only_share}) {
    if (!(share >= 0.0 && share <= 1.0)) {
      return make_error(errc::invalid_config, "noise rates and the image-only share must lie in [0, 1]");
    }
  }

  campaign_mutator m;
  m._raw = std::string(template_raw);
  m._seed = seed;
  m._settings = settings;
  const std::string_view raw = m._raw;

  // The top-level header section and its fields (a field starts on a line that does not begin
  // with whitespace); the mbox "From " line of corpus files is kept as a field like any other.
  const std::size_t lf = raw.find("\n\n");
  const std::size_t crlf = raw.find("\r\n\r\n");
  if (raw.starts_with("\r\n") || raw.starts_with("\n")) {
    m._header_end = 0;
    m._separator = raw.starts_with("\r\n") ? "\r\n" : "\n";
  } else if (lf != std::string_view::npos && (crlf == std::string_view::npos || lf < crlf)) {
    m._header_end = lf + 1;
    m._separator = "\n";
  } else if (crlf != std::string_view::npos) {
    m._header_end = crlf + 2;
    m._separator = "\r\n";
  } else {
    m._header_end = raw.size();
  }
  m._eol = raw.substr(0, m._header_end).find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
  for (std::size_t at = 0; at < m._header_end;) {
    std::size_t end = at;
    do {
      const std::size_t nl = raw.find('\n', end);
      end = nl == std::string_view::npos || nl >= m._header_end ? m._header_end : nl + 1;
    } while (end < m._header_end && (raw[end] == ' ' || raw[end] == '\t'));
    const std::string_view field = raw.substr(at, end - at);
    const std::size_t colon = field.find(':');
    m._fields.push_back({at, end, colon == std::string_view::npos ? std::string() : lowercase(field.substr(0, colon))});
    at = end;
  }

  const mime::message parsed = mime::parse(raw);
  const std::size_t body_start = m._header_end + m._separator.size();
  for (const auto& p : parsed.parts) {
    const bool text = p.content_type == "text/plain" || p.content_type == "text/html";
    if (!text || p.is_attachment || p.encoded_body.empty() || unmutable_charset(p.charset)) {
      continue;
    }
    const std::size_t begin = static_cast<std::size_t>(p.encoded_body.data() - raw.data());
    const std::size_t previous_end = m._text_parts.empty() ? body_start : m._text_parts.back().body_end;
    if (begin < previous_end || begin + p.encoded_body.size() > raw.size()) {
      continue;
    }
    mime::anomaly ignored = mime::anomaly::none;
    m._text_parts.push_back({begin, begin + p.encoded_body.size(), mime::decode_body(p, ignored),
                             static_cast<std::uint8_t>(p.encoding), p.content_type == "text/html"});
  }

  for (const auto& u : parsed.urls) {
    if (std::string d = registrable_domain(u.host); !d.empty()) {
      m._domains.push_back(std::move(d));
    }
  }
  std::sort(m._domains.begin(), m._domains.end());
  m._domains.erase(std::unique(m._domains.begin(), m._domains.end()), m._domains.end());

  // Capped so that a rewritten subject never makes an over-long header line.
  const std::string original_subject = parsed.subject.substr(0, 400);
  prng subject_rng(mix(seed, stream_subjects));
  m._subjects.push_back(original_subject);
  for (std::uint32_t attempts = 0; m._subjects.size() < s.subject_pool_size && attempts < 50 * s.subject_pool_size;
       ++attempts) {
    std::string candidate = rewrite_subject(original_subject, subject_rng);
    if (std::find(m._subjects.begin(), m._subjects.end(), candidate) == m._subjects.end()) {
      m._subjects.push_back(std::move(candidate));
    }
  }

  prng image_rng(mix(seed, stream_images));
  for (std::uint32_t i = 0; i < s.image_pool_size; ++i) {
    m._images.push_back(make_noise_gif(image_rng, 200, 50));
  }
  return m;
}

std::string campaign_mutator::rotated_domain(std::size_t slot, std::uint32_t generation) const {
  prng r(mix(mix(_seed, stream_domains), (static_cast<std::uint64_t>(slot) << 32) | generation));
  std::string label;
  if (r.chance(0.5)) {
    // Two dictionary words, as in many pharmacy and replica campaigns' throwaway domains.
    label = std::string(r.pick(detail::dictionary_words())) + std::string(r.pick(detail::dictionary_words()));
  } else {
    static constexpr std::string_view consonants = "bcdfghjklmnprstvwz";
    static constexpr std::string_view vowels = "aeiou";
    const std::uint64_t syllables = 3 + r.below(3);
    for (std::uint64_t i = 0; i < syllables; ++i) {
      label += consonants[r.below(consonants.size())];
      label += vowels[r.below(vowels.size())];
    }
  }
  if (r.chance(0.3)) {
    label += std::to_string(r.below(100));
  }
  return label + "." + std::string(r.pick(detail::spam_tlds()));
}

std::string campaign_mutator::mutate_text(const text_part& part, const variant& v, std::uint64_t variant_seed,
                                          const std::vector<std::string>& buster_words) const {
  const mutation on = _settings.enabled;
  std::string t = part.decoded;
  if (has(on, mutation::domain_rotation)) {
    for (std::size_t slot = 0; slot < _domains.size(); ++slot) {
      replace_domain(t, _domains[slot], rotated_domain(slot, v.domain_generation));
    }
  }
  const bool whitespace = has(on, mutation::whitespace_noise);
  const bool html_noise = part.html && has(on, mutation::html_noise);
  if (whitespace || html_noise) {
    prng r(mix(variant_seed, part.body_begin));
    t = add_noise(t, part.html, whitespace, html_noise, _settings, _eol, r);
  }
  if (has(on, mutation::personalisation)) {
    const std::string first = v.to.name.substr(0, v.to.name.find(' '));
    if (part.html) {
      insert_after_body_open(t, "<p>Dear " + first + ",</p>" + _eol);
      insert_before_body_close(t, "<p>This message was sent to " + v.to.address + ".</p>" + _eol);
    } else {
      t.insert(0, "Dear " + first + "," + _eol + _eol);
      if (!t.empty() && t.back() != '\n') {
        t += _eol;
      }
      t += _eol + "This message was sent to " + v.to.address + "." + _eol;
    }
  }
  if (!buster_words.empty()) {
    const std::string words = wrap_words(buster_words, _eol);
    if (part.html) {
      insert_before_body_close(t, "<p>" + words + "</p>" + _eol);
    } else {
      if (!t.empty() && t.back() != '\n') {
        t += _eol;
      }
      t += _eol + words + _eol;
    }
  }
  std::string encoded;
  switch (static_cast<mime::transfer_encoding>(part.encoding)) {
    case mime::transfer_encoding::base64:
      encoded = encode_base64(t, _eol);
      break;
    case mime::transfer_encoding::quoted_printable:
      encoded = encode_quoted_printable(t, _eol);
      break;
    default:
      encoded = std::move(t);
      break;
  }
  // The line ending before a boundary delimiter belongs to the delimiter: keep the template's.
  const bool ended_with_newline = _raw[part.body_end - 1] == '\n';
  while (!ended_with_newline && !encoded.empty() && (encoded.back() == '\n' || encoded.back() == '\r')) {
    encoded.pop_back();
  }
  if (ended_with_newline && !encoded.empty() && encoded.back() != '\n') {
    encoded += _eol;
  }
  return encoded;
}

std::string campaign_mutator::header_block(const variant& v, std::string_view subject, bool image_only,
                                           std::uint64_t variant_seed) const {
  const bool rotate_subject = has(_settings.enabled, mutation::subject_rotation);
  const bool personalise = has(_settings.enabled, mutation::personalisation);
  const std::string subject_field = "Subject: " + encode_header_value(subject, _eol) + _eol;
  const std::string to_field = "To: \"" + v.to.name + "\" <" + v.to.address + ">" + _eol;
  const std::string id_field = "Message-ID: <" + hex64(variant_seed) + "@mx.example.com>" + _eol;
  bool wrote_subject = false;
  bool wrote_to = false;
  bool wrote_id = false;
  std::string out;
  out.reserve(_header_end + 256);
  for (const auto& f : _fields) {
    if (f.name == "subject" && rotate_subject) {
      out += wrote_subject ? "" : subject_field;
      wrote_subject = true;
      continue;
    }
    if (f.name == "to" && personalise) {
      out += wrote_to ? "" : to_field;
      wrote_to = true;
      continue;
    }
    if (f.name == "message-id") {
      out += wrote_id ? "" : id_field;
      wrote_id = true;
      continue;
    }
    if (image_only && (f.name == "content-type" || f.name == "content-transfer-encoding" || f.name == "mime-version" ||
                       f.name == "content-disposition")) {
      continue;
    }
    out.append(_raw, f.begin, f.end - f.begin);
  }
  if (!out.empty() && out.back() != '\n') {
    out += _eol;
  }
  out += (rotate_subject && !wrote_subject) ? subject_field : "";
  out += (personalise && !wrote_to) ? to_field : "";
  out += wrote_id ? "" : id_field;
  return out;
}

variant campaign_mutator::make(std::uint64_t index) const {
  const mutation on = _settings.enabled;
  const std::uint64_t variant_seed = mix(mix(_seed, stream_variants), index);
  prng r(variant_seed);
  variant v;

  const std::string first(r.pick(detail::first_names()));
  const std::string last(r.pick(detail::last_names()));
  v.to.name = first + " " + last;
  std::string local;
  switch (r.below(4)) {
    case 0:
      local = first + "." + last;
      break;
    case 1:
      local = first + last;
      break;
    case 2:
      local = first.substr(0, 1) + "." + last;
      break;
    default:
      local = first + "_" + last;
      break;
  }
  if (r.chance(0.3)) {
    local += std::to_string(r.below(100));
  }
  v.to.address = lowercase(local) + "@" + std::string(r.pick(detail::recipient_domains()));

  v.domain_generation = static_cast<std::uint32_t>(index / _settings.domain_rotation_period);
  const bool image_only = has(on, mutation::image_only) && r.chance(_settings.image_only_share);
  if (has(on, mutation::subject_rotation)) {
    v.subject_index = static_cast<std::uint32_t>(r.below(_subjects.size()));
    v.applied |= mutation::subject_rotation;
  }
  if (has(on, mutation::personalisation)) {
    v.applied |= mutation::personalisation;
  }
  std::string out = header_block(v, _subjects[v.subject_index], image_only, variant_seed);

  if (image_only) {
    v.applied |= mutation::image_only;
    v.image_index = static_cast<std::uint32_t>(r.below(_images.size()));
    const std::string boundary = "=_pw_" + hex64(r.next());
    const std::string filename =
        std::string(r.pick(detail::dictionary_words())) + std::to_string(r.below(1000)) + ".gif";
    out += "MIME-Version: 1.0" + _eol;
    out += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"" + _eol;
    out += _eol;
    out += "--" + boundary + _eol;
    out += "Content-Type: image/gif; name=\"" + filename + "\"" + _eol;
    out += "Content-Transfer-Encoding: base64" + _eol;
    out += "Content-Disposition: inline; filename=\"" + filename + "\"" + _eol;
    out += _eol;
    out += encode_base64(_images[v.image_index], _eol);
    out += "--" + boundary + "--" + _eol;
    v.raw = std::move(out);
    return v;
  }

  std::vector<std::string> buster_words;
  if (has(on, mutation::hash_buster) && !_text_parts.empty()) {
    const std::uint64_t span = _settings.hash_buster_max_words - _settings.hash_buster_min_words + 1;
    const std::uint64_t count = _settings.hash_buster_min_words + r.below(span);
    for (std::uint64_t i = 0; i < count; ++i) {
      buster_words.emplace_back(r.pick(detail::dictionary_words()));
    }
    v.applied |= mutation::hash_buster;
  }
  if (!_text_parts.empty()) {
    if (has(on, mutation::domain_rotation) && !_domains.empty()) {
      v.applied |= mutation::domain_rotation;
    }
    if (has(on, mutation::whitespace_noise)) {
      v.applied |= mutation::whitespace_noise;
    }
    if (has(on, mutation::html_noise) &&
        std::any_of(_text_parts.begin(), _text_parts.end(), [](const text_part& p) { return p.html; })) {
      v.applied |= mutation::html_noise;
    }
  }

  out += _separator;
  std::size_t copied = _header_end + _separator.size();
  for (const auto& part : _text_parts) {
    out.append(_raw, copied, part.body_begin - copied);
    out += mutate_text(part, v, variant_seed, buster_words);
    copied = part.body_end;
  }
  out.append(_raw, copied, std::string::npos);
  v.raw = std::move(out);
  return v;
}

}  // namespace pw::sim
