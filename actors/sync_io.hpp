#pragma once

#include "actors/worker_pool.hpp"
#include "sync/change_event.hpp"
#include "sync/mapping_config.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::actors {

/// What a connection-level job needs.
struct connection_job {
  std::string connection_id;
  std::string name;
  std::string schema;
  std::shared_ptr<const sf_user> user;
};

/// What a mapping-level job needs.
struct mapping_job {
  std::string mapping_id;
  std::string connection_id; ///< the `addon_id` of its log lines
  std::string schema;
  mapping_config config;
  std::optional<std::string> hwm; ///< canonical high-water mark
  long bulk_threshold = 10000;
  long bulk_page_size = 0; ///< maxRecords per Bulk 2.0 results page (0 = server's choice)
  /// Marks younger than this keep no keyset Id (sync/poll_plan.hpp, Settling).
  std::chrono::seconds keyset_settle{60};
  bool ucs_basic_collation = false;
  std::shared_ptr<const sf_user> user;
  /// Set when the mapping is being stopped (deleted, edited, aborted): long
  /// jobs (loads, polls, backfills) check it between pages and return
  /// outcome_kind::cancelled after committing what they did.
  std::shared_ptr<std::atomic<bool>> cancel;
  bool cancelled() const { return cancel && cancel->load(); }
};

/// Change events received for one mapping, in replay order (accelerated sync).
struct change_batch {
  std::string topic;
  std::vector<received_event> events;
  /// The engine's own client name (`Sforce-Call-Options: client=`): events of
  /// its own writes are not applied (sync/change_events.hpp).
  std::string own_client;
  /// Forget the stored replay id with this batch (it expired): the next
  /// subscription starts from the newest event and a poll catches up.
  bool forget_mark = false;
};

/// The blocking steps of the sync engine, run by workers. Production talks to
/// PostgreSQL and Salesforce; tests use in-memory fakes.
class sync_io {
public:
  virtual ~sync_io() = default;
  /// Creates the connection's schema and support tables (idempotent);
  /// outcome.connection: its stored state (PAUSED stays paused).
  virtual job_outcome prepare_connection(worker_context& ctx, const connection_job& j) = 0;
  /// Reads the persisted state and high-water mark (outcome.stored_state, outcome.hwm).
  virtual job_outcome load_mapping(worker_context& ctx, const mapping_job& j) = 0;
  /// Describes the object and creates or changes its table to the mapping's
  /// fields (new columns added, lengths altered in place, re-typed columns
  /// dropped and re-added, removed fields' columns dropped), in one
  /// transaction. outcome.columns: the columns whose values must be read from
  /// Salesforce again (added or re-typed), for backfill.
  virtual job_outcome prepare_mapping(worker_context& ctx, const mapping_job& j) = 0;
  /// Reads `columns` of every record from Salesforce and updates the rows in
  /// place (page by page, capture triggers quiet); the high-water mark is not moved.
  virtual job_outcome backfill(worker_context& ctx, const mapping_job& j, const std::vector<std::string>& columns) = 0;
  /// Full load into a shadow table swapped in with the new mark and state DATA_SYNCED, in one transaction.
  virtual job_outcome reload(worker_context& ctx, const mapping_job& j) = 0;
  /// Changes since j.hwm; the mark advances with each page's rows.
  virtual job_outcome poll(worker_context& ctx, const mapping_job& j) = 0;
  /// The look-back sweep for late commits (engine_io/pg_read_repair.hpp): records
  /// stamped within the window up to j.hwm whose stamp differs from the table's
  /// are read again; the mark does not move. outcome.rows: rows repaired.
  /// Without an implementation: nothing to do.
  virtual job_outcome sweep(worker_context&, const mapping_job&) { return {}; }
  /// Formula drift repair: the mapped calculated fields of every record, read
  /// again, update only the rows that differ, quietly. outcome.rows: rows repaired.
  virtual job_outcome repair_formulas(worker_context&, const mapping_job&) { return {}; }
  /// Takes the mapping's pending admin command (reload, abort, recover) and
  /// applies it to the stored state, in one transaction, while no actor runs
  /// the mapping: reload -> RELOAD_TABLE (a fresh load); abort -> checkpoint and
  /// shadow table dropped, DATA_SYNCED with the old mark (ABORTED without one);
  /// recover -> DATA_SYNCED with a mark, else INITIAL. outcome.command: the
  /// command taken, none when there was none. No command store: nothing to take.
  virtual job_outcome take_command(worker_context&, const mapping_job&) { return {}; }
  /// Change events: the stored replay id of the mapping's subscription
  /// (outcome.replay_id; none before the first event or after it expired).
  virtual job_outcome load_change_mark(worker_context&, const mapping_job&) { return {}; }
  /// Applies a batch of change events through the poll's upsert (UPDATE: only
  /// the changed and nulled columns; never over a newer SystemModstamp or a
  /// local change waiting to be written) and stores the batch's last replay
  /// id in the same transaction, fenced. outcome.rows: rows changed;
  /// outcome.needs_catch_up: a keyset poll must read what events could not carry.
  virtual job_outcome apply_change_events(worker_context&, const mapping_job&, const change_batch&) {
    return job_outcome::failure(outcome_kind::bad_config, "change events are not supported here");
  }
  /// Persists a state.
  virtual job_outcome save_state(worker_context& ctx, const mapping_job& j, mapping_state state,
                                 const std::string& description) = 0;
};

} // namespace syncforce::actors
