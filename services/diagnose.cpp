#include "services/diagnose.hpp"

#include "engine_io/config_validation.hpp"
#include "actors/integration_user.hpp"
#include "engine_io/mapping_describe.hpp"
#include "engine_io/sf_login.hpp"
#include "salesforce/client.hpp"
#include "sync/diagnose_rules.hpp"
#include "sync/sf_write.hpp"
#include "store/admin_reads.hpp"
#include "store/hc_schema.hpp"
#include "sync/type_mapping.hpp"

#include <algorithm>
#include <memory>
#include <optional>

namespace syncforce::services {

namespace {

/// NEW/PENDING entries of the connection's trigger log (of `table` only when set).
trigger_log_facts gather_backlog(pqxx::transaction_base& tx, const store::connection_row& c,
                                 const std::string& table = {}) {
  trigger_log_facts f;
  f.schema = c.schema_name;
  f.paused = c.state == "PAUSED";
  f.table_exists = store::relation_exists(tx, c.schema_name, "_trigger_log");
  if (!f.table_exists)
    return f;
  auto b = store::backlog_of(tx, c.schema_name, table);
  f.waiting = b.waiting;
  f.oldest_age_seconds = b.oldest_age_seconds;
  return f;
}

/// The mapping's columns that must be unique (besides sfid) and what keeps their index from being so.
unique_index_facts gather_unique_indexes(pqxx::transaction_base& tx, const store::connection_row& c,
                                         const store::mapping_row& m) {
  unique_index_facts f;
  f.object_name = m.object_name;
  const auto table = m.config.table_name();
  f.qualified_table = c.schema_name + "." + table;
  f.table_exists = store::relation_exists(tx, c.schema_name, table);
  auto add = [&f](const std::string& field) {
    auto column = column_name_for(field);
    if (column != "sfid" && std::find(f.unique_columns.begin(), f.unique_columns.end(), column) == f.unique_columns.end())
      f.unique_columns.push_back(column);
  };
  if (m.config.upsert_field)
    add(*m.config.upsert_field);
  for (const auto& i : m.config.indexes)
    if (i.unique)
      add(i.field);
  if (!f.table_exists)
    return f;
  for (const auto& p : store::find_unique_index_problems(tx, c.schema_name, table, f.unique_columns))
    f.problems.push_back(p.describe(c.schema_name, table));
  return f;
}

failed_write_facts gather_failed_writes(pqxx::transaction_base& tx, const store::connection_row& c,
                                        const std::vector<std::string>& tables) {
  failed_write_facts f;
  f.table_exists = store::relation_exists(tx, c.schema_name, "_trigger_log_archive");
  if (!f.table_exists)
    return f;
  auto summary = store::failed_writes_summary(tx, c.schema_name, tables);
  f.failed_24h = summary.failed_24h;
  f.newest_table = std::move(summary.newest_table);
  f.newest_message = std::move(summary.newest_message);
  return f;
}

read_error_facts gather_read_errors(pqxx::transaction_base& tx, const store::connection_row& c,
                                    const std::optional<std::string>& object_name) {
  read_error_facts f;
  auto summary = store::read_errors_summary(tx, c.id, object_name);
  f.records = summary.records;
  f.newest_object = std::move(summary.newest_object);
  f.newest_sfid = std::move(summary.newest_sfid);
  f.newest_error = std::move(summary.newest_error);
  return f;
}

/// `GET /services/data`: the versions the org offers.
void gather_versions(salesforce::client& sf, api_version_facts& f) {
  auto versions = engine_io::org_api_versions(sf);
  if (!versions)
    f.error = versions.error().describe();
  else
    f.offered = std::move(versions.value());
}

void gather_limits(salesforce::client& sf, api_budget_facts& f) {
  auto limits = sf.limits();
  if (!limits) {
    f.error = limits.error().describe();
    return;
  }
  for (const auto& l : *limits)
    if (l.name == "DailyApiRequests") {
      f.max = l.max;
      f.remaining = l.remaining;
    }
}

describe_facts gather_describe(salesforce::client* sf, const std::string& skip, const std::string& object,
                               std::vector<sf_field_rules>& rules) {
  describe_facts f;
  f.object_name = object;
  if (sf == nullptr) {
    f.skip_reason = skip;
    return f;
  }
  auto d = sf->describe(object);
  if (!d) {
    if (d.error().kind == salesforce::error_kind::invalid_type || d.error().kind == salesforce::error_kind::not_found)
      f.object_exists = false;
    else
      f.error = d.error().describe();
    return f;
  }
  for (const auto& field : d->fields) {
    f.field_names.push_back(field.name);
    if (!field.relationship_name.empty())
      f.relationship_names.push_back(field.relationship_name);
    rules.push_back(engine_io::rules_of(field));
  }
  return f;
}

void append(syncforce::v1::DiagnoseReport& out, const diagnose_result& r) {
  auto* p = out.add_results();
  p->set_rule_id(r.rule_id);
  p->set_display_name(r.display_name);
  p->set_status(std::string{to_string(r.status)});
  p->set_message(r.message);
  p->set_hint(r.hint);
  p->set_object_name(r.object_name);
  switch (r.status) {
    case diagnose_status::pass: out.set_passes(out.passes() + 1); break;
    case diagnose_status::warning: out.set_warnings(out.warnings() + 1); break;
    case diagnose_status::error: out.set_errors(out.errors() + 1); break;
    case diagnose_status::skip: out.set_skips(out.skips() + 1); break;
  }
}

} // namespace

void append_node_health(syncforce::v1::DiagnoseReport& out, const std::string& node_name, const std::string& failure) {
  diagnose_result r;
  r.rule_id = "NODE_HEALTH";
  r.display_name = "Node " + node_name + " is running every component";
  if (failure.empty()) {
    r.status = diagnose_status::pass;
    r.message = "no component of this node gave up";
  } else {
    r.status = diagnose_status::error;
    r.message = "this node gave up: " + failure;
    r.hint = "the node is not ready and its liveness fails soon, so Kubernetes restarts it; elsewhere restart "
             "syncforced, and look at its log for the cause (lines with level=error before 'Node gave up')";
  }
  append(out, r);
}

void run_diagnose(pqxx::transaction_base& tx, const store::connection_row& c, const std::string& object_name,
                  const secret_lookup& secrets, syncforce::v1::DiagnoseReport& out) {
  const int first_result = out.results_size();
  auto mappings = store::load_mappings(tx, c.id);
  if (!object_name.empty()) {
    std::vector<store::mapping_row> one;
    for (auto& m : mappings)
      if (iequals(m.object_name, object_name))
        one.push_back(std::move(m));
    mappings = std::move(one);
    if (mappings.empty()) {
      diagnose_result r;
      r.rule_id = "MAPPING_EXISTS";
      r.display_name = "Mapping";
      r.status = diagnose_status::error;
      r.message = "connection " + c.name + " has no mapping of " + object_name;
      r.hint = "see the mappings with `syncforce state`";
      r.object_name = object_name;
      append(out, r);
      return;
    }
  }
  const bool whole_connection = object_name.empty();

  // Credentials: a login with the node's secrets (never shown).
  credentials_facts login;
  login.username = c.login.username;
  login.auth = c.login.auth;
  std::unique_ptr<salesforce::client> sf;
  std::string secret_error;
  if (auto cfg = engine_io::client_config_for(c, secrets, secret_error)) {
    // Diagnose answers a person: fail fast rather than retry for minutes.
    cfg->http.connect_timeout = std::chrono::seconds(5);
    cfg->http.request_timeout = std::chrono::seconds(30);
    cfg->retry.max_attempts = 2;
    cfg->retry.base_delay = std::chrono::milliseconds(200);
    sf = std::make_unique<salesforce::client>(std::move(*cfg));
    login.attempted = true;
    auto st = sf->login();
    login.logged_in = st.ok();
    if (!st)
      login.login_error = st.error().describe();
  } else {
    login.secret_error = secret_error.empty() ? "the secret cannot be resolved" : secret_error;
  }
  const auto skip = skip_reason(login);
  salesforce::client* live = login.logged_in ? sf.get() : nullptr;

  if (whole_connection) {
    append(out, rule_connection_state(c.name, c.state));
    append(out, rule_credentials(login));

    api_version_facts versions;
    versions.connection_version = c.api_version;
    versions.skip_reason = skip;
    if (live != nullptr)
      gather_versions(*live, versions);
    append(out, rule_api_version(versions));

    query_cursor_facts cursors;
    cursors.api_version = c.api_version;
    cursors.cursor_limit = actors::cursor_limit_for(c.api_version);
    cursors.username = c.login.username;
    cursors.mappings = static_cast<int>(mappings.size());
    for (const auto& other : store::load_connections(tx))
      if (other.id != c.id && iequals(other.login.username, c.login.username)
          && other.login.login_url == c.login.login_url)
        cursors.sharing_connections.push_back(other.name);
    append(out, rule_query_cursors(cursors));

    api_budget_facts budget;
    budget.skip_reason = skip;
    if (live != nullptr)
      gather_limits(*live, budget);
    append(out, rule_api_budget(budget));

    append(out, rule_trigger_log_backlog(gather_backlog(tx, c)));
    append(out, rule_failed_writes(gather_failed_writes(tx, c, {})));
    append(out, rule_read_errors(gather_read_errors(tx, c, std::nullopt)));
  }

  std::vector<mapping_state_facts> states;
  for (const auto& m : mappings)
    states.push_back({m.object_name, m.state, m.state_description});
  append(out, rule_mappings_in_error(states, whole_connection ? std::string{} : mappings.front().object_name));
  if (!whole_connection) {
    append(out, rule_trigger_log_backlog(gather_backlog(tx, c, mappings.front().config.table_name())));
    append(out, rule_failed_writes(gather_failed_writes(tx, c, {mappings.front().config.table_name()})));
    append(out, rule_read_errors(gather_read_errors(tx, c, mappings.front().object_name)));
  }

  for (const auto& m : mappings) {
    table_facts table;
    table.object_name = m.object_name;
    table.qualified_table = c.schema_name + "." + m.config.table_name();
    table.exists = store::relation_exists(tx, c.schema_name, m.config.table_name());
    table.state = m.state;
    append(out, rule_table_exists(table));
    append(out, rule_unique_indexes(gather_unique_indexes(tx, c, m)));

    std::vector<sf_field_rules> rules;
    auto described = gather_describe(live, skip, m.object_name, rules);
    append(out, rule_fields_exist(m.config, described));
    if (m.config.access == mapping_access::read_write) {
      std::vector<std::string> problems;
      if (described.skip_reason.empty() && described.object_exists && described.error.empty())
        problems = validate_write_mapping(m.config, rules);
      append(out, rule_upsert_field(m.config, described, problems));
    }
    append(out, rule_polling(m.config));
  }
  // Results are per mapping; the failed-write result above carries the object too.
  if (!whole_connection)
    for (int i = first_result; i < out.results_size(); ++i)
      if (out.results(i).object_name().empty())
        out.mutable_results(i)->set_object_name(mappings.front().object_name);
}

} // namespace syncforce::services
