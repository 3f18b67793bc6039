#pragma once

#include "actors/sync_io.hpp"

namespace syncforce::actors {

/// sync_io::take_command against the control schema and the connection's schema.
job_outcome take_and_apply_command(worker_context& ctx, const mapping_job& j);

} // namespace syncforce::actors
