#include "metrics/scores.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <istream>
#include <numeric>
#include <optional>
#include <ostream>
#include <string_view>
#include <system_error>

namespace pw::metrics {
namespace {

constexpr std::string_view spam_label = "spam";
constexpr std::string_view ham_label = "ham";

// Long enough to recognise a bad field, short enough that a corrupt file cannot flood a message.
constexpr std::size_t max_quoted_field = 40;

std::string quote_field(std::string_view field) {
  std::string out = "'";
  out.append(field.substr(0, max_quoted_field));
  if (field.size() > max_quoted_field) {
    out.append("...");
  }
  out.append("'");
  return out;
}

error line_error(std::size_t line, const std::string& what) {
  return make_error(errc::invalid_input, "line " + std::to_string(line) + ": " + what);
}

// Exactly the syntax std::to_chars writes (plus any other std::from_chars decimal), and finite.
std::optional<double> parse_score(std::string_view field) {
  double value = 0.0;
  const char* first = field.data();
  const char* last = field.data() + field.size();
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc{} || end != last || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// The earliest record whose id repeats an earlier one, with that earlier one. Sorting indices keeps
// the check O(n log n) without copying ids (string_views into a growing vector would dangle).
struct duplicate {
  std::size_t first;
  std::size_t second;
};

std::optional<duplicate> find_duplicate_id(const std::vector<scored>& records) {
  std::vector<std::size_t> index(records.size());
  std::iota(index.begin(), index.end(), std::size_t{0});
  std::stable_sort(index.begin(), index.end(),
                   [&](std::size_t a, std::size_t b) { return records[a].id < records[b].id; });
  std::optional<duplicate> earliest;
  for (std::size_t i = 1; i < index.size(); ++i) {
    if (records[index[i]].id != records[index[i - 1]].id) {
      continue;
    }
    // Stable sort keeps equal ids in input order, so index[i - 1] precedes index[i].
    if (!earliest || index[i] < earliest->second) {
      earliest = duplicate{index[i - 1], index[i]};
    }
  }
  return earliest;
}

// Everything the reader would reject, so a written file always reads back.
result<void> check_writable(const std::vector<scored>& records) {
  for (std::size_t i = 0; i < records.size(); ++i) {
    const scored& r = records[i];
    const std::string where = "record " + std::to_string(i + 1) + ": ";
    if (r.id.empty()) {
      return make_error(errc::invalid_input, where + "empty id");
    }
    if (r.id.find_first_of("\t\r\n") != std::string::npos) {
      return make_error(errc::invalid_input, where + "id contains a tab or line break");
    }
    if (!std::isfinite(r.score)) {
      return make_error(errc::invalid_input, where + "score is not finite");
    }
  }
  if (const auto dup = find_duplicate_id(records)) {
    return make_error(errc::invalid_input, "record " + std::to_string(dup->second + 1) +
                                               ": id repeats record " + std::to_string(dup->first + 1));
  }
  return {};
}

result<void> write_checked(std::ostream& out, const std::vector<scored>& records) {
  // Shortest decimal that reads back to the same double: exact round trip, no locale.
  char number[64];
  for (const scored& r : records) {
    const char* end = std::to_chars(number, number + sizeof number, r.score).ptr;
    out << r.id << '\t' << (r.is_spam ? spam_label : ham_label) << '\t'
        << std::string_view(number, static_cast<std::size_t>(end - number)) << '\n';
  }
  out.flush();
  if (!out) {
    return make_error(errc::io, "write failed");
  }
  return {};
}

}  // namespace

result<std::vector<scored>> read_scores_tsv(std::istream& in) {
  std::vector<scored> records;
  std::vector<std::size_t> line_of;  // line number of each record, for the duplicate message
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view rest = line;
    if (!rest.empty() && rest.back() == '\r') {
      rest.remove_suffix(1);
    }
    if (rest.empty()) {
      continue;
    }
    const std::size_t tab1 = rest.find('\t');
    const std::size_t tab2 = tab1 == std::string_view::npos ? tab1 : rest.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos || rest.find('\t', tab2 + 1) != std::string_view::npos) {
      const auto fields = 1 + std::count(rest.begin(), rest.end(), '\t');
      return line_error(line_no, "expected 3 tab-separated fields (path, spam|ham, score), found " +
                                     std::to_string(fields));
    }
    const std::string_view path = rest.substr(0, tab1);
    const std::string_view label = rest.substr(tab1 + 1, tab2 - tab1 - 1);
    const std::string_view score_field = rest.substr(tab2 + 1);
    if (path.empty()) {
      return line_error(line_no, "empty path");
    }
    // A line ends at '\n' and loses one trailing '\r'; a '\r' left inside is a stray, and the writer
    // could not reproduce it (found by fuzz/scores_fuzz).
    if (path.find('\r') != std::string_view::npos) {
      return line_error(line_no, "path contains a carriage return");
    }
    if (label != spam_label && label != ham_label) {
      return line_error(line_no, "label " + quote_field(label) + " is neither 'spam' nor 'ham'");
    }
    const std::optional<double> score = parse_score(score_field);
    if (!score) {
      return line_error(line_no, "score " + quote_field(score_field) + " is not a finite decimal number");
    }
    records.push_back(scored{std::string(path), label == spam_label, *score});
    line_of.push_back(line_no);
  }
  if (in.bad()) {
    return make_error(errc::io, "read failed after line " + std::to_string(line_no));
  }
  if (const auto dup = find_duplicate_id(records)) {
    return line_error(line_of[dup->second],
                      "path listed twice (first on line " + std::to_string(line_of[dup->first]) + ")");
  }
  return records;
}

result<std::vector<scored>> read_scores_tsv(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in.is_open()) {
    return make_error(errc::io, "cannot open scores file " + file.string() + ": " + std::strerror(errno));
  }
  auto records = read_scores_tsv(in);
  if (!records) {
    return make_error(records.error().code, file.string() + ": " + records.error().message);
  }
  return records;
}

result<void> write_scores_tsv(std::ostream& out, const std::vector<scored>& records) {
  if (auto checked = check_writable(records); !checked) {
    return checked;
  }
  return write_checked(out, records);
}

result<void> write_scores_tsv(const std::filesystem::path& file, const std::vector<scored>& records) {
  // Checked before opening, so a bad record does not truncate an existing file.
  if (auto checked = check_writable(records); !checked) {
    return make_error(checked.error().code, file.string() + ": " + checked.error().message);
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out.is_open()) {
    return make_error(errc::io, "cannot create scores file " + file.string() + ": " + std::strerror(errno));
  }
  if (auto written = write_checked(out, records); !written) {
    return make_error(written.error().code, file.string() + ": " + written.error().message);
  }
  out.close();
  if (!out) {
    return make_error(errc::io, "cannot finish writing scores file " + file.string());
  }
  return {};
}

}  // namespace pw::metrics
