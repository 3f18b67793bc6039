#include "store/cutover.hpp"

#include "store/hc_schema.hpp"
#include "store/sql_arrays.hpp"

#include <stdexcept>

namespace syncforce::store {

namespace {

bool relation_exists(pqxx::transaction_base& tx, const std::string& qualified) {
  return !tx.exec_params1("SELECT to_regclass($1) IS NULL", qualified)[0].as<bool>();
}

} // namespace

void lock_cutover_session(pqxx::transaction_base& tx, long long id) {
  tx.exec_params("SELECT pg_advisory_lock($1, $2::int)", cutover_lock_class, id);
}

bool try_lock_cutover_session(pqxx::transaction_base& tx, long long id) {
  return tx.exec_params1("SELECT pg_try_advisory_lock($1, $2::int)", cutover_lock_class, id)[0].as<bool>();
}

void unlock_cutover_session(pqxx::transaction_base& tx, long long id) {
  tx.exec_params("SELECT pg_advisory_unlock($1, $2::int)", cutover_lock_class, id);
}

void set_local_lock_timeout(pqxx::transaction_base& tx, std::chrono::milliseconds timeout) {
  tx.exec_params("SELECT set_config('lock_timeout', $1, true)", std::to_string(timeout.count()) + "ms");
}

void clear_local_search_path(pqxx::transaction_base& tx) { tx.exec("SELECT set_config('search_path', '', true)"); }

void run_statements(pqxx::transaction_base& tx, const std::vector<std::string>& statements, bool name_failing) {
  for (const auto& s : statements) {
    if (!name_failing) {
      tx.exec0(s);
      continue;
    }
    try {
      tx.exec0(s);
    } catch (const pqxx::sql_error& e) {
      throw std::runtime_error("the switch failed on `" + s.substr(0, 300) + "`: " + e.what());
    }
  }
}

std::optional<std::string> write_block_text(pqxx::transaction_base& tx, const std::string& mapping_id) {
  auto block = tx.exec_params1("SELECT write_block::text FROM syncforce.mappings WHERE id = $1", mapping_id);
  if (block[0].is_null())
    return std::nullopt;
  return block[0].as<std::string>();
}

std::optional<std::pair<std::string, std::string>> first_write_block(pqxx::transaction_base& tx,
                                                                     const std::string& connection_id,
                                                                     const std::vector<std::string>& object_names) {
  auto blocked = tx.exec_params("SELECT object_name, write_block::text FROM syncforce.mappings WHERE "
                                "connection_id = $1 AND object_name = ANY($2::text[]) AND write_block IS NOT NULL",
                                connection_id, text_array(object_names));
  if (blocked.empty())
    return std::nullopt;
  return std::make_pair(blocked[0][0].as<std::string>(), blocked[0][1].as<std::string>());
}

std::optional<std::string> running_cutover_between(pqxx::transaction_base& tx, const std::string& connection_a,
                                                   const std::string& connection_b) {
  auto running = tx.exec_params("SELECT id FROM syncforce.cutovers WHERE status = 'running' AND "
                                "(source_connection_id IN ($1, $2) OR target_connection_id IN ($1, $2))",
                                connection_a, connection_b);
  if (running.empty())
    return std::nullopt;
  return running[0][0].as<std::string>();
}

long long insert_cutover(pqxx::transaction_base& tx, const new_cutover& c) {
  return tx
    .exec_params1("INSERT INTO syncforce.cutovers (source_connection_id, target_connection_id, source_schema, "
                  "target_schema, tables, plan, actor, node) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, "
                  "$8) RETURNING id",
                  c.source_connection_id, c.target_connection_id, c.source_schema, c.target_schema, c.tables_json,
                  c.plan_json, c.actor, c.node)[0]
    .as<long long>();
}

void set_cutover_step(pqxx::transaction_base& tx, long long id, const std::string& step) {
  tx.exec_params("UPDATE syncforce.cutovers SET step = $2 WHERE id = $1", id, step);
}

void mark_cutover_fenced(pqxx::transaction_base& tx, long long id) {
  tx.exec_params("UPDATE syncforce.cutovers SET step = 'fenced', fenced_at = clock_timestamp() WHERE id = $1", id);
}

long long finish_cutover_switched(pqxx::transaction_base& tx, long long id) {
  return tx
    .exec_params1("UPDATE syncforce.cutovers SET step = 'switched', status = 'done', switched_at = "
                  "clock_timestamp(), finished_at = clock_timestamp() WHERE id = $1 "
                  "RETURNING (extract(epoch FROM switched_at - fenced_at) * 1000)::bigint",
                  id)[0]
    .as<long long>();
}

void finish_cutover_rolled_back(pqxx::transaction_base& tx, long long id, const std::string& reason) {
  tx.exec_params("UPDATE syncforce.cutovers SET status = 'rolled_back', error = $2, finished_at = clock_timestamp() "
                 "WHERE id = $1",
                 id, reason);
}

std::optional<cutover_row> lock_cutover_row(pqxx::transaction_base& tx, long long id) {
  auto row = tx.exec_params("SELECT source_schema, tables::text, status, step, source_connection_id FROM "
                            "syncforce.cutovers WHERE id = $1 FOR UPDATE",
                            id);
  if (row.empty())
    return std::nullopt;
  return cutover_row{row[0][0].as<std::string>(), row[0][1].as<std::string>(), row[0][2].as<std::string>(),
                     row[0][3].as<std::string>(), row[0][4].as<std::string>()};
}

void record_paused_connection(pqxx::transaction_base& tx, long long id, const std::string& connection_id) {
  tx.exec_params("UPDATE syncforce.cutovers SET paused_connections = array_append(paused_connections, $2::uuid) "
                 "WHERE id = $1",
                 id, connection_id);
}

std::vector<std::string> connections_paused_by(pqxx::transaction_base& tx, long long id) {
  std::vector<std::string> out;
  for (const auto& r :
       tx.exec_params("SELECT c.id::text FROM syncforce.cutovers k JOIN syncforce.connections c ON c.id = "
                      "ANY(k.paused_connections) WHERE k.id = $1 AND c.state = 'PAUSED' ORDER BY c.name",
                      id))
    out.push_back(r[0].as<std::string>());
  return out;
}

void put_write_fence(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                     const std::string& target_schema, long long id) {
  const auto qualified = qualified_name(tx, schema, table);
  const auto args = "(" + tx.quote(target_schema) + ", " + tx.quote(std::to_string(id)) + ")";
  tx.exec0("DROP TRIGGER IF EXISTS " + tx.quote_name(fence_trigger) + " ON " + qualified);
  tx.exec0("DROP TRIGGER IF EXISTS " + tx.quote_name(fence_truncate_trigger) + " ON " + qualified);
  tx.exec0("CREATE TRIGGER " + tx.quote_name(fence_trigger) + " BEFORE INSERT OR UPDATE OR DELETE ON " + qualified +
           " FOR EACH ROW EXECUTE FUNCTION syncforce.cutover_fence" + args);
  tx.exec0("CREATE TRIGGER " + tx.quote_name(fence_truncate_trigger) + " BEFORE TRUNCATE ON " + qualified +
           " FOR EACH STATEMENT EXECUTE FUNCTION syncforce.cutover_fence" + args);
}

void drop_write_fence(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  const auto qualified = qualified_name(tx, schema, table);
  if (!relation_exists(tx, qualified))
    return;
  tx.exec0("DROP TRIGGER IF EXISTS " + tx.quote_name(fence_trigger) + " ON " + qualified);
  tx.exec0("DROP TRIGGER IF EXISTS " + tx.quote_name(fence_truncate_trigger) + " ON " + qualified);
}

long long unsent_change_count(pqxx::transaction_base& tx, const std::string& connection_id, const std::string& schema,
                              const std::vector<std::string>& tables) {
  const auto log = qualified_name(tx, schema, "_trigger_log");
  const bool has_log = relation_exists(tx, log);
  return tx
    .exec_params1("SELECT (SELECT count(*) FROM syncforce.write_in_doubt WHERE connection_id = $1 AND table_name = "
                  "ANY($2::text[]))" +
                    (has_log ? " + (SELECT count(*) FROM " + log +
                                 " WHERE table_name = ANY($2::text[]) AND state IN ('NEW', 'PENDING'))"
                             : std::string{}),
                  connection_id, text_array(tables))[0]
    .as<long long>();
}

long long rows_without_sfid(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  return tx.exec1("SELECT count(*) FROM " + qualified_name(tx, schema, table) + " WHERE sfid IS NULL")[0]
    .as<long long>();
}

bool mark_reached(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& stamp) {
  return tx
    .exec_params1("SELECT coalesce(high_water_mark >= $2::timestamptz, false) FROM syncforce.mappings WHERE id = $1",
                  mapping_id, stamp)[0]
    .as<bool>();
}

long long records_missing_in_target(pqxx::transaction_base& tx, const std::string& source_schema,
                                    const std::string& target_schema, const std::string& table) {
  const auto source_table = qualified_name(tx, source_schema, table);
  const auto target_table = qualified_name(tx, target_schema, table);
  return tx
    .exec1("SELECT count(*) FROM " + source_table + " a WHERE a.sfid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " +
           target_table + " b WHERE b.sfid = a.sfid)")[0]
    .as<long long>();
}

void rewind_to_missing(pqxx::transaction_base& tx, const std::string& target_mapping_id,
                       const std::string& source_schema, const std::string& target_schema, const std::string& table) {
  const auto source_table = qualified_name(tx, source_schema, table);
  const auto target_table = qualified_name(tx, target_schema, table);
  tx.exec_params("UPDATE syncforce.mappings m SET high_water_mark = r.stamp, high_water_id = NULL, "
                 "command = 'recover', command_at = now() FROM (SELECT coalesce(min(a.systemmodstamp) AT TIME "
                 "ZONE 'UTC' - interval '1 second', (SELECT high_water_mark - interval '5 minutes' FROM "
                 "syncforce.mappings WHERE id = $1)) AS stamp FROM " + source_table + " a WHERE a.sfid IS NOT "
                 "NULL AND NOT EXISTS (SELECT 1 FROM " + target_table + " b WHERE b.sfid = a.sfid)) r "
                 "WHERE m.id = $1 AND m.command IS NULL AND m.high_water_mark > r.stamp",
                 target_mapping_id);
}

long long changes_not_in_table(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                               const std::vector<std::string>& ids, const std::vector<std::string>& stamps,
                               const std::vector<bool>& deleted) {
  std::string flags = "{";
  for (std::size_t k = 0; k < deleted.size(); ++k)
    flags += std::string(k == 0 ? "" : ",") + (deleted[k] ? "true" : "false");
  flags += "}";
  const auto qualified = qualified_name(tx, schema, table);
  return tx
    .exec_params1("SELECT count(*) FROM unnest($1::text[], $2::timestamptz[], $3::boolean[]) AS sf(id, stamp, "
                  "deleted) WHERE CASE WHEN sf.deleted THEN EXISTS (SELECT 1 FROM " + qualified +
                    " r WHERE r.sfid = sf.id AND r.systemmodstamp < (sf.stamp AT TIME ZONE 'UTC')) "
                    "ELSE NOT EXISTS (SELECT 1 FROM " + qualified +
                    " r WHERE r.sfid = sf.id AND r.systemmodstamp >= (sf.stamp AT TIME ZONE 'UTC')) END",
                  text_array(ids), text_array(stamps), flags)[0]
    .as<long long>();
}

void ask_recover(pqxx::transaction_base& tx, const std::vector<std::string>& mapping_ids) {
  tx.exec_params("UPDATE syncforce.mappings SET command = 'recover', command_at = now() WHERE id = ANY($1::uuid[]) "
                 "AND command IS NULL",
                 text_array(mapping_ids));
}

void hand_over_mapping(pqxx::transaction_base& tx, const std::string& source_mapping_id,
                       const std::string& target_mapping_id) {
  tx.exec_params("DELETE FROM syncforce.load_checkpoints WHERE mapping_id = $1", source_mapping_id);
  tx.exec_params("DELETE FROM syncforce.read_errors WHERE mapping_id = $1", source_mapping_id);
  tx.exec_params("UPDATE syncforce.read_errors SET mapping_id = $1 WHERE mapping_id = $2", source_mapping_id,
                 target_mapping_id);
  tx.exec_params("UPDATE syncforce.mappings s SET config = t.config, revision = greatest(s.revision, t.revision) + 1, "
                 "state = t.state, state_description = t.state_description, high_water_mark = t.high_water_mark, "
                 "high_water_id = t.high_water_id, command = NULL, command_at = NULL, write_block = NULL, "
                 "updated_at = now() FROM syncforce.mappings t WHERE s.id = $1 AND t.id = $2",
                 source_mapping_id, target_mapping_id);
  tx.exec_params("DELETE FROM syncforce.mappings WHERE id = $1", target_mapping_id);
}

bool has_cutovers_table(pqxx::transaction_base& tx) { return relation_exists(tx, "syncforce.cutovers"); }

std::vector<std::pair<long long, std::string>> running_cutovers(pqxx::transaction_base& tx) {
  std::vector<std::pair<long long, std::string>> out;
  for (const auto& r : tx.exec("SELECT id, step || ' (run by node ' || node || ')' FROM syncforce.cutovers "
                               "WHERE status = 'running' ORDER BY id"))
    out.emplace_back(r[0].as<long long>(), r[1].as<std::string>());
  return out;
}

} // namespace syncforce::store
