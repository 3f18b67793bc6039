#pragma once

// sfemu's HTTP server and what route handlers share (route_context). Bulk API 2.0
// (emulator/bulk/) plugs in through `sfemu::bulk::register_routes(httplib::Server&,
// route_context&)`, declared by emulator/bulk/routes.hpp: when that header exists the
// server calls it before registering its own catch-all routes.

#include "emulator/cdc/options.hpp"
#include "emulator/clock.hpp"
#include "emulator/org.hpp"
#include "emulator/sessions.hpp"
#include "emulator/tls.hpp"
#include "emulator/streaming/options.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace sfemu {

struct auth_config;
namespace streaming {
class service;
}

// ---- settings -------------------------------------------------------------------------

/// When query cursors follow the pre-v56 rules (10 per user, 15 minutes idle).
enum class cursor_mode { always, never, below_v56 };
std::optional<cursor_mode> parse_cursor_mode(std::string_view s);
std::string_view to_string(cursor_mode m);

/// Org-wide settings that tests and the command line change.
struct org_settings {
  cursor_mode legacy_cursors = cursor_mode::below_v56;
  std::int64_t api_limit = 15000;        ///< daily API requests
  std::int64_t session_seconds = 7200;   ///< session lifetime
  int concurrent_limit = 25;             ///< in-flight REST requests before ConcurrentRequests 403
  int legacy_cursor_limit = 10;          ///< open cursors per user in legacy mode
  std::int64_t legacy_cursor_idle_ms = 15 * 60 * 1000;
  std::int64_t modern_cursor_ttl_ms = 2LL * 24 * 3600 * 1000;
  bool millisecond_datetimes = false;    ///< keep ms in stored datetimes (Salesforce keeps seconds)
  nlohmann::json to_json() const;
  /// Applies the keys present in `j`; error message on bad values.
  std::optional<std::string> apply(const nlohmann::json& j);
};

// ---- API usage ----------------------------------------------------------------------------

/// API-call counters (per route and per user) and the daily request budget.
class api_usage {
public:
  /// Counts one call; false (not counted) if the daily limit is exhausted.
  bool count(const std::string& route, const std::string& username, std::int64_t limit, std::int64_t now_ms);
  std::int64_t used(std::int64_t now_ms);
  void count_login(const std::string& username);
  /// Counts one call by the client named in its `Sforce-Call-Options: client=NAME` header.
  void count_client(const std::string& client);
  nlohmann::json to_json() const;
  void reset();
  /// Sets the daily usage (tests: exhaust or refill the budget).
  void set_used(std::int64_t n, std::int64_t now_ms);

private:
  mutable std::mutex mutex_;
  std::int64_t day_ = -1;
  std::int64_t daily_ = 0;
  std::int64_t total_ = 0;
  std::int64_t logins_ = 0;
  std::map<std::string, std::int64_t> by_route_;
  std::map<std::string, std::int64_t> by_user_;
  std::map<std::string, std::int64_t> by_client_;
};

// ---- faults ------------------------------------------------------------------------------

/// One fault-injection rule of the control API.
struct fault_rule {
  enum class action { none, error, unauthorized, limit, drop };
  int id = 0;
  std::string route;          ///< ECMAScript regex searched in the request path
  std::string method;         ///< empty: any
  std::int64_t latency_ms = 0;
  double rate = 1.0;          ///< probability that a matching request is hit
  std::int64_t remaining = -1; ///< hits left (-1: unlimited)
  action act = action::none;
  int status = 503;
  std::string error_code = "SERVER_UNAVAILABLE";
  std::string message = "Server unavailable (injected fault)";
  std::int64_t hits = 0;
  /// Applied once the request was carried out (the change is made, then the
  /// answer is late, an error or lost): what a timeout looks like to a client.
  bool after = false;
  std::regex pattern;
  nlohmann::json to_json() const;
};

/// The active fault rules.
class fault_injector {
public:
  /// Parses one rule (or an array / {"faults":[..]}); error message on bad input.
  std::optional<std::string> add(const nlohmann::json& j, std::vector<int>& ids);
  void clear();
  nlohmann::json to_json() const;
  /// The rule that hits this request (latency included), if any: latency to sleep and the action.
  struct decision {
    std::int64_t latency_ms = 0;
    fault_rule::action act = fault_rule::action::none;
    int status = 0;
    std::string error_code;
    std::string message;
  };
  /// `after`: the rules applied once the request was carried out, else the ones before.
  decision decide(const std::string& method, const std::string& path, bool after = false);
  void seed(std::uint64_t s);

private:
  mutable std::mutex mutex_;
  std::vector<fault_rule> rules_;
  int next_id_ = 1;
  std::mt19937_64 rng_{12345};
};

// ---- route context -------------------------------------------------------------------------

/// Everything route handlers share: the org, clock, sessions, settings, counters,
/// cursors, and the helpers that give every response Salesforce's shape.
class route_context {
public:
  route_context(sfemu::clock& clk, sfemu::org& model);

  sfemu::org& model() { return org_; }
  sfemu::clock& clock() { return clock_; }
  session_store& sessions() { return sessions_; }
  cursor_store& cursors() { return cursors_; }
  api_usage& usage() { return usage_; }
  fault_injector& faults() { return faults_; }

  org_settings settings() const;
  std::optional<std::string> apply_settings(const nlohmann::json& j);
  void set_settings(const org_settings& s);

  /// The session of the request's `Authorization: Bearer|OAuth <token>`, or writes
  /// 401 INVALID_SESSION_ID and returns nullopt. Does not count an API call.
  std::optional<session> authenticate(const httplib::Request& req, httplib::Response& res);
  /// authenticate(), then the daily limit (403 REQUEST_LIMIT_EXCEEDED), then counts the
  /// call under `route` and sets `Sforce-Limit-Info`. What every REST handler calls first.
  std::optional<session> begin(const httplib::Request& req, httplib::Response& res, const std::string& route);
  /// Counts an API call (already authenticated elsewhere) and sets Sforce-Limit-Info.
  void count_call(httplib::Response& res, const std::string& route, const std::string& username);
  /// Sets `Sforce-Limit-Info: api-usage=N/M`.
  void set_limit_header(httplib::Response& res);

  /// `[{"message","errorCode"[,"fields"]}]` with the given status.
  static void write_error(httplib::Response& res, int status, std::string_view code, std::string_view message,
                          const std::vector<std::string>* fields = nullptr);
  /// JSON body with `Content-Type: application/json;charset=UTF-8`.
  static void write_json(httplib::Response& res, int status, const nlohmann::json& body);
  static void write_json_text(httplib::Response& res, int status, std::string body);

  /// "http://host:port" as the client addressed us (Host header), for instance URLs.
  std::string instance_url(const httplib::Request& req) const;
  void set_default_url(std::string url) { default_url_ = std::move(url); }
  /// The scheme sfemu serves ("http" or "https"), used in every URL it hands out.
  void set_scheme(std::string scheme) { scheme_ = std::move(scheme); }
  const std::string& scheme() const { return scheme_; }

  /// In-flight REST requests (the concurrent-request limit).
  std::atomic<int>& in_flight() { return in_flight_; }

  /// Restores the org to its start state (org file, command-line users); set by the server.
  void set_reset_hook(std::function<std::optional<std::string>()> hook) { reset_hook_ = std::move(hook); }
  std::optional<std::string> reset_org() {
    auto err = reset_hook_ ? reset_hook_() : std::nullopt;
    for (auto& l : reset_listeners_)
      l();
    return err;
  }
  /// Called after every POST /__sfemu/reset (e.g. Bulk 2.0 drops its jobs).
  void add_reset_listener(std::function<void()> listener) { reset_listeners_.push_back(std::move(listener)); }

private:
  sfemu::clock& clock_;
  sfemu::org& org_;
  session_store sessions_;
  cursor_store cursors_;
  api_usage usage_;
  fault_injector faults_;
  mutable std::mutex settings_mutex_;
  org_settings settings_;
  std::string default_url_;
  std::string scheme_ = "http";
  std::atomic<int> in_flight_{0};
  std::function<std::optional<std::string>()> reset_hook_;
  std::vector<std::function<void()>> reset_listeners_;
};

// ---- server ------------------------------------------------------------------------------

/// Command-line options of the sfemu binary.
struct server_options {
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 16;      ///< HTTP threads started at once
  int max_threads = 512; ///< ... and at most, when every thread serves a connection
  std::string org_file;
  std::vector<std::pair<std::string, std::string>> users;   ///< NAME:PASSWORD
  std::vector<std::pair<std::string, std::string>> clients; ///< ID:SECRET (pinned OAuth clients)
  std::string jwt_cert_file;
  org_settings settings;
  cdc::cdc_options cdc; ///< Change Data Capture (emulator/cdc/)
  std::optional<tls_material> tls; ///< serve HTTPS with this certificate (emulator/tls.hpp)
  streaming::streaming_options streaming; ///< Streaming API (emulator/streaming/)
};

/// The sfemu HTTP server: OAuth/SOAP login, REST, Bulk 2.0 (plugged in), control API.
class server {
public:
  explicit server(server_options opts);
  ~server();

  /// Loads the org file, users, clients and JWT certificate; error message on failure.
  std::optional<std::string> init();
  /// Binds; returns the port (0 on failure).
  int bind();
  /// Serves until stop().
  void run();
  void stop();
  route_context& context() { return *ctx_; }
  httplib::Server& http() { return *http_; }

private:
  void register_routes();
  std::optional<std::string> load_org();
  server_options opts_;
  sfemu::clock clock_;
  std::unique_ptr<sfemu::org> org_;
  std::unique_ptr<route_context> ctx_;
  std::unique_ptr<auth_config> auth_;
  std::unique_ptr<httplib::Server> http_; ///< an httplib::SSLServer with TLS
  int port_ = 0;
  std::unique_ptr<streaming::service> streaming_; ///< last: goes first (it uses the org)
};

} // namespace sfemu
