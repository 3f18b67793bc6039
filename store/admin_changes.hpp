#pragma once

// The control-schema writes (and the few reads they depend on) of the Admin
// service, one function per change: services/ decides what to change and
// checks it, these say how it is stored. Every function runs inside the
// caller's transaction and commits nothing.

#include "store/control_repo.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

// ---- connections ---------------------------------------------------------------

/// Inserts `c` (name, schema, login, API version, organization) in state NEW
/// with `features_json`; returns its id. A plain INSERT: a concurrent create of
/// the same name fails on the unique name.
std::string insert_connection(pqxx::transaction_base& tx, const connection_row& c, const std::string& features_json);

/// Stores the login of connection `c.id` (URL, user, method, secret references, organization).
void update_connection_login(pqxx::transaction_base& tx, const connection_row& c);

void set_connection_api_version(pqxx::transaction_base& tx, const std::string& connection_id,
                                const std::string& api_version);

/// The API version and the features together (an import changing the connection).
void set_connection_version_and_features(pqxx::transaction_base& tx, const std::string& connection_id,
                                         const std::string& api_version, const std::string& features_json);

/// Points the connection at `schema`: its load checkpoints are dropped and
/// every mapping starts again from INITIAL without a mark or a pending
/// command, described as `description`. The old tables are not touched.
void move_connection_schema(pqxx::transaction_base& tx, const std::string& connection_id, const std::string& schema,
                            const std::string& description);

/// The id of a running cutover with this connection as source or target.
std::optional<std::string> running_cutover_of(pqxx::transaction_base& tx, const std::string& connection_id);

/// The advertised gRPC address of `node` while its registration is live.
std::optional<std::string> live_node_address(pqxx::transaction_base& tx, const std::string& node);

/// Every mapping (id, object, connection name) of the connections logging in as this user.
struct user_mapping {
  std::string id;
  std::string object_name;
  std::string connection_name;
};
std::vector<user_mapping> mappings_of_user(pqxx::transaction_base& tx, const std::string& login_url,
                                           const std::string& username);

// ---- mappings ------------------------------------------------------------------

/// Inserts a mapping of `object_name` with `config_json` (state INITIAL); returns its id.
std::string insert_mapping(pqxx::transaction_base& tx, const std::string& connection_id,
                           const std::string& object_name, const std::string& config_json);

/// Stores a changed config and raises the revision (the node restarts the
/// mapping on it). The stored object name takes `object_name`'s spelling when
/// they differ only in case.
void update_mapping_config(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& config_json,
                           const std::string& object_name);

/// Sets (or, with none, clears) the mapping's pending admin command.
void set_mapping_command(pqxx::transaction_base& tx, const std::string& mapping_id,
                         const std::optional<std::string>& command);

/// Deletes the mapping's unsent changes (NEW and PENDING entries of `table`)
/// from the schema's trigger log, if it has one; returns how many.
long drop_unsent_changes(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);

void delete_mapping_row(pqxx::transaction_base& tx, const std::string& mapping_id);

// ---- failed writes -------------------------------------------------------------

/// Whether the schema has a trigger log archive (no archive: no failed writes).
bool has_trigger_log_archive(pqxx::transaction_base& tx, const std::string& schema);

/// Which of `ids` are FAILED archive entries of `table`.
std::vector<std::int64_t> failed_writes_among(pqxx::transaction_base& tx, const std::string& schema,
                                              const std::string& table, const std::vector<std::int64_t>& ids);

/// Moves archive entries `ids` to `state` (REQUEUE: written again; IGNORED: kept for the record).
void set_archive_state(pqxx::transaction_base& tx, const std::string& schema, const std::vector<std::int64_t>& ids,
                       const std::string& state);

} // namespace syncforce::store
