#include "salesforce/client.hpp"

#include "salesforce/jwt.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace syncforce::salesforce {

namespace {

using json = nlohmann::json;

sf_error make_error(error_kind kind, std::string code, std::string message) {
  sf_error e;
  e.kind = kind;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

sf_error malformed(std::string what) {
  return make_error(error_kind::protocol, "MALFORMED_RESPONSE", std::move(what));
}

bool retryable_status(long status) {
  return status == 420 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/// The path part of a URL for log lines (no query string: it may be long).
std::string_view log_path(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    auto slash = url.find('/', scheme + 3);
    url = slash == std::string_view::npos ? std::string_view("/") : url.substr(slash);
  }
  auto q = url.find('?');
  return q == std::string_view::npos ? url : url.substr(0, q);
}

std::chrono::milliseconds retry_after(const http_response& r) {
  auto v = r.header("Retry-After");
  long seconds = 0;
  if (v.empty())
    return std::chrono::milliseconds(0);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc{} || seconds < 0)
    return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(seconds * 1000);
}

std::string join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (auto& s : items) {
    if (!out.empty())
      out.push_back(sep);
    out += s;
  }
  return out;
}

std::vector<std::string> string_list(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& f : j)
      if (f.is_string())
        out.push_back(f.get<std::string>());
  return out;
}

std::string str(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

// ---- construction and auth ---------------------------------------------------

client::client(client_config config, std::unique_ptr<http_transport> transport, std::shared_ptr<const time_source> time,
               std::shared_ptr<jitter_source> jitter)
  : config_(std::move(config)), transport_(std::move(transport)),
    time_(time ? std::move(time) : shared_real_time()), jitter_(jitter ? std::move(jitter) : device_jitter()),
    budget_(config_.retry) {
  while (!config_.login_url.empty() && config_.login_url.back() == '/')
    config_.login_url.pop_back();
  if (!transport_)
    transport_ = std::make_unique<curl_transport>(config_.http);
}

client::~client() = default;

std::string client::data_path(std::string_view rest) const {
  std::string p = "/services/data/v" + config_.version.str();
  p += rest;
  return p;
}

result<session> client::login_once() {
  std::vector<std::pair<std::string, std::string>> form;
  if (auto* pw = std::get_if<password_credentials>(&config_.creds)) {
    form = {{"grant_type", "password"},
            {"client_id", pw->client_id},
            {"client_secret", pw->client_secret.reveal()},
            {"username", pw->username},
            {"password", pw->password.reveal()}};
  } else {
    auto& jc = std::get<jwt_credentials>(config_.creds);
    jwt_claims claims;
    claims.iss = jc.client_id;
    claims.sub = jc.username;
    claims.aud = jc.audience.empty() ? config_.login_url : jc.audience;
    claims.exp = time_->system_now() + jc.lifetime;
    auto assertion = make_jwt_assertion(claims, jc.private_key_pem);
    if (!assertion)
      return assertion.error();
    form = {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", assertion.value()}};
  }
  raw_call c;
  c.method = "POST";
  c.path = config_.login_url + "/services/oauth2/token";
  c.body = form_encode(form);
  c.content_type = "application/x-www-form-urlencoded";
  c.options.idempotent = true; // a second login only makes a second session
  auto r = send(c, false);
  if (!r) {
    auto e = r.error();
    if (e.kind != error_kind::transient && e.kind != error_kind::request_limit)
      e.kind = error_kind::auth;
    spdlog::warn("event=\"salesforce login failed\" login_url={} code={} http_status={}", config_.login_url, e.code,
                 e.http_status);
    return e;
  }
  auto j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("access_token") || !j.contains("instance_url"))
    return make_error(error_kind::auth, "MALFORMED_RESPONSE", "login: no access_token or instance_url in the answer");
  session s;
  s.access_token = secret(str(j, "access_token"));
  s.instance_url = str(j, "instance_url");
  while (!s.instance_url.empty() && s.instance_url.back() == '/')
    s.instance_url.pop_back();
  s.identity_url = str(j, "id");
  s.issued_at = str(j, "issued_at");
  if (!parse_identity_url(s.identity_url, s.org_id, s.user_id))
    return make_error(error_kind::auth, "MALFORMED_RESPONSE", "login: the identity URL has no org and user id");
  s.generation = ++generation_;
  spdlog::info("event=\"salesforce login\" login_url={} instance_url={} org_id={} user_id={}", config_.login_url,
               s.instance_url, s.org_id, s.user_id);
  return s;
}

status client::login() {
  auto s = login_once();
  if (!s)
    return s.error();
  session_ = std::move(s.value());
  return done_t{};
}

void client::adopt_session(session s) { session_ = std::move(s); }

status client::ensure_session() {
  if (session_.valid())
    return done_t{};
  if (reauth_hook_) {
    auto s = reauth_hook_(session_);
    if (!s)
      return s.error();
    session_ = std::move(s.value());
    return done_t{};
  }
  return login();
}

status client::reauthenticate() {
  ++reauths_;
  spdlog::info("event=\"salesforce session expired, logging in again\" instance_url={}", session_.instance_url);
  if (reauth_hook_) {
    auto s = reauth_hook_(session_);
    if (!s)
      return s.error();
    session_ = std::move(s.value());
    return done_t{};
  }
  return login();
}

status client::logout() {
  if (!session_.valid())
    return done_t{};
  raw_call c;
  c.method = "POST";
  c.path = config_.login_url + "/services/oauth2/revoke";
  c.body = form_encode({{"token", session_.access_token.reveal()}});
  c.content_type = "application/x-www-form-urlencoded";
  auto r = send(c, false);
  session_ = session{};
  if (!r)
    return r.error();
  return done_t{};
}

// ---- the request pipeline ----------------------------------------------------

void client::note_limit_info(const http_response& r) {
  auto v = r.header("Sforce-Limit-Info");
  if (v.empty())
    return;
  if (auto u = parse_limit_info(v)) {
    api_usage_ = *u;
    if (on_api_usage_)
      on_api_usage_(*u);
  }
}

result<http_response> client::call(const raw_call& c) { return send(c, true); }

result<http_response> client::send(const raw_call& c, bool authenticated) {
  if (authenticated) {
    auto s = ensure_session();
    if (!s)
      return s.error();
  }
  bool reauthed = false;
  int attempt = 0;
  for (;;) {
    http_request req;
    req.method = c.method;
    req.url = c.path.rfind("http", 0) == 0 ? c.path : session_.instance_url + c.path;
    req.headers = c.headers;
    if (authenticated)
      req.headers.emplace_back("Authorization", "Bearer " + session_.access_token.reveal());
    req.headers.emplace_back("Sforce-Call-Options", "client=" + config_.client_name);
    req.headers.emplace_back("Accept", c.method == "GET" && c.content_type == "text/csv" ? "text/csv" : "*/*");
    if (!c.body.empty() || c.method == "POST" || c.method == "PATCH" || c.method == "PUT")
      req.headers.emplace_back("Content-Type", c.content_type);
    req.body = c.body;
    req.body_sink = c.body_sink;
    if (request_gate_)
      request_gate_();
    ++requests_sent_;
    auto r = transport_->perform(req);
    // A fake transport may hand back a whole body: stream it as curl would.
    if (c.body_sink && !r.transport_failed() && r.status >= 200 && r.status < 300 && r.bytes_streamed == 0 &&
        !r.body.empty()) {
      r.bytes_streamed = r.body.size();
      if (!c.body_sink(r.body)) {
        r.error_code = "ABORTED";
        r.error_message = "the body sink refused the data";
      }
      r.body.clear();
    }
    note_limit_info(r);

    bool may_retry = false;
    std::chrono::milliseconds server_delay{0};
    if (r.transport_failed()) {
      if (r.error_code == "ABORTED")
        return make_error(error_kind::protocol, "ABORTED", r.error_message);
      // Never connected: nothing was sent, so anything may be resent. A body
      // already streamed to the caller cannot be taken back.
      may_retry = r.bytes_streamed == 0 && (c.options.idempotent || c.method == "GET" || r.error_code == "CONNECTION");
    } else if (r.status >= 200 && r.status < 300) {
      budget_.on_success();
      return r; // moved (not copied): the body keeps its capacity, simdjson's padding
    } else if (r.status == 401 && authenticated && !reauthed) {
      auto e = error_from_response(r.status, r.body);
      if (e.kind == error_kind::invalid_session) {
        reauthed = true;
        auto s = reauthenticate();
        if (!s)
          return s.error();
        continue; // the one free retry, outside the budget
      }
      return e;
    } else {
      may_retry = retryable_status(r.status) && (c.options.idempotent || c.method == "GET");
      server_delay = retry_after(r);
    }

    ++attempt;
    if (!may_retry || attempt >= config_.retry.max_attempts || !budget_.try_spend()) {
      if (r.transport_failed())
        return transport_error(r.error_code, r.error_message + " (" + std::string(log_path(req.url)) + ")");
      return error_from_response(r.status, r.body);
    }
    auto delay = std::max(config_.retry.backoff(attempt - 1, jitter_->next()),
                          std::min(server_delay, config_.retry.max_delay));
    ++retries_;
    spdlog::info("event=\"salesforce retry\" method={} path={} status={} error={} attempt={} delay_ms={}", c.method,
                 log_path(req.url), r.status, r.error_code, attempt, delay.count());
    time_->sleep_for(delay);
  }
}

// ---- describe ----------------------------------------------------------------

result<global_describe> client::describe_global() {
  raw_call c;
  c.path = data_path("/sobjects");
  auto r = call(c);
  if (!r)
    return r.error();
  return parse_global_describe(r->body);
}

result<sobject_describe> client::describe(std::string_view sobject) {
  raw_call c;
  c.path = data_path("/sobjects/" + url_encode(sobject) + "/describe");
  auto r = call(c);
  if (!r)
    return r.error();
  return parse_sobject_describe(r->body);
}

// ---- query -------------------------------------------------------------------

query_cursor::query_cursor(client* owner, std::string soql, query_options options)
  : client_(owner), soql_(std::move(soql)), options_(options) {}

result<query_page> query_cursor::next_page() {
  return next_page_of(nullptr, nullptr);
}

result<query_page> query_cursor::next_page(const std::vector<std::string>& wanted, const record_values_fn& on_record) {
  return next_page_of(&wanted, &on_record);
}

result<query_page> query_cursor::next_page_of(const std::vector<std::string>* wanted,
                                              const record_values_fn* on_record) {
  if (done_) {
    query_page empty;
    empty.total_size = total_size_ < 0 ? 0 : total_size_;
    return empty;
  }
  std::string target;
  if (!started_)
    target = client_->data_path(options_.include_deleted ? "/queryAll?q=" : "/query?q=") + url_encode(soql_);
  else
    target = next_url_;
  auto page = client_->fetch_page(target, options_, wanted, on_record);
  if (!page)
    return page;
  started_ = true;
  total_size_ = page->total_size;
  records_read_ += static_cast<long>(page->records.size() + page->streamed);
  if (page->done || page->next_records_url.empty()) {
    done_ = true;
    next_url_.clear();
    locator_.clear();
  } else {
    next_url_ = page->next_records_url;
    locator_ = locator_of(next_url_);
  }
  return page;
}

result<query_page> client::fetch_page(const std::string& target, const query_options& options,
                                      const std::vector<std::string>* wanted, const record_values_fn* on_record) {
  raw_call c;
  c.path = target;
  int batch = options.batch_size < 0 ? config_.query_batch_size : options.batch_size;
  if (batch > 0)
    c.headers.emplace_back("Sforce-Query-Options", "batchSize=" + std::to_string(batch));
  auto r = call(c);
  if (!r)
    return r.error();
  if (wanted && on_record)
    return page_parser_.parse_each(r->body, *wanted, *on_record);
  return page_parser_.parse(r->body);
}

query_cursor client::query(std::string soql, query_options options) {
  return query_cursor(this, std::move(soql), options);
}

query_cursor client::query_all(std::string soql, query_options options) {
  options.include_deleted = true;
  return query_cursor(this, std::move(soql), options);
}

result<query_page> client::query_more(std::string_view locator, query_options options) {
  return fetch_page(data_path(options.include_deleted ? "/queryAll/" : "/query/") + std::string(locator), options);
}

// ---- collections -------------------------------------------------------------

namespace {

constexpr size_t max_collection = 200;

result<std::vector<save_result>> parse_save_results(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return malformed("collection answer is not a JSON array");
  std::vector<save_result> out;
  out.reserve(j.size());
  for (auto& item : j) {
    save_result s;
    if (!item.is_object()) {
      out.push_back(std::move(s));
      continue;
    }
    s.id = str(item, "id");
    s.success = item.value("success", false);
    if (auto it = item.find("created"); it != item.end() && it->is_boolean())
      s.created = it->get<bool>();
    if (auto it = item.find("errors"); it != item.end() && it->is_array())
      for (auto& e : *it) {
        if (!e.is_object())
          continue;
        record_error re;
        re.status_code = str(e, "statusCode");
        if (re.status_code.empty())
          re.status_code = str(e, "errorCode");
        re.message = str(e, "message");
        re.fields = string_list(e.value("fields", json()));
        re.kind = kind_of_code(re.status_code, 0);
        if (re.kind == error_kind::permanent)
          re.kind = error_kind::permanent_record_error;
        s.errors.push_back(std::move(re));
      }
    out.push_back(std::move(s));
  }
  return out;
}

/// A collection call's body: `{"allOrNone":..,"records":[..]}`, each record given `attributes.type` when it has
/// none. Written straight into the string: building it as a json value copied every record twice (the
/// typed copy, then the initializer list), a third of a write cycle's node CPU for 10,000 records.
std::string collection_body(std::string_view sobject, const std::vector<json>& records, bool all_or_none) {
  const std::string attributes = json{{"type", std::string(sobject)}}.dump();
  std::string body = all_or_none ? R"({"allOrNone":true,"records":[)" : R"({"allOrNone":false,"records":[)";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0)
      body.push_back(',');
    const auto& r = records[i];
    if (r.is_object() && r.contains("attributes")) {
      body += r.dump();
      continue;
    }
    body += R"({"attributes":)";
    body += attributes;
    if (r.is_object() && !r.empty()) {
      std::string fields = r.dump();
      body.push_back(',');
      body.append(fields, 1, std::string::npos); // without its '{'
    } else {
      body.push_back('}');
    }
  }
  body += "]}";
  return body;
}

sf_error too_many(size_t n) {
  return make_error(error_kind::invalid_argument, "EXCEEDED_ID_LIMIT",
                    "a collection call takes at most 200 records, got " + std::to_string(n));
}

} // namespace

result<std::vector<save_result>> client::collection_call(std::string method, std::string path, std::string body,
                                                          call_options options) {
  raw_call c;
  c.method = std::move(method);
  c.path = std::move(path);
  c.body = std::move(body);
  c.options = options;
  auto r = call(c);
  if (!r)
    return r.error();
  return parse_save_results(r->body);
}

result<std::vector<save_result>> client::create(std::string_view sobject, const std::vector<json>& records,
                                                bool all_or_none, call_options options) {
  if (records.size() > max_collection)
    return too_many(records.size());
  if (records.empty())
    return std::vector<save_result>{};
  return collection_call("POST", data_path("/composite/sobjects"), collection_body(sobject, records, all_or_none),
                         options);
}

result<std::vector<save_result>> client::update(std::string_view sobject, const std::vector<json>& records,
                                                bool all_or_none, call_options options) {
  if (records.size() > max_collection)
    return too_many(records.size());
  if (records.empty())
    return std::vector<save_result>{};
  return collection_call("PATCH", data_path("/composite/sobjects"), collection_body(sobject, records, all_or_none),
                         options);
}

result<std::vector<save_result>> client::upsert(std::string_view sobject, std::string_view external_id_field,
                                                const std::vector<json>& records, bool all_or_none,
                                                call_options options) {
  if (records.size() > max_collection)
    return too_many(records.size());
  if (records.empty())
    return std::vector<save_result>{};
  return collection_call(
    "PATCH", data_path("/composite/sobjects/" + url_encode(sobject) + "/" + url_encode(external_id_field)),
    collection_body(sobject, records, all_or_none), options);
}

result<std::vector<save_result>> client::remove(const std::vector<std::string>& ids, bool all_or_none,
                                                call_options options) {
  if (ids.size() > max_collection)
    return too_many(ids.size());
  if (ids.empty())
    return std::vector<save_result>{};
  std::string path = data_path("/composite/sobjects?ids=") + url_encode(join(ids, ',')) +
                     "&allOrNone=" + (all_or_none ? "true" : "false");
  return collection_call("DELETE", path, {}, options);
}

// ---- limits ------------------------------------------------------------------

result<std::vector<limit_entry>> client::limits() {
  raw_call c;
  c.path = data_path("/limits");
  auto r = call(c);
  if (!r)
    return r.error();
  auto j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return malformed("limits: not a JSON object");
  std::vector<limit_entry> out;
  for (auto& [name, v] : j.items()) {
    if (!v.is_object())
      continue;
    limit_entry e;
    e.name = name;
    e.max = v.value("Max", 0L);
    e.remaining = v.value("Remaining", 0L);
    out.push_back(std::move(e));
  }
  return out;
}

result<std::vector<record_count>> client::record_counts(const std::vector<std::string>& sobjects) {
  raw_call c;
  c.path = data_path("/limits/recordCount");
  if (!sobjects.empty())
    c.path += "?sObjects=" + url_encode(join(sobjects, ','));
  auto r = call(c);
  if (!r)
    return r.error();
  auto j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("sObjects") || !j["sObjects"].is_array())
    return malformed("recordCount: no sObjects array");
  std::vector<record_count> out;
  for (auto& v : j["sObjects"]) {
    if (!v.is_object())
      continue;
    record_count rc;
    rc.name = str(v, "name");
    rc.count = v.value("count", 0L);
    out.push_back(std::move(rc));
  }
  return out;
}

} // namespace syncforce::salesforce
