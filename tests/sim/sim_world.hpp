#pragma once
// The world of the whole-engine simulation (docs/testing.md, "Deterministic
// simulation"): an in-memory model of what the engine's PostgreSQL holds for
// one connection (its mapped tables, the schema's _trigger_log and archive,
// the creates in doubt, each mapping's stored state and mark, the unit leases,
// the advisory locks) and the emulator's own org (emulator/org.hpp, in
// process, no HTTP) as Salesforce. The fakes of sync_io and write_io
// (sim_io.hpp) act on it; the driver (sim_engine.hpp) writes the workload into
// it; the invariants are checked on it at quiescence. Everything here is
// single-threaded: the test coordinator runs one actor message at a time, and
// a job that pauses (world::yield) runs the others' messages on its own stack.

#include "emulator/clock.hpp"
#include "emulator/org.hpp"
#include "sync/hstore.hpp"
#include "sync/lease_fence.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace syncforce::sim {

/// The mapped data columns of every simulated table: PostgreSQL column ->
/// Salesforce field (the objects differ by name; their fields are alike, so
/// one record body builder serves them all).
inline const std::vector<std::pair<std::string, std::string>>& data_columns() {
  static const std::vector<std::pair<std::string, std::string>> cols{{"label__c", "Label__c"}, {"qty__c", "Qty__c"}};
  return cols;
}

/// The objects a run may map, in order: a run maps the first 1 to 3 of them,
/// all read-write on one connection (one writer, one trigger log).
inline const std::vector<std::string>& simulated_objects() {
  static const std::vector<std::string> objects{"Item__c", "Box__c", "Crate__c"};
  return objects;
}

/// Heroku Connect's table name of an object: its name in lower case.
std::string table_of(const std::string& object);

/// A Salesforce field value (JSON, as the org renders it) as the table's text
/// holds it: numbers without a fraction as integers, null as nullopt.
std::optional<std::string> field_text(const nlohmann::json& v);

/// A bug the fakes can be told to have, to show that the invariants catch it.
enum class injected_bug {
  none,
  /// The writer does not record its creates in doubt (store::record_in_doubt skipped):
  /// a create whose answer is lost is sent again.
  skip_in_doubt,
  /// The writer records a batch's results and then leaves its entries NEW: the
  /// recorded batch is sent again.
  resend_recorded,
  /// Polls apply pages while creates are in doubt (store::has_in_doubt skipped).
  poll_ignores_in_doubt,
  /// The writer claims each table's entries in id order but runs the tables
  /// one after the other (claims grouped by table): with ordered writes a
  /// later change of one table reaches Salesforce before an earlier one of
  /// another (the ordered-connection rule across tables is broken).
  claim_by_table,
  /// A write cycle does not take the connection's writer lock: a restarted
  /// writer's first cycle returns to NEW the entries a cycle still running
  /// (its old writer crashed) has claimed, and sends them too.
  no_writer_lock,
  /// Read repair's sweep does nothing: a late commit (a record stamped
  /// before the mark when it became visible) is never read.
  no_read_repair,
  /// Change events: the replay id is stored in a transaction of its own after
  /// the batch's rows: when that one fails, the subscriber applies the batch
  /// again (each event counted twice, and an older event applied over a newer poll).
  event_mark_apart,
  /// The cluster store counts a node dead half its time to live before its
  /// row expires (as if the store's clock ran ahead of the nodes'): another
  /// member takes its units while the holder's own deadline has not passed,
  /// so two nodes hold a valid fence for one unit.
  early_takeover,
  /// The cluster store ignores the incarnation a member acts for (as before
  /// the fix, docs/testing.md): a member of a restarted engine that leaves
  /// late ends the membership of the new one, whose fences stay valid while
  /// another node takes its units.
  stale_member,
  /// The writer sends an update or delete of a record a plain create of the
  /// same cycle made before that create's result is recorded (the recorder is
  /// behind): a crash then leaves the create in doubt while the record no
  /// longer carries its values, and the settlement creates it again.
  update_before_create_recorded,
};

/// The name of a bug (SIM_BUG=<name> replays with it); "none" for none.
const char* bug_name(injected_bug b);
/// The bug of a name; nullopt when there is none of that name.
std::optional<injected_bug> bug_named(const std::string& name);

/// Fault probabilities (per call of a fake), drawn from the world's seeded PRNG.
struct fault_rates {
  double io_error = 0.0;    ///< a call fails before doing anything (retry outcome)
  double lost_result = 0.0; ///< the call did its work but reports a failure (timeout, lost answer)
  /// The unit's lease moves while a job is between its Salesforce call and its commit.
  double lease_lost_mid_job = 0.0;
  /// A job pauses between two of its steps (claim / Salesforce call / record,
  /// a poll's read and its apply) while other actors, other jobs, the workload
  /// and crashes run: what the threads of production interleave.
  double interleave = 0.0;
  /// Change events (tests/sim/sim_change_stream.hpp), per delivery: the stream
  /// ends before handing a batch over / right after it.
  double stream_drop = 0.0;
  /// Per event delivered: its payload cannot be decoded.
  double undecodable = 0.0;
  /// Per Salesforce-side change: Salesforce sends a gap event instead of its event.
  double gap = 0.0;
  /// Per step: the org's event log drops every event older than now (retention
  /// passed): a subscriber resuming behind it gets "replay id too old".
  double events_expire = 0.0;
  /// Per cluster store call: the member's session is lost (the call throws) /
  /// the call is slow (others run meanwhile, as in a job's pause).
  double store_error = 0.0;
  double store_slow = 0.0;
  /// Per step: a node crashes (its sync engine and every actor under it killed;
  /// the node supervisor starts it again) / freezes (its heartbeats stop for
  /// up to 25 s: its leases lapse, the other node takes its units).
  double node_crash = 0.0;
  double node_freeze = 0.0;
};

/// One row of the mapped table (Heroku Connect's columns that matter here).
struct pg_row {
  std::int64_t id = 0;
  std::optional<std::string> sfid;
  std::map<std::string, std::optional<std::string>> values; ///< data columns
  std::string systemmodstamp;                               ///< canonical, empty when never read
  std::string lastop;                                       ///< _hc_lastop
  std::string err;                                          ///< _hc_err
};

/// One `_trigger_log` (or archive) entry, as the capture triggers write it.
struct log_entry {
  std::int64_t id = 0;
  std::string table; ///< `table_name`: the log is the schema's, shared by its tables
  std::string state = "NEW"; ///< NEW, PENDING, SUCCESS, FAILED, MERGED, IGNORED
  std::string action;        ///< INSERT, UPDATE, DELETE
  std::optional<std::int64_t> record_id;
  std::optional<std::string> sfid;
  hstore values;
  std::optional<hstore> old;
  std::string message; ///< sf_message of a FAILED entry
};

/// A create sent whose result is not recorded yet (`syncforce.write_in_doubt`).
struct in_doubt {
  std::int64_t entry_id = 0;
  std::string table;
  std::optional<std::int64_t> record_id;
  std::string body; ///< the record JSON sent
  std::int64_t sent_ms = 0;
};

/// The stored state of the mapping (`syncforce.mappings`).
struct mapping_row {
  std::string state = "INITIAL";
  std::string description;
  std::optional<std::string> hwm;
  std::optional<std::string> hwm_id;
};

/// One mapped table and its mapping: the rows, the stored state and mark, and
/// what happened to it (for the invariants).
struct table_model {
  std::string object;     ///< Item__c
  std::string table;      ///< item__c
  std::string mapping_id; ///< m1
  std::map<std::int64_t, pg_row> rows; ///< by id
  mapping_row mapping;
  /// Reloads after the workload began (a synced mapping must never reload).
  long reloads_after_start = 0;
  /// A poll ran: the mapping actor took its first load as done (a load whose
  /// answer was lost is rightly loaded again; the workload waits for this).
  bool polled = false;
  /// Accelerated sync (sf_notify_enabled): a change subscriber applies events.
  bool notify = false;
  /// `syncforce.change_event_marks`: the replay id stored with the rows, the events counted.
  std::optional<std::uint64_t> event_mark;
  long events_counted = 0;
  /// Per replay id, how many times an applied batch counted it (the invariants: once).
  std::map<std::uint64_t, int> event_counts;
  /// Batches applied, events applied as row changes, echoes (applied or skipped), catch-ups asked for.
  long event_batches = 0;
  long event_rows = 0;
  long event_echoes = 0;
  long event_catch_ups = 0;
};

/// A unit's lease row (`syncforce.leases`): who holds it under which epoch.
struct lease_row {
  std::string node; ///< owner_node; empty: nobody (released, or its node rejoined or left)
  std::int64_t epoch = 0;
  long moves = 0;
};

/// A node's row (`syncforce.nodes`): live while it has not expired.
struct node_row {
  std::int64_t incarnation = 0;
  std::int64_t expires_ms = 0;
};

class world {
public:
  /// `objects`: the mapped objects (each defined in the org, each a table here).
  world(std::uint64_t seed, std::function<std::int64_t()> now_ms, const std::vector<std::string>& objects);

  // ---- the clock and the PRNG ----
  /// Milliseconds since the epoch on the simulation's clock (the actor clock's).
  std::int64_t now_ms() const { return now_ms_(); }
  /// Moves the org's clock to the simulation's.
  void sync_clock() { clock_.set(now_ms()); }
  /// The org's clock (a late commit sets it back for its write).
  sfemu::clock& clock() { return clock_; }
  std::mt19937_64& rng() { return rng_; }
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  // ---- Salesforce ----
  sfemu::org& org() { return org_; }
  /// The integration user's id (the writer's creates carry it as CreatedById).
  const std::string& engine_user() const { return engine_user_; }
  /// Another Salesforce user who changes records (the Salesforce-side workload).
  const std::string& other_user() const { return other_user_; }
  /// Runs a query; rows as JSON objects (without attributes).
  std::vector<nlohmann::json> query(const std::string& soql, bool all_rows);

  // ---- PostgreSQL ----
  std::map<std::string, table_model> tables; ///< by table name
  std::map<std::int64_t, log_entry> log;     ///< `_trigger_log`, by id
  std::map<std::int64_t, log_entry> archive; ///< `_trigger_log_archive`, by id
  std::map<std::int64_t, in_doubt> doubts;   ///< by entry id
  std::map<std::string, lease_row> leases;   ///< by unit ("mapping:<id>", "writer:<id>")
  std::map<std::string, node_row> nodes;     ///< by node name (the cluster store's rows)
  /// Whether `node`'s row exists and has not expired (`expires_at > clock_timestamp()`).
  bool node_live(const std::string& node) const;
  /// Nodes frozen until a time (ms): none of their cluster store calls gets through.
  std::map<std::string, std::int64_t> frozen_until;
  std::int64_t next_row_id = 1;              ///< one sequence for every table: row ids never collide
  std::int64_t next_entry_id = 1;

  /// The table of `name`, of an object, of a mapping (throws when unknown: a fake asked about a table it lacks).
  table_model& table(const std::string& name);
  table_model& table_of_object(const std::string& object);
  table_model& table_of_mapping(const std::string& mapping_id);

  /// The capture triggers: a user's INSERT, UPDATE or DELETE (with its log entry).
  std::int64_t user_insert(const std::string& table, std::map<std::string, std::optional<std::string>> values);
  void user_update(const std::string& table, std::int64_t id,
                   std::map<std::string, std::optional<std::string>> changed);
  void user_delete(const std::string& table, std::int64_t id);
  /// Whether row `id` of `table` has a change waiting in the log (NEW or PENDING).
  bool waiting(const std::string& table, std::int64_t id) const;
  /// The row of `table` that holds `sfid`, if any.
  pg_row* row_by_sfid(const std::string& table, const std::string& sfid);
  /// Whether a create of `table` is in doubt (store::has_in_doubt).
  bool has_in_doubt(const std::string& table) const;

  /// store::check_fence: a transaction under `fence` may commit only while the
  /// lease row still names its node and epoch, the node's row has not expired,
  /// and the node's own deadline has
  /// not passed (lease_fence::require_valid). Throws fenced_out, like
  /// commit_fenced. Called before a fake changes anything, so a refused
  /// transaction changes nothing. Also records the epochs that committed per
  /// unit: they must never go back (checked by the invariants).
  void check_fence(const lease_fence* fence);

  /// A line of the run's trace (shown with SIM_VERBOSE, beside the engine's log lines).
  void note(const std::string& line) const;

  // ---- faults ----
  fault_rates faults;
  injected_bug bug = injected_bug::none;
  /// Whether the next call fails before doing anything / loses its result.
  bool io_fails() { return chance(faults.io_error); }
  bool result_lost() { return chance(faults.lost_result); }
  /// Between a job's Salesforce call and its commit: maybe its node freezes
  /// now, the job with it, until its leases lapsed and the other node took
  /// them (the driver runs everything else meanwhile).
  void maybe_lose_lease(const lease_fence* fence) {
    if (fence != nullptr && on_lease_lost && chance(faults.lease_lost_mid_job))
      on_lease_lost(*fence);
  }
  std::function<void(const lease_fence& fence)> on_lease_lost;
  /// Runs `fn` (which runs other actors) unless a job or call already pauses:
  /// one level deep, shared with yield().
  template <class F>
  bool pause_others(F&& fn) {
    if (yield_depth_ != 0)
      return false;
    ++yield_depth_;
    fn();
    --yield_depth_;
    return true;
  }

  // ---- interleaving inside a job ----
  /// Between two steps of a job: maybe other actors run now (one level deep:
  /// a job run meanwhile does not pause in its turn).
  void yield(const std::string& where) { yield(where, faults.interleave); }
  /// The same at another rate (a slow call of another kind).
  void yield(const std::string& where, double rate) {
    if (on_yield && yield_depth_ == 0 && chance(rate)) {
      ++yield_depth_;
      on_yield(where);
      --yield_depth_;
    }
  }
  std::function<void(const std::string& where)> on_yield;
  /// The advisory locks (engine_io/table_guard: session locks, re-entrant for
  /// their holder): key -> the job that holds it.
  std::map<std::string, std::int64_t> locks;
  std::int64_t next_job = 1;

  // ---- what happened (for the invariants) ----
  /// Salesforce changes that committed late (stamped before they became visible).
  long late_commits = 0;
  /// Every record the writer's creates made (sfid -> the table and row id it
  /// was sent for), including creates whose answer was lost.
  std::map<std::string, std::pair<std::string, std::int64_t>> created_for_row;
  /// Salesforce writes made by the writer (calls' records).
  long sf_writes = 0;
  bool workload_started = false;
  /// Whether every mapping polled (its first load is done).
  bool all_polled() const;
  /// Violations seen while running (a fence that let an older epoch commit after a newer one).
  std::vector<std::string> online_violations;
  /// Per unit, the highest epoch that committed.
  std::map<std::string, std::int64_t> committed_epoch;

private:
  int yield_depth_ = 0;
  std::function<std::int64_t()> now_ms_;
  std::mt19937_64 rng_;
  sfemu::clock clock_;
  sfemu::org org_;
  std::string engine_user_;
  std::string other_user_;
};

/// The invariants at quiescence; one line per violation (empty: all held).
/// `running`: per unit, the nodes whose actors run it now.
std::vector<std::string> check_invariants(world& w, const std::map<std::string, std::set<std::string>>& running);

/// A canonical text of the org's and the table's content (for replay checks).
std::string snapshot(world& w);

} // namespace syncforce::sim
