#pragma once

#include "engine_io/jobs.hpp"

namespace syncforce::engine_io {

/// sync_io::take_command against the control schema and the connection's schema.
job_outcome take_and_apply_command(worker_context& ctx, const mapping_job& j);

} // namespace syncforce::engine_io
