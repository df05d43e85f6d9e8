// classify/trainer.cpp — see trainer.hpp for the contract.
#include "classify/trainer.hpp"

#include "huge_pages.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

namespace pw::classify {
namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

constexpr float adagrad_floor = 1e-2f;  // keeps the first steps of a feature finite
constexpr float bias_rate = 0.01f;      // the bias moves slowly: it only absorbs the class prior

// Everything training keeps per weight, side by side so that one step touches one cache line per
// feature instead of three (measured: the table is larger than L2 and training is bound by misses).
struct training_slot {
  float weight = 0;
  float squared = 0;  // AdaGrad: sum of this feature's squared gradients
  float delayed = 0;  // averaging: sum of step * t (see run_epochs)
  float unused = 0;   // pads the slot to 16 bytes, so a slot never straddles two cache lines
};

// One stochastic gradient step of the logistic loss with AdaGrad's per-feature rates: rare
// features (a new spammer's URL) move fast, common ones (" the") settle.
// Training is bound by cache misses on the slot table, so while this step updates its own slots
// (which the sum has just brought into cache) it prefetches the slots of `next`, the following
// step's bag: their misses overlap this step's arithmetic instead of stalling the next sum.
void adagrad_step(std::span<training_slot> slots, float& bias, float& delayed_bias, float t,
                  std::span<const std::uint32_t> ids, bool is_spam, std::span<const std::uint32_t> next,
                  const training_options& options) {
  // Four partial sums break the chain of dependent float additions.
  std::array<float, 4> sums{};
  for (std::size_t k = 0; k < ids.size(); ++k) {
    sums[k & 3] += slots[ids[k]].weight;
  }
  const float s = (sums[0] + sums[1]) + (sums[2] + sums[3]);
  const float inv = inverse_norm(ids.size());
  const float error = (is_spam ? 1.0f : 0.0f) - sigmoid(bias + s * inv);
  const float g = error * inv * (is_spam ? 1.0f : options.ham_weight);
  const float g2 = g * g;
  const float rate_g = options.learning_rate * g;
  const std::size_t prefetched = std::min(ids.size(), next.size());
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (k < prefetched) {
      __builtin_prefetch(&slots[next[k]]);
    }
    training_slot& slot = slots[ids[k]];
    slot.squared += g2;
    const float d = rate_g / std::sqrt(slot.squared + adagrad_floor);
    slot.weight += d;
    slot.delayed += t * d;
  }
  for (std::size_t k = prefetched; k < next.size(); ++k) {
    __builtin_prefetch(&slots[next[k]]);
  }
  const float bias_step = options.learning_rate * error * bias_rate;
  bias += bias_step;
  delayed_bias += t * bias_step;
}

// Runs `epochs` shuffled passes of averaged AdaGrad over `subset`, starting from `start_weights` and
// `start_bias` with fresh AdaGrad accumulators, and leaves the averaged weights in `slots[j].weight`
// and the returned bias. `slots` is the caller's table, reused from one ensemble member to the next.
float run_epochs(std::span<training_slot> slots, std::span<const float> start_weights, float start_bias,
                 std::span<const labelled_features> examples, std::span<const std::size_t> subset, std::uint64_t seed,
                 const training_options& options) {
  std::vector<std::size_t> order(subset.begin(), subset.end());
  std::mt19937_64 rng(seed);
  for (std::size_t j = 0; j < slots.size(); ++j) {
    slots[j] = training_slot{.weight = start_weights[j]};
  }
  // Averaged SGD (Polyak-Ruppert) with the lazy-update trick: `delayed` accumulates step * t, and
  // the average after T steps is w - delayed / T. The averaged weights generalise better than the
  // last iterate and make the result less sensitive to the shuffling order.
  float bias = start_bias;
  float delayed_bias = 0;
  float t = 1;
  for (std::uint32_t epoch = 0; epoch < options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t k = 0; k < order.size(); ++k) {
      const labelled_features& example = examples[order[k]];
      const std::span<const std::uint32_t> next =
          k + 1 < order.size() ? std::span<const std::uint32_t>(examples[order[k + 1]].ids) : std::span<const std::uint32_t>();
      adagrad_step(slots, bias, delayed_bias, t, example.ids, example.is_spam, next, options);
      t += 1;
    }
  }
  for (auto& slot : slots) {
    slot.weight -= slot.delayed / t;
  }
  return bias - delayed_bias / t;
}

// The shuffling seed of ensemble member `k`. Member 0 keeps the caller's seed, so a one-member
// ensemble is exactly the single model; the others get seeds scattered by SplitMix64's finaliser,
// so that seeds s and s + 1 do not share members.
std::uint64_t member_seed(std::uint64_t seed, std::uint32_t k) {
  if (k == 0) {
    return seed;
  }
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * k;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Trains `options.members` models on `subset`, each from m's current weights with its own shuffle and
// its own AdaGrad accumulators, and leaves the mean of their averaged weights and biases in m. The
// model is linear, so this mean scores every message with the mean of the members' margins: an
// ensemble that costs nothing at scoring time. Members train one after another, in member order,
// so the float sums (and the result) do not depend on timing.
void train_ensemble(model& m, std::span<const labelled_features> examples, std::span<const std::size_t> subset,
                    const training_options& options) {
  auto w = m.mutable_weights();
  const std::vector<float> start(w.begin(), w.end());
  const float start_bias = m.bias();
  // Each step touches a random slot per feature across the whole table (16 MiB at 20 hash bits).
  const auto table = detail::allocate_on_huge_pages<training_slot>(w.size());
  const std::span<training_slot> slots(table.get(), w.size());
  const std::uint32_t members = std::max<std::uint32_t>(1, options.members);
  float bias = 0;
  for (std::uint32_t k = 0; k < members; ++k) {
    const float member_bias =
        run_epochs(slots, start, start_bias, examples, subset, member_seed(options.seed, k), options);
    if (k == 0) {
      for (std::size_t j = 0; j < w.size(); ++j) {
        w[j] = slots[j].weight;
      }
      bias = member_bias;
    } else {
      for (std::size_t j = 0; j < w.size(); ++j) {
        w[j] += slots[j].weight;
      }
      bias += member_bias;
    }
  }
  if (members > 1) {
    const float share = 1.0f / static_cast<float>(members);
    for (float& weight : w) {
      weight *= share;
    }
    bias *= share;
  }
  m.set_bias(bias);
  for (std::size_t i : subset) {
    m.count_trained(examples[i].is_spam);
  }
}

}  // namespace

void learn_one(model& m, std::span<const std::uint32_t> ids, bool is_spam, float learning_rate) {
  // An incremental model keeps no AdaGrad history in its file, so each online step uses the rate a
  // feature would get on its first sighting (squared gradient = its own).
  float bias = m.bias();
  auto w = m.mutable_weights();
  float s = 0;
  for (std::uint32_t id : ids) {
    s += w[id];
  }
  const float inv = inverse_norm(ids.size());
  const float error = (is_spam ? 1.0f : 0.0f) - sigmoid(bias + s * inv);
  const float g = error * inv;
  const float d = learning_rate * g / std::sqrt(g * g + adagrad_floor);
  for (std::uint32_t id : ids) {
    w[id] += d;
  }
  m.set_bias(bias + learning_rate * error * bias_rate);
  m.count_trained(is_spam);
}

calibration fit_platt(std::span<const labelled_margin> samples) {
  // Newton's method on the two parameters, with Platt's smoothed targets so that a separable
  // held-out set does not drive a to infinity.
  const std::size_t n = samples.size();
  std::size_t positives = 0;
  for (const auto& s : samples) {
    positives += s.is_spam ? 1 : 0;
  }
  const std::size_t negatives = n - positives;
  if (positives == 0 || negatives == 0) {
    return {};
  }
  const double hi = (static_cast<double>(positives) + 1.0) / (static_cast<double>(positives) + 2.0);
  const double lo = 1.0 / (static_cast<double>(negatives) + 2.0);
  double a = 1.0;
  double b = 0.0;
  for (int iteration = 0; iteration < 100; ++iteration) {
    double ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = samples[i].margin;
      const double t = samples[i].is_spam ? hi : lo;
      const double p = 1.0 / (1.0 + std::exp(-(a * x + b)));
      const double d = p - t;
      const double v = p * (1.0 - p);
      ga += d * x;
      gb += d;
      haa += v * x * x;
      hab += v * x;
      hbb += v;
    }
    const double det = haa * hbb - hab * hab;
    if (std::abs(det) < 1e-12) {
      break;
    }
    const double da = (hbb * ga - hab * gb) / det;
    const double db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (std::abs(da) < 1e-9 && std::abs(db) < 1e-9) {
      break;
    }
  }
  if (!std::isfinite(a) || !std::isfinite(b) || a <= 0) {
    return {};
  }
  return calibration{static_cast<float>(a), static_cast<float>(b)};
}

void train_batch(model& m, std::span<const labelled_features> examples, const training_options& options) {
  std::vector<std::size_t> all(examples.size());
  std::iota(all.begin(), all.end(), 0);

  calibration calib;
  std::thread calibrating;
  if (options.calibration_share > 0 && examples.size() >= 50) {
    // Fit calibration on a held-out share, scored by a model trained on the rest. That model is
    // independent of the final one, so it trains on a second thread alongside it. It is an ensemble
    // of as many members as the final model: averaging members who disagree shrinks the margins, so
    // a single probe would fit (a, b) to the wrong margin scale.
    calibrating = std::thread([&] {
      std::vector<std::size_t> shuffled = all;
      std::mt19937_64 rng(options.seed ^ 0xCA11B4A7E5ULL);
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      const auto held = static_cast<std::size_t>(static_cast<double>(shuffled.size()) * options.calibration_share);
      std::span<const std::size_t> held_out(shuffled.data(), held);
      std::span<const std::size_t> rest(shuffled.data() + held, shuffled.size() - held);
      model probe(m.options());
      train_ensemble(probe, examples, rest, options);
      std::vector<labelled_margin> samples;
      samples.reserve(held);
      for (std::size_t i : held_out) {
        samples.push_back({probe.margin(examples[i].ids), examples[i].is_spam});
      }
      calib = fit_platt(samples);
    });
  }
  train_ensemble(m, examples, all, options);
  if (calibrating.joinable()) {
    calibrating.join();
  }
  m.set_calibration(calib);
}

std::vector<labelled_features> featurise(std::span<const labelled_text> messages, const feature_options& options,
                                         unsigned threads, const mime::limits& limits) {
  std::vector<labelled_features> out(messages.size());
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(messages.size() / 64 + 1)));
  auto work = [&](std::size_t first, std::size_t last) {
    feature_extractor extractor(options);
    mime::message parsed;  // reused: parse_into keeps its buffers from one message to the next
    for (std::size_t i = first; i < last; ++i) {
      mime::parse_into(parsed, messages[i].raw, limits);
      const auto ids = extractor.extract(parsed);
      out[i] = labelled_features{{ids.begin(), ids.end()}, messages[i].is_spam};
    }
  };
  std::vector<std::thread> workers;
  const std::size_t per = (messages.size() + threads - 1) / threads;
  for (unsigned t = 1; t < threads; ++t) {
    workers.emplace_back(work, std::min(messages.size(), t * per), std::min(messages.size(), (t + 1) * per));
  }
  work(0, std::min(messages.size(), per));
  for (auto& w : workers) {
    w.join();
  }
  return out;
}

}  // namespace pw::classify
