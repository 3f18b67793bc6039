// Salesforce -> PostgreSQL when things go wrong: a node killed in the middle
// of a load (REST and Bulk) resumes without duplicates or losses; polls of more
// changes than the threshold go through Bulk; 503 bursts, a session expiring
// between the pages of a query and a spent API budget are waited out with
// nothing lost; readers never see a reloading table empty or partial.

#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <atomic>
#include <thread>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

json numbered(const std::string& prefix, int from, int to) {
  json records = json::array();
  for (int i = from; i < to; ++i)
    records.push_back({{"Name", prefix + std::to_string(i)}, {"Ext_Id__c", prefix + "-" + std::to_string(i)},
                       {"Count__c", i}});
  return records;
}

long checkpoint_rows(const std::string& url) {
  auto v = scalar(url, "SELECT rows_loaded FROM syncforce.load_checkpoints");
  return v ? std::stol(*v) : -1;
}

/// The n records numbered(prefix, 0, n) made are in every__c once each: no loss, no
/// duplicate, every value (count__c 0..n-1) as loaded.
void expect_every_record_once(const std::string& url, long n) {
  EXPECT_EQ(count_of(url, "SELECT count(*) FROM salesforce.every__c"), n);
  EXPECT_EQ(count_of(url, "SELECT count(DISTINCT sfid) FROM salesforce.every__c"), n);
  EXPECT_EQ(count_of(url, "SELECT sum(count__c)::bigint FROM salesforce.every__c"), n * (n - 1) / 2);
}

/// How many sessions wait for a lock while running a statement LIKE `pattern`.
long lock_waiters(const std::string& url, const std::string& pattern) {
  return count_of(url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '" +
                         pattern + "'");
}

/// The number in `text` right after `key`, or -1.
long number_after(const std::string& text, const std::string& key) {
  auto i = text.find(key);
  if (i == std::string::npos)
    return -1;
  return std::atol(text.c_str() + i + key.size());
}

} // namespace

struct sync_read_resume : sync_read, ::testing::WithParamInterface<std::string> {};

// Kill -9 in the middle of a load; the next node continues from the checkpoint.
TEST_P(sync_read_resume, a_load_killed_midway_resumes_without_duplicates_or_losses) {
  const bool bulk = GetParam() == "bulk";
  const int n = 12000;
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered("R", 0, n)).size(), static_cast<std::size_t>(n));
  write_config(every_mapping());
  // Slow pages (REST queryMore, or Bulk results pages of 1,000) so the load is surely killed midway.
  control("POST", "faults",
          {{"route", bulk ? "/jobs/query/[^/]+/results" : "/query/"}, {"action", "none"}, {"latency_ms", 300}});
  const std::vector<std::string> extra{"--bulk-page-size", "1000"}; // REST pages are sfemu's 2,000
  start_node(bulk ? 1000 : 100000, extra);
  ASSERT_TRUE(wait_until([&] { return checkpoint_rows(db->url()) >= 4000; }, 60s)) << node->output();
  ASSERT_TRUE(node->signal(SIGKILL));
  ASSERT_TRUE(node->wait_exit(20s).has_value());
  auto first_output = node->output();
  long at_kill = checkpoint_rows(db->url());
  ASSERT_GE(at_kill, 4000);
  ASSERT_LT(at_kill, n) << "the load finished before the kill: make the pages slower";
  // Readers saw the old (empty) table all along, never the partial load.
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c__reload"), at_kill);

  control("DELETE", "faults");
  start_node(bulk ? 1000 : 100000, extra);
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << node->output();
  // The line comes right after the commit that sets the state.
  ASSERT_TRUE(node->wait_for_output("Loaded table every__c: ", 10s)) << node->output();
  auto out = node->output();
  auto resumed = std::string{"Resuming load of table every__c via "} + (bulk ? "BULK" : "SOAP") + " after ";
  ASSERT_NE(out.find(resumed), std::string::npos) << out;
  long resumed_at = number_after(out, resumed);
  EXPECT_GE(resumed_at, at_kill);
  EXPECT_EQ(number_after(out, "Loaded table every__c: "), n - resumed_at) << "the second node read only the rest";
  expect_every_record_once(db->url(), n);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.load_checkpoints"), 0);
  EXPECT_FALSE(scalar(db->url(), "SELECT to_regclass('salesforce.every__c__reload')::text"));
  stop_node();
}

// Kill -9 once every page is in, while the swap builds the shadow's key and
// indexes (they are built after the COPY): the next node builds them again
// and swaps, reading nothing again, and the table gets the same indexes,
// under the same names and definitions, as the one it replaces.
TEST_P(sync_read_resume, a_load_killed_during_its_index_builds_swaps_without_reading_again) {
  const bool bulk = GetParam() == "bulk";
  const int n = 12000;
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered("R", 0, n)).size(), static_cast<std::size_t>(n));
  write_config(every_mapping());
  const std::vector<std::string> extra{"--bulk-page-size", "1000"};
  auto indexes = [&](const std::string& table) {
    return scalar(db->url(), "SELECT string_agg(indexname || ': ' || replace(indexdef, '" + table + "', 'T'), E'\n' "
                             "ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'salesforce' AND tablename = '" +
                               table + "'")
      .value_or("");
  };
  // The swap waits for the live table, locked here: the keys and indexes are
  // built by then (before the lock, in the same transaction), the kill rolls them back.
  pqxx::connection blocker(db->url());
  pqxx::work hold(blocker);
  // Slow pages: the lock is surely taken before the load reaches its swap.
  control("POST", "faults",
          {{"route", bulk ? "/jobs/query/[^/]+/results" : "/query/"}, {"action", "none"}, {"latency_ms", 300}});
  start_node(bulk ? 1000 : 100000, extra);
  ASSERT_TRUE(wait_until([&] { return scalar(db->url(), "SELECT to_regclass('salesforce.every__c')::text").has_value(); },
                         60s))
    << node->output();
  // The live table's indexes as prepare_mapping made them (read before the
  // lock: once the swap queues for it, even a catalog read of them waits).
  const auto live_indexes = indexes("every__c");
  hold.exec0("LOCK TABLE salesforce.every__c IN ACCESS SHARE MODE");
  ASSERT_TRUE(wait_until([&] { return lock_waiters(db->url(), "LOCK TABLE %every__c%") == 1; }, 90s))
    << node->output();
  EXPECT_NE(live_indexes.find("hcu_idx_every__c_sfid"), std::string::npos) << live_indexes;
  EXPECT_NE(live_indexes.find("hc_idx_every__c_systemmodstamp"), std::string::npos) << live_indexes;
  EXPECT_EQ(checkpoint_rows(db->url()), n);
  ASSERT_TRUE(node->signal(SIGKILL));
  ASSERT_TRUE(node->wait_exit(20s).has_value());
  hold.abort(); // the killed node's session gets the lock, finds its client gone and rolls back
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c__reload"), n);

  control("DELETE", "faults");
  start_node(bulk ? 1000 : 100000, extra);
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << node->output();
  ASSERT_TRUE(node->wait_for_output("Loaded table every__c: ", 10s)) << node->output();
  auto out = node->output();
  auto resumed = std::string{"Resuming load of table every__c via "} + (bulk ? "BULK" : "SOAP") + " after ";
  ASSERT_NE(out.find(resumed), std::string::npos) << out;
  EXPECT_EQ(number_after(out, resumed), n);
  EXPECT_EQ(number_after(out, "Loaded table every__c: "), 0) << "the second node read nothing again";
  EXPECT_EQ(out.find("QUERY \xE2\x86\xB7SALESFORCE"), std::string::npos) << "no page read again\n" << out;
  expect_every_record_once(db->url(), n);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.read_errors"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.load_checkpoints"), 0);
  EXPECT_FALSE(scalar(db->url(), "SELECT to_regclass('salesforce.every__c__reload')::text"));
  EXPECT_EQ(indexes("every__c"), live_indexes) << "other indexes than the table had before the swap";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM pg_constraint WHERE conrelid = 'salesforce.every__c'::regclass "
                                "AND contype = 'p' AND conname = 'every__c_pkey'"),
            1);
  stop_node();
}

INSTANTIATE_TEST_SUITE_P(rest_and_bulk, sync_read_resume, ::testing::Values("rest", "bulk"));

// A Bulk results page holding the whole job (no --bulk-page-size) is COPYed in
// chunks while it downloads, in one transaction per page: a kill -9 while that
// transaction is open (its first chunk's COPY held up here by a lock on the
// shadow) leaves nothing of the page behind, and the next node loads it once.
TEST_F(sync_read, a_bulk_page_written_in_chunks_is_all_or_nothing_through_a_kill) {
  const int n = 12000; // one page of 12,000: three chunks
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered("C", 0, n)).size(), static_cast<std::size_t>(n));
  write_config(every_mapping());
  // The download waits a moment, so the shadow is locked before the first chunk arrives.
  control("POST", "faults", {{"route", "/jobs/query/[^/]+/results"}, {"action", "none"}, {"latency_ms", 1500}});
  start_node(1000);
  ASSERT_TRUE(wait_until(
    [&] { return scalar(db->url(), "SELECT to_regclass('salesforce.every__c__reload')::text").has_value(); }, 60s))
    << node->output();
  pqxx::connection blocker(db->url());
  pqxx::work hold(blocker);
  hold.exec0("LOCK TABLE salesforce.every__c__reload IN SHARE MODE");
  ASSERT_TRUE(wait_until([&] { return lock_waiters(db->url(), "COPY %every__c__reload%") == 1; }, 60s))
    << node->output();
  EXPECT_EQ(node->output().find("QUERY \xE2\x86\xB7SALESFORCE"), std::string::npos) << "the page is not complete yet";
  ASSERT_TRUE(node->signal(SIGKILL));
  ASSERT_TRUE(node->wait_exit(20s).has_value());
  hold.abort();
  ASSERT_TRUE(wait_until([&] {
    return count_of(db->url(), "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %every__c__reload%' "
                               "AND state <> 'idle'") == 0;
  }, 20s));
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c__reload"), 0) << "no chunk committed alone";
  EXPECT_EQ(checkpoint_rows(db->url()), 0);

  control("DELETE", "faults");
  start_node(1000);
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << node->output();
  ASSERT_TRUE(node->wait_for_output("Loaded table every__c: ", 10s)) << node->output();
  auto out = node->output();
  EXPECT_NE(out.find("QUERY \xE2\x86\xB7SALESFORCE 12000 rows"), std::string::npos) << "one page\n" << out;
  expect_every_record_once(db->url(), n);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.read_errors"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.load_checkpoints"), 0);
  // A first load: the key and indexes were built before the swap, in two sessions.
  auto built = out.find("Built ");
  ASSERT_NE(built, std::string::npos) << out;
  const auto built_line = out.substr(built, out.find('"', built) - built);
  const long done = number_after(built_line, "Built ");
  EXPECT_GE(done, 3) << built_line; // sfid, Ext_Id__c, SystemModstamp and the key's index on id
  EXPECT_EQ(number_after(built_line, " of "), done) << built_line;
  EXPECT_NE(built_line.find("indexes of every__c__reload"), std::string::npos) << built_line;
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM pg_constraint WHERE conrelid = 'salesforce.every__c'::regclass "
                                "AND contype = 'p' AND conname = 'every__c_pkey'"),
            1);
  stop_node();
}

TEST_F(sync_read, a_poll_of_more_changes_than_the_threshold_goes_through_bulk) {
  auto ids = load_records(*sf, *emu, "Every__c", numbered("S", 0, 50));
  ASSERT_EQ(ids.size(), 50u);
  write_config(every_mapping());
  start_node(100);
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  ASSERT_NE(node->output().find("Loading table every__c via SOAP"), std::string::npos);

  // 300 new records, one update, one delete: 302 changes > 100.
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered("N", 0, 300)).size(), 300u);
  auto upd = sf->update("Every__c", {json{{"Id", ids[0]}, {"Text__c", "bulk poll"}}});
  ASSERT_TRUE(upd) << upd.error().describe();
  auto del = sf->remove({ids[1]});
  ASSERT_TRUE(del) << del.error().describe();
  ASSERT_TRUE(wait_until(
    [&] {
      return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c") == 349 &&
             scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + ids[0] + "'") ==
               "bulk poll";
    },
    30s))
    << node->output();
  auto out = node->output();
  EXPECT_NE(out.find(" via BULK ("), std::string::npos) << out;
  EXPECT_NE(out.find("state=POLLING_SF_BULK"), std::string::npos);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c WHERE sfid = '" + ids[1] + "'"), 0);
  auto counters = control("GET", "counters");
  ASSERT_TRUE(counters.is_object());
  EXPECT_NE(counters.dump().find("jobs/query"), std::string::npos) << counters.dump();
  stop_node();
}

TEST_F(sync_read, bursts_of_503_an_expiring_session_and_a_spent_budget_are_waited_out) {
  auto ids = load_records(*sf, *emu, "Every__c", numbered("T", 0, 100));
  ASSERT_EQ(ids.size(), 100u);
  write_config(every_mapping());
  start_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();

  // 1. A burst of 503s on every query, longer than the client's own retries.
  control("POST", "faults", {{"route", "/query"}, {"status", 503}, {"error_code", "SERVER_UNAVAILABLE"}, {"count", 7}});
  auto upd = sf->update("Every__c", {json{{"Id", ids[0]}, {"Text__c", "after 503s"}}});
  ASSERT_TRUE(upd) << upd.error().describe();
  ASSERT_TRUE(wait_until(
    [&] {
      return scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + ids[0] + "'") ==
             "after 503s";
    },
    60s))
    << node->output();
  EXPECT_NE(node->output().find("Operation delayed, will retry"), std::string::npos) << node->output();
  EXPECT_NE(node->output().find("SERVER_UNAVAILABLE"), std::string::npos);
  control("DELETE", "faults");

  // 2. The session expires between two pages of one poll (the queryMore is refused once).
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered("U", 0, 2500)).size(), 2500u);
  control("POST", "faults", {{"route", "/query/"}, {"action", "unauthorized"}, {"count", 1}});
  ASSERT_TRUE(
    wait_until([&] { return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c") == 2600; }, 30s))
    << node->output();
  auto faults = control("GET", "faults");
  ASSERT_TRUE(faults.is_object());
  EXPECT_EQ(faults["faults"][0]["hits"], 1) << faults.dump();
  EXPECT_NE(node->output().find("logging in again"), std::string::npos);
  control("DELETE", "faults");

  // 3. The daily API budget is spent: the mapping waits and says so, then catches up.
  auto settings = control("GET", "settings");
  ASSERT_TRUE(settings.is_object());
  auto upd2 = sf->update("Every__c", {json{{"Id", ids[5]}, {"Text__c", "while spent"}}});
  ASSERT_TRUE(upd2) << upd2.error().describe();
  control("POST", "settings", {{"api_used", settings["api_limit"]}});
  ASSERT_TRUE(wait_until(
    [&] {
      auto d = mapping_field("Every__c", "state_description");
      return d && d->find("API budget exhausted") != std::string::npos;
    },
    30s))
    << node->output();
  EXPECT_TRUE(node->wait_for_output("API budget exhausted, waiting", 10s));
  EXPECT_NE(scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + ids[5] + "'"),
            "while spent");
  control("POST", "counters/reset"); // a new day
  ASSERT_TRUE(wait_until(
    [&] {
      return scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + ids[5] + "'") ==
             "while spent";
    },
    30s))
    << node->output();
  EXPECT_TRUE(node->wait_for_output("API budget available again", 10s));
  ASSERT_TRUE(wait_until([&] { return mapping_field("Every__c", "state_description") == std::string{}; }, 10s));
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), 2600);
  stop_node();
}

TEST_F(sync_read, readers_never_see_a_reloading_table_empty_or_partial) {
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered("V", 0, 6000)).size(), 6000u);
  write_config(every_mapping());
  start_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  stop_node();
  // 2,000 more records, then a reload (as `mapping:reload` will ask for), with slow pages.
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered("W", 0, 2000)).size(), 2000u);
  {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec0("UPDATE syncforce.mappings SET state = 'RELOAD_TABLE'");
    tx.commit();
  }
  control("POST", "faults", {{"route", "/query/"}, {"action", "none"}, {"latency_ms", 200}});

  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::vector<long> bad;
  std::thread reader([&] {
    pqxx::connection c(db->url());
    while (!stop) {
      pqxx::nontransaction tx(c);
      auto n = tx.exec1("SELECT count(*) FROM salesforce.every__c")[0].as<long>();
      ++reads;
      if (n != 6000 && n != 8000)
        bad.push_back(n);
    }
  });
  start_node();
  bool reloaded = wait_until(
    [&] {
      return node->output().find("RELOAD COMPLETE") != std::string::npos &&
             count_of(db->url(), "SELECT count(*) FROM salesforce.every__c") == 8000;
    },
    60s);
  stop = true;
  reader.join();
  ASSERT_TRUE(reloaded) << node->output();
  EXPECT_TRUE(bad.empty()) << "a reader saw " << bad.size() << " partial counts, the first " << bad.front();
  EXPECT_GT(reads.load(), 10) << "the reader ran during the reload";
  control("DELETE", "faults");
  stop_node();
}

TEST_F(sync_read, two_nodes_on_one_database_share_the_units_and_take_over_within_seconds) {
  auto ids = load_records(*sf, *emu, "Every__c", numbered("K", 0, 100));
  ASSERT_EQ(ids.size(), 100u);
  write_config(every_mapping());
  // The nodes authenticate to each other: the mapping may ask the other node's broker.
  auto secret = "/tmp/syncforce-it-cluster-secret." + std::to_string(::getpid());
  std::ofstream(secret) << "it-cluster-secret";
  node_env["SYNCFORCE_CLUSTER_SECRET_FILE"] = secret;
  start_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  auto second = child_process::start({bin_path("syncforced"), "--database-url", db->url(), "--grpc-address",
                                      "127.0.0.1:0", "--node-name", "it-node-2", "--config", config_path},
                                     {{"SF_TEST_PASSWORD", "sfemu"},
                                      {"SYNCFORCE_TEST_POLL_SECONDS", "1"},
                                      {"SYNCFORCE_CLUSTER_SECRET_FILE", secret}});
  // Two units (the mapping's read side, the integration user's broker) over two
  // nodes: one each, whichever way the assignment splits them.
  auto owners = [&] {
    return scalar(db->url(), "SELECT string_agg(DISTINCT owner_node, ',' ORDER BY owner_node) FROM syncforce.leases");
  };
  ASSERT_TRUE(wait_until([&] { return owners() == "it-node,it-node-2"; }, 30s))
    << owners().value_or("") << "\n" << node->output() << second->output();
  auto mapping_owner = [&] { return scalar(db->url(), "SELECT owner_node FROM syncforce.leases WHERE kind = 'mapping'"); };
  auto runner = mapping_owner();
  auto upd = sf->update("Every__c", {json{{"Id", ids[0]}, {"Text__c", "first owner"}}});
  ASSERT_TRUE(upd) << upd.error().describe();
  ASSERT_TRUE(wait_until(
    [&] {
      return scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + ids[0] + "'") ==
             "first owner";
    },
    20s));

  // The node running the mapping dies without a word: the other takes it over
  // once the dead node's lease expired (10 s), well within 15 s.
  auto& doomed = runner == "it-node" ? node : second;
  auto& survivor = runner == "it-node" ? second : node;
  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(doomed->signal(SIGKILL));
  ASSERT_TRUE(doomed->wait_exit(20s).has_value());
  ASSERT_TRUE(wait_until([&] { return mapping_owner() != runner && mapping_owner().has_value(); }, 30s))
    << survivor->output();
  auto failover = std::chrono::steady_clock::now() - killed_at;
  EXPECT_LE(failover, 15s) << "failover took "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(failover).count() << " ms";
  auto upd2 = sf->update("Every__c", {json{{"Id", ids[1]}, {"Text__c", "second owner"}}});
  ASSERT_TRUE(upd2) << upd2.error().describe();
  ASSERT_TRUE(wait_until(
    [&] {
      return scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + ids[1] + "'") ==
             "second owner";
    },
    20s))
    << survivor->output();
  // Only the very first load reloaded the table: every later owner carried on from the stored mark.
  auto reloads = [](const std::string& out) {
    std::size_t n = 0;
    for (auto p = out.find("RELOAD TABLE"); p != std::string::npos; p = out.find("RELOAD TABLE", p + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(reloads(node->output()) + reloads(second->output()), 1u) << survivor->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), 100);
  ASSERT_TRUE(survivor->signal(SIGTERM));
  EXPECT_EQ(survivor->wait_exit(20s), 0);
  std::remove(secret.c_str());
}
