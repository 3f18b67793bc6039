// libFuzzer entry point for sfemu's SOQL engine: parse any bytes; when they parse,
// bind them against a small schema and evaluate them over a few records. Any crash,
// sanitizer report, hang or broken invariant (an error without a known code or
// message) is a finding. Built as `soql_fuzz` (clang, -fsanitize=fuzzer) and as
// `soql_fuzz_replay` (any compiler, see replay_main.cpp). See docs/fuzzing.md.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "emulator/soql/soql.hpp"
#include "tests/unit/soql/soql_fake.hpp"

namespace {

using namespace sfemu::soql;

void check(bool ok) {
  if (!ok)
    std::abort();
}

void check_error(const soql_error& e) {
  check(e.code == error_code::malformed_query || e.code == error_code::invalid_field
        || e.code == error_code::invalid_type || e.code == error_code::invalid_query_filter_operator
        || e.code == error_code::number_outside_valid_range);
  check(!e.message.empty());
}

/// The schema and records every input runs against (built once).
struct world {
  soql_fake::schema schema;
  soql_fake::store store{schema};

  world() {
    auto& u = store.add("User", "005Ab0000000001AAA");
    store.set(u, "Name", "Ada");
    store.set_bool(u, "IsActive", true);
    auto& a = store.add("Account", "001Ab0000000001AAA");
    store.set(a, "Name", "Acme 50% _x");
    store.set_bool(a, "IsDeleted", false);
    store.set_double(a, "AnnualRevenue", 12.5);
    store.set_int(a, "NumberOfEmployees", 7);
    store.set(a, "Industry", "Energy");
    store.set_datetime(a, "CreatedDate", 1'704'067'200'000);
    store.set_datetime(a, "SystemModstamp", 1'704'067'200'001);
    store.set_date(a, "LastActivityDate", 19723);
    store.set(a, "OwnerId", "005Ab0000000001AAA");
    store.set(a, "Tags__c", "red;green");
    auto& b = store.add("Account", "001Ab0000000002AAA");
    store.set(b, "Name", "\xC3\xA9t\xC3\xA9");
    store.set(b, "ParentId", "001Ab0000000001AAA");
    store.set(b, "OwnerId", "005Ab0000000009AAA");  // dangling
    auto& c = store.add("Contact", "003Ab0000000001AAA");
    store.set(c, "LastName", "O'Brien");
    store.set(c, "AccountId", "001Ab0000000002AAA");
    store.set_date(c, "Birthdate", -1);
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const world w;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = parse(text);
  if (!q) {
    check_error(q.error());
    return 0;
  }
  auto b = bind(*q, w.schema);
  if (!b) {
    check_error(b.error());
    return 0;
  }
  std::vector<soql_fake::view> views;
  for (const auto& [id, r] : w.store.records())
    if (r.object == b->object())
      views.emplace_back(w.store, r);
  for (std::int32_t tz : {0, -300, 840}) {
    const eval_context ctx{1'704'067'200'000 + 7 * 3'600'000, tz};
    for (const auto& v : views)
      (void)matches(*b, v, ctx);
  }
  const std::size_t k = b->order_by().size();
  std::vector<value> keys(views.size() * k);
  for (std::size_t i = 0; i < views.size(); ++i)
    extract_order_keys(*b, views[i], keys.data() + i * k);
  for (std::size_t i = 0; i < views.size(); ++i)
    for (std::size_t j = 0; j < views.size(); ++j) {
      const int xy = compare_for_order(*b, views[i], views[j]);
      const int yx = compare_for_order(*b, views[j], views[i]);
      check((xy < 0) == (yx > 0) && (xy == 0) == (yx == 0));  // antisymmetric
      const int kx = compare_order_keys(*b, keys.data() + i * k, keys.data() + j * k);
      check((kx < 0) == (xy < 0) && (kx == 0) == (xy == 0));  // same order either way
    }
  for (const auto& f : b->fields())
    check(!f.path().empty());
  return 0;
}
