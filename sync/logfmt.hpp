#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncforce {

/// One log line in Heroku Connect's logfmt shape:
///   event="RELOAD TABLE contact" object_type=mapping object_id=<id> state=RELOAD_TABLE
/// (the logger appends `level=info`). Extra key/values go between event and object_type.
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
