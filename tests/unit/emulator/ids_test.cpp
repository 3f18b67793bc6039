#include "emulator/ids.hpp"
#include "emulator/value.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace sfemu;

TEST(ids, checksum_of_known_real_ids) {
  // Pairs published with Salesforce's algorithm (CASESAFEID results).
  EXPECT_EQ(ids::to_18("001000000000001"), "001000000000001AAA");
  EXPECT_EQ(ids::to_18("a0D30000001n7Pi"), "a0D30000001n7PiEAI");
  EXPECT_EQ(ids::to_18("0019000000B98de"), "0019000000B98deAAB");
}

TEST(ids, validation) {
  EXPECT_TRUE(ids::is_valid("a0D30000001n7PiEAI"));
  EXPECT_TRUE(ids::is_valid("a0D30000001n7Pieai")); // suffix is case-insensitive
  EXPECT_FALSE(ids::is_valid("a0D30000001n7PiAAA"));
  EXPECT_FALSE(ids::is_valid("a0D30000001n7P"));
  EXPECT_FALSE(ids::is_valid("a0D30000001n7P!EAI"));
  EXPECT_EQ(ids::to_18("not-an-id"), "");
  EXPECT_EQ(ids::to_18("a0D30000001n7PiAAA"), "");
}

TEST(ids, generated_ids_are_valid_unique_and_prefixed) {
  std::set<std::string> seen;
  for (std::uint64_t i = 1; i < 5000; i += 7) {
    auto id = ids::make_id("003", i);
    ASSERT_EQ(id.size(), 18u);
    EXPECT_EQ(id.substr(0, 3), "003");
    EXPECT_TRUE(ids::is_valid(id)) << id;
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(time_format, datetimes_render_and_parse) {
  auto t = parse_datetime("2013-05-20T20:49:32.123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_datetime(*t), "2013-05-20T20:49:32.123+0000");
  EXPECT_EQ(parse_datetime("2013-05-20T20:49:32.123+0000"), t);
  EXPECT_EQ(parse_datetime("2013-05-20T22:49:32.123+02:00"), t);
  EXPECT_EQ(parse_datetime("2013-05-20T20:49:32.123-00:00"), t);
  EXPECT_EQ(format_datetime(0), "1970-01-01T00:00:00.000+0000");
  EXPECT_EQ(format_datetime(-1), "1969-12-31T23:59:59.999+0000");
  EXPECT_FALSE(parse_datetime("2013-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_datetime("yesterday"));
  EXPECT_FALSE(parse_datetime("2013-05-20T20:49:32Zjunk"));
  auto d = parse_date("2024-02-29");
  ASSERT_TRUE(d);
  EXPECT_EQ(format_date(*d), "2024-02-29");
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_EQ(parse_time("10:30:00.250Z"), 37800250);
}
