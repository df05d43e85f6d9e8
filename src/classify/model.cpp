// classify/model.cpp — see model.hpp for the contract and the file format.
#include "classify/model.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <array>
#include <cassert>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "huge_pages.hpp"

namespace pw::classify {
namespace {

constexpr char magic[8] = {'P', 'W', 'M', 'O', 'D', 'E', 'L', '1'};
// 2: header_gram_sizes and transport_header_tokens joined the recorded feature options. A version-1
// file cannot say which header features its weights belong to, so it is refused, not guessed.
constexpr std::uint32_t format_version = 2;
constexpr std::uint32_t header_size = 4096;
constexpr std::uint32_t max_hash_bits = 24;  // 64 MiB of weights; the configured bound is far below

struct file_header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_bytes;
  std::uint32_t hash_bits;
  std::uint32_t text_prefix_bytes;
  std::uint32_t header_prefix_bytes;
  std::uint32_t osb_window;
  float bias;
  float calibration_a;
  float calibration_b;
  std::uint32_t gram_sizes;
  std::uint32_t header_gram_sizes;
  std::uint32_t transport_header_tokens;  // 0 or 1
  std::uint64_t trained_spam;
  std::uint64_t trained_ham;
  std::uint64_t weight_count;
  std::uint64_t checksum;
};
static_assert(sizeof(file_header) <= header_size);
static_assert(std::endian::native == std::endian::little, "model files are little-endian");

std::string errno_text() { return std::strerror(errno); }

std::uint64_t checksum_of(const file_header& h, const float* weights, std::size_t count) {
  std::array<char, header_size> head{};
  file_header zeroed = h;
  zeroed.checksum = 0;
  std::memcpy(head.data(), &zeroed, sizeof zeroed);
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, head.data(), head.size());
  XXH3_64bits_update(state, weights, count * sizeof(float));
  std::uint64_t sum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return sum;
}

result<void> write_all(int fd, const void* data, std::size_t size, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(errc::io, "cannot write " + what + ": " + errno_text());
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

// Validates a header against the file size; on success returns the feature options.
result<feature_options> check_header(const file_header& h, std::size_t file_size, const std::string& path) {
  if (std::memcmp(h.magic, magic, sizeof magic) != 0) {
    return make_error(errc::invalid_input, path + ": not a Portwarden model file (bad magic)");
  }
  if (h.version != format_version) {
    return make_error(errc::invalid_input, path + ": model format version " + std::to_string(h.version) +
                                               " is not supported (this build reads version " +
                                               std::to_string(format_version) + "; retrain the model)");
  }
  if (h.header_bytes != header_size || h.hash_bits < min_hash_bits || h.hash_bits > max_hash_bits ||
      h.weight_count != (std::uint64_t{1} << h.hash_bits) || h.osb_window > 8 || h.gram_sizes > 0x1FE ||
      h.header_gram_sizes > 0x1FE || h.transport_header_tokens > 1) {
    return make_error(errc::corrupt, path + ": model header is inconsistent");
  }
  if (file_size != header_size + h.weight_count * sizeof(float)) {
    return make_error(errc::corrupt, path + ": model file is " + std::to_string(file_size) + " bytes, header says " +
                                         std::to_string(header_size + h.weight_count * sizeof(float)));
  }
  feature_options o;
  o.hash_bits = h.hash_bits;
  o.text_prefix_bytes = h.text_prefix_bytes;
  o.header_prefix_bytes = h.header_prefix_bytes;
  o.osb_window = h.osb_window;
  o.gram_sizes = h.gram_sizes;
  o.header_gram_sizes = h.header_gram_sizes;
  o.transport_header_tokens = h.transport_header_tokens != 0;
  return o;
}

}  // namespace

struct model::storage {
  detail::huge_page_array<float> owned;  // trainable weights
  void* mapped = nullptr;                // or the mapped file
  std::size_t mapped_size = 0;
  ~storage() {
    if (mapped != nullptr) {
      ::munmap(mapped, mapped_size);
    }
  }
};

model::model(feature_options options) : _options(options), _storage(std::make_unique<storage>()) {
  assert(options.hash_bits >= min_hash_bits && options.hash_bits <= max_hash_bits);
  _weight_count = std::size_t{1} << options.hash_bits;
  _storage->owned = detail::allocate_on_huge_pages<float>(_weight_count);
  _mutable_weights = _storage->owned.get();
  _weights = _mutable_weights;
}

model::model(model&& other) noexcept { *this = std::move(other); }

model& model::operator=(model&& other) noexcept {
  _options = other._options;
  _storage = std::move(other._storage);
  _weights = std::exchange(other._weights, nullptr);
  _mutable_weights = std::exchange(other._mutable_weights, nullptr);
  _weight_count = std::exchange(other._weight_count, 0);
  _bias = other._bias;
  _calibration = other._calibration;
  _trained_spam = other._trained_spam;
  _trained_ham = other._trained_ham;
  return *this;
}

model::~model() = default;

std::span<float> model::mutable_weights() {
  assert(trainable());
  return {_mutable_weights, _weight_count};
}

float model::margin(std::span<const std::uint32_t> ids) const {
  // Four accumulators let the loads of independent weights overlap.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  const std::size_t n = ids.size();
  for (; i + 4 <= n; i += 4) {
    s0 += _weights[ids[i]];
    s1 += _weights[ids[i + 1]];
    s2 += _weights[ids[i + 2]];
    s3 += _weights[ids[i + 3]];
  }
  for (; i < n; ++i) {
    s0 += _weights[ids[i]];
  }
  return _bias + (s0 + s1 + s2 + s3) * inverse_norm(n);
}

double model::log_odds(float margin) const {
  return static_cast<double>(_calibration.a) * margin + _calibration.b;
}

double model::probability(float margin) const { return 1.0 / (1.0 + std::exp(-log_odds(margin))); }

result<model> model::load(const std::filesystem::path& path) {
  const std::string name = path.string();
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(errc::io, "cannot open model " + name + ": " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return make_error(errc::io, "cannot stat model " + name + ": " + errno_text());
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < header_size) {
    ::close(fd);
    return make_error(errc::corrupt, name + ": model file is truncated (" + std::to_string(size) + " bytes)");
  }
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) {
    return make_error(errc::io, "cannot map model " + name + ": " + errno_text());
  }
  auto map = std::make_unique<storage>();
  map->mapped = base;
  map->mapped_size = size;
  file_header h;
  std::memcpy(&h, base, sizeof h);
  auto opts = check_header(h, size, name);
  if (!opts) {
    return opts.error();
  }
  const auto* weights = reinterpret_cast<const float*>(static_cast<const char*>(base) + header_size);
  if (checksum_of(h, weights, h.weight_count) != h.checksum) {
    return make_error(errc::corrupt, name + ": model checksum mismatch (file damaged or partly written)");
  }
  model m;
  m._options = *opts;
  m._storage = std::move(map);
  m._weights = weights;
  m._weight_count = h.weight_count;
  m._bias = h.bias;
  m._calibration = calibration{h.calibration_a, h.calibration_b};
  m._trained_spam = h.trained_spam;
  m._trained_ham = h.trained_ham;
  return m;
}

result<model> model::load_for_update(const std::filesystem::path& path) {
  auto mapped = load(path);
  if (!mapped) {
    return mapped.error();
  }
  model m(mapped->options());
  auto src = mapped->weights();
  std::copy(src.begin(), src.end(), m._mutable_weights);
  m._bias = mapped->_bias;
  m._calibration = mapped->_calibration;
  m._trained_spam = mapped->_trained_spam;
  m._trained_ham = mapped->_trained_ham;
  return m;
}

result<void> model::save(const std::filesystem::path& path) const {
  file_header h{};
  std::memcpy(h.magic, magic, sizeof magic);
  h.version = format_version;
  h.header_bytes = header_size;
  h.hash_bits = _options.hash_bits;
  h.text_prefix_bytes = _options.text_prefix_bytes;
  h.header_prefix_bytes = _options.header_prefix_bytes;
  h.osb_window = _options.osb_window;
  h.gram_sizes = _options.gram_sizes;
  h.header_gram_sizes = _options.header_gram_sizes;
  h.transport_header_tokens = _options.transport_header_tokens ? 1 : 0;
  h.bias = _bias;
  h.calibration_a = _calibration.a;
  h.calibration_b = _calibration.b;
  h.trained_spam = _trained_spam;
  h.trained_ham = _trained_ham;
  h.weight_count = _weight_count;
  h.checksum = checksum_of(h, _weights, _weight_count);

  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmp = (dir / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return make_error(errc::io, "cannot create temporary model file in " + dir.string() + ": " + errno_text());
  }
  auto fail = [&](pw::error e) -> result<void> {
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  };
  std::array<char, header_size> head{};
  std::memcpy(head.data(), &h, sizeof h);
  if (auto r = write_all(fd, head.data(), head.size(), tmp); !r) {
    return fail(r.error());
  }
  if (auto r = write_all(fd, _weights, _weight_count * sizeof(float), tmp); !r) {
    return fail(r.error());
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    return fail(make_error(errc::io, "cannot sync " + tmp + ": " + errno_text()));
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return make_error(errc::io, "cannot close " + tmp + ": " + errno_text());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return make_error(errc::io, "cannot rename " + tmp + " to " + path.string() + ": " + errno_text());
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // makes the rename durable; failure here leaves a valid file either way
    ::close(dfd);
  }
  return {};
}

}  // namespace pw::classify
