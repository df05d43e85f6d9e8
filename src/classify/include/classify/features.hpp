// classify/features.hpp — turning a parsed message into hashed features.
//
// Purpose: the feature side of the content classifier. Following what won the TREC spam track
// (Goodman & Yih 2006; Sculley & Wachman 2007; Cormack 2007), a message becomes a bag of hashed
// binary features: character 2-, 3- and 4-grams of the first part of the decoded text and 4-grams of
// the normalised block of sender-written headers (sizes measured on split A, see BENCHMARKS.md), word
// tokens and word pairs (orthogonal sparse bigrams, OSB; adjacent pairs by default), header names,
// tokens of selected sender-written header values and of the first three Received hops, URL hosts
// and domains, MIME structure, parser anomaly flags and a few shape statistics. Features are hashed
// into a table of 2^hash_bits weights.
//
// Guarantees: extraction is deterministic for a given `feature_options` (the model file records them),
// bounded by the options (prefix sizes), and never fails. Feature ids are < 2^hash_bits; a message's
// bag holds each id once.
//
// Ownership: a feature_extractor owns reusable buffers; the span returned by `extract` stays valid
// until the next call on the same extractor.
//
// Thread-safety: one extractor per thread (it keeps scratch buffers); extractors are cheap to create.
//
// Privacy: feature ids are one-way hashes. `extract_named` recovers readable names (words, n-grams)
// for explaining a verdict on the command line to the mail's owner; the relay must never log them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message.hpp"

namespace pw::classify {

// Recorded in the model file: a model only scores features extracted with its own options.
// Defaults were chosen on split A's training side and measured in BENCHMARKS.md.
struct feature_options {
  std::uint32_t hash_bits = 20;             // weight table of 2^20 floats = 4 MiB (22 bits: no better on split A)
  std::uint32_t text_prefix_bytes = 10000;  // of the normalised subject + decoded text
  std::uint32_t header_prefix_bytes = 500;  // of the normalised block of sender-written headers
  std::uint32_t osb_window = 1;             // word pairs up to this distance (1: adjacent; 4 measured worse on split A)
  std::uint32_t gram_sizes = (1u << 2) | (1u << 3) | (1u << 4);  // of the text; bit n set: n-grams, n in 1..8
  // Of the header block, the same encoding. 4-grams alone: the header 2- and 3-grams measured worse
  // on split A's later test collections.
  std::uint32_t header_gram_sizes = 1u << 4;
  // Whether the values of transport headers (added on the way: Return-Path, Sender, Errors-To,
  // Precedence, List-*) are tokenised like those of sender-written ones. Off: they describe a
  // collection's mailing lists more than a sender, and measured worse on split A. Received is
  // transport too, but its first three hops stay tokenised either way (the sender's side of the path).
  bool transport_header_tokens = false;
};

// What a feature is about; part of every feature's hash, and its name prefix in explanations.
enum class feature_kind : std::uint8_t {
  text_gram,     // character 4-gram of the text
  header_gram,   // character 4-gram of the header block
  word,          // word of the subject or text
  osb,           // word pair at a distance
  subject_word,
  header_name,
  header_token,  // token of a selected header's value, scoped by header name
  url_host,
  url_domain,
  anomaly,
  structure,     // MIME structure: content types, attachment extensions
  shape,         // statistics bucketed: sizes, counts, case ratios
};
std::string_view feature_kind_name(feature_kind kind);

struct named_feature {
  std::uint32_t id;
  feature_kind kind;
  std::string name;  // readable form, e.g. "viagra" or "url.example"
};

// Character 2-grams (byte pairs) are not hashed: the pairs of the text take ids [0, 65536) and those
// of the header block [65536, 131072). Hashed features share the whole table, these slots included.
inline constexpr std::uint32_t pair_region_size = 65536;
inline constexpr std::uint32_t min_hash_bits = 18;

struct weight_sum {
  float sum = 0;          // sum of the weights of the message's features
  std::size_t count = 0;  // number of (distinct) features
};

class feature_extractor {
 public:
  explicit feature_extractor(feature_options options = {});
  feature_extractor(feature_extractor&&) noexcept;
  ~feature_extractor();

  // Hashed feature ids of `msg`, each once.
  std::span<const std::uint32_t> extract(const mime::message& msg);

  // Extract and score in one pass: the sum of `weights[id]` over the bag, without storing the bag.
  // `weights` must hold 2^hash_bits entries. The fast path for scoring.
  weight_sum sum_weights(const mime::message& msg, std::span<const float> weights);

  // The same features with readable names; slower, for explanations only.
  std::vector<named_feature> extract_named(const mime::message& msg);

  const feature_options& options() const { return _options; }

 private:
  template <class Sink>
  void extract_into(const mime::message& msg, Sink& sink);

  feature_options _options;
  struct dedupe;  // per-message repeat filter, defined in features.cpp
  std::unique_ptr<dedupe> _seen;
  std::string _text;    // normalised text prefix (scratch)
  std::string _header;  // normalised header block (scratch)
  std::string _name;    // lowercased header name (scratch)
  std::string _value;   // lowercased header value or file extension (scratch)
};

}  // namespace pw::classify
