// Scenario 4: the cost of a mapping. One node with 0 (the baseline), 1, 100 and
// 1,000 idle mappings of as many custom objects: resident memory, PostgreSQL
// connections held, and CPU used over an idle window.
#include "bench/scenarios/harness.hpp"

#include <stdexcept>
#include <thread>

namespace syncforce::bench {

namespace {

std::string idle_object(int i) {
  return "Idle_" + std::to_string(i) + "__c";
}

} // namespace

json idle_schema(int count) {
  json objects = json::array();
  for (int i = 1; i <= count; ++i)
    objects.push_back({{"name", idle_object(i)},
                       {"label", "Idle " + std::to_string(i)},
                       {"fields", json::array({{{"name", "Value__c"}, {"type", "string"}, {"length", 40}}})}});
  return json{{"objects", objects}};
}

json idle_mappings(int count) {
  json mappings = json::array();
  for (int i = 1; i <= count; ++i)
    mappings.push_back(
      {{"object_name", idle_object(i)},
       {"config",
        {{"access", "read_only"},
         {"sf_polling_seconds", 3600},
         {"fields",
          {{"Id", json::object()}, {"IsDeleted", json::object()}, {"SystemModstamp", json::object()},
           {"CreatedDate", json::object()}, {"Name", json::object()}, {"Value__c", json::object()}}}}}});
  return mappings;
}

namespace {

json measure(context& ctx, sfemu_api& emu, int count, double window_secs) {
  emu.reset();
  if (count > 0)
    emu.define(idle_schema(count));
  scratch_db db(ctx.admin_url, ctx.next_db_name("mappings"));
  std::string name = "mappings_" + std::to_string(count);
  auto start = clock_type::now();
  node_run node(ctx, name, db.url(), node_config(ctx.sfemu_url, idle_mappings(count)));
  std::string synced_sql = "SELECT count(*) FROM syncforce.mappings WHERE state = 'DATA_SYNCED'";
  bool ready = wait_until(
    [&] {
      if (!node.proc().running())
        return true;
      if (count == 0) // nothing to load: ready once the engine imported the (empty) configuration
        return pg_count(db.url(), "SELECT count(*) FROM syncforce.connections") > 0;
      return pg_count(db.url(), synced_sql) == count;
    },
    std::chrono::minutes(15), 200ms);
  if (!ready || !node.proc().running()) {
    auto out = node.stop();
    return json{{"mappings", count},
                {"not_run", std::string(ready ? "the node exited" : "not every mapping reached DATA_SYNCED") +
                              " (see " + ctx.log_path(name) + ")"}};
  }
  double startup_secs = seconds_since(start);
  std::this_thread::sleep_for(1s); // let the last loads' work finish before the idle window
  auto calls_before = emu.counters().value("total", 0L);
  double cpu_before = node.proc().cpu_seconds();
  auto window_start = clock_type::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(window_secs * 1000)));
  double cpu = node.proc().cpu_seconds() - cpu_before;
  double window = seconds_since(window_start);
  long calls = emu.counters().value("total", 0L) - calls_before;
  long rss = node.proc().status_kb("VmRSS");
  long hwm = node.proc().status_kb("VmHWM");
  long threads = node.proc().status_kb("Threads"); // not in kB: a plain count
  long connections = pg_count(db.url(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND pid <> pg_backend_pid()");
  auto by_app = pg_scalar(db.url(), "SELECT string_agg(application_name || ': ' || n, ', ' ORDER BY application_name) "
                                    "FROM (SELECT application_name, count(*) AS n FROM pg_stat_activity WHERE datname = "
                                    "current_database() AND pid <> pg_backend_pid() GROUP BY 1) a");
  node.stop();
  return json{{"mappings", count},
              {"startup_to_all_synced_secs", startup_secs},
              {"rss_kb", rss},
              {"peak_rss_kb", hwm},
              {"threads", threads},
              {"pg_connections", connections},
              {"pg_connections_by_application", by_app.value_or("")},
              {"idle_window_secs", window},
              {"idle_cpu_seconds", cpu},
              {"idle_cpu_percent", std::round(cpu / window * 1000) / 10},
              {"api_calls_in_idle_window", calls}};
}

} // namespace

json scenario_mappings(context& ctx) {
  auto sfemu = start_sfemu(ctx, "sfemu_mappings");
  sfemu_api emu(ctx.sfemu_url);
  std::vector<int> counts{0, 1, 100};
  if (!ctx.quick)
    counts.push_back(1000);
  double window = ctx.quick ? 3 : 15;
  json runs = json::array();
  json base;
  for (int count : counts) {
    note("scenario 4: a node with " + std::to_string(count) + " idle mappings");
    json r;
    try {
      r = measure(ctx, emu, count, window);
    } catch (const std::exception& e) {
      r = json{{"mappings", count}, {"not_run", std::string("failed: ") + e.what()}};
    }
    if (count == 0)
      base = r;
    if (count > 0 && !r.contains("not_run") && !base.contains("not_run") && !base.is_null()) {
      r["rss_ratio_to_0"] = ratio(r["rss_kb"].get<double>(), base["rss_kb"].get<double>());
      r["rss_kb_per_mapping"] =
        std::round((r["rss_kb"].get<double>() - base["rss_kb"].get<double>()) / count * 10) / 10;
      r["pg_connections_ratio_to_0"] = ratio(r["pg_connections"].get<double>(), base["pg_connections"].get<double>());
      r["idle_cpu_ratio_to_0"] =
        ratio(r["idle_cpu_seconds"].get<double>(), base["idle_cpu_seconds"].get<double>());
    }
    runs.push_back(r);
  }
  emu.reset();
  return json{{"runs", runs}, {"idle_window_secs", window}};
}

} // namespace syncforce::bench
