#pragma once
// Refreshing some columns of rows already in a synced table from records read
// again from Salesforce, quietly: a backfill after mapping:edit (RESYNC) and
// the formula repair (docs/sync-read.md) both do exactly this.

#include <pqxx/pqxx>

#include <cstddef>
#include <string>
#include <vector>

namespace syncforce::store {

/// Stages `lines` [first, last) (CSV in the order of `staged`, which starts with sfid)
/// in a temporary table named `stage`, then sets `columns` of the rows of
/// `schema`.`table` with the same sfid, only where they differ and never on a row
/// with a local change waiting to be written (the echo rule, as polls do). Run on
/// the engine's session, so the capture trigger stays quiet; the rows' `_hc_lastop`
/// and `_hc_err` are kept as they were (the row trigger would mark them SYNCED).
/// Returns the rows updated.
long refresh_columns(pqxx::transaction_base& t, const std::string& schema, const std::string& table,
                     const std::vector<std::string>& staged, const std::vector<std::string>& columns,
                     const std::vector<std::string>& lines, std::size_t first, std::size_t last,
                     const std::string& stage);

} // namespace syncforce::store
