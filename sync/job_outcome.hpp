#pragma once
// How a blocking job of the engine ended, as typed data: the worker pool
// carries it back to the actor that asked, and the lifecycles
// (sync/mapping_lifecycle.hpp, sync/writer_lifecycle.hpp) decide on it.
// Nothing here travels as a string but the error text meant for people: a
// persisted state is parsed at the store boundary into sync/states.hpp's enum,
// a command into mapping_command, "the claim was full" into `more`.

#include "sync/states.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce {

/// How a job ended.
enum class outcome_kind : std::uint8_t {
  ok,
  retry,      ///< transient (Salesforce unavailable, database down): try again later, with backoff
  budget,     ///< the API budget is spent: try again after the budget wait
  bad_config, ///< the mapping cannot work as configured: park it
  fatal,      ///< anything else: the mapping actor crashes and is restarted
  fenced,     ///< the unit's lease is no longer this node's: the unit stops here (no crash)
  cancelled,  ///< the unit is being stopped: the job stopped between pages, what it did is committed
};

/// The wait a failed job asks for.
enum class wait_kind { backoff, budget };

/// The result of a job. Each job fills the fields its interface names
/// (actors/sync_io.hpp, actors/write_io.hpp); the rest keep their defaults.
struct job_outcome {
  outcome_kind kind = outcome_kind::ok;
  std::string error; ///< never holds a secret
  long rows = 0;
  std::string hwm; ///< a high-water mark, when the job moved or read one
  long api_calls = 0;
  /// Column names, when the job reports some (prepare_mapping: columns to backfill).
  std::vector<std::string> columns;
  /// Change events: the stored replay id (load_change_mark) or the one the
  /// batch reached (apply_change_events); none: start from the newest event.
  std::optional<std::uint64_t> replay_id;
  /// Change events: the batch held something no event can apply (a gap, an
  /// overflow, an update of a row the table lacks, a value PostgreSQL refused):
  /// a keyset poll must read it.
  bool needs_catch_up = false;
  /// load_mapping: the persisted mapping state (none: the stored name is not one we know).
  std::optional<mapping_state> stored_state;
  /// prepare_connection: the stored connection state (PAUSED survives restarts).
  std::optional<connection_state> connection;
  /// take_command: the command taken (none: there was none).
  std::optional<mapping_command> command;
  /// write_cycle: the claim came back full (or a queue just resumed): run again at once.
  bool more = false;

  bool ok() const { return kind == outcome_kind::ok; }
  static job_outcome failure(outcome_kind k, std::string e) {
    job_outcome o;
    o.kind = k;
    o.error = std::move(e);
    return o;
  }
};

} // namespace syncforce
