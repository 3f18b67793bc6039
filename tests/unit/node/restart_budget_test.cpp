// The restart window: crashes count only while they are recent.

#include "sync/restart_budget.hpp"

#include <gtest/gtest.h>

using namespace syncforce;
using namespace std::chrono_literals;

TEST(restart_budget, gives_up_only_past_the_limit_within_the_window) {
  restart_window w{3, 10min};
  restart_budget b;
  restart_budget::time_point t{};
  EXPECT_EQ(b.record(t, w).attempt, 1);
  EXPECT_EQ(b.record(t + 1min, w).attempt, 2);
  auto third = b.record(t + 2min, w);
  EXPECT_EQ(third.attempt, 3);
  EXPECT_FALSE(third.give_up);
  auto fourth = b.record(t + 3min, w);
  EXPECT_EQ(fourth.attempt, 4);
  EXPECT_TRUE(fourth.give_up);
}

TEST(restart_budget, old_crashes_leave_the_window) {
  restart_window w{2, 10min};
  restart_budget b;
  restart_budget::time_point t{};
  b.record(t, w);
  b.record(t + 1min, w);
  EXPECT_EQ(b.recent(t + 9min, w), 2);
  EXPECT_EQ(b.recent(t + 10min, w), 1) << "a crash exactly one window old has left it";
  auto d = b.record(t + 10min + 30s, w);
  EXPECT_EQ(d.attempt, 2);
  EXPECT_FALSE(d.give_up);
  // A thousand crashes an hour apart never give up.
  for (int i = 1; i <= 1000; ++i)
    ASSERT_FALSE(b.record(t + std::chrono::hours(i), w).give_up);
}

TEST(restart_budget, clear_forgets_everything) {
  restart_window w{1, 10min};
  restart_budget b;
  restart_budget::time_point t{};
  b.record(t, w);
  b.clear();
  EXPECT_EQ(b.recent(t, w), 0);
  EXPECT_FALSE(b.record(t, w).give_up);
  EXPECT_TRUE(b.record(t, w).give_up);
}

TEST(restart_budget, describes_its_window) {
  EXPECT_EQ(describe(restart_window{8, 10min}), "more than 8 times within 10 minutes");
  EXPECT_EQ(describe(restart_window{3, 90s}), "more than 3 times within 90 seconds");
}
