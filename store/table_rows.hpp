#pragma once

// A mapped table's rows looked up or removed by sfid (change events, read
// repair's sweep), and its reload shadow table dropped by an admin command.
// Every function runs in the caller's transaction.

#include "sync/read_repair.hpp"

#include <pqxx/pqxx>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace syncforce::store {

/// Deletes the rows of `schema`.`table` whose sfid is among `sfids`; returns how many.
std::size_t delete_rows_by_sfid(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                const std::vector<std::string>& sfids);

/// Which of `sfids` `schema`.`table` holds.
std::set<std::string> present_sfids(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                    const std::vector<std::string>& sfids);

/// The rows of `sfids` with their `stamp_column` (canonical, empty when NULL).
std::vector<local_stamp> local_stamps(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                      const std::string& stamp_column, const std::vector<std::string>& sfids);

/// The sfid of the row `id` of `schema`.`table`; none when the row is gone or has none yet.
std::optional<std::string> sfid_of_row(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                       std::int64_t id);

/// Whether `schema`.`table` has a reload shadow table (reload_table_name).
bool reload_table_exists(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

/// Drops the reload shadow table of `schema`.`table` (reload_table_name), if there is one.
void drop_reload_table(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

} // namespace syncforce::store
