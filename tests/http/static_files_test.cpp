#include "http/static_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace pw::http {
namespace {

namespace fs = std::filesystem;

std::string header(const response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) {
      return v;
    }
  }
  return {};
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A site root with a secret file beside it (outside the root) and symlinks both ways.
class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    _base = fs::temp_directory_path() / ("pw-static-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(_base);
    _root = _base / "site";
    write(_root / "index.html", "<!doctype html><title>desk</title>");
    write(_root / "app.js", "export const x = 1;");
    write(_root / "style.css", "body{}");
    write(_root / "logo.svg", "<svg/>");
    write(_root / "data.json", "{}");
    write(_root / "font.woff2", "wOF2");
    write(_root / "img.png", "\x89PNG");
    write(_root / "vendor" / "index.html", "vendor index");
    write(_root / "vendor" / "uPlot.min.css", ".u{}");
    write(_root / "notes.md", "# not a served type");
    write(_root / ".hidden.js", "hidden");
    write(_root / "%2e%2e" / "literal.txt", "a literal directory name");
    write(_base / "secret.txt", "outside the root");
    write(_base / "site-other" / "x.txt", "sibling with the root's name as a prefix");
    fs::create_symlink(_base / "secret.txt", _root / "escape.txt");
    fs::create_directory_symlink(_base, _root / "up");
    fs::create_symlink(_root / "app.js", _root / "alias.js");
    ASSERT_TRUE(add_static_routes(_routes, static_site{"/desk/", _root, 1024}));
  }
  void TearDown() override { fs::remove_all(_base); }

  response get(std::string path) const {
    request r;
    r.method = "GET";
    r.path = std::move(path);
    return _routes.dispatch(std::move(r));
  }

  // As the server does: percent-decode the raw target first (a malformed or NUL escape never reaches
  // the router; the server answers 400 itself).
  std::optional<response> get_raw(std::string_view raw) const {
    auto decoded = percent_decode(raw);
    if (!decoded) {
      return std::nullopt;
    }
    return get(*decoded);
  }

  fs::path _base;
  fs::path _root;
  router _routes;
};

TEST_F(StaticFiles, ServesFilesWithTheirContentTypes) {
  const struct {
    const char* path;
    const char* type;
  } cases[] = {
      {"/desk/index.html", "text/html; charset=utf-8"},
      {"/desk/app.js", "text/javascript; charset=utf-8"},
      {"/desk/style.css", "text/css; charset=utf-8"},
      {"/desk/logo.svg", "image/svg+xml"},
      {"/desk/data.json", "application/json"},
      {"/desk/font.woff2", "font/woff2"},
      {"/desk/img.png", "image/png"},
      {"/desk/vendor/uPlot.min.css", "text/css; charset=utf-8"},
  };
  for (const auto& c : cases) {
    const response r = get(c.path);
    EXPECT_EQ(r.status, 200u) << c.path;
    EXPECT_EQ(r.content_type, c.type) << c.path;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << c.path;
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache") << c.path;
  }
  EXPECT_EQ(get("/desk/app.js").body, "export const x = 1;");
  EXPECT_EQ(get("/desk/img.png").body, std::string("\x89PNG"));
}

TEST_F(StaticFiles, HtmlCarriesTheSecurityHeaders) {
  const response r = get("/desk/index.html");
  EXPECT_EQ(header(r, "Content-Security-Policy"),
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header(get("/desk/app.js"), "Content-Security-Policy"), "") << "scripts do not need a policy of their own";
}

TEST_F(StaticFiles, DirectoryServesItsIndex) {
  const response vendor = get("/desk/vendor/");
  EXPECT_EQ(vendor.status, 200u);
  EXPECT_EQ(vendor.body, "vendor index");
  EXPECT_EQ(get("/desk/vendor").body, "vendor index");
  const response bare = get("/desk");
  EXPECT_EQ(bare.status, 301u);
  EXPECT_EQ(header(bare, "Location"), "/desk/index.html");
}

TEST_F(StaticFiles, TraversalIsRefused) {
  for (const char* path :
       {"/desk/../secret.txt", "/desk/vendor/../../secret.txt", "/desk/./index.html", "/desk/vendor/..",
        "/desk//etc/passwd", "/desk/vendor//index.html", "/desk/../site-other/x.txt"}) {
    const response r = get(path);
    EXPECT_EQ(r.status, 404u) << path;
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << path;
  }
}

TEST_F(StaticFiles, EncodedTraversalIsRefused) {
  for (const char* raw : {"/desk/%2e%2e/secret.txt", "/desk/%2E%2E%2Fsecret.txt",
                          "/desk/vendor/%2e%2e%2f%2e%2e/secret.txt", "/desk/%2fetc%2fpasswd"}) {
    const auto r = get_raw(raw);
    ASSERT_TRUE(r) << raw;
    EXPECT_EQ(r->status, 404u) << raw;
  }
  // Decoded once only: a double-encoded dot-dot is the literal directory name "%2e%2e".
  const auto literal = get_raw("/desk/%252e%252e/literal.txt");
  ASSERT_TRUE(literal);
  EXPECT_EQ(literal->status, 200u);
  EXPECT_EQ(literal->body, "a literal directory name");
}

TEST_F(StaticFiles, NulIsRefused) {
  EXPECT_FALSE(get_raw("/desk/index.html%00.png")) << "the server answers 400 for an encoded NUL";
  const response r = get(std::string("/desk/index.html\0.png", 21));
  EXPECT_EQ(r.status, 400u);
}

TEST_F(StaticFiles, SymlinksMayNotLeaveTheRoot) {
  EXPECT_EQ(get("/desk/escape.txt").status, 404u);
  EXPECT_EQ(get("/desk/up/secret.txt").status, 404u);
  // Only where a path ends up counts: up/site/index.html is the root's own index.html again.
  EXPECT_EQ(get("/desk/up/site/index.html").body, "<!doctype html><title>desk</title>");
  const response inside = get("/desk/alias.js");
  EXPECT_EQ(inside.status, 200u) << "a symlink within the root is fine";
  EXPECT_EQ(inside.body, "export const x = 1;");
}

TEST_F(StaticFiles, HiddenUnknownAndMissingFilesAre404) {
  EXPECT_EQ(get("/desk/.hidden.js").status, 404u);
  EXPECT_EQ(get("/desk/notes.md").status, 404u);
  EXPECT_EQ(get("/desk/missing.js").status, 404u);
}

TEST_F(StaticFiles, OnlyGet) {
  request r;
  r.method = "POST";
  r.path = "/desk/index.html";
  EXPECT_EQ(_routes.dispatch(r).status, 405u);
}

TEST_F(StaticFiles, FilesOverTheLimitAreNotServed) {
  write(_root / "big.js", std::string(1025, 'x'));
  EXPECT_EQ(get("/desk/big.js").status, 500u);
  write(_root / "edge.js", std::string(1024, 'x'));
  EXPECT_EQ(get("/desk/edge.js").status, 200u);
}

TEST(StaticFilesSetup, RefusesABadPrefixOrRoot) {
  router routes;
  const auto missing = add_static_routes(routes, static_site{"/desk/", "/nonexistent/pw-web", 1024});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::invalid_config);
  EXPECT_FALSE(add_static_routes(routes, static_site{"desk", fs::temp_directory_path(), 1024}));
  EXPECT_FALSE(add_static_routes(routes, static_site{"/", fs::temp_directory_path(), 1024}));
}

}  // namespace
}  // namespace pw::http
