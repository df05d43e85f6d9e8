// Tests of batch training with several members (training_options::members): models trained on
// different shuffles whose weights are averaged into one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "classify/model.hpp"
#include "classify/trainer.hpp"

using namespace pw::classify;

namespace {

feature_options small_options() {
  feature_options o;
  o.hash_bits = 18;
  return o;
}

// Feature bags of a problem no linear model separates perfectly: each message draws most of its
// features from a pool both classes share and a few from its class's pool, and one label in ten
// is flipped. Shuffling order then matters, which is what averaging members is meant to smooth.
std::vector<labelled_features> noisy_corpus(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint32_t> shared(0, 1999);
  std::uniform_int_distribution<std::uint32_t> own(0, 299);
  std::bernoulli_distribution from_own(0.15);
  std::bernoulli_distribution flipped(0.1);
  std::vector<labelled_features> out;
  for (std::size_t i = 0; i < n; ++i) {
    const bool spam = i % 3 == 0;
    labelled_features example;
    for (int k = 0; k < 40; ++k) {
      example.ids.push_back(from_own(rng) ? (spam ? 10000 : 20000) + own(rng) : shared(rng));
    }
    example.is_spam = flipped(rng) ? !spam : spam;
    out.push_back(std::move(example));
  }
  return out;
}

model train(std::span<const labelled_features> examples, std::uint32_t members, std::uint32_t epochs,
            std::uint64_t seed) {
  training_options t;
  t.members = members;
  t.epochs = epochs;
  t.seed = seed;
  model m(small_options());
  train_batch(m, examples, t);
  return m;
}

}  // namespace

TEST(trainer_ensemble, is_deterministic_for_a_seed_and_counts_each_message_once) {
  const auto examples = noisy_corpus(600, 1);
  const model a = train(examples, 3, 2, 7);
  const model b = train(examples, 3, 2, 7);
  ASSERT_EQ(a.weights().size(), b.weights().size());
  EXPECT_TRUE(std::equal(a.weights().begin(), a.weights().end(), b.weights().begin()));
  EXPECT_EQ(a.bias(), b.bias());
  EXPECT_EQ(a.calib().a, b.calib().a);
  EXPECT_EQ(a.calib().b, b.calib().b);
  // Members see the same messages; the model still counts each one once.
  EXPECT_EQ(a.trained_spam() + a.trained_ham(), examples.size());
}

TEST(trainer_ensemble, members_train_on_different_shuffles) {
  const auto examples = noisy_corpus(600, 2);
  const model one = train(examples, 1, 2, 7);
  const model two = train(examples, 2, 2, 7);
  EXPECT_FALSE(std::equal(one.weights().begin(), one.weights().end(), two.weights().begin()));
  // A different seed changes every member, not only the first.
  const model other = train(examples, 2, 2, 8);
  EXPECT_FALSE(std::equal(two.weights().begin(), two.weights().end(), other.weights().begin()));
}

TEST(trainer_ensemble, averaging_members_shrinks_the_spread_over_seeds) {
  // The weight of each feature varies with the shuffling seed; the mean of four members should vary
  // about a quarter as much (members share the data, not the order). Asserted with a wide margin.
  const auto examples = noisy_corpus(900, 3);
  auto spread = [&](std::uint32_t members) {
    std::vector<model> models;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      models.push_back(train(examples, members, 2, seed));
    }
    double total = 0;
    const std::size_t n = models[0].weights().size();
    for (std::size_t j = 0; j < n; ++j) {
      double sum = 0;
      double squares = 0;
      for (const auto& m : models) {
        sum += m.weights()[j];
        squares += static_cast<double>(m.weights()[j]) * m.weights()[j];
      }
      total += squares / models.size() - (sum / models.size()) * (sum / models.size());
    }
    return total;
  };
  const double single = spread(1);
  const double averaged = spread(4);
  ASSERT_GT(single, 0.0);
  EXPECT_LT(averaged, 0.5 * single);
}

TEST(trainer_ensemble, calibration_fits_the_averaged_margins) {
  // Averaging members who disagree shrinks the margins (here by about 8 %). The calibration, fitted
  // on a probe ensemble of the same shape, must find the scale that Platt scaling finds on fresh
  // messages scored by the final model; a single-member probe would miss it by about 0.065.
  const auto examples = noisy_corpus(1500, 4);
  const auto fresh = noisy_corpus(3000, 5);
  for (std::uint32_t members : {1u, 4u}) {
    const model m = train(examples, members, 3, 1);
    std::vector<labelled_margin> margins;
    double predicted = 0;
    double observed = 0;
    for (const auto& e : fresh) {
      margins.push_back({m.margin(e.ids), e.is_spam});
      predicted += m.probability(m.margin(e.ids));
      observed += e.is_spam ? 1 : 0;
    }
    const calibration ideal = fit_platt(margins);
    EXPECT_NEAR(m.calib().a, ideal.a, 0.04) << members << " members";
    EXPECT_NEAR(predicted / fresh.size(), observed / fresh.size(), 0.03) << members << " members";
  }
}
