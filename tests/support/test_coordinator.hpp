#pragma once
// The one fixture for deterministic actor tests: an actor system on CAF's test
// coordinator, where actors run one message at a time when the test says so,
// on a fake clock. Every deterministic test holds or derives from
// coordinated_system; none builds its own system or scheduler.

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <chrono>

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

/// The actor system and its test coordinator.
struct coordinated_system {
  coordinated_system()
    : sys(test_coordinator_config()), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {}
  coordinated_system(const coordinated_system&) = delete;
  coordinated_system& operator=(const coordinated_system&) = delete;

  /// Runs every message that can run now; how many ran.
  std::size_t run() { return sched.run(); }
  /// Moves the fake clock by `d` and runs what became due.
  void advance(std::chrono::milliseconds d) {
    sched.advance_time(d);
    sched.run();
  }

  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
};

} // namespace syncforce::testing
