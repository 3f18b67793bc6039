#pragma once

// The node's recent log lines per mapping: what a mapping's detail page shows
// as its "recent activity", the way Heroku Connect's dashboard shows its log.
// Filled by actors::log() with every line at info level or above (whatever the
// node's own log level) of object_type=mapping (keyed by the mapping's id) and
// of object_type=sync (pages read and written, polls: Heroku Connect keys those
// by the connection, so they are kept by connection and object name). It holds
// exactly the lines the log stream carries: never a secret, since none ever
// reaches a log line.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace syncforce::actors {

/// One line as it was logged, with when (the logfmt lines carry no time).
struct mapping_log_line {
  std::int64_t at_unix_ms = 0;
  /// info, warning, error, ...
  std::string level;
  /// The whole logfmt line, `level=` included.
  std::string text;
  /// The order lines were logged in this process (several share a millisecond).
  std::uint64_t seq = 0;
};

/// Lines kept per mapping (the oldest goes first) and mappings kept (the one
/// written to least recently goes first): bounded whatever runs.
inline constexpr std::size_t mapping_log_lines_kept = 200;
inline constexpr std::size_t mapping_log_mappings_kept = 4096;

/// The key of the lines of `object_name` (any case) of connection `connection_id` that name no mapping id.
std::string object_log_key(const std::string& connection_id, const std::string& object_name);

/// Records a line under `key` (a mapping id, or an object_log_key). Thread-safe.
void record_mapping_log(const std::string& mapping_id, const std::string& level, const std::string& text);

/// The newest `max` lines of `mapping_id` kept by this node, oldest first. Thread-safe.
std::vector<mapping_log_line> recent_mapping_log(const std::string& mapping_id, std::size_t max);

/// The newest `max` lines of a mapping: its own and those of its object in its connection, merged
/// oldest first. Thread-safe.
std::vector<mapping_log_line> recent_mapping_log(const std::string& mapping_id, const std::string& connection_id,
                                                 const std::string& object_name, std::size_t max);

/// Forgets every line (tests).
void clear_mapping_log();

} // namespace syncforce::actors
