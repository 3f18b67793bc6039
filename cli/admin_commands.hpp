#pragma once

// The `syncforce` commands that manage connections and mappings, act on them,
// import, diagnose and read the audit trail (syncforce.v1.Admin).

#include "cli/common.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::cli {

int info(const common_options& opts);
int pause(const common_options& opts);
int resume(const common_options& opts);
int recover(const common_options& opts);
/// `diagnose` (object empty) or `mapping:diagnose OBJECT`; exit 1 when an ERROR is found.
int diagnose(const common_options& opts, const std::string& object, bool verbose);
int import_config(const common_options& opts, const std::string& file, bool dry_run);

struct connection_options {
  std::string name;
  std::string schema;
  std::string login_url;
  std::string username;
  std::string auth;
  std::string secret_ref;
  std::string client_id;
  std::string client_secret_ref;
  std::string api_version;
  /// name=true|false
  std::vector<std::string> features;
  // sf:auth spellings of secret_ref
  std::string password_env;
  std::string password_file;
  std::string jwt_key_file;
};
int connection_create(const common_options& opts, const connection_options& c);
int db_set(const common_options& opts, const std::string& schema);
int sf_auth(const common_options& opts, const connection_options& c);
int api_version(const common_options& opts, const std::string& target);

struct mapping_options {
  std::string object;
  std::vector<std::string> fields;
  std::vector<std::string> add_fields;
  std::vector<std::string> remove_fields;
  std::string access;
  std::string upsert_field;
  bool no_upsert_field = false;
  int polling = 0;
  /// config.syncforce options (mapping:edit); nullopt: unchanged.
  std::optional<int> sweep_seconds;
  std::optional<int> sweep_window_seconds;
  std::optional<int> formula_repair_seconds;
  /// sf_notify_enabled (accelerated sync); nullopt: unchanged.
  std::optional<bool> sf_notify_enabled;
  std::string confirm;
};
int mapping_create(const common_options& opts, const mapping_options& m);
int mapping_edit(const common_options& opts, const mapping_options& m);
int mapping_delete(const common_options& opts, const mapping_options& m);
int mapping_reload(const common_options& opts, const std::string& object);
int mapping_abort(const common_options& opts, const std::string& object);

int audit(const common_options& opts, const std::string& csv_file, const std::string& since, int limit);
/// `nodes`: the cluster's nodes, the units each runs and units nobody runs (exit 1 when a unit has no live node).
int nodes(const common_options& opts);

/// Waits (on a terminal, or with --wait) until the loads of `objects` in
/// opts.connection end, showing progress; 0 when all reached DATA_SYNCED.
int wait_for_mapping_loads(const common_options& opts, const std::vector<std::string>& objects);

} // namespace syncforce::cli

namespace syncforce::v1 {
class Rejection;
}

namespace syncforce::cli {

/// Every problem of a refused request on standard error (JSON with --json); exit 6.
int print_rejection(const common_options& opts, const syncforce::v1::Rejection& r);

} // namespace syncforce::cli
