// tests/sim_test.cpp — pw::sim::campaign_mutator: determinism, each mutation alone, valid MIME.
//
// Templates are written inline (no corpus needed): a single-part plain message, a multipart/alternative
// with a quoted-printable plain part and a base64 HTML part, and a CRLF message. Each mutation is
// switched on alone and checked for what its contract says, then all together for MIME validity.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "mime/message.hpp"
#include "sim/campaign_mutator.hpp"

namespace {

using namespace std::string_literals;
using pw::sim::campaign_mutator;
using pw::sim::mutation;
using pw::sim::mutation_settings;

constexpr std::string_view plain_template =
    "From spammer@example.net  Tue Aug  6 11:51:02 2002\n"
    "From: \"Best Deals\" <deals@shop-example.com>\n"
    "To: list@example.org\n"
    "Subject: Cheap watches for you today\n"
    "Date: Tue, 6 Aug 2002 11:00:00 +0000\n"
    "Message-ID: <abc123@shop-example.com>\n"
    "\n"
    "Hello friend,\n"
    "\n"
    "We have the finest replica watches at prices you will not believe.\n"
    "Visit http://www.shop-example.com/buy?id=12 today, or see pictures at\n"
    "http://img.pics-host.co.uk/w.html and order now.\n"
    "\n"
    "Best regards, the team\n";

constexpr std::string_view alternative_template =
    "From: offers@pharma-example.net\n"
    "To: someone@example.org\n"
    "Subject: =?UTF-8?B?R8O8bnN0aWdlIE1lZGlrYW1lbnRl?=\n"
    "Date: Tue, 6 Aug 2002 11:00:00 +0000\n"
    "Message-ID: <x1@pharma-example.net>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"BOUND\"\n"
    "\n"
    "--BOUND\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "G=C3=BCnstige Medikamente ohne Rezept. Bestellen Sie jetzt bei\n"
    "http://www.pharma-example.net/shop und sparen Sie.\n"
    "--BOUND\n"
    "Content-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "PGh0bWw+PGhlYWQ+PHN0eWxlPnAgeyBjb2xvcjogcmVkOyB9PC9zdHlsZT48L2hlYWQ+PGJvZHk+\n"
    "PHA+R8O8bnN0aWdlIE1lZGlrYW1lbnRlIG9obmUgUmV6ZXB0LiBCZXN0ZWxsZW4gU2llIGpldHp0\n"
    "IGJlaSA8YSBocmVmPSJodHRwOi8vd3d3LnBoYXJtYS1leGFtcGxlLm5ldC9zaG9wIj51bnNlcmVt\n"
    "IFNob3A8L2E+IHVuZCBzcGFyZW4gU2llLjwvcD48L2JvZHk+PC9odG1sPgo=\n"
    "--BOUND--\n";

std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

mutation_settings only(mutation m) {
  mutation_settings s;
  s.enabled = m;
  return s;
}

campaign_mutator make_mutator(std::string_view raw, std::uint64_t seed, const mutation_settings& s) {
  auto m = campaign_mutator::create(raw, seed, s);
  EXPECT_TRUE(m.has_value());
  return std::move(*m);
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

std::set<std::string> hosts_of(const pw::mime::message& m) {
  std::set<std::string> out;
  for (const auto& u : m.urls) {
    out.insert(u.host);
  }
  return out;
}

std::size_t text_parts(const pw::mime::message& m) {
  return static_cast<std::size_t>(std::count_if(
      m.parts.begin(), m.parts.end(), [](const pw::mime::part& p) { return p.content_type.starts_with("text/"); }));
}

TEST(CampaignMutator, DeterministicPerSeedAndRandomAccess) {
  const auto a = make_mutator(alternative_template, 42, {});
  const auto b = make_mutator(alternative_template, 42, {});
  const auto c = make_mutator(alternative_template, 43, {});
  for (std::uint64_t i : {0u, 1u, 69u, 70u, 500u}) {
    EXPECT_EQ(a.make(i).raw, b.make(i).raw) << i;
    EXPECT_NE(a.make(i).raw, c.make(i).raw) << i;
  }
  // Random access: variant 7 is the same whether or not 0..6 were made first.
  const auto d = make_mutator(alternative_template, 42, {});
  EXPECT_EQ(d.make(7).raw, a.make(7).raw);
  EXPECT_NE(a.make(7).raw, a.make(8).raw);
  EXPECT_EQ(a.subject_pool(), b.subject_pool());
  EXPECT_EQ(a.images(), b.images());
  EXPECT_NE(a.images(), c.images());
}

TEST(CampaignMutator, RefusesSettingsThatMakeNoSense) {
  mutation_settings s;
  s.hash_buster_min_words = 50;
  s.hash_buster_max_words = 20;
  EXPECT_FALSE(campaign_mutator::create(plain_template, 1, s).has_value());
  s = {};
  s.domain_rotation_period = 0;
  EXPECT_FALSE(campaign_mutator::create(plain_template, 1, s).has_value());
  s = {};
  s.image_only_share = 1.5;
  EXPECT_FALSE(campaign_mutator::create(plain_template, 1, s).has_value());
  s = {};
  s.subject_pool_size = 0;
  EXPECT_FALSE(campaign_mutator::create(plain_template, 1, s).has_value());
}

TEST(CampaignMutator, HashBusterAppendsTwentyToHundredDictionaryWords) {
  const auto m = make_mutator(plain_template, 1, only(mutation::hash_buster));
  const auto base = words_of(pw::mime::parse(plain_template).text);
  std::set<std::size_t> counts;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const auto v = m.make(i);
    EXPECT_EQ(v.applied, mutation::hash_buster);
    const auto words = words_of(pw::mime::parse(v.raw).text);
    ASSERT_GE(words.size(), base.size() + 20);
    ASSERT_LE(words.size(), base.size() + 100);
    EXPECT_TRUE(std::equal(base.begin(), base.end(), words.begin())) << "template text kept in front";
    for (std::size_t k = base.size(); k < words.size(); ++k) {
      EXPECT_TRUE(std::all_of(words[k].begin(), words[k].end(), [](char c) { return c >= 'a' && c <= 'z'; }))
          << words[k];
    }
    counts.insert(words.size() - base.size());
  }
  EXPECT_GT(counts.size(), 30u) << "the count is drawn per variant";
  // In HTML the words go inside the body, before </body>.
  const auto h = make_mutator(alternative_template, 1, only(mutation::hash_buster)).make(3);
  const auto parsed = pw::mime::parse(h.raw);
  std::string html;
  for (const auto& p : parsed.parts) {
    if (p.content_type == "text/html") {
      pw::mime::anomaly ignored{};
      html = pw::mime::decode_body(p, ignored);
    }
  }
  const auto words_at = html.rfind("<p>");
  ASSERT_NE(words_at, std::string::npos);
  EXPECT_LT(words_at, html.find("</body>"));
}

TEST(CampaignMutator, DomainsRotateEverySeventyVariantsInTheSameSlots) {
  const auto m = make_mutator(plain_template, 5, only(mutation::domain_rotation));
  ASSERT_EQ(m.template_domains(), (std::vector<std::string>{"pics-host.co.uk", "shop-example.com"}));
  const auto hosts = [&](std::uint64_t i) { return hosts_of(pw::mime::parse(m.make(i).raw)); };
  const auto first = hosts(0);
  ASSERT_EQ(first.size(), 2u);
  for (const auto& h : first) {
    EXPECT_EQ(h.find("shop-example.com"), std::string::npos);
    EXPECT_EQ(h.find("pics-host.co.uk"), std::string::npos);
  }
  EXPECT_TRUE(first.contains("www." + m.rotated_domain(1, 0))) << "subdomain labels kept";
  EXPECT_TRUE(first.contains("img." + m.rotated_domain(0, 0)));
  for (std::uint64_t i = 1; i < 70; ++i) {
    EXPECT_EQ(hosts(i), first) << i;
    EXPECT_EQ(m.make(i).domain_generation, 0u);
  }
  const auto second = hosts(70);
  EXPECT_EQ(m.make(70).domain_generation, 1u);
  EXPECT_NE(second, first);
  EXPECT_EQ(hosts(139), second);
  EXPECT_NE(hosts(140), second);
  // Only the domains change: the URL paths stay in their slots.
  EXPECT_NE(m.make(0).raw.find("/buy?id=12"), std::string::npos);
}

TEST(CampaignMutator, SubjectsComeFromAPoolOfThirty) {
  const auto m = make_mutator(plain_template, 9, only(mutation::subject_rotation));
  const auto& pool = m.subject_pool();
  ASSERT_EQ(pool.size(), 30u);
  EXPECT_EQ(pool[0], "Cheap watches for you today");
  EXPECT_EQ(std::set<std::string>(pool.begin(), pool.end()).size(), 30u);
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < 600; ++i) {
    const auto v = m.make(i);
    const auto subject = pw::mime::parse(v.raw).subject;
    ASSERT_LT(v.subject_index, 30u);
    EXPECT_EQ(subject, pool[v.subject_index]);
    seen.insert(subject);
  }
  EXPECT_EQ(seen.size(), 30u);
  // A non-ASCII subject is written back as RFC 2047 and decodes to the pool entry.
  const auto u = make_mutator(alternative_template, 9, only(mutation::subject_rotation));
  EXPECT_EQ(u.subject_pool()[0], "Günstige Medikamente");
  for (std::uint64_t i = 0; i < 50; ++i) {
    const auto v = u.make(i);
    const auto parsed = pw::mime::parse(v.raw);
    EXPECT_EQ(parsed.subject, u.subject_pool()[v.subject_index]);
    EXPECT_FALSE(pw::mime::has(parsed.anomalies, pw::mime::anomaly::eight_bit_header));
  }
}

TEST(CampaignMutator, PersonalisationNamesTheRecipient) {
  const auto m = make_mutator(alternative_template, 3, only(mutation::personalisation));
  std::set<std::string> addresses;
  for (std::uint64_t i = 0; i < 50; ++i) {
    const auto v = m.make(i);
    const auto parsed = pw::mime::parse(v.raw);
    const auto* to = parsed.find("To");
    ASSERT_NE(to, nullptr);
    EXPECT_NE(to->value.find(v.to.address), std::string::npos);
    EXPECT_NE(to->value.find(v.to.name), std::string::npos);
    const std::string first = v.to.name.substr(0, v.to.name.find(' '));
    EXPECT_NE(parsed.text.find("Dear " + first + ","), std::string::npos);
    EXPECT_NE(parsed.text.find("sent to " + v.to.address), std::string::npos);
    EXPECT_TRUE(v.to.address.ends_with(".example.com") || v.to.address.ends_with("example.com") ||
                v.to.address.ends_with("example.net") || v.to.address.ends_with("example.org"));
    addresses.insert(v.to.address);
  }
  EXPECT_GT(addresses.size(), 45u);
}

TEST(CampaignMutator, WhitespaceNoiseKeepsTheWords) {
  mutation_settings s = only(mutation::whitespace_noise);
  s.whitespace_noise_rate = 0.5;
  const auto m = make_mutator(plain_template, 4, s);
  const auto base = pw::mime::parse(plain_template);
  std::size_t changed = 0;
  for (std::uint64_t i = 0; i < 20; ++i) {
    const auto v = m.make(i);
    const auto parsed = pw::mime::parse(v.raw);
    EXPECT_EQ(words_of(parsed.text), words_of(base.text));
    changed += parsed.text != base.text ? 1 : 0;
  }
  EXPECT_GT(changed, 15u);
}

TEST(CampaignMutator, HtmlNoiseOnlyInHtmlOutsideTags) {
  mutation_settings s = only(mutation::html_noise);
  s.html_noise_rate = 1.0;
  const auto plain = make_mutator(plain_template, 4, s).make(0);
  EXPECT_EQ(plain.applied, mutation::none) << "no HTML part, nothing to do";
  const auto m = make_mutator(alternative_template, 4, s);
  const auto base = pw::mime::parse(alternative_template);
  const auto v = m.make(0);
  EXPECT_EQ(v.applied, mutation::html_noise);
  const auto parsed = pw::mime::parse(v.raw);
  std::string html;
  for (const auto& p : parsed.parts) {
    if (p.content_type == "text/html") {
      pw::mime::anomaly ignored{};
      html = pw::mime::decode_body(p, ignored);
    }
  }
  EXPECT_NE(html.find("<style>p { color: red; }</style>"), std::string::npos) << "style left alone";
  EXPECT_NE(html.find("<a href=\"http://www.pharma-example.net/shop\">"), std::string::npos) << "tags left alone";
  const bool noise = html.find("<!-- ") != std::string::npos || html.find("display:none") != std::string::npos ||
                     html.find("></") != std::string::npos;
  EXPECT_TRUE(noise);
  EXPECT_EQ(hosts_of(parsed), hosts_of(base));
}

TEST(CampaignMutator, ImageOnlyVariantsHaveNoTextPart) {
  mutation_settings s = only(mutation::image_only);
  s.image_only_share = 1.0;
  EXPECT_EQ(make_mutator(alternative_template, 8, s).images().size(), 1u) << "one image per campaign by default";
  s.image_pool_size = 3;
  const auto m = make_mutator(alternative_template, 8, s);
  ASSERT_EQ(m.images().size(), 3u);
  std::set<std::uint32_t> used;
  for (std::uint64_t i = 0; i < 30; ++i) {
    const auto v = m.make(i);
    EXPECT_EQ(v.applied, mutation::image_only);
    const auto parsed = pw::mime::parse(v.raw);
    EXPECT_EQ(text_parts(parsed), 0u);
    EXPECT_TRUE(parsed.text.empty());
    std::size_t images = 0;
    for (const auto& p : parsed.parts) {
      if (p.content_type == "image/gif") {
        ++images;
        EXPECT_TRUE(p.is_attachment);
        pw::mime::anomaly found{};
        const auto bytes = pw::mime::decode_body(p, found);
        EXPECT_EQ(found, pw::mime::anomaly::none);
        EXPECT_EQ(bytes, m.images()[v.image_index]);
        EXPECT_TRUE(bytes.starts_with("GIF89a"));
        EXPECT_TRUE(bytes.ends_with(";"));
      }
    }
    EXPECT_EQ(images, 1u);
    EXPECT_EQ(parsed.anomalies, pw::mime::anomaly::none);
    used.insert(v.image_index);
  }
  EXPECT_EQ(used.size(), 3u);
  // The default share is 10 %.
  const auto d = make_mutator(plain_template, 8, {});
  std::size_t image_only = 0;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    image_only += pw::sim::has(d.make(i).applied, mutation::image_only) ? 1 : 0;
  }
  EXPECT_GT(image_only, 150u);
  EXPECT_LT(image_only, 250u);
}

TEST(CampaignMutator, HostileTemplatesGiveBestEffortVariants) {
  std::vector<std::string> templates = {
      "",
      "\n",
      "\r\n\r\n",
      "Subject: no body, no separator",
      "Subject: x\n\n",
      "Subject: nul\n\nbinary\0bytes\xff\xfe here http://a.b.example.com/\n"s,
      "Content-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nno boundary declared\n",
      "Content-Type: multipart/alternative; boundary=q\n\n--q\nContent-Type: text/html\n\n<b unterminated tag",
      "Content-Type: text/html\n\n<html><body><!-- unterminated comment http://x.example.net/",
      "Content-Type: text/html\n\n<style>p { } http://x.example.net/ never closed",
      "Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n//5oAGkA\n",
      "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!! not base64 ====\n",
      "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=ZZ broken =\n",
  };
  std::string noise(20000, '\0');
  std::uint64_t x = 12345;
  for (auto& ch : noise) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    ch = static_cast<char>(x >> 56);
  }
  templates.push_back(noise);
  for (const auto& raw : templates) {
    const auto m = make_mutator(raw, 1, {});
    for (std::uint64_t i = 0; i < 40; ++i) {
      const auto v = m.make(i);
      EXPECT_FALSE(v.raw.empty());
      const auto parsed = pw::mime::parse(v.raw);
      EXPECT_FALSE(parsed.parts.empty());
    }
  }
  // A UTF-16 text part is left as it was (ASCII inserted there would corrupt it).
  EXPECT_EQ(make_mutator(templates[10], 1, {}).mutable_text_parts(), 0u);
}

TEST(CampaignMutator, AllMutationsGiveValidMimeWithNoNewAnomalies) {
  for (const std::string& raw : {std::string(plain_template), std::string(alternative_template), crlf(plain_template),
                                 crlf(alternative_template)}) {
    const auto base = pw::mime::parse(raw);
    const auto m = make_mutator(raw, 11, {});
    ASSERT_GT(m.mutable_text_parts(), 0u);
    std::size_t with_text = 0;
    for (std::uint64_t i = 0; i < 300; ++i) {
      const auto v = m.make(i);
      const auto parsed = pw::mime::parse(v.raw);
      const auto extra = static_cast<std::uint32_t>(parsed.anomalies) & ~static_cast<std::uint32_t>(base.anomalies);
      EXPECT_EQ(extra, 0u) << "variant " << i << " anomalies " << static_cast<std::uint32_t>(parsed.anomalies);
      ASSERT_NE(parsed.find("Message-ID"), nullptr);
      EXPECT_TRUE(parsed.find("Message-ID")->value.ends_with("@mx.example.com>"));
      if (!pw::sim::has(v.applied, mutation::image_only)) {
        ++with_text;
        EXPECT_EQ(parsed.parts.size(), base.parts.size());
        EXPECT_EQ(text_parts(parsed), text_parts(base));
        EXPECT_TRUE(pw::sim::has(v.applied, mutation::hash_buster));
        EXPECT_TRUE(pw::sim::has(v.applied, mutation::domain_rotation));
      }
    }
    EXPECT_GT(with_text, 200u);
  }
}

}  // namespace
