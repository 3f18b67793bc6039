// The writer's lifecycle as a table (sync/writer_lifecycle.hpp): for each
// state and event, the actions and the next state. No CAF: the actor only
// carries these out (writer_sim_test.cpp checks that it does).

#include "sync/writer_lifecycle.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace syncforce;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;
const clock_type::time_point t0{std::chrono::hours(1)};

/// A state in short: busy, dirty, stopping, first, failures.
writer_status status(bool busy, bool dirty, bool stopping, bool first, int failures) {
  writer_status s;
  s.busy = busy;
  s.dirty = dirty;
  s.stopping = stopping;
  s.first = first;
  s.failures = failures;
  s.last_purge = t0; // purged just now (the purge has its own test)
  return s;
}

/// The actions in short: "run(recover)", "run", "wait(backoff,2)", "wait(budget,1)", "wake", "quit(shutdown)", ...
std::string describe(const writer_actions& a) {
  std::string out;
  auto add = [&](const std::string& x) { out += (out.empty() ? "" : " ") + x; };
  if (a.run)
    add(std::string("run") + (a.run->recover_pending ? "(recover)" : ""));
  if (a.wait_then_retry)
    add(std::string("wait(") + (a.wait_then_retry->kind == wait_kind::budget ? "budget" : "backoff") + "," +
        std::to_string(a.wait_then_retry->attempt) + ")");
  if (a.wake_again)
    add("wake");
  if (a.quit)
    add(std::string("quit(") + (*a.quit == writer_actions::quit_reason::lease_lost ? "lease_lost" : "shutdown") + ")");
  return out.empty() ? "-" : out;
}

std::string describe(const writer_status& s) {
  return std::string(s.busy ? "busy" : "idle") + (s.dirty ? ",dirty" : "") + (s.stopping ? ",stopping" : "") +
         (s.first ? ",first" : "") + ",failures=" + std::to_string(s.failures);
}

struct event_row {
  const char* name;
  writer_status before;
  writer_event event;
  const char* actions;
  const char* after;
};

struct end_row {
  const char* name;
  writer_status before;
  cycle_end end;
  const char* actions;
  const char* after;
};

} // namespace

TEST(writer_lifecycle, every_event_in_every_state) {
  const event_row rows[] = {
    {"first wake runs a recovering cycle", status(false, false, false, true, 0), writer_event::wake, "run(recover)",
     "busy,first,failures=0"},
    {"a wake when idle runs a cycle", status(false, false, false, false, 0), writer_event::wake, "run",
     "busy,failures=0"},
    {"a wake while busy marks dirty", status(true, false, false, false, 0), writer_event::wake, "-",
     "busy,dirty,failures=0"},
    {"a wake during a backoff does not cut it short", status(false, false, false, true, 2), writer_event::wake, "-",
     "idle,first,failures=2"},
    {"the fallback tick runs a cycle", status(false, false, false, false, 0), writer_event::tick, "run",
     "busy,failures=0"},
    {"the fallback tick during a backoff waits", status(false, false, false, true, 1), writer_event::tick, "-",
     "idle,first,failures=1"},
    {"the end of a wait runs a recovering cycle", status(false, false, false, true, 3), writer_event::retry_due,
     "run(recover)", "busy,first,failures=3"},
    {"the end of a wait while busy marks dirty", status(true, false, false, true, 3), writer_event::retry_due, "-",
     "busy,dirty,first,failures=3"},
    {"stop when idle quits", status(false, false, false, false, 0), writer_event::stop, "quit(shutdown)",
     "idle,stopping,failures=0"},
    {"stop while busy waits for the cycle", status(true, false, false, false, 0), writer_event::stop, "-",
     "busy,stopping,failures=0"},
    {"nothing runs once stopping", status(false, false, true, false, 0), writer_event::wake, "-",
     "idle,stopping,failures=0"},
    {"no retry once stopping", status(false, false, true, true, 1), writer_event::retry_due, "-",
     "idle,stopping,first,failures=1"},
  };
  for (const auto& r : rows) {
    auto s = r.before;
    auto a = on_event(s, r.event, t0, 1h);
    EXPECT_EQ(describe(a), r.actions) << r.name;
    EXPECT_EQ(describe(s), r.after) << r.name;
  }
}

TEST(writer_lifecycle, every_end_of_a_cycle) {
  const end_row rows[] = {
    {"a drained log clears the failures", status(true, false, false, true, 2), cycle_end::done, "-",
     "idle,failures=0"},
    {"a full claim runs again at once", status(true, false, false, false, 0), cycle_end::more, "wake",
     "idle,failures=0"},
    {"a wake during the cycle runs again at once", status(true, true, false, false, 0), cycle_end::done, "wake",
     "idle,dirty,failures=0"},
    {"transient trouble backs off and recovers first", status(true, false, false, false, 0), cycle_end::retry,
     "wait(backoff,1)", "idle,first,failures=1"},
    {"the backoff grows", status(true, false, false, true, 2), cycle_end::retry, "wait(backoff,3)",
     "idle,first,failures=3"},
    {"a spent budget waits the budget wait", status(true, false, false, false, 0), cycle_end::budget,
     "wait(budget,1)", "idle,first,failures=1"},
    {"a refused lease stops for good", status(true, true, false, false, 0), cycle_end::fenced, "quit(lease_lost)",
     "idle,dirty,failures=0"},
    {"stopping quits whatever the end", status(true, false, true, false, 0), cycle_end::retry, "quit(shutdown)",
     "idle,stopping,failures=0"},
    {"stopping quits after a fenced end too", status(true, false, true, false, 0), cycle_end::fenced,
     "quit(shutdown)", "idle,stopping,failures=0"},
  };
  for (const auto& r : rows) {
    auto s = r.before;
    auto a = on_cycle_end(s, r.end);
    EXPECT_EQ(describe(a), r.actions) << r.name;
    EXPECT_EQ(describe(s), r.after) << r.name;
  }
}

TEST(writer_lifecycle, the_archive_is_purged_on_the_first_cycle_then_once_per_interval) {
  writer_status s;
  auto a = on_event(s, writer_event::wake, t0, 1h);
  ASSERT_TRUE(a.run);
  EXPECT_TRUE(a.run->purge_archive);
  on_cycle_end(s, cycle_end::done);
  a = on_event(s, writer_event::wake, t0 + 59min, 1h);
  ASSERT_TRUE(a.run);
  EXPECT_FALSE(a.run->purge_archive);
  on_cycle_end(s, cycle_end::done);
  a = on_event(s, writer_event::tick, t0 + 1h, 1h);
  ASSERT_TRUE(a.run);
  EXPECT_TRUE(a.run->purge_archive);
  EXPECT_EQ(s.last_purge, t0 + 1h);
}
