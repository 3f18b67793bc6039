#pragma once

#include "sync/mapping_config.hpp"

#include "sync/secret_policy.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// The node's configuration file (`syncforced --config FILE`)
// ---------------------------------------------------------------------------
//
// An import/export JSON v1 document plus two Syncforce keys:
//   "schema": "salesforce",
//   "salesforce": {"login_url": "...", "username": "...", "auth": "password",
//                  "password_env": "SF_PASSWORD", "client_id": "...",
//                  "client_secret_env": "SF_CLIENT_SECRET"}
// or `{"connections": [<such documents>]}` for several connections. Secrets
// are never in the file: only where to find them (`*_env` or `*_file`).

/// How a connection logs in to Salesforce. Holds references to secrets, never secrets.
struct salesforce_login {
  std::string login_url;
  std::string username;
  std::string auth = "password"; ///< password | jwt
  /// Where the password (+ security token) or the JWT private key lives: `env:NAME` or `file:/path`.
  std::string secret_ref;
  std::string client_id;
  /// Where the OAuth client secret lives (`env:NAME`, `file:/path`), empty when none.
  std::string client_secret_ref;
};

/// One connection of the configuration file.
struct engine_connection {
  std::string name;               ///< connection.name, else connection.app_name, else "default"
  std::string schema = "salesforce";
  std::string api_version = "60.0";
  salesforce_login login;
  config_document document;       ///< the JSON v1 part
};

/// A whole configuration file.
struct engine_config {
  std::vector<engine_connection> connections;
};

/// The parsed file, or every problem found (paths like `salesforce.username`,
/// `connections[1].mappings[0].config.sf_polling_seconds`).
struct engine_config_result {
  std::optional<engine_config> config;
  std::vector<config_problem> errors;
  std::vector<config_problem> warnings;
  bool ok() const { return errors.empty() && config.has_value(); }
  std::string error_text() const;
};

engine_config_result parse_engine_config(std::string_view json_text);

/// Resolves a secret reference (`env:NAME` / `file:/path`) with injected
/// lookups, within the node's `policy`; nullopt with `error` (never
/// containing the secret) when it fails or is not allowed.
struct secret_lookup {
  std::function<std::optional<std::string>(const std::string&)> env;
  std::function<std::optional<std::string>(const std::string&)> file;
  secret_policy policy;
};
std::optional<std::string> resolve_secret(const std::string& ref, const secret_lookup& lookup, std::string& error);

} // namespace syncforce
