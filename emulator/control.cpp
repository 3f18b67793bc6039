// The control API under /__sfemu/: plainly not Salesforce; no authentication.
#include "emulator/handlers.hpp"

namespace sfemu {

namespace {

using httplib::Request;
using httplib::Response;

void bad_request(Response& res, const std::string& message) {
  route_context::write_error(res, 400, "BAD_REQUEST", message);
}

std::optional<nlohmann::json> parse_body(const Request& req, Response& res, bool allow_empty = true) {
  if (req.body.empty()) {
    if (allow_empty)
      return nlohmann::json::object();
    bad_request(res, "a JSON body is required");
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    bad_request(res, "the body is not valid JSON");
    return std::nullopt;
  }
  return j;
}

nlohmann::json clock_json(sfemu::clock& c) {
  auto now = c.now_ms();
  return {{"now_ms", now}, {"now", format_datetime(now)}, {"frozen", c.frozen()}};
}

} // namespace

void register_control_routes(httplib::Server& http, route_context& ctx) {
  http.Get("/__sfemu/health", [](const Request&, Response& res) {
    route_context::write_json(res, 200, {{"ok", true}});
  });

  http.Post("/__sfemu/reset", [&ctx](const Request&, Response& res) {
    ctx.cursors().clear();
    ctx.faults().clear();
    ctx.usage().reset();
    if (auto err = ctx.reset_org())
      return bad_request(res, *err);
    route_context::write_json(res, 200, {{"ok", true}});
  });

  http.Post("/__sfemu/schema", [&ctx](const Request& req, Response& res) {
    auto j = parse_body(req, res, false);
    if (!j)
      return;
    if (auto err = ctx.model().define(*j))
      return route_context::write_error(res, 400, "INVALID_SCHEMA", *err);
    route_context::write_json(res, 200, {{"ok", true}, {"objects", ctx.model().object_names()}});
  });
  http.Get(R"(/__sfemu/schema/([A-Za-z0-9_]+))", [&ctx](const Request& req, Response& res) {
    auto d = ctx.model().describe(req.matches[1].str(), "60.0");
    if (!d)
      return route_context::write_error(res, 404, "NOT_FOUND", "no such object");
    route_context::write_json(res, 200, *d);
  });

  http.Post(R"(/__sfemu/records/([A-Za-z0-9_]+))", [&ctx](const Request& req, Response& res) {
    std::string object = ctx.model().canonical_name(req.matches[1].str());
    if (object.empty())
      return route_context::write_error(res, 404, "INVALID_TYPE",
                                        "sObject type '" + req.matches[1].str() + "' is not supported.");
    std::string content_type = req.get_header_value("Content-Type");
    std::size_t first = req.body.find_first_not_of(" \t\r\n");
    bool json = content_type.find("json") != std::string::npos ||
                (first != std::string::npos && (req.body[first] == '[' || req.body[first] == '{'));
    auto admin = ctx.model().find_user("admin@sfemu.local");
    std::string user = admin ? admin->id : std::string();
    if (req.has_param("as")) {
      auto u = ctx.model().find_user(req.get_param_value("as"));
      if (!u)
        return bad_request(res, "unknown user " + req.get_param_value("as"));
      user = u->id;
    }
    bool want_ids = !(req.has_param("ids") && req.get_param_value("ids") == "false");
    org::load_result result;
    std::size_t created = 0;
    if (json) {
      std::vector<nlohmann::json> rows;
      {
        auto j = nlohmann::json::parse(req.body, nullptr, false);
        if (j.is_discarded())
          return bad_request(res, "the body is not valid JSON");
        if (j.is_object() && j.contains("records"))
          j = j["records"];
        if (j.is_object())
          j = nlohmann::json::array({j});
        if (!j.is_array())
          return bad_request(res, "expected a JSON array of records");
        rows.reserve(j.size());
        for (auto& r : j) {
          if (!r.is_object())
            return bad_request(res, "every record must be a JSON object");
          rows.push_back(std::move(r));
        }
      }
      result = ctx.model().bulk_load(object, rows, user);
      created = result.ids.size();
    } else {
      result = ctx.model().load_csv(object, req.body, user, want_ids, created);
    }
    if (result.error)
      return bad_request(res, *result.error);
    nlohmann::json body = {{"created", created}};
    if (want_ids)
      body["ids"] = result.ids;
    route_context::write_json(res, 201, body);
  });

  http.Get("/__sfemu/clock", [&ctx](const Request&, Response& res) {
    route_context::write_json(res, 200, clock_json(ctx.clock()));
  });
  http.Post("/__sfemu/clock", [&ctx](const Request& req, Response& res) {
    auto j = parse_body(req, res);
    if (!j)
      return;
    if (!j->is_object())
      return bad_request(res, "expected a JSON object");
    auto& c = ctx.clock();
    for (auto key : {"set", "now"}) {
      if (!j->contains(key))
        continue;
      auto& v = (*j)[key];
      if (v.is_number_integer()) {
        c.set(v.get<std::int64_t>());
      } else if (v.is_string()) {
        auto t = parse_datetime(v.get<std::string>());
        if (!t)
          return bad_request(res, "cannot parse datetime " + v.get<std::string>());
        c.set(*t);
      } else {
        return bad_request(res, std::string(key) + " must be epoch milliseconds or an ISO datetime");
      }
    }
    if (j->contains("advance_ms")) {
      if (!(*j)["advance_ms"].is_number())
        return bad_request(res, "advance_ms must be a number");
      c.advance((*j)["advance_ms"].get<std::int64_t>());
    }
    if (j->contains("advance_seconds")) {
      if (!(*j)["advance_seconds"].is_number())
        return bad_request(res, "advance_seconds must be a number");
      c.advance(static_cast<std::int64_t>((*j)["advance_seconds"].get<double>() * 1000.0));
    }
    if (j->contains("freeze")) {
      if (!(*j)["freeze"].is_boolean())
        return bad_request(res, "freeze must be true or false");
      if ((*j)["freeze"].get<bool>())
        c.freeze();
      else
        c.unfreeze();
    }
    if (j->contains("reset") && (*j)["reset"] == true)
      c.reset();
    route_context::write_json(res, 200, clock_json(c));
  });

  http.Get("/__sfemu/faults", [&ctx](const Request&, Response& res) {
    route_context::write_json(res, 200, {{"faults", ctx.faults().to_json()}});
  });
  http.Post("/__sfemu/faults", [&ctx](const Request& req, Response& res) {
    auto j = parse_body(req, res, false);
    if (!j)
      return;
    if (j->is_object() && j->contains("seed") && (*j)["seed"].is_number_unsigned()) {
      ctx.faults().seed((*j)["seed"].get<std::uint64_t>());
      if (j->size() == 1)
        return route_context::write_json(res, 200, {{"ok", true}});
      j->erase("seed");
    }
    std::vector<int> ids;
    if (auto err = ctx.faults().add(*j, ids))
      return bad_request(res, *err);
    route_context::write_json(res, 201, {{"ids", ids}, {"faults", ctx.faults().to_json()}});
  });
  http.Delete("/__sfemu/faults", [&ctx](const Request&, Response& res) {
    ctx.faults().clear();
    route_context::write_json(res, 200, {{"ok", true}});
  });

  http.Get("/__sfemu/counters", [&ctx](const Request&, Response& res) {
    route_context::write_json(res, 200, ctx.usage().to_json());
  });
  http.Post("/__sfemu/counters/reset", [&ctx](const Request&, Response& res) {
    ctx.usage().reset();
    route_context::write_json(res, 200, ctx.usage().to_json());
  });

  http.Post("/__sfemu/sessions/expire", [&ctx](const Request&, Response& res) {
    auto n = ctx.sessions().size();
    ctx.sessions().expire_all();
    route_context::write_json(res, 200, {{"expired", n}});
  });

  http.Get("/__sfemu/settings", [&ctx](const Request&, Response& res) {
    route_context::write_json(res, 200, ctx.settings().to_json());
  });
  http.Post("/__sfemu/settings", [&ctx](const Request& req, Response& res) {
    auto j = parse_body(req, res, false);
    if (!j)
      return;
    if (j->is_object() && j->contains("api_used")) {
      if (!(*j)["api_used"].is_number_integer())
        return bad_request(res, "api_used must be an integer");
      ctx.usage().set_used((*j)["api_used"].get<std::int64_t>(), ctx.clock().now_ms());
      j->erase("api_used");
    }
    if (auto err = ctx.apply_settings(*j))
      return bad_request(res, *err);
    route_context::write_json(res, 200, ctx.settings().to_json());
  });

  http.Post("/__sfemu/users", [&ctx](const Request& req, Response& res) {
    auto j = parse_body(req, res, false);
    if (!j)
      return;
    if (!j->is_object() || !j->contains("username") || !(*j)["username"].is_string() ||
        !j->contains("password") || !(*j)["password"].is_string())
      return bad_request(res, "expected {\"username\": ..., \"password\": ...}");
    auto id = ctx.model().add_user((*j)["username"].get<std::string>(), (*j)["password"].get<std::string>());
    route_context::write_json(res, 201, {{"id", id}});
  });

  http.Get("/__sfemu/cursors", [&ctx](const Request& req, Response& res) {
    nlohmann::json body = {{"open", ctx.cursors().size()}};
    if (req.has_param("user")) {
      auto u = ctx.model().find_user(req.get_param_value("user"));
      if (!u)
        return bad_request(res, "unknown user");
      auto s = ctx.settings();
      cursor_store::limits l;
      l.legacy_limit = s.legacy_cursor_limit;
      l.legacy_idle_ms = s.legacy_cursor_idle_ms;
      l.modern_ttl_ms = s.modern_cursor_ttl_ms;
      body["user_open"] = ctx.cursors().open_count(u->id, ctx.clock().now_ms(), l);
    }
    route_context::write_json(res, 200, body);
  });

  auto unknown = [](const Request&, Response& res) {
    route_context::write_error(res, 404, "NOT_FOUND", "no such control endpoint");
  };
  http.Get(R"(/__sfemu/.*)", unknown);
  http.Post(R"(/__sfemu/.*)", unknown);
  http.Delete(R"(/__sfemu/.*)", unknown);
  http.Patch(R"(/__sfemu/.*)", unknown);
  http.Put(R"(/__sfemu/.*)", unknown);
}

} // namespace sfemu
