// A real cluster (docs/cluster.md): three syncforced on one database and one
// sfemu, loopback only. Units spread over the nodes; the writer's owner is
// killed or frozen in the middle of write-back and its units move within 15 s;
// a frozen owner sends nothing once it wakes up; a joining node moves only its
// share. Every scenario ends with both sides equal record by record, no
// duplicate in Salesforce (rows without an upsert-field value included).

#include "tests/chaos/chaos.hpp"

#include <csignal>

namespace syncforce::chaos {
namespace {

constexpr int unit_count = 8; // Chaos__c and five standard objects, the writer, the integration user

class cluster : public scenario {
protected:
  /// Three nodes with the units spread and every mapping synced.
  void start_cluster(int records) {
    extra_objects_ = {"Account", "Opportunity", "Campaign", "Product2", "Pricebook2"};
    start_world();
    if (IsSkipped())
      return;
    sf_create(records);
    start_node();
    start_peer("peer-b");
    start_peer("peer-c");
    ASSERT_TRUE(support::wait_until(
      [&] {
        return count("SELECT count(*) FROM syncforce.mappings WHERE state = 'DATA_SYNCED'") == 6 &&
               count("SELECT count(DISTINCT owner_node) FROM syncforce.leases") == 3 && unassigned() == 0 &&
               count("SELECT max(n) - min(n) FROM (SELECT count(*) AS n FROM syncforce.leases "
                     "GROUP BY owner_node) s") <= 1;
      },
      120s))
      << "mappings synced: " << count("SELECT count(*) FROM syncforce.mappings WHERE state = 'DATA_SYNCED'")
      << ", owners: " << count("SELECT count(DISTINCT owner_node) FROM syncforce.leases") << "\n"
      << node_log();
  }

  /// Units no live node holds.
  long unassigned() {
    return unit_count - count("SELECT count(*) FROM syncforce.leases l JOIN syncforce.nodes n "
                              "ON n.name = l.owner_node WHERE n.expires_at > clock_timestamp()");
  }

  std::string owner(const std::string& kind) {
    return scalar("SELECT l.owner_node FROM syncforce.leases l JOIN syncforce.nodes n ON n.name = l.owner_node "
                  "WHERE l.kind = '" + kind + "' AND n.expires_at > clock_timestamp()")
      .value_or("");
  }

  /// The process of node `name`.
  testing::node_process& node_named(const std::string& name) {
    if (name == "chaos-node")
      return *node_;
    for (auto& p : peers_)
      if (p->output().find("object_id=" + name + " ") != std::string::npos)
        return *p;
    throw std::runtime_error("no node " + name);
  }

  /// Salesforce API calls node `name` made (sfemu counts them by Sforce-Call-Options client=).
  long calls_by(const std::string& name) {
    auto c = control("GET", "counters");
    auto by = c.value("by_client", json::object());
    return by.value("syncforce/" + name, 0L);
  }

  /// Inserts (with and without an upsert-field value), updates and deletes in SQL,
  /// and waits until part of them reached Salesforce: the rest is on its way.
  void writes_in_flight() {
    auto archived = count("SELECT count(*) FROM salesforce._trigger_log_archive");
    pg_insert(pick(600, 4000), true);
    pg_insert(pick(150, 800), false);
    pg_update(pick(200, 1500));
    pg_delete(pick(30, 300));
    ASSERT_TRUE(support::wait_until(
      [&] { return count("SELECT count(*) FROM salesforce._trigger_log_archive") >= archived + 100; }, 120s))
      << "the writes made no progress\n"
      << node_log();
  }

  /// Waits until the writer runs on a live node other than `from`; how long that took.
  std::chrono::milliseconds wait_writer_moved(const std::string& from) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(support::wait_until(
      [&] {
        auto o = owner("writer");
        return !o.empty() && o != from;
      },
      60s, 100ms))
      << node_log();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  }
};

TEST_F(cluster, units_spread_and_the_writer_owner_killed_mid_write_back_moves_within_15_s) {
  start_cluster(pick(300, 3000));
  if (IsSkipped() || HasFatalFailure())
    return;
  // Each node runs a share: 8 units over 3 nodes.
  for (const char* n : {"chaos-node", "peer-b", "peer-c"}) {
    auto held = count(std::string("SELECT count(*) FROM syncforce.leases WHERE owner_node = '") + n + "'");
    EXPECT_GE(held, 2) << n;
    EXPECT_LE(held, 3) << n;
  }
  auto listed = node_->cli({"nodes"}, std::string(admin_token));
  EXPECT_EQ(listed.code, 0) << listed.output;
  for (const char* n : {"chaos-node", "peer-b", "peer-c"})
    EXPECT_NE(listed.output.find(n), std::string::npos) << listed.output;
  auto state = node_->cli({"state"}, std::string(admin_token));
  EXPECT_NE(state.output.find(owner("mapping")), std::string::npos) << "state shows the running node\n" << state.output;

  const int latency = uniform(100, 250);
  control("POST", "faults", {{"route", "composite/sobjects"}, {"action", "none"}, {"latency_ms", latency}});
  writes_in_flight();
  auto victim = owner("writer");
  ASSERT_FALSE(victim.empty());
  node_named(victim).kill();
  std::cout << "cluster: kill -9 of " << victim << " (the writer's owner) during write-back" << std::endl;
  auto took = wait_writer_moved(victim);
  EXPECT_LE(took, 15s) << "failover took " << took.count() << " ms";
  row_.note = "failover " + std::to_string(took.count()) + " ms; collections +" + std::to_string(latency) + " ms";
  if (victim == "chaos-node")
    start_node(); // the harness watches this one; it rejoins and takes a share again
  control("DELETE", "faults");
  expect_converged(expected_records(), pick(180s, 300s));
  EXPECT_EQ(unassigned(), 0) << node_log();
}

TEST_F(cluster, a_frozen_writer_owner_is_replaced_and_sends_nothing_once_it_wakes_up) {
  start_cluster(pick(300, 3000));
  if (IsSkipped() || HasFatalFailure())
    return;
  const int latency = uniform(100, 250);
  control("POST", "faults", {{"route", "composite/sobjects"}, {"action", "none"}, {"latency_ms", latency}});
  writes_in_flight();
  auto frozen = owner("writer");
  ASSERT_FALSE(frozen.empty());
  auto& proc = node_named(frozen);
  auto stopped_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(proc.process().signal(SIGSTOP));
  std::cout << "cluster: SIGSTOP of " << frozen << " (the writer's owner) during write-back" << std::endl;
  auto took = wait_writer_moved(frozen);
  EXPECT_LE(took, 15s) << "the frozen node's writer moved after " << took.count() << " ms";
  // More changes while it is frozen: the new owner writes them.
  pg_insert(pick(200, 1000), true);
  pg_insert(pick(50, 200), false);
  support::wait_until([&] { return std::chrono::steady_clock::now() - stopped_at >= pick(20s, 60s); },
                      pick(25s, 65s), 200ms);
  auto before = calls_by(frozen);
  ASSERT_TRUE(proc.process().signal(SIGCONT));
  // It finds its lease deadline long past: everything stops before a single request.
  ASSERT_TRUE(support::wait_until([&] { return proc.output().find("Node lease lapsed") != std::string::npos; }, 30s))
    << proc.output();
  EXPECT_EQ(calls_by(frozen), before) << "Salesforce calls by " << frozen << " after SIGCONT";
  row_.note = "frozen " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::steady_clock::now() - stopped_at)
                                            .count()) +
              " s; writer moved in " + std::to_string(took.count()) + " ms";
  control("DELETE", "faults");
  expect_converged(expected_records(), pick(180s, 300s));
  EXPECT_EQ(unassigned(), 0) << node_log();
}

TEST_F(cluster, a_fourth_node_takes_its_share_and_nothing_else_restarts) {
  start_cluster(pick(300, 3000));
  if (IsSkipped() || HasFatalFailure())
    return;
  const int taken = logged("Unit taken");
  const int handed = logged("Unit handed over");
  const int reloads = logged("RELOAD TABLE");
  auto& d = start_peer("peer-d");
  ASSERT_TRUE(support::wait_until(
    [&] {
      return count("SELECT count(*) FROM syncforce.leases WHERE owner_node = 'peer-d'") == 2 && unassigned() == 0;
    },
    60s))
    << node_log();
  // Exactly its share moved: handed over by the others, taken by it, nothing else taken anywhere.
  EXPECT_EQ(occurrences(d.output(), "Unit taken"), 2) << d.output();
  EXPECT_EQ(logged("Unit handed over"), handed + 2) << node_log();
  EXPECT_EQ(logged("Unit taken"), taken + 2) << node_log();
  EXPECT_EQ(logged("Mapping crashed"), 0) << node_log();
  EXPECT_EQ(logged("Restarting sync engine"), 0) << "a unit (a broker too) moves without restarting anything";
  EXPECT_EQ(logged("RELOAD TABLE"), reloads) << "a moved mapping carries on from its mark";
  // And it works: changes on both sides still arrive.
  pg_insert(pick(100, 500), true);
  sf_update(pick(20, 100));
  expect_converged(expected_records(), pick(120s, 300s));
}

} // namespace
} // namespace syncforce::chaos
