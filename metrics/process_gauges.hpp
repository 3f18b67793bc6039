#pragma once
// The standard process_* metrics (CPU, memory, file descriptors, start time),
// read from /proc/self at scrape time; prometheus-cpp does not ship them.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace syncforce::metrics {

class process_gauges : public prometheus::Collectable {
public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

} // namespace syncforce::metrics
