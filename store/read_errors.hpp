#pragma once

#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace syncforce::store {

// ---------------------------------------------------------------------------
// Read errors: Salesforce records set aside because PostgreSQL refuses one of
// their values (syncforce.read_errors, one row per mapping and record)
// ---------------------------------------------------------------------------

/// One record set aside by a load, poll or backfill.
struct read_error {
  std::string sfid;
  std::string field;   ///< the Salesforce field, when known
  std::string error;   ///< why, without the value
  std::string excerpt; ///< short printable excerpt (never an encrypted field's value)
};

/// Records (or refreshes: last_seen, count + 1, the latest error) the mapping's
/// read errors, in the caller's transaction. `operation`: load, poll or backfill.
void record_read_errors(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& operation,
                        const std::vector<read_error>& errors);

/// Clears the read errors of records that arrived clean; returns how many.
long clear_read_errors(pqxx::transaction_base& tx, const std::string& mapping_id,
                       const std::vector<std::string>& sfids);

/// In a reload's swap, before its checkpoint is deleted: clears the read
/// errors of records now in the table and of records no longer in Salesforce
/// (not seen since the load started).
long clear_read_errors_after_reload(pqxx::transaction_base& tx, const std::string& mapping_id,
                                    const std::string& qualified_table);

/// Whether the mapping has any read error.
bool has_read_errors(pqxx::transaction_base& tx, const std::string& mapping_id);

/// Read errors by mapping id, for every mapping of a connection.
std::vector<std::pair<std::string, long>> count_read_errors(pqxx::transaction_base& tx,
                                                            const std::string& connection_id);

/// A read error as listed.
struct read_error_row {
  std::string object_name;
  std::string sfid;
  std::string field;
  std::string error;
  std::string excerpt;
  std::string operation;
  std::string first_seen; ///< ISO 8601 UTC
  std::string last_seen;
  long count = 0;
};

/// A connection's read errors (one object's when `object_name` is set), newest first.
std::vector<read_error_row> list_read_errors(pqxx::transaction_base& tx, const std::string& connection_id,
                                             const std::optional<std::string>& object_name, long limit = 1000);

} // namespace syncforce::store
