// server/desk_api.hpp (private) — the abuse desk's HTTP side: login and sessions, the JSON API
// behind every desk page (docs/API.md), the customer's self-help page, and the built UI's files.
//
// Authentication: desk users log in with a password (argon2id) and get a session cookie (HttpOnly,
// SameSite=Strict, random 256-bit value, stored only as its SHA-256). Every state-changing request
// carries the session's CSRF token in X-CSRF-Token; reads need a session too. Roles: viewer reads,
// operator acts on cases and exemptions, admin also manages users and reads the audit log. Every
// action and every refusal (wrong password, missing CSRF token, role too low, rate limit, bad or
// expired self-help token) is written to the audit log.
// The self-help page (/help/<token>) needs no login: the token from the notice is the credential;
// unknown or expired tokens are refused with plain words, and guessing is rate-limited per client
// address.
// Privacy: answers carry ids, counts, reason texts and queue ids; never message content.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "desk_service.hpp"
#include "http/router.hpp"
#include "service.hpp"

namespace pw::server {

// Adds the desk's routes; the static UI under /desk/ when desk.web_root is set (errors name the path).
result<void> add_desk_routes(service& svc, desk_service& desk, http::router& routes);

// For GET /api/v1/subscribers/{id}: with a valid desk session, adds the subscriber's cases and
// exemptions (and plan) to `view` — creating it when the engine no longer knows the subscriber but
// the desk does — and returns true; without a session leaves `view` alone and returns false.
bool add_desk_view(service& svc, desk_service& desk, const http::request& req, const std::string& id,
                   nlohmann::json& view);

}  // namespace pw::server
