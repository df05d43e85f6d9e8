// fuzz/model_fuzz.cpp — libFuzzer target for the model-file loader.
//
// A model file is configuration an operator installs, but a damaged or foreign file must be refused
// with a reason, never crash the scorer. Each input is placed in an in-memory file (memfd) and loaded
// through the same path as a file on disk; an accepted model must then score an empty bag.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "classify/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = ::memfd_create("model", MFD_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n <= 0) {
      ::close(fd);
      return 0;
    }
    written += static_cast<std::size_t>(n);
  }
  auto m = pw::classify::model::load("/proc/self/fd/" + std::to_string(fd));
  ::close(fd);
  if (m) {
    const float margin = m->margin(std::span<const std::uint32_t>{});
    (void)m->probability(margin);
    if (m->weights().size() != (std::size_t{1} << m->options().hash_bits)) {
      std::abort();
    }
  } else if (m.error().message.empty()) {
    std::abort();  // every refusal says why
  }
  return 0;
}
