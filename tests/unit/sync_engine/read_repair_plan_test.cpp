// The pure parts of read repair (sync/read_repair.hpp): the sweep's window,
// its keyset-paged SOQL, the diff against the table, the fetch by ids, the
// calculated fields a formula repair reads, and the per-mapping options.

#include "sync/mapping_config.hpp"
#include "sync/read_repair.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

using namespace syncforce;

namespace {

std::chrono::system_clock::time_point at(std::time_t t) { return std::chrono::system_clock::from_time_t(t); }

constexpr std::time_t noon = 1714564800; // 2024-05-01T12:00:00Z

} // namespace

TEST(read_repair_plan, the_window_ends_at_the_mark_and_looks_back_from_now) {
  auto w = sweep_window_at(at(noon), std::chrono::seconds(900), "2024-05-01T11:59:58.000+0000");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->from, "2024-05-01T11:45:00.000Z");
  EXPECT_EQ(w->to, "2024-05-01T11:59:58.000Z");
  // A mark older than the window: polls read everything above it, nothing to sweep (no call).
  EXPECT_FALSE(sweep_window_at(at(noon), std::chrono::seconds(900), "2024-05-01T11:44:59.999Z"));
  // The window's first instant still counts.
  EXPECT_TRUE(sweep_window_at(at(noon), std::chrono::seconds(900), "2024-05-01T11:45:00.000Z"));
  EXPECT_FALSE(sweep_window_at(at(noon), std::chrono::seconds(900), "not a stamp"));
}

TEST(read_repair_plan, after_a_long_gap_the_window_starts_where_the_last_sweep_left_off) {
  // The last sweep started an hour ago (sweeps blocked, the node down): a record
  // stamped 40 minutes ago and committed late became visible after it, so this
  // sweep looks back from that sweep's start, not from now.
  auto w = sweep_window_at(at(noon), std::chrono::seconds(900), "2024-05-01T11:59:58.000Z",
                           std::string{"2024-05-01T11:00:00.000Z"});
  ASSERT_TRUE(w);
  EXPECT_EQ(w->from, "2024-05-01T10:45:00.000Z");
  EXPECT_EQ(w->to, "2024-05-01T11:59:58.000Z");
  // A mark the look-back from now would leave alone is swept then too.
  EXPECT_TRUE(sweep_window_at(at(noon), std::chrono::seconds(900), "2024-05-01T11:20:00.000Z",
                              std::string{"2024-05-01T11:00:00.000Z"}));
  // A sweep 30 s ago: the window reaches 30 s further back, no more.
  EXPECT_EQ(sweep_window_at(at(noon), std::chrono::seconds(900), "2024-05-01T11:59:58.000Z",
                            std::string{"2024-05-01T11:59:30.000Z"})->from,
            "2024-05-01T11:44:30.000Z");
  // One stamped ahead of now (another node's clock) changes nothing.
  EXPECT_EQ(sweep_window_at(at(noon), std::chrono::seconds(900), "2024-05-01T11:59:58.000Z",
                            std::string{"2024-05-01T12:30:00.000Z"})->from,
            "2024-05-01T11:45:00.000Z");
  // An unreadable one is no reason to skip the sweep.
  EXPECT_EQ(sweep_window_at(at(noon), std::chrono::seconds(900), "2024-05-01T11:59:58.000Z",
                            std::string{"garbage"})->from,
            "2024-05-01T11:45:00.000Z");
}

TEST(read_repair_plan, sweep_pages_ask_only_id_and_stamp_in_keyset_order) {
  sweep_window w{"2024-05-01T11:45:00.000Z", "2024-05-01T11:59:58.000Z"};
  EXPECT_EQ(sweep_soql("Contact", "SystemModstamp", w, std::nullopt, std::nullopt, 2000),
            "SELECT Id, SystemModstamp, IsDeleted FROM Contact WHERE SystemModstamp >= 2024-05-01T11:45:00.000Z AND "
            "SystemModstamp <= 2024-05-01T11:59:58.000Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000");
  // The next page starts after the last (stamp, Id) read: a tie across pages is neither skipped nor read twice.
  EXPECT_EQ(sweep_soql("Contact", "SystemModstamp", w, std::string{"2024-05-01T11:50:00.000Z"},
                       std::string{"003000000000001AAA"}, 2000),
            "SELECT Id, SystemModstamp, IsDeleted FROM Contact WHERE SystemModstamp >= 2024-05-01T11:45:00.000Z AND "
            "SystemModstamp <= 2024-05-01T11:59:58.000Z AND (SystemModstamp > 2024-05-01T11:50:00.000Z OR "
            "(SystemModstamp = 2024-05-01T11:50:00.000Z AND Id > '003000000000001AAA')) ORDER BY SystemModstamp "
            "ASC, Id ASC LIMIT 2000");
  EXPECT_THROW(sweep_soql("Contact", "SystemModstamp", w, std::string{"2024-05-01T11:50:00.000Z"},
                          std::string{"x' OR Id != '"}, 2000),
               std::invalid_argument);
}

TEST(read_repair_plan, the_diff_fetches_missing_stale_and_deleted_records_only) {
  std::vector<remote_stamp> remote{
    {"a01000000000001AAA", "2024-05-01T11:50:00.000Z", false}, // same stamp: nothing
    {"a01000000000002AAA", "2024-05-01T11:51:00.000Z", false}, // late commit: missing
    {"a01000000000003AAA", "2024-05-01T11:52:00.000Z", false}, // updated late: stale
    {"a01000000000004AAA", "2024-05-01T11:53:00.000Z", true},  // deleted, still in the table
    {"a01000000000005AAA", "2024-05-01T11:54:00.000Z", true},  // deleted, not there: nothing
    {"a01000000000002AAA", "2024-05-01T11:51:00.000Z", false}, // read twice: once
  };
  std::vector<local_stamp> local{
    {"a01000000000001AAA", "2024-05-01T11:50:00.000Z"},
    {"a01000000000003AAA", "2024-05-01T11:40:00.000Z"},
    {"a01000000000004AAA", "2024-05-01T11:30:00.000Z"},
    {"a01000000000009AAA", "2024-05-01T11:30:00.000Z"}, // not in the window: not Salesforce's answer
  };
  auto d = diff_sweep(remote, local);
  EXPECT_EQ(d.fetch, (std::vector<std::string>{"a01000000000002AAA", "a01000000000003AAA", "a01000000000004AAA"}));
  EXPECT_EQ(d.missing, 1u);
  EXPECT_EQ(d.stale, 1u);
  EXPECT_EQ(d.deleted, 1u);
  // A row without a stamp in the table differs too.
  auto nulls = diff_sweep({{"a01000000000001AAA", "2024-05-01T11:50:00.000Z", false}}, {{"a01000000000001AAA", ""}});
  EXPECT_EQ(nulls.fetch.size(), 1u);
  EXPECT_TRUE(diff_sweep({}, local).fetch.empty());
}

TEST(read_repair_plan, fetches_name_their_ids_and_refuse_anything_else) {
  EXPECT_EQ(fetch_by_ids_soql({"Id", "Name"}, "Contact", {"003000000000001AAA", "003000000000002"}),
            "SELECT Id, Name FROM Contact WHERE Id IN ('003000000000001AAA', '003000000000002')");
  EXPECT_THROW(fetch_by_ids_soql({"Id"}, "Contact", {}), std::invalid_argument);
  EXPECT_THROW(fetch_by_ids_soql({"Id"}, "Contact", {"003000000000001AAA", "') OR Name != ('"}),
               std::invalid_argument);
}

TEST(read_repair_plan, a_repair_reads_only_mapped_calculated_fields) {
  EXPECT_EQ(repair_fields({"Id", "Name", "Total__c", "account_name__c", "SystemModstamp", "Amount__c"},
                          {"Total__c", "Account_Name__c", "SystemModstamp", "Unmapped__c"}),
            (std::vector<std::string>{"Total__c", "account_name__c"}));
  EXPECT_TRUE(repair_fields({"Id", "Name"}, {}).empty());
}

TEST(read_repair_plan, options_live_in_config_syncforce_and_only_when_set) {
  const std::string base = R"({"version": 1, "mappings": [{"object_name": "Contact", "config": {"access": "read_only",
    "sf_notify_enabled": false, "sf_polling_seconds": 600, "fields": {"Id": {}, "SystemModstamp": {}}, "indexes": {})";
  auto plain = parse_config(base + "}}]}");
  ASSERT_TRUE(plain.ok()) << plain.error_text();
  const auto& rr = plain.document->mappings[0].read_repair;
  EXPECT_EQ(rr.sweep_seconds, 600);
  EXPECT_EQ(rr.sweep_window_seconds, 900);
  EXPECT_EQ(rr.formula_repair_seconds, 0);
  // Defaults are not written: a mapping without extras keeps Heroku Connect's exact shape.
  EXPECT_EQ(serialize_config(*plain.document).find("syncforce"), std::string::npos);

  auto set = parse_config(base + R"(, "syncforce": {"sweep_seconds": 0, "sweep_window_seconds": 3600,
    "formula_repair_seconds": 86400}}}]})");
  ASSERT_TRUE(set.ok()) << set.error_text();
  const auto& m = set.document->mappings[0];
  EXPECT_EQ(m.read_repair.sweep_seconds, 0);
  EXPECT_EQ(m.read_repair.sweep_window_seconds, 3600);
  EXPECT_EQ(m.read_repair.formula_repair_seconds, 86400);
  auto again = parse_config(serialize_config(*set.document));
  ASSERT_TRUE(again.ok()) << again.error_text();
  EXPECT_EQ(again.document->mappings[0].read_repair, m.read_repair);
  EXPECT_FALSE(again.document->mappings[0] == plain.document->mappings[0]);

  auto bad = parse_config(base + R"(, "syncforce": {"sweep_seconds": -1, "sweep_window_seconds": 0,
    "formula_repair_seconds": "daily", "sweeps": 1}}}]})");
  EXPECT_FALSE(bad.ok());
  auto text = bad.error_text();
  EXPECT_NE(text.find("mappings[0].config.syncforce.sweep_seconds: -1 is outside 1..604800 (0: off)"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("mappings[0].config.syncforce.sweep_window_seconds: 0 is outside 1..604800"), std::string::npos)
    << text;
  EXPECT_NE(text.find("mappings[0].config.syncforce.formula_repair_seconds: must be an integer"), std::string::npos)
    << text;
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_EQ(bad.warnings[0].path, "mappings[0].config.syncforce.sweeps");
}
