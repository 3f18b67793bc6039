// The admin API's mapping calls (create, edit, delete, reload, abort) and the
// configuration import. Changes are validated in full (shape, then Salesforce
// describe) before anything is written; one write transaction each, with its
// audit rows and the NOTIFY that wakes the connection's node.

#include "services/admin_detail.hpp"
#include "services/admin_service.hpp"
#include "store/admin_changes.hpp"
#include "store/hc_schema.hpp"
#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace syncforce::services {

namespace detail = admin_detail;

namespace {

/// Inserts a new mapping (state INITIAL: the node creates its table and loads it).
store::mapping_row insert_mapping(pqxx::transaction_base& tx, const std::string& connection_id,
                                  const mapping_config& m) {
  auto id = store::insert_mapping(tx, connection_id, m.object_name, mapping_config_json(normalized_mapping(m)));
  return *store::load_mapping(tx, id);
}

/// Stores a changed config; the revision goes up, so the node restarts the mapping on it.
/// The object name takes the config's (describe's) spelling: a mapping stored as
/// `contact` before names were canonicalised becomes `Contact` (same table).
store::mapping_row update_mapping(pqxx::transaction_base& tx, const std::string& mapping_id, const mapping_config& m) {
  store::update_mapping_config(tx, mapping_id, mapping_config_json(normalized_mapping(m)), m.object_name);
  return *store::load_mapping(tx, mapping_id);
}

bool load_running(pqxx::transaction_base& tx, const store::mapping_row& m) {
  return is_loading_state(m.state) || store::load_load_checkpoint(tx, m.id).has_value();
}

/// The connection (locked against concurrent admin changes) and its mapping of `object`.
grpc::Status locked_mapping(pqxx::transaction_base& tx, const std::string& connection, const std::string& object,
                            store::connection_row& c, store::mapping_row& m) {
  if (auto lookup = detail::find_connection(tx, connection, c); !lookup.ok())
    return lookup;
  detail::lock_connection(tx, c.id);
  return detail::find_mapping(tx, c, object, m);
}

} // namespace

grpc::ServerUnaryReactor* admin_service::CreateMapping(grpc::CallbackServerContext* ctx,
                                                       const syncforce::v1::CreateMappingRequest* req,
                                                       syncforce::v1::MappingState* reply) {
  return write_call(ctx, [req, reply, secrets = settings_.secrets](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    if (auto lookup = detail::find_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    detail::lock_connection(tx, c.id);
    mapping_request r;
    r.object_name = req->object_name();
    r.fields.assign(req->fields().begin(), req->fields().end());
    r.access = req->access();
    r.upsert_field = req->upsert_field();
    r.polling_seconds = req->polling_seconds();
    r.config_json = req->config_json();
    const auto path = r.object_name.empty() ? std::string{"mapping"} : r.object_name;
    for (const auto& m : store::load_mappings(tx, c.id))
      if (!r.object_name.empty() && iequals(m.object_name, r.object_name))
        return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "connection " + c.name + " already maps " +
                                                                m.object_name +
                                                                "; change it with syncforce mapping:edit");
    auto built = build_mapping(r, path);
    if (!built.config)
      return detail::reject(built.problems, "nothing was created", *reply);
    std::unique_ptr<salesforce::client> sf;
    if (auto login = detail::salesforce_login(c, secrets, sf); !login.ok())
      return login;
    std::vector<mapping_config> checked{*built.config};
    auto problems = detail::check_against_salesforce(*sf, {path}, checked);
    if (!problems.empty())
      return detail::reject(problems, "nothing was created", *reply);
    // Stored as Salesforce spells it (`contact` -> `Contact`); the already-mapped
    // check above ignored case, and so does the one against describe's name here.
    const auto& config = checked.front();
    for (const auto& existing : store::load_mappings(tx, c.id))
      if (iequals(existing.object_name, config.object_name))
        return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "connection " + c.name + " already maps " +
                                                                existing.object_name +
                                                                "; change it with syncforce mapping:edit");
    auto m = insert_mapping(tx, c.id, config);
    detail::audit_and_notify(tx, actor, "mapping.create", c, &m, "", detail::mapping_json(m));
    detail::fill_mapping(tx, c, m, *reply);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::EditMapping(grpc::CallbackServerContext* ctx,
                                                     const syncforce::v1::EditMappingRequest* req,
                                                     syncforce::v1::MappingState* reply) {
  return write_call(ctx, [req, reply, secrets = settings_.secrets](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    store::mapping_row m;
    if (auto found = locked_mapping(tx, req->connection(), req->object_name(), c, m); !found.ok())
      return found;
    mapping_edit e;
    e.add_fields.assign(req->add_fields().begin(), req->add_fields().end());
    e.remove_fields.assign(req->remove_fields().begin(), req->remove_fields().end());
    e.access = req->access();
    e.upsert_field = req->upsert_field();
    e.clear_upsert_field = req->clear_upsert_field();
    e.polling_seconds = req->polling_seconds();
    if (req->has_sweep_seconds())
      e.sweep_seconds = req->sweep_seconds();
    if (req->has_sweep_window_seconds())
      e.sweep_window_seconds = req->sweep_window_seconds();
    if (req->has_formula_repair_seconds())
      e.formula_repair_seconds = req->formula_repair_seconds();
    if (req->has_sf_notify_enabled())
      e.sf_notify_enabled = req->sf_notify_enabled();
    // An edit that changes nothing in the config still re-reads the object's
    // describe: a field changed in Salesforce (length, type) reaches the table.
    mapping_build_result edited;
    if (e.empty())
      edited.config = m.config;
    else
      edited = edit_mapping(m.config, e, m.object_name);
    if (!edited.config)
      return detail::reject(edited.problems, "nothing was changed", *reply);
    const bool refresh = same_mapping_config(m.config, *edited.config);
    std::unique_ptr<salesforce::client> sf;
    if (auto login = detail::salesforce_login(c, secrets, sf); !login.ok())
      return login;
    std::vector<mapping_config> checked{*edited.config};
    auto problems = detail::check_against_salesforce(*sf, {m.object_name}, checked);
    if (!problems.empty())
      return detail::reject(problems, "nothing was changed", *reply);
    const auto before = detail::mapping_json(m);
    auto updated = update_mapping(tx, m.id, checked.front());
    detail::audit_and_notify(tx, actor, refresh ? "mapping.refresh" : "mapping.edit", c, &updated, before,
                             detail::mapping_json(updated));
    detail::fill_mapping(tx, c, updated, *reply);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::DeleteMapping(grpc::CallbackServerContext* ctx,
                                                       const syncforce::v1::DeleteMappingRequest* req,
                                                       syncforce::v1::ActionResult* reply) {
  return write_call(ctx, [req, reply](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    store::mapping_row m;
    if (auto found = locked_mapping(tx, req->connection(), req->object_name(), c, m); !found.ok())
      return found;
    const auto table = m.config.table_name();
    if (req->confirm() != m.object_name)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "deleting the mapping of " + m.object_name + " drops its table " + c.schema_name + "." +
                            table + " and its unsent changes; to go ahead, repeat its name: --confirm " +
                            m.object_name);
    const long dropped_changes = store::drop_unsent_changes(tx, c.schema_name, table);
    store::drop_mapping_table(tx, c.schema_name, table);
    store::delete_mapping_row(tx, m.id);
    detail::audit_and_notify(tx, actor, "mapping.delete", c, &m, detail::mapping_json(m), "");
    reply->set_mapping_id(m.id);
    reply->set_message("deleted the mapping of " + m.object_name + ": dropped table " + c.schema_name + "." + table +
                       (dropped_changes > 0 ? " and " + std::to_string(dropped_changes) + " unsent change(s)"
                                            : std::string{}));
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::ReloadMapping(grpc::CallbackServerContext* ctx,
                                                       const syncforce::v1::MappingActionRequest* req,
                                                       syncforce::v1::ActionResult* reply) {
  return write_call(ctx, [req, reply](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    store::mapping_row m;
    if (auto found = locked_mapping(tx, req->connection(), req->object_name(), c, m); !found.ok())
      return found;
    if (m.command == std::optional<std::string>{"reload"})
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "a reload of " + m.object_name + " is already pending");
    if (load_running(tx, m))
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "a load of " + m.object_name + " is already running (" + m.state +
                            "); wait for it, or stop it with syncforce mapping:abort " + m.object_name);
    const auto before = detail::mapping_json(m);
    store::set_mapping_command(tx, m.id, std::string{"reload"});
    auto after = *store::load_mapping(tx, m.id);
    detail::audit_and_notify(tx, actor, "mapping.reload", c, &after, before, detail::mapping_json(after));
    reply->set_mapping_id(m.id);
    reply->set_message("reload of " + m.object_name + " requested: the table is loaded again through a shadow "
                       "table (readers keep the current rows until it is swapped in)" +
                       (c.state == "PAUSED" ? std::string{"; connection "} + c.name +
                                                " is PAUSED, so it starts on resume"
                                            : std::string{}));
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::AbortMapping(grpc::CallbackServerContext* ctx,
                                                      const syncforce::v1::MappingActionRequest* req,
                                                      syncforce::v1::ActionResult* reply) {
  return write_call(ctx, [req, reply](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    store::mapping_row m;
    if (auto found = locked_mapping(tx, req->connection(), req->object_name(), c, m); !found.ok())
      return found;
    const bool running = load_running(tx, m);
    const bool pending_reload = m.command == std::optional<std::string>{"reload"};
    if (!running && !pending_reload)
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no load of " + m.object_name + " is running");
    if (m.command == std::optional<std::string>{"abort"})
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "an abort of " + m.object_name + " is already pending");
    const auto before = detail::mapping_json(m);
    std::string message;
    if (!running) {
      store::set_mapping_command(tx, m.id, std::nullopt);
      message = "the pending reload of " + m.object_name + " was cancelled";
    } else {
      store::set_mapping_command(tx, m.id, std::string{"abort"});
      message = "abort of the load of " + m.object_name + " requested: " +
                (m.high_water_mark ? "the table keeps its rows and the mapping goes back to DATA_SYNCED"
                                   : "the mapping becomes ABORTED until it is reloaded");
    }
    auto after = *store::load_mapping(tx, m.id);
    detail::audit_and_notify(tx, actor, "mapping.abort", c, &after, before, detail::mapping_json(after));
    reply->set_mapping_id(m.id);
    reply->set_message(message);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::ImportConfiguration(grpc::CallbackServerContext* ctx,
                                                             const syncforce::v1::ImportConfigurationRequest* req,
                                                             syncforce::v1::ImportReport* reply) {
  return write_call(ctx, [req, reply, secrets = settings_.secrets](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    if (auto lookup = detail::find_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    detail::lock_connection(tx, c.id);
    auto parsed = parse_config(req->json());
    if (!parsed.ok()) {
      // Every problem at once: the mappings that could be read are checked
      // against Salesforce too (unknown objects and fields, upsert fields, ...).
      auto problems = parsed.errors;
      std::vector<std::string> paths;
      std::vector<mapping_config> configs;
      for (const auto& m : parsed.readable) {
        paths.push_back(m.path);
        configs.push_back(m.config);
      }
      if (!configs.empty()) {
        std::unique_ptr<salesforce::client> sf;
        auto login = detail::salesforce_login(c, secrets, sf);
        if (!login.ok())
          problems.push_back({"salesforce", login.error_message()});
        else
          for (auto& p : detail::check_against_salesforce(*sf, paths, configs)) {
            bool known = std::any_of(parsed.errors.begin(), parsed.errors.end(),
                                     [&p](const config_problem& e) { return e.path == p.path; });
            if (!known) // said once is enough (e.g. a mapping mapped twice)
              problems.push_back(std::move(p));
          }
      }
      return detail::reject(problems, "nothing was imported", *reply);
    }
    const auto& doc = *parsed.document;
    reply->set_dry_run(req->dry_run());
    for (const auto& w : parsed.warnings)
      reply->add_warnings(w.to_string() + " (ignored)");

    // What the file changes.
    std::vector<config_problem> problems;
    auto target = c;
    if (doc.connection) {
      const auto& cc = *doc.connection;
      if (cc.api_version && *cc.api_version != c.api_version) {
        check_api_version("connection.api_version", *cc.api_version, problems);
        target.api_version = *cc.api_version;
      }
      if (cc.features)
        target.features = *cc.features;
      if (cc.organization_id && c.organization_id && !c.organization_id->empty() &&
          *cc.organization_id != *c.organization_id)
        reply->add_warnings("connection.organization_id: the file was exported from org " + *cc.organization_id +
                            "; connection " + c.name + " syncs org " + *c.organization_id);
    }
    const bool connection_changed = target.api_version != c.api_version || !(target.features == c.features);
    auto existing = store::load_mappings(tx, c.id);
    struct change {
      std::string path;
      mapping_config config;
      const store::mapping_row* row = nullptr; ///< nullptr: a new mapping
    };
    std::vector<change> changes;
    int unchanged = 0;
    for (std::size_t i = 0; i < doc.mappings.size(); ++i) {
      const auto& m = doc.mappings[i];
      const store::mapping_row* row = nullptr;
      for (const auto& e : existing)
        if (iequals(e.object_name, m.object_name))
          row = &e;
      if (row != nullptr && same_mapping_config(row->config, m)) {
        ++unchanged;
        continue;
      }
      auto config = normalized_mapping(m);
      if (row != nullptr)
        config.object_name = row->object_name;
      changes.push_back(change{"mappings[" + std::to_string(i) + "]", std::move(config), row});
    }
    if (!problems.empty())
      return detail::reject(problems, "nothing was imported", *reply);

    // Everything that changes is checked against Salesforce first.
    if (!changes.empty() || target.api_version != c.api_version) {
      std::unique_ptr<salesforce::client> sf;
      if (auto login = detail::salesforce_login(target, secrets, sf); !login.ok())
        return login;
      if (target.api_version != c.api_version)
        if (auto offered = detail::check_version_offered(*sf, target.api_version); !offered.ok())
          problems.push_back({"connection.api_version", offered.error_message()});
      std::vector<std::string> paths;
      std::vector<mapping_config> configs;
      for (const auto& ch : changes) {
        paths.push_back(ch.path);
        configs.push_back(ch.config);
      }
      if (!configs.empty())
        for (auto& p : detail::check_against_salesforce(*sf, paths, configs))
          problems.push_back(std::move(p));
      // What is stored is spelled as Salesforce spells it (object, fields, upsert field, indexes);
      // a file that differs from what is stored only in the case of its names changes nothing.
      std::vector<change> spelled;
      for (std::size_t i = 0; i < configs.size(); ++i) {
        auto& ch = changes[i];
        ch.config = std::move(configs[i]);
        if (ch.row != nullptr && ch.row->object_name == ch.config.object_name &&
            same_mapping_config(ch.row->config, ch.config))
          ++unchanged;
        else
          spelled.push_back(std::move(ch));
      }
      changes = std::move(spelled);
    }
    if (!problems.empty())
      return detail::reject(problems, "nothing was imported", *reply);

    int created = 0;
    int changed = 0;
    for (const auto& ch : changes) {
      if (ch.row == nullptr) {
        ++created;
        reply->add_created(ch.config.object_name);
      } else {
        ++changed;
      }
    }
    reply->set_mappings_created(created);
    reply->set_mappings_changed(changed);
    reply->set_mappings_unchanged(unchanged);
    reply->set_connection_changed(connection_changed);
    if (req->dry_run() || (changes.empty() && !connection_changed))
      return grpc::Status::OK;

    // Apply: mappings created or updated, mappings not in the file kept.
    if (connection_changed) {
      const auto before = detail::connection_json(c);
      store::set_connection_version_and_features(tx, c.id, target.api_version, detail::features_json(target.features));
      auto stored = detail::reload_connection(tx, c.id);
      detail::audit_and_notify(tx, actor, "connection.import", stored, nullptr, before,
                               detail::connection_json(stored));
    }
    nlohmann::json names = nlohmann::json::array();
    for (const auto& ch : changes) {
      if (ch.row == nullptr) {
        auto m = insert_mapping(tx, c.id, ch.config);
        detail::audit_and_notify(tx, actor, "mapping.create", c, &m, "", detail::mapping_json(m));
      } else {
        auto m = update_mapping(tx, ch.row->id, ch.config);
        detail::audit_and_notify(tx, actor, "mapping.edit", c, &m, detail::mapping_json(*ch.row),
                                 detail::mapping_json(m));
      }
      names.push_back(ch.config.object_name);
    }
    nlohmann::json summary{{"mappings_created", created},
                           {"mappings_changed", changed},
                           {"mappings_unchanged", unchanged},
                           {"connection_changed", connection_changed},
                           {"mappings", names}};
    detail::audit_and_notify(tx, actor, "configuration.import", c, nullptr, "", summary.dump());
    return grpc::Status::OK;
  });
}

} // namespace syncforce::services
