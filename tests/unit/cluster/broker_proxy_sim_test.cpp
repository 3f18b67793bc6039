// A node's broker proxy (remote_broker): the integration-user protocol of the
// mapping actors turned into grants at the owner of the user, in-process when
// that is this node, through a transport (gRPC in production, a scripted fake
// here) otherwise; renewals that follow the owner when it moves.

#include "actors/remote_broker.hpp"
#include "tests/unit/cluster/broker_fixture.hpp"

#include <deque>

using namespace syncforce;
using namespace syncforce::actors;
using namespace syncforce::testing;

namespace {

/// Records every call; the test answers them.
class scripted_transport : public broker_transport {
public:
  struct call {
    std::string kind;
    std::string address;
    std::string holder;
    std::vector<std::string> grant_ids;
    std::function<void(broker_answer)> done;
  };

  void acquire(const std::string& address, const std::string&, const std::string&, const std::string& holder,
               std::int64_t, std::int64_t, std::function<void(broker_answer)> done) override {
    calls.push_back({"acquire", address, holder, {}, std::move(done)});
  }
  void renew(const std::string& address, const std::string&, const std::string&, const std::vector<std::string>& ids,
             const std::vector<std::string>&, std::int64_t, std::function<void(broker_answer)> done) override {
    calls.push_back({"renew", address, "", ids, std::move(done)});
  }
  void release(const std::string& address, const std::string&, const std::string&,
               const std::string& grant_id) override {
    calls.push_back({"release", address, "", {grant_id}, nullptr});
  }
  void report_limits(const std::string& address, const std::string&, std::int64_t used, std::int64_t max) override {
    calls.push_back({"limits", address, std::to_string(used) + "/" + std::to_string(max), {}, nullptr});
  }

  /// The oldest unanswered call of `kind` (fails the test when there is none).
  call take(const std::string& kind) {
    for (auto i = calls.begin(); i != calls.end(); ++i)
      if (i->kind == kind) {
        auto c = std::move(*i);
        calls.erase(i);
        return c;
      }
    ADD_FAILURE() << "no " << kind << " call";
    return {};
  }
  size_t count(const std::string& kind) const {
    return std::count_if(calls.begin(), calls.end(), [&](const call& c) { return c.kind == kind; });
  }

  std::deque<call> calls;
};

broker_answer granted(const std::string& id) {
  broker_answer a;
  a.reached = true;
  a.granted = true;
  a.grant_id = id;
  a.expires_in_ms = 30000;
  return a;
}

broker_answer unreachable() {
  broker_answer a;
  a.error = "connection refused";
  return a;
}

struct proxy_sim : broker_sim {
  proxy_sim() {
    directory = std::make_shared<fixed_broker_directory>("10.0.0.2:50051");
    directory->set_owner(user_key, "10.0.0.1:50051");
    transport = std::make_shared<scripted_transport>();
    registry = std::make_shared<broker_registry>();
  }

  remote_broker_impl spawn_proxy() {
    remote_broker_config cfg;
    cfg.user_key = user_key;
    cfg.username = "integration@example.com";
    cfg.node_name = "node-b";
    cfg.directory = directory;
    cfg.transport = transport;
    cfg.local = registry;
    cfg.grant_ttl = 30s;
    cfg.retry_delay = 1s;
    auto h = sys.spawn(remote_broker, cfg);
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  /// A stand-in for a mapping actor: asks for a cursor, remembers the answer.
  std::pair<caf::actor, std::shared_ptr<std::optional<bool>>> mapping(const cursor_broker_actor& proxy,
                                                                      const std::string& id) {
    auto slot = std::make_shared<std::optional<bool>>();
    auto m = sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
      self->request(proxy, caf::infinite, acquire_atom::value, id).then([slot](bool ok, std::string&) {
        *slot = ok;
      });
      return {[](int) {}};
    });
    spawned.push_back(m);
    sched.run();
    return {m, slot};
  }

  std::tuple<int, int, int, int> status(const cursor_broker_actor& a) {
    std::tuple<int, int, int, int> out;
    caf::scoped_actor self{sys};
    self->send(a, status_atom::value);
    sched.run();
    self->receive([&](broker_status& s) { out = {s.held, s.peak, s.delayed, s.waiting}; });
    return out;
  }

  const std::string user_key = "https://login.example.com|integration@example.com";
  std::shared_ptr<fixed_broker_directory> directory;
  std::shared_ptr<scripted_transport> transport;
  std::shared_ptr<broker_registry> registry;
};

} // namespace

TEST_F(proxy_sim, acquires_at_the_owner_and_renews_every_third_of_the_ttl) {
  auto proxy = spawn_proxy();
  auto [m, answer] = mapping(proxy, "m1");
  auto call = transport->take("acquire");
  EXPECT_EQ(call.address, "10.0.0.1:50051");
  EXPECT_EQ(call.holder, "node-b/m1");
  EXPECT_FALSE(answer->has_value()) << "waits for the owner";
  call.done(granted("g1"));
  sched.run();
  ASSERT_TRUE(answer->has_value());
  EXPECT_TRUE(**answer);
  EXPECT_EQ(std::get<0>(status(proxy)), 1);

  advance(10s);
  auto r = transport->take("renew");
  EXPECT_EQ(r.address, "10.0.0.1:50051");
  EXPECT_EQ(r.grant_ids, std::vector<std::string>{"g1"});
  broker_answer ok;
  ok.reached = true;
  ok.valid_grant_ids = {"g1"};
  r.done(ok);
  sched.run();
  advance(10s);
  EXPECT_EQ(transport->count("renew"), 1u) << "and again ten seconds later";

  caf::anon_send(proxy, release_atom::value, std::string{"m1"});
  sched.run();
  auto rel = transport->take("release");
  EXPECT_EQ(rel.grant_ids, std::vector<std::string>{"g1"});
  EXPECT_EQ(std::get<0>(status(proxy)), 0);
}

TEST_F(proxy_sim, an_unreachable_owner_is_asked_again_and_a_moved_one_is_found_anew) {
  auto proxy = spawn_proxy();
  auto [m, answer] = mapping(proxy, "m1");
  transport->take("acquire").done(unreachable());
  sched.run();
  EXPECT_EQ(transport->count("acquire"), 0u) << "not in a tight loop";
  directory->set_owner(user_key, "10.0.0.3:50051"); // the lease moved
  advance(1s);
  auto again = transport->take("acquire");
  EXPECT_EQ(again.address, "10.0.0.3:50051");
  again.done(granted("g7"));
  sched.run();
  ASSERT_TRUE(answer->has_value());
  EXPECT_TRUE(**answer);
}

TEST_F(proxy_sim, grants_are_renewed_at_the_new_owner_after_a_move) {
  auto proxy = spawn_proxy();
  auto [m1, a1] = mapping(proxy, "m1");
  transport->take("acquire").done(granted("old-1"));
  auto [m2, a2] = mapping(proxy, "m2");
  transport->take("acquire").done(granted("old-2"));
  sched.run();
  directory->set_owner(user_key, "10.0.0.3:50051");
  advance(10s);
  auto r = transport->take("renew");
  EXPECT_EQ(r.address, "10.0.0.3:50051") << "the new owner learns what this node holds";
  EXPECT_EQ(r.grant_ids, (std::vector<std::string>{"old-1", "old-2"}));
  broker_answer partly;
  partly.reached = true;
  partly.valid_grant_ids = {"old-2"};
  r.done(partly);
  sched.run();
  EXPECT_EQ(std::get<0>(status(proxy)), 1) << "a grant the broker no longer knows is dropped";
  caf::anon_send(proxy, release_atom::value, std::string{"m2"});
  sched.run();
  EXPECT_EQ(transport->take("release").address, "10.0.0.3:50051") << "released where it lives now";
}

TEST_F(proxy_sim, a_mapping_that_dies_gives_its_cursor_back_even_one_granted_after_its_death) {
  auto proxy = spawn_proxy();
  auto [m1, a1] = mapping(proxy, "m1");
  transport->take("acquire").done(granted("g1"));
  auto [m2, a2] = mapping(proxy, "m2");
  auto pending = transport->take("acquire");
  sched.run();
  caf::anon_send_exit(m1, caf::exit_reason::kill);
  caf::anon_send_exit(m2, caf::exit_reason::kill);
  sched.run();
  EXPECT_EQ(transport->take("release").grant_ids, std::vector<std::string>{"g1"});
  pending.done(granted("g2"));
  sched.run();
  EXPECT_EQ(transport->take("release").grant_ids, std::vector<std::string>{"g2"});
  EXPECT_EQ(std::get<0>(status(proxy)), 0);
}

TEST_F(proxy_sim, a_refusal_reaches_the_mapping_and_a_retry_answer_asks_again) {
  auto proxy = spawn_proxy();
  auto [m1, a1] = mapping(proxy, "m1");
  broker_answer wait_more;
  wait_more.reached = true;
  wait_more.retry = true;
  transport->take("acquire").done(wait_more);
  sched.run();
  EXPECT_FALSE(a1->has_value());
  broker_answer spent;
  spent.reached = true;
  spent.reason = "API budget exhausted (95/100 daily calls used)";
  transport->take("acquire").done(spent);
  sched.run();
  ASSERT_TRUE(a1->has_value());
  EXPECT_FALSE(**a1);
  EXPECT_EQ(std::get<2>(status(proxy)), 1) << "counted as delayed once";
}

TEST_F(proxy_sim, a_local_owner_is_asked_in_process_and_limits_go_there_at_once) {
  directory->set_owner(user_key, "10.0.0.2:50051"); // this node
  integration_user_config ucfg;
  ucfg.cursor_limit = 1;
  ucfg.incarnation = "b1";
  auto broker = spawn_broker(ucfg);
  registry->add(user_key, broker);
  auto proxy = spawn_proxy();
  auto [m1, a1] = mapping(proxy, "m1");
  auto [m2, a2] = mapping(proxy, "m2");
  EXPECT_TRUE(transport->calls.empty()) << "no gRPC to itself";
  ASSERT_TRUE(a1->has_value());
  EXPECT_FALSE(a2->has_value());
  auto s = state_of(broker);
  ASSERT_EQ(s.holders.size(), 1u);
  EXPECT_EQ(s.holders[0].holder_node, "node-b");
  EXPECT_EQ(s.holders[0].holder, "node-b/m1");
  caf::anon_send(proxy, usage_atom::value, int64_t{5}, int64_t{100});
  sched.run();
  EXPECT_EQ(state_of(broker).api_used, 5);
  caf::anon_send(proxy, release_atom::value, std::string{"m1"});
  sched.run();
  ASSERT_TRUE(a2->has_value());
  EXPECT_TRUE(**a2);
  // Renewals keep the in-process grant alive past its TTL.
  for (int i = 0; i < 6; ++i)
    advance(10s);
  EXPECT_EQ(state_of(broker).held, 1);
}

TEST_F(proxy_sim, usage_snapshots_to_a_remote_owner_are_coalesced) {
  auto proxy = spawn_proxy();
  for (int i = 1; i <= 5; ++i)
    caf::anon_send(proxy, usage_atom::value, int64_t{i}, int64_t{100});
  sched.run();
  EXPECT_EQ(transport->count("limits"), 0u);
  advance(1s);
  ASSERT_EQ(transport->count("limits"), 1u);
  EXPECT_EQ(transport->take("limits").holder, "5/100") << "the latest one";
}

TEST_F(proxy_sim, grants_of_this_nodes_broker_follow_it_when_it_moves_away) {
  directory->set_owner(user_key, "10.0.0.2:50051"); // this node
  integration_user_config ucfg;
  ucfg.cursor_limit = 2;
  ucfg.incarnation = "here";
  auto broker = spawn_broker(ucfg);
  registry->add(user_key, broker);
  auto proxy = spawn_proxy();
  auto [m1, a1] = mapping(proxy, "m1");
  ASSERT_TRUE(a1->has_value());
  // The user's lease moves to node C; this node's broker stops.
  directory->set_owner(user_key, "10.0.0.3:50051");
  caf::anon_send_exit(broker, caf::exit_reason::user_shutdown);
  sched.run();
  advance(10s);
  auto r = transport->take("renew");
  EXPECT_EQ(r.address, "10.0.0.3:50051");
  EXPECT_EQ(r.grant_ids, std::vector<std::string>{"here-1"}) << "the new broker learns of the cursor held here";
  broker_answer ok;
  ok.reached = true;
  ok.valid_grant_ids = {"here-1"};
  r.done(ok);
  sched.run();
  caf::anon_send(proxy, release_atom::value, std::string{"m1"});
  sched.run();
  EXPECT_EQ(transport->take("release").address, "10.0.0.3:50051");
}
