// Scenario 1: the initial load of a 20-field object, through REST pages and
// through Bulk 2.0, next to raw COPY of the same rows (the PostgreSQL limit) and
// next to a client that only reads the same pages from sfemu (the API limit).
#include "bench/scenarios/harness.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <stdexcept>

namespace syncforce::bench {

namespace {

std::string select_all() {
  std::string soql = "SELECT ";
  auto fields = bench_mapping_fields();
  for (size_t i = 0; i < fields.size(); ++i)
    soql += (i ? ", " : "") + fields[i];
  return soql + " FROM " + bench_object;
}

long count_of(const std::string& text, const std::string& needle) {
  long n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

long count_records(std::string_view body) {
  static constexpr std::string_view key = "{\"attributes\":";
  long n = 0;
  for (auto at = body.find(key); at != std::string_view::npos; at = body.find(key, at + key.size()))
    ++n;
  return n;
}

std::string next_records_url(const std::string& body) {
  static const std::string key = "\"nextRecordsUrl\":\"";
  auto at = body.rfind(key);
  if (at == std::string::npos)
    return {};
  auto start = at + key.size();
  return body.substr(start, body.find('"', start) - start);
}

/// Reads every REST query page (2000 records each), as a client that only reads them: records/s.
double read_rest_pages(sfemu_api& emu, long expected) {
  auto& http = emu.http();
  std::string url = emu.rest("queryAll?q=" + http.escape(select_all() + " ORDER BY Id"));
  http_response page;
  page.body.reserve(4 << 20);
  long records = 0;
  auto start = clock_type::now();
  while (!url.empty()) {
    http.request("GET", url, {}, {}, page);
    expect(page, {200}, "query page");
    records += count_records(page.body);
    auto next = next_records_url(page.body);
    url = next.empty() ? std::string() : emu.base_url() + next;
  }
  double secs = seconds_since(start);
  if (records != expected)
    throw std::runtime_error("REST pages held " + std::to_string(records) + " records, expected " +
                             std::to_string(expected));
  return static_cast<double>(records) / secs;
}

/// A Bulk 2.0 query job: create, wait for JobComplete (polled every 5 ms; `job_secs`: until then),
/// read every results page: records/s.
double read_bulk_results(sfemu_api& emu, long expected, double& job_secs) {
  auto& http = emu.http();
  auto start = clock_type::now();
  json job{{"operation", "queryAll"}, {"query", select_all()}};
  auto created = expect(http.request("POST", emu.rest("jobs/query"), job.dump()), {200, 201}, "bulk query job");
  auto id = json::parse(created.body).at("id").get<std::string>();
  bool done = wait_until(
    [&] {
      auto r = expect(http.request("GET", emu.rest("jobs/query/" + id)), {200}, "bulk job status");
      auto state = json::parse(r.body).value("state", "");
      if (state == "Failed" || state == "Aborted")
        throw std::runtime_error("bulk query job " + state);
      return state == "JobComplete";
    },
    600s, 5ms);
  if (!done)
    throw std::runtime_error("bulk query job did not complete");
  job_secs = seconds_since(start);
  long records = 0;
  std::string locator;
  http_response page;
  while (true) {
    std::string url = emu.rest("jobs/query/" + id + "/results");
    if (!locator.empty())
      url += "?locator=" + http.escape(locator);
    http.request("GET", url, {}, {}, page, true);
    expect(page, {200}, "bulk results");
    long lines = 0;
    for (char c : page.body)
      lines += c == '\n';
    records += lines > 0 ? lines - 1 : 0; // header row; the bench data has no embedded newlines
    locator = page.headers.count("sforce-locator") ? page.headers["sforce-locator"] : "null";
    if (locator.empty() || locator == "null")
      break;
  }
  double secs = seconds_since(start);
  if (records != expected)
    throw std::runtime_error("Bulk results held " + std::to_string(records) + " records, expected " +
                             std::to_string(expected));
  return static_cast<double>(records) / secs;
}

/// A CHECKPOINT, so that every timed load (the node's and the COPY baselines) starts with no WAL behind it:
/// where the server's WAL-driven checkpoints fall inside a load of 1M rows decides how many full-page images
/// it writes. A guard: the baseline's large spread between runs came from the rows' order (copy_rate).
void checkpoint(const std::string& db_url) {
  try {
    pg_exec(db_url, "CHECKPOINT");
  } catch (const std::exception& e) {
    note(std::string("scenario 1: no CHECKPOINT before a timed load (") + e.what() + ")");
  }
}

struct load_figures {
  long rows = 0;
  double secs = 0;
  double rows_per_sec = 0;
  std::string log_line;
  json cpu; ///< cpu_between: the node, sfemu and PostgreSQL from the node's start to its `Loaded table` line
};

/// Runs one node load and reads the node's `Loaded table` line.
load_figures node_load(context& ctx, process& sfemu, const std::string& name, const std::string& db_url,
                       long rows, long bulk_threshold) {
  checkpoint(db_url);
  node_run node(ctx, name, db_url, node_config(ctx.sfemu_url, json::array({bench_mapping(false)})),
                {"--bulk-threshold", std::to_string(bulk_threshold)});
  const std::regex loaded(R"(event="(Loaded table [^:]+: (\d+) rows in ([0-9.]+) secs)\")");
  std::smatch m;
  std::string out;
  long timeouts = 0;
  // A load is given up when it stalls (no new log line and under 0.5 s of node CPU in `stall`) or
  // runs below 2,000 rows/s; it is then reported as not run instead of waited for.
  auto limit = std::chrono::seconds(std::max<long>(60, rows / 2000));
  const auto stall = std::chrono::seconds(ctx.quick ? 12 : 30);
  const auto cpu_before = sample_cpu(ctx, node.proc(), sfemu);
  const double node_cpu_before = cpu_before.node;
  const double sfemu_cpu_before = cpu_before.sfemu;
  auto mark_time = clock_type::now();
  size_t mark_size = 0;
  double mark_cpu = node_cpu_before;
  bool stalled = false;
  bool ok = wait_until(
    [&] {
      out = node.proc().output();
      if (std::regex_search(out, m, loaded))
        return true;
      timeouts = count_of(out, "error=TIMEOUT");
      if (clock_type::now() - mark_time >= stall) {
        double cpu = node.proc().cpu_seconds();
        stalled = out.size() == mark_size && cpu - mark_cpu < 0.5;
        mark_time = clock_type::now();
        mark_size = out.size();
        mark_cpu = cpu;
      }
      return stalled || timeouts > 0 || !node.proc().running();
    },
    limit, 100ms);
  const auto cpu_after = sample_cpu(ctx, node.proc(), sfemu);
  if (!ok || m.empty()) {
    bool running = node.proc().running();
    char cpu[160];
    std::snprintf(cpu, sizeof cpu, "; meanwhile the node used %.1f s of CPU and sfemu %.1f s",
                  node.proc().cpu_seconds() - node_cpu_before, sfemu.cpu_seconds() - sfemu_cpu_before);
    auto last = out.find_last_of('\n', out.size() >= 2 ? out.size() - 2 : 0);
    std::string last_line = last == std::string::npos ? out : out.substr(last + 1);
    while (!last_line.empty() && last_line.back() == '\n')
      last_line.pop_back();
    node.proc().stop(3s); // a stalled node may be waiting on a request: do not wait long for it
    std::string why = "the node logged no `Loaded table` line ";
    if (timeouts > 0) {
      std::smatch retry;
      std::regex retry_line(R"(event="salesforce retry" method=(\S+) path=(\S+) status=\S+ error=TIMEOUT)");
      std::regex_search(out, retry, retry_line);
      std::string request = retry.empty() ? std::string() : retry[1].str() + " " + retry[2].str();
      why += "(stopped at its first request timeout: `salesforce retry` " + request + " error=TIMEOUT)";
    } else if (stalled) {
      why += "(stalled: no new log line and under 0.5 s of node CPU for " + std::to_string(stall.count()) + " s)";
    } else {
      why += running ? "within " + std::to_string(limit.count()) + " s" : "(the node exited)";
    }
    std::smatch event;
    if (std::regex_search(last_line, event, std::regex(R"(event="[^"]*")")))
      last_line = event[0];
    throw std::runtime_error(why + (running ? std::string(cpu) : std::string()) + "; its last line: " +
                             last_line.substr(0, 200));
  }
  load_figures f;
  f.cpu = cpu_between(cpu_before, cpu_after);
  f.log_line = m[1];
  f.rows = std::stol(m[2]);
  f.secs = std::stod(m[3]);
  std::regex rate(R"(rows_per_sec=(\d+))");
  std::smatch r;
  std::string rest = m.suffix();
  auto eol = rest.find('\n');
  rest = rest.substr(0, eol);
  f.rows_per_sec = std::regex_search(rest, r, rate) ? std::stod(r[1]) : static_cast<double>(f.rows) / f.secs;
  if (!node.wait_state(bench_object, "DATA_SYNCED", 60s)) {
    node.stop();
    throw std::runtime_error("mapping did not reach DATA_SYNCED");
  }
  node.stop();
  long in_table = pg_count(db_url, std::string("SELECT count(*) FROM salesforce.") + bench_table);
  if (f.rows != rows || in_table != rows)
    throw std::runtime_error("the node loaded " + std::to_string(f.rows) + " rows (table holds " +
                             std::to_string(in_table) + "), expected " + std::to_string(rows));
  return f;
}

/// Raw COPY rates of the loaded rows (written to a CSV file first, in Id order: the order a client gets them
/// from Salesforce; the table's physical order depends on how the node's COPY streams interleaved, and moved
/// the indexed 1M COPY between 62k and 116k rows/s from run to run): into a
/// table of the same shape and indexes, and into one of the same columns
/// without any index.
struct copy_rates {
  double indexed = 0;
  double unindexed = 0;
  double indexed_postgres_cpu_secs = -1; ///< the server's CPU during the indexed COPY
};

copy_rates copy_rate(context& ctx, const std::string& db_url, long rows) {
  std::string csv_path = ctx.work_dir + "/copy_" + std::to_string(rows) + ".csv";
  std::string table = std::string("salesforce.") + bench_table;
  auto cols = pg_scalar(db_url, "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
                                "WHERE attrelid = '" + table + "'::regclass AND attnum > 0 AND NOT attisdropped "
                                "AND attname <> 'id'");
  if (!cols)
    throw std::runtime_error("cannot read the columns of " + table);
  auto dump = run_command({ctx.psql, db_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                           "\\copy (SELECT " + *cols + " FROM " + table + " ORDER BY sfid) TO '" + csv_path + "' CSV"},
                          ctx.log_path("copy_dump"));
  if (dump.code != 0)
    throw std::runtime_error("psql \\copy TO failed: " + dump.output);
  // The node's load leaves its table to autovacuum (an insert-driven VACUUM and an ANALYZE of every row),
  // which could otherwise run during a COPY baseline and slow it down: done here first, and the baseline
  // waits until no autovacuum worker is busy in this database.
  pg_exec(db_url, "VACUUM (ANALYZE) " + table);
  auto quiet = [&] {
    return pg_count(db_url, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' "
                            "AND datname = current_database()") == 0;
  };
  auto load_into = [&](const std::string& target, const std::string& like, double* postgres_cpu) {
    pg_exec(db_url, "CREATE TABLE " + target + " (LIKE " + table + " " + like + ")");
    if (!wait_until(quiet, 120s, 50ms))
      note("scenario 1: autovacuum still busy after 120 s; the COPY baseline runs beside it");
    checkpoint(db_url);
    const double cpu_before = ctx.postmaster > 0 ? postgres_cpu_seconds(ctx.postmaster) : -1;
    auto start = clock_type::now();
    auto load = run_command({ctx.psql, db_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                             "\\copy " + target + " (" + *cols + ") FROM '" + csv_path + "' CSV"},
                            ctx.log_path("copy_load"));
    double secs = seconds_since(start);
    if (postgres_cpu && cpu_before >= 0)
      *postgres_cpu = std::round((postgres_cpu_seconds(ctx.postmaster) - cpu_before) * 100) / 100;
    if (load.code != 0)
      throw std::runtime_error("psql \\copy FROM failed: " + load.output);
    long copied = pg_count(db_url, "SELECT count(*) FROM " + target);
    if (copied != rows)
      throw std::runtime_error("COPY loaded " + std::to_string(copied) + " rows, expected " + std::to_string(rows));
    return static_cast<double>(rows) / secs;
  };
  copy_rates out;
  try {
    out.indexed = load_into("public.copy_baseline", "INCLUDING ALL", &out.indexed_postgres_cpu_secs);
    out.unindexed = load_into("public.copy_baseline_bare", "INCLUDING DEFAULTS", nullptr);
  } catch (...) {
    std::remove(csv_path.c_str());
    throw;
  }
  std::remove(csv_path.c_str());
  return out;
}

/// The columns a `mapping:edit` adds back in the backfill measurement: a text, a
/// double and a datetime (text, numeric and timestamp conversions).
const std::vector<std::string>& backfill_columns() {
  static const std::vector<std::string> cols{"text_7__c", "number_4__c", "stamp__c"};
  return cols;
}

struct backfill_figures {
  long rows = 0;     ///< records read in the backfill
  long updated = 0;  ///< rows it changed
  double secs = 0;
  double rows_per_sec = 0;
  std::string log_line;
  long mismatches = 0; ///< rows whose backfilled values differ from the load's
  double reload_rows_per_sec = 0; ///< `mapping:reload` of the same table right after
  std::string reload_line;
};

/// A backfill of the loaded table, as after `mapping:edit --add-fields`: with the
/// node stopped, three mapped columns are dropped (their loaded values kept
/// aside); the node then starts with the same mapping, adds them again and
/// fills them for every row (RESYNC). The rate is the node's own `backfilled`
/// line; the values must equal the load's, NULLs and types included.
backfill_figures node_backfill(context& ctx, const std::string& db_url, long rows) {
  const std::string table = std::string("salesforce.") + bench_table;
  // The COPY baselines' id defaults use the table's sequence: the reload's swap could not drop the table.
  pg_exec(db_url, "DROP TABLE IF EXISTS public.copy_baseline, public.copy_baseline_bare");
  std::string cols;
  for (const auto& c : backfill_columns())
    cols += ", " + c;
  pg_exec(db_url, "CREATE TABLE public.backfill_expected AS SELECT sfid" + cols + " FROM " + table);
  for (const auto& c : backfill_columns())
    pg_exec(db_url, "ALTER TABLE " + table + " DROP COLUMN " + c);
  node_run node(ctx, "backfill_" + std::to_string(rows), db_url,
                node_config(ctx.sfemu_url, json::array({bench_mapping(false)})),
                {"--bulk-threshold", std::to_string(rows + 1)});
  const std::regex done(
    R"(event="(RESYNC [^:]+: backfilled (\d+) rows of columns [^"]* \(([0-9.]+) secs\))\"[^\n]*read=(\d+)[^\n]*rows_per_sec=(\d+))");
  std::smatch m;
  std::string out;
  bool ok = wait_until(
    [&] {
      out = node.proc().output();
      return std::regex_search(out, m, done) || !node.proc().running();
    },
    std::chrono::seconds(std::max<long>(120, rows / 1000)), 100ms);
  if (!ok || m.empty()) {
    node.proc().stop(3s);
    throw std::runtime_error("the node logged no `backfilled` line");
  }
  backfill_figures f;
  f.log_line = m[1];
  f.updated = std::stol(m[2]);
  f.secs = std::stod(m[3]);
  f.rows = std::stol(m[4]);
  f.rows_per_sec = std::stod(m[5]);
  if (!node.wait_state(bench_object, "DATA_SYNCED", 60s)) {
    node.stop();
    throw std::runtime_error("mapping did not reach DATA_SYNCED after the backfill");
  }
  // Then a reload of the same table (`mapping:reload`: the command the admin
  // API stores, and its wake-up): the populated table is replaced through the shadow.
  pg_exec(db_url, "UPDATE syncforce.mappings SET command = 'reload', command_at = now() WHERE object_name = '" +
                    std::string(bench_object) + "'");
  pg_exec(db_url, "SELECT pg_notify('syncforce_control', connection_id::text) FROM syncforce.mappings WHERE "
                  "object_name = '" + std::string(bench_object) + "'");
  const std::regex reloaded(R"(event="(Loaded table [^:]+: (\d+) rows in ([0-9.]+) secs)\"[^\n]*rows_per_sec=(\d+))");
  std::smatch rm;
  ok = wait_until(
    [&] {
      out = node.proc().output();
      return std::regex_search(out, rm, reloaded) || !node.proc().running();
    },
    std::chrono::seconds(std::max<long>(120, rows / 1000)), 100ms);
  if (ok && !rm.empty()) {
    f.reload_line = rm[1];
    f.reload_rows_per_sec = std::stod(rm[4]);
  }
  if (!node.wait_state(bench_object, "DATA_SYNCED", 60s)) {
    node.stop();
    throw std::runtime_error("mapping did not reach DATA_SYNCED after the reload");
  }
  node.stop();
  std::string differ;
  for (const auto& c : backfill_columns())
    differ += std::string(differ.empty() ? "" : " OR ") + "t." + c + " IS DISTINCT FROM e." + c +
              " OR pg_typeof(t." + c + ") <> pg_typeof(e." + c + ")";
  f.mismatches = pg_count(db_url, "SELECT count(*) FROM public.backfill_expected e FULL JOIN " + table +
                                    " t ON t.sfid = e.sfid WHERE t.sfid IS NULL OR e.sfid IS NULL OR " + differ);
  if (f.rows != rows)
    throw std::runtime_error("the backfill read " + std::to_string(f.rows) + " records, expected " +
                             std::to_string(rows));
  return f;
}

json one_size(context& ctx, long rows) {
  auto sfemu = start_sfemu(ctx, "sfemu_load_" + std::to_string(rows));
  sfemu_api emu(ctx.sfemu_url);
  note("scenario 1: " + std::to_string(rows) + " records into sfemu");
  emu.reset();
  emu.define(bench_schema());
  auto start = clock_type::now();
  load_bench_records(emu, rows);
  double sfemu_load_secs = seconds_since(start);
  emu.login();

  note("scenario 1: client reading REST pages, then Bulk 2.0 results");
  double rest_read = read_rest_pages(emu, rows);
  double bulk_job_secs = 0;
  double bulk_read = read_bulk_results(emu, rows, bulk_job_secs);

  json out{{"rows", rows}, {"fields", bench_data_fields().size()}, {"sfemu_fill_secs", sfemu_load_secs},
           {"client_read_rest_rows_per_sec", std::round(rest_read)},
           {"client_read_bulk_rows_per_sec", std::round(bulk_read)},
           {"client_bulk_job_secs", std::round(bulk_job_secs * 1000) / 1000}};
  double copy = 0;
  double bare_copy = 0;
  for (const auto& [via, threshold] : {std::pair<std::string, long>{"rest", rows + 1}, {"bulk", 10000}}) {
    note("scenario 1: syncforced load of " + std::to_string(rows) + " rows via " + via);
    scratch_db db(ctx.admin_url, ctx.next_db_name("load"));
    load_figures f;
    try {
      f = node_load(ctx, *sfemu, "load_" + via + "_" + std::to_string(rows), db.url(), rows, threshold);
    } catch (const std::exception& e) {
      out[via] = json{{"bulk_threshold", threshold}, {"not_run", e.what()}};
      note("scenario 1: " + via + ": not run: " + e.what());
      continue;
    }
    if (copy == 0) {
      note("scenario 1: raw COPY of the same rows");
      auto rates = copy_rate(ctx, db.url(), rows);
      copy = rates.indexed;
      bare_copy = rates.unindexed;
      out["copy_rows_per_sec"] = std::round(copy);
      out["copy_unindexed_rows_per_sec"] = std::round(bare_copy);
      out["copy_postgres_cpu_secs"] = rates.indexed_postgres_cpu_secs;
    }
    double client = via == "rest" ? rest_read : bulk_read;
    out[via] = json{{"bulk_threshold", threshold},
                    {"secs", f.secs},
                    {"rows_per_sec", std::round(f.rows_per_sec)},
                    {"log_line", f.log_line},
                    {"ratio_to_copy", ratio(f.rows_per_sec, copy)},
                    {"ratio_to_unindexed_copy", ratio(f.rows_per_sec, bare_copy)},
                    {"ratio_to_client_read", ratio(f.rows_per_sec, client)},
                    {"cpu", f.cpu},
                    // The best ratio this much CPU allows on this machine's cores, however well it overlapped.
                    {"ratio_ceiling_to_copy", ratio(rate_ceiling(f.cpu, static_cast<double>(rows)), copy)}};
    if (via == "rest") {
      // The same table backfilled, against its REST load (the path a reload takes) of this run.
      note("scenario 1: backfill of " + std::to_string(backfill_columns().size()) + " columns of the same table");
      try {
        auto b = node_backfill(ctx, db.url(), rows);
        out["backfill"] = json{{"columns", backfill_columns()},
                               {"rows", b.rows},
                               {"updated", b.updated},
                               {"secs", b.secs},
                               {"rows_per_sec", std::round(b.rows_per_sec)},
                               {"log_line", b.log_line},
                               {"values_differing_from_load", b.mismatches},
                               {"ratio_to_rest_load", ratio(b.rows_per_sec, f.rows_per_sec)},
                               {"reload_rows_per_sec", b.reload_line.empty() ? json() : json(std::round(b.reload_rows_per_sec))},
                               {"reload_log_line", b.reload_line},
                               {"ratio_to_reload", b.reload_line.empty() ? json() : ratio(b.rows_per_sec, b.reload_rows_per_sec)}};
      } catch (const std::exception& e) {
        out["backfill"] = json{{"not_run", e.what()}};
        note("scenario 1: backfill: not run: " + std::string(e.what()));
      }
    }
  }
  sfemu->stop(2s); // a stalled request may still be running in it
  return out;
}

} // namespace

json scenario_load(context& ctx) {
  std::vector<long> sizes{100000};
  if (!ctx.quick)
    sizes.push_back(1000000);
  json runs = json::array();
  for (long rows : sizes) {
    try {
      runs.push_back(one_size(ctx, rows));
    } catch (const std::exception& e) {
      runs.push_back(json{{"rows", rows}, {"not_run", e.what()}});
    }
  }
  return json{{"runs", runs}};
}

} // namespace syncforce::bench
