#include "tests/sim/sim_world.hpp"

#include "sync/poll_plan.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace syncforce::sim {

using nlohmann::json;

namespace {

/// 2023-11-14T22:13:20Z: where the simulation's org clock starts.
constexpr std::int64_t epoch_ms = 1700000000000;

hstore whole_row(const pg_row& r) {
  hstore h;
  h.set("id", std::to_string(r.id));
  h.set("sfid", r.sfid);
  for (const auto& [col, v] : r.values)
    h.set(col, v);
  return h;
}

} // namespace

namespace {
const std::vector<std::pair<injected_bug, const char*>>& bug_names() {
  static const std::vector<std::pair<injected_bug, const char*>> names{
    {injected_bug::none, "none"},
    {injected_bug::skip_in_doubt, "skip_in_doubt"},
    {injected_bug::resend_recorded, "resend_recorded"},
    {injected_bug::poll_ignores_in_doubt, "poll_ignores_in_doubt"},
    {injected_bug::claim_by_table, "claim_by_table"},
    {injected_bug::no_writer_lock, "no_writer_lock"},
    {injected_bug::no_read_repair, "no_read_repair"},
    {injected_bug::event_mark_apart, "event_mark_apart"},
    {injected_bug::early_takeover, "early_takeover"},
    {injected_bug::stale_member, "stale_member"},
    {injected_bug::update_before_create_recorded, "update_before_create_recorded"},
  };
  return names;
}
} // namespace

const char* bug_name(injected_bug b) {
  for (const auto& [bug, name] : bug_names())
    if (bug == b)
      return name;
  return "unknown";
}

std::optional<injected_bug> bug_named(const std::string& name) {
  for (const auto& [bug, n] : bug_names())
    if (name == n)
      return bug;
  return std::nullopt;
}

std::string table_of(const std::string& object) {
  std::string t = object;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t;
}

std::optional<std::string> field_text(const json& v) {
  if (v.is_null())
    return std::nullopt;
  if (v.is_number()) {
    auto d = v.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d)))
      return std::to_string(static_cast<long long>(d));
    return v.dump();
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

world::world(std::uint64_t seed, std::function<std::int64_t()> now_ms, const std::vector<std::string>& objects)
  : now_ms_(std::move(now_ms)), rng_(seed), org_(clock_) {
  clock_.freeze();
  clock_.set(epoch_ms);
  engine_user_ = org_.find_user("admin@sfemu.local")->id;
  other_user_ = org_.add_user("someone@sfemu.local", "secret");
  json defs = json::array();
  int n = 0;
  for (const auto& object : objects) {
    defs.push_back(json::parse(R"({"fields":[{"name":"Label__c","type":"string","length":80},
                                             {"name":"Qty__c","type":"double"}]})"));
    defs.back()["name"] = object;
    table_model t;
    t.object = object;
    t.table = table_of(object);
    t.mapping_id = "m" + std::to_string(++n);
    tables.emplace(t.table, std::move(t));
  }
  auto err = org_.define(json{{"objects", defs}});
  if (err)
    throw std::runtime_error("sim: cannot define the objects: " + *err);
}

table_model& world::table(const std::string& name) {
  auto t = tables.find(name);
  if (t == tables.end())
    throw std::logic_error("sim: no table " + name);
  return t->second;
}

table_model& world::table_of_object(const std::string& object) { return table(table_of(object)); }

table_model& world::table_of_mapping(const std::string& mapping_id) {
  for (auto& [name, t] : tables)
    if (t.mapping_id == mapping_id)
      return t;
  throw std::logic_error("sim: no mapping " + mapping_id);
}

bool world::node_live(const std::string& node) const {
  auto n = nodes.find(node);
  return n != nodes.end() && n->second.expires_ms > now_ms();
}

bool world::all_polled() const {
  return std::all_of(tables.begin(), tables.end(), [](const auto& t) { return t.second.polled; });
}

bool world::has_in_doubt(const std::string& table) const {
  return std::any_of(doubts.begin(), doubts.end(), [&](const auto& d) { return d.second.table == table; });
}

std::vector<json> world::query(const std::string& soql, bool all_rows) {
  auto run = org_.run_query(soql, all_rows);
  if (!run)
    throw std::runtime_error("sim: query failed: " + run.error().message + " (" + soql + ")");
  auto rows = json::parse(org_.render_records(*run, 0, run->slots.size(), "60.0"));
  std::vector<json> out;
  for (auto& r : rows) {
    r.erase("attributes");
    out.push_back(std::move(r));
  }
  return out;
}

std::int64_t world::user_insert(const std::string& table_name, std::map<std::string, std::optional<std::string>> values) {
  auto& rows = table(table_name).rows;
  pg_row r;
  r.id = next_row_id++;
  r.values = std::move(values);
  r.lastop = "PENDING";
  log_entry e;
  e.id = next_entry_id++;
  e.table = table_name;
  e.action = "INSERT";
  e.record_id = r.id;
  e.values = whole_row(r);
  log.emplace(e.id, e);
  rows.emplace(r.id, r);
  note("user inserts " + table_name + " row " + std::to_string(r.id) + " (entry " + std::to_string(e.id) + ")");
  return r.id;
}

void world::user_update(const std::string& table_name, std::int64_t id,
                        std::map<std::string, std::optional<std::string>> changed) {
  auto& r = table(table_name).rows.at(id);
  log_entry e;
  e.id = next_entry_id++;
  e.table = table_name;
  e.action = "UPDATE";
  e.record_id = id;
  e.sfid = r.sfid;
  e.old = whole_row(r);
  for (auto& [col, v] : changed) {
    if (r.values[col] == v)
      continue; // the trigger logs changed columns only
    e.values.set(col, v);
    r.values[col] = v;
  }
  if (e.values.empty())
    return; // nothing changed: Heroku Connect's trigger logs nothing
  r.lastop = "PENDING";
  log.emplace(e.id, e);
  note("user updates " + table_name + " row " + std::to_string(id) + " (entry " + std::to_string(e.id) + ")");
}

void world::user_delete(const std::string& table_name, std::int64_t id) {
  auto& rows = table(table_name).rows;
  auto& r = rows.at(id);
  log_entry e;
  e.id = next_entry_id++;
  e.table = table_name;
  e.action = "DELETE";
  e.record_id = id;
  e.sfid = r.sfid;
  e.old = whole_row(r);
  log.emplace(e.id, e);
  rows.erase(id);
  note("user deletes " + table_name + " row " + std::to_string(id) + " (entry " + std::to_string(e.id) + ")");
}

bool world::waiting(const std::string& table_name, std::int64_t id) const {
  for (const auto& [eid, e] : log)
    if (e.table == table_name && e.record_id == id && (e.state == "NEW" || e.state == "PENDING"))
      return true;
  return false;
}

pg_row* world::row_by_sfid(const std::string& table_name, const std::string& sfid) {
  for (auto& [id, r] : table(table_name).rows)
    if (r.sfid == sfid)
      return &r;
  return nullptr;
}

void world::note(const std::string& line) const {
  static const bool verbose = std::getenv("SIM_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "sim t=%lld %s\n", static_cast<long long>(now_ms_() - epoch_ms), line.c_str());
}

void world::check_fence(const lease_fence* fence) {
  if (fence == nullptr)
    return;
  fence->require_valid("commit");
  auto l = leases.find(fence->unit());
  if (l == leases.end() || l->second.node != fence->node || l->second.epoch != fence->epoch ||
      !node_live(fence->node))
    throw fenced_out("the lease on " + fence->unit() + " (epoch " + std::to_string(fence->epoch) +
                     ") is no longer " + fence->node + "'s: the write was refused");
  auto& last = committed_epoch[fence->unit()];
  if (fence->epoch < last)
    online_violations.push_back("one owner per unit: " + fence->unit() + " committed under epoch " +
                                std::to_string(fence->epoch) + " after epoch " + std::to_string(last));
  last = std::max(last, fence->epoch);
}

std::vector<std::string> check_invariants(world& w, const std::map<std::string, std::set<std::string>>& running) {
  std::vector<std::string> v = w.online_violations;
  // Drained: every captured change was written (or settled), nothing waits.
  for (const auto& [id, e] : w.log)
    v.push_back("drained: entry " + std::to_string(id) + " (" + e.action + " of " + e.table + ") is still " + e.state);
  for (const auto& [id, d] : w.doubts)
    v.push_back("drained: the create of entry " + std::to_string(id) + " (" + d.table + ") is still in doubt");
  // Every archived outcome is a success, a merge, an ignore, or a change that
  // had nothing left to change: its record deleted in Salesforce meanwhile, or
  // (ordered writes) an UPDATE captured before its row had an sfid whose row
  // was deleted here before the retry (its DELETE, carrying the sfid, follows).
  for (const auto& [id, e] : w.archive) {
    if (e.state != "FAILED" || e.message.rfind("ENTITY_IS_DELETED", 0) == 0)
      continue;
    if (e.message.rfind("SYNCFORCE_NO_SFID", 0) == 0 && e.record_id && !w.table(e.table).rows.count(*e.record_id))
      continue;
    v.push_back("outcome: entry " + std::to_string(id) + " (" + e.action + " of " + e.table + ") FAILED: " + e.message);
  }
  // No duplicate record: one Salesforce record per row ever created by the writer.
  std::map<std::pair<std::string, std::int64_t>, std::string> made;
  for (const auto& [sfid, row] : w.created_for_row)
    if (auto [it, fresh] = made.emplace(row, sfid); !fresh)
      v.push_back("exactly once: " + row.first + " row " + std::to_string(row.second) +
                  " was created twice in Salesforce (" + it->second + ", " + sfid + ")");
  // Per mapping: no duplicate row, both sides equal, the mapping synced and never reloaded.
  for (auto& [name, t] : w.tables) {
    std::map<std::string, std::int64_t> by_sfid;
    for (const auto& [id, r] : t.rows) {
      if (!r.sfid) {
        v.push_back("no duplicate: " + name + " row " + std::to_string(id) + " never got an sfid");
        continue;
      }
      if (!by_sfid.emplace(*r.sfid, id).second)
        v.push_back("no duplicate: " + name + " rows " + std::to_string(by_sfid[*r.sfid]) + " and " +
                    std::to_string(id) + " both hold " + *r.sfid);
    }
    auto records = w.query("SELECT Id, Label__c, Qty__c FROM " + t.object, false);
    std::set<std::string> live;
    for (const auto& rec : records) {
      auto id = rec["Id"].get<std::string>();
      live.insert(id);
      auto r = by_sfid.find(id);
      if (r == by_sfid.end()) {
        v.push_back("converged: " + t.object + " record " + id + " has no row");
        continue;
      }
      const auto& row = t.rows.at(r->second);
      for (const auto& [col, field] : data_columns()) {
        auto sf = field_text(rec[field]);
        auto pg = row.values.count(col) ? row.values.at(col) : std::nullopt;
        if (sf != pg)
          v.push_back("converged: " + t.object + " " + id + "." + field + " is " + sf.value_or("NULL") +
                      " in Salesforce, " + pg.value_or("NULL") + " in " + name + " row " + std::to_string(row.id));
      }
    }
    for (const auto& [sfid, id] : by_sfid)
      if (!live.count(sfid))
        v.push_back("converged: " + name + " row " + std::to_string(id) + " holds " + sfid +
                    ", which Salesforce does not have");
    if (t.mapping.state != "DATA_SYNCED")
      v.push_back("mapping " + t.mapping_id + " (" + t.object + "): stored state " + t.mapping.state + " (" +
                  t.mapping.description + "), not DATA_SYNCED");
    // Change events: the subscriber caught up (its mark at the object's newest
    // event). No mark: it forgot an expired one and listens from the newest
    // event, no event of the object came since (a catch-up poll read the rest).
    if (t.notify && t.event_mark) {
      auto& log = w.org().change_log();
      auto after = log.read_after(*t.event_mark, 1, t.object);
      if (after.what != sfemu::cdc::read_result::status::ok || !after.events.empty())
        v.push_back("change events: " + t.object + "'s subscriber did not catch up: its mark is " +
                    (t.event_mark ? std::to_string(*t.event_mark) : std::string{"none"}) + ", the log's newest " +
                    std::to_string(log.latest()));
    }
    // Change events: each event counted once (a batch applied twice would
    // count its events again and could set an older value over a newer poll).
    for (const auto& [replay, times] : t.event_counts)
      if (times > 1)
        v.push_back("change events: " + t.object + " event " + std::to_string(replay) + " was applied " +
                    std::to_string(times) + " times");
    if (t.reloads_after_start > 0)
      v.push_back("mapping " + t.mapping_id + " (" + t.object + "): reloaded " +
                  std::to_string(t.reloads_after_start) + " time(s) after it was synced");
  }
  // One owner per unit: every unit held by a live node, and exactly the lease
  // holder runs it (integration users' brokers run on every node here: the
  // simulation has no broker cluster, so their leases are only held).
  for (const auto& [unit, lease] : w.leases) {
    if (lease.node.empty() || !w.node_live(lease.node)) {
      v.push_back("one owner: " + unit + " is held by no live node (owner '" + lease.node + "')");
      continue;
    }
    if (unit.rfind("integration_user:", 0) == 0)
      continue;
    auto r = running.find(unit);
    std::set<std::string> nodes = r == running.end() ? std::set<std::string>{} : r->second;
    if (nodes != std::set<std::string>{lease.node}) {
      std::string on;
      for (const auto& n : nodes)
        on += (on.empty() ? "" : ",") + n;
      v.push_back("one owner: " + unit + " is leased to " + lease.node + " but runs on {" + on + "}");
    }
  }
  return v;
}

std::string snapshot(world& w) {
  std::ostringstream s;
  for (auto& [name, t] : w.tables) {
    for (const auto& [id, r] : t.rows) {
      s << name << " row " << id << " " << r.sfid.value_or("-") << " " << r.lastop;
      for (const auto& [c, v] : r.values)
        s << " " << c << "=" << v.value_or("NULL");
      s << "\n";
    }
    for (const auto& rec : w.query("SELECT Id, Label__c, Qty__c, IsDeleted, SystemModstamp FROM " + t.object +
                                     " ORDER BY Id",
                                   true))
      s << "sf " << t.object << " " << rec.dump() << "\n";
    s << "mark " << t.mapping_id << " " << t.mapping.hwm.value_or("-") << " " << t.mapping.hwm_id.value_or("-") << "\n";
    if (t.notify)
      s << "event mark " << t.mapping_id << " " << (t.event_mark ? std::to_string(*t.event_mark) : "-") << " "
        << t.events_counted << "\n";
  }
  for (const auto& [id, e] : w.archive)
    s << "archived " << id << " " << e.table << " " << e.action << " " << e.state << "\n";
  return s.str();
}

} // namespace syncforce::sim
