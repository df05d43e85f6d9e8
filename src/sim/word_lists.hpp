// sim/word_lists.hpp — private: the fixed word lists the generator draws from.
//
// Compiled in (not read from /usr/share/dict) so that variants are byte-identical on every machine.
#pragma once

#include <span>
#include <string_view>

namespace pw::sim::detail {

std::span<const std::string_view> dictionary_words();  // common English words, for hash-busters
std::span<const std::string_view> first_names();
std::span<const std::string_view> last_names();
std::span<const std::string_view> recipient_domains();  // RFC 2606 example domains
std::span<const std::string_view> spam_tlds();          // TLDs of generated link domains
std::span<const std::string_view> empty_tags();         // inline tags for HTML noise

}  // namespace pw::sim::detail
