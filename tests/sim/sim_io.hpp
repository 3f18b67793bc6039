#pragma once
// The engine's blocking I/O interfaces backed by the simulation's world: the
// adapters between the real actors and the in-memory PostgreSQL model plus the
// in-process org. Each method says which production function it stands for;
// the pure logic those functions use (sync/write_plan, sync/in_doubt,
// sync/poll_plan) is called for real, so the simulation tests it too.
// Only these two classes know the engine's I/O interfaces: when those change
// (typed results, engine_io/), they are the only thing to adapt.

#include "actors/sync_io.hpp"
#include "actors/write_io.hpp"
#include "tests/sim/sim_world.hpp"

#include <memory>

namespace syncforce::sim {

/// engine_io/pg_sf_sync_io.cpp over the world.
std::shared_ptr<actors::sync_io> make_sim_sync_io(world& w);

/// engine_io/pg_sf_write_io.cpp over the world.
std::shared_ptr<actors::write_io> make_sim_write_io(world& w);

} // namespace syncforce::sim
