#include "salesforce/describe.hpp"
#include "salesforce/records.hpp"

#include <gtest/gtest.h>

using namespace syncforce::salesforce;

TEST(page_parsing, flat_records_keep_wire_types) {
  std::string body = R"({"totalSize":2,"done":true,"records":[
    {"attributes":{"type":"Account","url":"/services/data/v60.0/sobjects/Account/001A"},
     "Id":"001A","Name":"Acme \"Q\" \u00e9","AnnualRevenue":12345678901234.56,"NumberOfEmployees":42,
     "IsDeleted":false,"Description":null},
    {"attributes":{"type":"Account","url":"/x"},"Id":"001B","Name":"B","AnnualRevenue":1e3,
     "NumberOfEmployees":0,"IsDeleted":true,"Description":"d"}]})";
  page_parser parser;
  auto page = parser.parse(body);
  ASSERT_TRUE(page) << page.error();
  EXPECT_EQ(page->total_size, 2);
  EXPECT_TRUE(page->done);
  EXPECT_TRUE(page->next_records_url.empty());
  ASSERT_EQ(page->records.size(), 2u);
  auto& a = page->records[0];
  EXPECT_EQ(a.sobject_type, "Account");
  ASSERT_EQ(a.fields.size(), 6u);
  EXPECT_EQ(a.fields[0].first, "Id");
  EXPECT_EQ(*a.find("Name"), field_value::string("Acme \"Q\" \xc3\xa9"));
  EXPECT_EQ(*a.find("AnnualRevenue"), field_value::number("12345678901234.56"));
  EXPECT_EQ(*a.find("numberofemployees"), field_value::number("42"));
  EXPECT_EQ(*a.find("IsDeleted"), field_value::boolean(false));
  EXPECT_TRUE(a.find("Description")->is_null());
  EXPECT_EQ(a.find("Missing"), nullptr);
  auto& b = page->records[1];
  EXPECT_EQ(b.text("AnnualRevenue"), "1e3");
  EXPECT_TRUE(b.find("IsDeleted")->as_bool());
}

TEST(page_parsing, relationships_are_flattened) {
  std::string body = R"({"totalSize":3,"done":false,
    "nextRecordsUrl":"/services/data/v60.0/query/01gD0000002HU6KIAW-2000",
    "records":[
    {"attributes":{"type":"Contact","url":"/c/1"},"Id":"003A",
     "Account":{"attributes":{"type":"Account","url":"/a/1"},"Name":"Acme",
                "Owner":{"attributes":{"type":"User","url":"/u"},"Email":"o@example.com"}}},
    {"attributes":{"type":"Contact","url":"/c/2"},"Id":"003B","Account":null},
    {"attributes":{"type":"Contact","url":"/c/3"},"Id":"003C","Tags":["a","b"],
     "MailingAddress":{"city":"Paris","country":"FR"}}]})";
  page_parser parser;
  auto page = parser.parse(body);
  ASSERT_TRUE(page) << page.error();
  EXPECT_FALSE(page->done);
  EXPECT_EQ(page->next_records_url, "/services/data/v60.0/query/01gD0000002HU6KIAW-2000");
  EXPECT_EQ(locator_of(page->next_records_url), "01gD0000002HU6KIAW-2000");
  auto& c1 = page->records[0];
  EXPECT_EQ(c1.sobject_type, "Contact");
  EXPECT_EQ(c1.text("Account.Name"), "Acme");
  EXPECT_EQ(c1.text("Account.Owner.Email"), "o@example.com");
  EXPECT_EQ(c1.find("Account.attributes"), nullptr);
  EXPECT_EQ(c1.fields.size(), 3u);
  auto& c2 = page->records[1];
  ASSERT_NE(c2.find("Account"), nullptr);
  EXPECT_TRUE(c2.find("Account")->is_null());
  auto& c3 = page->records[2];
  EXPECT_EQ(c3.find("Tags")->type, value_type::json);
  EXPECT_EQ(c3.text("Tags"), R"(["a","b"])");
  EXPECT_EQ(c3.text("MailingAddress.city"), "Paris");
}

TEST(page_parsing, count_query_and_empty_pages) {
  page_parser parser;
  auto page = parser.parse(R"({"totalSize":17,"done":true,"records":[]})");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total_size, 17);
  EXPECT_TRUE(page->records.empty());
}

TEST(page_parsing, malformed_pages_are_protocol_errors) {
  page_parser parser;
  for (std::string bad : {"", "[]", "{\"totalSize\":1,\"done\":true}", "{\"records\":[1]}",
                          "{\"totalSize\":1,\"done\":true,\"records\":[{\"Id\":\"x\"}"}) {
    auto page = parser.parse(bad);
    ASSERT_FALSE(page) << bad;
    EXPECT_EQ(page.error().kind, error_kind::protocol);
  }
}

TEST(page_parsing, parser_is_reusable_with_and_without_padding) {
  page_parser parser;
  std::string small = R"({"totalSize":1,"done":true,"records":[{"attributes":{"type":"A"},"Id":"1"}]})";
  small.shrink_to_fit();
  for (int i = 0; i < 3; ++i) {
    auto page = parser.parse(small);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->records[0].text("Id"), "1");
  }
  std::string padded = small;
  padded.reserve(padded.size() + 128);
  auto page = parser.parse(padded);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->records[0].sobject_type, "A");
}

// A load decodes pages with parse_each (views, no record per row); every
// wanted field must read as record::text reads it from parse's records.
TEST(page_parsing, values_handed_over_are_those_of_the_parsed_records) {
  const std::string body = R"({"totalSize":4,"done":false,"nextRecordsUrl":"/services/data/v60.0/query/01g-2000",
    "records":[
    {"attributes":{"type":"Contact","url":"/x"},"Id":"003A","Name":"tab\tnew\nline \\ \"q\" \u00e9\u0000!",
     "Amount__c":1.50e+3 ,"Flag__c":true,"Empty__c":"","Nothing__c":null,"Tags__c":[1, "a", {"b":2}] ,
     "Account":{"attributes":{"type":"Account"},"External_Id__c":"ext-1","Owner":{"attributes":{},"Email":"o@x"}},
     "Loc__c":{"latitude":48.85,"longitude":-2.5}},
    {"attributes":{"type":"Contact","url":"/y"},"Id":"003B","Name":"B","Amount__c":-0,"Flag__c":false,
     "Empty__c":"x","Nothing__c":"now set","Tags__c":[],"Account":null,"Loc__c":null},
    {"attributes":{"type":"Contact","url":"/z"},"Name":"fields in another order","Id":"003C",
     "Account":{"attributes":{},"External_Id__c":null,"Owner":null},"Flag__c":null},
    {"attributes":{"type":"Contact","url":"/w"},"Id":"003D","NAME":"upper-case key","amount__c":7}]})";
  const std::vector<std::string> wanted{"Id",      "Name",   "Amount__c", "Flag__c",       "Empty__c",
                                        "Nothing__c", "Tags__c", "account.external_id__c", "Account.Owner.Email",
                                        "Loc__c.latitude", "Account", "Absent__c"};
  page_parser parser;
  auto page = parser.parse(body);
  ASSERT_TRUE(page) << page.error();
  ASSERT_EQ(page->records.size(), 4u);
  std::vector<std::vector<std::string>> expected;
  for (const auto& r : page->records) {
    std::vector<std::string> row;
    for (const auto& w : wanted)
      row.emplace_back(r.text(w));
    expected.push_back(row);
  }
  std::vector<std::vector<std::string>> got;
  page_parser each; // twice: the second page reuses what the first learnt of the fields' positions
  for (int round = 0; round < 2; ++round) {
    got.clear();
    auto streamed = each.parse_each(body, wanted, [&](const std::vector<std::string_view>& values) {
      got.emplace_back(values.begin(), values.end());
    });
    ASSERT_TRUE(streamed) << streamed.error();
    EXPECT_TRUE(streamed->records.empty());
    EXPECT_EQ(streamed->streamed, 4u);
    EXPECT_EQ(streamed->total_size, 4);
    EXPECT_FALSE(streamed->done);
    EXPECT_EQ(streamed->next_records_url, page->next_records_url);
    EXPECT_EQ(got, expected) << "round " << round;
  }
  // Some values spelled out, so that both cannot be wrong together.
  EXPECT_EQ(got[0][1], std::string("tab\tnew\nline \\ \"q\" \xc3\xa9\0!", 23));
  EXPECT_EQ(got[0][2], "1.50e+3");
  EXPECT_EQ(got[0][3], "true");
  EXPECT_EQ(got[0][6], R"([1, "a", {"b":2}])");
  EXPECT_EQ(got[0][7], "ext-1");
  EXPECT_EQ(got[0][8], "o@x");
  EXPECT_EQ(got[0][9], "48.85");
  EXPECT_EQ(got[1][7], "");
  EXPECT_EQ(got[2][0], "003C");
  EXPECT_EQ(got[3][1], "upper-case key");
  EXPECT_EQ(got[3][2], "7");

  // A malformed page is the same error either way.
  auto bad = each.parse_each(R"({"totalSize":1,"done":true,"records":[{"Id":"003A",}]})", wanted,
                             [](const std::vector<std::string_view>&) {});
  EXPECT_FALSE(bad);
}

TEST(describe_parsing, object_fields) {
  std::string body = R"({"name":"Contact","label":"Contact","keyPrefix":"003","custom":false,"createable":true,
    "fields":[
      {"name":"Id","type":"id","length":18,"nillable":false,"createable":false,"updateable":false,
       "defaultedOnCreate":true,"unique":false,"externalId":false,"calculated":false,"referenceTo":[],
       "relationshipName":null,"picklistValues":[]},
      {"name":"AccountId","type":"reference","length":18,"nillable":true,"createable":true,"updateable":true,
       "referenceTo":["Account"],"relationshipName":"Account","picklistValues":[]},
      {"name":"LastName","type":"string","length":80,"nillable":false,"createable":true,"updateable":true,
       "defaultedOnCreate":false},
      {"name":"Ext__c","type":"string","length":40,"nillable":true,"unique":true,"externalId":true,"idLookup":true},
      {"name":"LeadSource","type":"picklist","picklistValues":[
        {"value":"Web","label":"Web","active":true,"defaultValue":false},
        {"value":"Old","label":"Old","active":false,"defaultValue":false}]}],
    "childRelationships":[{"childSObject":"Case","field":"ContactId","relationshipName":"Cases","cascadeDelete":false}]})";
  auto d = parse_sobject_describe(body);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->name, "Contact");
  EXPECT_EQ(d->key_prefix, "003");
  ASSERT_EQ(d->fields.size(), 5u);
  auto* acc = d->find_field("accountid");
  ASSERT_NE(acc, nullptr);
  EXPECT_EQ(acc->type, "reference");
  EXPECT_EQ(acc->reference_to, std::vector<std::string>{"Account"});
  EXPECT_EQ(acc->relationship_name, "Account");
  EXPECT_TRUE(d->find_field("LastName")->required_on_create());
  EXPECT_FALSE(d->find_field("Id")->required_on_create());
  EXPECT_TRUE(d->find_field("Ext__c")->external_id);
  EXPECT_TRUE(d->find_field("Ext__c")->unique);
  auto* ls = d->find_field("LeadSource");
  ASSERT_EQ(ls->picklist_values.size(), 2u);
  EXPECT_FALSE(ls->picklist_values[1].active);
  ASSERT_EQ(d->child_relationships.size(), 1u);
  EXPECT_EQ(d->child_relationships[0].relationship_name, "Cases");
}

TEST(describe_parsing, global) {
  auto g = parse_global_describe(
    R"({"encoding":"UTF-8","maxBatchSize":200,"sobjects":[{"name":"Account","keyPrefix":"001","queryable":true,
        "replicateable":true},{"name":"Foo__c","custom":true,"keyPrefix":null}]})");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->sobjects.size(), 2u);
  ASSERT_NE(g->find("account"), nullptr);
  EXPECT_TRUE(g->find("Account")->replicateable);
  EXPECT_TRUE(g->find("Foo__c")->custom);
  EXPECT_TRUE(g->find("Foo__c")->key_prefix.empty());
  EXPECT_FALSE(parse_global_describe("{}"));
}
