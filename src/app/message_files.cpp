// app/message_files.cpp — see message_files.hpp.
#include "message_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace pw::app {
namespace {

result<std::string> read_fd(int fd, const std::string& name) {
  std::string data;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    data.reserve(static_cast<std::size_t>(st.st_size));
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) {
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(errc::io, "cannot read " + name + ": " + std::strerror(errno));
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

}  // namespace

result<std::string> read_message(const std::filesystem::path& path) {
  if (path == "-") {
    return read_fd(STDIN_FILENO, "standard input");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(errc::io, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  auto data = read_fd(fd, path.string());
  ::close(fd);
  return data;
}

result<std::vector<labelled_path>> read_list(const std::filesystem::path& list) {
  std::ifstream in(list);
  if (!in) {
    return make_error(errc::io, "cannot open list " + list.string() + ": " + std::strerror(errno));
  }
  const std::filesystem::path base = list.has_parent_path() ? list.parent_path() : std::filesystem::path(".");
  std::vector<labelled_path> out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const auto tab = line.rfind('\t');
    if (tab == std::string::npos || tab == 0) {
      return make_error(errc::invalid_input, list.string() + ":" + std::to_string(number) +
                                                 ": expected path<TAB>spam|ham");
    }
    const std::string label = line.substr(tab + 1);
    if (label != "spam" && label != "ham") {
      return make_error(errc::invalid_input, list.string() + ":" + std::to_string(number) + ": label '" + label +
                                                 "' is neither spam nor ham");
    }
    std::filesystem::path p = line.substr(0, tab);
    if (p.is_relative()) {
      p = base / p;
    }
    out.push_back({std::move(p), label == "spam"});
  }
  if (in.bad()) {
    return make_error(errc::io, "cannot read list " + list.string());
  }
  return out;
}

result<std::vector<labelled_message>> load_messages(const std::vector<labelled_path>& list) {
  std::vector<labelled_message> out;
  out.reserve(list.size());
  for (const auto& item : list) {
    auto raw = read_message(item.path);
    if (!raw) {
      return raw.error();
    }
    out.push_back({item.path.string(), item.is_spam, std::move(*raw)});
  }
  return out;
}

}  // namespace pw::app
