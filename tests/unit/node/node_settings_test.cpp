#include "sync/node_settings.hpp"

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
