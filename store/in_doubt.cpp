#include "store/in_doubt.hpp"

#include "store/sql_arrays.hpp"

#include <chrono>

namespace syncforce::store {

void record_in_doubt(pqxx::transaction_base& tx, const std::string& connection_id,
                     const std::vector<in_doubt_create>& creates) {
  if (creates.empty())
    return;
  std::string values;
  for (const auto& c : creates) {
    values += values.empty() ? "" : ", ";
    values += "(" + tx.quote(connection_id) + "::uuid, " + std::to_string(c.entry_id) + ", " + tx.quote(c.table_name) +
              ", " + (c.record_id ? std::to_string(*c.record_id) : std::string{"NULL"}) + ", " +
              tx.quote(c.object_name) + ", " + tx.quote(c.record_json) + "::jsonb)";
  }
  tx.exec0("INSERT INTO syncforce.write_in_doubt (connection_id, entry_id, table_name, record_id, object_name, "
           "record) VALUES " + values +
           " ON CONFLICT (connection_id, entry_id) DO UPDATE SET record = EXCLUDED.record, sent_at = clock_timestamp()");
}

std::vector<in_doubt_create> load_in_doubt(pqxx::transaction_base& tx, const std::string& connection_id,
                                           std::chrono::seconds margin) {
  auto rows = tx.exec_params(
    "SELECT entry_id, table_name, record_id, object_name, record::text, "
    "to_char((sent_at - make_interval(secs => $2)) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "(extract(epoch FROM clock_timestamp() - sent_at) * 1000)::bigint "
    "FROM syncforce.write_in_doubt WHERE connection_id = $1 ORDER BY sent_at, entry_id",
    connection_id, static_cast<double>(margin.count()));
  std::vector<in_doubt_create> out;
  for (const auto& r : rows) {
    in_doubt_create c;
    c.entry_id = r[0].as<std::int64_t>();
    c.table_name = r[1].as<std::string>();
    if (!r[2].is_null())
      c.record_id = r[2].as<std::int64_t>();
    c.object_name = r[3].as<std::string>();
    c.record_json = r[4].as<std::string>();
    c.since_soql = r[5].as<std::string>();
    c.age = std::chrono::milliseconds(r[6].as<std::int64_t>());
    out.push_back(std::move(c));
  }
  return out;
}

void clear_in_doubt(pqxx::transaction_base& tx, const std::string& connection_id,
                    const std::vector<std::int64_t>& entry_ids) {
  if (entry_ids.empty())
    return;
  tx.exec_params0("DELETE FROM syncforce.write_in_doubt WHERE connection_id = $1 AND entry_id = ANY($2::bigint[])",
                  connection_id, bigint_array(entry_ids));
}

bool has_in_doubt(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  return tx
    .exec_params1("SELECT EXISTS (SELECT 1 FROM syncforce.write_in_doubt d JOIN syncforce.connections c "
                  "ON c.id = d.connection_id WHERE c.schema_name = $1 AND d.table_name = $2)",
                  schema, table)[0]
    .as<bool>();
}

std::vector<std::string> known_sfids(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                     const std::vector<std::string>& sfids) {
  std::vector<std::string> out;
  if (sfids.empty())
    return out;
  auto rows = tx.exec_params("SELECT sfid FROM " + tx.quote_name(schema) + "." + tx.quote_name(table) +
                               " WHERE sfid = ANY($1::text[])",
                             text_array(sfids));
  for (const auto& r : rows)
    out.push_back(r[0].as<std::string>());
  return out;
}

std::vector<std::int64_t> entries_in_log(pqxx::transaction_base& tx, const std::string& schema,
                                         const std::vector<std::int64_t>& entry_ids) {
  std::vector<std::int64_t> out;
  if (entry_ids.empty())
    return out;
  auto rows = tx.exec_params("SELECT id FROM " + tx.quote_name(schema) + "._trigger_log WHERE id = ANY($1::bigint[])",
                             bigint_array(entry_ids));
  for (const auto& r : rows)
    out.push_back(r[0].as<std::int64_t>());
  return out;
}

} // namespace syncforce::store
