// Scenario 2: write-back of 10,000 inserts and 10,000 updates made in SQL, for
// ordered writes with collections, ordered writes with Bulk 2.0 and merged
// writes: records/s and the Salesforce API calls the node used (sfemu's
// counters for the node's user). Baseline: sfemu taking the same records through
// collection calls from a plain client.
#include "bench/scenarios/harness.hpp"

#include <sys/resource.h>

#include <stdexcept>
#include <thread>

namespace syncforce::bench {

namespace {

constexpr const char* probe_user = "bench-probe@sfemu.local";
constexpr const char* node_user = "admin@sfemu.local";

/// A REST client logged in as a second user, so that its probes do not show in the node user's counters.
std::unique_ptr<sfemu_api> probe_client(const std::string& url) {
  auto probe = std::make_unique<sfemu_api>(url);
  auto& http = probe->http();
  expect(http.request("POST", url + "/__sfemu/users", json{{"username", probe_user}, {"password", "probe"}}.dump()),
         {200, 201}, "probe user");
  std::string form = "grant_type=password&client_id=bench&client_secret=bench&username=" + http.escape(probe_user) +
                     "&password=probe";
  auto r = expect(http.request("POST", url + "/services/oauth2/token", form, "application/x-www-form-urlencoded"),
                  {200}, "probe login");
  http.set_bearer(json::parse(r.body).at("access_token").get<std::string>());
  http.set_fresh_connections(true);
  return probe;
}

json node_calls(sfemu_api& emu) {
  auto c = emu.counters();
  long total = c["by_user"].value(node_user, 0L);
  json routes = c.value("by_route", json::object());
  return json{{"total", total}, {"by_route", routes}};
}

/// Calls per route between two counter snapshots (the probe's own routes are `query`, counted apart).
json calls_between(const json& before, const json& after) {
  json routes = json::object();
  for (auto it = after["by_route"].begin(); it != after["by_route"].end(); ++it) {
    long prev = before["by_route"].value(it.key(), 0L);
    long now = it.value().get<long>();
    if (now != prev && it.key() != "query")
      routes[it.key()] = now - prev;
  }
  return json{{"node_user_calls", after["total"].get<long>() - before["total"].get<long>()}, {"by_route", routes}};
}

/// Waits until `count()` reaches `want`; gives up after `stall` without progress. Seconds taken, or nullopt.
std::optional<double> wait_count(const std::function<long()>& count, long want, clock_type::time_point start,
                                 std::chrono::seconds stall, std::chrono::seconds cap, long& reached) {
  auto last_progress = clock_type::now();
  reached = 0;
  while (true) {
    long n = count();
    if (n > reached) {
      reached = n;
      last_progress = clock_type::now();
    }
    if (n >= want)
      return seconds_since(start);
    if (clock_type::now() - last_progress > stall || clock_type::now() - start > cap)
      return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

long count_lines(const std::string& text, const std::string& needle) {
  long n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

/// The writer alone: from the statement's commit (the changes are in the log)
/// until sfemu counts every record. The plain client's clock starts with its
/// records in hand, so this is the like-for-like comparison; records/s above
/// also charges the writer with the capture triggers' time.
/// `cpu` (cpu_between) covers the same span: with it, the best writer-alone ratio its CPU allows on this
/// machine's cores however well the work overlapped.
void add_writer_alone(json& o, long n, double secs_to_sfemu, double sql_secs, const json& baseline_rate,
                      const json& cpu) {
  const double writer_secs = secs_to_sfemu - sql_secs;
  o["writer_secs"] = writer_secs;
  o["writer_cpu"] = cpu;
  o["writer_ratio_ceiling"] = ratio(rate_ceiling(cpu, static_cast<double>(n)), baseline_rate);
  if (writer_secs <= 0)
    return;
  const double rate = static_cast<double>(n) / writer_secs;
  o["writer_records_per_sec"] = std::round(rate);
  o["writer_ratio_to_baseline"] = ratio(rate, baseline_rate);
}

/// CPU seconds this thread has used (the plain client's own work).
double thread_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// sfemu's own rate for the same records through collections of 200 from one plain client, and the CPU
/// the client and sfemu used for the inserts.
json baseline(sfemu_api& emu, const process& sfemu, long n) {
  emu.reset();
  emu.define(bench_schema());
  emu.login();
  auto& http = emu.http();
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(n));
  auto start = clock_type::now();
  long calls = 0;
  const double client_cpu_before = thread_cpu_seconds();
  const double sfemu_cpu_before = sfemu.cpu_seconds();
  for (long first = 0; first < n; first += 200) {
    json records = json::array();
    for (long i = first; i < std::min(n, first + 200); ++i)
      records.push_back({{"attributes", {{"type", bench_object}}},
                         {"Name", "Written " + std::to_string(i)},
                         {"Ext_Id__c", "W" + std::to_string(i)},
                         {"Text_1__c", "inserted " + std::to_string(i)},
                         {"Number_1__c", static_cast<double>(i) / 4},
                         {"Flag_1__c", i % 2 == 0},
                         {"Email__c", "w" + std::to_string(i) + "@example.com"}});
    json body{{"allOrNone", false}, {"records", records}};
    auto r = expect(http.request("POST", emu.rest("composite/sobjects"), body.dump()), {200}, "collection insert");
    ++calls;
    for (const auto& item : json::parse(r.body)) {
      if (!item.value("success", false))
        throw std::runtime_error("collection insert failed: " + item.dump());
      ids.push_back(item["id"].get<std::string>());
    }
  }
  double insert_secs = seconds_since(start);
  const double insert_client_cpu = thread_cpu_seconds() - client_cpu_before;
  const double insert_sfemu_cpu = sfemu.cpu_seconds() - sfemu_cpu_before;
  start = clock_type::now();
  for (long first = 0; first < n; first += 200) {
    json records = json::array();
    for (long i = first; i < std::min(n, first + 200); ++i)
      records.push_back({{"attributes", {{"type", bench_object}}},
                         {"id", ids[static_cast<size_t>(i)]},
                         {"Text_1__c", "updated " + std::to_string(i)}});
    expect(http.request("PATCH", emu.rest("composite/sobjects"), json{{"allOrNone", false}, {"records", records}}.dump()),
           {200}, "collection update");
    ++calls;
  }
  double update_secs = seconds_since(start);
  return json{{"records", n},
              {"insert_records_per_sec", std::round(static_cast<double>(n) / insert_secs)},
              {"update_records_per_sec", std::round(static_cast<double>(n) / update_secs)},
              {"api_calls", calls},
              {"insert_cpu", json{{"client_secs", std::round(insert_client_cpu * 100) / 100},
                                  {"sfemu_secs", std::round(insert_sfemu_cpu * 100) / 100}}}};
}

json variant(context& ctx, sfemu_api& emu, const process& sfemu, const std::string& name, const json& features,
             long n, const json& base) {
  emu.reset();
  emu.define(bench_schema());
  auto probe = probe_client(ctx.sfemu_url);
  scratch_db db(ctx.admin_url, ctx.next_db_name("write"));
  node_run node(ctx, "write_" + name, db.url(), node_config(ctx.sfemu_url, json::array({bench_mapping(true)}), features));
  if (!node.wait_state(bench_object, "DATA_SYNCED", 120s))
    return json{{"not_run", "the mapping did not reach DATA_SYNCED (see " + ctx.log_path("write_" + name) + ")"}};
  std::string table = std::string("salesforce.") + bench_table;
  json out{{"features", features}, {"records", n}};
  auto in_sf = [&](const std::string& where) {
    return [&, where] { return probe->count(std::string("SELECT COUNT() FROM ") + bench_object + where); };
  };

  // Inserts.
  auto before = node_calls(emu);
  auto start = clock_type::now();
  pg_exec(db.url(), "INSERT INTO " + table +
                      " (name, ext_id__c, text_1__c, number_1__c, flag_1__c, email__c) SELECT 'Written ' || i, 'W' || "
                      "i, 'inserted ' || i, i / 4.0, i % 2 = 0, 'w' || i || '@example.com' FROM generate_series(0, " +
                      std::to_string(n - 1) + ") AS i");
  // The statement itself (the capture triggers write the log): a floor no writer can go under.
  const double insert_sql_secs = seconds_since(start);
  auto cpu_before = sample_cpu(ctx, node.proc(), sfemu);
  long reached = 0;
  auto secs = wait_count(in_sf(""), n, start, 30s, 600s, reached);
  auto cpu = cpu_between(cpu_before, sample_cpu(ctx, node.proc(), sfemu));
  std::string log = node.proc().output();
  if (!secs) {
    std::string why = reached == 0
                        ? "no record reached sfemu within 30 s of the commit; the node logged " +
                            std::to_string(count_lines(log, "\xE2\x86\x91SALESFORCE")) +
                            " write-back lines (write-back not active in this syncforced)"
                        : "only " + std::to_string(reached) + " of " + std::to_string(n) +
                            " inserts reached sfemu (stalled for 30 s)";
    node.stop();
    return json{{"not_run", why}};
  }
  bool drained = wait_until(
    [&] {
      return pg_count(db.url(), "SELECT count(*) FROM salesforce._trigger_log WHERE state IN ('NEW', 'PENDING')") == 0 &&
             pg_count(db.url(), "SELECT count(*) FROM " + table + " WHERE sfid IS NULL") == 0;
    },
    120s, 50ms);
  double written_back_secs = seconds_since(start);
  auto after = node_calls(emu);
  out["insert"] = json{{"secs_to_sfemu", *secs},
                       {"secs_in_sql_statement", insert_sql_secs},
                       {"records_per_sec", std::round(static_cast<double>(n) / *secs)},
                       {"secs_until_sfids_written_back", drained ? json(written_back_secs) : json(nullptr)},
                       {"api", calls_between(before, after)},
                       {"ratio_to_baseline", ratio(static_cast<double>(n) / *secs, base["insert_records_per_sec"])}};
  add_writer_alone(out["insert"], n, *secs, insert_sql_secs, base["insert_records_per_sec"], cpu);

  // Updates.
  before = node_calls(emu);
  start = clock_type::now();
  pg_exec(db.url(), "UPDATE " + table + " SET text_1__c = 'updated ' || ext_id__c");
  const double update_sql_secs = seconds_since(start);
  cpu_before = sample_cpu(ctx, node.proc(), sfemu);
  secs = wait_count(in_sf(" WHERE Text_1__c LIKE 'updated %'"), n, start, 30s, 600s, reached);
  cpu = cpu_between(cpu_before, sample_cpu(ctx, node.proc(), sfemu));
  if (!secs) {
    out["update"] = json{{"not_run", "only " + std::to_string(reached) + " of " + std::to_string(n) +
                                       " updates reached sfemu (stalled for 30 s)"}};
  } else {
    wait_until(
      [&] {
        return pg_count(db.url(), "SELECT count(*) FROM salesforce._trigger_log WHERE state IN ('NEW', 'PENDING')") == 0;
      },
      120s, 50ms);
    after = node_calls(emu);
    out["update"] = json{{"secs_to_sfemu", *secs},
                         {"secs_in_sql_statement", update_sql_secs},
                         {"records_per_sec", std::round(static_cast<double>(n) / *secs)},
                         {"api", calls_between(before, after)},
                         {"ratio_to_baseline", ratio(static_cast<double>(n) / *secs, base["update_records_per_sec"])}};
    add_writer_alone(out["update"], n, *secs, update_sql_secs, base["update_records_per_sec"], cpu);
  }
  log = node.stop();
  out["write_lines"] = json{{"via_bulk", count_lines(log, "via=BULK")}, {"via_soap", count_lines(log, "via=SOAP")},
                            {"bulk_fallbacks", count_lines(log, "Will fall back to SOAP")}};
  return out;
}

} // namespace

json scenario_write(context& ctx) {
  constexpr long n = 10000;
  auto sfemu = start_sfemu(ctx, "sfemu_writeback");
  sfemu_api emu(ctx.sfemu_url);
  json out{{"records", n}};
  json base;
  try {
    note("scenario 2: baseline, a plain client writing collections of 200");
    base = baseline(emu, *sfemu, n);
    out["baseline"] = base;
  } catch (const std::exception& e) {
    out["baseline"] = json{{"not_run", e.what()}};
    base = json{{"insert_records_per_sec", 0}, {"update_records_per_sec", 0}};
  }
  const std::vector<std::pair<std::string, json>> variants{
    {"ordered_collections", {{"poll_db_no_merge", true}, {"disable_bulk_writes", true}}},
    {"ordered_bulk", {{"poll_db_no_merge", true}}},
    {"merged", json::object()}};
  json results = json::object();
  for (const auto& [name, features] : variants) {
    note("scenario 2: write-back, " + name);
    try {
      results[name] = variant(ctx, emu, *sfemu, name, features, n, base);
    } catch (const std::exception& e) {
      results[name] = json{{"not_run", std::string("failed: ") + e.what()}};
    }
    if (results[name].contains("not_run")) {
      note("scenario 2: " + name + ": not run: " + results[name]["not_run"].get<std::string>());
      // The same node cannot write back in the other modes either: say so instead of waiting again.
      if (results[name]["not_run"].get<std::string>().find("write-back not active") != std::string::npos) {
        for (const auto& [other, f] : variants)
          if (!results.contains(other))
            results[other] = json{{"not_run", results[name]["not_run"]}};
        break;
      }
    }
  }
  out["variants"] = results;
  emu.reset();
  return out;
}

} // namespace syncforce::bench
