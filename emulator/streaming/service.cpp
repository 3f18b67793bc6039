#include "emulator/streaming/service.hpp"

#include "emulator/streaming/sources.hpp"

#include <cstdlib>
#include <string>

namespace sfemu::streaming {

namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

/// The lowest API version with the Streaming API (Salesforce: 24.0).
constexpr double min_version = 24.0;

void write_bayeux(Response& res, int status, const json& body) {
  route_context::write_json(res, status, body);
}

} // namespace

service::service(route_context& ctx, const streaming_options& opts) : ctx_(ctx) {
  bayeux_options b;
  b.connect_timeout_ms = opts.connect_timeout_ms;
  b.client_timeout_ms = opts.client_timeout_ms;
  bayeux_ = std::make_unique<bayeux_server>(b, ctx.clock().shared_time());
  bayeux_server* bayeux = bayeux_.get();
  topics_ = std::make_unique<push_topics>(ctx.model(), [bayeux] { bayeux->notify(); });
  topics_->attach();
  ctx.model().change_log().set_listener([bayeux] { bayeux->notify(); });
  bayeux_->add_source(std::make_shared<change_event_source>(ctx.model()));
  bayeux_->add_source(std::make_shared<push_topic_source>(*topics_));
  ctx.add_reset_listener([this] {
    // A fresh org has no PushTopics, and its clients start over (they re-handshake).
    topics_->clear();
    bayeux_->expire();
  });
}

service::~service() {
  stop();
  ctx_.model().change_log().set_listener(nullptr);
  ctx_.model().set_change_observer(nullptr);
}

void service::stop() { bayeux_->shutdown(); }

void service::register_routes(httplib::Server& http) {
  auto handler = [this](const Request& req, Response& res) {
    std::string version = req.matches[1];
    if (std::strtod(version.c_str(), nullptr) < min_version) {
      route_context::write_error(res, 400, "UNSUPPORTED_API_VERSION",
                                 "The Streaming API needs API version " + std::to_string(static_cast<int>(min_version)) +
                                     ".0 or later, not " + version);
      return;
    }
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !(body.is_array() || body.is_object())) {
      write_bayeux(res, 400, json::array({{{"channel", "/meta/unknown"},
                                           {"successful", false},
                                           {"error", "400::The request body is not a JSON Bayeux message or array"}}}));
      return;
    }
    // Authenticated by the session's Bearer/OAuth token on every request, like Salesforce;
    // Streaming API traffic does not count against the daily API request limit.
    Response scratch;
    auto session = ctx_.authenticate(req, scratch);
    if (!session) {
      write_bayeux(res, 401, bayeux_server::unauthenticated(body));
      return;
    }
    write_bayeux(res, 200, bayeux_->handle(body, session->user_id));
  };
  http.Post(R"(/cometd/([0-9]+\.[0-9]+)(/.*)?)", handler);

  http.Get("/__sfemu/streaming", [this](const Request&, Response& res) {
    json s = bayeux_->state();
    json topics = json::array();
    for (const auto& t : topics_->topics())
      topics.push_back({{"id", t.id}, {"name", t.name}, {"query", t.query_text}, {"active", t.active},
                        {"usable", t.query != nullptr}, {"error", t.error}});
    s["push_topics"] = topics;
    s["latest_topic_replay_id"] = topics_->latest();
    route_context::write_json(res, 200, s);
  });

  http.Post("/__sfemu/streaming", [this](const Request& req, Response& res) {
    auto j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      route_context::write_error(res, 400, "BAD_REQUEST", "body must be a JSON object");
      return;
    }
    bayeux_options o = bayeux_->options();
    for (auto& [k, v] : j.items()) {
      if ((k == "connect_timeout_ms" || k == "client_timeout_ms") && v.is_number_integer() && v.get<long long>() > 0) {
        (k == "connect_timeout_ms" ? o.connect_timeout_ms : o.client_timeout_ms) = v.get<long long>();
      } else {
        route_context::write_error(res, 400, "BAD_REQUEST",
                                   "'" + k + "': expected connect_timeout_ms or client_timeout_ms, a positive integer");
        return;
      }
    }
    bayeux_->set_options(o);
    route_context::write_json(res, 200, bayeux_->state());
  });

  // Drops clients as Salesforce does when a client is idle too long or its server
  // moves: their next message gets 403::Unknown client (tests of re-handshaking).
  http.Post("/__sfemu/streaming/expire", [this](const Request& req, Response& res) {
    std::string client;
    if (!req.body.empty()) {
      auto j = json::parse(req.body, nullptr, false);
      if (j.is_discarded() || !j.is_object() || (j.contains("clientId") && !j["clientId"].is_string())) {
        route_context::write_error(res, 400, "BAD_REQUEST", "body must be {} or {\"clientId\": \"...\"}");
        return;
      }
      client = j.value("clientId", "");
    }
    route_context::write_json(res, 200, {{"expired", bayeux_->expire(client)}});
  });
}

} // namespace sfemu::streaming
