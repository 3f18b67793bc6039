#include "store/column_refresh.hpp"

#include "store/copy_loader.hpp"
#include "store/hc_schema.hpp"

namespace syncforce::store {

long refresh_columns(pqxx::transaction_base& t, const std::string& schema, const std::string& table,
                     const std::vector<std::string>& staged, const std::vector<std::string>& columns,
                     const std::vector<std::string>& lines, std::size_t first, std::size_t last,
                     const std::string& stage) {
  const auto qtable = qualified_name(t, schema, table);
  const auto qstage = "pg_temp." + t.quote_name(stage);
  const auto qkeep = "pg_temp." + t.quote_name(stage + "_keep");
  std::string stage_cols, set_list, current, incoming;
  for (const auto& c : staged)
    stage_cols += (stage_cols.empty() ? "" : ", ") + t.quote_name(c);
  for (const auto& n : columns) {
    auto q = t.quote_name(n);
    set_list += (set_list.empty() ? "" : ", ") + q + " = s." + q;
    current += (current.empty() ? "t." : ", t.") + q;
    incoming += (incoming.empty() ? "s." : ", s.") + q;
  }
  t.exec0("CREATE TEMPORARY TABLE " + t.quote_name(stage) + " ON COMMIT DROP AS SELECT " + stage_cols + " FROM " +
          qtable + " WITH NO DATA");
  {
    copy_writer writer(t, "pg_temp", stage, staged);
    for (auto i = first; i < last; ++i)
      writer.write_line(lines[i]);
    writer.complete();
  }
  // A page is a few thousand rows of a table that may hold millions: each is
  // found through the unique sfid index. With no statistics on the fresh
  // stage the planner may pick a hash join, which reads the whole table for
  // every page: a backfill of n rows would cost n^2 / page size row visits.
  // Only for these statements.
  t.exec0("SET LOCAL enable_hashjoin = off");
  t.exec0("SET LOCAL enable_mergejoin = off");
  // The engine's update marks rows SYNCED; the rows that were in another
  // state (FAILED with its error, INSERTED, ...) get it back afterwards.
  t.exec0("CREATE TEMPORARY TABLE " + t.quote_name(stage + "_keep") + " ON COMMIT DROP AS SELECT t.id, "
          "t._hc_lastop, t._hc_err FROM " + qtable + " t JOIN " + qstage + " s ON s.sfid = t.sfid "
          "WHERE t._hc_lastop IS DISTINCT FROM 'SYNCED' AND t._hc_lastop IS NOT NULL");
  auto res = t.exec0("UPDATE " + qtable + " t SET " + set_list + " FROM " + qstage + " s WHERE t.sfid = s.sfid " +
                     "AND t._hc_lastop IS DISTINCT FROM 'PENDING' AND NOT EXISTS (SELECT 1 FROM " +
                     qualified_name(t, schema, "_trigger_log") + " l WHERE l.table_name = " + t.quote(table) +
                     " AND l.record_id = t.id AND l.state IN ('NEW', 'PENDING')) AND ROW(" + current +
                     ") IS DISTINCT FROM ROW(" + incoming + ")");
  t.exec0("UPDATE " + qtable + " t SET _hc_lastop = k._hc_lastop, _hc_err = k._hc_err FROM " + qkeep +
          " k WHERE t.id = k.id AND (t._hc_lastop IS DISTINCT FROM k._hc_lastop OR t._hc_err IS DISTINCT FROM "
          "k._hc_err)");
  t.exec0("SET LOCAL enable_hashjoin TO DEFAULT");
  t.exec0("SET LOCAL enable_mergejoin TO DEFAULT");
  // A page applied in parts (a row refused) creates them again.
  t.exec0("DROP TABLE " + qstage + ", " + qkeep);
  return static_cast<long>(res.affected_rows());
}

} // namespace syncforce::store
