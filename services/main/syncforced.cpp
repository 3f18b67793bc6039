// syncforced: one node of a Syncforce cluster.
//
// Starts the actor system and the node supervisor, serves gRPC (health,
// reflection, node info), keeps the control schema migrated, and stops cleanly
// on SIGTERM/SIGINT: readiness off at once, actors drained, gRPC shut down
// within the deadline, exit 0.

#include "actors/atoms.hpp"

#include "sync/clock.hpp"
#include "actors/log.hpp"
#include "actors/node_supervisor.hpp"
#include "actors/sync_engine.hpp"
#include "engine_io/engine_io.hpp"
#include "engine_io/pubsub_change_stream.hpp"
#include "services/cluster_client.hpp"
#include "services/cluster_security.hpp"
#include "dashboard/dashboard_server.hpp"
#include "metrics/server.hpp"
#include "services/cutover_runner.hpp"
#include "services/node_server.hpp"
#include "store/copy_binary.hpp"
#include "sync/admin_rules.hpp"
#include "sync/engine_config.hpp"
#include "sync/logfmt.hpp"
#include "sync/node_settings.hpp"
#include "sync/secret_policy.hpp"

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <malloc.h>
#include <sstream>
#include <string>
#include <thread>
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

std::int64_t now_unix_ms() { return syncforce::real_time().unix_ms(); }

/// Caps glibc's malloc arenas at one per core (2 to 8) unless the environment sets them
/// (MALLOC_ARENA_MAX, GLIBC_TUNABLES=glibc.malloc.arena_max). glibc's default is 8 per core, and
/// each of the node's ~60 threads (CAF's scheduler, the sync workers, gRPC, the cluster member)
/// that allocates gets one, which keeps what it once held: per idle mapping, bench scenario 4
/// measured ~5 kB more resident memory with the default than with 2 arenas on 2 cores. Called
/// before any other thread exists.
void cap_malloc_arenas() {
  if (std::getenv("MALLOC_ARENA_MAX"))
    return;
  if (const char* t = std::getenv("GLIBC_TUNABLES"); t && std::string(t).find("arena_max") != std::string::npos)
    return;
  unsigned cores = std::thread::hardware_concurrency();
  mallopt(M_ARENA_MAX, static_cast<int>(std::clamp(cores, 2u, 8u)));
}

} // namespace

int main(int argc, char** argv) {
  using namespace syncforce;
  cap_malloc_arenas();

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
  app.add_option("--metrics-address", settings.metrics_address,
                 "HOST:PORT of the Prometheus metrics endpoint (GET /metrics; docs/operations.md lists the "
                 "metrics), e.g. 0.0.0.0:9464; none when empty")
    ->envname("SYNCFORCE_METRICS_ADDRESS");
  app.add_option("--node-name", settings.node_name, "this node's name in the cluster (default: the host name)")
    ->envname("SYNCFORCE_NODE_NAME");
  app.add_option("--log-level", settings.log_level, "trace, debug, info, warn, error, critical or off")
    ->envname("SYNCFORCE_LOG_LEVEL")
    ->capture_default_str();
  app.add_option("--shutdown-timeout", settings.shutdown_timeout_seconds,
                 "seconds a graceful shutdown may take before running calls are cancelled")
    ->envname("SYNCFORCE_SHUTDOWN_TIMEOUT")
    ->capture_default_str();
  std::string http_address;
  app.add_option("--http-address", http_address,
                 "HOST:PORT the web dashboard listens on (plain http: put a TLS proxy in front of it beyond "
                 "loopback, it sets Secure cookies when told X-Forwarded-Proto: https); sign in with an admin "
                 "token. Empty (the default): no dashboard")
    ->envname("SYNCFORCE_HTTP_ADDRESS");
  int session_idle_minutes = 60;
  app.add_option("--http-session-idle-minutes", session_idle_minutes,
                 "minutes a dashboard session lives without use (it ends after 12 hours in any case), 1-720")
    ->envname("SYNCFORCE_HTTP_SESSION_IDLE_MINUTES")
    ->check(CLI::Range(1, 720))
    ->capture_default_str();
  std::string admin_token_file;
  app.add_option("--admin-token-file", admin_token_file,
                 "file holding the bearer token the admin API (syncforce.v1.Admin) requires: one bare token "
                 "(acting as 'admin'), or NAME:TOKEN lines, one per person or robot (the name goes to the "
                 "audit trail; # comments allowed). A bare token may also come from SYNCFORCE_ADMIN_TOKEN. "
                 "Without one the admin API refuses every call");
  app.add_option("--config", settings.config_file,
                 "configuration file: import/export JSON v1 plus how to log in to Salesforce "
                 "(see docs/configuration.md); imported into the control schema at start-up")
    ->envname("SYNCFORCE_CONFIG");
  app.add_option("--sync-workers", settings.sync_workers,
                 "worker threads of the sync engine (each holds one PostgreSQL connection), 1-64")
    ->envname("SYNCFORCE_SYNC_WORKERS")
    ->capture_default_str();
  app.add_option("--bulk-threshold", settings.bulk_threshold, "records above which a load uses Bulk API 2.0")
    ->envname("SYNCFORCE_BULK_THRESHOLD")
    ->capture_default_str();
  app.add_option("--bulk-page-size", settings.bulk_page_size,
                 "records per Bulk API 2.0 query results page (maxRecords; 0 = Salesforce's choice); "
                 "a load commits and checkpoints each page")
    ->envname("SYNCFORCE_BULK_PAGE_SIZE")
    ->capture_default_str();
  app.add_option("--archive-retention-days", settings.archive_retention_days,
                 "days _trigger_log_archive keeps written changes before they are purged")
    ->envname("SYNCFORCE_ARCHIVE_RETENTION_DAYS")
    ->capture_default_str();
  app.add_option("--lease-ttl-ms", settings.lease_ttl_ms,
                 "milliseconds a node stays live without a heartbeat; its units move to other nodes after that "
                 "(docs/cluster.md)")
    ->envname("SYNCFORCE_LEASE_TTL_MS")
    ->capture_default_str();
  app.add_option("--heartbeat-interval-ms", settings.heartbeat_interval_ms,
                 "milliseconds between a node's heartbeats (each also rebalances units); at most a third of the "
                 "lease TTL")
    ->envname("SYNCFORCE_HEARTBEAT_INTERVAL_MS")
    ->capture_default_str();
  app.add_option("--advertise-address", settings.advertise_address,
                 "HOST:PORT other nodes call this node's Cluster service at (default: $POD_IP with the port of "
                 "the Cluster listener, else the listen address)")
    ->envname("SYNCFORCE_ADVERTISE_ADDRESS");
  app.add_option("--cluster-secret-file", settings.cluster_secret_file,
                 "file holding the secret all nodes of the cluster share (one line, 16+ characters); node-to-node "
                 "(Cluster) calls carry it, and without it this node refuses them")
    ->envname("SYNCFORCE_CLUSTER_SECRET_FILE");
  app.add_flag("--cluster-insecure", settings.cluster_insecure,
               "DEVELOPMENT ONLY, one node: take Cluster calls without a secret")
    ->envname("SYNCFORCE_CLUSTER_INSECURE");
  app.add_option("--cluster-tls-cert", settings.cluster_tls_cert,
                 "PEM certificate of this node for mTLS between nodes (with --cluster-tls-key and --cluster-tls-ca)")
    ->envname("SYNCFORCE_CLUSTER_TLS_CERT");
  app.add_option("--cluster-tls-key", settings.cluster_tls_key, "PEM private key of --cluster-tls-cert")
    ->envname("SYNCFORCE_CLUSTER_TLS_KEY");
  app.add_option("--cluster-tls-ca", settings.cluster_tls_ca,
                 "PEM CA certificate that signed every node's certificate")
    ->envname("SYNCFORCE_CLUSTER_TLS_CA");
  app.add_option("--cluster-tls-address", settings.cluster_tls_address,
                 "HOST:PORT of the mTLS listener that serves Cluster calls (required with the certificates; "
                 "health and admin stay on --grpc-address)")
    ->envname("SYNCFORCE_CLUSTER_TLS_ADDRESS");
  app.add_option("--test-broker-owner", settings.test_broker_owners,
                 "TEST ONLY: USER_KEY=HOST:PORT, the node running the broker of a Salesforce user (USER_KEY is "
                 "LOGIN_URL|USERNAME); repeatable. Users not named have their broker on this node")
    ->group("");
  secret_policy policy;
  std::string env_prefixes, secret_dirs, login_hosts, insecure_login_hosts;
  env_prefixes = join_list(policy.env_prefixes, ",");
  secret_dirs = join_list(policy.file_dirs, ",");
  login_hosts = join_list(policy.login_hosts, ",");
  app.add_option("--secret-env-prefixes", env_prefixes,
                 "comma-separated prefixes of the environment variables a connection's env:NAME secret reference "
                 "may name (the node's own SYNCFORCE_DATABASE_URL, SYNCFORCE_ADMIN_TOKEN, DATABASE_URL, PGPASSWORD "
                 "are refused whatever the prefixes)")
    ->envname("SYNCFORCE_SECRET_ENV_PREFIXES")
    ->capture_default_str();
  app.add_option("--secret-dirs", secret_dirs,
                 "comma-separated directories below which a file:/path secret reference may point (resolved, "
                 "symbolic links followed; the admin token file and the configuration file are refused)")
    ->envname("SYNCFORCE_SECRET_DIRS")
    ->capture_default_str();
  app.add_option("--login-hosts", login_hosts,
                 "comma-separated hosts a connection's login URL may name, over https: exact, host:port, or "
                 "*.suffix")
    ->envname("SYNCFORCE_LOGIN_HOSTS")
    ->capture_default_str();
  app.add_option("--insecure-login-hosts", insecure_login_hosts,
                 "DEVELOPMENT ONLY: comma-separated hosts (host or host:port) a login URL may name over plain "
                 "http, e.g. sfemu on 127.0.0.1; empty in production")
    ->envname("SYNCFORCE_INSECURE_LOGIN_HOSTS");
  std::string pubsub_endpoint = "https://api.pubsub.salesforce.com:7443";
  std::string pubsub_ca_file;
  app.add_option("--pubsub-endpoint", pubsub_endpoint,
                 "the Salesforce Pub/Sub API (gRPC) that mappings with sf_notify_enabled subscribe to for change "
                 "events, as https://HOST[:PORT]; confined like login URLs: Salesforce's Pub/Sub hosts or "
                 "--login-hosts over https, --insecure-login-hosts over plain http (sfemu --pubsub-port)")
    ->envname("SYNCFORCE_PUBSUB_ENDPOINT")
    ->capture_default_str();
  app.add_option("--pubsub-ca-file", pubsub_ca_file,
                 "PEM file of the certificate authorities the Pub/Sub endpoint's certificate is checked against "
                 "(default: the system's), e.g. sfemu --tls's certificate")
    ->envname("SYNCFORCE_PUBSUB_CA_FILE");
  app.footer("Environment variables are read when the flag is not given. Logs are logfmt lines on stdout.\n"
             "Health: grpc.health.v1.Health on --grpc-address; service \"\" (liveness) and \"readiness\".\n"
             "Metrics: Prometheus text format on http://--metrics-address/metrics when set.");
  CLI11_PARSE(app, argc, argv);
  policy.env_prefixes = split_list(env_prefixes);
  policy.file_dirs = split_list(secret_dirs);
  policy.login_hosts = split_list(login_hosts);
  policy.insecure_login_hosts = split_list(insecure_login_hosts);
  if (auto why = refuse_pubsub_endpoint(pubsub_endpoint, policy)) {
    std::cerr << "syncforced: --pubsub-endpoint (SYNCFORCE_PUBSUB_ENDPOINT): " << *why << "\n";
    return 2;
  }
  auto change_events = std::make_shared<actors::change_event_settings>();
  {
    auto endpoint = parse_pubsub_endpoint(pubsub_endpoint);
    change_events->target = endpoint->target;
    change_events->tls = endpoint->tls;
    change_events->streams = engine_io::make_pubsub_change_stream;
    if (!pubsub_ca_file.empty()) {
      std::ifstream in(pubsub_ca_file);
      std::stringstream pem;
      pem << in.rdbuf();
      if (!in || pem.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        std::cerr << "syncforced: --pubsub-ca-file (SYNCFORCE_PUBSUB_CA_FILE): " << pubsub_ca_file
                  << " is not a readable PEM certificate file\n";
        return 2;
      }
      change_events->ca_pem = pem.str();
    }
  }
  for (const auto& d : policy.file_dirs)
    if (d.empty() || d.front() != '/') {
      std::cerr << "syncforced: --secret-dirs (SYNCFORCE_SECRET_DIRS): '" << d << "' is not an absolute path\n";
      return 2;
    }

  auto problems = validate(settings);
  if (!problems.empty()) {
    for (const auto& p : problems)
      std::cerr << "syncforced: " << p << "\n";
    std::cerr << "Run syncforced --help for the settings.\n";
    return 2;
  }

  std::optional<engine_config> file_config;
  if (!settings.config_file.empty()) {
    std::ifstream in(settings.config_file, std::ios::binary);
    if (!in) {
      std::cerr << "syncforced: --config (SYNCFORCE_CONFIG) '" << settings.config_file << "' cannot be read\n";
      return 2;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = parse_engine_config(text);
    for (const auto& w : parsed.warnings)
      std::cerr << "syncforced: " << settings.config_file << ": warning: " << w.to_string() << "\n";
    if (!parsed.ok()) {
      for (const auto& e : parsed.errors)
        std::cerr << "syncforced: " << settings.config_file << ": " << e.to_string() << "\n";
      return 2;
    }
    file_config = std::move(parsed.config);
  }
  services::admin_settings admin;
  admin.database_url = settings.database_url;
  if (!admin_token_file.empty()) {
    std::ifstream in(admin_token_file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && text.empty()) {
      std::cerr << "syncforced: --admin-token-file '" << admin_token_file << "' cannot be read\n";
      return 2;
    }
    auto tokens = parse_token_file(text);
    for (const auto& e : tokens.errors)
      std::cerr << "syncforced: --admin-token-file '" << admin_token_file << "': " << e << "\n";
    if (!tokens.ok())
      return 2;
    admin.tokens = std::move(tokens.tokens);
  } else if (const char* t = std::getenv("SYNCFORCE_ADMIN_TOKEN"); t != nullptr && *t != '\0') {
    admin.tokens.push_back(admin_token{"admin", std::string{t}});
  }
  std::string cluster_error;
  auto cluster_security = services::load_cluster_security(settings, cluster_error);
  if (!cluster_security) {
    std::cerr << "syncforced: " << cluster_error << "\n";
    return 2;
  }
  // The node's own files are never secrets it sends anywhere.
  for (const auto& own : {admin_token_file, settings.config_file, settings.cluster_secret_file,
                          settings.cluster_tls_key})
    if (!own.empty()) {
      std::error_code ec;
      auto canonical = std::filesystem::weakly_canonical(own, ec);
      policy.denied_files.push_back(ec ? own : canonical.string());
    }
  admin.secrets = actors::system_secret_lookup(policy);
  auto dashboard_tokens = admin.tokens;
  auto readiness = std::make_shared<services::health_readiness>();
  admin.node_name = settings.node_name;
  admin.node_failure = [readiness] { return readiness->failure(); };
  // TEST ONLY: a polling interval below Heroku Connect's 120 s minimum, said loudly in the log.
  std::optional<int> test_poll_seconds;
  if (const char* v = std::getenv("SYNCFORCE_TEST_POLL_SECONDS"); v != nullptr && *v != '\0') {
    int secs = std::atoi(v);
    if (secs < 1) {
      std::cerr << "syncforced: SYNCFORCE_TEST_POLL_SECONDS must be a positive number of seconds\n";
      return 2;
    }
    test_poll_seconds = secs;
  }
  // Loads' COPY format (store/copy_binary.hpp): a misspelt value must not pass unnoticed.
  if (!store::binary_copy_setting()) {
    std::cerr << "syncforced: SYNCFORCE_COPY_FORMAT must be text or binary, not '"
              << std::getenv("SYNCFORCE_COPY_FORMAT") << "'\n";
    return 2;
  }

  actors::init_logging(*actors::parse_log_level(settings.log_level));
  if (!policy.insecure_login_hosts.empty())
    actors::log(spdlog::level::warn, log_event{"DEVELOPMENT ONLY: credentials may be sent over plain http to " +
                                                 join_list(policy.insecure_login_hosts, ",") + " (--insecure-login-hosts)",
                                               "node", settings.node_name, ""});
  actors::log(spdlog::level::info, log_event{"Starting syncforced", "node", settings.node_name, "STARTING"}
                                     .with("version", SYNCFORCE_VERSION)
                                     .with("database", redact_url(settings.database_url))
                                     .with("grpc_address", settings.grpc_address));

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 4);
  caf::actor_system sys{cfg};

  actors::node_config node_cfg;
  node_cfg.node_name = settings.node_name;
  auto database_url = settings.database_url;
  auto make_monitor = [database_url, node_name = settings.node_name](caf::local_actor* parent) {
    // A cutover this node (or a node gone for good) left unfinished is rolled back once the database answers.
    std::shared_ptr<actors::database_probe> probe =
      services::settling_cutovers(engine_io::make_database_probe(database_url), database_url, node_name);
    return parent->spawn<caf::detached>(actors::db_monitor, caf::actor_cast<actors::db_listener>(parent), probe,
                                        actors::db_monitor_config{});
  };
  actors::sync_engine_config engine_cfg;
  engine_cfg.node_name = settings.node_name;
  // The composition root: the engine's blocking work comes from engine_io/.
  engine_cfg.backend = engine_io::make_engine_backend(settings.database_url, settings.node_name,
                                                      std::chrono::milliseconds(settings.heartbeat_interval_ms));
  engine_cfg.file_config = std::move(file_config);
  engine_cfg.workers = settings.sync_workers;
  engine_cfg.bulk_threshold = settings.bulk_threshold;
  engine_cfg.bulk_page_size = settings.bulk_page_size;
  engine_cfg.archive_retention_days = settings.archive_retention_days;
  engine_cfg.test_poll_seconds = test_poll_seconds;
  engine_cfg.secrets = actors::system_secret_lookup(policy);
  engine_cfg.version = SYNCFORCE_VERSION;
  engine_cfg.lease_ttl = std::chrono::milliseconds(settings.lease_ttl_ms);
  engine_cfg.heartbeat_interval = std::chrono::milliseconds(settings.heartbeat_interval_ms);
  engine_cfg.change_events = change_events;
  // The Cluster service and the broker proxies: each user's broker runs on the
  // node holding its lease (unless the TEST-ONLY --test-broker-owner fixes it).
  // The brokers this node runs are registered for the Cluster service.
  auto brokers = std::make_shared<actors::broker_registry>();
  engine_cfg.cluster = std::make_shared<actors::broker_cluster>();
  engine_cfg.cluster->transport = std::make_shared<services::grpc_broker_transport>(*cluster_security);
  engine_cfg.cluster->registry = brokers;
  // Known once the gRPC server listens (the port may be chosen by the system),
  // before the supervisor is told to start (and so before the engine exists):
  // the advertised address, and the broker directory that needs it.
  auto advertised = std::make_shared<std::string>();
  // One copy shared by the supervisor's node_cfg, its copies and this function: the file's
  // configuration holds every mapping, and each copy of it cost ~0.2 kB per mapping.
  auto cluster = engine_cfg.cluster;
  auto shared_engine_cfg = std::make_shared<const actors::sync_engine_config>(std::move(engine_cfg));
  node_cfg.make_engine = [shared_engine_cfg, advertised](caf::local_actor* parent) -> actors::supervised_engine {
    auto cfg = *shared_engine_cfg;
    cfg.advertise_address = *advertised;
    return parent->spawn(actors::sync_engine, cfg);
  };
  auto supervisor = sys.spawn(actors::node_supervisor, node_cfg, readiness, make_monitor);

  std::string error;
  admin.brokers = brokers;
  admin.cluster = *cluster_security;
  services::cluster_endpoint cluster_ep{brokers, *cluster_security, settings.cluster_tls_address};
  auto server = services::node_server::start(settings.grpc_address, sys, supervisor,
                                             services::node_identity{settings.node_name, SYNCFORCE_VERSION,
                                                                     now_unix_ms()},
                                             readiness, std::move(admin), error, cluster_ep);
  if (!server) {
    actors::log(spdlog::level::err, log_event{"Cannot start the gRPC server", "node", settings.node_name,
                                              "SYSTEM_ERROR"}
                                      .with("reason", error));
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    return 1;
  }
  actors::log(spdlog::level::info, log_event{"gRPC server listening", "node", settings.node_name, "STARTING"}.with(
                                     "port", std::to_string(server->port())));
  auto advertise = advertise_address_for(settings, std::getenv("POD_IP"),
                                         cluster_security->tls() ? server->cluster_tls_port() : server->port(),
                                         host_name());
  *advertised = advertise;
  if (settings.test_broker_owners.empty()) {
    // Each user's broker runs where its lease is (docs/cluster.md).
    cluster->directory = std::make_shared<actors::lease_broker_directory>(advertise);
    cluster->leased = true;
  } else {
    auto dir = std::make_shared<actors::fixed_broker_directory>(advertise);
    for (const auto& e : settings.test_broker_owners) {
      auto owner = parse_broker_owner(e);
      dir->set_owner(owner->first, owner->second);
    }
    cluster->directory = dir;
    actors::log(spdlog::level::warn, log_event{"TEST ONLY: broker owners fixed by --test-broker-owner", "node",
                                               settings.node_name, ""});
  }
  actors::log(spdlog::level::info, log_event{"Cluster service ready", "node", settings.node_name, "STARTING"}
                                     .with("advertise_address", advertise)
                                     .with("auth", cluster_security->tls()        ? "mtls+secret"
                                                   : !cluster_security->secret.empty() ? "secret"
                                                   : cluster_security->insecure       ? "none (--cluster-insecure)"
                                                                                      : "refusing"));
  std::unique_ptr<metrics::server> metrics_server;
  if (!settings.metrics_address.empty()) {
    metrics_server = metrics::start_server({settings.metrics_address, settings.database_url, settings.node_name},
                                           error);
    if (!metrics_server) {
      actors::log(spdlog::level::err, log_event{"Cannot start the metrics server", "node", settings.node_name,
                                                "SYSTEM_ERROR"}
                                        .with("reason", error));
      readiness->shut_down();
      server->shutdown(std::chrono::seconds(1));
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
      return 1;
    }
    actors::log(spdlog::level::info, log_event{"Metrics server listening", "node", settings.node_name, "STARTING"}
                                       .with("port", std::to_string(metrics_server->port())));
  }
  std::unique_ptr<dashboard::dashboard_server> web;
  if (!http_address.empty()) {
    dashboard::dashboard_settings web_settings;
    web_settings.address = http_address;
    web_settings.database_url = settings.database_url;
    web_settings.node_name = settings.node_name;
    web_settings.idle_timeout = std::chrono::minutes(session_idle_minutes);
    web = dashboard::dashboard_server::start(
      web_settings, std::make_unique<dashboard::admin_bridge>(server->in_process_channel(), dashboard_tokens), error);
    if (!web) {
      actors::log(spdlog::level::err, log_event{"Cannot start the dashboard", "node", settings.node_name,
                                                "SYSTEM_ERROR"}
                                        .with("reason", error));
      server->shutdown(std::chrono::seconds(1));
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
      return 1;
    }
    actors::log(spdlog::level::info, log_event{"Dashboard listening", "node", settings.node_name, "STARTING"}
                                       .with("port", std::to_string(web->port()))
                                       .with("sessions", dashboard_tokens.empty() ? "off (no admin token)" : "on"));
  }
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
  if (web)
    web->stop(); // before the gRPC server: its calls go through the in-process channel
  server->shutdown(deadline);
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  actors::log(spdlog::level::info, log_event{"Stopped", "node", settings.node_name, "STOPPED"}.with(
                                     "drained", drained ? "true" : "false"));
  return 0;
}
