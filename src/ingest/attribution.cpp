#include "ingest/attribution.hpp"

#include <algorithm>

namespace pw::ingest {

queue_attribution::queue_attribution(std::size_t capacity, std::int64_t ttl_ms)
    : _capacity(capacity), _ttl_ms(ttl_ms) {}

void queue_attribution::remember(std::string_view queue_id, const identity::resolution& who, std::int64_t now_ms) {
  if (queue_id.empty() || _capacity == 0) return;
  std::lock_guard lock(_mutex);
  entry& e = _by_queue_id[std::string(queue_id)];
  e.who.who = who.who;
  e.bounces = 0;
  e.who.source = who.source;
  e.at_ms = now_ms;
  _order.emplace_back(std::string(queue_id), now_ms);
  evict(now_ms);
}

std::optional<identity::resolution> queue_attribution::find(std::string_view queue_id, std::int64_t now_ms) {
  std::lock_guard lock(_mutex);
  evict(now_ms);
  const auto it = _by_queue_id.find(std::string(queue_id));
  if (it == _by_queue_id.end()) return std::nullopt;
  return it->second.who;
}

std::optional<queue_attribution::bounce_claim> queue_attribution::claim_bounce(std::string_view queue_id,
                                                                               std::int64_t now_ms) {
  std::lock_guard lock(_mutex);
  evict(now_ms);
  const auto it = _by_queue_id.find(std::string(queue_id));
  if (it == _by_queue_id.end()) return std::nullopt;
  entry& e = it->second;
  e.bounces = std::min(e.bounces + 1, max_bounces_per_message + 1);
  return bounce_claim{e.who, e.bounces <= max_bounces_per_message};
}

void queue_attribution::set_limits(std::size_t capacity, std::int64_t ttl_ms) {
  std::lock_guard lock(_mutex);
  _capacity = capacity;
  _ttl_ms = ttl_ms;
}

std::size_t queue_attribution::size() const {
  std::lock_guard lock(_mutex);
  return _by_queue_id.size();
}

void queue_attribution::evict(std::int64_t now_ms) {
  while (!_order.empty() && (_by_queue_id.size() > _capacity || now_ms - _order.front().second >= _ttl_ms ||
                             _order.size() > 2 * _capacity + 16)) {
    const auto& [queue_id, at_ms] = _order.front();
    const auto it = _by_queue_id.find(queue_id);
    // A stale record (the id was re-dated since) leaves the map alone.
    if (it != _by_queue_id.end() && it->second.at_ms == at_ms) _by_queue_id.erase(it);
    _order.pop_front();
  }
}

}  // namespace pw::ingest
