// The production sync_io: Salesforce through the libcurl client, PostgreSQL
// through libpqxx (COPY into a shadow table for loads, the upsert loader for
// polls), each call on the worker's own connection and client.

#include "engine_io/jobs.hpp"
#include "sync/clock.hpp"
#include "metrics/metrics.hpp"
#include "engine_io/pg_commands.hpp"
#include "engine_io/read_page.hpp"
#include "store/copy_binary.hpp"
#include "engine_io/page_pipeline.hpp"
#include "engine_io/pg_read_repair.hpp"
#include "engine_io/pg_change_events.hpp"
#include "engine_io/sf_outcome.hpp"
#include "engine_io/mapping_describe.hpp"
#include "engine_io/table_guard.hpp"
#include "engine_io/jobs.hpp"
#include "store/control_repo.hpp"
#include "store/column_refresh.hpp"
#include "store/copy_loader.hpp"
#include "engine_io/shadow_builds.hpp"
#include "store/hc_meta.hpp"
#include "store/hc_schema.hpp"
#include "store/in_doubt.hpp"
#include "store/read_errors.hpp"
#include "store/session.hpp"
#include "store/table_rows.hpp"
#include "sync/poll_plan.hpp"
#include "sync/sf_write.hpp"
#include "sync/type_mapping.hpp"
#include "sync/value_cleaning.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <algorithm>
#include <future>
#include <mutex>

namespace syncforce::engine_io {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(real_time().steady_now() - t).count();
}

std::string secs(double s) { return fmt::format("{:.2f}", s); }

/// A line about moving data (pages read and written, polls), shaped like Heroku
/// Connect's `object_type=sync object_id=<addon id>` lines.
void log_sync(spdlog::level::level_enum level, const mapping_job& j, const std::string& event,
              const std::string& state) {
  log(level, log_event{event, "sync", j.connection_id.empty() ? j.mapping_id : j.connection_id, state}
               .addon(j.connection_id)
               .with("object_name", j.config.object_name));
}

/// One of Heroku Connect's own lines, exactly in its shape: no extras (the event names the table).
log_event hc_line(const mapping_job& j, const std::string& event, const std::string& type, const std::string& state) {
  const auto& id = type == "sync" && !j.connection_id.empty() ? j.connection_id : j.mapping_id;
  return log_event{event, type, id, state}.addon(j.connection_id);
}

/// A line about one mapping's table (created, changed, loaded): `object_type=mapping object_id=<mapping id>`.
void log_mapping(spdlog::level::level_enum level, const mapping_job& j, const std::string& event,
                 const std::string& state) {
  log(level, log_event{event, "mapping", j.mapping_id, state}.addon(j.connection_id).with("object_name",
                                                                                      j.config.object_name));
}

/// The values of one REST record in `fields` order, as CSV text (empty = null).
void record_texts(const salesforce::record& r, const std::vector<std::string>& fields, std::vector<std::string>& out) {
  out.resize(fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i)
    out[i] = std::string{r.text(fields[i])};
}

/// One page read ahead of the worker (engine_io/page_pipeline.hpp): its
/// records decoded into COPY lines, and where the reading stood after it.
struct fetched_page {
  /// `binary`: the rows also become COPY BINARY tuples (a load's pages).
  fetched_page(const hc_table_spec& spec, const wire_row_converter& conv, bool binary = false) : rows(spec, conv) {
    rows.set_binary(binary);
  }

  void clear() {
    rows.clear();
    records = 0;
    query_secs = 0;
    last_id.clear();
    locator.clear();
    more = true;
    page_end = true;
    failure.reset();
  }

  read_page rows;
  std::size_t records = 0; ///< records on the page (rows kept may be fewer)
  double query_secs = 0;   ///< fetching and decoding it
  std::string last_id;     ///< REST: the page's last Id (the load's checkpoint)
  std::string locator;     ///< Bulk: the locator of the page after it
  bool more = true;        ///< false: the reading is over after this page
  /// Bulk: false for the first chunks of a results page (load_bulk_pages):
  /// the rows are written, the page is committed with its last chunk.
  bool page_end = true;
  std::optional<salesforce::sf_error> failure; ///< the read failed: nothing else is set
};

/// The client lane (pg_worker_context::sf_lane) a load's count query goes
/// through while its mark query runs on the worker's own client.
constexpr std::size_t count_lane = 1;

/// Pages read ahead of the one being written: two keep the reader busy while
/// a page is COPYed without holding many pages in memory.
constexpr std::size_t read_ahead_pages = 2;

/// Rows of a Bulk results page handed over at a time while the page still
/// downloads: a page can hold every record of the job (Salesforce's choice
/// without --bulk-page-size), and writing none of it before all of it was
/// read left PostgreSQL idle during the download and the download idle during the COPY.
constexpr std::size_t bulk_chunk_rows = 5000;

page_pipeline<fetched_page> rest_pipeline(salesforce::query_cursor& cursor, const hc_table_spec& spec,
                                          const wire_row_converter& conv, const std::vector<std::string>& fields,
                                          std::size_t id_index, bool binary = false) {
  return page_pipeline<fetched_page>(
    read_ahead_pages, [&spec, &conv, binary] { return std::make_unique<fetched_page>(spec, conv, binary); },
    [&cursor, &fields, id_index](fetched_page& p) {
      p.clear();
      if (cursor.done())
        return read_step::end;
      auto t0 = real_time().steady_now();
      // Each record's values go from the JSON page straight into COPY text
      // (no record of strings per row in between).
      auto page = cursor.next_page(fields, [&p, id_index](const std::vector<std::string_view>& values) {
        const auto id = id_index < values.size() ? values[id_index] : std::string_view{};
        p.rows.add(values, id);
        p.last_id.assign(id);
      });
      if (!page) {
        p.failure = page.error();
        return read_step::page;
      }
      p.records = page->streamed;
      p.more = !cursor.done();
      p.query_secs = seconds_since(t0);
      return read_step::page;
    },
    [](const fetched_page& p) { return p.failure.has_value(); });
}

class pg_sf_sync_io : public sync_io {
public:
  job_outcome prepare_connection(worker_context& ctx, const connection_job& j) override {
    pqxx::work tx(db_of(ctx), "prepare_connection");
    // Every node that runs a unit of the connection prepares it: one at a time.
    store::lock_connection_preparation(tx, j.connection_id);
    store::ensure_connection_schema(tx, j.schema);
    store::write_connection_hcmeta(tx, j.connection_id, j.schema);
    // A paused connection stays paused across restarts (only Resume ends it).
    auto state = store::set_connection_idle_unless_paused(tx, j.connection_id);
    tx.commit();
    job_outcome o;
    o.connection = parse_connection_state(state);
    return o;
  }

  job_outcome load_mapping(worker_context& ctx, const mapping_job& j) override {
    pqxx::read_transaction tx(db_of(ctx));
    auto row = store::load_mapping(tx, j.mapping_id);
    if (!row)
      return job_outcome::failure(outcome_kind::bad_config, "mapping " + j.mapping_id + " is not in the store");
    job_outcome o;
    o.stored_state = parse_mapping_state(row->state); // a name we do not know: not synced
    o.hwm = row->high_water_mark.value_or("");
    return o;
  }

  job_outcome prepare_mapping(worker_context& ctx, const mapping_job& j) override {
    // Described again whenever the mapping starts: a field may have changed in Salesforce.
    auto spec = describe(ctx, j, true);
    if (!spec.ok())
      return spec;
    const auto table = j.config.table_name();
    store::mapping_change_result r;
    {
      // One transaction: the table has the old shape or the new one, never a mix.
      pqxx::work tx(db_of(ctx), "prepare_mapping");
      try {
        r = store::change_mapping_table(tx, *cached(j.mapping_id));
      } catch (const pqxx::sql_error& e) {
        // e.g. a foreign key or rule of someone else's on a column to drop
        if (e.sqlstate() == "2BP01" || e.sqlstate() == "0A000")
          return job_outcome::failure(outcome_kind::bad_config,
                                      "cannot change table " + table + " to the mapping's fields: " + e.what());
        throw;
      }
      if (!r.ok())
        return job_outcome::failure(outcome_kind::bad_config, r.error); // rolled back: nothing changed
      commit_fenced(tx, ctx);
    }
    const std::string state = r.created ? "INITIAL" : "RESYNC";
    if (r.created)
      log_mapping(spdlog::level::info, j, "Created table " + table, state);
    for (const auto& c : r.changes) {
      switch (c.kind) {
        case store::column_change_kind::added:
          log_mapping(spdlog::level::info, j, "Added column " + c.column + " to " + table, state);
          break;
        case store::column_change_kind::altered:
          log_mapping(spdlog::level::info, j,
                   "Altered column " + c.column + " of " + table + ": " + c.from_type + " -> " + c.to_type, state);
          break;
        case store::column_change_kind::retyped:
          log_mapping(spdlog::level::info, j,
                   "Re-typed column " + c.column + " of " + table + ": " + c.from_type + " -> " + c.to_type +
                     " (dropped and re-added; its values are backfilled)",
                   state);
          break;
        case store::column_change_kind::dropped:
          log_mapping(spdlog::level::info, j, "Dropped column " + c.column + " of " + table + " (field removed)", state);
          break;
      }
    }
    for (const auto& i : r.dropped_indexes)
      log_mapping(spdlog::level::info, j, "Dropped index " + i + " of " + table, state);
    for (const auto& p : r.unique_blocked)
      log_mapping(spdlog::level::warn, j, p.describe(j.schema, table), state);
    if (r.dropped_reload_table)
      log_mapping(spdlog::level::info, j,
               "Dropped " + store::reload_table_name(table) + " of an interrupted load: the table's shape changed", state);
    job_outcome o;
    o.columns = r.backfill;
    return o;
  }

  job_outcome reload(worker_context& ctx, const mapping_job& j) override {
    auto spec_outcome = describe(ctx, j);
    if (!spec_outcome.ok())
      return spec_outcome;
    auto spec = cached(j.mapping_id);
    auto& sf = sf_client(ctx, *j.user);
    auto calls_before = sf.requests_sent();
    const auto table = j.config.table_name();
    wire_row_converter conv(*spec);
    const auto shape = fmt::format("{}", fmt::join(conv.columns(), ","));
    auto stamp = modstamp_field(j.config.fields);
    auto load_start = real_time().steady_now();

    // A load that was interrupted resumes from its checkpoint when the shadow
    // table it filled is still there with the same columns.
    std::optional<store::load_checkpoint> cp;
    {
      pqxx::read_transaction tx(db_of(ctx));
      cp = store::load_load_checkpoint(tx, j.mapping_id);
      if (cp && (cp->shape != shape || !shadow_exists(tx, *spec)))
        cp.reset();
    }
    long resumed_at = 0;
    salesforce::client* count_sf_used = nullptr; // the count's client, when it was asked
    decltype(sf.requests_sent()) count_calls_before = 0;
    if (cp) {
      resumed_at = cp->rows_loaded;
      log_mapping(spdlog::level::info, j,
               "Resuming load of table " + table + " via " + (cp->method == "bulk" ? "BULK" : "SOAP") + " after " +
                 std::to_string(cp->rows_loaded) + " of " + std::to_string(cp->expected_rows) + " rows",
               "RELOAD_TABLE");
    } else {
      // The mark first: anything changed from here on is newer, so the first
      // poll after the load picks it up (possibly again, which is harmless).
      store::load_checkpoint fresh;
      fresh.shape = shape;
      // The count (REST up to the threshold, Bulk 2.0 above it) is sent on a
      // second client while the mark's query runs: two queries at once
      // instead of one after the other (~0.14 s of a 100,000-row load).
      auto& count_sf = pg_context(ctx).sf_lane(*j.user, count_lane);
      count_calls_before = count_sf.requests_sent();
      count_sf_used = &count_sf;
      auto counting = std::async(std::launch::async, [&count_sf, soql = count_soql(j.config.object_name)] {
        auto cursor = count_sf.query(soql);
        return cursor.next_page();
      });
      if (stamp) {
        auto mark_cursor = sf.query_all(latest_stamp_soql(j.config.object_name, *stamp));
        auto mark_page = mark_cursor.next_page();
        if (!mark_page)
          return from_sf_error(mark_page.error());
        fresh.start_mark = std::string{epoch_mark};
        if (!mark_page->records.empty())
          if (auto m = canonical_timestamp(mark_page->records.front().text(*stamp))) {
            fresh.start_mark = *m;
            // The largest Id at that stamp: records tied with it are loaded, so
            // the first poll need not read them again (keyset polls).
            // Only for a settled stamp: a record could still be changed within
            // a stamp that has not settled, after this query (poll_plan.hpp, Settling).
            std::string id{mark_page->records.front().text("Id")};
            if (is_salesforce_id(id))
              fresh.start_id = settled_mark_id(
                *m, id, settling_cutoff(real_time().system_now(), j.keyset_settle));
          }
      }
      auto count_page = counting.get();
      if (!count_page)
        return from_sf_error(count_page.error());
      fresh.expected_rows = count_page->total_size;
      fresh.method = use_bulk(fresh.expected_rows, j.bulk_threshold) ? "bulk" : "rest";
      pqxx::work tx(db_of(ctx), "reload_start");
      store::create_reload_table(tx, *spec);
      store::save_load_checkpoint(tx, j.mapping_id, fresh);
      commit_fenced(tx, ctx);
      cp = std::move(fresh);
      // The table being loaded (the shadow the swap puts in place) starts empty:
      // Heroku Connect's "Cleared" line, though readers keep the live table meanwhile.
      log(spdlog::level::info, hc_line(j, "Cleared table " + table + " for load", "mapping", "RELOAD_TABLE"));
      log(spdlog::level::info,
          hc_line(j, "Loading table " + table + " via " + (cp->method == "bulk" ? "BULK" : "SOAP"), "mapping",
                  "RELOAD_TABLE"));
    }

    auto loaded = cp->method == "bulk" ? load_bulk_pages(ctx, j, *spec, conv, *cp)
                                       : load_rest_pages(ctx, j, *spec, conv, *cp);
    if (!loaded.ok())
      return loaded;

    // A first load builds the shadow's key and indexes in two sessions at once
    // (engine_io/shadow_builds.hpp); the swap builds what is left.
    prebuild_shadow_indexes(ctx, j, *spec);
    pqxx::work tx(db_of(ctx), "reload_swap");
    // Keys and indexes not built yet are built here, after the COPY
    // (store/hc_schema.hpp); a kill meanwhile rolls them back and the next run
    // builds them again.
    auto swapped = store::swap_reload_table(tx, *spec);
    set_aside_duplicates(tx, j, *spec, swapped.set_aside);
    store::set_high_water_mark(tx, j.mapping_id, cp->start_mark, cp->start_id);
    store::set_mapping_state(tx, j.mapping_id, "DATA_SYNCED", "");
    // Read errors of records now in the table, or gone from Salesforce, are over.
    store::clear_read_errors_after_reload(tx, j.mapping_id, store::qualified_name(tx, spec->schema, spec->table));
    store::delete_load_checkpoint(tx, j.mapping_id);
    commit_fenced(tx, ctx);
    if (cp->bulk_job_id)
      sf.delete_query_job(*cp->bulk_job_id); // best effort: Salesforce drops it after 7 days anyway
    auto total_secs = seconds_since(load_start);
    auto rows = cp->rows_loaded - resumed_at;
    metrics::load_finished(j.schema, j.config.object_name, total_secs);
    log(spdlog::level::info,
        log_event{"Loaded table " + table + ": " + std::to_string(rows) + " rows in " + secs(total_secs) + " secs",
                  "mapping", j.mapping_id, "RELOAD_TABLE"}.addon(j.connection_id)
          .with("object_name", j.config.object_name)
          .with("total_rows", std::to_string(cp->rows_loaded))
          .with("resumed_at", std::to_string(resumed_at))
          .with("rows_per_sec", std::to_string(static_cast<long>(total_secs > 0 ? rows / total_secs : 0))));
    job_outcome o;
    o.rows = rows;
    o.hwm = cp->start_mark.value_or("");
    o.api_calls = sf.requests_sent() - calls_before +
                  (count_sf_used ? count_sf_used->requests_sent() - count_calls_before : 0);
    return o;
  }

  job_outcome backfill(worker_context& ctx, const mapping_job& j, const std::vector<std::string>& columns) override {
    auto spec_outcome = describe(ctx, j);
    if (!spec_outcome.ok())
      return spec_outcome;
    auto spec = cached(j.mapping_id);
    // Only sfid and the columns to fill: a spec of its own for the converter.
    hc_table_spec sub;
    sub.schema = spec->schema;
    sub.table = spec->table;
    sub.object_name = spec->object_name;
    sub.access = spec->access;
    std::vector<std::string> names;
    if (const auto* sfid = spec->find_column("sfid"))
      sub.columns.push_back(*sfid);
    for (const auto& c : columns)
      if (const auto* col = spec->find_column(c); col != nullptr && c != "sfid" &&
                                                  std::find(names.begin(), names.end(), c) == names.end()) {
        sub.columns.push_back(*col);
        names.push_back(c);
      }
    if (names.empty() || sub.columns.front().name != "sfid")
      return {};
    const auto table = j.config.table_name();
    auto& sf = sf_client(ctx, *j.user);
    auto calls_before = sf.requests_sent();
    auto start = real_time().steady_now();
    wire_row_converter conv(sub);
    const auto& fields = conv.soql_fields();
    conv.bind_csv_header(fields);
    const auto id_index = index_of(fields, "Id");

    log_mapping(spdlog::level::info, j,
             "RESYNC " + table + ": reading columns " + fmt::format("{}", fmt::join(names, ", ")), "RESYNC");
    // Like a poll page, a page read before a write-back must not land after it.
    auto guard = lock_table(db_of(ctx), spec->schema, spec->table);
    auto cursor = sf.query(load_soql(fields, j.config.object_name)); // records not deleted
    long updated = 0;
    long read = 0;
    // Page N+1 is fetched and decoded while page N is applied (engine_io/page_pipeline.hpp).
    auto pipe = rest_pipeline(cursor, sub, conv, fields, id_index);
    while (auto p = pipe.next()) {
      if (j.cancelled())
        return job_outcome::failure(outcome_kind::cancelled, "cancelled");
      if (p->failure)
        return from_sf_error(*p->failure);
      if (p->records == 0) {
        pipe.recycle(std::move(p));
        continue;
      }
      auto t1 = real_time().steady_now();
      // One transaction per page on the engine session (capture triggers quiet).
      pqxx::work tx(db_of(ctx), "backfill_page");
      p->rows.apply(tx, [&](pqxx::transaction_base& t, const std::vector<std::string>& lines, std::size_t first,
                            std::size_t last) {
        // A local change still waiting to be written keeps its values (as polls do).
        updated += store::refresh_columns(t, spec->schema, spec->table, conv.columns(), names, lines, first, last,
                                          "_syncforce_backfill");
      });
      p->rows.settle(tx, j, "backfill", "RESYNC", false);
      commit_fenced(tx, ctx);
      read += static_cast<long>(p->records);
      log_page(j, p->records, p->query_secs, seconds_since(t1), "UPDATE");
      pipe.recycle(std::move(p));
    }
    auto total_secs = seconds_since(start);
    log(spdlog::level::info,
        log_event{"RESYNC " + table + ": backfilled " + std::to_string(updated) + " rows of columns " +
                    fmt::format("{}", fmt::join(names, ", ")) + " (" + secs(total_secs) + " secs)",
                  "mapping", j.mapping_id, "RESYNC"}.addon(j.connection_id)
          .with("object_name", j.config.object_name)
          .with("read", std::to_string(read))
          .with("rows_per_sec", std::to_string(static_cast<long>(total_secs > 0 ? read / total_secs : 0))));
    job_outcome o;
    o.rows = updated;
    o.api_calls = sf.requests_sent() - calls_before;
    return o;
  }

  job_outcome poll(worker_context& ctx, const mapping_job& j) override {
    const auto poll_start = real_time().steady_now();
    auto spec_outcome = describe(ctx, j);
    if (!spec_outcome.ok())
      return spec_outcome;
    auto spec = cached(j.mapping_id);
    auto stamp = modstamp_field(j.config.fields);
    if (!stamp)
      return job_outcome::failure(outcome_kind::bad_config, "neither SystemModstamp nor LastModifiedDate is mapped");
    if (!j.hwm)
      return job_outcome::failure(outcome_kind::fatal, "poll without a high-water mark");
    auto& sf = sf_client(ctx, *j.user);
    auto calls_before = sf.requests_sent();
    // The keyset mark: the Id stored with the mark, when the mark is the one
    // this job was given (an admin command may have moved it: then `>=` once).
    std::optional<std::string> mark_id;
    bool known_read_errors = false;
    {
      pqxx::read_transaction tx(db_of(ctx));
      if (auto row = store::load_mapping(tx, j.mapping_id);
          row && row->high_water_id && row->high_water_mark &&
          canonical_timestamp(*row->high_water_mark) == canonical_timestamp(*j.hwm) &&
          is_salesforce_id(*row->high_water_id))
        mark_id = row->high_water_id;
      known_read_errors = store::has_read_errors(tx, j.mapping_id);
    }
    // A mark not yet settled is read again with `>=` (sync/poll_plan.hpp, Settling).
    const auto cutoff = settling_cutoff(real_time().system_now(), j.keyset_settle);
    if (mark_id)
      mark_id = settled_mark_id(*j.hwm, mark_id, cutoff);
    // Count first (deleted records too), with the poll's own keyset predicate:
    // nothing new costs this one call; more changes than the threshold go through Bulk 2.0.
    auto count_cursor = sf.query_all(count_soql(j.config.object_name, *stamp, *j.hwm, mark_id));
    auto count_page = count_cursor.next_page();
    if (!count_page)
      return from_sf_error(count_page.error());
    if (count_page->total_size == 0) {
      pqxx::work tx(db_of(ctx), "poll_done");
      store::set_mapping_state(tx, j.mapping_id, "DATA_SYNCED", "");
      commit_fenced(tx, ctx);
      log(spdlog::level::debug,
          log_event{"Polling Salesforce found 0 updated records", "sync", j.mapping_id, "POLLING_SF_CHANGES"}
            .with("object_name", j.config.object_name)
            .with("read", "0")
            .with("api_calls", std::to_string(sf.requests_sent() - calls_before)));
      metrics::poll_finished(j.schema, j.config.object_name, seconds_since(poll_start));
      job_outcome o;
      o.hwm = *j.hwm;
      o.api_calls = sf.requests_sent() - calls_before;
      return o;
    }
    const bool bulk = use_bulk(count_page->total_size, j.bulk_threshold);
    const std::string state = bulk ? "POLLING_SF_BULK" : "POLLING_SF_CHANGES";
    {
      pqxx::work tx(db_of(ctx), "poll_state");
      store::set_mapping_state(tx, j.mapping_id, state, "");
      commit_fenced(tx, ctx);
    }
    wire_row_converter conv(*spec);
    const auto& fields = conv.soql_fields();
    conv.bind_csv_header(fields);
    auto stamp_index = index_of(fields, *stamp);
    auto id_index = index_of(fields, "Id");
    auto soql = poll_soql(fields, j.config.object_name, *stamp, *j.hwm, mark_id);
    log_sync(bulk ? spdlog::level::info : spdlog::level::debug, j,
             "Polling " + soql + (bulk ? " via BULK (" + std::to_string(count_page->total_size) + " changes)" : ""),
             state);
    high_water_mark hwm(j.hwm, mark_id);
    hwm.unsettled_from(cutoff);
    // Read-write tables: a row whose newer local change is still waiting to be
    // written keeps its values (the echo rule, docs/write-back.md).
    store::upsert_target target{spec->schema, spec->table, conv.columns(), spec->upsert_column,
                         spec->access == mapping_access::read_write};
    read_page rp(*spec, conv);
    std::vector<std::string> texts;
    long total = 0;
    store::upsert_stats sum;
    // The page's rows through one upsert (a part of them when a row is refused).
    auto upsert = [&](pqxx::transaction_base& t, const std::vector<std::string>& lines, std::size_t first,
                      std::size_t last) {
      store::upsert_loader loader(t, target);
      for (auto i = first; i < last; ++i)
        loader.write_line(lines[i]);
      auto stats = loader.finish();
      sum.inserted += stats.inserted;
      sum.updated += stats.updated;
      sum.deleted += stats.deleted;
      sum.adopted += stats.adopted;
    };
    // From the query until the last page is applied, the writer does not write
    // this table back (a page read before a write-back must not land after it).
    auto guard = lock_table(db_of(ctx), spec->schema, spec->table);
    if (spec->access == mapping_access::read_write) {
      // Under the guard no create is on the wire on any node: creates still
      // in doubt lost their answer (a crash, a timeout; docs/write-back.md). A
      // record this poll would find may be one of them: the writer settles
      // them first, else the poll would add it as a new row and the create
      // would be sent again.
      pqxx::read_transaction tx(db_of(ctx), "poll_in_doubt");
      if (store::has_in_doubt(tx, spec->schema, spec->table))
        return job_outcome::failure(outcome_kind::retry,
                                    "creates of " + spec->table + " in doubt: waiting for the writer to settle them");
    }
    if (!bulk) {
      auto cursor = sf.query_all(soql);
      while (!cursor.done()) {
        auto t0 = real_time().steady_now();
        auto page = cursor.next_page();
        if (!page)
          return from_sf_error(page.error());
        auto query_secs = seconds_since(t0);
        auto t1 = real_time().steady_now();
        // Each page in its own transaction, with the (stamp, Id) it reached
        // (pages come in keyset order). A record set aside as a read error is
        // passed too: it comes back when it changes again.
        rp.clear();
        for (const auto& r : page->records) {
          record_texts(r, fields, texts);
          const std::string_view id = id_index < texts.size() ? std::string_view{texts[id_index]} : "";
          if (stamp_index < texts.size())
            hwm.reach(texts[stamp_index], id);
          rp.add(texts, id);
        }
        pqxx::work tx(db_of(ctx), "poll_page");
        rp.apply(tx, upsert);
        if (rp.settle(tx, j, "poll", state, known_read_errors) > 0)
          known_read_errors = true;
        store::set_high_water_mark(tx, j.mapping_id, hwm.value(), hwm.id());
        commit_fenced(tx, ctx);
        metrics::rows_polled(j.schema, j.config.object_name, static_cast<long>(page->records.size()));
        total += static_cast<long>(page->records.size());
        if (!page->records.empty())
          log_page(j, page->records.size(), query_secs, seconds_since(t1), "UPSERT");
        if (j.cancelled() && !cursor.done())
          return cancelled_poll(ctx, j); // the mark has what was applied
      }
    } else {
      auto job_info = sf.create_query_job(soql, /*include_deleted=*/true);
      if (!job_info)
        return from_sf_error(job_info.error());
      auto done = sf.wait_for_query_job(job_info->id, std::chrono::minutes(30));
      if (!done)
        return from_sf_error(done.error());
      if (done->state != salesforce::job_state::job_complete)
        return job_outcome::failure(outcome_kind::retry, "bulk query job " + done->id + " ended " +
                                                           done->state_text + ": " + done->error_message);
      auto reader = sf.query_job_results(job_info->id, j.bulk_page_size);
      bool bound = false;
      std::size_t bulk_stamp = 0;
      std::size_t bulk_id = 0;
      auto t0 = real_time().steady_now();
      while (!reader.done()) {
        // Each page in its own transaction; bulk results need not come in
        // keyset order, so the mark moves only with the last page, to the
        // largest (stamp, Id) of the whole job: every record at or below it
        // that existed when the job ran is in the job.
        rp.clear();
        auto t1 = real_time().steady_now();
        auto page = reader.next_page([&](const csv::row& r) {
          if (!bound) {
            conv.bind_csv_header(reader.columns());
            bulk_stamp = index_of(reader.columns(), *stamp);
            bulk_id = index_of(reader.columns(), "Id");
            bound = true;
          }
          texts.resize(r.size());
          for (std::size_t i = 0; i < r.size(); ++i)
            texts[i] = r.is_null(i) ? std::string{} : std::string{r[i]};
          const std::string_view id = bulk_id < texts.size() ? std::string_view{texts[bulk_id]} : "";
          if (bulk_stamp < texts.size())
            hwm.see(texts[bulk_stamp], id);
          rp.add(texts, id);
        });
        if (!page)
          return from_sf_error(page.error());
        const auto page_rows = static_cast<long>(rp.records());
        pqxx::work tx(db_of(ctx), "poll_page");
        rp.apply(tx, upsert);
        if (rp.settle(tx, j, "poll", state, known_read_errors) > 0)
          known_read_errors = true;
        if (reader.done())
          store::set_high_water_mark(tx, j.mapping_id, hwm.value(), hwm.id());
        commit_fenced(tx, ctx);
        metrics::rows_polled(j.schema, j.config.object_name, page_rows);
        total += page_rows;
        if (page_rows > 0)
          log_page(j, static_cast<std::size_t>(page_rows), seconds_since(t0), seconds_since(t1), "UPSERT");
        t0 = real_time().steady_now();
        if (j.cancelled() && !reader.done()) {
          sf.delete_query_job(job_info->id); // the next poll starts from the old mark again
          return cancelled_poll(ctx, j);
        }
      }
      sf.delete_query_job(job_info->id);
    }
    {
      pqxx::work tx(db_of(ctx), "poll_done");
      store::set_mapping_state(tx, j.mapping_id, "DATA_SYNCED", "");
      commit_fenced(tx, ctx);
    }
    // Records re-read at the high-water mark that did not change are not news.
    auto changed = sum.inserted + sum.updated + sum.deleted + sum.adopted;
    log(changed > 0 ? spdlog::level::info : spdlog::level::debug,
        log_event{"Polling Salesforce found " + std::to_string(changed) + " updated records", "sync",
                  j.connection_id.empty() ? j.mapping_id : j.connection_id,
                  state}.addon(j.connection_id)
          .with("object_name", j.config.object_name)
          .with("read", std::to_string(total))
          .with("inserted", std::to_string(sum.inserted))
          .with("updated", std::to_string(sum.updated))
          .with("deleted", std::to_string(sum.deleted))
          .with("adopted", std::to_string(sum.adopted))
          .with("api_calls", std::to_string(sf.requests_sent() - calls_before)));
    metrics::poll_finished(j.schema, j.config.object_name, seconds_since(poll_start));
    job_outcome o;
    o.rows = total;
    o.hwm = hwm.value().value_or("");
    o.api_calls = sf.requests_sent() - calls_before;
    return o;
  }

  job_outcome sweep(worker_context& ctx, const mapping_job& j) override {
    auto spec = describe(ctx, j);
    if (!spec.ok())
      return spec;
    return sweep_late_commits(ctx, j, *cached(j.mapping_id));
  }

  job_outcome repair_formulas(worker_context& ctx, const mapping_job& j) override {
    // The describe of the mapping's start (an edit restarts it; `mapping:edit`
    // with no option re-reads describe after a field became a formula).
    auto spec = describe(ctx, j);
    if (!spec.ok())
      return spec;
    std::vector<std::string> calculated;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      calculated = calculated_[j.mapping_id];
    }
    return repair_calculated_fields(ctx, j, *cached(j.mapping_id), calculated);
  }

  job_outcome load_change_mark(worker_context& ctx, const mapping_job& j) override {
    return load_change_event_mark(ctx, j);
  }

  job_outcome apply_change_events(worker_context& ctx, const mapping_job& j, const change_batch& batch) override {
    auto spec = describe(ctx, j);
    if (!spec.ok())
      return spec;
    std::vector<std::string> calculated;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      calculated = calculated_[j.mapping_id];
    }
    return apply_change_batch(ctx, j, *cached(j.mapping_id), calculated, batch);
  }

  job_outcome take_command(worker_context& ctx, const mapping_job& j) override {
    return take_and_apply_command(ctx, j);
  }

  job_outcome save_state(worker_context& ctx, const mapping_job& j, mapping_state state,
                         const std::string& description) override {
    pqxx::work tx(db_of(ctx), "save_state");
    store::set_mapping_state(tx, j.mapping_id, std::string{to_string(state)}, description);
    commit_fenced(tx, ctx);
    return {};
  }

private:
  static bool shadow_exists(pqxx::transaction_base& tx, const hc_table_spec& spec) {
    return store::reload_table_exists(tx, spec.schema, spec.table);
  }

  /// The shadow's key and indexes before the swap, in two sessions at once,
  /// when the live table is missing or empty (a first load). A reload leaves
  /// them to the swap: it rewrites every shadow row's id there first
  /// (keep_local_state), which is cheaper with no index to keep up.
  void prebuild_shadow_indexes(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec) {
    std::vector<std::string> statements;
    {
      pqxx::read_transaction tx(db_of(ctx));
      if (!store::live_table_empty(tx, spec))
        return;
      statements = store::shadow_index_builds(tx, spec);
    }
    if (statements.empty())
      return;
    auto t0 = real_time().steady_now();
    auto r = build_shadow_indexes(db_of(ctx), pg_context(ctx).database_url(), pg_context(ctx).session_name(),
                                  statements, ctx);
    log_mapping(spdlog::level::info, j,
                "Built " + std::to_string(r.built) + " of " + std::to_string(statements.size()) + " indexes of " +
                  store::reload_table_name(spec.table) + " in " + secs(seconds_since(t0)) + " secs" +
                  // Not the failure's text: PostgreSQL quotes the duplicated value in it.
                  (r.left > 0 ? "; the swap builds the other " + std::to_string(r.left) : std::string{}),
                "RELOAD_TABLE");
  }

  /// REST pages in Id order, each committed with the checkpoint (the last Id).
  job_outcome load_rest_pages(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec,
                              wire_row_converter& conv, store::load_checkpoint& cp) {
    auto& sf = sf_client(ctx, *j.user);
    const auto& fields = conv.soql_fields();
    conv.bind_csv_header(fields);
    const auto id_index = index_of(fields, "Id");
    if (id_index == fields.size())
      return job_outcome::failure(outcome_kind::bad_config, "the mapping has no Id field");
    auto cursor = sf.query(load_soql_by_id(fields, j.config.object_name, cp.last_id));
    // Page N+1 is fetched and decoded while page N is COPYed (engine_io/page_pipeline.hpp).
    auto pipe = rest_pipeline(cursor, spec, conv, fields, id_index, true);
    while (auto p = pipe.next()) {
      if (p->failure)
        return from_sf_error(*p->failure);
      if (p->records == 0) {
        pipe.recycle(std::move(p));
        continue;
      }
      auto t1 = real_time().steady_now();
      pqxx::work tx(db_of(ctx), "reload_page");
      p->rows.apply(tx, copy_into_shadow(spec, conv, p->rows));
      // Read errors of records that arrive clean are cleared by the swap.
      p->rows.settle(tx, j, "load", "RELOAD_TABLE", false);
      cp.rows_loaded += static_cast<long>(p->records);
      cp.last_id = p->last_id;
      store::save_load_checkpoint(tx, j.mapping_id, cp);
      commit_fenced(tx, ctx);
      metrics::rows_loaded(j.schema, j.config.object_name, static_cast<long>(p->records));
      log_page(j, p->records, p->query_secs, seconds_since(t1));
      if (j.cancelled() && p->more)
        return job_outcome::failure(outcome_kind::cancelled, "cancelled"); // resumes from the checkpoint
      pipe.recycle(std::move(p));
    }
    return {};
  }

  /// A Bulk 2.0 query job's result pages, each committed with the checkpoint
  /// (the job and the locator of the next page).
  job_outcome load_bulk_pages(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec,
                              wire_row_converter& conv, store::load_checkpoint& cp) {
    auto& sf = sf_client(ctx, *j.user);
    const auto& fields = conv.soql_fields();
    if (!cp.bulk_job_id) {
      auto job_info = sf.create_query_job(load_soql(fields, j.config.object_name));
      if (!job_info)
        return from_sf_error(job_info.error());
      cp.bulk_job_id = job_info->id;
      cp.bulk_locator.reset();
      pqxx::work tx(db_of(ctx), "reload_job");
      store::save_load_checkpoint(tx, j.mapping_id, cp);
      commit_fenced(tx, ctx);
    }
    // The last page's checkpoint has an empty locator (none is NULL): every
    // page is in, only the swap is left (a kill came after the last page's
    // commit, during the index builds). Reading from an empty locator would
    // start at the first page again and load every row twice.
    if (cp.bulk_locator && cp.bulk_locator->empty())
      return {};
    auto done = sf.wait_for_query_job(*cp.bulk_job_id, std::chrono::minutes(30));
    if (!done && done.error().kind == salesforce::error_kind::not_found)
      return restart_load(ctx, j, spec, "bulk query job " + *cp.bulk_job_id + " is gone");
    if (!done)
      return from_sf_error(done.error());
    if (done->state != salesforce::job_state::job_complete)
      return restart_load(ctx, j, spec,
                          "bulk query job " + done->id + " ended " + done->state_text + ": " + done->error_message);
    auto reader = sf.query_job_results(*cp.bulk_job_id, j.bulk_page_size, cp.bulk_locator.value_or(""));
    // The rows of a results page are handed over in chunks as its download is
    // parsed, and COPYed while the rest arrives (engine_io/page_pipeline.hpp);
    // the page is committed with its checkpoint (the next page's locator) once
    // its last chunk is in, so a kill mid-page rolls the whole page back and
    // the load resumes at its locator, as before.
    page_pipeline<fetched_page> pipe(
      read_ahead_pages, [&spec, &conv] { return std::make_unique<fetched_page>(spec, conv, true); },
      [&reader, &conv, bound = false, bulk_id = std::size_t{0}, values = std::vector<std::string_view>{}](
        std::unique_ptr<fetched_page>& p, const page_pipeline<fetched_page>::hand_over_fn& hand_over) mutable {
        p->clear();
        if (reader.done())
          return read_step::end;
        auto t0 = real_time().steady_now();
        auto page = reader.next_page([&](const csv::row& r) {
          if (!bound) {
            // Only this thread uses the converter's binding; the writer reads its columns.
            conv.bind_csv_header(reader.columns());
            bulk_id = index_of(reader.columns(), "Id");
            bound = true;
          }
          // Views of the CSV row (a null field is empty, as an absent one).
          values.resize(r.size());
          for (std::size_t i = 0; i < r.size(); ++i)
            values[i] = r.is_null(i) ? std::string_view{} : r[i];
          p->rows.add(values, bulk_id < values.size() ? values[bulk_id] : std::string_view{});
          if (p->rows.records() >= bulk_chunk_rows) {
            p->records = p->rows.records();
            p->page_end = false;
            hand_over(p);
            p->clear(); // a recycled page, or this one again once the pipeline stopped
          }
        });
        if (!page) {
          p->failure = page.error();
          return read_step::page;
        }
        p->records = p->rows.records();
        p->locator = reader.locator();
        p->more = !reader.done();
        p->page_end = true;
        p->query_secs = seconds_since(t0);
        return read_step::page;
      },
      [](const fetched_page& p) { return p.failure.has_value(); });
    std::optional<pqxx::work> tx; // the page being written, over its chunks
    long page_rows = 0;
    double db_secs = 0;
    while (auto p = pipe.next()) {
      if (p->failure) {
        if (p->failure->kind == salesforce::error_kind::not_found)
          return restart_load(ctx, j, spec, "bulk query job " + *cp.bulk_job_id + " results are gone");
        return from_sf_error(*p->failure); // a page begun is rolled back with tx
      }
      auto t1 = real_time().steady_now();
      if (!tx) {
        tx.emplace(db_of(ctx), "reload_page");
        if (!p->page_end) // it waits for the download between chunks
          store::set_idle_timeout(*tx, store::streamed_page_idle_timeout_ms);
      }
      p->rows.apply(*tx, copy_into_shadow(spec, conv, p->rows));
      p->rows.settle(*tx, j, "load", "RELOAD_TABLE", false);
      page_rows += static_cast<long>(p->records);
      if (!p->page_end) {
        db_secs += seconds_since(t1);
        pipe.recycle(std::move(p));
        continue;
      }
      cp.rows_loaded += page_rows;
      cp.bulk_locator = p->locator;
      store::save_load_checkpoint(*tx, j.mapping_id, cp);
      commit_fenced(*tx, ctx);
      tx.reset();
      db_secs += seconds_since(t1);
      log_page(j, static_cast<std::size_t>(page_rows), p->query_secs, db_secs);
      metrics::rows_loaded(j.schema, j.config.object_name, page_rows);
      page_rows = 0;
      db_secs = 0;
      if (j.cancelled() && p->more)
        return job_outcome::failure(outcome_kind::cancelled, "cancelled"); // resumes from the checkpoint
      pipe.recycle(std::move(p));
    }
    return {};
  }

  /// Rows the shadow's unique indexes refused when they were built: read
  /// errors of the load, as if COPY had refused them one by one.
  static void set_aside_duplicates(pqxx::transaction_base& tx, const mapping_job& j, const hc_table_spec& spec,
                                   const std::vector<store::shadow_duplicate>& dups) {
    if (dups.empty())
      return;
    std::vector<store::read_error> errors;
    errors.reserve(dups.size());
    for (const auto& d : dups) {
      const auto* col = spec.find_column(d.column);
      store::read_error e;
      e.sfid = d.sfid;
      e.field = col ? col->sf_field : d.column;
      e.error = "duplicate key value violates unique constraint \"" + d.index + "\"";
      e.excerpt = d.value ? value_excerpt(*d.value, col && col->sensitive) : std::string{"(null)"};
      errors.push_back(std::move(e));
    }
    store::record_read_errors(tx, j.mapping_id, "load", errors);
    for (const auto& e : errors)
      log(spdlog::level::warn,
          log_event{"Read error: " + j.config.object_name + " record " + e.sfid + " skipped: " + e.field + ": " +
                      e.error,
                    "sync", j.mapping_id, "RELOAD_TABLE"}
            .with("object_name", j.config.object_name)
            .with("sfid", e.sfid)
            .with("field", e.field)
            .with("operation", "load")
            .with("value", e.excerpt));
  }

  /// Rows of a load page into the shadow table, through COPY: in binary
  /// when the page has every row's tuple (PostgreSQL parses no text; see
  /// store/copy_binary.hpp), else in text.
  static read_page::apply_lines copy_into_shadow(const hc_table_spec& spec, const wire_row_converter& conv,
                                                 const read_page& page) {
    return [&spec, &conv, &page](pqxx::transaction_base& t, const std::vector<std::string>& lines,
                                 std::size_t first, std::size_t last) {
      if (page.binary() && store::binary_copy_session(t)) {
        store::copy_binary_tuples(t, spec.schema, store::reload_table_name(spec.table), conv.columns(),
                                  page.tuples(), first, last);
        return;
      }
      store::copy_writer writer(t, spec.schema, store::reload_table_name(spec.table), conv.columns());
      writer.write_lines(lines, first, last);
      writer.complete();
    };
  }

  /// A poll stopped between pages: the state goes back to DATA_SYNCED (the
  /// mark holds what was applied), the job ends cancelled.
  job_outcome cancelled_poll(worker_context& ctx, const mapping_job& j) {
    pqxx::work tx(db_of(ctx), "poll_cancelled");
    store::set_mapping_state(tx, j.mapping_id, "DATA_SYNCED", "");
    commit_fenced(tx, ctx);
    return job_outcome::failure(outcome_kind::cancelled, "cancelled");
  }

  /// Forgets a checkpoint that cannot be resumed; the retry starts the load over.
  job_outcome restart_load(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec,
                           const std::string& why) {
    pqxx::work tx(db_of(ctx), "reload_restart");
    store::delete_load_checkpoint(tx, j.mapping_id);
    store::drop_reload_table(tx, spec);
    commit_fenced(tx, ctx);
    return job_outcome::failure(outcome_kind::retry, why + "; the load starts over");
  }

  static std::size_t index_of(const std::vector<std::string>& fields, const std::string& name) {
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (iequals(fields[i], name))
        return i;
    return fields.size();
  }

  static void log_page(const mapping_job& j, std::size_t n, double query_secs, double db_secs,
                       const std::string& op = "INSERT") {
    log(spdlog::level::info, hc_line(j,
                                     j.config.object_name + " QUERY \xE2\x86\xB7SALESFORCE " + std::to_string(n) +
                                       " rows (" + secs(query_secs) + " secs)",
                                     "sync", "IDLE"));
    // Heroku Connect's stream shows this line at its default level, labeled debug.
    log_labeled(spdlog::level::info, spdlog::level::debug,
                hc_line(j,
                        j.config.object_name + " " + op + " \xE2\x86\x93" "DATABASE " + std::to_string(n) + " rows (" +
                          secs(db_secs) + " secs)",
                        "sync", "IDLE"));
  }

  /// The table spec of a mapping, from describe (cached per mapping, config
  /// and schema; `fresh` describes again: a field may have changed in Salesforce).
  job_outcome describe(worker_context& ctx, const mapping_job& j, bool fresh = false) {
    if (!fresh) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto i = specs_.find(j.mapping_id);
      if (i != specs_.end() && i->second.first == j.config && i->second.second->schema == j.schema)
        return {};
    }
    auto d = describe_mapping(sf_client(ctx, *j.user), j.schema, j.config, j.ucs_basic_collation);
    if (!d)
      return from_sf_error(d.error());
    // A read-write mapping must be able to insert: a unique external id to
    // upsert by, and every field an insert requires.
    if (!d->write_problems.empty())
      return job_outcome::failure(outcome_kind::bad_config, d->write_problems);
    if (!d->spec)
      return job_outcome::failure(outcome_kind::bad_config, d->spec_error);
    if (fresh && !d->object_name.empty() && d->object_name != j.config.object_name) {
      // A mapping named `contact` (a configuration file written by hand) takes
      // describe's spelling `Contact`, as the admin API gives it.
      pqxx::work tx(db_of(ctx), "mapping_object_name");
      if (store::canonicalize_object_name(tx, j.mapping_id, d->object_name))
        log_sync(spdlog::level::info, j, "Object name " + j.config.object_name + " stored as " + d->object_name,
                 "INITIAL");
      commit_fenced(tx, ctx);
    }
    std::vector<std::string> calculated; // formula and roll-up summary fields (formula repair)
    for (const auto& r : d->rules)
      if (r.calculated)
        calculated.push_back(r.name);
    std::lock_guard<std::mutex> lock(mutex_);
    specs_[j.mapping_id] = {j.config, d->spec};
    calculated_[j.mapping_id] = std::move(calculated);
    return {};
  }

  std::shared_ptr<const hc_table_spec> cached(const std::string& mapping_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return specs_.at(mapping_id).second;
  }

  std::mutex mutex_;
  std::map<std::string, std::pair<mapping_config, std::shared_ptr<const hc_table_spec>>> specs_;
  std::map<std::string, std::vector<std::string>> calculated_; ///< by mapping id, from the last describe
};

} // namespace

std::shared_ptr<actors::sync_io> make_sync_io() { return std::make_shared<pg_sf_sync_io>(); }

} // namespace syncforce::engine_io
