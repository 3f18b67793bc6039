#include "sync/type_mapping.hpp"
#include "sync/value_cleaning.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace syncforce;

namespace {

std::string type_of(sf_field_type t, std::int64_t len = 0) {
  return pg_type_for(t, len);
}

} // namespace

TEST(type_mapping, reference_table) {
  EXPECT_EQ(type_of(sf_field_type::reference), "character varying(18)");
  EXPECT_EQ(type_of(sf_field_type::id), "character varying(18)");
  EXPECT_EQ(type_of(sf_field_type::string, 80), "character varying(80)");
  EXPECT_EQ(type_of(sf_field_type::date), "date");
  EXPECT_EQ(type_of(sf_field_type::datetime), "timestamp without time zone");
  for (auto t : {sf_field_type::double_, sf_field_type::currency, sf_field_type::percent,
                 sf_field_type::int_})
    EXPECT_EQ(type_of(t), "double precision") << to_string(t);
  EXPECT_EQ(type_of(sf_field_type::boolean), "boolean");
  EXPECT_EQ(type_of(sf_field_type::textarea, 32000), "text");
  EXPECT_EQ(type_of(sf_field_type::textarea, 255), "character varying(255)");
  EXPECT_EQ(type_of(sf_field_type::multipicklist, 4099), "character varying(4099)");
  EXPECT_EQ(type_of(sf_field_type::picklist, 40), "character varying(255)");
  EXPECT_EQ(type_of(sf_field_type::email, 80), "character varying(80)");
  EXPECT_EQ(type_of(sf_field_type::phone, 40), "character varying(40)");
  EXPECT_EQ(type_of(sf_field_type::url, 255), "character varying(255)");
  EXPECT_EQ(type_of(sf_field_type::time), "time without time zone");
}

TEST(type_mapping, parses_describe_type_names) {
  EXPECT_EQ(parse_sf_field_type("string"), sf_field_type::string);
  EXPECT_EQ(parse_sf_field_type("anyType"), sf_field_type::any_type);
  EXPECT_EQ(parse_sf_field_type("DateTime"), sf_field_type::datetime);
  EXPECT_EQ(parse_sf_field_type("location"), sf_field_type::location);
  EXPECT_EQ(parse_sf_field_type("int"), sf_field_type::int_);
  EXPECT_EQ(parse_sf_field_type("nonsense"), std::nullopt);
}

TEST(type_mapping, columns_for_fields) {
  auto id = columns_for_field({"Id", sf_field_type::id, 18});
  ASSERT_EQ(id.size(), 1u);
  EXPECT_EQ(id[0].name, "sfid");
  auto email = columns_for_field({"Email__c", sf_field_type::email, 80});
  ASSERT_EQ(email.size(), 1u);
  EXPECT_EQ(email[0].name, "email__c");
  EXPECT_EQ(email[0].sf_field, "Email__c");
  EXPECT_EQ(email[0].max_length, 80);
  auto geo = columns_for_field({"Loc__c", sf_field_type::location, 0});
  ASSERT_EQ(geo.size(), 2u);
  EXPECT_EQ(geo[0].name, "loc__latitude__s");
  EXPECT_EQ(geo[1].name, "loc__longitude__s");
  EXPECT_EQ(geo[0].type, "double precision");
  EXPECT_EQ(geo[0].sf_field, "Loc__Latitude__s");
  EXPECT_EQ(geo[1].sf_field, "Loc__Longitude__s");
  EXPECT_TRUE(columns_for_field({"BillingAddress", sf_field_type::address, 0}).empty());
  auto rel = relationship_column("Account", {"External_Id__c", sf_field_type::string, 40});
  EXPECT_EQ(rel.name, "account__r__external_id__c");
  EXPECT_EQ(rel.type, "character varying(40)");
  EXPECT_EQ(relationship_column("Parent__r", {"Ext__c", sf_field_type::string, 20}).name,
            "parent__r__ext__c");
}

TEST(type_mapping, table_spec_from_mapping) {
  mapping_config m;
  m.object_name = "Contact";
  m.access = mapping_access::read_write;
  m.fields = {"Name", "Id", "SystemModstamp", "Email", "Account__r__External_Id__c", "Loc__c"};
  m.upsert_field = "Email";
  m.indexes = {{"Id", true}, {"SystemModstamp", false}, {"Email", true}};
  std::vector<sf_field_info> describe{{"Id", sf_field_type::id, 18},
                                      {"Name", sf_field_type::string, 121},
                                      {"SystemModstamp", sf_field_type::datetime, 0},
                                      {"Email", sf_field_type::email, 80},
                                      {"Loc__c", sf_field_type::location, 0}};
  auto r = make_table_spec("salesforce", m, describe);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  const auto& s = *r.spec;
  EXPECT_EQ(s.table, "contact");
  ASSERT_EQ(s.columns.size(), 7u);
  EXPECT_EQ(s.columns[0].name, "sfid");
  EXPECT_EQ(s.columns[1].name, "name");
  EXPECT_EQ(s.columns[4].name, "account__r__external_id__c");
  EXPECT_EQ(s.columns[4].type, "character varying(255)");
  EXPECT_EQ(s.columns[4].sf_field, "Account.External_Id__c");
  EXPECT_EQ(s.upsert_column, "email");
  {
    // A custom lookup Parent__c is queried through its relationship Parent__r.
    auto custom = m;
    custom.fields = {"Id", "Parent__r__Ext__c", "Email"};
    auto d = describe;
    d.push_back({"Parent__c", sf_field_type::reference, 18});
    auto cr = make_table_spec("salesforce", custom, d);
    ASSERT_TRUE(cr.ok()) << (cr.errors.empty() ? "" : cr.errors[0]);
    EXPECT_EQ(cr.spec->columns[1].name, "parent__r__ext__c");
    EXPECT_EQ(cr.spec->columns[1].sf_field, "Parent__r.Ext__c");
  }
  ASSERT_EQ(s.indexes.size(), 1u);
  EXPECT_EQ(s.indexes[0].column, "email");
  EXPECT_TRUE(s.indexes[0].unique);

  m.fields.push_back("Nope__c");
  auto bad = make_table_spec("salesforce", m, describe);
  EXPECT_FALSE(bad.ok());
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].find("Nope__c"), std::string::npos);
}

TEST(type_mapping, datetime_wire_values) {
  auto v = convert_wire_value(pg_value_kind::timestamp, "2013-05-20T20:49:32.000+0000");
  ASSERT_TRUE(v.ok()) << v.error;
  EXPECT_EQ(v.text, "2013-05-20 20:49:32");
  EXPECT_EQ(convert_wire_value(pg_value_kind::timestamp, "2013-05-20T20:49:32.120Z").text,
            "2013-05-20 20:49:32.12");
  // An offset is converted to UTC, across a day and a year boundary.
  EXPECT_EQ(convert_wire_value(pg_value_kind::timestamp, "2013-12-31T23:30:00.000-0100").text,
            "2014-01-01 00:30:00");
  EXPECT_EQ(convert_wire_value(pg_value_kind::timestamp, "2024-03-01T00:15:00+01:00").text,
            "2024-02-29 23:15:00");
  EXPECT_FALSE(convert_wire_value(pg_value_kind::timestamp, "2013-02-30T00:00:00Z").ok());
  EXPECT_FALSE(convert_wire_value(pg_value_kind::timestamp, "yesterday").ok());
  EXPECT_FALSE(convert_wire_value(pg_value_kind::timestamp, "2013-05-20T20:49:32.000+0000x").ok());
}

TEST(type_mapping, other_wire_values) {
  EXPECT_EQ(convert_wire_value(pg_value_kind::date, "2013-05-20").text, "2013-05-20");
  EXPECT_FALSE(convert_wire_value(pg_value_kind::date, "2013-5-20").ok());
  EXPECT_EQ(convert_wire_value(pg_value_kind::time, "20:49:32.000Z").text, "20:49:32");
  EXPECT_EQ(convert_wire_value(pg_value_kind::boolean, "true").text, "t");
  EXPECT_EQ(convert_wire_value(pg_value_kind::boolean, "FALSE").text, "f");
  EXPECT_FALSE(convert_wire_value(pg_value_kind::boolean, "yes").ok());
  EXPECT_EQ(convert_wire_value(pg_value_kind::double_precision, "1.5E+3").text, "1.5E+3");
  EXPECT_EQ(convert_wire_value(pg_value_kind::double_precision, "-42").text, "-42");
  EXPECT_FALSE(convert_wire_value(pg_value_kind::double_precision, "12abc").ok());
  EXPECT_FALSE(convert_wire_value(pg_value_kind::double_precision, "nan").ok());
  EXPECT_FALSE(convert_wire_value(pg_value_kind::double_precision, "0x10").ok());
  // Empty CSV fields: NULL for non-text, empty string for text unless marked null.
  EXPECT_EQ(convert_wire_value(pg_value_kind::double_precision, "").text, std::nullopt);
  EXPECT_EQ(convert_wire_value(pg_value_kind::text, "").text, std::string{});
  EXPECT_EQ(convert_wire_value(pg_value_kind::text, "", true).text, std::nullopt);
  EXPECT_EQ(convert_wire_value(pg_value_kind::text, " keep  spaces ").text, " keep  spaces ");
}

TEST(type_mapping, json_values) {
  using nlohmann::json;
  EXPECT_EQ(convert_json_value(pg_value_kind::double_precision, json(12.5)).text, "12.5");
  EXPECT_EQ(convert_json_value(pg_value_kind::double_precision, json(7)).text, "7");
  EXPECT_EQ(convert_json_value(pg_value_kind::boolean, json(true)).text, "t");
  EXPECT_EQ(convert_json_value(pg_value_kind::text, json(nullptr)).text, std::nullopt);
  EXPECT_EQ(convert_json_value(pg_value_kind::timestamp, json("2013-05-20T20:49:32.000+0000")).text,
            "2013-05-20 20:49:32");
  EXPECT_FALSE(convert_json_value(pg_value_kind::date, json(5)).ok());
  EXPECT_EQ(convert_json_value(pg_value_kind::text, json{{"city", "Paris"}}).text,
            R"({"city":"Paris"})");
}

TEST(type_mapping, copy_escaping) {
  std::string line;
  append_copy_field(line, std::string{"a\tb\\c\nd\re"});
  line.push_back('\t');
  append_copy_field(line, std::nullopt);
  EXPECT_EQ(line, "a\\tb\\\\c\\nd\\re\t\\N");
}

TEST(type_mapping, converts_json_and_csv_records) {
  mapping_config m;
  m.object_name = "Contact";
  m.fields = {"Id", "Name", "SystemModstamp", "Active__c", "Account__r__External_Id__c", "Loc__c"};
  std::vector<sf_field_info> describe{{"Id", sf_field_type::id, 18},
                                      {"Name", sf_field_type::string, 80},
                                      {"SystemModstamp", sf_field_type::datetime, 0},
                                      {"Active__c", sf_field_type::boolean, 0},
                                      {"Loc__c", sf_field_type::location, 0}};
  auto spec = make_table_spec("salesforce", m, describe);
  ASSERT_TRUE(spec.ok());
  wire_row_converter conv{*spec.spec};
  std::vector<std::string> cols{"sfid", "name", "systemmodstamp", "active__c", "account__r__external_id__c",
                                "loc__latitude__s", "loc__longitude__s"};
  EXPECT_EQ(conv.columns(), cols);
  std::vector<std::string> fields{"Id", "Name", "SystemModstamp", "Active__c", "Account.External_Id__c",
                                  "Loc__Latitude__s", "Loc__Longitude__s"};
  EXPECT_EQ(conv.soql_fields(), fields);

  auto record = nlohmann::json::parse(R"({"attributes": {"type": "Contact"}, "Id": "003000000000001AAA",
    "Name": "Ada", "SystemModstamp": "2013-05-20T20:49:32.000+0000", "Active__c": true,
    "Account": {"attributes": {}, "External_Id__c": "ext-1"}, "Loc__Latitude__s": 48.85, "Loc__Longitude__s": null})");
  pg_row row;
  std::string error;
  ASSERT_TRUE(conv.convert_json(record, row, error)) << error;
  pg_row expected{std::string{"003000000000001AAA"}, std::string{"Ada"}, std::string{"2013-05-20 20:49:32"},
                  std::string{"t"}, std::string{"ext-1"}, std::string{"48.85"}, std::nullopt};
  EXPECT_EQ(row, expected);
  record["Account"] = nullptr; // no parent: NULL
  ASSERT_TRUE(conv.convert_json(record, row, error)) << error;
  EXPECT_EQ(row[4], std::nullopt);
  record["SystemModstamp"] = "not a date";
  EXPECT_FALSE(conv.convert_json(record, row, error));
  EXPECT_NE(error.find("SystemModstamp"), std::string::npos);

  auto missing = conv.bind_csv_header({"Loc__Longitude__s", "Id", "Name", "SystemModstamp", "Active__c",
                                       "Account.External_Id__c"});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], "Loc__Latitude__s");
  ASSERT_TRUE(conv.convert_csv({"2.5", "003000000000002AAA", "", "2020-01-01T00:00:00.000Z", "false", ""}, row, error))
    << error;
  pg_row expected_csv{std::string{"003000000000002AAA"}, std::nullopt, std::string{"2020-01-01 00:00:00"},
                      std::string{"f"}, std::nullopt, std::nullopt, std::string{"2.5"}};
  EXPECT_EQ(row, expected_csv);
}

namespace {

/// What the load path wrote before append_copy_line: convert_csv, then the
/// row joined as copy_writer::format_line does (append_copy_row).
bool copy_line_by_rows(const wire_row_converter& conv, const std::vector<std::string_view>& values, std::string& line,
                       record_problem& problem) {
  std::vector<std::string> texts(values.begin(), values.end());
  pg_row row;
  line.clear();
  if (!conv.convert_csv(texts, row, problem))
    return false;
  append_copy_row(line, row);
  return true;
}

} // namespace

// The load decodes straight into COPY text (append_copy_line); it must write
// the same bytes and report the same problems as the row path it replaced,
// on every awkward value a column kind can meet.
TEST(type_mapping, copy_lines_from_views_are_byte_identical_to_converted_rows) {
  mapping_config m;
  m.object_name = "Thing__c";
  m.fields = {"Id", "Name", "Note__c", "Amount__c", "Count__c", "Flag__c", "Day__c", "Stamp__c", "At__c",
              "Secret__c"};
  std::vector<sf_field_info> describe{{"Id", sf_field_type::id, 18},
                                      {"Name", sf_field_type::string, 10},
                                      {"Note__c", sf_field_type::textarea, 32768},
                                      {"Amount__c", sf_field_type::double_, 0},
                                      {"Count__c", sf_field_type::int_, 0},
                                      {"Flag__c", sf_field_type::boolean, 0},
                                      {"Day__c", sf_field_type::date, 0},
                                      {"Stamp__c", sf_field_type::datetime, 0},
                                      {"At__c", sf_field_type::time, 0},
                                      {"Secret__c", sf_field_type::encryptedstring, 20}};
  auto spec = make_table_spec("salesforce", m, describe);
  ASSERT_TRUE(spec.ok());
  wire_row_converter conv{*spec.spec};
  // The header in another order and case than the columns, one field missing.
  conv.bind_csv_header({"stamp__c", "ID", "Name", "Note__c", "Amount__c", "Count__c", "Flag__c", "Day__c", "At__c"});

  // One awkward value per column at a time, over a plain record.
  const std::vector<std::string> plain{"2013-05-20T20:49:32.000+0000", "a01000000000001AAA", "Ada", "note", "1.5",
                                       "7", "true", "2020-02-29", "20:49:32.000Z"};
  const std::vector<std::vector<std::string>> awkward{
    // stamp__c
    {"", " ", "2013-05-20T20:49:32.000Z", "2013-05-20T20:49:32Z", "2013-05-20T20:49:32.123456789+0000",
     "2013-05-20T20:49:32.100-0800", "2013-05-20 20:49:32", "2013-05-20", "9999-12-31T23:30:00.000-0100",
     "0001-01-01T00:30:00.000+0100", "0000-01-01T00:00:00.000Z", "2013-02-30T00:00:00Z", "not a datetime",
     " 2013-05-20T20:49:32.000+0000 ", "2013-05-20T20:49:32+05:30", "2013-05-20t20:49:32.000z"},
    // Id
    {"", "a01000000000002AAA"},
    // Name: varchar(10)
    {"", "0123456789", "0123456789ab", "0123456789   ", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9", "bad\xffutf", std::string("nul\0inside", 10), "tab\there", " "},
    // Note__c: text with everything COPY escapes
    {"back\\slash", "a longer text with a tab\tafter its first eight bytes\\", "12345678\r", "tab\tnew\nline\rcr", "\\N", "\t", "\n\n", "ends with \\", "\xe2\x82\xac euro",
     "\xed\xa0\x80 surrogate", "\xc0\xaf overlong", std::string("\0", 1), "\x80", "12345678abcdefgh\xf0\x9f\x98\x80"},
    // Amount__c
    {"", " ", "1e308", "1e309", "-0", "0x10", "nan", " 2.5", "2.5 ", "abc", "1e-400", "4.9e-324", "+3", "007.50", "-", "1.", ".5", "-.5",
     "1.2.3", "--1", "12345678901234567890123456789.000000000000001", std::string(299, '9'), std::string(320, '9'),
     "0." + std::string(400, '0') + "1"},
    // Count__c
    {"-", "-12", "12a", "007", " 5 ", "99999999999999999999"},
    // Flag__c
    {"TRUE", "False", "1", "0", "yes", " true"},
    // Day__c
    {"2020-02-30", "0000-01-01", "2020-1-1", "2020-01-01T00:00:00Z", " 2020-01-01"},
    // At__c
    {"20:49:32.000Z", "20:49", "24:00:00Z", "20:49:32.5+0000", "bad"},
  };
  auto check = [&](const std::vector<std::string>& texts) {
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::string by_rows;
    std::string by_views = "stale"; // cleared by the caller in read_page; appended to here
    by_views.clear();
    record_problem p1, p2;
    const bool ok1 = copy_line_by_rows(conv, views, by_rows, p1);
    const bool ok2 = conv.append_copy_line(views, by_views, p2);
    std::string shown;
    for (const auto& t : texts)
      shown += "[" + value_excerpt(t, false) + "]";
    ASSERT_EQ(ok1, ok2) << shown << " " << p1.error;
    EXPECT_EQ(p1.field, p2.field) << shown;
    EXPECT_EQ(p1.error, p2.error) << shown;
    EXPECT_EQ(p1.excerpt, p2.excerpt) << shown;
    EXPECT_EQ(p1.cleaned, p2.cleaned) << shown;
    if (ok1) {
      EXPECT_EQ(by_rows, by_views) << shown;
    }
  };
  check(plain);
  std::size_t checked = 1;
  for (std::size_t col = 0; col < awkward.size(); ++col) {
    for (const auto& v : awkward[col]) {
      auto texts = plain;
      texts[col] = v;
      check(texts);
      ++checked;
    }
  }
  // A short record (fields past its end are NULL) and an empty one.
  check({"2013-05-20T20:49:32.000+0000", "a01000000000001AAA"});
  check({});
  EXPECT_EQ(checked, 88u); // every awkward value above was compared

  // Some of the bytes, spelled out, so that both paths cannot be wrong together.
  std::string line;
  record_problem problem;
  auto texts = plain;
  texts[0] = "2013-05-20T20:49:32.100-0800";
  texts[3] = "a\tb\\c\nd";
  texts[6] = "TRUE";
  std::vector<std::string_view> views(texts.begin(), texts.end());
  ASSERT_TRUE(conv.append_copy_line(views, line, problem));
  EXPECT_EQ(line, "a01000000000001AAA\tAda\ta\\tb\\\\c\\nd\t1.5\t7\tt\t2020-02-29\t2013-05-21 04:49:32.1\t20:49:32\t\\N");
  texts[2] = "0123456789ab";
  views.assign(texts.begin(), texts.end());
  line.clear();
  EXPECT_FALSE(conv.append_copy_line(views, line, problem));
  EXPECT_EQ(problem.field, "Name");
  texts[2] = std::string("A\0da", 4);
  views.assign(texts.begin(), texts.end());
  line.clear();
  ASSERT_TRUE(conv.append_copy_line(views, line, problem));
  EXPECT_TRUE(has(problem.cleaned, text_cleaning::nul_removed));
  EXPECT_EQ(line.substr(0, 23), "a01000000000001AAA\tAda\t");
}
