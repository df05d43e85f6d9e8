// server/desk_service.hpp (private) — the abuse desk inside the daemon: turns the engine's throttle
// and hold decisions into cases, sends customer notices, runs the self-help and operator actions
// (lifting holds, releasing held mail through Postfix) and samples the dashboard.
//
// The rules live in desk/ (pure functions); this class does their I/O: the ledger, the SMTP
// submission of notices, `desk.release_command`, the engine's release/hold. The relay's threads only
// queue what they saw (`observe_level`, `observe_held`: a mutex and a push, never I/O); the desk's own
// thread wakes every second, opens and updates cases, sends the notices that are due (the first one
// within a second or two of the hold: the bar is 60 s), resolves monitoring that ended, and once a
// minute samples the dashboard. HTTP workers call the action methods directly (the ledger is
// thread-safe; one mutex serialises the case-changing actions so an operator's release and a
// customer's "fixed" on the same case cannot interleave).
//
// Failure modes: a ledger error leaves the case as it was, is logged and counted
// (portwarden_desk_errors_total), and is retried on the next tick (queued observations are kept
// until written). A notice the relay refuses is recorded (delivered = false, with the reason),
// counted (portwarden_notice_failures_total) and retried after a minute. A release command that fails
// leaves the case unchanged and the mail held; the operator or customer sees why.
// Privacy: the desk sees subscriber ids, levels, reason texts (numbers only) and queue ids; notices go
// to the subscriber's contact address, which is never logged.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/rate_limit.hpp"
#include "common/result.hpp"
#include "dashboard.hpp"
#include "desk/exemption_rules.hpp"
#include "desk/lifecycle.hpp"
#include "desk/notice.hpp"
#include "identity/directory.hpp"
#include "ledger/ledger.hpp"

namespace pw::server {

class service;

// What the customer's "I have fixed it" came to, for the self-help page.
struct fix_answer {
  desk::fix_decision decision = desk::fix_decision::not_applicable;
  std::string reason;     // plain words for the customer
  std::size_t released = 0;  // held messages released
};

class desk_service {
 public:
  desk_service(service& svc, std::unique_ptr<ledger::ledger> book);
  ~desk_service();

  // Loads the notice templates when notices are configured; errors name the file.
  result<void> prepare();
  void start();
  void stop();

  ledger::ledger& book() { return *_book; }
  dashboard_history& dashboard() { return _dashboard; }
  auth::rate_limiter& login_limiter() { return _login_limiter; }
  auth::rate_limiter& help_limiter() { return _help_limiter; }

  // From the relay's threads: a decision at throttle or hold (other levels are ignored), and a
  // message put on hold.
  void observe_level(const identity::subscriber& who, std::string_view level, std::string_view reasons,
                     std::int64_t at_ms);
  void observe_held(std::string_view subscriber, std::string_view queue_id, std::int64_t at_ms);

  // One pass of the desk thread's work (also called by tests through the thread).
  void tick(std::int64_t now_ms);

  // An operator's action on a case, audited by the caller. errc::not_found for an unknown case,
  // errc::invalid_input for an action the case's state does not allow (plain words), errc::unavailable
  // when the release command failed (nothing changed).
  result<ledger::case_row> operator_action(std::int64_t case_id, desk::operator_action action, std::string_view actor,
                                           std::string_view text, std::string_view assignee);

  // The customer pressed "I have fixed it" on the self-help page of `token`.
  result<fix_answer> customer_fixed(const ledger::help_token_row& token);

  // A port-25 exemption request from the self-help page, decided by the plan's rules.
  result<desk::exemption_decision> request_exemption(std::string_view subscriber, std::string_view reason);
  // An operator's decision on an exemption: grant, refuse, revoke, suspend, restore.
  result<ledger::exemption_row> exemption_action(std::int64_t id, std::string_view action, std::string_view actor,
                                                 std::string_view text);

 private:
  struct level_seen {
    identity::subscriber who;
    std::string level;
    std::string reasons;
    std::int64_t at_ms = 0;
  };
  struct held_seen {
    std::string subscriber;
    std::string queue_id;
    std::int64_t at_ms = 0;
  };

  void run();
  bool apply_level(const level_seen& seen, std::int64_t now_ms);
  bool apply_held(const held_seen& seen);
  void send_due_notices(const std::vector<ledger::case_row>& open, std::int64_t now_ms);
  result<void> send_notice(const ledger::case_row& c, desk::notice_kind kind, const ledger::subscriber_row& who,
                           std::int64_t now_ms);
  // The subscriber's exemption rows and whether its plan reaches port 25 by default.
  struct exemption_context {
    std::vector<ledger::exemption_row> rows;
    bool plan_open = false;
  };
  std::optional<exemption_context> exemptions_of(const ledger::case_row& c);
  void suspend_exemptions(const ledger::case_row& c, std::int64_t now_ms);
  void restore_exemptions(const ledger::case_row& c, std::int64_t now_ms);
  // Runs the release command on the case's held messages and lifts the hold in the engine; returns how
  // many messages were released.
  result<std::size_t> release_held(const ledger::case_row& c, std::int64_t now_ms);
  void event(std::int64_t case_id, std::int64_t at_ms, std::string_view kind, std::string_view actor,
             std::string_view detail);
  void sample_dashboard(std::int64_t now_ms);
  // Brings the ledger's subscriber records in line with the subscriber table's static networks
  // (plan, contact, addresses: the port-25 rules need them), a slice per tick so a table of a
  // million subscribers never stalls cases and notices; restarts when a reload swapped the table.
  void sync_subscribers(std::int64_t now_ms);
  void failed(std::string_view what, const error& e);

  service& _svc;
  std::unique_ptr<ledger::ledger> _book;
  std::optional<desk::notice_templates> _templates;
  dashboard_history _dashboard;
  auth::rate_limiter _login_limiter;
  auth::rate_limiter _help_limiter;

  std::mutex _queue_mutex;
  std::vector<level_seen> _levels;
  std::vector<held_seen> _held;

  std::mutex _action_mutex;                        // case-changing work: the tick and people's actions
  std::map<std::int64_t, std::int64_t> _notice_retry_at;  // case id → earliest retry after a failed notice

  std::mutex _thread_mutex;
  std::condition_variable _wake;
  bool _stop = false;
  std::thread _thread;
  std::int64_t _next_sample_steady_ms = 0;
  std::shared_ptr<const identity::directory> _synced_directory;
  std::vector<ledger::subscriber_row> _sync_rows;
  std::size_t _sync_next = 0;
};

}  // namespace pw::server
