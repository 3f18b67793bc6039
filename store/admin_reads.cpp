#include "store/admin_reads.hpp"

namespace syncforce::store {

namespace {

bool missing(pqxx::transaction_base& tx, const std::string& relation) {
  return tx.exec_params1("SELECT to_regclass($1) IS NULL", relation)[0].as<bool>();
}

std::string text(const pqxx::field& f) { return f.is_null() ? std::string{} : f.as<std::string>(); }

} // namespace

void lock_connection_row(pqxx::transaction_base& tx, const std::string& connection_id) {
  tx.exec_params("SELECT 1 FROM syncforce.connections WHERE id = $1 FOR UPDATE", connection_id);
}

std::optional<long> table_row_count(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  const auto relation = tx.quote_name(schema) + "." + tx.quote_name(table);
  if (missing(tx, relation))
    return std::nullopt;
  return tx.exec("SELECT count(*) FROM " + relation)[0][0].as<long>();
}

std::optional<pending_writes> pending_writes_of(pqxx::transaction_base& tx, const std::string& schema,
                                                const std::string& table) {
  const auto log = tx.quote_name(schema) + "._trigger_log";
  if (missing(tx, log))
    return std::nullopt;
  auto r = tx.exec_params1("SELECT count(*), to_char(min(created_at) AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM " + log +
                             " WHERE table_name = $1 AND state IN ('NEW', 'PENDING')",
                           table);
  return pending_writes{r[0].as<long>(), text(r[1])};
}

long failed_writes_24h(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  const auto archive = tx.quote_name(schema) + "._trigger_log_archive";
  if (missing(tx, archive))
    return 0;
  return tx
    .exec_params1("SELECT count(*) FROM " + archive +
                    " WHERE table_name = $1 AND state = 'FAILED' AND processed_at > now() - interval '24 hours'",
                  table)[0]
    .as<long>();
}

std::int64_t read_error_count(pqxx::transaction_base& tx, const std::string& mapping_id) {
  return tx.exec_params1("SELECT count(*) FROM syncforce.read_errors WHERE mapping_id = $1", mapping_id)[0]
    .as<std::int64_t>();
}

std::optional<std::string> recent_cutover_summary(pqxx::transaction_base& tx, const std::string& connection_id) {
  auto r = tx.exec_params(
    "SELECT 'cutover ' || k.id || ' ' || s.name || ' (' || k.source_schema || ') -> ' || t.name || ' (' || "
    "k.target_schema || '): ' || CASE k.status "
    "WHEN 'running' THEN 'running, step ' || k.step || ' reached (started ' || to_char(k.started_at AT TIME ZONE "
    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ')' "
    "WHEN 'done' THEN 'done at ' || to_char(k.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || "
    "'; writes refused for ' || (extract(epoch FROM k.switched_at - k.fenced_at) * 1000)::bigint || ' ms' "
    "ELSE 'rolled back at ' || to_char(k.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || "
    "': ' || coalesce(k.error, '') END "
    "FROM syncforce.cutovers k JOIN syncforce.connections s ON s.id = k.source_connection_id "
    "JOIN syncforce.connections t ON t.id = k.target_connection_id "
    "WHERE $1 IN (k.source_connection_id, k.target_connection_id) "
    "AND (k.status = 'running' OR k.finished_at > now() - interval '24 hours') "
    "ORDER BY k.status = 'running' DESC, k.id DESC LIMIT 1",
    connection_id);
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

std::vector<failed_write> recent_failed_writes(pqxx::transaction_base& tx, const std::string& schema,
                                               const std::string& table) {
  std::vector<failed_write> out;
  const auto archive = tx.quote_name(schema) + "._trigger_log_archive";
  if (missing(tx, archive))
    return out;
  auto rows = tx.exec_params("SELECT id, action, record_id, sfid, sf_message, "
                             "to_char(processed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM " +
                               archive +
                               " WHERE state = 'FAILED' AND table_name = $1 AND processed_at > now() - interval '24 "
                               "hours' ORDER BY id DESC LIMIT 1000",
                             table);
  for (const auto& r : rows)
    out.push_back({r[0].as<std::int64_t>(), text(r[1]), r[2].is_null() ? 0 : r[2].as<std::int64_t>(), text(r[3]),
                   text(r[4]), text(r[5])});
  return out;
}

std::string export_timestamp(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')")[0]
    .as<std::string>();
}

std::string mapping_applied_at(pqxx::transaction_base& tx, const std::string& mapping_id) {
  return tx
    .exec_params1(
      "SELECT to_char(coalesce((SELECT max(at) FROM syncforce.audit_log WHERE object_type = 'mapping' AND "
      "object_id = $1 AND action IN ('mapping.create', 'mapping.edit', 'mapping.refresh')), m.created_at) "
      "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM syncforce.mappings m WHERE m.id = $1::uuid",
      mapping_id)[0]
    .as<std::string>();
}

std::vector<audit_row> audit_entries(pqxx::transaction_base& tx, const std::optional<std::string>& since, int limit) {
  std::vector<audit_row> out;
  auto rows = tx.exec_params(
    "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), actor, action, object_type, "
    "object_id, before::text, after::text, connection_name, object_name FROM syncforce.audit_log "
    "WHERE $1::text IS NULL OR at >= ($1::timestamp AT TIME ZONE 'UTC') ORDER BY id DESC LIMIT $2",
    since, limit);
  for (const auto& r : rows)
    out.push_back({r[0].as<std::int64_t>(), text(r[1]), text(r[2]), text(r[3]), text(r[4]), text(r[5]), text(r[6]),
                   text(r[7]), text(r[8]), text(r[9])});
  return out;
}

bool relation_exists(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  return !missing(tx, tx.quote_name(schema) + "." + tx.quote_name(table));
}

trigger_log_backlog backlog_of(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  auto r = tx.exec1("SELECT count(*), extract(epoch FROM now() - min(created_at))::float8 FROM " +
                    tx.quote_name(schema) + "._trigger_log WHERE state IN ('NEW', 'PENDING')" +
                    (table.empty() ? std::string{} : " AND table_name = " + tx.quote(table)));
  trigger_log_backlog b;
  b.waiting = r[0].as<long>();
  if (!r[1].is_null())
    b.oldest_age_seconds = r[1].as<double>();
  return b;
}

failed_write_summary failed_writes_summary(pqxx::transaction_base& tx, const std::string& schema,
                                           const std::vector<std::string>& tables) {
  std::string where = "state = 'FAILED' AND processed_at > now() - interval '24 hours'";
  if (!tables.empty()) {
    std::string list;
    for (const auto& t : tables)
      list += (list.empty() ? "" : ", ") + tx.quote(t);
    where += " AND table_name IN (" + list + ")";
  }
  const auto archive = tx.quote_name(schema) + "._trigger_log_archive";
  failed_write_summary f;
  f.failed_24h = tx.exec1("SELECT count(*) FROM " + archive + " WHERE " + where)[0].as<long>();
  if (f.failed_24h > 0) {
    auto newest = tx.exec("SELECT table_name, sf_message FROM " + archive + " WHERE " + where +
                          " ORDER BY processed_at DESC, id DESC LIMIT 1");
    if (!newest.empty()) {
      f.newest_table = text(newest[0][0]);
      f.newest_message = text(newest[0][1]);
    }
  }
  return f;
}

read_error_summary read_errors_summary(pqxx::transaction_base& tx, const std::string& connection_id,
                                       const std::optional<std::string>& object_name) {
  read_error_summary f;
  auto rows = tx.exec_params("SELECT count(*) OVER (), object_name, sfid, CASE WHEN field = '' THEN error ELSE "
                             "field || ': ' || error END FROM syncforce.read_errors WHERE connection_id = $1 AND "
                             "($2::text IS NULL OR object_name = $2) ORDER BY last_seen DESC LIMIT 1",
                             connection_id, object_name);
  if (!rows.empty()) {
    f.records = rows[0][0].as<long>();
    f.newest_object = rows[0][1].as<std::string>();
    f.newest_sfid = rows[0][2].as<std::string>();
    f.newest_error = rows[0][3].as<std::string>();
  }
  return f;
}

} // namespace syncforce::store
