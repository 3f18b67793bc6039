#include "actors/log.hpp"

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
  if (!logger->should_log(shown_at))
    return; // not even formatted
  auto name = spdlog::level::to_string_view(label);
  logger->log(shown_at, format_logfmt(ev) + " level=" + std::string(name.data(), name.size()));
}

} // namespace syncforce::actors
