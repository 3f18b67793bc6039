#pragma once

#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace syncforce::store {

// ---------------------------------------------------------------------------
// Read repair runs: what a mapping's look-back sweep and formula repair last
// did (syncforce.read_repairs, one row per mapping and kind)
// ---------------------------------------------------------------------------

/// One finished run.
struct read_repair_run {
  std::string kind; ///< "sweep" or "formula"
  /// When the run started (canonical, the engine's clock); stored as its
  /// last_run_at. None: the database's now().
  std::optional<std::string> started_at;
  std::optional<std::string> window_from; ///< canonical; sweeps only
  std::optional<std::string> window_to;
  long checked = 0;
  long fetched = 0;
  long repaired = 0;
  long api_calls = 0;
};

/// Records a finished run (last run replaced, totals added) in the caller's transaction.
void record_read_repair(pqxx::transaction_base& tx, const std::string& mapping_id, const read_repair_run& run);

/// What `syncforce mapping:state` shows of one kind.
struct read_repair_row {
  std::string kind;
  std::string last_run_at; ///< canonical
  long checked = 0;
  long fetched = 0;
  long repaired = 0;
  long runs = 0;
  long total_checked = 0;
  long total_fetched = 0;
  long total_repaired = 0;
};

/// The mapping's rows (sweep first), none before the first run.
std::vector<read_repair_row> load_read_repairs(pqxx::transaction_base& tx, const std::string& mapping_id);

/// When the mapping's last sweep started (canonical), on whichever node ran it;
/// none before the first.
std::optional<std::string> last_sweep_started(pqxx::transaction_base& tx, const std::string& mapping_id);

} // namespace syncforce::store
