#include "emulator/bulk/routes.hpp"

#include "emulator/bulk/engine.hpp"
#include "emulator/server.hpp"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace sfemu::bulk {

namespace {

/// Engines live until the process ends: their worker threads may still be
/// parked when the server object goes away at exit.
engine& make_engine(route_context& ctx) {
  static std::mutex mutex;
  static auto* engines = new std::vector<engine*>();
  std::lock_guard<std::mutex> lock(mutex);
  auto* e = new engine(ctx.model(), ctx.clock());
  if (const char* limit = std::getenv("SFEMU_BULK_MAX_UPLOAD_BYTES")) {
    char* end = nullptr;
    auto n = std::strtoull(limit, &end, 10);
    if (end && *end == '\0' && n > 0)
      e->set_max_upload_bytes(static_cast<std::size_t>(n));
  }
  engines->push_back(e);
  return *e;
}

void write_api_error(httplib::Response& res, const api_error& e) {
  route_context::write_error(res, e.status, e.code, e.message);
}

/// Parses a JSON request body; writes 400 JSON_PARSER_ERROR and returns nullopt if malformed.
std::optional<nlohmann::json> json_body(const httplib::Request& req, httplib::Response& res) {
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    route_context::write_error(res, 400, "JSON_PARSER_ERROR",
                               "The request body is not valid JSON");
    return std::nullopt;
  }
  return j;
}

void write_csv(httplib::Response& res, std::string body) {
  res.status = 200;
  // Served in 64 KiB pieces: cpp-httplib gzips a whole set_content() body
  // with a cost that grows faster than its size (3.8 s for a 1.3 MB page of
  // 10,000 rows); piece by piece it stays linear.
  auto shared = std::make_shared<std::string>(std::move(body));
  auto size = shared->size();
  res.set_content_provider(size, "text/csv",
                           [shared](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                             constexpr std::size_t piece = 64 * 1024;
                             sink.write(shared->data() + offset, std::min(length, piece));
                             return true;
                           });
}

constexpr const char* base = R"(/services/data/v(\d+\.\d+)/jobs/)";
constexpr const char* id_part = R"(/+([A-Za-z0-9]{15,18}))";

std::string route(const char* kind, const char* tail) {
  return std::string(base) + kind + tail;
}

} // namespace

void register_routes(httplib::Server& http, route_context& ctx) {
  engine& bulk = make_engine(ctx);
  route_context* c = &ctx;
  engine* e = &bulk;
  ctx.add_reset_listener([e] { e->reset(); }); // POST /__sfemu/reset drops every job

  // ---- ingest ----
  http.Post(route("ingest", "/?"), [c, e](const httplib::Request& req, httplib::Response& res) {
    auto s = c->begin(req, res, "jobs/ingest");
    if (!s)
      return;
    auto body = json_body(req, res);
    if (!body)
      return;
    auto r = e->create_ingest(*body, s->user_id, req.matches[1]);
    if (!r)
      return write_api_error(res, *r.error);
    route_context::write_json(res, 200, *r.value);
  });

  http.Get(route("ingest", "/?"), [c, e](const httplib::Request& req, httplib::Response& res) {
    if (!c->begin(req, res, "jobs/ingest"))
      return;
    route_context::write_json(res, 200, e->list(job_kind::ingest));
  });

  http.Put(route("ingest", std::string(id_part).append("/batches/?").c_str()),
           [c, e](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
             // Read the stream (jsforce sends it chunked) without holding more than the limit.
             std::string data;
             bool too_large = false;
             reader([&](const char* chunk, std::size_t n) {
               if (!too_large) {
                 data.append(chunk, n);
                 if (data.size() > max_upload_bytes) {
                   too_large = true;
                   data.clear();
                   data.shrink_to_fit();
                 }
               }
               return true;
             });
             auto s = c->begin(req, res, "jobs/ingest");
             if (!s)
               return;
             if (too_large)
               return write_api_error(res, upload_too_large());
             if (auto err = e->upload(req.matches[2], data))
               return write_api_error(res, *err);
             res.status = 201;
           });

  http.Patch(route("ingest", std::string(id_part).append("/?").c_str()),
             [c, e](const httplib::Request& req, httplib::Response& res) {
               if (!c->begin(req, res, "jobs/ingest"))
                 return;
               auto body = json_body(req, res);
               if (!body)
                 return;
               auto r = e->set_state(job_kind::ingest, req.matches[2], *body);
               if (!r)
                 return write_api_error(res, *r.error);
               route_context::write_json(res, 200, *r.value);
             });

  http.Get(route("ingest", std::string(id_part).append("/?").c_str()),
           [c, e](const httplib::Request& req, httplib::Response& res) {
             if (!c->begin(req, res, "jobs/ingest"))
               return;
             auto r = e->info(job_kind::ingest, req.matches[2]);
             if (!r)
               return write_api_error(res, *r.error);
             route_context::write_json(res, 200, *r.value);
           });

  http.Delete(route("ingest", std::string(id_part).append("/?").c_str()),
              [c, e](const httplib::Request& req, httplib::Response& res) {
                if (!c->begin(req, res, "jobs/ingest"))
                  return;
                if (auto err = e->remove(job_kind::ingest, req.matches[2]))
                  return write_api_error(res, *err);
                res.status = 204;
              });

  http.Get(route("ingest", std::string(id_part).append("/(successfulResults|failedResults|unprocessedrecords)/?").c_str()),
           [c, e](const httplib::Request& req, httplib::Response& res) {
             if (!c->begin(req, res, "jobs/ingest"))
               return;
             std::string which = req.matches[3];
             auto kind = which == "successfulResults" ? result_kind::successful
                         : which == "failedResults"   ? result_kind::failed
                                                      : result_kind::unprocessed;
             auto r = e->ingest_results(req.matches[2], kind);
             if (!r)
               return write_api_error(res, *r.error);
             write_csv(res, std::move(*r.value));
           });

  // ---- query ----
  http.Post(route("query", "/?"), [c, e](const httplib::Request& req, httplib::Response& res) {
    auto s = c->begin(req, res, "jobs/query");
    if (!s)
      return;
    auto body = json_body(req, res);
    if (!body)
      return;
    auto r = e->create_query(*body, s->user_id, req.matches[1]);
    if (!r)
      return write_api_error(res, *r.error);
    route_context::write_json(res, 200, *r.value);
  });

  http.Get(route("query", "/?"), [c, e](const httplib::Request& req, httplib::Response& res) {
    if (!c->begin(req, res, "jobs/query"))
      return;
    route_context::write_json(res, 200, e->list(job_kind::query));
  });

  http.Get(route("query", std::string(id_part).append("/results/?").c_str()),
           [c, e](const httplib::Request& req, httplib::Response& res) {
             if (!c->begin(req, res, "jobs/query"))
               return;
             std::size_t max_records = 0;
             if (req.has_param("maxRecords")) {
               auto text = req.get_param_value("maxRecords");
               char* end = nullptr;
               auto n = std::strtoull(text.c_str(), &end, 10);
               if (text.empty() || !end || *end != '\0' || n == 0)
                 return route_context::write_error(res, 400, "INVALIDURL",
                                                   "maxRecords must be a positive integer: " + text);
               max_records = static_cast<std::size_t>(n);
             }
             std::string locator = req.has_param("locator") ? req.get_param_value("locator") : std::string();
             if (locator == "null")
               locator.clear();
             auto r = e->query_results(req.matches[2], locator, max_records);
             if (!r)
               return write_api_error(res, *r.error);
             res.set_header("Sforce-NumberOfRecords", std::to_string(r.value->records));
             res.set_header("Sforce-Locator", r.value->locator);
             write_csv(res, std::move(r.value->csv));
           });

  http.Patch(route("query", std::string(id_part).append("/?").c_str()),
             [c, e](const httplib::Request& req, httplib::Response& res) {
               if (!c->begin(req, res, "jobs/query"))
                 return;
               auto body = json_body(req, res);
               if (!body)
                 return;
               auto r = e->set_state(job_kind::query, req.matches[2], *body);
               if (!r)
                 return write_api_error(res, *r.error);
               route_context::write_json(res, 200, *r.value);
             });

  http.Get(route("query", std::string(id_part).append("/?").c_str()),
           [c, e](const httplib::Request& req, httplib::Response& res) {
             if (!c->begin(req, res, "jobs/query"))
               return;
             auto r = e->info(job_kind::query, req.matches[2]);
             if (!r)
               return write_api_error(res, *r.error);
             route_context::write_json(res, 200, *r.value);
           });

  http.Delete(route("query", std::string(id_part).append("/?").c_str()),
              [c, e](const httplib::Request& req, httplib::Response& res) {
                if (!c->begin(req, res, "jobs/query"))
                  return;
                if (auto err = e->remove(job_kind::query, req.matches[2]))
                  return write_api_error(res, *err);
                res.status = 204;
              });
}

} // namespace sfemu::bulk
