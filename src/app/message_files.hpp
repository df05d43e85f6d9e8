// app/message_files.hpp — reading messages and labelled lists from disk for the command line.
//
// Purpose: the CLI's only file input: whole message files (or stdin) and LIST files, one
// `path<TAB>spam|ham` per line (relative paths resolve against the list's directory).
// Failure modes: I/O errors and malformed list lines come back as errors naming the file and line.
// Thread-safety: free functions without shared state.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace pw::app {

struct labelled_path {
  std::filesystem::path path;
  bool is_spam = false;
};

struct labelled_message {
  std::string path;
  bool is_spam = false;
  std::string raw;
};

// "-" reads standard input.
result<std::string> read_message(const std::filesystem::path& path);
result<std::vector<labelled_path>> read_list(const std::filesystem::path& list);
// Reads every listed message into memory; fails on the first unreadable one.
result<std::vector<labelled_message>> load_messages(const std::vector<labelled_path>& list);

}  // namespace pw::app
