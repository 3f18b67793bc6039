#include "actors/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

namespace syncforce::actors {

void init_logging(spdlog::level::level_enum level) {
  auto logger = spdlog::stdout_logger_mt("syncforce");
  logger->set_pattern("%v level=%l");
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
  spdlog::default_logger_raw()->log(level, format_logfmt(ev));
}

} // namespace syncforce::actors
