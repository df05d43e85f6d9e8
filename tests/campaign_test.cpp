// campaign::tracker: activation at k distinct subscribers, single-sender bulk, expiry, eviction,
// snapshots, k-anonymity of views, and privacy of blobs and views.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "campaign/tracker.hpp"
#include "fingerprint/fingerprint.hpp"

namespace {

using namespace pw;
constexpr std::int64_t minute = 60'000;

fingerprint::fingerprinter& fp() {
  static auto f = fingerprint::fingerprinter::create("campaign test secret");
  return f.value();
}

// Words of letters only (the normaliser folds digit runs, so numbered words would all be alike).
std::string word_of(std::uint32_t x) {
  std::string w;
  for (int i = 0; i < 6; ++i, x /= 26) {
    w.push_back(static_cast<char>('a' + x % 26));
  }
  return w;
}

std::string body_of(int template_id, int variant) {
  std::mt19937 rng(static_cast<unsigned>(template_id * 1000 + variant));
  std::string s = "Subject: Offer " + std::to_string(variant) + "\r\nTo: r" + std::to_string(variant) +
                  "@isp.example\r\n\r\nDear R" + std::to_string(variant) + ",\n";
  std::mt19937 trng(static_cast<unsigned>(template_id));
  for (int i = 0; i < 120; ++i) {
    s += word_of(static_cast<std::uint32_t>(trng())) + " ";
  }
  s += "http://www.site" + std::to_string(template_id) + ".example.com/x\n";
  for (int i = 0; i < 15; ++i) {
    s += word_of(static_cast<std::uint32_t>(rng())) + " ";  // hash-buster tail
  }
  return s;
}

fingerprint::signature sig_of(int template_id, int variant) {
  return fp().compute_raw(body_of(template_id, variant), {});
}

campaign::tracker make(campaign::tracker_settings s = {}) {
  return campaign::tracker(s, fp().opts().bins, "campaign test secret");
}

TEST(campaign, activates_at_k_distinct_subscribers) {
  auto t = make();
  const auto m1 = t.observe(sig_of(1, 1), "sub-a", 1000 * minute);
  EXPECT_TRUE(m1.new_campaign);
  EXPECT_EQ(m1.id.size(), 18u);
  EXPECT_EQ(m1.id.substr(0, 2), "c-");
  const auto m2 = t.observe(sig_of(1, 2), "sub-b", 1001 * minute);
  EXPECT_EQ(m2.id, m1.id);
  EXPECT_FALSE(m2.active);
  EXPECT_EQ(m2.distinct_subscribers, 2u);
  const auto m3 = t.observe(sig_of(1, 3), "sub-c", 1002 * minute);
  EXPECT_EQ(m3.id, m1.id);
  EXPECT_TRUE(m3.active);
  EXPECT_EQ(m3.messages, 3u);
  EXPECT_EQ(m3.first_seen_ms, 1000 * minute);
  // A different template is a different campaign.
  const auto other = t.observe(sig_of(2, 1), "sub-a", 1003 * minute);
  EXPECT_NE(other.id, m1.id);
  EXPECT_TRUE(other.new_campaign);
}

TEST(campaign, one_sender_bulk_is_never_active) {
  // 3,000 personalised copies (greeting name and recipient change): one campaign, one subscriber.
  auto t = make();
  campaign::membership m;
  std::string body = "Subject: News\r\n\r\nDear NAME,\n";
  for (int i = 0; i < 150; ++i) {
    // Prose carries function words; a text of nothing but random words would be word salad.
    body += word_of(static_cast<std::uint32_t>(i * 7919)) + (i % 6 == 5 ? " of the " : " ");
  }
  for (int i = 0; i < 3000; ++i) {
    std::string copy = body;
    const std::string name = word_of(static_cast<std::uint32_t>(i + 5));
    copy.replace(copy.find("NAME"), 4, name);
    const std::string rcpt = name + "@isp.example";
    const std::string_view env[] = {rcpt};
    m = t.observe(fp().compute_raw(copy, env), "newsletter-sender", 1000 * minute + i * 100);
  }
  EXPECT_EQ(m.messages, 3000u);
  EXPECT_EQ(m.distinct_subscribers, 1u);
  EXPECT_FALSE(m.active);
  EXPECT_EQ(t.size(), 1u);

  // With a 15-word hash-buster tail on a text without function words (similarity ~0.8) the band
  // index misses some early variants, and each miss starts a campaign later copies split into:
  // however it splits, one sender is one subscriber and never active.
  auto u = make();
  for (int i = 0; i < 3000; ++i) {
    m = u.observe(sig_of(3, i), "newsletter-sender", 1000 * minute + i * 100);
    EXPECT_EQ(m.distinct_subscribers, 1u);
    EXPECT_FALSE(m.active);
  }
  EXPECT_LE(u.size(), 20u);
}

TEST(campaign, sketch_beyond_exact_cap_counts_distinct) {
  auto t = make();
  campaign::membership m;
  for (int i = 0; i < 400; ++i) {
    m = t.observe(sig_of(4, i), "sub-" + std::to_string(i), 1000 * minute + i);
  }
  EXPECT_NEAR(static_cast<double>(m.distinct_subscribers), 400.0, 400 * 0.2);
  EXPECT_TRUE(m.active);
}

TEST(campaign, window_and_expiry) {
  campaign::tracker_settings s;
  s.window_ms = 60 * minute;
  s.expire_idle_ms = 24 * 60 * minute;
  auto t = make(s);
  t.observe(sig_of(5, 1), "a", 0);
  t.observe(sig_of(5, 2), "b", 1 * minute);
  // Third subscriber hours later: the first two are outside the window.
  const auto late = t.observe(sig_of(5, 3), "c", 300 * minute);
  EXPECT_FALSE(late.active);
  EXPECT_EQ(late.distinct_subscribers, 1u);
  EXPECT_EQ(late.distinct_subscribers_total, 3u);
  EXPECT_EQ(t.collect_changes().updated.size(), 1u);
  EXPECT_EQ(t.expire(301 * minute), 0u);
  EXPECT_EQ(t.expire(300 * minute + 24 * 60 * minute), 1u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.collect_changes().removed.size(), 1u);
}

TEST(campaign, bounded_with_eviction_of_least_recently_seen) {
  campaign::tracker_settings s;
  s.max_campaigns = 50;
  s.eviction_sample = 50;
  auto t = make(s);
  const auto kept = t.observe(sig_of(100, 1), "a", 0);
  for (int i = 0; i < 200; ++i) {
    t.observe(sig_of(200 + i, 1), "x", (i + 1) * minute);
    t.observe(sig_of(100, 2 + i), "a", (i + 1) * minute);  // keeps template 100 recent
  }
  EXPECT_LE(t.size(), 50u);
  EXPECT_EQ(t.observe(sig_of(100, 999), "b", 300 * minute).id, kept.id);
}

TEST(campaign, snapshot_round_trip_and_corrupt_refusal) {
  auto t = make();
  std::string id;
  for (int i = 0; i < 5; ++i) {
    id = t.observe(sig_of(6, i), "s" + std::to_string(i), 1000 * minute + i).id;
  }
  t.observe(sig_of(7, 1), "lonely", 1000 * minute);  // a campaign of one is not snapshotted
  const auto ch = t.collect_changes();
  ASSERT_EQ(ch.updated.size(), 1u);
  EXPECT_EQ(ch.updated[0].id, id);
  EXPECT_TRUE(t.collect_changes().updated.empty());

  auto u = make();
  ASSERT_TRUE(u.restore(ch.updated[0].id, ch.updated[0].blob).has_value());
  auto found = u.find(id, 1000 * minute + 10);
  ASSERT_TRUE(found.found());
  EXPECT_EQ(found->messages, 5u);
  EXPECT_EQ(found->distinct_subscribers, 5u);
  const auto again = u.observe(sig_of(6, 77), "s9", 1000 * minute + 20);
  EXPECT_EQ(again.id, id);
  EXPECT_EQ(again.messages, 6u);

  auto blob = ch.updated[0].blob;
  blob[5] ^= std::byte{1};
  EXPECT_EQ(u.restore(id, blob).error().code, errc::corrupt);
  blob = ch.updated[0].blob;
  blob.resize(blob.size() / 2);
  EXPECT_FALSE(u.restore(id, blob).has_value());
  EXPECT_FALSE(u.restore(id, {}).has_value());
  EXPECT_FALSE(u.restore("c-0000000000000000", ch.updated[0].blob).has_value());
}

TEST(campaign, k_anonymity_of_views) {
  auto t = make();
  t.observe(sig_of(8, 1), "a", 1000 * minute);
  t.observe(sig_of(8, 2), "b", 1000 * minute);
  campaign::list_options all;
  all.active_only = false;
  auto views = t.list(1000 * minute, all);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_FALSE(views[0].shown.has_value());
  EXPECT_TRUE(t.list(1000 * minute).empty());
  t.observe(sig_of(8, 3), "c", 1000 * minute);
  views = t.list(1000 * minute);
  ASSERT_EQ(views.size(), 1u);
  ASSERT_TRUE(views[0].shown.has_value());
  EXPECT_EQ(views[0].shown->url_domains, std::vector<std::string>{"example.com"});
  EXPECT_EQ(views[0].shown->first_seen_ms, 1000 * minute);
  EXPECT_EQ(views[0].shown->subject_shape.size(), 16u);
  // A stricter k for this call hides it again; a laxer one cannot go below the setting.
  all.evidence_k = 4;
  EXPECT_FALSE(t.list(1000 * minute, all)[0].shown.has_value());
}

TEST(campaign, privacy_no_message_text_in_blobs_or_views) {
  auto t = make();
  const std::string marker = "zebramarkerquokka";
  for (int i = 0; i < 5; ++i) {
    std::string raw = "Subject: " + marker + " offer\r\nTo: " + marker + "@isp.example\r\n\r\n";
    for (int w = 0; w < 60; ++w) {
      raw += marker + std::to_string(w % 7) + " plain words here ";
    }
    t.observe(fp().compute_raw(raw, {}), "sub" + std::to_string(i), 1000 * minute);
  }
  const auto ch = t.collect_changes();
  ASSERT_FALSE(ch.updated.empty());
  for (const auto& r : ch.updated) {
    const std::string bytes(reinterpret_cast<const char*>(r.blob.data()), r.blob.size());
    EXPECT_EQ(bytes.find("zebra"), std::string::npos);
    EXPECT_EQ(bytes.find("quokka"), std::string::npos);
    EXPECT_EQ(bytes.find("plain"), std::string::npos);
  }
  for (const auto& v : t.list(1000 * minute)) {
    std::string all = v.id;
    if (v.shown) {
      all += v.shown->subject_shape;
      for (const auto& d : v.shown->url_domains) {
        all += d;
      }
    }
    EXPECT_EQ(all.find("zebra"), std::string::npos);
  }
}

TEST(campaign, validate_settings) {
  campaign::tracker_settings s;
  EXPECT_TRUE(campaign::validate(s, 32).has_value());
  s.bands = 40;
  EXPECT_FALSE(campaign::validate(s, 32).has_value());
}

}  // namespace

TEST(campaign, restored_campaign_found_through_its_first_member) {
  // Only the first member indexed: after restore its band keys must be rebuilt from the
  // representative, or the campaign could never be joined again.
  campaign::tracker_settings s;
  s.indexed_members = 1;
  auto t = make(s);
  const std::string id = t.observe(sig_of(40, 1), "a", 1000 * minute).id;
  EXPECT_EQ(t.observe(sig_of(40, 2), "b", 1000 * minute + 1).id, id);
  const auto ch = t.collect_changes();
  ASSERT_EQ(ch.updated.size(), 1u);
  auto u = make(s);
  ASSERT_TRUE(u.restore(ch.updated[0].id, ch.updated[0].blob).has_value());
  ASSERT_TRUE(u.restore(ch.updated[0].id, ch.updated[0].blob).has_value());  // twice: replaced, not doubled
  EXPECT_EQ(u.size(), 1u);
  EXPECT_EQ(u.observe(sig_of(40, 1), "c", 1000 * minute + 2).id, id);
}

TEST(campaign, ids_and_templates_found_across_index_growth_and_expiry) {
  auto t = make();
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) {  // several rebuilds of both tables
    ids.push_back(t.observe(sig_of(1000 + i, 1), "s", (i < 1500 ? 0 : 100) * minute + i).id);
  }
  EXPECT_EQ(t.size(), 3000u);
  for (int i = 0; i < 3000; i += 7) {
    ASSERT_TRUE(t.find(ids[static_cast<std::size_t>(i)], 100 * minute, 1).found()) << i;
  }
  EXPECT_FALSE(t.find("c-0123456789abcdef", 100 * minute).found());
  EXPECT_FALSE(t.find("not an id", 100 * minute).found());
  campaign::tracker_settings s;
  EXPECT_EQ(t.expire(s.expire_idle_ms + 50 * minute), 1500u);
  for (int i = 0; i < 3000; i += 7) {
    EXPECT_EQ(t.find(ids[static_cast<std::size_t>(i)], 100 * minute, 1).found(), i >= 1500) << i;
  }
  for (int i = 1500; i < 3000; i += 50) {
    EXPECT_EQ(t.observe(sig_of(1000 + i, 1), "t", s.expire_idle_ms + 60 * minute).id, ids[static_cast<std::size_t>(i)]);
  }
}

TEST(campaign, short_texts_join_only_identical_ones) {
  auto t = make();
  auto short_sig = [](std::string_view body) {
    return fp().compute_raw("Subject: s\r\n\r\n" + std::string(body), {});
  };
  const auto a = t.observe(short_sig("see you at the meeting tomorrow then bring the slides"), "a", 0);
  EXPECT_FALSE(t.observe(short_sig("see you at the meeting tomorrow then bring the notes"), "b", 1).id == a.id);
  EXPECT_EQ(t.observe(short_sig("see you at the meeting tomorrow then bring the slides"), "c", 2).id, a.id);
}

TEST(campaign, image_only_variant_joins_its_text_campaign_by_subject) {
  auto t = make();
  auto text_variant = [](int v, std::string_view subject) {
    std::string raw = "Subject: " + std::string(subject) + "\r\n\r\n" + body_of(50, v).substr(body_of(50, v).find("Dear"));
    return fp().compute_raw(raw, {});
  };
  auto image_variant = [](std::string_view subject) {
    return fp().compute_raw("Subject: " + std::string(subject) +
                                "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
                                "Content-Type: image/gif\r\n\r\n" + std::string(700, 'G') + "\r\n--B--\r\n",
                            {});
  };
  const std::string id = t.observe(text_variant(1, "Cheap watches for everyone today"), "a", 0).id;
  EXPECT_EQ(t.observe(text_variant(2, "Re: cheap WATCHES for everyone today"), "b", 1).id, id);
  EXPECT_EQ(t.observe(text_variant(3, "Best replicas shipped to your door"), "c", 2).id, id);
  // An image-only variant whose subject the campaign has carried (reply prefix and case aside).
  const auto img = t.observe(image_variant("Fwd: Best replicas shipped to your door"), "d", 3);
  EXPECT_EQ(img.id, id);
  EXPECT_TRUE(img.joined_by_attachment);
  // Its image now links image-only variants with subjects the campaign has not carried.
  EXPECT_EQ(t.observe(image_variant("A subject never seen before here"), "e", 4).id, id);
  // No text, an unknown subject and an unknown image: a campaign of its own.
  EXPECT_NE(t.observe(fp().compute_raw("Subject: Holiday photos from the lake\r\nMIME-Version: 1.0\r\nContent-Type: "
                                       "multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n" +
                                       std::string(700, 'J') + "\r\n--B--\r\n", {}),
                      "f", 5).id,
            id);
}

TEST(campaign, text_campaign_takes_over_images_that_came_first) {
  auto t = make();
  auto text_variant = [](int v, std::string_view subject) {
    std::string raw = "Subject: " + std::string(subject) + "\r\n\r\n" + body_of(60, v).substr(body_of(60, v).find("Dear"));
    return fp().compute_raw(raw, {});
  };
  auto image_variant = [](std::string_view subject) {
    return fp().compute_raw("Subject: " + std::string(subject) +
                                "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
                                "Content-Type: image/gif\r\n\r\n" + std::string(700, 'H') + "\r\n--B--\r\n",
                            {});
  };
  // Image-only variants before any text member carried their subjects: a campaign of images.
  const std::string images = t.observe(image_variant("Genuine replicas at half price"), "a", 0).id;
  EXPECT_EQ(t.observe(image_variant("Order your replica today friend"), "b", 1).id, images);
  const std::string text = t.observe(text_variant(1, "Cheap watches for everyone today"), "c", 2).id;
  EXPECT_NE(text, images);
  // The text campaign's second member carries a subject the image campaign has seen: its image
  // now leads to the text campaign, so a later image-only variant with a new subject goes there.
  EXPECT_EQ(t.observe(text_variant(2, "Re: order your replica TODAY friend"), "d", 3).id, text);
  const auto later = t.observe(image_variant("A subject nobody carried before"), "e", 4);
  EXPECT_EQ(later.id, text);
  EXPECT_TRUE(later.joined_by_attachment);
  // The images' campaign was folded into the text campaign: its id leads there, and its messages
  // and subscribers count there (a, b with the images; c, d with text; e later): active at k = 3.
  EXPECT_EQ(t.size(), 1u);
  const auto old = t.find(images, 5 * minute);
  ASSERT_TRUE(old.found());
  EXPECT_EQ(old->id, text);
  EXPECT_EQ(old->messages, 5u);
  EXPECT_EQ(old->distinct_subscribers, 5u);
  EXPECT_TRUE(old->active);
  // A later image-only variant with a subject only the images' campaign had carried joins too.
  EXPECT_EQ(t.observe(image_variant("Genuine replicas at half price"), "f", 5).id, text);

  // The fold survives a snapshot: the restored campaign answers to both ids (blob version 3).
  const auto ch = t.collect_changes();
  ASSERT_EQ(ch.updated.size(), 1u);
  auto u = make();
  ASSERT_TRUE(u.restore(ch.updated[0].id, ch.updated[0].blob).has_value());
  const auto restored = u.find(images, 6 * minute);
  ASSERT_TRUE(restored.found());
  EXPECT_EQ(restored->id, text);
  EXPECT_EQ(restored->messages, 6u);
}

TEST(campaign, version_2_blobs_are_still_restored) {
  auto t = make();
  std::string id;
  for (int i = 0; i < 3; ++i) {
    id = t.observe(sig_of(8, i), "s" + std::to_string(i), minute + i).id;
  }
  auto blob = t.collect_changes().updated.at(0).blob;
  // Version 2 is version 3 without the absorbed-ids count (0 here) before the checksum.
  ASSERT_EQ(blob[0], std::byte{3});
  ASSERT_EQ(blob[blob.size() - 9], std::byte{0});
  blob.erase(blob.end() - 9);
  blob[0] = std::byte{2};
  const std::uint64_t check = XXH3_64bits(blob.data(), blob.size() - 8);
  for (int i = 0; i < 8; ++i) {
    blob[blob.size() - 8 + i] = static_cast<std::byte>(check >> (8 * i));
  }
  auto u = make();
  ASSERT_TRUE(u.restore(id, blob).has_value());
  const auto found = u.find(id, 2 * minute);
  ASSERT_TRUE(found.found());
  EXPECT_EQ(found->messages, 3u);
  blob[0] = std::byte{1};
  EXPECT_FALSE(u.restore(id, blob).has_value());
}
