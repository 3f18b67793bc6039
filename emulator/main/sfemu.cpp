// sfemu: a local Salesforce org (OAuth, REST, SOQL, Bulk 2.0, control API) for development and tests.
#include "emulator/pubsub/service.hpp"
#include "emulator/server.hpp"
#include "emulator/tls.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <cstdio>
#include <iostream>
#include <thread>

#include <unistd.h>

namespace {

sfemu::server* running = nullptr;

bool split_pair(const std::string& text, std::pair<std::string, std::string>& out) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  out = {text.substr(0, colon), text.substr(colon + 1)};
  return true;
}

} // namespace

int main(int argc, char** argv) {
  // Signals: blocked in every thread (workers inherit the mask), waited for in one.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  CLI::App app{"sfemu: a local Salesforce org (REST, SOQL, OAuth, Bulk 2.0, Change Data Capture over the Pub/Sub API) "
               "for development and tests"};
  sfemu::server_options opts;
  std::vector<std::string> users, clients;
  std::string legacy = "below-v56";
  app.add_option("--port", opts.port, "TCP port to listen on (0 picks a free one)");
  app.add_option("--host", opts.host, "address to listen on")->capture_default_str();
  app.add_option("--org", opts.org_file, "org file (JSON): objects, fields, users, records, settings");
  app.add_option("--user", users, "extra user NAME:PASSWORD (repeatable)");
  app.add_option("--client", clients, "pinned OAuth client ID:SECRET (repeatable; default: any client accepted)");
  app.add_option("--session-seconds", opts.settings.session_seconds, "session lifetime in seconds")
      ->capture_default_str();
  app.add_option("--jwt-cert", opts.jwt_cert_file, "PEM certificate or public key for the JWT bearer flow");
  app.add_option("--api-limit", opts.settings.api_limit, "daily API request limit")->capture_default_str();
  app.add_option("--legacy-cursors", legacy, "legacy query cursor rules: always, never or below-v56")
      ->capture_default_str();
  app.add_flag("--millisecond-datetimes", opts.settings.millisecond_datetimes,
               "keep milliseconds in stored datetimes (Salesforce, and sfemu by default, keep seconds)");
  app.add_option("--threads", opts.threads, "HTTP worker threads started at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--max-threads", opts.max_threads,
                 "HTTP worker threads at most: a connection that finds every thread busy gets a new one "
                 "up to this cap, so it never waits behind other clients' keep-alive connections")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  std::string cdc_entities = "all";
  app.add_option("--cdc-entities", cdc_entities,
                 "objects whose changes publish Change Data Capture events: all, none, or a comma-separated "
                 "list (Account,Widget__c)")
      ->capture_default_str();
  app.add_option("--cdc-retention-hours", opts.cdc.retention_hours,
                 "how long change events are kept for replay (org clock)")
      ->capture_default_str();
  int pubsub_port = -1;
  app.add_option("--pubsub-port", pubsub_port,
                 "serve the Pub/Sub API (gRPC) of change events on this port (0 picks a free one; default: off)");
  int pubsub_keepalive = 270;
  app.add_option("--pubsub-keepalive-seconds", pubsub_keepalive,
                 "a Pub/Sub subscription without events gets an empty FetchResponse this often")
      ->capture_default_str();
  bool tls = false;
  std::string tls_cert, tls_key, tls_cert_out;
  app.add_flag("--tls", tls,
               "serve HTTPS and gRPC over TLS with a self-signed certificate made at start (see --tls-cert-out)");
  app.add_option("--tls-cert", tls_cert, "serve TLS with this PEM certificate (with --tls-key)");
  app.add_option("--tls-key", tls_key, "the PEM private key of --tls-cert");
  app.add_option("--tls-cert-out", tls_cert_out,
                 "where the generated certificate is written for clients to trust (default: "
                 "$TMPDIR/sfemu-<pid>-cert.pem); printed as 'sfemu tls certificate FILE'");
  app.add_option("--streaming-connect-timeout-ms", opts.streaming.connect_timeout_ms,
                 "Streaming API (CometD): how long a /meta/connect long poll waits for events")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--streaming-client-timeout-ms", opts.streaming.client_timeout_ms,
                 "Streaming API (CometD): a client without a /meta/connect for this long is dropped "
                 "(its next message gets 403::Unknown client)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  for (auto& u : users) {
    std::pair<std::string, std::string> p;
    if (!split_pair(u, p)) {
      std::cerr << "sfemu: --user expects NAME:PASSWORD\n";
      return 2;
    }
    opts.users.push_back(p);
  }
  for (auto& c : clients) {
    std::pair<std::string, std::string> p;
    if (!split_pair(c, p)) {
      std::cerr << "sfemu: --client expects ID:SECRET\n";
      return 2;
    }
    opts.clients.push_back(p);
  }
  auto mode = sfemu::parse_cursor_mode(legacy);
  if (!mode) {
    std::cerr << "sfemu: --legacy-cursors must be always, never or below-v56\n";
    return 2;
  }
  opts.settings.legacy_cursors = *mode;
  if (cdc_entities == "none") {
    opts.cdc.enabled = false;
  } else if (cdc_entities != "all") {
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= cdc_entities.size()) {
      auto comma = cdc_entities.find(',', start);
      auto name = cdc_entities.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (name.empty()) {
        std::cerr << "sfemu: --cdc-entities has an empty name in '" << cdc_entities << "'\n";
        return 2;
      }
      names.push_back(name);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    opts.cdc.entities = std::move(names);
  }
  if (opts.settings.session_seconds <= 0 || opts.settings.api_limit < 0) {
    std::cerr << "sfemu: --session-seconds must be positive and --api-limit not negative\n";
    return 2;
  }

  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "sfemu: --tls-cert and --tls-key go together\n";
    return 2;
  }
  std::string cert_file; // the generated certificate's file, printed below
  if (!tls_cert.empty()) {
    sfemu::tls_material m;
    if (auto err = sfemu::load_tls(tls_cert, tls_key, m)) {
      std::cerr << "sfemu: " << *err << "\n";
      return 1;
    }
    opts.tls = std::move(m);
  } else if (tls) {
    sfemu::tls_material m;
    if (auto err = sfemu::make_self_signed(opts.host, m)) {
      std::cerr << "sfemu: " << *err << "\n";
      return 1;
    }
    if (tls_cert_out.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      tls_cert_out = std::string(tmp && *tmp ? tmp : "/tmp") + "/sfemu-" + std::to_string(getpid()) + "-cert.pem";
    }
    std::ofstream out(tls_cert_out, std::ios::binary | std::ios::trunc);
    out << m.cert_pem;
    if (!out.flush()) {
      std::cerr << "sfemu: cannot write the TLS certificate to " << tls_cert_out << "\n";
      return 1;
    }
    cert_file = tls_cert_out;
    opts.tls = std::move(m);
  }

  sfemu::server srv(opts);
  if (auto err = srv.init()) {
    std::cerr << "sfemu: " << *err << "\n";
    return 1;
  }
  int port = srv.bind();
  if (port <= 0) {
    std::cerr << "sfemu: cannot listen on " << opts.host << ":" << opts.port << "\n";
    return 1;
  }

  running = &srv;
  std::thread waiter([&set] {
    int sig = 0;
    sigwait(&set, &sig);
    if (running)
      running->stop();
  });

  // The Pub/Sub API (gRPC), on its own port and threads, over the same org and sessions.
  sfemu::pubsub::server pubsub(srv.context());
  int grpc_port = 0;
  if (pubsub_port >= 0) {
    sfemu::pubsub::server_options po;
    po.host = opts.host;
    po.port = pubsub_port;
    po.keepalive_seconds = pubsub_keepalive;
    if (opts.tls) {
      po.tls_cert_pem = opts.tls->cert_pem;
      po.tls_key_pem = opts.tls->key_pem;
    }
    if (auto err = pubsub.start(po, grpc_port)) {
      std::cerr << "sfemu: " << *err << "\n";
      return 1;
    }
  }

  // Extra lines come first: a client waiting for the "listening" line has them all then.
  if (!cert_file.empty())
    std::cout << "sfemu tls certificate " << cert_file << "\n";
  if (pubsub_port >= 0)
    std::cout << "sfemu pubsub on " << opts.host << ":" << grpc_port << (opts.tls ? " (tls)" : "") << "\n";
  std::cout << "sfemu listening on " << srv.context().scheme() << "://" << opts.host << ":" << port << std::endl;
  std::fflush(stdout);
  srv.run();
  // run() returns after stop(); if it returned on its own, wake the waiter
  running = nullptr;
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  pubsub.stop();
  return 0;
}
