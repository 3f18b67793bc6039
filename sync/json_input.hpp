#pragma once

#include "sync/mapping_config.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// JSON that comes from outside (imports, the node's configuration file, a
// mapping's config in an admin call), parsed without exceptions
// ---------------------------------------------------------------------------

/// Bounds that keep hostile input cheap: every later step (validation, dump,
/// the messages that quote values) is recursive or quadratic in these.
struct json_input_limits {
  /// Objects and arrays inside each other (a configuration needs 5).
  std::size_t max_depth = 64;
  /// Members of one object or elements of one array (a mapping of every field of
  /// the widest Salesforce object needs about 1,000).
  std::size_t max_members = 20'000;
};

/// The parsed value, or the problems that stopped it, each with the JSON path
/// where it was found (`mappings[0].config.sf_polling_seconds: the number 1e400
/// is out of range`): a syntax error, a number too large for a double, a key
/// given twice, nesting or a list beyond the limits. Never throws.
struct json_input_result {
  std::optional<nlohmann::ordered_json> value;
  std::vector<config_problem> errors;
};

json_input_result parse_json_input(std::string_view text, const json_input_limits& limits = {});

} // namespace syncforce
