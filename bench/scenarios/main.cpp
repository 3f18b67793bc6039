// bench_scenarios: runs the scenarios of bench/run against a PostgreSQL server
// that bench/run started (each scenario starts its own sfemu), and writes the report (JSON and Markdown).
//
//   bench_scenarios --database-url URL --sfemu PATH --syncforced PATH --bench-micro PATH --psql PATH
//                   --work-dir DIR --json FILE --markdown FILE [--quick] [--only 1,3]
#include "bench/scenarios/harness.hpp"

#include <CLI/CLI.hpp>
#include <pqxx/pqxx>

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

namespace syncforce::bench {

namespace {

std::string first_line_with(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0)
      return line;
  return {};
}

std::string after_colon(const std::string& line) {
  auto c = line.find(':');
  if (c == std::string::npos)
    return {};
  auto b = line.find_first_not_of(" \t", c + 1);
  return b == std::string::npos ? std::string() : line.substr(b);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

} // namespace

json machine_info(const context& ctx) {
  utsname u{};
  uname(&u);
  long mem_kb = std::strtol(after_colon(first_line_with("/proc/meminfo", "MemTotal")).c_str(), nullptr, 10);
  return json{{"cores", sysconf(_SC_NPROCESSORS_ONLN)},
              {"memory_mb", mem_kb / 1024},
              {"cpu_model", after_colon(first_line_with("/proc/cpuinfo", "model name"))},
              {"kernel", std::string(u.sysname) + " " + u.release},
              {"postgresql", pg_scalar(ctx.admin_url, "SHOW server_version").value_or("?")},
              {"load_average_at_start", load_average()}};
}

// ---- scenario 5: micro-benchmarks ---------------------------------------------------------

json scenario_micro(context& ctx) {
  std::string out_path = ctx.work_dir + "/bench_micro.json";
  std::vector<std::string> argv{ctx.bench_micro, "--benchmark_out=" + out_path, "--benchmark_out_format=json",
                                "--benchmark_format=console"};
  if (ctx.quick)
    argv.push_back("--benchmark_min_time=0.05");
  note("scenario 5: bench_micro");
  auto r = run_command(argv, ctx.log_path("bench_micro"), std::chrono::minutes(10));
  if (r.code != 0)
    return json{{"not_run", "bench_micro exited with " + std::to_string(r.code) + " (see " +
                              ctx.log_path("bench_micro") + ")"}};
  std::ifstream in(out_path);
  json raw = json::parse(in, nullptr, false);
  if (raw.is_discarded() || !raw.contains("benchmarks"))
    return json{{"not_run", "bench_micro wrote no JSON"}};
  json list = json::array();
  std::map<std::string, double> ns;
  for (const auto& b : raw["benchmarks"]) {
    if (b.value("run_type", "iteration") != "iteration")
      continue;
    std::string unit = b.value("time_unit", "ns");
    double scale = unit == "ms" ? 1e6 : unit == "us" ? 1e3 : unit == "s" ? 1e9 : 1;
    double real_ns = b.value("real_time", 0.0) * scale;
    std::string name = b.value("name", "");
    ns[name] = real_ns;
    json item{{"name", name}, {"real_time", b.value("real_time", 0.0)}, {"time_unit", unit},
              {"iterations", b.value("iterations", 0L)}};
    if (b.contains("items_per_second"))
      item["items_per_second"] = std::round(b["items_per_second"].get<double>());
    if (b.contains("bytes_per_second"))
      item["mb_per_second"] = std::round(b["bytes_per_second"].get<double>() / 1e6 * 10) / 10;
    list.push_back(item);
  }
  // Pairs measured in the same binary: the alternative against its baseline (time ratio; < 1 is faster).
  json pairs = json::array();
  auto pair = [&](const std::string& what, const std::string& name, const std::string& base) {
    if (ns.count(name) && ns.count(base))
      pairs.push_back({{"what", what}, {"benchmark", name}, {"baseline", base}, {"time_ratio", ratio(ns[name], ns[base])}});
  };
  pair("JSON page decode: simdjson on-demand vs nlohmann", "BM_query_page_simdjson_ondemand", "BM_query_page_nlohmann");
  pair("SOQL ORDER BY over 1M records: extracted keys vs plain", "BM_soql_order_by_extracted_keys/1000000",
       "BM_soql_order_by/1000000");
  pair("SOQL poll query: compile vs parse", "BM_soql_compile_poll_query", "BM_soql_parse_poll_query");
  pair("hstore of 40 columns: parse vs write", "BM_hstore_parse/40", "BM_hstore_write/40");
  pair("CSV of 10,000 rows: decode vs encode", "bm_csv_decode/10000", "bm_csv_encode/10000");
  return json{{"benchmarks", list}, {"pairs", pairs}, {"context", raw.value("context", json::object())}};
}

// ---- the Markdown report --------------------------------------------------------------------

namespace {

std::string fmt_num(const json& v, int decimals = 0) {
  if (v.is_null())
    return "n/a";
  if (!v.is_number())
    return v.dump();
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(decimals);
  s << v.get<double>();
  std::string text = s.str();
  if (decimals == 0) { // thousands separators for readability
    auto dot = text.size();
    bool negative = !text.empty() && text[0] == '-';
    for (long i = static_cast<long>(dot) - 3; i > (negative ? 1 : 0); i -= 3)
      text.insert(static_cast<size_t>(i), ",");
  }
  return text;
}

std::string fmt_ratio(const json& v) {
  return v.is_null() ? "n/a" : fmt_num(v, 3);
}

std::string not_run(const json& v) {
  return "not run: " + v["not_run"].get<std::string>();
}

/// Where each load's CPU went, and the best ratio that much CPU allows on this machine.
void render_load_cpu(std::ostringstream& md, const json& s) {
  std::ostringstream rows;
  for (const auto& r : s["runs"]) {
    for (const char* via : {"rest", "bulk"}) {
      if (!r.contains(via) || !r[via].contains("cpu") || !r[via]["cpu"].contains("total_secs"))
        continue;
      const auto& v = r[via];
      const auto& c = v["cpu"];
      rows << "| " << fmt_num(r["rows"]) << " | " << (std::string(via) == "rest" ? "REST" : "Bulk 2.0") << " | "
           << fmt_num(c["node_secs"], 2) << " | " << fmt_num(c["sfemu_secs"], 2) << " | "
           << fmt_num(c["postgres_secs"], 2) << " | " << fmt_num(c["total_secs"], 2) << " | "
           << fmt_num(c["floor_secs"], 2) << " | " << fmt_num(v["secs"], 2) << " | "
           << fmt_ratio(v.value("ratio_ceiling_to_copy", json())) << " | "
           << fmt_num(r.value("copy_postgres_cpu_secs", json()), 2) << " | "
           << (std::string(via) == "bulk" ? fmt_num(r.value("client_bulk_job_secs", json()), 2) : std::string())
           << " |\n";
    }
  }
  if (rows.str().empty())
    return;
  md << "Where each load's CPU went (seconds, from the node's start to its `Loaded table` line):\n\n"
        "| rows | via | node | sfemu | PostgreSQL | total | floor: total / cores | load took | ratio ceiling to "
        "COPY | indexed `\\copy`: PostgreSQL CPU | Bulk job in sfemu |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
     << rows.str()
     << "\nThe floor is the least wall time that much CPU needs on this machine's cores however well fetching, "
        "decoding and COPY overlap; the ratio ceiling is the ratio to COPY a load would reach at that floor. "
        "sfemu runs on the same cores here (against Salesforce its share is on Salesforce's servers), and the "
        "COPY baseline's own PostgreSQL CPU is in its column. Bulk job in sfemu: from the query job's creation "
        "until a client polling every 5 ms sees it complete, before any row can be read (the client-only read).\n\n";
}

void render_load(std::ostringstream& md, const json& s) {
  md << "## 1. Initial load (20-field object)\n\n";
  md << "| rows | via | Syncforce rows/s | raw COPY rows/s | ratio to COPY | unindexed COPY rows/s | ratio to "
        "unindexed COPY | client-only read rows/s | ratio to client read |\n|---:|---|---:|---:|---:|---:|---:|---:|"
        "---:|\n";
  for (const auto& r : s["runs"]) {
    if (r.contains("not_run")) {
      md << "| " << fmt_num(r["rows"]) << " | | " << not_run(r) << " | | | | |\n";
      continue;
    }
    for (const char* via : {"rest", "bulk"}) {
      if (!r.contains(via))
        continue;
      const auto& v = r[via];
      if (v.contains("not_run")) {
        md << "| " << fmt_num(r["rows"]) << " | " << (std::string(via) == "rest" ? "REST pages of 2000" : "Bulk 2.0")
           << " | " << not_run(v) << " | " << fmt_num(r.value("copy_rows_per_sec", json())) << " | | "
           << fmt_num(r.value("copy_unindexed_rows_per_sec", json())) << " | | "
           << fmt_num(r[std::string("client_read_") + via + "_rows_per_sec"]) << " | |\n";
        continue;
      }
      std::string client_key = std::string("client_read_") + via + "_rows_per_sec";
      md << "| " << fmt_num(r["rows"]) << " | " << (std::string(via) == "rest" ? "REST pages of 2000" : "Bulk 2.0")
         << " | " << fmt_num(v["rows_per_sec"]) << " | " << fmt_num(r["copy_rows_per_sec"]) << " | "
         << fmt_ratio(v["ratio_to_copy"]) << " | " << fmt_num(r.value("copy_unindexed_rows_per_sec", json()))
         << " | " << fmt_ratio(v.value("ratio_to_unindexed_copy", json())) << " | " << fmt_num(r[client_key]) << " | "
         << fmt_ratio(v["ratio_to_client_read"]) << " |\n";
    }
  }
  md << "\nSyncforce rows/s is the node's own `Loaded table` line (mark, count, every page, COPY into the shadow "
        "table with a checkpoint per page, swap). Raw COPY: `psql \\copy` of the same rows from a CSV file into "
        "`CREATE TABLE ... (LIKE <table> INCLUDING ALL)` (same columns and indexes); unindexed COPY: the same "
        "file into `(LIKE <table> INCLUDING DEFAULTS)` (same columns, no index, no key). Client read: one keep-alive "
        "libcurl client reading the same query (REST `queryAll` pages of 2000 in Id order; Bulk 2.0 `queryAll` "
        "job: create, wait, read results) and doing nothing with them.\n\n";
  render_load_cpu(md, s);
  bool any_backfill = false;
  for (const auto& r : s["runs"])
    any_backfill = any_backfill || r.contains("backfill");
  if (!any_backfill)
    return;
  md << "Backfill after `mapping:edit` (the REST-loaded table of the row above, three columns dropped and added "
        "back), then a `mapping:reload` of the same table:\n\n| rows | columns | backfill rows/s | reload rows/s | ratio "
        "to reload | first REST load rows/s | ratio to first load | values differing from the load |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : s["runs"]) {
    if (!r.contains("backfill"))
      continue;
    const auto& b = r["backfill"];
    if (b.contains("not_run")) {
      md << "| " << fmt_num(r["rows"]) << " | | " << not_run(b) << " | | | |\n";
      continue;
    }
    std::string cols;
    for (const auto& c : b["columns"])
      cols += (cols.empty() ? "" : ", ") + c.get<std::string>();
    md << "| " << fmt_num(r["rows"]) << " | " << cols << " | " << fmt_num(b["rows_per_sec"]) << " | "
       << fmt_num(b.value("reload_rows_per_sec", json())) << " | " << fmt_ratio(b.value("ratio_to_reload", json()))
       << " | " << fmt_num(r["rest"].value("rows_per_sec", json())) << " | " << fmt_ratio(b["ratio_to_rest_load"])
       << " | " << fmt_num(b["values_differing_from_load"]) << " |\n";
  }
  md << "\nBackfill rows/s: the node's own `RESYNC ... backfilled` line (records read / its seconds: one REST query "
        "of Id and the three fields, every page applied with one UPDATE join). Reload: the `Loaded table` line of "
        "the `mapping:reload` that follows (REST pages, COPY into the shadow, key and index builds, the swap that "
        "keeps ids and local changes). Values differing: rows whose backfilled values (or types) are not those of "
        "the load (must be 0).\n\n";
}

void render_write(std::ostringstream& md, const json& s) {
  md << "## 2. Write-back of " << fmt_num(s["records"]) << " inserts and " << fmt_num(s["records"])
     << " updates made in SQL\n\n";
  const auto& b = s["baseline"];
  if (b.contains("not_run"))
    md << "Baseline: " << not_run(b) << "\n\n";
  else
    md << "Baseline (a plain client, collections of 200, one after another): inserts "
       << fmt_num(b["insert_records_per_sec"]) << " records/s, updates " << fmt_num(b["update_records_per_sec"])
       << " records/s, " << fmt_num(b["api_calls"]) << " API calls.\n\n";
  md << "| mode | op | records/s | ratio to baseline | writer alone records/s | writer alone ratio | s in the SQL "
        "statement | s to sfemu | s until every sfid is back | API calls (node user) | calls by route |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const char* mode : {"ordered_collections", "ordered_bulk", "merged"}) {
    if (!s["variants"].contains(mode))
      continue;
    const auto& v = s["variants"][mode];
    if (v.contains("not_run")) {
      md << "| " << mode << " | | " << not_run(v) << " | | | |\n";
      continue;
    }
    for (const char* op : {"insert", "update"}) {
      if (!v.contains(op))
        continue;
      const auto& o = v[op];
      if (o.contains("not_run")) {
        md << "| " << mode << " | " << op << " | " << not_run(o) << " | | | |\n";
        continue;
      }
      md << "| " << mode << " | " << op << " | " << fmt_num(o["records_per_sec"]) << " | "
         << fmt_ratio(o["ratio_to_baseline"]) << " | "
         << (o.contains("writer_records_per_sec") ? fmt_num(o["writer_records_per_sec"]) : "") << " | "
         << (o.contains("writer_ratio_to_baseline") ? fmt_ratio(o["writer_ratio_to_baseline"]) : "") << " | "
         << (o.contains("secs_in_sql_statement") ? fmt_num(o["secs_in_sql_statement"], 2) : "") << " | "
         << fmt_num(o["secs_to_sfemu"], 2) << " | "
         << (o.contains("secs_until_sfids_written_back") ? fmt_num(o["secs_until_sfids_written_back"], 2) : "")
         << " | " << fmt_num(o["api"]["node_user_calls"]) << " | " << o["api"]["by_route"].dump() << " |\n";
    }
  }
  std::string batches;
  for (const char* mode : {"ordered_collections", "ordered_bulk", "merged"}) {
    if (!s["variants"].contains(mode) || !s["variants"][mode].contains("write_lines"))
      continue;
    const auto& w = s["variants"][mode]["write_lines"];
    batches += std::string(batches.empty() ? "" : "; ") + mode + " " + fmt_num(w["via_bulk"]) + " Bulk, " +
               fmt_num(w["via_soap"]) + " collections" +
               (w["bulk_fallbacks"].get<long>() > 0 ? ", " + fmt_num(w["bulk_fallbacks"]) + " Bulk fallbacks" : "");
  }
  if (!batches.empty())
    md << "\nBatches in the node's log (`↑SALESFORCE` lines): " << batches << ".\n";
  std::ostringstream cpu_rows;
  for (const char* mode : {"ordered_collections", "ordered_bulk", "merged"}) {
    if (!s["variants"].contains(mode))
      continue;
    for (const char* op : {"insert", "update"}) {
      const auto& v = s["variants"][mode];
      if (!v.contains(op) || !v[op].contains("writer_cpu") || !v[op]["writer_cpu"].contains("total_secs"))
        continue;
      const auto& o = v[op];
      const auto& c = o["writer_cpu"];
      cpu_rows << "| " << mode << " | " << op << " | " << fmt_num(c["node_secs"], 2) << " | "
               << fmt_num(c["sfemu_secs"], 2) << " | " << fmt_num(c["postgres_secs"], 2) << " | "
               << fmt_num(c["total_secs"], 2) << " | " << fmt_num(c["floor_secs"], 2) << " | "
               << fmt_num(o["writer_secs"], 2) << " | " << fmt_ratio(o.value("writer_ratio_ceiling", json()))
               << " |\n";
    }
  }
  if (!cpu_rows.str().empty()) {
    md << "\nWhere the writer-alone span's CPU went (seconds):\n\n| mode | op | node | sfemu | PostgreSQL | total | "
          "floor: total / cores | writer alone took | writer alone ratio ceiling |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
       << cpu_rows.str();
    if (b.contains("insert_cpu"))
      md << "\nThe plain client's inserts used " << fmt_num(b["insert_cpu"]["client_secs"], 2) << " s of its own "
         << "CPU and " << fmt_num(b["insert_cpu"]["sfemu_secs"], 2) << " s of sfemu's. ";
    md << "The floor is the least wall time that much CPU needs on this machine's cores however well claiming, "
          "sending and recording overlap; the ceiling is the writer-alone ratio at that floor. sfemu's share "
          "includes answering the probe's counts.\n";
  }
  md << "\nRecords/s: from the start of the SQL statement until sfemu counts every record (inserts) or every new "
        "value (updates), probed with `SELECT COUNT()` by a second sfemu user. S in the SQL statement: the "
        "statement alone, until its commit (the capture triggers writing `_trigger_log` included): no writer can "
        "be faster than that. Writer alone: from the statement's commit until sfemu counts every record (the "
        "same end, without the statement), and its ratio to the same baseline: the target of issue 16 is read "
        "against this one (bench/README.md says why). API calls: sfemu's counter of the node's user over the same span (by route, without "
        "`query`, the probe's route).\n\n";
}

void render_latency(std::ostringstream& md, const json& s) {
  md << "## 3. Latency\n\n| path | load | samples | p50 ms | p95 ms | p99 ms | max ms | baseline | p50 ratio |\n"
        "|---|---|---:|---:|---:|---:|---:|---|---:|\n";
  auto load_of = [](const json& r, bool loaded) -> std::string {
    if (!loaded)
      return "idle";
    if (!r.contains("background"))
      return "background";
    const auto& b = r["background"];
    return "background: " + fmt_num(b["pg_inserts_per_sec"]) + " inserts/s in PostgreSQL, " +
           fmt_num(b["sfemu_updates_per_sec"]) + " updates/s in sfemu" +
           (b.contains("error") ? " (" + b["error"].get<std::string>() + ")" : "");
  };
  for (bool loaded : {false, true}) {
    const auto& a = s[loaded ? "commit_to_sfemu_loaded" : "commit_to_sfemu"];
    if (a.is_null())
      continue;
    if (a.contains("not_run"))
      md << "| (a) commit in PostgreSQL -> visible in sfemu | " << load_of(a, loaded) << " | | " << not_run(a)
         << " | | | | | |\n";
    else
      md << "| (a) commit in PostgreSQL -> visible in sfemu | " << load_of(a, loaded) << " | " << fmt_num(a["count"])
         << " | " << fmt_num(a["p50_ms"], 1) << " | " << fmt_num(a["p95_ms"], 1) << " | " << fmt_num(a["p99_ms"], 1)
         << " | " << fmt_num(a["max_ms"], 1) << " | one 1-record collection call from a plain client: "
         << fmt_num(a["single_create_call_p50_ms"], 2) << " ms | " << fmt_ratio(a["p50_ratio_to_single_create_call"])
         << " |\n";
  }
  for (bool loaded : {false, true}) {
    const auto& b = s[loaded ? "sfemu_to_pg_loaded" : "sfemu_to_pg"];
    if (b.is_null())
      continue;
    if (b.contains("not_run"))
      md << "| (b) change in sfemu -> visible in PostgreSQL | " << load_of(b, loaded) << " | | " << not_run(b)
         << " | | | | | |\n";
    else
      md << "| (b) change in sfemu -> visible in PostgreSQL (polling every " << fmt_num(b["polling_interval_secs"])
         << " s) | " << load_of(b, loaded) << " | " << fmt_num(b["count"]) << " | " << fmt_num(b["p50_ms"], 1)
         << " | " << fmt_num(b["p95_ms"], 1) << " | " << fmt_num(b["p99_ms"], 1) << " | " << fmt_num(b["max_ms"], 1)
         << " | polling interval " << fmt_num(b["polling_interval_secs"]) << " s | "
         << fmt_ratio(b["p50_ratio_to_polling_interval"]) << " |\n";
  }
  const auto& a = s["commit_to_sfemu"];
  md << "\n(a) single-row INSERTs (autocommit) one after another, each probed by external id every ~1 ms (a fresh "
        "connection per probe; probe round trip p50 "
     << (a.contains("probe_round_trip_p50_ms") ? fmt_num(a["probe_round_trip_p50_ms"], 2) : std::string("n/a"))
     << " ms). "
        "(b) one PATCH at a time after a seeded random pause of 0..1 s, PostgreSQL probed every ~2 ms; "
        "`SYNCFORCE_TEST_POLL_SECONDS=1` (Heroku Connect's minimum is 120 s). "
        "Under load: a second read-write mapping of the same connection (`Load_Object__c`) takes "
     << (s.contains("background_records_per_sec_each_way") ? fmt_num(s["background_records_per_sec_each_way"])
                                                              : std::string("n/a"))
     << " records/s each way on a fixed schedule (multi-row INSERTs in PostgreSQL, written back; collection "
        "PATCHes of its records in sfemu, polled in every 1 s, so (a) under load polls every 1 s too), "
        "from 2 s before the first sample to the last; the achieved rates are in the load column, and the "
        "JSON says how many background inserts were not yet written back when it stopped.\n\n";
}

void render_mappings(std::ostringstream& md, const json& s) {
  md << "## 4. Cost per mapping (idle, polling every 3600 s)\n\n"
        "| mappings | RSS MB | RSS ratio to 0 | RSS kB per mapping | PG connections | connections ratio to 0 | "
        "idle CPU % | idle CPU ratio to 0 | threads | start to all synced s |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : s["runs"]) {
    if (r.contains("not_run")) {
      md << "| " << fmt_num(r["mappings"]) << " | " << not_run(r) << " | | | | | | | | |\n";
      continue;
    }
    md << "| " << fmt_num(r["mappings"]) << " | " << fmt_num(json(r["rss_kb"].get<double>() / 1024), 1) << " | "
       << fmt_ratio(r.value("rss_ratio_to_0", json())) << " | " << fmt_num(r.value("rss_kb_per_mapping", json()), 1)
       << " | " << fmt_num(r["pg_connections"]) << " | " << fmt_ratio(r.value("pg_connections_ratio_to_0", json()))
       << " | " << fmt_num(r["idle_cpu_percent"], 1) << " | " << fmt_ratio(r.value("idle_cpu_ratio_to_0", json()))
       << " | " << fmt_num(r["threads"]) << " | " << fmt_num(r["startup_to_all_synced_secs"], 1) << " |\n";
  }
  md << "\nRSS: VmRSS of syncforced once every mapping is DATA_SYNCED (+1 s). Connections: `pg_stat_activity` of the "
        "node's database. Idle CPU: utime+stime from /proc/<pid>/stat over a "
     << fmt_num(s["idle_window_secs"]) << " s window (resolution 10 ms; a ratio is n/a when the baseline used none).\n\n";
}

void render_micro(std::ostringstream& md, const json& s) {
  md << "## 5. Micro-benchmarks (bench_micro, Google Benchmark)\n\n";
  if (s.contains("not_run")) {
    md << not_run(s) << "\n\n";
    return;
  }
  md << "| pair | time ratio (< 1: faster than its baseline) |\n|---|---:|\n";
  for (const auto& p : s["pairs"])
    md << "| " << p["what"].get<std::string>() << " | " << fmt_ratio(p["time_ratio"]) << " |\n";
  md << "\n| benchmark | time | items/s | MB/s |\n|---|---:|---:|---:|\n";
  for (const auto& b : s["benchmarks"])
    md << "| " << b["name"].get<std::string>() << " | " << fmt_num(b["real_time"], 3) << " "
       << b["time_unit"].get<std::string>() << " | " << fmt_num(b.value("items_per_second", json())) << " | "
       << fmt_num(b.value("mb_per_second", json()), 1) << " |\n";
  md << "\nAbsolute times are for this machine only; compare the pairs.\n\n";
}

void render_cutover(std::ostringstream& md, const json& s) {
  md << "## 6. Schema-swap cutover (`syncforce cutover`, issue 19)\n\n";
  if (s.contains("not_run")) {
    md << not_run(s) << "\n\n";
    return;
  }
  md << "| rows | writes refused (fence to switch) ms | gap the application saw ms | its write round trip p50 ms | "
        "gap / round trip | refused writes | inserts | in sfemu | under 5 s |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  const double p50 = s["app_write_round_trip"].value("p50_ms", 0.0);
  md << "| " << fmt_num(s["rows"]) << " | " << fmt_num(s["write_downtime_ms"]) << " | "
     << fmt_num(s.value("app_observed_gap_ms", json())) << " | " << fmt_num(json(p50), 2) << " | "
     << fmt_ratio(ratio(s.value("app_observed_gap_ms", 0.0), p50)) << " | " << fmt_num(s["app_refused_writes"]) << " | "
     << fmt_num(s["app_inserts"]) << " | " << fmt_num(s["app_inserts_in_sfemu"]) << " | "
     << (s["under_5_s"].get<bool>() ? "yes" : "NO") << " |\n\n";
  md << "Steps:\n\n";
  for (const auto& step : s["steps"])
    md << "- " << step.get<std::string>() << "\n";
  md << "\n" << s["how"].get<std::string>() << ". The second connection's initial load (connection:clone) took "
     << fmt_num(s["clone_load_secs"], 1) << " s while the first kept syncing. Baseline: the application's own write "
        "round trip in the same run (the resolution of the observed gap).\n\n";
}

void render_cluster(std::ostringstream& md, const json& s) {
  md << "## 7. Cluster (docs/cluster.md, issue 13)\n\n";
  if (s.contains("not_run")) {
    md << not_run(s) << "\n\n";
    return;
  }
  md << "| mappings | one node: RSS kB | three nodes: shares | RSS kB per node | RSS per node / one node | "
        "join to balanced s | kill -9 to rebalanced s | shares after |\n"
        "|---:|---:|---|---|---:|---:|---:|---|\n";
  md << "| " << fmt_num(s["mappings"]) << " | " << fmt_num(s["single_node_rss_kb"]) << " | "
     << s["shares_after_join"].dump() << " | " << s["rss_kb_per_node"].dump() << " | "
     << fmt_ratio(s["rss_ratio_per_node_to_single"]) << " | " << fmt_num(s["join_to_balanced_secs"], 1) << " | "
     << fmt_num(s["kill9_to_rebalanced_secs"], 1) << " | " << s["shares_after_kill9"].dump() << " |\n\n";
  md << "One node runs every mapping first (the baseline), then two nodes join and the cluster spreads the units "
        "(each mapping's read side and the integration user's broker; lease TTL "
     << fmt_num(s["lease_ttl_ms"]) << " ms, heartbeat " << fmt_num(s["heartbeat_interval_ms"])
     << " ms); then one node is killed and the two left take its units.\n\n";
}

} // namespace

void render_tie(std::ostringstream& md, const json& s) {
  md << "## 8. Idle polls over a SystemModstamp tie (docs/sync-read.md, issue 14)\n\n";
  if (s.contains("not_run")) {
    md << not_run(s) << "\n\n";
    return;
  }
  md << "| records at one stamp | polls | API calls (sfemu) | calls per idle poll | rows read per idle poll | "
        "ratio to one record |\n|---:|---:|---:|---:|---:|---:|\n";
  for (const char* key : {"baseline", "tie"}) {
    const auto& r = s[key];
    if (r.contains("not_run")) {
      md << "| " << fmt_num(r["records"]) << " | " << not_run(r) << " | | | | |\n";
      continue;
    }
    md << "| " << fmt_num(r["records"]) << " | " << fmt_num(r["polls"]) << " | " << fmt_num(r["api_calls_sfemu"])
       << " | " << fmt_num(r.value("calls_per_idle_poll", json(nullptr)), 2) << " | "
       << fmt_num(r.value("rows_per_idle_poll", json(nullptr)), 2) << " | "
       << (r.contains("calls_per_poll_ratio_to_baseline") ? fmt_ratio(r["calls_per_poll_ratio_to_baseline"])
                                                            : fmt_ratio(json(1.0)))
       << " |\n";
  }
  md << "\n";
}

void render_events(std::ostringstream& md, const json& s) {
  md << "## 9. Change events: a change in sfemu -> written in PostgreSQL (docs/sync-read.md, issue 14)\n\n";
  if (s.contains("not_run")) {
    md << not_run(s) << "\n\n";
    return;
  }
  md << "| rate/s | changes | applied | missing | rewrites | kept up | drained after last (ms) | engine p50 ms | "
        "engine p99 ms | engine max ms | bare subscriber p50 ms | bare p99 ms | p50 ratio to bare | node API calls |\n"
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const char* key : {"steady_100_per_sec", "steady_1000_per_sec"}) {
    if (!s.contains(key))
      continue;
    const auto& r = s[key];
    if (r.contains("not_run")) {
      md << "| " << key << " | " << not_run(r) << " | | | | | | | | | | | | |\n";
      continue;
    }
    md << "| " << fmt_num(r["rate_per_sec"]) << " | " << fmt_num(r["changes"]) << " | " << fmt_num(r["applied"])
       << " | " << fmt_num(r["missing"]) << " | " << fmt_num(r["rewrites"]) << " | "
       << (r["kept_up"].get<bool>() ? "yes" : "no") << " | " << fmt_num(r["drained_after_last_change_ms"]) << " | "
       << fmt_num(r["engine"].value("p50_ms", json(nullptr)), 1) << " | "
       << fmt_num(r["engine"].value("p99_ms", json(nullptr)), 1) << " | "
       << fmt_num(r["engine"].value("max_ms", json(nullptr)), 1) << " | "
       << fmt_num(r["bare_subscriber"].value("p50_ms", json(nullptr)), 1) << " | "
       << fmt_num(r["bare_subscriber"].value("p99_ms", json(nullptr)), 1) << " | "
       << fmt_ratio(r.value("p50_ratio_to_bare_subscriber", json(nullptr))) << " | "
       << fmt_num(r["node_api_calls_during_run"]) << " |\n";
  }
  md << "\n" << s.value("how", "") << ". Targets: p50 <= 100 ms and p99 <= 500 ms at 100/s; 1,000/s without "
        "falling behind.\n\n";
}

std::string render_markdown(const json& report) {
  std::ostringstream md;
  const auto& m = report["machine"];
  md << "# Syncforce benchmarks (" << (report["quick"].get<bool>() ? "bench/run --quick" : "bench/run") << ")\n\n";
  md << "- When: " << report["started_at"].get<std::string>() << " (" << fmt_num(report["duration_secs"], 0)
     << " s); commit " << report.value("git_rev", "?") << "\n";
  md << "- Machine: " << m["cores"] << " cores, " << fmt_num(m["memory_mb"]) << " MB, "
     << m["cpu_model"].get<std::string>() << ", " << m["kernel"].get<std::string>() << "; PostgreSQL "
     << m["postgresql"].get<std::string>() << "; load average at start " << m["load_average_at_start"].get<std::string>()
     << ", at end " << report.value("load_average_at_end", "?") << "\n";
  md << "- Every figure is measured in this run; every ratio is against a baseline measured in this run.\n\n";
  const auto& s = report["scenarios"];
  if (s.contains("load"))
    render_load(md, s["load"]);
  if (s.contains("write"))
    render_write(md, s["write"]);
  if (s.contains("latency"))
    render_latency(md, s["latency"]);
  if (s.contains("mappings"))
    render_mappings(md, s["mappings"]);
  if (s.contains("micro"))
    render_micro(md, s["micro"]);
  if (s.contains("cutover"))
    render_cutover(md, s["cutover"]);
  if (s.contains("cluster"))
    render_cluster(md, s["cluster"]);
  if (s.contains("tie"))
    render_tie(md, s["tie"]);
  if (s.contains("events"))
    render_events(md, s["events"]);
  return md.str();
}

} // namespace syncforce::bench

int main(int argc, char** argv) {
  using namespace syncforce::bench;
  CLI::App app{"bench_scenarios: Syncforce's scenario benchmarks (run through bench/run)"};
  context ctx;
  std::string json_path, md_path, only = "1,2,3,4,5,6", pid_file, git_rev;
  app.add_option("--database-url", ctx.admin_url, "the bench PostgreSQL server")->required();
  app.add_option("--sfemu", ctx.sfemu, "the sfemu binary (each scenario starts its own)")->required();
  app.add_option("--syncforced", ctx.syncforced)->required();
  app.add_option("--bench-micro", ctx.bench_micro)->required();
  app.add_option("--psql", ctx.psql)->required();
  app.add_option("--work-dir", ctx.work_dir)->required();
  app.add_option("--json", json_path)->required();
  app.add_option("--markdown", md_path)->required();
  app.add_option("--only", only, "scenarios to run, e.g. 1,3");
  app.add_option("--pid-file", pid_file, "append the pids of started processes here");
  app.add_option("--git-rev", git_rev);
  app.add_flag("--quick", ctx.quick);
  CLI11_PARSE(app, argc, argv);
  process::set_pid_file(pid_file);
  curl_global_init(CURL_GLOBAL_ALL);
  try {
    ctx.postmaster = postmaster_pid(ctx.admin_url);
  } catch (const std::exception& e) {
    note(std::string("CPU accounting off: ") + e.what());
  }

  auto started = clock_type::now();
  json report{{"quick", ctx.quick}, {"started_at", utc_now()}, {"git_rev", git_rev}, {"machine", machine_info(ctx)}};
  json scenarios = json::object();
  auto wanted = [&](char n) { return only.find(n) != std::string::npos; };
  auto run = [&](char n, const char* key, json (*fn)(context&)) {
    if (!wanted(n))
      return;
    auto t = clock_type::now();
    try {
      scenarios[key] = fn(ctx);
    } catch (const std::exception& e) {
      scenarios[key] = json{{"not_run", std::string("failed: ") + e.what()}};
    }
    scenarios[key]["scenario_secs"] = std::round(seconds_since(t) * 10) / 10;
    note(std::string("scenario ") + n + " took " + std::to_string(seconds_since(t)) + " s");
  };
  run('1', "load", scenario_load);
  run('2', "write", scenario_write);
  run('3', "latency", scenario_latency);
  run('4', "mappings", scenario_mappings);
  run('5', "micro", scenario_micro);
  run('6', "cutover", scenario_cutover);
  run('7', "cluster", scenario_cluster);
  run('8', "tie", scenario_tie);
  run('9', "events", scenario_events);
  report["scenarios"] = scenarios;
  report["duration_secs"] = std::round(seconds_since(started));
  {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    report["load_average_at_end"] = a + " " + b + " " + c;
  }
  std::ofstream(json_path) << report.dump(2) << "\n";
  std::string md;
  try {
    md = render_markdown(report);
  } catch (const std::exception& e) {
    md = std::string("# Syncforce benchmarks\n\nThe report could not be rendered (") + e.what() +
         "); see latest.json.\n";
  }
  std::ofstream(md_path) << md;
  std::cout << md;
  curl_global_cleanup();
  return 0;
}
