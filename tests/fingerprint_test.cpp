// fingerprint: normalisation steps, keyed-ness, near-duplicate similarity.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "fingerprint/fingerprint.hpp"

namespace {

using namespace pw::fingerprint;

fingerprinter make(std::string_view secret = "test secret") {
  auto f = fingerprinter::create(secret);
  EXPECT_TRUE(f.has_value());
  return std::move(f.value());
}

std::string mail(std::string_view to, std::string_view subject, std::string_view body) {
  return "From: a@sender.example\r\nTo: " + std::string(to) + "\r\nSubject: " + std::string(subject) +
         "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + std::string(body);
}

const std::string template_body =
    "We are pleased to inform you that your account qualifies for our exclusive loan programme with rates "
    "starting at 3.5 percent. To claim this offer simply reply today and one of our agents will contact you "
    "within 24 hours to complete the paperwork. This limited time offer expires at the end of the month so "
    "act now and secure your future with the lowest rates available anywhere on the market today. Visit "
    "http://www.loans-best.example.com/claim?id=8812 for details.";

TEST(fingerprint_normalise, case_digits_whitespace) {
  auto f = make();
  EXPECT_EQ(f.normalise("Good   WORLD\t\n 12345 and 7", {}), "good world 0 and 0");
  // Digit runs collapse to '0'; punctuation separates words.
  EXPECT_EQ(f.normalise("abc123def 4,500.00", {}), "abc0def 0 0 0");
}

TEST(fingerprint_normalise, unicode_case_folding) {
  auto f = make();
  // Simple case folding (one code point to one): ß stays ß.
  EXPECT_EQ(f.normalise("STRASSE Straße ÀÉÎ", {}), "strasse straße àéî");
  EXPECT_EQ(f.normalise("ΓΕΙΑ Σου ПРИВЕТ Мир", {}), "γεια σου привет мир");
}

TEST(fingerprint_normalise, urls_become_registrable_domains) {
  auto f = make();
  EXPECT_EQ(f.normalise("go to https://www.shop.example.co.uk/a/b?c=1 now", {}), "go to example.co.uk now");
  EXPECT_EQ(f.normalise("(see http://user@Mail.Example.COM:8080/x).", {}), "see example.com");
  EXPECT_EQ(f.normalise("visit www.deals.example.org today", {}), "visit example.org today");
  EXPECT_EQ(f.normalise("bare host news.example.net here", {}), "bare host example.net here");
  EXPECT_EQ(f.normalise("file.txt version 3.14", {}), "file txt version 0 0");
  EXPECT_EQ(f.registrable_domain("a.b.example.co.uk"), "example.co.uk");
}

TEST(fingerprint_normalise, personalisation_removed) {
  auto f = make();
  const std::string raw_msg = mail("\"Smith, John\" <john.smith@isp.example>", "Hi", "x");  // the parsed message views into it
  auto msg = pw::mime::parse(raw_msg);
  const std::string_view env[] = {"john.smith@isp.example"};
  const personalisation p = collect_personalisation(msg, env);
  EXPECT_EQ(f.normalise("Dear John Smith, your order for john.smith@isp.example is ready. Thanks John", p),
            "dear your order for is ready thanks");
  // Greeting positions without a known name: up to two words after the greeting, to the comma.
  EXPECT_EQ(f.normalise("Hello Mary, the offer. Dear Customer: buy", {}), "hello the offer dear buy");
  // Other addresses stand for their domain.
  EXPECT_EQ(f.normalise("write to sales@offers.example.com", {}), "write to example.com");
}

TEST(fingerprint, keyed_by_the_deployment_secret) {
  auto a = make("secret one");
  auto b = make("secret two");
  const std::string raw = mail("x@y.example", "Offer", template_body);
  const signature sa = a.compute_raw(raw, {});
  const signature sb = b.compute_raw(raw, {});
  ASSERT_GT(sa.shingles, 0u);
  EXPECT_EQ(sa.shingles, sb.shingles);
  EXPECT_LT(similarity(sa, sb), 0.2);
  EXPECT_NE(sa.subject_shape, sb.subject_shape);
  EXPECT_EQ(similarity(sa, a.compute_raw(raw, {})), 1.0);
}

TEST(fingerprint, near_duplicates_similar_different_messages_not) {
  auto f = make();
  std::mt19937 rng(7);
  auto buster = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      s += " w" + std::to_string(rng() % 100000) + "x";
    }
    return s;
  };
  const std::string_view env1[] = {"alice@a.example"};
  const std::string_view env2[] = {"bob@b.example"};
  const signature v1 = f.compute_raw(mail("alice@a.example", "Loans", "Dear Alice,\n" + template_body + buster(20)), env1);
  const signature v2 = f.compute_raw(
      mail("bob@b.example", "Cheap loans", "Dear   Bob,\n" + template_body + "\n" + buster(20)), env2);
  EXPECT_GT(similarity(v1, v2), 0.5);
  const signature other = f.compute_raw(mail("c@c.example", "Lunch",
      "Shall we meet for lunch on Thursday at the usual place near the station? I will bring the report "
      "we discussed and the figures from the last quarter so we can go through them together."), {});
  EXPECT_LT(similarity(v1, other), 0.15);
  EXPECT_FALSE(v1.url_domains.empty());
  EXPECT_EQ(v1.url_domains.front(), "example.com");
}

TEST(fingerprint, attachments_hashed_exactly) {
  auto f = make();
  std::string png(600, 'P');
  auto with_image = [&](std::string_view to) {
    return "From: a@b.example\r\nTo: " + std::string(to) +
           "\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
           "Content-Type: image/png\r\nContent-Disposition: attachment; filename=a.png\r\n\r\n" +
           png + "\r\n--B--\r\n";
  };
  const signature a = f.compute_raw(with_image("x@y.example"), {});
  const signature b = f.compute_raw(with_image("z@w.example"), {});
  ASSERT_EQ(a.attachments.size(), 1u);
  EXPECT_EQ(a.attachments, b.attachments);
  EXPECT_EQ(a.shingles, 0u);
}

TEST(fingerprint, empty_and_hostile_input) {
  auto f = make();
  EXPECT_EQ(f.compute_raw("", {}).shingles, 0u);
  std::string junk;
  for (int i = 0; i < 5000; ++i) {
    junk.push_back(static_cast<char>(i * 37));
  }
  (void)f.compute_raw(junk, {});
  EXPECT_FALSE(validate(options{.bins = 48}).has_value());
}

}  // namespace

namespace {
// Running text (function words throughout) of about 90 words.
constexpr std::string_view letter =
    "We are pleased to tell you that your account has been selected for the annual review of our "
    "premium service. To keep the benefits of your plan, you need to confirm the details we have on "
    "file for you and answer a few questions about the way you use the service. It will only take a "
    "minute of your time and it is the last step before the renewal of the plan. If you do not "
    "confirm by the end of the week, the offer will expire and the account will be moved to the "
    "basic plan with fewer benefits than you have now.\n";
}  // namespace

TEST(fingerprint, spot_shingles_ignore_appended_content_words) {
  auto f = make();
  const std::string head = "Subject: review\r\n\r\n";
  const signature plain = f.compute_raw(head + std::string(letter), {});
  const signature busted = f.compute_raw(
      head + std::string(letter) + "\nbasket falcon copper meadow lantern orbit velvet harbor pepper quartz "
                                   "saddle timber walnut zephyr cobalt fennel marble nickel oyster plume\n",
      {});
  // Only the spot at the seam ("have now" + the first appended word) differs.
  EXPECT_GE(similarity(plain, busted), 0.9);
  EXPECT_EQ(plain.shingles, busted.shingles);
  EXPECT_GT(busted.words, plain.words);
  // Without spots the same tail moves bins.
  auto g = fingerprinter::create("test secret", options{.anchored_shingles = false, .salad_run_words = 0}).value();
  EXPECT_LT(similarity(g.compute_raw(head + std::string(letter), {}), g.compute_raw(head + std::string(letter) +
      "\nbasket falcon copper meadow lantern orbit velvet harbor pepper quartz saddle timber walnut zephyr\n", {})), 1.0);
}

TEST(fingerprint, short_posts_under_one_footer_stay_apart) {
  // Two short list posts whose own words carry no function word, under the list's footer (no rule
  // line above it, so it is not left out; with the footer they are long enough not to take their
  // subjects). Spots would all come from the footer's sentences and give both one signature; they
  // are too few for that, so every window counts.
  const std::string footer =
      "\nTo unsubscribe from this group, send an email to:\nlist-unsubscribe@groups.example.com\n\n"
      "Your use of Example Groups is subject to http://docs.example.com/info/terms/\n";
  const std::string own_a = "Yay! Well done Tim, Yorkshire lad.\n\nJayne.\n";
  const std::string own_b =
      "http://news.example.co.uk/1/hi/scotland/2515231.stm\nLynx spotted near Dundee again.\nAndy\n";
  auto f = make();
  const signature a =
      f.compute_raw(mail("list@groups.example.com", "Re: An announcement", "> the post\n\n" + own_a + footer), {});
  const signature b = f.compute_raw(mail("list@groups.example.com", "Search for missing lynx", own_b + footer), {});
  EXPECT_GE(a.words, options{}.short_text_words);
  EXPECT_FALSE(a.spots);
  EXPECT_LT(similarity(a, b), 0.7);  // the tracker's join threshold
  EXPECT_EQ(similarity(a, f.compute_raw(mail("list@groups.example.com", "Re: An announcement",
                                             "> another quote\n\n" + own_a + footer),
                                        {})),
            1.0);
  // With spots from 4 function words (the default before) the footer alone was the signature.
  auto old = fingerprinter::create("test secret", options{.min_anchored_shingles = 4}).value();
  EXPECT_EQ(similarity(old.compute_raw(mail("list@groups.example.com", "Re: An announcement", own_a + footer), {}),
                       old.compute_raw(mail("list@groups.example.com", "Search for missing lynx", own_b + footer), {})),
            1.0);
  // A long letter keeps its spots.
  EXPECT_TRUE(f.compute_raw("Subject: review\r\n\r\n" + std::string(letter), {}).spots);
}

TEST(fingerprint_normalise, quotes_signatures_and_footers_left_out) {
  auto f = make();
  const std::string own = "thanks for the report i will look at the patch tonight and tell you more\n";
  EXPECT_EQ(f.normalise(own + "> quoted line one\n>> older quote\nEL> supercite quote\n", {}),
            "thanks for the report i will look at the patch tonight and tell you more");
  EXPECT_EQ(f.normalise(own + "-- \nJohn Doe\nExample Corp\n", {}), f.normalise(own, {}));
  EXPECT_EQ(f.normalise(own + "_______________________________________________\nList mailing list\nhttps://lists.example.org/listinfo/list\n", {}),
            f.normalise(own, {}));
  EXPECT_EQ(f.normalise(own + "-----Original Message-----\nFrom: bob\nthe whole earlier message\n", {}), f.normalise(own, {}));
  EXPECT_EQ(f.normalise(own + "On Mon, 5 Aug 2002, Bob wrote:\nunmarked quote of the earlier message\n", {}), f.normalise(own, {}));
  // An attribution followed by '>' lines is an interleaved reply: the answers below it count.
  EXPECT_EQ(f.normalise(own + "Bob wrote:\n> question\nanswer here\n", {}), f.normalise(own, {}) + " bob wrote answer here");
  // A rule with a label (a list sponsor's ad) starts a footer too; "# " quotes like '>'.
  EXPECT_EQ(f.normalise(own + "------------------------ Yahoo! Groups Sponsor ---------------------~-->\n"
                              "4 DVDs Free +s&p Join Now\nhttp://us.click.yahoo.com/pt6YBB/NXiEAA/\n"
                              "---------------------------------------------------------------------~->\n\n"
                              "To unsubscribe from this group, send an email to:\nlist-unsubscribe@egroups.com\n",
                        {}),
            f.normalise(own, {}));
  EXPECT_EQ(f.normalise("Vincent wrote:\n# where do I get it?\n" + own, {}), "vincent wrote " + f.normalise(own, {}));
  // Below "Original Message" with the original quoted ('>'), the reply written under the quote
  // counts; the header lines of the original do not.
  EXPECT_EQ(f.normalise("----- Original Message -----\nFrom: \"Luis\" <luis@example.org>\nSent: Tuesday\n"
                        ">\n> the earlier message quoted here\n" +
                            own,
                        {}),
            f.normalise(own, {}));
  // A long "signature" is content behind a delimiter, and a text that is all quote is taken whole.
  std::string long_tail = own + "-- \n";
  for (int i = 0; i < 12; ++i) {
    long_tail += "line of content\n";
  }
  EXPECT_NE(f.normalise(long_tail, {}).find("line of content"), std::string::npos);
  EXPECT_EQ(f.normalise("> all of it quoted here in this message\n> and more of it\n", {}),
            "all of it quoted here in this message and more of it");
}

TEST(fingerprint, short_text_takes_the_subject) {
  auto f = make();
  const signature a = f.compute_raw("Subject: first story\r\n\r\nURL: http://feed.example.com/1 Date: today\n", {});
  const signature b = f.compute_raw("Subject: another tale\r\n\r\nURL: http://feed.example.com/2 Date: today\n", {});
  EXPECT_LT(similarity(a, b), 1.0);
  EXPECT_EQ(a.words, 4u);  // url, the domain, date, today: the subject's words are not counted
}

TEST(fingerprint, word_salad_left_out_of_shingles) {
  // A template with few function words (a list, an ad): every window is a shingle, so appended
  // random words (hash-busters) would add as many shingles as the template has.
  const std::string head = "Subject: offer\r\n\r\n";
  const std::string ad =
      "Premium watches with genuine leather straps, Swiss movement, sapphire glass, free shipping and secure "
      "payment. Money back guarantee, 24 hour delivery, limited stock, discount codes, gift boxes, engraving. "
      "Order now at http://www.watches.example.com\n";
  const std::string tail_a = "\nbasket falcon copper meadow lantern orbit velvet harbor pepper quartz saddle timber walnut "
                             "zephyr cobalt fennel marble nickel oyster plume\n";
  const std::string tail_b = "\nriver candle monkey garden pencil rocket silver tunnel wagon yellow anchor bridge cactus "
                             "dragon engine forest glacier hammer island jacket\n";
  auto f = make();
  const signature a = f.compute_raw(head + ad + tail_a, {});
  const signature b = f.compute_raw(head + ad + tail_b, {});
  EXPECT_FALSE(a.spots);
  EXPECT_EQ(similarity(a, b), 1.0);
  EXPECT_EQ(similarity(a, f.compute_raw(head + ad, {})), 1.0);
  EXPECT_GT(a.words, f.compute_raw(head + ad, {}).words);  // the salad still counts as words
  // With the rule off, the two tails pull the signatures apart.
  auto off = fingerprinter::create("test secret", options{.salad_run_words = 0}).value();
  EXPECT_LT(similarity(off.compute_raw(head + ad + tail_a, {}), off.compute_raw(head + ad + tail_b, {})), 0.7);
  // Words of another script are no salad (the function words known are Latin-script ones): a
  // different ending of a Greek text still changes the signature.
  std::string greek = head;
  for (int i = 0; i < 10; ++i) {
    greek += "καλημέρα φίλε μου ";
  }
  EXPECT_LT(similarity(f.compute_raw(greek + "θάλασσα βουνό ποτάμι δέντρο λουλούδι ουρανός αστέρι φεγγάρι ήλιος βροχή\n", {}),
                       f.compute_raw(greek + "σπίτι δρόμος πόλη χωριό αγρός λίμνη νησί ακτή κύμα άμμος\n", {})),
            1.0);
  EXPECT_FALSE(fingerprinter::create("s", options{.salad_run_words = 2}).has_value());
}

TEST(fingerprint, hardly_any_text_but_one_salad_block_keeps_the_rest_alone) {
  // An image link and then hash-busters (what an image spam with an empty body becomes): fewer
  // than 8 words remain without the salad. Those alone are the text, and only they count, so the
  // campaign tracker joins such a message only to an identical one (min_words).
  const std::string head =
      "Subject: offer\r\nContent-Type: text/html\r\n\r\n"
      "<a href=\"http://hlc.example.org\"><img src=\"http://img.example.org/a.gif\"></a>\n";
  const std::string tail_a =
      "basket falcon copper meadow lantern orbit velvet harbor pepper quartz saddle timber walnut "
      "zephyr cobalt fennel marble nickel oyster plume\n";
  const std::string tail_b =
      "river candle monkey garden pencil rocket silver tunnel wagon yellow anchor bridge cactus "
      "dragon engine forest glacier hammer island jacket glove\n";
  auto f = make();
  const signature a = f.compute_raw(head + tail_a, {});
  const signature b = f.compute_raw(head + tail_b, {});
  EXPECT_GT(a.shingles, 0u);
  EXPECT_LT(a.words, 8u);
  EXPECT_EQ(similarity(a, b), 1.0);
  // Two blocks with a few other words between them look rather like prose in a language whose
  // function words are not known: kept whole, so the endings still tell the texts apart.
  const signature c = f.compute_raw(head + tail_a + "http://x.example.net\n" + tail_a, {});
  const signature d = f.compute_raw(head + tail_a + "http://x.example.net\n" + tail_b, {});
  EXPECT_GE(c.words, 40u);
  EXPECT_LT(similarity(c, d), 1.0);
}
