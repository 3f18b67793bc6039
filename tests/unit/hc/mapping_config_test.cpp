#include "sync/mapping_config.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

namespace {

// The reference's full export example (section 8).
const char* full_example = R"({"version": 1,
 "connection": {"app_name": "my-app", "organization_id": "00D000000000001AAA",
   "exported_at": "2023-02-15T17:13:42.743308+00:00",
   "features": {"disable_bulk_writes": false, "poll_db_no_merge": true, "poll_external_ids": false,
                "rest_count_only": false, "ucs_basic_collation_index": false},
   "api_version": "57.0", "name": "APP:DATABASE_URL:gus", "logplex_log_enabled": false},
 "mappings": [{"object_name": "agf__ADM_Work__c",
   "config": {"access": "read_write", "sf_notify_enabled": false, "sf_polling_seconds": 600,
     "sf_max_daily_api_calls": 30000, "upsert_field": "agf__External_ID__c",
     "applied_at": "2023-02-14T01:40:34.070538Z",
     "fields": {"Id": {}, "IsDeleted": {}, "SystemModstamp": {}, "CreatedDate": {}, "Name": {}, "agf__External_ID__c": {}},
     "indexes": {"Id": {"unique": true}, "SystemModstamp": {"unique": false}, "agf__External_ID__c": {"unique": true}}}}]})";

bool has_error(const config_parse_result& r, const std::string& text) {
  for (const auto& e : r.errors)
    if (e.to_string() == text)
      return true;
  return false;
}

} // namespace

TEST(mapping_config, parses_full_example) {
  auto r = parse_config(full_example);
  ASSERT_TRUE(r.ok()) << r.error_text();
  EXPECT_TRUE(r.warnings.empty());
  const auto& doc = *r.document;
  ASSERT_TRUE(doc.connection.has_value());
  EXPECT_EQ(doc.connection->organization_id, "00D000000000001AAA");
  EXPECT_EQ(doc.connection->api_version, "57.0");
  EXPECT_EQ(doc.connection->name, "APP:DATABASE_URL:gus");
  ASSERT_TRUE(doc.connection->features.has_value());
  EXPECT_TRUE(doc.connection->features->poll_db_no_merge);
  EXPECT_FALSE(doc.connection->features->disable_bulk_writes);
  ASSERT_EQ(doc.mappings.size(), 1u);
  const auto& m = doc.mappings[0];
  EXPECT_EQ(m.object_name, "agf__ADM_Work__c");
  EXPECT_EQ(m.table_name(), "agf__adm_work__c");
  EXPECT_EQ(m.access, mapping_access::read_write);
  EXPECT_EQ(m.sf_polling_seconds, 600);
  EXPECT_EQ(m.sf_max_daily_api_calls, 30000);
  EXPECT_EQ(m.upsert_field, "agf__External_ID__c");
  std::vector<std::string> fields{"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name",
                                  "agf__External_ID__c"};
  EXPECT_EQ(m.fields, fields); // document order kept
  ASSERT_EQ(m.indexes.size(), 3u);
  EXPECT_EQ(m.indexes[2].field, "agf__External_ID__c");
  EXPECT_TRUE(m.indexes[2].unique);
  EXPECT_FALSE(m.indexes[1].unique);
}

TEST(mapping_config, parses_minimal_document_with_defaults) {
  auto r = parse_config(
    R"({"mappings": [{"object_name": "Contact", "config": {"access": "read_only", "fields": {"Id": {}, "Name": {}}}}], "version": 1})");
  ASSERT_TRUE(r.ok()) << r.error_text();
  const auto& m = r.document->mappings.at(0);
  EXPECT_EQ(m.sf_polling_seconds, 600);
  EXPECT_FALSE(m.sf_notify_enabled);
  EXPECT_EQ(m.access, mapping_access::read_only);
  EXPECT_FALSE(r.document->connection.has_value());
  EXPECT_FALSE(m.upsert_field.has_value());
}

TEST(mapping_config, round_trips) {
  auto r = parse_config(full_example);
  ASSERT_TRUE(r.ok()) << r.error_text();
  auto text = serialize_config(*r.document);
  auto again = parse_config(text);
  ASSERT_TRUE(again.ok()) << again.error_text() << "\n" << text;
  EXPECT_EQ(*again.document, *r.document);
  EXPECT_EQ(serialize_config(*again.document), text);
  // Compact form too, and a single mapping.
  auto compact = parse_config(serialize_config(*r.document, -1));
  ASSERT_TRUE(compact.ok());
  EXPECT_EQ(*compact.document, *r.document);
  auto one = parse_mapping(serialize_mapping(r.document->mappings[0]));
  ASSERT_TRUE(one.ok()) << one.error_text();
  EXPECT_EQ(one.document->mappings.at(0), r.document->mappings[0]);
}

TEST(mapping_config, never_serializes_unknown_keys_such_as_secrets) {
  auto r = parse_config(
    R"({"version": 1, "connection": {"name": "x", "password": "hunter2", "client_secret": "s3cr3t"},
        "mappings": []})");
  ASSERT_TRUE(r.ok()) << r.error_text();
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0].path, "connection.password");
  for (const auto& w : r.warnings)
    EXPECT_EQ(w.to_string().find("hunter2"), std::string::npos);
  auto text = serialize_config(*r.document);
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_EQ(text.find("password"), std::string::npos);
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos);
}

TEST(mapping_config, reports_every_problem_with_its_path) {
  auto r = parse_config(R"({"version": 2,
    "connection": {"organization_id": "bad", "api_version": "v57", "features": {"poll_db_no_merge": "yes"}},
    "mappings": [
      {"object_name": "Contact", "config": {"access": "read_write", "fields": {"Id": {}, "Email": {}}, "upsert_field": "Email"}},
      {"object_name": "Account", "config": {"access": "write", "fields": {"Name": {}}}},
      {"object_name": "Lead", "config": {"access": "read_only", "sf_polling_seconds": 60, "fields": {"Id": {}}}},
      {"object_name": "Case", "config": {"access": "read_only", "sf_polling_seconds": "600", "sf_max_daily_api_calls": -1,
         "fields": {"Id": {}, "id": {}}, "upsert_field": "Nope__c", "indexes": {"Other__c": {"unique": true}, "Id": true}}},
      {"object_name": "contact", "config": {"access": "read_only", "fields": {"Id": {}}}},
      {"config": {"access": "read_only", "fields": {"Id": {}}}},
      "not an object"
    ]})");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.document.has_value());
  const std::vector<std::string> expected{
    "version: 2 is not a supported version (1)",
    "connection.api_version: \"v57\" is not an API version like \"57.0\"",
    "connection.features.poll_db_no_merge: must be true or false, not \"yes\"",
    "mappings[1].config.access: \"write\" is not read_only or read_write",
    "mappings[1].config.fields: must include Id",
    "mappings[2].config.sf_polling_seconds: 60 is outside 120..3600",
    "mappings[3].config.sf_polling_seconds: must be an integer, not \"600\"",
    "mappings[3].config.sf_max_daily_api_calls: -1 is negative",
    "mappings[3].config.fields.id: maps to the same column 'sfid' as Id",
    "mappings[3].config.upsert_field: \"Nope__c\" is not one of the mapped fields",
    "mappings[3].config.indexes.Other__c: indexes a field that is not mapped",
    "mappings[3].config.indexes.Id: must be an object like {\"unique\": false}, not a boolean",
    "mappings[4].object_name: maps the same table 'contact' as mappings[0]",
    "mappings[5].object_name: is required",
    "mappings[6]: must be an object, not a string",
  };
  for (const auto& e : expected)
    EXPECT_TRUE(has_error(r, e)) << "missing: " << e << "\ngot:\n" << r.error_text();
  EXPECT_EQ(r.errors.size(), expected.size()) << r.error_text();
  // Informational in an import: a malformed organization id is only a warning.
  bool warned = false;
  for (const auto& w : r.warnings)
    warned = warned || w.to_string() == "connection.organization_id: \"bad\" is not a 15- or 18-character organization id";
  EXPECT_TRUE(warned);
  // The mappings that could be read are kept for further checks (against Salesforce).
  std::vector<std::string> readable;
  for (const auto& m : r.readable)
    readable.push_back(m.path + " " + m.config.object_name);
  EXPECT_EQ(readable, (std::vector<std::string>{"mappings[0] Contact", "mappings[1] Account", "mappings[2] Lead",
                                                "mappings[3] Case", "mappings[4] contact"}));
}

TEST(mapping_config, rejects_non_json_and_wrong_shapes) {
  auto r = parse_config("{not json");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("not valid JSON"), std::string::npos);
  auto arr = parse_config("[]");
  EXPECT_FALSE(arr.ok());
  auto missing = parse_config("{}");
  EXPECT_TRUE(has_error(missing, "version: is required (1)")) << missing.error_text();
  EXPECT_TRUE(has_error(missing, "mappings: is required")) << missing.error_text();
  auto bad_range = parse_config(
    R"({"version":1,"mappings":[{"object_name":"A","config":{"access":"read_only","sf_polling_seconds":3601,"fields":{"Id":{}}}}]})");
  EXPECT_TRUE(has_error(bad_range, "mappings[0].config.sf_polling_seconds: 3601 is outside 120..3600"))
    << bad_range.error_text();
  auto edge = parse_config(
    R"({"version":1,"mappings":[{"object_name":"A","config":{"access":"read_only","sf_polling_seconds":120,"fields":{"Id":{}}}}]})");
  ASSERT_TRUE(edge.ok()) << edge.error_text();
  EXPECT_EQ(edge.document->mappings[0].sf_polling_seconds, 120);
}
