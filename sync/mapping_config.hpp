#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// Import/export configuration, version 1 (Heroku Connect's JSON shape)
// ---------------------------------------------------------------------------

/// Whether a mapping only reads from Salesforce or also writes back.
enum class mapping_access { read_only, read_write };

std::string_view to_string(mapping_access a);
std::optional<mapping_access> parse_mapping_access(std::string_view text);

/// One index of a mapping (`indexes{Name:{unique}}`), keyed by field API name.
struct mapping_index {
  std::string field;
  bool unique = false;

  friend bool operator==(const mapping_index& a, const mapping_index& b) {
    return a.field == b.field && a.unique == b.unique;
  }
};

/// Syncforce's own per-mapping options, beyond Heroku Connect's (`config.syncforce`
/// in import/export, written only when one differs from its default so that a
/// mapping that uses none keeps Heroku Connect's exact shape): the look-back
/// sweep for late commits and formula drift repair (docs/sync-read.md).
struct read_repair_config {
  static constexpr int default_sweep_seconds = 600;
  static constexpr int default_sweep_window_seconds = 900;
  static constexpr int max_seconds = 7 * 86400;

  int sweep_seconds = default_sweep_seconds;               ///< between sweeps; 0: no sweep
  int sweep_window_seconds = default_sweep_window_seconds; ///< how far back a sweep looks
  int formula_repair_seconds = 0;                          ///< between formula repairs; 0: none

  bool is_default() const { return *this == read_repair_config{}; }

  friend bool operator==(const read_repair_config& a, const read_repair_config& b) {
    return a.sweep_seconds == b.sweep_seconds && a.sweep_window_seconds == b.sweep_window_seconds &&
           a.formula_repair_seconds == b.formula_repair_seconds;
  }
};

/// A mapping: one Salesforce object synced into one table (`mappings[i]`).
struct mapping_config {
  static constexpr int default_polling_seconds = 600;
  static constexpr int min_polling_seconds = 120;
  static constexpr int max_polling_seconds = 3600;

  std::string object_name;
  mapping_access access = mapping_access::read_only;
  bool sf_notify_enabled = false;
  int sf_polling_seconds = default_polling_seconds;
  std::optional<std::int64_t> sf_max_daily_api_calls;
  std::optional<std::string> upsert_field;
  std::optional<std::string> applied_at;
  std::optional<std::int64_t> revision;
  std::vector<std::string> fields;     ///< API names, in the document's order
  std::vector<mapping_index> indexes;  ///< in the document's order
  read_repair_config read_repair;      ///< `config.syncforce`

  /// The table name: the object name lowercased.
  std::string table_name() const;
  bool has_field(std::string_view api_name) const;

  friend bool operator==(const mapping_config& a, const mapping_config& b);
};

/// Connection features (`connection.features`).
struct connection_features {
  bool disable_bulk_writes = false;
  bool poll_db_no_merge = false; ///< ordered writes
  bool poll_external_ids = false;
  bool rest_count_only = false;
  bool ucs_basic_collation_index = false;

  friend bool operator==(const connection_features& a, const connection_features& b) {
    return a.disable_bulk_writes == b.disable_bulk_writes && a.poll_db_no_merge == b.poll_db_no_merge
           && a.poll_external_ids == b.poll_external_ids && a.rest_count_only == b.rest_count_only
           && a.ucs_basic_collation_index == b.ucs_basic_collation_index;
  }
};

/// The connection part of the document. Never holds a secret.
struct connection_config {
  std::optional<std::string> name;
  std::optional<std::string> organization_id;
  std::optional<std::string> app_name;
  std::optional<std::string> exported_at;
  std::optional<std::string> api_version; ///< e.g. "57.0"
  std::optional<bool> logplex_log_enabled;
  std::optional<connection_features> features;

  friend bool operator==(const connection_config& a, const connection_config& b) {
    return a.name == b.name && a.organization_id == b.organization_id && a.app_name == b.app_name
           && a.exported_at == b.exported_at && a.api_version == b.api_version
           && a.logplex_log_enabled == b.logplex_log_enabled && a.features == b.features;
  }
};

/// A whole import/export document.
struct config_document {
  int version = 1;
  std::optional<connection_config> connection;
  std::vector<mapping_config> mappings;

  const mapping_config* find_mapping(std::string_view object_name) const;

  friend bool operator==(const config_document& a, const config_document& b) {
    return a.version == b.version && a.connection == b.connection && a.mappings == b.mappings;
  }
};

/// One problem in a document, located by its JSON path
/// (`mappings[2].config.sf_polling_seconds`).
struct config_problem {
  std::string path;
  std::string message;
  std::string to_string() const { return path.empty() ? message : path + ": " + message; }
};

/// Result of parsing: the document when there were no errors, and every
/// error and warning found (unknown keys are warnings, and are dropped).
struct config_parse_result {
  std::optional<config_document> document;
  std::vector<config_problem> errors;
  std::vector<config_problem> warnings;
  /// A mapping that could be read (it has a valid object name), even when it
  /// or the document has errors, so callers can check it further (against
  /// Salesforce) and report every problem at once. `path` is `mappings[i]`.
  struct readable_mapping {
    std::string path;
    mapping_config config;
  };
  std::vector<readable_mapping> readable;
  bool ok() const { return errors.empty() && document.has_value(); }
  /// All errors, one per line.
  std::string error_text() const;
};

/// Parses and validates an import/export JSON v1 document, reporting every
/// problem at once.
config_parse_result parse_config(std::string_view json_text);

/// Validates a single mapping object (the `mappings[i]` shape, as the admin API
/// takes it); `path` prefixes the problem paths.
config_parse_result parse_mapping(std::string_view json_text, const std::string& path = "");

/// Writes the document as JSON v1 (`indent` < 0: compact). Round-trips with
/// parse_config.
std::string serialize_config(const config_document& doc, int indent = 2);

/// Writes one mapping object (`{"object_name":..., "config":{...}}`).
std::string serialize_mapping(const mapping_config& m, int indent = 2);

} // namespace syncforce
