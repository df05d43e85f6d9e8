// server/api.hpp (private) — the HTTP API's routes.
#pragma once

#include "http/router.hpp"
#include "service.hpp"

namespace pw::server {

// /healthz, /metrics, GET /api/v1/subscribers/{id}, POST /api/v1/check, GET /api/v1/campaigns[/{id}], and
// PUT /api/v1/clock when server.clock = "api".
void add_api_routes(service& svc, http::router& routes);

}  // namespace pw::server
