#pragma once

#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "sync/write_record.hpp"

namespace syncforce::store {

// ---------------------------------------------------------------------------
// The write-back's results written to the mapped table's rows
// ---------------------------------------------------------------------------

/// Writes results to the rows of `schema.table`, set-based: one UPDATE per key
/// kind joined to the results as arrays, each row found by its primary key
/// (`by_id`, keys are row ids) or its sfid (`by_sfid`), whatever the table's
/// size. A row gets the sfid (when one is given), `_hc_lastop` `SYNCED` or
/// `FAILED` and `_hc_err`; a row with another change still waiting in
/// `_trigger_log` (`NEW`/`PENDING`) keeps `_hc_lastop = 'PENDING'`, so call it
/// after the batch's own entries left the log, in the same transaction. Each
/// key at most once per call (fold_row_outcomes). Run on an engine session
/// (`xmlbinary = 'hex'`): the capture triggers leave these updates alone.
void record_row_outcomes(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                         const std::vector<row_outcome>& by_id, const std::vector<row_outcome>& by_sfid);

} // namespace syncforce::store
