// Scenario 3: latency. (a) A single-row INSERT committed in PostgreSQL until
// sfemu serves the record (by its external id); (b) a record changed in sfemu
// until PostgreSQL holds the new value, at the shortest polling interval (the
// 1 s test interval, SYNCFORCE_TEST_POLL_SECONDS=1).
#include "bench/scenarios/harness.hpp"

#include <pqxx/pqxx>

#include <random>
#include <stdexcept>
#include <thread>

namespace syncforce::bench {

namespace {

/// Baseline of (a): the least any write-back can take, one collection call creating one record from a
/// plain client on a keep-alive connection (as the node sends it); p50 in ms.
double single_create_ms(const std::string& url) {
  sfemu_api client(url);
  client.login();
  std::vector<double> samples;
  for (int i = 0; i < 50; ++i) {
    json records = json::array({{{"attributes", {{"type", bench_object}}},
                                 {"Name", "Baseline " + std::to_string(i)},
                                 {"Ext_Id__c", "B" + std::to_string(i)},
                                 {"Text_1__c", "latency"}}});
    auto start = clock_type::now();
    expect(client.http().request("POST", client.rest("composite/sobjects"),
                                 json{{"allOrNone", false}, {"records", records}}.dump()),
           {200}, "baseline create");
    samples.push_back(seconds_since(start) * 1000);
  }
  return percentiles(samples)["p50_ms"].get<double>();
}

/// The probe's own round trip (a fresh connection each), p50 in ms: the resolution of the latency figures.
double probe_round_trip_ms(sfemu_api& emu, const std::string& url) {
  std::vector<double> samples;
  http_response r;
  for (int i = 0; i < 50; ++i) {
    auto start = clock_type::now();
    emu.http().request("GET", url, {}, {}, r);
    samples.push_back(seconds_since(start) * 1000);
  }
  return percentiles(samples)["p50_ms"].get<double>();
}

json commit_to_sfemu(context& ctx, sfemu_api& emu) {
  const int writes = ctx.quick ? 200 : 1000;
  emu.reset();
  emu.define(bench_schema());
  emu.login();
  emu.http().set_fresh_connections(true); // a probe answered at once, not ~40 ms late on a reused connection
  scratch_db db(ctx.admin_url, ctx.next_db_name("latency_a"));
  node_run node(ctx, "latency_commit", db.url(), node_config(ctx.sfemu_url, json::array({bench_mapping(true)})));
  if (!node.wait_state(bench_object, "DATA_SYNCED", 120s))
    return json{{"not_run", "the mapping did not reach DATA_SYNCED (see " + ctx.log_path("latency_commit") + ")"}};
  pqxx::connection conn(db.url());
  std::string table = std::string("salesforce.") + bench_table;
  std::string by_ext = emu.rest(std::string("sobjects/") + bench_object + "/Ext_Id__c/");
  auto visible = [&](const std::string& ext, std::chrono::milliseconds timeout) {
    http_response r;
    return wait_until(
      [&] {
        emu.http().request("GET", by_ext + ext, {}, {}, r);
        return r.status == 200;
      },
      timeout, 1ms);
  };
  auto write = [&](int i) {
    pqxx::nontransaction tx(conn);
    tx.exec("INSERT INTO " + table + " (name, ext_id__c, text_1__c) VALUES ('Latency " + std::to_string(i) +
            "', 'L" + std::to_string(i) + "', 'latency')");
  };
  // A first write shows whether this node writes back at all.
  write(-1);
  if (!visible("L-1", 30s)) {
    auto log = node.stop();
    bool logged = log.find("\xE2\x86\x91SALESFORCE") != std::string::npos;
    return json{{"not_run", std::string("a committed row did not reach sfemu within 30 s (") +
                              (logged ? "the node logged write-back lines" : "the node logged no write-back line: "
                                                                             "write-back not active in this syncforced") +
                              ")"}};
  }
  double probe_ms = probe_round_trip_ms(emu, by_ext + "L-1");
  double create_ms = single_create_ms(ctx.sfemu_url);
  std::vector<double> samples;
  for (int i = 0; i < writes; ++i) {
    write(i);
    auto start = clock_type::now();
    if (!visible("L" + std::to_string(i), 30s)) {
      node.stop();
      return json{{"not_run", "write " + std::to_string(i) + " did not reach sfemu within 30 s"}};
    }
    samples.push_back(seconds_since(start) * 1000);
  }
  node.stop();
  json out = percentiles(samples);
  out["writes"] = writes;
  out["probe_round_trip_p50_ms"] = probe_ms;
  out["single_create_call_p50_ms"] = create_ms;
  out["p50_ratio_to_single_create_call"] = ratio(out["p50_ms"].get<double>(), create_ms);
  out["how"] = "single-row INSERT (autocommit) in PostgreSQL, then GET /sobjects/<Obj>/Ext_Id__c/<value> (a fresh "
               "connection each) every ~1 ms until 200; merged writes (default features)";
  return out;
}

json sfemu_to_pg(context& ctx, sfemu_api& emu) {
  const int changes = ctx.quick ? 15 : 60;
  constexpr int poll_seconds = 1;
  emu.reset();
  emu.define(bench_schema());
  load_bench_records(emu, 100);
  emu.login();
  scratch_db db(ctx.admin_url, ctx.next_db_name("latency_b"));
  node_run node(ctx, "latency_poll", db.url(), node_config(ctx.sfemu_url, json::array({bench_mapping(false)})), {},
                poll_seconds);
  if (!node.wait_state(bench_object, "DATA_SYNCED", 120s))
    return json{{"not_run", "the mapping did not reach DATA_SYNCED (see " + ctx.log_path("latency_poll") + ")"}};
  std::string table = std::string("salesforce.") + bench_table;
  pqxx::connection conn(db.url());
  std::vector<std::string> ids;
  {
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT sfid FROM " + table + " ORDER BY sfid LIMIT " + std::to_string(changes)))
      ids.push_back(row[0].as<std::string>());
  }
  if (ids.size() != static_cast<size_t>(changes))
    return json{{"not_run", "the initial load did not bring the records"}};
  std::mt19937 rng(7); // seeded: the same spread of change times relative to the polls every run
  std::uniform_int_distribution<int> pause_ms(0, poll_seconds * 1000);
  std::vector<double> samples;
  emu.http().set_fresh_connections(true); // the PATCH answered at once, not ~40 ms late on a reused connection
  for (int i = 0; i < changes; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    std::string value = "change " + std::to_string(i);
    auto start = clock_type::now(); // just before the change: an upper bound by the PATCH's own round trip
    expect(emu.http().request("PATCH", emu.rest(std::string("sobjects/") + bench_object + "/" + ids[i]),
                              json{{"Text_1__c", value}}.dump()),
           {204}, "PATCH record");
    bool seen = wait_until(
      [&] {
        pqxx::nontransaction tx(conn);
        auto r = tx.exec("SELECT text_1__c FROM " + table + " WHERE sfid = " + tx.quote(ids[i]));
        return !r.empty() && !r[0][0].is_null() && r[0][0].as<std::string>() == value;
      },
      30s, 2ms);
    if (!seen) {
      node.stop();
      return json{{"not_run", "change " + std::to_string(i) + " did not reach PostgreSQL within 30 s"}};
    }
    samples.push_back(seconds_since(start) * 1000);
  }
  node.stop();
  json out = percentiles(samples);
  out["changes"] = changes;
  out["polling_interval_secs"] = poll_seconds;
  out["p50_ratio_to_polling_interval"] = ratio(out["p50_ms"].get<double>(), poll_seconds * 1000.0);
  out["how"] = "PATCH in sfemu after a random 0..1 s pause, then SELECT in PostgreSQL every ~2 ms until the new value";
  return out;
}

} // namespace

json scenario_latency(context& ctx) {
  auto sfemu = start_sfemu(ctx, "sfemu_latency");
  sfemu_api emu(ctx.sfemu_url);
  json out;
  note("scenario 3a: commit in PostgreSQL -> visible in sfemu");
  try {
    out["commit_to_sfemu"] = commit_to_sfemu(ctx, emu);
  } catch (const std::exception& e) {
    out["commit_to_sfemu"] = json{{"not_run", std::string("failed: ") + e.what()}};
  }
  note("scenario 3b: change in sfemu -> visible in PostgreSQL");
  try {
    out["sfemu_to_pg"] = sfemu_to_pg(ctx, emu);
  } catch (const std::exception& e) {
    out["sfemu_to_pg"] = json{{"not_run", std::string("failed: ") + e.what()}};
  }
  emu.reset();
  return out;
}

} // namespace syncforce::bench
