// Micro-benchmarks of sfemu's SOQL engine: parsing a typical poll query, compiling it
// against a schema, evaluating WHERE over many records, and ORDER BY sorting.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "emulator/soql/soql.hpp"

namespace {

using namespace sfemu::soql;

constexpr std::int64_t base_ms = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

const char* const poll_query =
  "SELECT Id, Name, Industry, AnnualRevenue, IsDeleted, SystemModstamp FROM Account "
  "WHERE SystemModstamp > 2024-01-01T00:00:00.000Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000";

/// A one-object schema with fields in slots 0..6.
class bench_schema final : public schema_view {
public:
  bench_schema()
    : account_("Account", {{"Id", field_type::id, 0},
                           {"Name", field_type::string, 1},
                           {"Industry", field_type::picklist, 2},
                           {"AnnualRevenue", field_type::currency, 3},
                           {"IsDeleted", field_type::boolean, 4},
                           {"SystemModstamp", field_type::datetime, 5},
                           {"NumberOfEmployees", field_type::integer, 6}}) {}
  const object_info* find_object(std::string_view name) const override {
    return iequals(name, "Account") ? &account_ : nullptr;
  }

private:
  basic_object_info account_;
};

/// A record as a flat array of cells, strings owned alongside.
struct flat_record {
  std::string id;
  std::string name;
  std::array<value, 7> cells;
};

class flat_view final : public record_view {
public:
  explicit flat_view(const flat_record* r) : r_(r) {}
  value get(const field_handle& h) const override { return r_->cells[h.field.slot]; }

private:
  const flat_record* r_;
};

std::vector<std::unique_ptr<flat_record>> make_records(std::size_t n) {
  static const char* const industries[] = {"Energy", "Banking", "Retail", "Media"};
  std::vector<std::unique_ptr<flat_record>> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto r = std::make_unique<flat_record>();
    r->id = "001Ab" + std::to_string(1'000'000'000 + i) + "AAA";
    r->name = "Account " + std::to_string(i);
    r->cells[0] = value::string(r->id);
    r->cells[1] = value::string(r->name);
    r->cells[2] = value::string(industries[i % 4]);
    r->cells[3] = i % 7 == 0 ? value::null() : value::decimal(static_cast<double>(i % 1000) * 10.5);
    r->cells[4] = value::boolean(i % 50 == 0);
    // Millisecond stamps over a few days, with ties.
    r->cells[5] = value::datetime(base_ms - 86'400'000 + static_cast<std::int64_t>((i * 7919) % 300'000'000));
    r->cells[6] = value::integer(static_cast<std::int64_t>(i % 5000));
    out.push_back(std::move(r));
  }
  return out;
}

void BM_soql_parse_poll_query(benchmark::State& state) {
  for (auto _ : state) {
    auto q = parse(poll_query);
    benchmark::DoNotOptimize(q);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_soql_parse_poll_query);

void BM_soql_compile_poll_query(benchmark::State& state) {
  bench_schema schema;
  for (auto _ : state) {
    auto b = compile(poll_query, schema);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_soql_compile_poll_query);

void run_where(benchmark::State& state, const char* soql) {
  bench_schema schema;
  auto records = make_records(static_cast<std::size_t>(state.range(0)));
  auto b = compile(soql, schema);
  if (!b) {
    state.SkipWithError(b.error().message.c_str());
    return;
  }
  const eval_context ctx{base_ms, 0};
  for (auto _ : state) {
    std::size_t hits = 0;
    for (const auto& r : records)
      hits += matches(*b, flat_view(r.get()), ctx) ? 1 : 0;
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_soql_where_systemmodstamp(benchmark::State& state) {
  run_where(state, poll_query);
}
BENCHMARK(BM_soql_where_systemmodstamp)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_soql_where_mixed(benchmark::State& state) {
  run_where(state,
            "SELECT Id FROM Account WHERE (Industry IN ('energy', 'Media') AND Name LIKE 'account 1%') "
            "OR (AnnualRevenue > 5000 AND NOT IsDeleted = true) OR SystemModstamp = TODAY");
}
BENCHMARK(BM_soql_where_mixed)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_soql_order_by(benchmark::State& state) {
  bench_schema schema;
  auto records = make_records(static_cast<std::size_t>(state.range(0)));
  auto b = compile(poll_query, schema);
  if (!b) {
    state.SkipWithError(b.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<flat_view> views;
    views.reserve(records.size());
    for (const auto& r : records)
      views.emplace_back(r.get());
    state.ResumeTiming();
    std::stable_sort(views.begin(), views.end(),
                     [&](const flat_view& x, const flat_view& y) { return compare_for_order(*b, x, y) < 0; });
    benchmark::DoNotOptimize(views.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_soql_order_by)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_soql_order_by_extracted_keys(benchmark::State& state) {
  bench_schema schema;
  auto records = make_records(static_cast<std::size_t>(state.range(0)));
  auto b = compile(poll_query, schema);
  if (!b) {
    state.SkipWithError(b.error().message.c_str());
    return;
  }
  const std::size_t k = b->order_by().size();
  for (auto _ : state) {
    std::vector<value> keys(records.size() * k);
    std::vector<std::uint32_t> order(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      extract_order_keys(*b, flat_view(records[i].get()), &keys[i * k]);
      order[i] = static_cast<std::uint32_t>(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
      return compare_order_keys(*b, &keys[x * k], &keys[y * k]) < 0;
    });
    benchmark::DoNotOptimize(order.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_soql_order_by_extracted_keys)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

} // namespace
