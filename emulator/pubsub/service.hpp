#pragma once

// The Pub/Sub API (gRPC, package eventbus.v1) over sfemu's change event log: Subscribe
// with FetchRequest flow control and replay presets, GetTopic, GetSchema; Publish and
// PublishStream refuse change event topics as Salesforce does. Topics:
// /data/ChangeEvents (every selected object) and /data/<Object>ChangeEvent.
// Calls authenticate with the metadata accesstoken (an sfemu session), instanceurl and
// tenantid (the org id, 15 or 18 characters). See docs/sfemu-cdc.md.

#include <memory>
#include <optional>
#include <string>

namespace sfemu {
class route_context;
}

namespace sfemu::pubsub {

struct server_options {
  std::string host = "127.0.0.1";
  int port = 0;                 ///< 0: a free port
  std::string tls_cert_pem;     ///< PEM text; empty: plaintext
  std::string tls_key_pem;
  int keepalive_seconds = 270;  ///< an empty FetchResponse after this long without events (Salesforce: 270 s)
};

/// The gRPC server of the Pub/Sub API.
class server {
public:
  explicit server(route_context& ctx);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Starts serving on its own threads; returns the bound port or an error message.
  std::optional<std::string> start(const server_options& options, int& port);
  /// Ends every stream and stops (idempotent).
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sfemu::pubsub
