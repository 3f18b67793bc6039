#pragma once

#include "engine_io/jobs.hpp"
#include "salesforce/client.hpp"

namespace syncforce::engine_io {

/// What a read-side job does about a Salesforce error: a bad query or field
/// parks the mapping (bad_config), a spent budget waits (budget), sessions,
/// 5xx, lost cursors and unfinished jobs retry, anything else is fatal.
job_outcome from_sf_error(const salesforce::sf_error& e);

} // namespace syncforce::engine_io
