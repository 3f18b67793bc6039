// Deterministic tests of the writer actor (PostgreSQL -> Salesforce), driven
// one message at a time by CAF's test coordinator with a fake clock and an
// in-memory write_io: when cycles run, how notifications, full claims,
// transient failures and a spent budget change that, and the housekeeping flags.

#include "actors/atoms.hpp"
#include "actors/worker_pool.hpp"
#include "actors/errors.hpp"
#include "actors/writer_actor.hpp"

#include "tests/support/test_coordinator.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include <deque>

using namespace syncforce;
using namespace syncforce::actors;
using namespace std::chrono_literals;

namespace {

/// Answers each cycle with the next scripted outcome (ok when none is left).
class scripted_io : public write_io {
public:
  job_outcome write_cycle(worker_context&, const write_job& j) override {
    cycles.push_back(j);
    if (script.empty())
      return {};
    auto o = script.front();
    script.pop_front();
    return o;
  }
  static job_outcome more() {
    job_outcome o;
    o.more = true;
    return o;
  }

  std::deque<job_outcome> script;
  std::vector<write_job> cycles;
};

struct writer_sim : ::testing::Test, syncforce::testing::coordinated_system {
  writer_sim() : io(std::make_shared<scripted_io>()) {
    worker_pool_config pcfg;
    pcfg.size = 1;
    pcfg.detached = false;
    pool = sys.spawn(worker_pool, pcfg);
  }

  ~writer_sim() override {
    if (writer)
      caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void start() {
    writer_settings ws;
    ws.job.name = "demo";
    ws.job.schema = "salesforce";
    ws.fallback_poll = 10s;
    ws.retry = backoff_policy{1000ms, 8000ms, 2.0, 0.0};
    ws.budget_wait = 60s;
    ws.purge_every = 1h;
    writer = sys.spawn(writer_actor, ws, std::static_pointer_cast<write_io>(io), pool);
    caf::anon_send(writer, start_atom::value);
    sched.run();
  }

  void wake() {
    caf::anon_send(writer, wake_atom::value);
    sched.run();
  }

  std::size_t cycles() const { return io->cycles.size(); }

  std::shared_ptr<scripted_io> io;
  worker_pool_actor pool;
  writer_actor_hdl writer;
};

} // namespace

TEST_F(writer_sim, the_first_cycle_recovers_pending_entries_and_purges_then_each_wake_runs_one) {
  start();
  ASSERT_EQ(cycles(), 1u);
  EXPECT_TRUE(io->cycles[0].recover_pending);
  EXPECT_TRUE(io->cycles[0].purge_archive);
  wake();
  ASSERT_EQ(cycles(), 2u);
  EXPECT_FALSE(io->cycles[1].recover_pending);
  EXPECT_FALSE(io->cycles[1].purge_archive) << "the archive is purged once an hour";
  sched.advance_time(1h);
  sched.run();
  EXPECT_TRUE(io->cycles.back().purge_archive);
}

TEST_F(writer_sim, a_full_claim_runs_the_next_cycle_at_once) {
  io->script = {scripted_io::more(), scripted_io::more(), job_outcome{}};
  start();
  EXPECT_EQ(cycles(), 3u) << "two full claims, then the rest";
  wake();
  EXPECT_EQ(cycles(), 4u);
}

TEST_F(writer_sim, the_fallback_poll_runs_a_cycle_without_notifications) {
  start();
  ASSERT_EQ(cycles(), 1u);
  sched.advance_time(10s);
  sched.run();
  EXPECT_EQ(cycles(), 2u);
  sched.advance_time(10s);
  sched.run();
  EXPECT_EQ(cycles(), 3u);
}

TEST_F(writer_sim, transient_failures_back_off_and_notifications_do_not_cut_the_wait) {
  io->script = {job_outcome::failure(outcome_kind::retry, "SERVER_UNAVAILABLE (503)"),
                job_outcome::failure(outcome_kind::retry, "SERVER_UNAVAILABLE (503)")};
  start();
  ASSERT_EQ(cycles(), 1u);
  wake();
  wake();
  EXPECT_EQ(cycles(), 1u) << "a NOTIFY during the backoff waits for it";
  sched.advance_time(1s);
  sched.run();
  EXPECT_EQ(cycles(), 2u);
  sched.advance_time(1s);
  sched.run();
  EXPECT_EQ(cycles(), 2u) << "the second wait is twice as long";
  sched.advance_time(1s);
  sched.run();
  EXPECT_EQ(cycles(), 3u);
  EXPECT_TRUE(io->cycles[2].recover_pending) << "recovery is asked for until a cycle succeeds";
  wake();
  EXPECT_EQ(cycles(), 4u) << "after a success, notifications run cycles again";
  EXPECT_FALSE(io->cycles[3].recover_pending);
}

TEST_F(writer_sim, a_spent_budget_waits_the_budget_wait) {
  io->script = {job_outcome::failure(outcome_kind::budget, "API budget exhausted")};
  start();
  ASSERT_EQ(cycles(), 1u);
  wake();
  sched.advance_time(59s);
  sched.run();
  EXPECT_EQ(cycles(), 1u);
  sched.advance_time(1s);
  sched.run();
  EXPECT_GE(cycles(), 2u);
}

// The node dies mid-write as far as the lease goes: its cycle's commit was refused
// by a stale epoch (fenced). The writer stops at once, sends nothing more, and the
// writer the new owner starts recovers PENDING entries before anything else.
TEST_F(writer_sim, a_cycle_refused_by_a_stale_epoch_stops_the_writer_and_the_next_owner_recovers_first) {
  io->script = {job_outcome{}, job_outcome::failure(outcome_kind::fenced, "the lease on writer:c1 (epoch 3) is no "
                                                                          "longer node-a's: the write was refused")};
  start();
  ASSERT_EQ(cycles(), 1u);
  caf::scoped_actor self{sys};
  self->monitor(writer);
  wake();
  ASSERT_EQ(cycles(), 2u);
  caf::error reason;
  self->receive([&](caf::down_msg& d) { reason = d.reason; });
  EXPECT_EQ(reason.code(), static_cast<std::uint8_t>(engine_errc::lease_lost)) << caf::to_string(reason);
  sched.advance_time(1h); // no retry, no fallback poll: the old owner is gone for good
  sched.run();
  EXPECT_EQ(cycles(), 2u);

  start(); // the new owner's writer
  ASSERT_EQ(cycles(), 3u);
  EXPECT_TRUE(io->cycles[2].recover_pending) << "PENDING entries go back to NEW (in doubt settled) before a send";
}
