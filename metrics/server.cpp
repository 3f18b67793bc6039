#include "metrics/server.hpp"

#include "metrics/control_gauges.hpp"
#include "metrics/metrics.hpp"
#include "metrics/process_gauges.hpp"

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

namespace syncforce::metrics {

namespace {

class exposer_server : public server {
public:
  exposer_server(const server_settings& s)
    : exposer_(s.address, /*num_threads=*/1),
      registry_(std::make_shared<prometheus::Registry>()),
      control_(std::make_shared<control_gauges>(s.database_url, s.node_name)),
      process_(std::make_shared<process_gauges>()) {
    install(registry_);
    exposer_.RegisterCollectable(registry_);
    exposer_.RegisterCollectable(control_);
    exposer_.RegisterCollectable(process_);
  }

  int port() const override {
    auto ports = exposer_.GetListeningPorts();
    return ports.empty() ? 0 : ports.front();
  }

private:
  prometheus::Exposer exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<control_gauges> control_;
  std::shared_ptr<process_gauges> process_;
};

} // namespace

std::unique_ptr<server> start_server(const server_settings& settings, std::string& error) {
  try {
    return std::make_unique<exposer_server>(settings);
  } catch (const std::exception& e) {
    error = "cannot listen on " + settings.address + ": " + e.what();
    return nullptr;
  }
}

} // namespace syncforce::metrics
