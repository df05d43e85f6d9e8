// auth/random.hpp (private to pw_auth) — bytes from the kernel's CSPRNG for salts and tokens.
//
// getrandom(2) with no flags: blocks only until the kernel pool is first initialised at boot, never
// fails for lack of entropy afterwards, and needs no open file (works after a chroot or fd exhaustion).
// Interrupted calls and short reads are retried; any other failure (ENOSYS on a pre-3.17 kernel, a
// seccomp filter) is an errc::io result, never a weaker fallback.
#pragma once

#include <cstddef>

#include "common/result.hpp"

namespace pw::auth {

result<void> fill_random(unsigned char* out, std::size_t size);

}  // namespace pw::auth
