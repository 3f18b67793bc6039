#include "sync/node_settings.hpp"

#include "sync/logfmt.hpp"

#include <algorithm>
#include <cctype>

namespace syncforce {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool valid_port(const std::string& text) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), ::isdigit))
    return false;
  int port = std::stoi(text);
  return port >= 0 && port <= 65535;
}

bool valid_host_port(const std::string& a) {
  auto colon = a.rfind(':');
  return colon != std::string::npos && colon != 0 && valid_port(a.substr(colon + 1)) && a.find(' ') == std::string::npos;
}

} // namespace

std::string advertise_address_for(const node_settings& s, const char* pod_ip, int cluster_port,
                                  const std::string& host_name) {
  if (!s.advertise_address.empty())
    return s.advertise_address;
  if (pod_ip != nullptr && *pod_ip != '\0') {
    std::string ip = pod_ip;
    if (ip.find(':') != std::string::npos && ip.front() != '[')
      ip = "[" + ip + "]"; // IPv6
    return ip + ":" + std::to_string(cluster_port);
  }
  const auto& listen = s.cluster_tls_address.empty() ? s.grpc_address : s.cluster_tls_address;
  auto colon = listen.rfind(':');
  auto host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host == "0.0.0.0" || host == "[::]" || host == "::" || host.empty())
    host = host_name.empty() ? "127.0.0.1" : host_name;
  return host + ":" + std::to_string(cluster_port);
}

std::optional<std::pair<std::string, std::string>> parse_broker_owner(const std::string& entry) {
  auto eq = entry.rfind('=');
  if (eq == std::string::npos || eq == 0 || !valid_host_port(entry.substr(eq + 1)))
    return std::nullopt;
  return std::make_pair(entry.substr(0, eq), entry.substr(eq + 1));
}

std::vector<std::string> validate(const node_settings& s) {
  std::vector<std::string> problems;
  if (s.database_url.empty()) {
    problems.emplace_back("--database-url (SYNCFORCE_DATABASE_URL) is required, e.g. "
                          "postgresql://user@localhost:5432/app");
  } else if (!starts_with(s.database_url, "postgresql://") && !starts_with(s.database_url, "postgres://") &&
             s.database_url.find('=') == std::string::npos) {
    problems.emplace_back("--database-url (SYNCFORCE_DATABASE_URL) '" + redact_url(s.database_url) +
                          "' is neither a postgresql:// URL nor a key=value connection string");
  }
  auto colon = s.grpc_address.rfind(':');
  if (colon == std::string::npos || colon == 0 || !valid_port(s.grpc_address.substr(colon + 1))) {
    problems.emplace_back("--grpc-address (SYNCFORCE_GRPC_ADDRESS) '" + s.grpc_address +
                          "' must be HOST:PORT with a port from 0 to 65535, e.g. 0.0.0.0:50051");
  }
  if (!s.metrics_address.empty()) {
    auto mc = s.metrics_address.rfind(':');
    if (mc == std::string::npos || mc == 0 || !valid_port(s.metrics_address.substr(mc + 1)))
      problems.emplace_back("--metrics-address (SYNCFORCE_METRICS_ADDRESS) '" + s.metrics_address +
                            "' must be HOST:PORT with a port from 0 to 65535, e.g. 0.0.0.0:9464");
    else if (s.metrics_address.substr(mc + 1) == s.grpc_address.substr(s.grpc_address.rfind(':') + 1) &&
             s.metrics_address.substr(mc + 1) != "0")
      problems.emplace_back("--metrics-address (SYNCFORCE_METRICS_ADDRESS) '" + s.metrics_address +
                            "' uses the port of --grpc-address");
  }
  if (s.node_name.empty() || s.node_name.size() > 63 ||
      !std::all_of(s.node_name.begin(), s.node_name.end(),
                   [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; })) {
    problems.emplace_back("--node-name (SYNCFORCE_NODE_NAME) '" + s.node_name +
                          "' must be 1 to 63 characters of letters, digits, '-', '_' or '.'");
  }
  static const std::vector<std::string> levels{"trace", "debug", "info",     "warn",
                                               "warning", "error", "critical", "off"};
  if (std::find(levels.begin(), levels.end(), s.log_level) == levels.end()) {
    problems.emplace_back("--log-level (SYNCFORCE_LOG_LEVEL) '" + s.log_level +
                          "' must be one of trace, debug, info, warn, error, critical, off");
  }
  if (s.shutdown_timeout_seconds < 1 || s.shutdown_timeout_seconds > 300) {
    problems.emplace_back("--shutdown-timeout (SYNCFORCE_SHUTDOWN_TIMEOUT) must be between 1 and 300 seconds");
  }
  if (s.sync_workers < 1 || s.sync_workers > 64)
    problems.emplace_back("--sync-workers (SYNCFORCE_SYNC_WORKERS) must be between 1 and 64");
  if (s.bulk_threshold < 1)
    problems.emplace_back("--bulk-threshold (SYNCFORCE_BULK_THRESHOLD) must be at least 1");
  if (s.lease_ttl_ms < 1000 || s.lease_ttl_ms > 300000)
    problems.emplace_back("--lease-ttl-ms (SYNCFORCE_LEASE_TTL_MS) must be between 1000 and 300000");
  if (s.heartbeat_interval_ms < 100 || s.heartbeat_interval_ms * 3 > s.lease_ttl_ms)
    problems.emplace_back("--heartbeat-interval-ms (SYNCFORCE_HEARTBEAT_INTERVAL_MS) must be at least 100 and at "
                          "most a third of --lease-ttl-ms, so a node renews its lease at least twice before it "
                          "expires");
  if (s.archive_retention_days < 1 || s.archive_retention_days > 3650)
    problems.emplace_back("--archive-retention-days (SYNCFORCE_ARCHIVE_RETENTION_DAYS) must be between 1 and 3650");
  if (s.bulk_page_size < 0 || s.bulk_page_size > 1000000)
    problems.emplace_back("--bulk-page-size (SYNCFORCE_BULK_PAGE_SIZE) must be between 0 (Salesforce's choice) "
                          "and 1000000 records");
  if (!s.advertise_address.empty() && !valid_host_port(s.advertise_address))
    problems.emplace_back("--advertise-address (SYNCFORCE_ADVERTISE_ADDRESS) '" + s.advertise_address +
                          "' must be HOST:PORT, e.g. 10.1.2.3:50051");
  int tls_parts = !s.cluster_tls_cert.empty() + !s.cluster_tls_key.empty() + !s.cluster_tls_ca.empty();
  if (tls_parts != 0 && tls_parts != 3)
    problems.emplace_back("--cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca (SYNCFORCE_CLUSTER_TLS_*) "
                          "go together: give all three for mTLS between nodes, or none");
  if (tls_parts == 3 && !valid_host_port(s.cluster_tls_address))
    problems.emplace_back("--cluster-tls-address (SYNCFORCE_CLUSTER_TLS_ADDRESS) '" + s.cluster_tls_address +
                          "' must be HOST:PORT (the mTLS listener for Cluster calls), e.g. 0.0.0.0:50052");
  if (tls_parts == 0 && !s.cluster_tls_address.empty())
    problems.emplace_back("--cluster-tls-address (SYNCFORCE_CLUSTER_TLS_ADDRESS) needs --cluster-tls-cert, "
                          "--cluster-tls-key and --cluster-tls-ca");
  if (s.cluster_insecure && !s.cluster_secret_file.empty())
    problems.emplace_back("--cluster-insecure (SYNCFORCE_CLUSTER_INSECURE) and --cluster-secret-file "
                          "(SYNCFORCE_CLUSTER_SECRET_FILE) exclude each other");
  for (const auto& e : s.test_broker_owners)
    if (!parse_broker_owner(e))
      problems.emplace_back("--test-broker-owner '" + e + "' must be USER_KEY=HOST:PORT");
  return problems;
}

} // namespace syncforce
