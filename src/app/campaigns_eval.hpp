// app/campaigns_eval.hpp — `portwarden campaigns eval`: issue 4's measurement of campaign detection.
//
// Purpose: mutate every corpus spam template into a botnet campaign (sim::campaign_mutator), send
// the variants from a few bots per campaign interleaved in time with every corpus ham message (each
// from its own subscriber), push all of it through fingerprint::fingerprinter and campaign::tracker,
// and report:
//   - template recall: the share of variants that the tracker put into their template's campaign,
//     defined as the campaign holding the plurality of that template's variants (ties: the campaign
//     seen first); bar ≥ 95 %. Split into text and image-only variants.
//   - false merges: the share of distinct ham messages whose campaign also holds a spam variant or a
//     ham message that is not a genuine duplicate of it; bar ≤ 0.1 %. Genuine duplicates are decided
//     by exact checks, never by the LSH under test: the same Message-ID (one post, several list
//     copies), or, on the exact sets of 12-letter shingles of the parsed text's words run together
//     (lower-cased; links, words with a digit and signatures left out: what is new in each delivery
//     of one text), a Jaccard similarity ≥ `duplicate_jaccard` (copies) or a containment of the
//     smaller set (≥ 50 shingles) in the larger ≥ `duplicate_jaccard` (a digest holding the post, a
//     reply quoting all of it). How many were excluded, and why, is reported; the share is also given
//     counting the containment cases as false merges, and under the earlier judges (3-word shingles
//     with the last signature cut; every word).
//   - throughput of parse + fingerprint, one thread, variants in memory; heap bytes the tracker holds
//     per tracked campaign (glibc mallinfo2 before and after the tracking phase) and the RSS growth;
//   - per-mutation recall: the same measurement with one mutation at a time (spam only, fresh tracker),
//     so the mutation that hurts most is visible; plus a baseline with no mutation.
// Every parameter used is printed with the figures. Output names corpus files and campaign ids only,
// never message content.
//
// Failure modes: unreadable lists or messages, bad settings, a fingerprinter that cannot start
// (public suffix list): message on stderr, exit 3. Missing bars do not change the exit code.
// Thread-safety: a command, run once per process.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "campaign/tracker.hpp"
#include "fingerprint/fingerprint.hpp"
#include "sim/campaign_mutator.hpp"

namespace pw::app {

struct campaigns_eval_options {
  std::string cache;                    // corpus cache: CACHE/split-a/{train,test}.list
  std::vector<std::string> spam_lists;  // LIST files; their spam lines are the templates
  std::vector<std::string> ham_lists;   // LIST files; their ham lines are the ham
  std::uint32_t variants = 100;         // per template
  std::uint64_t seed = 1;
  bool as_json = false;
  bool per_mutation = true;
  std::uint32_t bots_per_campaign = 5;
  std::uint32_t bot_pool = 2000;  // bots are drawn from this many subscribers (they share campaigns)
  double hours = 6;               // simulated span of the traffic
  double duplicate_jaccard = 0.9;
  std::size_t worst = 10;  // how many worst templates / false merges to list
  sim::mutation_settings mutations;
  fingerprint::options fingerprint;
  campaign::tracker_settings tracker;
};

// Registers the command's options on `cmd`, bound to `o`.
void add_campaigns_eval_options(CLI::App& cmd, campaigns_eval_options& o);
// Runs the measurement and prints the report; returns the process exit code.
int run_campaigns_eval(const campaigns_eval_options& o);

}  // namespace pw::app
