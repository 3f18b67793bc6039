#pragma once

#include "actors/backoff.hpp"
#include "actors/connection_lease.hpp"
#include "actors/mapping_actor.hpp"
#include "actors/writer_actor.hpp"
#include "sync/restart_budget.hpp"

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace syncforce::actors {

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
  /// The database the connection's lease is taken in (one node runs a connection
  /// at a time); empty = no lease (tests with in-memory fakes).
  std::string lease_url;
  /// How often a standing-by node tries to take the lease, and how often the
  /// holder checks that its lease session is still there.
  std::chrono::milliseconds lease_retry{5000};
  std::chrono::milliseconds lease_check{5000};
  /// Retry schedule of the connection's own setup.
  backoff_policy retry{std::chrono::milliseconds(1000), std::chrono::milliseconds(30000), 2.0, 0.0};
  /// Stored state PAUSED: no mapping polls, the writer does not write.
  bool paused = false;
};

struct connection_actor_state {
  connection_settings cfg;
  std::shared_ptr<sync_io> io;
  caf::actor pool;
  caf::actor user;
  struct child {
    caf::actor hdl;
    restart_budget restarts;
    bool parked = false;
    std::string last_error;
    int revision = 0;      ///< the revision the running actor was started with
    bool stopping = false; ///< stop_atom sent; converge again when it exits
    bool applying = false; ///< its admin command is being applied
  };
  std::map<std::string, child> children; ///< by mapping id
  caf::actor writer;
  restart_budget writer_restarts;
  bool writer_stopping = false;
  /// What the running writer was started with (mapping ids, revisions, mode).
  std::string writer_fingerprint;
  /// prepare() done: children may run.
  bool ready = false;
  /// stop_atom received: stop every child, then quit.
  bool stopping = false;
  /// "Connection paused" was logged for the current pause.
  bool paused_reported = false;
  std::shared_ptr<connection_lease> lease;
  bool standing_by = false;
  int setup_failures = 0;

  static inline const char* name = "connection";
};

/// One per connection: prepares the connection's schema, then runs a mapping
/// actor per mapping and supervises them: a crashed mapping is restarted with
/// exponential backoff; past `mapping_restarts` within its window it is parked
/// in SYSTEM_ERROR with the reason. One mapping's failures never touch another.
/// The writer is restarted the same way; past `writer_restarts` the connection
/// quits with engine_errc::gave_up.
/// With a lease_url it first takes the connection's lease (connection_lease);
/// while another node holds it, it stands by and tries again; a lost lease
/// stops it with engine_errc::lease_lost (its engine starts it again: it
/// stands by or takes the lease again).
/// (reconfigure_atom, connection_settings) brings it to new settings without
/// touching what did not change: a removed or edited mapping's actor is
/// stopped (a running load cancelled) and, when edited, started again; a
/// mapping with an admin command is stopped, the command applied to its
/// stored state (sync_io::take_command) and started again; paused stops every
/// mapping and the writer once their running step is done.
/// Messages: start_atom, (restart_atom, mapping_id), (synced_atom, mapping_id),
///   (reconfigure_atom, connection_settings), (stop_atom, bool): stop every
///   mapping (cancelling loads) and the writer, then quit with user_shutdown,
///   (status_atom) -> (mappings running, mappings parked) as int32s.
caf::behavior connection_actor(caf::stateful_actor<connection_actor_state>* self, connection_settings cfg,
                               std::shared_ptr<sync_io> io, caf::actor pool, caf::actor user);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::connection_settings)
