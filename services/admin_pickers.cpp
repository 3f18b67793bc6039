// The admin calls the dashboard's pickers and buttons need: Salesforce describe
// through the connection's own login (the field picker), and retrying or
// ignoring failed writes. Same authentication, transactions, audit and NOTIFY
// as every other admin call.

#include "services/admin_detail.hpp"
#include "services/admin_service.hpp"
#include "store/admin_changes.hpp"
#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace syncforce::services {

namespace detail = admin_detail;

namespace {

/// The fields every mapping has whether picked or not.
bool is_system_field(const std::string& name) {
  static const std::set<std::string> system{"id", "isdeleted", "systemmodstamp", "createddate"};
  std::string lower;
  for (char ch : name)
    lower += ascii_lower(ch);
  return system.count(lower) > 0;
}

void fill_field(const salesforce::field_describe& f, syncforce::v1::FieldDescription& out) {
  out.set_name(f.name);
  out.set_label(f.label);
  out.set_type(f.type);
  out.set_length(f.length);
  out.set_required(!f.nillable && !f.defaulted_on_create && f.createable);
  out.set_external_id(f.external_id);
  out.set_unique(f.unique);
  out.set_createable(f.createable);
  out.set_updateable(f.updateable);
  out.set_system(is_system_field(f.name));
  auto type = parse_sf_field_type(f.type);
  if (!type)
    out.set_not_mappable("type " + f.type + " cannot be mapped");
  else if (*type == sf_field_type::address)
    out.set_not_mappable("a compound address: map its parts (e.g. street, city) instead");
  else
    out.set_pg_type(pg_type_for(*type, f.length));
}

} // namespace

grpc::ServerUnaryReactor* admin_service::DescribeObject(grpc::CallbackServerContext* ctx,
                                                        const syncforce::v1::DescribeObjectRequest* req,
                                                        syncforce::v1::ObjectDescription* reply) {
  return read_call(ctx, [req, reply, secrets = settings_.secrets](pqxx::transaction_base& tx) {
    store::connection_row c;
    if (auto lookup = detail::find_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    std::unique_ptr<salesforce::client> sf;
    if (auto login = detail::salesforce_login(c, secrets, sf); !login.ok())
      return login;
    if (req->object_name().empty()) {
      auto global = sf->describe_global();
      if (!global.ok())
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot list the org's objects: " + global.error().describe());
      auto objects = global->sobjects;
      std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
      for (const auto& o : objects) {
        // What a mapping can sync: read by query and tracked by SystemModstamp.
        if (!o.queryable || !o.replicateable)
          continue;
        auto* added = reply->add_objects();
        added->set_name(o.name);
        added->set_label(o.label);
        added->set_custom(o.custom);
      }
      return grpc::Status::OK;
    }
    auto d = sf->describe(req->object_name());
    if (!d.ok()) {
      if (d.error().http_status == 404)
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "the org has no object " + req->object_name());
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "cannot describe " + req->object_name() + ": " + d.error().describe());
    }
    reply->set_object_name(d->name);
    reply->set_label(d->label);
    auto fields = d->fields;
    std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& f : fields)
      fill_field(f, *reply->add_fields());
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::ResolveWriteErrors(grpc::CallbackServerContext* ctx,
                                                            const syncforce::v1::ResolveWriteErrorsRequest* req,
                                                            syncforce::v1::ActionResult* reply) {
  return write_call(ctx, [req, reply](pqxx::work& tx, const std::string& actor) {
    const auto& action = req->action();
    if (action != "retry" && action != "ignore")
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "action '" + action + "' is not retry or ignore");
    if (req->ids().empty())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name the failed writes (their ids) to " + action);
    store::connection_row c;
    if (auto lookup = detail::find_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    detail::lock_connection(tx, c.id);
    store::mapping_row m;
    if (auto found = detail::find_mapping(tx, c, req->object_name(), m); !found.ok())
      return found;
    if (!store::has_trigger_log_archive(tx, c.schema_name))
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "connection " + c.name + " has no failed writes");
    std::vector<std::int64_t> ids(req->ids().begin(), req->ids().end());
    // All or nothing: every id must be a failed write of this mapping.
    auto known = store::failed_writes_among(tx, c.schema_name, m.config.table_name(), ids);
    if (known.size() != std::set<std::int64_t>(ids.begin(), ids.end()).size()) {
      std::set<std::int64_t> found(known.begin(), known.end());
      std::string missing;
      for (auto id : ids)
        if (found.count(id) == 0)
          missing += (missing.empty() ? "" : ", ") + std::to_string(id);
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no failed write of " + m.object_name + " with id " + missing +
                                                          " (already retried or ignored, or purged)");
    }
    // REQUEUE: the writer's housekeeping copies the entry back as NEW (docs/write-back.md).
    // IGNORED: kept in the archive for the record, out of the error list and counts.
    const std::string state = action == "retry" ? "REQUEUE" : "IGNORED";
    store::set_archive_state(tx, c.schema_name, ids, state);
    nlohmann::json before{{"ids", ids}, {"state", "FAILED"}};
    nlohmann::json after{{"ids", ids}, {"state", state}};
    detail::audit_and_notify(tx, actor, "write_errors." + action, c, &m, before.dump(), after.dump());
    reply->set_mapping_id(m.id);
    reply->set_message(std::to_string(ids.size()) + (ids.size() == 1 ? " failed write of " : " failed writes of ") +
                       m.object_name + (action == "retry" ? " queued to be written again" : " ignored"));
    return grpc::Status::OK;
  });
}

} // namespace syncforce::services
