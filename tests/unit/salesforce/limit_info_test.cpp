#include "salesforce/limit_info.hpp"

#include <gtest/gtest.h>

using namespace syncforce::salesforce;

TEST(limit_info, parses_api_usage) {
  auto u = parse_limit_info("api-usage=25/15000");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->used, 25);
  EXPECT_EQ(u->max, 15000);
  EXPECT_EQ(u->remaining(), 14975);
}

TEST(limit_info, finds_api_usage_among_other_entries) {
  auto u = parse_limit_info("per-app-api-usage=17/250(appName=sample-app); api-usage=7/100");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->used, 7);
  EXPECT_EQ(u->max, 100);
  auto v = parse_limit_info("  api-usage= 3 / 9 ;per-app-api-usage=1/2");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, (api_usage{3, 9}));
}

TEST(limit_info, rejects_malformed_values) {
  EXPECT_FALSE(parse_limit_info(""));
  EXPECT_FALSE(parse_limit_info("api-usage=12"));
  EXPECT_FALSE(parse_limit_info("api-usage=a/100"));
  EXPECT_FALSE(parse_limit_info("api-usage=1/"));
  EXPECT_FALSE(parse_limit_info("api-usage=-1/100"));
  EXPECT_FALSE(parse_limit_info("per-app-api-usage=17/250"));
}

TEST(limit_info, remaining_never_negative) {
  api_usage u{120, 100};
  EXPECT_EQ(u.remaining(), 0);
  EXPECT_DOUBLE_EQ((api_usage{50, 200}).fraction_used(), 0.25);
  EXPECT_DOUBLE_EQ((api_usage{50, 0}).fraction_used(), 0.0);
}
