#include "random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pw::auth {

result<void> fill_random(unsigned char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::getrandom(out + done, size - done, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(errc::io, std::string("getrandom failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace pw::auth
