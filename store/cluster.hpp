#pragma once

// The cluster's coordination state in the control schema (migration 9):
// node liveness and unit leases with epochs. Every function is one short
// statement or transaction; PostgreSQL's clock decides who is live.

#include "sync/lease_fence.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

struct node_info {
  std::string name;
  std::string address; ///< advertised gRPC address
  std::string version;
};

struct node_row {
  node_info info;
  std::string started_at;
  double heartbeat_age_seconds = 0;
  bool live = false;
  std::int64_t incarnation = 0;
};

struct lease_row {
  std::string kind;
  std::string key;
  std::optional<std::string> owner;
  std::int64_t epoch = 0;
  double held_seconds = 0; ///< since the current owner took it
  std::int64_t moves = 0;
};

/// A unit that exists in the configuration (a mapping, a connection with
/// read-write mappings, an integration user).
struct unit_row {
  std::string kind;
  std::string key;
  std::string connection_id; ///< empty for integration users
  std::string label;         ///< object name, connection name or username
  int weight = 1;
};

struct cluster_view {
  std::vector<node_row> nodes;
  std::vector<unit_row> units;
  std::vector<lease_row> leases;
};

/// The integration-user unit key of a login: login_url|username (as the engine keys users).
std::string user_unit_key(const std::string& login_url, const std::string& username);

/// (Re)joins: a new incarnation, live for `ttl`, and every lease the node held
/// before is given up in the same transaction (whatever ran under it is fenced
/// out). Returns the incarnation.
std::int64_t join_cluster(pqxx::connection& conn, const node_info& node, std::chrono::milliseconds ttl);

/// Extends the node's life by `ttl`, only if it is still live: false when it
/// expired (or was removed) meanwhile, and the node must rejoin.
bool heartbeat(pqxx::connection& conn, const std::string& node, std::chrono::milliseconds ttl);

/// Leaves on shutdown: gives every lease up and removes the node row, so the
/// others take its units at once instead of after the expiry.
void leave_cluster(pqxx::connection& conn, const std::string& node);

cluster_view read_cluster(pqxx::transaction_base& tx);

/// Takes a unit's lease when it is free (no owner, or its owner is not live),
/// bumping the epoch. Returns the new epoch, or nothing when someone live holds it.
std::optional<std::int64_t> acquire_lease(pqxx::connection& conn, const std::string& kind, const std::string& key,
                                          const std::string& node);

/// Gives a lease up (after the unit stopped here); false when it was no longer ours.
bool release_lease(pqxx::connection& conn, const std::string& kind, const std::string& key, const std::string& node,
                   std::int64_t epoch);

/// Removes leases of units that no longer exist and that nobody live holds.
long prune_leases(pqxx::connection& conn);

/// Checks, inside the transaction that is about to commit, that `fence` is
/// still the unit's lease (same owner and epoch, owner live) and keeps it so
/// until the commit (a take-over waits for it). Throws fenced_out otherwise.
void check_fence(pqxx::transaction_base& tx, const lease_fence& fence);

} // namespace syncforce::store
