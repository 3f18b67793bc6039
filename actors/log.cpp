#include "actors/log.hpp"

#include "actors/mapping_log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

namespace syncforce::actors {

void init_logging(spdlog::level::level_enum level) {
  auto logger = spdlog::stdout_logger_mt("syncforce");
  logger->set_pattern("%v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

std::optional<spdlog::level::level_enum> parse_log_level(const std::string& name) {
  if (name == "warn")
    return spdlog::level::warn;
  auto level = spdlog::level::from_str(name);
  if (level == spdlog::level::off && name != "off")
    return std::nullopt;
  return level;
}

void log(spdlog::level::level_enum level, const log_event& ev) {
  log_labeled(level, level, ev);
}

void log_labeled(spdlog::level::level_enum shown_at, spdlog::level::level_enum label, const log_event& ev) {
  auto* logger = spdlog::default_logger_raw();
  // A mapping's lines at info or above are kept for its dashboard page whatever the node logs.
  const bool keep = ev.object_type == "mapping" && shown_at >= spdlog::level::info;
  const bool shown = logger != nullptr && logger->should_log(shown_at);
  if (!shown && !keep)
    return; // not even formatted
  auto name = spdlog::level::to_string_view(label);
  std::string level(name.data(), name.size());
  auto line = format_logfmt(ev) + " level=" + level;
  if (keep)
    record_mapping_log(ev.object_id, level, line);
  if (shown)
    logger->log(shown_at, line);
}

} // namespace syncforce::actors
