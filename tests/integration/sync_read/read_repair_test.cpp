// Read repair (docs/sync-read.md): a record committed late, with a stamp below
// the mark, is missed by polls and found by the look-back sweep; a formula
// whose value changed without its record's SystemModstamp (a cross-object
// formula whose parent was renamed) stays stale under polls and is repaired by
// the formula repair, without a trigger-log entry. Both are turned on through
// `syncforce mapping:edit` and counted in the log and in `mapping:state`.
// Real syncforced, real sfemu, real PostgreSQL.

#include "sync/poll_plan.hpp"
#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <chrono>
#include <ctime>
#include <regex>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

const std::string token = "read-repair-token-for-tests-41ab";

inline const char* deal_org = R"({
  "objects": [
    {"name": "Deal__c", "label": "Deal", "key_prefix": "a0D",
     "fields": [
       {"name": "Ext_Id__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Amount__c", "type": "double", "precision": 18, "scale": 2},
       {"name": "Account__c", "type": "reference", "reference_to": "Account"},
       {"name": "Account_Name__c", "type": "string", "length": 255, "formula": "Account__r.Name"},
       {"name": "Line_Total__c", "type": "currency", "precision": 18, "scale": 2,
        "rollup": {"function": "SUM", "child": "Line__c", "field": "Deal__c", "summarized": "Amount__c"}}
     ]},
    {"name": "Line__c", "label": "Line", "key_prefix": "a0L",
     "fields": [
       {"name": "Deal__c", "type": "reference", "reference_to": "Deal__c"},
       {"name": "Amount__c", "type": "currency", "precision": 18, "scale": 2}
     ]}
  ]
})";

struct cli_result {
  int code = -1;
  std::string output;
};

/// How many times `needle` occurs in `text`.
std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

/// `stamp` (canonical) moved by `seconds`.
std::string shifted(const std::string& stamp, int seconds) {
  std::tm tm{};
  strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  auto t = timegm(&tm) + seconds;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

} // namespace

struct read_repair : sync_read {
  void SetUp() override {
    sync_read::SetUp();
    if (IsSkipped())
      return;
    // The same fixture with an org of its own: Deal__c has a cross-object formula.
    emu.reset();
    std::remove(org_path.c_str());
    org_path = write_temp("read_repair_org", deal_org);
    emu = std::make_unique<sfemu_process>(std::vector<std::string>{"--org", org_path});
    sf = std::make_unique<salesforce::client>(sf_config(*emu));
  }

  json deal_mapping(const json& extras, const std::vector<std::string>& more_fields = {}) {
    json fields = json::object();
    for (const char* f : {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name", "Ext_Id__c", "Amount__c",
                          "Account__c", "Account_Name__c"})
      fields[f] = json::object();
    for (const auto& f : more_fields)
      fields[f] = json::object();
    json cfg{{"access", "read_write"},
             {"sf_polling_seconds", 120},
             {"upsert_field", "Ext_Id__c"},
             {"fields", fields},
             {"indexes", {{"Ext_Id__c", {{"unique", true}}}}}};
    if (!extras.is_null())
      cfg["syncforce"] = extras;
    return json::array({{{"object_name", "Deal__c"}, {"config", cfg}}});
  }

  void start_admin_node() {
    node_env["SYNCFORCE_ADMIN_TOKEN"] = token;
    start_node(10000, {"--log-level", "debug"}); // idle polls are logged at debug
    ASSERT_TRUE(node->wait_for_output("gRPC server listening", 20s)) << node->output();
    std::smatch m;
    auto out = node->output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("gRPC server listening\" port=(\\d+)"))) << out;
    server = "127.0.0.1:" + m[1].str();
  }

  cli_result cli(std::vector<std::string> args) {
    std::vector<std::string> argv{bin_path("syncforce"), "--server", server};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = child_process::start(argv, {{"SYNCFORCE_TOKEN", token}});
    cli_result r;
    r.code = p->wait_exit(30s).value_or(-1);
    r.output = p->output();
    return r;
  }

  json mapping_state_json() {
    auto r = cli({"mapping:state", "Deal__c", "--json"});
    EXPECT_EQ(r.code, 0) << r.output;
    last_cli_output = r.output;
    auto start = r.output.find('{');
    return start == std::string::npos ? json{} : json::parse(r.output.substr(start), nullptr, false);
  }

  long rows() { return count_of(db->url(), "SELECT count(*) FROM salesforce.deal__c"); }

  /// Three deals in Salesforce (D-0, D-1, D-2), before the node starts.
  void create_deals() {
    json deals = json::array();
    for (int i = 0; i < 3; ++i)
      deals.push_back({{"Name", "D" + std::to_string(i)}, {"Ext_Id__c", "D-" + std::to_string(i)}, {"Amount__c", i}});
    ASSERT_EQ(load_records(*sf, *emu, "Deal__c", deals).size(), 3u);
  }

  /// The Deal__c mapping's high-water mark (canonical, to the ms).
  std::optional<std::string> high_water_mark() {
    return mapping_field("Deal__c", "to_char(high_water_mark, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
  }

  /// A deal (D-late, Amount__c `amount`) whose transaction committed late: stamped
  /// `stamp`, below the mark the polls already passed. Its id.
  std::vector<std::string> commit_late(const std::string& stamp, int amount) {
    return load_records(*sf, *emu, "Deal__c",
                        json::array({{{"Name", "Late"}, {"Ext_Id__c", "D-late"}, {"Amount__c", amount},
                                      {"SystemModstamp", stamp}}}));
  }

  /// Waits until `n` more poll lines than now were logged (polls log every run at debug).
  bool wait_polls(std::size_t n) {
    const std::string line = "Polling Salesforce found";
    auto seen = occurrences(node->output(), line);
    return wait_until([&] { return occurrences(node->output(), line) >= seen + n; }, 30s, 50ms);
  }

  std::string server;
  std::string last_cli_output;
};

TEST_F(read_repair, the_sweep_finds_a_record_committed_late_below_the_mark) {
  ASSERT_NO_FATAL_FAILURE(create_deals());
  write_config(deal_mapping(json{{"sweep_seconds", 0}}));
  start_admin_node();
  ASSERT_TRUE(wait_state("Deal__c", "DATA_SYNCED", 60s)) << node->output().substr(0, 4000);
  ASSERT_EQ(rows(), 3);
  auto mark = high_water_mark();
  ASSERT_TRUE(mark);

  // A transaction that began a few seconds before the mark's records and
  // committed after the polls read past them: its stamp is below the mark.
  const auto late_stamp = shifted(*mark, -3);
  auto late = commit_late(late_stamp, 42);
  ASSERT_EQ(late.size(), 1u);
  // Polls never read it (the keyset starts at the mark): the gap the sweep closes.
  ASSERT_TRUE(wait_polls(3)) << node->output().substr(node->output().size() - 3000);
  EXPECT_EQ(rows(), 3) << "a poll read the late record: the test shows nothing";
  EXPECT_EQ(node->output().find("Sweep of Deal__c"), std::string::npos) << "sweeps are off";

  // Sweeps on, every second over the last 10 minutes, through the admin CLI.
  auto edited = cli({"mapping:edit", "Deal__c", "--sweep-seconds", "1", "--sweep-window-seconds", "600"});
  ASSERT_EQ(edited.code, 0) << edited.output;
  ASSERT_TRUE(wait_until(
    [&] { return scalar(db->url(), "SELECT amount__c FROM salesforce.deal__c WHERE sfid = '" + late[0] + "'") ==
                 "42"; },
    30s))
    << node->output().substr(node->output().size() - 4000);
  EXPECT_EQ(rows(), 4);
  EXPECT_EQ(scalar(db->url(), "SELECT to_char(systemmodstamp, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM "
                              "salesforce.deal__c WHERE sfid = '" + late[0] + "'"),
            late_stamp);
  // The log says what it cost and found: all four records checked, one fetched, one repaired.
  // The line is written once the sweep's job is back at its actor, after the
  // commit the row was seen by: wait for it (the node's output can lag too).
  std::smatch m;
  std::string out;
  const std::regex found("event=\"Sweep of Deal__c found 1 late records\"[^\\n]* checked=(\\d+) "
                         "fetched=1 repaired=1 api_calls=2 object_type=sync");
  ASSERT_TRUE(wait_until([&] {
    out = node->output();
    return std::regex_search(out, m, found);
  }, 10s)) << out.substr(out.size() - 4000);
  EXPECT_EQ(m[1].str(), "4");
  // Later sweeps find nothing more: stamps now agree (one call each, nothing fetched).
  ASSERT_TRUE(wait_until([&] {
    return std::regex_search(node->output(), std::regex("Sweep of Deal__c found 0 late records\"[^\\n]* checked=4 "
                                                        "fetched=0 repaired=0 api_calls=1 "));
  }, 20s)) << node->output().substr(node->output().size() - 3000);
  // Nothing of this was captured for write-back (read-write mapping).
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log_archive"), 0);
  // mapping:state counts it.
  auto state = mapping_state_json();
  ASSERT_TRUE(state.contains("sweep") && state["sweep"].is_object()) << last_cli_output;
  EXPECT_EQ(state["sweep"]["total_fetched"], 1) << state.dump(2);
  EXPECT_EQ(state["sweep"]["total_repaired"], 1) << state.dump(2);
  EXPECT_GE(state["sweep"]["runs"].get<long>(), 2) << state.dump(2);
  EXPECT_EQ(state["config"]["syncforce"]["sweep_seconds"], 1) << state.dump(2);
  auto text = cli({"mapping:state", "Deal__c"});
  EXPECT_NE(text.output.find("sweep at "), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("fetched 1, repaired 1)"), std::string::npos) << text.output;
  // The export keeps Heroku Connect's shape and carries the option where Syncforce's extras go.
  auto exported = cli({"export"});
  ASSERT_EQ(exported.code, 0) << exported.output;
  EXPECT_NE(exported.output.find("\"syncforce\""), std::string::npos) << exported.output;
}

TEST_F(read_repair, after_sweeps_stopped_for_a_while_the_next_one_looks_back_from_the_last) {
  ASSERT_NO_FATAL_FAILURE(create_deals());
  write_config(deal_mapping(json{{"sweep_seconds", 1}, {"sweep_window_seconds", 60}}));
  start_admin_node();
  ASSERT_TRUE(wait_state("Deal__c", "DATA_SYNCED", 60s)) << node->output().substr(0, 4000);
  ASSERT_TRUE(wait_until([&] { return node->output().find("Sweep of Deal__c found 0") != std::string::npos; }, 30s))
    << node->output().substr(node->output().size() - 3000);
  // Sweeps stop (as if blocked, or the node were down); one still running
  // finishes before two polls have run (the mapping runs one thing at a time).
  auto off = cli({"mapping:edit", "Deal__c", "--sweep-seconds", "0"});
  ASSERT_EQ(off.code, 0) << off.output;
  ASSERT_TRUE(wait_polls(2)) << node->output().substr(node->output().size() - 3000);
  auto mark = high_water_mark();
  ASSERT_TRUE(mark);
  // A record committed late, stamped five minutes below the mark: further back
  // than the 60 s window reaches from now, not from the last sweep 20 minutes ago.
  const auto late_stamp = shifted(*mark, -300);
  auto late = commit_late(late_stamp, 7);
  ASSERT_EQ(late.size(), 1u);
  const auto mapping = mapping_field("Deal__c", "id::text");
  ASSERT_TRUE(mapping);
  ASSERT_EQ(count_of(db->url(), "WITH u AS (UPDATE syncforce.read_repairs SET last_run_at = now() - interval "
                                "'20 minutes' WHERE mapping_id = '" + *mapping + "' AND kind = 'sweep' RETURNING 1) "
                                "SELECT count(*) FROM u"),
            1);
  ASSERT_TRUE(wait_polls(1)) << node->output().substr(node->output().size() - 3000);
  EXPECT_EQ(rows(), 3) << "a poll read the late record: the test shows nothing";

  auto on = cli({"mapping:edit", "Deal__c", "--sweep-seconds", "1"});
  ASSERT_EQ(on.code, 0) << on.output;
  ASSERT_TRUE(wait_until(
    [&] { return scalar(db->url(), "SELECT amount__c FROM salesforce.deal__c WHERE sfid = '" + late[0] + "'") ==
                 "7"; },
    30s))
    << "the sweep looked back from now only: " << node->output().substr(node->output().size() - 4000);
  // Its window started 60 s before the last sweep began, 20 minutes ago (the
  // line is logged after the commit: wait for it).
  std::smatch m;
  std::string out;
  ASSERT_TRUE(wait_until([&] {
    out = node->output();
    return std::regex_search(out, m, std::regex("event=\"Sweep of Deal__c found 1 late records\"[^\\n]* "
                                                "window_from=(\\S+) "));
  }, 20s)) << out.substr(out.size() - 4000);
  EXPECT_LE(m[1].str(), shifted(*mark, -300)) << m[0].str();
  // The next sweep looks back from this one's start again: nothing more to fetch.
  ASSERT_TRUE(wait_until([&] {
    return std::regex_search(node->output(), std::regex("Sweep of Deal__c found 0 late records\"[^\\n]* checked=\\d+ "
                                                        "fetched=0 "));
  }, 20s)) << node->output().substr(node->output().size() - 3000);
}

TEST_F(read_repair, a_formula_changed_without_a_new_stamp_is_repaired_quietly) {
  auto account = load_records(*sf, *emu, "Account", json::array({{{"Name", "Acme"}}}));
  ASSERT_EQ(account.size(), 1u);
  // Stamped long ago: the mark has settled, so polls read nothing again (a mark
  // within the settling window is re-read with `>=`, and would pick the new formula up).
  const std::string old_stamp = "2024-04-01T00:00:00.000Z";
  json deals = json::array();
  for (int i = 0; i < 3; ++i)
    deals.push_back({{"Name", "F" + std::to_string(i)}, {"Ext_Id__c", "F-" + std::to_string(i)},
                     {"Account__c", account[0]}, {"SystemModstamp", old_stamp}});
  // One deal of another account: not changed, not repaired.
  auto other = load_records(*sf, *emu, "Account", json::array({{{"Name", "Other"}}}));
  ASSERT_EQ(other.size(), 1u);
  deals.push_back({{"Name", "F9"}, {"Ext_Id__c", "F-9"}, {"Account__c", other[0]}, {"SystemModstamp", old_stamp}});
  ASSERT_EQ(load_records(*sf, *emu, "Deal__c", deals).size(), 4u);
  write_config(deal_mapping(nullptr));
  start_admin_node();
  ASSERT_TRUE(wait_state("Deal__c", "DATA_SYNCED", 60s)) << node->output().substr(0, 4000);
  auto acme_rows = [&](const std::string& name) {
    return count_of(db->url(), "SELECT count(*) FROM salesforce.deal__c WHERE account_name__c = '" + name + "'");
  };
  ASSERT_TRUE(wait_until([&] { return acme_rows("Acme") == 3; }, 20s));

  // The parent is renamed: the formula of three deals changes, their SystemModstamp does not.
  auto renamed = sf->update("Account", {json{{"Id", account[0]}, {"Name", "Acme Two"}}});
  ASSERT_TRUE(renamed) << renamed.error().describe();
  ASSERT_TRUE(wait_polls(3));
  EXPECT_EQ(acme_rows("Acme"), 3) << "polls read the formula: the test shows nothing";

  auto edited = cli({"mapping:edit", "Deal__c", "--formula-repair-seconds", "1"});
  ASSERT_EQ(edited.code, 0) << edited.output;
  ASSERT_TRUE(wait_until([&] { return acme_rows("Acme Two") == 3; }, 30s))
    << node->output().substr(node->output().size() - 4000);
  EXPECT_EQ(acme_rows("Acme"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.deal__c WHERE account_name__c = 'Other'"), 1);
  // Quietly: no trigger-log entry (nothing to write back, nothing echoed), rows stay SYNCED.
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log_archive"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.deal__c WHERE _hc_lastop IS DISTINCT FROM 'SYNCED'"),
            0);
  auto out = node->output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m,
                                std::regex("event=\"Formula repair of Deal__c updated 3 rows of account_name__c\""
                                           "[^\\n]* checked=4 repaired=3 api_calls=1 object_type=sync")))
    << out.substr(out.size() - 4000);
  // The next repairs find nothing to change.
  ASSERT_TRUE(wait_until([&] {
    return node->output().find("Formula repair of Deal__c updated 0 rows") != std::string::npos;
  }, 20s));
  auto state = mapping_state_json();
  ASSERT_TRUE(state.contains("formula_repair") && state["formula_repair"].is_object()) << last_cli_output;
  EXPECT_EQ(state["formula_repair"]["total_repaired"], 3) << state.dump(2);
  EXPECT_EQ(state["formula_repair"]["total_checked"].get<long>() % 4, 0) << state.dump(2);
  auto text = cli({"mapping:state", "Deal__c"});
  EXPECT_NE(text.output.find("formula repair at "), std::string::npos) << text.output;
}

TEST_F(read_repair, a_roll_up_summary_changed_by_its_children_is_repaired_quietly) {
  const std::string old_stamp = "2024-04-01T00:00:00.000Z";
  auto deals = load_records(*sf, *emu, "Deal__c",
                            json::array({{{"Name", "R1"}, {"Ext_Id__c", "R-1"}, {"SystemModstamp", old_stamp}},
                                         {{"Name", "R2"}, {"Ext_Id__c", "R-2"}, {"SystemModstamp", old_stamp}}}));
  ASSERT_EQ(deals.size(), 2u);
  auto lines = load_records(*sf, *emu, "Line__c",
                            json::array({{{"Deal__c", deals[0]}, {"Amount__c", 10}},
                                         {{"Deal__c", deals[0]}, {"Amount__c", 5.5}},
                                         {{"Deal__c", deals[1]}, {"Amount__c", 1}}}));
  ASSERT_EQ(lines.size(), 3u);
  write_config(deal_mapping(nullptr, {"Line_Total__c"}));
  start_admin_node();
  ASSERT_TRUE(wait_state("Deal__c", "DATA_SYNCED", 60s)) << node->output().substr(0, 4000);
  auto total_of = [&](const std::string& ext) {
    return count_of(db->url(), "SELECT (line_total__c * 100)::bigint FROM salesforce.deal__c WHERE ext_id__c = '" +
                                 ext + "'");
  };
  ASSERT_TRUE(wait_until([&] { return total_of("R-1") == 1550; }, 20s)) << total_of("R-1");
  EXPECT_EQ(total_of("R-2"), 100);

  // A child changes and another is added: the parent's roll-up moves, its SystemModstamp does not.
  auto changed = sf->update("Line__c", {json{{"Id", lines[0]}, {"Amount__c", 20}}});
  ASSERT_TRUE(changed) << changed.error().describe();
  ASSERT_EQ(load_records(*sf, *emu, "Line__c", json::array({{{"Deal__c", deals[0]}, {"Amount__c", 4.5}}})).size(), 1u);
  ASSERT_TRUE(wait_polls(3));
  EXPECT_EQ(total_of("R-1"), 1550) << "polls read the roll-up: the test shows nothing";

  auto edited = cli({"mapping:edit", "Deal__c", "--formula-repair-seconds", "1"});
  ASSERT_EQ(edited.code, 0) << edited.output;
  ASSERT_TRUE(wait_until([&] { return total_of("R-1") == 3000; }, 30s))
    << total_of("R-1") << "\n" << node->output().substr(node->output().size() - 4000);
  EXPECT_EQ(total_of("R-2"), 100);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log"), 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.deal__c WHERE _hc_lastop IS DISTINCT FROM 'SYNCED'"),
            0);
  auto out = node->output();
  EXPECT_NE(out.find("Formula repair of Deal__c updated 1 rows"), std::string::npos) << out.substr(out.size() - 4000);
}
