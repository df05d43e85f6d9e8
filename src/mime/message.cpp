// Parsing runs in two passes over the flattened tree. Pass one walks the MIME structure with an
// explicit stack (never recursion, so hostile nesting cannot exhaust the call stack) and records each
// part in pre-order. Pass two reads the text parts, applying the multipart/alternative policy, which
// needs to know every alternative before choosing one.
#include "mime/message.hpp"

#include <algorithm>
#include <cstring>

#include "charset.hpp"
#include "header_parse.hpp"
#include "html_text.hpp"
#include "transfer.hpp"
#include "url_scan.hpp"

namespace pw::mime {
namespace {

using detail::iequals;

constexpr std::size_t npos = static_cast<std::size_t>(-1);
// RFC 2046 caps boundaries at 70 characters; longer ones are accepted up to here.
constexpr std::size_t max_boundary = 256;
// Only this much of a text part's encoded body is decoded for message::text: enough to fill
// max_text_bytes many times over, and it keeps a 50 MB text part from costing 50 MB of conversions.
constexpr std::size_t text_input_factor = 8;
// Media types and charset names are short tokens; anything longer is not one.
constexpr std::size_t max_type_name = 256;
// binary_garbage looks at the first bytes only.
constexpr std::size_t garbage_sample = 4096;

// Per-part facts that pass two needs but the public part does not carry.
struct part_facts {
  bool text_leaf = false;      // a text/* part that is not an attachment
  bool html = false;
  bool alternative = false;    // multipart/alternative that was split into children
  bool has_html = false;       // this subtree holds an html text leaf
  bool has_text = false;       // this subtree holds any text leaf
};

struct pending_entity {
  std::string_view bytes;
  std::size_t parent;
  std::size_t depth;
  bool in_digest;  // RFC 2046 5.1.5: parts of multipart/digest default to message/rfc822
};

// A parameter value for a public string field: valid UTF-8 (raw 8-bit bytes read as UTF-8 or
// windows-1252) and at most `max` bytes, cut on a character boundary.
std::string as_field_text(std::string value, std::size_t max) {
  if (!detail::is_valid_utf8(value)) {
    std::string converted;
    detail::append_8bit_header_text(value, converted);
    value = std::move(converted);
  }
  if (value.size() > max) {
    std::size_t keep = max;
    while (keep > 0 && (static_cast<unsigned char>(value[keep]) & 0xC0) == 0x80) {
      --keep;
    }
    value.resize(keep);
  }
  return value;
}

transfer_encoding parse_transfer_encoding(const detail::raw_header& h, anomaly& found) {
  std::string storage;
  std::string_view v = detail::trim(detail::unfold(h, storage));
  v = v.substr(0, std::min(v.find_first_of(" \t;("), v.size()));
  if (v.empty() || iequals(v, "7bit")) {
    return transfer_encoding::seven_bit;
  }
  if (iequals(v, "base64")) {
    return transfer_encoding::base64;
  }
  if (iequals(v, "quoted-printable")) {
    return transfer_encoding::quoted_printable;
  }
  if (iequals(v, "8bit")) {
    return transfer_encoding::eight_bit;
  }
  if (iequals(v, "binary")) {
    return transfer_encoding::binary;
  }
  found |= anomaly::unknown_transfer_encoding;
  return transfer_encoding::unknown;
}

// Top-level fields RFC 5322 3.6 allows at most once.
constexpr std::string_view singleton_fields[] = {"from", "sender", "reply-to", "to", "cc", "bcc",
                                                  "subject", "date", "message-id", "in-reply-to",
                                                  "references"};

void check_top_level_headers(const std::vector<header>& headers, anomaly& found) {
  std::uint32_t seen = 0;
  for (const header& h : headers) {
    for (std::size_t k = 0; k < std::size(singleton_fields); ++k) {
      if (iequals(h.name, singleton_fields[k])) {
        const std::uint32_t bit = 1u << k;
        if ((seen & bit) != 0) {
          found |= anomaly::duplicate_singleton_header;
        }
        seen |= bit;
        break;
      }
    }
  }
  if ((seen & (1u << 0)) == 0) {
    found |= anomaly::missing_from;
  }
  if ((seen & (1u << 7)) == 0) {
    found |= anomaly::missing_date;
  }
  if ((seen & (1u << 8)) == 0) {
    found |= anomaly::missing_message_id;
  }
}

// Line-ending census: a lone CR, or bare LFs mixed with CRLFs. Mail stored with LF only has no CR at
// all, which one memchr settles; otherwise the three counts run in blocks of byte-wide counters,
// which the compiler vectorises.
bool has_bare_line_ending(std::string_view s) {
  if (std::memchr(s.data(), '\r', s.size()) == nullptr) {
    return false;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t cr = 0;
  std::size_t lf = 0;
  std::size_t crlf = 0;
  std::size_t i = 0;
  while (i + 1 < n) {
    const std::size_t block_end = std::min(n - 1, i + 255);
    std::uint8_t block_cr = 0;
    std::uint8_t block_lf = 0;
    std::uint8_t block_crlf = 0;
    for (; i < block_end; ++i) {
      block_cr = static_cast<std::uint8_t>(block_cr + (p[i] == '\r'));
      block_lf = static_cast<std::uint8_t>(block_lf + (p[i] == '\n'));
      block_crlf = static_cast<std::uint8_t>(block_crlf + ((p[i] == '\r') & (p[i + 1] == '\n')));
    }
    cr += block_cr;
    lf += block_lf;
    crlf += block_crlf;
  }
  cr += p[n - 1] == '\r';
  lf += p[n - 1] == '\n';
  const std::size_t bare_lf = lf - crlf;
  const std::size_t lone_cr = cr - crlf;
  return lone_cr > 0 || (bare_lf > 0 && crlf > 0);
}

// Does the start of the input look like anything but text? Control bytes count fully, 8-bit bytes a
// quarter (they are normal in 8-bit text, but random data is half of them).
bool looks_binary(std::string_view s) {
  const std::string_view sample = s.substr(0, garbage_sample);
  if (sample.empty()) {
    return false;
  }
  std::size_t score = 0;
  for (const char c : sample) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t' && u != '\n' && u != '\r' && u != '\f' && u != 0x1B) || u == 0x7F) {
      score += 4;
    } else if (u >= 0x80) {
      score += 1;
    }
  }
  return score * 10 >= sample.size() * 4;  // score/4 >= 10% of the sample
}

struct multipart_split {
  std::vector<std::string_view> children;
  bool found_delimiter = false;
  bool closed = false;
  bool too_many = false;
};

// Finds the delimiter lines of `boundary` in `body` (line-anchored; "--boundary" followed by
// optional "--" and transport whitespace). Preamble and epilogue are dropped; the line end before a
// delimiter belongs to the delimiter.
multipart_split split_multipart(std::string_view body, std::string_view boundary, std::size_t max_children) {
  multipart_split split;
  std::string needle = "\n--";
  needle.append(boundary);
  const std::string_view delimiter = std::string_view(needle).substr(1);
  std::size_t child_start = npos;  // where the current child began, once a delimiter was seen
  std::size_t search = 0;
  while (search <= body.size()) {
    std::size_t at;  // offset of "--boundary"
    if (search == 0 && body.starts_with(delimiter)) {
      at = 0;
    } else {
      const void* hit = memmem(body.data() + search, body.size() - search, needle.data(), needle.size());
      if (hit == nullptr) {
        break;
      }
      at = static_cast<std::size_t>(static_cast<const char*>(hit) - body.data()) + 1;
    }
    std::size_t after = at + delimiter.size();
    const bool close = body.substr(after, 2) == "--";
    if (close) {
      after += 2;
    }
    std::size_t eol = after;
    while (eol < body.size() && (body[eol] == ' ' || body[eol] == '\t' || body[eol] == '\r')) {
      ++eol;
    }
    if (eol < body.size() && body[eol] != '\n') {
      search = at + 1;  // "--boundaryX": a longer boundary (a nested part's), not ours
      continue;
    }
    split.found_delimiter = true;
    if (child_start != npos) {
      std::size_t end = at == 0 ? 0 : at - 1;  // the '\n' before the delimiter
      if (end > child_start && body[end - 1] == '\r') {
        --end;
      }
      if (split.children.size() >= max_children) {
        split.too_many = true;
        return split;
      }
      split.children.push_back(body.substr(child_start, end >= child_start ? end - child_start : 0));
    }
    if (close) {
      split.closed = true;
      return split;
    }
    child_start = std::min(eol + 1, body.size());
    search = eol < body.size() ? eol : body.size();  // the delimiter's '\n' may start the next one
  }
  if (child_start != npos) {
    if (split.children.size() >= max_children) {
      split.too_many = true;
    } else {
      split.children.push_back(body.substr(child_start));
    }
  }
  return split;
}

class parser {
 public:
  // `out` is filled in place: its previous contents are replaced, but the capacity of its strings and
  // vectors (and of its parts' and headers' strings) is reused.
  parser(std::string_view raw, const limits& lim, message& out)
      : _raw(raw), _lim(lim), _msg(out), _urls(lim.max_urls, std::move(out.urls)) {
    _msg.subject.clear();
    _msg.text.clear();
    _msg.html_parts = 0;
    _msg.anomalies = anomaly::none;
  }

  void run() {
    if (_raw.size() > _lim.max_message_bytes) {
      _raw = _raw.substr(0, _lim.max_message_bytes);
      _msg.anomalies |= anomaly::truncated_by_limit;
    }
    if (std::memchr(_raw.data(), '\0', _raw.size()) != nullptr) {
      _msg.anomalies |= anomaly::nul_byte;
    }
    if (has_bare_line_ending(_raw)) {
      _msg.anomalies |= anomaly::bare_line_ending;
    }
    std::string_view root = _raw;
    if (root.starts_with("From ")) {
      // An mbox envelope line, as in stored mail; not part of the message.
      const std::size_t nl = root.find('\n');
      root = nl == std::string_view::npos ? root.substr(root.size()) : root.substr(nl + 1);
    }
    build_tree(root);
    read_text();
    for (const std::string& link : _links) {
      _urls.add_link(link);
    }
    _urls.scan_text(_msg.text);
    _msg.urls = _urls.take();
  }

 private:
  void build_tree(std::string_view root) {
    std::vector<pending_entity> stack;
    stack.push_back({root, npos, 0, false});
    while (!stack.empty()) {
      const pending_entity e = stack.back();
      stack.pop_back();
      if (_part_count != 0 && _part_count >= _lim.max_parts) {
        _msg.anomalies |= anomaly::too_many_parts;
        break;
      }
      add_part(e, stack);
    }
    _msg.parts.resize(_part_count);  // drops the parts a previous message left beyond this one's
  }

  // The next part: a reused one (fields reset, buffers kept) while the message has them, else new.
  part& next_part() {
    const std::size_t index = _part_count++;
    if (index == _msg.parts.size()) {
      return _msg.parts.emplace_back();
    }
    part& p = _msg.parts[index];
    p.content_type.clear();
    p.charset.clear();
    p.filename.clear();
    p.encoding = transfer_encoding::seven_bit;
    p.is_attachment = false;
    p.encoded_body = {};
    return p;
  }

  void add_part(const pending_entity& e, std::vector<pending_entity>& stack) {
    anomaly& found = _msg.anomalies;
    const std::size_t index = _part_count;
    part& p = next_part();
    _facts.emplace_back();
    p.parent = e.parent;
    p.depth = e.depth;
    detail::header_section& section = _section;
    detail::split_header_section(e.bytes, _lim, found, section);
    // Element-wise, so a reused part's header values keep their buffers.
    p.headers.resize(section.headers.size());
    const detail::raw_header* content_type = nullptr;
    const detail::raw_header* disposition = nullptr;
    for (std::size_t i = 0; i < section.headers.size(); ++i) {
      const detail::raw_header& h = section.headers[i];
      p.headers[i].name = h.name;
      detail::decode_header_value(h, _lim, found, p.headers[i].value);
      if (content_type == nullptr && iequals(h.name, "content-type")) {
        content_type = &h;
      } else if (disposition == nullptr && iequals(h.name, "content-disposition")) {
        disposition = &h;
      } else if (iequals(h.name, "content-transfer-encoding")) {
        p.encoding = parse_transfer_encoding(h, found);
      }
    }
    if (index == 0) {
      _msg.headers = p.headers;
      check_top_level_headers(_msg.headers, found);
      if (const header* subject = _msg.find("subject")) {
        _msg.subject = subject->value;
      }
      if (!section.starts_with_header && looks_binary(e.bytes)) {
        found |= anomaly::binary_garbage;
      }
    }

    detail::structured_value type;
    if (content_type != nullptr) {
      type = detail::parse_structured_value(*content_type, found);
    }
    if (type.token.find('/') == std::string::npos || type.token.size() > max_type_name ||
        !detail::is_ascii(type.token)) {
      // RFC 2045 5.2: an absent or unusable Content-Type means text/plain.
      type.token = e.in_digest && content_type == nullptr ? "message/rfc822" : "text/plain";
    }
    p.content_type = type.token;
    if (const std::string* charset = type.find("charset")) {
      p.charset = as_field_text(detail::ascii_lower(detail::trim(*charset)), max_type_name);
    }
    detail::structured_value disp;
    if (disposition != nullptr) {
      disp = detail::parse_structured_value(*disposition, found);
    }
    const std::string* filename = disp.find("filename");
    if (filename == nullptr) {
      filename = type.find("name");
    }
    if (filename != nullptr) {
      // Quoted encoded-words in file names break RFC 2047 5 but are what most mailers send.
      const bool plain = filename->find("=?") == std::string::npos;
      p.filename = as_field_text(plain ? *filename : detail::decode_encoded_words(*filename, found),
                                 _lim.max_header_value_bytes);
    }

    const std::string_view body = section.body;
    const bool is_multipart = p.content_type.starts_with("multipart/");
    const bool is_message = p.content_type == "message/rfc822" || p.content_type == "message/global";
    if (is_multipart || is_message) {
      if (e.depth >= _lim.max_depth) {
        found |= anomaly::nesting_too_deep;
        p.encoded_body = body;
        return;
      }
    }
    if (is_multipart) {
      const std::string* boundary = type.find("boundary");
      if (boundary == nullptr || boundary->empty() || boundary->size() > max_boundary) {
        found |= anomaly::missing_boundary;
        read_unsplit_multipart(p, index, body);
        return;
      }
      const std::size_t budget = _lim.max_parts > _part_count ? _lim.max_parts - _part_count : 0;
      multipart_split split = split_multipart(body, *boundary, budget);
      if (!split.found_delimiter) {
        found |= anomaly::boundary_not_found;
        read_unsplit_multipart(p, index, body);
        return;
      }
      if (!split.closed && !split.too_many) {
        found |= anomaly::unterminated_multipart;
      }
      if (split.too_many) {
        found |= anomaly::too_many_parts;
      }
      _facts[index].alternative = p.content_type == "multipart/alternative";
      const bool digest = p.content_type == "multipart/digest";
      for (auto it = split.children.rbegin(); it != split.children.rend(); ++it) {
        stack.push_back({*it, index, e.depth + 1, digest});
      }
      return;
    }
    if (is_message && (p.encoding == transfer_encoding::seven_bit || p.encoding == transfer_encoding::eight_bit ||
                       p.encoding == transfer_encoding::binary)) {
      stack.push_back({body, index, e.depth + 1, false});
      return;
    }
    p.encoded_body = body;
    const bool is_text = p.content_type.starts_with("text/");
    if (disp.token == "attachment" || (!is_text && !p.filename.empty())) {
      p.is_attachment = true;
    }
    if (is_text && disp.token != "attachment") {
      _facts[index].text_leaf = true;
      _facts[index].html = p.content_type == "text/html";
    }
  }

  // A multipart whose children cannot be found: its body is still what the recipient sees, so it is
  // read as one plain text part.
  void read_unsplit_multipart(part& p, std::size_t index, std::string_view body) {
    p.encoded_body = body;
    _facts[index].text_leaf = true;
  }

  // Pass two. multipart/alternative policy: keep only the alternative a mail client would show —
  // the last child holding HTML, else the last child holding text — so the same words are not
  // counted twice. html_only is set when HTML is the only text anywhere in the message.
  void read_text() {
    const std::size_t n = _msg.parts.size();
    for (std::size_t i = 0; i < n; ++i) {
      _facts[i].has_html = _facts[i].text_leaf && _facts[i].html;
      _facts[i].has_text = _facts[i].text_leaf;
    }
    for (std::size_t i = n; i-- > 1;) {
      const std::size_t parent = _msg.parts[i].parent;
      _facts[parent].has_html |= _facts[i].has_html;
      _facts[parent].has_text |= _facts[i].has_text;
    }
    std::vector<std::size_t> html_choice(n, npos);
    std::vector<std::size_t> text_choice(n, npos);
    bool any_plain = false;
    bool any_html = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (_facts[i].text_leaf) {
        (_facts[i].html ? any_html : any_plain) = true;
      }
      const std::size_t parent = _msg.parts[i].parent;
      if (parent != npos && _facts[parent].alternative) {
        if (_facts[i].has_html) {
          html_choice[parent] = i;
        }
        if (_facts[i].has_text) {
          text_choice[parent] = i;
        }
      }
    }
    if (any_html && !any_plain) {
      _msg.anomalies |= anomaly::html_only;
    }
    for (std::size_t i = 0; i < n && !_text_full; ++i) {
      if (!_facts[i].text_leaf || !chosen(i, html_choice, text_choice)) {
        continue;
      }
      append_part_text(i);
    }
  }

  bool chosen(std::size_t i, const std::vector<std::size_t>& html_choice,
              const std::vector<std::size_t>& text_choice) const {
    for (std::size_t x = i; _msg.parts[x].parent != npos; x = _msg.parts[x].parent) {
      const std::size_t parent = _msg.parts[x].parent;
      if (_facts[parent].alternative) {
        const std::size_t pick = html_choice[parent] != npos ? html_choice[parent] : text_choice[parent];
        if (pick != x) {
          return false;
        }
      }
    }
    return true;
  }

  void append_part_text(std::size_t index) {
    part& p = _msg.parts[index];
    std::string_view body = p.encoded_body;
    const std::size_t input_cap = std::max<std::size_t>(_lim.max_text_bytes * text_input_factor, 4096);
    bool cut = false;
    if (body.size() > input_cap) {
      // Cut at a line end so no encoded quantum or escape is split.
      const std::size_t nl = body.rfind('\n', input_cap);
      body = body.substr(0, nl == std::string_view::npos ? input_cap : nl + 1);
      cut = true;
    }
    std::string_view decoded = body;
    if (p.encoding == transfer_encoding::base64 || p.encoding == transfer_encoding::quoted_printable) {
      _scratch.clear();
      if (p.encoding == transfer_encoding::base64) {
        detail::append_base64_decoded(body, _scratch, _msg.anomalies);
      } else {
        detail::append_qp_decoded(body, _scratch, _msg.anomalies);
      }
      decoded = _scratch;
    }
    std::string& text = _msg.text;
    if (!text.empty() && text.back() != '\n') {
      text.push_back('\n');
    }
    const std::size_t start = text.size();
    if (_facts[index].html) {
      _utf8.clear();
      detail::append_as_utf8(decoded, p.charset, _utf8, _msg.anomalies);
      detail::append_html_text(_utf8, text, _links, _lim.max_urls);
      ++_msg.html_parts;
    } else {
      detail::append_as_utf8(decoded, p.charset, text, _msg.anomalies);
      // Line ends become '\n' only: detectors should not see transport artefacts.
      const auto kept = std::remove(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(), '\r');
      text.erase(kept, text.end());
    }
    if (cut) {
      _msg.anomalies |= anomaly::text_truncated;
    }
    if (text.size() > _lim.max_text_bytes) {
      std::size_t keep = _lim.max_text_bytes;
      while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) {
        --keep;
      }
      text.resize(keep);
      _msg.anomalies |= anomaly::text_truncated;
      _text_full = true;
    }
  }

  std::string_view _raw;
  const limits& _lim;
  message& _msg;
  std::size_t _part_count = 0;  // parts of this message so far; _msg.parts may still hold older ones
  detail::header_section _section;  // the current part's raw headers (scratch)
  std::vector<part_facts> _facts;  // parallel to _msg.parts
  std::vector<std::string> _links;
  detail::url_collector _urls;
  std::string _scratch;  // transfer-decoded bytes of the current part
  std::string _utf8;     // the current HTML part in UTF-8
  bool _text_full = false;
};

}  // namespace

std::string_view anomaly_name(anomaly flag) {
  switch (flag) {
    case anomaly::none: return "none";
    case anomaly::truncated_by_limit: return "truncated_by_limit";
    case anomaly::no_header_body_separator: return "no_header_body_separator";
    case anomaly::header_line_too_long: return "header_line_too_long";
    case anomaly::too_many_headers: return "too_many_headers";
    case anomaly::header_section_too_large: return "header_section_too_large";
    case anomaly::malformed_header_line: return "malformed_header_line";
    case anomaly::eight_bit_header: return "eight_bit_header";
    case anomaly::bad_encoded_word: return "bad_encoded_word";
    case anomaly::nul_byte: return "nul_byte";
    case anomaly::bare_line_ending: return "bare_line_ending";
    case anomaly::missing_boundary: return "missing_boundary";
    case anomaly::boundary_not_found: return "boundary_not_found";
    case anomaly::unterminated_multipart: return "unterminated_multipart";
    case anomaly::nesting_too_deep: return "nesting_too_deep";
    case anomaly::too_many_parts: return "too_many_parts";
    case anomaly::invalid_base64: return "invalid_base64";
    case anomaly::invalid_quoted_printable: return "invalid_quoted_printable";
    case anomaly::unknown_charset: return "unknown_charset";
    case anomaly::invalid_charset_bytes: return "invalid_charset_bytes";
    case anomaly::unknown_transfer_encoding: return "unknown_transfer_encoding";
    case anomaly::html_only: return "html_only";
    case anomaly::missing_from: return "missing_from";
    case anomaly::missing_date: return "missing_date";
    case anomaly::missing_message_id: return "missing_message_id";
    case anomaly::duplicate_singleton_header: return "duplicate_singleton_header";
    case anomaly::text_truncated: return "text_truncated";
    case anomaly::binary_garbage: return "binary_garbage";
  }
  return "unknown";
}

const header* message::find(std::string_view name) const {
  for (const header& h : headers) {
    if (iequals(h.name, name)) {
      return &h;
    }
  }
  return nullptr;
}

void parse_into(message& out, std::string_view raw, const limits& lim) { parser(raw, lim, out).run(); }

message parse(std::string_view raw, const limits& lim) {
  message m;
  parse_into(m, raw, lim);
  return m;
}

std::string decode_body(const part& p, anomaly& found) {
  std::string out;
  switch (p.encoding) {
    case transfer_encoding::base64:
      detail::append_base64_decoded(p.encoded_body, out, found);
      break;
    case transfer_encoding::quoted_printable:
      detail::append_qp_decoded(p.encoded_body, out, found);
      break;
    default:
      out.assign(p.encoded_body);
      break;
  }
  return out;
}

}  // namespace pw::mime
