#include "http/static_files.hpp"

#include <array>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

namespace pw::http {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view desk_csp =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

struct file_type {
  std::string_view extension;
  std::string_view content_type;
  bool document;  // HTML and SVG can run script when opened directly, so they get the CSP
};

constexpr std::array<file_type, 10> known_types{{
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", false},
    {".mjs", "text/javascript; charset=utf-8", false},
    {".css", "text/css; charset=utf-8", false},
    {".svg", "image/svg+xml", true},
    {".png", "image/png", false},
    {".ico", "image/x-icon", false},
    {".json", "application/json", false},
    {".txt", "text/plain; charset=utf-8", false},
    {".woff2", "font/woff2", false},
}};

const file_type* type_of(const fs::path& p) {
  const std::string ext = p.extension().string();
  for (const file_type& t : known_types) {
    if (ext == t.extension) {
      return &t;
    }
  }
  return nullptr;
}

// True when `p` is `root` or lies below it; both are canonical, so a component-wise prefix is exact
// (a string prefix would let /srv/web-other pass for /srv/web).
bool within(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) {
      return false;
    }
  }
  return true;
}

// The relative path named by a decoded tail, or nullopt when a segment could step outside the root or
// name a hidden file. A trailing '/' (a directory) leaves an empty last segment, which is fine.
std::optional<fs::path> relative_path(std::string_view tail) {
  fs::path rel;
  std::size_t start = 0;
  while (start <= tail.size()) {
    const std::size_t slash = tail.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? tail.size() : slash;
    const std::string_view segment = tail.substr(start, end - start);
    const bool last = slash == std::string_view::npos;
    if (segment.empty()) {
      if (!last || start == 0) {
        return std::nullopt;  // "//" or a leading '/': an absolute path would replace the root
      }
    } else if (segment.front() == '.') {
      return std::nullopt;
    } else {
      rel /= fs::path(std::string(segment));
    }
    if (last) {
      break;
    }
    start = slash + 1;
  }
  return rel;
}

// Canonical form of `p` when it exists and stays inside `root`.
std::optional<fs::path> resolve_inside(const fs::path& root, const fs::path& p) {
  std::error_code ec;
  fs::path canon = fs::canonical(p, ec);
  if (ec || !within(root, canon)) {
    return std::nullopt;
  }
  return canon;
}

response not_found() { return json_error(404, "not found"); }

response serve(const fs::path& root, std::size_t max_bytes, const request& req) {
  if (req.path_tail.find('\0') != std::string::npos) {
    return json_error(400, "malformed path");
  }
  const auto rel = relative_path(req.path_tail);
  if (!rel) {
    return not_found();
  }
  auto file = resolve_inside(root, root / *rel);
  if (!file) {
    return not_found();
  }
  std::error_code ec;
  if (fs::is_directory(*file, ec)) {
    file = resolve_inside(root, *file / "index.html");
    if (!file) {
      return not_found();
    }
  }
  const file_type* type = type_of(*file);
  if (type == nullptr || !fs::is_regular_file(*file, ec)) {
    return not_found();
  }
  const auto size = fs::file_size(*file, ec);
  if (ec) {
    return json_error(500, "cannot read file");
  }
  if (size > max_bytes) {
    return json_error(500, "file too large to serve");
  }
  std::ifstream in(*file, std::ios::binary);
  if (!in) {
    return json_error(500, "cannot read file");
  }
  response resp;
  resp.content_type = std::string(type->content_type);
  // Read at most one byte past the limit: the file may have grown since file_size.
  resp.body.reserve(static_cast<std::size_t>(size));
  std::istreambuf_iterator<char> it(in);
  const std::istreambuf_iterator<char> end;
  for (std::size_t n = 0; it != end && n <= max_bytes; ++it, ++n) {
    resp.body.push_back(*it);
  }
  if (in.bad()) {
    return json_error(500, "cannot read file");
  }
  if (resp.body.size() > max_bytes) {
    return json_error(500, "file too large to serve");
  }
  resp.headers.emplace_back("Cache-Control", "no-cache");
  resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (type->document) {
    resp.headers.emplace_back("Content-Security-Policy", std::string(desk_csp));
    resp.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  return resp;
}

}  // namespace

result<void> add_static_routes(router& routes, const static_site& site) {
  const std::string& prefix = site.url_prefix;
  if (prefix.size() < 3 || prefix.front() != '/' || prefix.back() != '/') {
    return make_error(errc::invalid_config, "static files prefix must look like /name/, got '" + prefix + "'");
  }
  std::error_code ec;
  fs::path root = fs::canonical(site.root, ec);
  if (ec || !fs::is_directory(root, ec)) {
    return make_error(errc::invalid_config,
                      "static files root " + site.root.string() + " is not a directory (run `make web`)");
  }
  const std::size_t max_bytes = site.max_file_bytes;
  routes.add("GET", prefix, [root, max_bytes](const request& req) { return serve(root, max_bytes, req); });
  std::string bare = prefix.substr(0, prefix.size() - 1);
  routes.add("GET", bare, [location = prefix + "index.html"](const request&) {
    response resp;
    resp.status = 301;
    resp.content_type = "text/plain; charset=utf-8";
    resp.body = "moved to " + location + "\n";
    resp.headers.emplace_back("Location", location);
    return resp;
  });
  return {};
}

}  // namespace pw::http
