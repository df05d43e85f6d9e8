// desk/notice.hpp — customer notices: when one is due, the templates, and the finished message.
//
// Purpose: the abuse desk writes to the subscriber's contact address when a case opens (the bar: the
// first notice within 60 s of a hold) and reminds them while the case stays open. This file decides
// *when* (`notice_due`, a cadence with a per-subscriber daily cap), renders the ISP's templates
// (`{{name}}` placeholders, text and HTML) and composes a complete RFC 5322 message that the caller
// hands to the configured SMTP relay. Sending, recording the notice row and advancing the case
// (lifecycle.hpp `on_notice_sent`) are the caller's.
//
// Templates: four files in the configuration directory, `notice-first.txt`, `notice-first.html`,
// `notice-reminder.txt`, `notice-reminder.html` (defaults in etc/desk/). The text file starts with
// one `Subject: ...` line and an empty line; the rest is the plain-text part. Placeholders are
// `{{name}}` (spaces inside the braces allowed) for the names in `notice_variable_names`; an unknown
// name, an unclosed `{{` or a missing Subject line is an error at load time naming the file, line and
// column, and again at render time — never silently left in the text. Values are inserted as they
// are in the text part and HTML-escaped (`pw::escape_markup`) in the HTML part; template text itself
// is not escaped (it is the ISP's markup).
//
// Guarantees of `compose_notice`: CRLF line ends only; 7-bit ASCII only (both parts are
// quoted-printable UTF-8, so no line exceeds 76 characters whatever the template holds; non-ASCII or
// long subjects and sender names become RFC 2047 encoded words); headers From, To, Subject, Date
// (RFC 5322, UTC), Message-ID (`<case-<id>.<kind>.<now_ms>@<domain>>`, deterministic), MIME-Version,
// `Auto-Submitted: auto-generated` (RFC 3834, so vacation responders stay quiet), X-Portwarden-Case,
// and a multipart/alternative body (text, then HTML) whose boundary starts with "=_", a sequence
// quoted-printable output cannot contain. Header injection is impossible: a CR, LF or NUL in any
// variable, and anything but a plain ASCII addr-spec in an address, is an error.
// Privacy: the message carries the case's numbers (the engine's reasons) and the subscriber's own
// contact address, never anything about the mail that was held.
// Ownership: plain values. Thread-safety: pure functions, except `load_templates`, which reads files.
// Untrusted input: template files are operator-written but parsed as untrusted (fuzzed in
// fuzz/notice_template_fuzz.cpp), bounded by `max_template_bytes`; variable values come from the
// engine and the ledger (the subscriber id is a SASL login) and are escaped or rejected as above.
// Failure modes: errc::io (a template file cannot be read; the message names the file and the OS's
// reason), errc::invalid_config (a template problem, as file:line:column), errc::invalid_input (a
// value or address that cannot go into a message, or output beyond `max_rendered_bytes`).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "ledger/ledger.hpp"

namespace pw::desk {

enum class notice_kind { first, reminder };
std::string_view notice_kind_name(notice_kind k) noexcept;  // "first", "reminder" (ledger notice_row.kind)

struct notice_cadence {
  std::int64_t first_delay_ms = 0;                     // first notice this long after the case opened (0: at once)
  std::int64_t reminder_interval_ms = 24 * 3'600'000;  // between notices of one case
  std::int64_t max_reminders = 3;                      // after the first notice
  std::int64_t max_per_day = 4;                        // notices per subscriber in any 24 h, all cases together
};

// Which notice the case needs now, if any. Only open, notified and escalated cases with a contact
// address get notices (monitoring cases were just fixed; resolved ones are over). `notices_sent`
// and `last_notice_ms` of the case say what went out before (count only notices the relay accepted;
// pacing retries after a failed send is the caller's). `sent_to_subscriber_last_day`: notices to
// this subscriber in the last 24 h, all cases together, for `max_per_day`.
std::optional<notice_kind> notice_due(const ledger::case_row& c, bool has_contact,
                                      std::int64_t sent_to_subscriber_last_day, std::int64_t now_ms,
                                      const notice_cadence& cadence = {});

// --- templates ---

inline constexpr std::array<std::string_view, 9> notice_variable_names{
    "subscriber", "case_id", "level", "help_url", "isp_name", "opened_at", "summary", "held_count", "exemption_note",
};

// The values, already as text. `make_notice_variables` fills them from a case.
struct notice_variables {
  std::string subscriber;
  std::string case_id;
  std::string level;
  std::string help_url;
  std::string isp_name;
  std::string opened_at;       // RFC 3339 UTC
  std::string summary;         // the engine's reasons, plain words with numbers
  std::string held_count;      // messages waiting in the hold queue
  std::string exemption_note;  // e.g. that a port-25 exemption is suspended; empty when none

  // The value of a name in notice_variable_names; nullptr for any other name.
  const std::string* find(std::string_view name) const noexcept;
};

notice_variables make_notice_variables(const ledger::case_row& c, std::size_t held_count, std::string_view help_url,
                                       std::string_view isp_name, std::string_view exemption_note);

inline constexpr std::size_t max_template_bytes = 64 * 1024;
inline constexpr std::size_t max_rendered_bytes = 1024 * 1024;

// Checks placeholders; `name` (a file name) prefixes errors: "notice-first.txt:3:7: unknown variable
// {{sender}}; known: subscriber, ...".
result<void> check_template(std::string_view text, std::string_view name);
// Substitutes every placeholder; HTML-escapes values when `escape_html`. Errors as check_template
// (named "template"), or errc::invalid_input beyond max_rendered_bytes.
result<std::string> render(std::string_view template_text, const notice_variables& vars, bool escape_html);

struct notice_templates {
  std::string first_text;  // "Subject: ...\n\n" + body
  std::string first_html;
  std::string reminder_text;
  std::string reminder_html;
};

// Checks a text template's Subject line besides its placeholders.
result<void> check_text_template(std::string_view text, std::string_view name);
// Reads and checks the four files in `dir`.
result<notice_templates> load_templates(const std::filesystem::path& dir);

// --- the message ---

struct notice_sender {
  std::string from_address;       // e.g. abuse@isp.example
  std::string from_name;          // e.g. "Example ISP abuse desk"; may be empty
  std::string message_id_domain;  // right-hand side of Message-ID
};

result<std::string> compose_notice(const notice_templates& templates, notice_kind kind, const notice_variables& vars,
                                   std::string_view to, const notice_sender& sender, std::int64_t case_id,
                                   std::int64_t now_ms);

// Times as the notice writes them: "2026-11-27T16:27:07Z" and "Fri, 27 Nov 2026 16:27:07 +0000".
std::string rfc3339_utc(std::int64_t ms);
std::string rfc5322_date(std::int64_t ms);

}  // namespace pw::desk
