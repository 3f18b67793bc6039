#include "emulator/cdc/routes.hpp"

#include "emulator/org.hpp"

#include <cmath>

namespace sfemu::cdc {

namespace {

using httplib::Request;
using httplib::Response;

void bad_request(Response& res, const std::string& message) {
  route_context::write_error(res, 400, "BAD_REQUEST", message);
}

std::optional<nlohmann::json> parse_object(const Request& req, Response& res) {
  auto j = nlohmann::json::parse(req.body.empty() ? std::string("{}") : req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    bad_request(res, "the body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

nlohmann::json state_of(org& model) {
  auto& log = model.change_log();
  nlohmann::json out = {{"enabled", log.enabled()},
                        {"retention_hours", static_cast<double>(log.retention_ms()) / 3600000.0},
                        {"overflow_after", log.overflow_after()},
                        {"max_events", log.max_events()},
                        {"latest_replay_id", log.latest()},
                        {"earliest_replay_id", log.earliest()},
                        {"size", log.size()},
                        {"streams_opened", log.streams_opened()}};
  if (auto sel = log.selection()) {
    // report the describe names of the selected objects
    nlohmann::json names = nlohmann::json::array();
    for (auto& n : *sel) {
      auto c = model.canonical_name(n);
      names.push_back(c.empty() ? n : c);
    }
    out["entities"] = names;
  } else {
    out["entities"] = "all";
  }
  return out;
}

/// Reads {"entities": "all" | [names]}; every name must be an object of the org.
std::optional<std::string> entities_of(org& model, const nlohmann::json& j,
                                       std::optional<std::vector<std::string>>& out) {
  if (j.is_string() && j.get<std::string>() == "all") {
    out.reset();
    return std::nullopt;
  }
  if (!j.is_array())
    return "entities must be \"all\" or an array of object names";
  std::vector<std::string> names;
  for (auto& e : j) {
    if (!e.is_string())
      return "entities must be \"all\" or an array of object names";
    std::string name = e.get<std::string>();
    // accept change event names too (AccountChangeEvent, Widget__ChangeEvent)
    std::string canonical = model.canonical_name(name);
    if (canonical.empty())
      canonical = model.canonical_name(object_of_event(name));
    if (canonical.empty())
      return "entities: no object named " + name;
    names.push_back(canonical);
  }
  out = std::move(names);
  return std::nullopt;
}

} // namespace

std::optional<std::string> apply_options(org& model, const cdc_options& o) {
  if (!(o.retention_hours > 0) || !std::isfinite(o.retention_hours))
    return "the CDC retention must be a positive number of hours";
  auto& log = model.change_log();
  if (o.entities) {
    for (auto& e : *o.entities)
      if (model.canonical_name(e).empty() && model.canonical_name(object_of_event(e)).empty())
        return "no object named " + e + " for change data capture";
    std::vector<std::string> names;
    for (auto& e : *o.entities) {
      auto c = model.canonical_name(e);
      names.push_back(c.empty() ? model.canonical_name(object_of_event(e)) : c);
    }
    log.select(names);
  } else {
    log.select_all();
  }
  log.set_enabled(o.enabled);
  log.set_retention_ms(static_cast<std::int64_t>(o.retention_hours * 3600000.0));
  return std::nullopt;
}

void register_routes(httplib::Server& http, route_context& ctx, const cdc_options& startup) {
  ctx.add_reset_listener([&ctx, startup] {
    // the org file may define the selected objects: only now can they be checked again
    (void)apply_options(ctx.model(), startup);
  });

  http.Get("/__sfemu/cdc", [&ctx](const Request&, Response& res) {
    route_context::write_json(res, 200, state_of(ctx.model()));
  });

  http.Post("/__sfemu/cdc", [&ctx](const Request& req, Response& res) {
    auto j = parse_object(req, res);
    if (!j)
      return;
    auto& model = ctx.model();
    auto& log = model.change_log();
    // validate everything first: bad input changes nothing
    std::optional<std::vector<std::string>> entities;
    bool set_entities = j->contains("entities");
    if (set_entities)
      if (auto err = entities_of(model, (*j)["entities"], entities))
        return bad_request(res, *err);
    for (auto& [key, v] : j->items()) {
      if (key == "entities")
        continue;
      if (key == "enabled") {
        if (!v.is_boolean())
          return bad_request(res, "enabled must be true or false");
      } else if (key == "retention_hours") {
        if (!v.is_number() || !(v.get<double>() > 0))
          return bad_request(res, "retention_hours must be a positive number");
      } else if (key == "overflow_after" || key == "max_events") {
        if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0)
          return bad_request(res, key + " must be a positive integer");
      } else {
        return bad_request(res, "unknown CDC setting " + key);
      }
    }
    if (set_entities) {
      if (entities)
        log.select(*entities);
      else
        log.select_all();
    }
    if (j->contains("enabled"))
      log.set_enabled((*j)["enabled"].get<bool>());
    if (j->contains("retention_hours"))
      log.set_retention_ms(static_cast<std::int64_t>((*j)["retention_hours"].get<double>() * 3600000.0));
    if (j->contains("overflow_after"))
      log.set_overflow_after((*j)["overflow_after"].get<std::size_t>());
    if (j->contains("max_events"))
      log.set_max_events((*j)["max_events"].get<std::size_t>());
    route_context::write_json(res, 200, state_of(model));
  });

  http.Get("/__sfemu/cdc/events", [&ctx](const Request& req, Response& res) {
    std::uint64_t after = 0;
    std::size_t limit = 1000;
    try {
      if (req.has_param("after"))
        after = std::stoull(req.get_param_value("after"));
      if (req.has_param("limit"))
        limit = std::stoul(req.get_param_value("limit"));
    } catch (const std::exception&) {
      return bad_request(res, "after and limit must be non-negative integers");
    }
    std::string entity;
    if (req.has_param("entity")) {
      entity = ctx.model().canonical_name(req.get_param_value("entity"));
      if (entity.empty())
        return bad_request(res, "no object named " + req.get_param_value("entity"));
    }
    auto r = ctx.model().change_log().read_after(after, limit, entity);
    if (r.what == read_result::status::too_old)
      return route_context::write_error(res, 400, "REPLAY_ID_TOO_OLD",
                                        "the events after replay id " + std::to_string(after) +
                                            " are no longer kept (retention or capacity)");
    if (r.what == read_result::status::unknown)
      return route_context::write_error(res, 400, "INVALID_REPLAY_ID",
                                        "replay id " + std::to_string(after) + " is beyond the newest event");
    nlohmann::json events = nlohmann::json::array();
    for (auto& ev : r.events)
      events.push_back(ev.to_json());
    route_context::write_json(res, 200, {{"events", events}, {"latest_replay_id", r.latest}});
  });

  http.Post("/__sfemu/cdc/gap", [&ctx](const Request& req, Response& res) {
    auto j = parse_object(req, res);
    if (!j)
      return;
    std::string object = j->contains("object") && (*j)["object"].is_string()
                             ? ctx.model().canonical_name((*j)["object"].get<std::string>())
                             : std::string();
    if (object.empty())
      return bad_request(res, "object must name an object of the org");
    auto type = j->contains("type") && (*j)["type"].is_string()
                    ? parse_change_type((*j)["type"].get<std::string>())
                    : std::nullopt;
    if (!type || (*type != change_type::gap_create && *type != change_type::gap_update &&
                  *type != change_type::gap_delete && *type != change_type::gap_undelete &&
                  *type != change_type::gap_overflow))
      return bad_request(res, "type must be GAP_CREATE, GAP_UPDATE, GAP_DELETE, GAP_UNDELETE or GAP_OVERFLOW");
    std::vector<std::string> ids;
    if (j->contains("ids")) {
      if (!(*j)["ids"].is_array())
        return bad_request(res, "ids must be an array of record ids");
      for (auto& id : (*j)["ids"]) {
        if (!id.is_string() || ctx.model().object_for_id(id.get<std::string>()) != object)
          return bad_request(res, "ids must be ids of " + object + " records");
        ids.push_back(id.get<std::string>());
      }
    }
    auto admin = ctx.model().find_user("admin@sfemu.local");
    auto added = ctx.model().change_log().publish_gap(object, *type, ids, admin ? admin->id : std::string());
    route_context::write_json(res, 200, {{"events", added}, {"latest_replay_id", ctx.model().change_log().latest()}});
  });

  http.Post("/__sfemu/undelete", [&ctx](const Request& req, Response& res) {
    auto j = parse_object(req, res);
    if (!j)
      return;
    if (!j->contains("ids") || !(*j)["ids"].is_array())
      return bad_request(res, "ids must be an array of record ids");
    std::vector<std::string> ids;
    for (auto& id : (*j)["ids"]) {
      if (!id.is_string())
        return bad_request(res, "ids must be an array of record ids");
      ids.push_back(id.get<std::string>());
    }
    auto admin = ctx.model().find_user("admin@sfemu.local");
    std::string user = admin ? admin->id : std::string();
    if (req.has_param("as")) {
      auto u = ctx.model().find_user(req.get_param_value("as"));
      if (!u)
        return bad_request(res, "unknown user " + req.get_param_value("as"));
      user = u->id;
    }
    auto results = ctx.model().undelete(ids, user);
    nlohmann::json out = nlohmann::json::array();
    for (auto& r : results) {
      nlohmann::json item = {{"id", r.id}, {"success", r.success()}, {"errors", nlohmann::json::array()}};
      for (auto& e : r.errors)
        item["errors"].push_back({{"statusCode", e.code}, {"message", e.message}, {"fields", e.fields}});
      out.push_back(item);
    }
    route_context::write_json(res, 200, out);
  });
}

} // namespace sfemu::cdc
