#pragma once

#include "actors/backoff.hpp"
#include "actors/broker_protocol.hpp"
#include "actors/change_subscriber.hpp"
#include "actors/sync_io.hpp"
#include "sync/mapping_lifecycle.hpp"
#include "sync/clock.hpp"
#include "sync/states.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
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
  std::optional<mapping_command> command;
  /// The lease of the mapping's read side on this node; every job runs under
  /// it (none: unfenced, tests with fakes).
  std::shared_ptr<const lease_fence> fence;
  /// The node's Pub/Sub API settings; with them, a mapping whose config has
  /// sf_notify_enabled subscribes to its change events once synced (none: polls only).
  std::shared_ptr<const change_event_settings> change_events;
};

/// Whoever a mapping actor tells that a cycle succeeded (its connection actor).
using mapping_parent = caf::typed_actor<caf::reacts_to<synced_atom, std::string>>;

/// The protocol of a mapping actor (sender: its connection actor).
using mapping_actor_hdl = caf::typed_actor<
  caf::reacts_to<start_atom>,
  /// (cancel): finish the running step (cancel: a running load, poll or backfill stops between pages), then quit.
  caf::reacts_to<stop_atom, bool>,
  /// -> (state, description)
  caf::replies_to<status_atom>::with<std::string, std::string>,
  /// From its change subscriber: events could not carry something, a keyset poll must read it
  /// (now, or right after the running step).
  caf::reacts_to<catch_up_atom>>;

/// The mapping's whole behaviour: its protocol plus its own timers, which only it sends itself.
/// The poll timer carries its generation: only the latest armed one counts (a catch-up
/// poll re-arms the timer, and the one pending before it must not start a second chain).
using mapping_actor_impl = mapping_actor_hdl::extend<caf::reacts_to<poll_atom, std::uint64_t>, caf::reacts_to<sweep_atom>,
                                                     caf::reacts_to<repair_atom>, caf::reacts_to<retry_atom>>;

struct mapping_actor_state {
  mapping_settings cfg;
  std::shared_ptr<sync_io> io;
  worker_pool_actor pool;
  cursor_broker_actor user;
  mapping_parent parent;
  /// What the lifecycle (sync/mapping_lifecycle.hpp) knows; only on_event changes it.
  mapping_status status;
  mapping_timing timing;
  /// The generation of the latest armed poll timer (see mapping_actor_impl).
  std::uint64_t poll_timer = 0;
  /// The change event subscription (accelerated sync), linked; spawned once synced.
  change_subscriber_hdl subscriber;

  static inline const char* name = "mapping";
};

/// One per mapping: Heroku Connect's mapping state machine, persisted. The
/// decisions are sync/mapping_lifecycle.hpp's (a pure transition function,
/// tested as a table); this actor turns messages into its events and carries
/// out the actions it returns.
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
/// With change_events and sf_notify_enabled, the first synced state spawns a
/// change_subscriber (linked: it ends with the mapping); its catch_up_atom is
/// a due poll (at once, or right after the step that runs).
/// Tells `parent` (synced_atom, mapping_id) after each successful load or poll.
/// A job that finds the lease gone (outcome_kind::fenced) stops the actor at
/// once with engine_errc::lease_lost, without another write.
mapping_actor_impl::behavior_type mapping_actor(mapping_actor_impl::stateful_pointer<mapping_actor_state> self,
                                                mapping_settings cfg, std::shared_ptr<sync_io> io, worker_pool_actor pool,
                                                cursor_broker_actor user, mapping_parent parent);

} // namespace syncforce::actors
