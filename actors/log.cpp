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

namespace {

/// Where a line is kept for a mapping's page (empty: it is about no mapping). Sync lines name
/// the connection (as Heroku Connect's do) and the object: in an `object_name` key/value, or,
/// in Heroku Connect's own lines that carry no extras, as the event's first word
/// (`Contact QUERY ↷SALESFORCE 3 rows`).
std::string mapping_log_key(const log_event& ev) {
  if (ev.object_type == "mapping")
    return ev.object_id;
  if (ev.object_type != "sync")
    return {};
  std::string connection, object;
  for (const auto& [k, v] : ev.extra) {
    if (k == "addon_id")
      connection = v;
    else if (k == "object_name")
      object = v;
  }
  if (connection.empty())
    return ev.object_id; // a line of one mapping's read side: object_id is the mapping's
  if (object.empty())
    object = ev.event.substr(0, ev.event.find(' '));
  if (object.empty())
    return {};
  return object_log_key(connection, object);
}

} // namespace

void log(spdlog::level::level_enum level, const log_event& ev) {
  log_labeled(level, level, ev);
}

void log_labeled(spdlog::level::level_enum shown_at, spdlog::level::level_enum label, const log_event& ev) {
  auto* logger = spdlog::default_logger_raw();
  // A mapping's lines at info or above are kept for its dashboard page whatever the node logs.
  const auto key = shown_at >= spdlog::level::info ? mapping_log_key(ev) : std::string{};
  const bool keep = !key.empty();
  const bool shown = logger != nullptr && logger->should_log(shown_at);
  if (!shown && !keep)
    return; // not even formatted
  auto name = spdlog::level::to_string_view(label);
  std::string level(name.data(), name.size());
  auto line = format_logfmt(ev) + " level=" + level;
  if (keep)
    record_mapping_log(key, level, line);
  if (shown)
    logger->log(shown_at, line);
}

} // namespace syncforce::actors
