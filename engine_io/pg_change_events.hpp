#pragma once

// Change events applied to a mapped table (the PostgreSQL side of accelerated
// sync): the pure decisions are sync/change_events.hpp, this runs them on a
// worker's engine connection.

#include "engine_io/jobs.hpp"
#include "sync/type_mapping.hpp"

#include <string>
#include <vector>

namespace syncforce::engine_io {

using actors::change_batch;

/// The mapping's stored replay id (outcome.replay_id).
job_outcome load_change_event_mark(worker_context& ctx, const mapping_job& j);

/// Applies `batch` to `spec`'s table in one transaction with the mark (see
/// sync_io::apply_change_events). `calculated`: the object's formula and
/// roll-up fields, which events never carry and which are left as they are.
job_outcome apply_change_batch(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec,
                               const std::vector<std::string>& calculated, const change_batch& batch);

} // namespace syncforce::engine_io
