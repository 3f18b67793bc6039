#pragma once
// The cluster store of the simulation (docs/testing.md): the real cluster
// members of every node join, heartbeat, read the cluster and acquire and
// release leases through this fake of actors/cluster_store.hpp over the
// world's node and lease rows, on the simulated clock. It does what
// store/cluster.cpp's statements do (each method names its function); the
// world's check_fence then refuses exactly what store::check_fence refuses.
// Faults: a call whose session is lost (it throws, the member opens a new
// store), a slow call (others run meanwhile), a frozen node (no call of it
// gets through until it thaws).

#include "actors/cluster_store.hpp"
#include "tests/sim/sim_world.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace syncforce::sim {

/// The units the configuration defines now (the `read_cluster` units query).
using unit_source = std::function<std::vector<store::unit_row>()>;

/// Opens `node`'s session to the simulated cluster store (engine_backend::make_cluster_store).
std::unique_ptr<actors::cluster_store> make_sim_cluster_store(world& w, unit_source units, std::string node,
                                                              long* lease_moves);

} // namespace syncforce::sim
