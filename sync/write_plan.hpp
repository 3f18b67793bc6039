#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sync/hstore.hpp"

namespace syncforce {

// ---------------------------------------------------------------------------
// Write-back planning: claimed `_trigger_log` entries -> Salesforce batches
// (pure, no I/O)
// ---------------------------------------------------------------------------
//
// Contracts with the writer that executes a plan:
//
// - Batches run in the order of `write_plan::batches`, one after the other.
//   The items of one batch are independent: no record appears twice in a batch
//   (same record key, same sfid, or same external id value for upserts), so a
//   collection call or a Bulk 2.0 job may apply them in any order.
// - An `update` or `remove` item whose `sfid` is nullopt targets a record that
//   had no sfid when the change was captured (inserted, not yet synced). The
//   writer resolves the sfid at execution time: first from the result of an
//   earlier item of this plan with the same `record_id` (a create/upsert that
//   ran in an earlier batch), else from the row's `sfid` column. A `remove`
//   item without sfid is only planned when an earlier item of the same plan
//   inserts that record (ordered mode); other deletes without an sfid never
//   reached Salesforce and are skipped (`skip_reason::no_sfid`).
// - Every entry id appears exactly once in the plan: as an item's `entry_id`
//   (mark SUCCESS/FAILED from that item's result), in an item's `merged_ids`
//   (mark MERGED in the same transaction as the owner's result; the row's
//   `_hc_lastop`/`_hc_err` follow the owner's result), or in `skipped` (MERGED
//   or IGNORED, see `outcome_of`). If an item is retried (transient error),
//   its merged ids stay PENDING with it.
// - Rows: create/upsert results write the sfid back to `record_id`'s row; an
//   item whose `record_id` is nullopt (hc_capture_update_from_row with no
//   linked entry) identifies its row by `sfid`.
// - `values` never holds system columns (see `default_system_columns`). A
//   value of nullopt means "set the field to null" (SQL NULL).
// - Upsert items carry the external id value in `values` (under
//   `write_batch::upsert_column`) and in `external_id`.
// - Merged mode is unsafe with circular references between records of
//   different tables (as in Heroku Connect); relationship columns
//   `<rel>__r__<ext id>` are ordinary values here and let a child refer to a
//   parent that is created later in the same plan.

/// The action of a trigger-log entry (`INSERT`, `UPDATE`, `DELETE`).
enum class write_action { insert, update, remove };

/// `INSERT`/`UPDATE`/`DELETE` (any case) -> action; nullopt otherwise.
std::optional<write_action> parse_write_action(std::string_view text);
std::string_view to_string(write_action a);

/// How a connection writes: `ordered` (feature poll_db_no_merge) or `merged`.
enum class write_mode { ordered, merged };

/// The Salesforce call a batch makes. `upsert` matches on the mapping's
/// external id (used for inserts when the mapping has an upsert field, so a
/// retried insert never duplicates); `update` and `remove` go by sfid.
enum class write_operation { create, upsert, update, remove };
std::string_view to_string(write_operation o);

/// How a batch is sent: an sObject Collections call or a Bulk 2.0 ingest job.
enum class write_transport { collection, bulk };
std::string_view to_string(write_transport t);

/// One claimed `_trigger_log` entry (converted by the writer from the row).
struct write_entry {
  std::int64_t id = 0;
  write_action action = write_action::insert;
  std::string table_name;
  /// The row's `id`; null for entries made by `hc_capture_update_from_row`.
  std::optional<std::int64_t> record_id;
  std::optional<std::string> sfid;
  /// INSERT: the whole new row; UPDATE: only the changed columns.
  hstore values;
  /// UPDATE/DELETE: the whole old row (null for `hc_capture_update_from_row`).
  std::optional<hstore> old;
};

/// What the planner needs to know about one mapped table.
struct table_write_config {
  /// Only read_write mappings write; entries of other tables are skipped.
  bool writable = false;
  /// The lowercase column of the mapping's external id (upsert field).
  std::optional<std::string> upsert_column;
};

/// `id`, `sfid`, `_hc_lastop`, `_hc_err`, `systemmodstamp`, `createddate`,
/// `isdeleted`, `lastmodifieddate`: columns never sent to Salesforce.
std::set<std::string> default_system_columns();

/// Connection-level settings of the planner.
struct write_plan_settings {
  write_mode mode = write_mode::merged;
  double api_version = 0.0;
  bool disable_bulk_writes = false;
  /// Records per collection call.
  std::size_t collection_size = 200;
  /// Ordered mode: a contiguous run of at least this many changes may go bulk.
  std::size_t bulk_threshold = 2000;
  /// Records per Bulk 2.0 job at most.
  std::size_t bulk_batch_size = 10000;
  /// The minimum API version for bulk writes.
  double bulk_min_api_version = 39.0;
  std::set<std::string> system_columns = default_system_columns();
};

/// One record sent in a batch.
struct write_item {
  /// The entry whose state becomes SUCCESS or FAILED from this item's result.
  std::int64_t entry_id = 0;
  /// Entries folded into this item (state MERGED), in log order.
  std::vector<std::int64_t> merged_ids;
  std::optional<std::int64_t> record_id;
  /// Known sfid (nullopt for inserts and for not-yet-synced records).
  std::optional<std::string> sfid;
  /// The external id value (upsert items only).
  std::optional<std::string> external_id;
  /// The fields to send (merged: later values win; nullopt = set null).
  hstore values;
  /// Updates: the columns that changed, in order of first change.
  std::vector<std::string> changed_columns;
};

/// One Salesforce call (collection) or job (bulk).
struct write_batch {
  std::string table;
  write_operation operation = write_operation::create;
  write_transport transport = write_transport::collection;
  /// The log action behind the items: INSERT for create/upsert of new rows,
  /// UPDATE for updates (also when a bulk run sends them as upserts), DELETE.
  write_action action = write_action::insert;
  /// The external id column (upsert batches only).
  std::optional<std::string> upsert_column;
  std::vector<write_item> items;
};

/// Why an entry needs no write of its own.
enum class skip_reason {
  merged,       ///< folded into another entry, or insert + delete cancelled out (MERGED)
  no_changes,   ///< an UPDATE with nothing left to send after dropping system columns (IGNORED)
  not_writable, ///< the table is not a read_write mapping (IGNORED)
  no_sfid,      ///< a DELETE of a record that never reached Salesforce (IGNORED)
  no_record,    ///< an UPDATE with neither record_id nor sfid (IGNORED)
};
std::string_view to_string(skip_reason r);

/// The outcome of a skipped entry: `MERGED` for skip_reason::merged, else `IGNORED`.
std::string_view outcome_of(skip_reason r);

/// An entry that needs no write.
struct skipped_entry {
  std::int64_t entry_id = 0;
  skip_reason reason = skip_reason::no_changes;
  /// The entry it was merged into when that one is written (or skipped).
  std::optional<std::int64_t> merged_into;
};

/// The batches for one round of claimed entries, in execution order.
struct write_plan {
  std::vector<write_batch> batches;
  std::vector<skipped_entry> skipped;
};

/// Tables by name (`_trigger_log.table_name`).
using table_write_configs = std::map<std::string, table_write_config>;

/// Plans the writes of `entries` (claimed, in log id order).
///
/// Ordered mode keeps log order exactly: contiguous runs of one table, action
/// and operation become batches of at most `collection_size`; a run of at
/// least `bulk_threshold` goes bulk when `api_version >= 39`, the table has an
/// upsert column, bulk is not disabled and the run is INSERT (upsert), UPDATE
/// (sent as upsert; only when every item has an unchanged external id value),
/// or DELETE (every item has an sfid). A batch is split where a record would
/// appear twice; pieces of a bulk run smaller than the threshold go by
/// collections.
///
/// Merged mode folds the changes of each record (key: table + record_id, or
/// table + sfid when record_id is null and no other entry links that sfid to
/// a record_id): insert + updates -> insert with the final values; updates ->
/// one update with the union of changed columns; update(s) + delete ->
/// delete; insert (+ updates) + delete -> nothing; delete then insert -> both,
/// in order. A folded change takes the position of its first entry; batches
/// per (table, operation) fill up to `collection_size` and are emitted in the
/// order of their first item, and a record's later change always lands in a
/// later batch than its earlier one. Never bulk.
/// `entries` is taken by value: their values move into the plan's items instead of being copied.
write_plan plan_writes(std::vector<write_entry> entries, const table_write_configs& tables,
                       const write_plan_settings& settings);

/// (table, record_id) -> the row's current values (without `_hc_lastop`/`_hc_err`).
using row_values = std::map<std::pair<std::string, std::int64_t>, hstore>;

/// UPDATEs of rows that never reached Salesforce. A row without sfid and
/// without an INSERT waiting in the log (its INSERT failed, or was never
/// captured) cannot be updated by Id; as Heroku Connect's writer goes by the
/// row's state, the first such UPDATE per row becomes an INSERT of the row's
/// current values (an upsert when the mapping has an external id, so a retry
/// never duplicates). A consumer that retries a failed insert by fixing the row
/// with an UPDATE gets the record created. `rows` holds those rows (the writer
/// reads them); entries of other rows are untouched. Returns how many changed.
std::size_t promote_updates_without_insert(std::vector<write_entry>& entries, const row_values& rows);

} // namespace syncforce
