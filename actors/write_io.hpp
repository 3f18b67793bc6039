#pragma once

#include "actors/worker_pool.hpp"
#include "sync/mapping_config.hpp"
#include "sync/write_plan.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace syncforce::actors {

/// One mapping as the writer sees it.
struct write_mapping {
  std::string mapping_id;
  mapping_config config;
};

/// What one write cycle of a connection needs.
struct write_job {
  std::string connection_id;
  std::string name;
  std::string schema;
  std::shared_ptr<const sf_user> user;
  write_mode mode = write_mode::merged;
  double api_version = 60.0;
  bool disable_bulk_writes = false;
  bool ucs_basic_collation = false;
  std::vector<write_mapping> mappings;
  /// Entries claimed per cycle.
  std::size_t claim_limit = 10000;
  /// Runs of at least this many same-type changes go through Bulk 2.0 (ordered writes).
  std::size_t bulk_threshold = 2000;
  /// Results of answered batches recorded together once this many items wait
  /// (sync/write_record.hpp), or sooner when no call is in flight.
  std::size_t record_group = 1000;
  /// `_trigger_log_archive` retention.
  std::chrono::seconds archive_retention{std::chrono::hours(24 * 31)};
  /// First cycle after (re)start: entries left PENDING by a crash go back to NEW.
  bool recover_pending = false;
  /// Purge the archive in this cycle.
  bool purge_archive = false;
  /// Creates in doubt are settled only once they are this old: a request whose
  /// sender died may still be running in Salesforce (and make its records late).
  std::chrono::milliseconds in_doubt_settle_after{std::chrono::seconds(120)};
};

/// The blocking side of the writer: claims `_trigger_log` entries, writes them
/// to Salesforce and records the results. Production talks to PostgreSQL and
/// Salesforce; tests may substitute a fake.
class write_io {
public:
  virtual ~write_io() = default;
  /// One cycle. outcome.rows = entries finished; outcome.more when
  /// the claim was full (run again at once). Transient trouble returns the
  /// unattempted entries to NEW and a retry (or budget) outcome.
  virtual job_outcome write_cycle(worker_context& ctx, const write_job& j) = 0;
};

} // namespace syncforce::actors
