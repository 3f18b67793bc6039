// The node supervisor runs the sync engine once the database is up, restarts
// it with backoff when it crashes, and stops it on drain (test coordinator,
// fake clock, in-memory probe, a stand-in engine).

#include "actors/atoms.hpp"
#include "actors/node_supervisor.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

using namespace syncforce::actors;
using namespace std::chrono_literals;

namespace {

class always_up : public database_probe {
public:
  probe_result check() override { return {true, 2, ""}; }
};

class null_sink : public readiness_sink {
public:
  void set_ready(bool, const std::string&) override {}
};

caf::actor_system_config& test_config() {
  static caf::actor_system_config cfg;
  static bool done = false;
  if (!done) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    done = true;
  }
  return cfg;
}

} // namespace

TEST(engine_supervision, engine_starts_after_the_database_restarts_on_crash_and_stops_on_drain) {
  caf::actor_system sys{test_config()};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  auto engines = std::make_shared<std::vector<caf::actor>>();
  auto starts = std::make_shared<int>(0);
  node_config cfg;
  cfg.node_name = "n";
  cfg.restart = backoff_policy{500ms, 4000ms, 2.0, 0.0};
  cfg.make_engine = [engines, starts](caf::event_based_actor* parent) {
    auto e = parent->spawn([starts](caf::event_based_actor*) -> caf::behavior {
      return {[starts](start_atom) { ++*starts; }};
    });
    engines->push_back(e);
    return e;
  };
  db_monitor_config mon;
  mon.healthy_interval = 1000ms;
  auto make_monitor = [mon](caf::event_based_actor* parent) {
    return parent->spawn(db_monitor, caf::actor_cast<caf::actor>(parent),
                         std::shared_ptr<database_probe>(std::make_shared<always_up>()), mon);
  };
  auto sup = sys.spawn(node_supervisor, cfg, std::shared_ptr<readiness_sink>(std::make_shared<null_sink>()),
                       db_monitor_factory{make_monitor});
  EXPECT_TRUE(engines->empty());
  caf::anon_send(sup, start_atom::value);
  sched.run();
  ASSERT_EQ(engines->size(), 1u) << "the engine starts once the database is up";
  EXPECT_EQ(*starts, 1);

  // A crash: restarted after the backoff, not before.
  caf::anon_send_exit(engines->back(), caf::exit_reason::kill);
  sched.run();
  EXPECT_EQ(engines->size(), 1u);
  sched.advance_time(500ms);
  sched.run();
  ASSERT_EQ(engines->size(), 2u);
  EXPECT_EQ(*starts, 2);

  // Drain stops it and answers once it is gone.
  bool drained = false;
  {
    caf::scoped_actor self{sys};
    self->send(sup, drain_atom::value);
    sched.run();
    self->receive([&](bool ok) { drained = ok; });
  }
  EXPECT_TRUE(drained);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched.run();
}
