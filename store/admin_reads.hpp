#pragma once

// The Admin service's reads of the control schema and a connection's tables
// (state, write errors, export, audit log), one function per question.
// Timestamps come back as text already formatted the way the API shows them.

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

/// Locks the connection's row against concurrent admin changes (to the end of `tx`).
void lock_connection_row(pqxx::transaction_base& tx, const std::string& connection_id);

/// Rows of `schema`.`table`; none when the table does not exist (yet).
std::optional<long> table_row_count(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

/// Changes of `table` waiting in the trigger log (NEW, PENDING) and when the oldest was captured (UTC, ms).
struct pending_writes {
  long count = 0;
  std::string oldest_at; ///< empty without any
};
/// None without a trigger log.
std::optional<pending_writes> pending_writes_of(pqxx::transaction_base& tx, const std::string& schema,
                                                const std::string& table);

/// Writes of `table` that failed in the last 24 hours (0 without an archive).
long failed_writes_24h(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

/// Records of the mapping that could not be read into its table.
std::int64_t read_error_count(pqxx::transaction_base& tx, const std::string& mapping_id);

/// One line on the connection's latest cutover (running, or finished within 24 hours).
std::optional<std::string> recent_cutover_summary(pqxx::transaction_base& tx, const std::string& connection_id);

/// A write that failed, as the archive keeps it.
struct failed_write {
  std::int64_t id = 0;
  std::string action;
  std::int64_t record_id = 0;
  std::string sfid;
  std::string message;
  std::string processed_at; ///< UTC, seconds
};
/// The newest 1,000 failed writes of `table` within 24 hours, newest first (none without an archive).
std::vector<failed_write> recent_failed_writes(pqxx::transaction_base& tx, const std::string& schema,
                                               const std::string& table);

/// The database's time, as Heroku Connect's export writes it (`+00:00`, microseconds).
std::string export_timestamp(pqxx::transaction_base& tx);

/// When the mapping's configuration was last set (created, edited, refreshed), UTC with microseconds.
std::string mapping_applied_at(pqxx::transaction_base& tx, const std::string& mapping_id);

/// A row of the audit log; JSON columns as stored (empty when null).
struct audit_row {
  std::int64_t id = 0;
  std::string at; ///< UTC, ms
  std::string actor;
  std::string action;
  std::string object_type;
  std::string object_id;
  std::string before_json;
  std::string after_json;
  std::string connection_name;
  std::string object_name;
};
/// The newest `limit` entries, since `since` (a UTC time) when given, newest first.
std::vector<audit_row> audit_entries(pqxx::transaction_base& tx, const std::optional<std::string>& since, int limit);

// ---- diagnose -----------------------------------------------------------------

/// Whether `schema`.`table` exists (no exception, so `tx` stays usable).
bool relation_exists(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

/// NEW/PENDING entries of the schema's trigger log (of `table` only when set); the log must exist.
struct trigger_log_backlog {
  long waiting = 0;
  std::optional<double> oldest_age_seconds;
};
trigger_log_backlog backlog_of(pqxx::transaction_base& tx, const std::string& schema, const std::string& table = {});

/// Writes that failed in the last 24 hours (of `tables` only when given) and the newest one; the archive must exist.
struct failed_write_summary {
  long failed_24h = 0;
  std::string newest_table;
  std::string newest_message;
};
failed_write_summary failed_writes_summary(pqxx::transaction_base& tx, const std::string& schema,
                                           const std::vector<std::string>& tables);

/// Records of the connection (of one object when given) that could not be read, and the newest one.
struct read_error_summary {
  long records = 0;
  std::string newest_object;
  std::string newest_sfid;
  std::string newest_error;
};
read_error_summary read_errors_summary(pqxx::transaction_base& tx, const std::string& connection_id,
                                       const std::optional<std::string>& object_name);

} // namespace syncforce::store
