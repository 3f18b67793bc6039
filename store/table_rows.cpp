#include "store/table_rows.hpp"

#include "store/hc_schema.hpp"
#include "store/sql_arrays.hpp"

namespace syncforce::store {

std::size_t delete_rows_by_sfid(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                const std::vector<std::string>& sfids) {
  auto res = tx.exec_params0("DELETE FROM " + qualified_name(tx, schema, table) + " WHERE sfid = ANY($1::text[])",
                             text_array(sfids));
  return static_cast<std::size_t>(res.affected_rows());
}

std::set<std::string> present_sfids(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                    const std::vector<std::string>& sfids) {
  std::set<std::string> have;
  for (const auto& row : tx.exec_params("SELECT sfid FROM " + qualified_name(tx, schema, table) +
                                          " WHERE sfid = ANY($1::text[])",
                                        text_array(sfids)))
    have.insert(row[0].as<std::string>());
  return have;
}

std::vector<local_stamp> local_stamps(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                      const std::string& stamp_column, const std::vector<std::string>& sfids) {
  std::vector<local_stamp> out;
  for (const auto& row : tx.exec_params("SELECT sfid, COALESCE(to_char(" + tx.quote_name(stamp_column) +
                                          ", 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '') FROM " +
                                          qualified_name(tx, schema, table) + " WHERE sfid = ANY($1::text[])",
                                        text_array(sfids)))
    out.push_back(local_stamp{row[0].as<std::string>(), row[1].as<std::string>()});
  return out;
}

std::optional<std::string> sfid_of_row(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                       std::int64_t id) {
  auto r = tx.exec_params("SELECT sfid FROM " + qualified_name(tx, schema, table) + " WHERE id = $1", id);
  if (r.empty() || r[0][0].is_null())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

bool reload_table_exists(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  return !tx.exec_params1("SELECT to_regclass($1) IS NULL", qualified_name(tx, schema, reload_table_name(table)))[0]
            .as<bool>();
}

void drop_reload_table(pqxx::transaction_base& tx, const std::string& schema, const std::string& table) {
  tx.exec0("DROP TABLE IF EXISTS " + qualified_name(tx, schema, reload_table_name(table)));
}

} // namespace syncforce::store
