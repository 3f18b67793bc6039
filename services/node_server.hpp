#pragma once

#include "actors/node_supervisor.hpp"
#include "services/admin_service.hpp"
#include "services/cluster_service.hpp"

#include <caf/all.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace syncforce::services {

/// Readiness as the gRPC health service shows it: service "readiness" is
/// SERVING only while the node is ready; the overall service "" stays SERVING
/// while the process lives (liveness). Thread-safe; remembers the state until
/// a health service is attached.
class health_readiness : public actors::readiness_sink {
public:
  void set_ready(bool ready, const std::string& reason) override;
  void set_live(bool live, const std::string& reason) override;
  void set_failed(const std::string& reason) override;
  /// Why a supervisor of this node gave up (empty while none did).
  std::string failure() const;
  void attach(grpc::HealthCheckServiceInterface* health);
  /// Flips everything to NOT_SERVING for good (shutdown).
  void shut_down();
  bool ready() const;

private:
  mutable std::mutex mtx_;
  grpc::HealthCheckServiceInterface* health_ = nullptr;
  bool ready_ = false;
  bool live_ = true;
  std::string failure_;
  bool shut_down_ = false;
};

/// Static facts about this node for the node service.
struct node_identity {
  std::string name;
  std::string version;
  std::int64_t started_at_unix_ms = 0;
};

/// What the node serves to other nodes (syncforce.v1.Cluster).
struct cluster_endpoint {
  /// The limit brokers running in this node.
  std::shared_ptr<actors::broker_registry> brokers;
  cluster_security security;
  /// With mTLS: host:port of the second listener (client certificates required).
  std::string tls_address;
};

/// The node's gRPC server: grpc.health.v1.Health, server reflection,
/// syncforce.v1.Node, syncforce.v1.Admin and syncforce.v1.Cluster.
class node_server {
public:
  ~node_server();

  /// Binds `address` and starts serving; nullptr (with `error` set) if the
  /// address cannot be bound.
  static std::unique_ptr<node_server> start(const std::string& address, caf::actor_system& sys,
                                            actors::node_supervisor_actor supervisor, node_identity identity,
                                            std::shared_ptr<health_readiness> readiness, admin_settings admin,
                                            std::string& error, cluster_endpoint cluster = {});

  /// The port actually bound (useful with port 0).
  int port() const { return port_; }
  /// The port of the mTLS listener for Cluster calls (0 without mTLS).
  int cluster_tls_port() const { return tls_port_; }

  /// A channel to this server inside the process (no socket): the dashboard
  /// calls the admin service through it, so every check is the gRPC one.
  std::shared_ptr<grpc::Channel> in_process_channel();

  /// Stops accepting calls; calls still running after `deadline` are cancelled.
  void shutdown(std::chrono::milliseconds deadline);

private:
  node_server() = default;
  class node_service;
  std::unique_ptr<admin_service> admin_service_;
  std::unique_ptr<node_service> node_service_; ///< answers ListNodes through admin_service_: destroyed first
  std::unique_ptr<cluster_service> cluster_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  int tls_port_ = 0;
};

} // namespace syncforce::services
