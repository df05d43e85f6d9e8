// server/api.hpp (private) — the HTTP API's routes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "http/router.hpp"
#include "service.hpp"

namespace pw::server {

// /healthz, /metrics, GET /api/v1/subscribers/{id}, POST /api/v1/check, GET /api/v1/campaigns[/{id}], and
// PUT /api/v1/clock when server.clock = "api".
void add_api_routes(service& svc, http::router& routes);

// A JSON answer (invalid UTF-8 in strings is replaced, never thrown).
http::response json_response(unsigned status, const nlohmann::json& body);

// The engine's view of one subscriber as the API shows it (level, windows, baseline, reasons, latest
// decisions, held queue ids); null when the subscriber is unknown to the engine and the decision log.
nlohmann::json subscriber_view(service& svc, const std::string& id);

}  // namespace pw::server
