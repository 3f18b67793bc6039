#include "emulator/server.hpp"

#include "emulator/handlers.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include "emulator/cdc/routes.hpp"
#include "emulator/streaming/service.hpp"
#include "emulator/task_queue.hpp"

#if __has_include("emulator/bulk/routes.hpp")
#include "emulator/bulk/routes.hpp"
#define SFEMU_HAS_BULK 1
#endif

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace sfemu {

// ---- settings ------------------------------------------------------------------------------

std::optional<cursor_mode> parse_cursor_mode(std::string_view s) {
  if (s == "always" || s == "legacy" || s == "true")
    return cursor_mode::always;
  if (s == "never" || s == "modern" || s == "false")
    return cursor_mode::never;
  if (s == "below-v56" || s == "below_v56" || s == "auto")
    return cursor_mode::below_v56;
  return std::nullopt;
}

std::string_view to_string(cursor_mode m) {
  switch (m) {
    case cursor_mode::always: return "always";
    case cursor_mode::never: return "never";
    case cursor_mode::below_v56: return "below-v56";
  }
  return "below-v56";
}

nlohmann::json org_settings::to_json() const {
  return {{"legacy_cursors", std::string(to_string(legacy_cursors))},
          {"api_limit", api_limit},
          {"session_seconds", session_seconds},
          {"concurrent_limit", concurrent_limit},
          {"legacy_cursor_limit", legacy_cursor_limit},
          {"legacy_cursor_idle_seconds", legacy_cursor_idle_ms / 1000},
          {"modern_cursor_ttl_seconds", modern_cursor_ttl_ms / 1000},
          {"millisecond_datetimes", millisecond_datetimes}};
}

std::optional<std::string> org_settings::apply(const nlohmann::json& j) {
  if (!j.is_object())
    return std::string("settings must be a JSON object");
  org_settings next = *this;
  try {
    for (auto& [k, v] : j.items()) {
      if (k == "legacy_cursors") {
        auto m = v.is_boolean() ? std::optional<cursor_mode>(v.get<bool>() ? cursor_mode::always : cursor_mode::never)
                                : parse_cursor_mode(v.get<std::string>());
        if (!m)
          return std::string("legacy_cursors must be always, never or below-v56");
        next.legacy_cursors = *m;
      } else if (k == "api_limit") {
        next.api_limit = v.get<std::int64_t>();
      } else if (k == "session_seconds") {
        next.session_seconds = v.get<std::int64_t>();
      } else if (k == "concurrent_limit") {
        next.concurrent_limit = v.get<int>();
      } else if (k == "legacy_cursor_limit") {
        next.legacy_cursor_limit = v.get<int>();
      } else if (k == "legacy_cursor_idle_seconds") {
        next.legacy_cursor_idle_ms = v.get<std::int64_t>() * 1000;
      } else if (k == "modern_cursor_ttl_seconds") {
        next.modern_cursor_ttl_ms = v.get<std::int64_t>() * 1000;
      } else if (k == "millisecond_datetimes") {
        next.millisecond_datetimes = v.get<bool>();
      } else {
        return "unknown setting '" + k + "'";
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return std::string("bad setting value: ") + e.what();
  }
  if (next.api_limit < 0 || next.session_seconds <= 0 || next.concurrent_limit <= 0 || next.legacy_cursor_limit <= 0)
    return std::string("limits must be positive");
  *this = next;
  return std::nullopt;
}

// ---- api usage -------------------------------------------------------------------------------

bool api_usage::count(const std::string& route, const std::string& username, std::int64_t limit,
                      std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::int64_t day = now_ms >= 0 ? now_ms / 86400000 : (now_ms - 86399999) / 86400000;
  if (day != day_) {
    day_ = day;
    daily_ = 0;
  }
  if (daily_ >= limit)
    return false;
  ++daily_;
  ++total_;
  ++by_route_[route];
  ++by_user_[username];
  return true;
}

std::int64_t api_usage::used(std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::int64_t day = now_ms >= 0 ? now_ms / 86400000 : (now_ms - 86399999) / 86400000;
  if (day != day_) {
    day_ = day;
    daily_ = 0;
  }
  return daily_;
}

void api_usage::count_client(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++by_client_[client];
}

void api_usage::count_login(const std::string& username) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++logins_;
}

nlohmann::json api_usage::to_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"total", total_},       {"daily", daily_},     {"logins", logins_},
          {"by_route", by_route_}, {"by_user", by_user_}, {"by_client", by_client_}};
}

void api_usage::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  daily_ = 0;
  total_ = 0;
  logins_ = 0;
  by_route_.clear();
  by_user_.clear();
  by_client_.clear();
}

void api_usage::set_used(std::int64_t n, std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  day_ = now_ms >= 0 ? now_ms / 86400000 : (now_ms - 86399999) / 86400000;
  daily_ = n;
}

// ---- faults -----------------------------------------------------------------------------------

nlohmann::json fault_rule::to_json() const {
  static const char* actions[] = {"none", "error", "unauthorized", "limit", "drop"};
  return {{"id", id},           {"route", route},   {"method", method},
          {"latency_ms", latency_ms}, {"rate", rate}, {"remaining", remaining},
          {"action", actions[static_cast<int>(act)]}, {"status", status}, {"error_code", error_code},
          {"message", message}, {"hits", hits}, {"after", after}};
}

std::optional<std::string> fault_injector::add(const nlohmann::json& j, std::vector<int>& ids) {
  if (j.is_array()) {
    for (auto& r : j)
      if (auto err = add(r, ids))
        return err;
    return std::nullopt;
  }
  if (!j.is_object())
    return std::string("a fault rule must be a JSON object");
  if (j.contains("faults"))
    return add(j["faults"], ids);
  fault_rule r;
  try {
    r.route = j.value("route", std::string());
    r.method = j.value("method", std::string());
    r.latency_ms = j.value("latency_ms", std::int64_t{0});
    r.rate = j.value("rate", j.value("error_rate", 1.0));
    r.remaining = j.value("count", std::int64_t{-1});
    r.status = j.value("status", 503);
    r.error_code = j.value("error_code", std::string("SERVER_UNAVAILABLE"));
    r.message = j.value("message", std::string("Server unavailable (injected fault)"));
    r.after = j.value("after", false);
    std::string action = j.value("action", std::string());
    if (action.empty())
      action = j.contains("status") || j.contains("error_code") ? "error" : "none";
    if (action == "none")
      r.act = fault_rule::action::none;
    else if (action == "error")
      r.act = fault_rule::action::error;
    else if (action == "unauthorized" || action == "401")
      r.act = fault_rule::action::unauthorized;
    else if (action == "limit" || action == "request_limit")
      r.act = fault_rule::action::limit;
    else if (action == "drop" || action == "drop_connection")
      r.act = fault_rule::action::drop;
    else
      return "unknown fault action '" + action + "' (none, error, unauthorized, limit, drop)";
    if (r.status < 100 || r.status > 599)
      return std::string("status must be an HTTP status");
    if (r.rate < 0 || r.rate > 1)
      return std::string("rate must be between 0 and 1");
    r.pattern = std::regex(r.route.empty() ? std::string(".*") : r.route, std::regex::ECMAScript);
  } catch (const nlohmann::json::exception& e) {
    return std::string("bad fault rule: ") + e.what();
  } catch (const std::regex_error& e) {
    return std::string("bad route pattern: ") + e.what();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  r.id = next_id_++;
  ids.push_back(r.id);
  rules_.push_back(std::move(r));
  return std::nullopt;
}

void fault_injector::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  rules_.clear();
}

void fault_injector::seed(std::uint64_t s) {
  std::lock_guard<std::mutex> lock(mutex_);
  rng_.seed(s);
}

nlohmann::json fault_injector::to_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json out = nlohmann::json::array();
  for (auto& r : rules_)
    out.push_back(r.to_json());
  return out;
}

fault_injector::decision fault_injector::decide(const std::string& method, const std::string& path, bool after) {
  std::lock_guard<std::mutex> lock(mutex_);
  decision d;
  for (auto& r : rules_) {
    if (r.remaining == 0 || r.after != after)
      continue;
    if (!r.method.empty() && !iequals(r.method, method))
      continue;
    // A rule without a route hits every HTTP request; the Pub/Sub API's streams only
    // when named (route "Subscribe"), so existing HTTP fault tests leave them alone.
    if (r.route.empty() && iequals(method, "GRPC"))
      continue;
    if (!std::regex_search(path, r.pattern))
      continue;
    if (r.rate < 1.0) {
      double roll = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
      if (roll >= r.rate)
        continue;
    }
    if (r.remaining > 0)
      --r.remaining;
    ++r.hits;
    d.latency_ms += r.latency_ms;
    if (r.act != fault_rule::action::none && d.act == fault_rule::action::none) {
      d.act = r.act;
      d.status = r.status;
      d.error_code = r.error_code;
      d.message = r.message;
    }
  }
  return d;
}

namespace {

/// Writes the answer of an error, unauthorized or limit fault; false for none
/// and drop (whose answer depends on when it applies).
bool write_fault_error(const fault_injector::decision& d, httplib::Response& res) {
  switch (d.act) {
    case fault_rule::action::error: route_context::write_error(res, d.status, d.error_code, d.message); return true;
    case fault_rule::action::unauthorized:
      route_context::write_error(res, 401, "INVALID_SESSION_ID", "Session expired or invalid");
      return true;
    case fault_rule::action::limit:
      route_context::write_error(res, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
      return true;
    case fault_rule::action::none:
    case fault_rule::action::drop: return false;
  }
  return false;
}

} // namespace

// ---- route context -------------------------------------------------------------------------------

route_context::route_context(sfemu::clock& clk, sfemu::org& model) : clock_(clk), org_(model) {}

org_settings route_context::settings() const {
  std::lock_guard<std::mutex> lock(settings_mutex_);
  return settings_;
}

std::optional<std::string> route_context::apply_settings(const nlohmann::json& j) {
  std::lock_guard<std::mutex> lock(settings_mutex_);
  auto err = settings_.apply(j);
  org_.set_millisecond_datetimes(settings_.millisecond_datetimes);
  return err;
}

void route_context::set_settings(const org_settings& s) {
  std::lock_guard<std::mutex> lock(settings_mutex_);
  settings_ = s;
  org_.set_millisecond_datetimes(s.millisecond_datetimes);
}

void route_context::write_error(httplib::Response& res, int status, std::string_view code, std::string_view message,
                                const std::vector<std::string>* fields) {
  nlohmann::json e = {{"message", std::string(message)}, {"errorCode", std::string(code)}};
  if (fields)
    e["fields"] = *fields;
  write_json(res, status, nlohmann::json::array({e}));
}

void route_context::write_json(httplib::Response& res, int status, const nlohmann::json& body) {
  write_json_text(res, status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void route_context::write_json_text(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.body = std::move(body); // set_content() would copy a page of records
  res.headers.erase("Content-Type");
  res.set_header("Content-Type", "application/json;charset=UTF-8");
}

std::string route_context::instance_url(const httplib::Request& req) const {
  auto host = req.get_header_value("Host");
  if (!host.empty())
    return scheme_ + "://" + host;
  return default_url_;
}

std::optional<session> route_context::authenticate(const httplib::Request& req, httplib::Response& res) {
  std::string auth = req.get_header_value("Authorization");
  std::string token;
  auto starts = [&](const char* p) {
    std::size_t n = std::strlen(p);
    return auth.size() > n && iequals(auth.substr(0, n), p);
  };
  if (starts("Bearer "))
    token = auth.substr(7);
  else if (starts("OAuth "))
    token = auth.substr(6);
  while (!token.empty() && token.front() == ' ')
    token.erase(token.begin());
  while (!token.empty() && (token.back() == ' ' || token.back() == '\r'))
    token.pop_back();
  if (!token.empty()) {
    if (auto s = sessions_.find(token, clock_.now_ms()))
      return s;
  }
  write_error(res, 401, "INVALID_SESSION_ID", "Session expired or invalid");
  return std::nullopt;
}

void route_context::set_limit_header(httplib::Response& res) {
  auto used = usage_.used(clock_.now_ms());
  res.set_header("Sforce-Limit-Info", "api-usage=" + std::to_string(used) + "/" + std::to_string(settings().api_limit));
}

void route_context::count_call(httplib::Response& res, const std::string& route, const std::string& username) {
  usage_.count(route, username, settings().api_limit, clock_.now_ms());
  set_limit_header(res);
}

std::optional<session> route_context::begin(const httplib::Request& req, httplib::Response& res,
                                            const std::string& route) {
  auto s = authenticate(req, res);
  if (!s)
    return std::nullopt;
  auto limit = settings().api_limit;
  if (!usage_.count(route, s->username, limit, clock_.now_ms())) {
    write_error(res, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    set_limit_header(res);
    return std::nullopt;
  }
  // Which client sent it (tests count the calls of one node of a cluster).
  const auto& options = req.get_header_value("Sforce-Call-Options");
  if (auto at = options.find("client="); at != std::string::npos)
    usage_.count_client(options.substr(at + 7, options.find(',', at) == std::string::npos
                                                  ? std::string::npos
                                                  : options.find(',', at) - at - 7));
  set_limit_header(res);
  return s;
}

// ---- server ------------------------------------------------------------------------------------------

server::server(server_options opts) : opts_(std::move(opts)), auth_(std::make_unique<auth_config>()) {
  org_ = std::make_unique<sfemu::org>(clock_);
  ctx_ = std::make_unique<route_context>(clock_, *org_);
  ctx_->set_settings(opts_.settings);
  if (opts_.tls) {
    // cpp-httplib's SSL server takes the certificate and key as OpenSSL objects
    std::unique_ptr<BIO, decltype(&BIO_free)> cb(
        BIO_new_mem_buf(opts_.tls->cert_pem.data(), static_cast<int>(opts_.tls->cert_pem.size())), BIO_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> kb(
        BIO_new_mem_buf(opts_.tls->key_pem.data(), static_cast<int>(opts_.tls->key_pem.size())), BIO_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr), X509_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (cert && key)
      http_ = std::make_unique<httplib::SSLServer>(cert.get(), key.get());
    ctx_->set_scheme("https");
  }
  if (!http_)
    http_ = std::make_unique<httplib::Server>();
}

server::~server() { stop(); }

std::optional<std::string> server::init() {
  if (auto err = load_org())
    return err;
  if (auto err = cdc::apply_options(*org_, opts_.cdc))
    return err;
  auth_config& auth = *auth_;
  auth.clients.clear();
  for (auto& [id, secret] : opts_.clients)
    auth.clients[id] = secret;
  if (!opts_.jwt_cert_file.empty())
    if (auto err = load_public_key(opts_.jwt_cert_file, auth.jwt_key))
      return err;
  ctx_->set_reset_hook([this] {
    org_->reset();
    return load_org();
  });
  register_routes();
  return std::nullopt;
}

std::optional<std::string> server::load_org() {
  if (!opts_.org_file.empty()) {
    std::ifstream in(opts_.org_file);
    if (!in)
      return "cannot read org file " + opts_.org_file;
    std::stringstream buf;
    buf << in.rdbuf();
    auto j = nlohmann::json::parse(buf.str(), nullptr, false);
    if (j.is_discarded())
      return "org file " + opts_.org_file + " is not valid JSON";
    if (j.is_object() && j.contains("settings")) {
      auto s = ctx_->settings();
      if (auto err = s.apply(j["settings"]))
        return "org file settings: " + *err;
      ctx_->set_settings(s);
    }
    if (auto err = org_->load(j))
      return "org file: " + *err;
  }
  for (auto& [name, password] : opts_.users)
    org_->add_user(name, password);
  return std::nullopt;
}

namespace {

/// Whether the request says how long its body is (Content-Length, or chunked).
bool has_body_length(const httplib::Request& req) {
  if (req.has_header("Content-Length"))
    return true;
  auto te = req.get_header_value("Transfer-Encoding");
  std::transform(te.begin(), te.end(), te.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return te.find("chunked") != std::string::npos;
}

/// For a request that does not say how long its body is: a POST, PUT or PATCH is
/// answered 411 at once, as Salesforce's front end does (cpp-httplib would
/// otherwise read the body until the client closes, i.e. until the read timeout),
/// and true is returned. Any other such request has no body (RFC 9112, 6.3): it
/// is marked `Content-Length: 0` so that cpp-httplib does not wait for one (it
/// reads a DELETE's body until EOF too), and false is returned.
bool length_required(const httplib::Request& req, httplib::Response& res) {
  if (has_body_length(req))
    return false;
  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    res.set_header("Connection", "close");
    route_context::write_error(res, 411, "LENGTH_REQUIRED",
                               "Length Required: send the body with Content-Length or Transfer-Encoding: chunked");
    return true;
  }
  // The pre-routing handler sees the request cpp-httplib is about to route (not a copy).
  const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
  return false;
}

} // namespace

namespace {

/// `com/salesforce/api/rest/<version>[;client=<client>]` for REST calls, empty for
/// everything else (the control API's writes are not API changes).
std::string change_origin_of(const httplib::Request& req) {
  static constexpr std::string_view prefix = "/services/data/v";
  std::string_view path = req.path;
  if (path.rfind(prefix, 0) != 0)
    return {};
  auto rest = path.substr(prefix.size());
  auto version = rest.substr(0, rest.find('/'));
  return cdc::make_origin("rest", version, cdc::client_of_call_options(req.get_header_value("Sforce-Call-Options")));
}

} // namespace

void server::register_routes() {
  route_context& ctx = *ctx_;
  auto threads = static_cast<std::size_t>(std::max(2, opts_.threads));
  auto max_threads = std::max(threads, static_cast<std::size_t>(std::max(0, opts_.max_threads)));
  // Grows instead of queueing connections behind busy keep-alive ones (task_queue.hpp).
  http_->new_task_queue = [threads, max_threads] { return new elastic_task_queue(threads, max_threads); };
  http_->set_payload_max_length(200u * 1024u * 1024u);
  http_->set_keep_alive_max_count(1000);
  // Headers and body go out as separate writes: without TCP_NODELAY, Nagle holds
  // the body back until the client's delayed ACK (~40 ms on every small answer).
  http_->set_tcp_nodelay(true);
  http_->set_read_timeout(30, 0);

  http_->set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
    // changeOrigin of the change events this request's writes make (a worker thread
    // serves many requests: set on every one).
    cdc::set_current_origin(change_origin_of(req));
    if (req.path.rfind("/__sfemu", 0) == 0)
      return length_required(req, res) ? httplib::Server::HandlerResponse::Handled
                                       : httplib::Server::HandlerResponse::Unhandled;
    bool rest = req.path.rfind("/services/data", 0) == 0;
    if (rest) {
      int now = ++ctx.in_flight();
      if (now > ctx.settings().concurrent_limit) {
        res.set_header("Connection", "close"); // the body was not read (see below)
        route_context::write_error(res, 403, "REQUEST_LIMIT_EXCEEDED",
                                   "ConcurrentRequests (Concurrent API Requests) Limit exceeded.");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (length_required(req, res))
      return httplib::Server::HandlerResponse::Handled;
    auto d = ctx.faults().decide(req.method, req.path);
    if (d.latency_ms > 0)
      ctx.clock().time().sleep_for(std::chrono::milliseconds(d.latency_ms));
    // Answered before the request body was read: the connection cannot carry
    // another request (the unread body would be parsed as one), so close it.
    if (d.act != fault_rule::action::none)
      res.set_header("Connection", "close");
    if (write_fault_error(d, res))
      return httplib::Server::HandlerResponse::Handled;
    if (d.act == fault_rule::action::drop) {
      res.status = 200;
      res.set_content_provider(
          1024, "application/json;charset=UTF-8",
          [](std::size_t, std::size_t, httplib::DataSink&) { return false; }, nullptr);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_->set_post_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/services/data", 0) == 0)
      --ctx.in_flight();
    if (req.path.rfind("/__sfemu", 0) == 0)
      return;
    // Faults "after": the request was carried out; its answer is late, replaced or lost.
    auto d = ctx.faults().decide(req.method, req.path, true);
    if (d.latency_ms > 0)
      ctx.clock().time().sleep_for(std::chrono::milliseconds(d.latency_ms));
    if (write_fault_error(d, res) || d.act != fault_rule::action::drop)
      return;
    // The answer starts, then the connection closes mid-body (a chunked body
    // without its last chunk: the client cannot take it for whole).
    res.status = 200;
    res.body.clear();
    res.headers.erase("Content-Type");
    res.headers.erase("Content-Length");
    res.set_chunked_content_provider("application/json;charset=UTF-8", [](std::size_t offset, httplib::DataSink& sink) {
      if (offset > 0)
        return false;
      sink.write("[{\"id\":", 7);
      return true;
    });
  });
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "An unexpected error occurred.";
    try {
      if (ep)
        std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("An unexpected error occurred: ") + e.what();
    } catch (...) {
    }
    route_context::write_error(res, 500, "UNKNOWN_EXCEPTION", what);
  });
  http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty())
      return;
    if (res.status == 404)
      route_context::write_error(res, 404, "NOT_FOUND", "The requested resource does not exist");
    else if (res.status == 405)
      route_context::write_error(res, 405, "METHOD_NOT_ALLOWED", "HTTP Method not allowed for this resource");
    else if (res.status == 413)
      route_context::write_error(res, 413, "REQUEST_ENTITY_TOO_LARGE", "Request entity too large");
    else
      route_context::write_error(res, res.status, "BAD_REQUEST", "Bad request");
  });

  cdc::register_routes(*http_, ctx, opts_.cdc); // before the control API's catch-all
  streaming_ = std::make_unique<streaming::service>(ctx, opts_.streaming);
  streaming_->register_routes(*http_);
  register_control_routes(*http_, ctx);
  register_auth_routes(*http_, ctx, *auth_);
#ifdef SFEMU_HAS_BULK
  sfemu::bulk::register_routes(*http_, ctx);
#endif
  register_rest_routes(*http_, ctx);
}

int server::bind() {
  port_ = opts_.port == 0 ? http_->bind_to_any_port(opts_.host) : (http_->bind_to_port(opts_.host, opts_.port) ? opts_.port : -1);
  if (port_ <= 0)
    return 0;
  ctx_->set_default_url(ctx_->scheme() + "://" + opts_.host + ":" + std::to_string(port_));
  return port_;
}

void server::run() { http_->listen_after_bind(); }

void server::stop() {
  if (streaming_)
    streaming_->stop(); // long polls end now, or the HTTP server would wait for them
  if (http_->is_running())
    http_->stop();
}

} // namespace sfemu
