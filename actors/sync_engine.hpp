#pragma once

#include "actors/change_subscriber.hpp"
#include "actors/backoff.hpp"
#include "actors/cluster_member.hpp"
#include "actors/connection_actor.hpp"
#include "actors/cluster_store.hpp"
#include "actors/notify_listener.hpp"
#include "actors/remote_broker.hpp"
#include "actors/sync_io.hpp"
#include "actors/write_io.hpp"
#include "actors/worker_pool.hpp"
#include "sync/engine_config.hpp"
#include "sync/restart_budget.hpp"
#include "store/rows.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::actors {

/// What the engine reads from the control schema: a connection and its mappings.
struct loaded_connection {
  store::connection_row row;
  std::vector<store::mapping_row> mappings;
};

/// The blocking side of the engine, made by the composition root
/// (engine_io::make_engine_backend in production, fakes in tests): the engine
/// and its actors only schedule this work, they never do I/O themselves.
struct engine_backend {
  std::shared_ptr<sync_io> io;
  std::shared_ptr<write_io> writes;
  /// Each worker's context (its database session and Salesforce clients).
  worker_context_factory make_context;
  /// The cluster member's own control-schema session (none: no cluster membership).
  std::function<std::unique_ptr<cluster_store>()> make_cluster_store;
  /// LISTEN sessions (syncforce_control for the engine, each writer's trigger log).
  listener_factory listen;
  /// On a worker: imports `file` when given, then reads every connection with
  /// its mappings into `out`. outcome.rows: mappings the import created or changed.
  std::function<job_outcome(worker_context&, const std::optional<engine_config>& file,
                            std::vector<loaded_connection>& out)>
    load_config;
  /// A connection's Salesforce login under `client_name` (engine_io::log_in):
  /// nullptr with `error` (naming a secret's reference, never a secret) when
  /// its secrets cannot be resolved or its login URL is refused. None: users
  /// without a login (fakes that call no Salesforce client).
  std::function<std::shared_ptr<const sf_login>(const store::connection_row&, const secret_lookup&,
                                                const std::string& client_name, std::string& error)>
    log_in;
};

/// Settings of the node's sync engine.
struct sync_engine_config {
  std::string node_name;
  /// The configuration file's content, imported into the control schema on start (idempotent).
  std::optional<engine_config> file_config;
  /// Workers, i.e. the most PostgreSQL connections the engine opens.
  int workers = 4;
  bool detached_workers = true;
  /// Records above which a load uses Bulk 2.0.
  long bulk_threshold = 10000;
  /// Records per Bulk 2.0 query results page (0 = Salesforce's choice).
  long bulk_page_size = 0;
  /// TEST ONLY: replaces every mapping's sf_polling_seconds (which may not go below 120).
  std::optional<int> test_poll_seconds;
  /// Secret lookups (environment and files in production).
  secret_lookup secrets;
  /// The blocking work (required: the engine does no I/O of its own).
  engine_backend backend;
  /// Days `_trigger_log_archive` keeps processed entries (Heroku Connect: 31).
  int archive_retention_days = 31;
  /// Where each Salesforce user's broker runs (none: here, for every user).
  std::shared_ptr<broker_cluster> cluster;
  backoff_policy retry{std::chrono::milliseconds(500), std::chrono::milliseconds(30000), 2.0, 0.0};
  /// Crashes of one connection actor allowed within the window before the
  /// engine gives up (and its supervisor counts that). A lost lease is no crash.
  restart_window connection_restarts{5, std::chrono::minutes(10)};
  /// How soon a connection that stopped on a lost lease is started again.
  std::chrono::milliseconds lease_restart{std::chrono::seconds(1)};
  /// The cluster (docs/cluster.md): with a database, the node joins it and
  /// runs only the units it holds leases for. The node's name, address and
  /// version come from the fields above and the node settings.
  std::string advertise_address;
  std::string version;
  std::chrono::milliseconds lease_ttl{10000};
  std::chrono::milliseconds heartbeat_interval{2000};
  /// The Pub/Sub API (change events, accelerated sync); none: every mapping polls only.
  std::shared_ptr<const change_event_settings> change_events;
  /// The node's time source: the clock the cluster member's lease deadline is
  /// on, which every fence it hands out checks (none: the real clocks).
  std::shared_ptr<const time_source> time;
  /// Spawn the cluster member detached (production: its store calls block) or
  /// scheduled (the deterministic simulation, whose store is in memory).
  bool detached_member = true;
  /// TEST ONLY: the grant-id prefix of each integration user's broker (none:
  /// a random one): a simulation must replay exactly.
  std::function<std::string(const std::string& user_key)> broker_incarnation;
  /// TEST ONLY: adjusts each connection actor's settings (retry schedules,
  /// claim size, time source) after settings_for() built them, as the
  /// simulation draws them per seed; none in production.
  std::function<void(connection_settings&)> tune_connection;
};

/// The protocol of the node's sync engine.
using sync_engine_actor = caf::typed_actor<
  /// Join the cluster (with a database), LISTEN for admin changes, load (sender: the node supervisor).
  caf::reacts_to<start_atom>,
  /// Load the configuration again and reconcile (senders: its notify_listener, its own retry timer).
  caf::reacts_to<wake_atom>,
  /// The leases this node holds now (sender: the cluster member).
  caf::reacts_to<units_atom, owned_units>,
  /// (connection id, unit ids) that run now (sender: the connection actors).
  caf::reacts_to<running_atom, std::string, std::vector<std::string>>>;

struct sync_engine_state {
  sync_engine_config cfg;
  worker_pool_actor pool;
  std::map<std::string, cursor_broker_actor> users;      ///< by sf_user key: what the mappings ask (broker or proxy)
  std::map<std::string, integration_user_actor> brokers; ///< by sf_user key: the brokers running here, in a cluster
  std::map<std::string, std::shared_ptr<const sf_user>> logins; ///< by sf_user key: one login per user
  std::map<std::string, connection_actor_hdl> connections; ///< by connection id
  /// By connection id: what its actor was started with (connection_fingerprint).
  std::map<std::string, std::string> fingerprints;
  /// By connection id: connections being stopped, and what to do once they are.
  std::map<std::string, std::function<void()>> after_stop;
  /// By connection id: crashes within the restart window.
  std::map<std::string, restart_budget> connection_crashes;
  /// By connection id: a crashed or lease-less connection is not started again before this.
  std::map<std::string, caf::actor_clock::time_point> not_before;
  /// The node's cluster member (none without a database: everything runs here, unfenced).
  cluster_member_actor member;
  /// The leases this node holds, as last told by the member.
  owned_units owned;
  bool told_units = false;
  /// By connection id: the units its actor runs now.
  std::map<std::string, std::vector<std::string>> running;
  /// LISTEN syncforce_control: admin changes wake the engine.
  std::unique_ptr<notify_listener> listener;
  bool loading = false;
  bool load_again = false;
  bool loaded_once = false;
  int failures = 0;

  static inline const char* name = "sync_engine";
};

/// The sync engine of a node: imports the configuration file, loads
/// connections and mappings from the control schema, and runs a bounded worker
/// pool, an integration-user actor per Salesforce user and a connection actor
/// per connection. It LISTENs on syncforce_control: an admin change makes it
/// load again and reconcile (new connections started, removed ones stopped,
/// changed logins restarted, mapping changes handed to the connection actor).
/// A connection actor that stops on its own is started again: after its lease
/// was lost at once (not counted), after a crash with backoff within
/// `connection_restarts`; past that the engine gives up (its supervisor
/// counts the engine's crashes in turn).
/// Spawned by the node supervisor once the database is up.
sync_engine_actor::behavior_type sync_engine(sync_engine_actor::stateful_pointer<sync_engine_state> self,
                                             sync_engine_config cfg);

/// Environment variables and files, within `policy` (files are checked again
/// once symbolic links are resolved).
secret_lookup system_secret_lookup(secret_policy policy = {});

} // namespace syncforce::actors
