// server/maillog_follower.hpp (private) — the relay's delivery log, read as it grows, as evidence.
//
// A thread that, every `ingest.maillog_poll`, reads what Postfix appended to `ingest.maillog`, finds
// the hard bounces (ingest/maillog.hpp), attributes each to the subscriber whose message it was
// (the service's queue attribution, filled at end of message for mail let through) and gives it to
// the engine through the decider (at most ingest::max_bounces_per_message per message); a level that rises reaches the
// store and the desk like a verdict. The file is followed like `tail -F`: at start it is read from its end (history is
// not evidence of now); a rotated file (new inode) is read to its end and then the new one from its start; a truncated
// one from its start (noticed when the file is shorter than what was read: one emptied and refilled past that point
// between two polls is read on from there, its first lines lost — rotation by rename, Debian's default for mail.log,
// has no such gap); a missing one is waited for. Reading happens on this thread, never on the event loop. Lines are
// bounded (8 KiB; longer ones are dropped and counted). Thread-safety: start/stop from the daemon's main thread; the
// work runs on the follower's thread and uses only thread-safe parts of the service. Privacy: log lines hold recipient
// addresses; only the queue id and the status are taken from them (the parser returns nothing else), and nothing of a
// line is logged.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "ingest/maillog.hpp"

namespace pw::server {

class service;

class maillog_follower {
 public:
  explicit maillog_follower(service& svc) : _svc(svc) {}
  ~maillog_follower() { stop(); }
  maillog_follower(const maillog_follower&) = delete;
  maillog_follower& operator=(const maillog_follower&) = delete;

  void start();
  void stop();

 private:
  void poll();
  void read_available();
  void handle(std::string_view line);
  void close_file();

  service& _svc;
  std::thread _thread;
  std::mutex _mutex;
  std::condition_variable _wake;
  bool _stop = false;

  std::string _path;  // the path being followed ("" = none yet)
  int _fd = -1;
  std::uint64_t _inode = 0;
  std::uint64_t _offset = 0;
  bool _seen_start = false;  // the first open of a path seeks to its end
  bool _missing_logged = false;
  ingest::line_splitter _lines;
};

}  // namespace pw::server
