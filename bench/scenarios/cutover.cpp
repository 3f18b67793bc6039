// Scenario 6: the schema-swap cutover (issue 19). A node syncs 100,000 records
// of the bench object read-write in schema salesforce for an application that
// reaches the table through its role's search_path; `syncforce connection:clone`
// makes a second connection in schema salesforce2 and `syncforce cutover` moves
// the table while the application keeps inserting and updating (reconnecting
// when a write is refused). Reported: how long writes were refused (the node's
// figure: fence commit to switch commit, and the application's: last accepted
// write before the first refusal to the first accepted after), the steps'
// times, and whether every accepted insert reached sfemu exactly once. The
// baseline is the application's own write round trip in the same run: the
// resolution of the observed figure.
#include "bench/scenarios/harness.hpp"

#include <pqxx/pqxx>

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

namespace syncforce::bench {

namespace {

const std::string bench_token = "bench-cutover-token";

/// The application's write loop: INSERT a record, UPDATE an earlier one, through search_path.
struct app_loop {
  std::string url;
  std::atomic<bool> stop{false};
  std::mutex mu;
  long inserts = 0;
  long updates = 0;
  long refused = 0;
  long other_errors = 0;
  std::string first_error;
  std::vector<double> ok_ms; ///< round trip of each accepted write
  std::optional<clock_type::time_point> last_ok_before_refusal;
  std::optional<clock_type::time_point> first_refused;
  std::optional<clock_type::time_point> first_ok_after;

  void run() {
    std::unique_ptr<pqxx::connection> conn;
    long n = 0;
    bool retry = false;
    while (!stop) {
      try {
        if (!conn)
          conn = std::make_unique<pqxx::connection>(url);
        if (!retry)
          ++n;
        retry = true;
        const bool insert = n % 2 == 1 || n < 4;
        auto start = clock_type::now();
        pqxx::work tx(*conn);
        if (insert)
          tx.exec_params("INSERT INTO bench_object__c (name, ext_id__c, text_1__c) VALUES ($1, $2, 'app')",
                         "App " + std::to_string(n), "APP-" + std::to_string(n));
        else
          tx.exec_params("UPDATE bench_object__c SET text_1__c = $2 WHERE ext_id__c = $1",
                         "APP-" + std::to_string(n / 2 | 1), "upd-" + std::to_string(n));
        tx.commit();
        retry = false;
        auto now = clock_type::now();
        std::lock_guard<std::mutex> lock(mu);
        ok_ms.push_back(std::chrono::duration<double, std::milli>(now - start).count());
        (insert ? inserts : updates) += 1;
        if (first_refused && !first_ok_after)
          first_ok_after = now;
        if (!first_refused)
          last_ok_before_refusal = now;
      } catch (const pqxx::sql_error& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (e.sqlstate() == "55006") {
          ++refused;
          if (!first_refused)
            first_refused = clock_type::now();
        } else {
          ++other_errors;
          if (first_error.empty())
            first_error = e.what();
        }
        conn.reset();
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        ++other_errors;
        if (first_error.empty())
          first_error = e.what();
        conn.reset();
      }
    }
  }
};

std::string replace_user(const std::string& url, const std::string& user) {
  auto scheme = url.find("://");
  auto at = url.find('@', scheme);
  if (scheme == std::string::npos || at == std::string::npos)
    throw std::runtime_error("the bench database URL names no user: " + url);
  return url.substr(0, scheme + 3) + user + url.substr(at);
}

} // namespace

json scenario_cutover(context& ctx) {
  const long rows = 100'000; // the size issue 19 names, in --quick too
  auto emu_proc = start_sfemu(ctx, "cutover_sfemu");
  sfemu_api emu(ctx.sfemu_url);
  emu.reset();
  emu.define(bench_schema());
  note("scenario 6: " + std::to_string(rows) + " records into sfemu");
  load_bench_records(emu, rows);
  emu.login();
  scratch_db db(ctx.admin_url, ctx.next_db_name("cutover"));
  const auto token_path = ctx.work_dir + "/cutover.tokens";
  std::ofstream(token_path) << "bench:" << bench_token << "\n";
  node_run node(ctx, "cutover_node", db.url(), node_config(ctx.sfemu_url, json::array({bench_mapping(true)})),
                {"--admin-token-file", token_path}, 1);
  if (!node.wait_state(bench_object, "DATA_SYNCED", 600s))
    return json{{"not_run", "the first load did not finish (see " + ctx.log_path("cutover_node") + ")"}};
  std::smatch m;
  const auto node_log = node.proc().output();
  if (!std::regex_search(node_log, m, std::regex("gRPC server listening\" port=(\\d+)")))
    return json{{"not_run", "the node's gRPC port is not in its log"}};
  const std::string server = "127.0.0.1:" + m[1].str();
  const auto cli = ctx.syncforced.substr(0, ctx.syncforced.rfind('/') + 1) + "syncforce";
  const auto token_file = ctx.work_dir + "/cutover.token";
  std::ofstream(token_file) << bench_token << "\n";
  auto syncforce = [&](std::vector<std::string> args, const std::string& log, std::chrono::milliseconds timeout) {
    std::vector<std::string> argv{cli, "--server", server, "--token-file", token_file};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, ctx.log_path(log), timeout);
  };

  // The application's role: its search_path names the schema; grants as an application needs them.
  const auto role = "bench_app_" + std::to_string(::getpid());
  const auto q = "\"" + role + "\"";
  for (const auto& s : std::vector<std::string>{
         "CREATE ROLE " + q + " LOGIN", "ALTER ROLE " + q + " SET search_path = salesforce, public",
         "GRANT USAGE ON SCHEMA salesforce TO " + q, "GRANT SELECT, INSERT, UPDATE ON salesforce.bench_object__c TO " + q,
         "GRANT USAGE ON SEQUENCE salesforce.bench_object__c_id_seq TO " + q,
         "GRANT SELECT, INSERT ON salesforce._trigger_log TO " + q,
         "GRANT USAGE ON SEQUENCE salesforce._trigger_log_id_seq TO " + q,
         "CREATE VIEW public.bench_names AS SELECT sfid, name, ext_id__c FROM salesforce.bench_object__c",
         "CREATE INDEX bench_text_1_idx ON salesforce.bench_object__c (text_1__c)"})
    pg_exec(db.url(), s);
  struct role_cleanup {
    std::string url, role;
    ~role_cleanup() {
      try {
        pg_exec(url, "DROP VIEW IF EXISTS public.bench_names");
        pg_exec(url, "DROP OWNED BY \"" + role + "\"");
        pg_exec(url, "DROP ROLE IF EXISTS \"" + role + "\"");
      } catch (const std::exception&) {
        // best effort: the database is dropped next
      }
    }
  } cleanup{db.url(), role};

  note("scenario 6: connection:clone (the second load of " + std::to_string(rows) + " rows)");
  auto clone_start = clock_type::now();
  auto r = syncforce({"connection:clone", "bench", "--as", "bench2", "--schema", "salesforce2", "--no-wait"},
                     "cutover_clone", 60s);
  if (r.code != 0)
    return json{{"not_run", "connection:clone failed: " + r.output}};
  if (!wait_until([&] { return pg_count(db.url(), "SELECT count(*) FROM salesforce2.bench_object__c") == rows &&
                               pg_scalar(db.url(), "SELECT m.state FROM syncforce.mappings m JOIN syncforce.connections "
                                                   "c ON c.id = m.connection_id WHERE c.name = 'bench2'") ==
                                 std::optional<std::string>{"DATA_SYNCED"}; },
                  600s, 200ms))
    return json{{"not_run", "bench2 did not load (see " + ctx.log_path("cutover_node") + ")"}};
  const double clone_secs = seconds_since(clone_start);

  app_loop app;
  app.url = replace_user(db.url(), role);
  std::thread writer([&] { app.run(); });
  wait_until([&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts >= 100; }, 60s);
  note("scenario 6: cutover while the application writes");
  r = syncforce({"--json", "cutover", "bench", "bench2"}, "cutover_run", 600s);
  const auto after_switch = [&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts; }();
  wait_until([&] { std::lock_guard<std::mutex> l(app.mu); return app.inserts >= after_switch + 100; }, 60s);
  app.stop = true;
  writer.join();
  auto brace = r.output.find('{');
  json report = brace == std::string::npos ? json() : json::parse(r.output.substr(brace), nullptr, false);
  if (r.code != 0 || !report.is_object() || report.value("outcome", "") != "done")
    return json{{"not_run", "the cutover did not finish (exit " + std::to_string(r.code) + "): " +
                              r.output.substr(0, 2000)}};

  // Every accepted insert reaches sfemu once (its upsert field makes a second send an update, so
  // "once" is the count of APP- records; "reached" is that count equalling the accepted inserts).
  long in_sfemu = 0;
  wait_until([&] { return (in_sfemu = emu.count("SELECT COUNT() FROM Bench_Object__c WHERE Ext_Id__c LIKE "
                                                "'APP-%'")) == app.inserts; },
             120s, 500ms);
  json out;
  out["rows"] = rows;
  out["write_downtime_ms"] = report["write_downtime_ms"];
  if (app.first_refused && app.first_ok_after && app.last_ok_before_refusal)
    out["app_observed_gap_ms"] =
      std::round(std::chrono::duration<double, std::milli>(*app.first_ok_after - *app.last_ok_before_refusal).count());
  out["app_refused_writes"] = app.refused;
  out["app_other_errors"] = app.other_errors;
  if (!app.first_error.empty())
    out["app_first_error"] = app.first_error.substr(0, 300);
  out["app_inserts"] = app.inserts;
  out["app_updates"] = app.updates;
  out["app_inserts_in_sfemu"] = in_sfemu;
  out["app_write_round_trip"] = percentiles(app.ok_ms);
  out["clone_load_secs"] = std::round(clone_secs * 10) / 10;
  out["steps"] = report["steps"];
  out["under_5_s"] = report["write_downtime_ms"].get<long>() < 5000;
  out["how"] = "cutover of a read-write mapping of " + std::to_string(rows) +
               " rows with a view and an index of the application's, while one application session inserts and "
               "updates through search_path without pause; refused writes are retried on a new session";
  return out;
}

} // namespace syncforce::bench
