#pragma once
// Gauges computed at scrape time from the control schema and the connections'
// trigger logs, so they are true whatever node did the work and need no hooks
// in the actors: sync lag, mappings by state, trigger-log backlog and the age
// of its oldest NEW entry, leases this node holds.

#include <pqxx/connection>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <mutex>
#include <string>

namespace syncforce::metrics {

class control_gauges : public prometheus::Collectable {
public:
  control_gauges(std::string database_url, std::string node_name);
  ~control_gauges() override;

  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::vector<prometheus::MetricFamily> read(pqxx::connection& db) const;

  std::string database_url_;
  std::string node_name_;
  /// One connection reused across scrapes, opened again after a failure.
  mutable std::mutex mutex_;
  mutable std::unique_ptr<pqxx::connection> db_;
};

/// `url` with a connect timeout of `seconds` added (URL or key=value form), so
/// a scrape never hangs on an unreachable database.
std::string with_connect_timeout(const std::string& url, int seconds);

} // namespace syncforce::metrics
