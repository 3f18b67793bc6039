#pragma once

#include "store/control_repo.hpp"
#include "sync/engine_config.hpp"
#include "syncforce/v1/admin.pb.h"

#include <pqxx/pqxx>

#include <string>

namespace syncforce::services {

/// Runs every check of connection `c` (only `object_name`'s mapping checks when
/// it is not empty) and appends the results to `out` with their counts:
/// credentials, API version, query cursors, API budget left, trigger-log
/// backlog and its oldest entry, failed writes, mappings in error, and per
/// mapping its table and fields against describe. Every non-pass has a hint.
/// Blocking (PostgreSQL in `tx`, Salesforce over HTTP).
void run_diagnose(pqxx::transaction_base& tx, const store::connection_row& c, const std::string& object_name,
                  const secret_lookup& secrets, syncforce::v1::DiagnoseReport& out);

/// The NODE_HEALTH check of the answering node: an error when one of its
/// supervisors gave up (`failure`), a pass otherwise.
void append_node_health(syncforce::v1::DiagnoseReport& out, const std::string& node_name, const std::string& failure);

} // namespace syncforce::services
