// `portwarden campaigns eval` (see campaigns_eval.hpp for what is measured and how).
#include "campaigns_eval.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "message_files.hpp"
#include "mime/message.hpp"

namespace pw::app {

namespace {

using json = nlohmann::json;

constexpr int exit_ok = 0;
constexpr int exit_error = 3;
constexpr double recall_bar = 0.95;
constexpr double false_merge_bar = 0.001;
constexpr std::string_view deployment_secret = "portwarden campaigns eval: a fixed secret, so runs compare";

int fail(const pw::error& e) {
  std::fprintf(stderr, "portwarden campaigns eval: %s\n", e.message.c_str());
  return exit_error;
}

// SplitMix64 step: the schedule's randomness (seeded, reproducible).
std::uint64_t mix(std::uint64_t x) {
  std::uint64_t z = x + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
std::uint64_t below(std::uint64_t& state, std::uint64_t n) {
  state = mix(state);
  return ((state >> 32) * n) >> 32;
}

std::string basename_of(const std::string& path) { return std::filesystem::path(path).filename().string(); }

struct corpus {
  std::vector<labelled_message> spam;
  std::vector<labelled_message> ham;
};

result<corpus> load_corpus(const campaigns_eval_options& o) {
  std::vector<std::string> spam_lists = o.spam_lists;
  std::vector<std::string> ham_lists = o.ham_lists;
  if (!o.cache.empty()) {
    for (const char* name : {"train.list", "test.list"}) {
      const std::string list = (std::filesystem::path(o.cache) / "split-a" / name).string();
      spam_lists.push_back(list);
      ham_lists.push_back(list);
    }
  }
  if (spam_lists.empty() || ham_lists.empty()) {
    return make_error(errc::invalid_input, "give --cache DIR, or --spam LIST and --ham LIST");
  }
  corpus c;
  for (bool spam : {true, false}) {
    std::set<std::filesystem::path> seen;
    std::vector<labelled_path> picked;
    for (const auto& list : spam ? spam_lists : ham_lists) {
      auto entries = read_list(list);
      if (!entries) {
        return entries.error();
      }
      for (auto& e : *entries) {
        if (e.is_spam == spam && seen.insert(e.path).second) {
          picked.push_back(std::move(e));
        }
      }
    }
    auto loaded = load_messages(picked);
    if (!loaded) {
      return loaded.error();
    }
    (spam ? c.spam : c.ham) = std::move(*loaded);
  }
  if (c.spam.empty() || c.ham.empty()) {
    return make_error(errc::invalid_input, "the lists hold no spam or no ham");
  }
  return c;
}

struct spam_item {
  fingerprint::signature sig;
  std::uint32_t template_id = 0;
  sim::mutation applied = sim::mutation::none;
};

struct variant_run {
  std::vector<spam_item> items;  // template t's variant i at t * variants + i
  double fingerprint_seconds = 0;
  double generate_seconds = 0;
  std::size_t bytes = 0;
  std::size_t new_anomaly_variants = 0;     // variants whose parse has anomalies their template had not
  std::vector<std::size_t> template_words;  // words of each template's parsed text
};

// Generates every variant of every template and fingerprints it (parse + compute, timed alone).
result<variant_run> fingerprint_variants(const corpus& c, const campaigns_eval_options& o,
                                         const sim::mutation_settings& ms, const fingerprint::fingerprinter& fp) {
  using clock = std::chrono::steady_clock;
  variant_run run;
  run.items.reserve(c.spam.size() * o.variants);
  for (std::uint32_t t = 0; t < c.spam.size(); ++t) {
    const auto generate_start = clock::now();
    auto mutator = sim::campaign_mutator::create(c.spam[t].raw, mix(o.seed ^ (std::uint64_t{t} << 20)), ms);
    if (!mutator) {
      return mutator.error();
    }
    const mime::message parsed_template = mime::parse(c.spam[t].raw);
    const auto template_anomalies = static_cast<std::uint32_t>(parsed_template.anomalies);
    const auto is_space = [](char ch) { return ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r'; };
    const std::string& text = parsed_template.text;
    std::size_t words = 0;
    for (std::size_t k = 0; k < text.size(); ++k) {
      words += !is_space(text[k]) && (k == 0 || is_space(text[k - 1])) ? 1 : 0;
    }
    run.template_words.push_back(words);
    std::vector<sim::variant> variants;
    variants.reserve(o.variants);
    for (std::uint32_t i = 0; i < o.variants; ++i) {
      variants.push_back(mutator->make(i));
    }
    run.generate_seconds += std::chrono::duration<double>(clock::now() - generate_start).count();

    for (const auto& v : variants) {
      const std::string_view recipients[] = {v.to.address};
      const auto start = clock::now();
      const mime::message parsed = mime::parse(v.raw);
      fingerprint::signature sig = fp.compute(parsed, recipients);
      run.fingerprint_seconds += std::chrono::duration<double>(clock::now() - start).count();
      run.bytes += v.raw.size();
      if ((static_cast<std::uint32_t>(parsed.anomalies) & ~template_anomalies) != 0) {
        ++run.new_anomaly_variants;
      }
      run.items.push_back({std::move(sig), t, v.applied});
    }
  }
  return run;
}

struct event {
  std::int64_t time_ms = 0;
  std::uint32_t sender = 0;  // bot number, or ham index
  std::uint32_t item = 0;    // index into variant_run::items, or into the ham
  bool ham = false;
};

// Campaign t starts at a random time in the first half of the span and sends its variants in index
// order over a quarter to a half of the span, each from one of its bots; ham is spread uniformly.
std::vector<event> make_schedule(std::size_t templates, std::size_t ham, const campaigns_eval_options& o) {
  const auto span_ms = static_cast<std::uint64_t>(o.hours * 3600.0 * 1000.0);
  constexpr std::int64_t epoch_ms = 1'800'000'000'000;
  std::uint64_t r = mix(o.seed ^ 0x5c4ed01eull);
  std::vector<event> events;
  events.reserve(templates * o.variants + ham);
  std::vector<std::uint32_t> bots(o.bots_per_campaign);
  for (std::uint32_t t = 0; t < templates; ++t) {
    const std::uint64_t start = below(r, span_ms / 2 + 1);
    const std::uint64_t duration = span_ms / 4 + below(r, span_ms / 4 + 1);
    for (auto& b : bots) {
      b = static_cast<std::uint32_t>(below(r, o.bot_pool));
    }
    for (std::uint32_t i = 0; i < o.variants; ++i) {
      const auto at = static_cast<std::int64_t>(start + duration * i / o.variants);
      events.push_back({epoch_ms + at, bots[below(r, bots.size())], t * o.variants + i, false});
    }
  }
  for (std::uint32_t h = 0; h < ham; ++h) {
    events.push_back({epoch_ms + static_cast<std::int64_t>(below(r, span_ms)), h, h, true});
  }
  std::stable_sort(events.begin(), events.end(), [](const event& a, const event& b) { return a.time_ms < b.time_ms; });
  return events;
}

std::size_t heap_in_use() {
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0;
  std::size_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// "c-" + 16 hex digits, as a number: campaign ids are kept without allocating during tracking.
std::uint64_t id_number(std::string_view id) {
  std::uint64_t v = 0;
  for (char ch : id.substr(std::min<std::size_t>(2, id.size()))) {
    v = (v << 4) | static_cast<std::uint64_t>(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
  }
  return v;
}
std::string id_text(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "c-%016llx", static_cast<unsigned long long>(v));
  return buf;
}

struct tracking {
  std::vector<std::uint64_t> spam_campaign;           // per variant_run item, folds resolved at the end
  std::vector<std::uint64_t> spam_campaign_observed;  // the same as observe answered at the time
  std::vector<std::uint64_t> ham_campaign;   // per ham message
  std::size_t campaigns = 0;
  std::size_t folded = 0;  // campaigns folded into another during the run
  std::size_t observed = 0;
  std::size_t heap_bytes = 0;
  std::size_t rss_bytes = 0;
  double seconds = 0;
};

tracking track(const std::vector<event>& events, const std::vector<spam_item>& spam,
               const std::vector<fingerprint::signature>& ham, const campaigns_eval_options& o) {
  tracking out;
  out.spam_campaign.assign(spam.size(), 0);
  out.ham_campaign.assign(ham.size(), 0);
  std::string subscriber;
  subscriber.reserve(64);
  const std::size_t heap_before = heap_in_use();
  const std::size_t rss_before = resident_bytes();
  const auto start = std::chrono::steady_clock::now();
  {
    campaign::tracker tracker(o.tracker, o.fingerprint.bins, deployment_secret);
    for (const auto& e : events) {
      subscriber.assign(e.ham ? "ham-" : "bot-");
      subscriber += std::to_string(e.sender);
      const auto& sig = e.ham ? ham[e.item] : spam[e.item].sig;
      const auto m = tracker.observe(sig, subscriber, e.time_ms);
      (e.ham ? out.ham_campaign : out.spam_campaign)[e.item] = id_number(m.id);
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // A campaign folded into another since a message was assigned to it (image-only variants that
    // came before their template's text carried their subject) resolves to the one it joined.
    out.spam_campaign_observed = out.spam_campaign;
    std::unordered_map<std::uint64_t, std::uint64_t> resolved;
    const std::int64_t last_ms = events.empty() ? 0 : events.back().time_ms;
    for (auto* ids : {&out.spam_campaign, &out.ham_campaign}) {
      for (std::uint64_t& c : *ids) {
        if (c == 0) {
          continue;
        }
        auto [it, fresh] = resolved.try_emplace(c, c);
        if (fresh) {
          const auto v = tracker.find(id_text(c), last_ms);
          it->second = v.found() ? id_number(v->id) : c;
          out.folded += it->second != c ? 1 : 0;
        }
        c = it->second;
      }
    }
    out.campaigns = tracker.size();
    out.observed = events.size();
    out.heap_bytes = heap_in_use() - std::min(heap_before, heap_in_use());
    out.rss_bytes = resident_bytes() - std::min(rss_before, resident_bytes());
  }
  return out;
}

struct template_recall {
  std::uint32_t template_id = 0;
  std::uint64_t campaign = 0;  // the plurality campaign
  std::size_t in_campaign = 0;
  std::size_t variants = 0;
  std::size_t campaigns_spread = 0;  // distinct campaigns its variants went to
};

struct recall_report {
  double recall = 0;
  std::size_t variants = 0;
  std::size_t assigned = 0;
  std::array<std::size_t, sim::mutation_count> applied{};           // variants carrying each mutation
  std::array<std::size_t, sim::mutation_count> applied_assigned{};  // ... of which assigned to their campaign
  std::size_t image_only = 0;
  std::size_t image_only_assigned = 0;
  // Split view: text variants against the plurality campaign of the template's text variants,
  // image-only variants against that of its image-only variants (they share no text to link by).
  std::size_t split_text_assigned = 0;
  std::size_t split_image_assigned = 0;
  std::size_t shared_campaigns = 0;        // plurality campaigns of two or more templates
  std::size_t templates_sharing = 0;       // templates whose plurality campaign is shared
  std::vector<template_recall> templates;  // in template order
};

struct plurality {
  std::uint64_t campaign = 0;
  std::size_t count = 0;
  std::size_t distinct = 0;
};

// The campaign most of `ids` went to; a tie goes to the campaign reached first (ids in send order).
plurality plurality_of(const std::vector<std::uint64_t>& ids) {
  std::vector<std::pair<std::uint64_t, std::size_t>> counts;
  for (std::uint64_t c : ids) {
    auto it = std::find_if(counts.begin(), counts.end(), [c](const auto& p) { return p.first == c; });
    if (it == counts.end()) {
      counts.emplace_back(c, 1);
    } else {
      ++it->second;
    }
  }
  if (counts.empty()) {
    return {};
  }
  const auto best =
      std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return {best->first, best->second, counts.size()};
}

recall_report measure_recall(const std::vector<spam_item>& items, const std::vector<std::uint64_t>& campaign_of,
                             std::size_t templates, std::uint32_t variants) {
  recall_report r;
  std::unordered_map<std::uint64_t, std::size_t> plurality_owners;
  std::vector<std::uint64_t> all;
  std::vector<std::uint64_t> text;
  std::vector<std::uint64_t> image;
  for (std::uint32_t t = 0; t < templates; ++t) {
    all.clear();
    text.clear();
    image.clear();
    for (std::uint32_t i = 0; i < variants; ++i) {
      const std::uint64_t c = campaign_of[t * variants + i];
      all.push_back(c);
      (sim::has(items[t * variants + i].applied, sim::mutation::image_only) ? image : text).push_back(c);
    }
    const plurality p = plurality_of(all);
    template_recall tr{t, p.campaign, p.count, variants, p.distinct};
    r.templates.push_back(tr);
    ++plurality_owners[tr.campaign];
    r.variants += variants;
    r.assigned += tr.in_campaign;
    r.split_text_assigned += plurality_of(text).count;
    r.split_image_assigned += plurality_of(image).count;
    for (std::uint32_t i = 0; i < variants; ++i) {
      const auto& item = items[t * variants + i];
      const bool hit = campaign_of[t * variants + i] == tr.campaign;
      for (std::uint32_t bit = 0; bit < sim::mutation_count; ++bit) {
        if (sim::has(item.applied, static_cast<sim::mutation>(1u << bit))) {
          ++r.applied[bit];
          r.applied_assigned[bit] += hit ? 1 : 0;
        }
      }
      if (sim::has(item.applied, sim::mutation::image_only)) {
        ++r.image_only;
        r.image_only_assigned += hit ? 1 : 0;
      }
    }
  }
  for (const auto& [c, n] : plurality_owners) {
    if (n > 1) {
      ++r.shared_campaigns;
      r.templates_sharing += n;
    }
  }
  r.recall = r.variants == 0 ? 0.0 : static_cast<double>(r.assigned) / static_cast<double>(r.variants);
  return r;
}

// What the judge of genuine duplicates compares (see exact_shingles).
enum class judge_view {
  content,     // letter runs of the text without links, numbers and signatures (the judge since 2026-11-29)
  words,       // 3-word shingles of the text without links, numbers and its last signature (2026-11-28's judge)
  everything,  // 3-word shingles of every word (the judge before 2026-11-28)
};

// Lines that hold only a signature delimiter ("-- ", RFC 3676; also "--"), as offsets of their first byte.
std::vector<std::size_t> signature_delimiters(std::string_view text) {
  std::vector<std::size_t> at;
  for (std::size_t line = 0; line < text.size();) {
    std::size_t end = text.find('\n', line);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view l = text.substr(line, end - line);
    if (l.ends_with('\r')) {
      l.remove_suffix(1);
    }
    if (l == "-- " || l == "--") {
      at.push_back(line);
    }
    line = end + 1;
  }
  return at;
}

// The text without its signatures: everything below the last delimiter line, and the lines between two
// delimiters when they are few (an author's signature above a list's footer, each with its own
// delimiter; a reply that quotes the post whole leaves the signature out). More lines between two
// delimiters are a digest's next post and stay.
std::string without_signatures(std::string_view text) {
  constexpr std::size_t max_signature_lines = 10;
  const std::vector<std::size_t> delimiters = signature_delimiters(text);
  if (delimiters.empty()) {
    return std::string(text);
  }
  std::string out;
  std::size_t kept_from = 0;
  for (std::size_t i = 0; i + 1 < delimiters.size(); ++i) {
    const std::string_view between = text.substr(delimiters[i], delimiters[i + 1] - delimiters[i]);
    if (static_cast<std::size_t>(std::count(between.begin(), between.end(), '\n')) <= max_signature_lines) {
      out.append(text.substr(kept_from, delimiters[i] - kept_from));
      kept_from = delimiters[i + 1];
    }
  }
  out.append(text.substr(kept_from, delimiters.back() - kept_from));
  return out;
}

// The exact set of shingles of a message's parsed text (lower-cased ASCII; a word is a run of letters,
// digits or non-ASCII bytes), as sorted 64-bit hashes: the judge of genuine duplicates, independent of
// the fingerprinter under test. The content view leaves out what is new in every delivery of the same
// text, like a Message-ID, and says nothing about the text itself: links ("http://", "https://" or
// "www." up to the next blank: a feed's click-tracking link), words with a digit (dates, times, CVS
// revision numbers: one feed item delivered on two days, one commit on two branches) and signatures
// (without_signatures). It shingles the remaining words' letters run together, 12 at a time, so where a
// line breaks does not matter: one question posted twice, once with its lines broken inside words
// ("linka" / "ge"), is one text. The other views shingle 3 words at a time.
std::vector<std::uint64_t> exact_shingles(std::string_view raw, judge_view view) {
  constexpr std::size_t letters_per_shingle = 12;
  const mime::message m = mime::parse(raw);
  const bool content = view != judge_view::everything;
  std::string text(m.text);
  if (view == judge_view::content) {
    text = without_signatures(text);
  } else if (view == judge_view::words) {
    const std::vector<std::size_t> delimiters = signature_delimiters(text);
    if (!delimiters.empty()) {
      text.resize(delimiters.back());
    }
  }
  std::vector<std::string_view> words;
  std::string lowered(std::move(text));
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](char ch) { return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch | 0x20) : ch; });
  const auto word_char = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || static_cast<unsigned char>(ch) >= 0x80;
  };
  const auto link_at = [&](std::size_t i) {
    const std::string_view rest = std::string_view(lowered).substr(i);
    return content && (rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("www."));
  };
  for (std::size_t i = 0; i < lowered.size();) {
    while (i < lowered.size() && !word_char(lowered[i])) {
      ++i;
    }
    if (link_at(i)) {
      while (i < lowered.size() && lowered[i] != ' ' && lowered[i] != '\t' && lowered[i] != '\n' &&
             lowered[i] != '\r') {
        ++i;
      }
      continue;
    }
    std::size_t j = i;
    bool digit = false;
    while (j < lowered.size() && word_char(lowered[j])) {
      digit = digit || (lowered[j] >= '0' && lowered[j] <= '9');
      ++j;
    }
    if (j > i && !(content && digit)) {
      words.emplace_back(lowered.data() + i, j - i);
    }
    i = j;
  }
  std::vector<std::uint64_t> out;
  const std::hash<std::string_view> h;
  if (view == judge_view::content) {
    std::string letters;
    for (const std::string_view w : words) {
      letters.append(w);
    }
    const std::size_t n = std::min(letters_per_shingle, letters.size());  // a shorter text is one shingle
    for (std::size_t i = 0; n > 0 && i + n <= letters.size(); ++i) {
      out.push_back(h(std::string_view(letters).substr(i, n)));
    }
  } else {
    const std::size_t n = std::min<std::size_t>(3, words.size());  // a text of one or two words is one shingle
    for (std::size_t i = 0; n > 0 && i + n <= words.size(); ++i) {
      std::uint64_t v = 0;
      for (std::size_t k = i; k < i + n; ++k) {
        v = mix(v ^ h(words[k]));
      }
      out.push_back(v);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::size_t common_count(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  std::size_t common = 0;
  for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i] == b[j]) {
      ++common;
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return common;
}

// Smallest shingle set that containment may judge, about a dozen words: a one-line "thanks" is inside
// many messages.
std::size_t min_contained_shingles(judge_view view) { return view == judge_view::content ? 50 : 10; }

enum class duplicate_kind { none, message_id, jaccard, containment };

// Exact checks only: the same Message-ID (one post, several copies), near-equal shingle sets
// (Jaccard), or one set almost wholly inside the other (a digest holding the post, a reply quoting it).
duplicate_kind judge_duplicate(const std::string& id_a, const std::string& id_b, const std::vector<std::uint64_t>& a,
                               const std::vector<std::uint64_t>& b, double threshold, judge_view view) {
  if (id_a == id_b) {
    return duplicate_kind::message_id;
  }
  if (a.empty() || b.empty()) {
    return duplicate_kind::none;
  }
  const auto common = static_cast<double>(common_count(a, b));
  if (common / (static_cast<double>(a.size() + b.size()) - common) >= threshold) {
    return duplicate_kind::jaccard;
  }
  const std::size_t smaller = std::min(a.size(), b.size());
  if (smaller >= min_contained_shingles(view) && common / static_cast<double>(smaller) >= threshold) {
    return duplicate_kind::containment;
  }
  return duplicate_kind::none;
}

struct false_merge {
  std::uint32_t ham = 0;
  std::uint64_t campaign = 0;
  std::size_t spam_variants = 0;         // in the campaign
  std::size_t other_ham = 0;             // non-duplicate ham in the campaign
  std::vector<std::uint32_t> templates;  // spam templates present (first few)
};

struct merge_report {
  std::size_t ham = 0;
  std::size_t merged = 0;
  std::size_t into_spam = 0;
  std::size_t with_ham_only = 0;
  std::size_t excluded_message_id = 0;   // shared a campaign only with duplicates, one by Message-ID
  std::size_t excluded_jaccard = 0;      // ... the closest by exact-shingle Jaccard
  std::size_t excluded_containment = 0;  // ... only by containment (digests, quoting replies)
  double share = 0;
  double share_counting_containment = 0;  // containment-judged pairs counted as false merges
  std::vector<false_merge> merges;
};

merge_report measure_false_merges(const corpus& c, const std::vector<spam_item>& spam, const tracking& t,
                                  double duplicate_jaccard, judge_view view) {
  merge_report r;
  r.ham = c.ham.size();
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> spam_templates;  // campaign → templates (unique)
  std::unordered_map<std::uint64_t, std::size_t> spam_count;
  for (std::size_t i = 0; i < spam.size(); ++i) {
    const std::uint64_t cid = t.spam_campaign[i];
    ++spam_count[cid];
    auto& list = spam_templates[cid];
    if (std::find(list.begin(), list.end(), spam[i].template_id) == list.end()) {
      list.push_back(spam[i].template_id);
    }
  }
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> ham_members;
  for (std::uint32_t h = 0; h < c.ham.size(); ++h) {
    ham_members[t.ham_campaign[h]].push_back(h);
  }
  std::vector<std::optional<std::vector<std::uint64_t>>> shingles(c.ham.size());
  std::vector<std::string> message_ids(c.ham.size());
  const auto shingles_of = [&](std::uint32_t h) -> const std::vector<std::uint64_t>& {
    if (!shingles[h]) {
      shingles[h] = exact_shingles(c.ham[h].raw, view);
    }
    return *shingles[h];
  };
  std::size_t strict_merged = 0;
  const auto message_id_of = [&](std::uint32_t h) -> const std::string& {
    if (message_ids[h].empty()) {
      const mime::message m = mime::parse(c.ham[h].raw);
      const auto* id = m.find("Message-ID");
      message_ids[h] = id == nullptr || id->value.empty() ? "-" + std::to_string(h) : id->value;
    }
    return message_ids[h];
  };
  for (std::uint32_t h = 0; h < c.ham.size(); ++h) {
    const std::uint64_t cid = t.ham_campaign[h];
    const auto sc = spam_count.find(cid);
    const std::size_t spam_variants = sc == spam_count.end() ? 0 : sc->second;
    std::size_t others = 0;
    std::size_t non_duplicates = 0;
    std::array<std::size_t, 4> kinds{};
    for (std::uint32_t other : ham_members[cid]) {
      if (other == h) {
        continue;
      }
      ++others;
      const auto kind = judge_duplicate(message_id_of(h), message_id_of(other), shingles_of(h), shingles_of(other),
                                        duplicate_jaccard, view);
      ++kinds[static_cast<std::size_t>(kind)];
      non_duplicates += kind == duplicate_kind::none ? 1 : 0;
    }
    const std::size_t by_containment = kinds[static_cast<std::size_t>(duplicate_kind::containment)];
    if (spam_variants > 0 || non_duplicates > 0 || by_containment > 0) {
      ++strict_merged;
    }
    if (spam_variants > 0 || non_duplicates > 0) {
      ++r.merged;
      r.into_spam += spam_variants > 0 ? 1 : 0;
      r.with_ham_only += spam_variants == 0 ? 1 : 0;
      false_merge fm{h, cid, spam_variants, non_duplicates, {}};
      if (spam_variants > 0) {
        const auto& ts = spam_templates[cid];
        fm.templates.assign(ts.begin(), ts.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(3, ts.size())));
      }
      r.merges.push_back(std::move(fm));
    } else if (others > 0) {
      if (kinds[static_cast<std::size_t>(duplicate_kind::message_id)] > 0) {
        ++r.excluded_message_id;
      } else if (kinds[static_cast<std::size_t>(duplicate_kind::jaccard)] > 0) {
        ++r.excluded_jaccard;
      } else {
        ++r.excluded_containment;
      }
    }
  }
  r.share = r.ham == 0 ? 0.0 : static_cast<double>(r.merged) / static_cast<double>(r.ham);
  r.share_counting_containment = r.ham == 0 ? 0.0 : static_cast<double>(strict_merged) / static_cast<double>(r.ham);
  // Worst first: the most spam variants, then the most other ham.
  std::sort(r.merges.begin(), r.merges.end(), [](const false_merge& a, const false_merge& b) {
    return std::tie(a.spam_variants, a.other_ham) > std::tie(b.spam_variants, b.other_ham);
  });
  return r;
}

std::string mutations_text(const sim::mutation_settings& m) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "hash-buster %u-%u words, domains rotate every %u, subject pool %u, personalisation, whitespace "
                "noise %.0f %%, HTML noise %.0f %%, image-only %.0f %% (%u images)",
                m.hash_buster_min_words, m.hash_buster_max_words, m.domain_rotation_period, m.subject_pool_size,
                m.whitespace_noise_rate * 100, m.html_noise_rate * 100, m.image_only_share * 100, m.image_pool_size);
  return buf;
}

json parameters_json(const campaigns_eval_options& o, std::size_t templates, std::size_t ham) {
  const auto& m = o.mutations;
  const auto& f = o.fingerprint;
  const auto& t = o.tracker;
  return json{
      {"templates", templates},
      {"variants_per_template", o.variants},
      {"ham", ham},
      {"seed", o.seed},
      {"bots_per_campaign", o.bots_per_campaign},
      {"bot_pool", o.bot_pool},
      {"hours", o.hours},
      {"duplicate_jaccard", o.duplicate_jaccard},
      {"mutations",
       {{"hash_buster_words", {m.hash_buster_min_words, m.hash_buster_max_words}},
        {"domain_rotation_period", m.domain_rotation_period},
        {"subject_pool_size", m.subject_pool_size},
        {"whitespace_noise_rate", m.whitespace_noise_rate},
        {"html_noise_rate", m.html_noise_rate},
        {"image_only_share", m.image_only_share},
        {"image_pool_size", m.image_pool_size}}},
      {"fingerprint", {{"shingle_words", f.shingle_words}, {"bins", f.bins}, {"max_text_bytes", f.max_text_bytes}}},
      {"tracker",
       {{"k", t.k},
        {"similarity", t.similarity},
        {"bands", t.bands},
        {"rows", t.rows},
        {"attachment_max_shingles", t.attachment_max_shingles},
        {"window_ms", t.window_ms}}},
  };
}

}  // namespace

void add_campaigns_eval_options(CLI::App& cmd, campaigns_eval_options& o) {
  cmd.add_option("--cache", o.cache, "corpus cache (scripts/fetch-corpus): spam and ham of CACHE/split-a/*.list");
  cmd.add_option("--spam", o.spam_lists, "LIST file whose spam lines are the campaign templates; repeatable");
  cmd.add_option("--ham", o.ham_lists, "LIST file whose ham lines are the ham; repeatable");
  cmd.add_option("--variants", o.variants, "variants per template")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  cmd.add_option("--seed", o.seed, "seed of the mutations and the schedule")->capture_default_str();
  cmd.add_flag("--json", o.as_json, "print JSON");
  cmd.add_flag("!--no-per-mutation", o.per_mutation, "skip the one-mutation-at-a-time runs");
  cmd.add_option("--bots-per-campaign", o.bots_per_campaign, "subscribers sending one campaign")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  cmd.add_option("--bot-pool", o.bot_pool, "bots are drawn from this many subscribers")
      ->check(CLI::Range(1u, 10000000u))
      ->capture_default_str();
  cmd.add_option("--hours", o.hours, "simulated span of the traffic")
      ->check(CLI::Range(0.01, 24.0 * 365))
      ->capture_default_str();
  cmd.add_option("--duplicate-jaccard", o.duplicate_jaccard,
                 "ham pairs at or above this exact 3-word-shingle Jaccard (links, numbers and signatures left out) are "
                 "genuine duplicates, not "
                 "false merges")
      ->check(CLI::Range(0.5, 1.0))
      ->capture_default_str();
  cmd.add_option("--worst", o.worst, "how many worst templates and false merges to list")->capture_default_str();
  auto& m = o.mutations;
  cmd.add_option("--buster-min", m.hash_buster_min_words, "fewest hash-buster words")->capture_default_str();
  cmd.add_option("--buster-max", m.hash_buster_max_words, "most hash-buster words")->capture_default_str();
  cmd.add_option("--rotation-period", m.domain_rotation_period, "variants per generation of URL domains")
      ->capture_default_str();
  cmd.add_option("--subject-pool", m.subject_pool_size, "subjects per campaign")->capture_default_str();
  cmd.add_option("--image-share", m.image_only_share, "share of image-only variants")->capture_default_str();
  cmd.add_option("--image-pool", m.image_pool_size, "distinct images per campaign")->capture_default_str();
  cmd.add_option("--shingle-words", o.fingerprint.shingle_words, "fingerprint: words per shingle")
      ->capture_default_str();
  cmd.add_option("--bins", o.fingerprint.bins, "fingerprint: MinHash bins")->capture_default_str();
  cmd.add_option("--bands", o.tracker.bands, "tracker: LSH bands")->capture_default_str();
  cmd.add_option("--rows", o.tracker.rows, "tracker: bins per band")->capture_default_str();
  cmd.add_option("--similarity", o.tracker.similarity, "tracker: share of agreeing bins to join a campaign")
      ->capture_default_str();
  cmd.add_option("-k", o.tracker.k, "tracker: distinct subscribers that make a campaign active")->capture_default_str();
  cmd.add_option("--min-anchored", o.fingerprint.min_anchored_shingles,
                 "fingerprint: function words a text needs for spot shingles")
      ->capture_default_str();
  cmd.add_option("--salad-run", o.fingerprint.salad_run_words,
                 "fingerprint: runs of this many words without a function word are not shingled (0: off)")
      ->capture_default_str();
  cmd.add_option("--short-text-words", o.fingerprint.short_text_words,
                 "fingerprint: a text of fewer words is shingled with its subject")
      ->capture_default_str();
  cmd.add_option("--min-words", o.tracker.min_words, "tracker: a text of fewer words joins only an identical one")
      ->capture_default_str();
  cmd.add_option("--short-shingles", o.tracker.short_shingles, "tracker: a signature of fewer shingles ...")
      ->capture_default_str();
  cmd.add_option("--short-similarity", o.tracker.short_similarity, "tracker: ... needs this share of agreeing bins")
      ->capture_default_str();
  cmd.add_option("--indexed-members", o.tracker.indexed_members,
                 "tracker: members whose bins index (and are compared with) a campaign")
      ->capture_default_str();
}

int run_campaigns_eval(const campaigns_eval_options& o) {
  const auto wall_start = std::chrono::steady_clock::now();
  if (auto v = fingerprint::validate(o.fingerprint); !v) {
    return fail(v.error());
  }
  if (auto v = campaign::validate(o.tracker, o.fingerprint.bins); !v) {
    return fail(v.error());
  }
  auto fp = fingerprint::fingerprinter::create(deployment_secret, o.fingerprint);
  if (!fp) {
    return fail(fp.error());
  }
  auto loaded = load_corpus(o);
  if (!loaded) {
    return fail(loaded.error());
  }
  const corpus& c = *loaded;

  // The full scenario: all mutations, spam interleaved with ham.
  auto run = fingerprint_variants(c, o, o.mutations, *fp);
  if (!run) {
    return fail(run.error());
  }
  std::vector<fingerprint::signature> ham_sigs;
  ham_sigs.reserve(c.ham.size());
  double ham_seconds = 0;
  std::size_t ham_bytes = 0;
  for (const auto& h : c.ham) {
    const auto start = std::chrono::steady_clock::now();
    const mime::message parsed = mime::parse(h.raw);
    ham_sigs.push_back(fp->compute(parsed, {}));
    ham_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ham_bytes += h.raw.size();
  }
  const auto events = make_schedule(c.spam.size(), c.ham.size(), o);
  const tracking tracked = track(events, run->items, ham_sigs, o);
  const recall_report recall = measure_recall(run->items, tracked.spam_campaign, c.spam.size(), o.variants);
  const double recall_observed =
      measure_recall(run->items, tracked.spam_campaign_observed, c.spam.size(), o.variants).recall;
  const merge_report merges = measure_false_merges(c, run->items, tracked, o.duplicate_jaccard, judge_view::content);
  // The earlier judges, printed beside the figure: the one of 2026-11-28 shingled words, so a line
  // broken inside a word and a signature above a list's footer hid a duplicate; the one before
  // compared every word (links, numbers, signatures), so one feed item delivered twice counted.
  const merge_report merges_words =
      measure_false_merges(c, run->items, tracked, o.duplicate_jaccard, judge_view::words);
  const merge_report merges_everything =
      measure_false_merges(c, run->items, tracked, o.duplicate_jaccard, judge_view::everything);

  const std::size_t fingerprinted = run->items.size() + c.ham.size();
  const double fp_seconds = run->fingerprint_seconds + ham_seconds;
  const double fingerprints_per_second = static_cast<double>(fingerprinted) / fp_seconds;
  const double mb_per_second = static_cast<double>(run->bytes + ham_bytes) / 1e6 / fp_seconds;
  const double bytes_per_campaign = static_cast<double>(tracked.heap_bytes) / static_cast<double>(tracked.campaigns);
  const double bytes_per_message = static_cast<double>(tracked.heap_bytes) / static_cast<double>(tracked.observed);

  // One mutation at a time (and none), spam only, each with a fresh tracker.
  struct single {
    std::string name;
    recall_report r;
    int bit = -1;
  };
  std::vector<single> singles;
  if (o.per_mutation) {
    const auto spam_events = make_schedule(c.spam.size(), 0, o);
    for (int bit = -1; bit < static_cast<int>(sim::mutation_count); ++bit) {
      sim::mutation_settings ms = o.mutations;
      ms.enabled = bit < 0 ? sim::mutation::none : static_cast<sim::mutation>(1u << bit);
      auto one = fingerprint_variants(c, o, ms, *fp);
      if (!one) {
        return fail(one.error());
      }
      const tracking t = track(spam_events, one->items, {}, o);
      singles.push_back({bit < 0 ? "none" : std::string(sim::mutation_name(ms.enabled)),
                         measure_recall(one->items, t.spam_campaign, c.spam.size(), o.variants), bit});
    }
  }

  const auto pct = [](std::size_t part, std::size_t whole) {
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  };
  const std::size_t text_variants = recall.variants - recall.image_only;
  const std::size_t text_assigned = recall.assigned - recall.image_only_assigned;
  std::vector<template_recall> worst_templates = recall.templates;
  std::sort(worst_templates.begin(), worst_templates.end(),
            [](const auto& a, const auto& b) { return a.in_campaign * b.variants < b.in_campaign * a.variants; });
  worst_templates.resize(std::min(worst_templates.size(), o.worst));
  char observed_pct[16];
  std::snprintf(observed_pct, sizeof observed_pct, "%.2f", recall_observed * 100);
  const std::string definition =
      "a template's campaign is the campaign holding the plurality of its variants (ties: the one reached first); "
      "a variant counts in the campaign its own was folded into by the end of the run (" +
      std::to_string(tracked.folded) + " campaigns were; as observe answered at the time: " + observed_pct + " %)";
  // Recall by the template's length: hash-buster words weigh most against short templates.
  struct length_bucket {
    std::size_t min_words;
    std::size_t max_words;
    std::size_t templates = 0;
    std::size_t variants = 0;
    std::size_t assigned = 0;
  };
  std::vector<length_bucket> buckets = {{0, 50}, {50, 150}, {150, 500}, {500, SIZE_MAX}};
  for (const auto& tr : recall.templates) {
    for (auto& b : buckets) {
      const std::size_t w = run->template_words[tr.template_id];
      if (w >= b.min_words && w < b.max_words) {
        ++b.templates;
        b.variants += tr.variants;
        b.assigned += tr.in_campaign;
      }
    }
  }
  const auto bucket_name = [](const length_bucket& b) {
    return b.max_words == SIZE_MAX ? ">=" + std::to_string(b.min_words)
                                   : std::to_string(b.min_words) + "-" + std::to_string(b.max_words - 1);
  };
  const std::string threshold_text = std::to_string(o.duplicate_jaccard).substr(0, 4);
  const std::string duplicate_rule =
      "same Message-ID, or exact 12-letter-shingle sets of the parsed text without its links, numbers and "
      "signatures with Jaccard >= " +
      threshold_text + " or, for sets of >= 50 shingles, containment >= " + threshold_text +
      " (digests, quoting replies)";
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  if (o.as_json) {
    json j;
    j["parameters"] = parameters_json(o, c.spam.size(), c.ham.size());
    j["template_recall"] = {
        {"recall", recall.recall},
        {"bar", recall_bar},
        {"met", recall.recall >= recall_bar},
        {"definition", definition},
        {"variants", recall.variants},
        {"assigned", recall.assigned},
        {"text_recall", pct(text_assigned, text_variants) / 100},
        {"image_only_recall", pct(recall.image_only_assigned, recall.image_only) / 100},
        {"image_only_variants", recall.image_only},
        {"split_recall",
         {{"recall", pct(recall.split_text_assigned + recall.split_image_assigned, recall.variants) / 100},
          {"text", pct(recall.split_text_assigned, text_variants) / 100},
          {"image_only", pct(recall.split_image_assigned, recall.image_only) / 100},
          {"definition",
           "text variants against the plurality campaign of the template's text variants, "
           "image-only variants against that of its image-only variants"}}},
        {"shared_plurality_campaigns", recall.shared_campaigns},
        {"folded_campaigns", tracked.folded},
        {"recall_as_observed", recall_observed},
        {"templates_sharing_their_campaign", recall.templates_sharing}};
    json worst = json::array();
    for (const auto& w : worst_templates) {
      worst.push_back({{"template", basename_of(c.spam[w.template_id].path)},
                       {"recall", static_cast<double>(w.in_campaign) / static_cast<double>(w.variants)},
                       {"campaigns", w.campaigns_spread}});
    }
    j["template_recall"]["worst"] = worst;
    json by_length = json::array();
    for (const auto& b : buckets) {
      by_length.push_back(
          {{"words", bucket_name(b)}, {"templates", b.templates}, {"recall", pct(b.assigned, b.variants) / 100}});
    }
    j["template_recall"]["by_template_words"] = by_length;
    json fm = json::array();
    for (std::size_t i = 0; i < std::min(o.worst, merges.merges.size()); ++i) {
      const auto& m = merges.merges[i];
      json templates = json::array();
      for (auto t : m.templates) {
        templates.push_back(basename_of(c.spam[t].path));
      }
      fm.push_back({{"ham", basename_of(c.ham[m.ham].path)},
                    {"campaign", id_text(m.campaign)},
                    {"spam_variants", m.spam_variants},
                    {"other_ham", m.other_ham},
                    {"spam_templates", templates}});
    }
    j["false_merges"] = {
        {"share", merges.share},
        {"bar", false_merge_bar},
        {"met", merges.share <= false_merge_bar},
        {"ham", merges.ham},
        {"merged", merges.merged},
        {"into_spam", merges.into_spam},
        {"with_ham_only", merges.with_ham_only},
        {"excluded_duplicates",
         {{"rule", duplicate_rule},
          {"same_message_id", merges.excluded_message_id},
          {"exact_shingle_jaccard", merges.excluded_jaccard},
          {"containment", merges.excluded_containment}}},
        {"share_counting_containment", merges.share_counting_containment},
        {"comparing_words", {{"merged", merges_words.merged}, {"share", merges_words.share}}},
        {"comparing_everything", {{"merged", merges_everything.merged}, {"share", merges_everything.share}}},
        {"worst", fm}};
    j["throughput"] = {
        {"fingerprints", fingerprinted},
        {"seconds", fp_seconds},
        {"fingerprints_per_second", fingerprints_per_second},
        {"mb_per_second", mb_per_second},
        {"what", "mime::parse + fingerprinter::compute, one thread, messages in memory"},
        {"variants_generated_per_second", static_cast<double>(run->items.size()) / run->generate_seconds},
        {"tracker_observes_per_second", static_cast<double>(tracked.observed) / tracked.seconds}};
    j["memory"] = {{"campaigns", tracked.campaigns},
                   {"observed", tracked.observed},
                   {"tracker_heap_bytes", tracked.heap_bytes},
                   {"bytes_per_campaign", bytes_per_campaign},
                   {"bytes_per_observed_message", bytes_per_message},
                   {"rss_growth_bytes", tracked.rss_bytes},
                   {"what", "glibc mallinfo2 heap in use, before vs after the tracking phase"}};
    j["variants_with_new_mime_anomalies"] = run->new_anomaly_variants;
    json per = json::object();
    for (const auto& s : singles) {
      per[s.name] = {{"recall", s.r.recall}};
      if (s.bit >= 0) {
        per[s.name]["variants_applied"] = s.r.applied[s.bit];
        per[s.name]["recall_where_applied"] = pct(s.r.applied_assigned[s.bit], s.r.applied[s.bit]) / 100;
      }
    }
    j["per_mutation"] = per;
    j["wall_seconds"] = wall;
    std::printf("%s\n", j.dump(2).c_str());
    return exit_ok;
  }

  std::printf(
      "portwarden campaigns eval: %zu templates x %u variants (seed %llu), %zu ham; %u bots per campaign "
      "from %u, over %.1f h\n",
      c.spam.size(), o.variants, static_cast<unsigned long long>(o.seed), c.ham.size(), o.bots_per_campaign, o.bot_pool,
      o.hours);
  std::printf("  mutations: %s\n", mutations_text(o.mutations).c_str());
  std::printf("  fingerprint: %zu-word shingles, %zu bins; tracker: %zu bands x %zu rows, similarity %.2f, k %zu\n",
              o.fingerprint.shingle_words, o.fingerprint.bins, o.tracker.bands, o.tracker.rows, o.tracker.similarity,
              o.tracker.k);
  std::printf("  template recall   %.2f %%  (bar >= 95 %%: %s)  text variants %.2f %%, image-only %.2f %% (%zu)\n",
              recall.recall * 100, recall.recall >= recall_bar ? "met" : "MISSED", pct(text_assigned, text_variants),
              pct(recall.image_only_assigned, recall.image_only), recall.image_only);
  std::printf("                    %s; %zu campaigns are the plurality campaign of several templates (%zu templates)\n",
              definition.c_str(), recall.shared_campaigns, recall.templates_sharing);
  std::printf(
      "                    split view (image-only variants share no text with the others, so judged against "
      "the plurality campaign of the template's image-only variants): %.2f %% (text %.2f %%, image-only "
      "%.2f %%)\n",
      pct(recall.split_text_assigned + recall.split_image_assigned, recall.variants),
      pct(recall.split_text_assigned, text_variants), pct(recall.split_image_assigned, recall.image_only));
  std::printf("                    by template length (words of parsed text):");
  for (const auto& b : buckets) {
    std::printf(" %s: %.2f %% (%zu templates);", bucket_name(b).c_str(), pct(b.assigned, b.variants), b.templates);
  }
  std::printf("\n");
  std::printf(
      "  false merges      %.3f %%  (bar <= 0.1 %%: %s)  %zu of %zu ham: %zu into spam campaigns, %zu with "
      "other ham only\n",
      merges.share * 100, merges.share <= false_merge_bar ? "met" : "MISSED", merges.merged, merges.ham,
      merges.into_spam, merges.with_ham_only);
  std::printf(
      "                    not counted (genuine duplicates: %s): %zu by Message-ID, %zu by Jaccard, %zu by "
      "containment; counting the containment ones: %.3f %%; comparing 3-word shingles with the last signature cut "
      "(the judge of 2026-11-28): %zu ham, %.3f %%; comparing links, numbers and signatures too: %zu ham, "
      "%.3f %%\n",
      duplicate_rule.c_str(), merges.excluded_message_id, merges.excluded_jaccard, merges.excluded_containment,
      merges.share_counting_containment * 100, merges_words.merged, merges_words.share * 100, merges_everything.merged,
      merges_everything.share * 100);
  std::printf("  throughput        %.0f fingerprints/s, %.1f MB/s (parse + fingerprint, one thread, %zu messages)\n",
              fingerprints_per_second, mb_per_second, fingerprinted);
  std::printf(
      "  tracker memory    %.1f bytes per campaign, %.1f per observed message (heap %zu bytes for %zu "
      "campaigns from %zu messages; RSS grew %zu bytes)\n",
      bytes_per_campaign, bytes_per_message, tracked.heap_bytes, tracked.campaigns, tracked.observed,
      tracked.rss_bytes);
  std::printf("  generator         %.0f variants/s; %zu variants with MIME anomalies their template had not\n",
              static_cast<double>(run->items.size()) / run->generate_seconds, run->new_anomaly_variants);
  if (!singles.empty()) {
    std::printf("  per mutation (alone, spam only; recall overall / where the mutation applied):\n");
    for (const auto& s : singles) {
      if (s.bit < 0) {
        std::printf("    %-17s %.2f %%\n", s.name.c_str(), s.r.recall * 100);
      } else {
        std::printf("    %-17s %.2f %% / %.2f %% of %zu\n", s.name.c_str(), s.r.recall * 100,
                    pct(s.r.applied_assigned[s.bit], s.r.applied[s.bit]), s.r.applied[s.bit]);
      }
    }
  }
  std::printf("  worst templates:");
  for (const auto& w : worst_templates) {
    std::printf(" %s %.0f%% (%zu campaigns);", basename_of(c.spam[w.template_id].path).c_str(),
                100.0 * static_cast<double>(w.in_campaign) / static_cast<double>(w.variants), w.campaigns_spread);
  }
  std::printf("\n  worst false merges:");
  for (std::size_t i = 0; i < std::min(o.worst, merges.merges.size()); ++i) {
    const auto& m = merges.merges[i];
    std::printf(" %s in %s (%zu spam, %zu ham);", basename_of(c.ham[m.ham].path).c_str(), id_text(m.campaign).c_str(),
                m.spam_variants, m.other_ham);
  }
  std::printf("\n  wall time %.1f s\n", wall);
  return exit_ok;
}

}  // namespace pw::app
