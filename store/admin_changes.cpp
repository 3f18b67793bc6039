#include "store/admin_changes.hpp"

#include "store/hc_schema.hpp"

namespace syncforce::store {

namespace {

std::optional<std::string> null_if_empty(const std::string& s) {
  if (s.empty())
    return std::nullopt;
  return s;
}

std::string bigint_array(const std::vector<std::int64_t>& ids) {
  std::string list = "{";
  for (std::size_t i = 0; i < ids.size(); ++i)
    list += (i == 0 ? "" : ",") + std::to_string(ids[i]);
  return list + "}";
}

std::string archive_of(pqxx::transaction_base& tx, const std::string& schema) {
  return tx.quote_name(schema) + "._trigger_log_archive";
}

} // namespace

std::string insert_connection(pqxx::transaction_base& tx, const connection_row& c, const std::string& features_json) {
  return tx
    .exec_params1("INSERT INTO syncforce.connections (name, schema_name, state, login_url, auth_method, "
                  "username, secret_ref, client_id, client_secret_ref, api_version, organization_id, "
                  "features) VALUES ($1, $2, 'NEW', $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb) RETURNING id",
                  c.name, c.schema_name, c.login.login_url, c.login.auth, c.login.username, c.login.secret_ref,
                  null_if_empty(c.login.client_id), null_if_empty(c.login.client_secret_ref), c.api_version,
                  c.organization_id, features_json)[0]
    .as<std::string>();
}

void update_connection_login(pqxx::transaction_base& tx, const connection_row& c) {
  tx.exec_params("UPDATE syncforce.connections SET login_url = $2, username = $3, auth_method = $4, secret_ref = $5, "
                 "client_id = $6, client_secret_ref = $7, organization_id = $8, updated_at = now() WHERE id = $1",
                 c.id, c.login.login_url, c.login.username, c.login.auth, c.login.secret_ref,
                 null_if_empty(c.login.client_id), null_if_empty(c.login.client_secret_ref), c.organization_id);
}

void set_connection_api_version(pqxx::transaction_base& tx, const std::string& connection_id,
                                const std::string& api_version) {
  tx.exec_params("UPDATE syncforce.connections SET api_version = $2, updated_at = now() WHERE id = $1", connection_id,
                 api_version);
}

void set_connection_version_and_features(pqxx::transaction_base& tx, const std::string& connection_id,
                                         const std::string& api_version, const std::string& features_json) {
  tx.exec_params("UPDATE syncforce.connections SET api_version = $2, features = $3::jsonb, updated_at = now() "
                 "WHERE id = $1",
                 connection_id, api_version, features_json);
}

void move_connection_schema(pqxx::transaction_base& tx, const std::string& connection_id, const std::string& schema,
                            const std::string& description) {
  tx.exec_params("UPDATE syncforce.connections SET schema_name = $2, updated_at = now() WHERE id = $1", connection_id,
                 schema);
  tx.exec_params("DELETE FROM syncforce.load_checkpoints WHERE mapping_id IN "
                 "(SELECT id FROM syncforce.mappings WHERE connection_id = $1)",
                 connection_id);
  tx.exec_params("UPDATE syncforce.mappings SET state = 'INITIAL', state_description = $2, high_water_mark = NULL, "
                 "command = NULL, command_at = NULL, updated_at = now() WHERE connection_id = $1",
                 connection_id, description);
}

std::optional<std::string> running_cutover_of(pqxx::transaction_base& tx, const std::string& connection_id) {
  auto r = tx.exec_params("SELECT id FROM syncforce.cutovers WHERE status = 'running' AND "
                          "$1 IN (source_connection_id, target_connection_id)",
                          connection_id);
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

std::optional<std::string> live_node_address(pqxx::transaction_base& tx, const std::string& node) {
  auto r = tx.exec_params("SELECT grpc_address FROM syncforce.nodes WHERE name = $1 AND expires_at > clock_timestamp()",
                          node);
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

std::vector<user_mapping> mappings_of_user(pqxx::transaction_base& tx, const std::string& login_url,
                                           const std::string& username) {
  std::vector<user_mapping> out;
  for (const auto& r : tx.exec_params("SELECT m.id::text, m.object_name, c.name FROM syncforce.mappings m "
                                      "JOIN syncforce.connections c ON c.id = m.connection_id "
                                      "WHERE c.login_url = $1 AND c.username = $2",
                                      login_url, username))
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>()});
  return out;
}

std::string insert_mapping(pqxx::transaction_base& tx, const std::string& connection_id,
                           const std::string& object_name, const std::string& config_json) {
  return tx
    .exec_params1("INSERT INTO syncforce.mappings (connection_id, object_name, config) "
                  "VALUES ($1, $2, $3::jsonb) RETURNING id",
                  connection_id, object_name, config_json)[0]
    .as<std::string>();
}

void update_mapping_config(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& config_json,
                           const std::string& object_name) {
  tx.exec_params("UPDATE syncforce.mappings SET config = $2::jsonb, revision = revision + 1, updated_at = now(), "
                 "object_name = CASE WHEN lower(object_name) = lower($3) THEN $3 ELSE object_name END WHERE id = $1",
                 mapping_id, config_json, object_name);
}

void set_mapping_command(pqxx::transaction_base& tx, const std::string& mapping_id,
                         const std::optional<std::string>& command) {
  tx.exec_params("UPDATE syncforce.mappings SET command = $2, command_at = CASE WHEN $2::text IS NULL THEN NULL "
                 "ELSE now() END WHERE id = $1",
                 mapping_id, command);
}

long drop_unsent_changes(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  const auto log = qualified_name(tx, schema, "_trigger_log");
  if (tx.exec_params1("SELECT to_regclass($1) IS NULL", log)[0].as<bool>())
    return 0;
  return static_cast<long>(
    tx.exec_params("DELETE FROM " + log + " WHERE table_name = $1 AND state IN ('NEW', 'PENDING')", table)
      .affected_rows());
}

void delete_mapping_row(pqxx::transaction_base& tx, const std::string& mapping_id) {
  tx.exec_params("DELETE FROM syncforce.mappings WHERE id = $1", mapping_id);
}

bool has_trigger_log_archive(pqxx::transaction_base& tx, const std::string& schema) {
  return !tx.exec_params1("SELECT to_regclass($1) IS NULL", archive_of(tx, schema))[0].as<bool>();
}

std::vector<std::int64_t> failed_writes_among(pqxx::transaction_base& tx, const std::string& schema,
                                              const std::string& table, const std::vector<std::int64_t>& ids) {
  std::vector<std::int64_t> out;
  for (const auto& r : tx.exec_params("SELECT id FROM " + archive_of(tx, schema) +
                                        " WHERE id = ANY($1::bigint[]) AND state = 'FAILED' AND table_name = $2",
                                      bigint_array(ids), table))
    out.push_back(r[0].as<std::int64_t>());
  return out;
}

void set_archive_state(pqxx::transaction_base& tx, const std::string& schema, const std::vector<std::int64_t>& ids,
                       const std::string& state) {
  tx.exec_params("UPDATE " + archive_of(tx, schema) + " SET state = $2, updated_at = now() WHERE id = ANY($1::bigint[])",
                 bigint_array(ids), state);
}

} // namespace syncforce::store
