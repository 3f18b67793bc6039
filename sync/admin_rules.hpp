#pragma once

#include "sync/engine_config.hpp"
#include "sync/mapping_config.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// The admin API's pure rules: tokens, effective states, name checks, and
// mapping configs built or edited from request fields. No I/O.
// ---------------------------------------------------------------------------

// ---- tokens ------------------------------------------------------------------

/// One admin token and the name it acts under (the audit trail's actor).
struct admin_token {
  std::string name;
  std::string token;
};

/// The tokens of `--admin-token-file`, or what is wrong with it (line numbers,
/// never a token).
struct token_file_result {
  std::vector<admin_token> tokens;
  std::vector<std::string> errors;
  bool ok() const { return errors.empty() && !tokens.empty(); }
};

/// A single bare token (name `admin`), or `NAME:TOKEN` lines; `#` comments and
/// blank lines are ignored, surrounding spaces trimmed.
token_file_result parse_token_file(std::string_view text);

/// Compares without stopping at the first difference (no timing hint).
bool same_secret(std::string_view a, std::string_view b);

/// The name of the token `presented` (compared against every token in full), or nullopt.
std::optional<std::string> token_name(const std::vector<admin_token>& tokens, std::string_view presented);

// ---- effective connection state ---------------------------------------------

/// What a mapping is doing, as far as the connection's state is concerned.
struct mapping_activity {
  std::string object_name;
  std::string state;
  std::optional<std::string> command;
};

/// The connection state people see: the stored one, except that an IDLE
/// connection is BUSY while a load or backfill runs or a command waits.
struct effective_state {
  std::string state;
  /// Why it is BUSY ("Contact is RELOAD_TABLE", "Contact has a pending reload"); empty otherwise.
  std::string reason;
};
effective_state effective_connection_state(const std::string& stored, const std::vector<mapping_activity>& mappings);

/// Why `name` cannot be paused now, or nullopt when it can (only from IDLE).
std::optional<std::string> pause_refusal(const std::string& name, const effective_state& s);
/// Why `name` cannot be resumed now (it is not PAUSED), or nullopt.
std::optional<std::string> resume_refusal(const std::string& name, const effective_state& s);

/// What Recover does: the connection's stored error state back to IDLE, and a
/// `recover` command for every mapping in an error state (ABORTED, SYSTEM_ERROR, BAD_CONFIG, ...).
struct recover_plan {
  bool reset_connection = false;
  std::vector<std::string> mappings;
  bool empty() const { return !reset_connection && mappings.empty(); }
};
recover_plan plan_recover(const std::string& stored, const std::vector<mapping_activity>& mappings);

/// Mapping states in which a load or backfill runs (INITIAL, RELOAD_TABLE, RESYNC).
bool is_loading_state(std::string_view state);

// ---- names and settings ------------------------------------------------------

/// Each check appends its problems (at `path`) to `out`.
void check_connection_name(const std::string& path, const std::string& name, std::vector<config_problem>& out);
/// A plain lowercase PostgreSQL identifier, not a system schema nor syncforce's own.
void check_schema_name(const std::string& path, const std::string& name, std::vector<config_problem>& out);
void check_login_url(const std::string& path, const std::string& url, std::vector<config_problem>& out);
void check_username(const std::string& path, const std::string& username, std::vector<config_problem>& out);
void check_auth_method(const std::string& path, const std::string& auth, std::vector<config_problem>& out);
/// `env:NAME` or `file:/absolute/path`; `required` false lets it be empty.
void check_secret_ref(const std::string& path, const std::string& ref, bool required,
                      std::vector<config_problem>& out);
/// `N.0` with N within min_api_version..max_api_version.
void check_api_version(const std::string& path, const std::string& version, std::vector<config_problem>& out);
inline constexpr int min_api_version = 30;
inline constexpr int max_api_version = 99;

/// Sets the named features in `f`; unknown names are problems.
void apply_features(const std::string& path, const std::map<std::string, bool>& named, connection_features& f,
                    std::vector<config_problem>& out);

/// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or with milliseconds (`.mmmZ`).
bool is_utc_timestamp(std::string_view text);

/// "2 problems, nothing was imported:\n  path: message\n  ..." (`what` e.g. "nothing was imported").
std::string problems_text(const std::vector<config_problem>& problems, std::string_view what);

// ---- mapping configs from request fields -------------------------------------

/// Fields every mapping has, added when missing.
const std::vector<std::string>& always_mapped_fields();

/// CreateMappingRequest's fields.
struct mapping_request {
  std::string object_name;
  std::vector<std::string> fields;
  std::string access;       ///< empty: read_only
  std::string upsert_field; ///< empty: none
  int polling_seconds = 0;  ///< 0: default
  std::string config_json;  ///< the whole config instead of the four above
};

/// EditMappingRequest's fields (empty / 0: unchanged).
struct mapping_edit {
  std::vector<std::string> add_fields;
  std::vector<std::string> remove_fields;
  std::string access;
  std::string upsert_field;
  bool clear_upsert_field = false;
  int polling_seconds = 0;
  /// Syncforce's own options (`config.syncforce`); nullopt: unchanged, 0: off.
  std::optional<int> sweep_seconds;
  std::optional<int> sweep_window_seconds;
  std::optional<int> formula_repair_seconds;
  /// Heroku Connect's sf_notify_enabled (accelerated sync by change events); nullopt: unchanged.
  std::optional<bool> sf_notify_enabled;
  bool empty() const {
    return add_fields.empty() && remove_fields.empty() && access.empty() && upsert_field.empty()
           && !clear_upsert_field && polling_seconds == 0 && !sweep_seconds && !sweep_window_seconds
           && !formula_repair_seconds && !sf_notify_enabled;
  }
};

/// A mapping config, or every problem with it (paths under `path`, e.g. `Contact`).
struct mapping_build_result {
  std::optional<mapping_config> config;
  std::vector<config_problem> problems;
};
mapping_build_result build_mapping(const mapping_request& req, const std::string& path);
mapping_build_result edit_mapping(const mapping_config& current, const mapping_edit& edit, const std::string& path);

/// The config without what an import or an edit does not own (applied_at, revision).
mapping_config normalized_mapping(mapping_config m);
/// Same configuration, ignoring applied_at, revision and the order of fields and indexes.
bool same_mapping_config(const mapping_config& a, const mapping_config& b);
/// The `config` object of a mapping as compact JSON (what syncforce.mappings.config holds).
std::string mapping_config_json(const mapping_config& m);

} // namespace syncforce
