#include "store/read_repairs.hpp"

namespace syncforce::store {

void record_read_repair(pqxx::transaction_base& tx, const std::string& mapping_id, const read_repair_run& run) {
  tx.exec_params(
    "INSERT INTO syncforce.read_repairs AS r (mapping_id, kind, last_run_at, window_from, window_to, checked, "
    "fetched, repaired, api_calls, runs, total_checked, total_fetched, total_repaired) "
    "VALUES ($1, $2, COALESCE($9::timestamptz, now()), $3::timestamptz, $4::timestamptz, $5, $6, $7, $8, 1, "
    "$5, $6, $7) "
    "ON CONFLICT (mapping_id, kind) DO UPDATE SET last_run_at = EXCLUDED.last_run_at, "
    "window_from = EXCLUDED.window_from, "
    "window_to = EXCLUDED.window_to, checked = EXCLUDED.checked, fetched = EXCLUDED.fetched, "
    "repaired = EXCLUDED.repaired, api_calls = EXCLUDED.api_calls, runs = r.runs + 1, "
    "total_checked = r.total_checked + EXCLUDED.checked, total_fetched = r.total_fetched + EXCLUDED.fetched, "
    "total_repaired = r.total_repaired + EXCLUDED.repaired",
    mapping_id, run.kind, run.window_from, run.window_to, run.checked, run.fetched, run.repaired, run.api_calls,
    run.started_at);
}

std::optional<std::string> last_sweep_started(pqxx::transaction_base& tx, const std::string& mapping_id) {
  auto r = tx.exec_params(
    "SELECT to_char(last_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
    "FROM syncforce.read_repairs WHERE mapping_id = $1 AND kind = 'sweep'",
    mapping_id);
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

std::vector<read_repair_row> load_read_repairs(pqxx::transaction_base& tx, const std::string& mapping_id) {
  std::vector<read_repair_row> out;
  for (const auto& r : tx.exec_params(
         "SELECT kind, to_char(last_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), checked, "
         "fetched, repaired, runs, total_checked, total_fetched, total_repaired FROM syncforce.read_repairs "
         "WHERE mapping_id = $1 ORDER BY kind DESC",
         mapping_id)) {
    read_repair_row row;
    row.kind = r[0].as<std::string>();
    row.last_run_at = r[1].as<std::string>();
    row.checked = r[2].as<long>();
    row.fetched = r[3].as<long>();
    row.repaired = r[4].as<long>();
    row.runs = r[5].as<long>();
    row.total_checked = r[6].as<long>();
    row.total_fetched = r[7].as<long>();
    row.total_repaired = r[8].as<long>();
    out.push_back(row);
  }
  return out;
}

} // namespace syncforce::store
