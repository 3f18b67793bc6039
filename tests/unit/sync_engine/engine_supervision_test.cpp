// The node supervisor runs the sync engine once the database is up, restarts
// it with backoff when it crashes, and stops it on drain (test coordinator,
// fake clock, in-memory probe, a stand-in engine).

#include "actors/atoms.hpp"
#include "actors/node_supervisor.hpp"

#include "tests/support/test_coordinator.hpp"

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
  void set_live(bool, const std::string&) override {}
  void set_failed(const std::string&) override {}
};

/// Keeps the last readiness and liveness.
class last_sink : public readiness_sink {
public:
  void set_ready(bool r, const std::string& why) override {
    ready = r;
    ready_reason = why;
  }
  void set_live(bool l, const std::string& why) override {
    live = l;
    live_reason = why;
  }
  void set_failed(const std::string& why) override { failure = why; }
  std::string failure;
  bool ready = false;
  bool live = false;
  std::string ready_reason;
  std::string live_reason;
};

/// Up or down as the test says.
class switch_probe : public database_probe {
public:
  probe_result check() override { return up ? probe_result{true, 2, ""} : probe_result{false, 0, "refused"}; }
  bool up = true;
};

} // namespace

TEST(engine_supervision, engine_starts_after_the_database_restarts_on_crash_and_stops_on_drain) {
  syncforce::testing::coordinated_system world;
  auto& sys = world.sys;
  auto& sched = world.sched;
  auto engines = std::make_shared<std::vector<supervised_engine>>();
  auto starts = std::make_shared<int>(0);
  node_config cfg;
  cfg.node_name = "n";
  cfg.restart = backoff_policy{500ms, 4000ms, 2.0, 0.0};
  cfg.make_engine = [engines, starts](caf::local_actor* parent) {
    auto e = parent->spawn([starts](supervised_engine::pointer) -> supervised_engine::behavior_type {
      return {[starts](start_atom) { ++*starts; }};
    });
    engines->push_back(e);
    return e;
  };
  db_monitor_config mon;
  mon.healthy_interval = 1000ms;
  auto make_monitor = [mon](caf::local_actor* parent) {
    return parent->spawn(db_monitor, caf::actor_cast<db_listener>(parent),
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

namespace {

/// A node whose stand-in engine can be crashed at will; counts engines made.
struct crashing_node {
  explicit crashing_node(caf::actor_system& sys, std::chrono::milliseconds grace = 60s) {
    node_config cfg;
    cfg.node_name = "n";
    cfg.restart = backoff_policy{100ms, 100ms, 1.0, 0.0};
    cfg.restarts = syncforce::restart_window{3, 10min};
    cfg.liveness_grace = grace;
    auto list = engines;
    cfg.make_engine = [list](caf::local_actor* parent) {
      auto e = parent->spawn(
        [](supervised_engine::pointer) -> supervised_engine::behavior_type { return {[](start_atom) {}}; });
      list->push_back(e);
      return e;
    };
    db_monitor_config mon;
    mon.healthy_interval = 1000ms;
    mon.retry = backoff_policy{100ms, 100ms, 1.0, 0.0};
    auto p = probe;
    auto make_monitor = [mon, p](caf::local_actor* parent) {
      return parent->spawn(db_monitor, caf::actor_cast<db_listener>(parent), std::shared_ptr<database_probe>(p), mon);
    };
    sup = sys.spawn(node_supervisor, cfg, std::shared_ptr<readiness_sink>(sink), db_monitor_factory{make_monitor});
  }
  std::shared_ptr<std::vector<supervised_engine>> engines = std::make_shared<std::vector<supervised_engine>>();
  std::shared_ptr<last_sink> sink = std::make_shared<last_sink>();
  std::shared_ptr<switch_probe> probe = std::make_shared<switch_probe>();
  node_supervisor_impl sup;
};

std::string failure_of(caf::actor_system& sys, caf::scheduler::test_coordinator& sched, const node_supervisor_actor& sup) {
  auto out = std::make_shared<std::string>("<no reply>");
  sys.spawn([sup, out](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, health_atom::value).then([out](const std::string& f) { *out = f; });
  });
  sched.run();
  return *out;
}

} // namespace

TEST(engine_supervision, crashes_spread_wider_than_the_window_never_make_the_node_give_up) {
  syncforce::testing::coordinated_system world;
  auto& sys = world.sys;
  auto& sched = world.sched;
  crashing_node node{sys};
  caf::anon_send(node.sup, start_atom::value);
  sched.run();
  ASSERT_EQ(node.engines->size(), 1u);
  // Twenty crashes, four minutes apart: never more than three within ten minutes.
  for (int i = 0; i < 20; ++i) {
    caf::anon_send_exit(node.engines->back(), caf::exit_reason::kill);
    sched.run();
    sched.advance_time(100ms);
    sched.run();
    ASSERT_EQ(node.engines->size(), static_cast<std::size_t>(i + 2)) << "crash " << i + 1 << " was not restarted";
    sched.advance_time(4min);
    sched.run();
  }
  EXPECT_TRUE(node.sink->ready);
  EXPECT_TRUE(node.sink->live);
  EXPECT_EQ(failure_of(sys, sched, node.sup), "");
  caf::anon_send_exit(node.sup, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST(engine_supervision, a_crash_loop_gives_up_visibly_then_liveness_fails_after_the_grace) {
  syncforce::testing::coordinated_system world;
  auto& sys = world.sys;
  auto& sched = world.sched;
  crashing_node node{sys, 30s};
  caf::anon_send(node.sup, start_atom::value);
  sched.run();
  ASSERT_TRUE(node.sink->ready);
  for (int i = 0; i < 3; ++i) { // within budget: restarted
    caf::anon_send_exit(node.engines->back(), caf::exit_reason::kill);
    sched.run();
    sched.advance_time(100ms);
    sched.run();
  }
  ASSERT_EQ(node.engines->size(), 4u);
  EXPECT_TRUE(node.sink->ready);
  caf::anon_send_exit(node.engines->back(), caf::exit_reason::kill); // the fourth within ten minutes
  sched.run();
  EXPECT_FALSE(node.sink->ready) << "a node that gave up must not look ready";
  EXPECT_NE(node.sink->ready_reason.find("sync engine failed more than 3 times within 10 minutes"), std::string::npos)
    << node.sink->ready_reason;
  EXPECT_NE(failure_of(sys, sched, node.sup), "");
  EXPECT_EQ(node.sink->failure, node.sink->ready_reason) << "the failure reaches state and diagnose";
  EXPECT_TRUE(node.sink->live) << "still live during the grace: logs and state stay readable";
  sched.advance_time(1s);
  sched.run();
  EXPECT_EQ(node.engines->size(), 4u) << "no restart after giving up";
  sched.advance_time(29s);
  sched.run();
  EXPECT_FALSE(node.sink->live) << "liveness fails after the grace so Kubernetes restarts the pod";
  // The database coming and going does not make it ready again.
  node.probe->up = false;
  sched.advance_time(1s);
  sched.run();
  node.probe->up = true;
  sched.advance_time(1s);
  sched.run();
  EXPECT_FALSE(node.sink->ready);
  EXPECT_EQ(node.engines->size(), 4u);
  caf::anon_send_exit(node.sup, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST(engine_supervision, crashes_during_database_outages_do_not_add_up) {
  syncforce::testing::coordinated_system world;
  auto& sys = world.sys;
  auto& sched = world.sched;
  crashing_node node{sys};
  caf::anon_send(node.sup, start_atom::value);
  sched.run();
  // Ten database restarts in a row, each crashing the engine, seconds apart.
  for (int i = 0; i < 10; ++i) {
    node.probe->up = false;
    sched.advance_time(1000ms); // the monitor sees it down
    sched.run();
    ASSERT_FALSE(node.sink->ready);
    caf::anon_send_exit(node.engines->back(), caf::exit_reason::kill);
    sched.run();
    node.probe->up = true;
    sched.advance_time(100ms); // retry: up again, the engine starts again
    sched.run();
    sched.advance_time(100ms);
    sched.run();
    ASSERT_TRUE(node.sink->ready) << "after database restart " << i + 1;
  }
  EXPECT_EQ(node.engines->size(), 11u);
  EXPECT_EQ(failure_of(sys, sched, node.sup), "");
  EXPECT_TRUE(node.sink->live);
  caf::anon_send_exit(node.sup, caf::exit_reason::user_shutdown);
  sched.run();
}
