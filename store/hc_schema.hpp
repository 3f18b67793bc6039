#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "sync/type_mapping.hpp"

namespace syncforce::store {

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
/// (when mapped), the mapping's indexes, and the unique `hcu_idx_<t>_<upsert>`
/// of the upsert field (a unique External ID in Salesforce).
std::vector<hc_index_def> hc_index_defs(const hc_table_spec& spec);

/// The shadow table used by reloads: `<t>__reload`.
std::string reload_table_name(const std::string& table);

/// Creates, if missing: schema, hstore in public, public.get_xmlbinary(),
/// _trigger_log (+ sequence, indexes, notify trigger), _trigger_log_archive,
/// _hcmeta, _sf_event_log, hc_capture_insert_from_row, hc_capture_update_from_row.
/// Upgrades what earlier versions made: integer sequences become bigint, and
/// the trigger/capture functions are replaced when their body differs.
void ensure_connection_schema(pqxx::transaction_base& tx, const std::string& schema);

/// The `hcver` written to `_hcmeta`.
constexpr int hcmeta_version = 3;

/// Records the org and version in `_hcmeta`, as Heroku Connect keeps it: one
/// row, updated in place and only when it differs. An empty org_id is NULL.
void write_hcmeta(pqxx::transaction_base& tx, const std::string& schema, const std::string& org_id,
                  const std::string& details);

/// A unique index (the upsert field's hcu_idx_, or one of the mapping's) that
/// could not be built on an existing table because the column holds duplicate
/// values. The table keeps the non-unique `fallback_index` until they are resolved.
struct unique_index_problem {
  std::string index;
  std::string column;
  std::string fallback_index;
  long duplicate_values = 0;         ///< distinct values held by more than one row
  std::vector<std::string> examples; ///< up to 5, as `'value' (n rows)`
  /// One sentence for the log, diagnose and the mapping's state description.
  std::string describe(const std::string& schema, const std::string& table) const;
};

/// Read-only: for each of `unique_columns` of `schema.table` whose unique
/// index `hcu_idx_<t>_<column>` does not exist, what keeps it from being built
/// (duplicate values; an empty problem list when none). Nothing when the table
/// does not exist. For diagnose.
std::vector<unique_index_problem> find_unique_index_problems(pqxx::transaction_base& tx, const std::string& schema,
                                                             const std::string& table,
                                                             const std::vector<std::string>& unique_columns);

/// What ensure_mapping_table did.
struct mapping_ddl_result {
  bool created = false;                     ///< the table did not exist
  std::vector<std::string> added_columns;   ///< columns added to an existing table
  std::vector<std::string> type_mismatches; ///< existing columns whose type differs from the spec
  std::vector<unique_index_problem> unique_blocked; ///< unique indexes refused by duplicate values
  bool changed() const { return created || !added_columns.empty(); }
};

/// Creates the mapped table (or adds missing columns in place), its indexes,
/// logger/status functions (replaced when the access mode changed) and triggers.
/// On an existing table it also upgrades an integer id sequence to bigint and
/// builds missing unique indexes (reported in unique_blocked when duplicates
/// prevent it).
/// Needs ensure_connection_schema first.
mapping_ddl_result ensure_mapping_table(pqxx::transaction_base& tx, const hc_table_spec& spec);

/// How one column of an existing mapped table is brought to the spec.
enum class column_change_kind {
  added,   ///< a new field: added empty, its values are backfilled
  altered, ///< `ALTER COLUMN ... TYPE` in place, values kept (a length change, varchar -> text, ...)
  retyped, ///< dropped and re-added with the new type, values backfilled
  dropped, ///< the field left the mapping
};

/// One column change of change_mapping_table.
struct column_change {
  column_change_kind kind = column_change_kind::added;
  std::string column;
  std::string from_type; ///< empty for added
  std::string to_type;   ///< empty for dropped
};

/// Whether PostgreSQL can change a column from `from` to `to` in place without
/// changing what the values mean: text types among themselves (varchar(n),
/// varchar, text; a shorter varchar truncates as Salesforce does) and numeric
/// precision/scale that grow. Types as format_type() writes them.
bool in_place_type_change(const std::string& from, const std::string& to);

/// The column changes that bring a table with `existing` columns (name,
/// format_type) to `spec`: added, altered, retyped and dropped columns, in
/// that order. The system columns (`id`, `sfid`, `_hc_*`, systemmodstamp,
/// isdeleted, createddate, lastmodifieddate) are never dropped.
std::vector<column_change> plan_column_changes(
  const std::vector<std::pair<std::string, std::string>>& existing, const hc_table_spec& spec);

/// What change_mapping_table did (or would have done).
struct mapping_change_result {
  bool created = false;                 ///< the table did not exist (nothing else below)
  std::vector<column_change> changes;   ///< applied column changes
  std::vector<std::string> backfill;    ///< added and retyped columns, whose values must be read again
  std::vector<std::string> dropped_indexes;  ///< hc_idx_/hcu_idx_ indexes no longer in the spec
  bool dropped_reload_table = false;    ///< a `__reload` shadow with another shape was dropped
  std::vector<unique_index_problem> unique_blocked; ///< unique indexes refused by duplicate values
  /// Set when the change cannot be made (e.g. a view depends on a column to
  /// drop or change); nothing was changed then.
  std::string error;
  bool ok() const { return error.empty(); }
};

/// Brings the mapped table to `spec` in the caller's transaction, as Heroku
/// Connect does when a mapping is edited: new columns added, in-place type
/// changes altered, other type changes dropped and re-added, columns of
/// removed fields dropped, the spec's indexes created and others of ours
/// dropped, the logger/status functions and triggers ensured, and a
/// `__reload` shadow of another shape dropped. Creates the table when it does
/// not exist. When a view depends on a column to drop or change it returns
/// the error (naming the view) before changing anything.
mapping_change_result change_mapping_table(pqxx::transaction_base& tx, const hc_table_spec& spec);

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

/// (Re)creates `<t>__reload` empty, with the live table's columns and an id
/// sequence of its own, without triggers, primary key or indexes (the swap
/// builds them once the rows are in: build_shadow_keys, swap_reload_table);
/// `_hc_lastop` defaults to SYNCED there until the swap.
void create_reload_table(pqxx::transaction_base& tx, const hc_table_spec& spec);

/// Drops `<t>__reload` if it exists (an aborted reload).
void drop_reload_table(pqxx::transaction_base& tx, const hc_table_spec& spec);

/// A row of the shadow that a unique index refused when it was built: a value
/// of a unique column (sfid, the upsert field, a unique index of the mapping)
/// that a row loaded before it holds too.
struct shadow_duplicate {
  std::string sfid;
  std::string column;
  std::optional<std::string> value; ///< as text
  std::string index;                ///< the live table's name of the unique index
};

/// Builds `<t>__reload`'s primary key and unique indexes in the caller's
/// transaction. Where a unique index would refuse a value, the row loaded
/// first (lowest id) keeps it and the later ones are deleted and returned (in
/// load order), for the caller to set aside as read errors: the rows COPY
/// would have refused one by one had the index been there during the load.
/// Keys that exist already are left alone.
std::vector<shadow_duplicate> build_shadow_keys(pqxx::dbtransaction& tx, const hc_table_spec& spec);

/// The statements that build `<t>__reload`'s key and indexes, one each, each
/// runnable in a session of its own at the same time as the others (CREATE
/// INDEX takes a lock that other index builds share): the unique and plain
/// indexes of the live table, and a unique index on id that build_shadow_keys
/// turns into the primary key. Built before the swap's transaction (a first
/// load, engine_io/shadow_builds.*), the swap finds them and builds nothing
/// again; a statement that fails (a value twice under a unique index) leaves
/// its index to the swap, which sets the later rows aside.
std::vector<std::string> shadow_index_builds(pqxx::transaction_base& tx, const hc_table_spec& spec);

/// Runs one statement of shadow_index_builds in `tx` (a transaction of its
/// own), with maintenance_work_mem raised for it.
void build_shadow_index(pqxx::transaction_base& tx, const std::string& statement);

/// Whether the mapped table is missing or has no row (a first load).
bool live_table_empty(pqxx::transaction_base& tx, const hc_table_spec& spec);

/// How the shadow was swapped in.
struct reload_swap_result {
  bool renamed = false;     ///< true: table renamed in; false: rows copied (dependent views/keys)
  std::size_t rows = 0;     ///< rows in the table after the swap
  std::vector<shadow_duplicate> set_aside; ///< rows the shadow's unique indexes refused (build_shadow_keys)
};

/// Replaces the live table by `<t>__reload` inside the caller's transaction:
/// builds the shadow's key and indexes (build_shadow_keys first), drops the live table, renames the shadow, its sequence, key and indexes
/// to the live names, re-creates the triggers and keeps grants. When views or
/// foreign keys depend on the live table it copies the rows instead (delete +
/// insert under xmlbinary=hex), so those objects keep working. Readers block
/// on the lock and then see the complete new table, never a partial one.
reload_swap_result swap_reload_table(pqxx::dbtransaction& tx, const hc_table_spec& spec);

} // namespace syncforce::store
