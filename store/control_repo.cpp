#include "store/control_repo.hpp"

#include <nlohmann/json.hpp>

namespace syncforce::store {

namespace {

std::string features_json(const engine_connection& c) {
  connection_features f;
  if (c.document.connection && c.document.connection->features)
    f = *c.document.connection->features;
  nlohmann::json j{{"disable_bulk_writes", f.disable_bulk_writes}, {"poll_db_no_merge", f.poll_db_no_merge},
                   {"poll_external_ids", f.poll_external_ids},     {"rest_count_only", f.rest_count_only},
                   {"ucs_basic_collation_index", f.ucs_basic_collation_index}};
  return j.dump();
}

connection_features parse_features(const std::string& text) {
  connection_features f;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object())
    return f;
  f.disable_bulk_writes = j.value("disable_bulk_writes", false);
  f.poll_db_no_merge = j.value("poll_db_no_merge", false);
  f.poll_external_ids = j.value("poll_external_ids", false);
  f.rest_count_only = j.value("rest_count_only", false);
  f.ucs_basic_collation_index = j.value("ucs_basic_collation_index", false);
  return f;
}

std::optional<std::string> opt(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<std::string>();
}

/// The stored mapping config back into a mapping_config.
mapping_config parse_stored_mapping(const std::string& object_name, const std::string& config_json) {
  auto doc = nlohmann::json{{"object_name", object_name}, {"config", nlohmann::json::parse(config_json)}};
  auto parsed = parse_mapping(doc.dump());
  if (!parsed.document || parsed.document->mappings.empty())
    throw std::runtime_error("stored mapping " + object_name + " is invalid: " + parsed.error_text());
  return parsed.document->mappings.front();
}

std::string stored_config_json(const mapping_config& m) {
  auto j = nlohmann::json::parse(serialize_mapping(m, -1));
  return j["config"].dump();
}

const char* mapping_columns = "id, connection_id, object_name, config::text, revision, state, state_description, "
                              "to_char(high_water_mark AT TIME ZONE 'UTC', "
                              "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), command, high_water_id";

mapping_row mapping_of(const pqxx::row& r) {
  mapping_row m;
  m.id = r[0].as<std::string>();
  m.connection_id = r[1].as<std::string>();
  m.object_name = r[2].as<std::string>();
  m.config = parse_stored_mapping(m.object_name, r[3].as<std::string>());
  m.revision = r[4].as<int>();
  m.state = r[5].as<std::string>();
  m.state_description = r[6].as<std::string>();
  m.high_water_mark = opt(r[7]);
  m.command = opt(r[8]);
  m.high_water_id = opt(r[9]);
  return m;
}

} // namespace

import_report import_engine_config(pqxx::transaction_base& tx, const engine_config& cfg) {
  import_report report;
  for (const auto& c : cfg.connections) {
    const auto& l = c.login;
    std::optional<std::string> org_id;
    if (c.document.connection)
      org_id = c.document.connection->organization_id;
    auto org = org_id ? tx.quote(*org_id) : std::string{"NULL"};
    auto client_id = l.client_id.empty() ? std::string{"NULL"} : tx.quote(l.client_id);
    auto client_secret = l.client_secret_ref.empty() ? std::string{"NULL"} : tx.quote(l.client_secret_ref);
    auto r = tx.exec1(
      "INSERT INTO syncforce.connections AS c (name, schema_name, login_url, auth_method, username, secret_ref, "
      "client_id, client_secret_ref, api_version, organization_id, features) VALUES (" +
      tx.quote(c.name) + ", " + tx.quote(c.schema) + ", " + tx.quote(l.login_url) + ", " + tx.quote(l.auth) + ", " +
      tx.quote(l.username) + ", " + tx.quote(l.secret_ref) + ", " + client_id + ", " + client_secret + ", " +
      tx.quote(c.api_version) + ", " + org + ", " + tx.quote(features_json(c)) +
      "::jsonb) ON CONFLICT (name) DO UPDATE SET schema_name = EXCLUDED.schema_name, login_url = "
      "EXCLUDED.login_url, auth_method = EXCLUDED.auth_method, username = EXCLUDED.username, secret_ref = "
      "EXCLUDED.secret_ref, client_id = EXCLUDED.client_id, client_secret_ref = EXCLUDED.client_secret_ref, "
      "api_version = EXCLUDED.api_version, organization_id = COALESCE(EXCLUDED.organization_id, "
      "c.organization_id), features = EXCLUDED.features, updated_at = CASE WHEN (c.schema_name, c.login_url, "
      "c.auth_method, c.username, c.secret_ref, c.client_id, c.client_secret_ref, c.api_version, c.features) IS "
      "DISTINCT FROM (EXCLUDED.schema_name, EXCLUDED.login_url, EXCLUDED.auth_method, EXCLUDED.username, "
      "EXCLUDED.secret_ref, EXCLUDED.client_id, EXCLUDED.client_secret_ref, EXCLUDED.api_version, "
      "EXCLUDED.features) THEN now() ELSE c.updated_at END RETURNING id, (xmax = 0)");
    auto conn_id = r[0].as<std::string>();
    if (r[1].as<bool>())
      ++report.connections_created;
    report.connection_ids.push_back(conn_id);
    for (const auto& m : c.document.mappings) {
      auto config = stored_config_json(m);
      // Object names are case-insensitive in Salesforce: `contact` in the file is the
      // mapping stored as `Contact` (made with the CLI), never a second mapping of its table.
      auto existing = tx.exec("SELECT config::text, id FROM syncforce.mappings WHERE connection_id = " +
                              tx.quote(conn_id) + " AND lower(object_name) = lower(" + tx.quote(m.object_name) +
                              ") ORDER BY object_name = " + tx.quote(m.object_name) + " DESC LIMIT 1");
      if (existing.empty()) {
        tx.exec0("INSERT INTO syncforce.mappings (connection_id, object_name, config) VALUES (" + tx.quote(conn_id) +
                 ", " + tx.quote(m.object_name) + ", " + tx.quote(config) + "::jsonb)");
        ++report.mappings_created;
        continue;
      }
      auto same = tx.exec1("SELECT " + tx.quote(existing[0][0].as<std::string>()) + "::jsonb = " + tx.quote(config) +
                           "::jsonb")[0]
                    .as<bool>();
      if (same)
        continue;
      tx.exec0("UPDATE syncforce.mappings SET config = " + tx.quote(config) +
               "::jsonb, revision = revision + 1, updated_at = now() WHERE id = " +
               tx.quote(existing[0][1].as<std::string>()));
      ++report.mappings_changed;
    }
  }
  return report;
}

std::vector<connection_row> load_connections(pqxx::transaction_base& tx) {
  std::vector<connection_row> out;
  auto rows = tx.exec("SELECT id, name, schema_name, state, api_version, login_url, auth_method, username, "
                      "secret_ref, client_id, client_secret_ref, features::text, organization_id "
                      "FROM syncforce.connections ORDER BY name");
  for (const auto& r : rows) {
    connection_row c;
    c.id = r[0].as<std::string>();
    c.name = r[1].as<std::string>();
    c.schema_name = r[2].as<std::string>();
    c.state = r[3].as<std::string>();
    c.api_version = r[4].as<std::string>();
    c.login.login_url = r[5].as<std::string>();
    c.login.auth = r[6].as<std::string>();
    c.login.username = r[7].as<std::string>();
    c.login.secret_ref = r[8].as<std::string>();
    c.login.client_id = opt(r[9]).value_or("");
    c.login.client_secret_ref = opt(r[10]).value_or("");
    c.features = parse_features(r[11].as<std::string>());
    c.organization_id = opt(r[12]);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<mapping_row> load_mappings(pqxx::transaction_base& tx, const std::string& connection_id) {
  std::vector<mapping_row> out;
  auto rows = tx.exec(std::string{"SELECT "} + mapping_columns + " FROM syncforce.mappings WHERE connection_id = " +
                      tx.quote(connection_id) + " ORDER BY object_name");
  for (const auto& r : rows)
    out.push_back(mapping_of(r));
  return out;
}

std::optional<mapping_row> load_mapping(pqxx::transaction_base& tx, const std::string& mapping_id) {
  auto rows =
    tx.exec(std::string{"SELECT "} + mapping_columns + " FROM syncforce.mappings WHERE id = " + tx.quote(mapping_id));
  if (rows.empty())
    return std::nullopt;
  return mapping_of(rows[0]);
}

void set_connection_state(pqxx::transaction_base& tx, const std::string& connection_id, const std::string& state) {
  tx.exec0("UPDATE syncforce.connections SET state = " + tx.quote(state) +
           ", updated_at = now() WHERE id = " + tx.quote(connection_id) + " AND state IS DISTINCT FROM " +
           tx.quote(state));
}

std::string set_connection_idle_unless_paused(pqxx::transaction_base& tx, const std::string& connection_id) {
  return tx
    .exec_params1("UPDATE syncforce.connections SET state = CASE WHEN state = 'PAUSED' THEN state "
                  "ELSE 'IDLE' END, updated_at = now() WHERE id = $1 RETURNING state",
                  connection_id)[0]
    .as<std::string>();
}

bool canonicalize_object_name(pqxx::transaction_base& tx, const std::string& mapping_id,
                              const std::string& object_name) {
  auto r = tx.exec_params0("UPDATE syncforce.mappings SET object_name = $2, updated_at = now() WHERE id = $1 "
                           "AND object_name <> $2 AND lower(object_name) = lower($2)",
                           mapping_id, object_name);
  return r.affected_rows() > 0;
}

void set_mapping_state(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& state,
                       const std::string& description) {
  tx.exec0("UPDATE syncforce.mappings SET state = " + tx.quote(state) + ", state_description = " +
           tx.quote(description) + ", updated_at = now() WHERE id = " + tx.quote(mapping_id));
}

void set_high_water_mark(pqxx::transaction_base& tx, const std::string& mapping_id,
                         const std::optional<std::string>& hwm, const std::optional<std::string>& hwm_id) {
  auto value = hwm ? "(" + tx.quote(*hwm) + "::timestamp AT TIME ZONE 'UTC')" : std::string{"NULL"};
  auto id = hwm && hwm_id ? tx.quote(*hwm_id) : std::string{"NULL"};
  tx.exec0("UPDATE syncforce.mappings SET high_water_mark = " + value + ", high_water_id = " + id +
           " WHERE id = " + tx.quote(mapping_id));
}

std::optional<load_checkpoint> load_load_checkpoint(pqxx::transaction_base& tx, const std::string& mapping_id) {
  auto r = tx.exec_params("SELECT method, shape, to_char(start_mark AT TIME ZONE 'UTC', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), expected_rows, rows_loaded, last_id, "
                          "bulk_job_id, bulk_locator, start_id FROM syncforce.load_checkpoints WHERE mapping_id = $1",
                          mapping_id);
  if (r.empty())
    return std::nullopt;
  const auto& row = r[0];
  load_checkpoint c;
  c.method = row[0].as<std::string>();
  c.shape = row[1].as<std::string>();
  c.start_mark = opt(row[2]);
  c.expected_rows = row[3].as<long>();
  c.rows_loaded = row[4].as<long>();
  c.last_id = opt(row[5]);
  c.bulk_job_id = opt(row[6]);
  c.bulk_locator = opt(row[7]);
  c.start_id = opt(row[8]);
  return c;
}

void save_load_checkpoint(pqxx::transaction_base& tx, const std::string& mapping_id, const load_checkpoint& c) {
  tx.exec_params("INSERT INTO syncforce.load_checkpoints AS c (mapping_id, method, shape, start_mark, "
                 "expected_rows, rows_loaded, last_id, bulk_job_id, bulk_locator, start_id) "
                 "VALUES ($1, $2, $3, $4::timestamp AT TIME ZONE 'UTC', $5, $6, $7, $8, $9, $10) "
                 "ON CONFLICT (mapping_id) DO UPDATE SET method = EXCLUDED.method, shape = EXCLUDED.shape, "
                 "start_mark = EXCLUDED.start_mark, expected_rows = EXCLUDED.expected_rows, "
                 "rows_loaded = EXCLUDED.rows_loaded, last_id = EXCLUDED.last_id, "
                 "bulk_job_id = EXCLUDED.bulk_job_id, bulk_locator = EXCLUDED.bulk_locator, "
                 "start_id = EXCLUDED.start_id, updated_at = now()",
                 mapping_id, c.method, c.shape, c.start_mark, c.expected_rows, c.rows_loaded, c.last_id,
                 c.bulk_job_id, c.bulk_locator, c.start_id);
}

void delete_load_checkpoint(pqxx::transaction_base& tx, const std::string& mapping_id) {
  tx.exec_params("DELETE FROM syncforce.load_checkpoints WHERE mapping_id = $1", mapping_id);
}

void notify_control(pqxx::transaction_base& tx, const std::string& connection_id) {
  tx.exec_params("SELECT pg_notify($1, $2)", std::string{control_channel}, connection_id);
}

void record_audit(pqxx::transaction_base& tx, const audit_entry& e) {
  auto json_or_null = [](const std::string& s) -> std::optional<std::string> {
    if (s.empty())
      return std::nullopt;
    return s;
  };
  auto text_or_null = json_or_null;
  tx.exec_params("INSERT INTO syncforce.audit_log (actor, action, object_type, object_id, before, after, "
                 "connection_id, connection_name, object_name) "
                 "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::uuid, $8, $9)",
                 e.actor, e.action, e.object_type, text_or_null(e.object_id), json_or_null(e.before),
                 json_or_null(e.after), text_or_null(e.connection_id), text_or_null(e.connection_name),
                 text_or_null(e.object_name));
}

std::optional<std::string> take_mapping_command(pqxx::transaction_base& tx, const std::string& mapping_id) {
  auto r = tx.exec_params("UPDATE syncforce.mappings m SET command = NULL, command_at = NULL FROM "
                          "(SELECT id, command FROM syncforce.mappings WHERE id = $1 AND command IS NOT NULL "
                          "FOR UPDATE) old WHERE m.id = old.id RETURNING old.command",
                          mapping_id);
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

} // namespace syncforce::store
