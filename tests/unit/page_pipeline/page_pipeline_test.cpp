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

// A chunked reader: one call (one "download" of `rows` values) hands over a
// page every `chunk` values and returns with the last, partly filled one.
page_pipeline<test_page> chunked(std::size_t depth, int downloads, int rows, int chunk, std::atomic<int>& handed) {
  return page_pipeline<test_page>(
    depth, [] { return std::make_unique<test_page>(); },
    [downloads, rows, chunk, &handed, done = 0](std::unique_ptr<test_page>& p,
                                                const page_pipeline<test_page>::hand_over_fn& hand_over) mutable {
      if (done == downloads)
        return read_step::end;
      p->values.clear();
      p->number = done;
      for (int i = 0; i < rows; ++i) {
        p->values.push_back(done * rows + i);
        if (static_cast<int>(p->values.size()) == chunk) {
          hand_over(p);
          ++handed;
          p->values.clear(); // a recycled page holds an earlier one
          p->number = done;
        }
      }
      ++done;
      return read_step::page;
    },
    [](const test_page& p) { return p.failed; });
}

TEST(page_pipeline, a_chunked_reader_hands_out_every_value_once_in_order) {
  std::atomic<int> handed{0};
  auto pipe = chunked(2, 3, 1000, 300, handed); // per download: 3 chunks of 300, then the last 100
  int next_value = 0;
  int pages = 0;
  while (auto p = pipe.next()) {
    for (int v : p->values)
      ASSERT_EQ(v, next_value++);
    EXPECT_EQ(p->number, (next_value - 1) / 1000);
    ++pages;
    pipe.recycle(std::move(p));
  }
  EXPECT_EQ(next_value, 3000);
  EXPECT_EQ(pages, 12);
  EXPECT_EQ(handed.load(), 9);
}

TEST(page_pipeline, a_chunked_reader_waits_for_room_and_stops_with_the_caller) {
  std::atomic<int> handed{0};
  {
    auto pipe = chunked(2, 1, 1000000, 10, handed);
    auto first = pipe.next();
    ASSERT_TRUE(first);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (handed.load() < 3 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // an unbounded reader would go on meanwhile
    EXPECT_EQ(handed.load(), 3) << "the taken page and two queued: then it waits";
  } // destroyed mid-download: hand_over stops queueing, the reader finishes its call and the thread ends
  EXPECT_EQ(handed.load(), 100000) << "the download was read to its end, as a real one is, then the reading stopped";
}

} // namespace
} // namespace syncforce::engine_io
