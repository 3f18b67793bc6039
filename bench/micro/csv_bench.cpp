// CSV codec micro-benchmarks: encode and decode a 20-column row set
// (the shape of a Bulk API 2.0 job file), reported in bytes/s and rows/s;
// plus sfemu's Bulk 2.0 ingest of such a file (records/s through the org's write path).
#include "emulator/bulk/engine.hpp"
#include "emulator/clock.hpp"
#include "emulator/org.hpp"
#include "sync/csv.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

namespace csv = syncforce::csv;

constexpr int columns = 20;

/// A deterministic 20-column row set: ids, names, numbers, dates, text that
/// sometimes needs quotes, and some nulls.
std::vector<std::vector<std::string>> make_rows(int n) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      switch (c % 5) {
        case 0: row.push_back("001000000000" + std::to_string(100000 + i)); break;
        case 1: row.push_back("Account name " + std::to_string(i)); break;
        case 2: row.push_back(std::to_string(i * 31 + c) + ".25"); break;
        case 3: row.push_back("2024-01-" + std::to_string(10 + c % 18) + "T10:00:00.000Z"); break;
        default:
          row.push_back(i % 7 == 0 ? "Suite 5, \"Main\" street" : (i % 11 == 0 ? "#N/A" : ""));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string encode(const std::vector<std::vector<std::string>>& rows) {
  csv::writer w;
  for (const auto& r : rows)
    w.write_row(r);
  return w.take();
}

void bm_csv_encode(benchmark::State& state) {
  auto rows = make_rows(static_cast<int>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = encode(rows);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void bm_csv_decode(benchmark::State& state) {
  auto text = encode(make_rows(static_cast<int>(state.range(0))));
  const std::size_t chunk = 64 * 1024;  // as it would arrive from the network
  for (auto _ : state) {
    csv::parser p;
    std::size_t fields = 0;
    auto on_row = [&](const csv::row& r) { fields += r.size(); };
    for (std::size_t i = 0; i < text.size(); i += chunk)
      p.feed(std::string_view(text).substr(i, chunk), on_row);
    p.finish(on_row);
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

/// sfemu Bulk 2.0: one insert job of `n` Accounts (Name plus 9 text/number fields).
void bm_bulk_ingest(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  csv::writer w;
  w.write_row({"Name", "Phone", "Website", "Industry", "Description", "BillingCity", "BillingState",
               "BillingPostalCode", "NumberOfEmployees", "AnnualRevenue"});
  for (int i = 0; i < n; ++i) {
    auto s = std::to_string(i);
    w.write_row({"Account " + s, "555-" + s, "https://x" + s + ".example.com", "Banking",
                 "Customer, since " + s, "Paris", "IDF", "75001", std::to_string(i % 5000),
                 std::to_string(i * 10)});
  }
  const std::string data = w.take();
  for (auto _ : state) {
    state.PauseTiming();
    sfemu::clock clk;
    sfemu::org org{clk};
    sfemu::bulk::engine bulk{org, clk};
    auto user = org.find_user("admin@sfemu.local")->id;
    auto job = bulk.create_ingest({{"object", "Account"}, {"operation", "insert"}}, user, "60.0");
    std::string id = (*job.value)["id"];
    bulk.upload(id, data);
    state.ResumeTiming();
    bulk.set_state(sfemu::bulk::job_kind::ingest, id, {{"state", "UploadComplete"}});
    bulk.wait_idle(std::chrono::minutes(5));
    state.PauseTiming();
    auto info = bulk.info(sfemu::bulk::job_kind::ingest, id);
    if ((*info.value)["numberRecordsProcessed"] != n || (*info.value)["numberRecordsFailed"] != 0)
      state.SkipWithError("the ingest job did not write every record");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}

} // namespace

BENCHMARK(bm_bulk_ingest)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_csv_encode)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_csv_decode)->Arg(10000)->Unit(benchmark::kMillisecond);
