#pragma once

// Change Data Capture events applied to a mapped table: the pure decisions.
// What an event does to the table (sync/ has no I/O: the header of an event
// and the table's columns in, an action out), which values it carries in
// PostgreSQL's input form, and which of them an UPDATE may touch. The I/O is
// actors/pg_change_events.cpp; the subscription actors/change_subscriber.cpp.

#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce {

/// What one change event does to the mapped table.
enum class event_action : std::uint8_t {
  upsert_all,     ///< CREATE, UNDELETE: the record as the event carries it (absent fields are null)
  update_changed, ///< UPDATE: only the changed and nulled fields, on a row already there
  remove,         ///< DELETE: the row goes
  apply_echo,     ///< an UPDATE this engine made itself (changeOrigin): applied like update_changed
                  ///< (quietly, through the same upsert rules), so the written values win over an
                  ///< older change of another user applied after the write-back was recorded
  skip_echo,      ///< a CREATE, DELETE or UNDELETE this engine made itself: the row has it already
  catch_up,       ///< GAP_*, overflow, an unknown type: the event cannot be applied, a keyset poll must read it
  ignore,         ///< another object's event (a /data/ChangeEvents subscription)
};

std::string_view to_string(event_action a);

/// The header fields the decision needs.
struct event_header {
  std::string entity_name;
  std::string change_type;
  std::string change_origin;
};

/// `client=<name>` in a changeOrigin (`com/salesforce/api/rest/60.0;client=syncforce/node-1`), if any.
std::optional<std::string> origin_client(std::string_view change_origin);

/// Whether a changeOrigin names one of this engine's clients: its client is
/// `own_client` or starts with it followed by `/` (every node of a cluster
/// sends `syncforce/<node name>`; `own_client` = `syncforce` matches them all).
bool is_own_change(std::string_view change_origin, std::string_view own_client);

/// The action for one event of `object_name`'s topic.
event_action plan_event(const event_header& h, std::string_view object_name, std::string_view own_client);

/// A decoded event body value (epoch ms for datetimes, days since the epoch for
/// dates, ms of the day for times, as the Avro schema carries them) in the wire
/// form convert_json_value takes for `kind` (`2026-12-05T01:02:03.000+0000`).
nlohmann::json event_value_to_wire(pg_value_kind kind, const nlohmann::json& value);

/// Epoch milliseconds as a PostgreSQL timestamp (UTC), floored to the second:
/// the precision of Salesforce's SystemModstamp. `2026-12-05 01:02:03`.
std::string stamp_text(std::int64_t epoch_ms);

/// The columns an event's values go to: the table's columns read from a plain
/// field of the object (not `sfid`, `isdeleted`, `systemmodstamp`, not a
/// relationship's external id, not a calculated field: events never carry them).
/// For update_changed and apply_echo only those among `changed` (field names, any case);
/// for upsert_all every one of them. In the table's column order.
std::vector<const pg_column*> event_columns(const hc_table_spec& spec, event_action action,
                                            const std::vector<std::string>& changed,
                                            const std::vector<std::string>& calculated);

} // namespace syncforce
