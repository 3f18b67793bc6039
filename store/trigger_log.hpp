#pragma once

#include "store/channels.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace syncforce::store {

// ---------------------------------------------------------------------------
// _trigger_log access for the writer
// ---------------------------------------------------------------------------

/// One captured change, as stored in `<schema>._trigger_log`.
struct trigger_log_entry {
  std::int64_t id = 0;
  std::optional<std::int64_t> txid;
  std::string created_at; ///< timestamptz text
  std::string state;
  std::string action;     ///< INSERT, UPDATE, DELETE
  std::string table_name;
  std::optional<std::int64_t> record_id;
  std::optional<std::string> sfid;
  std::optional<std::string> old;    ///< hstore text (parse with parse_hstore)
  std::optional<std::string> values; ///< hstore text
};

/// Claims up to `limit` NEW entries in id order, marking them PENDING
/// (`FOR UPDATE SKIP LOCKED`: two writers never get one entry twice). When
/// `table_name` is set only that table's entries are claimed.
std::vector<trigger_log_entry> claim_new_entries(pqxx::transaction_base& tx,
                                                 const std::string& schema, std::size_t limit,
                                                 const std::optional<std::string>& table_name
                                                 = std::nullopt);

/// A table whose queue is stopped by a failed INSERT (ordered writes): only a
/// recaptured INSERT of `record_id` may be claimed for it.
struct queue_block {
  std::string table_name;
  std::int64_t record_id = 0;
};

/// Like claim_new_entries, for every table, skipping the entries of blocked tables.
std::vector<trigger_log_entry> claim_entries(pqxx::transaction_base& tx, const std::string& schema,
                                             std::size_t limit, const std::vector<queue_block>& blocks);

/// Returns claimed (PENDING) entries to NEW: they were not attempted.
std::size_t unclaim_entries(pqxx::transaction_base& tx, const std::string& schema,
                            const std::vector<std::int64_t>& ids);

/// The outcome of one entry.
enum class log_outcome { success, failed, merged, ignored };
std::string to_log_state(log_outcome o);

struct log_result {
  std::int64_t id = 0;
  log_outcome outcome = log_outcome::success;
  std::optional<int> sf_result;          ///< e.g. HTTP-ish status or Salesforce result code
  std::optional<std::string> sf_message; ///< error text for FAILED
};

/// Writes the outcomes (state, sf_result, sf_message, processed_at,
/// processed_tx, updated_at) and moves those entries to `_trigger_log_archive`,
/// in the caller's transaction. Returns the number archived.
std::size_t finish_entries(pqxx::transaction_base& tx, const std::string& schema,
                           const std::vector<log_result>& results);

/// Moves entries that need no write (IGNORE, READONLY) to the archive as they
/// are; returns the number moved.
std::size_t archive_unsyncable(pqxx::transaction_base& tx, const std::string& schema);

/// Copies archived entries in state REQUEUE back into the log as NEW (new id,
/// in the archived order) and marks the archived ones REQUEUED. Returns the count.
std::size_t requeue_archived(pqxx::transaction_base& tx, const std::string& schema);

/// Returns PENDING entries to NEW (after a writer crashed mid-batch).
std::size_t release_pending(pqxx::transaction_base& tx, const std::string& schema);

/// Deletes archive entries created before `now() - retention` (31 days by
/// default in Heroku Connect, 7 on the demo plan). Returns the count.
std::size_t purge_archive(pqxx::transaction_base& tx, const std::string& schema,
                          std::chrono::seconds retention);

/// Counts of `_trigger_log` entries by state.
std::vector<std::pair<std::string, std::size_t>> count_by_state(pqxx::transaction_base& tx,
                                                                const std::string& schema);

/// The record whose failed INSERT stopped the mapping's write queue (none: the queue runs).
std::optional<std::int64_t> write_block_of(pqxx::transaction_base& tx, const std::string& mapping_id);

/// Stops the mapping's write queue on a failed INSERT; `block_json` says which entry, record and why.
void set_write_block(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& block_json);

/// Lets the mapping's write queue run again.
void clear_write_block(pqxx::transaction_base& tx, const std::string& mapping_id);

} // namespace syncforce::store
