#include "drive/smtp_reply.hpp"

#include <algorithm>
#include <cctype>

namespace pw::drive {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

void smtp_reply_reader::reset() {
  _partial = {};
  _bytes = 0;
}

result<std::optional<smtp_reply>> smtp_reply_reader::take(std::string& buffer) {
  std::size_t at = 0;
  for (;;) {
    const std::size_t end = buffer.find("\r\n", at);
    if (end == std::string::npos) {
      buffer.erase(0, at);
      // + 1: the line in progress may already carry the CR of its CRLF.
      if (_bytes + buffer.size() > max_reply_bytes + 1) {
        return make_error(errc::unavailable, "SMTP server answered out of protocol: reply longer than " +
                                                 std::to_string(max_reply_bytes) + " bytes");
      }
      return std::optional<smtp_reply>();
    }
    const std::string_view line(buffer.data() + at, end - at);
    at = end + 2;
    _bytes += line.size();
    const bool coded = line.size() >= 3 && is_digit(line[0]) && is_digit(line[1]) && is_digit(line[2]) &&
                       (line.size() == 3 || line[3] == ' ' || line[3] == '-');
    if (!coded) {
      return make_error(errc::unavailable, "SMTP server answered out of protocol: a line without a reply code");
    }
    if (_bytes > max_reply_bytes) {
      return make_error(errc::unavailable, "SMTP server answered out of protocol: reply longer than " +
                                               std::to_string(max_reply_bytes) + " bytes");
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (_partial.code != 0 && code != _partial.code) {
      return make_error(errc::unavailable, "SMTP server changed the code inside a multi-line reply");
    }
    if (_partial.code != 0) {
      _partial.text += '\n';
    }
    _partial.code = code;
    if (line.size() > 4) {
      _partial.text.append(line.substr(4));
    }
    if (line.size() == 3 || line[3] == ' ') {
      buffer.erase(0, at);
      smtp_reply done = std::move(_partial);
      reset();
      return std::optional<smtp_reply>(std::move(done));
    }
  }
}

std::vector<std::string> xclient_attributes(std::string_view ehlo_text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= ehlo_text.size()) {
    std::size_t end = ehlo_text.find('\n', start);
    if (end == std::string_view::npos) {
      end = ehlo_text.size();
    }
    const std::string line = upper(ehlo_text.substr(start, end - start));
    if (line.rfind("XCLIENT", 0) == 0 && (line.size() == 7 || line[7] == ' ')) {
      std::size_t pos = 7;
      while (pos < line.size()) {
        const std::size_t word_end = std::min(line.find(' ', pos + 1), line.size());
        if (word_end > pos + 1) {
          names.push_back(line.substr(pos + 1, word_end - pos - 1));
        }
        pos = word_end;
      }
      if (names.empty()) {
        names.emplace_back();  // offered without a list: nothing we can rely on, but offered
      }
    }
    start = end + 1;
  }
  return names;
}

}  // namespace pw::drive
