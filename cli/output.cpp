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
          {"counts", {{"db", m.db_rows()}, {"pending", m.pending_writes()}, {"errors", m.failed_writes_24h()}, {"read_errors", m.read_errors()}}}};
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
