#include "cli/output.hpp"

namespace syncforce::cli {

std::string with_commas(long long n) {
  auto digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

/// A sweep's or formula repair's last run and totals; null before the first run.
nlohmann::json read_repair_json(bool present, const syncforce::v1::ReadRepair& r) {
  if (!present)
    return nullptr;
  return {{"last_run_at", r.last_run_at()}, {"checked", r.checked()},   {"fetched", r.fetched()},
          {"repaired", r.repaired()},       {"runs", r.runs()},         {"total_checked", r.total_checked()},
          {"total_fetched", r.total_fetched()}, {"total_repaired", r.total_repaired()}};
}

nlohmann::json mapping_json(const syncforce::v1::MappingState& m) {
  auto config = m.config_json().empty() ? nlohmann::json::object()
                                        : nlohmann::json::parse(m.config_json(), nullptr, false);
  return {{"id", m.id()},
          {"object_name", m.object_name()},
          {"state", m.state()},
          {"state_description", m.state_description()},
          {"high_water_mark", m.high_water_mark()},
          {"access", m.access()},
          {"revision", m.revision()},
          {"config", config},
          {"pending_command", m.pending_command()},
          {"load", {{"rows_loaded", m.load_rows_loaded()}, {"rows_expected", m.load_rows_expected()}}},
          {"oldest_pending_write_at", m.oldest_pending_write_at()},
          {"node", m.node()},
          {"counts", {{"db", m.db_rows()}, {"pending", m.pending_writes()}, {"errors", m.failed_writes_24h()}, {"read_errors", m.read_errors()}}},
          {"sweep", read_repair_json(m.has_sweep(), m.sweep())},
          {"formula_repair", read_repair_json(m.has_formula_repair(), m.formula_repair())}};
}

nlohmann::json connection_json(const syncforce::v1::ConnectionState& c) {
  auto mappings = nlohmann::json::array();
  for (const auto& m : c.mappings())
    mappings.push_back(mapping_json(m));
  auto features = nlohmann::json::object();
  for (const auto& [k, v] : c.features())
    features[k] = v;
  return {{"id", c.id()},
          {"name", c.name()},
          {"schema_name", c.schema_name()},
          {"state", c.state()},
          {"api_version", c.api_version()},
          {"sf_info",
           {{"username", c.username()},
            {"login_url", c.login_url()},
            {"auth_method", c.auth_method()},
            {"secret_ref", c.secret_ref()},
            {"client_id", c.client_id()},
            {"organization_id", c.organization_id()}}},
          {"features", features},
          {"writer_node", c.writer_node()},
          {"cutover", c.cutover()},
          {"mappings", mappings}};
}

} // namespace syncforce::cli
