// Private to pw_fingerprint: the word stream of the normalised text, shared by `normalise` (which
// joins it, for tests) and `compute` (which hashes it without building the string).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <libpsl.h>

namespace pw::fingerprint::detail {

// Calls emit(word) for each normalised word of `text`, until `max_bytes` of words were emitted.
// `personal` holds case-folded personalisation tokens (whole addresses and single words); `psl` may
// not be null. `word` views a scratch buffer valid during the call only.
class word_stream {
 public:
  word_stream(const psl_ctx_t* psl, const std::vector<std::string>& personal, std::size_t max_greeting_words)
      : _psl(psl), _personal(personal), _max_greeting_words(max_greeting_words) {}

  template <class Emit>
  void run(std::string_view text, std::size_t max_bytes, Emit&& emit) {
    _sink = [&emit](std::string_view w) { emit(w); };
    walk(text, max_bytes);
  }

  // Registrable domain of a lowercase host, or the host itself (address literal, unknown suffix).
  static std::string_view registrable(const psl_ctx_t* psl, std::string_view host, std::string& scratch);

 private:
  void walk(std::string_view text, std::size_t max_bytes);
  void chunk(std::string_view c);
  void words_of(std::string_view c);
  void word(std::string_view w);
  void special(std::string_view w);  // a domain or address word: no greeting/personal-word logic
  bool personal(std::string_view w) const;

  const psl_ctx_t* _psl;
  const std::vector<std::string>& _personal;
  std::size_t _max_greeting_words;
  std::function<void(std::string_view)> _sink;
  std::size_t _emitted = 0;
  std::size_t _budget = 0;
  std::size_t _greeting_left = 0;
  std::string _word;     // scratch: the word being folded
  std::string _host;     // scratch: a host being reduced
};

// ASCII and Unicode case folding of one UTF-8 string into `out` (appends); invalid bytes copied.
void fold_into(std::string_view s, std::string& out);

}  // namespace pw::fingerprint::detail
