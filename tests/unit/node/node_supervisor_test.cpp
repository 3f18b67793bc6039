// Deterministic tests of the node supervisor and the database monitor, driven
// one message at a time by CAF's test coordinator with a fake clock, and an
// in-memory database probe. The pattern the later simulation tests follow.

#include "actors/atoms.hpp"
#include "actors/node_supervisor.hpp"

#include "tests/support/test_coordinator.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>

using namespace syncforce::actors;
using namespace std::chrono_literals;

namespace {

/// Answers from a script; counts calls; can be told to throw (a crash).
class scripted_probe : public database_probe {
public:
  probe_result check() override {
    ++calls;
    if (throw_next) {
      throw_next = false;
      throw std::runtime_error("probe crashed");
    }
    if (!script.empty()) {
      current = script.front();
      script.pop_front();
    }
    return current ? probe_result{true, 1, ""} : probe_result{false, 0, "connection refused"};
  }
  std::deque<bool> script;
  bool current = false;
  bool throw_next = false;
  int calls = 0;
};

class recording_sink : public readiness_sink {
public:
  void set_ready(bool ready, const std::string& reason) override {
    history.emplace_back(ready, reason);
  }
  void set_live(bool l, const std::string&) override { live = l; }
  void set_failed(const std::string& why) override { failure = why; }
  std::string failure;
  bool live = true;
  bool ready() const {
    return !history.empty() && history.back().first;
  }
  std::vector<std::pair<bool, std::string>> history;
};

struct node_supervisor_sim : ::testing::Test, syncforce::testing::coordinated_system {
  node_supervisor_impl spawn_node() {
    node_config cfg;
    cfg.node_name = "test-node";
    db_monitor_config mon_cfg;
    mon_cfg.healthy_interval = 1000ms;
    mon_cfg.retry = backoff_policy{200ms, 1600ms, 2.0, 0.0};
    auto probe_ptr = probe;
    auto make = [this, probe_ptr, mon_cfg](caf::local_actor* parent) {
      ++monitors_spawned;
      return parent->spawn(db_monitor, caf::actor_cast<db_listener>(parent),
                           std::static_pointer_cast<database_probe>(probe_ptr), mon_cfg);
    };
    return sys.spawn(node_supervisor, cfg, sink, db_monitor_factory{make});
  }

  /// Asks the supervisor for its status through an event-based actor.
  bool status_ready(const node_supervisor_actor& node) {
    auto result = std::make_shared<int>(-1);
    sys.spawn([node, result](caf::event_based_actor* self) {
      self->request(node, caf::infinite, status_atom::value)
        .then([result](const node_status& s) { *result = s.ready ? 1 : 0; });
    });
    sched.run();
    EXPECT_NE(*result, -1) << "no status reply";
    return *result == 1;
  }

  std::shared_ptr<scripted_probe> probe = std::make_shared<scripted_probe>();
  std::shared_ptr<recording_sink> sink = std::make_shared<recording_sink>();
  int monitors_spawned = 0;
};

} // namespace

TEST_F(node_supervisor_sim, not_ready_until_the_database_answers_then_ready) {
  probe->script = {false, false, true};
  auto node = spawn_node();
  caf::anon_send(node, start_atom::value);
  sched.run();
  EXPECT_EQ(probe->calls, 1);
  EXPECT_FALSE(sink->ready());
  EXPECT_FALSE(status_ready(node));

  // First retry after 200 ms, not before.
  sched.advance_time(199ms);
  sched.run();
  EXPECT_EQ(probe->calls, 1);
  sched.advance_time(1ms);
  sched.run();
  EXPECT_EQ(probe->calls, 2);
  EXPECT_FALSE(sink->ready());

  // Second retry doubles the delay.
  sched.advance_time(399ms);
  sched.run();
  EXPECT_EQ(probe->calls, 2);
  sched.advance_time(1ms);
  sched.run();
  EXPECT_EQ(probe->calls, 3);
  EXPECT_TRUE(sink->ready());
  EXPECT_TRUE(status_ready(node));
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST_F(node_supervisor_sim, readiness_drops_when_the_database_is_lost_and_returns) {
  probe->script = {true, false, false, true};
  auto node = spawn_node();
  caf::anon_send(node, start_atom::value);
  sched.run();
  ASSERT_TRUE(sink->ready());

  sched.advance_time(1000ms); // healthy ping fails
  sched.run();
  EXPECT_FALSE(sink->ready());
  EXPECT_NE(sink->history.back().second.find("connection refused"), std::string::npos);
  EXPECT_FALSE(status_ready(node));

  sched.advance_time(200ms); // retry 1 fails
  sched.run();
  EXPECT_FALSE(sink->ready());
  sched.advance_time(400ms); // retry 2 succeeds
  sched.run();
  EXPECT_TRUE(sink->ready());
  EXPECT_EQ(probe->calls, 4);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST_F(node_supervisor_sim, drain_turns_readiness_off_stops_children_and_replies) {
  probe->script = {true};
  auto node = spawn_node();
  caf::anon_send(node, start_atom::value);
  sched.run();
  ASSERT_TRUE(sink->ready());

  auto drained = std::make_shared<bool>(false);
  sys.spawn([node, drained](caf::event_based_actor* self) {
    self->request(node, caf::infinite, drain_atom::value).then([drained](bool ok) { *drained = ok; });
  });
  sched.run();
  EXPECT_TRUE(*drained);
  EXPECT_FALSE(sink->ready());
  EXPECT_FALSE(status_ready(node));

  // The monitor is gone: time passing probes nothing more.
  int calls = probe->calls;
  sched.advance_time(10s);
  sched.run();
  EXPECT_EQ(probe->calls, calls);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST_F(node_supervisor_sim, a_crashed_monitor_is_restarted_with_backoff) {
  probe->script = {true};
  auto node = spawn_node();
  caf::anon_send(node, start_atom::value);
  sched.run();
  ASSERT_TRUE(sink->ready());
  ASSERT_EQ(monitors_spawned, 1);

  probe->throw_next = true;
  sched.advance_time(1000ms);
  sched.run();
  EXPECT_FALSE(sink->ready()) << "readiness is unknown while the monitor restarts";
  EXPECT_EQ(monitors_spawned, 1);

  sched.advance_time(500ms); // restart backoff
  sched.run();
  EXPECT_EQ(monitors_spawned, 2);
  EXPECT_TRUE(sink->ready());
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  sched.run();
}
