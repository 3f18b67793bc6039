// Micro-benchmark of a write cycle's planning (issue 16): the claimed trigger
// log entries' hstore text parsed and planned, as the writer does between its
// claim and its first call (`Write cycle phases`: plan).
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "sync/hstore.hpp"
#include "sync/write_plan.hpp"

namespace {

/// The `values` of an INSERT into a 20-field mapping like bench/run's object: system columns, an
/// external id, texts, numbers, a flag and NULLs.
std::string insert_values(int i) {
  syncforce::hstore h;
  h.set("id", std::to_string(i + 1));
  h.set("sfid", std::nullopt);
  h.set("systemmodstamp", std::nullopt);
  h.set("createddate", std::nullopt);
  h.set("isdeleted", std::nullopt);
  h.set("name", "Written " + std::to_string(i));
  h.set("ext_id__c", "W" + std::to_string(i));
  h.set("email__c", "w" + std::to_string(i) + "@example.com");
  h.set("flag_1__c", i % 2 == 0 ? "t" : "f");
  for (int f = 1; f <= 8; ++f)
    h.set("text_" + std::to_string(f) + "__c", f == 1 ? "inserted " + std::to_string(i) : std::optional<std::string>{});
  for (int f = 1; f <= 6; ++f)
    h.set("number_" + std::to_string(f) + "__c", f == 1 ? std::to_string(i / 4.0) : std::optional<std::string>{});
  h.set("stamp__c", std::nullopt);
  h.set("day__c", std::nullopt);
  return syncforce::to_hstore_text(h);
}

/// Parses and plans `n` claimed INSERT entries of one table in ordered mode (Bulk 2.0 when long enough).
void BM_plan_ordered_inserts(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  std::vector<std::string> texts;
  texts.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    texts.push_back(insert_values(i));
  syncforce::table_write_configs tables{{"bench_object__c", {true, std::string("ext_id__c")}}};
  syncforce::write_plan_settings settings;
  settings.mode = syncforce::write_mode::ordered;
  settings.api_version = 60.0;
  for (auto _ : state) {
    std::vector<syncforce::write_entry> entries;
    entries.reserve(texts.size());
    for (int i = 0; i < n; ++i) {
      syncforce::write_entry e;
      e.id = i + 1;
      e.action = syncforce::write_action::insert;
      e.table_name = "bench_object__c";
      e.record_id = i + 1;
      e.values = std::move(*syncforce::parse_hstore(texts[static_cast<std::size_t>(i)]).value);
      entries.push_back(std::move(e));
    }
    auto plan = syncforce::plan_writes(std::move(entries), tables, settings);
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_plan_ordered_inserts)->Arg(10000)->Unit(benchmark::kMillisecond);

} // namespace
