// The production write_io: one write cycle of a connection. Claims NEW
// `_trigger_log` entries (PENDING), plans them (ordered or merged), sends each
// batch to Salesforce (sObject Collections or a Bulk 2.0 ingest job) and, per
// batch, in one transaction: the rows' sfid/_hc_lastop/_hc_err and the log
// entries' outcome, archived. Entries not attempted go back to NEW.

#include "engine_io/jobs.hpp"
#include "sync/clock.hpp"
#include "metrics/metrics.hpp"
#include "engine_io/mapping_describe.hpp"
#include "engine_io/table_guard.hpp"
#include "engine_io/jobs.hpp"
#include "store/hc_schema.hpp"
#include "store/in_doubt.hpp"
#include "store/orphan_rows.hpp"
#include "store/sql_arrays.hpp"
#include "store/session.hpp"
#include "store/table_rows.hpp"
#include "store/trigger_log.hpp"
#include "store/write_back.hpp"
#include "sync/hstore.hpp"
#include "sync/in_doubt.hpp"
#include "sync/sf_write.hpp"
#include "sync/type_mapping.hpp"
#include "sync/write_flight.hpp"
#include "sync/write_record.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>

namespace syncforce::engine_io {

namespace {

using clock_type = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(real_time().steady_now() - t).count();
}

/// Seconds a write cycle spent per phase, logged at debug level at its end
/// (where the time of a cycle goes: bench/ and profiling read it). One cycle
/// runs on one thread at a time.
thread_local std::map<std::string, double> cycle_phases;

/// Adds the time from its construction to its destruction to a phase.
struct phase_timer {
  const char* name;
  clock_type::time_point t0 = real_time().steady_now();
  ~phase_timer() { cycle_phases[name] += seconds_since(t0); }
};

/// A mapped table the writer may write.
struct table_info {
  std::string mapping_id;
  std::string connection_id; ///< the addon_id (and sync lines' object_id) of its log lines
  std::string object_name;
  std::shared_ptr<const hc_table_spec> spec;
  sf_writable_fields writable;
  std::optional<std::string> upsert_field; ///< API name
  /// Why the mapping cannot write (validate_write_mapping); its entries wait in the log.
  std::string problems;
  /// It has relationship columns (`<rel>__r__<ext id>`): one call at a time (sync/write_flight.hpp).
  bool has_relationships = false;
};

/// What happened to one item.
struct item_result {
  bool ok = false;
  std::string sfid;
  std::string code;
  std::string message;
  std::vector<std::string> fields;
};

/// Records per sObject Collections call (Salesforce's limit).
constexpr std::size_t collection_limit = 200;

/// A collection call built from (part of) a batch, ready to send.
struct collection_call {
  std::vector<json> records;     ///< create, update, upsert
  std::vector<std::string> ids;  ///< remove
  std::vector<std::size_t> sent; ///< the batch's item index of each record or id sent
};

using call_answer = salesforce::result<std::vector<salesforce::save_result>>;

/// A failure of a whole call that is worth trying again later.
struct transient_failure {
  outcome_kind kind = outcome_kind::retry;
  std::string reason;
};

void log_conn(spdlog::level::level_enum level, const write_job& j, const std::string& event,
              const std::string& state = "POLLING_DB_CHANGES") {
  log(level, log_event{event, "connection", j.name, state}.addon(j.connection_id));
}

std::vector<std::int64_t> entry_ids_of(const write_batch& b) {
  std::vector<std::int64_t> ids;
  for (const auto& it : b.items) {
    ids.push_back(it.entry_id);
    ids.insert(ids.end(), it.merged_ids.begin(), it.merged_ids.end());
  }
  return ids;
}

/// Whether a batch has items whose row is known only by its sfid (entries made
/// by hand without a record id).
bool keyed_by_sfid(const write_batch& b) {
  if (b.operation == write_operation::remove)
    return false;
  return std::any_of(b.items.begin(), b.items.end(),
                     [](const write_item& i) { return !i.record_id && i.sfid; });
}

/// A table's row outcomes, in batch order, by key kind.
struct row_outcomes {
  std::vector<row_outcome> by_id, by_sfid;
};

/// What a batch's results do to its rows (deletes: nothing).
void collect_rows(const write_batch& batch, const std::vector<item_result>& results, row_outcomes& into) {
  if (batch.operation == write_operation::remove)
    return;
  for (std::size_t i = 0; i < batch.items.size(); ++i) {
    const auto& item = batch.items[i];
    const auto& r = results[i];
    row_outcome o;
    std::vector<row_outcome>* to = nullptr;
    // Items captured by the triggers carry the row's id; a few (recaptured by
    // hand without one) only its sfid.
    if (item.record_id) {
      o.key = std::to_string(*item.record_id);
      to = &into.by_id;
    } else if (item.sfid) {
      o.key = *item.sfid;
      to = &into.by_sfid;
    } else {
      continue; // no row to tell
    }
    o.ok = r.ok;
    if (r.ok && !r.sfid.empty())
      o.sfid = r.sfid;
    if (!r.ok)
      o.err = hc_error_json(to_string(batch.action), r.code, r.message, r.fields);
    to->push_back(std::move(o));
  }
}

/// UPDATEs of rows whose INSERT failed (no sfid, no INSERT waiting) become
/// INSERTs of the row (promote_updates_without_insert): the consumer's retry.
void promote_orphan_updates(pqxx::connection& db, const write_job& j, const std::map<std::string, table_info>& tables,
                            std::vector<write_entry>& entries) {
  std::map<std::string, std::vector<std::int64_t>> wanted;
  for (const auto& e : entries)
    if (e.action == write_action::update && (!e.sfid || e.sfid->empty()) && e.record_id && tables.count(e.table_name))
      wanted[e.table_name].push_back(*e.record_id);
  if (wanted.empty())
    return;
  row_values rows;
  {
    pqxx::read_transaction tx(db);
    for (const auto& [table, ids] : wanted)
      for (auto& [id, text] : store::rows_without_insert(tx, j.schema, table, ids))
        if (auto parsed = parse_hstore(text); parsed.ok())
          rows.emplace(std::make_pair(table, id), std::move(*parsed.value));
  }
  if (auto n = promote_updates_without_insert(entries, rows))
    log_conn(spdlog::level::info, j,
             std::to_string(n) + " UPDATE(s) of rows whose INSERT never reached Salesforce sent as INSERT");
}

/// What recording a group of answered batches writes (built on the cycle's
/// thread, written by write_group on either session).
struct group_writes {
  struct table_rows {
    std::string schema, table;
    row_outcomes outcomes; ///< in batch order, folded when written
  };
  std::vector<store::log_result> outcomes;
  std::vector<table_rows> rows;
  std::vector<std::int64_t> created_entries;
  /// Queue blocks set (the block's JSON) or cleared (nullopt), by mapping id.
  std::vector<std::pair<std::string, std::optional<std::string>>> blocks;
};

/// Seconds one group's transaction took, by statement (the cycle's phases;
/// measured on the thread that ran it, added on the cycle's).
struct record_times {
  double total = 0, log = 0, rows = 0, in_doubt = 0;
};

/// Records a group in one transaction on `db`: the log entries' outcomes
/// archived, the rows' sfid/_hc_lastop/_hc_err, the creates no longer in
/// doubt, the queue blocks. Committed under the job's fence. Touches nothing
/// of the cycle but `w`: it may run on the recorder's thread.
record_times write_group(pqxx::connection& db, const worker_context& ctx, const write_job& j, const group_writes& w) {
  record_times t;
  const auto t0 = real_time().steady_now();
  pqxx::work tx(db, "write_results");
  // Not waiting for the WAL flush is safe here: a result lost in a database
  // crash only sends its (idempotent) batch again. It saves a disk flush per batch.
  store::commit_without_flush_wait(tx);
  auto t1 = real_time().steady_now();
  store::finish_entries(tx, j.schema, w.outcomes);
  t.log = seconds_since(t1);
  t1 = real_time().steady_now();
  for (const auto& r : w.rows)
    store::record_row_outcomes(tx, r.schema, r.table, fold_row_outcomes(r.outcomes.by_id),
                               fold_row_outcomes(r.outcomes.by_sfid));
  t.rows = seconds_since(t1);
  if (!w.created_entries.empty()) {
    t1 = real_time().steady_now();
    store::clear_in_doubt(tx, j.connection_id, w.created_entries);
    t.in_doubt = seconds_since(t1);
  }
  for (const auto& [mapping_id, block] : w.blocks) {
    if (block)
      store::set_write_block(tx, mapping_id, *block);
    else
      store::clear_write_block(tx, mapping_id);
  }
  commit_fenced(tx, ctx);
  t.total = seconds_since(t0);
  return t;
}

class pg_sf_write_io : public write_io {
public:
  /// One cycle, step by step: housekeeping, the writable tables, creates in
  /// doubt settled, claim, plan, entries that need no write finished, then the
  /// batches sent and their results recorded, and what was not attempted given back.
  job_outcome write_cycle(worker_context& ctx, const write_job& j) override {
    auto& db = db_of(ctx);
    cycle_phases.clear();
    struct log_phases {
      const write_job& j;
      clock_type::time_point t0 = real_time().steady_now();
      ~log_phases() {
        if (!cycle_phases.count("plan"))
          return; // nothing claimed
        log_event e{"Write cycle phases", "connection", j.name, "POLLING_DB_CHANGES"};
        e.addon(j.connection_id);
        for (const auto& [phase, secs] : cycle_phases)
          e.with(phase + "_secs", fmt::format("{:.3f}", secs));
        log(spdlog::level::debug, e.with("total_secs", fmt::format("{:.3f}", seconds_since(t0))));
      }
    } phases{j};
    // One cycle of a connection at a time, across the cluster. A writer actor
    // that crashed (or whose lease moved) leaves its cycle running on a
    // worker, and the next writer's first cycle returns PENDING entries to NEW
    // (recover_pending): without this lock it would take back the running
    // cycle's claim and both would send the same entries, a create twice. The
    // whole-engine simulation found it (docs/testing.md). A session lock like
    // the tables' guard: released with the session if the node dies.
    auto one_cycle = lock_table(db, j.schema, "_trigger_log");
    housekeep(ctx, db, j);
    cycle c;
    if (auto described = describe_tables(ctx, j, c); !described.ok())
      return described;
    // Creates whose result was never recorded are settled with Salesforce
    // before anything (them included) can be sent again.
    if (auto unsettled = reconcile_in_doubt(ctx, j, c.tables); !unsettled.ok())
      return unsettled;
    const auto claimed = claim(ctx, db, j, c);
    if (claimed.empty())
      return {};
    plan_cycle(db, j, claimed, c);
    finish_skipped(ctx, db, j, c);
    if (auto sent = send_and_record(ctx, db, j, c); !sent.ok())
      return sent;
    return end_cycle(ctx, db, j, claimed.size(), c);
  }

private:
  /// What the steps of one write cycle share.
  struct cycle {
    /// The writable tables, by table name.
    std::map<std::string, table_info> tables;
    /// Tables whose entries are not claimed (a stopped queue, a mapping in BAD_CONFIG).
    std::vector<store::queue_block> blocks;
    write_plan plan;
    /// Entries that cannot be read (action or hstore): finished as FAILED.
    std::vector<store::log_result> unreadable;
    std::vector<std::int64_t> not_attempted;
    bool unblocked = false;
    long finished = 0;
    long succeeded = 0;
    long failed = 0;
  };

  /// Interrupted entries back to NEW (first cycle), requeued and unsyncable
  /// entries moved, the archive purged when due: one transaction.
  void housekeep(worker_context& ctx, pqxx::connection& db, const write_job& j) {
    phase_timer pt{"housekeeping"};
    pqxx::work tx(db, "write_housekeeping");
    if (j.recover_pending) {
      if (auto n = store::release_pending(tx, j.schema))
        log_conn(spdlog::level::info, j,
                 "Returned " + std::to_string(n) + " interrupted trigger log entries to NEW");
    }
    if (auto n = store::requeue_archived(tx, j.schema))
      log_conn(spdlog::level::info, j, "Requeued " + std::to_string(n) + " archived trigger log entries");
    store::archive_unsyncable(tx, j.schema);
    if (j.purge_archive) {
      if (auto n = store::purge_archive(tx, j.schema, j.archive_retention))
        log_conn(spdlog::level::info, j, "Purged " + std::to_string(n) + " archived trigger log entries");
    }
    commit_fenced(tx, ctx);
  }

  /// The writable tables, described once per mapping configuration. A mapping
  /// that cannot write (BAD_CONFIG) keeps its entries waiting in the log.
  job_outcome describe_tables(worker_context& ctx, const write_job& j, cycle& c) {
    auto& tables = c.tables;
    auto& blocks = c.blocks;
    for (const auto& m : j.mappings) {
      if (m.config.access != mapping_access::read_write)
        continue;
      auto info = describe(ctx, j, m);
      if (!info.first.ok())
        return info.first;
      if (!info.second.problems.empty()) {
        blocks.push_back({info.second.spec->table, -1});
        continue;
      }
      tables.emplace(info.second.spec->table, info.second);
    }
    return {};
  }

  /// Claims up to j.claim_limit entries (ordered mode: not of a stopped queue).
  std::vector<store::trigger_log_entry> claim(worker_context& ctx, pqxx::connection& db, const write_job& j,
                                              cycle& c) {
    auto& tables = c.tables;
    auto& blocks = c.blocks;
    std::vector<store::trigger_log_entry> claimed;
    {
      phase_timer pt{"claim"};
      pqxx::work tx(db, "write_claim");
      if (j.mode == write_mode::ordered) {
        auto stopped = load_blocks(tx, tables);
        blocks.insert(blocks.end(), stopped.begin(), stopped.end());
      }
      claimed = store::claim_entries(tx, j.schema, j.claim_limit, blocks);
      commit_fenced(tx, ctx);
    }
    return claimed;
  }

  /// Parses the claimed entries and plans the batches (sync/write_plan).
  void plan_cycle(pqxx::connection& db, const write_job& j, const std::vector<store::trigger_log_entry>& claimed,
                  cycle& cy) {
    auto& tables = cy.tables;
    auto& unreadable = cy.unreadable;
    auto plan_t0 = real_time().steady_now();
    std::vector<write_entry> entries;
    entries.reserve(claimed.size());
    for (const auto& c : claimed) {
      write_entry e;
      e.id = c.id;
      auto action = parse_write_action(c.action);
      auto values = parse_hstore(c.values.value_or(""));
      std::optional<hstore_parse_result> old;
      if (c.old)
        old = parse_hstore(*c.old);
      if (!action || !values.ok() || (old && !old->ok())) {
        unreadable.push_back({c.id, store::log_outcome::failed, std::nullopt,
                              std::string{"unreadable trigger log entry (action or hstore)"}});
        continue;
      }
      e.action = *action;
      e.table_name = c.table_name;
      e.record_id = c.record_id;
      e.sfid = c.sfid;
      e.values = std::move(*values.value);
      if (old)
        e.old = std::move(*old->value);
      entries.push_back(std::move(e));
    }
    promote_orphan_updates(db, j, tables, entries);
    table_write_configs configs;
    for (const auto& [name, t] : tables)
      configs[name] = table_write_config{true, t.spec->upsert_column};
    write_plan_settings settings;
    settings.mode = j.mode;
    settings.api_version = j.api_version;
    settings.disable_bulk_writes = j.disable_bulk_writes;
    settings.bulk_threshold = j.bulk_threshold;
    cy.plan = plan_writes(std::move(entries), configs, settings);
    const auto& plan = cy.plan;
    cycle_phases["plan"] += seconds_since(plan_t0);
    if (!unreadable.empty())
      log_conn(spdlog::level::warn, j,
               std::to_string(unreadable.size()) + " trigger log entries cannot be read (action or hstore), "
               "marked FAILED");
    log_conn(spdlog::level::debug, j,
             "Claimed " + std::to_string(claimed.size()) + " trigger log entries: " +
               std::to_string(plan.batches.size()) + " batches, " + std::to_string(plan.skipped.size()) +
               " need no write");
  }

  /// Entries that need no write (merged, ignored) and unreadable ones finished.
  void finish_skipped(worker_context& ctx, pqxx::connection& db, const write_job& j, cycle& c) {
    const auto& plan = c.plan;
    const auto& unreadable = c.unreadable;
    {
      phase_timer pt{"skipped"};
      pqxx::work tx(db, "write_skipped");
      std::vector<store::log_result> skipped = unreadable;
      for (const auto& s : plan.skipped)
        skipped.push_back({s.entry_id, outcome_of(s.reason) == "MERGED" ? store::log_outcome::merged : store::log_outcome::ignored,
                           std::nullopt, std::nullopt});
      store::finish_entries(tx, j.schema, skipped);
      commit_fenced(tx, ctx);
    }
  }

  /// Sends the batches in order and records each one's results.
  job_outcome send_and_record(worker_context& ctx, pqxx::connection& db, const write_job& j, cycle& c) {
    auto& tables = c.tables;
    auto& blocks = c.blocks;
    const auto& plan = c.plan;
    auto& not_attempted = c.not_attempted;
    auto& unblocked = c.unblocked;
    auto& finished = c.finished;
    auto& succeeded = c.succeeded;
    auto& failed = c.failed;
    finished = static_cast<long>(plan.skipped.size() + c.unreadable.size());
    // Execute. Collection batches are pipelined: once batch N's answer is in
    // (what batch N+1 depends on: the sfids it created, whether it stopped a
    // queue), batch N+1 is prepared and sent on a second thread while batch N's
    // results are recorded. The Salesforce call and the PostgreSQL work of
    // consecutive batches overlap; their order and every rule stay as they were.
    auto& sf = sf_client(ctx, *j.user);
    std::map<std::pair<std::string, std::int64_t>, std::string> created; // (table, record id) -> sfid
    std::set<std::string> stopped;
    // Until a batch's results are recorded, no poll of its table reads or applies
    // a page (a session lock on `db`: taken and given back outside transactions).
    std::map<std::string, std::unique_ptr<table_lock>> guards;
    auto guard = [&](const std::string& table, const hc_table_spec& spec) {
      if (!guards.count(table))
        guards.emplace(table, std::make_unique<table_lock>(db, spec.schema, spec.table));
    };
    struct answered {
      std::size_t bi = 0;
      std::vector<item_result> results;
      double sf_secs = 0;
      std::optional<std::pair<std::int64_t, item_result>> first_failed_insert;
    };
    struct in_flight {
      std::size_t bi = 0;
      clock_type::time_point t0;
      collection_call call;
      std::vector<item_result> results;
      std::size_t lane = 0;            ///< its client (pg_worker_context::sf_lane)
      std::future<call_answer> answer; // its destructor waits for the call
    };
    // The calls on the wire, oldest first (sync/write_flight.hpp says which
    // batches may share it). Held by pointer: a call's thread reads its `call`.
    std::deque<std::unique_ptr<in_flight>> flying;
    auto flying_batches = [&] {
      std::vector<std::size_t> out;
      for (const auto& f : flying)
        out.push_back(f->bi);
      return out;
    };
    auto give_back_from = [&](std::size_t first) {
      for (std::size_t rest = first; rest < plan.batches.size(); ++rest) {
        auto ids = entry_ids_of(plan.batches[rest]);
        not_attempted.insert(not_attempted.end(), ids.begin(), ids.end());
      }
      pqxx::work tx(db, "write_unclaim");
      store::unclaim_entries(tx, j.schema, not_attempted);
      commit_fenced(tx, ctx);
    };
    // Records made by plain creates (in doubt until recorded) whose result is
    // not recorded yet. An update or delete of one must wait until it is: sent
    // first and followed by a crash, it would leave the create in doubt while
    // the record no longer carries the values it was created with (or is
    // gone), so the settlement would not find it and would create it again.
    std::set<std::pair<std::string, std::int64_t>> unrecorded_creates;
    auto needs_unrecorded_create = [&](const write_batch& b) {
      if (unrecorded_creates.empty() || b.operation == write_operation::create ||
          b.operation == write_operation::upsert)
        return false;
      return std::any_of(b.items.begin(), b.items.end(), [&](const write_item& i) {
        return !i.sfid && i.record_id && unrecorded_creates.count({b.table, *i.record_id});
      });
    };
    // What the next batches depend on, known as soon as the answer is.
    auto note_answer = [&](answered& a) {
      const auto& batch = plan.batches[a.bi];
      for (std::size_t i = 0; i < batch.items.size(); ++i) {
        const auto& item = batch.items[i];
        const auto& r = a.results[i];
        if (r.ok && item.record_id && !r.sfid.empty())
          created[{batch.table, *item.record_id}] = r.sfid;
        if (r.ok && item.record_id && batch.operation == write_operation::create)
          unrecorded_creates.insert({batch.table, *item.record_id});
        if (!r.ok && batch.action == write_action::insert && !a.first_failed_insert && item.record_id)
          a.first_failed_insert = std::make_pair(item.entry_id, r);
      }
      // A failed INSERT stops this mapping's queue until the row is fixed and recaptured.
      if (j.mode == write_mode::ordered && a.first_failed_insert)
        stopped.insert(batch.table);
    };
    // Answered batches wait here until they are recorded, several in one
    // transaction (sync/write_record.hpp): one statement for all their log
    // entries and one per table for their rows, instead of a transaction per
    // batch whose fixed costs (round trips, planning, commit) were most of a
    // batch's time in PostgreSQL.
    std::vector<answered> waiting;
    std::size_t waiting_items = 0;
    const record_grouping grouping{j.record_group};
    // The group the recorder is recording: its transaction runs on the
    // worker's second session (recorder_db) on a thread of its own, while this
    // thread prepares and sends the next batches. One group at a time: the
    // next group starts once this one committed, so groups commit in batch
    // order. Nothing this thread sends depends on it (the sfids a batch needs
    // are in `created` as soon as the answer is; a poll of a table waits on
    // its guard until its batches are recorded). Declared after `guards` and
    // `flying`: unwinding waits for the transaction before a guard goes.
    struct recording {
      std::vector<answered> group;
      std::vector<long> ok_counts;
      std::future<record_times> done; // its destructor waits for the transaction
    };
    std::optional<recording> recorder;
    auto add_times = [](const record_times& t) {
      cycle_phases["record"] += t.total;
      cycle_phases["record_log"] += t.log;
      cycle_phases["record_rows"] += t.rows;
      if (t.in_doubt > 0)
        cycle_phases["record_clear_in_doubt"] += t.in_doubt;
    };
    // What recording a group writes, built here (the queue blocks it sets or
    // clears are decided here too: `blocks` is this thread's).
    auto build_writes = [&](const std::vector<answered>& group, std::vector<long>& ok_counts) {
      phase_timer pt{"record_build"};
      auto w = std::make_shared<group_writes>();
      ok_counts.assign(group.size(), 0);
      std::map<std::string, row_outcomes> rows; // by table, in batch order
      for (std::size_t g = 0; g < group.size(); ++g) {
        const auto& a = group[g];
        const auto& batch = plan.batches[a.bi];
        for (std::size_t i = 0; i < batch.items.size(); ++i) {
          const auto& item = batch.items[i];
          const auto& r = a.results[i];
          if (r.ok) {
            ++ok_counts[g];
            w->outcomes.push_back({item.entry_id, store::log_outcome::success, std::nullopt, std::nullopt});
          } else {
            w->outcomes.push_back({item.entry_id, store::log_outcome::failed, std::nullopt,
                                   r.code.empty() ? r.message : r.code + ": " + r.message});
          }
          for (auto id : item.merged_ids)
            w->outcomes.push_back({id, store::log_outcome::merged, std::nullopt, std::nullopt});
        }
        collect_rows(batch, a.results, rows[batch.table]);
        if (batch.operation == write_operation::create) {
          auto ids = entry_ids_of(batch);
          w->created_entries.insert(w->created_entries.end(), ids.begin(), ids.end());
        }
      }
      for (auto& [name, r] : rows) {
        const auto& spec = *tables.find(name)->second.spec;
        w->rows.push_back({spec.schema, spec.table, std::move(r)});
      }
      for (const auto& a : group) {
        const auto& batch = plan.batches[a.bi];
        const auto& table = tables.find(batch.table)->second;
        if (j.mode != write_mode::ordered || batch.action != write_action::insert)
          continue;
        if (a.first_failed_insert) {
          const auto& f = a.first_failed_insert->second;
          std::int64_t rec = 0;
          for (const auto& item : batch.items)
            if (item.entry_id == a.first_failed_insert->first)
              rec = item.record_id.value_or(0);
          json block{{"entry", a.first_failed_insert->first},
                     {"record_id", rec},
                     {"message", f.code + ": " + f.message}};
          w->blocks.push_back({table.mapping_id, block.dump()});
          log(spdlog::level::err,
              log_event{"Write queue of " + table.object_name + " stopped: INSERT of " + batch.table + " id " +
                          std::to_string(rec) + " failed (" + f.code +
                          "); fix the row and recapture it with hc_capture_insert_from_row",
                        "mapping", table.mapping_id, "DATA_SYNCED"}.addon(j.connection_id)
                .with("object_name", table.object_name));
        } else if (is_blocked(blocks, batch.table)) {
          w->blocks.push_back({table.mapping_id, std::nullopt});
          log(spdlog::level::info,
              log_event{"Write queue of " + table.object_name + " resumed", "mapping", table.mapping_id,
                        "DATA_SYNCED"}.addon(j.connection_id)
                .with("object_name", table.object_name));
          unblocked = true;
          blocks.erase(std::remove_if(blocks.begin(), blocks.end(),
                                      [&](const store::queue_block& b) { return b.table_name == batch.table; }),
                       blocks.end());
        }
      }
      return w;
    };
    // A group's results are committed: counters, metrics, the batch lines,
    // and the guards of tables with no batch in flight or waiting any more.
    auto recorded = [&](const std::vector<answered>& group, const std::vector<long>& ok_counts, double secs) {
      for (const auto& a : group) {
        const auto& batch = plan.batches[a.bi];
        if (batch.operation == write_operation::create)
          for (const auto& item : batch.items)
            if (item.record_id)
              unrecorded_creates.erase({batch.table, *item.record_id});
      }
      for (auto g = guards.begin(); g != guards.end();) {
        auto of_table = [&](std::size_t bi) { return plan.batches[bi].table == g->first; };
        const bool busy = std::any_of(flying.begin(), flying.end(), [&](const auto& f) { return of_table(f->bi); }) ||
                          std::any_of(waiting.begin(), waiting.end(), [&](const auto& a) { return of_table(a.bi); });
        g = busy ? std::next(g) : guards.erase(g);
      }
      const auto db_secs = fmt::format("{:.3f}", secs);
      for (std::size_t w = 0; w < group.size(); ++w) {
        const auto& a = group[w];
        const auto& batch = plan.batches[a.bi];
        const auto& table = tables.find(batch.table)->second;
        const long ok_count = ok_counts[w];
        auto count = static_cast<long>(batch.items.size());
        succeeded += ok_count;
        failed += count - ok_count;
        metrics::rows_written(j.schema, table.object_name, std::string{to_string(batch.action)}, ok_count);
        metrics::write_errors(j.schema, table.object_name, std::string{to_string(batch.action)}, count - ok_count);
        finished += count;
        for (const auto& item : batch.items)
          finished += static_cast<long>(item.merged_ids.size());
        log(spdlog::level::info,
            log_event{table.object_name + " " + std::string{to_string(batch.action)} + " \xE2\x86\x91SALESFORCE " +
                        std::to_string(count) + " rows (" + fmt::format("{:.2f}", a.sf_secs) + " secs)",
                      "sync", j.connection_id, "IDLE"}.addon(j.connection_id)
              .with("object_name", table.object_name)
              .with("via", batch.transport == write_transport::bulk ? "BULK" : "SOAP")
              .with("succeeded", std::to_string(ok_count))
              .with("failed", std::to_string(count - ok_count))
              .with("recorded_with", std::to_string(group.size()))
              .with("db_secs", db_secs));
      }
    };
    // Waits for the recorder's group (its failure is the cycle's: rethrown here).
    auto join_recorder = [&] {
      if (!recorder)
        return;
      auto r = std::move(*recorder);
      recorder.reset();
      auto wait_t0 = real_time().steady_now();
      const auto times = r.done.get();
      cycle_phases["record_wait"] += seconds_since(wait_t0);
      add_times(times);
      recorded(r.group, r.ok_counts, times.total);
    };
    // Records the waiting batches after the recorder's group: `behind` on the
    // recorder's thread (this one goes on sending), else here, on the cycle's
    // session, before anything else happens (the end of the claim, a Bulk job,
    // a failure giving the rest back). Without `behind`, waits for the recorder
    // even when nothing waits.
    auto record_waiting = [&](bool behind) {
      join_recorder();
      if (waiting.empty())
        return;
      recording r;
      r.group = std::move(waiting);
      waiting.clear();
      waiting_items = 0;
      auto writes = build_writes(r.group, r.ok_counts);
      if (!behind) {
        const auto times = write_group(db, ctx, j, *writes);
        add_times(times);
        recorded(r.group, r.ok_counts, times.total);
        return;
      }
      auto& rdb = pg_context(ctx).recorder_db();
      r.done = std::async(std::launch::async,
                          [&rdb, &ctx, &j, writes] { return write_group(rdb, ctx, j, *writes); });
      recorder = std::move(r);
    };
    auto keep = [&](answered&& a) {
      waiting_items += plan.batches[a.bi].items.size();
      waiting.push_back(std::move(a));
    };
    // Takes the answer of the oldest call in flight. When the call failed as a
    // whole, what earlier batches did is recorded, the later calls still in
    // flight are waited for and their answers dropped, and every batch from the
    // failed one on goes back to NEW: sent again, they do what they did
    // (upserts, updates with absolute values, deletes of deleted records count
    // as done; plain creates stay in doubt and are settled first).
    auto take_oldest = [&]() -> std::optional<job_outcome> {
      auto f = std::move(flying.front());
      flying.pop_front();
      auto wait_t0 = real_time().steady_now();
      auto answer = f->answer.get();
      cycle_phases["call_wait"] += seconds_since(wait_t0);
      answered a{f->bi, std::move(f->results), seconds_since(f->t0), std::nullopt};
      auto failure = absorb_answer(plan.batches[a.bi], f->call, answer, a.results);
      if (failure) {
        flying.clear(); // waits for each call still on the wire
        record_waiting(false);
        give_back_from(a.bi);
        return job_outcome::failure(failure->kind, failure->reason);
      }
      note_answer(a);
      keep(std::move(a));
      return std::nullopt;
    };
    for (std::size_t bi = 0; bi < plan.batches.size(); ++bi) {
      const auto& batch = plan.batches[bi];
      auto ti = tables.find(batch.table);
      // Answers are taken, oldest first, until this batch may join the calls in
      // flight: what it sends and whether it is sent may depend on them (the
      // sfids they create, a queue a failed INSERT stops).
      const flight_table ft{ti == tables.end() || ti->second.has_relationships};
      while (!flying.empty() && !may_fly_with(plan, flying_batches(), bi, j.mode, ft))
        if (auto failed = take_oldest())
          return *failed;
      // An update or delete of a record created by a plain create of this
      // cycle goes once that create's result is recorded (the create is
      // answered: the flight rules never let one record be in two calls).
      if (needs_unrecorded_create(batch))
        record_waiting(false);
      if (ti == tables.end() || stopped.count(batch.table)) {
        auto ids = entry_ids_of(batch);
        not_attempted.insert(not_attempted.end(), ids.begin(), ids.end());
      } else if (batch.transport == write_transport::collection && batch.items.size() <= collection_limit) {
        // Prepared here (it may read sfids and records its creates in doubt), sent on another thread.
        const auto& table = ti->second;
        guard(batch.table, *table.spec);
        auto f = std::make_unique<in_flight>();
        f->bi = bi;
        f->t0 = real_time().steady_now();
        f->results.assign(batch.items.size(), item_result{});
        f->call = prepare_call(ctx, db, j, table, batch, 0, batch.items.size(), created, f->results);
        if (f->call.sent.empty()) {
          // Nothing to send (every item refused before the call): its results
          // are known, and kept after those of the calls before it.
          while (!flying.empty())
            if (auto failed = take_oldest())
              return *failed;
          answered a{bi, std::move(f->results), 0.0, std::nullopt};
          note_answer(a);
          keep(std::move(a));
        } else {
          // Alone (the last batch, nothing left to record meanwhile: a single
          // change, say) the call is made on this thread when its answer is asked for.
          const auto policy = bi + 1 == plan.batches.size() && waiting.empty() && flying.empty()
                                ? std::launch::deferred
                                : std::launch::async;
          // A client is not thread-safe: each call in flight has a lane (a client) of its own.
          while (std::any_of(flying.begin(), flying.end(), [&](const auto& o) { return o->lane == f->lane; }))
            ++f->lane;
          auto& lane_sf = pg_context(ctx).sf_lane(*j.user, f->lane);
          f->answer = std::async(policy, [&lane_sf, &table, &batch, call = &f->call] {
            return send_call(lane_sf, table, batch, *call);
          });
          flying.push_back(std::move(f));
        }
      } else {
        // A Bulk job (or an oversized collection batch): alone (may_fly_with
        // emptied the wire), after what was answered is recorded.
        record_waiting(false);
        const auto& table = ti->second;
        guard(batch.table, *table.spec);
        auto t0 = real_time().steady_now();
        answered a;
        a.bi = bi;
        auto failure = execute(ctx, db, sf, j, table, batch, created, a.results);
        if (failure) {
          give_back_from(bi);
          return job_outcome::failure(failure->kind, failure->reason);
        }
        a.sf_secs = seconds_since(t0);
        note_answer(a);
        keep(std::move(a));
      }
      // Answers already in are taken without waiting; the full wire waits for its oldest.
      while (!flying.empty() && (flying.size() >= max_calls_in_flight ||
                                 flying.front()->answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready))
        if (auto failed = take_oldest())
          return *failed;
      // Recorded while later calls are on the wire once enough wait, or when
      // nothing is in flight, by the recorder while this thread goes on (here,
      // for the last batch with nothing in flight: a single change is recorded
      // on the cycle's session, as it always was). While the recorder is busy
      // with the group before, the answered batches keep waiting and go as
      // one larger group once it is done: sending never waits for recording
      // (the claim bounds what waits). A batch with rows known only
      // by sfid closes its group: rows keyed by id and by sfid are updated by
      // two statements, and the order of batches is kept only if no batch
      // after one keyed by sfid shares its transaction.
      const bool behind = bi + 1 < plan.batches.size() || !flying.empty();
      const bool closes = !waiting.empty() && keyed_by_sfid(plan.batches[waiting.back().bi]);
      const bool recorder_busy =
        recorder && recorder->done.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
      if (closes || (grouping.due(waiting_items, !flying.empty()) && (!behind || !recorder_busy)))
        record_waiting(behind);
    }
    while (!flying.empty())
      if (auto failed = take_oldest())
        return *failed;
    record_waiting(false);
    return {};
  }

  /// Gives back what was not attempted and says whether to run again at once.
  job_outcome end_cycle(worker_context& ctx, pqxx::connection& db, const write_job& j, std::size_t claimed,
                        const cycle& c) {
    const auto& not_attempted = c.not_attempted;
    if (!not_attempted.empty()) {
      pqxx::work tx(db, "write_unclaim");
      store::unclaim_entries(tx, j.schema, not_attempted);
      commit_fenced(tx, ctx);
    }
    job_outcome o;
    o.rows = c.finished;
    o.api_calls = 0;
    // A full claim means more may be waiting; a stopped queue does not count.
    if ((claimed >= j.claim_limit && not_attempted.size() < claimed) || c.unblocked)
      o.more = true; // a full claim, or a queue that just resumed: look again at once
    if (c.failed > 0)
      log_conn(spdlog::level::warn, j,
               "Wrote " + std::to_string(c.succeeded) + " changes to Salesforce, " + std::to_string(c.failed) + " failed");
    return o;
  }

private:
  static bool is_blocked(const std::vector<store::queue_block>& blocks, const std::string& table) {
    for (const auto& b : blocks)
      if (b.table_name == table)
        return true;
    return false;
  }

  std::vector<store::queue_block> load_blocks(pqxx::transaction_base& tx, const std::map<std::string, table_info>& tables) {
    std::vector<store::queue_block> out;
    for (const auto& [name, t] : tables) {
      if (auto record = store::write_block_of(tx, t.mapping_id))
        out.push_back({name, *record});
    }
    return out;
  }

  /// The sfid an update or delete goes to: known, created earlier in this cycle, or the row's.
  std::optional<std::string> resolve_sfid(pqxx::connection& db, const hc_table_spec& spec, const write_item& item,
                                          const std::map<std::pair<std::string, std::int64_t>, std::string>& created) {
    if (item.sfid)
      return item.sfid;
    if (!item.record_id)
      return std::nullopt;
    auto c = created.find({spec.table, *item.record_id});
    if (c != created.end())
      return c->second;
    pqxx::nontransaction tx(db);
    return store::sfid_of_row(tx, spec.schema, spec.table, *item.record_id);
  }

  /// Sends one batch; fills one result per item. Returns a failure when the
  /// whole call should be tried again later (nothing recorded).
  std::optional<transient_failure> execute(worker_context& ctx, pqxx::connection& db, salesforce::client& sf,
                                           const write_job& j,
                                           const table_info& t, const write_batch& batch,
                                           const std::map<std::pair<std::string, std::int64_t>, std::string>& created,
                                           std::vector<item_result>& results) {
    results.assign(batch.items.size(), item_result{});
    if (batch.transport == write_transport::bulk) {
      std::string why;
      auto f = execute_bulk(sf, t, batch, results, why);
      if (!f && why.empty())
        return std::nullopt;
      if (f)
        return f;
      log(spdlog::level::warn,
          log_event{"BULK write batch to " + t.object_name + " ended due to " + why + " Will fall back to SOAP",
                    "sync", t.connection_id, "IDLE"}.addon(t.connection_id)
            .with("object_name", t.object_name));
      results.assign(batch.items.size(), item_result{});
    }
    return execute_collections(ctx, db, sf, j, t, batch, created, results);
  }

  std::optional<transient_failure> execute_collections(
    worker_context& ctx, pqxx::connection& db, salesforce::client& sf, const write_job& j, const table_info& t,
    const write_batch& batch, const std::map<std::pair<std::string, std::int64_t>, std::string>& created,
    std::vector<item_result>& results) {
    for (std::size_t from = 0; from < batch.items.size(); from += collection_limit) {
      auto to = std::min(batch.items.size(), from + collection_limit);
      auto call = prepare_call(ctx, db, j, t, batch, from, to, created, results);
      if (call.sent.empty())
        continue;
      auto answer = send_call(sf, t, batch, call);
      if (auto failure = absorb_answer(batch, call, answer, results))
        return failure;
    }
    return std::nullopt;
  }

  /// Builds the collection call of items [from, to) of a batch (at most
  /// collection_limit): the records or ids to send, and a result for each item
  /// that cannot be sent. Creates are recorded in doubt first, committed: from
  /// the call until their result is recorded only Salesforce knows whether
  /// they were made. Uses the database, never Salesforce.
  collection_call prepare_call(worker_context& ctx, pqxx::connection& db, const write_job& j, const table_info& t,
                               const write_batch& batch, std::size_t from, std::size_t to,
                               const std::map<std::pair<std::string, std::int64_t>, std::string>& created,
                               std::vector<item_result>& results) {
    // `db` is the cycle's own connection (db_of(ctx) may open another after a break): ctx is for the fence.
    collection_call call;
    for (std::size_t i = from; i < to; ++i) {
      const auto& item = batch.items[i];
      auto& r = results[i];
      if (batch.operation == write_operation::remove) {
        auto sfid = resolve_sfid(db, *t.spec, item, created);
        if (!sfid) {
          r.ok = true; // never reached Salesforce: nothing to delete
          continue;
        }
        call.ids.push_back(*sfid);
        call.sent.push_back(i);
        continue;
      }
      auto op = batch.operation == write_operation::update   ? sf_write_op::update
                : batch.operation == write_operation::upsert ? sf_write_op::upsert
                                                             : sf_write_op::create;
      auto built = build_sf_record(*t.spec, item.values, t.writable, op);
      if (!built.ok()) {
        r.code = "SYNCFORCE_INVALID_VALUE";
        r.message = built.error;
        continue;
      }
      auto rec = std::move(built.record);
      if (batch.operation == write_operation::update) {
        auto sfid = resolve_sfid(db, *t.spec, item, created);
        if (!sfid) {
          r.code = "SYNCFORCE_NO_SFID";
          r.message = "the record has no sfid: its INSERT has not reached Salesforce";
          continue;
        }
        rec["Id"] = *sfid;
      }
      call.records.push_back(std::move(rec));
      call.sent.push_back(i);
    }
    if (!call.sent.empty() && batch.operation == write_operation::create) {
      std::vector<store::in_doubt_create> doubts;
      for (std::size_t k = 0; k < call.sent.size(); ++k) {
        const auto& item = batch.items[call.sent[k]];
        doubts.push_back({item.entry_id, batch.table, item.record_id, t.object_name, call.records[k].dump(), {}});
      }
      phase_timer pt{"in_doubt"};
      pqxx::work tx(db, "write_in_doubt");
      store::record_in_doubt(tx, j.connection_id, doubts);
      commit_fenced(tx, ctx);
    }
    return call;
  }

  /// The Salesforce call of a prepared collection call, and nothing else: it
  /// may run on another thread while the cycle's thread uses the database.
  static call_answer send_call(salesforce::client& sf, const table_info& t, const write_batch& batch,
                               const collection_call& call) {
    return batch.operation == write_operation::remove ? sf.remove(call.ids)
           : batch.operation == write_operation::update ? sf.update(t.object_name, call.records)
           : batch.operation == write_operation::upsert ? sf.upsert(t.object_name, *t.upsert_field, call.records)
                                                        : sf.create(t.object_name, call.records);
  }

  /// Reads a call's answer into the results of the items it sent. Returns a
  /// failure when the whole call should be tried again later (nothing recorded).
  static std::optional<transient_failure> absorb_answer(const write_batch& batch, const collection_call& call,
                                                        const call_answer& answer, std::vector<item_result>& results) {
    const auto& sent = call.sent;
    if (!answer) {
      const auto& e = answer.error();
      if (e.kind == salesforce::error_kind::request_limit)
        return transient_failure{outcome_kind::budget, "API budget exhausted: " + e.describe()};
      // An answer that could not be read says nothing of what was done: the
      // batch goes again (a create stays in doubt and is settled first).
      if (e.retryable() || e.kind == salesforce::error_kind::auth || e.kind == salesforce::error_kind::protocol)
        return transient_failure{outcome_kind::retry, e.describe()};
      for (auto i : sent) {
        results[i].code = e.code;
        results[i].message = e.message;
        results[i].fields = e.fields;
      }
      return std::nullopt;
    }
    const auto& saved = *answer;
    for (std::size_t k = 0; k < sent.size(); ++k) {
      auto& r = results[sent[k]];
      if (k >= saved.size()) {
        r.code = "SYNCFORCE_NO_RESULT";
        r.message = "Salesforce returned no result for this record";
        continue;
      }
      const auto& s = saved[k];
      if (s.success) {
        r.ok = true;
        r.sfid = s.id;
        continue;
      }
      if (!s.errors.empty()) {
        const auto& err = s.errors.front();
        // Deleting what is already deleted (a retry after a crash) is done.
        if (batch.operation == write_operation::remove && err.status_code == "ENTITY_IS_DELETED") {
          r.ok = true;
          continue;
        }
        r.code = err.status_code;
        r.message = err.message;
        r.fields = err.fields;
      } else {
        r.code = "UNKNOWN_EXCEPTION";
        r.message = "the record was not saved";
      }
    }
    return std::nullopt;
  }

  /// Settles the connection's creates in doubt: each one Salesforce made (a
  /// record its user created since the call, carrying the values sent, not
  /// yet any row's) is recorded as done, as if its answer had arrived; the
  /// rest are forgotten, to be sent again. Nothing is claimed until this
  /// succeeds.
  job_outcome reconcile_in_doubt(worker_context& ctx, const write_job& j,
                                 const std::map<std::string, table_info>& tables) {
    auto& db = db_of(ctx);
    std::vector<store::in_doubt_create> doubts;
    {
      pqxx::read_transaction tx(db, "in_doubt_load");
      doubts = store::load_in_doubt(tx, j.connection_id, in_doubt_margin);
    }
    if (doubts.empty())
      return {};
    // Asked too early, Salesforce could still be making the records of a call
    // whose sender died: its answer is only final once no call can be running.
    auto youngest = std::min_element(doubts.begin(), doubts.end(),
                                     [](const auto& a, const auto& b) { return a.age < b.age; })->age;
    if (youngest < j.in_doubt_settle_after) {
      auto wait = std::chrono::duration_cast<std::chrono::seconds>(j.in_doubt_settle_after - youngest).count() + 1;
      return job_outcome::failure(outcome_kind::retry,
                                  std::to_string(doubts.size()) + " creates in doubt: settled with Salesforce in " +
                                    std::to_string(wait) + " s, once no call that sent them can still be running");
    }
    auto& sf = sf_client(ctx, *j.user);
    std::map<std::string, std::vector<const store::in_doubt_create*>> by_table;
    for (const auto& d : doubts)
      by_table[d.table_name].push_back(&d);
    long found = 0;
    long resend = 0;
    for (const auto& [table_name, group] : by_table) {
      std::vector<std::int64_t> ids;
      for (const auto* d : group)
        ids.push_back(d->entry_id);
      auto ti = tables.find(table_name);
      if (ti == tables.end()) {
        // The mapping is gone or cannot write: its entries wait; so does their doubt.
        continue;
      }
      const auto& t = ti->second;
      std::vector<json> sent;
      std::set<std::string> fields{"Id"};
      for (const auto* d : group) {
        auto body = json::parse(d->record_json, nullptr, false);
        if (body.is_discarded() || !body.is_object())
          body = json::object();
        body.erase("attributes");
        for (auto it = body.begin(); it != body.end(); ++it)
          fields.insert(it.key());
        sent.push_back(std::move(body));
      }
      std::string soql = "SELECT ";
      bool first = true;
      for (const auto& f : fields) {
        soql += (first ? "" : ", ") + f;
        first = false;
      }
      soql += " FROM " + t.object_name + " WHERE CreatedDate >= " + group.front()->since_soql;
      const auto& user_id = sf.current_session().user_id;
      if (!user_id.empty() && user_id.find('\'') == std::string::npos && user_id.find('\\') == std::string::npos)
        soql += " AND CreatedById = '" + user_id + "'";
      soql += " ORDER BY CreatedDate, Id";
      std::vector<json> candidates;
      std::vector<std::string> candidate_ids;
      auto cursor = sf.query(soql);
      bool unanswerable = false;
      while (!cursor.done() && !unanswerable) {
        auto page = cursor.next_page();
        if (!page) {
          const auto& e = page.error();
          if (e.kind == salesforce::error_kind::request_limit)
            return job_outcome::failure(outcome_kind::budget, "API budget exhausted: " + e.describe());
          if (e.retryable() || e.kind == salesforce::error_kind::auth)
            return job_outcome::failure(outcome_kind::retry, "cannot settle " + std::to_string(group.size()) +
                                                               " creates of " + t.object_name +
                                                               " in doubt: " + e.describe());
          // Salesforce will never answer this question (a field it does not
          // let us query): the creates go again, as they would without this.
          log(spdlog::level::err, log_event{"Cannot settle creates in doubt of " + t.object_name +
                                              ", sending them again: " + e.describe(),
                                            "mapping", t.mapping_id, "POLLING_DB_CHANGES"}.addon(t.connection_id)
                                    .with("object_name", t.object_name));
          candidates.clear();
          candidate_ids.clear();
          unanswerable = true;
          break;
        }
        for (const auto& rec : page->records) {
          json j_rec = json::object();
          for (const auto& [name, v] : rec.fields) {
            switch (v.type) {
              case salesforce::value_type::null: j_rec[name] = nullptr; break;
              case salesforce::value_type::boolean: j_rec[name] = v.as_bool(); break;
              case salesforce::value_type::number: j_rec[name] = json::parse(v.text, nullptr, false); break;
              default: j_rec[name] = v.text; break;
            }
          }
          candidate_ids.push_back(std::string{rec.text("Id")});
          candidates.push_back(std::move(j_rec));
        }
      }
      pqxx::work tx(db, "in_doubt_settle");
      // A record already some row's is that row's: never another create's.
      auto known = store::known_sfids(tx, t.spec->schema, t.spec->table, candidate_ids);
      std::set<std::string> taken(known.begin(), known.end());
      std::vector<json> free_candidates;
      std::vector<std::string> free_ids;
      for (std::size_t c = 0; c < candidates.size(); ++c)
        if (!taken.count(candidate_ids[c])) {
          free_candidates.push_back(candidates[c]);
          free_ids.push_back(candidate_ids[c]);
        }
      auto match = match_in_doubt(sent, free_candidates);
      auto in_log = store::entries_in_log(tx, j.schema, ids);
      std::set<std::int64_t> waiting(in_log.begin(), in_log.end());
      write_batch done;
      done.table = table_name;
      done.action = write_action::insert;
      done.operation = write_operation::create;
      std::vector<item_result> results;
      std::vector<store::log_result> outcomes;
      for (std::size_t i = 0; i < group.size(); ++i) {
        const auto* d = group[i];
        if (match[i] < 0 || !waiting.count(d->entry_id)) {
          ++resend;
          continue;
        }
        ++found;
        write_item item;
        item.entry_id = d->entry_id;
        item.record_id = d->record_id;
        done.items.push_back(item);
        item_result r;
        r.ok = true;
        r.sfid = free_ids[static_cast<std::size_t>(match[i])];
        results.push_back(r);
        outcomes.push_back({d->entry_id, store::log_outcome::success, std::nullopt, std::nullopt});
      }
      store::finish_entries(tx, j.schema, outcomes);
      apply_rows(tx, *t.spec, done, results);
      store::clear_in_doubt(tx, j.connection_id, ids);
      commit_fenced(tx, ctx);
    }
    if (found + resend > 0)
      log(spdlog::level::warn, log_event{"Settled " + std::to_string(found + resend) +
                                           " creates in doubt: " + std::to_string(found) +
                                           " found in Salesforce and recorded, " + std::to_string(resend) +
                                           " not made and sent again",
                                         "connection", j.name, "POLLING_DB_CHANGES"}.addon(j.connection_id));
    return {};
  }

  /// Margin taken off the time a create was sent when asking Salesforce what
  /// was created since: clocks of the database and Salesforce differ a little.
  static constexpr std::chrono::seconds in_doubt_margin{300};

  /// A Bulk 2.0 ingest job for the batch. An empty `why` and no failure: done;
  /// `why` set: the job failed as a whole and the batch should go by collections.
  std::optional<transient_failure> execute_bulk(salesforce::client& sf, const table_info& t, const write_batch& batch,
                                                std::vector<item_result>& results, std::string& why) {
    salesforce::ingest_job_spec spec;
    spec.object = t.object_name;
    std::vector<const hstore*> rows;
    std::vector<std::string> delete_ids;
    std::string key_field; // matches result rows to items
    std::map<std::string, std::size_t> by_key;
    if (batch.operation == write_operation::remove) {
      spec.operation = "delete";
      key_field = "Id";
      for (std::size_t i = 0; i < batch.items.size(); ++i) {
        if (!batch.items[i].sfid) {
          why = "a delete without sfid";
          return std::nullopt;
        }
        delete_ids.push_back(*batch.items[i].sfid);
        by_key[*batch.items[i].sfid] = i;
      }
    } else {
      if (!t.upsert_field) {
        why = "no upsert field";
        return std::nullopt;
      }
      spec.operation = "upsert";
      spec.external_id_field = *t.upsert_field;
      key_field = *t.upsert_field;
      for (std::size_t i = 0; i < batch.items.size(); ++i) {
        rows.push_back(&batch.items[i].values);
        if (batch.items[i].external_id)
          by_key[*batch.items[i].external_id] = i;
      }
    }
    std::string body;
    if (spec.operation == "delete") {
      csv::writer w;
      w.write_row({"Id"});
      for (const auto& id : delete_ids)
        w.write_row({id});
      body = w.take();
    } else {
      // Updates sent as upserts must only carry updateable fields.
      auto op = batch.action == write_action::update ? sf_write_op::update : sf_write_op::upsert;
      auto built = build_sf_csv(*t.spec, rows, t.writable, op);
      if (!built.ok()) {
        why = "a value Salesforce cannot take (" + built.error + ")";
        return std::nullopt;
      }
      body = std::move(built.csv);
    }
    auto fail = [&](const salesforce::sf_error& e) -> std::optional<transient_failure> {
      if (e.kind == salesforce::error_kind::request_limit)
        return transient_failure{outcome_kind::budget, "API budget exhausted: " + e.describe()};
      if (e.retryable())
        return transient_failure{outcome_kind::retry, e.describe()};
      why = e.describe();
      return std::nullopt;
    };
    auto job = sf.create_ingest_job(spec);
    if (!job)
      return fail(job.error());
    if (auto up = sf.upload_job_data(job->id, std::move(body)); !up)
      return fail(up.error());
    if (auto closed = sf.close_ingest_job(job->id); !closed)
      return fail(closed.error());
    auto done = sf.wait_for_ingest_job(job->id, std::chrono::minutes(30), /*just_closed=*/true);
    if (!done)
      return fail(done.error());
    if (done->state != salesforce::job_state::job_complete) {
      why = done->state_text + (done->error_message.empty() ? "" : ": " + done->error_message);
      return std::nullopt;
    }
    std::vector<bool> seen(batch.items.size(), false);
    auto read = [&](salesforce::ingest_results which) -> std::optional<salesforce::sf_error> {
      std::map<std::string, std::size_t> cols; // lowercase header -> index
      auto n = sf.ingest_job_results(job->id, which, [&](const csv::row& row) {
        if (row.index() == 0) {
          for (std::size_t c = 0; c < row.size(); ++c)
            cols[lowercase_name(row[c])] = c;
          return;
        }
        auto kc = cols.find(lowercase_name(key_field));
        if (kc == cols.end() || kc->second >= row.size())
          return;
        auto item = by_key.find(std::string{row[kc->second]});
        if (item == by_key.end())
          return;
        auto& r = results[item->second];
        seen[item->second] = true;
        if (which == salesforce::ingest_results::successful) {
          r.ok = true;
          auto idc = cols.find("sf__id");
          if (idc != cols.end() && idc->second < row.size())
            r.sfid = std::string{row[idc->second]};
        } else if (which == salesforce::ingest_results::failed) {
          auto ec = cols.find("sf__error");
          std::string error = ec != cols.end() && ec->second < row.size() ? std::string{row[ec->second]} : "";
          auto colon = error.find(':');
          r.code = colon == std::string::npos ? error : error.substr(0, colon);
          r.message = colon == std::string::npos ? error : error.substr(colon + 1);
          if (batch.operation == write_operation::remove && r.code == "ENTITY_IS_DELETED") {
            r.ok = true;
            r.code.clear();
            r.message.clear();
          }
        } else {
          seen[item->second] = false; // unprocessed: try again
        }
      });
      if (!n)
        return n.error();
      return std::nullopt;
    };
    for (auto which : {salesforce::ingest_results::successful, salesforce::ingest_results::failed}) {
      // The job's final state counts its failed records: none, and their
      // (empty) list costs an API call for nothing.
      if (which == salesforce::ingest_results::failed && done->records_failed == 0)
        continue;
      if (auto e = read(which))
        return fail(*e);
      if (!why.empty())
        return std::nullopt;
    }
    sf.delete_ingest_job(job->id);
    for (std::size_t i = 0; i < seen.size(); ++i)
      if (!seen[i] && !results[i].ok) {
        why = "records left unprocessed";
        return std::nullopt;
      }
    return std::nullopt;
  }

  /// Writes one batch's results to its rows, after finish_entries in the same
  /// transaction (so a row still shows PENDING when another change of it is waiting).
  static void apply_rows(pqxx::transaction_base& tx, const hc_table_spec& spec, const write_batch& batch,
                         const std::vector<item_result>& results) {
    row_outcomes rows;
    collect_rows(batch, results, rows);
    store::record_row_outcomes(tx, spec.schema, spec.table, fold_row_outcomes(rows.by_id),
                               fold_row_outcomes(rows.by_sfid));
  }

  std::pair<job_outcome, table_info> describe(worker_context& ctx, const write_job& j, const write_mapping& m) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto i = tables_.find(m.mapping_id);
      if (i != tables_.end() && i->second.first == m.config)
        return {job_outcome{}, i->second.second};
    }
    auto d = describe_mapping(sf_client(ctx, *j.user), j.schema, m.config, j.ucs_basic_collation);
    if (!d) {
      const auto& e = d.error();
      auto kind = e.kind == salesforce::error_kind::request_limit ? outcome_kind::budget : outcome_kind::retry;
      return {job_outcome::failure(kind, "describe " + m.config.object_name + ": " + e.describe()), {}};
    }
    if (!d->spec)
      return {job_outcome::failure(outcome_kind::retry, d->spec_error), {}};
    table_info t;
    t.mapping_id = m.mapping_id;
    t.connection_id = j.connection_id;
    t.object_name = m.config.object_name;
    t.spec = d->spec;
    t.writable = writable_fields(d->rules);
    t.upsert_field = m.config.upsert_field;
    t.problems = d->write_problems;
    std::vector<std::string> columns;
    for (const auto& c : t.spec->columns)
      columns.push_back(c.name);
    t.has_relationships = has_relationship_columns(columns);
    std::lock_guard<std::mutex> lock(mutex_);
    tables_[m.mapping_id] = {m.config, t};
    return {job_outcome{}, t};
  }

  std::mutex mutex_;
  std::map<std::string, std::pair<mapping_config, table_info>> tables_;
};

} // namespace

std::shared_ptr<actors::write_io> make_write_io() { return std::make_shared<pg_sf_write_io>(); }

} // namespace syncforce::engine_io
