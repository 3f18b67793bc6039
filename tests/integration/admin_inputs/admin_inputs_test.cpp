// Issue 12, items 5 and 8, end to end against a real node (no config file), sfemu
// and PostgreSQL:
//  - an invalid request is answered with every problem in the reply body, however
//    many and however long (300 unknown fields, a 10,000-character object name),
//    and the CLI prints them all and exits 6; status messages never exceed 1 KiB;
//  - object, field, upsert-field and index names take describe's spelling on
//    every way in (mapping:create, mapping:edit, import, the config file's import
//    into the control schema), and "already mapped" ignores case.

#include "store/control_repo.hpp"
#include "sync/engine_config.hpp"
#include "syncforce/v1/admin.grpc.pb.h"
#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <grpcpp/grpcpp.h>

#include <regex>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

const std::string admin_token = "inputs-t0ken-4c1f9e";
const std::string sf_user = "inputs@example.com";
const std::string sf_password = "inputs-Pa55word-91be";

const char* inputs_org = R"({
  "users": [{"username": "inputs@example.com", "password": "inputs-Pa55word-91be"}],
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
       {"name": "Widget__c", "type": "reference", "reference_to": "Widget__c", "relationship_name": "Widget__r"}
     ]}
  ]
})";

struct cli_result {
  int code = -1;
  std::string output;
};

struct admin_inputs : ::testing::Test {
  void SetUp() override {
    auto url = test_database_url();
    if (!url)
      GTEST_SKIP() << "SYNCFORCE_TEST_DATABASE_URL is not set (scripts/test starts PostgreSQL)";
    db = std::make_unique<scratch_database>(*url, "admin_inputs");
    org_path = write_temp("admin_inputs_org", inputs_org);
    emu = std::make_unique<sfemu_process>(std::vector<std::string>{"--org", org_path});
  }

  void TearDown() override {
    node.reset();
    if (!org_path.empty())
      std::remove(org_path.c_str());
    for (const auto& p : temp_files)
      std::remove(p.c_str());
  }

  void start_node() {
    node = child_process::start({bin_path("syncforced"), "--database-url", db->url(), "--grpc-address", "127.0.0.1:0",
                                 "--node-name", "inputs-node"},
                                {{"SF_TEST_PASSWORD", sf_password}, {"SYNCFORCE_ADMIN_TOKEN", admin_token}});
    ASSERT_TRUE(node->wait_for_output("gRPC server listening", 20s)) << node->output();
    std::smatch m;
    auto out = node->output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("gRPC server listening\" port=(\\d+)"))) << out;
    server = "127.0.0.1:" + m[1].str();
    cli_result ready;
    ASSERT_TRUE(wait_until([&] { return (ready = cli({"health", "--service", "readiness"})).code == 0; }, 20s, 100ms))
      << ready.output << node->output();
    auto r = cli({"connection:create", "it", "--login-url", emu->base_url(), "--username", sf_user, "--auth",
                  "password", "--secret-ref", "env:SF_TEST_PASSWORD"});
    ASSERT_EQ(r.code, 0) << r.output << node->output();
  }

  cli_result cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv{bin_path("syncforce"), "--server", server, "--no-wait"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = child_process::start(argv, {{"SYNCFORCE_TOKEN", admin_token}});
    cli_result r;
    r.code = p->wait_exit(90s).value_or(-1);
    r.output = p->output();
    return r;
  }

  std::string temp(const std::string& name, const std::string& text) {
    auto path = write_temp(name, text);
    temp_files.push_back(path);
    return path;
  }

  std::unique_ptr<syncforce::v1::Admin::Stub> stub() {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    return syncforce::v1::Admin::NewStub(
      grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args));
  }

  std::unique_ptr<grpc::ClientContext> context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    ctx->AddMetadata("authorization", "Bearer " + admin_token);
    return ctx;
  }

  /// The control schema and audit trail, to prove a refused call changed nothing.
  std::string snapshot() {
    return scalar(db->url(), "SELECT coalesce((SELECT string_agg(object_name || config::text || revision, ',' ORDER BY "
                             "object_name) FROM syncforce.mappings), '') || '|' || (SELECT count(*) FROM "
                             "syncforce.audit_log)")
      .value_or("none");
  }

  std::optional<std::string> stored(const std::string& sql) { return scalar(db->url(), sql); }

  std::unique_ptr<scratch_database> db;
  std::unique_ptr<sfemu_process> emu;
  std::unique_ptr<child_process> node;
  std::string org_path;
  std::vector<std::string> temp_files;
  std::string server;
};

json base_fields() {
  return {{"Id", json::object()}, {"IsDeleted", json::object()}, {"SystemModstamp", json::object()},
          {"CreatedDate", json::object()}, {"Name", json::object()}};
}

} // namespace

TEST_F(admin_inputs, an_import_naming_300_unknown_fields_prints_every_problem_and_exits_6) {
  ASSERT_NO_FATAL_FAILURE(start_node());
  const auto before = snapshot();
  json fields = base_fields();
  for (int i = 0; i < 300; ++i)
    fields["Unknown_Field_Number_" + std::to_string(i) + "__c"] = json::object();
  json doc{{"version", 1},
           {"mappings", json::array({{{"object_name", "Widget__c"},
                                      {"config", {{"access", "read_only"}, {"sf_polling_seconds", 600},
                                                  {"fields", fields}}}}})}};
  auto r = cli({"import", temp("inputs_300", doc.dump())});
  EXPECT_EQ(r.code, 6) << r.output.substr(0, 2000);
  EXPECT_EQ(r.output.find("metadata size"), std::string::npos) << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find("300 problems, nothing was imported"), std::string::npos) << r.output.substr(0, 2000);
  for (int i = 0; i < 300; ++i) {
    const auto name = "Unknown_Field_Number_" + std::to_string(i) + "__c";
    EXPECT_NE(r.output.find("mappings[0].config.fields." + name + ": no field " + name), std::string::npos)
      << name << " is not reported";
  }
  auto dry = cli({"import", temp("inputs_300_dry", doc.dump()), "--dry-run", "--json"});
  EXPECT_EQ(dry.code, 6);
  EXPECT_NE(dry.output.find("\"problems\""), std::string::npos) << dry.output.substr(0, 500);
  EXPECT_EQ(snapshot(), before) << "a refused import changed something";
}

TEST_F(admin_inputs, a_10000_character_object_name_is_a_problem_on_every_way_in) {
  ASSERT_NO_FATAL_FAILURE(start_node());
  const auto before = snapshot();
  const std::string name = "W" + std::string(9999, 'x');

  auto create = cli({"mapping:create", name, "--fields", "Name"});
  EXPECT_EQ(create.code, 6) << create.output.substr(0, 2000);
  EXPECT_NE(create.output.find("is not a Salesforce API name"), std::string::npos) << create.output.substr(0, 2000);
  EXPECT_EQ(create.output.find("metadata size"), std::string::npos);

  json doc{{"version", 1},
           {"mappings", json::array({{{"object_name", name},
                                      {"config", {{"access", "read_only"}, {"fields", base_fields()}}}}})}};
  auto import = cli({"import", temp("inputs_long_name", doc.dump())});
  EXPECT_EQ(import.code, 6) << import.output.substr(0, 2000);
  EXPECT_NE(import.output.find("mappings[0].object_name"), std::string::npos) << import.output.substr(0, 2000);

  // Not found: a status message, bounded in size however long the name.
  auto edit = cli({"mapping:edit", name, "--add-fields", "Text__c"});
  EXPECT_EQ(edit.code, 5) << edit.output.substr(0, 2000);
  EXPECT_LT(edit.output.size(), 1500u) << edit.output.substr(0, 2000);
  EXPECT_NE(edit.output.find("more bytes)"), std::string::npos) << "the cut is not said: " << edit.output.substr(0, 2000);

  // Connection settings: problems echoing a 10,000-character value travel in the body too.
  auto schema = cli({"db:set", "--schema", std::string(10000, 's') + "-"});
  EXPECT_EQ(schema.code, 6) << schema.output.substr(0, 2000);
  EXPECT_NE(schema.output.find("schema_name: "), std::string::npos) << schema.output.substr(0, 2000);
  auto auth = cli({"sf:auth", "--username", std::string(10000, 'u') + "@example.com", "--login-url",
                   "ftp://" + std::string(10000, 'h')});
  EXPECT_EQ(auth.code, 6) << auth.output.substr(0, 2000);
  EXPECT_NE(auth.output.find("username: "), std::string::npos) << auth.output.substr(0, 2000);
  EXPECT_NE(auth.output.find("login_url: "), std::string::npos) << auth.output.substr(0, 2000);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(admin_inputs, over_grpc_a_rejection_is_an_ok_reply_with_every_problem_and_statuses_stay_short) {
  ASSERT_NO_FATAL_FAILURE(start_node());
  auto s = stub();
  {
    syncforce::v1::CreateMappingRequest req;
    req.set_object_name(std::string(10000, 'Z'));
    req.add_fields("Name");
    syncforce::v1::MappingState reply;
    auto ctx = context();
    auto status = s->CreateMapping(ctx.get(), req, &reply);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message().substr(0, 300);
    ASSERT_TRUE(reply.has_rejected());
    EXPECT_EQ(reply.rejected().summary(), "1 problem, nothing was created");
    ASSERT_EQ(reply.rejected().problems_size(), 1);
    EXPECT_EQ(reply.rejected().problems(0).path(), std::string(10000, 'Z') + ".object_name");
    EXPECT_TRUE(reply.id().empty()) << "a rejected reply carries nothing else";
  }
  {
    syncforce::v1::ImportConfigurationRequest req;
    req.set_json(R"({"version": 1, "mappings": [{"object_name": "Widget__c", "config": {"access": "read_only",
      "sf_polling_seconds": 1e400, "fields": {"Id": {}}}}]})");
    syncforce::v1::ImportReport reply;
    auto ctx = context();
    auto status = s->ImportConfiguration(ctx.get(), req, &reply);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    ASSERT_TRUE(reply.has_rejected()) << "1e400 must be a validation problem, not an internal error";
    ASSERT_EQ(reply.rejected().problems_size(), 1);
    EXPECT_EQ(reply.rejected().problems(0).path(), "mappings[0].config.sf_polling_seconds");
    EXPECT_EQ(reply.rejected().problems(0).message(), "the number 1e400 is out of range");
  }
  {
    syncforce::v1::GetWriteErrorsRequest req;
    req.set_object_name(std::string(50000, 'q'));
    syncforce::v1::WriteErrors reply;
    auto ctx = context();
    auto status = s->GetWriteErrors(ctx.get(), req, &reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message().substr(0, 300);
    EXPECT_LE(status.error_message().size(), 1024u);
  }
}

TEST_F(admin_inputs, an_import_with_bad_numbers_exits_6_with_their_paths) {
  ASSERT_NO_FATAL_FAILURE(start_node());
  for (const std::string value : {"1e400", "-1e400", "99999999999999999999999", "18446744073709551615", "600.5",
                                  "\"600\"", "[[[[[600]]]]]", "{\"a\": {\"b\": 1}}", "null"}) {
    auto text = R"({"version": 1, "mappings": [{"object_name": "Widget__c", "config": {"access": "read_only",
      "sf_polling_seconds": )" + value + R"(, "fields": {"Id": {}, "Name": {}}}}]})";
    auto r = cli({"import", temp("inputs_numbers", text)});
    if (value == "null") { // null is "not given": the default interval, a valid import
      EXPECT_EQ(r.code, 0) << r.output;
      continue;
    }
    EXPECT_EQ(r.code, 6) << value << ": " << r.output;
    EXPECT_NE(r.output.find("mappings[0].config.sf_polling_seconds: "), std::string::npos) << value << ": "
                                                                                          << r.output;
    EXPECT_EQ(r.output.find("gRPC code 13"), std::string::npos) << value << ": " << r.output;
  }
  auto deep = cli({"import", temp("inputs_deep", "{\"version\": 1, \"mappings\": " + std::string(100000, '[') +
                                                   std::string(100000, ']') + "}")});
  EXPECT_EQ(deep.code, 6) << deep.output.substr(0, 1000);
  EXPECT_NE(deep.output.find("deeper than 64 levels"), std::string::npos) << deep.output.substr(0, 1000);
  // Only the valid (null) import changed anything.
  EXPECT_EQ(stored("SELECT object_name FROM syncforce.mappings"), std::optional<std::string>{"Widget__c"});
}

TEST_F(admin_inputs, names_take_describes_spelling_on_create_edit_and_import_and_already_mapped_ignores_case) {
  ASSERT_NO_FATAL_FAILURE(start_node());
  auto create = cli({"mapping:create", "widget__c", "--fields", "name,ext_id__c,TEXT__C", "--access", "read_write",
                     "--upsert-field", "EXT_ID__C"});
  ASSERT_EQ(create.code, 0) << create.output;
  EXPECT_NE(create.output.find("mapping of Widget__c"), std::string::npos) << create.output;
  EXPECT_EQ(stored("SELECT object_name FROM syncforce.mappings"), std::optional<std::string>{"Widget__c"});
  EXPECT_EQ(stored("SELECT config->>'upsert_field' FROM syncforce.mappings"), std::optional<std::string>{"Ext_Id__c"});
  EXPECT_EQ(stored("SELECT string_agg(k, ',' ORDER BY k) FROM syncforce.mappings, jsonb_object_keys(config->'fields') k"),
            std::optional<std::string>{"CreatedDate,Ext_Id__c,Id,IsDeleted,Name,SystemModstamp,Text__c"});

  for (const char* again : {"WIDGET__C", "Widget__c", "widget__C"}) {
    auto twice = cli({"mapping:create", again, "--fields", "Name"});
    EXPECT_EQ(twice.code, 7) << again << ": " << twice.output;
    EXPECT_NE(twice.output.find("already maps Widget__c"), std::string::npos) << twice.output;
  }
  EXPECT_EQ(count_of(db->url(), "SELECT count(*) FROM syncforce.mappings"), 1);

  auto edit = cli({"mapping:edit", "WIDGET__c", "--add-fields", "count__C"});
  ASSERT_EQ(edit.code, 0) << edit.output;
  EXPECT_EQ(stored("SELECT config->'fields' ? 'Count__c' FROM syncforce.mappings"), std::optional<std::string>{"t"});
  auto added_twice = cli({"mapping:edit", "Widget__c", "--add-fields", "COUNT__C"});
  EXPECT_EQ(added_twice.code, 6) << added_twice.output;
  EXPECT_NE(added_twice.output.find("is already mapped"), std::string::npos) << added_twice.output;

  // Import: a new mapping in any case, with a relationship column, upsert field and index.
  json gadget{{"version", 1},
              {"mappings",
               json::array({{{"object_name", "GADGET__C"},
                             {"config",
                              {{"access", "read_write"},
                               {"upsert_field", "ext_id__c"},
                               {"fields",
                                {{"id", json::object()}, {"isdeleted", json::object()},
                                 {"systemmodstamp", json::object()}, {"createddate", json::object()},
                                 {"name", json::object()}, {"ext_id__c", json::object()},
                                 {"WIDGET__R__EXT_ID__C", json::object()}}},
                               {"indexes", {{"text__c", {{"unique", false}}}}}}}}})}};
  gadget["mappings"][0]["config"]["fields"]["text__c"] = json::object();
  auto imported = cli({"import", temp("inputs_gadget", gadget.dump())});
  ASSERT_EQ(imported.code, 0) << imported.output;
  EXPECT_EQ(stored("SELECT string_agg(object_name, ',' ORDER BY object_name) FROM syncforce.mappings"),
            std::optional<std::string>{"Gadget__c,Widget__c"});
  const std::string g = " FROM syncforce.mappings WHERE object_name = 'Gadget__c'";
  EXPECT_EQ(stored("SELECT string_agg(k, ',' ORDER BY k) FROM syncforce.mappings, jsonb_object_keys(config->'fields') k "
                   "WHERE object_name = 'Gadget__c'"),
            std::optional<std::string>{"CreatedDate,Ext_Id__c,Id,IsDeleted,Name,SystemModstamp,Text__c,Widget__r__Ext_Id__c"});
  EXPECT_EQ(stored("SELECT config->>'upsert_field'" + g), std::optional<std::string>{"Ext_Id__c"});
  EXPECT_EQ(stored("SELECT config->'indexes' ? 'Text__c'" + g), std::optional<std::string>{"t"});

  // The same file again, spelled differently: nothing changes (no revision bump).
  const auto revisions = stored("SELECT string_agg(object_name || revision, ',' ORDER BY object_name) FROM "
                                "syncforce.mappings");
  gadget["mappings"][0]["object_name"] = "gadget__c";
  auto again = cli({"import", temp("inputs_gadget_again", gadget.dump())});
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("0 mapping(s) created, 0 changed, 1 unchanged"), std::string::npos) << again.output;
  EXPECT_EQ(stored("SELECT string_agg(object_name || revision, ',' ORDER BY object_name) FROM syncforce.mappings"),
            revisions);

  // The node's configuration file: `widget__c` there is the mapping stored as Widget__c.
  auto file = parse_engine_config(R"({"version": 1, "schema": "salesforce", "salesforce": {"login_url": ")" +
                                  emu->base_url() + R"(", "username": ")" + sf_user +
                                  R"(", "password_env": "SF_TEST_PASSWORD"}, "connection": {"name": "it"},
    "mappings": [{"object_name": "widget__c", "config": {"access": "read_only", "sf_polling_seconds": 600,
      "fields": {"Id": {}, "IsDeleted": {}, "SystemModstamp": {}, "CreatedDate": {}, "Name": {}}}}]})");
  ASSERT_TRUE(file.ok()) << file.error_text();
  {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    auto report = store::import_engine_config(tx, *file.config);
    tx.commit();
    EXPECT_EQ(report.mappings_created, 0);
    EXPECT_EQ(report.mappings_changed, 1);
  }
  EXPECT_EQ(stored("SELECT string_agg(object_name, ',' ORDER BY object_name) FROM syncforce.mappings"),
            std::optional<std::string>{"Gadget__c,Widget__c"});
}
