#pragma once

#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

/// A create sent to Salesforce whose result is not recorded yet
/// (`syncforce.write_in_doubt`; sync/in_doubt.hpp says why it matters).
struct in_doubt_create {
  std::int64_t entry_id = 0;
  std::string table_name;
  std::optional<std::int64_t> record_id;
  std::string object_name;
  /// The record body sent (JSON object).
  std::string record_json;
  /// When it was sent, minus a margin for clock skew, as a SOQL datetime
  /// literal (YYYY-MM-DDTHH:MM:SSZ); filled by load_in_doubt.
  std::string since_soql;
};

/// Records creates about to be sent, in the caller's transaction (commit it
/// before sending).
void record_in_doubt(pqxx::transaction_base& tx, const std::string& connection_id,
                     const std::vector<in_doubt_create>& creates);

/// The connection's creates in doubt, oldest first; `margin` is taken off
/// their sent time in since_soql.
std::vector<in_doubt_create> load_in_doubt(pqxx::transaction_base& tx, const std::string& connection_id,
                                           std::chrono::seconds margin);

/// Forgets creates whose result is recorded (or reconciled), in the caller's transaction.
void clear_in_doubt(pqxx::transaction_base& tx, const std::string& connection_id,
                    const std::vector<std::int64_t>& entry_ids);

/// Whether the table `schema`.`table` has creates in doubt (a poll must not
/// apply a page then: a record it finds may be one of them).
bool has_in_doubt(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

/// Which of `sfids` a row of `schema`.`table` already carries (so a record
/// known to belong to another row is never taken for an in-doubt create).
std::vector<std::string> known_sfids(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                                     const std::vector<std::string>& sfids);

/// Which of `entry_ids` are still in `schema`._trigger_log.
std::vector<std::int64_t> entries_in_log(pqxx::transaction_base& tx, const std::string& schema,
                                         const std::vector<std::int64_t>& entry_ids);

} // namespace syncforce::store
