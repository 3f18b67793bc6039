#include "store/gauge_reads.hpp"

#include <algorithm>

namespace syncforce::store {

void set_session_statement_timeout(pqxx::connection& db, std::chrono::milliseconds timeout) {
  pqxx::nontransaction tx(db);
  tx.exec0("SET statement_timeout = " + std::to_string(timeout.count()));
}

std::vector<mapping_lag> read_mapping_lags(pqxx::transaction_base& tx) {
  std::vector<mapping_lag> out;
  for (const auto& r : tx.exec("SELECT c.schema_name, m.object_name, m.state, "
                               "extract(epoch FROM clock_timestamp() - m.high_water_mark)::float8 "
                               "FROM syncforce.mappings m JOIN syncforce.connections c ON c.id = m.connection_id "
                               "ORDER BY 1, 2")) {
    mapping_lag m{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), std::nullopt};
    if (!r[3].is_null())
      m.lag_seconds = r[3].as<double>();
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<trigger_log_backlog> read_trigger_log_backlogs(pqxx::transaction_base& tx) {
  std::vector<trigger_log_backlog> out;
  // Connections whose schema was not made yet have no trigger log.
  for (const auto& c : tx.exec("SELECT schema_name FROM syncforce.connections "
                               "WHERE to_regclass(quote_ident(schema_name) || '._trigger_log') IS NOT NULL "
                               "ORDER BY 1")) {
    trigger_log_backlog b{c[0].as<std::string>(), {{"NEW", 0}, {"PENDING", 0}}, 0};
    for (const auto& r : tx.exec("SELECT state, count(*), "
                                 "extract(epoch FROM clock_timestamp() - min(created_at))::float8 FROM " +
                                 tx.quote_name(b.schema) +
                                 "._trigger_log WHERE state IN ('NEW', 'PENDING') GROUP BY state")) {
      b.count_by_state[r[0].as<std::string>()] = r[1].as<double>();
      if (r[0].as<std::string>() == "NEW" && !r[2].is_null())
        b.oldest_new_age_seconds = std::max(0.0, r[2].as<double>());
    }
    out.push_back(std::move(b));
  }
  return out;
}

std::map<std::string, double> leases_held_by(pqxx::transaction_base& tx, const std::string& node) {
  // A lease is held while its owner node is live (docs/cluster.md).
  std::map<std::string, double> held{{"mapping", 0}, {"writer", 0}, {"user", 0}};
  for (const auto& r : tx.exec_params(
         "SELECT CASE l.kind WHEN 'integration_user' THEN 'user' ELSE l.kind END, count(*) "
         "FROM syncforce.leases l JOIN syncforce.nodes n ON n.name = l.owner_node "
         "WHERE l.owner_node = $1 AND n.expires_at > clock_timestamp() GROUP BY 1",
         node))
    held[r[0].as<std::string>()] = r[1].as<double>();
  return held;
}

} // namespace syncforce::store
