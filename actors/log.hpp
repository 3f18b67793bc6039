#pragma once

#include "sync/logfmt.hpp"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>

namespace syncforce::actors {

/// Configures the process-wide logger: logfmt lines on stdout, each ending in
/// `level=<lvl>` as Heroku Connect's do (the label is written by log(), so a
/// line can be shown at one level and labeled with another).
void init_logging(spdlog::level::level_enum level);

/// Parses "trace|debug|info|warn|warning|error|critical|off".
std::optional<spdlog::level::level_enum> parse_log_level(const std::string& name);

/// Logs one event line at `level` (shown when the log level lets `level`
/// through, ending in `level=<level>`).
void log(spdlog::level::level_enum level, const log_event& ev);

/// Logs a line shown like one of level `shown_at` but labeled `level=<label>`:
/// for lines Heroku Connect's stream shows at its default level though it
/// labels them `debug` (the per-page `INSERT ↓DATABASE` lines).
void log_labeled(spdlog::level::level_enum shown_at, spdlog::level::level_enum label, const log_event& ev);

} // namespace syncforce::actors
