// libFuzzer entry point for the hstore text parser (sync/hstore.cpp), which reads
// `_trigger_log.values` / `.old` as PostgreSQL prints them. Any bytes are parsed;
// a value that parses must print back (to_hstore_text) into text that parses to
// the same pairs, and a refusal must say where and why. See docs/fuzzing.md.

#include "sync/hstore.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = syncforce::parse_hstore(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.error.message.empty());
    FUZZ_CHECK(parsed.error.position <= size);
    return 0;
  }
  const auto& h = *parsed.value;
  // Keys are unique (a later duplicate is ignored, as PostgreSQL does).
  for (std::size_t i = 0; i < h.size(); ++i)
    for (std::size_t j = i + 1; j < h.size(); ++j)
      FUZZ_CHECK(h.entries()[i].key != h.entries()[j].key);
  const auto printed = syncforce::to_hstore_text(h);
  auto again = syncforce::parse_hstore(printed);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again.value == h);
  FUZZ_CHECK(syncforce::to_hstore_text(*again.value) == printed); // the canonical form is a fixed point
  return 0;
}
