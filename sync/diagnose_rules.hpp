#pragma once

// The rules of `syncforce diagnose`: each turns facts gathered elsewhere (from
// PostgreSQL and Salesforce, see services/diagnose.cpp) into one result. Pure:
// no I/O, no clock (ages are passed in).

#include "sync/mapping_config.hpp"
#include "sync/sf_write.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce {

/// How a check went, as Heroku Connect's diagnose names it.
enum class diagnose_status { pass, warning, error, skip };

/// "PASS", "WARNING", "ERROR", "SKIP".
std::string_view to_string(diagnose_status s);

/// One check's outcome. Every non-pass has a hint saying what to do.
struct diagnose_result {
  std::string rule_id;      ///< CREDENTIALS, API_VERSION, ...
  std::string display_name; ///< "Salesforce credentials"
  diagnose_status status = diagnose_status::pass;
  std::string message;
  std::string hint;
  std::string object_name;  ///< the mapping's object; empty for connection checks
};

/// How many results of each status.
struct diagnose_counts {
  int errors = 0;
  int warnings = 0;
  int passes = 0;
  int skips = 0;
};
diagnose_counts count_results(const std::vector<diagnose_result>& results);

// ---------------------------------------------------------------------------
// Connection checks
// ---------------------------------------------------------------------------

/// What logging in told.
struct credentials_facts {
  std::string username;
  std::string auth = "password";  ///< password | jwt
  std::string secret_error;       ///< a secret reference could not be resolved (names the reference only)
  bool attempted = false;         ///< a login was tried
  bool logged_in = false;
  std::string login_error;        ///< Salesforce's refusal, when not logged in
};
diagnose_result rule_credentials(const credentials_facts& f);

/// Why a Salesforce check could not run ("no login: ..."), for SKIP results;
/// empty when it could.
std::string skip_reason(const credentials_facts& f);

/// The API versions the org offers against the connection's.
struct api_version_facts {
  std::string connection_version;      ///< "60.0"
  std::string skip_reason;             ///< non-empty: no login
  std::vector<std::string> offered;    ///< `GET /services/data` versions
  std::string error;                   ///< the versions list could not be read
};
diagnose_result rule_api_version(const api_version_facts& f);

/// Query cursors: the mode and who else uses the same Salesforce user.
struct query_cursor_facts {
  std::string api_version;
  int cursor_limit = 0;                        ///< actors::cursor_limit_for; 0 = unlimited
  std::string username;
  std::vector<std::string> sharing_connections; ///< other connections logging in as the same user
  int mappings = 0;                            ///< mappings of this connection
};
diagnose_result rule_query_cursors(const query_cursor_facts& f);

/// The daily API budget (`GET /limits` DailyApiRequests).
struct api_budget_facts {
  std::string skip_reason;
  std::string error;
  std::optional<long> max;
  std::optional<long> remaining;
};
diagnose_result rule_api_budget(const api_budget_facts& f);

/// Changes waiting in `<schema>._trigger_log` (NEW or PENDING).
struct trigger_log_facts {
  std::string schema;
  bool table_exists = true;
  long waiting = 0;
  std::optional<double> oldest_age_seconds; ///< age of the oldest waiting entry
  bool paused = false;                      ///< the connection is PAUSED (writes wait on purpose)
};
/// Over this age the oldest waiting entry is a warning (10 minutes).
inline constexpr double backlog_warning_seconds = 600.0;
diagnose_result rule_trigger_log_backlog(const trigger_log_facts& f);

/// Writes archived as FAILED in the last 24 hours.
struct failed_write_facts {
  bool table_exists = true;
  long failed_24h = 0;
  std::string newest_message;
  std::string newest_table;
};
diagnose_result rule_failed_writes(const failed_write_facts& f);

/// Salesforce records the read side set aside (syncforce.read_errors).
struct read_error_facts {
  long records = 0;
  std::string newest_object;
  std::string newest_sfid;
  std::string newest_error;
};
diagnose_result rule_read_errors(const read_error_facts& f);

/// One mapping's stored state.
struct mapping_state_facts {
  std::string object_name;
  std::string state;
  std::string state_description;
};
/// ERROR naming each mapping in an error state (sync/states.hpp is_error) with
/// its description. `object_name` is set on the result when diagnosing one mapping.
diagnose_result rule_mappings_in_error(const std::vector<mapping_state_facts>& mappings,
                                       const std::string& object_name = {});

diagnose_result rule_connection_state(const std::string& connection_name, const std::string& state);

// ---------------------------------------------------------------------------
// Mapping checks (results carry object_name)
// ---------------------------------------------------------------------------

/// Whether the mapped table is there.
struct table_facts {
  std::string object_name;
  std::string qualified_table; ///< "salesforce.contact"
  bool exists = false;
  std::string state;           ///< the mapping's state (INITIAL: not created yet)
};
diagnose_result rule_table_exists(const table_facts& f);

/// The unique indexes of a mapped table (the upsert field's `hcu_idx_`, the
/// mapping's unique indexes) that could not be built because the column holds
/// duplicate values.
struct unique_index_facts {
  std::string object_name;
  std::string qualified_table;
  bool table_exists = false;
  std::vector<std::string> unique_columns; ///< the columns that must be unique
  std::vector<std::string> problems;       ///< one sentence per index that is not unique yet
};
diagnose_result rule_unique_indexes(const unique_index_facts& f);

/// What describe says about a mapping's object.
struct describe_facts {
  std::string object_name;
  std::string skip_reason;      ///< no login
  bool object_exists = true;    ///< false: describe said INVALID_TYPE / NOT_FOUND
  std::string error;            ///< describe failed otherwise
  std::vector<std::string> field_names;        ///< every field of the object
  std::vector<std::string> relationship_names; ///< lookups' relationshipName (`Account`, `Parent__r`)
};

/// The mapped fields describe does not know: plain fields by name, and
/// relationship columns `Rel__r__Ext__c` whose relationship (`Rel__r` or `Rel`)
/// is unknown. In the mapping's order.
std::vector<std::string> missing_fields(const mapping_config& mapping, const describe_facts& f);

diagnose_result rule_fields_exist(const mapping_config& mapping, const describe_facts& f);

/// Read-write mappings only: whether the upsert field and the insert-required
/// fields are right (`write_problems` from validate_write_mapping).
diagnose_result rule_upsert_field(const mapping_config& mapping, const describe_facts& f,
                                  const std::vector<std::string>& write_problems);

/// The polling interval's bounds, and its daily calls against sf_max_daily_api_calls.
diagnose_result rule_polling(const mapping_config& mapping);

} // namespace syncforce
