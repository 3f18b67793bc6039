// Deterministic tests of the sync engine's actors (mapping state machine,
// integration user's cursor pool and API budget, connection supervision),
// driven one message at a time by CAF's test coordinator with a fake clock.
// Workers are scheduled (not detached) and the sync_io is an in-memory fake,
// so nothing here does I/O or depends on thread timing.

#include "actors/atoms.hpp"
#include "actors/connection_actor.hpp"
#include "actors/errors.hpp"
#include "actors/integration_user.hpp"
#include "actors/mapping_actor.hpp"
#include "actors/worker_pool.hpp"

#include "tests/support/test_coordinator.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace syncforce;
using namespace syncforce::actors;
using namespace std::chrono_literals;

namespace {

/// Remembers the persisted state of every mapping and what was asked of it.
class fake_io : public sync_io {
public:
  struct stored {
    std::string state = "INITIAL";
    std::string description;
    std::string hwm;
    int reloads = 0;
    int polls = 0;
    std::vector<std::string> history; ///< persisted states in order
    std::vector<std::string> prepared_fields; ///< the fields of the last prepare_mapping
    std::vector<std::vector<std::string>> backfilled;
  };

  job_outcome prepare_connection(worker_context&, const connection_job&) override {
    ++connection_prepares;
    return {};
  }
  job_outcome load_mapping(worker_context&, const mapping_job& j) override {
    job_outcome o;
    o.stored_state = parse_mapping_state(db[j.mapping_id].state);
    o.hwm = db[j.mapping_id].hwm;
    return o;
  }
  job_outcome prepare_mapping(worker_context&, const mapping_job& j) override {
    if (crash_prepare.count(j.mapping_id))
      return job_outcome::failure(outcome_kind::fatal, "table " + j.mapping_id + " is cursed");
    auto& s = db[j.mapping_id];
    s.prepared_fields = j.config.fields;
    job_outcome o;
    auto added = new_columns.find(j.mapping_id);
    if (added != new_columns.end()) {
      o.columns = added->second;
      new_columns.erase(added);
    }
    return o;
  }
  job_outcome take_command(worker_context&, const mapping_job& j) override {
    job_outcome o;
    auto c = commands.find(j.mapping_id);
    if (c == commands.end())
      return o;
    auto& s = db[j.mapping_id];
    if (c->second == "reload")
      persist(j.mapping_id, "RELOAD_TABLE", "");
    else if (c->second == "abort")
      persist(j.mapping_id, s.hwm.empty() ? "ABORTED" : "DATA_SYNCED", "");
    else
      persist(j.mapping_id, s.hwm.empty() ? "INITIAL" : "DATA_SYNCED", "");
    o.command = parse_mapping_command(c->second);
    commands.erase(c);
    ++commands_taken;
    return o;
  }
  job_outcome reload(worker_context&, const mapping_job& j) override {
    auto& s = db[j.mapping_id];
    ++s.reloads;
    if (fence_reload.erase(j.mapping_id))
      return job_outcome::failure(outcome_kind::fenced, "the lease on mapping:" + j.mapping_id +
                                                          " (epoch 1) is no longer node-a's: the write was refused");
    if (crash_reload.count(j.mapping_id))
      return job_outcome::failure(outcome_kind::fatal, "reload failed");
    s.hwm = "2024-01-01T00:00:00.000Z";
    persist(j.mapping_id, "DATA_SYNCED", "");
    job_outcome o;
    o.hwm = s.hwm;
    o.rows = 10;
    return o;
  }
  job_outcome backfill(worker_context&, const mapping_job& j, const std::vector<std::string>& columns) override {
    db[j.mapping_id].backfilled.push_back(columns);
    return {};
  }

  job_outcome poll(worker_context&, const mapping_job& j) override {
    auto& s = db[j.mapping_id];
    ++s.polls;
    if (poll_failures > 0) {
      --poll_failures;
      return job_outcome::failure(outcome_kind::retry, "503 SERVER_UNAVAILABLE");
    }
    if (limit_exceeded)
      return job_outcome::failure(outcome_kind::budget,
                                  "API budget exhausted: REQUEST_LIMIT_EXCEEDED (403): TotalRequests Limit exceeded.");
    EXPECT_EQ(j.hwm.value_or(""), s.hwm) << "a poll starts from the stored mark";
    s.hwm = "2024-01-0" + std::to_string(std::min(9, 1 + s.polls)) + "T00:00:00.000Z";
    persist(j.mapping_id, "DATA_SYNCED", "");
    job_outcome o;
    o.hwm = s.hwm;
    o.api_calls = calls_per_poll;
    return o;
  }
  job_outcome sweep(worker_context&, const mapping_job& j) override {
    ++sweeps;
    EXPECT_EQ(j.hwm.value_or(""), db[j.mapping_id].hwm) << "a sweep looks back from the stored mark";
    if (sweep_budget_failures > 0) {
      --sweep_budget_failures;
      return job_outcome::failure(outcome_kind::budget, "API budget exhausted: REQUEST_LIMIT_EXCEEDED");
    }
    return {};
  }
  job_outcome save_state(worker_context&, const mapping_job& j, mapping_state state,
                         const std::string& description) override {
    persist(j.mapping_id, std::string{to_string(state)}, description);
    return {};
  }

  void persist(const std::string& id, const std::string& state, const std::string& description) {
    auto& s = db[id];
    s.state = state;
    s.description = description;
    s.history.push_back(state);
  }

  std::map<std::string, stored> db;
  std::set<std::string> crash_prepare;
  std::set<std::string> crash_reload;
  /// The next reload of these ends refused by the lease fence (the lease moved meanwhile).
  std::set<std::string> fence_reload;
  int poll_failures = 0;
  int sweeps = 0;
  int sweep_budget_failures = 0;
  bool limit_exceeded = false;
  long calls_per_poll = 0;
  int connection_prepares = 0;
  /// prepare_mapping reports these columns to backfill (once).
  std::map<std::string, std::vector<std::string>> new_columns;
  /// Admin commands waiting in the "store".
  std::map<std::string, std::string> commands;
  int commands_taken = 0;
};

struct engine_sim : ::testing::Test, syncforce::testing::coordinated_system {
  engine_sim() : io(std::make_shared<fake_io>()) {
    worker_pool_config pcfg;
    pcfg.size = 2;
    pcfg.detached = false;
    pool = sys.spawn(worker_pool, pcfg);
  }

  ~engine_sim() override {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    sched.run();
  }

  mapping_settings mapping(const std::string& id) {
    mapping_settings m;
    m.job.mapping_id = id;
    m.job.schema = "salesforce";
    m.job.config.object_name = "Contact";
    m.job.config.fields = {"Id", "SystemModstamp", "LastName"};
    m.poll_interval = 120s;
    m.retry = backoff_policy{1000ms, 8000ms, 2.0, 0.0};
    m.budget_wait = 60s;
    return m;
  }

  integration_user_actor spawn_user(int cursor_limit) {
    integration_user_config u;
    u.username = "admin@sfemu.local";
    u.cursor_limit = cursor_limit;
    auto h = sys.spawn(integration_user, u);
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  mapping_actor_hdl spawn_mapping(const mapping_settings& m, cursor_broker_actor user) {
    auto h = sys.spawn(mapping_actor, m, std::static_pointer_cast<sync_io>(io), pool, user, mapping_parent{});
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    caf::anon_send(h, start_atom::value);
    return h;
  }

  /// (held, peak, delayed, waiting)
  std::tuple<int, int, int, int> user_status(const cursor_broker_actor& user) {
    std::tuple<int, int, int, int> out;
    caf::scoped_actor self{sys};
    self->send(user, status_atom::value);
    sched.run();
    self->receive([&](broker_status& s) { out = std::make_tuple(s.held, s.peak, s.delayed, s.waiting); });
    return out;
  }

  std::pair<std::string, std::string> mapping_status(const mapping_actor_hdl& m) {
    std::pair<std::string, std::string> out;
    caf::scoped_actor self{sys};
    self->send(m, status_atom::value);
    sched.run();
    self->receive([&](std::string& state, std::string& description) { out = {state, description}; });
    return out;
  }

  std::shared_ptr<fake_io> io;
  worker_pool_actor pool;
  std::vector<caf::actor> spawned;
};

} // namespace

TEST_F(engine_sim, fresh_mapping_goes_initial_reload_table_data_synced) {
  auto user = spawn_user(0);
  auto m = spawn_mapping(mapping("m1"), user);
  sched.run();
  const auto& s = io->db["m1"];
  EXPECT_EQ(s.history, (std::vector<std::string>{"INITIAL", "RELOAD_TABLE", "DATA_SYNCED"}));
  EXPECT_EQ(s.reloads, 1);
  EXPECT_EQ(s.polls, 0);
  EXPECT_EQ(mapping_status(m).first, "DATA_SYNCED");
  EXPECT_EQ(std::get<0>(user_status(user)), 0) << "the cursor was given back";

  // Polls come every poll_interval, from the mark the last step reached.
  sched.advance_time(120s);
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 1);
  sched.advance_time(120s);
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 2);
  EXPECT_EQ(io->db["m1"].reloads, 1);
}

TEST_F(engine_sim, a_synced_mapping_resumes_polling_from_its_stored_mark) {
  io->db["m1"].state = "DATA_SYNCED";
  io->db["m1"].hwm = "2024-01-01T00:00:00.000Z";
  auto user = spawn_user(0);
  auto m = spawn_mapping(mapping("m1"), user);
  sched.run();
  EXPECT_EQ(io->db["m1"].reloads, 0);
  EXPECT_EQ(io->db["m1"].polls, 1) << "catches up at once after a restart";
  EXPECT_EQ(mapping_status(m).first, "DATA_SYNCED");
}

TEST_F(engine_sim, sweeps_run_between_polls_and_a_poll_due_meanwhile_waits_for_the_sweep) {
  io->db["m1"].state = "DATA_SYNCED";
  io->db["m1"].hwm = "2024-01-01T00:00:00.000Z";
  io->sweep_budget_failures = 1;
  auto cfg = mapping("m1");
  cfg.poll_interval = 90s;
  cfg.job.config.read_repair.sweep_seconds = 60;
  auto user = spawn_user(0);
  auto m = spawn_mapping(cfg, user);
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 1);
  EXPECT_EQ(io->sweeps, 0) << "the first sweep comes one interval after the first sync";
  sched.advance_time(60s); // t=60: the sweep finds the budget spent and waits a minute
  sched.run();
  EXPECT_EQ(io->sweeps, 1);
  sched.advance_time(30s); // t=90: the poll is due, but the sweep holds the read side
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 1) << "no poll while a sweep is unfinished";
  sched.advance_time(30s); // t=120: the sweep goes through, then the waiting poll runs
  sched.run();
  EXPECT_EQ(io->sweeps, 2);
  EXPECT_EQ(io->db["m1"].polls, 2);
  EXPECT_EQ(mapping_status(m), std::make_pair(std::string{"DATA_SYNCED"}, std::string{}));
  sched.advance_time(60s); // t=180: the next sweep, on its interval after the last one
  sched.run();
  EXPECT_EQ(io->sweeps, 3);
}

TEST_F(engine_sim, sweeps_stay_off_with_zero_seconds) {
  io->db["m1"].state = "DATA_SYNCED";
  io->db["m1"].hwm = "2024-01-01T00:00:00.000Z";
  auto cfg = mapping("m1");
  cfg.job.config.read_repair.sweep_seconds = 0;
  auto user = spawn_user(0);
  spawn_mapping(cfg, user);
  sched.run();
  for (int i = 0; i < 10; ++i) {
    sched.advance_time(600s);
    sched.run();
  }
  EXPECT_EQ(io->sweeps, 0);
  EXPECT_GE(io->db["m1"].polls, 10);
}

TEST_F(engine_sim, legacy_cursor_pool_makes_the_second_mapping_wait) {
  auto user = spawn_user(1);
  spawn_mapping(mapping("m1"), user);
  spawn_mapping(mapping("m2"), user);
  sched.run();
  auto [held, peak, delayed, waiting] = user_status(user);
  EXPECT_EQ(held, 0);
  EXPECT_EQ(peak, 1) << "never more cursors than the limit";
  EXPECT_GE(delayed, 1) << "one mapping had to wait for the cursor";
  EXPECT_EQ(waiting, 0);
  EXPECT_EQ(io->db["m1"].state, "DATA_SYNCED");
  EXPECT_EQ(io->db["m2"].state, "DATA_SYNCED");
}

TEST_F(engine_sim, without_a_limit_nobody_waits) {
  auto user = spawn_user(0);
  spawn_mapping(mapping("m1"), user);
  spawn_mapping(mapping("m2"), user);
  sched.run();
  auto [held, peak, delayed, waiting] = user_status(user);
  EXPECT_EQ(held, 0);
  EXPECT_EQ(delayed, 0);
  EXPECT_EQ(peak, 2);
  (void)waiting;
}

TEST_F(engine_sim, a_crashing_mapping_gives_its_cursor_back) {
  io->crash_reload.insert("bad");
  auto user = spawn_user(1);
  spawn_mapping(mapping("bad"), user);
  spawn_mapping(mapping("good"), user);
  sched.run();
  EXPECT_EQ(io->db["good"].state, "DATA_SYNCED");
  EXPECT_EQ(std::get<0>(user_status(user)), 0);
}

// A node dies mid-load as far as its lease goes: the load's commit is refused by
// a stale epoch. The mapping stops at once without a retry or a crash count and
// gives its cursor back; the new owner's mapping loads from the stored state.
TEST_F(engine_sim, a_load_refused_by_a_stale_epoch_stops_the_mapping_and_the_new_owner_loads) {
  io->fence_reload.insert("m1");
  auto user = spawn_user(10);
  caf::scoped_actor self{sys};
  auto old_owner = spawn_mapping(mapping("m1"), user);
  self->monitor(old_owner);
  sched.run();
  caf::error reason;
  self->receive([&](caf::down_msg& d) { reason = d.reason; });
  EXPECT_EQ(reason.code(), static_cast<std::uint8_t>(engine_errc::lease_lost)) << caf::to_string(reason);
  EXPECT_EQ(std::get<0>(user_status(user)), 0) << "the cursor was given back";
  EXPECT_EQ(io->db["m1"].reloads, 1);
  EXPECT_TRUE(io->db["m1"].hwm.empty()) << "nothing of the refused load was kept";
  sched.advance_time(1h);
  sched.run();
  EXPECT_EQ(io->db["m1"].reloads, 1) << "the old owner never tries again";

  auto new_owner = spawn_mapping(mapping("m1"), user);
  sched.run();
  EXPECT_EQ(io->db["m1"].reloads, 2);
  EXPECT_EQ(mapping_status(new_owner).first, "DATA_SYNCED");
  EXPECT_FALSE(io->db["m1"].hwm.empty());
}

TEST_F(engine_sim, transient_failures_wait_with_backoff_then_catch_up) {
  io->db["m1"].state = "DATA_SYNCED";
  io->db["m1"].hwm = "2024-01-01T00:00:00.000Z";
  io->poll_failures = 2;
  auto user = spawn_user(0);
  auto m = spawn_mapping(mapping("m1"), user);
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 1);
  auto st = mapping_status(m);
  EXPECT_NE(st.second.find("SERVER_UNAVAILABLE"), std::string::npos) << "the state says why it waits";
  sched.advance_time(1s); // first retry after 1 s
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 2);
  sched.advance_time(1s); // the second waits 2 s
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 2);
  sched.advance_time(1s);
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 3);
  EXPECT_EQ(mapping_status(m), std::make_pair(std::string{"DATA_SYNCED"}, std::string{}));
  EXPECT_EQ(io->db["m1"].hwm, "2024-01-04T00:00:00.000Z");
}

TEST_F(engine_sim, an_exhausted_api_budget_makes_mappings_wait_with_one_probe_per_interval) {
  io->db["m1"].state = "DATA_SYNCED";
  io->db["m1"].hwm = "2024-01-01T00:00:00.000Z";
  io->limit_exceeded = true;
  auto user = spawn_user(0);
  caf::anon_send(user, usage_atom::value, int64_t{15000}, int64_t{15000});
  sched.run();
  auto m = spawn_mapping(mapping("m1"), user);
  sched.run();
  // One request goes through to learn whether the budget came back; it did not.
  EXPECT_EQ(io->db["m1"].polls, 1);
  sched.advance_time(59s); // the mapping waits the budget wait, not the short backoff
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 1);
  EXPECT_NE(mapping_status(m).second.find("API budget exhausted"), std::string::npos) << mapping_status(m).second;
  EXPECT_NE(io->db["m1"].description.find("API budget exhausted"), std::string::npos)
    << "the stored state says why the mapping waits: " << io->db["m1"].description;
  sched.advance_time(1s); // the next probe
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 2);
  // The budget comes back (a rolling 24 hours): the next probe's answer says so.
  io->limit_exceeded = false;
  caf::anon_send(user, usage_atom::value, int64_t{10}, int64_t{15000});
  sched.run();
  for (int i = 0; i < 3; ++i) {
    sched.advance_time(60s);
    sched.run();
  }
  EXPECT_GE(io->db["m1"].polls, 3);
  EXPECT_EQ(io->db["m1"].state, "DATA_SYNCED");
  EXPECT_EQ(io->db["m1"].description, "");
  EXPECT_EQ(mapping_status(m).second, "");
}

TEST_F(engine_sim, a_mapping_stays_within_its_own_daily_api_cap) {
  io->db["m1"].state = "DATA_SYNCED";
  io->db["m1"].hwm = "2024-01-01T00:00:00.000Z";
  io->calls_per_poll = 4;
  auto user = spawn_user(0);
  // The wall clock only moves when the test says so: a day starts at midnight UTC.
  auto day = std::make_shared<manual_time>(std::chrono::system_clock::time_point{std::chrono::hours(24 * 20000)});
  auto cfg = mapping("m1");
  cfg.job.config.sf_max_daily_api_calls = 10;
  cfg.time = day;
  auto m = spawn_mapping(cfg, user);
  sched.run();
  for (int i = 0; i < 5; ++i) {
    sched.advance_time(120s);
    sched.run();
  }
  // 4 calls per poll: the third poll reaches 12 >= 10, then the mapping waits for the next UTC day.
  EXPECT_EQ(io->db["m1"].polls, 3);
  EXPECT_NE(mapping_status(m).second.find("sf_max_daily_api_calls reached"), std::string::npos)
    << mapping_status(m).second;
  day->advance(std::chrono::hours(24));
  sched.advance_time(120s);
  sched.run();
  EXPECT_EQ(io->db["m1"].polls, 4);
  EXPECT_EQ(mapping_status(m).second, "");
}

TEST_F(engine_sim, connection_restarts_a_crashing_mapping_then_parks_it_without_touching_others) {
  io->crash_prepare.insert("bad");
  auto user = spawn_user(10);
  connection_settings cs;
  cs.connection.connection_id = "c1";
  cs.connection.name = "demo";
  cs.connection.schema = "salesforce";
  cs.mappings = {mapping("good"), mapping("bad")};
  cs.restart = backoff_policy{1000ms, 4000ms, 2.0, 0.0};
  cs.mapping_restarts.max_restarts = 3;
  auto conn = sys.spawn(connection_actor, cs, std::static_pointer_cast<sync_io>(io), pool, user);
  spawned.push_back(caf::actor_cast<caf::actor>(conn));
  caf::anon_send(conn, start_atom::value);
  sched.run();
  EXPECT_EQ(io->connection_prepares, 1);
  EXPECT_EQ(io->db["good"].state, "DATA_SYNCED");
  for (int i = 0; i < 10; ++i) {
    sched.advance_time(4s);
    sched.run();
  }
  EXPECT_EQ(io->db["bad"].state, "SYSTEM_ERROR");
  EXPECT_NE(io->db["bad"].description.find("cursed"), std::string::npos) << io->db["bad"].description;
  // Started once, restarted mapping_restarts.max_restarts times: each run persisted INITIAL first.
  EXPECT_EQ(std::count(io->db["bad"].history.begin(), io->db["bad"].history.end(), "INITIAL"), 4);
  // The good mapping kept polling all along.
  EXPECT_GE(io->db["good"].polls, 0);
  auto polls_before = io->db["good"].polls;
  sched.advance_time(120s);
  sched.run();
  EXPECT_EQ(io->db["good"].polls, polls_before + 1);
  EXPECT_EQ(io->db["good"].reloads, 1);
  {
    caf::scoped_actor self{sys};
    self->send(conn, status_atom::value);
    sched.run();
    self->receive([](int32_t running, int32_t parked) {
      EXPECT_EQ(running, 1);
      EXPECT_EQ(parked, 1);
    });
  }
}

// ---------------------------------------------------------------------------
// Live reconfiguration: edits, commands, pause and resume, deletes
// ---------------------------------------------------------------------------

namespace {

struct reconfigure_sim : engine_sim {
  connection_settings connection(std::vector<mapping_settings> mappings) {
    connection_settings cs;
    cs.connection.connection_id = "c1";
    cs.connection.name = "demo";
    cs.connection.schema = "salesforce";
    cs.mappings = std::move(mappings);
    cs.restart = backoff_policy{1000ms, 4000ms, 2.0, 0.0};
    return cs;
  }

  connection_actor_hdl start(const connection_settings& cs) {
    auto conn = sys.spawn(connection_actor, cs, std::static_pointer_cast<sync_io>(io), pool, spawn_user(0));
    spawned.push_back(caf::actor_cast<caf::actor>(conn));
    caf::anon_send(conn, start_atom::value);
    sched.run();
    return conn;
  }

  void reconfigure(const connection_actor_hdl& conn, connection_settings cs) {
    caf::anon_send(conn, reconfigure_atom::value, std::move(cs));
    sched.run();
  }

  std::pair<int, int> running_and_parked(const connection_actor_hdl& conn) {
    std::pair<int, int> out;
    caf::scoped_actor self{sys};
    self->send(conn, status_atom::value);
    sched.run();
    self->receive([&](int32_t running, int32_t parked) { out = {running, parked}; });
    return out;
  }

  void wait_polls(int n) {
    for (int i = 0; i < n; ++i) {
      sched.advance_time(120s);
      sched.run();
    }
  }
};

} // namespace

namespace {

/// Records every running report a connection sends (the engine's role toward the cluster member).
running_reporter::behavior_type recording_reporter(running_reporter::pointer,
                                                   std::shared_ptr<std::vector<std::vector<std::string>>> reports) {
  return {
    [reports](running_atom, const std::string&, std::vector<std::string>& units) { reports->push_back(units); },
  };
}

} // namespace

TEST_F(reconfigure_sim, a_connection_starting_many_mappings_reports_what_runs_once_not_once_per_mapping) {
  // Each report carries every running unit: one per mapping started made 1,000 mappings send
  // ~500,000 unit ids through the engine to the cluster member at every start.
  auto reports = std::make_shared<std::vector<std::vector<std::string>>>();
  auto reporter = sys.spawn(recording_reporter, reports);
  spawned.push_back(caf::actor_cast<caf::actor>(reporter));
  std::vector<mapping_settings> ms;
  for (int i = 0; i < 50; ++i)
    ms.push_back(mapping("m" + std::to_string(i)));
  auto cs = connection(ms);
  cs.reporter = reporter;
  auto conn = start(cs);
  EXPECT_EQ(running_and_parked(conn).first, 50);
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ(reports->back().size(), 50u);
  EXPECT_EQ(reports->back().front(), "mapping:m0");
  // A mapping deleted later is reported on its own, as before.
  ms.pop_back();
  auto next = connection(ms);
  next.reporter = reporter;
  reconfigure(conn, next);
  ASSERT_GE(reports->size(), 2u);
  EXPECT_EQ(reports->back().size(), 49u);
}

TEST_F(reconfigure_sim, an_edited_mapping_restarts_with_its_new_fields_and_backfills_without_a_reload) {
  auto m = mapping("m1");
  auto conn = start(connection({m}));
  ASSERT_EQ(io->db["m1"].state, "DATA_SYNCED");
  ASSERT_EQ(io->db["m1"].reloads, 1);
  auto edited = m;
  edited.revision = 2;
  edited.job.config.fields.push_back("Email");
  io->new_columns["m1"] = {"email"};
  reconfigure(conn, connection({edited}));
  const auto& s = io->db["m1"];
  EXPECT_EQ(s.reloads, 1) << "an edit is no reload";
  EXPECT_EQ(s.prepared_fields.back(), "Email");
  ASSERT_EQ(s.backfilled.size(), 1u);
  EXPECT_EQ(s.backfilled[0], std::vector<std::string>{"email"});
  auto resync = std::find(s.history.begin(), s.history.end(), "RESYNC");
  ASSERT_NE(resync, s.history.end());
  EXPECT_EQ(s.history.back(), "DATA_SYNCED");
  auto polls = s.polls;
  wait_polls(1);
  EXPECT_EQ(io->db["m1"].polls, polls + 1) << "it keeps polling";
  EXPECT_EQ(running_and_parked(conn), std::make_pair(1, 0));
}

TEST_F(reconfigure_sim, an_unchanged_mapping_is_not_touched_by_a_reconfigure) {
  auto conn = start(connection({mapping("m1"), mapping("m2")}));
  auto history = io->db["m1"].history;
  auto other = mapping("m2");
  other.revision = 2;
  reconfigure(conn, connection({mapping("m1"), other}));
  EXPECT_EQ(io->db["m1"].history, history) << "m1 kept running as it was";
  EXPECT_EQ(running_and_parked(conn), std::make_pair(2, 0));
}

TEST_F(reconfigure_sim, pause_stops_polling_and_resume_continues_from_the_mark) {
  auto conn = start(connection({mapping("m1"), mapping("m2")}));
  wait_polls(1);
  auto cs = connection({mapping("m1"), mapping("m2")});
  cs.paused = true;
  reconfigure(conn, cs);
  EXPECT_EQ(running_and_parked(conn), std::make_pair(0, 0));
  auto polls = io->db["m1"].polls;
  auto mark = io->db["m1"].hwm;
  wait_polls(5);
  EXPECT_EQ(io->db["m1"].polls, polls) << "no poll while paused";
  cs.paused = false;
  reconfigure(conn, cs);
  EXPECT_EQ(running_and_parked(conn), std::make_pair(2, 0));
  EXPECT_EQ(io->db["m1"].polls, polls + 1) << "resume catches up at once";
  EXPECT_EQ(io->db["m1"].reloads, 1) << "from the stored mark " << mark << ", no reload";
}

TEST_F(reconfigure_sim, a_reload_command_is_taken_once_and_loads_the_table_again) {
  auto m = mapping("m1");
  auto conn = start(connection({m}));
  io->commands["m1"] = "reload";
  m.command = mapping_command::reload;
  reconfigure(conn, connection({m}));
  EXPECT_EQ(io->commands_taken, 1);
  EXPECT_EQ(io->db["m1"].reloads, 2);
  EXPECT_EQ(io->db["m1"].state, "DATA_SYNCED");
  // The same settings again (the command already taken): nothing more happens.
  reconfigure(conn, connection({mapping("m1")}));
  EXPECT_EQ(io->db["m1"].reloads, 2);
}

TEST_F(reconfigure_sim, an_aborted_first_load_stays_idle_until_reloaded) {
  io->crash_reload.insert("m1");
  auto m = mapping("m1");
  m.command = mapping_command::abort;
  io->commands["m1"] = "abort";
  auto conn = start(connection({m}));
  EXPECT_EQ(io->db["m1"].state, "ABORTED");
  auto reloads = io->db["m1"].reloads;
  wait_polls(3);
  EXPECT_EQ(io->db["m1"].reloads, reloads) << "an ABORTED mapping does not load by itself";
  EXPECT_EQ(io->db["m1"].polls, 0);
  io->crash_reload.clear();
  io->commands["m1"] = "reload";
  m.command = mapping_command::reload;
  reconfigure(conn, connection({m}));
  EXPECT_EQ(io->db["m1"].state, "DATA_SYNCED");
}

TEST_F(reconfigure_sim, a_removed_mapping_stops_and_recover_restarts_a_parked_one) {
  io->crash_prepare.insert("bad");
  auto cs = connection({mapping("good"), mapping("bad"), mapping("gone")});
  cs.mapping_restarts.max_restarts = 1;
  auto conn = start(cs);
  for (int i = 0; i < 4; ++i) {
    sched.advance_time(4s);
    sched.run();
  }
  ASSERT_EQ(io->db["bad"].state, "SYSTEM_ERROR");
  EXPECT_EQ(running_and_parked(conn), std::make_pair(2, 1));
  io->crash_prepare.clear();
  io->db["bad"].hwm = "";
  auto bad = mapping("bad");
  bad.command = mapping_command::recover;
  io->commands["bad"] = "recover";
  auto gone_polls = io->db["gone"].polls;
  reconfigure(conn, connection({mapping("good"), bad}));
  EXPECT_EQ(io->db["bad"].state, "DATA_SYNCED") << "recovered and loaded";
  EXPECT_EQ(running_and_parked(conn), std::make_pair(2, 0));
  wait_polls(2);
  EXPECT_EQ(io->db["gone"].polls, gone_polls) << "a removed mapping no longer polls";
}
