// The Prometheus endpoint of a real node: counters move with a load, a poll and
// write-back (accepted and refused), the gauges read from the control schema at
// scrape time say what the database holds, and bad --metrics-address values are refused.

#include "metrics/control_gauges.hpp"
#include "metrics/server.hpp"
#include "store/hc_schema.hpp"
#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <httplib.h>
#include <prometheus/text_serializer.h>

#include <regex>
#include <sstream>

namespace syncforce::testing {
namespace {

/// The value of the sample `name{labels}` in a Prometheus text exposition;
/// `labels` as they are written (sorted by name), empty for none.
std::optional<double> sample(const std::string& text, const std::string& name, const std::string& labels = "") {
  const auto key = labels.empty() ? name + " " : name + "{" + labels + "} ";
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0)
      return std::stod(line.substr(key.size()));
  return std::nullopt;
}

struct metrics_node : sync_read {
  int metrics_port() {
    std::smatch m;
    std::regex re{"Metrics server listening.* port=([0-9]+)"};
    std::string out;
    if (!wait_until([&] { out = node->output(); return std::regex_search(out, m, re); }, 20s, 20ms))
      return 0;
    return std::stoi(m[1].str());
  }

  std::string scrape() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    auto r = c.Get("/metrics");
    if (!r || r->status != 200) {
      ADD_FAILURE() << "GET /metrics failed";
      return {};
    }
    return r->body;
  }

  /// Waits until the sample exists and `ok` holds for its value.
  bool wait_sample(const std::string& name, const std::string& labels, const std::function<bool(double)>& ok,
                   std::chrono::milliseconds timeout = 30s) {
    return wait_until(
      [&] {
        auto v = sample(scrape(), name, labels);
        return v && ok(*v);
      },
      timeout, 100ms);
  }

  int port = 0;
};

json read_write_mapping() {
  auto m = every_mapping();
  m[0]["config"]["access"] = "read_write";
  return m;
}

const std::string every = "object=\"Every__c\",schema=\"salesforce\"";

TEST_F(metrics_node, counters_and_gauges_move_with_load_poll_and_write_back) {
  json records = json::array();
  for (int i = 0; i < 30; ++i)
    records.push_back({{"Name", "M" + std::to_string(i)}, {"Ext_Id__c", "M-" + std::to_string(i)}});
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", records).size(), 30u);
  write_config(read_write_mapping());
  start_node(10000, {"--metrics-address", "127.0.0.1:0"});
  port = metrics_port();
  ASSERT_GT(port, 0) << node->output();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();

  // The load: every row counted once, its duration observed.
  ASSERT_TRUE(wait_sample("syncforce_rows_loaded_total", every, [](double v) { return v >= 30; }));
  auto text = scrape();
  EXPECT_EQ(sample(text, "syncforce_rows_loaded_total", every), 30);
  EXPECT_EQ(sample(text, "syncforce_load_duration_seconds_count", every), 1);
  EXPECT_EQ(sample(text, "syncforce_database_up"), 1);
  EXPECT_EQ(sample(text, "syncforce_mapping_state", every + ",state=\"DATA_SYNCED\""), 1);
  EXPECT_EQ(sample(text, "syncforce_mappings", "state=\"DATA_SYNCED\""), 1);
  auto lag = sample(text, "syncforce_sync_lag_seconds", every);
  ASSERT_TRUE(lag.has_value()) << text;
  EXPECT_GE(*lag, 0);
  EXPECT_LT(*lag, 600); // the records were made just now
  EXPECT_EQ(sample(text, "syncforce_trigger_log_backlog", "schema=\"salesforce\",state=\"NEW\""), 0);
  EXPECT_EQ(sample(text, "syncforce_trigger_log_oldest_new_age_seconds", "schema=\"salesforce\""), 0);
  EXPECT_EQ(sample(text, "syncforce_lease_moves_total", "kind=\"mapping\""), 0);
  EXPECT_EQ(sample(text, "syncforce_lease_fencing_refusals_total", "kind=\"writer\""), 0);
  EXPECT_GT(sample(text, "process_resident_memory_bytes").value_or(0), 1e6);
  EXPECT_GT(sample(text, "process_open_fds").value_or(0), 3);
  // sfemu answers with Sforce-Limit-Info; the integration user reports it.
  const std::string user = "user=\"admin@sfemu.local\"";
  ASSERT_TRUE(wait_sample("syncforce_api_calls_used", user, [](double v) { return v > 0; })) << scrape();
  text = scrape();
  auto used = sample(text, "syncforce_api_calls_used", user);
  auto limit = sample(text, "syncforce_api_calls_limit", user);
  auto remaining = sample(text, "syncforce_api_calls_remaining", user);
  ASSERT_TRUE(used && limit && remaining) << text;
  EXPECT_EQ(*used + *remaining, *limit);
  EXPECT_EQ(sample(text, "syncforce_query_cursors_waiting", user), 0);
  // No record id ever becomes a label.
  EXPECT_EQ(text.find("sfid="), std::string::npos);
  EXPECT_EQ(text.find("a0E"), std::string::npos);

  // A poll: the new records are counted as polled, not loaded. (Polls re-read
  // records at a mark younger than the settle time, so count from what is there.)
  const double polled_before = sample(scrape(), "syncforce_rows_polled_total", every).value_or(0);
  json more = json::array();
  for (int i = 0; i < 5; ++i)
    more.push_back({{"Name", "N" + std::to_string(i)}, {"Ext_Id__c", "N-" + std::to_string(i)}});
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", more).size(), 5u);
  EXPECT_TRUE(wait_sample("syncforce_rows_polled_total", every,
                          [&](double v) { return v >= polled_before + 5; }))
    << node->output();
  ASSERT_TRUE(wait_until([&] { return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c") == 35; }, 20s));
  text = scrape();
  EXPECT_EQ(sample(text, "syncforce_rows_loaded_total", every), 30);
  EXPECT_GE(sample(text, "syncforce_poll_duration_seconds_count", every).value_or(0), 1);
  EXPECT_GT(sample(text, "syncforce_last_poll_success_timestamp_seconds", every).value_or(0), 1.7e9);

  // Write-back: one insert Salesforce accepts, one it refuses (invalid email).
  {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec0("INSERT INTO salesforce.every__c (name, ext_id__c) VALUES ('Local', 'L-1')");
    tx.exec0("INSERT INTO salesforce.every__c (name, ext_id__c, mail__c) VALUES ('Bad', 'L-2', 'not an email')");
    tx.commit();
  }
  const std::string insert_labels = "object=\"Every__c\",operation=\"INSERT\",schema=\"salesforce\"";
  EXPECT_TRUE(wait_sample("syncforce_rows_written_total", insert_labels, [](double v) { return v >= 1; }))
    << scrape() << node->output();
  EXPECT_TRUE(wait_sample("syncforce_write_errors_total", insert_labels, [](double v) { return v >= 1; }))
    << scrape();
  text = scrape();
  EXPECT_EQ(sample(text, "syncforce_rows_written_total", insert_labels), 1);
  EXPECT_EQ(sample(text, "syncforce_write_errors_total", insert_labels), 1);
  EXPECT_TRUE(wait_sample("syncforce_trigger_log_backlog", "schema=\"salesforce\",state=\"NEW\"",
                          [](double v) { return v == 0; }));
  stop_node();
}

TEST_F(metrics_node, a_bad_or_taken_metrics_address_stops_the_node_with_a_clear_error) {
  write_config(every_mapping());
  std::vector<std::string> args{bin_path("syncforced"), "--database-url", db->url(), "--grpc-address",
                                "127.0.0.1:0", "--metrics-address", "127.0.0.1:99999"};
  auto bad = child_process::start(args, {});
  auto code = bad->wait_exit(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE(bad->output().find("--metrics-address (SYNCFORCE_METRICS_ADDRESS) '127.0.0.1:99999'"), std::string::npos)
    << bad->output();

  // A port another process listens on: the node says so and exits 1.
  httplib::Server taken;
  auto taken_port = taken.bind_to_any_port("127.0.0.1");
  ASSERT_GT(taken_port, 0);
  args[args.size() - 1] = "127.0.0.1:" + std::to_string(taken_port);
  auto busy = child_process::start(args, {});
  code = busy->wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << busy->output();
  EXPECT_EQ(*code, 1);
  EXPECT_NE(busy->output().find("Cannot start the metrics server"), std::string::npos) << busy->output();
}

/// The scrape-time gauges against a control schema prepared by hand: a backlog
/// with an old NEW entry, leases of this node and of another, an unreachable database.
TEST(control_gauges, read_backlog_age_and_leases_from_the_database) {
  auto url = test_database_url();
  if (!url)
    GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test starts PostgreSQL)";
  scratch_database db(*url, "metrics_gauges");
  {
    pqxx::connection c(db.url());
    store::migrate_control_schema(c);
    pqxx::work tx(c);
    tx.exec0("INSERT INTO syncforce.connections (name, schema_name, login_url, auth_method, username, secret_ref) "
             "VALUES ('a', 'sales', 'https://login.salesforce.com', 'password', 'u@x', 'env:SF_A'), "
             "('b', 'unmade', 'https://login.salesforce.com', 'password', 'u@x', 'env:SF_B')");
    store::ensure_connection_schema(tx, "sales");
    tx.exec0("INSERT INTO sales._trigger_log (action, table_name, txid, created_at, state, record_id) VALUES "
             "('INSERT', 'contact', 1, now() - interval '1 hour', 'NEW', 1), "
             "('INSERT', 'contact', 1, now() - interval '1 minute', 'NEW', 2), "
             "('UPDATE', 'contact', 2, now(), 'PENDING', 3), "
             "('UPDATE', 'contact', 3, now() - interval '2 hours', 'SUCCESS', 4)");
    // A lease is held while its owner node is live (docs/cluster.md): 'gone' expired.
    tx.exec0("INSERT INTO syncforce.nodes (name, grpc_address, version, expires_at) VALUES "
             "('me', 'a:1', 't', now() + interval '1 minute'), ('other', 'b:1', 't', now() + interval '1 minute'), "
             "('gone', 'c:1', 't', now() - interval '1 minute')");
    tx.exec0("INSERT INTO syncforce.leases (kind, key, owner_node, epoch) VALUES "
             "('mapping', 'm1', 'me', 1), ('mapping', 'm2', 'me', 1), ('mapping', 'm3', 'gone', 1), "
             "('mapping', 'm4', 'other', 1)");
    tx.commit();
  }
  metrics::control_gauges gauges(db.url(), "me");
  auto text = prometheus::TextSerializer{}.Serialize(gauges.Collect());
  EXPECT_EQ(sample(text, "syncforce_database_up"), 1) << text;
  EXPECT_EQ(sample(text, "syncforce_trigger_log_backlog", "schema=\"sales\",state=\"NEW\""), 2) << text;
  EXPECT_EQ(sample(text, "syncforce_trigger_log_backlog", "schema=\"sales\",state=\"PENDING\""), 1);
  auto age = sample(text, "syncforce_trigger_log_oldest_new_age_seconds", "schema=\"sales\"");
  ASSERT_TRUE(age.has_value());
  EXPECT_GE(*age, 3600);
  EXPECT_LT(*age, 3700);
  // A connection whose schema is not made yet has no trigger log to count.
  EXPECT_EQ(text.find("schema=\"unmade\""), std::string::npos);
  EXPECT_EQ(sample(text, "syncforce_leases_held", "kind=\"mapping\""), 2); // another's, or a dead node's, are not
  EXPECT_EQ(sample(text, "syncforce_leases_held", "kind=\"writer\""), 0);

  // The database gone: the scrape still answers, saying it could not read.
  metrics::control_gauges unreachable("postgresql://nobody@127.0.0.1:1/none", "me");
  text = prometheus::TextSerializer{}.Serialize(unreachable.Collect());
  EXPECT_EQ(sample(text, "syncforce_database_up"), 0) << text;
  EXPECT_EQ(text.find("syncforce_trigger_log_backlog"), std::string::npos);
}

TEST(control_gauges, a_connect_timeout_is_added_to_either_form_of_database_url) {
  EXPECT_EQ(metrics::with_connect_timeout("postgresql://u@h/db", 3), "postgresql://u@h/db?connect_timeout=3");
  EXPECT_EQ(metrics::with_connect_timeout("postgresql://u@h/db?sslmode=require", 3),
            "postgresql://u@h/db?sslmode=require&connect_timeout=3");
  EXPECT_EQ(metrics::with_connect_timeout("host=h dbname=db", 3), "host=h dbname=db connect_timeout=3");
}

} // namespace
} // namespace syncforce::testing
