#include "engine_io/pg_read_repair.hpp"

#include "engine_io/jobs.hpp"
#include "sync/clock.hpp"
#include "sync/poll_plan.hpp"
#include "engine_io/read_page.hpp"
#include "engine_io/sf_outcome.hpp"
#include "engine_io/table_guard.hpp"
#include "store/column_refresh.hpp"
#include "store/copy_loader.hpp"
#include "store/hc_schema.hpp"
#include "store/in_doubt.hpp"
#include "store/read_repairs.hpp"
#include "store/table_rows.hpp"
#include "sync/poll_plan.hpp"
#include "sync/read_repair.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>

namespace syncforce::engine_io {

namespace {

std::size_t index_of(const std::vector<std::string>& fields, std::string_view name) {
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (iequals(fields[i], name))
      return i;
  return fields.size();
}

void record_texts(const salesforce::record& r, const std::vector<std::string>& fields, std::vector<std::string>& out) {
  out.resize(fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i)
    out[i] = std::string{r.text(fields[i])};
}

/// A read-repair line: `object_type=sync object_id=<addon id>` like the poll's.
void log_repair(const mapping_job& j, const std::string& event, const store::read_repair_run& run) {
  log_event ev{event, "sync", j.connection_id.empty() ? j.mapping_id : j.connection_id, "DATA_SYNCED"};
  ev.addon(j.connection_id).with("object_name", j.config.object_name);
  if (run.window_from)
    ev.with("window_from", *run.window_from).with("window_to", run.window_to.value_or(""));
  ev.with("checked", std::to_string(run.checked));
  if (run.kind == "sweep")
    ev.with("fetched", std::to_string(run.fetched));
  ev.with("repaired", std::to_string(run.repaired)).with("api_calls", std::to_string(run.api_calls));
  log(spdlog::level::info, ev);
}

/// Creates of this table still in doubt (a lost answer): a record the sweep
/// would fetch may be one of them; the writer settles them first (as for polls).
bool creates_in_doubt(worker_context& ctx, const hc_table_spec& spec) {
  if (spec.access != mapping_access::read_write)
    return false;
  pqxx::read_transaction tx(db_of(ctx), "sweep_in_doubt");
  return store::has_in_doubt(tx, spec.schema, spec.table);
}

} // namespace

job_outcome sweep_late_commits(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec) {
  store::read_repair_run run;
  run.kind = "sweep";
  auto stamp = modstamp_field(j.config.fields);
  if (!stamp || !j.hwm)
    return {}; // nothing to compare by: only a reload reads such a mapping
  auto& sf = sf_client(ctx, *j.user);
  const auto calls_before = sf.requests_sent();
  const auto started = real_time().system_now();
  run.started_at = settling_cutoff(started, std::chrono::seconds(0));
  std::optional<std::string> last_started;
  {
    pqxx::read_transaction tx(db_of(ctx), "sweep_last_run");
    last_started = store::last_sweep_started(tx, j.mapping_id);
  }
  const auto window = sweep_window_at(started, std::chrono::seconds(j.config.read_repair.sweep_window_seconds),
                                      *j.hwm, last_started);
  if (window) {
    run.window_from = window->from;
    run.window_to = window->to;
    wire_row_converter conv(spec);
    const auto& fields = conv.soql_fields();
    conv.bind_csv_header(fields);
    const auto id_index = index_of(fields, "Id");
    const store::upsert_target target{spec.schema, spec.table, conv.columns(), spec.upsert_column,
                               spec.access == mapping_access::read_write};
    const auto stamp_column = column_name_for(*stamp);
    read_page rp(spec, conv);
    std::vector<std::string> texts;
    std::optional<std::string> after_stamp;
    std::optional<std::string> after_id;
    for (bool more = true; more;) {
      if (j.cancelled())
        return job_outcome::failure(outcome_kind::cancelled, "cancelled"); // every fetch so far is committed
      // One page of (Id, stamp): one call, a few dozen bytes per record.
      std::vector<remote_stamp> remote;
      auto cursor = sf.query_all(sweep_soql(j.config.object_name, *stamp, *window, after_stamp, after_id,
                                            sweep_page_records));
      while (!cursor.done()) {
        auto page = cursor.next_page();
        if (!page)
          return from_sf_error(page.error());
        for (const auto& r : page->records) {
          auto s = canonical_timestamp(r.text(*stamp));
          remote.push_back(remote_stamp{std::string{r.text("Id")}, s.value_or(""), r.text("IsDeleted") == "true"});
        }
      }
      more = static_cast<long>(remote.size()) >= sweep_page_records;
      if (!remote.empty()) {
        after_stamp = remote.back().stamp;
        after_id = remote.back().id;
        if (!is_salesforce_id(*after_id) || after_stamp->empty())
          return job_outcome::failure(outcome_kind::fatal, "sweep: Salesforce returned a record without Id or " +
                                                             *stamp);
      }
      run.checked += static_cast<long>(remote.size());
      if (remote.empty())
        break;
      std::vector<local_stamp> local;
      {
        std::vector<std::string> ids;
        ids.reserve(remote.size());
        for (const auto& r : remote)
          ids.push_back(r.id);
        pqxx::read_transaction tx(db_of(ctx), "sweep_compare");
        local = store::local_stamps(tx, spec.schema, spec.table, stamp_column, ids);
      }
      auto diff = diff_sweep(remote, local);
      // Fetch what differs, a few hundred ids per query; each chunk is read and
      // applied under the write-back guard (a record read before a write-back
      // must not land after it) and committed under the lease.
      for (std::size_t first = 0; first < diff.fetch.size(); first += fetch_ids_per_query) {
        std::vector<std::string> chunk(
          diff.fetch.begin() + static_cast<std::ptrdiff_t>(first),
          diff.fetch.begin() + static_cast<std::ptrdiff_t>(std::min(diff.fetch.size(), first + fetch_ids_per_query)));
        auto guard = lock_table(db_of(ctx), spec.schema, spec.table);
        if (creates_in_doubt(ctx, spec))
          return job_outcome::failure(outcome_kind::retry,
                                      "creates of " + spec.table + " in doubt: waiting for the writer to settle them");
        auto fetch = sf.query_all(fetch_by_ids_soql(fields, j.config.object_name, chunk));
        rp.clear();
        while (!fetch.done()) {
          auto page = fetch.next_page();
          if (!page)
            return from_sf_error(page.error());
          for (const auto& r : page->records) {
            record_texts(r, fields, texts);
            rp.add(texts, id_index < texts.size() ? std::string_view{texts[id_index]} : std::string_view{});
          }
        }
        run.fetched += static_cast<long>(rp.records());
        pqxx::work tx(db_of(ctx), "sweep_fetch");
        rp.apply(tx, [&](pqxx::transaction_base& t, const std::vector<std::string>& lines, std::size_t from,
                         std::size_t to) {
          store::upsert_loader loader(t, target);
          for (auto i = from; i < to; ++i)
            loader.write_line(lines[i]);
          auto stats = loader.finish();
          run.repaired += static_cast<long>(stats.inserted + stats.updated + stats.deleted + stats.adopted);
        });
        rp.settle(tx, j, "sweep", "DATA_SYNCED", true);
        commit_fenced(tx, ctx);
      }
    }
  }
  run.api_calls = sf.requests_sent() - calls_before;
  {
    pqxx::work tx(db_of(ctx), "sweep_done");
    store::record_read_repair(tx, j.mapping_id, run);
    commit_fenced(tx, ctx);
  }
  log_repair(j,
             "Sweep of " + j.config.object_name + " found " + std::to_string(run.repaired) + " late records",
             run);
  job_outcome o;
  o.rows = run.repaired;
  o.api_calls = run.api_calls;
  return o;
}

job_outcome repair_calculated_fields(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec,
                                     const std::vector<std::string>& calculated) {
  store::read_repair_run run;
  run.kind = "formula";
  // Only sfid and the calculated columns: a spec of their own for the converter.
  hc_table_spec sub;
  sub.schema = spec.schema;
  sub.table = spec.table;
  sub.object_name = spec.object_name;
  sub.access = spec.access;
  std::vector<std::string> names;
  if (const auto* sfid = spec.find_column("sfid"))
    sub.columns.push_back(*sfid);
  for (const auto& f : repair_fields(j.config.fields, calculated))
    if (const auto* col = spec.find_column(column_name_for(f)); col != nullptr && col->name != "sfid") {
      sub.columns.push_back(*col);
      names.push_back(col->name);
    }
  auto& sf = sf_client(ctx, *j.user);
  const auto calls_before = sf.requests_sent();
  if (!names.empty() && sub.columns.front().name == "sfid") {
    wire_row_converter conv(sub);
    const auto& fields = conv.soql_fields();
    conv.bind_csv_header(fields);
    const auto id_index = index_of(fields, "Id");
    read_page rp(sub, conv);
    std::vector<std::string> texts;
    std::optional<std::string> after;
    for (bool more = true; more;) {
      if (j.cancelled())
        return job_outcome::failure(outcome_kind::cancelled, "cancelled");
      // Keyset pages by Id, each read and applied under the write-back guard:
      // a value read before a write-back must not land after it.
      auto guard = lock_table(db_of(ctx), spec.schema, spec.table);
      auto cursor = sf.query(load_soql_by_id(fields, j.config.object_name, after) + " LIMIT " +
                             std::to_string(sweep_page_records));
      rp.clear();
      long read = 0;
      while (!cursor.done()) {
        auto page = cursor.next_page();
        if (!page)
          return from_sf_error(page.error());
        for (const auto& r : page->records) {
          record_texts(r, fields, texts);
          rp.add(texts, id_index < texts.size() ? std::string_view{texts[id_index]} : std::string_view{});
          after = texts[id_index];
          ++read;
        }
      }
      more = read >= sweep_page_records;
      run.checked += read;
      if (read == 0)
        break;
      pqxx::work tx(db_of(ctx), "formula_repair_page");
      rp.apply(tx, [&](pqxx::transaction_base& t, const std::vector<std::string>& lines, std::size_t first,
                       std::size_t last) {
        // Only rows that differ, never one with a local change waiting to be written; quietly.
        run.repaired += store::refresh_columns(t, spec.schema, spec.table, conv.columns(), names, lines, first, last,
                                        "_syncforce_repair");
      });
      rp.settle(tx, j, "formula_repair", "DATA_SYNCED", false);
      commit_fenced(tx, ctx);
    }
  }
  run.api_calls = sf.requests_sent() - calls_before;
  {
    pqxx::work tx(db_of(ctx), "formula_repair_done");
    store::record_read_repair(tx, j.mapping_id, run);
    commit_fenced(tx, ctx);
  }
  log_repair(j,
             "Formula repair of " + j.config.object_name + " updated " + std::to_string(run.repaired) + " rows" +
               (names.empty() ? " (no calculated field mapped)" : " of " + fmt::format("{}", fmt::join(names, ", "))),
             run);
  job_outcome o;
  o.rows = run.repaired;
  o.api_calls = run.api_calls;
  return o;
}

} // namespace syncforce::engine_io
