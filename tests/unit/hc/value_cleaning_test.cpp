// The pure cleaning of Salesforce values PostgreSQL would refuse
// (sync/value_cleaning.hpp) and its use by the record converter.

#include "sync/type_mapping.hpp"
#include "sync/value_cleaning.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

namespace {

std::string s(const char* bytes, std::size_t n) { return std::string{bytes, n}; }

pg_column varchar_column(std::int64_t n) {
  pg_column c;
  c.name = "text__c";
  c.type = "character varying(" + std::to_string(n) + ")";
  c.kind = pg_value_kind::text;
  c.sf_field = "Text__c";
  c.max_length = n;
  return c;
}

} // namespace

TEST(value_cleaning, nul_bytes_are_removed) {
  auto t = s("be\0fore\0", 8);
  EXPECT_EQ(clean_text(t), static_cast<unsigned>(text_cleaning::nul_removed));
  EXPECT_EQ(t, "before");
  auto only = s("\0\0", 2);
  EXPECT_TRUE(has(clean_text(only), text_cleaning::nul_removed));
  EXPECT_EQ(only, "");
}

TEST(value_cleaning, valid_utf8_is_left_alone) {
  std::string t = "Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80 plain";
  const auto before = t;
  EXPECT_EQ(clean_text(t), 0u);
  EXPECT_EQ(t, before);
}

TEST(value_cleaning, invalid_utf8_becomes_the_replacement_character) {
  const std::string fffd = "\xEF\xBF\xBD";
  auto check = [&](std::string in, const std::string& expected) {
    auto bits = clean_text(in);
    EXPECT_TRUE(has(bits, text_cleaning::invalid_utf8_replaced)) << expected;
    EXPECT_EQ(in, expected);
  };
  check("a\xFF" "b", "a" + fffd + "b");                 // never valid
  check("a\x80\x80" "b", "a" + fffd + "b");             // a run of stray continuation bytes: one
  check("a\xC3", "a" + fffd);                           // truncated at the end
  check("\xC0\xAF", fffd);                              // overlong '/'
  check("\xE0\x80\xAF", fffd);                          // overlong, 3 bytes
  check("\xED\xA0\x80", fffd);                          // a UTF-16 surrogate
  check("\xF4\x90\x80\x80", fffd);                      // above U+10FFFF
  check(s("x\0\xFE", 3), "x" + fffd);                   // both at once
  auto both = s("\0\xFE", 2);
  auto bits = clean_text(both);
  EXPECT_TRUE(has(bits, text_cleaning::nul_removed));
  EXPECT_TRUE(has(bits, text_cleaning::invalid_utf8_replaced));
}

TEST(value_cleaning, texts_longer_than_their_column_are_refused_counting_characters) {
  auto c = varchar_column(5);
  EXPECT_EQ(refusal(c, "12345"), "");
  EXPECT_EQ(refusal(c, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"), "") << "five characters, ten bytes";
  EXPECT_EQ(refusal(c, "12345   "), "") << "PostgreSQL drops excess spaces";
  auto why = refusal(c, "123456");
  EXPECT_NE(why.find("value too long for type character varying(5)"), std::string::npos) << why;
  EXPECT_NE(why.find("6 characters"), std::string::npos) << why;
  pg_column text_col = c;
  text_col.max_length.reset();
  text_col.type = "text";
  EXPECT_EQ(refusal(text_col, std::string(100000, 'x')), "");
}

TEST(value_cleaning, year_zero_dates_are_refused) {
  pg_column d;
  d.kind = pg_value_kind::date;
  EXPECT_NE(refusal(d, "0000-01-01"), "");
  EXPECT_EQ(refusal(d, "0001-01-01"), "");
  pg_column ts;
  ts.kind = pg_value_kind::timestamp;
  EXPECT_NE(refusal(ts, "0000-12-31 23:00:00"), "");
  EXPECT_EQ(refusal(ts, "2024-01-01 00:00:00"), "");
}

TEST(value_cleaning, excerpts_are_short_printable_and_never_secret) {
  EXPECT_EQ(value_excerpt("plain", false), "plain");
  EXPECT_EQ(value_excerpt(s("a\0b\n", 4), false), "a\\x00b\\x0a");
  EXPECT_EQ(value_excerpt("a\xFF", false), "a\\xff");
  EXPECT_EQ(value_excerpt(std::string(61, 'x'), false), std::string(60, 'x') + "...");
  EXPECT_EQ(value_excerpt(std::string(60, 'x'), false), std::string(60, 'x'));
  EXPECT_EQ(value_excerpt("s3cret-value", true), "(hidden: encrypted field)");
}

TEST(value_cleaning, errors_lose_their_values) {
  EXPECT_EQ(error_without_value("invalid input syntax for type double precision: \"abc\""),
            "invalid input syntax for type double precision");
  EXPECT_EQ(error_without_value("not a number: 'abc'"), "not a number");
  EXPECT_EQ(error_without_value("invalid byte sequence for encoding \"UTF8\": 0x00"),
            "invalid byte sequence for encoding \"UTF8\": 0x00");
}

TEST(value_cleaning, the_converter_cleans_texts_and_reports_refused_values_per_record) {
  mapping_config m;
  m.object_name = "Contact";
  m.fields = {"Id", "Name", "Secret__c", "Amount__c", "Birthdate"};
  std::vector<sf_field_info> describe{{"Id", sf_field_type::id, 18},
                                      {"Name", sf_field_type::string, 10},
                                      {"Secret__c", sf_field_type::encryptedstring, 10},
                                      {"Amount__c", sf_field_type::double_, 0},
                                      {"Birthdate", sf_field_type::date, 0}};
  auto spec = make_table_spec("salesforce", m, describe);
  ASSERT_TRUE(spec.ok());
  wire_row_converter conv{*spec.spec};
  conv.bind_csv_header({"Id", "Name", "Secret__c", "Amount__c", "Birthdate"});
  pg_row row;
  record_problem p;

  ASSERT_TRUE(conv.convert_csv({"003000000000001AAA", s("A\0da", 4), "", "1.5", "2000-01-02"}, row, p));
  EXPECT_EQ(row[1], std::string{"Ada"});
  EXPECT_TRUE(has(p.cleaned, text_cleaning::nul_removed));
  EXPECT_FALSE(p.refused());

  // Too long after cleaning: refused, with the field and an excerpt.
  EXPECT_FALSE(conv.convert_csv({"003000000000001AAA", "Ada Lovelace", "", "", ""}, row, p));
  EXPECT_EQ(p.field, "Name");
  EXPECT_NE(p.error.find("character varying(10)"), std::string::npos) << p.error;
  EXPECT_EQ(p.excerpt, "Ada Lovelace");

  // An encrypted field's value never reaches the problem.
  EXPECT_FALSE(conv.convert_csv({"003000000000001AAA", "Ada", "top-secret-1", "", ""}, row, p));
  EXPECT_EQ(p.field, "Secret__c");
  EXPECT_EQ(p.excerpt, "(hidden: encrypted field)");
  EXPECT_EQ(p.error.find("top-secret"), std::string::npos);

  // A number PostgreSQL cannot hold, a date it has no year for, a malformed value.
  EXPECT_FALSE(conv.convert_csv({"003000000000001AAA", "Ada", "", "1e400", ""}, row, p));
  EXPECT_EQ(p.field, "Amount__c");
  EXPECT_NE(p.error.find("out of range"), std::string::npos) << p.error;
  EXPECT_EQ(p.error.find("1e400"), std::string::npos) << "the value is in the excerpt only";
  EXPECT_EQ(p.excerpt, "1e400");
  EXPECT_FALSE(conv.convert_csv({"003000000000001AAA", "Ada", "", "1e-400", ""}, row, p));
  EXPECT_EQ(p.field, "Amount__c");
  EXPECT_FALSE(conv.convert_csv({"003000000000001AAA", "Ada", "", "", "0000-01-01"}, row, p));
  EXPECT_EQ(p.field, "Birthdate");
  EXPECT_FALSE(conv.convert_csv({"003000000000001AAA", "Ada", "", "", "yesterday"}, row, p));
  EXPECT_EQ(p.field, "Birthdate");
  EXPECT_EQ(p.error, "not a date");
  // A denormal is fine (PostgreSQL keeps it).
  EXPECT_TRUE(conv.convert_csv({"003000000000001AAA", "Ada", "", "1e-310", ""}, row, p)) << p.error;
}
