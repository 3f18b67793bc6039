#include "store/read_errors.hpp"

#include "store/sql_arrays.hpp"

namespace syncforce::store {

void record_read_errors(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& operation,
                        const std::vector<read_error>& errors) {
  for (const auto& e : errors)
    tx.exec_params("INSERT INTO syncforce.read_errors AS r (mapping_id, connection_id, object_name, sfid, field, "
                   "error, value_excerpt, operation) SELECT m.id, m.connection_id, m.object_name, $2, $3, $4, $5, $6 "
                   "FROM syncforce.mappings m WHERE m.id = $1 "
                   "ON CONFLICT (mapping_id, sfid) DO UPDATE SET field = EXCLUDED.field, error = EXCLUDED.error, "
                   "value_excerpt = EXCLUDED.value_excerpt, operation = EXCLUDED.operation, last_seen = now(), "
                   "count = r.count + 1",
                   mapping_id, e.sfid, e.field, e.error, e.excerpt, operation);
}

long clear_read_errors(pqxx::transaction_base& tx, const std::string& mapping_id,
                       const std::vector<std::string>& sfids) {
  if (sfids.empty())
    return 0;
  auto r = tx.exec_params("DELETE FROM syncforce.read_errors WHERE mapping_id = $1 AND sfid = ANY($2::text[])",
                          mapping_id, text_array(sfids));
  return static_cast<long>(r.affected_rows());
}

long clear_read_errors_after_reload(pqxx::transaction_base& tx, const std::string& mapping_id,
                                    const std::string& qualified_table) {
  auto r = tx.exec_params("DELETE FROM syncforce.read_errors e WHERE e.mapping_id = $1 AND (e.last_seen < (SELECT "
                          "c.started_at FROM syncforce.load_checkpoints c WHERE c.mapping_id = $1) "
                          "OR EXISTS (SELECT 1 FROM " + qualified_table + " t WHERE t.sfid = e.sfid))",
                          mapping_id);
  return static_cast<long>(r.affected_rows());
}

bool has_read_errors(pqxx::transaction_base& tx, const std::string& mapping_id) {
  return tx.exec_params1("SELECT EXISTS (SELECT 1 FROM syncforce.read_errors WHERE mapping_id = $1)", mapping_id)[0]
    .as<bool>();
}

std::vector<std::pair<std::string, long>> count_read_errors(pqxx::transaction_base& tx,
                                                            const std::string& connection_id) {
  std::vector<std::pair<std::string, long>> out;
  for (const auto& row : tx.exec_params("SELECT mapping_id::text, count(*) FROM syncforce.read_errors "
                                        "WHERE connection_id = $1 GROUP BY mapping_id",
                                        connection_id))
    out.emplace_back(row[0].as<std::string>(), row[1].as<long>());
  return out;
}

std::vector<read_error_row> list_read_errors(pqxx::transaction_base& tx, const std::string& connection_id,
                                             const std::optional<std::string>& object_name, long limit) {
  std::vector<read_error_row> out;
  const char* stamp = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";
  auto rows = tx.exec_params(std::string{"SELECT object_name, sfid, field, error, value_excerpt, operation, "
                                         "to_char(first_seen AT TIME ZONE 'UTC', "} + stamp +
                               "), to_char(last_seen AT TIME ZONE 'UTC', " + stamp +
                               "), count FROM syncforce.read_errors WHERE connection_id = $1 AND "
                               "($2::text IS NULL OR lower(object_name) = lower($2)) "
                               "ORDER BY last_seen DESC, object_name, sfid LIMIT $3",
                             connection_id, object_name, limit);
  for (const auto& r : rows) {
    read_error_row e;
    e.object_name = r[0].as<std::string>();
    e.sfid = r[1].as<std::string>();
    e.field = r[2].as<std::string>();
    e.error = r[3].as<std::string>();
    e.excerpt = r[4].as<std::string>();
    e.operation = r[5].as<std::string>();
    e.first_seen = r[6].as<std::string>();
    e.last_seen = r[7].as<std::string>();
    e.count = r[8].as<long>();
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace syncforce::store
