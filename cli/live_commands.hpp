#pragma once

// The `syncforce` commands that show what the running actors know, wherever
// in the cluster they run: the integration user's cursors (`limits`) and a
// mapping's recent log lines (`mapping:log`).

#include "cli/common.hpp"

#include <string>

namespace syncforce::cli {

/// `limits`: query cursors in use / limit, who holds them (mapping and node), waiting, API usage.
int limits(const common_options& opts);
/// `mapping:log OBJECT [--lines N]`: the mapping's recent log lines, oldest first.
int mapping_log(const common_options& opts, const std::string& object, int lines);

} // namespace syncforce::cli
