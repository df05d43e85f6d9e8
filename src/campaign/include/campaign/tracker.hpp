// campaign/tracker.hpp — campaigns: one template sent by many subscribers at about the same time.
//
// Purpose: a botnet inside an ISP shows itself through many subscribers sending near-duplicates of
// one template. The tracker groups message signatures (fingerprint::signature) into campaigns and
// counts, per campaign, messages and distinct subscribers over a window; a campaign is *active* when
// at least `k` distinct subscribers sent it within `window_ms`. The behaviour engine combines that
// evidence with content probability and behaviour (the tracker decides nothing about subscribers).
//
// Matching: a signature's bins are cut into `bands` bands of `rows` bins; each band is a key into an
// index of the campaigns' signatures (locality-sensitive hashing; the first `indexed_members` members
// of a campaign are indexed, so later variants find it through any of them), and the candidates
// are checked by similarity (share of agreeing bins, ≥ `similarity`; ≥ `short_similarity` for a
// signature of fewer than `short_shingles` shingles; an identical text for one of fewer than
// `min_words` words, where a template cannot be told from coincidence) against the representative —
// the first member's signature, whose bins the campaign narrows to those its members agree on (bins
// a hash-buster tail changes stop counting) — and against each indexed member's banded bins; the
// best agreement counts, so a template that drifts (a new generation of URL domains) stays one
// campaign through the members that saw the drift. A message with little text (< `attachment_max_shingles`
// shingles) also joins a campaign sharing one of its attachment hashes (image-only variants); a
// message with no text but attachments first looks for a text campaign whose members (from the
// second on, up to `max_subjects`) carried its exact normalised subject (`subject_text`), so an
// image-only variant joins its template's campaign, and its image then links the later ones. A
// campaign of images alone keeps its members' subjects too: when a text campaign's member carries
// one of them (or a member of a text campaign carries its image), the text campaign absorbs it: its
// images (the oldest of the text campaign's give way beyond `max_attachments`: a proven link
// matters more) and subjects lead there, its messages and subscribers count there, and its id
// resolves there (`find`; up to 8 absorbed ids per campaign, kept in snapshots). No match: the
// message starts a new campaign of one.
//
// Guarantees and approximations (the contract):
// - Distinct subscribers are exact up to `exact_subscribers` per campaign (keyed 32-bit hashes of the
//   ids, with last-seen times, so the window count is exact too); beyond that, HyperLogLog sketches
//   (2^8 registers, ~6.5 % standard error) for the total and for the current and previous window
//   generations (window count then spans between one and two windows). Message counts per window use
//   the same two generations (aligned to multiples of window_ms).
// - The tracker keeps the low byte of each bin (representative and indexed members); band keys are
//   hashes of those bytes, so the index is derived state: rebuilt when it grows or holds too many
//   stale entries, and complete after restore (every indexed member, the first included).
// - Campaign ids are looked up through an id → slot table (find, restore), not by a scan.
// - One subscriber sending any number of copies is one campaign with 1 distinct subscriber: never
//   active (single-sender bulk is for the engine to judge, with `messages` and `distinct_subscribers`).
// - Campaign ids are opaque ("c-" + 16 hex digits), keyed, stable for the campaign's lifetime and
//   across snapshot/restore.
// - Memory is bounded by `max_campaigns`: a new campaign beyond it evicts the least recently seen of
//   a sample of `eviction_sample` campaigns (approximate LRU). Campaigns idle for `expire_idle_ms`
//   are forgotten by `expire`. ≤ 128 bytes per tracked single-message campaign including the index
//   (bench/fingerprint_bench.cpp, 1 M campaigns): a 24-byte record and one byte per bin (32), kept
//   in chunks (no growth slack), and 4-byte index cells for the 9 bands and the id in tables kept
//   64–80 % full: 56 + 40 / load = 106–119 bytes with the defaults; larger campaigns add their
//   extras (counts, subscriber set or sketches, domains, indexed members' bins).
// - k-anonymity: content-derived evidence (URL domains, subject-shape hash, first-seen time) is in a
//   view only once the campaign was sent by ≥ k distinct subscribers in total (k of the `list` call);
//   below that a view holds only the opaque id and counts. A campaign keeps URL domains only from its
//   second message on, so a campaign of one holds no text at all.
//
// Ownership: the tracker copies what it keeps from a signature; views and records are values.
// Thread-safety: every public member function may be called concurrently; one mutex guards the
// state (an observe holds it for a few microseconds: see BENCHMARKS.md for the measured contention
// at the daemon's rates). One mutex also means two workers can never start two campaigns for one
// template at the same moment.
// Untrusted input: signatures derive from hostile messages but are fixed-size hashes; subscriber ids
// are hashed. `restore` parses blobs from the store as untrusted: corrupt, truncated, foreign or
// future-version blobs are refused with errc::corrupt / errc::invalid_input, never a crash.
// Privacy: the tracker never sees text other than the signature's registrable URL domains; snapshot
// blobs hold bins, hashes, counts, times and (campaigns of ≥ 2 messages) those domains.
// Time: milliseconds since the epoch, passed in; an earlier `now_ms` than seen counts as no time passed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/lookup.hpp"
#include "common/result.hpp"
#include "fingerprint/fingerprint.hpp"

namespace pw::campaign {

// Defaults measured with `portwarden campaigns eval` (SpamAssassin split-a): 9 × 3 bands is what
// fits the memory bar (16 × 2 found 0.2 % more variants); similarity 0.6 beat 0.5 on both recall and
// false merges once word salad left the shingles (92.28 % / 40 ham against 92.24 % / 47; 0.7 gave
// 92.02 % / 33) and changed no detection in `portwarden simulate` (S2-S5, S8, S9 files, seeds 1-3); raising
// short_shingles to 48 or min_words to 40 each trade recall for a few false merges. Comparing with
// the indexed members as well as the representative, 8 indexed members rather than 4 and 8
// attachments rather than 4 (with absorbed images of images-alone campaigns): recall 93.74 → 95.15 %,
// false merges unchanged at 40 (BENCHMARKS.md). Once those raised recall, similarity 0.7 bought 7
// fewer false merges (one list's mailings sharing a long legal disclaimer, 5 ham) for 0.17 points of
// recall (95.82 → 95.65 %, seeds 2 and 3: 95.53 %, 95.46 %).
struct tracker_settings {
  std::size_t k = 3;                                  // distinct subscribers for active and for evidence
  std::int64_t window_ms = 24LL * 3600 * 1000;        // activity window
  double similarity = 0.70;                           // minimum share of agreeing bins to join
  std::size_t min_words = 24;                         // a text of fewer words joins only an identical one
  std::size_t short_shingles = 32;                    // a signature of fewer shingles ...
  double short_similarity = 0.80;                     // ... needs this share instead
  std::int64_t expire_idle_ms = 7LL * 24 * 3600 * 1000;  // forget campaigns idle this long
  std::size_t max_campaigns = 2'000'000;              // memory bound (eviction of least recently seen)
  std::size_t eviction_sample = 8;                    // campaigns sampled per eviction
  std::size_t bands = 9;                              // LSH bands ...
  std::size_t rows = 3;                               // ... of this many bins (bands × rows ≤ signature bins)
  std::size_t exact_subscribers = 8;                  // exact distinct-subscriber set up to this size
  std::size_t attachment_max_shingles = 16;           // below this, attachment hashes join campaigns
  std::size_t max_domains = 8;                        // URL domains kept per campaign
  std::size_t max_attachments = 8;                    // attachment hashes kept per campaign
  std::size_t max_subjects = 32;                      // subject-text hashes kept per text campaign
  std::size_t persist_min_messages = 2;               // campaigns smaller than this are not snapshotted
  std::size_t indexed_members = 8;                    // members whose band keys index (and whose bins are
                                                      // compared with) the campaign
};

// errc::invalid_config naming the offending setting (k ≥ 1, windows > 0, similarity in (0,1],
// bands ≥ 1, rows ≥ 1, bands × rows ≤ bins, caps ≥ 1, max_campaigns < 2^24).
result<void> validate(const tracker_settings& s, std::size_t signature_bins);

// What observe tells the caller about the message's campaign.
struct membership {
  std::string id;                         // "c-" + 16 hex
  bool new_campaign = false;              // this message started it
  bool joined_by_attachment = false;
  std::uint64_t messages = 0;             // since first seen
  std::uint32_t messages_in_window = 0;   // within window_ms (current + previous generation)
  std::uint32_t distinct_subscribers = 0; // within window_ms
  std::uint32_t distinct_subscribers_total = 0;
  bool active = false;                    // distinct_subscribers ≥ k
  std::int64_t first_seen_ms = 0;
};

// Content-derived evidence; present only under the k-anonymity rule.
struct evidence {
  std::int64_t first_seen_ms = 0;
  std::string subject_shape;              // keyed hash, 16 hex digits ("" when no subject)
  std::vector<std::string> url_domains;   // registrable domains, sorted
};

struct campaign_view {
  std::string id;
  bool active = false;
  std::uint64_t messages = 0;
  std::uint32_t messages_in_window = 0;
  std::uint32_t distinct_subscribers = 0;
  std::uint32_t distinct_subscribers_total = 0;
  std::int64_t last_seen_ms = 0;
  std::optional<evidence> shown;          // only when distinct_subscribers_total ≥ the list's k
};

struct list_options {
  bool active_only = true;
  std::size_t evidence_k = 0;             // 0: tracker_settings::k; never below it
  std::size_t limit = 1000;               // most subscribers first
};

struct snapshot_record {
  std::string id;
  std::vector<std::byte> blob;  // versioned binary state (version 3); opaque to the store
};

struct changes {
  std::vector<snapshot_record> updated;   // campaigns changed since the previous call
  std::vector<std::string> removed;       // expired or evicted since the previous call
};

class tracker {
 public:
  // Settings must pass `validate` for `signature_bins` (asserted). `deployment_secret` keys the
  // subscriber hashes and campaign ids.
  tracker(tracker_settings settings, std::size_t signature_bins, std::string_view deployment_secret);
  ~tracker();
  tracker(const tracker&) = delete;
  tracker& operator=(const tracker&) = delete;

  // Records one message. A signature with neither text (shingles == 0) nor attachments has nothing
  // to compare: no campaign (membership with an empty id and zero counts).
  membership observe(const fingerprint::signature& sig, std::string_view subscriber, std::int64_t now_ms);

  // Campaigns (active ones by default), most distinct subscribers first.
  std::vector<campaign_view> list(std::int64_t now_ms, const list_options& opts = {}) const;
  // One campaign by id, under the same k-anonymity rule (evidence_k 0: settings' k). The id of a
  // campaign absorbed by another finds the absorbing campaign (whose view carries its own id).
  lookup<campaign_view> find(std::string_view id, std::int64_t now_ms, std::size_t evidence_k = 0) const;

  changes collect_changes();
  // Replaces (or creates) a campaign from a blob written by collect_changes (version 3, or 2 from
  // before absorbed ids were kept; version 1 blobs, which kept full-precision member bins, are
  // refused as unknown). A blob of a campaign that a restored one absorbed is skipped; a restored
  // campaign removes the campaigns it absorbed if they were restored first.
  result<void> restore(std::string_view id, std::span<const std::byte> blob);

  // Forgets campaigns idle for expire_idle_ms; returns how many (their ids go to collect_changes).
  std::size_t expire(std::int64_t now_ms);

  std::size_t size() const;
  const tracker_settings& settings() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

}  // namespace pw::campaign
