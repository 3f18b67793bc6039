// engine_io/page_pipeline.hpp: pages read ahead on a thread of their own come
// out in order, a failure ends the reading after the pages before it, a
// reader's exception reaches the caller, the read-ahead is bounded, and a
// caller that stops early stops the reader.
#include "engine_io/page_pipeline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace syncforce::engine_io {
namespace {

struct test_page {
  int number = -1;
  std::vector<int> values; ///< a buffer reused across pages
  bool failed = false;
};

page_pipeline<test_page> counting(std::size_t depth, int pages, std::atomic<int>& read, int fail_at = -1,
                                  int throw_at = -1) {
  return page_pipeline<test_page>(
    depth, [] { return std::make_unique<test_page>(); },
    [&read, pages, fail_at, throw_at](test_page& p) {
      const int n = read.load();
      if (n == pages)
        return read_step::end;
      if (n == throw_at)
        throw std::runtime_error("reader broke at " + std::to_string(n));
      p.values.clear();
      p.number = n;
      p.failed = n == fail_at;
      for (int i = 0; i < 100; ++i)
        p.values.push_back(n * 100 + i);
      read.store(n + 1);
      return read_step::page;
    },
    [](const test_page& p) { return p.failed; });
}

TEST(page_pipeline, hands_out_every_page_in_order_then_nothing) {
  std::atomic<int> read{0};
  auto pipe = counting(2, 50, read);
  int expected = 0;
  while (auto p = pipe.next()) {
    ASSERT_EQ(p->number, expected);
    ASSERT_EQ(p->values.size(), 100u);
    EXPECT_EQ(p->values.front(), expected * 100);
    EXPECT_EQ(p->values.back(), expected * 100 + 99);
    ++expected;
    pipe.recycle(std::move(p));
  }
  EXPECT_EQ(expected, 50);
  EXPECT_EQ(pipe.next(), nullptr) << "the end stays the end";
}

TEST(page_pipeline, reads_at_most_depth_pages_ahead_of_the_caller) {
  std::atomic<int> read{0};
  auto pipe = counting(2, 50, read);
  auto first = pipe.next();
  ASSERT_TRUE(first);
  // The reader fills the queue (2 pages) behind the one taken, then waits.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (read.load() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  ASSERT_EQ(read.load(), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(50)); // a reader not bounded would go on meanwhile
  EXPECT_EQ(read.load(), 3) << "read further ahead than its depth";
}

TEST(page_pipeline, a_failed_page_is_the_last_one_handed_out) {
  std::atomic<int> read{0};
  auto pipe = counting(3, 50, read, 7);
  std::vector<int> seen;
  bool failed = false;
  while (auto p = pipe.next()) {
    seen.push_back(p->number);
    failed = p->failed;
  }
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen.back(), 7);
  EXPECT_TRUE(failed);
  EXPECT_EQ(read.load(), 8) << "nothing is read after a failure";
}

TEST(page_pipeline, a_readers_exception_reaches_the_caller_after_the_pages_before_it) {
  std::atomic<int> read{0};
  auto pipe = counting(2, 50, read, -1, 5);
  int pages = 0;
  try {
    while (auto p = pipe.next())
      ++pages;
    FAIL() << "the reader's exception was lost";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string{e.what()}, "reader broke at 5");
  }
  EXPECT_EQ(pages, 5);
}

TEST(page_pipeline, a_caller_that_stops_early_stops_the_reader) {
  std::atomic<int> read{0};
  {
    auto pipe = counting(2, 1000000, read);
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(pipe.next());
  } // destroyed with pages still to read: must return, not read them all
  EXPECT_LE(read.load(), 6);
}

TEST(page_pipeline, recycled_pages_are_filled_again) {
  std::atomic<int> read{0};
  std::atomic<int> made{0};
  page_pipeline<test_page> pipe(
    1,
    [&made] {
      ++made;
      return std::make_unique<test_page>();
    },
    [&read](test_page& p) {
      if (read.load() == 100)
        return read_step::end;
      p.number = read.fetch_add(1);
      return read_step::page;
    },
    [](const test_page&) { return false; });
  int pages = 0;
  while (auto p = pipe.next()) {
    ++pages;
    pipe.recycle(std::move(p));
  }
  EXPECT_EQ(pages, 100);
  EXPECT_LE(made.load(), 4) << "a page per read instead of reusing the recycled ones";
}

} // namespace
} // namespace syncforce::engine_io
