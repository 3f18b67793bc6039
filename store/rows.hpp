#pragma once

// The control schema's rows as plain data, without libpqxx: the actors hold
// them (actors/ includes no header that includes pqxx; the top CMakeLists.txt
// checks it), the functions that read and write them are in control_repo.hpp.

#include "sync/engine_config.hpp"

#include <optional>
#include <string>

namespace syncforce::store {

/// A connection as stored (no secret: only references to them).
struct connection_row {
  std::string id;
  std::string name;
  std::string schema_name;
  std::string state;
  std::string api_version;
  salesforce_login login;
  connection_features features;
  std::optional<std::string> organization_id;
};

/// A mapping as stored.
struct mapping_row {
  std::string id;
  std::string connection_id;
  std::string object_name;
  mapping_config config;
  int revision = 1;
  std::string state;
  std::string state_description;
  /// Canonical `YYYY-MM-DDTHH:MM:SS.mmmZ`, nullopt before the first load.
  std::optional<std::string> high_water_mark;
  /// The largest Id applied at high_water_mark (keyset polls); nullopt: poll `>=` the mark once.
  std::optional<std::string> high_water_id;
  /// An admin command waiting for the connection's node: reload, abort or recover.
  std::optional<std::string> command;
};

} // namespace syncforce::store
