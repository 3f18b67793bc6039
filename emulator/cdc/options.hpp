#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sfemu::cdc {

/// The Change Data Capture settings sfemu starts with (flags), restored by POST /__sfemu/reset.
struct cdc_options {
  bool enabled = true;
  std::optional<std::vector<std::string>> entities; ///< nullopt: every object
  double retention_hours = 72;
};

} // namespace sfemu::cdc
