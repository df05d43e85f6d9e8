// fuzz/campaign_blob_fuzz.cpp — libFuzzer target for campaign::tracker::restore, which parses
// snapshot blobs read back from the store (untrusted: a corrupt or foreign row must be refused).
//
// The input is a blob without its trailing checksum; the target appends the checksum restore
// expects, so the fuzzer reaches the parser behind it (a wrong checksum alone is refused first).
// A blob is accepted only under the id its content carries (keyed hash of the representative's
// bins, first-seen time and first subscriber), so the target restores under the id of the campaign
// `build_known` makes; the corpus holds that campaign's real bodies (version 3 with an absorbed
// campaign, and the same as version 2), so mutations of everything but those fields reach the
// accepting path. Checked: restore never crashes or hangs and refuses with corrupt/invalid_input;
// whatever it accepted, find, list, observe, collect_changes and expire keep working, and what
// collect_changes writes restores again.
//
// The corpus is written by running the replay binary with PW_WRITE_CORPUS=DIR (no input files).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "campaign/tracker.hpp"
#include "fingerprint/fingerprint.hpp"

namespace {

using namespace pw;

constexpr std::string_view secret = "campaign blob fuzz secret";
constexpr std::int64_t minute = 60'000;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

fingerprint::signature text_signature(std::uint64_t subject) {
  fingerprint::signature sig;
  sig.bin_count = 32;
  sig.shingles = 40;
  sig.words = 60;
  sig.spots = true;
  sig.subject_text = subject;
  for (std::size_t i = 0; i < 32; ++i) {
    sig.bins[i] = static_cast<std::uint32_t>(i * 2654435761u);
  }
  sig.url_domains = {"example.com"};
  return sig;
}

fingerprint::signature image_signature(std::uint64_t subject) {
  fingerprint::signature sig;
  sig.bin_count = 32;
  sig.bins.fill(fingerprint::empty_bin);
  sig.subject_text = subject;
  sig.attachments = {0x1111};
  return sig;
}

// A campaign of images alone, then a text campaign that absorbs it; returns the text campaign's id.
std::string build_known(campaign::tracker& t) {
  t.observe(image_signature(0x2222), "a", 0);
  t.observe(image_signature(0x2222), "b", 1);
  const std::string id = t.observe(text_signature(0x3333), "s0", minute).id;
  t.observe(text_signature(0x2222), "s1", minute + 1);
  t.observe(text_signature(0x4444), "s2", minute + 2);
  return id;
}

const std::string& known_id() {
  static const std::string id = [] {
    campaign::tracker t({}, 32, secret);
    return build_known(t);
  }();
  return id;
}

std::vector<std::byte> with_checksum(std::vector<std::byte> blob) {
  const std::uint64_t sum = XXH3_64bits(blob.data(), blob.size());
  for (int i = 0; i < 8; ++i) {
    blob.push_back(static_cast<std::byte>(sum >> (8 * i)));
  }
  return blob;
}

void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  check(f != nullptr);
  check(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
  std::fclose(f);
}

// The corpus: the known campaign's body as version 3 (one absorbed id) and as version 2.
[[maybe_unused]] const bool corpus_written = [] {
  const char* dir = std::getenv("PW_WRITE_CORPUS");
  if (dir == nullptr) {
    return false;
  }
  campaign::tracker t({}, 32, secret);
  build_known(t);
  for (const auto& rec : t.collect_changes().updated) {
    if (rec.id != known_id()) {
      continue;
    }
    std::vector<std::byte> body(rec.blob.begin(), rec.blob.end() - 8);
    write_file(std::string(dir) + "/v3-absorbed", body);
    // Version 2 had no absorbed ids: the count byte and the one id (9 bytes) at the end go.
    body.resize(body.size() - 9);
    body[0] = std::byte{2};
    write_file(std::string(dir) + "/v2", body);
  }
  return true;
}();

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::byte> blob = with_checksum(std::vector<std::byte>(
      reinterpret_cast<const std::byte*>(data), reinterpret_cast<const std::byte*>(data) + size));
  campaign::tracker t({}, 32, secret);
  const auto r = t.restore(known_id(), blob);
  if (r.has_value()) {
    check(t.find(known_id(), 2 * minute).found());
  } else {
    check(r.error().code == errc::corrupt || r.error().code == errc::invalid_input);
  }
  (void)t.list(2 * minute, {.active_only = false});
  (void)t.observe(text_signature(0x2222), "later", 3 * minute);
  (void)t.observe(image_signature(0x2222), "later", 3 * minute);
  campaign::tracker again({}, 32, secret);
  for (const auto& rec : t.collect_changes().updated) {
    check(again.restore(rec.id, rec.blob).has_value());
  }
  (void)t.expire(3 * minute + 8LL * 24 * 3600 * 1000);
  return 0;
}
