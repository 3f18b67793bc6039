#include "sync/poll_plan.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

TEST(poll_plan, canonical_timestamps_from_salesforce_and_postgres) {
  EXPECT_EQ(canonical_timestamp("2024-01-02T03:04:05.000+0000"), "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(canonical_timestamp("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(canonical_timestamp("2024-01-02 03:04:05"), "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(canonical_timestamp("2024-01-02 03:04:05.12"), "2024-01-02T03:04:05.120Z");
  EXPECT_EQ(canonical_timestamp("2024-01-02 03:04:05.123456"), "2024-01-02T03:04:05.123Z");
  EXPECT_FALSE(canonical_timestamp("2024-01-02"));
  EXPECT_FALSE(canonical_timestamp("2024-01-02T03:04:05+0200"));
  EXPECT_FALSE(canonical_timestamp("yesterday"));
}

TEST(poll_plan, polls_with_overlap_on_the_mark) {
  auto q = poll_soql({"Id", "Name", "SystemModstamp"}, "Contact", "SystemModstamp", "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(q, "SELECT Id, Name, SystemModstamp FROM Contact WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z "
               "ORDER BY SystemModstamp ASC");
  EXPECT_EQ(load_soql({"Id", "Name"}, "Account"), "SELECT Id, Name FROM Account");
  EXPECT_EQ(count_soql("Account"), "SELECT COUNT() FROM Account");
}

TEST(poll_plan, resumable_loads_read_in_id_order_after_the_checkpoint) {
  EXPECT_EQ(load_soql_by_id({"Id", "Name"}, "Account"), "SELECT Id, Name FROM Account ORDER BY Id ASC");
  EXPECT_EQ(load_soql_by_id({"Id", "Name"}, "Account", std::string{"001000000000042AAA"}),
            "SELECT Id, Name FROM Account WHERE Id > '001000000000042AAA' ORDER BY Id ASC");
  EXPECT_THROW(load_soql_by_id({"Id"}, "Account", std::string{"001' OR Name != '"}), std::invalid_argument);
  EXPECT_THROW(load_soql_by_id({"Id"}, "Account", std::string{"001"}), std::invalid_argument);
  EXPECT_EQ(latest_stamp_soql("Contact", "SystemModstamp"),
            "SELECT SystemModstamp FROM Contact ORDER BY SystemModstamp DESC LIMIT 1");
}

TEST(poll_plan, stamp_field_prefers_systemmodstamp) {
  EXPECT_EQ(modstamp_field({"Id", "LastModifiedDate", "systemmodstamp"}), "SystemModstamp");
  EXPECT_EQ(modstamp_field({"Id", "LastModifiedDate"}), "LastModifiedDate");
  EXPECT_FALSE(modstamp_field({"Id", "Name"}));
}

TEST(poll_plan, bulk_above_threshold_only) {
  EXPECT_FALSE(use_bulk(10000, 10000));
  EXPECT_TRUE(use_bulk(10001, 10000));
  EXPECT_FALSE(use_bulk(5, 0));
}

TEST(poll_plan, high_water_mark_only_moves_forward) {
  high_water_mark m(std::string{"2024-01-02 00:00:00"});
  EXPECT_FALSE(m.advanced());
  EXPECT_TRUE(m.see("2024-01-01T00:00:00.000+0000"));
  EXPECT_EQ(m.value(), "2024-01-02T00:00:00.000Z");
  EXPECT_FALSE(m.advanced());
  EXPECT_TRUE(m.see("2024-01-03T00:00:00.000+0000"));
  EXPECT_TRUE(m.see("2024-01-02T12:00:00.000+0000"));
  EXPECT_EQ(m.value(), "2024-01-03T00:00:00.000Z");
  EXPECT_TRUE(m.advanced());
  EXPECT_FALSE(m.see("garbage"));
  high_water_mark empty;
  EXPECT_FALSE(empty.value());
  empty.see("2024-01-02T00:00:00.000Z");
  EXPECT_EQ(empty.value(), "2024-01-02T00:00:00.000Z");
}
