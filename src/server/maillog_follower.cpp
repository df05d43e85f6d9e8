#include "maillog_follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "service.hpp"
#include "telemetry/log.hpp"

namespace pw::server {

using telemetry::severity;

void maillog_follower::start() {
  _thread = std::thread([this] {
    std::unique_lock lock(_mutex);
    while (!_stop) {
      lock.unlock();
      poll();
      lock.lock();
      const auto every = std::chrono::milliseconds(_svc.current()->settings.ingest.maillog_poll_ms);
      _wake.wait_for(lock, every, [this] { return _stop; });
    }
  });
}

void maillog_follower::stop() {
  {
    std::lock_guard lock(_mutex);
    _stop = true;
  }
  _wake.notify_all();
  if (_thread.joinable()) {
    _thread.join();
  }
  close_file();
}

void maillog_follower::close_file() {
  if (_fd >= 0) {
    ::close(_fd);
    _fd = -1;
  }
}

void maillog_follower::poll() {
  const std::shared_ptr<const runtime> rt = _svc.current();  // held: a reload may swap the runtime meanwhile
  const std::string& path = rt->settings.ingest.maillog;
  if (path != _path) {  // first pass, or a reload named another file (or none)
    close_file();
    _path = path;
    _seen_start = false;
    _missing_logged = false;
    _lines = ingest::line_splitter();
  }
  if (_path.empty()) {
    return;
  }
  if (_fd >= 0) {
    read_available();
  }
  struct stat st {};
  if (::stat(_path.c_str(), &st) != 0) {
    if (!_missing_logged) {
      telemetry::log(severity::warning, "maillog_unavailable", {{"path", _path}, {"error", std::strerror(errno)}});
      _missing_logged = true;
    }
    _seen_start = true;  // a file that appears later is new: read it from its start
    return;              // keep reading a rotated-away file we still hold
  }
  if (_fd >= 0 && static_cast<std::uint64_t>(st.st_ino) == _inode) {
    if (static_cast<std::uint64_t>(st.st_size) < _offset) {  // truncated in place (copytruncate)
      ::lseek(_fd, 0, SEEK_SET);
      _offset = 0;
      read_available();
    }
    return;
  }
  // Not open yet, or rotated: the old file was read to its end above; open the one at the path.
  close_file();
  _fd = ::open(_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (_fd < 0) {
    if (!_missing_logged) {
      telemetry::log(severity::warning, "maillog_unavailable", {{"path", _path}, {"error", std::strerror(errno)}});
      _missing_logged = true;
    }
    return;
  }
  struct stat opened {};
  ::fstat(_fd, &opened);
  _inode = static_cast<std::uint64_t>(opened.st_ino);
  _offset = 0;
  if (!_seen_start) {  // the daemon's start: what is already there happened before us
    const off_t end = ::lseek(_fd, 0, SEEK_END);
    _offset = end > 0 ? static_cast<std::uint64_t>(end) : 0;
    _seen_start = true;
  }
  _lines = ingest::line_splitter();
  _missing_logged = false;
  telemetry::log(severity::info, "maillog_following", {{"path", _path}, {"offset", _offset}});
  read_available();
}

void maillog_follower::read_available() {
  std::array<char, 65536> buf;
  for (;;) {
    const ssize_t n = ::read(_fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    _offset += static_cast<std::uint64_t>(n);
    _lines.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    while (const auto line = _lines.next()) {
      handle(*line);
    }
  }
}

void maillog_follower::handle(std::string_view line) {
  const std::optional<ingest::delivery_line> d = ingest::parse_delivery_line(line);
  if (!d || !ingest::is_hard_bounce(*d)) {
    return;
  }
  const std::int64_t now = _svc.now_ms();
  std::optional<ingest::queue_attribution::bounce_claim> claim = _svc.attribution().claim_bounce(d->queue_id, now);
  if (!claim) {
    _svc.metrics().bounces_unattributed.add();
    return;
  }
  _svc.metrics().bounces_attributed.add();
  if (!claim->counts) {  // beyond ingest::max_bounces_per_message of this message
    return;
  }
  const relay::outcome o = _svc.decider().bounced(std::move(claim->who), 1, now);
  _svc.record_decision(store::decision_record{now, o.who.who.id, std::string(d->queue_id), "bounce",
                                              std::string(behavior::level_name(o.decision.lvl)), o.decision.suspicion,
                                              o.reasons, o.decision.observe_only},
                       o.who.who);
  telemetry::log(o.decision.lvl >= behavior::level::watch ? severity::info : severity::debug, "bounce",
                 {{"queue", d->queue_id},
                  {"subscriber", o.who.who.id},
                  {"dsn_class", std::string(1, d->dsn_class == 0 ? '-' : d->dsn_class)},
                  {"level", behavior::level_name(o.decision.lvl)},
                  {"suspicion", static_cast<double>(o.decision.suspicion)},
                  {"reasons", o.reasons}});
}

}  // namespace pw::server
