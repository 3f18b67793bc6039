// Micro-benchmarks for the Heroku Connect side: hstore text (the trigger
// log's `values`/`old`) and Salesforce wire value conversion for COPY.
#include <string>

#include <benchmark/benchmark.h>

#include "sync/hstore.hpp"
#include "sync/type_mapping.hpp"

namespace {

/// A trigger-log hstore like a 40-column Contact row, with escapes and NULLs.
std::string sample_hstore(int columns) {
  syncforce::hstore h;
  for (int i = 0; i < columns; ++i) {
    auto key = "field_" + std::to_string(i) + "__c";
    if (i % 7 == 0)
      h.set(key, std::nullopt);
    else if (i % 5 == 0)
      h.set(key, std::string{"text with \"quotes\" and \\backslash\\ #"} + std::to_string(i));
    else
      h.set(key, "value " + std::to_string(i * 1234567));
  }
  return syncforce::to_hstore_text(h);
}

void BM_hstore_parse(benchmark::State& state) {
  const auto text = sample_hstore(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto r = syncforce::parse_hstore(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_hstore_parse)->Arg(10)->Arg(40)->Arg(200);

void BM_hstore_write(benchmark::State& state) {
  const auto parsed = syncforce::parse_hstore(sample_hstore(static_cast<int>(state.range(0))));
  const auto& h = *parsed.value;
  for (auto _ : state) {
    auto text = syncforce::to_hstore_text(h);
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_hstore_write)->Arg(10)->Arg(40)->Arg(200);

void BM_convert_datetime(benchmark::State& state) {
  for (auto _ : state) {
    auto v = syncforce::convert_wire_value(syncforce::pg_value_kind::timestamp, "2013-05-20T20:49:32.000+0000");
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_convert_datetime);

void BM_copy_line(benchmark::State& state) {
  syncforce::pg_row row;
  for (int i = 0; i < 25; ++i)
    row.push_back(i % 9 == 0 ? std::nullopt : std::optional<std::string>{"value\twith tab " + std::to_string(i)});
  std::string line;
  for (auto _ : state) {
    line.clear();
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0)
        line.push_back('\t');
      syncforce::append_copy_field(line, row[i]);
    }
    benchmark::DoNotOptimize(line);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_copy_line);

} // namespace
