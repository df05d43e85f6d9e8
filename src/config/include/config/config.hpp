// config/config.hpp — portwarden.toml: the typed settings and the one registry of every option.
//
// Purpose: reads the daemon's configuration file into `settings`, reports every problem in it, and
// describes every option (for `portwarden config --help`, `config check` and docs/CONFIG.md). Each
// option is declared exactly once, in config.cpp's registry: its dotted name, type, limits, help text
// and the field it fills. Its default is the field's default member initialiser (read from a
// default-constructed `settings`), so no default is written twice.
//
// Guarantees: `load_*` collects all errors, not just the first, each as `origin:line:column: message`
// (syntax errors at toml++'s position — parsing stops at the first —; unknown keys, with a
// suggestion when a known key is close; wrong types; out-of-range values; bad listener addresses and
// durations; cross-field checks such as the behaviour engine's own validation and plans named by
// subscriber entries). Unknown keys are errors, never ignored. Messages are sorted by position.
// Keys left out take their default. A `[[engine.plans]]` list replaces the built-in plans as a
// whole; a key left out of a plan takes the default shown for `engine.plans[].<key>`.
// Relative paths (type "path") are resolved against the directory of the configuration file.
// Ownership: results are values.
// Thread-safety: all functions are reentrant; nothing is shared.
// Untrusted input: the text is operator-written but parsed as untrusted (fuzzed in
// fuzz/config_fuzz.cpp): at most `max_config_bytes`, at most `max_reported_errors` messages, values
// quoted back are cut and stripped of control characters. The only file-system access besides reading
// the file is `stat` of the configured paths (secret file, subscriber file, model).
// Failure modes: `errc::io` when the file cannot be read (the message names it), else
// `errc::invalid_config` whose message is all problems, one per line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "behavior/engine.hpp"
#include "campaign/tracker.hpp"
#include "fingerprint/fingerprint.hpp"
#include "common/result.hpp"
#include "desk/exemption_rules.hpp"
#include "desk/lifecycle.hpp"
#include "desk/notice.hpp"
#include "identity/directory.hpp"

namespace pw::config {

// Where a server listens: a TCP address, a Unix socket, or nowhere. Text forms, as in Postfix:
// "inet:127.0.0.1:10050", "inet:[::1]:10050", "unix:/run/portwarden/milter.sock", "" (disabled).
// Hosts are literal IP addresses (binding must not depend on DNS); "0.0.0.0" or "[::]" listen on all.
struct listen_address {
  enum class kind : std::uint8_t { disabled, inet, unix_socket };
  kind type = kind::disabled;
  std::string host;  // inet: the address without brackets
  std::uint16_t port = 0;
  std::string path;  // unix_socket: an absolute path

  static listen_address inet(std::string host, std::uint16_t port);
  static listen_address unix_socket(std::string path);
  std::string to_string() const;  // the text form, which parse_listen_address reads back

  bool operator==(const listen_address&) const = default;
};

// errc::invalid_config with what is wrong (without the option name).
result<listen_address> parse_listen_address(std::string_view text);

// "250ms", "30s", "10m", "2h", "7d": a non-negative integer and a unit, to milliseconds.
// errc::invalid_config for a missing unit, an unknown unit or overflow.
result<std::int64_t> parse_duration_ms(std::string_view text);
// The largest unit that divides `ms` exactly: 120000 → "2m", 1500 → "1500ms".
std::string format_duration(std::int64_t ms);

// What the relay answers when a verdict misses its deadline or the backend fails. "tag" is not
// offered: when no verdict was reached there is nothing to tag with.
enum class fallback_action : std::uint8_t { accept, tempfail };
enum class log_level : std::uint8_t { error, warning, info, debug };
// Where the daemon's "now" comes from: the system clock, or `PUT /api/v1/clock` (simulators replaying
// traffic on simulated time through a real relay; never for production).
enum class clock_source : std::uint8_t { system, api };
// Which accepted messages carry the X-Portwarden header: every one, or only those whose subscriber is
// at watch or above (or that observe-only would have acted on). Postfix's cleanup writes every
// header a milter adds into the queue file, so "flagged" spares that work on ordinary mail.
enum class tag_mode : std::uint8_t { all, flagged };

struct server_settings {
  listen_address milter = listen_address::inet("127.0.0.1", 10050);
  listen_address policy = listen_address::inet("127.0.0.1", 10040);
  listen_address http = listen_address::inet("127.0.0.1", 10080);
  std::string user;  // drop to this user after binding; "" = keep the starting user
  std::int64_t worker_threads = 2;
  std::int64_t verdict_deadline_ms = 2000;  // well inside Postfix's milter_command_timeout (30s)
  std::int64_t inline_verdict_bytes = 64 * 1024;  // smaller messages are decided on the network loop
  fallback_action fallback = fallback_action::accept;
  std::int64_t drain_timeout_ms = 10'000;
  std::int64_t max_message_bytes = 10LL * 1024 * 1024;
  clock_source clock = clock_source::system;
  tag_mode tag = tag_mode::all;
};

struct classifier_settings {
  std::string model;  // "" = content-blind: behaviour evidence only
};

// Cross-subscriber campaign detection (one-way fingerprints; see campaign/tracker.hpp).
struct campaign_settings {
  bool enabled = true;
  campaign::tracker_settings tracker;
  fingerprint::options fingerprint;
};

struct store_settings {
  std::string path = "/var/lib/portwarden/state.db";
  std::int64_t snapshot_interval_ms = 30'000;
  std::int64_t decision_retention_ms = 30LL * 24 * 3600 * 1000;
};

struct privacy_settings {
  std::string secret_file;  // key of the recipient hashes; "" = a fixed built-in key (warned about)
};

struct subscriber_settings {
  std::string file;  // subscriber table (identity::cidr_directory::load format); "" = none
  std::vector<identity::directory_entry> entries;  // inline [[subscribers.entry]] tables
};

struct log_settings {
  log_level level = log_level::info;
};

// Evidence from after the relay: the Postfix delivery log (ingest/maillog.hpp).
struct ingest_settings {
  std::string maillog;  // the relay's Postfix log (syslog file or maillog_file); "" = no bounce evidence
  std::int64_t maillog_poll_ms = 1'000;
  std::size_t attribution_capacity = 500'000;        // queue ids remembered for bounces ...
  std::int64_t attribution_ttl_ms = 2LL * 3600'000;  // ... for this long
};

// Port-25 defaults and exemption rules of one plan (names as in engine.plans).
struct desk_plan_settings {
  std::string name;
  desk::exemption_plan_rules rules;

  bool operator==(const desk_plan_settings&) const = default;
};

// The abuse desk: cases, customer notices, self-help, port-25 exemptions and the web UI.
struct desk_settings {
  bool enabled = true;
  std::string ledger;    // "" = desk.db in the directory of store.path
  std::string web_root;  // the built web UI (make web → build/web); "" = no UI pages (the API stays)
  std::string public_url = "http://127.0.0.1:10080";  // base of self-help links in notices
  std::string isp_name = "your Internet provider";
  bool secure_cookies = false;  // set when the desk is reached through TLS (a reverse proxy)
  std::int64_t session_ttl_ms = 8LL * 3600 * 1000;
  std::int64_t help_token_ttl_ms = 14LL * 24 * 3600 * 1000;
  std::vector<std::string> release_command{"postsuper", "-H", "-"};
  std::int64_t release_timeout_ms = 30'000;
  desk::lifecycle_settings cases;
  listen_address notice_relay;  // where notices are submitted (SMTP); disabled = no notices
  std::string notice_from = "abuse@localhost";
  std::string notice_from_name = "Abuse desk";
  std::string notice_templates = "/etc/portwarden/desk";
  desk::notice_cadence cadence;
  std::vector<desk_plan_settings> plans = default_desk_plans();

  static std::vector<desk_plan_settings> default_desk_plans();  // residential, business, bulk
};

struct settings {
  server_settings server;
  behavior::engine_settings engine;
  classifier_settings classifier;
  campaign_settings campaigns;
  store_settings store;
  privacy_settings privacy;
  subscriber_settings subscribers;
  desk_settings desk;
  ingest_settings ingest;
  log_settings log;
};

struct loaded_config {
  settings values;
  std::vector<std::string> warnings;  // `origin:line:column: warning: ...`; the file is still usable
};

inline constexpr std::size_t max_config_bytes = 64U * 1024 * 1024;
inline constexpr std::size_t max_reported_errors = 100;

[[nodiscard]] result<loaded_config> load_file(const std::string& path);
// `origin` names the text in messages; relative paths resolve against `base_dir` ("" = as written).
[[nodiscard]] result<loaded_config> load_string(std::string_view text, std::string_view origin,
                                                const std::string& base_dir = "");

// Every option, by section: dotted name, type, default and help, as Markdown (readable as plain text).
std::string describe_options();
// The settings as a complete TOML file (every option, defaults included); `load_string` reads it back
// to equal settings. Subscriber contacts are included: this is operator data, not message content.
std::string to_toml(const settings& s);

std::string_view fallback_action_name(fallback_action a) noexcept;
std::string_view log_level_name(log_level l) noexcept;
std::string_view clock_source_name(clock_source c) noexcept;
std::string_view tag_mode_name(tag_mode t) noexcept;

// The deployment secret that keys recipient hashes, fingerprints and campaign ids: the contents of
// `privacy.secret_file`, or a fixed built-in key when none is configured (the loader warns; hashes
// are then only as private as that public constant). Shared by the daemon and the simulator, so a
// simulated run keys its hashes exactly as the daemon it is compared with. The loader has already
// checked the file exists and is long enough; an unreadable file reads as empty.
std::string read_deployment_secret(const privacy_settings& p);

// The subscriber table: subscribers.file and the inline subscribers.entry tables as one directory
// (a key listed in both is an error). errc::io when the file cannot be read, errc::invalid_input for
// its content (`file:line: what`).
result<std::shared_ptr<const identity::cidr_directory>> load_directory(const settings& s);

// The desk ledger's path: desk.ledger, or desk.db beside store.path when that is "".
std::string desk_ledger_path(const settings& s);
// A plan's desk rules: the desk.plans entry of that name, or blocked-by-default rules with no
// self-service when the plan has none.
desk::exemption_plan_rules desk_rules_for(const desk_settings& d, std::string_view plan);

}  // namespace pw::config
