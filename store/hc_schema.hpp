#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "sync/type_mapping.hpp"

namespace syncforce {

// ---------------------------------------------------------------------------
// Heroku-Connect-compatible DDL
// ---------------------------------------------------------------------------
//
// Every function here runs in the caller's transaction and is idempotent:
// applying it twice changes nothing the second time. Identifiers are quoted
// with pqxx (quote_name), literals with quote(). Callers commit.

/// PostgreSQL truncates identifiers to 63 bytes; names are computed the same way.
std::string pg_identifier(std::string name);

/// `"schema"."name"` for `name` in `schema`.
std::string qualified_name(const pqxx::transaction_base& tx, const std::string& schema,
                           const std::string& name);

/// The names Heroku Connect gives a mapped table's objects.
struct hc_table_names {
  std::string table;
  std::string sequence;       ///< <t>_id_seq
  std::string primary_key;    ///< <t>_pkey
  std::string logger;         ///< hc_<t>_logger (function)
  std::string log_trigger;    ///< hc_<t>_logtrigger
  std::string status;         ///< hc_<t>_status (function)
  std::string status_trigger; ///< hc_<t>_status_trigger
};
hc_table_names hc_names_for(const std::string& table);

/// An index of a mapped table with its final name.
struct hc_index_def {
  std::string name;
  std::string column;
  bool unique = false;
};

/// All indexes of a mapped table: `hcu_idx_<t>_sfid`, `hc_idx_<t>_systemmodstamp`
/// (when mapped), the mapping's indexes, and `hc_idx_<t>_<upsert>` when the
/// upsert field has no index of its own.
std::vector<hc_index_def> hc_index_defs(const hc_table_spec& spec);

/// The shadow table used by reloads: `<t>__reload`.
std::string reload_table_name(const std::string& table);

/// Creates, if missing: schema, hstore in public, public.get_xmlbinary(),
/// _trigger_log (+ sequence, indexes, notify trigger), _trigger_log_archive,
/// _hcmeta, _sf_event_log, hc_capture_insert_from_row, hc_capture_update_from_row.
void ensure_connection_schema(pqxx::transaction_base& tx, const std::string& schema);

/// Records the org and version in `_hcmeta` (one row; updated in place).
void write_hcmeta(pqxx::transaction_base& tx, const std::string& schema, const std::string& org_id,
                  const std::string& details);

/// What ensure_mapping_table did.
struct mapping_ddl_result {
  bool created = false;                     ///< the table did not exist
  std::vector<std::string> added_columns;   ///< columns added to an existing table
  std::vector<std::string> type_mismatches; ///< existing columns whose type differs from the spec
  bool changed() const { return created || !added_columns.empty(); }
};

/// Creates the mapped table (or adds missing columns in place), its indexes,
/// logger/status functions (replaced when the access mode changed) and triggers.
/// Needs ensure_connection_schema first.
mapping_ddl_result ensure_mapping_table(pqxx::transaction_base& tx, const hc_table_spec& spec);

/// Drops the mapped table with its functions (mapping deleted).
void drop_mapping_table(pqxx::transaction_base& tx, const std::string& schema,
                        const std::string& table);

/// Adds one column in place (`ALTER TABLE ... ADD COLUMN IF NOT EXISTS`).
/// Returns false when it already existed.
bool add_mapping_column(pqxx::transaction_base& tx, const std::string& schema,
                        const std::string& table, const pg_column& column);

/// Changes a column's type by dropping and re-adding it (its values are lost;
/// the engine reloads them).
void replace_mapping_column(pqxx::transaction_base& tx, const std::string& schema,
                            const std::string& table, const pg_column& column);

// ---------------------------------------------------------------------------
// reload through a shadow table
// ---------------------------------------------------------------------------

/// (Re)creates `<t>__reload` empty, with the live table's shape (columns, own
/// id sequence, indexes under temporary names), without triggers;
/// `_hc_lastop` defaults to SYNCED there until the swap.
void create_reload_table(pqxx::transaction_base& tx, const hc_table_spec& spec);

/// Drops `<t>__reload` if it exists (an aborted reload).
void drop_reload_table(pqxx::transaction_base& tx, const hc_table_spec& spec);

/// How the shadow was swapped in.
struct reload_swap_result {
  bool renamed = false;     ///< true: table renamed in; false: rows copied (dependent views/keys)
  std::size_t rows = 0;     ///< rows in the table after the swap
};

/// Replaces the live table by `<t>__reload` inside the caller's transaction:
/// drops the live table, renames the shadow, its sequence, key and indexes
/// to the live names, re-creates the triggers and keeps grants. When views or
/// foreign keys depend on the live table it copies the rows instead (delete +
/// insert under xmlbinary=hex), so those objects keep working. Readers block
/// on the lock and then see the complete new table, never a partial one.
reload_swap_result swap_reload_table(pqxx::transaction_base& tx, const hc_table_spec& spec);

} // namespace syncforce
