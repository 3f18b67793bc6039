#include "salesforce/error.hpp"

#include <gtest/gtest.h>

using namespace syncforce::salesforce;

TEST(error_mapping, rest_error_array) {
  auto e = error_from_response(
    400, R"([{"message":"No such column 'Foo' on entity 'Account'.","errorCode":"INVALID_FIELD","fields":["Foo"]}])");
  EXPECT_EQ(e.kind, error_kind::invalid_field);
  EXPECT_EQ(e.code, "INVALID_FIELD");
  EXPECT_EQ(e.message, "No such column 'Foo' on entity 'Account'.");
  ASSERT_EQ(e.fields.size(), 1u);
  EXPECT_EQ(e.fields[0], "Foo");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_FALSE(e.retryable());
}

TEST(error_mapping, each_documented_code) {
  struct row {
    long status;
    const char* code;
    error_kind kind;
  };
  const row rows[] = {
    {401, "INVALID_SESSION_ID", error_kind::invalid_session},
    {403, "REQUEST_LIMIT_EXCEEDED", error_kind::request_limit},
    {400, "MALFORMED_QUERY", error_kind::malformed_query},
    {400, "INVALID_QUERY_LOCATOR", error_kind::invalid_query_locator},
    {400, "INVALID_TYPE", error_kind::invalid_type},
    {404, "NOT_FOUND", error_kind::not_found},
    {400, "REQUIRED_FIELD_MISSING", error_kind::permanent_record_error},
    {400, "DUPLICATE_VALUE", error_kind::permanent_record_error},
    {400, "ENTITY_IS_DELETED", error_kind::permanent_record_error},
    {400, "STRING_TOO_LONG", error_kind::permanent_record_error},
    {412, "JOB_NOT_COMPLETE", error_kind::job_not_complete},
    {503, "SERVER_UNAVAILABLE", error_kind::transient},
    {400, "SOMETHING_ELSE", error_kind::permanent},
  };
  for (auto& r : rows) {
    std::string body = std::string(R"([{"message":"m","errorCode":")") + r.code + R"("}])";
    auto e = error_from_response(r.status, body);
    EXPECT_EQ(e.kind, r.kind) << r.code;
    EXPECT_EQ(e.code, r.code);
  }
}

TEST(error_mapping, oauth_error) {
  auto e = error_from_response(400, R"({"error":"invalid_grant","error_description":"authentication failure"})");
  EXPECT_EQ(e.kind, error_kind::auth);
  EXPECT_EQ(e.code, "invalid_grant");
  EXPECT_EQ(e.message, "authentication failure");
}

TEST(error_mapping, status_decides_without_a_json_error) {
  EXPECT_EQ(error_from_response(503, "<html>Service Unavailable</html>").kind, error_kind::transient);
  EXPECT_EQ(error_from_response(500, "").kind, error_kind::transient);
  EXPECT_EQ(error_from_response(429, "").kind, error_kind::request_limit);
  EXPECT_EQ(error_from_response(404, "").kind, error_kind::not_found);
  EXPECT_EQ(error_from_response(401, "").kind, error_kind::invalid_session);
  EXPECT_EQ(error_from_response(300, R"(["/services/data/v60.0/sobjects/Account/001A","/x/001B"])").kind,
            error_kind::multiple_matches);
  EXPECT_EQ(error_from_response(400, "garbage").kind, error_kind::permanent);
  auto e = error_from_response(502, "bad\ngateway");
  EXPECT_EQ(e.message, "bad gateway");
  EXPECT_TRUE(e.retryable());
}

TEST(error_mapping, per_record_status_codes) {
  auto e = error_from_response(
    400, R"([{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [Name]","fields":["Name"]}])");
  EXPECT_EQ(e.kind, error_kind::permanent_record_error);
  EXPECT_EQ(e.fields, std::vector<std::string>{"Name"});
  EXPECT_EQ(kind_of_code("ALL_OR_NONE_OPERATION_ROLLED_BACK", 0), error_kind::rolled_back);
  EXPECT_TRUE(is_retryable(error_kind::rolled_back));
}

TEST(error_mapping, describe_is_readable) {
  sf_error e;
  e.kind = error_kind::invalid_field;
  e.code = "INVALID_FIELD";
  e.message = "bad";
  e.http_status = 400;
  e.fields = {"A", "B"};
  EXPECT_EQ(e.describe(), "INVALID_FIELD (400): bad [A,B]");
  EXPECT_EQ(to_string(error_kind::invalid_query_locator), "invalid_query_locator");
}
