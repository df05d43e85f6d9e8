#include <gtest/gtest.h>

#include <stdexcept>

#include "http/router.hpp"

namespace pw::http {
namespace {

request make(std::string method, std::string path) {
  request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(Router, ExactAndPrefixRoutes) {
  router routes;
  routes.add("GET", "/healthz", [](const request&) { return response{200, "text/plain", "ok", {}}; });
  routes.add("GET", "/api/v1/subscribers/",
             [](const request& r) { return response{200, "text/plain", "id=" + r.path_tail, {}}; });
  EXPECT_EQ(routes.dispatch(make("GET", "/healthz")).body, "ok");
  EXPECT_EQ(routes.dispatch(make("GET", "/api/v1/subscribers/alice")).body, "id=alice");
  EXPECT_EQ(routes.dispatch(make("GET", "/api/v1/subscribers/")).status, 404u) << "a prefix route needs a tail";
  EXPECT_EQ(routes.dispatch(make("GET", "/healthz/x")).status, 404u);
  EXPECT_EQ(routes.dispatch(make("GET", "/nothing")).status, 404u);
}

TEST(Router, WrongMethodIs405WithAllow) {
  router routes;
  routes.add("POST", "/api/v1/check", [](const request&) { return response{}; });
  const response r = routes.dispatch(make("GET", "/api/v1/check"));
  EXPECT_EQ(r.status, 405u);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "POST");
}

TEST(Router, AThrowingHandlerIsA500WithoutItsMessage) {
  router routes;
  routes.add("GET", "/boom", [](const request&) -> response { throw std::runtime_error("secret detail"); });
  const response r = routes.dispatch(make("GET", "/boom"));
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST(PercentDecode, DecodesAndRejectsMalformedEscapes) {
  EXPECT_EQ(percent_decode("/a%20b%3Ac"), "/a b:c");
  EXPECT_EQ(percent_decode("ip%3A192.0.2.1"), "ip:192.0.2.1");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("a%00b")) << "NUL would cut ids in C APIs";
}

TEST(JsonError, EscapesTheMessage) {
  EXPECT_EQ(json_error(400, "bad \"id\"\n").body, "{\"error\":\"bad \\\"id\\\"\\n\"}\n");
}

}  // namespace
}  // namespace pw::http
