// Scenario 8: the cost of an idle poll over a SystemModstamp tie (issue 14).
// 20,000 records share one SystemModstamp (what a Bulk load or a mass update
// does in a real org); once loaded, every poll with nothing changed should be
// one API call (the keyset count) and read no row. The baseline, in the same
// run: an object of one record. Calls come from sfemu's counters, polls and
// rows from the node's own poll lines (`read=N api_calls=N`).
#include "bench/scenarios/harness.hpp"

#include <regex>
#include <thread>

namespace syncforce::bench {

namespace {

constexpr const char* tie_object = "Tie__c";
constexpr const char* tie_stamp = "2024-04-01T00:00:00.000Z";

json tie_schema() {
  return json{{"objects", json::array({{{"name", tie_object},
                                        {"label", "Tie"},
                                        {"fields", json::array({{{"name", "Ext_Id__c"},
                                                                 {"type", "string"},
                                                                 {"length", 40},
                                                                 {"external_id", true},
                                                                 {"unique", true}}})}}})}};
}

json tie_mapping() {
  json fields = json::object();
  for (const char* f : {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name", "Ext_Id__c"})
    fields[f] = json::object();
  return json::array({{{"object_name", tie_object},
                       {"config", {{"access", "read_only"}, {"sf_polling_seconds", 120}, {"fields", fields}}}}});
}

struct poll_totals {
  long polls = 0;
  long read = 0;
  long api_calls = 0;
};

/// The poll lines in `log`: how many, rows read and calls they report.
poll_totals poll_lines(const std::string& log) {
  static const std::regex line_re("event=\"Polling Salesforce found \\d+ updated records\"[^\\n]* read=(\\d+)"
                                  "[^\\n]* api_calls=(\\d+)");
  poll_totals t;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line_re); it != std::sregex_iterator(); ++it) {
    ++t.polls;
    t.read += std::stol((*it)[1].str());
    t.api_calls += std::stol((*it)[2].str());
  }
  return t;
}

json measure(context& ctx, sfemu_api& emu, long records, double window_secs) {
  emu.reset();
  emu.define(tie_schema());
  std::string csv = "Name,Ext_Id__c,SystemModstamp\n";
  for (long i = 0; i < records; ++i)
    csv += "T" + std::to_string(i) + ",T-" + std::to_string(i) + "," + tie_stamp + "\n";
  emu.load_csv(tie_object, csv);
  scratch_db db(ctx.admin_url, ctx.next_db_name("tie"));
  std::string name = "tie_" + std::to_string(records);
  node_run node(ctx, name, db.url(), node_config(ctx.sfemu_url, tie_mapping()), {"--log-level", "debug"}, 1);
  if (!node.wait_state(tie_object, "DATA_SYNCED", std::chrono::minutes(5))) {
    node.stop();
    return json{{"records", records}, {"not_run", "the mapping did not reach DATA_SYNCED (see " +
                                                    ctx.log_path(name) + ")"}};
  }
  // The load's own polls settle first (a mark within the settling window re-reads its stamp).
  std::this_thread::sleep_for(3s);
  emu.reset_counters();
  auto before = node.proc().output().size();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(window_secs * 1000)));
  auto counters = emu.counters();
  auto out = node.proc().output();
  node.stop();
  auto polls = poll_lines(out.substr(std::min(before, out.size())));
  long calls = counters.value("total", 0L);
  json r{{"records", records},
         {"window_secs", window_secs},
         {"polls", polls.polls},
         {"api_calls_sfemu", calls},
         {"api_calls_logged", polls.api_calls},
         {"rows_read", polls.read},
         {"calls_by_route", counters.value("by_route", json::object())},
         {"bulk_polls", static_cast<long>(out.find("via BULK (") != std::string::npos)}};
  if (polls.polls > 0) {
    r["calls_per_idle_poll"] = std::round(static_cast<double>(polls.api_calls) / polls.polls * 100) / 100;
    r["rows_per_idle_poll"] = std::round(static_cast<double>(polls.read) / polls.polls * 100) / 100;
  }
  return r;
}

} // namespace

json scenario_tie(context& ctx) {
  auto sfemu = start_sfemu(ctx, "sfemu_tie");
  sfemu_api emu(ctx.sfemu_url);
  const double window = ctx.quick ? 6 : 20;
  note("scenario 8: idle polls over one record (baseline)");
  auto base = measure(ctx, emu, 1, window);
  note("scenario 8: idle polls over a 20,000-record SystemModstamp tie");
  auto tie = measure(ctx, emu, 20000, window);
  if (!base.contains("not_run") && !tie.contains("not_run") && base.contains("calls_per_idle_poll") &&
      tie.contains("calls_per_idle_poll"))
    tie["calls_per_poll_ratio_to_baseline"] =
      ratio(tie["calls_per_idle_poll"].get<double>(), base["calls_per_idle_poll"].get<double>());
  emu.reset();
  return json{{"baseline", base}, {"tie", tie}};
}

} // namespace syncforce::bench
