// The bound on admin calls running at once (each holds a thread and a
// PostgreSQL connection): slots up to the limit, none beyond, given back when
// dropped.

#include "sync/call_slots.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using syncforce::call_slots;

TEST(call_slots, hands_out_up_to_the_limit_and_takes_them_back) {
  call_slots slots(2);
  auto a = slots.try_take();
  auto b = slots.try_take();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(slots.try_take(), nullptr) << "a third call is refused";
  EXPECT_EQ(slots.in_use(), 2u);
  a.reset();
  EXPECT_EQ(slots.in_use(), 1u);
  auto c = slots.try_take();
  EXPECT_TRUE(c);
  auto copy = c; // a slot shared by two owners is one slot
  c.reset();
  EXPECT_EQ(slots.in_use(), 2u);
  copy.reset();
  b.reset();
  EXPECT_EQ(slots.in_use(), 0u);
}

TEST(call_slots, never_more_than_the_limit_under_contention) {
  call_slots slots(3);
  std::atomic<int> most{0};
  std::atomic<int> now{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto s = slots.try_take();
        if (!s)
          continue;
        int held = ++now;
        int seen = most.load();
        while (held > seen && !most.compare_exchange_weak(seen, held)) {
        }
        --now;
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(slots.in_use(), 0u);
}
