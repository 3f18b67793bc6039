#pragma once
// Shared by the broker simulations: an actor system on CAF's test coordinator
// (every message and timer runs only when the test says so; time is fake) and
// "holders" that ask a broker and remember what it answered.

#include "actors/atoms.hpp"
#include "actors/integration_user.hpp"

#include "tests/support/test_coordinator.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::testing {

using namespace std::chrono_literals;

/// What one grant request was answered.
using grant_reply = actors::grant_reply;

struct broker_sim : ::testing::Test, coordinated_system {

  ~broker_sim() override {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  actors::integration_user_actor spawn_broker(actors::integration_user_config cfg) {
    if (cfg.username.empty())
      cfg.username = "integration@example.com";
    auto h = sys.spawn(actors::integration_user, cfg);
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    sched.run();
    return h;
  }

  /// A remote holder's grant request; the answer lands in the returned slot.
  std::shared_ptr<std::optional<grant_reply>> ask_grant(const actors::integration_user_actor& broker, const std::string& node,
                                                        const std::string& holder, std::chrono::milliseconds ttl,
                                                        std::chrono::milliseconds max_wait) {
    auto slot = std::make_shared<std::optional<grant_reply>>();
    auto asker = sys.spawn([=](caf::event_based_actor* self) {
      self->request(broker, caf::infinite, actors::grant_atom::value, node, holder,
                    static_cast<int64_t>(ttl.count()), static_cast<int64_t>(max_wait.count()))
        .then([slot](grant_reply& r) { *slot = std::move(r); });
    });
    spawned.push_back(asker);
    sched.run();
    return slot;
  }

  /// (valid grant ids) of a renewal.
  std::vector<std::string> renew(const actors::integration_user_actor& broker, const std::string& node,
                                 const std::vector<std::string>& ids, const std::vector<std::string>& holders,
                                 std::chrono::milliseconds ttl) {
    std::vector<std::string> out;
    caf::scoped_actor self{sys};
    self->send(broker, actors::renew_atom::value, node, ids, holders, static_cast<int64_t>(ttl.count()));
    sched.run();
    self->receive([&](std::vector<std::string>& valid) { out = std::move(valid); });
    return out;
  }

  actors::broker_state state_of(const actors::integration_user_actor& broker) {
    actors::broker_state out;
    caf::scoped_actor self{sys};
    self->send(broker, actors::broker_state_atom::value);
    sched.run();
    self->receive([&](actors::broker_state& s) { out = std::move(s); });
    return out;
  }

  std::vector<caf::actor> spawned;
};

} // namespace syncforce::testing
