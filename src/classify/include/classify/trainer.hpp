// classify/trainer.hpp — training the logistic-regression model.
//
// Purpose: online (one message at a time, for `portwarden learn`) and batch (several shuffled passes
// over a labelled set, for `portwarden train` and `eval`) training by stochastic gradient descent on
// the logistic loss, as in the TREC spam-track winners, with AdaGrad per-feature rates and averaged
// weights (both measured better on split A than plain SGD). Batch training also fits Platt calibration
// (a, b) on a held-out share of the training set, so the reported probability is calibrated.
// Batch training can average several models trained on different shuffles (`members`): the model is
// linear, so the averaged weights score with the mean of the members' margins at no scoring cost.
//
// Guarantees: deterministic for a given seed and input order (threads split independent work only).
// Does no I/O.
// Thread-safety: needs exclusive access to the model it trains; starts and joins its own threads.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "classify/model.hpp"

namespace pw::classify {

// Defaults chosen on split A (see BENCHMARKS.md for the measurements behind them).
struct training_options {
  float learning_rate = 1.0f;      // AdaGrad base rate on the normalised features
  std::uint32_t epochs = 10;       // passes over the training set, per member (batch only)
  std::uint32_t members = 1;       // models on different shuffles, weights averaged (batch only; 0 = 1)
  float ham_weight = 2.0f;         // a ham's gradient counts this much more: false positives cost more
  std::uint64_t seed = 1;          // shuffling
  double calibration_share = 0.2;  // held-out share for Platt calibration (batch only; 0 = none)
};

struct labelled_features {
  std::vector<std::uint32_t> ids;
  bool is_spam = false;
};

struct labelled_text {
  std::string_view raw;  // a whole raw message
  bool is_spam = false;
};

// Parses and extracts the features of every message (the expensive part of batch training), on
// `threads` threads, each with its own extractor. The result is in input order.
std::vector<labelled_features> featurise(std::span<const labelled_text> messages, const feature_options& options,
                                         unsigned threads, const mime::limits& limits = {});

// One online update (a gradient step on one message). Counts the message as trained.
void learn_one(model& m, std::span<const std::uint32_t> ids, bool is_spam, float learning_rate);

// Batch training from zero weights on `examples`. The model must be trainable and blank or
// previously trained with the same feature options. Trains `options.members` models of `epochs`
// passes each, every one with its own shuffle (seeds derived from `options.seed`; member 0 uses it
// as is, so one member is the plain model) and its own AdaGrad state, and keeps their mean.
// Costs members * epochs passes. Uses two threads: the calibration ensemble trains alongside the
// final one.
void train_batch(model& m, std::span<const labelled_features> examples, const training_options& options);

struct labelled_margin {
  float margin;
  bool is_spam;
};

// Platt scaling: the (a, b) minimising log loss of sigmoid(a * margin + b) against the labels.
calibration fit_platt(std::span<const labelled_margin> samples);

}  // namespace pw::classify
