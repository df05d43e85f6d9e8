// tests/support/temp_dir.hpp — a fresh private directory for one test, removed with everything in it
// when the test ends. Shared by the unit tests that write files (stores, ledgers, models, configs,
// templates) so each does not carry its own copy.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace pw::test {

class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pw-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    _path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(_path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return _path; }
  std::filesystem::path operator/(const std::string& name) const { return _path / name; }
  void write(const std::string& name, const std::string& text) const { std::ofstream(_path / name) << text; }

 private:
  std::filesystem::path _path;
};

}  // namespace pw::test
