#pragma once

// The NOTIFY channels the engine LISTENs on, without libpqxx (the actors name
// them; engine_io's listener threads do the listening).

#include <string>

namespace syncforce::store {

/// The channel on which every node's engine listens for configuration changes;
/// the payload is the changed connection's id.
inline constexpr const char* control_channel = "syncforce_control";

/// The channel the notify trigger signals: `<schema>.hc_trigger_log`
/// (LISTEN needs it quoted, which pqxx::notification_receiver does).
inline std::string trigger_log_channel(const std::string& schema) { return schema + ".hc_trigger_log"; }

} // namespace syncforce::store
