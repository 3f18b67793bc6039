#pragma once

#include "store/channels.hpp"
#include "store/rows.hpp"
#include "sync/engine_config.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

// ---------------------------------------------------------------------------
// Connections, mappings, states and high-water marks in the control schema
// ---------------------------------------------------------------------------
//
// Every function runs in the caller's transaction; callers commit.


/// What an import changed.
struct import_report {
  std::vector<std::string> connection_ids;
  int connections_created = 0;
  int mappings_created = 0;
  int mappings_changed = 0;
};

/// Stores the file's connections and mappings: new ones are inserted, changed
/// ones updated (a mapping's revision goes up when its config changed), the
/// rest left as they are, so importing the same file again changes nothing.
/// States and high-water marks are kept.
import_report import_engine_config(pqxx::transaction_base& tx, const engine_config& cfg);

std::vector<connection_row> load_connections(pqxx::transaction_base& tx);
std::vector<mapping_row> load_mappings(pqxx::transaction_base& tx, const std::string& connection_id);
std::optional<mapping_row> load_mapping(pqxx::transaction_base& tx, const std::string& mapping_id);

void set_connection_state(pqxx::transaction_base& tx, const std::string& connection_id, const std::string& state);
/// A connection starting: IDLE, unless it is PAUSED (only Resume ends a pause, also across
/// restarts). Returns the state it is in now.
std::string set_connection_idle_unless_paused(pqxx::transaction_base& tx, const std::string& connection_id);
/// Stores `object_name` (describe's spelling) as the mapping's object name when
/// it differs only in case from the stored one; true when it changed.
bool canonicalize_object_name(pqxx::transaction_base& tx, const std::string& mapping_id,
                              const std::string& object_name);

void set_mapping_state(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& state,
                       const std::string& description);
/// Sets the mark (canonical or PostgreSQL timestamp text, UTC) and the largest
/// Id applied at it (nullopt: the next poll reads `>=` the mark); nullopt clears both.
void set_high_water_mark(pqxx::transaction_base& tx, const std::string& mapping_id,
                         const std::optional<std::string>& hwm,
                         const std::optional<std::string>& hwm_id = std::nullopt);

/// Progress of a full load into the shadow table, so a restart resumes it.
struct load_checkpoint {
  std::string method; ///< "rest" or "bulk"
  std::string shape;  ///< the shadow table's columns, comma-separated
  std::optional<std::string> start_mark; ///< canonical timestamp
  std::optional<std::string> start_id;   ///< the largest Id at start_mark (keyset polls)
  long expected_rows = 0;
  long rows_loaded = 0;
  std::optional<std::string> last_id;
  std::optional<std::string> bulk_job_id;
  std::optional<std::string> bulk_locator;
};

std::optional<load_checkpoint> load_load_checkpoint(pqxx::transaction_base& tx, const std::string& mapping_id);
/// Inserts or replaces the mapping's checkpoint.
void save_load_checkpoint(pqxx::transaction_base& tx, const std::string& mapping_id, const load_checkpoint& c);
void delete_load_checkpoint(pqxx::transaction_base& tx, const std::string& mapping_id);

// ---------------------------------------------------------------------------
// Admin changes: the audit trail and the wake-up of the connection's node
// ---------------------------------------------------------------------------


/// Tells the engines (on commit) that `connection_id`'s configuration, state
/// or commands changed.
void notify_control(pqxx::transaction_base& tx, const std::string& connection_id);

/// One administrative change. `before`/`after` are JSON texts (empty: none)
/// that must hold no secret (only references to them).
struct audit_entry {
  std::string actor;       ///< the admin token's name
  std::string action;      ///< e.g. connection.create, mapping.edit, connection.pause
  std::string object_type; ///< connection | mapping
  std::string object_id;
  std::string connection_id;
  std::string connection_name;
  std::string object_name; ///< the mapping's object, when a mapping
  std::string before;
  std::string after;
};
void record_audit(pqxx::transaction_base& tx, const audit_entry& e);

/// Takes the mapping's command (and clears it) in the caller's transaction.
std::optional<std::string> take_mapping_command(pqxx::transaction_base& tx, const std::string& mapping_id);

} // namespace syncforce::store
