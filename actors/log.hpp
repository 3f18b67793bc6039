#pragma once

#include "sync/logfmt.hpp"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>

namespace syncforce::actors {

/// Configures the process-wide logger: logfmt lines on stdout, each ending in
/// `level=<lvl>` as Heroku Connect's do.
void init_logging(spdlog::level::level_enum level);

/// Parses "trace|debug|info|warn|warning|error|critical|off".
std::optional<spdlog::level::level_enum> parse_log_level(const std::string& name);

/// Logs one event line at `level`.
void log(spdlog::level::level_enum level, const log_event& ev);

} // namespace syncforce::actors
