#include "store/orphan_rows.hpp"

#include "store/hc_schema.hpp"

namespace syncforce::store {

std::map<std::int64_t, std::string> rows_without_insert(pqxx::transaction_base& tx, const std::string& schema,
                                                        const std::string& table,
                                                        const std::vector<std::int64_t>& record_ids) {
  std::map<std::int64_t, std::string> out;
  if (record_ids.empty())
    return out;
  std::string ids;
  for (auto id : record_ids)
    ids += (ids.empty() ? "" : ",") + std::to_string(id);
  auto r = tx.exec("SELECT t.id, public.delete(public.hstore(t.*), ARRAY['_hc_lastop', '_hc_err'])::text FROM "
                   + qualified_name(tx, schema, table) + " t WHERE t.id IN (" + ids
                   + ") AND t.sfid IS NULL AND NOT EXISTS (SELECT 1 FROM " + qualified_name(tx, schema, "_trigger_log")
                   + " l WHERE l.table_name = " + tx.quote(table)
                   + " AND l.record_id = t.id AND l.action = 'INSERT' AND l.state IN ('NEW', 'PENDING'))");
  for (const auto& row : r)
    out.emplace(row[0].as<std::int64_t>(), row[1].as<std::string>());
  return out;
}

} // namespace syncforce::store
