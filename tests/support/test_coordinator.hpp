#pragma once
// The one configuration of CAF's test coordinator for deterministic tests:
// actors run one message at a time when the test says so, on a fake clock.

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

namespace syncforce::testing {

/// An actor system configuration with the test coordinator as scheduler
/// (shared: CAF keeps a pointer to it for the life of the system).
inline caf::actor_system_config& test_coordinator_config() {
  static caf::actor_system_config cfg;
  static bool done = false;
  if (!done) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    done = true;
  }
  return cfg;
}

} // namespace syncforce::testing
