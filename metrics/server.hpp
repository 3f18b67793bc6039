#pragma once
// A node's metrics endpoint: GET /metrics in the Prometheus text format on
// --metrics-address, serving the counters of metrics.hpp, the gauges read from
// the control schema at scrape time (control_gauges.hpp) and process metrics.

#include <memory>
#include <string>

namespace syncforce::metrics {

struct server_settings {
  /// HOST:PORT to listen on (port 0: any free port).
  std::string address;
  /// The database of the control schema, read at each scrape.
  std::string database_url;
  /// This node's name (leases held are the ones it owns).
  std::string node_name;
};

class server {
public:
  virtual ~server() = default;
  /// The port it listens on (the chosen one when asked for 0).
  virtual int port() const = 0;
};

/// Installs the instruments (metrics::install) and starts listening; nullptr
/// with `error` saying why when the address cannot be used.
std::unique_ptr<server> start_server(const server_settings& settings, std::string& error);

} // namespace syncforce::metrics
