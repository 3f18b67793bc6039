// Cluster members on CAF's test coordinator over an in-memory model of the
// control schema's nodes and leases, with fake clocks (the node's and
// PostgreSQL's): units spread over the members, a partitioned member's units
// move once its lease expired, it stops them by its own clock first, and no
// unit ever has two live owners. Seeded random orders of ticks; a failing
// seed is printed.

#include "actors/atoms.hpp"
#include "actors/cluster_member.hpp"

#include "tests/support/test_coordinator.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <set>

using namespace syncforce;
using namespace syncforce::actors;
using namespace std::chrono_literals;

namespace {


/// The control schema's cluster tables, on a clock the test moves.
struct model {
  std::chrono::milliseconds pg_now{0};
  struct node {
    std::chrono::milliseconds expires{0};
    std::int64_t incarnation = 0;
  };
  std::map<std::string, node> nodes;
  struct lease {
    std::optional<std::string> owner;
    std::int64_t epoch = 0;
  };
  std::map<std::pair<std::string, std::string>, lease> leases;
  std::vector<store::unit_row> units;
  std::set<std::string> partitioned; ///< nodes whose calls fail

  bool live(const std::string& n) const {
    auto i = nodes.find(n);
    return i != nodes.end() && i->second.expires > pg_now;
  }
};

class fake_store : public cluster_store {
public:
  fake_store(std::shared_ptr<model> m, std::string me) : m_(std::move(m)), me_(std::move(me)) {}
  std::int64_t join(const store::node_info& n, std::chrono::milliseconds ttl, std::int64_t previous) override {
    reachable();
    if (previous != 0 && m_->nodes.count(n.name) && m_->nodes[n.name].incarnation != previous)
      return 0;
    auto& row = m_->nodes[n.name];
    row.expires = m_->pg_now + ttl;
    ++row.incarnation;
    for (auto& [k, l] : m_->leases)
      if (l.owner == n.name)
        l.owner.reset();
    return row.incarnation;
  }
  bool heartbeat(const std::string& n, std::int64_t incarnation, std::chrono::milliseconds ttl) override {
    reachable();
    if (!m_->live(n) || m_->nodes[n].incarnation != incarnation)
      return false;
    m_->nodes[n].expires = m_->pg_now + ttl;
    return true;
  }
  void leave(const std::string& n, std::int64_t incarnation) override {
    reachable();
    if (!m_->nodes.count(n) || m_->nodes[n].incarnation != incarnation)
      return;
    for (auto& [k, l] : m_->leases)
      if (l.owner == n)
        l.owner.reset();
    m_->nodes.erase(n);
  }
  store::cluster_view read() override {
    reachable();
    store::cluster_view v;
    for (const auto& [name, row] : m_->nodes) {
      store::node_row r;
      r.info.name = name;
      r.live = row.expires > m_->pg_now;
      v.nodes.push_back(r);
    }
    v.units = m_->units;
    for (const auto& [k, l] : m_->leases) {
      store::lease_row r;
      r.kind = k.first;
      r.key = k.second;
      r.owner = l.owner;
      r.epoch = l.epoch;
      v.leases.push_back(r);
    }
    return v;
  }
  std::optional<std::int64_t> acquire(const std::string& kind, const std::string& key,
                                      const std::string& node, std::int64_t incarnation) override {
    reachable();
    if (!m_->live(node) || m_->nodes[node].incarnation != incarnation)
      return std::nullopt;
    auto& l = m_->leases[{kind, key}];
    if (l.owner && m_->live(*l.owner))
      return std::nullopt;
    l.owner = node;
    return ++l.epoch;
  }
  bool release(const std::string& kind, const std::string& key, const std::string& node,
               std::int64_t epoch) override {
    reachable();
    auto& l = m_->leases[{kind, key}];
    if (l.owner != node || l.epoch != epoch)
      return false;
    l.owner.reset();
    return true;
  }
  long prune() override { return 0; }

private:
  void reachable() {
    if (m_->partitioned.count(me_))
      throw std::runtime_error("connection refused");
  }
  std::shared_ptr<model> m_;
  std::string me_;
};

/// Stands in for a node's engine: runs what it is told at once, reports it.
struct engine_view {
  owned_units units;
};

units_target::behavior_type stand_in_engine(units_target::pointer self, std::shared_ptr<engine_view> view,
                                            std::shared_ptr<cluster_member_actor> member) {
  return {
    [self, view, member](units_atom, owned_units& u) {
      view->units = u;
      std::vector<std::string> running;
      for (const auto& [id, f] : u)
        running.push_back(id);
      if (*member)
        self->send(*member, running_atom::value, running);
    },
  };
}

struct node_under_test {
  std::string name;
  std::shared_ptr<engine_view> view = std::make_shared<engine_view>();
  std::shared_ptr<cluster_member_actor> member_slot = std::make_shared<cluster_member_actor>();
  std::shared_ptr<lease_validity> validity;
  std::shared_ptr<manual_time> clock;
  units_target engine;
  cluster_member_actor member;
};

class cluster_sim : public syncforce::testing::coordinated_system {
public:
  explicit cluster_sim(int units) {
    m_ = std::make_shared<model>();
    for (int i = 0; i < units; ++i)
      m_->units.push_back(store::unit_row{"mapping", "m" + std::to_string(i), "c1", "", 1});
    m_->units.push_back(store::unit_row{"writer", "c1", "c1", "", 1});
  }

  ~cluster_sim() {
    for (auto& n : nodes_) {
      caf::anon_send_exit(n->member, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(n->engine, caf::exit_reason::user_shutdown);
    }
    sched.run();
  }

  node_under_test& add(const std::string& name,
                       std::function<void(std::map<std::string, std::string>)> on_broker_owners = {}) {
    auto n = std::make_unique<node_under_test>();
    n->name = name;
    n->clock = clock_;
    n->validity = std::make_shared<lease_validity>(clock_); // the member and its fences read the test's clock
    n->engine = sys.spawn(stand_in_engine, n->view, n->member_slot);
    cluster_member_config cfg;
    cfg.node = store::node_info{name, name + ":50051", "test"};
    cfg.lease_ttl = 10s;
    cfg.heartbeat_interval = 2s;
    cfg.safety_margin = 2s;
    auto m = m_;
    cfg.make_store = [m, name] { return std::make_unique<fake_store>(m, name); };
    cfg.validity = n->validity;
    cfg.engine = n->engine;
    cfg.on_broker_owners = std::move(on_broker_owners);
    n->member = sys.spawn(cluster_member, cfg);
    *n->member_slot = n->member;
    nodes_.push_back(std::move(n));
    sched.run();
    return *nodes_.back();
  }

  /// One heartbeat round: time moves by the interval, the members tick in a seeded order.
  void round(std::mt19937& rng) {
    clock_->advance(2s);
    m_->pg_now += 2s;
    std::vector<node_under_test*> order;
    for (auto& n : nodes_)
      order.push_back(n.get());
    std::shuffle(order.begin(), order.end(), rng);
    for (auto* n : order) {
      caf::anon_send(n->member, tick_atom::value);
      sched.run();
    }
    check_one_owner();
  }

  /// No unit has two nodes that both think they may work under it now.
  void check_one_owner() {
    std::map<std::string, std::string> holder;
    for (auto& n : nodes_)
      for (const auto& [id, f] : n->view->units) {
        if (!n->validity->valid(f->generation, clock_->steady_now()))
          continue;
        auto [it, fresh] = holder.emplace(id, n->name);
        ASSERT_TRUE(fresh) << id << " runs on " << it->second << " and " << n->name;
      }
  }

  std::map<std::string, int> shares() {
    std::map<std::string, int> s;
    for (auto& n : nodes_) {
      s[n->name] = 0;
      for (const auto& [id, f] : n->view->units)
        if (n->validity->valid(f->generation, clock_->steady_now()))
          ++s[n->name];
    }
    return s;
  }

  std::shared_ptr<model> m_;
  std::shared_ptr<manual_time> clock_ = std::make_shared<manual_time>();
  std::vector<std::unique_ptr<node_under_test>> nodes_;
};

} // namespace

TEST(cluster_member, units_spread_over_three_members_and_a_partitioned_ones_move) {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    cluster_sim sim(11); // 11 mappings + 1 writer
    sim.add("a");
    sim.add("b");
    sim.add("c");
    for (int i = 0; i < 4; ++i)
      sim.round(rng);
    auto s = sim.shares();
    EXPECT_EQ(s["a"] + s["b"] + s["c"], 12);
    EXPECT_EQ(s["a"], 4);
    EXPECT_EQ(s["b"], 4);
    EXPECT_EQ(s["c"], 4);

    // c loses the database: it stops its units by its own clock before the
    // others may take them (the invariant is checked every round).
    sim.m_->partitioned.insert("c");
    for (int i = 0; i < 8; ++i)
      sim.round(rng);
    s = sim.shares();
    EXPECT_EQ(s["c"], 0);
    EXPECT_EQ(s["a"] + s["b"], 12);
    EXPECT_EQ(s["a"], 6);

    // c comes back: it rejoins (its old fences stay dead) and takes a share again.
    sim.m_->partitioned.clear();
    for (int i = 0; i < 6; ++i)
      sim.round(rng);
    s = sim.shares();
    EXPECT_EQ(s["a"], 4);
    EXPECT_EQ(s["b"], 4);
    EXPECT_EQ(s["c"], 4);
    if (HasFailure())
      return;
  }
}

TEST(cluster_member, a_frozen_member_wakes_up_past_its_deadline_and_runs_nothing) {
  std::mt19937 rng(7);
  cluster_sim sim(6);
  auto& a = sim.add("a");
  sim.add("b");
  for (int i = 0; i < 4; ++i)
    sim.round(rng);
  auto before = sim.shares(); // 6 mappings and the writer over two: 4 and 3
  ASSERT_EQ(before["a"] + before["b"], 7);
  ASSERT_GE(before["a"], 3);
  auto held = a.view->units;
  // a is frozen for a minute: b takes everything meanwhile.
  auto frozen = std::move(sim.nodes_.front());
  sim.nodes_.erase(sim.nodes_.begin());
  for (int i = 0; i < 30; ++i)
    sim.round(rng);
  EXPECT_EQ(sim.shares()["b"], 7);
  // Before a's member runs again, every fence it handed out is already refused by its own clock.
  for (const auto& [id, f] : held)
    EXPECT_FALSE(frozen->validity->valid(f->generation, sim.clock_->steady_now())) << id;
  sim.nodes_.insert(sim.nodes_.begin(), std::move(frozen));
  caf::anon_send(sim.nodes_.front()->member, tick_atom::value);
  sim.sched.run();
  sim.check_one_owner();
  for (int i = 0; i < 6; ++i)
    sim.round(rng);
  auto s = sim.shares();
  EXPECT_EQ(s["a"] + s["b"], 7);
  EXPECT_LE(std::abs(s["a"] - s["b"]), 1);
}

TEST(cluster_member, the_broker_directory_hears_of_a_user_lease_in_the_tick_that_takes_it) {
  // A lone node takes the integration user's lease on its first tick; its own mappings ask the
  // directory for the broker right after. Told only from the view read before the lease was taken,
  // the directory knew no owner until the next heartbeat, and every mapping waited out the retries.
  std::mt19937 rng(3);
  cluster_sim sim(2);
  sim.m_->units.push_back(store::unit_row{"integration_user", "u1", "", "", 1});
  std::vector<std::map<std::string, std::string>> told;
  sim.add("a", [&told](std::map<std::string, std::string> owners) { told.push_back(std::move(owners)); });
  sim.round(rng);
  ASSERT_EQ(sim.shares()["a"], 4); // two mappings, the writer and the user
  ASSERT_FALSE(told.empty());
  EXPECT_EQ(told.back(), (std::map<std::string, std::string>{{"u1", "a:50051"}}));
}
