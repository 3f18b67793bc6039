// The rules of `syncforce diagnose`, from facts to results.

#include "sync/diagnose_rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace syncforce;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

mapping_config contact_mapping() {
  mapping_config m;
  m.object_name = "Contact";
  m.fields = {"Id", "LastName", "Email", "Account__r__Ext_Id__c"};
  return m;
}

describe_facts contact_describe() {
  describe_facts f;
  f.object_name = "Contact";
  f.field_names = {"Id", "LastName", "Email", "AccountId", "SystemModstamp"};
  f.relationship_names = {"Account", "Owner"};
  return f;
}

} // namespace

TEST(diagnose_rules, counts_each_status) {
  std::vector<diagnose_result> results(6);
  results[0].status = diagnose_status::error;
  results[1].status = diagnose_status::warning;
  results[2].status = diagnose_status::warning;
  results[3].status = diagnose_status::pass;
  results[4].status = diagnose_status::skip;
  results[5].status = diagnose_status::pass;
  auto c = count_results(results);
  EXPECT_EQ(c.errors, 1);
  EXPECT_EQ(c.warnings, 2);
  EXPECT_EQ(c.passes, 2);
  EXPECT_EQ(c.skips, 1);
  EXPECT_EQ(to_string(diagnose_status::warning), "WARNING");
  EXPECT_EQ(to_string(diagnose_status::skip), "SKIP");
}

TEST(diagnose_rules, credentials_name_the_reference_not_the_secret_and_say_why_others_skip) {
  credentials_facts f;
  f.username = "int@example.com";
  f.secret_error = "environment variable SF_PASSWORD is not set";
  auto r = rule_credentials(f);
  EXPECT_EQ(r.rule_id, "CREDENTIALS");
  EXPECT_EQ(r.status, diagnose_status::error);
  EXPECT_TRUE(contains(r.message, "SF_PASSWORD")) << r.message;
  EXPECT_FALSE(r.hint.empty());
  EXPECT_FALSE(skip_reason(f).empty());

  f.secret_error.clear();
  f.attempted = true;
  f.login_error = "invalid_grant (400): authentication failure";
  r = rule_credentials(f);
  EXPECT_EQ(r.status, diagnose_status::error);
  EXPECT_TRUE(contains(r.message, "authentication failure")) << r.message;
  EXPECT_TRUE(contains(skip_reason(f), "authentication failure"));

  f.logged_in = true;
  f.login_error.clear();
  r = rule_credentials(f);
  EXPECT_EQ(r.status, diagnose_status::pass);
  EXPECT_TRUE(contains(r.message, "int@example.com"));
  EXPECT_TRUE(skip_reason(f).empty());
}

TEST(diagnose_rules, api_version_must_be_offered_and_warns_below_56_or_a_year_behind) {
  api_version_facts f;
  f.connection_version = "60.0";
  f.offered = {"58.0", "59.0", "60.0"};
  EXPECT_EQ(rule_api_version(f).status, diagnose_status::pass);

  f.offered.push_back("61.0");
  f.offered.push_back("62.0");
  auto r = rule_api_version(f);
  EXPECT_EQ(r.status, diagnose_status::pass) << "two versions behind is current enough";
  EXPECT_TRUE(contains(r.message, "62.0")) << r.message;

  f.offered.push_back("63.0");
  r = rule_api_version(f);
  EXPECT_EQ(r.status, diagnose_status::warning) << "three versions: over a year behind";
  EXPECT_TRUE(contains(r.hint, "63.0")) << r.hint;

  f.connection_version = "52.0";
  r = rule_api_version(f);
  EXPECT_EQ(r.status, diagnose_status::error) << "52.0 is not offered";
  EXPECT_TRUE(contains(r.message, "52.0"));

  f.offered.insert(f.offered.begin(), "52.0");
  r = rule_api_version(f);
  EXPECT_EQ(r.status, diagnose_status::warning);
  EXPECT_TRUE(contains(r.message, "10 open query cursors")) << r.message;

  f.skip_reason = "no login: refused";
  r = rule_api_version(f);
  EXPECT_EQ(r.status, diagnose_status::skip);
  EXPECT_EQ(r.message, "no login: refused");
  EXPECT_FALSE(r.hint.empty());
}

TEST(diagnose_rules, query_cursors_tell_the_mode_and_warn_about_a_shared_user) {
  query_cursor_facts f;
  f.api_version = "55.0";
  f.cursor_limit = 10;
  f.username = "int@example.com";
  f.mappings = 3;
  auto r = rule_query_cursors(f);
  EXPECT_EQ(r.status, diagnose_status::pass);
  EXPECT_TRUE(contains(r.message, "10 per user (API version < 56.0)")) << r.message;

  f.mappings = 12;
  EXPECT_EQ(rule_query_cursors(f).status, diagnose_status::warning);

  f.mappings = 1;
  f.cursor_limit = 0;
  r = rule_query_cursors(f);
  EXPECT_EQ(r.status, diagnose_status::pass);
  EXPECT_TRUE(contains(r.message, "unlimited")) << r.message;

  f.sharing_connections = {"other"};
  r = rule_query_cursors(f);
  EXPECT_EQ(r.status, diagnose_status::pass) << "sharing an unlimited user is safe";
  EXPECT_TRUE(contains(r.message, "other")) << r.message;

  f.cursor_limit = 10;
  r = rule_query_cursors(f);
  EXPECT_EQ(r.status, diagnose_status::warning) << "ten legacy cursors shared";
  EXPECT_TRUE(contains(r.message, "other")) << r.message;
  EXPECT_TRUE(contains(r.hint, "56.0"));
}

TEST(diagnose_rules, api_budget_warns_under_ten_percent_and_fails_at_zero) {
  api_budget_facts f;
  f.max = 15000;
  f.remaining = 1500;
  EXPECT_EQ(rule_api_budget(f).status, diagnose_status::pass) << "exactly 10 % left is fine";
  f.remaining = 1499;
  auto r = rule_api_budget(f);
  EXPECT_EQ(r.status, diagnose_status::warning);
  EXPECT_TRUE(contains(r.message, "1499 of 15000")) << r.message;
  f.remaining = 0;
  EXPECT_EQ(rule_api_budget(f).status, diagnose_status::error);
  f.remaining.reset();
  EXPECT_EQ(rule_api_budget(f).status, diagnose_status::skip);
  f.error = "TIMEOUT";
  EXPECT_EQ(rule_api_budget(f).status, diagnose_status::skip);
}

TEST(diagnose_rules, a_backlog_warns_when_its_oldest_entry_is_over_ten_minutes_old) {
  trigger_log_facts f;
  f.schema = "salesforce";
  EXPECT_EQ(rule_trigger_log_backlog(f).status, diagnose_status::pass);
  f.waiting = 4;
  f.oldest_age_seconds = 30;
  auto r = rule_trigger_log_backlog(f);
  EXPECT_EQ(r.status, diagnose_status::pass);
  EXPECT_TRUE(contains(r.message, "4 change(s)")) << r.message;
  f.oldest_age_seconds = 601;
  r = rule_trigger_log_backlog(f);
  EXPECT_EQ(r.status, diagnose_status::warning);
  EXPECT_TRUE(contains(r.message, "10 min old")) << r.message;
  f.paused = true;
  EXPECT_TRUE(contains(rule_trigger_log_backlog(f).hint, "resume"));
  f.table_exists = false;
  EXPECT_EQ(rule_trigger_log_backlog(f).status, diagnose_status::skip);
}

TEST(diagnose_rules, failed_writes_warn_with_the_count_and_the_newest_message) {
  failed_write_facts f;
  EXPECT_EQ(rule_failed_writes(f).status, diagnose_status::pass);
  f.failed_24h = 3;
  f.newest_message = "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]";
  f.newest_table = "contact";
  auto r = rule_failed_writes(f);
  EXPECT_EQ(r.status, diagnose_status::warning);
  EXPECT_TRUE(contains(r.message, "3 write(s)")) << r.message;
  EXPECT_TRUE(contains(r.message, "[LastName]")) << r.message;
  EXPECT_TRUE(contains(r.hint, "syncforce write-errors")) << r.hint;
}

TEST(diagnose_rules, mappings_in_error_name_each_with_its_description) {
  std::vector<mapping_state_facts> m{{"Contact", "DATA_SYNCED", ""},
                                     {"Lead", "SYSTEM_ERROR", "describe failed"},
                                     {"Account", "RELOAD_TABLE", ""},
                                     {"Case", "BAD_CONFIG", "no field Foo__c"}};
  auto r = rule_mappings_in_error(m);
  EXPECT_EQ(r.status, diagnose_status::error);
  EXPECT_TRUE(contains(r.message, "Lead is SYSTEM_ERROR (describe failed)")) << r.message;
  EXPECT_TRUE(contains(r.message, "Case is BAD_CONFIG (no field Foo__c)")) << r.message;
  EXPECT_FALSE(contains(r.message, "Contact"));
  EXPECT_FALSE(contains(r.message, "Account"));
  EXPECT_TRUE(contains(r.hint, "recover"));
  m.erase(m.begin() + 1);
  m.pop_back();
  EXPECT_EQ(rule_mappings_in_error(m).status, diagnose_status::pass);
  EXPECT_EQ(rule_mappings_in_error(m, "Contact").object_name, "Contact");
}

TEST(diagnose_rules, connection_state_errors_warn_when_paused) {
  EXPECT_EQ(rule_connection_state("it", "IDLE").status, diagnose_status::pass);
  auto paused = rule_connection_state("it", "PAUSED");
  EXPECT_EQ(paused.status, diagnose_status::warning);
  EXPECT_TRUE(contains(paused.hint, "resume"));
  auto bad = rule_connection_state("it", "NEED_AUTHENTICATION");
  EXPECT_EQ(bad.status, diagnose_status::error);
  EXPECT_TRUE(contains(bad.hint, "sf:auth"));
}

TEST(diagnose_rules, a_missing_table_is_an_error_unless_it_is_being_created) {
  table_facts f{"Contact", "salesforce.contact", true, "DATA_SYNCED"};
  EXPECT_EQ(rule_table_exists(f).status, diagnose_status::pass);
  EXPECT_EQ(rule_table_exists(f).object_name, "Contact");
  f.exists = false;
  auto r = rule_table_exists(f);
  EXPECT_EQ(r.status, diagnose_status::error);
  EXPECT_TRUE(contains(r.hint, "mapping:reload Contact"));
  f.state = "INITIAL";
  EXPECT_EQ(rule_table_exists(f).status, diagnose_status::skip);
}

TEST(diagnose_rules, fields_that_left_the_object_are_named) {
  auto m = contact_mapping();
  auto d = contact_describe();
  EXPECT_TRUE(missing_fields(m, d).empty());
  EXPECT_EQ(rule_fields_exist(m, d).status, diagnose_status::pass);

  m.fields.push_back("Gone__c");
  m.fields.push_back("Parent__r__Ext__c");
  EXPECT_EQ(missing_fields(m, d), (std::vector<std::string>{"Gone__c", "Parent__r__Ext__c"}));
  auto r = rule_fields_exist(m, d);
  EXPECT_EQ(r.status, diagnose_status::error);
  EXPECT_TRUE(contains(r.message, "Gone__c, Parent__r__Ext__c")) << r.message;
  EXPECT_EQ(r.object_name, "Contact");

  d.relationship_names.push_back("Parent__r");
  EXPECT_EQ(missing_fields(m, d), (std::vector<std::string>{"Gone__c"}));

  d.object_exists = false;
  EXPECT_EQ(rule_fields_exist(m, d).status, diagnose_status::error);
  d.object_exists = true;
  d.skip_reason = "no login";
  EXPECT_EQ(rule_fields_exist(m, d).status, diagnose_status::skip);
}

TEST(diagnose_rules, the_upsert_field_check_reports_write_problems) {
  auto m = contact_mapping();
  m.access = mapping_access::read_write;
  m.upsert_field = "Ext__c";
  auto d = contact_describe();
  EXPECT_EQ(rule_upsert_field(m, d, {}).status, diagnose_status::pass);
  auto r = rule_upsert_field(m, d, {"upsert_field Ext__c must be a unique External ID field in Salesforce"});
  EXPECT_EQ(r.status, diagnose_status::error);
  EXPECT_TRUE(contains(r.message, "Ext__c must be")) << r.message;
  d.skip_reason = "no login";
  EXPECT_EQ(rule_upsert_field(m, d, {}).status, diagnose_status::skip);
}

TEST(diagnose_rules, polling_must_stay_in_bounds_and_within_the_mapping_budget) {
  auto m = contact_mapping();
  m.sf_polling_seconds = 600;
  EXPECT_EQ(rule_polling(m).status, diagnose_status::pass);
  m.sf_polling_seconds = 30;
  auto r = rule_polling(m);
  EXPECT_EQ(r.status, diagnose_status::error);
  EXPECT_TRUE(contains(r.message, "120..3600")) << r.message;
  m.sf_polling_seconds = 120;
  m.sf_max_daily_api_calls = 100;
  EXPECT_EQ(rule_polling(m).status, diagnose_status::warning) << "720 polls a day";
  m.sf_max_daily_api_calls = 1000;
  EXPECT_EQ(rule_polling(m).status, diagnose_status::pass);
}

TEST(diagnose_rules, a_unique_index_held_back_by_duplicates_is_an_error_naming_them) {
  unique_index_facts f;
  f.object_name = "Contact";
  f.qualified_table = "salesforce.contact";
  f.table_exists = true;
  f.unique_columns = {"external_id__c"};
  auto ok = rule_unique_indexes(f);
  EXPECT_EQ(ok.status, diagnose_status::pass);
  EXPECT_TRUE(contains(ok.message, "external_id__c")) << ok.message;
  f.problems = {"cannot make hcu_idx_contact_external_id__c on salesforce.contact unique: 1 value of external_id__c "
                "is held by more than one row ('x1' (2 rows))"};
  auto bad = rule_unique_indexes(f);
  EXPECT_EQ(bad.status, diagnose_status::error);
  EXPECT_TRUE(contains(bad.message, "'x1' (2 rows)")) << bad.message;
  EXPECT_EQ(bad.object_name, "Contact");
  EXPECT_TRUE(contains(bad.hint, "HAVING count(*) > 1")) << bad.hint;
  f.table_exists = false;
  auto later = rule_unique_indexes(f);
  EXPECT_EQ(later.status, diagnose_status::skip);
  EXPECT_FALSE(later.hint.empty());
  f.table_exists = true;
  f.unique_columns.clear();
  f.problems.clear();
  EXPECT_EQ(rule_unique_indexes(f).status, diagnose_status::pass);
}
