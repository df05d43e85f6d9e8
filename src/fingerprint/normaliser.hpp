// Private to pw_fingerprint: the word stream of the normalised text, shared by `normalise` (which
// joins it, for tests) and `compute` (which hashes it without building the string).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <libpsl.h>

namespace pw::fingerprint::detail {

// Calls emit(word) for each normalised word of `text`, until `max_bytes` of words were emitted;
// returns the number of words emitted. `personal` holds case-folded personalisation tokens (whole
// addresses and single words); `psl` may not be null. `word` views a scratch buffer valid during the
// call only.
//
// With `skip_quoted`, lines whose first non-blank character is '>' or that start "XY>" (quoted
// replies, Supercite) or "# " are skipped; so is everything after an attribution line ("... wrote:")
// that is not followed by a quoted line (an unmarked quote, as HTML blockquotes become); and a
// signature block — the lines after a "-- " delimiter line (RFC 3676 4.3), or after a line that
// starts with a rule of ten or more '_', '-' or '=' (mailing-list footers; with a label, the line
// above list sponsors' ads) — is skipped when at most `max_signature_lines` non-blank lines follow it
// (a longer "signature" is content hidden behind a delimiter, and is kept); and so is everything
// after an "-----Original Message-----" line (top-posted replies quote below it) unless, past its
// header lines, the original follows quoted: then the reply written below the quote counts.
class word_stream {
 public:
  static constexpr std::size_t max_signature_lines = 10;

  word_stream(const psl_ctx_t* psl, const std::vector<std::string>& personal, std::size_t max_greeting_words)
      : _psl(psl), _personal(personal), _max_greeting_words(max_greeting_words) {}

  template <class Emit>
  std::size_t run(std::string_view text, std::size_t max_bytes, bool skip_quoted, Emit&& emit) {
    // A plain function pointer and context instead of std::function: one indirect call per word,
    // no allocation per run.
    _sink = [](void* ctx, std::string_view w) { (*static_cast<std::remove_reference_t<Emit>*>(ctx))(w); };
    _ctx = &emit;
    return walk(text, max_bytes, skip_quoted);
  }

  // Registrable domain of a lowercase host, or the host itself (address literal, unknown suffix).
  static std::string_view registrable(const psl_ctx_t* psl, std::string_view host, std::string& scratch);

 private:
  std::size_t walk(std::string_view text, std::size_t max_bytes, bool skip_quoted);
  void chunk(std::string_view c);
  void words_of(std::string_view c);
  void word(std::string_view w);
  void special(std::string_view w);  // a domain or address word: no greeting/personal-word logic
  bool personal(std::string_view w) const;

  const psl_ctx_t* _psl;
  const std::vector<std::string>& _personal;
  std::size_t _max_greeting_words;
  void (*_sink)(void*, std::string_view) = nullptr;
  void* _ctx = nullptr;
  std::size_t _words = 0;
  std::size_t _emitted = 0;
  std::size_t _budget = 0;
  std::size_t _greeting_left = 0;
  std::string _word;     // scratch: the word being folded
  std::string _host;     // scratch: a host being reduced
};

// ASCII and Unicode case folding of one UTF-8 string into `out` (appends); invalid bytes copied.
void fold_into(std::string_view s, std::string& out);

}  // namespace pw::fingerprint::detail
