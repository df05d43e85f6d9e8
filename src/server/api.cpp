#include "api.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>

#include "desk_api.hpp"
#include "mime/message.hpp"

namespace pw::server {
namespace {

using json = nlohmann::json;


json window_json(const behavior::window_counts& w) {
  json j{{"messages", w.messages},
         {"recipients", w.recipients},
         {"new_recipients", w.new_recipients},
         {"new_domains", w.new_domains},
         {"sender_changes", w.sender_changes},
         {"helo_changes", w.helo_changes},
         {"hard_bounces", w.hard_bounces}};
  j["mean_spam_probability"] = w.mean_spam_probability ? json(*w.mean_spam_probability) : json(nullptr);
  return j;
}

}  // namespace

http::response json_response(unsigned status, const json& body) {
  http::response r;
  r.status = status;
  // Ids are SASL logins and may hold any bytes: invalid UTF-8 becomes U+FFFD rather than a throw.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

json subscriber_view(service& svc, const std::string& id) {
  const std::int64_t now = svc.now_ms();
  auto rep = svc.engine().report(id, now);
  auto decisions = svc.store().recent_decisions(id, 20);
  auto held = svc.store().held_for(id);
  if (!rep && decisions && decisions->empty()) {
    return nullptr;
  }
  json j{{"subscriber", id}};
  if (rep) {
    j["level"] = behavior::level_name(rep->lvl);
    j["suspicion"] = rep->suspicion;
    json windows = json::object();
    for (std::size_t w = 0; w < behavior::window_count; ++w) {
      windows[std::string(behavior::window_name(static_cast<behavior::window>(w)))] = window_json(rep->windows[w]);
    }
    j["windows"] = windows;
    j["baseline"] = {{"messages_per_day", rep->baseline_messages_per_day},
                     {"recipients_per_day", rep->baseline_recipients_per_day},
                     {"learnt", rep->baseline_learnt}};
    j["last_seen_ms"] = rep->last_seen_ms;
    j["held_since_ms"] = rep->held_since_ms ? json(*rep->held_since_ms) : json(nullptr);
    j["grace_until_ms"] = rep->grace_until_ms ? json(*rep->grace_until_ms) : json(nullptr);
    j["reasons"] = behavior::describe(rep->reasons_view());
  } else {
    j["level"] = nullptr;  // known from the decision log only (state expired)
  }
  if (decisions) {
    json list = json::array();
    for (const auto& d : *decisions) {
      list.push_back({{"at_ms", d.at_ms},
                      {"queue_id", d.queue_id},
                      {"action", d.action},
                      {"level", d.level},
                      {"suspicion", d.suspicion},
                      {"reasons", d.reasons},
                      {"observe_only", d.observe_only}});
    }
    j["decisions"] = list;
  } else {
    j["decisions_error"] = decisions.error().message;
  }
  if (held) {
    json list = json::array();
    for (const auto& h : *held) {
      list.push_back({{"queue_id", h.queue_id}, {"held_ms", h.held_ms}});
    }
    j["held"] = list;
  } else {
    j["held_error"] = held.error().message;
  }
  return j;
}

namespace {

// GET /api/v1/subscribers/{id}: the engine's view now, the latest decisions and the held queue ids;
// with a desk session also the subscriber's cases and exemptions. Ids, counts and reason texts only;
// the store never had content to give.
http::response subscriber(service& svc, const http::request& req) {
  const std::string& id = req.path_tail;
  if (id.empty() || id.size() > 512) {
    return http::json_error(400, "bad subscriber id");
  }
  json j = subscriber_view(svc, id);
  if (svc.desk() != nullptr) {
    add_desk_view(svc, *svc.desk(), req, id, j);
  }
  if (j.is_null()) {
    return http::json_error(404, "unknown subscriber");
  }
  return json_response(200, j);
}

json campaign_json(const campaign::campaign_view& v) {
  json j{{"id", v.id},
         {"active", v.active},
         {"messages", v.messages},
         {"messages_in_window", v.messages_in_window},
         {"distinct_subscribers", v.distinct_subscribers},
         {"distinct_subscribers_total", v.distinct_subscribers_total},
         {"last_seen_ms", v.last_seen_ms}};
  // Content-derived evidence only under the k-anonymity rule (the tracker leaves `shown` empty
  // below k distinct subscribers); otherwise the id and the counts are all there is.
  if (v.shown) {
    j["first_seen_ms"] = v.shown->first_seen_ms;
    j["subject_shape"] = v.shown->subject_shape;
    j["url_domains"] = v.shown->url_domains;
  } else {
    j["evidence"] = "withheld until k distinct subscribers sent it";
  }
  return j;
}

// GET /api/v1/campaigns[?all=1]: active campaigns (or all tracked), most subscribers first.
http::response campaigns(service& svc, const http::request& req) {
  campaign::list_options opts;
  opts.active_only = req.query.find("all=1") == std::string::npos;
  const auto views = svc.campaigns().list(svc.now_ms(), opts);
  json list = json::array();
  for (const auto& v : views) {
    list.push_back(campaign_json(v));
  }
  return json_response(200, {{"k", svc.campaigns().settings().k},
                             {"active_only", opts.active_only},
                             {"campaigns", list}});
}

http::response one_campaign(service& svc, const http::request& req) {
  if (req.path_tail.empty() || req.path_tail.size() > 64) {
    return http::json_error(400, "bad campaign id");
  }
  auto found = svc.campaigns().find(req.path_tail, svc.now_ms());
  if (found.failed()) {
    return http::json_error(500, found.error().message);
  }
  if (found.missing()) {
    return http::json_error(404, "unknown campaign");
  }
  return json_response(200, campaign_json(*found));
}

// POST /api/v1/check: scores a raw message (the body) and answers with numbers only. The readable
// feature names `portwarden check` prints are not offered here: an API answer can end up in logs.
http::response check(service& svc, const http::request& req) {
  const auto rt = svc.current();
  classify::classifier* scorer = svc.thread_classifier(*rt);
  if (scorer == nullptr) {
    return http::json_error(409, "content scoring is off (content-blind mode: no classifier.model)");
  }
  if (req.body.empty()) {
    return http::json_error(400, "empty body: POST the raw message");
  }
  const classify::verdict v = scorer->score(req.body);
  json anomalies = json::array();
  for (unsigned bit = 0; bit < 32; ++bit) {
    const auto a = static_cast<mime::anomaly>(1u << bit);
    if ((static_cast<std::uint32_t>(v.anomalies) & (1u << bit)) != 0) {
      anomalies.push_back(mime::anomaly_name(a));
    }
  }
  return json_response(200, {{"probability", v.probability},
                             {"log_odds", v.log_odds},
                             {"verdict", v.probability >= classify::default_threshold ? "spam" : "ham"},
                             {"features", v.features},
                             {"anomalies", anomalies}});
}

// PUT /api/v1/clock {"now_ms": N}: sets the daemon's time (server.clock = "api" only; the route does
// not exist otherwise, so a production daemon answers 404/405).
http::response set_clock(service& svc, const http::request& req) {
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("now_ms")) {
    return http::json_error(400, "expected a JSON object {\"now_ms\": milliseconds since the epoch}");
  }
  const json& v = body["now_ms"];
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) ||
      v.get<std::int64_t>() < 0) {
    return http::json_error(400, "now_ms must be a non-negative integer (milliseconds since the epoch)");
  }
  svc.set_now_ms(v.get<std::int64_t>());
  http::response r;
  r.status = 204;
  return r;
}

}  // namespace

void add_api_routes(service& svc, http::router& routes) {
  routes.add("GET", "/healthz", [&svc](const http::request&) {
    const bool draining = svc.draining();
    return json_response(draining ? 503 : 200, {{"status", draining ? "draining" : "ok"}});
  });
  routes.add("GET", "/metrics", [&svc](const http::request&) {
    http::response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = svc.registry().render();
    return r;
  });
  routes.add("GET", "/api/v1/subscribers/", [&svc](const http::request& req) { return subscriber(svc, req); });
  routes.add("POST", "/api/v1/check", [&svc](const http::request& req) { return check(svc, req); });
  routes.add("GET", "/api/v1/campaigns", [&svc](const http::request& req) { return campaigns(svc, req); });
  routes.add("GET", "/api/v1/campaigns/", [&svc](const http::request& req) { return one_campaign(svc, req); });
  if (svc.clock_settable()) {
    routes.add("PUT", "/api/v1/clock", [&svc](const http::request& req) { return set_clock(svc, req); });
  }
}

}  // namespace pw::server
