// Issue 12, item 6: an import (or config file, or mapping config) with numbers out
// of range, wrong types, huge integers, duplicate keys or deep nesting answers
// validation problems with their JSON paths, never an exception (which the admin
// API turned into an INTERNAL error).

#include "sync/admin_rules.hpp"
#include "sync/engine_config.hpp"
#include "sync/json_input.hpp"
#include "sync/mapping_config.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace syncforce;

namespace {

std::string all_text(const std::vector<config_problem>& problems) {
  std::string s;
  for (const auto& p : problems)
    s += p.to_string() + "\n";
  return s;
}

/// A one-mapping import whose config has `extra` spliced in (e.g. `"sf_polling_seconds": 1e400`).
std::string import_with(const std::string& extra) {
  return R"({"version": 1, "mappings": [{"object_name": "Contact", "config": {"access": "read_only", )" + extra +
         R"(, "fields": {"Id": {}, "LastName": {}}}}]})";
}

bool has_problem(const std::vector<config_problem>& problems, const std::string& path, const std::string& words) {
  for (const auto& p : problems)
    if (p.path == path && p.message.find(words) != std::string::npos)
      return true;
  return false;
}

} // namespace

// ---- parse_json_input ------------------------------------------------------------

TEST(json_input, a_number_beyond_a_double_is_a_problem_at_its_path) {
  auto r = parse_json_input(R"({"mappings": [{"config": {"sf_polling_seconds": 1e400}}]})");
  EXPECT_FALSE(r.value);
  ASSERT_EQ(r.errors.size(), 1u) << all_text(r.errors);
  EXPECT_EQ(r.errors[0].path, "mappings[0].config.sf_polling_seconds");
  EXPECT_EQ(r.errors[0].message, "the number 1e400 is out of range");
  auto negative = parse_json_input("[1, 2, -1E+999]");
  ASSERT_EQ(negative.errors.size(), 1u);
  EXPECT_EQ(negative.errors[0].path, "[2]");
  EXPECT_NE(negative.errors[0].message.find("-1E+999"), std::string::npos);
}

TEST(json_input, syntax_errors_say_where) {
  for (const char* text : {"", "{", R"({"a": NaN})", R"({"a": Infinity})", R"({"a": 01})", "[1,]", R"({"a" 1})",
                           "\"\xff\"", R"({"a": "\u0000"} x)"}) {
    auto r = parse_json_input(text);
    EXPECT_FALSE(r.value) << text;
    ASSERT_FALSE(r.errors.empty()) << text;
    EXPECT_FALSE(r.errors[0].message.empty()) << text;
  }
  auto r = parse_json_input(R"({"mappings": [{"config": {"access": NaN}}]})");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "mappings[0].config.access");
  EXPECT_NE(r.errors[0].message.find("not valid JSON at byte"), std::string::npos) << r.errors[0].message;
  EXPECT_EQ(r.errors[0].message.find("[json.exception"), std::string::npos) << "library noise in " << r.errors[0].message;
}

TEST(json_input, nesting_beyond_the_limit_is_refused_without_recursion) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = parse_json_input(deep);
  EXPECT_FALSE(r.value);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("deeper than 64 levels"), std::string::npos) << r.errors[0].message;
  auto ok = parse_json_input(std::string(64, '[') + std::string(64, ']'));
  EXPECT_TRUE(ok.value) << all_text(ok.errors);
}

TEST(json_input, a_key_given_twice_is_a_problem) {
  auto r = parse_json_input(R"({"mappings": [{"config": {"fields": {"Id": {}, "Id": {}}}}]})");
  EXPECT_FALSE(r.value);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "mappings[0].config.fields.Id");
  EXPECT_EQ(r.errors[0].message, "is given twice in the same object");
}

TEST(json_input, too_many_members_are_refused) {
  json_input_limits limits;
  limits.max_members = 3;
  EXPECT_TRUE(parse_json_input("[1,2,3]", limits).value);
  auto r = parse_json_input(R"({"a": [1,2,3,4]})", limits);
  EXPECT_FALSE(r.value);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "a");
  EXPECT_EQ(r.errors[0].message, "has more than 3 members");
}

TEST(json_input, keeps_the_document_order_and_values) {
  auto r = parse_json_input(R"({"b": 1, "a": [true, null, "x", 2.5, -3, 18446744073709551615]})");
  ASSERT_TRUE(r.value) << all_text(r.errors);
  EXPECT_EQ(r.value->dump(), R"({"b":1,"a":[true,null,"x",2.5,-3,18446744073709551615]})");
}

// ---- parse_config -----------------------------------------------------------------

TEST(import_numbers, out_of_range_wrong_typed_and_huge_numbers_are_validation_problems) {
  const std::string path = "mappings[0].config.sf_polling_seconds";
  auto inf = parse_config(import_with(R"("sf_polling_seconds": 1e400)"));
  EXPECT_FALSE(inf.ok());
  EXPECT_TRUE(has_problem(inf.errors, path, "out of range")) << all_text(inf.errors);

  auto huge = parse_config(import_with(R"("sf_polling_seconds": 99999999999999999999999999)"));
  EXPECT_TRUE(has_problem(huge.errors, path, "must be an integer")) << all_text(huge.errors);

  auto unsigned_huge = parse_config(import_with(R"("sf_polling_seconds": 18446744073709551615)"));
  EXPECT_TRUE(has_problem(unsigned_huge.errors, path, "too large")) << all_text(unsigned_huge.errors);

  auto below = parse_config(import_with(R"("sf_polling_seconds": -9223372036854775808)"));
  EXPECT_TRUE(has_problem(below.errors, path, "is outside 120..3600")) << all_text(below.errors);

  auto fraction = parse_config(import_with(R"("sf_polling_seconds": 600.5)"));
  EXPECT_TRUE(has_problem(fraction.errors, path, "must be an integer")) << all_text(fraction.errors);

  auto text = parse_config(import_with(R"("sf_polling_seconds": "600")"));
  EXPECT_TRUE(has_problem(text.errors, path, "must be an integer")) << all_text(text.errors);

  auto nested = parse_config(import_with(R"("sf_polling_seconds": [[[[600]]]])"));
  EXPECT_TRUE(has_problem(nested.errors, path, "must be an integer")) << all_text(nested.errors);

  auto calls = parse_config(import_with(R"("sf_max_daily_api_calls": 1.7976931348623157e308)"));
  EXPECT_TRUE(has_problem(calls.errors, "mappings[0].config.sf_max_daily_api_calls", "must be an integer"))
    << all_text(calls.errors);
}

TEST(import_numbers, a_numeric_api_version_out_of_range_is_a_problem_not_undefined_behaviour) {
  auto doc = [](const std::string& version) {
    return parse_config(R"({"version": 1, "connection": {"api_version": )" + version + R"(}, "mappings": []})");
  };
  for (const char* bad : {"1e308", "-57", "0.5", "1000", "[57]", "true"}) {
    auto r = doc(bad);
    EXPECT_TRUE(has_problem(r.errors, "connection.api_version", "is not an API version")) << bad << "\n"
                                                                                          << all_text(r.errors);
  }
  auto ok = doc("57");
  ASSERT_TRUE(ok.ok()) << ok.error_text();
  EXPECT_EQ(ok.document->connection->api_version, std::optional<std::string>{"57.0"});
  auto rounded = doc("57.96");
  ASSERT_TRUE(rounded.ok()) << rounded.error_text();
  EXPECT_EQ(rounded.document->connection->api_version, std::optional<std::string>{"58.0"});
}

TEST(import_numbers, the_version_key_takes_any_number_without_throwing) {
  for (const char* v : {"18446744073709551615", "-1", "1.0", "1e400", "\"1\""}) {
    auto r = parse_config(std::string{R"({"version": )"} + v + R"(, "mappings": []})");
    EXPECT_FALSE(r.ok()) << v;
    EXPECT_FALSE(r.errors.empty()) << v;
    EXPECT_EQ(r.errors[0].path, "version") << v << ": " << all_text(r.errors);
  }
}

TEST(import_numbers, deep_nesting_in_an_import_is_one_problem) {
  auto r = parse_config(R"({"version": 1, "mappings": [{"object_name": "Contact", "config": )" +
                        std::string(5000, '[') + std::string(5000, ']') + "}]}");
  ASSERT_EQ(r.errors.size(), 1u) << all_text(r.errors);
  EXPECT_EQ(r.errors[0].path.rfind("mappings[0].config", 0), 0u) << r.errors[0].path;
}

TEST(import_numbers, parse_mapping_prefixes_json_problems_with_its_path) {
  auto r = parse_mapping(R"({"object_name": "Contact", "config": {"sf_polling_seconds": 1e999}})", "Contact");
  ASSERT_EQ(r.errors.size(), 1u) << all_text(r.errors);
  EXPECT_EQ(r.errors[0].path, "Contact.config.sf_polling_seconds");
}

// ---- the node's configuration file ---------------------------------------------------

TEST(engine_config_numbers, out_of_range_numbers_and_nesting_are_problems_with_paths) {
  auto r = parse_engine_config(R"({"connections": [{"salesforce": {"login_url": 1e400}}]})");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << r.error_text();
  EXPECT_EQ(r.errors[0].path, "connections[0].salesforce.login_url");
  auto deep = parse_engine_config(std::string(10000, '{') + "}");
  EXPECT_FALSE(deep.ok());
  EXPECT_FALSE(deep.errors.empty());
  auto typed = parse_engine_config(R"({"version": 1, "schema": 5, "salesforce": {"login_url": ["x"],
    "username": {}, "password_env": 7, "auth": null}, "mappings": [{"object_name": "Contact",
    "config": {"access": "read_only", "sf_polling_seconds": 1.5e300, "fields": {"Id": {}}}}]})");
  EXPECT_FALSE(typed.ok());
  EXPECT_TRUE(has_problem(typed.errors, "schema", "non-empty string")) << typed.error_text();
  EXPECT_TRUE(has_problem(typed.errors, "salesforce.login_url", "non-empty string")) << typed.error_text();
  EXPECT_TRUE(has_problem(typed.errors, "salesforce.password_env", "environment variable")) << typed.error_text();
  EXPECT_TRUE(has_problem(typed.errors, "mappings[0].config.sf_polling_seconds", "must be an integer"))
    << typed.error_text();
}

// ---- admin request fields ---------------------------------------------------------

TEST(mapping_request_numbers, a_config_json_with_bad_numbers_is_a_problem) {
  mapping_request req;
  req.object_name = "Contact";
  req.config_json = R"({"access": "read_only", "sf_polling_seconds": 1e400, "fields": {"Id": {}}})";
  auto r = build_mapping(req, "Contact");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(has_problem(r.problems, "Contact.config.sf_polling_seconds", "out of range")) << all_text(r.problems);
  req.config_json = std::string(1000, '[');
  r = build_mapping(req, "Contact");
  EXPECT_FALSE(r.config);
  EXPECT_FALSE(r.problems.empty());
}

TEST(mapping_request_numbers, bytes_that_are_not_utf8_in_request_fields_are_problems) {
  mapping_request req;
  req.object_name = "Con\xfftact";
  req.fields = {"Last\xc3Name"};
  auto r = build_mapping(req, "Contact");
  EXPECT_FALSE(r.config);
  EXPECT_FALSE(r.problems.empty());
}

TEST(login_checks, very_long_usernames_and_login_urls_are_refused_without_being_echoed) {
  std::vector<config_problem> out;
  check_username("username", std::string(10000, 'u') + "@example.com", out);
  check_login_url("login_url", "https://" + std::string(10000, 'h') + ".example.com", out);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& p : out)
    EXPECT_LT(p.message.size(), 200u) << p.path;
}
