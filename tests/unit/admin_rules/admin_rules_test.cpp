#include "sync/admin_rules.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

namespace {

std::string all_text(const std::vector<config_problem>& problems) {
  std::string s;
  for (const auto& p : problems)
    s += p.to_string() + "\n";
  return s;
}

} // namespace

// ---- tokens ------------------------------------------------------------------

TEST(token_file, a_bare_token_is_named_admin) {
  auto r = parse_token_file("  s3cret-token \n\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.tokens.size(), 1u);
  EXPECT_EQ(r.tokens[0].name, "admin");
  EXPECT_EQ(r.tokens[0].token, "s3cret-token");
}

TEST(token_file, named_lines_with_comments_and_blank_lines) {
  auto r = parse_token_file("# operators\nalice:tok-a\n\nci-robot : tok-b\n");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  ASSERT_EQ(r.tokens.size(), 2u);
  EXPECT_EQ(r.tokens[0].name, "alice");
  EXPECT_EQ(r.tokens[1].name, "ci-robot");
  EXPECT_EQ(r.tokens[1].token, "tok-b");
  EXPECT_EQ(token_name(r.tokens, "tok-b"), std::optional<std::string>{"ci-robot"});
  EXPECT_EQ(token_name(r.tokens, "tok-"), std::nullopt);
  EXPECT_EQ(token_name(r.tokens, "tok-bb"), std::nullopt);
}

TEST(token_file, problems_name_lines_never_tokens) {
  auto r = parse_token_file("alice:secret-one\nbare-secret-two\nbob:secret-one\nalice:other\n");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 3u);
  for (const auto& e : r.errors) {
    EXPECT_EQ(e.find("secret-one"), std::string::npos) << e;
    EXPECT_EQ(e.find("bare-secret-two"), std::string::npos) << e;
  }
  EXPECT_NE(r.errors[0].find("line 2"), std::string::npos);
  EXPECT_NE(r.errors[1].find("same token as alice"), std::string::npos);
  EXPECT_NE(r.errors[2].find("named twice"), std::string::npos);
  EXPECT_FALSE(parse_token_file("# nothing\n\n").ok());
}

TEST(token_file, same_secret_compares_whole_strings) {
  EXPECT_TRUE(same_secret("abc", "abc"));
  EXPECT_FALSE(same_secret("abc", "abd"));
  EXPECT_FALSE(same_secret("abc", "ab"));
  EXPECT_FALSE(same_secret("", "a"));
}

// ---- states ------------------------------------------------------------------

TEST(effective_state, idle_is_busy_while_a_load_runs_or_a_command_waits) {
  std::vector<mapping_activity> ms{{"Account", "DATA_SYNCED", std::nullopt}, {"Contact", "RELOAD_TABLE", std::nullopt}};
  auto s = effective_connection_state("IDLE", ms);
  EXPECT_EQ(s.state, "BUSY");
  EXPECT_EQ(s.reason, "Contact is RELOAD_TABLE");
  EXPECT_EQ(*pause_refusal("it", s), "connection it is BUSY (Contact is RELOAD_TABLE); pause when it is IDLE");

  ms[1] = {"Contact", "DATA_SYNCED", std::string{"reload"}};
  s = effective_connection_state("IDLE", ms);
  EXPECT_EQ(s.state, "BUSY");
  EXPECT_EQ(s.reason, "Contact has a pending reload");

  ms[1].command.reset();
  s = effective_connection_state("IDLE", ms);
  EXPECT_EQ(s.state, "IDLE");
  EXPECT_FALSE(pause_refusal("it", s));
  EXPECT_EQ(*resume_refusal("it", s), "connection it is not paused (IDLE)");
}

TEST(effective_state, other_stored_states_show_as_they_are) {
  std::vector<mapping_activity> ms{{"Contact", "INITIAL", std::nullopt}};
  auto s = effective_connection_state("PAUSED", ms);
  EXPECT_EQ(s.state, "PAUSED");
  EXPECT_FALSE(resume_refusal("it", s));
  EXPECT_EQ(*pause_refusal("it", s), "connection it is already PAUSED");
  s = effective_connection_state("SYSTEM_ERROR", ms);
  EXPECT_EQ(*pause_refusal("it", s), "connection it is SYSTEM_ERROR; pause when it is IDLE");
}

TEST(recover, restarts_mappings_in_error_and_resets_a_connection_in_error) {
  std::vector<mapping_activity> ms{{"Account", "DATA_SYNCED", std::nullopt},
                                   {"Contact", "ABORTED", std::nullopt},
                                   {"Lead", "SYSTEM_ERROR", std::nullopt},
                                   {"Case", "BAD_CONFIG", std::string{"recover"}}};
  auto p = plan_recover("UNAUTHORIZED", ms);
  EXPECT_TRUE(p.reset_connection);
  EXPECT_EQ(p.mappings, (std::vector<std::string>{"Contact", "Lead"}));
  EXPECT_TRUE(plan_recover("IDLE", {{"Account", "DATA_SYNCED", std::nullopt}}).empty());
}

// ---- names -------------------------------------------------------------------

TEST(checks, names_urls_refs_and_versions) {
  std::vector<config_problem> p;
  check_connection_name("name", "APP:DATABASE_URL:gus", p);
  check_schema_name("schema_name", "salesforce_2", p);
  check_login_url("login_url", "https://login.salesforce.com", p);
  check_login_url("login_url", "http://127.0.0.1:8080", p);
  check_auth_method("auth_method", "jwt", p);
  check_secret_ref("secret_ref", "env:SF_PASSWORD", true, p);
  check_secret_ref("secret_ref", "file:/run/secrets/key.pem", true, p);
  check_secret_ref("client_secret_ref", "", false, p);
  check_api_version("api_version", "60.0", p);
  check_username("username", "a@b.c", p);
  EXPECT_TRUE(p.empty()) << all_text(p);

  check_connection_name("name", "", p);
  check_connection_name("name", "bad name", p);
  check_schema_name("schema_name", "Sales", p);
  check_schema_name("schema_name", "pg_temp", p);
  check_schema_name("schema_name", "a;drop", p);
  check_login_url("login_url", "ftp://x", p);
  check_login_url("login_url", "https://", p);
  check_auth_method("auth_method", "oauth", p);
  check_secret_ref("secret_ref", "hunter2", true, p);
  check_secret_ref("secret_ref", "env:1X", true, p);
  check_secret_ref("secret_ref", "file:relative", true, p);
  check_secret_ref("secret_ref", "", true, p);
  check_api_version("api_version", "60", p);
  check_api_version("api_version", "29.0", p);
  check_api_version("api_version", "100.0", p);
  check_api_version("api_version", "60.5", p);
  check_username("username", "a b", p);
  EXPECT_EQ(p.size(), 17u) << all_text(p);
  EXPECT_EQ(all_text(p).find("hunter2"), std::string::npos) << "a secret given in place of a reference is not echoed";
}

TEST(checks, features_and_timestamps) {
  connection_features f;
  std::vector<config_problem> p;
  apply_features("features", {{"poll_db_no_merge", true}, {"bogus", true}}, f, p);
  EXPECT_TRUE(f.poll_db_no_merge);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].path, "features.bogus");
  EXPECT_TRUE(is_utc_timestamp("2026-11-23"));
  EXPECT_TRUE(is_utc_timestamp("2026-11-23T10:00:00Z"));
  EXPECT_TRUE(is_utc_timestamp("2026-11-23T10:00:00.123Z"));
  EXPECT_FALSE(is_utc_timestamp("2026-11-23T10:00:00"));
  EXPECT_FALSE(is_utc_timestamp("yesterday"));
  EXPECT_FALSE(is_utc_timestamp("2026-11-23'; --"));
}

TEST(checks, problems_text_lists_every_problem) {
  auto t = problems_text({{"mappings[0].object_name", "no object Foo"}, {"", "not JSON"}}, "nothing was imported");
  EXPECT_EQ(t, "2 problems, nothing was imported:\n  mappings[0].object_name: no object Foo\n  not JSON");
  EXPECT_EQ(problems_text({{"a", "b"}}, "nothing was changed"), "1 problem, nothing was changed:\n  a: b");
}

// ---- mappings ----------------------------------------------------------------

TEST(build_mapping, adds_the_always_mapped_fields_and_the_upsert_field) {
  mapping_request req;
  req.object_name = "Contact";
  req.fields = {"LastName", "id", "Email"};
  req.access = "read_write";
  req.upsert_field = "Ext__c";
  req.polling_seconds = 300;
  auto r = build_mapping(req, "Contact");
  ASSERT_TRUE(r.config) << all_text(r.problems);
  const auto& m = *r.config;
  EXPECT_EQ(m.fields, (std::vector<std::string>{"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "LastName",
                                                "Email", "Ext__c"}));
  EXPECT_EQ(m.access, mapping_access::read_write);
  EXPECT_EQ(m.upsert_field, std::optional<std::string>{"Ext__c"});
  EXPECT_EQ(m.sf_polling_seconds, 300);

  mapping_request plain;
  plain.object_name = "Account";
  auto d = build_mapping(plain, "Account");
  ASSERT_TRUE(d.config);
  EXPECT_EQ(d.config->access, mapping_access::read_only);
  EXPECT_EQ(d.config->sf_polling_seconds, mapping_config::default_polling_seconds);
}

TEST(build_mapping, reports_every_problem) {
  mapping_request req;
  req.object_name = "Contact";
  req.fields = {"Bad Name", "Email"};
  req.access = "write_only";
  req.polling_seconds = 5;
  auto r = build_mapping(req, "Contact");
  EXPECT_FALSE(r.config);
  auto text = all_text(r.problems);
  EXPECT_EQ(r.problems.size(), 3u) << text;
  EXPECT_NE(text.find("Bad Name"), std::string::npos) << text;
  EXPECT_NE(text.find("write_only"), std::string::npos) << text;
  EXPECT_NE(text.find("sf_polling_seconds"), std::string::npos) << text;
}

TEST(build_mapping, takes_a_whole_config_json_but_not_both) {
  mapping_request req;
  req.object_name = "Lead";
  req.config_json = R"({"access": "read_only", "sf_polling_seconds": 900, "fields": {"Id": {}, "Company": {}}})";
  auto r = build_mapping(req, "Lead");
  ASSERT_TRUE(r.config) << all_text(r.problems);
  EXPECT_EQ(r.config->sf_polling_seconds, 900);
  EXPECT_EQ(r.config->fields, (std::vector<std::string>{"Id", "Company"}));
  req.fields = {"Name"};
  EXPECT_FALSE(build_mapping(req, "Lead").config);
  req.fields.clear();
  req.config_json = "{not json";
  EXPECT_FALSE(build_mapping(req, "Lead").config);
}

TEST(edit_mapping, adds_removes_and_changes_settings) {
  mapping_request req;
  req.object_name = "Contact";
  req.fields = {"LastName", "Email", "Phone"};
  auto base = *build_mapping(req, "Contact").config;
  base.indexes.push_back({"Email", false});

  mapping_edit e;
  e.add_fields = {"Title"};
  e.remove_fields = {"Email"};
  e.access = "read_write";
  e.upsert_field = "Ext__c";
  e.polling_seconds = 1200;
  auto r = edit_mapping(base, e, "Contact");
  ASSERT_TRUE(r.config) << all_text(r.problems);
  EXPECT_FALSE(r.config->has_field("Email"));
  EXPECT_TRUE(r.config->has_field("Title"));
  EXPECT_TRUE(r.config->has_field("Ext__c"));
  EXPECT_TRUE(r.config->indexes.empty()) << "the index of a removed field goes with it";
  EXPECT_EQ(r.config->access, mapping_access::read_write);
  EXPECT_EQ(r.config->sf_polling_seconds, 1200);
  EXPECT_FALSE(same_mapping_config(base, *r.config));

  mapping_edit clear;
  clear.clear_upsert_field = true;
  auto c = edit_mapping(*r.config, clear, "Contact");
  ASSERT_TRUE(c.config);
  EXPECT_FALSE(c.config->upsert_field);
}

TEST(edit_mapping, refuses_what_cannot_be_done_all_at_once) {
  mapping_request req;
  req.object_name = "Contact";
  req.fields = {"LastName"};
  req.upsert_field = "Ext__c";
  auto base = *build_mapping(req, "Contact").config;
  mapping_edit e;
  e.remove_fields = {"Id", "Nope__c", "Ext__c"};
  e.add_fields = {"LastName"};
  e.polling_seconds = 99999;
  auto r = edit_mapping(base, e, "Contact");
  EXPECT_FALSE(r.config);
  auto text = all_text(r.problems);
  EXPECT_EQ(r.problems.size(), 5u) << text;
  EXPECT_NE(text.find("Contact.fields.Id: is always mapped"), std::string::npos) << text;
  EXPECT_NE(text.find("Contact.fields.Nope__c: is not mapped"), std::string::npos) << text;
  EXPECT_NE(text.find("Contact.fields.Ext__c: is the upsert field"), std::string::npos) << text;
  EXPECT_NE(text.find("Contact.fields.LastName: is already mapped"), std::string::npos) << text;
}

TEST(same_mapping_config, ignores_order_applied_at_and_revision) {
  mapping_request req;
  req.object_name = "Contact";
  req.fields = {"LastName", "Email"};
  auto a = *build_mapping(req, "Contact").config;
  auto b = a;
  std::swap(b.fields[4], b.fields[5]);
  b.applied_at = "2023-02-14T01:40:34.070538Z";
  b.revision = 7;
  EXPECT_TRUE(same_mapping_config(a, b));
  b.sf_polling_seconds = 900;
  EXPECT_FALSE(same_mapping_config(a, b));
  EXPECT_EQ(mapping_config_json(normalized_mapping(b)).find("revision"), std::string::npos);
}
