#include "metrics/control_gauges.hpp"

#include "store/gauge_reads.hpp"

#include <pqxx/pqxx>

#include <map>

namespace syncforce::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily gauge_family(const std::string& name, const std::string& help) {
  return MetricFamily{name, help, MetricType::Gauge, {}};
}

/// Labels are given sorted by name, as prometheus-cpp's own families write them.
void add(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

/// Each scrape's statements are cut off after this long: a slow database must
/// not pile up scrapes.
constexpr int statement_timeout_ms = 5000;

} // namespace

std::string with_connect_timeout(const std::string& url, int seconds) {
  auto param = "connect_timeout=" + std::to_string(seconds);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0)
    return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
  return url + " " + param;
}

control_gauges::control_gauges(std::string database_url, std::string node_name)
  : database_url_(std::move(database_url)), node_name_(std::move(node_name)) {}

control_gauges::~control_gauges() = default;

std::vector<MetricFamily> control_gauges::Collect() const {
  std::lock_guard<std::mutex> lock{mutex_};
  auto up = gauge_family("syncforce_database_up",
                         "1 when this scrape could read the control schema (the gauges read from it are present), "
                         "else 0");
  std::vector<MetricFamily> out;
  try {
    if (!db_ || !db_->is_open()) {
      db_ = std::make_unique<pqxx::connection>(with_connect_timeout(database_url_, 3));
      store::set_session_statement_timeout(*db_, std::chrono::milliseconds(statement_timeout_ms));
    }
    out = read(*db_);
    add(up, {}, 1);
  } catch (const std::exception&) {
    // The reason is the database monitor's to log (with the URL redacted); a
    // scrape only says that it could not read. Reconnect on the next one.
    db_.reset();
    out.clear();
    add(up, {}, 0);
  }
  out.push_back(std::move(up));
  return out;
}

std::vector<MetricFamily> control_gauges::read(pqxx::connection& db) const {
  pqxx::read_transaction tx(db);
  auto lag = gauge_family("syncforce_sync_lag_seconds",
                          "Now minus the newest SystemModstamp applied to the mapping's table (grows while the "
                          "object does not change in Salesforce)");
  auto state = gauge_family("syncforce_mapping_state", "1 for the mapping's current state (Heroku Connect's names)");
  auto by_state = gauge_family("syncforce_mappings", "Mappings of every connection by state");
  std::map<std::string, int> counts;
  for (const auto& m : store::read_mapping_lags(tx)) {
    if (m.lag_seconds)
      add(lag, {{"object", m.object_name}, {"schema", m.schema}}, *m.lag_seconds);
    add(state, {{"object", m.object_name}, {"schema", m.schema}, {"state", m.state}}, 1);
    ++counts[m.state];
  }
  for (const auto& [st, n] : counts)
    add(by_state, {{"state", st}}, n);

  auto backlog = gauge_family("syncforce_trigger_log_backlog",
                              "Trigger-log entries not yet written to Salesforce, by state (NEW waiting, PENDING "
                              "claimed by a writer)");
  auto oldest = gauge_family("syncforce_trigger_log_oldest_new_age_seconds",
                             "Age of the oldest NEW trigger-log entry of the connection (0 when none waits)");
  for (const auto& b : store::read_trigger_log_backlogs(tx)) {
    for (const auto& [st, v] : b.count_by_state)
      add(backlog, {{"schema", b.schema}, {"state", st}}, v);
    add(oldest, {{"schema", b.schema}}, b.oldest_new_age_seconds);
  }

  auto leases = gauge_family("syncforce_leases_held", "Leases this node holds, by kind of unit");
  for (const auto& [kind, v] : store::leases_held_by(tx, node_name_))
    add(leases, {{"kind", kind}}, v);

  return {std::move(lag), std::move(state), std::move(by_state), std::move(backlog), std::move(oldest),
          std::move(leases)};
}

} // namespace syncforce::metrics
