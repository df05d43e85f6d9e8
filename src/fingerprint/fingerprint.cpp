#define XXH_INLINE_ALL  // the per-word and per-shingle hashes are on the hot path: inline XXH3
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "fingerprint/fingerprint.hpp"
#include "normaliser.hpp"

namespace pw::fingerprint {
namespace {

constexpr std::size_t secret_bytes = 192;
using secret = std::array<std::byte, secret_bytes>;

void derive(secret& out, std::string_view key, std::string_view label) {
  std::string seed;
  seed.reserve(label.size() + 1 + key.size());
  seed.append(label).push_back('\0');
  seed.append(key);
  XXH3_generateSecret(out.data(), out.size(), seed.data(), seed.size());
}

std::uint64_t keyed(const secret& s, const void* data, std::size_t n) noexcept {
  return XXH3_64bits_withSecret(data, n, s.data(), s.size());
}

// SplitMix64's finaliser: the densification probe sequence (no need for a keyed hash there: the
// seed is keyed, and the bins it copies are).
std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Fewer own words than this (after dropping quotes and signature): the whole text is used; fewer
// words than this besides one block of word salad: only they count (see compute).
constexpr std::size_t min_own_words = 8;

// Function words that anchor spot shingles: the most frequent ones of English, German, French and
// Spanish (case-folded). Chosen by frequency in running text, never content words.
constexpr std::string_view anchor_words[] = {
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is",
    "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "you", "your", "we", "our",
    "us", "i", "my", "me", "he", "she", "they", "their", "his", "her", "not", "no", "will", "can", "have",
    "has", "had", "do", "does", "if", "but", "so", "there", "which", "who", "what", "all", "any", "more",
    "than",
    "der", "die", "das", "und", "ist", "nicht", "zu", "den", "dem", "des", "ein", "eine", "mit", "von",
    "für", "auf", "sie", "ich", "wir", "es", "im",
    "le", "la", "les", "et", "est", "un", "une", "du", "pour", "pas", "que", "qui", "dans", "sur", "vous",
    "nous", "il", "en", "au",
    "el", "los", "las", "y", "por", "con", "para", "se", "del", "al", "lo", "su"};

bool is_leaf_non_text(const mime::part& p) {
  return !p.content_type.starts_with("multipart/") && !p.content_type.starts_with("text/") &&
         p.content_type != "message/rfc822";
}

// Subject shape: each word becomes its class (letters, digits, mixed, other) and length class, so
// "Re: Invoice 1234 due" and "Re: Payment 5678 now" share a shape while the words stay unknown.
std::string subject_shape_text(std::string_view subject) {
  std::string shape;
  std::size_t i = 0;
  while (i < subject.size() && shape.size() < 128) {
    while (i < subject.size() && subject[i] == ' ') {
      ++i;
    }
    const std::size_t start = i;
    bool alpha = false;
    bool digit = false;
    bool other = false;
    while (i < subject.size() && subject[i] != ' ') {
      const auto c = static_cast<unsigned char>(subject[i]);
      if (c >= '0' && c <= '9') {
        digit = true;
      } else if (c >= 0x80 || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
        alpha = true;
      } else {
        other = true;
      }
      ++i;
    }
    const std::size_t len = i - start;
    if (len == 0) {
      break;
    }
    shape.push_back(alpha && digit ? 'x' : alpha ? 'a' : digit ? '0' : 'p');
    if (other && (alpha || digit)) {
      shape.push_back('p');
    }
    shape.push_back(len <= 3 ? '1' : len <= 7 ? '2' : '3');
  }
  return shape;
}

}  // namespace

result<void> validate(const options& o) {
  auto bad = [](std::string what) { return make_error(errc::invalid_config, std::move(what)); };
  if (o.shingle_words < 1 || o.shingle_words > 8) {
    return bad("fingerprint shingle_words must be 1..8");
  }
  if (o.bins < 8 || o.bins > max_bins || !std::has_single_bit(o.bins)) {
    return bad("fingerprint bins must be a power of two in 8..64");
  }
  if (o.max_text_bytes < 64) {
    return bad("fingerprint max_text_bytes must be at least 64");
  }
  if (o.max_attachment_bytes < o.min_attachment_bytes || o.max_attachment_bytes == 0) {
    return bad("fingerprint max_attachment_bytes must be at least min_attachment_bytes and positive");
  }
  if (o.salad_run_words != 0 && o.salad_run_words < 4) {
    return bad("fingerprint salad_run_words must be 0 (off) or at least 4");
  }
  if (o.max_greeting_words > 8) {
    return bad("fingerprint max_greeting_words must be 0..8");
  }
  return {};
}

double similarity(const signature& a, const signature& b) noexcept {
  if (a.shingles == 0 || b.shingles == 0 || a.bin_count != b.bin_count || a.bin_count == 0) {
    return 0.0;
  }
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.bin_count; ++i) {
    same += a.bins[i] == b.bins[i] ? 1 : 0;
  }
  return static_cast<double>(same) / static_cast<double>(a.bin_count);
}

personalisation collect_personalisation(const mime::message& msg,
                                        std::span<const std::string_view> envelope_recipients) {
  personalisation out;
  std::string folded;
  auto add = [&](std::string_view token) {
    folded.clear();
    detail::fold_into(token, folded);
    if (folded.size() >= 2 && std::find(out.tokens.begin(), out.tokens.end(), folded) == out.tokens.end() &&
        out.tokens.size() < 64) {
      out.tokens.push_back(folded);
    }
  };
  // Words of a name or local part: the normaliser's word rule (letters/marks/digits), so a
  // personal word matches the word the body text produces.
  auto add_words = [&](std::string_view s) {
    folded.clear();
    detail::fold_into(s, folded);
    std::string w;
    const std::string f = folded;
    for (std::size_t i = 0; i <= f.size(); ++i) {
      const auto c = i < f.size() ? static_cast<unsigned char>(f[i]) : ' ';
      const bool word_char = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (word_char) {
        w.push_back(c >= '0' && c <= '9' ? '0' : static_cast<char>(c));
        while (c >= '0' && c <= '9' && i + 1 < f.size() && f[i + 1] >= '0' && f[i + 1] <= '9') {
          ++i;
        }
      } else if (!w.empty()) {
        add(w);
        w.clear();
      }
    }
  };
  auto add_address = [&](std::string_view addr) {
    while (!addr.empty() && (addr.front() == '<' || addr.front() == ' ')) {
      addr.remove_prefix(1);
    }
    while (!addr.empty() && (addr.back() == '>' || addr.back() == ' ')) {
      addr.remove_suffix(1);
    }
    const std::size_t at = addr.rfind('@');
    if (at == std::string_view::npos || at == 0) {
      return;
    }
    add(addr);
    add_words(addr.substr(0, at));
  };
  for (std::string_view r : envelope_recipients) {
    add_address(r);
  }
  // To / Cc: "Name <addr>, addr2, "Last, First" <addr3>" — split on commas outside quotes and
  // angle brackets; the part in <> is the address, the rest the display name.
  for (const mime::header& h : msg.headers) {
    const std::string_view name = h.name;
    const bool to = name.size() == 2 && (name[0] | 0x20) == 't' && (name[1] | 0x20) == 'o';
    const bool cc = name.size() == 2 && (name[0] | 0x20) == 'c' && (name[1] | 0x20) == 'c';
    if (!to && !cc) {
      continue;
    }
    const std::string_view v = h.value;
    std::size_t start = 0;
    bool quoted = false;
    bool angle = false;
    for (std::size_t i = 0; i <= v.size(); ++i) {
      const char c = i < v.size() ? v[i] : ',';
      if (c == '"') {
        quoted = !quoted;
      } else if (c == '<') {
        angle = true;
      } else if (c == '>') {
        angle = false;
      } else if (c == ',' && !quoted && !angle) {
        const std::string_view one = v.substr(start, i - start);
        const std::size_t lt = one.find('<');
        const std::size_t gt = one.find('>', lt == std::string_view::npos ? 0 : lt);
        if (lt != std::string_view::npos && gt != std::string_view::npos) {
          add_address(one.substr(lt + 1, gt - lt - 1));
          add_words(one.substr(0, lt));
        } else {
          add_address(one);
        }
        start = i + 1;
      }
    }
  }
  return out;
}

struct fingerprinter::impl {
  options opts;
  secret word_secret{};
  secret attachment_secret{};
  secret subject_secret{};
  std::uint64_t densify_seed = 0;
  psl_ctx_t* psl = nullptr;
  // Keyed hashes of the anchor words, open addressing on their low bits (a word hash is tested
  // against it once per word).
  std::array<std::uint64_t, 512> anchors{};

  void add_anchor(std::uint64_t h) noexcept {
    std::size_t i = h & (anchors.size() - 1);
    while (anchors[i] != 0 && anchors[i] != h) {
      i = (i + 1) & (anchors.size() - 1);
    }
    anchors[i] = h;
  }
  bool is_anchor(std::uint64_t h) const noexcept {
    for (std::size_t i = h & (anchors.size() - 1);; i = (i + 1) & (anchors.size() - 1)) {
      if (anchors[i] == h) {
        return h != 0;
      }
      if (anchors[i] == 0) {
        return false;
      }
    }
  }

  ~impl() {
    if (psl != nullptr) {
      psl_free(psl);
    }
  }
};

fingerprinter::fingerprinter(std::unique_ptr<impl> p) : _impl(std::move(p)) {}
fingerprinter::fingerprinter(fingerprinter&&) noexcept = default;
fingerprinter& fingerprinter::operator=(fingerprinter&&) noexcept = default;
fingerprinter::~fingerprinter() = default;

result<fingerprinter> fingerprinter::create(std::string_view deployment_secret, options opts) {
  if (auto ok = validate(opts); !ok) {
    return ok.error();
  }
  if (deployment_secret.empty()) {
    return make_error(errc::invalid_config, "fingerprint: the deployment secret is empty");
  }
  auto p = std::make_unique<impl>();
  p->opts = opts;
  derive(p->word_secret, deployment_secret, "portwarden fingerprint word");
  derive(p->attachment_secret, deployment_secret, "portwarden fingerprint attachment");
  derive(p->subject_secret, deployment_secret, "portwarden fingerprint subject");
  secret seed{};
  derive(seed, deployment_secret, "portwarden fingerprint densify");
  std::memcpy(&p->densify_seed, seed.data(), sizeof p->densify_seed);
  for (std::string_view a : anchor_words) {
    p->add_anchor(keyed(p->word_secret, a.data(), a.size()));
  }
  p->psl = psl_latest(nullptr);
  if (p->psl == nullptr) {
    return make_error(errc::unavailable, "fingerprint: no public suffix list could be loaded (libpsl, publicsuffix)");
  }
  return fingerprinter(std::move(p));
}

const options& fingerprinter::opts() const noexcept { return _impl->opts; }

std::string fingerprinter::normalise(std::string_view text, const personalisation& p) const {
  std::string out;
  detail::word_stream ws(_impl->psl, p.tokens, _impl->opts.max_greeting_words);
  auto append = [&](std::string_view w) {
    if (!out.empty()) {
      out.push_back(' ');
    }
    out.append(w);
  };
  if (ws.run(text, _impl->opts.max_text_bytes, _impl->opts.skip_quoted, append) < min_own_words && _impl->opts.skip_quoted) {
    out.clear();
    ws.run(text, _impl->opts.max_text_bytes, false, append);
  }
  return out;
}

std::string fingerprinter::registrable_domain(std::string_view host) const {
  std::string lowered;
  detail::fold_into(host, lowered);
  std::string scratch;
  return std::string(detail::word_stream::registrable(_impl->psl, lowered, scratch));
}

signature fingerprinter::compute(const mime::message& msg, std::span<const std::string_view> envelope_recipients) const {
  const options& o = _impl->opts;
  signature sig;
  sig.bin_count = static_cast<std::uint8_t>(o.bins);
  std::fill(sig.bins.begin(), sig.bins.end(), empty_bin);
  const int shift = 64 - std::countr_zero(o.bins);

  const personalisation pers = collect_personalisation(msg, envelope_recipients);
  // Each word is hashed once with the keyed XXH3 (per-thread scratch: compute runs on many threads).
  thread_local std::vector<std::uint64_t> words;
  // Per word: may it be part of word salad (see below)? Only words of plain Latin letters: the
  // function words known are those of Latin-script languages, so a run of words in another script
  // (or of numbers, domains) says nothing about prose.
  thread_local std::vector<bool> salad_candidate;
  words.clear();
  salad_candidate.clear();
  std::size_t anchors = 0;
  detail::word_stream ws(_impl->psl, pers.tokens, o.max_greeting_words);
  auto hash_word = [&](std::string_view word) {
    const std::uint64_t h = keyed(_impl->word_secret, word.data(), word.size());
    words.push_back(h);
    const bool anchor = _impl->is_anchor(h);
    anchors += anchor ? 1 : 0;
    salad_candidate.push_back(!anchor && std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
  };
  // Quoted replies and signature blocks are not the message's own text; a message that is nothing
  // else (or hides its text behind '>') is taken whole, so it still has a signature.
  if (ws.run(msg.text, o.max_text_bytes, o.skip_quoted, hash_word) < min_own_words && o.skip_quoted) {
    words.clear();
    salad_candidate.clear();
    anchors = 0;
    ws.run(msg.text, o.max_text_bytes, false, hash_word);
  }

  // Shingles: with enough function words, only the spots — the `shingle_words` words starting at a
  // function word ("of the offer", "to claim your") — count. Sentences carry them; the random
  // content words a hash-buster appends do not, so they leave the signature alone (Theobald et al.,
  // "SpotSigs: robust and efficient near duplicate detection in large web collections", SIGIR 2008).
  // Text with few function words (lists, code, other languages, short messages, whose few spots would
  // be their boilerplate's) falls back to every window of `shingle_words` words. A shingle's hash is
  // XXH3 over its words' keyed hashes.
  // One-permutation MinHash: the top bits choose the bin, the low 32 bits compete for its minimum.
  sig.words = static_cast<std::uint32_t>(words.size());
  if (!words.empty() && words.size() < o.short_text_words && !msg.subject.empty()) {
    // A short text is mostly boilerplate (feeds: "URL: ... Date: ..."); its subject says which
    // message it is, so the subject's words are shingled with it.
    ws.run(msg.subject, o.max_text_bytes, false, hash_word);
  }
  // Word salad: a run of `salad_run_words` or more words without one function word is no prose
  // (sentences carry one every few words) but a list of random words, which is what a hash-buster
  // appends. Its words are not shingled, so they neither add windows (texts with few function
  // words) nor finish a spot that starts just before them. They stay counted in `sig.words`.
  const std::size_t body_words = sig.words;
  if (o.salad_run_words > 0) {
    thread_local std::vector<std::uint64_t> kept;
    kept.clear();
    std::size_t run_start = 0;
    std::size_t runs = 0;
    for (std::size_t i = 0; i <= body_words; ++i) {
      if (i < body_words && salad_candidate[i]) {
        continue;
      }
      // [run_start, i) is a run of salad candidates; words[i] (if any) is not one.
      if (i - run_start < o.salad_run_words) {
        kept.insert(kept.end(), words.begin() + static_cast<std::ptrdiff_t>(run_start),
                    words.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++runs;
      }
      if (i < body_words) {
        kept.push_back(words[i]);
      }
      run_start = i + 1;
    }
    // Hardly any text but one block of salad (an image link or a URL, then random words): what
    // remains is the template, and only it counts, so the tracker joins such a text only to an
    // identical one (shingling the salad made every variant a campaign apart). Several blocks are
    // rather prose in a language whose function words are not known: kept whole.
    const bool appended_block = runs == 1 && kept.size() < min_own_words;
    if (kept.size() < body_words && (kept.size() >= min_own_words || appended_block)) {
      if (appended_block) {
        sig.words = static_cast<std::uint32_t>(kept.size());
      }
      kept.insert(kept.end(), words.begin() + static_cast<std::ptrdiff_t>(body_words), words.end());
      words.swap(kept);
    }
  }
  const std::size_t w = o.shingle_words;
  const bool spots = o.anchored_shingles && anchors >= o.min_anchored_shingles;
  sig.spots = spots;
  auto take = [&](std::size_t first) {
    const std::size_t n = std::min(w, words.size() - first);
    const std::uint64_t h = XXH3_64bits(words.data() + first, n * sizeof(std::uint64_t));
    const std::size_t bin = static_cast<std::size_t>(h >> shift);
    const auto v = static_cast<std::uint32_t>(h);
    // empty_bin is reserved: a real minimum of 0xffffffff is stored one lower.
    const std::uint32_t value = v == empty_bin ? empty_bin - 1 : v;
    sig.bins[bin] = std::min(sig.bins[bin], value);
    ++sig.shingles;
  };
  if (spots) {
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (_impl->is_anchor(words[i])) {
        take(i);
      }
    }
  } else if (!words.empty()) {
    // Shorter than one shingle: the words present make the only shingle.
    for (std::size_t i = 0; i + w <= std::max(words.size(), w); ++i) {
      take(i);
    }
  }
  if (sig.shingles > 0) {
    // Densification (Shrivastava, "Optimal densification for fast and accurate minwise hashing",
    // 2017): an empty bin copies the first non-empty bin of its own seeded probe sequence, so two
    // messages with the same shingles fill their empty bins alike.
    std::array<std::uint32_t, max_bins> filled = sig.bins;
    for (std::size_t b = 0; b < o.bins; ++b) {
      if (sig.bins[b] != empty_bin) {
        continue;
      }
      for (std::uint64_t attempt = 0;; ++attempt) {
        const std::size_t donor = static_cast<std::size_t>(mix64(_impl->densify_seed ^ (b << 32) ^ attempt) >> shift);
        if (sig.bins[donor] != empty_bin) {
          filled[b] = sig.bins[donor];
          break;
        }
      }
    }
    sig.bins = filled;
  }

  // Attachments: decoded bytes of non-text leaves, exact.
  for (const mime::part& p : msg.parts) {
    if (sig.attachments.size() >= o.max_attachments) {
      break;
    }
    if (!is_leaf_non_text(p) || p.encoded_body.size() < o.min_attachment_bytes / 2) {
      continue;
    }
    mime::anomaly ignored = mime::anomaly::none;
    const std::string bytes = mime::decode_body(p, ignored);
    if (bytes.size() < o.min_attachment_bytes) {
      continue;
    }
    sig.attachments.push_back(keyed(_impl->attachment_secret, bytes.data(), std::min(bytes.size(), o.max_attachment_bytes)));
  }

  if (!msg.subject.empty()) {
    // The subject's words, personalisation removed, without leading reply/forward markers.
    words.clear();
    bool prefix = true;
    ws.run(msg.subject, 1024, false, [&](std::string_view word) {
      if (prefix && (word == "re" || word == "fwd" || word == "fw" || word == "aw" || word == "wg" || word == "tr")) {
        return;
      }
      prefix = false;
      words.push_back(keyed(_impl->word_secret, word.data(), word.size()));
    });
    if (words.size() >= 2) {
      sig.subject_text = XXH3_64bits(words.data(), words.size() * sizeof(std::uint64_t)) | 1u;
    }
    const std::string shape = subject_shape_text(msg.subject);
    sig.subject_shape = keyed(_impl->subject_secret, shape.data(), shape.size()) | 1u;  // never 0 ("no subject")
  }

  std::string scratch;
  std::string lowered;
  for (const mime::url& u : msg.urls) {
    if (u.host.empty()) {
      continue;
    }
    lowered.clear();
    detail::fold_into(u.host, lowered);
    std::string d(detail::word_stream::registrable(_impl->psl, lowered, scratch));
    if (std::find(sig.url_domains.begin(), sig.url_domains.end(), d) == sig.url_domains.end()) {
      if (sig.url_domains.size() >= o.max_domains) {
        break;
      }
      sig.url_domains.push_back(std::move(d));
    }
  }
  std::sort(sig.url_domains.begin(), sig.url_domains.end());
  return sig;
}

signature fingerprinter::compute_raw(std::string_view raw, std::span<const std::string_view> envelope_recipients,
                                     const mime::limits& lim) const {
  const mime::message msg = mime::parse(raw, lim);
  return compute(msg, envelope_recipients);
}

}  // namespace pw::fingerprint
