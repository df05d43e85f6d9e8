// server/service.hpp (private) — the state every connection of the daemon shares.
//
// `service` holds the running configuration (swapped atomically on reload), the behaviour engine,
// the decider, the store queues and the metrics. Connections hold a reference; the daemon destroys
// the service only after the event loop and the worker pool have stopped.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "behavior/engine.hpp"
#include "campaign/tracker.hpp"
#include "classify/classifier.hpp"
#include "classify/model.hpp"
#include "config/config.hpp"
#include "fingerprint/fingerprint.hpp"
#include "identity/directory.hpp"
#include "ingest/attribution.hpp"
#include "relay/decider.hpp"
#include "store/state_store.hpp"
#include "telemetry/registry.hpp"

namespace pw::server {

class desk_service;

// What a reload replaces as a whole.
struct runtime {
  config::settings settings;
  std::shared_ptr<const identity::directory> directory;
  std::shared_ptr<const classify::model> model;  // null: content-blind
};

// Builds a runtime from loaded settings: reads the subscriber table and the model.
result<std::shared_ptr<const runtime>> build_runtime(config::settings s);

struct service_metrics {
  explicit service_metrics(telemetry::registry& r);
  telemetry::counter& messages;
  telemetry::counter* verdicts[4];  // by behavior::action
  telemetry::counter& rcpt_checks;
  telemetry::counter& fallback_deadline;
  telemetry::counter& fallback_error;
  telemetry::counter& late_verdicts;
  telemetry::counter& milter_protocol_errors;
  telemetry::counter& policy_protocol_errors;
  telemetry::counter& identity_failures;
  telemetry::counter& store_errors;
  telemetry::counter& desk_errors;
  telemetry::counter& notices;
  telemetry::counter& notice_failures;
  telemetry::counter& bounces_attributed;
  telemetry::counter& bounces_unattributed;
  telemetry::counter& reloads;
  telemetry::counter& reload_failures;
  telemetry::gauge& connections;
  telemetry::gauge& subscribers;
  telemetry::gauge& campaigns;
  telemetry::gauge& active_campaigns;
  telemetry::histogram& eom_latency;
  telemetry::histogram& score_latency;
  telemetry::histogram& rcpt_latency;
  telemetry::histogram& policy_latency;
};

// A connection the drain can ask to finish.
class drainable {
 public:
  virtual ~drainable() = default;
  virtual void drain() = 0;  // on the loop thread: close when idle, or after the answer in flight
};

class service {
 public:
  service(boost::asio::io_context& loop, std::shared_ptr<const runtime> initial,
          std::unique_ptr<store::state_store> store, fingerprint::fingerprinter fingerprints, std::string config_path);
  ~service();

  boost::asio::io_context& loop() { return _loop; }
  boost::asio::thread_pool& workers() { return _workers; }
  std::shared_ptr<const runtime> current() const { return std::atomic_load(&_runtime); }
  void replace(std::shared_ptr<const runtime> next);
  const std::string& config_path() const { return _config_path; }

  behavior::engine& engine() { return _engine; }
  const relay::decider& decider() const { return _decider; }
  store::state_store& store() { return *_store; }
  telemetry::registry& registry() { return _registry; }
  service_metrics& metrics() { return _metrics; }

  // The calling worker thread's classifier for the running model (rebuilt when a reload swapped the
  // model); null in content-blind mode.
  classify::classifier* thread_classifier(const runtime& rt);
  // What looks at a message's content on this worker thread: classifier, fingerprinter, tracker.
  relay::content_checks content_checks_for(const runtime& rt);
  campaign::tracker& campaigns() { return _tracker; }
  // The abuse desk, when desk.enabled (set once at start, before any connection is served).
  void attach_desk(desk_service* desk) { _desk = desk; }
  desk_service* desk() { return _desk; }

  // Queued for the snapshot thread (never written from the loop); a throttle or hold also reaches the
  // abuse desk, when there is one.
  void record_decision(store::decision_record d, const identity::subscriber& who);
  void record_held(std::string subscriber, std::string queue_id, std::int64_t at_ms);
  // A message let through (accept or tag, not held): its queue id is remembered, so that hard
  // bounces in the delivery log (ingest.maillog) find `who`. Thread-safe.
  void record_relayed(std::string_view queue_id, const identity::resolution& who, std::int64_t at_ms);
  ingest::queue_attribution& attribution() { return _attribution; }
  // Writes engine changes, queued decisions and held ids now (snapshot thread, and at shutdown).
  void flush_to_store(std::int64_t now_ms, bool snapshot_states);
  // Restores subscriber and campaign state from the store; returns how many records were restored.
  result<std::size_t> restore_states();
  void start_snapshot_thread();
  void stop_snapshot_thread();

  // Connections register so the drain can reach them (loop thread only).
  std::list<std::weak_ptr<drainable>>::iterator enlist(std::weak_ptr<drainable> c);
  void delist(std::list<std::weak_ptr<drainable>>::iterator it);
  void drain_all();
  bool draining() const { return _draining.load(); }
  std::size_t live_connections() const { return _connections.size(); }

  // The daemon's current time in ms since the epoch, for every decision, record and API answer
  // (durations and deadlines use steady_clock instead). With server.clock = "system" it is the system
  // clock; with "api" it is the last value given to set_now_ms (the system time at start until then).
  // The source is fixed for the service's life: a reload cannot turn a production clock into a
  // settable one. Thread-safe.
  std::int64_t now_ms() const;
  bool clock_settable() const { return _clock == config::clock_source::api; }
  // Moves the api clock to `now_ms` (forward or back). Only meaningful when clock_settable().
  void set_now_ms(std::int64_t now_ms);

 private:
  boost::asio::io_context& _loop;
  boost::asio::thread_pool _workers;
  std::shared_ptr<const runtime> _runtime;
  std::string _config_path;
  behavior::engine _engine;
  behavior::recipient_hasher _hasher;
  relay::decider _decider;
  fingerprint::fingerprinter _fingerprints;
  campaign::tracker _tracker;
  ingest::queue_attribution _attribution;
  std::unique_ptr<store::state_store> _store;
  telemetry::registry _registry;
  service_metrics _metrics;

  std::mutex _queue_mutex;
  std::vector<store::decision_record> _decisions;
  struct held_entry {
    std::string subscriber;
    std::string queue_id;
    std::int64_t at_ms;
  };
  std::vector<held_entry> _held;

  std::mutex _snapshot_mutex;
  std::condition_variable _snapshot_wake;
  bool _snapshot_stop = false;
  std::thread _snapshot_thread;

  std::list<std::weak_ptr<drainable>> _connections;
  std::atomic<bool> _draining{false};

  desk_service* _desk = nullptr;
  const config::clock_source _clock;
  std::atomic<std::int64_t> _api_now_ms;
};

}  // namespace pw::server
