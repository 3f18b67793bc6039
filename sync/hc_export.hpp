#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sync/mapping_config.hpp"

namespace syncforce {

// ---------------------------------------------------------------------------
// The export document in Heroku Connect's shape (pure, no I/O)
// ---------------------------------------------------------------------------
//
// Heroku Connect's `connect:export` lists, per mapping, every index its table
// has (`Id` unique, `SystemModstamp`, the upsert field unique, the mapping's
// own), `sf_max_daily_api_calls` and `applied_at`; and for the connection
// `app_name`, `exported_at` (`+00:00` with microseconds) and
// `logplex_log_enabled`. Consumers (django-heroku-connect's checks, scripts
// diffing exports) compare against that shape.

/// Heroku Connect's default daily API call cap of a mapping.
constexpr std::int64_t hc_default_max_daily_api_calls = 30000;

/// `m` with the indexes its table has listed under their Salesforce names:
/// `Id` (unique), `SystemModstamp` (when mapped), the upsert field (unique),
/// then the mapping's own. An index the mapping lists keeps its entry.
mapping_config with_table_indexes(mapping_config m);

/// The mapping as exported: with_table_indexes, sf_max_daily_api_calls
/// defaulted to Heroku Connect's 30000, `applied_at` set, no revision.
mapping_config export_mapping(mapping_config m, std::optional<std::string> applied_at);

/// Whether two configurations are the same once both list their tables'
/// indexes and an unset sf_max_daily_api_calls reads as the default (so an
/// exported mapping imported back is no change).
bool same_exported_mapping(const mapping_config& a, const mapping_config& b);

} // namespace syncforce
