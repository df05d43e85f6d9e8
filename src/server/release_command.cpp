#include "release_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace pw::server {
namespace {

// Postfix queue ids are letters and digits; "ALL" is postsuper's keyword for every message and is
// never a real id, so it is refused rather than trusted to be read literally.
bool is_queue_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && id != "ALL" &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

// Closes a descriptor once, on every path out.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  void reset() {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
};

}  // namespace

result<void> run_release_command(const std::vector<std::string>& argv, const std::vector<std::string>& queue_ids,
                                 std::chrono::milliseconds timeout) {
  if (argv.empty() || argv[0].empty()) {
    return error{errc::invalid_input, "desk.release_command is empty"};
  }
  std::string input;
  for (const auto& id : queue_ids) {
    if (!is_queue_id(id)) {
      return error{errc::invalid_input, "not a Postfix queue id"};
    }
    input += id + "\n";
  }
  if (input.empty()) {
    return {};
  }
  int in_pipe[2];
  int err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    return error{errc::unavailable, std::string("pipe: ") + std::strerror(errno)};
  }
  fd_guard in_read{in_pipe[0]}, in_write{in_pipe[1]};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return error{errc::unavailable, std::string("pipe: ") + std::strerror(errno)};
  }
  fd_guard err_read{err_pipe[0]}, err_write{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.fd, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return error{errc::unavailable, "cannot run " + argv[0] + ": " + std::strerror(spawned)};
  }
  in_read.reset();
  err_write.reset();

  // Queue ids are a few bytes each: a pipe buffer (64 KiB) takes thousands, so this write does not
  // wait for the child. A child that exits without reading gives EPIPE (the daemon ignores SIGPIPE),
  // and its exit status tells why.
  const ssize_t written = ::write(in_write.fd, input.data(), input.size());
  (void)written;
  in_write.reset();

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string stderr_text;
  int status = 0;
  bool exited = false;
  bool stderr_open = true;
  while (!exited) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return error{errc::unavailable, argv[0] + " did not finish within " + std::to_string(timeout.count()) + " ms"};
    }
    if (stderr_open) {
      pollfd p{err_read.fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 50))) > 0) {
        char buf[512];
        const ssize_t n = ::read(err_read.fd, buf, sizeof buf);
        if (n <= 0) {
          stderr_open = false;
        } else if (stderr_text.size() < 2048) {
          stderr_text.append(buf, static_cast<std::size_t>(n));
        }
      }
    } else {
      ::usleep(10'000);
    }
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    exited = r == pid || (r < 0 && errno != EINTR);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return {};
  }
  while (!stderr_text.empty() && (stderr_text.back() == '\n' || stderr_text.back() == '\r')) {
    stderr_text.pop_back();
  }
  const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  return error{errc::unavailable, argv[0] + " " + how + (stderr_text.empty() ? "" : ": " + stderr_text.substr(0, 2048))};
}

}  // namespace pw::server
