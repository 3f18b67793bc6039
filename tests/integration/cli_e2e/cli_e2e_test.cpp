// Issue 6 end to end, the way an operator works: a syncforced node started
// WITHOUT a configuration file (only its database, a token file with named
// tokens, and the Salesforce password in its environment), the real sfemu and
// PostgreSQL, and everything set up and operated through the real `syncforce`
// CLI: connection:create, mapping:create/edit/delete/reload/abort, import and
// export, pause and resume, diagnose, and the audit trail with the token's name
// as the actor. Assertions look at what the CLI says (exit codes, messages) and
// at the truth behind it (the control schema, the synced tables, sfemu's
// records and API-call counters).

#include "sync/csv.hpp"
#include "sync/hc_export.hpp"
#include "sync/mapping_config.hpp"
#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>
#include <sstream>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

// Named admin tokens (the names go to the audit trail) and the Salesforce
// password: none of them may ever show in a log, an export or the audit trail.
const std::string alice_token = "alice-t0ken-e2e-7f3a9c51";
const std::string bob_token = "bob-t0ken-e2e-2d81ee04";
const std::string sf_user = "e2e@example.com";
const std::string sf_password = "e2e-Pa55word-c41d";
const std::string wrong_password = "not-the-Pa55word-77aa";

const char* e2e_org = R"({
  "users": [{"username": "e2e@example.com", "password": "e2e-Pa55word-c41d"}],
  "objects": [
    {"name": "Widget__c", "key_prefix": "a01",
     "fields": [
       {"name": "Ext_Id__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Text__c", "type": "string", "length": 100},
       {"name": "Count__c", "type": "int"}
     ]},
    {"name": "Gadget__c", "key_prefix": "a02",
     "fields": [
       {"name": "Ext_Id__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Text__c", "type": "string", "length": 100},
       {"name": "Account__c", "type": "reference", "reference_to": "Account"}
     ]},
    {"name": "Strict__c", "key_prefix": "a03",
     "fields": [
       {"name": "Ext_Id__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Code__c", "type": "string", "length": 20, "required": true}
     ]},
    {"name": "Plain__c", "key_prefix": "a04",
     "fields": [{"name": "Text__c", "type": "string", "length": 100}]},
    {"name": "Typed__c", "key_prefix": "a06",
     "fields": [
       {"name": "Ext_Id__c", "type": "string", "length": 40, "external_id": true, "unique": true},
       {"name": "Text__c", "type": "string", "length": 100},
       {"name": "Count__c", "type": "int"},
       {"name": "Amount__c", "type": "double", "precision": 18, "scale": 2},
       {"name": "Flag__c", "type": "boolean"},
       {"name": "Day__c", "type": "date"},
       {"name": "When__c", "type": "datetime"}
     ]},
    {"name": "agf__ADM_Work__c", "key_prefix": "a05",
     "fields": [
       {"name": "agf__External_ID__c", "type": "string", "length": 40, "external_id": true, "unique": true}
     ]}
  ]
})";

// heroku-connect.md section 8, as Heroku Connect exports it.
const char* reference_export = R"({"version": 1,
 "connection": {"app_name": "...", "organization_id": "00D...", "exported_at": "2023-02-15T17:13:42.743308+00:00",
   "features": {"disable_bulk_writes": false, "poll_db_no_merge": true, "poll_external_ids": false,
                "rest_count_only": false, "ucs_basic_collation_index": false},
   "api_version": "57.0", "name": "APP:DATABASE_URL:gus", "logplex_log_enabled": false},
 "mappings": [{"object_name": "agf__ADM_Work__c",
   "config": {"access": "read_write", "sf_notify_enabled": false, "sf_polling_seconds": 600,
     "sf_max_daily_api_calls": 30000, "upsert_field": "agf__External_ID__c",
     "applied_at": "2023-02-14T01:40:34.070538Z",
     "fields": {"Id": {}, "IsDeleted": {}, "SystemModstamp": {}, "CreatedDate": {}, "Name": {}, "agf__External_ID__c": {}},
     "indexes": {"Id": {"unique": true}, "SystemModstamp": {"unique": false}, "agf__External_ID__c": {"unique": true}}}}]})";

const char* minimal_import = R"({"mappings": [{"object_name": "Widget__c",
   "config": {"access": "read_only", "sf_polling_seconds": 120,
     "fields": {"Id": {}, "IsDeleted": {}, "SystemModstamp": {}, "CreatedDate": {}, "Name": {}, "Ext_Id__c": {},
                "Text__c": {}},
     "indexes": {"Ext_Id__c": {"unique": true}}}}], "version": 1})";

struct cli_result {
  int code = -1;
  std::string output;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// A mapping as configured, timestamps and revision aside, in a canonical order.
mapping_config canonical(mapping_config m) {
  m.applied_at.reset();
  m.revision.reset();
  std::sort(m.fields.begin(), m.fields.end());
  std::sort(m.indexes.begin(), m.indexes.end(),
            [](const mapping_index& a, const mapping_index& b) { return a.field < b.field; });
  return m;
}

struct cli_e2e : ::testing::Test {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test starts PostgreSQL)";
    db = std::make_unique<scratch_database>(*url, "cli_e2e");
    org_path = write_temp("cli_e2e_org", e2e_org);
    token_path = write_temp("cli_e2e_tokens",
                            "# who may change what (NAME:TOKEN)\nalice:" + alice_token + "\n\nbob:" + bob_token + "\n");
    emu = std::make_unique<sfemu_process>(std::vector<std::string>{"--org", org_path});
    sf = std::make_unique<salesforce::client>(sf_config(*emu));
  }

  void TearDown() override {
    node.reset();
    for (const auto& p : {org_path, token_path})
      if (!p.empty())
        std::remove(p.c_str());
    for (const auto& p : temp_files)
      std::remove(p.c_str());
  }

  /// The node: no --config, only the database, the token file and the password in its environment.
  void start_node(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{bin_path("syncforced"), "--database-url", db->url(), "--grpc-address",
                                  "127.0.0.1:0", "--node-name", "e2e-node", "--admin-token-file", token_path,
                                  "--bulk-threshold", "1000000"};
    args.insert(args.end(), extra.begin(), extra.end());
    node = child_process::start(args, {{"SF_TEST_PASSWORD", sf_password},
                                       {"SF_ROTATED_PASSWORD", sf_password}, // sf:auth moves to this reference
                                       {"SF_WRONG_PASSWORD", wrong_password},
                                       {"SYNCFORCE_TEST_POLL_SECONDS", "1"}});
    ASSERT_TRUE(node->wait_for_output("gRPC server listening", 20s)) << node->output();
    std::smatch m;
    auto out = node->output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("gRPC server listening\" port=(\\d+)"))) << out;
    server = "127.0.0.1:" + m[1].str();
    // As an operator would: wait until the node is ready (database reachable, control schema migrated).
    cli_result ready;
    ASSERT_TRUE(wait_until([&] { return (ready = cli({"health", "--service", "readiness"}, std::nullopt)).code == 0; },
                           20s, 100ms))
      << ready.output << node->output();
  }

  void stop_node() {
    ASSERT_TRUE(node->signal(SIGTERM));
    auto code = node->wait_exit(20s);
    ASSERT_TRUE(code.has_value()) << node->output();
    EXPECT_EQ(*code, 0) << node->output();
  }

  /// Runs `syncforce --server <node> ARGS` with SYNCFORCE_TOKEN = `token` (none when nullopt).
  cli_result cli(const std::vector<std::string>& args, const std::optional<std::string>& token = alice_token,
                 std::chrono::milliseconds timeout = 60s) {
    std::vector<std::string> argv{bin_path("syncforce"), "--server", server};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> env;
    if (token)
      env["SYNCFORCE_TOKEN"] = *token;
    auto p = child_process::start(argv, env);
    cli_result r;
    r.code = p->wait_exit(timeout).value_or(-1);
    r.output = p->output();
    return r;
  }

  void create_connection() {
    auto r = cli({"connection:create", "it", "--login-url", emu->base_url(), "--username", sf_user, "--auth",
                  "password", "--secret-ref", "env:SF_TEST_PASSWORD"});
    ASSERT_EQ(r.code, 0) << r.output << node->output();
  }

  void create_mapping(const std::string& object, const std::string& fields, const std::string& access = "read_only",
                      const std::string& upsert_field = "") {
    std::vector<std::string> args{"mapping:create", object, "--fields", fields, "--access", access, "--polling", "120"};
    if (!upsert_field.empty()) {
      args.push_back("--upsert-field");
      args.push_back(upsert_field);
    }
    auto r = cli(args);
    ASSERT_EQ(r.code, 0) << r.output;
  }

  std::string temp(const std::string& name, const std::string& text) {
    auto path = write_temp(name, text);
    temp_files.push_back(path);
    return path;
  }

  void sql(const std::string& statement) {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec(statement);
    tx.commit();
  }

  std::optional<std::string> mapping_field(const std::string& object, const std::string& expr) {
    return scalar(db->url(), "SELECT " + expr + " FROM syncforce.mappings WHERE object_name = '" + object + "'");
  }

  bool wait_state(const std::string& object, const std::string& state, std::chrono::milliseconds timeout = 60s) {
    return wait_until([&] { return mapping_field(object, "state") == state; }, timeout, 50ms);
  }

  bool table_exists(const std::string& table) {
    return scalar(db->url(), "SELECT to_regclass('salesforce." + table + "')::text").has_value();
  }

  bool column_exists(const std::string& table, const std::string& column) {
    return count_of(db->url(), "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'salesforce' "
                               "AND table_name = '" + table + "' AND column_name = '" + column + "'") == 1;
  }

  /// A call to sfemu's control API (`/__sfemu/...`); fails the test on an error.
  json control(const std::string& method, const std::string& path, const json& body = nullptr) {
    salesforce::raw_call c;
    c.method = method;
    c.path = emu->base_url() + "/__sfemu/" + path;
    if (!body.is_null()) {
      c.body = body.dump();
      c.content_type = "application/json";
    }
    auto r = sf->call(c);
    if (!r) {
      ADD_FAILURE() << method << " " << path << ": " << r.error().describe();
      return nullptr;
    }
    return json::parse(r->body, nullptr, false);
  }

  /// `n` records through sfemu's CSV fast path: Name R<i>, <prefix>-<i>, Text__c text-<i>.
  void load_csv(const std::string& object, int n, const std::string& prefix) {
    std::string csv = "Name,Ext_Id__c,Text__c\n";
    for (int i = 0; i < n; ++i)
      csv += "R" + std::to_string(i) + "," + prefix + "-" + std::to_string(i) + ",text-" + std::to_string(i) + "\n";
    salesforce::raw_call c;
    c.method = "POST";
    c.path = emu->base_url() + "/__sfemu/records/" + object + "?ids=false";
    c.body = csv;
    c.content_type = "text/csv";
    auto r = sf->call(c);
    ASSERT_TRUE(r) << r.error().describe();
    auto body = json::parse(r->body, nullptr, false);
    ASSERT_EQ(body.value("created", -1), n) << r->body.substr(0, 300);
  }

  /// API calls of the node's Salesforce user (not the test's own calls, not logins).
  long node_calls() {
    auto counters = control("GET", "counters");
    if (!counters.is_object() || !counters.contains("by_user"))
      return -1;
    return counters["by_user"].value(sf_user, 0L);
  }

  /// Records in sfemu matching a SOQL query (counts as an API call of the test's own user).
  long sf_count(const std::string& soql) {
    auto cursor = sf->query(soql);
    auto page = cursor.next_page();
    if (!page) {
      ADD_FAILURE() << soql << ": " << page.error().describe();
      return -1;
    }
    return cursor.total_size();
  }

  std::string row_ids(const std::string& table) {
    return scalar(db->url(), "SELECT md5(string_agg(id::text || ':' || sfid, ',' ORDER BY id)) FROM salesforce." + table)
      .value_or("");
  }

  std::unique_ptr<scratch_database> db;
  std::unique_ptr<sfemu_process> emu;
  std::unique_ptr<salesforce::client> sf;
  std::unique_ptr<child_process> node;
  std::string org_path;
  std::string token_path;
  std::vector<std::string> temp_files;
  std::string server;
};

} // namespace

TEST_F(cli_e2e, a_connection_and_two_mappings_made_with_the_cli_sync_both_ways) {
  ASSERT_EQ(load_records(*sf, *emu, "Widget__c",
                         json::array({{{"Name", "W0"}, {"Ext_Id__c", "W-0"}, {"Text__c", "zero"}, {"Count__c", 0}},
                                      {{"Name", "W1"}, {"Ext_Id__c", "W-1"}, {"Text__c", "one"}, {"Count__c", 1}},
                                      {{"Name", "W2"}, {"Ext_Id__c", "W-2"}, {"Text__c", "two"}, {"Count__c", 2}}}))
              .size(),
            3u);
  ASSERT_EQ(load_records(*sf, *emu, "Gadget__c",
                         json::array({{{"Name", "G0"}, {"Ext_Id__c", "G-0"}}, {{"Name", "G1"}, {"Ext_Id__c", "G-1"}}}))
              .size(),
            2u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.connections WHERE name = 'it'"), 1);
  ASSERT_NO_FATAL_FAILURE(create_mapping("Widget__c", "Name,Ext_Id__c,Text__c,Count__c"));
  ASSERT_NO_FATAL_FAILURE(create_mapping("Gadget__c", "Name,Ext_Id__c,Text__c", "read_write", "Ext_Id__c"));
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  ASSERT_TRUE(wait_state("Gadget__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.widget__c"), 3);
  EXPECT_EQ(scalar(db->url(), "SELECT text__c || '/' || count__c FROM salesforce.widget__c WHERE ext_id__c = 'W-2'"),
            "two/2");
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.gadget__c"), 2);
  EXPECT_EQ(mapping_field("Gadget__c", "config->>'access'"), "read_write");
  EXPECT_EQ(mapping_field("Gadget__c", "config->>'upsert_field'"), "Ext_Id__c");

  auto state = cli({"state"});
  EXPECT_EQ(state.code, 0) << state.output;
  for (const char* s : {"Widget__c", "Gadget__c", "DATA_SYNCED"})
    EXPECT_NE(state.output.find(s), std::string::npos) << s << " in\n" << state.output;

  // A psql-style INSERT into the read_write table reaches Salesforce.
  sql("INSERT INTO salesforce.gadget__c (name, ext_id__c, text__c) VALUES ('From PG', 'G-PG', 'hello')");
  ASSERT_TRUE(wait_until(
    [&] {
      return count_of(db->url(), "SELECT count(*) FROM salesforce.gadget__c WHERE ext_id__c = 'G-PG' AND sfid IS NOT "
                                 "NULL AND _hc_lastop = 'SYNCED'") == 1;
    },
    30s))
    << node->output();
  EXPECT_EQ(sf_count("SELECT Id FROM Gadget__c WHERE Ext_Id__c = 'G-PG' AND Text__c = 'hello'"), 1);
  stop_node();
}

TEST_F(cli_e2e, the_reference_export_and_the_minimal_form_import_and_export_back_without_secrets) {
  ASSERT_EQ(load_records(*sf, *emu, "agf__ADM_Work__c",
                         json::array({{{"Name", "Work 1"}, {"agf__External_ID__c", "X-1"}},
                                      {{"Name", "Work 2"}, {"agf__External_ID__c", "X-2"}}}))
              .size(),
            2u);
  ASSERT_EQ(load_records(*sf, *emu, "Widget__c", json::array({{{"Name", "W0"}, {"Ext_Id__c", "W-0"}}})).size(), 1u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());

  auto reference = temp("cli_e2e_reference", reference_export);
  auto imported = cli({"import", reference});
  ASSERT_EQ(imported.code, 0) << imported.output << node->output();
  ASSERT_TRUE(wait_state("agf__ADM_Work__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.agf__adm_work__c"), 2);
  EXPECT_EQ(scalar(db->url(), "SELECT api_version FROM syncforce.connections WHERE name = 'it'"), "57.0");

  auto minimal = temp("cli_e2e_minimal", minimal_import);
  auto imported_minimal = cli({"import", minimal});
  ASSERT_EQ(imported_minimal.code, 0) << imported_minimal.output;
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.widget__c"), 1);

  auto file = temp("cli_e2e_export", "");
  auto exported = cli({"export", file});
  ASSERT_EQ(exported.code, 0) << exported.output;
  auto text = read_file(file);
  auto parsed = parse_config(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error_text() << "\n" << text;
  ASSERT_TRUE(parsed.document->connection) << text;
  EXPECT_EQ(parsed.document->connection->api_version, "57.0") << text;
  ASSERT_TRUE(parsed.document->connection->features) << text;
  EXPECT_TRUE(parsed.document->connection->features->poll_db_no_merge) << text;

  auto ref = parse_config(reference_export);
  auto min = parse_config(minimal_import);
  ASSERT_TRUE(ref.ok() && min.ok());
  ASSERT_EQ(parsed.document->mappings.size(), 2u) << text;
  for (const auto* original : {&ref.document->mappings[0], &min.document->mappings[0]}) {
    const auto* out = parsed.document->find_mapping(original->object_name);
    ASSERT_NE(out, nullptr) << original->object_name << " is not in the export:\n" << text;
    // As Heroku Connect exports: the table's indexes listed, the daily cap defaulted.
    EXPECT_TRUE(canonical(*out) == canonical(export_mapping(*original, std::nullopt)))
      << original->object_name << " changed:\n" << text;
  }
  for (const auto& secret : {sf_password, alice_token, bob_token})
    EXPECT_EQ(text.find(secret), std::string::npos) << "the export holds a secret";

  // Importing the export changes nothing: same configuration, same revisions.
  auto revisions = scalar(db->url(), "SELECT string_agg(object_name || revision, ',' ORDER BY object_name) FROM "
                                     "syncforce.mappings");
  auto again = cli({"import", file});
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(scalar(db->url(), "SELECT string_agg(object_name || revision, ',' ORDER BY object_name) FROM "
                              "syncforce.mappings"),
            revisions);
  stop_node();
}

namespace {

/// Every key path of a JSON document (array elements under `[]`), for comparing shapes.
void key_paths(const json& j, const std::string& at, std::set<std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      out.insert(at + "/" + it.key());
      key_paths(it.value(), at + "/" + it.key(), out);
    }
  } else if (j.is_array()) {
    for (const auto& e : j)
      key_paths(e, at + "[]", out);
  }
}

std::vector<std::string> keys_of(const json& j) {
  std::vector<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it)
    out.push_back(it.key());
  return out;
}

} // namespace

TEST_F(cli_e2e, an_export_of_cli_made_mappings_has_heroku_connects_shape) {
  ASSERT_EQ(load_records(*sf, *emu, "agf__ADM_Work__c",
                         json::array({{{"Name", "Work 1"}, {"agf__External_ID__c", "X-1"}}}))
              .size(),
            1u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("agf__ADM_Work__c", "Name,agf__External_ID__c", "read_write",
                                         "agf__External_ID__c"));
  ASSERT_TRUE(wait_state("agf__ADM_Work__c", "DATA_SYNCED")) << node->output();

  auto file = temp("cli_e2e_export_shape", "");
  auto exported = cli({"export", file});
  ASSERT_EQ(exported.code, 0) << exported.output;
  const auto text = read_file(file);
  const auto ours = json::parse(text);
  const auto ref = json::parse(reference_export);

  // The same keys at every level, in Heroku Connect's order.
  std::set<std::string> our_paths, ref_paths;
  key_paths(ours, "", our_paths);
  key_paths(ref, "", ref_paths);
  EXPECT_EQ(our_paths, ref_paths) << text;
  EXPECT_EQ(keys_of(ours), keys_of(ref)) << text;
  EXPECT_EQ(keys_of(ours["connection"]), keys_of(ref["connection"])) << text;
  EXPECT_EQ(keys_of(ours["mappings"][0]["config"]), keys_of(ref["mappings"][0]["config"])) << text;

  // The indexes the table has, as Heroku Connect lists them.
  EXPECT_EQ(ours["mappings"][0]["config"]["indexes"], ref["mappings"][0]["config"]["indexes"]) << text;
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE "
                                "c.relname IN ('hcu_idx_agf__adm_work__c_sfid', 'hcu_idx_agf__adm_work__c_agf__external_id__c') "
                                "AND i.indisunique"),
            2);
  EXPECT_EQ(ours["mappings"][0]["config"]["sf_max_daily_api_calls"], 30000) << text;
  const auto& conn = ours["connection"];
  EXPECT_EQ(conn["app_name"], "it");
  EXPECT_EQ(conn["name"], "it");
  EXPECT_TRUE(conn["logplex_log_enabled"].is_boolean());
  // Timestamps as Heroku Connect writes them (Python <= 3.10 fromisoformat reads exported_at).
  const std::regex exported_at(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00)");
  const std::regex applied_at(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(conn["exported_at"].get<std::string>(), exported_at)) << text;
  EXPECT_TRUE(std::regex_match(ours["mappings"][0]["config"]["applied_at"].get<std::string>(), applied_at)) << text;

  // The node filled _hcmeta when it started the connection: one row, the org and the add-on id.
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._hcmeta h JOIN syncforce.connections c ON "
                                "h.org_id = c.organization_id AND (h.details::json ->> 'addon_id') = c.id::text "
                                "WHERE h.hcver = 3 AND c.name = 'it'"),
            1)
    << scalar(db->url(), "SELECT row_to_json(h)::text FROM salesforce._hcmeta h").value_or("no _hcmeta row");
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._hcmeta"), 1);

  // The load's log lines, exactly in Heroku Connect's shape (docs/log-lines.md), at the default level.
  const auto addon = scalar(db->url(), "SELECT id::text FROM syncforce.connections WHERE name = 'it'").value_or("?");
  const auto mapping = scalar(db->url(), "SELECT id::text FROM syncforce.mappings").value_or("?");
  const auto out = node->output();
  auto line = [&](const std::string& event, const std::string& type, const std::string& id, const std::string& state,
                  const std::string& level) {
    return "event=\"" + event + "\" addon_id=" + addon + " object_type=" + type + " object_id=" + id +
           " state=" + state + " level=" + level + "\n";
  };
  const std::vector<std::string> stream{
    line("RELOAD TABLE agf__adm_work__c", "mapping", mapping, "RELOAD_TABLE", "info"),
    line("Cleared table agf__adm_work__c for load", "mapping", mapping, "RELOAD_TABLE", "info"),
    line("Loading table agf__adm_work__c via SOAP", "mapping", mapping, "RELOAD_TABLE", "info"),
    "event=\"agf__ADM_Work__c QUERY \xE2\x86\xB7SALESFORCE 1 rows (",
    "event=\"agf__ADM_Work__c INSERT \xE2\x86\x93" "DATABASE 1 rows (",
    line("RELOAD COMPLETE", "mapping", mapping, "RELOAD_TABLE", "info")};
  std::size_t at = 0;
  for (const auto& l : stream) {
    auto found = out.find(l, at);
    ASSERT_NE(found, std::string::npos) << "missing (in this order): " << l << "\n" << out;
    at = found + l.size();
  }
  const std::regex page("event=\"agf__ADM_Work__c (QUERY \xE2\x86\xB7SALESFORCE|INSERT \xE2\x86\x93" "DATABASE) "
                        "1 rows \\(\\d+\\.\\d\\d secs\\)\" addon_id=" + addon + " object_type=sync object_id=" + addon +
                        " state=IDLE level=(info|debug)\n");
  EXPECT_EQ(std::distance(std::sregex_iterator(out.begin(), out.end(), page), std::sregex_iterator()), 2) << out;
  // Every line of the connection says which add-on it belongs to.
  std::istringstream lines(out);
  std::string l;
  while (std::getline(lines, l)) {
    if ((l.find("object_type=mapping") != std::string::npos || l.find("object_type=sync") != std::string::npos ||
         l.find("object_type=connection") != std::string::npos) &&
        l.find("no available query cursors") == std::string::npos) { // the shared integration user's line
      EXPECT_NE(l.find(" addon_id=" + addon + " "), std::string::npos) << l;
    }
  }

  // Imported back: no change, same revision.
  auto revisions = scalar(db->url(), "SELECT string_agg(object_name || revision, ',') FROM syncforce.mappings");
  auto again = cli({"import", file});
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(scalar(db->url(), "SELECT string_agg(object_name || revision, ',') FROM syncforce.mappings"), revisions);
  stop_node();
}

TEST_F(cli_e2e, a_bad_import_reports_every_problem_and_changes_nothing) {
  ASSERT_EQ(load_records(*sf, *emu, "Widget__c", json::array({{{"Name", "W0"}, {"Ext_Id__c", "W-0"}}})).size(), 1u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Widget__c", "Name,Ext_Id__c"));
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();

  auto snapshot = [&] {
    return scalar(db->url(), "SELECT (SELECT string_agg(name || schema_name || api_version || features::text || state, "
                             "',') FROM syncforce.connections) || '|' || (SELECT string_agg(object_name || "
                             "config::text || revision || state, ',' ORDER BY object_name) FROM syncforce.mappings) || "
                             "'|' || (SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' "
                             "ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = "
                             "'salesforce') || '|' || (SELECT count(*) FROM syncforce.audit_log)")
      .value_or("none");
  };
  const auto before = snapshot();

  json fields = {{"Id", json::object()}, {"IsDeleted", json::object()}, {"SystemModstamp", json::object()},
                 {"CreatedDate", json::object()}, {"Name", json::object()}};
  auto with = [&](std::initializer_list<const char*> more) {
    json f = fields;
    for (const char* m : more)
      f[m] = json::object();
    return f;
  };
  json bad{{"version", 1},
           {"mappings",
            json::array({
              // 0: no such object
              {{"object_name", "Nope__c"},
               {"config", {{"access", "read_only"}, {"sf_polling_seconds", 600}, {"fields", fields}}}},
              // 1: no such field
              {{"object_name", "Gadget__c"},
               {"config", {{"access", "read_only"}, {"sf_polling_seconds", 600}, {"fields", with({"Bogus__c"})}}}},
              // 2: read_write with an upsert field that is not a unique external id
              {{"object_name", "Plain__c"},
               {"config",
                {{"access", "read_write"}, {"sf_polling_seconds", 600}, {"upsert_field", "Text__c"},
                 {"fields", with({"Text__c"})}}}},
              // 3: read_write without the insert-required Code__c
              {{"object_name", "Strict__c"},
               {"config",
                {{"access", "read_write"}, {"sf_polling_seconds", 600}, {"upsert_field", "Ext_Id__c"},
                 {"fields", with({"Ext_Id__c"})}}}},
              // 4: polling every 5 s (below the 120 s minimum)
              {{"object_name", "Account"},
               {"config", {{"access", "read_only"}, {"sf_polling_seconds", 5}, {"fields", fields}}}},
            })}};
  auto file = temp("cli_e2e_bad_import", bad.dump(2));
  auto r = cli({"import", file});
  EXPECT_EQ(r.code, 6) << r.output;
  for (int i = 0; i < 5; ++i)
    EXPECT_NE(r.output.find("mappings[" + std::to_string(i) + "]"), std::string::npos)
      << "problem mappings[" << i << "] is not reported:\n" << r.output;
  for (const char* name : {"Nope__c", "Bogus__c", "Text__c", "Code__c", "sf_polling_seconds"})
    EXPECT_NE(r.output.find(name), std::string::npos) << name << " is not named in:\n" << r.output;

  auto dry = cli({"import", file, "--dry-run"});
  EXPECT_EQ(dry.code, 6) << dry.output;

  EXPECT_EQ(snapshot(), before) << "a refused import changed the control schema or the tables";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.audit_log WHERE action LIKE '%import%'"), 0);
  EXPECT_FALSE(table_exists("gadget__c"));
  EXPECT_FALSE(table_exists("strict__c"));
  stop_node();
}

TEST_F(cli_e2e, pause_is_refused_while_busy_and_a_paused_connection_keeps_its_trigger_log_until_resumed) {
  load_csv("Gadget__c", 12000, "G");
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Gadget__c", "Name,Ext_Id__c,Text__c", "read_write", "Ext_Id__c"));
  ASSERT_TRUE(wait_state("Gadget__c", "DATA_SYNCED", 90s)) << node->output();

  auto not_paused = cli({"resume"});
  EXPECT_EQ(not_paused.code, 7) << not_paused.output;
  EXPECT_NE(not_paused.output.find("not paused"), std::string::npos) << not_paused.output;

  // Busy: a reload of 12,000 records, slowed down by latency on every next page.
  control("POST", "faults", {{"route", "/query/"}, {"action", "none"}, {"latency_ms", 1000}});
  auto reload = cli({"mapping:reload", "Gadget__c", "--no-wait"});
  ASSERT_EQ(reload.code, 0) << reload.output;
  ASSERT_TRUE(wait_state("Gadget__c", "RELOAD_TABLE", 20s)) << node->output();
  auto busy = cli({"pause"});
  EXPECT_EQ(busy.code, 7) << busy.output;
  EXPECT_NE(busy.output.find("BUSY"), std::string::npos) << busy.output;
  EXPECT_NE(busy.output.find("RELOAD_TABLE"), std::string::npos) << busy.output;
  EXPECT_EQ(scalar(db->url(), "SELECT state FROM syncforce.connections"), "IDLE");
  control("DELETE", "faults");
  ASSERT_TRUE(wait_state("Gadget__c", "DATA_SYNCED", 60s)) << node->output();
  ASSERT_TRUE(wait_until([&] { return !mapping_field("Gadget__c", "command"); }, 10s));

  // Idle: pause.
  auto pause = cli({"pause"});
  ASSERT_EQ(pause.code, 0) << pause.output << node->output();
  EXPECT_EQ(scalar(db->url(), "SELECT state FROM syncforce.connections"), "PAUSED");
  ASSERT_TRUE(node->wait_for_output("Connection paused", 20s)) << node->output();
  auto state = cli({"state"});
  EXPECT_NE(state.output.find("PAUSED"), std::string::npos) << state.output;

  sql("INSERT INTO salesforce.gadget__c (name, ext_id__c, text__c) VALUES ('Paused', 'P-1', 'waiting')");
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW'"), 1);
  auto calls = node_calls();
  // Three poll intervals (1 s in tests) and the writer's ticks: a paused connection calls nothing.
  EXPECT_FALSE(wait_until([&] { return node_calls() != calls; }, 3s)) << "a paused connection called Salesforce";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW'"), 1);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.gadget__c WHERE ext_id__c = 'P-1' AND sfid IS NOT NULL"),
            0);

  auto resume = cli({"resume"});
  ASSERT_EQ(resume.code, 0) << resume.output;
  EXPECT_EQ(scalar(db->url(), "SELECT state FROM syncforce.connections"), "IDLE");
  ASSERT_TRUE(wait_until(
    [&] {
      return count_of(db->url(),
                      "SELECT count(*) FROM salesforce.gadget__c WHERE ext_id__c = 'P-1' AND sfid IS NOT NULL") == 1;
    },
    30s))
    << node->output();
  EXPECT_EQ(sf_count("SELECT Id FROM Gadget__c WHERE Ext_Id__c = 'P-1' AND Text__c = 'waiting'"), 1)
    << "written to Salesforce once";
  auto after_drain = node_calls();
  EXPECT_TRUE(wait_until([&] { return node_calls() > after_drain + 1; }, 10s)) << "polling goes on after resume";
  stop_node();
}

TEST_F(cli_e2e, a_reload_shows_progress_and_keeps_ids_and_an_abort_stops_a_running_load) {
  load_csv("Widget__c", 12000, "W");
  load_csv("Gadget__c", 8000, "G");
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Widget__c", "Name,Ext_Id__c,Text__c"));
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED", 90s)) << node->output();
  const auto ids = row_ids("widget__c");

  // A reload, waited for: progress lines, then DATA_SYNCED; the rows keep their ids.
  control("POST", "faults", {{"route", "/query/"}, {"action", "none"}, {"latency_ms", 300}});
  auto reload = cli({"mapping:reload", "Widget__c", "--wait"}, alice_token, 120s);
  EXPECT_EQ(reload.code, 0) << reload.output;
  EXPECT_NE(reload.output.find("RELOAD_TABLE"), std::string::npos) << reload.output;
  EXPECT_NE(reload.output.find("12,000"), std::string::npos) << "rows expected in the progress\n" << reload.output;
  EXPECT_NE(reload.output.find("DATA_SYNCED"), std::string::npos) << reload.output;
  EXPECT_EQ(mapping_field("Widget__c", "state"), "DATA_SYNCED");
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.widget__c"), 12000);
  EXPECT_EQ(row_ids("widget__c"), ids);

  // An abort during a running reload: the load stops, its shadow table goes, the old rows stay.
  control("DELETE", "faults");
  control("POST", "faults", {{"route", "/query/"}, {"action", "none"}, {"latency_ms", 1000}});
  auto again = cli({"mapping:reload", "Widget__c", "--no-wait"});
  ASSERT_EQ(again.code, 0) << again.output;
  ASSERT_TRUE(wait_until(
    [&] { return count_of(db->url(), "SELECT coalesce(max(rows_loaded), 0) FROM syncforce.load_checkpoints") >= 2000; },
    30s))
    << node->output();
  auto abort = cli({"mapping:abort", "Widget__c"});
  EXPECT_EQ(abort.code, 0) << abort.output;
  ASSERT_TRUE(wait_until(
    [&] {
      return mapping_field("Widget__c", "state") == "DATA_SYNCED" &&
             count_of(db->url(), "SELECT count(*) FROM syncforce.load_checkpoints") == 0 &&
             !table_exists("widget__c__reload");
    },
    30s))
    << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.widget__c"), 12000);
  EXPECT_EQ(row_ids("widget__c"), ids);
  EXPECT_TRUE(mapping_field("Widget__c", "high_water_mark"));
  auto nothing = cli({"mapping:abort", "Widget__c"});
  EXPECT_EQ(nothing.code, 7) << "no load is running\n" << nothing.output;

  // An abort during a first load: the mapping is ABORTED, no table rows, no shadow.
  ASSERT_NO_FATAL_FAILURE(create_mapping("Gadget__c", "Name,Ext_Id__c,Text__c"));
  ASSERT_TRUE(wait_until(
    [&] {
      return count_of(db->url(), "SELECT coalesce(max(c.rows_loaded), 0) FROM syncforce.load_checkpoints c JOIN "
                                 "syncforce.mappings m ON m.id = c.mapping_id WHERE m.object_name = 'Gadget__c'") >= 2000;
    },
    30s))
    << node->output();
  auto first = cli({"mapping:abort", "Gadget__c"});
  EXPECT_EQ(first.code, 0) << first.output;
  ASSERT_TRUE(wait_state("Gadget__c", "ABORTED", 30s)) << node->output();
  EXPECT_FALSE(table_exists("gadget__c__reload"));
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.gadget__c"), 0);
  control("DELETE", "faults");
  stop_node();
}

TEST_F(cli_e2e, mapping_edit_adds_a_column_filled_from_salesforce_without_a_reload) {
  json records = json::array();
  for (int i = 0; i < 5; ++i)
    records.push_back({{"Name", "W" + std::to_string(i)},
                       {"Ext_Id__c", "W-" + std::to_string(i)},
                       {"Text__c", "text-" + std::to_string(i)},
                       {"Count__c", i}});
  ASSERT_EQ(load_records(*sf, *emu, "Widget__c", records).size(), 5u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Widget__c", "Name,Ext_Id__c"));
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  EXPECT_FALSE(column_exists("widget__c", "text__c"));
  const auto ids = row_ids("widget__c");
  const auto revision = std::stoi(mapping_field("Widget__c", "revision").value_or("0"));
  const auto mark = node->output().size();

  auto edit = cli({"mapping:edit", "Widget__c", "--add-fields", "Text__c,Count__c"});
  ASSERT_EQ(edit.code, 0) << edit.output;
  EXPECT_EQ(mapping_field("Widget__c", "revision"), std::to_string(revision + 1));
  ASSERT_TRUE(wait_until(
    [&] {
      return column_exists("widget__c", "text__c") && column_exists("widget__c", "count__c") &&
             count_of(db->url(), "SELECT count(*) FROM salesforce.widget__c WHERE text__c = 'text-' || "
                                 "substr(ext_id__c, 3) AND count__c = substr(ext_id__c, 3)::int") == 5;
    },
    30s))
    << node->output();
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(row_ids("widget__c"), ids);
  auto since = node->output().substr(mark);
  EXPECT_EQ(since.find("RELOAD_TABLE"), std::string::npos) << "an added field needs no reload:\n" << since;
  EXPECT_EQ(since.find("Reload requested"), std::string::npos) << since;
  stop_node();
}

// A backfill after `mapping:edit --add-fields` puts exactly what a reload puts
// in the added columns: NULLs, texts that need escaping, numbers, dates,
// timestamps and booleans, over several pages (read ahead while the previous
// one is applied), and the columns get the types a reload gives them.
TEST_F(cli_e2e, a_backfill_fills_the_same_values_and_types_as_a_reload) {
  const int n = 4500; // three REST pages of 2000
  json records = json::array();
  for (int i = 0; i < n; ++i) {
    json r{{"Name", "T" + std::to_string(i)}, {"Ext_Id__c", "T-" + std::to_string(i)}, {"Flag__c", i % 2 == 0}};
    if (i % 7 != 0)
      r["Text__c"] = i % 11 == 0 ? "tab\there, back\\slash, \"quote\", caf\u00e9 " + std::to_string(i)
                                 : "text-" + std::to_string(i);
    if (i % 5 != 0)
      r["Count__c"] = i % 3 == 0 ? -i : i;
    if (i % 3 != 0)
      r["Amount__c"] = i * 1.25;
    if (i % 4 != 0) {
      char day[16];
      std::snprintf(day, sizeof day, "2024-%02d-%02d", 1 + i % 12, 1 + i % 28);
      r["Day__c"] = day;
    }
    if (i % 6 != 0) {
      char when[40];
      std::snprintf(when, sizeof when, "2023-%02d-%02dT%02d:%02d:%02d.000Z", 1 + i % 12, 1 + i % 28, i % 24,
                    i % 60, (i * 7) % 60);
      r["When__c"] = when;
    }
    records.push_back(std::move(r));
  }
  ASSERT_EQ(load_records(*sf, *emu, "Typed__c", records).size(), static_cast<std::size_t>(n));
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Typed__c", "Name,Ext_Id__c"));
  ASSERT_TRUE(wait_state("Typed__c", "DATA_SYNCED", 90s)) << node->output();
  const auto mark = node->output().size();

  const std::vector<std::string> added{"text__c", "count__c", "amount__c", "flag__c", "day__c", "when__c"};
  auto edit = cli({"mapping:edit", "Typed__c", "--add-fields", "Text__c,Count__c,Amount__c,Flag__c,Day__c,When__c"});
  ASSERT_EQ(edit.code, 0) << edit.output;
  ASSERT_TRUE(wait_until(
    [&] {
      return node->output().find("RESYNC typed__c: backfilled", mark) != std::string::npos &&
             mapping_field("Typed__c", "state") == "DATA_SYNCED";
    },
    90s))
    << node->output().substr(mark);
  EXPECT_EQ(node->output().find("RELOAD_TABLE", mark), std::string::npos) << "a backfill, not a reload";

  // Every value with its type, row by row (by sfid), and the columns' types.
  std::string values = "concat_ws('|', sfid";
  std::string nulls;
  for (const auto& c : added) {
    values += ", quote_nullable(" + c + "::text), pg_typeof(" + c + ")::text";
    nulls += (nulls.empty() ? "" : " + ") + std::string("count(*) FILTER (WHERE ") + c + " IS NULL)";
  }
  values += ")";
  auto digest = [&] {
    return scalar(db->url(), "SELECT md5(string_agg(" + values + ", E'\\n' ORDER BY sfid)) FROM salesforce.typed__c")
      .value_or("");
  };
  auto types = [&] {
    return scalar(db->url(), "SELECT string_agg(column_name || ' ' || data_type || coalesce('(' || "
                             "character_maximum_length || ')', '') || coalesce('(' || numeric_precision || ',' || "
                             "numeric_scale || ')', ''), ', ' ORDER BY column_name) FROM information_schema.columns "
                             "WHERE table_schema = 'salesforce' AND table_name = 'typed__c'")
      .value_or("");
  };
  const auto backfilled = digest();
  const auto backfilled_types = types();
  const auto backfilled_nulls = count_of(db->url(), "SELECT " + nulls + " FROM salesforce.typed__c");
  // Some of each kind: a test that would pass with every value NULL proves nothing.
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.typed__c WHERE text__c LIKE 'tab\there%'"),
            count_of(db->url(), "SELECT count(*) FROM generate_series(0, " + std::to_string(n - 1) +
                                  ") i WHERE i % 7 <> 0 AND i % 11 = 0"));
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.typed__c WHERE count__c < 0"),
            count_of(db->url(), "SELECT count(*) FROM generate_series(0, " + std::to_string(n - 1) +
                                  ") i WHERE i % 5 <> 0 AND i % 3 = 0 AND i > 0"));
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.typed__c WHERE flag__c"), (n + 1) / 2);
  EXPECT_GT(backfilled_nulls, 0);
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.typed__c"), n);

  auto reload = cli({"mapping:reload", "Typed__c", "--wait"}, alice_token, 120s);
  ASSERT_EQ(reload.code, 0) << reload.output;
  ASSERT_TRUE(wait_state("Typed__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(digest(), backfilled) << "the reload put other values than the backfill";
  EXPECT_EQ(types(), backfilled_types);
  EXPECT_EQ(count_of(db->url(), "SELECT " + nulls + " FROM salesforce.typed__c"), backfilled_nulls);
  stop_node();
}

// Heroku Connect's rule for a field changed in Salesforce: a longer text is
// altered in place (values kept), a new type drops the column, re-adds it and
// backfills it. Here `mapping:edit OBJECT` with nothing to change re-reads
// describe, and neither needs a reload.
TEST_F(cli_e2e, a_field_changed_in_salesforce_reaches_the_table_without_a_reload) {
  json records = json::array();
  for (int i = 0; i < 5; ++i)
    records.push_back({{"Name", "W" + std::to_string(i)},
                       {"Ext_Id__c", "W-" + std::to_string(i)},
                       {"Text__c", "text-" + std::to_string(i)},
                       {"Count__c", i}});
  ASSERT_EQ(load_records(*sf, *emu, "Widget__c", records).size(), 5u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Widget__c", "Name,Ext_Id__c,Text__c,Count__c"));
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  auto type_of = [&](const std::string& column) {
    return scalar(db->url(), "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                             "'salesforce.widget__c'::regclass AND attname = '" + column + "'")
      .value_or("");
  };
  ASSERT_EQ(type_of("text__c"), "character varying(100)");
  ASSERT_EQ(type_of("count__c"), "double precision");
  const auto ids = row_ids("widget__c");
  const auto mark = node->output().size();

  // In Salesforce: Text__c gets longer, Count__c becomes a text field.
  control("POST", "schema",
          {{"objects",
            {{{"name", "Widget__c"},
              {"key_prefix", "a01"},
              {"fields",
               {{{"name", "Ext_Id__c"}, {"type", "string"}, {"length", 40}, {"external_id", true}, {"unique", true}},
                {{"name", "Text__c"}, {"type", "string"}, {"length", 255}},
                {{"name", "Count__c"}, {"type", "string"}, {"length", 20}}}}}}}});
  auto refresh = cli({"mapping:edit", "Widget__c"});
  ASSERT_EQ(refresh.code, 0) << refresh.output;
  ASSERT_TRUE(wait_until(
    [&] {
      return type_of("text__c") == "character varying(255)" && type_of("count__c") == "character varying(20)" &&
             count_of(db->url(), "SELECT count(*) FROM salesforce.widget__c WHERE count__c IS NOT NULL") == 5;
    },
    30s))
    << node->output();
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.widget__c WHERE text__c = 'text-' || "
                                "substr(ext_id__c, 3)"),
            5)
    << "the longer column kept its values";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM salesforce.widget__c WHERE count__c::numeric = "
                                "substr(ext_id__c, 3)::numeric"),
            5)
    << "the re-typed column holds Salesforce's values again";
  EXPECT_EQ(row_ids("widget__c"), ids);
  auto since = node->output().substr(mark);
  EXPECT_NE(since.find("Altered column text__c"), std::string::npos) << since;
  EXPECT_NE(since.find("Re-typed column count__c"), std::string::npos) << since;
  EXPECT_EQ(since.find("RELOAD TABLE"), std::string::npos) << "no reload:\n" << since;
  auto audit = cli({"audit", "--json"});
  ASSERT_EQ(audit.code, 0) << audit.output;
  EXPECT_NE(audit.output.find("mapping.refresh"), std::string::npos) << audit.output;
  stop_node();
}

TEST_F(cli_e2e, sf_auth_api_version_and_db_set_are_checked_then_applied_live) {
  json records = json::array();
  for (int i = 0; i < 3; ++i)
    records.push_back({{"Name", "W" + std::to_string(i)}, {"Ext_Id__c", "W-" + std::to_string(i)}});
  ASSERT_EQ(load_records(*sf, *emu, "Widget__c", records).size(), 3u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Widget__c", "Name,Ext_Id__c"));
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  auto connection_field = [&](const std::string& column) {
    return scalar(db->url(), "SELECT " + column + " FROM syncforce.connections WHERE name = 'it'").value_or("");
  };

  // Credentials are checked by logging in before they are stored.
  auto wrong = cli({"sf:auth", "--password-env", "SF_WRONG_PASSWORD"});
  EXPECT_EQ(wrong.code, 6) << wrong.output;
  EXPECT_EQ(wrong.output.find(wrong_password), std::string::npos) << "a password is never echoed";
  EXPECT_EQ(connection_field("secret_ref"), "env:SF_TEST_PASSWORD") << "nothing stored";
  auto rotated = cli({"sf:auth", "--password-env", "SF_ROTATED_PASSWORD"});
  ASSERT_EQ(rotated.code, 0) << rotated.output;
  EXPECT_EQ(connection_field("secret_ref"), "env:SF_ROTATED_PASSWORD");

  // The version must be one the org offers.
  auto unoffered = cli({"api-version", "--target-version", "99.0"});
  EXPECT_EQ(unoffered.code, 7) << unoffered.output;
  EXPECT_EQ(connection_field("api_version"), "60.0");
  auto upgraded = cli({"api-version", "--target-version", "61.0"});
  ASSERT_EQ(upgraded.code, 0) << upgraded.output;
  EXPECT_EQ(connection_field("api_version"), "61.0");

  // A new schema: the connection's node loads the mapping there; the old table stays.
  auto moved = cli({"db:set", "--schema", "sf2"});
  ASSERT_EQ(moved.code, 0) << moved.output;
  ASSERT_TRUE(wait_until([&] { return count_of(db->url(), "SELECT count(*) FROM sf2.widget__c") == 3; }, 60s))
    << node->output();
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  EXPECT_TRUE(table_exists("widget__c")) << "the old table is left in place";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM sf2._trigger_log"), 0) << "the new schema has its support tables";

  auto audit = cli({"audit", "--json"});
  ASSERT_EQ(audit.code, 0) << audit.output;
  for (const char* action : {"connection.set_auth", "connection.set_api_version", "connection.set_database"})
    EXPECT_NE(audit.output.find(action), std::string::npos) << action << "\n" << audit.output;
  EXPECT_EQ(audit.output.find(wrong_password), std::string::npos);
  EXPECT_EQ(audit.output.find(sf_password), std::string::npos);
  stop_node();
}

TEST_F(cli_e2e, mapping_delete_needs_the_confirmation_and_then_drops_the_table) {
  ASSERT_EQ(load_records(*sf, *emu, "Widget__c", json::array({{{"Name", "W0"}, {"Ext_Id__c", "W-0"}}})).size(), 1u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Widget__c", "Name,Ext_Id__c"));
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();

  auto unconfirmed = cli({"mapping:delete", "Widget__c"});
  EXPECT_NE(unconfirmed.code, 0) << unconfirmed.output;
  auto wrong = cli({"mapping:delete", "Widget__c", "--confirm", "Gadget__c"});
  EXPECT_NE(wrong.code, 0) << wrong.output;
  EXPECT_TRUE(table_exists("widget__c"));
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.mappings"), 1);

  auto deleted = cli({"mapping:delete", "Widget__c", "--confirm", "Widget__c"});
  ASSERT_EQ(deleted.code, 0) << deleted.output;
  EXPECT_FALSE(table_exists("widget__c"));
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.mappings"), 0);
  EXPECT_EQ(cli({"mapping:state", "Widget__c"}).code, 5);
  auto state = cli({"state"});
  EXPECT_EQ(state.code, 0) << state.output;
  EXPECT_EQ(state.output.find("Widget__c"), std::string::npos) << state.output;
  stop_node();
}

TEST_F(cli_e2e, calls_without_a_valid_token_are_refused_and_no_token_reaches_the_log) {
  ASSERT_NO_FATAL_FAILURE(start_node());
  auto none = cli({"state"}, std::nullopt);
  EXPECT_EQ(none.code, 4) << none.output;
  auto wrong = cli({"connection:create", "it", "--login-url", emu->base_url(), "--username", sf_user, "--auth",
                    "password", "--secret-ref", "env:SF_TEST_PASSWORD"},
                   std::string{"not-the-token-93be"});
  EXPECT_EQ(wrong.code, 4) << wrong.output;
  EXPECT_EQ(wrong.output.find("not-the-token-93be"), std::string::npos) << "a token is never echoed";
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.connections"), 0);
  // A name is not a token.
  EXPECT_EQ(cli({"state"}, std::string{"alice"}).code, 4);

  // A token file (bob's bare token) works as well as the environment.
  auto bob_file = temp("cli_e2e_bob", bob_token + "\n");
  std::vector<std::string> argv{bin_path("syncforce"), "--server", server, "--token-file", bob_file, "state"};
  auto p = child_process::start(argv);
  EXPECT_EQ(p->wait_exit(30s).value_or(-1), 0) << p->output();
  ASSERT_NO_FATAL_FAILURE(create_connection());
  stop_node();
  const auto log = node->output();
  for (const auto& secret : {alice_token, bob_token, sf_password, std::string{"not-the-token-93be"}})
    EXPECT_EQ(log.find(secret), std::string::npos) << "a secret reached the node's log";
}

TEST_F(cli_e2e, every_change_is_audited_with_its_actor_and_audit_csv_exports_them) {
  ASSERT_EQ(load_records(*sf, *emu, "Widget__c", json::array({{{"Name", "W0"}, {"Ext_Id__c", "W-0"}}})).size(), 1u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Widget__c", "Name,Ext_Id__c"));
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  auto edit = cli({"mapping:edit", "Widget__c", "--add-fields", "Text__c"}, bob_token);
  ASSERT_EQ(edit.code, 0) << edit.output;
  ASSERT_TRUE(wait_until([&] { return column_exists("widget__c", "text__c"); }, 30s)) << node->output();
  ASSERT_TRUE(wait_state("Widget__c", "DATA_SYNCED")) << node->output();
  cli_result pause;
  // The edit's backfill may still be finishing: pause once the connection is IDLE.
  ASSERT_TRUE(wait_until([&] { return (pause = cli({"pause"})).code == 0; }, 30s, 200ms)) << pause.output;
  ASSERT_EQ(cli({"resume"}).code, 0);
  auto reload = cli({"mapping:reload", "Widget__c", "--wait"}, alice_token, 60s);
  ASSERT_EQ(reload.code, 0) << reload.output;
  ASSERT_EQ(cli({"mapping:delete", "Widget__c", "--confirm", "Widget__c"}).code, 0);

  const std::vector<std::pair<std::string, std::string>> expected{
    {"connection.create", "alice"}, {"mapping.create", "alice"},   {"mapping.edit", "bob"},
    {"connection.pause", "alice"},  {"connection.resume", "alice"}, {"mapping.reload", "alice"},
    {"mapping.delete", "alice"}};
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.audit_log"), static_cast<long>(expected.size()));

  auto file = temp("cli_e2e_audit", "");
  auto r = cli({"audit", "--csv", file});
  ASSERT_EQ(r.code, 0) << r.output;
  auto text = read_file(file);
  auto parsed = csv::parse_all(text);
  ASSERT_TRUE(parsed.ok()) << text;
  const auto& rows = parsed.doc.rows;
  ASSERT_GE(rows.size(), 1u) << text;
  std::vector<std::string> header;
  for (const auto& c : rows[0])
    header.push_back(c.value_or(""));
  ASSERT_EQ(header, (std::vector<std::string>{"id", "at", "actor", "action", "object_type", "object_id", "connection",
                                              "object_name", "before", "after"}))
    << text;
  ASSERT_EQ(rows.size(), expected.size() + 1) << text;
  std::vector<std::vector<std::string>> entries;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    std::vector<std::string> e;
    for (const auto& c : rows[i])
      e.push_back(c.value_or(""));
    ASSERT_EQ(e.size(), header.size()) << text;
    entries.push_back(e);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return std::stoll(a[0]) < std::stoll(b[0]); });
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& e = entries[i];
    SCOPED_TRACE(expected[i].first);
    EXPECT_EQ(e[3], expected[i].first);
    EXPECT_EQ(e[2], expected[i].second);
    EXPECT_EQ(e[4], expected[i].first.rfind("mapping.", 0) == 0 ? "mapping" : "connection");
    EXPECT_FALSE(e[5].empty());
    EXPECT_EQ(e[6], "it");
    if (e[4] == "mapping") {
      EXPECT_EQ(e[7], "Widget__c");
    }
    EXPECT_EQ(e[1].size() >= 20 && e[1][10] == 'T', true) << e[1];
    const bool create = e[3].find(".create") != std::string::npos;
    const bool remove = e[3] == "mapping.delete";
    EXPECT_EQ(e[8].empty(), create) << "before: " << e[8];
    EXPECT_EQ(e[9].empty(), remove) << "after: " << e[9];
    for (int col : {8, 9}) {
      if (!e[col].empty()) {
        EXPECT_TRUE(json::parse(e[col], nullptr, false).is_object()) << e[col];
      }
    }
  }
  // The edit's before and after show the added field.
  EXPECT_EQ(entries[2][8].find("Text__c"), std::string::npos) << entries[2][8];
  EXPECT_NE(entries[2][9].find("Text__c"), std::string::npos) << entries[2][9];
  EXPECT_NE(entries[3][9].find("PAUSED"), std::string::npos) << entries[3][9];
  for (const auto& secret : {sf_password, alice_token, bob_token})
    EXPECT_EQ(text.find(secret), std::string::npos) << "the audit trail holds a secret";

  auto table = cli({"audit"});
  EXPECT_EQ(table.code, 0) << table.output;
  for (const char* s : {"alice", "bob", "mapping.edit", "connection.pause"})
    EXPECT_NE(table.output.find(s), std::string::npos) << s << " in\n" << table.output;
  stop_node();
}

TEST_F(cli_e2e, diagnose_passes_a_healthy_connection_and_warns_about_a_failed_write) {
  ASSERT_EQ(load_records(*sf, *emu, "Gadget__c", json::array({{{"Name", "G0"}, {"Ext_Id__c", "G-0"}}})).size(), 1u);
  ASSERT_NO_FATAL_FAILURE(start_node());
  ASSERT_NO_FATAL_FAILURE(create_connection());
  ASSERT_NO_FATAL_FAILURE(create_mapping("Gadget__c", "Name,Ext_Id__c,Account__c", "read_write", "Ext_Id__c"));
  ASSERT_TRUE(wait_state("Gadget__c", "DATA_SYNCED")) << node->output();

  auto healthy = cli({"diagnose", "-v"});
  EXPECT_EQ(healthy.code, 0) << healthy.output;
  EXPECT_NE(healthy.output.find("PASS"), std::string::npos) << healthy.output;
  // (ERROR and WARNING as statuses, not inside a rule's name like MAPPINGS_IN_ERROR)
  EXPECT_FALSE(std::regex_search(healthy.output, std::regex("\\bWARNING\\b"))) << healthy.output;
  EXPECT_FALSE(std::regex_search(healthy.output, std::regex("\\bERROR\\b"))) << healthy.output;

  // A lookup that is not an id: Salesforce refuses the insert.
  sql("INSERT INTO salesforce.gadget__c (name, ext_id__c, account__c) VALUES ('Bad', 'D-1', 'not-an-id')");
  ASSERT_TRUE(wait_until(
    [&] { return count_of(db->url(), "SELECT count(*) FROM salesforce.gadget__c WHERE _hc_lastop = 'FAILED'") == 1; },
    30s))
    << node->output();
  auto warned = cli({"diagnose"});
  EXPECT_EQ(warned.code, 0) << "a failed write is a warning, not an error\n" << warned.output;
  EXPECT_TRUE(std::regex_search(warned.output, std::regex("\\bWARNING\\b"))) << warned.output;
  EXPECT_NE(lower(warned.output).find("failed"), std::string::npos) << warned.output;
  stop_node();
}
