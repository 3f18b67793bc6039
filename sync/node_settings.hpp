#pragma once

#include <string>
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
};

/// Every problem with `s`, each naming the setting (flag and environment
/// variable) and what is wrong. Empty when valid. Never echoes a password.
std::vector<std::string> validate(const node_settings& s);

} // namespace syncforce
