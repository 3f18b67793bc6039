#pragma once

// The cluster's coordination state in the control schema (migration 9):
// node liveness and unit leases with epochs. Every function is one short
// statement or transaction; PostgreSQL's clock decides who is live.

#include "store/cluster_rows.hpp"
#include "sync/lease_fence.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

/// (Re)joins: a new incarnation, live for `ttl`, and every lease the node held
/// before is given up in the same transaction (whatever ran under it is fenced
/// out). Returns the incarnation.
/// With `previous` (0: none, a first join supersedes any earlier start), only
/// while the row is still that incarnation's (or gone): returns 0 when the node
/// joined again since, and changes nothing.
std::int64_t join_cluster(pqxx::connection& conn, const node_info& node, std::chrono::milliseconds ttl,
                          std::int64_t previous = 0);

/// Extends the node's life by `ttl`, only if it is still live: false when it
/// expired (or was removed) meanwhile, and the node must rejoin. With an
/// incarnation (0: any), only while the node has not joined again since.
bool heartbeat(pqxx::connection& conn, const std::string& node, std::chrono::milliseconds ttl,
               std::int64_t incarnation = 0);

/// Leaves on shutdown: gives every lease up and removes the node row, so the
/// others take its units at once instead of after the expiry. With an
/// incarnation (0: any), only while it is the node's current one: a member of
/// an earlier start leaving late must not end the membership of a newer one.
void leave_cluster(pqxx::connection& conn, const std::string& node, std::int64_t incarnation = 0);

cluster_view read_cluster(pqxx::transaction_base& tx);

/// Takes a unit's lease when it is free (no owner, or its owner is not live),
/// bumping the epoch. Returns the new epoch, or nothing when someone live holds it
/// (or, with an incarnation, 0: any, when the node has joined again since).
/// Taken over from a node that lapsed, it ends that node's engine sessions
/// (application_name `syncforce-...@<node>`, node_session_name), whose session
/// advisory locks (the connection's writer lock, the table guard) would
/// otherwise stall this unit until the frozen process died; its transactions
/// could not commit anyway (fenced).
std::optional<std::int64_t> acquire_lease(pqxx::connection& conn, const std::string& kind, const std::string& key,
                                          const std::string& node, std::int64_t incarnation = 0);

/// Gives a lease up (after the unit stopped here); false when it was no longer ours.
bool release_lease(pqxx::connection& conn, const std::string& kind, const std::string& key, const std::string& node,
                   std::int64_t epoch);

/// Removes leases of units that no longer exist and that nobody live holds.
long prune_leases(pqxx::connection& conn);

/// The live node holding a unit's lease, if any.
std::optional<std::string> live_owner(pqxx::transaction_base& tx, const std::string& kind, const std::string& key);

/// Checks, inside the transaction that is about to commit, that `fence` is
/// still the unit's lease (same owner and epoch, owner live) and keeps it so
/// until the commit (a take-over waits for it). Throws fenced_out otherwise.
void check_fence(pqxx::transaction_base& tx, const lease_fence& fence);

} // namespace syncforce::store
