#pragma once

// The schema-swap cutover (docs/schema-swap.md): a blocking step machine whose
// progress lives in syncforce.cutovers, so that a node that dies mid-way leaves
// something another run can settle. Runs on a worker of the admin service's
// long-call pool, never on a gRPC thread.

#include "actors/database_probe.hpp"
#include "sync/admin_rules.hpp"
#include "syncforce/v1/admin.pb.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <vector>

namespace syncforce::services {

/// What `syncforce cutover` asks for.
struct cutover_request {
  std::string source;
  std::string target;
  std::vector<std::string> mappings;
  std::vector<std::string> roles;
  bool dry_run = false;
  /// Move the target's tables into the source's schema under their names instead of
  /// changing the roles' search_path (`--move-tables`).
  bool move_tables = false;
  std::chrono::milliseconds drain_timeout{60'000};
  std::chrono::milliseconds catch_up_timeout{120'000};
  std::chrono::milliseconds lock_timeout{10'000};
  /// The admin token's name (audit rows) and the node running it.
  std::string actor;
  std::string node;
};

/// Plans the cutover and, unless a dry run, runs it to the end: `out` says what
/// was done, the outcome (done or rolled_back) and the write downtime. A refused
/// request is INVALID_ARGUMENT with the problems in `out.rejected`; a rolled-back
/// cutover answers OK with outcome rolled_back and the error.
grpc::Status run_cutover(const std::string& database_url, const secret_lookup& secrets, const cutover_request& req,
                         syncforce::v1::CutoverReport& out);

/// Rolls back every running cutover whose runner is gone (its database session,
/// which holds the cutover's advisory lock, ended): the write fences are dropped
/// and the source connection syncs the tables as before. Returns how many.
/// Called when a node starts and before a new cutover is planned.
int settle_interrupted_cutovers(const std::string& database_url, const std::string& node);

/// `probe`, which after each good check also settles interrupted cutovers (at
/// most every `every`): so the node that restarts after dying mid-cutover rolls
/// it back as soon as its database is up, and a node that never comes back is
/// covered by any other node.
std::unique_ptr<actors::database_probe> settling_cutovers(std::unique_ptr<actors::database_probe> probe,
                                                          std::string database_url, std::string node,
                                                          std::chrono::milliseconds every = std::chrono::seconds(10));

} // namespace syncforce::services
