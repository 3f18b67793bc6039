#pragma once

#include <optional>
#include <string_view>

namespace syncforce {

/// Mapping states, named exactly as Heroku Connect names them.
enum class mapping_state {
  data_synced,
  initial,
  resync,
  reload_table,
  schema_changed,
  polling_sf_changes,
  polling_sf_bulk,
  polling_sf_for_deletes,
  wait_bulk_load,
  loading_bulk_job,
  resolve_external_ids,
  bulk_load_error,
  wait_bulk_update,
  applying_bulk_update,
  poll_external_ids,
  recovery,
  aborted,
  system_error,
  db_unavailable,
  bad_config,
  sync_removed,
  inactive_org,
  unauthorized,
};

/// Connection states, named exactly as Heroku Connect names them.
enum class connection_state {
  idle,
  polling_db_changes,
  paused,
  recovery,
  import_configuration,
  system_error,
  db_unavailable,
  too_many_rows,
  unauthorized,
  busy,
  need_authentication,
  inactive_org,
  fresh, // Heroku Connect's "NEW"
};

/// An admin command waiting for a mapping (Heroku Connect's reload, abort, recover),
/// stored by name in syncforce.mappings.command.
enum class mapping_command { reload, abort, recover };

std::string_view to_string(mapping_state s);
std::string_view to_string(connection_state s);
std::optional<mapping_state> parse_mapping_state(std::string_view name);
std::optional<connection_state> parse_connection_state(std::string_view name);
std::string_view to_string(mapping_command c);
std::optional<mapping_command> parse_mapping_command(std::string_view name);

/// True for the states a person must act on (Heroku Connect shows them in red).
bool is_error(mapping_state s);
bool is_error(connection_state s);

} // namespace syncforce
