#pragma once

// A change event (Change Data Capture) as plain data: what the Pub/Sub client
// (salesforce/pubsub) decodes and the engine plans and applies. Here, without
// gRPC or Avro, so that the actors and the pure planning (sync/change_events)
// hold events without linking the client.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace syncforce {

/// One decoded change event.
struct change_event {
  std::string entity_name;
  std::string change_type; ///< CREATE, UPDATE, DELETE, UNDELETE, GAP_..., GAP_OVERFLOW
  std::vector<std::string> record_ids;
  std::string change_origin;
  std::string transaction_key;
  std::int32_t sequence_number = 0;
  std::int64_t commit_timestamp = 0;
  std::int64_t commit_number = 0;
  std::string commit_user;
  std::vector<std::string> changed_fields;
  std::vector<std::string> nulled_fields;
  std::vector<std::string> diff_fields;
  /// The body's non-null fields by name: strings, booleans, numbers (datetimes as epoch
  /// ms, dates as days since the epoch, as the schema's long/int carry them); compound
  /// fields as nested objects.
  nlohmann::json fields = nlohmann::json::object();

  bool is_gap() const { return change_type.rfind("GAP_", 0) == 0; }
};

/// Why a stream ended or could not start.
enum class stream_failure : std::uint8_t {
  replay_invalid, ///< the replay id is too old (events expired) or unknown to the org
  unauthenticated, ///< the session was refused: log in again
  not_found,      ///< the topic does not exist or the object publishes no change events
  unavailable,    ///< network, server restart, deadline: try again later
  other,
};

/// One decoded event with its replay id; `decode_error` set when the payload
/// could not be decoded (the event cannot be applied: a catch-up poll must read it).
struct received_event {
  std::uint64_t replay_id = 0;
  change_event event;
  std::string decode_error;
};

} // namespace syncforce
