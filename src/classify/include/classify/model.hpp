// classify/model.hpp — the weight table of the content classifier, and its file.
//
// Purpose: a logistic-regression model over hashed features: one float weight per hash slot, a bias,
// and Platt calibration parameters that turn the raw margin into a calibrated spam probability.
//
// File format (little-endian, version 2): a 4096-byte header — magic "PWMODEL1", format version,
// header size, the feature_options the weights were trained with (hash bits, text and header
// prefix sizes, OSB window, character gram sizes of the text and of the header block, whether
// transport headers are tokenised), bias, Platt a/b, counts of trained
// spam/ham, weight count and an XXH3-64 checksum of the header (checksum field zeroed) and the
// weights — followed by the weights as float32. The page-aligned weights are used in place through
// mmap, so loading costs one checksum pass and no copy.
//
// Guarantees: `load` accepts only a file whose magic, version, sizes and checksum agree, and reports
// which check failed otherwise. `save` writes a temporary file in the same directory, fsyncs it and
// renames it over the target, then fsyncs the directory: a crash mid-save leaves the old model or
// the new one, never a torn file.
//
// Ownership: a model owns its weights, either in memory (trainable; on transparent huge pages, see
// huge_pages.hpp) or as a read-only mapping.
// Thread-safety: scoring a const model from many threads is safe; training needs exclusive access.
// Untrusted input: model files are trusted configuration, but are still fully validated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "classify/features.hpp"
#include "common/result.hpp"

namespace pw::classify {

// Feature bags are normalised to unit length: each of n binary features counts 1/sqrt(n).
inline float inverse_norm(std::size_t n) {
  return n == 0 ? 0.0f : 1.0f / __builtin_sqrtf(static_cast<float>(n));
}

struct calibration {
  float a = 1.0f;  // probability = 1 / (1 + exp(-(a * margin + b)))
  float b = 0.0f;
};

class model {
 public:
  // A blank trainable model: all weights zero.
  explicit model(feature_options options);
  model(model&&) noexcept;
  model& operator=(model&&) noexcept;
  ~model();

  // Map a model file read-only (for scoring).
  static result<model> load(const std::filesystem::path& path);
  // Read a model file into memory so it can be trained further.
  static result<model> load_for_update(const std::filesystem::path& path);
  // Write atomically (temporary file, fsync, rename, fsync of the directory).
  result<void> save(const std::filesystem::path& path) const;

  const feature_options& options() const { return _options; }
  std::span<const float> weights() const { return {_weights, _weight_count}; }
  bool trainable() const { return _mutable_weights != nullptr; }
  // Trainable models only.
  std::span<float> mutable_weights();

  float bias() const { return _bias; }
  void set_bias(float b) { _bias = b; }
  const calibration& calib() const { return _calibration; }
  void set_calibration(calibration c) { _calibration = c; }
  std::uint64_t trained_spam() const { return _trained_spam; }
  std::uint64_t trained_ham() const { return _trained_ham; }
  void count_trained(bool is_spam) { ++(is_spam ? _trained_spam : _trained_ham); }

  // The uncalibrated margin of a feature bag: bias + (sum of weights) / sqrt(number of features).
  // Normalising by the square root of the bag size keeps long and short messages on one scale.
  float margin(std::span<const std::uint32_t> ids) const;
  float margin(const weight_sum& sum) const { return _bias + sum.sum * inverse_norm(sum.count); }
  // Calibrated log-odds of spam, a * margin + b: the score to rank by, since probabilities of
  // confident verdicts round to exactly 0 or 1 in double precision and would tie.
  double log_odds(float margin) const;
  // Calibrated spam probability of a margin: the logistic function of its log-odds.
  double probability(float margin) const;

 private:
  model() = default;
  struct storage;  // where the weights live: a read-only file mapping or a writable table (model.cpp)
  feature_options _options;
  std::unique_ptr<storage> _storage;
  const float* _weights = nullptr;
  float* _mutable_weights = nullptr;  // the same weights when trainable, else null
  std::size_t _weight_count = 0;
  float _bias = 0.0f;
  calibration _calibration;
  std::uint64_t _trained_spam = 0;
  std::uint64_t _trained_ham = 0;
};


}  // namespace pw::classify
