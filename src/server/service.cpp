#include "service.hpp"

#include <cassert>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "desk_service.hpp"
#include "telemetry/log.hpp"

namespace pw::server {
namespace {

using telemetry::severity;

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

result<std::shared_ptr<const runtime>> build_runtime(config::settings s) {
  auto rt = std::make_shared<runtime>();
  auto directory = config::load_directory(s);
  if (!directory) {
    return directory.error();
  }
  rt->directory = std::move(*directory);
  if (!s.classifier.model.empty()) {
    auto m = classify::model::load(s.classifier.model);
    if (!m) {
      return m.error();
    }
    rt->model = std::make_shared<classify::model>(std::move(*m));
  }
  rt->settings = std::move(s);
  return std::shared_ptr<const runtime>(std::move(rt));
}

service_metrics::service_metrics(telemetry::registry& r)
    : messages(r.add_counter("portwarden_messages_total", "Messages decided at end of message")),
      verdicts{&r.add_counter("portwarden_verdicts_total", "End-of-message verdicts by enforced action",
                              {{"action", "accept"}}),
               &r.add_counter("portwarden_verdicts_total", "", {{"action", "tag"}}),
               &r.add_counter("portwarden_verdicts_total", "", {{"action", "defer"}}),
               &r.add_counter("portwarden_verdicts_total", "", {{"action", "hold"}})},
      rcpt_checks(r.add_counter("portwarden_recipient_checks_total", "RCPT-time gate decisions (milter and policy)")),
      fallback_deadline(r.add_counter("portwarden_fallbacks_total",
                                      "Verdicts replaced by the configured fallback action, by cause",
                                      {{"cause", "deadline"}})),
      fallback_error(r.add_counter("portwarden_fallbacks_total", "", {{"cause", "error"}})),
      late_verdicts(r.add_counter("portwarden_late_verdicts_total",
                                  "Verdicts that arrived after their deadline (the fallback had been sent)")),
      milter_protocol_errors(r.add_counter("portwarden_protocol_errors_total",
                                           "Connections closed because of a malformed or truncated frame",
                                           {{"protocol", "milter"}})),
      policy_protocol_errors(r.add_counter("portwarden_protocol_errors_total", "", {{"protocol", "policy"}})),
      identity_failures(r.add_counter("portwarden_identity_failures_total",
                                      "Subscriber lookups that failed (sender tracked as ip:<addr>)")),
      store_errors(r.add_counter("portwarden_store_errors_total", "Store writes or reads that failed")),
      desk_errors(r.add_counter("portwarden_desk_errors_total",
                                "Desk ledger reads or writes that failed (retried on the next tick)")),
      notices(r.add_counter("portwarden_notices_total", "Customer notices the relay accepted")),
      notice_failures(r.add_counter("portwarden_notice_failures_total",
                                    "Customer notices the relay refused or could not take (retried)")),
      bounces_attributed(r.add_counter("portwarden_bounces_total",
                                       "Hard bounces read from the delivery log, by whether the message was ours",
                                       {{"attributed", "yes"}})),
      bounces_unattributed(r.add_counter("portwarden_bounces_total", "", {{"attributed", "no"}})),
      reloads(r.add_counter("portwarden_reloads_total", "Configuration reloads applied")),
      reload_failures(r.add_counter("portwarden_reload_failures_total", "Configuration reloads refused")),
      connections(r.add_gauge("portwarden_connections", "Open milter, policy and HTTP connections")),
      subscribers(r.add_gauge("portwarden_subscribers", "Subscribers with behaviour state in memory")),
      campaigns(r.add_gauge("portwarden_campaigns", "Campaigns tracked in memory")),
      active_campaigns(r.add_gauge("portwarden_active_campaigns",
                                   "Campaigns sent by at least campaigns.k distinct subscribers in the window")),
      eom_latency(r.add_histogram("portwarden_stage_latency_seconds",
                                  "Time from the event's arrival to our answer, by stage", telemetry::latency_buckets(),
                                  {{"stage", "end_of_message"}})),
      score_latency(
          r.add_histogram("portwarden_stage_latency_seconds", "", telemetry::latency_buckets(), {{"stage", "decide"}})),
      rcpt_latency(
          r.add_histogram("portwarden_stage_latency_seconds", "", telemetry::latency_buckets(), {{"stage", "rcpt"}})),
      policy_latency(r.add_histogram("portwarden_stage_latency_seconds", "", telemetry::latency_buckets(),
                                     {{"stage", "policy"}})) {}

service::service(boost::asio::io_context& loop, std::shared_ptr<const runtime> initial,
                 std::unique_ptr<store::state_store> store, fingerprint::fingerprinter fingerprints,
                 std::string config_path)
    : _loop(loop),
      _workers(static_cast<std::size_t>(initial->settings.server.worker_threads)),
      _runtime(std::move(initial)),
      _config_path(std::move(config_path)),
      _engine(_runtime->settings.engine),
      _hasher(config::read_deployment_secret(_runtime->settings.privacy)),
      _decider(_engine, _hasher),
      _fingerprints(std::move(fingerprints)),
      _tracker(_runtime->settings.campaigns.tracker, _fingerprints.opts().bins,
               config::read_deployment_secret(_runtime->settings.privacy)),
      _attribution(_runtime->settings.ingest.attribution_capacity, _runtime->settings.ingest.attribution_ttl_ms),
      _store(std::move(store)),
      _metrics(_registry),
      _clock(_runtime->settings.server.clock),
      _api_now_ms(system_now_ms()) {}

service::~service() {
  stop_snapshot_thread();
  _workers.join();
}

void service::replace(std::shared_ptr<const runtime> next) {
  _engine.reconfigure(next->settings.engine);
  _attribution.set_limits(next->settings.ingest.attribution_capacity, next->settings.ingest.attribution_ttl_ms);
  std::atomic_store(&_runtime, std::move(next));
}

std::int64_t service::now_ms() const {
  if (_clock == config::clock_source::api) {
    return _api_now_ms.load(std::memory_order_acquire);
  }
  return system_now_ms();
}

void service::set_now_ms(std::int64_t now_ms) {
  assert(clock_settable());
  _api_now_ms.store(now_ms, std::memory_order_release);
}

classify::classifier* service::thread_classifier(const runtime& rt) {
  // One classifier per worker thread (classifiers own scratch buffers). It keeps its model alive, so
  // a reload that swaps the model never pulls weights from under a scoring call.
  struct cached {
    std::shared_ptr<const classify::model> model;
    std::unique_ptr<classify::classifier> scorer;
  };
  thread_local cached mine;
  if (!rt.model) {
    return nullptr;
  }
  if (mine.model != rt.model) {
    mime::limits limits;
    limits.max_message_bytes = static_cast<std::size_t>(rt.settings.server.max_message_bytes);
    mine.scorer.reset();
    mine.model = rt.model;
    mine.scorer = std::make_unique<classify::classifier>(*mine.model, limits);
  }
  return mine.scorer.get();
}

relay::content_checks service::content_checks_for(const runtime& rt) {
  relay::content_checks checks;
  checks.scorer = thread_classifier(rt);
  if (rt.settings.campaigns.enabled) {
    checks.fingerprints = &_fingerprints;
    checks.campaigns = &_tracker;
  }
  checks.limits.max_message_bytes = static_cast<std::size_t>(rt.settings.server.max_message_bytes);
  return checks;
}

void service::record_decision(store::decision_record d, const identity::subscriber& who) {
  if (_desk != nullptr && !d.observe_only) {
    _desk->observe_level(who, d.level, d.reasons, d.at_ms);
  }
  std::lock_guard lock(_queue_mutex);
  _decisions.push_back(std::move(d));
}

void service::record_held(std::string subscriber, std::string queue_id, std::int64_t at_ms) {
  if (_desk != nullptr) {
    _desk->observe_held(subscriber, queue_id, at_ms);
  }
  std::lock_guard lock(_queue_mutex);
  _held.push_back(held_entry{std::move(subscriber), std::move(queue_id), at_ms});
}

void service::record_relayed(std::string_view queue_id, const identity::resolution& who, std::int64_t at_ms) {
  _attribution.remember(queue_id, who, at_ms);
}

void service::flush_to_store(std::int64_t now_ms, bool snapshot_states) {
  std::vector<store::decision_record> decisions;
  std::vector<held_entry> held;
  {
    std::lock_guard lock(_queue_mutex);
    decisions.swap(_decisions);
    held.swap(_held);
  }
  if (!decisions.empty()) {
    if (auto r = _store->append_decisions(decisions); !r) {
      _metrics.store_errors.add();
      telemetry::log(severity::error, "store_error",
                     {{"what", "append_decisions"}, {"records", decisions.size()}, {"error", r.error().message}});
    }
  }
  for (const held_entry& h : held) {
    if (auto r = _store->record_held(h.subscriber, h.queue_id, h.at_ms); !r) {
      _metrics.store_errors.add();
      telemetry::log(severity::error, "store_error",
                     {{"what", "record_held"}, {"queue", h.queue_id}, {"error", r.error().message}});
    }
  }
  if (!snapshot_states) {
    return;
  }
  std::vector<behavior::snapshot_record> changes = _engine.collect_changes();
  if (!changes.empty()) {
    std::vector<store::state_record> records;
    records.reserve(changes.size());
    for (auto& c : changes) {
      records.push_back(store::state_record{std::move(c.subscriber), std::move(c.blob), now_ms});
    }
    if (auto r = _store->save_states(records); !r) {
      _metrics.store_errors.add();
      telemetry::log(severity::error, "store_error",
                     {{"what", "save_states"}, {"records", records.size()}, {"error", r.error().message}});
    }
  }
  _tracker.expire(now_ms);
  campaign::changes campaign_changes = _tracker.collect_changes();
  if (!campaign_changes.updated.empty() || !campaign_changes.removed.empty()) {
    std::vector<store::campaign_record> records;
    records.reserve(campaign_changes.updated.size());
    for (auto& c : campaign_changes.updated) {
      records.push_back(store::campaign_record{std::move(c.id), std::move(c.blob), now_ms});
    }
    if (auto r = _store->save_campaigns(records, campaign_changes.removed); !r) {
      _metrics.store_errors.add();
      telemetry::log(severity::error, "store_error",
                     {{"what", "save_campaigns"}, {"records", records.size()}, {"error", r.error().message}});
    }
  }
  _metrics.campaigns.set(static_cast<std::int64_t>(_tracker.size()));
  _metrics.active_campaigns.set(static_cast<std::int64_t>(_tracker.list(now_ms).size()));
  const auto expired = _engine.expire(now_ms);
  if (!expired.empty()) {
    // Expired subscribers' snapshots age out with them: the engine forgot them after the same idle time.
    const auto& s = current()->settings;
    if (auto r = _store->delete_states_older_than(now_ms - s.engine.expire_idle_ms); !r) {
      _metrics.store_errors.add();
    }
  }
  const auto& s = current()->settings;
  if (auto r = _store->delete_decisions_older_than(now_ms - s.store.decision_retention_ms); !r) {
    _metrics.store_errors.add();
  }
  // Released holds are history like decisions; messages still held are kept whatever their age.
  if (auto r = _store->delete_released_older_than(now_ms - s.store.decision_retention_ms); !r) {
    _metrics.store_errors.add();
  }
  _metrics.subscribers.set(static_cast<std::int64_t>(_engine.size()));
}

result<std::size_t> service::restore_states() {
  std::size_t restored = 0;
  std::size_t rejected = 0;
  auto scanned = _store->scan_states([&](const store::state_record& r) {
    if (_engine.restore(r.subscriber, r.blob)) {
      ++restored;
    } else {
      ++rejected;
    }
  });
  if (!scanned) {
    return scanned.error();
  }
  auto campaigns_scanned = _store->scan_campaigns([&](const store::campaign_record& r) {
    if (_tracker.restore(r.id, r.blob)) {
      ++restored;
    } else {
      ++rejected;
    }
  });
  if (!campaigns_scanned) {
    return campaigns_scanned.error();
  }
  if (rejected > 0) {
    telemetry::log(severity::warning, "restore_rejected", {{"records", rejected}});
  }
  _metrics.subscribers.set(static_cast<std::int64_t>(_engine.size()));
  return restored;
}

void service::start_snapshot_thread() {
  _snapshot_thread = std::thread([this] {
    // Decisions and held ids are flushed every second (they are what an operator looks for first);
    // subscriber states every `store.snapshot_interval`.
    auto next_snapshot = std::chrono::steady_clock::now();
    std::unique_lock lock(_snapshot_mutex);
    while (!_snapshot_stop) {
      _snapshot_wake.wait_for(lock, std::chrono::seconds(1), [this] { return _snapshot_stop; });
      if (_snapshot_stop) {
        break;
      }
      lock.unlock();
      const auto now = std::chrono::steady_clock::now();
      const bool states = now >= next_snapshot;
      if (states) {
        next_snapshot = now + std::chrono::milliseconds(current()->settings.store.snapshot_interval_ms);
      }
      flush_to_store(now_ms(), states);
      lock.lock();
    }
  });
}

void service::stop_snapshot_thread() {
  {
    std::lock_guard lock(_snapshot_mutex);
    _snapshot_stop = true;
  }
  _snapshot_wake.notify_all();
  if (_snapshot_thread.joinable()) {
    _snapshot_thread.join();
  }
}

std::list<std::weak_ptr<drainable>>::iterator service::enlist(std::weak_ptr<drainable> c) {
  _metrics.connections.add(1);
  return _connections.insert(_connections.end(), std::move(c));
}

void service::delist(std::list<std::weak_ptr<drainable>>::iterator it) {
  _metrics.connections.add(-1);
  _connections.erase(it);
}

void service::drain_all() {
  _draining.store(true);
  // drain() may delist synchronously: walk a copy.
  std::vector<std::shared_ptr<drainable>> live;
  for (auto& w : _connections) {
    if (auto c = w.lock()) {
      live.push_back(std::move(c));
    }
  }
  for (auto& c : live) {
    c->drain();
  }
}

}  // namespace pw::server
