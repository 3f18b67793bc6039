// Decoding one REST query page (2000 records of a 20-field object, the largest
// page Salesforce sends) with simdjson on-demand vs nlohmann-json. Both decoders
// visit every field of every record and fold it into the same checksum, so
// they do the same work; the result is reported as records/s.
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

// ---- the page --------------------------------------------------------------------

constexpr int page_records = 2000;

/// A REST query page like sfemu and Salesforce send: attributes, Id, Name,
/// system fields, and 14 custom fields of the common types (some null).
std::string make_page(int records) {
  std::string out;
  out.reserve(static_cast<size_t>(records) * 900);
  out += "{\"totalSize\":1000000,\"done\":false,\"nextRecordsUrl\":"
         "\"/services/data/v60.0/query/01gD0000002HU6KIAW-2000\",\"records\":[";
  char buf[2048];
  for (int i = 0; i < records; ++i) {
    if (i > 0)
      out += ',';
    const char* id_fmt = "a01D%015d";
    char id[32];
    std::snprintf(id, sizeof id, id_fmt, i);
    std::snprintf(
      buf, sizeof buf,
      "{\"attributes\":{\"type\":\"Bench_Object__c\",\"url\":\"/services/data/v60.0/sobjects/Bench_Object__c/%s\"},"
      "\"Id\":\"%s\",\"Name\":\"Bench record %d\",\"IsDeleted\":false,"
      "\"CreatedDate\":\"2024-05-20T20:49:32.000+0000\",\"SystemModstamp\":\"2024-05-21T08:%02d:%02d.%03d+0000\","
      "\"Text_1__c\":\"alpha %d\",\"Text_2__c\":\"quoted \\\"value\\\" %d\",\"Text_3__c\":\"caf\\u00e9 %d\","
      "\"Text_4__c\":null,\"Email__c\":\"user%d@example.com\",\"Phone__c\":\"+1 555 %04d\","
      "\"Amount__c\":%d.25,\"Percent__c\":%d.5,\"Quantity__c\":%d,\"Score__c\":-%d,"
      "\"Active__c\":%s,\"Flag__c\":true,\"Start_Date__c\":\"2024-01-%02d\",\"Picklist__c\":\"Option %d\","
      "\"Description__c\":\"A longer free-text description for record number %d, with some words in it.\"}",
      id, id, i, i % 60, (i * 7) % 60, i % 1000, i, i, i, i, i % 10000, i * 3, i % 100, i, i % 500,
      (i % 2) ? "true" : "false", 1 + i % 28, i % 5, i);
    out += buf;
  }
  out += "]}";
  return out;
}

const std::string& page() {
  static const std::string p = make_page(page_records);
  return p;
}

// ---- nlohmann-json -------------------------------------------------------------------

uint64_t fold_nlohmann(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      return v.get_ref<const std::string&>().size();
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return static_cast<uint64_t>(v.get<int64_t>()) & 0xff;
    case nlohmann::json::value_t::number_float:
      return static_cast<uint64_t>(v.get<double>()) & 0xff;
    case nlohmann::json::value_t::boolean:
      return v.get<bool>() ? 1 : 2;
    case nlohmann::json::value_t::null:
      return 3;
    case nlohmann::json::value_t::object: {
      uint64_t sum = 0;
      for (auto& [key, child] : v.items())
        sum += key.size() + fold_nlohmann(child);
      return sum;
    }
    default:
      return 0;
  }
}

/// Parses the page with nlohmann-json into a DOM, then visits every field.
uint64_t decode_nlohmann(const std::string& json, int64_t& records) {
  auto doc = nlohmann::json::parse(json);
  uint64_t sum = 0;
  records = 0;
  for (auto& record : doc.at("records")) {
    ++records;
    for (auto& [key, value] : record.items())
      sum += key.size() + fold_nlohmann(value);
  }
  return sum;
}

// ---- simdjson on-demand ----------------------------------------------------------------

uint64_t fold_simdjson(simdjson::ondemand::value v) {
  simdjson::ondemand::json_type type;
  if (v.type().get(type))
    throw std::runtime_error("simdjson: bad value");
  switch (type) {
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s))
        throw std::runtime_error("simdjson: bad string");
      return s.size();
    }
    case simdjson::ondemand::json_type::number: {
      simdjson::ondemand::number_type nt;
      if (v.get_number_type().get(nt))
        throw std::runtime_error("simdjson: bad number");
      if (nt == simdjson::ondemand::number_type::floating_point_number) {
        double d = 0;
        if (v.get_double().get(d))
          throw std::runtime_error("simdjson: bad double");
        return static_cast<uint64_t>(d) & 0xff;
      }
      int64_t n = 0;
      if (v.get_int64().get(n))
        throw std::runtime_error("simdjson: bad int");
      return static_cast<uint64_t>(n) & 0xff;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b = false;
      if (v.get_bool().get(b))
        throw std::runtime_error("simdjson: bad bool");
      return b ? 1 : 2;
    }
    case simdjson::ondemand::json_type::null:
      return 3;
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object obj;
      if (v.get_object().get(obj))
        throw std::runtime_error("simdjson: bad object");
      uint64_t sum = 0;
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key))
          throw std::runtime_error("simdjson: bad key");
        sum += key.size() + fold_simdjson(field.value());
      }
      return sum;
    }
    default:
      return 0;
  }
}

/// Walks the page once with simdjson's on-demand front end, visiting every field.
uint64_t decode_simdjson(simdjson::ondemand::parser& parser, const simdjson::padded_string& json, int64_t& records) {
  simdjson::ondemand::document doc;
  if (parser.iterate(json).get(doc))
    throw std::runtime_error("simdjson: cannot iterate");
  simdjson::ondemand::array list;
  if (doc["records"].get_array().get(list))
    throw std::runtime_error("simdjson: no records array");
  uint64_t sum = 0;
  records = 0;
  for (auto element : list) {
    simdjson::ondemand::object record;
    if (element.get_object().get(record))
      throw std::runtime_error("simdjson: record is not an object");
    ++records;
    for (auto field : record) {
      std::string_view key;
      if (field.unescaped_key().get(key))
        throw std::runtime_error("simdjson: bad key");
      sum += key.size() + fold_simdjson(field.value());
    }
  }
  return sum;
}

// ---- the benchmarks ----------------------------------------------------------------------

/// Both decoders must agree before any timing means anything.
uint64_t expected_checksum() {
  static const uint64_t sum = [] {
    int64_t a = 0;
    int64_t b = 0;
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(page());
    uint64_t x = decode_nlohmann(page(), a);
    uint64_t y = decode_simdjson(parser, padded, b);
    if (x != y || a != page_records || b != page_records)
      throw std::runtime_error("json_bench: simdjson and nlohmann-json disagree on the page");
    return x;
  }();
  return sum;
}

void report(benchmark::State& state, int64_t records) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(page().size()));
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(state.iterations() * records), benchmark::Counter::kIsRate);
  state.counters["page_bytes"] = static_cast<double>(page().size());
}

void BM_query_page_nlohmann(benchmark::State& state) {
  const uint64_t want = expected_checksum();
  int64_t records = 0;
  for (auto _ : state) {
    uint64_t sum = decode_nlohmann(page(), records);
    if (sum != want)
      state.SkipWithError("nlohmann-json checksum mismatch");
    benchmark::DoNotOptimize(sum);
  }
  report(state, records);
}
BENCHMARK(BM_query_page_nlohmann)->Unit(benchmark::kMillisecond);

void BM_query_page_simdjson_ondemand(benchmark::State& state) {
  const uint64_t want = expected_checksum();
  simdjson::ondemand::parser parser;
  // The padded copy is made once, as a client reading into a padded buffer would.
  const simdjson::padded_string padded(page());
  int64_t records = 0;
  for (auto _ : state) {
    uint64_t sum = decode_simdjson(parser, padded, records);
    if (sum != want)
      state.SkipWithError("simdjson checksum mismatch");
    benchmark::DoNotOptimize(sum);
  }
  report(state, records);
}
BENCHMARK(BM_query_page_simdjson_ondemand)->Unit(benchmark::kMillisecond);

} // namespace
