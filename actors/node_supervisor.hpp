#pragma once

#include "actors/atoms.hpp"
#include "actors/backoff.hpp"
#include "actors/database_probe.hpp"
#include "sync/restart_budget.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

namespace syncforce::actors {

/// Where the node's readiness and liveness go (the gRPC health service in
/// production, a recorder in tests). Must be thread-safe.
class readiness_sink {
public:
  virtual ~readiness_sink() = default;
  /// Whether the node takes work (the `readiness` service).
  virtual void set_ready(bool ready, const std::string& reason) = 0;
  /// Whether the process is worth keeping (the overall service ""): false only
  /// once a supervisor gave up, so that Kubernetes restarts the pod.
  virtual void set_live(bool live, const std::string& reason) = 0;
  /// A supervisor gave up on a child: why (shown by `syncforce state` and diagnose).
  virtual void set_failed(const std::string& reason) = 0;
};

/// Settings of the database monitor.
struct db_monitor_config {
  /// Time between pings while the database is healthy.
  std::chrono::milliseconds healthy_interval{1000};
  /// Retry schedule while it is not.
  backoff_policy retry{std::chrono::milliseconds(200), std::chrono::milliseconds(5000), 2.0, 0.2};
  std::uint64_t seed = 0;
};

/// Whoever a database monitor tells about the database (the node supervisor).
using db_listener = caf::typed_actor<
  /// (schema version): the database is reachable and migrated.
  caf::reacts_to<db_up_atom, int>,
  /// (reason): it is not.
  caf::reacts_to<db_down_atom, std::string>>;

/// A database monitor: it only talks to itself (its check timer) and to its db_listener.
using db_monitor_actor = caf::typed_actor<caf::reacts_to<check_atom>>;

/// Watches the node's database: (re)connects with backoff, migrates the
/// control schema, pings it, and tells `supervisor` `db_up_atom(version)` or
/// `db_down_atom(reason)` on every change. Blocking: spawn it detached in
/// production (the probe does I/O); with an in-memory probe it runs scheduled.
db_monitor_actor::behavior_type db_monitor(db_monitor_actor::pointer self, db_listener supervisor,
                         std::shared_ptr<database_probe> probe, db_monitor_config cfg);

/// Builds the database monitor for a supervisor (detached in production).
using db_monitor_factory = std::function<db_monitor_actor(caf::local_actor* parent)>;

/// What the supervisor needs of the engine it runs: the sync engine, or a stand-in in tests.
using supervised_engine = caf::typed_actor<caf::reacts_to<start_atom>>;

/// A node's readiness, as (status_atom) answers it.
struct node_status {
  bool ready = false;
  std::string reason; ///< why not ready (empty when ready)
  std::int32_t schema_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.ready, x.reason, x.schema_version);
}

/// The protocol of the node supervisor.
using node_supervisor_actor = caf::typed_actor<
  /// Start the children (sender: the process's main).
  caf::reacts_to<start_atom>,
  /// Readiness (sender: the node's gRPC service, for /readyz and the CLI).
  caf::replies_to<status_atom>::with<node_status>,
  /// -> the failure of a child given up (empty while none was).
  caf::replies_to<health_atom>::with<std::string>,
  /// Readiness off at once, children stopped; `true` once they are gone (sender: main, on SIGTERM).
  caf::replies_to<drain_atom>::with<bool>>;

/// The supervisor's whole behaviour: its protocol, what its database monitor
/// tells it (db_listener) and its own timers (restart a child, liveness).
using node_supervisor_impl = node_supervisor_actor::extend_with<db_listener>::extend<
  caf::reacts_to<restart_atom, std::string>, caf::reacts_to<liveness_atom>>;

/// Settings of the node supervisor.
struct node_config {
  std::string node_name;
  /// Restart schedule of crashed children (the attempt is the crash's rank within the window).
  backoff_policy restart{std::chrono::milliseconds(500), std::chrono::milliseconds(30000), 2.0, 0.0};
  /// A child that crashes more than this many times within the window is given
  /// up: the node turns not ready at once and not live after `liveness_grace`.
  restart_window restarts{8, std::chrono::minutes(10)};
  /// How long a node that gave up stays live (answering, logs and state
  /// readable) before its liveness fails and Kubernetes restarts it.
  std::chrono::milliseconds liveness_grace{std::chrono::seconds(60)};
  /// Builds the sync engine once the database is first up (none: the node only
  /// watches its database). The supervisor monitors it, restarts it with
  /// backoff and stops it on drain.
  std::function<supervised_engine(caf::local_actor* parent)> make_engine;
};

struct node_supervisor_state {
  node_config cfg;
  std::shared_ptr<readiness_sink> sink;
  db_monitor_factory make_db_monitor;
  db_monitor_actor db_monitor;
  restart_budget db_monitor_restarts;
  supervised_engine engine;
  restart_budget engine_restarts;
  /// Set when a child was given up: why (never cleared; the process is restarted).
  std::string failed;
  bool db_ready = false;
  std::string not_ready_reason = "starting";
  int schema_version = 0;
  bool draining = false;
  std::vector<caf::typed_response_promise<bool>> drain_waiters;

  static inline const char* name = "node_supervisor";
};

/// Owns everything on a node and turns the database's health into readiness.
/// Crashed children are restarted with backoff within a restart window; a
/// child that crash-loops past it is given up: readiness off, the failure
/// in the status, liveness off after the grace period.
node_supervisor_impl::behavior_type node_supervisor(node_supervisor_impl::stateful_pointer<node_supervisor_state> self,
                                                    node_config cfg,
                              std::shared_ptr<readiness_sink> sink, db_monitor_factory make_db_monitor);

} // namespace syncforce::actors
