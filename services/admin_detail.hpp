#pragma once

// Shared by the admin service's files (admin_*.cpp): lookups, replies, audit
// rows and the Salesforce checks. Everything here is blocking and runs on a
// worker of the admin pool (services/call_pool.hpp), never on a gRPC thread.

#include "salesforce/client.hpp"
#include "store/control_repo.hpp"
#include "sync/admin_rules.hpp"
#include "syncforce/v1/admin.pb.h"

#include <grpcpp/grpcpp.h>
#include <pqxx/pqxx>

#include <memory>
#include <string>
#include <vector>

namespace syncforce::services::admin_detail {

/// The connection named `name`, or the only one when `name` is empty (several:
/// INVALID_ARGUMENT naming them; none or unknown: NOT_FOUND saying so).
grpc::Status find_connection(pqxx::transaction_base& tx, const std::string& name, store::connection_row& out);

/// The connection named `name` (every connection when empty); NOT_FOUND for an unknown name.
grpc::Status select_connections(pqxx::transaction_base& tx, const std::string& name,
                                std::vector<store::connection_row>& out);

/// Locks the connection's row until the transaction ends (changing calls of one connection take turns).
void lock_connection(pqxx::transaction_base& tx, const std::string& connection_id);

/// The mapping of `object_name` (any case) in `c`; NOT_FOUND "no mapping of Contact in connection it".
grpc::Status find_mapping(pqxx::transaction_base& tx, const store::connection_row& c, const std::string& object_name,
                          store::mapping_row& out);

/// The stored row again (after a change in the same transaction).
store::connection_row reload_connection(pqxx::transaction_base& tx, const std::string& connection_id);

/// What the mappings are doing, for effective states and Recover.
std::vector<mapping_activity> activities_of(const std::vector<store::mapping_row>& mappings);

/// The replies: states, counts, progress, login references (never a secret).
void fill_connection(pqxx::transaction_base& tx, const store::connection_row& c, syncforce::v1::ConnectionState& out);
void fill_mapping(pqxx::transaction_base& tx, const store::connection_row& c, const store::mapping_row& m,
                  syncforce::v1::MappingState& out);

/// The stored `features` JSON object (every feature, true or false).
std::string features_json(const connection_features& f);

/// Audit JSON of a connection (only secret references) and of a mapping.
std::string connection_json(const store::connection_row& c);
std::string mapping_json(const store::mapping_row& m);

/// Records the audit row of a change and wakes the connection's node (NOTIFY), in `tx`.
void audit_and_notify(pqxx::transaction_base& tx, const std::string& actor, const std::string& action,
                      const store::connection_row& c, const store::mapping_row* m, const std::string& before,
                      const std::string& after);

/// The longest status message a call answers (a longer one is cut and says so):
/// status messages travel in HTTP/2 trailers, which clients refuse beyond a few KiB.
inline constexpr std::size_t max_status_message = 1024;

/// `status` with its message cut to max_status_message bytes (at a UTF-8
/// boundary) and a note of how much was left out.
grpc::Status bounded(const grpc::Status& status);

/// What a call's work returns after reject(): write_call/read_call answer OK
/// (the problems are in the reply) without committing anything.
inline constexpr const char* rejected_in_reply = "the request was rejected; the problems are in the reply";

/// `out` as the list of every problem ("2 problems, nothing was imported").
void fill_rejection(const std::vector<config_problem>& problems, const std::string& what,
                    syncforce::v1::Rejection& out);

/// Refuses an invalid request: the reply is emptied and carries every problem in
/// its `rejected` field (the message body, of any size, never a trailer).
template <class Reply>
grpc::Status reject(const std::vector<config_problem>& problems, const std::string& what, Reply& reply) {
  reply.Clear();
  fill_rejection(problems, what, *reply.mutable_rejected());
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, rejected_in_reply);
}

/// A client logged in with `c`'s credentials (secrets resolved on this node).
/// FAILED_PRECONDITION when a secret reference cannot be resolved, INVALID_ARGUMENT
/// when Salesforce refuses the login (its message, never the secret), UNAVAILABLE
/// when Salesforce cannot be reached.
grpc::Status salesforce_login(const store::connection_row& c, const secret_lookup& secrets,
                              std::unique_ptr<salesforce::client>& out);

/// OK when the org offers API `version` (its version list, else a describe at that version);
/// FAILED_PRECONDITION naming the newest it offers otherwise.
grpc::Status check_version_offered(salesforce::client& sf, const std::string& version);

/// The mappings against describe (engine_io::validate_mappings): their problems, if
/// any. `mappings` take describe's spelling of every name (`contact` -> `Contact`).
std::vector<config_problem> check_against_salesforce(salesforce::client& sf, const std::vector<std::string>& paths,
                                                     std::vector<mapping_config>& mappings);

} // namespace syncforce::services::admin_detail
