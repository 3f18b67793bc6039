// What the admin API stores reaches the node that runs the connection at once,
// through NOTIFY syncforce_control, without a restart: an abort command stops a
// running load (nothing half-loaded stays), a reload command loads again, a
// paused connection neither polls nor writes while its trigger log fills, and
// resuming drains it. The control-schema changes are made here the way the
// admin service makes them (tests/integration/cli_e2e drives the same through
// the CLI).

#include "tests/integration/sync_read/sync_read_fixture.hpp"

using namespace syncforce;
using namespace syncforce::testing;

namespace {

json numbered(int n) {
  json records = json::array();
  for (int i = 0; i < n; ++i)
    records.push_back({{"Name", "R" + std::to_string(i)}, {"Ext_Id__c", "R-" + std::to_string(i)}, {"Count__c", i}});
  return records;
}

struct live_control : sync_read {
  void sql(const std::string& statement) {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec(statement);
    tx.commit();
  }

  /// Leaves a command for the mapping and wakes the engines, as the admin API does.
  void command(const std::string& object, const std::string& cmd) {
    sql("UPDATE syncforce.mappings SET command = '" + cmd + "', command_at = now() WHERE object_name = '" + object +
        "'; SELECT pg_notify('syncforce_control', connection_id::text) FROM syncforce.mappings WHERE object_name = '" +
        object + "'");
  }

  void set_connection_state(const std::string& state) {
    sql("UPDATE syncforce.connections SET state = '" + state +
        "'; SELECT pg_notify('syncforce_control', id::text) FROM syncforce.connections");
  }

  long api_calls() {
    auto counters = control("GET", "counters");
    return counters.is_object() ? counters.value("total", -1L) : -1L;
  }
};

} // namespace

TEST_F(live_control, an_abort_stops_a_running_first_load_and_a_reload_starts_it_again) {
  const int n = 12000;
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered(n)).size(), static_cast<std::size_t>(n));
  write_config(every_mapping());
  control("POST", "faults", {{"route", "/query/"}, {"action", "none"}, {"latency_ms", 300}});
  start_node(100000);
  ASSERT_TRUE(wait_until([&] { return count_of(db->url(), "SELECT rows_loaded FROM syncforce.load_checkpoints") >= 2000; },
                         60s))
    << node->output();
  command("Every__c", "abort");
  ASSERT_TRUE(wait_state("Every__c", "ABORTED", 30s)) << node->output();
  EXPECT_TRUE(node->wait_for_output("Load aborted before the first load completed", 10s)) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.load_checkpoints"), 0);
  EXPECT_FALSE(scalar(db->url(), "SELECT to_regclass('salesforce.every__c__reload')::text"))
    << "the half-loaded shadow table is dropped";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), 0) << "readers never saw a partial load";
  EXPECT_FALSE(mapping_field("Every__c", "command"));

  control("DELETE", "faults");
  command("Every__c", "reload");
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"), n);
  EXPECT_EQ(count_of(db->url(), "SELECT count(DISTINCT sfid) FROM salesforce.every__c"), n);
  stop_node();
}

TEST_F(live_control, a_reload_command_loads_again_and_keeps_row_ids) {
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", numbered(50)).size(), 50u);
  write_config(every_mapping());
  start_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  auto ids_before = scalar(db->url(), "SELECT string_agg(id::text || sfid, ',' ORDER BY id) FROM salesforce.every__c");
  command("Every__c", "reload");
  ASSERT_TRUE(node->wait_for_output("Reload requested", 20s)) << node->output();
  ASSERT_TRUE(wait_until([&] {
    auto out = node->output();
    auto at = out.find("Reload requested");
    return at != std::string::npos && out.find("RELOAD COMPLETE", at) != std::string::npos;
  }, 30s)) << node->output();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(scalar(db->url(), "SELECT string_agg(id::text || sfid, ',' ORDER BY id) FROM salesforce.every__c"),
            ids_before);
  stop_node();
}

TEST_F(live_control, a_paused_connection_neither_polls_nor_writes_and_resume_drains_the_backlog) {
  auto mappings = every_mapping();
  mappings[0]["config"]["access"] = "read_write";
  mappings[0]["config"]["upsert_field"] = "Ext_Id__c";
  write_config(mappings);
  start_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  set_connection_state("PAUSED");
  ASSERT_TRUE(node->wait_for_output("Connection paused", 20s)) << node->output();
  sql("INSERT INTO salesforce.every__c (name, ext_id__c) VALUES ('Paused', 'P-1')");
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW'"), 1);
  auto calls = api_calls();
  // Three poll intervals (1 s in tests) and writer ticks: a paused node makes no call at all.
  EXPECT_FALSE(wait_until([&] { return api_calls() != calls; }, 3s)) << "a paused connection called Salesforce";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW'"), 1);

  set_connection_state("IDLE");
  ASSERT_TRUE(node->wait_for_output("Connection resumed", 20s)) << node->output();
  ASSERT_TRUE(wait_until([&] {
    return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c WHERE ext_id__c = 'P-1' AND sfid IS NOT NULL") ==
           1;
  }, 30s)) << node->output();
  auto cursor = sf->query("SELECT Id FROM Every__c WHERE Ext_Id__c = 'P-1'");
  auto page = cursor.next_page();
  ASSERT_TRUE(page) << page.error().describe();
  EXPECT_EQ(cursor.total_size(), 1) << "written to Salesforce once";
  EXPECT_TRUE(wait_until([&] { return api_calls() > calls + 1; }, 10s)) << "polling goes on";
  stop_node();
}
