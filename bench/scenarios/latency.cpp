// Scenario 3: latency. (a) A single-row INSERT committed in PostgreSQL until
// sfemu serves the record (by its external id); (b) a record changed in sfemu
// until PostgreSQL holds the new value, at the shortest polling interval (the
// 1 s test interval, SYNCFORCE_TEST_POLL_SECONDS=1). Each is measured twice: on
// an otherwise idle node, and while a second mapping of the same connection takes
// a steady background load (inserts in PostgreSQL written back, updates in sfemu
// polled in), so that the p99 under load stands beside the idle one.
#include "bench/scenarios/harness.hpp"

#include <pqxx/pqxx>

#include <atomic>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace syncforce::bench {

namespace {

// ---- the background load ----------------------------------------------------------------

constexpr const char* load_object = "Load_Object__c";
constexpr const char* load_table = "load_object__c";
/// Records/s each way: inserts in PostgreSQL (written back) and updates in sfemu (polled in).
/// At 1,000 each way the node on the shared 2-core box (load average 12-15) fell behind over the
/// full run's 225 s (38,700 inserts not yet written back), so a measured row waited behind a
/// growing backlog: that measures saturation, not latency. 500 each way it keeps up with.
constexpr int background_rate = 500;
/// Records in sfemu that the background updates go round.
constexpr int load_records = 5000;
/// How long the background runs before the first sample: its first write-back and poll are under way.
constexpr auto background_warm_up = 2s;

json load_object_schema() {
  json fields = json::array();
  fields.push_back({{"name", "Ext_Id__c"}, {"type", "string"}, {"length", 40}, {"external_id", true}, {"unique", true}});
  fields.push_back({{"name", "Text_1__c"}, {"type", "string"}, {"length", 80}});
  return json{{"name", load_object}, {"label", "Load Object"}, {"key_prefix", "a0L"}, {"fields", fields}};
}

/// The bench object, plus the load object when loaded.
json latency_schema(bool loaded) {
  json schema = bench_schema();
  if (loaded)
    schema["objects"].push_back(load_object_schema());
  return schema;
}

json load_mapping() {
  json fields = json::object();
  for (const char* f : {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name", "Ext_Id__c", "Text_1__c"})
    fields[f] = json::object();
  return json{{"object_name", load_object},
              {"config",
               {{"access", "read_write"},
                {"sf_polling_seconds", 600}, // SYNCFORCE_TEST_POLL_SECONDS=1 makes it 1 s
                {"fields", fields},
                {"upsert_field", "Ext_Id__c"},
                {"indexes", {{"Ext_Id__c", {{"unique", true}}}}}}}};
}

void load_load_records(sfemu_api& emu) {
  std::string csv = "Name,Ext_Id__c,Text_1__c\n";
  for (int i = 0; i < load_records; ++i)
    csv += "Load " + std::to_string(i) + ",P" + std::to_string(i) + ",initial\n";
  emu.load_csv(load_object, csv);
}

/// A steady background load on the load mapping, from two threads on a fixed schedule (ticks of
/// 100 ms, so the offered rate does not follow the node's speed): multi-row INSERTs into its table
/// in PostgreSQL, and collection PATCHes of up to 200 of its records in sfemu.
class background_load {
public:
  background_load(std::string db_url, std::string sfemu_url, std::vector<std::string> ids)
    : db_url_(std::move(db_url)), sfemu_url_(std::move(sfemu_url)), ids_(std::move(ids)) {}
  ~background_load() { stop(); }

  void start() {
    start_ = clock_type::now();
    inserter_ = std::thread([this] { run_inserts(); });
    updater_ = std::thread([this] { run_updates(); });
  }

  /// Stops both threads; what they did, as rates over the whole run.
  json stop() {
    if (stop_.exchange(true))
      return result_;
    if (inserter_.joinable())
      inserter_.join();
    if (updater_.joinable())
      updater_.join();
    double secs = seconds_since(start_);
    result_ = json{{"offered_records_per_sec_each_way", background_rate},
                   {"secs", std::round(secs * 10) / 10},
                   {"pg_inserts", inserted_.load()},
                   {"pg_inserts_per_sec", std::round(static_cast<double>(inserted_.load()) / secs)},
                   {"sfemu_updates", updated_.load()},
                   {"sfemu_updates_per_sec", std::round(static_cast<double>(updated_.load()) / secs)}};
    if (!error_.empty())
      result_["error"] = error_;
    return result_;
  }

private:
  static constexpr auto tick = 100ms;
  static constexpr int per_tick = background_rate / 10;

  void run_inserts() {
    try {
      pqxx::connection conn(db_url_);
      long next = 0;
      for (long k = 1; !stop_; ++k) {
        pqxx::nontransaction tx(conn);
        tx.exec("INSERT INTO salesforce." + std::string(load_table) +
                " (name, ext_id__c, text_1__c) SELECT 'Background ' || g, 'G' || g, 'background' FROM "
                "generate_series(" +
                std::to_string(next) + ", " + std::to_string(next + per_tick - 1) + ") g");
        next += per_tick;
        inserted_ += per_tick;
        std::this_thread::sleep_until(start_ + k * tick);
      }
    } catch (const std::exception& e) {
      fail(std::string("inserts: ") + e.what());
    }
  }

  void run_updates() {
    try {
      sfemu_api api(sfemu_url_);
      api.login();
      long seq = 0;
      for (long k = 1; !stop_; ++k) {
        for (int sent = 0; sent < per_tick; sent += 200) {
          json records = json::array();
          for (int i = 0; i < std::min(200, per_tick - sent); ++i, ++seq)
            records.push_back({{"attributes", {{"type", load_object}}},
                               {"id", ids_[static_cast<size_t>(seq) % ids_.size()]},
                               {"Text_1__c", "update " + std::to_string(seq)}});
          expect(api.http().request("PATCH", api.rest("composite/sobjects"),
                                    json{{"allOrNone", false}, {"records", records}}.dump()),
                 {200}, "background update");
          updated_ += static_cast<long>(records.size());
        }
        std::this_thread::sleep_until(start_ + k * tick);
      }
    } catch (const std::exception& e) {
      fail(std::string("updates: ") + e.what());
    }
  }

  void fail(const std::string& what) {
    std::lock_guard<std::mutex> guard(mtx_);
    if (error_.empty())
      error_ = what;
  }

  std::string db_url_, sfemu_url_;
  std::vector<std::string> ids_;
  clock_type::time_point start_;
  std::thread inserter_, updater_;
  std::atomic<bool> stop_{false};
  std::atomic<long> inserted_{0}, updated_{0};
  std::mutex mtx_;
  std::string error_;
  json result_;
};

/// Starts the background once the load mapping is synced (its records' ids come from its table).
std::unique_ptr<background_load> start_background(context& ctx, node_run& node, const std::string& db_url) {
  if (!node.wait_state(load_object, "DATA_SYNCED", 120s))
    throw std::runtime_error("the load mapping did not reach DATA_SYNCED");
  std::vector<std::string> ids;
  {
    pqxx::connection conn(db_url);
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec(std::string("SELECT sfid FROM salesforce.") + load_table + " ORDER BY sfid"))
      ids.push_back(row[0].as<std::string>());
  }
  if (ids.size() != static_cast<size_t>(load_records))
    throw std::runtime_error("the load mapping's initial load brought " + std::to_string(ids.size()) + " of " +
                             std::to_string(load_records) + " records");
  auto bg = std::make_unique<background_load>(db_url, ctx.sfemu_url, std::move(ids));
  bg->start();
  std::this_thread::sleep_for(background_warm_up);
  return bg;
}

/// The background's figures, and how far the node was behind it when it stopped: its inserts
/// not yet written back (no sfid).
json stop_background(background_load& bg, const std::string& db_url) {
  json out = bg.stop();
  out["inserts_not_yet_written_back_at_end"] =
    pg_count(db_url, std::string("SELECT count(*) FROM salesforce.") + load_table + " WHERE sfid IS NULL");
  return out;
}

// ---- the measurements -------------------------------------------------------------------

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

/// (a); `loaded`: with the background load on a second mapping of the same connection (and 1 s polls,
/// which the background's updates need).
json commit_to_sfemu(context& ctx, sfemu_api& emu, bool loaded) {
  const int writes = ctx.quick ? 200 : 1000;
  emu.reset();
  emu.define(latency_schema(loaded));
  if (loaded)
    load_load_records(emu);
  emu.login();
  emu.http().set_fresh_connections(true); // a probe answered at once, not ~40 ms late on a reused connection
  scratch_db db(ctx.admin_url, ctx.next_db_name(loaded ? "latency_a_load" : "latency_a"));
  std::string name = loaded ? "latency_commit_loaded" : "latency_commit";
  json mappings = json::array({bench_mapping(true)});
  if (loaded)
    mappings.push_back(load_mapping());
  node_run node(ctx, name, db.url(), node_config(ctx.sfemu_url, mappings), {},
                loaded ? std::optional<int>(1) : std::nullopt);
  if (!node.wait_state(bench_object, "DATA_SYNCED", 120s))
    return json{{"not_run", "the mapping did not reach DATA_SYNCED (see " + ctx.log_path(name) + ")"}};
  std::unique_ptr<background_load> bg;
  if (loaded)
    bg = start_background(ctx, node, db.url());
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
      json why{{"not_run", "write " + std::to_string(i) + " did not reach sfemu within 30 s"}};
      if (bg)
        why["background"] = stop_background(*bg, db.url());
      node.stop();
      return why;
    }
    samples.push_back(seconds_since(start) * 1000);
  }
  json background;
  if (bg)
    background = stop_background(*bg, db.url());
  node.stop();
  json out = percentiles(samples);
  out["writes"] = writes;
  if (loaded)
    out["background"] = background;
  out["probe_round_trip_p50_ms"] = probe_ms;
  out["single_create_call_p50_ms"] = create_ms;
  out["p50_ratio_to_single_create_call"] = ratio(out["p50_ms"].get<double>(), create_ms);
  out["how"] = "single-row INSERT (autocommit) in PostgreSQL, then GET /sobjects/<Obj>/Ext_Id__c/<value> (a fresh "
               "connection each) every ~1 ms until 200; merged writes (default features)";
  return out;
}

/// (b); `loaded`: with the background load on a second mapping of the same connection.
json sfemu_to_pg(context& ctx, sfemu_api& emu, bool loaded) {
  const int changes = ctx.quick ? 15 : 60;
  constexpr int poll_seconds = 1;
  emu.reset();
  emu.define(latency_schema(loaded));
  load_bench_records(emu, 100);
  if (loaded)
    load_load_records(emu);
  emu.login();
  scratch_db db(ctx.admin_url, ctx.next_db_name(loaded ? "latency_b_load" : "latency_b"));
  std::string name = loaded ? "latency_poll_loaded" : "latency_poll";
  json mappings = json::array({bench_mapping(false)});
  if (loaded)
    mappings.push_back(load_mapping());
  node_run node(ctx, name, db.url(), node_config(ctx.sfemu_url, mappings), {}, poll_seconds);
  if (!node.wait_state(bench_object, "DATA_SYNCED", 120s))
    return json{{"not_run", "the mapping did not reach DATA_SYNCED (see " + ctx.log_path(name) + ")"}};
  std::unique_ptr<background_load> bg;
  if (loaded)
    bg = start_background(ctx, node, db.url());
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
      json why{{"not_run", "change " + std::to_string(i) + " did not reach PostgreSQL within 30 s"}};
      if (bg)
        why["background"] = stop_background(*bg, db.url());
      node.stop();
      return why;
    }
    samples.push_back(seconds_since(start) * 1000);
  }
  json background;
  if (bg)
    background = stop_background(*bg, db.url());
  node.stop();
  json out = percentiles(samples);
  out["changes"] = changes;
  if (loaded)
    out["background"] = background;
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
  auto part = [&](const char* key, const char* what, json (*measure)(context&, sfemu_api&, bool), bool loaded) {
    note(std::string("scenario 3") + what + (loaded ? ", under a background load" : ""));
    try {
      out[key] = measure(ctx, emu, loaded);
    } catch (const std::exception& e) {
      out[key] = json{{"not_run", std::string("failed: ") + e.what()}};
    }
  };
  part("commit_to_sfemu", "a: commit in PostgreSQL -> visible in sfemu", commit_to_sfemu, false);
  part("commit_to_sfemu_loaded", "a: commit in PostgreSQL -> visible in sfemu", commit_to_sfemu, true);
  part("sfemu_to_pg", "b: change in sfemu -> visible in PostgreSQL", sfemu_to_pg, false);
  part("sfemu_to_pg_loaded", "b: change in sfemu -> visible in PostgreSQL", sfemu_to_pg, true);
  out["background_records_per_sec_each_way"] = background_rate;
  emu.reset();
  return out;
}

} // namespace syncforce::bench
