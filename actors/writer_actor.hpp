#pragma once

#include "actors/atoms.hpp"
#include "actors/backoff.hpp"
#include "actors/notify_listener.hpp"
#include "actors/write_io.hpp"
#include "sync/writer_lifecycle.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::actors {

/// Settings of a connection's writer.
struct writer_settings {
  write_job job;
  /// LISTENs for the trigger log's notifications; none = no LISTEN (tests).
  listener_factory listen;
  /// Looks at the trigger log at least this often even without a notification.
  std::chrono::milliseconds fallback_poll{10000};
  backoff_policy retry{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 2.0, 0.0};
  /// Wait after the API budget was found spent.
  std::chrono::milliseconds budget_wait{60000};
  /// How often the archive is purged of entries older than the retention.
  std::chrono::milliseconds purge_every{std::chrono::hours(1)};
  /// The lease of the connection's writer on this node (none: unfenced, tests with fakes).
  std::shared_ptr<const lease_fence> fence;
};

/// The protocol of a connection's writer, as its connection actor (start, stop,
/// status) and its notify_listener (wake) see it.
using writer_actor_hdl = caf::typed_actor<
  caf::reacts_to<start_atom>,
  /// Something may be waiting in the trigger log (a NOTIFY, or a test).
  caf::reacts_to<wake_atom>,
  /// Finish the running cycle, then quit with user_shutdown (the flag is ignored: a cycle is never cut).
  caf::reacts_to<stop_atom, bool>,
  /// -> (a cycle runs, failures in a row)
  caf::replies_to<status_atom>::with<bool, std::int32_t>>;

/// The writer's whole behaviour: its protocol plus its own timers, which only it sends itself.
using writer_actor_impl = writer_actor_hdl::extend<caf::reacts_to<retry_atom>, caf::reacts_to<tick_atom>>;

struct writer_actor_state {
  writer_settings cfg;
  std::shared_ptr<write_io> io;
  worker_pool_actor pool;
  /// The lifecycle's state (sync/writer_lifecycle.hpp decides; the actor carries out).
  writer_status status;
  std::unique_ptr<notify_listener> listener;

  static inline const char* name = "writer";
};

/// One per connection with read-write mappings: carries captured changes from
/// `_trigger_log` to Salesforce. Wakes on the trigger log's NOTIFY (within
/// milliseconds) and at least every `fallback_poll`; runs one write cycle at a
/// time on the pool and another at once while the claim comes back full.
/// Transient trouble waits with backoff (the budget wait for a spent budget);
/// the entries it could not write stay in the log, nothing is lost.
/// (stop_atom, bool): finish the running cycle, then quit with user_shutdown.
writer_actor_impl::behavior_type writer_actor(writer_actor_impl::stateful_pointer<writer_actor_state> self,
                                              writer_settings cfg, std::shared_ptr<write_io> io,
                                              worker_pool_actor pool);

} // namespace syncforce::actors
