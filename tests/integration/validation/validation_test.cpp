// Validation of mappings against describe (engine_io::validate_mappings) and the
// checks of `diagnose` (services::run_diagnose), against the real sfemu over
// HTTP and a scratch database on the test PostgreSQL.

#include "engine_io/config_validation.hpp"
#include "engine_io/mapping_describe.hpp"
#include "services/diagnose.hpp"
#include "store/control_repo.hpp"
#include "store/control_schema.hpp"
#include "store/hc_schema.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/sfemu.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace syncforce;
using namespace syncforce::testing;
using nlohmann::json;

namespace {

const char* org_file = R"({
  "objects": [
    {"name": "Parent__c", "label": "Parent", "key_prefix": "a0P",
     "fields": [
       {"name": "Ext__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Code__c", "type": "string", "length": 20}
     ]},
    {"name": "Child__c", "label": "Child", "key_prefix": "a0C",
     "fields": [
       {"name": "Ext_Id__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Parent__c", "type": "reference", "reference_to": "Parent__c"},
       {"name": "Amount__c", "type": "double", "precision": 18, "scale": 2},
       {"name": "Must__c", "type": "string", "length": 30, "required": true},
       {"name": "Notes__c", "type": "string", "length": 200}
     ]},
    {"name": "Foo_c__c", "label": "Foo", "key_prefix": "a0F",
     "fields": [{"name": "Label__c", "type": "string", "length": 50}]}
  ]
})";

const std::string secret_env = "VALIDATE_TEST_SF_PASSWORD";
const std::string the_password = "sfemu";

std::string write_temp(const std::string& name, const std::string& text) {
  auto path = "/tmp/" + name + "." + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << text;
  return path;
}

mapping_config mapping(std::string object, std::vector<std::string> fields,
                       mapping_access access = mapping_access::read_only,
                       std::optional<std::string> upsert = std::nullopt) {
  mapping_config m;
  m.object_name = std::move(object);
  m.fields = std::move(fields);
  m.access = access;
  m.upsert_field = std::move(upsert);
  m.sf_polling_seconds = 600;
  return m;
}

/// sfemu runs on loopback over http, and the test's password variable has its own prefix.
secret_policy test_policy() {
  secret_policy p;
  p.env_prefixes = {"VALIDATE_TEST_"};
  p.insecure_login_hosts = {"127.0.0.1"};
  return p;
}

secret_lookup test_secrets() {
  secret_lookup s;
  s.policy = test_policy();
  s.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == secret_env)
      return the_password;
    return std::nullopt;
  };
  s.file = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return s;
}

struct validation : ::testing::Test {
  void SetUp() override {
    org_path = write_temp("validation_org", org_file);
    emu = std::make_unique<sfemu_process>(std::vector<std::string>{"--org", org_path});
    salesforce::client_config cfg;
    cfg.login_url = emu->base_url();
    salesforce::password_credentials pw;
    pw.username = "admin@sfemu.local";
    pw.password = salesforce::secret(the_password);
    cfg.creds = pw;
    sf = std::make_unique<salesforce::client>(cfg);
  }
  void TearDown() override {
    if (!org_path.empty())
      std::remove(org_path.c_str());
  }

  /// Each problem as "path: message".
  std::map<std::string, std::string> problems_of(const std::vector<engine_io::mapping_to_validate>& mappings) {
    std::map<std::string, std::string> out;
    for (const auto& p : engine_io::validate_mappings(*sf, mappings)) {
      auto& text = out[p.path];
      text += (text.empty() ? "" : " | ") + p.message;
    }
    return out;
  }

  std::string org_path;
  std::unique_ptr<sfemu_process> emu;
  std::unique_ptr<salesforce::client> sf;
};

std::string dump(const std::map<std::string, std::string>& problems) {
  std::string out;
  for (const auto& [path, message] : problems)
    out += path + ": " + message + "\n";
  return out;
}

bool has(const std::map<std::string, std::string>& problems, const std::string& path, const std::string& part) {
  auto it = problems.find(path);
  return it != problems.end() && it->second.find(part) != std::string::npos;
}

} // namespace

// ---------------------------------------------------------------------------
// validate_mappings
// ---------------------------------------------------------------------------

TEST_F(validation, a_good_configuration_has_no_problem) {
  std::vector<engine_io::mapping_to_validate> good{
    {"mappings[0]", mapping("Parent__c", {"Id", "IsDeleted", "SystemModstamp", "Name", "Ext__c", "Code__c"})},
    {"mappings[1]", mapping("Child__c",
                            {"Id", "SystemModstamp", "Name", "Ext_Id__c", "Must__c", "Amount__c", "Parent__c",
                             "Parent__r__Ext__c"},
                            mapping_access::read_write, "Ext_Id__c")},
    {"mappings[2]", mapping("contact", {"Id", "SystemModstamp", "LastName", "Email", "AccountId"})},
  };
  good[1].config.indexes.push_back({"Ext_Id__c", true});
  auto problems = problems_of(good);
  EXPECT_TRUE(problems.empty()) << dump(problems);
}

TEST_F(validation, names_in_any_case_come_back_as_describe_spells_them) {
  std::vector<engine_io::mapping_to_validate> typed{
    {"mappings[0]", mapping("child__C", {"ID", "name", "systemmodstamp", "ext_id__c", "MUST__C", "PARENT__R__EXT__C"},
                            mapping_access::read_write, "EXT_ID__C")},
    {"mappings[1]", mapping("CONTACT", {"id", "lastname", "Nope__c"})},
  };
  typed[0].config.indexes.push_back({"ext_id__C", true});
  std::vector<mapping_config> canonical;
  auto problems = engine_io::validate_mappings(*sf, typed, &canonical);
  ASSERT_EQ(problems.size(), 1u) << (problems.empty() ? "" : problems[0].to_string());
  EXPECT_EQ(problems[0].path, "mappings[1].config.fields.Nope__c") << "an unknown name is reported as typed";
  ASSERT_EQ(canonical.size(), 2u);
  const auto& child = canonical[0];
  EXPECT_EQ(child.object_name, "Child__c");
  EXPECT_EQ(child.fields,
            (std::vector<std::string>{"Id", "Name", "SystemModstamp", "Ext_Id__c", "Must__c", "Parent__r__Ext__c"}));
  EXPECT_EQ(child.upsert_field, std::optional<std::string>{"Ext_Id__c"});
  ASSERT_EQ(child.indexes.size(), 1u);
  EXPECT_EQ(child.indexes[0].field, "Ext_Id__c");
  EXPECT_EQ(canonical[1].object_name, "Contact");
  EXPECT_EQ(canonical[1].fields, (std::vector<std::string>{"Id", "LastName", "Nope__c"}));
  EXPECT_EQ(typed[0].config.object_name, "child__C") << "the input is left as it was";
}

TEST_F(validation, every_problem_is_reported_at_once_with_its_path) {
  std::vector<engine_io::mapping_to_validate> bad{
    {"mappings[0]", mapping("Foo__c", {"Id", "Label__c"})},
    {"mappings[1]", mapping("Child__c",
                            {"Id", "Name", "Amont__c", "Parent__r__Ext__c", "Parent__r__Code__c", "Missing__r__Ext__c",
                             "Notes__c"},
                            mapping_access::read_write, "Notes__c")},
    {"mappings[2]", mapping("Contact", {"Id", "Email"}, mapping_access::read_write)},
    {"mappings[3]", mapping("Contact", {"Id", "LastName"})},
    {"mappings[4]", mapping("Parent__c", {"Id", "Ext__c"}, mapping_access::read_only, "Nope__c")},
  };
  bad[1].config.sf_polling_seconds = 30;
  bad[2].config.indexes.push_back({"Phone", false});
  bad[4].config.sf_polling_seconds = 7200;
  auto problems = problems_of(bad);
  const auto all = dump(problems);

  EXPECT_TRUE(has(problems, "mappings[0].object_name", "no object Foo__c in the org (did you mean Foo_c__c?)")) << all;
  EXPECT_TRUE(has(problems, "mappings[1].config.fields.Amont__c",
                  "no field Amont__c on Child__c (did you mean Amount__c?)"))
    << all;
  EXPECT_TRUE(has(problems, "mappings[1].config.fields.Parent__r__Code__c", "not an External ID")) << all;
  EXPECT_TRUE(has(problems, "mappings[1].config.fields.Missing__r__Ext__c", "no relationship Missing")) << all;
  EXPECT_EQ(problems.count("mappings[1].config.fields.Parent__r__Ext__c"), 0u)
    << "a valid relationship column\n" << all;
  EXPECT_TRUE(has(problems, "mappings[1].config.upsert_field", "must be a unique External ID")) << all;
  EXPECT_TRUE(has(problems, "mappings[1].config.fields",
                  "Fields needed for insertion to Salesforce need to be mapped: Must__c"))
    << all;
  EXPECT_TRUE(has(problems, "mappings[1].config.sf_polling_seconds", "between 120 and 3600")) << all;
  EXPECT_TRUE(has(problems, "mappings[2].config.upsert_field", "needs an upsert_field")) << all;
  EXPECT_TRUE(has(problems, "mappings[2].config.fields", "LastName")) << all;
  EXPECT_TRUE(has(problems, "mappings[2].config.indexes.Phone", "not mapped")) << all;
  EXPECT_TRUE(has(problems, "mappings[3].object_name", "mapped twice (also mappings[2])")) << all;
  EXPECT_TRUE(has(problems, "mappings[4].config.upsert_field", "upsert_field Nope__c does not exist on Parent__c"))
    << all;
  EXPECT_TRUE(has(problems, "mappings[4].config.sf_polling_seconds", "not 7200")) << all;
  EXPECT_EQ(problems.size(), 13u) << all;
  EXPECT_EQ(problems["mappings[4].config.upsert_field"].find("did you mean"), std::string::npos) << all;
}

TEST_F(validation, the_org_lists_the_api_versions_it_offers) {
  auto versions = engine_io::org_api_versions(*sf);
  ASSERT_TRUE(versions.ok()) << versions.error().describe();
  ASSERT_FALSE(versions->empty());
  EXPECT_NE(std::find(versions->begin(), versions->end(), "60.0"), versions->end());
  EXPECT_EQ(std::find(versions->begin(), versions->end(), "v60.0"), versions->end()) << "bare numbers";
}

TEST_F(validation, an_unreachable_salesforce_is_one_problem_and_the_rest_is_still_checked) {
  salesforce::client_config cfg = sf->config();
  cfg.login_url = "http://127.0.0.1:1";
  cfg.retry.max_attempts = 1;
  salesforce::client dead(cfg);
  auto m = mapping("Contact", {"Id"});
  m.sf_polling_seconds = 5;
  auto problems = engine_io::validate_mappings(dead, {{"Contact", m}});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].path, "Contact.config.sf_polling_seconds");
  EXPECT_EQ(problems[1].path, "salesforce");
  EXPECT_NE(problems[1].message.find("cannot check"), std::string::npos) << problems[1].message;
}

// ---------------------------------------------------------------------------
// run_diagnose
// ---------------------------------------------------------------------------

namespace {

struct diagnose : validation {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test starts PostgreSQL)";
    validation::SetUp();
    db = std::make_unique<scratch_database>(*url, "validation");
    conn = std::make_unique<pqxx::connection>(db->url());
    store::migrate_control_schema(*conn);
  }

  /// Stores connection `name` with `mappings`, creates their tables from describe
  /// (except those in `no_table`), and sets every state to a healthy one.
  store::connection_row add_connection(const std::string& name, const std::vector<mapping_config>& mappings,
                                       const std::string& api_version = "62.0",
                                       const std::vector<std::string>& no_table = {}) {
    engine_config cfg;
    engine_connection c;
    c.name = name;
    c.schema = "salesforce";
    c.api_version = api_version;
    c.login.login_url = emu->base_url();
    c.login.username = "admin@sfemu.local";
    c.login.secret_ref = "env:" + secret_env;
    c.document.mappings = mappings;
    cfg.connections.push_back(c);
    pqxx::work tx(*conn);
    store::import_engine_config(tx, cfg);
    store::ensure_connection_schema(tx, "salesforce");
    std::optional<store::connection_row> row;
    for (auto& r : store::load_connections(tx))
      if (r.name == name)
        row = r;
    EXPECT_TRUE(row.has_value());
    store::set_connection_state(tx, row->id, "IDLE");
    row->state = "IDLE";
    for (const auto& m : store::load_mappings(tx, row->id)) {
      store::set_mapping_state(tx, m.id, "DATA_SYNCED", "");
      if (std::find(no_table.begin(), no_table.end(), m.object_name) != no_table.end())
        continue;
      auto d = engine_io::describe_mapping(*sf, "salesforce", m.config, false);
      EXPECT_TRUE(d.ok() && d->spec) << m.object_name;
      if (d.ok() && d->spec)
        store::ensure_mapping_table(tx, *d->spec);
    }
    tx.commit();
    return *row;
  }

  syncforce::v1::DiagnoseReport run(const store::connection_row& c, const std::string& object = {},
                                    const secret_lookup& secrets = test_secrets()) {
    syncforce::v1::DiagnoseReport report;
    pqxx::work tx(*conn);
    services::run_diagnose(tx, c, object, secrets, report);
    tx.commit();
    return report;
  }

  void exec(const std::string& sql) {
    pqxx::work tx(*conn);
    tx.exec0(sql);
    tx.commit();
  }

  static std::string text(const syncforce::v1::DiagnoseReport& r) {
    std::string out;
    for (const auto& x : r.results())
      out += x.status() + " " + x.rule_id() + (x.object_name().empty() ? "" : "[" + x.object_name() + "]") + ": "
             + x.message() + (x.hint().empty() ? "" : " -> " + x.hint()) + "\n";
    return out;
  }

  /// The status of `rule` (for `object`, empty: the connection's), "" when absent.
  static std::string status_of(const syncforce::v1::DiagnoseReport& r, const std::string& rule,
                               const std::string& object = {}) {
    for (const auto& x : r.results())
      if (x.rule_id() == rule && x.object_name() == object)
        return x.status();
    return "";
  }
  static const syncforce::v1::DiagnoseResult* find(const syncforce::v1::DiagnoseReport& r, const std::string& rule,
                                                   const std::string& object = {}) {
    for (const auto& x : r.results())
      if (x.rule_id() == rule && x.object_name() == object)
        return &x;
    return nullptr;
  }

  std::unique_ptr<scratch_database> db;
  std::unique_ptr<pqxx::connection> conn;
};

std::vector<mapping_config> healthy_mappings() {
  auto child = mapping("Child__c", {"Id", "SystemModstamp", "Name", "Ext_Id__c", "Must__c", "Amount__c",
                                    "Parent__r__Ext__c"},
                       mapping_access::read_write, "Ext_Id__c");
  return {mapping("Parent__c", {"Id", "IsDeleted", "SystemModstamp", "Name", "Ext__c"}), child};
}

} // namespace

TEST_F(diagnose, a_healthy_connection_passes_every_check) {
  auto c = add_connection("it", healthy_mappings());
  auto r = run(c);
  const auto all = text(r);
  EXPECT_EQ(r.errors(), 0) << all;
  EXPECT_EQ(r.warnings(), 0) << all;
  EXPECT_EQ(r.skips(), 0) << all;
  EXPECT_EQ(r.passes(), r.results_size()) << all;
  for (const char* rule : {"CONNECTION_STATE", "CREDENTIALS", "API_VERSION", "QUERY_CURSORS", "API_BUDGET",
                           "TRIGGER_LOG_BACKLOG", "FAILED_WRITES", "MAPPINGS_IN_ERROR"})
    EXPECT_EQ(status_of(r, rule), "PASS") << rule << "\n" << all;
  for (const char* object : {"Parent__c", "Child__c"})
    for (const char* rule : {"TABLE_EXISTS", "FIELDS_EXIST", "POLLING"})
      EXPECT_EQ(status_of(r, rule, object), "PASS") << rule << " " << object << "\n" << all;
  EXPECT_EQ(status_of(r, "UPSERT_FIELD", "Child__c"), "PASS") << all;
  EXPECT_EQ(find(r, "UPSERT_FIELD", "Parent__c"), nullptr) << "read-only mappings have no upsert check";
  EXPECT_NE(find(r, "QUERY_CURSORS")->message().find("unlimited"), std::string::npos) << all;
  EXPECT_EQ(all.find(the_password + " "), std::string::npos);
}

TEST_F(diagnose, backlog_failed_writes_error_states_budget_and_drift_are_reported) {
  auto mappings = healthy_mappings();
  mappings.push_back(mapping("Contact", {"Id", "SystemModstamp", "LastName"}));
  auto c = add_connection("it", mappings, "55.0", {"Contact"});
  // Another connection logging in as the same user.
  add_connection("other", {}, "62.0");
  {
    pqxx::work tx(*conn);
    for (const auto& m : store::load_mappings(tx, c.id))
      if (m.object_name == "Parent__c")
        store::set_mapping_state(tx, m.id, "SYSTEM_ERROR", "describe failed: INVALID_SESSION_ID");
    // A mapped field Salesforce no longer has (the stored config drifted).
    tx.exec0("UPDATE syncforce.mappings SET config = jsonb_set(config, '{fields,Gone__c}', '{}'::jsonb)"
             " WHERE object_name = 'Child__c'");
    tx.commit();
  }
  exec("INSERT INTO salesforce._trigger_log (state, action, table_name, record_id, created_at) VALUES "
       "('NEW', 'INSERT', 'child__c', 1, now() - interval '20 minutes'), "
       "('PENDING', 'UPDATE', 'child__c', 2, now() - interval '1 minute')");
  exec("INSERT INTO salesforce._trigger_log_archive (id, state, action, table_name, record_id, created_at, "
       "processed_at, sf_message) VALUES "
       "(101, 'FAILED', 'INSERT', 'child__c', 3, now() - interval '2 hours', now() - interval '2 hours', 'older'), "
       "(102, 'FAILED', 'INSERT', 'child__c', 4, now() - interval '1 hour', now() - interval '1 hour', "
       "'REQUIRED_FIELD_MISSING: Required fields are missing: [Must__c]'), "
       "(103, 'FAILED', 'INSERT', 'child__c', 5, now() - interval '3 days', now() - interval '3 days', 'too old'), "
       "(104, 'SUCCESS', 'INSERT', 'child__c', 6, now(), now(), NULL)");
  // 14,000 of 15,000 daily calls used: under 10 % left.
  {
    salesforce::raw_call call;
    call.method = "POST";
    call.path = emu->base_url() + "/__sfemu/settings";
    call.body = R"({"api_used": 14000})";
    ASSERT_TRUE(sf->call(call).ok());
  }
  auto r = run(c);
  const auto all = text(r);

  auto* backlog = find(r, "TRIGGER_LOG_BACKLOG");
  ASSERT_NE(backlog, nullptr) << all;
  EXPECT_EQ(backlog->status(), "WARNING") << all;
  EXPECT_NE(backlog->message().find("2 change(s)"), std::string::npos) << all;
  EXPECT_NE(backlog->message().find("20 min old"), std::string::npos) << all;

  auto* failed = find(r, "FAILED_WRITES");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status(), "WARNING") << all;
  EXPECT_NE(failed->message().find("2 write(s)"), std::string::npos) << all;
  EXPECT_NE(failed->message().find("[Must__c]"), std::string::npos) << all;
  EXPECT_NE(failed->hint().find("syncforce write-errors"), std::string::npos);

  auto* in_error = find(r, "MAPPINGS_IN_ERROR");
  ASSERT_NE(in_error, nullptr);
  EXPECT_EQ(in_error->status(), "ERROR") << all;
  EXPECT_NE(in_error->message().find("Parent__c is SYSTEM_ERROR (describe failed: INVALID_SESSION_ID)"),
            std::string::npos)
    << all;

  EXPECT_EQ(status_of(r, "API_BUDGET"), "WARNING") << all;
  EXPECT_NE(find(r, "API_BUDGET")->message().find("of 15000"), std::string::npos) << all;
  EXPECT_EQ(status_of(r, "API_VERSION"), "WARNING") << all;
  auto* cursors = find(r, "QUERY_CURSORS");
  ASSERT_NE(cursors, nullptr);
  EXPECT_EQ(cursors->status(), "WARNING") << all;
  EXPECT_NE(cursors->message().find("10 per user (API version < 56.0)"), std::string::npos) << all;
  EXPECT_NE(cursors->message().find("other"), std::string::npos) << all;
  EXPECT_EQ(status_of(r, "TABLE_EXISTS", "Contact"), "ERROR") << all;
  auto* fields = find(r, "FIELDS_EXIST", "Child__c");
  ASSERT_NE(fields, nullptr);
  EXPECT_EQ(fields->status(), "ERROR") << all;
  EXPECT_NE(fields->message().find("Gone__c"), std::string::npos) << all;
  EXPECT_EQ(status_of(r, "FIELDS_EXIST", "Parent__c"), "PASS") << all;
  EXPECT_EQ(status_of(r, "CREDENTIALS"), "PASS") << all;
  for (const auto& x : r.results()) {
    if (x.status() != "PASS") {
      EXPECT_FALSE(x.hint().empty()) << x.rule_id() << " has no hint";
    }
  }
  EXPECT_EQ(r.errors() + r.warnings() + r.passes() + r.skips(), r.results_size());

  // One mapping only: its checks, its failed writes.
  auto one = run(c, "Child__c");
  const auto one_text = text(one);
  for (const auto& x : one.results())
    EXPECT_EQ(x.object_name(), "Child__c") << one_text;
  EXPECT_EQ(status_of(one, "FAILED_WRITES", "Child__c"), "WARNING") << one_text;
  EXPECT_EQ(status_of(one, "TRIGGER_LOG_BACKLOG", "Child__c"), "WARNING") << one_text;
  auto parent = run(c, "Parent__c");
  EXPECT_EQ(status_of(parent, "TRIGGER_LOG_BACKLOG", "Parent__c"), "PASS") << "only its own table's entries";
  EXPECT_EQ(status_of(parent, "FAILED_WRITES", "Parent__c"), "PASS") << text(parent);
  EXPECT_EQ(status_of(parent, "MAPPINGS_IN_ERROR", "Parent__c"), "ERROR") << text(parent);
  EXPECT_EQ(status_of(one, "FIELDS_EXIST", "Child__c"), "ERROR") << one_text;
  EXPECT_EQ(status_of(one, "MAPPINGS_IN_ERROR", "Child__c"), "PASS") << one_text;
  EXPECT_EQ(find(one, "API_BUDGET"), nullptr) << one_text;
  auto none = run(c, "Nope__c");
  EXPECT_EQ(none.errors(), 1) << text(none);
}

TEST_F(diagnose, without_credentials_the_salesforce_checks_are_skipped_with_why) {
  auto c = add_connection("it", healthy_mappings());
  secret_lookup empty;
  empty.policy = test_policy();
  empty.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto r = run(c, {}, empty);
  const auto all = text(r);
  auto* creds = find(r, "CREDENTIALS");
  ASSERT_NE(creds, nullptr);
  EXPECT_EQ(creds->status(), "ERROR") << all;
  EXPECT_NE(creds->message().find(secret_env), std::string::npos) << "names the reference\n" << all;
  EXPECT_EQ(status_of(r, "API_VERSION"), "SKIP") << all;
  EXPECT_EQ(status_of(r, "API_BUDGET"), "SKIP") << all;
  EXPECT_EQ(status_of(r, "FIELDS_EXIST", "Child__c"), "SKIP") << all;
  EXPECT_EQ(status_of(r, "UPSERT_FIELD", "Child__c"), "SKIP") << all;
  EXPECT_EQ(status_of(r, "TRIGGER_LOG_BACKLOG"), "PASS") << "database checks still run\n" << all;

  // A wrong password: the login's refusal, never the password.
  secret_lookup wrong;
  wrong.policy = test_policy();
  wrong.env = [](const std::string&) -> std::optional<std::string> { return std::string{"wrong-pass-4x"}; };
  auto w = run(c, {}, wrong);
  const auto wall = text(w);
  EXPECT_EQ(status_of(w, "CREDENTIALS"), "ERROR") << wall;
  EXPECT_EQ(status_of(w, "API_BUDGET"), "SKIP") << wall;
  EXPECT_EQ(wall.find("wrong-pass-4x"), std::string::npos) << wall;
}
