// fingerprint/fingerprint.hpp — one-way, keyed fingerprints of a message's content.
//
// Purpose: reduce a parsed message to a small signature from which near-duplicates (one spam
// template mutated by a botnet) can be recognised, while nothing of the message can be read back.
// Steps: the decoded text (HTML already reduced to text by mime::parse) is normalised — Unicode
// case folding, digit runs to one '0', whitespace and punctuation runs to one space, URLs and bare
// host names to their registrable domain (public suffix list, libpsl), personalisation removed
// (the recipients' addresses, local parts and display-name words from To/Cc and the envelope, and
// the word after a greeting such as "dear", "hi", "hello"); quoted replies ('>', "XY>" and "# "
// lines, unmarked quotes after "... wrote:", an unmarked original after "-----Original Message-----")
// and short signature/footer blocks (after "-- " or a line starting with a rule of '_', '-' or '=')
// are left out unless fewer than 8 words else remain (then the whole text is taken: spam puts an
// image link above a rule and its unsubscribe text); a text shorter than `short_text_words` words is
// taken with its subject's words.
// Shingles: when the text has at least `min_anchored_shingles` function words ("the", "of", "you",
// ... in English, German, French, Spanish), only the spots — `shingle_words` words starting at a
// function word — are shingles, so appended random content words (hash-busters) add none; else
// every window of `shingle_words` words. Fewer spots than that are too few to stand for the text:
// in a short mail the function words sit mostly in its boilerplate (a list's "To unsubscribe from
// this group, send an email to", a tracker's "You are receiving this mail because"), while its own
// words ("Yay! Jayne.", a link, "ok, now in") often carry none and would be in no spot, so
// different posts under one footer would get one signature. Either way, word salad — a run of
// `salad_run_words` or more words of plain Latin letters none of which is a function word, which is no prose but what a
// hash-buster appends — is not shingled and its words still count in `signature::words`; when
// fewer than 8 words would remain, a text with one such run keeps only the rest, which alone counts
// (so the tracker joins it only to an identical text), and a text with several keeps them all. Each shingle is hashed
// with keyed XXH3 and the hashes are binned (one-permutation MinHash: the minimum per bin, empty bins densified from a
// seeded probe sequence), giving `bins` 32-bit values whose agreement rate estimates the Jaccard similarity of the
// shingle sets. Evasion this admits (said so the engine does not over-trust campaigns): text hidden behind fake quote
// markers, and hash-busters made of real sentences rather than words. Alongside: keyed exact hashes of attachments
// (decoded bytes of non-text parts), so image-only variants of one template collide; a keyed hash of the subject's
// shape (words mapped to classes: letters, digits, mixed, punctuation, with their length class); a keyed hash of the
// subject's normalised words (links an image-only variant to its template's campaign); and the registrable domains of
// the message's URLs.
//
// Guarantees: deterministic for (secret, options, message, recipients). Every hash is keyed by the
// per-deployment secret (through XXH3_generateSecret, one derived secret per kind of value), so
// signatures of two deployments are unrelated and a signature cannot be matched against a dictionary
// of guessed texts without the secret. Work per message is bounded by `options::max_text_bytes` of
// normalised text, `max_attachments` × `max_attachment_bytes` of attachment bytes, `max_domains`.
//
// Privacy: a `signature` holds no text of the message except `url_domains` (registrable domains
// only, at most `max_domains`), kept for the k-anonymous campaign evidence of campaign::tracker and
// never to be logged per message. `normalise` returns content and exists for tests and fuzzing.
//
// Ownership: `fingerprinter` owns its derived secrets and the public suffix list context; move-only.
// Signatures are plain values.
// Thread-safety: a constructed fingerprinter is immutable; `compute*` and `normalise` may run
// concurrently from many threads (per-thread scratch buffers, said so in the implementation).
// Untrusted input: the message content and the recipient strings are hostile input; the normaliser
// accepts any bytes (invalid UTF-8 is taken byte by byte) and is fuzzed (fuzz/normalise_fuzz.cpp).
// Failure modes: `create` fails with errc::invalid_config for bad options or an empty secret, and
// errc::unavailable when no public suffix list can be loaded. `compute` cannot fail: a message with
// no text yields `shingles == 0` and all-empty bins (such signatures never match by text).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "mime/message.hpp"

namespace pw::fingerprint {

// Capacity of a signature; `options::bins` chooses how many are used.
inline constexpr std::size_t max_bins = 64;
// Value of a bin that no shingle reached and densification could not fill (no text at all).
inline constexpr std::uint32_t empty_bin = 0xffffffffu;

// Defaults: spots (min_anchored_shingles), word salad, quote/signature skipping and the short-text
// subject rule were each measured with `portwarden campaigns eval` (SpamAssassin split-a, see
// BENCHMARKS.md); shingle_words and bins were not re-tuned.
struct options {
  std::size_t shingle_words = 3;                 // words per shingle (1..8)
  std::size_t bins = 32;                         // one-permutation MinHash bins (8..max_bins, power of two)
  std::size_t max_text_bytes = 32u << 10;        // normalised text beyond this is not shingled
  std::size_t max_attachments = 4;               // attachments hashed per message
  std::size_t min_attachment_bytes = 256;        // smaller decoded parts (spacer GIFs, logos) are ignored
  std::size_t max_attachment_bytes = 8u << 20;   // larger parts are hashed over their first bytes only
  std::size_t max_domains = 8;                   // registrable URL domains kept
  std::size_t max_greeting_words = 2;            // words removed after a greeting ("dear john smith,")
  std::size_t short_text_words = 24;             // a text of fewer words is shingled with the subject's
  bool skip_quoted = true;                       // quoted lines ('>') and short signature blocks not shingled
  bool anchored_shingles = true;                 // only shingles starting at a function word (spots) ...
  std::size_t min_anchored_shingles = 32;        // ... when the text has at least this many (the
                                                 // default bins: fewer spots than bins are a sentence
                                                 // or two, on a short mail mostly its boilerplate)
  std::size_t salad_run_words = 12;              // runs of this many letter words without a function
                                                 // word are not shingled (hash-busters); 0: all are
};

// errc::invalid_config naming the offending option.
result<void> validate(const options& opts);

struct signature {
  std::array<std::uint32_t, max_bins> bins{};   // keyed minimum per bin; only the first `bin_count` used
  std::uint8_t bin_count = 0;
  std::uint32_t shingles = 0;                   // shingles hashed (0: no text)
  std::uint32_t words = 0;                      // words of the text that was shingled
  bool spots = false;                           // shingled at function words (else every window)
  std::uint64_t subject_shape = 0;              // keyed; 0 when there is no subject
  std::uint64_t subject_text = 0;               // keyed hash of the normalised subject's words (reply and
                                                // forward prefixes dropped); 0 under 2 words
  std::vector<std::uint64_t> attachments;       // keyed XXH3 of decoded non-text parts, message order
  std::vector<std::string> url_domains;         // registrable domains, lower case, sorted, unique
};

// Estimated Jaccard similarity of the two shingle sets (share of agreeing bins); 0 when either has
// no text or the bin counts differ.
double similarity(const signature& a, const signature& b) noexcept;

// Who the message is addressed to, as far as personalisation goes: addresses, their local parts and
// the words of display names, from the To and Cc headers and the envelope recipients. Holds content.
struct personalisation {
  std::vector<std::string> tokens;  // case-folded, each one normalised word or address
};
personalisation collect_personalisation(const mime::message& msg,
                                        std::span<const std::string_view> envelope_recipients);

class fingerprinter {
 public:
  // Derives the keyed secrets from `deployment_secret` (privacy.secret_file) and loads the public
  // suffix list (libpsl: the newest of its built-in list and the system's /usr/share/publicsuffix).
  static result<fingerprinter> create(std::string_view deployment_secret, options opts = {});

  fingerprinter(fingerprinter&&) noexcept;
  fingerprinter& operator=(fingerprinter&&) noexcept;
  ~fingerprinter();

  // From an already-parsed message (the daemon shares the parse with the classifier).
  signature compute(const mime::message& msg, std::span<const std::string_view> envelope_recipients) const;
  // From raw bytes: parses with `lim`, then as above.
  signature compute_raw(std::string_view raw, std::span<const std::string_view> envelope_recipients,
                        const mime::limits& lim = {}) const;

  // The normalised text that is shingled (words separated by one space). Content: tests and fuzzing.
  std::string normalise(std::string_view text, const personalisation& p) const;
  // The registrable domain of a host name ("www.news.example.co.uk" → "example.co.uk"), lower case;
  // the host itself when it is an address literal or has no known suffix.
  std::string registrable_domain(std::string_view host) const;

  const options& opts() const noexcept;

 private:
  struct impl;
  explicit fingerprinter(std::unique_ptr<impl> p);
  std::unique_ptr<impl> _impl;
};

}  // namespace pw::fingerprint
