#include "tests/sim/sim_engine.hpp"

#include "actors/atoms.hpp"
#include "actors/connection_actor.hpp"
#include "actors/node_supervisor.hpp"
#include "actors/sync_engine.hpp"
#include "actors/worker_pool.hpp"
#include "store/channels.hpp"
#include "sync/poll_plan.hpp"
#include "tests/sim/sim_change_stream.hpp"
#include "tests/sim/sim_cluster_store.hpp"
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
constexpr const char* login_url = "https://login.salesforce.com";
constexpr const char* username = "admin@sfemu.local";

/// The objects a run maps: as many as asked, else 1 to 3 from the seed (drawn
/// apart from the world's PRNG, which needs them to be made).
std::vector<std::string> objects_for(const sim_options& opts) {
  std::mt19937_64 pick(opts.seed ^ 0x6d617070696e6773ULL);
  auto n = opts.mappings > 0 ? static_cast<std::size_t>(opts.mappings) : 1 + static_cast<std::size_t>(pick() % 3);
  const auto& all = simulated_objects();
  return {all.begin(), all.begin() + static_cast<long>(std::min(n, all.size()))};
}

/// The node's clocks are the test coordinator's: the cluster member's lease
/// deadline and every fence's check read the simulated time.
class sim_time : public time_source {
public:
  sim_time(caf::scheduler::test_coordinator& sched, caf::actor_clock::time_point start, std::int64_t epoch_ms)
    : sched_(sched), start_(start), epoch_ms_(epoch_ms) {}
  std::chrono::system_clock::time_point system_now() const override {
    return std::chrono::system_clock::time_point{} + std::chrono::milliseconds(epoch_ms_) +
           std::chrono::duration_cast<std::chrono::milliseconds>(sched_.clock().now() - start_);
  }
  std::chrono::steady_clock::time_point steady_now() const override { return sched_.clock().now(); }
  void sleep_for(std::chrono::milliseconds) const override {} // actors never sleep; nothing else runs here

private:
  caf::scheduler::test_coordinator& sched_;
  caf::actor_clock::time_point start_;
  std::int64_t epoch_ms_;
};

/// LISTEN/NOTIFY of the simulation: the engine's listener factory registers
/// here; the workload's trigger-log inserts and admin changes notify.
struct listener_hub {
  std::map<std::uint64_t, std::pair<std::string, wake_target>> listeners; ///< by id: channel, target
  std::uint64_t next = 1;
};

class sim_listener : public notify_listener {
public:
  sim_listener(std::shared_ptr<listener_hub> hub, std::uint64_t id) : hub_(std::move(hub)), id_(id) {}
  ~sim_listener() override { hub_->listeners.erase(id_); } // UNLISTEN with the session
private:
  std::shared_ptr<listener_hub> hub_;
  std::uint64_t id_;
};

/// Always up (the control schema migrated): the database's own faults are the fakes' calls.
class sim_probe : public database_probe {
public:
  probe_result check() override { return {true, 1, ""}; }
};

class null_sink : public readiness_sink {
public:
  void set_ready(bool, const std::string&) override {}
  void set_live(bool, const std::string&) override {}
  void set_failed(const std::string&) override {}
};

/// Whether the actor behind `a` still runs (its state may be read).
bool alive(const caf::actor& a) {
  if (!a)
    return false;
  auto* p = caf::actor_cast<caf::abstract_actor*>(a);
  return !p->getf(caf::abstract_actor::is_terminated_flag) && !p->getf(caf::abstract_actor::is_cleaned_up_flag);
}

/// What one node runs: the node supervisor (the process), which runs the
/// sync engine (and, under it, the cluster member, the worker pool, the
/// integration user and the connection actor with its mappings and writer).
struct node {
  std::string name;
  caf::actor supervisor;
  caf::actor engine; ///< the engine the supervisor started last
  int engines = 0;   ///< engines started (the first and every restart)
  int brokers = 0;   ///< brokers started (their grant-id prefixes)
};

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
    time_ = std::make_shared<sim_time>(sched_, start_, 1700000000000);
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
      world_.faults.store_error = std::uniform_real_distribution<double>(0.0, 0.1)(rng);
      world_.faults.store_slow = std::uniform_real_distribution<double>(0.0, 0.05)(rng);
      world_.faults.node_crash = std::uniform_real_distribution<double>(0.0, 0.003)(rng);
      world_.faults.node_freeze = std::uniform_real_distribution<double>(0.0, 0.003)(rng);
    }
    // Two nodes, or three in one seed of four.
    node_count_ = opts.nodes > 0 ? opts.nodes : (world_.chance(0.25) ? 3 : 2);
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
    // mapping may crash while the paused job still runs on its worker, or its
    // whole node.
    world_.on_yield = [this](const std::string& where) {
      world_.note("a job pauses " + where + ": other actors run meanwhile");
      ++interleavings_;
      if (world_.chance(0.4) && crashes_ < 8)
        crash();
      else if (!workload_over_ && world_.chance(0.05))
        node_crash();
      // As long as a slow call takes: up to 5 simulated seconds, at most 80 steps.
      const auto until = world_.now_ms() + static_cast<std::int64_t>(world_.pick(5000));
      for (int i = 0, n = 1 + static_cast<int>(world_.pick(80)); i < n && world_.now_ms() <= until; ++i)
        tick();
    };
    // Between a job's Salesforce call and its commit, its node freezes (the
    // job with it) past its lease's time to live: the other node takes the
    // unit meanwhile; when the job goes on, its commit must be refused.
    world_.on_lease_lost = [this](const lease_fence& fence) {
      const auto span = 10000 + static_cast<std::int64_t>(world_.pick(10000));
      freeze(fence.node, span);
      world_.pause_others([&] {
        world_.note("the job under " + fence.unit() + " (epoch " + std::to_string(fence.epoch) +
                    ") freezes with its node");
        const auto until = world_.now_ms() + span + 1000;
        for (int i = 0; i < 20000 && world_.now_ms() < until; ++i)
          tick();
      });
    };
    mode_ = world_.chance(0.5) ? write_mode::ordered : write_mode::merged;
    claim_limit_ = 3 + world_.pick(40);
    sync_io_ = make_sim_sync_io(world_);
    write_io_ = make_sim_write_io(world_);
    // Some records exist in Salesforce before the first load.
    world_.sync_clock();
    for (auto& [name, t] : world_.tables)
      for (int i = 0, n = static_cast<int>(world_.pick(6)); i < n; ++i)
        sf_create(t.object);
  }

  ~simulation() {
    // Every actor ends here, killed (no member leaves: the world goes with them).
    for (auto& n : nodes_)
      for (const auto& a : {n.engine, n.supervisor})
        if (a)
          caf::anon_send_exit(a, caf::exit_reason::kill);
    sched_.run();
  }

  sim_result run() {
    sim_result res;
    res.seed = opts_.seed;
    res.bug = opts_.bug;
    res.touch_in_doubt = opts_.touch_in_doubt;
    res.events_race_writes = opts_.events_race_writes;
    nodes_.reserve(static_cast<std::size_t>(node_count_)); // make_engine keeps an index into it
    for (int i = 0; i < node_count_; ++i)
      start_node("node-" + std::string(1, static_cast<char>('a' + i)));

    // The workload and the faults, interleaved with the engine's own steps.
    for (int i = 0; i < opts_.workload_steps; ++i) {
      tick();
      // Between jobs no lock is held (each job's locks end with it).
      if (!world_.locks.empty() && world_.online_violations.size() < 5)
        world_.online_violations.push_back("locks: " + world_.locks.begin()->first + " held between jobs");
    }
    // Quiet: no workload, no faults; the engine catches up (a pause ends, frozen nodes thaw).
    workload_over_ = true;
    world_.faults = {};
    world_.frozen_until.clear();
    if (paused_) {
      paused_ = false;
      notify_control();
    }
    run_for(std::chrono::minutes(3));
    // At rest means no lease moving either: a lease taken near the end (a
    // member whose tick waited past its deadline behind a slow step lapses and
    // rejoins, its units move) is checked once its new holder had time to
    // start it. Up to 3 more minutes, in steps of 20 s without a move.
    for (int i = 0; i < 9; ++i) {
      const auto holders = lease_holders();
      run_for(std::chrono::seconds(20));
      if (lease_holders() == holders)
        break;
    }
    res.violations = check_invariants(world_, running());
    for (const auto& n : nodes_)
      if (!alive(n.engine))
        res.violations.push_back("node " + n.name + ": no sync engine runs at rest (its supervisor gave up?)");
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
    res.node_crashes = node_crashes_;
    res.freezes = freezes_;
    res.nodes = node_count_;
    for (const auto& [name, row] : world_.nodes)
      res.rejoins += row.incarnation - 1;
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
  // ---- the nodes: each the real node supervisor, sync engine and cluster member ----

  void start_node(std::string name) {
    const auto index = nodes_.size();
    nodes_.push_back(node{std::move(name), {}, {}, 0, 0});
    node_config nc;
    nc.node_name = nodes_[index].name;
    nc.make_engine = [this, index](caf::local_actor* parent) -> supervised_engine {
      auto& n = nodes_[index];
      ++n.engines;
      auto engine = parent->spawn(sync_engine, engine_settings(index));
      n.engine = caf::actor_cast<caf::actor>(engine);
      world_.note(n.name + ": the supervisor starts a sync engine (" + std::to_string(n.engines) + ")");
      return engine;
    };
    auto make_monitor = [](caf::local_actor* parent) {
      // Scheduled: the probe is in memory.
      return parent->spawn(db_monitor, caf::actor_cast<db_listener>(parent), std::make_shared<sim_probe>(),
                           db_monitor_config{});
    };
    auto sup = sys_.spawn(node_supervisor, nc, std::make_shared<null_sink>(), make_monitor);
    nodes_[index].supervisor = caf::actor_cast<caf::actor>(sup);
    caf::anon_send(sup, start_atom::value);
  }

  /// What the composition root (services/main/syncforced.cpp) gives a node's
  /// engine, with the simulation's backend.
  sync_engine_config engine_settings(std::size_t index) {
    const auto name = nodes_[index].name;
    sync_engine_config cfg;
    cfg.node_name = name;
    cfg.advertise_address = name + ":0";
    cfg.version = "sim";
    cfg.workers = 2;
    cfg.detached_workers = false; // scheduled: the test coordinator runs every job
    cfg.detached_member = false;
    cfg.time = time_;
    cfg.test_poll_seconds = 5; // the seconds the simulation's mappings poll at (tune() sets the rest)
    cfg.retry = backoff_policy{500ms, 8000ms, 2.0, 0.0};
    cfg.lease_ttl = 10s;
    cfg.heartbeat_interval = 2s;
    cfg.change_events = events_;
    cfg.secrets.env = [](const std::string& var) -> std::optional<std::string> {
      return var == "SF_SIM_PASSWORD" ? std::optional<std::string>{"sim-password"} : std::nullopt;
    };
    cfg.broker_incarnation = [this, index](const std::string&) {
      auto& n = nodes_[index];
      return "sim-" + n.name + "-" + std::to_string(++n.brokers); // not random: the run must replay
    };
    cfg.tune_connection = [this](connection_settings& cs) { tune(cs); };
    cfg.backend.io = sync_io_;
    cfg.backend.writes = write_io_;
    cfg.backend.make_cluster_store = [this, name] {
      return make_sim_cluster_store(world_, [this] { return unit_rows(); }, name, &lease_moves_);
    };
    cfg.backend.listen = [hub = hub_](const std::string& channel, wake_target target) {
      auto id = hub->next++;
      hub->listeners.emplace(id, std::make_pair(channel, std::move(target)));
      return std::make_unique<sim_listener>(hub, id);
    };
    cfg.backend.load_config = [this](worker_context&, const std::optional<syncforce::engine_config>&,
                                      std::vector<loaded_connection>& out) {
      if (world_.io_fails())
        return job_outcome::failure(outcome_kind::retry, "sim: the control schema cannot be read (database down)");
      out.push_back(control_schema());
      return job_outcome{};
    };
    return cfg;
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

  /// What `load_config` reads from the control schema: the connection (paused
  /// or not, its write mode) and its mappings (each edit a new revision).
  loaded_connection control_schema() {
    loaded_connection lc;
    auto& c = lc.row;
    c.id = connection_id;
    c.name = "sim";
    c.schema_name = "salesforce";
    c.state = paused_ ? "PAUSED" : "IDLE";
    c.api_version = "60.0";
    c.login.login_url = login_url;
    c.login.username = username;
    c.login.auth = "password";
    c.login.secret_ref = "env:SF_SIM_PASSWORD";
    c.features.poll_db_no_merge = mode_ == write_mode::ordered;
    c.features.disable_bulk_writes = true; // the simulation has collection calls only (docs/testing.md)
    for (auto& [name, t] : world_.tables) {
      store::mapping_row m;
      m.id = t.mapping_id;
      m.connection_id = connection_id;
      m.object_name = t.object;
      m.config = config_of(t);
      m.revision = 1 + revisions_[t.mapping_id];
      lc.mappings.push_back(std::move(m));
    }
    return lc;
  }

  /// The units the configuration defines (store::read_cluster's units query).
  std::vector<store::unit_row> unit_rows() {
    std::vector<store::unit_row> out;
    for (const auto& [name, t] : world_.tables)
      out.push_back(store::unit_row{"mapping", t.mapping_id, connection_id, t.object, 1});
    out.push_back(store::unit_row{"writer", connection_id, connection_id, "sim", 1});
    out.push_back(store::unit_row{"integration_user", std::string{login_url} + "|" + username, "", username, 1});
    return out;
  }

  /// The simulation's schedules and sizes, drawn per seed, over what
  /// settings_for() built (sync_engine_config::tune_connection).
  void tune(connection_settings& cs) {
    for (auto& ms : cs.mappings) {
      ms.job.keyset_settle = 10s;
      ms.poll_interval = 5s;
      ms.retry = backoff_policy{500ms, 8000ms, 2.0, 0.0};
      ms.budget_wait = 5s;
      ms.time = std::make_shared<manual_time>(); // day 0 for the daily cap, whatever the date
    }
    if (cs.writer) {
      auto& ws = *cs.writer;
      ws.job.claim_limit = claim_limit_;
      ws.job.in_doubt_settle_after = 6s;
      ws.fallback_poll = 2s;
      ws.retry = backoff_policy{500ms, 8000ms, 2.0, 0.0};
      ws.budget_wait = 5s;
    }
    cs.restart = backoff_policy{1000ms, 8000ms, 2.0, 0.0};
    cs.retry = backoff_policy{500ms, 8000ms, 2.0, 0.0};
  }

  // ---- looking inside a node (faults, invariants) ----

  sync_engine_state* engine_state(const node& n) {
    if (!alive(n.engine))
      return nullptr;
    auto* p = dynamic_cast<sync_engine_actor::stateful_pointer<sync_engine_state>>(
      caf::actor_cast<caf::abstract_actor*>(n.engine));
    if (p == nullptr)
      throw std::logic_error("sim: the sync engine's state type changed");
    return &p->state;
  }

  cluster_member_state* member_state(const node& n) {
    auto* st = engine_state(n);
    if (st == nullptr || !alive(caf::actor_cast<caf::actor>(st->member)))
      return nullptr;
    auto* p = dynamic_cast<cluster_member_actor::stateful_pointer<cluster_member_state>>(
      caf::actor_cast<caf::abstract_actor*>(st->member));
    if (p == nullptr)
      throw std::logic_error("sim: the cluster member's state type changed");
    return &p->state;
  }

  connection_actor_state* connection_state(const node& n) {
    auto* st = engine_state(n);
    if (st == nullptr)
      return nullptr;
    auto c = st->connections.find(connection_id);
    if (c == st->connections.end() || !alive(caf::actor_cast<caf::actor>(c->second)))
      return nullptr;
    // The concrete type of a typed stateful actor: a cast to the untyped
    // stateful_actor<connection_actor_state> would give nullptr, silently.
    auto* p = dynamic_cast<connection_actor_impl::stateful_pointer<connection_actor_state>>(
      caf::actor_cast<caf::abstract_actor*>(c->second));
    if (p == nullptr)
      throw std::logic_error("sim: the connection actor's state type changed; crash() would do nothing");
    return &p->state;
  }

  /// Per unit, the nodes whose connection actor runs it now (as the engines know).
  std::map<std::string, std::set<std::string>> running() {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& n : nodes_)
      if (auto* st = engine_state(n))
        for (const auto& [conn, units] : st->running)
          for (const auto& u : units)
            out[u].insert(n.name);
    return out;
  }

  /// One owner per unit, at every step: no two nodes' cluster members hold a
  /// fence for the same unit that their own clock still finds valid.
  void check_owners() {
    std::map<std::string, std::vector<std::string>> holders;
    for (const auto& n : nodes_)
      if (auto* ms = member_state(n))
        for (const auto& [unit, fence] : ms->owned)
          if (fence->valid_now())
            holders[unit].push_back(n.name + " (epoch " + std::to_string(fence->epoch) + ")");
    for (const auto& [unit, who] : holders) {
      if (who.size() < 2 || !owners_reported_.insert(unit).second) // once per unit: it lasts several steps
        continue;
      std::string list;
      for (const auto& w : who)
        list += (list.empty() ? "" : ", ") + w;
      world_.online_violations.push_back("one owner per unit: at t=" + std::to_string(world_.now_ms() - 1700000000000) +
                                         " ms " + unit + " has a valid fence on " + list);
    }
  }

  // ---- administration (through the control schema and its NOTIFY) ----

  void notify(bool control) {
    std::vector<wake_target> targets;
    for (const auto& [id, l] : hub_->listeners)
      if ((l.first == store::control_channel) == control)
        targets.push_back(l.second);
    for (auto& t : targets)
      caf::anon_send(t, wake_atom::value);
  }
  void notify_control() { notify(true); }

  /// A pause or resume of the connection, or an edit of one mapping (a new
  /// revision: its actor is stopped, a running step cancelled, and started
  /// again), written to the control schema; its NOTIFY makes every engine load again.
  void admin_change() {
    ++admin_changes_;
    if (paused_ || world_.chance(0.3)) {
      paused_ = !paused_;
      world_.note(paused_ ? "admin pauses the connection" : "admin resumes the connection");
    } else {
      auto t = std::next(world_.tables.begin(), static_cast<long>(world_.pick(world_.tables.size())));
      auto& revision = revisions_[t->second.mapping_id];
      ++revision;
      world_.note("admin edits mapping " + t->second.mapping_id + ": revision " + std::to_string(1 + revision));
    }
    notify_control();
  }

  // ---- faults ----

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

  /// A node's sync engine dies with everything under it (killed: nothing
  /// leaves the cluster, its fences lapse with its member), or stops cleanly
  /// (its member leaves); the node supervisor starts a new one, which rejoins
  /// under a new incarnation.
  void node_crash() {
    if (node_crashes_ >= 4)
      return;
    auto& n = nodes_[world_.pick(nodes_.size())];
    if (!alive(n.engine))
      return;
    const bool clean = world_.chance(0.3);
    world_.note(n.name + (clean ? ": the sync engine stops (its member leaves the cluster)"
                                : ": the node crashes: its sync engine and every actor under it are killed"));
    caf::anon_send_exit(n.engine, clean ? caf::exit_reason::user_shutdown : caf::exit_reason::kill);
    ++node_crashes_;
  }

  /// No cluster store call of `node` gets through for `ms` (its heartbeats stop).
  void freeze(const std::string& node_name, std::int64_t ms) {
    auto& until = world_.frozen_until[node_name];
    until = std::max(until, world_.now_ms() + ms);
    world_.note(node_name + " freezes for " + std::to_string(ms) + " ms: its heartbeats stop");
    ++freezes_;
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
    notify(false); // the trigger log's NOTIFY reaches the writer wherever it runs
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
    if (opts_.faults && world_.chance(world_.faults.node_crash))
      node_crash();
    if (opts_.faults && world_.chance(world_.faults.node_freeze) && freezes_ < 4)
      freeze(nodes_[world_.pick(nodes_.size())].name, 3000 + static_cast<std::int64_t>(world_.pick(22000)));
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

  /// One step: a pending message picked by the seed, or time moving on; then
  /// one owner per unit is checked.
  void step() {
    ++steps_;
    world_.sync_clock();
    streams_.pump();
    if (sched_.has_job() && !world_.chance(0.05)) {
      auto& jobs = sched_.jobs;
      auto i = world_.pick(jobs.size());
      std::rotate(jobs.begin(), jobs.begin() + static_cast<long>(i), jobs.begin() + static_cast<long>(i) + 1);
      sched_.run_once();
    } else if (sched_.has_job() || world_.chance(0.3)) {
      // Time passes: a little while messages wait (slow calls, late timers), or
      // straight to the next timer when nothing else can happen.
      sched_.advance_time(std::chrono::milliseconds(world_.pick(2000)));
    } else if (sched_.has_pending_timeout()) {
      sched_.trigger_timeout();
    }
    check_owners();
  }

  /// Every lease's holder and epoch: changes whenever a lease moves.
  std::map<std::string, std::pair<std::string, std::int64_t>> lease_holders() const {
    std::map<std::string, std::pair<std::string, std::int64_t>> out;
    for (const auto& [unit, lease] : world_.leases)
      out.emplace(unit, std::make_pair(lease.node, lease.epoch));
    return out;
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
  std::shared_ptr<const time_source> time_;
  std::shared_ptr<sync_io> sync_io_;
  std::shared_ptr<write_io> write_io_;
  std::shared_ptr<listener_hub> hub_ = std::make_shared<listener_hub>();
  write_mode mode_ = write_mode::merged;
  std::size_t claim_limit_ = 10;
  int node_count_ = 2;
  std::vector<node> nodes_;
  long crashes_ = 0;
  long node_crashes_ = 0;
  long freezes_ = 0;
  long pg_changes_ = 0;
  long sf_changes_ = 0;
  long interleavings_ = 0;
  bool workload_over_ = false;
  long lease_moves_ = 0;
  long admin_changes_ = 0;
  long steps_ = 0;
  std::set<std::string> owners_reported_; ///< units with two valid fences already reported
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
