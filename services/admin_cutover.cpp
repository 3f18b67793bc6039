// The admin API's schema-swap calls (docs/schema-swap.md): CloneConnection
// makes hc2 from hc1 in one write transaction; Cutover runs the cutover's
// steps (services/cutover_runner.cpp) on a worker of the long-call pool,
// which finishes the run even when the caller goes away.

#include "services/admin_detail.hpp"
#include "services/admin_service.hpp"
#include "store/admin_changes.hpp"
#include "services/cutover_runner.hpp"
#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace syncforce::services {

namespace detail = admin_detail;

grpc::ServerUnaryReactor* admin_service::CloneConnection(grpc::CallbackServerContext* ctx,
                                                         const syncforce::v1::CloneConnectionRequest* req,
                                                         syncforce::v1::ConnectionState* reply) {
  return write_call(ctx, [req, reply, secrets = settings_.secrets](pqxx::work& tx, const std::string& actor) {
    store::connection_row source;
    if (auto lookup = detail::find_connection(tx, req->source(), source); !lookup.ok())
      return lookup;
    detail::lock_connection(tx, source.id);
    std::vector<config_problem> problems;
    check_connection_name("name", req->name(), problems);
    check_schema_name("schema_name", req->schema_name(), problems);
    for (const auto& other : store::load_connections(tx)) {
      if (other.name == req->name())
        return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "a connection named " + req->name() + " already exists");
      if (other.schema_name == req->schema_name())
        problems.push_back({"schema_name", "schema " + req->schema_name() + " is used by connection " + other.name +
                                             "; each connection needs its own schema"});
    }
    // The mappings to copy, in the source's order.
    auto mappings = store::load_mappings(tx, source.id);
    std::vector<store::mapping_row> chosen;
    for (const auto& wanted : req->mappings())
      if (std::none_of(mappings.begin(), mappings.end(),
                       [&](const store::mapping_row& m) { return iequals(m.object_name, wanted); }))
        problems.push_back({"mappings." + wanted, "connection " + source.name + " has no mapping of " + wanted});
    for (const auto& m : mappings)
      if (req->mappings().empty() || std::any_of(req->mappings().begin(), req->mappings().end(),
                                                 [&](const std::string& w) { return iequals(w, m.object_name); }))
        chosen.push_back(m);
    if (chosen.empty() && problems.empty())
      problems.push_back({"mappings", "connection " + source.name + " has no mappings to copy"});
    // --add-fields Object.Field: grouped by mapping, applied as an edit of the copy.
    std::map<std::string, std::vector<std::string>> added;
    for (int i = 0; i < req->add_fields_size(); ++i) {
      const auto& spec = req->add_fields(i);
      const auto path = "add_fields[" + std::to_string(i) + "]";
      const auto dot = spec.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == spec.size()) {
        problems.push_back({path, "'" + spec + "' is not Object.Field (e.g. Contact.Department)"});
        continue;
      }
      const auto object = spec.substr(0, dot);
      auto m = std::find_if(chosen.begin(), chosen.end(),
                            [&](const store::mapping_row& r) { return iequals(r.object_name, object); });
      if (m == chosen.end()) {
        problems.push_back({path, "the clone has no mapping of " + object});
        continue;
      }
      added[m->object_name].push_back(spec.substr(dot + 1));
    }
    std::vector<std::string> paths;
    std::vector<mapping_config> configs;
    for (const auto& m : chosen) {
      auto config = m.config;
      if (auto it = added.find(m.object_name); it != added.end()) {
        mapping_edit e;
        e.add_fields = it->second;
        auto edited = edit_mapping(config, e, "add_fields." + m.object_name);
        if (!edited.config) {
          problems.insert(problems.end(), edited.problems.begin(), edited.problems.end());
          continue;
        }
        config = *edited.config;
      }
      paths.push_back("mappings." + m.object_name);
      configs.push_back(std::move(config));
    }
    if (!problems.empty())
      return detail::reject(problems, "no connection was created", *reply);
    std::unique_ptr<salesforce::client> sf;
    if (auto login = detail::salesforce_login(source, secrets, sf); !login.ok())
      return login;
    problems = detail::check_against_salesforce(*sf, paths, configs);
    if (!problems.empty())
      return detail::reject(problems, "no connection was created", *reply);
    // The clone: the source's login, version, organization and features under the new name and schema.
    auto copy = source;
    copy.name = req->name();
    copy.schema_name = req->schema_name();
    const auto id = store::insert_connection(tx, copy, detail::features_json(source.features));
    auto clone = detail::reload_connection(tx, id);
    nlohmann::json after = nlohmann::json::parse(detail::connection_json(clone));
    after["cloned_from"] = source.name;
    detail::audit_and_notify(tx, actor, "connection.clone", clone, nullptr, "", after.dump());
    for (const auto& config : configs) {
      auto mapping_id =
        store::insert_mapping(tx, id, config.object_name, mapping_config_json(normalized_mapping(config)));
      auto m = *store::load_mapping(tx, mapping_id);
      detail::audit_and_notify(tx, actor, "mapping.create", clone, &m, "", detail::mapping_json(m));
    }
    detail::fill_connection(tx, clone, *reply);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::Cutover(grpc::CallbackServerContext* ctx,
                                                 const syncforce::v1::CutoverRequest* req,
                                                 syncforce::v1::CutoverReport* reply) {
  std::vector<config_problem> problems;
  auto seconds = [&](const std::string& path, int value, std::chrono::milliseconds fallback) {
    if (value < 0)
      problems.push_back({path, "must be positive (0: the default)"});
    return value > 0 ? std::chrono::milliseconds(std::int64_t{value} * 1000) : fallback;
  };
  cutover_request r;
  r.source = req->source();
  r.target = req->target();
  r.mappings.assign(req->mappings().begin(), req->mappings().end());
  r.roles.assign(req->roles().begin(), req->roles().end());
  r.dry_run = req->dry_run();
  r.move_tables = req->move_tables();
  r.drain_timeout = seconds("drain_timeout_seconds", req->drain_timeout_seconds(), r.drain_timeout);
  r.catch_up_timeout = seconds("catch_up_timeout_seconds", req->catch_up_timeout_seconds(), r.catch_up_timeout);
  r.lock_timeout = seconds("lock_timeout_seconds", req->lock_timeout_seconds(), r.lock_timeout);
  r.node = settings_.node_name;
  if (r.source.empty())
    problems.push_back({"source", "is required (the connection whose tables move)"});
  if (r.target.empty())
    problems.push_back({"target", "is required (the connection that takes them over)"});
  if (r.move_tables && !r.roles.empty())
    problems.push_back({"roles", "does not apply with move_tables: the tables keep their names and no search_path "
                                 "is changed"});
  return long_call(ctx, [r, problems, reply, url = settings_.database_url,
                         secrets = settings_.secrets](const std::string& actor) mutable {
    if (!problems.empty())
      return detail::reject(problems, "no cutover was started", *reply);
    r.actor = actor;
    return run_cutover(url, secrets, r, *reply);
  });
}

} // namespace syncforce::services
