// Tests of the content classifier: features, model file, training, calibration, explanations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "classify/classifier.hpp"
#include "classify/features.hpp"
#include "classify/model.hpp"
#include "classify/trainer.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pw::classify;

namespace {

std::string make_message(const std::string& subject, const std::string& body, const std::string& from) {
  return "From: " + from + "\r\nTo: someone@example.net\r\nSubject: " + subject +
         "\r\nDate: Mon, 2 Sep 2002 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\n" + body + "\r\n";
}

// A small labelled set that a content classifier must separate: spam talks about pills and prizes
// with links to one set of hosts, ham about meetings and code.
std::vector<std::pair<std::string, bool>> toy_corpus(std::size_t per_class, std::uint64_t seed) {
  const std::vector<std::string> spam_words = {"cheap", "pills", "winner", "prize", "viagra", "free", "offer",
                                               "click", "unsubscribe", "million", "casino", "limited"};
  const std::vector<std::string> ham_words = {"meeting", "agenda", "patch", "kernel", "review", "lunch",
                                              "thanks", "build", "release", "notes", "schedule", "draft"};
  std::mt19937_64 rng(seed);
  auto sentence = [&](const std::vector<std::string>& words) {
    std::string s;
    for (int i = 0; i < 40; ++i) {
      s += words[rng() % words.size()] + (i % 9 == 8 ? ".\r\n" : " ");
    }
    return s;
  };
  std::vector<std::pair<std::string, bool>> out;
  for (std::size_t i = 0; i < per_class; ++i) {
    out.emplace_back(make_message("You are a WINNER " + std::to_string(i), sentence(spam_words) + " http://promo" +
                                      std::to_string(i % 5) + ".example.biz/x",
                                  "deals@promo.example.biz"),
                     true);
    out.emplace_back(make_message("Re: meeting notes " + std::to_string(i), sentence(ham_words),
                                  "colleague@work.example.org"),
                     false);
  }
  return out;
}

std::vector<labelled_features> featurise(const std::vector<std::pair<std::string, bool>>& corpus,
                                         const feature_options& options) {
  feature_extractor extractor(options);
  std::vector<labelled_features> out;
  for (const auto& [raw, spam] : corpus) {
    auto ids = extractor.extract(pw::mime::parse(raw));
    out.push_back({std::vector<std::uint32_t>(ids.begin(), ids.end()), spam});
  }
  return out;
}

using pw::test::temp_dir;

feature_options small_options() {
  feature_options o;
  o.hash_bits = 18;
  return o;
}

}  // namespace

TEST(features, ids_are_within_table_and_deterministic) {
  feature_options o = small_options();
  feature_extractor a(o);
  feature_extractor b(o);
  const std::string raw = make_message("Hello there", "Some text with a link http://www.example.com/page", "a@b.example");
  auto parsed = pw::mime::parse(raw);
  auto ids_a = a.extract(parsed);
  std::vector<std::uint32_t> copy(ids_a.begin(), ids_a.end());
  auto ids_b = b.extract(parsed);
  ASSERT_FALSE(copy.empty());
  EXPECT_TRUE(std::equal(copy.begin(), copy.end(), ids_b.begin(), ids_b.end()));
  for (auto id : copy) {
    EXPECT_LT(id, 1u << o.hash_bits);
  }
}

TEST(features, text_prefix_bounds_the_feature_count) {
  feature_options o = small_options();
  o.text_prefix_bytes = 1000;
  feature_extractor e(o);
  const auto small = e.extract(pw::mime::parse(make_message("s", std::string(2000, 'a') + " word", "a@b.example"))).size();
  const auto large = e.extract(pw::mime::parse(make_message("s", std::string(200000, 'a') + " word", "a@b.example"))).size();
  EXPECT_EQ(small, large);
}

TEST(features, named_extraction_matches_hashed_ids) {
  feature_extractor e(small_options());
  // The parsed message views into the raw bytes, which must outlive it.
  const std::string raw = make_message("Cheap pills", "buy cheap pills now http://x.example.biz/", "a@b.example");
  const auto parsed = pw::mime::parse(raw);
  auto ids = e.extract(parsed);
  std::vector<std::uint32_t> hashed(ids.begin(), ids.end());
  auto named = e.extract_named(parsed);
  ASSERT_EQ(named.size(), hashed.size());
  for (std::size_t i = 0; i < named.size(); ++i) {
    EXPECT_EQ(named[i].id, hashed[i]);
  }
  bool saw_url = false;
  bool saw_pair = false;
  for (const auto& f : named) {
    saw_url |= f.kind == feature_kind::url_host && f.name == "x.example.biz";
    saw_pair |= f.kind == feature_kind::osb && f.name == "cheap pills";
  }
  EXPECT_TRUE(saw_url);
  EXPECT_TRUE(saw_pair);
}

// Scoring sums weights while extracting (sum_weights) instead of storing the bag; it must agree with
// the margin of the bag that training sees, feature for feature, or scores drift from the model.
TEST(features, scoring_sum_matches_the_extracted_bag) {
  const auto options = small_options();
  model m(options);
  train_batch(m, featurise(toy_corpus(40, 3), options), training_options{});
  feature_extractor e(options);
  for (const auto& [raw, spam] : toy_corpus(10, 4)) {
    const auto parsed = pw::mime::parse(raw);
    const auto ids = e.extract(parsed);
    std::vector<std::uint32_t> bag(ids.begin(), ids.end());
    std::sort(bag.begin(), bag.end());
    EXPECT_EQ(std::adjacent_find(bag.begin(), bag.end()), bag.end()) << "a feature repeats in the bag";
    const float expected = m.margin(bag);
    const weight_sum sum = e.sum_weights(parsed, m.weights());
    EXPECT_EQ(sum.count, bag.size());
    EXPECT_NEAR(m.margin(sum), expected, 1e-4f * (1.0f + std::abs(expected)));
    EXPECT_NE(sum.sum, 0.0f);
  }
}

// Transport headers (added on the way) are not tokenised by default: their values name a
// collection's mailing lists and hosts more than the sender. Names still count, and so do the first
// Received hops and the sender-written headers' tokens.
TEST(features, transport_header_values_are_tokenised_only_when_asked) {
  const std::string raw =
      "Received: from relay.example.net by mx.example.org\r\nList-Id: <tips.lists.example.com>\r\n"
      "Sender: owner-tips@lists.example.com\r\n" +
      make_message("Hello", "Some text", "writer@example.org");
  const auto parsed = pw::mime::parse(raw);
  auto names = [&](const feature_options& o) {
    feature_extractor e(o);
    std::vector<std::string> out;
    for (const auto& f : e.extract_named(parsed)) {
      out.push_back(std::string(feature_kind_name(f.kind)) + " " + f.name);
    }
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  feature_options o = small_options();
  ASSERT_FALSE(o.transport_header_tokens);
  const auto off = names(o);
  EXPECT_FALSE(has(off, "header-token list-id:tips.lists.example.com"));
  EXPECT_FALSE(has(off, "header-token sender:owner-tips@lists.example.com"));
  EXPECT_TRUE(has(off, "header list-id"));
  EXPECT_TRUE(has(off, "header-token received:relay.example.net"));
  EXPECT_TRUE(has(off, "header-token from:writer@example.org"));
  o.transport_header_tokens = true;
  const auto on = names(o);
  EXPECT_TRUE(has(on, "header-token list-id:tips.lists.example.com"));
  EXPECT_TRUE(has(on, "header-token sender:owner-tips@lists.example.com"));
}

// The header block and the text have their own gram sizes.
TEST(features, header_and_text_gram_sizes_are_separate) {
  const std::string raw = make_message("Hello", "Some text", "writer@example.org");
  const auto parsed = pw::mime::parse(raw);
  auto gram_lengths = [&](const feature_options& o, feature_kind kind) {
    feature_extractor e(o);
    std::vector<std::size_t> lengths;
    for (const auto& f : e.extract_named(parsed)) {
      if (f.kind == kind && std::find(lengths.begin(), lengths.end(), f.name.size()) == lengths.end()) {
        lengths.push_back(f.name.size());
      }
    }
    std::sort(lengths.begin(), lengths.end());
    return lengths;
  };
  feature_options o = small_options();
  EXPECT_EQ(gram_lengths(o, feature_kind::header_gram), (std::vector<std::size_t>{4}));
  EXPECT_EQ(gram_lengths(o, feature_kind::text_gram), (std::vector<std::size_t>{2, 3, 4}));
  o.header_gram_sizes = (1u << 2) | (1u << 5);
  o.gram_sizes = 1u << 3;
  EXPECT_EQ(gram_lengths(o, feature_kind::header_gram), (std::vector<std::size_t>{2, 5}));
  EXPECT_EQ(gram_lengths(o, feature_kind::text_gram), (std::vector<std::size_t>{3}));
}

TEST(model, save_and_load_round_trip) {
  temp_dir dir;
  feature_options o = small_options();
  o.gram_sizes = 1u << 3;
  o.header_gram_sizes = (1u << 2) | (1u << 6);
  o.transport_header_tokens = true;
  o.text_prefix_bytes = 1234;
  model m(o);
  auto w = m.mutable_weights();
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = static_cast<float>(i % 97) * 0.01f - 0.3f;
  }
  m.set_bias(0.25f);
  m.set_calibration({2.0f, -0.5f});
  m.count_trained(true);
  const fs::path path = dir.path() / "m.model";
  ASSERT_TRUE(m.save(path));
  auto loaded = model::load(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_FALSE(loaded->trainable());
  EXPECT_EQ(loaded->options().hash_bits, 18u);
  EXPECT_EQ(loaded->options().gram_sizes, 1u << 3);
  EXPECT_EQ(loaded->options().header_gram_sizes, (1u << 2) | (1u << 6));
  EXPECT_TRUE(loaded->options().transport_header_tokens);
  EXPECT_EQ(loaded->options().text_prefix_bytes, 1234u);
  EXPECT_FLOAT_EQ(loaded->bias(), 0.25f);
  EXPECT_FLOAT_EQ(loaded->calib().a, 2.0f);
  EXPECT_FLOAT_EQ(loaded->calib().b, -0.5f);
  EXPECT_EQ(loaded->trained_spam(), 1u);
  ASSERT_EQ(loaded->weights().size(), w.size());
  EXPECT_TRUE(std::equal(w.begin(), w.end(), loaded->weights().begin()));
  auto updatable = model::load_for_update(path);
  ASSERT_TRUE(updatable);
  EXPECT_TRUE(updatable->trainable());
}

TEST(model, save_replaces_atomically_and_leaves_no_temporary_files) {
  temp_dir dir;
  const fs::path path = dir.path() / "m.model";
  model first(small_options());
  ASSERT_TRUE(first.save(path));
  model second(small_options());
  second.set_bias(1.0f);
  ASSERT_TRUE(second.save(path));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) {
    ++files;
  }
  EXPECT_EQ(files, 1u);
  auto loaded = model::load(path);
  ASSERT_TRUE(loaded);
  EXPECT_FLOAT_EQ(loaded->bias(), 1.0f);
}

TEST(model, load_rejects_damaged_files_with_a_reason) {
  temp_dir dir;
  const fs::path path = dir.path() / "m.model";
  model m(small_options());
  ASSERT_TRUE(m.save(path));
  const auto size = fs::file_size(path);

  auto corrupt_byte = [&](std::uintmax_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  };

  corrupt_byte(size - 3);  // a weight
  auto r = model::load(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pw::errc::corrupt);
  EXPECT_NE(r.error().message.find("checksum"), std::string::npos);

  ASSERT_TRUE(m.save(path));
  corrupt_byte(0);  // the magic
  r = model::load(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("magic"), std::string::npos);

  ASSERT_TRUE(m.save(path));
  fs::resize_file(path, size / 2);  // a torn file
  r = model::load(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pw::errc::corrupt);

  // A file of format version 1 (before the header gram sizes and transport tokens were recorded)
  // is refused by name, not read with guessed options.
  ASSERT_TRUE(m.save(path));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    const char version_1[4] = {1, 0, 0, 0};
    f.write(version_1, 4);
  }
  r = model::load(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pw::errc::invalid_input);
  EXPECT_NE(r.error().message.find("version 1 is not supported"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("retrain"), std::string::npos) << r.error().message;

  r = model::load(dir.path() / "missing.model");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pw::errc::io);
}

TEST(trainer, batch_training_separates_a_toy_corpus_and_calibrates) {
  const auto options = small_options();
  const auto train = featurise(toy_corpus(100, 1), options);
  model m(options);
  training_options t;
  train_batch(m, train, t);
  EXPECT_EQ(m.trained_spam() + m.trained_ham(), train.size());
  EXPECT_GT(m.calib().a, 0.0f);

  const auto test = toy_corpus(30, 2);
  classifier c(m);
  for (const auto& [raw, spam] : test) {
    const auto v = c.score(raw);
    if (spam) {
      EXPECT_GT(v.probability, 0.9);
    } else {
      EXPECT_LT(v.probability, 0.1);
    }
  }
}

TEST(trainer, online_learning_moves_the_score_towards_the_label) {
  model m(small_options());
  feature_extractor e(m.options());
  const std::string raw = make_message("Limited offer", "cheap pills for a limited time", "x@promo.example.biz");
  auto ids = e.extract(pw::mime::parse(raw));
  std::vector<std::uint32_t> bag(ids.begin(), ids.end());
  const float before = m.margin(bag);
  learn_one(m, bag, true, 0.5f);
  EXPECT_GT(m.margin(bag), before);
  learn_one(m, bag, false, 0.5f);
  learn_one(m, bag, false, 0.5f);
  EXPECT_LT(m.margin(bag), before + 1e-6f);
  EXPECT_EQ(m.trained_spam(), 1u);
  EXPECT_EQ(m.trained_ham(), 2u);
}

TEST(trainer, platt_fit_recovers_a_known_scale) {
  // Labels drawn from sigmoid(2x - 1): the fit should land near a = 2, b = -1.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> x(-4.0f, 4.0f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<labelled_margin> samples;
  for (int i = 0; i < 20000; ++i) {
    const float m = x(rng);
    samples.push_back({m, u(rng) < 1.0 / (1.0 + std::exp(-(2.0 * m - 1.0)))});
  }
  const calibration c = fit_platt(samples);
  EXPECT_NEAR(c.a, 2.0, 0.15);
  EXPECT_NEAR(c.b, -1.0, 0.15);
}

TEST(classifier, explain_names_the_strongest_features) {
  const auto options = small_options();
  model m(options);
  train_batch(m, featurise(toy_corpus(100, 3), options), training_options{});
  classifier c(m);
  const std::string spam = make_message("WINNER", "cheap pills prize winner casino http://promo1.example.biz/",
                                        "deals@promo.example.biz");
  ASSERT_GT(c.score(spam).probability, 0.5);
  const auto why = c.explain(spam, 5, true);
  ASSERT_EQ(why.size(), 5u);
  EXPECT_GE(why[0].margin_share, why[4].margin_share);
  for (const auto& f : why) {
    EXPECT_GT(f.margin_share, 0.0);  // a spam verdict is explained by its spam evidence
  }
  const auto why_not = c.explain(spam, 3, false);
  ASSERT_EQ(why_not.size(), 3u);
  EXPECT_LE(why_not[0].margin_share, why_not[2].margin_share);  // most ham-like first
}

TEST(classifier, never_fails_on_garbage) {
  model m(small_options());
  classifier c(m);
  std::mt19937_64 rng(11);
  for (int i = 0; i < 50; ++i) {
    std::string garbage(static_cast<std::size_t>(rng() % 5000), '\0');
    for (auto& ch : garbage) {
      ch = static_cast<char>(rng());
    }
    const auto v = c.score(garbage);
    EXPECT_GE(v.probability, 0.0);
    EXPECT_LE(v.probability, 1.0);
  }
  EXPECT_NEAR(c.score("").probability, 0.5, 1e-9);
}

TEST(privacy, model_file_holds_no_message_text) {
  // The model keeps hashed weights only: no subject, word or address of a training message.
  temp_dir dir;
  const std::string marker_subject = "Quarterly zebraunicorn report";
  const std::string marker_body = "the secret passphrase is marmaladeoctopus";
  std::vector<std::pair<std::string, bool>> corpus = toy_corpus(20, 5);
  corpus.emplace_back(make_message(marker_subject, marker_body, "ceo@private.example"), false);
  const auto options = small_options();
  model m(options);
  train_batch(m, featurise(corpus, options), training_options{});
  const fs::path path = dir.path() / "m.model";
  ASSERT_TRUE(m.save(path));
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const std::string needle : {"zebraunicorn", "marmaladeoctopus", "private.example", "Quarterly", "secret"}) {
    EXPECT_EQ(bytes.find(needle), std::string::npos) << needle;
  }
}
