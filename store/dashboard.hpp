#pragma once

// The web dashboard's statements (dashboard/): its sessions in
// syncforce.dashboard_sessions and the cluster overview of /api/nodes.
// Every function runs in the caller's transaction; callers commit.

#include <pqxx/pqxx>

#include <chrono>
#include <optional>
#include <string>

namespace syncforce::store {

/// A new session keyed by `id_hash` (the raw SHA-256 of its cookie, never the
/// cookie), expiring after `idle_timeout` unless touched.
void insert_dashboard_session(pqxx::transaction_base& tx, const std::string& id_hash, const std::string& token_name,
                              const std::string& csrf_token, std::chrono::seconds idle_timeout,
                              const std::string& node_name);

/// A live session as stored.
struct dashboard_session_row {
  std::string token_name;
  std::string csrf_token;
};
/// The unexpired session of `id_hash`, touched: its idle expiry moves to now +
/// `idle_timeout`, never beyond created_at + `max_age`.
std::optional<dashboard_session_row> touch_dashboard_session(pqxx::transaction_base& tx, const std::string& id_hash,
                                                             std::chrono::seconds idle_timeout,
                                                             std::chrono::seconds max_age);
void delete_dashboard_session(pqxx::transaction_base& tx, const std::string& id_hash);
/// Deletes expired sessions; returns how many.
long delete_expired_dashboard_sessions(pqxx::transaction_base& tx);

/// Whether any node registered itself in the cluster's heartbeat table (which may not exist yet).
bool cluster_has_nodes(pqxx::transaction_base& tx);
/// The registered nodes as a JSON array text: name, version, grpc_address, started_at, heartbeat_at.
std::string nodes_json(pqxx::transaction_base& tx);
/// The leases of live nodes as a JSON array text (owner_node, kind, what: the connection's
/// or object's name, else the key); none while the leases table does not exist.
std::optional<std::string> live_leases_json(pqxx::transaction_base& tx);

} // namespace syncforce::store
