#pragma once

// What the Prometheus gauges read from the control schema and the connections'
// trigger logs at scrape time (metrics/control_gauges.cpp turns them into
// metric families): one function per family of gauges.

#include <pqxx/pqxx>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

/// Cuts every later statement of the session off after `timeout`.
void set_session_statement_timeout(pqxx::connection& db, std::chrono::milliseconds timeout);

/// A mapping's state and how far its table is behind Salesforce.
struct mapping_lag {
  std::string schema;
  std::string object_name;
  std::string state;
  /// Now minus the mapping's high-water mark; none before its first load.
  std::optional<double> lag_seconds;
};
/// Every mapping of every connection, by schema and object.
std::vector<mapping_lag> read_mapping_lags(pqxx::transaction_base& tx);

/// A connection's trigger log: entries not yet written to Salesforce.
struct trigger_log_backlog {
  std::string schema;
  /// By state: NEW and PENDING are always present (0 when none).
  std::map<std::string, double> count_by_state;
  /// Age of the oldest NEW entry (0 when none waits).
  double oldest_new_age_seconds = 0;
};
/// Every connection whose trigger log exists, by schema.
std::vector<trigger_log_backlog> read_trigger_log_backlogs(pqxx::transaction_base& tx);

/// Leases `node` holds while it is live, by kind of unit (mapping, writer, user; 0 when none).
std::map<std::string, double> leases_held_by(pqxx::transaction_base& tx, const std::string& node);

} // namespace syncforce::store
