#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace syncforce::store {

/// Of the rows `record_ids` of `schema.table`, those that never reached
/// Salesforce and will not on their own: no sfid, and no INSERT of theirs
/// waiting in `_trigger_log` (NEW or PENDING; claimed entries are PENDING).
/// Their INSERT failed or was never captured. Returns id -> the row as hstore
/// text without `_hc_lastop`/`_hc_err`, for promote_updates_without_insert.
std::map<std::int64_t, std::string> rows_without_insert(pqxx::transaction_base& tx, const std::string& schema,
                                                        const std::string& table,
                                                        const std::vector<std::int64_t>& record_ids);

} // namespace syncforce::store
