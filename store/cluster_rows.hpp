#pragma once

// The cluster's coordination rows (nodes, units, leases) as plain data, without
// libpqxx: the actors' cluster member reads them through actors/cluster_store.hpp;
// the statements are in cluster.hpp.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::store {

struct node_info {
  std::string name;
  std::string address; ///< advertised gRPC address
  std::string version;
};

struct node_row {
  node_info info;
  std::string started_at;
  double heartbeat_age_seconds = 0;
  bool live = false;
  std::int64_t incarnation = 0;
};

struct lease_row {
  std::string kind;
  std::string key;
  std::optional<std::string> owner;
  std::int64_t epoch = 0;
  double held_seconds = 0; ///< since the current owner took it
  std::int64_t moves = 0;
};

/// A unit that exists in the configuration (a mapping, a connection with
/// read-write mappings, an integration user).
struct unit_row {
  std::string kind;
  std::string key;
  std::string connection_id; ///< empty for integration users
  std::string label;         ///< object name, connection name or username
  int weight = 1;
};

struct cluster_view {
  std::vector<node_row> nodes;
  std::vector<unit_row> units;
  std::vector<lease_row> leases;
};

/// The integration-user unit key of a login: login_url|username (as the engine keys users).
inline std::string user_unit_key(const std::string& login_url, const std::string& username) {
  return login_url + "|" + username;
}

} // namespace syncforce::store
