// The admin API's connection calls: create, schema, credentials, API version,
// pause, resume and recover. One write transaction each, with its audit row
// and the NOTIFY that wakes the connection's node.

#include "services/admin_detail.hpp"
#include "services/admin_service.hpp"
#include "store/admin_changes.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace syncforce::services {

namespace detail = admin_detail;

namespace {

/// The connection (locked against concurrent admin changes) named `name`.
grpc::Status locked_connection(pqxx::transaction_base& tx, const std::string& name, store::connection_row& c) {
  if (auto lookup = detail::find_connection(tx, name, c); !lookup.ok())
    return lookup;
  detail::lock_connection(tx, c.id);
  return grpc::Status::OK;
}

/// After a change of connection `id`: the audit row (before -> stored), the NOTIFY, the reply.
grpc::Status finish_change(pqxx::transaction_base& tx, const std::string& actor, const std::string& action,
                           const std::string& id, const std::string& before, syncforce::v1::ConnectionState& reply) {
  auto stored = detail::reload_connection(tx, id);
  detail::audit_and_notify(tx, actor, action, stored, nullptr, before, detail::connection_json(stored));
  detail::fill_connection(tx, stored, reply);
  return grpc::Status::OK;
}


std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  return url;
}

/// Problems of a connection's login settings, all at once, including what the
/// node's secret policy refuses (checked before any secret is read or sent).
void check_login(const salesforce_login& l, const secret_policy& policy, std::vector<config_problem>& problems) {
  auto policy_check = [&](const std::string& path, const std::string& value, auto refuse) {
    for (const auto& p : problems)
      if (p.path == path)
        return; // already wrong in form
    if (value.empty())
      return;
    if (auto why = refuse(value, policy))
      problems.push_back({path, *why});
  };
  check_login_url("login_url", l.login_url, problems);
  check_username("username", l.username, problems);
  check_auth_method("auth_method", l.auth, problems);
  check_secret_ref("secret_ref", l.secret_ref, true, problems);
  check_secret_ref("client_secret_ref", l.client_secret_ref, false, problems);
  policy_check("login_url", l.login_url, refuse_login_url);
  policy_check("secret_ref", l.secret_ref, refuse_secret_ref);
  policy_check("client_secret_ref", l.client_secret_ref, refuse_secret_ref);
  if (l.auth == "jwt" && l.client_id.empty())
    problems.push_back({"client_id", "is required for jwt (the connected app's consumer key)"});
}

/// Another connection already using `schema`, if any.
std::optional<std::string> schema_user(pqxx::transaction_base& tx, const std::string& schema,
                                       const std::string& except_id) {
  for (const auto& c : store::load_connections(tx))
    if (c.schema_name == schema && c.id != except_id)
      return c.name;
  return std::nullopt;
}

} // namespace

grpc::ServerUnaryReactor* admin_service::CreateConnection(grpc::CallbackServerContext* ctx,
                                                          const syncforce::v1::CreateConnectionRequest* req,
                                                          syncforce::v1::ConnectionState* reply) {
  return write_call(ctx, [req, reply, secrets = settings_.secrets](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    c.name = req->name();
    c.schema_name = req->schema_name().empty() ? "salesforce" : req->schema_name();
    c.api_version = req->api_version().empty() ? "60.0" : req->api_version();
    c.state = "NEW";
    c.login.login_url = without_trailing_slash(req->login_url());
    c.login.username = req->username();
    c.login.auth = req->auth_method().empty() ? "password" : req->auth_method();
    c.login.secret_ref = req->secret_ref();
    c.login.client_id = req->client_id();
    c.login.client_secret_ref = req->client_secret_ref();
    std::vector<config_problem> problems;
    check_connection_name("name", c.name, problems);
    check_schema_name("schema_name", c.schema_name, problems);
    check_api_version("api_version", c.api_version, problems);
    check_login(c.login, secrets.policy, problems);
    apply_features("features", std::map<std::string, bool>(req->features().begin(), req->features().end()),
                   c.features, problems);
    for (const auto& other : store::load_connections(tx))
      if (other.name == c.name)
        return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "a connection named " + c.name + " already exists");
    if (problems.empty())
      if (auto user = schema_user(tx, c.schema_name, ""))
        problems.push_back({"schema_name", "schema " + c.schema_name + " is used by connection " + *user +
                                             "; each connection needs its own schema"});
    if (!problems.empty())
      return detail::reject(problems, "no connection was created", *reply);
    std::unique_ptr<salesforce::client> sf;
    if (auto login = detail::salesforce_login(c, secrets, sf); !login.ok())
      return login;
    if (auto offered = detail::check_version_offered(*sf, c.api_version); !offered.ok())
      return offered;
    if (!sf->current_session().org_id.empty())
      c.organization_id = sf->current_session().org_id;
    // A plain INSERT: a concurrent create of the same name fails on the unique name (ALREADY_EXISTS).
    c.id = store::insert_connection(tx, c, detail::features_json(c.features));
    return finish_change(tx, actor, "connection.create", c.id, "", *reply);
  });
}

grpc::ServerUnaryReactor* admin_service::SetDatabase(grpc::CallbackServerContext* ctx,
                                                     const syncforce::v1::SetDatabaseRequest* req,
                                                     syncforce::v1::ConnectionState* reply) {
  return write_call(ctx, [req, reply](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    if (auto lookup = locked_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    std::vector<config_problem> problems;
    check_schema_name("schema_name", req->schema_name(), problems);
    if (problems.empty())
      if (auto user = schema_user(tx, req->schema_name(), c.id))
        problems.push_back({"schema_name", "schema " + req->schema_name() + " is used by connection " + *user +
                                             "; each connection needs its own schema"});
    if (!problems.empty())
      return detail::reject(problems, "nothing was changed", *reply);
    if (req->schema_name() == c.schema_name)
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "connection " + c.name + " already uses schema " + c.schema_name);
    const auto before = detail::connection_json(c);
    const auto old_schema = c.schema_name;
    // The mappings load again into the new schema; the old tables stay where they are.
    store::move_connection_schema(tx, c.id, req->schema_name(),
                                  "loading into schema " + req->schema_name() + "; the old tables in schema " +
                                    old_schema + " are left in place (drop them when you no longer need them)");
    return finish_change(tx, actor, "connection.set_database", c.id, before, *reply);
  });
}

grpc::ServerUnaryReactor* admin_service::SetAuth(grpc::CallbackServerContext* ctx,
                                                 const syncforce::v1::SetAuthRequest* req,
                                                 syncforce::v1::ConnectionState* reply) {
  return write_call(ctx, [req, reply, secrets = settings_.secrets](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    if (auto lookup = locked_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    const auto before = detail::connection_json(c);
    auto next = c;
    auto take = [](std::string& field, const std::string& value) {
      if (!value.empty())
        field = value;
    };
    take(next.login.login_url, without_trailing_slash(req->login_url()));
    take(next.login.username, req->username());
    take(next.login.auth, req->auth_method());
    take(next.login.secret_ref, req->secret_ref());
    take(next.login.client_id, req->client_id());
    take(next.login.client_secret_ref, req->client_secret_ref());
    std::vector<config_problem> problems;
    check_login(next.login, secrets.policy, problems);
    if (!problems.empty())
      return detail::reject(problems, "nothing was changed", *reply);
    if (detail::connection_json(next) == before) {
      // The same settings again: nothing to check, change or record.
      detail::fill_connection(tx, c, *reply);
      return grpc::Status::OK;
    }
    std::unique_ptr<salesforce::client> sf;
    if (auto login = detail::salesforce_login(next, secrets, sf); !login.ok())
      return login;
    const auto& org = sf->current_session().org_id;
    if (!org.empty() && c.organization_id && !c.organization_id->empty() && *c.organization_id != org)
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "these credentials log in to org " + org + ", but connection " + c.name + " syncs org " +
                            *c.organization_id + "; create a new connection for another org");
    if (!org.empty())
      next.organization_id = org;
    store::update_connection_login(tx, next);
    return finish_change(tx, actor, "connection.set_auth", c.id, before, *reply);
  });
}

grpc::ServerUnaryReactor* admin_service::SetApiVersion(grpc::CallbackServerContext* ctx,
                                                       const syncforce::v1::SetApiVersionRequest* req,
                                                       syncforce::v1::ConnectionState* reply) {
  return write_call(ctx, [req, reply, secrets = settings_.secrets](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    if (auto lookup = locked_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    std::vector<config_problem> problems;
    check_api_version("target_version", req->target_version(), problems);
    if (!problems.empty())
      return detail::reject(problems, "nothing was changed", *reply);
    if (req->target_version() == c.api_version)
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "connection " + c.name + " already uses API version " + c.api_version);
    std::unique_ptr<salesforce::client> sf;
    if (auto login = detail::salesforce_login(c, secrets, sf); !login.ok())
      return login;
    if (auto offered = detail::check_version_offered(*sf, req->target_version()); !offered.ok())
      return offered;
    const auto before = detail::connection_json(c);
    store::set_connection_api_version(tx, c.id, req->target_version());
    return finish_change(tx, actor, "connection.set_api_version", c.id, before, *reply);
  });
}

namespace {

/// Pause and Resume: the same steps, another check and state.
grpc::Status set_pause_state(pqxx::work& tx, const std::string& actor, const std::string& connection,
                             bool pause, syncforce::v1::ConnectionState& reply) {
  store::connection_row c;
  if (auto lookup = locked_connection(tx, connection, c); !lookup.ok())
    return lookup;
  c = detail::reload_connection(tx, c.id);
  auto state = effective_connection_state(c.state, detail::activities_of(store::load_mappings(tx, c.id)));
  if (auto refusal = pause ? pause_refusal(c.name, state) : resume_refusal(c.name, state))
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, *refusal);
  // A running cutover pauses and resumes both its connections itself (docs/schema-swap.md).
  if (auto cutover = store::running_cutover_of(tx, c.id))
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "cutover " + *cutover + " of " + c.name +
                          " is running; it pauses and resumes the connection itself (rolled back or done, "
                          "the connection is as before)");
  const auto before = detail::connection_json(c);
  store::set_connection_state(tx, c.id, pause ? "PAUSED" : "IDLE");
  return finish_change(tx, actor, pause ? "connection.pause" : "connection.resume", c.id, before, reply);
}

} // namespace

grpc::ServerUnaryReactor* admin_service::Pause(grpc::CallbackServerContext* ctx,
                                               const syncforce::v1::ConnectionActionRequest* req,
                                               syncforce::v1::ConnectionState* reply) {
  return write_call(ctx, [req, reply](pqxx::work& tx, const std::string& actor) {
    return set_pause_state(tx, actor, req->connection(), true, *reply);
  });
}

grpc::ServerUnaryReactor* admin_service::Resume(grpc::CallbackServerContext* ctx,
                                                const syncforce::v1::ConnectionActionRequest* req,
                                                syncforce::v1::ConnectionState* reply) {
  return write_call(ctx, [req, reply](pqxx::work& tx, const std::string& actor) {
    return set_pause_state(tx, actor, req->connection(), false, *reply);
  });
}

grpc::ServerUnaryReactor* admin_service::Recover(grpc::CallbackServerContext* ctx,
                                                 const syncforce::v1::ConnectionActionRequest* req,
                                                 syncforce::v1::ConnectionState* reply) {
  return write_call(ctx, [req, reply](pqxx::work& tx, const std::string& actor) {
    store::connection_row c;
    if (auto lookup = locked_connection(tx, req->connection(), c); !lookup.ok())
      return lookup;
    c = detail::reload_connection(tx, c.id);
    auto mappings = store::load_mappings(tx, c.id);
    auto plan = plan_recover(c.state, detail::activities_of(mappings));
    if (plan.empty()) {
      // Nothing in error: nothing to do, and nothing to record.
      detail::fill_connection(tx, c, *reply);
      return grpc::Status::OK;
    }
    nlohmann::json before{{"state", c.state}};
    nlohmann::json after{{"state", plan.reset_connection ? std::string{"IDLE"} : c.state}};
    nlohmann::json recovered = nlohmann::json::array();
    nlohmann::json states = nlohmann::json::object();
    if (plan.reset_connection)
      store::set_connection_state(tx, c.id, "IDLE");
    for (const auto& m : mappings) {
      if (std::find(plan.mappings.begin(), plan.mappings.end(), m.object_name) == plan.mappings.end())
        continue;
      states[m.object_name] = m.state;
      recovered.push_back(m.object_name);
      store::set_mapping_command(tx, m.id, std::string{"recover"});
    }
    before["mappings"] = states;
    after["recovering"] = recovered;
    auto stored = detail::reload_connection(tx, c.id);
    detail::audit_and_notify(tx, actor, "connection.recover", stored, nullptr, before.dump(), after.dump());
    detail::fill_connection(tx, stored, *reply);
    return grpc::Status::OK;
  });
}

} // namespace syncforce::services
