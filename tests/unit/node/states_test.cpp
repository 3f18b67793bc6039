#include "sync/states.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

TEST(states, names_round_trip_as_heroku_connect_spells_them) {
  for (auto name : {"DATA_SYNCED", "INITIAL", "RELOAD_TABLE", "POLLING_SF_BULK", "SYSTEM_ERROR", "UNAUTHORIZED"}) {
    auto s = parse_mapping_state(name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(to_string(*s), name);
  }
  for (auto name : {"IDLE", "PAUSED", "NEW", "NEED_AUTHENTICATION", "POLLING_DB_CHANGES"}) {
    auto s = parse_connection_state(name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(to_string(*s), name);
  }
  EXPECT_FALSE(parse_mapping_state("data_synced"));
  EXPECT_FALSE(parse_connection_state("RUNNING"));
}

TEST(states, error_states) {
  EXPECT_TRUE(is_error(mapping_state::system_error));
  EXPECT_FALSE(is_error(mapping_state::data_synced));
  EXPECT_TRUE(is_error(connection_state::need_authentication));
  EXPECT_FALSE(is_error(connection_state::paused));
}
