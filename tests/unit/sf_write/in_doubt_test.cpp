// Matching creates in doubt to the records Salesforce holds, by the values sent.

#include "sync/in_doubt.hpp"

#include <gtest/gtest.h>

using namespace syncforce;
using nlohmann::json;

TEST(in_doubt, values_compare_as_salesforce_stores_them) {
  json sent = {{"Name", "Row 7"}, {"Amount__c", 12.5}, {"Count__c", "3"}, {"Flag__c", true},
               {"At__c", "2026-01-02T03:04:05.678Z"}, {"Note__c", nullptr}};
  json stored = {{"Id", "a01000000000001AAA"}, {"name", "Row 7"}, {"Amount__c", 12.50}, {"Count__c", 3},
                 {"Flag__c", true}, {"At__c", "2026-01-02T03:04:05.000+0000"}, {"Note__c", nullptr}};
  EXPECT_TRUE(carries_values(sent, stored));
  stored["Name"] = "Row 8";
  stored.erase("name");
  EXPECT_FALSE(carries_values(sent, stored)) << "another name";
  stored["Name"] = "Row 7";
  stored["Amount__c"] = 12.51;
  EXPECT_FALSE(carries_values(sent, stored)) << "another amount";
  stored["Amount__c"] = 12.5;
  stored["At__c"] = "2026-01-02T03:04:06.000+0000";
  EXPECT_FALSE(carries_values(sent, stored)) << "another second";
  stored["At__c"] = "2026-01-02T03:04:05.000+0000";
  stored["Flag__c"] = false;
  EXPECT_FALSE(carries_values(sent, stored));
  stored["Flag__c"] = true;
  stored["Note__c"] = "default text";
  EXPECT_TRUE(carries_values(sent, stored)) << "a field sent null may hold Salesforce's default";
  stored.erase("Note__c");
  EXPECT_TRUE(carries_values(sent, stored)) << "a field not queried is not held against the match";
}

TEST(in_doubt, each_record_matches_one_create_in_order_and_unmatched_ones_are_sent_again) {
  std::vector<json> sent = {{{"Name", "A"}}, {{"Name", "B"}}, {{"Name", "A"}}, {{"Name", "C"}}};
  std::vector<json> candidates = {{{"Id", "1"}, {"Name", "A"}}, {{"Id", "2"}, {"Name", "B"}},
                                  {{"Id", "3"}, {"Name", "Z"}}};
  auto m = match_in_doubt(sent, candidates);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0], 0);
  EXPECT_EQ(m[1], 1);
  EXPECT_EQ(m[2], -1) << "the one A record is taken: the second A create was not made";
  EXPECT_EQ(m[3], -1);
  EXPECT_EQ(match_in_doubt({}, candidates), std::vector<int>{});
  EXPECT_EQ(match_in_doubt(sent, {}), std::vector<int>(4, -1));
}
