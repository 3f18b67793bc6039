#pragma once

#include <string>

#include <pqxx/pqxx>

namespace syncforce::store {

/// Fills the connection schema's `_hcmeta` row from the control schema, as
/// Heroku Connect keeps it: `hcver`, the connection's Salesforce `org_id`
/// (NULL until known) and `details` = `{"addon_id": "<connection id>"}`.
/// Idempotent: nothing is written when the row already says so.
void write_connection_hcmeta(pqxx::transaction_base& tx, const std::string& connection_id,
                             const std::string& schema);

} // namespace syncforce::store
