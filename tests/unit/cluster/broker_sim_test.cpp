// The integration-user actor as the cluster's broker of one Salesforce user:
// grants with a time-to-live for holders on other nodes, expiry, a broker that
// moved to another node, the order of waiters, a spent API budget.

#include "tests/unit/cluster/broker_fixture.hpp"

using namespace syncforce;
using namespace syncforce::actors;
using namespace syncforce::testing;

namespace {

integration_user_config limited(int cursors, const std::string& incarnation = "b1") {
  integration_user_config c;
  c.cursor_limit = cursors;
  c.incarnation = incarnation;
  return c;
}

} // namespace

TEST_F(broker_sim, a_grant_whose_holder_stops_renewing_expires_and_its_cursor_goes_to_the_next) {
  auto broker = spawn_broker(limited(1));
  auto first = ask_grant(broker, "node-b", "node-b/m1", 30s, 120s);
  ASSERT_TRUE(first->has_value());
  EXPECT_TRUE((*first)->granted);
  EXPECT_EQ((*first)->expires_in_ms, 30000);
  auto second = ask_grant(broker, "node-c", "node-c/m2", 30s, 120s);
  EXPECT_FALSE(second->has_value()) << "the only cursor is held";

  // Renewed in time, the grant stays.
  advance(20s);
  EXPECT_EQ(renew(broker, "node-b", {(*first)->grant_id}, {"node-b/m1"}, 30s),
            std::vector<std::string>{(*first)->grant_id});
  advance(20s);
  EXPECT_FALSE(second->has_value()) << "40 s after the grant, renewed at 20 s: still valid";
  EXPECT_EQ(state_of(broker).held, 1);

  // node-b stops renewing: 30 s after its last renewal the cursor is free again.
  advance(9s);
  EXPECT_FALSE(second->has_value());
  advance(2s);
  ASSERT_TRUE(second->has_value()) << "the expired grant's cursor went to the waiter";
  EXPECT_TRUE((*second)->granted);
  auto s = state_of(broker);
  EXPECT_EQ(s.held, 1);
  EXPECT_EQ(s.peak, 1) << "never more than the limit";
  ASSERT_EQ(s.holders.size(), 1u);
  EXPECT_EQ(s.holders[0].holder_node, "node-c");

  // A late renewal of the expired grant is refused: its cursor is someone else's now.
  EXPECT_TRUE(renew(broker, "node-b", {(*first)->grant_id}, {"node-b/m1"}, 30s).empty());
  EXPECT_EQ(state_of(broker).held, 1);
}

TEST_F(broker_sim, a_released_grant_frees_its_cursor_and_only_its_holder_node_may_release_it) {
  auto broker = spawn_broker(limited(1));
  auto first = ask_grant(broker, "node-b", "node-b/m1", 30s, 120s);
  auto second = ask_grant(broker, "node-c", "node-c/m2", 30s, 120s);
  ASSERT_TRUE(first->has_value());
  caf::anon_send(broker, release_atom::value, std::string{"node-c"}, (*first)->grant_id);
  sched.run();
  EXPECT_FALSE(second->has_value()) << "node-c does not hold that grant";
  caf::anon_send(broker, release_atom::value, std::string{"node-b"}, (*first)->grant_id);
  sched.run();
  ASSERT_TRUE(second->has_value());
  EXPECT_TRUE((*second)->granted);
  EXPECT_NE((*second)->grant_id, (*first)->grant_id);
}

TEST_F(broker_sim, a_remote_wait_is_bounded_and_answers_retry) {
  auto broker = spawn_broker(limited(1));
  auto first = ask_grant(broker, "node-b", "node-b/m1", 30s, 20s);
  auto second = ask_grant(broker, "node-c", "node-c/m2", 60s, 20s);
  advance(10s);
  EXPECT_EQ(renew(broker, "node-b", {(*first)->grant_id}, {"node-b/m1"}, 30s).size(), 1u);
  advance(10s);
  ASSERT_TRUE(second->has_value()) << "no gRPC call waits past its bound";
  EXPECT_FALSE((*second)->granted);
  EXPECT_TRUE((*second)->retry);
  EXPECT_EQ(state_of(broker).waiting, 1) << "its place is kept for its next ask";
  advance(5s);
  EXPECT_EQ(state_of(broker).waiting, 0) << "node-c did not ask again: the place is given up";
}

TEST_F(broker_sim, waiters_are_served_in_the_order_they_came) {
  auto broker = spawn_broker(limited(2));
  auto a = ask_grant(broker, "node-a", "node-a/m1", 30s, 600s);
  auto b = ask_grant(broker, "node-b", "node-b/m2", 30s, 600s);
  std::vector<std::shared_ptr<std::optional<grant_reply>>> line;
  for (int i = 0; i < 4; ++i)
    line.push_back(ask_grant(broker, "node-c", "node-c/w" + std::to_string(i), 30s, 600s));
  EXPECT_EQ(state_of(broker).waiting, 4);
  caf::anon_send(broker, release_atom::value, std::string{"node-b"}, (*b)->grant_id);
  sched.run();
  EXPECT_TRUE(line[0]->has_value());
  EXPECT_FALSE(line[1]->has_value());
  caf::anon_send(broker, release_atom::value, std::string{"node-a"}, (*a)->grant_id);
  sched.run();
  EXPECT_TRUE(line[1]->has_value());
  EXPECT_FALSE(line[2]->has_value());
  caf::anon_send(broker, release_atom::value, std::string{"node-c"}, (*line[0])->grant_id);
  sched.run();
  EXPECT_TRUE(line[2]->has_value());
  EXPECT_FALSE(line[3]->has_value());
  auto s = state_of(broker);
  EXPECT_EQ(s.held, 2);
  EXPECT_EQ(s.peak, 2);
  EXPECT_EQ(s.delayed, 4);
  EXPECT_EQ(s.remote_grants, 5);
  EXPECT_EQ(s.grants_by_node, (std::map<std::string, long>{{"node-a", 1}, {"node-b", 1}, {"node-c", 3}}));
}

TEST_F(broker_sim, a_new_ask_does_not_overtake_the_line) {
  auto broker = spawn_broker(limited(1));
  auto a = ask_grant(broker, "node-a", "node-a/m1", 30s, 600s);
  auto waiting = ask_grant(broker, "node-b", "node-b/m2", 30s, 600s);
  caf::anon_send(broker, release_atom::value, std::string{"node-a"}, (*a)->grant_id);
  auto late = ask_grant(broker, "node-c", "node-c/m3", 30s, 600s);
  ASSERT_TRUE(waiting->has_value());
  EXPECT_TRUE((*waiting)->granted);
  EXPECT_FALSE(late->has_value());
}

TEST_F(broker_sim, a_broker_that_moved_never_grants_more_than_the_limit) {
  // The old broker (node A) handed out the whole pool to two nodes.
  auto old_broker = spawn_broker(limited(3, "old"));
  auto g1 = ask_grant(old_broker, "node-b", "node-b/m1", 30s, 60s);
  auto g2 = ask_grant(old_broker, "node-b", "node-b/m2", 30s, 60s);
  auto g3 = ask_grant(old_broker, "node-c", "node-c/m3", 30s, 60s);
  ASSERT_TRUE(g1->has_value() && g2->has_value() && g3->has_value());
  caf::anon_send_exit(old_broker, caf::exit_reason::kill); // node A dies
  sched.run();

  // The user's lease moves to node D: its broker waits out the grant TTL.
  auto cfg = limited(3, "new");
  cfg.recover_for = 30s;
  auto broker = spawn_broker(cfg);
  EXPECT_EQ(state_of(broker).recovering_for, 30s);
  auto fresh = ask_grant(broker, "node-d", "node-d/m4", 30s, 120s);
  EXPECT_FALSE(fresh->has_value()) << "nothing new before it knows what is held";

  // node-b is alive and renews both its grants at the new owner: taken over.
  advance(5s);
  auto valid = renew(broker, "node-b", {(*g1)->grant_id, (*g2)->grant_id}, {"node-b/m1", "node-b/m2"}, 30s);
  EXPECT_EQ(valid.size(), 2u);
  EXPECT_EQ(state_of(broker).held, 2);
  advance(20s);
  EXPECT_FALSE(fresh->has_value()) << "a cursor looks free, but node-c's grant may still be alive";
  // node-c renews only now, still within its TTL: taken over too.
  advance(4s);
  EXPECT_EQ(renew(broker, "node-c", {(*g3)->grant_id}, {"node-c/m3"}, 30s).size(), 1u);
  advance(2s);
  EXPECT_FALSE(fresh->has_value()) << "recovery over, but all three cursors are held";
  EXPECT_EQ(state_of(broker).recovering_for, 0ms);

  // node-c releases: the waiter gets the cursor; the pool never went past 3.
  caf::anon_send(broker, release_atom::value, std::string{"node-c"}, (*g3)->grant_id);
  sched.run();
  ASSERT_TRUE(fresh->has_value());
  EXPECT_TRUE((*fresh)->granted);
  auto s = state_of(broker);
  EXPECT_EQ(s.held, 3);
  EXPECT_EQ(s.peak, 3);
  EXPECT_EQ(s.remote_grants, 1) << "taken-over grants were not handed out here";
}

TEST_F(broker_sim, a_broker_that_moved_grants_what_nobody_renewed_once_the_ttl_is_over) {
  auto cfg = limited(2, "new");
  cfg.recover_for = 30s;
  auto broker = spawn_broker(cfg);
  auto a = ask_grant(broker, "node-d", "node-d/m1", 30s, 120s);
  auto b = ask_grant(broker, "node-d", "node-d/m2", 30s, 120s);
  advance(29s);
  EXPECT_FALSE(a->has_value());
  advance(1s);
  ASSERT_TRUE(a->has_value() && b->has_value()) << "holders of the old broker that did not renew are dead";
  EXPECT_TRUE((*a)->granted && (*b)->granted);
}

TEST_F(broker_sim, local_holders_and_remote_grants_share_one_pool) {
  auto broker = spawn_broker(limited(2));
  caf::scoped_actor local{sys};
  local->send(broker, acquire_atom::value, std::string{"local-m1"});
  sched.run();
  local->receive([](bool granted, std::string&) { EXPECT_TRUE(granted); });
  auto r = ask_grant(broker, "node-b", "node-b/m2", 30s, 60s);
  ASSERT_TRUE(r->has_value());
  auto w = ask_grant(broker, "node-c", "node-c/m3", 30s, 60s);
  EXPECT_FALSE(w->has_value());
  auto s = state_of(broker);
  EXPECT_EQ(s.held, 2);
  ASSERT_EQ(s.holders.size(), 2u);
  EXPECT_EQ(s.holders[0].holder_node, "") << "the local holder";
  local->send(broker, release_atom::value, std::string{"local-m1"});
  sched.run();
  ASSERT_TRUE(w->has_value());
  EXPECT_TRUE((*w)->granted);
}

TEST_F(broker_sim, a_spent_budget_refuses_grants_and_lets_one_probe_through) {
  auto cfg = limited(0);
  cfg.api_reserve = 10;
  cfg.probe_interval = 60s;
  auto broker = spawn_broker(cfg);
  caf::anon_send(broker, usage_atom::value, int64_t{95}, int64_t{100});
  sched.run();
  {
    caf::scoped_actor self{sys};
    self->send(broker, budget_atom::value);
    sched.run();
    self->receive([](budget_reply& b) {
      EXPECT_FALSE(b.available);
      EXPECT_EQ(b.used, 95);
      EXPECT_EQ(b.max, 100);
      EXPECT_NE(b.reason.find("API budget exhausted (95/100"), std::string::npos) << b.reason;
    });
  }
  auto probe = ask_grant(broker, "node-b", "node-b/m1", 30s, 60s);
  ASSERT_TRUE(probe->has_value());
  EXPECT_TRUE((*probe)->granted) << "one request goes through to learn whether the budget is back";
  auto refused = ask_grant(broker, "node-b", "node-b/m2", 30s, 60s);
  ASSERT_TRUE(refused->has_value());
  EXPECT_FALSE((*refused)->granted);
  EXPECT_FALSE((*refused)->retry) << "the budget is no line to wait in";
  EXPECT_NE((*refused)->reason.find("API budget exhausted"), std::string::npos);
  caf::anon_send(broker, usage_atom::value, int64_t{20}, int64_t{100});
  sched.run();
  auto again = ask_grant(broker, "node-b", "node-b/m3", 30s, 60s);
  ASSERT_TRUE(again->has_value());
  EXPECT_TRUE((*again)->granted);
}

TEST_F(broker_sim, grant_ttls_are_capped) {
  auto cfg = limited(1);
  cfg.max_grant_ttl = 60s;
  auto broker = spawn_broker(cfg);
  auto r = ask_grant(broker, "node-b", "node-b/m1", 3600s, 60s);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->expires_in_ms, 60000);
  auto w = ask_grant(broker, "node-c", "node-c/m2", 30s, 120s);
  advance(61s);
  ASSERT_TRUE(w->has_value()) << "a holder asking for an hour still has to renew within the cap";
  EXPECT_TRUE((*w)->granted);
}

TEST_F(broker_sim, a_remote_waiter_asking_again_after_retry_keeps_its_place_in_line) {
  auto cfg = limited(1);
  cfg.keep_place = 5s;
  auto broker = spawn_broker(cfg);
  auto held = ask_grant(broker, "node-a", "node-a/m1", 60s, 600s);
  auto early = ask_grant(broker, "node-b", "node-b/m2", 60s, 20s);
  auto later = ask_grant(broker, "node-c", "node-c/m3", 60s, 600s);
  advance(20s);
  ASSERT_TRUE(early->has_value());
  EXPECT_TRUE((*early)->retry);
  // The cursor frees while node-b's proxy is between its retry answer and its next ask:
  // node-c, behind it in line, does not take it ...
  caf::anon_send(broker, release_atom::value, std::string{"node-a"}, (*held)->grant_id);
  sched.run();
  EXPECT_FALSE(later->has_value()) << "node-b keeps its place";
  // ... node-b, back, does.
  auto again = ask_grant(broker, "node-b", "node-b/m2", 60s, 20s);
  ASSERT_TRUE(again->has_value());
  EXPECT_TRUE((*again)->granted);
  EXPECT_FALSE(later->has_value());
  EXPECT_EQ(state_of(broker).delayed, 2) << "a holder coming back is not counted twice";
}

TEST_F(broker_sim, a_remote_waiter_that_does_not_come_back_loses_its_place) {
  auto cfg = limited(1);
  cfg.keep_place = 5s;
  auto broker = spawn_broker(cfg);
  auto held = ask_grant(broker, "node-a", "node-a/m1", 60s, 600s);
  auto gone = ask_grant(broker, "node-b", "node-b/m2", 60s, 20s);
  auto later = ask_grant(broker, "node-c", "node-c/m3", 60s, 600s);
  advance(20s);
  caf::anon_send(broker, release_atom::value, std::string{"node-a"}, (*held)->grant_id);
  sched.run();
  EXPECT_FALSE(later->has_value());
  advance(5s);
  ASSERT_TRUE(later->has_value()) << "node-b did not ask again within 5 s: the next in line is served";
  EXPECT_TRUE((*later)->granted);
  EXPECT_EQ(state_of(broker).waiting, 0);
}
