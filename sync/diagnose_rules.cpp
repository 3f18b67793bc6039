#include "sync/diagnose_rules.hpp"

#include "sync/states.hpp"
#include "sync/type_mapping.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace syncforce {

namespace {

diagnose_result make(std::string rule_id, std::string display_name, diagnose_status status, std::string message,
                     std::string hint = {}, std::string object_name = {}) {
  diagnose_result r;
  r.rule_id = std::move(rule_id);
  r.display_name = std::move(display_name);
  r.status = status;
  r.message = std::move(message);
  r.hint = std::move(hint);
  r.object_name = std::move(object_name);
  return r;
}

std::string joined(const std::vector<std::string>& parts, std::string_view sep = ", ") {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty())
      out += sep;
    out += p;
  }
  return out;
}

/// "45 s", "12 min", "3 h 5 min".
std::string age_text(double seconds) {
  auto s = static_cast<long>(std::floor(std::max(0.0, seconds)));
  if (s < 120)
    return std::to_string(s) + " s";
  if (s < 3600 * 2)
    return std::to_string(s / 60) + " min";
  return std::to_string(s / 3600) + " h " + std::to_string((s % 3600) / 60) + " min";
}

/// Orders "9.0" < "10.0" < "60.0"; unparsable versions sort first.
std::pair<int, int> version_key(const std::string& v) {
  int major = -1;
  int minor = 0;
  auto dot = v.find('.');
  try {
    major = std::stoi(v.substr(0, dot));
    if (dot != std::string::npos)
      minor = std::stoi(v.substr(dot + 1));
  } catch (...) {
    return {-1, 0};
  }
  return {major, minor};
}

const char* relationship_marker = "__r__";

} // namespace

std::string_view to_string(diagnose_status s) {
  switch (s) {
    case diagnose_status::pass: return "PASS";
    case diagnose_status::warning: return "WARNING";
    case diagnose_status::error: return "ERROR";
    case diagnose_status::skip: return "SKIP";
  }
  return "SKIP";
}

diagnose_counts count_results(const std::vector<diagnose_result>& results) {
  diagnose_counts c;
  for (const auto& r : results) {
    switch (r.status) {
      case diagnose_status::pass: ++c.passes; break;
      case diagnose_status::warning: ++c.warnings; break;
      case diagnose_status::error: ++c.errors; break;
      case diagnose_status::skip: ++c.skips; break;
    }
  }
  return c;
}

// ---- connection checks -------------------------------------------------------

diagnose_result rule_credentials(const credentials_facts& f) {
  const char* id = "CREDENTIALS";
  const char* name = "Salesforce credentials";
  const std::string what = f.auth == "jwt" ? "JWT key" : "password";
  if (!f.secret_error.empty())
    return make(id, name, diagnose_status::error,
                "cannot read the " + what + " of " + f.username + ": " + f.secret_error,
                "make the secret available to the node (environment variable or file), or set new credentials "
                "with `syncforce sf:auth`");
  if (!f.attempted)
    return make(id, name, diagnose_status::skip, "no login was tried", "check the connection's Salesforce settings");
  if (!f.logged_in)
    return make(id, name, diagnose_status::error, "login as " + f.username + " failed: " + f.login_error,
                "check the username, " + what + " and login URL; set new credentials with `syncforce sf:auth`");
  return make(id, name, diagnose_status::pass, "logged in as " + f.username);
}

std::string skip_reason(const credentials_facts& f) {
  if (!f.secret_error.empty())
    return "no login: the credentials cannot be read";
  if (!f.attempted)
    return "no login";
  if (!f.logged_in)
    return "no login: " + f.login_error;
  return {};
}

diagnose_result rule_api_version(const api_version_facts& f) {
  const char* id = "API_VERSION";
  const char* name = "Salesforce API version";
  if (!f.skip_reason.empty())
    return make(id, name, diagnose_status::skip, f.skip_reason, "fix the credentials first");
  if (!f.error.empty())
    return make(id, name, diagnose_status::skip, "cannot list the org's API versions: " + f.error,
                "check that Salesforce is reachable, then run diagnose again");
  const auto mine = version_key(f.connection_version);
  if (std::find(f.offered.begin(), f.offered.end(), f.connection_version) == f.offered.end()) {
    std::string latest = f.offered.empty() ? std::string{} : f.offered.back();
    for (const auto& v : f.offered)
      if (version_key(latest) < version_key(v))
        latest = v;
    return make(id, name, diagnose_status::error,
                "the org does not offer API version " + f.connection_version
                  + (latest.empty() ? std::string{} : " (it offers up to " + latest + ")"),
                "choose a version the org offers: `syncforce api-version --target-version "
                  + (latest.empty() ? std::string{"<version>"} : latest) + "`");
  }
  std::vector<std::string> newer;
  std::string latest = f.connection_version;
  for (const auto& v : f.offered) {
    if (mine < version_key(v))
      newer.push_back(v);
    if (version_key(latest) < version_key(v))
      latest = v;
  }
  if (mine.first < 56)
    return make(id, name, diagnose_status::warning,
                "API version " + f.connection_version
                  + " is below 56.0: Salesforce allows only 10 open query cursors per user",
                "upgrade: `syncforce api-version --target-version " + latest + "`");
  // Salesforce ships three versions a year: three or more behind is over a year old.
  if (newer.size() >= 3)
    return make(id, name, diagnose_status::warning,
                "API version " + f.connection_version + " is " + std::to_string(newer.size()) +
                  " versions behind the newest the org offers (" + latest + ")",
                "consider upgrading: `syncforce api-version --target-version " + latest + "`");
  if (!newer.empty())
    return make(id, name, diagnose_status::pass,
                "API version " + f.connection_version + " is in use (the org offers up to " + latest + ")");
  return make(id, name, diagnose_status::pass, "API version " + f.connection_version + " is the newest the org offers");
}

diagnose_result rule_query_cursors(const query_cursor_facts& f) {
  const char* id = "QUERY_CURSORS";
  const char* name = "Query cursors";
  const std::string mode = f.cursor_limit > 0
                             ? std::to_string(f.cursor_limit) + " per user (API version < 56.0)"
                             : std::string{"unlimited (API version >= 56.0)"};
  // Sharing a user is safe (one integration-user actor holds its cursors and
  // budget for the whole cluster), but 10 legacy cursors go further alone.
  if (!f.sharing_connections.empty() && f.cursor_limit > 0)
    return make(id, name, diagnose_status::warning,
                "query cursors: " + mode + "; the Salesforce user " + f.username
                  + " is also used by connection(s) " + joined(f.sharing_connections)
                  + ", which share those cursors and its API budget",
                "upgrade to API version 56.0 or later (cursors unlimited), or give each connection its own "
                "integration user");
  if (!f.sharing_connections.empty())
    return make(id, name, diagnose_status::pass,
                "query cursors: " + mode + "; shared with connection(s) " + joined(f.sharing_connections)
                  + " (one integration-user actor holds the user's API budget for all of them)");
  if (f.cursor_limit > 0 && f.mappings > f.cursor_limit)
    return make(id, name, diagnose_status::warning,
                "query cursors: " + mode + ", and " + std::to_string(f.mappings)
                  + " mappings: some polls will wait for a free cursor",
                "upgrade the API version to 56.0 or later: `syncforce api-version --target-version 56.0`");
  return make(id, name, diagnose_status::pass, "query cursors: " + mode);
}

diagnose_result rule_api_budget(const api_budget_facts& f) {
  const char* id = "API_BUDGET";
  const char* name = "Daily API requests";
  if (!f.skip_reason.empty())
    return make(id, name, diagnose_status::skip, f.skip_reason, "fix the credentials first");
  if (!f.error.empty())
    return make(id, name, diagnose_status::skip, "cannot read the org's limits: " + f.error,
                "check that Salesforce is reachable, then run diagnose again");
  if (!f.max || !f.remaining)
    return make(id, name, diagnose_status::skip, "the org reports no DailyApiRequests limit",
                "check the API budget in Salesforce Setup (Company Information)");
  const long max = *f.max;
  const long left = std::max(0L, *f.remaining);
  const double pct = max > 0 ? 100.0 * static_cast<double>(left) / static_cast<double>(max) : 0.0;
  const auto text = fmt::format("{} of {} daily API requests left ({:.1f} %)", left, max, pct);
  if (left == 0)
    return make(id, name, diagnose_status::error, text + ": Salesforce refuses every call until the budget frees up",
                "wait for the rolling 24 hours to free requests, lower polling (sf_polling_seconds), or raise the "
                "org's limit");
  if (pct < 10.0)
    return make(id, name, diagnose_status::warning, text,
                "poll less often (sf_polling_seconds), reduce other integrations' use, or raise the org's limit");
  return make(id, name, diagnose_status::pass, text);
}

diagnose_result rule_trigger_log_backlog(const trigger_log_facts& f) {
  const char* id = "TRIGGER_LOG_BACKLOG";
  const char* name = "Trigger log backlog";
  if (!f.table_exists)
    return make(id, name, diagnose_status::skip, "there is no " + f.schema + "._trigger_log yet",
                "it is created with the connection's first mapping");
  if (f.waiting == 0)
    return make(id, name, diagnose_status::pass, "no change is waiting to be written to Salesforce");
  std::string text = std::to_string(f.waiting) + " change(s) waiting in " + f.schema + "._trigger_log";
  if (f.oldest_age_seconds)
    text += ", the oldest " + age_text(*f.oldest_age_seconds) + " old";
  if (f.oldest_age_seconds && *f.oldest_age_seconds > backlog_warning_seconds)
    return make(id, name, diagnose_status::warning, text,
                f.paused ? std::string{"the connection is paused: `syncforce resume` writes them"}
                         : std::string{"check `syncforce state` and `syncforce write-errors`; a failed insert stops "
                                       "ordered writes of its table until it is fixed"});
  return make(id, name, diagnose_status::pass, text);
}

diagnose_result rule_failed_writes(const failed_write_facts& f) {
  const char* id = "FAILED_WRITES";
  const char* name = "Failed writes";
  if (!f.table_exists)
    return make(id, name, diagnose_status::skip, "there is no _trigger_log_archive yet",
                "it is created with the connection's first mapping");
  if (f.failed_24h == 0)
    return make(id, name, diagnose_status::pass, "no write failed in the last 24 hours");
  std::string text = std::to_string(f.failed_24h) + " write(s) failed in the last 24 hours";
  if (!f.newest_message.empty())
    text += "; the newest (" + f.newest_table + "): " + f.newest_message;
  return make(id, name, diagnose_status::warning, text,
              "see them with `syncforce write-errors`, fix the rows or Salesforce, and they are retried");
}

diagnose_result rule_read_errors(const read_error_facts& f) {
  const char* id = "READ_ERRORS";
  const char* name = "Records set aside by the read side";
  if (f.records == 0)
    return make(id, name, diagnose_status::pass, "every Salesforce record read could be stored");
  std::string text = std::to_string(f.records) + " Salesforce record(s) could not be stored in PostgreSQL";
  if (!f.newest_sfid.empty())
    text += "; the newest (" + f.newest_object + " " + f.newest_sfid + "): " + f.newest_error;
  return make(id, name, diagnose_status::warning, text,
              "see them with `syncforce read-errors`; fix the value in Salesforce (or widen the field and edit the "
              "mapping) and the record arrives with its next change");
}

diagnose_result rule_mappings_in_error(const std::vector<mapping_state_facts>& mappings,
                                       const std::string& object_name) {
  const char* id = "MAPPINGS_IN_ERROR";
  const char* name = "Mappings in error";
  std::vector<std::string> bad;
  for (const auto& m : mappings) {
    auto s = parse_mapping_state(m.state);
    if (s && is_error(*s))
      bad.push_back(m.object_name + " is " + m.state
                    + (m.state_description.empty() ? std::string{} : " (" + m.state_description + ")"));
  }
  if (!bad.empty())
    return make(id, name, diagnose_status::error, joined(bad, "; "),
                "fix the cause, then `syncforce recover` restarts them", object_name);
  return make(id, name, diagnose_status::pass,
              mappings.empty() ? std::string{"no mapping"} : std::string{"no mapping is in an error state"}, {},
              object_name);
}

diagnose_result rule_connection_state(const std::string& connection_name, const std::string& state) {
  const char* id = "CONNECTION_STATE";
  const char* name = "Connection state";
  auto s = parse_connection_state(state);
  if (!s)
    return make(id, name, diagnose_status::warning, "connection " + connection_name + " has an unknown state " + state,
                "run `syncforce recover`");
  if (is_error(*s))
    return make(id, name, diagnose_status::error, "connection " + connection_name + " is " + state,
                *s == connection_state::unauthorized || *s == connection_state::need_authentication
                  ? std::string{"set new credentials with `syncforce sf:auth`, then `syncforce recover`"}
                  : std::string{"fix the cause, then `syncforce recover`"});
  if (*s == connection_state::paused)
    return make(id, name, diagnose_status::warning,
                "connection " + connection_name + " is PAUSED: Salesforce is not polled and writes wait",
                "`syncforce resume` continues where it stopped");
  return make(id, name, diagnose_status::pass, "connection " + connection_name + " is " + state);
}

// ---- mapping checks ----------------------------------------------------------

diagnose_result rule_table_exists(const table_facts& f) {
  const char* id = "TABLE_EXISTS";
  const char* name = "Mapped table";
  if (f.exists)
    return make(id, name, diagnose_status::pass, "table " + f.qualified_table + " exists", {}, f.object_name);
  if (f.state == "INITIAL")
    return make(id, name, diagnose_status::skip, "table " + f.qualified_table + " is being created",
                "wait for the first load (`syncforce mapping:state " + f.object_name + "`)", f.object_name);
  return make(id, name, diagnose_status::error, "table " + f.qualified_table + " does not exist",
              "`syncforce mapping:reload " + f.object_name + "` creates and loads it again", f.object_name);
}

diagnose_result rule_unique_indexes(const unique_index_facts& f) {
  const char* id = "UNIQUE_INDEXES";
  const char* name = "Unique indexes";
  if (!f.table_exists)
    return make(id, name, diagnose_status::skip, "table " + f.qualified_table + " does not exist yet",
                "its unique indexes are checked once the mapping has created it (see the Mapped table check)",
                f.object_name);
  if (f.unique_columns.empty())
    return make(id, name, diagnose_status::pass, "only sfid must be unique in " + f.qualified_table, {},
                f.object_name);
  if (f.problems.empty()) {
    std::string cols;
    for (const auto& c : f.unique_columns)
      cols += (cols.empty() ? "" : ", ") + c;
    return make(id, name, diagnose_status::pass, "unique in " + f.qualified_table + ": " + cols, {}, f.object_name);
  }
  std::string msg;
  for (const auto& p : f.problems)
    msg += (msg.empty() ? "" : "; ") + p;
  return make(id, name, diagnose_status::error, msg,
              "find them with SELECT <column>, count(*) FROM " + f.qualified_table
                + " GROUP BY 1 HAVING count(*) > 1; until then inserts with ON CONFLICT (<column>) fail and "
                  "duplicate keys are accepted",
              f.object_name);
}

std::vector<std::string> missing_fields(const mapping_config& mapping, const describe_facts& f) {
  std::vector<std::string> out;
  auto has = [](const std::vector<std::string>& names, std::string_view n) {
    return std::any_of(names.begin(), names.end(), [&](const std::string& x) { return iequals(x, n); });
  };
  for (const auto& field : mapping.fields) {
    auto rel = field.find(relationship_marker);
    if (rel != std::string::npos && rel > 0) {
      const auto base = field.substr(0, rel);
      if (!has(f.relationship_names, base + "__r") && !has(f.relationship_names, base))
        out.push_back(field);
      continue;
    }
    if (!has(f.field_names, field))
      out.push_back(field);
  }
  return out;
}

diagnose_result rule_fields_exist(const mapping_config& mapping, const describe_facts& f) {
  const char* id = "FIELDS_EXIST";
  const char* name = "Mapped fields";
  if (!f.skip_reason.empty())
    return make(id, name, diagnose_status::skip, f.skip_reason, "fix the credentials first", f.object_name);
  if (!f.object_exists)
    return make(id, name, diagnose_status::error, "object " + f.object_name + " no longer exists in the org",
                "restore it in Salesforce, or delete the mapping: `syncforce mapping:delete " + f.object_name
                  + " --confirm " + f.object_name + "`",
                f.object_name);
  if (!f.error.empty())
    return make(id, name, diagnose_status::skip, "cannot describe " + f.object_name + ": " + f.error,
                "check that Salesforce is reachable and the user may read " + f.object_name, f.object_name);
  auto missing = missing_fields(mapping, f);
  if (!missing.empty())
    return make(id, name, diagnose_status::error,
                "mapped field(s) no longer on " + f.object_name + ": " + joined(missing),
                "restore them in Salesforce or remove them from the mapping (`syncforce mapping:edit "
                  + f.object_name + "`)",
                f.object_name);
  return make(id, name, diagnose_status::pass,
              "all " + std::to_string(mapping.fields.size()) + " mapped fields exist on " + f.object_name, {},
              f.object_name);
}

diagnose_result rule_upsert_field(const mapping_config& mapping, const describe_facts& f,
                                  const std::vector<std::string>& write_problems) {
  const char* id = "UPSERT_FIELD";
  const char* name = "Upsert field";
  if (mapping.access != mapping_access::read_write)
    return make(id, name, diagnose_status::pass, "read-only mapping: no upsert field needed", {}, f.object_name);
  if (!f.skip_reason.empty())
    return make(id, name, diagnose_status::skip, f.skip_reason, "fix the credentials first", f.object_name);
  if (!f.object_exists || !f.error.empty())
    return make(id, name, diagnose_status::skip, "cannot describe " + f.object_name,
                "see the Mapped fields check", f.object_name);
  if (!write_problems.empty())
    return make(id, name, diagnose_status::error, joined(write_problems, "; "),
                "set a unique External ID field as upsert field and map every field an insert needs (`syncforce "
                "mapping:edit "
                  + f.object_name + "`)",
                f.object_name);
  return make(id, name, diagnose_status::pass,
              "writes upsert by " + mapping.upsert_field.value_or("") + ", a unique External ID field", {},
              f.object_name);
}

diagnose_result rule_polling(const mapping_config& mapping) {
  const char* id = "POLLING";
  const char* name = "Polling interval";
  const int secs = mapping.sf_polling_seconds;
  if (secs < mapping_config::min_polling_seconds || secs > mapping_config::max_polling_seconds)
    return make(id, name, diagnose_status::error,
                fmt::format("sf_polling_seconds {} is outside {}..{}", secs, mapping_config::min_polling_seconds,
                            mapping_config::max_polling_seconds),
                "set it between 2 and 60 minutes (`syncforce mapping:edit " + mapping.object_name + " --polling "
                  + std::to_string(mapping_config::default_polling_seconds) + "`)",
                mapping.object_name);
  const long polls_per_day = secs > 0 ? 86400L / secs : 0;
  if (mapping.sf_max_daily_api_calls && polls_per_day > *mapping.sf_max_daily_api_calls)
    return make(id, name, diagnose_status::warning,
                fmt::format("polling every {} s takes at least {} calls a day, over sf_max_daily_api_calls {}", secs,
                            polls_per_day, *mapping.sf_max_daily_api_calls),
                "poll less often or raise sf_max_daily_api_calls", mapping.object_name);
  return make(id, name, diagnose_status::pass, fmt::format("polls Salesforce every {} s", secs), {},
              mapping.object_name);
}

} // namespace syncforce
