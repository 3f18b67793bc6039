#include "tests/sim/sim_io.hpp"

#include "sync/in_doubt.hpp"
#include "sync/poll_plan.hpp"
#include "sync/write_plan.hpp"

#include <algorithm>
#include <ctime>

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
    // Housekeeping (store::release_pending on the first cycle after a (re)start).
    w_.check_fence(fence);
    if (j.recover_pending)
      for (auto& [id, e] : w_.log)
        if (e.state == "PENDING")
          e.state = "NEW";
    if (auto unsettled = reconcile_in_doubt(ctx, j); !unsettled.ok())
      return unsettled;

    // Claim (store::claim_entries): NEW entries in id order become PENDING.
    w_.check_fence(fence);
    std::vector<write_entry> entries;
    for (auto& [id, e] : w_.log) {
      if (entries.size() >= j.claim_limit)
        break;
      if (e.state != "NEW")
        continue;
      e.state = "PENDING";
      write_entry we;
      we.id = e.id;
      we.action = *parse_write_action(e.action);
      we.table_name = table_name;
      we.record_id = e.record_id;
      we.sfid = e.sfid;
      we.values = e.values;
      we.old = e.old;
      entries.push_back(std::move(we));
    }
    if (entries.empty())
      return {};
    const auto claimed = entries.size();
    // promote_orphan_updates: UPDATEs of rows whose INSERT never reached Salesforce.
    row_values current;
    for (const auto& e : entries)
      if (e.action == write_action::update && (!e.sfid || e.sfid->empty()) && e.record_id) {
        auto r = w_.rows.find(*e.record_id);
        bool insert_waiting = std::any_of(w_.log.begin(), w_.log.end(), [&](const auto& l) {
          return l.second.record_id == e.record_id && l.second.action == "INSERT" &&
                 (l.second.state == "NEW" || l.second.state == "PENDING");
        });
        if (r != w_.rows.end() && !r->second.sfid && !insert_waiting) {
          hstore h;
          for (const auto& [col, v] : r->second.values)
            h.set(col, v);
          current.emplace(std::make_pair(std::string{table_name}, *e.record_id), std::move(h));
        }
      }
    promote_updates_without_insert(entries, current);
    table_write_configs configs{{table_name, table_write_config{true, std::nullopt}}};
    write_plan_settings settings;
    settings.mode = j.mode;
    settings.api_version = j.api_version;
    settings.disable_bulk_writes = true; // Bulk ingest is not modelled: every batch is a collection call
    auto plan = plan_writes(entries, configs, settings);

    w_.check_fence(fence);
    for (const auto& s : plan.skipped)
      finish(s.entry_id, std::string{outcome_of(s.reason)}, "");

    std::map<std::int64_t, std::string> created; // record id -> sfid, from this cycle's creates
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
    for (std::size_t bi = 0; bi < plan.batches.size(); ++bi) {
      const auto& batch = plan.batches[bi];
      std::vector<result> results(batch.items.size());
      // prepare_call: the records or ids to send; items that cannot be sent get their result now.
      std::vector<sfemu::write_op> ops;
      std::vector<std::size_t> sent;
      for (std::size_t i = 0; i < batch.items.size(); ++i) {
        const auto& item = batch.items[i];
        sfemu::write_op op;
        op.object = object_name;
        if (batch.operation == write_operation::remove) {
          auto sfid = resolve_sfid(item, created);
          if (!sfid) {
            results[i].ok = true; // never reached Salesforce: nothing to delete
            continue;
          }
          op.op = sfemu::write_op::kind::remove;
          op.id = *sfid;
        } else if (batch.operation == write_operation::update) {
          auto sfid = resolve_sfid(item, created);
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
      // store::record_in_doubt, committed before the call.
      if (!sent.empty() && batch.operation == write_operation::create && w_.bug != injected_bug::skip_in_doubt) {
        w_.check_fence(fence);
        for (std::size_t k = 0; k < sent.size(); ++k) {
          const auto& item = batch.items[sent[k]];
          w_.doubts[item.entry_id] = in_doubt{item.entry_id, item.record_id, ops[k].fields.dump(), w_.now_ms()};
        }
      }
      if (!sent.empty()) {
        if (w_.io_fails()) { // the call failed before Salesforce did anything (a 503)
          give_back_from(bi);
          return transient("Salesforce unavailable (503)");
        }
        // The client's request gate: nothing goes out under a lease the node's clock says is gone.
        if (fence)
          fence->require_valid("Salesforce request");
        auto answers = w_.org().write_batch(ops, false, w_.engine_user());
        w_.sf_writes += static_cast<long>(ops.size());
        for (std::size_t k = 0; k < sent.size(); ++k) {
          const auto& item = batch.items[sent[k]];
          if (batch.operation == write_operation::create && answers[k].success() && item.record_id) {
            w_.created_for_row[answers[k].id] = *item.record_id;
            w_.note("create of row " + std::to_string(*item.record_id) + " (entry " + std::to_string(item.entry_id) +
                    ") made " + answers[k].id);
          }
        }
        w_.maybe_lose_lease(fence);
        if (w_.result_lost()) { // Salesforce did it; the answer never arrived (a timeout)
          w_.note("the answer of a " + std::string{to_string(batch.operation)} + " call was lost");
          give_back_from(bi);
          return transient("the answer of a collection call was lost");
        }
        // absorb_answer
        for (std::size_t k = 0; k < sent.size(); ++k) {
          auto& r = results[sent[k]];
          const auto& a = answers[k];
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
          created[*batch.items[i].record_id] = results[i].sfid;
      // record: the entries' outcomes, the rows, the doubt cleared, in one transaction.
      w_.check_fence(fence);
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
    }
    job_outcome o;
    o.rows = finished;
    if (claimed >= j.claim_limit)
      o.more = true;
    return o;
  }

private:
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
    w_.note("entry " + std::to_string(id) + " (" + e->second.action + " of row " +
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
  std::optional<std::string> resolve_sfid(const write_item& item, const std::map<std::int64_t, std::string>& created) {
    if (item.sfid)
      return item.sfid;
    if (!item.record_id)
      return std::nullopt;
    if (auto c = created.find(*item.record_id); c != created.end())
      return c->second;
    auto r = w_.rows.find(*item.record_id);
    if (r == w_.rows.end())
      return std::nullopt;
    return r->second.sfid;
  }

  /// apply_rows: sfid, _hc_lastop (PENDING while another change waits) and _hc_err.
  void apply_rows(const write_batch& batch, const std::vector<result>& results) {
    for (std::size_t i = 0; i < batch.items.size(); ++i) {
      const auto& item = batch.items[i];
      pg_row* row = nullptr;
      if (item.record_id) {
        auto r = w_.rows.find(*item.record_id);
        row = r == w_.rows.end() ? nullptr : &r->second;
      } else if (item.sfid) {
        row = w_.row_by_sfid(*item.sfid);
      }
      if (row == nullptr)
        continue;
      const auto& r = results[i];
      if (r.ok && !r.sfid.empty())
        row->sfid = r.sfid;
      row->lastop = !r.ok ? "FAILED" : w_.waiting(row->id) ? "PENDING" : "SYNCED";
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
    std::int64_t oldest = w_.doubts.begin()->second.sent_ms;
    for (const auto& [id, d] : w_.doubts) {
      youngest = std::max(youngest, d.sent_ms);
      oldest = std::min(oldest, d.sent_ms);
    }
    auto settle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(j.in_doubt_settle_after).count();
    if (w_.now_ms() - youngest < settle_ms)
      return transient(std::to_string(w_.doubts.size()) + " creates in doubt: settled later");
    if (w_.io_fails())
      return transient("cannot settle creates in doubt: Salesforce unavailable");
    if (const auto* f = ctx.fence())
      f->require_valid("Salesforce request");
    std::string soql = "SELECT Id, Label__c, Qty__c FROM Item__c WHERE CreatedDate >= " +
                       soql_datetime(oldest - 300000) + " AND CreatedById = '" + w_.engine_user() +
                       "' ORDER BY CreatedDate, Id";
    auto candidates = w_.query(soql, false);
    w_.check_fence(ctx.fence());
    std::vector<json> free;
    std::vector<std::string> free_ids;
    for (auto& c : candidates) {
      auto id = c["Id"].get<std::string>();
      if (w_.row_by_sfid(id) != nullptr)
        continue; // store::known_sfids: a record already some row's is that row's
      free_ids.push_back(id);
      c.erase("Id");
      free.push_back(std::move(c));
    }
    std::vector<json> sent;
    std::vector<in_doubt> group;
    for (const auto& [id, d] : w_.doubts) {
      sent.push_back(json::parse(d.body));
      group.push_back(d);
    }
    auto match = match_in_doubt(sent, free);
    for (std::size_t i = 0; i < group.size(); ++i) {
      const auto& d = group[i];
      w_.note("in doubt: entry " + std::to_string(d.entry_id) + " " +
              (match[i] < 0 ? std::string{"not found"} : "found " + free_ids[static_cast<std::size_t>(match[i])]) +
              (w_.log.count(d.entry_id) ? "" : " (no longer in the log)"));
      if (match[i] < 0 || !w_.log.count(d.entry_id))
        continue; // not made: sent again
      finish(d.entry_id, "SUCCESS", "");
      if (d.record_id)
        if (auto r = w_.rows.find(*d.record_id); r != w_.rows.end()) {
          r->second.sfid = free_ids[static_cast<std::size_t>(match[i])];
          r->second.lastop = w_.waiting(r->first) ? "PENDING" : "SYNCED";
          r->second.err.clear();
        }
    }
    w_.doubts.clear();
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
  job_outcome load_mapping(worker_context&, const actors::mapping_job&) override {
    if (w_.io_fails())
      return transient("database unavailable (load_mapping)");
    w_.note("load_mapping: " + w_.mapping.state + " mark " + w_.mapping.hwm.value_or("-"));
    job_outcome o;
    o.stored_state = parse_mapping_state(w_.mapping.state);
    o.hwm = w_.mapping.hwm.value_or("");
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
  job_outcome reload(worker_context& ctx, const actors::mapping_job&) override {
    if (w_.io_fails())
      return transient("Salesforce unavailable (reload)");
    auto latest = w_.query(latest_stamp_soql(object_name, "SystemModstamp"), true);
    std::string mark = epoch_mark;
    if (!latest.empty())
      mark = *canonical_timestamp(latest.front()["SystemModstamp"].get<std::string>());
    auto records = w_.query(load_soql(fields(), object_name), false);
    w_.check_fence(ctx.fence());
    if (w_.workload_started)
      ++w_.reloads_after_start;
    w_.note("reload: " + std::to_string(records.size()) + " records, stored state was " + w_.mapping.state);
    w_.rows.clear();
    for (const auto& rec : records) {
      pg_row r;
      r.id = w_.next_row_id++;
      r.sfid = rec["Id"].get<std::string>();
      for (const auto& [col, field] : data_columns())
        r.values[col] = field_text(rec[field]);
      r.systemmodstamp = *canonical_timestamp(rec["SystemModstamp"].get<std::string>());
      r.lastop = "SYNCED";
      w_.rows.emplace(r.id, r);
    }
    w_.mapping.state = "DATA_SYNCED";
    w_.mapping.hwm = mark;
    w_.mapping.hwm_id.reset();
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
    w_.polled = true;
    std::optional<std::string> mark_id;
    if (w_.mapping.hwm && w_.mapping.hwm_id && canonical_timestamp(*w_.mapping.hwm) == canonical_timestamp(*j.hwm))
      mark_id = w_.mapping.hwm_id;
    const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(w_.now_ms()));
    const auto cutoff = settling_cutoff(now, j.keyset_settle);
    if (mark_id)
      mark_id = settled_mark_id(*j.hwm, mark_id, cutoff);
    auto count = w_.org().run_query(count_soql(object_name, std::string{"SystemModstamp"}, *j.hwm, mark_id), true);
    if (!count)
      return job_outcome::failure(outcome_kind::fatal, "count: " + count.error().message);
    if (count->total == 0) {
      w_.check_fence(ctx.fence());
      w_.mapping.state = "DATA_SYNCED";
      w_.mapping.description.clear();
      job_outcome o;
      o.hwm = *j.hwm;
      return o;
    }
    w_.check_fence(ctx.fence());
    w_.mapping.state = "POLLING_SF_CHANGES";
    if (w_.bug != injected_bug::poll_ignores_in_doubt && !w_.doubts.empty())
      return transient("creates of item__c in doubt: waiting for the writer to settle them");
    auto records = w_.query(poll_soql(fields(), object_name, "SystemModstamp", *j.hwm, mark_id), true);
    high_water_mark hwm(j.hwm, mark_id);
    hwm.unsettled_from(cutoff);
    for (const auto& rec : records)
      hwm.reach(rec["SystemModstamp"].get<std::string>(), rec["Id"].get<std::string>());
    w_.maybe_lose_lease(ctx.fence());
    w_.check_fence(ctx.fence());
    for (const auto& rec : records)
      apply(rec);
    w_.mapping.hwm = hwm.value();
    w_.mapping.hwm_id = hwm.id();
    w_.mapping.state = "DATA_SYNCED";
    w_.mapping.description.clear();
    if (w_.result_lost())
      return transient("the poll's answer was lost");
    job_outcome o;
    o.hwm = hwm.value().value_or(*j.hwm);
    o.rows = static_cast<long>(records.size());
    return o;
  }

  /// store::set_mapping_state.
  job_outcome save_state(worker_context& ctx, const actors::mapping_job&, mapping_state stored,
                         const std::string& description) override {
    const std::string state{to_string(stored)};
    if (w_.io_fails())
      return transient("database unavailable (save_state)");
    w_.check_fence(ctx.fence());
    w_.note("save_state " + state + " (" + description + ")" + (ctx.fence() ? " under " + ctx.fence()->node + "#" + std::to_string(ctx.fence()->epoch) : ""));
    w_.mapping.state = state;
    w_.mapping.description = description;
    return {};
  }

private:
  static std::vector<std::string> fields() { return {"Id", "Label__c", "Qty__c", "SystemModstamp", "IsDeleted"}; }

  /// One record through upsert_loader (copy_loader.cpp) with protect_pending.
  void apply(const json& rec) {
    const auto sfid = rec["Id"].get<std::string>();
    auto* row = w_.row_by_sfid(sfid);
    if (rec["IsDeleted"].get<bool>()) {
      if (row != nullptr)
        w_.rows.erase(row->id); // soft-deleted in Salesforce: hard-deleted here
      return;
    }
    for (const auto& [id, e] : w_.log)
      if (e.action == "DELETE" && e.sfid == sfid && (e.state == "NEW" || e.state == "PENDING"))
        return; // its local DELETE waits: not brought back
    const auto stamp = *canonical_timestamp(rec["SystemModstamp"].get<std::string>());
    std::map<std::string, std::optional<std::string>> values;
    for (const auto& [col, field] : data_columns())
      values[col] = field_text(rec[field]);
    if (row == nullptr) {
      pg_row r;
      r.id = w_.next_row_id++;
      r.sfid = sfid;
      r.values = std::move(values);
      r.systemmodstamp = stamp;
      r.lastop = "SYNCED";
      w_.rows.emplace(r.id, r);
      return;
    }
    if (row->lastop == "PENDING" || w_.waiting(row->id))
      return; // a newer local change waits to be written: the row keeps its values
    if (!row->systemmodstamp.empty() && stamp < row->systemmodstamp)
      return;
    row->values = std::move(values);
    row->systemmodstamp = stamp;
  }

  world& w_;
};

} // namespace

std::shared_ptr<actors::sync_io> make_sim_sync_io(world& w) { return std::make_shared<sim_sync_io>(w); }
std::shared_ptr<actors::write_io> make_sim_write_io(world& w) { return std::make_shared<sim_write_io>(w); }

} // namespace syncforce::sim
