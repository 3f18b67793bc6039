// The production sync_io: Salesforce through the libcurl client, PostgreSQL
// through libpqxx (COPY into a shadow table for loads, the upsert loader for
// polls), each call on the worker's own connection and client.

#include "actors/log.hpp"
#include "actors/sync_io.hpp"
#include "store/control_repo.hpp"
#include "store/copy_loader.hpp"
#include "store/hc_schema.hpp"
#include "sync/poll_plan.hpp"
#include "sync/type_mapping.hpp"

#include <fmt/format.h>

#include <chrono>
#include <algorithm>
#include <cctype>
#include <mutex>

namespace syncforce::actors {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

std::string secs(double s) { return fmt::format("{:.2f}", s); }

job_outcome from_sf_error(const salesforce::sf_error& e) {
  using salesforce::error_kind;
  switch (e.kind) {
    case error_kind::malformed_query:
    case error_kind::invalid_field:
    case error_kind::invalid_type:
      return job_outcome::failure(outcome_kind::bad_config, e.describe());
    case error_kind::auth:
    case error_kind::invalid_session:
    case error_kind::request_limit:
    case error_kind::transient:
    case error_kind::invalid_query_locator:
    case error_kind::job_not_complete:
    case error_kind::rolled_back:
      return job_outcome::failure(outcome_kind::retry, e.describe());
    default:
      return job_outcome::failure(outcome_kind::fatal, e.describe());
  }
}

void log_sync(spdlog::level::level_enum level, const mapping_job& j, const std::string& event,
              const std::string& state) {
  log(level, log_event{event, "sync", j.mapping_id, state}.with("object_name", j.config.object_name));
}

/// The values of one REST record in `fields` order, as CSV text (empty = null).
void record_texts(const salesforce::record& r, const std::vector<std::string>& fields, std::vector<std::string>& out) {
  out.resize(fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i)
    out[i] = std::string{r.text(fields[i])};
}

class pg_sf_sync_io : public sync_io {
public:
  job_outcome prepare_connection(worker_context& ctx, const connection_job& j) override {
    pqxx::work tx(ctx.db(), "prepare_connection");
    ensure_connection_schema(tx, j.schema);
    store::set_connection_state(tx, j.connection_id, "IDLE");
    tx.commit();
    return {};
  }

  job_outcome load_mapping(worker_context& ctx, const mapping_job& j) override {
    pqxx::read_transaction tx(ctx.db());
    auto row = store::load_mapping(tx, j.mapping_id);
    if (!row)
      return job_outcome::failure(outcome_kind::bad_config, "mapping " + j.mapping_id + " is not in the store");
    job_outcome o;
    o.state = row->state;
    o.hwm = row->high_water_mark.value_or("");
    return o;
  }

  job_outcome prepare_mapping(worker_context& ctx, const mapping_job& j) override {
    auto spec = describe(ctx, j);
    if (!spec.ok())
      return spec;
    pqxx::work tx(ctx.db(), "prepare_mapping");
    auto r = ensure_mapping_table(tx, *cached(j.mapping_id));
    tx.commit();
    if (r.created)
      log_sync(spdlog::level::info, j, "Created table " + j.config.table_name(), "INITIAL");
    for (const auto& c : r.added_columns)
      log_sync(spdlog::level::info, j, "Added column " + c + " to " + j.config.table_name(), "INITIAL");
    return {};
  }

  job_outcome reload(worker_context& ctx, const mapping_job& j) override {
    auto spec_outcome = describe(ctx, j);
    if (!spec_outcome.ok())
      return spec_outcome;
    auto spec = cached(j.mapping_id);
    auto& sf = ctx.sf(*j.user);
    auto calls_before = sf.requests_sent();
    const auto table = j.config.table_name();
    wire_row_converter conv(*spec);
    const auto& fields = conv.soql_fields();
    conv.bind_csv_header(fields);
    auto stamp = modstamp_field(j.config.fields);
    auto load_start = clock_type::now();

    // Count first: REST up to the threshold, Bulk 2.0 above it.
    auto count_cursor = sf.query(count_soql(j.config.object_name));
    auto count_page = count_cursor.next_page();
    if (!count_page)
      return from_sf_error(count_page.error());
    long count = count_page->total_size;
    bool bulk = use_bulk(count, j.bulk_threshold);
    log_sync(spdlog::level::info, j, "Loading table " + table + " via " + (bulk ? "BULK" : "SOAP"), "RELOAD_TABLE");

    pqxx::work tx(ctx.db(), "reload");
    create_reload_table(tx, *spec);
    high_water_mark hwm;
    long rows = 0;
    std::string error;
    pg_row row;
    std::vector<std::string> texts;
    {
      copy_writer writer(tx, spec->schema, reload_table_name(spec->table), conv.columns());
      auto stamp_index = stamp ? index_of(fields, *stamp) : fields.size();
      if (!bulk) {
        auto cursor = sf.query(load_soql(fields, j.config.object_name));
        while (!cursor.done()) {
          auto t0 = clock_type::now();
          auto page = cursor.next_page();
          if (!page)
            return from_sf_error(page.error());
          auto query_secs = seconds_since(t0);
          auto t1 = clock_type::now();
          for (const auto& r : page->records) {
            record_texts(r, fields, texts);
            if (!conv.convert_csv(texts, row, error))
              return job_outcome::failure(outcome_kind::fatal, "record " + texts[0] + ": " + error);
            if (stamp_index < texts.size())
              hwm.see(texts[stamp_index]);
            writer.write(row);
          }
          rows += static_cast<long>(page->records.size());
          log_page(j, page->records.size(), query_secs, seconds_since(t1));
        }
      } else {
        auto job_info = sf.create_query_job(load_soql(fields, j.config.object_name));
        if (!job_info)
          return from_sf_error(job_info.error());
        auto t0 = clock_type::now();
        auto done = sf.wait_for_query_job(job_info->id, std::chrono::minutes(30));
        if (!done)
          return from_sf_error(done.error());
        if (done->state != salesforce::job_state::job_complete)
          return job_outcome::failure(outcome_kind::retry, "bulk query job " + done->id + " ended " +
                                                             done->state_text + ": " + done->error_message);
        auto reader = sf.query_job_results(job_info->id);
        bool bound = false;
        std::size_t bulk_stamp = 0;
        bool bad = false;
        while (!reader.done()) {
          auto t1 = clock_type::now();
          long page_rows = 0;
          auto page = reader.next_page([&](const csv::row& r) {
            if (bad)
              return;
            if (!bound) {
              conv.bind_csv_header(reader.columns());
              bulk_stamp = stamp ? index_of(reader.columns(), *stamp) : reader.columns().size();
              bound = true;
            }
            texts.resize(r.size());
            for (std::size_t i = 0; i < r.size(); ++i)
              texts[i] = r.is_null(i) ? std::string{} : std::string{r[i]};
            if (!conv.convert_csv(texts, row, error)) {
              bad = true;
              return;
            }
            if (bulk_stamp < texts.size())
              hwm.see(texts[bulk_stamp]);
            writer.write(row);
            ++page_rows;
          });
          if (!page)
            return from_sf_error(page.error());
          if (bad)
            return job_outcome::failure(outcome_kind::fatal, "bulk record: " + error);
          rows += page_rows;
          log_page(j, static_cast<std::size_t>(page_rows), seconds_since(t0), seconds_since(t1));
          t0 = clock_type::now();
        }
        sf.delete_query_job(job_info->id);
      }
      writer.complete();
    }
    swap_reload_table(tx, *spec);
    store::set_high_water_mark(tx, j.mapping_id, hwm.value());
    store::set_mapping_state(tx, j.mapping_id, "DATA_SYNCED", "");
    tx.commit();
    auto total_secs = seconds_since(load_start);
    log(spdlog::level::info,
        log_event{"Loaded table " + table + ": " + std::to_string(rows) + " rows in " + secs(total_secs) + " secs",
                  "sync", j.mapping_id, "RELOAD_TABLE"}
          .with("object_name", j.config.object_name)
          .with("rows_per_sec", std::to_string(static_cast<long>(total_secs > 0 ? rows / total_secs : 0))));
    job_outcome o;
    o.rows = rows;
    o.hwm = hwm.value().value_or("");
    o.api_calls = sf.requests_sent() - calls_before;
    return o;
  }

  job_outcome poll(worker_context& ctx, const mapping_job& j) override {
    auto spec_outcome = describe(ctx, j);
    if (!spec_outcome.ok())
      return spec_outcome;
    auto spec = cached(j.mapping_id);
    auto stamp = modstamp_field(j.config.fields);
    if (!stamp)
      return job_outcome::failure(outcome_kind::bad_config, "neither SystemModstamp nor LastModifiedDate is mapped");
    if (!j.hwm)
      return job_outcome::failure(outcome_kind::fatal, "poll without a high-water mark");
    auto& sf = ctx.sf(*j.user);
    auto calls_before = sf.requests_sent();
    {
      pqxx::work tx(ctx.db(), "poll_state");
      store::set_mapping_state(tx, j.mapping_id, "POLLING_SF_CHANGES", "");
      tx.commit();
    }
    wire_row_converter conv(*spec);
    const auto& fields = conv.soql_fields();
    conv.bind_csv_header(fields);
    auto stamp_index = index_of(fields, *stamp);
    auto soql = poll_soql(fields, j.config.object_name, *stamp, *j.hwm);
    log_sync(spdlog::level::debug, j, "Polling " + soql, "POLLING_SF_CHANGES");
    auto cursor = sf.query_all(soql);
    high_water_mark hwm(j.hwm);
    upsert_target target{spec->schema, spec->table, conv.columns(), spec->upsert_column, false};
    pg_row row;
    std::vector<std::string> texts;
    std::string error;
    long total = 0;
    upsert_stats sum;
    while (!cursor.done()) {
      auto t0 = clock_type::now();
      auto page = cursor.next_page();
      if (!page)
        return from_sf_error(page.error());
      auto query_secs = seconds_since(t0);
      auto t1 = clock_type::now();
      // Each page in its own transaction, with the mark it reached.
      pqxx::work tx(ctx.db(), "poll_page");
      upsert_loader loader(tx, target);
      for (const auto& r : page->records) {
        record_texts(r, fields, texts);
        if (!conv.convert_csv(texts, row, error))
          return job_outcome::failure(outcome_kind::fatal, "record " + texts[0] + ": " + error);
        if (stamp_index < texts.size())
          hwm.see(texts[stamp_index]);
        loader.write(row);
      }
      auto stats = loader.finish();
      store::set_high_water_mark(tx, j.mapping_id, hwm.value());
      tx.commit();
      total += static_cast<long>(page->records.size());
      sum.inserted += stats.inserted;
      sum.updated += stats.updated;
      sum.deleted += stats.deleted;
      sum.adopted += stats.adopted;
      if (!page->records.empty())
        log_page(j, page->records.size(), query_secs, seconds_since(t1), "UPSERT");
    }
    {
      pqxx::work tx(ctx.db(), "poll_done");
      store::set_mapping_state(tx, j.mapping_id, "DATA_SYNCED", "");
      tx.commit();
    }
    // Records re-read at the high-water mark that did not change are not news.
    auto changed = sum.inserted + sum.updated + sum.deleted + sum.adopted;
    log(changed > 0 ? spdlog::level::info : spdlog::level::debug,
        log_event{"Polling Salesforce found " + std::to_string(changed) + " updated records", "sync", j.mapping_id,
                  "POLLING_SF_CHANGES"}
          .with("object_name", j.config.object_name)
          .with("read", std::to_string(total))
                               .with("inserted", std::to_string(sum.inserted))
                               .with("updated", std::to_string(sum.updated))
                               .with("deleted", std::to_string(sum.deleted))
                               .with("adopted", std::to_string(sum.adopted)));
    job_outcome o;
    o.rows = total;
    o.hwm = hwm.value().value_or("");
    o.api_calls = sf.requests_sent() - calls_before;
    return o;
  }

  job_outcome save_state(worker_context& ctx, const mapping_job& j, const std::string& state,
                         const std::string& description) override {
    pqxx::work tx(ctx.db(), "save_state");
    store::set_mapping_state(tx, j.mapping_id, state, description);
    tx.commit();
    return {};
  }

private:
  static std::size_t index_of(const std::vector<std::string>& fields, const std::string& name) {
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (fields[i].size() == name.size() &&
          std::equal(fields[i].begin(), fields[i].end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        return i;
    return fields.size();
  }

  static void log_page(const mapping_job& j, std::size_t n, double query_secs, double db_secs,
                       const std::string& op = "INSERT") {
    log_sync(spdlog::level::info, j,
             j.config.object_name + " QUERY \xE2\x86\xB7SALESFORCE " + std::to_string(n) + " rows (" +
               secs(query_secs) + " secs)",
             "IDLE");
    log_sync(spdlog::level::debug, j,
             j.config.object_name + " " + op + " \xE2\x86\x93" "DATABASE " + std::to_string(n) + " rows (" +
               secs(db_secs) + " secs)",
             "IDLE");
  }

  /// The table spec of a mapping, from describe (cached per mapping and config).
  job_outcome describe(worker_context& ctx, const mapping_job& j) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto i = specs_.find(j.mapping_id);
      if (i != specs_.end() && i->second.first == j.config)
        return {};
    }
    auto& sf = ctx.sf(*j.user);
    auto d = sf.describe(j.config.object_name);
    if (!d)
      return from_sf_error(d.error());
    std::vector<sf_field_info> infos;
    for (const auto& f : d->fields) {
      auto t = parse_sf_field_type(f.type);
      if (!t)
        continue;
      infos.push_back(sf_field_info{f.name, *t, f.length});
    }
    auto spec = make_table_spec(j.schema, j.config, infos, j.ucs_basic_collation);
    if (!spec.ok()) {
      std::string msg;
      for (const auto& e : spec.errors)
        msg += (msg.empty() ? "" : "; ") + e;
      return job_outcome::failure(outcome_kind::bad_config, msg);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    specs_[j.mapping_id] = {j.config, std::make_shared<hc_table_spec>(std::move(*spec.spec))};
    return {};
  }

  std::shared_ptr<const hc_table_spec> cached(const std::string& mapping_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return specs_.at(mapping_id).second;
  }

  std::mutex mutex_;
  std::map<std::string, std::pair<mapping_config, std::shared_ptr<const hc_table_spec>>> specs_;
};

} // namespace

std::shared_ptr<sync_io> make_pg_sf_sync_io() { return std::make_shared<pg_sf_sync_io>(); }

} // namespace syncforce::actors
