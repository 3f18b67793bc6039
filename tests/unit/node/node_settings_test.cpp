#include "sync/node_settings.hpp"

#include <algorithm>
#include <gtest/gtest.h>

using namespace syncforce;

namespace {

node_settings valid() {
  node_settings s;
  s.database_url = "postgresql://u@localhost/db";
  s.node_name = "node-1";
  return s;
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST(node_settings, a_valid_configuration_has_no_problems) {
  EXPECT_TRUE(validate(valid()).empty());
  auto kv = valid();
  kv.database_url = "host=localhost dbname=app";
  EXPECT_TRUE(validate(kv).empty());
}

TEST(node_settings, reports_every_problem_naming_the_setting) {
  node_settings s;
  s.database_url = "";
  s.grpc_address = "nohostport";
  s.node_name = "bad name!";
  s.log_level = "loud";
  s.shutdown_timeout_seconds = 0;
  s.sync_workers = 0;
  s.bulk_threshold = 0;
  s.bulk_page_size = -1;
  s.archive_retention_days = 0;
  auto problems = validate(s);
  EXPECT_EQ(problems.size(), 9u);
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_BULK_PAGE_SIZE"));
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_ARCHIVE_RETENTION_DAYS"));
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_DATABASE_URL"));
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_GRPC_ADDRESS"));
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_NODE_NAME"));
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_LOG_LEVEL"));
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_SHUTDOWN_TIMEOUT"));
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_SYNC_WORKERS"));
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_BULK_THRESHOLD"));
}

TEST(node_settings, a_metrics_address_is_optional_and_checked_when_given) {
  auto s = valid();
  EXPECT_TRUE(s.metrics_address.empty()); // no endpoint unless asked for
  s.metrics_address = "0.0.0.0:9464";
  EXPECT_TRUE(validate(s).empty());
  s.metrics_address = "127.0.0.1:0";
  EXPECT_TRUE(validate(s).empty());
  s.metrics_address = "9464";
  auto problems = validate(s);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(mentions(problems, "SYNCFORCE_METRICS_ADDRESS"));
  s.metrics_address = "0.0.0.0:65536";
  EXPECT_TRUE(mentions(validate(s), "--metrics-address"));
  s.metrics_address = "127.0.0.1:" + s.grpc_address.substr(s.grpc_address.rfind(':') + 1);
  EXPECT_TRUE(mentions(validate(s), "uses the port of --grpc-address"));
}

TEST(node_settings, rejects_bad_ports_and_urls_without_echoing_passwords) {
  auto s = valid();
  s.grpc_address = "0.0.0.0:70000";
  EXPECT_TRUE(mentions(validate(s), "port from 0 to 65535"));
  s = valid();
  s.database_url = "mysql://root:hunter2@db/app";
  auto problems = validate(s);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_FALSE(mentions(problems, "hunter2"));
}

TEST(node_settings, the_advertised_address_is_the_flag_else_the_pod_ip_else_the_listen_address) {
  auto s = valid();
  s.grpc_address = "0.0.0.0:50051";
  EXPECT_EQ(advertise_address_for(s, nullptr, 50051, "box-7"), "box-7:50051") << "every interface: the host name";
  EXPECT_EQ(advertise_address_for(s, "", 50051, ""), "127.0.0.1:50051");
  EXPECT_EQ(advertise_address_for(s, "10.4.0.7", 50051, "box-7"), "10.4.0.7:50051");
  EXPECT_EQ(advertise_address_for(s, "fd00::7", 50051, "box-7"), "[fd00::7]:50051");
  s.grpc_address = "192.168.1.5:0";
  EXPECT_EQ(advertise_address_for(s, nullptr, 41234, "box-7"), "192.168.1.5:41234") << "the port actually bound";
  s.advertise_address = "node-a.syncforce:50051";
  EXPECT_EQ(advertise_address_for(s, "10.4.0.7", 50051, "box-7"), "node-a.syncforce:50051");
}

TEST(node_settings, cluster_settings_are_checked) {
  auto s = valid();
  s.advertise_address = "no-port";
  s.cluster_tls_cert = "/etc/syncforce/node.crt";
  s.cluster_insecure = true;
  s.cluster_secret_file = "/etc/syncforce/secret";
  s.test_broker_owners = {"https://login.example.com|u@example.com=127.0.0.1:5001", "nonsense"};
  auto problems = validate(s);
  auto has = [&](const std::string& part) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(part) != std::string::npos; });
  };
  EXPECT_TRUE(has("--advertise-address (SYNCFORCE_ADVERTISE_ADDRESS) 'no-port'"));
  EXPECT_TRUE(has("go together"));
  EXPECT_TRUE(has("exclude each other"));
  EXPECT_TRUE(has("--test-broker-owner 'nonsense'"));
  EXPECT_EQ(problems.size(), 4u);
  auto owner = parse_broker_owner("https://login.example.com|u@example.com=127.0.0.1:5001");
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->first, "https://login.example.com|u@example.com");
  EXPECT_EQ(owner->second, "127.0.0.1:5001");
}
