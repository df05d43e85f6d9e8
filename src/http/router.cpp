#include "http/router.hpp"

#include <exception>

namespace pw::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      if (s[i] == '\0') {
        return std::nullopt;  // raw or escaped, a NUL never belongs in a path or a form value
      }
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {
      return std::nullopt;
    }
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      return std::nullopt;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::optional<std::string> form_value(std::string_view encoded, std::string_view name) {
  while (!encoded.empty()) {
    const auto amp = encoded.find('&');
    const std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view{} : encoded.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (key != name) {
      continue;
    }
    std::string value(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    for (char& c : value) {
      if (c == '+') {
        c = ' ';
      }
    }
    return percent_decode(value);
  }
  return std::nullopt;
}

response json_error(unsigned status, std::string_view message) {
  response r;
  r.status = status;
  r.body = "{\"error\":\"" + json_escape(message) + "\"}\n";
  return r;
}

void router::add(std::string method, std::string path, handler h) {
  const bool prefix = !path.empty() && path.back() == '/' && path.size() > 1;
  _routes.push_back(route{std::move(method), std::move(path), prefix, std::move(h)});
}

response router::dispatch(request r) const {
  std::string allowed;
  const route* match = nullptr;
  for (const route& rt : _routes) {
    const bool path_matches = rt.prefix ? (r.path.size() > rt.path.size() && r.path.compare(0, rt.path.size(), rt.path) == 0)
                                        : r.path == rt.path;
    if (!path_matches) {
      continue;
    }
    if (rt.method == r.method) {
      match = &rt;
      break;
    }
    allowed += allowed.empty() ? rt.method : ", " + rt.method;
  }
  if (match == nullptr) {
    if (!allowed.empty()) {
      response resp = json_error(405, "method not allowed");
      resp.headers.emplace_back("Allow", allowed);
      return resp;
    }
    return json_error(404, "not found");
  }
  if (match->prefix) {
    r.path_tail = r.path.substr(match->path.size());
  }
  try {
    return match->h(r);
  } catch (const std::exception&) {
    return json_error(500, "internal error");
  }
}

}  // namespace pw::http
