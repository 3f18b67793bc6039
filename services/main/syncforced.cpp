// syncforced: one node of a Syncforce cluster.
//
// Starts the actor system and the node supervisor, serves gRPC (health,
// reflection, node info), keeps the control schema migrated, and stops cleanly
// on SIGTERM/SIGINT: readiness off at once, actors drained, gRPC shut down
// within the deadline, exit 0.

#include "actors/atoms.hpp"
#include "actors/log.hpp"
#include "actors/node_supervisor.hpp"
#include "services/node_server.hpp"
#include "sync/logfmt.hpp"
#include "sync/node_settings.hpp"

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <unistd.h>

#ifndef SYNCFORCE_VERSION
#define SYNCFORCE_VERSION "dev"
#endif

namespace {

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "syncforced";
  return buf;
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

int main(int argc, char** argv) {
  using namespace syncforce;

  // Signals are taken by sigwait on this thread only: block them before any
  // other thread exists, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  node_settings settings;
  settings.node_name = host_name();
  CLI::App app{"syncforced: a Syncforce cluster node (Salesforce <-> PostgreSQL sync, Heroku Connect compatible)"};
  app.set_version_flag("--version", SYNCFORCE_VERSION);
  app.add_option("--database-url", settings.database_url,
                 "PostgreSQL URL of the database holding the control schema and the synced tables")
    ->envname("SYNCFORCE_DATABASE_URL");
  app.add_option("--grpc-address", settings.grpc_address, "HOST:PORT the gRPC server (health, admin) listens on")
    ->envname("SYNCFORCE_GRPC_ADDRESS")
    ->capture_default_str();
  app.add_option("--node-name", settings.node_name, "this node's name in the cluster (default: the host name)")
    ->envname("SYNCFORCE_NODE_NAME");
  app.add_option("--log-level", settings.log_level, "trace, debug, info, warn, error, critical or off")
    ->envname("SYNCFORCE_LOG_LEVEL")
    ->capture_default_str();
  app.add_option("--shutdown-timeout", settings.shutdown_timeout_seconds,
                 "seconds a graceful shutdown may take before running calls are cancelled")
    ->envname("SYNCFORCE_SHUTDOWN_TIMEOUT")
    ->capture_default_str();
  app.footer("Environment variables are read when the flag is not given. Logs are logfmt lines on stdout.\n"
             "Health: grpc.health.v1.Health on --grpc-address; service \"\" (liveness) and \"readiness\".");
  CLI11_PARSE(app, argc, argv);

  auto problems = validate(settings);
  if (!problems.empty()) {
    for (const auto& p : problems)
      std::cerr << "syncforced: " << p << "\n";
    std::cerr << "Run syncforced --help for the settings.\n";
    return 2;
  }

  actors::init_logging(*actors::parse_log_level(settings.log_level));
  actors::log(spdlog::level::info, log_event{"Starting syncforced", "node", settings.node_name, "STARTING"}
                                     .with("version", SYNCFORCE_VERSION)
                                     .with("database", redact_url(settings.database_url))
                                     .with("grpc_address", settings.grpc_address));

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 4);
  caf::actor_system sys{cfg};

  auto readiness = std::make_shared<services::health_readiness>();
  actors::node_config node_cfg;
  node_cfg.node_name = settings.node_name;
  auto database_url = settings.database_url;
  auto make_monitor = [database_url](caf::event_based_actor* parent) {
    std::shared_ptr<actors::database_probe> probe = actors::make_pg_database_probe(database_url);
    return parent->spawn<caf::detached>(actors::db_monitor, caf::actor_cast<caf::actor>(parent), probe,
                                        actors::db_monitor_config{});
  };
  auto supervisor = sys.spawn(actors::node_supervisor, node_cfg, readiness, make_monitor);

  std::string error;
  auto server = services::node_server::start(settings.grpc_address, sys, supervisor,
                                             services::node_identity{settings.node_name, SYNCFORCE_VERSION,
                                                                     now_unix_ms()},
                                             readiness, error);
  if (!server) {
    actors::log(spdlog::level::err, log_event{"Cannot start the gRPC server", "node", settings.node_name,
                                              "SYSTEM_ERROR"}
                                      .with("reason", error));
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    return 1;
  }
  actors::log(spdlog::level::info, log_event{"gRPC server listening", "node", settings.node_name, "STARTING"}.with(
                                     "port", std::to_string(server->port())));
  caf::anon_send(supervisor, actors::start_atom::value);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  auto deadline = std::chrono::seconds(settings.shutdown_timeout_seconds);
  actors::log(spdlog::level::info, log_event{"Shutdown requested", "node", settings.node_name, "DRAINING"}.with(
                                     "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  readiness->set_ready(false, "shutting down");

  bool drained = false;
  {
    caf::scoped_actor self{sys};
    self->request(supervisor, deadline, actors::drain_atom::value)
      .receive([&](bool) { drained = true; },
               [&](caf::error& err) {
                 actors::log(spdlog::level::warn, log_event{"Drain incomplete", "node", settings.node_name,
                                                            "DRAINING"}
                                                    .with("reason", caf::to_string(err)));
               });
  }
  readiness->shut_down();
  server->shutdown(deadline);
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  actors::log(spdlog::level::info, log_event{"Stopped", "node", settings.node_name, "STOPPED"}.with(
                                     "drained", drained ? "true" : "false"));
  return 0;
}
