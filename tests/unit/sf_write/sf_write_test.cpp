#include "sync/sf_write.hpp"

#include "sync/csv.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace syncforce;
using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

using kv = std::pair<std::string, std::optional<std::string>>;

hstore hs(std::initializer_list<kv> pairs) {
  hstore h;
  for (const auto& [k, v] : pairs)
    h.set(k, v);
  return h;
}

json js(pg_value_kind kind, std::optional<std::string> text) {
  auto v = to_sf_json(kind, text, "c");
  EXPECT_TRUE(v.ok()) << (v.error ? v.error->to_string() : "");
  return v.value;
}

std::optional<std::string> cs(pg_value_kind kind, std::optional<std::string> text) {
  auto v = to_sf_csv(kind, text, "c");
  EXPECT_TRUE(v.ok()) << (v.error ? v.error->to_string() : "");
  return v.text;
}

std::string json_error(pg_value_kind kind, const std::string& text, const std::string& column = "col") {
  auto v = to_sf_json(kind, text, column);
  EXPECT_FALSE(v.ok()) << text << " -> " << v.value.dump();
  auto c = to_sf_csv(kind, text, column);
  EXPECT_FALSE(c.ok()) << text;
  return v.error ? v.error->to_string() : std::string{};
}

/// A describe of Contact, in describe order, as the writer would get it.
std::vector<sf_field_rules> contact_describe() {
  auto f = [](std::string name, std::string type, bool nillable, bool createable, bool updateable) {
    sf_field_rules r;
    r.name = std::move(name);
    r.type = std::move(type);
    r.nillable = nillable;
    r.createable = createable;
    r.updateable = updateable;
    return r;
  };
  std::vector<sf_field_rules> d;
  d.push_back(f("Id", "id", false, false, false));
  d.push_back(f("IsDeleted", "boolean", false, false, false));
  auto account = f("AccountId", "reference", true, true, true);
  account.relationship_name = "Account";
  d.push_back(account);
  d.push_back(f("LastName", "string", false, true, true));
  d.push_back(f("FirstName", "string", true, true, true));
  d.push_back(f("Name", "string", false, false, false)); // compound, not createable
  d.push_back(f("Email", "email", true, true, true));
  d.push_back(f("DoNotCall", "boolean", false, true, true));
  auto owner = f("OwnerId", "reference", false, true, true);
  owner.defaulted_on_create = true;
  owner.relationship_name = "Owner";
  d.push_back(owner);
  d.push_back(f("CreatedDate", "datetime", false, true, false)); // audit fields permission
  d.push_back(f("SystemModstamp", "datetime", false, false, false));
  d.push_back(f("Birthdate", "date", true, true, true));
  auto score = f("Score__c", "double", true, false, false);
  score.calculated = true; // formula
  d.push_back(score);
  auto ext = f("Ext__c", "string", true, true, true);
  ext.external_id = true;
  ext.unique = true;
  d.push_back(ext);
  auto once = f("Source__c", "string", true, true, false); // createable only
  d.push_back(once);
  auto parent = f("Parent_Contact__c", "reference", true, true, true);
  parent.relationship_name = "Parent_Contact__r";
  d.push_back(parent);
  return d;
}

mapping_config contact_mapping() {
  mapping_config m;
  m.object_name = "Contact";
  m.access = mapping_access::read_write;
  m.upsert_field = "Ext__c";
  m.fields = {"Id",        "IsDeleted", "AccountId",  "LastName",         "FirstName",
              "Email",     "DoNotCall", "CreatedDate", "SystemModstamp",  "Birthdate",
              "Score__c",  "Ext__c",    "Source__c",  "Parent_Contact__c", "Account__r__Ext_Acc__c",
              "Parent_Contact__r__Ext__c"};
  return m;
}

/// The table spec as make_table_spec builds it from the describe above.
hc_table_spec contact_spec() {
  std::vector<sf_field_info> infos;
  for (const auto& r : contact_describe())
    infos.push_back(sf_field_info{r.name, parse_sf_field_type(r.type).value(), r.type == "string" ? 80 : 0});
  infos.push_back(sf_field_info{"Account__r__Ext_Acc__c", sf_field_type::string, 40});
  auto result = make_table_spec("salesforce", contact_mapping(), infos);
  EXPECT_TRUE(result.ok());
  return result.ok() ? *result.spec : hc_table_spec{};
}

// ---------------------------------------------------------------------------
// values
// ---------------------------------------------------------------------------

TEST(sf_write_values, booleans) {
  EXPECT_EQ(js(pg_value_kind::boolean, "t"), json(true));
  EXPECT_EQ(js(pg_value_kind::boolean, "f"), json(false));
  EXPECT_EQ(js(pg_value_kind::boolean, "true"), json(true));
  EXPECT_EQ(js(pg_value_kind::boolean, "FALSE"), json(false));
  EXPECT_TRUE(js(pg_value_kind::boolean, "t").is_boolean());
  EXPECT_EQ(cs(pg_value_kind::boolean, "t"), "true");
  EXPECT_EQ(cs(pg_value_kind::boolean, "f"), "false");
  EXPECT_EQ(json_error(pg_value_kind::boolean, "yes", "donotcall"), "column donotcall: not a boolean: 'yes'");
  json_error(pg_value_kind::boolean, "");
}

TEST(sf_write_values, numbers_keep_integers_integral) {
  auto one = js(pg_value_kind::double_precision, "1");
  EXPECT_TRUE(one.is_number_integer());
  EXPECT_EQ(one.dump(), "1");
  EXPECT_EQ(js(pg_value_kind::double_precision, "1000000").dump(), "1000000");
  // PostgreSQL writes large doubles with an exponent.
  EXPECT_EQ(js(pg_value_kind::double_precision, "1e+15").dump(), "1000000000000000");
  EXPECT_EQ(js(pg_value_kind::double_precision, "1.5e+17").dump(), "150000000000000000");
  EXPECT_EQ(js(pg_value_kind::double_precision, "-42").dump(), "-42");
  EXPECT_EQ(js(pg_value_kind::double_precision, "-0").dump(), "0");
  EXPECT_EQ(js(pg_value_kind::double_precision, "3.0").dump(), "3");
  auto frac = js(pg_value_kind::double_precision, "-1234.5678");
  EXPECT_TRUE(frac.is_number_float());
  EXPECT_DOUBLE_EQ(frac.get<double>(), -1234.5678);
  EXPECT_EQ(frac.dump(), "-1234.5678");
  EXPECT_EQ(js(pg_value_kind::double_precision, "0.1").dump(), "0.1");
  // Very large: still a number, not a string.
  auto big = js(pg_value_kind::double_precision, "1.7976931348623157e+308");
  EXPECT_TRUE(big.is_number_float());
  EXPECT_DOUBLE_EQ(big.get<double>(), 1.7976931348623157e+308);
}

TEST(sf_write_values, numbers_as_plain_decimal_csv) {
  EXPECT_EQ(cs(pg_value_kind::double_precision, "1"), "1");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "1e+06"), "1000000");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "1.5e-05"), "0.000015");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "-2.5e+20"), "-250000000000000000000");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "123.4500"), "123.45");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "-0.001"), "-0.001");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "0.25"), "0.25");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "-.5"), "-0.5");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "007.50"), "7.5");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "-0.0"), "0");
  EXPECT_EQ(cs(pg_value_kind::double_precision, "9007199254740993"), "9007199254740993");
  // Integral and exact in JSON too, beyond 2^53.
  EXPECT_EQ(js(pg_value_kind::double_precision, "9007199254740993").dump(), "9007199254740993");
}

TEST(sf_write_values, bad_numbers) {
  EXPECT_EQ(json_error(pg_value_kind::double_precision, "abc", "amount__c"),
            "column amount__c: not a number: 'abc'");
  json_error(pg_value_kind::double_precision, "NaN");
  json_error(pg_value_kind::double_precision, "Infinity");
  json_error(pg_value_kind::double_precision, "-Infinity");
  json_error(pg_value_kind::double_precision, "");
  json_error(pg_value_kind::double_precision, "1.2.3");
  json_error(pg_value_kind::double_precision, "1e");
  json_error(pg_value_kind::double_precision, " 1");
  json_error(pg_value_kind::double_precision, "0x10");
  EXPECT_EQ(json_error(pg_value_kind::double_precision, "1e400"), "column col: number out of range: '1e400'");
  json_error(pg_value_kind::double_precision, "1e-400");
  json_error(pg_value_kind::double_precision, "1e99999999999");
}

TEST(sf_write_values, integers) {
  auto v = js(pg_value_kind::integer, "-9223372036854775808");
  EXPECT_TRUE(v.is_number_integer());
  EXPECT_EQ(v.dump(), "-9223372036854775808");
  EXPECT_EQ(cs(pg_value_kind::integer, "+17"), "17");
  EXPECT_EQ(json_error(pg_value_kind::integer, "9223372036854775808"),
            "column col: integer out of range: '9223372036854775808'");
  json_error(pg_value_kind::integer, "1.5");
  json_error(pg_value_kind::integer, "-");
}

TEST(sf_write_values, dates) {
  EXPECT_EQ(js(pg_value_kind::date, "2024-02-29"), json("2024-02-29"));
  EXPECT_EQ(cs(pg_value_kind::date, "1999-12-31"), "1999-12-31");
  EXPECT_EQ(json_error(pg_value_kind::date, "2023-02-29", "birthdate"), "column birthdate: not a date: '2023-02-29'");
  json_error(pg_value_kind::date, "2023-13-01");
  json_error(pg_value_kind::date, "2023-1-01");
  json_error(pg_value_kind::date, "0044-03-15 BC");
  json_error(pg_value_kind::date, "infinity");
  json_error(pg_value_kind::date, "12345-01-01");
}

TEST(sf_write_values, timestamps) {
  EXPECT_EQ(js(pg_value_kind::timestamp, "2024-01-02 03:04:05"), json("2024-01-02T03:04:05.000Z"));
  EXPECT_EQ(js(pg_value_kind::timestamp, "2024-01-02 03:04:05.5"), json("2024-01-02T03:04:05.500Z"));
  EXPECT_EQ(js(pg_value_kind::timestamp, "2024-01-02 03:04:05.123456"), json("2024-01-02T03:04:05.123Z"));
  // Truncated, not rounded: never carries into the next second or day.
  EXPECT_EQ(js(pg_value_kind::timestamp, "2024-12-31 23:59:59.999999"), json("2024-12-31T23:59:59.999Z"));
  EXPECT_EQ(js(pg_value_kind::timestamp, "2024-01-02T03:04:05.12"), json("2024-01-02T03:04:05.120Z"));
  EXPECT_EQ(js(pg_value_kind::timestamp, "2024-01-02 03:04:05+00"), json("2024-01-02T03:04:05.000Z"));
  EXPECT_EQ(js(pg_value_kind::timestamp, "2024-01-02 03:04:05.7Z"), json("2024-01-02T03:04:05.700Z"));
  EXPECT_EQ(js(pg_value_kind::timestamp, "2024-01-02"), json("2024-01-02T00:00:00.000Z"));
  EXPECT_EQ(cs(pg_value_kind::timestamp, "2013-05-20 20:49:32"), "2013-05-20T20:49:32.000Z");
  EXPECT_EQ(json_error(pg_value_kind::timestamp, "2024-01-02 03:04:05+02", "lastseen__c"),
            "column lastseen__c: not a UTC timestamp: '2024-01-02 03:04:05+02'");
  json_error(pg_value_kind::timestamp, "2024-01-02 24:00:00");
  json_error(pg_value_kind::timestamp, "2024-01-02 03:60:00");
  json_error(pg_value_kind::timestamp, "2024-01-02 03:04:05.");
  json_error(pg_value_kind::timestamp, "2024-01-02X03:04:05");
  json_error(pg_value_kind::timestamp, "infinity");
  json_error(pg_value_kind::timestamp, "2024-02-30 00:00:00");
}

TEST(sf_write_values, times) {
  EXPECT_EQ(js(pg_value_kind::time, "03:04:05"), json("03:04:05.000Z"));
  EXPECT_EQ(js(pg_value_kind::time, "23:59:59.999999"), json("23:59:59.999Z"));
  EXPECT_EQ(js(pg_value_kind::time, "12:00:00.25"), json("12:00:00.250Z"));
  EXPECT_EQ(cs(pg_value_kind::time, "00:00:00"), "00:00:00.000Z");
  EXPECT_EQ(json_error(pg_value_kind::time, "25:00:00"), "column col: not a time: '25:00:00'");
  json_error(pg_value_kind::time, "12:00:00+05");
  json_error(pg_value_kind::time, "noon");
}

TEST(sf_write_values, text_as_is_including_unicode) {
  const std::string unicode = "Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC"; // Zoë € 😀 日本
  EXPECT_EQ(js(pg_value_kind::text, unicode), json(unicode));
  EXPECT_EQ(cs(pg_value_kind::text, unicode), unicode);
  EXPECT_EQ(js(pg_value_kind::text, "a,\"b\"\nc"), json("a,\"b\"\nc"));
  EXPECT_EQ(js(pg_value_kind::text, "  spaced  "), json("  spaced  "));
  // An empty string is null in Salesforce; in CSV an empty cell would mean "not set".
  EXPECT_EQ(js(pg_value_kind::text, ""), json(""));
  EXPECT_EQ(cs(pg_value_kind::text, ""), std::nullopt);
  EXPECT_EQ(json_error(pg_value_kind::text, "bad \xC3\x28 byte", "name"),
            "column name: not valid UTF-8: 'bad \\xc3( byte'");
  json_error(pg_value_kind::text, "\xED\xA0\x80"); // a UTF-16 surrogate
  json_error(pg_value_kind::text, "\xC0\xAF");     // overlong
}

TEST(sf_write_values, nulls) {
  for (auto kind : {pg_value_kind::text, pg_value_kind::boolean, pg_value_kind::double_precision,
                    pg_value_kind::date, pg_value_kind::timestamp, pg_value_kind::time, pg_value_kind::integer}) {
    auto j = to_sf_json(kind, std::nullopt, "c");
    ASSERT_TRUE(j.ok());
    EXPECT_TRUE(j.value.is_null());
    auto c = to_sf_csv(kind, std::nullopt, "c");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.text, std::nullopt);
  }
}

TEST(sf_write_values, error_text_is_bounded_and_printable) {
  std::string long_value(500, 'x');
  auto e = json_error(pg_value_kind::double_precision, long_value);
  EXPECT_LT(e.size(), 150u);
  EXPECT_NE(e.find("..."), std::string::npos);
  auto ctl = json_error(pg_value_kind::date, std::string{"a\nb"});
  EXPECT_EQ(ctl, "column col: not a date: 'a\\x0ab'");
}

// ---------------------------------------------------------------------------
// writable fields
// ---------------------------------------------------------------------------

TEST(sf_write_writable, from_describe) {
  auto w = writable_fields(contact_describe());
  EXPECT_TRUE(w.allows("LastName", sf_write_op::create));
  EXPECT_TRUE(w.allows("lastname", sf_write_op::update)); // case-insensitive
  EXPECT_TRUE(w.allows("Source__c", sf_write_op::create));
  EXPECT_TRUE(w.allows("Source__c", sf_write_op::upsert));
  EXPECT_FALSE(w.allows("Source__c", sf_write_op::update));
  EXPECT_FALSE(w.allows("Score__c", sf_write_op::create));     // formula
  EXPECT_FALSE(w.allows("CreatedDate", sf_write_op::create));  // never, even if describe allows
  EXPECT_FALSE(w.allows("SystemModstamp", sf_write_op::update));
  EXPECT_FALSE(w.allows("IsDeleted", sf_write_op::update));
  EXPECT_FALSE(w.allows("Id", sf_write_op::create));
  EXPECT_FALSE(w.allows("Nope__c", sf_write_op::create));
  EXPECT_EQ(w.createable.count("CreatedDate"), 0u);
  ASSERT_EQ(w.relationships.count("account"), 1u);
  EXPECT_EQ(w.relationships.at("Account").lookup_field, "AccountId");
  EXPECT_EQ(w.relationships.at("parent_contact__r").lookup_field, "Parent_Contact__c");
  // Hand-made sets still never allow the system fields.
  sf_writable_fields hand;
  hand.createable = {"SystemModstamp", "Email"};
  EXPECT_FALSE(hand.allows("SystemModstamp", sf_write_op::create));
  EXPECT_TRUE(hand.allows("EMAIL", sf_write_op::create));
}

// ---------------------------------------------------------------------------
// records
// ---------------------------------------------------------------------------

TEST(sf_write_record, insert_drops_system_and_non_writable_columns) {
  auto spec = contact_spec();
  auto w = writable_fields(contact_describe());
  auto row = hs({{"id", "7"},
                 {"sfid", std::nullopt},
                 {"isdeleted", "f"},
                 {"lastname", "Doe"},
                 {"firstname", std::nullopt},
                 {"email", "jane@example.com"},
                 {"donotcall", "t"},
                 {"createddate", "2024-01-02 03:04:05"},
                 {"systemmodstamp", "2024-01-02 03:04:05"},
                 {"birthdate", "1990-05-17"},
                 {"score__c", "12.5"},
                 {"ext__c", "E-1"},
                 {"source__c", "web"}});
  auto r = build_sf_record(spec, row, w, sf_write_op::create);
  ASSERT_TRUE(r.ok()) << r.error;
  json expected = {{"LastName", "Doe"},  {"FirstName", nullptr},       {"Email", "jane@example.com"},
                   {"DoNotCall", true},  {"Birthdate", "1990-05-17"}, {"Ext__c", "E-1"},
                   {"Source__c", "web"}};
  EXPECT_EQ(r.record, expected) << r.record.dump();
  EXPECT_EQ(r.skipped, (std::vector<std::string>{"isdeleted", "createddate", "systemmodstamp", "score__c"}));
  EXPECT_TRUE(r.unknown_columns.empty());
}

TEST(sf_write_record, update_uses_updateable_set) {
  auto spec = contact_spec();
  auto w = writable_fields(contact_describe());
  auto r = build_sf_record(spec, hs({{"source__c", "web"}, {"email", std::nullopt}, {"_hc_lastop", "PENDING"},
                                     {"_hc_err", std::nullopt}}),
                           w, sf_write_op::update);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.record, (json{{"Email", nullptr}}));
  EXPECT_EQ(r.skipped, (std::vector<std::string>{"source__c"}));
}

TEST(sf_write_record, relationship_columns_nest) {
  auto spec = contact_spec();
  auto w = writable_fields(contact_describe());
  const auto* rel = spec.find_column("account__r__ext_acc__c");
  ASSERT_NE(rel, nullptr);
  EXPECT_EQ(rel->sf_field, "Account.Ext_Acc__c");
  auto r = build_sf_record(spec,
                           hs({{"lastname", "Doe"},
                               {"accountid", std::nullopt},
                               {"account__r__ext_acc__c", "ACME-1"},
                               {"parent_contact__r__ext__c", "C-9"}}),
                           w, sf_write_op::create);
  ASSERT_TRUE(r.ok()) << r.error;
  // The null AccountId is not sent next to the reference by external id; a
  // custom relationship takes its `__r` name from describe.
  json expected = {{"LastName", "Doe"},
                   {"Account", {{"Ext_Acc__c", "ACME-1"}}},
                   {"Parent_Contact__r", {{"Ext__c", "C-9"}}}};
  EXPECT_EQ(r.record, expected) << r.record.dump();
}

TEST(sf_write_record, null_relationship_leaves_lookup_out) {
  auto spec = contact_spec();
  auto w = writable_fields(contact_describe());
  auto r = build_sf_record(spec, hs({{"lastname", "Doe"}, {"account__r__ext_acc__c", std::nullopt},
                                     {"accountid", "001000000000001AAA"}}),
                           w, sf_write_op::create);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.record, (json{{"LastName", "Doe"}, {"AccountId", "001000000000001AAA"}})) << r.record.dump();
  EXPECT_TRUE(r.skipped.empty());
}

TEST(sf_write_record, relationship_without_describe_relationships) {
  auto spec = contact_spec();
  sf_writable_fields w;
  w.createable = {"LastName", "AccountId", "Parent_Contact__c"};
  auto r = build_sf_record(spec, hs({{"account__r__ext_acc__c", "A"}, {"parent_contact__r__ext__c", "P"}}), w,
                           sf_write_op::create);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.record, (json{{"Account", {{"Ext_Acc__c", "A"}}}, {"Parent_Contact__r", {{"Ext__c", "P"}}}}))
    << r.record.dump();
  // The lookup field not writable: the relationship column is dropped.
  w.createable = {"LastName"};
  auto dropped = build_sf_record(spec, hs({{"account__r__ext_acc__c", "A"}}), w, sf_write_op::create);
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(dropped.record.empty());
  EXPECT_EQ(dropped.skipped, (std::vector<std::string>{"account__r__ext_acc__c"}));
}

TEST(sf_write_record, unknown_columns_and_bad_values_are_errors) {
  auto spec = contact_spec();
  auto w = writable_fields(contact_describe());
  auto r = build_sf_record(spec,
                           hs({{"lastname", "Doe"}, {"nickname", "JD"}, {"birthdate", "yesterday"},
                               {"shoe_size", "44"}, {"donotcall", "maybe"}}),
                           w, sf_write_op::create);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.unknown_columns, (std::vector<std::string>{"nickname", "shoe_size"}));
  ASSERT_EQ(r.bad_values.size(), 2u);
  EXPECT_EQ(r.error,
            "columns not in the mapping of contact: nickname, shoe_size; "
            "column birthdate: not a date: 'yesterday'; column donotcall: not a boolean: 'maybe'");
}

TEST(sf_write_record, empty_change_builds_empty_record) {
  auto spec = contact_spec();
  auto r = build_sf_record(spec, hs({{"id", "1"}, {"sfid", "003000000000001AAA"}}),
                           writable_fields(contact_describe()), sf_write_op::update);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.record.is_object());
  EXPECT_TRUE(r.record.empty());
}

// ---------------------------------------------------------------------------
// Bulk 2.0 CSV
// ---------------------------------------------------------------------------

TEST(sf_write_csv, header_is_union_in_column_order) {
  auto spec = contact_spec();
  auto w = writable_fields(contact_describe());
  auto a = hs({{"id", "1"}, {"email", "a@example.com"}, {"lastname", "Comma, \"Quoted\""}, {"ext__c", "E-1"}});
  auto b = hs({{"id", "2"},
               {"lastname", "Second"},
               {"ext__c", "E-2"},
               {"donotcall", "f"},
               {"birthdate", std::nullopt},
               {"account__r__ext_acc__c", "ACME"},
               {"firstname", ""}});
  auto c = hs({{"lastname", "#N/A"}, {"ext__c", "E-3"}, {"account__r__ext_acc__c", std::nullopt},
               {"createddate", "2024-01-01 00:00:00"}});
  auto r = build_sf_csv(spec, {&a, nullptr, &b, &c}, w, sf_write_op::upsert);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.header, (std::vector<std::string>{"LastName", "FirstName", "Email", "DoNotCall", "Birthdate",
                                                "Ext__c", "Account.Ext_Acc__c"}));
  EXPECT_EQ(r.rows, 3u);
  EXPECT_EQ(r.skipped, (std::vector<std::string>{"createddate"}));
  EXPECT_EQ(r.csv,
            "LastName,FirstName,Email,DoNotCall,Birthdate,Ext__c,Account.Ext_Acc__c\n"
            "\"Comma, \"\"Quoted\"\"\",,a@example.com,,,E-1,\n"
            "Second,#N/A,,false,#N/A,E-2,ACME\n"
            "\"#N/A\",,,,,E-3,\n");
  // The project's parser reads it back: `#N/A` unquoted is null, quoted is text.
  auto parsed = csv::parse_all(r.csv);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed.doc.rows.size(), 4u);
  EXPECT_EQ(parsed.doc.rows[1][0], std::optional<std::string>{"Comma, \"Quoted\""});
  EXPECT_EQ(parsed.doc.rows[2][1], std::nullopt);
  EXPECT_EQ(parsed.doc.rows[3][0], std::optional<std::string>{"#N/A"});
}

TEST(sf_write_csv, values_use_csv_forms) {
  // A hand-made spec: a number, a timestamp and a time that are writable.
  sf_writable_fields w;
  hc_table_spec t;
  t.table = "thing__c";
  t.columns.push_back(pg_column{"sfid", "character varying(18)", pg_value_kind::text, "Id", 18});
  t.columns.push_back(pg_column{"amount__c", "double precision", pg_value_kind::double_precision, "Amount__c", {}});
  t.columns.push_back(pg_column{"seen__c", "timestamp without time zone", pg_value_kind::timestamp, "Seen__c", {}});
  t.columns.push_back(pg_column{"at__c", "time without time zone", pg_value_kind::time, "At__c", {}});
  w.createable = {"Amount__c", "Seen__c", "At__c"};
  auto a = hs({{"amount__c", "1e+06"}, {"seen__c", "2024-01-02 03:04:05.678901"}, {"at__c", "01:02:03"}});
  auto b = hs({{"amount__c", "-1.5e-05"}, {"seen__c", std::nullopt}});
  auto r = build_sf_csv(t, {&a, &b}, w, sf_write_op::create);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.csv, "Amount__c,Seen__c,At__c\n1000000,2024-01-02T03:04:05.678Z,01:02:03.000Z\n-0.000015,#N/A,\n");
}

TEST(sf_write_csv, options_and_errors) {
  auto spec = contact_spec();
  auto w = writable_fields(contact_describe());
  auto a = hs({{"lastname", "a|b"}, {"ext__c", "E"}});
  csv::write_options opts;
  opts.delim = csv::delimiter::pipe;
  opts.ending = csv::line_ending::crlf;
  auto r = build_sf_csv(spec, {&a}, w, sf_write_op::create, opts);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.csv, "LastName|Ext__c\r\n\"a|b\"|E\r\n");

  auto bad1 = hs({{"lastname", "x"}, {"birthdate", "soon"}});
  auto bad2 = hs({{"lastname", "y"}, {"mystery", "1"}});
  auto e = build_sf_csv(spec, {&a, &bad1, &bad2}, w, sf_write_op::create);
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(e.csv.empty());
  EXPECT_EQ(e.error, "columns not in the mapping of contact: mystery; row 1: column birthdate: not a date: 'soon'");
  ASSERT_EQ(e.bad_values.size(), 1u);
  EXPECT_EQ(e.bad_values[0].first, 1u);

  auto only_system = hs({{"id", "1"}, {"systemmodstamp", "2024-01-01 00:00:00"}});
  auto none = build_sf_csv(spec, {&only_system}, w, sf_write_op::create);
  EXPECT_FALSE(none.ok());

  auto empty = build_sf_csv(spec, {}, w, sf_write_op::create);
  EXPECT_TRUE(empty.ok());
  EXPECT_TRUE(empty.csv.empty());
}

// ---------------------------------------------------------------------------
// _hc_err
// ---------------------------------------------------------------------------

TEST(sf_write_hc_err, shape) {
  auto text = hc_error_json("INSERT", "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]",
                            {"LastName"});
  EXPECT_EQ(text, R"({"op":"INSERT","src":"SFDC","code":"REQUIRED_FIELD_MISSING",)"
                  R"("msg":"Required fields are missing: [LastName]","fields":["LastName"]})");
  auto j = json::parse(text);
  EXPECT_EQ(j.at("fields"), json::array({"LastName"}));

  auto ours = hc_error_json("UPDATE", "SYNCFORCE_INVALID_VALUE", "column x: not a date: 'a\"b'", {});
  auto o = json::parse(ours);
  EXPECT_EQ(o.at("src"), "SYNCFORCE");
  EXPECT_EQ(o.at("msg"), "column x: not a date: 'a\"b'");
  EXPECT_TRUE(o.at("fields").is_array());
  EXPECT_TRUE(o.at("fields").empty());

  EXPECT_EQ(json::parse(hc_error_json("INSERT", "SYNCFORCE_NO_SFID", "m", {}, "SFDC")).at("src"), "SFDC");

  // Invalid UTF-8 never makes the JSON unwritable.
  auto odd = hc_error_json("DELETE", "X", "bad \xC3\x28", {"A", "B"});
  auto p = json::parse(odd);
  EXPECT_EQ(p.at("msg"), "bad \xEF\xBF\xBD(");
  EXPECT_EQ(p.at("fields").size(), 2u);
}

// ---------------------------------------------------------------------------
// mapping validation
// ---------------------------------------------------------------------------

TEST(sf_write_validate, good_mapping_has_no_problems) {
  EXPECT_TRUE(validate_write_mapping(contact_mapping(), contact_describe()).empty());
}

TEST(sf_write_validate, read_only_is_not_checked) {
  auto m = contact_mapping();
  m.access = mapping_access::read_only;
  m.upsert_field.reset();
  m.fields = {"Id", "Email"};
  EXPECT_TRUE(validate_write_mapping(m, contact_describe()).empty());
}

TEST(sf_write_validate, upsert_field_rules) {
  auto d = contact_describe();
  auto m = contact_mapping();
  m.upsert_field.reset();
  EXPECT_EQ(validate_write_mapping(m, d), (std::vector<std::string>{
                                              "read_write mapping of Contact needs an upsert_field: a unique "
                                              "External ID field in Salesforce"}));
  m.upsert_field = "Missing__c";
  EXPECT_EQ(validate_write_mapping(m, d),
            (std::vector<std::string>{"upsert_field Missing__c does not exist on Contact"}));
  m.upsert_field = "Email"; // not an external id
  EXPECT_EQ(validate_write_mapping(m, d),
            (std::vector<std::string>{"upsert_field Email must be a unique External ID field in Salesforce"}));
  for (auto& f : d)
    if (f.name == "Ext__c")
      f.unique = false; // external id, not unique
  m.upsert_field = "ext__c";
  EXPECT_EQ(validate_write_mapping(m, d),
            (std::vector<std::string>{"upsert_field ext__c must be a unique External ID field in Salesforce"}));
  // An idLookup field that is not an external id is not enough either.
  for (auto& f : d)
    if (f.name == "Ext__c") {
      f.unique = true;
      f.external_id = false;
      f.id_lookup = true;
    }
  EXPECT_EQ(validate_write_mapping(m, d).size(), 1u);
}

TEST(sf_write_validate, required_fields_exact_message) {
  auto m = contact_mapping();
  m.fields = {"Id", "Email", "Ext__c"};
  EXPECT_EQ(validate_write_mapping(m, contact_describe()),
            (std::vector<std::string>{"Fields needed for insertion to Salesforce need to be mapped: LastName"}));
}

TEST(sf_write_validate, required_rules) {
  sf_field_rules f;
  f.name = "Company";
  f.type = "string";
  f.createable = true;
  f.nillable = false;
  EXPECT_TRUE(required_to_insert(f));
  auto b = f;
  b.type = "boolean";
  EXPECT_FALSE(required_to_insert(b));
  auto d = f;
  d.defaulted_on_create = true;
  EXPECT_FALSE(required_to_insert(d));
  auto n = f;
  n.nillable = true;
  EXPECT_FALSE(required_to_insert(n));
  auto c = f;
  c.createable = false;
  EXPECT_FALSE(required_to_insert(c));
  auto calc = f;
  calc.calculated = true;
  EXPECT_FALSE(required_to_insert(calc));
  auto owner = f;
  owner.name = "OwnerId"; // Salesforce makes the running user the owner
  EXPECT_FALSE(required_to_insert(owner));
  auto created = f;
  created.name = "CreatedDate";
  EXPECT_FALSE(required_to_insert(created));
}

TEST(sf_write_validate, several_problems_at_once_in_describe_order) {
  auto d = contact_describe();
  sf_field_rules company;
  company.name = "Company__c";
  company.type = "string";
  company.nillable = false;
  company.createable = true;
  d.insert(d.begin() + 2, company); // before LastName in describe order
  auto master = d.back();           // Parent_Contact__c becomes master-detail: required
  d.pop_back();
  master.nillable = false;
  d.push_back(master);
  auto m = contact_mapping();
  m.upsert_field.reset();
  m.fields = {"Id", "Email"};
  auto problems = validate_write_mapping(m, d);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0],
            "read_write mapping of Contact needs an upsert_field: a unique External ID field in Salesforce");
  EXPECT_EQ(problems[1],
            "Fields needed for insertion to Salesforce need to be mapped: Company__c, LastName, Parent_Contact__c");

  // A required lookup is mapped through its relationship-by-external-id column.
  m.fields = {"Id", "Email", "Company__c", "LastName", "Parent_Contact__r__Ext__c"};
  m.upsert_field = "Ext__c";
  EXPECT_TRUE(validate_write_mapping(m, d).empty());
  // ... also without relationship names in describe (custom `__c` lookups).
  for (auto& f : d)
    f.relationship_name.clear();
  EXPECT_TRUE(validate_write_mapping(m, d).empty());
}

} // namespace
