// fuzz/http_request_fuzz.cpp — libFuzzer target for what the HTTP layer reads from a request before
// any handler: percent-decoding of the path, the router's matching (exact and prefix routes, the
// decoded tail), and form/query values (`http::form_value`, which also reads the self-help page's
// POSTed forms). The input is "TARGET\nBODY": the target's path and query, then a form body.
// Checks: a decoded path never holds NUL; a found form value is no longer than its encoded form; the
// router answers every request with a known status and never throws.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

const pw::http::router& routes() {
  static const pw::http::router r = [] {
    pw::http::router out;
    const auto ok = [](const pw::http::request& req) {
      pw::http::response resp;
      resp.body = req.path_tail;
      return resp;
    };
    out.add("GET", "/healthz", ok);
    out.add("GET", "/api/v1/cases", ok);
    out.add("GET", "/api/v1/cases/", ok);
    out.add("POST", "/api/v1/cases/", ok);
    out.add("GET", "/help/", ok);
    out.add("POST", "/help/", ok);
    return out;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view target = input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  const auto q = target.find('?');
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);

  const auto path = pw::http::percent_decode(target.substr(0, q));
  if (path) {
    check(path->find('\0') == std::string::npos);
    check(path->size() <= q);
    for (const char* method : {"GET", "POST"}) {
      pw::http::request req;
      req.method = method;
      req.path = *path;
      req.query = std::string(query);
      const pw::http::response resp = routes().dispatch(req);
      check(resp.status == 200 || resp.status == 404 || resp.status == 405);
      if (resp.status == 200 && path->rfind("/help/", 0) == 0) {
        check(resp.body == path->substr(6));  // the tail is what follows the prefix
      }
    }
  }
  for (std::string_view encoded : {query, body}) {
    for (const char* name : {"reason", "status", "before", "limit", ""}) {
      if (const auto v = pw::http::form_value(encoded, name)) {
        check(v->size() <= encoded.size());
        check(v->find('\0') == std::string::npos);
      }
    }
  }
  return 0;
}
