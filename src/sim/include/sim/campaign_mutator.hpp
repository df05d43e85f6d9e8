// sim/campaign_mutator.hpp — spam campaigns from one template, randomised the way botnets do it.
//
// Purpose: turn one raw spam message (the campaign's template) into any number of variants that
// differ the way the messages of one measured botnet campaign differ, so that campaign detection
// (issue 4's `portwarden campaigns eval`) and the ISP simulator (issue 5's bots) can be measured on
// realistic, reproducible traffic. Each mutation can be switched on alone, so a detector's recall can
// be measured per mutation.
//
// The mutations and their defaults (the kinds of polymorphism are those observed in Storm and
// Cutwail spam: Kreibich et al., "On the Spam Campaign Trail", LEET 2008 and "Spamcraft: An Inside
// Look At Spam Campaign Orchestration", LEET 2009 — Storm templates expand macros for dictionary
// words, link domains, recipient names and subject lines; Stone-Gross et al., "The Underground
// Economy of Spam: A Botmaster's Perspective of Coordinating Large-Scale Spam Campaigns", LEET 2011 —
// Cutwail templates with the same macro kinds; Pitsillidis et al., "Botnet Judo: Fighting Spam with
// Itself", NDSS 2010 — template inference from those botnets' output. The figures (20–100 words,
// ~70 messages, 30 subjects, 10 % images) are issue 4's):
//   hash_buster       20–100 random dictionary words appended to every text part (in a <p> before
//                     </body> in HTML), a fresh draw per variant.
//   domain_rotation   every registrable domain of the template's URLs is replaced by a generated one
//                     (random label + TLD from a spam-heavy pool), the same within a generation of
//                     `domain_rotation_period` (70) consecutive variants and new in the next, so the
//                     URL slots stay and only the domains change. Hosts keep their subdomain labels.
//   subject_rotation  the Subject comes from a pool of `subject_pool_size` (30) subjects per campaign:
//                     entry 0 is the template's, the others rewrite it (Re:/Fwd: prefixes, one or two
//                     words swapped for dictionary words, a random tag or number appended, upper case).
//   personalisation   To: carries a generated recipient ("First Last" <address>), the text starts with
//                     "Dear First," and ends with "This message was sent to <address>.".
//   whitespace_noise  at a share `whitespace_noise_rate` (5 %) of the whitespace runs outside HTML
//                     tags: 1–3 extra spaces, a line break instead of the space, or an extra blank line.
//   html_noise        in HTML parts only, at a share `html_noise_rate` (5 %) of the whitespace runs
//                     outside tags: an HTML comment holding a dictionary word, an empty inline tag pair
//                     (<b></b>, <font></font>...), or an invisible span (display:none) holding a word.
//   image_only        a share `image_only_share` (10 %) of the variants are replaced by a message whose
//                     only content is one inline GIF attachment: the template's headers, the variant's
//                     Subject and To, a multipart/mixed body with no text part. The GIF is one of
//                     `image_pool_size` noise images of the campaign (valid GIF89a, 200x50 pixels):
//                     by default 1, the same image bytes for the whole campaign; a few (3) model
//                     campaigns that rotate their images, which exact attachment hashes cannot link.
// Every variant also gets a fresh Message-ID, as bots generate them; the rest of the template (other
// headers, the MIME structure, attachments, charsets, transfer encodings) is kept. Text parts are
// decoded, mutated and re-encoded with their own transfer encoding, so a variant is valid MIME
// wherever the template was; text parts in UTF-16/UTF-32 are left unmutated (inserting ASCII there
// would corrupt them).
//
// Guarantees: deterministic — the same template, seed and settings give byte-identical variants on
// every platform (own PRNG and word lists, no std distributions). `make(i)` is random access: variant
// i depends only on (template, seed, settings, i), so variants can be generated lazily, in any order
// and on several threads. Index order is the campaign's send order (domain generations follow it).
//
// Ownership: a mutator owns a copy of the template and its campaign-level pools. Thread-safety:
// `make` is const and touches no shared mutable state; one mutator may serve many threads.
// Untrusted input: the template is raw mail (it is parsed with mime::parse, which is bounded);
// malformed templates give best-effort variants. Failure modes: `create` refuses settings that make
// no sense (min > max words, zero period or pool, shares outside [0, 1]); nothing else fails.
// Privacy: this is a test-traffic generator; its output is synthetic mail and holds no subscriber data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pw::sim {

enum class mutation : std::uint32_t {
  none = 0,
  hash_buster = 1u << 0,
  domain_rotation = 1u << 1,
  subject_rotation = 1u << 2,
  personalisation = 1u << 3,
  whitespace_noise = 1u << 4,
  html_noise = 1u << 5,
  image_only = 1u << 6,
};
inline constexpr std::uint32_t mutation_count = 7;
inline constexpr mutation all_mutations = static_cast<mutation>((1u << mutation_count) - 1);

constexpr mutation operator|(mutation a, mutation b) {
  return static_cast<mutation>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr mutation& operator|=(mutation& a, mutation b) { return a = a | b; }
constexpr bool has(mutation set, mutation flag) {
  return (static_cast<std::uint32_t>(set) & static_cast<std::uint32_t>(flag)) != 0;
}
// A stable lowercase name for each single flag ("hash_buster"); "unknown" for sets or non-flags.
std::string_view mutation_name(mutation flag);

struct mutation_settings {
  mutation enabled = all_mutations;
  std::uint32_t hash_buster_min_words = 20;
  std::uint32_t hash_buster_max_words = 100;
  std::uint32_t domain_rotation_period = 70;  // consecutive variants sharing one generation of domains
  std::uint32_t subject_pool_size = 30;
  double whitespace_noise_rate = 0.05;  // share of whitespace runs outside tags that get extra whitespace
  double html_noise_rate = 0.05;        // share of whitespace runs in HTML text that get a comment/tag/span
  double image_only_share = 0.10;       // share of variants that are image-only
  std::uint32_t image_pool_size = 1;    // distinct images per campaign
};

// The recipient a variant is addressed to: what a fingerprinter must strip as personalisation.
struct recipient {
  std::string name;     // "First Last"
  std::string address;  // local@domain, under RFC 2606 example domains
};

struct variant {
  std::string raw;  // the whole message, RFC 5322 / MIME
  recipient to;     // generated for every variant; written into the message only under personalisation
  mutation applied = mutation::none;    // the mutations that shaped this variant (image_only excludes the text ones)
  std::uint32_t domain_generation = 0;  // index / domain_rotation_period
  std::uint32_t subject_index = 0;      // into subject_pool(); 0 without subject_rotation
  std::uint32_t image_index = 0;        // into the campaign's images, for image-only variants
};

class campaign_mutator {
 public:
  // Copies the template. `seed` selects the campaign: two mutators of one template with different
  // seeds are different campaigns (other subjects, domains, images).
  static result<campaign_mutator> create(std::string_view template_raw, std::uint64_t seed,
                                         const mutation_settings& settings = {});

  // Variant number `index` of the campaign (see the file comment for determinism).
  variant make(std::uint64_t index) const;

  const mutation_settings& settings() const { return _settings; }
  // The campaign's subjects (decoded UTF-8); entry 0 is the template's own subject.
  const std::vector<std::string>& subject_pool() const { return _subjects; }
  // The registrable domains of the template's URLs, sorted; these are the rotated URL slots.
  const std::vector<std::string>& template_domains() const { return _domains; }
  // The domain that replaces template_domains()[slot] in generation `generation`.
  std::string rotated_domain(std::size_t slot, std::uint32_t generation) const;
  // The campaign's GIF images (bytes).
  const std::vector<std::string>& images() const { return _images; }
  // How many text parts of the template are mutated (0: only headers and image-only variants change).
  std::size_t mutable_text_parts() const { return _text_parts.size(); }

 private:
  struct header_field {
    std::size_t begin = 0;  // offset of the field's first byte in _raw
    std::size_t end = 0;    // one past its last line ending
    std::string name;       // lowercase
  };
  struct text_part {
    std::size_t body_begin = 0;  // the encoded body's span in _raw
    std::size_t body_end = 0;
    std::string decoded;        // transfer-decoded bytes in the part's own charset
    std::uint8_t encoding = 0;  // mime::transfer_encoding
    bool html = false;
  };

  campaign_mutator() = default;
  std::string mutate_text(const text_part& part, const variant& v, std::uint64_t variant_seed,
                          const std::vector<std::string>& buster_words) const;
  std::string header_block(const variant& v, std::string_view subject, bool image_only,
                           std::uint64_t variant_seed) const;

  std::string _raw;
  std::uint64_t _seed = 0;
  mutation_settings _settings;
  std::string _eol = "\n";      // the template's line ending, used for everything inserted
  std::size_t _header_end = 0;  // offset of the blank line that ends the top-level header section
  std::string _separator;       // the blank line itself (eol, or empty when the template had none)
  std::vector<header_field> _fields;
  std::vector<text_part> _text_parts;
  std::vector<std::string> _domains;
  std::vector<std::string> _subjects;
  std::vector<std::string> _images;
};

}  // namespace pw::sim
