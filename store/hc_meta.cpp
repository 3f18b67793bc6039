#include "store/hc_meta.hpp"

#include "store/hc_schema.hpp"

#include <nlohmann/json.hpp>

namespace syncforce::store {

void write_connection_hcmeta(pqxx::transaction_base& tx, const std::string& connection_id,
                             const std::string& schema) {
  auto r = tx.exec_params("SELECT organization_id FROM syncforce.connections WHERE id = $1", connection_id);
  std::string org;
  if (!r.empty() && !r[0][0].is_null())
    org = r[0][0].as<std::string>();
  // The add-on id is what every Heroku Connect log line carries (addon_id=): the
  // connection's id here, so a line can be matched to this schema.
  write_hcmeta(tx, schema, org, nlohmann::json{{"addon_id", connection_id}}.dump());
}

} // namespace syncforce::store
