// metrics/scores.hpp — scored messages and the scores file that carries them between tools.
//
// Purpose: `portwarden eval` and the peer benchmark both reduce a run to one record per message: its
// path, its gold label and the filter's spamminess score. The scores file is that list as text, one
// record a line, `path<TAB>spam|ham<TAB>score`, so runs of different filters can be compared later.
//
// Guarantees: `write_scores_tsv` output read back by `read_scores_tsv` gives the same records, scores
// bit for bit (shortest round-trip decimal form, locale-independent). The reader accepts only what the
// writer can produce, plus CRLF line ends and blank lines, and rejects everything else with the line
// number: wrong field count, a label other than `spam`/`ham`, a score that is not a finite decimal
// number (`std::from_chars` syntax: no leading `+` or spaces), an empty path, a path listed twice.
//
// Ownership: records are returned by value; nothing is retained.
// Thread-safety: the functions share no state; streams are the caller's to serialise.
// Untrusted input: the reader takes files produced by other tools (peer filters' runs). It never
// trusts them beyond the checks above; memory grows with the file, which the caller chose.
// Failure modes: `errc::invalid_input` for a malformed line (message names the line), `errc::io` when
// a stream fails or a file cannot be opened or written. Paths are not message content and may appear
// in messages.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace pw::metrics {

// One message as judged by a filter. Higher score means spammier; only the order of scores matters.
struct scored {
  std::string id;  // the message's path; unique within a run
  bool is_spam;    // the gold standard label
  double score;    // finite
};

[[nodiscard]] result<std::vector<scored>> read_scores_tsv(std::istream& in);
[[nodiscard]] result<std::vector<scored>> read_scores_tsv(const std::filesystem::path& file);

// Checks every record before writing any, and fails without writing on one the reader would reject:
// an empty id, an id holding a tab, CR or LF, a duplicate id, or a non-finite score.
[[nodiscard]] result<void> write_scores_tsv(std::ostream& out, const std::vector<scored>& records);
[[nodiscard]] result<void> write_scores_tsv(const std::filesystem::path& file,
                                            const std::vector<scored>& records);

}  // namespace pw::metrics
