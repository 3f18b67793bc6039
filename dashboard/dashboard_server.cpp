#include "dashboard/dashboard_server.hpp"

#include "dashboard/assets.hpp"
#include "dashboard/http_text.hpp"
#include "store/dashboard.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <openssl/crypto.h>

namespace syncforce::dashboard {

namespace {

constexpr const char* cookie_name = "sf_session";
constexpr const char* json_type = "application/json; charset=utf-8";

/// Headers every answer carries: nothing outside this origin may run, frame or be fetched.
void harden(httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
}

void send_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, json_type);
}

void send_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  send_json(res, status, nlohmann::json{{"error", message}, {"code", code}}.dump());
}

std::string cookie_of(const httplib::Request& req) {
  return cookie_value(req.get_header_value("Cookie"), cookie_name);
}

/// Behind a TLS-terminating proxy the browser speaks https: the cookie must then be Secure.
bool over_tls(const httplib::Request& req) {
  return req.get_header_value("X-Forwarded-Proto") == "https";
}

std::string session_cookie(const httplib::Request& req, const std::string& value, long max_age_seconds) {
  return std::string{cookie_name} + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age_seconds) + (over_tls(req) ? "; Secure" : "");
}

bool same_text(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

/// A change must come from a page of this origin: when the browser names the
/// origin, its host must be the one it asked.
bool foreign_request(const httplib::Request& req) {
  return foreign_origin(req.get_header_value("Origin"), req.get_header_value("Host"));
}

std::string json_error_message(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error"))
    return j["error"].get<std::string>();
  return body;
}

} // namespace

dashboard_server::~dashboard_server() {
  stop();
}

std::unique_ptr<dashboard_server> dashboard_server::start(dashboard_settings settings,
                                                          std::unique_ptr<admin_bridge> bridge, std::string& error) {
  std::unique_ptr<dashboard_server> srv(new dashboard_server());
  srv->settings_ = std::move(settings);
  srv->bridge_ = std::move(bridge);
  srv->sessions_ = std::make_unique<session_store>(srv->settings_.database_url, srv->settings_.idle_timeout,
                                                   srv->settings_.max_age, srv->settings_.node_name);
  srv->http_ = std::make_unique<httplib::Server>();
  srv->routes();
  const auto& address = srv->settings_.address;
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    error = "--http-address '" + address + "' is not HOST:PORT";
    return nullptr;
  }
  auto host = address.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    error = "--http-address '" + address + "': the port is not a number";
    return nullptr;
  }
  if (port == 0)
    srv->port_ = srv->http_->bind_to_any_port(host);
  else
    srv->port_ = srv->http_->bind_to_port(host, port) ? port : -1;
  if (srv->port_ <= 0) {
    error = "cannot listen on " + address + " (in use, or not an address of this host)";
    return nullptr;
  }
  auto* http = srv->http_.get();
  srv->thread_ = std::thread([http] { http->listen_after_bind(); });
  return srv;
}

void dashboard_server::stop() {
  if (http_)
    http_->stop();
  if (thread_.joinable())
    thread_.join();
}

void dashboard_server::routes() {
  auto& http = *http_;
  // The database may be down or still migrating: the page says so instead of a bare 500.
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    int status = 500;
    try {
      std::rethrow_exception(ep);
    } catch (const pqxx::undefined_table&) {
      status = 503;
      what = "the node is still starting (its control schema is not ready); try again in a moment";
    } catch (const pqxx::broken_connection&) {
      status = 503;
      what = "the database is not reachable; try again";
    } catch (const std::exception& e) {
      what = e.what();
    }
    harden(res);
    send_error(res, status, status == 503 ? "UNAVAILABLE" : "INTERNAL", what);
  });
  http.set_payload_max_length(16 * 1024 * 1024);

  // Static pages: one HTML document, its script and its style sheet.
  http.Get(R"(/|/app\.js|/app\.css|/favicon\.svg)", [](const httplib::Request& req, httplib::Response& res) {
    harden(res);
    const auto* a = find_asset(req.path);
    if (a == nullptr) {
      res.status = 404;
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string{a->body}, std::string{a->content_type}.c_str());
  });

  // Who am I: the session's token name and CSRF token (the page keeps it in memory only).
  http.Get("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
    harden(res);
    auto s = sessions_->find(cookie_of(req));
    if (!s || !bridge_->knows(s->token_name))
      return send_error(res, 401, "UNAUTHENTICATED", "not signed in");
    send_json(res, 200,
              nlohmann::json{{"name", s->token_name}, {"csrf_token", s->csrf_token}, {"node", settings_.node_name}}
                .dump());
  });

  // Sign in with an admin token: the same named tokens as the CLI's.
  http.Post("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
    harden(res);
    if (foreign_request(req))
      return send_error(res, 403, "PERMISSION_DENIED", "a sign-in from another site is refused");
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string() ||
        body["token"].get<std::string>().empty())
      return send_error(res, 400, "INVALID_ARGUMENT", "enter an admin token");
    auto name = bridge_->sign_in(body["token"].get<std::string>());
    if (!name)
      return send_error(res, 401, "UNAUTHENTICATED", "the token is not valid for this cluster");
    sessions_->purge_expired();
    auto opened = sessions_->open(*name);
    res.set_header("Set-Cookie", session_cookie(req, opened.cookie, static_cast<long>(settings_.max_age.count())));
    send_json(res, 200,
              nlohmann::json{{"name", *name}, {"csrf_token", opened.csrf_token}, {"node", settings_.node_name}}
                .dump());
  });

  // Everything below needs a session; changes also need its CSRF token.
  auto authorised = [this](const httplib::Request& req, httplib::Response& res, bool change) -> std::optional<session> {
    harden(res);
    auto s = sessions_->find(cookie_of(req));
    if (!s || !bridge_->knows(s->token_name)) {
      send_error(res, 401, "UNAUTHENTICATED", "not signed in (or the session expired): sign in again");
      return std::nullopt;
    }
    if (change) {
      if (foreign_request(req)) {
        send_error(res, 403, "PERMISSION_DENIED", "a change from another site is refused");
        return std::nullopt;
      }
      if (!same_text(req.get_header_value("X-CSRF-Token"), s->csrf_token)) {
        send_error(res, 403, "PERMISSION_DENIED",
                   "the request lacks this session's CSRF token (X-CSRF-Token): reload the page");
        return std::nullopt;
      }
    }
    return s;
  };

  http.Delete("/api/session", [this, authorised](const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res, true))
      return;
    sessions_->close(cookie_of(req));
    res.set_header("Set-Cookie", session_cookie(req, "", 0));
    send_json(res, 200, R"({"signed_out":true})");
  });

  // The admin API: POST /api/admin/<Method> with the request as JSON. Every call
  // is a POST with the CSRF token, reads included: one rule, nothing to forget.
  http.Post(R"(/api/admin/([A-Za-z]+))", [this, authorised](const httplib::Request& req, httplib::Response& res) {
    auto s = authorised(req, res, true);
    if (!s)
      return;
    const std::string method = req.matches[1];
    auto answer = bridge_->call(s->token_name, method, req.body);
    send_json(res, answer.http_status, answer.json);
  });

  // Downloads (plain GETs: a link the browser follows; SameSite=Strict keeps other sites out).
  http.Get("/api/export.json", [this, authorised](const httplib::Request& req, httplib::Response& res) {
    auto s = authorised(req, res, false);
    if (!s)
      return;
    nlohmann::json request{{"connection", req.get_param_value("connection")}};
    auto answer = bridge_->call(s->token_name, "ExportConfiguration", request.dump());
    if (answer.http_status != 200)
      return send_json(res, answer.http_status, answer.json);
    auto exported = nlohmann::json::parse(answer.json);
    res.set_header("Content-Disposition", "attachment; filename=\"syncforce-export.json\"");
    res.set_header("Cache-Control", "no-store");
    res.set_content(exported["json"].get<std::string>(), json_type);
  });

  http.Get("/api/audit.csv", [this, authorised](const httplib::Request& req, httplib::Response& res) {
    auto s = authorised(req, res, false);
    if (!s)
      return;
    nlohmann::json request{{"limit", 0}};
    if (req.has_param("since"))
      request["since"] = req.get_param_value("since");
    auto answer = bridge_->call(s->token_name, "GetAuditLog", request.dump());
    if (answer.http_status != 200)
      return send_error(res, answer.http_status, "AUDIT", json_error_message(answer.json));
    auto log = nlohmann::json::parse(answer.json);
    std::string csv = "id,at,actor,action,object_type,object_id,connection,object_name,before,after\r\n";
    for (const auto& e : log.value("entries", nlohmann::json::array())) {
      csv += csv_field(e.value("id", "")) + "," + csv_field(e.value("at", "")) + "," +
             csv_field(e.value("actor", "")) + "," + csv_field(e.value("action", "")) + "," +
             csv_field(e.value("object_type", "")) + "," + csv_field(e.value("object_id", "")) + "," +
             csv_field(e.value("connection", "")) + "," + csv_field(e.value("object_name", "")) + "," +
             csv_field(e.value("before_json", "")) + "," + csv_field(e.value("after_json", "")) + "\r\n";
    }
    res.set_header("Content-Disposition", "attachment; filename=\"syncforce-audit.csv\"");
    res.set_header("Cache-Control", "no-store");
    res.set_content(csv, "text/csv; charset=utf-8");
  });

  // The cluster's nodes once the cluster tables exist; until then this node alone.
  http.Get("/api/nodes", [this, authorised](const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res, false))
      return;
    pqxx::connection conn(settings_.database_url);
    pqxx::read_transaction tx(conn);
    nlohmann::json out{{"answered_by", settings_.node_name}, {"cluster", false}};
    // Nodes that registered themselves (the cluster's heartbeat table); until
    // one has, this node is the cluster and runs everything.
    if (store::cluster_has_nodes(tx)) {
      out["cluster"] = true;
      out["nodes"] = nlohmann::json::parse(store::nodes_json(tx));
      // What each runs: the leases of live nodes (docs/cluster.md), named by connection or object.
      if (auto leases = store::live_leases_json(tx))
        out["leases"] = nlohmann::json::parse(*leases);
    } else {
      out["nodes"] = nlohmann::json::array({nlohmann::json{{"name", settings_.node_name}}});
    }
    send_json(res, 200, out.dump());
  });

  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    harden(res);
    if (res.body.empty() && req.path.rfind("/api/", 0) == 0)
      send_error(res, res.status, "NOT_FOUND", "no such API path: " + req.path);
  });
}

} // namespace syncforce::dashboard
