// The admin pool (services/call_pool.hpp): a burst of slow admin calls runs
// on a fixed number of worker threads, the next ones wait in line, and one
// beyond the line is refused at once; nothing waits forever, nothing runs
// twice, and a call the pool never ran is answered as dropped.
#include "services/call_pool.hpp"

#include "actors/atoms.hpp"
#include "sync/clock.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

using namespace syncforce;
using namespace syncforce::services;
using namespace std::chrono_literals;

namespace {

/// Waits (polling) until `done` holds, for at most 20 s of real time.
template <class Pred>
bool eventually(Pred done) {
  const auto until = real_time().steady_now() + 20s;
  while (!done()) {
    if (real_time().steady_now() > until)
      return false;
    real_time().sleep_for(2ms);
  }
  return true;
}

/// Slow calls: each blocks until the test opens the gate, and leaves a trace
/// of how many ran at once and on which threads.
struct slow_calls {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  int running = 0;
  int most_at_once = 0;
  int started = 0;
  int finished = 0;
  int dropped = 0;
  std::set<std::thread::id> threads;
  std::vector<int> start_order;

  call_pool::call make(int n) {
    call_pool::call c;
    c.name = "slow call " + std::to_string(n);
    c.run = [this, n] {
      std::unique_lock<std::mutex> lock(mutex);
      ++running;
      ++started;
      most_at_once = std::max(most_at_once, running);
      threads.insert(std::this_thread::get_id());
      start_order.push_back(n);
      cv.wait(lock, [this] { return open; });
      --running;
    };
    c.finish = [this] {
      std::lock_guard<std::mutex> lock(mutex);
      ++finished;
    };
    c.dropped = [this] {
      std::lock_guard<std::mutex> lock(mutex);
      ++dropped;
    };
    return c;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      open = true;
    }
    cv.notify_all();
  }
  template <class F>
  auto read(F f) {
    std::lock_guard<std::mutex> lock(mutex);
    return f();
  }
};

actors::pool_status status_of(caf::actor_system& sys, const call_pool& pool) {
  actors::pool_status out;
  caf::scoped_actor self{sys};
  self->request(pool.pool(), caf::infinite, actors::status_atom::value)
    .receive([&](actors::pool_status& s) { out = s; },
             [&](caf::error& err) { ADD_FAILURE() << "the pool did not answer: " << caf::to_string(err); });
  return out;
}

} // namespace

TEST(call_pool, n_plus_one_slow_calls_use_n_threads_and_the_next_waits_in_line) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  slow_calls calls;
  {
    call_pool pool(sys, 2, 1); // 2 workers, 1 place in line
    ASSERT_EQ(pool.capacity(), 3u);
    ASSERT_TRUE(pool.submit(calls.make(1)));
    ASSERT_TRUE(pool.submit(calls.make(2)));
    ASSERT_TRUE(pool.submit(calls.make(3))); // N+1: waits for a worker
    // One beyond the line is refused at once, and none of it runs.
    auto refused = calls.make(4);
    bool touched = false;
    refused.run = [&touched] { touched = true; };
    refused.dropped = [&touched] { touched = true; };
    EXPECT_FALSE(pool.submit(std::move(refused)));

    ASSERT_TRUE(eventually([&] { return calls.read([&] { return calls.running == 2; }); }))
      << "two slow calls should be running";
    const auto s = status_of(sys, pool);
    EXPECT_EQ(s.workers, 2);
    EXPECT_EQ(s.busy, 2);
    EXPECT_EQ(s.queued, 1) << "the third call waits for a worker, it gets no thread of its own";
    EXPECT_EQ(calls.read([&] { return calls.started; }), 2);
    EXPECT_EQ(pool.admitted(), 3u);

    calls.release();
    ASSERT_TRUE(eventually([&] { return calls.read([&] { return calls.finished == 3; }); }));
    EXPECT_TRUE(eventually([&] { return pool.admitted() == 0; }));
    EXPECT_FALSE(touched);
    calls.read([&] {
      EXPECT_EQ(calls.most_at_once, 2);
      EXPECT_LE(calls.threads.size(), 2u) << "every call ran on one of the pool's two threads";
      EXPECT_EQ(calls.start_order.back(), 3) << "the waiting call ran after the first two";
      EXPECT_EQ(calls.dropped, 0);
      return 0;
    });
  }
}

TEST(call_pool, a_place_is_free_again_before_the_call_is_answered) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  call_pool pool(sys, 1, 0);
  std::atomic<int> second_ran{0};
  std::atomic<bool> accepted{false};
  std::atomic<bool> first_finished{false};
  call_pool::call first;
  first.name = "first";
  first.run = [] {};
  // A client that sends its next call the moment it has the answer must find room.
  first.finish = [&] {
    call_pool::call next;
    next.name = "next";
    next.run = [&] { ++second_ran; };
    accepted = pool.submit(std::move(next));
    first_finished = true;
  };
  ASSERT_TRUE(pool.submit(std::move(first)));
  ASSERT_TRUE(eventually([&] { return first_finished.load(); }));
  EXPECT_TRUE(accepted.load());
  EXPECT_TRUE(eventually([&] { return second_ran.load() == 1; }));
}

TEST(call_pool, calls_the_pool_never_ran_are_answered_as_dropped) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  slow_calls calls;
  {
    call_pool pool(sys, 1, 2);
    ASSERT_TRUE(pool.submit(calls.make(1)));
    ASSERT_TRUE(pool.submit(calls.make(2)));
    ASSERT_TRUE(pool.submit(calls.make(3)));
    ASSERT_TRUE(eventually([&] { return calls.read([&] { return calls.running == 1; }); }));
  } // the pool stops while one call runs and two wait
  ASSERT_TRUE(eventually([&] { return calls.read([&] { return calls.dropped == 2; }); }))
    << "both waiting calls must be answered";
  calls.release();
  ASSERT_TRUE(eventually([&] { return calls.read([&] { return calls.finished == 1; }); }))
    << "the running call ends normally";
  calls.read([&] {
    EXPECT_EQ(calls.started, 1);
    EXPECT_EQ(calls.dropped, 2);
    return 0;
  });
}

TEST(call_pool, a_call_whose_work_throws_is_answered_as_dropped_and_frees_its_place) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  call_pool pool(sys, 1, 0);
  std::atomic<int> finished{0};
  std::atomic<int> dropped{0};
  call_pool::call c;
  c.name = "throws";
  c.run = [] { throw std::runtime_error("boom"); };
  c.finish = [&] { ++finished; };
  c.dropped = [&] { ++dropped; };
  ASSERT_TRUE(pool.submit(std::move(c)));
  ASSERT_TRUE(eventually([&] { return dropped.load() == 1; }));
  EXPECT_EQ(finished.load(), 0);
  EXPECT_TRUE(eventually([&] { return pool.admitted() == 0; }));
}
