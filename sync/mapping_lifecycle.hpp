#pragma once
// The mapping's lifecycle as data (docs/architecture.md, "Lifecycles"): what a
// mapping's read side does on each event, as a pure function of what it knows.
// actors/mapping_actor.cpp only carries the actions out (runs jobs on the worker
// pool, asks the integration user for cursors, arms timers, quits), so every
// transition is tested as a table (tests/unit/sync_engine/mapping_lifecycle_test.cpp)
// without CAF. No clock is read here: the UTC day comes with each event.
//
// The read side does one thing at a time, a *step*: a job on the pool or a
// cursor asked of the integration user, whose answer the lifecycle waits for.
// A step that fails transiently waits (backoff or budget wait) and is then
// repeated from its activity's start (a reload from INITIAL, a backfill from
// RESYNC, a poll from its cursor), as Heroku Connect does.

#include "sync/job_outcome.hpp"
#include "sync/states.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace syncforce {

/// What the read side waits for (or, during a retry wait, repeats).
enum class mapping_step : std::uint8_t {
  idle,              ///< nothing runs: synced between polls, ABORTED, BAD_CONFIG, not started
  load,              ///< load_mapping: the stored state and mark
  prepare_synced,    ///< prepare_mapping of a mapping synced before (start)
  save_synced,       ///< DATA_SYNCED saved, then a poll at once (start)
  save_initial,      ///< reload: INITIAL saved
  prepare_reload,    ///< reload: prepare_mapping (table created or altered)
  save_reload_table, ///< reload: RELOAD_TABLE saved
  cursor_reload,     ///< reload: a query cursor asked of the integration user
  reload,            ///< reload: the full load into a shadow table
  save_resync,       ///< backfill: RESYNC saved
  cursor_backfill,   ///< backfill: a cursor asked
  backfill,          ///< backfill: new or re-typed columns read again
  save_backfilled,   ///< backfill: DATA_SYNCED saved, then a poll at once
  cursor_poll,       ///< poll: a cursor asked
  poll,              ///< poll: changes since the mark
  cursor_sweep,      ///< look-back sweep: a cursor asked
  sweep,             ///< look-back sweep (sync/read_repair.hpp)
  cursor_formula,    ///< formula repair: a cursor asked
  formula_repair,    ///< formula repair
};
constexpr int mapping_step_count = static_cast<int>(mapping_step::formula_repair) + 1;

/// What the mapping actor is told.
enum class mapping_event_kind : std::uint8_t {
  start,          ///< the connection started it
  poll_due,       ///< the poll timer
  sweep_due,      ///< the look-back sweep's timer
  formula_due,    ///< the formula repair's timer
  retry_due,      ///< a backoff or budget wait is over
  stop,           ///< the connection stops it (cancel: tell running jobs to stop between pages)
  cursor_granted, ///< the integration user gave a cursor
  cursor_denied,  ///< the integration user refused one (reason: why; a budget wait follows)
  job_done,       ///< the running step's job ended (outcome)
  saved,          ///< a background state save (the reason of a wait, BAD_CONFIG) ended, however it went
  request_failed, ///< the pool or the integration user could not answer at all
};
constexpr int mapping_event_kind_count = static_cast<int>(mapping_event_kind::request_failed) + 1;

/// One event and what came with it.
struct mapping_event {
  mapping_event_kind kind = mapping_event_kind::start;
  /// The UTC day (days since 1970) the event arrived on, for sf_max_daily_api_calls.
  long day = 0;
  bool cancel = false;       ///< stop: cancel running loads, polls and backfills
  std::string reason;        ///< cursor_denied: the integration user's reason
  job_outcome outcome;       ///< job_done

  static mapping_event of(mapping_event_kind k, long day = 0) {
    mapping_event e;
    e.kind = k;
    e.day = day;
    return e;
  }
  static mapping_event done(job_outcome o, long day = 0) {
    auto e = of(mapping_event_kind::job_done, day);
    e.outcome = std::move(o);
    return e;
  }
};

/// The mapping's fixed settings the lifecycle decides with.
struct mapping_timing {
  std::chrono::milliseconds poll_interval{600000};
  std::chrono::seconds sweep_every{0};   ///< 0: no look-back sweeps
  std::chrono::seconds formula_every{0}; ///< 0: no formula repair
  std::optional<long> daily_api_cap;     ///< sf_max_daily_api_calls (none or <= 0: no cap)
};

/// What the mapping knows between events.
struct mapping_status {
  mapping_state state = mapping_state::initial;
  /// The stored state was read (load_mapping): until then `state` is only the
  /// default, and a wait must not persist it over what is stored (found by tests/sim:
  /// INITIAL saved over DATA_SYNCED made the retried start reload the whole table).
  bool stored_known = false;
  std::string description;
  mapping_step step = mapping_step::idle;
  /// A failed step waits for retry_due before it is repeated.
  bool waiting = false;
  std::optional<std::string> hwm; ///< the high-water mark the next poll starts from
  std::vector<std::string> backfill_columns;
  int failures = 0; ///< failed steps in a row (the backoff's attempt)
  bool holds_cursor = false;
  /// Answers (jobs, cursor, background saves) not come back yet.
  int in_flight = 0;
  bool stopping = false; ///< asked to stop: quit once in_flight is 0
  /// Timers that came while the read side was busy; run when it is free (a poll first).
  bool poll_waiting = false;
  bool sweep_waiting = false;
  bool formula_waiting = false;
  /// The sweep and repair timers run (armed with the first success).
  bool repair_timers = false;
  /// API calls made on `calls_day` (for the daily cap).
  long calls_today = 0;
  long calls_day = -1;
};

/// A blocking job to run on the pool, with the status's mark (and backfill columns).
enum class mapping_job_kind : std::uint8_t { load_mapping, prepare_mapping, reload, poll, backfill, sweep, formula_repair };

/// The mapping's own log lines the lifecycle decides (retries log with their wait).
enum class mapping_line : std::uint8_t {
  reload_table,    ///< Heroku Connect's "RELOAD TABLE <table>"
  reload_complete, ///< Heroku Connect's "RELOAD COMPLETE"
  aborted,         ///< started ABORTED: waits for a reload
  bad_config,      ///< "Mapping configuration error" with the reason
};

/// What to do: a list of actions, carried out in order (a cursor given back
/// before the next one is asked for, a state saved before the next job).
struct mapping_action {
  // Every member has an initializer: GCC's -O3 flow analysis otherwise warns
  // (maybe-uninitialized) when an empty alternative is pushed into the variant.
  struct run_job {
    mapping_job_kind job = mapping_job_kind::load_mapping;
  };
  /// Persist a state; `background`: best effort, its answer is a `saved` event
  /// (else it is the step, and its answer a job_done).
  struct save_state {
    mapping_state state = mapping_state::initial;
    std::string description;
    bool background = false;
  };
  struct acquire_cursor {};
  struct release_cursor {};
  enum class timer { poll, sweep, formula };
  struct arm_timer {
    timer which = timer::poll;
    std::chrono::milliseconds delay{0};
  };
  /// Wait, then retry_due. `attempt` (1-based) is the backoff's.
  struct wait_then_retry {
    wait_kind kind = wait_kind::backoff;
    int attempt = 0;
    mapping_state state = mapping_state::initial;
    std::string reason;
  };
  struct notify_synced {};
  struct log_line {
    mapping_line line = mapping_line::reload_table;
    mapping_state state = mapping_state::initial;
    std::string reason;
  };
  /// Tell running jobs to stop between pages.
  struct cancel_jobs {};
  enum class quit_reason {
    shutdown,       ///< asked to stop
    lease_lost,     ///< a job found the lease gone: stop without a crash
    job_failed,     ///< a fatal job outcome: crash, the connection restarts it (within its restart budget)
    request_failed, ///< the pool or the integration user failed: crash with its error
  };
  struct quit {
    quit_reason reason = quit_reason::shutdown;
    std::string message; ///< lease_lost, job_failed: what happened
  };
  using any = std::variant<run_job, save_state, acquire_cursor, release_cursor, arm_timer, wait_then_retry,
                           notify_synced, log_line, cancel_jobs, quit>;
};

using mapping_actions = std::vector<mapping_action::any>;

/// The transition function: updates `s` and says what to do.
mapping_actions on_event(mapping_status& s, const mapping_event& e, const mapping_timing& t);

std::string_view to_string(mapping_step s);
std::string_view to_string(mapping_event_kind k);
std::string_view to_string(mapping_job_kind k);

} // namespace syncforce
