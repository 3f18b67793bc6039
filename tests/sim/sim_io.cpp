#include "tests/sim/sim_io.hpp"

#include "emulator/cdc/event_log.hpp"
#include "sync/change_events.hpp"
#include "sync/in_doubt.hpp"
#include "sync/poll_plan.hpp"
#include "sync/read_repair.hpp"
#include "sync/write_flight.hpp"
#include "sync/write_plan.hpp"

#include <algorithm>
#include <ctime>
#include <deque>
#include <set>

namespace syncforce::sim {

using nlohmann::json;
using actors::job_outcome;
using actors::outcome_kind;
using actors::worker_context;

namespace {

job_outcome transient(std::string why) { return job_outcome::failure(outcome_kind::retry, "sim: " + why); }

/// A SOQL datetime literal (YYYY-MM-DDTHH:MM:SSZ) of epoch milliseconds.
std::string soql_datetime(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// The record body of a row's values (build_sf_record for this table: the
/// label is a string, the quantity a number; system columns are never sent).
json body_of(const hstore& values) {
  json rec = json::object();
  for (const auto& [col, field] : data_columns()) {
    const auto* e = values.find(col);
    if (e == nullptr)
      continue;
    if (!e->value)
      rec[field] = nullptr;
    else if (col == "qty__c")
      rec[field] = json::parse(*e->value);
    else
      rec[field] = *e->value;
  }
  return rec;
}

/// One job's advisory locks (engine_io/table_guard.hpp: session locks,
/// re-entrant for their holder), all released when the job ends, however it
/// ends. Another job can only hold a lock while it is paused between two of
/// its steps (world::yield), and it cannot go on while this one waits: so
/// where production would wait up to lock_timeout and then retry, a job here
/// gets the retry at once (55P03, which every boundary treats as a retry).
class job_locks {
public:
  explicit job_locks(world& w) : w_(w), job_(w.next_job++) {}
  ~job_locks() {
    for (const auto& k : held_)
      w_.locks.erase(k);
  }
  job_locks(const job_locks&) = delete;
  job_locks& operator=(const job_locks&) = delete;

  bool take(const std::string& key) {
    auto [it, fresh] = w_.locks.emplace(key, job_);
    if (!fresh && it->second != job_)
      return false;
    held_.insert(key);
    return true;
  }
  void release(const std::string& key) {
    if (held_.erase(key))
      w_.locks.erase(key);
  }

private:
  world& w_;
  std::int64_t job_;
  std::set<std::string> held_;
};

std::string table_lock_key(const std::string& table) { return "table:salesforce." + table; }

// ---- PostgreSQL -> Salesforce -------------------------------------------------------

class sim_write_io : public actors::write_io {
public:
  explicit sim_write_io(world& w) : w_(w) {}

  /// pg_sf_write_io::write_cycle: housekeeping, creates in doubt settled,
  /// claim, plan (the real plan_writes), one collection call per batch, each
  /// batch's results recorded in one transaction, the rest given back.
  job_outcome write_cycle(worker_context& ctx, const actors::write_job& j) override {
    const auto* fence = ctx.fence();
    if (w_.io_fails())
      return transient("database unavailable (housekeeping)");
    // The connection's writer lock (pg_sf_write_io: write_cycle), held for the
    // whole cycle: a second cycle of the connection (a restarted writer whose
    // old one crashed while its job ran, another node's writer after a lease
    // move) waits until this one has ended; else its housekeeping would return
    // this cycle's claimed entries to NEW and both would send them.
    job_locks locks(w_);
    if (w_.bug != injected_bug::no_writer_lock && !locks.take("writer:" + j.schema))
      return transient("lock_timeout: another write cycle of the connection is running");
    // Housekeeping (store::release_pending on the first cycle after a (re)start).
    w_.check_fence(fence);
    if (j.recover_pending)
      for (auto& [id, e] : w_.log)
        if (e.state == "PENDING")
          e.state = "NEW";
    if (auto unsettled = reconcile_in_doubt(ctx, j); !unsettled.ok())
      return unsettled;

    // Claim (store::claim_entries): NEW entries in id order become PENDING,
    // whatever their table (the log is the schema's).
    w_.check_fence(fence);
    std::vector<log_entry*> order;
    for (auto& [id, e] : w_.log)
      if (e.state == "NEW")
        order.push_back(&e);
    if (w_.bug == injected_bug::claim_by_table)
      std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->table < b->table; });
    std::vector<write_entry> entries;
    for (auto* ep : order) {
      if (entries.size() >= j.claim_limit)
        break;
      auto& e = *ep;
      e.state = "PENDING";
      write_entry we;
      we.id = e.id;
      we.action = *parse_write_action(e.action);
      we.table_name = e.table;
      we.record_id = e.record_id;
      we.sfid = e.sfid;
      we.values = e.values;
      we.old = e.old;
      entries.push_back(std::move(we));
    }
    if (entries.empty())
      return {};
    const auto claimed = entries.size();
    w_.yield("after claiming " + std::to_string(claimed) + " entries");
    // promote_orphan_updates: UPDATEs of rows whose INSERT never reached Salesforce.
    row_values current;
    for (const auto& e : entries)
      if (e.action == write_action::update && (!e.sfid || e.sfid->empty()) && e.record_id) {
        auto& rows = w_.table(e.table_name).rows;
        auto r = rows.find(*e.record_id);
        bool insert_waiting = std::any_of(w_.log.begin(), w_.log.end(), [&](const auto& l) {
          return l.second.table == e.table_name && l.second.record_id == e.record_id && l.second.action == "INSERT" &&
                 (l.second.state == "NEW" || l.second.state == "PENDING");
        });
        if (r != rows.end() && !r->second.sfid && !insert_waiting) {
          hstore h;
          for (const auto& [col, v] : r->second.values)
            h.set(col, v);
          current.emplace(std::make_pair(e.table_name, *e.record_id), std::move(h));
        }
      }
    promote_updates_without_insert(entries, current);
    table_write_configs configs;
    for (const auto& m : j.mappings)
      configs.emplace(table_of(m.config.object_name), table_write_config{true, std::nullopt});
    write_plan_settings settings;
    settings.mode = j.mode;
    settings.api_version = j.api_version;
    settings.disable_bulk_writes = true; // Bulk ingest is not modelled: every batch is a collection call
    auto plan = plan_writes(entries, configs, settings);

    w_.check_fence(fence);
    for (const auto& s : plan.skipped)
      finish(s.entry_id, std::string{outcome_of(s.reason)}, "");

    created_sfids created; // (table, record id) -> sfid, from this cycle's creates
    auto give_back_from = [&](std::size_t first) {
      w_.check_fence(fence);
      for (std::size_t b = first; b < plan.batches.size(); ++b)
        for (const auto& item : plan.batches[b].items) {
          unclaim(item.entry_id);
          for (auto m : item.merged_ids)
            unclaim(m);
        }
    };
    long finished = static_cast<long>(plan.skipped.size());
    // Calls on the wire (pg_sf_write_io: send_and_record): Salesforce has done
    // them; their answers are taken oldest first, when a later batch may not
    // join them (sync/write_flight.hpp), when the wire is full, or at the end.
    struct flying_call {
      std::size_t bi = 0;
      std::vector<result> results;
      std::vector<std::size_t> sent;
      std::vector<sfemu::write_result> answers;
    };
    std::deque<flying_call> flying;
    auto in_flight = [&] {
      std::vector<std::size_t> out;
      for (const auto& f : flying)
        out.push_back(f.bi);
      return out;
    };
    // Answered batches not recorded yet (pg_sf_write_io: `waiting`, and the
    // group its recorder is committing on a second session while the cycle
    // sends on). Recorded in answer order, as groups, at points the run picks.
    std::deque<flying_call> answered;
    auto record = [&](flying_call& f) {
      const auto& batch = plan.batches[f.bi];
      const auto& results = f.results;
      for (std::size_t i = 0; i < batch.items.size(); ++i) {
        const auto& item = batch.items[i];
        const auto& r = results[i];
        finish(item.entry_id, r.ok ? "SUCCESS" : "FAILED", r.ok ? "" : r.code + ": " + r.message);
        for (auto m : item.merged_ids)
          finish(m, "MERGED", "");
        finished += 1 + static_cast<long>(item.merged_ids.size());
      }
      if (batch.operation != write_operation::remove)
        apply_rows(batch, results);
      if (batch.operation == write_operation::create)
        for (const auto& item : batch.items)
          w_.doubts.erase(item.entry_id);
      if (w_.bug == injected_bug::resend_recorded && batch.operation == write_operation::create)
        for (const auto& item : batch.items)
          if (auto a = w_.archive.find(item.entry_id); a != w_.archive.end()) {
            auto again = a->second;
            again.state = "NEW";
            w_.log.emplace(again.id, again);
          }
    };
    // The recorder commits what is answered: one transaction (one fence check)
    // for the group. A table's guard goes once no batch of it is in flight or
    // answered and unrecorded.
    auto record_answered = [&] {
      if (answered.empty())
        return;
      w_.yield("with " + std::to_string(answered.size()) + " answered batches queued for the recorder");
      w_.check_fence(fence);
      std::set<std::string> tables;
      for (auto& f : answered) {
        record(f);
        tables.insert(plan.batches[f.bi].table);
      }
      answered.clear();
      for (const auto& table : tables)
        if (std::none_of(flying.begin(), flying.end(),
                         [&](const flying_call& o) { return plan.batches[o.bi].table == table; }))
          locks.release(table_lock_key(table));
    };
    // Takes the oldest answer for the recorder; a lost answer gives back its batch and every later one.
    auto take_oldest = [&]() -> std::optional<job_outcome> {
      auto f = std::move(flying.front());
      flying.pop_front();
      const auto& batch = plan.batches[f.bi];
      auto& results = f.results;
      if (!f.sent.empty()) {
        if (w_.result_lost()) { // Salesforce did it; the answer never arrived (a timeout)
          w_.note("the answer of a " + std::string{to_string(batch.operation)} + " call was lost");
          flying.clear();
          record_answered();
          give_back_from(f.bi);
          return transient("the answer of a collection call was lost");
        }
        // absorb_answer
        for (std::size_t k = 0; k < f.sent.size(); ++k) {
          auto& r = results[f.sent[k]];
          const auto& a = f.answers[k];
          if (a.success()) {
            r.ok = true;
            r.sfid = batch.operation == write_operation::remove ? "" : a.id;
          } else if (!a.errors.empty()) {
            if (batch.operation == write_operation::remove && a.errors.front().code == "ENTITY_IS_DELETED") {
              r.ok = true;
              continue;
            }
            r.code = a.errors.front().code;
            r.message = a.errors.front().message;
          } else {
            r.code = "UNKNOWN_EXCEPTION";
          }
        }
      }
      for (std::size_t i = 0; i < batch.items.size(); ++i)
        if (results[i].ok && batch.items[i].record_id && !results[i].sfid.empty())
          created[{batch.table, *batch.items[i].record_id}] = results[i].sfid;
      // Recorded by the recorder, in a group, while later batches go out.
      answered.push_back(std::move(f));
      if (answered.size() >= 1 + w_.pick(4))
        record_answered();
      return std::nullopt;
    };
    for (std::size_t bi = 0; bi < plan.batches.size(); ++bi) {
      const auto& batch = plan.batches[bi];
      const auto& object = w_.table(batch.table).object;
      while (!flying.empty() && !may_fly_with(plan, in_flight(), bi, j.mode, flight_table{}))
        if (auto failed = take_oldest())
          return *failed;
      // An update or delete of a record a plain create of this cycle made waits
      // until that create's result is recorded (pg_sf_write_io: needs_unrecorded_create).
      if ((batch.operation == write_operation::update || batch.operation == write_operation::remove) &&
          w_.bug != injected_bug::update_before_create_recorded) {
        const bool needs = std::any_of(answered.begin(), answered.end(), [&](const flying_call& a) {
          const auto& made = plan.batches[a.bi];
          if (made.operation != write_operation::create || made.table != batch.table)
            return false;
          for (std::size_t i = 0; i < made.items.size(); ++i)
            if (a.results[i].ok && made.items[i].record_id)
              for (const auto& item : batch.items)
                if (!item.sfid && item.record_id == made.items[i].record_id)
                  return true;
          return false;
        });
        if (needs)
          record_answered();
      }
      flying_call f;
      f.bi = bi;
      auto& results = f.results;
      results.assign(batch.items.size(), result{});
      // prepare_call: the records or ids to send; items that cannot be sent get their result now.
      std::vector<sfemu::write_op> ops;
      auto& sent = f.sent;
      for (std::size_t i = 0; i < batch.items.size(); ++i) {
        const auto& item = batch.items[i];
        sfemu::write_op op;
        op.object = object;
        if (batch.operation == write_operation::remove) {
          auto sfid = resolve_sfid(batch.table, item, created);
          if (!sfid) {
            results[i].ok = true; // never reached Salesforce: nothing to delete
            continue;
          }
          op.op = sfemu::write_op::kind::remove;
          op.id = *sfid;
        } else if (batch.operation == write_operation::update) {
          auto sfid = resolve_sfid(batch.table, item, created);
          if (!sfid) {
            results[i].code = "SYNCFORCE_NO_SFID";
            results[i].message = "the record has no sfid: its INSERT has not reached Salesforce";
            continue;
          }
          op.op = sfemu::write_op::kind::update;
          op.id = *sfid;
          op.fields = body_of(item.values);
        } else {
          op.op = sfemu::write_op::kind::create;
          op.fields = body_of(item.values);
        }
        ops.push_back(std::move(op));
        sent.push_back(i);
      }
      if (sent.empty()) {
        // Known without a call: recorded after the calls before it.
        while (!flying.empty())
          if (auto failed = take_oldest())
            return *failed;
      }
      // The table's guard, from before the call until its results are recorded.
      if (!sent.empty() && !locks.take(table_lock_key(batch.table))) {
        // Never with calls in flight: a batch of another table waits for all
        // their answers, one of the same table finds the guard held already.
        flying.clear();
        record_answered();
        give_back_from(bi);
        return transient("lock_timeout: " + batch.table + " is being polled");
      }
      // store::record_in_doubt, committed before the call.
      if (!sent.empty() && batch.operation == write_operation::create && w_.bug != injected_bug::skip_in_doubt) {
        w_.check_fence(fence);
        for (std::size_t k = 0; k < sent.size(); ++k) {
          const auto& item = batch.items[sent[k]];
          w_.doubts[item.entry_id] =
            in_doubt{item.entry_id, batch.table, item.record_id, ops[k].fields.dump(), w_.now_ms()};
        }
      }
      if (!sent.empty()) {
        if (w_.io_fails()) { // the call failed before Salesforce did anything (a 503)
          // The calls before it are answered first (take_oldest: their failure gives back from there).
          while (!flying.empty())
            if (auto failed = take_oldest())
              return *failed;
          record_answered();
          give_back_from(bi);
          return transient("Salesforce unavailable (503)");
        }
        // The client's request gate: nothing goes out under a lease the node's clock says is gone.
        if (fence)
          fence->require_valid("Salesforce request");
        if (j.mode == write_mode::ordered)
          {
          auto before = sent_earlier(plan, flying);
          auto queued = sent_earlier(plan, answered);
          before.insert(queued.begin(), queued.end());
          check_log_order(batch, before);
        }
        // The engine's calls name it (Sforce-Call-Options: client=syncforce/<node>):
        // their change events carry it in changeOrigin and are echoes to it.
        sfemu::cdc::origin_scope origin(sfemu::cdc::make_origin(
          "rest", "60.0", "syncforce/" + (fence != nullptr ? fence->node : std::string{"node"})));
        f.answers = w_.org().write_batch(ops, false, w_.engine_user());
        w_.sf_writes += static_cast<long>(ops.size());
        for (std::size_t k = 0; k < sent.size(); ++k) {
          const auto& item = batch.items[sent[k]];
          if (batch.operation == write_operation::create && f.answers[k].success() && item.record_id) {
            w_.created_for_row[f.answers[k].id] = {batch.table, *item.record_id};
            w_.note("create of " + batch.table + " row " + std::to_string(*item.record_id) + " (entry " + std::to_string(item.entry_id) +
                    ") made " + f.answers[k].id);
          }
        }
        w_.maybe_lose_lease(fence);
        flying.push_back(std::move(f));
        w_.yield("after a " + std::string{to_string(batch.operation)} + " call of " + batch.table + " (" +
                 std::to_string(flying.size()) + " in flight)");
      } else {
        flying.push_back(std::move(f));
      }
      while (flying.size() >= max_calls_in_flight)
        if (auto failed = take_oldest())
          return *failed;
    }
    while (!flying.empty())
      if (auto failed = take_oldest())
        return *failed;
    record_answered();
    job_outcome o;
    o.rows = finished;
    if (claimed >= j.claim_limit)
      o.more = true;
    return o;
  }

private:
  using created_sfids = std::map<std::pair<std::string, std::int64_t>, std::string>;

  /// The ordered-connection rule (ordered writes, feature poll_db_no_merge):
  /// changes reach Salesforce in log order across all the connection's
  /// tables. When a batch is sent, no entry earlier in the log than one of
  /// its own may still wait outside it (earlier batches were recorded, skipped
  /// entries finished, and a failed call gives back every later batch too).
  /// The entries of the batches whose calls are in flight.
  template <class Flying>
  static std::set<std::int64_t> sent_earlier(const write_plan& plan, const Flying& flying) {
    std::set<std::int64_t> out;
    for (const auto& f : flying)
      for (const auto& item : plan.batches[f.bi].items) {
        out.insert(item.entry_id);
        out.insert(item.merged_ids.begin(), item.merged_ids.end());
      }
    return out;
  }

  void check_log_order(const write_batch& batch, const std::set<std::int64_t>& sent_before) {
    std::set<std::int64_t> mine;
    for (const auto& item : batch.items) {
      mine.insert(item.entry_id);
      mine.insert(item.merged_ids.begin(), item.merged_ids.end());
    }
    // Entries of calls still in flight (`sent_before`) were sent before this
    // one (the same table, other records: sync/write_flight.hpp): not waiting.
    if (mine.empty())
      return;
    const auto last = *mine.rbegin();
    for (const auto& [id, e] : w_.log) {
      if (id >= last)
        break;
      if (!mine.count(id) && !sent_before.count(id))
        w_.online_violations.push_back("ordered: entry " + std::to_string(last) + " (" + batch.table +
                                       ") reached Salesforce while entry " + std::to_string(id) + " (" + e.action +
                                       " of " + e.table + "), earlier in the log, was still " + e.state);
      if (!mine.count(id) && !sent_before.count(id))
        return; // one line per batch is enough
    }
  }

  struct result {
    bool ok = false;
    std::string sfid;
    std::string code;
    std::string message;
  };

  void finish(std::int64_t id, const std::string& state, const std::string& message) {
    auto e = w_.log.find(id);
    if (e == w_.log.end())
      return;
    w_.note("entry " + std::to_string(id) + " (" + e->second.action + " of " + e->second.table + " row " +
            std::to_string(e->second.record_id.value_or(0)) + ") " + state + (message.empty() ? "" : ": " + message));
    e->second.state = state;
    e->second.message = message;
    w_.archive[id] = e->second;
    w_.log.erase(e);
  }

  void unclaim(std::int64_t id) {
    auto e = w_.log.find(id);
    if (e != w_.log.end() && e->second.state == "PENDING")
      e->second.state = "NEW";
  }

  /// resolve_sfid: the item's, one created earlier in this cycle, or the row's.
  std::optional<std::string> resolve_sfid(const std::string& table, const write_item& item,
                                         const created_sfids& created) {
    if (item.sfid)
      return item.sfid;
    if (!item.record_id)
      return std::nullopt;
    if (auto c = created.find({table, *item.record_id}); c != created.end())
      return c->second;
    auto& rows = w_.table(table).rows;
    auto r = rows.find(*item.record_id);
    if (r == rows.end())
      return std::nullopt;
    return r->second.sfid;
  }

  /// apply_rows: sfid, _hc_lastop (PENDING while another change waits) and _hc_err.
  void apply_rows(const write_batch& batch, const std::vector<result>& results) {
    auto& rows = w_.table(batch.table).rows;
    for (std::size_t i = 0; i < batch.items.size(); ++i) {
      const auto& item = batch.items[i];
      pg_row* row = nullptr;
      if (item.record_id) {
        auto r = rows.find(*item.record_id);
        row = r == rows.end() ? nullptr : &r->second;
      } else if (item.sfid) {
        row = w_.row_by_sfid(batch.table, *item.sfid);
      }
      if (row == nullptr)
        continue;
      const auto& r = results[i];
      if (r.ok && !r.sfid.empty())
        row->sfid = r.sfid;
      row->lastop = !r.ok ? "FAILED" : w_.waiting(batch.table, row->id) ? "PENDING" : "SYNCED";
      row->err = r.ok ? "" : r.code;
    }
  }

  /// reconcile_in_doubt: once no call that sent them can still be running,
  /// the creates in doubt are matched (the real match_in_doubt) against the
  /// records the user created since, not yet any row's; a match is recorded
  /// as the create's result, the rest are forgotten and sent again.
  job_outcome reconcile_in_doubt(worker_context& ctx, const actors::write_job& j) {
    if (w_.doubts.empty())
      return {};
    std::int64_t youngest = 0;
    for (const auto& [id, d] : w_.doubts)
      youngest = std::max(youngest, d.sent_ms);
    auto settle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(j.in_doubt_settle_after).count();
    if (w_.now_ms() - youngest < settle_ms)
      return transient(std::to_string(w_.doubts.size()) + " creates in doubt: settled later");
    if (w_.io_fails())
      return transient("cannot settle creates in doubt: Salesforce unavailable");
    // One group per table, each settled and committed on its own (as production does).
    std::map<std::string, std::vector<in_doubt>> by_table;
    for (const auto& [id, d] : w_.doubts)
      by_table[d.table].push_back(d);
    for (const auto& [table, group] : by_table) {
      if (std::none_of(j.mappings.begin(), j.mappings.end(),
                       [&](const auto& m) { return table_of(m.config.object_name) == table; }))
        continue; // the mapping is gone: its entries wait, so does their doubt
      if (const auto* f = ctx.fence())
        f->require_valid("Salesforce request");
      std::int64_t group_oldest = group.front().sent_ms;
      for (const auto& d : group)
        group_oldest = std::min(group_oldest, d.sent_ms);
      std::string soql = "SELECT Id, Label__c, Qty__c FROM " + w_.table(table).object + " WHERE CreatedDate >= " +
                         soql_datetime(group_oldest - 300000) + " AND CreatedById = '" + w_.engine_user() +
                         "' ORDER BY CreatedDate, Id";
      auto candidates = w_.query(soql, false);
      w_.yield("while settling creates in doubt of " + table);
      w_.check_fence(ctx.fence());
      std::vector<json> free;
      std::vector<std::string> free_ids;
      for (auto& c : candidates) {
        auto id = c["Id"].get<std::string>();
        if (w_.row_by_sfid(table, id) != nullptr)
          continue; // store::known_sfids: a record already some row's is that row's
        free_ids.push_back(id);
        c.erase("Id");
        free.push_back(std::move(c));
      }
      std::vector<json> sent;
      for (const auto& d : group)
        sent.push_back(json::parse(d.body));
      auto match = match_in_doubt(sent, free);
      auto& rows = w_.table(table).rows;
      for (std::size_t i = 0; i < group.size(); ++i) {
        const auto& d = group[i];
        w_.note("in doubt: " + table + " entry " + std::to_string(d.entry_id) + " " +
                (match[i] < 0 ? std::string{"not found"} : "found " + free_ids[static_cast<std::size_t>(match[i])]) +
                (w_.log.count(d.entry_id) ? "" : " (no longer in the log)"));
        w_.doubts.erase(d.entry_id);
        if (match[i] < 0 || !w_.log.count(d.entry_id))
          continue; // not made: sent again
        finish(d.entry_id, "SUCCESS", "");
        if (d.record_id)
          if (auto r = rows.find(*d.record_id); r != rows.end()) {
            r->second.sfid = free_ids[static_cast<std::size_t>(match[i])];
            r->second.lastop = w_.waiting(table, r->first) ? "PENDING" : "SYNCED";
            r->second.err.clear();
          }
      }
    }
    return {};
  }

  world& w_;
};

// ---- Salesforce -> PostgreSQL -------------------------------------------------------

class sim_sync_io : public actors::sync_io {
public:
  explicit sim_sync_io(world& w) : w_(w) {}

  job_outcome prepare_connection(worker_context&, const actors::connection_job&) override {
    if (w_.io_fails())
      return transient("database unavailable (prepare_connection)");
    return {};
  }

  /// store::load_mapping: the stored state and mark.
  job_outcome load_mapping(worker_context&, const actors::mapping_job& j) override {
    if (w_.io_fails())
      return transient("database unavailable (load_mapping)");
    auto& t = w_.table_of_object(j.config.object_name);
    w_.note("load_mapping " + t.mapping_id + ": " + t.mapping.state + " mark " + t.mapping.hwm.value_or("-"));
    job_outcome o;
    o.stored_state = parse_mapping_state(t.mapping.state);
    o.hwm = t.mapping.hwm.value_or("");
    return o;
  }

  /// The table exists with its columns from the start: nothing to add.
  job_outcome prepare_mapping(worker_context&, const actors::mapping_job&) override {
    if (w_.io_fails())
      return transient("describe failed (503)");
    return {};
  }

  job_outcome backfill(worker_context&, const actors::mapping_job&, const std::vector<std::string>&) override {
    return {};
  }

  /// pg_sf_sync_io::reload: the mark first (latest_stamp_soql), then every
  /// record into a shadow table swapped in with the mark and DATA_SYNCED.
  job_outcome reload(worker_context& ctx, const actors::mapping_job& j) override {
    if (w_.io_fails())
      return transient("Salesforce unavailable (reload)");
    auto& t = w_.table_of_object(j.config.object_name);
    const auto& object_name = t.object;
    job_locks locks(w_);
    if (!locks.take(table_lock_key(t.table)))
      return transient("lock_timeout: " + t.table + " is being written back");
    auto latest = w_.query(latest_stamp_soql(object_name, "SystemModstamp"), true);
    std::string mark = epoch_mark;
    if (!latest.empty())
      mark = *canonical_timestamp(latest.front()["SystemModstamp"].get<std::string>());
    auto records = w_.query(load_soql(fields(), object_name), false);
    w_.yield("after reading every record of " + object_name);
    w_.check_fence(ctx.fence());
    if (w_.workload_started)
      ++t.reloads_after_start;
    w_.note("reload " + t.mapping_id + ": " + std::to_string(records.size()) + " records, stored state was " +
            t.mapping.state);
    t.rows.clear();
    for (const auto& rec : records) {
      pg_row r;
      r.id = w_.next_row_id++;
      r.sfid = rec["Id"].get<std::string>();
      for (const auto& [col, field] : data_columns())
        r.values[col] = field_text(rec[field]);
      r.systemmodstamp = *canonical_timestamp(rec["SystemModstamp"].get<std::string>());
      r.lastop = "SYNCED";
      t.rows.emplace(r.id, r);
    }
    t.mapping.state = "DATA_SYNCED";
    t.mapping.hwm = mark;
    t.mapping.hwm_id.reset();
    if (w_.result_lost())
      return transient("the reload's answer was lost");
    job_outcome o;
    o.hwm = mark;
    o.rows = static_cast<long>(records.size());
    return o;
  }

  /// pg_sf_sync_io::poll: a keyset poll (the real poll_plan functions, with
  /// the settling window on the simulation's clock), refused while creates
  /// are in doubt, applied through the upsert's echo rule (upsert_loader):
  /// quiet (no trigger log entry), a row with a local change waiting keeps
  /// its values, a record whose local DELETE waits is not brought back.
  job_outcome poll(worker_context& ctx, const actors::mapping_job& j) override {
    if (w_.io_fails())
      return transient("Salesforce unavailable (poll)");
    if (!j.hwm)
      return job_outcome::failure(outcome_kind::fatal, "poll without a high-water mark");
    auto& t = w_.table_of_object(j.config.object_name);
    const auto& object_name = t.object;
    t.polled = true;
    std::optional<std::string> mark_id;
    if (t.mapping.hwm && t.mapping.hwm_id && canonical_timestamp(*t.mapping.hwm) == canonical_timestamp(*j.hwm))
      mark_id = t.mapping.hwm_id;
    const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(w_.now_ms()));
    const auto cutoff = settling_cutoff(now, j.keyset_settle);
    if (mark_id)
      mark_id = settled_mark_id(*j.hwm, mark_id, cutoff);
    auto count = w_.org().run_query(count_soql(object_name, std::string{"SystemModstamp"}, *j.hwm, mark_id), true);
    if (!count)
      return job_outcome::failure(outcome_kind::fatal, "count: " + count.error().message);
    if (count->total == 0) {
      w_.check_fence(ctx.fence());
      t.mapping.state = "DATA_SYNCED";
      t.mapping.description.clear();
      job_outcome o;
      o.hwm = *j.hwm;
      return o;
    }
    w_.check_fence(ctx.fence());
    t.mapping.state = "POLLING_SF_CHANGES";
    // From the query until the page is applied, the writer does not write this table back.
    job_locks locks(w_);
    if (!locks.take(table_lock_key(t.table)))
      return transient("lock_timeout: " + t.table + " is being written back");
    if (w_.bug != injected_bug::poll_ignores_in_doubt && w_.has_in_doubt(t.table))
      return transient("creates of " + t.table + " in doubt: waiting for the writer to settle them");
    auto records = w_.query(poll_soql(fields(), object_name, "SystemModstamp", *j.hwm, mark_id), true);
    high_water_mark hwm(j.hwm, mark_id);
    hwm.unsettled_from(cutoff);
    for (const auto& rec : records)
      hwm.reach(rec["SystemModstamp"].get<std::string>(), rec["Id"].get<std::string>());
    w_.maybe_lose_lease(ctx.fence());
    w_.yield("after reading a page of " + t.object);
    w_.check_fence(ctx.fence());
    for (const auto& rec : records)
      apply(t, rec);
    t.mapping.hwm = hwm.value();
    t.mapping.hwm_id = hwm.id();
    t.mapping.state = "DATA_SYNCED";
    t.mapping.description.clear();
    if (w_.result_lost())
      return transient("the poll's answer was lost");
    job_outcome o;
    o.hwm = hwm.value().value_or(*j.hwm);
    o.rows = static_cast<long>(records.size());
    return o;
  }

  /// sweep_late_commits (engine_io/pg_read_repair.cpp): the look-back window
  /// up to the mark (the real sweep_window_at, sweep_soql, diff_sweep,
  /// fetch_by_ids_soql), the records whose stamp differs from the table's
  /// fetched and applied through the poll's upsert under the table guard,
  /// refused while creates of the table are in doubt; the mark does not move.
  job_outcome sweep(worker_context& ctx, const actors::mapping_job& j) override {
    if (!j.hwm)
      return {};
    if (w_.bug == injected_bug::no_read_repair)
      return {};
    if (w_.io_fails())
      return transient("Salesforce unavailable (sweep)");
    auto& t = w_.table_of_object(j.config.object_name);
    const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(w_.now_ms()));
    const auto window =
      sweep_window_at(now, std::chrono::seconds(j.config.read_repair.sweep_window_seconds), *j.hwm);
    w_.note("sweep " + t.mapping_id + " from " + (window ? window->from + " to " + window->to : "(no window: mark " + *j.hwm + ")"));
    if (!window)
      return {};
    std::vector<remote_stamp> remote;
    for (const auto& rec : w_.query(sweep_soql(t.object, "SystemModstamp", *window, std::nullopt, std::nullopt,
                                               sweep_page_records),
                                    true))
      remote.push_back(remote_stamp{rec["Id"].get<std::string>(),
                                    canonical_timestamp(rec["SystemModstamp"].get<std::string>()).value_or(""),
                                    rec["IsDeleted"].get<bool>()});
    std::vector<local_stamp> local;
    for (const auto& r : remote)
      if (const auto* row = w_.row_by_sfid(t.table, r.id))
        local.push_back(local_stamp{r.id, row->systemmodstamp});
    auto diff = diff_sweep(remote, local);
    if (diff.fetch.empty())
      return {};
    job_locks locks(w_);
    if (!locks.take(table_lock_key(t.table)))
      return transient("lock_timeout: " + t.table + " is being written back");
    if (w_.has_in_doubt(t.table))
      return transient("creates of " + t.table + " in doubt: waiting for the writer to settle them");
    auto records = w_.query(fetch_by_ids_soql(fields(), t.object, diff.fetch), true);
    w_.maybe_lose_lease(ctx.fence());
    w_.yield("after a sweep of " + t.object + " fetched " + std::to_string(records.size()) + " records");
    w_.check_fence(ctx.fence());
    for (const auto& rec : records)
      apply(t, rec);
    w_.note("sweep " + t.mapping_id + ": " + std::to_string(records.size()) + " late records applied");
    if (w_.result_lost())
      return transient("the sweep's answer was lost");
    job_outcome o;
    o.rows = static_cast<long>(records.size());
    return o;
  }

  /// store::set_mapping_state.
  job_outcome save_state(worker_context& ctx, const actors::mapping_job& j, mapping_state stored,
                         const std::string& description) override {
    const std::string state{to_string(stored)};
    if (w_.io_fails())
      return transient("database unavailable (save_state)");
    w_.check_fence(ctx.fence());
    w_.note("save_state " + j.mapping_id + " " + state + " (" + description + ")" + (ctx.fence() ? " under " + ctx.fence()->node + "#" + std::to_string(ctx.fence()->epoch) : ""));
    auto& t = w_.table_of_object(j.config.object_name);
    t.mapping.state = state;
    t.mapping.description = description;
    return {};
  }

  /// engine_io/pg_change_events.cpp: load_change_event_mark.
  job_outcome load_change_mark(worker_context&, const actors::mapping_job& j) override {
    if (w_.io_fails())
      return transient("database unavailable (load_change_mark)");
    job_outcome o;
    o.replay_id = w_.table_of_object(j.config.object_name).event_mark;
    return o;
  }

  /// engine_io/pg_change_events.cpp: apply_change_batch. Under the table
  /// guard, in one transaction: each event planned by the real plan_event
  /// (echoes of creates and deletes skipped, of updates applied as updates;
  /// gaps and undecodable events ask for a catch-up poll), CREATE/UNDELETE
  /// upserted whole and UPDATE on its changed fields through the poll's
  /// upsert rules (upsert_loader with protect_pending and event_values: a row
  /// with a local change waiting keeps its values, an older stamp changes
  /// nothing, an existing row changed is stamped 1 ms below the event),
  /// an UPDATE of a record the table lacks left to the catch-up poll, DELETE
  /// deleting the row; then the mark (the batch's last replay id, or none to
  /// forget it) and the counts, stored with the rows.
  job_outcome apply_change_events(worker_context& ctx, const actors::mapping_job& j,
                                  const actors::change_batch& batch) override {
    if (w_.io_fails())
      return transient("database unavailable (change events)");
    auto& t = w_.table_of_object(j.config.object_name);
    job_locks locks(w_);
    if (!locks.take(table_lock_key(t.table)))
      return transient("lock_timeout: " + t.table + " is being written back");
    w_.yield("before applying " + std::to_string(batch.events.size()) + " change events of " + t.object);
    auto before_mark = t.event_mark;
    if (w_.bug == injected_bug::event_mark_apart && !batch.forget_mark && !batch.events.empty()) {
      // The bug: the rows commit first, the mark in a transaction of its own.
      w_.check_fence(ctx.fence());
      bool catch_up = apply_events(t, batch);
      if (w_.io_fails())
        return transient("database unavailable (the change event mark)");
      store_mark(t, batch, before_mark);
      job_outcome o;
      o.replay_id = t.event_mark;
      o.needs_catch_up = catch_up;
      return o;
    }
    w_.check_fence(ctx.fence());
    bool catch_up = batch.forget_mark ? false : apply_events(t, batch);
    store_mark(t, batch, before_mark);
    job_outcome o;
    o.replay_id = t.event_mark;
    o.needs_catch_up = catch_up;
    return o;
  }

private:
  static std::vector<std::string> fields() { return {"Id", "Label__c", "Qty__c", "SystemModstamp", "IsDeleted"}; }

  /// The events' row changes (apply_change_batch's loop); true when a catch-up poll must read what they could not carry.
  bool apply_events(table_model& t, const actors::change_batch& batch) {
    bool catch_up = false;
    ++t.event_batches;
    for (const auto& r : batch.events) {
      const auto& e = r.event;
      auto action = r.decode_error.empty()
                      ? plan_event(event_header{e.entity_name, e.change_type, e.change_origin}, t.object,
                                   batch.own_client)
                      : event_action::catch_up;
      ++t.event_counts[r.replay_id];
      switch (action) {
        case event_action::ignore: continue;
        case event_action::skip_echo: ++t.event_echoes; continue;
        case event_action::apply_echo: ++t.event_echoes; break;
        case event_action::catch_up:
          catch_up = true;
          ++t.event_catch_ups;
          continue;
        case event_action::remove:
          for (const auto& id : e.record_ids)
            if (auto* row = w_.row_by_sfid(t.table, id)) { // store::delete_rows_by_sfid
              t.rows.erase(row->id);
              ++t.event_rows;
            }
          continue;
        case event_action::upsert_all:
        case event_action::update_changed: break;
      }
      const bool partial = action == event_action::update_changed || action == event_action::apply_echo;
      // event_columns: every mapped field for a whole record, the changed and nulled ones for an UPDATE.
      std::map<std::string, std::optional<std::string>> values;
      for (const auto& [col, field] : data_columns()) {
        auto listed = [&, f = field](const std::vector<std::string>& names) {
          return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return iequals(n, f); });
        };
        if (partial && !listed(e.changed_fields) && !listed(e.nulled_fields))
          continue;
        nlohmann::json v;
        for (auto it = e.fields.begin(); it != e.fields.end(); ++it)
          if (iequals(it.key(), field))
            v = it.value();
        values[col] = field_text(v);
      }
      // event_stamp: LastModifiedDate floored to the second, else the commit time.
      std::int64_t ms = e.commit_timestamp;
      if (auto lmd = e.fields.find("LastModifiedDate"); lmd != e.fields.end() && lmd->is_number_integer())
        ms = lmd->get<std::int64_t>();
      const auto stamp = *canonical_timestamp(stamp_text(ms));
      // event_values: an existing row an event changes is stamped 1 ms below the event's (floored) stamp.
      const auto second_ms = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) * 1000;
      const auto below = *canonical_timestamp(
        event_value_to_wire(pg_value_kind::timestamp, nlohmann::json(second_ms - 1)).get<std::string>());
      for (const auto& id : e.record_ids) {
        if (partial && w_.row_by_sfid(t.table, id) == nullptr) {
          // store::present_sfids: an update of a record the table lacks is the poll's (our own: its DELETE follows)
          catch_up = catch_up || action == event_action::update_changed;
          continue;
        }
        if (values.empty())
          continue; // only unmapped fields changed
        if (upsert(t, id, values, stamp, below) == upsert_result::changed)
          ++t.event_rows;
      }
    }
    return catch_up;
  }

  /// store::save_change_event_mark: the batch's last replay id (none: forgotten), the events counted.
  void store_mark(table_model& t, const actors::change_batch& batch, std::optional<std::uint64_t> before) {
    if (batch.forget_mark)
      t.event_mark.reset();
    else if (!batch.events.empty())
      t.event_mark = batch.events.back().replay_id;
    t.events_counted += static_cast<long>(batch.events.size());
    // The stored mark never goes back (a stream resumes after it, never before).
    if (before && t.event_mark && *t.event_mark < *before && w_.online_violations.size() < 20)
      w_.online_violations.push_back("change events: " + t.object + "'s replay id went back from " +
                                     std::to_string(*before) + " to " + std::to_string(*t.event_mark));
  }

  enum class upsert_result { changed, kept };

  /// One record's values through upsert_loader (copy_loader.cpp) with
  /// protect_pending; `values` holds the columns to set (a poll: all of them).
  /// An equal stamp wins (`>=`), for events too. `below_stamp`: an event's
  /// values (event_values): compared at `stamp`, an existing row changed
  /// stamped just below it (a new row gets `stamp`).
  upsert_result upsert(table_model& t, const std::string& sfid,
                       std::map<std::string, std::optional<std::string>> values, const std::string& stamp,
                       std::optional<std::string> below_stamp = std::nullopt) {
    auto* row = w_.row_by_sfid(t.table, sfid);
    for (const auto& [id, e] : w_.log)
      if (e.table == t.table && e.action == "DELETE" && e.sfid == sfid && (e.state == "NEW" || e.state == "PENDING"))
        return upsert_result::kept; // its local DELETE waits: not brought back
    if (row == nullptr) {
      pg_row r;
      r.id = w_.next_row_id++;
      r.sfid = sfid;
      for (const auto& [col, field] : data_columns())
        r.values[col] = values.count(col) ? values[col] : std::nullopt;
      r.systemmodstamp = stamp;
      r.lastop = "SYNCED";
      t.rows.emplace(r.id, r);
      return upsert_result::changed;
    }
    bool differs = false;
    for (const auto& [col, v] : values)
      differs = differs || row->values[col] != v;
    if (row->lastop == "PENDING" || w_.waiting(t.table, row->id))
      return upsert_result::kept; // a newer local change waits to be written: the row keeps its values
    if (!row->systemmodstamp.empty() && stamp < row->systemmodstamp)
      return upsert_result::kept;
    if (!differs && (below_stamp || stamp == row->systemmodstamp))
      return upsert_result::kept; // ROW(...) IS NOT DISTINCT: nothing to rewrite
    for (auto& [col, v] : values)
      row->values[col] = std::move(v);
    row->systemmodstamp = below_stamp.value_or(stamp);
    return upsert_result::changed;
  }

  /// A polled record (the poll's and the sweep's apply): soft-deleted ones are hard-deleted here.
  void apply(table_model& t, const json& rec) {
    const auto sfid = rec["Id"].get<std::string>();
    if (rec["IsDeleted"].get<bool>()) {
      if (auto* row = w_.row_by_sfid(t.table, sfid))
        t.rows.erase(row->id); // soft-deleted in Salesforce: hard-deleted here
      return;
    }
    std::map<std::string, std::optional<std::string>> values;
    for (const auto& [col, field] : data_columns())
      values[col] = field_text(rec[field]);
    upsert(t, sfid, std::move(values), *canonical_timestamp(rec["SystemModstamp"].get<std::string>()));
  }

  world& w_;
};

} // namespace

std::shared_ptr<actors::sync_io> make_sim_sync_io(world& w) { return std::make_shared<sim_sync_io>(w); }
std::shared_ptr<actors::write_io> make_sim_write_io(world& w) { return std::make_shared<sim_write_io>(w); }

} // namespace syncforce::sim
