#include "sync/states.hpp"

#include <array>
#include <utility>

namespace syncforce {

namespace {

constexpr std::array<std::pair<mapping_state, std::string_view>, 23> mapping_names{{
  {mapping_state::data_synced, "DATA_SYNCED"},
  {mapping_state::initial, "INITIAL"},
  {mapping_state::resync, "RESYNC"},
  {mapping_state::reload_table, "RELOAD_TABLE"},
  {mapping_state::schema_changed, "SCHEMA_CHANGED"},
  {mapping_state::polling_sf_changes, "POLLING_SF_CHANGES"},
  {mapping_state::polling_sf_bulk, "POLLING_SF_BULK"},
  {mapping_state::polling_sf_for_deletes, "POLLING_SF_FOR_DELETES"},
  {mapping_state::wait_bulk_load, "WAIT_BULK_LOAD"},
  {mapping_state::loading_bulk_job, "LOADING_BULK_JOB"},
  {mapping_state::resolve_external_ids, "RESOLVE_EXTERNAL_IDS"},
  {mapping_state::bulk_load_error, "BULK_LOAD_ERROR"},
  {mapping_state::wait_bulk_update, "WAIT_BULK_UPDATE"},
  {mapping_state::applying_bulk_update, "APPLYING_BULK_UPDATE"},
  {mapping_state::poll_external_ids, "POLL_EXTERNAL_IDS"},
  {mapping_state::recovery, "RECOVERY"},
  {mapping_state::aborted, "ABORTED"},
  {mapping_state::system_error, "SYSTEM_ERROR"},
  {mapping_state::db_unavailable, "DB_UNAVAILABLE"},
  {mapping_state::bad_config, "BAD_CONFIG"},
  {mapping_state::sync_removed, "SYNC_REMOVED"},
  {mapping_state::inactive_org, "INACTIVE_ORG"},
  {mapping_state::unauthorized, "UNAUTHORIZED"},
}};

constexpr std::array<std::pair<connection_state, std::string_view>, 13> connection_names{{
  {connection_state::idle, "IDLE"},
  {connection_state::polling_db_changes, "POLLING_DB_CHANGES"},
  {connection_state::paused, "PAUSED"},
  {connection_state::recovery, "RECOVERY"},
  {connection_state::import_configuration, "IMPORT_CONFIGURATION"},
  {connection_state::system_error, "SYSTEM_ERROR"},
  {connection_state::db_unavailable, "DB_UNAVAILABLE"},
  {connection_state::too_many_rows, "TOO_MANY_ROWS"},
  {connection_state::unauthorized, "UNAUTHORIZED"},
  {connection_state::busy, "BUSY"},
  {connection_state::need_authentication, "NEED_AUTHENTICATION"},
  {connection_state::inactive_org, "INACTIVE_ORG"},
  {connection_state::fresh, "NEW"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum e) {
  for (const auto& [value, name] : table)
    if (value == e)
      return name;
  return "UNKNOWN";
}

template <class Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                             std::string_view name) {
  for (const auto& [value, text] : table)
    if (text == name)
      return value;
  return std::nullopt;
}

} // namespace

std::string_view to_string(mapping_state s) {
  return name_of(mapping_names, s);
}

std::string_view to_string(connection_state s) {
  return name_of(connection_names, s);
}

std::optional<mapping_state> parse_mapping_state(std::string_view name) {
  return value_of(mapping_names, name);
}

std::optional<connection_state> parse_connection_state(std::string_view name) {
  return value_of(connection_names, name);
}

std::string_view to_string(mapping_command c) {
  switch (c) {
    case mapping_command::reload:
      return "reload";
    case mapping_command::abort:
      return "abort";
    case mapping_command::recover:
      return "recover";
  }
  return "unknown";
}

std::optional<mapping_command> parse_mapping_command(std::string_view name) {
  for (auto c : {mapping_command::reload, mapping_command::abort, mapping_command::recover})
    if (to_string(c) == name)
      return c;
  return std::nullopt;
}

bool is_error(mapping_state s) {
  switch (s) {
    case mapping_state::bulk_load_error:
    case mapping_state::aborted:
    case mapping_state::system_error:
    case mapping_state::db_unavailable:
    case mapping_state::bad_config:
    case mapping_state::inactive_org:
    case mapping_state::unauthorized:
      return true;
    default:
      return false;
  }
}

bool is_error(connection_state s) {
  switch (s) {
    case connection_state::system_error:
    case connection_state::db_unavailable:
    case connection_state::too_many_rows:
    case connection_state::unauthorized:
    case connection_state::need_authentication:
    case connection_state::inactive_org:
      return true;
    default:
      return false;
  }
}

} // namespace syncforce
