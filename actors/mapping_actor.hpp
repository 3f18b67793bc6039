#pragma once

#include "actors/backoff.hpp"
#include "actors/sync_io.hpp"
#include "sync/clock.hpp"
#include "sync/states.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::actors {

/// Settings of one mapping actor.
struct mapping_settings {
  mapping_job job;                        ///< the mapping (its hwm is read from the store on start)
  std::chrono::milliseconds poll_interval{600000};
  backoff_policy retry{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 2.0, 0.0};
  /// Wait after the API budget was found spent.
  std::chrono::milliseconds budget_wait{60000};
  /// The wall clock whose UTC day counts the mapping's own daily API cap
  /// (`sf_max_daily_api_calls`); the real one unless a test injects one.
  std::shared_ptr<const time_source> time = shared_real_time();
  /// The mapping's stored revision (a new one restarts the actor).
  int revision = 1;
  /// An admin command waiting in the store (reload, abort, recover), as last read.
  std::optional<std::string> command;
  /// The lease of the mapping's read side on this node; every job runs under
  /// it (none: unfenced, tests with fakes).
  std::shared_ptr<const lease_fence> fence;
};

struct mapping_actor_state {
  mapping_settings cfg;
  std::shared_ptr<sync_io> io;
  caf::actor pool;
  caf::actor user;
  caf::actor parent;
  mapping_state state = mapping_state::initial;
  std::string description;
  int failures = 0;
  bool holds_cursor = false;
  /// API calls this mapping made on `calls_day` (for sf_max_daily_api_calls).
  long calls_today = 0;
  long calls_day = -1;
  /// The step to repeat on retry_atom.
  std::function<void()> retry_step;
  /// Requests (jobs, cursor) whose answers have not come back yet.
  int in_flight = 0;
  /// stop_atom received: quit once in_flight is 0.
  bool stopping = false;
  /// A sweep or formula repair runs (or waits to retry): polls wait for it,
  /// so the read side does one thing at a time.
  bool repairing = false;
  /// Timers that came while the read side was busy; run when it is free.
  bool poll_waiting = false;
  bool sweep_waiting = false;
  bool formula_waiting = false;
  /// The sweep and repair timers run (started with the first synced state).
  bool repair_timers = false;

  static inline const char* name = "mapping";
};

/// One per mapping: Heroku Connect's mapping state machine, persisted.
///   start: read the stored state and mark; with a mark and a synced state, poll,
///   else INITIAL (table) -> RELOAD_TABLE (full load, shadow swap) -> DATA_SYNCED;
///   then every poll_interval POLLING_SF_CHANGES -> DATA_SYNCED.
/// Every blocking step is a job on `pool`; every Salesforce query first takes a
/// cursor from `user`. Transient failures wait with backoff (the state says
/// why); bad configuration parks the mapping in BAD_CONFIG; anything else
/// crashes the actor, and its connection restarts it.
/// A started mapping whose stored state is ABORTED stays idle (until a reload);
/// one whose table gained or re-typed columns backfills them in RESYNC first.
/// (stop_atom, cancel): finish the running step (cancel tells a running load,
/// poll or backfill to stop between pages) and quit with user_shutdown.
/// Once synced, every config.read_repair.sweep_seconds a look-back sweep and
/// every formula_repair_seconds a formula repair (0: never) run between polls,
/// never during one (sync/read_repair.hpp); their failures retry like a poll's.
/// Messages: start_atom, poll_atom, sweep_atom, repair_atom, retry_atom, (stop_atom, bool),
///   (status_atom) -> (state, description).
/// Tells `parent` (synced_atom, mapping_id) after each successful load or poll.
/// A job that finds the lease gone (outcome_kind::fenced) stops the actor at
/// once with engine_errc::lease_lost, without another write.
caf::behavior mapping_actor(caf::stateful_actor<mapping_actor_state>* self, mapping_settings cfg,
                            std::shared_ptr<sync_io> io, caf::actor pool, caf::actor user, caf::actor parent);

} // namespace syncforce::actors
