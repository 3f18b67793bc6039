// The per-mapping ring of recent log lines behind a mapping's "recent activity".

#include "actors/log.hpp"
#include "actors/mapping_log.hpp"

#include <gtest/gtest.h>

using namespace syncforce;
using namespace syncforce::actors;

namespace {

struct mapping_log_test : ::testing::Test {
  void SetUp() override { clear_mapping_log(); }
  void TearDown() override { clear_mapping_log(); }
};

} // namespace

TEST_F(mapping_log_test, keeps_a_mappings_info_lines_exactly_as_logged_and_nothing_else) {
  // No logger output wanted: lines are kept whatever the node's level.
  spdlog::default_logger()->set_level(spdlog::level::off);
  log(spdlog::level::info, log_event{"RELOAD TABLE contact", "mapping", "m1", "RELOAD_TABLE"}.addon("c1"));
  log(spdlog::level::warn, log_event{"Operation delayed, will retry", "mapping", "m1", "POLLING_SF_CHANGES"});
  log(spdlog::level::debug, log_event{"INSERT page", "mapping", "m1", "RELOAD_TABLE"}); // below info
  log(spdlog::level::info, log_event{"Starting syncforced", "node", "m1", "STARTING"}); // not a mapping's
  log(spdlog::level::info, log_event{"RELOAD TABLE lead", "mapping", "m2", "RELOAD_TABLE"});
  auto lines = recent_mapping_log("m1", 100);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "event=\"RELOAD TABLE contact\" addon_id=c1 object_type=mapping object_id=m1 "
                           "state=RELOAD_TABLE level=info");
  EXPECT_EQ(lines[0].level, "info");
  EXPECT_EQ(lines[1].level, "warning");
  EXPECT_LE(lines[0].at_unix_ms, lines[1].at_unix_ms);
  EXPECT_GT(lines[0].at_unix_ms, 1'600'000'000'000);
  EXPECT_EQ(recent_mapping_log("m2", 100).size(), 1u);
  EXPECT_TRUE(recent_mapping_log("unknown", 100).empty());
}

TEST_F(mapping_log_test, keeps_only_the_newest_lines_of_a_mapping) {
  for (std::size_t i = 0; i < mapping_log_lines_kept + 50; ++i)
    record_mapping_log("m1", "info", "line " + std::to_string(i));
  auto all = recent_mapping_log("m1", 100000);
  ASSERT_EQ(all.size(), mapping_log_lines_kept);
  EXPECT_EQ(all.front().text, "line 50");
  EXPECT_EQ(all.back().text, "line " + std::to_string(mapping_log_lines_kept + 49));
  auto last3 = recent_mapping_log("m1", 3);
  ASSERT_EQ(last3.size(), 3u);
  EXPECT_EQ(last3[0].text, "line " + std::to_string(mapping_log_lines_kept + 47));
}

TEST_F(mapping_log_test, forgets_the_mapping_written_to_least_recently_beyond_the_bound) {
  record_mapping_log("first", "info", "a");
  record_mapping_log("second", "info", "b");
  record_mapping_log("first", "info", "c"); // "second" is now the least recent
  for (std::size_t i = 0; i < mapping_log_mappings_kept - 2; ++i)
    record_mapping_log("m" + std::to_string(i), "info", "x");
  record_mapping_log("one-too-many", "info", "y");
  EXPECT_TRUE(recent_mapping_log("second", 10).empty());
  EXPECT_EQ(recent_mapping_log("first", 10).size(), 2u);
  EXPECT_EQ(recent_mapping_log("one-too-many", 10).size(), 1u);
}

TEST_F(mapping_log_test, keeps_the_sync_lines_of_a_mappings_object_with_its_own_lines) {
  spdlog::default_logger()->set_level(spdlog::level::off);
  log(spdlog::level::info, log_event{"RELOAD TABLE contact", "mapping", "m1", "RELOAD_TABLE"}.addon("c1"));
  // Heroku Connect keys data lines by the connection; the object is in object_name or leads the event.
  log(spdlog::level::info, log_event{"Polling Salesforce found 2 updated records", "sync", "c1", "POLLING_SF_CHANGES"}
                             .addon("c1")
                             .with("object_name", "Contact"));
  log(spdlog::level::info, log_event{"Contact QUERY \xE2\x86\xB7SALESFORCE 3 rows (0.00 secs)", "sync", "c1", "IDLE"}
                             .addon("c1"));
  log(spdlog::level::info, log_event{"Lead QUERY \xE2\x86\xB7SALESFORCE 1 rows", "sync", "c1", "IDLE"}.addon("c1"));
  log(spdlog::level::info, log_event{"Contact QUERY \xE2\x86\xB7SALESFORCE 1 rows", "sync", "c2", "IDLE"}.addon("c2"));
  // A read-side line with no connection names the mapping itself.
  log(spdlog::level::warn, log_event{"Read error: Contact record 003 skipped", "sync", "m1", "POLLING_SF_CHANGES"}
                             .with("object_name", "Contact"));
  auto lines = recent_mapping_log("m1", "c1", "contact", 100);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].text.find("RELOAD TABLE contact"), std::string::npos);
  EXPECT_NE(lines[1].text.find("Polling Salesforce found 2"), std::string::npos);
  EXPECT_NE(lines[2].text.find("Contact QUERY"), std::string::npos);
  EXPECT_NE(lines[3].text.find("Read error"), std::string::npos);
  for (const auto& l : lines) {
    EXPECT_EQ(l.text.find("Lead"), std::string::npos) << l.text;
    EXPECT_EQ(l.text.find("addon_id=c2"), std::string::npos) << l.text;
  }
  EXPECT_EQ(recent_mapping_log("m1", "c1", "Contact", 2).size(), 2u) << "the newest two";
  EXPECT_NE(recent_mapping_log("m1", "c1", "Contact", 2)[1].text.find("Read error"), std::string::npos);
}
