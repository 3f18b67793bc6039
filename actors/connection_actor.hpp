#pragma once

#include "actors/backoff.hpp"
#include "sync/lease_fence.hpp"
#include "actors/mapping_actor.hpp"
#include "actors/writer_actor.hpp"
#include "sync/restart_budget.hpp"

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace syncforce::actors {

/// What this node runs of a connection: the units it holds leases for.
struct connection_units {
  /// mapping id -> the lease of its read side
  std::map<std::string, std::shared_ptr<const lease_fence>> mappings;
  /// the lease of the connection's writer
  std::shared_ptr<const lease_fence> writer;
};

/// Whoever a connection tells which of its units run here now (the sync engine).
using running_reporter = caf::typed_actor<caf::reacts_to<running_atom, std::string, std::vector<std::string>>>;

/// Settings of one connection actor.
struct connection_settings {
  connection_job connection;
  /// Its mappings (each with its job and poll interval).
  std::vector<mapping_settings> mappings;
  /// Restart schedule of crashed mapping actors.
  backoff_policy restart{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 2.0, 0.0};
  /// Crashes of a mapping within the window (a successful cycle clears them)
  /// before it is parked in SYSTEM_ERROR, as Heroku Connect does.
  restart_window mapping_restarts{5, std::chrono::minutes(10)};
  /// Crashes of the writer within the window before the connection gives up
  /// (its engine restarts it, counting that in turn).
  restart_window writer_restarts{8, std::chrono::minutes(10)};
  /// The writer (PostgreSQL -> Salesforce), when the connection has read-write mappings.
  std::optional<writer_settings> writer;
  std::shared_ptr<write_io> writes;
  /// In a cluster only the units this node holds leases for run here
  /// (`units`, updated with units_atom); false: every mapping and the writer
  /// run, unfenced (tests with in-memory fakes).
  bool clustered = false;
  connection_units units;
  /// Told (running_atom, connection id, unit ids) whenever what runs here
  /// changes: the cluster member gives a lease up only once its unit stopped.
  running_reporter reporter;
  /// Retry schedule of the connection's own setup.
  backoff_policy retry{std::chrono::milliseconds(1000), std::chrono::milliseconds(30000), 2.0, 0.0};
  /// Stored state PAUSED: no mapping polls, the writer does not write.
  bool paused = false;
};

/// The protocol of a connection actor (sender: the sync engine; synced_atom: its mapping actors).
using connection_actor_hdl = caf::typed_actor<
  /// Prepare the connection's schema, then run its mappings and writer.
  caf::reacts_to<start_atom>,
  /// New settings: mappings added, removed, edited; commands; pause.
  caf::reacts_to<reconfigure_atom, connection_settings>,
  /// The units this node holds leases for now (cluster).
  caf::reacts_to<units_atom, connection_units>,
  /// Stop every mapping (cancelling loads) and the writer, then quit with user_shutdown.
  caf::reacts_to<stop_atom, bool>,
  /// (mapping_id): a mapping finished a cycle; its crash count is cleared.
  caf::reacts_to<synced_atom, std::string>,
  /// -> (mappings running, mappings parked)
  caf::replies_to<status_atom>::with<std::int32_t, std::int32_t>>;

/// The connection's whole behaviour: its protocol plus the restart timer of a mapping, which only it sends itself.
using connection_actor_impl = connection_actor_hdl::extend<caf::reacts_to<restart_atom, std::string>>;

struct connection_actor_state {
  connection_settings cfg;
  std::shared_ptr<sync_io> io;
  worker_pool_actor pool;
  cursor_broker_actor user;
  struct child {
    mapping_actor_hdl hdl;
    restart_budget restarts;
    bool parked = false;
    std::string last_error;
    int revision = 0;      ///< the revision the running actor was started with
    bool stopping = false; ///< stop_atom sent; converge again when it exits
    bool applying = false; ///< its admin command is being applied
    /// The lease the running actor was started with; after it stopped on a
    /// lost lease (`lost`), it starts again only under a new one.
    std::shared_ptr<const lease_fence> fence;
    bool lost = false;
  };
  std::map<std::string, child> children; ///< by mapping id
  writer_actor_hdl writer;
  restart_budget writer_restarts;
  bool writer_stopping = false;
  /// What the running writer was started with (mapping ids, revisions, mode, lease epoch).
  std::string writer_fingerprint;
  /// The writer's lease epoch when it stopped on a lost lease (it waits for a new one).
  std::optional<std::int64_t> writer_lost_epoch;
  /// Unit ids last reported running.
  std::vector<std::string> reported;
  /// Set while converge_all walks every mapping: it reports once at its end, not once per
  /// mapping started (1,000 mappings would send 1,000 growing lists, ~500,000 strings).
  bool report_held = false;
  /// prepare() done: children may run.
  bool ready = false;
  /// stop_atom received: stop every child, then quit.
  bool stopping = false;
  /// "Connection paused" was logged for the current pause.
  bool paused_reported = false;
  int setup_failures = 0;

  static inline const char* name = "connection";
};

/// One per connection: prepares the connection's schema, then runs a mapping
/// actor per mapping and supervises them: a crashed mapping is restarted with
/// exponential backoff; past `mapping_restarts` within its window it is parked
/// in SYSTEM_ERROR with the reason. One mapping's failures never touch another.
/// The writer is restarted the same way; past `writer_restarts` the connection
/// quits with engine_errc::gave_up.
/// In a cluster (`clustered`) it runs only the mappings and the writer whose
/// leases this node holds (docs/cluster.md), each under its lease's fence;
/// (units_atom, connection_units) moves units in and out without touching the
/// others. A unit that finds its lease gone stops (engine_errc::lease_lost,
/// not a crash) and starts again only under a new lease.
/// (reconfigure_atom, connection_settings) brings it to new settings without
/// touching what did not change: a removed or edited mapping's actor is
/// stopped (a running load cancelled) and, when edited, started again; a
/// mapping with an admin command is stopped, the command applied to its
/// stored state (sync_io::take_command) and started again; paused stops every
/// mapping and the writer once their running step is done.
connection_actor_impl::behavior_type connection_actor(connection_actor_impl::stateful_pointer<connection_actor_state> self,
                                                      connection_settings cfg, std::shared_ptr<sync_io> io,
                                                      worker_pool_actor pool, cursor_broker_actor user);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::connection_settings)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::connection_units)
