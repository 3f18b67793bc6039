#pragma once

// The schema-swap cutover's statements (services/cutover_runner.cpp runs the
// steps, docs/schema-swap.md): its row in syncforce.cutovers, its advisory lock,
// the write fence, the drain and catch-up checks, and the hand-over of the
// mappings. One function per question or change, each in the caller's
// transaction (or session, for the advisory lock); callers commit.

#include "store/cutover_catalog.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace syncforce::store {

/// The advisory lock class of cutovers (pg_advisory_lock(class, id)): "SFCU".
/// Held by the runner's session for the whole run, so "its runner is gone" is
/// exactly "the lock can be taken".
inline constexpr int cutover_lock_class = 0x53464355;

/// Waits for cutover `id`'s lock on the session of `tx` (held past its commit).
void lock_cutover_session(pqxx::transaction_base& tx, long long id);
/// Takes cutover `id`'s lock on the session if free; false when its runner holds it.
bool try_lock_cutover_session(pqxx::transaction_base& tx, long long id);
void unlock_cutover_session(pqxx::transaction_base& tx, long long id);

/// Statements of `tx` wait at most `timeout` for a lock (to the end of `tx`).
void set_local_lock_timeout(pqxx::transaction_base& tx, std::chrono::milliseconds timeout);
/// An empty search_path to the end of `tx`: the carried SQL names every object by its schema.
void clear_local_search_path(pqxx::transaction_base& tx);
/// Runs `statements` in order; with `name_failing`, a failure says which statement
/// (its first 300 characters) failed.
void run_statements(pqxx::transaction_base& tx, const std::vector<std::string>& statements, bool name_failing);

/// The mapping's write block (ordered writes stopped on a failed insert) as JSON text, if any.
std::optional<std::string> write_block_text(pqxx::transaction_base& tx, const std::string& mapping_id);
/// The first mapping of `object_names` of the connection whose ordered writes are
/// stopped: (object name, block JSON).
std::optional<std::pair<std::string, std::string>> first_write_block(pqxx::transaction_base& tx,
                                                                     const std::string& connection_id,
                                                                     const std::vector<std::string>& object_names);
/// A running cutover of either connection (its id).
std::optional<std::string> running_cutover_between(pqxx::transaction_base& tx, const std::string& connection_a,
                                                   const std::string& connection_b);

/// A new cutover's row (status running, step planned).
struct new_cutover {
  std::string source_connection_id;
  std::string target_connection_id;
  std::string source_schema;
  std::string target_schema;
  std::string tables_json; ///< [{object_name, table, source_mapping_id, target_mapping_id}]
  std::string plan_json;
  std::string actor;
  std::string node;
};
/// Inserts it; returns its id.
long long insert_cutover(pqxx::transaction_base& tx, const new_cutover& c);

void set_cutover_step(pqxx::transaction_base& tx, long long id, const std::string& step);
/// Step fenced, fenced_at now (the write downtime starts).
void mark_cutover_fenced(pqxx::transaction_base& tx, long long id);
/// Step switched, status done; returns the write downtime (switched_at - fenced_at) in ms.
long long finish_cutover_switched(pqxx::transaction_base& tx, long long id);
/// Status rolled_back with `reason`.
void finish_cutover_rolled_back(pqxx::transaction_base& tx, long long id, const std::string& reason);

/// A cutover's row as the switch and a rollback read it.
struct cutover_row {
  std::string source_schema;
  std::string tables_json;
  std::string status;
  std::string step;
  std::string source_connection_id;
};
/// Cutover `id`'s row, locked (FOR UPDATE) to the end of `tx`; none when there is no such cutover.
std::optional<cutover_row> lock_cutover_row(pqxx::transaction_base& tx, long long id);

/// Records that the cutover paused `connection_id` (so the switch or a rollback resumes exactly it).
void record_paused_connection(pqxx::transaction_base& tx, long long id, const std::string& connection_id);
/// The connections cutover `id` paused that are still PAUSED (ids, by connection name).
std::vector<std::string> connections_paused_by(pqxx::transaction_base& tx, long long id);

/// Puts the write fence (row and TRUNCATE triggers calling syncforce.cutover_fence) on
/// `schema`.`table`, replacing one already there.
void put_write_fence(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                     const std::string& target_schema, long long id);
/// Drops the fence of `schema`.`table`; nothing when the table is gone.
void drop_write_fence(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

/// The connection's changes of `tables` not yet sent to Salesforce: creates in doubt
/// plus trigger-log entries NEW or PENDING in `schema` (when it has a trigger log).
long long unsent_change_count(pqxx::transaction_base& tx, const std::string& connection_id, const std::string& schema,
                              const std::vector<std::string>& tables);
/// Rows of `schema`.`table` without an sfid (their inserts failed in Salesforce).
long long rows_without_sfid(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

/// Whether the mapping's high-water mark has reached `stamp` (Salesforce's text).
bool mark_reached(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& stamp);
/// Records of `source_schema`.`table` (with an sfid) that `target_schema`.`table` lacks.
long long records_missing_in_target(pqxx::transaction_base& tx, const std::string& source_schema,
                                    const std::string& target_schema, const std::string& table);
/// Moves the target mapping's mark back to just before the earliest record of the source
/// missing in the target, and asks it to recover, in one statement; nothing when it has a
/// command pending or its mark is already earlier.
void rewind_to_missing(pqxx::transaction_base& tx, const std::string& target_mapping_id,
                       const std::string& source_schema, const std::string& target_schema, const std::string& table);
/// Of Salesforce's recent changes (`ids`, `stamps`, `deleted`, index for index), how many
/// `schema`.`table` does not hold yet (a deleted one: still there in an older version).
long long changes_not_in_table(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                               const std::vector<std::string>& ids, const std::vector<std::string>& stamps,
                               const std::vector<bool>& deleted);
/// Asks `mapping_ids` without a pending command to recover (poll at once).
void ask_recover(pqxx::transaction_base& tx, const std::vector<std::string>& mapping_ids);

/// --move-tables: the source's mapping takes the target's configuration and sync state
/// (its checkpoint and read errors replaced by the target's) and the target's is removed.
void hand_over_mapping(pqxx::transaction_base& tx, const std::string& source_mapping_id,
                       const std::string& target_mapping_id);

/// Whether syncforce.cutovers exists (migrations ran).
bool has_cutovers_table(pqxx::transaction_base& tx);
/// Running cutovers: (id, "step (run by node N)"), oldest first.
std::vector<std::pair<long long, std::string>> running_cutovers(pqxx::transaction_base& tx);

} // namespace syncforce::store
