// http/router.hpp — requests, responses and routing for the daemon's HTTP API, independent of the wire.
//
// Purpose: handlers see a plain `request` and return a plain `response`; the Beast adapter in
// http/server.hpp does the wire format. Routes are an exact method plus a path that is either exact
// (`/healthz`) or a prefix ending in `/` whose remainder is passed to the handler as `path_tail`
// (`/api/v1/subscribers/` + id).
// Guarantees: an unknown path is 404, a known path with another method is 405 with an Allow header;
// a handler that throws becomes a 500 with a generic body (the exception text is logged by the
// caller, never sent). Paths are matched after percent-decoding; the tail is decoded too.
// Thread-safety: routes are added before serving; `dispatch` is const and may run on many threads.
// Untrusted input: method, target and body come from the network; handlers get the body as bytes and
// must bound their own work (the server already bounds its size).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pw::http {

struct request {
  std::string method;      // "GET", "POST", ...
  std::string path;        // percent-decoded, without the query
  std::string query;       // raw query string, without '?'
  std::string path_tail;   // for prefix routes: the decoded part after the prefix
  std::string content_type;
  std::string cookie;          // the Cookie header as sent (auth/cookie.hpp parses it)
  std::string csrf_token;      // the X-CSRF-Token header
  std::string remote_address;  // the peer's IP address; "local" on a Unix socket (rate limiting keys)
  std::string body;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, Cache-Control, ...)
};

response json_error(unsigned status, std::string_view message);

using handler = std::function<response(const request&)>;

class router {
 public:
  void add(std::string method, std::string path, handler h);
  response dispatch(request r) const;

 private:
  struct route {
    std::string method;
    std::string path;
    bool prefix;
    handler h;
  };
  std::vector<route> _routes;
};

// Percent-decoding of a path; nullopt when an escape is malformed or the text holds a NUL (raw or
// escaped).
std::optional<std::string> percent_decode(std::string_view s);

// The value of `name` in an application/x-www-form-urlencoded string (a query, or a form's body):
// the first occurrence, '+' read as a space, percent-decoded. nullopt when absent or malformed.
std::optional<std::string> form_value(std::string_view encoded, std::string_view name);

}  // namespace pw::http
