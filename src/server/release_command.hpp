// server/release_command.hpp (private) — releases held messages from Postfix's hold queue by running
// the configured command (default `postsuper -H -`), which reads the queue ids from its standard input.
//
// Why a child process: Postfix offers no API for its queue; postsuper is the supported tool, and it
// must run with the privileges of the Postfix queue owner (root, or through `sudo -n` in
// `desk.release_command` when the daemon dropped root). Queue ids are fed on stdin, one per line, so
// any number of them needs one run and no id ever reaches a shell.
// Guarantees: the command is run without a shell (execvp of the configured argv); it gets at most
// `timeout` and is killed after that; its exit status and the first 2 KiB of its stderr come back as
// the error. Queue ids are checked to be Postfix queue ids (letters and digits only, never postsuper's keyword ALL)
// before use.
// Thread-safety: reentrant; each call runs its own child. It blocks the calling thread (a worker or
// the desk thread, never the event loop).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace pw::server {

// errc::invalid_input for an empty command or a queue id that is not [A-Za-z0-9]+ (or is ALL); errc::unavailable
// when the command cannot start, times out or exits non-zero (the message says which, with stderr).
result<void> run_release_command(const std::vector<std::string>& argv, const std::vector<std::string>& queue_ids,
                                 std::chrono::milliseconds timeout);

}  // namespace pw::server
