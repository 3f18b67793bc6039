#pragma once

// What a schema-swap cutover must carry from the source schema to the target
// schema besides the tables themselves: every database object outside Syncforce
// that depends on a moved table, found through the catalog, with the SQL that
// carries it. Read-only: nothing here changes the database.

#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace syncforce::store {

/// A mapped table a cutover moves: the same table name in both schemas.
struct cutover_table {
  std::string object_name;
  std::string table;
  std::string source_mapping_id;
  std::string target_mapping_id;
};

/// When a dependent object's SQL runs.
enum class carry_phase {
  /// Before the write fence, while the application still writes (indexes, grants):
  /// it costs no downtime and is harmless if the cutover rolls back.
  prepare,
  /// Inside the switch transaction (views, functions, triggers, foreign keys,
  /// search_path): all of it commits together with the switch, or none of it.
  in_switch,
  /// Nothing to run (the object resolves through search_path, or is already there).
  none,
};

/// One thing outside Syncforce that depends on a moved table.
struct dependent_object {
  /// index, grant, view, function, trigger, foreign_key, search_path
  std::string kind;
  /// Qualified name (`public.contact_names`, `role app`, ...).
  std::string name;
  /// How it is carried, in a sentence.
  std::string action;
  carry_phase phase = carry_phase::none;
  /// Run first, in reverse list order (the switch drops dependents before recreating them).
  std::vector<std::string> drop_sql;
  /// Run after every drop, in list order.
  std::vector<std::string> create_sql;
  /// Non-empty: the cutover cannot carry this object; why, and what to do.
  std::string blocker;
};

/// Every dependent object of `tables` (in `source_schema`), in the order their
/// SQL must run; `roles` are application roles whose search_path must start
/// with the target schema even when no setting of theirs names the source.
/// With `move_tables` the target's tables end up in the source schema under
/// their names (move_table_objects): dependents are created again over the same
/// names (bound to the moved table's OID) and no search_path is changed.
std::vector<dependent_object> find_dependents(pqxx::transaction_base& tx, const std::string& source_schema,
                                              const std::string& target_schema,
                                              const std::vector<cutover_table>& tables,
                                              const std::vector<std::string>& roles, bool move_tables = false);

/// Where `--move-tables` sets the source's tables aside (fenced, with their rows):
/// `<source>_before_<target>`.
std::string aside_schema(const std::string& source_schema, const std::string& target_schema);

/// The switch statements of `--move-tables`, one object (kind `table`) per table:
/// the source's table set aside in aside_schema(), the target's `SET SCHEMA` into
/// the source schema, and its capture triggers made again so that they write to
/// the source schema's `_trigger_log` (the source connection's writer sends them).
/// Their SQL runs after every dependent's drop and before every create.
std::vector<dependent_object> move_table_objects(pqxx::transaction_base& tx, const std::string& source_schema,
                                                 const std::string& target_schema,
                                                 const std::vector<cutover_table>& tables);

/// `text` with every qualified reference to a moved table (`schema1.contact`,
/// `"Schema 1"."Contact"`) pointed at the target schema; a longer identifier
/// that merely starts with a table's name is left alone.
std::string retarget(const std::string& text, const std::string& source_schema, const std::string& target_schema,
                     const std::vector<cutover_table>& tables);

/// A search_path setting (`"$user", schema1, public`) with `target` placed right
/// before `source`; unchanged when `target` already comes first or `source` is absent.
std::string search_path_with(const std::string& path, const std::string& source, const std::string& target);

/// The statements of `objects` for `phase`: drops in reverse order, then creates.
std::vector<std::string> carry_statements(const std::vector<dependent_object>& objects, carry_phase phase);

/// The name of the fence triggers a cutover puts on the moved tables.
inline constexpr const char* fence_trigger = "syncforce_cutover_fence";
inline constexpr const char* fence_truncate_trigger = "syncforce_cutover_fence_truncate";

} // namespace syncforce::store
