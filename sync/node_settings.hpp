#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace syncforce {

/// The settings of one syncforced node, from flags and environment.
struct node_settings {
  /// libpq URL or key/value string of the database holding the control schema.
  std::string database_url;
  /// host:port the gRPC server listens on.
  std::string grpc_address = "0.0.0.0:50051";
  /// host:port the Prometheus metrics endpoint (GET /metrics) listens on; empty: none.
  std::string metrics_address;
  /// This node's name in the cluster (defaults to the host name).
  std::string node_name;
  /// trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  /// How long a shutdown may take before gRPC calls are cancelled.
  int shutdown_timeout_seconds = 10;
  /// Optional configuration file (import/export JSON v1).
  std::string config_file;
  /// Worker threads of the sync engine, each holding one PostgreSQL connection.
  int sync_workers = 4;
  /// Records above which a load uses Bulk API 2.0 instead of REST queries.
  long bulk_threshold = 10000;
  /// Records per Bulk 2.0 query results page (`maxRecords`); 0 lets Salesforce choose.
  long bulk_page_size = 0;
  /// Days `_trigger_log_archive` keeps processed entries (Heroku Connect: 31; 7 on its demo plan).
  int archive_retention_days = 31;
  /// How long a node stays live (and keeps its units) without a heartbeat.
  int lease_ttl_ms = 10000;
  /// How often a node heartbeats and looks at the cluster.
  int heartbeat_interval_ms = 2000;

  // ---- cluster (docs/cluster.md) ----
  /// host:port other nodes reach this node's Cluster service at (written to
  /// syncforce.nodes). Empty: see advertise_address_for.
  std::string advertise_address;
  /// File holding the secret every node of the cluster shares; Cluster calls
  /// carry it and are refused without it.
  std::string cluster_secret_file;
  /// DEVELOPMENT ONLY (one node): take Cluster calls without a secret.
  bool cluster_insecure = false;
  /// mTLS for node-to-node calls: this node's certificate, key, and the CA
  /// that signed every node's certificate (all three or none).
  std::string cluster_tls_cert;
  std::string cluster_tls_key;
  std::string cluster_tls_ca;
  /// With mTLS: host:port of the second listener that serves Cluster calls over mTLS.
  std::string cluster_tls_address;
  /// TEST ONLY: "USER_KEY=HOST:PORT" entries naming where a user's broker runs
  /// (until leases decide it).
  std::vector<std::string> test_broker_owners;
};

/// The address this node advertises to the cluster: --advertise-address when
/// given, else POD_IP (the pod's IP from the downward API) with the port of
/// the Cluster listener, else the listen address (a wildcard host replaced by
/// `host_name`).
std::string advertise_address_for(const node_settings& s, const char* pod_ip, int cluster_port,
                                  const std::string& host_name);

/// A TEST-ONLY broker owner entry split at its last '=' (nullopt when malformed).
std::optional<std::pair<std::string, std::string>> parse_broker_owner(const std::string& entry);

/// Every problem with `s`, each naming the setting (flag and environment
/// variable) and what is wrong. Empty when valid. Never echoes a password.
std::vector<std::string> validate(const node_settings& s);

} // namespace syncforce
