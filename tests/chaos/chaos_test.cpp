// The chaos suite (issue 12): real syncforced, PostgreSQL and sfemu on loopback,
// a seeded workload on both sides, and faults: kill -9 of the node in the middle
// of each kind of work, PostgreSQL restarts, the lease session terminated, sfemu
// faults, a spent API budget, a crash between a Salesforce call and recording
// its result. Every scenario ends with the same check: both sides converge,
// record by record, nothing lost, nothing duplicated (chaos.hpp).
//
// Short form (ctest label `chaos`, part of scripts/test): few iterations, small
// data. Long form: scripts/chaos --long (more of everything, and the report in
// bench/results/chaos-latest.md).

#include "tests/chaos/chaos.hpp"

#include <pqxx/pqxx>

#include <csignal>

using namespace syncforce::chaos;

namespace {

struct chaos : scenario {
  void start_synced(const std::vector<std::string>& args = {}) {
    start_node(args);
    ASSERT_TRUE(wait_state("DATA_SYNCED", 120s)) << mapping("state_description").value_or("") << "\n" << node_log();
  }

  /// Live Chaos__c records in Salesforce (GET /limits/recordCount).
  long sf_records() {
    auto counts = checker().record_counts({"Chaos__c"});
    return counts && !counts->empty() ? counts->front().count : -1;
  }

  /// Trigger-log entries not written yet.
  long waiting() { return count("SELECT count(*) FROM salesforce._trigger_log WHERE state IN ('NEW', 'PENDING')"); }

  long checkpoint_rows() { return count("SELECT coalesce(max(rows_loaded), 0) FROM syncforce.load_checkpoints"); }

  /// Every REST query page and Bulk results page `latency` ms late (the first page of a REST
  /// query is not slowed, its queryMore pages are).
  void slow_reads(int latency) {
    control("POST", "faults",
            json::array({{{"route", "/query/"}, {"action", "none"}, {"latency_ms", latency}},
                         {{"route", "/jobs/query/[^/]+/results"}, {"action", "none"}, {"latency_ms", latency}}}));
  }

  /// The backend of the node's lease session: the one holding the connection's advisory lock
  /// (actors/connection_lease.cpp: pg_try_advisory_lock(hashtext('syncforce.connection'), hashtext(id))).
  /// The node's cluster session: its heartbeats and lease moves (docs/cluster.md).
  std::optional<std::string> cluster_pid() {
    return scalar("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                  "AND split_part(application_name, '@', 1) = 'syncforce-cluster' ORDER BY backend_start DESC LIMIT 1");
  }

  support::cli_result admin(const std::vector<std::string>& args) { return node_->cli(args, std::string(admin_token)); }

  /// A seeded mix of sfemu faults on `route` (docs/sfemu.md); `note` gets a short description.
  json fault_mix(const std::string& route, std::string& note) {
    json rules = json::array();
    auto add = [&](json rule, const std::string& what) {
      rule["route"] = route;
      rules.push_back(std::move(rule));
      note += (note.empty() ? "" : ", ") + what;
    };
    if (chance(0.8)) {
      double rate = uniform(5, 20) / 100.0;
      add({{"status", 503}, {"error_code", "SERVER_UNAVAILABLE"}, {"rate", rate}},
          "503 " + std::to_string(static_cast<int>(rate * 100)) + "% on " + route);
    }
    if (chance(0.6)) {
      int ms = uniform(10, 150);
      add({{"action", "none"}, {"latency_ms", ms}}, "+" + std::to_string(ms) + " ms on " + route);
    }
    if (chance(0.6)) {
      double rate = uniform(2, 10) / 100.0;
      add({{"action", "drop"}, {"rate", rate}},
          "dropped connections " + std::to_string(static_cast<int>(rate * 100)) + "% on " + route);
    }
    if (chance(0.6) || rules.empty()) {
      int n = uniform(1, 3);
      add({{"action", "unauthorized"}, {"count", n}}, std::to_string(n) + " sessions refused on " + route);
    }
    return rules;
  }
};

} // namespace

// ---- kill -9 of the node ---------------------------------------------------------------------

// The initial load (REST or Bulk, from the seed) killed at random pages; every
// restart resumes from the checkpoint.
TEST_F(chaos, kill9_during_load) {
  start_world();
  if (IsSkipped())
    return;
  const int n = pick(6000, 40000);
  sf_create(n);
  const bool bulk = chance(0.5);
  const int page = bulk ? 1000 : 2000;
  std::vector<std::string> args = bulk
                                    ? std::vector<std::string>{"--bulk-threshold", "1000", "--bulk-page-size", "1000"}
                                    : std::vector<std::string>{"--bulk-threshold", "100000000"};
  const int latency = uniform(200, 400);
  control("POST", "faults",
          {{"route", bulk ? "/jobs/query/[^/]+/results" : "/query/"}, {"action", "none"}, {"latency_ms", latency}});
  row_.note = std::string(bulk ? "Bulk 2.0" : "REST") + " load, pages +" + std::to_string(latency) + " ms";
  long last = 0;
  for (int k = 0, kills = pick(2, 6); k < kills; ++k) {
    start_node(args);
    // A random page of what is left, then a random moment inside the next page.
    long target =
      std::min<long>(n - page, last + page * uniform(1, std::max(1, (n - static_cast<int>(last)) / page / 2)));
    if (target <= last)
      break;
    ASSERT_TRUE(support::wait_until([&] { return checkpoint_rows() >= target || node_gave_up(); }, 120s))
      << "the load made no progress past " << last << " rows\n"
      << node_log();
    chaos_pause(0ms, std::chrono::milliseconds(latency / 2));
    kill_node("the load at " + std::to_string(checkpoint_rows()) + " of " + std::to_string(n) + " rows");
    ASSERT_NE(mapping("state"), "DATA_SYNCED") << "the load was over before the kill: make the pages slower";
    last = checkpoint_rows();
    ++row_.iterations;
  }
  control("DELETE", "faults");
  start_node(args);
  expect_converged(n, pick(120s, 300s));
  if (row_.iterations > 0) {
    EXPECT_GE(logged("Resuming load of table chaos__c"), 1) << "the last node resumed the load\n" << node_log();
  }
}

// Polls of thousands of changes (REST pages, or Bulk in the long form) killed
// after part of them reached PostgreSQL.
TEST_F(chaos, kill9_during_poll) {
  start_world();
  if (IsSkipped())
    return;
  sf_create(pick(3000, 20000));
  const std::vector<std::string> args{"--bulk-page-size", "1000"}; // polls above 10,000 changes use Bulk
  start_synced(args);
  const int latency = uniform(250, 450);
  slow_reads(latency);
  for (int k = 0, kills = pick(2, 5); k < kills; ++k) {
    const int changed = pick(4500, 12000);
    auto mark = scalar("SELECT max(systemmodstamp)::text FROM salesforce.chaos__c").value_or("-infinity");
    auto polled = [&] {
      return count("SELECT count(*) FROM salesforce.chaos__c WHERE systemmodstamp > '" + mark + "'");
    };
    // Salesforce (and sfemu) stamp to the second: changes made within the mark's
    // second would not count as newer here. Wait until that second is over.
    ASSERT_TRUE(support::wait_until(
      [&] {
        return scalar("SELECT ((now() AT TIME ZONE 'UTC') >= '" + mark + "'::timestamp + interval '1 second')::text") ==
               "true";
      },
      10s, 10ms));
    sf_update(changed);
    sf_create(uniform(10, 100));
    sf_delete(uniform(10, 100));
    // Part of the changes is in PostgreSQL (a random part of the first half): the rest is on its way.
    const long part = uniform(1, changed / 2);
    ASSERT_TRUE(support::wait_until([&] { return polled() >= part || node_gave_up(); }, 60s, 10ms))
      << "no poll reached PostgreSQL\n"
      << node_log();
    chaos_pause(0ms, std::chrono::milliseconds(latency / 2));
    kill_node("a poll of " + std::to_string(changed) + " changes (" + std::to_string(polled()) + " applied)");
    if (polled() < changed)
      ++row_.iterations; // killed with part of the changes still to read
    start_node(args);
  }
  control("DELETE", "faults");
  row_.note = "pages +" + std::to_string(latency) + " ms";
  expect_converged(expected_records(), pick(120s, 300s));
}

// Write-back of inserts (with and without an upsert-field value), updates and
// deletes made in SQL, killed while collection calls are on their way.
TEST_F(chaos, kill9_during_write_back) {
  start_world();
  if (IsSkipped())
    return;
  sf_create(pick(500, 5000));
  start_synced();
  const int latency = uniform(100, 300);
  control("POST", "faults", {{"route", "composite/sobjects"}, {"action", "none"}, {"latency_ms", latency}});
  for (int k = 0, kills = pick(2, 6); k < kills; ++k) {
    auto archived = count("SELECT count(*) FROM salesforce._trigger_log_archive");
    pg_insert(pick(1500, 6000), true);
    pg_insert(pick(200, 1000), false);
    pg_update(pick(300, 2000));
    pg_delete(pick(50, 500));
    // A random part of the first half of what waits has been written: the rest is on its way.
    const long part = uniform(1, std::max(1, static_cast<int>(waiting() / 2)));
    ASSERT_TRUE(support::wait_until(
      [&] {
        return count("SELECT count(*) FROM salesforce._trigger_log_archive") >= archived + part || node_gave_up();
      },
      120s))
      << "the writes made no progress\n"
      << node_log();
    chaos_pause(0ms, std::chrono::milliseconds(latency));
    kill_node("write-back (" + std::to_string(waiting()) + " entries waiting)");
    ++row_.iterations;
    start_node();
  }
  control("DELETE", "faults");
  row_.note = "collections +" + std::to_string(latency) + " ms; inserts with and without upsert value";
  expect_converged(expected_records(), pick(120s, 300s));
}

// mapping:edit adds a field; the backfill (RESYNC) is killed midway.
TEST_F(chaos, kill9_during_backfill) {
  start_world();
  if (IsSkipped())
    return;
  const int n = pick(6000, 30000);
  sf_create(n);
  start_synced();
  const int latency = uniform(250, 450);
  for (int k = 0, rounds = pick(1, 3); k < rounds; ++k) {
    slow_reads(latency);
    auto edit = admin({"mapping:edit", "Chaos__c", "--add-fields", "Note__c"});
    ASSERT_EQ(edit.code, 0) << edit.output << node_log();
    compared_.push_back({"Note__c", support::field_kind::text});
    ASSERT_TRUE(support::wait_until(
      [&] { return count("SELECT count(*) FROM salesforce.chaos__c WHERE note__c IS NOT NULL") > 0 || node_gave_up(); },
      120s))
      << "the backfill wrote nothing\n"
      << node_log();
    chaos_pause(0ms, std::chrono::milliseconds(latency));
    auto filled = count("SELECT count(*) FROM salesforce.chaos__c WHERE note__c IS NOT NULL");
    kill_node("the backfill of Note__c (" + std::to_string(filled) + " of " + std::to_string(n) + " rows)");
    EXPECT_LT(filled, n) << "the backfill was over before the kill: make the pages slower";
    ++row_.iterations;
    start_node();
    control("DELETE", "faults");
    expect_converged(n, pick(120s, 300s));
    if (k + 1 < rounds) { // the field goes again, to be added (and backfilled) once more
      auto remove = admin({"mapping:edit", "Chaos__c", "--remove-fields", "Note__c"});
      ASSERT_EQ(remove.code, 0) << remove.output;
      compared_.pop_back();
      expect_converged(n, 120s);
    }
  }
  row_.note = "mapping:edit --add-fields Note__c, pages +" + std::to_string(latency) + " ms";
}

// mapping:reload killed while the shadow table fills, with changes on both sides meanwhile.
TEST_F(chaos, kill9_during_reload) {
  start_world();
  if (IsSkipped())
    return;
  sf_create(pick(6000, 30000));
  const std::vector<std::string> args{"--bulk-page-size", "1000"}; // above 10,000 records the reload uses Bulk
  start_synced(args);
  const int latency = uniform(250, 450);
  for (int k = 0, kills = pick(1, 4); k < kills; ++k) {
    slow_reads(latency);
    auto reload = admin({"mapping:reload", "Chaos__c", "--no-wait"});
    ASSERT_EQ(reload.code, 0) << reload.output << node_log();
    ASSERT_TRUE(support::wait_until([&] { return checkpoint_rows() >= 2000 || node_gave_up(); }, 120s))
      << "the reload made no progress\n"
      << node_log();
    sf_update(uniform(50, 300));
    sf_create(uniform(10, 100));
    pg_insert(uniform(50, 300), true);
    chaos_pause(0ms, std::chrono::milliseconds(latency));
    kill_node("the reload at " + std::to_string(checkpoint_rows()) + " rows");
    ASSERT_EQ(mapping("state"), "RELOAD_TABLE") << "the reload was over before the kill: make the pages slower";
    ++row_.iterations;
    start_node(args);
    control("DELETE", "faults");
    ASSERT_TRUE(wait_state("DATA_SYNCED", 120s)) << node_log();
  }
  EXPECT_GE(logged("Resuming load of table chaos__c"), 1) << node_log();
  row_.note = "pages +" + std::to_string(latency) + " ms";
  expect_converged(expected_records(), pick(120s, 300s));
}

// ---- PostgreSQL restarts ---------------------------------------------------------------------

// Ten restarts in a row (pg_ctl stop -m fast, start) while the node syncs both
// ways; afterwards the node is ready again, keeps syncing and converges.
TEST_F(chaos, postgres_restarts) {
  start_world(/*private_postgres=*/true);
  sf_create(pick(500, 3000));
  start_synced();
  auto both_ways = [&] {
    sf_update(pick(50, 300));
    sf_create(pick(20, 100));
    sf_delete(pick(5, 20));
    pg_insert(pick(100, 500), true);
    pg_insert(pick(10, 50), false);
    pg_update(pick(50, 300));
    pg_delete(pick(5, 30));
  };
  int ready_lines = 0; // "Database ready" lines logged before the last restart
  for (int k = 0; k < 10; ++k) {
    both_ways();
    chaos_pause(pick(1000ms, 5000ms), pick(3000ms, 18000ms));
    ready_lines = logged("Database ready");
    postgres().stop();
    chaos_pause(0ms, pick(500ms, 2000ms));
    postgres().start();
    ++row_.iterations;
    if (std::string why; node_gave_up(&why))
      FAIL() << "the node gave up after PostgreSQL restart " << k + 1 << " of 10: " << why << "\n" << node_log();
  }
  // Ready again after the last restart: the node's probe saw the restart (its session
  // broke) and logged "Database ready" since. Readiness alone could still be the one
  // from before the restart, until the next health check notices.
  auto ready_again = [&] { return node_->ready() && logged("Database ready") > ready_lines; };
  ASSERT_TRUE(support::wait_until([&] { return ready_again() || node_gave_up(); }, 60s) && ready_again())
    << "readiness did not come back to SERVING" << [&] {
         std::string why;
         return node_gave_up(&why) ? ": " + why : std::string{};
       }() << "\n"
    << node_log();
  both_ways(); // it keeps syncing after the last restart
  row_.note = "10 restarts, " + std::string(pick("1-3 s", "5-18 s")) + " apart";
  expect_converged(expected_records(), pick(120s, 180s));
}

// ---- the lease session terminated ------------------------------------------------------------

TEST_F(chaos, lease_session_terminated) {
  start_world();
  if (IsSkipped())
    return;
  sf_create(pick(500, 3000));
  start_synced();
  const int latency = uniform(100, 250);
  control("POST", "faults", {{"route", "composite/sobjects"}, {"action", "none"}, {"latency_ms", latency}});
  for (int k = 0, n = pick(3, 10); k < n; ++k) {
    pg_insert(pick(400, 2000), true);
    pg_insert(pick(50, 200), false);
    pg_update(pick(100, 500));
    pg_delete(pick(10, 50));
    sf_update(pick(50, 300));
    chaos_pause(200ms, pick(1500ms, 4000ms));
    std::optional<std::string> pid;
    ASSERT_TRUE(support::wait_until([&] { return (pid = cluster_pid()).has_value() || node_gave_up(); }, 60s) && pid)
      << "no cluster session\n"
      << node_log();
    // The lease's session and every worker's, as a DBA, a pooler or a network reset would.
    sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
        "AND split_part(application_name, '@', 1) IN ('syncforce-cluster', 'syncforce-worker')");
    ++row_.iterations;
    std::optional<std::string> again;
    bool back = support::wait_until([&] { return ((again = cluster_pid()) && again != pid) || node_gave_up(); }, 60s);
    if (std::string why; node_gave_up(&why))
      FAIL() << "the node gave up after losing its sessions " << k + 1 << " of " << n << ": " << why << "\n"
             << node_log();
    ASSERT_TRUE(back && again && again != pid) << "the node did not reopen its cluster session\n" << node_log();
  }
  control("DELETE", "faults");
  row_.note = "collections +" + std::to_string(latency) + " ms";
  expect_converged(expected_records(), pick(120s, 300s));
  EXPECT_GE(logged("Cannot reach the cluster store"), 1) << node_log();
}

// ---- sfemu faults ----------------------------------------------------------------------------

TEST_F(chaos, sfemu_faults) {
  start_world();
  if (IsSkipped())
    return;
  const int n = pick(5000, 30000);
  sf_create(n);
  std::string note;
  // The load, under faults on queries (and a session expiring or two).
  control("POST", "faults", fault_mix("/query", note));
  start_node();
  for (int k = uniform(0, 2); k > 0; --k) {
    chaos_pause(100ms, 1500ms);
    control("POST", "sessions/expire");
    note += ", session expired";
  }
  ASSERT_TRUE(wait_state("DATA_SYNCED", pick(180s, 600s))) << note << "\n" << node_log();
  ++row_.iterations;
  control("DELETE", "faults");
  // Write-back (and polls) under faults on collections and queries.
  json rules = fault_mix("composite/sobjects", note);
  for (auto& r : fault_mix("/query", note))
    rules.push_back(r);
  control("POST", "faults", rules);
  for (int k = 0, rounds = pick(2, 6); k < rounds; ++k) {
    pg_insert(pick(500, 3000), true);
    pg_insert(pick(50, 300), false);
    pg_update(pick(100, 1000));
    pg_delete(pick(20, 200));
    // Changes in Salesforce too (the faults are lifted for the test's own REST calls, they are for the node).
    control("DELETE", "faults");
    sf_update(pick(100, 1000));
    sf_delete(pick(10, 50));
    control("POST", "faults", rules);
    if (chance(0.5)) {
      control("POST", "sessions/expire");
      note += ", session expired";
    }
    chaos_pause(500ms, pick(2000ms, 5000ms));
    ++row_.iterations;
  }
  control("DELETE", "faults");
  row_.note = note;
  expect_converged(expected_records(), pick(120s, 300s));
}

// ---- API budget exhausted ----------------------------------------------------------------

TEST_F(chaos, api_budget_exhausted) {
  start_world();
  if (IsSkipped())
    return;
  sf_create(pick(500, 3000));
  start_synced();
  for (int k = 0, n = pick(1, 3); k < n; ++k) {
    int exhausted = logged("API budget exhausted, waiting");
    int available = logged("API budget available again");
    auto limit = control("GET", "settings")["api_limit"].get<long>();
    control("POST", "settings", {{"api_used", limit - uniform(0, 3)}});
    pg_insert(pick(1000, 4000), true);
    pg_insert(pick(50, 200), false);
    sf_create(pick(50, 300)); // sfemu's fast path: not an API call
    ASSERT_TRUE(
      support::wait_until([&] { return logged("API budget exhausted, waiting") > exhausted || node_gave_up(); }, 60s))
      << node_log();
    // Spent: the writes wait in the trigger log, nothing is lost meanwhile.
    chaos_pause(500ms, pick(2000ms, 8000ms));
    EXPECT_GT(count("SELECT count(*) FROM salesforce._trigger_log WHERE state IN ('NEW', 'PENDING')"), 0)
      << "the writes went through a spent budget";
    control("POST", "counters/reset"); // a new day
    ASSERT_TRUE(
      support::wait_until([&] { return logged("API budget available again") > available || node_gave_up(); }, 60s))
      << node_log();
    ++row_.iterations;
  }
  row_.note = "api_used set to the limit (less 0-3) with writes and new records waiting";
  expect_converged(expected_records(), pick(120s, 300s));
}

// ---- a crash between the Salesforce call and recording its result ----------------------------

// 5,000 inserts without an upsert-field value (plain creates, which Salesforce
// cannot deduplicate); the node is killed while collection creates are slowed,
// so the kill lands after Salesforce took a batch and before the node recorded
// the sfids. Exactly 5,000 records must end on both sides.
TEST_F(chaos, crash_between_call_and_record) {
  start_world();
  if (IsSkipped())
    return;
  start_synced();
  const int latency = uniform(400, 800);
  control("POST", "faults",
          {{"route", "composite/sobjects"}, {"method", "POST"}, {"action", "none"}, {"latency_ms", latency}});
  pg_insert(5000, false);
  long written = 0;
  for (int k = 0, kills = pick(2, 6); k < kills; ++k) {
    ASSERT_TRUE(support::wait_until(
      [&] {
        return count("SELECT count(*) FROM salesforce.chaos__c WHERE sfid IS NOT NULL") > written || node_gave_up();
      },
      120s))
      << node_log();
    // A batch was just recorded: the next call is on its way; land inside it.
    chaos_pause(std::chrono::milliseconds(latency / 4), std::chrono::milliseconds(latency * 3 / 4));
    written = count("SELECT count(*) FROM salesforce.chaos__c WHERE sfid IS NOT NULL");
    if (written >= 5000)
      break;
    kill_node("a collection insert in flight (" + std::to_string(written) + " of 5000 recorded)");
    ++row_.iterations;
    // Salesforce finishes a call whose client is gone: the next node starts either while the
    // killed node's call still runs there, or once its records are made.
    if (chance(0.5)) {
      bool landed =
        support::wait_until([&] { return sf_records() > written; }, std::chrono::milliseconds(latency + 3000));
      row_.note += std::string(row_.note.empty() ? "" : ", ") + (landed ? "restart after" : "no call in flight at");
    } else {
      row_.note += std::string(row_.note.empty() ? "" : ", ") + "restart during";
    }
    start_node();
  }
  control("DELETE", "faults");
  row_.note = "5,000 inserts without upsert value, creates +" + std::to_string(latency) + " ms; kills: " + row_.note;
  expect_converged(5000, pick(120s, 300s));
}

// ---- pipelined write-back: killed with batches answered and none recorded -----------------------

// The writer sends batch N+1 while it records batch N. Here recording is held
// back: the test holds a SHARE lock on _trigger_log_archive (where recording a
// batch starts; polls never write it), so Salesforce makes the creates of
// batch N and, pipelined, of batch N+1 while neither is recorded; then the node
// is killed and the lock released. Plain creates (no upsert value: Salesforce
// cannot deduplicate them), so both batches are in doubt at once and must be
// settled, not sent again. Exactly the inserted number of records must end on
// both sides.
TEST_F(chaos, kill9_with_pipelined_batches_unrecorded) {
  start_world();
  if (IsSkipped())
    return;
  start_synced();
  const int n = pick(2000, 5000);
  pg_insert(n, false);
  for (int k = 0, kills = pick(1, 3); k < kills; ++k) {
    const long recorded = count("SELECT count(*) FROM salesforce.chaos__c WHERE sfid IS NOT NULL");
    if (recorded + 400 >= n)
      break;
    long made = 0;
    {
      pqxx::connection c(db_url_);
      pqxx::work hold(c);
      hold.exec0("LOCK TABLE salesforce._trigger_log_archive IN SHARE MODE");
      auto unrecorded_now = [&] {
        return sf_records() - count("SELECT count(*) FROM salesforce.chaos__c WHERE sfid IS NOT NULL");
      };
      // Batch N answered and waiting for the lock to be recorded; N+1 sent meanwhile.
      bool two = support::wait_until([&] { return unrecorded_now() >= 400 || node_gave_up(); }, 60s);
      const long unrecorded = unrecorded_now();
      made = sf_records();
      ASSERT_TRUE(two) << "two batches of 200 should reach Salesforce while recording waits (" << unrecorded
                       << " made, not recorded)\n"
                       << node_log();
      kill_node("two pipelined batches answered, not recorded (" + std::to_string(unrecorded) + " records)");
      row_.note += std::string(row_.note.empty() ? "" : ", ") + std::to_string(unrecorded) + " unrecorded";
      hold.abort();
    }
    ++row_.iterations;
    start_node();
    // The killed node's creates are settled before anything is sent again: wait for progress.
    ASSERT_TRUE(support::wait_until(
      [&] {
        return count("SELECT count(*) FROM salesforce.chaos__c WHERE sfid IS NOT NULL") > made || node_gave_up();
      },
      pick(300s, 600s)))
      << node_log();
  }
  row_.note = std::to_string(n) + " inserts without upsert value; kills with " + row_.note;
  expect_converged(expected_records(), pick(180s, 300s));
}

// ---- the recorder behind: killed while answered batches queue for a recorder that cannot commit ----

// Answered batches are recorded on a second session by the recorder while the
// cycle's thread sends on (docs/write-back.md). Here the recorder cannot commit
// (the test holds a SHARE lock on _trigger_log_archive, where recording
// starts), so the cycle keeps sending and answered batches queue
// behind it: more records made and unrecorded than a cycle that stopped to
// record could ever have (one group of 1,000 waiting plus four calls of 200 in
// flight). Then the node is killed. Plain creates (no upsert value): every
// unrecorded one is in doubt and must be settled, not sent again. Exactly the
// inserted number of records must end on both sides.
TEST_F(chaos, kill9_with_the_recorder_behind) {
  start_world();
  if (IsSkipped())
    return;
  start_synced();
  const int n = pick(4000, 6000);
  constexpr long beyond_a_blocked_cycle = 1000 + 4 * 200;
  // Answers held back 200 ms after sfemu made the records: the lock below is
  // taken once the cycle is past its housekeeping (which writes the archive
  // too) and before its first group of 1,000 can be recorded.
  control("POST", "faults",
          {{"route", "composite/sobjects"}, {"method", "POST"}, {"action", "none"}, {"latency_ms", 200},
           {"after", true}});
  pg_insert(n, false);
  auto recorded = [&] { return count("SELECT count(*) FROM salesforce.chaos__c WHERE sfid IS NOT NULL"); };
  ASSERT_TRUE(support::wait_until([&] { return sf_records() > 0 || node_gave_up(); }, 60s)) << node_log();
  long made = 0;
  {
    pqxx::connection c(db_url_);
    pqxx::work hold(c);
    hold.exec0("LOCK TABLE salesforce._trigger_log_archive IN SHARE MODE");
    bool queued =
      support::wait_until([&] { return sf_records() - recorded() > beyond_a_blocked_cycle || node_gave_up(); }, 60s);
    made = sf_records();
    const long unrecorded = made - recorded();
    ASSERT_TRUE(queued) << "the cycle should keep sending while its recorder waits (" << unrecorded
                        << " made, not recorded)\n"
                        << node_log();
    kill_node(std::to_string(unrecorded) + " records answered and queued for the recorder");
    row_.note = std::to_string(unrecorded) + " unrecorded";
    hold.abort();
  }
  control("DELETE", "faults");
  ++row_.iterations;
  start_node();
  row_.note = std::to_string(n) + " inserts without upsert value; killed with " + row_.note;
  expect_converged(expected_records(), pick(300s, 600s));
}

// ---- several calls in flight: killed with three or more answered by Salesforce, none by the node -----

// The writer keeps up to four collection calls of one table in flight (merged
// writes, disjoint records: sync/write_flight.hpp). Every create's answer is
// held back 1.5 s after sfemu made its records ("after" latency), so
// Salesforce makes the records of three calls while the node has the answer of
// none; then the node is killed. Plain creates (no upsert value: Salesforce
// cannot deduplicate them): all of them are in doubt at once and must be
// settled, not sent again. Exactly the inserted number of records must end on
// both sides.
TEST_F(chaos, kill9_with_several_calls_in_flight) {
  start_world();
  if (IsSkipped())
    return;
  start_synced();
  const int n = pick(1600, 4000);
  control("POST", "faults",
          {{"route", "composite/sobjects"}, {"method", "POST"}, {"action", "none"}, {"latency_ms", 1500},
           {"after", true}});
  pg_insert(n, false);
  auto recorded = [&] { return count("SELECT count(*) FROM salesforce.chaos__c WHERE sfid IS NOT NULL"); };
  // Three calls of 200 made in Salesforce and unanswered: three in flight at once.
  bool three = support::wait_until([&] { return sf_records() - recorded() >= 600 || node_gave_up(); }, 60s);
  const long made = sf_records();
  const long unanswered = made - recorded();
  ASSERT_TRUE(three) << "three calls of 200 should be made by Salesforce before the first answer (" << unanswered
                     << " made, not recorded)\n"
                     << node_log();
  kill_node(std::to_string(unanswered) + " records made by calls in flight, none answered");
  control("DELETE", "faults");
  ++row_.iterations;
  start_node();
  row_.note = std::to_string(n) + " inserts without upsert value, answers +1.5 s; killed with " +
              std::to_string(unanswered) + " made and unanswered";
  expect_converged(expected_records(), pick(300s, 600s));
}
