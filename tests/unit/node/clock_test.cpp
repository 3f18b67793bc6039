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

TEST(clock, a_deadline_is_taken_from_the_time_source) {
  manual_time t{std::chrono::system_clock::time_point{std::chrono::seconds(1700000000)}};
  EXPECT_EQ(t.deadline_in(30s), std::chrono::system_clock::time_point{std::chrono::seconds(1700000030)});
  t.advance(5s);
  EXPECT_EQ(t.deadline_in(0ms), std::chrono::system_clock::time_point{std::chrono::seconds(1700000005)});
  // The real source's deadline is "now" on the system clock plus the duration.
  const auto before = real_time().system_now();
  const auto d = real_time().deadline_in(2s);
  EXPECT_GE(d, before + 2s);
  EXPECT_LE(d, real_time().system_now() + 2s);
}

TEST(clock, sleeping_on_a_manual_clock_moves_it_at_once) {
  manual_time t{std::chrono::system_clock::time_point{std::chrono::seconds(1700000000)}};
  const auto s0 = t.steady_now();
  const auto w0 = t.system_now();
  const time_source& source = t; // sleeping is a const operation of any time source
  source.sleep_for(250ms);
  source.sleep_for(750ms);
  EXPECT_EQ(t.steady_now() - s0, 1000ms);
  EXPECT_EQ(t.system_now() - w0, 1000ms);
}

TEST(clock, sleeping_on_the_real_clock_waits_at_least_that_long) {
  const auto s0 = real_time().steady_now();
  real_time().sleep_for(20ms);
  EXPECT_GE(real_time().steady_now() - s0, 20ms);
}
