#pragma once

#include "actors/atoms.hpp"
#include "actors/cluster_store.hpp"
#include "sync/lease_fence.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace syncforce::actors {

/// The leases this node holds, by unit id (kind:key).
using owned_units = std::map<std::string, std::shared_ptr<const lease_fence>>;

/// Whoever a cluster member tells what to run (the sync engine).
using units_target = caf::typed_actor<caf::reacts_to<units_atom, owned_units>>;

/// The protocol of a node's cluster member.
using cluster_member_actor = caf::typed_actor<
  /// Heartbeat: sent once by the engine to begin, then by the member itself every heartbeat_interval.
  caf::reacts_to<tick_atom>,
  /// (unit ids) the engine runs now: a unit is handed over only once it stopped here.
  caf::reacts_to<running_atom, std::vector<std::string>>>;

/// Settings of the node's cluster member.
struct cluster_member_config {
  store::node_info node;
  /// How long a node stays live without a heartbeat (its leases with it).
  std::chrono::milliseconds lease_ttl{10000};
  /// How often it heartbeats, looks at the cluster and moves units.
  std::chrono::milliseconds heartbeat_interval{2000};
  /// The local deadline is this much earlier than the expiry written.
  std::chrono::milliseconds safety_margin{2000};
  /// Opens the store (on the member's own thread).
  std::function<std::unique_ptr<cluster_store>()> make_store;
  /// Shared with every fence this member hands out.
  std::shared_ptr<lease_validity> validity;
  /// Told (units_atom, owned_units) whenever what should run here changes.
  units_target engine;
  /// Told where each user's broker runs, on every heartbeat (none: not told).
  std::function<void(std::map<std::string, std::string>)> on_broker_owners;
};

struct cluster_member_state {
  cluster_member_config cfg;
  std::unique_ptr<cluster_store> store;
  bool joined = false;
  std::int64_t incarnation = 0;
  /// Leases held (whether their unit still runs here or is being handed over).
  owned_units owned;
  /// What the engine was last told to run.
  std::set<std::string> wanted;
  bool told = false;
  /// Units the engine reports running.
  std::set<std::string> running;
  /// Units being handed over, by the heartbeat that first asked the engine to stop them.
  std::map<std::string, int> handover_since;
  int ticks = 0;
  bool store_failing = false;

  static inline const char* name = "cluster_member";
};

/// One per node: keeps the node live in `syncforce.nodes` (heartbeat), looks at
/// the cluster every heartbeat and moves units by the pure assignment
/// (sync/cluster_assignment): takes the leases of units assigned here that are
/// free or whose owner is dead, hands over units assigned elsewhere once they
/// stopped here, and tells the engine what to run, each unit with its fence.
/// When its own clock passes the lease deadline, or PostgreSQL says the node
/// expired, everything stops here at once and the node rejoins with a new
/// incarnation (its old leases given up in the same transaction).
/// Blocking: spawn it detached. On exit it lapses every fence and leaves.
cluster_member_actor::behavior_type cluster_member(cluster_member_actor::stateful_pointer<cluster_member_state> self,
                                                   cluster_member_config cfg);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::owned_units)
