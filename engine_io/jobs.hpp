#pragma once

// The job interfaces engine_io implements, named in its own namespace: the
// actors define what a job is and when it runs (actors/worker_pool.hpp,
// sync_io.hpp, write_io.hpp); this module does the blocking work.

#include "actors/log.hpp"
#include "actors/sync_io.hpp"
#include "actors/write_io.hpp"
#include "engine_io/worker_context.hpp"

namespace syncforce::engine_io {

using actors::connection_job;
using actors::job_outcome;
using actors::mapping_job;
using actors::outcome_kind;
using actors::sf_user;
using actors::worker_context;
using actors::write_job;
using actors::write_mapping;

using actors::log;
using actors::log_labeled;
using actors::sync_io;
using actors::write_io;

} // namespace syncforce::engine_io
