// fuzz/config_fuzz.cpp — libFuzzer target for the configuration loader.
//
// The file is operator-written but parsed as untrusted: any bytes must load or fail with messages,
// never crash. What loads must survive the round trip through to_toml: written out and read again it
// gives the same settings (to_toml text), so the writer never emits what the reader refuses.
// Paths in the input are resolved against a directory that does not exist, so the loader's `stat`
// calls cannot find anything by accident.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = pw::config::load_string(text, "fuzz.toml", "/nonexistent-portwarden-fuzz");
  if (!loaded) {
    if (loaded.error().message.empty()) {
      std::abort();  // every refusal says why
    }
    return 0;
  }
  const std::string written = pw::config::to_toml(loaded->values);
  auto again = pw::config::load_string(written, "again.toml", "/nonexistent-portwarden-fuzz");
  if (!again || pw::config::to_toml(again->values) != written) {
    std::abort();
  }
  return 0;
}
