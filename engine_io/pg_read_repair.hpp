#pragma once

#include "engine_io/jobs.hpp"
#include "sync/type_mapping.hpp"

#include <string>
#include <vector>

namespace syncforce::engine_io {

// ---------------------------------------------------------------------------
// Read repair against PostgreSQL and Salesforce (the production side of
// sync_io::sweep and sync_io::repair_formulas; planning in sync/read_repair.hpp)
// ---------------------------------------------------------------------------

/// The look-back sweep: Id and stamp of the records stamped within the window
/// (the last j.config.read_repair.sweep_window_seconds, up to the mark),
/// keyset-paged; the records whose stamp differs from the table's, missing
/// ones and ones deleted in Salesforce are fetched and applied through the
/// poll's upsert (never back in SystemModstamp), each fetch under the table's
/// write-back guard and committed under the lease. The mark does not move.
/// Logs one line with the counts and records them (syncforce.read_repairs).
job_outcome sweep_late_commits(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec);

/// Formula drift repair: reads Id and the mapped `calculated` fields of every
/// record (keyset pages by Id) and updates only the rows whose values differ,
/// on the engine's session (no trigger-log entry, no echo); rows with a local
/// change waiting to be written are left alone. Logs and records the counts.
job_outcome repair_calculated_fields(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec,
                                     const std::vector<std::string>& calculated);

} // namespace syncforce::engine_io
