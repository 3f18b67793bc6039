// The admin API (syncforce.v1.Admin) through the real `syncforce` CLI against a
// real node, sfemu and PostgreSQL: the bearer token is required and never
// logged; `state`, `mapping:state` and `export` tell the truth; an export
// imports back to the same configuration and holds no secret.

#include "sync/hc_export.hpp"
#include "sync/mapping_config.hpp"
#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <regex>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

const std::string token = "t0ken-for-tests-only-5b1e";

struct cli_result {
  int code = -1;
  std::string output;
};

struct admin : sync_read {
  void start_admin_node() {
    node_env["SYNCFORCE_ADMIN_TOKEN"] = token;
    write_config(every_mapping());
    start_node();
    ASSERT_TRUE(node->wait_for_output("gRPC server listening", 20s)) << node->output();
    std::smatch m;
    auto out = node->output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("gRPC server listening\" port=(\\d+)"))) << out;
    server = "127.0.0.1:" + m[1].str();
    ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();
  }

  cli_result cli(std::vector<std::string> args, const std::optional<std::string>& with_token = token) {
    std::vector<std::string> argv{bin_path("syncforce"), "--server", server};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> env;
    if (with_token)
      env["SYNCFORCE_TOKEN"] = *with_token;
    auto p = child_process::start(argv, env);
    cli_result r;
    r.code = p->wait_exit(30s).value_or(-1);
    r.output = p->output();
    return r;
  }

  std::string server;
};

} // namespace

TEST_F(admin, calls_without_the_right_token_are_refused_and_the_token_is_never_logged) {
  start_admin_node();
  auto none = cli({"state"}, std::nullopt);
  EXPECT_EQ(none.code, 4) << none.output;
  EXPECT_NE(none.output.find("no token"), std::string::npos) << none.output;
  auto wrong = cli({"state"}, std::string{"not-the-token"});
  EXPECT_EQ(wrong.code, 4) << wrong.output;
  EXPECT_NE(wrong.output.find("not valid"), std::string::npos) << wrong.output;
  EXPECT_EQ(wrong.output.find("not-the-token"), std::string::npos) << "a token is never echoed";
  auto ok = cli({"state"});
  EXPECT_EQ(ok.code, 0) << ok.output;
  stop_node();
  EXPECT_EQ(node->output().find(token), std::string::npos) << "the token never reaches the log";
}

TEST_F(admin, state_and_mapping_state_tell_the_truth) {
  ASSERT_EQ(load_records(*sf, *emu, "Every__c", json::array({{{"Name", "A"}, {"Ext_Id__c", "A-1"}},
                                                           {{"Name", "B"}, {"Ext_Id__c", "B-1"}}}))
              .size(),
            2u);
  start_admin_node();
  auto r = cli({"state", "--json"});
  ASSERT_EQ(r.code, 0) << r.output;
  auto doc = json::parse(r.output.substr(r.output.find('[')), nullptr, false);
  ASSERT_TRUE(doc.is_array()) << r.output;
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["name"], "it");
  EXPECT_EQ(doc[0]["schema_name"], "salesforce");
  ASSERT_EQ(doc[0]["mappings"].size(), 1u);
  const auto& m = doc[0]["mappings"][0];
  EXPECT_EQ(m["object_name"], "Every__c");
  EXPECT_EQ(m["state"], "DATA_SYNCED");
  EXPECT_EQ(m["access"], "read_only");
  EXPECT_EQ(m["counts"]["db"], 2);
  EXPECT_EQ(m["counts"]["pending"], 0);
  EXPECT_EQ(m["high_water_mark"].get<std::string>().size(), 24u) << m.dump();

  auto table = cli({"state"});
  ASSERT_EQ(table.code, 0) << table.output;
  EXPECT_NE(table.output.find("Every__c"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("DATA_SYNCED"), std::string::npos);

  auto one = cli({"mapping:state", "Every__c"});
  EXPECT_EQ(one.code, 0) << one.output;
  EXPECT_NE(one.output.find("DATA_SYNCED"), std::string::npos) << one.output;
  auto missing = cli({"mapping:state", "Nope__c"});
  EXPECT_EQ(missing.code, 5) << missing.output;
  auto no_connection = cli({"state", "--connection", "other"});
  EXPECT_EQ(no_connection.code, 5) << no_connection.output;
  stop_node();
}

TEST_F(admin, an_export_imports_back_to_the_same_configuration_and_holds_no_secret) {
  start_admin_node();
  auto file = write_temp("admin_export", "");
  auto r = cli({"export", file});
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(file.c_str());
  auto parsed = parse_config(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error_text() << "\n" << text;
  ASSERT_TRUE(parsed.document->connection);
  EXPECT_EQ(parsed.document->connection->name, "it");
  EXPECT_EQ(parsed.document->connection->api_version, "60.0");
  EXPECT_TRUE(parsed.document->connection->exported_at);
  // The same mapping as the one imported at start-up.
  auto original = parse_config(json{{"version", 1}, {"mappings", every_mapping()}}.dump());
  ASSERT_TRUE(original.ok()) << original.error_text();
  ASSERT_EQ(parsed.document->mappings.size(), 1u);
  // As Heroku Connect exports it: the table's indexes listed, the daily cap defaulted, applied_at set.
  const auto& out = parsed.document->mappings[0];
  EXPECT_TRUE(out.applied_at) << text;
  EXPECT_TRUE(out == export_mapping(original.document->mappings[0], out.applied_at)) << text;
  for (const char* secret : {"sfemu", "SF_TEST_PASSWORD", "password", token.c_str()})
    EXPECT_EQ(text.find(secret), std::string::npos) << "the export holds '" << secret << "'";
  stop_node();
}

TEST_F(admin, write_errors_list_the_failed_writes_of_the_last_day) {
  node_env["SYNCFORCE_ADMIN_TOKEN"] = token;
  auto mappings = every_mapping();
  mappings[0]["config"]["access"] = "read_write";
  write_config(mappings);
  start_node();
  ASSERT_TRUE(node->wait_for_output("gRPC server listening", 20s)) << node->output();
  std::smatch match;
  auto out = node->output();
  ASSERT_TRUE(std::regex_search(out, match, std::regex("gRPC server listening\" port=(\\d+)"))) << out;
  server = "127.0.0.1:" + match[1].str();
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED")) << node->output();

  auto none = cli({"write-errors"});
  EXPECT_EQ(none.code, 0) << none.output;
  EXPECT_NE(none.output.find("No write errors"), std::string::npos) << none.output;
  // A lookup that is not an id: Salesforce refuses the insert.
  {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec0("INSERT INTO salesforce.every__c (name, ext_id__c, account__c) VALUES ('Bad', 'W-1', 'not-an-id')");
    tx.commit();
  }
  ASSERT_TRUE(wait_until(
    [&] { return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c WHERE _hc_lastop = 'FAILED'") == 1; },
    20s))
    << node->output();
  auto r = cli({"write-errors", "--json"});
  ASSERT_EQ(r.code, 0) << r.output;
  auto list = json::parse(r.output.substr(r.output.find('[')), nullptr, false);
  ASSERT_TRUE(list.is_array()) << r.output;
  ASSERT_EQ(list.size(), 1u) << r.output;
  EXPECT_EQ(list[0]["object_name"], "Every__c");
  EXPECT_EQ(list[0]["action"], "INSERT");
  EXPECT_EQ(list[0]["connection"], "it");
  EXPECT_NE(list[0]["message"].get<std::string>().find("MALFORMED_ID"), std::string::npos) << r.output;
  auto one = cli({"mapping:write-errors", "Every__c"});
  EXPECT_EQ(one.code, 0) << one.output;
  EXPECT_NE(one.output.find("MALFORMED_ID"), std::string::npos) << one.output;
  EXPECT_EQ(cli({"mapping:write-errors", "Nope__c"}).code, 5);
  stop_node();
}
