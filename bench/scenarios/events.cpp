// Scenario 9: change events (issue 14). A steady stream of changes in sfemu (100/s, then
// 1,000/s) reaches PostgreSQL through a mapping with accelerated sync (Pub/Sub API change
// events): latency from the change to the row written in PostgreSQL (p50/p99), whether the
// node keeps up, and what it costs in API calls. The baseline, in the same run and on the
// same changes: a bare Pub/Sub subscriber in this process, i.e. the time sfemu takes to
// deliver the event at all. The ratio (engine p50 / bare subscriber p50) is what the engine
// adds: decoding, the upsert path and its commit.
//
// How a change is timed: each change sets Text_1__c to a unique "ev <n>", and the wall
// clock just before its request is kept. A trigger of the scenario's own on the mapped
// table records clock_timestamp() when the engine writes that value (its transaction
// commits right after the page it belongs to). Same host, same clock.
#include "bench/scenarios/harness.hpp"

#include "eventbus/v1/pubsub_api.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <pqxx/pqxx>

#include <atomic>
#include <mutex>
#include <regex>
#include <thread>

namespace syncforce::bench {

namespace {

namespace ev = eventbus::v1;
using wall = std::chrono::system_clock;

double ms_between(wall::time_point a, wall::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

/// The session a bare subscriber authenticates with (the Pub/Sub metadata).
struct org_session {
  std::string token, instance_url, org_id;
};

org_session login_session(sfemu_api& emu) {
  std::string form = "grant_type=password&client_id=bench&client_secret=bench&username=" +
                     emu.http().escape("admin@sfemu.local") + "&password=" + emu.http().escape("sfemu");
  http_client http;
  auto r = expect(http.request("POST", emu.base_url() + "/services/oauth2/token", form,
                               "application/x-www-form-urlencoded"),
                  {200}, "OAuth login");
  auto j = json::parse(r.body);
  org_session s;
  s.token = j.at("access_token").get<std::string>();
  s.instance_url = j.at("instance_url").get<std::string>();
  auto id = j.at("id").get<std::string>(); // .../id/<orgId>/<userId>
  s.org_id = id.substr(id.find("/id/") + 4, 18);
  return s;
}

/// A Pub/Sub subscriber on its own thread that keeps the receive time of every event.
class bare_subscriber {
public:
  bare_subscriber(int port, org_session session, std::string topic)
    : stub_(ev::PubSub::NewStub(
          grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()))),
      session_(std::move(session)), topic_(std::move(topic)) {
    ctx_.AddMetadata("accesstoken", session_.token);
    ctx_.AddMetadata("instanceurl", session_.instance_url);
    ctx_.AddMetadata("tenantid", session_.org_id);
    stream_ = stub_->Subscribe(&ctx_);
    ev::FetchRequest first;
    first.set_topic_name(topic_);
    first.set_replay_preset(ev::LATEST);
    first.set_num_requested(batch);
    stream_->Write(first);
    thread_ = std::thread([this] { run(); });
  }
  ~bare_subscriber() {
    ctx_.TryCancel();
    if (thread_.joinable())
      thread_.join();
  }
  /// True once sfemu answered (a keepalive): the subscription is in place, later changes reach it.
  bool wait_ready(std::chrono::milliseconds timeout) {
    return wait_until([this] { return ready_.load(); }, timeout, 5ms);
  }
  std::vector<wall::time_point> times() {
    std::lock_guard<std::mutex> lock(mutex_);
    return times_;
  }

private:
  static constexpr int batch = 100;
  void run() {
    ev::FetchResponse resp;
    while (stream_->Read(&resp)) {
      auto now = wall::now();
      ready_ = true;
      if (resp.events_size() == 0)
        continue;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        for (int i = 0; i < resp.events_size(); ++i)
          times_.push_back(now);
      }
      ev::FetchRequest more;
      more.set_num_requested(resp.events_size()); // keep `batch` outstanding
      stream_->Write(more);
    }
  }
  std::unique_ptr<ev::PubSub::Stub> stub_;
  org_session session_;
  std::string topic_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<ev::FetchRequest, ev::FetchResponse>> stream_;
  std::thread thread_;
  std::atomic<bool> ready_{false};
  std::mutex mutex_;
  std::vector<wall::time_point> times_;
};

/// Sends `rate` changes per second for `seconds` as collections (PATCH composite/sobjects), on
/// schedule: each round sends what is due by now (at most 200). Returns each change's send time,
/// indexed by its number.
std::vector<wall::time_point> send_changes(sfemu_api& emu, const std::vector<std::string>& ids, long first,
                                           int rate, double seconds) {
  const long total = static_cast<long>(rate * seconds);
  std::vector<wall::time_point> sent;
  sent.reserve(static_cast<std::size_t>(total));
  auto start = clock_type::now();
  long next = 0;
  while (next < total) {
    long due = std::min<long>(total, static_cast<long>(seconds_since(start) * rate) + 1);
    if (due <= next) {
      std::this_thread::sleep_for(1ms);
      continue;
    }
    long n = std::min<long>(due - next, 200);
    json records = json::array();
    for (long k = 0; k < n; ++k) {
      long seq = first + next + k;
      records.push_back({{"attributes", {{"type", bench_object}}},
                         {"id", ids[static_cast<std::size_t>(seq) % ids.size()]},
                         {"Text_1__c", "ev " + std::to_string(seq)}});
    }
    auto at = wall::now();
    expect(emu.http().request("PATCH", emu.rest("composite/sobjects"),
                              json{{"allOrNone", false}, {"records", records}}.dump()),
           {200}, "PATCH collection");
    for (long k = 0; k < n; ++k)
      sent.push_back(at);
    next += n;
  }
  return sent;
}

/// One rate: changes sent, the engine's and the bare subscriber's latencies, whether it kept up.
json measure_rate(sfemu_api& emu, const std::string& db_url, int pubsub_port, const org_session& session,
                  const std::vector<std::string>& ids, long& first, int rate, double seconds) {
  pg_exec(db_url, "TRUNCATE bench_seen");
  emu.reset_counters();
  bare_subscriber bare(pubsub_port, session, std::string("/data/") +
                                                 std::string(bench_object).substr(0, std::string(bench_object).size() - 3) +
                                                 "__ChangeEvent");
  if (!bare.wait_ready(10s))
    return json{{"not_run", "the bare subscriber got no answer from sfemu's Pub/Sub API"}};
  const long begin = first;
  auto sent = send_changes(emu, ids, begin, rate, seconds);
  auto last_sent = wall::now();
  const long total = static_cast<long>(sent.size());
  first += total;
  // Wait for every value to be written (or give up: the node fell behind for good).
  auto seen_all = [&] {
    return pg_count(db_url, "SELECT count(DISTINCT v) FROM bench_seen") >= total;
  };
  bool complete = wait_until(seen_all, 120s, 20ms);
  double drained_ms = ms_between(last_sent, wall::now());
  auto counters = emu.counters();

  std::vector<double> engine_ms;
  long rewrites = 0;
  {
    pqxx::connection conn(db_url);
    pqxx::nontransaction tx(conn);
    // the first time each value was written (a later rewrite, e.g. by the safety-net poll, is counted apart)
    for (const auto& row : tx.exec("SELECT v, extract(epoch FROM min(at)) * 1000000, count(*) FROM bench_seen "
                                   "GROUP BY v")) {
      long seq = std::stol(row[0].as<std::string>().substr(3)) - begin;
      if (seq < 0 || seq >= total)
        continue;
      auto at = wall::time_point(std::chrono::microseconds(static_cast<long long>(row[1].as<double>())));
      engine_ms.push_back(ms_between(sent[static_cast<std::size_t>(seq)], at));
      rewrites += row[2].as<long>() - 1;
    }
  }
  auto bare_times = bare.times();
  std::vector<double> bare_ms;
  for (std::size_t i = 0; i < bare_times.size() && i < sent.size(); ++i)
    bare_ms.push_back(ms_between(sent[i], bare_times[i]));

  json out;
  out["rate_per_sec"] = rate;
  out["changes"] = total;
  out["seconds"] = seconds;
  out["applied"] = engine_ms.size();
  out["missing"] = total - static_cast<long>(engine_ms.size());
  out["rewrites"] = rewrites;
  out["kept_up"] = complete;
  out["drained_after_last_change_ms"] = std::round(drained_ms);
  out["engine"] = percentiles(engine_ms);
  out["bare_subscriber"] = percentiles(bare_ms);
  out["bare_subscriber_events"] = bare_times.size();
  if (!engine_ms.empty() && !bare_ms.empty())
    out["p50_ratio_to_bare_subscriber"] =
      ratio(out["engine"]["p50_ms"].get<double>(), out["bare_subscriber"]["p50_ms"].get<double>());
  long node_calls = 0;
  if (counters.contains("by_client"))
    for (auto& [client, n] : counters["by_client"].items())
      if (client.rfind("syncforce/", 0) == 0)
        node_calls += n.get<long>();
  out["node_api_calls_during_run"] = node_calls;
  return out;
}

} // namespace

json scenario_events(context& ctx) {
  auto sfemu = start_sfemu(ctx, "sfemu_events", {"--pubsub-port", "0", "--pubsub-keepalive-seconds", "1"});
  std::smatch m;
  std::string out = sfemu->output();
  if (!std::regex_search(out, m, std::regex(R"(sfemu pubsub on [0-9.]+:(\d+))")))
    return json{{"not_run", "sfemu did not announce its Pub/Sub port"}};
  const int pubsub_port = std::stoi(m[1].str());
  sfemu_api emu(ctx.sfemu_url);
  emu.reset();
  emu.define(bench_schema());
  const long records = 2000;
  load_bench_records(emu, records);
  emu.login();
  scratch_db db(ctx.admin_url, ctx.next_db_name("events"));
  json mapping = bench_mapping(false, 600); // the safety-net poll every 10 minutes: events carry the changes
  mapping["config"]["sf_notify_enabled"] = true; // accelerated sync (docs/sync-read.md)
  node_run node(ctx, "events", db.url(), node_config(ctx.sfemu_url, json::array({mapping})),
                {"--pubsub-endpoint", "http://127.0.0.1:" + std::to_string(pubsub_port)});
  if (!node.wait_state(bench_object, "DATA_SYNCED", 180s))
    return json{{"not_run", "the mapping did not reach DATA_SYNCED (see " + ctx.log_path("events") + ")"}};
  std::string table = std::string("salesforce.") + bench_table;
  pg_exec(db.url(), "CREATE TABLE bench_seen (v text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());"
                    "CREATE FUNCTION bench_seen_capture() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "INSERT INTO bench_seen (v) VALUES (NEW.text_1__c); RETURN NULL; END $$;"
                    "CREATE TRIGGER zz_bench_seen AFTER INSERT OR UPDATE ON " + table +
                    " FOR EACH ROW WHEN (NEW.text_1__c LIKE 'ev %') EXECUTE FUNCTION bench_seen_capture()");
  std::vector<std::string> ids;
  {
    pqxx::connection conn(db.url());
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT sfid FROM " + table + " ORDER BY sfid"))
      ids.push_back(row[0].as<std::string>());
  }
  if (ids.size() != static_cast<std::size_t>(records))
    return json{{"not_run", "the initial load did not bring the records"}};
  auto session = login_session(emu);
  // Wait until the subscription is live: a warm-up change must arrive by event.
  long seq = 0;
  {
    pg_exec(db.url(), "TRUNCATE bench_seen");
    send_changes(emu, ids, seq, 10, 0.1);
    seq += 1;
    if (!wait_until([&] { return pg_count(db.url(), "SELECT count(*) FROM bench_seen") > 0; }, 60s)) {
      auto log = node.stop();
      return json{{"not_run", "a change did not arrive within 60 s with the poll 10 minutes away: change events "
                              "are not applied by this syncforced (see " + ctx.log_path("events") + ")"}};
    }
  }
  json result;
  note("scenario 9: 100 changes/s");
  result["steady_100_per_sec"] = measure_rate(emu, db.url(), pubsub_port, session, ids, seq, 100, ctx.quick ? 10 : 30);
  note("scenario 9: 1000 changes/s");
  result["steady_1000_per_sec"] = measure_rate(emu, db.url(), pubsub_port, session, ids, seq, 1000, ctx.quick ? 5 : 15);
  node.stop();
  result["records"] = records;
  result["how"] = "collections of Text_1__c changes sent on a steady schedule; the engine's latency is the wall time "
                  "from just before each change's request to the trigger that sees the row written; the baseline is "
                  "a bare Pub/Sub subscriber in the bench process receiving the same events";
  emu.reset();
  return result;
}

} // namespace syncforce::bench
