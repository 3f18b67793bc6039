// The injected time source (sync/clock.hpp): the manual clock moves only when
// told to, and the derived values (UTC day, epoch milliseconds, elapsed
// seconds) follow it.
#include "sync/clock.hpp"

#include <gtest/gtest.h>

using namespace syncforce;
using namespace std::chrono_literals;

TEST(clock, manual_time_moves_only_when_told) {
  manual_time t{std::chrono::system_clock::time_point{std::chrono::hours(24 * 20000) + 23h}};
  const auto s0 = t.steady_now();
  EXPECT_EQ(t.system_now(), t.system_now());
  EXPECT_EQ(t.utc_day(), 20000);
  EXPECT_EQ(t.unix_ms(), (20000LL * 24 + 23) * 3600 * 1000);
  t.advance(1h);
  EXPECT_EQ(t.utc_day(), 20001); // midnight UTC passed
  EXPECT_DOUBLE_EQ(t.seconds_since(s0), 3600.0);
}

TEST(clock, a_wall_clock_jump_leaves_the_monotonic_clock_alone) {
  manual_time t{std::chrono::system_clock::time_point{std::chrono::hours(24 * 20000)}};
  const auto s0 = t.steady_now();
  t.set_system(std::chrono::system_clock::time_point{std::chrono::hours(24 * 19999)});
  EXPECT_EQ(t.utc_day(), 19999);
  EXPECT_EQ(t.steady_now(), s0);
}

TEST(clock, real_time_is_the_system_clock) {
  const auto before = std::chrono::system_clock::now(); // the test reads the system clock to compare
  const auto read = real_time().system_now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_LE(before, read);
  EXPECT_LE(read, after);
  EXPECT_EQ(shared_real_time().get(), &real_time());
  const auto s = real_time().steady_now();
  EXPECT_GE(real_time().seconds_since(s), 0.0);
}
