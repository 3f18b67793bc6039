#pragma once

#include "sync/node_settings.hpp"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

namespace syncforce::services {

/// How nodes authenticate each other (docs/cluster.md): a shared secret sent
/// as call metadata, and mTLS when certificates are given. Never logged.
struct cluster_security {
  /// Empty: this node refuses Cluster calls (unless insecure).
  std::string secret;
  /// DEVELOPMENT ONLY: Cluster calls without a secret are taken.
  bool insecure = false;
  /// PEM contents for mTLS (all empty: plain TCP).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  bool tls() const { return !tls_cert.empty(); }
};

/// The metadata key carrying the cluster secret.
inline constexpr const char* cluster_secret_header = "x-syncforce-cluster-secret";

/// Reads the secret and certificate files named in `s` (and
/// SYNCFORCE_CLUSTER_SECRET_FILE through the flag's environment variable).
/// nullopt with `error` naming the flag and file when one cannot be read or
/// the secret is too weak (under 16 characters); the content is never shown.
std::optional<cluster_security> load_cluster_security(const node_settings& s, std::string& error);

/// Whether a Cluster call may go on: the secret matches (compared in constant
/// time), the peer presented a verified certificate when mTLS is on. The
/// status says what is missing without echoing anything presented.
grpc::Status authorize_cluster_call(const cluster_security& sec, const grpc::CallbackServerContext* ctx);

/// Credentials for calling other nodes.
std::shared_ptr<grpc::ChannelCredentials> cluster_channel_credentials(const cluster_security& sec);

/// Credentials of the mTLS listener (client certificates required and verified).
std::shared_ptr<grpc::ServerCredentials> cluster_server_credentials(const cluster_security& sec);

} // namespace syncforce::services
