#include "metrics/control_gauges.hpp"

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
      pqxx::nontransaction tx(*db_);
      tx.exec0("SET statement_timeout = " + std::to_string(statement_timeout_ms));
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
  for (const auto& r : tx.exec("SELECT c.schema_name, m.object_name, m.state, "
                               "extract(epoch FROM clock_timestamp() - m.high_water_mark)::float8 "
                               "FROM syncforce.mappings m JOIN syncforce.connections c ON c.id = m.connection_id "
                               "ORDER BY 1, 2")) {
    auto schema = r[0].as<std::string>();
    auto object = r[1].as<std::string>();
    auto st = r[2].as<std::string>();
    if (!r[3].is_null())
      add(lag, {{"object", object}, {"schema", schema}}, r[3].as<double>());
    add(state, {{"object", object}, {"schema", schema}, {"state", st}}, 1);
    ++counts[st];
  }
  for (const auto& [st, n] : counts)
    add(by_state, {{"state", st}}, n);

  auto backlog = gauge_family("syncforce_trigger_log_backlog",
                              "Trigger-log entries not yet written to Salesforce, by state (NEW waiting, PENDING "
                              "claimed by a writer)");
  auto oldest = gauge_family("syncforce_trigger_log_oldest_new_age_seconds",
                             "Age of the oldest NEW trigger-log entry of the connection (0 when none waits)");
  // Connections whose schema was not made yet have no trigger log.
  for (const auto& c : tx.exec("SELECT schema_name FROM syncforce.connections "
                               "WHERE to_regclass(quote_ident(schema_name) || '._trigger_log') IS NOT NULL "
                               "ORDER BY 1")) {
    auto schema = c[0].as<std::string>();
    std::map<std::string, double> n{{"NEW", 0}, {"PENDING", 0}};
    double age = 0;
    for (const auto& r : tx.exec("SELECT state, count(*), "
                                 "extract(epoch FROM clock_timestamp() - min(created_at))::float8 FROM " +
                                 tx.quote_name(schema) +
                                 "._trigger_log WHERE state IN ('NEW', 'PENDING') GROUP BY state")) {
      n[r[0].as<std::string>()] = r[1].as<double>();
      if (r[0].as<std::string>() == "NEW" && !r[2].is_null())
        age = std::max(0.0, r[2].as<double>());
    }
    for (const auto& [st, v] : n)
      add(backlog, {{"schema", schema}, {"state", st}}, v);
    add(oldest, {{"schema", schema}}, age);
  }

  // A lease is held while its owner node is live (docs/cluster.md).
  auto leases = gauge_family("syncforce_leases_held", "Leases this node holds, by kind of unit");
  std::map<std::string, double> held{{"mapping", 0}, {"writer", 0}, {"user", 0}};
  for (const auto& r : tx.exec_params(
         "SELECT CASE l.kind WHEN 'integration_user' THEN 'user' ELSE l.kind END, count(*) "
         "FROM syncforce.leases l JOIN syncforce.nodes n ON n.name = l.owner_node "
         "WHERE l.owner_node = $1 AND n.expires_at > clock_timestamp() GROUP BY 1",
         node_name_))
    held[r[0].as<std::string>()] = r[1].as<double>();
  for (const auto& [kind, v] : held)
    add(leases, {{"kind", kind}}, v);

  return {std::move(lag), std::move(state), std::move(by_state), std::move(backlog), std::move(oldest),
          std::move(leases)};
}

} // namespace syncforce::metrics
