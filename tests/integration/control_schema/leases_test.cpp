// Fenced leases against the real test PostgreSQL (docs/cluster.md, "Fencing"):
// a write made under an epoch that is no longer the owner's is refused and
// rolled back, whoever holds the lease now; an owner whose node lease expired
// is refused even before anyone took over; and a takeover waits for a fenced
// transaction already past its check, so no write of the old owner lands
// after the new owner's epoch began. The echo rule's per-table lock holds
// across sessions too.

#include "engine_io/table_guard.hpp"
#include "store/cluster.hpp"
#include "store/control_schema.hpp"
#include "store/copy_loader.hpp"
#include "sync/lease_fence.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <future>
#include <optional>

using namespace syncforce;
using namespace syncforce::testing;
using namespace std::chrono_literals;

namespace {

struct leases : ::testing::Test {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set: run the tests through scripts/test";
    db = std::make_unique<scratch_database>(*url, "leases");
    pqxx::connection c(db->url());
    store::migrate_control_schema(c);
    pqxx::nontransaction(c).exec("CREATE TABLE written (by text NOT NULL)");
  }

  store::node_info node(const std::string& name) { return {name, name + ":50051", "test"}; }

  lease_fence fence(const std::string& node, std::int64_t epoch) {
    lease_fence f;
    f.kind = "writer";
    f.key = "c1";
    f.node = node;
    f.epoch = epoch;
    return f;
  }

  /// Writes a row under `f` the way commit_fenced does: the check, then the commit, in one transaction.
  bool write_under(const lease_fence& f) {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO written VALUES ($1)", f.node + "@" + std::to_string(f.epoch));
    try {
      store::check_fence(tx, f);
    } catch (const fenced_out&) {
      return false; // the transaction is rolled back with the connection
    }
    tx.commit();
    return true;
  }

  long count(const std::string& sql) {
    pqxx::connection c(db->url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<long>();
  }

  /// The node's lease ran out (what a frozen or partitioned node's heartbeat missing looks like).
  void expire(const std::string& name) {
    pqxx::connection c(db->url());
    pqxx::nontransaction(c).exec_params(
      "UPDATE syncforce.nodes SET expires_at = clock_timestamp() - interval '1 second' WHERE name = $1", name);
  }

  /// Nodes a and b joined, a holding the writer lease of c1: how most tests here
  /// begin. Returns a's epoch (nothing if a got no lease).
  std::optional<std::int64_t> join_a_and_b_with_a_holding() {
    a = std::make_unique<pqxx::connection>(db->url());
    b = std::make_unique<pqxx::connection>(db->url());
    store::join_cluster(*a, node("a"), 30s);
    store::join_cluster(*b, node("b"), 30s);
    return store::acquire_lease(*a, "writer", "c1", "a");
  }

  std::unique_ptr<scratch_database> db;
  std::unique_ptr<pqxx::connection> a, b; // the cluster sessions of nodes a and b
};

} // namespace

TEST_F(leases, a_stale_epoch_is_refused_and_its_write_rolled_back) {
  auto first = join_a_and_b_with_a_holding();
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(store::acquire_lease(*b, "writer", "c1", "b").has_value()) << "a live owner keeps its lease";
  EXPECT_TRUE(write_under(fence("a", *first)));

  expire("a");
  auto second = store::acquire_lease(*b, "writer", "c1", "b");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, *first + 1) << "the epoch only grows";

  EXPECT_FALSE(write_under(fence("a", *first))) << "a's write under the old epoch";
  EXPECT_TRUE(write_under(fence("b", *second)));
  EXPECT_FALSE(write_under(fence("b", *first))) << "the right node with a stale epoch";
  EXPECT_EQ(count("SELECT count(*) FROM written WHERE by = 'a@" + std::to_string(*first) + "'"), 1)
    << "only the write made while a owned the lease";
  EXPECT_EQ(count("SELECT count(*) FROM written"), 2);

  // a comes back: its heartbeat finds its lease gone; rejoining gives it nothing of b's.
  EXPECT_FALSE(store::heartbeat(*a, "a", 30s));
  store::join_cluster(*a, node("a"), 30s);
  EXPECT_FALSE(store::acquire_lease(*a, "writer", "c1", "a").has_value());
  EXPECT_FALSE(write_under(fence("a", *first)));
}

TEST_F(leases, a_member_of_an_earlier_start_of_the_node_cannot_act_for_the_newer_one) {
  // An engine restarted while its cluster member was in a call: the new
  // member joined (incarnation 2) and holds the lease; the old member
  // (incarnation 1) comes back from its call. Found by the simulation
  // (docs/testing.md): it rejoined and left for the node, giving up the new
  // member's lease while that member's fence was still valid locally.
  pqxx::connection old_member(db->url()), new_member(db->url());
  auto first = store::join_cluster(old_member, node("a"), 30s);
  auto second = store::join_cluster(new_member, node("a"), 30s);
  ASSERT_EQ(second, first + 1);
  auto epoch = store::acquire_lease(new_member, "writer", "c1", "a", second);
  ASSERT_TRUE(epoch.has_value());

  EXPECT_FALSE(store::heartbeat(old_member, "a", 30s, first)) << "the old member's heartbeat";
  EXPECT_EQ(store::join_cluster(old_member, node("a"), 30s, first), 0) << "the old member cannot rejoin";
  EXPECT_FALSE(store::acquire_lease(old_member, "mapping", "m1", "a", first).has_value());
  store::leave_cluster(old_member, "a", first);
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.nodes WHERE name = 'a' AND incarnation = " + std::to_string(second)), 1)
    << "the old member's leave ends nothing";
  EXPECT_TRUE(write_under(fence("a", *epoch))) << "the new member still holds its lease";

  // The new member itself: heartbeats, rejoins after expiring, and leaves.
  EXPECT_TRUE(store::heartbeat(new_member, "a", 30s, second));
  expire("a");
  auto third = store::join_cluster(new_member, node("a"), 30s, second);
  EXPECT_EQ(third, second + 1);
  store::leave_cluster(new_member, "a", third);
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.nodes WHERE name = 'a'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM syncforce.leases WHERE owner_node = 'a'"), 0);
}

TEST_F(leases, an_owner_whose_node_lease_expired_is_refused_before_anyone_takes_over) {
  pqxx::connection alone(db->url());
  store::join_cluster(alone, node("a"), 30s);
  auto epoch = store::acquire_lease(alone, "writer", "c1", "a");
  ASSERT_TRUE(epoch.has_value());
  expire("a");
  EXPECT_FALSE(write_under(fence("a", *epoch)));
  EXPECT_EQ(count("SELECT count(*) FROM written"), 0);
}

TEST_F(leases, a_takeover_waits_for_a_write_already_past_its_fence_check) {
  auto first = join_a_and_b_with_a_holding();
  ASSERT_TRUE(first.has_value());

  // a's transaction passed its check and has not committed yet...
  pqxx::connection writer(db->url());
  pqxx::work tx(writer);
  tx.exec("INSERT INTO written VALUES ('a, late')");
  store::check_fence(tx, fence("a", *first));
  // ...when its node lease runs out and b tries to take over.
  expire("a");
  auto taking = std::async(std::launch::async, [&] { return store::acquire_lease(*b, "writer", "c1", "b"); });
  ASSERT_TRUE(wait_until(
    [&] {
      return count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE "
                   "'%INSERT INTO syncforce.leases%' AND wait_event_type = 'Lock'") == 1;
    },
    10s))
    << "the takeover waits for the fenced transaction's row lock";
  EXPECT_EQ(taking.wait_for(0s), std::future_status::timeout);
  tx.commit(); // a's write lands before b's epoch begins
  auto second = taking.get();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, *first + 1);
  EXPECT_EQ(count("SELECT count(*) FROM written"), 1);
  EXPECT_FALSE(write_under(fence("a", *first)));
}

TEST_F(leases, a_frozen_engine_session_past_its_fence_check_holds_a_takeover_only_until_its_idle_timeout) {
  auto first = join_a_and_b_with_a_holding();
  ASSERT_TRUE(first.has_value());

  // An engine session passes its fence check, then its process freezes (SIGSTOP): the
  // transaction stays open, idle, holding the lease row FOR SHARE.
  auto frozen = store::open_engine_connection(db->url(), "syncforce-worker");
  pqxx::work tx(*frozen);
  tx.exec("INSERT INTO written VALUES ('a, frozen')");
  store::check_fence(tx, fence("a", *first));
  expire("a");
  // Without the timeout the takeover would wait for as long as the process stays frozen:
  // bounded here so that the test fails instead of hanging.
  pqxx::nontransaction(*b).exec("SET lock_timeout = '20s'");
  auto t0 = std::chrono::steady_clock::now();
  auto taking = std::async(std::launch::async, [&] { return store::acquire_lease(*b, "writer", "c1", "b"); });
  ASSERT_EQ(taking.wait_for(30s), std::future_status::ready);
  auto waited = std::chrono::steady_clock::now() - t0;
  std::optional<std::int64_t> second;
  ASSERT_NO_THROW(second = taking.get()) << "the takeover waited for the frozen session until its lock timeout";
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, *first + 1);
  EXPECT_LT(waited, std::chrono::milliseconds(store::engine_idle_in_transaction_timeout_ms) + 5s);
  // PostgreSQL ended the frozen session: when the process wakes, its write cannot commit.
  EXPECT_ANY_THROW(tx.commit());
  EXPECT_EQ(count("SELECT count(*) FROM written"), 0);
}

// A frozen node may hold session advisory locks outside any transaction (the
// table guard from a poll's query to its apply, the connection's writer lock for a
// whole write cycle): no timeout ends those. Taking its lapsed lease ends its sessions.
TEST_F(leases, taking_a_lapsed_nodes_lease_ends_its_sessions_and_frees_their_locks) {
  ASSERT_TRUE(join_a_and_b_with_a_holding().has_value());

  auto frozen = store::open_engine_connection(db->url(), store::node_session_name("syncforce-worker", "a"));
  engine_io::table_lock held(*frozen, "salesforce", "contact", 30s);
  // Not the lapsed node's: a live node's session, a node whose name only starts
  // like it, and an application's own session.
  auto live = store::open_engine_connection(db->url(), store::node_session_name("syncforce-worker", "b"));
  auto prefix = store::open_engine_connection(db->url(), store::node_session_name("syncforce-worker", "ab"));
  pqxx::connection app(db->url() + (db->url().find('?') == std::string::npos ? "?" : "&") +
                       "application_name=a");
  const auto alive = [](pqxx::connection& c) {
    try {
      pqxx::nontransaction(c).exec("SELECT 1");
      return true;
    } catch (const pqxx::broken_connection&) {
      return false;
    }
  };
  {
    pqxx::connection other(db->url());
    EXPECT_THROW(engine_io::table_lock(other, "salesforce", "contact", 200ms), pqxx::sql_error);
  }

  expire("a");
  auto taken = store::acquire_lease(*b, "writer", "c1", "b");
  ASSERT_TRUE(taken.has_value());
  // The lock is free at once, not when the frozen process dies.
  ASSERT_TRUE(wait_until([&] {
    pqxx::connection other(db->url());
    try {
      engine_io::table_lock free(other, "salesforce", "contact", 200ms);
      return true;
    } catch (const pqxx::sql_error&) {
      return false;
    }
  }, 10s));
  EXPECT_FALSE(alive(*frozen));
  EXPECT_TRUE(alive(*live));
  EXPECT_TRUE(alive(*prefix));
  EXPECT_TRUE(alive(app));
  // Taking a lease nobody held before, or from oneself, ends nothing.
  ASSERT_TRUE(store::acquire_lease(*b, "mapping", "m1", "b").has_value());
  EXPECT_TRUE(alive(*live));
}

// The echo rule's per-table exclusion holds across processes (nodes): it lives in
// PostgreSQL, a second holder waits (bounded), and a dead holder's session frees it.
TEST_F(leases, a_tables_poll_and_write_back_exclude_each_other_across_sessions_and_a_dead_holder_frees_it) {
  auto first = std::make_unique<pqxx::connection>(db->url());
  pqxx::connection second(db->url());
  std::optional<engine_io::table_lock> held;
  held.emplace(*first, "salesforce", "contact", 30s);
  try {
    engine_io::table_lock waiting(second, "salesforce", "contact", 200ms);
    ADD_FAILURE() << "a second session took the table while the first held it";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "55P03") << e.what(); // lock_timeout: a retry for every boundary
  }
  { engine_io::table_lock other_table(second, "salesforce", "account", 200ms); } // other tables are free
  held.reset();
  { engine_io::table_lock after_release(second, "salesforce", "contact", 200ms); }

  held.emplace(*first, "salesforce", "contact", 30s);
  pqxx::nontransaction(second).exec("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                                    "AND classid::int = hashtext('syncforce.table') AND pid <> pg_backend_pid()");
  ASSERT_TRUE(wait_until(
    [&] {
      try {
        engine_io::table_lock taken(second, "salesforce", "contact", 100ms);
        return true;
      } catch (const pqxx::sql_error&) {
        return false;
      }
    },
    10s))
    << "a holder whose session ended releases the table";
  held.reset(); // the unlock on the dead session is a no-op, not an error
  first.reset();
}
