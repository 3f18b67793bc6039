#include "tests/sim/sim_engine.hpp"

#include "actors/atoms.hpp"
#include "actors/connection_actor.hpp"
#include "actors/integration_user.hpp"
#include "actors/worker_pool.hpp"
#include "sync/poll_plan.hpp"
#include "tests/sim/sim_change_stream.hpp"
#include "tests/sim/sim_io.hpp"
#include "tests/support/test_coordinator.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <algorithm>
#include <ctime>
#include <random>
#include <stdexcept>

namespace syncforce::sim {

using namespace std::chrono_literals;
using namespace syncforce::actors;

namespace {

constexpr const char* connection_id = "c1";
const std::string writer_unit = std::string{"writer:"} + connection_id;
std::string mapping_unit(const std::string& mapping_id) { return "mapping:" + mapping_id; }

/// The objects a run maps: as many as asked, else 1 to 3 from the seed (drawn
/// apart from the world's PRNG, which needs them to be made).
std::vector<std::string> objects_for(const sim_options& opts) {
  std::mt19937_64 pick(opts.seed ^ 0x6d617070696e6773ULL);
  auto n = opts.mappings > 0 ? static_cast<std::size_t>(opts.mappings) : 1 + static_cast<std::size_t>(pick() % 3);
  const auto& all = simulated_objects();
  return {all.begin(), all.begin() + static_cast<long>(std::min(n, all.size()))};
}

/// What one node runs: its worker pool, integration user and connection actor.
struct node {
  std::string name;
  worker_pool_actor pool;
  cursor_broker_actor user;
  connection_actor_hdl connection;
  running_reporter reporter;
  /// The fences this node was given, by unit (what the cluster member tells the engine).
  std::map<std::string, std::shared_ptr<const lease_fence>> fences;
  std::vector<std::string> running; ///< unit ids, as the connection last reported
};

/// The reporter a connection actor tells what runs (the engine's role toward the cluster member).
running_reporter::behavior_type reporter(running_reporter::pointer, std::vector<std::string>* running) {
  return {
    [running](running_atom, const std::string&, std::vector<std::string>& units) { *running = std::move(units); },
  };
}

class simulation {
public:
  explicit simulation(const sim_options& opts)
    : opts_(opts), sys_(coordinated_.sys), sched_(coordinated_.sched),
      start_(sched_.clock().now()),
      world_(
        opts.seed,
        [this] {
          return 1700000000000 +
                 std::chrono::duration_cast<std::chrono::milliseconds>(sched_.clock().now() - start_).count();
        },
        objects_for(opts)) {
    world_.bug = opts.bug;
    auto& rng = world_.rng();
    if (opts.faults) {
      // Each seed draws its own fault rates: some runs are calm, some stormy.
      world_.faults.io_error = std::uniform_real_distribution<double>(0.0, 0.15)(rng);
      world_.faults.lost_result = std::uniform_real_distribution<double>(0.0, 0.12)(rng);
      world_.faults.lease_lost_mid_job = std::uniform_real_distribution<double>(0.0, 0.03)(rng);
      world_.faults.interleave = std::uniform_real_distribution<double>(0.0, 0.3)(rng);
      world_.faults.stream_drop = std::uniform_real_distribution<double>(0.0, 0.15)(rng);
      world_.faults.undecodable = std::uniform_real_distribution<double>(0.0, 0.03)(rng);
      world_.faults.gap = std::uniform_real_distribution<double>(0.0, 0.1)(rng);
      world_.faults.events_expire = std::uniform_real_distribution<double>(0.0, 0.001)(rng);
    }
    // Accelerated sync (sf_notify_enabled) on some mappings: their change
    // subscribers read the org's event log through streams_.
    for (auto& [name, t] : world_.tables)
      t.notify = world_.chance(0.5);
    events_ = std::make_shared<change_event_settings>();
    events_->target = "sim";
    events_->batch = 1 + static_cast<int>(world_.pick(50));
    events_->retry = backoff_policy{500ms, 8000ms, 2.0, 0.0};
    events_->streams = streams_.factory();
    // A job paused between two of its steps: other messages run meanwhile (the
    // other worker's job among them), the workload goes on, and the writer or a
    // mapping may crash while the paused job still runs on its worker.
    world_.on_yield = [this](const std::string& where) {
      world_.note("a job pauses " + where + ": other actors run meanwhile");
      ++interleavings_;
      if (world_.chance(0.4) && crashes_ < 8)
        crash();
      // As long as a slow call takes: up to 5 simulated seconds, at most 80 steps.
      const auto until = world_.now_ms() + static_cast<std::int64_t>(world_.pick(5000));
      for (int i = 0, n = 1 + static_cast<int>(world_.pick(80)); i < n && world_.now_ms() <= until; ++i)
        tick();
    };
    world_.on_lease_lost = [this](const std::string& unit) {
      world_.note("the lease on " + unit + " moves while a job runs under it");
      ++lease_moves_;
      grant(unit, nodes_[world_.pick(nodes_.size())].name);
      tell_units();
    };
    mode_ = world_.chance(0.5) ? write_mode::ordered : write_mode::merged;
    claim_limit_ = 3 + world_.pick(40);
    sync_io_ = make_sim_sync_io(world_);
    write_io_ = make_sim_write_io(world_);
    user_ = std::make_shared<sf_user>();
    user_->key = "https://login.sfemu.local|admin@sfemu.local";
    user_->username = "admin@sfemu.local";
    // Some records exist in Salesforce before the first load.
    world_.sync_clock();
    for (auto& [name, t] : world_.tables)
      for (int i = 0, n = static_cast<int>(world_.pick(6)); i < n; ++i)
        sf_create(t.object);
  }

  ~simulation() {
    for (auto& n : nodes_) {
      for (auto a : {caf::actor_cast<caf::actor>(n.connection), caf::actor_cast<caf::actor>(n.pool),
                     caf::actor_cast<caf::actor>(n.user), caf::actor_cast<caf::actor>(n.reporter)})
        if (a)
          caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
    sched_.run();
  }

  sim_result run() {
    sim_result res;
    res.seed = opts_.seed;
    res.bug = opts_.bug;
    res.touch_in_doubt = opts_.touch_in_doubt;
    res.events_race_writes = opts_.events_race_writes;
    nodes_.reserve(static_cast<std::size_t>(opts_.nodes)); // reporters keep pointers into it
    for (int i = 0; i < opts_.nodes; ++i)
      start_node("node-" + std::string(1, static_cast<char>('a' + i)));
    // The leases: each unit to a node the seed picks, epoch 1.
    for (const auto& unit : units())
      grant(unit, nodes_[world_.pick(nodes_.size())].name);
    tell_units();

    // The workload and the faults, interleaved with the engine's own steps.
    for (int i = 0; i < opts_.workload_steps; ++i) {
      tick();
      // Between jobs no lock is held (each job's locks end with it).
      if (!world_.locks.empty() && world_.online_violations.size() < 5)
        world_.online_violations.push_back("locks: " + world_.locks.begin()->first + " held between jobs");
    }
    // Quiet: no workload, no faults; the engine catches up (a pause ends).
    workload_over_ = true;
    if (paused_) {
      paused_ = false;
      reconfigure();
    }
    world_.faults = {};
    run_for(std::chrono::minutes(3));
    res.violations = check_invariants(world_, running());
    if (!world_.workload_started)
      res.violations.push_back("the first load never finished: the workload never started");
    // The echo rule: at rest, more polls and write cycles change nothing and
    // write nothing (a write-back read back as a change would loop here).
    if (res.violations.empty()) {
      auto before = snapshot(world_);
      auto writes = world_.sf_writes;
      auto entries = world_.next_entry_id;
      run_for(std::chrono::minutes(1));
      if (world_.sf_writes != writes)
        res.violations.push_back("echo: " + std::to_string(world_.sf_writes - writes) +
                                 " Salesforce write(s) at rest: a write-back came back as a change");
      if (world_.next_entry_id != entries)
        res.violations.push_back("echo: the trigger log grew at rest");
      if (snapshot(world_) != before)
        res.violations.push_back("echo: the table or the org changed at rest");
    }
    res.final_state = snapshot(world_);
    res.crashes = crashes_;
    res.pg_changes = pg_changes_;
    res.sf_changes = sf_changes_;
    res.interleavings = interleavings_;
    res.late_commits = world_.late_commits;
    res.lease_moves = lease_moves_;
    res.admin_changes = admin_changes_;
    res.steps = steps_;
    res.sf_writes = world_.sf_writes;
    res.sim_ms = world_.now_ms() - 1700000000000;
    res.mappings = static_cast<int>(world_.tables.size());
    for (const auto& [name, t] : world_.tables) {
      res.notify_mappings += t.notify ? 1 : 0;
      res.event_batches += t.event_batches;
      res.event_rows += t.event_rows;
      res.event_echoes += t.event_echoes;
      res.event_catch_ups += t.event_catch_ups;
    }
    res.stream_drops = streams_.drops;
    res.event_expiries = expiries_;
    return res;
  }

private:
  // ---- the engine of each node ----

  void start_node(std::string name) {
    node n;
    n.name = std::move(name);
    worker_pool_config pcfg;
    pcfg.size = 2;
    pcfg.detached = false; // scheduled: the test coordinator runs every job
    n.pool = sys_.spawn(worker_pool, pcfg);
    integration_user_config ucfg;
    ucfg.username = user_->username;
    ucfg.incarnation = "sim-" + n.name; // not random: the run must replay
    ucfg.probe_interval = 5s;
    n.user = sys_.spawn(integration_user, ucfg);
    nodes_.push_back(std::move(n));
    auto& added = nodes_.back();
    added.reporter = sys_.spawn(reporter, &added.running);
    added.connection = sys_.spawn(connection_actor, settings(added), sync_io_, added.pool, added.user);
    caf::anon_send(added.connection, start_atom::value);
  }

  /// Every unit of the connection: its mappings and its writer.
  std::vector<std::string> units() {
    std::vector<std::string> out;
    for (const auto& [name, t] : world_.tables)
      out.push_back(mapping_unit(t.mapping_id));
    out.push_back(writer_unit);
    return out;
  }

  static mapping_config config_of(const table_model& t) {
    mapping_config mc;
    mc.object_name = t.object;
    mc.access = mapping_access::read_write;
    mc.fields = {"Id", "SystemModstamp", "IsDeleted", "Label__c", "Qty__c"};
    mc.sf_polling_seconds = 120;
    // Read repair's sweep (late commits), often enough to run many times a run;
    // its window reaches far behind the latest late commit (20 s).
    mc.read_repair.sweep_seconds = 30;
    mc.read_repair.sweep_window_seconds = 600;
    mc.sf_notify_enabled = t.notify;
    return mc;
  }

  mapping_settings mapping_settings_of(const table_model& t) {
    mapping_settings ms;
    ms.job.mapping_id = t.mapping_id;
    ms.job.connection_id = connection_id;
    ms.job.schema = "salesforce";
    ms.job.config = config_of(t);
    ms.job.keyset_settle = 10s;
    ms.job.user = user_;
    ms.poll_interval = 5s;
    ms.retry = backoff_policy{500ms, 8000ms, 2.0, 0.0};
    ms.budget_wait = 5s;
    ms.time = std::make_shared<manual_time>(); // day 0 for the daily cap, whatever the date
    ms.revision = revisions_[t.mapping_id];
    ms.change_events = events_;
    return ms;
  }

  /// What the engine's settings_for() would give the connection actor.
  connection_settings settings(const node& n) {
    connection_settings cs;
    cs.connection = connection_job{connection_id, "sim", "salesforce", user_};
    writer_settings ws;
    for (auto& [name, t] : world_.tables) {
      cs.mappings.push_back(mapping_settings_of(t));
      ws.job.mappings.push_back(write_mapping{t.mapping_id, config_of(t)});
    }
    ws.job.connection_id = connection_id;
    ws.job.name = "sim";
    ws.job.schema = "salesforce";
    ws.job.user = user_;
    ws.job.mode = mode_;
    ws.job.api_version = 60.0;
    ws.job.claim_limit = claim_limit_;
    ws.job.in_doubt_settle_after = 6s;
    ws.fallback_poll = 2s;
    ws.retry = backoff_policy{500ms, 8000ms, 2.0, 0.0};
    ws.budget_wait = 5s;
    cs.writer = ws;
    cs.writes = write_io_;
    cs.restart = backoff_policy{1000ms, 8000ms, 2.0, 0.0};
    cs.retry = backoff_policy{500ms, 8000ms, 2.0, 0.0};
    cs.paused = paused_;
    cs.clustered = true;
    cs.units = units_of(n);
    cs.reporter = n.reporter;
    return cs;
  }

  connection_units units_of(const node& n) {
    connection_units u;
    for (const auto& [unit, fence] : n.fences) {
      if (unit == writer_unit)
        u.writer = fence;
      else if (unit.rfind("mapping:", 0) == 0)
        u.mappings.emplace(unit.substr(8), fence);
    }
    return u;
  }

  // ---- leases (the cluster member's part, and the lease rows) ----

  /// Gives `unit` to node `to` under the next epoch; the previous holder's
  /// fence lapses (its node's clock passed the deadline: it may not write).
  void grant(const std::string& unit, const std::string& to) {
    auto& row = world_.leases[unit];
    for (auto& n : nodes_) {
      auto f = n.fences.find(unit);
      if (f == n.fences.end())
        continue;
      std::const_pointer_cast<lease_validity>(f->second->validity)->lapse();
      n.fences.erase(f);
    }
    row.node = to;
    ++row.epoch;
    auto validity = std::make_shared<lease_validity>();
    auto now = lease_validity::clock::now();
    validity->renew(now, std::chrono::hours(24 * 365), 0ms, now); // the deadline is never the limit here
    auto fence = std::make_shared<lease_fence>();
    fence->kind = unit.substr(0, unit.find(':'));
    fence->key = unit.substr(unit.find(':') + 1);
    fence->node = to;
    fence->epoch = row.epoch;
    fence->connection_id = connection_id;
    fence->generation = validity->generation();
    fence->validity = validity;
    for (auto& n : nodes_)
      if (n.name == to)
        n.fences[unit] = fence;
  }

  void tell_units() {
    for (auto& n : nodes_)
      caf::anon_send(n.connection, units_atom::value, units_of(n));
  }

  void move_lease() {
    auto all = units();
    const auto unit = all[world_.pick(all.size())];
    grant(unit, nodes_[world_.pick(nodes_.size())].name);
    tell_units();
  }

  std::map<std::string, std::set<std::string>> running() {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& n : nodes_)
      for (const auto& u : n.running)
        out[u].insert(n.name);
    return out;
  }

  // ---- administration (what an admin change makes the engine send) ----

  /// A pause or resume of the connection, or an edit of one mapping (a new
  /// revision: its actor is stopped, a running step cancelled, and started again).
  void admin_change() {
    ++admin_changes_;
    if (paused_ || world_.chance(0.3)) {
      paused_ = !paused_;
      world_.note(paused_ ? "admin pauses the connection" : "admin resumes the connection");
    } else {
      auto t = std::next(world_.tables.begin(), static_cast<long>(world_.pick(world_.tables.size())));
      auto& revision = revisions_[t->second.mapping_id];
      ++revision;
      world_.note("admin edits mapping " + t->second.mapping_id + ": revision " + std::to_string(revision));
    }
    reconfigure();
  }

  void reconfigure() {
    for (auto& n : nodes_)
      caf::anon_send(n.connection, reconfigure_atom::value, settings(n));
  }

  // ---- faults ----

  connection_actor_state* connection_state(const node& n) {
    // The concrete type of a typed stateful actor: a cast to the untyped
    // stateful_actor<connection_actor_state> would give nullptr, silently.
    auto* p = dynamic_cast<connection_actor_impl::stateful_pointer<connection_actor_state>>(
      caf::actor_cast<caf::abstract_actor*>(n.connection));
    if (p == nullptr && n.connection)
      throw std::logic_error("sim: the connection actor's state type changed; crash() and wake would do nothing");
    return p == nullptr ? nullptr : &p->state;
  }

  /// Kills a running mapping or writer actor (its connection restarts it).
  bool crash() {
    auto& n = nodes_[world_.pick(nodes_.size())];
    auto* st = connection_state(n);
    if (st == nullptr)
      return false;
    caf::actor victim;
    if (world_.chance(0.5)) {
      auto t = std::next(world_.tables.begin(), static_cast<long>(world_.pick(world_.tables.size())));
      auto c = st->children.find(t->second.mapping_id);
      if (c != st->children.end())
        victim = caf::actor_cast<caf::actor>(c->second.hdl);
    } else {
      victim = caf::actor_cast<caf::actor>(st->writer);
    }
    if (!victim)
      return false;
    caf::anon_send_exit(victim, caf::exit_reason::unhandled_exception); // as if it had thrown
    ++crashes_;
    return true;
  }

  // ---- the workload ----

  std::string label() { return "L" + std::to_string(world_.pick(1000)); }
  std::string qty() { return std::to_string(world_.pick(100)); }

  /// A user's write in PostgreSQL (through the capture triggers), then its NOTIFY.
  void pg_change() {
    auto& t = std::next(world_.tables.begin(), static_cast<long>(world_.pick(world_.tables.size())))->second;
    auto& rows = t.rows;
    auto roll = world_.pick(10);
    if (rows.empty() || roll < 4) {
      world_.user_insert(t.table, {{"label__c", label()}, {"qty__c", qty()}});
    } else {
      auto it = std::next(rows.begin(), static_cast<long>(world_.pick(rows.size())));
      if (roll < 9) {
        std::map<std::string, std::optional<std::string>> changed;
        if (world_.chance(0.7))
          changed["label__c"] = label();
        if (world_.chance(0.5))
          changed["qty__c"] = qty();
        world_.user_update(t.table, it->first, changed);
      } else {
        world_.user_delete(t.table, it->first);
      }
    }
    for (auto& n : nodes_) // the trigger log's NOTIFY reaches the writer wherever it runs
      if (auto* st = connection_state(n); st != nullptr && st->writer)
        caf::anon_send(st->writer, wake_atom::value);
  }

  void sf_create(const std::string& object, std::optional<std::int64_t> at = std::nullopt) {
    sfemu::write_op op;
    op.op = sfemu::write_op::kind::create;
    op.object = object;
    op.fields = {{"Label__c", label()}, {"Qty__c", world_.pick(100)}};
    write_at(op, at);
  }

  /// Another user's write, stamped `at` (a late commit) or now.
  void write_at(const sfemu::write_op& op, std::optional<std::int64_t> at) {
    if (at) {
      world_.clock().set(*at);
      ++world_.late_commits;
      world_.note("a change of " + op.object + " " + op.id + " commits late, stamped " + stamp_text(*at));
    }
    // Sometimes Salesforce cannot produce a change's event and sends a gap
    // event in its place: the subscriber must ask for a catch-up poll.
    const bool gap = opts_.faults && world_.chance(world_.faults.gap);
    auto& log = world_.org().change_log();
    if (gap)
      log.set_enabled(false);
    auto r = world_.org().write(op, world_.other_user());
    if (gap) {
      log.set_enabled(true);
      if (r.success()) {
        using sfemu::cdc::change_type;
        auto type = op.op == sfemu::write_op::kind::create   ? change_type::gap_create
                    : op.op == sfemu::write_op::kind::update ? change_type::gap_update
                                                             : change_type::gap_delete;
        log.publish_gap(op.object, type, {r.id.empty() ? op.id : r.id}, world_.other_user());
        world_.note("a gap event stands for the change of " + op.object + " " + (r.id.empty() ? op.id : r.id));
      }
    }
    world_.sync_clock();
  }

  /// A canonical timestamp (2023-11-14T22:13:20.000Z) of epoch milliseconds.
  static std::string stamp_text(std::int64_t ms) {
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return std::string{buf} + "." + std::to_string(1000 + ms % 1000).substr(1) + "Z";
  }

  /// Another user's write in Salesforce.
  void sf_change() {
    auto& t = std::next(world_.tables.begin(), static_cast<long>(world_.pick(world_.tables.size())))->second;
    // A late commit: Salesforce stamps a change when its transaction begins;
    // one that commits up to 20 s later becomes visible below marks polls
    // already passed. Only read repair's sweep reads it.
    std::optional<std::int64_t> late_at;
    if (world_.chance(0.2))
      late_at = world_.now_ms() - 1000 - static_cast<std::int64_t>(world_.pick(19000));
    auto all = world_.query("SELECT Id, SystemModstamp FROM " + t.object + " ORDER BY Id", false);
    std::vector<nlohmann::json> live;
    for (auto& rec : all) {
      auto id = rec["Id"].get<std::string>();
      // A record the writer made whose create is still in doubt (no row holds
      // it yet) is left alone unless asked: a change to it defeats the
      // writer's matching by values (docs/testing.md, what the simulation found).
      if (!opts_.touch_in_doubt && world_.created_for_row.count(id) && world_.row_by_sfid(t.table, id) == nullptr)
        continue;
      // A record of an accelerated mapping whose row waits to be written back
      // is left alone unless asked: docs/testing.md, what the simulation found.
      if (!opts_.events_race_writes && t.notify)
        if (const auto* row = world_.row_by_sfid(t.table, id); row != nullptr && world_.waiting(t.table, row->id))
          continue;
      // A late change of a record changed since it began cannot be: the
      // record's row lock would have held the later change back. Nor one in
      // the same second as the record's last change: SystemModstamp has
      // whole seconds, so no poll or sweep can tell the two versions apart
      // (docs/testing.md, what the simulation found).
      if (late_at && *canonical_timestamp(rec["SystemModstamp"].get<std::string>()) >=
                       stamp_text(*late_at - *late_at % 1000))
        continue;
      live.push_back(std::move(rec));
    }
    auto roll = world_.pick(10);
    if (live.empty() || roll < 3) {
      sf_create(t.object, late_at);
      return;
    }
    sfemu::write_op op;
    op.id = live[world_.pick(live.size())]["Id"].get<std::string>();
    op.object = t.object;
    if (roll < 9) {
      op.op = sfemu::write_op::kind::update;
      op.fields = world_.chance(0.5) ? nlohmann::json{{"Label__c", label()}}
                                     : nlohmann::json{{"Label__c", label()}, {"Qty__c", world_.pick(100)}};
    } else {
      op.op = sfemu::write_op::kind::remove;
    }
    world_.note(std::string{"another user "} + (op.op == sfemu::write_op::kind::remove ? "deletes " : "updates ") +
                op.id + " " + op.fields.dump());
    write_at(op, late_at);
  }

  // ---- scheduling ----

  /// One step of the engine and, during the workload, maybe some workload and faults.
  void tick() {
    step();
    if (workload_over_)
      return;
    if (!world_.workload_started && world_.all_polled())
      world_.workload_started = true; // the first load is done: users start working
    if (!world_.workload_started)
      return;
    if (world_.chance(0.08)) {
      pg_change();
      ++pg_changes_;
    }
    if (world_.chance(0.04)) {
      sf_change();
      ++sf_changes_;
    }
    if (opts_.faults && world_.chance(0.004) && crashes_ < 4)
      crash();
    if (opts_.faults && world_.chance(0.004)) {
      move_lease();
      ++lease_moves_;
    }
    if (world_.chance(0.003))
      admin_change();
    if (opts_.faults && world_.chance(world_.faults.events_expire)) {
      // The retention passes for every event now: a subscriber resuming behind
      // the newest one hears "replay id too old" and catches up by poll.
      auto& log = world_.org().change_log();
      const auto keep = log.retention_ms();
      log.set_retention_ms(1);
      log.expire();
      log.set_retention_ms(keep);
      world_.note("the org's change events expire");
      ++expiries_;
    }
  }

  /// One step: a pending message picked by the seed, or time moving on.
  void step() {
    ++steps_;
    world_.sync_clock();
    streams_.pump();
    if (sched_.has_job() && !world_.chance(0.05)) {
      auto& jobs = sched_.jobs;
      auto i = world_.pick(jobs.size());
      std::rotate(jobs.begin(), jobs.begin() + static_cast<long>(i), jobs.begin() + static_cast<long>(i) + 1);
      sched_.run_once();
      return;
    }
    // Time passes: a little while messages wait (slow calls, late timers), or
    // straight to the next timer when nothing else can happen.
    if (sched_.has_job() || world_.chance(0.3))
      sched_.advance_time(std::chrono::milliseconds(world_.pick(2000)));
    else if (sched_.has_pending_timeout())
      sched_.trigger_timeout();
  }

  void run_for(std::chrono::milliseconds span) {
    auto until = sched_.clock().now() + span;
    long guard = 0;
    while (sched_.clock().now() < until && ++guard < 2000000)
      step();
  }

  sim_options opts_;
  syncforce::testing::coordinated_system coordinated_; ///< the shared fixture (tests/support/test_coordinator.hpp)
  caf::actor_system& sys_;
  caf::scheduler::test_coordinator& sched_;
  caf::actor_clock::time_point start_;
  world world_;
  std::shared_ptr<sync_io> sync_io_;
  std::shared_ptr<write_io> write_io_;
  std::shared_ptr<sf_user> user_;
  write_mode mode_ = write_mode::merged;
  std::size_t claim_limit_ = 10;
  std::vector<node> nodes_;
  long crashes_ = 0;
  long pg_changes_ = 0;
  long sf_changes_ = 0;
  long interleavings_ = 0;
  bool workload_over_ = false;
  long lease_moves_ = 0;
  long admin_changes_ = 0;
  long steps_ = 0;
  bool paused_ = false;
  std::map<std::string, int> revisions_; ///< by mapping id (absent: 0)
  change_streams streams_{world_}; ///< the Pub/Sub API of the simulation
  std::shared_ptr<change_event_settings> events_;
  long expiries_ = 0;
};

} // namespace

std::string sim_result::replay_hint() const {
  return std::string{bug == injected_bug::none ? "" : "SIM_BUG=" + std::string{bug_name(bug)} + " "} +
         (touch_in_doubt ? "SIM_TOUCH_IN_DOUBT=1 " : "") + (events_race_writes ? "SIM_EVENTS_RACE_WRITES=1 " : "") +
         "SIM_SEED=" + std::to_string(seed) + " build/tests/engine_sim_test --gtest_filter='engine_sim.replay'";
}

sim_result run_simulation(const sim_options& opts) {
  simulation s(opts);
  return s.run();
}

} // namespace syncforce::sim
