#pragma once
// The chaos suite's harness: real syncforced, PostgreSQL and sfemu processes on
// loopback, a seeded workload on both sides, faults, and the end-state check
// (every record equal on both sides, nothing lost, nothing duplicated).
//
// Settings come from the environment (scripts/chaos sets them):
//   SYNCFORCE_CHAOS_SEED    the seed (default: a random one, printed)
//   SYNCFORCE_CHAOS_LONG=1  the long form: more iterations, more data, longer pauses
//   SYNCFORCE_CHAOS_REPORT  write the markdown report there at the end
//   SYNCFORCE_CHAOS_LOGS    where a failing scenario's node logs go (default /tmp/syncforce-chaos-<seed>)
// Each scenario draws from its own generator (the seed mixed with its name), so
// `--scenario NAME --seed N` replays one scenario's choices exactly.

#include "salesforce/client.hpp"
#include "tests/support/node.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sfemu.hpp"
#include "tests/support/sync_check.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace syncforce::chaos {

using namespace std::chrono_literals;
using nlohmann::json;
namespace support = syncforce::testing; // (plain `testing` is GoogleTest's)
using testing::sync_comparison;

/// How often `needle` stands in `text` (a node's log).
int occurrences(const std::string& text, const std::string& needle);

/// The run's settings, read once from the environment.
struct settings {
  std::uint64_t seed = 0;
  bool long_form = false;
  std::string report_path;
  std::string log_dir;
};
const settings& run_settings();

/// One scenario's line in the report.
struct report_row {
  std::string scenario;
  int iterations = 0;
  long records = 0;
  std::optional<double> converge_seconds; ///< from the end of the faults to both sides equal
  double seconds = 0;                     ///< the whole scenario
  bool passed = false;
  std::string note;
};

/// The fixture of every scenario: call start_world() first.
class scenario : public ::testing::Test {
protected:
  void SetUp() override;
  void TearDown() override;

  // ---- sizes and randomness ---------------------------------------------------
  template <class T>
  T pick(T short_form, T long_form) const {
    return run_settings().long_form ? long_form : short_form;
  }
  int uniform(int lo, int hi);
  double uniform_real(double lo, double hi);
  bool chance(double p);
  /// The chaos between two faults: a pause of a random length in [lo, hi], drawn from the seed.
  void chaos_pause(std::chrono::milliseconds lo, std::chrono::milliseconds hi);

  // ---- the world ----------------------------------------------------------------
  /// sfemu (the Chaos__c object, a checker user), a database (a scratch one on the
  /// test server, or a private server that the scenario may stop and start).
  void start_world(bool private_postgres = false);
  /// The first start imports the configuration file; later starts run from the control schema.
  void start_node(const std::vector<std::string>& extra_args = {});
  /// kill -9; `during` says what it interrupted (for the log and the report).
  void kill_node(const std::string& during);
  /// Another node of the same cluster (docs/cluster.md), named `name`, running from the control schema.
  testing::node_process& start_peer(const std::string& name, const std::vector<std::string>& extra_args = {});
  /// The private PostgreSQL server (start_world(true)).
  testing::pg_server& postgres() { return *own_pg_; }

  // ---- looking ------------------------------------------------------------------
  std::optional<std::string> scalar(const std::string& sql);
  long count(const std::string& sql);
  std::optional<std::string> mapping(const std::string& column);
  bool wait_state(const std::string& state, std::chrono::milliseconds timeout);
  /// Fails the test at once (with the line) when the node gave up or died.
  bool node_gave_up(std::string* why = nullptr);
  std::string node_log() const;
  /// How often `needle` was logged by every node this scenario started.
  int logged(const std::string& needle) const;

  // ---- the workload (seeded) ------------------------------------------------------
  /// n records made in Salesforce (sfemu's fast path, not counted as API calls).
  void sf_create(int n);
  /// n records of Salesforce updated through the REST API (collections).
  void sf_update(int n);
  /// n records deleted in Salesforce through the REST API.
  void sf_delete(int n);
  /// n rows inserted in PostgreSQL in one statement; with_ext: with an upsert-field value.
  void pg_insert(int n, bool with_ext);
  /// n rows updated in PostgreSQL (among the rows already in Salesforce).
  void pg_update(int n);
  /// n rows deleted in PostgreSQL (rows inserted there and already in Salesforce).
  void pg_delete(int n);
  long sql(const std::string& statement);
  long expected_records() const { return expected_; }
  /// Workload statements run again after PostgreSQL chose them as a deadlock's victim.
  int deadlocks_ = 0;

  /// The test's own Salesforce client (the user checker@sfemu.local, not the node's).
  salesforce::client& checker() { return *sf_; }

  // ---- sfemu ----------------------------------------------------------------------
  json control(const std::string& method, const std::string& path, const json& body = nullptr);

  // ---- the end state ----------------------------------------------------------------
  sync_comparison compare();
  /// Waits until both sides hold the same records, the trigger log is drained and
  /// the mapping is synced; the time it took goes to the report.
  bool converge(std::chrono::milliseconds timeout);
  /// converge(), then: exactly `expected` records on both sides, every field equal,
  /// sfids unique, no duplicate in Salesforce, no failed write.
  void expect_converged(long expected, std::chrono::milliseconds timeout);

  /// Fields compared record by record (the mapped ones but Id, which is the key).
  std::vector<testing::compared_field> compared_;
  report_row row_;
  std::unique_ptr<testing::node_process> node_;
  /// Further nodes of the cluster (start_peer); their logs count in node_log() and logged().
  std::vector<std::unique_ptr<testing::node_process>> peers_;
  /// Read-only mappings of standard objects added to the configuration (set before start_world):
  /// units for a cluster to spread.
  std::vector<std::string> extra_objects_;
  /// The connection's API version (set before start_world): below 56.0 sfemu keeps the legacy cursor rules.
  std::string api_version_ = "60.0";
  std::unique_ptr<testing::sfemu_process> emu_;
  std::string db_url_;
  static constexpr const char* admin_token = "chaos-admin-token-5b1e";

private:
  /// The environment of every node the scenario starts (the harness's node and its peers).
  std::map<std::string, std::string> node_env() const;
  std::string salt();
  /// The synced table, the trigger log and its archive as TSV files (a failed scenario's evidence).
  void dump_tables(const std::string& prefix);
  std::mt19937_64 rng_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<testing::pg_server> own_pg_;
  std::unique_ptr<testing::scratch_database> scratch_;
  std::unique_ptr<salesforce::client> sf_;
  std::string org_path_;
  std::string config_path_;
  std::string cluster_secret_path_;
  int node_starts_ = 0;
  std::vector<std::string> past_logs_;
  std::vector<std::string> sf_ids_; ///< records made in Salesforce and not deleted there
  std::vector<std::string> sf_deletable_;
  long expected_ = 0;
  int sf_made_ = 0; ///< records made in Salesforce so far (their names: S-1, S-2, ...)
  int round_ = 0;   ///< statements of inserts in PostgreSQL so far
};

} // namespace syncforce::chaos
