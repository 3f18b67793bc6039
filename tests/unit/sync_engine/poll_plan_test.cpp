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

TEST(poll_plan, a_mark_without_id_polls_with_overlap_once) {
  auto q = poll_soql({"Id", "Name", "SystemModstamp"}, "Contact", "SystemModstamp", "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(q, "SELECT Id, Name, SystemModstamp FROM Contact WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z "
               "ORDER BY SystemModstamp ASC, Id ASC");
  EXPECT_EQ(load_soql({"Id", "Name"}, "Account"), "SELECT Id, Name FROM Account");
  EXPECT_EQ(count_soql("Account"), "SELECT COUNT() FROM Account");
  EXPECT_EQ(count_soql("Account", std::string{"SystemModstamp"}, std::string{"2024-01-02T03:04:05.000Z"}),
            "SELECT COUNT() FROM Account WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z");
}

TEST(poll_plan, keyset_polls_resume_after_the_mark_and_its_id) {
  const std::string id = "a0E5g00000000A1AAI";
  auto q = poll_soql({"Id", "SystemModstamp"}, "Every__c", "SystemModstamp", "2024-01-02T03:04:05.000Z", id);
  EXPECT_EQ(q, "SELECT Id, SystemModstamp FROM Every__c WHERE SystemModstamp > 2024-01-02T03:04:05.000Z OR "
               "(SystemModstamp = 2024-01-02T03:04:05.000Z AND Id > 'a0E5g00000000A1AAI') "
               "ORDER BY SystemModstamp ASC, Id ASC");
  // The Bulk decision counts with the same predicate: an idle poll counts zero.
  EXPECT_EQ(count_soql("Every__c", std::string{"SystemModstamp"}, std::string{"2024-01-02T03:04:05.000Z"}, id),
            "SELECT COUNT() FROM Every__c WHERE SystemModstamp > 2024-01-02T03:04:05.000Z OR "
            "(SystemModstamp = 2024-01-02T03:04:05.000Z AND Id > 'a0E5g00000000A1AAI')");
  EXPECT_EQ(keyset_filter("LastModifiedDate", "2024-01-02T03:04:05.000Z", std::nullopt),
            "LastModifiedDate >= 2024-01-02T03:04:05.000Z");
  // A stored id is pasted into SOQL: anything but an id is refused.
  EXPECT_THROW(keyset_filter("SystemModstamp", "2024-01-02T03:04:05.000Z", std::string{"x' OR Id != '"}),
               std::invalid_argument);
  EXPECT_THROW(count_soql("A", std::string{"SystemModstamp"}, std::string{"2024-01-02T03:04:05.000Z"},
                          std::string{""}),
               std::invalid_argument);
}

TEST(poll_plan, ordered_pages_move_the_mark_to_the_last_record_read) {
  // REST pages come in the server's (stamp, Id) order: the last record is the
  // mark, whatever compare_ids thinks of the ids.
  high_water_mark m(std::string{"2024-01-02T00:00:00.000Z"}, std::string{"a0E5g00000000A1AAI"});
  EXPECT_TRUE(m.reach("2024-01-02T00:00:00.000+0000", "a0E5g00000000Z1AAI"));
  EXPECT_TRUE(m.reach("2024-01-02T00:00:00.000+0000", "a0E5g00000000b1AAI"));
  EXPECT_EQ(m.id(), "a0E5g00000000b1AAI");
  EXPECT_TRUE(m.reach("2024-01-03T00:00:00.000+0000", "a0E5g0000000011AAI"));
  EXPECT_EQ(m.value(), "2024-01-03T00:00:00.000Z");
  EXPECT_EQ(m.id(), "a0E5g0000000011AAI");
  // Never backwards in stamp.
  EXPECT_TRUE(m.reach("2024-01-01T00:00:00.000+0000", "a0E5g00000000zzAAI"));
  EXPECT_EQ(m.value(), "2024-01-03T00:00:00.000Z");
  EXPECT_EQ(m.id(), "a0E5g0000000011AAI");
  EXPECT_FALSE(m.reach("garbage", "a0E5g0000000011AAI"));
  EXPECT_TRUE(m.advanced());
}

TEST(poll_plan, keyset_mark_takes_the_largest_stamp_and_id_in_any_order) {
  // Bulk pages are not ordered: the mark is the max (stamp, id) of what was seen.
  high_water_mark m(std::string{"2024-01-02T00:00:00.000Z"});
  EXPECT_FALSE(m.id());
  EXPECT_TRUE(m.see("2024-01-02T00:00:00.000+0000", "a0E5g00000000B2AAI"));
  EXPECT_EQ(m.id(), "a0E5g00000000B2AAI");
  EXPECT_TRUE(m.advanced()) << "the same stamp with an id is progress: the next poll is a keyset poll";
  EXPECT_TRUE(m.see("2024-01-02T00:00:00.000+0000", "a0E5g00000000A9AAI"));
  EXPECT_EQ(m.id(), "a0E5g00000000B2AAI");
  EXPECT_TRUE(m.see("2024-01-01T23:00:00.000+0000", "a0E5g00000000Z9AAI"));
  EXPECT_EQ(m.value(), "2024-01-02T00:00:00.000Z");
  EXPECT_EQ(m.id(), "a0E5g00000000B2AAI");
  // Ids compare ignoring case, as SOQL compares 18-character ids.
  EXPECT_TRUE(m.see("2024-01-02T00:00:00.000Z", "a0E5g00000000b3AAI"));
  EXPECT_EQ(m.id(), "a0E5g00000000b3AAI");
  EXPECT_GT(compare_ids("a0E5g00000000C1AAA", "a0e5g00000000b9AAA"), 0);
  EXPECT_EQ(compare_ids("a0E5g00000000C1AAA", "A0E5G00000000C1aaa"), 0);
  // A newer stamp starts a new tie: its id comes with it.
  EXPECT_TRUE(m.see("2024-01-03T00:00:00.000Z", "a0E5g00000000A0AAI"));
  EXPECT_EQ(m.value(), "2024-01-03T00:00:00.000Z");
  EXPECT_EQ(m.id(), "a0E5g00000000A0AAI");
  // A record without a usable id at a newer stamp leaves a mark without id (>= once).
  EXPECT_TRUE(m.see("2024-01-04T00:00:00.000Z", "not-an-id"));
  EXPECT_EQ(m.value(), "2024-01-04T00:00:00.000Z");
  EXPECT_FALSE(m.id());
  // A stored start keeps its id until something larger comes.
  high_water_mark resumed(std::string{"2024-01-02 00:00:00"}, std::string{"a0E5g00000000B2AAI"});
  EXPECT_EQ(resumed.id(), "a0E5g00000000B2AAI");
  EXPECT_FALSE(resumed.advanced());
  EXPECT_TRUE(resumed.see("2024-01-02T00:00:00.000Z", "a0E5g00000000A1AAI"));
  EXPECT_FALSE(resumed.advanced());
}

TEST(poll_plan, resumable_loads_read_in_id_order_after_the_checkpoint) {
  EXPECT_EQ(load_soql_by_id({"Id", "Name"}, "Account"), "SELECT Id, Name FROM Account ORDER BY Id ASC");
  EXPECT_EQ(load_soql_by_id({"Id", "Name"}, "Account", std::string{"001000000000042AAA"}),
            "SELECT Id, Name FROM Account WHERE Id > '001000000000042AAA' ORDER BY Id ASC");
  EXPECT_THROW(load_soql_by_id({"Id"}, "Account", std::string{"001' OR Name != '"}), std::invalid_argument);
  EXPECT_THROW(load_soql_by_id({"Id"}, "Account", std::string{"001"}), std::invalid_argument);
  EXPECT_EQ(latest_stamp_soql("Contact", "SystemModstamp"),
            "SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp DESC, Id DESC LIMIT 1");
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

TEST(poll_plan, a_mark_keeps_its_keyset_id_only_once_its_stamp_has_settled) {
  const std::string cutoff = "2024-05-01T10:00:00.000Z";
  // Older than the cutoff: the Id is used; at or after it: the stamp is read again with >=.
  EXPECT_EQ(settled_mark_id("2024-05-01T09:59:59.000Z", std::string{"001000000000001AAA"}, cutoff),
            std::optional<std::string>{"001000000000001AAA"});
  EXPECT_EQ(settled_mark_id("2024-05-01T10:00:00.000Z", std::string{"001000000000001AAA"}, cutoff), std::nullopt);
  EXPECT_EQ(settled_mark_id("2024-05-01T10:00:05.000+0000", std::string{"001000000000001AAA"}, cutoff), std::nullopt);

  high_water_mark m(std::string{"2024-05-01T09:00:00.000Z"}, std::string{"001000000000001AAA"});
  m.unsettled_from(cutoff);
  ASSERT_TRUE(m.id());
  m.reach("2024-05-01T09:59:58.000Z", "001000000000002AAA");
  EXPECT_EQ(m.id(), std::optional<std::string>{"001000000000002AAA"}) << "settled: keyset";
  m.reach("2024-05-01T10:00:01.000Z", "001000000000003AAA");
  EXPECT_EQ(m.value(), std::optional<std::string>{"2024-05-01T10:00:01.000Z"});
  EXPECT_FALSE(m.id()) << "a record changed again within that second must be read again";
  m.see("2024-05-01T10:00:01.000Z", "001000000000009AAA");
  EXPECT_FALSE(m.id());
  EXPECT_TRUE(m.advanced());
  // The cutoff is a canonical stamp `window` before now.
  auto now = std::chrono::system_clock::from_time_t(1714557600); // 2024-05-01T10:00:00Z
  EXPECT_EQ(settling_cutoff(now, std::chrono::seconds(60)), "2024-05-01T09:59:00.000Z");
}
