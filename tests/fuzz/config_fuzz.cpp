// libFuzzer entry point for the import/config JSON validator: what `syncforce
// import` sends (parse_config), the node's configuration file (parse_engine_config),
// one mapping's JSON (parse_mapping, build_mapping's config_json). Any bytes; every
// refusal must be a list of problems with a message (never an exception), and a
// document that is accepted must serialize back into one that parses to the same
// document. See docs/fuzzing.md.

#include "sync/admin_rules.hpp"
#include "sync/engine_config.hpp"
#include "sync/mapping_config.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace syncforce;

void check_problems(const std::vector<config_problem>& problems) {
  for (const auto& p : problems)
    FUZZ_CHECK(!p.message.empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto doc = parse_config(text);
  check_problems(doc.errors);
  check_problems(doc.warnings);
  FUZZ_CHECK(doc.ok() == doc.errors.empty());
  FUZZ_CHECK(doc.ok() == doc.document.has_value());
  if (doc.ok()) {
    const auto written = serialize_config(*doc.document);
    auto again = parse_config(written);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again.warnings.empty());
    FUZZ_CHECK(*again.document == *doc.document);
  }

  auto file = parse_engine_config(text);
  check_problems(file.errors);
  check_problems(file.warnings);
  FUZZ_CHECK(file.ok() == file.errors.empty());

  auto one = parse_mapping(text, "m");
  check_problems(one.errors);
  if (one.ok()) {
    FUZZ_CHECK(one.document->mappings.size() == 1);
    const auto written = serialize_mapping(one.document->mappings.front());
    auto again = parse_mapping(written, "m");
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again.document->mappings.front() == one.document->mappings.front());
  }

  mapping_request request;
  request.object_name = "Contact";
  request.config_json = std::string{text};
  auto built = build_mapping(request, "Contact");
  check_problems(built.problems);
  FUZZ_CHECK(built.config.has_value() == built.problems.empty());
  if (built.config) {
    // An edit that changes nothing keeps the mapping as it is.
    auto edited = edit_mapping(*built.config, mapping_edit{}, "Contact");
    FUZZ_CHECK(edited.config.has_value());
    FUZZ_CHECK(same_mapping_config(*edited.config, *built.config));
  }
  return 0;
}
