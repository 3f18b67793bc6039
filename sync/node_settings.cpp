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

} // namespace

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
  return problems;
}

} // namespace syncforce
