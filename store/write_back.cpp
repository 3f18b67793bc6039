#include "store/write_back.hpp"

#include "store/sql_arrays.hpp"

namespace syncforce::store {

namespace {

void update_rows(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                 const std::vector<row_outcome>& rows, bool by_id) {
  if (rows.empty())
    return;
  std::vector<std::string> keys;
  std::vector<std::optional<std::string>> sfids, lastops, errs;
  keys.reserve(rows.size());
  for (const auto& r : rows) {
    keys.push_back(r.key);
    sfids.push_back(r.sfid);
    lastops.emplace_back(r.ok ? "SYNCED" : "FAILED");
    errs.push_back(r.err);
  }
  const auto qtable = tx.quote_name(schema) + "." + tx.quote_name(table);
  const auto qlog = tx.quote_name(schema) + "._trigger_log";
  const std::string key_type = by_id ? "integer" : "text";
  const std::string key_column = by_id ? "id" : "sfid";
  // Rows with another change still in the log stay PENDING: the status trigger
  // keeps an explicitly changed _hc_lastop, hence two steps for those. Which
  // rows wait is asked once for the ids (the log's (table_name, record_id)
  // index, one probe per id: LATERAL ... LIMIT 1 cannot be turned into a
  // join), not as a correlated EXISTS, which PostgreSQL plans as a hashed
  // subplan that reads every waiting entry of the table for each call (19 ms
  // of a batch's 30 with 10,000 entries waiting).
  const std::string waiting =
    by_id ? "r.k IN (SELECT w.id FROM unnest($1::integer[]) AS w(id) CROSS JOIN LATERAL (SELECT 1 FROM " + qlog +
              " l WHERE l.table_name = $5 AND l.record_id = w.id AND l.state IN ('NEW', 'PENDING') LIMIT 1) AS x)"
          : "EXISTS (SELECT 1 FROM " + qlog + " l WHERE l.table_name = $5 AND l.record_id = t.id AND l.state IN "
            "('NEW', 'PENDING'))";
  const auto key_array = text_array(keys);
  auto marked = tx.exec_params(
    "UPDATE " + qtable + " t SET sfid = COALESCE(r.sfid, t.sfid), _hc_lastop = CASE WHEN r.lastop = 'SYNCED' AND " +
      waiting + " THEN 'INSERTED' ELSE r.lastop END, _hc_err = r.err FROM unnest($1::" + key_type +
      "[], $2::text[], $3::text[], $4::text[]) AS r(k, sfid, lastop, err) WHERE t." + key_column + " = r.k AND t." +
      key_column + " = ANY($1::" + key_type + "[]) RETURNING t._hc_lastop",
    key_array, nullable_text_array(sfids), nullable_text_array(lastops), nullable_text_array(errs), table);
  bool any_pending = false;
  for (const auto& row : marked)
    any_pending = any_pending || row[0].as<std::string>() == "INSERTED";
  if (any_pending)
    tx.exec_params0("UPDATE " + qtable + " t SET _hc_lastop = 'PENDING' WHERE t." + key_column + " = ANY($1::" +
                      key_type + "[]) AND t._hc_lastop = 'INSERTED'",
                    key_array);
}

} // namespace

void record_row_outcomes(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                         const std::vector<row_outcome>& by_id, const std::vector<row_outcome>& by_sfid) {
  if (by_id.empty() && by_sfid.empty())
    return;
  // The log and the table change fast and are often not analyzed yet: their
  // statistics make a sequential scan look cheap. Found by key, a batch costs
  // the same whatever the table's size.
  tx.exec0("SET LOCAL enable_seqscan = off");
  update_rows(tx, schema, table, by_id, true);
  update_rows(tx, schema, table, by_sfid, false);
}

} // namespace syncforce::store
