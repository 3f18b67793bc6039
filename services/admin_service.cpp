#include "services/admin_service.hpp"

#include "store/admin_reads.hpp"
#include "store/cluster.hpp"

#include "store/db_errors.hpp"

#include "engine_io/config_validation.hpp"
#include "engine_io/sf_login.hpp"
#include "actors/sync_engine.hpp"
#include "services/admin_detail.hpp"
#include "services/diagnose.hpp"
#include "store/control_repo.hpp"
#include "store/read_errors.hpp"
#include "store/read_repairs.hpp"
#include "sync/hc_export.hpp"
#include "sync/mapping_config.hpp"
#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <ctime>
#include <functional>

namespace syncforce::services {

namespace detail = admin_detail;

// ---------------------------------------------------------------------------
// Shared helpers of the admin service's files
// ---------------------------------------------------------------------------

namespace admin_detail {

namespace {

std::string names_of(const std::vector<store::connection_row>& connections) {
  std::string names;
  for (const auto& c : connections)
    names += (names.empty() ? "" : ", ") + c.name;
  return names;
}

} // namespace

grpc::Status select_connections(pqxx::transaction_base& tx, const std::string& name,
                                std::vector<store::connection_row>& out) {
  for (auto& c : store::load_connections(tx))
    if (name.empty() || c.name == name)
      out.push_back(std::move(c));
  if (!name.empty() && out.empty())
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no connection named '" + name + "'");
  return grpc::Status::OK;
}

grpc::Status find_connection(pqxx::transaction_base& tx, const std::string& name, store::connection_row& out) {
  std::vector<store::connection_row> connections;
  if (auto lookup = select_connections(tx, name, connections); !lookup.ok())
    return lookup;
  if (connections.empty())
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "there is no connection yet: create one with syncforce connection:create (or import a "
                        "configuration file at start-up)");
  if (connections.size() > 1)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "several connections (" + names_of(connections) + "): name one with --connection");
  out = std::move(connections.front());
  return grpc::Status::OK;
}

void lock_connection(pqxx::transaction_base& tx, const std::string& connection_id) {
  store::lock_connection_row(tx, connection_id);
}

grpc::Status find_mapping(pqxx::transaction_base& tx, const store::connection_row& c, const std::string& object_name,
                          store::mapping_row& out) {
  if (object_name.empty())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name the mapping's object (e.g. Contact)");
  for (auto& m : store::load_mappings(tx, c.id)) {
    if (iequals(m.object_name, object_name)) {
      out = std::move(m);
      return grpc::Status::OK;
    }
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "no mapping of " + object_name + " in connection " + c.name);
}

store::connection_row reload_connection(pqxx::transaction_base& tx, const std::string& connection_id) {
  for (auto& c : store::load_connections(tx))
    if (c.id == connection_id)
      return std::move(c);
  throw std::runtime_error("connection " + connection_id + " vanished");
}

std::vector<mapping_activity> activities_of(const std::vector<store::mapping_row>& mappings) {
  std::vector<mapping_activity> out;
  for (const auto& m : mappings)
    out.push_back(mapping_activity{m.object_name, m.state, m.command});
  return out;
}

void fill_mapping(pqxx::transaction_base& tx, const store::connection_row& c, const store::mapping_row& m,
                  syncforce::v1::MappingState& ms) {
  ms.set_id(m.id);
  ms.set_object_name(m.object_name);
  ms.set_state(m.state);
  ms.set_state_description(m.state_description);
  ms.set_high_water_mark(m.high_water_mark.value_or(""));
  ms.set_access(std::string{to_string(m.config.access)});
  ms.set_config_json(mapping_config_json(m.config));
  ms.set_revision(m.revision);
  ms.set_pending_command(m.command.value_or(""));
  const auto table = m.config.table_name();
  ms.set_db_rows(store::table_row_count(tx, c.schema_name, table).value_or(-1));
  if (auto pending = store::pending_writes_of(tx, c.schema_name, table)) {
    ms.set_pending_writes(pending->count);
    ms.set_oldest_pending_write_at(pending->oldest_at);
  }
  ms.set_failed_writes_24h(store::failed_writes_24h(tx, c.schema_name, table));
  ms.set_read_errors(store::read_error_count(tx, m.id));
  ms.set_node(store::live_owner(tx, "mapping", m.id).value_or(""));
  for (const auto& r : store::load_read_repairs(tx, m.id)) {
    auto* out = r.kind == "sweep" ? ms.mutable_sweep() : ms.mutable_formula_repair();
    out->set_last_run_at(r.last_run_at);
    out->set_checked(r.checked);
    out->set_fetched(r.fetched);
    out->set_repaired(r.repaired);
    out->set_runs(r.runs);
    out->set_total_checked(r.total_checked);
    out->set_total_fetched(r.total_fetched);
    out->set_total_repaired(r.total_repaired);
  }
  if (auto cp = store::load_load_checkpoint(tx, m.id)) {
    ms.set_load_rows_loaded(cp->rows_loaded);
    ms.set_load_rows_expected(cp->expected_rows);
  }
}

void fill_connection(pqxx::transaction_base& tx, const store::connection_row& c, syncforce::v1::ConnectionState& cs) {
  cs.set_id(c.id);
  cs.set_name(c.name);
  cs.set_schema_name(c.schema_name);
  cs.set_api_version(c.api_version);
  cs.set_login_url(c.login.login_url);
  cs.set_username(c.login.username);
  cs.set_auth_method(c.login.auth);
  cs.set_secret_ref(c.login.secret_ref);
  cs.set_client_id(c.login.client_id);
  cs.set_organization_id(c.organization_id.value_or(""));
  auto& features = *cs.mutable_features();
  features["disable_bulk_writes"] = c.features.disable_bulk_writes;
  features["poll_db_no_merge"] = c.features.poll_db_no_merge;
  features["poll_external_ids"] = c.features.poll_external_ids;
  features["rest_count_only"] = c.features.rest_count_only;
  features["ucs_basic_collation_index"] = c.features.ucs_basic_collation_index;
  auto cutover = store::recent_cutover_summary(tx, c.id);
  if (cutover)
    cs.set_cutover(*cutover);
  auto mappings = store::load_mappings(tx, c.id);
  cs.set_writer_node(store::live_owner(tx, "writer", c.id).value_or(""));
  cs.set_state(effective_connection_state(c.state, activities_of(mappings)).state);
  for (const auto& m : mappings)
    fill_mapping(tx, c, m, *cs.add_mappings());
}

std::string features_json(const connection_features& f) {
  return nlohmann::json{{"disable_bulk_writes", f.disable_bulk_writes},
                        {"poll_db_no_merge", f.poll_db_no_merge},
                        {"poll_external_ids", f.poll_external_ids},
                        {"rest_count_only", f.rest_count_only},
                        {"ucs_basic_collation_index", f.ucs_basic_collation_index}}
    .dump();
}

std::string connection_json(const store::connection_row& c) {
  nlohmann::json j{{"name", c.name},
                   {"schema_name", c.schema_name},
                   {"state", c.state},
                   {"api_version", c.api_version},
                   {"login_url", c.login.login_url},
                   {"username", c.login.username},
                   {"auth_method", c.login.auth},
                   {"secret_ref", c.login.secret_ref},
                   {"client_id", c.login.client_id},
                   {"client_secret_ref", c.login.client_secret_ref},
                   {"features", nlohmann::json::parse(features_json(c.features))}};
  if (c.organization_id)
    j["organization_id"] = *c.organization_id;
  return j.dump();
}

std::string mapping_json(const store::mapping_row& m) {
  nlohmann::json j{{"object_name", m.object_name},
                   {"config", nlohmann::json::parse(mapping_config_json(m.config))},
                   {"revision", m.revision},
                   {"state", m.state}};
  if (m.command)
    j["command"] = *m.command;
  return j.dump();
}

void audit_and_notify(pqxx::transaction_base& tx, const std::string& actor, const std::string& action,
                      const store::connection_row& c, const store::mapping_row* m, const std::string& before,
                      const std::string& after) {
  store::audit_entry e;
  e.actor = actor;
  e.action = action;
  e.object_type = m != nullptr ? "mapping" : "connection";
  e.object_id = m != nullptr ? m->id : c.id;
  e.connection_id = c.id;
  e.connection_name = c.name;
  e.object_name = m != nullptr ? m->object_name : std::string{};
  e.before = before;
  e.after = after;
  store::record_audit(tx, e);
  store::notify_control(tx, c.id);
}

grpc::Status bounded(const grpc::Status& status) {
  const auto& message = status.error_message();
  if (message.size() <= max_status_message)
    return status;
  std::size_t cut = max_status_message - 100;
  // Never split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80)
    --cut;
  return grpc::Status(status.error_code(), message.substr(0, cut) + " ... (cut: " +
                                             std::to_string(message.size() - cut) + " more bytes)");
}

void fill_rejection(const std::vector<config_problem>& problems, const std::string& what,
                    syncforce::v1::Rejection& out) {
  out.set_summary(std::to_string(problems.size()) + (problems.size() == 1 ? " problem, " : " problems, ") + what);
  for (const auto& p : problems) {
    auto* added = out.add_problems();
    added->set_path(p.path);
    added->set_message(p.message);
  }
}

grpc::Status salesforce_login(const store::connection_row& c, const secret_lookup& secrets,
                              std::unique_ptr<salesforce::client>& out) {
  std::string error;
  auto config = engine_io::client_config_for(c, secrets, error);
  if (!config)
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "cannot log in to Salesforce as " + c.login.username + ": " + error);
  // A person waits for the answer: fail fast rather than retry for minutes.
  config->retry.max_attempts = 2;
  config->http.request_timeout = std::chrono::seconds(60);
  auto sf = std::make_unique<salesforce::client>(std::move(*config));
  auto login = sf->login();
  if (!login.ok()) {
    const auto& e = login.error();
    auto what = e.code.empty() ? e.message : e.code + ": " + e.message;
    if (e.kind == salesforce::error_kind::transient || e.http_status == 0)
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "Salesforce at " + c.login.login_url + " cannot be reached: " + what);
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "Salesforce refused the login of " + c.login.username +
                                                              " at " + c.login.login_url + ": " + what);
  }
  out = std::move(sf);
  return grpc::Status::OK;
}

grpc::Status check_version_offered(salesforce::client& sf, const std::string& version) {
  salesforce::raw_call call;
  call.path = "/services/data";
  call.options.idempotent = true;
  auto r = sf.call(call);
  if (r.ok()) {
    auto list = nlohmann::json::parse(r->body, nullptr, false);
    if (list.is_array()) {
      std::string newest;
      double newest_n = 0;
      for (const auto& v : list) {
        auto name = v.value("version", std::string{});
        if (name == version)
          return grpc::Status::OK;
        double n = std::atof(name.c_str());
        if (n > newest_n) {
          newest_n = n;
          newest = name;
        }
      }
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "the org does not offer API version " + version +
                            (newest.empty() ? std::string{} : " (the newest it offers is " + newest + ")"));
    }
  }
  // No version list: a describe at that version answers whether it exists.
  salesforce::raw_call describe;
  describe.path = "/services/data/v" + version + "/sobjects";
  describe.options.idempotent = true;
  auto d = sf.call(describe);
  if (d.ok())
    return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      "the org does not offer API version " + version + ": " + d.error().describe());
}

std::vector<config_problem> check_against_salesforce(salesforce::client& sf, const std::vector<std::string>& paths,
                                                     std::vector<mapping_config>& mappings) {
  std::vector<engine_io::mapping_to_validate> list;
  for (std::size_t i = 0; i < mappings.size(); ++i)
    list.push_back(engine_io::mapping_to_validate{paths[i], mappings[i]});
  std::vector<mapping_config> canonical;
  auto problems = engine_io::validate_mappings(sf, list, &canonical);
  mappings = std::move(canonical);
  return problems;
}

} // namespace admin_detail

// ---------------------------------------------------------------------------
// The service: authentication, the admin pool, and the read-only calls
// ---------------------------------------------------------------------------

namespace {

/// What the client gets for the status a call's work returned: a rejection
/// (reject()) is an OK answer whose reply holds the problems; any other
/// message is bounded in size.
grpc::Status answer(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
      status.error_message() == detail::rejected_in_reply)
    return grpc::Status::OK;
  return detail::bounded(status);
}

/// Runs `body` (which opens its own transaction) and maps database failures to statuses.
grpc::Status guarded(const std::function<grpc::Status()>& body) {
  try {
    return body();
  } catch (const pqxx::unique_violation&) {
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "it was created meanwhile by another call; look again");
  } catch (const pqxx::undefined_table&) {
    // A node answers gRPC before its first migration of the control schema is done.
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the node is still starting (its control schema is not ready); try again in a moment");
  } catch (const std::exception& e) {
    switch (store::classify_db_error(e)) {
      case store::db_failure::unavailable:
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the database is not reachable; try again");
      case store::db_failure::conflict:
        return grpc::Status(grpc::StatusCode::ABORTED, "a concurrent change got in the way; try again");
      case store::db_failure::permanent:
        break;
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, e.what());
  }
}

} // namespace

admin_service::admin_service(caf::actor_system& sys, admin_settings settings)
  : sys_(sys), settings_(std::move(settings)), calls_(sys, settings_.max_calls, settings_.max_queued_calls),
    long_calls_(sys, settings_.max_long_calls, 0) {
  if (!settings_.secrets.env || !settings_.secrets.file)
    settings_.secrets = actors::system_secret_lookup();
}

grpc::Status admin_service::authenticate(const grpc::CallbackServerContext* ctx, std::string& actor) const {
  if (settings_.tokens.empty())
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the admin API is off on this node: start it with --admin-token-file or "
                        "SYNCFORCE_ADMIN_TOKEN");
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end())
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "no token: send 'authorization: Bearer <token>' (syncforce: --token-file or SYNCFORCE_TOKEN)");
  std::string value(it->second.data(), it->second.size());
  const std::string prefix = "Bearer ";
  std::optional<std::string> name;
  if (value.compare(0, prefix.size(), prefix) == 0)
    name = token_name(settings_.tokens, std::string_view{value}.substr(prefix.size()));
  if (!name)
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the token is not valid for this cluster");
  actor = std::move(*name);
  return grpc::Status::OK;
}

void admin_service::submit(call_pool& pool, const char* name, grpc::ServerUnaryReactor* reactor,
                           std::function<grpc::Status()> work) {
  auto status = std::make_shared<grpc::Status>();
  call_pool::call c;
  c.name = name;
  // guarded() turns every std::exception into a status: run does not throw.
  c.run = [status, work = std::move(work)] { *status = answer(guarded(work)); };
  c.finish = [reactor, status] { reactor->Finish(*status); };
  c.dropped = [reactor, node = settings_.node_name] {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "node " + node + " stopped before the call ran"));
  };
  if (!pool.submit(std::move(c)))
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "node " + settings_.node_name + " is already running " +
                                   std::to_string(pool.workers()) + " admin calls with " +
                                   std::to_string(pool.capacity() - pool.workers()) +
                                   " more waiting; try again in a moment"));
}

grpc::ServerUnaryReactor* admin_service::read_call(grpc::CallbackServerContext* ctx, read_work work) {
  auto* reactor = ctx->DefaultReactor();
  std::string actor;
  if (auto auth = authenticate(ctx, actor); !auth.ok()) {
    reactor->Finish(detail::bounded(auth));
    return reactor;
  }
  submit(calls_, "admin read", reactor, [url = settings_.database_url, work = std::move(work)] {
    // The connection is the call's own and closed before the answer goes out.
    pqxx::connection conn(url);
    pqxx::read_transaction tx(conn);
    return work(tx);
  });
  return reactor;
}

grpc::ServerUnaryReactor* admin_service::write_call(grpc::CallbackServerContext* ctx, write_work work) {
  auto* reactor = ctx->DefaultReactor();
  std::string actor;
  if (auto auth = authenticate(ctx, actor); !auth.ok()) {
    reactor->Finish(detail::bounded(auth));
    return reactor;
  }
  submit(calls_, "admin write", reactor, [url = settings_.database_url, actor, work = std::move(work)] {
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    auto status = work(tx, actor);
    if (status.ok())
      tx.commit(); // a rejection is not OK here: nothing is committed
    return status;
  });
  return reactor;
}

grpc::ServerUnaryReactor* admin_service::long_call(grpc::CallbackServerContext* ctx, long_work work) {
  auto* reactor = ctx->DefaultReactor();
  std::string actor;
  if (auto auth = authenticate(ctx, actor); !auth.ok()) {
    reactor->Finish(detail::bounded(auth));
    return reactor;
  }
  submit(long_calls_, "admin long call", reactor, [actor, work = std::move(work)] { return work(actor); });
  return reactor;
}

grpc::ServerUnaryReactor* admin_service::GetState(grpc::CallbackServerContext* ctx,
                                                  const syncforce::v1::GetStateRequest* req,
                                                  syncforce::v1::State* reply) {
  reply->mutable_node()->set_name(settings_.node_name);
  if (settings_.node_failure)
    reply->mutable_node()->set_failure(settings_.node_failure());
  return read_call(ctx, [req, reply](pqxx::transaction_base& tx) {
    std::vector<store::connection_row> connections;
    if (auto lookup = detail::select_connections(tx, req->connection(), connections); !lookup.ok())
      return lookup;
    for (const auto& c : connections)
      detail::fill_connection(tx, c, *reply->add_connections());
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::GetWriteErrors(grpc::CallbackServerContext* ctx,
                                                        const syncforce::v1::GetWriteErrorsRequest* req,
                                                        syncforce::v1::WriteErrors* reply) {
  return read_call(ctx, [name = req->connection(), object = req->object_name(), reply](pqxx::transaction_base& tx) {
    std::vector<store::connection_row> connections;
    if (auto lookup = detail::select_connections(tx, name, connections); !lookup.ok())
      return lookup;
    bool found = object.empty();
    for (const auto& c : connections) {
      for (const auto& m : store::load_mappings(tx, c.id)) {
        if (!object.empty() && !iequals(m.object_name, object))
          continue;
        found = true;
        for (const auto& w : store::recent_failed_writes(tx, c.schema_name, m.config.table_name())) {
          auto* e = reply->add_errors();
          e->set_id(w.id);
          e->set_connection(c.name);
          e->set_object_name(m.object_name);
          e->set_action(w.action);
          e->set_record_id(w.record_id);
          e->set_sfid(w.sfid);
          e->set_message(w.message);
          e->set_processed_at(w.processed_at);
        }
      }
    }
    if (!found)
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "no mapping of " + object + (name.empty() ? std::string{} : " in connection " + name));
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::GetReadErrors(grpc::CallbackServerContext* ctx,
                                                       const syncforce::v1::GetReadErrorsRequest* req,
                                                       syncforce::v1::ReadErrors* reply) {
  return read_call(ctx, [name = req->connection(), object = req->object_name(), reply](pqxx::transaction_base& tx) {
    std::vector<store::connection_row> connections;
    if (auto lookup = detail::select_connections(tx, name, connections); !lookup.ok())
      return lookup;
    bool found = object.empty();
    for (const auto& c : connections) {
      for (const auto& m : store::load_mappings(tx, c.id))
        found = found || iequals(m.object_name, object);
      auto rows = store::list_read_errors(tx, c.id, object.empty() ? std::nullopt : std::optional<std::string>{object});
      for (const auto& r : rows) {
        auto* e = reply->add_errors();
        e->set_connection(c.name);
        e->set_object_name(r.object_name);
        e->set_sfid(r.sfid);
        e->set_field(r.field);
        e->set_error(r.error);
        e->set_value_excerpt(r.excerpt);
        e->set_operation(r.operation);
        e->set_first_seen(r.first_seen);
        e->set_last_seen(r.last_seen);
        e->set_count(r.count);
      }
    }
    if (!found)
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "no mapping of " + object + (name.empty() ? std::string{} : " in connection " + name));
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::ExportConfiguration(grpc::CallbackServerContext* ctx,
                                                             const syncforce::v1::ExportConfigurationRequest* req,
                                                             syncforce::v1::ExportedConfiguration* reply) {
  return read_call(ctx, [req, reply](pqxx::transaction_base& tx) {
    store::connection_row c;
    if (auto lookup = detail::find_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    config_document doc;
    connection_config cc;
    // Heroku Connect's shape (reference section 8): app_name, exported_at as
    // `+00:00` with microseconds (Python <= 3.10 fromisoformat refuses `Z`),
    // logplex_log_enabled (a node always writes its log stream).
    cc.app_name = c.name;
    cc.name = c.name;
    cc.organization_id = c.organization_id;
    cc.api_version = c.api_version;
    cc.features = c.features;
    cc.exported_at = store::export_timestamp(tx);
    cc.logplex_log_enabled = true;
    doc.connection = cc;
    for (auto& m : store::load_mappings(tx, c.id)) {
      // applied_at: when the configuration was last set (created, edited, imported).
      auto applied = store::mapping_applied_at(tx, m.id);
      doc.mappings.push_back(export_mapping(std::move(m.config), applied));
    }
    reply->set_json(serialize_config(doc));
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::Diagnose(grpc::CallbackServerContext* ctx,
                                                  const syncforce::v1::DiagnoseRequest* req,
                                                  syncforce::v1::DiagnoseReport* reply) {
  std::string node_failure = settings_.node_failure ? settings_.node_failure() : std::string{};
  return read_call(ctx, [req, reply, secrets = settings_.secrets, node_failure,
                         node = settings_.node_name](pqxx::transaction_base& tx) {
    store::connection_row c;
    if (auto lookup = detail::find_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    std::string object = req->object_name();
    if (!object.empty()) {
      store::mapping_row m;
      if (auto found = detail::find_mapping(tx, c, object, m); !found.ok())
        return found;
      object = m.object_name;
    }
    syncforce::v1::DiagnoseReport all;
    append_node_health(all, node, node_failure);
    run_diagnose(tx, c, object, secrets, all);
    for (const auto& r : all.results()) {
      if (req->verbose() || (r.status() != "PASS" && r.status() != "SKIP"))
        *reply->add_results() = r;
    }
    reply->set_errors(all.errors());
    reply->set_warnings(all.warnings());
    reply->set_passes(all.passes());
    reply->set_skips(all.skips());
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::GetAuditLog(grpc::CallbackServerContext* ctx,
                                                     const syncforce::v1::GetAuditLogRequest* req,
                                                     syncforce::v1::AuditLog* reply) {
  return read_call(ctx, [req, reply](pqxx::transaction_base& tx) {
    if (req->limit() < 0)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the limit must be positive (0: 1,000)");
    if (!req->since().empty() && !is_utc_timestamp(req->since()))
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "since '" + req->since() + "' is not a UTC time like 2026-01-31T12:00:00Z (or 2026-01-31)");
    const int limit = req->limit() == 0 ? 1000 : req->limit();
    std::optional<std::string> since;
    if (!req->since().empty())
      since = req->since();
    // JSON shown compact (as stored when it does not parse).
    auto compact = [](const std::string& stored) {
      if (stored.empty())
        return std::string{};
      auto j = nlohmann::json::parse(stored, nullptr, false);
      return j.is_discarded() ? stored : j.dump();
    };
    for (const auto& a : store::audit_entries(tx, since, limit)) {
      auto* e = reply->add_entries();
      e->set_id(a.id);
      e->set_at(a.at);
      e->set_actor(a.actor);
      e->set_action(a.action);
      e->set_object_type(a.object_type);
      e->set_object_id(a.object_id);
      e->set_before_json(compact(a.before_json));
      e->set_after_json(compact(a.after_json));
      e->set_connection(a.connection_name);
      e->set_object_name(a.object_name);
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::ListNodes(grpc::CallbackServerContext* ctx,
                                                   const syncforce::v1::ListNodesRequest*,
                                                   syncforce::v1::ClusterNodes* reply) {
  reply->set_answered_by(settings_.node_name);
  return read_call(ctx, [reply](pqxx::transaction_base& tx) {
    auto view = store::read_cluster(tx);
    std::map<std::pair<std::string, std::string>, const store::unit_row*> units;
    for (const auto& u : view.units)
      units[{u.kind, u.key}] = &u;
    std::map<std::string, syncforce::v1::ClusterNode*> nodes;
    for (const auto& n : view.nodes) {
      auto* out = reply->add_nodes();
      out->set_name(n.info.name);
      out->set_address(n.info.address);
      out->set_version(n.info.version);
      out->set_started_at(n.started_at);
      out->set_heartbeat_age_seconds(n.heartbeat_age_seconds);
      out->set_live(n.live);
      out->set_incarnation(n.incarnation);
      if (n.live)
        nodes[n.info.name] = out;
    }
    std::set<std::pair<std::string, std::string>> held;
    for (const auto& l : view.leases) {
      auto u = units.find({l.kind, l.key});
      if (u == units.end())
        continue; // a lease of a unit that is gone (pruned soon)
      syncforce::v1::ClusterUnit cu;
      cu.set_kind(l.kind);
      cu.set_key(l.key);
      cu.set_label(u->second->label);
      cu.set_connection_id(u->second->connection_id);
      cu.set_epoch(l.epoch);
      cu.set_held_seconds(l.held_seconds);
      cu.set_moves(l.moves);
      auto n = l.owner ? nodes.find(*l.owner) : nodes.end();
      if (n == nodes.end())
        continue;
      *n->second->add_units() = cu;
      held.insert({l.kind, l.key});
    }
    for (const auto& u : view.units) {
      if (held.count({u.kind, u.key}))
        continue;
      auto* cu = reply->add_unassigned();
      cu->set_kind(u.kind);
      cu->set_key(u.key);
      cu->set_label(u.label);
      cu->set_connection_id(u.connection_id);
    }
    return grpc::Status::OK;
  });
}

} // namespace syncforce::services
