// One classification of database failures for every boundary.

#include "store/db_errors.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <stdexcept>

using namespace syncforce::store;

namespace {
db_failure of_state(const std::string& sqlstate) {
  return classify_db_error(pqxx::sql_error("failed", "SELECT 1", sqlstate.c_str()));
}
} // namespace

TEST(db_errors, lost_sessions_and_shutdowns_are_unavailable) {
  EXPECT_EQ(classify_db_error(pqxx::broken_connection("gone")), db_failure::unavailable);
  EXPECT_EQ(of_state("57P01"), db_failure::unavailable) << "terminating connection due to administrator command";
  EXPECT_EQ(of_state("57P03"), db_failure::unavailable) << "the database system is starting up";
  EXPECT_EQ(of_state("08006"), db_failure::unavailable);
}

TEST(db_errors, races_and_timeouts_are_conflicts_to_retry) {
  EXPECT_EQ(of_state("40001"), db_failure::conflict) << "serialization failure";
  EXPECT_EQ(of_state("40P01"), db_failure::conflict) << "deadlock";
  EXPECT_EQ(of_state("55P03"), db_failure::conflict) << "lock timeout";
  EXPECT_EQ(of_state("57014"), db_failure::conflict) << "statement timeout";
  EXPECT_TRUE(is_transient(of_state("40P01")));
}

TEST(db_errors, everything_else_is_permanent) {
  EXPECT_EQ(of_state("23505"), db_failure::permanent) << "unique violation";
  EXPECT_EQ(of_state("22021"), db_failure::permanent) << "bad UTF-8";
  EXPECT_EQ(classify_db_error(std::runtime_error("bug")), db_failure::permanent);
  EXPECT_FALSE(is_transient(db_failure::permanent));
}
