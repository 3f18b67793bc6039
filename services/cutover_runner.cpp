// The schema-swap cutover's steps. Every step is its own transaction and is
// written to syncforce.cutovers before the next begins; the runner holds the
// cutover's advisory lock on its session for the whole run, so "the runner is
// gone" is exactly "the lock can be taken" (settle_interrupted_cutovers). The
// switch is one transaction: views, functions, triggers, foreign keys, the
// roles' search_path and the removal of the source's mappings commit together
// or not at all, so a failure anywhere before it leaves the source as it was
// (once the fence is dropped), and nothing after it can fail half-way.

#include "services/cutover_runner.hpp"

#include "actors/log.hpp"
#include "services/admin_detail.hpp"
#include "store/admin_changes.hpp"
#include "store/cutover.hpp"
#include "store/cutover_catalog.hpp"
#include "sync/clock.hpp"
#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <thread>

namespace syncforce::services {

namespace detail = admin_detail;

namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

const std::set<std::string> synced_states{"DATA_SYNCED", "POLLING_SF_CHANGES", "POLLING_SF_BULK",
                                          "POLLING_SF_FOR_DELETES"};

/// A backlog the source's writer sends in about one batch: fencing at or below it keeps the drain short.
constexpr long long low_backlog = 50;

const char* phase_name(store::carry_phase p) {
  switch (p) {
    case store::carry_phase::prepare:
      return "prepare";
    case store::carry_phase::in_switch:
      return "switch";
    case store::carry_phase::none:
      break;
  }
  return "none";
}

long long elapsed_ms(steady::time_point since) {
  return std::chrono::duration_cast<milliseconds>(real_time().steady_now() - since).count();
}

std::string seconds_text(milliseconds d) { return std::to_string(d.count() / 1000) + " s"; }

/// Everything the cutover needs, decided in the planning transaction.
struct cutover_plan {
  store::connection_row source;
  store::connection_row target;
  std::vector<store::cutover_table> tables;
  std::vector<store::dependent_object> objects;
  std::vector<std::string> source_read_write; ///< tables whose source mapping writes to Salesforce
};

std::string table_list(const std::string& schema, const std::vector<store::cutover_table>& tables) {
  std::string out;
  for (const auto& t : tables)
    out += (out.empty() ? "" : ", ") + schema + "." + t.table;
  return out;
}

std::vector<std::string> table_names(const std::vector<store::cutover_table>& tables) {
  std::vector<std::string> out;
  for (const auto& t : tables)
    out.push_back(t.table);
  return out;
}

/// The connections, the tables that move and their dependents; problems say why it cannot run.
grpc::Status make_plan(pqxx::transaction_base& tx, const cutover_request& req, cutover_plan& p,
                       std::vector<config_problem>& problems) {
  if (auto s = detail::find_connection(tx, req.source, p.source); !s.ok())
    return s;
  if (auto s = detail::find_connection(tx, req.target, p.target); !s.ok())
    return s;
  if (p.source.id == p.target.id)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the source and the target are the same connection (" + p.source.name + ")");
  detail::lock_connection(tx, p.source.id);
  detail::lock_connection(tx, p.target.id);
  if (p.source.organization_id && p.target.organization_id && !p.source.organization_id->empty() &&
      !p.target.organization_id->empty() && *p.source.organization_id != *p.target.organization_id)
    problems.push_back({"target", "connection " + p.target.name + " syncs org " + *p.target.organization_id + ", " +
                                    p.source.name + " syncs org " + *p.source.organization_id});
  if (p.source.schema_name == p.target.schema_name)
    problems.push_back({"target", "both connections use schema " + p.source.schema_name});
  auto source_mappings = store::load_mappings(tx, p.source.id);
  auto target_mappings = store::load_mappings(tx, p.target.id);
  for (const auto& wanted : req.mappings) {
    const bool in_target = std::any_of(target_mappings.begin(), target_mappings.end(),
                                       [&](const store::mapping_row& m) { return iequals(m.object_name, wanted); });
    const bool in_source = std::any_of(source_mappings.begin(), source_mappings.end(),
                                       [&](const store::mapping_row& m) { return iequals(m.object_name, wanted); });
    if (!in_target || !in_source)
      problems.push_back({"mappings." + wanted, std::string{"is not mapped by "} +
                                                  (!in_source ? p.source.name : p.target.name) +
                                                  "; a cutover moves mappings both connections have"});
  }
  for (const auto& tm : target_mappings) {
    if (!req.mappings.empty() &&
        std::none_of(req.mappings.begin(), req.mappings.end(),
                     [&](const std::string& w) { return iequals(w, tm.object_name); }))
      continue;
    auto sm = std::find_if(source_mappings.begin(), source_mappings.end(),
                           [&](const store::mapping_row& m) { return iequals(m.object_name, tm.object_name); });
    if (sm == source_mappings.end())
      continue; // a mapping only the target has: nothing to move
    const auto path = "mappings." + tm.object_name;
    if (sm->config.table_name() != tm.config.table_name())
      problems.push_back({path, "the tables differ in name (" + sm->config.table_name() + " in " + p.source.name +
                                  ", " + tm.config.table_name() + " in " + p.target.name + ")"});
    if (!synced_states.count(tm.state) || !tm.high_water_mark || tm.command)
      problems.push_back({path, p.target.name + "'s mapping is " + tm.state +
                                  (tm.command ? " with a pending " + *tm.command : std::string{}) +
                                  "; wait until it is in sync (syncforce state " + p.target.name + ")"});
    if (auto block = store::write_block_text(tx, sm->id))
      problems.push_back({path, p.source.name + "'s ordered writes of " + sm->object_name +
                                  " are stopped by a failed insert (" + *block +
                                  "); fix it (syncforce write-errors) first, or its changes could not drain"});
    if (sm->config.access == mapping_access::read_write)
      p.source_read_write.push_back(sm->config.table_name());
    p.tables.push_back({sm->object_name, sm->config.table_name(), sm->id, tm.id});
  }
  if (p.tables.empty() && problems.empty())
    problems.push_back({"mappings", "connections " + p.source.name + " and " + p.target.name +
                                      " have no mapping in common: nothing to move"});
  if (!p.source_read_write.empty() && p.source.state == "PAUSED")
    problems.push_back({"source", "connection " + p.source.name +
                                    " is PAUSED, so its unsent changes could not drain; resume it first"});
  if (p.target.state == "PAUSED")
    problems.push_back({"target", "connection " + p.target.name +
                                    " is PAUSED, so it could not catch up with Salesforce; resume it first"});
  if (auto running = store::running_cutover_between(tx, p.source.id, p.target.id))
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "cutover " + *running + " of these connections is still running");
  if (p.tables.empty())
    return grpc::Status::OK;
  p.objects =
    store::find_dependents(tx, p.source.schema_name, p.target.schema_name, p.tables, req.roles, req.move_tables);
  if (req.move_tables) {
    // The moves come first among the switch's creates: the dependents are made again over them.
    auto moves = store::move_table_objects(tx, p.source.schema_name, p.target.schema_name, p.tables);
    p.objects.insert(p.objects.begin(), moves.begin(), moves.end());
  }
  for (const auto& o : p.objects)
    if (!o.blocker.empty())
      problems.push_back({"objects." + o.kind + " " + o.name, o.blocker});
  return grpc::Status::OK;
}

/// The steps, in words, as a dry run lists them.
std::vector<std::string> planned_steps(const cutover_plan& p, const cutover_request& req) {
  const auto prepare = store::carry_statements(p.objects, store::carry_phase::prepare).size();
  const auto in_switch = store::carry_statements(p.objects, store::carry_phase::in_switch).size();
  std::vector<std::string> steps;
  steps.push_back("prepare: " + std::to_string(prepare) + " statement(s) in schema " + p.target.schema_name +
                  " while the application still writes (indexes, grants)");
  if (!p.source_read_write.empty())
    steps.push_back("settle: wait (at most 10 s) for a moment when " + p.source.name + " has at most " +
                    std::to_string(low_backlog) + " changes of them left to send, so that the drain is short");
  steps.push_back("fence: application writes to " + table_list(p.source.schema_name, p.tables) +
                  " are refused from here on (trigger " + store::fence_trigger + ", SQLSTATE 55006), waiting at most " +
                  seconds_text(req.lock_timeout) + " for transactions that hold them");
  steps.push_back(p.source_read_write.empty()
                    ? "drain: nothing to drain (" + p.source.name + " does not write these tables to Salesforce)"
                    : "drain: wait until " + p.source.name + " has sent every change of " +
                        table_list(p.source.schema_name, p.tables) + " to Salesforce (at most " +
                        seconds_text(req.drain_timeout) + ")");
  steps.push_back("catch up: the cutover makes " + p.target.name + " poll at once, again until it holds every "
                  "Salesforce change of the moved objects made up to now (at most " +
                  seconds_text(req.catch_up_timeout) + ")");
  steps.push_back("pause " + p.source.name + " and " + p.target.name +
                  ": nothing of either runs during the switch (" + p.source.name +
                  "'s other mappings' changes wait in its trigger log until it resumes)");
  if (req.move_tables) {
    steps.push_back("switch, in one transaction: " + std::to_string(in_switch) + " statement(s): " +
                    table_list(p.source.schema_name, p.tables) + " set aside in schema " +
                    store::aside_schema(p.source.schema_name, p.target.schema_name) + " (fenced, with their rows), " +
                    table_list(p.target.schema_name, p.tables) + " moved into schema " + p.source.schema_name +
                    " under their names with their capture triggers writing to " + p.source.schema_name +
                    "._trigger_log, views, functions, triggers and foreign keys made again over them; " +
                    p.source.name + "'s mappings of them take " + p.target.name + "'s configuration and high-water "
                    "marks and " + p.target.name + "'s are removed; " + p.source.name + " and " + p.target.name +
                    " are resumed");
    steps.push_back("done: " + p.source.name + " syncs the moved tables in schema " + p.source.schema_name +
                    " (their rows are " + p.target.name + "'s); the application's queries keep their names, "
                    "no search_path changes");
  } else {
    steps.push_back("switch, in one transaction: " + std::to_string(in_switch) +
                    " statement(s) (views, functions, triggers, foreign keys, search_path), then the mappings of " +
                    table_list(p.source.schema_name, p.tables) + " are removed from " + p.source.name +
                    " (the tables stay in schema " + p.source.schema_name + ", fenced), and " + p.source.name +
                    " and " + p.target.name + " are resumed");
    steps.push_back("done: " + p.target.name + " syncs them in schema " + p.target.schema_name +
                    "; new sessions of the application roles find schema " + p.target.schema_name + " first; " +
                    p.source.name + " keeps syncing its other mappings");
  }
  return steps;
}

void fill_report_plan(const cutover_plan& p, const cutover_request& req, syncforce::v1::CutoverReport& out) {
  out.set_move_tables(req.move_tables);
  out.set_source(p.source.name);
  out.set_target(p.target.name);
  out.set_source_schema(p.source.schema_name);
  out.set_target_schema(p.target.schema_name);
  for (const auto& t : p.tables)
    out.add_tables(t.table);
  for (const auto& o : p.objects) {
    auto* r = out.add_objects();
    r->set_kind(o.kind);
    r->set_name(o.name);
    r->set_action(o.action);
    r->set_phase(phase_name(o.phase));
    for (auto it = o.drop_sql.rbegin(); it != o.drop_sql.rend(); ++it)
      r->add_sql(*it);
    for (const auto& s : o.create_sql)
      r->add_sql(s);
    r->set_blocker(o.blocker);
  }
}

nlohmann::json tables_json(const std::vector<store::cutover_table>& tables) {
  auto out = nlohmann::json::array();
  for (const auto& t : tables)
    out.push_back({{"object_name", t.object_name},
                   {"table", t.table},
                   {"source_mapping_id", t.source_mapping_id},
                   {"target_mapping_id", t.target_mapping_id}});
  return out;
}

nlohmann::json plan_json(const cutover_plan& p) {
  auto objects = nlohmann::json::array();
  for (const auto& o : p.objects)
    objects.push_back({{"kind", o.kind}, {"name", o.name}, {"action", o.action}, {"phase", phase_name(o.phase)}});
  return {{"objects", objects},
          {"prepare", store::carry_statements(p.objects, store::carry_phase::prepare)},
          {"switch", store::carry_statements(p.objects, store::carry_phase::in_switch)}};
}

void log_step(const std::string& connection_id, const std::string& event, long long id, const std::string& step,
              std::vector<std::pair<std::string, std::string>> extra = {}) {
  log_event ev{event, "connection", connection_id, "CUTOVER"};
  ev.addon(connection_id).with("cutover", std::to_string(id)).with("step", step);
  for (auto& [k, v] : extra)
    ev.with(std::move(k), std::move(v));
  actors::log(spdlog::level::info, ev);
}

/// Sets connection `connection_id` PAUSED for the switch, unless it is already, and records in
/// the cutover's row that the cutover did it (so the switch or a rollback resumes exactly that),
/// with the audit row and the NOTIFY a Pause makes, all in `tx`.
void pause_for_switch(pqxx::transaction_base& tx, long long id, const std::string& connection_id,
                      const std::string& actor) {
  auto c = detail::reload_connection(tx, connection_id);
  if (c.state == "PAUSED")
    return;
  const auto before = detail::connection_json(c);
  store::set_connection_state(tx, c.id, "PAUSED");
  store::record_paused_connection(tx, id, c.id);
  auto now = detail::reload_connection(tx, c.id);
  detail::audit_and_notify(tx, actor, "connection.pause", now, nullptr, before, detail::connection_json(now));
}

/// Resumes the connections cutover `id` paused that are still PAUSED (audited, NOTIFY), in `tx`.
void resume_paused(pqxx::transaction_base& tx, long long id, const std::string& actor) {
  for (const auto& connection_id : store::connections_paused_by(tx, id)) {
    auto c = detail::reload_connection(tx, connection_id);
    const auto before = detail::connection_json(c);
    store::set_connection_state(tx, c.id, "IDLE");
    auto now = detail::reload_connection(tx, c.id);
    detail::audit_and_notify(tx, actor, "connection.resume", now, nullptr, before, detail::connection_json(now));
  }
}

/// Rolls cutover `id` back (unless it is no longer running): fences dropped, outcome and audit recorded.
void roll_back(const std::string& url, long long id, const std::string& reason, const std::string& actor) {
  pqxx::connection conn(url);
  pqxx::work tx(conn, "cutover_rollback");
  // Dropping the fence waits for application transactions on the tables; one that never ends
  // must not hold the rollback forever: it fails, the runner's session ends with it, and the
  // next settling pass (any node, every 10 s) tries again.
  store::set_local_lock_timeout(tx, std::chrono::seconds(30));
  auto row = store::lock_cutover_row(tx, id);
  if (!row || row->status != "running")
    return;
  const auto step = row->step;
  for (const auto& t : nlohmann::json::parse(row->tables_json))
    store::drop_write_fence(tx, row->source_schema, t.at("table").get<std::string>());
  // What the cutover paused runs again; what the user had paused stays paused.
  resume_paused(tx, id, actor);
  store::finish_cutover_rolled_back(tx, id, reason);
  auto source = detail::reload_connection(tx, row->source_connection_id);
  nlohmann::json after{{"cutover", id}, {"step", step}, {"error", reason}};
  detail::audit_and_notify(tx, actor, "cutover.rollback", source, nullptr, "", after.dump());
  tx.commit();
  log_step(source.id, "Cutover rolled back", id, step, {{"reason", reason}});
}

/// Salesforce's newest change of `object` (its SystemModstamp and Id), deleted records included.
struct newest_change {
  std::string stamp;
  std::string id;
};

std::optional<newest_change> newest_in_salesforce(salesforce::client& sf, const std::string& object) {
  salesforce::query_options options;
  options.batch_size = 200;
  auto cursor = sf.query_all("SELECT Id, SystemModstamp FROM " + object +
                               " ORDER BY SystemModstamp DESC, Id DESC LIMIT 1",
                             options);
  auto page = cursor.next_page();
  if (!page.ok())
    throw std::runtime_error("Salesforce did not answer the newest change of " + object + ": " +
                             page.error().message);
  if (page->records.empty())
    return std::nullopt;
  const auto& r = page->records.front();
  return newest_change{std::string{r.text("SystemModstamp")}, std::string{r.text("Id")}};
}

/// The source's changes of the moved tables not yet sent to Salesforce (trigger-log entries
/// NEW or PENDING, creates in doubt); throws when its ordered writes are stopped on a failed
/// insert (they could not drain).
long long unsent_changes(pqxx::connection& conn, const cutover_plan& p) {
  pqxx::nontransaction q(conn, "cutover_unsent");
  const auto waiting = store::unsent_change_count(q, p.source.id, p.source.schema_name, table_names(p.tables));
  std::vector<std::string> objects;
  for (const auto& t : p.tables)
    objects.push_back(t.object_name);
  if (auto blocked = store::first_write_block(q, p.source.id, objects))
    throw std::runtime_error(p.source.name + "'s ordered writes of " + blocked->first +
                             " stopped on a failed insert (" + blocked->second +
                             "), so its changes cannot drain; fix it (syncforce write-errors) and run the "
                             "cutover again");
  return waiting;
}

/// --move-tables: the target's changes of the moved tables must all be sent, since its
/// trigger log stays behind in its schema (in the switch, with both connections paused).
void check_target_sent(pqxx::transaction_base& tx, const cutover_plan& p) {
  const auto waiting = store::unsent_change_count(tx, p.target.id, p.target.schema_name, table_names(p.tables));
  if (waiting > 0)
    throw std::runtime_error(std::to_string(waiting) + " change(s) written to " +
                             table_list(p.target.schema_name, p.tables) + " are not yet sent to Salesforce by " +
                             p.target.name + "; they would stay behind in its trigger log when the tables move");
}

/// --move-tables: the source's mapping of each moved table takes the target's configuration
/// and sync state (high-water mark, state), and the target's is removed. The source's row
/// keeps its id, so its lease (held for the source connection) and its trigger log (the
/// source schema's, which the moved table's capture triggers now write to) stay its own.
void hand_over_mappings(pqxx::transaction_base& tx, const cutover_plan& p, const std::string& actor) {
  for (const auto& t : p.tables) {
    auto before = store::load_mapping(tx, t.source_mapping_id);
    auto target = store::load_mapping(tx, t.target_mapping_id);
    if (!before || !target)
      throw std::runtime_error("the mapping of " + t.object_name + " was removed meanwhile");
    store::hand_over_mapping(tx, t.source_mapping_id, t.target_mapping_id);
    detail::audit_and_notify(tx, actor, "mapping.delete", p.target, &*target, detail::mapping_json(*target), "");
    auto after = store::load_mapping(tx, t.source_mapping_id);
    detail::audit_and_notify(tx, actor, "mapping.update", p.source, &*after, detail::mapping_json(*before),
                             detail::mapping_json(*after));
  }
}

/// The steps after planning; throws on any failure (the caller rolls back).
void execute(pqxx::connection& conn, const std::string& url, const secret_lookup& secrets,
             const cutover_request& req, const cutover_plan& p, long long id, syncforce::v1::CutoverReport& out) {
  auto step_started = real_time().steady_now();
  auto done = [&](const std::string& what) {
    out.add_steps(what + " (" + std::to_string(elapsed_ms(step_started)) + " ms)");
    step_started = real_time().steady_now();
  };

  // -- prepare: indexes and grants while the application still writes --
  {
    pqxx::work tx(conn, "cutover_prepare");
    store::set_local_lock_timeout(tx, req.lock_timeout);
    store::clear_local_search_path(tx);
    auto statements = store::carry_statements(p.objects, store::carry_phase::prepare);
    store::run_statements(tx, statements, false);
    store::set_cutover_step(tx, id, "prepared");
    tx.commit();
    done("prepare: " + std::to_string(statements.size()) + " statement(s) in schema " + p.target.schema_name);
  }
  log_step(p.source.id, "Cutover prepared", id, "prepared");

  // -- settle: the downtime is mostly the drain, so the fence goes up at a moment when the
  // source has little left to send (at most 10 s of waiting; then it goes up anyway) --
  long long backlog = 0;
  if (!p.source_read_write.empty()) {
    const auto until = real_time().steady_now() + std::min<milliseconds>(req.drain_timeout, milliseconds(10'000));
    while ((backlog = unsent_changes(conn, p)) > low_backlog && real_time().steady_now() < until)
      real_time().sleep_for(milliseconds(20));
    done("settle: " + std::to_string(backlog) + " change(s) of the moved tables waiting to be sent");
  }

  // -- fence: from this commit on, application writes to the moved tables are refused --
  {
    pqxx::work tx(conn, "cutover_fence");
    store::set_local_lock_timeout(tx, req.lock_timeout);
    for (const auto& t : p.tables)
      store::put_write_fence(tx, p.source.schema_name, t.table, p.target.schema_name, id);
    store::mark_cutover_fenced(tx, id);
    tx.commit();
    done("fence: application writes to " + table_list(p.source.schema_name, p.tables) + " are refused");
  }
  log_step(p.source.id, "Cutover fenced application writes", id, "fenced");

  // -- drain: the source sends what the application wrote before the fence --
  if (!p.source_read_write.empty()) {
    const auto deadline = real_time().steady_now() + req.drain_timeout;
    long long waiting = 0;
    for (;;) {
      waiting = unsent_changes(conn, p);
      if (waiting == 0)
        break;
      if (real_time().steady_now() > deadline)
        throw std::runtime_error(std::to_string(waiting) + " change(s) of " +
                                 table_list(p.source.schema_name, p.tables) + " were still not sent to Salesforce by " +
                                 p.source.name + " after " + seconds_text(req.drain_timeout) +
                                 " (syncforce state " + p.source.name + "; --drain-timeout waits longer)");
      real_time().sleep_for(milliseconds(20));
    }
  }
  {
    pqxx::work tx(conn, "cutover_drained");
    store::set_cutover_step(tx, id, "drained");
    for (const auto& t : p.tables) {
      auto unsent = store::rows_without_sfid(tx, p.source.schema_name, t.table);
      if (unsent > 0)
        out.add_warnings(std::to_string(unsent) + " row(s) of " + p.source.schema_name + "." + t.table +
                         " have no sfid (their inserts failed in Salesforce: syncforce write-errors " +
                         p.source.name + "); they stay in schema " + p.source.schema_name + " only");
    }
    tx.commit();
    done(p.source_read_write.empty() ? std::string{"drain: nothing to drain"}
                                     : "drain: " + p.source.name + " sent every change of the moved tables");
  }
  log_step(p.source.id, "Cutover drained the trigger log", id, "drained");

  // -- catch up: the target holds every Salesforce change made up to now --
  {
    std::unique_ptr<salesforce::client> sf;
    if (auto login = detail::salesforce_login(p.target, secrets, sf); !login.ok())
      throw std::runtime_error(login.error_message());
    std::vector<std::optional<newest_change>> newest;
    for (const auto& t : p.tables)
      newest.push_back(newest_in_salesforce(*sf, t.object_name));
    std::set<std::string> rewound;
    auto nudged = real_time().steady_now();
    // Caught up, per object: the target's mark has reached Salesforce's newest change S, and
    // every record Salesforce stamped at or after S is in the target's table at least as new
    // (a deleted one: not there in an older version). The second half matters because stamps
    // are kept to the second: a poll that ran during second S may have read some of S's
    // records and not those written after it in the same second.
    auto caught_up = [&](std::size_t i, pqxx::transaction_base& q) {
      const auto& t = p.tables[i];
      if (!store::mark_reached(q, t.target_mapping_id, newest[i]->stamp))
        return false;
      std::vector<std::string> ids, stamps;
      std::vector<bool> deleted;
      salesforce::query_options options;
      auto cursor = sf->query_all("SELECT Id, SystemModstamp, IsDeleted FROM " + t.object_name +
                                    " WHERE SystemModstamp >= " + newest[i]->stamp.substr(0, 19) + "Z",
                                  options);
      for (;;) {
        auto page = cursor.next_page();
        if (!page.ok())
          throw std::runtime_error("Salesforce did not answer the latest changes of " + t.object_name + ": " +
                                   page.error().message);
        for (const auto& r : page->records) {
          ids.emplace_back(r.text("Id"));
          stamps.emplace_back(r.text("SystemModstamp"));
          deleted.push_back(r.text("IsDeleted") == "true");
        }
        if (page->next_records_url.empty())
          break;
      }
      // Every record the source holds must be in the target too (a record deleted in
      // Salesforce leaves the source with the source's next poll).
      const auto absent = store::records_missing_in_target(q, p.source.schema_name, p.target.schema_name, t.table);
      if (absent > 0) {
        // A record Salesforce committed after a poll of the target had read past its stamp
        // (a late commit: docs/sync-read.md) is never polled again by the target. Its mark
        // is moved back to just before the earliest such record the source knows (once no
        // poll runs: the restart below), so that its next poll reads them; re-reading what
        // it has changes nothing.
        if (rewound.insert(t.target_mapping_id).second || real_time().steady_now() - nudged > milliseconds(2000)) {
          // On the check's own session (autocommit): the mark and the command in one statement.
          store::rewind_to_missing(q, t.target_mapping_id, p.source.schema_name, p.target.schema_name, t.table);
          store::notify_control(q, p.target.id);
          nudged = real_time().steady_now();
          log_step(p.source.id, "Cutover reads missed records into the target again", id, "drained",
                   {{"object_name", t.object_name}, {"records_not_in_target", std::to_string(absent)}});
        }
        return false;
      }
      if (ids.empty())
        return true;
      return store::changes_not_in_table(q, p.target.schema_name, t.table, ids, stamps, deleted) == 0;
    };
    auto behind = [&] {
      std::vector<std::string> out;
      pqxx::nontransaction q(conn, "cutover_catch_up");
      for (std::size_t i = 0; i < p.tables.size(); ++i)
        if (newest[i] && !caught_up(i, q))
          out.push_back(p.tables[i].target_mapping_id);
      return out;
    };
    // Poll now rather than at the next interval: a recover restarts a synced mapping, which
    // catches up at once (after a poll under way, if any). Asked again while still behind.
    auto poll_now = [&](const std::vector<std::string>& mappings) {
      pqxx::work tx(conn, "cutover_poll_now");
      store::ask_recover(tx, mappings);
      store::notify_control(tx, p.target.id);
      tx.commit();
    };
    auto waiting = behind();
    if (!waiting.empty())
      poll_now(waiting);
    const auto deadline = real_time().steady_now() + req.catch_up_timeout;
    while (!waiting.empty()) {
      if (real_time().steady_now() > deadline)
        throw std::runtime_error(p.target.name + " did not catch up with Salesforce within " +
                                 seconds_text(req.catch_up_timeout) + " (syncforce state " + p.target.name +
                                 "; --catch-up-timeout waits longer)");
      real_time().sleep_for(milliseconds(100));
      waiting = behind();
      if (!waiting.empty() && real_time().steady_now() - nudged > milliseconds(2000)) {
        poll_now(waiting);
        nudged = real_time().steady_now();
      }
    }
    pqxx::work tx(conn, "cutover_caught_up");
    store::set_cutover_step(tx, id, "caught_up");
    tx.commit();
    done("catch up: " + p.target.name + " holds every Salesforce change of the moved objects");
  }
  log_step(p.source.id, "Cutover caught the target up", id, "caught_up");

  // -- pause both, so that nothing of either connection runs while the tables switch. Not
  // earlier: the source must drain and the target catch up first, and a pause that the
  // engine handles meanwhile would only delay the target's poll. --
  {
    pqxx::work tx(conn, "cutover_pause");
    pause_for_switch(tx, id, p.source.id, req.actor);
    pause_for_switch(tx, id, p.target.id, req.actor);
    store::set_cutover_step(tx, id, "paused");
    tx.commit();
    done("pause: " + p.source.name + " and " + p.target.name + " paused for the switch");
  }
  log_step(p.source.id, "Cutover paused both connections", id, "paused", {{"target", p.target.name}});

  // -- switch: one transaction --
  {
    pqxx::work tx(conn, "cutover_switch");
    store::set_local_lock_timeout(tx, req.lock_timeout);
    auto row = store::lock_cutover_row(tx, id);
    if (!row || row->status != "running" || row->step != "paused")
      throw std::runtime_error("cutover " + std::to_string(id) + " was settled by another node meanwhile");
    store::clear_local_search_path(tx);
    if (req.move_tables)
      check_target_sent(tx, p);
    const auto statements = store::carry_statements(p.objects, store::carry_phase::in_switch);
    store::run_statements(tx, statements, true);
    if (req.move_tables)
      hand_over_mappings(tx, p, req.actor);
    else
      for (const auto& t : p.tables) {
        auto m = store::load_mapping(tx, t.source_mapping_id);
        if (!m)
          continue;
        store::delete_mapping_row(tx, m->id);
        detail::audit_and_notify(tx, req.actor, "mapping.delete", p.source, &*m, detail::mapping_json(*m), "");
      }
    auto ms = store::finish_cutover_switched(tx, id);
    out.set_write_downtime_ms(ms);
    nlohmann::json after{{"cutover", id},
                         {"target", p.target.name},
                         {"target_schema", p.target.schema_name},
                         {"tables", table_names(p.tables)},
                         {"write_downtime_ms", ms}};
    detail::audit_and_notify(tx, req.actor, "cutover.switch", p.source, nullptr, "", after.dump());
    // Both resume with the switch's commit: no moment where the switch is done and they are paused.
    resume_paused(tx, id, req.actor);
    store::notify_control(tx, p.target.id);
    tx.commit();
    done("switch: " + std::to_string(statements.size()) + " statement(s), " +
         (req.move_tables ? "the tables moved into schema " + p.source.schema_name + " and " + p.target.name +
                              "'s mappings of them handed to " + p.source.name
                          : "the mappings removed from " + p.source.name) +
         ", " + p.source.name + " and " + p.target.name + " resumed, committed");
  }
  log_step(p.source.id, "Cutover switched", id, "switched",
           {{"write_downtime_ms", std::to_string(out.write_downtime_ms())}});
}

} // namespace

int settle_interrupted_cutovers(const std::string& database_url, const std::string& node) {
  pqxx::connection conn(database_url);
  std::vector<std::pair<long long, std::string>> running;
  {
    pqxx::nontransaction q(conn);
    if (!store::has_cutovers_table(q))
      return 0;
    running = store::running_cutovers(q);
  }
  int settled = 0;
  for (const auto& [id, where] : running) {
    pqxx::nontransaction q(conn);
    if (!store::try_lock_cutover_session(q, id))
      continue; // its runner is alive
    try {
      roll_back(database_url, id, "the cutover stopped at step " + where + " and was rolled back",
                "node:" + node);
      ++settled;
    } catch (...) {
      store::unlock_cutover_session(q, id);
      throw;
    }
    store::unlock_cutover_session(q, id);
  }
  return settled;
}

namespace {

class settling_probe : public actors::database_probe {
public:
  settling_probe(std::unique_ptr<actors::database_probe> inner, std::string url, std::string node,
                 std::chrono::milliseconds every)
    : inner_(std::move(inner)), url_(std::move(url)), node_(std::move(node)), every_(every) {
  }

  actors::probe_result check() override {
    auto r = inner_->check();
    if (!r.ok || (last_ && real_time().steady_now() - *last_ < every_))
      return r;
    last_ = real_time().steady_now();
    try {
      settle_interrupted_cutovers(url_, node_);
    } catch (const std::exception& e) {
      // The database answered the probe; a failure here is retried at the next check.
      actors::log(spdlog::level::warn, log_event{"Cannot settle interrupted cutovers", "node", node_, ""}
                                         .with("reason", e.what()));
    }
    return r;
  }

private:
  std::unique_ptr<actors::database_probe> inner_;
  std::string url_;
  std::string node_;
  std::chrono::milliseconds every_;
  std::optional<steady::time_point> last_;
};

} // namespace

std::unique_ptr<actors::database_probe> settling_cutovers(std::unique_ptr<actors::database_probe> probe,
                                                          std::string database_url, std::string node,
                                                          std::chrono::milliseconds every) {
  return std::make_unique<settling_probe>(std::move(probe), std::move(database_url), std::move(node), every);
}

grpc::Status run_cutover(const std::string& database_url, const secret_lookup& secrets, const cutover_request& req,
                         syncforce::v1::CutoverReport& out) {
  settle_interrupted_cutovers(database_url, req.node);
  pqxx::connection conn(database_url);
  cutover_plan p;
  long long id = 0;
  {
    pqxx::work tx(conn, "cutover_plan");
    std::vector<config_problem> problems;
    if (auto s = make_plan(tx, req, p, problems); !s.ok())
      return s;
    out.set_dry_run(req.dry_run);
    if (req.dry_run) {
      fill_report_plan(p, req, out);
      for (const auto& s : planned_steps(p, req))
        out.add_steps(s);
      for (const auto& problem : problems)
        out.add_warnings("would refuse: " + problem.path + ": " + problem.message);
      return grpc::Status::OK; // nothing is committed
    }
    if (!problems.empty())
      return detail::reject(problems, "no cutover was started", out);
    id = store::insert_cutover(tx, {p.source.id, p.target.id, p.source.schema_name, p.target.schema_name,
                                    tables_json(p.tables).dump(), plan_json(p).dump(), req.actor, req.node});
    // Held by this session until the run ends: while it is held, no node settles the cutover.
    store::lock_cutover_session(tx, id);
    nlohmann::json after{{"cutover", id}, {"target", p.target.name}, {"tables", table_names(p.tables)},
                         {"move_tables", req.move_tables}, {"plan", plan_json(p)}};
    detail::audit_and_notify(tx, req.actor, "cutover.start", p.source, nullptr, "", after.dump());
    tx.commit();
  }
  out.set_id(id);
  fill_report_plan(p, req, out);
  log_step(p.source.id, "Cutover started", id, "planned", {{"target", p.target.name}});
  try {
    execute(conn, database_url, secrets, req, p, id, out);
    out.set_outcome("done");
  } catch (const std::exception& e) {
    const std::string reason = e.what();
    roll_back(database_url, id, reason, req.actor);
    out.set_outcome("rolled_back");
    out.set_error(reason);
    out.add_steps("rolled back: the fence is dropped; " + p.source.name + " syncs " +
                  table_list(p.source.schema_name, p.tables) + " as before");
  }
  try {
    pqxx::nontransaction q(conn);
    store::unlock_cutover_session(q, id);
  } catch (const std::exception&) {
    // The session ends with this connection: the lock goes with it.
  }
  return grpc::Status::OK;
}

} // namespace syncforce::services
