// Accelerated sync (docs/sync-read.md, "Change events"): a mapping with
// sf_notify_enabled subscribes to its object's change events over the Pub/Sub
// API and applies them. The periodic poll is left at its production interval
// (120 s, no SYNCFORCE_TEST_POLL_SECONDS), so within a test only events and the
// catch-up polls the subscription asks for can move data; the log's poll lines
// and syncforce.change_event_marks tell which path did what.
// Real syncforced, real sfemu (--pubsub-port), real PostgreSQL.

#include "tests/integration/sync_read/sync_read_fixture.hpp"
#include "tests/support/node.hpp"

#include <regex>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

json accelerated_mapping(const std::string& access = "read_only") {
  auto m = every_mapping();
  m[0]["config"]["sf_notify_enabled"] = true;
  m[0]["config"]["access"] = access;
  return m;
}

} // namespace

struct change_events : sync_read {
  void SetUp() override {
    sync_read::SetUp();
    if (IsSkipped())
      return;
    emu.reset();
    emu = std::make_unique<sfemu_process>(std::vector<std::string>{"--org", org_path, "--pubsub-port", "0"});
    std::smatch m;
    auto out = emu->process().output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(sfemu pubsub on 127\.0\.0\.1:(\d+))"))) << out;
    pubsub_port = m[1].str();
    // The test's own writes carry a client name of their own: the engine's is `syncforce/<node>`.
    auto cfg = sf_config(*emu);
    cfg.client_name = "cdc-it-user";
    sf = std::make_unique<salesforce::client>(cfg);
  }

  /// The node with production poll intervals (120 s): only events and catch-up polls move data here.
  void start_events_node() {
    std::vector<std::string> args{bin_path("syncforced"), "--database-url", db->url(), "--grpc-address",
                                  "127.0.0.1:0", "--node-name", "it-node", "--config", config_path,
                                  "--log-level", "debug", "--pubsub-endpoint", "http://127.0.0.1:" + pubsub_port};
    auto env = node_env;
    env["SF_TEST_PASSWORD"] = "sfemu";
    streams_before_ = control("GET", "cdc")["streams_opened"].get<long>();
    node = child_process::start(args, {env.begin(), env.end()});
  }

  long streams_before_ = 0; ///< sfemu's streams_opened when the node started

  std::size_t polls() { return occurrences(node->output(), "Polling Salesforce found"); }
  std::size_t subscriptions() { return occurrences(node->output(), "Subscribed to change events"); }

  /// Waits for the node's subscription `n` and the catch-up poll it asks for when it starts from the newest event.
  void wait_subscribed(std::size_t n, bool with_catch_up) {
    ASSERT_TRUE(wait_until([&] { return subscriptions() >= n; }, 60s)) << tail();
    // The node's log line says its request left; sfemu says when a stream's position was
    // taken (one refused, e.g. for a replay id too old, takes none). A change made in between
    // would be neither streamed nor seen by the catch-up poll (it comes with the next regular
    // poll: 120 s here).
    ASSERT_TRUE(
      wait_until([&] { return control("GET", "cdc")["streams_opened"].get<long>() > streams_before_; }, 60s))
      << tail();
    if (with_catch_up) {
      auto at = node->output().rfind("Subscribed to change events");
      ASSERT_TRUE(wait_until([&] { return node->output().find("Polling Salesforce found", at) != std::string::npos; },
                             30s))
        << tail();
    }
  }

  std::string tail() {
    auto out = node->output();
    return out.size() > 6000 ? out.substr(out.size() - 6000) : out;
  }

  std::optional<std::string> value(const std::string& sfid, const std::string& column) {
    return scalar(db->url(), "SELECT " + column + "::text FROM salesforce.every__c WHERE sfid = '" + sfid + "'");
  }
  long rows_with(const std::string& sfid) {
    return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c WHERE sfid = '" + sfid + "'");
  }
  long mark(const std::string& column) {
    auto v = scalar(db->url(), "SELECT " + column + " FROM syncforce.change_event_marks");
    return v ? std::stol(*v) : -1;
  }
  long latest_replay() { return control("GET", "cdc")["latest_replay_id"].get<long>(); }

  std::string create(const json& fields) {
    auto r = sf->create("Every__c", {fields});
    EXPECT_TRUE(r && r->size() == 1 && (*r)[0].success) << (r ? "" : r.error().describe());
    return r && !r->empty() ? (*r)[0].id : std::string{};
  }
  void update(const json& fields) {
    auto r = sf->update("Every__c", {fields});
    ASSERT_TRUE(r && r->size() == 1 && (*r)[0].success) << (r ? "" : r.error().describe());
  }

  std::string pubsub_port;
};

TEST_F(change_events, create_update_delete_undelete_arrive_by_event_not_by_poll) {
  write_config(accelerated_mapping());
  start_events_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << tail();
  wait_subscribed(1, true);
  const auto polls_before = polls();

  // CREATE: every carried field arrives, in PostgreSQL's types.
  auto id = create({{"Name", "evt"}, {"Ext_Id__c", "E-1"}, {"Text__c", "first"}, {"Count__c", 7},
                    {"Flag__c", true}, {"Ratio__c", 1.25}, {"Day__c", "2026-03-04"},
                    {"At__c", "2026-03-04T05:06:07.000+0000"}, {"Clock__c", "08:09:10.000Z"}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_until([&] { return rows_with(id) == 1; }, 20s)) << tail();
  EXPECT_EQ(value(id, "text__c"), "first");
  EXPECT_EQ(value(id, "count__c"), "7");
  EXPECT_EQ(value(id, "flag__c"), "true");
  EXPECT_EQ(value(id, "ratio__c"), "1.25");
  EXPECT_EQ(value(id, "day__c"), "2026-03-04");
  EXPECT_EQ(value(id, "at__c"), "2026-03-04 05:06:07");
  EXPECT_EQ(value(id, "clock__c"), "08:09:10");
  EXPECT_EQ(value(id, "isdeleted"), "false");
  EXPECT_TRUE(value(id, "systemmodstamp"));

  // UPDATE: only the changed field; the others keep their values (the event does not carry them).
  update({{"Id", id}, {"Text__c", "second"}});
  ASSERT_TRUE(wait_until([&] { return value(id, "text__c") == "second"; }, 20s)) << tail();
  EXPECT_EQ(value(id, "count__c"), "7");
  EXPECT_EQ(value(id, "ratio__c"), "1.25");
  EXPECT_EQ(value(id, "name"), "evt");
  // A field set to null (nulledFields).
  update({{"Id", id}, {"Count__c", nullptr}});
  ASSERT_TRUE(wait_until([&] { return !value(id, "count__c"); }, 20s)) << tail();
  EXPECT_EQ(value(id, "text__c"), "second");

  // DELETE, then UNDELETE (out of the recycle bin).
  auto del = sf->remove({id});
  ASSERT_TRUE(del && (*del)[0].success);
  ASSERT_TRUE(wait_until([&] { return rows_with(id) == 0; }, 20s)) << tail();
  control("POST", "undelete", json{{"ids", {id}}});
  ASSERT_TRUE(wait_until([&] { return rows_with(id) == 1; }, 20s)) << tail();
  EXPECT_EQ(value(id, "text__c"), "second");

  // None of it came by poll: no poll ran since the subscription's catch-up.
  EXPECT_EQ(polls(), polls_before) << tail();
  auto out = node->output();
  EXPECT_NE(out.find("event=\"Change events applied 1 records\""), std::string::npos) << tail();
  // The mark is the newest event, stored with the rows; five events applied, none an echo.
  ASSERT_TRUE(wait_until([&] { return mark("replay_id") == latest_replay(); }, 10s)) << tail();
  EXPECT_EQ(mark("events"), 5);
  EXPECT_EQ(mark("applied"), 5);
  EXPECT_EQ(mark("echoes"), 0);
  EXPECT_EQ(mark("catch_ups"), 0);
  // The access token never reaches the log.
  EXPECT_EQ(out.find("accesstoken"), std::string::npos);
}

TEST_F(change_events, restart_resumes_from_the_stored_replay_id) {
  write_config(accelerated_mapping());
  start_events_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << tail();
  wait_subscribed(1, true);
  auto a = create({{"Name", "a"}, {"Ext_Id__c", "R-a"}, {"Text__c", "a0"}});
  ASSERT_TRUE(wait_until([&] { return rows_with(a) == 1 && mark("replay_id") == latest_replay(); }, 20s)) << tail();
  const long events_before = mark("events");
  stop_node();

  // While the node is down: two updates and a create.
  update({{"Id", a}, {"Text__c", "a1"}});
  update({{"Id", a}, {"Count__c", 3}});
  auto b = create({{"Name", "b"}, {"Ext_Id__c", "R-b"}, {"Text__c", "b0"}});
  const long latest = latest_replay();

  start_events_node();
  wait_subscribed(1, false);
  // Resumed right after the stored id (no catch-up poll asked for: nothing was lost).
  auto out = node->output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("Subscribed to change events\"[^\\n]* replay_from=(\\d+)")))
    << tail();
  EXPECT_EQ(std::stol(m[1].str()), latest - 3);
  ASSERT_TRUE(wait_until([&] { return mark("replay_id") == latest; }, 30s)) << tail();
  EXPECT_EQ(value(a, "text__c"), "a1");
  EXPECT_EQ(value(a, "count__c"), "3");
  EXPECT_EQ(rows_with(b), 1);
  EXPECT_EQ(value(b, "text__c"), "b0");
  // Each missed event applied exactly once: three more events, not six.
  EXPECT_EQ(mark("events"), events_before + 3);
  EXPECT_EQ(mark("catch_ups"), 0);
}

TEST_F(change_events, a_gap_is_caught_up_by_a_poll) {
  write_config(accelerated_mapping());
  start_events_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << tail();
  wait_subscribed(1, true);
  const auto polls_before = polls();
  // A record written behind Salesforce's back (no event), then the gap event Salesforce sends for it.
  auto ids = load_records(*sf, *emu, "Every__c", json::array({{{"Name", "gap"}, {"Ext_Id__c", "G-1"},
                                                                 {"Text__c", "from the gap"}}}));
  ASSERT_EQ(ids.size(), 1u);
  control("POST", "cdc/gap", json{{"object", "Every__c"}, {"type", "GAP_CREATE"}, {"ids", ids}});
  ASSERT_TRUE(wait_until([&] { return value(ids[0], "text__c") == "from the gap"; }, 30s)) << tail();
  EXPECT_GT(polls(), polls_before) << "the row must have come by a catch-up poll";
  EXPECT_EQ(mark("catch_ups"), 1);
  EXPECT_EQ(mark("replay_id"), latest_replay());
}

TEST_F(change_events, a_replay_id_too_old_falls_back_to_a_poll_and_nothing_is_lost) {
  write_config(accelerated_mapping());
  start_events_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << tail();
  wait_subscribed(1, true);
  auto a = create({{"Name", "a"}, {"Ext_Id__c", "X-a"}, {"Text__c", "before"}});
  ASSERT_TRUE(wait_until([&] { return rows_with(a) == 1 && mark("replay_id") == latest_replay(); }, 20s)) << tail();
  stop_node();
  // A change, then 73 hours: its event is gone when the node comes back.
  update({{"Id", a}, {"Text__c", "while away"}});
  control("POST", "clock", json{{"advance_seconds", 73 * 3600}});
  start_events_node();
  ASSERT_TRUE(wait_until([&] { return node->output().find("Change event replay id too old") != std::string::npos; },
                         60s))
    << tail();
  // Resubscribed from the newest event, with a catch-up poll: the change arrives.
  wait_subscribed(2, true);
  ASSERT_TRUE(wait_until([&] { return value(a, "text__c") == "while away"; }, 30s)) << tail();
  EXPECT_GE(mark("catch_ups"), 1);
  // Events flow again from the new position.
  update({{"Id", a}, {"Text__c", "after"}});
  ASSERT_TRUE(wait_until([&] { return value(a, "text__c") == "after"; }, 20s)) << tail();
  ASSERT_TRUE(wait_until([&] { return mark("replay_id") == latest_replay(); }, 10s)) << tail();
}

TEST_F(change_events, the_engines_own_writes_are_not_applied_again) {
  write_config(accelerated_mapping("read_write"));
  start_events_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << tail();
  wait_subscribed(1, true);
  {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO salesforce.every__c (name, ext_id__c, text__c) VALUES ('local', 'L-1', 'from pg')");
    tx.commit();
  }
  // Written back once: the row learns its sfid.
  ASSERT_TRUE(wait_until([&] {
    return scalar(db->url(), "SELECT sfid FROM salesforce.every__c WHERE ext_id__c = 'L-1'").has_value();
  }, 30s)) << tail();
  auto sfid = *scalar(db->url(), "SELECT sfid FROM salesforce.every__c WHERE ext_id__c = 'L-1'");
  // Its event (changeOrigin client=syncforce/it-node) is an echo: counted, not applied.
  ASSERT_TRUE(wait_until([&] { return mark("echoes") == 1 && mark("replay_id") == latest_replay(); }, 20s))
    << tail();
  EXPECT_EQ(mark("applied"), 0);
  EXPECT_EQ(value(sfid, "_hc_lastop"), "SYNCED");
  // Exactly one change captured and sent for it, nothing echoed back into the trigger log.
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log") +
              count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log_archive"),
            1);
  // Salesforce has it once.
  auto q = control("GET", "cdc/events?entity=Every__c");
  long creates = 0;
  for (const auto& e : q["events"])
    if (e["ChangeEventHeader"]["changeType"] == "CREATE")
      ++creates;
  EXPECT_EQ(creates, 1);
}

// Another user's change committed before a write-back comes before the write's
// own event, but a subscriber that lags applies it only after the write-back was
// recorded. Skipping the engine's own event as an echo left the older value in
// the row for good (polls and sweeps see the record's stamp); the echo of an
// UPDATE is applied and sets the written value back. Deterministic order here:
// the subscription is off while the write-back happens, then resumes from its
// stored replay id; sfemu's clock is frozen, so every stamp ties and no stamp
// refuses the older event.
TEST_F(change_events, an_older_change_applied_after_a_write_back_is_undone_by_the_writes_own_event) {
  const std::string token = "change-events-token-for-tests-7c2e";
  node_env["SYNCFORCE_ADMIN_TOKEN"] = token;
  write_config(accelerated_mapping("read_write"));
  start_events_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << tail();
  ASSERT_TRUE(wait_until([&] { return node->output().find("gRPC server listening") != std::string::npos; }, 20s));
  std::smatch m;
  auto out = node->output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("gRPC server listening\" port=(\\d+)"))) << out;
  const std::string server = "127.0.0.1:" + m[1].str();
  wait_subscribed(1, true);
  auto a = create({{"Name", "a"}, {"Ext_Id__c", "W-a"}, {"Text__c", "a0"}});
  ASSERT_TRUE(wait_until([&] { return value(a, "text__c") == "a0" && mark("replay_id") == latest_replay(); }, 20s))
    << tail();
  control("POST", "clock", json{{"freeze", true}});

  // No subscription for a while (the stored replay id stays).
  const auto polls_at_off = polls();
  auto off = run_cli(server, {"mapping:edit", "Every__c", "--accelerated", "off"}, token);
  ASSERT_EQ(off.code, 0) << off.output;
  ASSERT_TRUE(wait_until([&] { return polls() > polls_at_off; }, 30s)) << tail();
  // Another user's change, then a local one of the same record, written back.
  update({{"Id", a}, {"Text__c", "theirs"}});
  {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec("UPDATE salesforce.every__c SET text__c = 'ours' WHERE sfid = '" + a + "'");
    tx.commit();
  }
  ASSERT_TRUE(wait_until([&] {
    return count_of(db->url(), "SELECT count(*) FROM (SELECT action, state FROM salesforce._trigger_log UNION ALL "
                               "SELECT action, state FROM salesforce._trigger_log_archive) l "
                               "WHERE action = 'UPDATE' AND state = 'SUCCESS'") == 1;
  }, 30s)) << tail();
  ASSERT_EQ(value(a, "text__c"), "ours");

  // Resumed after the stored replay id: the other user's event, then the write's own.
  const auto subscribed_before = subscriptions();
  auto on = run_cli(server, {"mapping:edit", "Every__c", "--accelerated", "on"}, token);
  ASSERT_EQ(on.code, 0) << on.output;
  ASSERT_TRUE(wait_until([&] { return mark("replay_id") == latest_replay(); }, 30s)) << tail();
  EXPECT_GT(subscriptions(), subscribed_before);
  EXPECT_EQ(value(a, "text__c"), "ours") << tail();
  EXPECT_GE(mark("echoes"), 1);
  // The write's event set the value back (the older one had been applied over it).
  EXPECT_NE(node->output().find("restored=1"), std::string::npos) << tail();
  // Quietly: nothing captured, nothing written back again.
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log") +
              count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log_archive"),
            1);
  EXPECT_EQ(value(a, "_hc_lastop"), "SYNCED");
}

TEST_F(change_events, turned_on_with_the_cli_and_exported_as_sf_notify_enabled) {
  const std::string token = "change-events-token-for-tests-7c2e";
  node_env["SYNCFORCE_ADMIN_TOKEN"] = token;
  write_config(every_mapping()); // sf_notify_enabled false: polls only
  start_events_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << tail();
  std::smatch m;
  ASSERT_TRUE(wait_until([&] { return node->output().find("gRPC server listening") != std::string::npos; }, 20s));
  auto out = node->output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("gRPC server listening\" port=(\\d+)"))) << out;
  const std::string server = "127.0.0.1:" + m[1].str();
  EXPECT_EQ(subscriptions(), 0u) << "no subscription without sf_notify_enabled";

  auto bad = run_cli(server, {"mapping:edit", "Every__c", "--accelerated", "maybe"}, token);
  EXPECT_NE(bad.code, 0) << bad.output;
  auto edited = run_cli(server, {"mapping:edit", "Every__c", "--accelerated", "on"}, token);
  ASSERT_EQ(edited.code, 0) << edited.output;
  wait_subscribed(1, true);
  const auto polls_before = polls();
  auto id = create({{"Name", "cli"}, {"Ext_Id__c", "C-1"}, {"Text__c", "by event"}});
  ASSERT_TRUE(wait_until([&] { return value(id, "text__c") == "by event"; }, 20s)) << tail();
  EXPECT_EQ(polls(), polls_before) << tail();

  auto exported = run_cli(server, {"export"}, token);
  ASSERT_EQ(exported.code, 0) << exported.output;
  auto start = exported.output.find('{');
  ASSERT_NE(start, std::string::npos) << exported.output;
  auto doc = json::parse(exported.output.substr(start), nullptr, false);
  ASSERT_TRUE(doc.is_object()) << exported.output;
  EXPECT_EQ(doc["mappings"][0]["config"]["sf_notify_enabled"], true) << exported.output;

  // Off again: the mapping restarts (it polls at once) and does not subscribe again.
  const auto polls_at_off = polls();
  auto off = run_cli(server, {"mapping:edit", "Every__c", "--accelerated", "off"}, token);
  ASSERT_EQ(off.code, 0) << off.output;
  EXPECT_EQ(scalar(db->url(), "SELECT config->>'sf_notify_enabled' FROM syncforce.mappings"), "false");
  ASSERT_TRUE(wait_until([&] { return polls() > polls_at_off; }, 30s)) << tail();
  EXPECT_EQ(subscriptions(), 1u) << tail();
}

// Issue 14's zero-loss run, in short: a stream of changes while sfemu drops the
// subscription mid-flow (before a batch is sent, and after one was sent) and the node
// is killed with SIGKILL and started again. Every change arrives, none is applied
// twice: the stored mark counts each event once, the values are the last ones
// written, and the table holds each record once.
TEST_F(change_events, dropped_streams_and_a_kill_9_lose_and_repeat_nothing) {
  write_config(accelerated_mapping());
  start_events_node();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << tail();
  wait_subscribed(1, true);
  const long events_before = std::max(0L, mark("events"));

  constexpr int records = 12;
  std::vector<std::string> ids;
  for (int i = 0; i < records; ++i)
    ids.push_back(create({{"Name", "z" + std::to_string(i)}, {"Ext_Id__c", "Z-" + std::to_string(i)},
                          {"Text__c", "v0"}}));
  ASSERT_TRUE(wait_until([&] { return mark("replay_id") == latest_replay(); }, 30s)) << tail();

  // Batches dropped: two before they go out, up to two after.
  control("POST", "faults", json::array({{{"route", "PubSub/Subscribe"}, {"action", "drop"}, {"count", 2}},
                                         {{"route", "PubSub/Subscribe"}, {"action", "drop"}, {"after", true},
                                          {"count", 2}}}));
  constexpr int rounds = 4;
  std::map<std::string, std::string> last;
  for (int round = 1; round <= rounds; ++round) {
    for (int i = 0; i < records; ++i) {
      std::string v = "v" + std::to_string(round) + "-" + std::to_string(i);
      update({{"Id", ids[static_cast<std::size_t>(i)]}, {"Text__c", v}});
      last[ids[static_cast<std::size_t>(i)]] = v;
    }
    if (round == 2) {
      // Mid-flow: the node dies without a word; changes go on while it is down.
      ASSERT_TRUE(node->signal(SIGKILL));
      ASSERT_TRUE(node->wait_exit(20s).has_value());
    }
    if (round == 3)
      start_events_node();
  }
  const long latest = latest_replay();
  ASSERT_TRUE(wait_until([&] { return mark("replay_id") == latest; }, 90s)) << tail();
  for (const auto& [id, v] : last)
    EXPECT_EQ(value(id, "text__c"), v) << id;
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.every__c WHERE ext_id__c LIKE 'Z-%'"), records);
  EXPECT_EQ(count_of(db->url(), "SELECT count(DISTINCT sfid) FROM salesforce.every__c WHERE ext_id__c LIKE 'Z-%'"),
            records);
  // Every event counted exactly once in the mark stored with the rows: 12 creates and 48 updates.
  EXPECT_EQ(mark("events") - events_before, records * (1 + rounds)) << tail();
  EXPECT_EQ(mark("catch_ups"), 0) << "a drop or a restart resumes from the stored replay id, no poll needed";
  // The faults did hit the streams: both kinds of drop happened (how many batches the
  // changes came in, and so how many the "after" rule saw, depends on timing).
  auto faults = control("GET", "faults");
  ASSERT_EQ(faults["faults"].size(), 2u) << faults.dump();
  EXPECT_EQ(faults["faults"][0].value("hits", 0L), 2) << faults.dump();
  EXPECT_GE(faults["faults"][1].value("hits", 0L), 1) << faults.dump();
}
