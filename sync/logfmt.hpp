#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncforce {

/// One log line in Heroku Connect's logfmt shape:
///   event="RELOAD TABLE contact" addon_id=<connection id> object_type=mapping object_id=<id> state=RELOAD_TABLE
/// (the logger appends `level=info`). `addon_id` comes right after the event;
/// our own extra key/values follow it, before object_type. Heroku Connect's
/// own lines are written with no extras, so they match its lines exactly.
struct log_event {
  std::string event;
  std::string object_type;
  std::string object_id;
  std::string state;
  std::vector<std::pair<std::string, std::string>> extra;

  log_event& with(std::string key, std::string value) {
    extra.emplace_back(std::move(key), std::move(value));
    return *this;
  }

  /// `addon_id=<id>` right after the event, where every Heroku Connect line has
  /// it: the connection's id. Nothing for an empty id (node-level lines).
  log_event& addon(std::string id) {
    if (!id.empty())
      extra.emplace(extra.begin(), "addon_id", std::move(id));
    return *this;
  }
};

/// Formats `ev` as one logfmt line (no trailing newline, no level).
std::string format_logfmt(const log_event& ev);

/// A logfmt value: bare when it is a plain token, else double-quoted with escapes.
/// `event` is always quoted, as in Heroku Connect's lines.
std::string logfmt_value(std::string_view value, bool force_quotes = false);

/// Replaces the password of a connection URL or `password=` of a libpq
/// key/value string with `***`, so it can be logged.
std::string redact_url(std::string_view url);

} // namespace syncforce
