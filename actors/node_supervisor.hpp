#pragma once

#include "actors/backoff.hpp"
#include "actors/database_probe.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

namespace syncforce::actors {

/// Where the node's readiness goes (the gRPC health service in production,
/// a recorder in tests). Must be thread-safe.
class readiness_sink {
public:
  virtual ~readiness_sink() = default;
  virtual void set_ready(bool ready, const std::string& reason) = 0;
};

/// Settings of the database monitor.
struct db_monitor_config {
  /// Time between pings while the database is healthy.
  std::chrono::milliseconds healthy_interval{1000};
  /// Retry schedule while it is not.
  backoff_policy retry{std::chrono::milliseconds(200), std::chrono::milliseconds(5000), 2.0, 0.2};
  std::uint64_t seed = 0;
};

/// Watches the node's database: (re)connects with backoff, migrates the
/// control schema, pings it, and tells `supervisor` `db_up_atom(version)` or
/// `db_down_atom(reason)` on every change. Blocking: spawn it detached in
/// production (the probe does I/O); with an in-memory probe it runs scheduled.
caf::behavior db_monitor(caf::event_based_actor* self, caf::actor supervisor,
                         std::shared_ptr<database_probe> probe, db_monitor_config cfg);

/// Builds the database monitor for a supervisor (detached in production).
using db_monitor_factory = std::function<caf::actor(caf::event_based_actor* parent)>;

/// Settings of the node supervisor.
struct node_config {
  std::string node_name;
  /// Restart schedule of crashed children.
  backoff_policy restart{std::chrono::milliseconds(500), std::chrono::milliseconds(30000), 2.0, 0.0};
  /// After this many restarts in a row without a healthy period, a child is parked.
  int max_restarts = 8;
  /// Builds the sync engine once the database is first up (none: the node only
  /// watches its database). The supervisor monitors it, restarts it with
  /// backoff and stops it on drain.
  std::function<caf::actor(caf::event_based_actor* parent)> make_engine;
};

struct node_supervisor_state {
  node_config cfg;
  std::shared_ptr<readiness_sink> sink;
  db_monitor_factory make_db_monitor;
  caf::actor db_monitor;
  int db_monitor_restarts = 0;
  caf::actor engine;
  int engine_restarts = 0;
  bool db_ready = false;
  std::string not_ready_reason = "starting";
  int schema_version = 0;
  bool draining = false;
  std::vector<caf::response_promise> drain_waiters;

  static inline const char* name = "node_supervisor";
};

/// Owns everything on a node and turns the database's health into readiness.
/// Messages:
///   start_atom                    -> starts children
///   status_atom                   -> (ready: bool, reason: string, schema_version: int32)
///   drain_atom                    -> readiness off at once, children stopped; replies `true` when done
///   db_up_atom(int), db_down_atom(string)   (from the monitor)
caf::behavior node_supervisor(caf::stateful_actor<node_supervisor_state>* self, node_config cfg,
                              std::shared_ptr<readiness_sink> sink, db_monitor_factory make_db_monitor);

} // namespace syncforce::actors
